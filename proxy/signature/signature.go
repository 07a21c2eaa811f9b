// Package signature implements Tencent Cloud API "signature v1"
// (HmacSHA1 / HmacSHA256) as used by the CDN API 2.0
// (cdn.api.qcloud.com/v2/index.php) and by API 3.0 when a client signs
// with SignatureMethod HmacSHA1/HmacSHA256 (path "/"), together with a
// strict parser for application/x-www-form-urlencoded parameter lists and
// a canonical re-encoder. For API 3.0 it also implements TC3-HMAC-SHA256
// ("signature v3"; see TC3Request, ParseTC3Authorization and VerifyTC3).
//
// The package performs no I/O, keeps no state but a Key's reusable HMACs,
// and never includes a secret key in an error or panic message.
package signature

import (
	"cmp"
	"crypto/hmac"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"hash"
	"slices"
	"strconv"
	"strings"
	"sync"
)

// Param is one request parameter, name and value decoded.
//
// Name and Value hold the raw bytes after percent- and '+'-decoding; they
// are not required to be valid UTF-8.
type Param struct{ Name, Value string }

// Params is a request's parameter list in the order received.
//
// A Params returned by Parse has non-empty, unique names (see ErrDuplicate).
// Methods never mutate the receiver or its backing array.
type Params []Param

// Sentinel errors returned (wrapped, with detail) by Parse. Test with
// errors.Is. Error texts contain parameter names and byte offsets but never
// parameter values.
var (
	// ErrBadEncoding reports an invalid percent-escape (a '%' not followed
	// by two hexadecimal digits, including a '%' at the end of the input)
	// or a malformed pair (an empty parameter name, as in "=x").
	ErrBadEncoding = errors.New("signature: bad parameter encoding")

	// ErrDuplicate reports a parameter name that occurs more than once.
	// Names that differ only by '_' versus '.' (for example "urls.0" and
	// "urls_0") count as the same name, because signature v1 maps '_' to
	// '.' and the API's PHP backend maps '.' to '_': the two would collide
	// and one would silently win. We refuse the ambiguity instead.
	ErrDuplicate = errors.New("signature: duplicate parameter")

	// ErrTooLarge reports more than MaxParams parameters.
	ErrTooLarge = errors.New("signature: too many parameters")
)

// MaxParams is the largest number of parameters Parse accepts. The largest
// legitimate CDN API 2.0 request is RefreshCdnUrl with up to 1000 URLs
// (urls.0 … urls.999) plus about ten common parameters (Action, Nonce,
// Region, RequestClient, SecretId, Signature, SignatureMethod, Timestamp,
// Token, Version), so the limit leaves headroom above 1000.
const MaxParams = 1100

// Signature methods understood by Key.Sign and Key.Verify, as carried in the
// SignatureMethod request parameter.
const (
	HmacSHA1   = "HmacSHA1"
	HmacSHA256 = "HmacSHA256"
)

// Names of the common parameters this package interprets.
const (
	paramSignature       = "Signature"
	paramSignatureMethod = "SignatureMethod"
)

// Parse parses raw in application/x-www-form-urlencoded / URL query syntax
// ("a=1&b=2"), as found in a request's query string (without the leading
// '?') or urlencoded body. Rules:
//
//   - pairs are separated by '&' only (';' is an ordinary byte, as in PHP);
//     empty pairs (between "&&", or leading/trailing '&') are skipped;
//   - a pair is split at its first '='; a pair without '=' has an empty value;
//   - in names and values '+' decodes to a space and "%XY" (hex, either case)
//     to the byte 0xXY; any other '%' is ErrBadEncoding;
//   - a name that is empty after decoding is ErrBadEncoding;
//   - decoded bytes are kept as they are; non-UTF-8 is not rejected;
//   - a repeated name (with '_' and '.' treated as equal) is ErrDuplicate;
//   - more than MaxParams pairs is ErrTooLarge.
//
// The result keeps the order of the input. On error the Params is nil.
// Parse("") returns an empty, non-nil Params and no error.
func Parse(raw string) (Params, error) {
	n := strings.Count(raw, "&") + 1
	if n > MaxParams+1 {
		n = MaxParams + 1
	}
	p := make(Params, 0, n)
	for off := 0; off <= len(raw); {
		pr := nextPair(raw, off)
		off = pr.end + 1
		if pr.end == pr.start {
			continue
		}
		if len(p) == MaxParams {
			return nil, fmt.Errorf("%w: more than %d", ErrTooLarge, MaxParams)
		}
		name, err := pr.name(raw)
		if err != nil {
			return nil, err
		}
		if name == "" {
			return nil, fmt.Errorf("%w: empty parameter name at offset %d", ErrBadEncoding, pr.start)
		}
		value, err := pr.value(raw)
		if err != nil {
			return nil, fmt.Errorf("%w (value of %s)", err, quoteName(name))
		}
		p = append(p, Param{Name: name, Value: value})
	}
	if err := checkDuplicates(p); err != nil {
		return nil, err
	}
	return p, nil
}

// Lookup returns the value of the parameter called name in raw, decoded
// as Parse decodes it, without building a Params: for a look at one or two
// parameters of a call that is not otherwise parsed. A name given more
// than once (which Parse refuses) counts with its last value, the one the
// API's PHP backend reads. ok is false when no pair has the name or its
// value does not decode. Lookup does not check the rest of raw; Parse does.
func Lookup(raw, name string) (value string, ok bool) {
	found := false
	var last pair
	for off := 0; off <= len(raw); {
		// A pair's name is read byte by byte (names are short), its
		// value skipped with IndexByte, and only a pair whose name
		// matches is scanned in full (nextPair).
		i, escaped := off, false
		for ; i < len(raw) && raw[i] != '=' && raw[i] != '&'; i++ {
			if raw[i] == '%' || raw[i] == '+' {
				escaped = true
			}
		}
		if n := raw[off:i]; !escaped && n == name || escaped && decodesTo(n, off, name) {
			found, last = true, nextPair(raw, off)
		}
		end := i
		if i < len(raw) && raw[i] == '=' {
			if end = strings.IndexByte(raw[i:], '&'); end < 0 {
				end = len(raw)
			} else {
				end += i
			}
		}
		off = end + 1
	}
	if !found {
		return "", false
	}
	v, err := last.value(raw)
	return v, err == nil
}

// decodesTo reports whether the escaped name n, at offset off of its
// parameter list, decodes to name.
func decodesTo(n string, off int, name string) bool {
	d, err := unescape(n, off)
	return err == nil && d == name
}

// pair is one name=value pair of a parameter list, as offsets into it.
type pair struct {
	start, eq, end            int // eq is -1 when the pair has no '='
	nameEscaped, valueEscaped bool
}

// nextPair finds the pair that starts at off, in one pass: its end (the
// next '&' or the end of raw), its first '=', and whether either side
// has escapes to decode.
func nextPair(raw string, off int) pair {
	pr := pair{start: off, eq: -1, end: off}
	for ; pr.end < len(raw) && raw[pr.end] != '&'; pr.end++ {
		switch raw[pr.end] {
		case '=':
			if pr.eq < 0 {
				pr.eq = pr.end
			}
		case '%', '+':
			if pr.eq < 0 {
				pr.nameEscaped = true
			} else {
				pr.valueEscaped = true
			}
		}
	}
	return pr
}

// name returns the pair's name, decoded.
func (pr pair) name(raw string) (string, error) {
	n := raw[pr.start:pr.end]
	if pr.eq >= 0 {
		n = raw[pr.start:pr.eq]
	}
	if !pr.nameEscaped {
		return n, nil
	}
	return unescape(n, pr.start)
}

// value returns the pair's value, decoded; "" when it has no '='.
func (pr pair) value(raw string) (string, error) {
	if pr.eq < 0 {
		return "", nil
	}
	if !pr.valueEscaped {
		return raw[pr.eq+1 : pr.end], nil
	}
	return unescape(raw[pr.eq+1:pr.end], pr.eq+1)
}

// unescape form-decodes s ('+' → space, %XY → byte). base is the offset of
// s within the raw input, used only for error detail.
func unescape(s string, base int) (string, error) {
	i := strings.IndexAny(s, "%+")
	if i < 0 {
		return s, nil
	}
	var b strings.Builder
	b.Grow(len(s))
	b.WriteString(s[:i])
	for ; i < len(s); i++ {
		switch c := s[i]; c {
		case '+':
			b.WriteByte(' ')
		case '%':
			if i+2 >= len(s) {
				return "", fmt.Errorf("%w: truncated percent-escape at offset %d", ErrBadEncoding, base+i)
			}
			hi, ok1 := unhex(s[i+1])
			lo, ok2 := unhex(s[i+2])
			if !ok1 || !ok2 {
				return "", fmt.Errorf("%w: invalid percent-escape at offset %d", ErrBadEncoding, base+i)
			}
			b.WriteByte(hi<<4 | lo)
			i += 2
		default:
			b.WriteByte(c)
		}
	}
	return b.String(), nil
}

func unhex(c byte) (byte, bool) {
	switch {
	case '0' <= c && c <= '9':
		return c - '0', true
	case 'a' <= c && c <= 'f':
		return c - 'a' + 10, true
	case 'A' <= c && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}

// sameName reports whether a and b are equal when '_' and '.' are treated
// as the same byte.
func sameName(a, b string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := 0; i < len(a); i++ {
		x, y := a[i], b[i]
		if x == '_' {
			x = '.'
		}
		if y == '_' {
			y = '.'
		}
		if x != y {
			return false
		}
	}
	return true
}

func dupError(first, second string) error {
	if first == second {
		return fmt.Errorf("%w: %s", ErrDuplicate, quoteName(second))
	}
	return fmt.Errorf("%w: %s collides with %s ('_' and '.' are equivalent in names)",
		ErrDuplicate, quoteName(second), quoteName(first))
}

// checkDuplicates rejects repeated names (modulo '_' ≡ '.').
func checkDuplicates(p Params) error {
	if len(p) <= 32 {
		for j := 1; j < len(p); j++ {
			for i := 0; i < j; i++ {
				if sameName(p[i].Name, p[j].Name) {
					return dupError(p[i].Name, p[j].Name)
				}
			}
		}
		return nil
	}
	seen := make(map[string]int, len(p))
	for j, q := range p {
		key := strings.ReplaceAll(q.Name, "_", ".")
		if i, ok := seen[key]; ok {
			return dupError(p[i].Name, p[j].Name)
		}
		seen[key] = j
	}
	return nil
}

// quoteName renders a parameter name for an error message, shortened so a
// hostile request cannot make error texts arbitrarily long.
func quoteName(name string) string {
	const max = 64
	if len(name) > max {
		return fmt.Sprintf("%q…", name[:max])
	}
	return fmt.Sprintf("%q", name)
}

// Get returns the value of the first parameter called name (exact match)
// and whether it exists.
func (p Params) Get(name string) (string, bool) {
	for _, q := range p {
		if q.Name == name {
			return q.Value, true
		}
	}
	return "", false
}

// List returns the values of an array parameter as the 2.0 API writes
// it, name.0, name.1, … (or name_0, …: the API takes '_' and '.' in names
// alike), in index order. ok is false when an index is not a plain
// non-negative decimal number or appears twice.
func (p Params) List(name string) (values []string, ok bool) {
	type item struct {
		index int
		value string
	}
	var items []item
	for _, q := range p {
		if len(q.Name) <= len(name)+1 || !strings.HasPrefix(q.Name, name) {
			continue
		}
		if sep := q.Name[len(name)]; sep != '.' && sep != '_' {
			continue
		}
		digits := q.Name[len(name)+1:]
		i, err := strconv.Atoi(digits)
		if err != nil || i < 0 || strconv.Itoa(i) != digits {
			return nil, false
		}
		items = append(items, item{i, q.Value})
	}
	slices.SortFunc(items, func(a, b item) int { return cmp.Compare(a.index, b.index) })
	values = make([]string, len(items))
	for k, it := range items {
		if k > 0 && items[k-1].index == it.index {
			return nil, false
		}
		values[k] = it.value
	}
	return values, true
}

// With returns a copy of p in which the parameter called name (exact match)
// has the given value: replaced in place if present (further occurrences,
// which Parse never produces, are dropped), otherwise appended at the end.
// It never mutates p or p's backing array.
func (p Params) With(name, value string) Params {
	out := make(Params, 0, len(p)+1)
	found := false
	for _, q := range p {
		if q.Name == name {
			if found {
				continue
			}
			found = true
			q.Value = value
		}
		out = append(out, q)
	}
	if !found {
		out = append(out, Param{Name: name, Value: value})
	}
	return out
}

// sorted returns p stably sorted by name in byte order: p itself if it is
// already in that order (callers only read the result), else a sorted
// copy.
func (p Params) sorted() Params {
	if slices.IsSortedFunc(p, func(a, b Param) int { return cmp.Compare(a.Name, b.Name) }) {
		return p
	}
	s := slices.Clone(p)
	slices.SortStableFunc(s, func(a, b Param) int { return cmp.Compare(a.Name, b.Name) })
	return s
}

// Encode returns the canonical wire form of p: parameters sorted by name in
// byte order (stable for repeated names), name and value each escaped as by
// url.QueryEscape (space → '+', upper-case %XY), pairs as "name=value"
// joined by '&'. Every parameter is written with '=' even if its value is
// empty. For any p returned by Parse, Parse(p.Encode()) returns the same set
// of parameters, and Encode of that is identical to p.Encode().
func (p Params) Encode() string {
	n := 0
	for _, q := range p {
		n += len(q.Name) + len(q.Value) + 2
	}
	var b strings.Builder
	b.Grow(n + n/4) // room for a few escapes, such as a Signature's
	for i, q := range p.sorted() {
		if i > 0 {
			b.WriteByte('&')
		}
		queryEscape(&b, q.Name)
		b.WriteByte('=')
		queryEscape(&b, q.Value)
	}
	return b.String()
}

// queryEscape writes s escaped as url.QueryEscape escapes it: letters,
// digits and "-_.~" as they are, space as '+', every other byte as %XY.
func queryEscape(b *strings.Builder, s string) {
	const hex = "0123456789ABCDEF"
	start := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_' || c == '.' || c == '~' {
			continue
		}
		b.WriteString(s[start:i])
		if c == ' ' {
			b.WriteByte('+')
		} else {
			b.WriteByte('%')
			b.WriteByte(hex[c>>4])
			b.WriteByte(hex[c&15])
		}
		start = i + 1
	}
	b.WriteString(s[start:])
}

// appendStringToSign appends the signature-v1 string to sign that Key.Sign
// describes to dst.
func appendStringToSign(dst []byte, method, host, path string, p Params) []byte {
	n := len(method) + len(host) + len(path) + 1
	for _, q := range p {
		n += len(q.Name) + len(q.Value) + 2
	}
	dst = slices.Grow(dst, n)
	for i := 0; i < len(method); i++ {
		c := method[i]
		if 'a' <= c && c <= 'z' {
			c -= 'a' - 'A'
		}
		dst = append(dst, c)
	}
	dst = append(dst, host...)
	dst = append(dst, path...)
	dst = append(dst, '?')
	// The API leaves '@' values (multipart file references) out of the
	// string to sign for POST only: on any other method they are signed
	// like every other value, so that none can be added to a signed call.
	post := strings.EqualFold(method, "POST")
	first := true
	for _, q := range p.sorted() {
		if q.Name == paramSignature || post && strings.HasPrefix(q.Value, "@") {
			continue
		}
		if !first {
			dst = append(dst, '&')
		}
		first = false
		for i := 0; i < len(q.Name); i++ {
			if c := q.Name[i]; c == '_' {
				dst = append(dst, '.')
			} else {
				dst = append(dst, c)
			}
		}
		dst = append(dst, '=')
		dst = append(dst, q.Value...)
	}
	return dst
}

// sigLen is the longest signature v1 in Base64: a SHA-256 HMAC.
const sigLen = (sha256.Size + 2) / 3 * 4

// hashKind is the hash of a signature v1.
type hashKind int

const (
	hashSHA1 hashKind = iota
	hashSHA256
)

// newHash returns the hash p's SignatureMethod asks for.
func newHash(p Params) hashKind {
	if m, _ := p.Get(paramSignatureMethod); m == HmacSHA256 {
		return hashSHA256
	}
	return hashSHA1
}

// new returns a new hash.Hash of the kind.
func (h hashKind) new() hash.Hash {
	if h == hashSHA256 {
		return sha256.New()
	}
	return sha1.New()
}

// signBuffers lend the buffers the strings to sign are written into.
var signBuffers = sync.Pool{New: func() any { return new([]byte) }}

// appendSum writes the string to sign into mac, a keyed HMAC fresh or
// just reset, and appends its sum in Base64 to dst.
func appendSum(dst []byte, mac hash.Hash, method, host, path string, p Params) []byte {
	buf := signBuffers.Get().(*[]byte)
	*buf = appendStringToSign((*buf)[:0], method, host, path, p)
	mac.Write(*buf)
	if cap(*buf) <= 64<<10 { // a huge call's buffer is not kept
		signBuffers.Put(buf)
	}
	var sum [sha256.Size]byte
	return base64.StdEncoding.AppendEncode(dst, mac.Sum(sum[:0]))
}

// Key is a secret key ready for signature v1, the package's one way to
// sign and verify it: the HMACs keyed with it are kept for reuse, so that
// signing and verifying with it set up nothing but the string to sign. A
// Key is safe for concurrent use; build it with NewKey.
type Key struct {
	secret string
	macs   [2]sync.Pool // keyed HMACs by hashKind
}

// NewKey returns the Key of a secret key.
func NewKey(secret string) *Key { return &Key{secret: secret} }

// Sign returns the standard Base64 (padded) HMAC, keyed with the Key's
// secret, of the signature-v1 string to sign
//
//	upper(method) + host + path + "?" + n1=v1&n2=v2…
//
// over every parameter of p but Signature and, for POST only, those whose
// value starts with '@' (multipart file references), sorted by name in byte order, '_'
// in names written '.', values raw (not URL-encoded), as the official SDKs
// build it. host and path are used verbatim: path is "/v2/index.php" for
// API 2.0 and "/" for API 3.0; host keeps any port. The hash is SHA-256 if
// p's SignatureMethod is exactly "HmacSHA256"; if it is absent or anything
// else, SHA-1, as the API does. The result is the bare value; URL-encode it
// when putting it on the wire (Params.Encode does).
func (k *Key) Sign(method, host, path string, p Params) string {
	var sig [sigLen]byte
	return string(k.appendSum(sig[:0], method, host, path, p))
}

// Verify reports whether p carries a Signature parameter equal to
// k.Sign(method, host, path, p). The comparison is constant-time. A missing
// Signature yields false.
func (k *Key) Verify(method, host, path string, p Params) bool {
	got, ok := p.Get(paramSignature)
	if !ok {
		return false
	}
	var sig [sigLen]byte
	return hmac.Equal([]byte(got), k.appendSum(sig[:0], method, host, path, p))
}

// appendSum is appendSum with one of the Key's HMACs.
func (k *Key) appendSum(dst []byte, method, host, path string, p Params) []byte {
	h := newHash(p)
	mac, ok := k.macs[h].Get().(hash.Hash)
	if ok {
		mac.Reset()
	} else {
		mac = hmac.New(h.new, []byte(k.secret))
	}
	dst = appendSum(dst, mac, method, host, path, p)
	k.macs[h].Put(mac)
	return dst
}
