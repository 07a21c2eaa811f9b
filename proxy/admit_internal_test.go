package proxy

import (
	"math/rand/v2"
	"strings"
	"testing"
)

// TestLogFieldsLikeParse checks that the cheap scan of passthrough mode
// logs what signature.Parse followed by Get would, on inputs that parse
// and inputs that do not.
func TestLogFieldsLikeParse(t *testing.T) {
	inputs := []string{
		"",
		"&&",
		"Action=DescribeCdnHosts&SecretId=AKIDxyz&Nonce=1",
		"Action=Describe%43dnHosts&SecretId=AK+ID%2Bx",
		"Action=a%2",
		"Action=a%zz&SecretId=x",
		"Action=x&Nonce=%",
		"Action=x&=y",
		"Action=x&Action=y",
		"Action=x&urls.0=a&urls_0=b",
		"Act%69on=x&SecretId=y",
		"Action=x&Secret%49d=y",
		"Action+=x",
		"Action=x&Action%3D=y",
		"Action&SecretId",
		"Action=a=b&SecretId==",
		"A=1&a=2&Action=%e4%b8%ad",
		"Action=x&n%zz=1",
		"Action=x&n%41=1&nA=2",
		"Action=x&" + strings.Repeat("p=1&", 40),
		"Action=x&" + manyParams(31),
		"Action=x&" + manyParams(32),
		"Action=x&" + manyParams(40) + "&SecretId=y",
		"Action=x&" + manyParams(40) + "&p3=y",
	}
	r := rand.New(rand.NewPCG(1, 2))
	parts := []string{"Action", "SecretId", "Secret%49d", "Act_on", "Act.on", "=", "&", "%", "%4", "%41", "%e4", "+", "x", "_", ".", "="}
	for range 5000 {
		var b strings.Builder
		for range r.IntN(10) {
			b.WriteString(parts[r.IntN(len(parts))])
		}
		inputs = append(inputs, b.String())
	}
	for _, raw := range inputs {
		gotA, gotID := logFields(raw)
		wantA, wantID := parsedLogFields(raw)
		if gotA != wantA || gotID != wantID {
			t.Errorf("logFields(%q) = %q, %q; Parse gives %q, %q", raw, gotA, gotID, wantA, wantID)
		}
	}
}

func manyParams(n int) string {
	var b strings.Builder
	for i := range n {
		if i > 0 {
			b.WriteByte('&')
		}
		b.WriteString("p")
		b.WriteString(strings.Repeat("x", i))
		b.WriteString("=1")
	}
	return b.String()
}
