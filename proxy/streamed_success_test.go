package proxy_test

import (
	"bytes"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/cdnproxy/cdnproxy/proxy"
)

// deflated returns b compressed with zlib (HTTP's deflate).
func deflated(tb testing.TB, b []byte) []byte {
	tb.Helper()
	return compressed(tb, b, 2)
}

// TestStreamedSuccessOutcome: outcome and byte identity of streamed
// successes the proxy follows with a Watch, in cases the existing tests
// do not cover (deflate, a second code in a second gzip member, 3.0
// Response members, bytes after the compressed stream, small pieces).
func TestStreamedSuccessOutcome(t *testing.T) {
	long := `{"code":0,"message":"","data":[` + strings.Repeat(`{"code":4000,"s":"\",\"code\":1}"},`, 20000) + `{}]`
	longV3 := `{"Response":{"RequestId":"r","Data":[` + strings.Repeat(`{"Response":1,"s":"\"Response\""},`, 20000) + `{}]}`
	half := len(long) / 2
	for _, tt := range []struct {
		name     string
		sent     []byte
		encoding string
		piece    int
		want     string
	}{
		{"deflate, second code", deflated(t, []byte(long+`,"code":4000}`)), "deflate", 4 << 10, "ambiguous"},
		{"deflate, one code", deflated(t, []byte(long+`}`)), "deflate", 4 << 10, "success"},
		{"gzip, second code in the second member", append(gzipped(t, []byte(long[:half])), gzipped(t, []byte(long[half:]+`,"code":4000}`))...), "gzip", 4 << 10, "ambiguous"},
		{"gzip, second code only in bytes after the stream", append(gzipped(t, []byte(long+`}`)), `,"code":4000}`...), "gzip", 4 << 10, "success"},
		{"3.0, second Response", []byte(longV3 + `,"Response":{"Error":{"Code":"X","Message":"m"}}}`), "", 16 << 10, "ambiguous"},
		{"3.0, one Response", []byte(longV3 + `}`), "", 16 << 10, "success"},
		{"3.0 gzip, escaped second Response", gzipped(t, []byte(longV3+`,"R\u0065sponse":{}}`)), "gzip", 1 << 10, "ambiguous"},
		{"uncompressed, 7-byte pieces, escaped key", []byte(`{"code":0,"message":"","data":[` + strings.Repeat(`{"code":4000,"s":"\",\"code\":1}"},`, 5000) + `{}],"\u0063\u006F\u0064\u0065":1}`), "", 7, "ambiguous"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			front, logs := handlerRig(t, func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "application/json")
				if tt.encoding != "" {
					w.Header().Set("Content-Encoding", tt.encoding)
				}
				w.Header().Set("Content-Length", strconv.Itoa(len(tt.sent)))
				writeInPieces(w, tt.sent, tt.piece)
			}, proxy.Config{})
			req, _ := http.NewRequest(http.MethodGet, front.URL+"/v2/index.php?Action=DescribeCdnHosts", nil)
			if tt.encoding != "" {
				req.Header.Set("Accept-Encoding", tt.encoding)
			}
			resp, got := do(t, req)
			if resp.StatusCode != 200 || !bytes.Equal(got, tt.sent) {
				t.Errorf("status %d, %d bytes; want 200 and the %d bytes sent", resp.StatusCode, len(got), len(tt.sent))
			}
			front.Close()
			if lines := logs.lines(t); len(lines) != 1 || lines[0]["outcome"] != tt.want {
				t.Errorf("log %v, want one line with outcome %s", lines, tt.want)
			}
		})
	}
}
