package emulator

import (
	"errors"
	"strconv"
	"time"

	"github.com/cdnproxy/cdnproxy/internal/apicall"
	"github.com/cdnproxy/cdnproxy/proxy/signature"
)

// window is how long a (SecretId, Nonce) pair is remembered: as long as
// its Timestamp may be from the clock.
const window = apicall.WindowV2

// authenticate checks the SecretId and the signature, and returns the
// SecretId. The signature is checked over every parameter but Signature,
// for the Host the call arrived with, the same without its port, and the
// canonical API host, as API clients sign whichever host they were
// configured with.
func (e *Emulator) authenticate(method, host string, p signature.Params) (string, *reply) {
	id, _ := p.Get("SecretId")
	secret, ok := e.creds[id]
	if id == "" || !ok {
		rep := errAuth()
		return "", &rep
	}
	key := signature.NewKey(secret)
	for _, h := range signature.Hosts(host, CanonicalHost) {
		if key.Verify(method, h, Path, p) {
			return id, nil
		}
	}
	rep := errAuth()
	return "", &rep
}

// checkFreshness checks Timestamp and Nonce: both present and numeric,
// the Timestamp within 2 hours of now. It returns the Nonce.
func checkFreshness(p signature.Params, now time.Time) (uint64, *reply) {
	ts, _ := p.Get("Timestamp")
	switch err := apicall.CheckTimestamp(ts, now, window); {
	case errors.Is(err, apicall.ErrExpired):
		rep := errReplay(now)
		return 0, &rep
	case err != nil:
		rep := errPublic(4000, "缺少参数或参数格式错误 Timestamp (missing or invalid parameter Timestamp)")
		return 0, &rep
	}
	n, _ := p.Get("Nonce")
	nonce, err := strconv.ParseUint(n, 10, 64)
	if err != nil {
		rep := errPublic(4000, "缺少参数或参数格式错误 Nonce (missing or invalid parameter Nonce)")
		return 0, &rep
	}
	return nonce, nil
}

// nonceKey is one remembered (SecretId, Nonce) pair.
type nonceKey struct {
	secretID string
	nonce    uint64
}

// nonceMemory remembers the pairs seen in the last 2 hours, at most max of
// them: a FIFO queue (in the order seen) beside a set for lookups.
type nonceMemory struct {
	max   int
	seen  map[nonceKey]struct{}
	queue []seenNonce // queue[head:] are live, oldest first
	head  int
}

type seenNonce struct {
	key nonceKey
	at  time.Time
}

// add records key as seen at now and reports whether it was new. It
// first forgets pairs older than 2 hours and, when full, the oldest.
func (m *nonceMemory) add(key nonceKey, now time.Time) bool {
	for m.head < len(m.queue) && now.Sub(m.queue[m.head].at) > window {
		m.pop()
	}
	if _, dup := m.seen[key]; dup {
		return false
	}
	for len(m.seen) >= m.max {
		m.pop()
	}
	m.seen[key] = struct{}{}
	m.queue = append(m.queue, seenNonce{key, now})
	return true
}

// pop forgets the oldest pair, compacting the queue now and then.
func (m *nonceMemory) pop() {
	delete(m.seen, m.queue[m.head].key)
	m.queue[m.head] = seenNonce{}
	m.head++
	if m.head > 1024 && m.head > len(m.queue)/2 {
		m.queue = append(m.queue[:0:0], m.queue[m.head:]...)
		m.head = 0
	}
}
