package proxy_test

import (
	"bytes"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"

	"github.com/cdnproxy/cdnproxy/internal/logbuf"
	"github.com/cdnproxy/cdnproxy/proxy"
)

// TestLogLineGolden pins the log lines, field by field and in order, as
// docs/logging.md documents them and log pipelines parse them: an
// annotated API error, a refusal and an upstream failure, at warn, and a
// success, at debug, in cmd/cdnproxy's JSON format. Times and durations,
// which change from run to run, are replaced by fixed values.
func TestLogLineGolden(t *testing.T) {
	var out logbuf.Buffer
	fixed := func(_ []string, a slog.Attr) slog.Attr {
		switch a.Key {
		case slog.TimeKey:
			return slog.String(a.Key, "2026-01-02T03:04:05Z")
		case "upstreamMs", "totalMs":
			return slog.Float64(a.Key, 1.5)
		}
		return a
	}
	logger := slog.New(slog.NewJSONHandler(&out, &slog.HandlerOptions{Level: slog.LevelDebug, ReplaceAttr: fixed}))
	newProxy := func(transport http.RoundTripper) *proxy.Proxy {
		p, err := proxy.New(proxy.Config{Upstream: mustURL(t, "https://cdn.api.qcloud.com"), Transport: transport, Logger: logger})
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	calls := []struct {
		p      *proxy.Proxy
		target string
	}{
		{newProxy(memoryTransport{benchError150}), "/v2/index.php?Action=RefreshCdnUrl&SecretId=AKIDabcdefghijklmnop1234"},
		{newProxy(memoryTransport{benchSuccess200}), "/v2/index.php?Action=DescribeCdnHosts"},
		{newProxy(memoryTransport{}), "/not-the-api?Action=RefreshCdnUrl"},
		{newProxy(failingTransport{}), "/v2/index.php?Action=GetCdnIps"},
	}
	for i, c := range calls {
		r := httptest.NewRequest(http.MethodGet, c.target, nil)
		r.Header.Set("X-Request-Id", "golden-"+string(rune('a'+i)))
		c.p.ServeHTTP(httptest.NewRecorder(), r)
	}
	path := filepath.Join("testdata", "golden", "loglines.golden")
	if *update {
		if err := os.WriteFile(path, []byte(out.String()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if got := []byte(out.String()); !bytes.Equal(got, want) {
		t.Errorf("log lines changed (go test -run TestLogLineGolden -update to accept, and update docs/logging.md):\n got: %s\nwant: %s", got, want)
	}
}

// failingTransport fails every call as an unreachable upstream does.
type failingTransport struct{}

func (failingTransport) RoundTrip(*http.Request) (*http.Response, error) {
	return nil, &net.OpError{Op: "dial", Net: "tcp", Err: os.ErrDeadlineExceeded}
}
