package proxy_test

import (
	"crypto/x509"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/cdnproxy/cdnproxy/proxy"
)

// TestTransportReusesConnections: with NewTransport(n), n concurrent
// clients share about n upstream TLS connections (a few more when a call
// comes before its predecessor's connection is back in the pool), so
// nearly every call reuses one; with an idle pool of 2 per host, as
// http.DefaultTransport has, the same load opens a connection for most
// calls. It counts the connections the upstream accepted, not time, and
// draws the line at one new connection per 4 calls, far from both (about
// 16-45 and 250-300 for 640 calls here).
func TestTransportReusesConnections(t *testing.T) {
	const clients, callsEach = 16, 40
	body := []byte(`{"code":0,"message":"","codeDesc":"Success","data":{}}`)
	for _, tc := range []struct {
		name    string
		maxIdle int
		check   func(conns int64) bool
		want    string
	}{
		{"NewTransport(clients)", clients, func(n int64) bool { return n < clients*callsEach/4 }, "fewer than one per 4 calls"},
		{"2 idle per host", 2, func(n int64) bool { return n >= clients*callsEach/4 }, "one per 4 calls or more: else the test could not tell"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var conns atomic.Int64
			upstream := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "application/json")
				w.Write(body)
			}))
			upstream.Config.ConnState = func(_ net.Conn, s http.ConnState) {
				if s == http.StateNew {
					conns.Add(1)
				}
			}
			upstream.StartTLS()
			defer upstream.Close()
			tr := proxy.NewTransport(tc.maxIdle)
			tr.TLSClientConfig.RootCAs = x509.NewCertPool()
			tr.TLSClientConfig.RootCAs.AddCert(upstream.Certificate())
			defer tr.CloseIdleConnections()
			p, err := proxy.New(proxy.Config{Upstream: mustURL(t, upstream.URL), Transport: tr})
			if err != nil {
				t.Fatal(err)
			}
			front := httptest.NewServer(p)
			defer front.Close()
			client := rawClient(t)
			client.Transport.(*http.Transport).MaxIdleConnsPerHost = clients

			var wg sync.WaitGroup
			var failed atomic.Int64
			for range clients {
				wg.Go(func() {
					for range callsEach {
						resp, err := client.Get(front.URL + "/v2/index.php?Action=DescribeCdnHosts")
						if err != nil {
							failed.Add(1)
							continue
						}
						if got, _ := io.ReadAll(resp.Body); resp.StatusCode != http.StatusOK || string(got) != string(body) {
							failed.Add(1)
						}
						resp.Body.Close()
					}
				})
			}
			wg.Wait()
			if n := failed.Load(); n > 0 {
				t.Fatalf("%d of %d calls failed", n, clients*callsEach)
			}
			if n := conns.Load(); !tc.check(n) {
				t.Errorf("%d upstream connections for %d calls from %d clients, want %s", n, clients*callsEach, clients, tc.want)
			} else {
				t.Logf("%d upstream connections for %d calls from %d clients", n, clients*callsEach, clients)
			}
		})
	}
}
