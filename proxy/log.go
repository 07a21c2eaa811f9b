package proxy

import (
	"context"
	"errors"
	"log/slog"
	"net/url"
	"time"
	"unicode/utf8"
)

// finish ends a call: the metrics, the failures page, and one log line,
// at warn for a failed call and at debug for the rest. Values that come
// from clients or the upstream are cut to 1 KiB, so that no call can make
// a line longer than log pipelines carry (Docker splits at 16 KiB). The field names
// are documented in docs/logging.md and are part of cdnproxy's interface;
// change them only with it.
func (p *Proxy) finish(c *call) {
	c.settle()
	total := time.Since(c.start)
	t := c.texts()
	p.cfg.Metrics.observe(c)
	p.cfg.Limits.observe(c)
	p.cfg.Failures.record(c, &t, total)
	p.endSpan(c, &t)
	level := slog.LevelDebug
	msg := "call"
	switch {
	case c.outcome.failed():
		level, msg = slog.LevelWarn, "call failed"
	case c.outcome == outcomeClientGone:
		level, msg = slog.LevelInfo, "client hung up"
	case c.outcome == outcomeAmbiguous:
		level, msg = slog.LevelWarn, "ambiguous answer"
	}
	ctx := context.Background()
	if !p.log.Enabled(ctx, level) {
		return
	}
	attrs := make([]slog.Attr, 0, 24)
	attrs = append(attrs,
		slog.String("requestId", t.id),
	)
	if id := p.traceID(c); id != "" {
		attrs = append(attrs, slog.String("traceId", id))
	}
	attrs = append(attrs,
		slog.String("outcome", string(c.outcome)),
		slog.String("clientAddr", c.client),
		slog.String("method", c.method),
		slog.String("action", t.action),
		slog.String("api", c.apiLabel()),
	)
	if c.successor != "" {
		attrs = append(attrs, slog.String("successor", c.successor))
	}
	if c.outcome != outcomeSuccess && c.outcome != outcomePassthrough && c.outcome != outcomeClientGone && c.outcome != outcomeAmbiguous {
		r := c.result
		attrs = append(attrs, slog.String("code", t.code))
		if t.v3Code != "" {
			attrs = append(attrs, slog.String("v3Code", t.v3Code))
		}
		if r.HasModuleCode {
			attrs = append(attrs, slog.Int("moduleCode", r.ModuleCode))
		}
		attrs = append(attrs,
			slog.String("codeDesc", t.codeDesc),
			slog.String("category", string(r.Category)),
			slog.Bool("retryable", r.Retryable),
			slog.String("description", r.Description),
			slog.String("message", t.message),
		)
	}
	attrs = append(attrs,
		slog.Int("status", c.status),
		slog.Int("upstreamStatus", c.upstream.status),
		slog.Float64("upstreamMs", ms(c.upstream.duration)),
		slog.Float64("totalMs", ms(total)),
		slog.Int64("bytes", c.bytes),
		slog.String("secretId", t.secretID),
		slog.String("signing", string(p.cfg.Signing.Mode)),
	)
	if t.upstreamID != "" {
		attrs = append(attrs, slog.String("upstreamRequestId", t.upstreamID))
	}
	if c.upstreamErr != nil {
		attrs = append(attrs, slog.String("error", safeError(c.upstreamErr)))
	}
	p.log.LogAttrs(ctx, level, msg, attrs...)
}

// callTexts are the text fields that the log line and the failures page
// share, each decoded from the body (or masked) once per call and cut to
// maxFailureText. They may still point into the request (id, action);
// Failures copies those before it keeps them.
type callTexts struct {
	id, action, code, codeDesc, message, upstreamID, secretID string
	v3Code                                                    string // the 3.0 error code behind a bridged call's
}

// texts works out the call's callTexts, once it has ended.
func (c *call) texts() callTexts {
	r := c.result
	t := callTexts{id: cut(c.id), action: cut(c.action), secretID: maskSecretID(c.secretID)}
	if c.outcome != outcomeSuccess && c.outcome != outcomePassthrough && c.outcome != outcomeClientGone {
		t.code = cut(r.CodeText())
		// The proxy's own answers (refusals, upstream failures, the
		// bridge's bodies) carry their texts; an upstream body has them.
		t.codeDesc, t.message = cut(c.codeDesc), cut(c.message)
		if c.outcome == outcomeAPIError && c.message == "" {
			t.codeDesc, t.message = cut(r.CodeDesc()), cut(r.Message())
		}
		if c.api != nil && c.api.bridged {
			t.v3Code = cut(r.ErrorCode)
		}
	}
	t.upstreamID = cut(r.RequestID())
	if c.upstreamID != "" {
		t.upstreamID = cut(c.upstreamID)
	}
	return t
}

// cut returns s cut to maxFailureText bytes on a character boundary, so
// that no call can make a log line longer than log pipelines carry.
func cut(s string) string {
	if len(s) <= maxFailureText {
		return s
	}
	i := maxFailureText
	for i > 0 && !utf8.RuneStart(s[i]) {
		i--
	}
	return s[:i] + "…"
}

// ms converts a duration to milliseconds with microsecond precision.
func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// maskSecretID keeps enough of a SecretId to tell keys apart and no more:
// the first and last four characters of ids of 12 or more characters.
func maskSecretID(id string) string {
	switch {
	case id == "":
		return ""
	case len(id) < 12:
		return "****"
	default:
		return id[:4] + "****" + id[len(id)-4:]
	}
}

// safeError renders an upstream error for the log without the request URL:
// *url.Error puts the whole URL, query string and Signature included, into
// its text, so only the cause below it is kept.
func safeError(err error) string {
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	if errors.Is(err, context.Canceled) {
		return "canceled"
	}
	return err.Error()
}
