package bridge

import (
	"context"
	"testing"

	"github.com/cdnproxy/cdnproxy/proxy/signature"
)

// FuzzAnswer feeds arbitrary 3.0 answers (status and body, bytes from
// outside) to bridged calls: the 2.0 answer must always be a JSON object
// with an integer code, non-zero exactly when Failed.
func FuzzAnswer(f *testing.F) {
	f.Add(200, []byte(`{"Response":{"TaskId":"1533045796-i60rfmzm","RequestId":"r"}}`))
	f.Add(200, []byte(`{"Response":{"Error":{"Code":"ResourceNotFound.CdnHostNotExists","Message":"\u57df"},"RequestId":"r"}}`))
	f.Add(502, []byte(`<html>502</html>`))
	f.Add(200, []byte(`{"Response":{"Domains":[{"ResourceId":"cdn-1","Domain":"a\xff.com","Status":"online","Origin":{"Origins":["\x00"]}}],"TotalNumber":1}}`))
	f.Add(200, []byte(`{"Response":{"Error":{"Code":"\ud800","Message":"\xff\xfe"},"RequestId":"\u2028"}}`))
	actions := []string{
		"Action=RefreshCdnUrl&urls.0=http://www.test.com/",
		"Action=DescribeCdnHosts&limit=2",
		"Action=GetCdnRefreshLog&taskId=t",
		"Action=DescribeCdnHostInfo&startDate=2016-05-03&endDate=2016-05-03&statType=flux",
	}
	f.Fuzz(func(t *testing.T, status int, body []byte) {
		for _, q := range actions {
			do := func(context.Context, string, []byte) (int, []byte, error) { return status, body, nil }
			res, err := New().Serve(context.Background(), do, params(t, q))
			if err != nil {
				t.Fatal(err)
			}
			checkBody(t, res.Body, res.Failed)
		}
	})
}

// FuzzParams feeds arbitrary 2.0 parameter strings to Serve, with a Doer
// that answers every call with an empty success: the answer must always be
// a JSON object with an integer code.
func FuzzParams(f *testing.F) {
	for _, s := range []string{
		"Action=RefreshCdnUrl&urls.0=http://a.test.com/",
		"Action=RefreshCdnDir&dirs_0=http://a.test.com/&type=1",
		"Action=GetHostInfoById&ids.0=123",
		"Action=OnlineHost&hostId=99999999999999999999",
		"Action=GetCdnStatusCode&startDate=2016-05-03&endDate=2016-06-03&period=1440",
		"Action=AddCdnHost&host=a.test.com&origin=[::1]:80;b.test.com",
		"Action=%FF%FE",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		p, err := signature.Parse(raw)
		if err != nil {
			return
		}
		do := func(context.Context, string, []byte) (int, []byte, error) {
			return 200, []byte(`{"Response":{"RequestId":"r"}}`), nil
		}
		res, err := New().Serve(context.Background(), do, p)
		if err != nil {
			t.Fatal(err)
		}
		checkBody(t, res.Body, res.Failed)
	})
}
