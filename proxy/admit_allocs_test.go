//go:build !race

// Allocation counts are exact under the normal runtime but not under the
// race detector, so this file is built only without -race; .ci/test runs
// it in a separate pass.

package proxy

import "testing"

// TestLogFieldsAllocs checks that the scan allocates nothing for a
// typical call.
func TestLogFieldsAllocs(t *testing.T) {
	raw := "Action=DescribeCdnHosts&Nonce=48213&Region=ap-guangzhou&SecretId=AKIDxyz&SignatureMethod=HmacSHA256&Timestamp=1700000000&Signature=abc%2Bdef%3D"
	if n := testing.AllocsPerRun(100, func() { logFields(raw) }); n != 0 {
		t.Errorf("%v allocations, want 0", n)
	}
}
