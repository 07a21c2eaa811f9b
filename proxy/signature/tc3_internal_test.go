package signature

import (
	"encoding/hex"
	"strings"
	"testing"
)

// TestTC3GenerationC checks the current documentation's vector, whose
// secret key is masked, from its published derived key kSigning onward
// (docs/reference/cdn-api-v3.md §2.2, generation C).
func TestTC3GenerationC(t *testing.T) {
	kSigning, err := hex.DecodeString("b596b923aad85185e2d1f6659d2a062e0a86731226e021e61bfe06f7ed05f5af")
	if err != nil {
		t.Fatal(err)
	}
	r := TC3Request{
		Method: "POST",
		Headers: []Header{
			{"Content-Type", "application/json; charset=utf-8"},
			{"Host", "cvm.tencentcloudapi.com"},
			{"X-TC-Action", "DescribeInstances"},
		},
		SignedHeaders: []string{"content-type", "host", "x-tc-action"},
		Payload:       []byte(`{"Limit": 1, "Filters": [{"Values": ["\u672a\u547d\u540d"], "Name": "instance-name"}]}`),
		Service:       "cvm",
		Timestamp:     1551113065,
	}
	sts := tc3StringToSign(r, tc3Date(r.Timestamp))
	wantSTS := "TC3-HMAC-SHA256\n1551113065\n2019-02-25/cvm/tc3_request\n" +
		"7019a55be8395899b900fb5564e4200d984910f34794a27cb3fb7d10ff6a1e84"
	if sts != wantSTS {
		t.Fatalf("tc3StringToSign =\n%s\nwant\n%s", sts, wantSTS)
	}
	const want = "10b1a37a7301a02ca19a647ad722d5e43b4b3cff309d421d85b46093f6ab6c4f"
	if got := tc3SignWithKey(kSigning, sts); got != want {
		t.Errorf("signature from kSigning = %s, want %s", got, want)
	}
}

// TestTC3KeyDerivation checks the intermediate keys the reference gives for
// key B (kDate f1cb4d51…b5556e, kService e7c609ce…227cd7, kSigning
// 8aa8ab57…a091ed), by prefix and suffix as printed there.
func TestTC3KeyDerivation(t *testing.T) {
	const key = "Gu5t9xGARNpq86cd98joQYCN3*******"
	kDate := hmacSHA256([]byte("TC3"+key), "2019-02-25")
	kService := hmacSHA256(kDate, "cvm")
	kSigning := hmacSHA256(kService, "tc3_request")
	for _, c := range []struct {
		name       string
		k          []byte
		head, tail string
	}{
		{"kDate", kDate, "f1cb4d51", "b5556e"},
		{"kService", kService, "e7c609ce", "227cd7"},
		{"kSigning", kSigning, "8aa8ab57", "a091ed"},
	} {
		h := hex.EncodeToString(c.k)
		if !strings.HasPrefix(h, c.head) || !strings.HasSuffix(h, c.tail) {
			t.Errorf("%s = %s, want %s…%s", c.name, h, c.head, c.tail)
		}
	}
	if got := hex.EncodeToString(tc3SigningKey(key, "2019-02-25", "cvm")); got != hex.EncodeToString(kSigning) {
		t.Errorf("tc3SigningKey = %s, want %s", got, hex.EncodeToString(kSigning))
	}
}
