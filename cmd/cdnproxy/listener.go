package main

import (
	"errors"
	"log/slog"
	"net"
	"sync"
)

// limitListener caps the client connections open at once
// (CDNPROXY_MAX_CONNS): at the cap, Accept waits for one to close, and
// the kernel's backlog holds the rest. Accept errors (such as too many
// open files) are logged at warn: they are the proxy's host's, and
// http.Server would retry them silently.
type limitListener struct {
	net.Listener
	sem chan struct{}
	log *slog.Logger
}

// newLimitListener caps ln at max connections (none when max is 0).
func newLimitListener(ln net.Listener, max int, log *slog.Logger) net.Listener {
	l := &limitListener{Listener: ln, log: log}
	if max > 0 {
		l.sem = make(chan struct{}, max)
	}
	return l
}

func (l *limitListener) Accept() (net.Conn, error) {
	if l.sem != nil {
		l.sem <- struct{}{}
	}
	conn, err := l.Listener.Accept()
	if err != nil {
		if l.sem != nil {
			<-l.sem
		}
		if !isClosed(err) {
			l.log.Warn("accepting a client connection failed", "error", err.Error())
		}
		return nil, err
	}
	if l.sem == nil {
		return conn, nil
	}
	return &limitConn{Conn: conn, release: func() { <-l.sem }}, nil
}

// isClosed reports the error of a listener closed on purpose.
func isClosed(err error) bool { return errors.Is(err, net.ErrClosed) }

// limitConn gives its slot back once, when closed.
type limitConn struct {
	net.Conn
	once    sync.Once
	release func()
}

// NetConn returns the wrapped connection, as (*tls.Conn).NetConn does,
// so that the *tls.Conn below can be found (see tlsstate.go). Closing it
// directly would not give the slot back.
func (c *limitConn) NetConn() net.Conn { return c.Conn }

func (c *limitConn) Close() error {
	err := c.Conn.Close()
	c.once.Do(c.release)
	return err
}
