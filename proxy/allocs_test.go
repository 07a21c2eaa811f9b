//go:build !race

// Allocation counts are exact under the normal runtime but not under the
// race detector, so this file is built only without -race; .ci/test runs
// it in a separate pass.

package proxy_test

import (
	"bytes"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"testing"

	"github.com/cdnproxy/cdnproxy/proxy"
)

// TestOverheadAllocs keeps the allocations cdnproxy adds to a call, over
// those of a plain httputil.ReverseProxy (the same request and writer
// included), within budget: each costs CPU and garbage collection on every
// call. The budgets are today's counts plus one; a change that needs more
// should say why and raise them. See BenchmarkOverhead for the time.
func TestOverheadAllocs(t *testing.T) {
	budget := map[string]float64{ // by body/proxy, over plain's count
		"success-200B/passthrough": 15,
		"success-200B/resign":      28,
		"error-150B/passthrough":   27,
		"error-150B/resign":        40,
	}
	plain := map[string]float64{}
	for _, c := range overheadCells(t) {
		c.serve(t) // warm up pools and series
		got := testing.AllocsPerRun(200, func() { c.serve(t) })
		if c.proxy == "plain" {
			plain[c.body] = got
			continue
		}
		name := c.body + "/" + c.proxy
		if added := got - plain[c.body]; added > budget[name] {
			t.Errorf("%s: %.0f allocations per call over plain's %.0f, want at most %.0f", name, added, plain[c.body], budget[name])
		} else {
			t.Logf("%s: %.0f allocations per call over plain's %.0f (budget %.0f)", name, added, plain[c.body], budget[name])
		}
	}
}

// TestErrorInPiecesAllocs: a short error body that arrives over several
// reads is read whole into a lent peek buffer; it must move to a buffer of
// its own size for annotation and the lent one go back, not stay with the
// call (32 KiB a call for the garbage collector). The bytes allocated per
// call are compared with those of the same body in one read.
func TestErrorInPiecesAllocs(t *testing.T) {
	body := []byte(`{"code":4000,"message":"(9110)no such host","codeDesc":"9110"}`)
	perCall := func(byteByByte bool) uint64 {
		p, err := proxy.New(proxy.Config{Upstream: mustURL(t, "http://upstream.invalid"),
			Transport: fixedTransport{body: body, contentLength: int64(len(body)), byteByByte: byteByByte}})
		if err != nil {
			t.Fatal(err)
		}
		const n = 50
		var before, after runtime.MemStats
		serveWithin(t, p)
		runtime.ReadMemStats(&before)
		for range n {
			if w := serveWithin(t, p); !bytes.Contains(w.Body.Bytes(), []byte(`"category"`)) {
				t.Fatalf("not annotated: %q", w.Body.Bytes())
			}
		}
		runtime.ReadMemStats(&after)
		return (after.TotalAlloc - before.TotalAlloc) / n
	}
	whole, pieces := perCall(false), perCall(true)
	if pieces > whole+16<<10 {
		t.Errorf("%d bytes allocated per call when the body comes in pieces, %d when it comes whole: does the call keep the 32 KiB peek buffer?", pieces, whole)
	} else {
		t.Logf("%d bytes allocated per call when the body comes in pieces, %d when it comes whole", pieces, whole)
	}
}

// TestRecycledBodyAllocs: the buffer an annotated error body is read into
// is recycled for the next call, so that a stream of large errors leaves
// the collector next to nothing (under a burst of 1,000 such calls that
// garbage, not the budget, set the peak RSS: TestLoadMemory). A 900 KB
// error, of known length and gzip-compressed without one (whose buffer
// grows by doubling), costs under half its size per call in bytes
// allocated by the proxy, its transport and the in-process upstream
// together; a new buffer per call would cost the body's size, and the
// doubling buffers of the gzip body twice that (measured: 15 and 62 KB
// a call). It measures bytes allocated, not time.
func TestRecycledBodyAllocs(t *testing.T) {
	body := []byte(`{"code":4000,"message":"(9110)cdn no such host","codeDesc":"9110","data":"` + strings.Repeat("x", 900<<10) + `"}`)
	zipped := gzipped(t, body)
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		if r.Header.Get("Accept-Encoding") == "gzip" {
			w.Header().Set("Content-Encoding", "gzip") // and no Content-Length: written in pieces
			for b := zipped; len(b) > 0; b = b[min(len(b), 512):] {
				_, _ = w.Write(b[:min(len(b), 512)])
				w.(http.Flusher).Flush()
			}
			return
		}
		_, _ = w.Write(body)
	}))
	t.Cleanup(up.Close)
	p, err := proxy.New(proxy.Config{Upstream: mustURL(t, up.URL), Transport: proxy.NewTransport(4),
		Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	// One P: a buffer put back on one P is not always found from another
	// (sync.Pool), which would make the count depend on the machine's
	// cores.
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
	for _, encoding := range []string{"", "gzip"} {
		call := func() {
			w := newDiscardWriter()
			req := httptest.NewRequest(http.MethodGet, "/v2/index.php?Action=DescribeCdnHosts", nil)
			if encoding != "" {
				req.Header.Set("Accept-Encoding", encoding)
			}
			p.ServeHTTP(w, req)
			if w.status != http.StatusOK || w.n <= int64(len(body)) {
				t.Fatalf("%q: status %d, %d bytes: not the annotated body (%d bytes before)", encoding, w.status, w.n, len(body))
			}
		}
		for range 4 { // connect, and fill the recycled buffers, outside the count
			call()
		}
		perCall := bytesPerCall(32, call)
		t.Logf("%q: %d bytes allocated per annotated 900 KB error call", encoding, perCall)
		if limit := uint64(len(body) / 2); perCall > limit {
			t.Errorf("%q: %d bytes allocated per annotated 900 KB error call, want at most %d: is the body's buffer not recycled?", encoding, perCall, limit)
		}
	}
}
