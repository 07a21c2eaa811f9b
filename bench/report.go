package main

import (
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"
	"time"
)

// The project's performance targets: how close to plain cdnproxy must
// stay, and its bounds on added latency and memory.
const (
	targetSuccessRatio = 0.97
	targetErrorRatio   = 0.90
	targetResignRatio  = 0.90
	targetAddedP99     = time.Millisecond
	targetPeakRSS      = 64 << 20
)

// summary is a cell's figures over all runs: medians of the runs' figures,
// except for the throughput ratio, the median over every round of every
// run (each against plain measured moments apart).
type summary struct {
	reqPerSec, mbPerSec float64
	p50, p99            time.Duration
	ratio               float64       // req/s over plain's
	ratioLo, ratioHi    float64       // quartiles of the rounds' ratios
	addedP99            time.Duration // p99 minus plain's, median over every round
	addedLo, addedHi    time.Duration // quartiles of the rounds' differences
	peakRSS             int64
	rssSinceStart       bool
	proxyCPU            time.Duration // per call
	cpuRatio            float64       // proxyCPU over plain's, median over runs
	spread              float64       // (max-min)/median of req/s over runs
	failures            int64
}

// report prints the median table and checks the targets.
func report(w io.Writer, o options, results [][][]cell) error {
	plain := 0 // plain is always o.proxies[0]
	sums := make([][]summary, len(o.bodies))
	for b := range o.bodies {
		sums[b] = make([]summary, len(o.proxies))
		for p := range o.proxies {
			var s summary
			var rps, mbs, ratio, cpuRatio []float64
			var p50, p99, cpu []time.Duration
			var added []float64
			var rss []int64
			for _, run := range results {
				c := run[b][p]
				rps = append(rps, c.reqPerSec)
				mbs = append(mbs, c.mbPerSec)
				p50 = append(p50, c.p50)
				p99 = append(p99, c.p99)
				ratio = append(ratio, c.ratios...)
				for _, d := range c.addedP99s {
					added = append(added, float64(d))
				}
				rss = append(rss, c.peakRSS)
				cpu = append(cpu, c.proxyCPU)
				cpuRatio = append(cpuRatio, float64(c.proxyCPU)/float64(run[b][plain].proxyCPU))
				s.failures += c.failures
				s.rssSinceStart = s.rssSinceStart || c.rssSinceStart
			}
			s.reqPerSec, s.mbPerSec, s.ratio, s.cpuRatio = median(rps), median(mbs), median(ratio), median(cpuRatio)
			s.ratioLo, s.ratioHi = quantile(ratio, 0.25), quantile(ratio, 0.75)
			s.p50, s.p99, s.peakRSS, s.proxyCPU = median(p50), median(p99), median(rss), median(cpu)
			s.addedP99 = time.Duration(median(added))
			s.addedLo, s.addedHi = time.Duration(quantile(added, 0.25)), time.Duration(quantile(added, 0.75))
			s.spread = (slices.Max(rps) - slices.Min(rps)) / s.reqPerSec
			sums[b][p] = s
		}
	}

	fmt.Fprintf(w, "\nMedians of %d runs. Latencies are from sending a call to its last byte. x plain: req/s over plain's in the same\n"+
		"round (the proxies take turns), median over every round of every run, then the middle half of those ratios;\n"+
		"+p99: p99 minus plain's in the same round, likewise. CPU/call: the proxy process's CPU time per call, and over\n"+
		"plain's. spread: (max-min)/median of the runs' req/s.\n\n", len(results))
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "body\tproxy\treq/s\tMB/s\tp50\tp99\tx plain\t(middle half)\t+p99\t(middle half)\tpeak RSS\tCPU/call\tx plain\tspread\tfailed\t")
	for b, body := range o.bodies {
		for p, kind := range o.proxies {
			s := sums[b][p]
			ratio, iqr := fmt.Sprintf("%.3f", s.ratio), fmt.Sprintf("%.2f..%.2f", s.ratioLo, s.ratioHi)
			added, addedIQR := fmtSignedDur(s.addedP99), fmtSignedDur(s.addedLo)+".."+fmtSignedDur(s.addedHi)
			cpuRatio := fmt.Sprintf("%.2f", s.cpuRatio)
			if p == plain {
				ratio, iqr, added, addedIQR, cpuRatio = "1", "", "", "", "1"
			}
			rss := fmtMiB(s.peakRSS)
			if s.rssSinceStart {
				rss += "*"
			}
			fmt.Fprintf(tw, "%s\t%s\t%.0f\t%.1f\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%.0f%%\t%d\t\n",
				body, kind, s.reqPerSec, s.mbPerSec, fmtDur(s.p50), fmtDur(s.p99), ratio, iqr, added, addedIQR, rss, fmtCPU(s.proxyCPU), cpuRatio, s.spread*100, s.failures)
		}
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if slices.ContainsFunc(sums, func(row []summary) bool {
		return slices.ContainsFunc(row, func(s summary) bool { return s.rssSinceStart })
	}) {
		fmt.Fprintln(w, "* the peak RSS could not be reset (/proc/<pid>/clear_refs): it is the peak since the proxy started")
	}

	// Handshakes per proxy over the whole run.
	fmt.Fprintf(w, "\nTLS handshakes at the upstream, whole run (warm-ups included), %d concurrent clients:\n", o.concurrency)
	handshakes := make([]int64, len(o.proxies))
	for p, kind := range o.proxies {
		var hs, resumed, calls int64
		for _, run := range results {
			for b := range o.bodies {
				hs += run[b][p].handshakes
				resumed += run[b][p].resumed
				calls += run[b][p].allCalls
			}
		}
		handshakes[p] = hs
		fmt.Fprintf(w, "  %-13s %6d handshakes (%d resumed) in %8d calls: %7.1f per 10 000 calls\n", kind, hs, resumed, calls, float64(hs)/float64(max(calls, 1))*10000)
	}

	// Targets. They are set for an upstream that answers at once, where
	// the proxies' CPU is the limit; with a delay the upstream is, and
	// every proxy keeps up with it.
	printTargets(w, o, sums, handshakes)
	for _, row := range sums {
		for _, s := range row {
			if s.failures > 0 {
				return fmt.Errorf("some calls failed; the figures are not valid")
			}
		}
	}
	return nil
}

// median returns the median of xs (the mean of the middle two for an
// even count).
func median[T int64 | float64 | time.Duration](xs []T) T {
	s := slices.Clone(xs)
	slices.Sort(s)
	n := len(s)
	if n == 0 {
		return 0
	}
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}

// quantile returns the q-quantile of xs, interpolating between neighbours.
func quantile(xs []float64, q float64) float64 {
	s := slices.Clone(xs)
	slices.Sort(s)
	if len(s) == 0 {
		return 0
	}
	pos := q * float64(len(s)-1)
	i := int(pos)
	if i+1 >= len(s) {
		return s[len(s)-1]
	}
	return s[i] + (pos-float64(i))*(s[i+1]-s[i])
}

// fmtDur formats a latency in ms with three significant digits.
func fmtDur(d time.Duration) string {
	ms := float64(d) / float64(time.Millisecond)
	switch {
	case ms < 10 && ms > -10:
		return fmt.Sprintf("%.3fms", ms)
	case ms < 100 && ms > -100:
		return fmt.Sprintf("%.1fms", ms)
	default:
		return fmt.Sprintf("%.0fms", ms)
	}
}

// fmtSignedDur is fmtDur with a sign.
func fmtSignedDur(d time.Duration) string {
	s := fmtDur(d)
	if !strings.HasPrefix(s, "-") {
		s = "+" + s
	}
	return s
}

// fmtMiB formats a size in MiB.
func fmtMiB(n int64) string {
	if n <= 0 {
		return "?"
	}
	return fmt.Sprintf("%.1fMiB", float64(n)/(1<<20))
}

// fmtCPU formats a CPU time per call in µs.
func fmtCPU(d time.Duration) string {
	return fmt.Sprintf("%.0fµs", float64(d)/float64(time.Microsecond))
}

// printTargets checks the figures against the project's targets.
func printTargets(w io.Writer, o options, sums [][]summary, handshakes []int64) {
	fmt.Fprintln(w, "\nTargets:")
	if o.upstreamDelay > 0 {
		fmt.Fprintf(w, "  not checked: they are for an upstream that answers at once, and this one waited %s\n", o.upstreamDelay)
		return
	}
	check := func(ok bool, format string, args ...any) {
		verdict := "met   "
		if !ok {
			verdict = "MISSED"
		}
		fmt.Fprintf(w, "  %s "+format+"\n", append([]any{verdict}, args...)...)
	}
	for b, body := range o.bodies {
		for p, kind := range o.proxies {
			s := sums[b][p]
			switch {
			case kind == "passthrough" && !isError(body):
				check(s.ratio >= targetSuccessRatio, "%-11s %-13s throughput %.3f x plain (>= %.2f)", kind, body, s.ratio, targetSuccessRatio)
			case kind == "passthrough":
				check(s.ratio >= targetErrorRatio, "%-11s %-13s throughput %.3f x plain (>= %.2f)", kind, body, s.ratio, targetErrorRatio)
			case kind == "resign":
				check(s.ratio >= targetResignRatio, "%-11s %-13s throughput %.3f x plain (>= %.2f)", kind, body, s.ratio, targetResignRatio)
			default:
				continue
			}
			check(s.addedP99 <= targetAddedP99, "%-11s %-13s p99 added %s (<= %s at %d clients)", kind, body, fmtSignedDur(s.addedP99), targetAddedP99, o.concurrency)
			if body == "success-10MB" {
				check(s.peakRSS > 0 && s.peakRSS <= targetPeakRSS, "%-11s %-13s peak RSS %s (<= %s at %d clients)", kind, body, fmtMiB(s.peakRSS), fmtMiB(targetPeakRSS), o.concurrency)
			}
		}
	}
	for p, kind := range o.proxies {
		if kind == "passthrough" || kind == "resign" {
			check(handshakes[p] <= int64(2*o.concurrency), "%-11s handshakes %d over the run (near the %d connections: <= %d)", kind, handshakes[p], o.concurrency, 2*o.concurrency)
		}
	}
}
