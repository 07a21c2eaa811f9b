package main

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"reflect"
	"strconv"
	"strings"
	"time"

	"github.com/caarlos0/env/v11"

	"github.com/cdnproxy/cdnproxy/proxy"
)

// envPrefix starts the name of every variable cdnproxy reads.
const envPrefix = "CDNPROXY_"

// config is cdnproxy's whole configuration, read from the environment
// only. The desc tag is the one-line meaning used in config.example.env
// and the README's table; a test keeps both in step with this struct.
type config struct {
	ListenAddr      string        `env:"LISTEN_ADDR" envDefault:":8080" desc:"address for API calls (host:port)"`
	AdminAddr       string        `env:"ADMIN_ADDR" envDefault:":9090" desc:"address for /healthz, /readyz, /metrics and the failures page; keep it private"`
	UpstreamURL     string        `env:"UPSTREAM_URL" envDefault:"https://cdn.api.qcloud.com" desc:"the API 2.0 base URL calls to /v2/index.php are forwarded to"`
	UpstreamV3URL   string        `env:"UPSTREAM_V3_URL" envDefault:"https://cdn.tencentcloudapi.com" desc:"the API 3.0 base URL calls to / are forwarded to"`
	V2Bridge        string        `env:"V2_BRIDGE" envDefault:"off" desc:"on: answer API 2.0 calls through API 3.0 at CDNPROXY_UPSTREAM_V3_URL, since Tencent retired API 2.0 on 2022-11-30 (needs resign or sign); off: forward them to CDNPROXY_UPSTREAM_URL"`
	UpstreamTimeout time.Duration `env:"UPSTREAM_TIMEOUT" envDefault:"30s" desc:"limit for connecting, sending and getting the answer's headers and the part of the body needed to decide"`
	MaxBodyBytes    int64         `env:"MAX_BODY_BYTES" envDefault:"1048576" desc:"largest response body held for annotation; larger bodies pass through untouched"`
	MemoryBudget    int64         `env:"MEMORY_BUDGET" envDefault:"268435456" desc:"bytes all calls together may hold to annotate response bodies and verify request bodies; beyond it responses pass through untouched and request bodies are refused as busy (503, retryable)"`
	MaxIdleConns    int           `env:"MAX_IDLE_CONNS" envDefault:"64" desc:"idle upstream connections kept for reuse; set near your peak concurrency"`
	Always200       bool          `env:"ALWAYS_200" envDefault:"false" desc:"answer the proxy's own errors with HTTP 200, as the API does, for clients that ignore other statuses"`
	LogLevel        string        `env:"LOG_LEVEL" envDefault:"info" desc:"debug (every call), info, warn (failed calls only) or error"`
	LogFormat       string        `env:"LOG_FORMAT" envDefault:"json" desc:"json or text"`
	ShutdownTimeout time.Duration `env:"SHUTDOWN_TIMEOUT" envDefault:"30s" desc:"how long SIGTERM waits for calls in flight before exiting"`
	FailuresSize    int           `env:"FAILURES_SIZE" envDefault:"200" desc:"how many recent failed calls the failures page keeps"`

	// Limits on load (see docs/reliability.md).
	ClientWriteTimeout time.Duration `env:"CLIENT_WRITE_TIMEOUT" envDefault:"60s" desc:"how long a write of an answer to the client may make no progress before the client is cut off and its upstream call canceled"`
	MaxInFlight        int           `env:"MAX_IN_FLIGHT" envDefault:"256" desc:"calls proxied at once; beyond it calls get an immediate busy answer (503, Retry-After, retryable)"`
	MaxUpstreamConns   int           `env:"MAX_UPSTREAM_CONNS" envDefault:"256" desc:"upstream connections to each upstream host, in use or idle"`
	MaxConns           int           `env:"MAX_CONNS" envDefault:"1024" desc:"client connections open at once; beyond it new connections wait in the listen backlog"`

	Signing         string `env:"SIGNING" envDefault:"passthrough" desc:"passthrough (forward as sent), resign (verify, then sign for the upstream) or sign (also sign unsigned calls; local development)"`
	SecretID        string `env:"SECRET_ID" desc:"upstream SecretId used to re-sign calls (resign and sign modes)"`
	SecretIDFile    string `env:"SECRET_ID_FILE,file" desc:"file holding the upstream SecretId, instead of CDNPROXY_SECRET_ID (e.g. a Docker secret)"`
	SecretKey       string `env:"SECRET_KEY" desc:"upstream SecretKey used to re-sign calls; never logged"`
	SecretKeyFile   string `env:"SECRET_KEY_FILE,file" desc:"file holding the upstream SecretKey, instead of CDNPROXY_SECRET_KEY"`
	ClientKeys      string `env:"CLIENT_KEYS" desc:"keys issued to clients instead of the upstream key: id1:key1,id2:key2"`
	ClientKeysFile  string `env:"CLIENT_KEYS_FILE,file" desc:"file holding the client keys, comma- or newline-separated id:key pairs"`
	ClientToken     string `env:"CLIENT_TOKEN" desc:"if set, every call must carry Authorization: Bearer <token>; required by sign mode on a non-loopback address"`
	ClientTokenFile string `env:"CLIENT_TOKEN_FILE,file" desc:"file holding the client token, instead of CDNPROXY_CLIENT_TOKEN"`
	TLSCertFile     string `env:"TLS_CERT_FILE" desc:"PEM certificate (chain) to serve the API port over TLS; needs CDNPROXY_TLS_KEY_FILE"`
	TLSKeyFile      string `env:"TLS_KEY_FILE" desc:"PEM private key for CDNPROXY_TLS_CERT_FILE"`

	Limits             string        `env:"LIMITS" envDefault:"off" desc:"on: keep each API 3.0 action under its rate (bridged 2.0 calls count as their 3.0 action) and purges/prefetches within the daily quotas, answering calls over them locally with Retry-After; off: no shaping"`
	RateLimits         string        `env:"RATE_LIMITS" desc:"per-action rates replacing the defaults (20/s; DescribeCdnIp 200/10m; AddCdnDomain 100/m), as action:calls/period[:burst], e.g. PurgeUrlsCache:15/s,DescribeCdnIp:200/10m:20"`
	LimitWait          time.Duration `env:"LIMIT_WAIT" envDefault:"2s" desc:"how long a call over its action's rate waits for a slot before it is answered locally with RequestLimitExceeded (4400)"`
	RedisURL           string        `env:"REDIS_URL" desc:"redis://host:6379/0 to share the rates, quota counters and the bridge's replay cache with every replica using it; unset: this replica's memory"`
	LimitsOnStoreError string        `env:"LIMITS_ON_STORE_ERROR" envDefault:"open" desc:"while Redis fails: open (this replica's in-memory limits, a warning and a metric) or closed (refuse the calls the limits check)"`
	PublicHosts        string        `env:"PUBLIC_HOSTS" desc:"the proxy's own host names (host or host:port, comma-separated) a signature may name; empty: any but another Tencent Cloud API's host"`
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
	var errs []error
	if err := env.ParseWithOptions(&cfg, env.Options{Prefix: envPrefix, Environment: vars}); err != nil {
		// The library names the Go field of a value that does not parse;
		// name the variable instead. Then read again with those
		// variables at their defaults, so that validate still reports
		// every other problem, and none about them.
		var agg env.AggregateError
		if !errors.As(err, &agg) {
			return cfg, fmt.Errorf("configuration: %w", err)
		}
		for _, e := range agg.Errors {
			var pe env.ParseError
			var fe env.LoadFileContentError
			switch {
			case errors.As(e, &pe):
				name := variableOf(pe.Name)
				errs = append(errs, fmt.Errorf("%s: %q is not a valid %s: %w", name, vars[name], pe.Type, pe.Err))
				delete(vars, name)
			case errors.As(e, &fe):
				errs = append(errs, e) // names its variable already
				delete(vars, fe.Key)
			default:
				errs = append(errs, e)
			}
		}
		cfg = config{}
		if err := env.ParseWithOptions(&cfg, env.Options{Prefix: envPrefix, Environment: vars}); err != nil {
			return cfg, fmt.Errorf("configuration: %w", errors.Join(append(errs, err)...))
		}
	}
	if err := cfg.validate(); err != nil {
		errs = append(errs, err)
	}
	if err := errors.Join(errs...); err != nil {
		return cfg, fmt.Errorf("configuration: %w", err)
	}
	return cfg, nil
}

// variableOf returns the variable a config field is read from.
func variableOf(field string) string {
	f, ok := reflect.TypeFor[config]().FieldByName(field)
	if !ok {
		return field
	}
	name, _, _ := strings.Cut(f.Tag.Get("env"), ",")
	return envPrefix + name
}

// validate checks values that parse but make no sense.
func (c config) validate() error {
	var errs []error
	bad := func(name, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s%s: "+format, append([]any{envPrefix, name}, args...)...))
	}
	for _, v := range [...]struct{ name, addr string }{{"LISTEN_ADDR", c.ListenAddr}, {"ADMIN_ADDR", c.AdminAddr}} {
		if _, port, err := net.SplitHostPort(v.addr); err != nil || !validPort(port) {
			bad(v.name, "%q is not host:port", v.addr)
		}
	}
	if c.ListenAddr == c.AdminAddr {
		bad("ADMIN_ADDR", "must differ from %sLISTEN_ADDR", envPrefix)
	}
	if !baseURL(c.UpstreamURL) {
		bad("UPSTREAM_URL", "%q is not an http(s) base URL such as https://cdn.api.qcloud.com (no user, query or fragment)", shownURL(c.UpstreamURL))
	}
	if !baseURL(c.UpstreamV3URL) {
		bad("UPSTREAM_V3_URL", "%q is not an http(s) base URL such as https://cdn.tencentcloudapi.com (no user, query or fragment)", shownURL(c.UpstreamV3URL))
	}
	if c.UpstreamTimeout <= 0 {
		bad("UPSTREAM_TIMEOUT", "must be positive, got %s", c.UpstreamTimeout)
	}
	if c.MaxBodyBytes < 1024 {
		bad("MAX_BODY_BYTES", "must be at least 1024, got %d", c.MaxBodyBytes)
	}
	if c.MemoryBudget < c.MaxBodyBytes {
		bad("MEMORY_BUDGET", "must be at least %sMAX_BODY_BYTES (%d), got %d", envPrefix, c.MaxBodyBytes, c.MemoryBudget)
	}
	if c.ClientWriteTimeout <= 0 {
		bad("CLIENT_WRITE_TIMEOUT", "must be positive, got %s", c.ClientWriteTimeout)
	}
	for _, v := range [...]struct {
		name string
		n    int
	}{{"MAX_IN_FLIGHT", c.MaxInFlight}, {"MAX_UPSTREAM_CONNS", c.MaxUpstreamConns}, {"MAX_CONNS", c.MaxConns}} {
		if v.n < 1 {
			bad(v.name, "must be at least 1, got %d", v.n)
		}
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
	if c.FailuresSize < 1 || c.FailuresSize > 100000 {
		bad("FAILURES_SIZE", "must be between 1 and 100000, got %d", c.FailuresSize)
	}
	errs = append(errs, c.validateSigning()...)
	errs = append(errs, c.validateLimits()...)
	for _, h := range c.publicHosts() {
		if strings.ContainsAny(h, "/@ ") || strings.HasPrefix(h, ":") {
			bad("PUBLIC_HOSTS", "%q is not a host or host:port", h)
		}
	}
	if (c.TLSCertFile == "") != (c.TLSKeyFile == "") {
		bad("TLS_CERT_FILE", "and %sTLS_KEY_FILE must be set together", envPrefix)
	}
	return errors.Join(errs...)
}

// validateSigning checks the signing variables. Its errors name variables
// and positions, never secret values.
func (c config) validateSigning() []error {
	var errs []error
	bad := func(name, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s%s: "+format, append([]any{envPrefix, name}, args...)...))
	}
	for _, pair := range [][2]string{{"SECRET_ID", c.SecretID}, {"SECRET_KEY", c.SecretKey}, {"CLIENT_KEYS", c.ClientKeys}, {"CLIENT_TOKEN", c.ClientToken}} {
		if pair[1] != "" && c.fileValue(pair[0]) != "" {
			bad(pair[0], "set either it or %s%s_FILE, not both", envPrefix, pair[0])
		}
	}
	if _, err := parseClientKeys(c.clientKeys()); err != nil {
		bad(c.clientKeysVar(), "%v", err)
	}
	if c.V2Bridge != "on" && c.V2Bridge != "off" {
		bad("V2_BRIDGE", "%q is not on or off", c.V2Bridge)
	}
	switch proxy.SigningMode(c.Signing) {
	case proxy.Passthrough:
		if c.V2Bridge == "on" {
			bad("V2_BRIDGE", "on needs %sSIGNING=resign or sign: the proxy signs the API 3.0 calls it makes", envPrefix)
		}
		return errs
	case proxy.Resign, proxy.Sign:
	default:
		bad("SIGNING", "%q is not passthrough, resign or sign", c.Signing)
		return errs
	}
	if c.secretID() == "" || c.secretKey() == "" {
		bad("SIGNING", "%s mode needs the upstream credential: set %sSECRET_ID and %sSECRET_KEY (or their _FILE variants)", c.Signing, envPrefix, envPrefix)
	}
	if proxy.SigningMode(c.Signing) == proxy.Sign && c.clientToken() == "" && !loopback(c.ListenAddr) {
		bad("CLIENT_TOKEN", "sign mode on %q (not a loopback address) lets anyone who reaches the port spend the account's quota: set a token, or listen on 127.0.0.1", c.ListenAddr)
	}
	return errs
}

// fileValue returns the content of the _FILE variant of a variable.
func (c config) fileValue(name string) string {
	switch name {
	case "SECRET_ID":
		return c.SecretIDFile
	case "SECRET_KEY":
		return c.SecretKeyFile
	case "CLIENT_TOKEN":
		return c.ClientTokenFile
	default:
		return c.ClientKeysFile
	}
}

// secretID, secretKey, clientKeys and clientToken return a value from the variable or
// from its file, without the trailing newline files usually have.
func (c config) secretID() string   { return strings.TrimSpace(c.SecretID + c.SecretIDFile) }
func (c config) secretKey() string  { return strings.TrimSpace(c.SecretKey + c.SecretKeyFile) }
func (c config) clientKeys() string { return strings.TrimSpace(c.ClientKeys + c.ClientKeysFile) }
func (c config) clientToken() string {
	return strings.TrimSpace(c.ClientToken + c.ClientTokenFile)
}

// clientKeysVar names the variable the client keys came from.
func (c config) clientKeysVar() string {
	if c.ClientKeysFile != "" {
		return "CLIENT_KEYS_FILE"
	}
	return "CLIENT_KEYS"
}

// parseClientKeys reads "id1:key1,id2:key2" (commas or newlines). Errors
// give the entry's position, never its text, which holds a key.
func parseClientKeys(s string) (map[string]string, error) {
	keys := make(map[string]string)
	if s == "" {
		return keys, nil
	}
	entries := strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == '\n' || r == '\r' })
	for i, entry := range entries {
		id, key, ok := strings.Cut(strings.TrimSpace(entry), ":")
		id, key = strings.TrimSpace(id), strings.TrimSpace(key)
		switch {
		case !ok || id == "" || key == "":
			return nil, fmt.Errorf("entry %d is not id:key", i+1)
		case keys[id] != "":
			return nil, fmt.Errorf("entry %d repeats an id", i+1)
		}
		keys[id] = key
	}
	return keys, nil
}

// loopback reports whether a listen address accepts only local
// connections.
func loopback(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// publicHosts returns CDNPROXY_PUBLIC_HOSTS as a list.
func (c config) publicHosts() []string {
	var hosts []string
	for _, h := range strings.Split(c.PublicHosts, ",") {
		if h = strings.TrimSpace(h); h != "" {
			hosts = append(hosts, h)
		}
	}
	return hosts
}

// signing returns the proxy's signing configuration.
func (c config) signing() proxy.Signing {
	keys, _ := parseClientKeys(c.clientKeys()) // validated by loadConfig
	return proxy.Signing{
		Mode:        proxy.SigningMode(c.Signing),
		SecretID:    c.secretID(),
		SecretKey:   c.secretKey(),
		ClientKeys:  keys,
		ClientToken: c.clientToken(),
	}
}

// baseURL reports whether s is an absolute http(s) URL without user
// information (credentials belong in the SECRET variables, not in a URL
// that gets logged), query or fragment.
func baseURL(s string) bool {
	u, err := url.Parse(s)
	return err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != "" && u.User == nil && u.RawQuery == "" && u.Fragment == ""
}

// shownURL returns a URL fit for an error message: any password in it
// replaced by "xxxxx".
func shownURL(s string) string {
	if u, err := url.Parse(s); err == nil {
		return u.Redacted()
	}
	if strings.Contains(s, "@") {
		return "(a URL with user information)"
	}
	return s
}

// validPort reports whether port is a number from 0 to 65535.
func validPort(port string) bool {
	n, err := strconv.Atoi(port)
	return err == nil && n >= 0 && n <= 65535
}

// level returns the slog level named by LOG_LEVEL.
func (c config) level() (slog.Level, error) {
	var l slog.Level
	err := l.UnmarshalText([]byte(c.LogLevel))
	return l, err
}
