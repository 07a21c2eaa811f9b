package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime"
	"strings"
	"time"

	"github.com/cdnproxy/cdnproxy/internal/loadtest"
)

// cell is the outcome of one proxy and one body in one run: the sum of
// its slices.
type cell struct {
	reqPerSec, mbPerSec float64
	p50, p99            time.Duration
	calls, failures     int64 // measured calls; failed calls, warm-ups included
	firstErr            error
	peakRSS             int64           // bytes; 0 if unknown
	rssSinceStart       bool            // the peak could not be reset: it covers the process's life
	handshakes, resumed int64           // at the upstream, warm-ups included
	allCalls            int64           // calls started, warm-ups included
	proxyCPU, restCPU   time.Duration   // per call: the proxy's, and the client's and upstream's
	ratios              []float64       // req/s over plain's, in each round
	addedP99s           []time.Duration // p99 minus plain's, in each round
}

// measure runs every cell o.runs times and prints the table.
func measure(ctx context.Context, o options, stdout io.Writer) error {
	dir, err := os.MkdirTemp("", "cdnproxy-bench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	if o.cpuprofile != "" {
		if err := os.MkdirAll(o.cpuprofile, 0o755); err != nil {
			return err
		}
	}
	up, err := startUpstream(dir, o.upstreamDelay)
	if err != nil {
		return err
	}
	defer up.close()

	children := make([]*child, len(o.proxies))
	targets := make([]*target, len(o.proxies))
	defer func() {
		for _, c := range children {
			if c != nil {
				c.stop()
			}
		}
	}()
	for i, kind := range o.proxies {
		c, err := startChild(kind, o, up)
		if err != nil {
			return err
		}
		children[i], targets[i] = c, newTarget(c, up, o.concurrency)
	}

	printHeader(stdout, o)
	var perRun time.Duration
	for _, body := range o.bodies {
		warmup, window, rounds := o.slicing(body)
		perRun += time.Duration(rounds*len(o.proxies)) * (warmup + window)
	}
	fmt.Fprintf(stdout, "%d runs x %d bodies x %d proxies, at least %s in all\n\n",
		o.runs, len(o.bodies), len(o.proxies), (time.Duration(o.runs) * perRun).Round(time.Second))

	// results[run][body][proxy]
	results := make([][][]cell, o.runs)
	for run := range o.runs {
		results[run] = make([][]cell, len(o.bodies))
		for b, body := range o.bodies {
			cells, err := runBody(ctx, o, up, children, targets, body, run)
			if err != nil {
				return err
			}
			results[run][b] = cells
			for p, c := range cells {
				fmt.Fprintf(stdout, "run %d/%d  %-13s %-13s %8.0f req/s %8.1f MB/s  p50 %9s  p99 %9s  peak RSS %8s  CPU/call proxy %s, client+upstream %s  handshakes %3d / %6d calls",
					run+1, o.runs, body, o.proxies[p], c.reqPerSec, c.mbPerSec, fmtDur(c.p50), fmtDur(c.p99), fmtMiB(c.peakRSS), fmtCPU(c.proxyCPU), fmtCPU(c.restCPU), c.handshakes, c.allCalls)
				if c.failures > 0 {
					fmt.Fprintf(stdout, "  FAILED %d: %v", c.failures, c.firstErr)
				}
				fmt.Fprintln(stdout)
			}
		}
	}
	return report(stdout, o, results)
}

// slicing returns how a body's cells are measured: each proxy in turn,
// for rounds rounds, gets warmup of load then a window that is measured.
// Short turns make the proxies share whatever else the machine is doing
// at the time. The 10 MB body, whose calls take about a second at 64
// clients, has turns of its own length.
func (o options) slicing(body string) (warmup, window time.Duration, rounds int) {
	warmup, window, total := o.warmup, o.slice, o.duration
	if isLarge(body) {
		warmup, window, total = o.warmupLarge, o.sliceLarge, o.large
	}
	return warmup, window, max(1, int((total+window-1)/window))
}

// runBody measures every proxy with one body, in rounds of one slice per
// proxy, and returns each proxy's cell.
func runBody(ctx context.Context, o options, up *upstream, children []*child, targets []*target, body string, run int) ([]cell, error) {
	warmup, window, rounds := o.slicing(body)
	var perSlice int64
	if o.calls > 0 {
		perSlice = max(1, (o.calls+int64(rounds)-1)/int64(rounds))
	}
	sums := make([]loadtest.Stats, len(o.proxies))
	cells := make([]cell, len(o.proxies))
	cpu := make([][2]time.Duration, len(o.proxies)) // proxy, rest
	rps := make([]float64, len(o.proxies))          // in this round
	p99 := make([]time.Duration, len(o.proxies))    // in this round
	for round := range rounds {
		for k := range o.proxies {
			// Rotate the order from round to round and run to run, so
			// that no proxy always follows the same one.
			p := (k + round + run) % len(o.proxies)
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			c := &cells[p]
			c.rssSinceStart = c.rssSinceStart || children[p].resetPeakRSS() != nil
			hs, res := up.handshakes.Load(), up.resumed.Load()
			childCPU, _ := children[p].cpuTime()
			selfCPU := selfCPUTime()
			s, err := runSlice(ctx, targets[p], body, o.concurrency, warmup, window, perSlice)
			if err != nil {
				return nil, err
			}
			c.handshakes += up.handshakes.Load() - hs
			c.resumed += up.resumed.Load() - res
			childCPU2, _ := children[p].cpuTime()
			cpu[p][0] += childCPU2 - childCPU
			cpu[p][1] += selfCPUTime() - selfCPU
			if rss, err := children[p].peakRSS(); err == nil {
				c.peakRSS = max(c.peakRSS, rss)
			}
			rps[p], p99[p] = float64(s.Measured)/s.Window.Seconds(), loadtest.Percentile(s.Latencies, 0.99)
			sums[p].Add(s)
		}
		for p := range cells {
			// plain is o.proxies[0]
			cells[p].ratios = append(cells[p].ratios, rps[p]/rps[0])
			cells[p].addedP99s = append(cells[p].addedP99s, p99[p]-p99[0])
		}
	}
	for p := range cells {
		c, s := &cells[p], &sums[p]
		secs := s.Window.Seconds()
		c.reqPerSec = float64(s.Measured) / secs
		c.mbPerSec = float64(s.Bytes) / secs / 1e6
		c.p50, c.p99 = loadtest.Percentile(s.Latencies, 0.50), loadtest.Percentile(s.Latencies, 0.99)
		c.calls, c.failures, c.allCalls = s.Measured, s.Failed, s.Sent
		// A call cut short by an interrupted run is no failure of the
		// proxy's.
		if len(s.Errors) > 0 && !errors.Is(s.Errors[0], context.Canceled) {
			c.firstErr = s.Errors[0]
		}
		c.proxyCPU = cpu[p][0] / time.Duration(max(s.Sent, 1))
		c.restCPU = cpu[p][1] / time.Duration(max(s.Sent, 1))
	}
	return cells, nil
}

// printHeader describes the machine and the run.
func printHeader(w io.Writer, o options) {
	fmt.Fprintf(w, "cdnproxy bench, %s\n", time.Now().UTC().Format("2006-01-02 15:04 MST"))
	fmt.Fprintf(w, "machine: %d CPUs (%s), %s memory, %s/%s, %s\n",
		runtime.NumCPU(), cpuModel(), memTotal(), runtime.GOOS, runtime.GOARCH, runtime.Version())
	fmt.Fprintf(w, "load: %d concurrent clients; per run, each proxy measured %s per body (%s for success-10MB)", o.concurrency, o.duration, o.large)
	if o.calls > 0 {
		fmt.Fprintf(w, " or %d calls", o.calls)
	}
	fmt.Fprintf(w, ", in turns of %s after %s warm-up (%s after %s for success-10MB)\n", o.slice, o.warmup, o.sliceLarge, o.warmupLarge)
	fmt.Fprintf(w, "upstream: HTTPS on loopback, HTTP/1.1, answering after %s; each proxy in its own process with %d idle upstream connections\n", o.upstreamDelay, o.concurrency)
}

// cpuModel returns the first "model name" of /proc/cpuinfo.
func cpuModel() string {
	b, err := os.ReadFile("/proc/cpuinfo")
	if err != nil {
		return "unknown CPU"
	}
	for line := range strings.SplitSeq(string(b), "\n") {
		if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return "unknown CPU"
}

// memTotal returns MemTotal of /proc/meminfo, in GiB.
func memTotal() string {
	b, err := os.ReadFile("/proc/meminfo")
	if err != nil {
		return "unknown"
	}
	for line := range strings.SplitSeq(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, "MemTotal:"); ok {
			var kb int64
			if _, err := fmt.Sscan(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), &kb); err == nil {
				return fmt.Sprintf("%.1f GiB", float64(kb)/(1<<20))
			}
		}
	}
	return "unknown"
}
