package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
	"runtime/pprof"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/cdnproxy/cdnproxy/internal/fakeapi"
	"github.com/cdnproxy/cdnproxy/proxy"
)

// The proxies bench can measure. plain, the reference, is an
// httputil.ReverseProxy with cdnproxy's transport and its pool of copy
// buffers (proxy.NewTransport, and fakeapi.NewBufferPool, a copy of its
// pool), and nothing else,
// so that the difference is cdnproxy's own work. Not run by default:
// plain-nopool is plain without the buffer pool (a new 32 KB copy buffer
// per call, ReverseProxy's default), and plain-default is an
// httputil.ReverseProxy as it comes: that and http.DefaultTransport (2
// idle connections per host).
var (
	allProxies     = []string{"plain", "plain-nopool", "passthrough", "resign", "plain-default", "plain-floor", "plain-floor-log"}
	defaultProxies = []string{"plain", "passthrough", "resign"}
)

// The credentials of the resign proxy: the upstream key it signs with,
// and the client key the load client signs with.
const (
	upstreamSecretID  = "AKIDbenchUpstream0000000000000000000"
	upstreamSecretKey = "benchUpstreamKey00000000000000000"
	clientSecretID    = "AKIDbenchClient00000000000000000000"
	clientSecretKey   = "benchClientKey0000000000000000000"
)

// serveChild is the hidden -serve mode: it serves one proxy to
// o.upstream on o.listen, configured as cmd/cdnproxy configures it, and
// writes "listening <addr>" to stdout once ready. It ends when stdin
// closes (the parent finished or died) or ctx ends. The upstream's CA
// arrives in SSL_CERT_FILE, as it would for cmd/cdnproxy.
func serveChild(ctx context.Context, o options, stdin io.Reader, stdout, stderr io.Writer) (err error) {
	defer func() {
		if err != nil {
			fmt.Fprintf(stdout, "error %v\n", err)
		}
	}()
	upstream, err := url.Parse(o.upstream)
	if err != nil || upstream.Host == "" {
		return fmt.Errorf("-upstream %q is not a URL", o.upstream)
	}
	logger := slog.New(slog.NewJSONHandler(stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
	h, err := newProxy(o.serve, upstream, o.concurrency, logger)
	if err != nil {
		return err
	}
	if o.cpuprofile != "" {
		f, err := os.Create(o.cpuprofile)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}
	ln, err := net.Listen("tcp", o.listen)
	if err != nil {
		return err
	}
	// The server's settings are cmd/cdnproxy's (serve.go).
	srv := &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       60 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    1 << 20,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelDebug),
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	fmt.Fprintf(stdout, "listening %s\n", ln.Addr())

	stdinClosed := make(chan struct{})
	go func() {
		_, _ = io.Copy(io.Discard, bufio.NewReader(stdin))
		close(stdinClosed)
	}()
	select {
	case <-ctx.Done():
	case <-stdinClosed:
	case err := <-errc:
		return err
	}
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil && !errors.Is(err, http.ErrServerClosed) {
		srv.Close()
	}
	return nil
}

// newProxy builds the handler for a proxy kind. cdnproxy is configured as
// cmd/cdnproxy's serve does with its defaults (JSON log at info to logger, metrics
// and the failures page, 30s timeout, 1 MiB annotation cap), with
// CDNPROXY_MAX_IDLE_CONNS set to the concurrency.
func newProxy(kind string, upstream *url.URL, maxIdle int, logger *slog.Logger) (http.Handler, error) {
	switch kind {
	case "plain":
		return &httputil.ReverseProxy{
			Rewrite:    func(pr *httputil.ProxyRequest) { pr.SetURL(upstream) },
			Transport:  proxy.NewTransport(maxIdle),
			BufferPool: fakeapi.NewBufferPool(),
		}, nil
	case "plain-nopool":
		return &httputil.ReverseProxy{
			Rewrite:   func(pr *httputil.ProxyRequest) { pr.SetURL(upstream) },
			Transport: proxy.NewTransport(maxIdle),
		}, nil
	case "plain-default":
		return &httputil.ReverseProxy{
			Rewrite: func(pr *httputil.ProxyRequest) { pr.SetURL(upstream) },
		}, nil
	case "plain-floor", "plain-floor-log":
		return newFloor(upstream, maxIdle, logger, kind == "plain-floor-log"), nil
	case "passthrough", "resign":
	default:
		return nil, fmt.Errorf("-serve: unknown proxy %q", kind)
	}
	signing := proxy.Signing{Mode: proxy.Passthrough}
	if kind == "resign" {
		signing = proxy.Signing{
			Mode:       proxy.Resign,
			SecretID:   upstreamSecretID,
			SecretKey:  upstreamSecretKey,
			ClientKeys: map[string]string{clientSecretID: clientSecretKey},
		}
	}
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return proxy.New(proxy.Config{
		Upstream:     upstream,
		Timeout:      30 * time.Second,
		MaxBodyBytes: 1 << 20,
		Transport:    proxy.NewTransport(maxIdle),
		Signing:      signing,
		Logger:       logger,
		Metrics:      proxy.NewMetrics(reg),
		Failures:     proxy.NewFailures(200, nil),
	})
}
