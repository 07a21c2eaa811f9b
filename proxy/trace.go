package proxy

import (
	"context"
	"io"
	"net/http"
	"strings"

	"go.opentelemetry.io/otel/attribute"
	otelcodes "go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"
)

// Tracing (Config.TracerProvider). Each call is a server span, child of
// the client's W3C traceparent when it sent one; each upstream exchange
// (the forwarded call, or each 3.0 call the bridge makes) is a client span
// below it, whose context goes upstream in traceparent and tracestate.
// The call's span gets its attributes from the call record when the call
// ends (finish, log.go), and the failed call's log line its trace id.
//
// Without a TracerProvider nothing here runs: the client's traceparent
// and tracestate go upstream as the client sent them (the bridge copies
// them onto its 3.0 calls), and a call costs nothing more.

// The only propagation the proxy speaks is W3C Trace Context.

// tracerName names the proxy's spans' instrumentation scope.
const tracerName = "github.com/cdnproxy/cdnproxy/proxy"

// traced returns the tracer of a Proxy built with tp, and the transport
// that makes each upstream exchange a span; with a nil tp, no tracer and
// transport itself.
func traced(tp trace.TracerProvider, transport http.RoundTripper) (trace.Tracer, http.RoundTripper) {
	if tp == nil {
		return nil, transport
	}
	tracer := tp.Tracer(tracerName)
	return tracer, &tracingTransport{next: transport, tracer: tracer}
}

// traceCall starts the call's span, child of the trace context the client
// sent, and returns the context for the rest of the call, which ServeHTTP
// keeps as the call's clientCtx (a context canceled with the client's, so
// that the call record grows by nothing). Without a tracer it returns r's
// context.
func (p *Proxy) traceCall(r *http.Request, c *call) context.Context {
	if p.tracer == nil {
		return r.Context()
	}
	ctx := propagation.TraceContext{}.Extract(r.Context(), propagation.HeaderCarrier(r.Header))
	ctx, _ = p.tracer.Start(ctx, "cdnproxy", trace.WithSpanKind(trace.SpanKindServer),
		trace.WithTimestamp(c.start), trace.WithAttributes(attribute.String("http.request.method", c.method)))
	return ctx
}

// span is the call's span, or nil when the proxy does not trace.
func (p *Proxy) span(c *call) trace.Span {
	if p.tracer == nil || c.clientCtx == nil {
		return nil
	}
	return trace.SpanFromContext(c.clientCtx)
}

// endSpan records how the call ended on its span and ends it: the same
// facts as the log line, whose texts t are. The span is named after the
// action, when it is one the proxy knows (a client cannot make names up).
func (p *Proxy) endSpan(c *call, t *callTexts) {
	span := p.span(c)
	if span == nil {
		return
	}
	span.SetName("cdnproxy " + actionLabel(c.action))
	// The texts may point into the request; the span outlives it until
	// it is exported.
	attrs := make([]attribute.KeyValue, 0, 12)
	attrs = append(attrs,
		attribute.String("cdnproxy.request_id", strings.Clone(t.id)),
		attribute.String("cdnproxy.action", strings.Clone(t.action)),
		attribute.String("cdnproxy.api", c.apiLabel()),
		attribute.String("cdnproxy.outcome", string(c.outcome)),
		attribute.Int("http.response.status_code", c.status),
		attribute.Int("cdnproxy.upstream.status", c.upstream.status),
	)
	if c.successor != "" {
		attrs = append(attrs, attribute.String("cdnproxy.successor", c.successor))
	}
	if t.upstreamID != "" {
		attrs = append(attrs, attribute.String("cdnproxy.upstream.request_id", strings.Clone(t.upstreamID)))
	}
	if c.outcome.failed() {
		attrs = append(attrs,
			attribute.String("cdnproxy.code", strings.Clone(t.code)),
			attribute.String("cdnproxy.category", string(c.result.Category)),
			attribute.Bool("cdnproxy.retryable", c.result.Retryable),
		)
		if t.v3Code != "" {
			attrs = append(attrs, attribute.String("cdnproxy.v3_code", strings.Clone(t.v3Code)))
		}
		span.SetStatus(otelcodes.Error, strings.Clone(t.code)+" ("+string(c.result.Category)+")")
	}
	span.SetAttributes(attrs...)
	span.End()
}

// traceID is the call's trace id for its log line, or "" when the call
// has no span.
func (p *Proxy) traceID(c *call) string {
	span := p.span(c)
	if span == nil {
		return ""
	}
	if sc := span.SpanContext(); sc.HasTraceID() {
		return sc.TraceID().String()
	}
	return ""
}

// clientTraceKey is the context key of the trace context headers a client
// sent, for the bridge's 3.0 calls when the proxy traces nothing itself.
type clientTraceKey struct{}

// clientTrace returns the context a bridged call's 3.0 calls are made in:
// r's, carrying r's traceparent and tracestate when the proxy traces
// nothing itself and the client sent a traceparent, so that each 3.0 call
// passes them on (passClientTrace). A call that sends none costs nothing.
func (p *Proxy) clientTrace(r *http.Request) context.Context {
	ctx := r.Context()
	if p.tracer != nil {
		return ctx // the tracing transport sends the upstream span's
	}
	if _, ok := r.Header["Traceparent"]; !ok {
		return ctx
	}
	return context.WithValue(ctx, clientTraceKey{}, r.Header)
}

// passClientTrace puts the traceparent and tracestate that clientTrace
// kept in ctx, as they came, on a request the bridge makes.
func passClientTrace(ctx context.Context, dst http.Header) {
	client, _ := ctx.Value(clientTraceKey{}).(http.Header)
	for _, k := range [...]string{"Traceparent", "Tracestate"} {
		if v, ok := client[k]; ok {
			dst[k] = v
		}
	}
}

// tracingTransport makes each upstream exchange a client span, child of
// the call's, and sends its trace context upstream in place of the
// client's. The span ends when the answer's body is closed, or when the
// exchange fails.
type tracingTransport struct {
	next   http.RoundTripper
	tracer trace.Tracer
}

// RoundTrip sends a copy of req that carries the span's trace context.
// No URL is recorded: an API 2.0 query holds the call's Signature.
func (t *tracingTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	action := req.Header.Get("X-Tc-Action") // a 3.0 call's, the bridge's included
	if action == "" {
		action = callFrom(req.Context()).action
	}
	ctx, span := t.tracer.Start(req.Context(), "upstream "+actionLabel(action), trace.WithSpanKind(trace.SpanKindClient),
		trace.WithAttributes(
			attribute.String("http.request.method", req.Method),
			attribute.String("server.address", req.URL.Hostname()),
			attribute.String("url.path", strings.Clone(cut(req.URL.Path))),
			attribute.String("cdnproxy.action", strings.Clone(cut(action))),
		))
	out := req.Clone(ctx)
	delete(out.Header, "Tracestate") // the client's, for a traceparent it may not belong to
	propagation.TraceContext{}.Inject(ctx, propagation.HeaderCarrier(out.Header))
	resp, err := t.next.RoundTrip(out)
	if err != nil {
		span.SetStatus(otelcodes.Error, safeError(err))
		span.End()
		return nil, err
	}
	span.SetAttributes(attribute.Int("http.response.status_code", resp.StatusCode))
	if resp.StatusCode >= 500 {
		span.SetStatus(otelcodes.Error, resp.Status)
	}
	if resp.Body == nil || resp.Body == http.NoBody {
		span.End()
		return resp, nil
	}
	resp.Body = &spanBody{ReadCloser: resp.Body, span: span}
	return resp, nil
}

// spanBody is an upstream answer's body, which ends the exchange's span
// when it is closed.
type spanBody struct {
	io.ReadCloser
	span trace.Span
}

// Close closes the body and ends the span (once).
func (b *spanBody) Close() error {
	err := b.ReadCloser.Close()
	if b.span != nil {
		b.span.End()
		b.span = nil
	}
	return err
}
