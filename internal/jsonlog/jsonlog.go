// Package jsonlog is a faster drop-in replacement for [slog.JSONHandler].
//
// cdnproxy writes one JSON line through log/slog for every failed API call.
// slog.JSONHandler spends much of its time on per-attribute bookkeeping, on
// byte-at-a-time string escaping and on calling encoding/json for every
// float64. The handler returned by [NewHandler] encodes the common value
// kinds (strings, integers, floats, booleans, durations, times and groups)
// directly into a pooled buffer, without allocating.
//
// # Guarantee
//
// For the same records, options and sequence of WithAttrs/WithGroup calls,
// the bytes written are identical to those written by
// [slog.NewJSONHandler]: same keys and order, same string escaping (", \,
// control characters, U+2028, U+2029 and invalid UTF-8; not <, > or &), same
// float formatting, times in RFC 3339 with nanoseconds, and the same handling
// of zero times, empty and inline groups, empty keys, errors, LogValuers and
// encoding failures (which slog writes as "!ERROR:..." strings instead of
// returning an error). slog's quirks are reproduced too, such as the missing
// comma after a group whose attributes were all dropped. Like slog, each
// record is written with one call to Write, under a mutex shared by every
// handler derived from the same NewHandler call.
//
// The reference is the log/slog of the Go toolchain the program is built
// with; the package tests compare both handlers byte for byte, so a change in
// slog shows up as a test failure.
//
// # Limits
//
//   - Only the common case is fast. When [slog.HandlerOptions.AddSource] is set
//     or [slog.HandlerOptions.ReplaceAttr] is non-nil, NewHandler simply returns
//     slog.NewJSONHandler.
//   - Values of kind [slog.KindAny] other than errors, and NaN and ±Inf, are
//     encoded with encoding/json, as slog does, so they cost about the same.
//   - When a LogValuer panics, slog writes an error string with a short stack
//     trace of the caller; there the frames name this package instead of
//     slog's handler, so those bytes differ.
package jsonlog

import (
	"context"
	"io"
	"log/slog"
	"slices"
	"sync"
)

// NewHandler returns a [slog.Handler] that writes records to w as
// line-delimited JSON objects, byte for byte as [slog.NewJSONHandler] would.
// A nil opts means the default options.
//
// If opts.AddSource is set or opts.ReplaceAttr is non-nil, the result is
// slog.NewJSONHandler(w, opts) itself.
func NewHandler(w io.Writer, opts *slog.HandlerOptions) slog.Handler {
	if opts == nil {
		opts = &slog.HandlerOptions{}
	}
	if opts.AddSource || opts.ReplaceAttr != nil {
		return slog.NewJSONHandler(w, opts)
	}
	return &handler{w: w, mu: new(sync.Mutex), level: opts.Level}
}

// handler is the fast JSON handler. It is immutable once built; WithAttrs and
// WithGroup return modified copies.
type handler struct {
	w     io.Writer
	mu    *sync.Mutex  // shared by all handlers derived from one NewHandler call
	level slog.Leveler // nil means slog.LevelInfo

	// pre holds the attributes given to WithAttrs, already encoded, starting
	// without a comma. It also holds the opening of the groups that were
	// current when those attributes were added ("g":{), but not their ends.
	pre []byte
	// groups are all the group names given to WithGroup, outermost first.
	groups []string
	// nOpen is how many of groups are opened inside pre.
	nOpen int
}

// Enabled reports whether level is at least the configured minimum level.
func (h *handler) Enabled(_ context.Context, level slog.Level) bool {
	minLevel := slog.LevelInfo
	if h.level != nil {
		minLevel = h.level.Level()
	}
	return level >= minLevel
}

// clone returns a copy of h whose slices cannot be appended to in place, so
// that h and the copy never share written-to memory.
func (h *handler) clone() *handler {
	return &handler{
		w:      h.w,
		mu:     h.mu,
		level:  h.level,
		pre:    slices.Clip(h.pre),
		groups: slices.Clip(h.groups),
		nOpen:  h.nOpen,
	}
}

// WithAttrs returns a handler that adds attrs to every record, inside the
// groups opened so far. The attributes are encoded once, here.
func (h *handler) WithAttrs(attrs []slog.Attr) slog.Handler {
	// Like slog: a list made only of empty groups changes nothing.
	allEmpty := true
	for _, a := range attrs {
		if !isEmptyGroup(a.Value) {
			allEmpty = false
			break
		}
	}
	if allEmpty {
		return h
	}
	h2 := h.clone()
	e := encoder{buf: h2.pre}
	e.sep = needsComma(e.buf)
	e.openGroups(h2.groups[h2.nOpen:])
	if e.appendAttrs(attrs) {
		h2.pre = e.buf
		h2.nOpen = len(h2.groups)
	}
	// Otherwise nothing was written: keep the old prefix and open groups.
	return h2
}

// WithGroup returns a handler that nests the attributes added later (by
// WithAttrs or in records) in a JSON object under the key name. As with
// slog, the object is only written when something goes into it.
func (h *handler) WithGroup(name string) slog.Handler {
	h2 := h.clone()
	h2.groups = append(h2.groups, name)
	return h2
}

// needsComma reports whether an attribute written after pre must be
// preceded by a comma. slog decides this from the last byte alone.
func needsComma(pre []byte) bool {
	return len(pre) > 0 && pre[len(pre)-1] != '{'
}

// Handle writes r as one JSON line with a single call to Write.
func (h *handler) Handle(_ context.Context, r slog.Record) error {
	bp := bufPool.Get().(*[]byte)
	e := encoder{buf: (*bp)[:0]}

	e.buf = append(e.buf, '{')
	if !r.Time.IsZero() {
		e.buf = append(e.buf, `"time":`...)
		e.buf = appendTime(e.buf, r.Time.Round(0))
		e.buf = append(e.buf, ',')
	}
	e.buf = append(e.buf, `"level":"`...)
	e.buf = appendLevel(e.buf, r.Level)
	e.buf = append(e.buf, `","msg":`...)
	e.buf = appendString(e.buf, r.Message)
	e.sep = true

	if len(h.pre) > 0 {
		e.buf = append(e.buf, ',')
		e.buf = append(e.buf, h.pre...)
		e.sep = needsComma(h.pre)
	}
	closing := h.nOpen
	if r.NumAttrs() > 0 {
		// Groups from WithGroup are opened only if some attribute is written.
		mark := len(e.buf)
		e.openGroups(h.groups[h.nOpen:])
		wrote := false
		r.Attrs(func(a slog.Attr) bool {
			if e.appendAttr(a) {
				wrote = true
			}
			return true
		})
		if wrote {
			closing = len(h.groups)
		} else {
			e.buf = e.buf[:mark]
		}
	}
	for range closing {
		e.buf = append(e.buf, '}')
	}
	e.buf = append(e.buf, '}', '\n')

	err := h.write(e.buf)

	if cap(e.buf) <= maxPooledBuf {
		*bp = e.buf
		bufPool.Put(bp)
	}
	return err
}

func (h *handler) write(b []byte) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	_, err := h.w.Write(b)
	return err
}

// maxPooledBuf is the largest buffer capacity kept for reuse, so that one
// huge record does not pin a huge buffer forever.
const maxPooledBuf = 16 << 10

var bufPool = sync.Pool{New: func() any {
	b := make([]byte, 0, 1024)
	return &b
}}
