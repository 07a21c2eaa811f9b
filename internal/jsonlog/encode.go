package jsonlog

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"math"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"
)

// encoder appends attributes to buf. sep records whether the next key must
// be preceded by a comma.
type encoder struct {
	buf []byte
	sep bool
}

// openGroups writes the start of a JSON object for each name.
func (e *encoder) openGroups(names []string) {
	for _, name := range names {
		e.appendKey(name)
		e.buf = append(e.buf, '{')
		e.sep = false
	}
}

// appendAttrs appends every attribute and reports whether any was kept.
func (e *encoder) appendAttrs(attrs []slog.Attr) bool {
	kept := false
	for _, a := range attrs {
		if e.appendAttr(a) {
			kept = true
		}
	}
	return kept
}

// appendAttr appends one attribute and reports whether it was kept. The rules
// are slog's:
//   - the value is resolved first (LogValuer);
//   - an attribute with an empty key and a nil value is dropped;
//   - a *slog.Source value becomes a group of its non-zero fields, and is
//     dropped when nil or zero;
//   - a group with no attributes writes nothing but counts as kept;
//   - a group with an empty key is inlined into the enclosing object;
//   - a group whose attributes are all dropped is removed and is not kept.
//     As in slog, the comma state is not restored then: after a keyed group,
//     the next attribute is written without its leading comma.
func (e *encoder) appendAttr(a slog.Attr) bool {
	v := a.Value
	k := v.Kind()
	if k == slog.KindLogValuer {
		v = v.Resolve()
		k = v.Kind()
	}
	if k == slog.KindAny {
		x := v.Any()
		if x == nil && a.Key == "" {
			return false
		}
		if src, ok := x.(*slog.Source); ok {
			if src == nil || *src == (slog.Source{}) {
				return false
			}
			v, k = sourceGroup(src), slog.KindGroup
		}
	}
	if k != slog.KindGroup {
		e.appendKey(a.Key)
		e.appendValue(v, k)
		return true
	}
	attrs := v.Group()
	if len(attrs) == 0 {
		return true
	}
	mark := len(e.buf)
	if a.Key != "" {
		e.appendKey(a.Key)
		e.buf = append(e.buf, '{')
		e.sep = false
	}
	if !e.appendAttrs(attrs) {
		e.buf = e.buf[:mark]
		return false
	}
	if a.Key != "" {
		e.buf = append(e.buf, '}')
		e.sep = true
	}
	return true
}

// sourceGroup returns the group slog writes for a *slog.Source attribute.
func sourceGroup(src *slog.Source) slog.Value {
	var attrs []slog.Attr
	if src.Function != "" {
		attrs = append(attrs, slog.String("function", src.Function))
	}
	if src.File != "" {
		attrs = append(attrs, slog.String("file", src.File))
	}
	if src.Line != 0 {
		attrs = append(attrs, slog.Int("line", src.Line))
	}
	return slog.GroupValue(attrs...)
}

func isEmptyGroup(v slog.Value) bool {
	return v.Kind() == slog.KindGroup && len(v.Group()) == 0
}

// appendKey appends `"key":`, preceded by a comma when needed.
func (e *encoder) appendKey(key string) {
	if e.sep {
		e.buf = append(e.buf, ',')
	}
	e.buf = append(appendString(e.buf, key), ':')
	e.sep = true
}

// appendValue appends a resolved, non-group value v of kind k.
func (e *encoder) appendValue(v slog.Value, k slog.Kind) {
	switch k {
	case slog.KindString:
		e.buf = appendString(e.buf, v.String())
	case slog.KindInt64:
		e.buf = strconv.AppendInt(e.buf, v.Int64(), 10)
	case slog.KindUint64:
		e.buf = strconv.AppendUint(e.buf, v.Uint64(), 10)
	case slog.KindFloat64:
		f := v.Float64()
		if math.IsNaN(f) || math.IsInf(f, 0) {
			// encoding/json refuses these; let it produce the error slog
			// reports.
			e.appendAny(f)
		} else {
			e.buf = appendFloat(e.buf, f)
		}
	case slog.KindBool:
		e.buf = strconv.AppendBool(e.buf, v.Bool())
	case slog.KindDuration:
		// encoding/json writes a Duration as its integer nanoseconds.
		e.buf = strconv.AppendInt(e.buf, int64(v.Duration()), 10)
	case slog.KindTime:
		e.buf = appendTime(e.buf, v.Time())
	case slog.KindAny:
		e.appendAny(v.Any())
	default:
		// Unreachable after Resolve; this is what slog would print.
		e.buf = appendString(e.buf, "!PANIC: bad kind: "+k.String())
	}
}

// appendAny appends x the way slog's JSON handler does: an error that is not
// a json.Marshaler is written as its Error() string, anything else as
// encoding/json encodes it without HTML escaping. An encoding error is
// written as an "!ERROR:" string, and a panic as "<nil>" (for a nil pointer)
// or a "!PANIC:" string.
func (e *encoder) appendAny(x any) {
	mark := len(e.buf)
	defer func() {
		r := recover()
		if r == nil {
			return
		}
		e.buf = e.buf[:mark]
		if rv := reflect.ValueOf(x); rv.Kind() == reflect.Pointer && rv.IsNil() {
			e.buf = appendString(e.buf, "<nil>")
			return
		}
		e.buf = appendString(e.buf, fmt.Sprintf("!PANIC: %v", r))
	}()

	if err, ok := x.(error); ok {
		if _, isMarshaler := x.(json.Marshaler); !isMarshaler {
			e.buf = appendString(e.buf, err.Error())
			return
		}
	}
	var err error
	if e.buf, err = appendMarshal(e.buf, x); err != nil {
		e.buf = appendString(e.buf, fmt.Sprintf("!ERROR:%v", err))
	}
}

// marshaler is a reusable JSON encoder that does not escape <, > and &.
type marshaler struct {
	out bytes.Buffer
	enc *json.Encoder
}

var marshalerPool = sync.Pool{New: func() any {
	m := new(marshaler)
	m.enc = json.NewEncoder(&m.out)
	m.enc.SetEscapeHTML(false)
	return m
}}

// appendMarshal appends the encoding/json encoding of x to b. On error b is
// returned unchanged. Panics from x's methods propagate.
func appendMarshal(b []byte, x any) ([]byte, error) {
	m := marshalerPool.Get().(*marshaler)
	m.out.Reset()
	err := m.enc.Encode(x)
	if err == nil {
		out := m.out.Bytes()
		b = append(b, out[:len(out)-1]...) // without Encode's newline
	}
	if m.out.Cap() <= maxPooledBuf {
		marshalerPool.Put(m)
	}
	return b, err
}

// appendFloat appends a finite f exactly as encoding/json encodes a float64:
// like ECMAScript, plain decimal notation unless the magnitude is below 1e-6
// or at least 1e21, and then exponent notation without a leading zero in a
// negative exponent (1e-07 becomes 1e-7).
func appendFloat(b []byte, f float64) []byte {
	abs := math.Abs(f)
	if abs >= 1e-3 && abs < 1<<30 {
		for d, p := range pow10 {
			// n/p is correctly rounded, exactly as ParseFloat would round
			// the decimal n/10^d: if it is f, that decimal represents f.
			if n := math.Round(abs * p); n/p == abs {
				return appendFixed(b, f < 0, uint64(n), d)
			}
		}
	}
	if abs == 0 || (abs >= 1e-6 && abs < 1e21) {
		return strconv.AppendFloat(b, f, 'f', -1, 64)
	}
	b = strconv.AppendFloat(b, f, 'e', -1, 64)
	// The exponent has at least two digits; drop a leading zero after '-'.
	if n := len(b); b[n-4] == 'e' && b[n-3] == '-' && b[n-2] == '0' {
		b[n-2] = b[n-1]
		b = b[:n-1]
	}
	return b
}

// pow10 are the scales tried by appendFloat's fast path.
var pow10 = [...]float64{1, 10, 100, 1000}

// appendFixed appends the decimal n/10^d, with exactly d digits after the
// point, negated if neg.
//
// appendFloat uses it for values 1e-3 <= |f| < 2^30 that are the nearest
// float64 to a decimal with at most three digits after the point, trying
// d = 0, 1, 2, 3 in turn. Such a value is what strconv (and so encoding/json)
// prints for f: the shortest decimal that rounds to f has the fewest digits
// after the point, and floats below 2^30 are less than 2^-22 apart, so at most
// one decimal with d <= 3 digits after the point rounds to f.
func appendFixed(b []byte, neg bool, n uint64, d int) []byte {
	if neg {
		b = append(b, '-')
	}
	p := uint64(pow10[d])
	b = strconv.AppendUint(b, n/p, 10)
	if d == 0 {
		return b
	}
	b = append(b, '.')
	frac := n % p
	for q := p / 10; q > 0; q /= 10 {
		b = append(b, byte('0'+frac/q%10))
	}
	return b
}

// appendTime appends t as a quoted RFC 3339 time with nanoseconds, as
// time.Time.MarshalJSON would. For a year outside [0,9999], slog first writes
// an error string and then the time anyway; so does this.
func appendTime(b []byte, t time.Time) []byte {
	if y := t.Year(); y < 0 || y >= 10000 {
		b = appendString(b, "!ERROR:time.Time year outside of range [0,9999]")
	}
	b = append(b, '"')
	b = t.AppendFormat(b, time.RFC3339Nano)
	return append(b, '"')
}

// appendLevel appends what l.String() returns, e.g. "WARN" or "INFO+2",
// without allocating.
func appendLevel(b []byte, l slog.Level) []byte {
	name, base := "ERROR", slog.LevelError
	switch {
	case l < slog.LevelInfo:
		name, base = "DEBUG", slog.LevelDebug
	case l < slog.LevelWarn:
		name, base = "INFO", slog.LevelInfo
	case l < slog.LevelError:
		name, base = "WARN", slog.LevelWarn
	}
	b = append(b, name...)
	if d := l - base; d != 0 {
		if d > 0 {
			b = append(b, '+')
		}
		b = strconv.AppendInt(b, int64(d), 10)
	}
	return b
}

// appendString appends s as a quoted JSON string, escaped as appendEscaped
// describes.
func appendString(b []byte, s string) []byte {
	b = append(b, '"')
	// Most strings are plain ASCII that needs no escaping: find out without
	// another call.
	i := 0
	for len(s)-i >= 8 && plainWord(load8(s[i:]), highs) {
		i += 8
	}
	for i < len(s) && plainASCII[s[i]] {
		i++
	}
	if i < len(s) {
		b = appendEscaped(b, s, i)
	} else {
		b = append(b, s...)
	}
	return append(b, '"')
}

// plainASCII[c] reports whether the byte c is printable ASCII other than
// '"' and '\\'. Such bytes are copied as they are. (HTML characters such as
// <, > and & are not escaped, as in slog.) plainText also accepts bytes of
// non-ASCII UTF-8 sequences, for text known to be valid.
var plainASCII, plainText = func() (ascii, text [256]bool) {
	for c := range 256 {
		ascii[c] = c >= ' ' && c < utf8.RuneSelf && c != '"' && c != '\\'
		text[c] = ascii[c] || c >= utf8.RuneSelf
	}
	return ascii, text
}()

// Word-at-a-time helpers: ones has 0x01 in every byte, highs 0x80.
const (
	ones  = 0x0101010101010101
	highs = 0x8080808080808080
)

// load8 returns s[0:8] as a little-endian word.
func load8(s string) uint64 {
	_ = s[7]
	return uint64(s[0]) | uint64(s[1])<<8 | uint64(s[2])<<16 | uint64(s[3])<<24 |
		uint64(s[4])<<32 | uint64(s[5])<<40 | uint64(s[6])<<48 | uint64(s[7])<<56
}

// plainWord reports whether none of the 8 bytes of w is a control character,
// '"' or '\\', nor, if nonASCII is highs, a byte >= 0x80 (pass 0 to accept
// those). It may wrongly say false (a borrow from a byte that matched can
// flag the byte above it), never wrongly true, which is all its callers need.
func plainWord(w, nonASCII uint64) bool {
	// below(x, n) has a high bit set if some byte of x is < n.
	below := func(x, n uint64) uint64 { return (x - n*ones) &^ x }
	return (w&nonASCII|below(w, 0x20)|below(w^('"'*ones), 1)|below(w^('\\'*ones), 1))&highs == 0
}

// plainPrefix returns the length of the longest prefix of s that can be
// copied as is: plainASCII bytes, or plainText bytes if validText is set.
func plainPrefix(s string, validText bool) int {
	table, nonASCII := &plainASCII, uint64(highs)
	if validText {
		table, nonASCII = &plainText, 0
	}
	i := 0
	for len(s)-i >= 8 && plainWord(load8(s[i:]), nonASCII) {
		i += 8
	}
	for i < len(s) && table[s[i]] {
		i++
	}
	return i
}

const hexDigits = "0123456789abcdef"

// appendEscaped appends s, whose first i bytes are known to be plain ASCII,
// with the escaping slog's JSON handler uses: '"' and '\\' get a backslash;
// \n, \r and \t use their short forms; other control characters become
// \u00XX; U+2028 and U+2029 become \u2028 and \u2029; each byte of invalid
// UTF-8 becomes \ufffd. Everything else, including DEL and valid non-ASCII
// text, is copied as is.
func appendEscaped(b []byte, s string, i int) []byte {
	// When the rest is valid UTF-8 without U+2028/U+2029, which is the usual
	// case, its non-ASCII bytes can be copied without decoding runes.
	rest := s[i:]
	validText := utf8.ValidString(rest) &&
		!strings.Contains(rest, "\u2028") && !strings.Contains(rest, "\u2029")
	done := 0 // s[:done] is in b; s[done:i] is to be copied as is
	for {
		i += plainPrefix(s[i:], validText)
		if i == len(s) {
			return append(b, s[done:]...)
		}
		c := s[i]
		size := 1
		if c >= utf8.RuneSelf {
			var r rune
			r, size = utf8.DecodeRuneInString(s[i:])
			if (r != utf8.RuneError || size > 1) && r != '\u2028' && r != '\u2029' {
				i += size // valid text: copy it later
				continue
			}
		}
		b = append(b, s[done:i]...)
		switch {
		case c >= utf8.RuneSelf && size == 1:
			b = append(b, `\ufffd`...) // one byte of invalid UTF-8
		case c >= utf8.RuneSelf:
			b = append(b, '\\', 'u', '2', '0', '2', hexDigits[s[i+2]&0xf]) // U+2028 or U+2029
		case c == '"' || c == '\\':
			b = append(b, '\\', c)
		case c == '\n':
			b = append(b, '\\', 'n')
		case c == '\r':
			b = append(b, '\\', 'r')
		case c == '\t':
			b = append(b, '\\', 't')
		default:
			b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
		}
		i += size
		done = i
	}
}
