//go:build !race

// Allocation counts are exact under the normal runtime but not under the
// race detector, so this file is built only without -race; .ci/test runs
// it in a separate pass.

package annotate_test

import (
	"strings"
	"testing"

	"github.com/cdnproxy/cdnproxy/annotate"
)

func TestAllocs(t *testing.T) {
	big := oneMB()
	typical, success := []byte(body9112), []byte(success3)
	escaped := []byte(`{"\u0063ode":0,"m\u0065ssage":"","codeDesc\u0000":1}`)
	escapedError := []byte(`{"\u0063ode":4000,"m\u0065ssage":"(9110)x","codeDesc\u0000":1}`)
	html := []byte(`<html>` + strings.Repeat("x", 100))
	for _, tt := range []struct {
		name string
		f    func()
		max  float64
	}{
		{"Decide success", func() { annotate.Decide(successBody200) }, 0},
		{"Decide 1 MB success", func() { annotate.Decide(big) }, 0},
		{"Decide error", func() { annotate.Decide(typical) }, 0},
		{"Decide escaped keys", func() { annotate.Decide(escaped) }, 0},
		{"Body typical error", func() { annotate.Body(typical) }, 3},
		{"Body escaped keys", func() { annotate.Body(escapedError) }, 3},
		{"Body success", func() { annotate.Body(success) }, 0},
		{"Body escaped keys success", func() { annotate.Body(escaped) }, 0},
		{"Body 1 MB success", func() { annotate.Body(big) }, 0},
		{"Body not JSON", func() { annotate.Body(html) }, 0},
	} {
		if got := testing.AllocsPerRun(100, tt.f); got > tt.max {
			t.Errorf("%s: %.1f allocations, want at most %.0f", tt.name, got, tt.max)
		}
	}
}
