package proxy

import (
	"sync"
	"time"
)

// maxReplays bounds the signatures a replayCache remembers: at 16 bytes of
// overhead and about 100 of key each, some 12 MiB.
const maxReplays = 100_000

// replayCache remembers the signatures of bridged calls for as long as
// they could be accepted, so that a captured call sent again is refused:
// the 3.0 upstream never sees the client's Nonce, so it cannot. When full,
// the oldest signature is forgotten first. It is safe for concurrent use.
type replayCache struct {
	max    int
	window time.Duration

	mu    sync.Mutex
	until map[string]time.Time // signature -> end of the window it is valid in
	order []string             // signatures in the order first seen, oldest first
}

// newReplayCache returns an empty cache of at most max signatures, each
// valid within window of its call's Timestamp.
func newReplayCache(max int, window time.Duration) *replayCache {
	return &replayCache{max: max, window: window, until: make(map[string]time.Time)}
}

// firstSeen reports whether key, the signature of a call made at Unix time
// ts, is new, and remembers it until its window ends.
func (rc *replayCache) firstSeen(key string, ts int64, now time.Time) bool {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	if until, ok := rc.until[key]; ok && now.Before(until) {
		return false
	}
	// Forget what has expired, and the oldest if the cache is full. The
	// queue is in the order seen, which is close to the order of expiry.
	for len(rc.order) > 0 {
		oldest := rc.order[0]
		if len(rc.order) < rc.max && now.Before(rc.until[oldest]) {
			break
		}
		delete(rc.until, oldest)
		rc.order = rc.order[1:]
	}
	rc.until[key] = time.Unix(ts, 0).Add(rc.window)
	rc.order = append(rc.order, key)
	return true
}
