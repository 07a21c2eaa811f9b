package fakeapi_test

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/cdnproxy/cdnproxy/internal/fakeapi"
	"github.com/cdnproxy/cdnproxy/proxy/signature"
)

// get calls the fake directly, with or without gzip, and returns the
// response and its raw body.
func get(t *testing.T, s *fakeapi.Server, query string, gzipped bool) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, s.URL+fakeapi.Path+"?"+query, nil)
	if err != nil {
		t.Fatal(err)
	}
	if gzipped {
		req.Header.Set("Accept-Encoding", "gzip")
	}
	c := &http.Client{Transport: &http.Transport{DisableCompression: true}}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, body
}

func TestFixed(t *testing.T) {
	s := fakeapi.New(t)
	for _, sc := range fakeapi.Fixed() {
		t.Run(sc.Action, func(t *testing.T) {
			if sc.JSON() && sc.Action != fakeapi.Truncated && !json.Valid(sc.Body) {
				t.Errorf("body is not JSON: %s", sc.Body)
			}
			resp, body := get(t, s, "Action="+sc.Action, false)
			if got, want := resp.StatusCode, sc.Status; got != want {
				t.Errorf("status = %d, want %d", got, want)
			}
			if got, want := string(body), string(sc.Body); got != want {
				t.Errorf("body = %s, want %s", got, want)
			}
			resp, body = get(t, s, "Action="+sc.Action, true)
			if got, want := resp.Header.Get("Content-Encoding") == "gzip", sc.JSON(); got != want {
				t.Fatalf("gzip = %v, want %v", got, want)
			}
			if sc.JSON() {
				if got, want := gunzip(t, body), string(sc.Body); got != want {
					t.Errorf("gunzipped body = %s, want %s", got, want)
				}
			}
		})
	}
}

func TestGenerated(t *testing.T) {
	s := fakeapi.New(t)
	for _, action := range []string{fakeapi.HugeSuccess, fakeapi.HugeError} {
		t.Run(action, func(t *testing.T) {
			resp, body := get(t, s, "Action="+action+"&size=100000", false)
			gen, n := fakeapi.Generated(action, 100000)
			want, _ := io.ReadAll(gen)
			if got := int64(len(want)); got != n || n != 100000 {
				t.Errorf("Generated gave %d bytes, says %d, want 100000", got, n)
			}
			if !bytes.Equal(body, want) || !json.Valid(body) {
				t.Errorf("body (%d bytes) is not the generated JSON", len(body))
			}
			if got, want := resp.ContentLength, int64(100000); got != want {
				t.Errorf("Content-Length = %d, want %d", got, want)
			}
		})
	}
}

func TestRecords(t *testing.T) {
	s := fakeapi.New(t)
	form := url.Values{"Action": {fakeapi.RefreshCdnUrl}, "SecretId": {"AKIDexample"}}
	resp, err := http.Post(s.URL+fakeapi.Path+"?Action=Ignored", "application/x-www-form-urlencoded", strings.NewReader(form.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if got, want := resp.StatusCode, 200; got != want {
		t.Errorf("status = %d, want %d", got, want)
	}
	last, ok := s.Last()
	if got, want := last.Params.Get("SecretId"), "AKIDexample"; !ok || got != want {
		t.Errorf("SecretId = %q, want %q", got, want)
	}
	if got, want := last.Host, strings.TrimPrefix(s.URL, "http://"); got != want {
		t.Errorf("Host = %q, want %q", got, want)
	}
	if got, want := s.Requests(), 1; got != want {
		t.Errorf("Requests() = %d, want %d", got, want)
	}
	if got, want := (<-s.Arrived()).RawParams, form.Encode(); got != want {
		t.Errorf("RawParams = %q, want %q", got, want)
	}
}

func gunzip(t *testing.T, b []byte) string {
	t.Helper()
	zr, err := gzip.NewReader(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	out, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	return string(out)
}

func TestVerifying(t *testing.T) {
	const id, key = "AKIDverifying", "verifying-secret-key"
	now := time.Unix(1700000000, 0)
	s := fakeapi.NewVerifying(t, fakeapi.Config{Keys: map[string]string{id: key}, Now: func() time.Time { return now }})
	host := strings.TrimPrefix(s.URL, "http://")
	params := func(id string, ts time.Time) signature.Params {
		return signature.Params{
			{Name: "Action", Value: fakeapi.DescribeCdnHosts},
			{Name: "Nonce", Value: "1"},
			{Name: "SecretId", Value: id},
			{Name: "Timestamp", Value: strconv.FormatInt(ts.Unix(), 10)},
		}
	}
	hosts, _ := fakeapi.Lookup(fakeapi.DescribeCdnHosts)
	refused, _ := fakeapi.Lookup(fakeapi.AuthFailure)
	for _, tc := range []struct {
		name      string
		params    signature.Params
		key, host string
		want      string // the answer's start
		verified  bool
	}{
		{"signed", params(id, now), key, host, string(hosts.Body), true},
		{"wrong key", params(id, now), "not-the-key", host, string(refused.Body), false},
		{"unknown SecretId", params("AKIDother", now), key, host, string(refused.Body), false},
		{"signed for another host", params(id, now), key, "cdn.api.qcloud.com", string(refused.Body), false},
		{"Timestamp 3h old", params(id, now.Add(-3*time.Hour)), key, host, `{"code": 4500, `, false},
		{"Timestamp 119min ahead", params(id, now.Add(119*time.Minute)), key, host, string(hosts.Body), true},
	} {
		for _, method := range []string{http.MethodGet, http.MethodPost} {
			t.Run(tc.name+" "+method, func(t *testing.T) {
				raw := tc.params.With("Signature", signature.NewKey(tc.key).Sign(method, tc.host, fakeapi.Path, tc.params)).Encode()
				var resp *http.Response
				var err error
				if method == http.MethodGet {
					resp, err = http.Get(s.URL + fakeapi.Path + "?" + raw)
				} else {
					resp, err = http.Post(s.URL+fakeapi.Path, "application/x-www-form-urlencoded", strings.NewReader(raw))
				}
				if err != nil {
					t.Fatal(err)
				}
				body, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				if !strings.HasPrefix(string(body), tc.want) {
					t.Errorf("answer %s, want %s…", body, tc.want)
				}
				last, _ := s.Last()
				if last.Verified != tc.verified || last.Method != method || last.RawParams != raw {
					t.Errorf("the fake recorded %+v", last)
				}
			})
		}
	}
}
