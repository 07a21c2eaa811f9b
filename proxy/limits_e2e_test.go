//go:build e2e

package proxy

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os/exec"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/cdnproxy/cdnproxy/annotate"
)

// redisServer is a redis-server of the test's own on a free loopback port.
type redisServer struct {
	port string
	cmd  *exec.Cmd
}

func startRedis(t testing.TB, port string) *redisServer {
	t.Helper()
	if port == "" {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		_, port, _ = net.SplitHostPort(ln.Addr().String())
		ln.Close()
	}
	cmd := exec.Command("redis-server", "--port", port, "--bind", "127.0.0.1", "--save", "", "--appendonly", "no")
	if err := cmd.Start(); err != nil {
		t.Fatalf("redis-server (install it: apt-get install redis-server): %v", err)
	}
	s := &redisServer{port: port, cmd: cmd}
	t.Cleanup(s.kill)
	c := s.client()
	defer c.Close()
	for deadline := time.Now().Add(10 * time.Second); c.Ping(context.Background()).Err() != nil; time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("redis-server did not start")
		}
	}
	return s
}

func (s *redisServer) kill() {
	if s.cmd.Process != nil && s.cmd.ProcessState == nil {
		_ = s.cmd.Process.Kill()
		_ = s.cmd.Wait()
	}
}

func (s *redisServer) client() *redis.Client {
	return redis.NewClient(&redis.Options{Addr: "127.0.0.1:" + s.port, MaxRetries: -1,
		DialTimeout: time.Second, ReadTimeout: 500 * time.Millisecond, WriteTimeout: 500 * time.Millisecond})
}

// recorder is a fake API 3.0 upstream that records the request ids of
// the calls it sees, in order of arrival.
type recorder struct {
	mu  sync.Mutex
	ids []string
	at  []time.Time
}

func (r *recorder) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	r.mu.Lock()
	r.ids, r.at = append(r.ids, req.Header.Get("X-Request-Id")), append(r.at, time.Now())
	r.mu.Unlock()
	_, _ = io.WriteString(w, `{"Response":{"RequestId":"up"}}`)
}

func (r *recorder) seen() ([]string, []time.Time) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.ids), slices.Clone(r.at)
}

// limitedProxy is a passthrough proxy in front of upstream with l.
func limitedProxy(t *testing.T, upstream string, l *Limits) *httptest.Server {
	t.Helper()
	u, _ := url.Parse(upstream)
	p, err := New(Config{Upstream: u, UpstreamV3: u, Limits: l})
	if err != nil {
		t.Fatal(err)
	}
	s := httptest.NewServer(p)
	t.Cleanup(s.Close)
	return s
}

// call3 sends one 3.0 DescribeDomains call with request id id and returns
// the status, the Error.Code ("" for success) and the Retry-After header.
func call3(t *testing.T, base, id string) (int, string, string) {
	req, _ := http.NewRequest(http.MethodPost, base+"/", bytes.NewReader([]byte(`{}`)))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-TC-Action", "DescribeDomains")
	req.Header.Set("X-Request-Id", id)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Errorf("call %s: %v", id, err)
		return 0, "", ""
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	code := ""
	if i := bytes.Index(body, []byte(`"Code":"`)); i >= 0 {
		code = string(body[i+8:])
		code = code[:strings.IndexByte(code, '"')]
	}
	return resp.StatusCode, code, resp.Header.Get("Retry-After")
}

// Two proxies share one Redis and are driven at three times the action's
// rate: the upstream sees the fleet's combined rate at the limit, every
// call is either forwarded or refused with RequestLimitExceeded, and the
// calls that waited go upstream in the order they came.
func TestLimitsTwoReplicasShareRedis(t *testing.T) {
	srv := startRedis(t, "")
	up := &recorder{}
	upstream := httptest.NewServer(up)
	defer upstream.Close()
	const rate = 5 // a second
	var proxies []*httptest.Server
	for range 2 {
		c := srv.client()
		defer c.Close()
		l, err := NewLimits(LimitsConfig{On: true, Redis: c, Wait: time.Second,
			Rates: map[string]Rate{"DescribeDomains": {Calls: rate, Per: time.Second, Burst: 1}}})
		if err != nil {
			t.Fatal(err)
		}
		proxies = append(proxies, limitedProxy(t, upstream.URL, l))
	}
	const calls, spacing = 45, time.Second / (3 * rate) // 3 s at 3x the rate
	type answer struct {
		status           int
		code, retryAfter string
	}
	answers := make([]answer, calls)
	start := time.Now()
	var wg sync.WaitGroup
	for i := range calls {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s, c, ra := call3(t, proxies[i%2].URL, fmt.Sprintf("c%03d", i))
			answers[i] = answer{s, c, ra}
		}()
		time.Sleep(spacing)
	}
	wg.Wait()
	ids, at := up.seen()
	forwarded, refused := 0, 0
	for i, a := range answers {
		switch {
		case a.status == http.StatusOK && a.code == "":
			forwarded++
		case a.status == http.StatusTooManyRequests && a.code == "RequestLimitExceeded" && a.retryAfter != "":
			refused++
		default:
			t.Errorf("call %d: status %d, code %q, Retry-After %q: neither forwarded nor refused for the rate", i, a.status, a.code, a.retryAfter)
		}
	}
	if forwarded != len(ids) || forwarded+refused != calls {
		t.Fatalf("%d forwarded (upstream saw %d), %d refused, of %d calls", forwarded, len(ids), refused, calls)
	}
	// Slots are a fifth of a second apart from the first call on: the
	// upstream can have seen at most one per slot since the start, plus
	// the one burst.
	if limit := int(at[len(at)-1].Sub(start)*rate/time.Second) + 1; len(ids) > limit {
		t.Errorf("the upstream saw %d calls in %v, over the rate's %d", len(ids), at[len(at)-1].Sub(start), limit)
	}
	// With three times the demand, every slot of the run is taken (a
	// loose bound: the driver itself may lag on a busy machine).
	if drive := time.Duration(calls) * spacing; len(ids) < int(drive*rate/time.Second)/2 {
		t.Errorf("the upstream saw only %d calls in %v at a rate of %d/s", len(ids), drive, rate)
	}
	if !slices.IsSorted(ids) {
		t.Errorf("the waiting calls were not forwarded in order of arrival: %v", ids)
	}
}

// Redis killed mid-run: open keeps forwarding under this replica's
// limits, closed refuses; both share again once Redis is back.
func TestLimitsStoreError(t *testing.T) {
	for _, mode := range []string{StoreErrorOpen, StoreErrorClosed} {
		t.Run(mode, func(t *testing.T) {
			srv := startRedis(t, "")
			c := srv.client()
			defer c.Close()
			up := &recorder{}
			upstream := httptest.NewServer(up)
			defer upstream.Close()
			l, err := NewLimits(LimitsConfig{On: true, Redis: c, OnStoreError: mode})
			if err != nil {
				t.Fatal(err)
			}
			p := limitedProxy(t, upstream.URL, l)
			if s, code, _ := call3(t, p.URL, "before"); s != http.StatusOK || code != "" || l.State() != "redis" {
				t.Fatalf("with Redis: status %d, code %q, state %q", s, code, l.State())
			}
			srv.kill()
			s, code, _ := call3(t, p.URL, "during")
			switch mode {
			case StoreErrorOpen:
				if s != http.StatusOK || code != "" || l.State() != "memory (redis unavailable)" {
					t.Errorf("open, Redis down: status %d, code %q, state %q; want forwarded under memory limits", s, code, l.State())
				}
			case StoreErrorClosed:
				if s != http.StatusServiceUnavailable || code != "ServiceUnavailable" || l.State() != "refusing (redis unavailable)" {
					t.Errorf("closed, Redis down: status %d, code %q, state %q; want refused", s, code, l.State())
				}
			}
			startRedis(t, srv.port)
			deadline := time.Now().Add(10 * time.Second) // Redis is tried again once a second
			for l.State() != "redis" && time.Now().Before(deadline) {
				call3(t, p.URL, "probe")
				time.Sleep(100 * time.Millisecond)
			}
			if s, code, _ := call3(t, p.URL, "after"); s != http.StatusOK || code != "" || l.State() != "redis" {
				t.Errorf("Redis back: status %d, code %q, state %q", s, code, l.State())
			}
			if n, err := c.Exists(context.Background(), "cdnproxy:rate:DescribeDomains").Result(); err != nil || n != 1 {
				t.Errorf("the rate is not kept in Redis again: %d, %v", n, err)
			}
		})
	}
}

// Quota counters are shared: what one replica spent, the other sees, and
// the counter expires at Shanghai midnight. (Redis expires keys on its own
// clock, so the test clock stands still at the real time here.)
func TestLimitsQuotaSharedInRedis(t *testing.T) {
	srv := startRedis(t, "")
	clock := newTestClock(time.Now())
	var ls []*Limits
	for range 2 {
		c := srv.client()
		defer c.Close()
		l, err := NewLimits(LimitsConfig{On: true, Redis: c, Now: clock.now})
		if err != nil {
			t.Fatal(err)
		}
		ls = append(ls, l)
	}
	ctx := context.Background()
	for i := range 10 { // 10 × 1000 URLs: the whole default day
		if e := ls[i%2].check(ctx, "PurgeUrlsCache", purge(1000, "mainland"), false); e != nil {
			t.Fatalf("purge %d: %s", i, e.message)
		}
	}
	toMidnight := annotate.NextShanghaiMidnight(clock.now()).Sub(clock.now())
	e := ls[0].check(ctx, "PurgeUrlsCache", purge(1, "global"), false)
	if e == nil || e.v3Code != "LimitExceeded.CdnPurgeUrlExceedDayLimit" || e.retryAfter != annotate.Seconds(toMidnight) {
		t.Fatalf("purge past the shared quota: %+v, want the day limit with retryAfter %d", e, annotate.Seconds(toMidnight))
	}
	if e := ls[1].check(ctx, "PurgeUrlsCache", purge(1, "overseas"), false); e != nil {
		t.Errorf("overseas is counted apart: %s", e.message)
	}
	c := srv.client()
	defer c.Close()
	key := "cdnproxy:quota:url_purge:mainland:" + annotate.ShanghaiDate(clock.now())
	used, err := c.Get(ctx, key).Int()
	ttl, terr := c.TTL(ctx, key).Result()
	if err != nil || terr != nil || used != 10000 || ttl <= 0 || ttl > toMidnight+time.Second {
		t.Errorf("%s = %d (%v), expiring in %v (%v); want 10000 expiring at Shanghai midnight, in %v", key, used, err, ttl, terr, toMidnight)
	}
}

// The Redis store passes the memory store's sequence of checks.
func TestLimitsStoreCheckRedis(t *testing.T) {
	c := startRedis(t, "").client()
	defer c.Close()
	testStoreCheck(t, &redisStore{c: c})
}

// BenchmarkLimitsRateRedis is the check of a call without a quota (its
// rate) against a Redis on loopback: one EVALSHA round trip.
func BenchmarkLimitsRateRedis(b *testing.B) {
	srv := startRedis(b, "")
	c := srv.client()
	defer c.Close()
	l, err := NewLimits(LimitsConfig{On: true, Redis: c,
		Rates: map[string]Rate{"DescribeDomains": {Calls: 1 << 30, Per: time.Millisecond, Burst: 1 << 30}}})
	if err != nil {
		b.Fatal(err)
	}
	benchCheck(b, l, "DescribeDomains", nil)
	if l.State() != "redis" {
		b.Fatalf("state %s", l.State())
	}
}

// BenchmarkLimitsPurgeRedis is the check of a one-URL purge (its rate
// and its quota) against a Redis on loopback: one EVALSHA round trip too.
func BenchmarkLimitsPurgeRedis(b *testing.B) {
	srv := startRedis(b, "")
	c := srv.client()
	defer c.Close()
	l := unlimitedPurges(b, LimitsConfig{Redis: c})
	benchCheck(b, l, "PurgeUrlsCache", purge(1, "mainland"))
	if l.State() != "redis" {
		b.Fatalf("state %s", l.State())
	}
}

// countingHook counts the commands a client sends, and their names.
type countingHook struct {
	mu    sync.Mutex
	names []string
}

func (h *countingHook) DialHook(next redis.DialHook) redis.DialHook { return next }
func (h *countingHook) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		h.mu.Lock()
		h.names = append(h.names, cmd.Name())
		h.mu.Unlock()
		return next(ctx, cmd)
	}
}
func (h *countingHook) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		h.mu.Lock()
		h.names = append(h.names, "pipeline")
		h.mu.Unlock()
		return next(ctx, cmds)
	}
}

// A check is one command to Redis, an EVALSHA of the check script,
// whether it is a rate alone or a purge's rate and quota together.
func TestLimitsOneRoundTrip(t *testing.T) {
	srv := startRedis(t, "")
	c := srv.client()
	defer c.Close()
	l, err := NewLimits(LimitsConfig{On: true, Redis: c})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	// Load the script (its first run is EVALSHA, then EVAL).
	if e := l.check(ctx, "DescribeDomains", nil, false); e != nil {
		t.Fatal(e.message)
	}
	h := &countingHook{}
	c.AddHook(h)
	for _, tt := range []struct {
		name, action string
		payload      []byte
	}{
		{"a rate check", "DescribeDomains", nil},
		{"a purge's rate and quota check, in both areas", "PurgeUrlsCache", purge(2, "global")},
		{"a prefetch's rate and quota check", "PushUrlsCache", purge(1, "mainland")},
	} {
		h.mu.Lock()
		h.names = nil
		h.mu.Unlock()
		if e := l.check(ctx, tt.action, tt.payload, false); e != nil {
			t.Fatalf("%s: %s", tt.name, e.message)
		}
		h.mu.Lock()
		got := strings.Join(h.names, ",")
		h.mu.Unlock()
		if got != "evalsha" {
			t.Errorf("%s sent %q, want one evalsha", tt.name, got)
		}
	}
	if l.State() != "redis" {
		t.Errorf("state %s, want every check answered by Redis", l.State())
	}
}
