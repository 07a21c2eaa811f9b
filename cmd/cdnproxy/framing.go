package main

import (
	"bytes"
	"net"
	"strconv"
)

// A request with both Content-Length and Transfer-Encoding has two
// framings; RFC 9112 (section 6.3) says it "ought to be handled as an
// error": a front end that reads the other one sees another request
// boundary than the proxy does (request smuggling). Go's server drops
// Content-Length before a handler can see it and keeps the connection,
// so the refusal happens below it: framingConn follows each request's
// framing in the bytes the server reads (head, then a Content-Length or
// chunked body, then the next head on a kept-alive connection), and ends
// a conflicting head with a line the server cannot parse. The server
// then answers 400 and closes the connection itself, after the answers
// to the requests before it, in order. Nothing of that request reaches
// the proxy. A Transfer-Encoding on an HTTP/1.0 request, which Go ignores
// (RFC 9112 says to treat its framing as faulty), is refused the same way.

// refusedLine ends a refused head: a header line without a colon, which
// the server answers with 400 and a closed connection.
var refusedLine = []byte("cdnproxy-refused-conflicting-framing\r\n\r\n")

// framingListener wraps each accepted connection in a framingConn.
type framingListener struct{ net.Listener }

// refuseConflictingFraming returns ln, its connections refusing requests
// framed both by Content-Length and by Transfer-Encoding.
func refuseConflictingFraming(ln net.Listener) net.Listener { return framingListener{ln} }

func (l framingListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return &framingConn{Conn: c}, nil
}

// framingConn hands the server the client's bytes as they come, except
// that a conflicting head is cut short before its last line ending and
// ended with refusedLine; after that, and after framing it cannot
// follow, it hands nothing more.
type framingConn struct {
	net.Conn
	f       framing
	pending []byte // refusedLine, or what is left of it to hand up
	ended   bool   // nothing more is handed up
}

// NetConn returns the wrapped connection, as (*tls.Conn).NetConn does,
// so that the *tls.Conn below can be found (see tlsstate.go). Reading it
// directly would bypass the framing check.
func (c *framingConn) NetConn() net.Conn { return c.Conn }

func (c *framingConn) Read(p []byte) (int, error) {
	if len(c.pending) > 0 {
		n := copy(p, c.pending)
		c.pending = c.pending[n:]
		return n, nil
	}
	if c.ended {
		return c.discard()
	}
	n, err := c.Conn.Read(p)
	keep, v := c.f.scan(p[:n])
	switch v {
	case refuse:
		c.ended = true
		m := copy(p[keep:], refusedLine)
		c.pending = refusedLine[m:]
		return keep + m, nil
	case lost:
		c.ended = true
		if keep == 0 {
			return c.discard()
		}
		return keep, nil
	}
	return n, err
}

// discard reads and drops the client's bytes until the connection ends.
// It does not answer io.EOF itself: the server would take that for the
// client's hanging up and cancel the calls before the refused one.
func (c *framingConn) discard() (int, error) {
	var buf [1024]byte
	for {
		if _, err := c.Conn.Read(buf[:]); err != nil {
			return 0, err
		}
	}
}

// verdict is what framing.scan makes of the bytes it was given.
type verdict int

const (
	pass   verdict = iota // hand them all up
	refuse                // hand up the first keep, then refusedLine
	lost                  // hand up the first keep, then nothing: the server meets an error there too
)

// The parts of a request, as framing reads them.
const (
	inHead      = iota // request line and header lines, to an empty line
	inBody             // Content-Length bytes
	inChunkSize        // a chunk's size line
	inChunkData        // a chunk's bytes
	inChunkEnd         // the CRLF after a chunk's bytes
	inTrailer          // trailer lines after the last chunk, to an empty line
)

// lineCap bounds the bytes of a line framing keeps: net/http reads a
// chunk size line in its 4 KiB buffer; of a header line only the name
// and a short value matter.
const lineCap = 4096

// framing follows HTTP/1.1 message framing as net/http's server reads it
// (net/http/transfer.go, net/http/internal/chunked.go): wherever the two
// could disagree, the server fails the request too and closes the
// connection.
type framing struct {
	state  int
	line   []byte // the current line, to lineCap bytes (the request line: its end)
	long   bool   // the current line was longer than lineCap
	remain uint64 // of a body or chunk
	crlf   int    // bytes of a chunk's closing CRLF seen

	// The head being read.
	pastRequest bool // the request line has ended
	proto11     bool // HTTP/1.1 or later
	clSeen      bool
	cl          string
	teCount     int
	teChunked   bool
	bad         bool // a Content-Length or Transfer-Encoding the server would refuse
	lastFraming bool // the last header line was Content-Length or Transfer-Encoding
}

// scan reads the next bytes of the connection. For refuse and lost, the
// first keep bytes are to be handed up.
func (f *framing) scan(p []byte) (keep int, v verdict) {
	i := 0
	for i < len(p) {
		switch f.state {
		case inBody, inChunkData:
			n := min(uint64(len(p)-i), f.remain)
			i += int(n)
			f.remain -= n
			if f.remain == 0 {
				if f.state == inBody {
					f.resetHead()
				} else {
					f.state, f.crlf = inChunkEnd, 0
				}
			}
		case inChunkEnd:
			if p[i] != "\r\n"[f.crlf] {
				return i + 1, lost
			}
			i++
			if f.crlf++; f.crlf == 2 {
				f.state = inChunkSize
			}
		default: // a line
			j := bytes.IndexByte(p[i:], '\n')
			if j < 0 {
				f.appendLine(p[i:])
				i = len(p)
				continue
			}
			f.appendLine(p[i : i+j])
			i += j + 1
			switch f.endLine() {
			case refuse:
				return i - 1, refuse // before the head's last '\n'
			case lost:
				return i, lost
			}
		}
	}
	return len(p), pass
}

// resetHead starts the next request's head.
func (f *framing) resetHead() {
	*f = framing{line: f.line[:0]}
}

func (f *framing) appendLine(b []byte) {
	if !f.pastRequest && len(f.line)+len(b) > lineCap {
		// Only the end of the request line (its version) matters.
		tail := append(f.line[len(f.line)-min(64, len(f.line)):len(f.line):len(f.line)], b[len(b)-min(64, len(b)):]...)
		f.line = append(f.line[:0], tail[len(tail)-min(64, len(tail)):]...)
		return
	}
	room := lineCap - len(f.line)
	if len(b) > room {
		f.long = true
		b = b[:room]
	}
	f.line = append(f.line, b...)
}

// endLine takes the line just ended.
func (f *framing) endLine() verdict {
	raw, long := f.line, f.long
	f.line, f.long = f.line[:0], false
	line := bytes.TrimSuffix(raw, []byte("\r"))
	switch f.state {
	case inChunkSize:
		return f.chunkSize(raw, long)
	case inTrailer:
		if len(line) == 0 {
			f.resetHead()
		}
		return pass
	}
	if !f.pastRequest {
		f.pastRequest = true
		if sp := bytes.LastIndexByte(line, ' '); sp >= 0 {
			f.proto11 = atLeast11(line[sp+1:])
		}
		return pass
	}
	if len(line) == 0 {
		return f.endHead()
	}
	if line[0] == ' ' || line[0] == '\t' {
		// A continued line: it would change a framing header's value.
		f.bad = f.bad || f.lastFraming
		return pass
	}
	name, value, _ := bytes.Cut(line, []byte(":"))
	value = bytes.Trim(value, " \t")
	f.lastFraming = false
	switch {
	case bytes.EqualFold(name, []byte("Content-Length")):
		f.lastFraming = true
		if f.clSeen && string(value) != f.cl || long {
			f.bad = true // differing values: the server refuses them too
		}
		f.clSeen, f.cl = true, string(value)
	case bytes.EqualFold(name, []byte("Transfer-Encoding")):
		f.lastFraming = true
		f.teCount++
		f.teChunked = bytes.EqualFold(value, []byte("chunked")) && !long
	}
	return pass
}

// endHead decides the framing of the head just ended.
func (f *framing) endHead() verdict {
	switch {
	case f.bad, f.clSeen && f.teCount > 0, f.teCount > 0 && !f.proto11:
		return refuse
	case f.teCount > 0:
		if f.teCount != 1 || !f.teChunked {
			return lost // the server answers 501 and closes
		}
		f.state = inChunkSize
	case f.clSeen:
		n, err := strconv.ParseUint(f.cl, 10, 63)
		if err != nil {
			return refuse // the server answers 400 too
		}
		if n == 0 {
			f.resetHead()
			return pass
		}
		f.state, f.remain = inBody, n
	default:
		f.resetHead()
	}
	return pass
}

// chunkSize reads a chunk's size line as net/http does: CRLF-ended, no
// other CR, trailing blanks and any extension dropped, 1 to 16 hex digits.
func (f *framing) chunkSize(raw []byte, long bool) verdict {
	if long || len(raw) == 0 || raw[len(raw)-1] != '\r' || bytes.IndexByte(raw, '\r') != len(raw)-1 {
		return lost
	}
	size := bytes.TrimRight(raw[:len(raw)-1], " \t")
	size, _, _ = bytes.Cut(size, []byte(";"))
	if len(size) == 0 || len(size) > 16 {
		return lost
	}
	n, err := strconv.ParseUint(string(size), 16, 64)
	if err != nil {
		return lost
	}
	if n == 0 {
		f.state = inTrailer
		return pass
	}
	f.state, f.remain = inChunkData, n
	return pass
}

// atLeast11 reports an HTTP version of 1.1 or later, as
// http.ParseHTTPVersion reads it.
func atLeast11(proto []byte) bool {
	if len(proto) != len("HTTP/1.1") || !bytes.HasPrefix(proto, []byte("HTTP/")) || proto[6] != '.' {
		return false
	}
	major, minor := proto[5], proto[7]
	if major < '0' || major > '9' || minor < '0' || minor > '9' {
		return false
	}
	return major > '1' || major == '1' && minor >= '1'
}
