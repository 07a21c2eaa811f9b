package main

import (
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cdnproxy/cdnproxy/proxy"
)

// TestUpstreamConnsCapped: with CDNPROXY_MAX_UPSTREAM_CONNS=3, ten calls
// at once to a slow upstream open no more than three connections to it;
// the other calls wait for one, and every call is answered.
func TestUpstreamConnsCapped(t *testing.T) {
	const limit, calls = 3, 10
	cfg, err := loadConfig([]string{"CDNPROXY_MAX_UPSTREAM_CONNS=3"})
	if err != nil {
		t.Fatal(err)
	}
	var open, peak atomic.Int32
	arrived := make(chan struct{}, calls)
	release := make(chan struct{})
	up := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		arrived <- struct{}{}
		<-release
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"code":0,"message":"","codeDesc":"Success"}`))
	}))
	up.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		switch s {
		case http.StateNew:
			n := open.Add(1)
			for p := peak.Load(); n > p && !peak.CompareAndSwap(p, n); p = peak.Load() {
			}
		case http.StateClosed, http.StateHijacked:
			open.Add(-1)
		}
	}
	up.Start()
	defer up.Close()
	u, _ := url.Parse(up.URL)
	p, err := proxy.New(proxy.Config{Upstream: u, Transport: upstreamTransport(cfg)})
	if err != nil {
		t.Fatal(err)
	}
	front := httptest.NewServer(p)
	defer front.Close()

	var wg sync.WaitGroup
	statuses := make(chan int, calls)
	for range calls {
		wg.Add(1)
		go func() {
			defer wg.Done()
			resp, err := http.Get(front.URL + "/v2/index.php?Action=DescribeCdnHosts")
			if err != nil {
				statuses <- 0
				return
			}
			resp.Body.Close()
			statuses <- resp.StatusCode
		}()
	}
	for range limit {
		select {
		case <-arrived:
		case <-time.After(30 * time.Second): // a hang guard
			t.Fatal("the upstream never saw the first calls")
		}
	}
	// Give the other calls time to reach for connections of their own
	// while the first three are held; with the cap they wait instead. (A
	// slow machine only makes the test weaker, never wrong.)
	time.Sleep(200 * time.Millisecond)
	close(release)
	wg.Wait()
	close(statuses)
	for s := range statuses {
		if s != http.StatusOK {
			t.Errorf("a call was answered %d, want 200", s)
		}
	}
	if p := peak.Load(); p > limit {
		t.Errorf("the upstream saw %d connections at once, want at most %d", p, limit)
	}
}
