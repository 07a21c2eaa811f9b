// Package proxy is cdnproxy's HTTP side: a reverse proxy in front of
// Tencent Cloud's CDN API that forwards each call to one configured
// upstream and annotates the API's error bodies on the way back.
//
// One call, in file order: ServeHTTP (proxy.go) creates the call's record
// (call.go) -> admit checks path, method, size and reads the parameters
// (admit.go) -> resign verifies and signs them again, in the signing modes
// (sign.go) -> rewrite points the copy at the upstream (forward.go, over
// transport.go) under the call's deadline (deadline.go) -> modifyResponse
// decides about the body and annotates an error (response.go) -> finish
// writes one log line, the metrics and the failures page (log.go,
// metrics.go, failures.go). Every answer the proxy gives itself is built
// in errors.go. With Config.TracerProvider, the call and each of its
// upstream exchanges are spans in the client's trace (trace.go).
package proxy

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httputil"
	"net/url"
	"strings"
	"time"

	"go.opentelemetry.io/otel/trace"

	"github.com/cdnproxy/cdnproxy/proxy/bridge"
	"github.com/cdnproxy/cdnproxy/proxy/signature"
)

// Config is what a Proxy needs. Only Upstream is required; every other
// field has a working zero value.
type Config struct {
	// Upstream is the API 2.0 base URL, such as https://cdn.api.qcloud.com.
	// Every call to /v2/index.php goes there and nowhere else, whatever
	// Host or URL the client sent.
	Upstream *url.URL
	// UpstreamV3 is the API 3.0 base URL, such as
	// https://cdn.tencentcloudapi.com. Calls to / go there. Nil means the
	// proxy serves API 2.0 only and refuses calls to /.
	UpstreamV3 *url.URL
	// Timeout bounds the upstream exchange up to the point where the proxy
	// has decided what to do with the body: connect, send, the response
	// headers, and the start of the body (the whole of it for an error,
	// and for any body under 4 KiB with a Content-Length).
	// A success body then streams for as long as it takes, but each wait
	// for the upstream's next bytes is bounded by Timeout again, so a
	// stalled upstream cannot hold a client forever. Zero means 30s.
	Timeout time.Duration
	// MaxBodyBytes is the largest response body the proxy will hold to
	// annotate; a larger one passes through untouched. Zero means 1 MiB.
	MaxBodyBytes int64
	// Always200 makes the proxy answer its own errors (refusals, upstream
	// failures) with status 200, as the API does for every error, for
	// legacy clients that read no body on any other status.
	Always200 bool
	// Transport carries calls upstream. Nil means NewTransport(64).
	Transport http.RoundTripper
	// Signing says how calls' signatures are handled; the zero value
	// forwards them untouched.
	Signing Signing
	// Logger receives one line per failed call (and, at debug level, one
	// per successful call). Nil discards.
	Logger *slog.Logger
	// Metrics counts every call; several Proxies may share one. Nil means
	// no metrics.
	Metrics *Metrics
	// Failures keeps the recent failed calls for the failures page;
	// several Proxies may share one. Nil means none are kept.
	Failures *Failures
	// BridgeV2 answers API 2.0 calls through API 3.0 instead of
	// forwarding them to Upstream, which Tencent retired on 2022-11-30:
	// each call is verified as in Resign mode, translated to the 3.0
	// calls that do the same at UpstreamV3, signed with TC3, and answered
	// in the 2.0 shape. It needs UpstreamV3 and the Resign or Sign mode.
	BridgeV2 bool
	// Limits, when set, keeps calls under Tencent's rates and daily quotas
	// and shares them, and the bridge's replay cache, through Redis
	// (limits.go); several Proxies may share one. Nil means no limits.
	Limits *Limits
	// PublicHosts are the proxy's own host names (host or host:port) as
	// clients sign them. Empty means any Host a call arrives with, except
	// another Tencent Cloud API's (cvm.api.qcloud.com, …); the upstream's
	// host and the CDN API's hosts are accepted either way.
	PublicHosts []string
	// MemoryBudget bounds the bytes all calls together hold to annotate
	// response bodies and to verify request bodies. A response that
	// cannot get budget passes through untouched; a request body that
	// cannot is refused as busy (503, retryable). Zero means 256 MiB.
	MemoryBudget int64
	// ClientWriteTimeout bounds each write of an answer to the client: a
	// client that reads nothing for that long is cut off (outcome
	// client_gone) and the upstream exchange canceled. Zero means 60s.
	ClientWriteTimeout time.Duration
	// MaxInFlight bounds the calls being proxied at once; a call beyond
	// it is answered at once with an API-shaped busy answer (503,
	// Retry-After, category unavailable, retryable). Zero means no bound.
	MaxInFlight int
	// TracerProvider makes each call a span, and each upstream exchange
	// a span below it, in the W3C trace context the client sent (see
	// trace.go). Nil means no tracing: the client's traceparent and
	// tracestate go upstream as they came, and a call costs nothing more.
	TracerProvider trace.TracerProvider
}

// The API's documented request limits: 32 KB of query string for GET,
// 1 MB of body for a form POST, and 10 MB for a JSON (TC3-signed) POST of
// API 3.0.
const (
	maxQueryBytes = 32 << 10
	maxFormBytes  = 1 << 20
	maxJSONBytes  = 10 << 20
)

// api is what differs between the two generations of the API.
type api struct {
	gen          int           // 2 or 3
	upstream     *url.URL      // where its calls go
	path         string        // the path clients call and sign
	upstreamPath string        // the same path as the upstream sees it
	window       time.Duration // how far a Timestamp may be from the clock
	bridged      bool          // calls are answered through API 3.0 (Config.BridgeV2)
	label        string        // its name in the log and the metrics
}

// Proxy is the annotating reverse proxy. It is an http.Handler; build it
// with New.
type Proxy struct {
	cfg     Config
	rp      *httputil.ReverseProxy
	log     *slog.Logger
	buffers *bufferPool
	v2, v3  *api // v3 is nil when UpstreamV3 is
	// keys are the keys that verify and sign calls, by SecretId: the
	// upstream's and the clients', in resign and sign mode.
	keys map[string]secretKey
	// bridge and replays serve API 2.0 calls through API 3.0
	// (Config.BridgeV2); nil without it.
	bridge  *bridge.Bridge
	replays *replayCache
	budget  *memoryBudget // Config.MemoryBudget
	slots   *slots        // Config.MaxInFlight
	// tracer makes the calls' spans (Config.TracerProvider); nil without.
	tracer trace.Tracer
}

// New checks cfg and returns a ready Proxy.
func New(cfg Config) (*Proxy, error) {
	if !baseURL(cfg.Upstream) {
		return nil, errors.New("proxy: Upstream must be an absolute http or https URL")
	}
	if cfg.UpstreamV3 != nil && !baseURL(cfg.UpstreamV3) {
		return nil, errors.New("proxy: UpstreamV3 must be an absolute http or https URL")
	}
	if cfg.Timeout == 0 {
		cfg.Timeout = 30 * time.Second
	}
	if cfg.Timeout < 0 || cfg.MaxBodyBytes < 0 || cfg.MemoryBudget < 0 || cfg.ClientWriteTimeout < 0 || cfg.MaxInFlight < 0 {
		return nil, fmt.Errorf("proxy: Timeout, MaxBodyBytes, MemoryBudget, ClientWriteTimeout and MaxInFlight must not be negative")
	}
	if cfg.ClientWriteTimeout == 0 {
		cfg.ClientWriteTimeout = 60 * time.Second
	}
	if cfg.MemoryBudget == 0 {
		cfg.MemoryBudget = 256 << 20
	}
	if cfg.MaxBodyBytes == 0 {
		cfg.MaxBodyBytes = 1 << 20
	}
	switch cfg.Signing.Mode {
	case "":
		cfg.Signing.Mode = Passthrough
	case Passthrough:
	case Resign, Sign:
		if cfg.Signing.SecretID == "" || cfg.Signing.SecretKey == "" {
			return nil, fmt.Errorf("proxy: signing mode %s needs the upstream SecretID and SecretKey", cfg.Signing.Mode)
		}
	default:
		return nil, fmt.Errorf("proxy: unknown signing mode %q", cfg.Signing.Mode)
	}
	if cfg.Transport == nil {
		cfg.Transport = NewTransport(64)
	}
	tracer, transport := traced(cfg.TracerProvider, cfg.Transport)
	cfg.Transport = transport
	logger := cfg.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	br, err := newBridge(cfg)
	if err != nil {
		return nil, err
	}
	p := &Proxy{cfg: cfg, log: logger, buffers: newBufferPool(), keys: newKeys(cfg.Signing), bridge: br,
		budget: &memoryBudget{limit: cfg.MemoryBudget}, slots: &slots{max: int64(cfg.MaxInFlight)}}
	p.tracer = tracer
	p.v2 = &api{gen: 2, upstream: cfg.Upstream, path: apiPath, label: "2.0",
		upstreamPath: strings.TrimSuffix(cfg.Upstream.Path, "/") + apiPath, window: timestampWindow}
	if br != nil {
		p.v2.bridged, p.v2.label = true, "2.0-bridge"
		p.replays = newReplayCache(maxReplays, timestampWindow)
	}
	if cfg.UpstreamV3 != nil && cfg.Signing.Mode != Passthrough {
		cfg.Limits.attach(p.send3) // to read the account's quotas
	}
	if cfg.UpstreamV3 != nil {
		p.v3 = &api{gen: 3, upstream: cfg.UpstreamV3, path: "/", label: "3.0",
			upstreamPath: strings.TrimSuffix(cfg.UpstreamV3.Path, "/") + "/", window: timestampWindowV3}
	}
	p.rp = &httputil.ReverseProxy{
		Rewrite:        p.rewrite,
		Transport:      cfg.Transport,
		BufferPool:     p.buffers,
		ModifyResponse: p.modifyResponse,
		ErrorHandler:   p.upstreamFailed,
		ErrorLog:       slog.NewLogLogger(logger.Handler(), slog.LevelDebug),
	}
	return p, nil
}

// ServeHTTP handles one API call from start to finish: admission,
// re-signing, forwarding under the deadline, the answer (response.go), and
// at the end one log line and the metrics (log.go).
func (p *Proxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	c := &call{start: time.Now(), method: r.Method, client: r.RemoteAddr}
	c.id, c.idFromClient = requestID(r.Header.Get("X-Request-Id"))
	c.idHeader = []string{c.id}
	c.held.budget = p.budget
	// The first defer, so the last to run: after the answer went out and
	// after finish, which reads the body the call's result points into;
	// then the body's buffer is recycled for another call.
	defer c.held.release()
	c.w = countingWriter{ResponseWriter: w, c: c, guard: newWriteGuard(w, p.cfg.ClientWriteTimeout)}
	cw := &c.w
	defer func() {
		if c.slot {
			p.slots.release()
		}
	}()
	p.cfg.Metrics.callStarted()
	defer p.cfg.Metrics.callEnded()
	defer p.finish(c)

	// The request forwarded is the proxy's own copy, whose context carries
	// the call and is canceled when the deadline passes.
	c.clientCtx = p.traceCall(r, c)
	ctx, cancel := context.WithCancel(context.WithValue(c.clientCtx, callKey{}, c))
	defer cancel()
	in, aerr := p.admit(r.WithContext(ctx), c)
	var bridged signature.Params // a bridged call's verified parameters
	switch {
	case aerr != nil:
	case c.api.bridged:
		bridged, aerr = p.verifyBridged(in)
	case p.cfg.Signing.Mode != Passthrough:
		in, aerr = p.resign(in, c.api)
	}
	if aerr == nil {
		aerr = p.limitDirect(ctx, c, in) // a bridged call's are checked per 3.0 call
	}
	if aerr != nil {
		c.refused(aerr)
		p.writeError(cw, c, aerr)
		flush(w)
		return
	}
	c.deadline = startDeadline(p.cfg.Timeout, cancel)
	defer c.deadline.stop()
	c.forwarded()
	if c.api.bridged {
		p.serveBridged(cw, c, in, bridged)
	} else {
		p.rp.ServeHTTP(cw, in.r)
	}
	if c.outcome != outcomeClientGone && c.writeErr == nil {
		cw.guard.extend()
		flush(w)
		cw.guard.clear()
	}
}

// flush pushes what the server has buffered of the answer to the client,
// so that the log line and the metrics, written when ServeHTTP returns,
// add nothing to the client's wait.
func flush(w http.ResponseWriter) {
	if f, ok := w.(http.Flusher); ok { // the server's writer is; a writer that is not has nothing buffered to push
		f.Flush()
	}
}

// baseURL reports whether u is an absolute http(s) URL without query.
func baseURL(u *url.URL) bool {
	return u != nil && u.Host != "" && (u.Scheme == "http" || u.Scheme == "https") && u.RawQuery == ""
}

// upstreamFailed is the ReverseProxy's ErrorHandler: the upstream could
// not be reached, timed out, or broke off before the proxy could decide
// about the body. A client that hung up is sent nothing.
func (p *Proxy) upstreamFailed(w http.ResponseWriter, r *http.Request, err error) {
	c := callFrom(r.Context())
	if e := c.upstreamFailed(err, ""); e != nil {
		p.writeError(w, c, e)
	}
}
