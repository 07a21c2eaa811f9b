//go:build !race

// Allocation counts are exact under the normal runtime but not under the
// race detector, so this file is built only without -race; .ci/test runs
// it in a separate pass.

package proxy_test

import "testing"

// TestOverheadAllocs keeps the allocations cdnproxy adds to a call, over
// those of a plain httputil.ReverseProxy (the same request and writer
// included), within budget: each costs CPU and garbage collection on every
// call. The budgets are today's counts plus one; a change that needs more
// should say why and raise them. See BenchmarkOverhead for the time.
func TestOverheadAllocs(t *testing.T) {
	budget := map[string]float64{ // by body/proxy, over plain's count
		"success-200B/passthrough": 6,
		"success-200B/resign":      18,
		"error-150B/passthrough":   16,
		"error-150B/resign":        28,
	}
	plain := map[string]float64{}
	for _, c := range overheadCells(t) {
		c.serve(t) // warm up pools and series
		got := testing.AllocsPerRun(200, func() { c.serve(t) })
		if c.proxy == "plain" {
			plain[c.body] = got
			continue
		}
		name := c.body + "/" + c.proxy
		if added := got - plain[c.body]; added > budget[name] {
			t.Errorf("%s: %.0f allocations per call over plain's %.0f, want at most %.0f", name, added, plain[c.body], budget[name])
		} else {
			t.Logf("%s: %.0f allocations per call over plain's %.0f (budget %.0f)", name, added, plain[c.body], budget[name])
		}
	}
}
