package annotate_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"reflect"
	"regexp"
	"slices"
	"unsafe"

	"github.com/cdnproxy/cdnproxy/annotate"
	"github.com/cdnproxy/cdnproxy/codes"
)

// addedNames are the members Body may add, in the order it adds them.
var addedNames = []string{"category", "retryable", "description", "moduleCode"}

// sameSlice reports whether a and b are the same slice (not merely equal
// bytes): Body promises to hand back its argument for unchanged bodies.
func sameSlice(a, b []byte) bool {
	return len(a) == len(b) && cap(a) == cap(b) && unsafe.SliceData(a) == unsafe.SliceData(b)
}

// topMember is one top-level member as encoding/json reads it.
type topMember struct {
	key string
	raw json.RawMessage
}

// topMembers returns the top-level members of a JSON object in order,
// duplicates included, with keys unescaped. ok is false when b is not a
// JSON object encoding/json can read.
func topMembers(b []byte) (ms []topMember, ok bool) {
	if !json.Valid(b) {
		return nil, false
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	tok, err := dec.Token()
	if err != nil || tok != json.Delim('{') {
		return nil, false
	}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, false
		}
		k, isString := tok.(string)
		if !isString {
			return nil, false
		}
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return nil, false
		}
		ms = append(ms, topMember{k, raw})
	}
	if tok, err := dec.Token(); err != nil || tok != json.Delim('}') {
		return nil, false
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, false
	}
	return ms, true
}

// nesting returns the deepest bracket nesting in b, ignoring strings.
func nesting(b []byte) int {
	depth, deepest, inString := 0, 0, false
	for i := 0; i < len(b); i++ {
		switch c := b[i]; {
		case inString && c == '\\':
			i++
		case c == '"':
			inString = !inString
		case inString:
		case c == '{' || c == '[':
			depth++
			deepest = max(deepest, depth)
		case c == '}' || c == ']':
			depth--
		}
	}
	return deepest
}

// integerRaw is what counts as an integer code: a JSON number without
// fraction or exponent, or a string of such digits, at most 9 of them.
var integerRaw = regexp.MustCompile(`^"?(-?)([0-9]{1,9})"?$`)

// oracleKind says, independently of the scanner, what Body should make of
// a body that encoding/json accepts. decided is false when b is not valid
// JSON (Body may then say Other or, when code is 0, Success).
func oracleKind(b []byte) (k annotate.Kind, code int, decided bool) {
	if !json.Valid(b) {
		return annotate.Other, 0, false
	}
	ms, ok := topMembers(b)
	if !ok {
		return annotate.Other, 0, true // valid JSON but not an object
	}
	var codeRaw []byte
	n := map[string]int{}
	for _, m := range ms {
		n[m.key]++
		if m.key == "code" {
			codeRaw = m.raw
		}
	}
	if n["Response"] > 0 {
		return annotate.Other, 0, false // an API 3.0 shape: see the v3 tests
	}
	if n["code"] != 1 || n["message"] > 1 || n["codeDesc"] > 1 {
		return annotate.Other, 0, true
	}
	sub := integerRaw.FindSubmatch(codeRaw)
	if sub == nil || (codeRaw[0] == '"') != (codeRaw[len(codeRaw)-1] == '"') {
		return annotate.Other, 0, true
	}
	for _, d := range sub[2] {
		code = code*10 + int(d-'0')
	}
	if len(sub[1]) > 0 {
		code = -code
	}
	if code == 0 {
		return annotate.Success, 0, true
	}
	return annotate.Failure, code, true
}

// checkBody runs Body on in and checks every property of its contract
// that does not depend on knowing the body in advance. It returns what
// Body returned.
func checkBody(in []byte) (out []byte, res annotate.Result, err error) {
	orig := bytes.Clone(in)
	out, res = annotate.Body(in)
	if !bytes.Equal(in, orig) {
		return out, res, fmt.Errorf("Body modified its argument")
	}
	if json.Valid(in) && !json.Valid(out) {
		return out, res, fmt.Errorf("valid JSON in, invalid JSON out:\n in: %q\nout: %q", in, out)
	}
	v := annotate.Decide(in)
	switch res.Kind {
	case annotate.Success:
		if v != annotate.Succeeded {
			return out, res, fmt.Errorf("Body says success, Decide says %v", v)
		}
	case annotate.Failure:
		if v != annotate.Buffer {
			return out, res, fmt.Errorf("Body says failure, Decide says %v", v)
		}
	}
	// The kind agrees with an independent reading by encoding/json. Bodies
	// nested deeper than the scanner follows are conservatively Other.
	if want, code, decided := oracleKind(in); decided && res.Kind != want && !(res.Kind == annotate.Other && nesting(in) > 257) {
		return out, res, fmt.Errorf("Kind = %v, encoding/json reading says %v (code %d)", res.Kind, want, code)
	} else if decided && want == annotate.Failure && res.Kind == want && res.Code != code {
		return out, res, fmt.Errorf("Code = %d, encoding/json reading says %d", res.Code, code)
	}
	if res.Kind != annotate.Failure {
		if !sameSlice(in, out) {
			return out, res, fmt.Errorf("Kind %v but the body was not returned as it came", res.Kind)
		}
		if res.Generation == 2 && !reflect.DeepEqual(res, annotate.Result{Kind: res.Kind, Generation: 2}) ||
			res.Generation != 2 && res.Kind == annotate.Other && !reflect.DeepEqual(res, annotate.Result{Kind: res.Kind}) {
			return out, res, fmt.Errorf("Kind %v with other fields set: %+v", res.Kind, res)
		}
		return out, res, nil
	}
	if !json.Valid(in) {
		return out, res, fmt.Errorf("annotated a body that is not valid JSON: %q", in)
	}
	if res.Generation == 3 {
		return out, res, checkSpliceV3(in, out, res)
	}
	return out, res, checkSplice(in, out, res)
}

// checkSplice checks that out is in with the annotation inserted just
// before the final '}', that the inserted members are exactly the missing
// ones, and that their values describe res.
func checkSplice(in, out []byte, res annotate.Result) error {
	k := bytes.LastIndexByte(in, '}')
	if k < 0 || len(out) < len(in) || !bytes.Equal(out[:k], in[:k]) || !bytes.Equal(out[len(out)-(len(in)-k):], in[k:]) {
		return fmt.Errorf("output is not input[:k] + added + input[k:]:\n in: %q\nout: %q", in, out)
	}
	added := out[k : len(out)-(len(in)-k)]

	before, _ := topMembers(in)
	had := map[string]bool{}
	for _, m := range before {
		had[m.key] = true
	}
	var missing []string
	for _, name := range addedNames {
		if !had[name] && (name != "moduleCode" || res.HasModuleCode) {
			missing = append(missing, name)
		}
	}
	if len(added) == 0 {
		if len(missing) > 0 {
			return fmt.Errorf("nothing added, but %v were missing", missing)
		}
		if !sameSlice(in, out) {
			return fmt.Errorf("nothing added, but the body was copied")
		}
		return nil
	}
	if added[0] != ',' {
		return fmt.Errorf("added members %q do not start with a comma", added)
	}
	ms, ok := topMembers(append(append([]byte("{"), added[1:]...), '}'))
	if !ok {
		return fmt.Errorf("added members %q are not JSON members", added)
	}
	var names []string
	for _, m := range ms {
		names = append(names, m.key)
		if !slices.Contains(addedNames, m.key) {
			return fmt.Errorf("added a member %q", m.key)
		}
		if had[m.key] {
			return fmt.Errorf("added %q, which the upstream already had", m.key)
		}
		var want any
		switch m.key {
		case "category":
			want = string(res.Category)
		case "retryable":
			want = res.Retryable
		case "description":
			want = res.Description
		case "moduleCode":
			want = json.Number(fmt.Sprint(res.ModuleCode))
		}
		dec := json.NewDecoder(bytes.NewReader(m.raw))
		dec.UseNumber()
		var got any
		if err := dec.Decode(&got); err != nil || got != want {
			return fmt.Errorf("added %q = %s, want %#v", m.key, m.raw, want)
		}
	}
	if !slices.Equal(names, missing) {
		return fmt.Errorf("added %v, want exactly the missing %v", names, missing)
	}
	// The catalogue decides: check the description source agrees.
	if !slices.Contains(codes.Categories(), res.Category) || res.Description == "" {
		return fmt.Errorf("category %q / description %q not from the catalogue", res.Category, res.Description)
	}
	return nil
}

// checkSpliceV3 checks that out is in with members inserted at one place,
// that the place is the end of Response.Error, and that the inserted
// members are annotation members describing res that Error did not have.
func checkSpliceV3(in, out []byte, res annotate.Result) error {
	if sameSlice(in, out) {
		return nil // nothing was missing
	}
	p := 0
	for p < len(in) && in[p] == out[p] {
		p++
	}
	tail := len(in) - p
	if len(out) < len(in) || !bytes.Equal(out[len(out)-tail:], in[p:]) {
		return fmt.Errorf("output is not input with one insertion:\n in: %q\nout: %q", in, out)
	}
	var doc struct {
		Response struct {
			Error map[string]json.RawMessage
		}
	}
	var before struct {
		Response struct {
			Error map[string]json.RawMessage
		}
	}
	if err := json.Unmarshal(out, &doc); err != nil {
		return fmt.Errorf("annotated 3.0 body does not decode: %v", err)
	}
	if err := json.Unmarshal(in, &before); err != nil {
		return fmt.Errorf("3.0 body does not decode: %v", err)
	}
	want := map[string]any{"Category": string(res.Category), "Retryable": res.Retryable, "Description": res.Description}
	for name, v := range want {
		raw, ok := doc.Response.Error[name]
		if !ok {
			return fmt.Errorf("Response.Error has no %s after annotation: %q", name, out)
		}
		if _, had := before.Response.Error[name]; had {
			continue
		}
		got, _ := json.Marshal(v)
		if !bytes.Equal(raw, got) {
			return fmt.Errorf("Response.Error.%s = %s, want %s", name, raw, got)
		}
	}
	return nil
}
