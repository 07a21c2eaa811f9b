package proxy

import (
	"bytes"
	"compress/gzip"
	"compress/zlib"
	"context"
	"errors"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/cdnproxy/cdnproxy/annotate"
)

// peekSize is the size of the buffers the proxy peeks into, before it
// first asks annotate.Decide, for bodies of unknown length or of
// shortSize and more. API results put "code" in their first few dozen
// bytes, so a success body costs one read, then streams. The buffer is as
// large as the ReverseProxy's copy buffer: the first read takes what the
// upstream has ready (a TLS record is up to 16 KiB) in one piece, as the
// copy would, instead of splitting it into one more read and one more
// write to the client.
const peekSize = copyBufferSize

// shortSize bounds the bodies of known length that are read whole before
// the decision.
const shortSize = 4 << 10

// peekBuffers lends the buffers bodies are peeked into. A buffer goes
// back once its bytes have been passed on to the client. An error body is
// copied out of it before it is annotated, since the call's Result points
// into the bytes until the call ends.
var peekBuffers = sync.Pool{New: func() any { return new([peekSize]byte) }}

// modifyResponse is the ReverseProxy's ModifyResponse: it decides from the
// first bytes of the body whether the body can need annotation. Success
// bodies and anything that is not an API result stream on untouched; error
// bodies are read whole (up to MaxBodyBytes) and annotated. Returning an
// error sends the call to upstreamFailed, before anything was written to
// the client.
func (p *Proxy) modifyResponse(resp *http.Response) error {
	c := callFrom(resp.Request.Context())
	if err := p.decide(resp, c); err != nil {
		return err
	}
	if c.w.ResponseWriter != nil && resp.StatusCode != http.StatusSwitchingProtocols {
		handOver(c.w.Header(), resp)
	}
	return nil
}

// handOver moves the answer's header fields into the client's header,
// where ReverseProxy would copy them after ModifyResponse, value by value
// (an allocation each). The answer's header is not used again, so its
// values can move as they are; keys are made canonical, as Header.Add
// would (a custom Config.Transport may not have). ReverseProxy then has
// nothing to copy, and no Content-Type to parse, except for an event
// stream, whose Content-Type stays for ReverseProxy to see and flush each
// event at once. A 101 answer keeps its header, which the protocol switch
// reads.
func handOver(dst http.Header, resp *http.Response) {
	var events []string
	for k, v := range resp.Header {
		k = http.CanonicalHeaderKey(k)
		if k == "Content-Type" && len(v) > 0 && isEventStream(v[0]) {
			events = v
			continue
		}
		if old, ok := dst[k]; ok {
			dst[k] = append(old, v...)
		} else {
			dst[k] = v
		}
	}
	resp.Header = nil
	if events != nil {
		resp.Header = http.Header{"Content-Type": events}
	}
}

// isEventStream reports whether a Content-Type is text/event-stream.
func isEventStream(contentType string) bool {
	mt, _, _ := strings.Cut(contentType, ";")
	return strings.EqualFold(strings.TrimSpace(mt), "text/event-stream")
}

// decide is modifyResponse's decision about the body, for the call c.
func (p *Proxy) decide(resp *http.Response, c *call) error {
	c.upstream.status = resp.StatusCode
	// The proxy's own request id replaces any the upstream sent. It is
	// set on the upstream's answer, not on the writer earlier, because
	// ReverseProxy copies (adds) the answer's headers and clears the
	// writer's after a 1xx.
	resp.Header["X-Request-Id"] = c.idHeader
	defer func() { c.upstream.duration = time.Since(c.upstream.start) }()
	if !hasBody(resp) {
		c.outcome = outcomePassthrough
		c.disarmTimer()
		return nil
	}
	if !mayBeJSON(resp.Header.Get("Content-Type")) {
		c.outcome = outcomePassthrough
		return p.passOn(resp, c, &bodyReader{}, nil)
	}
	b := bodyReader{raw: resp.Body}
	if !b.decode(resp.Header.Get("Content-Encoding")) {
		return p.passOn(resp, c, &b, nil)
	}
	decoded, verdict, err := b.peek(p.cfg.MaxBodyBytes, resp.ContentLength)
	if err != nil {
		b.release(nil)
		return err
	}
	switch verdict {
	case annotate.Succeeded:
		c.outcome = outcomeSuccess
		if b.ended && p.log.Enabled(context.Background(), slog.LevelDebug) {
			// The success line, at debug, names the upstream's request
			// id (API 3.0), which only a full look at the body finds;
			// c.result points into what it looked at, so that is a copy
			// of the body's bytes, not the lent buffer they are sent from.
			_, c.result = annotate.Body(bytes.Clone(decoded))
		}
		return p.passOn(resp, c, &b, decoded)
	case annotate.Pass:
		return p.passOn(resp, c, &b, decoded)
	}
	// An error body, or one that ended before Decide could tell: read the
	// rest (up to the limit) and annotate.
	complete := b.ended && int64(len(decoded)) <= p.cfg.MaxBodyBytes
	if !b.ended {
		decoded, complete, err = b.readAll(decoded, p.cfg.MaxBodyBytes)
	}
	if err == nil && complete && b.uses(decoded) {
		// Read whole within the lent buffer: c.result will point into
		// the body until the call ends, so it moves to a buffer of its
		// own size and the lent one goes back.
		decoded = bytes.Clone(decoded)
	}
	b.release(decoded) // unless the body is still in it, to be passed on
	if err != nil {
		return err
	}
	if !complete {
		return p.passOn(resp, c, &b, decoded)
	}
	b.keep() // c.result points into decoded
	out, res := annotate.Body(decoded)
	c.result = res
	c.disarmTimer()
	switch res.Kind {
	case annotate.Success:
		c.outcome = outcomeSuccess
	case annotate.Failure:
		c.outcome = outcomeAPIError
	default:
		c.outcome = outcomePassthrough
	}
	if res.Kind != annotate.Failure || len(out) == len(decoded) {
		// Unchanged (not an error, or every annotation member was
		// already there): send the bytes exactly as they came, still
		// compressed if they came so.
		return p.passOn(resp, c, &b, decoded)
	}
	resp.Body.Close()
	c.joined = joinedBody{head: out, rest: http.NoBody}
	resp.Body = &c.joined
	resp.ContentLength = int64(len(out))
	resp.Header.Set("Content-Length", strconv.Itoa(len(out)))
	delete(resp.Header, "Content-Encoding") // the annotated body is sent decoded
	resp.Uncompressed = b.encoding != ""
	return nil
}

// passOn sends the body on exactly as the upstream sent it: the bytes
// already read, then the rest, unbuffered. decoded is what was read for an
// uncompressed body (for a compressed one the raw bytes are in b).
//
// From here the upstream timeout bounds each wait for the upstream's next
// bytes instead of the whole exchange (see watchStream), so a large body
// takes as long as it needs but a stalled one is cut off: the client then
// sees a broken response, never a clean shorter one. An uncompressed body
// that peek read to its end has nothing left to wait for: its upstream
// body is closed at once, which frees the connection for the next call.
func (p *Proxy) passOn(resp *http.Response, c *call, b *bodyReader, decoded []byte) error {
	c.disarmTimer() // from here each wait for the upstream is bounded instead (watchStream)
	ended := b.ended && b.encoding == ""
	if c.timedOut() && !ended {
		// The deadline fired before it could be disarmed: the body's
		// context is canceled, so the rest of it would break off after a
		// 200 had gone out. Answer the timeout instead. A body already
		// read to its end needs nothing more from the upstream, and goes
		// out as an annotated error body does.
		b.release(nil)
		return errLateDecision
	}
	if c.outcome == "" {
		c.outcome = outcomePassthrough
	}
	head := decoded
	if b.encoding != "" {
		head = b.z.seen.Bytes()
		b.release(nil) // the decoded bytes are not sent
	}
	if ended {
		resp.Body.Close()
		resp.Body = http.NoBody
	}
	if len(head) > 0 {
		c.joined = joinedBody{head: head, rest: resp.Body}
		j := &c.joined
		if b.lent != nil && b.uses(head) {
			j.lent, b.lent = b.lent, nil
		}
		resp.Body = j
	} else {
		b.release(nil)
	}
	if !ended {
		c.stream = streamBody{ReadCloser: resp.Body, c: c}
		resp.Body = &c.stream
		c.watchStream(p.cfg.Timeout)
	}
	return nil
}

// errLateDecision reports a deadline that fired before the body could be
// passed on.
var errLateDecision = errors.New("the upstream deadline passed before the body was passed on")

// joinedBody is a response body made of bytes already read and the rest.
// The buffer the bytes are in, if lent by peekBuffers, goes back as soon
// as they have been read.
type joinedBody struct {
	head []byte // not yet read
	lent *[peekSize]byte
	rest io.ReadCloser
}

func (j *joinedBody) Read(p []byte) (int, error) {
	if len(j.head) == 0 {
		return j.rest.Read(p)
	}
	n := copy(p, j.head)
	j.head = j.head[n:]
	if len(j.head) == 0 {
		j.release()
	}
	return n, nil
}

func (j *joinedBody) Close() error {
	j.head = nil
	j.release()
	return j.rest.Close()
}

func (j *joinedBody) release() {
	if j.lent != nil {
		peekBuffers.Put(j.lent)
		j.lent = nil
	}
}

// hasBody reports whether a response can carry a body.
func hasBody(resp *http.Response) bool {
	switch {
	case resp.Request != nil && resp.Request.Method == http.MethodHead,
		resp.StatusCode == http.StatusNoContent,
		resp.StatusCode == http.StatusNotModified,
		resp.StatusCode < 200:
		return false
	}
	return resp.ContentLength != 0
}

// mayBeJSON reports whether a Content-Type admits a JSON body. API 2.0's
// content type is undocumented (its PHP backend may well say text/html),
// so absence and any textual or JSON type qualify; images, archives and
// the like do not, nor does a value mime.ParseMediaType rejects.
func mayBeJSON(contentType string) bool {
	if contentType == "" {
		return true
	}
	mt, ok := simpleMediaType(contentType)
	if !ok {
		// Something less common: mime checks it all (at the price of a
		// map for the parameters).
		var err error
		if mt, _, err = mime.ParseMediaType(contentType); err != nil {
			return false
		}
	}
	return strings.HasPrefix(mt, "text/") || strings.Contains(mt, "json") || strings.Contains(mt, "javascript")
}

// simpleMediaType returns the media type of the common Content-Types, a
// bare type ("application/json") or one with a single plain parameter
// ("application/json; charset=utf-8"), lower-cased, when contentType is
// one; mime.ParseMediaType accepts these and returns the same type.
func simpleMediaType(contentType string) (string, bool) {
	param := ""
	if i := strings.IndexByte(contentType, ';'); i >= 0 {
		contentType, param = contentType[:i], contentType[i+1:]
		name, value, ok := strings.Cut(strings.TrimSpace(param), "=")
		if !ok || !isToken(name) || !isToken(value) {
			return "", false
		}
	}
	return bareMediaType(contentType)
}

// isToken reports whether s is a non-empty MIME token (RFC 2045): no
// spaces, controls or tspecials.
func isToken(s string) bool {
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case '(', ')', '<', '>', '@', ',', ';', ':', '\\', '"', '/', '[', ']', '?', '=':
			return false
		default:
			if c <= ' ' || c >= 0x7f {
				return false
			}
		}
	}
	return s != ""
}

// bareMediaType returns a Content-Type without parameters, such as
// "application/json", lower-cased, when it is one: two tokens around a
// slash, nothing else but surrounding spaces. It answers as
// mime.ParseMediaType would, without allocating (unless the type has
// upper-case letters).
func bareMediaType(contentType string) (string, bool) {
	s := strings.TrimSpace(contentType)
	slash := strings.IndexByte(s, '/')
	if slash < 0 || !isToken(s[:slash]) || !isToken(s[slash+1:]) {
		return "", false
	}
	return strings.ToLower(s), true
}

// bodyReader reads a response body, decoding gzip or deflate when the
// upstream used it, and keeps the raw bytes it consumed so that the body
// can still be sent on exactly as it came.
type bodyReader struct {
	raw      io.Reader
	encoding string          // "", "gzip" or "deflate"
	z        *compressed     // the raw side, when encoding != ""
	dec      io.Reader       // what peek and readAll read
	lent     *[peekSize]byte // peek's buffer, from peekBuffers
	ended    bool            // dec has returned io.EOF
}

// uses reports whether buf is in the lent buffer.
func (b *bodyReader) uses(buf []byte) bool {
	return b.lent != nil && cap(buf) > 0 && &buf[:1][0] == &b.lent[0]
}

// release gives the lent buffer back unless keep is in it.
func (b *bodyReader) release(keep []byte) {
	if b.lent != nil && !b.uses(keep) {
		peekBuffers.Put(b.lent)
		b.lent = nil
	}
}

// keep leaves the lent buffer, still in use, to the garbage collector.
func (b *bodyReader) keep() { b.lent = nil }

// decode sets up decoding for a Content-Encoding. It returns false when
// the encoding is one the proxy does not decode (the body then passes
// through) or the compressed stream does not start as it should.
func (b *bodyReader) decode(encoding string) bool {
	switch strings.ToLower(strings.TrimSpace(encoding)) {
	case "", "identity":
		b.dec = b.raw
		return true
	case "gzip", "x-gzip":
		b.encoding = "gzip"
	case "deflate":
		b.encoding = "deflate"
	default:
		return false
	}
	b.z = &compressed{raw: b.raw}
	src := b.z
	var err error
	if b.encoding == "gzip" {
		b.dec, err = gzip.NewReader(src)
	} else {
		b.dec, err = zlib.NewReader(src)
	}
	return err == nil
}

// compressed is the raw side of a compressed body: it keeps the raw bytes
// the decoder consumed, and remembers the raw body's read errors, to tell
// a broken connection from a broken compressed stream. It is a separate
// allocation so that uncompressed bodies, nearly all, do without it.
type compressed struct {
	raw  io.Reader
	seen bytes.Buffer // raw bytes consumed
	err  error        // the raw body's own read error, if any
}

func (z *compressed) Read(p []byte) (int, error) {
	n, err := z.raw.Read(p)
	if err != nil && err != io.EOF {
		z.err = err
	}
	z.seen.Write(p[:n])
	return n, err
}

// errDecode marks a compressed stream that does not decode.
var errDecode = errors.New("body does not decode")

// read reads decoded bytes into buf[len(buf):cap(buf)]. A failure of the
// raw body is returned as is; a decoding failure as errDecode.
func (b *bodyReader) read(buf []byte) ([]byte, error) {
	n, err := b.dec.Read(buf[len(buf):cap(buf)])
	buf = buf[:len(buf)+n]
	switch {
	case err == nil || err == io.EOF:
		b.ended = err == io.EOF
		return buf, err
	case b.z != nil && b.z.err != nil:
		return buf, b.z.err
	case b.encoding != "":
		return buf, errDecode
	default:
		return buf, err
	}
}

// peek reads decoded bytes until annotate.Decide can answer, the body
// ends (b.ended; the verdict is then Decide's on the whole body, Buffer if it
// could not tell) or limit bytes were read without an answer (verdict Pass:
// too large to annotate). contentLength is the raw body's length, or -1 if
// unknown: a short body of known length is read up to its size (plus one
// byte, to see its end) and to its end, which over HTTP/1 costs one more
// read that waits for nothing (over HTTP/2 it waits for the end of the
// stream, so the whole of a short body counts against the upstream
// deadline). The bytes go into a buffer lent by peekBuffers (see
// release).
func (b *bodyReader) peek(limit, contentLength int64) ([]byte, annotate.Verdict, error) {
	short := b.encoding == "" && contentLength >= 0 && contentLength < shortSize
	b.lent = peekBuffers.Get().(*[peekSize]byte)
	buf := b.lent[:0]
	if short {
		buf = b.lent[: 0 : contentLength+1]
	}
	for next := 0; ; {
		var err error
		buf, err = b.read(buf)
		if err == io.EOF {
			v := annotate.Decide(buf)
			if v == annotate.NeedMore {
				v = annotate.Buffer
			}
			return buf, v, nil
		}
		if err == errDecode {
			return buf, annotate.Pass, nil
		}
		if err != nil {
			return nil, 0, err
		}
		if short && int64(len(buf)) == contentLength {
			// All there: the next read sees the end (a body longer
			// than its Content-Length, from a RoundTripper that does
			// not hold it to it, goes on as one of unknown length).
			continue
		}
		if len(buf) >= next {
			// Asking again only when the prefix has doubled keeps the
			// rescans linear in the body's size.
			if v := annotate.Decide(buf); v != annotate.NeedMore {
				return buf, v, nil
			}
			next = 2 * len(buf)
		}
		if int64(len(buf)) > limit {
			return buf, annotate.Pass, nil
		}
		if len(buf) == cap(buf) {
			buf = append(buf, 0)[:len(buf)]
		}
	}
}

// readAll reads the rest of the decoded body into buf. complete is false
// when the body is larger than limit or does not decode; what was read is
// then in buf (and, for a compressed body, in b.z.seen).
func (b *bodyReader) readAll(buf []byte, limit int64) (_ []byte, complete bool, _ error) {
	for {
		if int64(len(buf)) > limit {
			return buf, false, nil
		}
		if len(buf) == cap(buf) {
			buf = append(buf, 0)[:len(buf)]
		}
		var err error
		buf, err = b.read(buf)
		switch {
		case err == io.EOF:
			return buf, int64(len(buf)) <= limit, nil
		case err == errDecode:
			return buf, false, nil
		case err != nil:
			return nil, false, err
		}
	}
}
