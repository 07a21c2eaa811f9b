package apicall_test

import (
	"bytes"
	"errors"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/cdnproxy/cdnproxy/internal/apicall"
)

func TestRead(t *testing.T) {
	var mp bytes.Buffer
	mw := multipart.NewWriter(&mp)
	mw.WriteField("Action", "RefreshCdnUrl")
	mw.WriteField("urls.0", "http://a/b c")
	fw, _ := mw.CreateFormFile("file", "f.txt")
	fw.Write([]byte("ignored"))
	mw.Close()
	for _, tc := range []struct {
		name, method, target, contentType, body string
		wantParams, wantMediaType               string
		wantErr                                 error
	}{
		{"GET reads the query", "GET", "/v2/index.php?Action=A&x=1", "", "", "Action=A&x=1", "", nil},
		{"POST reads the form body, not the query", "POST", "/v2/index.php?Action=Q", "application/x-www-form-urlencoded; charset=utf-8",
			"Action=B&y=%20", "Action=B&y=%20", "application/x-www-form-urlencoded", nil},
		{"POST multipart fields are encoded", "POST", "/v2/index.php", mw.FormDataContentType(), mp.String(),
			"Action=RefreshCdnUrl&urls.0=http%3A%2F%2Fa%2Fb+c", "multipart/form-data", nil},
		{"POST JSON has no parameters", "POST", "/", "application/json", `{"Action":"C"}`, "", "application/json", nil},
		{"POST over the limit", "POST", "/", "application/x-www-form-urlencoded", strings.Repeat("a", 1<<10+1), "", "", apicall.ErrTooLarge},
		{"POST broken multipart", "POST", "/", "multipart/form-data; boundary=x", "--y\r\n", "", "", apicall.ErrUnreadable},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := httptest.NewRequest(tc.method, tc.target, strings.NewReader(tc.body))
			if tc.contentType != "" {
				r.Header.Set("Content-Type", tc.contentType)
			}
			c, err := apicall.Read(httptest.NewRecorder(), r, 1<<10)
			if !errors.Is(err, tc.wantErr) {
				t.Fatalf("err = %v, want %v", err, tc.wantErr)
			}
			if err != nil {
				return
			}
			if c.Params != tc.wantParams || c.MediaType != tc.wantMediaType {
				t.Errorf("Params %q, MediaType %q; want %q, %q", c.Params, c.MediaType, tc.wantParams, tc.wantMediaType)
			}
			if wantBody := tc.method == http.MethodPost; wantBody != (c.Body != nil) || wantBody && string(c.Body) != tc.body {
				t.Errorf("Body %q, want the POST's body as sent", c.Body)
			}
		})
	}
}

func TestCheckTimestamp(t *testing.T) {
	now := time.Unix(1700000000, 0)
	for _, tc := range []struct {
		ts   string
		want error
	}{
		{"1700000000", nil},
		{"1699992801", nil},                // 1h59m59s ago
		{"1700007200", nil},                // 2h ahead: the edge is inside
		{"1699992799", apicall.ErrExpired}, // 2h and a second ago
		{"1700007201", apicall.ErrExpired},
		{"", apicall.ErrNoTimestamp},
		{"17e8", apicall.ErrNoTimestamp},
	} {
		if got := apicall.CheckTimestamp(tc.ts, now, apicall.WindowV2); !errors.Is(got, tc.want) || (got == nil) != (tc.want == nil) {
			t.Errorf("CheckTimestamp(%q) = %v, want %v", tc.ts, got, tc.want)
		}
	}
}
