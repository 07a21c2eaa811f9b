package annotate_test

import (
	"bytes"
	"fmt"
	"strings"
	"testing"

	"github.com/cdnproxy/cdnproxy/annotate"
)

const (
	needMore  = annotate.NeedMore
	pass      = annotate.Pass
	succeeded = annotate.Succeeded
	buffer    = annotate.Buffer
)

// bigData is a success payload large enough that "code" comes far from the
// start when it follows it.
var bigData = `"data":{"hosts":[` + strings.Repeat(`{"id":308902,"host":"www.test.com","message":"已开启","code":4000},`, 100) + `{}],"total":101}`

var decideTests = []struct {
	name   string
	prefix string
	want   annotate.Verdict
}{
	{"empty", "", needMore},
	{"white space", " \r\n\t", needMore},
	{"open brace", "{", needMore},
	{"open brace and space", "{ \n", needMore},
	{"part of a key", `{"co`, needMore},
	{"key", `{"code"`, needMore},
	{"key and colon", `{"code":`, needMore},
	{"key, colon, space", `{"code": `, needMore},
	{"digit at the end", `{"code":0`, needMore},          // could be 0.5 or 01
	{"digits at the end", `{"code":4000`, needMore},      // could be 40001
	{"string code unterminated", `{"code":"0`, needMore}, // could be "01"
	{"other member unterminated", `{"message":"(9110`, needMore},
	{"escape at the end", `{"message":"\`, needMore},
	{"nested member unterminated", `{"data":{"a":[1,2`, needMore},
	{"comma", `{"message":"",`, needMore},
	{"code zero", `{"code":0,`, succeeded},
	{"code zero, brace", `{"code":0}`, succeeded},
	{"code zero, space", `{"code":0 `, succeeded},
	{"code zero string", `{"code":"0"`, succeeded},
	{"code minus zero", `{"code":-0,`, succeeded},
	{"code zero, space around", " {\n \"code\" : 0\n", succeeded},
	{"code zero after members", `{"retcode": 0, "errmsg": "ok", "code": 0, "message": ""`, succeeded},
	{"code zero, garbage after", `{"code":0,this is not JSON`, succeeded},
	{"code 4000", `{"code":4000,`, buffer},
	{"code 4000 string", `{"code":"4000"`, buffer},
	{"code 4100 last", `{"message":"auth","codeDesc":"AuthFailure","code":4100}`, buffer},
	{"negative code", `{"code":-1}`, buffer},
	{"escaped code key", `{"\u0063ode":4000,`, buffer},
	{"escaped code key, zero", `{"co\u0064e":0,`, succeeded},
	{"key all escapes, upper-case hex", `{"\u0063\u006F\u0064\u0065":4000}`, buffer},
	{"escaped key with solidus", `{"\/code":0,"cod\u0065":0}`, succeeded},
	{"escaped key with NUL", `{"code\u0000":0}`, pass},
	{"escaped key, capital C", `{"\u0043ode":0}`, pass},
	{"escaped key, non-ASCII", `{"\u00e7ode":0}`, pass},
	{"escaped key, surrogate", `{"\ud83d\ude00code":0}`, pass},
	{"escaped key, invalid escape", `{"\x63ode":0}`, pass},
	{"escaped key, short u escape", `{"\u006":0}`, pass},
	{"escaped key, bad hex", `{"\u006g":0}`, pass},
	{"escaped long key", `{"\u0063odecodecodecodecode":0}`, pass},
	{"escaped key, tab", `{"\tcode":0}`, pass},
	{"escaped other key", `{"\u0063odes":0,"code":4000}`, buffer},
	{"key with escaped quote", `{"code\"":0,"code":4000}`, buffer},
	{"code float", `{"code":4000.5,`, pass},
	{"code exponent", `{"code":4e3}`, pass},
	{"code true", `{"code":true,`, pass},
	{"code null", `{"code":null}`, pass},
	{"code object", `{"code":{"v":0}}`, pass},
	{"code huge", `{"code":"99999999999"`, pass},
	{"code text", `{"code":"abc"`, pass},
	{"no code", `{"message":"","codeDesc":"Success"}`, pass},
	{"empty object", `{}`, pass},
	{"array", `[{"code":0}]`, pass},
	{"string", `"code"`, pass},
	{"number", `0`, pass},
	{"null", `null`, pass},
	{"HTML", `<html><body>502 Bad Gateway</body></html>`, pass},
	{"BOM", "\xef\xbb\xbf{\"code\":0}", pass},
	{"unquoted key", `{code:0}`, pass},
	{"missing colon", `{"code" 0}`, pass},
	{"missing comma", `{"a":1 "code":0}`, pass},
	{"control character in key", "{\"co\nde\":0}", pass},
	{"nested code only", `{"data":{"code":0}}`, pass},
	{"too deep before code", `{"x":` + strings.Repeat("[", 300) + strings.Repeat("]", 300) + `,"code":0}`, pass},
	{"deep within limit before code", `{"x":` + strings.Repeat("[", 200) + strings.Repeat("]", 200) + `,"code":0}`, succeeded},
	{"deep after code", `{"code":4000,"x":` + strings.Repeat("[", 10000), buffer},
	{"big data first, code not yet reached", `{` + bigData + `,"message":""`, needMore},
	{"big data first, cut inside it", `{` + bigData[:len(bigData)/2], needMore},
	{"big data first, then code 0", `{` + bigData + `,"code":0`, needMore},
	{"big data first, then code 0,", `{` + bigData + `,"code":0,`, succeeded},
	{"big data first, then code 4000", `{` + bigData + `,"code":4000}`, buffer},
}

func TestDecide(t *testing.T) {
	for _, tt := range decideTests {
		t.Run(tt.name, func(t *testing.T) {
			if got := annotate.Decide([]byte(tt.prefix)); got != tt.want {
				t.Errorf("Decide(%.80q) = %v, want %v", tt.prefix, got, tt.want)
			}
		})
	}
}

// checkPrefixes checks that Decide on the successive prefixes of b says
// NeedMore and then, once it says anything else, keeps saying it: a
// verdict never changes as more of the body arrives. It returns the
// verdict on the whole of b and the length of the shortest prefix that
// gave it.
func checkPrefixes(b []byte) (annotate.Verdict, int, error) {
	first, n := needMore, 0
	for i := 0; i <= len(b); i++ {
		v := annotate.Decide(b[:i])
		switch {
		case first == needMore && v != needMore:
			first, n = v, i
		case v != first:
			return v, i, fmt.Errorf("Decide(%q) = %v, but Decide(%q) = %v", b[:n], first, b[:i], v)
		}
	}
	return first, n, nil
}

// Decide agrees with Body on every body the Body tests use, and on every
// prefix of it.
func TestDecideAgreesWithBody(t *testing.T) {
	var bodies []string
	for _, tt := range failureTests {
		bodies = append(bodies, tt.body)
	}
	for _, tt := range unchangedTests {
		if len(tt.body) < 1000 {
			bodies = append(bodies, tt.body)
		}
	}
	bodies = append(bodies, successTests...)
	for _, tt := range decideTests {
		if len(tt.prefix) < 1000 {
			bodies = append(bodies, tt.prefix)
		}
	}
	for _, body := range bodies {
		b := []byte(body)
		v, _, err := checkPrefixes(b)
		if err != nil {
			t.Error(err)
			continue
		}
		switch _, res := annotate.Body(b); res.Kind {
		case annotate.Failure:
			if v != buffer {
				t.Errorf("Body(%s) is a failure, Decide says %v", b, v)
			}
		case annotate.Success:
			if v != succeeded {
				t.Errorf("Body(%s) is a success, Decide says %v", b, v)
			}
		}
	}
}

// oneMB returns a 1 MB success body with "code" first and a large data
// member after it.
func oneMB() []byte {
	b := []byte(`{"code":0,"message":"","codeDesc":"Success","data":{"logs":[`)
	for len(b) < 1<<20-100 {
		b = append(b, `{"id":6182538,"host":"www.test.com","url_list":["http://www.test.com/a.png"],"code":4000},`...)
	}
	return append(b, `{}],"total":1}}`...)
}

// A success body with "code" first is decided from its first bytes:
// neither its length nor what follows the code matters.
func TestDecideLargeSuccessEarly(t *testing.T) {
	b := oneMB()
	v, n, err := checkPrefixes(b[:4096])
	if err != nil {
		t.Fatal(err)
	}
	if v != succeeded || n != len(`{"code":0,`) {
		t.Fatalf("first verdict %v after %d bytes, want succeeded after %d", v, n, len(`{"code":0,`))
	}
	if v := annotate.Decide(b); v != succeeded {
		t.Fatalf("Decide(1 MB) = %v", v)
	}
	// What follows the code is not even looked at: the same body with
	// its tail broken is decided the same way.
	broken := bytes.Clone(b)
	broken[len(broken)/2] = 0
	broken = broken[:len(broken)-3]
	if v := annotate.Decide(broken); v != succeeded {
		t.Fatalf("Decide(1 MB with a broken tail) = %v", v)
	}
	// Body, which does read it all, agrees.
	if out, res := annotate.Body(b); res.Kind != annotate.Success || !sameSlice(out, b) {
		t.Fatalf("Body(1 MB) = %v", res.Kind)
	}
}

// With a big member before "code", Decide needs more until the code has
// been read.
func TestDecideCodeAfterBigData(t *testing.T) {
	for _, tail := range []struct {
		s    string
		want annotate.Verdict
	}{{`,"code":0}`, succeeded}, {`,"code":4000,"message":"(9110)x"}`, buffer}} {
		b := []byte(`{` + bigData + tail.s)
		v, n, err := checkPrefixes(b)
		if err != nil {
			t.Fatal(err)
		}
		if at := len(`{`+bigData+`,"code":`) + 1; v != tail.want || n < at {
			t.Errorf("verdict %v after %d bytes, want %v, not before %d", v, n, tail.want, at)
		}
	}
}

func TestVerdictString(t *testing.T) {
	for v, want := range map[annotate.Verdict]string{needMore: "need_more", pass: "pass", succeeded: "succeeded", buffer: "buffer", 99: "need_more"} {
		if got := v.String(); got != want {
			t.Errorf("Verdict(%d).String() = %q, want %q", v, got, want)
		}
	}
}
