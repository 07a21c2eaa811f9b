package signature

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// TC3-HMAC-SHA256 ("signature v3"), as described in
// docs/reference/cdn-api-v3.md §2.1–2.3:
//
//	CanonicalRequest = METHOD \n "/" \n query \n name:value\n… \n a;b \n hex(sha256(payload))
//	StringToSign     = "TC3-HMAC-SHA256" \n timestamp \n date/service/tc3_request \n hex(sha256(CanonicalRequest))
//	kSigning         = HMAC(HMAC(HMAC("TC3"+secretKey, date), service), "tc3_request")
//	Signature        = hex(HMAC(kSigning, StringToSign))

// TC3Algorithm is "TC3-HMAC-SHA256", the algorithm name that starts a TC3
// Authorization header and the first line of its string to sign.
const TC3Algorithm = "TC3-HMAC-SHA256"

const (
	tc3Terminator    = "tc3_request"
	tc3DateLayout    = "2006-01-02"
	tc3UnsignedValue = "UNSIGNED-PAYLOAD"
)

// Header is one HTTP header as received: name (any case) and value.
type Header struct{ Name, Value string }

// TC3Request is what a TC3 signature covers.
//
// The canonical request built from it is:
//
//   - Method, upper-cased;
//   - the canonical URI, always "/" (API 3.0 has no other path);
//   - Query as received (no re-encoding) when Method is not POST, "" for POST;
//   - for each name of SignedHeaders, lower-cased and sorted in byte order,
//     "name:value\n" where value is that of the first header in Headers
//     whose Name matches case-insensitively, or "" if there is none, with
//     leading and trailing spaces and tabs removed and ASCII letters
//     lower-cased (other bytes are kept as they are);
//   - the same lower-cased, sorted names joined with ';';
//   - the lower-case hex SHA-256 of Payload, or of the literal
//     "UNSIGNED-PAYLOAD" if UnsignedPayload is set.
type TC3Request struct {
	Method          string   // GET or POST (upper-cased when signing)
	Query           string   // the raw query string as received, without '?' ("" for POST)
	Headers         []Header // the headers named in SignedHeaders, with their values as received (Host included: pass the Host header value, e.g. "127.0.0.1:8080")
	SignedHeaders   []string // lower-case names in the order of the Authorization header, e.g. ["content-type","host"]
	Payload         []byte   // the raw body as received (nil/empty for GET)
	Service         string   // "cdn" normally; the Node SDK uses the first label of its endpoint
	Timestamp       int64    // X-TC-Timestamp
	UnsignedPayload bool     // X-TC-Content-SHA256: UNSIGNED-PAYLOAD was sent: hash the literal "UNSIGNED-PAYLOAD"
}

// TC3Auth is a parsed Authorization header. Every TC3Auth returned by
// ParseTC3Authorization has non-empty fields, a Date that is a valid
// calendar date, SignedHeaders that are distinct lower-case header names
// including "host", and a Signature of 64 lower-case hex digits.
type TC3Auth struct {
	SecretID      string
	Date          string // YYYY-MM-DD from the credential scope
	Service       string
	SignedHeaders []string // in the order of the header
	Signature     string   // lower-case hex
}

// ErrBadAuthorization reports an Authorization header that is not a
// well-formed TC3-HMAC-SHA256 header. ParseTC3Authorization wraps it with
// detail naming the faulty part; the detail never includes the header's
// values (secret id, signature) and no secret key is ever involved.
var ErrBadAuthorization = errors.New("signature: bad TC3 Authorization header")

func badAuth(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrBadAuthorization}, args...)...)
}

// ParseTC3Authorization parses
//
//	TC3-HMAC-SHA256 Credential=<id>/<date>/<service>/tc3_request, SignedHeaders=a;b, Signature=<hex>
//
// Leading and trailing spaces and tabs are ignored; the algorithm is
// followed by one or more spaces; the three members may come in any order,
// each exactly once, separated by ',' with any number of spaces or tabs
// (including none) around it. Anything else is ErrBadAuthorization, in
// particular: another algorithm; unknown, repeated or empty members; a
// credential that is not four '/'-separated parts ending in "tc3_request";
// a date that is not a valid YYYY-MM-DD; an empty secret id or service; a
// secret id or service containing spaces, control bytes, non-ASCII bytes,
// ',' or ';'; signed header names that are empty, repeated, not lower-case
// HTTP tokens, or that do not include "host"; a signature that is not 64
// lower-case hex digits.
func ParseTC3Authorization(h string) (TC3Auth, error) {
	h = strings.Trim(h, " \t")
	rest, ok := strings.CutPrefix(h, TC3Algorithm)
	if !ok {
		return TC3Auth{}, badAuth("algorithm is not %s", TC3Algorithm)
	}
	trimmed := strings.TrimLeft(rest, " ")
	if len(trimmed) == len(rest) || trimmed == "" {
		return TC3Auth{}, badAuth("no space and members after the algorithm")
	}
	rest = trimmed
	var a TC3Auth
	var seen [3]bool
	for i, member := range strings.Split(rest, ",") {
		if i == len(seen) {
			return TC3Auth{}, badAuth("more than three members")
		}
		member = strings.Trim(member, " \t")
		key, value, ok := strings.Cut(member, "=")
		if !ok || value == "" {
			return TC3Auth{}, badAuth("member %d is not key=value", i+1)
		}
		var idx int
		var err error
		switch key {
		case "Credential":
			idx = 0
			a.SecretID, a.Date, a.Service, err = parseCredential(value)
		case "SignedHeaders":
			idx = 1
			a.SignedHeaders, err = parseSignedHeaders(value)
		case "Signature":
			idx = 2
			if !isLowerHex(value, sha256.Size*2) {
				err = badAuth("Signature is not %d lower-case hex digits", sha256.Size*2)
			}
			a.Signature = value
		default:
			return TC3Auth{}, badAuth("member %d has an unknown key", i+1)
		}
		if err != nil {
			return TC3Auth{}, err
		}
		if seen[idx] {
			return TC3Auth{}, badAuth("%s given twice", key)
		}
		seen[idx] = true
	}
	for i, name := range [...]string{"Credential", "SignedHeaders", "Signature"} {
		if !seen[i] {
			return TC3Auth{}, badAuth("missing %s", name)
		}
	}
	return a, nil
}

func parseCredential(v string) (id, date, service string, err error) {
	parts := strings.Split(v, "/")
	if len(parts) != 4 {
		return "", "", "", badAuth("Credential is not <id>/<date>/<service>/%s", tc3Terminator)
	}
	if parts[3] != tc3Terminator {
		return "", "", "", badAuth("credential scope does not end in %s", tc3Terminator)
	}
	id, date, service = parts[0], parts[1], parts[2]
	if !isScopeToken(id) {
		return "", "", "", badAuth("Credential secret id is empty or has a forbidden byte")
	}
	if !isTC3Date(date) {
		return "", "", "", badAuth("credential date is not a valid YYYY-MM-DD")
	}
	if !isScopeToken(service) {
		return "", "", "", badAuth("credential service is empty or has a forbidden byte")
	}
	return id, date, service, nil
}

// isScopeToken reports whether s is non-empty printable ASCII without
// spaces, ',' or ';' (and, as it comes from a '/'-split, without '/').
func isScopeToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; c <= ' ' || c >= 0x7f || c == ',' || c == ';' || c == '/' {
			return false
		}
	}
	return true
}

func isTC3Date(s string) bool {
	if len(s) != len(tc3DateLayout) {
		return false
	}
	_, err := time.Parse(tc3DateLayout, s)
	return err == nil
}

func parseSignedHeaders(v string) ([]string, error) {
	names := strings.Split(v, ";")
	hasHost := false
	for i, n := range names {
		if !isLowerToken(n) {
			return nil, badAuth("SignedHeaders entry %d is not a lower-case header name", i+1)
		}
		if slices.Contains(names[:i], n) {
			return nil, badAuth("SignedHeaders names %s twice", quoteName(n))
		}
		hasHost = hasHost || n == "host"
	}
	if !hasHost {
		return nil, badAuth("SignedHeaders does not include host")
	}
	return names, nil
}

// isLowerToken reports whether s is a non-empty HTTP token (RFC 9110
// tchar) without upper-case letters.
func isLowerToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case 'a' <= c && c <= 'z', '0' <= c && c <= '9':
		case strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0:
		default:
			return false
		}
	}
	return true
}

func isLowerHex(s string, n int) bool {
	if len(s) != n {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}

// tc3Names returns the signed header names lower-cased and sorted, and the
// SignedHeaders line (them joined with ';').
func tc3Names(signed []string) ([]string, string) {
	names := make([]string, len(signed))
	for i, n := range signed {
		names[i] = strings.ToLower(n)
	}
	slices.Sort(names)
	return names, strings.Join(names, ";")
}

// lookupHeader returns the value of the first header called name (compared
// case-insensitively) and how many headers have that name.
func lookupHeader(hs []Header, name string) (value string, n int) {
	for _, h := range hs {
		if strings.EqualFold(h.Name, name) {
			if n == 0 {
				value = h.Value
			}
			n++
		}
	}
	return value, n
}

// canonicalHeaderValue trims spaces and tabs and lower-cases ASCII letters.
func canonicalHeaderValue(v string) string {
	v = strings.Trim(v, " \t")
	for i := 0; i < len(v); i++ {
		if c := v[i]; 'A' <= c && c <= 'Z' {
			b := []byte(v)
			for j := i; j < len(b); j++ {
				if c := b[j]; 'A' <= c && c <= 'Z' {
					b[j] = c + 'a' - 'A'
				}
			}
			return string(b)
		}
	}
	return v
}

// tc3CanonicalRequest returns the canonical request of r (see TC3Request).
func tc3CanonicalRequest(r TC3Request) string {
	names, line := tc3Names(r.SignedHeaders)
	method := strings.ToUpper(r.Method)
	query := r.Query
	if method == "POST" {
		query = ""
	}
	var payloadHash [sha256.Size]byte
	if r.UnsignedPayload {
		payloadHash = sha256.Sum256([]byte(tc3UnsignedValue))
	} else {
		payloadHash = sha256.Sum256(r.Payload)
	}

	var b strings.Builder
	n := len(method) + len(query) + len(line) + 2*sha256.Size + 8
	for _, h := range r.Headers {
		n += len(h.Name) + len(h.Value) + 2
	}
	b.Grow(n)
	b.WriteString(method)
	b.WriteString("\n/\n")
	b.WriteString(query)
	b.WriteByte('\n')
	for _, name := range names {
		v, _ := lookupHeader(r.Headers, name)
		b.WriteString(name)
		b.WriteByte(':')
		b.WriteString(canonicalHeaderValue(v))
		b.WriteByte('\n')
	}
	b.WriteByte('\n')
	b.WriteString(line)
	b.WriteByte('\n')
	var hx [2 * sha256.Size]byte
	hex.Encode(hx[:], payloadHash[:])
	b.Write(hx[:])
	return b.String()
}

// tc3Date returns the UTC date (YYYY-MM-DD) of the Unix time ts.
func tc3Date(ts int64) string {
	return time.Unix(ts, 0).UTC().Format(tc3DateLayout)
}

func tc3Scope(date, service string) string {
	return date + "/" + service + "/" + tc3Terminator
}

// tc3StringToSign returns
//
//	TC3-HMAC-SHA256 \n Timestamp \n date/Service/tc3_request \n hex(sha256(tc3CanonicalRequest(r)))
//
// where date is the credential-scope date, the UTC date (YYYY-MM-DD) of
// r.Timestamp.
func tc3StringToSign(r TC3Request, date string) string {
	sum := sha256.Sum256([]byte(tc3CanonicalRequest(r)))
	return TC3Algorithm + "\n" + strconv.FormatInt(r.Timestamp, 10) + "\n" +
		tc3Scope(date, r.Service) + "\n" + hex.EncodeToString(sum[:])
}

func hmacSHA256(key []byte, msg string) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(msg))
	return m.Sum(nil)
}

// tc3SigningKey derives kSigning for date and service.
func tc3SigningKey(secretKey, date, service string) []byte {
	k := hmacSHA256([]byte("TC3"+secretKey), date)
	k = hmacSHA256(k, service)
	return hmacSHA256(k, tc3Terminator)
}

// tc3SignWithKey returns the lower-hex HMAC of stringToSign keyed with a
// derived signing key.
func tc3SignWithKey(kSigning []byte, stringToSign string) string {
	return hex.EncodeToString(hmacSHA256(kSigning, stringToSign))
}

// tc3Signature returns the lower-case hex TC3-HMAC-SHA256 signature of r
// with secretKey, the credential-scope date being the UTC date of
// r.Timestamp.
func tc3Signature(secretKey string, r TC3Request) string {
	date := tc3Date(r.Timestamp)
	return tc3SignWithKey(tc3SigningKey(secretKey, date, r.Service), tc3StringToSign(r, date))
}

// TC3Authorization returns the full Authorization header value for
// secretID/secretKey:
//
//	TC3-HMAC-SHA256 Credential=<secretID>/<date>/<service>/tc3_request, SignedHeaders=<a;b>, Signature=<hex>
//
// with SignedHeaders lower-cased and sorted, as in the canonical request.
// The result parses with ParseTC3Authorization whenever secretID and
// r.Service are valid scope tokens and r.SignedHeaders are distinct tokens
// including "host".
func TC3Authorization(secretID, secretKey string, r TC3Request) string {
	_, line := tc3Names(r.SignedHeaders)
	return TC3Algorithm + " Credential=" + secretID + "/" + tc3Scope(tc3Date(r.Timestamp), r.Service) +
		", SignedHeaders=" + line + ", Signature=" + tc3Signature(secretKey, r)
}

// VerifyTC3 reports whether auth.Signature matches the TC3-HMAC-SHA256
// signature of r with secretKey (compared in constant time), where r.Service and r.SignedHeaders are
// taken from auth (the caller's values are ignored), and the
// credential-scope date auth.Date equals the UTC date of r.Timestamp.
//
// As a defence against ambiguous requests it also reports false, without
// computing anything, if auth.Service is empty, auth.SignedHeaders does not
// include "host", a signed header occurs more than once in r.Headers, or a
// signed header value or r.Query contains CR or LF (net/http never delivers
// such values, so only hand-built requests are affected).
//
// VerifyTC3 does not check how far r.Timestamp is from the current time;
// the caller enforces the API's 5-minute window.
func VerifyTC3(secretKey string, auth TC3Auth, r TC3Request) bool {
	if auth.Service == "" || !slices.Contains(auth.SignedHeaders, "host") ||
		strings.ContainsAny(r.Query, "\r\n") || auth.Date != tc3Date(r.Timestamp) {
		return false
	}
	for _, name := range auth.SignedHeaders {
		v, n := lookupHeader(r.Headers, name)
		if n > 1 || strings.ContainsAny(v, "\r\n") {
			return false
		}
	}
	r.Service = auth.Service
	r.SignedHeaders = auth.SignedHeaders
	want := tc3Signature(secretKey, r)
	return hmac.Equal([]byte(auth.Signature), []byte(want))
}

// TC3Key signs calls with TC3-HMAC-SHA256 for one credential. It keeps the
// signing key it derived for the last date and service it signed for, so
// that a stream of calls on one day pays for the three HMACs of the key
// derivation once. It is safe for concurrent use.
type TC3Key struct {
	id, secret string

	mu      sync.Mutex
	date    string
	service string
	derived []byte
}

// NewTC3Key returns the TC3 signer of a SecretId and its SecretKey.
func NewTC3Key(secretID, secretKey string) *TC3Key {
	return &TC3Key{id: secretID, secret: secretKey}
}

// Authorization returns the Authorization header of r signed with k: the
// same value as TC3Authorization with k's credential.
func (k *TC3Key) Authorization(r TC3Request) string {
	date := tc3Date(r.Timestamp)
	k.mu.Lock()
	if k.date != date || k.service != r.Service || k.derived == nil {
		k.date, k.service, k.derived = date, r.Service, tc3SigningKey(k.secret, date, r.Service)
	}
	derived := k.derived
	k.mu.Unlock()
	_, line := tc3Names(r.SignedHeaders)
	return TC3Algorithm + " Credential=" + k.id + "/" + tc3Scope(date, r.Service) +
		", SignedHeaders=" + line + ", Signature=" + tc3SignWithKey(derived, tc3StringToSign(r, date))
}
