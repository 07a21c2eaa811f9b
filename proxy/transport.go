package proxy

import (
	"net"
	"net/http"
	"sync"
	"time"
)

// NewTransport returns the transport cdnproxy uses upstream: its own, not
// http.DefaultTransport, with no proxy taken from the environment, dial
// and TLS handshake timeouts, and an idle pool of maxIdle connections to
// the one upstream host, so that concurrent calls reuse connections
// instead of paying a TLS handshake each. The response deadline is the
// Proxy's own (Config.Timeout).
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
		ExpectContinueTimeout:  time.Second,
		MaxIdleConns:           maxIdle,
		MaxIdleConnsPerHost:    maxIdle,
		IdleConnTimeout:        90 * time.Second,
		MaxResponseHeaderBytes: 1 << 20,
	}
}

// bufferPool lends the ReverseProxy its 32 KiB copy buffers.
type bufferPool struct{ p sync.Pool }

func newBufferPool() *bufferPool {
	return &bufferPool{p: sync.Pool{New: func() any { b := make([]byte, 32<<10); return &b }}}
}

// Get returns a buffer from the pool.
func (b *bufferPool) Get() []byte { return *(b.p.Get().(*[]byte)) }

// Put returns a buffer to the pool.
func (b *bufferPool) Put(buf []byte) { b.p.Put(&buf) }
