package annotate_test

import (
	"strings"
	"testing"

	"github.com/cdnproxy/cdnproxy/annotate"
)

// splitAll checks that body is ambiguous or not (want) whole, in pieces
// of every size up to 80, and cut in three at every pair of places up to
// 12 bytes apart.
func splitAll(t *testing.T, body string, want bool) {
	t.Helper()
	b := []byte(body)
	if got := annotate.Ambiguous(b); got != want {
		t.Errorf("whole %q = %v want %v", trunc(body), got, want)
	}
	for size := 1; size <= 80 && size <= len(b); size++ {
		if got := watchInPieces(b, size); got != want {
			t.Errorf("%q size %d = %v want %v", trunc(body), size, got, want)
		}
	}
	for i := 0; i <= len(b); i++ {
		for j := i; j <= len(b) && j <= i+12; j++ {
			var w annotate.Watch
			w.Write(b[:i])
			w.Write(b[i:j])
			w.Write(b[j:])
			if got := w.Ambiguous(); got != want {
				t.Errorf("%q cut %d,%d = %v want %v", trunc(body), i, j, got, want)
				return
			}
		}
	}
}

// trunc shortens a long body for a message.
func trunc(s string) string {
	if len(s) > 200 {
		return s[:100] + "..." + s[len(s)-100:]
	}
	return s
}

// checkValid runs splitAll on a valid object, with encoding/json's answer.
func checkValid(t *testing.T, body string) {
	t.Helper()
	c, r, ok := topLevelKeys([]byte(body))
	if !ok {
		t.Fatalf("not a valid object: %q", trunc(body))
	}
	splitAll(t, body, c > 1 || r > 1)
}

func TestWatchValidCases(t *testing.T) {
	bs := strings.Repeat
	cases := []string{
		`{"code":0,"\u0063\u006F\u0064\u0065":1}`,
		`{"code":0,"\u0063\u006f\u0064\u0065":1}`,
		`{"code":0,"\u0052\u0065\u0073\u0070\u006F\u006E\u0073\u0065":1}`,
		`{"Response":0,"\u0052\u0065\u0073\u0070\u006F\u006E\u0073\u0065":1}`,
		`{"\u0052\u0065\u0073\u0070\u006F\u006E\u0073\u0065":0,"Response":1}`,
		`{"c\u006Fde":0,"cod\u0065":1}`,
		`{"code":0,"x":"` + bs(`\`, 130) + `","code":1}`,
		`{"code":0,"x":"` + bs(`\`, 129) + `"code","y":1}`,
		`{"code":0,"x":"` + bs(`\`, 129) + `"code\"","code":1}`,
		`{"code":0,"x":"` + bs(`\`, 200) + `\u0063ode","code":1}`,
		`{"code":0,"x":"` + bs(`\`, 201) + `"` + `,\"code\":1"}`,
		`{"code":0,"x":"` + bs(`\`, 64) + `","code":1}`,
		`{"code":0,"x":"` + bs(`\`, 63) + `"","code":1}`,
		`{"code":0,"x":"` + bs(`\`, 65) + `"","code":1}`,
		`{"code":0,"x":"` + bs(`\`, 66) + `","y":"` + bs(`\`, 70) + `","code":1}`,
		`{"code":0,"x":"` + bs(`\`, 66) + `u0063ode","code":1}`,
		`{"code":0,"x":"` + bs(`\`, 67) + `u0063ode","y":1}`,
		`{"code":0,"x":"` + bs(`\`, 128) + `","\u0063ode":1}`,
		`{"code":0,"x":"` + bs(`\\`, 40) + `","\u0063ode":1}`,
		`{"code" : 0 , "code" : 1}`,
		"{ \"code\"\n:\t0\r,\n\"code\"\n\n:1\n}\n",
		"{\"code\":0,\"x\":{\"y\":[1,2,{\"code\":1}]}  ,  \"code\"   :  2   }   ",
		`{"code":0,"x":"de\"co\"de\"","y":"\"code\"","z":1}`,
		`{"code":0,"x":"\"co","y":"de\"","z":1}`,
		`{"code":0,"x":"\"co\\","y":"de\"","z":1}`,
		`{"code":0,"x":"a\\\"code\\\"","code":1}`,
		`{"code":0,"x":"\\","code":1}`,
		`{"Response":{"Response":{"Response":1}},"x":1}`,
		`{"Response":{"Response":{"Response":1}},"Response":1}`,
		`{"Response":{"a":{"Response":1},"Response":2},"Response":3}`,
		`{"a":{"code":1,"code":2},"code":0}`,
		`{"a":{"code":1,"code":2},"code":0,"b":{"code":1}}`,
		`{"code":0,"a":[[[[{"code":1}]]]],"b":[{"code":2},{"x":{"code":3}}]}`,
		`{"code":0,"a":[[[[{"code":1}]]]],"b":[{"code":2},{"x":{"code":3}}],"code":4}`,
		`{"code":0,"` + bs("x", 60) + `\u0063":1,"code":2}`,
		`{"code":0,"` + bs("x", 60) + `\u0063":1,"cod\u0065":2}`,
		`{"code":0,"` + bs("\\u0063", 10) + `":1,"cod\u0065":2}`,
		`{"code":0,"` + bs(`\u0026`, 20) + `\u0063ode":1}`,
		`{"code":0,"x":"` + bs("a", 100) + `\u0063","\u0063ode":1}`,
		`{"code":0,"x":"\u0063ode","y":"\u0052esponse","code":1}`,
		`{"code":0,"x":{"\u0063ode":1},"\u0063ode":2}`,
		`{"Response":0,"x":{"Respons\u0065":1},"Respons\u0065":2}`,
		`{"code":0,"co":"de","code":1}`,
		`{"code":0,"x":"\ud83d\ude00code","code":1}`,
		`{"code":0,"x":"\u00e9","code":1}`,
		`{"code":0,"x":"\u0000","code":1}`,
		`{"code":0,"Response":1,"code":2}`,
		`{"code":0,"Response":1,"Response":2}`,
		`{"Response":1,"code":0}`,
		`{"x":"\u0063ode","code":0,"y":"\u0063ode","z":1}`,
		`{"x":{"code":1,"code":2},"Response":1,"a":{"Response":2}}`,
		`{"code":0,"x":"` + bs(`\\`, 33) + `\"code\"` + `","y":1}`,
		`{"code":0,"x":"` + bs(`\\`, 33) + `","code":1}`,
	}
	// deep nesting
	cases = append(cases, `{"code":0,"x":`+bs("[", 500)+`{"code":1}`+bs("]", 500)+`}`)
	cases = append(cases, `{"code":0,"x":`+bs("[", 500)+`{"code":1}`+bs("]", 500)+`,"code":1}`)
	cases = append(cases, `{"code":0,"x":`+bs(`{"a":`, 300)+`{"code":1}`+bs("}", 300)+`,"code":1}`)
	for _, c := range cases {
		checkValid(t, c)
	}
}

// TestWatchInvalidInPieces: Watch claims chunk invariance for any
// input. A "\u00" at the end of a piece is taken as a letter's escape
// (the digit is unknown), while whole it is rejected by its digit, so
// relative mode started at a different place, and on invalid JSON the
// answer changed. An escape is now judged once its digit is written.
func TestWatchInvalidInPieces(t *testing.T) {
	cases := []string{
		`{"code":0,"a":1,\u0020"code":1}`,
		`{"code":0,"a":1,\u0020,"code":1}`,
		`{"code":0,"a":"x"\u0020"code":1}`,
		"{\"code\"0\"0\\u000\"code\":}", // found by FuzzWatch, pieces of 2
	}
	for _, c := range cases {
		b := []byte(c)
		whole := annotate.Ambiguous(b)
		for i := 0; i <= len(b); i++ {
			var w annotate.Watch
			w.Write(b[:i])
			w.Write(b[i:])
			if got := w.Ambiguous(); got != whole {
				t.Errorf("%q cut at %d (%q|%q) = %v, whole = %v", c, i, b[:i], b[i:], got, whole)
			}
		}
	}
}

// TestWatchAllocsAllModes: no allocation in skim (with needles
// straddling pieces), in relative mode, and in escaped keys, at any
// piece size.
func TestWatchAllocsAllModes(t *testing.T) {
	body := []byte(`{"code":0,"d":"` + strings.Repeat(`\\`, 70) + `x\u0041de\"co","e":[` + strings.Repeat(`{"code":1,"R\u0065sponse":"Response\""},`, 50) +
		`{}],"\u0063\u006F\u0064\u0065":1}`)
	for _, size := range []int{1, 3, 7, 64, 4096} {
		if n := testing.AllocsPerRun(20, func() {
			if !watchInPieces(body, size) {
				t.Fatal("not ambiguous")
			}
		}); n != 0 {
			t.Errorf("pieces of %d: %v allocations, want 0", size, n)
		}
	}
}
