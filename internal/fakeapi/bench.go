package fakeapi

import (
	"bytes"
	"net/http"
	"net/http/httputil"
	"strconv"
	"sync"
	"time"
)

// BenchBodies returns, by name, the bodies both benchmarks of the
// proxy answer with (go run ./bench and proxy's BenchmarkProxy): API 2.0
// results of typical and large sizes, with "code" first as the API
// writes it. The large ones are built on each call; a caller that must
// not hold 10 MB builds them only where it needs them.
func BenchBodies() map[string][]byte {
	return map[string][]byte{
		"success-200B":  []byte(`{"code":0,"message":"","codeDesc":"Success","data":{"count":2,"task_id":"1522134939950455","urls":["http://www.test.com/a.png","http://www.test.com/b.png"],"host":"www.test.com"}}`),
		"success-100KB": successOf(100 << 10),
		"success-10MB":  successOf(10 << 20),
		"error-150B":    []byte(`{"code":4000,"message":"(9110)没有这个域名的信息 cdn no such host","codeDesc":"9110","data":{"host":"www.example.com","id":12345,"ttl":3600}}`),
	}
}

// successOf returns a success body of exactly size bytes: a
// DescribeCdnHosts-like list of hosts, padded.
func successOf(size int) []byte {
	const head, tail = `{"code":0,"message":"","codeDesc":"Success","data":{"hosts":[`, `]}}`
	const host = `{"id":1234567,"host":"www.example.com","status":4,"origin":["1.2.3.4"],"cache":[[0,"all",1000]]}`
	b := make([]byte, 0, size)
	b = append(b, head...)
	for len(b)+len(host)+1+len(tail) <= size {
		if len(b) > len(head) {
			b = append(b, ',')
		}
		b = append(b, host...)
	}
	b = append(b, bytes.Repeat([]byte(" "), size-len(b)-len(tail))...)
	return append(b, tail...)
}

// BenchUpstream returns the upstream of both benchmarks: it answers each
// call, after waiting delay, with the body of bodies named by its query
// parameter body=, from memory, as application/json with its
// Content-Length; a name not in bodies is answered 400.
func BenchUpstream(bodies map[string][]byte, delay time.Duration) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if delay > 0 {
			time.Sleep(delay)
		}
		body, ok := bodies[r.URL.Query().Get("body")]
		if !ok {
			http.Error(w, "bench upstream: unknown body", http.StatusBadRequest)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Content-Length", strconv.Itoa(len(body)))
		_, _ = w.Write(body)
	})
}

// copyBufferSize is the size of a ReverseProxy's copy buffers without a
// pool.
const copyBufferSize = 32 << 10

// NewBufferPool returns a pool of 32 KiB copy buffers like the one a
// cdnproxy Proxy lends its ReverseProxy, for the plain
// httputil.ReverseProxy that the benchmarks compare cdnproxy with on equal
// terms. It pools the arrays themselves, so that neither Get nor Put
// allocates.
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
