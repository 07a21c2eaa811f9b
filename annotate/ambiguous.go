package annotate

import "bytes"

// Ambiguous reports whether body is a JSON object with more than one
// top-level "code" or "Response" member. JSON parsers disagree about such
// a body: Decide and a first-wins parser read the first, most others the
// last, so a body that starts with "code":0 and repeats "code":4000 is a
// success to one client and an error to another. Body leaves it
// unannotated; the caller should not count it as either. It is a Watch
// over the whole body: see Watch for what it looks at. It does not
// allocate.
func Ambiguous(body []byte) bool {
	var w Watch
	w.Write(body)
	return w.Ambiguous()
}

// A Watch follows a body that is too long to hold as it streams past, in
// pieces, and counts the top-level "code" and "Response" members of the
// JSON object it holds, so that a long body can be found Ambiguous
// without keeping it. The zero Watch is ready: Write the body's bytes to
// it in order, then ask Ambiguous once they are all written.
//
// It reads in three modes, so that a long body costs little more than a
// search for a few byte strings:
//   - exactly, byte by byte, from the start of the object to the end of
//     the first top-level "code" or "Response" key;
//   - then skimming: only searching for what a second such key must
//     contain, the name in quotes or an escape (\u00..) that can spell a
//     letter of it; a body without one is decided there and then;
//   - from the first of those on, exactly again, with the nesting depth
//     counted from there (see relScan).
//
// Keys are compared as a JSON parser decodes them ("\u0063ode" is
// "code"). The answer is exact for a valid JSON object, whatever the
// pieces; on a malformed body it may count members a strict parser would
// never reach, and a body that does not start with '{' is not ambiguous.
type Watch struct {
	mode      watchMode
	codes     int // top-level "code" members read in exact mode
	responses int // top-level "Response" members read in exact mode
	x         exactScan
	s         skimScan
	r         relScan
}

// watchMode is how a Watch reads its next bytes.
type watchMode uint8

const (
	watchExact watchMode = iota
	watchSkim
	watchRelative
	watchDone // the object closed in exact mode, or the body is no object
)

// Write follows p, the body's next bytes. It never fails.
func (w *Watch) Write(p []byte) (int, error) {
	n := len(p)
	if w.mode == watchExact {
		i := w.exact(p)
		p = p[i:]
	}
	if w.mode == watchSkim && len(p) > 0 {
		p = w.skim(p) // what follows the start of relative mode, if it started
	}
	if w.mode == watchRelative {
		w.r.write(p)
	}
	return n, nil
}

// Ambiguous reports whether the bytes written, taken as the whole body,
// hold more than one top-level "code" or more than one top-level
// "Response" member.
func (w *Watch) Ambiguous() bool {
	codes, responses := w.codes, w.responses
	if w.mode == watchRelative {
		c, r := w.r.topLevel()
		codes, responses = codes+c, responses+r
	}
	return codes > 1 || responses > 1
}

// exactScan is the state of a Watch's exact mode.
type exactScan struct {
	state     scanPlace
	depth     int  // nesting depth of the next byte; 1 is between the top-level members
	expectKey bool // at depth 1, the next string is a member's key
	escaped   bool // in a string, the next byte is escaped
	key       keyBuf
}

// scanPlace is where in the document exact mode's next byte falls.
type scanPlace uint8

const (
	placeStart   scanPlace = iota // before the object's opening brace
	placeOutside                  // inside the object, outside any string
	placeKey                      // in a top-level member's key
	placeString                   // in any other string
)

// exact reads p in exact mode and returns how much of it it read: all of
// it, or up to the end of the first top-level "code" or "Response" key,
// where skimming takes over.
func (w *Watch) exact(p []byte) int {
	x := &w.x
	for i := 0; i < len(p); {
		switch x.state {
		case placeStart:
			i = skipSpace(p, i)
			if i == len(p) {
				return i
			}
			if p[i] != '{' {
				w.mode = watchDone
				return len(p)
			}
			x.state, x.depth, x.expectKey = placeOutside, 1, true
			i++
		case placeOutside:
			i = x.outside(p, i)
			if x.depth == 0 {
				w.mode = watchDone
				return len(p)
			}
		case placeString:
			i = x.inString(p, i)
		case placeKey:
			var end bool
			if i, end = x.inKey(p, i); end {
				switch x.key.name() {
				case nameCode:
					w.codes++
				case nameResponse:
					w.responses++
				default:
					continue
				}
				w.mode = watchSkim
				return i
			}
		}
	}
	return len(p)
}

// outside follows the structure between strings, up to the next string's
// opening quote or the end of the object.
func (x *exactScan) outside(p []byte, i int) int {
	for ; i < len(p); i++ {
		switch p[i] {
		case '"':
			if x.depth == 1 && x.expectKey {
				x.state, x.expectKey = placeKey, false
				x.key.reset()
			} else {
				x.state = placeString
			}
			return i + 1
		case '{', '[':
			x.depth++
		case '}', ']':
			if x.depth--; x.depth == 0 {
				return len(p)
			}
		case ',':
			x.expectKey = x.depth == 1
		}
	}
	return i
}

// inString skips to the end of a string that is not a top-level key. It
// jumps from quote to quote, and a quote counts as the end when the run
// of backslashes before it is even.
func (x *exactScan) inString(p []byte, i int) int {
	if x.escaped {
		x.escaped = false
		i++ // the escaped byte, the first of this piece
	}
	for i < len(p) {
		q := bytes.IndexByte(p[i:], '"')
		if q < 0 {
			x.escaped = trailingBackslashes(p[i:], 0)%2 == 1
			return len(p)
		}
		q += i
		if trailingBackslashes(p[i:q], 0)%2 == 0 {
			x.state = placeOutside
			return q + 1
		}
		i = q + 1
	}
	return i
}

// inKey reads a top-level key; end reports that it ended.
func (x *exactScan) inKey(p []byte, i int) (_ int, end bool) {
	for ; i < len(p); i++ {
		if x.key.take(p[i]) {
			x.state = placeOutside
			return i + 1, true
		}
	}
	return i, false
}

// trailingBackslashes counts the backslashes at the end of b, plus
// before, the run before b, when b is all backslashes.
func trailingBackslashes(b []byte, before int) int {
	n := 0
	for n < len(b) && b[len(b)-1-n] == '\\' {
		n++
	}
	if n == len(b) {
		n += before
	}
	return n
}

// keyBuf collects a string's text, as written, as far as a key that
// counts can go.
type keyBuf struct {
	b       [maxKey]byte
	n       int  // bytes added; more than maxKey means too long to count
	esc     bool // the text holds an escape
	escaped bool // the next byte is escaped
}

// maxKey is the longest spelling of a key that counts: "Response" with
// every letter escaped (\u0052...).
const maxKey = 6 * len("Response")

func (k *keyBuf) reset() { k.n, k.esc, k.escaped = 0, false, false }

// take adds the string's next byte; end reports that it was the closing
// quote.
func (k *keyBuf) take(c byte) (end bool) {
	switch {
	case k.escaped:
		k.escaped = false
	case c == '\\':
		k.escaped, k.esc = true, true
	case c == '"':
		return true
	}
	if k.n < maxKey {
		k.b[k.n] = c
	}
	k.n++
	return false
}

// keyName is a key that counts.
type keyName uint8

const (
	nameOther keyName = iota
	nameCode
	nameResponse
)

// name decodes the text as a parser would and says which key it is.
func (k *keyBuf) name() keyName {
	if k.n > maxKey {
		return nameOther
	}
	s := k.b[:k.n]
	if k.esc {
		var buf [16]byte
		n, ok := unescapeShort(&buf, s)
		if !ok {
			return nameOther
		}
		s = buf[:n]
	}
	switch string(s) {
	case "code":
		return nameCode
	case "Response":
		return nameResponse
	}
	return nameOther
}
