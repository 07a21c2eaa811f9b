// Package logbuf is the log sink of cdnproxy's tests: a buffer that the
// code under test writes log lines to from any goroutine while the test
// reads them, with the JSON lines decoded.
package logbuf

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
)

// Buffer is an io.Writer that keeps what is written to it. Its methods
// may be called from several goroutines at once. The zero value is an
// empty buffer.
type Buffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

// Write appends p.
func (b *Buffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

// String returns everything written so far.
func (b *Buffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// Reset empties the buffer.
func (b *Buffer) Reset() {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.buf.Reset()
}

// Lines decodes the lines written so far as JSON objects, skipping empty
// lines. A line that is not a JSON object is an error that quotes it.
func (b *Buffer) Lines() ([]map[string]any, error) {
	var out []map[string]any
	for line := range strings.SplitSeq(b.String(), "\n") {
		if strings.TrimSpace(line) == "" {
			continue
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			return out, fmt.Errorf("log line is not a JSON object: %v: %s", err, line)
		}
		out = append(out, m)
	}
	return out, nil
}
