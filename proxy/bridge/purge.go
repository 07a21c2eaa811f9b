package bridge

import (
	"strconv"
	"strings"
	"time"
)

// maxPages bounds every paging loop, so that an upstream whose totals
// never add up cannot keep a call going for ever.
const maxPages = 1000

// pages fetches a list page by page: fetch gets an offset and a limit of
// at most pageSize and returns how many items it got and the upstream's
// total. It stops after want items (want < 0: all of them), at the total,
// at a short page, or after maxPages pages.
func pages(offset, want, pageSize int, fetch func(offset, limit int) (got, total int, err error)) error {
	for n := 0; n < maxPages && want != 0; n++ {
		limit := pageSize
		if want > 0 && want < limit {
			limit = want
		}
		got, total, err := fetch(offset, limit)
		if err != nil {
			return err
		}
		offset += got
		if want > 0 {
			want -= got
		}
		if got < limit || offset >= total {
			return nil
		}
	}
	return nil
}

// countTask is the data of RefreshCdnUrl, RefreshCdnDir and CdnUrlPusher.
type countTask struct {
	Count  int    `json:"count"`
	TaskID string `json:"task_id"`
}

// taskAnswer is the Response of PurgeUrlsCache, PurgePathCache and
// PushUrlsCache.
type taskAnswer struct {
	TaskID string `json:"TaskId"`
}

// refreshCdnURL: RefreshCdnUrl urls.n -> PurgeUrlsCache Urls.
func (c *call) refreshCdnURL() error {
	urls, err := c.requiredList("urls")
	if err != nil {
		return err
	}
	var out taskAnswer
	if err := c.v3("PurgeUrlsCache", struct {
		Urls []string `json:"Urls"`
	}{urls}, &out); err != nil {
		return err
	}
	return c.ok(countTask{Count: len(urls), TaskID: out.TaskID})
}

// refreshCdnDir: RefreshCdnDir dirs.n and type -> PurgePathCache Paths and
// FlushType (1 flush: changed resources only, 2 delete: everything).
func (c *call) refreshCdnDir() error {
	dirs, err := c.requiredList("dirs")
	if err != nil {
		return err
	}
	var flush string
	switch c.get("type") {
	case "1":
		flush = "flush"
	case "2":
		flush = "delete"
	default:
		return c.invalid("type must be 1 (purge changed resources) or 2 (purge everything)")
	}
	var out taskAnswer
	if err := c.v3("PurgePathCache", struct {
		Paths     []string `json:"Paths"`
		FlushType string   `json:"FlushType"`
	}{dirs, flush}, &out); err != nil {
		return err
	}
	return c.ok(countTask{Count: len(dirs), TaskID: out.TaskID})
}

// push sends urls.n to PushUrlsCache and returns the urls and the task id.
func (c *call) push() ([]string, string, error) {
	urls, err := c.requiredList("urls")
	if err != nil {
		return nil, "", err
	}
	var out taskAnswer
	if err := c.v3("PushUrlsCache", struct {
		Urls []string `json:"Urls"`
	}{urls}, &out); err != nil {
		return nil, "", err
	}
	return urls, out.TaskID, nil
}

// cdnURLPusher: CdnUrlPusher -> PushUrlsCache; data.count, data.task_id.
func (c *call) cdnURLPusher() error {
	urls, task, err := c.push()
	if err != nil {
		return err
	}
	return c.ok(countTask{Count: len(urls), TaskID: task})
}

// pushTaskID is one entry of CdnPusherV2's data.task_ids. 2.0 gave a
// number; 3.0's task id is a string and is passed on as it is.
type pushTaskID struct {
	TaskID string `json:"task_id"`
	Date   string `json:"date"`
}

// cdnPusherV2: CdnPusherV2 -> PushUrlsCache; data.task_ids with the one
// 3.0 task and its date (YYYYMMDD, Beijing time).
func (c *call) cdnPusherV2() error {
	_, task, err := c.push()
	if err != nil {
		return err
	}
	return c.ok(struct {
		TaskIDs []pushTaskID `json:"task_ids"`
	}{[]pushTaskID{{TaskID: task, Date: c.taskDate(task)}}})
}

// taskDate returns the date a 3.0 task id was made: its prefix before '-'
// is the Unix time of submission ("1533045796-i60rfmzm"); other ids get
// today's date.
func (c *call) taskDate(task string) string {
	t := c.b.now()
	if prefix, _, ok := strings.Cut(task, "-"); ok {
		if sec, err := strconv.ParseInt(prefix, 10, 64); err == nil && sec > 0 {
			t = time.Unix(sec, 0)
		}
	}
	return t.In(beijing).Format("20060102")
}

// taskQuery is the common part of DescribePurgeTasks and DescribePushTasks.
type taskQuery struct {
	PurgeType string `json:"PurgeType,omitempty"`
	StartTime string `json:"StartTime,omitempty"`
	EndTime   string `json:"EndTime,omitempty"`
	TaskID    string `json:"TaskId,omitempty"`
	Offset    int    `json:"Offset"`
	Limit     int    `json:"Limit"`
	Keyword   string `json:"Keyword,omitempty"`
}

// taskSelection reads taskId or the startDate/endDate range, one of which
// is required.
func (c *call) taskSelection() (taskQuery, error) {
	if id := c.get("taskId"); id != "" {
		return taskQuery{TaskID: id}, nil
	}
	start, end, err := c.timeRange()
	if err != nil {
		return taskQuery{}, c.invalid("taskId, or startDate and endDate, are required")
	}
	return taskQuery{StartTime: start, EndTime: end}, nil
}

// refreshLog is one entry of GetCdnRefreshLog's data.logs.
type refreshLog struct {
	ID        int64    `json:"id"`
	AppID     int      `json:"app_id"`
	ProjectID int      `json:"project_id"`
	Host      string   `json:"host"`
	Type      int      `json:"type"`   // 0 URL, 1 directory
	Status    int      `json:"status"` // 1 done, 0 running, -1 failed
	URLList   []string `json:"url_list"`
	Datetime  string   `json:"datetime"`
	TaskID    string   `json:"task_id"`
}

// purgeTask is one entry of DescribePurgeTasks' PurgeLogs.
type purgeTask struct {
	TaskID     string `json:"TaskId"`
	URL        string `json:"Url"`
	Status     string `json:"Status"`
	PurgeType  string `json:"PurgeType"`
	FlushType  string `json:"FlushType"`
	CreateTime string `json:"CreateTime"`
}

// taskPage is the most tasks one DescribePurgeTasks or DescribePushTasks
// call is asked for.
const taskPage = 100

// getCdnRefreshLog: GetCdnRefreshLog (taskId or startDate/endDate, url)
// -> DescribePurgeTasks, once for URL purges and once for directory
// purges, every page of each.
func (c *call) getCdnRefreshLog() error {
	q, err := c.taskSelection()
	if err != nil {
		return err
	}
	q.Keyword = c.get("url")
	logs := []refreshLog{}
	for _, kind := range []string{"url", "path"} {
		q.PurgeType = kind
		err := pages(0, -1, taskPage, func(offset, limit int) (int, int, error) {
			q.Offset, q.Limit = offset, limit
			var out struct {
				PurgeLogs  []purgeTask `json:"PurgeLogs"`
				TotalCount int         `json:"TotalCount"`
			}
			if err := c.v3("DescribePurgeTasks", q, &out); err != nil {
				return 0, 0, err
			}
			for _, t := range out.PurgeLogs {
				logs = append(logs, refreshLogOf(t))
			}
			return len(out.PurgeLogs), out.TotalCount, nil
		})
		if err != nil {
			return err
		}
	}
	return c.okLegacy(struct {
		Logs  []refreshLog `json:"logs"`
		Total int          `json:"total"`
	}{logs, len(logs)})
}

// refreshLogOf translates one 3.0 purge task.
func refreshLogOf(t purgeTask) refreshLog {
	l := refreshLog{
		ID: numericID(t.TaskID + "\x00" + t.URL), Host: hostOf(t.URL),
		Status: taskStatus(t.Status), URLList: []string{t.URL}, Datetime: t.CreateTime, TaskID: t.TaskID,
	}
	if t.PurgeType == "path" {
		l.Type = 1
	}
	return l
}

// taskStatus maps 3.0's task status to 2.0's: done 1, process 0, any
// failure -1.
func taskStatus(s string) int {
	switch s {
	case "done":
		return 1
	case "process":
		return 0
	}
	return -1
}

// hostOf returns the host part of a URL ("" when there is none).
func hostOf(u string) string {
	_, rest, ok := strings.Cut(u, "://")
	if !ok {
		return ""
	}
	host, _, _ := strings.Cut(rest, "/")
	return host
}

// pushLog is one entry of GetPushLogs' data.logs (a bridge-defined shape:
// the 2.0 documents of GetPushLogs' answer were not available).
type pushLog struct {
	TaskID     string `json:"task_id"`
	URL        string `json:"url"`
	Host       string `json:"host"`
	Status     int    `json:"status"` // 1 done, 0 running, -1 failed
	Percent    int    `json:"percent"`
	Area       string `json:"area"`
	CreateTime string `json:"create_time"`
	UpdateTime string `json:"update_time"`
}

// getPushLogs: GetPushLogs (taskId or startDate/endDate or date, offset,
// limit) -> DescribePushTasks; without limit every page.
func (c *call) getPushLogs() error {
	if v, _ := c.list("status"); len(v) > 0 {
		return c.invalid("status.n is not supported by cdnproxy's API 3.0 bridge; filter the answer instead")
	}
	var q taskQuery
	if d := c.get("date"); d != "" && c.get("taskId") == "" && c.get("startDate") == "" {
		day, err := time.ParseInLocation("2006-01-02", d, beijing)
		if err != nil {
			return c.invalid("date must be a date 2006-01-02")
		}
		q = taskQuery{StartTime: day.Format(timeLayout), EndTime: day.Add(24*time.Hour - time.Second).Format(timeLayout)}
	} else {
		var err error
		if q, err = c.taskSelection(); err != nil {
			return err
		}
	}
	offset, limit, err := c.window()
	if err != nil {
		return err
	}
	logs, total := []pushLog{}, 0
	err = pages(offset, limit, taskPage, func(offset, limit int) (int, int, error) {
		q.Offset, q.Limit = offset, limit
		var out struct {
			PushLogs []struct {
				TaskID     string `json:"TaskId"`
				URL        string `json:"Url"`
				Status     string `json:"Status"`
				Percent    int    `json:"Percent"`
				CreateTime string `json:"CreateTime"`
				Area       string `json:"Area"`
				UpdateTime string `json:"UpdateTime"`
			} `json:"PushLogs"`
			TotalCount int `json:"TotalCount"`
		}
		if err := c.v3("DescribePushTasks", q, &out); err != nil {
			return 0, 0, err
		}
		for _, t := range out.PushLogs {
			logs = append(logs, pushLog{
				TaskID: t.TaskID, URL: t.URL, Host: hostOf(t.URL), Status: taskStatus(t.Status),
				Percent: t.Percent, Area: t.Area, CreateTime: t.CreateTime, UpdateTime: t.UpdateTime,
			})
		}
		total = out.TotalCount
		return len(out.PushLogs), out.TotalCount, nil
	})
	if err != nil {
		return err
	}
	return c.ok(struct {
		Logs  []pushLog `json:"logs"`
		Total int       `json:"total"`
	}{logs, total})
}

// quota is one area's purge quota (bridge-defined shape).
type quota struct {
	Area      string `json:"area"`
	Batch     int    `json:"batch"`
	Total     int    `json:"total"`
	Available int    `json:"available"`
}

// getFlushQuota: GetFlushQuota -> DescribePurgeQuota; data.url and
// data.dir list each area's per-call limit, daily quota and what is left.
func (c *call) getFlushQuota() error {
	type v3Quota struct {
		Batch     int    `json:"Batch"`
		Total     int    `json:"Total"`
		Available int    `json:"Available"`
		Area      string `json:"Area"`
	}
	var out struct {
		URLPurge  []v3Quota `json:"UrlPurge"`
		PathPurge []v3Quota `json:"PathPurge"`
	}
	if err := c.v3("DescribePurgeQuota", struct{}{}, &out); err != nil {
		return err
	}
	conv := func(in []v3Quota) []quota {
		q := make([]quota, 0, len(in))
		for _, x := range in {
			q = append(q, quota{Area: x.Area, Batch: x.Batch, Total: x.Total, Available: x.Available})
		}
		return q
	}
	return c.ok(struct {
		URL []quota `json:"url"`
		Dir []quota `json:"dir"`
	}{conv(out.URLPurge), conv(out.PathPurge)})
}
