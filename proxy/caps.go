package proxy

import (
	"net/http"
	"sync/atomic"
	"time"
)

// slots bound the calls being proxied at once (Config.MaxInFlight): a
// call beyond them is answered busy at once, not queued.
type slots struct {
	max  int64 // 0: no bound
	used atomic.Int64
}

// acquire takes a slot, or reports that none is free.
func (s *slots) acquire() bool {
	if s.max == 0 {
		return true
	}
	if s.used.Add(1) > s.max {
		s.used.Add(-1)
		return false
	}
	return true
}

// release gives a slot back.
func (s *slots) release() {
	if s.max != 0 {
		s.used.Add(-1)
	}
}

// writeDeadliner is the server's ResponseWriter as http.ResponseController
// reaches it, without the allocation.
type writeDeadliner interface{ SetWriteDeadline(time.Time) error }

// writeGuard bounds each write to the client (Config.ClientWriteTimeout):
// an answer that makes no progress for that long fails, which ends the
// call and cancels its upstream exchange. A writer that cannot set
// deadlines (a test's recorder) is not bounded.
type writeGuard struct {
	w       writeDeadliner // nil: not bounded
	timeout time.Duration
}

// newWriteGuard returns the guard of the server's writer w.
func newWriteGuard(w http.ResponseWriter, timeout time.Duration) writeGuard {
	d, _ := w.(writeDeadliner)
	return writeGuard{w: d, timeout: timeout}
}

// extend gives the next write the whole timeout again.
func (g writeGuard) extend() {
	if g.w != nil {
		_ = g.w.SetWriteDeadline(time.Now().Add(g.timeout))
	}
}

// clear removes the deadline once the answer is out, so that the
// connection's next call starts unbounded by this one's.
func (g writeGuard) clear() {
	if g.w != nil {
		_ = g.w.SetWriteDeadline(time.Time{})
	}
}
