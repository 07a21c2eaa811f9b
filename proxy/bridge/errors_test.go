package bridge

import (
	"context"
	"encoding/json"
	"strconv"
	"testing"

	"github.com/cdnproxy/cdnproxy/codes"
)

// TestErrorFamilies checks the 3.0 -> 2.0 code mapping of every family and
// its exceptions, through a bridged RefreshCdnUrl.
func TestErrorFamilies(t *testing.T) {
	tests := []struct {
		v3       string
		public   int
		module   int
		codeDesc string
		category codes.Category
	}{
		{"InvalidParameter", 4000, 0, "InvalidParameter", codes.InvalidParameter},
		{"InvalidParameter.CdnParamError", 4000, 9003, "InvalidParameter", codes.InvalidParameter},
		{"InvalidParameterValue", 4000, 0, "InvalidParameter", codes.InvalidParameter},
		{"MissingParameter", 4000, 0, "InvalidParameter", codes.InvalidParameter},
		{"UnknownParameter", 4000, 0, "InvalidParameter", codes.InvalidParameter},
		{"InvalidAction", 4000, 0, "InvalidParameter", ""},
		{"AuthFailure.SignatureFailure", 4100, 0, "AuthFailure", codes.AuthenticationFailed},
		{"AuthFailure.SignatureExpire", 4100, 0, "AuthFailure", codes.RequestExpired},
		{"AuthFailure.UnauthorizedOperation", 4300, 0, "AccessDenied", codes.PermissionDenied},
		{"UnauthorizedOperation.CdnHostUnauthorized", 4300, 25002, "AccessDenied", codes.PermissionDenied},
		{"OperationDenied.UserMigrating", 4300, 0, "AccessDenied", ""},
		{"RequestLimitExceeded", 4400, 0, "RequestLimitExceeded", codes.RateLimited},
		{"RequestLimitExceeded.UinLimitExceeded", 4400, 0, "RequestLimitExceeded", codes.RateLimited},
		{"LimitExceeded.CdnPurgeUrlExceedDayLimit", 4400, 22044, "RequestLimitExceeded", codes.QuotaExceeded},
		{"LimitExceeded.CdnPurgeUrlExceedBatchLimit", 4400, 22043, "RequestLimitExceeded", codes.InvalidParameter},
		{"ResourceNotFound.CdnHostNotExists", 5000, 9110, "ResourceNotFound", codes.NotFound},
		{"ResourceNotFound.CdnUserNotExists", 5000, 9111, "ResourceNotFound", ""},
		{"ResourceInUse.CdnOpInProgress", 5100, 9175, "FailedOperation", codes.InvalidState},
		{"ResourceUnavailable.CdnHostIsNotOnline", 5100, 9176, "FailedOperation", ""},
		{"FailedOperation.CdnConfigError", 5100, 0, "FailedOperation", ""},
		{"InternalError", 6000, 0, "InternalError", codes.InternalError},
		{"InternalError.CdnDbError", 6000, -9014, "InternalError", codes.InternalError},
		{"UnsupportedProtocol", 4600, 0, "UnsupportedProtocol", ""},
		{"NoSuchVersion", 6100, 0, "VersionNotSupported", ""},
		{"ServiceUnavailable", 6200, 0, "ServiceUnavailable", ""},
		{"SomethingNew.Entirely", 5100, 0, "FailedOperation", codes.Unknown},
	}
	for _, tc := range tests {
		t.Run(tc.v3, func(t *testing.T) {
			doer := &scripted{t: t, want: []exchange{{"PurgeUrlsCache", `{"Urls":["http://www.test.com/"]}`, 0,
				`{"Response":{"Error":{"Code":"` + tc.v3 + `","Message":"boom"},"RequestId":"rid-1"}}`}}}
			res, err := New().Serve(context.Background(), doer.do, params(t, "Action=RefreshCdnUrl&urls.0=http://www.test.com/"))
			if err != nil {
				t.Fatal(err)
			}
			checkBody(t, res.Body, true)
			if res.Code != tc.public || res.ModuleCode != tc.module || res.CodeDesc != tc.codeDesc || res.V3Code != tc.v3 || res.RequestID != "rid-1" {
				t.Errorf("got code %d module %d codeDesc %q v3 %q rid %q", res.Code, res.ModuleCode, res.CodeDesc, res.V3Code, res.RequestID)
			}
			if e, ok := codes.V3(tc.v3); ok && (res.Category != e.Category || res.Retryable != e.Retryable || res.Description != e.Description) {
				t.Errorf("annotation %s/%v/%q, want the catalogue's %s/%v/%q", res.Category, res.Retryable, res.Description, e.Category, e.Retryable, e.Description)
			}
			if tc.category != "" && res.Category != tc.category {
				t.Errorf("category %s, want %s", res.Category, tc.category)
			}
			var body struct {
				Code       int    `json:"code"`
				Message    string `json:"message"`
				ModuleCode int    `json:"moduleCode"`
				V3Code     string `json:"v3Code"`
				RequestID  string `json:"requestId"`
			}
			if err := json.Unmarshal(res.Body, &body); err != nil {
				t.Fatal(err)
			}
			want := "boom"
			if tc.module != 0 {
				want = "(" + strconv.Itoa(tc.module) + ")boom"
			}
			if body.Code != tc.public || body.Message != want || body.ModuleCode != tc.module || body.V3Code != tc.v3 || body.RequestID != "rid-1" {
				t.Errorf("body %s", res.Body)
			}
		})
	}
}

// TestBadAnswers checks that answers which are not API 3.0 answers become
// a 6000 upstream_unreachable 2.0 error, and that an API error is used
// whatever the HTTP status.
func TestBadAnswers(t *testing.T) {
	tests := []struct {
		name   string
		status int
		body   string
		code   int
		cat    codes.Category
	}{
		{"502 HTML page", 502, "<html><body><h1>502 Bad Gateway</h1></body></html>", 6000, codes.UpstreamUnreachable},
		{"200 invalid JSON", 200, `{"Response":{"TaskId":`, 6000, codes.UpstreamUnreachable},
		{"200 empty body", 200, ``, 6000, codes.UpstreamUnreachable},
		{"200 no Response", 200, `{"code":0}`, 6000, codes.UpstreamUnreachable},
		{"200 Response not an object", 200, `{"Response":[1,2]}`, 6000, codes.UpstreamUnreachable},
		{"200 Error not an object", 200, `{"Response":{"Error":"x","RequestId":"r"}}`, 6000, codes.UpstreamUnreachable},
		{"200 wrong field type", 200, `{"Response":{"TaskId":17,"RequestId":"r"}}`, 6000, codes.UpstreamUnreachable},
		{"503 success-shaped", 503, `{"Response":{"TaskId":"t","RequestId":"r"}}`, 6000, codes.UpstreamUnreachable},
		{"500 API error", 500, `{"Response":{"Error":{"Code":"InternalError","Message":"x"},"RequestId":"r"}}`, 6000, codes.InternalError},
		{"200 API error", 200, `{"Response":{"Error":{"Code":"RequestLimitExceeded","Message":"x"},"RequestId":"r"}}`, 4400, codes.RateLimited},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			do := func(context.Context, string, []byte) (int, []byte, error) { return tc.status, []byte(tc.body), nil }
			res, err := New().Serve(context.Background(), do, params(t, "Action=RefreshCdnUrl&urls.0=http://www.test.com/"))
			if err != nil {
				t.Fatal(err)
			}
			checkBody(t, res.Body, true)
			if res.Code != tc.code || res.Category != tc.cat {
				t.Errorf("code %d category %s, want %d %s: %s", res.Code, res.Category, tc.code, tc.cat, res.Body)
			}
			if tc.cat == codes.UpstreamUnreachable && (!res.Retryable || res.V3Code != "") {
				t.Errorf("bad answer: %s", res.Body)
			}
		})
	}
}

// TestCodeDescCoversPublicCodes checks that every public code of the
// catalogue has a class name.
func TestCodeDescCoversPublicCodes(t *testing.T) {
	for _, e := range codes.PublicEntries() {
		if codes.CodeDesc(e.Code) == "" {
			t.Errorf("codes.CodeDesc(%d) is empty", e.Code)
		}
	}
}
