package proxy_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/cdnproxy/cdnproxy/internal/fakeapi"
	"github.com/cdnproxy/cdnproxy/proxy"
)

// Regression tests for findings of a review of the request path.

// TestGETWithBodyRefused: a GET's parameters are in its query; a body
// would travel upstream unsigned and unbounded, so it is refused.
func TestGETWithBodyRefused(t *testing.T) {
	r := newRig(t, proxy.Config{})
	req, _ := http.NewRequest(http.MethodGet, r.apiURL("Action="+fakeapi.RefreshCdnUrl), strings.NewReader("x=1"))
	resp, body := do(t, req)
	if resp.StatusCode != http.StatusBadRequest || !strings.Contains(string(body), `"code":4000`) {
		t.Fatalf("status %d body %s, want an API-shaped 400", resp.StatusCode, body)
	}
	if n := r.api.Requests(); n != 0 {
		t.Errorf("the upstream saw %d calls, want none", n)
	}
}

// TestExpectNotForwarded: the body is already read, so "Expect:
// 100-continue" is not passed on (an upstream that never answers 100
// would cost a second per call).
func TestExpectNotForwarded(t *testing.T) {
	r := newRig(t, proxy.Config{})
	req, _ := http.NewRequest(http.MethodPost, r.front.URL+"/v2/index.php", strings.NewReader("Action="+fakeapi.RefreshCdnUrl))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Expect", "100-continue")
	resp, _ := do(t, req)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status %d", resp.StatusCode)
	}
	seen, ok := r.api.Last()
	if !ok {
		t.Fatal("the call did not reach the upstream")
	}
	if got := seen.Header.Get("Expect"); got != "" {
		t.Errorf("upstream saw Expect: %q", got)
	}
}

// TestSemicolonsKept: Go's ReverseProxy drops query parameters holding an
// unescaped ';'; the API reads them (cache rules such as ".php;.jsp"), so
// the query goes on as sent.
func TestSemicolonsKept(t *testing.T) {
	r := newRig(t, proxy.Config{})
	const q = "Action=" + fakeapi.RefreshCdnUrl + "&rule=.php;.jsp"
	resp, _ := r.get(t, q)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status %d", resp.StatusCode)
	}
	if seen, _ := r.api.Last(); seen.RawParams != q {
		t.Errorf("upstream query %q, want %q", seen.RawParams, q)
	}
}

// TestHugeCodeClipped: a hostile upstream code cannot blow up the log
// line or the failures page.
func TestHugeCodeClipped(t *testing.T) {
	huge := strings.Repeat("A", 100<<10)
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		_, _ = io.WriteString(w, `{"Response":{"Error":{"Code":"`+huge+`","Message":"`+huge+`"},"RequestId":"r"}}`)
	}))
	t.Cleanup(up.Close)
	failures := proxy.NewFailures(10, time.Now)
	r := newRig(t, proxy.Config{Upstream: mustURL(t, up.URL), UpstreamV3: mustURL(t, up.URL), MaxBodyBytes: 1 << 20, Failures: failures})
	req, _ := http.NewRequest(http.MethodPost, r.front.URL+"/", strings.NewReader(`{}`))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-TC-Action", "PurgeUrlsCache")
	resp, _ := do(t, req)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status %d", resp.StatusCode)
	}
	for _, line := range strings.Split(strings.TrimSpace(r.logs.String()), "\n") {
		if len(line) > 8<<10 {
			t.Errorf("a log line of %d bytes", len(line))
		}
	}
	rec := httptest.NewRecorder()
	proxy.Admin(proxy.AdminConfig{Failures: failures}).ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/failures.json", nil))
	if rec.Body.Len() > 16<<10 {
		t.Errorf("/failures.json is %d bytes for one failure", rec.Body.Len())
	}
	if !json.Valid(rec.Body.Bytes()) {
		t.Errorf("/failures.json is not JSON")
	}
}

// TestTC3DuplicateSignedHeader: a signed header sent twice is ambiguous
// (which value was signed?) and is refused.
func TestTC3DuplicateSignedHeader(t *testing.T) {
	e := newV3Env(t, proxy.Resign, "")
	req := e.request(t, v3Call{action: "PurgeUrlsCache", body: `{}`})
	req.Header.Add("Content-Type", "text/plain")
	before := e.fake.Requests()
	res := e.do(t, req)
	v3WantRefusal(t, res, "AuthFailure.SignatureFailure")
	if e.fake.Requests() != before {
		t.Errorf("a refused call reached the upstream")
	}
}

// TestRequestIDAfter1xx: an upstream 1xx makes ReverseProxy clear the
// headers set on the writer before it; the final answer still carries the
// proxy's request id, once.
func TestRequestIDAfter1xx(t *testing.T) {
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Link", "</a.css>; rel=preload")
		w.WriteHeader(http.StatusEarlyHints)
		w.Header().Del("Link")
		w.Header().Set("X-Request-Id", "from-upstream")
		_, _ = io.WriteString(w, `{"code":0,"message":"","codeDesc":"Success"}`)
	}))
	t.Cleanup(up.Close)
	r := newRig(t, proxy.Config{Upstream: mustURL(t, up.URL)})
	resp, _ := r.get(t, "Action=DescribeCdnHosts", "X-Request-Id", "mine-1")
	if got := resp.Header.Values("X-Request-Id"); len(got) != 1 || got[0] != "mine-1" {
		t.Errorf("X-Request-Id = %q, want [mine-1]", got)
	}
}
