// Package annotate adds cdnproxy's annotation to Tencent Cloud CDN API
// response bodies: bytes in, bytes out.
//
// For an API 2.0 error body such as
//
//	{"code":4000,"message":"(9112)操作域名需要为【开启中】状态，请确认后重试","codeDesc":"InvalidParameter"}
//
// Body appends, at the top level and after every original member,
// "category", "retryable", "description" and, when the message or codeDesc
// names one, "moduleCode". Nothing else changes: the upstream's bytes are
// kept as they came, in order, and a member the upstream already has is
// never overwritten. Anything that is not a JSON object with an integer
// "code" other than 0 comes back unchanged.
package annotate

import (
	"bytes"
	"strconv"
	"time"

	"github.com/cdnproxy/cdnproxy/codes"
	"github.com/tidwall/gjson"
)

// Kind says what Body made of a body.
type Kind uint8

const (
	// Other is a body that is not an API 2.0 result: not JSON, not an
	// object, no integer code, or ambiguous (a key such as "code"
	// appearing twice). It is returned unchanged.
	Other Kind = iota
	// Success is a result with code 0. It is returned unchanged.
	Success
	// Failure is an error result. The annotation was added (members the
	// upstream already had are left as they are).
	Failure
)

// String returns the kind's lower-case name.
func (k Kind) String() string {
	switch k {
	case Success:
		return "success"
	case Failure:
		return "failure"
	default:
		return "other"
	}
}

// Source says which catalogue entry decided a failure's annotation.
type Source uint8

const (
	// FromNone means neither the module code nor the public code is in
	// the catalogue: the category is codes.Unknown.
	FromNone Source = iota
	// FromPublic means the public code decided (there was no module code,
	// or the catalogue does not know it).
	FromPublic
	// FromModule means the module code decided.
	FromModule
	// FromV3Code means the API 3.0 error code itself is in the catalogue.
	FromV3Code
	// FromV3Family means only the code's family (the part before the
	// first dot) is in the catalogue.
	FromV3Family
)

// Result describes what Body found. Only Kind is set for Other bodies.
type Result struct {
	Kind Kind
	// Generation is the API generation whose shape the body has: 2 for
	// {"code":…}, 3 for {"Response":{…}}; 0 for Other bodies.
	Generation int
	// Code is the API 2.0 public code (the "code" member).
	Code int
	// ErrorCode is the API 3.0 error code (Response.Error.Code).
	ErrorCode string
	// ModuleCode is the module code found in the message's "(9112)"
	// prefix or in codeDesc; HasModuleCode says whether there was one.
	ModuleCode    int
	HasModuleCode bool
	// Source says which catalogue entry decided Category, Retryable and
	// Description. A module code that is present but not FromModule is
	// missing from the catalogue.
	Source      Source
	Category    codes.Category
	Retryable   bool
	Description string
	// RetryAfter is the seconds to wait before a retry (see RetryAfter),
	// set by BodyAt only; 0 when unknown.
	RetryAfter int

	message   []byte // raw JSON of "message" (2.0) or Error.Message (3.0)
	codeDesc  []byte // raw JSON of the "codeDesc" member, if any
	requestID []byte // raw JSON of Response.RequestId (3.0), if any
}

// Message returns the upstream's message as text: the "message" member
// (2.0) or Response.Error.Message (3.0); "" when absent.
func (r Result) Message() string { return jsonText(r.message) }

// RequestID returns the upstream's own request id (API 3.0's
// Response.RequestId); "" when the body has none.
func (r Result) RequestID() string { return jsonText(r.requestID) }

// CodeText returns the error code as text: the public code of a 2.0 body
// ("4000"), the error code of a 3.0 body ("AuthFailure.SignatureFailure").
func (r Result) CodeText() string {
	if r.Generation == 3 {
		return r.ErrorCode
	}
	return strconv.Itoa(r.Code)
}

// Known reports whether the catalogue has the most specific code of a
// failure: the module code when there is one, else the public code, or
// the exact 3.0 code. A failure that is not Known is a sign the catalogue
// needs an entry.
func (r Result) Known() bool {
	switch {
	case r.Generation == 3, r.ErrorCode != "": // a 3.0 answer, or a 2.0 answer made from one (the bridge)
		return r.Source == FromV3Code
	case r.HasModuleCode:
		return r.Source == FromModule
	default:
		return r.Source == FromPublic
	}
}

// CodeDesc returns the upstream's "codeDesc" member as text: a class name
// such as "InvalidParameter", or a module code such as "9110".
func (r Result) CodeDesc() string { return jsonText(r.codeDesc) }

// UnknownDescription is the description given to a failure whose codes are
// not in the catalogue.
const UnknownDescription = "This error code is not in cdnproxy's catalogue. Read the message for details; do not retry blindly."

// Body annotates an API 2.0 error body. It returns the body to send and
// what it found. For any Kind other than Failure the returned slice is
// body itself, untouched. For a Failure it is a new slice, or body itself
// when every annotation member was already present.
func Body(body []byte) ([]byte, Result) { return wholeBody(body, time.Time{}, 0) }

// BodyAt is Body, and adds "retryAfter" (2.0) or "RetryAfter" (3.0) where
// the wait is known at now (see RetryAfter); Result.RetryAfter says what
// it added, and is also set when the body already had the member.
func BodyAt(body []byte, now time.Time) ([]byte, Result) { return wholeBody(body, now, 0) }

// WithRetryAfter is Body, and adds "retryAfter" (2.0) or "RetryAfter"
// (3.0) of the given seconds to a failure that has none: for an answer
// whose wait the caller knows better than the code does (the proxy's own
// limits know the next free slot).
func WithRetryAfter(body []byte, seconds int) []byte {
	out, _ := wholeBody(body, time.Time{}, seconds)
	return out
}

// wholeBody is Body, BodyAt and WithRetryAfter: the annotated body as one
// slice, or body itself when it goes unchanged.
func wholeBody(body []byte, now time.Time, seconds int) ([]byte, Result) {
	out, _, res := annotateBody(body, now, seconds, true)
	if out == nil {
		return body, res
	}
	return out, res
}

// Annotation is Body without the copy, for a caller that sends the body
// in pieces: the annotated body is body[:at] + members + body[at:], and
// members is nil when Body would return body unchanged. A large error
// body is then held once, never twice.
func Annotation(body []byte) (at int, members []byte, res Result) {
	return AnnotationAt(body, time.Time{})
}

// AnnotationAt is Annotation with BodyAt's retry hint.
func AnnotationAt(body []byte, now time.Time) (at int, members []byte, res Result) {
	members, at, res = annotateBody(body, now, 0, false)
	return at, members, res
}

// annotateBody is all of the above: out is nil when the body goes
// unchanged, else the whole annotated body (whole) or only the members to
// insert at at. A now that is not zero adds the retry hint BodyAt adds;
// seconds over 0, WithRetryAfter's.
func annotateBody(body []byte, now time.Time, seconds int, whole bool) (out []byte, at int, res Result) {
	f, ok := inspect(body)
	if !ok {
		return nil, 0, Result{Kind: Other}
	}
	if f.response != nil {
		return bodyV3(body, f.response, now, seconds, whole)
	}
	if f.code == 0 {
		return nil, 0, Result{Kind: Success, Generation: 2}
	}
	res = classify(f)
	res.RetryAfter = retryAfter(res, now, seconds)
	if f.hasCategory && f.hasRetryable && f.hasDescription && (f.hasModuleCode || !res.HasModuleCode) &&
		(f.hasRetryAfter || res.RetryAfter == 0) {
		return nil, 0, res
	}
	out, at = splice(body, f, res, whole)
	return out, at, res
}

// fields are the top-level members of a body that matter here.
type fields struct {
	response                                  []byte // raw "Response" of a 3.0 body
	code                                      int
	message, codeDesc                         []byte
	hasCategory, hasRetryable, hasDescription bool
	hasModuleCode, hasRetryAfter              bool
}

// inspect reads the top-level members of body. It fails for anything that
// is not a valid JSON object with exactly one integer "code" and at most
// one "message" and "codeDesc".
func inspect(body []byte) (fields, bool) {
	var f fields
	s := objectScanner{b: body}
	if s.open() != scanOK {
		return f, false
	}
	var code []byte
	seenCode, seenMessage, seenCodeDesc, seenResponse := false, false, false, false
	for first := true; ; first = false {
		m, st := s.next(first)
		if st == scanEnd {
			break
		}
		if st != scanOK {
			return f, false
		}
		switch key(m) {
		case "code":
			if seenCode {
				return f, false
			}
			seenCode, code = true, m.value
		case "message":
			if seenMessage {
				return f, false
			}
			seenMessage, f.message = true, m.value
		case "codeDesc":
			if seenCodeDesc {
				return f, false
			}
			seenCodeDesc, f.codeDesc = true, m.value
		case "category":
			f.hasCategory = true
		case "retryable":
			f.hasRetryable = true
		case "description":
			f.hasDescription = true
		case "moduleCode":
			f.hasModuleCode = true
		case "retryAfter":
			f.hasRetryAfter = true
		case "Response":
			if seenResponse {
				return f, false
			}
			seenResponse, f.response = true, m.value
		}
	}
	if seenCode == seenResponse || skipSpace(body, s.i) != len(body) {
		// Neither generation's shape, or both at once: not for us.
		return f, false
	}
	if seenResponse {
		return f, true
	}
	n, ok := integer(code)
	if !ok {
		return f, false
	}
	f.code = n
	// The scanner follows structure but does not check every token
	// (numbers, literals, escapes); gjson does. Only bodies that are
	// about to be changed pay for it.
	if n != 0 && !gjson.ValidBytes(body) {
		return f, false
	}
	return f, true
}

// key returns a member's key as text when it is one of the keys that
// matter here, and "" otherwise. It does not allocate, not even for keys
// written with escapes (such as "\u0063ode").
func key(m member) string {
	k := m.key
	var buf [16]byte
	if m.keyEscaped {
		n, ok := unescapeShort(&buf, k)
		if !ok {
			return ""
		}
		k = buf[:n]
	}
	// Comparing string(b) with constants does not allocate.
	for _, name := range [...]string{"code", "message", "codeDesc", "category", "retryable", "description", "moduleCode",
		"Response", "Error", "Code", "Message", "RequestId", "Category", "Retryable", "Description",
		"retryAfter", "RetryAfter"} {
		if string(k) == name {
			return name
		}
	}
	return ""
}

// unescapeShort decodes the JSON string contents s (without quotes) into
// buf. It fails when the text does not fit in buf, or decodes to anything
// but ASCII, or holds an invalid escape: no such key can be one of the
// short ASCII keys key looks for.
func unescapeShort(buf *[16]byte, s []byte) (int, bool) {
	n := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == '\\' {
			if i++; i >= len(s) {
				return 0, false
			}
			switch s[i] {
			case '"', '\\', '/':
				c = s[i]
			case 'b':
				c = '\b'
			case 'f':
				c = '\f'
			case 'n':
				c = '\n'
			case 'r':
				c = '\r'
			case 't':
				c = '\t'
			case 'u':
				if i+4 >= len(s) {
					return 0, false
				}
				r := 0
				for _, h := range s[i+1 : i+5] {
					switch {
					case '0' <= h && h <= '9':
						r = r<<4 | int(h-'0')
					case 'a' <= h && h <= 'f':
						r = r<<4 | int(h-'a'+10)
					case 'A' <= h && h <= 'F':
						r = r<<4 | int(h-'A'+10)
					default:
						return 0, false
					}
				}
				if r >= 0x80 {
					return 0, false
				}
				c, i = byte(r), i+4
			default:
				return 0, false
			}
		}
		if n == len(buf) {
			return 0, false
		}
		buf[n] = c
		n++
	}
	return n, true
}

// classify picks the catalogue entry for a failure.
func classify(f fields) Result {
	res := Result{Kind: Failure, Generation: 2, Code: f.code, message: f.message, codeDesc: f.codeDesc}
	if mc, ok := moduleCode(f.message, f.codeDesc); ok {
		res.ModuleCode, res.HasModuleCode = mc, true
		if e, ok := codes.Module(mc); ok {
			res.Source, res.Category, res.Retryable, res.Description = FromModule, e.Category, e.Retryable, e.Description
			return res
		}
	}
	if e, ok := codes.Public(f.code); ok {
		res.Source, res.Category, res.Retryable, res.Description = FromPublic, e.Category, e.Retryable, e.Description
		return res
	}
	res.Source, res.Category, res.Description = FromNone, codes.Unknown, UnknownDescription
	return res
}

// moduleCode finds a module code: first a "(9112)" or "(-9009)" prefix of
// the message, then a codeDesc that is an integer (9110 or "9110").
func moduleCode(message, codeDesc []byte) (int, bool) {
	if len(message) > 3 && message[0] == '"' && message[1] == '(' {
		if end := bytes.IndexByte(message[2:], ')'); end > 0 {
			if n, ok := atoi(message[2 : 2+end]); ok {
				return n, true
			}
		}
	}
	if len(codeDesc) > 0 {
		return integer(codeDesc)
	}
	return 0, false
}

// integer reads a raw JSON value that is an integer, written as a number
// (4000) or a string ("4000").
func integer(raw []byte) (int, bool) {
	if len(raw) >= 2 && raw[0] == '"' && raw[len(raw)-1] == '"' {
		raw = raw[1 : len(raw)-1]
	}
	return atoi(raw)
}

// atoi parses an optionally negative decimal integer of at most 9 digits,
// without allocating.
func atoi(b []byte) (int, bool) {
	neg := len(b) > 0 && b[0] == '-'
	if neg {
		b = b[1:]
	}
	if len(b) == 0 || len(b) > 9 {
		return 0, false
	}
	n := 0
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int(c-'0')
	}
	if neg {
		n = -n
	}
	return n, true
}

// splice returns a copy of body with the missing annotation members
// inserted before the top-level object's closing brace (whole), or only
// those members; and where they go.
func splice(body []byte, f fields, res Result, whole bool) ([]byte, int) {
	end := bytes.LastIndexByte(body, '}')
	out := make([]byte, 0, wholeLen(body, whole)+len(res.Description)+96)
	if whole {
		out = append(out, body[:end]...)
	}
	if !f.hasCategory {
		out = append(out, `,"category":"`...)
		out = append(out, res.Category...)
		out = append(out, '"')
	}
	if !f.hasRetryable {
		out = append(out, `,"retryable":`...)
		out = strconv.AppendBool(out, res.Retryable)
	}
	if !f.hasDescription {
		out = append(out, `,"description":`...)
		out = appendString(out, res.Description)
	}
	if res.HasModuleCode && !f.hasModuleCode {
		out = append(out, `,"moduleCode":`...)
		out = strconv.AppendInt(out, int64(res.ModuleCode), 10)
	}
	if res.RetryAfter > 0 && !f.hasRetryAfter {
		out = append(out, `,"retryAfter":`...)
		out = strconv.AppendInt(out, int64(res.RetryAfter), 10)
	}
	if whole {
		out = append(out, body[end:]...)
	}
	return out, end
}

// wholeLen is len(body) for a whole copy, 0 for members only.
func wholeLen(body []byte, whole bool) int {
	if whole {
		return len(body)
	}
	return 0
}

// appendString appends s as a JSON string. Catalogue text is plain ASCII,
// so the usual case is a single copy.
func appendString(dst []byte, s string) []byte {
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 0x20 && c != '"' && c != '\\' {
			continue
		}
		dst = append(dst, s[start:i]...)
		if c < 0x20 {
			dst = append(dst, '\\', 'u', '0', '0', "0123456789abcdef"[c>>4], "0123456789abcdef"[c&0xf])
		} else {
			dst = append(dst, '\\', c)
		}
		start = i + 1
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}

// jsonText decodes a raw JSON value to text: a string's contents, or a
// number's digits. The text is a copy: it keeps nothing of raw alive.
func jsonText(raw []byte) string {
	if len(raw) == 0 {
		return ""
	}
	if n := len(raw); n >= 2 && raw[0] == '"' && raw[n-1] == '"' && bytes.IndexByte(raw, '\\') < 0 {
		return string(raw[1 : n-1]) // nothing to unescape: the common case, one copy
	}
	return gjson.ParseBytes(raw).String()
}
