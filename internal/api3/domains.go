package api3

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
)

// briefDomain is the API's BriefDomain.
type briefDomain struct {
	ResourceID  string `json:"ResourceId"`
	AppID       int64  `json:"AppId"`
	Domain      string `json:"Domain"`
	Cname       string `json:"Cname"`
	Status      string `json:"Status"`
	ProjectID   int64  `json:"ProjectId"`
	ServiceType string `json:"ServiceType"`
	CreateTime  string `json:"CreateTime"`
	UpdateTime  string `json:"UpdateTime"`
	Origin      Origin `json:"Origin"`
	Disable     string `json:"Disable"`
	Area        string `json:"Area"`
	Readonly    string `json:"Readonly"`
	Product     string `json:"Product"`
}

func brief(d Domain) briefDomain {
	c := d.Clone()
	return briefDomain{ResourceID: c.ResourceID, AppID: AppID, Domain: c.Domain, Cname: c.Cname, Status: c.Status,
		ProjectID: c.ProjectID, ServiceType: c.ServiceType, CreateTime: formatTime(c.CreateTime),
		UpdateTime: formatTime(c.UpdateTime), Origin: c.Origin, Disable: "normal", Area: c.Area, Readonly: "normal", Product: "cdn"}
}

// switchConfig is the many {"Switch":"on|off"} members of DetailDomain.
type switchConfig struct {
	Switch string `json:"Switch"`
}

// cacheRule is the API's SimpleCacheRule.
type cacheRule struct {
	CacheType     string   `json:"CacheType"`
	CacheContents []string `json:"CacheContents"`
	CacheTime     int64    `json:"CacheTime"`
}

// detailDomain is the API's DetailDomain, with the members the fake
// reports: its BriefDomain members plus the default cache configuration
// and a few feature switches, all off.
type detailDomain struct {
	briefDomain
	Cache struct {
		SimpleCache struct {
			CacheRules         []cacheRule `json:"CacheRules"`
			FollowOrigin       string      `json:"FollowOrigin"`
			IgnoreCacheControl string      `json:"IgnoreCacheControl"`
			IgnoreSetCookie    string      `json:"IgnoreSetCookie"`
			CompareMaxAge      string      `json:"CompareMaxAge"`
		} `json:"SimpleCache"`
	} `json:"Cache"`
	Https          switchConfig `json:"Https"`
	FollowRedirect switchConfig `json:"FollowRedirect"`
	Authentication switchConfig `json:"Authentication"`
	Compression    switchConfig `json:"Compression"`
	IpFilter       switchConfig `json:"IpFilter"`
	Ipv6Access     switchConfig `json:"Ipv6Access"`
}

func detail(d Domain) detailDomain {
	dd := detailDomain{briefDomain: brief(d)}
	sc := &dd.Cache.SimpleCache
	sc.CacheRules = []cacheRule{{CacheType: "all", CacheContents: []string{"*"}, CacheTime: 2592000}}
	sc.FollowOrigin, sc.IgnoreCacheControl, sc.IgnoreSetCookie, sc.CompareMaxAge = "on", "off", "off", "off"
	for _, sw := range []*switchConfig{&dd.Https, &dd.FollowRedirect, &dd.Authentication, &dd.Compression, &dd.IpFilter, &dd.Ipv6Access} {
		sw.Switch = "off"
	}
	return dd
}

// domainFilter is the API's DomainFilter.
type domainFilter struct {
	Name  string
	Value []string
	Fuzzy bool
}

var listMembers = []member{{name: "Offset", kind: kInt}, {name: "Limit", kind: kInt},
	{name: "Filters", kind: kObjects, members: []member{{name: "Name", kind: kString, required: true},
		{name: "Value", kind: kStrings, required: true}, {name: "Fuzzy", kind: kBool}}}}

// filterNames are the filter names the fake implements.
var filterNames = []string{"domain", "resourceId", "status", "serviceType", "projectId", "origin"}

// match reports whether d passes f.
func (f domainFilter) match(d Domain) bool {
	var fields []string
	switch f.Name {
	case "domain":
		fields = []string{d.Domain}
	case "resourceId":
		fields = []string{d.ResourceID}
	case "status":
		fields = []string{d.Status}
	case "serviceType":
		fields = []string{d.ServiceType}
	case "projectId":
		fields = []string{strconv.FormatInt(d.ProjectID, 10)}
	case "origin":
		fields = d.Origin.Origins
	}
	for _, field := range fields {
		for _, v := range f.Value {
			if field == v || f.Fuzzy && strings.Contains(field, v) {
				return true
			}
		}
	}
	return false
}

// listDomains answers DescribeDomains and DescribeDomainsConfig.
func listDomains(a Account, c Call, members []member, maxLimit int64) ([]Domain, int64, *Error) {
	var req struct {
		Offset  int64
		Limit   *int64
		Filters []domainFilter
	}
	if err := decode(c.Params, members, c.FromForm, &req); err != nil {
		return nil, 0, err
	}
	limit, err := limits(req.Offset, req.Limit, 100, maxLimit)
	if err != nil {
		return nil, 0, err
	}
	for i, f := range req.Filters {
		name := fmt.Sprintf("Filters.%d", i)
		switch {
		case !slices.Contains(filterNames, f.Name):
			return nil, 0, paramErr(name+".Name", "应为 "+strings.Join(filterNames, "、")+" 之一")
		case len(f.Value) < 1 || len(f.Value) > 5:
			return nil, 0, paramErr(name+".Value", "须有 1～5 个值")
		case f.Fuzzy && (len(f.Value) != 1 || f.Name != "domain" && f.Name != "origin"):
			return nil, 0, paramErr(name+".Fuzzy", "仅用于 domain、origin，且只能有一个值")
		}
	}
	var out []Domain
next:
	for _, d := range a.Domains() {
		for _, f := range req.Filters {
			if !f.match(d) {
				continue next
			}
		}
		out = append(out, d)
	}
	return page(out, req.Offset, limit), int64(len(out)), nil
}

func describeDomains(a Account, c Call) (any, *Error) {
	ds, total, err := listDomains(a, c, listMembers, 1000)
	if err != nil {
		return nil, err
	}
	out := make([]briefDomain, len(ds))
	for i, d := range ds {
		out[i] = brief(d)
	}
	return struct {
		Domains     []briefDomain `json:"Domains"`
		TotalNumber int64         `json:"TotalNumber"`
	}{out, total}, nil
}

func describeDomainsConfig(a Account, c Call) (any, *Error) {
	members := append(slices.Clone(listMembers), member{name: "Sort", kind: kObject,
		members: []member{{name: "Key", kind: kString}, {name: "Sequence", kind: kString}}})
	ds, total, err := listDomains(a, c, members, 100)
	if err != nil {
		return nil, err
	}
	out := make([]detailDomain, len(ds))
	for i, d := range ds {
		out[i] = detail(d)
	}
	return struct {
		Domains     []detailDomain `json:"Domains"`
		TotalNumber int64          `json:"TotalNumber"`
	}{out, total}, nil
}

// --- domain life cycle ------------------------------------------------------

// target reads the Domain parameter of Start/Stop/DeleteCdnDomain and
// finds the domain.
func target(a Account, c Call) (Domain, *Error) {
	var req struct{ Domain string }
	if err := decode(c.Params, []member{{name: "Domain", kind: kString, required: true}}, c.FromForm, &req); err != nil {
		return Domain{}, err
	}
	d, found := a.Domain(strings.ToLower(req.Domain))
	switch {
	case !found:
		return d, notFound(req.Domain)
	case d.Status == StatusProcessing:
		return d, &Error{"ResourceInUse.CdnOpInProgress", "域名正在部署中，请稍后重试：" + req.Domain}
	}
	return d, nil
}

// invalidStatus is the answer to starting an online or stopping an
// offline domain.
func invalidStatus(d Domain) *Error {
	return &Error{"InvalidParameter.CdnHostInvalidStatus", "域名状态不合法：" + d.Domain + " 为 " + d.Status}
}

// turn moves the target domain from one status to another.
func turn(a Account, c Call, from, to string) (any, *Error) {
	d, err := target(a, c)
	if err != nil {
		return nil, err
	}
	if d.Status != from {
		return nil, invalidStatus(d)
	}
	a.SetStatus(d.Domain, to, c.Now)
	return struct{}{}, nil
}

func startCdnDomain(a Account, c Call) (any, *Error) {
	return turn(a, c, StatusOffline, StatusOnline)
}

func stopCdnDomain(a Account, c Call) (any, *Error) {
	return turn(a, c, StatusOnline, StatusOffline)
}

func deleteCdnDomain(a Account, c Call) (any, *Error) {
	d, err := target(a, c)
	if err != nil {
		return nil, err
	}
	if d.Status != StatusOffline {
		return nil, &Error{"ResourceUnavailable.CdnHostIsNotOffline", "域名须先停用再删除：" + d.Domain}
	}
	a.DeleteDomain(d.Domain)
	return struct{}{}, nil
}

// addMembers are AddCdnDomain's parameters: the ones the fake reads, and
// the other configuration members it accepts without reading.
func addMembers() []member {
	ms := []member{{name: "Domain", kind: kString, required: true}, {name: "ServiceType", kind: kString, required: true},
		{name: "Origin", kind: kObject, required: true, members: []member{
			{name: "Origins", kind: kStrings, required: true}, {name: "OriginType", kind: kString, required: true},
			{name: "ServerName", kind: kString}, {name: "OriginPullProtocol", kind: kString},
			{name: "BackupOrigins", kind: kStrings}, {name: "BackupOriginType", kind: kString},
			{name: "BackupServerName", kind: kString}, {name: "CosPrivateAccess", kind: kString},
			{name: "BasePath", kind: kString}, {name: "PathRules", kind: kAny}, {name: "PathBasedOrigin", kind: kAny},
			{name: "Sni", kind: kAny}, {name: "AdvanceHttps", kind: kAny}, {name: "OriginCompany", kind: kString}}},
		{name: "ProjectId", kind: kInt}, {name: "Area", kind: kString}, {name: "Tag", kind: kAny}}
	for _, name := range []string{"IpFilter", "IpFreqLimit", "StatusCodeCache", "Compression", "BandwidthAlert",
		"RangeOriginPull", "FollowRedirect", "ErrorPage", "RequestHeader", "ResponseHeader", "DownstreamCapping",
		"CacheKey", "ResponseHeaderCache", "VideoSeek", "Cache", "OriginPullOptimization", "Https", "Authentication",
		"Seo", "ForceRedirect", "Referer", "MaxAge", "Ipv6", "SpecificConfig", "OriginPullTimeout", "Ipv6Access",
		"OfflineCache", "Quic", "AwsPrivateAccess", "OssPrivateAccess", "HwPrivateAccess", "QnPrivateAccess",
		"HttpsBilling"} {
		ms = append(ms, member{name: name, kind: kAny})
	}
	return ms
}

// validHost reports whether name is a domain name the API would take: dot
// separated labels of letters, digits and hyphens, optionally led by "*.".
func validHost(name string) bool {
	name = strings.TrimPrefix(name, "*.")
	labels := strings.Split(name, ".")
	if len(name) > 253 || len(labels) < 2 {
		return false
	}
	for _, l := range labels {
		if l == "" || len(l) > 63 || l[0] == '-' || l[len(l)-1] == '-' {
			return false
		}
		for _, r := range l {
			if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-') {
				return false
			}
		}
	}
	return true
}

func addCdnDomain(a Account, c Call) (any, *Error) {
	var req struct {
		Domain      string
		ServiceType string
		Origin      Origin
		ProjectID   int64 `json:"ProjectId"`
		Area        string
	}
	if err := decode(c.Params, addMembers(), c.FromForm, &req); err != nil {
		return nil, err
	}
	switch {
	case !validHost(req.Domain):
		return nil, &Error{"InvalidParameter.CdnHostInvalidParam", "域名格式不合法：" + req.Domain}
	case !slices.Contains([]string{"web", "download", "media", "hybrid", "dynamic"}, req.ServiceType):
		return nil, &Error{"InvalidParameter.CdnInvalidParamServiceType", "ServiceType 不合法：" + req.ServiceType}
	case len(req.Origin.Origins) == 0:
		return nil, paramErr("Origin.Origins", "不能为空")
	}
	if err := oneOf("Area", req.Area, "mainland", "overseas", "global"); err != nil {
		return nil, err
	}
	req.Domain = strings.ToLower(req.Domain)
	if _, taken := a.Domain(req.Domain); taken {
		return nil, &Error{"ResourceInUse.CdnHostExists", "域名已存在：" + req.Domain}
	}
	if err := a.AddDomain(Domain{Domain: req.Domain, ServiceType: req.ServiceType, Origin: req.Origin,
		ProjectID: req.ProjectID, Area: req.Area, CreateTime: c.Now}); err != nil {
		return nil, err
	}
	return struct{}{}, nil
}

// --- logs and statistics ----------------------------------------------------

// domainLog is the API's DomainLog.
type domainLog struct {
	StartTime string `json:"StartTime"`
	EndTime   string `json:"EndTime"`
	LogPath   string `json:"LogPath"`
	Area      string `json:"Area"`
	LogName   string `json:"LogName"`
}

func describeCdnDomainLogs(a Account, c Call) (any, *Error) {
	var req struct {
		Domain, StartTime, EndTime, Area, LogType string
		Offset                                    int64
		Limit                                     *int64
	}
	members := []member{{name: "Domain", kind: kString, required: true}, {name: "StartTime", kind: kString, required: true},
		{name: "EndTime", kind: kString, required: true}, {name: "Offset", kind: kInt}, {name: "Limit", kind: kInt},
		{name: "Area", kind: kString}, {name: "LogType", kind: kString}}
	if err := decode(c.Params, members, c.FromForm, &req); err != nil {
		return nil, err
	}
	from, to, err := parseRange(req.StartTime, req.EndTime)
	if err != nil {
		return nil, err
	}
	if to.Sub(from) > 30*24*time.Hour {
		return nil, &Error{"InvalidParameter.CdnStatInvalidDate", "日期参数错误：时间跨度不能超过 30 天。"}
	}
	if err := oneOf("Area", req.Area, "mainland", "overseas"); err != nil {
		return nil, err
	}
	if err := oneOf("LogType", req.LogType, "access"); err != nil {
		return nil, err
	}
	limit, err := limits(req.Offset, req.Limit, 100, 1000)
	if err != nil {
		return nil, err
	}
	d, found := a.Domain(strings.ToLower(req.Domain))
	if !found {
		return nil, notFound(req.Domain)
	}
	area := req.Area
	if area == "" {
		area = d.Area
		if area == "global" {
			area = "mainland"
		}
	}
	var logs []domainLog
	for t := from.Truncate(time.Hour); !t.After(to); t = t.Add(time.Hour) {
		hour := t.In(CST)
		name := hour.Format("2006010215") + "-" + d.Domain
		logs = append(logs, domainLog{StartTime: formatTime(hour), EndTime: formatTime(hour.Add(time.Hour - time.Second)),
			LogPath: "https://log-download.cdn.fake/" + hour.Format("20060102") + "/" + name + ".gz", Area: area, LogName: name})
	}
	return struct {
		DomainLogs []domainLog `json:"DomainLogs"`
		TotalCount int64       `json:"TotalCount"`
	}{page(logs, req.Offset, limit), int64(len(logs))}, nil
}

// statMetrics are the metrics DescribeCdnData answers, and how each is
// summarised.
var statMetrics = map[string]string{"flux": "sum", "bandwidth": "max", "request": "sum", "hitRequest": "sum",
	"requestHitRate": "avg", "hitFlux": "sum", "fluxHitRate": "avg", "statusCode": "sum",
	"2xx": "sum", "3xx": "sum", "4xx": "sum", "5xx": "sum"}

// intervals are DescribeCdnData's granularities.
var intervals = map[string]time.Duration{"min": time.Minute, "5min": 5 * time.Minute, "hour": time.Hour, "day": 24 * time.Hour}

type timestampData struct {
	Time  string  `json:"Time"`
	Value float64 `json:"Value"`
}

type summarizedData struct {
	Name  string  `json:"Name"`
	Value float64 `json:"Value"`
}

type cdnData struct {
	Metric         string          `json:"Metric"`
	DetailData     []timestampData `json:"DetailData"`
	SummarizedData summarizedData  `json:"SummarizedData"`
}

type resourceData struct {
	Resource string    `json:"Resource"`
	CdnData  []cdnData `json:"CdnData"`
}

// floor rounds t down to a multiple of step, days starting at midnight
// China Standard Time.
func floor(t time.Time, step time.Duration) time.Time {
	if step == 24*time.Hour {
		t = t.In(CST)
		return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, CST)
	}
	return t.Truncate(step)
}

func describeCdnData(a Account, c Call) (any, *Error) {
	var req struct {
		StartTime, EndTime, Metric, Interval string
		Domains                              []string
		Detail                               bool
	}
	members := []member{{name: "StartTime", kind: kString, required: true}, {name: "EndTime", kind: kString, required: true},
		{name: "Metric", kind: kString, required: true}, {name: "Domains", kind: kStrings}, {name: "Project", kind: kInt},
		{name: "Interval", kind: kString}, {name: "Detail", kind: kBool}, {name: "Isp", kind: kInt},
		{name: "District", kind: kInt}, {name: "Protocol", kind: kString}, {name: "DataSource", kind: kString},
		{name: "IpProtocol", kind: kString}, {name: "Area", kind: kString}, {name: "AreaType", kind: kString},
		{name: "Product", kind: kString}, {name: "TimeZone", kind: kString}}
	if err := decode(c.Params, members, c.FromForm, &req); err != nil {
		return nil, err
	}
	from, to, err := parseRange(req.StartTime, req.EndTime)
	if err != nil {
		return nil, err
	}
	how, ok := statMetrics[req.Metric]
	if !ok {
		return nil, &Error{"InvalidParameter.CdnStatInvalidMetric", "Metric 不合法：" + req.Metric}
	}
	if req.Interval == "" {
		req.Interval = "5min"
	}
	step, ok := intervals[req.Interval]
	if !ok {
		return nil, &Error{"InvalidParameter.CdnInvalidParamInterval", "Interval 不合法：" + req.Interval}
	}
	if len(req.Domains) > 30 {
		return nil, &Error{"InvalidParameter.CdnStatTooManyDomains", "Domains 最多 30 个。"}
	}
	if to.Sub(from)/step > 10000 {
		return nil, &Error{"InvalidParameter.CdnStatInvalidDate", "日期参数错误：时间跨度对该粒度过大。"}
	}
	resources := []string{"multiDomains"}
	switch {
	case len(req.Domains) == 1:
		resources = req.Domains
	case req.Detail && len(req.Domains) > 1:
		resources = req.Domains
	}
	out := make([]resourceData, len(resources))
	for r, name := range resources {
		var points []timestampData
		sum, peak := 0.0, 0.0
		for i, t := 0, floor(from, step); !t.After(to); i, t = i+1, t.Add(step) {
			v := float64((i+r)%5 + 1)
			points = append(points, timestampData{formatTime(t), v})
			sum, peak = sum+v, max(peak, v)
		}
		summary := summarizedData{Name: how, Value: sum}
		switch how {
		case "max":
			summary.Value = peak
		case "avg":
			summary.Value = sum / float64(max(len(points), 1))
		}
		out[r] = resourceData{Resource: name, CdnData: []cdnData{{Metric: req.Metric, DetailData: points, SummarizedData: summary}}}
	}
	return struct {
		Interval string         `json:"Interval"`
		Data     []resourceData `json:"Data"`
	}{req.Interval, out}, nil
}

// notFound is the answer about a domain the account does not have.
func notFound(name string) *Error {
	return &Error{"ResourceNotFound.CdnHostNotExists", "未查询到该域名，请确认域名是否正确：" + name}
}
