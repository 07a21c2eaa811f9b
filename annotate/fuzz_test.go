package annotate_test

import (
	"slices"
	"strings"
	"testing"
)

// fuzzSeeds are every body the other tests use, but for the very large
// ones (deep nesting, big data members): those are replaced by smaller
// bodies of the same shape, since large seeds make mutation and
// minimisation slow without finding more.
func fuzzSeeds() []string {
	seeds := []string{
		deep("4000", 300, "[", "]"),
		deep("0", 300, `{"a":`, "}"),
		deep("4000", 257, "[", "]"),
		deep("4000", 256, "[", "]"),
		`{"code":4000,"x":` + strings.Repeat("[", 300),
		`{"x":` + strings.Repeat("[", 300) + strings.Repeat("]", 300) + `,"code":0}`,
	}
	for _, tt := range failureTests {
		seeds = append(seeds, tt.body)
	}
	for _, tt := range v3Tests {
		seeds = append(seeds, tt.body)
	}
	for _, tt := range unchangedTests {
		seeds = append(seeds, tt.body)
	}
	seeds = append(seeds, successTests...)
	for _, tt := range decideTests {
		seeds = append(seeds, tt.prefix)
	}
	seeds = append(seeds,
		body9110String, body9110Number, body9175, body9175UserRequestError, body9177,
		body20004, body22200, body4100Docs, body4100Real, body1012Real, body5100, body9112,
		success1, success3, success10, success14,
	)
	return slices.DeleteFunc(seeds, func(s string) bool { return len(s) > 2048 })
}

// FuzzBody checks Body's contract on arbitrary input: no panic, valid JSON
// stays valid, anything but a failure comes back as the same slice, a
// failure is the input with only the missing annotation members inserted
// before the final brace, the kind agrees with encoding/json's reading of
// the body, and Decide agrees with Body.
//
//	go test -run='^$' -fuzz=FuzzBody -fuzztime=90s ./annotate/
func FuzzBody(f *testing.F) {
	for _, s := range fuzzSeeds() {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		if _, _, err := checkBody(in); err != nil {
			t.Fatal(err)
		}
	})
}

// FuzzDecide checks that Decide never panics and never changes its mind:
// along the prefixes of any input it says NeedMore and then one verdict,
// which agrees with Body on the whole input.
//
//	go test -run='^$' -fuzz=FuzzDecide -fuzztime=45s ./annotate/
func FuzzDecide(f *testing.F) {
	for _, s := range fuzzSeeds() {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		if len(in) > 4096 {
			in = in[:4096] // every prefix is checked: keep it quadratic in little
		}
		if _, _, err := checkPrefixes(in); err != nil {
			t.Fatal(err)
		}
		if _, _, err := checkBody(in); err != nil {
			t.Fatal(err)
		}
	})
}
