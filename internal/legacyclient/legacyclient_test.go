//go:build e2e

package legacyclient_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/cdnproxy/cdnproxy/internal/fakeapi"
	"github.com/cdnproxy/cdnproxy/internal/logbuf"
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

// runClient runs client.js against proxyURL with the given credential and
// returns its results.
func runClient(t *testing.T, proxyURL, id, key string) []result {
	t.Helper()
	return runNode[result](t, "client.js", "qcloudapi-sdk", 8,
		"CDNPROXY_URL="+proxyURL, "LEGACY_SECRET_ID="+id, "LEGACY_SECRET_KEY="+key)
}

// runNode runs one of this folder's node scripts (which drives the npm
// package pkg) with env added to an environment stripped of HTTP proxy
// settings (the client must talk to cdnproxy directly), and decodes the
// want JSON lines it prints.
func runNode[T any](t *testing.T, script, pkg string, want int, env ...string) []T {
	t.Helper()
	node, err := exec.LookPath("node")
	if err != nil {
		t.Fatalf("node is not installed (%v); this test runs the npm client %s", err, pkg)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, script)
	for _, kv := range os.Environ() {
		name, _, _ := strings.Cut(kv, "=")
		if !strings.HasSuffix(strings.ToLower(name), "_proxy") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	cmd.Env = append(cmd.Env, env...)
	cmd.Env = append(cmd.Env, "NODE_NO_WARNINGS=1")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("node %s: %v\nstdout:\n%s\nstderr:\n%s", script, err, out, stderr.String())
	}
	var results []T
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var r T
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			t.Fatalf("%s printed a line that is not JSON: %v\n%s", script, err, sc.Text())
		}
		results = append(results, r)
	}
	if len(results) != want {
		t.Fatalf("%s printed %d results, want %d\nstdout:\n%s\nstderr:\n%s", script, len(results), want, out, stderr.String())
	}
	return results
}

func TestQcloudapiSDKThroughProxy(t *testing.T) {
	if _, err := os.Stat("node_modules/qcloudapi-sdk/package.json"); err != nil {
		t.Fatalf("the npm client is not installed (%v): run `npm ci --prefix internal/legacyclient` from the repository root", err)
	}
	// The upstream verifies signatures as the API does, over the Host it
	// receives itself, and knows only the upstream credential.
	up := fakeapi.NewVerifying(t, fakeapi.Config{Keys: map[string]string{upstreamID: upstreamKey}})
	upURL, _ := url.Parse(up.URL)
	logBuf := &logbuf.Buffer{}
	p, err := proxy.New(proxy.Config{
		Upstream: upURL,
		Signing: proxy.Signing{Mode: proxy.Resign, SecretID: upstreamID, SecretKey: upstreamKey,
			ClientKeys: map[string]string{clientID: clientKey}},
		Logger: slog.New(slog.NewJSONHandler(logBuf, &slog.HandlerOptions{Level: slog.LevelDebug})),
	})
	if err != nil {
		t.Fatal(err)
	}
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
	for _, secret := range []string{upstreamKey, clientKey} {
		if strings.Contains(logBuf.String(), secret) {
			t.Errorf("the proxy's log holds a secret key")
		}
	}
}
