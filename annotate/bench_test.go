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
		if watchInPieces(in, 32<<10) {
			b.Fatal("ambiguous")
		}
	}
}

// BenchmarkWatchHosts follows a 1 MB success body shaped like a long host
// list (many short members and arrays), the proxy benchmark's shape.
func BenchmarkWatchHosts(b *testing.B) {
	const host = `{"id":1234567,"host":"www.example.com","status":4,"origin":["1.2.3.4"],"cache":[[0,"all",1000]]}`
	in := []byte(`{"code":0,"message":"","codeDesc":"Success","data":{"hosts":[` + host)
	for len(in) < 1<<20 {
		in = append(in, ","+host...)
	}
	in = append(in, "]}}"...)
	b.ReportAllocs()
	b.SetBytes(int64(len(in)))
	for b.Loop() {
		if watchInPieces(in, 32<<10) {
			b.Fatal("ambiguous")
		}
	}
}
