//go:build e2e

package legacyclient_test

import (
	"encoding/json"
	"net/http/httptest"
	"net/url"
	"os"
	"strings"
	"testing"

	"github.com/cdnproxy/cdnproxy/internal/emulator"
	"github.com/cdnproxy/cdnproxy/internal/logbuf"
	"github.com/cdnproxy/cdnproxy/proxy"
)

// call3 is one entry of client3.js's CDN3_CALLS.
type call3 struct {
	Name   string         `json:"name"`
	Action string         `json:"action"`
	Req    map[string]any `json:"req"`
}

// runCalls3 runs client3.js with the SDK's endpoint set to endpoint and
// its connections sent to connectTo (host:port; "" for the endpoint
// itself), making the given calls one after the other, and returns its
// results.
func runCalls3(t *testing.T, endpoint, connectTo, id, key string, calls []call3) []v3Result {
	t.Helper()
	js, err := json.Marshal(calls)
	if err != nil {
		t.Fatal(err)
	}
	env := []string{"CDNPROXY_ENDPOINT=" + endpoint, "CDN3_SECRET_ID=" + id, "CDN3_SECRET_KEY=" + key, "CDN3_CALLS=" + string(js)}
	if connectTo != "" {
		env = append(env, "CDN3_CONNECT_TO="+connectTo)
	}
	return runNode[v3Result](t, "client3.js", "tencentcloud-sdk-nodejs-cdn", len(calls), env...)
}

// resultText is r as client3.js printed it, for failure messages.
func resultText(r v3Result) string {
	b, _ := json.Marshal(r)
	return string(b)
}

// TestTencentCloudSDKNodejsCdnAgainstEmulator drives the npm 3.0 client
// against `cdnproxy mock`'s emulator, directly and through the proxy
// (resign mode, UpstreamV3 the emulator): a purge, a state error, a
// daily-quota error once the quota is spent, and an injected fault, each
// answered with its 3.0 code; through the proxy the errors arrive
// annotated as the catalogue says, directly they arrive as the API sends
// them.
//
// Directly, the SDK is pointed at the API's own name,
// cdn.tencentcloudapi.com, with its connections sent to the emulator (as a
// hosts-file entry would): the Node SDK takes the TC3 service name from
// the endpoint's first label, and the emulator, like the API, accepts only
// "cdn". Through the proxy it is pointed at the proxy's 127.0.0.1:port,
// as a user configures it.
func TestTencentCloudSDKNodejsCdnAgainstEmulator(t *testing.T) {
	if _, err := os.Stat("node_modules/tencentcloud-sdk-nodejs-cdn/package.json"); err != nil {
		t.Fatalf("the npm client is not installed (%v): run `npm ci --prefix internal/legacyclient` from the repository root", err)
	}
	const (
		onlineHost  = "www.example.com"
		offlineHost = "static.offline.example"
	)
	steps := []struct {
		call  call3
		fault string // a 3.0 fault rule added before the call
		want  string // the 3.0 error code, "" for a success
	}{
		{call3{"purge", "PurgeUrlsCache", map[string]any{"Urls": []string{"https://" + onlineHost + "/a.png"}}}, "", ""},
		{call3{"state error", "StartCdnDomain", map[string]any{"Domain": onlineHost}}, "", "InvalidParameter.CdnHostInvalidStatus"},
		{call3{"quota spent", "PurgeUrlsCache", map[string]any{"Urls": []string{"https://" + onlineHost + "/b.png"}}}, "", ""},
		{call3{"daily quota error", "PurgeUrlsCache", map[string]any{"Urls": []string{"https://" + onlineHost + "/c.png"}}}, "", "LimitExceeded.CdnPurgeUrlExceedDayLimit"},
		{call3{"injected fault", "DescribeDomains", map[string]any{"Offset": 0, "Limit": 10}}, "next:1:ResourceInUse.CdnOpInProgress", "ResourceInUse.CdnOpInProgress"},
		{call3{"after the fault", "DescribeDomains", map[string]any{"Offset": 0, "Limit": 10}}, "", ""},
	}
	for _, via := range []string{"direct", "proxy"} {
		t.Run(via, func(t *testing.T) {
			emu := emulator.New(emulator.Config{
				Credentials: map[string]string{v3UpstreamID: v3UpstreamKey},
				Domains: []emulator.Domain{{Host: onlineHost, Status: emulator.StatusOnline},
					{Host: offlineHost, Status: emulator.StatusOffline}},
				Limits: emulator.Limits{RefreshURLsPerDay: 2},
			})
			emuSrv := httptest.NewServer(emu)
			t.Cleanup(emuSrv.Close)
			endpoint, connectTo := emulator.CanonicalHost3, strings.TrimPrefix(emuSrv.URL, "http://")
			id, key := v3UpstreamID, v3UpstreamKey
			var proxyLog *logbuf.Buffer
			if via == "proxy" {
				emuURL, _ := url.Parse(emuSrv.URL)
				p, logBuf := resignProxy(t, proxy.Config{Upstream: emuURL, UpstreamV3: emuURL},
					v3UpstreamID, v3UpstreamKey, v3ClientID, v3ClientKey)
				proxySrv := httptest.NewServer(p)
				t.Cleanup(proxySrv.Close)
				endpoint, connectTo = strings.TrimPrefix(proxySrv.URL, "http://"), ""
				id, key, proxyLog = v3ClientID, v3ClientKey, logBuf
			}

			// One run of client3.js per stretch of calls between faults:
			// a fault rule is added between runs, as POST /faults would.
			var results []v3Result
			for start := 0; start < len(steps); {
				end := start + 1
				for end < len(steps) && steps[end].fault == "" {
					end++
				}
				if f := steps[start].fault; f != "" {
					rules, err := emulator.ParseFaults(f)
					if err != nil {
						t.Fatal(err)
					}
					if _, err := emu.AddFaults(rules...); err != nil {
						t.Fatal(err)
					}
				}
				var calls []call3
				for _, st := range steps[start:end] {
					calls = append(calls, st.call)
				}
				results = append(results, runCalls3(t, endpoint, connectTo, id, key, calls)...)
				start = end
			}

			for i, r := range results {
				st := steps[i]
				label := r.Name
				if r.Error != nil && r.Error.HTTPCode != nil {
					t.Errorf("%s: HTTP status %d: %s", label, *r.Error.HTTPCode, r.Error.Message)
					continue
				}
				if st.want == "" {
					if r.Error != nil {
						t.Errorf("%s: want a success, got %s", label, resultText(r))
						continue
					}
					if id, _ := r.Response["RequestId"].(string); id == "" {
						t.Errorf("%s: no RequestId in %v", label, r.Response)
					}
					switch r.Action {
					case "PurgeUrlsCache":
						if task, _ := r.Response["TaskId"].(string); task == "" {
							t.Errorf("%s: no TaskId in %v", label, r.Response)
						}
					case "DescribeDomains":
						if r.Response["TotalNumber"] != float64(2) {
							t.Errorf("%s: TotalNumber %v, want the emulator's 2 domains", label, r.Response["TotalNumber"])
						}
					}
					continue
				}
				if r.Error == nil || r.Error.Code == nil || *r.Error.Code != st.want || r.Error.RequestID == "" {
					t.Errorf("%s: want the emulator's %s, got %s", label, st.want, resultText(r))
					continue
				}
				if st.fault != "" && !strings.Contains(r.Error.Message, "cdnproxy mock") {
					t.Errorf("%s: message %q does not say the fault was injected", label, r.Error.Message)
				}
				if via == "proxy" {
					v3WantAnnotated(t, label, r.Raw, st.want)
					continue
				}
				if code, category, retryable, description := v3Annotation(t, r.Raw); code != st.want || category != "" || retryable != nil || description != "" {
					t.Errorf("%s: directly the emulator's body is not annotated, got %s", label, *r.Raw)
				}
			}
			if proxyLog != nil {
				checkNoSecrets(t, proxyLog.String(), v3UpstreamKey, v3ClientKey)
			}
		})
	}
}
