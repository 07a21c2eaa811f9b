package proxy_test

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/cdnproxy/cdnproxy/internal/fakeapi"
	"github.com/cdnproxy/cdnproxy/proxy"
	"github.com/cdnproxy/cdnproxy/proxy/signature"
)

// The bodies of the benchmarks (see fakeapi.BenchBodies), and a large
// error, which the proxy reads whole to annotate.
var (
	benchBodies       = withBody(fakeapi.BenchBodies(), "error-900KB", benchError900KB)
	benchError900KB   = []byte(`{"code":4000,"message":"(9110)cdn no such host","codeDesc":"9110","data":"` + strings.Repeat("x", 900<<10) + `"}`)
	benchSuccess200   = benchBodies["success-200B"]
	benchError150     = benchBodies["error-150B"]
	benchSuccess100KB = benchBodies["success-100KB"]
	benchSuccess10MB  = benchBodies["success-10MB"]
)

// withBody returns bodies with body added under name.
func withBody(bodies map[string][]byte, name string, body []byte) map[string][]byte {
	bodies[name] = body
	return bodies
}

// benchUpstream serves the bodies above (see fakeapi.BenchUpstream).
func benchUpstream(tb testing.TB) *url.URL {
	tb.Helper()
	srv := httptest.NewServer(fakeapi.BenchUpstream(benchBodies, 0))
	tb.Cleanup(srv.Close)
	return mustURL(tb, srv.URL)
}

// discardWriter is a ResponseWriter that keeps the status and counts the
// body, so that a 10 MB answer costs the benchmark nothing.
type discardWriter struct {
	h      http.Header
	status int
	n      int64
}

func newDiscardWriter() *discardWriter { return &discardWriter{h: make(http.Header)} }

func (w *discardWriter) Header() http.Header { return w.h }
func (w *discardWriter) WriteHeader(status int) {
	if w.status == 0 {
		w.status = status
	}
}

func (w *discardWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	w.n += int64(len(b))
	return len(b), nil
}

// benchProxies returns the handlers compared: cdnproxy in passthrough
// mode, logging at info (failed calls) to nowhere, and a plain
// httputil.ReverseProxy with the same transport and cdnproxy's pool of
// copy buffers, and nothing else.
func benchProxies(tb testing.TB, upstream *url.URL) []struct {
	name string
	h    http.Handler
} {
	tb.Helper()
	p, err := proxy.New(proxy.Config{
		Upstream:  upstream,
		Transport: proxy.NewTransport(64),
		Logger:    slog.New(slog.NewJSONHandler(io.Discard, &slog.HandlerOptions{Level: slog.LevelInfo})),
	})
	if err != nil {
		tb.Fatal(err)
	}
	plain := &httputil.ReverseProxy{
		Rewrite:    func(pr *httputil.ProxyRequest) { pr.SetURL(upstream) },
		Transport:  proxy.NewTransport(64),
		BufferPool: fakeapi.NewBufferPool(),
		ErrorLog:   slog.NewLogLogger(slog.DiscardHandler, slog.LevelError),
	}
	return []struct {
		name string
		h    http.Handler
	}{{"cdnproxy", p}, {"plain", plain}}
}

// serveOnce sends one call for body through h and checks the answer.
func serveOnce(tb testing.TB, h http.Handler, body string, want int) {
	w := newDiscardWriter()
	h.ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/v2/index.php?Action=DescribeCdnHosts&body="+body, nil))
	if w.status != http.StatusOK || w.n < int64(want) {
		tb.Fatalf("%s: status %d, %d bytes; want 200 and at least %d bytes", body, w.status, w.n, want)
	}
}

// BenchmarkProxy sends calls through cdnproxy and through a plain
// httputil.ReverseProxy to the same in-process upstream, calling
// ServeHTTP directly (no client connection). B/op for success-10MB shows
// whether success bodies stream (a few KB) or are buffered (10 MB+).
func BenchmarkProxy(b *testing.B) {
	upstream := benchUpstream(b)
	cells := []struct {
		name string
		size int
	}{
		{"success-200B", len(benchSuccess200)},
		{"success-100KB", len(benchSuccess100KB)},
		{"success-10MB", len(benchSuccess10MB)},
		{"error-150B", len(benchError150)},
		{"error-900KB", len(benchError900KB)},
	}
	for _, px := range benchProxies(b, upstream) {
		b.Run(px.name, func(b *testing.B) {
			for _, c := range cells {
				b.Run(c.name, func(b *testing.B) {
					serveOnce(b, px.h, c.name, c.size) // connect outside the timing
					b.ReportAllocs()
					b.SetBytes(int64(c.size))
					for b.Loop() {
						serveOnce(b, px.h, c.name, c.size)
					}
				})
			}
		})
	}
}

// TestProxyAllocs10MBSuccess fails if a 10 MB success body is held in
// memory on its way through: the bytes allocated per call (by the proxy,
// its transport and the in-process upstream together) must stay far below
// the body's size. It measures bytes allocated, not time, and counts the
// same under the race detector.
func TestProxyAllocs10MBSuccess(t *testing.T) {
	const maxPerCall = 1 << 20
	upstream := benchUpstream(t)
	for _, px := range benchProxies(t, upstream) {
		serveOnce(t, px.h, "success-10MB", len(benchSuccess10MB))
		const n = 8
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		for range n {
			serveOnce(t, px.h, "success-10MB", len(benchSuccess10MB))
		}
		runtime.ReadMemStats(&after)
		if got := (after.TotalAlloc - before.TotalAlloc) / n; got > maxPerCall {
			t.Errorf("%s: %d bytes allocated per 10 MB success call, want at most %d: is the body buffered?", px.name, got, maxPerCall)
		} else {
			t.Logf("%s: %d bytes allocated per 10 MB success call", px.name, got)
		}
	}
}

// BenchmarkProxyResign sends calls through cdnproxy in resign mode: each
// call is signed by a client with a client key for the proxy's host, so
// the proxy verifies it and signs it again for the upstream. The signed
// query strings are built once, with a fixed Nonce and Timestamp and a
// fixed proxy clock, and replayed: the proxy keeps no replay state, so
// every call is verified in full. Passthrough errors are measured by
// BenchmarkProxy's error-150B cell.
func BenchmarkProxyResign(b *testing.B) {
	upstream := benchUpstream(b)
	const clientID, clientKey = "AKIDbenchclient000000000000000000", "benchclientkey0000000000000000"
	now := time.Unix(1700000000, 0)
	p, err := proxy.New(proxy.Config{
		Upstream:  upstream,
		Transport: proxy.NewTransport(64),
		Logger:    slog.New(slog.NewJSONHandler(io.Discard, &slog.HandlerOptions{Level: slog.LevelInfo})),
		Signing: proxy.Signing{Mode: proxy.Resign, SecretID: "AKIDbenchupstream00000000000000000", SecretKey: "benchupstreamkey00000000000000",
			ClientKeys: map[string]string{clientID: clientKey}, Now: func() time.Time { return now }},
	})
	if err != nil {
		b.Fatal(err)
	}
	cells := []struct {
		name string
		size int
	}{
		{"success-200B", len(benchSuccess200)},
		{"error-150B", len(benchError150)},
	}
	for _, c := range cells {
		target := "/v2/index.php?" + benchSignedQuery(clientID, clientKey, now, signature.Param{Name: "body", Value: c.name})
		call := func(tb testing.TB) {
			w := newDiscardWriter()
			p.ServeHTTP(w, httptest.NewRequest(http.MethodGet, target, nil))
			if w.status != http.StatusOK || w.n < int64(c.size) {
				tb.Fatalf("%s: status %d, %d bytes; want 200 and at least %d bytes", c.name, w.status, w.n, c.size)
			}
		}
		b.Run(c.name, func(b *testing.B) {
			call(b) // connect outside the timing
			b.ReportAllocs()
			b.SetBytes(int64(c.size))
			for b.Loop() {
				call(b)
			}
		})
	}
}

// benchSignedQuery returns the query of a DescribeCdnHosts call with the
// extra parameters, signed (HmacSHA256) at now by a client with the given
// key, for the host example.com, as a client of the proxy signs it.
func benchSignedQuery(clientID, clientKey string, now time.Time, extra ...signature.Param) string {
	params := append(signature.Params{
		{Name: "Action", Value: "DescribeCdnHosts"},
		{Name: "Nonce", Value: "48213"},
		{Name: "Region", Value: "ap-guangzhou"},
		{Name: "SecretId", Value: clientID},
		{Name: "SignatureMethod", Value: signature.HmacSHA256},
		{Name: "Timestamp", Value: strconv.FormatInt(now.Unix(), 10)},
	}, extra...)
	return params.With("Signature", signature.NewKey(clientKey).Sign(http.MethodGet, "example.com", "/v2/index.php", params)).Encode()
}
