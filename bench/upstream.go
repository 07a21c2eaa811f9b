package main

import (
	"crypto/tls"
	"encoding/pem"
	"io"
	"log"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync/atomic"
	"time"

	"github.com/cdnproxy/cdnproxy/internal/fakeapi"
)

// The bodies the fake upstream answers, chosen by the call's body=
// parameter: API 2.0 results with "code" first, as the API writes them.
var bodyNames = []string{"success-200B", "success-100KB", "success-10MB", "error-150B"}

// makeBodies returns the bodies by name. Only the parent builds them: a
// proxy process must not carry 10 MB of test data in its RSS.
func makeBodies() map[string][]byte { return fakeapi.BenchBodies() }

// isLarge reports whether a body's calls take long enough (about a second
// each at 64 clients) that its cells need the longer -dlarge.
func isLarge(body string) bool { return body == "success-10MB" }

// isError reports whether a body is an API error, which cdnproxy
// annotates.
func isError(body string) bool { return body == "error-150B" }

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
// in dir, for the proxies to trust. It waits delay before each answer.
func startUpstream(dir string, delay time.Duration) (*upstream, error) {
	u := &upstream{bodies: makeBodies()}
	u.srv = httptest.NewUnstartedServer(fakeapi.BenchUpstream(u.bodies, delay))
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
