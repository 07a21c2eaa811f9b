package fakeapi3_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/cdnproxy/cdnproxy/internal/fakeapi3"
	"github.com/cdnproxy/cdnproxy/proxy/signature"
)

// strict starts a strict fake holding domains (nil: DefaultDomain).
func strict(t *testing.T, domains []fakeapi3.Domain) *fakeapi3.Server {
	t.Helper()
	return fakeapi3.New(t, fakeapi3.Config{Keys: map[string]string{id: key}, Now: func() time.Time { return now },
		Domains: domains, Strict: true})
}

// post sends a TC3-signed JSON call and returns the members of its
// Response and its error code ("" for a success).
func post(t *testing.T, s *fakeapi3.Server, action, body string) (map[string]any, string) {
	t.Helper()
	return send(t, tc3(t, s, action, body, nil))
}

func send(t *testing.T, req *http.Request) (map[string]any, string) {
	t.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var a struct{ Response map[string]any }
	if err := json.Unmarshal(raw, &a); err != nil || a.Response == nil {
		t.Fatalf("answer is not an API answer: %s", raw)
	}
	if id, _ := a.Response["RequestId"].(string); len(id) != 36 {
		t.Errorf("RequestId %q: %s", id, raw)
	}
	if e, ok := a.Response["Error"].(map[string]any); ok {
		return a.Response, e["Code"].(string)
	}
	return a.Response, ""
}

// keys returns the sorted member names of an object.
func keys(m any) string {
	obj, _ := m.(map[string]any)
	ks := make([]string, 0, len(obj))
	for k := range obj {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return strings.Join(ks, ",")
}

// first returns the first element of a list member.
func first(resp map[string]any, name string) map[string]any {
	list, _ := resp[name].([]any)
	if len(list) == 0 {
		return nil
	}
	m, _ := list[0].(map[string]any)
	return m
}

func TestAnswerShapes(t *testing.T) {
	s := strict(t, nil)
	start, end := fakeapi3.DefaultDomain().CreateTime.Add(-time.Hour), now.Add(time.Hour)
	rng := fmt.Sprintf(`"StartTime":%q,"EndTime":%q`, start.In(time.FixedZone("", 8*3600)).Format(fakeapi3.TimeLayout),
		end.In(time.FixedZone("", 8*3600)).Format(fakeapi3.TimeLayout))
	day := `"StartTime":"2023-11-15 00:00:00","EndTime":"2023-11-15 02:59:59"`
	tests := []struct {
		action, body string
		members      string // of Response
		list         string // a list member whose first element to check
		element      string // its member names
	}{
		{"PurgeUrlsCache", `{"Urls":["https://www.example.com/a"],"Area":"mainland","UrlEncode":true}`, "RequestId,TaskId", "", ""},
		{"PurgePathCache", `{"Paths":["https://www.example.com/d/"],"FlushType":"delete"}`, "RequestId,TaskId", "", ""},
		{"PushUrlsCache", `{"Urls":["https://www.example.com/a"],"Layer":"middle","Headers":[{"Name":"X","Value":"1"}]}`, "RequestId,TaskId", "", ""},
		{"DescribePurgeTasks", `{` + rng + `,"PurgeType":"url"}`, "PurgeLogs,RequestId,TotalCount", "PurgeLogs",
			"CreateTime,FlushType,PurgeType,Status,TaskId,Url"},
		{"DescribePushTasks", `{` + rng + `}`, "PushLogs,RequestId,TotalCount", "PushLogs",
			"Area,CreateTime,Percent,Status,TaskId,UpdateTime,Url"},
		{"DescribePurgeQuota", `{}`, "PathPurge,RequestId,UrlPurge", "UrlPurge", "Area,Available,Batch,Total"},
		{"DescribePushQuota", `{}`, "RequestId,UrlPush", "UrlPush", "Area,Available,Batch,Total"},
		{"DescribeDomains", `{"Offset":0,"Limit":10,"Filters":[{"Name":"domain","Value":["example"],"Fuzzy":true}]}`,
			"Domains,RequestId,TotalNumber", "Domains",
			"AppId,Area,Cname,CreateTime,Disable,Domain,Origin,Product,ProjectId,Readonly,ResourceId,ServiceType,Status,UpdateTime"},
		{"DescribeDomainsConfig", `{"Limit":100,"Filters":[{"Name":"resourceId","Value":["cdn-fake0001"]}],"Sort":{"Key":"createTime","Sequence":"desc"}}`,
			"Domains,RequestId,TotalNumber", "Domains",
			"AppId,Area,Authentication,Cache,Cname,Compression,CreateTime,Disable,Domain,FollowRedirect,Https,IpFilter,Ipv6Access," +
				"Origin,Product,ProjectId,Readonly,ResourceId,ServiceType,Status,UpdateTime"},
		{"DescribeCdnDomainLogs", `{"Domain":"www.example.com",` + day + `}`, "DomainLogs,RequestId,TotalCount", "DomainLogs",
			"Area,EndTime,LogName,LogPath,StartTime"},
		{"DescribeCdnData", `{` + day + `,"Metric":"flux","Domains":["www.example.com"],"Interval":"hour"}`, "Data,Interval,RequestId", "Data",
			"CdnData,Resource"},
		{"AddCdnDomain", `{"Domain":"new.example.com","ServiceType":"download","Origin":{"Origins":["1.2.3.4"],"OriginType":"ip"},"ProjectId":3,"Area":"global","Cache":{"SimpleCache":{}}}`,
			"RequestId", "", ""},
		{"StopCdnDomain", `{"Domain":"new.example.com"}`, "RequestId", "", ""},
		{"StartCdnDomain", `{"Domain":"new.example.com"}`, "RequestId", "", ""},
	}
	for _, tc := range tests {
		t.Run(tc.action, func(t *testing.T) {
			resp, code := post(t, s, tc.action, tc.body)
			if code != "" {
				t.Fatalf("error %s: %v", code, resp)
			}
			if got := keys(resp); got != tc.members {
				t.Errorf("Response members %s, want %s", got, tc.members)
			}
			if tc.list == "" {
				return
			}
			if got := keys(first(resp, tc.list)); got != tc.element {
				t.Errorf("%s[0] members %s, want %s", tc.list, got, tc.element)
			}
		})
	}
	t.Run("values", func(t *testing.T) {
		resp, _ := post(t, s, "DescribeCdnData", `{`+day+`,"Metric":"bandwidth","Domains":["www.example.com"],"Interval":"hour"}`)
		data := first(resp, "Data")
		cd := data["CdnData"].([]any)[0].(map[string]any)
		points := cd["DetailData"].([]any)
		if data["Resource"] != "www.example.com" || cd["Metric"] != "bandwidth" || len(points) != 3 ||
			points[0].(map[string]any)["Time"] != "2023-11-15 00:00:00" || keys(points[0]) != "Time,Value" {
			t.Errorf("Data %v", data)
		}
		if sum := cd["SummarizedData"].(map[string]any); sum["Name"] != "max" || sum["Value"] != 3.0 {
			t.Errorf("SummarizedData %v", sum)
		}
		resp, _ = post(t, s, "DescribeCdnDomainLogs", `{"Domain":"www.example.com",`+day+`}`)
		if log := first(resp, "DomainLogs"); resp["TotalCount"] != 3.0 || log["StartTime"] != "2023-11-15 00:00:00" ||
			log["EndTime"] != "2023-11-15 00:59:59" || !strings.HasPrefix(log["LogPath"].(string), "https://") {
			t.Errorf("DomainLogs %v", resp)
		}
		d, ok := s.Domain("new.example.com")
		if !ok || d.Status != fakeapi3.StatusOnline || d.ServiceType != "download" || d.ProjectID != 3 || d.Area != "global" ||
			d.Origin.OriginType != "ip" || !slices.Equal(d.Origin.Origins, []string{"1.2.3.4"}) || !d.CreateTime.Equal(now) {
			t.Errorf("added domain %+v", d)
		}
	})
}

func TestValidation(t *testing.T) {
	domains := []fakeapi3.Domain{{Domain: "www.example.com"}, {Domain: "off.example.com", Status: fakeapi3.StatusOffline},
		{Domain: "busy.example.com", Status: fakeapi3.StatusProcessing}, {Domain: "abroad.example.com", Area: "overseas"}}
	tests := []struct {
		name, action, body, code string
	}{
		{"purge without Urls", "PurgeUrlsCache", `{}`, "MissingParameter"},
		{"purge with empty Urls", "PurgeUrlsCache", `{"Urls":[]}`, "InvalidParameter.CdnParamError"},
		{"purge Urls a string", "PurgeUrlsCache", `{"Urls":"https://www.example.com/a"}`, "InvalidParameter"},
		{"purge Urls of numbers", "PurgeUrlsCache", `{"Urls":[1]}`, "InvalidParameter"},
		{"purge unknown member", "PurgeUrlsCache", `{"Urls":["https://www.example.com/a"],"urls":["x"]}`, "UnknownParameter"},
		{"purge 2.0 member name", "PurgeUrlsCache", `{"urls.0":"https://www.example.com/a"}`, "UnknownParameter"},
		{"purge without scheme", "PurgeUrlsCache", `{"Urls":["www.example.com/a"]}`, "InvalidParameter.CdnParamError"},
		{"purge unknown domain", "PurgeUrlsCache", `{"Urls":["https://other.example.com/a"]}`, "ResourceNotFound.CdnHostNotExists"},
		{"purge bad Area", "PurgeUrlsCache", `{"Urls":["https://www.example.com/a"],"Area":"global"}`, "InvalidParameter.CdnParamError"},
		{"purge Area not the domain's", "PurgeUrlsCache", `{"Urls":["https://abroad.example.com/a"],"Area":"mainland"}`, "InvalidParameter.CdnParamError"},
		{"purge UrlEncode a string", "PurgeUrlsCache", `{"Urls":["https://www.example.com/a"],"UrlEncode":"true"}`, "InvalidParameter"},
		{"path without FlushType", "PurgePathCache", `{"Paths":["https://www.example.com/d/"]}`, "MissingParameter"},
		{"path bad FlushType", "PurgePathCache", `{"Paths":["https://www.example.com/d/"],"FlushType":"2"}`, "InvalidParameter.CdnParamError"},
		{"push offline domain", "PushUrlsCache", `{"Urls":["https://off.example.com/a"]}`, "ResourceUnavailable.CdnHostIsNotOnline"},
		{"push bad Headers", "PushUrlsCache", `{"Urls":["https://www.example.com/a"],"Headers":[{"Key":"x"}]}`, "UnknownParameter"},
		{"tasks without time or TaskId", "DescribePurgeTasks", `{"PurgeType":"url"}`, "MissingParameter"},
		{"tasks bad time", "DescribePurgeTasks", `{"StartTime":"2023-11-15","EndTime":"2023-11-16"}`, "InvalidParameter.CdnStatInvalidDate"},
		{"tasks end before start", "DescribePushTasks", `{"StartTime":"2023-11-15 10:00:00","EndTime":"2023-11-15 09:00:00"}`, "InvalidParameter.CdnStatInvalidDate"},
		{"tasks bad PurgeType", "DescribePurgeTasks", `{"TaskId":"x","PurgeType":"dir"}`, "InvalidParameter.CdnParamError"},
		{"tasks Limit too big", "DescribePushTasks", `{"TaskId":"x","Limit":1001}`, "InvalidParameter.CdnParamError"},
		{"tasks Limit a string", "DescribePushTasks", `{"TaskId":"x","Limit":"10"}`, "InvalidParameter"},
		{"tasks Limit a fraction", "DescribePushTasks", `{"TaskId":"x","Limit":1.5}`, "InvalidParameter"},
		{"quota with a member", "DescribePurgeQuota", `{"Area":"mainland"}`, "UnknownParameter"},
		{"domains Limit 1001", "DescribeDomains", `{"Limit":1001}`, "InvalidParameter.CdnParamError"},
		{"domains Limit 0", "DescribeDomains", `{"Limit":0}`, "InvalidParameter.CdnParamError"},
		{"domains negative Offset", "DescribeDomains", `{"Offset":-1}`, "InvalidParameter.CdnParamError"},
		{"config Limit 101", "DescribeDomainsConfig", `{"Limit":101}`, "InvalidParameter.CdnParamError"},
		{"filter without Value", "DescribeDomains", `{"Filters":[{"Name":"domain"}]}`, "MissingParameter"},
		{"filter Value a string", "DescribeDomains", `{"Filters":[{"Name":"domain","Value":"www.example.com"}]}`, "InvalidParameter"},
		{"filter unknown name", "DescribeDomains", `{"Filters":[{"Name":"host","Value":["x"]}]}`, "InvalidParameter.CdnParamError"},
		{"filter six values", "DescribeDomains", `{"Filters":[{"Name":"domain","Value":["a","b","c","d","e","f"]}]}`, "InvalidParameter.CdnParamError"},
		{"fuzzy status", "DescribeDomainsConfig", `{"Filters":[{"Name":"status","Value":["online"],"Fuzzy":true}]}`, "InvalidParameter.CdnParamError"},
		{"start without Domain", "StartCdnDomain", `{}`, "MissingParameter"},
		{"start unknown", "StartCdnDomain", `{"Domain":"nope.example.com"}`, "ResourceNotFound.CdnHostNotExists"},
		{"start online", "StartCdnDomain", `{"Domain":"www.example.com"}`, "InvalidParameter.CdnHostInvalidStatus"},
		{"stop offline", "StopCdnDomain", `{"Domain":"off.example.com"}`, "InvalidParameter.CdnHostInvalidStatus"},
		{"stop processing", "StopCdnDomain", `{"Domain":"busy.example.com"}`, "ResourceInUse.CdnOpInProgress"},
		{"delete online", "DeleteCdnDomain", `{"Domain":"www.example.com"}`, "ResourceUnavailable.CdnHostIsNotOffline"},
		{"delete processing", "DeleteCdnDomain", `{"Domain":"busy.example.com"}`, "ResourceInUse.CdnOpInProgress"},
		{"add existing", "AddCdnDomain", `{"Domain":"www.example.com","ServiceType":"web","Origin":{"Origins":["o.example.com"],"OriginType":"domain"}}`, "ResourceInUse.CdnHostExists"},
		{"add bad name", "AddCdnDomain", `{"Domain":"bad_name","ServiceType":"web","Origin":{"Origins":["o.example.com"],"OriginType":"domain"}}`, "InvalidParameter.CdnHostInvalidParam"},
		{"add bad ServiceType", "AddCdnDomain", `{"Domain":"a.example.com","ServiceType":"video","Origin":{"Origins":["o.example.com"],"OriginType":"domain"}}`, "InvalidParameter.CdnInvalidParamServiceType"},
		{"add without Origin", "AddCdnDomain", `{"Domain":"a.example.com","ServiceType":"web"}`, "MissingParameter"},
		{"add Origin without OriginType", "AddCdnDomain", `{"Domain":"a.example.com","ServiceType":"web","Origin":{"Origins":["o.example.com"]}}`, "MissingParameter"},
		{"add ProjectId a string", "AddCdnDomain", `{"Domain":"a.example.com","ServiceType":"web","ProjectId":"0","Origin":{"Origins":["o"],"OriginType":"ip"}}`, "InvalidParameter"},
		{"logs unknown domain", "DescribeCdnDomainLogs", `{"Domain":"nope.example.com","StartTime":"2023-11-15 00:00:00","EndTime":"2023-11-15 01:00:00"}`, "ResourceNotFound.CdnHostNotExists"},
		{"logs without EndTime", "DescribeCdnDomainLogs", `{"Domain":"www.example.com","StartTime":"2023-11-15 00:00:00"}`, "MissingParameter"},
		{"data bad Metric", "DescribeCdnData", `{"StartTime":"2023-11-15 00:00:00","EndTime":"2023-11-15 01:00:00","Metric":"traffic"}`, "InvalidParameter.CdnStatInvalidMetric"},
		{"data bad Interval", "DescribeCdnData", `{"StartTime":"2023-11-15 00:00:00","EndTime":"2023-11-15 01:00:00","Metric":"flux","Interval":"1h"}`, "InvalidParameter.CdnInvalidParamInterval"},
		{"data Domains a string", "DescribeCdnData", `{"StartTime":"2023-11-15 00:00:00","EndTime":"2023-11-15 01:00:00","Metric":"flux","Domains":"www.example.com"}`, "InvalidParameter"},
		{"body a list", "DescribeDomains", `[]`, "InvalidParameter"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := strict(t, domains)
			resp, code := post(t, s, tc.action, tc.body)
			if code != tc.code {
				t.Fatalf("code %q, want %q: %v", code, tc.code, resp)
			}
			if msg := resp["Error"].(map[string]any)["Message"].(string); msg == "" {
				t.Error("empty Message")
			}
			if len(s.Tasks()) != 0 {
				t.Errorf("a refused call made tasks: %v", s.Tasks())
			}
			if len(s.Domains()) != len(domains) {
				t.Errorf("a refused call changed the domains: %v", s.Domains())
			}
		})
	}
}

func TestDomainLifeCycle(t *testing.T) {
	s := strict(t, nil)
	steps := []struct {
		action, domain, code, status string // status afterwards, "" for gone
	}{
		{"StopCdnDomain", "www.example.com", "", fakeapi3.StatusOffline},
		{"StopCdnDomain", "www.example.com", "InvalidParameter.CdnHostInvalidStatus", fakeapi3.StatusOffline},
		{"StartCdnDomain", "www.example.com", "", fakeapi3.StatusOnline},
		{"DeleteCdnDomain", "www.example.com", "ResourceUnavailable.CdnHostIsNotOffline", fakeapi3.StatusOnline},
		{"StopCdnDomain", "www.example.com", "", fakeapi3.StatusOffline},
		{"DeleteCdnDomain", "www.example.com", "", ""},
		{"StartCdnDomain", "www.example.com", "ResourceNotFound.CdnHostNotExists", ""},
		{"AddCdnDomain", "www.example.com", "", fakeapi3.StatusOnline},
		{"AddCdnDomain", "www.example.com", "ResourceInUse.CdnHostExists", fakeapi3.StatusOnline},
	}
	for i, st := range steps {
		body := fmt.Sprintf(`{"Domain":%q}`, st.domain)
		if st.action == "AddCdnDomain" {
			body = fmt.Sprintf(`{"Domain":%q,"ServiceType":"web","Origin":{"Origins":["o.example.com"],"OriginType":"domain"}}`, st.domain)
		}
		if _, code := post(t, s, st.action, body); code != st.code {
			t.Fatalf("step %d %s: code %q, want %q", i, st.action, code, st.code)
		}
		d, ok := s.Domain(st.domain)
		if got := map[bool]string{true: d.Status}[ok]; got != st.status {
			t.Fatalf("step %d %s: status %q, want %q", i, st.action, got, st.status)
		}
		resp, _ := post(t, s, "DescribeDomains", fmt.Sprintf(`{"Filters":[{"Name":"domain","Value":[%q]}]}`, st.domain))
		if listed := first(resp, "Domains"); st.status != "" && (listed == nil || listed["Status"] != st.status) ||
			st.status == "" && resp["TotalNumber"] != 0.0 {
			t.Fatalf("step %d %s: DescribeDomains %v", i, st.action, resp)
		}
	}
	if !s.SetDomainStatus("www.example.com", fakeapi3.StatusProcessing) {
		t.Fatal("SetDomainStatus: no domain")
	}
	if _, code := post(t, s, "StopCdnDomain", `{"Domain":"www.example.com"}`); code != "ResourceInUse.CdnOpInProgress" {
		t.Errorf("stop while processing: %q", code)
	}
}

func TestQuota(t *testing.T) {
	s := strict(t, []fakeapi3.Domain{{Domain: "www.example.com"}, {Domain: "both.example.com", Area: "global"}})
	quota := func(kind, area string) int64 {
		t.Helper()
		resp, code := post(t, s, map[string]string{fakeapi3.QuotaURLPush: "DescribePushQuota"}[kind]+
			map[bool]string{true: "DescribePurgeQuota"}[kind != fakeapi3.QuotaURLPush], `{}`)
		if code != "" {
			t.Fatal(code)
		}
		for _, q := range resp[kind].([]any) {
			if q := q.(map[string]any); q["Area"] == area {
				return int64(q["Available"].(float64))
			}
		}
		t.Fatalf("no %s quota for %s: %v", kind, area, resp)
		return 0
	}
	if got := quota(fakeapi3.QuotaURLPurge, "mainland"); got != 10000 {
		t.Fatalf("fresh UrlPurge quota %d, want 10000", got)
	}
	post(t, s, "PurgeUrlsCache", `{"Urls":["https://www.example.com/a","https://www.example.com/b","https://both.example.com/c"]}`)
	if m, o := quota(fakeapi3.QuotaURLPurge, "mainland"), quota(fakeapi3.QuotaURLPurge, "overseas"); m != 9997 || o != 9999 {
		t.Errorf("UrlPurge after 3 URLs (one global): mainland %d, overseas %d; want 9997, 9999", m, o)
	}
	post(t, s, "PurgePathCache", `{"Paths":["https://www.example.com/d/"],"FlushType":"flush"}`)
	post(t, s, "PushUrlsCache", `{"Urls":["https://www.example.com/a","https://www.example.com/b"]}`)
	if p, u := quota(fakeapi3.QuotaPathPurge, "mainland"), quota(fakeapi3.QuotaURLPush, "mainland"); p != 99 || u != 998 {
		t.Errorf("PathPurge %d (want 99), UrlPush %d (want 998)", p, u)
	}
	s.SetQuota(fakeapi3.QuotaURLPush, fakeapi3.Quota{Batch: 2, Total: 1000, Available: 3, Area: "mainland"})
	three := `{"Urls":["https://www.example.com/1","https://www.example.com/2","https://www.example.com/3"]}`
	two := `{"Urls":["https://www.example.com/1","https://www.example.com/2"]}`
	for _, c := range []struct {
		body, code string
		left       int64
	}{{three, "LimitExceeded.CdnPushExceedBatchLimit", 3}, {two, "", 1}, {two, "LimitExceeded.CdnPushExceedDayLimit", 1}} {
		if _, code := post(t, s, "PushUrlsCache", c.body); code != c.code {
			t.Errorf("push: code %q, want %q", code, c.code)
		}
		if q, _ := s.Quota(fakeapi3.QuotaURLPush, "mainland"); q.Available != c.left {
			t.Errorf("push quota left %d, want %d", q.Available, c.left)
		}
	}
}

func TestTasks(t *testing.T) {
	s := strict(t, nil)
	a, _ := post(t, s, "PurgeUrlsCache", `{"Urls":["https://www.example.com/a","https://www.example.com/b"]}`)
	b, _ := post(t, s, "PurgePathCache", `{"Paths":["https://www.example.com/d/"],"FlushType":"delete"}`)
	c, _ := post(t, s, "PushUrlsCache", `{"Urls":["https://www.example.com/p"]}`)
	ids := []any{a["TaskId"], b["TaskId"], c["TaskId"]}
	if ids[0] == ids[1] || ids[1] == ids[2] || !strings.HasPrefix(ids[0].(string), strconv.FormatInt(now.Unix(), 10)+"-") {
		t.Fatalf("TaskIds %v: want distinct, led by the submission's Unix time", ids)
	}
	rng := `"StartTime":"2023-11-15 00:00:00","EndTime":"2023-11-15 23:59:59"` // now is 06:13:20 in UTC+8
	tests := []struct {
		action, body, list string
		total              float64
		urls               string // the listed URLs, newest first
	}{
		{"DescribePurgeTasks", `{` + rng + `}`, "PurgeLogs", 3, "https://www.example.com/d/ https://www.example.com/b https://www.example.com/a"},
		{"DescribePurgeTasks", `{` + rng + `,"PurgeType":"url","Limit":1,"Offset":1}`, "PurgeLogs", 2, "https://www.example.com/a"},
		{"DescribePurgeTasks", fmt.Sprintf(`{"TaskId":%q}`, ids[1]), "PurgeLogs", 1, "https://www.example.com/d/"},
		{"DescribePurgeTasks", `{` + rng + `,"Keyword":"/b"}`, "PurgeLogs", 1, "https://www.example.com/b"},
		{"DescribePurgeTasks", `{"StartTime":"2023-11-16 00:00:00","EndTime":"2023-11-16 23:59:59"}`, "PurgeLogs", 0, ""},
		{"DescribePushTasks", `{` + rng + `,"Status":"done"}`, "PushLogs", 1, "https://www.example.com/p"},
		{"DescribePushTasks", fmt.Sprintf(`{"TaskId":%q}`, ids[0]), "PushLogs", 0, ""},
	}
	for _, tc := range tests {
		t.Run(tc.action+" "+tc.body, func(t *testing.T) {
			resp, code := post(t, s, tc.action, tc.body)
			if code != "" {
				t.Fatal(code)
			}
			var urls []string
			for _, l := range resp[tc.list].([]any) {
				urls = append(urls, l.(map[string]any)["Url"].(string))
			}
			if resp["TotalCount"] != tc.total || strings.Join(urls, " ") != tc.urls {
				t.Errorf("TotalCount %v, Urls %q; want %v, %q", resp["TotalCount"], urls, tc.total, tc.urls)
			}
		})
	}
	resp, _ := post(t, s, "DescribePurgeTasks", fmt.Sprintf(`{"TaskId":%q}`, ids[1]))
	if l := first(resp, "PurgeLogs"); l["FlushType"] != "delete" || l["PurgeType"] != "path" || l["Status"] != "done" ||
		l["CreateTime"] != "2023-11-15 06:13:20" {
		t.Errorf("PurgeLogs[0] %v", l)
	}
}

func TestPaging(t *testing.T) {
	s := strict(t, fakeapi3.NumberedDomains(150))
	tests := []struct {
		action, body string
		code         string
		n            int
		first        string
	}{
		{"DescribeDomainsConfig", `{}`, "", 100, "d001.example.com"},
		{"DescribeDomainsConfig", `{"Offset":0,"Limit":100}`, "", 100, "d001.example.com"},
		{"DescribeDomainsConfig", `{"Offset":100,"Limit":100}`, "", 50, "d101.example.com"},
		{"DescribeDomainsConfig", `{"Offset":150,"Limit":100}`, "", 0, ""},
		{"DescribeDomainsConfig", `{"Offset":0,"Limit":150}`, "InvalidParameter.CdnParamError", 0, ""},
		{"DescribeDomains", `{"Limit":1000}`, "", 150, "d001.example.com"},
		{"DescribeDomains", `{"Offset":149,"Limit":10}`, "", 1, "d150.example.com"},
		{"DescribeDomainsConfig", `{"Filters":[{"Name":"domain","Value":["d01"],"Fuzzy":true}]}`, "", 10, "d010.example.com"},
		{"DescribeDomainsConfig", `{"Filters":[{"Name":"resourceId","Value":["cdn-seed0007","cdn-seed0009"]}]}`, "", 2, "d007.example.com"},
	}
	for _, tc := range tests {
		t.Run(tc.action+" "+tc.body, func(t *testing.T) {
			resp, code := post(t, s, tc.action, tc.body)
			if code != tc.code {
				t.Fatalf("code %q, want %q", code, tc.code)
			}
			if code != "" {
				return
			}
			ds := resp["Domains"].([]any)
			total := map[bool]float64{true: 150}[!strings.Contains(tc.body, "Filters")]
			if total == 0 {
				total = float64(tc.n)
			}
			if len(ds) != tc.n || resp["TotalNumber"] != total {
				t.Fatalf("%d domains of TotalNumber %v, want %d of %v", len(ds), resp["TotalNumber"], tc.n, total)
			}
			if tc.n > 0 && ds[0].(map[string]any)["Domain"] != tc.first {
				t.Errorf("first domain %v, want %s", ds[0].(map[string]any)["Domain"], tc.first)
			}
		})
	}
}

func TestRecording(t *testing.T) {
	s := strict(t, nil)
	post(t, s, "PurgeUrlsCache", `{"Urls":["https://www.example.com/a"],"Area":"mainland"}`)
	post(t, s, "DescribeDomains", `{"Limit":1001}`)
	post(t, s, "DescribeDomains", `{"FailWith":"RequestLimitExceeded"}`)
	bad := tc3(t, s, "DescribeDomains", `{}`, nil)
	bad.Header.Set("X-TC-Version", "2017-03-12")
	send(t, bad)
	send(t, tc3(t, s, "RefreshCdnUrl", `{}`, nil))
	// A v1 form call with nested parameters.
	p := signature.Params{
		{Name: "Action", Value: "DescribeDomains"}, {Name: "Nonce", Value: "1"}, {Name: "SecretId", Value: id},
		{Name: "Timestamp", Value: strconv.FormatInt(now.Unix(), 10)}, {Name: "Version", Value: fakeapi3.Version},
		{Name: "Limit", Value: "5"}, {Name: "Filters.0.Name", Value: "domain"}, {Name: "Filters.0.Value.0", Value: "www.example.com"},
	}
	form := p.With("Signature", signature.NewKey(key).Sign(http.MethodPost, s.Host, "/", p)).Encode()
	req, _ := http.NewRequest(http.MethodPost, s.URL+"/", strings.NewReader(form))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if resp, code := send(t, req); code != "" || resp["TotalNumber"] != 1.0 {
		t.Fatalf("v1 form DescribeDomains: %q %v", code, resp)
	}

	calls := s.Calls()
	want := []struct{ action, code, signing, payload string }{
		{"PurgeUrlsCache", "", "TC3", `{"Urls":["https://www.example.com/a"],"Area":"mainland"}`},
		{"DescribeDomains", "InvalidParameter.CdnParamError", "TC3", `{"Limit":1001}`},
		{"DescribeDomains", "RequestLimitExceeded", "TC3", `{"FailWith":"RequestLimitExceeded"}`},
		{"DescribeDomains", "", "v1", `{"Filters":[{"Name":"domain","Value":["www.example.com"]}],"Limit":"5"}`},
	}
	if len(calls) != len(want) {
		t.Fatalf("%d calls recorded, want %d: %+v", len(calls), len(want), calls)
	}
	for i, w := range want {
		c := calls[i]
		if c.Action != w.action || c.Code != w.code || c.Signing != w.signing || string(c.Payload) != w.payload ||
			c.Version != fakeapi3.Version || c.Host != s.Host || c.SecretID != id {
			t.Errorf("call %d = %+v (payload %s), want %+v", i, c, c.Payload, w)
		}
	}
	if urls, _ := calls[0].Params["Urls"].([]any); len(urls) != 1 || urls[0] != "https://www.example.com/a" {
		t.Errorf("Params %v", calls[0].Params)
	}
}

func TestErrorOnDemandForEveryAction(t *testing.T) {
	s := strict(t, nil)
	for _, action := range fakeapi3.Actions() {
		t.Run(action, func(t *testing.T) {
			req := tc3(t, s, action, `{}`, nil)
			req.Header.Set(fakeapi3.ErrorHeader, "InternalError")
			if _, code := send(t, req); code != "InternalError" {
				t.Errorf("header: code %q", code)
			}
			if _, code := post(t, s, action, `{"FailWith":"LimitExceeded"}`); code != "LimitExceeded" {
				t.Errorf("FailWith: code %q", code)
			}
		})
	}
	if len(s.Tasks()) != 0 || len(s.Domains()) != 1 {
		t.Errorf("an injected error changed the state: %v %v", s.Tasks(), s.Domains())
	}
}

func TestLoose(t *testing.T) {
	s := fakeapi3.New(t, fakeapi3.Config{Keys: map[string]string{id: key}, Now: func() time.Time { return now }})
	for _, body := range []string{`{}`, `{"Urls":["https://例子.cn/a b"]}`} {
		resp, code := post(t, s, "PurgeUrlsCache", body)
		if code != "" || resp["TaskId"] != fakeapi3.TaskID {
			t.Errorf("%s: %q %v", body, code, resp)
		}
	}
	if _, code := post(t, s, "PurgeUrlsCache", `{"Urls":"x"}`); code != "InvalidParameter" {
		t.Errorf("types are checked without Strict too: %q", code)
	}
	if q, _ := s.Quota(fakeapi3.QuotaURLPurge, "mainland"); q.Available != 9999 {
		t.Errorf("quota %d, want 9999", q.Available)
	}
}

func TestSeeding(t *testing.T) {
	s := strict(t, []fakeapi3.Domain{})
	if len(s.Domains()) != 0 {
		t.Fatalf("empty Domains seeded %v", s.Domains())
	}
	d, err := s.AddDomain(fakeapi3.Domain{Domain: "a.example.com"})
	if err != nil || d.ResourceID == "" || d.Status != fakeapi3.StatusOnline || d.Cname != "a.example.com.cdn.dnsv1.com" ||
		d.Area != "mainland" || d.ServiceType != "web" || len(d.Origin.Origins) != 1 || !d.CreateTime.Equal(now) {
		t.Errorf("AddDomain = %+v, %v", d, err)
	}
	if _, err := s.AddDomain(fakeapi3.Domain{Domain: "a.example.com"}); err == nil {
		t.Error("AddDomain took a name twice")
	}
	if _, err := s.AddDomain(fakeapi3.Domain{Domain: "b.example.com", Status: "deleted"}); err == nil {
		t.Error("AddDomain took an unknown status")
	}
}
