package emulator

import (
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/cdnproxy/cdnproxy/internal/api3"
)

// maxLogs bounds the purge history GetCdnRefreshLog reads; the oldest
// entries go first. retention is how far back it reaches, as documented.
const (
	maxLogs   = 10000
	retention = 30 * 24 * time.Hour
)

// usage is what one SecretId has used on one Beijing day.
type usage struct {
	day                      string // "20060102"
	refreshURLs, refreshDirs int
	pushURLs                 int
	// overseas counts API 3.0's overseas quotas, by quota kind; 2.0
	// has no areas and spends the counters above, which 3.0 calls
	// count as the mainland's.
	overseas map[string]*int
}

// usageOf returns the SecretId's counters for today, reset on a new day.
func (e *Emulator) usageOf(secretID string, now time.Time) *usage {
	day := now.In(beijing).Format("20060102")
	u := e.usage[secretID]
	if u == nil || u.day != day {
		u = &usage{day: day}
		e.usage[secretID] = u
	}
	return u
}

// refreshLog is one purge task as GetCdnRefreshLog lists it.
type refreshLog struct {
	ID        int      `json:"id"`
	AppID     int      `json:"app_id"`
	ProjectID int      `json:"project_id"`
	Host      string   `json:"host"`
	Type      int      `json:"type"`   // 0 URL, 1 directory
	Status    int      `json:"status"` // 1 done
	URLList   []string `json:"url_list"`
	Datetime  string   `json:"datetime"`

	taskID string
	at     time.Time
}

// urlBatch checks a list of URLs (or directories) for a purge or prefetch:
// at least one, at most perCall (else batchCode), each an http(s) URL of
// an online domain. It returns the URLs grouped by domain, in first-seen
// order.
func (e *Emulator) urlBatch(r *request, name string, perCall, batchCode int) ([]*domain, map[*domain][]string, *reply) {
	items := r.list(name)
	fail := func(rep reply) ([]*domain, map[*domain][]string, *reply) { return nil, nil, &rep }
	if len(items) == 0 {
		return fail(errParam(name + ".n is required"))
	}
	if len(items) > perCall {
		return fail(errModule(batchCode, fmt.Sprintf("cdn batch limit exceeded[%d %s in one call, limit %d]", len(items), name, perCall)))
	}
	var order []*domain
	groups := make(map[*domain][]string)
	for _, raw := range items {
		u, err := url.Parse(raw)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Hostname() == "" {
			return fail(errParam(fmt.Sprintf("%q is not an http(s) URL", raw)))
		}
		d := e.lookup(u.Hostname(), r.now)
		switch {
		case d == nil:
			return fail(errModule(9110, tailNoHost))
		case d.status != StatusOnline:
			return fail(errModule(9112, tailNotOnline))
		}
		if _, seen := groups[d]; !seen {
			order = append(order, d)
		}
		groups[d] = append(groups[d], raw)
	}
	return order, groups, nil
}

// overDaily is the failure for a daily limit.
func overDaily(code, used, asked, limit int) reply {
	return errModule(code, fmt.Sprintf("cdn day limit exceeded[%d used today, %d asked, limit %d]", used, asked, limit))
}

// taskID returns a new task id in the API's style: a long decimal string.
func (e *Emulator) taskID(now time.Time) string {
	e.taskSeq++
	return fmt.Sprintf("%d%06d", now.Unix(), e.taskSeq%1000000)
}

// record adds purge tasks to the history, one per domain.
func (e *Emulator) record(kind int, taskID string, order []*domain, groups map[*domain][]string, now time.Time) {
	for _, d := range order {
		e.logs = append(e.logs, refreshLog{
			ID: e.nextLogID, AppID: appID, ProjectID: d.projectID, Host: d.host,
			Type: kind, Status: 1, URLList: groups[d],
			Datetime: now.In(beijing).Format(timeLayout), taskID: taskID, at: now,
		})
		e.nextLogID++
	}
	if over := len(e.logs) - maxLogs; over > 0 {
		e.logs = append(e.logs[:0:0], e.logs[over:]...)
	}
}

// quota is one of a call kind's limits: how many items one call may
// carry and how many a SecretId may spend a day, with the module codes for
// each, and which of the day's counters it spends.
type quota struct {
	param              string // the list parameter: "urls" or "dirs"
	perCall, batchCode int
	perDay, dayCode    int
	used               func(*usage) *int
}

// spend checks a batch call against q and, when it fits, counts it
// against the caller's day. It returns the domains in order, their items
// and the item count, or the refusal.
func (e *Emulator) spend(r *request, q quota) ([]*domain, map[*domain][]string, int, *reply) {
	order, groups, bad := e.urlBatch(r, q.param, q.perCall, q.batchCode)
	if bad != nil {
		return nil, nil, 0, bad
	}
	n := countAll(groups)
	used := q.used(e.usageOf(r.secretID, r.now))
	if *used+n > q.perDay {
		rep := overDaily(q.dayCode, *used, n, q.perDay)
		return nil, nil, 0, &rep
	}
	*used += n
	return order, groups, n, nil
}

// refreshCdnURL purges URLs (urls.n).
func (e *Emulator) refreshCdnURL(r *request) reply {
	order, groups, n, bad := e.spend(r, quota{
		param: "urls", perCall: e.limits.RefreshURLsPerCall, batchCode: 22043,
		perDay: e.limits.RefreshURLsPerDay, dayCode: 22044,
		used: func(u *usage) *int { return &u.refreshURLs },
	})
	if bad != nil {
		return *bad
	}
	id := e.taskID(r.now)
	e.record(0, id, order, groups, r.now)
	return ok(countTask{Count: n, TaskID: id})
}

// refreshCdnDir purges directories (dirs.n); type is 1 (changed files
// only, the default) or 2 (everything). The documented success has no
// data.
func (e *Emulator) refreshCdnDir(r *request) reply {
	if t := r.get("type"); t != "" && t != "1" && t != "2" {
		return errParam("type must be 1 or 2")
	}
	order, groups, _, bad := e.spend(r, quota{
		param: "dirs", perCall: e.limits.RefreshDirsPerCall, batchCode: 22045,
		perDay: e.limits.RefreshDirsPerDay, dayCode: 22046,
		used: func(u *usage) *int { return &u.refreshDirs },
	})
	if bad != nil {
		return *bad
	}
	e.record(1, e.taskID(r.now), order, groups, r.now)
	return ok(nil)
}

// countTask is the data of RefreshCdnUrl and CdnUrlPusher.
type countTask struct {
	Count  int    `json:"count"`
	TaskID string `json:"task_id"`
}

// pushTask is one entry of CdnPusherV2's data.task_ids.
type pushTask struct {
	TaskID int    `json:"task_id"`
	Date   string `json:"date"`
}

// cdnPusherV2 prefetches URLs (urls.n), one task per domain.
func (e *Emulator) cdnPusherV2(r *request) reply {
	order, groups, _, bad := e.spend(r, quota{
		param: "urls", perCall: e.limits.PushURLsPerCall, batchCode: 23100,
		perDay: e.limits.PushURLsPerDay, dayCode: 23101,
		used: func(u *usage) *int { return &u.pushURLs },
	})
	if bad != nil {
		return *bad
	}
	tasks := make([]pushTask, 0, len(order))
	for _, d := range order {
		e.taskSeq++
		id := 41772 + e.taskSeq
		tasks = append(tasks, pushTask{TaskID: id, Date: r.now.In(beijing).Format("20060102")})
		e.recordPushes(pushTasks(strconv.Itoa(id), groups[d], r.now))
	}
	return ok(struct {
		TaskIDs []pushTask `json:"task_ids"`
	}{tasks})
}

// cdnURLPusher is the older prefetch action: one task id, and the older
// codes 21002 (batch) and 21000 (day); it shares CdnPusherV2's quota.
func (e *Emulator) cdnURLPusher(r *request) reply {
	order, groups, n, bad := e.spend(r, quota{
		param: "urls", perCall: e.limits.PushURLsPerCall, batchCode: 21002,
		perDay: e.limits.PushURLsPerDay, dayCode: 21000,
		used: func(u *usage) *int { return &u.pushURLs },
	})
	if bad != nil {
		return *bad
	}
	id := e.taskID(r.now)
	for _, d := range order {
		e.recordPushes(pushTasks(id, groups[d], r.now))
	}
	return ok(countTask{Count: n, TaskID: id})
}

// getCdnRefreshLog lists purge tasks: those of taskId, or those between
// startDate and endDate ("2006-01-02 15:04:05", Beijing time), optionally
// only those whose URLs contain url. History reaches back 30 days.
func (e *Emulator) getCdnRefreshLog(r *request) reply {
	taskID, sub := r.get("taskId"), r.get("url")
	var start, end time.Time
	if taskID == "" {
		var err error
		start, err = time.ParseInLocation(timeLayout, r.get("startDate"), beijing)
		if err != nil {
			return errParam("startDate and endDate (2006-01-02 15:04:05) are required without taskId")
		}
		end, err = time.ParseInLocation(timeLayout, r.get("endDate"), beijing)
		if err != nil || end.Before(start) {
			return errParam("startDate and endDate (2006-01-02 15:04:05) are required without taskId")
		}
	}
	logs := []refreshLog{}
	for _, l := range e.logs {
		switch {
		case r.now.Sub(l.at) > retention:
		case taskID != "" && l.taskID != taskID:
		case taskID == "" && (l.at.Before(start) || l.at.After(end)):
		case sub != "" && !anyContains(l.URLList, sub):
		default:
			logs = append(logs, l)
		}
	}
	return okLegacy(struct {
		Logs  []refreshLog `json:"logs"`
		Total int          `json:"total"`
	}{logs, len(logs)})
}

// countAll counts the URLs of all groups.
func countAll(groups map[*domain][]string) int {
	n := 0
	for _, g := range groups {
		n += len(g)
	}
	return n
}

// anyContains reports whether any of list contains sub.
func anyContains(list []string, sub string) bool {
	for _, s := range list {
		if strings.Contains(s, sub) {
			return true
		}
	}
	return false
}

// logEntry is one hourly log package of GetCdnLogList.
type logEntry struct {
	Date string `json:"date"`
	Type int    `json:"type"`
	Name string `json:"name"`
	Link string `json:"link"`
}

// maxLogEntries is the most GetCdnLogList returns: 30 days of hours.
const maxLogEntries = 720

// getCdnLogList lists hourly access-log packages of a domain (host)
// between startDate and endDate (default: the last 30 days), for every
// complete hour since the domain was created. Links are valid 24 hours.
func (e *Emulator) getCdnLogList(r *request) reply {
	host := strings.ToLower(r.get("host"))
	if host == "" {
		return errParam("host is required")
	}
	d := e.lookup(host, r.now)
	if d == nil {
		return errModule(9110, tailNoHost)
	}
	end, start := r.now, r.now.Add(-retention)
	if s := r.get("startDate"); s != "" {
		t, err := time.ParseInLocation(timeLayout, s, beijing)
		if err != nil {
			return errParam("startDate is not 2006-01-02 15:04:05")
		}
		start = t
	}
	if s := r.get("endDate"); s != "" {
		t, err := time.ParseInLocation(timeLayout, s, beijing)
		if err != nil {
			return errParam("endDate is not 2006-01-02 15:04:05")
		}
		end = t
	}
	if end.After(r.now) {
		end = r.now
	}
	if start.Before(d.created) {
		start = d.created
	}
	list := []logEntry{}
	expires := strconv.FormatInt(r.now.Add(24*time.Hour).Unix(), 10)
	for h := start.In(beijing).Truncate(time.Hour); !h.Add(time.Hour).After(end) && len(list) < maxLogEntries; h = h.Add(time.Hour) {
		name := h.Format("2006010215") + "-" + d.host
		list = append(list, logEntry{
			Date: h.Format("2006-01-02"), Type: 1, Name: name,
			Link: "http://log-download.cdn.qcloud.com/" + h.Format("20060102/15") + "/" + name + ".gz?st=mock&e=" + expires,
		})
	}
	return ok(struct {
		Now  int64      `json:"now"`
		List []logEntry `json:"list"`
	}{r.now.Unix(), list})
}

// pushTasks are a 2.0 prefetch's URLs as the tasks DescribePushTasks
// lists.
func pushTasks(id string, urls []string, now time.Time) []api3.Task {
	out := make([]api3.Task, len(urls))
	for i, u := range urls {
		out[i] = api3.Task{TaskID: id, Kind: api3.TaskPush, URL: u, Area: "mainland", Status: "done", CreateTime: now}
	}
	return out
}
