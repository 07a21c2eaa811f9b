package proxy

import (
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// BenchmarkMetricsObserve measures counting one successful API 2.0 call.
func BenchmarkMetricsObserve(b *testing.B) {
	m := NewMetrics(prometheus.NewRegistry())
	c := &call{action: "DescribeCdnHosts", api: &api{gen: 2}, successor: "DescribeDomains", outcome: outcomeSuccess}
	c.upstream.start = time.Now()
	c.upstream.duration = time.Millisecond
	b.ReportAllocs()
	for b.Loop() {
		m.observe(c)
	}
}
