//go:build e2e

package legacyclient_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"reflect"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/cdnproxy/cdnproxy/codes"
	"github.com/cdnproxy/cdnproxy/internal/fakeapi3"
	"github.com/cdnproxy/cdnproxy/proxy"
)

// notFound is the 3.0 code of a domain the account does not have.
const notFound = "ResourceNotFound.CdnHostNotExists"

// legacyCall is one entry of client.js's LEGACY_CALLS.
type legacyCall struct {
	Method          string         `json:"method"`
	SignatureMethod string         `json:"signatureMethod"`
	Data            map[string]any `json:"data"`
}

// runCalls runs client.js against proxyURL with the given credential,
// making the given calls one after the other, and returns its results.
func runCalls(t *testing.T, proxyURL, id, key string, calls []legacyCall) []result {
	t.Helper()
	js, err := json.Marshal(calls)
	if err != nil {
		t.Fatal(err)
	}
	return runNode[result](t, "client.js", "qcloudapi-sdk", len(calls),
		"CDNPROXY_URL="+proxyURL, "LEGACY_SECRET_ID="+id, "LEGACY_SECRET_KEY="+key, "LEGACY_CALLS="+string(js))
}

// bridgeAnswer checks that r is an answer of the proxy with the 2.0 code
// want and returns its body, or nil after failing the test.
func bridgeAnswer(t *testing.T, r result, want float64) map[string]any {
	t.Helper()
	label := r.Method + " " + r.SignatureMethod + " " + r.Action
	switch {
	case r.Error != nil:
		t.Errorf("%s: request error %s", label, *r.Error)
		return nil
	case r.Body["code"] != want:
		t.Errorf("%s: answer %v, want code %v", label, r.Body, want)
		return nil
	}
	return r.Body
}

// wantNoSuchHost checks a 2.0 error body for a domain the account does not
// have: 5000, "(9110)…", annotated as the 3.0 catalogue describes notFound,
// with the 3.0 code when the API answered it (v3 true).
func wantNoSuchHost(t *testing.T, label string, b map[string]any, v3 bool) {
	t.Helper()
	if b == nil {
		return
	}
	entry, _ := codes.V3(notFound)
	message, _ := b["message"].(string)
	wantV3 := map[bool]any{true: notFound, false: nil}[v3]
	if !strings.HasPrefix(message, "(9110)") || b["codeDesc"] != "ResourceNotFound" || b["moduleCode"] != float64(9110) ||
		b["category"] != string(entry.Category) || b["retryable"] != entry.Retryable ||
		b["description"] != entry.Description || entry.Description == "" || b["v3Code"] != wantV3 {
		t.Errorf("%s: want the annotated (9110) of %s, got %v", label, notFound, b)
	}
}

// fakeCalls returns the calls the fake accepted after the first n, as
// "Action" or "Action:Code" strings, to compare with what a step should
// have made.
func fakeCalls(fake *fakeapi3.Server, n int) ([]fakeapi3.Call, []string) {
	calls := fake.Calls()[n:]
	names := make([]string, len(calls))
	for i, c := range calls {
		names[i] = c.Action
		if c.Code != "" {
			names[i] += ":" + c.Code
		}
	}
	return calls, names
}

// TestQcloudapiSDKThroughBridge points the API 2.0 npm client, changed in
// nothing but its URL, at a proxy that bridges 2.0 to a strict fake API
// 3.0: purge, prefetch, the host listing and an id from it used by the
// calls that take one, and the annotated error of a host the account does
// not have, once per request method and signature method. The fake knows
// the client's key too, so that a call forwarded with the client's
// signature would be accepted there and caught here.
func TestQcloudapiSDKThroughBridge(t *testing.T) {
	if _, err := os.Stat("node_modules/qcloudapi-sdk/package.json"); err != nil {
		t.Fatalf("the npm client is not installed (%v): run `npm ci --prefix internal/legacyclient` from the repository root", err)
	}
	combos := []struct{ method, signatureMethod string }{
		{http.MethodGet, "sha1"}, {http.MethodGet, "sha256"}, {http.MethodPost, "sha1"}, {http.MethodPost, "sha256"},
	}
	// One domain per combination, for its OfflineHost to turn off.
	domains := append([]fakeapi3.Domain{fakeapi3.DefaultDomain()}, fakeapi3.NumberedDomains(len(combos))...)
	fake := fakeapi3.New(t, fakeapi3.Config{Keys: map[string]string{upstreamID: upstreamKey, clientID: clientKey},
		Strict: true, Domains: domains})
	fakeURL, _ := url.Parse(fake.URL)
	// The retired API 2.0, which the bridge must never call.
	var retired atomic.Int64
	old := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		retired.Add(1)
		http.Error(w, "retired", http.StatusNotFound)
	}))
	t.Cleanup(old.Close)
	oldURL, _ := url.Parse(old.URL)
	p, logBuf := resignProxy(t, proxy.Config{Upstream: oldURL, UpstreamV3: fakeURL, BridgeV2: true},
		upstreamID, upstreamKey, clientID, clientKey)
	proxySrv := httptest.NewServer(p)
	t.Cleanup(proxySrv.Close)
	proxyURL := proxySrv.URL + "/v2/index.php"

	for i, combo := range combos {
		host := domains[i+1].Domain
		t.Run(combo.method+" "+combo.signatureMethod, func(t *testing.T) {
			call := func(data map[string]any) legacyCall {
				return legacyCall{Method: combo.method, SignatureMethod: combo.signatureMethod, Data: data}
			}
			purgeURL := "http://" + host + "/img/a.png?v=1&w=2"
			pushURL := "http://" + host + "/img/b.png"

			// Purge, prefetch and the host listing.
			before := len(fake.Calls())
			rs := runCalls(t, proxyURL, clientID, clientKey, []legacyCall{
				call(map[string]any{"Action": "RefreshCdnUrl", "urls": []string{purgeURL}}),
				call(map[string]any{"Action": "CdnUrlPusher", "urls": []string{pushURL}}),
				call(map[string]any{"Action": "DescribeCdnHosts"}),
			})
			seen, names := fakeCalls(fake, before)
			if want := []string{"PurgeUrlsCache", "PushUrlsCache", "DescribeDomainsConfig"}; !reflect.DeepEqual(names, want) {
				t.Fatalf("the fake saw %v, want %v", names, want)
			}
			for j, kind := range []string{fakeapi3.TaskURLPurge, fakeapi3.TaskPush} {
				u := []string{purgeURL, pushURL}[j]
				if got := seen[j].Params["Urls"]; !reflect.DeepEqual(got, []any{u}) {
					t.Errorf("%s: the fake saw Urls %v, want [%s]", seen[j].Action, got, u)
				}
				b := bridgeAnswer(t, rs[j], 0)
				if b == nil {
					continue
				}
				data, _ := b["data"].(map[string]any)
				if task := taskOf(fake, kind, u); task == "" || data["task_id"] != task || data["count"] != float64(1) {
					t.Errorf("%s: data %v, want count 1 and the fake's task id %q", rs[j].Action, data, task)
				}
			}
			id := listedID(t, bridgeAnswer(t, rs[2], 0), domains, host)

			// The listed id names the host; an unknown host is an error.
			before = len(fake.Calls())
			const missing = "missing.example.com"
			rs = runCalls(t, proxyURL, clientID, clientKey, []legacyCall{
				call(map[string]any{"Action": "GetHostInfoById", "ids": []float64{id}}),
				call(map[string]any{"Action": "OfflineHost", "hostId": id}),
				call(map[string]any{"Action": "GetHostInfoById", "ids": []float64{id}}),
				call(map[string]any{"Action": "OnlineHost", "host": missing}),
			})
			seen, names = fakeCalls(fake, before)
			want := []string{"DescribeDomainsConfig", "StopCdnDomain", "DescribeDomainsConfig", "StartCdnDomain:" + notFound}
			if !reflect.DeepEqual(names, want) {
				t.Fatalf("the fake saw %v, want %v", names, want)
			}
			if seen[1].Params["Domain"] != host || seen[3].Params["Domain"] != missing {
				t.Errorf("the fake saw StopCdnDomain %v and StartCdnDomain %v", seen[1].Params, seen[3].Params)
			}
			// 2.0's status: 5 online, 6 offline.
			for _, info := range []struct{ j, status int }{{0, 5}, {2, 6}} {
				j, wantStatus := info.j, float64(info.status)
				b := bridgeAnswer(t, rs[j], 0)
				if b == nil {
					continue
				}
				data, _ := b["data"].(map[string]any)
				hosts, _ := data["hosts"].([]any)
				h := map[string]any{}
				if len(hosts) == 1 {
					h, _ = hosts[0].(map[string]any)
				}
				if len(hosts) != 1 || h["host"] != host || h["id"] != id || h["status"] != wantStatus {
					t.Errorf("GetHostInfoById %v (call %d): data %v, want %s with status %v", id, j+1, data, host, wantStatus)
				}
			}
			bridgeAnswer(t, rs[1], 0)
			if d, _ := fake.Domain(host); d.Status != fakeapi3.StatusOffline {
				t.Errorf("after OfflineHost the fake's %s is %q, want %q", host, d.Status, fakeapi3.StatusOffline)
			}
			wantNoSuchHost(t, "OnlineHost "+missing, bridgeAnswer(t, rs[3], 5000), true)
		})
	}

	// A host id that no domain has is answered by the bridge itself,
	// after listing every domain once more.
	before := len(fake.Calls())
	rs := runCalls(t, proxyURL, clientID, clientKey, []legacyCall{
		{Method: http.MethodGet, SignatureMethod: "sha1", Data: map[string]any{"Action": "OnlineHost", "hostId": 1}},
	})
	if _, names := fakeCalls(fake, before); !reflect.DeepEqual(names, []string{"DescribeDomainsConfig"}) {
		t.Errorf("for an unknown hostId the fake saw %v, want one listing", names)
	}
	wantNoSuchHost(t, "OnlineHost hostId 1", bridgeAnswer(t, rs[0], 5000), false)

	// Every call reached the fake with the proxy's TC3 signature, made
	// with the upstream key for the fake's host; none was refused.
	calls := fake.Calls()
	if len(calls) != fake.Requests() {
		t.Errorf("the fake refused %d of %d calls", fake.Requests()-len(calls), fake.Requests())
	}
	for _, c := range calls {
		if c.Signing != "TC3" || c.SecretID != upstreamID || c.Host != fake.Host || c.Version != fakeapi3.Version {
			t.Errorf("%s reached the fake signed %s by %s for %s (version %s), want TC3 by %s for %s",
				c.Action, c.Signing, c.SecretID, c.Host, c.Version, upstreamID, fake.Host)
		}
	}
	if n := retired.Load(); n != 0 {
		t.Errorf("the retired API 2.0 received %d calls", n)
	}
	proxySrv.Close() // waits for the calls in flight: the log is complete
	checkNoSecrets(t, logBuf.String(), upstreamKey, clientKey)
}

// taskOf returns the TaskId of the fake's task of the given kind for u, ""
// when there is none.
func taskOf(fake *fakeapi3.Server, kind, u string) string {
	for _, task := range fake.Tasks() {
		if task.Kind == kind && task.URL == u {
			return task.TaskID
		}
	}
	return ""
}

// listedID checks a DescribeCdnHosts answer against the fake's domains
// and returns the numeric id it gives host.
func listedID(t *testing.T, b map[string]any, domains []fakeapi3.Domain, host string) float64 {
	t.Helper()
	if b == nil {
		t.FailNow()
	}
	data, _ := b["data"].(map[string]any)
	hosts, _ := data["hosts"].([]any)
	if data["total"] != float64(len(domains)) || len(hosts) != len(domains) {
		t.Fatalf("DescribeCdnHosts: data %v, want all %d domains", data, len(domains))
	}
	var id float64
	for i, h := range hosts {
		m, _ := h.(map[string]any)
		n, ok := m["id"].(float64)
		if m["host"] != domains[i].Domain || !ok || n < 1 || n != float64(int64(n)) || m["host_id"] != n {
			t.Fatalf("DescribeCdnHosts: host %d is %v, want %s with a positive integer id", i, m, domains[i].Domain)
		}
		if n == 1 {
			// The unknown id the test uses after the combinations.
			t.Fatalf("DescribeCdnHosts: %s has id 1", m["host"])
		}
		if m["host"] == host {
			id = n
		}
	}
	return id
}
