package proxy

import (
	"bytes"
	"compress/gzip"
	"compress/zlib"
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"strings"

	"github.com/cdnproxy/cdnproxy/annotate"
)

// shortSize bounds the bodies of known length that are read whole before
// the decision.
const shortSize = 4 << 10

// modifyResponse is the ReverseProxy's ModifyResponse: it decides from the
// first bytes of the body whether the body can need annotation. Success
// bodies and anything that is not an API result stream on untouched; error
// bodies are read whole (up to MaxBodyBytes) and annotated. Returning an
// error sends the call to upstreamFailed, before anything was written to
// the client.
func (p *Proxy) modifyResponse(resp *http.Response) error {
	c := callFrom(resp.Request.Context())
	c.upstreamAnswered(resp.StatusCode)
	if resp.StatusCode == http.StatusSwitchingProtocols {
		// The API never switches protocols, and the proxy asks for no
		// upgrade: a tunnel would have no deadline and no annotation.
		resp.Body.Close()
		return errSwitchingProtocols
	}
	if !hasBody(resp) {
		c.deadline.decided() // nothing is left to wait for
		c.answered(outcomePassthrough, annotate.Result{})
		return nil
	}
	b := &bodyReader{raw: resp.Body, pool: p.buffers, hold: &c.held}
	if !mayBeJSON(resp.Header.Get("Content-Type")) || !b.decode(resp.Header.Get("Content-Encoding")) {
		return p.passOn(resp, c, outcomePassthrough, annotate.Result{}, b, nil)
	}
	peeked, verdict, err := b.peek(p.cfg.MaxBodyBytes, resp.ContentLength)
	if err != nil {
		b.release()
		return err
	}
	switch verdict {
	case annotate.Succeeded:
		var res annotate.Result
		if b.ended && p.log.Enabled(context.Background(), slog.LevelDebug) {
			// The success line, at debug, names the upstream's request
			// id (API 3.0), which only a full look at the body finds;
			// the result points into what it looked at, so that is a
			// copy, not the pooled buffer the body is sent from.
			_, res = annotate.Body(bytes.Clone(peeked))
		}
		o := outcomeSuccess
		if b.ended && annotate.Ambiguous(peeked) {
			o = outcomeAmbiguous // a later "code" may say otherwise
		}
		return p.passOn(resp, c, o, res, b, peeked)
	case annotate.Pass:
		return p.passOn(resp, c, outcomePassthrough, annotate.Result{}, b, peeked)
	}
	// An error body, or one that ended before Decide could tell: read the
	// rest (up to the limit) into a buffer of its own, reserved from the
	// memory budget, which the call's result will point into, and
	// annotate. Without budget it passes through untouched.
	body, ok := b.hold.start(peeked, b.ended, b.encoding == "", resp.ContentLength, p.cfg.MaxBodyBytes)
	if !ok {
		return p.passOn(resp, c, outcomePassthrough, annotate.Result{}, b, peeked)
	}
	complete := b.ended && int64(len(peeked)) <= p.cfg.MaxBodyBytes
	b.release()
	if !b.ended {
		if body, complete, err = b.readAll(body, p.cfg.MaxBodyBytes); err != nil {
			return err
		}
	}
	if !complete {
		return p.passOn(resp, c, outcomePassthrough, annotate.Result{}, b, body)
	}
	at, members, res := annotate.AnnotationAt(body, p.clock())
	if res.RetryAfter > 0 {
		resp.Header.Set("Retry-After", strconv.Itoa(res.RetryAfter))
	}
	o := outcomePassthrough
	switch res.Kind {
	case annotate.Success:
		o = outcomeSuccess
	case annotate.Failure:
		o = outcomeAPIError
	default:
		if annotate.Ambiguous(body) {
			o = outcomeAmbiguous
		}
	}
	if res.Kind != annotate.Failure || members == nil {
		// Unchanged (not an error, or every annotation member was
		// already there): send the bytes exactly as they came, still
		// compressed if they came so.
		return p.passOn(resp, c, o, res, b, body)
	}
	c.deadline.decided() // the body is read: nothing is left to wait for
	c.answered(o, res)
	resp.Body.Close()
	// The annotated body is sent from the body as read and the members,
	// never copied whole a second time.
	n := len(body) + len(members)
	resp.Body = &splicedBody{parts: [3][]byte{body[:at], members, body[at:]}}
	resp.ContentLength = int64(n)
	resp.Header.Set("Content-Length", strconv.Itoa(n))
	resp.Header.Del("Content-Encoding") // the annotated body is sent decoded
	resp.Uncompressed = b.encoding != ""
	return nil
}

// passOn sends the body on exactly as the upstream sent it: the bytes
// already read, then the rest, unbuffered; o and res are what the proxy
// made of it. decoded is what was read of an uncompressed body (for a
// compressed one the raw bytes are in b).
//
// From here the deadline bounds each wait for the upstream's next bytes
// instead of the whole exchange, so a large body takes as long as it needs
// but a stalled one is cut off: the client then sees a broken response,
// never a clean shorter one. An uncompressed body that peek read to its
// end has nothing left to wait for: its upstream body is closed at once,
// which frees the connection for the next call.
func (p *Proxy) passOn(resp *http.Response, c *call, o outcome, res annotate.Result, b *bodyReader, decoded []byte) error {
	ended := b.ended && b.encoding == ""
	if c.deadline.decided() && !ended {
		// The deadline passed before the decision: the body's context is
		// canceled, so the rest of it would break off after a 200 had
		// gone out. Answer the timeout instead. A body already read to
		// its end needs nothing more from the upstream, and goes out.
		b.release()
		return errLateDecision
	}
	c.answered(o, res)
	// A success decided on the body's first bytes is followed to its end
	// for a second top-level "code" (see call.settle).
	watch := o == outcomeSuccess && !b.ended
	if watch && b.encoding != "" {
		d := &decodedBody{b: b, rest: resp.Body, pool: p.buffers}
		resp.Body, d.watch = c.streamedSuccess(d, true)
		d.watch.Write(decoded)
		if d.buf = b.take(); d.buf == nil { // decoded is written: its buffer takes the next decoded bytes
			d.buf = p.buffers.Get()
		}
		return nil
	}
	head := decoded
	if b.encoding != "" {
		head = b.z.seen.Bytes()
		b.release() // the decoded bytes are not sent
	}
	if ended {
		resp.Body.Close()
		resp.Body = http.NoBody
	}
	if len(head) > 0 {
		resp.Body = &joinedBody{head: head, rest: resp.Body, buf: b.take(), pool: p.buffers}
	} else {
		b.release()
	}
	switch {
	case watch:
		resp.Body, _ = c.streamedSuccess(resp.Body, false)
	case !ended:
		resp.Body = c.streamed(resp.Body)
	}
	return nil
}

// decodedBody is a compressed body sent on exactly as it came while its
// decoded bytes are followed by a Watch: each read decodes a little more
// of the body, and hands the client the raw bytes that took. Once the
// decoded body ends, or stops decoding, the rest of the raw body goes on
// as it comes.
type decodedBody struct {
	b     *bodyReader // b.dec decodes; b.z.seen holds raw bytes not yet sent
	rest  io.ReadCloser
	watch *annotate.Watch
	buf   []byte // what the decoded bytes are read into; pooled
	pool  *bufferPool
	raw   bool // decoding is over
}

func (d *decodedBody) Read(p []byte) (int, error) {
	for {
		if d.b.z.seen.Len() > 0 {
			return d.b.z.seen.Read(p)
		}
		if d.raw {
			return d.b.z.raw.Read(p)
		}
		n, err := d.b.dec.Read(d.buf[:cap(d.buf)])
		d.watch.Write(d.buf[:n])
		if err != nil {
			// The end of the decoded body, or a stream that does not
			// decode, or a failure of the raw body, which the next raw
			// read returns again.
			d.release()
		}
	}
}

func (d *decodedBody) Close() error {
	d.release()
	return d.rest.Close()
}

func (d *decodedBody) release() {
	d.raw = true // without the buffer, nothing more is decoded
	if d.buf != nil {
		d.pool.Put(d.buf)
		d.buf = nil
	}
}

// errSwitchingProtocols reports an upstream that answered 101.
var errSwitchingProtocols = errors.New("the upstream answered 101 Switching Protocols")

// errLateDecision reports a deadline that passed before the body could be
// passed on.
var errLateDecision = errors.New("the upstream deadline passed before the body was passed on")

// joinedBody is a response body made of bytes already read and the rest.
// It owns the pooled buffer the bytes are in, if any, and gives it back
// as soon as they have been read.
type joinedBody struct {
	head []byte // not yet read
	buf  []byte // the pooled buffer head is in, or nil
	pool *bufferPool
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
	if j.buf != nil {
		j.pool.Put(j.buf)
		j.buf = nil
	}
}

// splicedBody is an annotated body sent in pieces: the body up to where
// the members go, the members, the rest.
type splicedBody struct{ parts [3][]byte }

func (s *splicedBody) Read(p []byte) (int, error) {
	n := 0
	for i := range s.parts {
		if n == len(p) {
			break
		}
		c := copy(p[n:], s.parts[i])
		s.parts[i] = s.parts[i][c:]
		n += c
	}
	if n == 0 && len(p) > 0 {
		return 0, io.EOF
	}
	return n, nil
}

func (s *splicedBody) Close() error { return nil }

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
	mt := mediaType(contentType)
	return strings.HasPrefix(mt, "text/") || strings.Contains(mt, "json") || strings.Contains(mt, "javascript")
}

// bodyReader reads a response body, decoding gzip or deflate when the
// upstream used it, and keeps the raw bytes it consumed so that the body
// can still be sent on exactly as it came.
type bodyReader struct {
	raw      io.Reader
	encoding string      // "", "gzip" or "deflate"
	z        *compressed // the raw side, when encoding != ""
	dec      io.Reader   // what peek and readAll read
	ended    bool        // dec has returned io.EOF
	pool     *bufferPool
	buf      []byte // peek's buffer, from pool, until released or taken
	hold     *hold  // the call's share of the memory budget, for readAll
}

// release gives peek's buffer back to the pool.
func (b *bodyReader) release() {
	if b.buf != nil {
		b.pool.Put(b.buf)
		b.buf = nil
	}
}

// take hands peek's buffer, if there is one, to the caller, who gives it
// back to the pool.
func (b *bodyReader) take() []byte {
	buf := b.buf
	b.buf = nil
	return buf
}

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
	// The decoder's state (its window and tables, about 40 KiB) is held
	// for annotation as the decoded bytes are: without budget for it, the
	// body passes through as it came.
	if !b.hold.reserve(decoderBytes) {
		b.encoding = ""
		return false
	}
	b.z = &compressed{raw: b.raw, hold: b.hold}
	src := b.z
	var err error
	if b.encoding == "gzip" {
		b.dec, err = gzip.NewReader(src)
	} else {
		b.dec, err = zlib.NewReader(src)
	}
	return err == nil
}

// decoderBytes is what a gzip or zlib decoder allocates: measured at
// 41 274 bytes for compress/gzip in Go 1.26.
const decoderBytes = 48 << 10

// compressed is the raw side of a compressed body: it keeps the raw bytes
// the decoder consumed, and remembers the raw body's read errors, to tell
// a broken connection from a broken compressed stream. It is a separate
// allocation so that uncompressed bodies, nearly all, do without it.
type compressed struct {
	raw  io.Reader
	seen bytes.Buffer // raw bytes consumed
	err  error        // the raw body's own read error, if any
	hold *hold        // seen's growth is reserved from it
	over bool         // seen could not get budget: decode no further
}

func (z *compressed) Read(p []byte) (int, error) {
	n, err := z.raw.Read(p)
	if err != nil && err != io.EOF {
		z.err = err
	}
	if z.seen.Len()+n > z.seen.Cap() && !z.hold.reserve(int64(2*z.seen.Cap()+n)) {
		z.over = true // the bytes are kept all the same: they must go on
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
	case b.z != nil && b.z.over:
		return buf, errNoBudget
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
// deadline). The bytes go into a buffer from the pool (see release and
// take), as large as the copy buffer: the first read takes what the
// upstream has ready (a TLS record is up to 16 KiB) in one piece.
func (b *bodyReader) peek(limit, contentLength int64) ([]byte, annotate.Verdict, error) {
	short := b.encoding == "" && contentLength >= 0 && contentLength < shortSize
	b.buf = b.pool.Get()
	buf := b.buf[:0]
	if short {
		buf = b.buf[: 0 : contentLength+1]
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
		if err == errDecode || err == errNoBudget {
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
			var ok bool
			if buf, ok = b.hold.growBody(buf, limit); !ok {
				return buf, false, nil // no budget: the body passes through
			}
		}
		var err error
		buf, err = b.read(buf)
		switch {
		case err == io.EOF:
			return buf, int64(len(buf)) <= limit, nil
		case err == errDecode, err == errNoBudget:
			return buf, false, nil
		case err != nil:
			return nil, false, err
		}
	}
}
