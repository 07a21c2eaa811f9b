package api3

import (
	"fmt"
	"slices"
	"strings"
	"time"
)

// Call is one call of an action, its parameters checked by Verify.
type Call struct {
	// Params are the action's parameters (Params.Action of Verify's
	// answer); FromForm reports that they came as strings.
	Params   map[string]any
	FromForm bool
	// Now is the account's clock.
	Now time.Time
	// Strict makes purges and pushes as strict as the API's: Urls (Paths
	// and FlushType) required and not empty, every URL http(s) on a
	// domain of the account, and each call its own TaskId. Without it
	// they accept an empty call and unknown domains (spending the
	// mainland quota) and answer FixedTaskID, as the test fake's
	// original, stateless callers expect.
	Strict bool
}

// handler runs an action against an account and returns the action's
// answer members.
type handler func(a Account, c Call) (any, *Error)

// handlers are the actions served.
var handlers = map[string]handler{
	"PurgeUrlsCache":        purgeUrlsCache,
	"PurgePathCache":        purgePathCache,
	"PushUrlsCache":         pushUrlsCache,
	"DescribePurgeTasks":    describePurgeTasks,
	"DescribePushTasks":     describePushTasks,
	"DescribePurgeQuota":    describePurgeQuota,
	"DescribePushQuota":     describePushQuota,
	"DescribeDomains":       describeDomains,
	"DescribeDomainsConfig": describeDomainsConfig,
	"StartCdnDomain":        startCdnDomain,
	"StopCdnDomain":         stopCdnDomain,
	"DeleteCdnDomain":       deleteCdnDomain,
	"AddCdnDomain":          addCdnDomain,
	"DescribeCdnDomainLogs": describeCdnDomainLogs,
	"DescribeCdnData":       describeCdnData,
}

// Handles reports whether Run serves an action. Other actions are
// answered InvalidAction by the API.
func Handles(action string) bool {
	_, ok := handlers[action]
	return ok
}

// Run carries out an action the package serves against a and returns the
// members of its answer (for SuccessBody) or the API's error.
func Run(a Account, action string, c Call) (any, *Error) {
	h, ok := handlers[action]
	if !ok {
		return nil, &Error{"InvalidAction", Message("InvalidAction")}
	}
	return h(a, c)
}

// Actions lists the actions served, sorted.
func Actions() []string {
	return []string{"AddCdnDomain", "DeleteCdnDomain", "DescribeCdnData", "DescribeCdnDomainLogs",
		"DescribeDomains", "DescribeDomainsConfig", "DescribePurgeQuota", "DescribePurgeTasks",
		"DescribePushQuota", "DescribePushTasks", "PurgePathCache", "PurgeUrlsCache", "PushUrlsCache",
		"StartCdnDomain", "StopCdnDomain"}
}

// paramErr is InvalidParameter.CdnParamError about one parameter.
func paramErr(name, why string) *Error {
	return badValue("InvalidParameter.CdnParamError", name, why)
}

// oneOf checks an optional enumerated string.
func oneOf(name, v string, allowed ...string) *Error {
	if v == "" || slices.Contains(allowed, v) {
		return nil
	}
	return paramErr(name, "应为 "+strings.Join(allowed, "、")+" 之一")
}

// --- purge and push -------------------------------------------------------

// submission is one purge or push call to be checked and recorded.
type submission struct {
	kind      string // TaskURLPurge, TaskPathPurge or TaskPush
	quota     string // QuotaURLPurge …
	list      string // the parameter naming the URLs
	urls      []string
	area      string
	areas     []string // the Area parameter's allowed values
	flushType string
	batchCode string
	dayCode   string
}

// HostOf returns the host of an http(s) URL, lower case, without port, or "".
func HostOf(u string) string {
	rest, ok := strings.CutPrefix(u, "https://")
	if !ok {
		if rest, ok = strings.CutPrefix(u, "http://"); !ok {
			return ""
		}
	}
	if i := strings.IndexAny(rest, "/?#"); i >= 0 {
		rest = rest[:i]
	}
	if i := strings.LastIndexByte(rest, ':'); i >= 0 {
		rest = rest[:i]
	}
	return strings.ToLower(rest)
}

// submit checks a purge or push against domains and quotas, spends the
// quota, records one task per URL and returns the TaskId.
func submit(a Account, sub submission, c Call) (string, *Error) {
	strict, now := c.Strict, c.Now
	if err := oneOf("Area", sub.area, sub.areas...); err != nil {
		return "", err
	}
	if strict && len(sub.urls) == 0 {
		return "", paramErr(sub.list, "不能为空")
	}
	spend := map[string]int64{}
	taskArea := make([]string, len(sub.urls))
	for i, u := range sub.urls {
		name := fmt.Sprintf("%s.%d", sub.list, i)
		host := HostOf(u)
		if host == "" && strict {
			return "", paramErr(name, "须为以 http:// 或 https:// 开头的完整地址")
		}
		area := sub.area
		d, found := a.Domain(host)
		switch {
		case !found && strict:
			return "", notFound(host)
		case found && sub.kind == TaskPush && d.Status != StatusOnline:
			return "", &Error{"ResourceUnavailable.CdnHostIsNotOnline", "域名未上线，不能预热：" + host}
		case found && area != "" && area != "global" && d.Area != "global" && d.Area != area:
			return "", paramErr("Area", "与域名 "+host+" 的加速区域 "+d.Area+" 不符")
		case found && area == "":
			area = d.Area
		case area == "":
			area = "mainland"
		}
		taskArea[i] = area
		if area == "global" {
			spend["mainland"]++
			spend["overseas"]++
		} else {
			spend[area]++
		}
	}
	qs := a.Quotas(sub.quota)
	for i := range qs {
		n := spend[qs[i].Area]
		if n > qs[i].Batch {
			return "", &Error{sub.batchCode, fmt.Sprintf("单次提交数量 %d 超过上限 %d。", n, qs[i].Batch)}
		}
		if n > qs[i].Available {
			return "", &Error{sub.dayCode, fmt.Sprintf("提交数量 %d 超过今日剩余额度 %d。", n, qs[i].Available)}
		}
	}
	a.Spend(sub.quota, spend)
	id := FixedTaskID
	if strict {
		id = a.NewTaskID(now)
	}
	tasks := make([]Task, len(sub.urls))
	for i, u := range sub.urls {
		tasks[i] = Task{TaskID: id, Kind: sub.kind, URL: u, FlushType: sub.flushType,
			Area: taskArea[i], Status: "done", CreateTime: now}
	}
	a.AddTasks(tasks)
	return id, nil
}

// taskAnswer is the answer of the purge and push actions.
type taskAnswer struct {
	TaskID string `json:"TaskId"`
}

func purgeUrlsCache(a Account, c Call) (any, *Error) {
	var req struct {
		Urls      []string
		Area      string
		UrlEncode bool
	}
	if err := decode(c.Params, []member{{name: "Urls", kind: kStrings, required: c.Strict},
		{name: "Area", kind: kString}, {name: "UrlEncode", kind: kBool}}, c.FromForm, &req); err != nil {
		return nil, err
	}
	id, err := submit(a, submission{kind: TaskURLPurge, quota: QuotaURLPurge, list: "Urls", urls: req.Urls, area: req.Area,
		areas: []string{"mainland", "overseas"}, batchCode: "LimitExceeded.CdnPurgeUrlExceedBatchLimit",
		dayCode: "LimitExceeded.CdnPurgeUrlExceedDayLimit"}, c)
	return taskAnswer{id}, err
}

func purgePathCache(a Account, c Call) (any, *Error) {
	var req struct {
		Paths     []string
		FlushType string
		UrlEncode bool
		Area      string
	}
	if err := decode(c.Params, []member{{name: "Paths", kind: kStrings, required: c.Strict},
		{name: "FlushType", kind: kString, required: c.Strict}, {name: "UrlEncode", kind: kBool},
		{name: "Area", kind: kString}}, c.FromForm, &req); err != nil {
		return nil, err
	}
	if err := oneOf("FlushType", req.FlushType, "flush", "delete"); err != nil {
		return nil, err
	}
	if req.FlushType == "" {
		req.FlushType = "flush"
	}
	id, err := submit(a, submission{kind: TaskPathPurge, quota: QuotaPathPurge, list: "Paths", urls: req.Paths, area: req.Area,
		areas: []string{"mainland", "overseas"}, flushType: req.FlushType,
		batchCode: "LimitExceeded.CdnPurgePathExceedBatchLimit", dayCode: "LimitExceeded.CdnPurgePathExceedDayLimit"}, c)
	return taskAnswer{id}, err
}

func pushUrlsCache(a Account, c Call) (any, *Error) {
	var req struct {
		Urls  []string
		Area  string
		Layer string
	}
	members := []member{{name: "Urls", kind: kStrings, required: c.Strict}, {name: "UserAgent", kind: kString},
		{name: "Area", kind: kString}, {name: "Layer", kind: kString}, {name: "ParseM3U8", kind: kBool},
		{name: "DisableRange", kind: kBool}, {name: "UrlEncode", kind: kBool},
		{name: "Headers", kind: kObjects, members: []member{{name: "Name", kind: kString}, {name: "Value", kind: kString}}}}
	if err := decode(c.Params, members, c.FromForm, &req); err != nil {
		return nil, err
	}
	if err := oneOf("Layer", req.Layer, "middle"); err != nil {
		return nil, err
	}
	id, err := submit(a, submission{kind: TaskPush, quota: QuotaURLPush, list: "Urls", urls: req.Urls, area: req.Area,
		areas: []string{"mainland", "overseas", "global"}, batchCode: "LimitExceeded.CdnPushExceedBatchLimit",
		dayCode: "LimitExceeded.CdnPushExceedDayLimit"}, c)
	return taskAnswer{id}, err
}

// --- task history ---------------------------------------------------------

// taskQuery is what DescribePurgeTasks and DescribePushTasks share.
type taskQuery struct {
	StartTime, EndTime, Keyword, Status, Area string
	TaskID                                    string `json:"TaskId"`
	Offset                                    int64
	Limit                                     *int64
}

var taskQueryMembers = []member{{name: "StartTime", kind: kString}, {name: "EndTime", kind: kString},
	{name: "TaskId", kind: kString}, {name: "Offset", kind: kInt}, {name: "Limit", kind: kInt},
	{name: "Keyword", kind: kString}, {name: "Status", kind: kString}, {name: "Area", kind: kString}}

// parseRange reads a StartTime/EndTime pair.
func parseRange(start, end string) (time.Time, time.Time, *Error) {
	st, err1 := time.ParseInLocation(TimeLayout, start, CST)
	et, err2 := time.ParseInLocation(TimeLayout, end, CST)
	if err1 != nil || err2 != nil || et.Before(st) {
		return st, et, &Error{"InvalidParameter.CdnStatInvalidDate",
			"日期参数错误：StartTime 与 EndTime 须为 " + TimeLayout + " 格式，且 EndTime 不早于 StartTime。"}
	}
	return st, et, nil
}

// limits checks Offset and Limit and returns the limit to apply.
func limits(offset int64, limit *int64, def, max int64) (int64, *Error) {
	if offset < 0 {
		return 0, paramErr("Offset", "不能小于 0")
	}
	if limit == nil {
		return def, nil
	}
	if *limit < 1 || *limit > max {
		return 0, paramErr("Limit", fmt.Sprintf("取值范围为 1～%d", max))
	}
	return *limit, nil
}

// page returns the items of one page.
func page[T any](items []T, offset, limit int64) []T {
	if offset >= int64(len(items)) {
		return []T{}
	}
	return items[offset:min(int64(len(items)), offset+limit)]
}

// findTasks returns the tasks of kinds that match q, newest first.
func findTasks(a Account, q taskQuery, kinds []string, statuses []string) ([]Task, int64, *Error) {
	if q.TaskID == "" && (q.StartTime == "" || q.EndTime == "") {
		return nil, 0, missing("TaskId 或 StartTime、EndTime")
	}
	var from, to time.Time
	if q.TaskID == "" {
		var err *Error
		if from, to, err = parseRange(q.StartTime, q.EndTime); err != nil {
			return nil, 0, err
		}
	}
	if err := oneOf("Status", q.Status, statuses...); err != nil {
		return nil, 0, err
	}
	if err := oneOf("Area", q.Area, "mainland", "overseas", "global"); err != nil {
		return nil, 0, err
	}
	limit, err := limits(q.Offset, q.Limit, 20, 1000)
	if err != nil {
		return nil, 0, err
	}
	var out []Task
	all := a.Tasks()
	for i := len(all) - 1; i >= 0; i-- {
		t := all[i]
		switch {
		case !slices.Contains(kinds, t.Kind),
			q.TaskID != "" && t.TaskID != q.TaskID,
			q.TaskID == "" && (t.CreateTime.Before(from) || t.CreateTime.After(to)),
			q.Keyword != "" && !strings.Contains(t.URL, q.Keyword),
			q.Status != "" && t.Status != q.Status,
			q.Area != "" && t.Area != q.Area:
			continue
		}
		out = append(out, t)
	}
	return page(out, q.Offset, limit), int64(len(out)), nil
}

// purgeLog is the API's PurgeTask.
type purgeLog struct {
	TaskID     string `json:"TaskId"`
	URL        string `json:"Url"`
	Status     string `json:"Status"`
	PurgeType  string `json:"PurgeType"`
	FlushType  string `json:"FlushType"`
	CreateTime string `json:"CreateTime"`
}

func describePurgeTasks(a Account, c Call) (any, *Error) {
	var req struct {
		taskQuery
		PurgeType string
	}
	if err := decode(c.Params, append(slices.Clone(taskQueryMembers), member{name: "PurgeType", kind: kString}),
		c.FromForm, &req); err != nil {
		return nil, err
	}
	if err := oneOf("PurgeType", req.PurgeType, TaskURLPurge, TaskPathPurge); err != nil {
		return nil, err
	}
	kinds := []string{TaskURLPurge, TaskPathPurge}
	if req.PurgeType != "" {
		kinds = []string{req.PurgeType}
	}
	tasks, total, err := findTasks(a, req.taskQuery, kinds, []string{"fail", "done", "process"})
	if err != nil {
		return nil, err
	}
	logs := make([]purgeLog, len(tasks))
	for i, t := range tasks {
		logs[i] = purgeLog{t.TaskID, t.URL, t.Status, t.Kind, t.FlushType, formatTime(t.CreateTime)}
	}
	return struct {
		PurgeLogs  []purgeLog `json:"PurgeLogs"`
		TotalCount int64      `json:"TotalCount"`
	}{logs, total}, nil
}

// pushLog is the API's PushTask.
type pushLog struct {
	TaskID     string `json:"TaskId"`
	URL        string `json:"Url"`
	Status     string `json:"Status"`
	Percent    int64  `json:"Percent"`
	CreateTime string `json:"CreateTime"`
	Area       string `json:"Area"`
	UpdateTime string `json:"UpdateTime"`
}

func describePushTasks(a Account, c Call) (any, *Error) {
	var req taskQuery
	if err := decode(c.Params, taskQueryMembers, c.FromForm, &req); err != nil {
		return nil, err
	}
	tasks, total, err := findTasks(a, req, []string{TaskPush}, []string{"fail", "done", "process", "invalid"})
	if err != nil {
		return nil, err
	}
	logs := make([]pushLog, len(tasks))
	for i, t := range tasks {
		ct := formatTime(t.CreateTime)
		logs[i] = pushLog{t.TaskID, t.URL, t.Status, 100, ct, t.Area, ct}
	}
	return struct {
		PushLogs   []pushLog `json:"PushLogs"`
		TotalCount int64     `json:"TotalCount"`
	}{logs, total}, nil
}

// --- quotas ----------------------------------------------------------------

func describePurgeQuota(a Account, c Call) (any, *Error) {
	if err := check(c.Params, nil, "", c.FromForm); err != nil {
		return nil, err
	}
	return struct {
		URLPurge  []Quota `json:"UrlPurge"`
		PathPurge []Quota `json:"PathPurge"`
	}{a.Quotas(QuotaURLPurge), a.Quotas(QuotaPathPurge)}, nil
}

func describePushQuota(a Account, c Call) (any, *Error) {
	if err := check(c.Params, nil, "", c.FromForm); err != nil {
		return nil, err
	}
	return struct {
		URLPush []Quota `json:"UrlPush"`
	}{a.Quotas(QuotaURLPush)}, nil
}
