package annotate

// Ambiguous reports whether body is a JSON object with more than one
// top-level "code" or "Response" member. JSON parsers disagree about such
// a body: Decide and a first-wins parser read the first, most others the
// last, so a body that starts with "code":0 and repeats "code":4000 is a
// success to one client and an error to another. Body leaves it
// unannotated; the caller should not count it as either. A body that is
// not a complete JSON object as far as its members go is not ambiguous
// (only not an API result). It does not allocate.
func Ambiguous(body []byte) bool {
	s := objectScanner{b: body}
	if s.open() != scanOK {
		return false
	}
	codes, responses := 0, 0
	for first := true; ; first = false {
		m, st := s.next(first)
		if st != scanOK {
			return codes > 1 || responses > 1
		}
		switch key(m) {
		case "code":
			codes++
		case "Response":
			responses++
		}
	}
}
