package signature

// The steps of signing that the package keeps to itself, under names its
// external tests (package signature_test) can reach, so that they check
// each step against the published test vectors.
var (
	// StringToSign returns the signature-v1 string to sign (see Key.Sign).
	StringToSign = func(method, host, path string, p Params) string {
		return string(appendStringToSign(nil, method, host, path, p))
	}
	// TC3CanonicalRequest returns the canonical request of r.
	TC3CanonicalRequest = tc3CanonicalRequest
	// TC3StringToSign returns the TC3 string to sign of r, the
	// credential-scope date being the UTC date of r.Timestamp.
	TC3StringToSign = func(r TC3Request) string { return tc3StringToSign(r, tc3Date(r.Timestamp)) }
	// TC3Signature returns the TC3 signature of r with secretKey.
	TC3Signature = tc3Signature
)
