package proxy

import (
	"errors"
	"sync/atomic"
)

// memoryBudget bounds the bytes all calls together hold for annotation
// (response bodies read whole) and for verification (request bodies read
// whole): Config.MemoryBudget. What cannot get budget is not held: a
// response passes through untouched, a request is refused as busy. The
// proxy's fixed buffers (a 32 KiB peek and copy buffer a call) are not
// counted; Config.MaxInFlight bounds them.
type memoryBudget struct {
	limit int64
	used  atomic.Int64
}

// take reserves n bytes, or reports that they would exceed the limit.
func (b *memoryBudget) take(n int64) bool {
	for {
		used := b.used.Load()
		if used+n > b.limit {
			return false
		}
		if b.used.CompareAndSwap(used, used+n) {
			return true
		}
	}
}

// hold is one call's share of the budget, given back when the call ends
// (and the bytes it held have been sent or dropped). Only the call's own
// goroutine touches it.
type hold struct {
	budget *memoryBudget
	n      int64
	denied bool // a reservation was refused
}

// reserve takes n more bytes for the call.
func (h *hold) reserve(n int64) bool {
	if h == nil || h.budget == nil { // a call record not made by ServeHTTP
		return true
	}
	if !h.budget.take(n) {
		h.denied = true
		return false
	}
	h.n += n
	return true
}

// passedThrough reports whether a body passed through unannotated
// because the budget had no room for it.
func (h *hold) passedThrough(o outcome) bool { return h.denied && o == outcomePassthrough }

// release gives the call's share back.
func (h *hold) release() {
	if h.budget != nil && h.n > 0 {
		h.budget.used.Add(-h.n)
		h.n = 0
	}
}

// errNoBudget reports a body that could not get memory budget.
var errNoBudget = errors.New("the memory budget is spent")

// grow returns buf with room for at least one more byte, at most limit+1
// bytes in all, reserved from h: twice the room, or 4 KiB to start. The
// old array is garbage but stays reserved, so the reservation bounds
// what the call has allocated, not only what it holds.
func (h *hold) grow(buf []byte, limit int64) ([]byte, bool) {
	n := min(max(2*cap(buf), 4<<10), int(limit)+1)
	if n <= len(buf) {
		n = len(buf) + 1
	}
	if !h.reserve(int64(n)) {
		return buf, false
	}
	out := make([]byte, len(buf), n)
	copy(out, buf)
	return out, true
}

// start returns a buffer of its own for a response body of which peeked
// was read (to its end, if ended), reserved from h: the known size of a
// plain body up to limit, else room to grow from. It reports false when
// the budget has no room.
func (h *hold) start(peeked []byte, ended, plain bool, contentLength, limit int64) ([]byte, bool) {
	n := int64(len(peeked))
	switch {
	case ended:
	case plain && contentLength > n && contentLength <= limit:
		n = contentLength + 1 // +1 to see the end
	default:
		n = min(max(2*n, 4<<10), limit+1)
	}
	if !h.reserve(n) {
		return nil, false
	}
	buf := make([]byte, len(peeked), n)
	copy(buf, peeked)
	return buf, true
}
