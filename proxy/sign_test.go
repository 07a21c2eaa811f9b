package proxy_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cdnproxy/cdnproxy/internal/fakeapi"
	"github.com/cdnproxy/cdnproxy/internal/logbuf"
	"github.com/cdnproxy/cdnproxy/proxy"
	"github.com/cdnproxy/cdnproxy/proxy/signature"
)

// The credentials of the sign tests. The upstream knows only the upstream
// credential; the client key is one the proxy issues.
const (
	signUpstreamID  = "AKIDupstream0000000000000000000001"
	signUpstreamKey = "upstream-secret-key-never-shown-0001"
	signClientID    = "AKIDclient00000000000000000000000002"
	signClientKey   = "client-secret-key-never-shown-0002"
	signToken       = "client-bearer-token-never-shown-0003"
	signAPIPath     = "/v2/index.php"
)

// signNow is the fixed clock of the sign tests.
var signNow = time.Unix(1700000000, 0)

// signSeen is what the upstream saw of one call, with the parameters it
// read parsed as the proxy parses them.
type signSeen struct {
	fakeapi.Request
	params signature.Params
}

// signUpstream is the upstream of the sign tests: a fake API 2.0 that
// verifies signatures as the API does, over the Host header it received
// itself, and knows only the upstream credential.
type signUpstream struct{ *fakeapi.Server }

// seen returns the number of calls the upstream received and the last one.
func (u signUpstream) seen() (int, signSeen) {
	last, _ := u.Last()
	params, _ := signature.Parse(last.RawParams)
	return u.Requests(), signSeen{last, params}
}

// signBodyRecorder is the proxy's transport in the sign tests: it records
// whether each outbound request with a body could be sent again (GetBody)
// and whether GetBody yields the body that was sent.
type signBodyRecorder struct {
	next http.RoundTripper

	mu        sync.Mutex
	getBodyOK []bool
}

func (b *signBodyRecorder) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.Body != nil && r.ContentLength > 0 {
		ok := r.GetBody != nil
		if ok {
			rc, err := r.GetBody()
			if err != nil {
				ok = false
			} else {
				again, _ := io.ReadAll(rc)
				ok = int64(len(again)) == r.ContentLength
			}
		}
		b.mu.Lock()
		b.getBodyOK = append(b.getBodyOK, ok)
		b.mu.Unlock()
	}
	return b.next.RoundTrip(r)
}

// signEnv is a proxy in front of a signUpstream, with everything the
// tests look at afterwards.
type signEnv struct {
	up     signUpstream
	proxy  *httptest.Server
	log    *logbuf.Buffer
	bodies *signBodyRecorder
	// captured is every response body the tests received.
	mu       sync.Mutex
	captured []string
}

// newSignEnv starts a signing proxy (mode resign or sign) in front of a
// fresh verifying upstream. Its log and every response body are checked
// for secrets when the test ends.
func newSignEnv(t *testing.T, mode proxy.SigningMode, token string) *signEnv {
	t.Helper()
	e := &signEnv{
		up: signUpstream{fakeapi.NewVerifying(t, fakeapi.Config{
			Keys: map[string]string{signUpstreamID: signUpstreamKey},
			Now:  func() time.Time { return signNow },
		})},
		log:    &logbuf.Buffer{},
		bodies: &signBodyRecorder{next: proxy.NewTransport(4)},
	}
	upURL, _ := url.Parse(e.up.URL)
	p, err := proxy.New(proxy.Config{
		Upstream:  upURL,
		Transport: e.bodies,
		Signing: proxy.Signing{
			Mode: mode, SecretID: signUpstreamID, SecretKey: signUpstreamKey,
			ClientKeys:  map[string]string{signClientID: signClientKey},
			ClientToken: token,
			Now:         func() time.Time { return signNow },
		},
		Logger: slog.New(slog.NewJSONHandler(e.log, &slog.HandlerOptions{Level: slog.LevelDebug})),
	})
	if err != nil {
		t.Fatalf("proxy.New: %v", err)
	}
	e.proxy = httptest.NewServer(p)
	t.Cleanup(func() {
		// Close waits for calls in flight, so the log is complete.
		e.proxy.Close()
		e.assertNoSecrets(t)
	})
	return e
}

// assertNoSecrets fails if a secret appears in a response body or the log.
func (e *signEnv) assertNoSecrets(t *testing.T) {
	t.Helper()
	e.mu.Lock()
	all := strings.Join(e.captured, "\n")
	e.mu.Unlock()
	logText := e.log.String()
	for _, secret := range []string{signUpstreamKey, signClientKey, signToken} {
		if strings.Contains(all, secret) {
			t.Errorf("a response body holds the secret %q", secret)
		}
		if strings.Contains(logText, secret) {
			t.Errorf("the log holds the secret %q", secret)
		}
	}
	for _, id := range []string{signUpstreamID, signClientID} {
		if strings.Contains(logText, id) {
			t.Errorf("the log holds the SecretId %q unmasked", id)
		}
	}
}

// proxyHost is the proxy's host:port, as clients put it in Host.
func (e *signEnv) proxyHost() string { return strings.TrimPrefix(e.proxy.URL, "http://") }

// signResult is a decoded answer.
type signResult struct {
	status int
	raw    string
	body   map[string]any
}

// send sends a call with the raw parameter string (the query for GET,
// the body for POST) and the extra headers.
func (e *signEnv) send(t *testing.T, method, raw string, header http.Header) signResult {
	t.Helper()
	u := e.proxy.URL + signAPIPath
	var body io.Reader
	if method == http.MethodGet {
		u += "?" + raw
	} else {
		body = strings.NewReader(raw)
	}
	req, err := http.NewRequest(method, u, body)
	if err != nil {
		t.Fatal(err)
	}
	if method == http.MethodPost {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	for k, vs := range header {
		req.Header[k] = vs
	}
	return e.do(t, req)
}

func (e *signEnv) do(t *testing.T, req *http.Request) signResult {
	t.Helper()
	resp, err := e.proxy.Client().Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", req.Method, req.URL.Path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	e.mu.Lock()
	e.captured = append(e.captured, string(b))
	e.mu.Unlock()
	res := signResult{status: resp.StatusCode, raw: string(b)}
	if err := json.Unmarshal(b, &res.body); err != nil {
		t.Fatalf("answer is not JSON (status %d): %s", resp.StatusCode, b)
	}
	return res
}

// signCall returns params plus a Signature made with key for method and host.
func signCall(key, method, host string, params signature.Params) string {
	return params.With("Signature", signature.NewKey(key).Sign(method, host, signAPIPath, params)).Encode()
}

// signParams returns a call's common parameters at the fixed clock.
func signParams(id, action, method string) signature.Params {
	p := signature.Params{
		{Name: "Action", Value: action},
		{Name: "Nonce", Value: "48059"},
		{Name: "SecretId", Value: id},
		{Name: "Timestamp", Value: strconv.FormatInt(signNow.Unix(), 10)},
	}
	if method != "" {
		p = append(p, signature.Param{Name: "SignatureMethod", Value: method})
	}
	return p
}

// signWithout returns params without the parameter called name.
func signWithout(params signature.Params, name string) signature.Params {
	return slices.DeleteFunc(params, func(p signature.Param) bool { return p.Name == name })
}

// wantCode checks an answer's code and, for errors, the annotation.
func signWantCode(t *testing.T, res signResult, status int, code float64, category string) {
	t.Helper()
	if res.status != status {
		t.Errorf("status %d, want %d (body %s)", res.status, status, res.raw)
	}
	if got := res.body["code"]; got != code {
		t.Fatalf("code %v, want %v (body %s)", got, code, res.raw)
	}
	if code == 0 {
		return
	}
	for _, k := range []string{"message", "codeDesc", "category", "description"} {
		if s, _ := res.body[k].(string); s == "" {
			t.Errorf("%s missing or empty: %s", k, res.raw)
		}
	}
	if _, ok := res.body["retryable"].(bool); !ok {
		t.Errorf("retryable missing: %s", res.raw)
	}
	if got := res.body["category"]; got != category {
		t.Errorf("category %v, want %s", got, category)
	}
}

func TestResignAccepts(t *testing.T) {
	e := newSignEnv(t, proxy.Resign, "")
	upHost := strings.TrimPrefix(e.up.URL, "http://")
	proxyHostNoPort := strings.Split(e.proxyHost(), ":")[0]
	extra := signature.Params{
		{Name: "RequestClient", Value: "SDK_PYTHON_2.0"},
		{Name: "Region", Value: "gz"},
		{Name: "Token", Value: "sts-session-token"},
		{Name: "limit", Value: "10"},
		{Name: "offset", Value: "0"},
	}
	tests := []struct {
		name       string
		method     string // HTTP method
		sigMethod  string // SignatureMethod parameter, "" for none
		id, key    string
		signedHost func() string
		extra      signature.Params
	}{
		{"GET SHA1 proxy host:port", "GET", "", signUpstreamID, signUpstreamKey, e.proxyHost, nil},
		{"GET HmacSHA1 explicit", "GET", signature.HmacSHA1, signUpstreamID, signUpstreamKey, e.proxyHost, nil},
		{"GET SHA256 proxy host:port", "GET", signature.HmacSHA256, signUpstreamID, signUpstreamKey, e.proxyHost, nil},
		{"POST SHA1 proxy host:port", "POST", "", signUpstreamID, signUpstreamKey, e.proxyHost, nil},
		{"POST SHA256 proxy host:port", "POST", signature.HmacSHA256, signUpstreamID, signUpstreamKey, e.proxyHost, nil},
		{"GET SHA1 host without port", "GET", "", signUpstreamID, signUpstreamKey, func() string { return proxyHostNoPort }, nil},
		{"POST SHA256 host without port", "POST", signature.HmacSHA256, signUpstreamID, signUpstreamKey, func() string { return proxyHostNoPort }, nil},
		{"GET SHA1 upstream host", "GET", "", signUpstreamID, signUpstreamKey, func() string { return upHost }, nil},
		{"POST SHA256 upstream host", "POST", signature.HmacSHA256, signUpstreamID, signUpstreamKey, func() string { return upHost }, nil},
		{"GET extra params", "GET", "", signUpstreamID, signUpstreamKey, e.proxyHost, extra},
		{"POST extra params SHA256", "POST", signature.HmacSHA256, signUpstreamID, signUpstreamKey, e.proxyHost, extra},
		{"GET client key", "GET", "", signClientID, signClientKey, e.proxyHost, extra},
		{"POST client key SHA256", "POST", signature.HmacSHA256, signClientID, signClientKey, e.proxyHost, extra},
		{"GET value with + / = and Chinese", "GET", "", signClientID, signClientKey, e.proxyHost,
			signature.Params{{Name: "urls.0", Value: "https://例子.cn/a+b/c=d?x=1&y=2 中文 100%"}}},
		{"POST value with + / = and Chinese", "POST", signature.HmacSHA256, signClientID, signClientKey, e.proxyHost,
			signature.Params{{Name: "urls.0", Value: "https://例子.cn/a+b/c=d?x=1&y=2 中文 100%"}, {Name: "cache", Value: `[{"rule":"a+b=c/d"}]`}}},
		{"POST underscore name", "POST", "", signUpstreamID, signUpstreamKey, e.proxyHost,
			signature.Params{{Name: "hosts_0", Value: "www.test.com"}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			params := append(signParams(tc.id, "DescribeCdnHosts", tc.sigMethod), tc.extra...)
			before, _ := e.up.seen()
			res := e.send(t, tc.method, signCall(tc.key, tc.method, tc.signedHost(), params), nil)
			signWantCode(t, res, http.StatusOK, 0, "")
			count, seen := e.up.seen()
			if count != before+1 {
				t.Fatalf("upstream received %d calls, want 1", count-before)
			}
			// The upstream got the upstream SecretId and a signature that
			// verifies over its own host (it answered success), and every
			// other parameter exactly as the client sent it.
			if id, _ := seen.params.Get("SecretId"); id != signUpstreamID {
				t.Errorf("upstream SecretId %q, want the upstream id", id)
			}
			if !seen.Verified || !signature.NewKey(signUpstreamKey).Verify(tc.method, seen.Host, signAPIPath, seen.params) {
				t.Errorf("upstream signature does not verify over %s", seen.Host)
			}
			if len(seen.params) != len(params)+1 {
				t.Errorf("upstream got %d parameters, want %d", len(seen.params), len(params)+1)
			}
			for _, p := range params {
				if p.Name == "SecretId" {
					continue
				}
				if v, ok := seen.params.Get(p.Name); !ok || v != p.Value {
					t.Errorf("upstream %s = %q (present %v), want %q", p.Name, v, ok, p.Value)
				}
			}
			// Nonce, Timestamp and SignatureMethod go out byte for byte.
			wire := seen.RawParams // the query of a GET, the body of a POST
			if tc.method == http.MethodPost {
				if seen.RawQuery != "" {
					t.Errorf("POST went upstream with a query %q", seen.RawQuery)
				}
				if seen.ContentLength != int64(len(seen.RawParams)) {
					t.Errorf("upstream Content-Length %d, body %d bytes", seen.ContentLength, len(seen.RawParams))
				}
				if ct := seen.Header.Get("Content-Type"); ct != "application/x-www-form-urlencoded" {
					t.Errorf("upstream Content-Type %q", ct)
				}
			}
			pairs := "&" + wire + "&"
			for _, name := range []string{"Nonce", "Timestamp", "SignatureMethod"} {
				v, ok := params.Get(name)
				if ok && !strings.Contains(pairs, "&"+name+"="+v+"&") {
					t.Errorf("%s=%s not on the upstream wire %q", name, v, wire)
				}
			}
			if !strings.Contains(pairs, "&SecretId="+signUpstreamID+"&") {
				t.Errorf("SecretId not swapped on the wire: %q", wire)
			}
		})
	}
	e.bodies.mu.Lock()
	defer e.bodies.mu.Unlock()
	if len(e.bodies.getBodyOK) == 0 {
		t.Fatal("no POST body reached the transport")
	}
	for i, ok := range e.bodies.getBodyOK {
		if !ok {
			t.Errorf("outbound body %d: GetBody missing or not the body sent", i)
		}
	}
}

// TestResignAnnotatesUpstreamErrors checks that an error the upstream
// gives a re-signed call comes back annotated.
func TestResignAnnotatesUpstreamErrors(t *testing.T) {
	e := newSignEnv(t, proxy.Resign, "")
	for _, method := range []string{"GET", "POST"} {
		for _, sm := range []string{signature.HmacSHA1, signature.HmacSHA256} {
			t.Run(method+" "+sm, func(t *testing.T) {
				params := signParams(signClientID, fakeapi.HostInProgress, sm).With("hosts.0", "www.test.com")
				res := e.send(t, method, signCall(signClientKey, method, e.proxyHost(), params), nil)
				signWantCode(t, res, http.StatusOK, 4000, "invalid_state")
				if res.body["moduleCode"] != float64(9175) || res.body["retryable"] != true {
					t.Errorf("annotation: %s", res.raw)
				}
				sc, _ := fakeapi.Lookup(fakeapi.HostInProgress)
				if !strings.HasPrefix(res.raw, string(sc.Body[:len(sc.Body)-1])+",") {
					t.Errorf("upstream members not kept as sent: %s", res.raw)
				}
			})
		}
	}
}

func TestResignRefuses(t *testing.T) {
	e := newSignEnv(t, proxy.Resign, "")
	host := e.proxyHost
	ts := func(d time.Duration) string { return strconv.FormatInt(signNow.Add(d).Unix(), 10) }
	tests := []struct {
		name     string
		method   string
		raw      func(method string) string
		code     float64
		category string
	}{
		{"tampered parameter", "", func(m string) string {
			p := signParams(signUpstreamID, "DescribeCdnHosts", "").With("limit", "10")
			signed, _ := signature.Parse(signCall(signUpstreamKey, m, host(), p))
			return signed.With("limit", "11").Encode()
		}, 4100, "authentication_failed"},
		{"tampered method", "", func(m string) string {
			other := map[string]string{"GET": "POST", "POST": "GET"}[m]
			return signCall(signUpstreamKey, other, host(), signParams(signUpstreamID, "DescribeCdnHosts", ""))
		}, 4100, "authentication_failed"},
		{"tampered SignatureMethod", "", func(m string) string {
			signed, _ := signature.Parse(signCall(signUpstreamKey, m, host(), signParams(signUpstreamID, "DescribeCdnHosts", signature.HmacSHA256)))
			return signed.With("SignatureMethod", signature.HmacSHA1).Encode()
		}, 4100, "authentication_failed"},
		{"other host", "", func(m string) string {
			return signCall(signUpstreamKey, m, "cdnproxy.example", signParams(signUpstreamID, "DescribeCdnHosts", ""))
		}, 4100, "authentication_failed"},
		{"wrong key", "", func(m string) string {
			return signCall("not-the-key", m, host(), signParams(signUpstreamID, "DescribeCdnHosts", ""))
		}, 4100, "authentication_failed"},
		{"client id with upstream key", "", func(m string) string {
			return signCall(signUpstreamKey, m, host(), signParams(signClientID, "DescribeCdnHosts", ""))
		}, 4100, "authentication_failed"},
		{"unknown SecretId", "", func(m string) string {
			return signCall(signUpstreamKey, m, host(), signParams("AKIDunknown000000000000000000000", "DescribeCdnHosts", ""))
		}, 4100, "authentication_failed"},
		{"missing SecretId", "", func(m string) string {
			return signCall(signUpstreamKey, m, host(), signWithout(signParams(signUpstreamID, "DescribeCdnHosts", ""), "SecretId"))
		}, 4100, "authentication_failed"},
		{"missing Signature", "", func(m string) string {
			return signParams(signUpstreamID, "DescribeCdnHosts", "").Encode()
		}, 4100, "authentication_failed"},
		{"missing Timestamp", "", func(m string) string {
			return signCall(signUpstreamKey, m, host(), signWithout(signParams(signUpstreamID, "DescribeCdnHosts", ""), "Timestamp"))
		}, 4100, "authentication_failed"},
		{"Timestamp 3h old", "", func(m string) string {
			return signCall(signUpstreamKey, m, host(), signParams(signUpstreamID, "DescribeCdnHosts", "").With("Timestamp", ts(-3*time.Hour)))
		}, 4500, "replayed_request"},
		{"Timestamp 3h ahead", "", func(m string) string {
			return signCall(signClientKey, m, host(), signParams(signClientID, "DescribeCdnHosts", "").With("Timestamp", ts(3*time.Hour)))
		}, 4500, "replayed_request"},
	}
	for _, tc := range tests {
		for _, method := range []string{"GET", "POST"} {
			t.Run(tc.name+" "+method, func(t *testing.T) {
				before, _ := e.up.seen()
				res := e.send(t, method, tc.raw(method), nil)
				signWantCode(t, res, http.StatusOK, tc.code, tc.category)
				want := map[float64]string{4100: "AuthFailure", 4500: "ReplayAttack"}[tc.code]
				if res.body["codeDesc"] != want {
					t.Errorf("codeDesc %v, want %s", res.body["codeDesc"], want)
				}
				if after, _ := e.up.seen(); after != before {
					t.Errorf("a refused call reached the upstream")
				}
			})
		}
	}
	// Within the window both ways is accepted.
	for _, d := range []time.Duration{-119 * time.Minute, 119 * time.Minute} {
		t.Run("Timestamp "+d.String(), func(t *testing.T) {
			p := signParams(signUpstreamID, "DescribeCdnHosts", "").With("Timestamp", ts(d))
			signWantCode(t, e.send(t, "GET", signCall(signUpstreamKey, "GET", host(), p), nil), http.StatusOK, 0, "")
		})
	}
}

// TestResignRefusesUnreadable checks calls whose parameters cannot be
// verified: API-shaped 400 answers, nothing forwarded.
func TestResignRefusesUnreadable(t *testing.T) {
	e := newSignEnv(t, proxy.Resign, "")
	valid := func(m string) string {
		return signCall(signUpstreamKey, m, e.proxyHost(), signParams(signUpstreamID, "DescribeCdnHosts", ""))
	}
	tests := []struct {
		name string
		raw  func(m string) string
	}{
		{"duplicate parameter", func(m string) string { return valid(m) + "&Action=OfflineHost" }},
		{"duplicate with _ and .", func(m string) string { return valid(m) + "&hosts.0=a&hosts_0=b" }},
		{"bad %-encoding", func(m string) string { return valid(m) + "&urls.0=%zz" }},
		{"truncated %-escape", func(m string) string { return valid(m) + "&urls.0=%4" }},
		{"empty name", func(m string) string { return valid(m) + "&=x" }},
	}
	for _, tc := range tests {
		for _, method := range []string{"GET", "POST"} {
			t.Run(tc.name+" "+method, func(t *testing.T) {
				before, _ := e.up.seen()
				res := e.send(t, method, tc.raw(method), nil)
				signWantCode(t, res, http.StatusBadRequest, 4000, "invalid_parameter")
				if res.body["codeDesc"] != "InvalidParameter" {
					t.Errorf("codeDesc %v", res.body["codeDesc"])
				}
				if after, _ := e.up.seen(); after != before {
					t.Errorf("a refused call reached the upstream")
				}
			})
		}
	}
	t.Run("multipart POST", func(t *testing.T) {
		var buf bytes.Buffer
		mw := multipart.NewWriter(&buf)
		params, _ := signature.Parse(valid("POST"))
		for _, p := range params {
			mw.WriteField(p.Name, p.Value)
		}
		mw.Close()
		req, _ := http.NewRequest("POST", e.proxy.URL+signAPIPath, &buf)
		req.Header.Set("Content-Type", mw.FormDataContentType())
		before, _ := e.up.seen()
		signWantCode(t, e.do(t, req), http.StatusBadRequest, 4000, "invalid_parameter")
		if after, _ := e.up.seen(); after != before {
			t.Errorf("a refused call reached the upstream")
		}
	})
}

// TestResignPostIgnoresQuery checks that a POST's query, which the API
// ignores, is neither verified nor forwarded.
func TestResignPostIgnoresQuery(t *testing.T) {
	e := newSignEnv(t, proxy.Resign, "")
	body := signCall(signUpstreamKey, "POST", e.proxyHost(), signParams(signUpstreamID, "DescribeCdnHosts", ""))
	req, _ := http.NewRequest("POST", e.proxy.URL+signAPIPath+"?Action=OfflineHost&bad=%zz", strings.NewReader(body))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")
	signWantCode(t, e.do(t, req), http.StatusOK, 0, "")
	_, seen := e.up.seen()
	if seen.RawQuery != "" {
		t.Errorf("upstream query %q, want none", seen.RawQuery)
	}
	if a, _ := seen.params.Get("Action"); a != "DescribeCdnHosts" {
		t.Errorf("upstream Action %q", a)
	}
}

func TestSignMode(t *testing.T) {
	t.Run("unsigned call is signed", func(t *testing.T) {
		for _, method := range []string{"GET", "POST"} {
			for _, sm := range []string{"", signature.HmacSHA256} {
				t.Run(method+" "+sm, func(t *testing.T) {
					e := newSignEnv(t, proxy.Sign, "")
					p := signature.Params{{Name: "Action", Value: "DescribeCdnHosts"}, {Name: "RequestClient", Value: "curl"}}
					if sm != "" {
						p = p.With("SignatureMethod", sm)
					}
					signWantCode(t, e.send(t, method, p.Encode(), nil), http.StatusOK, 0, "")
					count, seen := e.up.seen()
					if count != 1 {
						t.Fatalf("upstream calls %d", count)
					}
					if ts, _ := seen.params.Get("Timestamp"); ts != strconv.FormatInt(signNow.Unix(), 10) {
						t.Errorf("Timestamp %q, want the proxy's clock", ts)
					}
					if n, _ := seen.params.Get("Nonce"); n == "" || n == "0" || strings.HasPrefix(n, "-") {
						t.Errorf("Nonce %q", n)
					}
					if got, _ := seen.params.Get("SignatureMethod"); got != sm {
						t.Errorf("SignatureMethod %q, want %q", got, sm)
					}
					if rc, _ := seen.params.Get("RequestClient"); rc != "curl" {
						t.Errorf("RequestClient %q", rc)
					}
				})
			}
		}
	})
	t.Run("fresh Nonce per call", func(t *testing.T) {
		e := newSignEnv(t, proxy.Sign, "")
		nonces := map[string]bool{}
		for range 3 {
			signWantCode(t, e.send(t, "GET", "Action=DescribeCdnHosts", nil), http.StatusOK, 0, "")
			_, seen := e.up.seen()
			n, _ := seen.params.Get("Nonce")
			nonces[n] = true
		}
		if len(nonces) != 3 {
			t.Errorf("Nonces repeat: %v", nonces)
		}
	})
	t.Run("signed call is verified", func(t *testing.T) {
		e := newSignEnv(t, proxy.Sign, "")
		ok := signCall(signClientKey, "GET", e.proxyHost(), signParams(signClientID, "DescribeCdnHosts", ""))
		signWantCode(t, e.send(t, "GET", ok, nil), http.StatusOK, 0, "")
		bad := signCall("wrong", "GET", e.proxyHost(), signParams(signClientID, "DescribeCdnHosts", ""))
		signWantCode(t, e.send(t, "GET", bad, nil), http.StatusOK, 4100, "authentication_failed")
		if n, _ := e.up.seen(); n != 1 {
			t.Errorf("upstream calls %d, want 1", n)
		}
	})
}

func TestClientToken(t *testing.T) {
	// The token guards every mode: passthrough too, where a call must be
	// signed for the upstream host.
	for _, mode := range []proxy.SigningMode{proxy.Sign, proxy.Resign, proxy.Passthrough} {
		e := newSignEnv(t, mode, signToken)
		signed := func(m string) string {
			host := e.proxyHost()
			if mode == proxy.Passthrough {
				host = strings.TrimPrefix(e.up.URL, "http://")
			}
			return signCall(signUpstreamKey, m, host, signParams(signUpstreamID, "DescribeCdnHosts", ""))
		}
		type tokenCase struct {
			name   string
			auth   []string // Authorization header values
			signed bool     // the call carries a valid signature
			status int
		}
		tests := []tokenCase{
			{"missing", nil, true, http.StatusUnauthorized},
			{"wrong", []string{"Bearer not-the-token"}, true, http.StatusUnauthorized},
			{"prefix of token", []string{"Bearer " + signToken[:10]}, true, http.StatusUnauthorized},
			{"not bearer", []string{"Basic " + signToken}, true, http.StatusUnauthorized},
			{"bare token", []string{signToken}, true, http.StatusUnauthorized},
			{"right, signed", []string{"Bearer " + signToken}, true, http.StatusOK},
			{"right, lower-case scheme", []string{"bearer " + signToken}, true, http.StatusOK},
		}
		if mode == proxy.Sign {
			tests = append(tests,
				tokenCase{"missing, unsigned", nil, false, http.StatusUnauthorized},
				tokenCase{"right, unsigned", []string{"Bearer " + signToken}, false, http.StatusOK})
		}
		for _, tc := range tests {
			for _, method := range []string{"GET", "POST"} {
				t.Run(string(mode)+" "+tc.name+" "+method, func(t *testing.T) {
					raw := "Action=DescribeCdnHosts"
					if tc.signed {
						raw = signed(method)
					}
					before, _ := e.up.seen()
					res := e.send(t, method, raw, http.Header{"Authorization": tc.auth})
					count, seen := e.up.seen()
					if tc.status != http.StatusOK {
						signWantCode(t, res, tc.status, 4100, "authentication_failed")
						if res.body["codeDesc"] != "AuthFailure" {
							t.Errorf("codeDesc %v", res.body["codeDesc"])
						}
						if count != before {
							t.Errorf("a refused call reached the upstream")
						}
						return
					}
					signWantCode(t, res, http.StatusOK, 0, "")
					if count != before+1 {
						t.Fatalf("upstream calls %d, want 1", count-before)
					}
					if auth := seen.Header.Values("Authorization"); len(auth) != 0 {
						t.Errorf("Authorization reached the upstream: %q", auth)
					}
				})
			}
		}
	}
}

// TestSignIPv6Host checks the Host forms of a bracketed IPv6 address: a
// client configured with "[::1]" signs "[::1]", whatever port it uses.
func TestSignIPv6Host(t *testing.T) {
	e := newSignEnv(t, proxy.Resign, "")
	h, err := signProxyHandler(e)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ host, signed string }{
		{"[::1]:8080", "[::1]:8080"},
		{"[::1]:8080", "[::1]"},
		{"[::1]", "[::1]"},
	} {
		t.Run(tc.host+" signed "+tc.signed, func(t *testing.T) {
			raw := signCall(signUpstreamKey, "GET", tc.signed, signParams(signUpstreamID, "DescribeCdnHosts", ""))
			req := httptest.NewRequest("GET", "http://"+tc.host+signAPIPath+"?"+raw, nil)
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			var body map[string]any
			if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil || body["code"] != float64(0) {
				t.Errorf("status %d body %s", rec.Code, rec.Body)
			}
		})
	}
}

// signProxyHandler builds a second proxy handler, with e's configuration, to
// be driven directly (no listener).
func signProxyHandler(e *signEnv) (http.Handler, error) {
	upURL, _ := url.Parse(e.up.URL)
	return proxy.New(proxy.Config{
		Upstream: upURL,
		Signing: proxy.Signing{Mode: proxy.Resign, SecretID: signUpstreamID, SecretKey: signUpstreamKey,
			Now: func() time.Time { return signNow }},
	})
}

// TestSignSizeLimits checks the API's request size limits in resign mode.
func TestSignSizeLimits(t *testing.T) {
	e := newSignEnv(t, proxy.Resign, "")
	big := func(n int) string {
		p := signParams(signUpstreamID, "RefreshCdnUrl", "").With("urls.0", strings.Repeat("a", n))
		return signCall(signUpstreamKey, "POST", e.proxyHost(), p)
	}
	t.Run("GET query over 32 KB", func(t *testing.T) {
		before, _ := e.up.seen()
		p := signParams(signUpstreamID, "RefreshCdnUrl", "").With("urls.0", strings.Repeat("a", 33<<10))
		res := e.send(t, "GET", signCall(signUpstreamKey, "GET", e.proxyHost(), p), nil)
		signWantCode(t, res, http.StatusRequestURITooLong, 4000, "invalid_parameter")
		if n, _ := e.up.seen(); n != before {
			t.Errorf("a refused call reached the upstream")
		}
	})
	t.Run("GET query just under 32 KB", func(t *testing.T) {
		p := signParams(signUpstreamID, "RefreshCdnUrl", "").With("urls.0", strings.Repeat("a", 31<<10))
		signWantCode(t, e.send(t, "GET", signCall(signUpstreamKey, "GET", e.proxyHost(), p), nil), http.StatusOK, 0, "")
	})
	t.Run("POST body under 1 MB", func(t *testing.T) {
		body := big(1<<20 - 1024)
		signWantCode(t, e.send(t, "POST", body, nil), http.StatusOK, 0, "")
		_, seen := e.up.seen()
		if seen.ContentLength != int64(len(seen.RawParams)) || len(seen.RawParams) < 1<<20-1024 {
			t.Errorf("upstream Content-Length %d, body %d bytes", seen.ContentLength, len(seen.RawParams))
		}
	})
	// Over the limit the handler is driven directly: a server that answers
	// before reading a large body may reset the connection under the
	// client, which is not what is tested here.
	h, err := signProxyHandler(e)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name   string
		length int64 // Content-Length as declared; -1 unknown (chunked)
	}{
		{"POST body over 1 MB, declared", 0},
		{"POST body over 1 MB, chunked", -1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			body := big(1 << 20)
			req := httptest.NewRequest("POST", "http://"+e.proxyHost()+signAPIPath, strings.NewReader(body))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			if tc.length < 0 {
				req.ContentLength = -1
			}
			before, _ := e.up.seen()
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			if rec.Code != http.StatusRequestEntityTooLarge {
				t.Errorf("status %d, want 413", rec.Code)
			}
			var b map[string]any
			if err := json.Unmarshal(rec.Body.Bytes(), &b); err != nil || b["code"] != float64(4000) || b["category"] != "invalid_parameter" {
				t.Errorf("body %s", rec.Body)
			}
			if n, _ := e.up.seen(); n != before {
				t.Errorf("a refused call reached the upstream")
			}
		})
	}
}

// TestSigningNeverPrintsSecrets checks that printing or logging a
// configuration shows neither a key nor the token.
func TestSigningNeverPrintsSecrets(t *testing.T) {
	s := proxy.Signing{Mode: proxy.Resign, SecretID: signUpstreamID, SecretKey: signUpstreamKey,
		ClientKeys: map[string]string{signClientID: signClientKey}, ClientToken: signToken}
	cfg := proxy.Config{Signing: s}
	var logged logbuf.Buffer
	logger := slog.New(slog.NewJSONHandler(&logged, nil))
	logger.Info("config", "signing", s, "ptr", &s)
	var text logbuf.Buffer
	slog.New(slog.NewTextHandler(&text, nil)).Info("config", "signing", s, "config", cfg)
	for _, tc := range []struct{ name, out string }{
		{"%v", fmt.Sprintf("%v", cfg)},
		{"%+v", fmt.Sprintf("%+v", cfg)},
		{"%#v", fmt.Sprintf("%#v", cfg)},
		{"%s of Signing", fmt.Sprintf("signing %s", s)},
		{"%+v of *Signing", fmt.Sprintf("%+v", &s)},
		{"slog JSON", logged.String()},
		{"slog text", text.String()},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, secret := range []string{signUpstreamKey, signClientKey, signToken, signUpstreamID, signClientID} {
				if strings.Contains(tc.out, secret) {
					t.Errorf("output shows %q: %s", secret, tc.out)
				}
			}
			if !strings.Contains(tc.out, "resign") {
				t.Errorf("output does not show the mode: %s", tc.out)
			}
		})
	}
}
