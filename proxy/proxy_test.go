package proxy_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/cdnproxy/cdnproxy/internal/fakeapi"
	"github.com/cdnproxy/cdnproxy/internal/logbuf"
	"github.com/cdnproxy/cdnproxy/proxy"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/golden")

// rig is a proxy in front of a fake API, both real servers.
type rig struct {
	api   *fakeapi.Server
	front *httptest.Server
	logs  *logBuffer
}

// newRig starts a fake API and a proxy in front of it. A cfg without
// Upstream gets the fake's URL; one without Logger logs JSON into r.logs.
func newRig(tb testing.TB, cfg proxy.Config) *rig {
	tb.Helper()
	r := &rig{api: fakeapi.New(tb), logs: &logBuffer{}}
	if cfg.Upstream == nil {
		cfg.Upstream = mustURL(tb, r.api.URL)
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.NewJSONHandler(r.logs, nil))
	}
	p, err := proxy.New(cfg)
	if err != nil {
		tb.Fatal(err)
	}
	r.front = httptest.NewServer(p)
	tb.Cleanup(r.front.Close)
	return r
}

// apiURL is the proxy's API endpoint with query q.
func (r *rig) apiURL(q string) string { return r.front.URL + "/v2/index.php?" + q }

// get sends GET /v2/index.php?q with the header pairs kv, through a client
// that neither asks for nor decodes compression, and returns the response
// and its body.
func (r *rig) get(t *testing.T, q string, kv ...string) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, r.apiURL(q), nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(kv); i += 2 {
		req.Header.Set(kv[i], kv[i+1])
	}
	return do(t, req)
}

// do sends req through a fresh raw client and reads the whole body.
func do(t *testing.T, req *http.Request) (*http.Response, []byte) {
	t.Helper()
	resp, err := rawClient(t).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("reading the body: %v", err)
	}
	return resp, body
}

// rawClient is a client that shows the bytes as sent: it adds no
// Accept-Encoding and decodes nothing.
func rawClient(tb testing.TB) *http.Client {
	tr := &http.Transport{DisableCompression: true}
	tb.Cleanup(tr.CloseIdleConnections)
	return &http.Client{Transport: tr}
}

func mustURL(tb testing.TB, s string) *url.URL {
	tb.Helper()
	u, err := url.Parse(s)
	if err != nil {
		tb.Fatal(err)
	}
	return u
}

// logBuffer collects the proxy's log (see logbuf).
type logBuffer struct{ logbuf.Buffer }

// lines decodes the log's JSON lines, failing the test on one that is not
// JSON.
func (l *logBuffer) lines(t *testing.T) []map[string]any {
	t.Helper()
	lines, err := l.Lines()
	if err != nil {
		t.Fatal(err)
	}
	return lines
}

// errorBody is the shape of the proxy's own answers.
type errorBody struct {
	Code        int    `json:"code"`
	Message     string `json:"message"`
	CodeDesc    string `json:"codeDesc"`
	Category    string `json:"category"`
	Retryable   bool   `json:"retryable"`
	Description string `json:"description"`
}

// proxyError decodes one of the proxy's own answers, strictly.
func proxyError(t *testing.T, resp *http.Response, body []byte) errorBody {
	t.Helper()
	if got, want := resp.Header.Get("Content-Type"), "application/json; charset=utf-8"; got != want {
		t.Errorf("Content-Type = %q, want %q", got, want)
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	var e errorBody
	if err := dec.Decode(&e); err != nil {
		t.Fatalf("body is not the API's error shape: %v: %s", err, body)
	}
	if e.Code == 0 || e.CodeDesc == "" || e.Category == "" || e.Description == "" || !strings.HasPrefix(e.Message, "cdnproxy: ") {
		t.Errorf("incomplete error body: %s", body)
	}
	return e
}

// closedURL returns the URL of a port nothing listens on.
func closedURL(t *testing.T) *url.URL {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	u := &url.URL{Scheme: "http", Host: l.Addr().String()}
	l.Close()
	return u
}

func TestUpstreamFailure(t *testing.T) {
	tests := []struct {
		name       string
		down       bool // upstream port closed; else slower than the timeout
		always200  bool
		wantStatus int
	}{
		{"down", true, false, http.StatusBadGateway},
		{"down/Always200", true, true, http.StatusOK},
		{"slow", false, false, http.StatusGatewayTimeout},
		{"slow/Always200", false, true, http.StatusOK},
	}
	bodies := map[bool][]string{} // by down: the body with and without Always200
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := proxy.Config{Always200: tt.always200, Timeout: 200 * time.Millisecond}
			var upstream *url.URL
			if tt.down {
				upstream = closedURL(t)
				cfg.Upstream = upstream
			}
			r := newRig(t, cfg)
			if upstream == nil {
				upstream = mustURL(t, r.api.URL)
			}
			resp, body := r.get(t, "Action="+fakeapi.RefreshCdnUrl+"&delay=1m&Signature=c2lnbmF0dXJl")
			if got, want := resp.StatusCode, tt.wantStatus; got != want {
				t.Errorf("status = %d, want %d", got, want)
			}
			e := proxyError(t, resp, body)
			if got, want := e.Category, "upstream_unreachable"; got != want {
				t.Errorf("category = %q, want %q", got, want)
			}
			if !e.Retryable {
				t.Errorf("retryable = false, want true")
			}
			for _, leak := range []string{"dial", "refused", "connect:", "context", "canceled", upstream.Host, upstream.Port(), "Signature", "c2lnbmF0dXJl"} {
				if bytes.Contains(body, []byte(leak)) {
					t.Errorf("body contains %q: %s", leak, body)
				}
			}
			bodies[tt.down] = append(bodies[tt.down], string(body))
			if !tt.down {
				r.front.Close() // waits for the call to end
				r.api.Close()
				if got, want := r.api.Canceled(), 1; got != want {
					t.Errorf("upstream calls canceled = %d, want %d", got, want)
				}
			}
		})
	}
	for down, b := range bodies {
		if len(b) == 2 && b[0] != b[1] {
			t.Errorf("down=%v: Always200 changed the body:\n%s\n%s", down, b[0], b[1])
		}
	}
}

func TestRefusals(t *testing.T) {
	long := "Action=" + fakeapi.RefreshCdnUrl + "&urls.0=" + strings.Repeat("a", 32<<10)
	tests := []struct {
		name       string
		method     string
		target     string // path and query
		body       string
		wantStatus int
	}{
		{"other path", "GET", "/v2/other.php?Action=" + fakeapi.RefreshCdnUrl, "", http.StatusNotFound},
		{"root", "GET", "/", "", http.StatusNotFound},
		{"path prefix", "GET", "/v2/index.php/x?Action=" + fakeapi.RefreshCdnUrl, "", http.StatusNotFound},
		{"PUT", "PUT", "/v2/index.php?Action=" + fakeapi.RefreshCdnUrl, "", http.StatusMethodNotAllowed},
		{"DELETE", "DELETE", "/v2/index.php?Action=" + fakeapi.RefreshCdnUrl, "", http.StatusMethodNotAllowed},
		{"query over 32 KB", "GET", "/v2/index.php?" + long, "", http.StatusRequestURITooLong},
		{"body over 1 MB", "POST", "/v2/index.php", "Action=" + fakeapi.RefreshCdnUrl + "&x=" + strings.Repeat("a", 1<<20), http.StatusRequestEntityTooLarge},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newRig(t, proxy.Config{})
			req, err := http.NewRequest(tt.method, r.front.URL+tt.target, strings.NewReader(tt.body))
			if err != nil {
				t.Fatal(err)
			}
			if tt.body != "" {
				req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			}
			resp, body := do(t, req)
			if got, want := resp.StatusCode, tt.wantStatus; got != want {
				t.Errorf("status = %d, want %d", got, want)
			}
			proxyError(t, resp, body)
			wantAllow := "" // RFC 9110: a 405 says what is allowed
			if tt.wantStatus == http.StatusMethodNotAllowed {
				wantAllow = "GET, POST"
			}
			if got, want := resp.Header.Get("Allow"), wantAllow; got != want {
				t.Errorf("Allow = %q, want %q", got, want)
			}
			if resp.Header.Get("X-Request-Id") == "" {
				t.Errorf("no X-Request-Id")
			}
			if got, want := r.api.Requests(), 0; got != want {
				t.Errorf("upstream received %d calls, want %d", got, want)
			}
		})
	}
	t.Run("within limits", func(t *testing.T) {
		r := newRig(t, proxy.Config{})
		q := "Action=" + fakeapi.RefreshCdnUrl + "&u=" + strings.Repeat("a", 32<<10-len("Action="+fakeapi.RefreshCdnUrl+"&u="))
		resp, _ := r.get(t, q)
		if got, want := resp.StatusCode, 200; got != want {
			t.Errorf("status for a 32 KB query = %d, want %d", got, want)
		}
		form := "Action=" + fakeapi.RefreshCdnUrl + "&x="
		form += strings.Repeat("a", 1<<20-len(form))
		req, _ := http.NewRequest("POST", r.apiURL(""), strings.NewReader(form))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		resp, _ = do(t, req)
		if got, want := resp.StatusCode, 200; got != want {
			t.Errorf("status for a 1 MB body = %d, want %d", got, want)
		}
		last, _ := r.api.Last()
		if got, want := last.RawParams, form; got != want {
			t.Errorf("upstream got a body of %d bytes, want the %d sent", len(got), len(want))
		}
	})
}

// rawCall writes request to a fresh connection to the proxy and reads the
// answer.
func rawCall(t *testing.T, r *rig, request string) (*http.Response, []byte) {
	t.Helper()
	conn, err := net.Dial("tcp", r.front.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := io.WriteString(conn, request); err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, body
}

// TestTarget checks that whatever host a call names, it goes to the
// configured upstream, and that headers meant to confuse a proxy do not.
func TestTarget(t *testing.T) {
	want, _ := fakeapi.Lookup(fakeapi.RefreshCdnUrl)
	tests := []struct {
		name    string
		request string // %s is the proxy's host:port
		wantID  string // the request id both sides should see; "" for any
	}{
		{"absolute-form URI", "GET http://evil.example/v2/index.php?Action=RefreshCdnUrl HTTP/1.1\r\nHost: evil.example\r\nConnection: close\r\n\r\n", ""},
		{"absolute-form URI, own Host", "GET http://evil.example:8080/v2/index.php?Action=RefreshCdnUrl HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n\r\n", ""},
		{"other Host header", "GET /v2/index.php?Action=RefreshCdnUrl HTTP/1.1\r\nHost: evil.example\r\nConnection: close\r\n\r\n", ""},
		{"Connection names X-Request-Id", "GET /v2/index.php?Action=RefreshCdnUrl HTTP/1.1\r\nHost: %s\r\nConnection: X-Request-Id\r\nX-Request-Id: abc-123\r\n\r\n", "abc-123"},
		{"Connection names Host and Content-Length", "GET /v2/index.php?Action=RefreshCdnUrl HTTP/1.1\r\nHost: evil.example\r\nConnection: Host, Content-Length, X-Request-Id, close\r\n\r\n", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newRig(t, proxy.Config{})
			request := strings.ReplaceAll(tt.request, "%s", r.front.Listener.Addr().String())
			resp, body := rawCall(t, r, request)
			if got, want := resp.StatusCode, 200; got != want {
				t.Fatalf("status = %d, want %d: %s", got, want, body)
			}
			if got, want := string(body), string(want.Body); got != want {
				t.Errorf("body = %s, want %s", got, want)
			}
			if got, want := r.api.Requests(), 1; got != want {
				t.Fatalf("upstream received %d calls, want %d", got, want)
			}
			last, _ := r.api.Last()
			if got, want := last.Host, mustURL(t, r.api.URL).Host; got != want {
				t.Errorf("upstream Host = %q, want %q", got, want)
			}
			if got, want := last.Params.Get("Action"), fakeapi.RefreshCdnUrl; got != want {
				t.Errorf("upstream Action = %q, want %q", got, want)
			}
			id := resp.Header.Get("X-Request-Id")
			if got, want := last.Header.Get("X-Request-Id"), id; got != want || id == "" {
				t.Errorf("upstream X-Request-Id = %q, client's = %q; want them equal and set", got, want)
			}
			if tt.wantID != "" && id != tt.wantID {
				t.Errorf("X-Request-Id = %q, want %q", id, tt.wantID)
			}
		})
	}
}

func TestRequestID(t *testing.T) {
	tests := []struct {
		name, sent string
		kept       bool
	}{
		{"none", "", false},
		{"sane", "req-1.2_3:abc", true},
		{"longest sane", strings.Repeat("a", 128), true},
		{"too long", strings.Repeat("a", 129), false},
		{"space", "a b", false},
		{"quote", `a"b`, false},
		{"slash", "a/b", false},
		{"non-ASCII", "é", false},
	}
	r := newRig(t, proxy.Config{})
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, action := range []string{fakeapi.RefreshCdnUrl, fakeapi.NoSuchHost} {
				resp, _ := r.get(t, "Action="+action, "X-Request-Id", tt.sent)
				ids := resp.Header.Values("X-Request-Id")
				if len(ids) != 1 {
					t.Fatalf("%s: X-Request-Id = %q, want one value", action, ids)
				}
				last, _ := r.api.Last()
				if got, want := last.Header.Values("X-Request-Id"), ids; len(got) != 1 || got[0] != want[0] {
					t.Errorf("%s: upstream X-Request-Id = %q, want %q", action, got, want)
				}
				switch {
				case tt.kept && ids[0] != tt.sent:
					t.Errorf("%s: X-Request-Id = %q, want %q kept", action, ids[0], tt.sent)
				case !tt.kept && !isHex32(ids[0]):
					t.Errorf("%s: X-Request-Id = %q, want a fresh 32-digit hex id", action, ids[0])
				}
			}
		})
	}
}

func isHex32(s string) bool {
	if len(s) != 32 {
		return false
	}
	return strings.Trim(s, "0123456789abcdef") == ""
}

// TestClientGone hangs up while the upstream is still working on the call.
func TestClientGone(t *testing.T) {
	r := newRig(t, proxy.Config{})
	ctx, cancel := context.WithCancel(context.Background())
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, r.apiURL("Action="+fakeapi.RefreshCdnUrl+"&delay=1m"), nil)
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() {
		resp, err := rawClient(t).Do(req)
		if err == nil {
			resp.Body.Close()
		}
		done <- err
	}()
	<-r.api.Arrived()
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("client error = %v, want context.Canceled", err)
	}
	r.front.Close() // waits for the proxy's handler, and so its log line
	r.api.Close()   // waits for the fake's handler
	if got, want := r.api.Canceled(), 1; got != want {
		t.Errorf("upstream calls canceled = %d, want %d", got, want)
	}
	lines := r.logs.lines(t)
	if len(lines) != 1 {
		t.Fatalf("got %d log lines, want 1:\n%s", len(lines), r.logs)
	}
	if got, want := lines[0]["outcome"], "client_gone"; got != want {
		t.Errorf("outcome = %v, want %q", got, want)
	}
}

// TestDropped checks that a body the upstream breaks off never reaches the
// client as a clean, shorter answer.
func TestDropped(t *testing.T) {
	tests := []struct{ name, query string }{
		{"drop success", "Action=" + fakeapi.Drop + "&of=" + fakeapi.DescribeCdnHosts},
		{"drop error", "Action=" + fakeapi.Drop + "&of=" + fakeapi.NoSuchHost},
		{"drop HTML", "Action=" + fakeapi.Drop + "&of=" + fakeapi.BadGateway},
		{"short success", "Action=" + fakeapi.ShortBody + "&of=" + fakeapi.DescribeCdnHosts},
		{"short error", "Action=" + fakeapi.ShortBody + "&of=" + fakeapi.NoSuchHost},
	}
	r := newRig(t, proxy.Config{})
	for _, tt := range tests {
		for _, gz := range []bool{false, true} {
			name := tt.name
			if gz {
				name += "/gzip"
			}
			t.Run(name, func(t *testing.T) {
				req, _ := http.NewRequest(http.MethodGet, r.apiURL(tt.query), nil)
				if gz {
					req.Header.Set("Accept-Encoding", "gzip")
				}
				resp, err := rawClient(t).Do(req)
				if err != nil {
					return // broken before the headers reached the client: it knows
				}
				defer resp.Body.Close()
				body, err := io.ReadAll(resp.Body)
				switch {
				case err != nil:
					// A broken read: the client knows.
				case resp.StatusCode == http.StatusBadGateway && resp.Header.Get("X-Request-Id") != "" && json.Valid(body):
					proxyError(t, resp, body)
				default:
					t.Errorf("status %d and a clean body of %d bytes: %q", resp.StatusCode, len(body), body)
				}
			})
		}
	}
}

// TestLogLine checks the one line a failed call leaves.
func TestLogLine(t *testing.T) {
	const (
		secretID  = "AKIDT8G5AsY1D3MChWooNq1rFSw1fyBVCX9D"
		masked    = "AKID****CX9D"
		signature = "bWMMAR1eFGjZ5KWbfxTlBiLiNLc="
	)
	params := url.Values{"Action": {fakeapi.NoSuchHost}, "SecretId": {secretID}, "Signature": {signature}, "Nonce": {"13029"}, "Timestamp": {"1463122059"}}
	tests := []struct {
		name        string
		down        bool
		post        bool
		want        map[string]any
		wantMissing []string
	}{
		{"api error", false, false, map[string]any{
			"outcome": "api_error", "action": fakeapi.NoSuchHost, "code": "4000", "moduleCode": 9110.0, "codeDesc": "9110",
			"category": "not_found", "retryable": false, "message": "(9110)没有这个域名的信息 cdn no such host", "status": 200.0, "secretId": masked,
		}, nil},
		{"api error by POST", false, true, map[string]any{
			"outcome": "api_error", "action": fakeapi.NoSuchHost, "code": "4000", "moduleCode": 9110.0, "category": "not_found", "secretId": masked,
		}, nil},
		{"upstream down", true, false, map[string]any{
			"outcome": "upstream_error", "action": fakeapi.NoSuchHost, "code": "6200", "codeDesc": "ServiceUnavailable",
			"category": "upstream_unreachable", "retryable": true, "status": 502.0, "secretId": masked,
		}, []string{"moduleCode"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := proxy.Config{}
			if tt.down {
				cfg.Upstream = closedURL(t)
			}
			r := newRig(t, cfg)
			var req *http.Request
			if tt.post {
				req, _ = http.NewRequest(http.MethodPost, r.apiURL(""), strings.NewReader(params.Encode()))
				req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			} else {
				req, _ = http.NewRequest(http.MethodGet, r.apiURL(params.Encode()), nil)
			}
			resp, body := do(t, req)
			r.front.Close()
			lines := r.logs.lines(t)
			if len(lines) != 1 {
				t.Fatalf("got %d log lines, want 1:\n%s", len(lines), r.logs)
			}
			line := lines[0]
			for _, k := range []string{"requestId", "outcome", "action", "code", "codeDesc", "category", "retryable",
				"description", "message", "status", "upstreamMs", "totalMs", "bytes", "secretId"} {
				if _, ok := line[k]; !ok {
					t.Errorf("log line has no %q", k)
				}
			}
			for k, want := range tt.want {
				if got := line[k]; got != want {
					t.Errorf("%s = %#v, want %#v", k, got, want)
				}
			}
			for _, k := range tt.wantMissing {
				if v, ok := line[k]; ok {
					t.Errorf("%s = %#v, want no such field", k, v)
				}
			}
			if got, want := line["requestId"], resp.Header.Get("X-Request-Id"); got != want {
				t.Errorf("requestId = %v, want %q", got, want)
			}
			if got, want := line["bytes"], float64(len(body)); got != want {
				t.Errorf("bytes = %v, want %v", got, want)
			}
			text := r.logs.String()
			for _, secret := range []string{secretID, signature, url.QueryEscape(signature), "bWMMAR1eFGjZ5KWbfxTlBiLiNLc"} {
				if strings.Contains(text, secret) {
					t.Errorf("log contains %q:\n%s", secret, text)
				}
			}
		})
	}
	t.Run("success is not logged at info", func(t *testing.T) {
		r := newRig(t, proxy.Config{})
		r.get(t, "Action="+fakeapi.RefreshCdnUrl)
		r.front.Close()
		if got := r.logs.String(); got != "" {
			t.Errorf("log = %s, want nothing", got)
		}
	})
}
