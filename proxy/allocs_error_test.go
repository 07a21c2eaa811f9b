package proxy_test

import (
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"testing"

	"github.com/cdnproxy/cdnproxy/internal/fakeapi"
)

// TestProxyAllocs900KBError fails if a large error body (under the 1 MiB
// CDNPROXY_MAX_BODY_BYTES) is copied whole for
// annotation: the body is held once (its Content-Length is known) and the
// annotated answer is sent from it and the inserted members in pieces, so
// the bytes allocated per call (by the proxy, its transport and the
// in-process upstream together) stay under one and a half times the
// body's size; a second copy would make them twice it.
// It measures bytes allocated, not time.
func TestProxyAllocs900KBError(t *testing.T) {
	body := []byte(`{"code":4000,"message":"(9110)cdn no such host","codeDesc":"9110","data":"` + strings.Repeat("x", 900<<10) + `"}`)
	srv := httptest.NewServer(fakeapi.BenchUpstream(map[string][]byte{"error-900KB": body}, 0))
	t.Cleanup(srv.Close)
	for _, px := range benchProxies(t, mustURL(t, srv.URL)) {
		if px.name != "cdnproxy" {
			continue
		}
		call := func() {
			w := newDiscardWriter() // counts the answer, keeps none of it
			px.h.ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/v2/index.php?Action=DescribeCdnHosts&body=error-900KB", nil))
			if w.status != http.StatusOK || w.n <= int64(len(body)) {
				t.Fatalf("status %d, %d bytes: not the annotated body (%d bytes before)", w.status, w.n, len(body))
			}
		}
		call() // connect outside the count
		perCall := bytesPerCall(8, call)
		if limit := uint64(3 * len(body) / 2); perCall > limit {
			t.Errorf("%d bytes allocated per annotated 900 KB error call, want at most %d: is the body copied whole?", perCall, limit)
		} else {
			t.Logf("%d bytes allocated per annotated 900 KB error call (body %d)", perCall, len(body))
		}
	}
}

// bytesPerCall returns the bytes allocated (by every goroutine) per call
// of call, over n calls.
func bytesPerCall(n int, call func()) uint64 {
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	for range n {
		call()
	}
	runtime.ReadMemStats(&after)
	return (after.TotalAlloc - before.TotalAlloc) / uint64(n)
}
