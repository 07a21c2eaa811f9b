package proxy_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/cdnproxy/cdnproxy/proxy"
	"github.com/cdnproxy/cdnproxy/proxy/signature"
)

// TestSignatureBindsWhatIsForwarded: in resign mode nothing reaches the
// upstream under the proxy's signature that the client did not sign. An
// '@' value is left out of the string to sign for POST only (the API's
// rule for file uploads), so one added to a signed GET is refused; and a
// call signed for another Tencent product's API host is refused whatever
// Host header it arrives with.
func TestSignatureBindsWhatIsForwarded(t *testing.T) {
	e := newSignEnv(t, proxy.Resign, "")
	params := func() signature.Params { return signParams(signUpstreamID, "DescribeCdnHosts", "") }
	tests := []struct {
		name   string
		method string
		raw    string
		host   string // the Host header; "" for the proxy's
		code   float64
	}{
		{"signed GET", http.MethodGet, signCall(signUpstreamKey, "GET", e.proxyHost(), params()), "", 0},
		{"GET with an unsigned @ value added", http.MethodGet,
			signCall(signUpstreamKey, "GET", e.proxyHost(), params()) + "&hosts.0=@victim.example", "", 4100},
		{"GET with Action=@ added", http.MethodGet,
			signCall(signUpstreamKey, "GET", e.proxyHost(), signWithout(params(), "Action")) + "&Action=@DeleteCdnHost", "", 4100},
		{"GET signing an @ value", http.MethodGet,
			signCall(signUpstreamKey, "GET", e.proxyHost(), append(params(), signature.Param{Name: "hosts.0", Value: "@a.example"})), "", 0},
		{"POST with an @ value (file upload)", http.MethodPost,
			signCall(signUpstreamKey, "POST", e.proxyHost(), params()) + "&entityFile=@x.jpg", "", 0},
		{"signed for the CDN API host", http.MethodGet, signCall(signUpstreamKey, "GET", "cdn.api.qcloud.com", params()), "", 0},
		{"signed for another product's host, sent with it", http.MethodGet,
			signCall(signUpstreamKey, "GET", "cvm.api.qcloud.com", params()), "cvm.api.qcloud.com", 4100},
		{"signed for another product's 3.0 host, sent with it", http.MethodGet,
			signCall(signUpstreamKey, "GET", "cvm.tencentcloudapi.com:443", params()), "cvm.tencentcloudapi.com:443", 4100},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			u := e.proxy.URL + signAPIPath
			req, err := http.NewRequest(tt.method, u, nil)
			if err != nil {
				t.Fatal(err)
			}
			if tt.method == http.MethodGet {
				req.URL.RawQuery = tt.raw
			} else {
				req = mustPost(t, u, tt.raw)
			}
			if tt.host != "" {
				req.Host = tt.host
			}
			before, _ := e.up.seen()
			res := e.do(t, req)
			after, _ := e.up.seen()
			if tt.code == 0 {
				signWantCode(t, res, http.StatusOK, 0, "")
				if after != before+1 {
					t.Errorf("the upstream saw %d calls, want 1", after-before)
				}
				return
			}
			signWantCode(t, res, http.StatusOK, tt.code, "authentication_failed")
			if after != before {
				t.Errorf("a refused call reached the upstream")
			}
		})
	}
}

// mustPost returns a form POST of raw to u.
func mustPost(t *testing.T, u, raw string) *http.Request {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, u, strings.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return req
}
