//go:build !race

package proxy

import (
	"context"
	"testing"
	"time"
)

// The in-memory check of a call without a quota (its rate) allocates
// nothing.
func TestLimitsRateAllocs(t *testing.T) {
	l, err := NewLimits(LimitsConfig{On: true, Rates: map[string]Rate{"DescribeDomains": {Calls: 1 << 30, Per: time.Millisecond, Burst: 1 << 30}}})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if n := testing.AllocsPerRun(1000, func() { _ = l.check(ctx, "DescribeDomains", nil, false) }); n != 0 {
		t.Errorf("the rate check allocates %.1f times a call, want 0", n)
	}
}
