package proxy

import (
	"context"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cdnproxy/cdnproxy/annotate"
)

// testClock is a settable clock for the quota days.
type testClock struct{ t atomic.Pointer[time.Time] }

func newTestClock(t time.Time) *testClock { c := &testClock{}; c.set(t); return c }
func (c *testClock) set(t time.Time)      { c.t.Store(&t) }
func (c *testClock) now() time.Time       { return *c.t.Load() }

// quotaAnswer is a DescribePurgeQuota answer with Available URL purges
// left of 10 in mainland, in batches of at most 4.
func quotaAnswer(available int) []byte {
	return []byte(`{"Response":{"UrlPurge":[{"Batch":4,"Total":10,"Available":` + strconv.Itoa(available) +
		`,"Area":"mainland"},{"Batch":4,"Total":10,"Available":10,"Area":"overseas"}],"PathPurge":[],"UrlPush":[],"RequestId":"q"}}`)
}

func purge(n int, area string) []byte {
	urls := make([]string, n)
	for i := range urls {
		urls[i] = `"https://a.example/` + strconv.Itoa(i) + `"`
	}
	return []byte(`{"Urls":[` + strings.Join(urls, ",") + `],"Area":"` + area + `"}`)
}

func TestLimitsQuota(t *testing.T) {
	// 23:00 in Shanghai: an hour before the quotas reset.
	clock := newTestClock(time.Date(2024, 3, 1, 15, 0, 0, 0, time.UTC))
	l, err := NewLimits(LimitsConfig{On: true, Now: clock.now})
	if err != nil {
		t.Fatal(err)
	}
	var reads atomic.Int32
	available := 6
	l.attach(func(_ context.Context, action string, _ []byte) (int, []byte, error) {
		reads.Add(1)
		return 200, quotaAnswer(available), nil
	})
	ctx := context.Background()
	check := func(n int, area string) *apiError { return l.check(ctx, "PurgeUrlsCache", purge(n, area), false) }

	if e := check(3, "mainland"); e != nil { // seeded: 6 left, 3 after
		t.Fatalf("first purge refused: %s", e.message)
	}
	if reads.Load() != 2 {
		t.Errorf("quotas read %d times, want both look-ups once at the first check", reads.Load())
	}
	if e := check(5, "mainland"); e == nil || e.v3Code != "LimitExceeded.CdnPurgeUrlExceedBatchLimit" || e.retryAfter != 0 {
		t.Errorf("a batch over the account's 4: %+v, want the batch code and no retry hint", e)
	}
	if e := check(3, "global"); e != nil { // 0 left in mainland, 7 overseas
		t.Fatalf("purge to zero refused: %s", e.message)
	}
	e := check(1, "")
	if e == nil || e.v3Code != "LimitExceeded.CdnPurgeUrlExceedDayLimit" || e.retryAfter != 3600 {
		t.Fatalf("purge past zero: %+v, want the day-limit code and retryAfter 3600", e)
	}
	if e := check(1, "overseas"); e != nil {
		t.Errorf("overseas is counted apart, but was refused: %s", e.message)
	}
	body := string(e.render(3, "id"))
	if !strings.Contains(body, `"Code":"LimitExceeded.CdnPurgeUrlExceedDayLimit"`) || !strings.Contains(body, `"RetryAfter":3600`) {
		t.Errorf("3.0 refusal body %s", body)
	}
	if body := string(e.render(2, "id")); !strings.Contains(body, `"retryAfter":3600`) {
		t.Errorf("2.0 refusal body %s", body)
	}

	// An upstream day-limit error makes the next check read again.
	l.observe(&call{outcome: outcomeAPIError, result: annotate.Result{Kind: annotate.Failure, Generation: 3,
		ErrorCode: "LimitExceeded.CdnPurgeUrlExceedDayLimit", Category: "quota_exceeded"}})
	available = 10
	if e := check(2, "mainland"); e != nil || reads.Load() != 4 {
		t.Errorf("after a day-limit error: %v, %d reads; want the quotas read again (10 left)", e, reads.Load())
	}

	// Midnight in Shanghai: the count starts again.
	clock.set(time.Date(2024, 3, 1, 16, 0, 1, 0, time.UTC))
	l.quotaMu.Lock()
	l.lastRefresh = clock.now() // no read now: the reset alone must free the quota
	l.quotaMu.Unlock()
	for range 2 {
		if e := check(4, "mainland"); e != nil {
			t.Fatalf("after midnight: %s", e.message)
		}
	}
	if e := check(4, "mainland"); e == nil || e.retryAfter != 86399 {
		t.Errorf("the new day's quota: %+v, want refused with retryAfter 86399", e)
	}
}

func TestLimitsRateMemory(t *testing.T) {
	l, err := NewLimits(LimitsConfig{On: true, Rates: map[string]Rate{"DescribeDomains": {Calls: 1, Per: time.Hour, Burst: 2}},
		Wait: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for i := range 2 {
		if e := l.check(ctx, "DescribeDomains", nil, false); e != nil {
			t.Fatalf("call %d within the burst refused: %s", i, e.message)
		}
	}
	e := l.check(ctx, "DescribeDomains", nil, false)
	if e == nil || e.v3Code != "RequestLimitExceeded" || e.code != 4400 || e.retryAfter < 3590 || e.retryAfter > 3600 {
		t.Fatalf("a call over the rate: %+v, want RequestLimitExceeded with retryAfter about an hour", e)
	}
	if e := l.check(ctx, "NotAnAction", nil, false); e != nil {
		t.Errorf("an unknown action was limited: %s", e.message)
	}
}

func TestParseRates(t *testing.T) {
	tests := []struct {
		in   string
		want map[string]Rate
		err  bool
	}{
		{"PurgeUrlsCache:15/s, DescribeCdnIp:200/10m:20", map[string]Rate{
			"PurgeUrlsCache": {15, time.Second, 1}, "DescribeCdnIp": {200, 10 * time.Minute, 20}}, false},
		{"AddCdnDomain:100/m", map[string]Rate{"AddCdnDomain": {100, time.Minute, 1}}, false},
		{"", map[string]Rate{}, false},
		{"PurgeUrlsCache", nil, true},
		{"PurgeUrlsCache:0/s", nil, true},
		{"PurgeUrlsCache:5/fortnight", nil, true},
		{"PurgeUrlsCache:5/s:9", nil, true},
	}
	for _, tt := range tests {
		got, err := ParseRates(tt.in)
		if (err != nil) != tt.err || !tt.err && len(got) != len(tt.want) {
			t.Errorf("ParseRates(%q) = %v, %v", tt.in, got, err)
		}
		for k, v := range tt.want {
			if got[k] != v {
				t.Errorf("ParseRates(%q)[%s] = %v, want %v", tt.in, k, got[k], v)
			}
		}
	}
}

// testStoreCheck runs one sequence of checks through a store: the
// memory store here, Redis in limits_e2e_test.go, so that both are held
// to the same behaviour.
func testStoreCheck(t *testing.T, s limitStore) {
	t.Helper()
	ctx := context.Background()
	expire := time.Now().Add(time.Hour).Truncate(time.Second)
	keys := []string{"cdnproxy:quota:t:mainland:d", "cdnproxy:quota:t:overseas:d"}
	quota := func(n int64, totals ...int64) *quotaReq {
		return &quotaReq{keys: keys[:len(totals)], totals: totals, n: n, expire: expire}
	}
	a := rateReq{key: "cdnproxy:rate:A", interval: time.Hour, maxWait: time.Second}
	b := rateReq{key: "cdnproxy:rate:B", interval: time.Hour, tolerance: 2 * time.Hour, maxWait: time.Second} // 3 at once
	steps := []struct {
		name       string
		r          rateReq
		q          *quotaReq
		slot, over bool
		used       []int64
	}{
		{"a slot, the items fit", a, quota(3, 5, 10), true, false, []int64{3, 3}},
		{"the next slot an hour away: nothing taken, nothing spent", a, quota(1, 5, 10), false, false, nil},
		{"a slot, the items do not fit: none spent", b, quota(3, 5, 10), true, true, []int64{3, 3}},
		{"a slot, the items fit exactly", b, quota(2, 5, 10), true, false, []int64{5, 5}},
		{"a slot without a quota", b, nil, true, false, nil},
		{"the burst is spent: the refused call's slot stayed taken", b, nil, false, false, nil},
		{"one area, over", rateReq{key: "cdnproxy:rate:C", interval: time.Millisecond, maxWait: time.Second},
			quota(1, 5), true, true, []int64{5}},
	}
	for _, st := range steps {
		c, err := s.check(ctx, st.r, st.q)
		if err != nil {
			t.Fatalf("%s: %v", st.name, err)
		}
		if c.slot != st.slot || c.over != st.over || !slices.Equal(c.used, st.used) || st.slot && c.wait != 0 ||
			!st.slot && c.wait <= st.r.maxWait {
			t.Errorf("%s: %+v, want slot %v, over %v, counts %v", st.name, c, st.slot, st.over, st.used)
		}
	}
}

func TestLimitsStoreCheckMemory(t *testing.T) { testStoreCheck(t, newMemoryStore()) }

// A batch over the account's batch size is refused before the rate, so it
// takes no slot; a call that fits takes one.
func TestLimitsBatchTakesNoSlot(t *testing.T) {
	l, err := NewLimits(LimitsConfig{On: true, Rates: map[string]Rate{"PurgeUrlsCache": {Calls: 1, Per: time.Hour, Burst: 1}},
		Wait: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for _, st := range []struct {
		items int
		code  string
	}{{1001, "LimitExceeded.CdnPurgeUrlExceedBatchLimit"}, {1, ""}, {1, "RequestLimitExceeded"}} {
		got := ""
		if e := l.check(ctx, "PurgeUrlsCache", purge(st.items, "mainland"), false); e != nil {
			got = e.v3Code
		}
		if got != st.code {
			t.Errorf("a purge of %d: %q, want %q", st.items, got, st.code)
		}
	}
}

// Every action with a quota has a rate, so its check is a rate check too.
func TestLimitsQuotaActionsHaveRates(t *testing.T) {
	l, err := NewLimits(LimitsConfig{On: true})
	if err != nil {
		t.Fatal(err)
	}
	for _, kind := range quotaKinds {
		if l.rates[kind.action] == nil {
			t.Errorf("%s spends a quota but has no rate: its check would skip the quota", kind.action)
		}
	}
}

// BenchmarkLimitsRateMemory is the in-memory check of one call without a
// quota: its rate.
func BenchmarkLimitsRateMemory(b *testing.B) {
	l, _ := NewLimits(LimitsConfig{On: true, Rates: map[string]Rate{"DescribeDomains": {Calls: 1 << 30, Per: time.Millisecond, Burst: 1 << 30}}})
	benchCheck(b, l, "DescribeDomains", nil)
}

// benchCheck measures l's check of a call of action with payload, which
// must pass.
func benchCheck(b *testing.B, l *Limits, action string, payload []byte) {
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if e := l.check(ctx, action, payload, false); e != nil {
			b.Fatal(e.message)
		}
	}
}

// unlimitedPurges are limits whose rate and quota of URL purges never
// refuse, for the benchmarks of a purge's check.
func unlimitedPurges(tb testing.TB, cfg LimitsConfig) *Limits {
	cfg.On, cfg.Rates = true, map[string]Rate{"PurgeUrlsCache": {Calls: 1 << 30, Per: time.Millisecond, Burst: 1 << 30}}
	l, err := NewLimits(cfg)
	if err != nil {
		tb.Fatal(err)
	}
	k, _ := quotaKindOf("PurgeUrlsCache")
	for a := range quotaAreas {
		l.quotas[k][a] = quotaLimit{total: 1 << 50, batch: 1000}
	}
	return l
}

// BenchmarkLimitsPurgeMemory is the in-memory check of a one-URL purge:
// its rate and its quota.
func BenchmarkLimitsPurgeMemory(b *testing.B) {
	benchCheck(b, unlimitedPurges(b, LimitsConfig{}), "PurgeUrlsCache", purge(1, "mainland"))
}

// BenchmarkLimitsOff is what the limits cost a call when they are off:
// the hooks find a nil *Limits and return.
func BenchmarkLimitsOff(b *testing.B) {
	var l *Limits
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if e := l.check(ctx, "PurgeUrlsCache", nil, false); e != nil {
			b.Fatal(e.message)
		}
		l.observe(nil)
	}
}

// TestReadyzSaysWhereLimitsLive: /readyz names where the limits' state is
// kept, so an operator sees a replica that fell back from Redis.
func TestReadyzSaysWhereLimitsLive(t *testing.T) {
	l, err := NewLimits(LimitsConfig{On: true})
	if err != nil {
		t.Fatal(err)
	}
	rec := httptest.NewRecorder()
	Admin(AdminConfig{Limits: l}).ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/readyz", nil))
	if body := rec.Body.String(); rec.Code != http.StatusOK || !strings.Contains(body, "limits: memory") {
		t.Errorf("/readyz = %d %q, want 200 naming limits: memory", rec.Code, body)
	}
}
