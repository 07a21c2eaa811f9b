package proxy

import (
	"context"
	"io"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cdnproxy/cdnproxy/annotate"
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
)

// failed reports whether the outcome is a failed call, logged at warn.
func (o outcome) failed() bool {
	return o == outcomeAPIError || o == outcomeRefused || o == outcomeUpstreamError
}

// call is everything the proxy learns about one request on its way
// through, for the single log line and the metrics at the end. Each step
// fills in its part; only the request's own goroutine writes to it, except
// for the timer, which is guarded by its own mutex.
//
// A call is also the context of its upstream exchange: the embedded
// Context is the cancelable one the deadline cancels, and Value answers
// callKey with the call itself, so that the ReverseProxy's hooks find the
// call from the request without a context layer of its own.
type call struct {
	context.Context

	id           string
	idFromClient bool       // id is the client's X-Request-Id, not one of the proxy's
	idHeader     []string   // id as a header value, shared by the headers that carry it; never modified
	idValue      [1]string  // idHeader's array, so that it costs no allocation of its own
	in           inbound    // the admitted call (see admit)
	joined       joinedBody // the answer's body, when passed on with bytes already read
	stream       streamBody // the answer's body, when it streams
	w            countingWriter
	start        time.Time
	method       string
	client       string
	action       string
	secretID     string // as the client sent it; masked when logged
	gen          int    // API generation: 2 or 3; 0 until admitted
	successor    string // the API 3.0 action that replaces a 2.0 call's action
	api          *api   // the generation's settings, once admitted

	outcome     outcome
	status      int             // status written to the client
	result      annotate.Result // what annotate found, or the proxy's own error
	codeDesc    string          // of a refusal; for API results, see result
	message     string          // of a refusal; for API results, see result
	upstreamErr error           // why the upstream exchange failed, for the log only
	streamErr   error           // why a streamed body broke off, if it did
	clientCtx   context.Context // the client's request context
	upstream    struct {
		start    time.Time
		duration time.Duration // to the decision about the body
		status   int
	}
	bytes   int64
	text    callTexts // filled in by texts, once the call has ended
	hasText bool      // text is filled in

	mu      sync.Mutex
	timer   *time.Timer        // the upstream deadline: see armTimer and watchStream
	cancel  context.CancelFunc // what the deadline calls
	timeout bool               // the deadline fired
	ended   bool               // the call is over: the timer is not set again
	// While a body streams, the timer ticks every half timeout and looks
	// at reads, which each streamBody read adds one to as it starts and
	// as it ends (odd: a read waits for the upstream). A read seen waiting
	// by three ticks in a row has waited at least the timeout.
	streaming bool
	tick      time.Duration
	seen      uint64 // reads at the last tick
	strikes   int    // ticks in a row that saw the read at seen waiting
	reads     atomic.Uint64
}

// callKey is the context key for the *call of a request.
type callKey struct{}

// Value answers callKey with the call and anything else from the
// embedded Context.
func (c *call) Value(key any) any {
	if key == (callKey{}) {
		return c
	}
	return c.Context.Value(key)
}

// callFrom returns the call of ctx, or a throwaway one, so that code on
// the response path never has to check for nil.
func callFrom(ctx context.Context) *call {
	if c, ok := ctx.(*call); ok && c.Context != nil {
		return c
	}
	if c, ok := ctx.Value(callKey{}).(*call); ok && c.Context != nil {
		return c
	}
	return &call{}
}

// armTimer starts the upstream deadline: after d, cancel is called,
// which aborts the exchange wherever it is.
func (c *call) armTimer(d time.Duration, cancel context.CancelFunc) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.cancel = cancel
	c.timer = time.AfterFunc(d, c.expire)
}

// expire is the deadline's timer: it cancels the exchange, unless a body
// is streaming and no read of it has waited for the timeout yet, in which
// case it looks again half a timeout later.
func (c *call) expire() {
	c.mu.Lock()
	if c.ended {
		c.mu.Unlock()
		return
	}
	if c.streaming {
		switch r := c.reads.Load(); {
		case r%2 == 0: // no read waits
			c.seen, c.strikes = r, 0
		case r != c.seen: // a new read waits
			c.seen, c.strikes = r, 1
		default:
			c.strikes++
		}
		if c.strikes < 3 {
			c.timer.Reset(c.tick)
			c.mu.Unlock()
			return
		}
	}
	c.timeout = true
	cancel := c.cancel
	c.mu.Unlock()
	cancel()
}

// disarmTimer stops the deadline, once the proxy has decided what to do
// with the body; a streamed body then has it watch its reads (see
// watchStream).
func (c *call) disarmTimer() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.timer != nil {
		c.timer.Stop()
	}
}

// endTimer stops the deadline for good, when the call ends.
func (c *call) endTimer() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.ended, c.streaming = true, false
	if c.timer != nil {
		c.timer.Stop()
	}
}

// watchStream has the deadline watch the reads of a streamed body: a read
// that waits for the upstream for the timeout d (up to one and a half
// times d, as the timer looks every half d) cancels the exchange. Time
// spent writing to a slow client does not count, and a read costs two
// atomic additions, not a timer reset.
func (c *call) watchStream(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.timer == nil || c.ended {
		return
	}
	c.streaming, c.tick, c.seen, c.strikes = true, d/2, c.reads.Load(), 0
	c.timer.Reset(c.tick)
}

// timedOut reports whether the deadline fired.
func (c *call) timedOut() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.timeout
}

// clientGone reports whether the client hung up: the request's context
// ended, and not because the upstream deadline fired.
func (c *call) clientGone(r *http.Request) bool {
	return r.Context().Err() != nil && !c.timedOut()
}

// brokenOff is the logged message of a call whose answer broke off.
const brokenOff = "cdnproxy: the answer broke off while it streamed"

// settleStream corrects the outcome of a call whose streamed body broke
// off after the status had gone out: it failed after all, because the
// upstream stalled or dropped the connection, or the client hung up.
func (c *call) settleStream() {
	if c.streamErr == nil || (c.outcome != outcomeSuccess && c.outcome != outcomePassthrough) {
		return
	}
	c.upstreamErr = c.streamErr
	switch {
	case c.timedOut():
		c.fail(errUpstream(true), brokenOff)
	case c.clientCtx != nil && c.clientCtx.Err() != nil:
		c.outcome = outcomeClientGone
	default:
		c.fail(errUpstream(false), brokenOff)
	}
}

// fail records one of the proxy's own errors as the call's result, for
// the log line, the metrics and the failures page: the refusals and
// upstream failures the client is answered with, and the upstream failures
// found after an answer had started (the client then has a broken
// response).
func (c *call) fail(e *apiError, message string) {
	c.outcome = e.outcome
	category, retryable, description := e.annotation(c.gen)
	c.result = annotate.Result{Kind: annotate.Failure, Generation: c.gen, Code: e.code, ErrorCode: e.v3Code,
		Category: category, Retryable: retryable, Description: description}
	c.codeDesc, c.message = "", message
	if c.gen == 2 {
		c.codeDesc = e.codeDesc
	}
}

// streamBody is a streamed response body: each read may wait for the
// upstream at most about the upstream timeout (see watchStream), and a
// read error (other than the end) is recorded so that the call is not
// logged as a success.
type streamBody struct {
	io.ReadCloser
	c *call
}

func (b *streamBody) Read(p []byte) (int, error) {
	b.c.reads.Add(1) // waiting
	n, err := b.ReadCloser.Read(p)
	b.c.reads.Add(1) // not waiting
	if err != nil && err != io.EOF && b.c.streamErr == nil {
		b.c.streamErr = err
	}
	return n, err
}

// countingWriter records the status and the number of body bytes sent.
type countingWriter struct {
	http.ResponseWriter
	c           *call
	wroteHeader bool
}

func (w *countingWriter) WriteHeader(status int) {
	if !w.wroteHeader && status >= 200 {
		w.wroteHeader = true
		w.c.status = status
	}
	w.ResponseWriter.WriteHeader(status)
}

func (w *countingWriter) Write(b []byte) (int, error) {
	if !w.wroteHeader {
		w.WriteHeader(http.StatusOK)
	}
	n, err := w.ResponseWriter.Write(b)
	w.c.bytes += int64(n)
	return n, err
}

// Unwrap lets http.ResponseController reach the real writer (to flush).
func (w *countingWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
