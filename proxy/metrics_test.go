package proxy

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"math"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// The helpers of this file are shared by metrics_test.go, failures_test.go
// and log_test.go; their names start with obs to keep clear of other
// tests in the package.

// obsUpstream is an API 2.0 stand-in answering by Action:
//
//	RefreshCdnUrl     the API's 9112 error (module code in the catalogue)
//	GetCdnRefreshLog  4000 with module code 777777 (not in the catalogue)
//	GetCdnLogList     an HTML page, not an API result
//	OnlineHost,
//	OfflineHost       nothing: it signals arrived and waits until the
//	                  proxy gives up the exchange
//	anything else     success, or with Answer=hostile an error whose
//	                  message carries markup, quotes, line breaks and an
//	                  ANSI escape
type obsUpstream struct {
	*httptest.Server
	arrived chan string // the Action of each call that waits
}

// hostileMessage is the message of Answer=hostile errors, as text.
const hostileMessage = "(9112)<img src=x onerror=alert(1)> \"q\" it's\nlevel=ERROR msg=forged\r\x1b[31mred\x1b[0m"

func newObsUpstream(t *testing.T) *obsUpstream {
	t.Helper()
	u := &obsUpstream{arrived: make(chan string, 16)}
	u.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		action := r.FormValue("Action")
		switch {
		case action == "RefreshCdnUrl":
			obsJSON(w, `{"code":4000,"message":"(9112)操作域名需要为【开启中】状态","codeDesc":"InvalidParameter"}`)
		case action == "GetCdnRefreshLog":
			obsJSON(w, `{"code":4000,"message":"(777777)x","codeDesc":"InvalidParameter"}`)
		case action == "GetCdnLogList":
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			_, _ = io.WriteString(w, "<!doctype html><html><body><h1>502 Bad Gateway</h1></body></html>\n")
		case action == "OnlineHost" || action == "OfflineHost":
			u.arrived <- action
			<-r.Context().Done()
		case r.FormValue("Answer") == "hostile":
			obsJSON(w, `{"code":4000,"message":"(9112)<img src=x onerror=alert(1)> \"q\" it's\nlevel=ERROR msg=forged\r\u001b[31mred\u001b[0m","codeDesc":"InvalidParameter"}`)
		default:
			obsJSON(w, `{"code":0,"message":"","codeDesc":"Success","data":{}}`)
		}
	}))
	t.Cleanup(u.Close)
	return u
}

func obsJSON(w http.ResponseWriter, body string) {
	w.Header().Set("Content-Type", "application/json")
	_, _ = io.WriteString(w, body)
}

// obsURL parses s or fails the test.
func obsURL(t testing.TB, s string) *url.URL {
	t.Helper()
	u, err := url.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// obsClosedURL is the URL of a port nothing listens on.
func obsClosedURL(t *testing.T) *url.URL {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return obsURL(t, "http://"+addr)
}

// obsFinished is a slog.Handler that reports each call's log line on a
// channel. finish writes the line after the metrics and the failures
// record, so a received line means the call is fully counted: tests wait
// for lines instead of sleeping.
type obsFinished struct{ lines chan slog.Record }

func newObsFinished() *obsFinished { return &obsFinished{lines: make(chan slog.Record, 1024)} }

func (h *obsFinished) Enabled(context.Context, slog.Level) bool { return true }

func (h *obsFinished) Handle(_ context.Context, r slog.Record) error {
	switch r.Message {
	case "call", "call failed", "client hung up":
		h.lines <- r.Clone()
	}
	return nil
}

func (h *obsFinished) WithAttrs([]slog.Attr) slog.Handler { return h }
func (h *obsFinished) WithGroup(string) slog.Handler      { return h }

// wait returns once n more calls have finished. The deadline only keeps a
// broken test from hanging; it asserts nothing about timing.
func (h *obsFinished) wait(t *testing.T, n int) {
	t.Helper()
	deadline := time.After(30 * time.Second)
	for i := range n {
		select {
		case <-h.lines:
		case <-deadline:
			t.Fatalf("only %d of %d calls finished", i, n)
		}
	}
}

// obsNew builds a proxy or fails the test.
func obsNew(t testing.TB, cfg Config) *Proxy {
	t.Helper()
	p, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// obsScrape fetches /metrics from the admin listener and parses it.
func obsScrape(t *testing.T, adminURL string) map[string]*dto.MetricFamily {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, adminURL+"/metrics", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Accept", "text/plain; version=0.0.4")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /metrics: %s", resp.Status)
	}
	parser := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := parser.TextToMetricFamilies(resp.Body)
	if err != nil {
		t.Fatalf("parsing /metrics: %v", err)
	}
	return fams
}

// obsSeries maps each series of a family ("k=v,k=v", labels sorted) to
// its value: counter, gauge, or a histogram's sample count.
func obsSeries(fams map[string]*dto.MetricFamily, name string) map[string]float64 {
	out := make(map[string]float64)
	fam, ok := fams[name]
	if !ok {
		return out
	}
	for _, m := range fam.GetMetric() {
		var labels []string
		for _, l := range m.GetLabel() {
			labels = append(labels, l.GetName()+"="+l.GetValue())
		}
		sort.Strings(labels)
		var v float64
		switch {
		case m.Counter != nil:
			v = m.GetCounter().GetValue()
		case m.Gauge != nil:
			v = m.GetGauge().GetValue()
		case m.Histogram != nil:
			v = float64(m.GetHistogram().GetSampleCount())
		}
		out[strings.Join(labels, ",")] = v
	}
	return out
}

// obsGet sends a GET through a real connection and drains the answer.
func obsGet(t *testing.T, u string) *http.Response {
	t.Helper()
	resp, err := http.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp
}

func TestActionLabel(t *testing.T) {
	if !slices.IsSorted(knownActions[:]) {
		t.Fatal("knownActions is not sorted: actionLabel's binary search needs it")
	}
	if got := len(slices.Compact(slices.Clone(knownActions[:]))); got != len(knownActions) {
		t.Fatal("knownActions has duplicates")
	}
	for _, tc := range []struct{ action, want string }{
		{"DescribeCdnHosts", "DescribeCdnHosts"},
		{"RefreshCdnUrl", "RefreshCdnUrl"},
		{"AddCdnHost", "AddCdnHost"},                 // first
		{"UploadCdnEntity", "UploadCdnEntity"},       // last
		{"describecdnhosts", "other"},                // the API's names are case-sensitive
		{"DescribeCdnHosts ", "other"},               //
		{"<script>alert(1)</script>", "other"},       //
		{"", "none"},                                 //
		{"other", "other"},                           //
		{"none", "other"},                            // a client cannot pose as "none"
		{strings.Repeat("A", 10000), "other"},        //
		{"RefreshCdnUrl\x00", "other"},               //
		{"DescribeCdnEntites", "DescribeCdnEntites"}, // the CLI's spelling
	} {
		if got := actionLabel(tc.action); got != tc.want {
			t.Errorf("actionLabel(%.40q) = %q, want %q", tc.action, got, tc.want)
		}
	}
}

// TestMetrics sends a scripted mix of calls through real proxies and
// checks every count scraped from the admin listener.
func TestMetrics(t *testing.T) {
	up := newObsUpstream(t)
	reg := prometheus.NewRegistry()
	metrics := NewMetrics(reg)
	done := newObsFinished()
	cfg := Config{Upstream: obsURL(t, up.URL), Metrics: metrics, Logger: slog.New(done)}

	main := httptest.NewServer(obsNew(t, cfg))
	t.Cleanup(main.Close)
	short := cfg // the same metrics, a timeout that the waiting upstream always hits
	short.Timeout = 50 * time.Millisecond
	timeouts := httptest.NewServer(obsNew(t, short))
	t.Cleanup(timeouts.Close)
	down := cfg
	down.Upstream = obsClosedURL(t)
	unreachable := httptest.NewServer(obsNew(t, down))
	t.Cleanup(unreachable.Close)
	admin := httptest.NewServer(Admin(AdminConfig{Metrics: promhttp.HandlerFor(reg, promhttp.HandlerOpts{})}))
	t.Cleanup(admin.Close)

	calls := []struct {
		name   string
		url    string
		post   string // form body; GET when empty
		status int
	}{
		{"success", main.URL + "/v2/index.php?Action=DescribeCdnHosts", "", 200},
		{"success", main.URL + "/v2/index.php?Action=DescribeCdnHosts&offset=1", "", 200},
		{"success form", main.URL + "/v2/index.php", "Action=DescribeCdnHosts", 200},
		{"9112", main.URL + "/v2/index.php?Action=RefreshCdnUrl&urls.0=http%3A%2F%2Fa%2F", "", 200},
		{"9112 form", main.URL + "/v2/index.php", "Action=RefreshCdnUrl", 200},
		{"unknown module code", main.URL + "/v2/index.php?Action=GetCdnRefreshLog", "", 200},
		{"html page", main.URL + "/v2/index.php?Action=GetCdnLogList", "", 200},
		{"wrong path", main.URL + "/v3/index.php?Action=DescribeCdnHosts", "", 404},
		{"timeout", timeouts.URL + "/v2/index.php?Action=OnlineHost", "", 504},
		{"unreachable", unreachable.URL + "/v2/index.php?Action=GetCdnIps", "", 502},
	}
	for _, c := range calls {
		var resp *http.Response
		if c.post == "" {
			resp = obsGet(t, c.url)
		} else {
			r, err := http.Post(c.url, "application/x-www-form-urlencoded", strings.NewReader(c.post))
			if err != nil {
				t.Fatal(err)
			}
			_, _ = io.Copy(io.Discard, r.Body)
			r.Body.Close()
			resp = r
		}
		if resp.StatusCode != c.status {
			t.Errorf("%s: status %d, want %d", c.name, resp.StatusCode, c.status)
		}
		done.wait(t, 1)
	}

	// A client that hangs up while the upstream works on its call.
	ctx, cancel := context.WithCancel(context.Background())
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, main.URL+"/v2/index.php?Action=OfflineHost", nil)
	if err != nil {
		t.Fatal(err)
	}
	errc := make(chan error, 1)
	go func() {
		resp, err := http.DefaultClient.Do(req)
		if err == nil {
			resp.Body.Close()
		}
		errc <- err
	}()
	for got := range up.arrived { // the timeout call's OnlineHost came first
		if got == "OfflineHost" {
			break
		}
	}
	cancel()
	if err := <-errc; !errors.Is(err, context.Canceled) {
		t.Fatalf("hang-up: client error %v, want context.Canceled", err)
	}
	done.wait(t, 1)

	fams := obsScrape(t, admin.URL)
	check := func(name string, want map[string]float64) {
		t.Helper()
		got := obsSeries(fams, name)
		if !equalSeries(got, want) {
			t.Errorf("%s:\n got %v\nwant %v", name, got, want)
		}
		if fam := fams[name]; fam == nil || !strings.Contains(fam.GetHelp(), " ") {
			t.Errorf("%s has no help text", name)
		}
	}
	check("cdnproxy_calls_total", map[string]float64{
		"action=DescribeCdnHosts,category=none,outcome=success,retryable=false":                 3,
		"action=RefreshCdnUrl,category=invalid_state,outcome=api_error,retryable=false":         2,
		"action=GetCdnRefreshLog,category=invalid_parameter,outcome=api_error,retryable=false":  1,
		"action=GetCdnLogList,category=none,outcome=passthrough,retryable=false":                1,
		"action=none,category=invalid_parameter,outcome=refused,retryable=false":                1,
		"action=OnlineHost,category=upstream_unreachable,outcome=upstream_error,retryable=true": 1,
		"action=GetCdnIps,category=upstream_unreachable,outcome=upstream_error,retryable=true":  1,
		"action=OfflineHost,category=none,outcome=client_gone,retryable=false":                  1,
	})
	check("cdnproxy_responses_total", map[string]float64{
		"result=annotated":      2,
		"result=unknown_code":   1,
		"result=passed_through": 4,
	})
	check("cdnproxy_client_hangups_total", map[string]float64{"": 1})
	check("cdnproxy_upstream_failures_total", map[string]float64{"reason=timeout": 1, "reason=unreachable": 1})
	check("cdnproxy_in_flight", map[string]float64{"": 0})
	check("cdnproxy_upstream_duration_seconds", map[string]float64{
		"outcome=success":        3,
		"outcome=api_error":      3,
		"outcome=passthrough":    1,
		"outcome=upstream_error": 2,
	})
	if fam := fams["cdnproxy_upstream_duration_seconds"]; fam != nil {
		buckets := fam.GetMetric()[0].GetHistogram().GetBucket()
		var bounds []float64
		for _, b := range buckets {
			if !math.IsInf(b.GetUpperBound(), 1) {
				bounds = append(bounds, b.GetUpperBound())
			}
		}
		if lo, hi := bounds[0], bounds[len(bounds)-1]; lo != 0.005 || hi != 30 {
			t.Errorf("histogram buckets span %v..%v s, want 0.005..30", lo, hi)
		}
	}
}

func equalSeries(a, b map[string]float64) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}

// TestMetricsInFlight checks the gauge while a call waits upstream.
func TestMetricsInFlight(t *testing.T) {
	up := newObsUpstream(t)
	reg := prometheus.NewRegistry()
	done := newObsFinished()
	front := httptest.NewServer(obsNew(t, Config{Upstream: obsURL(t, up.URL), Metrics: NewMetrics(reg), Logger: slog.New(done)}))
	t.Cleanup(front.Close)
	admin := httptest.NewServer(Admin(AdminConfig{Metrics: promhttp.HandlerFor(reg, promhttp.HandlerOpts{})}))
	t.Cleanup(admin.Close)

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, front.URL+"/v2/index.php?Action=OfflineHost", nil)
	go func() {
		if resp, err := http.DefaultClient.Do(req); err == nil {
			resp.Body.Close()
		}
	}()
	<-up.arrived
	if got := obsSeries(obsScrape(t, admin.URL), "cdnproxy_in_flight")[""]; got != 1 {
		t.Errorf("in flight while a call waits = %v, want 1", got)
	}
	cancel()
	done.wait(t, 1)
	if got := obsSeries(obsScrape(t, admin.URL), "cdnproxy_in_flight")[""]; got != 0 {
		t.Errorf("in flight after the call = %v, want 0", got)
	}
}

// TestMetricsCardinality sends random action names: the action label
// keeps to the known actions, "other" and "none".
func TestMetricsCardinality(t *testing.T) {
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		obsJSON(w, `{"code":4000,"message":"(9112)x","codeDesc":"InvalidParameter"}`)
	}))
	t.Cleanup(up.Close)
	reg := prometheus.NewRegistry()
	p := obsNew(t, Config{Upstream: obsURL(t, up.URL), Metrics: NewMetrics(reg)})
	admin := httptest.NewServer(Admin(AdminConfig{Metrics: promhttp.HandlerFor(reg, promhttp.HandlerOpts{})}))
	t.Cleanup(admin.Close)

	rng := rand.New(rand.NewPCG(4, 2))
	const n = 500
	for i := range n {
		var action string
		switch i % 10 {
		case 0:
			action = knownActions[rng.IntN(len(knownActions))]
		case 1:
			action = strings.ToLower(knownActions[rng.IntN(len(knownActions))])
		default:
			b := make([]byte, 1+rng.IntN(40))
			for j := range b {
				b[j] = byte(rng.IntN(256))
			}
			action = string(b)
		}
		// ServeHTTP returns after finish: the call is counted.
		p.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodGet, "/v2/index.php?Action="+url.QueryEscape(action), nil))
	}

	series := obsSeries(obsScrape(t, admin.URL), "cdnproxy_calls_total")
	actions := make(map[string]bool)
	var total float64
	for labels, v := range series {
		total += v
		for _, l := range strings.Split(labels, ",") {
			if a, ok := strings.CutPrefix(l, "action="); ok {
				actions[a] = true
			}
		}
	}
	if total != n {
		t.Errorf("calls counted = %v, want %d", total, n)
	}
	if max := len(knownActions) + 2; len(actions) > max {
		t.Errorf("%d distinct action labels, want at most %d", len(actions), max)
	}
	for a := range actions {
		if a != "other" && a != "none" && actionLabel(a) != a {
			t.Errorf("action label %q is not a known action", a)
		}
	}
	if !actions["other"] {
		t.Error(`random names were not counted as "other"`)
	}
}

// TestAdminRoutes checks which routes exist with and without metrics and
// failures.
func TestAdminRoutes(t *testing.T) {
	reg := prometheus.NewRegistry()
	NewMetrics(reg)
	full := Admin(AdminConfig{Metrics: promhttp.HandlerFor(reg, promhttp.HandlerOpts{}), Failures: NewFailures(10, nil)})
	bare := Admin(AdminConfig{})
	for _, tc := range []struct {
		path       string
		full, bare int
	}{
		{"/healthz", 200, 200},
		{"/readyz", 200, 200},
		{"/metrics", 200, 404},
		{"/failures", 200, 404},
		{"/failures.json", 200, 404},
		{"/", 200, 404},
		{"/nothing", 404, 404},
	} {
		for _, h := range []struct {
			name    string
			handler http.Handler
			want    int
		}{{"full", full, tc.full}, {"bare", bare, tc.bare}} {
			rec := httptest.NewRecorder()
			h.handler.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, tc.path, nil))
			if rec.Code != h.want {
				t.Errorf("%s GET %s: %d, want %d", h.name, tc.path, rec.Code, h.want)
			}
		}
	}
}
