package proxy_test

import (
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"
)

// BenchmarkProxyGzipSuccess sends a client that asks for gzip a 10 MB
// success body the upstream compressed, through cdnproxy and through a
// plain httputil.ReverseProxy. Both send the compressed bytes on as they
// came; cdnproxy also decodes them, to follow the body for a second
// top-level "code" (annotate.Watch). SetBytes is the compressed size.
func BenchmarkProxyGzipSuccess(b *testing.B) {
	body := gzipped(b, benchSuccess10MB)
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Content-Encoding", "gzip")
		w.Header().Set("Content-Length", strconv.Itoa(len(body)))
		_, _ = w.Write(body)
	}))
	b.Cleanup(up.Close)
	for _, px := range benchProxies(b, mustURL(b, up.URL)) {
		b.Run(px.name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(body)))
			for b.Loop() {
				w := newDiscardWriter()
				req := httptest.NewRequest(http.MethodGet, "/v2/index.php?Action=DescribeCdnHosts", nil)
				req.Header.Set("Accept-Encoding", "gzip")
				px.h.ServeHTTP(w, req)
				if w.status != http.StatusOK || w.n != int64(len(body)) {
					b.Fatalf("status %d, %d bytes; want 200 and %d bytes", w.status, w.n, len(body))
				}
			}
		})
	}
}
