package jsonlog

import (
	"context"
	"errors"
	"log/slog"
	"math"
	"testing"
	"time"
)

// FuzzHandler builds handlers and records from the fuzz input and requires
// the output to be byte-identical to slog.JSONHandler's.
func FuzzHandler(f *testing.F) {
	f.Add("key", "value", "group", "msg", int64(42), 12.345, true)
	f.Add("", "", "", "", int64(0), 0.0, false)
	f.Add("k\"\\", "<&>\u2028\u2029\x00\x1f\x7f", "\xff\xfe", "没有 😀", int64(-1), 1e21, true)
	f.Add("a\tb\nc\rd", "\xe2\x80", "g\u2029", "\xed\xa0\x80", int64(math.MinInt64), 1e-7, false)
	f.Add("é", strings40, "", "m", int64(math.MaxInt64), math.Inf(1), true)
	f.Add("x", "y", "z", "w", int64(1e18), math.NaN(), false)
	f.Add("x", "y", "z", "w", int64(253402300800), -0.001, true) // year 10000

	f.Fuzz(func(t *testing.T, key, val, group, msg string, n int64, x float64, flag bool) {
		rec := func() slog.Record {
			tm := time.Unix(0, n).In(time.FixedZone(val, int(n%100_000)))
			if flag {
				tm = time.Unix(n/1000, 0).UTC() // may be outside years 0-9999
			}
			if n%7 == 0 {
				tm = time.Time{}
			}
			r := slog.NewRecord(tm, slog.Level(n), msg, 0)
			r.AddAttrs(
				slog.String(key, val),
				slog.Group(group,
					slog.String(val, key),
					slog.Int64(key, n),
					slog.Uint64(val, uint64(n)),
					slog.Float64(key, x),
					slog.Float64(val, math.Float64frombits(uint64(n))),
					slog.Bool(group, flag),
					slog.Duration(msg, time.Duration(n)),
					slog.Time(key, time.Unix(n%(1<<40), n%1e9).UTC()),
					slog.Group(key, slog.String("", val), slog.Any(val, nil)),
					slog.Group("", slog.String(msg, group)),
				),
				slog.Any(val, errors.New(msg)),
				slog.Any(key, []any{val, x, n, flag}),
				slog.Any(msg, map[string]string{key: val}),
				slog.Any(group, valuer{slog.StringValue(val)}),
			)
			return r
		}
		derive := func(h slog.Handler) slog.Handler {
			h = h.WithAttrs([]slog.Attr{slog.String(group, msg), slog.Float64(val, x)})
			h = h.WithGroup(group)
			if flag {
				h = h.WithAttrs([]slog.Attr{slog.Group(key, slog.String(val, msg))})
				h = h.WithGroup(key)
			}
			return h
		}
		want, got := both(nil, func(h slog.Handler) {
			h = derive(h)
			h.Handle(context.Background(), rec())
			// A record with no attributes: groups stay closed.
			h.Handle(context.Background(), slog.NewRecord(time.Time{}, slog.LevelInfo, val, 0))
		})
		if got != want {
			t.Fatalf("output differs from slog.JSONHandler: %s", diff(got, want))
		}
	})
}

const strings40 = "0123456789abcdefghijklmnopqrstuvwxyz\"\\\n\t"
