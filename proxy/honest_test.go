package proxy_test

import (
	"bytes"
	"compress/gzip"
	"encoding/hex"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/cdnproxy/cdnproxy/proxy"
)

// handlerRig is a proxy in front of an upstream made of handler, with the
// proxy's log kept, at debug level.
func handlerRig(t *testing.T, handler http.HandlerFunc, cfg proxy.Config) (front *httptest.Server, logs *logBuffer) {
	t.Helper()
	up := httptest.NewServer(handler)
	t.Cleanup(up.Close)
	logs = &logBuffer{}
	cfg.Upstream = mustURL(t, up.URL)
	cfg.Logger = slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	p, err := proxy.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	front = httptest.NewServer(p)
	t.Cleanup(front.Close)
	return front, logs
}

// TestNoSurpriseCompression: a client that asks for no encoding gets
// none, and the upstream is asked for none (Go's transport would ask for
// gzip and inflate the answer itself: 1 MB on the wire could become 1 GiB
// to the client). A client that asks for gzip gets the upstream's gzip
// bytes as they came.
func TestNoSurpriseCompression(t *testing.T) {
	var mu sync.Mutex
	var asked []string
	success := []byte(`{"code":0,"message":"","codeDesc":"Success","data":"` + string(bytes.Repeat([]byte("x"), 64<<10)) + `"}`)
	front, _ := handlerRig(t, func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		asked = append(asked, r.Header.Get("Accept-Encoding"))
		mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		if r.Header.Get("Accept-Encoding") == "gzip" {
			w.Header().Set("Content-Encoding", "gzip")
			zw := gzip.NewWriter(w)
			_, _ = zw.Write(success)
			_ = zw.Close()
			return
		}
		_, _ = w.Write(success)
	}, proxy.Config{})
	for _, tt := range []struct {
		clientAsks, upstreamAsked, encoding string
	}{
		{"", "identity", ""},
		{"gzip", "gzip", "gzip"},
	} {
		req, _ := http.NewRequest(http.MethodGet, front.URL+"/v2/index.php?Action=DescribeCdnHosts", nil)
		if tt.clientAsks != "" {
			req.Header.Set("Accept-Encoding", tt.clientAsks)
		}
		resp, body := do(t, req)
		mu.Lock()
		got := asked[len(asked)-1]
		mu.Unlock()
		if got != tt.upstreamAsked {
			t.Errorf("client asked for %q: upstream was asked for %q, want %q", tt.clientAsks, got, tt.upstreamAsked)
		}
		if ce := resp.Header.Get("Content-Encoding"); ce != tt.encoding {
			t.Errorf("client asked for %q: Content-Encoding %q, want %q", tt.clientAsks, ce, tt.encoding)
		}
		if tt.encoding == "" && !bytes.Equal(body, success) {
			t.Errorf("client asked for %q: the body is not the upstream's (%d bytes)", tt.clientAsks, len(body))
		}
	}
}

// TestAmbiguousBodyOutcome: a body with two top-level "code" members is
// neither a success nor an error (a last-wins parser reads the second):
// it passes through untouched and is logged, at warn, as its own outcome.
// That holds however far into the body the second member comes, past
// the bytes the proxy decided on and streamed on from, and whether the
// body came compressed, with or without a length; a long body with only
// nested "code" members stays a success.
func TestAmbiguousBodyOutcome(t *testing.T) {
	// long is a success body of about 1 MB whose data holds "code"
	// members, quotes and braces in strings, none of them at the top.
	long := `{"code":0,"message":"","data":[` + strings.Repeat(`{"code":4000,"s":"\",\"code\":1}"},`, 30000) + `{}]`
	for _, tt := range []struct {
		name    string
		body    string
		gzip    bool
		chunked bool
		want    string
		level   string
	}{
		{"short, code 0 first", `{"code":0,"message":"","code":4000}`, false, false, "ambiguous", "WARN"},
		{"short, code 4000 first", `{"code":4000,"message":"x","code":0}`, false, false, "ambiguous", "WARN"},
		{"short, chunked", `{"code":0,"message":"","code":4000}`, false, true, "ambiguous", "WARN"},
		{"1 MB, second code at the end", long + `,"code":4000}`, false, false, "ambiguous", "WARN"},
		{"1 MB, chunked", long + `,"code":4000}`, false, true, "ambiguous", "WARN"},
		{"1 MB, escaped key", long + `,"\u0063ode":4000}`, false, false, "ambiguous", "WARN"},
		{"1 MB, gzip", long + `,"code":4000}`, true, false, "ambiguous", "WARN"},
		{"1 MB, gzip, chunked", long + `,"code":4000}`, true, true, "ambiguous", "WARN"},
		{"1 MB, one code", long + `}`, false, false, "success", "DEBUG"},
		{"1 MB, one code, chunked", long + `}`, false, true, "success", "DEBUG"},
		{"1 MB, one code, gzip", long + `}`, true, true, "success", "DEBUG"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			sent := []byte(tt.body)
			if tt.gzip {
				sent = gzipped(t, sent)
			}
			front, logs := handlerRig(t, func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "application/json")
				if tt.gzip {
					w.Header().Set("Content-Encoding", "gzip")
				}
				if !tt.chunked {
					w.Header().Set("Content-Length", strconv.Itoa(len(sent)))
				}
				writeInPieces(w, sent, 16<<10)
			}, proxy.Config{})
			req, _ := http.NewRequest(http.MethodGet, front.URL+"/v2/index.php?Action=DescribeCdnHosts", nil)
			if tt.gzip {
				req.Header.Set("Accept-Encoding", "gzip")
			}
			_, got := do(t, req)
			if !bytes.Equal(got, sent) {
				t.Errorf("the body was not sent on as it came (%d bytes, want %d)", len(got), len(sent))
			}
			front.Close() // the log line is written once the call ends
			lines := logs.lines(t)
			if len(lines) != 1 || lines[0]["outcome"] != tt.want || lines[0]["level"] != tt.level {
				t.Errorf("log %v, want one %s line with outcome %s", lines, tt.level, tt.want)
			}
		})
	}
}

// gzipped returns b compressed with gzip.
func gzipped(tb testing.TB, b []byte) []byte {
	tb.Helper()
	return compressed(tb, b, 1)
}

// writeInPieces writes body in pieces of size, each flushed, as a
// network delivers a long body.
func writeInPieces(w http.ResponseWriter, body []byte, size int) {
	for len(body) > 0 {
		n := min(size, len(body))
		_, _ = w.Write(body[:n])
		w.(http.Flusher).Flush()
		body = body[n:]
	}
}

// TestCompressedSuccessSentAsItCame: a compressed success body that the
// proxy decodes as it streams on, to follow it for a second "code",
// reaches the client exactly as the upstream sent it, also when its
// compressed stream breaks after the first bytes, carries bytes after
// its end, or is two gzip members in a row.
func TestCompressedSuccessSentAsItCame(t *testing.T) {
	noise := make([]byte, 512<<10) // hex of random bytes: compresses to about half
	_, _ = rand.NewChaCha8([32]byte{1}).Read(noise)
	long := []byte(`{"code":0,"message":"","data":"` + hex.EncodeToString(noise) + `"}`)
	good := gzipped(t, long)
	broken := bytes.Clone(good)
	for i := len(broken) / 2; i < len(broken)/2+64; i++ {
		broken[i] ^= 0x5a
	}
	half := len(long) / 2
	for _, tt := range []struct {
		name string
		sent []byte
	}{
		{"whole", good},
		{"broken in the middle", broken},
		{"bytes after the end", append(bytes.Clone(good), "trailing bytes"...)},
		{"two members", append(gzipped(t, long[:half]), gzipped(t, long[half:])...)},
	} {
		t.Run(tt.name, func(t *testing.T) {
			front, logs := handlerRig(t, func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "application/json")
				w.Header().Set("Content-Encoding", "gzip")
				writeInPieces(w, tt.sent, 4<<10)
			}, proxy.Config{})
			req, _ := http.NewRequest(http.MethodGet, front.URL+"/v2/index.php?Action=DescribeCdnHosts", nil)
			req.Header.Set("Accept-Encoding", "gzip")
			resp, got := do(t, req)
			if resp.StatusCode != http.StatusOK || !bytes.Equal(got, tt.sent) {
				t.Errorf("status %d, %d bytes; want 200 and the %d bytes sent", resp.StatusCode, len(got), len(tt.sent))
			}
			front.Close()
			if lines := logs.lines(t); len(lines) != 1 || lines[0]["outcome"] != "success" {
				t.Errorf("log %v, want one line with outcome success", lines)
			}
		})
	}
}
