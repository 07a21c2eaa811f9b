package signature_test

import (
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/cdnproxy/cdnproxy/proxy/signature"
)

const (
	v2Path  = "/v2/index.php"
	v2Host  = "cdn.api.qcloud.com"
	docKey  = "pxPgRWDbCy86ZYyqBTDk7WmeRZSmPco0"
	docID   = "AKIDT8G5AsY1D3MChWooNq1rFSw1fyBVCX9D"
	sdkKey  = "secretKeyBar"
	sdkHost = "cvm.api.qcloud.com"
	v3Key   = "Gu5t9xGARNpq86cd98joQYCN3EXAMPLE"
	v3Host  = "cvm.tencentcloudapi.com"
)

// mustParse parses a query string written in a deliberately unsorted order,
// so the vectors also exercise sorting.
func mustParse(t testing.TB, raw string) signature.Params {
	t.Helper()
	p, err := signature.Parse(raw)
	if err != nil {
		t.Fatalf("Parse(%q): %v", raw, err)
	}
	return p
}

type vector struct {
	name        string
	key         string
	method      string
	host        string
	path        string
	query       string // unsorted, URL-encoded as on the wire
	mutateParam string // a parameter whose value gets a one-character change
	want        string
	wantSTS     string // optional golden string to sign
}

// Vectors from docs/reference/cdn-api-v2.md §2.2 and docs/reference/cdn-api-v3.md §2.4 (all [verified]).
var vectors = []vector{
	{
		name: "v2 doc GET SHA1", key: docKey, method: "GET", host: v2Host, path: v2Path,
		query:       "offset=0&limit=10&Timestamp=1463122059&SecretId=" + docID + "&Nonce=13029&Action=DescribeCdnHosts",
		mutateParam: "limit",
		want:        "bWMMAR1eFGjZ5KWbfxTlBiLiNLc=",
		wantSTS:     "GETcdn.api.qcloud.com/v2/index.php?Action=DescribeCdnHosts&Nonce=13029&SecretId=" + docID + "&Timestamp=1463122059&limit=10&offset=0",
	},
	{
		name: "v2 doc POST SHA1", key: docKey, method: "POST", host: v2Host, path: v2Path,
		query:       "Action=DescribeCdnHosts&limit=10&offset=0&Nonce=13029&SecretId=" + docID + "&Timestamp=1463122059",
		mutateParam: "offset",
		want:        "i/KcLp6VaOtUmVtT0dqtLpKJOkg=",
	},
	{
		name: "v2 doc GET SHA256", key: docKey, method: "GET", host: v2Host, path: v2Path,
		query:       "SignatureMethod=HmacSHA256&Timestamp=1502197934&Action=DescribeCdnHosts&Nonce=48059&SecretId=" + docID + "&limit=10&offset=0",
		mutateParam: "Nonce",
		want:        "b/HlnO7vWEtR/kf21BvF0fX4vGmIThwWxlaD5GQtlSM=",
	},
	{
		name: "v2 doc GET SHA1 host with port", key: docKey, method: "GET", host: "127.0.0.1:8080", path: v2Path,
		query:       "Action=DescribeCdnHosts&Nonce=13029&SecretId=" + docID + "&Timestamp=1463122059&limit=10&offset=0",
		mutateParam: "Timestamp",
		want:        "G7cAVHcjoYpoR6el8AIFSWgHWJ4=",
	},
	{
		name: "python sdk POST SHA1", key: sdkKey, method: "POST", host: sdkHost, path: v2Path,
		query:       "Version=2017-03-12&Action=DescribeInstances&Nonce=1290303896666895346&Region=ap-guangzhou&SecretId=secretIdFoo&SignatureMethod=HmacSHA1&Timestamp=1512393162",
		mutateParam: "Region",
		want:        "p3n+pxBqF5JGZtDSxoVn5tGngf0=",
	},
	{
		name: "python sdk GET SHA1", key: sdkKey, method: "GET", host: sdkHost, path: v2Path,
		query:       "Action=DescribeInstances&Nonce=1290303896666895346&Region=ap-guangzhou&SecretId=secretIdFoo&SignatureMethod=HmacSHA1&Timestamp=1512393162&Version=2017-03-12",
		mutateParam: "Version",
		want:        "5HAq1BOKNLEE2/uauWnp6Zv9Z3c=",
	},
	{
		name: "python sdk POST SHA256", key: sdkKey, method: "POST", host: sdkHost, path: v2Path,
		query:       "Timestamp=1512393162&Action=DescribeInstances&Nonce=1290303896666895346&Region=ap-guangzhou&SecretId=secretIdFoo&SignatureMethod=HmacSHA256&Version=2017-03-12",
		mutateParam: "Action",
		want:        "B2T37FRSP6Fk0/q/cdfrTE0p3zX5ooB/2BPWZUFpsj4=",
	},
	{
		name: "python sdk lower-case post SHA1", key: sdkKey, method: "post", host: sdkHost, path: v2Path,
		query:       "Action=DescribeInstances&Nonce=1290303896666895346&Region=ap-guangzhou&SecretId=secretIdFoo&SignatureMethod=HmacSHA1&Timestamp=1512393162&Version=2017-03-12",
		mutateParam: "SecretId",
		want:        "p3n+pxBqF5JGZtDSxoVn5tGngf0=",
	},
	{
		name: "python sdk lower-case post SHA256", key: sdkKey, method: "post", host: sdkHost, path: v2Path,
		query:       "Action=DescribeInstances&Nonce=1290303896666895346&Region=ap-guangzhou&SecretId=secretIdFoo&SignatureMethod=HmacSHA256&Timestamp=1512393162&Version=2017-03-12",
		mutateParam: "Nonce",
		want:        "B2T37FRSP6Fk0/q/cdfrTE0p3zX5ooB/2BPWZUFpsj4=",
	},
	{
		name: "v1 on API 3.0 GET SHA1", key: v3Key, method: "GET", host: v3Host, path: "/",
		query:       "Version=2017-03-12&Action=DescribeInstances&InstanceIds.0=ins-09dx96dg&Limit=20&Nonce=11886&Offset=0&Region=ap-guangzhou&SecretId=AKIDz8krbsJ5yKBZQpn74WFkmLPx3EXAMPLE&Timestamp=1465185768",
		mutateParam: "InstanceIds.0",
		want:        "EliP9YW3pW28FpsEdkXt/+WcGeI=",
		wantSTS:     "GETcvm.tencentcloudapi.com/?Action=DescribeInstances&InstanceIds.0=ins-09dx96dg&Limit=20&Nonce=11886&Offset=0&Region=ap-guangzhou&SecretId=AKIDz8krbsJ5yKBZQpn74WFkmLPx3EXAMPLE&Timestamp=1465185768&Version=2017-03-12",
	},
	{
		name: "v1 on API 3.0 GET SHA256", key: v3Key, method: "GET", host: v3Host, path: "/",
		query:       "Action=DescribeInstances&InstanceIds.0=ins-09dx96dg&Limit=20&Nonce=11886&Offset=0&Region=ap-guangzhou&SecretId=AKIDz8krbsJ5yKBZQpn74WFkmLPx3EXAMPLE&SignatureMethod=HmacSHA256&Timestamp=1465185768&Version=2017-03-12",
		mutateParam: "Limit",
		want:        "A8uy2/o7WBZXYCTWEFpMrVGhGBVlEGIOioeqRM+fzFs=",
	},
}

// changeOne returns s with its last character replaced by a different one.
func changeOne(s string) string {
	if s == "" {
		return "x"
	}
	last := s[len(s)-1]
	repl := byte('x')
	if last == 'x' {
		repl = 'y'
	}
	return s[:len(s)-1] + string(repl)
}

func TestVectors(t *testing.T) {
	for _, v := range vectors {
		t.Run(v.name, func(t *testing.T) {
			p := mustParse(t, v.query)
			if v.wantSTS != "" {
				if got := signature.StringToSign(v.method, v.host, v.path, p); got != v.wantSTS {
					t.Errorf("StringToSign =\n%s\nwant\n%s", got, v.wantSTS)
				}
			}
			k := signature.NewKey(v.key)
			got := k.Sign(v.method, v.host, v.path, p)
			if got != v.want {
				t.Fatalf("Sign = %q, want %q", got, v.want)
			}
			signed := p.With("Signature", v.want)
			if !k.Verify(v.method, v.host, v.path, signed) {
				t.Errorf("Verify(correct) = false")
			}
			// The Signature parameter itself is not signed.
			if got := k.Sign(v.method, v.host, v.path, signed); got != v.want {
				t.Errorf("Sign with Signature present = %q, want %q", got, v.want)
			}
			// Signed request survives the canonical wire form.
			if !k.Verify(v.method, v.host, v.path, mustParse(t, signed.Encode())) {
				t.Errorf("Verify after Encode/Parse = false")
			}

			old, ok := signed.Get(v.mutateParam)
			if !ok {
				t.Fatalf("vector has no parameter %q", v.mutateParam)
			}
			if k.Verify(v.method, v.host, v.path, signed.With(v.mutateParam, changeOne(old))) {
				t.Errorf("Verify with changed %s = true", v.mutateParam)
			}
			if k.Verify(v.method, changeOne(v.host), v.path, signed) {
				t.Errorf("Verify with changed host = true")
			}
			if signature.NewKey(changeOne(v.key)).Verify(v.method, v.host, v.path, signed) {
				t.Errorf("Verify with changed key = true")
			}
			if k.Verify(v.method, v.host, v.path, signed.With("Signature", changeOne(v.want))) {
				t.Errorf("Verify with changed signature = true")
			}
			if k.Verify(v.method, v.host, v.path, p) {
				t.Errorf("Verify without Signature = true")
			}
		})
	}
}

// TestKey checks that a Key signs and verifies each vector, with its
// hash, again and again (its HMACs are reused) and from several goroutines
// at once.
func TestKey(t *testing.T) {
	for _, v := range vectors {
		t.Run(v.name, func(t *testing.T) {
			p := mustParse(t, v.query)
			k := signature.NewKey(v.key)
			signed := p.With("Signature", v.want)
			other := p.With("Signature", changeOne(v.want))
			var wg sync.WaitGroup
			for range 4 {
				wg.Go(func() {
					for range 50 {
						if got := k.Sign(v.method, v.host, v.path, p); got != v.want {
							t.Errorf("Key.Sign = %q, want %q", got, v.want)
							return
						}
						if !k.Verify(v.method, v.host, v.path, signed) {
							t.Error("Key.Verify(correct) = false")
							return
						}
						if k.Verify(v.method, v.host, v.path, other) || k.Verify(v.method, v.host, v.path, p) {
							t.Error("Key.Verify(changed or missing signature) = true")
							return
						}
					}
				})
			}
			wg.Wait()
			if signature.NewKey(changeOne(v.key)).Verify(v.method, v.host, v.path, signed) {
				t.Error("Verify with another key = true")
			}
		})
	}
}

func TestSignatureMethodSelection(t *testing.T) {
	base := signature.Params{{"Action", "X"}, {"Nonce", "1"}}
	for _, tc := range []struct {
		method string
		len    int
	}{
		{"", 28}, // absent
		{"HmacSHA1", 28},
		{"HmacSHA256", 44},
		{"hmacsha256", 28}, // not exact: SHA-1
		{"HmacSHA512", 28},
	} {
		p := base
		if tc.method != "" {
			p = p.With("SignatureMethod", tc.method)
		}
		if got := signature.NewKey("k").Sign("GET", "h", "/", p); len(got) != tc.len {
			t.Errorf("SignatureMethod %q: signature %q has length %d, want %d", tc.method, got, len(got), tc.len)
		}
	}
}

func TestStringToSign(t *testing.T) {
	for _, tc := range []struct {
		name   string
		method string
		host   string
		path   string
		p      signature.Params
		want   string
	}{
		{
			name: "underscore to dot, sorted by original name", method: "GET", host: "h", path: "/v2/index.php",
			// byte order: '.'(0x2e) < '0' < 'Z'(0x5a) < '_'(0x5f) < 'a'
			p:    signature.Params{{"urls_1", "b"}, {"a_b", "1"}, {"urls.0", "a"}, {"Action", "RefreshCdnUrl"}, {"a0", "2"}},
			want: "GETh/v2/index.php?Action=RefreshCdnUrl&a0=2&a.b=1&urls.0=a&urls.1=b",
		},
		{
			name: "'@' values excluded", method: "POST", host: "h", path: "/",
			p:    signature.Params{{"entityFile", "@/tmp/x.jpg"}, {"Action", "UploadCdnEntity"}, {"entityFileMd5", "abc@"}},
			want: "POSTh/?Action=UploadCdnEntity&entityFileMd5=abc@",
		},
		{
			// The exception is the API's for POST file uploads: on GET an
			// '@' value is signed, so that none can be added to a signed
			// call (such as hosts.0=@victim.example).
			name: "'@' values signed on GET", method: "GET", host: "h", path: "/",
			p:    signature.Params{{"hosts.0", "@victim.example"}, {"Action", "DescribeCdnHosts"}},
			want: "GETh/?Action=DescribeCdnHosts&hosts.0=@victim.example",
		},
		{
			name: "Signature excluded, other case kept", method: "get", host: "h", path: "/",
			p:    signature.Params{{"Signature", "zzz="}, {"signature", "kept"}, {"SignatureMethod", "HmacSHA1"}},
			want: "GETh/?SignatureMethod=HmacSHA1&signature=kept",
		},
		{
			name: "raw values", method: "POST", host: "cdn.api.qcloud.com", path: "/v2/index.php",
			p: signature.Params{
				{"urls.0", "http://www.example.com/a+b/c=d?e=1&f=/g h"},
				{"urls.1", "http://www.example.com/中文.jpg"},
				{"Action", "RefreshCdnUrl"},
			},
			want: "POSTcdn.api.qcloud.com/v2/index.php?Action=RefreshCdnUrl&urls.0=http://www.example.com/a+b/c=d?e=1&f=/g h&urls.1=http://www.example.com/中文.jpg",
		},
		{
			name: "empty params and empty value", method: "GET", host: "h:1", path: "/",
			p:    signature.Params{{"b", ""}, {"a", "1"}},
			want: "GETh:1/?a=1&b=",
		},
		{
			name: "no params", method: "GET", host: "h", path: "/",
			want: "GETh/?",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := signature.StringToSign(tc.method, tc.host, tc.path, tc.p); got != tc.want {
				t.Errorf("got\n%s\nwant\n%s", got, tc.want)
			}
		})
	}
}

// TestRawValuesFromWire checks that values are signed decoded: a '+' sent
// as "%2B" signs as '+', a '+' sent literally signs as ' '.
func TestRawValuesFromWire(t *testing.T) {
	p := mustParse(t, "v=a%2Bb%2Fc%3Dd+e%E4%B8%AD&Action=X")
	want := "GETh/?Action=X&v=a+b/c=d e中"
	if got := signature.StringToSign("GET", "h", "/", p); got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}

func manyParams(n int, sep string) string {
	parts := make([]string, n)
	for i := range parts {
		parts[i] = fmt.Sprintf("urls.%d=http%%3A%%2F%%2Fexample.com%%2F%d", i, i)
	}
	return strings.Join(parts, sep)
}

func TestParse(t *testing.T) {
	type P = signature.Params
	for _, tc := range []struct {
		name    string
		raw     string
		want    P
		wantErr error
	}{
		{name: "empty", raw: "", want: P{}},
		{name: "only separators", raw: "&&&", want: P{}},
		{name: "simple keeps order", raw: "b=2&a=1", want: P{{"b", "2"}, {"a", "1"}}},
		{name: "empty pairs skipped", raw: "&a=1&&b=2&", want: P{{"a", "1"}, {"b", "2"}}},
		{name: "no equals", raw: "a&b=", want: P{{"a", ""}, {"b", ""}}},
		{name: "equals in value", raw: "Signature=abc%3D&x=b=c", want: P{{"Signature", "abc="}, {"x", "b=c"}}},
		{name: "plus is space", raw: "q=a+b++c", want: P{{"q", "a b  c"}}},
		{name: "plus in name", raw: "a+b=1", want: P{{"a b", "1"}}},
		{name: "%2B is plus", raw: "q=a%2Bb&r=%2b", want: P{{"q", "a+b"}, {"r", "+"}}},
		{name: "percent-encoded name", raw: "urls%2E0=x", want: P{{"urls.0", "x"}}},
		{name: "utf-8", raw: "q=%E4%B8%AD%E6%96%87&r=中", want: P{{"q", "中文"}, {"r", "中"}}},
		{name: "non-utf-8 escaped kept", raw: "q=%FF%FE%00", want: P{{"q", "\xff\xfe\x00"}}},
		{name: "non-utf-8 raw kept", raw: "q=\xff\x80", want: P{{"q", "\xff\x80"}}},
		{name: "semicolon is ordinary", raw: "a=1;b=2", want: P{{"a", "1;b=2"}}},
		{name: "question mark is ordinary", raw: "?a=1", want: P{{"?a", "1"}}},
		{name: "exactly MaxParams", raw: manyParams(signature.MaxParams, "&&"), want: nil},

		{name: "invalid escape", raw: "a=%zz", wantErr: signature.ErrBadEncoding},
		{name: "half invalid escape", raw: "a=%4g", wantErr: signature.ErrBadEncoding},
		{name: "percent at end", raw: "a=1&b=%", wantErr: signature.ErrBadEncoding},
		{name: "percent one digit at end", raw: "a=%4", wantErr: signature.ErrBadEncoding},
		{name: "bad escape in name", raw: "a%=1", wantErr: signature.ErrBadEncoding},
		{name: "empty name", raw: "=x", wantErr: signature.ErrBadEncoding},
		{name: "lone equals", raw: "a=1&=", wantErr: signature.ErrBadEncoding},
		{name: "duplicate", raw: "a=1&b=2&a=1", wantErr: signature.ErrDuplicate},
		{name: "duplicate without value", raw: "a=1&a", wantErr: signature.ErrDuplicate},
		{name: "duplicate via escape", raw: "Action=X&%41ction=Y", wantErr: signature.ErrDuplicate},
		{name: "underscore dot alias", raw: "urls.0=x&urls_0=y", wantErr: signature.ErrDuplicate},
		{name: "duplicate in large set", raw: manyParams(100, "&") + "&urls.7=z", wantErr: signature.ErrDuplicate},
		{name: "alias in large set", raw: manyParams(100, "&") + "&urls_99=z", wantErr: signature.ErrDuplicate},
		{name: "too many", raw: manyParams(signature.MaxParams+1, "&"), wantErr: signature.ErrTooLarge},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := signature.Parse(tc.raw)
			if tc.wantErr != nil {
				if !errors.Is(err, tc.wantErr) {
					t.Fatalf("err = %v, want %v", err, tc.wantErr)
				}
				if got != nil {
					t.Errorf("got %v with error", got)
				}
				return
			}
			if err != nil {
				t.Fatalf("unexpected error: %v", err)
			}
			if tc.want == nil { // size-only check
				if len(got) != signature.MaxParams {
					t.Errorf("len = %d, want %d", len(got), signature.MaxParams)
				}
				return
			}
			if got == nil || !slices.Equal(got, tc.want) {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
}

// Parse errors must not echo parameter values (they may carry tokens).
func TestParseErrorsOmitValues(t *testing.T) {
	for _, raw := range []string{
		"Token=sekrit-token%zz",
		"Token=sekrit-token&Token=sekrit-token",
		"Token=sekrit-token%",
	} {
		_, err := signature.Parse(raw)
		if err == nil {
			t.Fatalf("Parse(%q) succeeded", raw)
		}
		if strings.Contains(err.Error(), "sekrit") {
			t.Errorf("error for %q leaks value: %v", raw, err)
		}
	}
}

// TestEncodeEscapesAsQueryEscape checks Encode's escaping against
// url.QueryEscape for every byte value, alone and between other bytes.
func TestEncodeEscapesAsQueryEscape(t *testing.T) {
	for c := range 256 {
		for _, v := range []string{string([]byte{byte(c)}), "a" + string([]byte{byte(c)}) + "Z~", "中" + string([]byte{byte(c), byte(c)})} {
			got := signature.Params{{Name: "n" + v, Value: v}}.Encode()
			if want := url.QueryEscape("n"+v) + "=" + url.QueryEscape(v); got != want {
				t.Fatalf("Encode of %q = %q, want %q", v, got, want)
			}
		}
	}
}

func TestLookup(t *testing.T) {
	for _, tc := range []struct {
		raw, name, want string
		ok              bool
	}{
		{"Action=DescribeCdnHosts&SecretId=AKID", "Action", "DescribeCdnHosts", true},
		{"Action=DescribeCdnHosts&SecretId=AKID", "SecretId", "AKID", true},
		{"Action=DescribeCdnHosts", "Nonce", "", false},
		{"Act%69on=a+b%2Fc", "Action", "a b/c", true}, // escapes in name and value
		{"Action&Nonce=1", "Action", "", true},        // no '='
		{"x=%zz&Action=Go", "Action", "Go", true},     // another pair is malformed
		{"Action=%zz", "Action", "", false},           // its own value is
		{"Action=A&Action=B", "Action", "B", true},    // the last of duplicates, as PHP reads them
		{"Action=A&Action=%zz", "Action", "", false},  // and only the last
		{"&&Action=A;B&", "Action", "A;B", true},      // ';' is an ordinary byte
		{"action=lower", "Action", "", false},         // names are exact
		{"", "Action", "", false},
	} {
		if got, ok := signature.Lookup(tc.raw, tc.name); got != tc.want || ok != tc.ok {
			t.Errorf("Lookup(%q, %q) = %q, %v; want %q, %v", tc.raw, tc.name, got, ok, tc.want, tc.ok)
		}
	}
}

func TestEncode(t *testing.T) {
	p := signature.Params{
		{"urls.1", "http://example.com/a b+c?d=1&e=中"},
		{"Action", "RefreshCdnUrl"},
		{"urls.0", "~-_."},
		{"a b", ""},
		{"Signature", "i/KcLp6VaOtUmVtT0dqtLpKJOkg="},
		{"bin", "\xff\x00"},
	}
	want := "Action=RefreshCdnUrl&Signature=i%2FKcLp6VaOtUmVtT0dqtLpKJOkg%3D&a+b=&bin=%FF%00" +
		"&urls.0=~-_.&urls.1=http%3A%2F%2Fexample.com%2Fa+b%2Bc%3Fd%3D1%26e%3D%E4%B8%AD"
	got := p.Encode()
	if got != want {
		t.Fatalf("Encode =\n%s\nwant\n%s", got, want)
	}
	back := mustParse(t, got)
	if !slices.Equal(sortedCopy(back), sortedCopy(p)) {
		t.Errorf("round trip: got %q, want %q", back, p)
	}
	if back.Encode() != got {
		t.Errorf("Encode not stable")
	}
	if (signature.Params{}).Encode() != "" || signature.Params(nil).Encode() != "" {
		t.Errorf("empty Encode not empty")
	}
	// Encode does not reorder the receiver.
	if p[0].Name != "urls.1" {
		t.Errorf("Encode mutated receiver: %q", p)
	}
}

func sortedCopy(p signature.Params) signature.Params {
	s := slices.Clone(p)
	slices.SortFunc(s, func(a, b signature.Param) int { return strings.Compare(a.Name, b.Name) })
	return s
}

func TestGet(t *testing.T) {
	p := signature.Params{{"a", "1"}, {"b", ""}}
	if v, ok := p.Get("a"); !ok || v != "1" {
		t.Errorf("Get(a) = %q, %v", v, ok)
	}
	if v, ok := p.Get("b"); !ok || v != "" {
		t.Errorf("Get(b) = %q, %v", v, ok)
	}
	if _, ok := p.Get("A"); ok {
		t.Errorf("Get is case-insensitive")
	}
	if _, ok := signature.Params(nil).Get("a"); ok {
		t.Errorf("Get on nil found something")
	}
}

func TestWithDoesNotMutate(t *testing.T) {
	// Spare capacity: an append-based With would write into it.
	backing := make(signature.Params, 3, 10)
	copy(backing, signature.Params{{"a", "1"}, {"b", "2"}, {"c", "3"}})
	orig := slices.Clone(backing[:cap(backing)])

	replaced := backing.With("b", "X")
	if want := (signature.Params{{"a", "1"}, {"b", "X"}, {"c", "3"}}); !slices.Equal(replaced, want) {
		t.Errorf("With replace = %q, want %q", replaced, want)
	}
	appended := backing.With("d", "4")
	if want := (signature.Params{{"a", "1"}, {"b", "2"}, {"c", "3"}, {"d", "4"}}); !slices.Equal(appended, want) {
		t.Errorf("With append = %q, want %q", appended, want)
	}
	appended2 := backing.With("e", "5")
	if appended[3].Name != "d" {
		t.Errorf("two With calls share a backing array")
	}
	if want := (signature.Params{{"a", "1"}, {"b", "2"}, {"c", "3"}, {"e", "5"}}); !slices.Equal(appended2, want) {
		t.Errorf("With append 2 = %q, want %q", appended2, want)
	}
	if !slices.Equal(backing[:cap(backing)], orig) {
		t.Errorf("receiver backing array mutated: %q, want %q", backing[:cap(backing)], orig)
	}
	// With on a list that (unlike Parse output) repeats a name keeps one.
	dup := signature.Params{{"a", "1"}, {"x", "0"}, {"a", "2"}}
	if got, want := dup.With("a", "9"), (signature.Params{{"a", "9"}, {"x", "0"}}); !slices.Equal(got, want) {
		t.Errorf("With on duplicates = %q, want %q", got, want)
	}
	if got := signature.Params(nil).With("a", "1"); !slices.Equal(got, signature.Params{{"a", "1"}}) {
		t.Errorf("nil.With = %q", got)
	}
}

var fuzzSeeds = []string{
	"",
	"Action=DescribeCdnHosts&Nonce=13029&SecretId=AKIDT8G5AsY1D3MChWooNq1rFSw1fyBVCX9D&Timestamp=1463122059&limit=10&offset=0&Signature=bWMMAR1eFGjZ5KWbfxTlBiLiNLc%3D",
	"Action=RefreshCdnUrl&Nonce=1&SecretId=AKID&SignatureMethod=HmacSHA256&Timestamp=1&urls.0=http%3A%2F%2Fwww.example.com%2Fa+b%2B%E4%B8%AD.jpg&urls.1=https%3A%2F%2Fx.example.com%2F",
	"Action=UpdateCdnConfig&hostId=1234&cache=%7B%22cache%22%3A%5B%5B0%2C%22all%22%2C1023448%5D%5D%7D",
	"Action=UploadCdnEntity&entityFile=%40%2Ftmp%2Fa.jpg&entityFileMd5=abc",
	"a=1&&b=&c&d=%zz",
	"urls.0=x&urls_0=y",
	"=x&a=%",
	"q=\xff%FE+%2b;x",
	"Signature=a&Signature=b",
}

func FuzzParse(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		p, err := signature.Parse(raw)
		if err != nil {
			if !errors.Is(err, signature.ErrBadEncoding) && !errors.Is(err, signature.ErrDuplicate) && !errors.Is(err, signature.ErrTooLarge) {
				t.Fatalf("Parse(%q): error %v is not a sentinel", raw, err)
			}
			if p != nil {
				t.Fatalf("Parse(%q) returned params with error", raw)
			}
			return
		}
		for _, q := range p {
			if q.Name == "" {
				t.Fatalf("Parse(%q) returned empty name", raw)
			}
			if v, ok := signature.Lookup(raw, q.Name); !ok || v != q.Value {
				t.Fatalf("Lookup(%q, %q) = %q, %v; Parse has %q", raw, q.Name, v, ok, q.Value)
			}
		}
		enc := p.Encode()
		p2, err := signature.Parse(enc)
		if err != nil {
			t.Fatalf("Parse(Encode()) failed: %v\nraw %q\nenc %q", err, raw, enc)
		}
		if !slices.Equal(sortedCopy(p), sortedCopy(p2)) {
			t.Fatalf("round trip changed set\nraw %q\nenc %q\ngot %q\nwant %q", raw, enc, p2, p)
		}
		if enc2 := p2.Encode(); enc2 != enc {
			t.Fatalf("Encode not stable\n1 %q\n2 %q", enc, enc2)
		}
		s1 := signature.StringToSign("POST", "cdn.api.qcloud.com", "/v2/index.php", p)
		s2 := signature.StringToSign("POST", "cdn.api.qcloud.com", "/v2/index.php", p2)
		if s1 != s2 {
			t.Fatalf("StringToSign differs after round trip\n1 %q\n2 %q", s1, s2)
		}
		sig := signature.NewKey("key").Sign("POST", "cdn.api.qcloud.com", "/v2/index.php", p)
		if !signature.NewKey("key").Verify("POST", "cdn.api.qcloud.com", "/v2/index.php", p2.With("Signature", sig)) {
			t.Fatalf("Verify(Sign) false after round trip for %q", raw)
		}
	})
}

func BenchmarkSign(b *testing.B) {
	for _, tc := range []struct{ name, query string }{
		{"SHA1", vectors[0].query},
		{"SHA256", vectors[2].query},
		{"SHA1_20urls", "Action=RefreshCdnUrl&Nonce=1&SecretId=" + docID + "&Timestamp=1463122059&" + manyParams(20, "&")},
	} {
		p := mustParse(b, tc.query)
		k := signature.NewKey(docKey)
		b.Run(tc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				k.Sign("GET", v2Host, v2Path, p)
			}
		})
	}
}

func BenchmarkEncode(b *testing.B) {
	p := mustParse(b, vectors[0].query+"&Signature=bWMMAR1eFGjZ5KWbfxTlBiLiNLc%3D")
	b.ReportAllocs()
	for b.Loop() {
		p.Encode()
	}
}

// benchQueries are the parameter lists the Parse and Lookup benchmarks
// read: the documentation's example, and two purge calls.
var benchQueries = []struct{ name, query string }{
	{"doc", vectors[0].query + "&Signature=bWMMAR1eFGjZ5KWbfxTlBiLiNLc%3D"},
	{"20urls", "Action=RefreshCdnUrl&Nonce=1&SecretId=" + docID + "&Timestamp=1463122059&Signature=bWMMAR1eFGjZ5KWbfxTlBiLiNLc%3D&" + manyParams(20, "&")},
	{"1000urls", "Action=RefreshCdnUrl&Nonce=1&SecretId=" + docID + "&Timestamp=1463122059&" + manyParams(1000, "&")},
}

func BenchmarkParse(b *testing.B) {
	benchEachQuery(b, func(q string) bool {
		_, err := signature.Parse(q)
		return err == nil
	})
}

// BenchmarkLookup is passthrough's look at a call: its Action and
// SecretId.
func BenchmarkLookup(b *testing.B) {
	benchEachQuery(b, func(q string) bool {
		_, ok1 := signature.Lookup(q, "Action")
		_, ok2 := signature.Lookup(q, "SecretId")
		return ok1 && ok2
	})
}

// benchEachQuery runs read on each of benchQueries, which it must
// accept.
func benchEachQuery(b *testing.B, read func(query string) bool) {
	for _, tc := range benchQueries {
		b.Run(tc.name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(tc.query)))
			for b.Loop() {
				if !read(tc.query) {
					b.Fatalf("%s: not read", tc.name)
				}
			}
		})
	}
}

// TestParamsList reads 2.0 array parameters: in index order whatever the
// order sent, '.' or '_', and refuses indexes that are not plain numbers
// or come twice.
func TestParamsList(t *testing.T) {
	for _, tt := range []struct {
		query string
		want  []string
		ok    bool
	}{
		{"urls.1=b&urls.0=a&urls_2=c&urlsX=no&url.0=no", []string{"a", "b", "c"}, true},
		{"Action=RefreshCdnUrl", []string{}, true},
		{"urls.10=k&urls.2=c", []string{"c", "k"}, true},
		{"urls.01=a", nil, false},
		{"urls.-1=a", nil, false},
		{"urls.x=a", nil, false},
		{"urls.0=a&urls.0=b", nil, false}, // Parse refuses it; a hand-made Params may have it
	} {
		var p signature.Params
		for pair := range strings.SplitSeq(tt.query, "&") {
			name, value, _ := strings.Cut(pair, "=")
			p = append(p, signature.Param{Name: name, Value: value})
		}
		got, ok := p.List("urls")
		if ok != tt.ok || (ok && !slices.Equal(got, tt.want)) {
			t.Errorf("List(urls) of %q = %q, %v; want %q, %v", tt.query, got, ok, tt.want, tt.ok)
		}
	}
}
