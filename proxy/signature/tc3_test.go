package signature_test

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/cdnproxy/cdnproxy/proxy/signature"
)

// Inputs of the published TC3 vectors, docs/reference/cdn-api-v3.md §2.2.
const (
	tc3IDA   = "AKIDz8krbsJ5yKBZQpn74WFkmLPx3EXAMPLE"
	tc3KeyA  = v3Key // "Gu5t9xGARNpq86cd98joQYCN3EXAMPLE"
	tc3IDB   = "AKIDz8krbsJ5yKBZQpn74WFkmLPx3*******"
	tc3KeyB  = "Gu5t9xGARNpq86cd98joQYCN3*******"
	tc3Body  = `{"Limit": 1, "Filters": [{"Values": ["\u672a\u547d\u540d"], "Name": "instance-name"}]}`
	tc3TS    = 1551113065 // 2019-02-25
	tc3JSON  = "application/json; charset=utf-8"
	tc3Form  = "application/x-www-form-urlencoded"
	tc3GetTS = 1539084154 // 2018-10-09
)

func tc3PostRequest() signature.TC3Request {
	return signature.TC3Request{
		Method: "POST",
		Headers: []signature.Header{
			{"Content-Type", tc3JSON},
			{"Host", v3Host},
		},
		SignedHeaders: []string{"content-type", "host"},
		Payload:       []byte(tc3Body),
		Service:       "cvm",
		Timestamp:     tc3TS,
	}
}

type tc3Vector struct {
	name      string
	id, key   string
	req       signature.TC3Request
	wantCR    string // optional golden canonical request
	wantCRSum string // hex sha256 of the canonical request
	want      string // signature
}

func tc3Vectors() []tc3Vector {
	reqC := tc3PostRequest()
	reqC.Headers = append(reqC.Headers, signature.Header{Name: "X-TC-Action", Value: "DescribeInstances"})
	reqC.SignedHeaders = []string{"content-type", "host", "x-tc-action"}
	return []tc3Vector{
		{
			name: "A POST", id: tc3IDA, key: tc3KeyA, req: tc3PostRequest(),
			wantCR: "POST\n/\n\ncontent-type:application/json; charset=utf-8\nhost:cvm.tencentcloudapi.com\n\n" +
				"content-type;host\n35e9c5b0e3ae67532d3c9f17ead6c90222632e5b1ff7f6e89887f1398934f064",
			wantCRSum: "5ffe6a04c0664d6b969fab9a13bdab201d63ee709638e2749d62a09ca18d7031",
			want:      "72e494ea809ad7a8c8f7a4507b9bddcbaa8e581f516e8da2f66e2c5a96525168",
		},
		{
			name: "B POST asterisk key", id: tc3IDB, key: tc3KeyB, req: tc3PostRequest(),
			wantCRSum: "5ffe6a04c0664d6b969fab9a13bdab201d63ee709638e2749d62a09ca18d7031",
			want:      "2230eefd229f582d8b1b891af7107b91597240707d778ab3738f756258d7652c",
		},
		{
			name: "older GET", id: tc3IDA, key: tc3KeyA,
			req: signature.TC3Request{
				Method: "GET",
				Query:  "Limit=10&Offset=0",
				Headers: []signature.Header{
					{"Content-Type", tc3Form},
					{"Host", v3Host},
				},
				SignedHeaders: []string{"content-type", "host"},
				Service:       "cvm",
				Timestamp:     tc3GetTS,
			},
			wantCR: "GET\n/\nLimit=10&Offset=0\ncontent-type:application/x-www-form-urlencoded\nhost:cvm.tencentcloudapi.com\n\n" +
				"content-type;host\ne3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
			wantCRSum: "91c9c192c14460df6c1ffc69e34e6c5e90708de2a6d282cccf957dbf1aa7f3a7",
			want:      "5da7a33f6993f0614b047e5df4582db9e9bf4672ba50567dba16c6ccf174c474",
		},
		{
			// Generation C's key is masked; its signature is checked from
			// the published kSigning in tc3_internal_test.go. With key B the
			// reference computes be4f67d3…b770a3 (prefix/suffix checked).
			name: "C POST x-tc-action signed (key B)", id: tc3IDB, key: tc3KeyB, req: reqC,
			wantCR: "POST\n/\n\ncontent-type:application/json; charset=utf-8\nhost:cvm.tencentcloudapi.com\nx-tc-action:describeinstances\n\n" +
				"content-type;host;x-tc-action\n35e9c5b0e3ae67532d3c9f17ead6c90222632e5b1ff7f6e89887f1398934f064",
			wantCRSum: "7019a55be8395899b900fb5564e4200d984910f34794a27cb3fb7d10ff6a1e84",
		},
	}
}

func hexSHA256(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

// setHeader returns a copy of hs with the value of the header called name
// (case-insensitive) replaced.
func setHeader(hs []signature.Header, name, value string) []signature.Header {
	out := slices.Clone(hs)
	for i := range out {
		if strings.EqualFold(out[i].Name, name) {
			out[i].Value = value
		}
	}
	return out
}

func headerValue(hs []signature.Header, name string) string {
	for _, h := range hs {
		if strings.EqualFold(h.Name, name) {
			return h.Value
		}
	}
	return ""
}

func TestTC3HashedPayload(t *testing.T) {
	if got, want := hexSHA256(tc3Body), "35e9c5b0e3ae67532d3c9f17ead6c90222632e5b1ff7f6e89887f1398934f064"; got != want {
		t.Fatalf("sha256(body) = %s, want %s", got, want)
	}
	cr := signature.TC3CanonicalRequest(tc3PostRequest())
	if !strings.HasSuffix(cr, "\n35e9c5b0e3ae67532d3c9f17ead6c90222632e5b1ff7f6e89887f1398934f064") {
		t.Errorf("canonical request does not end in the hashed payload:\n%s", cr)
	}
}

func TestTC3Vectors(t *testing.T) {
	for _, v := range tc3Vectors() {
		t.Run(v.name, func(t *testing.T) {
			cr := signature.TC3CanonicalRequest(v.req)
			if v.wantCR != "" && cr != v.wantCR {
				t.Errorf("TC3CanonicalRequest =\n%s\nwant\n%s", cr, v.wantCR)
			}
			if got := hexSHA256(cr); got != v.wantCRSum {
				t.Errorf("sha256(canonical request) = %s, want %s\n%s", got, v.wantCRSum, cr)
			}
			sts := signature.TC3StringToSign(v.req)
			wantSTS := fmt.Sprintf("TC3-HMAC-SHA256\n%d\n%s/%s/tc3_request\n%s",
				v.req.Timestamp, utcDate(v.req.Timestamp), v.req.Service, v.wantCRSum)
			if sts != wantSTS {
				t.Errorf("TC3StringToSign =\n%s\nwant\n%s", sts, wantSTS)
			}
			sig := signature.TC3Signature(v.key, v.req)
			if v.want != "" && sig != v.want {
				t.Fatalf("TC3Signature = %s, want %s", sig, v.want)
			}
			if v.want == "" && !(strings.HasPrefix(sig, "be4f67d3") && strings.HasSuffix(sig, "b770a3")) {
				t.Errorf("TC3Signature = %s, want be4f67d3…b770a3", sig)
			}
			checkVerifyAndMutations(t, v.id, v.key, v.req, sig)
		})
	}
}

func utcDate(ts int64) string {
	return time.Unix(ts, 0).UTC().Format(time.DateOnly)
}

// checkVerifyAndMutations checks that the request verifies with sig, via
// the Authorization header, and no longer verifies after a one-character
// change of any signed input.
func checkVerifyAndMutations(t *testing.T, id, key string, r signature.TC3Request, sig string) {
	t.Helper()
	h := signature.TC3Authorization(id, key, r)
	if !strings.HasSuffix(h, ", Signature="+sig) {
		t.Fatalf("TC3Authorization = %q does not carry signature %s", h, sig)
	}
	auth, err := signature.ParseTC3Authorization(h)
	if err != nil {
		t.Fatalf("ParseTC3Authorization(TC3Authorization(…)): %v", err)
	}
	if auth.SecretID != id || auth.Signature != sig || auth.Service != r.Service {
		t.Fatalf("parsed %+v", auth)
	}
	if !signature.VerifyTC3(key, auth, r) {
		t.Fatalf("VerifyTC3(correct) = false")
	}
	// The caller's Service and SignedHeaders are ignored in favour of auth's.
	r2 := r
	r2.Service, r2.SignedHeaders = "other", nil
	if !signature.VerifyTC3(key, auth, r2) {
		t.Errorf("VerifyTC3 does not take Service/SignedHeaders from auth")
	}

	mutations := map[string]func(r signature.TC3Request) (signature.TC3Request, signature.TC3Auth){}
	add := func(name string, f func(r *signature.TC3Request, a *signature.TC3Auth)) {
		mutations[name] = func(r signature.TC3Request) (signature.TC3Request, signature.TC3Auth) {
			a := auth
			a.SignedHeaders = slices.Clone(auth.SignedHeaders)
			r.Headers = slices.Clone(r.Headers)
			f(&r, &a)
			return r, a
		}
	}
	if len(r.Payload) > 0 {
		add("payload", func(r *signature.TC3Request, _ *signature.TC3Auth) {
			p := slices.Clone(r.Payload)
			p[len(p)/2] ^= 1
			r.Payload = p
		})
	} else {
		add("payload", func(r *signature.TC3Request, _ *signature.TC3Auth) { r.Payload = []byte("x") })
	}
	if r.Method == "GET" {
		add("query", func(r *signature.TC3Request, _ *signature.TC3Auth) { r.Query = changeOne(r.Query) })
	}
	add("host", func(r *signature.TC3Request, _ *signature.TC3Auth) {
		r.Headers = setHeader(r.Headers, "host", changeOne(headerValue(r.Headers, "host")))
	})
	add("host with port", func(r *signature.TC3Request, _ *signature.TC3Auth) {
		r.Headers = setHeader(r.Headers, "host", headerValue(r.Headers, "host")+":443")
	})
	for _, name := range auth.SignedHeaders {
		if name == "host" {
			continue
		}
		add("header "+name, func(r *signature.TC3Request, _ *signature.TC3Auth) {
			r.Headers = setHeader(r.Headers, name, changeOne(headerValue(r.Headers, name)))
		})
		add("header "+name+" absent", func(r *signature.TC3Request, _ *signature.TC3Auth) {
			r.Headers = slices.DeleteFunc(r.Headers, func(h signature.Header) bool { return strings.EqualFold(h.Name, name) })
		})
	}
	add("timestamp same day", func(r *signature.TC3Request, _ *signature.TC3Auth) { r.Timestamp++ })
	add("timestamp next day", func(r *signature.TC3Request, _ *signature.TC3Auth) { r.Timestamp += 86400 })
	add("timestamp next day, scope date too", func(r *signature.TC3Request, a *signature.TC3Auth) {
		r.Timestamp += 86400
		a.Date = utcDate(r.Timestamp)
	})
	add("scope date", func(_ *signature.TC3Request, a *signature.TC3Auth) { a.Date = a.Date[:9] + "1" })
	add("service", func(_ *signature.TC3Request, a *signature.TC3Auth) { a.Service = changeOne(a.Service) })
	add("signed header dropped", func(_ *signature.TC3Request, a *signature.TC3Auth) {
		a.SignedHeaders = slices.DeleteFunc(a.SignedHeaders, func(s string) bool { return s != "host" })
	})
	add("signed header added", func(_ *signature.TC3Request, a *signature.TC3Auth) {
		a.SignedHeaders = append(a.SignedHeaders, "x-tc-version")
	})
	add("signature", func(_ *signature.TC3Request, a *signature.TC3Auth) { a.Signature = changeOne(a.Signature) })
	add("method", func(r *signature.TC3Request, _ *signature.TC3Auth) {
		r.Method = map[string]string{"GET": "POST", "POST": "GET"}[r.Method]
	})
	for name, f := range mutations {
		r2, a2 := f(r)
		if signature.VerifyTC3(key, a2, r2) {
			t.Errorf("VerifyTC3 after changing %s = true", name)
		}
	}
	if signature.VerifyTC3(changeOne(key), auth, r) {
		t.Errorf("VerifyTC3 with changed key = true")
	}
	if signature.VerifyTC3(key[1:], auth, r) {
		t.Errorf("VerifyTC3 with shortened key = true")
	}
}

// TestTC3Canonicalisation covers the rules of TC3Request's doc comment that
// the published vectors do not exercise.
func TestTC3Canonicalisation(t *testing.T) {
	base := tc3PostRequest()
	want := signature.TC3Signature(tc3KeyA, base)

	same := map[string]func(r *signature.TC3Request){
		"method lower case": func(r *signature.TC3Request) { r.Method = "post" },
		"header names any case": func(r *signature.TC3Request) {
			r.Headers = []signature.Header{{"CONTENT-type", tc3JSON}, {"hOST", v3Host}}
		},
		"header values case and OWS": func(r *signature.TC3Request) {
			r.Headers = []signature.Header{{"Content-Type", " \tApplication/JSON; Charset=UTF-8 "}, {"Host", "CVM.tencentcloudapi.com"}}
		},
		"signed headers order":        func(r *signature.TC3Request) { r.SignedHeaders = []string{"host", "content-type"} },
		"signed headers upper case":   func(r *signature.TC3Request) { r.SignedHeaders = []string{"Content-Type", "HOST"} },
		"unsigned headers ignored":    func(r *signature.TC3Request) { r.Headers = append(r.Headers, signature.Header{"X-TC-Action", "X"}) },
		"query ignored for POST":      func(r *signature.TC3Request) { r.Query = "a=b" },
		"first of repeated header":    func(r *signature.TC3Request) { r.Headers = append(r.Headers, signature.Header{"Host", "evil"}) },
		"nil and empty payload equal": func(r *signature.TC3Request) {},
	}
	for name, f := range same {
		r := tc3PostRequest()
		r.Headers = slices.Clone(r.Headers)
		f(&r)
		if got := signature.TC3Signature(tc3KeyA, r); got != want {
			t.Errorf("%s: signature %s, want %s", name, got, want)
		}
	}

	// Non-ASCII bytes are kept, not case-mapped or replaced.
	r := tc3PostRequest()
	r.Headers = append(slices.Clone(r.Headers), signature.Header{"X-A", "Ä\xff"})
	r.SignedHeaders = []string{"content-type", "host", "x-a"}
	if cr := signature.TC3CanonicalRequest(r); !strings.Contains(cr, "\nx-a:Ä\xff\n") {
		t.Errorf("non-ASCII header value changed:\n%q", cr)
	}

	// A signed header that is absent has an empty value.
	r = tc3PostRequest()
	r.SignedHeaders = []string{"content-type", "host", "x-tc-action"}
	if cr := signature.TC3CanonicalRequest(r); !strings.Contains(cr, "\nx-tc-action:\n\ncontent-type;host;x-tc-action\n") {
		t.Errorf("absent signed header:\n%s", cr)
	}

	// GET keeps the query as received, without re-encoding or sorting.
	r = signature.TC3Request{Method: "get", Query: "b=%2f&a=x+y", SignedHeaders: []string{"host"},
		Headers: []signature.Header{{"Host", "h"}}}
	if cr, want := signature.TC3CanonicalRequest(r), "GET\n/\nb=%2f&a=x+y\nhost:h\n\nhost\n"+hexSHA256(""); cr != want {
		t.Errorf("GET canonical request =\n%s\nwant\n%s", cr, want)
	}

	// UNSIGNED-PAYLOAD hashes the literal, not the body.
	r = tc3PostRequest()
	r.UnsignedPayload = true
	cr := signature.TC3CanonicalRequest(r)
	if !strings.HasSuffix(cr, "\n"+hexSHA256("UNSIGNED-PAYLOAD")) {
		t.Errorf("UNSIGNED-PAYLOAD:\n%s", cr)
	}
	r.Payload = []byte("anything else")
	if got := signature.TC3CanonicalRequest(r); got != cr {
		t.Errorf("UNSIGNED-PAYLOAD canonical request depends on the body")
	}

	// The scope date is the UTC date: 1551139199 is 2019-02-25T23:59:59Z,
	// already 2019-02-26 east of UTC.
	r = tc3PostRequest()
	r.Timestamp = 1551139199
	if sts := signature.TC3StringToSign(r); !strings.Contains(sts, "\n2019-02-25/cvm/tc3_request\n") {
		t.Errorf("StringToSign at 23:59:59Z:\n%s", sts)
	}
	r.Timestamp++
	if sts := signature.TC3StringToSign(r); !strings.Contains(sts, "\n2019-02-26/cvm/tc3_request\n") {
		t.Errorf("StringToSign at midnight:\n%s", sts)
	}
}

// TestVerifyTC3Defensive covers the requests VerifyTC3 refuses even though
// a signature could be computed for them.
func TestVerifyTC3Defensive(t *testing.T) {
	sign := func(r signature.TC3Request) signature.TC3Auth {
		return signature.TC3Auth{SecretID: tc3IDA, Date: "2019-02-25", Service: r.Service,
			SignedHeaders: r.SignedHeaders, Signature: signature.TC3Signature(tc3KeyA, r)}
	}
	r := tc3PostRequest()
	if !signature.VerifyTC3(tc3KeyA, sign(r), r) {
		t.Fatal("baseline does not verify")
	}
	for name, f := range map[string]func(r *signature.TC3Request){
		"host not signed": func(r *signature.TC3Request) { r.SignedHeaders = []string{"content-type"} },
		"empty service":   func(r *signature.TC3Request) { r.Service = "" },
		"repeated signed header": func(r *signature.TC3Request) {
			r.Headers = append(r.Headers, signature.Header{"content-type", tc3JSON})
		},
		"LF in signed header":      func(r *signature.TC3Request) { r.Headers = setHeader(r.Headers, "content-type", "a\nhost:b") },
		"CR in signed header":      func(r *signature.TC3Request) { r.Headers = setHeader(r.Headers, "host", "a\r") },
		"LF in query (GET)":        func(r *signature.TC3Request) { r.Method, r.Query, r.Payload = "GET", "a=1\n", nil },
		"empty auth (zero values)": func(r *signature.TC3Request) { r.Service, r.SignedHeaders = "", nil },
	} {
		r := tc3PostRequest()
		r.Headers = slices.Clone(r.Headers)
		f(&r)
		if signature.VerifyTC3(tc3KeyA, sign(r), r) {
			t.Errorf("%s: VerifyTC3 = true", name)
		}
	}
	// An unrepeated unsigned header is irrelevant, a repeated one too.
	r = tc3PostRequest()
	r.Headers = append(slices.Clone(r.Headers), signature.Header{"X-TC-Action", "A"}, signature.Header{"x-tc-action", "B"})
	if !signature.VerifyTC3(tc3KeyA, sign(r), r) {
		t.Errorf("repeated unsigned header: VerifyTC3 = false")
	}
}

// TestTC3NodeStyle: the Node SDK signs the host without its port and uses
// the first '.'-label of its endpoint as the service. Such a call verifies
// when the caller passes the host without port and the service is taken
// from the Authorization header, as VerifyTC3 does.
func TestTC3NodeStyle(t *testing.T) {
	for _, tc := range []struct{ endpoint, hostname, service string }{
		{"localhost:8080", "localhost", "localhost"},
		{"localhost:8080", "localhost", "localhost:8080"},
		{"127.0.0.1:8080", "127.0.0.1", "127"},
		{"cdn.tencentcloudapi.com", "cdn.tencentcloudapi.com", "cdn"},
	} {
		t.Run(tc.endpoint+"/"+tc.service, func(t *testing.T) {
			client := tc3PostRequest()
			client.Headers = []signature.Header{{"Content-Type", "application/json"}, {"Host", tc.hostname}}
			client.Service = tc.service
			h := signature.TC3Authorization(tc3IDA, tc3KeyA, client)
			auth, err := signature.ParseTC3Authorization(h)
			if err != nil {
				t.Fatalf("ParseTC3Authorization(%q): %v", h, err)
			}
			if auth.Service != tc.service {
				t.Fatalf("service %q, want %q", auth.Service, tc.service)
			}
			// What the proxy receives: Host with the port, service "cdn" assumed.
			received := client
			received.Headers = []signature.Header{{"Content-Type", "application/json"}, {"Host", tc.endpoint}}
			received.Service = "cdn"
			if tc.endpoint != tc.hostname && signature.VerifyTC3(tc3KeyA, auth, received) {
				t.Errorf("verified with the port in the host")
			}
			received.Headers = setHeader(received.Headers, "host", tc.hostname)
			if !signature.VerifyTC3(tc3KeyA, auth, received) {
				t.Errorf("does not verify with the host without port")
			}
		})
	}
}

func TestTC3RoundTrip(t *testing.T) {
	r := signature.TC3Request{
		Method:        "POST",
		Headers:       []signature.Header{{"Host", "127.0.0.1:8080"}, {"Content-Type", "application/json"}, {"X-TC-Action", "PurgeUrlsCache"}},
		SignedHeaders: []string{"x-tc-action", "host", "content-type"},
		Payload:       []byte(`{"Urls":["https://example.com/a"]}`),
		Service:       "cdn",
		Timestamp:     1767225600, // 2026-01-01T00:00:00Z
	}
	h := signature.TC3Authorization("AKIDexample", "secret", r)
	want := "TC3-HMAC-SHA256 Credential=AKIDexample/2026-01-01/cdn/tc3_request, SignedHeaders=content-type;host;x-tc-action, Signature=" +
		signature.TC3Signature("secret", r)
	if h != want {
		t.Fatalf("TC3Authorization =\n%s\nwant\n%s", h, want)
	}
	if strings.Contains(h, "secret") {
		t.Fatalf("Authorization contains the key")
	}
	auth, err := signature.ParseTC3Authorization(h)
	if err != nil {
		t.Fatal(err)
	}
	if !signature.VerifyTC3("secret", auth, r) {
		t.Fatal("VerifyTC3(ParseTC3Authorization(TC3Authorization(r))) = false")
	}
	if signature.VerifyTC3("secreT", auth, r) {
		t.Fatal("VerifyTC3 with another key = true")
	}
}

const (
	goodSig  = "72e494ea809ad7a8c8f7a4507b9bddcbaa8e581f516e8da2f66e2c5a96525168"
	goodAuth = "TC3-HMAC-SHA256 Credential=" + tc3IDA + "/2019-02-25/cvm/tc3_request, SignedHeaders=content-type;host, Signature=" + goodSig
)

func TestParseTC3Authorization(t *testing.T) {
	want := signature.TC3Auth{SecretID: tc3IDA, Date: "2019-02-25", Service: "cvm",
		SignedHeaders: []string{"content-type", "host"}, Signature: goodSig}
	cred := "Credential=" + tc3IDA + "/2019-02-25/cvm/tc3_request"
	sh := "SignedHeaders=content-type;host"
	sig := "Signature=" + goodSig
	good := []struct {
		name, h string
		want    signature.TC3Auth
	}{
		{"canonical", goodAuth, want},
		{"no spaces after commas", "TC3-HMAC-SHA256 " + cred + "," + sh + "," + sig, want},
		{"extra spaces and tabs", "  TC3-HMAC-SHA256   " + cred + " ,  " + sh + "\t,\t" + sig + " \t", want},
		{"members reordered", "TC3-HMAC-SHA256 " + sig + ", " + cred + ", " + sh, want},
		{"x-tc-action, host first", "TC3-HMAC-SHA256 " + cred + ", SignedHeaders=host;x-tc-action, " + sig,
			signature.TC3Auth{SecretID: tc3IDA, Date: "2019-02-25", Service: "cvm", SignedHeaders: []string{"host", "x-tc-action"}, Signature: goodSig}},
		{"node service with port", "TC3-HMAC-SHA256 Credential=" + tc3IDB + "/2019-02-25/localhost:8080/tc3_request, SignedHeaders=host, " + sig,
			signature.TC3Auth{SecretID: tc3IDB, Date: "2019-02-25", Service: "localhost:8080", SignedHeaders: []string{"host"}, Signature: goodSig}},
	}
	for _, tc := range good {
		got, err := signature.ParseTC3Authorization(tc.h)
		if err != nil {
			t.Errorf("%s: ParseTC3Authorization(%q): %v", tc.name, tc.h, err)
			continue
		}
		if !equalAuth(got, tc.want) {
			t.Errorf("%s: got %+v, want %+v", tc.name, got, tc.want)
		}
	}

	bad := []struct{ name, h, detail string }{
		{"empty", "", "algorithm"},
		{"other algorithm", strings.Replace(goodAuth, "TC3-HMAC-SHA256", "HMAC-SHA256", 1), "algorithm"},
		{"algorithm lower case", strings.Replace(goodAuth, "TC3-HMAC-SHA256", "tc3-hmac-sha256", 1), "algorithm"},
		{"algorithm only", "TC3-HMAC-SHA256", "after the algorithm"},
		{"algorithm and spaces", "TC3-HMAC-SHA256   ", "after the algorithm"},
		{"no space after algorithm", "TC3-HMAC-SHA256" + cred + ", " + sh + ", " + sig, "after the algorithm"},
		{"algorithm glued", "TC3-HMAC-SHA256X " + cred + ", " + sh + ", " + sig, "after the algorithm"},
		{"missing Signature", "TC3-HMAC-SHA256 " + cred + ", " + sh, "missing Signature"},
		{"missing Credential", "TC3-HMAC-SHA256 " + sh + ", " + sig, "missing Credential"},
		{"missing SignedHeaders", "TC3-HMAC-SHA256 " + cred + ", " + sig, "missing SignedHeaders"},
		{"member twice", "TC3-HMAC-SHA256 " + cred + ", " + cred + ", " + sig, "twice"},
		{"fourth member", goodAuth + ", X=y", "more than three"},
		{"trailing comma", goodAuth + ",", "more than three"},
		{"empty member", "TC3-HMAC-SHA256 " + cred + ",, " + sh + ", " + sig, "key=value"},
		{"unknown member", "TC3-HMAC-SHA256 " + cred + ", Foo=bar, " + sig, "unknown key"},
		{"member key case", "TC3-HMAC-SHA256 credential=" + tc3IDA + "/2019-02-25/cvm/tc3_request, " + sh + ", " + sig, "unknown key"},
		{"space around =", "TC3-HMAC-SHA256 Credential = " + tc3IDA + "/2019-02-25/cvm/tc3_request, " + sh + ", " + sig, "unknown key"},
		{"empty Credential", "TC3-HMAC-SHA256 Credential=, " + sh + ", " + sig, "key=value"},
		{"empty SignedHeaders", "TC3-HMAC-SHA256 " + cred + ", SignedHeaders=, " + sig, "key=value"},
		{"empty Signature", "TC3-HMAC-SHA256 " + cred + ", " + sh + ", Signature=", "key=value"},
		{"scope not tc3_request", strings.Replace(goodAuth, "tc3_request", "tc2_request", 1), "tc3_request"},
		{"scope too short", strings.Replace(goodAuth, "/cvm/tc3_request", "/tc3_request", 1), "Credential is not"},
		{"scope too long", strings.Replace(goodAuth, "/cvm/", "/cvm/x/", 1), "Credential is not"},
		{"empty secret id", strings.Replace(goodAuth, tc3IDA, "", 1), "secret id"},
		{"secret id with space", strings.Replace(goodAuth, tc3IDA, "AKID x", 1), "secret id"},
		{"secret id non-ASCII", strings.Replace(goodAuth, tc3IDA, "AKIDé", 1), "secret id"},
		{"empty date", strings.Replace(goodAuth, "2019-02-25", "", 1), "date"},
		{"date not a date", strings.Replace(goodAuth, "2019-02-25", "2019-02-30", 1), "date"},
		{"date short form", strings.Replace(goodAuth, "2019-02-25", "2019-2-25", 1), "date"},
		{"date compact", strings.Replace(goodAuth, "2019-02-25", "20190225", 1), "date"},
		{"empty service", strings.Replace(goodAuth, "/cvm/", "//", 1), "service"},
		{"service with ;", strings.Replace(goodAuth, "/cvm/", "/c;m/", 1), "service"},
		{"signed headers without host", strings.Replace(goodAuth, "content-type;host", "content-type", 1), "host"},
		{"signed headers upper case", strings.Replace(goodAuth, "content-type;host", "Content-Type;Host", 1), "lower-case header name"},
		{"signed headers empty name", strings.Replace(goodAuth, "content-type;host", "content-type;;host", 1), "lower-case header name"},
		{"signed headers trailing ;", strings.Replace(goodAuth, "content-type;host", "content-type;host;", 1), "lower-case header name"},
		{"signed headers space", strings.Replace(goodAuth, "content-type;host", "content-type; host", 1), "lower-case header name"},
		{"signed headers repeated", strings.Replace(goodAuth, "content-type;host", "host;content-type;host", 1), "twice"},
		{"signature upper-case hex", strings.Replace(goodAuth, goodSig, strings.ToUpper(goodSig), 1), "hex"},
		{"signature not hex", strings.Replace(goodAuth, goodSig, goodSig[:63]+"g", 1), "hex"},
		{"signature short", strings.Replace(goodAuth, goodSig, goodSig[:62], 1), "hex"},
		{"signature long", goodAuth + "00", "hex"},
		{"signature base64", strings.Replace(goodAuth, goodSig, "cuSU6oCa16jI96RQe5vdy6qOWB9RbsjaL2bixaUlJRg=", 1), "hex"},
	}
	for _, tc := range bad {
		got, err := signature.ParseTC3Authorization(tc.h)
		if err == nil {
			t.Errorf("%s: ParseTC3Authorization(%q) = %+v, want error", tc.name, tc.h, got)
			continue
		}
		if !errors.Is(err, signature.ErrBadAuthorization) {
			t.Errorf("%s: error %v is not ErrBadAuthorization", tc.name, err)
		}
		if !strings.Contains(err.Error(), tc.detail) {
			t.Errorf("%s: error %q does not mention %q", tc.name, err, tc.detail)
		}
		if !equalAuth(got, signature.TC3Auth{}) {
			t.Errorf("%s: non-zero TC3Auth with error: %+v", tc.name, got)
		}
	}
}

// TestParseTC3AuthorizationErrorsOmitValues: error texts never echo the
// secret id or signature of the header.
func TestParseTC3AuthorizationErrorsOmitValues(t *testing.T) {
	const id, hexsig = "AKIDsecretlooking", "deadbeefcafe"
	for _, h := range []string{
		"TC3-HMAC-SHA256 Credential=" + id + "/2019-02-25/cvm/tc3_request, SignedHeaders=content-type, Signature=" + hexsig,
		"TC3-HMAC-SHA256 Credential=" + id + "/2019-02-25/cvm/tc3_request, SignedHeaders=host, Signature=" + hexsig,
		"TC3-HMAC-SHA256 Credential=" + id + "/2019-02-25/cvm/tc3_requesT, SignedHeaders=host, Signature=" + hexsig,
		"TC3-HMAC-SHA256 Credential=" + id + "/2019-13-25/cvm/tc3_request",
		"TC3-HMAC-SHA256 Credential=" + id + " x/2019-02-25/cvm/tc3_request",
		"TC3-HMAC-SHA256 " + id + "=" + hexsig,
		"Bearer " + id + hexsig,
	} {
		_, err := signature.ParseTC3Authorization(h)
		if err == nil {
			t.Fatalf("ParseTC3Authorization(%q) succeeded", h)
		}
		if s := err.Error(); strings.Contains(s, id) || strings.Contains(s, hexsig) {
			t.Errorf("error %q echoes a value of %q", s, h)
		}
	}
}

func equalAuth(a, b signature.TC3Auth) bool {
	return a.SecretID == b.SecretID && a.Date == b.Date && a.Service == b.Service &&
		slices.Equal(a.SignedHeaders, b.SignedHeaders) && a.Signature == b.Signature
}

// formatAuth writes a in the canonical form of the Authorization header.
func formatAuth(a signature.TC3Auth) string {
	return "TC3-HMAC-SHA256 Credential=" + a.SecretID + "/" + a.Date + "/" + a.Service +
		"/tc3_request, SignedHeaders=" + strings.Join(a.SignedHeaders, ";") + ", Signature=" + a.Signature
}

func FuzzParseTC3Authorization(f *testing.F) {
	f.Add(goodAuth)
	f.Add("TC3-HMAC-SHA256 Signature=" + goodSig + ",Credential=a/2019-02-25/localhost:8080/tc3_request,SignedHeaders=host;x-tc-action")
	f.Add("  TC3-HMAC-SHA256   Credential=a/2000-02-29/s/tc3_request ,\tSignedHeaders=host , Signature=" + goodSig)
	f.Add("TC3-HMAC-SHA256 Credential=a/2019-02-25/cvm/tc3_request, SignedHeaders=content-type;host;content-type, Signature=" + goodSig)
	f.Add("TC3-HMAC-SHA256 Credential=/2019-02-25//tc3_request,,")
	f.Add("TC3-HMAC-SHA256 ,,,,")
	f.Add("")
	f.Fuzz(func(t *testing.T, h string) {
		a, err := signature.ParseTC3Authorization(h)
		if err != nil {
			if !errors.Is(err, signature.ErrBadAuthorization) {
				t.Fatalf("ParseTC3Authorization(%q): error %v is not ErrBadAuthorization", h, err)
			}
			if !equalAuth(a, signature.TC3Auth{}) {
				t.Fatalf("ParseTC3Authorization(%q): non-zero result with error", h)
			}
			return
		}
		if a.SecretID == "" || a.Date == "" || a.Service == "" || len(a.Signature) != 64 ||
			!slices.Contains(a.SignedHeaders, "host") {
			t.Fatalf("ParseTC3Authorization(%q) = %+v: contract violated", h, a)
		}
		canon := formatAuth(a)
		b, err := signature.ParseTC3Authorization(canon)
		if err != nil {
			t.Fatalf("re-parse of canonical form %q (from %q): %v", canon, h, err)
		}
		if !equalAuth(a, b) {
			t.Fatalf("round trip changed the fields\nfrom %q\ncanon %q\n1 %+v\n2 %+v", h, canon, a, b)
		}
		// Verification of a parsed header must not panic, whatever it holds.
		signature.VerifyTC3("k", a, tc3PostRequest())
	})
}

func ExampleTC3Authorization() {
	// Generation A of the published TC3 vectors (docs/reference/cdn-api-v3.md §2.2).
	r := signature.TC3Request{
		Method: "POST",
		Headers: []signature.Header{
			{Name: "Content-Type", Value: "application/json; charset=utf-8"},
			{Name: "Host", Value: "cvm.tencentcloudapi.com"},
		},
		SignedHeaders: []string{"content-type", "host"},
		Payload:       []byte(`{"Limit": 1, "Filters": [{"Values": ["\u672a\u547d\u540d"], "Name": "instance-name"}]}`),
		Service:       "cvm",
		Timestamp:     1551113065,
	}
	h := signature.TC3Authorization("AKIDz8krbsJ5yKBZQpn74WFkmLPx3EXAMPLE", "Gu5t9xGARNpq86cd98joQYCN3EXAMPLE", r)
	fmt.Println(h)

	auth, err := signature.ParseTC3Authorization(h)
	if err != nil {
		panic(err)
	}
	fmt.Println(signature.VerifyTC3("Gu5t9xGARNpq86cd98joQYCN3EXAMPLE", auth, r))
	// Output:
	// TC3-HMAC-SHA256 Credential=AKIDz8krbsJ5yKBZQpn74WFkmLPx3EXAMPLE/2019-02-25/cvm/tc3_request, SignedHeaders=content-type;host, Signature=72e494ea809ad7a8c8f7a4507b9bddcbaa8e581f516e8da2f66e2c5a96525168
	// true
}

func BenchmarkVerifyTC3(b *testing.B) {
	r := tc3PostRequest()
	auth, err := signature.ParseTC3Authorization(goodAuth)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.SetBytes(int64(len(r.Payload)))
	for b.Loop() {
		if !signature.VerifyTC3(tc3KeyA, auth, r) {
			b.Fatal("does not verify")
		}
	}
}

// TestTC3KeyMatchesTC3Authorization checks that a TC3Key, which keeps its
// derived key, signs as TC3Authorization does, across a change of date
// and of service.
func TestTC3KeyMatchesTC3Authorization(t *testing.T) {
	k := signature.NewTC3Key("AKIDz8krbsJ5yKBZQpn74WFkmLPx3EXAMPLE", "Gu5t9xGARNpq86cd98joQYCN3EXAMPLE")
	r := signature.TC3Request{Method: "POST", SignedHeaders: []string{"content-type", "host"},
		Headers: []signature.Header{{Name: "content-type", Value: "application/json"}, {Name: "host", Value: "cdn.tencentcloudapi.com"}},
		Payload: []byte(`{"Urls":["https://www.example.com/a"]}`), Service: "cdn", Timestamp: 1551113065}
	for _, step := range []struct {
		ts      int64
		service string
	}{{1551113065, "cdn"}, {1551113066, "cdn"}, {1551113065 + 86400, "cdn"}, {1551113065 + 86400, "cvm"}, {1551113065, "cdn"}} {
		r.Timestamp, r.Service = step.ts, step.service
		want := signature.TC3Authorization("AKIDz8krbsJ5yKBZQpn74WFkmLPx3EXAMPLE", "Gu5t9xGARNpq86cd98joQYCN3EXAMPLE", r)
		if got := k.Authorization(r); got != want {
			t.Errorf("ts %d service %s: TC3Key signs\n\t%s\nwant\n\t%s", step.ts, step.service, got, want)
		}
	}
}
