package main

import (
	"bytes"
	"crypto/tls"
	"encoding/pem"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"sync/atomic"
)

// The bodies the fake upstream answers, chosen by the call's body=
// parameter: API 2.0 results with "code" first, as the API writes them.
var bodyNames = []string{"success-200B", "success-100KB", "success-10MB", "error-150B"}

// makeBodies returns the bodies by name. Only the parent builds them: a
// proxy process must not carry 10 MB of test data in its RSS.
func makeBodies() map[string][]byte {
	return map[string][]byte{
		"success-200B":  []byte(`{"code":0,"message":"","codeDesc":"Success","data":{"count":2,"task_id":"1522134939950455","urls":["http://www.test.com/a.png","http://www.test.com/b.png"],"host":"www.test.com"}}`),
		"success-100KB": successOf(100 << 10),
		"success-10MB":  successOf(10 << 20),
		"error-150B":    []byte(`{"code":4000,"message":"(9110)没有这个域名的信息 cdn no such host","codeDesc":"9110","data":{"host":"www.example.com","id":12345,"ttl":3600}}`),
	}
}

// isLarge reports whether a body's calls take long enough (about a second
// each at 64 clients) that its cells need the longer -dlarge.
func isLarge(body string) bool { return body == "success-10MB" }

// isError reports whether a body is an API error, which cdnproxy
// annotates.
func isError(body string) bool { return body == "error-150B" }

// successOf returns a success body of exactly size bytes: a
// DescribeCdnHosts-like list of hosts, padded.
func successOf(size int) []byte {
	const head, tail = `{"code":0,"message":"","codeDesc":"Success","data":{"hosts":[`, `]}}`
	const host = `{"id":1234567,"host":"www.example.com","status":4,"origin":["1.2.3.4"],"cache":[[0,"all",1000]]}`
	b := make([]byte, 0, size)
	b = append(b, head...)
	for len(b)+len(host)+1+len(tail) <= size {
		if len(b) > len(head) {
			b = append(b, ',')
		}
		b = append(b, host...)
	}
	b = append(b, bytes.Repeat([]byte(" "), size-len(b)-len(tail))...)
	return append(b, tail...)
}

// upstream is the fake API: HTTPS on loopback, HTTP/1.1 only, answering
// from memory, counting TLS handshakes. Its connections never time out,
// so every handshake is a connection a proxy opened.
type upstream struct {
	srv        *httptest.Server
	bodies     map[string][]byte
	caFile     string       // PEM of the server's self-signed certificate
	handshakes atomic.Int64 // completed TLS handshakes, full or resumed
	resumed    atomic.Int64 // of which resumed sessions
}

// startUpstream starts the fake API and writes its certificate to a file
// in dir, for the proxies to trust.
func startUpstream(dir string) (*upstream, error) {
	u := &upstream{bodies: makeBodies()}
	u.srv = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, ok := u.bodies[r.URL.Query().Get("body")]
		if !ok {
			http.Error(w, "bench upstream: unknown body", http.StatusBadRequest)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Content-Length", strconv.Itoa(len(body)))
		_, _ = w.Write(body)
	}))
	u.srv.TLS = &tls.Config{
		// Called once per completed handshake, full or resumed.
		VerifyConnection: func(cs tls.ConnectionState) error {
			u.handshakes.Add(1)
			if cs.DidResume {
				u.resumed.Add(1)
			}
			return nil
		},
	}
	u.srv.Config.ErrorLog = log.New(io.Discard, "", 0) // connections cut at the end of the run
	u.srv.StartTLS()
	u.caFile = filepath.Join(dir, "upstream-ca.pem")
	ca := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: u.srv.Certificate().Raw})
	if err := os.WriteFile(u.caFile, ca, 0o600); err != nil {
		u.srv.Close()
		return nil, err
	}
	return u, nil
}

// close stops the upstream.
func (u *upstream) close() { u.srv.Close() }
