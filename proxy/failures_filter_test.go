package proxy

import (
	"encoding/json"
	"fmt"
	"html"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/cdnproxy/cdnproxy/codes"
)

// filterFixture records a known set of failures over several minutes:
//
//	12:00 PurgeUrlsCache 3.0 quota_exceeded  LimitExceeded.X  "day limit" x3
//	12:01 RefreshCdnUrl  2.0 invalid_state   4000 (9112)      "(9112)offline" x2
//	12:05 RefreshCdnUrl  2.0 invalid_state   4000 (9112)      "(9112)other text"
//	12:10 OnlineHost     2.0-bridge rate_limited 4400         "slow down"
func filterFixture(t *testing.T) (*Failures, *obsClock) {
	t.Helper()
	clock := &obsClock{t: obsStart}
	f := NewFailures(50, clock.now)
	add := func(n int, action string, a *api, category codes.Category, code int, v3Code, message string, module int) {
		for i := range n {
			c := obsRefused(fmt.Sprintf("%s-%d", action, i))
			c.action, c.api, c.message = action, a, message
			c.result.Category, c.result.Code = category, code
			if v3Code != "" {
				c.result.Generation, c.result.ErrorCode = 3, v3Code
			}
			if module != 0 {
				c.result.ModuleCode, c.result.HasModuleCode = module, true
			}
			recordCall(f, c, time.Millisecond)
			clock.advance(time.Second)
		}
	}
	add(3, "PurgeUrlsCache", &api{gen: 3, label: "3.0"}, codes.QuotaExceeded, 0, "LimitExceeded.X", "day limit", 0)
	clock.t = obsStart.Add(time.Minute)
	add(2, "RefreshCdnUrl", nil, codes.InvalidState, 4000, "", "(9112)offline", 9112)
	clock.t = obsStart.Add(5 * time.Minute)
	add(1, "RefreshCdnUrl", nil, codes.InvalidState, 4000, "", "(9112)other text", 9112)
	clock.t = obsStart.Add(10 * time.Minute)
	add(1, "OnlineHost", &api{gen: 3, label: "2.0-bridge"}, codes.RateLimited, 4400, "", "slow down", 0)
	clock.t = obsStart.Add(20 * time.Minute)
	return f, clock
}

// TestFailuresFilter narrows the page's JSON by each query parameter and
// checks the groups that remain.
func TestFailuresFilter(t *testing.T) {
	f, _ := filterFixture(t)
	admin := Admin(AdminConfig{Failures: f})
	for _, tc := range []struct {
		query  string
		groups string // action:count, newest first
		recent int
	}{
		{"", "OnlineHost:1 RefreshCdnUrl:1 RefreshCdnUrl:2 PurgeUrlsCache:3", 7},
		{"category=quota_exceeded", "PurgeUrlsCache:3", 3},
		{"category=quota_exceeded&action=PurgeUrlsCache", "PurgeUrlsCache:3", 3},
		{"category=quota_exceeded&action=RefreshCdnUrl", "", 0},
		{"action=RefreshCdnUrl", "RefreshCdnUrl:1 RefreshCdnUrl:2", 3},
		{"code=9112", "RefreshCdnUrl:1 RefreshCdnUrl:2", 3},
		{"code=4000", "RefreshCdnUrl:1 RefreshCdnUrl:2", 3},
		{"code=LimitExceeded.X", "PurgeUrlsCache:3", 3},
		{"code=4400", "OnlineHost:1", 1},
		{"api=3.0", "PurgeUrlsCache:3", 3},
		{"api=2.0", "OnlineHost:1 RefreshCdnUrl:1 RefreshCdnUrl:2", 4}, // 2.0 includes the bridged calls
		{"api=2.0-bridge", "OnlineHost:1", 1},
		{"api=2", "", 0},
		{"category=%3Cscript%3E", "", 0},
		{"category=&code=&action=&api=", "OnlineHost:1 RefreshCdnUrl:1 RefreshCdnUrl:2 PurgeUrlsCache:3", 7}, // the empty form
	} {
		t.Run(tc.query, func(t *testing.T) {
			resp, body := obsAdminGet(t, admin, "/failures.json?"+tc.query)
			if resp.StatusCode != 200 {
				t.Fatalf("%d", resp.StatusCode)
			}
			var v struct {
				Kept   int `json:"kept"`
				Recent []map[string]any
				Groups []struct {
					Action    string    `json:"action"`
					Count     int       `json:"count"`
					Time      time.Time `json:"time"`
					FirstTime time.Time `json:"firstTime"`
				} `json:"groups"`
			}
			if err := json.Unmarshal([]byte(body), &v); err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, g := range v.Groups {
				got = append(got, fmt.Sprintf("%s:%d", g.Action, g.Count))
			}
			if strings.Join(got, " ") != tc.groups || len(v.Recent) != tc.recent || v.Kept != 7 {
				t.Errorf("groups %v, %d recent of %d kept; want %q, %d of 7", got, len(v.Recent), v.Kept, tc.groups, tc.recent)
			}
			// The page lists the same groups.
			_, page := obsAdminGet(t, admin, "/failures?"+tc.query)
			if n := strings.Count(page, `<tr class="group">`); n != len(v.Groups) {
				t.Errorf("the page shows %d groups, the JSON %d", n, len(v.Groups))
			}
		})
	}
}

// TestFailuresGroupTimes checks a group's count and its first and last
// times.
func TestFailuresGroupTimes(t *testing.T) {
	f, _ := filterFixture(t)
	v := f.view(failureFilter{Action: "PurgeUrlsCache"})
	if len(v.Groups) != 1 {
		t.Fatalf("%d groups, want 1", len(v.Groups))
	}
	g := v.Groups[0]
	if g.Count != 3 || !g.FirstTime.Equal(obsStart) || !g.Time.Equal(obsStart.Add(2*time.Second)) {
		t.Errorf("group = %d calls from %s to %s; want 3 from %s to %s", g.Count, g.FirstTime, g.Time, obsStart, obsStart.Add(2*time.Second))
	}
	if g.RequestID != "PurgeUrlsCache-2" {
		t.Errorf("the group shows call %s, want the newest, PurgeUrlsCache-2", g.RequestID)
	}
}

// TestFailuresPerMinute checks the chart's data and drawing.
func TestFailuresPerMinute(t *testing.T) {
	f, _ := filterFixture(t)
	v := f.view(failureFilter{})
	pm := v.LastHour.PerMinute
	if len(pm) != 60 || !pm[59].Start.Equal(obsStart.Add(20*time.Minute)) {
		t.Fatalf("%d minutes ending %s", len(pm), pm[len(pm)-1].Start)
	}
	// obsStart is minute 59-20 = 39.
	want := map[int]map[string]int{
		39: {"quota_exceeded": 3}, 40: {"invalid_state": 2}, 44: {"invalid_state": 1}, 49: {"rate_limited": 1},
	}
	for i, m := range pm {
		if fmt.Sprint(m.ByCategory) != fmt.Sprint(want[i]) {
			t.Errorf("minute %d (%s) = %v, want %v", i, m.Start.Format("15:04"), m.ByCategory, want[i])
		}
	}
	if got := f.view(failureFilter{Category: "invalid_state"}).LastHour.PerMinute[39].Total; got != 0 {
		t.Errorf("with a category filter, another category's minute counts %d", got)
	}

	c := newFailuresChart(pm)
	if len(c.Bars) != 4 || c.Total != 7 {
		t.Errorf("%d bars for %d calls, want 4 for 7", len(c.Bars), c.Total)
	}
	if got := tickLabels(c.XTicks); got != "11:21 11:31 11:41 11:51 12:01 12:11 12:20" {
		t.Errorf("x axis labels %s", got)
	}
	if got := tickLabels(c.YTicks); got != "0 1 2 3" {
		t.Errorf("y axis labels %s", got)
	}
	_, page := obsAdminGet(t, Admin(AdminConfig{Failures: f}), "/failures")
	if n := strings.Count(page, `<rect class="bar"`); n != 4 {
		t.Errorf("the page draws %d bars, want 4", n)
	}
}

func tickLabels(ticks []chartTick) string {
	var s []string
	for _, t := range ticks {
		s = append(s, t.Label)
	}
	return strings.Join(s, " ")
}

// TestNiceStep checks the y axis's steps.
func TestNiceStep(t *testing.T) {
	for peak, want := range map[int]int{0: 1, 1: 1, 5: 1, 6: 2, 10: 2, 11: 5, 25: 5, 26: 10, 99: 20, 1000: 200, 1001: 500} {
		if got := niceStep(peak); got != want {
			t.Errorf("niceStep(%d) = %d, want %d", peak, got, want)
		}
	}
}

// TestFailuresLinks checks that the counts link to the filters that show
// those calls, keeping the filters already set.
func TestFailuresLinks(t *testing.T) {
	f, _ := filterFixture(t)
	admin := Admin(AdminConfig{Failures: f})
	_, page := obsAdminGet(t, admin, "/failures")
	for _, want := range []string{
		`<a href="/failures?category=quota_exceeded">3</a>`,
		`<a href="/failures?code=9112">3</a>`,
		`<a href="/failures?code=4400">1</a>`,
		`<a href="/failures?action=RefreshCdnUrl">3</a>`,
		`<a href="/failures?api=2.0-bridge">1</a>`,
	} {
		if !strings.Contains(page, want) {
			t.Errorf("the page lacks %s", want)
		}
	}
	_, page = obsAdminGet(t, admin, "/failures?action=RefreshCdnUrl")
	for _, want := range []string{
		`href="/failures?action=RefreshCdnUrl&amp;category=invalid_state"`, // adds to the filter
		`href="/failures"`,                           // clears it
		`href="/failures.json?action=RefreshCdnUrl"`, // the same data as JSON
		`<input name="action" value="RefreshCdnUrl"`,
	} {
		if !strings.Contains(page, want) {
			t.Errorf("the filtered page lacks %s", want)
		}
	}
	// Every link the page holds leads to a page that answers.
	for _, m := range regexp.MustCompile(`href="([^"]+)"`).FindAllStringSubmatch(page, -1) {
		if path := html.UnescapeString(m[1]); strings.HasPrefix(path, "/failures") {
			if resp, _ := obsAdminGet(t, admin, path); resp.StatusCode != 200 {
				t.Errorf("GET %s: %d", path, resp.StatusCode)
			}
		}
	}
}
