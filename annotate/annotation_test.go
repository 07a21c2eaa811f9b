package annotate_test

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/cdnproxy/cdnproxy/annotate"
)

// joined is what a caller of Annotation sends.
func joined(body []byte) []byte {
	at, members, _ := annotate.Annotation(body)
	if members == nil {
		return body
	}
	return append(append(append([]byte(nil), body[:at]...), members...), body[at:]...)
}

// TestAnnotationIsBody: Annotation's pieces, joined, are Body's answer,
// for every golden body.
func TestAnnotationIsBody(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("testdata", "golden", "*.json"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no golden bodies: %v", err)
	}
	for _, f := range files {
		body, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		want, wantRes := annotate.Body(bytes.Clone(body))
		_, _, res := annotate.Annotation(body)
		if got := joined(body); !bytes.Equal(got, want) || res.Kind != wantRes.Kind || res.Category != wantRes.Category {
			t.Errorf("%s: Annotation gives\n%s\nBody gives\n%s", f, got, want)
		}
	}
}

// FuzzAnnotation: for any bytes, Annotation's pieces joined are Body's.
func FuzzAnnotation(f *testing.F) {
	f.Add([]byte(`{"code":4000,"message":"(9110)x","codeDesc":"9110"}`))
	f.Add([]byte(`{"Response":{"Error":{"Code":"InvalidParameter","Message":"x"},"RequestId":"r"}}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		want, _ := annotate.Body(bytes.Clone(body))
		if got := joined(body); !bytes.Equal(got, want) {
			t.Errorf("Annotation gives %q, Body %q", got, want)
		}
	})
}
