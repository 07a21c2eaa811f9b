package main

import (
	"context"
	"fmt"
	"log/slog"
	"net/url"
	"strings"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
)

// Traces are configured by OpenTelemetry's own variables, not by
// CDNPROXY_ ones, so that cdnproxy fits wherever the rest of a fleet is
// traced (docs/tracing.md). Tracing is on when an OTLP endpoint is set;
// cdnproxy reads the endpoint, protocol, exporter, service name and
// OTEL_SDK_DISABLED here, and leaves the others (headers, timeout,
// compression, certificates, sampler, resource attributes, batching) to
// the SDK, which reads them from the process environment.

// traceHelp ends `cdnproxy -h`.
const traceHelp = `
Traces (OpenTelemetry's own variables, not CDNPROXY_ ones; see docs/tracing.md):
  OTEL_EXPORTER_OTLP_ENDPOINT or OTEL_EXPORTER_OTLP_TRACES_ENDPOINT set: each call is a span
  exported over OTLP/HTTP (protobuf); OTEL_SERVICE_NAME (default cdnproxy) names the service.`

// shutdownTracing bounds how long the last spans may take to export when
// cdnproxy exits.
const shutdownTracing = 10 * time.Second

// tracing is the OpenTelemetry SDK the proxy's spans are exported
// through; the zero value is tracing off.
type tracing struct {
	provider *sdktrace.TracerProvider
	endpoint *url.URL // where spans are sent
}

// tracerProvider is what proxy.Config takes: nil when tracing is off.
func (t tracing) tracerProvider() trace.TracerProvider {
	if t.provider == nil {
		return nil
	}
	return t.provider
}

// shutdown exports the spans still buffered and stops the SDK, logging
// what could not be sent.
func (t tracing) shutdown(logger *slog.Logger) {
	if t.provider == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), shutdownTracing)
	defer cancel()
	if err := t.provider.Shutdown(ctx); err != nil {
		logger.Warn("the last spans could not be exported", "endpoint", t.endpoint.Redacted(), "error", err.Error())
	}
}

// newTracing builds the SDK from environ: an OTLP/HTTP (protobuf)
// exporter to the configured endpoint, batching, and the service's
// resource. Without an endpoint, or with OTEL_SDK_DISABLED=true or
// OTEL_TRACES_EXPORTER=none, it returns tracing off and builds nothing.
func newTracing(ctx context.Context, environ []string) (tracing, error) {
	vars := make(map[string]string)
	for _, kv := range environ {
		if k, v, ok := strings.Cut(kv, "="); ok && strings.HasPrefix(k, "OTEL_") {
			vars[k] = v
		}
	}
	endpoint, err := traceEndpoint(vars)
	if endpoint == nil || err != nil {
		return tracing{}, err
	}
	exp, err := otlptracehttp.New(ctx, otlptracehttp.WithEndpointURL(endpoint.String()))
	if err != nil {
		return tracing{}, fmt.Errorf("OTLP trace exporter: %w", err)
	}
	name := vars["OTEL_SERVICE_NAME"]
	if name == "" {
		name = "cdnproxy"
	}
	// Later sources win: cdnproxy's default name, then
	// OTEL_RESOURCE_ATTRIBUTES and OTEL_SERVICE_NAME.
	res, err := resource.New(ctx,
		resource.WithAttributes(attribute.String("service.name", "cdnproxy")),
		resource.WithTelemetrySDK(),
		resource.WithFromEnv(),
		resource.WithAttributes(attribute.String("service.name", name)),
	)
	if err != nil {
		return tracing{}, fmt.Errorf("OTEL_RESOURCE_ATTRIBUTES: %w", err)
	}
	tp := sdktrace.NewTracerProvider(sdktrace.WithBatcher(exp), sdktrace.WithResource(res))
	return tracing{provider: tp, endpoint: endpoint}, nil
}

// traceEndpoint returns the URL spans are posted to, or nil when tracing
// is off. OTEL_EXPORTER_OTLP_TRACES_ENDPOINT is used as it is;
// OTEL_EXPORTER_OTLP_ENDPOINT is a base URL that /v1/traces is added to,
// as the OpenTelemetry specification says. An error names its variable.
func traceEndpoint(vars map[string]string) (*url.URL, error) {
	if strings.EqualFold(strings.TrimSpace(vars["OTEL_SDK_DISABLED"]), "true") {
		return nil, nil
	}
	switch e := strings.TrimSpace(vars["OTEL_TRACES_EXPORTER"]); e {
	case "", "otlp":
	case "none":
		return nil, nil
	default:
		return nil, fmt.Errorf("OTEL_TRACES_EXPORTER: %q is not supported; cdnproxy exports traces over OTLP (otlp) or not at all (none)", e)
	}
	name, raw := "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", vars["OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"]
	if raw == "" {
		name, raw = "OTEL_EXPORTER_OTLP_ENDPOINT", vars["OTEL_EXPORTER_OTLP_ENDPOINT"]
	}
	if raw == "" {
		return nil, nil
	}
	pname, proto := "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", vars["OTEL_EXPORTER_OTLP_TRACES_PROTOCOL"]
	if proto == "" {
		pname, proto = "OTEL_EXPORTER_OTLP_PROTOCOL", vars["OTEL_EXPORTER_OTLP_PROTOCOL"]
	}
	if proto != "" && proto != "http/protobuf" {
		return nil, fmt.Errorf("%s: %q is not supported; cdnproxy exports traces over OTLP/HTTP with protobuf (http/protobuf)", pname, proto)
	}
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
		return nil, fmt.Errorf("%s: %q is not an absolute http or https URL without query", name, redactedURL(raw))
	}
	if name == "OTEL_EXPORTER_OTLP_ENDPOINT" {
		u.Path = strings.TrimSuffix(u.Path, "/") + "/v1/traces"
		u.RawPath = ""
	}
	return u, nil
}

// redactedURL is raw with any password hidden, for an error message.
func redactedURL(raw string) string {
	if u, err := url.Parse(raw); err == nil {
		return u.Redacted()
	}
	return "(unparsable)"
}
