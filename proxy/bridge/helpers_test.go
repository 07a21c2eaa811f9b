package bridge

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/cdnproxy/cdnproxy/proxy/signature"
)

// exchange is one 3.0 call a test expects and the answer it gets.
type exchange struct {
	action  string
	payload string // exact JSON
	status  int    // 0 means 200
	answer  string
}

// scripted is a fake Doer that expects exactly the exchanges, in order.
type scripted struct {
	t    testing.TB
	want []exchange
	n    int
}

func (s *scripted) do(_ context.Context, action string, payload []byte) (int, []byte, error) {
	s.t.Helper()
	if s.n >= len(s.want) {
		s.t.Fatalf("unexpected 3.0 call %d: %s %s", s.n+1, action, payload)
	}
	w := s.want[s.n]
	s.n++
	if action != w.action || string(payload) != w.payload {
		s.t.Errorf("3.0 call %d = %s %s\nwant %s %s", s.n, action, payload, w.action, w.payload)
	}
	status := w.status
	if status == 0 {
		status = 200
	}
	return status, []byte(w.answer), nil
}

// done fails the test unless every expected exchange happened.
func (s *scripted) done() {
	s.t.Helper()
	if s.n != len(s.want) {
		s.t.Errorf("%d 3.0 calls made, want %d", s.n, len(s.want))
	}
}

// neverCalled is a Doer that fails the test when called.
func neverCalled(t testing.TB) Doer {
	return func(_ context.Context, action string, _ []byte) (int, []byte, error) {
		t.Errorf("Doer called with %s, want no 3.0 call", action)
		return 0, nil, fmt.Errorf("unexpected call")
	}
}

// params parses a 2.0 query string, adding the common parameters a real
// client sends (which the bridge must ignore).
func params(t testing.TB, query string) signature.Params {
	t.Helper()
	p, err := signature.Parse("Nonce=13029&SecretId=AKIDexample&Signature=sig&Timestamp=1463122059&Region=gz&RequestClient=SDK_PYTHON_2.0&" + query)
	if err != nil {
		t.Fatalf("Parse(%q): %v", query, err)
	}
	return p
}

// fixedNow is the clock of the tests: 2016-05-04 12:00:00 Beijing time.
func fixedNow() time.Time { return time.Date(2016, 5, 4, 12, 0, 0, 0, beijing) }

// newTestBridge returns a Bridge on the fixed clock.
func newTestBridge() *Bridge {
	b := New()
	b.now = fixedNow
	return b
}

// checkBody fails unless body is a JSON object with an integer code that
// is 0 exactly when failed is false.
func checkBody(t testing.TB, body []byte, failed bool) {
	t.Helper()
	var m map[string]json.RawMessage
	if err := json.Unmarshal(body, &m); err != nil {
		t.Fatalf("body is not a JSON object: %v\n%s", err, body)
	}
	var code int
	if err := json.Unmarshal(m["code"], &code); err != nil {
		t.Fatalf("body has no integer code: %s", body)
	}
	if (code != 0) != failed {
		t.Fatalf("code %d with Failed=%v: %s", code, failed, body)
	}
}

// domain returns a realistic DescribeDomainsConfig domain object.
func domain(resourceID, name, status string) string {
	return fmt.Sprintf(`{"ResourceId":%q,"AppId":1250000000,"Domain":%q,"Cname":"%s.cdn.dnsv1.com","Status":%q,"ProjectId":0,"ServiceType":"web","CreateTime":"2016-08-25 21:22:40","UpdateTime":"2016-09-02 15:33:37","Origin":{"Origins":["8.8.8.8"],"OriginType":"ip","ServerName":%q,"OriginPullProtocol":"http"},"Cache":{"SimpleCache":{"CacheRules":[{"CacheType":"all","CacheContents":["*"],"CacheTime":2592000},{"CacheType":"file","CacheContents":["php","jsp"],"CacheTime":0}],"FollowOrigin":"off"}},"CacheKey":{"FullUrlCache":"on"},"Referer":{"Switch":"off","RefererRules":[]},"Https":{"Switch":"off"},"Seo":{"Switch":"off"},"Disable":"normal","Area":"mainland","Readonly":"normal"}`,
		resourceID, name, name, status, name)
}
