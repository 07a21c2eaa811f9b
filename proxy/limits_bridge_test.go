package proxy_test

import (
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"testing"
	"time"

	"github.com/cdnproxy/cdnproxy/internal/fakeapi3"
	"github.com/cdnproxy/cdnproxy/proxy"
)

// A bridged 2.0 call counts as its 3.0 action, and the limits' refusals
// reach the 2.0 client in 2.0's shape, with retryAfter and Retry-After.
func TestLimitsBridged(t *testing.T) {
	// 23:00 in Shanghai: the quotas reset in an hour.
	now := time.Date(2024, 3, 1, 15, 0, 0, 0, time.UTC)
	tests := []struct {
		name             string
		rates            map[string]proxy.Rate
		wait             time.Duration
		available        int64
		code, moduleCode int
		retryAfter       int
	}{
		{"rate", map[string]proxy.Rate{"PurgeUrlsCache": {Calls: 1, Per: time.Hour, Burst: 1}}, time.Millisecond, 100, 4400, 0, 3600},
		{"day quota", nil, time.Second, 1, 4400, 22044, 3600},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fake := fakeapi3.New(t, fakeapi3.Config{Keys: map[string]string{brUpstreamID: brUpstreamKey}})
			fake.SetQuota(fakeapi3.QuotaURLPurge, fakeapi3.Quota{Batch: 10, Total: 100, Available: tt.available, Area: "mainland"})
			l, err := proxy.NewLimits(proxy.LimitsConfig{On: true, Rates: tt.rates, Wait: tt.wait, Now: func() time.Time { return now }})
			if err != nil {
				t.Fatal(err)
			}
			v3, _ := url.Parse(fake.URL)
			p, err := proxy.New(proxy.Config{Upstream: v3, UpstreamV3: v3, BridgeV2: true, Limits: l,
				Signing: proxy.Signing{Mode: proxy.Resign, SecretID: brUpstreamID, SecretKey: brUpstreamKey,
					ClientKeys: map[string]string{brClientID: brClientKey}},
				Logger: slog.New(slog.DiscardHandler)})
			if err != nil {
				t.Fatal(err)
			}
			s := &brSetup{proxy: p}
			purge := func() (map[string]any, *http.Response) {
				return s.do(t, s.signed(brClientID, brClientKey, "Action", "RefreshCdnUrl", "urls.0", "http://www.example.com/x"))
			}
			purge() // takes the one slot, or the one URL left
			before := len(fake.Calls())
			m, resp := purge()
			if len(fake.Calls()) != before {
				t.Errorf("the refused call reached the upstream")
			}
			if m["code"] != float64(tt.code) || resp.Header.Get("Retry-After") != strconv.Itoa(tt.retryAfter) {
				t.Errorf("answer %v, Retry-After %q; want code %d, Retry-After %d", m, resp.Header.Get("Retry-After"), tt.code, tt.retryAfter)
			}
			if ra, _ := m["retryAfter"].(float64); int(ra) != tt.retryAfter {
				t.Errorf("retryAfter %v, want %d", m["retryAfter"], tt.retryAfter)
			}
			if mc, _ := m["moduleCode"].(float64); int(mc) != tt.moduleCode {
				t.Errorf("moduleCode %v, want %d", m["moduleCode"], tt.moduleCode)
			}
		})
	}
}
