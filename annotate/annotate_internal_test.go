package annotate

import (
	"encoding/json"
	"testing"
)

// The catalogue's descriptions need no escaping, so appendString's
// escaping is tested here directly.
func TestAppendString(t *testing.T) {
	for _, s := range []string{
		"", "plain ASCII", `quote " and backslash \ and solidus /`, "control \x00\x01\x1f\t\n\r",
		"non-ASCII 没有 \u2028 stays", `"`, `\`, "\x7f", `ends with \`,
	} {
		out := appendString([]byte("prefix:"), s)
		if string(out[:7]) != "prefix:" {
			t.Fatalf("appendString lost the prefix: %q", out)
		}
		var got string
		if err := json.Unmarshal(out[7:], &got); err != nil || got != s {
			t.Errorf("appendString(%q) = %s, decodes to %q (%v)", s, out[7:], got, err)
		}
	}
}

func TestInteger(t *testing.T) {
	for raw, want := range map[string]int{
		"0": 0, "-0": 0, "4000": 4000, `"4000"`: 4000, "-9009": -9009, `"-9009"`: -9009,
		"999999999": 999999999, "-999999999": -999999999, `"007"`: 7,
	} {
		if got, ok := integer([]byte(raw)); !ok || got != want {
			t.Errorf("integer(%s) = %d, %t; want %d", raw, got, ok, want)
		}
	}
	for _, raw := range []string{
		"", `""`, `"`, "-", `"-"`, "1000000000", "-1000000000", "4000.0", "4e3", "+4000",
		" 4000", `"4000 "`, "true", "null", `"abc"`, `'4000'`, `"4000`, `4000"`,
	} {
		if got, ok := integer([]byte(raw)); ok {
			t.Errorf("integer(%s) = %d, true; want false", raw, got)
		}
	}
}
