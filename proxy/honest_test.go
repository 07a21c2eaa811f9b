package proxy_test

import (
	"bytes"
	"compress/gzip"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"

	"github.com/cdnproxy/cdnproxy/proxy"
)

// handlerRig is a proxy in front of an upstream made of handler, with the
// proxy's log kept, at debug level.
func handlerRig(t *testing.T, handler http.HandlerFunc, cfg proxy.Config) (front *httptest.Server, logs *logBuffer) {
	t.Helper()
	up := httptest.NewServer(handler)
	t.Cleanup(up.Close)
	logs = &logBuffer{}
	cfg.Upstream = mustURL(t, up.URL)
	cfg.Logger = slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	p, err := proxy.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	front = httptest.NewServer(p)
	t.Cleanup(front.Close)
	return front, logs
}

// TestNoSurpriseCompression: a client that asks for no encoding gets
// none, and the upstream is asked for none (Go's transport would ask for
// gzip and inflate the answer itself: 1 MB on the wire could become 1 GiB
// to the client). A client that asks for gzip gets the upstream's gzip
// bytes as they came.
func TestNoSurpriseCompression(t *testing.T) {
	var mu sync.Mutex
	var asked []string
	success := []byte(`{"code":0,"message":"","codeDesc":"Success","data":"` + string(bytes.Repeat([]byte("x"), 64<<10)) + `"}`)
	front, _ := handlerRig(t, func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		asked = append(asked, r.Header.Get("Accept-Encoding"))
		mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		if r.Header.Get("Accept-Encoding") == "gzip" {
			w.Header().Set("Content-Encoding", "gzip")
			zw := gzip.NewWriter(w)
			_, _ = zw.Write(success)
			_ = zw.Close()
			return
		}
		_, _ = w.Write(success)
	}, proxy.Config{})
	for _, tt := range []struct {
		clientAsks, upstreamAsked, encoding string
	}{
		{"", "identity", ""},
		{"gzip", "gzip", "gzip"},
	} {
		req, _ := http.NewRequest(http.MethodGet, front.URL+"/v2/index.php?Action=DescribeCdnHosts", nil)
		if tt.clientAsks != "" {
			req.Header.Set("Accept-Encoding", tt.clientAsks)
		}
		resp, body := do(t, req)
		mu.Lock()
		got := asked[len(asked)-1]
		mu.Unlock()
		if got != tt.upstreamAsked {
			t.Errorf("client asked for %q: upstream was asked for %q, want %q", tt.clientAsks, got, tt.upstreamAsked)
		}
		if ce := resp.Header.Get("Content-Encoding"); ce != tt.encoding {
			t.Errorf("client asked for %q: Content-Encoding %q, want %q", tt.clientAsks, ce, tt.encoding)
		}
		if tt.encoding == "" && !bytes.Equal(body, success) {
			t.Errorf("client asked for %q: the body is not the upstream's (%d bytes)", tt.clientAsks, len(body))
		}
	}
}

// TestAmbiguousBodyOutcome: a body with two top-level "code" members is
// neither a success nor an error (a last-wins parser reads the second):
// it passes through untouched and is logged, at warn, as its own outcome.
func TestAmbiguousBodyOutcome(t *testing.T) {
	for _, body := range []string{
		`{"code":0,"message":"","code":4000}`,
		`{"code":4000,"message":"x","code":0}`,
	} {
		front, logs := handlerRig(t, func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			_, _ = io.WriteString(w, body)
		}, proxy.Config{})
		req, _ := http.NewRequest(http.MethodGet, front.URL+"/v2/index.php?Action=DescribeCdnHosts", nil)
		_, got := do(t, req)
		if string(got) != body {
			t.Errorf("body %s: sent on as %s", body, got)
		}
		front.Close() // the log line is written once the call ends
		lines := logs.lines(t)
		if len(lines) != 1 || lines[0]["outcome"] != "ambiguous" || lines[0]["level"] != "WARN" {
			t.Errorf("body %s: log %v, want one warn line with outcome ambiguous", body, lines)
		}
	}
}
