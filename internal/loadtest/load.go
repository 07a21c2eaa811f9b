package loadtest

import (
	"context"
	"errors"
	"io"
	"math"
	"net"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// Load is a closed-loop HTTP load: Concurrency workers, each sending its
// next call as soon as its last one ended. A run has a measured window,
// which opens after Warmup and closes after Window, or once Measured calls
// succeeded in it; only the calls that end inside it are measured, so
// that the ramp-up and the drain of long calls stay out of the figures.
// Calls in flight when the window closes are completed, not measured.
// At least one of Window, Measured and Calls must bound the run.
type Load struct {
	// Concurrency is the number of workers, each with one call in flight
	// at a time.
	Concurrency int
	// Warmup is the unmeasured load before the window opens.
	Warmup time.Duration
	// Window is the measured window's length; 0 means no time limit.
	Window time.Duration
	// Measured closes the window when the call that makes that many
	// measured ends (calls of other workers that ended just before it
	// are measured too); 0 means no limit.
	Measured int64
	// Calls is how many calls to begin in all, warm-up included; 0 means
	// no limit.
	Calls int64
	// Client sends the calls; nil means NewClient(Concurrency), closed
	// at the end of the run. A client given is kept open, so that its
	// connections serve the next run.
	Client *http.Client
	// Request builds call i (0, 1, 2... in the order the calls begin).
	// Its time is not part of the call's latency.
	Request func(ctx context.Context, i int64) (*http.Request, error)
	// Check checks the answer of call i, reading as much of its body as
	// it needs; buf is a 64 KiB scratch buffer of the worker's. It
	// returns the call's failure, nil if it succeeded. The rest of the
	// body is read and closed after it. Nil means any answer succeeds.
	Check func(i int64, resp *http.Response, buf []byte) error
}

// Stats is what a run (or, added up, several runs) measured.
type Stats struct {
	// Sent counts the requests sent, warm-up included; Answered those
	// that got an answer, of any status.
	Sent, Answered int64
	// Failed counts the calls that failed in any way (their request
	// could not be built or sent, Check said so, or their body broke
	// off), warm-up included.
	Failed int64
	// Errors are the failures of the first few failed calls.
	Errors []error
	// Measured counts the calls that succeeded and ended in the window.
	Measured int64
	// Bytes is the total of the body bytes read in the window, as
	// received.
	Bytes int64
	// Window is the measured window's length: to the end of the run if
	// nothing closed it before.
	Window time.Duration
	// Latencies are the measured calls' latencies, sorted: from sending
	// the request to reading the end of the answer's body.
	Latencies []time.Duration
}

// maxErrors is how many failures a Stats keeps.
const maxErrors = 10

// Add adds o to s, as one run made of both would have measured them,
// with the windows' lengths summed.
func (s *Stats) Add(o Stats) {
	s.add(o)
	slices.Sort(s.Latencies)
}

// add is Add, leaving Latencies unsorted.
func (s *Stats) add(o Stats) {
	s.Sent += o.Sent
	s.Answered += o.Answered
	s.Failed += o.Failed
	s.Errors = append(s.Errors, o.Errors[:min(len(o.Errors), maxErrors-len(s.Errors))]...)
	s.Measured += o.Measured
	s.Bytes += o.Bytes
	s.Window += o.Window
	s.Latencies = append(s.Latencies, o.Latencies...)
}

// fail counts a failed call.
func (s *Stats) fail(err error) {
	s.Failed++
	if len(s.Errors) < maxErrors {
		s.Errors = append(s.Errors, err)
	}
}

// Percentile returns the q-quantile (0 < q <= 1) of sorted latencies, by
// nearest rank; 0 if there are none.
func Percentile(sorted []time.Duration, q float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := int(math.Ceil(float64(len(sorted))*q)) - 1
	return sorted[max(0, min(i, len(sorted)-1))]
}

// NewClient returns a client for a load of concurrency calls at a time:
// it keeps as many connections open, uses no proxy and neither asks for
// nor decodes compression on its own.
func NewClient(concurrency int) *http.Client {
	return &http.Client{Transport: &http.Transport{
		Proxy:               nil,
		DialContext:         (&net.Dialer{Timeout: 5 * time.Second}).DialContext,
		MaxIdleConns:        concurrency,
		MaxIdleConnsPerHost: concurrency,
		IdleConnTimeout:     90 * time.Second,
		DisableCompression:  true,
	}}
}

// Run runs the load until its bounds end it or ctx ends, and returns what
// it measured. Its only error is an invalid Load.
func (l Load) Run(ctx context.Context) (Stats, error) {
	switch {
	case l.Concurrency <= 0:
		return Stats{}, errors.New("loadtest: Concurrency must be positive")
	case l.Request == nil:
		return Stats{}, errors.New("loadtest: no Request")
	case l.Warmup < 0 || l.Window < 0 || l.Measured < 0 || l.Calls < 0:
		return Stats{}, errors.New("loadtest: negative Warmup, Window, Measured or Calls")
	case l.Window == 0 && l.Measured == 0 && l.Calls == 0:
		return Stats{}, errors.New("loadtest: one of Window, Measured and Calls must bound the run")
	}
	client := l.Client
	if client == nil {
		client = NewClient(l.Concurrency)
		defer client.CloseIdleConnections()
	}
	workers := l.Concurrency
	if l.Calls > 0 {
		workers = int(min(int64(workers), l.Calls))
	}
	w := &window{opens: time.Now().Add(l.Warmup)}
	closes := int64(math.MaxInt64)
	if l.Window > 0 {
		closes = w.opens.Add(l.Window).UnixNano()
	}
	w.closes.Store(closes)

	var (
		next     atomic.Int64 // the next call's number
		measured atomic.Int64 // calls measured, against l.Measured
		mu       sync.Mutex
		total    Stats
		wg       sync.WaitGroup
	)
	for range workers {
		wg.Go(func() {
			var s Stats
			buf := make([]byte, 64<<10)
			for ctx.Err() == nil && w.open(time.Now()) {
				i := next.Add(1) - 1
				if l.Calls > 0 && i >= l.Calls {
					break
				}
				began, end, err := l.call(ctx, client, i, buf, w, &s)
				if err != nil {
					s.fail(err)
					continue
				}
				if end.Before(w.opens) || !w.open(end) {
					continue
				}
				s.Measured++
				s.Latencies = append(s.Latencies, end.Sub(began))
				if l.Measured > 0 && measured.Add(1) == l.Measured {
					w.closes.Store(end.UnixNano())
				}
			}
			mu.Lock()
			defer mu.Unlock()
			total.add(s)
		})
	}
	wg.Wait()
	total.Window = max(0, time.Unix(0, min(w.closes.Load(), time.Now().UnixNano())).Sub(w.opens))
	slices.Sort(total.Latencies)
	return total, nil
}

// window is a run's measured window, shared by its workers.
type window struct {
	opens  time.Time
	closes atomic.Int64 // UnixNano; moved earlier when Measured is reached
}

// open reports whether t is before the window closes.
func (w *window) open(t time.Time) bool { return t.UnixNano() < w.closes.Load() }

// call sends call i and checks its answer, counting in s what it sent,
// got answered and read in the window. It returns when the request was
// sent and when the answer's body was read to its end.
func (l Load) call(ctx context.Context, client *http.Client, i int64, buf []byte, w *window, s *Stats) (began, end time.Time, err error) {
	req, err := l.Request(ctx, i)
	if err != nil {
		return began, end, err
	}
	s.Sent++
	began = time.Now()
	resp, err := client.Do(req)
	if err != nil {
		return began, end, err
	}
	s.Answered++
	resp.Body = &windowReader{ReadCloser: resp.Body, w: w, bytes: &s.Bytes}
	if l.Check != nil {
		err = l.Check(i, resp, buf)
	}
	// Read what Check left, so that the connection is reused.
	for err == nil {
		if _, err = resp.Body.Read(buf); err == io.EOF {
			err = nil
			break
		}
	}
	resp.Body.Close()
	return began, time.Now(), err
}

// windowReader adds to *bytes the bytes read through it while the window
// is open.
type windowReader struct {
	io.ReadCloser
	w     *window
	bytes *int64
}

func (r *windowReader) Read(p []byte) (int, error) {
	n, err := r.ReadCloser.Read(p)
	if n > 0 {
		if now := time.Now(); !now.Before(r.w.opens) && r.w.open(now) {
			*r.bytes += int64(n)
		}
	}
	return n, err
}
