package main

import (
	"encoding/hex"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"

	coltracepb "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	tracepb "go.opentelemetry.io/proto/otlp/trace/v1"
	"google.golang.org/protobuf/proto"
)

// TestTraceEndpoint: which OTEL_* variables turn tracing on, where the
// spans go, and that a value cdnproxy cannot use fails at start naming
// its variable.
func TestTraceEndpoint(t *testing.T) {
	for _, tc := range []struct {
		name    string
		vars    map[string]string
		want    string // the URL spans are posted to; "" for off
		wantErr string // the variable the error names
	}{
		{"nothing set", nil, "", ""},
		{"base endpoint", map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4318"}, "http://collector:4318/v1/traces", ""},
		{"base endpoint with a path", map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "https://otel.example/prefix/"}, "https://otel.example/prefix/v1/traces", ""},
		{"traces endpoint as it is", map[string]string{"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "https://otel.example/custom"}, "https://otel.example/custom", ""},
		{"traces endpoint wins", map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://a:4318", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "http://b:4318/v1/traces"}, "http://b:4318/v1/traces", ""},
		{"http/protobuf", map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://a:4318", "OTEL_EXPORTER_OTLP_PROTOCOL": "http/protobuf"}, "http://a:4318/v1/traces", ""},
		{"SDK disabled", map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://a:4318", "OTEL_SDK_DISABLED": "true"}, "", ""},
		{"exporter none", map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://a:4318", "OTEL_TRACES_EXPORTER": "none"}, "", ""},
		{"exporter otlp", map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://a:4318", "OTEL_TRACES_EXPORTER": "otlp"}, "http://a:4318/v1/traces", ""},
		{"exporter zipkin", map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://a:4318", "OTEL_TRACES_EXPORTER": "zipkin"}, "", "OTEL_TRACES_EXPORTER"},
		{"grpc", map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://a:4317", "OTEL_EXPORTER_OTLP_PROTOCOL": "grpc"}, "", "OTEL_EXPORTER_OTLP_PROTOCOL"},
		{"traces protocol decides", map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://a:4318", "OTEL_EXPORTER_OTLP_PROTOCOL": "grpc", "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL": "http/protobuf"}, "http://a:4318/v1/traces", ""},
		{"http/json", map[string]string{"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "http://a:4318/v1/traces", "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL": "http/json"}, "", "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL"},
		{"no scheme", map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "collector:4318"}, "", "OTEL_EXPORTER_OTLP_ENDPOINT"},
		{"query", map[string]string{"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "http://a:4318/v1/traces?x=1"}, "", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			u, err := traceEndpoint(tc.vars)
			switch {
			case tc.wantErr != "":
				if err == nil || !strings.HasPrefix(err.Error(), tc.wantErr+":") {
					t.Errorf("error %v, want one naming %s", err, tc.wantErr)
				}
			case err != nil:
				t.Errorf("error %v, want none", err)
			case tc.want == "" && u != nil:
				t.Errorf("spans go to %s, want tracing off", u)
			case tc.want != "" && (u == nil || u.String() != tc.want):
				t.Errorf("spans go to %v, want %s", u, tc.want)
			}
		})
	}
}

// TestBadTraceEndpointStops: cdnproxy does not start with an endpoint it
// cannot send to, and says which variable is wrong.
func TestBadTraceEndpointStops(t *testing.T) {
	err := run(t.Context(), nil, []string{"OTEL_EXPORTER_OTLP_ENDPOINT=collector:4318"}, strings.NewReader(""), io.Discard, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "OTEL_EXPORTER_OTLP_ENDPOINT") {
		t.Errorf("run = %v, want an error naming OTEL_EXPORTER_OTLP_ENDPOINT", err)
	}
}

// TestHelpNamesTraceVariables: -h says which variables turn tracing on.
func TestHelpNamesTraceVariables(t *testing.T) {
	stdout, _, err := runCommand(t, nil, "-h")
	if err != nil || !strings.Contains(string(stdout), "OTEL_EXPORTER_OTLP_ENDPOINT") || !strings.Contains(string(stdout), "docs/tracing.md") {
		t.Errorf("cdnproxy -h (%v) names neither OTEL_EXPORTER_OTLP_ENDPOINT nor docs/tracing.md:\n%s", err, stdout)
	}
}

// TestTraceEndpointPassword: an endpoint's password stays out of the
// error that names it.
func TestTraceEndpointPassword(t *testing.T) {
	_, err := traceEndpoint(map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "ftp://user:s3cret@collector:4318"})
	if err == nil || strings.Contains(err.Error(), "s3cret") {
		t.Errorf("error %v, want one without the password", err)
	}
}

// otlpReceiver is an in-process OTLP/HTTP trace receiver: it keeps what
// is posted to /v1/traces.
type otlpReceiver struct {
	mu       sync.Mutex
	requests []*coltracepb.ExportTraceServiceRequest
	errs     []string
}

func (o *otlpReceiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	o.mu.Lock()
	defer o.mu.Unlock()
	if r.Method != http.MethodPost || r.URL.Path != "/v1/traces" || r.Header.Get("Content-Type") != "application/x-protobuf" || err != nil {
		o.errs = append(o.errs, r.Method+" "+r.URL.Path+" "+r.Header.Get("Content-Type"))
		http.Error(w, "not an OTLP/HTTP protobuf trace export", http.StatusBadRequest)
		return
	}
	req := &coltracepb.ExportTraceServiceRequest{}
	if err := proto.Unmarshal(body, req); err != nil {
		o.errs = append(o.errs, "undecodable body: "+err.Error())
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	o.requests = append(o.requests, req)
	w.Header().Set("Content-Type", "application/x-protobuf")
	out, _ := proto.Marshal(&coltracepb.ExportTraceServiceResponse{})
	w.Write(out)
}

// spans returns every span received, with its resource's service.name.
func (o *otlpReceiver) spans() (spans []*tracepb.Span, services []string, errs []string) {
	o.mu.Lock()
	defer o.mu.Unlock()
	for _, req := range o.requests {
		for _, rs := range req.ResourceSpans {
			for _, kv := range rs.GetResource().GetAttributes() {
				if kv.Key == "service.name" {
					services = append(services, kv.GetValue().GetStringValue())
				}
			}
			for _, ss := range rs.ScopeSpans {
				spans = append(spans, ss.Spans...)
			}
		}
	}
	return spans, services, append([]string(nil), o.errs...)
}

// TestTracesExported runs cdnproxy with OTEL_EXPORTER_OTLP_ENDPOINT set to
// an in-process OTLP receiver: a failed call made in a client's trace is
// exported, when cdnproxy stops, as the call's span below the client's and
// the upstream exchange's below it, and its log line names the trace.
func TestTracesExported(t *testing.T) {
	const traceID, parentID = "4bf92f3577b34da6a3ce929d0e0e4736", "00f067aa0ba902b7"
	receiver := &otlpReceiver{}
	collector := httptest.NewServer(receiver)
	t.Cleanup(collector.Close)
	api, _ := newFakeAPI(t)
	in := start(t, api.URL, "OTEL_EXPORTER_OTLP_ENDPOINT="+collector.URL, "OTEL_SERVICE_NAME=cdnproxy-under-test")

	q := url.Values{"Action": {"OnlineHost"}, "SecretId": {"AKIDexample0000000000000000"}, "Nonce": {"1"}, "Timestamp": {"1700000000"}, "Signature": {"x"}}
	req, err := http.NewRequest(http.MethodGet, "http://"+in.api+"/v2/index.php?"+q.Encode(), nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Traceparent", "00-"+traceID+"-"+parentID+"-01")
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	line := waitForLog(t, in.stdout, "the failed call's line", func(l map[string]any) bool { return l["msg"] == "call failed" })
	if line["traceId"] != traceID {
		t.Errorf("log line traceId = %v, want the client's %s", line["traceId"], traceID)
	}
	if err := in.stop(t); err != nil {
		t.Fatalf("run: %v", err)
	}

	spans, services, errs := receiver.spans()
	if len(errs) != 0 {
		t.Errorf("the receiver refused exports: %v", errs)
	}
	for _, s := range services {
		if s != "cdnproxy-under-test" {
			t.Errorf("resource service.name %q, want OTEL_SERVICE_NAME's", s)
		}
	}
	byName := map[string]*tracepb.Span{}
	for _, s := range spans {
		byName[s.Name] = s
	}
	callSpan, upSpan := byName["cdnproxy OnlineHost"], byName["upstream OnlineHost"]
	if callSpan == nil || upSpan == nil || len(spans) != 2 {
		t.Fatalf("received spans %v, want the call's and the upstream exchange's", spans)
	}
	if hex.EncodeToString(callSpan.TraceId) != traceID || hex.EncodeToString(callSpan.ParentSpanId) != parentID {
		t.Errorf("call span in trace %x below %x, want %s below %s", callSpan.TraceId, callSpan.ParentSpanId, traceID, parentID)
	}
	if string(upSpan.ParentSpanId) != string(callSpan.SpanId) || callSpan.Kind != tracepb.Span_SPAN_KIND_SERVER || upSpan.Kind != tracepb.Span_SPAN_KIND_CLIENT {
		t.Errorf("upstream span (%v) below %x, want a client span below the call's server span (%v) %x", upSpan.Kind, upSpan.ParentSpanId, callSpan.Kind, callSpan.SpanId)
	}
	attrs := map[string]string{}
	for _, kv := range callSpan.Attributes {
		attrs[kv.Key] = kv.GetValue().GetStringValue()
	}
	if attrs["cdnproxy.outcome"] != "api_error" || attrs["cdnproxy.action"] != "OnlineHost" || attrs["cdnproxy.category"] != line["category"] {
		t.Errorf("call span attributes %v, want outcome api_error, action OnlineHost and the log line's category %v", attrs, line["category"])
	}
}
