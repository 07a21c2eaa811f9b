package bridge

import (
	"strconv"
	"time"
)

// cdnDataQuery is DescribeCdnData's request, as far as the bridge uses it.
type cdnDataQuery struct {
	StartTime string   `json:"StartTime"`
	EndTime   string   `json:"EndTime"`
	Metric    string   `json:"Metric"`
	Domains   []string `json:"Domains,omitempty"`
	Project   *int     `json:"Project,omitempty"`
	Interval  string   `json:"Interval"`
	Detail    bool     `json:"Detail,omitempty"`
}

// cdnData is DescribeCdnData's Response.
type cdnData struct {
	Data []struct {
		Resource string `json:"Resource"`
		CdnData  []struct {
			Metric     string `json:"Metric"`
			DetailData []struct {
				Time  string  `json:"Time"`
				Value float64 `json:"Value"`
			} `json:"DetailData"`
			SummarizedData struct {
				Name  string  `json:"Name"`
				Value float64 `json:"Value"`
			} `json:"SummarizedData"`
		} `json:"CdnData"`
	} `json:"Data"`
}

// statQuery reads what the statistics actions share: startDate/endDate,
// hosts.n, projects.n (at most one) and the sample period in minutes,
// chosen as 2.0 chose it (5 for up to 3 days, 60 up to 7 days, else
// 1440) unless a period parameter names 5, 60 or 1440.
func (c *call) statQuery() (q cdnDataQuery, period int, err error) {
	if q.StartTime, q.EndTime, err = c.timeRange(); err != nil {
		return q, 0, err
	}
	hosts, ok := c.list("hosts")
	if !ok {
		return q, 0, c.invalid("hosts.n: indexes must be 0, 1, 2, …")
	}
	q.Domains = hosts
	projects, ok := c.list("projects")
	switch {
	case !ok || len(projects) > 1:
		return q, 0, c.invalid("projects.n: cdnproxy's API 3.0 bridge takes at most one project")
	case len(projects) == 1:
		p, err := strconv.Atoi(projects[0])
		if err != nil || p < 0 {
			return q, 0, c.invalid("projects.n must be a project id")
		}
		q.Project = &p
	}
	start, _ := time.ParseInLocation(timeLayout, q.StartTime, beijing)
	end, _ := time.ParseInLocation(timeLayout, q.EndTime, beijing)
	switch days := end.Sub(start).Hours() / 24; {
	case days <= 3:
		period = 5
	case days <= 7:
		period = 60
	default:
		period = 1440
	}
	if period, err = c.intParam("period", period); err != nil {
		return q, 0, err
	}
	switch period {
	case 5:
		q.Interval = "5min"
	case 60:
		q.Interval = "hour"
	case 1440:
		q.Interval = "day"
	default:
		return q, 0, c.invalid("period must be 5, 60 or 1440 (minutes)")
	}
	return q, period, nil
}

// statMetric maps 2.0's statType to DescribeCdnData's Metric.
func statMetric(statType string) string {
	switch statType {
	case "flux":
		return "flux"
	case "bandwidth":
		return "bandwidth"
	case "requests":
		return "request"
	case "cache":
		return "fluxHitRate"
	}
	return ""
}

// statHeader is the part of DescribeCdnHostInfo's and
// DescribeCdnHostDetailedInfo's data that says what was asked.
type statHeader struct {
	StartDatetime string `json:"start_datetime"`
	EndDatetime   string `json:"end_datetime"`
	Period        int    `json:"period"`
	StatType      string `json:"stat_type"`
}

// hostStats runs one DescribeCdnData for statType, per domain when hosts
// are named.
func (c *call) hostStats() (statHeader, cdnData, error) {
	statType := c.get("statType")
	metric := statMetric(statType)
	if metric == "" {
		return statHeader{}, cdnData{}, c.invalid("statType must be flux, bandwidth, requests or cache")
	}
	q, period, err := c.statQuery()
	if err != nil {
		return statHeader{}, cdnData{}, err
	}
	q.Metric, q.Detail = metric, len(q.Domains) > 0
	var out cdnData
	if err := c.v3("DescribeCdnData", q, &out); err != nil {
		return statHeader{}, cdnData{}, err
	}
	return statHeader{q.StartTime, q.EndTime, period, statType}, out, nil
}

// statEntry is one resource's entry in the data.detail_data of
// DescribeCdnHostInfo (Value) and DescribeCdnHostDetailedInfo (Data).
type statEntry struct {
	HostID    string    `json:"host_id"`
	HostName  string    `json:"host_name"`
	HostType  string    `json:"host_type"`
	HostValue *float64  `json:"host_value,omitempty"`
	Data      []float64 `json:"data,omitempty"`
}

// answerStats runs hostStats and answers with one entry per resource and
// metric, filled by fill.
func (c *call) answerStats(fill func(e *statEntry, summary float64, samples []float64)) error {
	head, out, err := c.hostStats()
	if err != nil {
		return err
	}
	detail := []statEntry{}
	for _, r := range out.Data {
		for _, d := range r.CdnData {
			samples := make([]float64, len(d.DetailData))
			for i, p := range d.DetailData {
				samples[i] = p.Value
			}
			e := statEntry{HostID: r.Resource, HostName: r.Resource, HostType: "cname"}
			fill(&e, d.SummarizedData.Value, samples)
			detail = append(detail, e)
		}
	}
	return c.ok(struct {
		statHeader
		DetailData []statEntry `json:"detail_data"`
	}{head, detail})
}

// describeCdnHostInfo: DescribeCdnHostInfo -> DescribeCdnData; each
// resource's summarised value (sum, or peak for bandwidth) as host_value.
func (c *call) describeCdnHostInfo() error {
	return c.answerStats(func(e *statEntry, summary float64, _ []float64) { e.HostValue = &summary })
}

// describeCdnHostDetailedInfo: DescribeCdnHostDetailedInfo ->
// DescribeCdnData; each resource's samples, oldest first, as data.
func (c *call) describeCdnHostDetailedInfo() error {
	return c.answerStats(func(e *statEntry, _ float64, samples []float64) { e.Data = samples })
}

// getCdnStatusCode: GetCdnStatusCode -> one DescribeCdnData per status
// code (Metric "200", "206", …), summed over the named domains; data is
// an array holding one object keyed by status code.
func (c *call) getCdnStatusCode() error {
	q, _, err := c.statQuery()
	if err != nil {
		return err
	}
	counts := make(map[string][]float64, 6)
	for _, code := range []string{"200", "206", "304", "404", "416", "500"} { // GetCdnStatusCode's codes
		q.Metric = code
		var out cdnData
		if err := c.v3("DescribeCdnData", q, &out); err != nil {
			return err
		}
		values := []float64{}
		for _, r := range out.Data {
			for _, d := range r.CdnData {
				for i, p := range d.DetailData {
					if i < len(values) {
						values[i] += p.Value
					} else {
						values = append(values, p.Value)
					}
				}
			}
		}
		counts[code] = values
	}
	return c.ok([]map[string][]float64{counts})
}

// logEntry is one hourly log package of GetCdnLogList.
type logEntry struct {
	Date string `json:"date"`
	Type int    `json:"type"`
	Name string `json:"name"`
	Link string `json:"link"`
}

// logPage is DescribeCdnDomainLogs' largest Limit.
const logPage = 1000

// getCdnLogList: GetCdnLogList host, startDate, endDate (default: the last
// 30 days) -> DescribeCdnDomainLogs, every page.
func (c *call) getCdnLogList() error {
	domain := c.get("host")
	if domain == "" {
		return c.invalid("host is required")
	}
	now := c.b.now().In(beijing)
	start, err := c.timeParam("startDate", false)
	if err != nil {
		return err
	}
	end, err := c.timeParam("endDate", true)
	if err != nil {
		return err
	}
	if start == "" {
		start = now.Add(-30 * 24 * time.Hour).Format(timeLayout)
	}
	if end == "" {
		end = now.Format(timeLayout)
	}
	list := []logEntry{}
	err = pages(0, -1, logPage, func(offset, limit int) (int, int, error) {
		var out struct {
			DomainLogs []struct {
				StartTime string `json:"StartTime"`
				EndTime   string `json:"EndTime"`
				LogPath   string `json:"LogPath"`
				LogName   string `json:"LogName"`
			} `json:"DomainLogs"`
			TotalCount int `json:"TotalCount"`
		}
		if err := c.v3("DescribeCdnDomainLogs", struct {
			Domain    string `json:"Domain"`
			StartTime string `json:"StartTime"`
			EndTime   string `json:"EndTime"`
			Offset    int    `json:"Offset"`
			Limit     int    `json:"Limit"`
		}{domain, start, end, offset, limit}, &out); err != nil {
			return 0, 0, err
		}
		for _, l := range out.DomainLogs {
			e := logEntry{Type: 1, Name: l.LogName, Link: l.LogPath}
			if t, err := time.ParseInLocation(timeLayout, l.StartTime, beijing); err == nil {
				e.Date = t.Format("2006-01-02")
				if e.Name == "" {
					e.Name = t.Format("2006010215") + "-" + domain
				}
			}
			list = append(list, e)
		}
		return len(out.DomainLogs), out.TotalCount, nil
	})
	if err != nil {
		return err
	}
	return c.ok(struct {
		Now  int64      `json:"now"`
		List []logEntry `json:"list"`
	}{now.Unix(), list})
}
