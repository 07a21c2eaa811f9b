package loadtest_test

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/cdnproxy/cdnproxy/internal/fakeapi"
	"github.com/cdnproxy/cdnproxy/internal/loadtest"
	"github.com/cdnproxy/cdnproxy/proxy"
)

// suiteCalls is the size of the suite's run. Above it a run is at full
// size: the large bodies are sized for the proxy's default MaxBodyBytes,
// and the real binary is loaded too, for its peak RSS.
const suiteCalls = 2000

// The suite runs a small load; the same test at full size is the
// benchmark command of docs/reliability.md:
//
//	go test ./internal/loadtest -run TestLoad -count=1 -load.calls=20000 -load.concurrency=256 -v
var (
	loadCalls       = flag.Int("load.calls", suiteCalls, "calls in each load run")
	loadConcurrency = flag.Int("load.concurrency", 0, "calls at a time; 0 runs at 64 and at 256")
	loadMaxBody     = flag.Int64("load.maxbody", 0, "the proxy's MaxBodyBytes, which sizes the large bodies; 0 means 1 MiB (the proxy's default) at full size, 256 KiB at the suite's")
)

// maxRSS is a generous bound on the binary's peak RSS under the full
// load; it is measured at a fifth of this (docs/reliability.md).
const maxRSS = 256 << 20

// runBound bounds a whole load run, so that a stuck proxy fails the test
// instead of hanging it. It is no assertion on speed.
const runBound = 10 * time.Minute

// TestLoad sends the load through the proxy in this process (reporting
// the peak heap of the process: proxy, fake upstream and client
// together) and, at full size, through the real binary in its own process
// as well (reporting the peak RSS of the proxy alone). Every call must be
// answered with the upstream's status and bytes plus the expected
// annotation.
func TestLoad(t *testing.T) {
	levels := []int{64, 256}
	if *loadConcurrency > 0 {
		levels = []int{*loadConcurrency}
	}
	full := *loadCalls > suiteCalls
	maxBody := *loadMaxBody
	if maxBody == 0 {
		maxBody = 256 << 10
		if full {
			maxBody = 1 << 20
		}
	}
	api := fakeapi.New(t)

	t.Run("in-process", func(t *testing.T) {
		for _, conc := range levels {
			t.Run(fmt.Sprintf("%d calls at %d", *loadCalls, conc), func(t *testing.T) {
				front := startProxy(t, api.URL, conc, maxBody)
				sampler := startHeapSampler()
				res := runLoad(t, front, conc, maxBody)
				base, peak := sampler.stop()
				t.Logf("heap in use (whole test process): %.1f MiB before, peak %.1f MiB", mib(base), mib(peak))
				t.Logf("%s", res)
			})
		}
	})

	if !full {
		return
	}
	t.Run("binary", func(t *testing.T) {
		bin := buildBinary(t)
		for _, conc := range levels {
			t.Run(fmt.Sprintf("%d calls at %d", *loadCalls, conc), func(t *testing.T) {
				p := startBinary(t, bin, api.URL, conc, maxBody)
				res := runLoad(t, "http://"+p.addr, conc, maxBody)
				hwm, rss := procStatus(t, p.cmd.Process.Pid, "VmHWM"), procStatus(t, p.cmd.Process.Pid, "VmRSS")
				t.Logf("cdnproxy process: peak RSS (VmHWM) %.1f MiB, RSS at the end %.1f MiB", mib(hwm), mib(rss))
				if hwm > maxRSS {
					t.Errorf("cdnproxy's peak RSS is %.1f MiB, want under %d MiB", mib(hwm), maxRSS>>20)
				}
				t.Logf("%s", res)
				p.stop(t)
			})
		}
	})
}

// runLoad runs the load against url and fails the test on any call that
// went wrong.
func runLoad(t *testing.T, url string, conc int, maxBody int64) loadtest.Result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), runBound)
	defer cancel()
	res, err := loadtest.Run(ctx, loadtest.Config{URL: url, Calls: *loadCalls, Concurrency: conc, MaxBodyBytes: maxBody, Seed: uint64(conc)})
	if err != nil {
		t.Fatalf("load run: %v (%s)", err, res)
	}
	if res.Calls != *loadCalls || res.Answered != *loadCalls || res.Failed() != 0 {
		t.Errorf("%s\nproblems:\n%s", res, strings.Join(res.Problems, "\n"))
	}
	for _, kind := range []string{"success", "error", "large"} {
		if res.ByKind[kind] == 0 {
			t.Errorf("no %s calls in the mix", kind)
		}
	}
	return res
}

// startProxy serves a proxy in front of upstream as cmd/cdnproxy does,
// with metrics, the failures page and a JSON logger, and returns its URL.
func startProxy(t *testing.T, upstream string, idle int, maxBody int64) string {
	t.Helper()
	u, err := url.Parse(upstream)
	if err != nil {
		t.Fatal(err)
	}
	p, err := proxy.New(proxy.Config{
		Upstream:     u,
		MaxBodyBytes: maxBody,
		Transport:    proxy.NewTransport(idle),
		Logger:       slog.New(slog.NewJSONHandler(io.Discard, &slog.HandlerOptions{Level: slog.LevelWarn})),
		Metrics:      proxy.NewMetrics(prometheus.NewRegistry()),
		Failures:     proxy.NewFailures(200, nil),
	})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewUnstartedServer(p)
	srv.Config.ReadHeaderTimeout = 10 * time.Second
	srv.Config.ReadTimeout = 60 * time.Second
	srv.Config.IdleTimeout = 120 * time.Second
	srv.Config.MaxHeaderBytes = 1 << 20
	srv.Start()
	t.Cleanup(srv.Close)
	return srv.URL
}

// heapSampler records the peak of runtime.MemStats.HeapInuse.
type heapSampler struct {
	base uint64
	peak atomic.Uint64
	done chan struct{}
	wg   sync.WaitGroup
}

func startHeapSampler() *heapSampler {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	s := &heapSampler{base: ms.HeapInuse, done: make(chan struct{})}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		tick := time.NewTicker(10 * time.Millisecond)
		defer tick.Stop()
		var ms runtime.MemStats
		for {
			runtime.ReadMemStats(&ms)
			if ms.HeapInuse > s.peak.Load() {
				s.peak.Store(ms.HeapInuse)
			}
			select {
			case <-s.done:
				return
			case <-tick.C:
			}
		}
	}()
	return s
}

func (s *heapSampler) stop() (base, peak uint64) {
	close(s.done)
	s.wg.Wait()
	return s.base, s.peak.Load()
}

func mib(b uint64) float64 { return float64(b) / (1 << 20) }

// buildBinary builds cmd/cdnproxy into a temporary directory.
func buildBinary(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "cdnproxy")
	out, err := exec.Command("go", "build", "-o", bin, "github.com/cdnproxy/cdnproxy/cmd/cdnproxy").CombinedOutput()
	if err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// process is a running cdnproxy binary.
type process struct {
	cmd     *exec.Cmd
	addr    string
	exited  chan struct{}
	waitErr error // set before exited closes
}

// startBinary runs bin in front of upstream with its defaults, but
// logging failed calls only and keeping idle upstream connections for
// conc calls, and returns once its /healthz answers.
func startBinary(t *testing.T, bin, upstream string, conc int, maxBody int64) *process {
	t.Helper()
	p := &process{addr: freeAddr(t), exited: make(chan struct{})}
	admin := freeAddr(t)
	p.cmd = exec.Command(bin)
	p.cmd.Env = []string{
		"CDNPROXY_LISTEN_ADDR=" + p.addr,
		"CDNPROXY_ADMIN_ADDR=" + admin,
		"CDNPROXY_UPSTREAM_URL=" + upstream,
		"CDNPROXY_LOG_LEVEL=warn",
		"CDNPROXY_MAX_IDLE_CONNS=" + strconv.Itoa(conc),
		"CDNPROXY_MAX_BODY_BYTES=" + strconv.FormatInt(maxBody, 10),
	}
	p.cmd.Stdout = io.Discard
	stderr := &strings.Builder{}
	p.cmd.Stderr = stderr
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { p.waitErr = p.cmd.Wait(); close(p.exited) }()
	t.Cleanup(func() {
		select {
		case <-p.exited:
		default:
			p.cmd.Process.Kill()
			<-p.exited
		}
	})
	for try := 0; ; try++ {
		resp, err := http.Get("http://" + admin + "/healthz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return p
			}
		}
		select {
		case <-p.exited:
			t.Fatalf("cdnproxy exited before it was healthy: %v", p.waitErr)
		default:
		}
		if try == 500 {
			t.Fatalf("/healthz did not answer 200 after %d tries", try)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// stop sends SIGTERM and waits (bounded) for exit status 0.
func (p *process) stop(t *testing.T) {
	t.Helper()
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case <-p.exited:
		if p.waitErr != nil {
			t.Errorf("cdnproxy exited with %v after SIGTERM, want status 0", p.waitErr)
		}
	case <-time.After(time.Minute):
		t.Fatalf("cdnproxy did not exit within a minute of SIGTERM")
	}
}

// procStatus returns a memory figure (VmHWM, VmRSS...) of a process from
// /proc/<pid>/status, in bytes.
func procStatus(t *testing.T, pid int, field string) uint64 {
	t.Helper()
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		t.Fatalf("reading the process's memory: %v", err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		name, value, ok := strings.Cut(sc.Text(), ":")
		if !ok || name != field {
			continue
		}
		kb, err := strconv.ParseUint(strings.TrimSuffix(strings.TrimSpace(value), " kB"), 10, 64)
		if err != nil {
			t.Fatalf("%s: %q: %v", field, value, err)
		}
		return kb << 10
	}
	t.Fatalf("no %s in /proc/%d/status", field, pid)
	return 0
}

// freeAddr returns a 127.0.0.1 address with a port that was free a moment
// ago.
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}
