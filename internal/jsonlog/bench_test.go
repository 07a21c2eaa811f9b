package jsonlog

import (
	"context"
	"io"
	"log/slog"
	"testing"
	"time"
)

// benchAttrs is the attribute list of cdnproxy's failed-call log line.
var benchAttrs = []slog.Attr{
	slog.String("requestId", "3f9c2a7be1d04c5f8a6b9e0d1c2f3a4b"),
	slog.String("outcome", "api_error"),
	slog.String("clientAddr", "127.0.0.1:54321"),
	slog.String("method", "GET"),
	slog.String("action", "DescribeCdnHosts"),
	slog.String("api", "2.0"),
	slog.String("successor", "DescribeDomains"),
	slog.String("code", "4000"),
	slog.Int("moduleCode", 9110),
	slog.String("codeDesc", "9110"),
	slog.String("category", "invalid_request"),
	slog.Bool("retryable", false),
	slog.String("description", "The requested domain was not found in this account, please check the host names."),
	slog.String("message", "(9110)没有这个域名的信息 cdn no such host"),
	slog.Int("status", 200),
	slog.Int("upstreamStatus", 200),
	slog.Float64("upstreamMs", 12.345),
	slog.Float64("totalMs", 13.5),
	slog.Int64("bytes", 251),
	slog.String("secretId", "AKID****ESA"),
	slog.String("signing", "passthrough"),
}

// nopHandler accepts every record and does nothing: logging through it
// measures the cost of slog.Logger itself (caller PC, time, Record).
type nopHandler struct{}

func (nopHandler) Enabled(context.Context, slog.Level) bool  { return true }
func (nopHandler) Handle(context.Context, slog.Record) error { return nil }
func (h nopHandler) WithAttrs([]slog.Attr) slog.Handler      { return h }
func (h nopHandler) WithGroup(string) slog.Handler           { return h }

var benchHandlers = []struct {
	name string
	h    slog.Handler
}{
	{"slog", slog.NewJSONHandler(io.Discard, nil)},
	{"jsonlog", NewHandler(io.Discard, nil)},
	{"nopHandler", nopHandler{}},
}

// BenchmarkHandler logs the failed-call line through slog.Logger.LogAttrs,
// as cdnproxy does. The nopHandler case is the floor set by slog.Logger.
func BenchmarkHandler(b *testing.B) {
	if n := len(benchAttrs[12].Value.String()); n != 80 {
		b.Fatalf("description is %d bytes, want 80", n)
	}
	ctx := context.Background()
	for _, hc := range benchHandlers {
		b.Run(hc.name, func(b *testing.B) {
			logger := slog.New(hc.h)
			b.ReportAllocs()
			for b.Loop() {
				logger.LogAttrs(ctx, slog.LevelWarn, "call failed", benchAttrs...)
			}
		})
	}
}

// BenchmarkHandle calls Handle directly with a prepared record, leaving out
// slog.Logger's own cost.
func BenchmarkHandle(b *testing.B) {
	r := slog.NewRecord(time.Now(), slog.LevelWarn, "call failed", 0)
	r.AddAttrs(benchAttrs...)
	ctx := context.Background()
	for _, hc := range benchHandlers[:2] {
		b.Run(hc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				hc.h.Handle(ctx, r)
			}
		})
	}
}
