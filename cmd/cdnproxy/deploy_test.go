package main

import (
	"encoding/json"
	"maps"
	"net/http"
	"os"
	"regexp"
	"slices"
	"testing"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"gopkg.in/yaml.v3"
)

// liveMetricNames starts cdnproxy twice and returns every metric name
// their /metrics serve (a histogram's _bucket, _sum and _count too). The
// first, as configured by default, gets a failed and a successful API 2.0
// call so that the labelled series exist; the second runs with the limits
// on (which export their metrics only then) and the 2.0 bridge, and gets a
// 2.0 call the bridge does not translate, the one way to make
// cdnproxy_bridge_unsupported_total hold a series.
func liveMetricNames(t *testing.T) map[string]bool {
	t.Helper()
	upstream, _ := newFakeAPI(t)
	in := start(t, upstream.URL)
	call(t, in, "OnlineHost")
	call(t, in, "DescribeCdnHosts")
	names := servedMetricNames(t, in)

	limited := start(t, upstream.URL, "CDNPROXY_LIMITS=on", "CDNPROXY_V2_BRIDGE=on", "CDNPROXY_UPSTREAM_V3_URL="+upstream.URL,
		"CDNPROXY_SIGNING=sign", "CDNPROXY_SECRET_ID=AKIDexample0000000000000000", "CDNPROXY_SECRET_KEY=k")
	// Unsigned: sign mode signs it, and the bridge answers it itself.
	resp, err := client.Get("http://" + limited.api + "/v2/index.php?Action=NoSuchAction")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	maps.Copy(names, servedMetricNames(t, limited))
	return names
}

// servedMetricNames returns every metric name an instance's /metrics
// serves.
func servedMetricNames(t *testing.T, in *instance) map[string]bool {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, "http://"+in.admin+"/metrics", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Accept", "text/plain; version=0.0.4")
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	parser := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := parser.TextToMetricFamilies(resp.Body)
	if err != nil {
		t.Fatalf("parsing /metrics: %v", err)
	}
	names := make(map[string]bool)
	for name, f := range fams {
		names[name] = true
		switch f.GetType() {
		case dto.MetricType_HISTOGRAM:
			names[name+"_bucket"], names[name+"_sum"], names[name+"_count"] = true, true, true
		case dto.MetricType_SUMMARY:
			names[name+"_sum"], names[name+"_count"] = true, true
		}
	}
	return names
}

// Metric names in a PromQL expression: every name with the proxy's or the
// Go client's prefixes, and every identifier that a selector's { or [
// follows (functions are followed by "(", label names by "=", "," or ")").
var (
	prefixedName = regexp.MustCompile(`\b(?:cdnproxy|go|process|promhttp)_[a-zA-Z0-9_:]*`)
	selectorName = regexp.MustCompile(`([a-zA-Z_:][a-zA-Z0-9_:]*)\s*[{\[]`)
)

// metricNames returns the metric names an expression reads.
func metricNames(expr string) []string {
	out := prefixedName.FindAllString(expr, -1)
	for _, m := range selectorName.FindAllStringSubmatch(expr, -1) {
		out = append(out, m[1])
	}
	slices.Sort(out)
	return slices.Compact(out)
}

func TestMetricNames(t *testing.T) {
	for expr, want := range map[string][]string{
		`sum by (le) (rate(cdnproxy_upstream_duration_seconds_bucket{instance=~"$instance"}[$__rate_interval]))`: {"cdnproxy_upstream_duration_seconds_bucket"},
		`absent(cdnproxy_in_flight)`:                  {"cdnproxy_in_flight"},
		`rate(cdnprxy_calls_total[5m]) / up{job="x"}`: {"cdnprxy_calls_total", "up"},
		`label_values(cdnproxy_in_flight, instance)`:  {"cdnproxy_in_flight"},
	} {
		if got := metricNames(expr); !slices.Equal(got, want) {
			t.Errorf("metricNames(%s) = %v, want %v", expr, got, want)
		}
	}
}

// deployExpressions returns every PromQL expression the shipped
// dashboard and alerting rules hold, by where they are.
func deployExpressions(t *testing.T) map[string]string {
	t.Helper()
	exprs := make(map[string]string)

	raw, err := os.ReadFile("../../deploy/grafana/cdnproxy.json")
	if err != nil {
		t.Fatal(err)
	}
	var dash struct {
		Panels []struct {
			Title   string `json:"title"`
			Targets []struct {
				RefID string `json:"refId"`
				Expr  string `json:"expr"`
			} `json:"targets"`
		} `json:"panels"`
		Templating struct {
			List []struct {
				Name       string `json:"name"`
				Type       string `json:"type"`
				Definition string `json:"definition"`
			} `json:"list"`
		} `json:"templating"`
	}
	if err := json.Unmarshal(raw, &dash); err != nil {
		t.Fatalf("the dashboard: %v", err)
	}
	for _, p := range dash.Panels {
		if len(p.Targets) == 0 {
			t.Errorf("dashboard panel %q has no query", p.Title)
		}
		for _, tg := range p.Targets {
			exprs["dashboard panel "+p.Title+" "+tg.RefID] = tg.Expr
		}
	}
	for _, v := range dash.Templating.List {
		if v.Type == "query" {
			exprs["dashboard variable "+v.Name] = v.Definition
		}
	}

	raw, err = os.ReadFile("../../deploy/prometheus/cdnproxy.rules.yml")
	if err != nil {
		t.Fatal(err)
	}
	var rules struct {
		Groups []struct {
			Rules []struct {
				Alert string `yaml:"alert"`
				Expr  string `yaml:"expr"`
			} `yaml:"rules"`
		} `yaml:"groups"`
	}
	if err := yaml.Unmarshal(raw, &rules); err != nil {
		t.Fatalf("the rules: %v", err)
	}
	for _, g := range rules.Groups {
		for _, r := range g.Rules {
			exprs["alert "+r.Alert] = r.Expr
		}
	}
	return exprs
}

// TestDeployMetricsExist checks that every query of the shipped dashboard
// and alerting rules names only metrics a running cdnproxy exports.
func TestDeployMetricsExist(t *testing.T) {
	live := liveMetricNames(t)
	exprs := deployExpressions(t)
	if len(exprs) < 10 {
		t.Fatalf("only %d expressions found in deploy/", len(exprs))
	}
	for where, expr := range exprs {
		names := metricNames(expr)
		if len(names) == 0 {
			t.Errorf("%s names no metric: %s", where, expr)
		}
		for _, n := range names {
			if !live[n] {
				t.Errorf("%s names %s, which /metrics does not serve", where, n)
			}
		}
	}
}
