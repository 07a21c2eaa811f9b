package jsonlog

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"math/rand/v2"
	"net"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"
)

// recordTime is the fixed time of every test record.
var recordTime = time.Date(2024, 3, 9, 14, 5, 6, 789012345, time.FixedZone("CST", 8*3600))

// both calls f with a fresh slog.JSONHandler and a fresh jsonlog handler
// writing to separate buffers, and returns what each wrote.
func both(opts *slog.HandlerOptions, f func(slog.Handler)) (want, got string) {
	var wb, gb bytes.Buffer
	f(slog.NewJSONHandler(&wb, opts))
	f(NewHandler(&gb, opts))
	return wb.String(), gb.String()
}

func record(t time.Time, level slog.Level, msg string, attrs ...slog.Attr) slog.Record {
	r := slog.NewRecord(t, level, msg, 0)
	r.AddAttrs(attrs...)
	return r
}

// valuer is a LogValuer returning a fixed value.
type valuer struct{ v slog.Value }

func (v valuer) LogValue() slog.Value { return v.v }

// chain is a LogValuer that resolves to another LogValuer n times.
type chain int

func (c chain) LogValue() slog.Value {
	if c == 0 {
		return slog.StringValue("end of chain")
	}
	return slog.AnyValue(c - 1)
}

// loop is a LogValuer that never resolves to a plain value.
type loop struct{}

func (loop) LogValue() slog.Value { return slog.AnyValue(loop{}) }

// jsonErr is an error that is also a json.Marshaler: slog marshals it.
type jsonErr struct{ msg string }

func (e jsonErr) Error() string                { return "Error() " + e.msg }
func (e jsonErr) MarshalJSON() ([]byte, error) { return json.Marshal(map[string]string{"m": e.msg}) }

// ptrErr dereferences its receiver, so a nil *ptrErr panics in Error.
type ptrErr struct{ msg string }

func (e *ptrErr) Error() string { return e.msg }

// badMarshal returns invalid JSON from MarshalJSON.
type badMarshal struct{}

func (badMarshal) MarshalJSON() ([]byte, error) { return []byte("{not json"), nil }

// failMarshal returns an error from MarshalJSON.
type failMarshal struct{}

func (failMarshal) MarshalJSON() ([]byte, error) { return nil, errors.New("no <way> & \"never\"") }

// panicMarshal panics in MarshalJSON.
type panicMarshal struct{}

func (panicMarshal) MarshalJSON() ([]byte, error) { panic("boom \x01") }

// textual implements encoding.TextMarshaler.
type textual struct{ s string }

func (t textual) MarshalText() ([]byte, error) { return []byte("text:" + t.s), nil }

var edgeStrings = []string{
	"",
	"plain",
	`quote " and backslash \ and slash /`,
	"controls \x00\x01\x07\b\f\n\r\t\x1b\x1f\x7f end",
	"html <script>&amp;</script>",
	"separators \u2028 and \u2029 and \u2027\u202a",
	"invalid \xff\xfe and truncated \xe4\xb8 and lone \x80",
	"surrogate half \xed\xa0\x80",
	"overlong \xc0\xaf",
	"emoji 😀👍🏽 and flags 🇨🇳",
	"CJK (9110)没有这个域名的信息 cdn no such host",
	"\ufffd literal replacement char",
	"\U0010FFFF max rune",
	strings.Repeat("long ", 5000), // larger than the pooled buffer limit
}

var edgeFloats = []float64{
	0, math.Copysign(0, -1), 1, -1, 0.1, 0.2 + 0.1, 1.0 / 3, 12.345, 13.5,
	123456789.125, 1e-6, 9.99999e-7, 1e-7, -1e-7, 1.5e-10, 5e-324,
	1e20, 99999999999999999999, 1e21, -1e21, 1.234e22, 1e100, math.MaxFloat64,
	math.SmallestNonzeroFloat64, float64(math.MaxInt64), 1 << 53,
	math.NaN(), math.Inf(1), math.Inf(-1),
}

// kindAttrs has one attribute of every kind and many special values.
func kindAttrs() []slog.Attr {
	var as []slog.Attr
	for i, s := range edgeStrings {
		as = append(as, slog.String(fmt.Sprintf("s%d", i), s))
		as = append(as, slog.String(s, "as key"))
	}
	for i, f := range edgeFloats {
		as = append(as, slog.Float64(fmt.Sprintf("f%d", i), f))
	}
	as = append(as,
		slog.Any("f32", float32(0.1)),
		slog.Any("f32big", float32(1e22)),
		slog.Int("int", -42),
		slog.Int64("minInt", math.MinInt64),
		slog.Int64("maxInt", math.MaxInt64),
		slog.Uint64("maxUint", math.MaxUint64),
		slog.Any("uint8", uint8(200)),
		slog.Bool("t", true),
		slog.Bool("f", false),
		slog.Duration("dur", 1500*time.Millisecond),
		slog.Duration("negdur", -time.Nanosecond),
		slog.Time("time", recordTime),
		slog.Time("utc", time.Date(2001, 2, 3, 4, 5, 6, 0, time.UTC)),
		slog.Time("zeroTime", time.Time{}),
		slog.Time("monotonic", time.Now()),
		slog.Time("year0", time.Date(0, 1, 1, 0, 0, 0, 0, time.UTC)),
		slog.Time("year10000", time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)),
		slog.Time("negYear", time.Date(-5, 1, 1, 0, 0, 0, 0, time.UTC)),
		slog.Any("nil", nil),
		slog.Any("err", errors.New("it <broke> \"badly\"\n")),
		slog.Any("wrapped", fmt.Errorf("wrap: %w", io.EOF)),
		slog.Any("jsonErr", jsonErr{"x"}),
		slog.Any("nilPtrErr", (*ptrErr)(nil)),
		slog.Any("ptrErr", &ptrErr{"pointer error"}),
		slog.Any("badMarshal", badMarshal{}),
		slog.Any("failMarshal", failMarshal{}),
		slog.Any("panicMarshal", panicMarshal{}),
		slog.Any("textual", textual{"<a&b>"}),
		slog.Any("map", map[string]any{"b": 1, "a": []int{1, 2}, "c": "<&>"}),
		slog.Any("slice", []string{"x", "y\u2028"}),
		slog.Any("struct", struct {
			A int
			B string `json:"b,omitempty"`
			c bool
		}{A: 1}),
		slog.Any("nanInMap", map[string]float64{"x": math.NaN()}),
		slog.Any("chan", make(chan int)),
		slog.Any("ip", net.IPv4(10, 0, 0, 1)),
		slog.Any("level", slog.LevelWarn),
		slog.Any("kind", slog.KindGroup),
		slog.Any("bytes", []byte("raw bytes")),
		slog.Any("rawJSON", json.RawMessage(`{ "spaced" : [1, 2] }`)),
		slog.Any("source", &slog.Source{Function: "f", File: "x.go", Line: 3}),
		slog.Any("sourceLineOnly", &slog.Source{Line: 7}),
		slog.Any("emptySource", &slog.Source{}),
		slog.Any("nilSource", (*slog.Source)(nil)),
		slog.Any("valuer", valuer{slog.IntValue(7)}),
		slog.Any("valuerGroup", valuer{slog.GroupValue(slog.String("in", "side"))}),
		slog.Any("valuerEmptyGroup", valuer{slog.GroupValue()}),
		slog.Any("chain", chain(3)),
		slog.Any("loop", loop{}),
		slog.Any("", valuer{slog.StringValue("empty key valuer")}),
		slog.Any("", valuer{slog.AnyValue(nil)}),
		slog.String("", "empty key string"),
		slog.Int("", 0),
		slog.Any("", nil),
		slog.Attr{},
		slog.Group("g", slog.Int("a", 1), slog.Group("h", slog.String("b", "2"))),
		slog.Group("", slog.Int("inline1", 1), slog.Int("inline2", 2)),
		slog.Group("emptyGroup"),
		slog.Group("groupOfEmpty", slog.Group("e1"), slog.Group("")),
		slog.Group("groupOfNil", slog.Any("", nil)),
		slog.Int("afterGroupOfNil", 1),
		slog.Group("", slog.Any("", nil)),
		slog.Group("groupOfEmptyValuer", slog.Any("v", valuer{slog.GroupValue()})),
		slog.Int("afterGroupOfEmptyValuer", 1),
		slog.Group("outer", slog.Int("x", 1), slog.Group("inner", slog.Any("", nil))),
		slog.Int("afterInnerNil", 1),
		slog.Group("\"odd\nkey", slog.Float64("nan", math.NaN())),
	)
	return as
}

type testCase struct {
	name   string
	opts   *slog.HandlerOptions
	derive func(slog.Handler) slog.Handler // WithAttrs / WithGroup calls; may be nil
	rec    slog.Record
}

func testCases() []testCase {
	plain := func(attrs ...slog.Attr) slog.Record {
		return record(recordTime, slog.LevelInfo, "hello", attrs...)
	}
	with := func(calls ...any) func(slog.Handler) slog.Handler {
		return func(h slog.Handler) slog.Handler {
			for _, c := range calls {
				switch c := c.(type) {
				case string:
					h = h.WithGroup(c)
				case []slog.Attr:
					h = h.WithAttrs(c)
				default:
					panic(c)
				}
			}
			return h
		}
	}
	as := func(a ...slog.Attr) []slog.Attr { return a }

	cases := []testCase{
		{name: "no attrs", rec: plain()},
		{name: "zero time", rec: record(time.Time{}, slog.LevelInfo, "no time", slog.Int("a", 1))},
		{name: "utc time", rec: record(time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC), slog.LevelInfo, "m")},
		{name: "monotonic time", rec: record(time.Now(), slog.LevelInfo, "m")},
		{name: "local time", rec: record(time.Now().Local(), slog.LevelInfo, "m")},
		{name: "record year 12000", rec: record(time.Date(12000, 5, 1, 0, 0, 0, 0, time.UTC), slog.LevelInfo, "m")},
		{name: "all kinds", rec: plain(kindAttrs()...)},
		{name: "all kinds in groups", rec: plain(kindAttrs()...), derive: with("a", "b")},
		{name: "all kinds as WithAttrs", rec: plain(slog.Int("x", 1)),
			derive: with("pre", kindAttrs(), "post")},
		{name: "group then attrs then group then attrs", rec: plain(slog.String("r", "1"), slog.Bool("s", true)),
			derive: with(as(slog.Int("top", 1)), "g1", as(slog.Int("in1", 2)), "g2", as(slog.Int("in2", 3)), "g3")},
		{name: "open groups but record has no attrs", rec: plain(),
			derive: with(as(slog.Int("top", 1)), "g1", as(slog.Int("in1", 2)), "g2")},
		{name: "group without attrs anywhere", rec: plain(), derive: with("g")},
		{name: "group, record only nil attrs", rec: plain(slog.Any("", nil), slog.Attr{}),
			derive: with("g")},
		{name: "group, record only empty-group valuer", rec: plain(slog.Any("v", valuer{slog.GroupValue()})),
			derive: with("g")},
		{name: "WithAttrs only empty groups", rec: plain(slog.Int("a", 1)),
			derive: with("g", as(slog.Group("e"), slog.Group("f")))},
		{name: "WithAttrs only empty groups, empty record", rec: plain(),
			derive: with("g", as(slog.Group("e"), slog.Group("f")))},
		{name: "WithAttrs nothing", rec: plain(slog.Int("a", 1)), derive: with("g", as())},
		{name: "WithAttrs only dropped attrs", rec: plain(slog.Int("a", 1)),
			derive: with(as(slog.Int("x", 1)), "g", as(slog.Any("", nil)), "h")},
		{name: "WithAttrs only dropped attrs, empty record", rec: plain(),
			derive: with(as(slog.Int("x", 1)), "g", as(slog.Any("", nil)))},
		{name: "group, record only empty source", rec: plain(slog.Any("s", &slog.Source{})),
			derive: with("g")},
		{name: "WithAttrs empty-group valuer", rec: plain(slog.Int("a", 1)),
			derive: with("g", as(slog.Any("v", valuer{slog.GroupValue()})))},
		{name: "WithAttrs empty-group valuer, empty record", rec: plain(),
			derive: with("g", as(slog.Any("v", valuer{slog.GroupValue()})), "h")},
		{name: "empty group name", rec: plain(slog.Int("a", 1)), derive: with("", as(slog.Int("b", 2)), "")},
		{name: "odd group names", rec: plain(slog.Int("a", 1)), derive: with("<\"\u2028\xff>", as(slog.Int("b", 2)), "\n")},
		{name: "inline group in WithAttrs", rec: plain(slog.Int("a", 1)),
			derive: with(as(slog.Group("", slog.Int("x", 1), slog.Group("y", slog.Int("z", 2)))))},
		{name: "WithAttrs twice", rec: plain(),
			derive: with(as(slog.Int("a", 1)), as(slog.Int("b", 2)))},
		{name: "record with many attrs", rec: plain(benchAttrs...)},
		{name: "level filter at Warn", opts: &slog.HandlerOptions{Level: slog.LevelWarn},
			rec: record(recordTime, slog.LevelError, "m")},
		{name: "AddSource", opts: &slog.HandlerOptions{AddSource: true}, rec: withPC(plain(slog.Int("a", 1)))},
		{name: "AddSource without PC", opts: &slog.HandlerOptions{AddSource: true}, rec: plain(slog.Int("a", 1))},
		{name: "ReplaceAttr", opts: &slog.HandlerOptions{ReplaceAttr: func(groups []string, a slog.Attr) slog.Attr {
			if a.Key == slog.TimeKey {
				return slog.Attr{}
			}
			a.Key = strings.Join(append(groups, a.Key), ".")
			return a
		}}, rec: plain(kindAttrs()...), derive: with(as(slog.Int("x", 1)), "g")},
	}
	for l := slog.Level(-12); l <= 14; l++ {
		cases = append(cases, testCase{name: "level " + l.String(),
			rec: record(recordTime, l, "level test")})
	}
	for _, l := range []slog.Level{math.MinInt, math.MaxInt, math.MinInt32, math.MaxInt32} {
		cases = append(cases, testCase{name: fmt.Sprintf("level %d", l),
			rec: record(recordTime, l, "extreme level")})
	}
	for i, s := range edgeStrings {
		cases = append(cases, testCase{name: fmt.Sprintf("message %d", i),
			rec: record(recordTime, slog.LevelInfo, s)})
	}
	return cases
}

func withPC(r slog.Record) slog.Record {
	var pcs [1]uintptr
	runtime.Callers(1, pcs[:])
	r.PC = pcs[0]
	return r
}

func TestSameAsSlog(t *testing.T) {
	for _, tc := range testCases() {
		t.Run(tc.name, func(t *testing.T) {
			want, got := both(tc.opts, func(h slog.Handler) {
				if tc.derive != nil {
					h = tc.derive(h)
				}
				if err := h.Handle(context.Background(), tc.rec.Clone()); err != nil {
					t.Fatal(err)
				}
				// Handle again to use a buffer from the pool.
				if err := h.Handle(context.Background(), tc.rec.Clone()); err != nil {
					t.Fatal(err)
				}
			})
			if got != want {
				t.Errorf("output differs from slog.JSONHandler: %s", diff(got, want))
			}
		})
	}
}

// diff describes where got first differs from want, with some context.
func diff(got, want string) string {
	i := 0
	for i < len(got) && i < len(want) && got[i] == want[i] {
		i++
	}
	const ctx = 60
	start := max(i-ctx, 0)
	return fmt.Sprintf("at byte %d\n got: %q\nwant: %q", i,
		got[start:min(i+ctx, len(got))], want[start:min(i+ctx, len(want))])
}

// TestEmptyKeysAndGroups checks, with hand-written expectations, the slog
// rules that are easiest to get wrong, so that a change in slog itself
// shows up here too.
func TestEmptyKeysAndGroups(t *testing.T) {
	var buf bytes.Buffer
	h := NewHandler(&buf, nil).WithGroup("g")
	r := record(time.Time{}, slog.LevelInfo, "m",
		slog.String("", "kept"),
		slog.Any("", nil),
		slog.Group("", slog.Int("inl", 1)),
		slog.Any("e", errors.New("<e>")),
	)
	if err := h.Handle(context.Background(), r); err != nil {
		t.Fatal(err)
	}
	const want = `{"level":"INFO","msg":"m","g":{"":"kept","inl":1,"e":"<e>"}}` + "\n"
	if buf.String() != want {
		t.Errorf("got  %q\nwant %q", buf.String(), want)
	}
}

// TestFloat compares appendFloat with encoding/json on the edge values and
// on many random ones, in particular short decimals (appendFloat's fast
// path) around the limits of that path.
func TestFloat(t *testing.T) {
	check := func(f float64) {
		t.Helper()
		if math.IsNaN(f) || math.IsInf(f, 0) {
			return // see TestSameAsSlog
		}
		want, err := json.Marshal(f)
		if err != nil {
			t.Fatal(err)
		}
		if got := appendFloat(nil, f); string(got) != string(want) {
			t.Fatalf("appendFloat(%v) = %s, want %s", f, got, want)
		}
	}
	for _, f := range edgeFloats {
		check(f)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	for range 200_000 {
		// A decimal with up to 5 digits after the point, near the limits
		// of the fast path (1e-3 and 2^30) or anywhere between.
		var n int64
		switch rng.IntN(3) {
		case 0:
			n = rng.Int64N(100)
		case 1:
			n = 1<<30*100_000 - 1000 + rng.Int64N(2000)
		default:
			n = rng.Int64N(1 << 40)
		}
		f := float64(n) / math.Pow10(rng.IntN(6))
		check(f)
		check(-f)
		check(math.Nextafter(f, 0))
		check(math.Nextafter(f, math.Inf(1)))
		check(math.Float64frombits(rng.Uint64()))
	}
}

func TestEnabled(t *testing.T) {
	var lv slog.LevelVar
	h := NewHandler(io.Discard, &slog.HandlerOptions{Level: &lv})
	ref := slog.NewJSONHandler(io.Discard, &slog.HandlerOptions{Level: &lv})
	ctx := context.Background()
	for _, min := range []slog.Level{slog.LevelDebug, slog.LevelInfo, 3, slog.LevelError} {
		lv.Set(min)
		for l := slog.Level(-10); l < 12; l++ {
			if got, want := h.Enabled(ctx, l), ref.Enabled(ctx, l); got != want {
				t.Errorf("min %v: Enabled(%v) = %v, want %v", min, l, got, want)
			}
		}
	}
	def := NewHandler(io.Discard, nil)
	if def.Enabled(ctx, slog.LevelDebug) || !def.Enabled(ctx, slog.LevelInfo) {
		t.Error("default minimum level is not Info")
	}
}

// writeCounter records each Write separately.
type writeCounter struct {
	mu     sync.Mutex
	writes []string
}

func (w *writeCounter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.writes = append(w.writes, string(p))
	return len(p), nil
}

// TestConcurrent logs from many goroutines through handlers derived from one
// NewHandler call and checks that every record arrives whole, in one Write,
// and as slog would write it. Run with -race.
func TestConcurrent(t *testing.T) {
	var w writeCounter
	root := NewHandler(&w, nil)
	derived := []slog.Handler{
		root,
		root.WithAttrs([]slog.Attr{slog.Int("d", 1)}),
		root.WithGroup("g"),
		root.WithGroup("g").WithAttrs([]slog.Attr{slog.String("x", "y")}),
	}
	const perG = 200
	var wg sync.WaitGroup
	for i, h := range derived {
		for j := range 4 {
			wg.Go(func() {
				for k := range perG {
					r := record(recordTime, slog.LevelInfo, "concurrent",
						slog.Int("h", i), slog.Int("j", j), slog.Int("k", k),
						slog.String("big", strings.Repeat("x", k*100)))
					if err := h.Handle(context.Background(), r); err != nil {
						t.Error(err)
					}
				}
			})
		}
	}
	wg.Wait()
	if got, want := len(w.writes), len(derived)*4*perG; got != want {
		t.Fatalf("%d writes, want %d", got, want)
	}
	for _, line := range w.writes {
		if !strings.HasSuffix(line, "}\n") || strings.Count(line, "\n") != 1 || !json.Valid([]byte(line)) {
			t.Fatalf("bad line %q", line)
		}
	}
}

// errWriter fails every Write.
type errWriter struct{}

func (errWriter) Write([]byte) (int, error) { return 0, errors.New("disk full") }

func TestWriteError(t *testing.T) {
	h := NewHandler(errWriter{}, nil)
	err := h.Handle(context.Background(), record(recordTime, slog.LevelInfo, "m"))
	if err == nil || err.Error() != "disk full" {
		t.Fatalf("Handle error = %v, want disk full", err)
	}
}

// TestDerivedHandlersIndependent checks that deriving two handlers from one
// parent does not let one overwrite the other's pre-formatted attributes.
func TestDerivedHandlersIndependent(t *testing.T) {
	want, got := both(nil, func(h slog.Handler) {
		p := h.WithAttrs([]slog.Attr{slog.Int("p", 1)}).WithGroup("g")
		a := p.WithAttrs([]slog.Attr{slog.String("a", "A")})
		b := p.WithAttrs([]slog.Attr{slog.String("b", "B")})
		for _, h := range []slog.Handler{a, b, p, a} {
			h.Handle(context.Background(), record(recordTime, slog.LevelInfo, "m", slog.Int("r", 2)))
		}
	})
	if got != want {
		t.Errorf("got  %q\nwant %q", got, want)
	}
}

func TestDelegation(t *testing.T) {
	if _, ok := NewHandler(io.Discard, nil).(*handler); !ok {
		t.Error("default options should use the fast handler")
	}
	if _, ok := NewHandler(io.Discard, &slog.HandlerOptions{AddSource: true}).(*slog.JSONHandler); !ok {
		t.Error("AddSource should use slog.JSONHandler")
	}
	rep := func(_ []string, a slog.Attr) slog.Attr { return a }
	if _, ok := NewHandler(io.Discard, &slog.HandlerOptions{ReplaceAttr: rep}).(*slog.JSONHandler); !ok {
		t.Error("ReplaceAttr should use slog.JSONHandler")
	}
}

// TestAllocs checks that the benchmark record costs no allocation in the
// handler once the pools are warm.
func TestAllocs(t *testing.T) {
	h := NewHandler(io.Discard, nil).WithAttrs([]slog.Attr{slog.String("svc", "cdnproxy")}).WithGroup("call")
	r := record(recordTime, slog.LevelWarn, "call failed", benchAttrs...)
	ctx := context.Background()
	h.Handle(ctx, r)
	if n := testing.AllocsPerRun(100, func() { h.Handle(ctx, r) }); n != 0 {
		t.Errorf("Handle allocates %v times per record, want 0", n)
	}
}

// TestEscapeEveryByte puts every byte value, and a few multi-byte sequences,
// at every offset of strings longer than a machine word, so that both the
// word-at-a-time scan and the byte loop of appendEscaped are exercised.
func TestEscapeEveryByte(t *testing.T) {
	var specials []string
	for c := range 256 {
		specials = append(specials, string([]byte{byte(c)}))
	}
	specials = append(specials, "\u2028", "\u2029", "é", "没", "😀", "\xe2\x80", "\xf0\x9f\x98")
	for _, sp := range specials {
		for n := range 20 {
			for pos := 0; pos <= n; pos++ {
				s := strings.Repeat("a", pos) + sp + strings.Repeat("b", n-pos)
				want, got := both(nil, func(h slog.Handler) {
					h.Handle(context.Background(), record(time.Time{}, slog.LevelInfo, s))
				})
				if got != want {
					t.Fatalf("message %q: %s", s, diff(got, want))
				}
			}
		}
	}
}

// panicky is a LogValuer that panics.
type panicky struct{}

func (panicky) LogValue() slog.Value { panic("boom") }

// TestPanickingLogValuer checks the one documented difference: slog's error
// message for a panicking LogValuer holds a stack trace whose inner frames
// (the panicking method and Value.Resolve) agree but whose outer frames name
// the handler's own functions.
func TestPanickingLogValuer(t *testing.T) {
	want, got := both(nil, func(h slog.Handler) {
		h.Handle(context.Background(), record(time.Time{}, slog.LevelInfo, "m", slog.Any("p", panicky{}), slog.Int("next", 1)))
	})
	const resolveFrame = `called from log/slog.Value.Resolve`
	head := func(s string) string {
		i := strings.Index(s, resolveFrame)
		if i < 0 {
			t.Fatalf("no Resolve frame in %q", s)
		}
		return s[:i]
	}
	const tail = `(rest of stack elided)\n","next":1}` + "\n"
	if head(got) != head(want) || !strings.HasSuffix(got, tail) || !strings.HasSuffix(want, tail) {
		t.Errorf("got  %q\nwant %q", got, want)
	}
}
