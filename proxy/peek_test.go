package proxy_test

import (
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"testing/iotest"
	"time"

	"github.com/cdnproxy/cdnproxy/proxy"
)

// fixedTransport answers every call with body and the Content-Length it
// is told, which need not be the body's: http.Transport holds a body to
// its length, a RoundTripper of the user's (Config.Transport) may not.
type fixedTransport struct {
	body          []byte
	contentLength int64
	byteByByte    bool // the body comes one byte per read
}

func (t fixedTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	var body io.Reader = bytes.NewReader(t.body)
	if t.byteByByte {
		body = iotest.OneByteReader(body)
	}
	return &http.Response{
		StatusCode:    http.StatusOK,
		ProtoMajor:    1,
		ProtoMinor:    1,
		Header:        http.Header{"Content-Type": {"application/json"}, "Content-Length": {strconv.FormatInt(t.contentLength, 10)}},
		Body:          io.NopCloser(body),
		ContentLength: t.contentLength,
		Request:       r,
	}, nil
}

// serveWithin sends a GET through h and waits for the answer at most
// faultHang, so that a proxy that never answers fails the test instead of
// hanging it.
func serveWithin(t *testing.T, h http.Handler) *httptest.ResponseRecorder {
	t.Helper()
	w := httptest.NewRecorder()
	done := make(chan struct{})
	go func() {
		defer close(done)
		h.ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/v2/index.php?Action=DescribeCdnHosts", nil))
	}()
	select {
	case <-done:
		return w
	case <-time.After(faultHang):
		t.Fatalf("no answer after %s", faultHang)
		return nil
	}
}

// TestBodyLongerThanContentLength: a short body that turns out longer
// than its Content-Length is passed on as one of unknown length, as it
// was before short bodies were read to their end; the peek must not wait
// for an end that never fits in its buffer.
func TestBodyLongerThanContentLength(t *testing.T) {
	body := []byte(`{"code":0,"message":"","codeDesc":"Success","data":{"hosts":[]}}` + strings.Repeat(" ", 36))
	p, err := proxy.New(proxy.Config{Upstream: mustURL(t, "http://upstream.invalid"), Transport: fixedTransport{body: body, contentLength: 10}})
	if err != nil {
		t.Fatal(err)
	}
	w := serveWithin(t, p)
	if w.Code != http.StatusOK || !bytes.Equal(w.Body.Bytes(), body) {
		t.Errorf("status %d, body %q; want 200 and the upstream's %d bytes", w.Code, w.Body.Bytes(), len(body))
	}
}

// TestMaxBodyBytesShortBody: an error body over MaxBodyBytes passes
// through untouched, also when the peek has read it whole.
func TestMaxBodyBytesShortBody(t *testing.T) {
	body := []byte(`{"code":4000,"message":"(9110)没有这个域名的信息 cdn no such host","codeDesc":"9110","data":{"pad":"` + strings.Repeat("x", 160) + `"}}`)
	for _, tt := range []struct {
		max       int64
		annotated bool
	}{{64, false}, {int64(len(body)) - 1, false}, {int64(len(body)), true}} {
		p, err := proxy.New(proxy.Config{Upstream: mustURL(t, "http://upstream.invalid"), MaxBodyBytes: tt.max,
			Transport: fixedTransport{body: body, contentLength: int64(len(body))}})
		if err != nil {
			t.Fatal(err)
		}
		w := serveWithin(t, p)
		if got := !bytes.Equal(w.Body.Bytes(), body); got != tt.annotated {
			t.Errorf("MaxBodyBytes %d, body of %d bytes: annotated = %v, want %v: %s", tt.max, len(body), got, tt.annotated, w.Body.Bytes())
		}
	}
}

// TestPeekedHeadGoesOutAtOnce: the bytes the proxy peeked at reach the
// client without waiting for the upstream's next ones. The upstream sends
// the start of a streamed success and then waits until the client has
// read it; a proxy that held the start back would wait for the upstream
// in turn, until its per-read deadline broke the answer off.
func TestPeekedHeadGoesOutAtOnce(t *testing.T) {
	const head, tail = `{"code":0,"message":"","codeDesc":"Success","data":[`, `1,2,3]}`
	clientHasHead := make(chan struct{})
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, head)
		w.(http.Flusher).Flush()
		select {
		case <-clientHasHead:
		case <-r.Context().Done():
			return
		}
		_, _ = io.WriteString(w, tail)
	}))
	t.Cleanup(up.Close)
	r := newRig(t, proxy.Config{Upstream: mustURL(t, up.URL), Timeout: 2 * time.Second})
	resp, err := rawClient(t).Get(r.apiURL("Action=DescribeCdnHosts"))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	got := make([]byte, len(head))
	if _, err := io.ReadFull(resp.Body, got); err != nil {
		t.Fatalf("reading the start of the body: %v (got %q): was it held back?", err, got)
	}
	close(clientHasHead)
	rest, err := io.ReadAll(resp.Body)
	if err != nil || string(got)+string(rest) != head+tail {
		t.Errorf("body %q, %v; want %q", string(got)+string(rest), err, head+tail)
	}
}
