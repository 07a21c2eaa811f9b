package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"errors"
	"io"
	"log"
	"log/slog"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cdnproxy/cdnproxy/internal/logbuf"
	"github.com/cdnproxy/cdnproxy/proxy/signature"
)

// The TLS set-up of a legacy client that cannot be given another URL: it
// calls https://cdn.api.qcloud.com and signs that host, and a hosts-file
// entry sends it to the proxy, which holds a certificate for the API host
// from a private CA the client machine trusts.
const (
	tlsAPIHost     = "cdn.api.qcloud.com"
	tlsUpstreamID  = "AKIDtlsupstream000000000000000001"
	tlsUpstreamKey = "tls-upstream-secret-key-0001"
	tlsClientID    = "AKIDtlsclient0000000000000000000002"
	tlsClientKey   = "tls-client-secret-key-0002"
	tlsOnlineHost  = `{"code":4000,"message":"(9112)操作域名需要为【开启中】状态，请确认后重试","codeDesc":"InvalidParameter"}`
)

// tlsPKI is a private CA and a server certificate for the API host.
type tlsPKI struct {
	pool              *x509.CertPool // trusts the CA
	certFile, keyFile string         // the server's chain and key, PEM
}

// tlsMakePKI generates the CA and the certificate into dir.
func tlsMakePKI(t *testing.T, dir string) tlsPKI {
	t.Helper()
	now := time.Now()
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	caTmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "cdnproxy test CA"},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(24 * time.Hour),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	ca, err := x509.ParseCertificate(caDER)
	if err != nil {
		t.Fatal(err)
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	leafTmpl := &x509.Certificate{
		SerialNumber: big.NewInt(2),
		Subject:      pkix.Name{CommonName: tlsAPIHost},
		DNSNames:     []string{tlsAPIHost},
		NotBefore:    now.Add(-time.Hour),
		NotAfter:     now.Add(24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	leafDER, err := x509.CreateCertificate(rand.Reader, leafTmpl, ca, &key.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	var chain bytes.Buffer
	pem.Encode(&chain, &pem.Block{Type: "CERTIFICATE", Bytes: leafDER})
	pem.Encode(&chain, &pem.Block{Type: "CERTIFICATE", Bytes: caDER})
	pki := tlsPKI{pool: x509.NewCertPool(), certFile: filepath.Join(dir, "cert.pem"), keyFile: filepath.Join(dir, "key.pem")}
	pki.pool.AddCert(ca)
	if err := os.WriteFile(pki.certFile, chain.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(pki.keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}), 0o600); err != nil {
		t.Fatal(err)
	}
	return pki
}

// tlsUpstream is a fake API 2.0 that verifies signatures as the API does,
// over the Host it receives itself.
type tlsUpstream struct {
	mu    sync.Mutex
	count int
	last  signature.Params
}

func (u *tlsUpstream) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	raw := r.URL.RawQuery
	if r.Method == http.MethodPost {
		raw = string(body)
	}
	params, err := signature.Parse(raw)
	u.mu.Lock()
	u.count++
	u.last = params
	u.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	id, _ := params.Get("SecretId")
	if err != nil || r.URL.Path != "/v2/index.php" || id != tlsUpstreamID ||
		!signature.NewKey(tlsUpstreamKey).Verify(r.Method, r.Host, "/v2/index.php", params) {
		io.WriteString(w, `{"code":4100,"message":"鉴权失败，请参考文档中鉴权部分。","codeDesc":"AuthFailure"}`)
		return
	}
	if a, _ := params.Get("Action"); a == "OnlineHost" {
		io.WriteString(w, tlsOnlineHost)
		return
	}
	io.WriteString(w, `{"code":0,"message":"","codeDesc":"Success","data":{"hosts":[],"total":0}}`)
}

func (u *tlsUpstream) calls() (int, signature.Params) {
	u.mu.Lock()
	defer u.mu.Unlock()
	return u.count, u.last
}

// tlsStartProxy runs cdnproxy in-process with environ, waits until its
// admin /healthz answers, and returns the API address. It is stopped, and
// must have stopped cleanly, when the test ends.
func tlsStartProxy(t *testing.T, environ ...string) (apiAddr string, out *logbuf.Buffer) {
	t.Helper()
	apiAddr, adminAddr := freeAddr(t), freeAddr(t)
	out = &logbuf.Buffer{}
	environ = append([]string{"CDNPROXY_LISTEN_ADDR=" + apiAddr, "CDNPROXY_ADMIN_ADDR=" + adminAddr, "CDNPROXY_LOG_LEVEL=debug"}, environ...)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- run(ctx, nil, environ, strings.NewReader(""), out, out) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("run: %v", err)
			}
		case <-time.After(20 * time.Second):
			t.Errorf("run did not return after its context ended")
		}
	})
	hc := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}, Timeout: 5 * time.Second}
	for try := 0; ; try++ {
		select {
		case err := <-done:
			done <- err
			t.Fatalf("run returned before it was healthy: %v\n%s", err, out)
		default:
		}
		if resp, err := hc.Get("http://" + adminAddr + "/healthz"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return apiAddr, out
			}
		}
		if try == 500 {
			t.Fatalf("/healthz did not answer 200\n%s", out)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// tlsClient is the legacy client's HTTP client: it trusts pool and,
// like a hosts-file entry, reaches cdn.api.qcloud.com:443 at addr.
func tlsClient(pool *x509.CertPool, addr string) *http.Client {
	dialer := &net.Dialer{Timeout: 5 * time.Second}
	return &http.Client{
		Timeout: 30 * time.Second,
		Transport: &http.Transport{
			TLSClientConfig: &tls.Config{RootCAs: pool},
			DialContext: func(ctx context.Context, network, hostport string) (net.Conn, error) {
				if hostport != tlsAPIHost+":443" {
					return nil, errors.New("the test resolves only " + tlsAPIHost + ":443")
				}
				return dialer.DialContext(ctx, network, addr)
			},
			DisableKeepAlives: true,
		},
	}
}

func TestTLSListenerForHardCodedClients(t *testing.T) {
	pki := tlsMakePKI(t, t.TempDir())
	up := &tlsUpstream{}
	upSrv := httptest.NewServer(up)
	t.Cleanup(upSrv.Close)
	addr, out := tlsStartProxy(t,
		"CDNPROXY_UPSTREAM_URL="+upSrv.URL,
		"CDNPROXY_TLS_CERT_FILE="+pki.certFile,
		"CDNPROXY_TLS_KEY_FILE="+pki.keyFile,
		"CDNPROXY_SIGNING=resign",
		"CDNPROXY_SECRET_ID="+tlsUpstreamID,
		"CDNPROXY_SECRET_KEY="+tlsUpstreamKey,
		"CDNPROXY_CLIENT_KEYS="+tlsClientID+":"+tlsClientKey,
	)
	client := tlsClient(pki.pool, addr)
	now := strconv.FormatInt(time.Now().Unix(), 10)

	for _, tc := range []struct {
		name        string
		method      string
		sigMethod   string
		id, key     string
		action      string
		tamper      bool
		wantCode    float64
		wantForward bool
	}{
		{"GET HmacSHA1", "GET", "", tlsUpstreamID, tlsUpstreamKey, "DescribeCdnHosts", false, 0, true},
		{"GET HmacSHA256", "GET", signature.HmacSHA256, tlsUpstreamID, tlsUpstreamKey, "DescribeCdnHosts", false, 0, true},
		{"POST HmacSHA1 client key", "POST", "", tlsClientID, tlsClientKey, "DescribeCdnHosts", false, 0, true},
		{"POST HmacSHA256 client key", "POST", signature.HmacSHA256, tlsClientID, tlsClientKey, "DescribeCdnHosts", false, 0, true},
		{"annotated upstream error", "GET", "", tlsClientID, tlsClientKey, "OnlineHost", false, 4000, true},
		{"tampered GET", "GET", "", tlsUpstreamID, tlsUpstreamKey, "DescribeCdnHosts", true, 4100, false},
		{"tampered POST", "POST", signature.HmacSHA256, tlsClientID, tlsClientKey, "DescribeCdnHosts", true, 4100, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := signature.Params{
				{Name: "Action", Value: tc.action},
				{Name: "Nonce", Value: "13029"},
				{Name: "RequestClient", Value: "Python_Tools"},
				{Name: "SecretId", Value: tc.id},
				{Name: "Timestamp", Value: now},
				{Name: "limit", Value: "10"},
			}
			if tc.sigMethod != "" {
				p = p.With("SignatureMethod", tc.sigMethod)
			}
			p = p.With("Signature", signature.NewKey(tc.key).Sign(tc.method, tlsAPIHost, "/v2/index.php", p))
			if tc.tamper {
				p = p.With("limit", "1000")
			}
			target := "https://" + tlsAPIHost + "/v2/index.php"
			var body io.Reader
			if tc.method == "GET" {
				target += "?" + p.Encode()
			} else {
				body = strings.NewReader(p.Encode())
			}
			req, err := http.NewRequest(tc.method, target, body)
			if err != nil {
				t.Fatal(err)
			}
			if tc.method == "POST" {
				req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			}
			before, _ := up.calls()
			resp, err := client.Do(req)
			if err != nil {
				t.Fatalf("call over TLS: %v\n%s", err, out)
			}
			raw, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK || resp.TLS == nil {
				t.Errorf("status %d, TLS %v", resp.StatusCode, resp.TLS != nil)
			}
			var got map[string]any
			if err := json.Unmarshal(raw, &got); err != nil {
				t.Fatalf("answer is not JSON: %s", raw)
			}
			if got["code"] != tc.wantCode {
				t.Fatalf("code %v, want %v: %s", got["code"], tc.wantCode, raw)
			}
			switch tc.wantCode {
			case 4100:
				if got["codeDesc"] != "AuthFailure" || got["category"] != "authentication_failed" {
					t.Errorf("refusal: %s", raw)
				}
			case 4000:
				if got["moduleCode"] != float64(9112) || got["category"] != "invalid_state" || got["retryable"] != false || got["description"] == "" {
					t.Errorf("annotation: %s", raw)
				}
			}
			after, seen := up.calls()
			if forwarded := after != before; forwarded != tc.wantForward {
				t.Fatalf("forwarded %v, want %v", forwarded, tc.wantForward)
			}
			if tc.wantForward {
				if id, _ := seen.Get("SecretId"); id != tlsUpstreamID {
					t.Errorf("upstream SecretId %q", id)
				}
				if rc, _ := seen.Get("RequestClient"); rc != "Python_Tools" {
					t.Errorf("upstream RequestClient %q", rc)
				}
			}
		})
	}

	t.Run("client without the CA", func(t *testing.T) {
		_, err := tlsClient(x509.NewCertPool(), addr).Get("https://" + tlsAPIHost + "/v2/index.php")
		var unknown x509.UnknownAuthorityError
		if !errors.As(err, &unknown) {
			t.Errorf("err = %v, want an unknown-authority error", err)
		}
	})
	for _, secret := range []string{tlsUpstreamKey, tlsClientKey} {
		if strings.Contains(out.String(), secret) {
			t.Errorf("the output holds a secret key")
		}
	}
}

func TestTLSBadKeyPair(t *testing.T) {
	dir := t.TempDir()
	pki := tlsMakePKI(t, dir)
	other := tlsMakePKI(t, t.TempDir())
	garbage := filepath.Join(dir, "garbage.pem")
	if err := os.WriteFile(garbage, []byte("not PEM\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ name, cert, key string }{
		{"key of another certificate", pki.certFile, other.keyFile},
		{"certificate file not PEM", garbage, pki.keyFile},
		{"key file missing", pki.certFile, filepath.Join(dir, "missing.pem")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			environ := []string{
				"CDNPROXY_LISTEN_ADDR=" + freeAddr(t), "CDNPROXY_ADMIN_ADDR=" + freeAddr(t),
				"CDNPROXY_TLS_CERT_FILE=" + tc.cert, "CDNPROXY_TLS_KEY_FILE=" + tc.key,
			}
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			err := run(ctx, nil, environ, strings.NewReader(""), io.Discard, io.Discard)
			if err == nil || !strings.Contains(err.Error(), "CDNPROXY_TLS_CERT_FILE") {
				t.Errorf("run = %v, want an error naming CDNPROXY_TLS_CERT_FILE", err)
			}
		})
	}
}

// TestAPIServerTLSState: through the API listener and server serve.go
// assembles (TLS, the framing check, the connection cap), a handler sees
// Request.TLS as net/http promises it on TLS connections: the
// connection's state after the handshake, on every request of a kept-alive
// connection, with HTTP/1.1 negotiated although the client offers h2. On
// plain HTTP it stays nil. The framing check still refuses over TLS.
func TestAPIServerTLSState(t *testing.T) {
	pki := tlsMakePKI(t, t.TempDir())
	// serveAPI serves cfg's API listener; seen gets each request the
	// handler is given.
	serveAPI := func(t *testing.T, cfg config) (addr string, seen chan *http.Request) {
		t.Helper()
		seen = make(chan *http.Request, 4)
		handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			_, _ = io.Copy(io.Discard, r.Body)
			seen <- r
			io.WriteString(w, "ok")
		})
		cfg.ListenAddr, cfg.MaxConns = "127.0.0.1:0", 4 // a cap, so that limitConn wraps too
		ln, err := apiListener(cfg, slog.New(slog.DiscardHandler))
		if err != nil {
			t.Fatal(err)
		}
		srv := apiServer(handler, log.New(io.Discard, "", 0))
		done := make(chan struct{})
		go func() { defer close(done); _ = srv.Serve(ln) }()
		t.Cleanup(func() { srv.Close(); <-done })
		return ln.Addr().String(), seen
	}
	// exchange writes wire on conn and reads one answer per want.
	exchange := func(t *testing.T, conn net.Conn, wire string, want ...int) {
		t.Helper()
		_ = conn.SetDeadline(time.Now().Add(framingHang))
		if _, err := io.WriteString(conn, wire); err != nil {
			t.Fatal(err)
		}
		br := bufio.NewReader(conn)
		for _, status := range want {
			resp, err := http.ReadResponse(br, nil)
			if err != nil {
				t.Fatal(err)
			}
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode != status {
				t.Fatalf("status %d, want %d", resp.StatusCode, status)
			}
		}
	}
	tlsCfg := config{TLSCertFile: pki.certFile, TLSKeyFile: pki.keyFile}

	t.Run("TLS", func(t *testing.T) {
		addr, seen := serveAPI(t, tlsCfg)
		conn, err := tls.Dial("tcp", addr, &tls.Config{RootCAs: pki.pool, ServerName: tlsAPIHost, NextProtos: []string{"h2", "http/1.1"}})
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		client := conn.ConnectionState()
		exchange(t, conn, getCall+postCLCall, 200, 200)
		for i := range 2 {
			r := <-seen
			if r.TLS == nil {
				t.Fatalf("request %d: Request.TLS is nil on a TLS connection", i+1)
			}
			got := r.TLS
			if !got.HandshakeComplete || got.Version != tls.VersionTLS13 || got.Version != client.Version ||
				got.CipherSuite != client.CipherSuite || got.ServerName != tlsAPIHost ||
				got.NegotiatedProtocol != "http/1.1" || r.ProtoMajor != 1 || r.ProtoMinor != 1 {
				t.Errorf("request %d: handshake complete %v, version %s, cipher suite %s, server name %q, protocol %q, %s; client: version %s, cipher suite %s",
					i+1, got.HandshakeComplete, tls.VersionName(got.Version), tls.CipherSuiteName(got.CipherSuite), got.ServerName, got.NegotiatedProtocol, r.Proto,
					tls.VersionName(client.Version), tls.CipherSuiteName(client.CipherSuite))
			}
		}
	})
	t.Run("TLS 1.2", func(t *testing.T) {
		addr, seen := serveAPI(t, tlsCfg)
		conn, err := tls.Dial("tcp", addr, &tls.Config{RootCAs: pki.pool, ServerName: tlsAPIHost, MaxVersion: tls.VersionTLS12})
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		exchange(t, conn, getCall, 200)
		if r := <-seen; r.TLS == nil || r.TLS.Version != tls.VersionTLS12 || r.TLS.ServerName != tlsAPIHost {
			t.Errorf("Request.TLS %+v, want TLS 1.2 to %s", r.TLS, tlsAPIHost)
		}
	})
	t.Run("conflicting framing over TLS", func(t *testing.T) {
		addr, seen := serveAPI(t, tlsCfg)
		conn, err := tls.Dial("tcp", addr, &tls.Config{RootCAs: pki.pool, ServerName: tlsAPIHost})
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		exchange(t, conn, "POST /v2/index.php HTTP/1.1\r\nHost: proxy\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"+smuggledGet, 400)
		if len(seen) != 0 {
			t.Errorf("the refused request reached the handler")
		}
	})
	t.Run("plain HTTP", func(t *testing.T) {
		addr, seen := serveAPI(t, config{})
		conn, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		exchange(t, conn, getCall, 200)
		if r := <-seen; r.TLS != nil {
			t.Errorf("Request.TLS %+v on plain HTTP", r.TLS)
		}
	})
}
