package sdkclient_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common"
	tcerr "github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common/errors"
	tchttp "github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common/http"
	"github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common/profile"

	"github.com/cdnproxy/cdnproxy/codes"
	"github.com/cdnproxy/cdnproxy/internal/fakeapi3"
	"github.com/cdnproxy/cdnproxy/internal/logbuf"
	"github.com/cdnproxy/cdnproxy/proxy"
	"github.com/cdnproxy/cdnproxy/proxy/signature"
)

const (
	upstreamID  = "AKIDsdkupstream0000000000000000001"
	upstreamKey = "sdk-upstream-secret-key-0001"
	clientID    = "AKIDsdkclient00000000000000000000002"
	clientKey   = "sdk-client-secret-key-0002"
)

// exchange is what passed between the SDK and the proxy in one call.
type exchange struct {
	method, host, query, authorization, contentType, timestamp string
	body, answer                                               []byte
}

// recorder is the SDK's transport: it records each exchange and passes it
// on unchanged, with no HTTP proxy from the environment.
type recorder struct {
	next http.RoundTripper

	mu   sync.Mutex
	last exchange
}

func (r *recorder) RoundTrip(req *http.Request) (*http.Response, error) {
	x := exchange{method: req.Method, host: req.Host, query: req.URL.RawQuery,
		authorization: req.Header.Get("Authorization"), contentType: req.Header.Get("Content-Type"),
		timestamp: req.Header.Get("X-TC-Timestamp")}
	if x.host == "" {
		x.host = req.URL.Host
	}
	if req.Body != nil {
		b, err := io.ReadAll(req.Body)
		if err != nil {
			return nil, err
		}
		req.Body.Close()
		x.body = b
		req.Body = io.NopCloser(bytes.NewReader(b))
	}
	resp, err := r.next.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	x.answer, err = io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return nil, err
	}
	resp.Body = io.NopCloser(bytes.NewReader(x.answer))
	r.mu.Lock()
	r.last = x
	r.mu.Unlock()
	return resp, nil
}

func (r *recorder) exchange() exchange {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.last
}

// annotatedError is Response.Error of an answer as the proxy annotates it.
type annotatedError struct {
	Response struct {
		Error *struct {
			Code        string
			Message     string
			Category    *string
			Retryable   *bool
			Description *string
		}
		RequestID string `json:"RequestId"`
	}
}

// resignProxy serves a proxy with cfg that re-signs, as the upstream
// credential, the calls signed with the issued client key.
func resignProxy(t *testing.T, cfg proxy.Config) *httptest.Server {
	t.Helper()
	cfg.Signing = proxy.Signing{Mode: proxy.Resign, SecretID: upstreamID, SecretKey: upstreamKey,
		ClientKeys: map[string]string{clientID: clientKey}}
	p, err := proxy.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(p)
	t.Cleanup(srv.Close)
	return srv
}

func TestCommonClientThroughProxy(t *testing.T) {
	fake := fakeapi3.New(t, fakeapi3.Config{Keys: map[string]string{upstreamID: upstreamKey}})
	fakeURL, _ := url.Parse(fake.URL)
	logBuf := &logbuf.Buffer{}
	proxySrv := resignProxy(t, proxy.Config{
		// API 2.0 is not called here; any URL will do.
		Upstream:   &url.URL{Scheme: "http", Host: "127.0.0.1:9"},
		UpstreamV3: fakeURL,
		Logger:     slog.New(slog.NewJSONHandler(logBuf, &slog.HandlerOptions{Level: slog.LevelDebug})),
	})
	proxyHost := strings.TrimPrefix(proxySrv.URL, "http://")

	const dayLimit = "LimitExceeded.CdnPurgeUrlExceedDayLimit"
	tests := []struct {
		name       string
		reqMethod  string // HttpProfile.ReqMethod
		signMethod string // ClientProfile.SignMethod
		key        string
		failWith   string // the fake's error on demand, "" for none
		wantCode   string // "" for success
		refused    bool   // answered by the proxy itself
	}{
		{"TC3 POST success", "POST", "TC3-HMAC-SHA256", clientKey, "", "", false},
		{"TC3 POST annotated error", "POST", "TC3-HMAC-SHA256", clientKey, dayLimit, dayLimit, false},
		{"TC3 GET success", "GET", "TC3-HMAC-SHA256", clientKey, "", "", false},
		{"TC3 GET annotated error", "GET", "TC3-HMAC-SHA256", clientKey, "ResourceInUse.CdnOpInProgress", "ResourceInUse.CdnOpInProgress", false},
		{"HmacSHA256 POST success", "POST", "HmacSHA256", clientKey, "", "", false},
		{"HmacSHA1 GET annotated error", "GET", "HmacSHA1", clientKey, "RequestLimitExceeded", "RequestLimitExceeded", false},
		{"TC3 wrong key refused", "POST", "TC3-HMAC-SHA256", "not-the-client-key", "", "AuthFailure.SignatureFailure", true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cpf := profile.NewClientProfile()
			cpf.HttpProfile.Endpoint = proxyHost
			cpf.HttpProfile.Scheme = "HTTP"
			cpf.HttpProfile.ReqMethod = tc.reqMethod
			cpf.HttpProfile.ReqTimeout = 30
			cpf.SignMethod = tc.signMethod
			rec := &recorder{next: &http.Transport{}}
			client := common.NewCommonClient(common.NewCredential(clientID, tc.key), "", cpf).WithHttpTransport(rec)

			request := tchttp.NewCommonRequest("cdn", fakeapi3.Version, "PurgeUrlsCache")
			params := map[string]interface{}{"Urls": []interface{}{"https://www.example.com/a.png", "https://www.example.com/中文 b.png"}}
			// The CommonClient sends a CommonRequest's action parameters
			// only in a TC3 POST's JSON body (GET and signature v1 calls
			// carry the common parameters alone), so the other calls ask
			// for their error in a header.
			switch {
			case tc.failWith == "":
			case tc.reqMethod == "POST" && tc.signMethod == "TC3-HMAC-SHA256":
				params[fakeapi3.ErrorParam] = tc.failWith
			default:
				request.SetHeader(map[string]string{fakeapi3.ErrorHeader: tc.failWith})
			}
			if err := request.SetActionParameters(params); err != nil {
				t.Fatal(err)
			}
			response := tchttp.NewCommonResponse()
			before := fake.Requests()
			sendErr := client.Send(request, response)
			x := rec.exchange()
			seen, _ := fake.Last()

			if tc.refused {
				if fake.Requests() != before {
					t.Errorf("a refused call reached the upstream")
				}
			} else {
				if fake.Requests() != before+1 {
					t.Fatalf("the fake received %d calls, want 1 (SDK error %v)", fake.Requests()-before, sendErr)
				}
				if !seen.Verified || seen.SecretID != upstreamID || seen.Action != "PurgeUrlsCache" {
					t.Errorf("the fake saw verified=%v id=%q action=%q", seen.Verified, seen.SecretID, seen.Action)
				}
				if tc.signMethod == "TC3-HMAC-SHA256" && (!bytes.Equal(seen.Body, x.body) || seen.RawQuery != x.query) {
					t.Errorf("the fake got body %q query %q, the SDK sent %q %q", seen.Body, seen.RawQuery, x.body, x.query)
				}
				if !bytes.Equal(x.answer, seen.Answer) && tc.wantCode == "" {
					t.Errorf("the SDK received %s, the fake answered %s", x.answer, seen.Answer)
				}
			}

			if tc.signMethod == "TC3-HMAC-SHA256" {
				checkSignedHost(t, x, proxyHost, tc.key)
			}

			if tc.wantCode == "" {
				if sendErr != nil {
					t.Fatalf("Send: %v\nanswer %s", sendErr, x.answer)
				}
				var body struct {
					Response struct {
						TaskID    string `json:"TaskId"`
						RequestID string `json:"RequestId"`
					}
				}
				if err := json.Unmarshal(response.GetBody(), &body); err != nil {
					t.Fatalf("CommonResponse body %s: %v", response.GetBody(), err)
				}
				if body.Response.TaskID != fakeapi3.TaskID || body.Response.RequestID != seen.RequestID {
					t.Errorf("CommonResponse body %s", response.GetBody())
				}
				return
			}

			var sdkErr *tcerr.TencentCloudSDKError
			if !errors.As(sendErr, &sdkErr) {
				t.Fatalf("Send returned %v (%T), want a *TencentCloudSDKError", sendErr, sendErr)
			}
			if sdkErr.GetCode() != tc.wantCode {
				t.Errorf("SDK error code %q, want %q", sdkErr.GetCode(), tc.wantCode)
			}
			var ae annotatedError
			if err := json.Unmarshal(x.answer, &ae); err != nil || ae.Response.Error == nil {
				t.Fatalf("raw answer %s is not a 3.0 error", x.answer)
			}
			if sdkErr.GetRequestId() != ae.Response.RequestID || sdkErr.GetMessage() != ae.Response.Error.Message {
				t.Errorf("SDK error %v does not carry the answer's RequestId and Message: %s", sdkErr, x.answer)
			}
			if !tc.refused && (ae.Response.RequestID != seen.RequestID || ae.Response.Error.Message != fakeapi3.Message(tc.wantCode)) {
				t.Errorf("the API's RequestId or Message changed: %s", x.answer)
			}
			entry, _ := codes.V3(tc.wantCode)
			e := ae.Response.Error
			if e.Category == nil || *e.Category != string(entry.Category) ||
				e.Retryable == nil || *e.Retryable != entry.Retryable ||
				e.Description == nil || *e.Description != entry.Description || entry.Description == "" {
				t.Errorf("raw answer %s, want the annotation of %s (%s, %v)", x.answer, tc.wantCode, entry.Category, entry.Retryable)
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

// checkSignedHost checks that the SDK sent and signed the proxy's
// host:port with the service "cdn" (as the Go SDK does), so that the
// proxy's acceptance of the call is the acceptance of that signature.
func checkSignedHost(t *testing.T, x exchange, proxyHost, key string) {
	t.Helper()
	if x.host != proxyHost {
		t.Errorf("the SDK sent Host %q, want %q", x.host, proxyHost)
	}
	auth, err := signature.ParseTC3Authorization(x.authorization)
	if err != nil {
		t.Fatalf("the SDK's Authorization %q: %v", x.authorization, err)
	}
	if auth.Service != "cdn" || strings.Join(auth.SignedHeaders, ";") != "content-type;host" {
		t.Errorf("the SDK signed service %q headers %v", auth.Service, auth.SignedHeaders)
	}
	ts, err := strconv.ParseInt(x.timestamp, 10, 64)
	if err != nil {
		t.Fatalf("the SDK's X-TC-Timestamp %q", x.timestamp)
	}
	r := signature.TC3Request{Method: x.method, SignedHeaders: auth.SignedHeaders, Service: auth.Service}
	if x.method == http.MethodGet {
		r.Query = x.query
	} else {
		r.Payload = x.body
	}
	withHost := func(host string) signature.TC3Request {
		c := r
		c.Headers = []signature.Header{{Name: "content-type", Value: x.contentType}, {Name: "host", Value: host}}
		return c
	}
	with, without := withHost(proxyHost), withHost(strings.Split(proxyHost, ":")[0])
	with.Timestamp, without.Timestamp = ts, ts
	if !signature.VerifyTC3(key, auth, with) {
		t.Errorf("the SDK's signature does not verify over host %q", proxyHost)
	}
	if signature.VerifyTC3(key, auth, without) {
		t.Errorf("the SDK's signature verifies without the port too")
	}
}
