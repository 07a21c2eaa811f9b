package signature_test

import (
	"fmt"

	"github.com/cdnproxy/cdnproxy/proxy/signature"
)

// ExampleKey_Sign signs the first verified vector of the CDN API 2.0
// reference (GET, HmacSHA1, host cdn.api.qcloud.com) and prints the
// request's canonical query string.
func ExampleKey_Sign() {
	p, err := signature.Parse("Action=DescribeCdnHosts&Nonce=13029" +
		"&SecretId=AKIDT8G5AsY1D3MChWooNq1rFSw1fyBVCX9D&Timestamp=1463122059&limit=10&offset=0")
	if err != nil {
		panic(err)
	}
	key := signature.NewKey("pxPgRWDbCy86ZYyqBTDk7WmeRZSmPco0")
	sig := key.Sign("GET", "cdn.api.qcloud.com", "/v2/index.php", p)
	fmt.Println(sig)
	fmt.Println(p.With("Signature", sig).Encode())
	// Output:
	// bWMMAR1eFGjZ5KWbfxTlBiLiNLc=
	// Action=DescribeCdnHosts&Nonce=13029&SecretId=AKIDT8G5AsY1D3MChWooNq1rFSw1fyBVCX9D&Signature=bWMMAR1eFGjZ5KWbfxTlBiLiNLc%3D&Timestamp=1463122059&limit=10&offset=0
}

// ExampleKey verifies a client's call and signs it again with another
// key, as a proxy in resign mode does for every call: a Key keeps its
// HMACs keyed, so neither step sets up the key again.
func ExampleKey() {
	client := signature.NewKey("pxPgRWDbCy86ZYyqBTDk7WmeRZSmPco0")
	upstream := signature.NewKey("upstream-secret-key")
	p, err := signature.Parse("Action=DescribeCdnHosts&Nonce=13029&SecretId=AKIDT8G5AsY1D3MChWooNq1rFSw1fyBVCX9D" +
		"&Signature=bWMMAR1eFGjZ5KWbfxTlBiLiNLc%3D&Timestamp=1463122059&limit=10&offset=0")
	if err != nil {
		panic(err)
	}
	fmt.Println(client.Verify("GET", "cdn.api.qcloud.com", "/v2/index.php", p))
	p = p.With("SecretId", "AKIDupstream")
	fmt.Println(upstream.Sign("GET", "cdn.api.qcloud.com", "/v2/index.php", p))
	// Output:
	// true
	// I+hZ+GEaPpYaYYpCYaPMyDV0pnY=
}

// ExampleLookup reads one parameter of a query without parsing the rest.
func ExampleLookup() {
	url, ok := signature.Lookup("Action=RefreshCdnUrl&urls.0=http%3A%2F%2Fwww.test.com%2Fa.png", "urls.0")
	fmt.Println(url, ok)
	// Output:
	// http://www.test.com/a.png true
}
