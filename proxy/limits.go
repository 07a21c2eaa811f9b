package proxy

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/redis/go-redis/v9"
	"github.com/tidwall/gjson"

	"github.com/cdnproxy/cdnproxy/annotate"
	"github.com/cdnproxy/cdnproxy/proxy/bridge"
)

// Limits keeps calls under Tencent's limits (docs/reference/cdn-limits-and-retry.md):
// each API 3.0 action under its rate, the calls over it waiting for a slot
// up to LimitsConfig.Wait, and purges and prefetches within the day's
// quotas, counted per item and area. A call that would go over is answered
// locally, in the API's own shape, with when to retry; it is never
// forwarded. Bridged 2.0 calls count as the 3.0 calls they are made of.
//
// With a Redis client the state is shared by every replica that uses the
// same Redis (each check is one round trip, a Lua script on Redis's
// clock), and so is the bridge's replay cache; without one it is this
// replica's, in memory. Build it with NewLimits and hand it to a Proxy
// through Config.Limits. It is safe for concurrent use.
type Limits struct {
	cfg   LimitsConfig
	rates map[string]*rateEntry // by 3.0 action
	mem   *memoryStore
	redis *redisStore // nil without Redis

	down    atomic.Bool  // Redis failed; the memory store (open) or refusals (closed) serve
	probeAt atomic.Int64 // when Redis may next be tried while down, Unix ns

	quotaMu     sync.Mutex
	quotas      [len(quotaKinds)][len(quotaAreas)]quotaLimit
	lastRefresh time.Time
	stale       bool
	fetch       atomic.Pointer[bridge.Doer] // reads the account's quotas; nil without a key

	m limitMetrics
}

// LimitsConfig is what NewLimits needs; the zero value shapes nothing.
type LimitsConfig struct {
	// On turns the rates and quotas on (CDNPROXY_LIMITS=on). Off, Limits
	// only shares the bridge's replay cache through Redis.
	On bool
	// Rates replace the default rate of the actions they name.
	Rates map[string]Rate
	// Wait is the longest a call waits for its slot; zero means 2s. The
	// client's own deadline, when its context has one, still counts.
	Wait time.Duration
	// Redis, when set, holds the state shared by every replica.
	Redis redis.UniversalClient
	// OnStoreError says what happens while Redis fails: StoreErrorOpen
	// (the default) keeps calls flowing under this replica's in-memory
	// limits; StoreErrorClosed refuses the calls the limits would check.
	OnStoreError string
	// Now is the clock of the quota days (tests set one); nil means
	// time.Now. Rates run on Redis's clock, or the monotonic clock.
	Now func() time.Time
	// QuotaRefresh is how often the account's quotas are read again; zero
	// means 5 minutes.
	QuotaRefresh time.Duration
	// Logger receives the store's warnings; nil discards.
	Logger *slog.Logger
	// Registerer, when set, gets the limits' metrics.
	Registerer prometheus.Registerer
}

// The values of LimitsConfig.OnStoreError.
const (
	StoreErrorOpen   = "open"
	StoreErrorClosed = "closed"
)

// Rate is a call rate: Calls per Per, of which Burst may go at once.
// With Burst 1 (the default) the calls are spaced evenly, so no window of
// length Per ever holds more than Calls of them.
type Rate struct {
	Calls int
	Per   time.Duration
	Burst int
}

// String writes the rate as ParseRates reads it.
func (r Rate) String() string {
	s := strconv.Itoa(r.Calls) + "/" + r.Per.String()
	if r.Burst > 1 {
		s += ":" + strconv.Itoa(r.Burst)
	}
	return s
}

// defaultRate is the documented rate of nearly every 3.0 action.
var defaultRate = Rate{Calls: 20, Per: time.Second, Burst: 1}

// defaultRates are the documented exceptions (the Go SDK's comments).
var defaultRates = map[string]Rate{
	"DescribeCdnIp": {Calls: 200, Per: 10 * time.Minute, Burst: 1},
	"AddCdnDomain":  {Calls: 100, Per: time.Minute, Burst: 1},
}

// ParseRates reads a list of per-action rates such as
// "PurgeUrlsCache:15/s,DescribeCdnIp:200/10m:20": action, calls, the
// period (s, m, h or a Go duration such as 10m) and an optional burst.
func ParseRates(s string) (map[string]Rate, error) {
	rates := make(map[string]Rate)
	for item := range strings.SplitSeq(s, ",") {
		item = strings.TrimSpace(item)
		if item == "" {
			continue
		}
		action, spec, ok := strings.Cut(item, ":")
		calls, rest, ok2 := strings.Cut(spec, "/")
		if !ok || !ok2 || action == "" {
			return nil, fmt.Errorf("%q is not action:calls/period[:burst]", item)
		}
		per, burst, hasBurst := strings.Cut(rest, ":")
		r := Rate{Burst: 1}
		var err error
		if r.Calls, err = strconv.Atoi(calls); err != nil || r.Calls < 1 {
			return nil, fmt.Errorf("%q: calls must be a positive integer", item)
		}
		if per != "" && (per[0] < '0' || per[0] > '9') {
			per = "1" + per
		}
		if r.Per, err = time.ParseDuration(per); err != nil || r.Per <= 0 {
			return nil, fmt.Errorf("%q: the period must be s, m, h or a duration such as 10m", item)
		}
		if hasBurst {
			if r.Burst, err = strconv.Atoi(burst); err != nil || r.Burst < 1 || r.Burst > r.Calls {
				return nil, fmt.Errorf("%q: the burst must be an integer from 1 to the calls", item)
			}
		}
		rates[action] = r
	}
	return rates, nil
}

// rateEntry is an action's rate, ready for a check.
type rateEntry struct {
	action              string
	key                 string // in Redis
	interval, tolerance time.Duration
}

// limitStore is where the limits' state is kept: memoryStore for one
// replica, redisStore shared through Redis. Both do the same check, so
// the limits behave alike on either.
type limitStore interface {
	// check is a call's whole check, atomic: take the next slot of the
	// rate r unless its wait exceeds r.maxWait (then nothing changes);
	// with the slot, spend q's items when q is not nil (all or none; a
	// refusal leaves the slot taken).
	check(ctx context.Context, r rateReq, q *quotaReq) (checked, error)
	// set makes a quota counter's count used, until expire.
	set(ctx context.Context, key string, used int64, expire time.Time) error
}

var (
	_ limitStore = (*memoryStore)(nil)
	_ limitStore = (*redisStore)(nil)
)

// rateReq is the rate part of a check: the next slot of the rate kept at
// key, with the generic cell rate algorithm (a slot every interval,
// tolerance early), if the call need not wait for it over maxWait.
type rateReq struct {
	key                          string
	interval, tolerance, maxWait time.Duration
}

// checked is what a store's check found.
type checked struct {
	wait time.Duration // until the call's slot; over maxWait when slot is false
	slot bool          // the slot was taken
	over bool          // the quota's items did not fit (none were spent)
	used []int64       // with the slot and a quota: its counts after (or as they were, when over)
}

// NewLimits checks cfg and returns Limits.
func NewLimits(cfg LimitsConfig) (*Limits, error) {
	switch cfg.OnStoreError {
	case "":
		cfg.OnStoreError = StoreErrorOpen
	case StoreErrorOpen, StoreErrorClosed:
	default:
		return nil, fmt.Errorf("proxy: OnStoreError must be %s or %s", StoreErrorOpen, StoreErrorClosed)
	}
	if cfg.Wait == 0 {
		cfg.Wait = 2 * time.Second
	}
	if cfg.Wait < 0 {
		return nil, errors.New("proxy: the limits' Wait must not be negative")
	}
	if cfg.QuotaRefresh <= 0 {
		cfg.QuotaRefresh = 5 * time.Minute
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	l := &Limits{cfg: cfg, rates: make(map[string]*rateEntry), mem: newMemoryStore(), m: newLimitMetrics(cfg.Registerer)}
	if cfg.Redis != nil {
		l.redis = &redisStore{c: cfg.Redis}
		l.m.storeUp.Set(1)
	}
	for _, action := range knownActionsV3 {
		l.addRate(action, defaultRate)
	}
	for action, r := range defaultRates {
		l.addRate(action, r)
	}
	for action, r := range cfg.Rates {
		l.addRate(action, r)
	}
	for k, kind := range quotaKinds {
		for a := range quotaAreas {
			l.quotas[k][a] = quotaLimit{total: kind.total, batch: kind.batch}
			l.m.remaining(k, a).Set(float64(kind.total))
		}
	}
	return l, nil
}

// addRate sets an action's rate.
func (l *Limits) addRate(action string, r Rate) {
	interval := r.Per / time.Duration(r.Calls)
	l.rates[action] = &rateEntry{action: action, key: "cdnproxy:rate:" + action, interval: interval,
		tolerance: time.Duration(max(r.Burst, 1)-1) * interval}
}

// State says where the limits' state is kept, for /readyz: "memory",
// "redis", or while Redis fails "memory (redis unavailable)" in the open
// mode and "refusing (redis unavailable)" in the closed one.
func (l *Limits) State() string {
	switch {
	case l.redis == nil:
		return "memory"
	case !l.down.Load():
		return "redis"
	case l.cfg.OnStoreError == StoreErrorClosed:
		return "refusing (redis unavailable)"
	default:
		return "memory (redis unavailable)"
	}
}

// useRedis reports whether a check should go to Redis: it is configured
// and up, or down long enough to be tried again (once a second).
func (l *Limits) useRedis() bool {
	if l.redis == nil {
		return false
	}
	if !l.down.Load() {
		return true
	}
	at, now := l.probeAt.Load(), time.Now().UnixNano()
	return now >= at && l.probeAt.CompareAndSwap(at, now+int64(time.Second))
}

// storeFailed records that Redis failed and returns the refusal of the
// closed mode, nil in the open one.
func (l *Limits) storeFailed(ctx context.Context, err error) *apiError {
	if ctx.Err() != nil { // the call's own deadline or client, not Redis
		return errLimitGone()
	}
	l.m.storeErrors.Inc()
	l.probeAt.Store(time.Now().Add(time.Second).UnixNano())
	if !l.down.Swap(true) {
		l.m.storeUp.Set(0)
		l.cfg.Logger.Warn("limits: redis failed; "+l.State(), slog.String("error", err.Error()))
	}
	if l.cfg.OnStoreError == StoreErrorClosed {
		return errStoreDown()
	}
	return nil
}

// storeOK records that Redis answered.
func (l *Limits) storeOK() {
	if l.down.Load() && l.down.Swap(false) {
		l.m.storeUp.Set(1)
		l.cfg.Logger.Info("limits: redis answers again; the limits are shared again")
	}
}

// refusing reports whether the closed mode refuses checks now.
func (l *Limits) refusing() bool {
	return l.redis != nil && l.down.Load() && l.cfg.OnStoreError == StoreErrorClosed
}

// check applies the limits to one API 3.0 call of action, about to be
// sent, in one store operation (one round trip with Redis): it takes the
// call's slot in its action's rate and, for a purge or prefetch, spends
// its items from the day's quota, then waits for the slot. A batch over
// the account's batch size is refused first, with nothing taken; a call
// whose items do not fit is refused at once, but its slot stays taken.
// payload is the call's JSON body, or its form or query parameters when
// form is set.
func (l *Limits) check(ctx context.Context, action string, payload []byte, form bool) *apiError {
	if l == nil || !l.cfg.On {
		return nil
	}
	re := l.rates[action]
	if re == nil {
		return nil // not an action the limits know; each quota's action is one
	}
	var q *quotaReq
	if k, ok := quotaKindOf(action); ok {
		var e *apiError
		if q, e = l.quotaFor(ctx, k, payload, form); e != nil {
			return e
		}
	}
	maxWait := l.cfg.Wait
	if dl, ok := ctx.Deadline(); ok {
		maxWait = min(maxWait, time.Until(dl))
	}
	c, e := l.storeCheck(ctx, rateReq{key: re.key, interval: re.interval, tolerance: re.tolerance, maxWait: maxWait}, q)
	if e != nil {
		l.m.refusedStore.Inc()
		return e
	}
	if !c.slot {
		l.m.refusedRate.Inc()
		return errRateLimited(re.action, annotate.Seconds(c.wait-maxWait))
	}
	if q != nil {
		if e := l.quotaChecked(q, c); e != nil {
			return e
		}
	}
	return l.waitSlot(ctx, c.wait)
}

// storeCheck runs a check in Redis, or in memory when there is no Redis
// or it fails in the open mode.
func (l *Limits) storeCheck(ctx context.Context, r rateReq, q *quotaReq) (checked, *apiError) {
	if l.useRedis() {
		c, err := l.redis.check(ctx, r, q)
		if err == nil {
			l.storeOK()
			return c, nil
		}
		if e := l.storeFailed(ctx, err); e != nil {
			return checked{}, e
		}
	} else if l.refusing() {
		return checked{}, errStoreDown()
	}
	c, _ := l.mem.check(ctx, r, q)
	return c, nil
}

// waitSlot waits for the call's slot, wait away, or until the call ends.
func (l *Limits) waitSlot(ctx context.Context, wait time.Duration) *apiError {
	if wait <= 0 {
		return nil
	}
	l.m.waited.Inc()
	l.m.waitedSeconds.Add(wait.Seconds())
	t := time.NewTimer(wait)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return errLimitGone()
	}
}

// attach lets the limits read the account's quotas with do, which signs
// with the proxy's key.
func (l *Limits) attach(do bridge.Doer) {
	if l != nil {
		l.fetch.Store(&do)
	}
}

// observe looks at how a call ended: a day-limit error from Tencent makes
// the next quota check read the account's quotas again.
func (l *Limits) observe(c *call) {
	if l == nil || c.outcome != outcomeAPIError || !annotate.Daily(c.result) {
		return
	}
	l.quotaMu.Lock()
	l.stale = true
	l.quotaMu.Unlock()
}

// doer wraps the bridge's Doer so that each 3.0 call a bridged 2.0 call
// is made of passes the limits; one that does not is answered with the
// limits' 3.0 error, which the bridge turns into the 2.0 answer, and
// *local records its retry hint (-1 for a refusal without one).
func (l *Limits) doer(next bridge.Doer, local *int) bridge.Doer {
	if l == nil || !l.cfg.On {
		return next
	}
	return func(ctx context.Context, action string, payload []byte) (int, []byte, error) {
		if e := l.check(ctx, action, payload, false); e != nil {
			*local = -1
			if e.retryAfter > 0 {
				*local = e.retryAfter
			}
			return http.StatusOK, e.render(3, callFrom(ctx).id), nil
		}
		return next(ctx, action, payload)
	}
}

// limitDirect applies the limits to an admitted API 3.0 call; an API 2.0
// call, bridged or not, passes: a bridged call's 3.0 calls meet them in doer.
func (p *Proxy) limitDirect(ctx context.Context, c *call, in inbound) *apiError {
	l := p.cfg.Limits
	if l == nil || !l.cfg.On || c.api.gen != 3 {
		return nil
	}
	if in.json {
		return l.check(ctx, c.action, in.body, false)
	}
	if in.r.Method == http.MethodPost {
		return l.check(ctx, c.action, in.body, true)
	}
	return l.check(ctx, c.action, []byte(in.r.URL.RawQuery), true)
}

// firstSeen is the replay check of bridged calls: in Redis when the
// limits have one that answers, so that a call replayed to another
// replica is refused too; else in this replica's cache.
func (p *Proxy) firstSeen(ctx context.Context, key string, ts int64, now time.Time) bool {
	l := p.cfg.Limits
	if l == nil || !l.useRedis() {
		return p.replays.firstSeen(key, ts, now)
	}
	sum := sha256.Sum256([]byte(key))
	ttl := time.Unix(ts, 0).Add(timestampWindow).Sub(now)
	if ttl <= 0 {
		return false
	}
	fresh, err := l.redis.firstSeen(ctx, "cdnproxy:replay:"+hex.EncodeToString(sum[:]), ttl)
	if err != nil {
		l.storeFailed(ctx, err) // the replica's own cache still protects it
		return p.replays.firstSeen(key, ts, now)
	}
	l.storeOK()
	return fresh
}

// RefreshQuotas reads the account's quotas (DescribePurgeQuota,
// DescribePushQuota) and makes them the limits' totals, batch sizes and
// today's counts. It needs Config.Limits, API 3.0 and a key (resign or
// sign mode); the limits also call it every few minutes and after a
// day-limit error.
func (p *Proxy) RefreshQuotas(ctx context.Context) error {
	l := p.cfg.Limits
	if l == nil || l.fetch.Load() == nil {
		return errors.New("proxy: reading the quotas needs Config.Limits, UpstreamV3 and a signing key")
	}
	return l.refresh(ctx)
}

// formValues parses form or query parameters; nil when they do not parse.
func formValues(raw []byte) url.Values {
	v, err := url.ParseQuery(string(raw))
	if err != nil {
		return nil
	}
	return v
}

// payloadItems counts the items of field in a call's parameters and
// returns its Area: a JSON body's array, or form parameters field.0 …
func payloadItems(payload []byte, form bool, field string) (int64, string) {
	if !form {
		return gjson.GetBytes(payload, field+".#").Int(), gjson.GetBytes(payload, "Area").String()
	}
	v := formValues(payload)
	var n int64
	for k := range v {
		if strings.HasPrefix(k, field+".") {
			n++
		}
	}
	return n, v.Get("Area")
}

// clock is the time retry hints are reckoned from: the limits' clock.
func (p *Proxy) clock() time.Time {
	if p.cfg.Limits != nil {
		return p.cfg.Limits.cfg.Now()
	}
	return time.Now()
}

// hintBridged adds the retry hint to a bridged call's 2.0 answer and its
// Retry-After header: the limits' own (local over 0) when they refused
// the call, else the one the 3.0 error implies. It returns the body.
func (p *Proxy) hintBridged(h http.Header, c *call, body []byte, local int) []byte {
	if local != 0 {
		c.limited()
	}
	seconds := local
	if seconds == 0 && c.result.Kind == annotate.Failure {
		seconds = annotate.RetryAfter(c.result, p.clock())
	}
	if seconds <= 0 {
		return body
	}
	h.Set("Retry-After", strconv.Itoa(seconds))
	return annotate.WithRetryAfter(body, seconds)
}
