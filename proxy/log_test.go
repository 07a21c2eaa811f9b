package proxy

import (
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode"

	"github.com/cdnproxy/cdnproxy/internal/logbuf"
	"github.com/cdnproxy/cdnproxy/proxy/signature"
)

// obsFormats are the two log formats cdnproxy offers (CDNPROXY_LOG_FORMAT),
// at debug level so that every call is logged.
var obsFormats = []struct {
	name    string
	handler func(io.Writer) slog.Handler
}{
	{"json", func(w io.Writer) slog.Handler {
		return slog.NewJSONHandler(w, &slog.HandlerOptions{Level: slog.LevelDebug})
	}},
	{"text", func(w io.Writer) slog.Handler {
		return slog.NewTextHandler(w, &slog.HandlerOptions{Level: slog.LevelDebug})
	}},
}

// obsServe sends r to p directly; finish has run when it returns.
func obsServe(p http.Handler, r *http.Request) *httptest.ResponseRecorder {
	rec := httptest.NewRecorder()
	p.ServeHTTP(rec, r)
	return rec
}

// obsLines parses JSON log lines.
func obsLines(t *testing.T, out string) []map[string]any {
	t.Helper()
	var lines []map[string]any
	for line := range strings.Lines(out) {
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("log line is not JSON: %v\n%s", err, line)
		}
		lines = append(lines, m)
	}
	return lines
}

// TestLogFailedCallFields checks every documented field of the line of a
// failed call, for each kind of failure.
func TestLogFailedCallFields(t *testing.T) {
	up := newObsUpstream(t)
	always := []string{
		"time", "level", "msg", "requestId", "outcome", "clientAddr", "method", "action", "code", "codeDesc",
		"category", "retryable", "description", "message", "status", "upstreamStatus", "upstreamMs", "totalMs",
		"bytes", "secretId", "signing",
	}
	for _, tc := range []struct {
		name       string
		upstream   *url.URL
		target     string
		moduleCode bool
		want       map[string]any
	}{
		{"api error", nil, "/v2/index.php?Action=RefreshCdnUrl&SecretId=AKIDabcdefghijklmnop1234", true, map[string]any{
			"level": "WARN", "msg": "call failed", "outcome": "api_error", "method": "GET", "action": "RefreshCdnUrl",
			"code": "4000", "moduleCode": float64(9112), "codeDesc": "InvalidParameter", "category": "invalid_state",
			"retryable": false, "message": "(9112)操作域名需要为【开启中】状态", "status": float64(200),
			"upstreamStatus": float64(200), "secretId": "AKID****1234", "signing": "passthrough",
		}},
		{"refused", nil, "/wrong?Action=RefreshCdnUrl", false, map[string]any{
			"outcome": "refused", "action": "", "code": "4000", "codeDesc": "InvalidParameter",
			"category": "invalid_parameter", "status": float64(404), "upstreamStatus": float64(0), "secretId": "",
		}},
		{"upstream unreachable", obsClosedURL(t), "/v2/index.php?Action=GetCdnIps", false, map[string]any{
			"outcome": "upstream_error", "action": "GetCdnIps", "code": "6200", "codeDesc": "ServiceUnavailable",
			"category": "upstream_unreachable", "retryable": true, "status": float64(502),
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var out logbuf.Buffer
			cfg := Config{Upstream: obsURL(t, up.URL), Logger: slog.New(obsFormats[0].handler(&out))}
			if tc.upstream != nil {
				cfg.Upstream = tc.upstream
			}
			r := httptest.NewRequest(http.MethodGet, tc.target, nil)
			r.Header.Set("X-Request-Id", "req-fields-1")
			obsServe(obsNew(t, cfg), r)
			lines := obsLines(t, out.String())
			if len(lines) != 1 {
				t.Fatalf("%d log lines, want 1:\n%s", len(lines), out.String())
			}
			line := lines[0]
			for _, key := range always {
				if _, ok := line[key]; !ok {
					t.Errorf("field %s missing", key)
				}
			}
			if _, ok := line["moduleCode"]; ok != tc.moduleCode {
				t.Errorf("moduleCode present = %v, want %v", ok, tc.moduleCode)
			}
			tc.want["requestId"], tc.want["clientAddr"] = "req-fields-1", r.RemoteAddr
			for key, want := range tc.want {
				if got := line[key]; got != want {
					t.Errorf("%s = %#v, want %#v", key, got, want)
				}
			}
			if d, _ := line["description"].(string); d == "" {
				t.Error("description is empty")
			}
		})
	}
}

// Secret values a client might send, each with a long distinctive run of
// letters and digits so that escaped forms are caught too.
const (
	obsSecretKey   = "SKqW3eR5tY7uI9oP1aS3dF5gH7jK9lZ2"
	obsSignature   = "pZ8+q/Vw3Xy1Ab2Cd3Ef4Gh5Ij6K7L8="
	obsToken       = "tmpTok3nQ7W8E9R0T1Y2U3I4O5P6"
	obsBearer      = "bearerZ1X2C3V4B5N6M7a8s9d0"
	obsCookie      = "cookieSess9K8J7H6G5F4D3S2A1"
	obsSecretID    = "AKIDsecretidMIDDLEpart9876"
	obsUpstreamKey = "upKEYz9y8x7w6v5u4t3s2r1q0p"
	obsClientKey   = "cliKEYm1n2b3v4c5x6z7l8k9j0"
)

// TestLogNoSecrets sends calls carrying secrets in every place a client
// can put one and checks that none reaches the log (in either format) or
// the failures page and its JSON.
func TestLogNoSecrets(t *testing.T) {
	var mu sync.Mutex
	var resigned []string // the signatures the proxy made for the upstream
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		resigned = append(resigned, r.FormValue("Signature"))
		mu.Unlock()
		if r.FormValue("Action") == "DescribeCdnHosts" {
			obsJSON(w, `{"code":0,"message":"","data":{}}`)
			return
		}
		obsJSON(w, `{"code":4100,"message":"(-9009)signature check failed","codeDesc":"AuthFailure"}`)
	}))
	t.Cleanup(up.Close)

	secrets := url.Values{
		"SecretId":  {obsSecretID},
		"SecretKey": {obsSecretKey},
		"Signature": {obsSignature},
		"Token":     {obsToken},
	}
	withSecrets := func(action string) string {
		v := url.Values{"Action": {action}, "Nonce": {"123"}, "Timestamp": {strconv.FormatInt(time.Now().Unix(), 10)}}
		for k, vs := range secrets {
			v[k] = vs
		}
		return v.Encode()
	}
	// A call signed correctly with a client key, for resign mode: it is
	// forwarded, signed again with the upstream key.
	signed := func() string {
		params, err := signature.Parse(url.Values{
			"Action": {"RefreshCdnUrl"}, "SecretId": {"cli-id"}, "Nonce": {"7"}, "Token": {obsToken},
			"Timestamp": {strconv.FormatInt(time.Now().Unix(), 10)},
		}.Encode())
		if err != nil {
			t.Fatal(err)
		}
		sig := signature.NewKey(obsClientKey).Sign(http.MethodGet, "example.com", apiPath, params)
		return params.With("Signature", sig).Encode()
	}
	newRequest := func(method, target, body string) *http.Request {
		var r *http.Request
		if method == http.MethodPost {
			r = httptest.NewRequest(method, target, strings.NewReader(body))
			r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		} else {
			r = httptest.NewRequest(method, target, nil)
		}
		r.Header.Set("Authorization", "Bearer "+obsBearer)
		r.Header.Add("Cookie", "session="+obsCookie+"; token="+obsToken)
		r.Header.Set("X-Request-Id", obsSignature) // not a sane id: replaced
		r.Header.Set("X-TC-Token", obsToken)
		r.Header.Set("X-Api-Key", obsSecretKey)
		return r
	}
	type request struct{ method, target, body string }
	calls := []struct {
		name     string
		signing  Signing
		upstream *url.URL
		requests []request
	}{
		{"passthrough", Signing{}, nil, []request{
			{"GET", "/v2/index.php?" + withSecrets("RefreshCdnUrl"), ""},
			{"GET", "/v2/index.php?" + withSecrets("DescribeCdnHosts"), ""},
			{"POST", "/v2/index.php", withSecrets("RefreshCdnUrl")},
			{"POST", "/v2/index.php?" + withSecrets("RefreshCdnUrl"), withSecrets("DescribeCdnHosts")},
			{"GET", "/wrong?" + withSecrets("RefreshCdnUrl"), ""},
			{"PUT", "/v2/index.php?" + withSecrets("RefreshCdnUrl"), ""},
		}},
		{"unreachable", Signing{}, obsClosedURL(t), []request{
			{"GET", "/v2/index.php?" + withSecrets("RefreshCdnUrl"), ""},
			{"POST", "/v2/index.php", withSecrets("RefreshCdnUrl")},
		}},
		{"resign", Signing{Mode: Resign, SecretID: "AKIDupstream0000000001", SecretKey: obsUpstreamKey,
			ClientKeys: map[string]string{"cli-id": obsClientKey}}, nil, []request{
			{"GET", "/v2/index.php?" + withSecrets("RefreshCdnUrl"), ""}, // bad signature
			{"GET", "/v2/index.php?" + signed(), ""},
			{"GET", "/v2/index.php?" + signed() + "&Signature=" + url.QueryEscape(obsSignature), ""}, // duplicate
		}},
		{"token", Signing{Mode: Resign, SecretID: "AKIDupstream0000000001", SecretKey: obsUpstreamKey,
			ClientToken: "the-right-token"}, nil, []request{
			{"GET", "/v2/index.php?" + withSecrets("RefreshCdnUrl"), ""},
		}},
	}

	var out logbuf.Buffer
	failures := NewFailures(100, nil)
	for _, format := range obsFormats {
		for _, c := range calls {
			cfg := Config{Upstream: obsURL(t, up.URL), Signing: c.signing, Logger: slog.New(format.handler(&out)), Failures: failures}
			if c.upstream != nil {
				cfg.Upstream = c.upstream
			}
			p := obsNew(t, cfg)
			for _, r := range c.requests {
				before := len(out.String())
				obsServe(p, newRequest(r.method, r.target, r.body))
				if len(out.String()) == before {
					t.Errorf("%s %s %s: nothing logged", format.name, c.name, r.method)
				}
			}
		}
	}

	admin := Admin(AdminConfig{Failures: failures})
	_, page := obsAdminGet(t, admin, "/failures")
	_, pageJSON := obsAdminGet(t, admin, "/failures.json")
	if !strings.Contains(pageJSON, "AKID****9876") {
		t.Errorf("the failures record lacks the masked SecretId:\n%s", pageJSON)
	}

	mu.Lock()
	values := append([]string{obsSecretKey, obsSignature, obsToken, obsBearer, obsCookie, obsSecretID, obsUpstreamKey, obsClientKey}, resigned...)
	mu.Unlock()
	for where, text := range map[string]string{"log": out.String(), "failures page": page, "failures.json": pageJSON} {
		for _, v := range values {
			for _, form := range obsForms(v) {
				if strings.Contains(text, form) {
					t.Errorf("the %s contains %q (from secret %q)", where, form, v)
				}
			}
		}
	}
}

// obsForms returns what to look for of a secret: the value, its
// URL-escaped form, and its runs of 8 or more letters and digits (which
// survive HTML and JSON escaping).
func obsForms(secret string) []string {
	if secret == "" {
		return nil
	}
	forms := []string{secret, url.QueryEscape(secret)}
	return append(forms, regexp.MustCompile(`[A-Za-z0-9]{8,}`).FindAllString(secret, -1)...)
}

// TestLogInjection sends Action values (and an upstream message) built to
// break log lines: each call stays one line in both formats, the text
// format carries no control characters, and JSON keeps the value intact.
func TestLogInjection(t *testing.T) {
	up := newObsUpstream(t)
	actions := []string{
		"Refresh\nlevel=ERROR msg=\"forged\" requestId=evil",
		"A\r\nB\rC",
		`A"B'C\"D\\`,
		"A\x1b[31mRED\x1b[0m\x1b]0;title\x07",
		"A\u2028B\u2029C\u0085D",
		"A\x00B\x7fC\tD\vE\fF",
		"\xff\xfe invalid UTF-8",
		`{"action":"x"}`,
	}
	for _, format := range obsFormats {
		for _, action := range actions {
			t.Run(fmt.Sprintf("%s %q", format.name, action), func(t *testing.T) {
				want := action
				var out logbuf.Buffer
				p := obsNew(t, Config{Upstream: obsURL(t, up.URL), Logger: slog.New(format.handler(&out))})
				obsServe(p, httptest.NewRequest(http.MethodGet, "/v2/index.php?Answer=hostile&Action="+url.QueryEscape(action), nil))
				text := out.String()
				if strings.Count(text, "\n") != 1 || !strings.HasSuffix(text, "\n") {
					t.Fatalf("the call took %d lines, want 1:\n%s", strings.Count(text, "\n"), text)
				}
				if strings.ContainsAny(text, "\r\u2028\u2029") {
					t.Errorf("a line break other than the final newline:\n%q", text)
				}
				var gotAction, gotMessage any
				if format.name == "json" {
					// JSON escapes C0 controls and U+2028/9; it may carry other
					// characters (U+0085) raw, which is valid JSON and no line
					// break to line-based log shippers.
					line := obsLines(t, text)[0]
					gotAction, gotMessage = line["action"], line["message"]
					want = string([]rune(want)) // JSON carries invalid UTF-8 as U+FFFD
				} else {
					for i, r := range strings.TrimSuffix(text, "\n") {
						if !unicode.IsPrint(r) && r != ' ' {
							t.Fatalf("control character %U at %d of the text line:\n%q", r, i, text)
						}
					}
					line := obsParseText(t, strings.TrimSuffix(text, "\n"))
					gotAction, gotMessage = line["action"], line["message"]
				}
				if gotAction != want || gotMessage != hostileMessage {
					t.Errorf("action %q, message %q; want the values as sent", gotAction, gotMessage)
				}
			})
		}
	}
}

// obsParseText parses a text-handler line (key=value pairs, values bare
// or Go-quoted) and fails the test if it is not one well-formed record
// with each key once.
func obsParseText(t *testing.T, line string) map[string]any {
	t.Helper()
	m := make(map[string]any)
	for line != "" {
		key, rest, ok := strings.Cut(line, "=")
		if !ok || key == "" || strings.ContainsAny(key, " \"") {
			t.Fatalf("not key=value at %q", line)
		}
		var val string
		if strings.HasPrefix(rest, `"`) {
			q, err := strconv.QuotedPrefix(rest)
			if err != nil {
				t.Fatalf("bad quoting at %q: %v", rest, err)
			}
			val, _ = strconv.Unquote(q)
			line = rest[len(q):]
			if line != "" && line[0] != ' ' {
				t.Fatalf("junk after a quoted value: %q", line)
			}
			line = strings.TrimPrefix(line, " ")
		} else {
			val, line, _ = strings.Cut(rest, " ")
		}
		if _, dup := m[key]; dup {
			t.Fatalf("key %s twice: a value broke out", key)
		}
		m[key] = val
	}
	return m
}

// TestLogRequestIDReplaced checks that a client's X-Request-Id that is
// not sane is replaced, not echoed, in the answer and in the log.
func TestLogRequestIDReplaced(t *testing.T) {
	up := newObsUpstream(t)
	for _, tc := range []struct {
		name, id string
		kept     bool
	}{
		{"sane", "client-id_1.2:3", true},
		{"newline", "abc\ndef", false},
		{"header injection", "abc\r\nX-Evil: 1", false},
		{"ANSI escape", "ok\x1b[31m", false},
		{"quote", `a"b`, false},
		{"space", "a b", false},
		{"too long", strings.Repeat("a", 129), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var out logbuf.Buffer
			p := obsNew(t, Config{Upstream: obsURL(t, up.URL), Logger: slog.New(obsFormats[0].handler(&out))})
			r := httptest.NewRequest(http.MethodGet, "/v2/index.php?Action=RefreshCdnUrl", nil)
			r.Header["X-Request-Id"] = []string{tc.id}
			rec := obsServe(p, r)
			echoed := rec.Header().Get("X-Request-Id")
			if (echoed == tc.id) != tc.kept {
				t.Errorf("X-Request-Id answered %q for %q; kept = %v, want %v", echoed, tc.id, echoed == tc.id, tc.kept)
			}
			if !tc.kept && !regexp.MustCompile(`^[0-9a-f]{32}$`).MatchString(echoed) {
				t.Errorf("replacement id %q is not a fresh random id", echoed)
			}
			lines := obsLines(t, out.String())
			if len(lines) != 1 || lines[0]["requestId"] != echoed {
				t.Errorf("log requestId = %v, want %q", lines[0]["requestId"], echoed)
			}
		})
	}
}
