package proxy

import (
	"bytes"
	"compress/gzip"
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"
)

// TestPassOnAfterDeadline covers a race the black-box tests cannot
// time: the deadline fires after the response headers arrived but before
// the decision disarmed it. The body's context is then canceled, so
// passing on a body that still streams would break it off after a 200;
// modifyResponse must fail instead, which upstreamFailed answers with 504.
// A body the peek already read to its end is sent: nothing of it is left
// to wait for.
func TestPassOnAfterDeadline(t *testing.T) {
	p, err := New(Config{Upstream: &url.URL{Scheme: "http", Host: "upstream.invalid"}})
	if err != nil {
		t.Fatal(err)
	}
	long := `{"code":0,"data":"` + strings.Repeat("x", 2*bufferSize) + `"}`
	success := `{"code":0,"message":"","codeDesc":"Success"}`
	tests := []struct {
		name, contentType, body string
		length                  int64 // Content-Length, -1 for none
		read                    bool  // the peek reads it to its end
	}{
		{"short success", "application/json", success, int64(len(success)), true},
		{"success of unknown length", "application/json", success, -1, false}, // Decide passes it at once
		{"long success", "application/json", long, int64(len(long)), false},
		{"not JSON", "image/png", "\x89PNG\r\n", 7, false},
		{"not an API result", "text/html", "<html></html>", 13, true},
	}
	for _, tt := range tests {
		for _, fired := range []bool{false, true} {
			c := &call{deadline: startDeadline(time.Hour, func() {})}
			if fired {
				c.deadline.timer.Stop()
				c.deadline.fired.Store(true)
			}
			req := httptest.NewRequest(http.MethodGet, "/v2/index.php", nil).WithContext(context.WithValue(context.Background(), callKey{}, c))
			resp := &http.Response{StatusCode: 200, Header: http.Header{"Content-Type": {tt.contentType}},
				Body: io.NopCloser(strings.NewReader(tt.body)), ContentLength: tt.length, Request: req}
			err := p.modifyResponse(resp)
			if got, want := err != nil, fired && !tt.read; got != want {
				t.Errorf("%s, deadline fired %v: modifyResponse failed = %v, want %v", tt.name, fired, got, want)
			}
			if err != nil {
				continue
			}
			if body, _ := io.ReadAll(resp.Body); string(body) != tt.body {
				t.Errorf("%s, deadline fired %v: body sent is %d bytes, want the upstream's %d", tt.name, fired, len(body), len(tt.body))
			}
		}
	}
}

// mayBeJSONCases pin which Content-Types get their body inspected: none,
// any text, JSON or JavaScript type, whatever its parameters; not binary
// types, nor values that mime.ParseMediaType rejects.
var mayBeJSONCases = []struct {
	contentType string
	want        bool
}{
	{"", true},
	{"application/json", true},
	{"application/json; charset=utf-8", true},
	{"Application/JSON;charset=UTF-8", true},
	{" text/html ; charset=UTF-8 ", true},
	{"text/html; charset = UTF-8", true},
	{`text/html; charset="utf-8"`, true},
	{"application/json; charset=utf-8; q=1", true},
	{"application/problem+json", true},
	{"application/javascript", true},
	{"text/plain;", true},
	{"text/html; charset", false},
	{"application/json;;=;", false},
	{"application/json; a=1; a=2", false},
	{"image/png", false},
	{"application/octet-stream; x=1", false},
	{"application/zip", false},
	{"json", true}, // mime takes a bare token (a disposition) as a type
	{"attachment", false},
	{"/json", false},
	{"application/", false},
	{"application/json x", false},
	{"; charset=utf-8", false},
}

func TestMayBeJSON(t *testing.T) {
	for _, tt := range mayBeJSONCases {
		if got := mayBeJSON(tt.contentType); got != tt.want {
			t.Errorf("mayBeJSON(%q) = %v, want %v", tt.contentType, got, tt.want)
		}
	}
}

// TestSignedHosts: the hosts a v1 or TC3 signature is checked against
// are the proxy's own names (pinned by Config.PublicHosts when set), the
// upstream's and the CDN API's, never another Tencent product's API host.
func TestSignedHosts(t *testing.T) {
	up := &url.URL{Scheme: "http", Host: "127.0.0.1:9"}
	tests := []struct {
		name   string
		public []string
		host   string
		want   string
	}{
		{"any name by default", nil, "proxy.example:8080", "proxy.example:8080 proxy.example 127.0.0.1:9 cdn.api.qcloud.com cdn.tencentcloudapi.com"},
		{"another product's 2.0 host", nil, "cvm.api.qcloud.com", "127.0.0.1:9 cdn.api.qcloud.com cdn.tencentcloudapi.com"},
		{"another product's 3.0 host, port, upper case", nil, "CVM.tencentcloudapi.com.:443", "127.0.0.1:9 cdn.api.qcloud.com cdn.tencentcloudapi.com"},
		{"the CDN host itself", nil, "cdn.api.qcloud.com", "cdn.api.qcloud.com 127.0.0.1:9 cdn.tencentcloudapi.com"},
		{"pinned: one of them", []string{"proxy.example"}, "proxy.example:8080", "proxy.example:8080 proxy.example 127.0.0.1:9 cdn.api.qcloud.com cdn.tencentcloudapi.com"},
		{"pinned with port", []string{"proxy.example:8080"}, "proxy.example:8080", "proxy.example:8080 proxy.example 127.0.0.1:9 cdn.api.qcloud.com cdn.tencentcloudapi.com"},
		{"pinned: not one of them", []string{"proxy.example"}, "evil.example", "127.0.0.1:9 cdn.api.qcloud.com cdn.tencentcloudapi.com"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := New(Config{Upstream: up, PublicHosts: tt.public})
			if err != nil {
				t.Fatal(err)
			}
			if got := strings.Join(func() []string { l := p.signedHosts(tt.host, p.v2); return l.h[:l.n] }(), " "); got != tt.want {
				t.Errorf("got  %s\nwant %s", got, tt.want)
			}
		})
	}
}

// TestSwitchingProtocolsRefused: an upstream 101 is never tunnelled (a
// tunnel has no deadline and no annotation): modifyResponse fails, which
// upstreamFailed answers with 502.
func TestSwitchingProtocolsRefused(t *testing.T) {
	p, err := New(Config{Upstream: &url.URL{Scheme: "http", Host: "upstream.invalid"}})
	if err != nil {
		t.Fatal(err)
	}
	req := httptest.NewRequest(http.MethodGet, "/v2/index.php", nil)
	resp := &http.Response{StatusCode: http.StatusSwitchingProtocols, Header: http.Header{"Upgrade": {"websocket"}},
		Body: io.NopCloser(strings.NewReader("")), Request: req}
	if err := p.modifyResponse(resp); err == nil {
		t.Fatal("a 101 was passed on")
	}
}

// TestDecodedBodyReadAfterClose: a compressed success that is decoded as
// it streams (decodedBody) gives its buffer back on Close; a read after
// that must end at once, never ask the decoder to fill no buffer for
// ever.
func TestDecodedBodyReadAfterClose(t *testing.T) {
	p, err := New(Config{Upstream: &url.URL{Scheme: "http", Host: "upstream.invalid"}})
	if err != nil {
		t.Fatal(err)
	}
	var zipped bytes.Buffer
	zw := gzip.NewWriter(&zipped)
	noise := make([]byte, 8*bufferSize)
	_, _ = rand.NewChaCha8([32]byte{7}).Read(noise)
	fmt.Fprintf(zw, `{"code":0,"data":"%x"}`, noise)
	zw.Close()
	c := &call{deadline: startDeadline(time.Hour, func() {})}
	req := httptest.NewRequest(http.MethodGet, "/v2/index.php", nil).WithContext(context.WithValue(context.Background(), callKey{}, c))
	resp := &http.Response{StatusCode: 200, Header: http.Header{"Content-Type": {"application/json"}, "Content-Encoding": {"gzip"}},
		Body: io.NopCloser(&zipped), ContentLength: -1, Request: req}
	if err := p.modifyResponse(resp); err != nil {
		t.Fatal(err)
	}
	if _, ok := c.stream.ReadCloser.(*decodedBody); !ok {
		t.Fatalf("the body streams as %T, want a *decodedBody", c.stream.ReadCloser)
	}
	buf := make([]byte, 1024)
	if _, err := resp.Body.Read(buf); err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	done := make(chan struct{})
	go func() {
		defer close(done)
		for range 1 << 20 { // the rest of the raw body at most, then io.EOF
			if _, err := resp.Body.Read(buf); err != nil {
				return
			}
		}
		t.Error("reads after Close never end")
	}()
	select {
	case <-done:
	case <-time.After(30 * time.Second): // a hang guard, not a timing
		t.Fatal("a read after Close did not return")
	}
}
