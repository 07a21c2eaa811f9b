package proxy

import (
	"crypto/tls"
	"net"
	"net/http"
	"sync"
	"time"
)

// NewTransport returns the transport cdnproxy uses upstream: its own, not
// http.DefaultTransport, with no proxy taken from the environment, dial
// and TLS handshake timeouts, and an idle pool of maxIdle connections to
// each upstream host (the API 2.0 and 3.0 hosts, two pools that must not
// evict each other), so that concurrent calls reuse connections
// instead of paying a TLS handshake each, and a TLS session cache of the
// same size, so that a connection opened again (after the upstream closed
// an idle one, or beyond the pool in a burst) resumes its session instead
// of a full handshake. The response deadline is the Proxy's own
// (Config.Timeout).
func NewTransport(maxIdle int) *http.Transport {
	if maxIdle < 2 {
		maxIdle = 2
	}
	dialer := &net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}
	return &http.Transport{
		Proxy:                  nil,
		DialContext:            dialer.DialContext,
		ForceAttemptHTTP2:      true,
		TLSHandshakeTimeout:    10 * time.Second,
		TLSClientConfig:        &tls.Config{ClientSessionCache: tls.NewLRUClientSessionCache(maxIdle)},
		ExpectContinueTimeout:  time.Second,
		MaxIdleConns:           2 * maxIdle,
		MaxIdleConnsPerHost:    maxIdle,
		IdleConnTimeout:        90 * time.Second,
		MaxResponseHeaderBytes: 1 << 20,
	}
}

// bufferSize is the size of the buffers a Proxy copies bodies with and
// peeks into: the ReverseProxy's own default.
const bufferSize = 32 << 10

// bufferPool is a Proxy's pool of bufferSize buffers, for the
// ReverseProxy's copies and for peeking at bodies. It pools the arrays
// themselves, so that neither Get nor Put allocates.
type bufferPool struct{ p sync.Pool }

// newBufferPool returns an empty pool.
func newBufferPool() *bufferPool {
	return &bufferPool{p: sync.Pool{New: func() any { return new([bufferSize]byte) }}}
}

// Get returns a buffer from the pool.
func (b *bufferPool) Get() []byte { return b.p.Get().(*[bufferSize]byte)[:] }

// Put returns a buffer to the pool; one that did not come from it is
// dropped.
func (b *bufferPool) Put(buf []byte) {
	if cap(buf) == bufferSize {
		b.p.Put((*[bufferSize]byte)(buf[:bufferSize]))
	}
}
