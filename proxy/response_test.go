package proxy_test

import (
	"bytes"
	"compress/gzip"
	"compress/zlib"
	"crypto/sha256"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/cdnproxy/cdnproxy/internal/fakeapi"
	"github.com/cdnproxy/cdnproxy/proxy"
)

// TestAnnotatedErrors checks every error scenario: status 200 as the API
// sent it, the upstream's bytes kept, and the right annotation added after
// them.
func TestAnnotatedErrors(t *testing.T) {
	tests := []struct {
		action     string
		category   string
		retryable  bool
		moduleCode int // 0: none expected
		golden     bool
	}{
		{fakeapi.NoSuchHost, "not_found", false, 9110, true},
		{fakeapi.NoSuchHostNumeric, "not_found", false, 9110, false},
		{fakeapi.HostInProgress, "invalid_state", true, 9175, true},
		{fakeapi.HostOnline, "invalid_state", false, 9177, false},
		{fakeapi.NoICP, "compliance", false, 20004, false},
		{fakeapi.DNSPodError, "internal_error", true, 22200, false},
		{fakeapi.AuthFailure, "authentication_failed", false, 0, true},
		{fakeapi.ProjectID, "operation_failed", true, 100004, true},
		{fakeapi.NotDeployed, "invalid_parameter", false, 1012, true},
		{fakeapi.StringCode, "not_found", false, 9110, true},
	}
	r := newRig(t, proxy.Config{})
	for _, tt := range tests {
		sc, ok := fakeapi.Lookup(tt.action)
		if !ok {
			t.Fatalf("no scenario %s", tt.action)
		}
		// PHP's default Content-Type is text/html; the API's is undocumented.
		for _, ct := range []string{"", "text/html; charset=UTF-8"} {
			name := tt.action
			if ct != "" {
				name += "/text/html"
			}
			t.Run(name, func(t *testing.T) {
				q := "Action=" + tt.action
				if ct != "" {
					q += "&ct=" + strings.ReplaceAll(ct, " ", "%20")
				}
				resp, body := r.get(t, q)
				if got, want := resp.StatusCode, 200; got != want {
					t.Errorf("status = %d, want %d", got, want)
				}
				if got, want := resp.Header.Get("Content-Length"), strconv.Itoa(len(body)); got != want {
					t.Errorf("Content-Length = %q, want %q", got, want)
				}
				if got := resp.Header.Get("Content-Encoding"); got != "" {
					t.Errorf("Content-Encoding = %q, want none", got)
				}
				added := addedMembers(t, body, sc.Body)
				var a struct {
					Category    string
					Retryable   *bool
					Description string
					ModuleCode  *int
				}
				if err := json.Unmarshal(body, &a); err != nil {
					t.Fatalf("annotated body is not JSON: %v: %s", err, body)
				}
				if got, want := a.Category, tt.category; got != want {
					t.Errorf("category = %q, want %q", got, want)
				}
				if a.Retryable == nil || *a.Retryable != tt.retryable {
					t.Errorf("retryable = %s, want %v", added["retryable"], tt.retryable)
				}
				if a.Description == "" {
					t.Errorf("no description")
				}
				switch {
				case tt.moduleCode == 0 && a.ModuleCode != nil:
					t.Errorf("moduleCode = %d, want none", *a.ModuleCode)
				case tt.moduleCode != 0 && (a.ModuleCode == nil || *a.ModuleCode != tt.moduleCode):
					t.Errorf("moduleCode = %s, want %d", added["moduleCode"], tt.moduleCode)
				}
				if tt.golden && ct == "" {
					checkGolden(t, tt.action, body)
				}
			})
		}
	}
}

// addedMembers checks that got is want with members added at the end of
// the top-level object and nothing else changed, and returns those
// members, which must be annotation members.
func addedMembers(t *testing.T, got, want []byte) map[string]json.RawMessage {
	t.Helper()
	end := bytes.LastIndexByte(want, '}')
	head, tail := want[:end], want[end:]
	if !bytes.HasPrefix(got, head) || !bytes.HasSuffix(got, tail) || len(got) < len(want)+2 {
		t.Fatalf("body is not the upstream's with members added:\n got %s\nwant %s + members", got, head)
	}
	members := got[len(head) : len(got)-len(tail)]
	if members[0] != ',' {
		t.Fatalf("added members %q do not start with a comma", members)
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(append(append([]byte("{"), members[1:]...), '}'), &m); err != nil {
		t.Fatalf("added members %q are not JSON members: %v", members, err)
	}
	for k := range m {
		if !slices.Contains([]string{"category", "retryable", "description", "moduleCode"}, k) {
			t.Errorf("added member %q is not an annotation member", k)
		}
	}
	return m
}

// checkGolden compares got with testdata/golden/name.json, or writes it
// there with -update.
func checkGolden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", "golden", name+".json")
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("body differs from %s:\n got %s\nwant %s", path, got, want)
	}
}

// TestPassThrough checks that what is not an API error reaches the client
// exactly as the upstream sent it.
func TestPassThrough(t *testing.T) {
	r := newRig(t, proxy.Config{})
	for _, sc := range fakeapi.Fixed() {
		if _, err := decodeCode(sc.Body); err == nil {
			continue // an API error: annotated
		}
		t.Run(sc.Action, func(t *testing.T) {
			resp, body := r.get(t, "Action="+sc.Action)
			if got, want := resp.StatusCode, sc.Status; got != want {
				t.Errorf("status = %d, want %d", got, want)
			}
			if !bytes.Equal(body, sc.Body) {
				t.Errorf("body = %q, want %q", body, sc.Body)
			}
			if got, want := resp.Header.Get("Content-Type"), sc.ContentType; got != want {
				t.Errorf("Content-Type = %q, want %q", got, want)
			}
			if resp.ContentLength >= 0 && resp.ContentLength != int64(len(body)) {
				t.Errorf("Content-Length = %d, body has %d bytes", resp.ContentLength, len(body))
			}
			if resp.Header.Get("X-Request-Id") == "" {
				t.Errorf("no X-Request-Id")
			}
		})
	}
}

// decodeCode returns a body's non-zero integer code, as the API writes it
// (a number or a string); an error for anything else.
func decodeCode(body []byte) (int, error) {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(body, &m); err != nil {
		return 0, err
	}
	raw, ok := m["code"]
	if !ok {
		return 0, strconv.ErrSyntax
	}
	var s string
	if json.Unmarshal(raw, &s) != nil {
		s = string(raw)
	}
	n, err := strconv.Atoi(s)
	if err == nil && n == 0 {
		err = strconv.ErrRange
	}
	return n, err
}

// TestGzip checks compression in both directions.
func TestGzip(t *testing.T) {
	r := newRig(t, proxy.Config{})
	type want struct {
		status int
		body   []byte
	}
	// What a client that does not ask for compression gets: the reference.
	plain := map[string]want{}
	for _, sc := range fakeapi.Fixed() {
		resp, body := r.get(t, "Action="+sc.Action)
		if got := resp.Header.Get("Content-Encoding"); got != "" {
			t.Errorf("%s without Accept-Encoding: Content-Encoding = %q, want none", sc.Action, got)
		}
		plain[sc.Action] = want{resp.StatusCode, body}
	}
	for _, sc := range fakeapi.Fixed() {
		for _, ae := range []string{"gzip", "gzip, deflate, br", "br;q=1.0, gzip;q=0.8", "identity", "br", "gzip;q=0"} {
			t.Run(sc.Action+"/"+ae, func(t *testing.T) {
				resp, body := r.get(t, "Action="+sc.Action, "Accept-Encoding", ae)
				w := plain[sc.Action]
				if got, want := resp.StatusCode, w.status; got != want {
					t.Errorf("status = %d, want %d", got, want)
				}
				if resp.ContentLength >= 0 && resp.ContentLength != int64(len(body)) {
					t.Errorf("Content-Length = %d, body has %d bytes", resp.ContentLength, len(body))
				}
				_, apiErr := decodeCode(sc.Body)
				switch ce := resp.Header.Get("Content-Encoding"); {
				case apiErr == nil && ce != "":
					t.Errorf("annotated error: Content-Encoding = %q, want the body sent decoded", ce)
				case ce == "gzip":
					body = gunzip(t, body)
				case ce != "":
					t.Fatalf("Content-Encoding = %q", ce)
				}
				if !bytes.Equal(body, w.body) {
					t.Errorf("body = %q, want %q", body, w.body)
				}
			})
		}
	}
	t.Run("wrong Content-Encoding", func(t *testing.T) {
		sc, _ := fakeapi.Lookup(fakeapi.NoSuchHost)
		resp, body := r.get(t, "Action="+fakeapi.WrongEncoding, "Accept-Encoding", "gzip")
		if got, want := resp.StatusCode, 200; got != want {
			t.Errorf("status = %d, want %d", got, want)
		}
		if got, want := resp.Header.Get("Content-Encoding"), "gzip"; got != want {
			t.Errorf("Content-Encoding = %q, want %q", got, want)
		}
		if !bytes.Equal(body, sc.Body) {
			t.Errorf("body = %q, want %q", body, sc.Body)
		}
	})
	t.Run("wrong Content-Encoding, not asked for", func(t *testing.T) {
		// The proxy asked for no encoding (identity), so the transport
		// decodes nothing: what the upstream sent goes on as it came.
		sc, _ := fakeapi.Lookup(fakeapi.NoSuchHost)
		resp, body := r.get(t, "Action="+fakeapi.WrongEncoding)
		if got, want := resp.Header.Get("Content-Encoding"), "gzip"; got != want {
			t.Errorf("Content-Encoding = %q, want %q", got, want)
		}
		if got, want := resp.StatusCode, http.StatusOK; got != want {
			t.Errorf("status = %d, want %d", got, want)
		}
		if !bytes.Equal(body, sc.Body) {
			t.Errorf("body = %q, want %q", body, sc.Body)
		}
	})
}

func gunzip(t *testing.T, b []byte) []byte {
	t.Helper()
	zr, err := gzip.NewReader(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("gzip: %v", err)
	}
	out, err := io.ReadAll(zr)
	if err != nil {
		t.Fatalf("gzip: %v", err)
	}
	return out
}

// TestHugeBodies streams bodies larger than anything the proxy holds.
func TestHugeBodies(t *testing.T) {
	tests := []struct {
		name      string
		action    string
		size      int64
		gzip      bool
		maxBody   int64
		annotated bool
	}{
		{"20 MB success", fakeapi.HugeSuccess, 20 << 20, false, 0, false},
		{"20 MB success, gzip", fakeapi.HugeSuccess, 20 << 20, true, 0, false},
		{"error over MaxBodyBytes", fakeapi.HugeError, 0, false, 0, false},
		{"error over MaxBodyBytes, gzip", fakeapi.HugeError, 0, true, 0, false},
		{"error just over MaxBodyBytes", fakeapi.HugeError, 1<<20 + 1, false, 0, false},
		{"error at MaxBodyBytes", fakeapi.HugeError, 1 << 20, false, 0, true},
		{"error within a larger MaxBodyBytes", fakeapi.HugeError, 0, true, 4 << 20, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newRig(t, proxy.Config{MaxBodyBytes: tt.maxBody})
			req, _ := http.NewRequest(http.MethodGet, r.apiURL("Action="+tt.action+"&size="+strconv.FormatInt(tt.size, 10)), nil)
			if tt.gzip {
				req.Header.Set("Accept-Encoding", "gzip")
			}
			resp, err := rawClient(t).Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			if got, want := resp.StatusCode, 200; got != want {
				t.Errorf("status = %d, want %d", got, want)
			}
			var body io.Reader = resp.Body
			if resp.Header.Get("Content-Encoding") == "gzip" {
				zr, err := gzip.NewReader(body)
				if err != nil {
					t.Fatal(err)
				}
				body = zr
			}
			gen, n := fakeapi.Generated(tt.action, tt.size)
			if tt.annotated {
				b, err := io.ReadAll(body)
				if err != nil {
					t.Fatal(err)
				}
				want, _ := io.ReadAll(gen)
				addedMembers(t, b, want)
				if got, want := resp.ContentLength, int64(len(b)); got != want {
					t.Errorf("Content-Length = %d, body has %d bytes", got, want)
				}
				return
			}
			got, gotN := sha256.New(), int64(0)
			gotN, err = io.Copy(got, body)
			if err != nil {
				t.Fatalf("after %d bytes: %v", gotN, err)
			}
			want := sha256.New()
			io.Copy(want, gen)
			if gotN != n || !bytes.Equal(got.Sum(nil), want.Sum(nil)) {
				t.Errorf("got %d bytes, want the %d generated, unchanged", gotN, n)
			}
		})
	}
}

// TestNoBody checks answers that have no body.
func TestNoBody(t *testing.T) {
	r := newRig(t, proxy.Config{})
	tests := []struct {
		name, method, query string
		wantStatus          int
	}{
		{"204", http.MethodGet, "Action=" + fakeapi.NoContent, http.StatusNoContent},
		{"HEAD is refused", http.MethodHead, "Action=" + fakeapi.RefreshCdnUrl, http.StatusMethodNotAllowed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, _ := http.NewRequest(tt.method, r.apiURL(tt.query), nil)
			resp, body := do(t, req)
			if got, want := resp.StatusCode, tt.wantStatus; got != want {
				t.Errorf("status = %d, want %d", got, want)
			}
			if len(body) != 0 {
				t.Errorf("body = %q, want none", body)
			}
		})
	}
}

// TestSlowBody feeds bodies to the proxy one byte at a time.
func TestSlowBody(t *testing.T) {
	tests := []struct {
		name, of   string
		interval   string
		timeout    time.Duration
		wantStatus int
	}{
		{"error", fakeapi.NoSuchHost, "100us", 0, 200},
		{"success", fakeapi.RefreshCdnUrl, "100us", 0, 200},
		{"HTML", fakeapi.BadGateway, "100us", 0, 502},
		// The deadline covers an error body until it is whole...
		{"error slower than Timeout", fakeapi.NoSuchHost, "10ms", 200 * time.Millisecond, 504},
		// ...but a success body only until its code is known.
		{"success slower than Timeout", fakeapi.RefreshCdnUrl, "10ms", 500 * time.Millisecond, 200},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newRig(t, proxy.Config{Timeout: tt.timeout})
			resp, body := r.get(t, "Action="+fakeapi.SlowBody+"&of="+tt.of+"&interval="+tt.interval)
			if got, want := resp.StatusCode, tt.wantStatus; got != want {
				t.Fatalf("status = %d, want %d: %s", got, want, body)
			}
			sc, _ := fakeapi.Lookup(tt.of)
			switch {
			case tt.wantStatus == 504:
				if got, want := proxyError(t, resp, body).Category, "upstream_unreachable"; got != want {
					t.Errorf("category = %q, want %q", got, want)
				}
			case tt.of == fakeapi.NoSuchHost:
				addedMembers(t, body, sc.Body)
			default:
				if !bytes.Equal(body, sc.Body) {
					t.Errorf("body = %q, want %q", body, sc.Body)
				}
			}
		})
	}
}

// FuzzResponse sends arbitrary upstream answers through the real proxy.
// Whatever the body, the status is kept; a body that is not a JSON object
// with a non-zero integer code reaches the client byte for byte; one that
// is arrives byte for byte or annotated: the upstream's (decoded) bytes
// with members added, valid JSON, decoded, with a correct Content-Length.
func FuzzResponse(f *testing.F) {
	for _, sc := range fakeapi.Fixed() {
		f.Add(sc.Body, sc.ContentType, "", uint8(0), uint8(0))
		if sc.JSON() {
			f.Add(sc.Body, sc.ContentType, "gzip", uint8(1), uint8(1))
			f.Add(sc.Body, "", "deflate", uint8(2), uint8(2))
			f.Add(sc.Body, "text/html; charset=UTF-8", "gzip", uint8(0), uint8(3))
		}
	}
	f.Add([]byte(`{"code":4000,"category":"x","retryable":true,"description":"d","moduleCode":1}`), "application/json", "", uint8(0), uint8(0))
	f.Add([]byte(`{"code":4000,"code":0}`), "application/json", "x-gzip", uint8(1), uint8(4))
	f.Add([]byte(` {"code":-9009,"message":"(-9009)x"} `), "text/plain", "GZIP", uint8(1), uint8(5))
	f.Add([]byte(`[{"code":4000}]`), "application/json", "br", uint8(0), uint8(0))
	f.Add([]byte(`{"Response":{"Error":{"Code":"LimitExceeded.CdnPurgeUrlExceedDayLimit","Message":"m"},"RequestId":"r"}}`), "application/json", "", uint8(0), uint8(0))

	statuses := []int{200, 200, 400, 403, 404, 500, 502, 503}
	upstream := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		h := w.Header()
		h["Content-Type"] = nil // no sniffing
		if ct := r.Header.Get("X-Echo-Content-Type"); ct != "" {
			h.Set("Content-Type", ct)
		}
		if ce := r.Header.Get("X-Echo-Content-Encoding"); ce != "" {
			h.Set("Content-Encoding", ce)
		}
		status, _ := strconv.Atoi(r.Header.Get("X-Echo-Status"))
		w.WriteHeader(status)
		_, _ = w.Write(body)
	}))
	f.Cleanup(upstream.Close)
	p, err := proxy.New(proxy.Config{Upstream: mustURL(f, upstream.URL)})
	if err != nil {
		f.Fatal(err)
	}
	front := httptest.NewServer(p)
	f.Cleanup(front.Close)
	client := rawClient(f)
	client.Timeout = 10 * time.Second // a hang is a failure, not a stall

	f.Fuzz(func(t *testing.T, body []byte, contentType, encoding string, compress, statusIndex uint8) {
		if !headerSafe(contentType) || !headerSafe(encoding) || len(body) > 64<<10 {
			return // not a header value an upstream could send, or too large to be quick: nothing to check
		}
		wire := compressed(t, body, compress%3)
		status := statuses[int(statusIndex)%len(statuses)]
		req, _ := http.NewRequest(http.MethodPost, front.URL+"/v2/index.php", bytes.NewReader(wire))
		req.Header.Set("Content-Type", "application/octet-stream")
		req.Header.Set("Accept-Encoding", "gzip, deflate")
		req.Header.Set("X-Echo-Status", strconv.Itoa(status))
		req.Header.Set("X-Echo-Content-Type", contentType)
		req.Header.Set("X-Echo-Content-Encoding", encoding)
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		got, err := io.ReadAll(resp.Body)
		if err != nil {
			t.Fatal(err)
		}
		if resp.StatusCode != status {
			t.Fatalf("status = %d, want %d; body %q", resp.StatusCode, status, got)
		}
		if resp.ContentLength >= 0 && resp.ContentLength != int64(len(got)) {
			t.Errorf("Content-Length = %d, body has %d bytes", resp.ContentLength, len(got))
		}
		if bytes.Equal(got, wire) {
			return
		}
		decoded, ok := decodeAs(wire, encoding)
		if !ok {
			t.Fatalf("a body the proxy cannot have decoded was changed:\n got %q\nwant %q", got, wire)
		}
		_, err = decodeCode(decoded)
		if err != nil && !isV3Error(decoded) {
			t.Fatalf("a body without a non-zero integer code was changed:\n got %q\nwant %q", got, decoded)
		}
		if !json.Valid(got) {
			t.Fatalf("annotated body is not valid JSON: %q", got)
		}
		if ce := resp.Header.Get("Content-Encoding"); ce != "" {
			t.Errorf("annotated body with Content-Encoding %q", ce)
		}
		if !keepsV2(got, decoded) && !keepsV3(got, decoded) {
			t.Fatalf("annotated body does not keep the upstream's bytes:\n got %q\nwant %q", got, decoded)
		}
	})
}

// keepsV2 reports whether got is upstream with members added at the end of
// the top-level object, as API 2.0 bodies are annotated.
func keepsV2(got, upstream []byte) bool {
	end := bytes.LastIndexByte(upstream, '}')
	return end >= 0 && bytes.HasPrefix(got, upstream[:end]) && bytes.HasSuffix(got, upstream[end:])
}

// isV3Error reports whether body is an API 3.0 error, which annotate also
// handles: {"Response": {"Error": {...}, ...}}.
func isV3Error(body []byte) bool {
	var v struct {
		Response struct{ Error map[string]json.RawMessage }
	}
	return json.Unmarshal(body, &v) == nil && v.Response.Error != nil
}

// keepsV3 reports whether got, with the members annotate adds to an API
// 3.0 Response.Error removed, means the same as upstream.
func keepsV3(got, upstream []byte) bool {
	var g, u map[string]any
	if json.Unmarshal(got, &g) != nil || json.Unmarshal(upstream, &u) != nil {
		return false
	}
	gr, _ := g["Response"].(map[string]any)
	ge, _ := gr["Error"].(map[string]any)
	ur, _ := u["Response"].(map[string]any)
	ue, _ := ur["Error"].(map[string]any)
	if ge == nil || ue == nil {
		return false
	}
	for _, k := range []string{"Category", "Retryable", "Description", "RetryAfter"} {
		if _, had := ue[k]; !had {
			delete(ge, k)
		}
	}
	return reflect.DeepEqual(g, u)
}

// headerSafe reports whether s can be sent as a header value unchanged.
func headerSafe(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 0x20 || s[i] > 0x7e {
			return false
		}
	}
	return s == strings.TrimSpace(s)
}

// compressed returns body as is (how 0), gzip-compressed (1) or
// zlib-compressed (2).
func compressed(tb testing.TB, body []byte, how uint8) []byte {
	tb.Helper()
	var buf bytes.Buffer
	var w io.WriteCloser
	switch how {
	case 1:
		w = gzip.NewWriter(&buf)
	case 2:
		w = zlib.NewWriter(&buf)
	default:
		return body
	}
	if _, err := w.Write(body); err != nil {
		tb.Fatal(err)
	}
	if err := w.Close(); err != nil {
		tb.Fatal(err)
	}
	return buf.Bytes()
}

// decodeAs decodes wire per a Content-Encoding, as a client would: false
// when the encoding is unknown or the bytes do not decode.
func decodeAs(wire []byte, encoding string) ([]byte, bool) {
	var r io.Reader
	var err error
	switch strings.ToLower(encoding) {
	case "", "identity":
		return wire, true
	case "gzip", "x-gzip":
		r, err = gzip.NewReader(bytes.NewReader(wire))
	case "deflate":
		r, err = zlib.NewReader(bytes.NewReader(wire))
	default:
		return nil, false
	}
	if err != nil {
		return nil, false
	}
	out, err := io.ReadAll(r)
	return out, err == nil
}

// TestHeadersAsPlain checks that the client gets the upstream's header
// fields and trailers as a plain httputil.ReverseProxy delivers them:
// repeated fields in order, hop-by-hop ones removed, trailers announced
// and sent; cdnproxy only adds X-Request-Id and, on an annotated body,
// changes Content-Length.
func TestHeadersAsPlain(t *testing.T) {
	bodies := map[string]string{
		"success": `{"code":0,"message":"","codeDesc":"Success","data":{}}`,
		"error":   `{"code":4000,"message":"(9110)no such host","codeDesc":"9110"}`,
		"large":   `{"code":0,"data":"` + strings.Repeat("x", 100<<10) + `"}`,
	}
	upstream := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h["Set-Cookie"] = []string{"a=1", "b=2"}
		h["Vary"] = []string{"Accept-Encoding", "Origin"}
		h.Set("Cache-Control", "no-store")
		h.Set("X-Upstream", "yes")
		h.Set("Connection", "X-Hop")
		h.Set("X-Hop", "dropped")
		h.Set("Content-Type", "application/json; charset=utf-8")
		action := r.URL.Query().Get("Action")
		switch action {
		case "none":
			w.WriteHeader(http.StatusNoContent)
			return
		case "trailer":
			h.Set("Trailer", "X-Checksum")
			io.WriteString(w, bodies["success"])
			h.Set("X-Checksum", "abc")
			return
		}
		io.WriteString(w, bodies[action])
	}))
	defer upstream.Close()
	u := mustURL(t, upstream.URL)
	p, err := proxy.New(proxy.Config{Upstream: u})
	if err != nil {
		t.Fatal(err)
	}
	cdn := httptest.NewServer(p)
	defer cdn.Close()
	plain := httptest.NewServer(&httputil.ReverseProxy{Rewrite: func(pr *httputil.ProxyRequest) { pr.SetURL(u) }})
	defer plain.Close()

	get := func(base, action string) (*http.Response, []byte) {
		t.Helper()
		req, err := http.NewRequest(http.MethodGet, base+"/v2/index.php?Action="+action, nil)
		if err != nil {
			t.Fatal(err)
		}
		return do(t, req)
	}
	for _, action := range []string{"success", "error", "large", "none", "trailer"} {
		t.Run(action, func(t *testing.T) {
			want, wantBody := get(plain.URL, action)
			got, gotBody := get(cdn.URL, action)
			if got.Header.Get("X-Request-Id") == "" {
				t.Error("no X-Request-Id")
			}
			for _, h := range []http.Header{want.Header, got.Header} {
				delete(h, "Date")
				delete(h, "X-Request-Id")
			}
			if action == "error" {
				if len(gotBody) <= len(wantBody) || got.Header.Get("Content-Length") != strconv.Itoa(len(gotBody)) {
					t.Errorf("annotated body of %d bytes, Content-Length %q", len(gotBody), got.Header.Get("Content-Length"))
				}
				delete(want.Header, "Content-Length")
				delete(got.Header, "Content-Length")
			}
			if !reflect.DeepEqual(got.Header, want.Header) {
				t.Errorf("header:\n got %v\nwant %v", got.Header, want.Header)
			}
			if !reflect.DeepEqual(got.Trailer, want.Trailer) {
				t.Errorf("trailer: got %v, want %v", got.Trailer, want.Trailer)
			}
			if action == "trailer" && got.Trailer.Get("X-Checksum") != "abc" {
				t.Errorf("trailer X-Checksum = %q, want abc", got.Trailer.Get("X-Checksum"))
			}
		})
	}
}

// TestEventStreamFlushed checks that an event stream reaches the client
// event by event, as a plain ReverseProxy delivers it, even with a
// Content-Length: the upstream sends the rest only once the client has
// the first event.
func TestEventStreamFlushed(t *testing.T) {
	const first = "data: first\n\n"
	rest := strings.Repeat("x", 8<<10-len(first))
	next := make(chan struct{})
	upstream := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		w.Header().Set("Content-Length", strconv.Itoa(len(first)+len(rest)))
		io.WriteString(w, first)
		http.NewResponseController(w).Flush()
		select {
		case <-next:
			io.WriteString(w, rest)
		case <-r.Context().Done():
		}
	}))
	defer upstream.Close()
	defer close(next)
	r := newRig(t, proxy.Config{Upstream: mustURL(t, upstream.URL)})
	resp, err := rawClient(t).Get(r.apiURL("Action=Events"))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	got := make(chan string, 1)
	go func() {
		buf := make([]byte, len(first))
		n, _ := io.ReadFull(resp.Body, buf)
		got <- string(buf[:n])
	}()
	select {
	case s := <-got:
		if s != first {
			t.Fatalf("first event = %q, want %q", s, first)
		}
	case <-time.After(10 * time.Second): // a deadlock guard, not a measurement
		t.Fatal("the first event did not reach the client: the proxy holds it back")
	}
	next <- struct{}{}
	body, err := io.ReadAll(resp.Body)
	if err != nil || string(body) != rest {
		t.Errorf("rest of the stream: %d bytes, %v; want %d bytes", len(body), err, len(rest))
	}
}
