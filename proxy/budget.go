package proxy

import (
	"errors"
	"math/bits"
	"sync"
	"sync/atomic"
)

// memoryBudget bounds the bytes all calls together hold for annotation
// (response bodies read whole) and for verification (request bodies read
// whole): Config.MemoryBudget. What cannot get budget is not held: a
// response passes through untouched, a request is refused as busy. The
// proxy's fixed buffers (a 32 KiB peek and copy buffer a call) are not
// counted; Config.MaxInFlight bounds them.
type memoryBudget struct {
	limit   int64
	used    atomic.Int64
	buffers bodyBuffers // response bodies' buffers, recycled
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
	denied bool    // a reservation was refused
	body   *[]byte // the response body's buffer, recycled by release
}

// reserve takes n more bytes for the call.
func (h *hold) reserve(n int64) bool {
	if !h.take(n) {
		h.denied = true
		return false
	}
	return true
}

// take is reserve, except that a refusal is not remembered: the caller
// has a smaller way out.
func (h *hold) take(n int64) bool {
	if h == nil || h.budget == nil { // a call record not made by ServeHTTP
		return true
	}
	if !h.budget.take(n) {
		return false
	}
	h.n += n
	return true
}

// giveBack returns n of the call's reserved bytes to the budget.
func (h *hold) giveBack(n int64) {
	h.n -= n
	h.budget.used.Add(-n)
}

// passedThrough reports whether a body passed through unannotated
// because the budget had no room for it.
func (h *hold) passedThrough(o outcome) bool { return h.denied && o == outcomePassthrough }

// release gives the call's share back, and the response body's buffer
// to be recycled: the call must be over, its answer sent and its log
// line, metrics and failures record made (they copy what they keep of
// the body).
func (h *hold) release() {
	h.keepBody(nil)
	if h.budget != nil && h.n > 0 {
		h.giveBack(h.n)
	}
}

// errNoBudget reports a body that could not get memory budget.
var errNoBudget = errors.New("the memory budget is spent")

// grow returns a request body buf with room for at least one more byte,
// at most limit+1 bytes in all, reserved from h: twice the room, or 4 KiB
// to start. The old array is garbage but stays reserved, so the
// reservation bounds what the call has allocated, not only what it
// holds. (A request body is never recycled: the transport may still be
// reading it when the call is over.)
func (h *hold) grow(buf []byte, limit int64) ([]byte, bool) {
	n := growth(buf, limit)
	if !h.reserve(int64(n)) {
		return buf, false
	}
	out := make([]byte, len(buf), n)
	copy(out, buf)
	return out, true
}

// growth is the size grow and growBody grow buf to.
func growth(buf []byte, limit int64) int {
	n := min(max(2*cap(buf), 4<<10), int(limit)+1)
	if n <= len(buf) {
		n = len(buf) + 1
	}
	return n
}

// growBody is grow for the response body's buffer (from start), with
// room for at least one more byte and at least growth's; its room may
// pass limit+1 (a class's size), so the caller checks the length it
// read against limit. The new buffer is recycled too, and the old one
// goes back at once (keepBody).
func (h *hold) growBody(buf []byte, limit int64) ([]byte, bool) {
	out, ok := h.bodyBuffer(growth(buf, limit))
	if !ok {
		return buf, false
	}
	*out = append(*out, buf...)
	h.keepBody(out)
	return *out, true
}

// bodyBuffer returns an empty buffer with room for at least n bytes,
// reserved from h (all of its room): one of a class, recycled, or, when
// the budget has room for n bytes but not for the class's size, n bytes
// of its own, which the collector frees. (A budget as large as
// CDNPROXY_MAX_BODY_BYTES holds a body of that size.)
func (h *hold) bodyBuffer(n int) (*[]byte, bool) {
	size, class := bodyClass(n)
	if !h.take(int64(size)) {
		size, class = n, -1
		if !h.reserve(int64(n)) {
			return nil, false
		}
	}
	if h == nil || h.budget == nil || class < 0 { // a call record not made by ServeHTTP, too large to keep, or a tight budget
		b := make([]byte, 0, size)
		return &b, true
	}
	return h.budget.buffers.get(class), true
}

// keepBody makes b the response body's buffer, to be recycled by release,
// and recycles the one before it, which nothing may use any more. A
// recycled buffer waits in the pool reserved by no one, so its bytes go
// back to the budget; one the pool does not take is garbage, and stays
// reserved until the call ends, so that the reservation bounds what the
// call has allocated.
func (h *hold) keepBody(b *[]byte) {
	if h == nil {
		return
	}
	if old := h.body; old != nil && h.budget != nil {
		room := int64(cap(*old)) // read before another call can have it
		if h.budget.buffers.put(old) {
			h.giveBack(room)
		}
	}
	h.body = b
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
	buf, ok := h.bodyBuffer(int(n))
	if !ok {
		return nil, false
	}
	*buf = append(*buf, peeked...)
	h.keepBody(buf)
	return *buf, true
}

// bodyBuffers recycles the buffers response bodies are read into for
// annotation. The budget bounds the bytes calls hold; without recycling,
// each annotated body (and, for a body of unknown length, each smaller
// buffer it grew out of) would be left to the collector, and under a
// burst of large error bodies that garbage, not the bytes held, would set
// the peak RSS: the collector lets the heap grow to the soft memory
// limit, and past it when it is short of CPU (docs/reliability.md). A buffer taken from here is reserved from the
// budget like a new one; one waiting here is not, and the collector
// frees what waits through two cycles (sync.Pool).
//
// Buffers come in classes of 2^k and 1.5·2^k bytes, from 4 KiB to 64
// MiB: doubling a buffer stays within them, and a buffer is less than
// half as large again as asked for (4 KiB at least). A larger one is not
// recycled.
type bodyBuffers struct {
	classes [bodyClasses]sync.Pool // of *[]byte, of the class's size
}

const (
	minBodyShift = 12 // the smallest class, 4 KiB
	bodyClasses  = 2*(26-minBodyShift) + 1
)

// bodyClass returns the size of the smallest class that holds n bytes and
// its index, or n and -1 when no class does.
func bodyClass(n int) (size, class int) {
	if n <= 1<<minBodyShift {
		return 1 << minBodyShift, 0
	}
	k := bits.Len(uint(n - 1)) // 2^(k-1) < n <= 2^k
	class = 2 * (k - minBodyShift)
	if n <= 3<<(k-2) {
		class-- // 1.5·2^(k-1) is enough
	}
	if class >= bodyClasses {
		return n, -1
	}
	return classSize(class), class
}

// classSize is the size of the buffers of a class.
func classSize(class int) int {
	if class%2 == 1 {
		return 3 << (minBodyShift + class/2 - 1)
	}
	return 1 << (minBodyShift + class/2)
}

// get returns an empty buffer of the class's size.
func (bb *bodyBuffers) get(class int) *[]byte {
	if b, ok := bb.classes[class].Get().(*[]byte); ok {
		*b = (*b)[:0]
		return b
	}
	b := make([]byte, 0, classSize(class))
	return &b
}

// put recycles a buffer of a class's size, and reports whether it did;
// any other is left to the collector.
func (bb *bodyBuffers) put(b *[]byte) bool {
	size, class := bodyClass(cap(*b))
	if class < 0 || size != cap(*b) {
		return false
	}
	bb.classes[class].Put(b)
	return true
}
