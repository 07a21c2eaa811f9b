package annotate_test

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cdnproxy/cdnproxy/annotate"
)

var update = flag.Bool("update", false, "rewrite testdata/golden/*.golden from Body's output")

// TestGolden runs Body on every testdata/golden/*.json and compares the
// result byte for byte with the matching .golden file. Run
//
//	go test ./annotate/ -run TestGolden -update
//
// to regenerate the .golden files after a deliberate change, and review
// the diff.
func TestGolden(t *testing.T) {
	inputs, err := filepath.Glob(filepath.Join("testdata", "golden", "*.json"))
	if err != nil {
		t.Fatal(err)
	}
	if len(inputs) < 12 {
		t.Fatalf("found %d golden inputs, want at least 12", len(inputs))
	}
	for _, path := range inputs {
		name := strings.TrimSuffix(filepath.Base(path), ".json")
		t.Run(name, func(t *testing.T) {
			in, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			out, res, err := checkBody(in)
			if err != nil {
				t.Fatal(err)
			}
			// Names ending in "unchanged" must come back as they are.
			if strings.HasSuffix(name, "unchanged") != (res.Kind != annotate.Failure) {
				t.Errorf("Kind = %v for %s", res.Kind, name)
			}
			golden := strings.TrimSuffix(path, ".json") + ".golden"
			if *update {
				if err := os.WriteFile(golden, out, 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run with -update to create it)", err)
			}
			if !bytes.Equal(out, want) {
				t.Errorf("Body(%s) =\n%s\nwant (%s)\n%s", path, out, golden, want)
			}
		})
	}
}
