package annotate_test

import (
	"bytes"
	"math/rand/v2"
	"strings"
)

// hardKeys are keys the hard generator spells: the two that count in
// many spellings, near misses, and long runs of backslashes.
var hardKeys = []string{`code`, `Response`, `\u0063\u006F\u0064\u0065`, `\u0052\u0065\u0073\u0070\u006F\u006E\u0073\u0065`,
	`cod\u0065`, `Respons\u0065`, `C\u006fde`, `code `, ` code`, `\u0063ode\u0000`, strings.Repeat("x", 40) + `\u0063ode`,
	strings.Repeat(`\\`, 40), strings.Repeat(`\\`, 33) + `\"`, `co\u0064e`, `\u0043ode`, `\u0063o`, `de`, `co`, `\"code\"`,
	`\\\u0063ode`, `\\\\u0063ode`, `Re\u0073ponse`}

// hardText returns a string's contents: backslash runs, escapes,
// quotes and needles in the text.
func hardText(r *rand.Rand) string {
	switch r.IntN(9) {
	case 0:
		return strings.Repeat(`\\`, r.IntN(80))
	case 1:
		return strings.Repeat(`\\`, r.IntN(80)) + `\"code\"`
	case 2:
		return `\"` + hardKeys[r.IntN(len(hardKeys))] + `\":`
	case 3:
		return strings.Repeat("a", r.IntN(70)) + `\u00` + string("01234567"[r.IntN(8)]) + "f"
	case 4:
		return hardKeys[r.IntN(len(hardKeys))]
	case 5:
		return `}]{[,:\"`
	case 6:
		return `de\"`
	case 7:
		return `Response\"`
	default:
		return `\ud83d\ude00é`
	}
}

// hardGen writes random valid JSON that is hard on a Watch: white space
// everywhere, backslash runs, keys near the longest that can count.
type hardGen struct{ r *rand.Rand }

// ws writes white space, sometimes.
func (g hardGen) ws(b *bytes.Buffer) {
	if g.r.IntN(3) == 0 {
		for range g.r.IntN(5) {
			b.WriteByte(" \t\n\r"[g.r.IntN(4)])
		}
	}
}

// obj writes an object.
func (g hardGen) obj(b *bytes.Buffer, d int) {
	b.WriteByte('{')
	g.ws(b)
	for i := range g.r.IntN(5) {
		if i > 0 {
			b.WriteByte(',')
			g.ws(b)
		}
		b.WriteString(`"` + hardKeys[g.r.IntN(len(hardKeys))] + `"`)
		g.ws(b)
		b.WriteByte(':')
		g.ws(b)
		g.val(b, d+1)
		g.ws(b)
	}
	b.WriteByte('}')
}

// val writes a value.
func (g hardGen) val(b *bytes.Buffer, d int) {
	n := 5
	if d > 5 {
		n = 2
	}
	switch g.r.IntN(n) {
	case 0:
		b.WriteString("0")
	case 1:
		b.WriteByte('"')
		for range g.r.IntN(4) {
			b.WriteString(hardText(g.r))
		}
		b.WriteByte('"')
	case 2, 3:
		g.obj(b, d)
	case 4:
		b.WriteByte('[')
		g.ws(b)
		for i := range g.r.IntN(4) {
			if i > 0 {
				b.WriteByte(',')
			}
			g.val(b, d+1)
			g.ws(b)
		}
		b.WriteByte(']')
	}
}
