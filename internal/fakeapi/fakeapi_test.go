package fakeapi_test

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/cdnproxy/cdnproxy/internal/fakeapi"
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
