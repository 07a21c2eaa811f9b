package proxy

import "testing"

// TestBodyClass: a body buffer's class is the smallest of 2^k and 1.5·2^k
// bytes (4 KiB to 64 MiB) that holds what was asked, so that a buffer is
// less than half as large again as asked and doubling one stays in the
// classes; beyond the largest, exactly what was asked, not recycled.
func TestBodyClass(t *testing.T) {
	for _, tt := range []struct{ n, size, class int }{
		{0, 4 << 10, 0},
		{1, 4 << 10, 0},
		{4 << 10, 4 << 10, 0},
		{4<<10 + 1, 6 << 10, 1},
		{6 << 10, 6 << 10, 1},
		{6<<10 + 1, 8 << 10, 2},
		{1<<20 - 22, 1 << 20, 16},
		{1<<20 + 1, 3 << 19, 17},
		{64 << 20, 64 << 20, 28},
		{64<<20 + 1, 64<<20 + 1, -1},
	} {
		size, class := bodyClass(tt.n)
		if size != tt.size || class != tt.class {
			t.Errorf("bodyClass(%d) = %d, %d; want %d, %d", tt.n, size, class, tt.size, tt.class)
		}
		if class >= 0 && classSize(class) != size {
			t.Errorf("classSize(%d) = %d, want %d", class, classSize(class), size)
		}
	}
	for class := range bodyClasses - 2 {
		size := classSize(class)
		if next, c := bodyClass(2 * size); next != 2*size || c != class+2 {
			t.Errorf("doubling class %d (%d bytes) gives %d bytes, class %d; want %d, class %d", class, size, next, c, 2*size, class+2)
		}
		if got, c := bodyClass(size + 1); c != class+1 || 2*got >= 3*(size+1) {
			t.Errorf("%d bytes: class %d of %d bytes, want class %d, less than half as large again", size+1, c, got, class+1)
		}
	}
}

// TestBodyBuffersRecycle: a buffer put back is one get can return, of
// its class's size and empty; one of another size is not kept.
func TestBodyBuffersRecycle(t *testing.T) {
	var bb bodyBuffers
	b := bb.get(3)
	if cap(*b) != classSize(3) || len(*b) != 0 {
		t.Fatalf("get(3): len %d cap %d, want 0 and %d", len(*b), cap(*b), classSize(3))
	}
	*b = append(*b, "x"...)
	odd := make([]byte, 0, 5000)
	bb.put(&odd)
	if got := bb.get(1); cap(*got) != classSize(1) {
		t.Errorf("get(1) after putting a %d-byte buffer: cap %d, want %d", cap(odd), cap(*got), classSize(1))
	}
	for range 100 { // sync.Pool may drop a buffer put back (at random under -race): put it back again
		bb.put(b)
		got := bb.get(3)
		if cap(*got) != classSize(3) || len(*got) != 0 {
			t.Fatalf("get(3) after put: len %d cap %d", len(*got), cap(*got))
		}
		if got == b {
			return
		}
	}
	t.Error("a buffer put back was never returned")
}

// TestHoldBodyAccounting: a call's reservation covers the body buffer it
// has in hand, at its class's size; the buffers it grew out of go back
// to the pool and their bytes to the budget; at the end nothing stays
// reserved. A budget with room for the body but not for its class's size
// gets a buffer of exactly the size asked for, not a refusal.
func TestHoldBodyAccounting(t *testing.T) {
	budget := &memoryBudget{limit: 8 << 20}
	h := &hold{budget: budget}
	buf, ok := h.start(make([]byte, 3000), false, false, -1, 4<<20)
	if !ok {
		t.Fatal("start refused")
	}
	for len(buf) < 3<<20 {
		if len(buf) == cap(buf) {
			if buf, ok = h.growBody(buf, 4<<20); !ok {
				t.Fatalf("growBody refused at %d bytes", len(buf))
			}
			if h.n != int64(cap(buf)) || budget.used.Load() != h.n {
				t.Fatalf("at %d bytes of room: call reserves %d, budget used %d; want both %d", cap(buf), h.n, budget.used.Load(), cap(buf))
			}
		}
		buf = buf[:cap(buf)]
	}
	h.release()
	if h.n != 0 || budget.used.Load() != 0 || h.body != nil {
		t.Errorf("after release: call reserves %d, budget used %d, body kept %v", h.n, budget.used.Load(), h.body != nil)
	}

	tight := &memoryBudget{limit: 1_000_000}
	h = &hold{budget: tight}
	b, ok := h.bodyBuffer(900_061)
	if !ok || cap(*b) != 900_061 || h.denied || tight.used.Load() != 900_061 {
		t.Fatalf("budget 1,000,000, 900,061 bytes asked: ok %v, room %d, denied %v, used %d", ok, cap(*b), h.denied, tight.used.Load())
	}
	h.keepBody(b)
	h.release()
	if tight.used.Load() != 0 {
		t.Errorf("after release: budget used %d", tight.used.Load())
	}
	if _, ok := h.bodyBuffer(1_000_001); ok || !h.denied {
		t.Errorf("budget 1,000,000, 1,000,001 bytes asked: ok %v, denied %v; want a refusal", ok, h.denied)
	}
}
