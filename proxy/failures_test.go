package proxy

import (
	"encoding/json"
	"fmt"
	"html/template"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cdnproxy/cdnproxy/annotate"
	"github.com/cdnproxy/cdnproxy/codes"
)

// obsClock is a settable clock.
type obsClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *obsClock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *obsClock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// obsStart is the test clocks' start: the beginning of a minute, so that
// advancing by whole minutes lands in known buckets.
var obsStart = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// failuresJSON is /failures.json as a client reads it.
type failuresJSON struct {
	Now      time.Time `json:"now"`
	Size     int       `json:"size"`
	Recent   []map[string]any
	LastHour struct {
		Since      time.Time `json:"since"`
		Total      int       `json:"total"`
		ByCategory []struct {
			Category string `json:"category"`
			Count    int    `json:"count"`
		} `json:"byCategory"`
		ByCode []struct {
			Code       string `json:"code"`
			ModuleCode *int   `json:"moduleCode"`
			Category   string `json:"category"`
			Count      int    `json:"count"`
		} `json:"byCode"`
	} `json:"lastHour"`
}

// obsAdminGet fetches path from the admin handler.
func obsAdminGet(t *testing.T, admin http.Handler, path string) (*http.Response, string) {
	t.Helper()
	rec := httptest.NewRecorder()
	admin.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
	resp := rec.Result()
	body, _ := io.ReadAll(resp.Body)
	return resp, string(body)
}

func obsFailuresJSON(t *testing.T, admin http.Handler) failuresJSON {
	t.Helper()
	resp, body := obsAdminGet(t, admin, "/failures.json")
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/json; charset=utf-8" {
		t.Fatalf("/failures.json: %d %q", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	var v failuresJSON
	if err := json.Unmarshal([]byte(body), &v); err != nil {
		t.Fatalf("/failures.json does not decode: %v\n%s", err, body)
	}
	return v
}

// recordCall records c as finish does.
func recordCall(f *Failures, c *call, total time.Duration) {
	t := c.texts()
	f.record(c, &t, total)
}

// obsRefused is a refused call as the proxy records it.
func obsRefused(id string) *call {
	return &call{id: id, outcome: outcomeRefused, status: 404, codeDesc: "InvalidParameter", message: "cdnproxy: no",
		result: annotate.Result{Code: 4000, Category: codes.InvalidParameter, Description: "d"}}
}

// TestFailuresPage sends failed calls, one with hostile values, through
// the real proxy and reads the page and its JSON.
func TestFailuresPage(t *testing.T) {
	up := newObsUpstream(t)
	failures := NewFailures(10, nil)
	p := obsNew(t, Config{Upstream: obsURL(t, up.URL), Failures: failures})
	admin := Admin(AdminConfig{Failures: failures})

	const hostileAction = `<script>alert(1)</script>x" onmouseover="alert(2)`
	calls := []struct{ id, query string }{
		{"req-visible-9112", "Action=RefreshCdnUrl&SecretId=AKIDabcdefghijklmnop1234"},
		{"req-success", "Action=DescribeCdnHosts"}, // not a failure: not shown
		{"req-hostile", "Answer=hostile&Action=" + url.QueryEscape(hostileAction)},
	}
	for _, c := range calls {
		r := httptest.NewRequest(http.MethodGet, "/v2/index.php?"+c.query, nil)
		r.Header.Set("X-Request-Id", c.id)
		p.ServeHTTP(httptest.NewRecorder(), r) // returns after finish
	}

	desc9112 := func() string { e, _ := codes.Module(9112); return e.Description }()
	for _, path := range []string{"/failures", "/"} {
		resp, page := obsAdminGet(t, admin, path)
		if resp.StatusCode != 200 {
			t.Fatalf("GET %s: %d", path, resp.StatusCode)
		}
		if got, want := resp.Header.Get("Content-Type"), "text/html; charset=utf-8"; got != want {
			t.Errorf("GET %s: Content-Type %q, want %q", path, got, want)
		}
		for _, want := range []string{
			"req-visible-9112", "req-hostile", "RefreshCdnUrl", "9112", "invalid_state",
			"<td>2.0</td>", "3.0: PurgeUrlsCache", // the API generation and the 2.0 action's successor
			template.HTMLEscapeString(desc9112),
			"AKID****1234",
			"&lt;script&gt;alert(1)&lt;/script&gt;",
			"&lt;img src=x onerror=alert(1)&gt;",
			`it&#39;s\nlevel=ERROR msg=forged\r\x1b[31mred`, // line breaks and escapes shown, not acted on
		} {
			if !strings.Contains(page, want) {
				t.Errorf("GET %s: page lacks %q", path, want)
			}
		}
		for _, bad := range []string{
			"<script", "<img", `" onmouseover="`, "req-success", "AKIDabcdefghijklmnop1234", "\x1b", "\r", "forged\r",
		} {
			if strings.Contains(page, bad) {
				t.Errorf("GET %s: page contains %q", path, bad)
			}
		}
		if i, j := strings.Index(page, "req-hostile"), strings.Index(page, "req-visible-9112"); i > j {
			t.Errorf("GET %s: the newest failure is not listed first", path)
		}
	}

	v := obsFailuresJSON(t, admin)
	if len(v.Recent) != 2 {
		t.Fatalf("/failures.json: %d recent failures, want 2", len(v.Recent))
	}
	newest, older := v.Recent[0], v.Recent[1]
	if newest["requestId"] != "req-hostile" || newest["action"] != hostileAction || newest["message"] != hostileMessage {
		t.Errorf("newest failure = %v, want the hostile call with its values intact", newest)
	}
	for key, want := range map[string]any{
		"requestId": "req-visible-9112", "outcome": "api_error", "action": "RefreshCdnUrl", "code": "4000",
		"moduleCode": float64(9112), "codeDesc": "InvalidParameter", "category": "invalid_state", "retryable": false,
		"description": desc9112, "status": float64(200), "secretId": "AKID****1234",
		"api": "2.0", "successor": "PurgeUrlsCache",
	} {
		if older[key] != want {
			t.Errorf("failure %s = %#v, want %#v", key, older[key], want)
		}
	}
	for _, key := range []string{"time", "message", "totalMs"} {
		if _, ok := older[key]; !ok {
			t.Errorf("failure lacks %s", key)
		}
	}
	if v.LastHour.Total != 2 || len(v.LastHour.ByCategory) != 1 || v.LastHour.ByCategory[0].Count != 2 {
		t.Errorf("last hour = %+v, want 2 failures of one category", v.LastHour)
	}
}

// TestFailuresRingBounded records many more failures than the ring holds.
func TestFailuresRingBounded(t *testing.T) {
	for _, tc := range []struct{ size, calls int }{
		{50, 10000},
		{50, 50},
		{50, 7},
		{1, 3},
	} {
		t.Run(fmt.Sprintf("%d into %d", tc.calls, tc.size), func(t *testing.T) {
			clock := &obsClock{t: obsStart}
			f := NewFailures(tc.size, clock.now)
			for i := range tc.calls {
				recordCall(f, obsRefused(fmt.Sprint("id-", i)), time.Millisecond)
			}
			v := obsFailuresJSON(t, Admin(AdminConfig{Failures: f}))
			want := min(tc.size, tc.calls)
			if len(v.Recent) != want || v.Size != tc.size {
				t.Fatalf("%d recent failures of size %d, want %d of %d", len(v.Recent), v.Size, want, tc.size)
			}
			for i, e := range v.Recent {
				if got, want := e["requestId"], fmt.Sprint("id-", tc.calls-1-i); got != want {
					t.Fatalf("recent[%d] = %v, want %s (newest first)", i, got, want)
				}
			}
			if v.LastHour.Total != tc.calls {
				t.Errorf("last hour total = %d, want %d", v.LastHour.Total, tc.calls)
			}
		})
	}
}

// TestFailuresOnlyFailed checks which outcomes are recorded.
func TestFailuresOnlyFailed(t *testing.T) {
	f := NewFailures(10, nil)
	for _, o := range []outcome{outcomeSuccess, outcomePassthrough, outcomeClientGone, outcomeAPIError, outcomeRefused, outcomeUpstreamError} {
		c := obsRefused(string(o))
		c.outcome = o
		recordCall(f, c, 0)
	}
	var got []string
	for _, e := range f.view(failureFilter{}).Recent {
		got = append(got, e.Outcome)
	}
	if want := "upstream_error refused api_error"; strings.Join(got, " ") != want {
		t.Errorf("recorded %v, want %s", got, want)
	}
}

// TestFailuresLastHour moves the clock: counts older than an hour drop
// out, and a reused minute bucket starts from zero.
func TestFailuresLastHour(t *testing.T) {
	clock := &obsClock{t: obsStart}
	f := NewFailures(10, clock.now)
	record := func(n int, category codes.Category, code int) {
		for range n {
			c := obsRefused("x")
			c.result.Category, c.result.Code = category, code
			recordCall(f, c, 0)
		}
	}
	type count struct {
		total  int
		byCat  map[string]int
		byCode map[string]int
	}
	steps := []struct {
		name    string
		advance time.Duration
		record  func()
		want    count
	}{
		{"start", 0, func() { record(3, codes.InvalidParameter, 4000) },
			count{3, map[string]int{"invalid_parameter": 3}, map[string]int{"4000": 3}}},
		{"30 minutes on", 30 * time.Minute, func() { record(2, codes.RateLimited, 4400) },
			count{5, map[string]int{"invalid_parameter": 3, "rate_limited": 2}, map[string]int{"4000": 3, "4400": 2}}},
		{"59m59s after the start", 29*time.Minute + 59*time.Second, nil,
			count{5, map[string]int{"invalid_parameter": 3, "rate_limited": 2}, map[string]int{"4000": 3, "4400": 2}}},
		{"an hour after the start: its minute has gone", time.Second, nil,
			count{2, map[string]int{"rate_limited": 2}, map[string]int{"4400": 2}}},
		{"the start's bucket reused", 0, func() { record(1, codes.InternalError, 6000) },
			count{3, map[string]int{"rate_limited": 2, "internal_error": 1}, map[string]int{"4400": 2, "6000": 1}}},
		{"two hours on: nothing", time.Hour, nil, count{0, map[string]int{}, map[string]int{}}},
	}
	for _, s := range steps {
		clock.advance(s.advance)
		if s.record != nil {
			s.record()
		}
		h := f.view(failureFilter{}).LastHour
		got := count{h.Total, map[string]int{}, map[string]int{}}
		for _, c := range h.ByCategory {
			got.byCat[c.Category] = c.Count
		}
		for _, c := range h.ByCode {
			got.byCode[c.Code] = c.Count
		}
		if fmt.Sprint(got) != fmt.Sprint(s.want) {
			t.Errorf("%s: last hour = %v, want %v", s.name, got, s.want)
		}
	}
	if got := len(f.view(failureFilter{}).Recent); got != 6 {
		t.Errorf("the ring lost failures when the counts did: %d, want 6", got)
	}
}

// TestFailuresCodeCap sends more distinct codes in a minute than a bucket
// counts: the rest are counted as "other".
func TestFailuresCodeCap(t *testing.T) {
	f := NewFailures(10, (&obsClock{t: obsStart}).now)
	for i := range maxCodesPerMinute + 50 {
		c := obsRefused("x")
		c.result.ModuleCode, c.result.HasModuleCode = 100000+i, true
		recordCall(f, c, 0)
	}
	h := f.view(failureFilter{}).LastHour
	if h.Total != maxCodesPerMinute+50 {
		t.Errorf("total = %d", h.Total)
	}
	if len(h.ByCode) != maxCodesPerMinute+1 || h.ByCode[0].Code != "other" || h.ByCode[0].Count != 50 {
		t.Errorf("%d code counts, first %+v; want %d and other=50 first", len(h.ByCode), h.ByCode[0], maxCodesPerMinute+1)
	}
}

// TestFailuresClip checks that huge values are cut.
func TestFailuresClip(t *testing.T) {
	f := NewFailures(1, nil)
	c := obsRefused("x")
	c.message = strings.Repeat("é", 5000)
	c.action = strings.Repeat("A", 40000)
	recordCall(f, c, 0)
	e := f.view(failureFilter{}).Recent[0]
	if len(e.Message) > maxFailureText+len("…") || !strings.HasSuffix(e.Message, "é…") {
		t.Errorf("message kept as %d bytes ending %q", len(e.Message), e.Message[len(e.Message)-8:])
	}
	if len(e.Action) > maxFailureText+len("…") {
		t.Errorf("action kept as %d bytes", len(e.Action))
	}
}

// TestFailuresConcurrent records and reads at once (run with -race).
func TestFailuresConcurrent(t *testing.T) {
	clock := &obsClock{t: obsStart}
	f := NewFailures(100, clock.now)
	admin := Admin(AdminConfig{Failures: f})
	const writers, each = 8, 500
	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			for i := range each {
				recordCall(f, obsRefused(fmt.Sprintf("w%d-%d", w, i)), 0)
				if i%100 == 0 {
					clock.advance(time.Second)
				}
			}
		})
	}
	for range 2 {
		wg.Go(func() {
			for range 20 {
				for _, path := range []string{"/failures", "/failures.json"} {
					rec := httptest.NewRecorder()
					admin.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
					if rec.Code != 200 {
						t.Errorf("GET %s: %d", path, rec.Code)
					}
				}
			}
		})
	}
	wg.Wait()
	v := obsFailuresJSON(t, admin)
	if len(v.Recent) != 100 || v.LastHour.Total != writers*each {
		t.Errorf("%d recent, %d in the last hour; want 100 and %d", len(v.Recent), v.LastHour.Total, writers*each)
	}
}
