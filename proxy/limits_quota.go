package proxy

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/tidwall/gjson"

	"github.com/cdnproxy/cdnproxy/annotate"
)

// quotaKind is one of the daily quotas: what counts against it and how
// the API refuses it (docs/reference/cdn-limits-and-retry.md).
type quotaKind struct {
	name       string // metric label
	what       string // in messages
	action     string // the 3.0 action that spends it
	field      string // the parameter holding the items
	batchCode  string
	dayCode    string
	total      int64 // default items a day per area
	batch      int64 // default items per call
	source     string
	sourceList string // where DescribePurgeQuota/DescribePushQuota list it
}

var quotaKinds = [...]quotaKind{
	{"url_purge", "URL purge", "PurgeUrlsCache", "Urls", "LimitExceeded.CdnPurgeUrlExceedBatchLimit",
		"LimitExceeded.CdnPurgeUrlExceedDayLimit", 10000, 1000, "DescribePurgeQuota", "UrlPurge"},
	{"path_purge", "directory purge", "PurgePathCache", "Paths", "LimitExceeded.CdnPurgePathExceedBatchLimit",
		"LimitExceeded.CdnPurgePathExceedDayLimit", 100, 500, "DescribePurgeQuota", "PathPurge"},
	{"url_push", "prefetch", "PushUrlsCache", "Urls", "LimitExceeded.CdnPushExceedBatchLimit",
		"LimitExceeded.CdnPushExceedDayLimit", 1000, 500, "DescribePushQuota", "UrlPush"},
}

// quotaAreas are the areas counted apart; "global" counts against both.
var quotaAreas = [...]string{"mainland", "overseas"}

// quotaLimit is one kind's limits in one area.
type quotaLimit struct{ total, batch int64 }

// quotaKindOf returns the quota an action spends.
func quotaKindOf(action string) (int, bool) {
	for k, kind := range quotaKinds {
		if kind.action == action {
			return k, true
		}
	}
	return 0, false
}

// areasOf returns the areas a call's Area counts against: both for
// global, overseas for overseas, and mainland otherwise (the default of
// prefetches, and of purges of the usual mainland domain).
func areasOf(area string) []int {
	switch area {
	case "global":
		return []int{0, 1}
	case "overseas":
		return []int{1}
	}
	return []int{0}
}

// quotaReq is the quota part of a check: n items to spend from the
// counters keys (one per area a call counts against, today's), each
// within its total; the counters expire at the next Shanghai midnight.
type quotaReq struct {
	kind   int
	areas  []int
	keys   []string
	totals []int64
	n      int64
	now    time.Time // the limits' clock when the check began
	expire time.Time
}

// quotaFor reads a call's items of quota kind k and returns what its
// check spends: nil for a call without items (the API refuses it
// itself), or a refusal for a batch over the account's batch size.
func (l *Limits) quotaFor(ctx context.Context, k int, payload []byte, form bool) (*quotaReq, *apiError) {
	kind := &quotaKinds[k]
	n, area := payloadItems(payload, form, kind.field)
	if n <= 0 {
		return nil, nil
	}
	l.maybeRefresh(ctx)
	now := l.cfg.Now()
	areas := areasOf(area)
	q := &quotaReq{kind: k, areas: areas, keys: make([]string, len(areas)), totals: make([]int64, len(areas)),
		n: n, now: now, expire: annotate.NextShanghaiMidnight(now)}
	date := annotate.ShanghaiDate(now)
	l.quotaMu.Lock()
	defer l.quotaMu.Unlock()
	for i, a := range areas {
		limit := l.quotas[k][a]
		if n > limit.batch {
			l.m.refusedBatch.Inc()
			return nil, &apiError{status: http.StatusBadRequest, code: 4000, v3Code: kind.batchCode, outcome: outcomeRefused,
				message: fmt.Sprintf("cdnproxy: this call has %d items for %s; the account allows %d a call in %s: split it",
					n, kind.what, limit.batch, quotaAreas[a])}
		}
		q.keys[i], q.totals[i] = "cdnproxy:quota:"+kind.name+":"+quotaAreas[a]+":"+date, limit.total
	}
	return q, nil
}

// quotaChecked records what a check found of q, given the call got its
// slot: the gauges of what is left, and the day-limit refusal when the
// items did not fit.
func (l *Limits) quotaChecked(q *quotaReq, c checked) *apiError {
	left := q.totals[0] - c.used[0]
	for i, a := range q.areas {
		l.m.remaining(q.kind, a).Set(float64(q.totals[i] - c.used[i]))
		left = min(left, q.totals[i]-c.used[i])
	}
	if !c.over {
		return nil
	}
	l.m.refusedQuota.Inc()
	kind := &quotaKinds[q.kind]
	return &apiError{status: http.StatusTooManyRequests, code: 4400, v3Code: kind.dayCode, outcome: outcomeRefused,
		retryAfter: annotate.Seconds(q.expire.Sub(q.now)),
		message: fmt.Sprintf("cdnproxy: today's %s quota has %d items left and this call has %d; it resets at 00:00 Asia/Shanghai",
			kind.what, max(left, 0), q.n)}
}

// maybeRefresh reads the account's quotas when it has a key and they are
// due: on the first check, every QuotaRefresh, and after a day-limit
// error from Tencent. One call reads them; the others go on meanwhile.
func (l *Limits) maybeRefresh(ctx context.Context) {
	if l.fetch.Load() == nil {
		return
	}
	now := l.cfg.Now()
	l.quotaMu.Lock()
	due := l.stale || l.lastRefresh.IsZero() || now.Sub(l.lastRefresh) >= l.cfg.QuotaRefresh
	if due {
		l.stale, l.lastRefresh = false, now
	}
	l.quotaMu.Unlock()
	if due {
		if err := l.refresh(ctx); err != nil {
			l.cfg.Logger.Warn("limits: could not read the account's quotas; using the last known", slog.String("error", err.Error()))
		}
	}
}

// refresh reads DescribePurgeQuota and DescribePushQuota and makes their
// Batch, Total and Available the limits and today's counts.
func (l *Limits) refresh(ctx context.Context) error {
	do := *l.fetch.Load()
	now := l.cfg.Now()
	date, midnight := annotate.ShanghaiDate(now), annotate.NextShanghaiMidnight(now)
	for _, source := range [...]string{"DescribePurgeQuota", "DescribePushQuota"} {
		status, body, err := do(ctx, source, []byte("{}"))
		if err != nil {
			return fmt.Errorf("%s: %w", source, err)
		}
		resp := gjson.GetBytes(body, "Response")
		if code := resp.Get("Error.Code"); status != http.StatusOK || code.Exists() || !resp.IsObject() {
			return fmt.Errorf("%s: status %d, error %q", source, status, code.String())
		}
		for k, kind := range quotaKinds {
			if kind.source != source {
				continue
			}
			for _, item := range resp.Get(kind.sourceList).Array() {
				a := -1
				for i, name := range quotaAreas {
					if item.Get("Area").String() == name {
						a = i
					}
				}
				total, batch, available := item.Get("Total").Int(), item.Get("Batch").Int(), item.Get("Available").Int()
				if a < 0 || total <= 0 || batch <= 0 {
					continue
				}
				l.quotaMu.Lock()
				l.quotas[k][a] = quotaLimit{total: total, batch: batch}
				l.quotaMu.Unlock()
				used := min(max(total-available, 0), total)
				key := "cdnproxy:quota:" + kind.name + ":" + quotaAreas[a] + ":" + date
				if err := l.setUsed(ctx, key, used, midnight); err != nil {
					return err
				}
				l.m.remaining(k, a).Set(float64(total - used))
			}
		}
	}
	return nil
}

// setUsed sets today's count of a quota where the counts are kept.
func (l *Limits) setUsed(ctx context.Context, key string, used int64, midnight time.Time) error {
	if l.useRedis() {
		err := l.redis.set(ctx, key, used, midnight)
		if err == nil {
			l.storeOK()
			return nil
		}
		l.storeFailed(ctx, err)
	}
	return l.mem.set(ctx, key, used, midnight)
}

// limitMetrics are the limits' Prometheus metrics.
type limitMetrics struct {
	refusedRate, refusedQuota, refusedBatch, refusedStore prometheus.Counter
	waited                                                prometheus.Counter
	waitedSeconds                                         prometheus.Counter
	storeErrors                                           prometheus.Counter
	storeUp                                               prometheus.Gauge
	quotaRemaining                                        *prometheus.GaugeVec
}

func newLimitMetrics(reg prometheus.Registerer) limitMetrics {
	refused := prometheus.NewCounterVec(prometheus.CounterOpts{Name: "cdnproxy_limit_refused_total",
		Help: "Calls the limits answered locally instead of forwarding, by reason: rate, day_quota, batch, store."}, []string{"reason"})
	m := limitMetrics{
		refusedRate: refused.WithLabelValues("rate"), refusedQuota: refused.WithLabelValues("day_quota"),
		refusedBatch: refused.WithLabelValues("batch"), refusedStore: refused.WithLabelValues("store"),
		waited: prometheus.NewCounter(prometheus.CounterOpts{Name: "cdnproxy_limit_waited_total",
			Help: "Calls that waited for their action's next slot before being forwarded."}),
		waitedSeconds: prometheus.NewCounter(prometheus.CounterOpts{Name: "cdnproxy_limit_waited_seconds_total",
			Help: "Total seconds calls waited for their action's next slot."}),
		storeErrors: prometheus.NewCounter(prometheus.CounterOpts{Name: "cdnproxy_limit_store_errors_total",
			Help: "Redis operations of the limits that failed."}),
		storeUp: prometheus.NewGauge(prometheus.GaugeOpts{Name: "cdnproxy_limit_store_up",
			Help: "1 while the limits' state is shared through Redis, 0 while Redis fails or none is configured."}),
		quotaRemaining: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "cdnproxy_quota_remaining",
			Help: "Items left in today's quota by kind (url_purge, path_purge, url_push) and area, as last seen."}, []string{"kind", "area"}),
	}
	if reg != nil {
		reg.MustRegister(refused, m.waited, m.waitedSeconds, m.storeErrors, m.storeUp, m.quotaRemaining)
	}
	return m
}

// remaining is the gauge of quota kind k in area a.
func (m *limitMetrics) remaining(k, a int) prometheus.Gauge {
	return m.quotaRemaining.WithLabelValues(quotaKinds[k].name, quotaAreas[a])
}

// The limits' refusals.

func errRateLimited(action string, retryAfter int) *apiError {
	return &apiError{status: http.StatusTooManyRequests, code: 4400, v3Code: "RequestLimitExceeded", outcome: outcomeRefused,
		retryAfter: retryAfter,
		message:    "cdnproxy: " + action + " is over its rate and no slot came free within CDNPROXY_LIMIT_WAIT; retry after " + strconv.Itoa(retryAfter) + " s"}
}

func errStoreDown() *apiError {
	return &apiError{status: http.StatusServiceUnavailable, code: 6200, v3Code: "ServiceUnavailable", outcome: outcomeRefused,
		message: "cdnproxy: the limits' store (Redis) is unavailable and CDNPROXY_LIMITS_ON_STORE_ERROR=closed, so the call was not forwarded"}
}

func errLimitGone() *apiError {
	return &apiError{status: http.StatusServiceUnavailable, code: 6200, v3Code: "ServiceUnavailable", outcome: outcomeRefused,
		message: "cdnproxy: the call ended while it waited for its slot"}
}
