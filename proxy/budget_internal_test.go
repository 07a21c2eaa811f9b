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
