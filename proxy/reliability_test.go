package proxy_test

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"runtime"
	"runtime/pprof"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cdnproxy/cdnproxy/internal/fakeapi"
	"github.com/cdnproxy/cdnproxy/proxy"
)

// Bounds on waiting in the fault tests. They bound how long a test waits
// for something to happen; no test asserts how long anything took.
const (
	faultPolls = 500
	faultPause = 10 * time.Millisecond
	// faultHang is how long a test waits for an answer before it calls
	// the wait a hang: far beyond any Config.Timeout used here.
	faultHang = 15 * time.Second
)

// scriptedUpstream is a TCP server that is not an HTTP server: it reads
// each request's head, writes script (which may be empty, or not HTTP at
// all), then either hangs up or holds the connection open, reading and
// discarding, until the test ends.
type scriptedUpstream struct {
	ln       net.Listener
	accepted atomic.Int32
	mu       sync.Mutex
	conns    []net.Conn
	wg       sync.WaitGroup
}

func newScriptedUpstream(t *testing.T, script string, hangUp bool) *scriptedUpstream {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	u := &scriptedUpstream{ln: ln}
	u.wg.Add(1)
	go func() {
		defer u.wg.Done()
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			u.accepted.Add(1)
			u.mu.Lock()
			u.conns = append(u.conns, conn)
			u.mu.Unlock()
			u.wg.Add(1)
			go func() {
				defer u.wg.Done()
				br := bufio.NewReader(conn)
				for { // the request head, up to the empty line
					line, err := br.ReadString('\n')
					if err != nil || line == "\r\n" {
						break
					}
				}
				_, _ = io.WriteString(conn, script)
				if hangUp {
					conn.Close()
					return
				}
				_, _ = io.Copy(io.Discard, br) // hold it until the test ends
			}()
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		u.mu.Lock()
		for _, c := range u.conns {
			c.Close()
		}
		u.mu.Unlock()
		u.wg.Wait()
	})
	return u
}

func (u *scriptedUpstream) url() *url.URL {
	return &url.URL{Scheme: "http", Host: u.ln.Addr().String()}
}

// TestFaultUpstreamMisbehaves covers upstreams that accept the connection
// and then fail in ways a real HTTP server does not: silence, a broken or
// unkept promise, garbage. Every one ends in the proxy's own API-shaped
// answer: 504 when the upstream went quiet before the proxy could decide
// about the body (Config.Timeout, here 300ms), 502 when it broke off.
// Refused connections, dropped bodies and byte-by-byte bodies are in
// TestUpstreamFailure, TestDropped and TestSlowBody.
func TestFaultUpstreamMisbehaves(t *testing.T) {
	const errBody = `{"code": 4000, "message": "(9110)没有这个域名的信息 cdn no such host", "codeDesc": "9110"}`
	head := func(n int) string {
		return "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: " + strconv.Itoa(n) + "\r\n\r\n"
	}
	tests := []struct {
		name       string
		script     string
		hangUp     bool
		wantStatus int
		wantDesc   string
	}{
		{"accepts, never answers", "", false, http.StatusGatewayTimeout, "did not answer in time"},
		{"status line, then silence", "HTTP/1.1 200 OK\r\n", false, http.StatusGatewayTimeout, "did not answer in time"},
		{"headers, then silence", head(len(errBody)), false, http.StatusGatewayTimeout, "did not answer in time"},
		{"half an error body, then silence", head(len(errBody)) + errBody[:20], false, http.StatusGatewayTimeout, "did not answer in time"},
		{"Content-Length not honoured, connection held", head(len(errBody)+100) + errBody, false, http.StatusGatewayTimeout, "did not answer in time"},
		{"hangs up at once", "", true, http.StatusBadGateway, "could not be reached"},
		{"status line, then hangs up", "HTTP/1.1 200 OK\r\n", true, http.StatusBadGateway, "could not be reached"},
		{"answers garbage", "SSH-2.0-OpenSSH_9.6\r\n", true, http.StatusBadGateway, "could not be reached"},
		{"Content-Length not honoured, then hangs up", head(len(errBody)+100) + errBody, true, http.StatusBadGateway, "could not be reached"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			up := newScriptedUpstream(t, tt.script, tt.hangUp)
			r := newRig(t, proxy.Config{Upstream: up.url(), Timeout: 300 * time.Millisecond})
			resp, body := getBounded(t, r.apiURL("Action="+fakeapi.NoSuchHost))
			if got, want := resp.StatusCode, tt.wantStatus; got != want {
				t.Fatalf("status = %d, want %d: %s", got, want, body)
			}
			e := proxyError(t, resp, body)
			if e.CodeDesc != "ServiceUnavailable" || !strings.Contains(e.Message, tt.wantDesc) {
				t.Errorf("codeDesc = %q, message = %q; want ServiceUnavailable and a message that says it %s", e.CodeDesc, e.Message, tt.wantDesc)
			}
			if got, want := e.Category, "upstream_unreachable"; got != want || !e.Retryable {
				t.Errorf("category = %q, retryable = %v; want %q, true", got, e.Retryable, want)
			}
			if up.accepted.Load() == 0 {
				t.Errorf("the call never reached the scripted upstream")
			}
		})
	}
}

// getBounded GETs u through a raw client and reads the whole answer,
// failing the test (instead of hanging it) if that takes longer than
// faultHang.
func getBounded(t *testing.T, u string) (*http.Response, []byte) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), faultHang)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := rawClient(t).Do(req)
	if err != nil {
		t.Fatalf("no answer (bounded wait %s): %v", faultHang, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("reading the answer (bounded wait %s): %v", faultHang, err)
	}
	return resp, body
}

// TestFaultSuccessBodyStalls has the upstream send the start of a success
// body (so the proxy has decided, answered 200 and disarmed its deadline)
// and then go quiet with the connection open. The client must see the
// answer broken off, not wait as long as the upstream likes: a stalled
// stream holds a client, a connection and goroutines for good.
func TestFaultSuccessBodyStalls(t *testing.T) {
	const start = `{"code": 0, "message": "", "codeDesc": "Success", "data": {"blob": "0123456789`
	tests := []struct{ name, script string }{
		{"after the code", "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n" + start},
		{"after the code, chunked", "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n" +
			strconv.FormatInt(int64(len(start)), 16) + "\r\n" + start + "\r\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			up := newScriptedUpstream(t, tt.script, false)
			r := newRig(t, proxy.Config{Upstream: up.url(), Timeout: 300 * time.Millisecond})
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			req, _ := http.NewRequestWithContext(ctx, http.MethodGet, r.apiURL("Action="+fakeapi.RefreshCdnUrl), nil)
			type result struct {
				status int
				body   []byte
				err    error
			}
			done := make(chan result, 1)
			go func() {
				resp, err := rawClient(t).Do(req)
				if err != nil {
					done <- result{err: err}
					return
				}
				defer resp.Body.Close()
				body, err := io.ReadAll(resp.Body)
				done <- result{resp.StatusCode, body, err}
			}()
			select {
			case res := <-done:
				if res.err == nil {
					t.Errorf("status %d and a clean body of %d bytes from a stalled upstream: %q", res.status, len(res.body), res.body)
				}
			case <-time.After(faultHang):
				cancel()
				<-done
				t.Errorf("the client still waits on a stalled success body after %s (Config.Timeout 300ms): "+
					"the proxy has no idle deadline once the body streams", faultHang)
			}
		})
	}
}

// endlessUpstream answers every call with the start of a success body
// and then filler for as long as the connection lasts, cheaply (one
// buffer written again and again). It counts the calls it is still
// answering.
type endlessUpstream struct {
	url     string
	arrived chan struct{}
	active  atomic.Int32
}

func newEndlessUpstream(t *testing.T) *endlessUpstream {
	t.Helper()
	u := &endlessUpstream{arrived: make(chan struct{}, 256)}
	chunk := bytes.Repeat([]byte("0123456789abcdef"), 2<<10)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u.active.Add(1)
		defer u.active.Add(-1)
		u.arrived <- struct{}{}
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"code": 0, "message": "", "codeDesc": "Success", "data": {"blob": "`)
		for {
			if _, err := w.Write(chunk); err != nil {
				return
			}
		}
	}))
	t.Cleanup(srv.Close)
	u.url = srv.URL
	return u
}

// TestFaultClientGoneNoLeak has 50 clients hang up, before the answer and
// in the middle of an endless body. Each time every upstream call must end
// (canceled, or its endless body stopped) and the goroutine count must
// come back to where it was.
func TestFaultClientGoneNoLeak(t *testing.T) {
	const (
		n     = 50
		slack = 5 // a timer or finalizer goroutine that happens to be running
	)
	tests := []struct {
		name    string
		midBody bool // hang up after some of the body; else before the answer
	}{
		{"before the answer", false},
		{"in an endless body", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var (
				r       *rig
				query   string
				arrived <-chan struct{}
				ended   func() bool // every upstream call has ended
			)
			if tt.midBody {
				up := newEndlessUpstream(t)
				r = newRig(t, proxy.Config{Upstream: mustURL(t, up.url)})
				query, arrived = "Action="+fakeapi.DescribeCdnHosts, up.arrived
				ended = func() bool { return up.active.Load() == 0 }
			} else {
				r = newRig(t, proxy.Config{})
				query = "Action=" + fakeapi.RefreshCdnUrl + "&delay=1m"
				ch := make(chan struct{}, n)
				go func() {
					for range n {
						<-r.api.Arrived()
						ch <- struct{}{}
					}
				}()
				arrived = ch
				// The fake counts a call canceled when its context ended
				// before it answered: here, before its minute was up.
				ended = func() bool { return r.api.Canceled() == n }
			}
			tr := &http.Transport{DisableCompression: true, DisableKeepAlives: true}
			client := &http.Client{Transport: tr}
			runtime.GC()
			before := runtime.NumGoroutine()

			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			errs := make(chan error, n)
			for range n {
				go func() {
					req, _ := http.NewRequestWithContext(ctx, http.MethodGet, r.apiURL(query), nil)
					resp, err := client.Do(req)
					if err != nil {
						errs <- err
						return
					}
					defer resp.Body.Close() // hangs up in the middle of the body
					if !tt.midBody {
						errs <- errors.New("answered before the client hung up: status " + resp.Status)
						return
					}
					if resp.StatusCode != http.StatusOK {
						errs <- errors.New("status " + resp.Status)
						return
					}
					_, err = io.CopyN(io.Discard, resp.Body, 64<<10)
					errs <- err
				}()
			}
			for i := range n {
				select {
				case <-arrived:
				case <-time.After(faultHang):
					t.Fatalf("only %d of %d calls reached the upstream", i, n)
				}
			}
			if !tt.midBody {
				cancel()
			}
			for range n {
				err := <-errs
				if !tt.midBody && !errors.Is(err, context.Canceled) {
					t.Errorf("client error = %v, want context.Canceled", err)
				}
				if tt.midBody && err != nil {
					t.Errorf("reading the start of the body: %v", err)
				}
			}
			tr.CloseIdleConnections()

			for try := 0; !ended(); try++ {
				if try == faultPolls {
					t.Fatalf("upstream calls still running after every client hung up (bounded wait)")
				}
				time.Sleep(faultPause)
			}
			// The proxy's handlers and both sides' connection goroutines
			// must be gone too.
			var now int
			for try := 0; ; try++ {
				if now = runtime.NumGoroutine(); now <= before+slack {
					break
				}
				if try == faultPolls {
					var buf bytes.Buffer
					_ = pprof.Lookup("goroutine").WriteTo(&buf, 1)
					t.Fatalf("goroutines: %d before %d calls whose clients hung up, %d after (slack %d):\n%.6000s", before, n, now, slack, buf.String())
				}
				time.Sleep(faultPause)
			}
			t.Logf("goroutines: %d before, %d after", before, now)
		})
	}
}
