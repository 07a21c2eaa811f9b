package proxy_test

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/cdnproxy/cdnproxy/proxy"
	"github.com/cdnproxy/cdnproxy/proxy/signature"
)

// BenchmarkBridge compares a bridged RefreshCdnUrl (verified, translated,
// signed with TC3, its 3.0 answer turned into a 2.0 body) with the same
// call in resign mode (verified, signed again, forwarded, its 2.0 answer
// annotated), both against an in-memory upstream, for a success and an
// error. Every call carries its own Nonce, as the bridge refuses replays.
func BenchmarkBridge(b *testing.B) {
	const clientID, clientKey = "AKIDbenchclient000000000000000000", "benchclientkey0000000000000000"
	now := time.Unix(1700000000, 0)
	signing := proxy.Signing{Mode: proxy.Resign, SecretID: "AKIDbenchupstream00000000000000000", SecretKey: "benchupstreamkey00000000000000",
		ClientKeys: map[string]string{clientID: clientKey}, Now: func() time.Time { return now }}
	const (
		v2Success = `{"code":0,"message":"","codeDesc":"Success","data":{"count":1,"task_id":"1700000000123"}}`
		v2Error   = `{"code":4000,"message":"(9110)没有这个域名的信息 cdn no such host","codeDesc":"InvalidParameter"}`
		v3Success = `{"Response":{"TaskId":"1700000000123","RequestId":"6ef60bec-0242-43af-bb20-270359fb54a7"}}`
		v3Error   = `{"Response":{"Error":{"Code":"ResourceNotFound.CdnHostNotExists","Message":"域名不存在"},"RequestId":"6ef60bec-0242-43af-bb20-270359fb54a7"}}`
	)
	nonce := 0 // across runs too: the bridge refuses a replay
	for _, c := range []struct {
		name   string
		bridge bool
		answer string
		want   string // the start of the answer the client must get
	}{
		{"success/resign", false, v2Success, `{"code":0,`},
		{"success/bridge", true, v3Success, `{"code":0,`},
		{"error/resign", false, v2Error, `{"code":4000,`},
		{"error/bridge", true, v3Error, `{"code":5000,`},
	} {
		p, err := proxy.New(proxy.Config{
			Upstream:   mustURL(b, "https://cdn.api.qcloud.com"),
			UpstreamV3: mustURL(b, "https://cdn.tencentcloudapi.com"),
			BridgeV2:   c.bridge,
			Transport:  memoryTransport{[]byte(c.answer)},
			Signing:    signing,
			Logger:     slog.New(slog.NewJSONHandler(io.Discard, &slog.HandlerOptions{Level: slog.LevelInfo})),
			Metrics:    proxy.NewMetrics(prometheus.NewRegistry()),
			Failures:   proxy.NewFailures(200, nil),
		})
		if err != nil {
			b.Fatal(err)
		}
		b.Run(c.name, func(b *testing.B) {
			targets := make([]string, b.N)
			for i := range targets {
				nonce++
				params := signature.Params{
					{Name: "Action", Value: "RefreshCdnUrl"},
					{Name: "Nonce", Value: strconv.Itoa(nonce)},
					{Name: "SecretId", Value: clientID},
					{Name: "Timestamp", Value: strconv.FormatInt(now.Unix(), 10)},
					{Name: "urls.0", Value: "https://www.example.com/a.png"},
				}
				sig := signature.NewKey(clientKey).Sign(http.MethodGet, "example.com", "/v2/index.php", params)
				targets[i] = "http://example.com/v2/index.php?" + params.With("Signature", sig).Encode()
			}
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				w := httptest.NewRecorder()
				p.ServeHTTP(w, httptest.NewRequest(http.MethodGet, targets[i], nil))
				if w.Code != http.StatusOK || !strings.HasPrefix(w.Body.String(), c.want) {
					b.Fatalf("answer %d %s, want one starting %s", w.Code, w.Body, c.want)
				}
			}
		})
	}
}
