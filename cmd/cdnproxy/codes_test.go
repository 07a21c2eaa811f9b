package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/cdnproxy/cdnproxy/codes"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/ of `cdnproxy codes` and `explain` (and nothing else)")

// runCommand calls run as main would, with stdin and buffers for stdout
// and stderr.
func runCommand(t *testing.T, stdin io.Reader, args ...string) (stdout, stderr []byte, err error) {
	t.Helper()
	if stdin == nil {
		stdin = strings.NewReader("")
	}
	var out, errb bytes.Buffer
	err = run(context.Background(), args, nil, stdin, &out, &errb)
	return out.Bytes(), errb.Bytes(), err
}

// checkGolden compares got with testdata/name.golden, or writes it there
// with -update. An empty got with suffix ".stderr" means "no file".
func checkGolden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name+".golden")
	if *update {
		if len(got) == 0 && strings.HasSuffix(name, ".stderr") {
			if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
				t.Fatal(err)
			}
			return
		}
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) && len(got) == 0 && strings.HasSuffix(name, ".stderr") {
		return
	}
	if err != nil {
		t.Fatalf("%v (run go test ./cmd/cdnproxy -run '%s' -update to create it)", err, t.Name())
	}
	if !bytes.Equal(got, want) {
		t.Errorf("output differs from %s (run go test ./cmd/cdnproxy -run '%s' -update if the change is intended)\n--- got ---\n%s\n--- want ---\n%s",
			path, t.Name(), got, want)
	}
}

func TestCodesGolden(t *testing.T) {
	for _, tc := range []struct {
		golden string
		args   []string
	}{
		{"codes", []string{"codes"}},
		{"codes-9112", []string{"codes", "9112"}},
		{"codes-minus9009", []string{"codes", "-9009"}},
		{"codes-4100", []string{"codes", "4100"}},
		{"codes-v3-exact", []string{"codes", "LimitExceeded.CdnPurgeUrlExceedDayLimit"}},
		{"codes-v3-family", []string{"codes", "LimitExceeded.Whatever"}},
		{"codes-json", []string{"codes", "--json"}},
		{"codes-json-two", []string{"codes", "9112", "--json", "ResourceInUse.CdnOpInProgress"}},
		{"codes-markdown-one", []string{"codes", "--markdown", "-9009"}},
	} {
		t.Run(tc.golden, func(t *testing.T) {
			stdout, stderr, err := runCommand(t, nil, tc.args...)
			if err != nil {
				t.Fatalf("run(%q): %v", tc.args, err)
			}
			if len(stderr) != 0 {
				t.Errorf("run(%q) wrote to stderr: %s", tc.args, stderr)
			}
			checkGolden(t, tc.golden, stdout)
		})
	}
}

// TestCodesTable checks the full table without the golden file: one line
// per entry, in the documented order, columns aligned.
func TestCodesTable(t *testing.T) {
	stdout, _, err := runCommand(t, nil, "codes")
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(string(stdout), "\n"), "\n")
	var want []string
	for _, e := range codes.PublicEntries() {
		want = append(want, strconv.Itoa(e.Code)+" 2.0 public "+string(e.Category))
	}
	for _, e := range codes.ModuleEntries() {
		want = append(want, strconv.Itoa(e.Code)+" 2.0 module "+string(e.Category))
	}
	for _, e := range codes.V3Entries() {
		want = append(want, e.Code+" 3.0 code "+string(e.Category))
	}
	if got := len(lines) - 1; got != len(want) {
		t.Fatalf("table has %d rows, want %d", got, len(want))
	}
	descCol := strings.Index(lines[0], "DESCRIPTION")
	for i, line := range lines[1:] {
		if got := strings.Join(strings.Fields(line)[:4], " "); got != want[i] {
			t.Errorf("row %d starts %q, want %q", i+1, got, want[i])
		}
		if line[descCol-1] != ' ' || line[descCol] == ' ' {
			t.Errorf("row %d: description does not start in the DESCRIPTION column: %q", i+1, line)
		}
	}
}

func TestCodesJSON(t *testing.T) {
	stdout, _, err := runCommand(t, nil, "codes", "--json")
	if err != nil {
		t.Fatal(err)
	}
	var rows []map[string]any
	if err := json.Unmarshal(stdout, &rows); err != nil {
		t.Fatalf("--json output does not decode: %v", err)
	}
	public, module, v3 := codes.PublicEntries(), codes.ModuleEntries(), codes.V3Entries()
	if len(public) < 16 || len(module) < 135 {
		t.Fatalf("catalogue has %d public and %d module codes, want at least 16 and 135", len(public), len(module))
	}
	if got, want := len(rows), len(public)+len(module)+len(v3); got != want {
		t.Fatalf("--json has %d objects, want %d (16+135+%d)", got, want, len(v3))
	}
	fields := []string{"category", "code", "description", "generation", "kind", "original", "retryable"}
	count := map[string]int{}
	for i, r := range rows {
		keys := make([]string, 0, len(r))
		for k := range r {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		if !slices.Equal(keys, fields) {
			t.Fatalf("object %d has fields %q, want %q", i, keys, fields)
		}
		if _, ok := r["retryable"].(bool); !ok {
			t.Errorf("object %d: retryable is %T, want a boolean", i, r["retryable"])
		}
		for _, k := range []string{"code", "generation", "kind", "category", "description", "original"} {
			if _, ok := r[k].(string); !ok {
				t.Errorf("object %d: %s is %T, want a string", i, k, r[k])
			}
		}
		count[r["generation"].(string)+" "+r["kind"].(string)]++
		if r["generation"] == "2.0" && r["original"] == "" {
			t.Errorf("object %d (%v): a 2.0 code without its Chinese original", i, r["code"])
		}
	}
	want := map[string]int{"2.0 public": len(public), "2.0 module": len(module), "3.0 code": len(v3)}
	for k, n := range want {
		if count[k] != n {
			t.Errorf("%d objects of %s, want %d", count[k], k, n)
		}
	}
}

func TestCodesErrors(t *testing.T) {
	for _, tc := range []struct {
		name string
		args []string
		want string // in the error
	}{
		{"unknown 2.0 code", []string{"codes", "1234"}, "1234 is not an API 2.0 code"},
		{"unknown 3.0 code and family", []string{"codes", "NoSuchFamily.Whatever"}, `"NoSuchFamily.Whatever" is not a code in the catalogue`},
		{"unknown bare 3.0 code", []string{"codes", "Nope"}, `"Nope" is not a code`},
		{"wrong case", []string{"codes", "limitexceeded"}, "did you mean LimitExceeded?"},
		{"one unknown among known", []string{"codes", "9112", "77777"}, "77777"},
		{"both formats", []string{"codes", "--json", "--markdown"}, "exclude each other"},
		{"unknown flag", []string{"codes", "--yaml"}, "-yaml"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			stdout, _, err := runCommand(t, nil, tc.args...)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("run(%q) = %v, want an error containing %q", tc.args, err, tc.want)
			}
			if len(stdout) != 0 {
				t.Errorf("run(%q) printed to stdout on error: %s", tc.args, stdout)
			}
		})
	}
}

func TestCodesHelp(t *testing.T) {
	_, stderr, err := runCommand(t, nil, "codes", "-h")
	if err != nil {
		t.Fatalf("codes -h: %v", err)
	}
	for _, want := range []string{"usage: cdnproxy codes", "-json", "-markdown"} {
		if !bytes.Contains(stderr, []byte(want)) {
			t.Errorf("codes -h usage lacks %q:\n%s", want, stderr)
		}
	}
}

// TestCodesLookupMatchesCatalogue checks that looking a code up by hand
// gives what package codes gives, fallback included.
func TestCodesLookupMatchesCatalogue(t *testing.T) {
	cat := builtinCatalogue()
	for _, e := range append(codes.PublicEntries(), codes.ModuleEntries()...) {
		rows, err := cat.lookup(strconv.Itoa(e.Code))
		if err != nil || len(rows) != 1 || rows[0].Description != e.Description || rows[0].Original != e.Original {
			t.Errorf("lookup(%d) = %+v, %v; want the entry %+v", e.Code, rows, err, e)
		}
	}
	var queries []string
	for _, e := range codes.V3Entries() {
		queries = append(queries, e.Code, e.Code+".NotACode", e.Code+"X")
	}
	for _, q := range queries {
		want, ok := codes.V3(q)
		rows, err := cat.lookup(q)
		if ok != (err == nil) {
			t.Errorf("lookup(%q) error %v, codes.V3 found %v", q, err, ok)
			continue
		}
		if !ok {
			continue
		}
		if len(rows) != 1 || rows[0].Code != want.Code || rows[0].Category != want.Category {
			t.Errorf("lookup(%q) = %+v, codes.V3 gives %+v", q, rows, want)
		}
		if requested := rows[0].Requested; (requested != "") != (want.Code != q) {
			t.Errorf("lookup(%q).Requested = %q, want it set only for a family fallback", q, requested)
		}
	}
}

// TestCodesPublicAndModule: no number is both a public and a module code
// today; if one were, both entries are shown.
func TestCodesPublicAndModule(t *testing.T) {
	cat := catalogue{
		public: []codes.Entry{{Code: 4000, Category: codes.InvalidParameter, Description: "public 4000", Original: "公共"}},
		module: []codes.Entry{{Code: 4000, Category: codes.InternalError, Retryable: true, Description: "module 4000", Original: "模块"}},
	}
	var stdout, stderr bytes.Buffer
	if err := codesCommand(cat, []string{"4000"}, &stdout, &stderr); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"4000 (API 2.0 public code", "public 4000", "4000 (API 2.0 module code", "module 4000"} {
		if !strings.Contains(stdout.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, stdout.String())
		}
	}
	stdout.Reset()
	if err := codesCommand(cat, []string{"--json", "4000"}, &stdout, &stderr); err != nil {
		t.Fatal(err)
	}
	var rows []row
	if err := json.Unmarshal(stdout.Bytes(), &rows); err != nil {
		t.Fatal(err)
	}
	if len(rows) != 2 || rows[0].Kind != kindPublic || rows[1].Kind != kindModule {
		t.Errorf("--json 4000 = %+v, want the public entry then the module entry", rows)
	}
}

func TestCodesParseArgs(t *testing.T) {
	for _, tc := range []struct {
		name       string
		args       []string
		positional []string
		json       bool
	}{
		{"none", nil, nil, false},
		{"flag first", []string{"--json", "9112"}, []string{"9112"}, true},
		{"flag last", []string{"9112", "--json"}, []string{"9112"}, true},
		{"flag between", []string{"9112", "-json", "4100"}, []string{"9112", "4100"}, true},
		{"negative numbers", []string{"-9009", "--json", "-9021"}, []string{"-9009", "-9021"}, true},
		{"dash is an argument", []string{"-", "--json"}, []string{"-"}, true},
		{"double dash", []string{"--", "--json"}, []string{"--json"}, false},
		{"double dash after a flag", []string{"-json", "--", "-x"}, []string{"-x"}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fs := flag.NewFlagSet("test", flag.ContinueOnError)
			fs.SetOutput(io.Discard)
			asJSON := fs.Bool("json", false, "")
			got, err := parseArgs(fs, tc.args)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(got, tc.positional) || *asJSON != tc.json {
				t.Errorf("parseArgs(%q) = %q, json=%v; want %q, json=%v", tc.args, got, *asJSON, tc.positional, tc.json)
			}
		})
	}
}

// TestDocsCodesInSync fails when docs/codes.md is not what
// `cdnproxy codes --markdown` prints.
func TestDocsCodesInSync(t *testing.T) {
	stdout, _, err := runCommand(t, nil, "codes", "--markdown")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(stdout, []byte(docsCommand)) {
		t.Errorf("the Markdown output does not name the command that generates it (%s)", docsCommand)
	}
	path := filepath.Join(repoRoot, "docs", "codes.md")
	doc, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v; generate it with: %s", err, docsCommand)
	}
	if !bytes.Equal(doc, stdout) {
		gotLines, wantLines := strings.Split(string(doc), "\n"), strings.Split(string(stdout), "\n")
		line := 0
		for line < len(gotLines) && line < len(wantLines) && gotLines[line] == wantLines[line] {
			line++
		}
		t.Errorf("docs/codes.md is out of date with the catalogue (first difference at line %d); regenerate it from the repository root with:\n\t%s",
			line+1, docsCommand)
	}
}
