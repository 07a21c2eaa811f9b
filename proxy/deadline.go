package proxy

import (
	"context"
	"sync/atomic"
	"time"
)

// deadline bounds a call's upstream exchange. It starts when the call is
// forwarded and covers the whole exchange up to the proxy's decision about
// the body; after that (decided), only the waits for the upstream's next
// bytes of a streamed body count, each bounded by the same duration, so a
// large body takes as long as it needs but a stalled upstream cannot hold
// the client for ever. Time spent writing to a slow client never counts.
//
// When the deadline passes it cancels the exchange's context, which ends
// whatever the transport is waiting for.
type deadline struct {
	d     time.Duration
	timer *time.Timer
	fired atomic.Bool
}

// startDeadline arms a deadline of d that calls cancel when it passes.
func startDeadline(d time.Duration, cancel context.CancelFunc) *deadline {
	dl := &deadline{d: d}
	dl.timer = time.AfterFunc(d, func() {
		dl.fired.Store(true)
		cancel()
	})
	return dl
}

// stoppedDeadline is a deadline that never fires, for a call that never
// left the proxy.
func stoppedDeadline() *deadline {
	dl := &deadline{timer: time.AfterFunc(time.Hour, func() {})}
	dl.timer.Stop()
	return dl
}

// decided stops the deadline once the proxy has decided about the body.
// It reports whether it passed before that; the exchange's context is
// then canceled, or about to be.
func (dl *deadline) decided() (passed bool) {
	return !dl.timer.Stop() || dl.fired.Load()
}

// waiting starts the clock on one wait for the upstream's bytes.
func (dl *deadline) waiting() { dl.timer.Reset(dl.d) }

// notWaiting stops it when the bytes came.
func (dl *deadline) notWaiting() { dl.timer.Stop() }

// stop ends the deadline for good, when the call ends.
func (dl *deadline) stop() { dl.timer.Stop() }

// expired reports whether the deadline passed.
func (dl *deadline) expired() bool { return dl != nil && dl.fired.Load() }
