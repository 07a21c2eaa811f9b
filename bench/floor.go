package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"log/slog"
	"net/http"
	"net/http/httputil"
	"net/url"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/cdnproxy/cdnproxy/codes"
	"github.com/cdnproxy/cdnproxy/internal/fakeapi"
	"github.com/cdnproxy/cdnproxy/proxy"
)

// floor is plain with the work that every call of any production proxy
// in cdnproxy's place does, whatever it does with the answer: a request
// id (random, sent upstream and to the client), an upstream deadline (a
// cancelable context and its timer), a gauge of calls in flight and a
// counter and a histogram per call. With log set it also writes one JSON
// line of cdnproxy's fields per call, as cdnproxy does for a failed call
// (and not for a success: plain-floor-log is the floor of the error
// cells only).
//
// It answers how far below plain a proxy that does no more than that
// already is on this machine: the part of the gap to plain that no
// optimisation of cdnproxy's own code can close. It is not run by
// default (-proxies plain-floor,plain-floor-log).
type floor struct {
	rp       *httputil.ReverseProxy
	timeout  time.Duration
	inFlight prometheus.Gauge
	calls    prometheus.Counter
	seconds  prometheus.Observer
	log      *slog.Logger // nil: no line
}

func newFloor(upstream *url.URL, maxIdle int, logger *slog.Logger, withLog bool) *floor {
	reg := prometheus.NewRegistry()
	f := &floor{
		rp: &httputil.ReverseProxy{
			Rewrite:    func(pr *httputil.ProxyRequest) { pr.SetURL(upstream) },
			Transport:  proxy.NewTransport(maxIdle),
			BufferPool: fakeapi.NewBufferPool(),
		},
		timeout:  30 * time.Second,
		inFlight: prometheus.NewGauge(prometheus.GaugeOpts{Name: "floor_in_flight"}),
	}
	calls := prometheus.NewCounterVec(prometheus.CounterOpts{Name: "floor_calls_total"}, []string{"action", "outcome"})
	seconds := prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "floor_upstream_seconds"}, []string{"outcome"})
	reg.MustRegister(f.inFlight, calls, seconds)
	f.calls, f.seconds = calls.WithLabelValues("DescribeCdnHosts", "success"), seconds.WithLabelValues("success")
	if withLog {
		f.log = logger
	}
	return f
}

func (f *floor) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	f.inFlight.Inc()
	defer f.inFlight.Dec()
	var b [16]byte
	_, _ = rand.Read(b[:])
	id := []string{hex.EncodeToString(b[:])}
	r.Header["X-Request-Id"] = id
	w.Header()["X-Request-Id"] = id
	ctx, cancel := context.WithCancel(r.Context())
	t := time.AfterFunc(f.timeout, cancel)
	f.rp.ServeHTTP(w, r.WithContext(ctx))
	t.Stop()
	cancel()
	// As cdnproxy does: the answer goes out before the bookkeeping, so
	// that the client does not wait for it.
	if fl, ok := w.(http.Flusher); ok {
		fl.Flush()
	}
	d := time.Since(start)
	f.calls.Inc()
	f.seconds.Observe(d.Seconds())
	if f.log == nil {
		return
	}
	rec := slog.NewRecord(time.Now(), slog.LevelWarn, "call failed", 0)
	rec.AddAttrs(
		slog.String("requestId", id[0]), slog.String("outcome", "api_error"), slog.String("clientAddr", r.RemoteAddr),
		slog.String("method", r.Method), slog.String("action", "DescribeCdnHosts"), slog.String("api", "2.0"),
		slog.String("code", "4000"), slog.Int("moduleCode", 9112), slog.String("codeDesc", "InvalidParameter"),
		slog.String("category", string(codes.InvalidState)), slog.Bool("retryable", false),
		slog.String("description", "The domain must be in the online state for this operation."),
		slog.String("message", "(9112)操作域名需要为【开启中】状态，请确认后重试"),
		slog.Int("status", 200), slog.Int("upstreamStatus", 200), slog.Float64("upstreamMs", float64(d.Microseconds())/1000),
		slog.Float64("totalMs", float64(d.Microseconds())/1000), slog.Int64("bytes", 150),
		slog.String("secretId", "AKID****0000"), slog.String("signing", "passthrough"),
	)
	_ = f.log.Handler().Handle(context.Background(), rec)
}
