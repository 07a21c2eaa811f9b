package jsonlog_test

import (
	"context"
	"log/slog"
	"os"
	"time"

	"github.com/cdnproxy/cdnproxy/internal/jsonlog"
)

func ExampleNewHandler() {
	// Use it wherever slog.NewJSONHandler was used.
	h := jsonlog.NewHandler(os.Stdout, &slog.HandlerOptions{Level: slog.LevelWarn})
	logger := slog.New(h).With("svc", "cdnproxy").WithGroup("call")

	logger.Info("not written: below Warn")

	// logger.LogAttrs(ctx, slog.LevelWarn, "call failed", ...) would write
	// the same line with a leading "time" key. Records with a zero time have
	// none, which keeps this example's output stable.
	r := slog.NewRecord(time.Time{}, slog.LevelWarn, "call failed", 0)
	r.AddAttrs(
		slog.String("action", "DescribeCdnHosts"),
		slog.Float64("totalMs", 13.5),
		slog.Bool("retryable", false),
		slog.Duration("after", 1500*time.Millisecond),
	)
	_ = logger.Handler().Handle(context.Background(), r)

	// Output:
	// {"level":"WARN","msg":"call failed","svc":"cdnproxy","call":{"action":"DescribeCdnHosts","totalMs":13.5,"retryable":false,"after":1500000000}}
}
