package proxy_test

import (
	"bytes"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strconv"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/cdnproxy/cdnproxy/internal/fakeapi"
	"github.com/cdnproxy/cdnproxy/proxy"
)

// memoryTransport answers every request from memory with body, as an
// upstream would with Content-Length, so that a benchmark through it
// measures the proxy's own work and nothing of the network's.
type memoryTransport struct{ body []byte }

func (t memoryTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.Body != nil {
		_, _ = io.Copy(io.Discard, r.Body)
		r.Body.Close()
	}
	return &http.Response{
		StatusCode:    http.StatusOK,
		Proto:         "HTTP/1.1",
		ProtoMajor:    1,
		ProtoMinor:    1,
		Header:        http.Header{"Content-Type": {"application/json"}, "Content-Length": {strconv.Itoa(len(t.body))}},
		Body:          io.NopCloser(bytes.NewReader(t.body)),
		ContentLength: int64(len(t.body)),
		Request:       r,
	}, nil
}

// overheadCell is one handler and body of BenchmarkOverhead.
type overheadCell struct {
	body, proxy string // "success-200B" or "error-150B"; "plain", "passthrough" or "resign"
	h           http.Handler
	target      string // the URL to call
	size        int    // the upstream body's size
}

// overheadCells returns the cells of BenchmarkOverhead: for each body,
// "plain" (an httputil.ReverseProxy with a pool of copy buffers and
// nothing else) and cdnproxy in passthrough and in resign, configured as
// cmd/cdnproxy configures them by default (JSON log at info through
// slog.NewJSONHandler to nowhere, metrics, failures page), all forwarding to an
// in-memory upstream (memoryTransport).
func overheadCells(tb testing.TB) []overheadCell {
	const clientID, clientKey = "AKIDbenchclient000000000000000000", "benchclientkey0000000000000000"
	now := time.Unix(1700000000, 0)
	upstream := mustURL(tb, "https://cdn.api.qcloud.com")
	plainQuery := "Action=DescribeCdnHosts&Nonce=48213&Region=ap-guangzhou&SecretId=AKIDz8krbsJ5yKBZQpn74WFkmLPx3gnPhESA&Signature=mysignature&SignatureMethod=HmacSHA256&Timestamp=1700000000"
	resignQuery := benchSignedQuery(clientID, clientKey, now)
	var cells []overheadCell
	for _, body := range []struct {
		name string
		body []byte
	}{{"success-200B", benchSuccess200}, {"error-150B", benchError150}} {
		upstreamBody := memoryTransport{body.body}
		plain := &httputil.ReverseProxy{
			Rewrite:    func(pr *httputil.ProxyRequest) { pr.SetURL(upstream) },
			Transport:  upstreamBody,
			BufferPool: fakeapi.NewBufferPool(),
		}
		resign := proxy.Signing{Mode: proxy.Resign, SecretID: "AKIDbenchupstream00000000000000000", SecretKey: "benchupstreamkey00000000000000",
			ClientKeys: map[string]string{clientID: clientKey}, Now: func() time.Time { return now }}
		const path = "http://example.com/v2/index.php?"
		cells = append(cells,
			overheadCell{body.name, "plain", plain, path + plainQuery, len(body.body)},
			overheadCell{body.name, "passthrough", overheadProxy(tb, upstream, upstreamBody, proxy.Signing{}), path + plainQuery, len(body.body)},
			overheadCell{body.name, "resign", overheadProxy(tb, upstream, upstreamBody, resign), path + resignQuery, len(body.body)},
		)
	}
	return cells
}

// serve sends one call through the cell's handler, with the headers Go's
// HTTP client sends, and checks the answer.
func (c overheadCell) serve(tb testing.TB) {
	w := newDiscardWriter()
	r := httptest.NewRequest(http.MethodGet, c.target, nil)
	r.Header["User-Agent"] = []string{"Go-http-client/1.1"}
	r.Header["Accept-Encoding"] = []string{"gzip"}
	c.h.ServeHTTP(w, r)
	if w.status != http.StatusOK || w.n < int64(c.size) {
		tb.Fatalf("%s/%s: status %d, %d bytes; want 200 and at least %d bytes", c.body, c.proxy, w.status, w.n, c.size)
	}
}

// BenchmarkOverhead is the proxy's own cost per call, without a network
// (see overheadCells). The difference between a cdnproxy cell and plain
// is what cdnproxy adds to every call; the end-to-end comparison, with
// sockets and TLS, is go run ./bench.
func BenchmarkOverhead(b *testing.B) {
	for _, c := range overheadCells(b) {
		b.Run(c.body+"/"+c.proxy, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				c.serve(b)
			}
		})
	}
}

// overheadProxy is cdnproxy as cmd/cdnproxy builds it by default, over
// transport.
func overheadProxy(tb testing.TB, upstream *url.URL, transport http.RoundTripper, signing proxy.Signing) http.Handler {
	tb.Helper()
	p, err := proxy.New(proxy.Config{
		Upstream:  upstream,
		Transport: transport,
		Signing:   signing,
		Logger:    slog.New(slog.NewJSONHandler(io.Discard, &slog.HandlerOptions{Level: slog.LevelInfo})),
		Metrics:   proxy.NewMetrics(prometheus.NewRegistry()),
		Failures:  proxy.NewFailures(200, nil),
	})
	if err != nil {
		tb.Fatal(err)
	}
	return p
}
