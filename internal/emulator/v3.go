package emulator

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/cdnproxy/cdnproxy/internal/api3"
	"github.com/cdnproxy/cdnproxy/internal/apicall"
	"github.com/cdnproxy/cdnproxy/proxy/signature"
)

// Path3 is the path API 3.0 calls are served at, as the real API serves
// them.
const Path3 = "/"

// CanonicalHost3 is API 3.0's host name. A signature computed over it is
// accepted whatever Host header the call arrives with.
const CanonicalHost3 = api3.CanonicalHost

// RatePerSecond is API 3.0's documented call rate: 20 calls a second of
// each action (docs/reference/cdn-limits-and-retry.md); more are answered
// RequestLimitExceeded.
const RatePerSecond = 20

// reply3 is one API 3.0 answer: the body and, for the log, the error code
// ("" for a success) and whether a fault rule produced it.
type reply3 struct {
	status int
	body   []byte
	code   string
	fault  bool
}

// serve3 answers one API 3.0 call (path "/"). Checks run as the API runs
// them: size, signature and timestamp, version, action, call rate, fault
// rules, then the action against the state 2.0 calls share. Errors are
// answered with status 200, as the API does.
func (e *Emulator) serve3(w http.ResponseWriter, r *http.Request) (string, reply3) {
	requestID := api3.NewRequestID()
	fail := func(code, msg string) reply3 {
		return reply3{body: api3.ErrorBody(code, msg, requestID), code: code}
	}
	ac, err := apicall.Read(w, r, api3.MaxBody)
	if err != nil {
		rep := fail("RequestSizeLimitExceeded", "请求包大小超过限制。")
		if !errors.Is(err, apicall.ErrTooLarge) {
			rep = fail("InvalidParameter", "请求参数非法（请求体无法读取）。")
		}
		return "", rep
	}
	now := e.now()
	chk := api3.Verify(r, ac, api3.Verifier{
		Key: func(id string) (string, bool) {
			k, ok := e.creds[id]
			return k, ok
		},
		Now:   now,
		Hosts: signature.Hosts(r.Host, CanonicalHost3),
	})
	switch {
	case chk.Code != "":
		return chk.Action, fail(chk.Code, api3.Message(chk.Code))
	case !api3.Handles(chk.Action):
		return chk.Action, fail("InvalidAction", "接口不存在："+chk.Action+"（the emulator serves "+strings.Join(api3.Actions(), ", ")+"）。")
	case chk.Params.Err != nil:
		return chk.Action, fail(chk.Params.Err.Code, chk.Params.Err.Message)
	}

	e.mu.Lock()
	defer e.mu.Unlock()
	if !e.rate.take(chk.Action, now) {
		return chk.Action, fail("RequestLimitExceeded", api3.Message("RequestLimitExceeded")+
			fmt.Sprintf("（%s 每秒最多 %d 次）", chk.Action, RatePerSecond))
	}
	if f, ok := e.injected(chk.Action, true); ok {
		rep := fail(f.Code3, api3.Message(f.Code3)+"（cdnproxy mock 注入的故障）")
		rep.fault = true
		return chk.Action, rep
	}
	resp, perr := api3.Run(&account3{e: e, secretID: chk.SecretID, now: now}, chk.Action,
		api3.Call{Params: chk.Params.Action, FromForm: chk.Params.FromForm, Now: now, Strict: true})
	if perr != nil {
		return chk.Action, fail(perr.Code, perr.Message)
	}
	return chk.Action, reply3{body: api3.SuccessBody(resp, requestID)}
}

// write3 sends an API 3.0 answer.
func write3(w http.ResponseWriter, rep reply3) {
	status := rep.status
	if status == 0 {
		status = http.StatusOK
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(len(rep.body)))
	w.WriteHeader(status)
	_, _ = w.Write(rep.body)
}

// rateCounter counts each action's calls in the current second of the
// emulator's clock.
type rateCounter struct {
	second int64
	calls  map[string]int
}

// take counts one call of action at now and reports whether it is within
// RatePerSecond.
func (c *rateCounter) take(action string, now time.Time) bool {
	if s := now.Unix(); s != c.second || c.calls == nil {
		c.second, c.calls = s, make(map[string]int)
	}
	c.calls[action]++
	return c.calls[action] <= RatePerSecond
}

// account3 is the emulator's state as API 3.0 actions see it, for one
// call of one SecretId: the domains, tasks and daily quotas 2.0 calls use.
// It runs with Emulator.mu held.
type account3 struct {
	e        *Emulator
	secretID string
	now      time.Time
}

// status3 names a 2.0 status in 3.0's words.
func status3(s Status) string {
	switch s {
	case StatusOnline:
		return api3.StatusOnline
	case StatusOffline:
		return api3.StatusOffline
	}
	return api3.StatusProcessing
}

// v3 returns d as API 3.0 describes a domain. The emulator's domains are
// all mainland web domains.
func (d *domain) v3() api3.Domain {
	origins := strings.Split(d.origin, ";")
	originType := "domain"
	if h, _, err := net.SplitHostPort(origins[0]); net.ParseIP(origins[0]) != nil || err == nil && net.ParseIP(h) != nil {
		originType = "ip"
	}
	return api3.Domain{
		ResourceID: fmt.Sprintf("cdn-%08d", d.id), Domain: d.host, Cname: d.host + ".cdn.dnsv1.com",
		Status: status3(d.status), ServiceType: "web", ProjectID: int64(d.projectID), Area: "mainland",
		Origin:     api3.Origin{Origins: origins, OriginType: originType, OriginPullProtocol: "http"},
		CreateTime: d.created, UpdateTime: d.updated,
	}
}

// Domains returns every domain, in the order added.
func (a *account3) Domains() []api3.Domain {
	all := a.e.sortedDomains(a.now)
	out := make([]api3.Domain, len(all))
	for i, d := range all {
		out[i] = d.v3()
	}
	return out
}

// Domain returns the domain of that name.
func (a *account3) Domain(name string) (api3.Domain, bool) {
	if d := a.e.lookup(name, a.now); d != nil {
		return d.v3(), true
	}
	return api3.Domain{}, false
}

// AddDomain adds a domain as AddCdnHost does: it deploys, then goes
// online, and the names that make AddCdnHost fail make it fail alike.
func (a *account3) AddDomain(d api3.Domain) *api3.Error {
	host := strings.ToLower(d.Domain)
	switch {
	case checkHost(host) != nil:
		return &api3.Error{Code: "InvalidParameter.CdnHostInvalidParam", Message: "域名格式不合法：" + host}
	case strings.HasSuffix(host, suffixTaken):
		return &api3.Error{Code: "ResourceUnavailable.CdnHostBelongsToOthersInMainland", Message: "域名已被其他账号接入：" + host}
	case strings.HasSuffix(host, suffixNoICP):
		return &api3.Error{Code: "ResourceUnavailable.CdnHostNoIcp", Message: "域名未在工信部备案：" + host}
	case len(a.e.domains) >= a.e.limits.Domains:
		return &api3.Error{Code: "LimitExceeded.CdnUserTooManyHosts", Message: fmt.Sprintf("接入域名数量已达上限 %d。", a.e.limits.Domains)}
	}
	nd := a.e.addDomain(host, StatusDeploying, strings.Join(d.Origin.Origins, ";"), int(d.ProjectID), "cname", a.now)
	a.e.deploy(nd, a.now)
	return nil
}

// SetStatus starts (deploys) or stops a domain, as OnlineHost and
// OfflineHost do.
func (a *account3) SetStatus(name, status string, now time.Time) {
	d := a.e.lookup(name, now)
	if d == nil {
		return
	}
	if status == api3.StatusOnline {
		a.e.deploy(d, now)
		return
	}
	d.status, d.updated = StatusOffline, now
}

// DeleteDomain removes a domain.
func (a *account3) DeleteDomain(name string) { delete(a.e.domains, name) }

// used returns the counter of today's usage a quota kind spends in an
// area: the mainland counters are those of 2.0's RefreshCdnUrl,
// RefreshCdnDir and CdnPusherV2, so both generations draw on one quota.
func (a *account3) used(kind, area string) *int {
	u := a.e.usageOf(a.secretID, a.now)
	if area != "mainland" {
		if u.overseas == nil {
			u.overseas = make(map[string]*int)
		}
		if u.overseas[kind] == nil {
			u.overseas[kind] = new(int)
		}
		return u.overseas[kind]
	}
	switch kind {
	case api3.QuotaURLPurge:
		return &u.refreshURLs
	case api3.QuotaPathPurge:
		return &u.refreshDirs
	}
	return &u.pushURLs
}

// total returns the daily limit of a quota kind.
func (a *account3) total(kind string) int {
	switch kind {
	case api3.QuotaURLPurge:
		return a.e.limits.RefreshURLsPerDay
	case api3.QuotaPathPurge:
		return a.e.limits.RefreshDirsPerDay
	}
	return a.e.limits.PushURLsPerDay
}

// Quotas returns the caller's quotas of a kind for today (Beijing time).
func (a *account3) Quotas(kind string) []api3.Quota {
	out := make([]api3.Quota, 0, len(api3.QuotaAreas))
	for _, area := range api3.QuotaAreas {
		total := int64(a.total(kind))
		out = append(out, api3.Quota{Batch: api3.DefaultBatch[kind], Total: total,
			Available: max(total-int64(*a.used(kind, area)), 0), Area: area})
	}
	return out
}

// Spend counts URLs against the caller's day.
func (a *account3) Spend(kind string, byArea map[string]int64) {
	for area, n := range byArea {
		*a.used(kind, area) += int(n)
	}
}

// NewTaskID returns a task id in the API's style.
func (a *account3) NewTaskID(now time.Time) string { return a.e.taskID(now) }

// AddTasks records a call's tasks: purges in the history GetCdnRefreshLog
// reads (one entry per domain), prefetches beside it.
func (a *account3) AddTasks(tasks []api3.Task) {
	if len(tasks) == 0 {
		return
	}
	if tasks[0].Kind == api3.TaskPush {
		a.e.recordPushes(tasks)
		return
	}
	var order []*domain
	groups := make(map[*domain][]string)
	for _, t := range tasks {
		d := a.e.lookup(api3.HostOf(t.URL), a.now)
		if d == nil {
			continue
		}
		if _, seen := groups[d]; !seen {
			order = append(order, d)
		}
		groups[d] = append(groups[d], t.URL)
	}
	kind := 0
	if tasks[0].Kind == api3.TaskPathPurge {
		kind = 1
	}
	a.e.record(kind, tasks[0].TaskID, order, groups, tasks[0].CreateTime)
}

// Tasks returns every purge and prefetch of either generation, oldest
// first, one per URL.
func (a *account3) Tasks() []api3.Task {
	var out []api3.Task
	for _, l := range a.e.logs {
		kind, flush := api3.TaskURLPurge, ""
		if l.Type == 1 {
			kind, flush = api3.TaskPathPurge, "flush"
		}
		for _, u := range l.URLList {
			out = append(out, api3.Task{TaskID: l.taskID, Kind: kind, URL: u, FlushType: flush,
				Area: "mainland", Status: "done", CreateTime: l.at})
		}
	}
	out = append(out, a.e.pushes...)
	slices.SortStableFunc(out, func(x, y api3.Task) int { return x.CreateTime.Compare(y.CreateTime) })
	return out
}

// recordPushes adds prefetch tasks, keeping at most maxLogs.
func (e *Emulator) recordPushes(tasks []api3.Task) {
	e.pushes = append(e.pushes, tasks...)
	if over := len(e.pushes) - maxLogs; over > 0 {
		e.pushes = append(e.pushes[:0:0], e.pushes[over:]...)
	}
}
