package fakeapi3_test

import (
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/cdnproxy/cdnproxy/internal/fakeapi3"
	"github.com/cdnproxy/cdnproxy/proxy/signature"
)

const (
	id  = "AKIDfake3test000000000000000000001"
	key = "fake3-test-secret-key-0001"
)

var now = time.Unix(1700000000, 0)

// answer is a decoded API 3.0 answer.
type answer struct {
	Response struct {
		Error *struct {
			Code, Message string
		}
		TaskID      string `json:"TaskId"`
		TotalNumber int
		RequestID   string `json:"RequestId"`
	}
}

func call(t *testing.T, s *fakeapi3.Server, req *http.Request) (answer, []byte) {
	t.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "application/json" {
		t.Fatalf("status %d, Content-Type %q: %s", resp.StatusCode, resp.Header.Get("Content-Type"), raw)
	}
	var a answer
	if err := json.Unmarshal(raw, &a); err != nil {
		t.Fatalf("answer is not JSON: %s", raw)
	}
	if len(a.Response.RequestID) != 36 {
		t.Errorf("RequestId %q is not a UUID", a.Response.RequestID)
	}
	last, ok := s.Last()
	if !ok || string(last.Answer) != string(raw) {
		t.Errorf("Last().Answer = %s, want the answer sent %s", last.Answer, raw)
	}
	return a, raw
}

// tc3 builds a JSON POST signed with TC3 by the rules the fake checks.
func tc3(t *testing.T, s *fakeapi3.Server, action, body string, mod func(r *http.Request) (signedHost, service, k string, ts int64)) *http.Request {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, s.URL+"/", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-TC-Action", action)
	req.Header.Set("X-TC-Version", fakeapi3.Version)
	host, service, k, ts := s.Host, fakeapi3.Service, key, now.Unix()
	if mod != nil {
		host, service, k, ts = mod(req)
	}
	fakeapi3.SignTC3(req, []byte(body), id, k, host, service, ts)
	return req
}

func TestTC3(t *testing.T) {
	s := fakeapi3.New(t, fakeapi3.Config{Keys: map[string]string{id: key}, Now: func() time.Time { return now }})
	hostNoPort := strings.Split(s.Host, ":")[0]
	tests := []struct {
		name   string
		action string
		body   string
		mod    func(r *http.Request) (string, string, string, int64)
		header map[string]string // set after signing
		code   string            // "" for success
	}{
		{"purge", "PurgeUrlsCache", `{"Urls":["https://www.example.com/a"]}`, nil, nil, ""},
		{"describe", "DescribeDomains", `{"Limit":10}`, nil, nil, ""},
		{"error on demand in body", "PurgeUrlsCache", `{"FailWith":"LimitExceeded.CdnPurgeUrlExceedDayLimit"}`, nil, nil, "LimitExceeded.CdnPurgeUrlExceedDayLimit"},
		{"error on demand in header", "PurgeUrlsCache", `{}`, nil, map[string]string{fakeapi3.ErrorHeader: "ResourceInUse.CdnOpInProgress"}, "ResourceInUse.CdnOpInProgress"},
		{"unknown action", "RefreshCdnUrl", `{}`, nil, nil, "InvalidAction"},
		{"host without port", "PurgeUrlsCache", `{}`, func(*http.Request) (string, string, string, int64) {
			return hostNoPort, fakeapi3.Service, key, now.Unix()
		}, nil, "AuthFailure.SignatureFailure"},
		{"service of the Node SDK", "PurgeUrlsCache", `{}`, func(*http.Request) (string, string, string, int64) {
			return s.Host, "127", key, now.Unix()
		}, nil, "AuthFailure.SignatureFailure"},
		{"wrong key", "PurgeUrlsCache", `{}`, func(*http.Request) (string, string, string, int64) {
			return s.Host, fakeapi3.Service, "not-the-key", now.Unix()
		}, nil, "AuthFailure.SignatureFailure"},
		{"4 minutes old", "PurgeUrlsCache", `{}`, func(*http.Request) (string, string, string, int64) {
			return s.Host, fakeapi3.Service, key, now.Add(-4 * time.Minute).Unix()
		}, nil, ""},
		{"6 minutes old", "PurgeUrlsCache", `{}`, func(*http.Request) (string, string, string, int64) {
			return s.Host, fakeapi3.Service, key, now.Add(-6 * time.Minute).Unix()
		}, nil, "AuthFailure.SignatureExpire"},
		{"6 minutes ahead", "PurgeUrlsCache", `{}`, func(*http.Request) (string, string, string, int64) {
			return s.Host, fakeapi3.Service, key, now.Add(6 * time.Minute).Unix()
		}, nil, "AuthFailure.SignatureExpire"},
		{"tampered body", "PurgeUrlsCache", `{}`, nil, map[string]string{"Content-Type": "application/json; charset=utf-8"}, "AuthFailure.SignatureFailure"},
		{"malformed Authorization", "PurgeUrlsCache", `{}`, nil, map[string]string{"Authorization": "TC3-HMAC-SHA256 Credential=x"}, "AuthFailure.InvalidAuthorization"},
		{"unknown SecretId", "PurgeUrlsCache", `{}`, nil, map[string]string{"Authorization": strings.Replace(
			signature.TC3Authorization(id, key, signature.TC3Request{Method: "POST", SignedHeaders: []string{"host"}, Service: "cdn", Timestamp: now.Unix()}),
			id, "AKIDunknown", 1)}, "AuthFailure.SecretIdNotFound"},
		{"no version", "PurgeUrlsCache", `{}`, nil, map[string]string{"X-TC-Version": ""}, "MissingParameter"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			req := tc3(t, s, tc.action, tc.body, tc.mod)
			for k, v := range tc.header {
				if v == "" {
					req.Header.Del(k)
				} else {
					req.Header.Set(k, v)
				}
			}
			before := s.Requests()
			a, raw := call(t, s, req)
			if s.Requests() != before+1 {
				t.Errorf("Requests() = %d, want %d", s.Requests(), before+1)
			}
			last, _ := s.Last()
			if last.Action != tc.action || last.Signing != "TC3" || last.ErrorCode != tc.code {
				t.Errorf("Last() = action %q signing %q code %q", last.Action, last.Signing, last.ErrorCode)
			}
			if tc.code == "" {
				if a.Response.Error != nil {
					t.Fatalf("error answer: %s", raw)
				}
				if tc.action == "DescribeDomains" && a.Response.TotalNumber != 1 {
					t.Errorf("TotalNumber: %s", raw)
				}
				if tc.action == "PurgeUrlsCache" && a.Response.TaskID != fakeapi3.TaskID {
					t.Errorf("TaskId: %s", raw)
				}
				return
			}
			if a.Response.Error == nil || a.Response.Error.Code != tc.code || a.Response.Error.Message != fakeapi3.Message(tc.code) {
				t.Fatalf("answer %s, want error %s", raw, tc.code)
			}
			want := string(fakeapi3.ErrorBody(tc.code, fakeapi3.Message(tc.code), a.Response.RequestID))
			if string(raw) != want {
				t.Errorf("answer %s, want %s", raw, want)
			}
		})
	}
}

func TestGetTC3(t *testing.T) {
	s := fakeapi3.New(t, fakeapi3.Config{Keys: map[string]string{id: key}, Now: func() time.Time { return now }})
	req, _ := http.NewRequest(http.MethodGet, s.URL+"/?Limit=10&Offset=0", nil)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("X-TC-Action", "DescribeDomains")
	req.Header.Set("X-TC-Version", fakeapi3.Version)
	fakeapi3.SignTC3(req, nil, id, key, s.Host, fakeapi3.Service, now.Unix())
	if a, raw := call(t, s, req); a.Response.Error != nil || a.Response.TotalNumber != 1 {
		t.Errorf("answer %s", raw)
	}
}

func TestV1(t *testing.T) {
	s := fakeapi3.New(t, fakeapi3.Config{Keys: map[string]string{id: key}, Now: func() time.Time { return now }})
	base := signature.Params{
		{Name: "Action", Value: "PurgeUrlsCache"},
		{Name: "Nonce", Value: "11886"},
		{Name: "SecretId", Value: id},
		{Name: "Timestamp", Value: strconv.FormatInt(now.Unix(), 10)},
		{Name: "Urls.0", Value: "https://www.example.com/a b"},
		{Name: "Version", Value: fakeapi3.Version},
	}
	tests := []struct {
		name   string
		params signature.Params
		host   string
		code   string
	}{
		{"HmacSHA1", base, s.Host, ""},
		{"HmacSHA256", base.With("SignatureMethod", signature.HmacSHA256), s.Host, ""},
		{"no Version", base[:len(base)-1], s.Host, "MissingParameter"}, // Version is base's last parameter
		{"other version", base.With("Version", "2017-03-12"), s.Host, "NoSuchVersion"},
		{"error on demand", base.With("FailWith", "RequestLimitExceeded"), s.Host, "RequestLimitExceeded"},
		{"other host", base, "cdn.tencentcloudapi.com", "AuthFailure.SignatureFailure"},
		{"expired", base.With("Timestamp", strconv.FormatInt(now.Add(-6*time.Minute).Unix(), 10)), s.Host, "AuthFailure.SignatureExpire"},
	}
	for _, tc := range tests {
		for _, method := range []string{http.MethodGet, http.MethodPost} {
			t.Run(tc.name+" "+method, func(t *testing.T) {
				p := tc.params.With("Signature", signature.NewKey(key).Sign(method, tc.host, "/", tc.params)).Encode()
				var req *http.Request
				if method == http.MethodGet {
					req, _ = http.NewRequest(method, s.URL+"/?"+p, nil)
				} else {
					req, _ = http.NewRequest(method, s.URL+"/", strings.NewReader(p))
					req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
				}
				a, raw := call(t, s, req)
				got := ""
				if a.Response.Error != nil {
					got = a.Response.Error.Code
				}
				if got != tc.code {
					t.Errorf("code %q, want %q: %s", got, tc.code, raw)
				}
				if last, _ := s.Last(); last.Signing != "v1" || last.Action != "PurgeUrlsCache" || last.SecretID != id {
					t.Errorf("Last() = %+v", last)
				}
			})
		}
	}
}

func TestOtherPath(t *testing.T) {
	s := fakeapi3.New(t, fakeapi3.Config{})
	resp, err := http.Get(s.URL + "/v2/index.php")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound {
		t.Errorf("status %d, want 404", resp.StatusCode)
	}
}
