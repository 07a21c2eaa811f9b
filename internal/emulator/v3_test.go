package emulator_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/cdnproxy/cdnproxy/internal/api3"
	"github.com/cdnproxy/cdnproxy/internal/emulator"
	"github.com/cdnproxy/cdnproxy/proxy/signature"
)

// answer3 is an API 3.0 answer, decoded.
type answer3 struct {
	Response map[string]json.RawMessage
}

// code returns Response.Error.Code, "" for a success.
func (a answer3) code() string {
	var e struct{ Code string }
	_ = json.Unmarshal(a.Response["Error"], &e)
	return e.Code
}

// call3 sends a TC3-signed JSON POST of action to the tester's emulator,
// signed over host (the canonical 3.0 host when empty) at the clock's time.
func (c *tester) call3(action, body string, mutate ...func(*http.Request)) answer3 {
	c.t.Helper()
	r := httptest.NewRequest(http.MethodPost, "http://127.0.0.1:8081/", strings.NewReader(body))
	r.Header.Set("Content-Type", "application/json")
	r.Header.Set("X-TC-Action", action)
	r.Header.Set("X-TC-Version", api3.Version)
	ts := c.clock.Now().Unix()
	r.Header.Set("X-TC-Timestamp", strconv.FormatInt(ts, 10))
	tr := signature.TC3Request{Method: r.Method, SignedHeaders: []string{"content-type", "host"},
		Headers: []signature.Header{{Name: "content-type", Value: "application/json"}, {Name: "host", Value: emulator.CanonicalHost3}},
		Payload: []byte(body), Service: api3.Service, Timestamp: ts}
	r.Header.Set("Authorization", signature.TC3Authorization(c.id, c.key, tr))
	for _, m := range mutate {
		m(r)
	}
	return c.do3(r)
}

// call3v1 sends a signature v1 GET of action on API 3.0.
func (c *tester) call3v1(action string, kv ...string) answer3 {
	c.t.Helper()
	c.nonce++
	p := signature.Params{
		{Name: "Action", Value: action}, {Name: "Version", Value: api3.Version},
		{Name: "Nonce", Value: strconv.FormatUint(c.nonce, 10)}, {Name: "SecretId", Value: c.id},
		{Name: "Timestamp", Value: strconv.FormatInt(c.clock.Now().Unix(), 10)},
	}
	for i := 0; i+1 < len(kv); i += 2 {
		p = p.With(kv[i], kv[i+1])
	}
	p = p.With("Signature", signature.NewKey(c.key).Sign(http.MethodGet, "127.0.0.1:8081", "/", p))
	return c.do3(httptest.NewRequest(http.MethodGet, "http://127.0.0.1:8081/?"+p.Encode(), nil))
}

func (c *tester) do3(r *http.Request) answer3 {
	c.t.Helper()
	w := httptest.NewRecorder()
	c.emu.ServeHTTP(w, r)
	var a answer3
	if err := json.Unmarshal(w.Body.Bytes(), &a); err != nil || w.Code != http.StatusOK || a.Response["RequestId"] == nil {
		c.t.Fatalf("status %d, answer %s is not an API 3.0 body (%v)", w.Code, w.Body, err)
	}
	return a
}

// TestV3Signatures checks the 3.0 signature, timestamp, version and action
// checks.
func TestV3Signatures(t *testing.T) {
	tests := []struct {
		name string
		send func(c *tester) answer3
		want string
	}{
		{"TC3 over the canonical host", func(c *tester) answer3 { return c.call3("DescribeDomains", `{}`) }, ""},
		{"v1 over the Host received", func(c *tester) answer3 { return c.call3v1("DescribeDomains", "Limit", "10") }, ""},
		{"wrong key", func(c *tester) answer3 { return c.as(testID, "wrong").call3("DescribeDomains", `{}`) }, "AuthFailure.SignatureFailure"},
		{"unknown SecretId", func(c *tester) answer3 { return c.as("AKIDnobody", testKey).call3("DescribeDomains", `{}`) }, "AuthFailure.SecretIdNotFound"},
		{"body changed after signing", func(c *tester) answer3 {
			return c.call3("DescribeDomains", `{}`, func(r *http.Request) {
				r.Body = io.NopCloser(strings.NewReader(`{ }`))
				r.ContentLength = 3
			})
		}, "AuthFailure.SignatureFailure"},
		{"timestamp 6 minutes old", func(c *tester) answer3 {
			// Checked before the signature, which this breaks.
			return c.call3("DescribeDomains", `{}`, func(r *http.Request) {
				r.Header.Set("X-TC-Timestamp", strconv.FormatInt(c.clock.Now().Add(-6*time.Minute).Unix(), 10))
			})
		}, "AuthFailure.SignatureExpire"},
		{"no version", func(c *tester) answer3 {
			return c.call3("DescribeDomains", `{}`, func(r *http.Request) { r.Header.Del("X-TC-Version") })
		}, "MissingParameter"}, // X-TC-Version is not among the signed headers
		{"action not served", func(c *tester) answer3 { return c.call3("DescribeCertDomains", `{}`) }, "InvalidAction"},
		{"unknown parameter", func(c *tester) answer3 { return c.call3("DescribeDomains", `{"Nope":1}`) }, "UnknownParameter"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := newTester(t, emulator.Config{Domains: []emulator.Domain{{Host: "www.example.com", Status: emulator.StatusOnline}}})
			if got := tc.send(c).code(); got != tc.want {
				t.Errorf("code %q, want %q", got, tc.want)
			}
		})
	}
}

// TestV3SharedState checks that both generations act on one account: a
// domain stopped in 2.0 is offline in 3.0, and purges of both spend one
// daily quota, which starts again at 00:00 Beijing time.
func TestV3SharedState(t *testing.T) {
	c := newTester(t, emulator.Config{
		Domains: []emulator.Domain{{Host: "www.example.com", Status: emulator.StatusOnline}, {Host: "img.example.com", Status: emulator.StatusOnline}},
		Limits:  emulator.Limits{RefreshURLsPerDay: 3},
	})
	if got := c.call("RefreshCdnUrl", urls("urls", "www.example.com", 2)...).outcome(); got != "0" {
		t.Fatalf("2.0 purge: %s", got)
	}
	a := c.call3("PurgeUrlsCache", `{"Urls":["https://www.example.com/x"]}`)
	if a.code() != "" {
		t.Fatalf("3.0 purge: %s", a.code())
	}
	if got := c.call3("PurgeUrlsCache", `{"Urls":["https://www.example.com/y"]}`).code(); got != "LimitExceeded.CdnPurgeUrlExceedDayLimit" {
		t.Errorf("a 3.0 purge over the shared quota: %q", got)
	}
	if got := c.call("RefreshCdnUrl", urls("urls", "www.example.com", 1)...).outcome(); got != "4000/22044" {
		t.Errorf("a 2.0 purge over the shared quota: %s", got)
	}
	// The 2.0 purge shows in 3.0's history.
	tasks := c.call3("DescribePurgeTasks", `{"StartTime":"2024-03-01 00:00:00","EndTime":"2024-03-01 23:59:59"}`)
	if string(tasks.Response["TotalCount"]) != "3" {
		t.Errorf("DescribePurgeTasks TotalCount %s, want 3", tasks.Response["TotalCount"])
	}
	// 2.0 stops a domain; 3.0 sees it offline and cannot stop it again.
	if got := c.call("OfflineHost", "host", "img.example.com").outcome(); got != "0" {
		t.Fatalf("OfflineHost: %s", got)
	}
	if got := c.call3("StopCdnDomain", `{"Domain":"img.example.com"}`).code(); got != "InvalidParameter.CdnHostInvalidStatus" {
		t.Errorf("StopCdnDomain of an offline domain: %q", got)
	}
	if got := c.call3("DeleteCdnDomain", `{"Domain":"www.example.com"}`).code(); got != "ResourceUnavailable.CdnHostIsNotOffline" {
		t.Errorf("DeleteCdnDomain of an online domain: %q", got)
	}
	if got := c.call3("DeleteCdnDomain", `{"Domain":"img.example.com"}`).code(); got != "" {
		t.Errorf("DeleteCdnDomain of an offline domain: %q", got)
	}
	if got := c.call("GetHostInfoByHost", "hosts.0", "img.example.com"); got.raw == "" || strings.Contains(got.raw, `"img.example.com"`) {
		t.Errorf("2.0 still sees the domain 3.0 deleted: %s", got.raw)
	}
	// A new Beijing day (16:00 UTC) brings the quota back.
	c.clock.Add(14 * time.Hour)
	if got := c.call3("PurgeUrlsCache", `{"Urls":["https://www.example.com/z"]}`).code(); got != "" {
		t.Errorf("a purge on the next day: %q", got)
	}
}

// TestV3RateAndFaults checks the 20 calls a second per action and fault
// rules with 3.0 codes, which leave 2.0 calls alone.
func TestV3RateAndFaults(t *testing.T) {
	c := newTester(t, emulator.Config{Domains: []emulator.Domain{{Host: "www.example.com", Status: emulator.StatusOnline}}})
	for i := 0; i < emulator.RatePerSecond; i++ {
		if got := c.call3("DescribeDomains", `{}`).code(); got != "" {
			t.Fatalf("call %d: %q", i+1, got)
		}
	}
	if got := c.call3("DescribeDomains", `{}`).code(); got != "RequestLimitExceeded" {
		t.Errorf("call 21 in one second: %q", got)
	}
	if got := c.call3("DescribePurgeQuota", `{}`).code(); got != "" {
		t.Errorf("another action in the same second: %q", got)
	}
	c.clock.Add(time.Second)
	if got := c.call3("DescribeDomains", `{}`).code(); got != "" {
		t.Errorf("the next second: %q", got)
	}

	rules, err := emulator.ParseFaults("next:1:ResourceInUse.CdnOpInProgress,action:PurgeUrlsCache:InternalError")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.emu.AddFaults(rules...); err != nil {
		t.Fatal(err)
	}
	if got := c.call("DescribeCdnHosts").outcome(); got != "0" {
		t.Errorf("a 2.0 call with only 3.0 rules: %s", got)
	}
	if got := c.call3("DescribeDomains", `{}`).code(); got != "ResourceInUse.CdnOpInProgress" {
		t.Errorf("next rule: %q", got)
	}
	if got := c.call3("PurgeUrlsCache", `{"Urls":["https://www.example.com/a"]}`).code(); got != "InternalError" {
		t.Errorf("action rule: %q", got)
	}
	if got := c.call3("DescribeDomains", `{}`).code(); got != "" {
		t.Errorf("after the next rule ran out: %q", got)
	}
	for _, bad := range []string{"next:1:NoSuch.Code", "action:RefreshCdnUrl:InternalError", "action:PurgeUrlsCache:9112"} {
		if _, err := emulator.ParseFaults(bad); err == nil {
			t.Errorf("ParseFaults(%q) accepted it", bad)
		}
	}
	b, _ := json.Marshal(rules[0])
	var back emulator.Fault
	if err := json.Unmarshal(b, &back); err != nil || back.Code3 != rules[0].Code3 || !strings.Contains(string(b), `"code":"ResourceInUse.CdnOpInProgress"`) {
		t.Errorf("JSON round trip: %s -> %+v (%v)", b, back, err)
	}
}
