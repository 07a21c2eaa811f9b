package main

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/redis/go-redis/v9"

	"github.com/cdnproxy/cdnproxy/proxy"
)

// validateLimits checks the limits' variables (docs/limits.md).
func (c config) validateLimits() []error {
	var errs []error
	bad := func(name, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s%s: "+format, append([]any{envPrefix, name}, args...)...))
	}
	if c.Limits != "on" && c.Limits != "off" {
		bad("LIMITS", "%q is not on or off", c.Limits)
	}
	if _, err := proxy.ParseRates(c.RateLimits); err != nil {
		bad("RATE_LIMITS", "%v", err)
	}
	if c.LimitWait < 0 {
		bad("LIMIT_WAIT", "must not be negative, got %s", c.LimitWait)
	}
	if c.RedisURL != "" {
		if _, err := redis.ParseURL(c.RedisURL); err != nil {
			bad("REDIS_URL", "not a redis:// or rediss:// URL: %v", err) // the library's error names no password
		}
	}
	if c.LimitsOnStoreError != proxy.StoreErrorOpen && c.LimitsOnStoreError != proxy.StoreErrorClosed {
		bad("LIMITS_ON_STORE_ERROR", "%q is not open or closed", c.LimitsOnStoreError)
	}
	return errs
}

// limits builds the proxy's Limits from a checked configuration; nil when
// there is nothing to do (limits off and no Redis).
func (c config) limits(logger *slog.Logger, reg prometheus.Registerer) (*proxy.Limits, error) {
	if c.Limits != "on" && c.RedisURL == "" {
		return nil, nil
	}
	rates, _ := proxy.ParseRates(c.RateLimits) // checked by validateLimits
	lc := proxy.LimitsConfig{On: c.Limits == "on", Rates: rates, Wait: c.LimitWait,
		OnStoreError: c.LimitsOnStoreError, Logger: logger, Registerer: reg}
	if c.RedisURL != "" {
		opt, _ := redis.ParseURL(c.RedisURL)
		// A failing Redis must cost a call little: short timeouts, no
		// retries (the limits fall back or refuse, and try again in a second).
		opt.DialTimeout, opt.ReadTimeout, opt.WriteTimeout = time.Second, 500*time.Millisecond, 500*time.Millisecond
		opt.MaxRetries = -1
		lc.Redis = redis.NewClient(opt)
	}
	return proxy.NewLimits(lc)
}

// refreshQuotas reads the account's quotas at start, when the proxy holds
// a key; a failure is only logged (the defaults serve until the next read).
func refreshQuotas(ctx context.Context, p *proxy.Proxy, logger *slog.Logger) {
	if err := p.RefreshQuotas(ctx); err != nil {
		logger.Warn("limits: could not read the account's quotas at start", slog.String("error", err.Error()))
	}
}
