package proxy

import (
	"context"
	"sync"
	"time"
)

// memoryStore is the limits' state for one replica: the rates' GCRA
// times and the day's quota counters. It serves when no Redis is
// configured, and in place of Redis while Redis fails in the open mode.
// It is safe for concurrent use.
type memoryStore struct {
	base time.Time // the monotonic origin of the GCRA times

	mu    sync.Mutex
	tat   map[string]time.Duration // rate key -> theoretical arrival time, since base
	used  map[string]int64         // quota key -> items spent
	until map[string]time.Time     // quota key -> when its count expires
}

func newMemoryStore() *memoryStore {
	return &memoryStore{base: time.Now(), tat: make(map[string]time.Duration),
		used: make(map[string]int64), until: make(map[string]time.Time)}
}

// check is limitStore's check, on the monotonic clock. Without a quota it
// does not allocate for a rate seen before.
func (m *memoryStore) check(_ context.Context, r rateReq, q *quotaReq) (checked, error) {
	now := time.Since(m.base)
	m.mu.Lock()
	defer m.mu.Unlock()
	tat, ok := m.tat[r.key]
	if !ok || tat < now {
		tat = now
	}
	c := checked{wait: max(tat-r.tolerance-now, 0)}
	if c.wait > r.maxWait {
		return c, nil
	}
	m.tat[r.key], c.slot = tat+r.interval, true
	if q != nil {
		c.used, c.over = m.spend(q)
	}
	return c, nil
}

// spend adds q's items to every counter if each stays within its total,
// all or none, and returns the counts after (or as they were, when
// over). m.mu is held.
func (m *memoryStore) spend(q *quotaReq) ([]int64, bool) {
	m.expire(q.expire)
	used := make([]int64, len(q.keys))
	over := false
	for i, k := range q.keys {
		used[i] = m.used[k]
		over = over || used[i]+q.n > q.totals[i]
	}
	if over {
		return used, true
	}
	for i, k := range q.keys {
		used[i] += q.n
		m.used[k], m.until[k] = used[i], q.expire
	}
	return used, false
}

func (m *memoryStore) set(_ context.Context, key string, used int64, expire time.Time) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.expire(expire)
	m.used[key], m.until[key] = used, expire
	return nil
}

// expire forgets the counts of earlier days: those that expire before
// the current day's do.
func (m *memoryStore) expire(current time.Time) {
	for k, until := range m.until {
		if until.Before(current) {
			delete(m.used, k)
			delete(m.until, k)
		}
	}
}
