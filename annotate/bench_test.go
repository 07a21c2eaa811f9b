package annotate_test

import (
	"testing"

	"github.com/cdnproxy/cdnproxy/annotate"
)

// successBody200 is a typical ~200-byte success body.
var successBody200 = []byte(`{"code":0,"message":"","codeDesc":"Success","data":{"count":2,"task_id":"1522134939950455","urls":["http://www.test.com/a.png","http://www.test.com/b.png"],"host":"www.test.com"}}`)

func BenchmarkBody(b *testing.B) {
	in := []byte(body9112)
	b.ReportAllocs()
	b.SetBytes(int64(len(in)))
	for b.Loop() {
		annotate.Body(in)
	}
}

func BenchmarkBodySuccess(b *testing.B) {
	in := []byte(success3)
	b.ReportAllocs()
	b.SetBytes(int64(len(in)))
	for b.Loop() {
		annotate.Body(in)
	}
}

func BenchmarkDecideSuccess(b *testing.B) {
	in := successBody200
	b.ReportAllocs()
	b.SetBytes(int64(len(in)))
	for b.Loop() {
		annotate.Decide(in)
	}
}

func BenchmarkDecide1MB(b *testing.B) {
	in := oneMB()
	b.ReportAllocs()
	b.SetBytes(int64(len(in)))
	for b.Loop() {
		annotate.Decide(in)
	}
}

// BenchmarkDecideCodeLast is the slow path: "code" after a large member.
func BenchmarkDecideCodeLast(b *testing.B) {
	in := []byte(`{` + bigData + `,"code":0}`)
	b.ReportAllocs()
	b.SetBytes(int64(len(in)))
	for b.Loop() {
		annotate.Decide(in)
	}
}

// BenchmarkWatch1MB follows a 1 MB success body in the 32 KiB pieces the
// proxy streams it in.
func BenchmarkWatch1MB(b *testing.B) {
	in := oneMB()
	b.ReportAllocs()
	b.SetBytes(int64(len(in)))
	for b.Loop() {
		var w annotate.Watch
		for p := in; len(p) > 0; {
			n := min(32<<10, len(p))
			w.Write(p[:n])
			p = p[n:]
		}
		if w.Ambiguous() {
			b.Fatal("ambiguous")
		}
	}
}
