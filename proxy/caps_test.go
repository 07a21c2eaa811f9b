package proxy_test

import (
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/cdnproxy/cdnproxy/proxy"
)

// TestStalledClientCutOff: a client that asks for an endless body and
// never reads is cut off once a write makes no progress for
// ClientWriteTimeout, and its upstream exchange is canceled (the
// upstream's write fails), instead of holding both for ever.
func TestStalledClientCutOff(t *testing.T) {
	const clients = 50
	released := make(chan struct{}, clients)
	chunk := []byte(strings.Repeat("x", 32<<10))
	front, logs := handlerRig(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/octet-stream")
		for {
			if _, err := w.Write(chunk); err != nil {
				released <- struct{}{}
				return
			}
		}
	}, proxy.Config{ClientWriteTimeout: 200 * time.Millisecond})
	for range clients {
		conn, err := net.Dial("tcp", strings.TrimPrefix(front.URL, "http://"))
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		if _, err := io.WriteString(conn, "GET /v2/index.php?Action=GetCdnLogList HTTP/1.1\r\nHost: x\r\n\r\n"); err != nil {
			t.Fatal(err)
		}
	}
	for i := range clients {
		select {
		case <-released:
		case <-time.After(faultHang):
			t.Fatalf("%d of %d upstream exchanges still held by clients that read nothing", clients-i, clients)
		}
	}
	front.Config.SetKeepAlivesEnabled(false)
	front.CloseClientConnections()
	front.Close()
	n := 0
	for _, l := range logs.lines(t) {
		if l["outcome"] == "client_gone" {
			n++
		}
	}
	if n != clients {
		t.Errorf("%d calls logged client_gone, want %d", n, clients)
	}
}

// TestMaxInFlight: beyond MaxInFlight calls a call is answered at once
// with the API-shaped busy answer (503, Retry-After, unavailable,
// retryable), and the upstream never sees more than MaxInFlight at once.
func TestMaxInFlight(t *testing.T) {
	const limit = 2
	var now, peak atomic.Int32
	arrived := make(chan struct{}, 16)
	hold := make(chan struct{})
	front, _ := handlerRig(t, func(w http.ResponseWriter, r *http.Request) {
		n := now.Add(1)
		defer now.Add(-1)
		for p := peak.Load(); n > p && !peak.CompareAndSwap(p, n); p = peak.Load() {
		}
		arrived <- struct{}{}
		<-hold
		_, _ = io.WriteString(w, `{"code":0}`)
	}, proxy.Config{MaxInFlight: limit})
	var wg sync.WaitGroup
	for range limit {
		wg.Add(1)
		go func() {
			defer wg.Done()
			resp, err := http.Get(front.URL + "/v2/index.php?Action=DescribeCdnHosts")
			if err == nil {
				resp.Body.Close()
			}
		}()
	}
	for range limit {
		select {
		case <-arrived:
		case <-time.After(faultHang):
			t.Fatal("the first calls never reached the upstream")
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), faultHang) // a hang guard: busy must not queue
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, front.URL+"/?Action=DescribeCdnHosts&Version=2018-06-06", nil)
	req.URL.Path = "/v2/index.php"
	resp, body := do(t, req)
	close(hold)
	wg.Wait()
	var got errorBody
	if err := json.Unmarshal(body, &got); err != nil {
		t.Fatalf("not JSON: %s", body)
	}
	if resp.StatusCode != http.StatusServiceUnavailable || resp.Header.Get("Retry-After") == "" || got.Category != "unavailable" || !got.Retryable {
		t.Errorf("status %d, Retry-After %q, body %s; want 503, Retry-After, unavailable, retryable", resp.StatusCode, resp.Header.Get("Retry-After"), body)
	}
	if p := peak.Load(); p > limit {
		t.Errorf("the upstream saw %d calls at once, want at most %d", p, limit)
	}
}

// fdExhausted is a transport on a host out of file descriptors.
type fdExhausted struct{}

func (fdExhausted) RoundTrip(*http.Request) (*http.Response, error) {
	return nil, &net.OpError{Op: "dial", Net: "tcp", Err: os.NewSyscallError("socket", syscall.EMFILE)}
}

// TestLocalResourcesNotBlamedOnUpstream: "too many open files" is the
// proxy's host's fault: answered busy (503, unavailable, retryable), never
// as an unreachable upstream.
func TestLocalResourcesNotBlamedOnUpstream(t *testing.T) {
	reg := prometheus.NewRegistry()
	front, logs := handlerRig(t, func(http.ResponseWriter, *http.Request) {}, proxy.Config{Transport: fdExhausted{}, Metrics: proxy.NewMetrics(reg)})
	req, _ := http.NewRequest(http.MethodGet, front.URL+"/v2/index.php?Action=DescribeCdnHosts", nil)
	resp, body := do(t, req)
	var got errorBody
	if err := json.Unmarshal(body, &got); err != nil {
		t.Fatalf("not JSON: %s", body)
	}
	if resp.StatusCode != http.StatusServiceUnavailable || got.Category != "unavailable" || !got.Retryable {
		t.Errorf("status %d, body %s; want 503, category unavailable, retryable", resp.StatusCode, body)
	}
	front.Close()
	if lines := logs.lines(t); len(lines) != 1 || lines[0]["outcome"] != "busy" {
		t.Errorf("log %v, want one line with outcome busy", lines)
	}
	if n := counter(t, reg, "cdnproxy_busy_total", "limit", "local_resources"); n != 1 {
		t.Errorf("cdnproxy_busy_total{limit=local_resources} = %v, want 1", n)
	}
}
