//go:build e2e

package legacyclient_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/cdnproxy/cdnproxy/codes"
	"github.com/cdnproxy/cdnproxy/internal/fakeapi3"
	"github.com/cdnproxy/cdnproxy/proxy"
	"github.com/cdnproxy/cdnproxy/proxy/signature"
)

const (
	v3UpstreamID  = "AKIDnode3upstream000000000000000001"
	v3UpstreamKey = "node3-upstream-secret-key-0001"
	v3ClientID    = "AKIDnode3client0000000000000000000002"
	v3ClientKey   = "node3-client-secret-key-0002"
	// v3FailWith is the code client3.js's failing call asks for.
	v3FailWith = "LimitExceeded.CdnPurgeUrlExceedDayLimit"
)

// v3Result is one line of client3.js's output.
type v3Result struct {
	Name       string         `json:"name"`
	Action     string         `json:"action"`
	ReqMethod  string         `json:"reqMethod"`
	SignMethod string         `json:"signMethod"`
	Response   map[string]any `json:"response"`
	Error      *struct {
		Code      *string `json:"code"`
		Message   string  `json:"message"`
		RequestID string  `json:"requestId"`
		HTTPCode  *int    `json:"httpCode"`
	} `json:"error"`
	Raw *string `json:"raw"`
}

// v3Inbound is what the proxy received of one call: the client's own
// signature, before re-signing.
type v3Inbound struct {
	method, host, query, contentType, authorization, timestamp string
	body                                                       []byte
}

// v3Recorder records each call on its way into the proxy.
type v3Recorder struct {
	next http.Handler

	mu    sync.Mutex
	calls []v3Inbound
}

func (rec *v3Recorder) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	r.Body = io.NopCloser(bytes.NewReader(body))
	rec.mu.Lock()
	rec.calls = append(rec.calls, v3Inbound{method: r.Method, host: r.Host, query: r.URL.RawQuery,
		contentType: r.Header.Get("Content-Type"), authorization: r.Header.Get("Authorization"),
		timestamp: r.Header.Get("X-TC-Timestamp"), body: body})
	rec.mu.Unlock()
	rec.next.ServeHTTP(w, r)
}

func (rec *v3Recorder) take() []v3Inbound {
	rec.mu.Lock()
	defer rec.mu.Unlock()
	out := rec.calls
	rec.calls = nil
	return out
}

// runClient3 runs client3.js against the proxy at endpoint (host:port)
// with the given credential and returns its results.
func runClient3(t *testing.T, endpoint, id, key string) []v3Result {
	t.Helper()
	return runNode[v3Result](t, "client3.js", "tencentcloud-sdk-nodejs-cdn", 4,
		"CDNPROXY_ENDPOINT="+endpoint, "CDN3_SECRET_ID="+id, "CDN3_SECRET_KEY="+key, "CDN3_FAIL_WITH="+v3FailWith)
}

// v3Annotation returns the annotation members of a raw 3.0 error body.
func v3Annotation(t *testing.T, raw *string) (code, category string, retryable *bool, description string) {
	t.Helper()
	if raw == nil {
		t.Fatalf("client3.js could not capture the raw body")
	}
	var b struct {
		Response struct {
			Error struct {
				Code, Category, Description string
				Retryable                   *bool
			}
		}
	}
	if err := json.Unmarshal([]byte(*raw), &b); err != nil {
		t.Fatalf("raw body %q: %v", *raw, err)
	}
	e := b.Response.Error
	return e.Code, e.Category, e.Retryable, e.Description
}

// v3WantAnnotated checks a raw body's annotation against the catalogue.
func v3WantAnnotated(t *testing.T, label string, raw *string, code string) {
	t.Helper()
	gotCode, category, retryable, description := v3Annotation(t, raw)
	entry, _ := codes.V3(code)
	if gotCode != code || category != string(entry.Category) || retryable == nil || *retryable != entry.Retryable ||
		description != entry.Description || description == "" {
		t.Errorf("%s: raw body %s, want the annotation of %s (%s, retryable %v)", label, *raw, code, entry.Category, entry.Retryable)
	}
}

func TestTencentCloudSDKNodejsCdnThroughProxy(t *testing.T) {
	if _, err := os.Stat("node_modules/tencentcloud-sdk-nodejs-cdn/package.json"); err != nil {
		t.Fatalf("the npm client is not installed (%v): run `npm ci --prefix internal/legacyclient` from the repository root", err)
	}
	fake := fakeapi3.New(t, fakeapi3.Config{Keys: map[string]string{v3UpstreamID: v3UpstreamKey}})
	fakeURL, _ := url.Parse(fake.URL)
	p, logBuf := resignProxy(t, proxy.Config{
		// API 2.0 is not called here; any URL will do.
		Upstream:   &url.URL{Scheme: "http", Host: "127.0.0.1:9"},
		UpstreamV3: fakeURL,
	}, v3UpstreamID, v3UpstreamKey, v3ClientID, v3ClientKey)
	rec := &v3Recorder{next: p}
	proxySrv := httptest.NewServer(rec)
	t.Cleanup(proxySrv.Close)
	endpoint := strings.TrimPrefix(proxySrv.URL, "http://")
	hostNoPort, _, _ := strings.Cut(endpoint, ":")

	// upstreamIDs are the fake API's RequestIds of the failing calls, to
	// find their log lines.
	var failedRequestIDs []string
	for _, tc := range []struct {
		name    string
		id, key string
		ok      bool // signed with the issued client key
	}{
		{"issued client key", v3ClientID, v3ClientKey, true},
		{"wrong key", v3ClientID, "not-the-client-key", false},
		{"unknown SecretId", "AKIDnode3notissued000000000000000", v3ClientKey, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := fake.Requests()
			results := runClient3(t, endpoint, tc.id, tc.key)
			inbound := rec.take()
			if len(inbound) != len(results) {
				t.Fatalf("the proxy received %d calls, client3.js reported %d", len(inbound), len(results))
			}
			for i, r := range results {
				label := r.Name
				if r.Error != nil && r.Error.HTTPCode != nil {
					t.Errorf("%s: HTTP status %d: %s", label, *r.Error.HTTPCode, r.Error.Message)
					continue
				}
				if r.SignMethod == "TC3-HMAC-SHA256" {
					checkNodeSignature(t, label, inbound[i], hostNoPort, tc.key)
				}
				switch {
				case !tc.ok:
					if r.Error == nil || r.Error.Code == nil || *r.Error.Code != "AuthFailure.SignatureFailure" || r.Error.RequestID == "" {
						t.Errorf("%s: want the proxy's AuthFailure.SignatureFailure, got %+v", label, r)
						continue
					}
					v3WantAnnotated(t, label, r.Raw, "AuthFailure.SignatureFailure")
				case r.Name == "purge failing":
					if r.Error == nil || r.Error.Code == nil || *r.Error.Code != v3FailWith || r.Error.Message != fakeapi3.Message(v3FailWith) {
						t.Errorf("%s: want the API's %s, got %+v", label, v3FailWith, r)
						continue
					}
					v3WantAnnotated(t, label, r.Raw, v3FailWith)
					failedRequestIDs = append(failedRequestIDs, r.Error.RequestID)
				default:
					if r.Error != nil {
						t.Errorf("%s: error %+v (raw %v)", label, *r.Error, r.Raw)
						continue
					}
					if r.Response["RequestId"] == "" || r.Raw == nil || !strings.Contains(*r.Raw, `"RequestId":"`) {
						t.Errorf("%s: response %v", label, r.Response)
					}
					if r.Action == "PurgeUrlsCache" && r.Response["TaskId"] != fakeapi3.TaskID {
						t.Errorf("%s: TaskId %v", label, r.Response["TaskId"])
					}
					if r.Action == "DescribeDomains" && r.Response["TotalNumber"] != float64(1) {
						t.Errorf("%s: TotalNumber %v", label, r.Response["TotalNumber"])
					}
				}
			}
			want := before
			if tc.ok {
				want += len(results)
			}
			if got := fake.Requests(); got != want {
				t.Errorf("the fake received %d calls, want %d", got-before, want-before)
			}
		})
	}

	// The failing call's log line: a 3.0 call with the 3.0 code and the
	// API's RequestId.
	proxySrv.Close() // waits for the calls in flight: the log is complete
	logText := logBuf.String()
	if len(failedRequestIDs) != 1 {
		t.Fatalf("%d failing calls answered by the API, want 1", len(failedRequestIDs))
	}
	found := false
	for _, line := range strings.Split(strings.TrimSpace(logText), "\n") {
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("log line is not JSON: %q", line)
		}
		if m["upstreamRequestId"] != failedRequestIDs[0] {
			continue
		}
		found = true
		entry, _ := codes.V3(v3FailWith)
		if m["msg"] != "call failed" || m["api"] != "3.0" || m["action"] != "PurgeUrlsCache" || m["code"] != v3FailWith ||
			m["category"] != string(entry.Category) || m["retryable"] != entry.Retryable {
			t.Errorf("log line of the failing call: %s", line)
		}
	}
	if !found {
		t.Errorf("no log line with upstreamRequestId %s:\n%s", failedRequestIDs[0], logText)
	}
	checkNoSecrets(t, logText, v3UpstreamKey, v3ClientKey)
}

// checkNodeSignature checks that the Node SDK signed a TC3 call as the
// reference describes: the host without its port and the service the
// endpoint's first label ("127"), so that the proxy's acceptance of the
// call is the acceptance of that signature.
func checkNodeSignature(t *testing.T, label string, in v3Inbound, hostNoPort, key string) {
	t.Helper()
	auth, err := signature.ParseTC3Authorization(in.authorization)
	if err != nil {
		t.Errorf("%s: Authorization %q: %v", label, in.authorization, err)
		return
	}
	if auth.Service != "127" {
		t.Errorf("%s: the Node SDK signed service %q, want the endpoint's first label 127", label, auth.Service)
	}
	ts, err := strconv.ParseInt(in.timestamp, 10, 64)
	if err != nil {
		t.Errorf("%s: X-TC-Timestamp %q", label, in.timestamp)
		return
	}
	r := signature.TC3Request{Method: in.method, SignedHeaders: auth.SignedHeaders, Timestamp: ts}
	if in.method == http.MethodGet {
		r.Query = in.query
	} else {
		r.Payload = in.body
	}
	for _, host := range []string{hostNoPort, in.host} {
		r.Headers = []signature.Header{{Name: "content-type", Value: in.contentType}, {Name: "host", Value: host}}
		if got, want := signature.VerifyTC3(key, auth, r), host == hostNoPort; got != want {
			t.Errorf("%s: signature verifies over host %q: %v, want %v", label, host, got, want)
		}
	}
}
