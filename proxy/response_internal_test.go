package proxy

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
)

// TestPassOnAfterDeadline covers a race the black-box tests cannot
// time: the deadline fires after the response headers arrived but before
// the decision disarmed it. The body's context is then canceled, so
// passing the body on would break it off after a 200; modifyResponse must
// fail instead, which upstreamFailed answers with 504.
func TestPassOnAfterDeadline(t *testing.T) {
	p, err := New(Config{Upstream: &url.URL{Scheme: "http", Host: "upstream.invalid"}})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct{ name, contentType, body string }{
		{"success", "application/json", `{"code":0,"message":"","codeDesc":"Success"}`},
		{"not JSON", "image/png", "\x89PNG\r\n"},
		{"not an API result", "text/html", "<html></html>"},
	}
	for _, tt := range tests {
		for _, fired := range []bool{false, true} {
			c := &call{Context: context.Background(), timeout: fired}
			req := httptest.NewRequest(http.MethodGet, "/v2/index.php", nil).WithContext(c)
			resp := &http.Response{StatusCode: 200, Header: http.Header{"Content-Type": {tt.contentType}},
				Body: io.NopCloser(strings.NewReader(tt.body)), ContentLength: -1, Request: req}
			if got, want := p.modifyResponse(resp) != nil, fired; got != want {
				t.Errorf("%s, deadline fired %v: modifyResponse failed = %v, want %v", tt.name, fired, got, want)
			}
		}
	}
}
