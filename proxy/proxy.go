// Package proxy is cdnproxy's HTTP side: a reverse proxy in front of
// Tencent Cloud's CDN API that forwards each call to one configured
// upstream and annotates the API's error bodies on the way back.
//
// A call reads as a straight line through the files of this package:
// request id and call record (call.go, requestid.go) -> admission: path,
// method, size, parameters (admit.go) -> forwarding (forward.go,
// transport.go) -> response decision and annotation (response.go) -> one
// log line and the metrics (log.go). Every answer the proxy gives itself
// is built in errors.go.
package proxy

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httputil"
	"net/url"
	"strings"
	"time"

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
	// for the upstream's next bytes is bounded by Timeout again (checked
	// every half Timeout: a stalled read is cut off after between Timeout
	// and 1.5 x Timeout), so a stalled upstream cannot hold a client
	// forever. Zero means 30s.
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
	// per successful call). The lines carry no source location, even with
	// slog's AddSource: the proxy skips looking up its caller. Nil
	// discards.
	Logger *slog.Logger
	// Metrics counts every call; several Proxies may share one. Nil means
	// no metrics.
	Metrics *Metrics
	// Failures keeps the recent failed calls for the failures page;
	// several Proxies may share one. Nil means none are kept.
	Failures *Failures
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
}

// Proxy is the annotating reverse proxy. It is an http.Handler; build it
// with New.
type Proxy struct {
	cfg    Config
	rp     *httputil.ReverseProxy
	log    *slog.Logger
	v2, v3 *api // v3 is nil when UpstreamV3 is
	// v1Keys are the keys that sign and verify signature v1 calls, by
	// SecretId: the upstream's and the clients', in resign and sign mode.
	v1Keys map[string]*signature.Key
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
	if cfg.Timeout < 0 || cfg.MaxBodyBytes < 0 {
		return nil, fmt.Errorf("proxy: Timeout and MaxBodyBytes must not be negative")
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
	logger := cfg.Logger
	if logger == nil {
		logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	p := &Proxy{cfg: cfg, log: logger, v2: &api{gen: 2, upstream: cfg.Upstream, path: apiPath,
		upstreamPath: strings.TrimSuffix(cfg.Upstream.Path, "/") + apiPath, window: timestampWindow}}
	if cfg.UpstreamV3 != nil {
		p.v3 = &api{gen: 3, upstream: cfg.UpstreamV3, path: "/",
			upstreamPath: strings.TrimSuffix(cfg.UpstreamV3.Path, "/") + "/", window: timestampWindowV3}
	}
	if cfg.Signing.Mode != Passthrough {
		p.v1Keys = make(map[string]*signature.Key, len(cfg.Signing.ClientKeys)+1)
		for id, key := range cfg.Signing.ClientKeys {
			p.v1Keys[id] = signature.NewKey(key)
		}
		p.v1Keys[cfg.Signing.SecretID] = signature.NewKey(cfg.Signing.SecretKey)
	}
	p.rp = &httputil.ReverseProxy{
		Rewrite:        p.rewrite,
		Transport:      cfg.Transport,
		BufferPool:     NewBufferPool(),
		ModifyResponse: p.modifyResponse,
		ErrorHandler:   p.upstreamFailed,
		ErrorLog:       slog.NewLogLogger(logger.Handler(), slog.LevelDebug),
	}
	return p, nil
}

// ServeHTTP handles one API call from start to finish.
func (p *Proxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	c := &call{start: time.Now(), method: r.Method, client: r.RemoteAddr, clientCtx: r.Context()}
	c.id, c.idFromClient = requestID(r.Header.Get("X-Request-Id"))
	c.idValue[0] = c.id
	c.idHeader = c.idValue[:]
	c.w = countingWriter{ResponseWriter: w, c: c}
	cw := &c.w
	defer p.finish(c)
	p.cfg.Metrics.callStarted()
	defer p.cfg.Metrics.callEnded()

	in, aerr := p.admit(r, c)
	if aerr != nil {
		p.refuse(cw, c, aerr)
		flush(w)
		return
	}
	var cancel context.CancelFunc
	c.Context, cancel = context.WithCancel(r.Context())
	defer cancel()
	// The request forwarded is the proxy's own copy, carrying the call as
	// its context; re-signing changes it in place.
	req := r.WithContext(c)
	if p.cfg.Signing.Mode != Passthrough {
		in.r = req
		if req, aerr = p.resign(in); aerr != nil {
			p.refuse(cw, c, aerr)
			flush(w)
			return
		}
	}
	c.armTimer(p.cfg.Timeout, cancel)
	defer c.endTimer()
	c.upstream.start = time.Now()
	p.rp.ServeHTTP(cw, req)
	if c.outcome == outcomeClientGone {
		c.status = 499 // nginx's "client closed request", for the log only
		return
	}
	flush(w)
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

// refuse answers a call with one of the proxy's own errors.
func (p *Proxy) refuse(w http.ResponseWriter, c *call, e *apiError) {
	if c.gen == 0 {
		c.gen = 2 // not an API call at all: answer in the 2.0 shape
	}
	c.fail(e, e.message)
	w.Header()["X-Request-Id"] = c.idHeader
	writeError(w, e, c.gen, c.id, p.cfg.Always200)
}

// upstreamFailed is the ReverseProxy's ErrorHandler: the upstream could
// not be reached, timed out, or broke off before the proxy could decide
// about the body. A client that hung up is recorded as such and sent
// nothing; it is not an upstream failure.
func (p *Proxy) upstreamFailed(w http.ResponseWriter, r *http.Request, err error) {
	c := callFrom(r.Context())
	c.upstreamErr = err
	c.upstream.duration = time.Since(c.upstream.start)
	switch {
	case c.timedOut():
		p.refuse(w, c, errUpstream(true))
	case c.clientGone(r):
		c.outcome = outcomeClientGone
	default:
		p.refuse(w, c, errUpstream(false))
	}
}
