package bridge

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cdnproxy/cdnproxy/codes"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden from Serve's output")

// statusCodeCalls are GetCdnStatusCode's six DescribeCdnData calls.
func statusCodeCalls() []exchange {
	var calls []exchange
	for i, code := range []string{"200", "206", "304", "404", "416", "500"} {
		calls = append(calls, exchange{"DescribeCdnData",
			`{"StartTime":"2016-05-03 00:00:00","EndTime":"2016-05-03 23:59:59","Metric":"` + code + `","Domains":["www.test.com"],"Interval":"5min"}`, 0,
			`{"Response":{"Interval":"5min","Data":[{"Resource":"www.test.com","CdnData":[{"Metric":"` + code + `","DetailData":[{"Time":"2016-05-03 00:00:00","Value":` + string(rune('1'+i)) + `},{"Time":"2016-05-03 00:05:00","Value":10}],"SummarizedData":{"Name":"sum","Value":11}}]}],"RequestId":"req-` + code + `"}}`})
	}
	return calls
}

// TestServe runs one bridged call per case against a scripted Doer that
// checks every 3.0 action and payload, and compares the 2.0 answer with
// testdata/<case>.golden. Run
//
//	go test ./proxy/bridge/ -run TestServe -update
//
// to rewrite the golden files after a deliberate change; review the diff.
func TestServe(t *testing.T) {
	tests := []struct {
		name, query string
		calls       []exchange
		failed      bool
		successor   string
	}{
		{"RefreshCdnUrl", "Action=RefreshCdnUrl&urls.0=http://www.test.com/a.jpg&urls.1=http://www.test.com/b.jpg", []exchange{
			{"PurgeUrlsCache", `{"Urls":["http://www.test.com/a.jpg","http://www.test.com/b.jpg"]}`, 0, `{"Response":{"TaskId":"1533045796-i60rfmzm","RequestId":"4d5a83f8-0001"}}`},
		}, false, "PurgeUrlsCache"},
		{"RefreshCdnUrl-underscore-names", "Action=RefreshCdnUrl&urls_1=http://www.test.com/b.jpg&urls_0=http://www.test.com/a.jpg", []exchange{
			{"PurgeUrlsCache", `{"Urls":["http://www.test.com/a.jpg","http://www.test.com/b.jpg"]}`, 0, `{"Response":{"TaskId":"1533045796-i60rfmzm","RequestId":"4d5a83f8-0001"}}`},
		}, false, "PurgeUrlsCache"},
		{"RefreshCdnDir", "Action=RefreshCdnDir&dirs.0=http://www.test.com/img/&type=2", []exchange{
			{"PurgePathCache", `{"Paths":["http://www.test.com/img/"],"FlushType":"delete"}`, 0, `{"Response":{"TaskId":"1533045796-ab12cd34","RequestId":"4d5a83f8-0002"}}`},
		}, false, "PurgePathCache"},
		{"CdnUrlPusher", "Action=CdnUrlPusher&urls.0=http://www.test.com/a.jpg&urls.1=http://www.test.com/b.jpg", []exchange{
			{"PushUrlsCache", `{"Urls":["http://www.test.com/a.jpg","http://www.test.com/b.jpg"]}`, 0, `{"Response":{"TaskId":"1522134939-xyz","RequestId":"4d5a83f8-0003"}}`},
		}, false, "PushUrlsCache"},
		{"CdnPusherV2", "Action=CdnPusherV2&urls.0=http://www.test.com/a.jpg", []exchange{
			{"PushUrlsCache", `{"Urls":["http://www.test.com/a.jpg"]}`, 0, `{"Response":{"TaskId":"1522134939-xyz","RequestId":"4d5a83f8-0004"}}`},
		}, false, "PushUrlsCache"},
		{"GetCdnRefreshLog", "Action=GetCdnRefreshLog&startDate=2017-02-06&endDate=2017-02-06&url=test.png", []exchange{
			{"DescribePurgeTasks", `{"PurgeType":"url","StartTime":"2017-02-06 00:00:00","EndTime":"2017-02-06 23:59:59","Offset":0,"Limit":100,"Keyword":"test.png"}`, 0,
				`{"Response":{"PurgeLogs":[{"TaskId":"1486381199-aaa","Url":"http://www.test.com/Content/image/test.png","Status":"done","PurgeType":"url","FlushType":"flush","CreateTime":"2017-02-06 19:39:59"}],"TotalCount":1,"RequestId":"r-url"}}`},
			{"DescribePurgeTasks", `{"PurgeType":"path","StartTime":"2017-02-06 00:00:00","EndTime":"2017-02-06 23:59:59","Offset":0,"Limit":100,"Keyword":"test.png"}`, 0,
				`{"Response":{"PurgeLogs":[],"TotalCount":0,"RequestId":"r-path"}}`},
		}, false, "DescribePurgeTasks"},
		{"GetPushLogs", "Action=GetPushLogs&taskId=1522134939-xyz&limit=1", []exchange{
			{"DescribePushTasks", `{"TaskId":"1522134939-xyz","Offset":0,"Limit":1}`, 0,
				`{"Response":{"PushLogs":[{"TaskId":"1522134939-xyz","Url":"http://www.test.com/a.jpg","Status":"process","Percent":50,"CreateTime":"2018-03-27 15:15:39","Area":"mainland","UpdateTime":"2018-03-27 15:16:00"}],"TotalCount":2,"RequestId":"r-push"}}`},
		}, false, "DescribePushTasks"},
		{"GetFlushQuota", "Action=GetFlushQuota", []exchange{
			{"DescribePurgeQuota", `{}`, 0, `{"Response":{"UrlPurge":[{"Batch":1000,"Total":10000,"Available":9998,"Area":"mainland"}],"PathPurge":[{"Batch":500,"Total":100,"Available":99,"Area":"mainland"}],"RequestId":"r-quota"}}`},
		}, false, "DescribePurgeQuota"},
		{"DescribeCdnHosts", "Action=DescribeCdnHosts&offset=0&limit=1", []exchange{
			{"DescribeDomainsConfig", `{"Offset":0,"Limit":1}`, 0, `{"Response":{"Domains":[` + domain("cdn-abc123", "www.test.com", "online") + `],"TotalNumber":3,"RequestId":"r-list"}}`},
		}, false, "DescribeDomainsConfig"},
		{"GetHostInfoByHost", "Action=GetHostInfoByHost&hosts.0=www.test.com&hosts.1=missing.test.com", []exchange{
			{"DescribeDomainsConfig", `{"Offset":0,"Limit":100,"Filters":[{"Name":"domain","Value":["www.test.com","missing.test.com"]}]}`, 0,
				`{"Response":{"Domains":[` + domain("cdn-abc123", "www.test.com", "offline") + `],"TotalNumber":1,"RequestId":"r-by-host"}}`},
		}, false, "DescribeDomainsConfig"},
		{"OnlineHost", "Action=OnlineHost&host=www.test.com", []exchange{
			{"StartCdnDomain", `{"Domain":"www.test.com"}`, 0, `{"Response":{"RequestId":"r-start"}}`},
		}, false, "StartCdnDomain"},
		{"OnlineHost-already-online", "Action=OnlineHost&host=www.test.com", []exchange{
			{"StartCdnDomain", `{"Domain":"www.test.com"}`, 0, `{"Response":{"Error":{"Code":"ResourceInUse.CdnOpInProgress","Message":"域名操作过于频繁"},"RequestId":"r-busy"}}`},
		}, true, "StartCdnDomain"},
		{"OfflineHost", "Action=OfflineHost&host=www.test.com", []exchange{
			{"StopCdnDomain", `{"Domain":"www.test.com"}`, 0, `{"Response":{"RequestId":"r-stop"}}`},
		}, false, "StopCdnDomain"},
		{"DeleteCdnHost", "Action=DeleteCdnHost&host=www.test.com", []exchange{
			{"DeleteCdnDomain", `{"Domain":"www.test.com"}`, 0, `{"Response":{"RequestId":"r-delete"}}`},
		}, false, "DeleteCdnDomain"},
		{"AddCdnHost", "Action=AddCdnHost&host=www.test.com&origin=1.1.1.1:80;2.2.2.2&projectId=3", []exchange{
			{"AddCdnDomain", `{"Domain":"www.test.com","ServiceType":"web","Origin":{"Origins":["1.1.1.1:80","2.2.2.2"],"OriginType":"ip"},"ProjectId":3}`, 0, `{"Response":{"RequestId":"r-add"}}`},
		}, false, "AddCdnDomain"},
		{"AddCdnHost-no-icp", "Action=AddCdnHost&host=www.test.com&origin=origin.test.com&serviceType=download&fwdHost=origin.test.com", []exchange{
			{"AddCdnDomain", `{"Domain":"www.test.com","ServiceType":"download","Origin":{"Origins":["origin.test.com"],"OriginType":"domain","ServerName":"origin.test.com"},"ProjectId":0}`, 0,
				`{"Response":{"Error":{"Code":"ResourceUnavailable.CdnHostNoIcp","Message":"域名未备案"},"RequestId":"r-icp"}}`},
		}, true, "AddCdnDomain"},
		{"GetCdnLogList", "Action=GetCdnLogList&host=www.test.com&startDate=2016-12-30 00:00:00&endDate=2016-12-30 02:00:00", []exchange{
			{"DescribeCdnDomainLogs", `{"Domain":"www.test.com","StartTime":"2016-12-30 00:00:00","EndTime":"2016-12-30 02:00:00","Offset":0,"Limit":1000}`, 0,
				`{"Response":{"DomainLogs":[{"StartTime":"2016-12-30 00:00:00","EndTime":"2016-12-30 01:00:00","LogPath":"https://log-download.cdn.qcloud.com/20161230/00/2016123000-www.test.com.gz?st=x&e=1","Area":"mainland","LogName":"2016123000-www.test.com"},{"StartTime":"2016-12-30 01:00:00","EndTime":"2016-12-30 02:00:00","LogPath":"https://log-download.cdn.qcloud.com/20161230/01/2016123001-www.test.com.gz?st=x&e=1","Area":"mainland"}],"TotalCount":2,"RequestId":"r-logs"}}`},
		}, false, "DescribeCdnDomainLogs"},
		{"DescribeCdnHostInfo", "Action=DescribeCdnHostInfo&startDate=2016-05-03 00:00:00&endDate=2016-05-04 23:55:00&statType=bandwidth&hosts.0=www.test.com", []exchange{
			{"DescribeCdnData", `{"StartTime":"2016-05-03 00:00:00","EndTime":"2016-05-04 23:55:00","Metric":"bandwidth","Domains":["www.test.com"],"Interval":"5min","Detail":true}`, 0,
				`{"Response":{"Interval":"5min","Data":[{"Resource":"www.test.com","CdnData":[{"Metric":"bandwidth","DetailData":[{"Time":"2016-05-03 00:00:00","Value":100},{"Time":"2016-05-03 00:05:00","Value":123456789}],"SummarizedData":{"Name":"max","Value":123456789}}]}],"RequestId":"r-stat"}}`},
		}, false, "DescribeCdnData"},
		{"DescribeCdnHostDetailedInfo", "Action=DescribeCdnHostDetailedInfo&startDate=2016-05-01&endDate=2016-05-05&statType=requests&projects.0=0", []exchange{
			{"DescribeCdnData", `{"StartTime":"2016-05-01 00:00:00","EndTime":"2016-05-05 23:59:59","Metric":"request","Project":0,"Interval":"hour"}`, 0,
				`{"Response":{"Interval":"hour","Data":[{"Resource":"multiDomains","CdnData":[{"Metric":"request","DetailData":[{"Time":"2016-05-01 00:00:00","Value":7},{"Time":"2016-05-01 01:00:00","Value":9}],"SummarizedData":{"Name":"sum","Value":16}}]}],"RequestId":"r-detail"}}`},
		}, false, "DescribeCdnData"},
		{"GetCdnStatusCode", "Action=GetCdnStatusCode&startDate=2016-05-03&endDate=2016-05-03&hosts.0=www.test.com", statusCodeCalls(), false, "DescribeCdnData"},
		{"RefreshCdnUrl-no-such-host", "Action=RefreshCdnUrl&urls.0=http://nohost.test.com/a.jpg", []exchange{
			{"PurgeUrlsCache", `{"Urls":["http://nohost.test.com/a.jpg"]}`, 0, `{"Response":{"Error":{"Code":"ResourceNotFound.CdnHostNotExists","Message":"域名不存在"},"RequestId":"4d5a83f8-0005"}}`},
		}, true, "PurgeUrlsCache"},
		{"RefreshCdnUrl-missing-urls", "Action=RefreshCdnUrl", nil, true, "PurgeUrlsCache"},
		{"RefreshCdnDir-bad-type", "Action=RefreshCdnDir&dirs.0=http://www.test.com/img/&type=3", nil, true, "PurgePathCache"},
		{"DescribeCdnHosts-bad-limit", "Action=DescribeCdnHosts&limit=-1", nil, true, "DescribeDomainsConfig"},
		{"UpdateCdnConfig-unsupported", "Action=UpdateCdnConfig&hostId=1234&cache=[]", nil, true, "UpdateDomainConfig"},
		{"QueryCdnIp-unsupported", "Action=QueryCdnIp&ips=1.1.1.1", nil, true, "DescribeCdnIp"},
		{"GetCdnOriginStat-unsupported", "Action=GetCdnOriginStat", nil, true, ""},
		{"no-action", "limit=1", nil, true, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			doer := &scripted{t: t, want: tc.calls}
			res, err := newTestBridge().Serve(context.Background(), doer.do, params(t, tc.query))
			if err != nil {
				t.Fatalf("Serve: %v", err)
			}
			doer.done()
			checkBody(t, res.Body, tc.failed)
			if res.Failed != tc.failed || res.Successor != tc.successor {
				t.Errorf("Failed, Successor = %v, %q; want %v, %q", res.Failed, res.Successor, tc.failed, tc.successor)
			}
			if n := len(tc.calls); n > 0 && !strings.Contains(tc.calls[n-1].answer, `"RequestId":"`+res.RequestID+`"`) {
				t.Errorf("RequestID = %q, not the last 3.0 answer's", res.RequestID)
			}
			golden := filepath.Join("testdata", tc.name+".golden")
			if *update {
				if err := os.WriteFile(golden, append(res.Body, '\n'), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run with -update to create it)", err)
			}
			if got := append(res.Body, '\n'); !bytes.Equal(got, want) {
				t.Errorf("body =\n%s\nwant (%s)\n%s", got, golden, want)
			}
		})
	}
}

// TestUnsupportedNeverCallsDoer checks that every 2.0 action the bridge
// does not translate is answered locally as unsupported.
func TestUnsupportedNeverCallsDoer(t *testing.T) {
	for _, action := range []string{
		"AddYYCdnHost", "CdnOverseaPushser", "DescribeOverseaCdnHosts", "FlushOrPushOverall",
		"ForbidBadUrl", "GenerateLogList", "GetCdnStatTop", "QueryCdnIp", "SetHttpsInfo",
		"UpdateCache", "UpdateCdnConfig", "UpdateCdnProject", "UploadCdnEntity", "PurgeUrlsCache",
	} {
		t.Run(action, func(t *testing.T) {
			res, err := New().Serve(context.Background(), neverCalled(t), params(t, "Action="+action))
			if err != nil {
				t.Fatal(err)
			}
			checkBody(t, res.Body, true)
			if !res.Unsupported || res.Code != 4000 || res.Category != codes.Unsupported || res.Retryable {
				t.Errorf("got Unsupported=%v Code=%d Category=%s Retryable=%v", res.Unsupported, res.Code, res.Category, res.Retryable)
			}
			if s := Successor(action); s != "" && !strings.Contains(res.Message, s) {
				t.Errorf("message %q does not name the successor %s", res.Message, s)
			}
		})
	}
}

// TestValidationNeverCallsDoer checks that bad 2.0 parameters are answered
// with 4000 before any 3.0 call.
func TestValidationNeverCallsDoer(t *testing.T) {
	for _, query := range []string{
		"Action=RefreshCdnUrl&urls.x=http://a.test.com/",
		"Action=RefreshCdnUrl&urls.0=",
		"Action=RefreshCdnUrl&urls.00=http://a.test.com/",
		"Action=RefreshCdnDir&dirs.0=http://a.test.com/",
		"Action=CdnPusherV2",
		"Action=GetCdnRefreshLog",
		"Action=GetCdnRefreshLog&startDate=2017-02-07&endDate=2017-02-06",
		"Action=GetPushLogs&date=yesterday",
		"Action=GetPushLogs&taskId=1&status.0=1",
		"Action=DescribeCdnHosts&offset=x",
		"Action=GetHostInfoById&ids.0=abc",
		"Action=GetHostInfoByHost",
		"Action=OnlineHost",
		"Action=OfflineHost&hostId=-3",
		"Action=AddCdnHost&origin=1.1.1.1",
		"Action=AddCdnHost&host=www.test.com",
		"Action=AddCdnHost&host=www.test.com&origin=1.1.1.1&hostType=ftp",
		"Action=AddCdnHost&host=www.test.com&origin=1.1.1.1&serviceType=live",
		"Action=GetCdnLogList",
		"Action=GetCdnLogList&host=www.test.com&startDate=May",
		"Action=DescribeCdnHostInfo&startDate=2016-05-03&endDate=2016-05-04&statType=ip_visits",
		"Action=DescribeCdnHostInfo&startDate=2016-05-03&endDate=2016-05-04&statType=flux&projects.0=1&projects.1=2",
		"Action=GetCdnStatusCode&startDate=2016-05-03&endDate=2016-05-04&period=7",
	} {
		t.Run(query, func(t *testing.T) {
			res, err := New().Serve(context.Background(), neverCalled(t), params(t, query))
			if err != nil {
				t.Fatal(err)
			}
			checkBody(t, res.Body, true)
			if res.Code != 4000 || res.Category != codes.InvalidParameter || res.Unsupported || res.V3Code != "" {
				t.Errorf("got Code=%d Category=%s Unsupported=%v V3Code=%q: %s", res.Code, res.Category, res.Unsupported, res.V3Code, res.Body)
			}
		})
	}
}

// TestDoerError checks that a transport failure comes back as the error,
// wrapped, with no body.
func TestDoerError(t *testing.T) {
	boom := errors.New("connection reset")
	do := func(context.Context, string, []byte) (int, []byte, error) { return 0, nil, boom }
	res, err := New().Serve(context.Background(), do, params(t, "Action=RefreshCdnUrl&urls.0=http://www.test.com/"))
	if !errors.Is(err, boom) {
		t.Fatalf("err = %v, want it to wrap %v", err, boom)
	}
	if res.Body != nil || res.Action != "RefreshCdnUrl" || res.Successor != "PurgeUrlsCache" {
		t.Errorf("Result = %+v", res)
	}
}

// TestCancelledContext checks that a paging loop stops on a cancelled
// context and reports it as the error.
func TestCancelledContext(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	calls := 0
	do := func(context.Context, string, []byte) (int, []byte, error) {
		calls++
		cancel()
		return 200, fakeDomains(0, 100, 500), nil
	}
	_, err := New().Serve(ctx, do, params(t, "Action=DescribeCdnHosts"))
	if !errors.Is(err, context.Canceled) || calls != 1 {
		t.Errorf("err = %v after %d calls, want context.Canceled after 1", err, calls)
	}
}
