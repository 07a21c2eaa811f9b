//go:build e2e

package legacyclient_test

import (
	"net/http/httptest"
	"net/url"
	"os"
	"strings"
	"testing"

	"github.com/cdnproxy/cdnproxy/internal/fakeapi"
	"github.com/cdnproxy/cdnproxy/proxy"
)

const (
	upstreamID  = "AKIDlegacyupstream00000000000001"
	upstreamKey = "legacy-upstream-secret-key-0001"
	clientID    = "AKIDlegacyclient000000000000000002"
	clientKey   = "legacy-client-secret-key-0002"
	// note is the value client.js sends with DescribeCdnHosts.
	note = "a+b/c=d 中文 100%"
)

// result is one line of client.js's output.
type result struct {
	Method          string         `json:"method"`
	SignatureMethod string         `json:"signatureMethod"`
	Action          string         `json:"action"`
	Error           *string        `json:"error"`
	Body            map[string]any `json:"body"`
}

// runClient runs client.js's default calls against proxyURL with the given
// credential and returns its results.
func runClient(t *testing.T, proxyURL, id, key string) []result {
	t.Helper()
	return runNode[result](t, "client.js", "qcloudapi-sdk", 8,
		"CDNPROXY_URL="+proxyURL, "LEGACY_SECRET_ID="+id, "LEGACY_SECRET_KEY="+key, "LEGACY_CALLS=")
}

func TestQcloudapiSDKThroughProxy(t *testing.T) {
	if _, err := os.Stat("node_modules/qcloudapi-sdk/package.json"); err != nil {
		t.Fatalf("the npm client is not installed (%v): run `npm ci --prefix internal/legacyclient` from the repository root", err)
	}
	// The upstream verifies signatures as the API does, over the Host it
	// receives itself, and knows only the upstream credential.
	up := fakeapi.NewVerifying(t, fakeapi.Config{Keys: map[string]string{upstreamID: upstreamKey}})
	upURL, _ := url.Parse(up.URL)
	p, logBuf := resignProxy(t, proxy.Config{Upstream: upURL}, upstreamID, upstreamKey, clientID, clientKey)
	proxySrv := httptest.NewServer(p)
	t.Cleanup(proxySrv.Close)
	proxyURL := proxySrv.URL + "/v2/index.php"

	for _, tc := range []struct {
		name    string
		id, key string
		ok      bool // signed with the issued client key
	}{
		{"issued client key", clientID, clientKey, true},
		{"wrong key", clientID, "not-the-client-key", false},
		{"unknown SecretId", "AKIDnotissued00000000000000000", clientKey, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := up.Requests()
			for _, r := range runClient(t, proxyURL, tc.id, tc.key) {
				var seen fakeapi.Request // what the upstream received of this call
				if tc.ok {
					select {
					case seen = <-up.Arrived():
					default:
					}
				}
				label := r.Method + " " + r.SignatureMethod + " " + r.Action
				if r.Error != nil {
					t.Errorf("%s: request error %s", label, *r.Error)
					continue
				}
				b := r.Body
				switch {
				case !tc.ok:
					if b["code"] != float64(4100) || b["codeDesc"] != "AuthFailure" || b["category"] != "authentication_failed" ||
						b["retryable"] != false || b["description"] == "" {
						t.Errorf("%s: want the proxy's annotated 4100, got %v", label, b)
					}
				case !seen.Verified || seen.Method != r.Method || seen.Params.Get("Action") != r.Action ||
					seen.Params.Get("SecretId") != upstreamID:
					t.Errorf("%s: the upstream received %+v", label, seen)
				case r.Action == fakeapi.DescribeCdnHosts:
					wantSM := map[string]string{"sha1": "", "sha256": "HmacSHA256"}[r.SignatureMethod]
					p := seen.Params
					if b["code"] != float64(0) || p.Get("SignatureMethod") != wantSM ||
						p.Get("RequestClient") != "SDK_NODEJS_0.2.1" || p.Get("note") != note {
						t.Errorf("%s: want the upstream's success, got %v; the upstream received %v", label, b, p)
					}
				default:
					if b["code"] != float64(4000) || b["moduleCode"] != float64(9177) || b["category"] != "invalid_state" ||
						b["retryable"] != false || b["description"] == "" || !strings.HasPrefix(b["message"].(string), "(9177)") {
						t.Errorf("%s: want the annotated 9177 error, got %v", label, b)
					}
				}
			}
			want := before
			if tc.ok {
				want += 8
			}
			if got := up.Requests(); got != want {
				t.Errorf("upstream received %d calls, want %d", got-before, want-before)
			}
		})
	}
	proxySrv.Close() // waits for the calls in flight: the log is complete
	checkNoSecrets(t, logBuf.String(), upstreamKey, clientKey)
}
