package main

import (
	"context"
	"crypto/tls"
	"net"
	"net/http"
	"testing"
)

// TestTLSConnOf: the *tls.Conn is found below any chain of the API
// listener's wrappers, and never looked for below it or without it.
func TestTLSConnOf(t *testing.T) {
	raw, other := net.Pipe()
	defer raw.Close()
	defer other.Close()
	tc := tls.Server(raw, &tls.Config{})
	limited := func(c net.Conn) net.Conn { return &limitConn{Conn: c, release: func() {}} }
	for _, tt := range []struct {
		name string
		conn net.Conn
		want *tls.Conn
	}{
		{"plain", raw, nil},
		{"TLS", tc, tc},
		{"framing over TLS", &framingConn{Conn: tc}, tc},
		{"cap over framing over TLS", limited(&framingConn{Conn: tc}), tc},
		{"cap over framing over plain", limited(&framingConn{Conn: raw}), nil},
		{"nil", nil, nil},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if got := tlsConnOf(tt.conn); got != tt.want {
				t.Errorf("tlsConnOf = %p, want %p", got, tt.want)
			}
		})
	}
}

// TestWithTLSStateKeepsConnContext: a ConnContext the server had before
// still shapes the connection's context.
func TestWithTLSStateKeepsConnContext(t *testing.T) {
	type key struct{}
	srv := withTLSState(&http.Server{
		Handler: http.NotFoundHandler(),
		ConnContext: func(ctx context.Context, _ net.Conn) context.Context {
			return context.WithValue(ctx, key{}, "kept")
		},
	})
	raw, other := net.Pipe()
	defer raw.Close()
	defer other.Close()
	tc := tls.Server(raw, &tls.Config{})
	ctx := srv.ConnContext(context.Background(), &framingConn{Conn: tc})
	if ctx.Value(key{}) != "kept" || ctx.Value(tlsConnKey{}) != tc {
		t.Errorf("context holds %v and %v", ctx.Value(key{}), ctx.Value(tlsConnKey{}))
	}
}
