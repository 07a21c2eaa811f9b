package proxy_test

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/cdnproxy/cdnproxy/internal/fakeapi"
	"github.com/cdnproxy/cdnproxy/internal/loadtest"
	"github.com/cdnproxy/cdnproxy/proxy"
)

// maxHeaderBytes is the API server's MaxHeaderBytes in cmd/cdnproxy's
// serve.go.
const maxHeaderBytes = 1 << 20

// newServedRig is newRig with the proxy behind an http.Server configured
// as cmd/cdnproxy's serve.go configures the API listener, and a logger
// that writes every call's line (debug level) as JSON into r.logs.
func newServedRig(t *testing.T, cfg proxy.Config) *rig {
	t.Helper()
	r := &rig{api: fakeapi.New(t), logs: &logBuffer{}}
	if cfg.Upstream == nil {
		cfg.Upstream = mustURL(t, r.api.URL)
	}
	cfg.Logger = slog.New(slog.NewJSONHandler(r.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	p, err := proxy.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	r.front = httptest.NewUnstartedServer(p)
	r.front.Config.ReadHeaderTimeout = 10 * time.Second
	r.front.Config.ReadTimeout = 60 * time.Second
	r.front.Config.IdleTimeout = 120 * time.Second
	r.front.Config.MaxHeaderBytes = maxHeaderBytes
	r.front.Start()
	t.Cleanup(r.front.Close)
	return r
}

// attacker is a server no call may ever reach: it counts every
// connection made to it, whatever is sent on it.
type attacker struct {
	srv   *httptest.Server
	conns atomic.Int32
}

func newAttacker(t *testing.T) *attacker {
	t.Helper()
	a := &attacker{}
	a.srv = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, `{"code":0,"message":"attacker","codeDesc":"Success"}`)
	}))
	a.srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			a.conns.Add(1)
		}
	}
	a.srv.Start()
	t.Cleanup(a.srv.Close)
	return a
}

func (a *attacker) host() string { return a.srv.Listener.Addr().String() }

// How a bad request must end.
type badEnd int

const (
	refused   badEnd = iota // the proxy's API-shaped refusal; nothing forwarded
	forwarded               // forwarded, once, to the configured upstream
	server                  // refused by net/http before the proxy saw it; nothing forwarded
)

// TestBadRequests sends requests built to confuse, overload or misdirect
// the proxy, raw on the wire, to a proxy served as cmd/cdnproxy serves
// it. Each gets an API-shaped refusal, is refused by net/http itself
// before the proxy sees it, or is forwarded to the configured upstream,
// and only there: the attacker server named in targets and headers is
// never contacted. The log has one valid JSON line per call the proxy
// handled.
func TestBadRequests(t *testing.T) {
	const get = "GET /v2/index.php?Action=RefreshCdnUrl HTTP/1.1\r\nHost: {proxy}\r\n"
	bigHeader := func(n int) string { return "X-Big: " + strings.Repeat("a", n) + "\r\n" }
	manyHeaders := func(n int) string {
		var b strings.Builder
		for i := range n {
			b.WriteString("X-H" + strconv.Itoa(i) + ": v\r\n")
		}
		return b.String()
	}
	query := func(n int) string { return "Action=RefreshCdnUrl&u=" + strings.Repeat("a", n) }
	form := func(body string) string {
		return "POST /v2/index.php HTTP/1.1\r\nHost: {proxy}\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: " +
			strconv.Itoa(len(body)) + "\r\n\r\n" + body
	}
	tests := []struct {
		name    string
		request string // {proxy} and {attacker} are replaced by host:port; Connection: close is added
		resign  bool   // the proxy re-signs calls (else passthrough)
		end     badEnd
		status  int
		raw     string // when forwarded: the parameters the upstream must get, byte for byte ("" skips)
	}{
		// Where the call goes.
		{"absolute-form URI naming another host", "GET http://{attacker}/v2/index.php?Action=RefreshCdnUrl HTTP/1.1\r\nHost: {attacker}\r\n", false, forwarded, 200, "Action=RefreshCdnUrl"},
		{"absolute-form https URI naming another host", "GET https://{attacker}/v2/index.php?Action=RefreshCdnUrl HTTP/1.1\r\nHost: {attacker}\r\n", false, forwarded, 200, "Action=RefreshCdnUrl"},
		{"absolute-form URI, other path", "GET http://{attacker}/admin HTTP/1.1\r\nHost: {attacker}\r\n", false, refused, 404, ""},
		{"Host header naming another host", "GET /v2/index.php?Action=RefreshCdnUrl HTTP/1.1\r\nHost: {attacker}\r\n", false, forwarded, 200, "Action=RefreshCdnUrl"},
		{"X-Forwarded-Host and Forwarded naming another host", get + "X-Forwarded-Host: {attacker}\r\nForwarded: host={attacker};proto=http\r\nX-Forwarded-Proto: https\r\n", false, forwarded, 200, "Action=RefreshCdnUrl"},
		{"Upgrade to another protocol", get + "Connection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n", false, refused, 400, ""},
		{"Upgrade header without Connection: upgrade (not an upgrade; dropped as hop-by-hop)", get + "Upgrade: websocket\r\n", false, forwarded, 200, "Action=RefreshCdnUrl"},
		{"hop-by-hop Connection: X-Forwarded-For, X-Request-Id", get + "Connection: X-Forwarded-For, X-Request-Id\r\nX-Forwarded-For: 6.6.6.6\r\nX-Request-Id: abc-123\r\n", false, forwarded, 200, "Action=RefreshCdnUrl"},
		{"hop-by-hop Connection: Host, Content-Length, Cookie", get + "Connection: Host, Content-Length, Cookie\r\nCookie: s=1\r\n", false, forwarded, 200, "Action=RefreshCdnUrl"},

		// Methods.
		{"CONNECT to another host", "CONNECT {attacker} HTTP/1.1\r\nHost: {attacker}\r\n", false, refused, 404, ""},
		{"CONNECT to the API path", "CONNECT /v2/index.php HTTP/1.1\r\nHost: {proxy}\r\n", false, refused, 405, ""},
		{"OPTIONS *", "OPTIONS * HTTP/1.1\r\nHost: {proxy}\r\n", false, server, 200, ""},
		{"OPTIONS", "OPTIONS /v2/index.php?Action=RefreshCdnUrl HTTP/1.1\r\nHost: {proxy}\r\n", false, refused, 405, ""},
		{"TRACE", "TRACE /v2/index.php?Action=RefreshCdnUrl HTTP/1.1\r\nHost: {proxy}\r\n", false, refused, 405, ""},
		{"PATCH", "PATCH /v2/index.php?Action=RefreshCdnUrl HTTP/1.1\r\nHost: {proxy}\r\nContent-Length: 0\r\n", false, refused, 405, ""},
		{"lower-case get", "get /v2/index.php?Action=RefreshCdnUrl HTTP/1.1\r\nHost: {proxy}\r\n", false, refused, 405, ""},
		{"method with a control byte", "G\x01T /v2/index.php?Action=RefreshCdnUrl HTTP/1.1\r\nHost: {proxy}\r\n", false, server, 400, ""},

		// Paths.
		{"dot-dot after the API path", "GET /v2/index.php/../x?Action=RefreshCdnUrl HTTP/1.1\r\nHost: {proxy}\r\n", false, refused, 404, ""},
		{"dot-dot onto the API path", "GET /v2/x/../index.php?Action=RefreshCdnUrl HTTP/1.1\r\nHost: {proxy}\r\n", false, refused, 404, ""},
		{"double slash", "GET //v2/index.php?Action=RefreshCdnUrl HTTP/1.1\r\nHost: {proxy}\r\n", false, refused, 404, ""},
		{"upper case", "GET /V2/INDEX.PHP?Action=RefreshCdnUrl HTTP/1.1\r\nHost: {proxy}\r\n", false, refused, 404, ""},
		{"NUL after the path", "GET /v2/index.php%00?Action=RefreshCdnUrl HTTP/1.1\r\nHost: {proxy}\r\n", false, refused, 404, ""},
		{"encoded slash after the path", "GET /v2/index.php%2F?Action=RefreshCdnUrl HTTP/1.1\r\nHost: {proxy}\r\n", false, refused, 404, ""},
		{"path parameter", "GET /v2/index.php;x=1?Action=RefreshCdnUrl HTTP/1.1\r\nHost: {proxy}\r\n", false, refused, 404, ""},
		{"bad escape in the path", "GET /v2/index.php%zz?Action=RefreshCdnUrl HTTP/1.1\r\nHost: {proxy}\r\n", false, server, 400, ""},
		// Percent-encoded letters decode to the API path itself: forwarded,
		// still only to the upstream.
		{"percent-encoded letters of the API path", "GET /v2/%69ndex.php?Action=RefreshCdnUrl HTTP/1.1\r\nHost: {proxy}\r\n", false, forwarded, 200, "Action=RefreshCdnUrl"},

		// Parameters, passed through as they came.
		{"invalid percent-encoding", "GET /v2/index.php?Action=RefreshCdnUrl&u=%zz&v=%4&w=%%41 HTTP/1.1\r\nHost: {proxy}\r\n", false, forwarded, 200, "Action=RefreshCdnUrl&u=%zz&v=%4&w=%%41"},
		{"unescaped semicolon in a value", "GET /v2/index.php?Action=RefreshCdnUrl&cache=.php;.jsp HTTP/1.1\r\nHost: {proxy}\r\n", false, forwarded, 200, "Action=RefreshCdnUrl&cache=.php;.jsp"},
		{"invalid percent-encoding, POST", form("Action=RefreshCdnUrl&u=%zz&v=%4"), false, forwarded, 200, "Action=RefreshCdnUrl&u=%zz&v=%4"},
		{"duplicate parameters", "GET /v2/index.php?Action=RefreshCdnUrl&Action=FakeNoSuchHost&u=1&u=2 HTTP/1.1\r\nHost: {proxy}\r\n", false, forwarded, 200, "Action=RefreshCdnUrl&Action=FakeNoSuchHost&u=1&u=2"},
		{"non-UTF-8 value, escaped", "GET /v2/index.php?Action=RefreshCdnUrl&u=%FF%FE%C0%AF HTTP/1.1\r\nHost: {proxy}\r\n", false, forwarded, 200, "Action=RefreshCdnUrl&u=%FF%FE%C0%AF"},
		{"non-UTF-8 value, raw bytes", "GET /v2/index.php?Action=RefreshCdnUrl&u=\xff\xfe\xc0\xaf HTTP/1.1\r\nHost: {proxy}\r\n", false, forwarded, 200, "Action=RefreshCdnUrl&u=\xff\xfe\xc0\xaf"},
		{"non-UTF-8 Action", "GET /v2/index.php?Action=Refresh%FF%FECdnUrl HTTP/1.1\r\nHost: {proxy}\r\n", false, forwarded, 400, "Action=Refresh%FF%FECdnUrl"},
		{"non-UTF-8 Action, POST", form("Action=%C0%AF%FF"), false, forwarded, 400, "Action=%C0%AF%FF"},
		{"invalid percent-encoding, resign", "GET /v2/index.php?Action=RefreshCdnUrl&u=%zz HTTP/1.1\r\nHost: {proxy}\r\n", true, refused, 400, ""},
		{"duplicate parameters, resign", "GET /v2/index.php?Action=RefreshCdnUrl&Action=OfflineHost HTTP/1.1\r\nHost: {proxy}\r\n", true, refused, 400, ""},
		{"non-UTF-8 Action, resign", "GET /v2/index.php?Action=%FF%FE HTTP/1.1\r\nHost: {proxy}\r\n", true, refused, 200, ""},

		// Sizes. net/http allows MaxHeaderBytes plus 4 KiB of slack for
		// the request line and headers together.
		{"header just under MaxHeaderBytes", get + bigHeader(maxHeaderBytes-8<<10), false, forwarded, 200, "Action=RefreshCdnUrl"},
		{"header over MaxHeaderBytes", get + bigHeader(maxHeaderBytes+8<<10), false, server, 431, ""},
		{"10 000 headers", get + manyHeaders(10000), false, forwarded, 200, "Action=RefreshCdnUrl"},
		{"query just over the API's 32 KB", "GET /v2/index.php?" + query(32<<10) + " HTTP/1.1\r\nHost: {proxy}\r\n", false, refused, 414, ""},
		{"query of 900 KB", "GET /v2/index.php?" + query(900<<10) + " HTTP/1.1\r\nHost: {proxy}\r\n", false, refused, 414, ""},
		{"query over MaxHeaderBytes", "GET /v2/index.php?" + query(maxHeaderBytes+8<<10) + " HTTP/1.1\r\nHost: {proxy}\r\n", false, server, 431, ""},
		{"body declared at 10 GB, none sent", "POST /v2/index.php HTTP/1.1\r\nHost: {proxy}\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 10737418240\r\n", false, refused, 413, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			att := newAttacker(t)
			cfg := proxy.Config{}
			if tt.resign {
				cfg.Signing = proxy.Signing{Mode: proxy.Resign, SecretID: "AKIDupstream000000000000000000000000", SecretKey: "upstream-key"}
			}
			r := newServedRig(t, cfg)
			request := strings.NewReplacer("{proxy}", r.front.Listener.Addr().String(), "{attacker}", att.host()).Replace(tt.request)
			head, body, _ := strings.Cut(request, "\r\n\r\n")
			request = head + "\r\nConnection: close\r\n\r\n" + body
			if !strings.Contains(tt.request, "\r\n\r\n") {
				request = head + "Connection: close\r\n\r\n"
			}
			resp, got := rawExchange(t, r.front.Listener.Addr().String(), request)
			if resp.StatusCode != tt.status {
				t.Errorf("status = %d, want %d: %.300q", resp.StatusCode, tt.status, got)
			}
			r.front.Close() // waits for the call, and so its log line
			switch tt.end {
			case refused:
				proxyError(t, resp, got)
				if resp.StatusCode == http.StatusMethodNotAllowed && resp.Header.Get("Allow") != "GET, POST" {
					t.Errorf("Allow = %q, want %q", resp.Header.Get("Allow"), "GET, POST")
				}
				if n := r.api.Requests(); n != 0 {
					t.Errorf("upstream received %d calls, want none", n)
				}
			case server:
				if resp.Header.Get("X-Request-Id") != "" {
					t.Errorf("the proxy answered (X-Request-Id %q), want net/http's own refusal", resp.Header.Get("X-Request-Id"))
				}
				if n := r.api.Requests(); n != 0 {
					t.Errorf("upstream received %d calls, want none", n)
				}
			case forwarded:
				if n := r.api.Requests(); n != 1 {
					t.Fatalf("upstream received %d calls, want 1", n)
				}
				last, _ := r.api.Last()
				if got, want := last.Host, mustURL(t, r.api.URL).Host; got != want {
					t.Errorf("upstream Host = %q, want %q", got, want)
				}
				if got, want := last.Path, fakeapi.Path; got != want {
					t.Errorf("upstream path = %q, want %q", got, want)
				}
				if tt.raw != "" && last.RawParams != tt.raw {
					t.Errorf("upstream parameters = %q, want %q as sent", last.RawParams, tt.raw)
				}
				for _, h := range []string{"X-Forwarded-For", "X-Forwarded-Host", "Forwarded", "Cookie"} {
					if v := last.Header.Values(h); len(v) != 0 {
						t.Errorf("upstream got %s: %q", h, v)
					}
				}
				if got, want := last.Header.Get("X-Request-Id"), resp.Header.Get("X-Request-Id"); got != want || got == "" {
					t.Errorf("upstream X-Request-Id = %q, client's = %q; want them equal and set", got, want)
				}
			}
			if n := att.conns.Load(); n != 0 {
				t.Errorf("the attacker's server received %d connections", n)
			}
			wantLines := 1
			if tt.end == server {
				wantLines = 0
			}
			checkLogLines(t, r.logs, wantLines)
		})
	}
}

// checkLogLines checks that the log holds n lines, each one valid JSON
// object in valid UTF-8.
func checkLogLines(t *testing.T, logs *logBuffer, n int) {
	t.Helper()
	text := logs.String()
	if !utf8.ValidString(text) {
		t.Errorf("log is not valid UTF-8: %q", text)
	}
	if got := strings.Count(text, "\n"); got != n || (n > 0 && !strings.HasSuffix(text, "\n")) {
		t.Fatalf("log has %d lines, want %d:\n%s", got, n, text)
	}
	logs.lines(t) // fails the test on a line that is not JSON
}

// rawExchange writes request to a fresh connection to addr and reads the
// answer, failing the test rather than waiting for ever.
func rawExchange(t *testing.T, addr, request string) (*http.Response, []byte) {
	t.Helper()
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(faultHang))
	// The server may answer (and hang up) before it has read everything.
	go io.WriteString(conn, request)
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("no answer: %v", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("reading the answer: %v", err)
	}
	return resp, body
}

// endless is a request body that never ends.
type endless struct{}

func (endless) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = 'a'
	}
	return len(p), nil
}

// TestEndlessRequestBody sends a POST body that never ends. The proxy
// must refuse it at the API's 1 MB limit with an API-shaped 413, forward
// nothing, and let go of the connection instead of reading for ever.
func TestEndlessRequestBody(t *testing.T) {
	t.Run("raw chunked", func(t *testing.T) {
		r := newServedRig(t, proxy.Config{})
		conn, err := net.Dial("tcp", r.front.Listener.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		conn.SetDeadline(time.Now().Add(faultHang))
		writeErr := make(chan error, 1)
		go func() {
			_, err := io.WriteString(conn, "POST /v2/index.php HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\nTransfer-Encoding: chunked\r\n\r\n")
			chunk := []byte(strconv.FormatInt(32<<10, 16) + "\r\n" + strings.Repeat("a", 32<<10) + "\r\n")
			for err == nil {
				_, err = conn.Write(chunk)
			}
			writeErr <- err
		}()
		resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
		if err != nil {
			t.Fatalf("no answer: %v", err)
		}
		body, _ := io.ReadAll(resp.Body)
		if got, want := resp.StatusCode, http.StatusRequestEntityTooLarge; got != want {
			t.Errorf("status = %d, want %d: %s", got, want, body)
		}
		proxyError(t, resp, body)
		// The server hangs up: the endless writer fails, and not because
		// of the test's own deadline.
		if err := <-writeErr; errors.Is(err, os.ErrDeadlineExceeded) {
			t.Errorf("the proxy kept reading the endless body until the test's deadline")
		}
		if n := r.api.Requests(); n != 0 {
			t.Errorf("upstream received %d calls, want none", n)
		}
	})
	t.Run("http.Client", func(t *testing.T) {
		r := newServedRig(t, proxy.Config{})
		ctx, cancel := context.WithTimeout(context.Background(), faultHang)
		defer cancel()
		req, _ := http.NewRequestWithContext(ctx, http.MethodPost, r.apiURL(""), io.NopCloser(endless{}))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		resp, err := rawClient(t).Do(req)
		if err != nil {
			t.Fatalf("no answer: %v", err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		if got, want := resp.StatusCode, http.StatusRequestEntityTooLarge; got != want {
			t.Errorf("status = %d, want %d: %s", got, want, body)
		}
		proxyError(t, resp, body)
		if n := r.api.Requests(); n != 0 {
			t.Errorf("upstream received %d calls, want none", n)
		}
	})
}

// TestBadUpstreamBodies sends bodies no API should send. What the proxy
// cannot annotate exactly as a client's parser would read it reaches the
// client untouched: same status, same bytes, same Content-Type and
// Content-Encoding.
//
// Decision on duplicate keys: a body with two top-level "code" members
// (however the key is spelt) is passed through unannotated. JSON parsers
// disagree on which one wins, so any annotation could contradict what the
// client reads.
func TestBadUpstreamBodies(t *testing.T) {
	const errBody = `{"code": 4000, "message": "(9110)没有这个域名的信息 cdn no such host", "codeDesc": "9110"}`
	nested := func(depth int) string { return strings.Repeat("[", depth) + strings.Repeat("]", depth) }
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write([]byte(errBody))
	zw.Close()
	tests := []struct {
		name            string
		contentType     string
		contentEncoding string
		body            string
		annotated       bool // else untouched
	}{
		{"invalid JSON", "application/json", "", `{"code": 4000, "message": "x`, false},
		{"JSON, then garbage", "application/json", "", `{"code": 4000, "message": "x"} trailing`, false},
		{"two objects", "application/json", "", `{"code": 4000}{"code": 4000}`, false},
		{"bad token after the code", "application/json", "", `{"code": 4000, "message": nope}`, false},
		{"duplicate code, error first", "application/json", "", `{"code": 4000, "message": "x", "code": 0}`, false},
		{"duplicate code, success first", "application/json", "", `{"code": 0, "message": "x", "code": 4000}`, false},
		{"duplicate code, escaped key", "application/json", "", `{"code": 4000, "message": "x", "\u0063ode": 0}`, false},
		{"duplicate message", "application/json", "", `{"code": 4000, "message": "(9110)a", "message": "(9175)b"}`, false},
		{"nested 100 000 deep after the code", "application/json", "", `{"code": 4000, "message": "x", "data": ` + nested(100000) + `}`, false},
		{"nested 100 000 deep before the code", "application/json", "", `{"data": ` + nested(100000) + `, "code": 4000, "message": "x"}`, false},
		{"nested 100 deep, annotated", "application/json", "", `{"code": 4000, "message": "x", "data": ` + nested(100) + `}`, true},
		{"image/png", "image/png", "", errBody, false},
		{"application/octet-stream", "application/octet-stream", "", errBody, false},
		{"unparsable Content-Type", "application/json;;=;", "", errBody, false},
		{"br, not br", "application/json", "br", errBody, false},
		{"deflate, not deflate", "application/json", "deflate", errBody, false},
		{"gzip, not gzip", "application/json", "gzip", errBody, false},
		{"gzip, gzip stacked", "application/json", "gzip, gzip", gz.String(), false},
		{"unknown encoding", "application/json", "x-custom", errBody, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			upstream := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header()["Content-Type"] = []string{tt.contentType}
				if tt.contentEncoding != "" {
					w.Header().Set("Content-Encoding", tt.contentEncoding)
				}
				w.Header().Set("Content-Length", strconv.Itoa(len(tt.body)))
				io.WriteString(w, tt.body)
			}))
			t.Cleanup(upstream.Close)
			r := newRig(t, proxy.Config{Upstream: mustURL(t, upstream.URL)})
			// The client accepts every encoding, so that the proxy's
			// transport asks for none of its own and decodes nothing.
			resp, body := r.get(t, "Action=RefreshCdnUrl", "Accept-Encoding", "gzip, deflate, br")
			if got, want := resp.StatusCode, 200; got != want {
				t.Errorf("status = %d, want %d", got, want)
			}
			if tt.annotated {
				addedMembers(t, body, []byte(tt.body))
				return
			}
			if string(body) != tt.body {
				t.Errorf("body changed:\n got %.200q\nwant %.200q", body, tt.body)
			}
			if got, want := resp.Header.Get("Content-Type"), tt.contentType; got != want {
				t.Errorf("Content-Type = %q, want %q", got, want)
			}
			if got, want := resp.Header.Get("Content-Encoding"), tt.contentEncoding; got != want {
				t.Errorf("Content-Encoding = %q, want %q", got, want)
			}
		})
	}
}

// hugeBody is a body of size bytes made of prefix, filler and suffix,
// generated as it is read (a 32 KiB block written again and again), never
// held whole.
func hugeBody(prefix, suffix string, size int64) io.Reader {
	block := bytes.Repeat([]byte("0123456789abcdefghijklmnopqrstuv"), 1<<10)
	fill := size - int64(len(prefix)+len(suffix))
	blocks := make([]io.Reader, 0, fill/int64(len(block))+1)
	for left := fill; left > 0; left -= int64(len(block)) {
		blocks = append(blocks, bytes.NewReader(block[:min(left, int64(len(block)))]))
	}
	return io.MultiReader(strings.NewReader(prefix), io.MultiReader(blocks...), strings.NewReader(suffix))
}

// TestHugeBodyMemory streams 100 MB upstream bodies, a success and an
// error (too large to annotate), through the proxy: the client gets
// exactly the upstream's bytes, and the heap of this process (proxy,
// upstream and client together) grows by a few MiB at most, not with the
// body.
func TestHugeBodyMemory(t *testing.T) {
	const (
		size      = 100 << 20
		maxGrowth = 32 << 20
	)
	tests := []struct{ name, prefix, suffix string }{
		{"success", `{"code": 0, "message": "", "codeDesc": "Success", "data": {"blob": "`, `"}}`},
		{"error", `{"code": 4000, "message": "(9110)没有这个域名的信息 cdn no such host", "codeDesc": "9110", "data": "`, `"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			upstream := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "application/json")
				w.Header().Set("Content-Length", strconv.Itoa(size))
				io.Copy(w, hugeBody(tt.prefix, tt.suffix, size))
			}))
			t.Cleanup(upstream.Close)
			r := newRig(t, proxy.Config{Upstream: mustURL(t, upstream.URL)})
			runtime.GC()
			var ms runtime.MemStats
			runtime.ReadMemStats(&ms)
			base := ms.HeapInuse
			var peak atomic.Uint64
			stop := make(chan struct{})
			var wg sync.WaitGroup
			wg.Add(1)
			go func() {
				defer wg.Done()
				var ms runtime.MemStats
				tick := time.NewTicker(5 * time.Millisecond)
				defer tick.Stop()
				for {
					runtime.ReadMemStats(&ms)
					if ms.HeapInuse > peak.Load() {
						peak.Store(ms.HeapInuse)
					}
					select {
					case <-stop:
						return
					case <-tick.C:
					}
				}
			}()

			resp, err := rawClient(t).Get(r.apiURL("Action=" + fakeapi.RefreshCdnUrl))
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			n, same, err := loadtest.SameStream(resp.Body, hugeBody(tt.prefix, tt.suffix, size))
			close(stop)
			wg.Wait()
			if got, want := resp.StatusCode, 200; got != want {
				t.Errorf("status = %d, want %d", got, want)
			}
			if err != nil || !same || n != size {
				t.Errorf("client got %d bytes (%v), the same as the upstream's: %v; want all %d", n, err, same, size)
			}
			growth := int64(peak.Load()) - int64(base)
			t.Logf("heap in use: %.1f MiB before, peak %.1f MiB (growth %.1f MiB) for a %d MiB body",
				float64(base)/(1<<20), float64(peak.Load())/(1<<20), float64(growth)/(1<<20), size>>20)
			if growth > maxGrowth {
				t.Errorf("heap grew by %d MiB while streaming %d MiB, want under %d MiB", growth>>20, size>>20, maxGrowth>>20)
			}
		})
	}
}
