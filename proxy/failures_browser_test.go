//go:build e2e

package proxy

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// hostileUpstreamMessage is what a hostile or broken upstream could send
// as an error message: markup that would run if it were not escaped.
const hostileUpstreamMessage = `"><img src=x onerror="document.title='pwned'"><script>document.title='pwned'</script>`

// newBrowser starts headless Chromium (Debian's chromium, which .ci/test
// installs) at 1280x900 CSS pixels with a fresh profile.
func newBrowser(t *testing.T) context.Context {
	t.Helper()
	path, err := exec.LookPath("chromium")
	if err != nil {
		t.Fatalf("chromium is needed for the e2e tests (apt-get install chromium): %v", err)
	}
	// The profile is removed once the browser has exited; t.TempDir's
	// cleanup would run while its helper processes may still write.
	profile, err := os.MkdirTemp("", "cdnproxy-chromium-")
	if err != nil {
		t.Fatal(err)
	}
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(path),
		chromedp.Headless,
		chromedp.NoSandbox, // CI runs as root
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.UserDataDir(profile),
		chromedp.WindowSize(1280, 900),
	}
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelCtx := chromedp.NewContext(actx)
	// A hang guard, not a measurement.
	ctx, cancelTimeout := context.WithTimeout(ctx, 2*time.Minute)
	t.Cleanup(func() {
		_ = chromedp.Cancel(ctx) // closes the browser and waits for it
		cancelTimeout()
		cancelCtx()
		cancelAlloc()
		for try := 0; ; try++ {
			err := os.RemoveAll(profile)
			if err == nil {
				return
			}
			if try == 50 {
				t.Errorf("removing the browser profile: %v", err)
				return
			}
			time.Sleep(100 * time.Millisecond)
		}
	})
	if err := chromedp.Run(ctx); err != nil {
		t.Fatalf("starting chromium: %v", err)
	}
	return ctx
}

// TestFailuresPageInBrowser renders the failures page in Chromium, with
// failed calls sent through the real proxy, one of them with a hostile
// upstream message, and clicks through its filters.
func TestFailuresPageInBrowser(t *testing.T) {
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		switch r.FormValue("Action") {
		case "RefreshCdnUrl":
			_, _ = w.Write([]byte(`{"code":4000,"message":"(9112)操作域名需要为【开启中】状态，请确认后重试` + strings.Repeat("averyveryverylongwordwithoutspaces", 30) + `","codeDesc":"InvalidParameter"}`))
		case "RefreshCdnDir":
			_, _ = w.Write([]byte(`{"code":4000,"message":` + jsonString(hostileUpstreamMessage) + `,"codeDesc":"InvalidParameter"}`))
		default:
			_, _ = w.Write([]byte(`{"code":4400,"message":"(9175)too many calls","codeDesc":"RequestLimitExceeded"}`))
		}
	}))
	t.Cleanup(up.Close)
	failures := NewFailures(100, nil)
	p := obsNew(t, Config{Upstream: obsURL(t, up.URL), Failures: failures})
	for _, action := range []string{"RefreshCdnUrl", "RefreshCdnUrl", "RefreshCdnDir", "DescribeCdnHosts", "DescribeCdnHosts", "DescribeCdnHosts"} {
		r := httptest.NewRequest(http.MethodGet, "/v2/index.php?Action="+action, nil)
		p.ServeHTTP(httptest.NewRecorder(), r)
	}
	admin := httptest.NewServer(Admin(AdminConfig{Failures: failures}))
	t.Cleanup(admin.Close)

	ctx := newBrowser(t)
	var (
		overflow                   bool
		title, bodyText, location  string
		bars, xLabels, yLabels     int
		drawnHeight                float64
		scripts, images, groupRows int
	)
	// state reads what the tests assert on from the page as it is.
	state := chromedp.Tasks{
		chromedp.Evaluate(`document.documentElement.scrollWidth > document.documentElement.clientWidth`, &overflow),
		chromedp.Evaluate(`document.querySelectorAll('tr.group').length`, &groupRows),
		chromedp.Location(&location),
	}
	if err := chromedp.Run(ctx,
		chromedp.Navigate(admin.URL+"/failures"),
		chromedp.WaitVisible(`#groups`, chromedp.ByQuery),
		state,
		chromedp.Title(&title),
		chromedp.Evaluate(`document.body.innerText`, &bodyText),
		chromedp.Evaluate(`document.querySelectorAll('script').length`, &scripts),
		chromedp.Evaluate(`document.querySelectorAll('body img').length`, &images),
		chromedp.Evaluate(`document.querySelectorAll('#chart rect.bar').length`, &bars),
		chromedp.Evaluate(`[...document.querySelectorAll('#chart rect.bar')].reduce((h, r) => h + r.getBoundingClientRect().height, 0)`, &drawnHeight),
		chromedp.Evaluate(`[...document.querySelectorAll('#chart text[text-anchor=middle]')].filter(e => /^\d\d:\d\d$/.test(e.textContent) && e.getBoundingClientRect().width > 0).length`, &xLabels),
		chromedp.Evaluate(`[...document.querySelectorAll('#chart text[text-anchor=end]')].filter(e => /^\d+$/.test(e.textContent) && e.getBoundingClientRect().width > 0).length`, &yLabels),
	); err != nil {
		t.Fatal(err)
	}
	if overflow {
		t.Error("the page scrolls sideways at 1280 px")
	}
	if title != "cdnproxy: failed calls" || scripts != 0 || images != 0 {
		t.Errorf("the hostile message ran or became markup: title %q, %d scripts, %d images", title, scripts, images)
	}
	if !strings.Contains(bodyText, hostileUpstreamMessage) {
		t.Errorf("the hostile message is not shown as text; the page reads:\n%s", bodyText)
	}
	if groupRows != 3 {
		t.Errorf("%d groups, want 3 (two RefreshCdnUrl, one RefreshCdnDir, three DescribeCdnHosts folded)", groupRows)
	}
	if bars == 0 || drawnHeight <= 0 || xLabels < 6 || yLabels < 2 {
		t.Errorf("chart: %d bars %.0f px high in all, %d x labels, %d y labels", bars, drawnHeight, xLabels, yLabels)
	}

	// Clicking a count filters the rows.
	clickThrough(t, ctx, `#by-code a[href="/failures?code=9175"]`)
	if err := chromedp.Run(ctx,
		state,
		chromedp.Evaluate(`document.querySelector('#groups').innerText`, &bodyText),
	); err != nil {
		t.Fatal(err)
	}
	if q := mustQuery(t, location); q.Get("code") != "9175" || groupRows != 1 || !strings.Contains(bodyText, "DescribeCdnHosts") || strings.Contains(bodyText, "RefreshCdn") {
		t.Errorf("after clicking code 9175: at %s, %d groups:\n%s", location, groupRows, bodyText)
	}

	// The form combines filters; clearing one widens the rows again.
	if err := chromedp.Run(ctx,
		chromedp.Navigate(admin.URL+"/failures"),
		chromedp.WaitVisible(`#groups`, chromedp.ByQuery),
		chromedp.SetValue(`input[name=action]`, "RefreshCdnUrl", chromedp.ByQuery),
		chromedp.SetValue(`select[name=category]`, "invalid_state", chromedp.ByQuery),
	); err != nil {
		t.Fatal(err)
	}
	clickThrough(t, ctx, `form.filter button`)
	if err := chromedp.Run(ctx, state); err != nil {
		t.Fatal(err)
	}
	if q := mustQuery(t, location); q.Get("action") != "RefreshCdnUrl" || q.Get("category") != "invalid_state" || groupRows != 1 || overflow {
		t.Errorf("after the form: at %s, %d groups, overflow %v; want 1 group and none", location, groupRows, overflow)
	}
	clickThrough(t, ctx, `#filter a[href="/failures?category=invalid_state"]`) // clears the action
	if err := chromedp.Run(ctx, state); err != nil {
		t.Fatal(err)
	}
	if groupRows != 2 {
		t.Errorf("category invalid_state: %d groups at %s, want 2", groupRows, location)
	}
}

// jsonString quotes s as a JSON string.
func jsonString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// clickThrough clicks a link or button and waits for the page it leads
// to.
func clickThrough(t *testing.T, ctx context.Context, sel string) {
	t.Helper()
	if _, err := chromedp.RunResponse(ctx, chromedp.Click(sel, chromedp.ByQuery)); err != nil {
		t.Fatalf("clicking %s: %v", sel, err)
	}
}

func mustQuery(t *testing.T, location string) url.Values {
	t.Helper()
	u, err := url.Parse(location)
	if err != nil {
		t.Fatal(err)
	}
	return u.Query()
}
