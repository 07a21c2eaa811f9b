package main

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"strings"
	"time"

	"github.com/caarlos0/env/v11"
)

// envPrefix starts the name of every variable cdnproxy reads.
const envPrefix = "CDNPROXY_"

// config is cdnproxy's whole configuration, read from the environment
// only. The desc tag is the one-line meaning used in config.example.env
// and the README's table; a test keeps both in step with this struct.
type config struct {
	ListenAddr      string        `env:"LISTEN_ADDR" envDefault:":8080" desc:"address for API calls (host:port)"`
	AdminAddr       string        `env:"ADMIN_ADDR" envDefault:":9090" desc:"address for /healthz, /readyz, /metrics and the failures page; keep it private"`
	UpstreamURL     string        `env:"UPSTREAM_URL" envDefault:"https://cdn.api.qcloud.com" desc:"the API 2.0 base URL every call is forwarded to"`
	UpstreamTimeout time.Duration `env:"UPSTREAM_TIMEOUT" envDefault:"30s" desc:"limit for connecting, sending and getting the answer's headers and the part of the body needed to decide"`
	MaxBodyBytes    int64         `env:"MAX_BODY_BYTES" envDefault:"1048576" desc:"largest response body held for annotation; larger bodies pass through untouched"`
	MaxIdleConns    int           `env:"MAX_IDLE_CONNS" envDefault:"64" desc:"idle upstream connections kept for reuse; set near your peak concurrency"`
	Always200       bool          `env:"ALWAYS_200" envDefault:"false" desc:"answer the proxy's own errors with HTTP 200, as the API does, for clients that ignore other statuses"`
	LogLevel        string        `env:"LOG_LEVEL" envDefault:"info" desc:"debug (every call), info, warn (failed calls only) or error"`
	LogFormat       string        `env:"LOG_FORMAT" envDefault:"json" desc:"json or text"`
	ShutdownTimeout time.Duration `env:"SHUTDOWN_TIMEOUT" envDefault:"30s" desc:"how long SIGTERM waits for calls in flight before exiting"`
}

// loadConfig reads the configuration from environ (KEY=value strings) and
// checks it. Every problem is reported, each naming its variable.
func loadConfig(environ []string) (config, error) {
	var cfg config
	vars := make(map[string]string, len(environ))
	for _, kv := range environ {
		if k, v, ok := strings.Cut(kv, "="); ok {
			vars[k] = v
		}
	}
	err := env.ParseWithOptions(&cfg, env.Options{Prefix: envPrefix, Environment: vars})
	if err != nil {
		return cfg, fmt.Errorf("configuration: %w", err)
	}
	if err := cfg.validate(); err != nil {
		return cfg, fmt.Errorf("configuration: %w", err)
	}
	return cfg, nil
}

// validate checks values that parse but make no sense.
func (c config) validate() error {
	var errs []error
	bad := func(name, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s%s: "+format, append([]any{envPrefix, name}, args...)...))
	}
	for name, addr := range map[string]string{"LISTEN_ADDR": c.ListenAddr, "ADMIN_ADDR": c.AdminAddr} {
		if _, _, err := net.SplitHostPort(addr); err != nil {
			bad(name, "%q is not host:port", addr)
		}
	}
	if c.ListenAddr == c.AdminAddr {
		bad("ADMIN_ADDR", "must differ from %sLISTEN_ADDR", envPrefix)
	}
	if u, err := url.Parse(c.UpstreamURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
		bad("UPSTREAM_URL", "%q is not an http(s) base URL such as https://cdn.api.qcloud.com", c.UpstreamURL)
	}
	if c.UpstreamTimeout <= 0 {
		bad("UPSTREAM_TIMEOUT", "must be positive, got %s", c.UpstreamTimeout)
	}
	if c.MaxBodyBytes < 1024 {
		bad("MAX_BODY_BYTES", "must be at least 1024, got %d", c.MaxBodyBytes)
	}
	if c.MaxIdleConns < 1 {
		bad("MAX_IDLE_CONNS", "must be at least 1, got %d", c.MaxIdleConns)
	}
	if _, err := c.level(); err != nil {
		bad("LOG_LEVEL", "%q is not debug, info, warn or error", c.LogLevel)
	}
	if c.LogFormat != "json" && c.LogFormat != "text" {
		bad("LOG_FORMAT", "%q is not json or text", c.LogFormat)
	}
	if c.ShutdownTimeout <= 0 {
		bad("SHUTDOWN_TIMEOUT", "must be positive, got %s", c.ShutdownTimeout)
	}
	return errors.Join(errs...)
}

// level returns the slog level named by LOG_LEVEL.
func (c config) level() (slog.Level, error) {
	var l slog.Level
	err := l.UnmarshalText([]byte(c.LogLevel))
	return l, err
}
