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

// reserve takes the next slot of a rate with the generic cell rate
// algorithm: a slot every interval, tolerance early. It returns how long
// the call must wait for its slot; a wait over maxWait takes no slot and
// reports false. It does not allocate for a key seen before.
func (m *memoryStore) reserve(_ context.Context, key string, interval, tolerance, maxWait time.Duration) (time.Duration, bool, error) {
	now := time.Since(m.base)
	m.mu.Lock()
	tat, ok := m.tat[key]
	if !ok || tat < now {
		tat = now
	}
	wait := max(tat-tolerance-now, 0)
	if wait > maxWait {
		m.mu.Unlock()
		return wait, false, nil
	}
	m.tat[key] = tat + interval
	m.mu.Unlock()
	return wait, true, nil
}

// spend adds n items to every key's count if each stays within its
// total, all or none; it returns the counts after (or as they were, when
// refused). The counts expire at expire.
func (m *memoryStore) spend(_ context.Context, keys []string, n int64, totals []int64, expire time.Time) ([]int64, bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.expire(expire)
	used := make([]int64, len(keys))
	ok := true
	for i, k := range keys {
		used[i] = m.used[k]
		if used[i]+n > totals[i] {
			ok = false
		}
	}
	if !ok {
		return used, false, nil
	}
	for i, k := range keys {
		used[i] += n
		m.used[k], m.until[k] = used[i], expire
	}
	return used, true, nil
}

// set makes key's count used, until expire.
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
