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
// it in order, then ask Ambiguous.
//
// It follows only what decides which member is at the top level: strings
// (with their escapes, so that a quote or brace inside a string counts
// for nothing), nesting and the commas between members. Keys are compared
// as a JSON parser decodes them ("\u0063ode" is "code"). It does not check
// the rest of the syntax: on a malformed body it may count members a
// strict parser would never reach, which errs on the side of calling the
// body ambiguous. A body that does not start with '{' is not ambiguous,
// and nothing after the object's closing brace is looked at.
type Watch struct {
	state     watchState
	depth     int      // nesting depth of the next byte; 1 is between the top-level members
	expectKey bool     // at depth 1, the next string is a member's key
	escaped   bool     // in a string, the next byte is escaped
	keyLen    int      // bytes of the current top-level key seen so far
	keyEsc    bool     // the key holds a backslash
	key       [48]byte // "Response" with every letter escaped (\uXXXX) fits
	codes     int
	responses int
}

// watchState is where in the document a Watch's next byte falls.
type watchState uint8

const (
	watchStart   watchState = iota // before the object's opening brace
	watchOutside                   // inside the object, outside any string
	watchKey                       // in a top-level member's key
	watchString                    // in any other string
	watchDone                      // after the object, or the body is no object
)

// Write follows p, the body's next bytes. It never fails.
func (w *Watch) Write(p []byte) (int, error) {
	for i := 0; i < len(p); {
		switch w.state {
		case watchStart:
			i = w.start(p, i)
		case watchOutside:
			i = w.outside(p, i)
		case watchKey:
			i = w.inKey(p, i)
		case watchString:
			i = w.inString(p, i)
		default:
			return len(p), nil
		}
	}
	return len(p), nil
}

// Ambiguous reports whether the bytes written so far hold more than one
// top-level "code" or more than one top-level "Response" member.
func (w *Watch) Ambiguous() bool { return w.codes > 1 || w.responses > 1 }

// start skips the white space before the object and opens it.
func (w *Watch) start(p []byte, i int) int {
	i = skipSpace(p, i)
	if i == len(p) {
		return i
	}
	if p[i] != '{' {
		w.state = watchDone
		return len(p)
	}
	w.state, w.depth, w.expectKey = watchOutside, 1, true
	return i + 1
}

// outside follows the structure between strings, up to the next string's
// opening quote.
func (w *Watch) outside(p []byte, i int) int {
	for ; i < len(p); i++ {
		switch p[i] {
		case '"':
			if w.depth == 1 && w.expectKey {
				w.state, w.expectKey, w.keyLen, w.keyEsc = watchKey, false, 0, false
			} else {
				w.state = watchString
			}
			return i + 1
		case '{', '[':
			w.depth++
		case '}', ']':
			if w.depth--; w.depth == 0 {
				w.state = watchDone
				return len(p)
			}
		case ',':
			w.expectKey = w.depth == 1
		}
	}
	return i
}

// inString skips to the end of a string that is not a top-level key. It
// jumps from quote to quote, and a quote counts as the end when the run
// of backslashes before it is even.
func (w *Watch) inString(p []byte, i int) int {
	if w.escaped {
		w.escaped = false
		i++ // the escaped byte, the first of this piece
	}
	for i < len(p) {
		q := bytes.IndexByte(p[i:], '"')
		if q < 0 {
			w.escaped = backslashes(p[i:])%2 == 1
			return len(p)
		}
		q += i
		if backslashes(p[i:q])%2 == 0 {
			w.state = watchOutside
			return q + 1
		}
		i = q + 1
	}
	return i
}

// backslashes counts the backslashes at the end of b.
func backslashes(b []byte) int {
	n := 0
	for n < len(b) && b[len(b)-1-n] == '\\' {
		n++
	}
	return n
}

// inKey reads a top-level key, and counts it when it ends.
func (w *Watch) inKey(p []byte, i int) int {
	for ; i < len(p); i++ {
		c := p[i]
		switch {
		case w.escaped:
			w.escaped = false
		case c == '\\':
			w.escaped, w.keyEsc = true, true
		case c == '"':
			w.state = watchOutside
			w.count()
			return i + 1
		}
		if w.keyLen < len(w.key) {
			w.key[w.keyLen] = c
		}
		w.keyLen++
	}
	return i
}

// count counts the key just read if it is one of the two that matter.
func (w *Watch) count() {
	if w.keyLen > len(w.key) {
		return // longer than any spelling of the two
	}
	k := w.key[:w.keyLen]
	if w.keyEsc {
		var buf [16]byte
		n, ok := unescapeShort(&buf, k)
		if !ok {
			return
		}
		k = buf[:n]
	}
	switch string(k) {
	case "code":
		w.codes++
	case "Response":
		w.responses++
	}
}
