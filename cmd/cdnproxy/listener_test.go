package main

import (
	"bytes"
	"errors"
	"log/slog"
	"net"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestLimitListenerWaits: at CDNPROXY_MAX_CONNS open connections the
// listener accepts no more until one closes.
func TestLimitListenerWaits(t *testing.T) {
	inner, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ln := newLimitListener(inner, 2, slog.New(slog.DiscardHandler))
	defer ln.Close()
	accepted := make(chan net.Conn, 3)
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			accepted <- c
		}
	}()
	for range 3 {
		c, err := net.Dial("tcp", inner.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
	}
	first := <-accepted
	<-accepted
	select {
	case <-accepted:
		t.Fatal("a third connection was accepted at a cap of 2")
	case <-time.After(100 * time.Millisecond): // long enough to see a wrong accept, most of the time
	}
	first.Close()
	select {
	case c := <-accepted:
		c.Close()
	case <-time.After(15 * time.Second): // a hang guard
		t.Fatal("the third connection was never accepted after one closed")
	}
}

// failingListener fails every Accept with err.
type failingListener struct {
	net.Listener
	err error
}

func (l failingListener) Accept() (net.Conn, error) { return nil, l.err }

// TestLimitListenerLogsAcceptErrors: the host's own accept errors (too
// many open files) are logged at warn; a listener closed on purpose is not.
func TestLimitListenerLogsAcceptErrors(t *testing.T) {
	for _, tt := range []struct {
		err  error
		warn bool
	}{
		{&net.OpError{Op: "accept", Net: "tcp", Err: syscall.EMFILE}, true},
		{net.ErrClosed, false},
	} {
		var buf bytes.Buffer
		ln := newLimitListener(failingListener{err: tt.err}, 1, slog.New(slog.NewTextHandler(&buf, nil)))
		if _, err := ln.Accept(); !errors.Is(err, tt.err) {
			t.Errorf("Accept: %v, want %v", err, tt.err)
		}
		if got := strings.Contains(buf.String(), "level=WARN"); got != tt.warn {
			t.Errorf("%v: logged at warn %v, want %v (%q)", tt.err, got, tt.warn, buf.String())
		}
		// The failed Accept gave its slot back: a second one does not wait.
		if _, err := ln.Accept(); !errors.Is(err, tt.err) {
			t.Errorf("second Accept: %v", err)
		}
	}
}
