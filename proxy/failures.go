package proxy

import (
	"bytes"
	"cmp"
	"encoding/json"
	"html/template"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode"
)

// Failures keeps the most recent failed calls (outcomes api_error, refused
// and upstream_error) in memory for the admin listener's failures page,
// together with counts by category and by code over the last hour. Build
// it with NewFailures and hand it to the Proxy through Config.Failures and
// to the admin listener through AdminConfig.Failures.
//
// Memory is bounded: the ring holds at most size calls, each text field
// clipped to 1 KiB, and the counts live in 60 one-minute buckets of at
// most 200 distinct codes each (further codes are counted as "other").
// A Failures is safe for concurrent use.
type Failures struct {
	now  func() time.Time
	size int

	mu      sync.Mutex
	ring    []failure // oldest overwritten first; next is the slot to write
	next    int
	minutes [60]minuteCounts // indexed by Unix minute mod 60

	page *template.Template // the HTML page, parsed once per Failures
}

// failure is one failed call, with the log line's field names.
type failure struct {
	Time        time.Time `json:"time"`
	RequestID   string    `json:"requestId"`
	Outcome     string    `json:"outcome"`
	Action      string    `json:"action"`
	API         string    `json:"api"`
	Successor   string    `json:"successor,omitempty"`
	UpstreamID  string    `json:"upstreamRequestId,omitempty"`
	Code        string    `json:"code"`
	V3Code      string    `json:"v3Code,omitempty"`
	ModuleCode  *int      `json:"moduleCode,omitempty"` // set by view, from module
	CodeDesc    string    `json:"codeDesc"`
	Category    string    `json:"category"`
	Retryable   bool      `json:"retryable"`
	Description string    `json:"description"`
	Message     string    `json:"message"`
	Status      int       `json:"status"`
	TotalMs     float64   `json:"totalMs"`
	SecretID    string    `json:"secretId"`

	// The module code as the ring keeps it: a pointer per failed call
	// would be one more allocation on the hot path.
	module    int
	hasModule bool
}

// minuteCounts counts the failures of one minute.
type minuteCounts struct {
	minute     int64 // Unix minute counted; the bucket is stale when it is not a recent one
	total      int
	byCategory map[string]int
	byCode     map[codeKey]int
}

// codeKey identifies a code for the counts. The overflow of a full bucket
// is counted under code "other".
type codeKey struct {
	code      string
	module    int
	hasModule bool
	category  string
}

// Limits of what a Failures holds.
const (
	maxFailureText     = 1 << 10 // bytes of each text field kept
	maxCodesPerMinute  = 200     // distinct codes counted per minute bucket
	otherCode          = "other"
	failuresWindowMins = 60
)

// NewFailures returns a Failures that keeps the size most recent failed
// calls (at least 1). now is its clock; nil means time.Now.
func NewFailures(size int, now func() time.Time) *Failures {
	if size < 1 {
		size = 1
	}
	if now == nil {
		now = time.Now
	}
	page := template.Must(template.New("failures").Funcs(template.FuncMap{
		"clock":   func(t time.Time) string { return t.UTC().Format("2006-01-02 15:04:05Z") },
		"visible": visible,
	}).Parse(failuresPageSource))
	return &Failures{now: now, size: size, ring: make([]failure, 0, size), page: page}
}

// record adds a finished call if it failed. It does nothing on a nil
// *Failures.
func (f *Failures) record(c *call, t *callTexts, total time.Duration) {
	if f == nil || !c.outcome.failed() {
		return
	}
	r := c.result
	e := failure{
		// A client's id and the action may point into the request, the
		// code and texts are the call's own (see callTexts): copy the
		// former, so that a kept call holds nothing of its request.
		RequestID:   t.id,
		Outcome:     string(c.outcome),
		Action:      strings.Clone(t.action),
		API:         c.apiLabel(),
		Code:        t.code,
		V3Code:      t.v3Code,
		Successor:   c.successor,
		UpstreamID:  t.upstreamID,
		CodeDesc:    t.codeDesc,
		Category:    string(r.Category),
		Retryable:   r.Retryable,
		Description: r.Description,
		Message:     t.message,
		Status:      c.status,
		TotalMs:     ms(total),
		SecretID:    t.secretID,
		module:      r.ModuleCode,
		hasModule:   r.HasModuleCode,
	}
	if c.idFromClient {
		e.RequestID = strings.Clone(t.id)
	}
	key := codeKey{code: e.Code, module: r.ModuleCode, hasModule: r.HasModuleCode, category: e.Category}

	f.mu.Lock()
	defer f.mu.Unlock()
	e.Time = f.now()
	if len(f.ring) < f.size {
		f.ring = append(f.ring, e)
	} else {
		f.ring[f.next] = e
	}
	f.next = (f.next + 1) % f.size

	minute := e.Time.Unix() / 60
	b := &f.minutes[minute%failuresWindowMins]
	if b.minute != minute || b.byCategory == nil {
		*b = minuteCounts{minute: minute, byCategory: make(map[string]int), byCode: make(map[codeKey]int)}
	}
	b.total++
	b.byCategory[e.Category]++
	if _, ok := b.byCode[key]; !ok && len(b.byCode) >= maxCodesPerMinute {
		key = codeKey{code: otherCode}
	}
	b.byCode[key]++
}

// failuresView is what the page and /failures.json show.
type failuresView struct {
	Now      time.Time `json:"now"`
	Size     int       `json:"size"`   // how many calls the ring keeps
	Recent   []failure `json:"recent"` // newest first
	LastHour hourView  `json:"lastHour"`
}

// hourView counts the failures of the last hour (the current minute and
// the 59 before it).
type hourView struct {
	Since      time.Time       `json:"since"`
	Total      int             `json:"total"`
	ByCategory []categoryCount `json:"byCategory"` // most frequent first
	ByCode     []codeCount     `json:"byCode"`     // most frequent first
}

type categoryCount struct {
	Category string `json:"category"`
	Count    int    `json:"count"`
}

type codeCount struct {
	Code       string `json:"code"` // "other" for codes beyond the per-minute limit
	ModuleCode *int   `json:"moduleCode,omitempty"`
	Category   string `json:"category,omitempty"`
	Count      int    `json:"count"`
}

// view takes a consistent snapshot.
func (f *Failures) view() failuresView {
	f.mu.Lock()
	defer f.mu.Unlock()
	now := f.now()
	v := failuresView{Now: now, Size: f.size, Recent: make([]failure, 0, len(f.ring))}
	for i := range len(f.ring) {
		// f.next-1 is the newest; walk backwards around the ring.
		e := f.ring[(f.next-1-i+2*len(f.ring))%len(f.ring)]
		if e.hasModule {
			mc := e.module
			e.ModuleCode = &mc
		}
		v.Recent = append(v.Recent, e)
	}

	current := now.Unix() / 60
	v.LastHour.Since = time.Unix((current-failuresWindowMins+1)*60, 0).UTC()
	byCategory := make(map[string]int)
	byCode := make(map[codeKey]int)
	for i := range f.minutes {
		b := &f.minutes[i]
		if b.byCategory == nil || b.minute > current || b.minute <= current-failuresWindowMins {
			continue
		}
		v.LastHour.Total += b.total
		for k, n := range b.byCategory {
			byCategory[k] += n
		}
		for k, n := range b.byCode {
			byCode[k] += n
		}
	}
	for k, n := range byCategory {
		v.LastHour.ByCategory = append(v.LastHour.ByCategory, categoryCount{Category: k, Count: n})
	}
	slices.SortFunc(v.LastHour.ByCategory, func(a, b categoryCount) int {
		return cmp.Or(cmp.Compare(b.Count, a.Count), cmp.Compare(a.Category, b.Category))
	})
	for k, n := range byCode {
		cc := codeCount{Code: k.code, Category: k.category, Count: n}
		if k.hasModule {
			mc := k.module
			cc.ModuleCode = &mc
		}
		v.LastHour.ByCode = append(v.LastHour.ByCode, cc)
	}
	slices.SortFunc(v.LastHour.ByCode, func(a, b codeCount) int {
		return cmp.Or(cmp.Compare(b.Count, a.Count), cmp.Compare(a.Code, b.Code),
			cmp.Compare(moduleOrder(a.ModuleCode), moduleOrder(b.ModuleCode)), cmp.Compare(a.Category, b.Category))
	})
	return v
}

// moduleOrder sorts counts without a module code first.
func moduleOrder(mc *int) int64 {
	if mc == nil {
		return -1 << 62
	}
	return int64(*mc)
}

// servePage serves the failures page.
func (f *Failures) servePage(w http.ResponseWriter, _ *http.Request) {
	var buf bytes.Buffer
	if err := f.page.Execute(&buf, f.view()); err != nil {
		writeText(w, http.StatusInternalServerError, "the failures page could not be rendered\n")
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'")
	setAdminHeaders(h)
	_, _ = w.Write(buf.Bytes())
}

// serveJSON serves the failures page's data as JSON.
func (f *Failures) serveJSON(w http.ResponseWriter, _ *http.Request) {
	out, err := json.Marshal(f.view())
	if err != nil {
		writeText(w, http.StatusInternalServerError, "the failures could not be encoded\n")
		return
	}
	h := w.Header()
	h.Set("Content-Type", "application/json; charset=utf-8")
	setAdminHeaders(h)
	_, _ = w.Write(append(out, '\n'))
}

// setAdminHeaders sets what every page of the admin listener carries.
func setAdminHeaders(h http.Header) {
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
}

// visible shows the characters of s that a browser or a terminal would
// not show, line breaks and escape sequences among them, as Go escapes
// (\n, \x1b), so that an operator sees the value as it came.
func visible(s string) string {
	hidden := func(r rune) bool { return !unicode.IsPrint(r) }
	if !strings.ContainsFunc(s, hidden) {
		return s
	}
	var b strings.Builder
	for _, r := range s {
		if hidden(r) {
			q := strconv.QuoteRune(r)
			b.WriteString(q[1 : len(q)-1])
		} else {
			b.WriteRune(r)
		}
	}
	return b.String()
}

// failuresPageSource is the failures page: server-rendered, no script,
// no external assets. html/template escapes every value, all of which may
// come from clients or the upstream.
const failuresPageSource = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>cdnproxy: failed calls</title>
<style>
body { font: 14px/1.4 system-ui, sans-serif; margin: 1.5em; color: #222; }
h1 { font-size: 1.4em; } h2 { font-size: 1.1em; margin-top: 1.5em; }
table { border-collapse: collapse; margin: .5em 0; }
th, td { border: 1px solid #ccc; padding: .25em .5em; text-align: left; vertical-align: top; }
th { background: #f3f3f3; }
td.n { text-align: right; font-variant-numeric: tabular-nums; }
td.msg { max-width: 40em; overflow-wrap: anywhere; }
.summary { display: flex; gap: 2em; flex-wrap: wrap; }
.muted { color: #666; }
.yes { color: #060; } .no { color: #a00; }
</style>
</head>
<body>
<h1>cdnproxy: failed calls</h1>
<p class="muted">As of {{clock .Now}}. The {{.Size}} most recent failed calls are kept in memory. Also as <a href="/failures.json">JSON</a>; counts over time are in <a href="/metrics">/metrics</a>.</p>

<h2>Last hour: {{.LastHour.Total}} failed call{{if ne .LastHour.Total 1}}s{{end}}</h2>
<div class="summary">
<table>
<caption>By category</caption>
<tr><th>Category</th><th>Calls</th></tr>
{{range .LastHour.ByCategory}}<tr><td>{{.Category}}</td><td class="n">{{.Count}}</td></tr>
{{else}}<tr><td colspan="2" class="muted">none</td></tr>
{{end}}</table>
<table>
<caption>By code</caption>
<tr><th>Code</th><th>Module code</th><th>Category</th><th>Calls</th></tr>
{{range .LastHour.ByCode}}<tr><td>{{.Code}}</td><td>{{with .ModuleCode}}{{.}}{{end}}</td><td>{{.Category}}</td><td class="n">{{.Count}}</td></tr>
{{else}}<tr><td colspan="4" class="muted">none</td></tr>
{{end}}</table>
</div>

<h2>Most recent first</h2>
<table>
<tr><th>Time (UTC)</th><th>Request id</th><th>API</th><th>Action</th><th>Outcome</th><th>Code</th><th>Module code</th><th>Category</th><th>Retry?</th><th>Description</th><th>Message</th><th>Status</th><th>Total ms</th><th>SecretId</th></tr>
{{range .Recent}}<tr><td>{{clock .Time}}</td><td>{{visible .RequestID}}{{with .UpstreamID}}<br><span class="muted">upstream {{visible .}}</span>{{end}}</td><td>{{.API}}</td><td>{{visible .Action}}{{with .Successor}}<br><span class="muted">3.0: {{.}}</span>{{end}}</td><td>{{.Outcome}}</td><td>{{.Code}}</td><td>{{with .ModuleCode}}{{.}}{{end}}</td><td>{{.Category}}</td><td>{{if .Retryable}}<span class="yes">yes</span>{{else}}<span class="no">no</span>{{end}}</td><td class="msg">{{visible .Description}}</td><td class="msg">{{visible .Message}}{{with .CodeDesc}} <span class="muted">({{visible .}})</span>{{end}}</td><td class="n">{{.Status}}</td><td class="n">{{printf "%.1f" .TotalMs}}</td><td>{{visible .SecretID}}</td></tr>
{{else}}<tr><td colspan="14" class="muted">No failed calls since the proxy started.</td></tr>
{{end}}</table>
</body>
</html>
`
