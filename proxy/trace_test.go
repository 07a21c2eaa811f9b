package proxy_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/cdnproxy/cdnproxy/internal/fakeapi3"
	"github.com/cdnproxy/cdnproxy/proxy"
)

// The trace context a client sends in the trace tests: W3C's own example.
const (
	clientTraceID = "0af7651916cd43dd8448eb211c80319c"
	clientSpanID  = "b7ad6b7169203331"
	clientParent  = "00-" + clientTraceID + "-" + clientSpanID + "-01"
	clientState   = "congo=t61rcWkgMzE"
)

// newTestTracer returns an SDK tracer provider that hands every span, as
// it ends, to the returned in-memory exporter.
func newTestTracer(t *testing.T) (*sdktrace.TracerProvider, *tracetest.InMemoryExporter) {
	t.Helper()
	exp := tracetest.NewInMemoryExporter()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(exp))
	t.Cleanup(func() { _ = tp.Shutdown(context.Background()) })
	return tp, exp
}

// headerUpstream is an API 2.0 upstream that keeps the headers of every
// call it gets: RefreshCdnUrl fails with module code 9110, every other
// action succeeds.
type headerUpstream struct {
	srv *httptest.Server
	mu  sync.Mutex
	got []http.Header
}

func newHeaderUpstream(t *testing.T) *headerUpstream {
	t.Helper()
	u := &headerUpstream{}
	u.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u.mu.Lock()
		u.got = append(u.got, r.Header.Clone())
		u.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		if r.FormValue("Action") == "RefreshCdnUrl" {
			io.WriteString(w, `{"code":4000,"message":"(9110)no such host","codeDesc":"InvalidParameter"}`)
			return
		}
		io.WriteString(w, `{"code":0,"message":"","codeDesc":"Success","data":{"hosts":[]}}`)
	}))
	t.Cleanup(u.srv.Close)
	return u
}

// headers returns the headers of the calls the upstream got so far.
func (u *headerUpstream) headers() []http.Header {
	u.mu.Lock()
	defer u.mu.Unlock()
	return append([]http.Header(nil), u.got...)
}

// traceCase is one call of the trace tests, sent with tracing on and off.
type traceCase struct {
	name        string
	target      string // path and query
	parent      string // the client's traceparent, if any
	outcome     string
	forwarded   bool // the call reaches the upstream
	exported    bool // the client's trace is sampled (or there is none)
	wantFailure bool
}

var traceCases = []traceCase{
	{"client's trace, API error", "/v2/index.php?Action=RefreshCdnUrl", clientParent, "api_error", true, true, true},
	{"no client trace, success", "/v2/index.php?Action=DescribeCdnHosts", "", "success", true, true, false},
	{"client's trace not sampled", "/v2/index.php?Action=DescribeCdnHosts", "00-" + clientTraceID + "-" + clientSpanID + "-00", "success", true, false, false},
	{"client's trace, refused", "/not-the-api?Action=RefreshCdnUrl", clientParent, "refused", false, true, true},
}

// serveTraced sends one call of tc to a proxy in front of up, with tp
// (nil: no tracing), and returns the call's log line and answer.
func serveTraced(t *testing.T, tc traceCase, up *headerUpstream, tp trace.TracerProvider) (map[string]any, *httptest.ResponseRecorder) {
	t.Helper()
	var logs logBuffer
	p, err := proxy.New(proxy.Config{Upstream: mustURL(t, up.srv.URL), TracerProvider: tp, Timeout: 5 * time.Second,
		Logger: slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))})
	if err != nil {
		t.Fatal(err)
	}
	r := httptest.NewRequest(http.MethodGet, "http://proxy.example"+tc.target, nil)
	r.Header.Set("X-Request-Id", "trace-test-call")
	if tc.parent != "" {
		r.Header.Set("Traceparent", tc.parent)
		r.Header.Set("Tracestate", clientState)
	}
	w := httptest.NewRecorder()
	p.ServeHTTP(w, r)
	lines := logs.lines(t)
	if len(lines) != 1 {
		t.Fatalf("%d log lines, want 1: %v", len(lines), lines)
	}
	if lines[0]["outcome"] != tc.outcome {
		t.Fatalf("outcome %v, want %s: %v", lines[0]["outcome"], tc.outcome, lines[0])
	}
	return lines[0], w
}

// spanAttrs returns a span's attributes as text.
func spanAttrs(s tracetest.SpanStub) map[string]string {
	m := make(map[string]string, len(s.Attributes))
	for _, kv := range s.Attributes {
		m[string(kv.Key)] = kv.Value.String()
	}
	return m
}

// wantTraceparent checks a traceparent an upstream got: in traceID, from
// the span parentID, sampled.
func wantTraceparent(t *testing.T, got []string, traceID, parentID string) {
	t.Helper()
	want := "00-" + traceID + "-" + parentID + "-01"
	if len(got) != 1 || got[0] != want {
		t.Errorf("upstream got traceparent %q, want %q", got, want)
	}
}

// TestTraceForwarded: with a TracerProvider, a call is a server span,
// child of the client's traceparent, named after its action and carrying
// the log line's facts; the forwarded exchange is a client span below it,
// whose context (in the client's trace, with its tracestate) is what the
// upstream gets; the log line names the trace.
func TestTraceForwarded(t *testing.T) {
	for _, tc := range traceCases {
		t.Run(tc.name, func(t *testing.T) {
			tp, exp := newTestTracer(t)
			up := newHeaderUpstream(t)
			line, _ := serveTraced(t, tc, up, tp)
			spans := exp.GetSpans()
			want := 0
			if tc.exported {
				want = 1
				if tc.forwarded {
					want = 2
				}
			}
			if len(spans) != want {
				t.Fatalf("%d spans exported, want %d: %v", len(spans), want, spans.Snapshots())
			}
			got := up.headers()
			if tc.forwarded != (len(got) == 1) {
				t.Fatalf("upstream got %d calls, want forwarded=%v", len(got), tc.forwarded)
			}
			traceID := clientTraceID
			if tc.parent == "" && len(spans) > 0 {
				traceID = spans[0].SpanContext.TraceID().String()
			}
			if line["traceId"] != traceID {
				t.Errorf("log line traceId = %v, want %s", line["traceId"], traceID)
			}
			if !tc.exported {
				// Not sampled: no spans, but the call is still in the
				// client's trace upstream, with the client's flags.
				if p := got[0]["Traceparent"]; len(p) != 1 || !strings.HasPrefix(p[0], "00-"+clientTraceID+"-") || !strings.HasSuffix(p[0], "-00") || p[0] == tc.parent {
					t.Errorf("upstream got traceparent %q, want the client's trace, unsampled, from a span of the proxy's", p)
				}
				return
			}
			var callSpan, upSpan tracetest.SpanStub
			for _, s := range spans {
				switch s.SpanKind {
				case trace.SpanKindServer:
					callSpan = s
				case trace.SpanKindClient:
					upSpan = s
				}
			}
			if callSpan.SpanContext.TraceID().String() != traceID {
				t.Errorf("call span in trace %s, want %s", callSpan.SpanContext.TraceID(), traceID)
			}
			if tc.parent != "" && (callSpan.Parent.SpanID().String() != clientSpanID || !callSpan.Parent.IsRemote()) {
				t.Errorf("call span's parent = %v, want the client's span %s", callSpan.Parent, clientSpanID)
			}
			if tc.parent == "" && callSpan.Parent.IsValid() {
				t.Errorf("call span has parent %v, want none", callSpan.Parent)
			}
			wantName := "cdnproxy " + line["action"].(string)
			if line["action"] == "" {
				wantName = "cdnproxy none" // as the metrics' action label
			}
			if callSpan.Name != wantName {
				t.Errorf("call span named %q, want %q", callSpan.Name, wantName)
			}
			attrs := spanAttrs(callSpan)
			wantAttrs := map[string]string{
				"cdnproxy.action":           line["action"].(string),
				"cdnproxy.api":              line["api"].(string),
				"cdnproxy.outcome":          tc.outcome,
				"cdnproxy.request_id":       line["requestId"].(string),
				"http.request.method":       "GET",
				"http.response.status_code": fmt.Sprint(line["status"]),
				"cdnproxy.upstream.status":  fmt.Sprint(line["upstreamStatus"]),
			}
			if tc.wantFailure {
				wantAttrs["cdnproxy.code"] = line["code"].(string)
				wantAttrs["cdnproxy.category"] = line["category"].(string)
				wantAttrs["cdnproxy.retryable"] = fmt.Sprint(line["retryable"])
				if callSpan.Status.Code.String() != "Error" {
					t.Errorf("failed call's span status %v, want Error", callSpan.Status)
				}
			} else if _, ok := attrs["cdnproxy.category"]; ok {
				t.Errorf("successful call's span has a category: %v", attrs)
			}
			for k, v := range wantAttrs {
				if attrs[k] != v {
					t.Errorf("call span %s = %q, want %q (all: %v)", k, attrs[k], v, attrs)
				}
			}
			if !tc.forwarded {
				return
			}
			if upSpan.Parent.SpanID() != callSpan.SpanContext.SpanID() || upSpan.SpanContext.TraceID() != callSpan.SpanContext.TraceID() {
				t.Errorf("upstream span's parent = %v, want the call's span %v", upSpan.Parent, callSpan.SpanContext)
			}
			if ua := spanAttrs(upSpan); ua["http.response.status_code"] != "200" || ua["url.path"] != "/v2/index.php" {
				t.Errorf("upstream span attributes %v, want status 200 and path /v2/index.php", ua)
			}
			if upSpan.EndTime.After(callSpan.EndTime) {
				t.Errorf("upstream span ended at %v, after the call's at %v", upSpan.EndTime, callSpan.EndTime)
			}
			wantTraceparent(t, got[0]["Traceparent"], traceID, upSpan.SpanContext.SpanID().String())
			if tc.parent != "" {
				if s := got[0]["Tracestate"]; len(s) != 1 || s[0] != clientState {
					t.Errorf("upstream got tracestate %q, want the client's %q", s, clientState)
				}
			}
		})
	}
}

// TestTraceOff: without a TracerProvider the upstream gets the client's
// traceparent and tracestate unchanged, the log line has no traceId, and
// nothing else changes: the answer and every other header the upstream
// gets are those of a traced proxy.
func TestTraceOff(t *testing.T) {
	for _, tc := range traceCases {
		t.Run(tc.name, func(t *testing.T) {
			tp, _ := newTestTracer(t)
			off, on := newHeaderUpstream(t), newHeaderUpstream(t)
			lineOff, wOff := serveTraced(t, tc, off, nil)
			lineOn, wOn := serveTraced(t, tc, on, tp)
			if _, ok := lineOff["traceId"]; ok {
				t.Errorf("log line without tracing has a traceId: %v", lineOff)
			}
			delete(lineOn, "traceId")
			for _, k := range []string{"time", "upstreamMs", "totalMs"} {
				delete(lineOn, k)
				delete(lineOff, k)
			}
			if fmt.Sprint(lineOn) != fmt.Sprint(lineOff) {
				t.Errorf("log line without tracing\n%v\nwith (traceId aside)\n%v", lineOff, lineOn)
			}
			if wOff.Code != wOn.Code || wOff.Body.String() != wOn.Body.String() {
				t.Errorf("answer without tracing %d %s, with %d %s", wOff.Code, wOff.Body, wOn.Code, wOn.Body)
			}
			gotOff, gotOn := off.headers(), on.headers()
			if len(gotOff) != len(gotOn) {
				t.Fatalf("upstream got %d calls without tracing, %d with", len(gotOff), len(gotOn))
			}
			if !tc.forwarded {
				return
			}
			h := gotOff[0]
			if tc.parent == "" {
				if _, ok := h["Traceparent"]; ok {
					t.Errorf("upstream got a traceparent the client did not send: %q", h["Traceparent"])
				}
			} else if fmt.Sprint(h["Traceparent"], h["Tracestate"]) != fmt.Sprint([]string{tc.parent}, []string{clientState}) {
				t.Errorf("upstream got traceparent %q, tracestate %q; want the client's %q, %q", h["Traceparent"], h["Tracestate"], tc.parent, clientState)
			}
			for _, h := range []http.Header{gotOff[0], gotOn[0]} {
				delete(h, "Traceparent")
				delete(h, "Tracestate")
			}
			if fmt.Sprint(gotOff[0]) != fmt.Sprint(gotOn[0]) {
				t.Errorf("upstream headers without tracing\n%v\nwith (trace context aside)\n%v", gotOff[0], gotOn[0])
			}
		})
	}
}

// TestTraceBridged: a bridged 2.0 call is a span in the client's trace,
// with each 3.0 call the bridge makes a client span below it whose
// context is what the 3.0 upstream gets, and Tencent's RequestId on the
// call's span; without tracing, the 3.0 upstream gets the client's
// traceparent and tracestate as they came.
func TestTraceBridged(t *testing.T) {
	domain := fakeapi3.DefaultDomain().Domain
	for _, tc := range []struct {
		name, url, outcome string
	}{
		{"success", "http://" + domain + "/a.png", "success"},
		{"API error", "http://not-a-domain-of-the-account.example/a.png", "api_error"},
	} {
		for _, traced := range []bool{true, false} {
			t.Run(fmt.Sprintf("%s/traced=%v", tc.name, traced), func(t *testing.T) {
				tp, exp := newTestTracer(t)
				s := newBridgeSetup(t, nil, proxy.Resign, func(c *proxy.Config) {
					if traced {
						c.TracerProvider = tp
					}
				})
				r := s.signed(brClientID, brClientKey, "Action", "RefreshCdnUrl", "urls.0", tc.url)
				r.Header.Set("Traceparent", clientParent)
				r.Header.Set("Tracestate", clientState)
				s.do(t, r)
				lines, err := s.logs.Lines()
				if err != nil || len(lines) != 1 || lines[0]["outcome"] != tc.outcome {
					t.Fatalf("log lines %v (%v), want one with outcome %s", lines, err, tc.outcome)
				}
				line := lines[0]
				last, ok := s.fake.Last()
				if !ok || last.Action != "PurgeUrlsCache" {
					t.Fatalf("the 3.0 upstream's last call: %+v, want PurgeUrlsCache", last)
				}
				got := last.Header
				if !traced {
					if fmt.Sprint(got["Traceparent"], got["Tracestate"]) != fmt.Sprint([]string{clientParent}, []string{clientState}) {
						t.Errorf("3.0 upstream got traceparent %q, tracestate %q; want the client's", got["Traceparent"], got["Tracestate"])
					}
					if _, ok := line["traceId"]; ok || len(exp.GetSpans()) != 0 {
						t.Errorf("untraced call: traceId %v, %d spans; want neither", line["traceId"], len(exp.GetSpans()))
					}
					return
				}
				if line["traceId"] != clientTraceID {
					t.Errorf("log line traceId = %v, want %s", line["traceId"], clientTraceID)
				}
				var callSpan tracetest.SpanStub
				var upSpans []tracetest.SpanStub
				for _, sp := range exp.GetSpans() {
					if sp.SpanKind == trace.SpanKindServer {
						callSpan = sp
					} else {
						upSpans = append(upSpans, sp)
					}
				}
				if callSpan.Name != "cdnproxy RefreshCdnUrl" || callSpan.Parent.SpanID().String() != clientSpanID {
					t.Errorf("call span %q with parent %v, want cdnproxy RefreshCdnUrl below the client's span", callSpan.Name, callSpan.Parent)
				}
				attrs := spanAttrs(callSpan)
				for k, v := range map[string]string{
					"cdnproxy.api":                 "2.0-bridge",
					"cdnproxy.outcome":             tc.outcome,
					"cdnproxy.successor":           "PurgeUrlsCache",
					"cdnproxy.upstream.request_id": last.RequestID,
				} {
					if attrs[k] != v {
						t.Errorf("call span %s = %q, want %q (all: %v)", k, attrs[k], v, attrs)
					}
				}
				if line["upstreamRequestId"] != last.RequestID {
					t.Errorf("log line upstreamRequestId %v, want %s", line["upstreamRequestId"], last.RequestID)
				}
				if tc.outcome == "api_error" && (attrs["cdnproxy.v3_code"] != line["v3Code"] || attrs["cdnproxy.code"] != line["code"] || attrs["cdnproxy.category"] != line["category"]) {
					t.Errorf("call span %v, want the log line's code, v3Code and category: %v", attrs, line)
				}
				if len(upSpans) != s.fake.Requests() {
					t.Fatalf("%d upstream spans for %d 3.0 calls", len(upSpans), s.fake.Requests())
				}
				up := upSpans[len(upSpans)-1]
				if up.Name != "upstream PurgeUrlsCache" || up.Parent.SpanID() != callSpan.SpanContext.SpanID() || up.SpanKind != trace.SpanKindClient {
					t.Errorf("upstream span %q (%v) with parent %v, want a client span upstream PurgeUrlsCache below the call's %v", up.Name, up.SpanKind, up.Parent, callSpan.SpanContext.SpanID())
				}
				wantTraceparent(t, got["Traceparent"], clientTraceID, up.SpanContext.SpanID().String())
				if s := got["Tracestate"]; len(s) != 1 || s[0] != clientState {
					t.Errorf("3.0 upstream got tracestate %q, want the client's %q", s, clientState)
				}
			})
		}
	}
}

// BenchmarkTracing is the cost of tracing a call: BenchmarkOverhead's
// success-200B passthrough cell without a TracerProvider and with the
// SDK's, sampling every call and batching its spans to an exporter that
// drops them.
func BenchmarkTracing(b *testing.B) {
	upstream := mustURL(b, "https://cdn.api.qcloud.com")
	const target = "http://example.com/v2/index.php?Action=DescribeCdnHosts&Nonce=48213&SecretId=AKIDz8krbsJ5yKBZQpn74WFkmLPx3gnPhESA&Signature=mysignature&Timestamp=1700000000"
	tp := sdktrace.NewTracerProvider(sdktrace.WithBatcher(tracetest.NewNoopExporter()))
	b.Cleanup(func() { _ = tp.Shutdown(context.Background()) })
	for _, c := range []struct {
		name string
		tp   trace.TracerProvider
	}{{"off", nil}, {"on", tp}} {
		p, err := proxy.New(proxy.Config{Upstream: upstream, Transport: memoryTransport{benchSuccess200}, TracerProvider: c.tp,
			Logger: slog.New(slog.NewJSONHandler(io.Discard, &slog.HandlerOptions{Level: slog.LevelInfo}))})
		if err != nil {
			b.Fatal(err)
		}
		cell := overheadCell{body: "success-200B", proxy: c.name, h: p, target: target, size: len(benchSuccess200)}
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				cell.serve(b)
			}
		})
	}
}
