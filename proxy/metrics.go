package proxy

import (
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Metrics are the proxy's Prometheus metrics. Build them with NewMetrics
// and hand them to one or more Proxies through Config.Metrics; serve them
// with promhttp.HandlerFor on the registry they were registered with.
//
// Every label set is bounded: action takes the known API 2.0 and 3.0
// action names, "other" and "none"; the other labels take fixed values.
type Metrics struct {
	calls           *prometheus.CounterVec
	upstreamSeconds *prometheus.HistogramVec
	responses       *prometheus.CounterVec
	hangups         prometheus.Counter
	upstreamFailed  *prometheus.CounterVec
	inFlight        prometheus.Gauge
	migration       *prometheus.CounterVec
	unsupportedV2   *prometheus.CounterVec
	busy            *prometheus.CounterVec
	overBudget      prometheus.Counter

	// Resolved series, so that a call costs no label hashing: the fixed
	// ones at construction, the ones labelled by action on first use
	// (seriesKey to *callSeries; bounded like the labels).
	annotated, passed, unknownCode prometheus.Counter
	byOutcome                      map[outcome]prometheus.Observer
	series                         sync.Map
}

// seriesKey is the label values of a call's series.
type seriesKey struct {
	action, successor string // successor is set for API 2.0 calls only
	outcome           outcome
	category          string
	retryable, v2     bool
}

// callSeries are the resolved series of one seriesKey.
type callSeries struct {
	calls     prometheus.Counter
	migration prometheus.Counter // nil for calls that are not API 2.0
}

// upstreamBuckets span what an API call takes: a few milliseconds for a
// cached answer up to the default 30s upstream timeout.
var upstreamBuckets = []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30}

// The values of responses_total's result label.
const (
	resultAnnotated   = "annotated"
	resultPassed      = "passed_through"
	resultUnknownCode = "unknown_code"
)

// NewMetrics creates the metrics and registers them with reg. It panics
// if reg already holds metrics of the same names, as
// prometheus.MustRegister does; give each Metrics its own registry.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		calls: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "cdnproxy_calls_total",
			Help: "API calls handled, by action (a known API 2.0 or 3.0 action, \"other\" for unknown names, \"none\" when the call named none), " +
				"outcome (success, api_error, passthrough, refused, upstream_error, client_gone, ambiguous, busy), " +
				"category (the error category of failed calls, \"none\" for the rest) and retryable (\"true\" or \"false\"; \"false\" for calls that did not fail).",
		}, []string{"action", "outcome", "category", "retryable"}),
		upstreamSeconds: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "cdnproxy_upstream_duration_seconds",
			Help: "Time from sending a call upstream until the proxy had the answer it needed (the headers and the start of the body, or the whole of an error body), " +
				"or until the exchange failed, by outcome. Calls refused by the proxy and calls whose client hung up are not observed.",
			Buckets: upstreamBuckets,
		}, []string{"outcome"}),
		responses: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "cdnproxy_responses_total",
			Help: "Answers from the upstream by what the proxy did with them: \"annotated\" (an API error annotated from the catalogue), " +
				"\"unknown_code\" (an API error whose most specific code - the 2.0 module code, else the public code, or the exact 3.0 code - is not in the catalogue: the catalogue needs an entry), " +
				"\"passed_through\" (successes and bodies that are not API results, sent on untouched).",
		}, []string{"result"}),
		hangups: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "cdnproxy_client_hangups_total",
			Help: "Calls whose client closed the connection before the answer was ready (outcome client_gone). Not upstream failures.",
		}),
		upstreamFailed: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "cdnproxy_upstream_failures_total",
			Help: "Calls for which the upstream gave no usable answer, by reason: \"timeout\" (no answer within the upstream timeout) or \"unreachable\" (the connection failed or broke off).",
		}, []string{"reason"}),
		inFlight: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "cdnproxy_in_flight",
			Help: "API calls being handled right now.",
		}),
		migration: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "cdnproxy_v2_calls_total",
			Help: "API 2.0 calls by action and successor, the API 3.0 action that replaces it (\"unknown\" when none is known): what is left to migrate.",
		}, []string{"action", "successor"}),
		unsupportedV2: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "cdnproxy_bridge_unsupported_total",
			Help: "API 2.0 calls the 2.0 -> 3.0 bridge does not translate, by action (a known 2.0 action, \"other\" or \"none\"): answered by the proxy, never forwarded.",
		}, []string{"action"}),
	}
	m.busy = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "cdnproxy_busy_total",
		Help: "Calls the proxy refused because it met one of its own limits (outcome busy, 503 with Retry-After), by limit: \"in_flight\" (CDNPROXY_MAX_IN_FLIGHT), \"memory\" (a request body without memory budget) or \"local_resources\" (the host's, such as open files). Never the upstream's failure.",
	}, []string{"limit"})
	m.overBudget = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "cdnproxy_budget_passthrough_total",
		Help: "Response bodies passed through unannotated because the memory budget (CDNPROXY_MEMORY_BUDGET) had no room to hold them.",
	})
	reg.MustRegister(m.calls, m.upstreamSeconds, m.responses, m.hangups, m.upstreamFailed, m.inFlight, m.migration, m.unsupportedV2, m.busy, m.overBudget)
	for _, l := range []string{busyInFlight, busyMemory, busyLocal} {
		m.busy.WithLabelValues(l)
	}
	// Series that alerts compare against exist from the start, at zero.
	m.annotated = m.responses.WithLabelValues(resultAnnotated)
	m.passed = m.responses.WithLabelValues(resultPassed)
	m.unknownCode = m.responses.WithLabelValues(resultUnknownCode)
	m.byOutcome = make(map[outcome]prometheus.Observer)
	for _, o := range []outcome{outcomeSuccess, outcomeAPIError, outcomePassthrough, outcomeUpstreamError} {
		m.byOutcome[o] = m.upstreamSeconds.WithLabelValues(string(o))
	}
	for _, r := range []string{"timeout", "unreachable"} {
		m.upstreamFailed.WithLabelValues(r)
	}
	return m
}

// callStarted and callEnded track the calls in flight. They do nothing on
// a nil *Metrics.
func (m *Metrics) callStarted() {
	if m != nil {
		m.inFlight.Inc()
	}
}

func (m *Metrics) callEnded() {
	if m != nil {
		m.inFlight.Dec()
	}
}

// unsupported counts a 2.0 call the bridge does not translate. It does
// nothing on a nil *Metrics.
func (m *Metrics) unsupported(action string) {
	if m != nil {
		m.unsupportedV2.WithLabelValues(actionLabel(action)).Inc()
	}
}

// observe counts a finished call. It does nothing on a nil *Metrics.
func (m *Metrics) observe(c *call) {
	if m == nil {
		return
	}
	m.seriesOf(c).inc()
	switch c.outcome {
	case outcomeSuccess, outcomePassthrough:
		m.passed.Inc()
	case outcomeAPIError:
		if !c.result.Known() {
			m.unknownCode.Inc()
		} else {
			m.annotated.Inc()
		}
	case outcomeUpstreamError:
		reason := "unreachable"
		if c.timedOut {
			reason = "timeout"
		}
		m.upstreamFailed.WithLabelValues(reason).Inc()
	case outcomeClientGone:
		m.hangups.Inc()
	case outcomeBusy:
		m.busy.WithLabelValues(c.busyReason).Inc()
	}
	if c.held.passedThrough(c.outcome) {
		m.overBudget.Inc()
	}

	if c.outcome != outcomeRefused && c.outcome != outcomeClientGone && c.outcome != outcomeBusy && !c.upstream.start.IsZero() {
		d := c.upstream.duration
		if d == 0 { // the exchange failed before the proxy saw an answer
			d = time.Since(c.upstream.start)
		}
		if o, ok := m.byOutcome[c.outcome]; ok {
			o.Observe(d.Seconds())
		} else {
			m.upstreamSeconds.WithLabelValues(string(c.outcome)).Observe(d.Seconds())
		}
	}
}

// seriesOf returns the series a call counts in, resolving them on first
// use.
func (m *Metrics) seriesOf(c *call) *callSeries {
	k := seriesKey{action: actionLabel(c.action), outcome: c.outcome, category: "none", v2: c.gen() == 2}
	if c.outcome.failed() {
		k.category, k.retryable = string(c.result.Category), c.result.Retryable
	}
	if k.v2 {
		k.successor = c.successor
		if k.successor == "" {
			k.successor = "unknown"
		}
	}
	if s, ok := m.series.Load(k); ok {
		return s.(*callSeries)
	}
	// The action may point into the request's query or body (up to
	// 1 MiB); a series kept for the life of the process keeps a copy.
	k.action = strings.Clone(k.action)
	s := &callSeries{calls: m.calls.WithLabelValues(k.action, string(k.outcome), k.category, strconv.FormatBool(k.retryable))}
	if k.v2 {
		s.migration = m.migration.WithLabelValues(k.action, k.successor)
	}
	actual, _ := m.series.LoadOrStore(k, s)
	return actual.(*callSeries)
}

// inc counts one call.
func (s *callSeries) inc() {
	s.calls.Inc()
	if s.migration != nil {
		s.migration.Inc()
	}
}
