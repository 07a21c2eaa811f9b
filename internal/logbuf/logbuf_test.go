package logbuf_test

import (
	"fmt"
	"log/slog"
	"sync"
	"testing"

	"github.com/cdnproxy/cdnproxy/internal/logbuf"
)

// TestConcurrentLines writes JSON lines from several goroutines and reads
// them back whole.
func TestConcurrentLines(t *testing.T) {
	var b logbuf.Buffer
	log := slog.New(slog.NewJSONHandler(&b, nil))
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Go(func() {
			for i := range 50 {
				log.Info("call", "g", g, "i", i)
				_ = b.String() // a read while others write
			}
		})
	}
	wg.Wait()
	lines, err := b.Lines()
	if err != nil || len(lines) != 200 {
		t.Fatalf("Lines() = %d lines, %v; want 200, nil", len(lines), err)
	}
	if lines[0]["msg"] != "call" {
		t.Errorf("first line = %v, want msg call", lines[0])
	}
}

func TestLinesNotJSON(t *testing.T) {
	var b logbuf.Buffer
	fmt.Fprintln(&b, `{"a":1}`)
	fmt.Fprintln(&b)
	fmt.Fprintln(&b, `time=now level=INFO`)
	lines, err := b.Lines()
	if err == nil || len(lines) != 1 {
		t.Fatalf("Lines() = %v, %v; want the one JSON line and an error for the text line", lines, err)
	}
}
