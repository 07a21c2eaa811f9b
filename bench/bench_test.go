package main

import (
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestCommandRuns builds the command and runs the side-by-side benchmark
// BENCHMARKS.md names, cut down to a second or two: plain, passthrough and
// the two floors (see floor.go) on the 200 B success and the error body;
// then once more with an upstream that waits before each answer, for
// which the targets are not checked. It checks that every cell ran
// without a failed call, that the handshakes and the target checks
// are printed, and nothing about the figures themselves, which depend on
// the machine.
func TestCommandRuns(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "bench")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	out, err := exec.Command(bin, "-runs", "1", "-d", "300ms", "-slice", "150ms", "-warmup", "50ms",
		"-bodies", "success-200B,error-150B", "-proxies", "plain,passthrough,plain-floor,plain-floor-log").CombinedOutput()
	text := string(out)
	if err != nil {
		t.Fatalf("bench: %v\n%s", err, text)
	}
	head := regexp.MustCompile(`(?m)^ *body +proxy +req/s`).FindStringIndex(text)
	if head == nil {
		t.Fatalf("no table in the output:\n%s", text)
	}
	table := text[head[0]:]
	var cells []string
	for _, body := range []string{"success-200B", "error-150B"} {
		for _, kind := range []string{"plain", "passthrough", "plain-floor", "plain-floor-log"} {
			cells = append(cells, body+" +"+kind)
		}
	}
	for _, cell := range cells {
		// The last column is the number of failed calls.
		row := regexp.MustCompile(`(?m)^ *` + cell + ` .* (\d+)$`).FindStringSubmatch(table)
		if row == nil {
			t.Errorf("no row %q in the table:\n%s", cell, table)
		} else if row[1] != "0" {
			t.Errorf("row %q: %s failed calls", cell, row[1])
		}
	}
	for _, want := range []string{"answering after 0s", "TLS handshakes at the upstream", "Targets:", "passthrough success-200B  throughput"} {
		if !strings.Contains(text, want) {
			t.Errorf("no %q in the output:\n%s", want, text)
		}
	}

	out, err = exec.Command(bin, "-runs", "1", "-d", "300ms", "-slice", "150ms", "-warmup", "50ms", "-upstream-delay", "1ms",
		"-bodies", "success-200B", "-proxies", "plain,passthrough").CombinedOutput()
	text = string(out)
	if err != nil {
		t.Fatalf("bench -upstream-delay: %v\n%s", err, text)
	}
	for _, want := range []string{"answering after 1ms", "not checked: they are for an upstream that answers at once"} {
		if !strings.Contains(text, want) {
			t.Errorf("-upstream-delay: no %q in the output:\n%s", want, text)
		}
	}
}
