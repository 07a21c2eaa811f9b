package main

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"runtime/debug"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/cdnproxy/cdnproxy/proxy"
)

// serve runs the proxy and the admin listener until ctx ends, then drains:
// /readyz turns 503, the listeners close, and calls in flight get up to
// ShutdownTimeout to finish.
func serve(ctx context.Context, cfg config, stdout io.Writer, tr tracing) error {
	logger := newLogger(cfg, stdout)
	// After the drain, so that the last calls' spans are exported too.
	defer tr.shutdown(logger)

	upstream, _ := url.Parse(cfg.UpstreamURL)     // validated by loadConfig
	upstreamV3, _ := url.Parse(cfg.UpstreamV3URL) // likewise
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	if _, set := os.LookupEnv("GOMEMLIMIT"); !set {
		// The budget bounds the bytes calls hold, not the garbage they
		// leave: without a limit the collector lets a burst of annotated
		// bodies grow the heap to several times the budget.
		debug.SetMemoryLimit(cfg.MemoryBudget + memoryOverhead)
	}
	failures := proxy.NewFailures(cfg.FailuresSize, nil)
	limits, err := cfg.limits(logger, reg)
	if err != nil {
		return err
	}
	transport := upstreamTransport(cfg)
	p, err := proxy.New(proxy.Config{
		Upstream:     upstream,
		UpstreamV3:   upstreamV3,
		Timeout:      cfg.UpstreamTimeout,
		MaxBodyBytes: cfg.MaxBodyBytes,
		Always200:    cfg.Always200,
		Transport:    transport,
		Signing:      cfg.signing(),
		Logger:       logger,
		Metrics:      proxy.NewMetrics(reg),
		Failures:     failures,
		BridgeV2:     cfg.V2Bridge == "on",
		Limits:       limits,
		PublicHosts:  cfg.publicHosts(),
		MemoryBudget: cfg.MemoryBudget,

		// The limits on load (see docs/reliability.md).
		ClientWriteTimeout: cfg.ClientWriteTimeout,
		MaxInFlight:        cfg.MaxInFlight,

		TracerProvider: tr.tracerProvider(), // OTEL_* variables (tracing.go)
	})
	if err != nil {
		return err
	}
	if cfg.V2Bridge == "off" && upstream.Hostname() == retiredV2Host {
		logger.Warn("API 2.0 calls go to "+retiredV2Host+", which Tencent retired on 2022-11-30 and no longer serves; "+
			"set "+envPrefix+"V2_BRIDGE=on to answer them through API 3.0", "upstream", cfg.UpstreamURL)
	}
	if tr.endpoint != nil {
		logger.Info("cdnproxy exports traces over OTLP", "endpoint", tr.endpoint.Redacted())
	}
	var ready atomic.Bool
	admin := proxy.Admin(proxy.AdminConfig{
		Ready:    ready.Load,
		Metrics:  promhttp.HandlerFor(reg, promhttp.HandlerOpts{ErrorLog: slog.NewLogLogger(logger.Handler(), slog.LevelError)}),
		Failures: failures,
		Limits:   limits,
	})
	if cfg.Limits == "on" && cfg.signing().Mode != proxy.Passthrough {
		go refreshQuotas(ctx, p, logger)
	}

	apiLn, err := apiListener(cfg, logger)
	if err != nil {
		return err
	}
	adminLn, err := net.Listen("tcp", cfg.AdminAddr)
	if err != nil {
		apiLn.Close()
		return fmt.Errorf("%sADMIN_ADDR: %w", envPrefix, err)
	}
	errorLog := slog.NewLogLogger(logger.Handler(), slog.LevelDebug)
	apiSrv := apiServer(p, errorLog)
	adminSrv := &http.Server{
		Handler:           admin,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       10 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       60 * time.Second,
		ErrorLog:          errorLog,
	}
	errc := make(chan error, 2)
	go func() { errc <- apiSrv.Serve(apiLn) }()
	go func() { errc <- adminSrv.Serve(adminLn) }()
	ready.Store(true)
	logger.Info("cdnproxy started", "listen", apiLn.Addr().String(), "admin", adminLn.Addr().String(),
		"upstream", upstream.Redacted(), "upstreamV3", upstreamV3.Redacted(), "signing", cfg.Signing, "tls", cfg.TLSCertFile != "")

	select {
	case <-ctx.Done():
	case err := <-errc:
		apiSrv.Close()
		adminSrv.Close()
		return fmt.Errorf("listener failed: %w", err)
	}
	ready.Store(false)
	logger.Info("cdnproxy draining", "timeout", cfg.ShutdownTimeout.String())
	sctx, cancel := context.WithTimeout(context.Background(), cfg.ShutdownTimeout)
	defer cancel()
	err = apiSrv.Shutdown(sctx)
	adminSrv.Close()
	if err != nil && !errors.Is(err, http.ErrServerClosed) {
		apiSrv.Close()
		return fmt.Errorf("calls still in flight after %s: %w", cfg.ShutdownTimeout, err)
	}
	logger.Info("cdnproxy stopped")
	return nil
}

// upstreamTransport is the transport to the upstream: cfg.MaxIdleConns
// idle connections, and at most cfg.MaxUpstreamConns to each upstream
// host, in use or idle (calls beyond it wait for one).
func upstreamTransport(cfg config) *http.Transport {
	t := proxy.NewTransport(cfg.MaxIdleConns)
	t.MaxConnsPerHost = cfg.MaxUpstreamConns
	return t
}

// apiListener listens on cfg.ListenAddr for API calls: over TLS when
// cfg.TLSCertFile is set, refusing conflicting framing (framing.go), and
// capped at cfg.MaxConns connections (listener.go). Errors name the
// variable at fault.
func apiListener(cfg config, logger *slog.Logger) (net.Listener, error) {
	ln, err := net.Listen("tcp", cfg.ListenAddr)
	if err != nil {
		return nil, fmt.Errorf("%sLISTEN_ADDR: %w", envPrefix, err)
	}
	if cfg.TLSCertFile != "" {
		cert, err := tls.LoadX509KeyPair(cfg.TLSCertFile, cfg.TLSKeyFile)
		if err != nil {
			ln.Close()
			return nil, fmt.Errorf("%sTLS_CERT_FILE, %sTLS_KEY_FILE: %w", envPrefix, envPrefix, err)
		}
		// HTTP/1.1 only, no "h2": the framing check below reads
		// HTTP/1.1 framing, and HTTP/2 would bypass it.
		ln = tls.NewListener(ln, &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12, NextProtos: []string{"http/1.1"}})
	}
	ln = refuseConflictingFraming(ln) // see framing.go
	return newLimitListener(ln, cfg.MaxConns, logger), nil
}

// apiServer serves API calls to h on apiListener's connections. Handlers
// see Request.TLS on TLS connections although they arrive wrapped (see
// tlsstate.go).
func apiServer(h http.Handler, errorLog *log.Logger) *http.Server {
	return withTLSState(&http.Server{
		Handler:           h,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       60 * time.Second, // a 1 MB form body has a minute
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    1 << 20,
		ErrorLog:          errorLog,
	})
}

// memoryOverhead is what the process is allowed beyond the memory budget
// before the collector works harder (the Go soft memory limit; GOMEMLIMIT
// overrides it): the runtime, and each call's fixed buffers.
const memoryOverhead = 256 << 20

// retiredV2Host is the API 2.0 host, retired on 2022-11-30.
const retiredV2Host = "cdn.api.qcloud.com"

// newLogger returns the logger for cfg's level and format, writing to w.
func newLogger(cfg config, w io.Writer) *slog.Logger {
	level, _ := cfg.level() // validated by loadConfig
	opts := &slog.HandlerOptions{Level: level}
	if cfg.LogFormat == "text" {
		return slog.New(slog.NewTextHandler(w, opts))
	}
	return slog.New(slog.NewJSONHandler(w, opts))
}

// healthcheck asks the admin listener's /healthz and fails unless it
// answers 200. It lets a minimal container image (no curl) check itself.
func healthcheck(ctx context.Context, environ []string) error {
	cfg, err := loadConfig(environ)
	if err != nil {
		return err
	}
	host, port, _ := net.SplitHostPort(cfg.AdminAddr)
	if host == "" || host == "0.0.0.0" || host == "::" {
		host = "127.0.0.1"
	}
	ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+net.JoinHostPort(host, port)+"/healthz", nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("healthcheck: %w", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("healthcheck: /healthz answered %s", resp.Status)
	}
	return nil
}
