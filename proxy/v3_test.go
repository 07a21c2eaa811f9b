package proxy_test

// End-to-end tests of API 3.0 through the real proxy, in front of
// internal/fakeapi3, which verifies TC3 and v1 signatures exactly as the
// API does (host included). Helpers of this file start with v3.

import (
	"bufio"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/cdnproxy/cdnproxy/annotate"
	"github.com/cdnproxy/cdnproxy/codes"
	"github.com/cdnproxy/cdnproxy/internal/fakeapi"
	"github.com/cdnproxy/cdnproxy/internal/fakeapi3"
	"github.com/cdnproxy/cdnproxy/internal/logbuf"
	"github.com/cdnproxy/cdnproxy/proxy"
	"github.com/cdnproxy/cdnproxy/proxy/signature"
)

// The credentials of the 3.0 tests. The fake API knows only the upstream
// credential; the client key is one the proxy issues.
const (
	v3UpstreamID  = "AKIDv3upstream000000000000000000001"
	v3UpstreamKey = "v3-upstream-secret-key-never-shown-1"
	v3ClientID    = "AKIDv3client0000000000000000000000002"
	v3ClientKey   = "v3-client-secret-key-never-shown-0002"
	v3Token       = "v3-client-token-never-shown-00000003"
)

// v3Now is the fixed clock of the proxy and the fake API.
var v3Now = time.Unix(1700000000, 0)

// v3Env is a proxy with both upstreams: the fake API 3.0 and an API 2.0
// stand-in that answers every call with the documented 9110 error.
type v3Env struct {
	fake     *fakeapi3.Server
	v2       *httptest.Server
	proxy    *httptest.Server
	log      *logbuf.Buffer
	reg      *prometheus.Registry
	failures *proxy.Failures
}

// newV3Env starts a proxy in the given signing mode, with the client
// token if one is given.
func newV3Env(t *testing.T, mode proxy.SigningMode, token string) *v3Env {
	t.Helper()
	e := &v3Env{
		fake: fakeapi3.New(t, fakeapi3.Config{Keys: map[string]string{v3UpstreamID: v3UpstreamKey},
			Now: func() time.Time { return v3Now }}),
		log:      &logbuf.Buffer{},
		reg:      prometheus.NewRegistry(),
		failures: proxy.NewFailures(100, nil),
	}
	noSuchHost, ok := fakeapi.Lookup(fakeapi.NoSuchHost)
	if !ok {
		t.Fatal("fakeapi has no NoSuchHost scenario")
	}
	e.v2 = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(noSuchHost.Body)
	}))
	t.Cleanup(e.v2.Close)
	v2URL, _ := url.Parse(e.v2.URL)
	v3URL, _ := url.Parse(e.fake.URL)
	p, err := proxy.New(proxy.Config{
		Upstream:   v2URL,
		UpstreamV3: v3URL,
		Signing: proxy.Signing{
			Mode: mode, SecretID: v3UpstreamID, SecretKey: v3UpstreamKey,
			ClientKeys:  map[string]string{v3ClientID: v3ClientKey},
			ClientToken: token,
			Now:         func() time.Time { return v3Now },
		},
		Logger:   slog.New(slog.NewJSONHandler(e.log, &slog.HandlerOptions{Level: slog.LevelDebug})),
		Metrics:  proxy.NewMetrics(e.reg),
		Failures: e.failures,
	})
	if err != nil {
		t.Fatalf("proxy.New: %v", err)
	}
	e.proxy = httptest.NewServer(p)
	t.Cleanup(func() {
		e.proxy.Close() // waits for calls in flight: the log is complete
		logText := e.log.String()
		for _, secret := range []string{v3UpstreamKey, v3ClientKey, v3Token, v3UpstreamID, v3ClientID} {
			if strings.Contains(logText, secret) {
				t.Errorf("the log holds %q", secret)
			}
		}
	})
	return e
}

// host is the proxy's host:port, as clients put it in Host.
func (e *v3Env) host() string { return strings.TrimPrefix(e.proxy.URL, "http://") }

// v3Call describes a TC3 call to the proxy.
type v3Call struct {
	method      string // "" means POST
	contentType string // "" means the SDKs' for the method
	action      string
	query       string // of a GET
	body        string // of a POST
	id, key     string // "" means the client credential
	signedHost  string // "" means the proxy's host:port
	service     string // "" means "cdn"
	ts          time.Time
	headers     []string          // signed headers; nil means content-type;host
	extra       map[string]string // set after signing
}

// request builds the call, signed with signature.TC3Authorization.
func (e *v3Env) request(t *testing.T, c v3Call) *http.Request {
	t.Helper()
	if c.method == "" {
		c.method = http.MethodPost
	}
	if c.id == "" {
		c.id = v3ClientID
	}
	if c.key == "" {
		c.key = v3ClientKey
	}
	if c.signedHost == "" {
		c.signedHost = e.host()
	}
	if c.service == "" {
		c.service = "cdn"
	}
	if c.ts.IsZero() {
		c.ts = v3Now
	}
	if c.headers == nil {
		c.headers = []string{"content-type", "host"}
	}
	u := e.proxy.URL + "/"
	var body io.Reader
	if c.method == http.MethodGet {
		if c.query != "" {
			u += "?" + c.query
		}
	} else {
		body = strings.NewReader(c.body)
	}
	req, err := http.NewRequest(c.method, u, body)
	if err != nil {
		t.Fatal(err)
	}
	switch {
	case c.contentType != "":
		req.Header.Set("Content-Type", c.contentType)
	case c.method == http.MethodGet:
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	default:
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("X-TC-Action", c.action)
	req.Header.Set("X-TC-Version", fakeapi3.Version)
	req.Header.Set("X-TC-Timestamp", strconv.FormatInt(c.ts.Unix(), 10))
	req.Header.Set("X-TC-RequestClient", "cdnproxy-v3-test")
	tr := signature.TC3Request{Method: c.method, SignedHeaders: c.headers, Service: c.service, Timestamp: c.ts.Unix()}
	if c.method == http.MethodGet {
		tr.Query = c.query
	} else {
		tr.Payload = []byte(c.body)
	}
	for _, h := range c.headers {
		v := req.Header.Get(h)
		if h == "host" {
			v = c.signedHost
		}
		tr.Headers = append(tr.Headers, signature.Header{Name: h, Value: v})
	}
	req.Header.Set("Authorization", signature.TC3Authorization(c.id, c.key, tr))
	for k, v := range c.extra {
		if v == "" {
			req.Header.Del(k)
		} else {
			req.Header.Set(k, v)
		}
	}
	return req
}

// v3Error is Response.Error of an answer, each member as raw JSON.
type v3Error map[string]json.RawMessage

// v3Result is an answer from the proxy.
type v3Result struct {
	status    int
	header    http.Header
	raw       string
	requestID string // Response.RequestId
	err       v3Error
	response  map[string]json.RawMessage
}

// do sends a request and decodes the 3.0-shaped answer.
func (e *v3Env) do(t *testing.T, req *http.Request) v3Result {
	t.Helper()
	resp, err := e.proxy.Client().Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	res := v3Result{status: resp.StatusCode, header: resp.Header, raw: string(b)}
	var top map[string]json.RawMessage
	if err := json.Unmarshal(b, &top); err != nil || len(top) != 1 || top["Response"] == nil {
		t.Fatalf("answer is not in the 3.0 shape (status %d): %s", resp.StatusCode, b)
	}
	if err := json.Unmarshal(top["Response"], &res.response); err != nil {
		t.Fatalf("Response is not an object: %s", b)
	}
	_ = json.Unmarshal(res.response["RequestId"], &res.requestID)
	if raw, ok := res.response["Error"]; ok {
		if err := json.Unmarshal(raw, &res.err); err != nil {
			t.Fatalf("Response.Error is not an object: %s", b)
		}
	}
	return res
}

// str returns a member of Response.Error as a string.
func (v v3Error) str(name string) string {
	var s string
	_ = json.Unmarshal(v[name], &s)
	return s
}

// v3WantAnnotation checks Response.Error's Code and annotation against the
// catalogue's entry for code (exact or family), or the unknown annotation
// when the catalogue has none.
func v3WantAnnotation(t *testing.T, res v3Result, code string) {
	t.Helper()
	if res.err == nil {
		t.Fatalf("no Response.Error: %s", res.raw)
	}
	if got := res.err.str("Code"); got != code {
		t.Errorf("Code %q, want %q: %s", got, code, res.raw)
	}
	category, retryable, description := codes.Unknown, false, annotate.UnknownDescription
	if entry, ok := codes.V3(code); ok {
		category, retryable, description = entry.Category, entry.Retryable, entry.Description
	}
	if got := res.err.str("Category"); got != string(category) {
		t.Errorf("Category %q, want %q", got, category)
	}
	var r *bool
	if err := json.Unmarshal(res.err["Retryable"], &r); err != nil || r == nil || *r != retryable {
		t.Errorf("Retryable %s, want %v", res.err["Retryable"], retryable)
	}
	if got := res.err.str("Description"); got != description || got == "" {
		t.Errorf("Description %q, want %q", got, description)
	}
	if res.err.str("Message") == "" {
		t.Errorf("Message missing: %s", res.raw)
	}
}

// v3WantKept checks that an annotated answer is the upstream's body with
// the three annotation members inserted before Response.Error's closing
// brace, every original byte kept.
func v3WantKept(t *testing.T, annotated string, upstream []byte) {
	t.Helper()
	up := string(upstream)
	k := strings.Index(up, `},"RequestId"`)
	if k < 0 {
		t.Fatalf("the upstream body is not the fake's error shape: %s", up)
	}
	if !strings.HasPrefix(annotated, up[:k]+`,"Category":`) || !strings.HasSuffix(annotated, up[k:]) {
		t.Fatalf("the upstream bytes are not kept:\nupstream  %s\nannotated %s", up, annotated)
	}
	inserted := annotated[k+1 : len(annotated)-len(up[k:])]
	var members map[string]json.RawMessage
	// A rate limit or a daily quota also gets RetryAfter.
	err := json.Unmarshal([]byte("{"+inserted+"}"), &members)
	_, hint := members["RetryAfter"]
	if err != nil || len(members) != 3 && !(hint && len(members) == 4) {
		t.Errorf("inserted %q is not the three annotation members (and RetryAfter)", inserted)
	}
}

// v3FailWith returns a JSON body asking the fake for an error.
func v3FailWith(code string) string {
	return `{"Urls":["https://www.example.com/中文.png"],"FailWith":"` + code + `"}`
}

// v3Families returns one code of every family of the TSV: the first
// dotted code of the family, or the family itself when it has none.
func v3Families(t *testing.T) []string {
	t.Helper()
	f, err := os.Open("../codes/testdata/cdn-api-v3-codes.tsv")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	pick := map[string]string{}
	var order []string
	sc := bufio.NewScanner(f)
	for line := 0; sc.Scan(); line++ {
		cols := strings.Split(sc.Text(), "\t")
		if line == 0 {
			if len(cols) < 2 || cols[0] != "code" || cols[1] != "family" {
				t.Fatalf("unexpected TSV header %q", sc.Text())
			}
			continue
		}
		if len(cols) < 2 {
			t.Fatalf("TSV line %d: %q", line+1, sc.Text())
		}
		code, family := cols[0], cols[1]
		cur, seen := pick[family]
		if !seen {
			order = append(order, family)
		}
		if !seen || (cur == family && code != family) {
			pick[family] = code
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if len(order) < 20 {
		t.Fatalf("only %d families in the TSV", len(order))
	}
	out := make([]string, 0, len(order))
	for _, family := range order {
		out = append(out, pick[family])
	}
	return out
}

// TestV3ResignSuccess checks calls a client signs for the proxy (or, as
// the SDKs differ, in their ways) reach the fake API re-signed, and that
// its answers come back byte for byte.
func TestV3ResignSuccess(t *testing.T) {
	e := newV3Env(t, proxy.Resign, "")
	hostNoPort := strings.Split(e.host(), ":")[0]
	tests := []struct {
		name string
		call v3Call
	}{
		{"POST PurgeUrlsCache", v3Call{action: "PurgeUrlsCache", body: `{"Urls":["https://www.example.com/a.png"]}`}},
		{"POST DescribeDomains", v3Call{action: "DescribeDomains", body: `{"Offset":0,"Limit":10}`}},
		{"POST Python-style spacing and escapes", v3Call{action: "PurgeUrlsCache",
			body: `{"Urls": ["https://www.example.com/\u672a\u547d\u540d", "https://例子.cn/a+b c"], "Area": "mainland"}`}},
		{"POST upstream key", v3Call{action: "PurgeUrlsCache", body: `{}`, id: v3UpstreamID, key: v3UpstreamKey}},
		{"POST x-tc-action signed too", v3Call{action: "PurgeUrlsCache", body: `{}`, headers: []string{"content-type", "host", "x-tc-action"}}},
		{"POST content-type with charset", v3Call{action: "PurgeUrlsCache", body: `{}`, contentType: "application/json; charset=utf-8"}},
		{"POST Node SDK: host without port, service 127", v3Call{action: "PurgeUrlsCache", body: `{"Urls":["https://www.example.com/"]}`,
			signedHost: hostNoPort, service: "127"}},
		{"POST signed for the upstream host", v3Call{action: "PurgeUrlsCache", body: `{}`, signedHost: e.fake.Host}},
		{"POST 4 minutes old", v3Call{action: "PurgeUrlsCache", body: `{}`, ts: v3Now.Add(-4 * time.Minute)}},
		{"POST 4 minutes ahead", v3Call{action: "PurgeUrlsCache", body: `{}`, ts: v3Now.Add(4 * time.Minute)}},
		{"GET DescribeDomains", v3Call{method: http.MethodGet, action: "DescribeDomains", query: "Limit=10&Offset=0"}},
		{"GET without query", v3Call{method: http.MethodGet, action: "DescribeDomains"}},
		{"GET Node SDK", v3Call{method: http.MethodGet, action: "DescribeDomains", query: "Filters.0.Name=domain&Filters.0.Value.0=www.example.com",
			signedHost: hostNoPort, service: "127"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			req := e.request(t, tc.call)
			before := e.fake.Requests()
			res := e.do(t, req)
			if e.fake.Requests() != before+1 {
				t.Fatalf("the fake received %d calls, want 1", e.fake.Requests()-before)
			}
			seen, _ := e.fake.Last()
			if res.status != http.StatusOK || res.raw != string(seen.Answer) {
				t.Fatalf("answer %d %s, want the fake's answer byte for byte %s", res.status, res.raw, seen.Answer)
			}
			if !seen.Verified || seen.ErrorCode != "" || seen.Signing != "TC3" || seen.SecretID != v3UpstreamID {
				t.Errorf("the fake saw verified=%v code=%q signing=%q id=%q", seen.Verified, seen.ErrorCode, seen.Signing, seen.SecretID)
			}
			if seen.Host != e.fake.Host || seen.Method != req.Method {
				t.Errorf("the fake saw %s Host %q", seen.Method, seen.Host)
			}
			if string(seen.Body) != tc.call.body && req.Method == http.MethodPost {
				t.Errorf("body %q went upstream, want %q", seen.Body, tc.call.body)
			}
			if req.Method == http.MethodGet && seen.RawQuery != tc.call.query {
				t.Errorf("query %q went upstream, want %q", seen.RawQuery, tc.call.query)
			}
			if got, want := seen.Header.Get("X-TC-Timestamp"), req.Header.Get("X-TC-Timestamp"); got != want {
				t.Errorf("X-TC-Timestamp %q went upstream, want the client's %q", got, want)
			}
			auth, err := signature.ParseTC3Authorization(seen.Header.Get("Authorization"))
			if err != nil || auth.Service != "cdn" || auth.SecretID != v3UpstreamID {
				t.Errorf("upstream Authorization %q: %v", seen.Header.Get("Authorization"), err)
			}
		})
	}
}

// TestV3AnnotatesEveryFamily checks that an error of every family of the
// catalogue's TSV comes back annotated from the catalogue inside
// Response.Error, with every byte of the API's answer kept.
func TestV3AnnotatesEveryFamily(t *testing.T) {
	e := newV3Env(t, proxy.Resign, "")
	type errCase struct {
		code string
		via  string // "body", "header" or "GET"
	}
	var tests []errCase
	for _, code := range v3Families(t) {
		tests = append(tests, errCase{code, "body"})
	}
	tests = append(tests,
		errCase{"LimitExceeded.CdnPurgeUrlExceedDayLimit", "header"},
		errCase{"RequestLimitExceeded.UinLimitExceeded", "GET"},
		// Unknown codes of known families get the family's annotation.
		errCase{"LimitExceeded.CdnFake3BrandNewLimit", "body"},
		errCase{"ResourceInUse.Fake3Busy", "body"},
		errCase{"AuthFailure.Fake3Something", "header"},
		// An unknown family gets the unknown annotation.
		errCase{"Fake3Family.Whatever", "body"},
	)
	for _, tc := range tests {
		t.Run(tc.code+" via "+tc.via, func(t *testing.T) {
			c := v3Call{action: "PurgeUrlsCache", body: v3FailWith(tc.code)}
			switch tc.via {
			case "header":
				c.body, c.extra = `{}`, map[string]string{fakeapi3.ErrorHeader: tc.code}
			case "GET":
				c = v3Call{method: http.MethodGet, action: "DescribeDomains", query: "Limit=1&" + fakeapi3.ErrorParam + "=" + url.QueryEscape(tc.code)}
			}
			res := e.do(t, e.request(t, c))
			seen, _ := e.fake.Last()
			if !seen.Verified || seen.ErrorCode != tc.code {
				t.Fatalf("the fake saw verified=%v and answered %q, want %q", seen.Verified, seen.ErrorCode, tc.code)
			}
			if res.status != http.StatusOK {
				t.Errorf("status %d, want the API's 200", res.status)
			}
			v3WantAnnotation(t, res, tc.code)
			if res.err.str("Message") != fakeapi3.Message(tc.code) || res.requestID != seen.RequestID {
				t.Errorf("Message or RequestId changed: %s", res.raw)
			}
			v3WantKept(t, res.raw, seen.Answer)
			if strings.Contains(tc.code, "Fake3") {
				// Not in the catalogue: the family's entry, if the
				// family is known, answered.
				family, _, _ := strings.Cut(tc.code, ".")
				entry, ok := codes.V3(tc.code)
				if ok != (family != "Fake3Family") || (ok && entry.Code != family) {
					t.Errorf("codes.V3(%s) = %q, %v; want the family entry %s", tc.code, entry.Code, ok, family)
				}
			}
		})
	}
}

// TestV3SignatureV1 checks signature v1 (HmacSHA1 / HmacSHA256) calls to
// API 3.0: signed for the proxy's host and "/", re-signed for the fake,
// and Version required.
func TestV3SignatureV1(t *testing.T) {
	e := newV3Env(t, proxy.Resign, "")
	params := func(sm string) signature.Params {
		p := signature.Params{
			{Name: "Action", Value: "PurgeUrlsCache"},
			{Name: "Nonce", Value: "11886"},
			{Name: "SecretId", Value: v3ClientID},
			{Name: "Timestamp", Value: strconv.FormatInt(v3Now.Unix(), 10)},
			{Name: "Urls.0", Value: "https://www.example.com/a+b c/中文?x=1&y=2"},
			{Name: "Version", Value: fakeapi3.Version},
		}
		if sm != "" {
			p = p.With("SignatureMethod", sm)
		}
		return p
	}
	send := func(t *testing.T, method string, p signature.Params) v3Result {
		t.Helper()
		raw := p.With("Signature", signature.NewKey(v3ClientKey).Sign(method, e.host(), "/", p)).Encode()
		var req *http.Request
		if method == http.MethodGet {
			req, _ = http.NewRequest(method, e.proxy.URL+"/?"+raw, nil)
		} else {
			req, _ = http.NewRequest(method, e.proxy.URL+"/", strings.NewReader(raw))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		}
		return e.do(t, req)
	}
	for _, method := range []string{http.MethodGet, http.MethodPost} {
		for _, sm := range []string{"", signature.HmacSHA1, signature.HmacSHA256} {
			t.Run(method+" "+sm+" success", func(t *testing.T) {
				before := e.fake.Requests()
				res := send(t, method, params(sm))
				seen, _ := e.fake.Last()
				if e.fake.Requests() != before+1 || res.raw != string(seen.Answer) || seen.ErrorCode != "" {
					t.Fatalf("answer %s, the fake answered %s", res.raw, seen.Answer)
				}
				if seen.Signing != "v1" || !seen.Verified || seen.SecretID != v3UpstreamID || seen.Host != e.fake.Host {
					t.Errorf("the fake saw %+v", seen)
				}
			})
			t.Run(method+" "+sm+" upstream error", func(t *testing.T) {
				res := send(t, method, params(sm).With(fakeapi3.ErrorParam, "ResourceNotFound.CdnHostNotExists"))
				seen, _ := e.fake.Last()
				v3WantAnnotation(t, res, "ResourceNotFound.CdnHostNotExists")
				v3WantKept(t, res.raw, seen.Answer)
			})
			t.Run(method+" "+sm+" without Version", func(t *testing.T) {
				before := e.fake.Requests()
				res := send(t, method, slices.DeleteFunc(params(sm), func(p signature.Param) bool { return p.Name == "Version" }))
				if res.status != http.StatusBadRequest {
					t.Errorf("status %d, want 400", res.status)
				}
				v3WantRefusal(t, res, "InvalidParameter")
				if !strings.Contains(res.err.str("Message"), "Version") {
					t.Errorf("the message does not name Version: %s", res.raw)
				}
				if e.fake.Requests() != before {
					t.Errorf("a refused call reached the upstream")
				}
			})
		}
	}
}

// v3WantRefusal checks an answer the proxy gave itself: exactly the 3.0
// shape {"Response":{"Error":{Code,Message,Category,Retryable,Description},
// "RequestId"}}, annotated from the catalogue, RequestId the proxy's
// X-Request-Id.
func v3WantRefusal(t *testing.T, res v3Result, code string) {
	t.Helper()
	v3WantAnnotation(t, res, code)
	if len(res.response) != 2 || len(res.err) != 5 {
		t.Errorf("not exactly the 3.0 members: %s", res.raw)
	}
	if !strings.HasPrefix(res.err.str("Message"), "cdnproxy: ") {
		t.Errorf("Message %q is not the proxy's", res.err.str("Message"))
	}
	if id := res.header.Get("X-Request-Id"); res.requestID == "" || res.requestID != id {
		t.Errorf("RequestId %q, want the X-Request-Id %q", res.requestID, id)
	}
	if ct := res.header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Errorf("Content-Type %q", ct)
	}
}

// TestV3ResignRefuses checks TC3 calls that fail verification: answered by
// the proxy in the 3.0 shape, annotated, and never forwarded.
func TestV3ResignRefuses(t *testing.T) {
	e := newV3Env(t, proxy.Resign, "")
	purge := func(c v3Call) v3Call {
		c.action, c.body = "PurgeUrlsCache", `{"Urls":["https://www.example.com/a.png"]}`
		return c
	}
	tests := []struct {
		name     string
		req      func(t *testing.T) *http.Request
		code     string
		category codes.Category
	}{
		{"tampered body", func(t *testing.T) *http.Request {
			req := e.request(t, purge(v3Call{}))
			tampered := `{"Urls":["https://www.example.com/b.png"]}`
			req.Body, req.ContentLength = io.NopCloser(strings.NewReader(tampered)), int64(len(tampered))
			return req
		}, "AuthFailure.SignatureFailure", codes.AuthenticationFailed},
		{"tampered query", func(t *testing.T) *http.Request {
			req := e.request(t, v3Call{method: http.MethodGet, action: "DescribeDomains", query: "Limit=10"})
			req.URL.RawQuery = "Limit=11"
			return req
		}, "AuthFailure.SignatureFailure", codes.AuthenticationFailed},
		{"tampered signed x-tc-action", func(t *testing.T) *http.Request {
			req := e.request(t, purge(v3Call{headers: []string{"content-type", "host", "x-tc-action"}}))
			req.Header.Set("X-TC-Action", "PurgePathCache")
			return req
		}, "AuthFailure.SignatureFailure", codes.AuthenticationFailed},
		{"wrong key", func(t *testing.T) *http.Request {
			return e.request(t, purge(v3Call{id: v3ClientID, key: "not-the-client-key"}))
		}, "AuthFailure.SignatureFailure", codes.AuthenticationFailed},
		{"client id with upstream key", func(t *testing.T) *http.Request {
			return e.request(t, purge(v3Call{id: v3ClientID, key: v3UpstreamKey}))
		}, "AuthFailure.SignatureFailure", codes.AuthenticationFailed},
		{"unknown SecretId", func(t *testing.T) *http.Request {
			return e.request(t, purge(v3Call{id: "AKIDv3unknown00000000000000000000", key: v3ClientKey}))
		}, "AuthFailure.SignatureFailure", codes.AuthenticationFailed},
		{"signed for another host", func(t *testing.T) *http.Request {
			return e.request(t, purge(v3Call{signedHost: "cdnproxy.example:8080"}))
		}, "AuthFailure.SignatureFailure", codes.AuthenticationFailed},
		{"credential date not the timestamp's", func(t *testing.T) *http.Request {
			req := e.request(t, purge(v3Call{ts: v3Now.Add(-24 * time.Hour)}))
			req.Header.Set("X-TC-Timestamp", strconv.FormatInt(v3Now.Unix(), 10))
			return req
		}, "AuthFailure.SignatureFailure", codes.AuthenticationFailed},
		{"X-TC-Timestamp 6 minutes old", func(t *testing.T) *http.Request {
			return e.request(t, purge(v3Call{ts: v3Now.Add(-6 * time.Minute)}))
		}, "AuthFailure.SignatureExpire", codes.RequestExpired},
		{"X-TC-Timestamp 6 minutes ahead", func(t *testing.T) *http.Request {
			return e.request(t, purge(v3Call{ts: v3Now.Add(6 * time.Minute)}))
		}, "AuthFailure.SignatureExpire", codes.RequestExpired},
		{"X-TC-Timestamp missing", func(t *testing.T) *http.Request {
			return e.request(t, purge(v3Call{extra: map[string]string{"X-TC-Timestamp": ""}}))
		}, "AuthFailure.SignatureFailure", codes.AuthenticationFailed},
		{"malformed Authorization", func(t *testing.T) *http.Request {
			return e.request(t, purge(v3Call{extra: map[string]string{"Authorization": "TC3-HMAC-SHA256 Credential=" + v3ClientID + "/2023-11-14/cdn/tc3_request, Signature=zz"}}))
		}, "AuthFailure.SignatureFailure", codes.AuthenticationFailed},
		{"other algorithm", func(t *testing.T) *http.Request {
			return e.request(t, purge(v3Call{extra: map[string]string{"Authorization": "AWS4-HMAC-SHA256 Credential=x"}}))
		}, "AuthFailure.SignatureFailure", codes.AuthenticationFailed},
		{"no Authorization", func(t *testing.T) *http.Request {
			return e.request(t, purge(v3Call{extra: map[string]string{"Authorization": ""}}))
		}, "AuthFailure.SignatureFailure", codes.AuthenticationFailed},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			before := e.fake.Requests()
			res := e.do(t, tc.req(t))
			if res.status != http.StatusOK {
				t.Errorf("status %d, want 200 as the API answers authentication failures", res.status)
			}
			v3WantRefusal(t, res, tc.code)
			if got := res.err.str("Category"); got != string(tc.category) {
				t.Errorf("Category %q, want %q", got, tc.category)
			}
			if e.fake.Requests() != before {
				t.Errorf("a refused call reached the upstream")
			}
		})
	}
}

// TestV3SignMode checks that Sign mode signs unsigned 3.0 calls (with
// the fake verifying the result) and still verifies signed ones.
func TestV3SignMode(t *testing.T) {
	e := newV3Env(t, proxy.Sign, "")
	unsigned := func(method, action, query, body string) *http.Request {
		u := e.proxy.URL + "/"
		var rd io.Reader
		if method == http.MethodGet {
			u += "?" + query
		} else {
			rd = strings.NewReader(body)
		}
		req, _ := http.NewRequest(method, u, rd)
		if method == http.MethodPost {
			req.Header.Set("Content-Type", "application/json")
		}
		if action != "" {
			req.Header.Set("X-TC-Action", action)
		}
		req.Header.Set("X-TC-Version", fakeapi3.Version)
		return req
	}
	tests := []struct {
		name   string
		req    func() *http.Request
		code   string // "" for success
		status int
	}{
		{"unsigned POST PurgeUrlsCache", func() *http.Request {
			return unsigned(http.MethodPost, "PurgeUrlsCache", "", `{"Urls":["https://www.example.com/中文.png"]}`)
		}, "", http.StatusOK},
		{"unsigned POST with an upstream error", func() *http.Request {
			return unsigned(http.MethodPost, "PurgeUrlsCache", "", v3FailWith("LimitExceeded.CdnPurgeUrlExceedDayLimit"))
		}, "LimitExceeded.CdnPurgeUrlExceedDayLimit", http.StatusOK},
		{"unsigned GET DescribeDomains", func() *http.Request {
			return unsigned(http.MethodGet, "DescribeDomains", "Limit=10&Offset=0", "")
		}, "", http.StatusOK},
		{"signed call still verified", func() *http.Request {
			return e.request(t, v3Call{action: "PurgeUrlsCache", body: `{}`})
		}, "", http.StatusOK},
		{"signed with a wrong key", func() *http.Request {
			return e.request(t, v3Call{action: "PurgeUrlsCache", body: `{}`, key: "wrong"})
		}, "AuthFailure.SignatureFailure", http.StatusOK},
		{"unsigned without X-TC-Action", func() *http.Request {
			return unsigned(http.MethodPost, "", "", `{}`)
		}, "InvalidParameter", http.StatusBadRequest},
		{"unsigned v1-style GET is signed with v1", func() *http.Request {
			req := unsigned(http.MethodGet, "", "Action=DescribeDomains&Version="+fakeapi3.Version+"&Limit=10", "")
			req.Header.Del("X-TC-Version")
			return req
		}, "", http.StatusOK},
		// Without a version the fake answers MissingParameter: success
		// shows the proxy signed the CDN API's version in.
		{"unsigned v1-style GET without Version", func() *http.Request {
			req := unsigned(http.MethodGet, "", "Action=DescribeDomains&Limit=10", "")
			req.Header.Del("X-TC-Version")
			return req
		}, "", http.StatusOK},
		{"unsigned POST without X-TC-Version", func() *http.Request {
			req := unsigned(http.MethodPost, "DescribeDomains", "", `{"Limit":10}`)
			req.Header.Del("X-TC-Version")
			return req
		}, "", http.StatusOK},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			before := e.fake.Requests()
			req := tc.req()
			res := e.do(t, req)
			if res.status != tc.status {
				t.Errorf("status %d, want %d: %s", res.status, tc.status, res.raw)
			}
			forwarded := e.fake.Requests() > before
			seen, _ := e.fake.Last()
			switch {
			case tc.code == "":
				if !forwarded || res.raw != string(seen.Answer) || seen.ErrorCode != "" {
					t.Fatalf("answer %s, want the fake's success", res.raw)
				}
			case tc.status == http.StatusOK && tc.code != "AuthFailure.SignatureFailure":
				if !forwarded {
					t.Fatalf("not forwarded")
				}
				v3WantAnnotation(t, res, tc.code)
				v3WantKept(t, res.raw, seen.Answer)
			default:
				v3WantRefusal(t, res, tc.code)
				if forwarded {
					t.Errorf("a refused call reached the upstream")
				}
				return
			}
			wantSigning := "TC3"
			if strings.HasPrefix(tc.name, "unsigned v1-style") {
				wantSigning = "v1" // signed by the proxy as it came: in the v1 style
			}
			if !seen.Verified || seen.SecretID != v3UpstreamID || seen.Signing != wantSigning {
				t.Errorf("the fake saw verified=%v id=%q signing=%q, want %s", seen.Verified, seen.SecretID, seen.Signing, wantSigning)
			}
			if req.Header.Get("Authorization") == "" && wantSigning == "TC3" {
				if got := seen.Header.Get("X-TC-Timestamp"); got != strconv.FormatInt(v3Now.Unix(), 10) {
					t.Errorf("X-TC-Timestamp %q, want the proxy's clock", got)
				}
			}
		})
	}
}

// TestV3ClientToken checks the client token of 3.0 calls: in the
// X-Cdnproxy-Token header, since Authorization holds the TC3 signature,
// which travels on (re-signed, or untouched in passthrough).
func TestV3ClientToken(t *testing.T) {
	for _, mode := range []proxy.SigningMode{proxy.Resign, proxy.Passthrough} {
		e := newV3Env(t, mode, v3Token)
		call := v3Call{action: "PurgeUrlsCache", body: `{"Urls":["https://www.example.com/a.png"]}`}
		if mode == proxy.Passthrough {
			// A passthrough client signs for the upstream with its key.
			call.id, call.key, call.signedHost = v3UpstreamID, v3UpstreamKey, e.fake.Host
		}
		tests := []struct {
			name  string
			token string // X-Cdnproxy-Token, "" for none
			ok    bool
		}{
			{"missing", "", false},
			{"wrong", "not-the-token", false},
			{"prefix of the token", v3Token[:10], false},
			{"right", v3Token, true},
		}
		for _, tc := range tests {
			t.Run(string(mode)+" "+tc.name, func(t *testing.T) {
				req := e.request(t, call)
				if tc.token != "" {
					req.Header.Set("X-Cdnproxy-Token", tc.token)
				}
				clientAuth := req.Header.Get("Authorization")
				before := e.fake.Requests()
				res := e.do(t, req)
				if !tc.ok {
					if res.status != http.StatusUnauthorized {
						t.Errorf("status %d, want 401", res.status)
					}
					v3WantRefusal(t, res, "AuthFailure.InvalidAuthorization")
					// A TC3 client's Authorization holds its signature: the
					// answer must point it to the header it can use.
					if !strings.Contains(res.err.str("Message"), "X-Cdnproxy-Token") {
						t.Errorf("the refusal does not name X-Cdnproxy-Token: %s", res.raw)
					}
					if e.fake.Requests() != before {
						t.Errorf("a refused call reached the upstream")
					}
					return
				}
				seen, _ := e.fake.Last()
				if e.fake.Requests() != before+1 || res.raw != string(seen.Answer) || seen.ErrorCode != "" {
					t.Fatalf("answer %s, the fake answered %s", res.raw, seen.Answer)
				}
				if got := seen.Header.Values("X-Cdnproxy-Token"); len(got) != 0 {
					t.Errorf("the token reached the upstream")
				}
				upAuth := seen.Header.Get("Authorization")
				if !strings.HasPrefix(upAuth, signature.TC3Algorithm+" ") {
					t.Errorf("the TC3 Authorization did not travel on: %q", upAuth)
				}
				if mode == proxy.Passthrough && upAuth != clientAuth {
					t.Errorf("passthrough changed Authorization:\n%s\n%s", clientAuth, upAuth)
				}
			})
		}
	}
}

// TestV3Passthrough checks that passthrough forwards a 3.0 call's
// signature untouched: one signed for the upstream succeeds, one signed
// for the proxy is refused by the API and that refusal comes back
// annotated.
func TestV3Passthrough(t *testing.T) {
	e := newV3Env(t, proxy.Passthrough, "")
	tests := []struct {
		name string
		call v3Call
		code string
	}{
		{"signed for the upstream", v3Call{action: "PurgeUrlsCache", body: `{}`, id: v3UpstreamID, key: v3UpstreamKey, signedHost: e.fake.Host}, ""},
		{"GET signed for the upstream", v3Call{method: http.MethodGet, action: "DescribeDomains", query: "Limit=1",
			id: v3UpstreamID, key: v3UpstreamKey, signedHost: e.fake.Host}, ""},
		{"signed for the proxy", v3Call{action: "PurgeUrlsCache", body: `{}`, id: v3UpstreamID, key: v3UpstreamKey}, "AuthFailure.SignatureFailure"},
		{"client key", v3Call{action: "PurgeUrlsCache", body: `{}`, signedHost: e.fake.Host}, "AuthFailure.SecretIdNotFound"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			req := e.request(t, tc.call)
			res := e.do(t, req)
			seen, _ := e.fake.Last()
			if got, want := seen.Header.Get("Authorization"), req.Header.Get("Authorization"); got != want {
				t.Errorf("Authorization changed on the way:\n%s\n%s", want, got)
			}
			if seen.ErrorCode != tc.code {
				t.Fatalf("the fake answered %q, want %q", seen.ErrorCode, tc.code)
			}
			if tc.code == "" {
				if res.raw != string(seen.Answer) {
					t.Errorf("answer %s, want %s", res.raw, seen.Answer)
				}
				return
			}
			v3WantAnnotation(t, res, tc.code)
			v3WantKept(t, res.raw, seen.Answer)
		})
	}
}

// v3LogLine returns the log line of the call with the given request id.
func v3LogLine(t *testing.T, logText, requestID string) map[string]any {
	t.Helper()
	for _, line := range strings.Split(strings.TrimSpace(logText), "\n") {
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("log line is not JSON: %q", line)
		}
		if m["requestId"] == requestID {
			return m
		}
	}
	t.Fatalf("no log line for request %s in\n%s", requestID, logText)
	return nil
}

// v3Scrape returns the metric families served by promhttp on reg.
func v3Scrape(t *testing.T, reg *prometheus.Registry) map[string]*dto.MetricFamily {
	t.Helper()
	srv := httptest.NewServer(proxy.Admin(proxy.AdminConfig{Metrics: promhttp.HandlerFor(reg, promhttp.HandlerOpts{})}))
	defer srv.Close()
	req, _ := http.NewRequest(http.MethodGet, srv.URL+"/metrics", nil)
	req.Header.Set("Accept", "text/plain; version=0.0.4")
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	parser := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := parser.TextToMetricFamilies(resp.Body)
	if err != nil {
		t.Fatalf("parsing /metrics: %v", err)
	}
	return fams
}

// v3Value returns the value of the series of a counter family whose
// labels are exactly labels, and whether there is one.
func v3Value(fams map[string]*dto.MetricFamily, name string, labels map[string]string) (float64, bool) {
	f := fams[name]
	if f == nil {
		return 0, false
	}
next:
	for _, m := range f.GetMetric() {
		if len(m.GetLabel()) != len(labels) {
			continue
		}
		for _, l := range m.GetLabel() {
			if labels[l.GetName()] != l.GetValue() {
				continue next
			}
		}
		return m.GetCounter().GetValue(), true
	}
	return 0, false
}

// TestV3Observability checks the log line, the metrics and the failures
// page of 3.0 calls beside a 2.0 call.
func TestV3Observability(t *testing.T) {
	e := newV3Env(t, proxy.Resign, "")
	const failCode = "LimitExceeded.CdnPurgeUrlExceedDayLimit"
	failed := e.do(t, e.request(t, v3Call{action: "PurgeUrlsCache", body: v3FailWith(failCode)}))
	v3WantAnnotation(t, failed, failCode)
	succeeded := e.do(t, e.request(t, v3Call{action: "PurgeUrlsCache", body: `{}`}))
	if succeeded.err != nil {
		t.Fatalf("success expected: %s", succeeded.raw)
	}
	refused := e.do(t, e.request(t, v3Call{action: "DescribeDomains", body: `{}`, key: "wrong"}))
	v3WantRefusal(t, refused, "AuthFailure.SignatureFailure")

	// A failed 2.0 RefreshCdnUrl call, signed for the proxy.
	p := signature.Params{
		{Name: "Action", Value: "RefreshCdnUrl"},
		{Name: "Nonce", Value: "1"},
		{Name: "SecretId", Value: v3ClientID},
		{Name: "Timestamp", Value: strconv.FormatInt(v3Now.Unix(), 10)},
		{Name: "urls.0", Value: "https://www.example.com/a.png"},
	}
	raw := p.With("Signature", signature.NewKey(v3ClientKey).Sign("GET", e.host(), "/v2/index.php", p)).Encode()
	resp, err := e.proxy.Client().Get(e.proxy.URL + "/v2/index.php?" + raw)
	if err != nil {
		t.Fatal(err)
	}
	v2Body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	v2ID := resp.Header.Get("X-Request-Id")
	if !strings.Contains(string(v2Body), `"category"`) {
		t.Fatalf("2.0 error not annotated: %s", v2Body)
	}
	e.proxy.Close() // the log is complete

	t.Run("log", func(t *testing.T) {
		logText := e.log.String()
		tests := []struct {
			name      string
			requestID string
			want      map[string]any
			absent    []string
		}{
			{"failed 3.0 call", failed.header.Get("X-Request-Id"), map[string]any{
				"msg": "call failed", "level": "WARN", "api": "3.0", "action": "PurgeUrlsCache", "outcome": "api_error",
				"code": failCode, "upstreamRequestId": failed.requestID, "category": string(codes.QuotaExceeded),
				"retryable": false, "message": fakeapi3.Message(failCode),
			}, []string{"successor", "moduleCode"}},
			{"refused 3.0 call", refused.header.Get("X-Request-Id"), map[string]any{
				"msg": "call failed", "api": "3.0", "action": "DescribeDomains", "outcome": "refused",
				"code": "AuthFailure.SignatureFailure", "category": string(codes.AuthenticationFailed),
			}, []string{"successor", "upstreamRequestId"}},
			{"successful 3.0 call", succeeded.header.Get("X-Request-Id"), map[string]any{
				"msg": "call", "api": "3.0", "action": "PurgeUrlsCache", "outcome": "success", "upstreamRequestId": succeeded.requestID,
			}, []string{"successor", "code"}},
			{"failed 2.0 call", v2ID, map[string]any{
				"msg": "call failed", "api": "2.0", "action": "RefreshCdnUrl", "successor": "PurgeUrlsCache",
				"outcome": "api_error", "code": "4000", "moduleCode": float64(9110),
			}, []string{"upstreamRequestId"}},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				line := v3LogLine(t, logText, tc.requestID)
				for k, v := range tc.want {
					if line[k] != v {
						t.Errorf("%s = %#v, want %#v", k, line[k], v)
					}
				}
				for _, k := range tc.absent {
					if _, ok := line[k]; ok {
						t.Errorf("%s present: %v", k, line[k])
					}
				}
			})
		}
	})

	t.Run("metrics", func(t *testing.T) {
		fams := v3Scrape(t, e.reg)
		tests := []struct {
			name   string
			family string
			labels map[string]string
			want   float64
		}{
			{"3.0 api_error", "cdnproxy_calls_total", map[string]string{"action": "PurgeUrlsCache", "outcome": "api_error",
				"category": string(codes.QuotaExceeded), "retryable": "false"}, 1},
			{"3.0 success", "cdnproxy_calls_total", map[string]string{"action": "PurgeUrlsCache", "outcome": "success",
				"category": "none", "retryable": "false"}, 1},
			{"3.0 refused", "cdnproxy_calls_total", map[string]string{"action": "DescribeDomains", "outcome": "refused",
				"category": string(codes.AuthenticationFailed), "retryable": "false"}, 1},
			{"2.0 migration", "cdnproxy_v2_calls_total", map[string]string{"action": "RefreshCdnUrl", "successor": "PurgeUrlsCache"}, 1},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				got, ok := v3Value(fams, tc.family, tc.labels)
				if !ok || got != tc.want {
					t.Errorf("%s%v = %v (present %v), want %v", tc.family, tc.labels, got, ok, tc.want)
				}
			})
		}
		if f := fams["cdnproxy_v2_calls_total"]; f == nil || len(f.GetMetric()) != 1 {
			t.Errorf("cdnproxy_v2_calls_total should count the one 2.0 call only: %v", f)
		}
	})

	t.Run("failures page", func(t *testing.T) {
		srv := httptest.NewServer(proxy.Admin(proxy.AdminConfig{Failures: e.failures}))
		defer srv.Close()
		resp, err := srv.Client().Get(srv.URL + "/failures.json")
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var page struct {
			Recent []map[string]any `json:"recent"`
		}
		if err := json.NewDecoder(resp.Body).Decode(&page); err != nil {
			t.Fatal(err)
		}
		byID := map[string]map[string]any{}
		for _, f := range page.Recent {
			id, _ := f["requestId"].(string)
			byID[id] = f
		}
		tests := []struct {
			name string
			id   string
			want map[string]any
		}{
			{"3.0 api_error", failed.header.Get("X-Request-Id"), map[string]any{"api": "3.0", "code": failCode,
				"upstreamRequestId": failed.requestID, "action": "PurgeUrlsCache", "category": string(codes.QuotaExceeded), "outcome": "api_error"}},
			{"3.0 refused", refused.header.Get("X-Request-Id"), map[string]any{"api": "3.0", "code": "AuthFailure.SignatureFailure", "outcome": "refused"}},
			{"2.0 api_error", v2ID, map[string]any{"api": "2.0", "successor": "PurgeUrlsCache", "action": "RefreshCdnUrl"}},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				f, ok := byID[tc.id]
				if !ok {
					t.Fatalf("no entry for %s among %d", tc.id, len(page.Recent))
				}
				for k, v := range tc.want {
					if f[k] != v {
						t.Errorf("%s = %#v, want %#v", k, f[k], v)
					}
				}
			})
		}
		if len(page.Recent) != 3 {
			t.Errorf("%d failures recorded, want 3 (the success is not one)", len(page.Recent))
		}
	})
}
