package main

import (
	"context"
	"crypto/tls"
	"net"
	"net/http"
)

// net/http sets Request.TLS only when the connection it serves is itself
// a *tls.Conn. On the API listener the TLS connection is wrapped by
// framingConn (framing.go), which must read the decrypted bytes, and by
// limitConn (listener.go), so the server sees neither and leaves
// Request.TLS nil on a TLS connection. withTLSState gives it back: the
// server remembers, per connection, the *tls.Conn below the wrappers
// (found through their NetConn methods), and each request is handed on
// with Request.TLS set to that connection's state, as net/http would.

// netConner is a connection that wraps another, as *tls.Conn does.
type netConner interface {
	// NetConn returns the wrapped connection.
	NetConn() net.Conn
}

// tlsConnOf returns the *tls.Conn that c is or wraps (through NetConn
// methods), or nil when there is none.
func tlsConnOf(c net.Conn) *tls.Conn {
	for c != nil {
		if tc, ok := c.(*tls.Conn); ok {
			return tc
		}
		w, ok := c.(netConner)
		if !ok {
			return nil
		}
		c = w.NetConn()
	}
	return nil
}

// tlsConnKey keys a connection's *tls.Conn in its context.
type tlsConnKey struct{}

// withTLSState makes srv's handler see Request.TLS on TLS connections
// that arrive wrapped: srv.ConnContext keeps each connection's *tls.Conn
// (after what ConnContext did before), and srv.Handler is wrapped to set
// Request.TLS from it. It returns srv.
func withTLSState(srv *http.Server) *http.Server {
	prev, h := srv.ConnContext, srv.Handler
	srv.ConnContext = func(ctx context.Context, c net.Conn) context.Context {
		if prev != nil {
			ctx = prev(ctx, c)
		}
		if tc := tlsConnOf(c); tc != nil {
			ctx = context.WithValue(ctx, tlsConnKey{}, tc)
		}
		return ctx
	}
	srv.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.TLS == nil {
			// The server has read the request's head, so the handshake,
			// which the first read does, is over.
			if tc, ok := r.Context().Value(tlsConnKey{}).(*tls.Conn); ok {
				if state := tc.ConnectionState(); state.HandshakeComplete {
					// A shallow copy: handlers are not to modify the
					// server's own Request.
					r = r.WithContext(r.Context())
					r.TLS = &state
				}
			}
		}
		h.ServeHTTP(w, r)
	})
	return srv
}
