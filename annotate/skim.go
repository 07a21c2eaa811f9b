package annotate

import "bytes"

// This file holds a Watch's last two modes: skimming a body for what a
// second top-level "code" or "Response" key must contain, and reading the
// rest of it exactly from the first such place.

// A second top-level key that counts is written between quotes, each
// letter plainly or as an escape, and the escape of an ASCII letter
// starts \u00; so a body in which neither "code" nor "Response" in
// quotes nor \u00 occurs holds no such key. Skimming searches for them
// in the forms of needles.
type needle struct {
	find   string // what bytes.Index looks for: its first byte is rare in JSON, unlike a quote
	before string // what must come just before it
}

// needleEscape is the start of the escape of an ASCII character.
const needleEscape = `\u00`

// maxFind is the length of the longest needle's find.
const maxFind = len(`Response"`)

// width is how many bytes a match of nd needs to be judged: the escape
// needs the digit after it too.
func (nd needle) width() int {
	if nd.find == needleEscape {
		return len(nd.find) + 1
	}
	return len(nd.find)
}

// needles returns the needles, the escape last.
func needles() [3]needle {
	return [...]needle{{`de"`, `"co`}, {`Response"`, `"`}, {needleEscape, ``}}
}

// histSize is how many of the last bytes skimmed a Watch keeps: enough
// for a needle that starts in one piece and ends in the next, and for
// the key an escape is in, back to its opening quote.
const histSize = 64

// skimScan is the state of a Watch's skimming between pieces.
type skimScan struct {
	hist [histSize]byte // the last n bytes skimmed, at its end
	n    int
	run  int // backslashes just before the first of them
}

// skim searches p, after the bytes skimmed before it, for the first
// place where a second key that counts may begin. If there is one, it
// starts relative mode there and returns the rest of p for it (having
// written to it any bytes of that rest that came before p); otherwise it
// remembers p's last bytes and returns nil.
func (w *Watch) skim(p []byte) []byte {
	v := view{hist: w.s.hist[histSize-w.s.n:], p: p, run: w.s.run}
	q, ok := v.firstStart()
	if !ok {
		w.s.slide(p)
		return nil
	}
	w.mode = watchRelative
	if q < len(v.hist) {
		w.r.write(v.hist[q:])
		return p
	}
	return p[q-len(v.hist):]
}

// slide keeps the last histSize bytes of what was skimmed, p included.
func (s *skimScan) slide(p []byte) {
	if len(p) >= histSize {
		s.run = trailingBackslashes(p[:len(p)-histSize], trailingBackslashes(s.hist[histSize-s.n:], s.run))
		copy(s.hist[:], p[len(p)-histSize:])
		s.n = histSize
		return
	}
	keep := min(s.n, histSize-len(p))
	s.run = trailingBackslashes(s.hist[histSize-s.n:histSize-keep], s.run)
	copy(s.hist[histSize-keep-len(p):], s.hist[histSize-keep:])
	copy(s.hist[histSize-len(p):], p)
	s.n = keep + len(p)
}

// view is the bytes kept from before a piece followed by the piece, read
// as one; run is the number of backslashes just before them.
type view struct {
	hist, p []byte
	run     int
}

func (v *view) at(i int) byte {
	if i < len(v.hist) {
		return v.hist[i]
	}
	return v.p[i-len(v.hist)]
}

// backslashesBefore counts the backslashes just before the byte at i.
func (v *view) backslashesBefore(i int) int {
	n := 0
	for n < i && v.at(i-1-n) == '\\' {
		n++
	}
	if n == i {
		n += v.run
	}
	return n
}

// firstStart returns the first place, in the view, where a needle shows
// that a key that counts may begin (see startAt). Needles found before
// p were looked at with the pieces before it.
func (v *view) firstStart() (int, bool) {
	nds := needles()
	// Needles that begin in hist and end in p.
	if h := len(v.hist); h > 0 {
		var buf [2 * (maxFind - 1)]byte
		a := min(h, maxFind-1)
		seam := append(append(buf[:0], v.hist[h-a:]...), v.p[:min(len(v.p), maxFind-1)]...)
		for k := range a {
			for _, nd := range nds {
				if f := nd.find; k+nd.width() > a && k+len(f) <= len(seam) && string(seam[k:k+len(f)]) == f {
					if q, ok := v.startAt(h-a+k, nd); ok {
						return q, true
					}
				}
			}
		}
	}
	// Needles in p, earliest first.
	var next [len(nds)]int
	for k, nd := range nds {
		next[k] = index(v.p, 0, nd.find)
	}
	for {
		k := -1
		for j, i := range next {
			if i >= 0 && (k < 0 || i < next[k]) {
				k = j
			}
		}
		if k < 0 {
			return 0, false
		}
		if q, ok := v.startAt(len(v.hist)+next[k], nds[k]); ok {
			return q, true
		}
		next[k] = index(v.p, next[k]+1, nds[k].find)
	}
}

// index returns the index of the first nd in p at or after from, or -1.
func index(p []byte, from int, nd string) int {
	i := bytes.Index(p[from:], []byte(nd))
	if i < 0 {
		return -1
	}
	return from + i
}

// startAt returns where relative mode starts for the needle nd found at
// i, if it can mark a key: at a quoted name whose quote is not escaped
// (in valid JSON such a quote opens a string), or, for an escape that is
// not itself escaped, at the opening quote of the string it is in, when
// that is near enough for the string to be a key that counts.
func (v *view) startAt(i int, nd needle) (int, bool) {
	s := i - len(nd.before)
	if s < 0 {
		return 0, false
	}
	for j := range len(nd.before) {
		if v.at(s+j) != nd.before[j] {
			return 0, false
		}
	}
	if v.backslashesBefore(s)%2 == 1 {
		return 0, false // an escaped quote, or an escaped backslash followed by "u00"
	}
	if nd.before != "" {
		return s, true
	}
	// \u0040 to \u007f are the escapes of ASCII letters; others (such as
	// the \u0026 of an escaped '&') cannot spell a key that counts. When
	// the digit is not yet written, the escape is judged with the next
	// piece, where it ends in the seam (see width).
	if d := i + len(nd.find); d >= len(v.hist)+len(v.p) || v.at(d) < '4' || v.at(d) > '7' {
		return 0, false
	}
	for j := i - 1; j >= 0 && j >= i-maxKey; j-- {
		if v.at(j) == '"' && v.backslashesBefore(j)%2 == 0 {
			return j, true
		}
	}
	return 0, false
}

// relScan reads the rest of a body exactly, from a place outside any
// string whose depth is not known: it counts depth from there (0), and
// counts the keys that count seen at the shallowest depth any was seen
// at. A string is a key when a colon follows it. Once the whole body is
// read, the last byte that was not white space closed the top-level
// object, so the top level is one deeper than the depth at the end: the
// counts are the top level's if that is where they were taken.
type relScan struct {
	depth     int
	inString  bool
	str       keyBuf
	colonFor  keyName // the string just read, if it names a key that counts and a colon follows
	seen      bool    // a key that counts was seen
	shallow   int     // the shallowest depth one was seen at
	codes     int     // "code" keys seen at shallow
	responses int     // "Response" keys seen at shallow
}

func (r *relScan) write(p []byte) {
	for _, c := range p {
		if r.inString {
			if r.str.take(c) {
				r.inString = false
				r.colonFor = r.str.name()
			}
			continue
		}
		switch c {
		case ' ', '\t', '\n', '\r':
			continue
		case ':':
			if r.colonFor != nameOther {
				r.count(r.colonFor)
			}
		case '"':
			r.inString = true
			r.str.reset()
		case '{', '[':
			r.depth++
		case '}', ']':
			r.depth--
		}
		r.colonFor = nameOther
	}
}

// count counts a key that counts, at the current depth.
func (r *relScan) count(n keyName) {
	if !r.seen || r.depth < r.shallow {
		r.seen, r.shallow, r.codes, r.responses = true, r.depth, 0, 0
	}
	if r.depth != r.shallow {
		return
	}
	if n == nameCode {
		r.codes++
	} else {
		r.responses++
	}
}

// topLevel returns the top-level keys that count read in relative mode,
// taking the bytes read as the whole body.
func (r *relScan) topLevel() (codes, responses int) {
	if r.seen && r.shallow == r.depth+1 {
		return r.codes, r.responses
	}
	return 0, 0
}
