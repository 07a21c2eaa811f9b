package sdkclient_test

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common"
	tcerr "github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common/errors"
	tchttp "github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common/http"
	"github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common/profile"

	"github.com/cdnproxy/cdnproxy/internal/api3"
	"github.com/cdnproxy/cdnproxy/internal/emulator"
	"github.com/cdnproxy/cdnproxy/proxy"
	"github.com/cdnproxy/cdnproxy/proxy/signature"
)

// TestCommonClientAgainstEmulator drives the Go SDK's common client
// against `cdnproxy mock`'s emulator, directly and through the proxy
// (resign mode): a purge, a state error, a daily-quota error once the
// quota is spent, and an injected fault. Through the proxy, errors arrive
// annotated.
func TestCommonClientAgainstEmulator(t *testing.T) {
	for _, via := range []string{"direct", "proxy"} {
		t.Run(via, func(t *testing.T) {
			emu := emulator.New(emulator.Config{
				Credentials: map[string]string{upstreamID: upstreamKey},
				Domains: []emulator.Domain{{Host: "www.example.com", Status: emulator.StatusOnline},
					{Host: "static.offline.example", Status: emulator.StatusOffline}},
				Limits: emulator.Limits{RefreshURLsPerDay: 2},
			})
			emuSrv := httptest.NewServer(emu)
			t.Cleanup(emuSrv.Close)
			endpoint, id, key := strings.TrimPrefix(emuSrv.URL, "http://"), upstreamID, upstreamKey
			if via == "proxy" {
				emuURL, _ := url.Parse(emuSrv.URL)
				proxySrv := resignProxy(t, proxy.Config{Upstream: emuURL, UpstreamV3: emuURL})
				endpoint, id, key = strings.TrimPrefix(proxySrv.URL, "http://"), clientID, clientKey
			}
			cpf := profile.NewClientProfile()
			cpf.HttpProfile.Endpoint = endpoint
			cpf.HttpProfile.Scheme = "HTTP"
			cpf.HttpProfile.ReqTimeout = 30
			rec := &recorder{next: &http.Transport{}}
			client := common.NewCommonClient(common.NewCredential(id, key), "", cpf).WithHttpTransport(rec)

			steps := []struct {
				name, action string
				params       map[string]any
				fault        string // a 3.0 fault rule added first
				want         string // "" for success
			}{
				{"purge", "PurgeUrlsCache", map[string]any{"Urls": []any{"https://www.example.com/a.png"}}, "", ""},
				{"state error", "StopCdnDomain", map[string]any{"Domain": "static.offline.example"}, "", "InvalidParameter.CdnHostInvalidStatus"},
				{"quota spent", "PurgeUrlsCache", map[string]any{"Urls": []any{"https://www.example.com/b.png"}}, "", ""},
				{"daily quota error", "PurgeUrlsCache", map[string]any{"Urls": []any{"https://www.example.com/c.png"}}, "", "LimitExceeded.CdnPurgeUrlExceedDayLimit"},
				{"injected fault", "DescribeDomains", map[string]any{"Limit": 10}, "next:1:ResourceInUse.CdnOpInProgress", "ResourceInUse.CdnOpInProgress"},
				{"after the fault", "DescribeDomains", map[string]any{"Limit": 10}, "", ""},
			}
			for _, st := range steps {
				if st.fault != "" {
					rules, err := emulator.ParseFaults(st.fault)
					if err != nil {
						t.Fatal(err)
					}
					if _, err := emu.AddFaults(rules...); err != nil {
						t.Fatal(err)
					}
				}
				req := tchttp.NewCommonRequest("cdn", api3.Version, st.action)
				if err := req.SetActionParameters(st.params); err != nil {
					t.Fatal(err)
				}
				resp := tchttp.NewCommonResponse()
				err := client.Send(req, resp)
				x := rec.exchange()
				if st.want == "" {
					if err != nil {
						t.Errorf("%s: %v\n%s", st.name, err, x.answer)
					}
					continue
				}
				var sdkErr *tcerr.TencentCloudSDKError
				if !errors.As(err, &sdkErr) || sdkErr.GetCode() != st.want {
					t.Errorf("%s: error %v, want code %s", st.name, err, st.want)
					continue
				}
				var ae annotatedError
				if err := json.Unmarshal(x.answer, &ae); err != nil || ae.Response.Error == nil {
					t.Fatalf("%s: answer %s", st.name, x.answer)
				}
				if annotated := ae.Response.Error.Category != nil; annotated != (via == "proxy") {
					t.Errorf("%s via %s: annotated=%v: %s", st.name, via, annotated, x.answer)
				}
			}
		})
	}
}

// TestBridgeAndV3ShareEmulatorQuota checks that a 2.0 purge answered
// through the bridge and a 3.0 purge draw on one daily quota of the
// emulator: with room for two URLs, the third is refused in either
// generation.
func TestBridgeAndV3ShareEmulatorQuota(t *testing.T) {
	emu := emulator.New(emulator.Config{
		Credentials: map[string]string{upstreamID: upstreamKey},
		Domains:     []emulator.Domain{{Host: "www.example.com", Status: emulator.StatusOnline}},
		Limits:      emulator.Limits{RefreshURLsPerDay: 2},
	})
	emuSrv := httptest.NewServer(emu)
	t.Cleanup(emuSrv.Close)
	emuURL, _ := url.Parse(emuSrv.URL)
	proxySrv := resignProxy(t, proxy.Config{Upstream: emuURL, UpstreamV3: emuURL, BridgeV2: true})
	proxyHost := strings.TrimPrefix(proxySrv.URL, "http://")

	purge2 := func(u string) map[string]any {
		t.Helper()
		ps := signature.Params{{Name: "Action", Value: "RefreshCdnUrl"}, {Name: "Nonce", Value: strconv.Itoa(len(u))},
			{Name: "SecretId", Value: clientID}, {Name: "Timestamp", Value: strconv.FormatInt(time.Now().Unix(), 10)}, {Name: "urls.0", Value: u}}
		ps = ps.With("Signature", signature.NewKey(clientKey).Sign(http.MethodGet, proxyHost, "/v2/index.php", ps))
		res, err := http.Get(proxySrv.URL + "/v2/index.php?" + ps.Encode())
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		var body map[string]any
		if err := json.NewDecoder(res.Body).Decode(&body); err != nil {
			t.Fatal(err)
		}
		return body
	}
	cpf := profile.NewClientProfile()
	cpf.HttpProfile.Endpoint, cpf.HttpProfile.Scheme = proxyHost, "HTTP"
	client := common.NewCommonClient(common.NewCredential(clientID, clientKey), "", cpf).WithHttpTransport(&http.Transport{})
	purge3 := func(u string) error {
		req := tchttp.NewCommonRequest("cdn", api3.Version, "PurgeUrlsCache")
		_ = req.SetActionParameters(map[string]any{"Urls": []any{u}})
		return client.Send(req, tchttp.NewCommonResponse())
	}

	if b := purge2("https://www.example.com/1"); b["code"] != float64(0) {
		t.Fatalf("bridged 2.0 purge: %v", b)
	}
	if err := purge3("https://www.example.com/2"); err != nil {
		t.Fatalf("3.0 purge: %v", err)
	}
	var sdkErr *tcerr.TencentCloudSDKError
	if err := purge3("https://www.example.com/3"); !errors.As(err, &sdkErr) || sdkErr.GetCode() != "LimitExceeded.CdnPurgeUrlExceedDayLimit" {
		t.Errorf("third URL by 3.0: %v", err)
	}
	if b := purge2("https://www.example.com/4"); b["moduleCode"] != float64(22044) || b["v3Code"] != "LimitExceeded.CdnPurgeUrlExceedDayLimit" {
		t.Errorf("third URL by the bridge: %v", b)
	}
}
