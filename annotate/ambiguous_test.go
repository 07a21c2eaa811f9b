package annotate_test

import (
	"bytes"
	"encoding/json"
	"io"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/cdnproxy/cdnproxy/annotate"
)

// ambiguousCases are bodies and whether they are ambiguous.
var ambiguousCases = []struct {
	body string
	want bool
}{
	{`{"code":0,"message":"","code":4000}`, true},
	{`{"code":4000,"\u0063ode":0}`, true},
	{`{"code":0,"\u0063\u006f\u0064\u0065":1}`, true},
	{`{"Response":{"RequestId":"a"},"Response":{"Error":{"Code":"X"}}}`, true},
	{`{"Response":{},"\u0052\u0065\u0073\u0070\u006f\u006e\u0073\u0065":{}}`, true},
	{`{"code":0,"data":{"code":4000}}`, false}, // nested: not the top level
	{`{"code":0,"data":[{"code":4000},{"code":1}]}`, false},
	{`{"code":0,"data":"\",\"code\":4000"}`, false},      // inside a string
	{`{"code":0,"data":"\\\\","code":4000}`, true},       // the string ends after \\\\
	{`{"code":0,"data":"\\\"","x":"code","y":1}`, false}, // "code" is a value
	{`{"code":4000,"message":"x"}`, false},
	{`{"code":0,"codes":1,"Code":2,"xcode":3}`, false},
	{`{"code":0,"data":{"x":"\u0041"},"code":4000}`, true},
	{`{"code":0,"data":{"x":"\u0041","code":4000}}`, false},
	{`{"code":0,"x":"\\u0063ode","code":1}`, true}, // \\ then u0063: no escape
	{`{"code":0,"\\u0063ode":1}`, false},           // the key is \u0063ode
	{`{"code":0,"x":"a\"code","y":1}`, false},      // an escaped quote before code
	{`{"code":0,"x":"a\\","code":1}`, true},        // an escaped backslash before the quote
	{`{"Response":{"code":1},"code":0}`, false},
	{`{"Response":{"code":1},"code":0,"code":1}`, true},
	{`{"code":0,"data":[{"Response":1},{"Response":2}]}`, false},
	{`{"code":0,"data":[],"Response":1,"Response":2}`, true},
	{`{"code":0,"code":4000,"data":`, false}, // no end: not a whole object
	{`{"code":0,"u":"a\u0026b","code":1}`, true},
	{`{"code":0,"u":"a\u0026b\u003c","n":{"code":1}}`, false},
	{` ` + "\n\t" + `{"code":0,"code":1}`, true},
	{`[{"code":0},{"code":1}]`, false},
	{`not json`, false},
	{``, false},
}

func TestAmbiguous(t *testing.T) {
	for _, tt := range ambiguousCases {
		if got := annotate.Ambiguous([]byte(tt.body)); got != tt.want {
			t.Errorf("Ambiguous(%s) = %v, want %v", tt.body, got, tt.want)
		}
	}
}

// TestWatchInPieces: a Watch comes to the same answer however the body is
// cut into pieces, down to one byte at a time, with a piece boundary
// inside every key, string and escape.
func TestWatchInPieces(t *testing.T) {
	for _, tt := range ambiguousCases {
		for size := 1; size <= len(tt.body); size++ {
			if got := watchInPieces([]byte(tt.body), size); got != tt.want {
				t.Errorf("Watch(%s) in pieces of %d = %v, want %v", tt.body, size, got, tt.want)
			}
		}
	}
}

// TestWatchLongBody: the second "code" comes after a megabyte of nested
// data and long strings, as the body streams past in the pieces a copy
// loop reads.
func TestWatchLongBody(t *testing.T) {
	var b bytes.Buffer
	b.WriteString(`{"code":0,"message":"","data":{"hosts":[`)
	for i := 0; b.Len() < 1<<20; i++ {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(`{"id":1,"host":"a.example","code":4000,"note":"` + strings.Repeat(`x\"}],`, 20) + `"}`)
	}
	b.WriteString(`]}`)
	for _, tt := range []struct {
		tail string
		want bool
	}{
		{`}`, false},
		{`,"code":4000}`, true},
	} {
		var w annotate.Watch
		if _, err := io.CopyBuffer(&w, io.MultiReader(bytes.NewReader(b.Bytes()), strings.NewReader(tt.tail)), make([]byte, 32<<10)); err != nil {
			t.Fatal(err)
		}
		if got := w.Ambiguous(); got != tt.want {
			t.Errorf("1 MiB body ending %s: Ambiguous() = %v, want %v", tt.tail, got, tt.want)
		}
	}
}

// TestWatchAllocs: following a body allocates nothing.
func TestWatchAllocs(t *testing.T) {
	body := []byte(`{"code":0,"data":{"a":["\\\"",1,{"b":null}]},"\u0063ode":1}`)
	if n := testing.AllocsPerRun(100, func() {
		var w annotate.Watch
		w.Write(body[:20])
		w.Write(body[20:])
		if !w.Ambiguous() {
			t.Fatal("not ambiguous")
		}
	}); n != 0 {
		t.Errorf("%v allocations, want 0", n)
	}
}

// watchInPieces writes body to a Watch size bytes at a time.
func watchInPieces(body []byte, size int) bool {
	var w annotate.Watch
	for len(body) > 0 {
		n := min(size, len(body))
		w.Write(body[:n])
		body = body[n:]
	}
	return w.Ambiguous()
}

// topLevelKeys counts the top-level "code" and "Response" members of a
// valid JSON object with encoding/json, which decodes keys as clients do.
func topLevelKeys(body []byte) (codes, responses int, ok bool) {
	d := json.NewDecoder(bytes.NewReader(body))
	if tok, err := d.Token(); err != nil || tok != json.Delim('{') {
		return 0, 0, false
	}
	for d.More() {
		tok, err := d.Token()
		if err != nil {
			return 0, 0, false
		}
		switch tok {
		case "code":
			codes++
		case "Response":
			responses++
		}
		var v json.RawMessage
		if err := d.Decode(&v); err != nil {
			return 0, 0, false
		}
	}
	return codes, responses, true
}

// FuzzWatch checks Watch against encoding/json on every valid JSON object
// (it must count the same top-level members), and checks that cutting a
// body into pieces never changes the answer, valid or not.
func FuzzWatch(f *testing.F) {
	for _, tt := range ambiguousCases {
		f.Add([]byte(tt.body), uint8(3))
	}
	f.Fuzz(func(t *testing.T, body []byte, size uint8) {
		whole := annotate.Ambiguous(body)
		if got := watchInPieces(body, int(size)+1); got != whole {
			t.Fatalf("%q: in pieces of %d: %v, whole: %v", body, int(size)+1, got, whole)
		}
		if !json.Valid(body) {
			return
		}
		codes, responses, ok := topLevelKeys(body)
		if !ok {
			return // valid JSON, but not an object
		}
		if want := codes > 1 || responses > 1; whole != want {
			t.Fatalf("%q: Ambiguous %v; encoding/json finds %d code and %d Response members", body, whole, codes, responses)
		}
	})
}

// FuzzWatchGenerated builds a valid JSON object from a seed with hardGen,
// rich in what a Watch must tell apart (keys that count at every depth,
// spelled with and without escapes, quotes, backslash runs and needles
// inside strings, escapes that spell other characters), and checks
// Watch against encoding/json in pieces of every size from 1 to 64, then
// in pieces of random sizes up to 200.
func FuzzWatchGenerated(f *testing.F) {
	for seed := range uint64(20) {
		f.Add(seed, seed+1)
	}
	f.Fuzz(func(t *testing.T, seed, cut uint64) {
		g := hardGen{rand.New(rand.NewPCG(seed, seed^0x9e37))}
		var b bytes.Buffer
		g.ws(&b)
		g.obj(&b, 0)
		g.ws(&b)
		body := b.Bytes()
		codes, responses, ok := topLevelKeys(body)
		if !ok {
			t.Fatalf("the generator wrote invalid JSON: %s", body)
		}
		want := codes > 1 || responses > 1
		for size := 1; size <= 64; size++ {
			if got := watchInPieces(body, size); got != want {
				t.Fatalf("%s in pieces of %d: Ambiguous %v; encoding/json finds %d code and %d Response members", body, size, got, codes, responses)
			}
		}
		cr := rand.New(rand.NewPCG(cut, 7))
		for range 20 {
			var w annotate.Watch
			for p := body; len(p) > 0; {
				n := min(len(p), 1+cr.IntN(12))
				if cr.IntN(8) == 0 {
					n = min(len(p), 1+cr.IntN(200))
				}
				w.Write(p[:n])
				p = p[n:]
			}
			if got := w.Ambiguous(); got != want {
				t.Fatalf("%s in random pieces: Ambiguous %v; encoding/json finds %d code and %d Response members", body, got, codes, responses)
			}
		}
	})
}
