package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cdnproxy/cdnproxy/annotate"
)

// Bodies as the API sends them.
const (
	body9112    = `{"code":4000,"message":"(9112)操作域名需要为【开启中】状态，请确认后重试","codeDesc":"InvalidParameter"}`
	bodyV3Error = `{"Response":{"Error":{"Code":"LimitExceeded.CdnPurgeUrlExceedDayLimit","Message":"刷新URL数量超过每日限额"},"RequestId":"6e0b1b3a-0000-4000-8000-000000000001"}}`
	bodySuccess = `{"code":0,"message":"","codeDesc":"Success","data":{"hosts":[],"total":0}}`
)

const mixedLog = "testdata/explain-mixed.log"

func TestExplainGolden(t *testing.T) {
	for _, tc := range []struct {
		golden string
		args   []string
		stdin  string
	}{
		{"explain-9112", []string{"explain", body9112}, ""},
		{"explain-9112-verbose", []string{"explain", "--verbose", "-"}, body9112 + "\n"},
		{"explain-v3-error", []string{"explain"}, bodyV3Error},
		{"explain-v3-error-verbose", []string{"explain", bodyV3Error, "--verbose"}, ""},
		{"explain-v3-family-verbose", []string{"explain", "--verbose", `{"Response":{"Error":{"Code":"LimitExceeded.Whatever","Message":"m"},"RequestId":"r"}}`}, ""},
		{"explain-unknown-module-verbose", []string{"explain", "--verbose", `{"code":4000,"message":"(5100)未知","codeDesc":"InvalidParameter"}`}, ""},
		{"explain-success", []string{"explain", bodySuccess}, ""},
		{"explain-success-v3", []string{"explain", `{"Response":{"TaskId":"t","RequestId":"r"}}`}, ""},
		{"explain-not-json", []string{"explain"}, "<html><body>502 Bad Gateway</body></html>\n"},
		{"explain-lines", []string{"explain", "--lines"}, readFile(t, mixedLog)},
		{"explain-lines-verbose", []string{"explain", "--lines", "--verbose", "@" + mixedLog}, ""},
	} {
		t.Run(tc.golden, func(t *testing.T) {
			stdout, stderr, err := runCommand(t, strings.NewReader(tc.stdin), tc.args...)
			if err != nil {
				t.Fatalf("run(%q): %v", tc.args, err)
			}
			checkGolden(t, tc.golden, stdout)
			checkGolden(t, tc.golden+".stderr", stderr)
		})
	}
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestExplainIsAnnotate checks that explain prints what the proxy would
// send, and says so on stderr only when there is nothing to annotate.
func TestExplainIsAnnotate(t *testing.T) {
	for _, tc := range []struct {
		name, body string
		note       string // on stderr without --verbose; "" for none
	}{
		{"2.0 error", body9112, ""},
		{"3.0 error", bodyV3Error, ""},
		{"already annotated", `{"code":4100,"message":"x","category":"c","retryable":false,"description":"d"}`, ""},
		{"2.0 success", bodySuccess, "a successful API 2.0 result"},
		{"3.0 success", `{"Response":{"RequestId":"r"}}`, "a successful API 3.0 result"},
		{"not JSON", "502 Bad Gateway", "not an API error body"},
		{"JSON array", `[{"code":4000}]`, "not an API error body"},
		{"duplicate code", `{"code":4000,"code":0}`, "not an API error body"},
		{"trailing newline kept once", body9112 + "\n", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			stdout, stderr, err := runCommand(t, strings.NewReader(tc.body), "explain")
			if err != nil {
				t.Fatal(err)
			}
			want, _ := annotate.Body([]byte(tc.body))
			want = bytes.TrimSuffix(want, []byte("\n"))
			if got := bytes.TrimSuffix(stdout, []byte("\n")); !bytes.Equal(got, want) || !bytes.HasSuffix(stdout, []byte("\n")) || bytes.HasSuffix(stdout, []byte("\n\n")) {
				t.Errorf("stdout = %q, want annotate.Body's output %q and one newline", stdout, want)
			}
			if tc.note == "" && len(stderr) != 0 {
				t.Errorf("stderr = %q, want nothing", stderr)
			}
			if tc.note != "" && (!bytes.Contains(stderr, []byte(tc.note)) || !bytes.Contains(stderr, []byte("printed unchanged"))) {
				t.Errorf("stderr = %q, want it to say %q and printed unchanged", stderr, tc.note)
			}
		})
	}
}

// TestExplainLinesBytes checks that --lines changes nothing but the error
// lines: line endings (LF, CRLF, none at the end) and other lines come out
// byte for byte.
func TestExplainLinesBytes(t *testing.T) {
	annotated, _ := annotate.Body([]byte(body9112))
	for _, tc := range []struct {
		name, in, want string
	}{
		{"empty", "", ""},
		{"crlf", "a\r\n" + body9112 + "\r\n\r\n", "a\r\n" + string(annotated) + "\r\n\r\n"},
		{"no final newline", "x\n" + body9112, "x\n" + string(annotated)},
		{"lone cr kept", "x\ry\n", "x\ry\n"},
		{"success untouched", bodySuccess + "\n" + bodySuccess, bodySuccess + "\n" + bodySuccess},
	} {
		t.Run(tc.name, func(t *testing.T) {
			stdout, stderr, err := runCommand(t, strings.NewReader(tc.in), "explain", "--lines")
			if err != nil {
				t.Fatal(err)
			}
			if string(stdout) != tc.want {
				t.Errorf("stdout = %q, want %q", stdout, tc.want)
			}
			if !bytes.Contains(stderr, []byte("lines:")) {
				t.Errorf("stderr = %q, want the counts", stderr)
			}
		})
	}
}

func TestExplainErrors(t *testing.T) {
	big := strings.Repeat(" ", maxExplainBytes) + "{}"
	for _, tc := range []struct {
		name  string
		args  []string
		stdin string
		want  string // in the error
	}{
		{"empty stdin", []string{"explain"}, "", "no body"},
		{"blank argument", []string{"explain", "  \n"}, "", "no body"},
		{"two arguments", []string{"explain", body9112, body9112}, "", "one body at a time"},
		{"over 10 MiB", []string{"explain"}, big, "larger than 10 MiB"},
		{"line over 10 MiB", []string{"explain", "--lines"}, "ok\n" + big + "\n", "line 2 is longer than 10 MiB"},
		{"missing file", []string{"explain", "@" + filepath.Join(t.TempDir(), "none.json")}, "", "none.json"},
		{"unknown flag", []string{"explain", "--pretty"}, "", "-pretty"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := runCommand(t, strings.NewReader(tc.stdin), tc.args...)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("run(%q) = %v, want an error containing %q", tc.args, err, tc.want)
			}
		})
	}
}

// TestExplainLinesLarge checks that --lines streams: the whole input may
// exceed the single-body cap as long as each line is within it.
func TestExplainLinesLarge(t *testing.T) {
	line := strings.Repeat("x", 1<<20) + "\n"
	in := strings.Repeat(line, 11) + body9112 + "\n"
	stdout, _, err := runCommand(t, strings.NewReader(in), "explain", "--lines")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasSuffix(stdout, []byte(`"moduleCode":9112}`+"\n")) || len(stdout) <= len(in) {
		t.Errorf("the last line was not annotated: ...%q", stdout[len(stdout)-80:])
	}
}
