package main

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// framingHang bounds each raw exchange: a hang guard, never reached when
// the server answers.
const framingHang = 10 * time.Second

// Requests as sent on the wire (the API path, a form body).
const (
	getCall     = "GET /v2/index.php?Action=DescribeCdnHosts HTTP/1.1\r\nHost: proxy\r\n\r\n"
	postCLCall  = "POST /v2/index.php HTTP/1.1\r\nHost: proxy\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 23\r\n\r\nAction=DescribeCdnHosts"
	postTECall  = "POST /v2/index.php HTTP/1.1\r\nHost: proxy\r\nContent-Type: application/x-www-form-urlencoded\r\nTransfer-Encoding: chunked\r\n\r\n7;ext=1\r\nAction=\r\n10\r\nDescribeCdnHosts\r\n0\r\nX-Trailer: 1\r\n\r\n"
	smuggledGet = "GET /v2/index.php?Action=DeleteCdnHost HTTP/1.1\r\nHost: proxy\r\n\r\n"
)

// TestFramingConflictRefused: a request with both Content-Length and
// Transfer-Encoding (RFC 9112 section 6.3: it "ought to be handled as an
// error"; a front end that reads the other header than ours would see
// another request boundary) is answered 400 and its connection closed,
// whatever came before it on the connection. Go's server alone serves it,
// dropping Content-Length, and keeps the connection. Requests framed
// one way only, kept alive, pipelined or carrying such headers inside
// their bodies, are served as before.
func TestFramingConflictRefused(t *testing.T) {
	var seen atomic.Int32
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		seen.Add(1)
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, apiSuccess)
	}))
	defer up.Close()
	in := start(t, up.URL+"/v2/index.php")
	conflicting := "POST /v2/index.php HTTP/1.1\r\nHost: proxy\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n" + smuggledGet
	for _, tt := range []struct {
		name    string
		wire    string
		answers []int // the statuses, in order; a final 400 must close the connection
		sent    int32 // calls that reach the upstream
	}{
		{"Content-Length, then Transfer-Encoding", conflicting, []int{400}, 0},
		{"Transfer-Encoding, then Content-Length", "POST /v2/index.php HTTP/1.1\r\nHost: proxy\r\ntransfer-encoding: chunked\r\ncontent-length: 48\r\n\r\n0\r\n\r\n" + smuggledGet, []int{400}, 0},
		{"Transfer-Encoding other than chunked", "POST /v2/index.php HTTP/1.1\r\nHost: proxy\r\nContent-Length: 5\r\nTransfer-Encoding: gzip\r\n\r\nhello", []int{400}, 0},
		{"HTTP/1.0 keep-alive", "POST /v2/index.php HTTP/1.0\r\nHost: proxy\r\nConnection: keep-alive\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n" + smuggledGet, []int{400}, 0},
		{"HTTP/1.0 with Transfer-Encoding alone", "POST /v2/index.php HTTP/1.0\r\nHost: proxy\r\nConnection: keep-alive\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", []int{400}, 0},
		{"after a call kept alive", getCall + conflicting, []int{200, 400}, 1},
		{"after a Content-Length body", postCLCall + conflicting, []int{200, 400}, 1},
		{"after a chunked body with a trailer", postTECall + conflicting, []int{200, 400}, 1},
		{"bare LF line ends", strings.ReplaceAll(conflicting, "\r\n", "\n"), []int{400}, 0},
		{"kept alive: Content-Length, chunked, plain", postCLCall + postTECall + getCall, []int{200, 200, 200}, 3},
		{"the headers inside a body", "POST /v2/index.php HTTP/1.1\r\nHost: proxy\r\nContent-Length: 49\r\n\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n" + getCall, []int{200, 200}, 2},
	} {
		t.Run(tt.name, func(t *testing.T) {
			before := seen.Load()
			conn, err := net.Dial("tcp", in.api)
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			_ = conn.SetDeadline(time.Now().Add(framingHang))
			if _, err := io.WriteString(conn, tt.wire); err != nil {
				t.Fatal(err)
			}
			br := bufio.NewReader(conn)
			for i, want := range tt.answers {
				resp, err := http.ReadResponse(br, nil)
				if err != nil {
					t.Fatalf("answer %d: %v", i+1, err)
				}
				body, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				if resp.StatusCode != want {
					t.Fatalf("answer %d: status %d (%q), want %d", i+1, resp.StatusCode, body, want)
				}
			}
			if tt.answers[len(tt.answers)-1] == http.StatusBadRequest {
				// The connection is closed: no further answer, and no wait
				// for the hang guard.
				rest, err := io.ReadAll(br)
				var ne net.Error
				if errors.As(err, &ne) && ne.Timeout() {
					t.Fatalf("the connection was kept open after the refusal")
				}
				if len(bytes.TrimSpace(rest)) > 0 {
					t.Fatalf("more after the refusal: %q", rest)
				}
			}
			if got := seen.Load() - before; got != tt.sent {
				t.Errorf("the upstream saw %d calls, want %d", got, tt.sent)
			}
		})
	}
}

// scriptedConn hands out its chunks, one a Read (cut to the reader's
// buffer), then io.EOF.
type scriptedConn struct {
	net.Conn
	chunks [][]byte
}

func (c *scriptedConn) Read(p []byte) (int, error) {
	for len(c.chunks) > 0 && len(c.chunks[0]) == 0 {
		c.chunks = c.chunks[1:]
	}
	if len(c.chunks) == 0 {
		return 0, io.EOF
	}
	n := copy(p, c.chunks[0])
	c.chunks[0] = c.chunks[0][n:]
	return n, nil
}

// handedUp is what a framingConn over chunks hands its reader, read bufSize
// bytes at a time.
func handedUp(chunks [][]byte, bufSize int) []byte {
	c := &framingConn{Conn: &scriptedConn{chunks: chunks}}
	var out []byte
	buf := make([]byte, bufSize)
	for {
		n, err := c.Read(buf)
		out = append(out, buf[:n]...)
		if err != nil {
			return out
		}
	}
}

// bytewise cuts wire into one-byte chunks.
func bytewise(wire []byte) [][]byte {
	var chunks [][]byte
	for i := range wire {
		chunks = append(chunks, wire[i:i+1])
	}
	return chunks
}

// TestFramingConn: requests framed one way only pass byte for byte, however
// they arrive; a conflicting head is cut before its last line ending and
// ended with the refused line, and nothing after it is handed up.
func TestFramingConn(t *testing.T) {
	longGet := "GET /v2/index.php?Action=DescribeCdnHosts&pad=" + strings.Repeat("x", 3*lineCap) + " HTTP/1.1\r\nHost: proxy\r\n\r\n"
	longExt := "POST / HTTP/1.1\r\nHost: proxy\r\nTransfer-Encoding: chunked\r\n\r\n3;" + strings.Repeat("e", 4000) + "\r\nabc\r\n0\r\n\r\n"
	conflict := "POST / HTTP/1.1\r\nHost: proxy\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n" + smuggledGet
	cut := "POST / HTTP/1.1\r\nHost: proxy\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r"
	for _, tt := range []struct {
		name, wire, want string
	}{
		{"plain, kept alive", getCall + getCall, getCall + getCall},
		{"Content-Length and chunked bodies", postCLCall + postTECall + getCall, postCLCall + postTECall + getCall},
		{"a long request line", longGet + getCall, longGet + getCall},
		{"a long chunk extension", longExt + getCall, longExt + getCall},
		{"the headers inside a body", "POST / HTTP/1.1\r\nContent-Length: 49\r\n\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n", "POST / HTTP/1.1\r\nContent-Length: 49\r\n\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n"},
		{"conflicting", conflict, cut + string(refusedLine)},
		{"conflicting after a long request line", longGet + conflict, longGet + cut + string(refusedLine)},
		{"conflicting after a chunked body", postTECall + conflict, postTECall + cut + string(refusedLine)},
		{"a folded Content-Length", "POST / HTTP/1.1\r\nContent-Length: 5\r\n 6\r\n\r\nhello", "POST / HTTP/1.1\r\nContent-Length: 5\r\n 6\r\n\r" + string(refusedLine)},
		{"two Content-Lengths that differ", "POST / HTTP/1.1\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello!", "POST / HTTP/1.1\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r" + string(refusedLine)},
		{"a bad chunk end: nothing after it", "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n1\r\nab\r\n0\r\n\r\n" + getCall, "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n1\r\nab"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			for _, bufSize := range []int{1, 7, 4096} {
				for _, chunks := range [][][]byte{{[]byte(tt.wire)}, bytewise([]byte(tt.wire))} {
					if got := handedUp(chunks, bufSize); string(got) != tt.want {
						t.Fatalf("buffer %d, %d chunks: handed up\n%q\nwant\n%q", bufSize, len(chunks), got, tt.want)
					}
				}
			}
		})
	}
}

// FuzzFramingConn: whatever the bytes, what is handed up is the same
// however they arrive: at once or a byte at a time, read in small or
// large buffers. It is the client's bytes, whole or cut short, then
// perhaps the refused line.
func FuzzFramingConn(f *testing.F) {
	for _, s := range []string{getCall + getCall, postCLCall + postTECall, postTECall + getCall,
		"POST / HTTP/1.1\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n" + smuggledGet} {
		f.Add([]byte(s), uint16(3))
	}
	f.Fuzz(func(t *testing.T, wire []byte, split uint16) {
		whole := handedUp([][]byte{bytes.Clone(wire)}, 4096)
		at := int(split) % (len(wire) + 1)
		for _, chunks := range [][][]byte{bytewise(wire), {bytes.Clone(wire[:at]), bytes.Clone(wire[at:])}} {
			if got := handedUp(chunks, 5); !bytes.Equal(got, whole) {
				t.Fatalf("handed up %q at once, %q in %d chunks", whole, got, len(chunks))
			}
		}
		if rest, ok := bytes.CutSuffix(whole, refusedLine); ok {
			whole = rest
		}
		if !bytes.HasPrefix(wire, whole) {
			t.Fatalf("handed up %q, not the client's bytes", whole)
		}
	})
}
