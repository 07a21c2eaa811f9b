package proxy

import (
	"cmp"
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/cdnproxy/cdnproxy/codes"
)

// failureFilter narrows the failures page and /failures.json to the kept
// calls of one category, code, action and API generation, from the query
// parameters of the same names. An empty field matches every call.
type failureFilter struct {
	Category string `json:"category,omitempty"`
	// Code matches the public code, the 3.0 code or the module code.
	Code   string `json:"code,omitempty"`
	Action string `json:"action,omitempty"`
	// API matches the API label ("2.0", "2.0-bridge", "3.0"); "2.0" also
	// matches the bridged 2.0 calls.
	API string `json:"api,omitempty"`
}

// filterOf reads the filter from a request's query.
func filterOf(r *http.Request) failureFilter {
	q := r.URL.Query()
	get := func(name string) string { return strings.TrimSpace(q.Get(name)) }
	return failureFilter{Category: get("category"), Code: get("code"), Action: get("action"), API: get("api")}
}

// matches reports whether a kept call passes the filter.
func (flt failureFilter) matches(e *failure) bool {
	if flt.Category != "" && e.Category != flt.Category {
		return false
	}
	if flt.Action != "" && e.Action != flt.Action {
		return false
	}
	if flt.API != "" && e.API != flt.API && !strings.HasPrefix(e.API, flt.API+"-") {
		return false
	}
	if c := flt.Code; c != "" && e.Code != c && e.V3Code != c && (!e.hasModule || strconv.Itoa(e.module) != c) {
		return false
	}
	return true
}

// query encodes the filter as a query string, fields in a fixed order.
func (flt failureFilter) query() string {
	q := url.Values{}
	for _, kv := range [...][2]string{{"category", flt.Category}, {"code", flt.Code}, {"action", flt.Action}, {"api", flt.API}} {
		if kv[1] != "" {
			q.Set(kv[0], kv[1])
		}
	}
	return q.Encode()
}

// with returns the filter with one field set (or cleared, for "").
func (flt failureFilter) with(name, value string) failureFilter {
	switch name {
	case "category":
		flt.Category = value
	case "code":
		flt.Code = value
	case "action":
		flt.Action = value
	case "api":
		flt.API = value
	}
	return flt
}

// failuresPage is what the HTML template renders: the view and its chart.
type failuresPage struct {
	failuresView
	Chart      failuresChart
	Categories []codes.Category // the choices of the category filter
	APIs       []string         // the choices of the API filter
}

func newFailuresPage(v failuresView) failuresPage {
	return failuresPage{failuresView: v, Chart: newFailuresChart(v.LastHour.PerMinute), Categories: codes.Categories(), APIs: []string{"2.0", "2.0-bridge", "3.0"}}
}

// Link is the page's address with the current filter and name set to
// value; "" clears it.
func (p failuresPage) Link(name, value string) string {
	if q := p.Filter.with(name, value).query(); q != "" {
		return "/failures?" + q
	}
	return "/failures"
}

// JSONLink is /failures.json with the current filter.
func (p failuresPage) JSONLink() string {
	if q := p.Filter.query(); q != "" {
		return "/failures.json?" + q
	}
	return "/failures.json"
}

// Filtered reports whether any filter is set.
func (p failuresPage) Filtered() bool { return p.Filter != failureFilter{} }

// The chart's geometry, in SVG user units (the SVG scales to its box).
const (
	chartW, chartH                = 960, 260
	chartLeft, chartRight         = 56, 12
	chartTop, chartBottom         = 24, 40
	chartPlotW                    = chartW - chartLeft - chartRight
	chartPlotH                    = chartH - chartTop - chartBottom
	chartSlotW            float64 = float64(chartPlotW) / failuresWindowMins
)

// chartPalette colours the categories, in the order of codes.Categories;
// the colours are told apart by hue and by lightness.
var chartPalette = [...]string{
	"#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f", "#edc948", "#b07aa1", "#ff9da7", "#9c755f", "#bab0ac",
	"#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#8c564b", "#e377c2", "#17becf", "#bcbd22", "#393b79", "#7f7f7f",
}

// categoryColour is a category's colour in the chart; uncatalogued
// categories are dark grey.
func categoryColour(category string) (string, int) {
	i := slices.Index(codes.Categories(), codes.Category(category))
	if i < 0 {
		return "#444444", len(chartPalette)
	}
	return chartPalette[i%len(chartPalette)], i
}

// failuresChart is the stacked bar chart of failed calls per minute.
type failuresChart struct {
	W, H, Left, Top, Bottom, Right int // Bottom and Right are the plot's edges
	Bars                           []chartBar
	YTicks, XTicks                 []chartTick
	Legend                         []chartLegend
	Total                          int
}

// chartBar is one category's part of one minute's bar.
type chartBar struct {
	X, Y, W, H string
	Colour     string
	Title      string
}

// chartTick is one labelled position on an axis.
type chartTick struct {
	At    string // y for the y axis, x for the x axis
	Label string
}

// chartLegend is one category drawn in the chart.
type chartLegend struct {
	Category string
	Colour   string
	Count    int
}

// newFailuresChart lays out the chart for 60 minutes of counts.
func newFailuresChart(minutes []minuteView) failuresChart {
	c := failuresChart{W: chartW, H: chartH, Left: chartLeft, Top: chartTop, Bottom: chartTop + chartPlotH, Right: chartLeft + chartPlotW}
	peak := 0
	totals := make(map[string]int)
	for _, m := range minutes {
		peak = max(peak, m.Total)
		c.Total += m.Total
		for k, n := range m.ByCategory {
			totals[k] += n
		}
	}
	step := niceStep(peak)
	top := step * max(1, (peak+step-1)/step)
	for v := 0; v <= top; v += step {
		c.YTicks = append(c.YTicks, chartTick{At: coord(float64(c.Bottom) - float64(v)*chartPlotH/float64(top)), Label: strconv.Itoa(v)})
	}
	for i, m := range minutes {
		x := float64(chartLeft) + float64(i)*chartSlotW
		if i%10 == 0 || i == len(minutes)-1 {
			c.XTicks = append(c.XTicks, chartTick{At: coord(x + chartSlotW/2), Label: m.Start.UTC().Format("15:04")})
		}
		cats := make([]string, 0, len(m.ByCategory))
		for k, n := range m.ByCategory {
			if n > 0 {
				cats = append(cats, k)
			}
		}
		slices.SortFunc(cats, func(a, b string) int {
			_, ia := categoryColour(a)
			_, ib := categoryColour(b)
			return cmp.Or(ia-ib, strings.Compare(a, b))
		})
		y := float64(c.Bottom)
		for _, k := range cats {
			n := m.ByCategory[k]
			h := float64(n) * chartPlotH / float64(top)
			y -= h
			colour, _ := categoryColour(k)
			c.Bars = append(c.Bars, chartBar{
				X: coord(x + 1), Y: coord(y), W: coord(chartSlotW - 2), H: coord(h), Colour: colour,
				Title: fmt.Sprintf("%s UTC: %d %s", m.Start.UTC().Format("15:04"), n, k),
			})
		}
	}
	for k, n := range totals {
		if n > 0 {
			colour, _ := categoryColour(k)
			c.Legend = append(c.Legend, chartLegend{Category: k, Colour: colour, Count: n})
		}
	}
	slices.SortFunc(c.Legend, func(a, b chartLegend) int { return cmp.Or(b.Count-a.Count, strings.Compare(a.Category, b.Category)) })
	return c
}

// niceStep is the y axis's step for a peak: 1, 2 or 5 times a power of
// ten, giving at most five steps.
func niceStep(peak int) int {
	for mag := 1; ; mag *= 10 {
		for _, m := range [...]int{1, 2, 5} {
			if s := m * mag; s*5 >= peak {
				return s
			}
		}
	}
}

// coord formats an SVG coordinate.
func coord(v float64) string { return strconv.FormatFloat(v, 'f', 1, 64) }

// parseFailuresPage parses the page's template.
func parseFailuresPage() *template.Template {
	return template.Must(template.New("failures").Funcs(template.FuncMap{
		"clock":   func(t time.Time) string { return t.UTC().Format("2006-01-02 15:04:05Z") },
		"visible": visible,
		"num":     func(p *int) string { return strconv.Itoa(*p) },
	}).Parse(failuresPageSource))
}

// failuresPageSource is the failures page: server-rendered, no script,
// no external assets. html/template escapes every value, all of which may
// come from clients or the upstream. The list is a fixed-layout table as
// wide as the window, every cell wrapping anywhere, so that no value,
// however long, makes the page scroll sideways.
const failuresPageSource = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>cdnproxy: failed calls</title>
<style>
body { font: 14px/1.45 system-ui, sans-serif; margin: 1.5em; color: #222; }
h1 { font-size: 1.4em; } h2 { font-size: 1.1em; margin-top: 1.5em; }
table { border-collapse: collapse; margin: .5em 0; }
th, td { border: 1px solid #ccc; padding: .3em .5em; text-align: left; vertical-align: top; overflow-wrap: anywhere; }
th { background: #f3f3f3; }
td.n { text-align: right; font-variant-numeric: tabular-nums; }
caption { text-align: left; font-weight: 600; }
.summary { display: flex; gap: 1.5em; flex-wrap: wrap; align-items: flex-start; }
.summary table { max-width: 100%; }
table.calls { width: 100%; table-layout: fixed; }
table.calls col.when { width: 11%; } table.calls col.call { width: 15%; } table.calls col.err { width: 15%; }
table.calls col.text { width: 43%; } table.calls col.last { width: 16%; }
.msg { font-family: ui-monospace, monospace; font-size: 13px; }
.desc { margin: .4em 0 0; max-width: 70ch; }
.muted { color: #666; }
.yes { color: #060; } .no { color: #a00; }
.count { font-weight: 600; }
form.filter { display: flex; gap: .75em; flex-wrap: wrap; align-items: end; margin: .5em 0; }
form.filter label { display: flex; flex-direction: column; font-size: 12px; color: #444; }
form.filter input, form.filter select { max-width: 16em; }
figure { margin: .5em 0; max-width: 960px; }
figure > svg { width: 100%; height: auto; display: block; }
ul.legend svg { vertical-align: middle; }
svg text { font: 12px system-ui, sans-serif; fill: #333; }
ul.legend { list-style: none; padding: 0; margin: .25em 0; display: flex; flex-wrap: wrap; gap: .25em 1.25em; }
</style>
</head>
<body>
<h1>cdnproxy: failed calls</h1>
<p class="muted">As of {{clock .Now}}. The {{.Size}} most recent failed calls are kept in memory ({{.Kept}} now). Also as <a href="{{.JSONLink}}">JSON</a>; counts over time are in <a href="/metrics">/metrics</a>.</p>

<h2>Last hour: {{.LastHour.Total}} failed call{{if ne .LastHour.Total 1}}s{{end}}</h2>
<figure id="chart">
<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {{.Chart.W}} {{.Chart.H}}" role="img" aria-labelledby="chart-title">
<title id="chart-title">Failed calls per minute over the last hour{{with .Filter.Category}}, category {{.}}{{end}}, stacked by category</title>
<text x="4" y="14">failed calls per minute</text>
{{range .Chart.YTicks}}<line x1="{{$.Chart.Left}}" x2="{{$.Chart.Right}}" y1="{{.At}}" y2="{{.At}}" stroke="#e4e4e4"/><text x="{{$.Chart.Left}}" dx="-6" y="{{.At}}" dy="4" text-anchor="end">{{.Label}}</text>
{{end}}{{range .Chart.Bars}}<rect class="bar" x="{{.X}}" y="{{.Y}}" width="{{.W}}" height="{{.H}}" fill="{{.Colour}}"><title>{{.Title}}</title></rect>
{{end}}<line x1="{{.Chart.Left}}" x2="{{.Chart.Right}}" y1="{{.Chart.Bottom}}" y2="{{.Chart.Bottom}}" stroke="#333"/>
<line x1="{{.Chart.Left}}" x2="{{.Chart.Left}}" y1="{{.Chart.Top}}" y2="{{.Chart.Bottom}}" stroke="#333"/>
{{range .Chart.XTicks}}<line x1="{{.At}}" x2="{{.At}}" y1="{{$.Chart.Bottom}}" y2="{{$.Chart.Bottom}}" stroke="#333"/><text x="{{.At}}" y="{{$.Chart.Bottom}}" dy="16" text-anchor="middle">{{.Label}}</text>
{{end}}<text x="{{.Chart.Right}}" y="{{.Chart.H}}" dy="-4" text-anchor="end">minute (UTC)</text>
</svg>
<figcaption>{{if .Chart.Legend}}<ul class="legend">{{range .Chart.Legend}}<li><svg width="12" height="12" aria-hidden="true"><rect width="12" height="12" fill="{{.Colour}}"/></svg> <a href="{{$.Link "category" .Category}}">{{.Category}}</a> ({{.Count}})</li>{{end}}</ul>{{else}}<span class="muted">No failed calls{{with .Filter.Category}} of category {{.}}{{end}} in the last hour.</span>{{end}}</figcaption>
</figure>

<div class="summary">
<table id="by-category">
<caption>By category</caption>
<tr><th>Category</th><th>Calls</th></tr>
{{range .LastHour.ByCategory}}<tr><td>{{.Category}}</td><td class="n"><a href="{{$.Link "category" .Category}}">{{.Count}}</a></td></tr>
{{else}}<tr><td colspan="2" class="muted">none</td></tr>
{{end}}</table>
<table id="by-code">
<caption>By code</caption>
<tr><th>Code</th><th>Module code</th><th>Category</th><th>Calls</th></tr>
{{range .LastHour.ByCode}}<tr><td>{{.Code}}</td><td>{{with .ModuleCode}}{{.}}{{end}}</td><td>{{.Category}}</td><td class="n">{{if eq .Code "other"}}{{.Count}}{{else if .ModuleCode}}<a href="{{$.Link "code" (num .ModuleCode)}}">{{.Count}}</a>{{else}}<a href="{{$.Link "code" .Code}}">{{.Count}}</a>{{end}}</td></tr>
{{else}}<tr><td colspan="4" class="muted">none</td></tr>
{{end}}</table>
<table id="by-action">
<caption>Kept calls by action</caption>
<tr><th>Action</th><th>Calls</th></tr>
{{range .KeptByAction}}<tr>{{if .Label}}<td>{{visible .Label}}</td><td class="n"><a href="{{$.Link "action" .Label}}">{{.Count}}</a></td>{{else}}<td class="muted">(none)</td><td class="n">{{.Count}}</td>{{end}}</tr>
{{else}}<tr><td colspan="2" class="muted">none</td></tr>
{{end}}</table>
<table id="by-api">
<caption>Kept calls by API</caption>
<tr><th>API</th><th>Calls</th></tr>
{{range .KeptByAPI}}<tr><td>{{.Label}}</td><td class="n"><a href="{{$.Link "api" .Label}}">{{.Count}}</a></td></tr>
{{else}}<tr><td colspan="2" class="muted">none</td></tr>
{{end}}</table>
</div>

<h2 id="calls">Failed calls, newest first, identical ones together</h2>
<form class="filter" method="get" action="/failures">
<label>Category <select name="category"><option value="">any</option>{{range .Categories}}<option{{if eq (print .) $.Filter.Category}} selected{{end}}>{{.}}</option>{{end}}</select></label>
<label>Code <input name="code" value="{{.Filter.Code}}" size="12"></label>
<label>Action <input name="action" value="{{.Filter.Action}}" size="20"></label>
<label>API <select name="api"><option value="">any</option>{{range $api := $.APIs}}<option{{if eq $api $.Filter.API}} selected{{end}}>{{$api}}</option>{{end}}</select></label>
<button type="submit">Filter</button>
</form>
{{if .Filtered}}<p id="filter">Showing {{len .Recent}} of {{.Kept}} kept calls:{{with .Filter.Category}} category <b>{{.}}</b> (<a href="{{$.Link "category" ""}}">any</a>){{end}}{{with .Filter.Code}} code <b>{{visible .}}</b> (<a href="{{$.Link "code" ""}}">any</a>){{end}}{{with .Filter.Action}} action <b>{{visible .}}</b> (<a href="{{$.Link "action" ""}}">any</a>){{end}}{{with .Filter.API}} API <b>{{visible .}}</b> (<a href="{{$.Link "api" ""}}">any</a>){{end}}. <a href="/failures">Show all</a>.</p>{{end}}
<table class="calls" id="groups">
<colgroup><col class="when"><col class="call"><col class="err"><col class="text"><col class="last"></colgroup>
<tr><th>Calls, last and first (UTC)</th><th>API and action</th><th>Error</th><th>Message and what it means</th><th>Latest call</th></tr>
{{range .Groups}}<tr class="group"><td><span class="count">{{.Count}}&times;</span><br>{{clock .Time}}{{if gt .Count 1}}<br><span class="muted">first {{clock .FirstTime}}</span>{{end}}</td><td><a href="{{$.Link "api" .API}}">{{.API}}</a><br><a href="{{$.Link "action" .Action}}">{{visible .Action}}</a>{{with .Successor}}<br><span class="muted">3.0: {{.}}</span>{{end}}</td><td><a href="{{$.Link "code" .Code}}">{{.Code}}</a>{{with .ModuleCode}} (<a href="{{$.Link "code" (num .)}}">{{.}}</a>){{end}}{{with .V3Code}}<br>{{visible .}}{{end}}<br><a href="{{$.Link "category" .Category}}">{{.Category}}</a><br>{{.Outcome}}, HTTP {{.Status}}<br>retry: {{if .Retryable}}<span class="yes">yes</span>{{else}}<span class="no">no</span>{{end}}</td><td><div class="msg">{{visible .Message}}{{with .CodeDesc}} <span class="muted">({{visible .}})</span>{{end}}</div><p class="desc">{{visible .Description}}</p></td><td>{{visible .RequestID}}{{with .UpstreamID}}<br><span class="muted">upstream {{visible .}}</span>{{end}}<br>{{printf "%.1f" .TotalMs}} ms{{with .SecretID}}<br>{{visible .}}{{end}}</td></tr>
{{else}}<tr><td colspan="5" class="muted">{{if .Filtered}}No kept call matches the filter.{{else}}No failed calls since the proxy started.{{end}}</td></tr>
{{end}}</table>
</body>
</html>
`
