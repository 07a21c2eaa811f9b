package annotate

// This file holds a small scanner for the top level of a JSON object. It
// never recurses, so nesting depth costs no stack, and it works on a prefix
// of a document as well as on a whole one: when the bytes run out it says
// so instead of guessing.

// scanState is what the scanner found at a point.
type scanState uint8

const (
	scanOK         scanState = iota // a value or member was read
	scanEnd                         // the object closed
	scanIncomplete                  // the input ended first
	scanMalformed                   // the input is not JSON the scanner can follow
)

// maxDepth is the deepest nesting the scanner follows. Deeper documents
// are treated as malformed, which makes the proxy pass them through.
const maxDepth = 256

// isSpace reports whether c is JSON insignificant white space.
func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

// skipSpace returns the index of the first non-space byte at or after i.
func skipSpace(b []byte, i int) int {
	for i < len(b) && isSpace(b[i]) {
		i++
	}
	return i
}

// skipString returns the index just past the string whose opening quote
// is at b[i], and whether the string holds escapes.
func skipString(b []byte, i int) (end int, escaped bool, st scanState) {
	for j := i + 1; j < len(b); j++ {
		switch c := b[j]; {
		case c == '"':
			return j + 1, escaped, scanOK
		case c == '\\':
			escaped = true
			j++
		case c < 0x20:
			return 0, false, scanMalformed
		}
	}
	return 0, false, scanIncomplete
}

// skipValue returns the index just past the value that starts at b[i]
// (i must point at its first byte, not at white space).
func skipValue(b []byte, i int) (int, scanState) {
	if i >= len(b) {
		return 0, scanIncomplete
	}
	switch b[i] {
	case '"':
		end, _, st := skipString(b, i)
		return end, st
	case '{', '[':
		depth := 0
		for j := i; j < len(b); j++ {
			switch b[j] {
			case '"':
				end, _, st := skipString(b, j)
				if st != scanOK {
					return 0, st
				}
				j = end - 1
			case '{', '[':
				depth++
				if depth > maxDepth {
					return 0, scanMalformed
				}
			case '}', ']':
				depth--
				if depth == 0 {
					return j + 1, scanOK
				}
			}
		}
		return 0, scanIncomplete
	default:
		// A number or a literal: it runs to the next delimiter. At the
		// end of the input more digits might still follow.
		j := i
		for j < len(b) && !isSpace(b[j]) && b[j] != ',' && b[j] != '}' && b[j] != ']' {
			j++
		}
		if j == len(b) {
			return 0, scanIncomplete
		}
		if j == i {
			return 0, scanMalformed
		}
		return j, scanOK
	}
}

// member is one top-level member: its key as written between the quotes
// and its raw value.
type member struct {
	key        []byte
	keyEscaped bool
	value      []byte
}

// objectScanner walks the members of the top-level object of b.
type objectScanner struct {
	b []byte
	i int
}

// open positions the scanner after the object's opening brace.
func (s *objectScanner) open() scanState {
	s.i = skipSpace(s.b, 0)
	if s.i >= len(s.b) {
		return scanIncomplete
	}
	if s.b[s.i] != '{' {
		return scanMalformed
	}
	s.i++
	return scanOK
}

// next reads the next member. It returns scanEnd after the closing brace.
// When the input ends inside a member's value, or the value is malformed,
// it returns scanIncomplete or scanMalformed with the key and the value's
// beginning (m.value runs to the end of the input); a member that ends
// before its value has a nil key.
func (s *objectScanner) next(first bool) (member, scanState) {
	b := s.b
	i := skipSpace(b, s.i)
	if i >= len(b) {
		return member{}, scanIncomplete
	}
	if b[i] == '}' {
		s.i = i + 1
		return member{}, scanEnd
	}
	if !first {
		if b[i] != ',' {
			return member{}, scanMalformed
		}
		i = skipSpace(b, i+1)
		if i >= len(b) {
			return member{}, scanIncomplete
		}
	}
	if b[i] != '"' {
		return member{}, scanMalformed
	}
	keyEnd, escaped, st := skipString(b, i)
	if st != scanOK {
		return member{}, st
	}
	m := member{key: b[i+1 : keyEnd-1], keyEscaped: escaped}
	i = skipSpace(b, keyEnd)
	if i >= len(b) {
		return member{}, scanIncomplete
	}
	if b[i] != ':' {
		return member{}, scanMalformed
	}
	i = skipSpace(b, i+1)
	end, st := skipValue(b, i)
	if st != scanOK {
		// The key is known and the value has begun: hand back what there
		// is of it, so that a caller deciding on a prefix can look inside
		// (or, for a value that turns out malformed, keep the decision it
		// took on the key).
		m.value = b[i:]
		return m, st
	}
	m.value = b[i:end]
	s.i = end
	return m, scanOK
}
