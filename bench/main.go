// Command bench measures cdnproxy against a plain httputil.ReverseProxy on
// this machine, in one run: the same load, from the same client, to the
// same fake upstream, through
//
//	plain          an httputil.ReverseProxy with cdnproxy's transport and a
//	               pool of copy buffers, and nothing else (the floor)
//	passthrough    cdnproxy, forwarding calls as they were signed
//	resign         cdnproxy, verifying each call's client signature and
//	               signing it again for the upstream
//	plain-nopool   (only with -proxies) plain without the buffer pool
//	plain-default  (only with -proxies) an httputil.ReverseProxy as it
//	               comes: http.DefaultTransport, no buffer pool
//	plain-floor    (only with -proxies) plain plus what any proxy in
//	               cdnproxy's place does on every call: a request id, an
//	               upstream deadline, in-flight, counter and histogram
//	               metrics (see floor.go)
//	plain-floor-log  (only with -proxies) plain-floor plus one JSON log
//	               line per call, as cdnproxy writes for a failed call
//
// for success bodies of 200 B, 100 KB and 10 MB and for a 150-byte error
// body. It prints throughput, p50/p99 latency, the ratio to plain, the p99
// latency each proxy adds, the proxy's peak RSS and CPU time per call, and
// TLS handshakes at the upstream per 10 000 calls, then checks the
// project's targets.
//
// Each proxy runs in its own process (this binary, re-executed in a
// hidden serving mode), so that its peak RSS and CPU time are its own; the
// fake upstream (HTTPS, loopback) and the load client run in this process.
// The proxies take turns of -slice (-slicelarge for the 10 MB body), so
// that they share whatever else the machine is doing, and the figures
// count only what happens inside each turn's measured window. Everything
// listens on 127.0.0.1 only, and the run ends by itself: each cell is
// bounded by -d (-dlarge) and -n, and the whole run is repeated -runs
// times, the table giving medians. The upstream answers at once unless
// -upstream-delay says otherwise: the proxies' CPU is then the limit,
// which is what the comparison is about; with the real API's latency the
// limit is the upstream.
//
//	go run ./bench                       # the full run, about 6 minutes
//	go run ./bench -upstream-delay 20ms -bodies success-200B,error-150B
//	go run ./bench -runs 1 -bodies success-10MB -proxies passthrough -cpuprofile /tmp/prof
//	go tool pprof /tmp/prof/passthrough.pprof
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"slices"
	"strings"
	"syscall"
	"time"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

// options are the command's flags.
type options struct {
	concurrency int
	duration    time.Duration
	large       time.Duration
	slice       time.Duration
	sliceLarge  time.Duration
	warmupLarge time.Duration
	calls       int64
	warmup      time.Duration
	runs        int
	proxies     []string
	bodies      []string
	cpuprofile  string

	upstreamDelay time.Duration
	// The hidden serving mode, used by the parent to start each proxy.
	serve    string
	listen   string
	upstream string
}

// run parses args and either measures (the default) or, in the hidden
// -serve mode, serves one proxy until stdin closes.
func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var o options
	var proxies, bodies string
	fs.IntVar(&o.concurrency, "c", 64, "concurrent client calls, and each proxy's idle upstream connections")
	fs.DurationVar(&o.duration, "d", 6*time.Second, "measured time of each cell (one proxy, one body) in each run, taken in turns of -slice")
	fs.DurationVar(&o.slice, "slice", 500*time.Millisecond, "measured length of one proxy's turn")
	fs.DurationVar(&o.warmup, "warmup", 100*time.Millisecond, "unmeasured load at the start of each turn")
	fs.DurationVar(&o.large, "dlarge", 12*time.Second, "-d for the success-10MB cells, whose calls take about a second each at 64 clients")
	fs.DurationVar(&o.sliceLarge, "slicelarge", 3*time.Second, "-slice for the success-10MB cells")
	fs.DurationVar(&o.warmupLarge, "warmuplarge", time.Second, "-warmup for the success-10MB cells")
	fs.DurationVar(&o.upstreamDelay, "upstream-delay", 0, "time the fake upstream waits before each answer (the real API answers in tens of milliseconds; 0: at once, which makes the proxies' CPU the limit)")
	fs.Int64Var(&o.calls, "n", 0, "measured calls of a cell in each run, if reached before -d (0: no limit)")
	fs.IntVar(&o.runs, "runs", 3, "times the whole set of cells is run; the table shows the median")
	fs.StringVar(&proxies, "proxies", strings.Join(defaultProxies, ","), "proxies to measure, comma-separated: "+strings.Join(allProxies, ", ")+" (plain is always run: it is the reference)")
	fs.StringVar(&bodies, "bodies", strings.Join(bodyNames, ","), "bodies to measure, comma-separated: "+strings.Join(bodyNames, ", "))
	fs.StringVar(&o.cpuprofile, "cpuprofile", "", "directory to write each proxy's CPU profile to (<proxy>.pprof, over the whole run)")
	fs.StringVar(&o.serve, "serve", "", "internal: serve this proxy (used by bench itself)")
	fs.StringVar(&o.listen, "listen", "127.0.0.1:0", "internal: address to serve on")
	fs.StringVar(&o.upstream, "upstream", "", "internal: upstream base URL")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if o.serve != "" {
		return serveChild(ctx, o, stdin, stdout, stderr)
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	var err error
	if o.proxies, err = pick("-proxies", proxies, allProxies); err != nil {
		return err
	}
	if !slices.Contains(o.proxies, "plain") {
		o.proxies = append([]string{"plain"}, o.proxies...)
	}
	if o.bodies, err = pick("-bodies", bodies, bodyNames); err != nil {
		return err
	}
	switch {
	case o.concurrency < 1:
		return errors.New("-c must be at least 1")
	case o.duration <= 0 || o.large <= 0 || o.slice <= 0 || o.sliceLarge <= 0:
		return errors.New("-d, -dlarge, -slice and -slicelarge must be positive")
	case o.runs < 1:
		return errors.New("-runs must be at least 1")
	case o.warmup < 0 || o.warmupLarge < 0 || o.calls < 0:
		return errors.New("-warmup, -warmuplarge and -n must not be negative")
	}
	return measure(ctx, o, stdout)
}

// pick splits a comma-separated list and checks each item against known,
// returning them in known's order.
func pick(flagName, list string, known []string) ([]string, error) {
	var out []string
	for item := range strings.SplitSeq(list, ",") {
		item = strings.TrimSpace(item)
		if item == "" {
			continue
		}
		if !slices.Contains(known, item) {
			return nil, fmt.Errorf("%s: unknown %q (known: %s)", flagName, item, strings.Join(known, ", "))
		}
		if !slices.Contains(out, item) {
			out = append(out, item)
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%s: nothing to measure", flagName)
	}
	slices.SortFunc(out, func(a, b string) int { return slices.Index(known, a) - slices.Index(known, b) })
	return out, nil
}
