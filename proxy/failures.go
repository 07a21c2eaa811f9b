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
	page := parseFailuresPage()
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
	Now    time.Time     `json:"now"`
	Size   int           `json:"size"`   // how many calls the ring keeps
	Filter failureFilter `json:"filter"` // what Recent and Groups are narrowed to
	Kept   int           `json:"kept"`   // calls in the ring, before filtering
	Recent []failure     `json:"recent"` // newest first, filtered
	// Groups are Recent with identical failures (the same API, action,
	// code and message) folded into one, most recently seen first.
	Groups   []failureGroup `json:"groups"`
	LastHour hourView       `json:"lastHour"`
	// KeptByAction and KeptByAPI count the calls in the ring, unfiltered,
	// so that every action and API generation can be picked as a filter.
	KeptByAction []labelCount `json:"keptByAction"`
	KeptByAPI    []labelCount `json:"keptByApi"`
}

// failureGroup is identical failures folded into one: the newest of them
// with how many there were and when the first was.
type failureGroup struct {
	failure
	Count     int       `json:"count"`
	FirstTime time.Time `json:"firstTime"` // the oldest kept; Time is the newest
}

// groupKey is what makes failures identical.
type groupKey struct {
	api, action, code, v3Code string
	module                    int
	hasModule                 bool
	message                   string
}

// hourView counts the failures of the last hour (the current minute and
// the 59 before it).
type hourView struct {
	Since      time.Time       `json:"since"`
	Total      int             `json:"total"`
	ByCategory []categoryCount `json:"byCategory"` // most frequent first
	ByCode     []codeCount     `json:"byCode"`     // most frequent first
	// PerMinute is the failures of each minute, oldest first, 60 of them;
	// a category filter narrows it to that category.
	PerMinute []minuteView `json:"perMinute"`
}

// minuteView counts the failures of one minute by category.
type minuteView struct {
	Start      time.Time      `json:"start"`
	Total      int            `json:"total"`
	ByCategory map[string]int `json:"byCategory,omitempty"`
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

// labelCount counts the kept calls with one action or API generation.
type labelCount struct {
	Label string `json:"label"`
	Count int    `json:"count"`
}

// view takes a consistent snapshot, with the kept calls narrowed to
// those flt matches.
func (f *Failures) view(flt failureFilter) failuresView {
	f.mu.Lock()
	defer f.mu.Unlock()
	now := f.now()
	v := failuresView{Now: now, Size: f.size, Filter: flt, Kept: len(f.ring), Recent: make([]failure, 0, len(f.ring))}
	byAction, byAPI := make(map[string]int), make(map[string]int)
	groups := make(map[groupKey]int) // index in v.Groups
	for i := range len(f.ring) {
		// f.next-1 is the newest; walk backwards around the ring.
		e := f.ring[(f.next-1-i+2*len(f.ring))%len(f.ring)]
		byAction[e.Action]++
		byAPI[e.API]++
		if !flt.matches(&e) {
			continue
		}
		if e.hasModule {
			mc := e.module
			e.ModuleCode = &mc
		}
		v.Recent = append(v.Recent, e)
		k := groupKey{e.API, e.Action, e.Code, e.V3Code, e.module, e.hasModule, e.Message}
		if g, ok := groups[k]; ok {
			v.Groups[g].Count++
			v.Groups[g].FirstTime = e.Time
			continue
		}
		groups[k] = len(v.Groups)
		v.Groups = append(v.Groups, failureGroup{failure: e, Count: 1, FirstTime: e.Time})
	}
	v.KeptByAction, v.KeptByAPI = sortedCounts(byAction), sortedCounts(byAPI)

	current := now.Unix() / 60
	v.LastHour.Since = time.Unix((current-failuresWindowMins+1)*60, 0).UTC()
	v.LastHour.PerMinute = make([]minuteView, failuresWindowMins)
	for i := range v.LastHour.PerMinute {
		v.LastHour.PerMinute[i].Start = v.LastHour.Since.Add(time.Duration(i) * time.Minute)
	}
	byCategory := make(map[string]int)
	byCode := make(map[codeKey]int)
	for i := range f.minutes {
		b := &f.minutes[i]
		if b.byCategory == nil || b.minute > current || b.minute <= current-failuresWindowMins {
			continue
		}
		v.LastHour.Total += b.total
		m := &v.LastHour.PerMinute[b.minute-(current-failuresWindowMins+1)]
		m.ByCategory = make(map[string]int, len(b.byCategory))
		for k, n := range b.byCategory {
			byCategory[k] += n
			if flt.Category == "" || flt.Category == k {
				m.ByCategory[k] = n
				m.Total += n
			}
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

// sortedCounts lists counts most frequent first, then by label.
func sortedCounts(m map[string]int) []labelCount {
	out := make([]labelCount, 0, len(m))
	for k, n := range m {
		out = append(out, labelCount{Label: k, Count: n})
	}
	slices.SortFunc(out, func(a, b labelCount) int {
		return cmp.Or(cmp.Compare(b.Count, a.Count), cmp.Compare(a.Label, b.Label))
	})
	return out
}

// moduleOrder sorts counts without a module code first.
func moduleOrder(mc *int) int64 {
	if mc == nil {
		return -1 << 62
	}
	return int64(*mc)
}

// servePage serves the failures page.
func (f *Failures) servePage(w http.ResponseWriter, r *http.Request) {
	var buf bytes.Buffer
	if err := f.page.Execute(&buf, newFailuresPage(f.view(filterOf(r)))); err != nil {
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
func (f *Failures) serveJSON(w http.ResponseWriter, r *http.Request) {
	out, err := json.Marshal(f.view(filterOf(r)))
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
