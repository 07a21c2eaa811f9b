package main

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/cdnproxy/cdnproxy/internal/logbuf"
)

// TestRetiredHostWarning checks that the proxy says at start, once, when
// API 2.0 calls would go to the retired host, and names the variable that
// fixes it; and that it says nothing when the bridge is on.
func TestRetiredHostWarning(t *testing.T) {
	for _, tc := range []struct {
		name    string
		environ []string
		warn    bool
	}{
		{"bridge off, retired host", nil, true},
		{"bridge on", []string{"CDNPROXY_V2_BRIDGE=on", "CDNPROXY_SIGNING=resign", "CDNPROXY_SECRET_ID=AKIDx", "CDNPROXY_SECRET_KEY=k"}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg, err := loadConfig(append([]string{"CDNPROXY_LISTEN_ADDR=127.0.0.1:0", "CDNPROXY_ADMIN_ADDR=localhost:0"}, tc.environ...))
			if err != nil {
				t.Fatal(err)
			}
			var out logbuf.Buffer
			ctx, cancel := context.WithCancel(context.Background())
			done := make(chan error, 1)
			go func() { done <- serve(ctx, cfg, &out, tracing{}) }()
			for !strings.Contains(out.String(), "cdnproxy started") {
				select {
				case err := <-done:
					t.Fatalf("serve ended before it started: %v\n%s", err, out.String())
				case <-time.After(10 * time.Millisecond):
				}
			}
			cancel()
			if err := <-done; err != nil {
				t.Fatal(err)
			}
			n := strings.Count(out.String(), "CDNPROXY_V2_BRIDGE=on")
			if tc.warn && (n != 1 || !strings.Contains(out.String(), "retired")) {
				t.Errorf("want one warning naming CDNPROXY_V2_BRIDGE=on and the retirement, got %d:\n%s", n, out.String())
			}
			if !tc.warn && n != 0 {
				t.Errorf("want no warning with the bridge on:\n%s", out.String())
			}
		})
	}
}
