package proxy

import (
	"crypto/tls"
	"net"
	"net/http"
	"net/http/httputil"
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

// copyBufferSize is the size of the ReverseProxy's copy buffers, as
// without a pool.
const copyBufferSize = 32 << 10

// NewBufferPool returns a pool of the 32 KiB copy buffers a Proxy lends
// its ReverseProxy, for a plain httputil.ReverseProxy that is to be
// compared with cdnproxy on equal terms (see bench/). It pools the
// arrays themselves, so that neither Get nor Put allocates.
func NewBufferPool() httputil.BufferPool {
	return &bufferPool{p: sync.Pool{New: func() any { return new([copyBufferSize]byte) }}}
}

// bufferPool is NewBufferPool's pool.
type bufferPool struct{ p sync.Pool }

// Get returns a buffer from the pool.
func (b *bufferPool) Get() []byte { return b.p.Get().(*[copyBufferSize]byte)[:] }

// Put returns a buffer to the pool; one that did not come from it is
// dropped.
func (b *bufferPool) Put(buf []byte) {
	if len(buf) == copyBufferSize {
		b.p.Put((*[copyBufferSize]byte)(buf))
	}
}
