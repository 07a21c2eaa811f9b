package proxy

import (
	"context"
	"errors"
	"io"
	"net/http"
	"syscall"
	"time"

	"github.com/cdnproxy/cdnproxy/annotate"
	"github.com/cdnproxy/cdnproxy/codes"
	"github.com/cdnproxy/cdnproxy/proxy/bridge"
)

// outcome is how a call ended, from the proxy's point of view. Its string
// form is a log field and a metric label.
type outcome string

const (
	outcomeSuccess       outcome = "success"        // the API answered code 0
	outcomeAPIError      outcome = "api_error"      // the API answered an error; it was annotated
	outcomePassthrough   outcome = "passthrough"    // not an API result (or too large): sent on untouched
	outcomeRefused       outcome = "refused"        // the proxy answered the call itself
	outcomeUpstreamError outcome = "upstream_error" // the API could not be reached or timed out
	outcomeClientGone    outcome = "client_gone"    // the client hung up before the answer
	// outcomeAmbiguous is a body with two top-level "code" (or
	// "Response") members, which parsers read differently: sent on
	// untouched, counted as neither a success nor an error.
	outcomeAmbiguous outcome = "ambiguous"
	// outcomeBusy is a call refused because the proxy met one of its own
	// limits (in flight, memory, file descriptors): not the upstream's
	// failure, and retryable.
	outcomeBusy outcome = "busy"
)

// failed reports whether the outcome is a failed call, logged at warn.
func (o outcome) failed() bool {
	return o == outcomeAPIError || o == outcomeRefused || o == outcomeUpstreamError || o == outcomeBusy
}

// call is the record of one request on its way through, for the single
// log line, the metrics and the failures page at the end. Only the
// request's own goroutine touches it (the deadline has its own type).
//
// Who writes what:
//   - ServeHTTP (proxy.go) fills in the first group as the call starts;
//   - admit (admit.go) the second, once it knows what was called;
//   - everything else is written by the methods in this file, which the
//     other steps call as they learn how the call ends: refused,
//     answered, upstreamFailed, settle, and the countingWriter.
type call struct {
	// Set by ServeHTTP.
	id           string
	idFromClient bool     // id is the client's X-Request-Id, not one of the proxy's
	idHeader     []string // id as a header value; never modified
	start        time.Time
	method       string
	client       string
	clientCtx    context.Context // the client's request context (with the call's span, when tracing: trace.go)
	deadline     *deadline       // the upstream exchange's, once forwarded
	w            countingWriter  // the client's writer, as the proxy writes to it
	held         hold            // the call's share of the memory budget

	// Set by admit.
	slot      bool // the call holds one of Config.MaxInFlight's slots
	api       *api // the API called; nil for a path that is no API's
	action    string
	secretID  string // as the client sent it; masked when logged
	successor string // the API 3.0 action that replaces a 2.0 call's action
	// requestLimit is the size limit of a POST body; requestBody the
	// body when it streams (passthrough), unread.
	requestLimit int64
	requestBody  *limitedBody

	// Set by this file's methods.
	outcome     outcome
	result      annotate.Result // what annotate found, or the proxy's own error
	codeDesc    string          // of the proxy's own error; for API results, see result
	message     string          // of the proxy's own error; for API results, see result
	upstreamErr error           // why the upstream exchange failed, for the log only
	upstreamID  string          // the 3.0 RequestId of a bridged call
	timedOut    bool            // the upstream failure was the deadline's
	busyReason  string          // the limit a busy call met
	stream      streamBody      // the answer's body, when it streams
	status      int             // status written to the client
	bytes       int64           // body bytes written to the client
	writeErr    error           // the first failed write to the client
	upstream    struct {
		start    time.Time
		duration time.Duration // to the decision about the body
		status   int
	}
}

// gen is the API generation the call is answered in: 3 for API 3.0, and
// 2 for API 2.0 and for anything that was not an API call at all.
func (c *call) gen() int {
	if c.api != nil {
		return c.api.gen
	}
	return 2
}

// apiLabel names the API called in the log, the metrics and the failures
// page: "2.0", "2.0-bridge" (answered through API 3.0) or "3.0"; a call
// that was no API call at all is answered, and so named, as 2.0.
func (c *call) apiLabel() string {
	if c.api != nil {
		return c.api.label
	}
	return "2.0"
}

// callKey is the context key for the *call of a request.
type callKey struct{}

// callFrom returns the call that ServeHTTP put in ctx, or a throwaway one,
// so that code on the response path never has to check for nil.
func callFrom(ctx context.Context) *call {
	if c, ok := ctx.Value(callKey{}).(*call); ok {
		return c
	}
	return &call{deadline: stoppedDeadline()}
}

// refused records one of the proxy's own errors as the call's result.
func (c *call) refused(e *apiError) { c.fail(e, e.message) }

// forwarded records the moment the call leaves for the upstream.
func (c *call) forwarded() { c.upstream.start = time.Now() }

// answered records the upstream's answer and what the proxy made of its
// body: res is annotate's result where the body was looked at in full.
func (c *call) answered(o outcome, res annotate.Result) {
	c.outcome, c.result = o, res
}

// bridged records the answer the bridge made of a 2.0 call: an error body
// carries the 3.0 catalogue's annotation, which stands, and the 3.0 code.
func (c *call) bridged(res bridge.Result) {
	c.upstreamID = res.RequestID
	switch {
	case !res.Failed:
		c.outcome, c.result = outcomeSuccess, annotate.Result{Kind: annotate.Success, Generation: 2}
		return
	case res.Unsupported:
		c.outcome = outcomeRefused
	default:
		c.outcome = outcomeAPIError
	}
	source := annotate.FromPublic // decided by the bridge itself
	if res.V3Code != "" {
		source = annotate.FromNone
		if e, ok := codes.V3(res.V3Code); ok && e.Code == res.V3Code {
			source = annotate.FromV3Code
		} else if ok {
			source = annotate.FromV3Family
		}
	}
	c.result = annotate.Result{Kind: annotate.Failure, Generation: 2, Code: res.Code, ErrorCode: res.V3Code,
		ModuleCode: res.ModuleCode, HasModuleCode: res.ModuleCode != 0, Source: source,
		Category: res.Category, Retryable: res.Retryable, Description: res.Description}
	c.codeDesc, c.message = res.CodeDesc, res.Message
}

// limited records that the limits answered a bridged call themselves.
func (c *call) limited() { c.outcome = outcomeRefused }

// upstreamAnswered records the upstream's status, and how long it took
// to get as far as the decision about the body.
func (c *call) upstreamAnswered(status int) {
	c.upstream.status = status
	c.upstream.duration = time.Since(c.upstream.start)
}

// upstreamFailed records an upstream exchange that failed with err before
// or while the answer went out, and returns the error the client is
// answered with: nil when the client hung up, who is sent nothing. It is
// the one place that tells a timeout, an unreachable upstream and a client
// that went away apart.
func (c *call) upstreamFailed(err error, message string) *apiError {
	c.upstreamErr = err
	if c.upstream.duration == 0 {
		c.upstream.duration = time.Since(c.upstream.start)
	}
	switch {
	case c.requestBody.tooLarge():
		e := errTooLarge("request body", int(c.requestLimit))
		c.fail(e, e.message)
		return e
	case localResources(err):
		e := errBusy(busyLocal)
		c.fail(e, e.message)
		return e
	case c.deadline.expired():
		c.timedOut = true
		e := errUpstream(true)
		c.fail(e, cmpMessage(message, e))
		return e
	case c.clientCtx != nil && c.clientCtx.Err() != nil:
		c.outcome, c.status = outcomeClientGone, 499 // nginx's "client closed request", for the log only
		return nil
	default:
		e := errUpstream(false)
		c.fail(e, cmpMessage(message, e))
		return e
	}
}

// localResources reports an error of the proxy's own host, such as too
// many open files: the upstream never saw the call.
func localResources(err error) bool {
	return errors.Is(err, syscall.EMFILE) || errors.Is(err, syscall.ENFILE) || errors.Is(err, syscall.ENOBUFS) || errors.Is(err, syscall.ENOMEM)
}

// cmpMessage is message, or the error's own when message is empty.
func cmpMessage(message string, e *apiError) string {
	if message == "" {
		return e.message
	}
	return message
}

// brokenOff is the logged message of a call whose answer broke off.
const brokenOff = "cdnproxy: the answer broke off while it streamed"

// settle ends the record when the call is over: a streamed body that
// broke off after the status had gone out makes the call a failure after
// all, because the upstream stalled or dropped the connection, or the
// client hung up.
func (c *call) settle() {
	if c.writeErr != nil && c.outcome != outcomeRefused && c.outcome != outcomeBusy && c.outcome != outcomeUpstreamError {
		// The client stopped reading (past Config.ClientWriteTimeout) or
		// went away while the answer went out.
		c.upstreamErr = c.writeErr
		c.outcome = outcomeClientGone
		return
	}
	if c.stream.err == nil && c.outcome == outcomeSuccess && c.stream.watching && c.stream.watch.Ambiguous() {
		// The body streamed on whole, and a second top-level "code"
		// (or "Response") came after the bytes the decision was
		// taken on.
		c.outcome = outcomeAmbiguous
		return
	}
	if c.stream.err == nil || (c.outcome != outcomeSuccess && c.outcome != outcomePassthrough) {
		return
	}
	// The status stays what the client got, broken off (upstreamFailed
	// sets one only for a client that hung up).
	c.upstreamFailed(c.stream.err, brokenOff)
}

// fail records one of the proxy's own errors as the call's result.
func (c *call) fail(e *apiError, message string) {
	gen := c.gen()
	category, retryable, description := e.annotation(gen)
	c.outcome, c.busyReason = e.outcome, e.reason
	c.result = annotate.Result{Kind: annotate.Failure, Generation: gen, Code: e.code, ErrorCode: e.v3Code,
		Category: category, Retryable: retryable, Description: description}
	c.codeDesc, c.message = "", message
	if gen == 2 {
		c.codeDesc = codes.CodeDesc(e.code)
	}
}

// streamBody is a streamed response body: each read may wait for the
// upstream at most the upstream timeout (see deadline), and a read error
// other than the end is recorded, so that the call is not logged as a
// success. A success body is also followed by a Watch as it goes (see
// settle): the decision was taken on its first bytes only.
type streamBody struct {
	io.ReadCloser
	deadline   *deadline
	err        error
	watching   bool // watch follows the body
	compressed bool // the bytes read here are compressed: the decodedBody below feeds watch instead
	watch      annotate.Watch
}

func (b *streamBody) Read(p []byte) (int, error) {
	b.deadline.waiting()
	n, err := b.ReadCloser.Read(p)
	b.deadline.notWaiting()
	if b.watching && !b.compressed {
		b.watch.Write(p[:n])
	}
	if err != nil && !errors.Is(err, io.EOF) && b.err == nil {
		b.err = err
	}
	return n, err
}

// streamed wraps a body that streams on to the client: each wait for the
// upstream's bytes is bounded, and a break is recorded (see settle).
func (c *call) streamed(body io.ReadCloser) io.ReadCloser {
	c.stream = streamBody{ReadCloser: body, deadline: c.deadline}
	return &c.stream
}

// streamedSuccess is streamed for a body that was decided a success on
// its first bytes: the whole body, from its first byte, is followed for a
// second top-level "code" or "Response" (see settle). For a compressed
// body it returns the Watch its decoded bytes are to be written to.
func (c *call) streamedSuccess(body io.ReadCloser, compressed bool) (io.ReadCloser, *annotate.Watch) {
	c.stream = streamBody{ReadCloser: body, deadline: c.deadline, watching: true, compressed: compressed}
	return &c.stream, &c.stream.watch
}

// countingWriter is the client's ResponseWriter as the proxy writes to
// it: it puts the call's request id on every answer, whoever wrote the
// rest of the header, and records the status and the body bytes sent.
type countingWriter struct {
	http.ResponseWriter
	c           *call
	guard       writeGuard // bounds each write (Config.ClientWriteTimeout)
	wroteHeader bool
}

func (w *countingWriter) WriteHeader(status int) {
	if !w.wroteHeader && status >= 200 {
		w.wroteHeader = true
		w.c.status = status
		// The one place the answer's X-Request-Id is set: it replaces
		// any the upstream sent.
		w.Header()["X-Request-Id"] = w.c.idHeader
	}
	w.ResponseWriter.WriteHeader(status)
}

func (w *countingWriter) Write(b []byte) (int, error) {
	if !w.wroteHeader {
		w.WriteHeader(http.StatusOK)
	}
	w.guard.extend()
	n, err := w.ResponseWriter.Write(b)
	w.c.bytes += int64(n)
	if err != nil && w.c.writeErr == nil {
		w.c.writeErr = err
	}
	return n, err
}

// Unwrap lets http.ResponseController reach the real writer (to flush).
func (w *countingWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
