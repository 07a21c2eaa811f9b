package annotate

// Verdict is Decide's answer for the first bytes of a body.
type Verdict uint8

const (
	// NeedMore means the prefix ends before the answer is known.
	NeedMore Verdict = iota
	// Pass means the body is not an API result (not a JSON object, or no
	// integer "code"), or too large to tell: send it on as it is.
	Pass
	// Succeeded means the body is an API result with code 0: send it on
	// as it is.
	Succeeded
	// Buffer means the body is an error result: read it whole (up to a
	// limit) and pass it to Body.
	Buffer
)

// String returns the verdict's lower-case name.
func (v Verdict) String() string {
	switch v {
	case Pass:
		return "pass"
	case Succeeded:
		return "succeeded"
	case Buffer:
		return "buffer"
	default:
		return "need_more"
	}
}

// Decide looks at the start of a response body and says whether it can
// need annotation, reading no further than the member that tells: the
// top-level "code" of an API 2.0 result, or the "Error" (or its absence)
// inside the "Response" of an API 3.0 result. It never allocates, so a
// success body costs a scan of its first members and nothing else. A
// caller that reaches the end of the body while Decide still says
// NeedMore has the whole body and can call Body directly.
//
// Decide follows the first "code" or "Response" it meets. Body refuses to
// annotate a body with two, so a body that starts with "code":0 and
// repeats "code" later is sent on unannotated either way.
func Decide(prefix []byte) Verdict {
	s := objectScanner{b: prefix}
	switch s.open() {
	case scanIncomplete:
		return NeedMore
	case scanMalformed:
		return Pass
	}
	for first := true; ; first = false {
		m, st := s.next(first)
		switch st {
		case scanOK:
		case scanIncomplete, scanMalformed:
			// A 3.0 Response is looked into as far as it goes, so that
			// a prefix and any longer prefix agree.
			if m.key != nil && key(m) == "Response" {
				return decideV3(m.value)
			}
			if st == scanMalformed {
				return Pass
			}
			return NeedMore
		default: // the object ended without a code
			return Pass
		}
		switch key(m) {
		case "code":
			n, ok := integer(m.value)
			switch {
			case !ok:
				return Pass
			case n == 0:
				return Succeeded
			default:
				return Buffer
			}
		case "Response":
			return decideV3(m.value)
		}
	}
}

// decideV3 decides on (the start of) an API 3.0 "Response" object: an
// "Error" member makes it an error; its end without one, a success.
func decideV3(response []byte) Verdict {
	s := objectScanner{b: response}
	switch s.open() {
	case scanIncomplete:
		return NeedMore
	case scanMalformed:
		return Pass
	}
	for first := true; ; first = false {
		m, st := s.next(first)
		switch st {
		case scanOK:
			if key(m) == "Error" {
				return Buffer
			}
		case scanIncomplete, scanMalformed:
			// Buffer as soon as the Error key is read, so that a prefix
			// and any longer prefix agree; Body decides on the whole.
			if m.key != nil && key(m) == "Error" {
				return Buffer
			}
			if st == scanMalformed {
				return Pass
			}
			return NeedMore
		case scanEnd:
			return Succeeded
		default:
			return Pass
		}
	}
}
