package loadtest_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/cdnproxy/cdnproxy/internal/loadtest"
)

// hello is the body the test server answers.
const hello = "hello, load\n"

// server answers hello, or 500 for ?fail.
func server(t testing.TB) string {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Has("fail") {
			http.Error(w, "failing", http.StatusInternalServerError)
			return
		}
		io.WriteString(w, hello)
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

// get returns a Request that gets url, ?fail for the calls failing says.
func get(url string, failing func(i int64) bool) func(context.Context, int64) (*http.Request, error) {
	return func(ctx context.Context, i int64) (*http.Request, error) {
		u := url + "/?i=" + strconv.FormatInt(i, 10)
		if failing != nil && failing(i) {
			u += "&fail"
		}
		return http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	}
}

// statusOK is a Check that wants status 200.
func statusOK(i int64, resp *http.Response, _ []byte) error {
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("call %d: status %d", i, resp.StatusCode)
	}
	return nil
}

func odd(i int64) bool { return i%2 == 1 }

func TestLoadRun(t *testing.T) {
	url := server(t)
	tests := []struct {
		name string
		load loadtest.Load
		// want is what the run must count; with minSent set, only
		// Measured is given, and Sent must be at least minSent.
		want    loadtest.Stats
		minSent int64
	}{
		{
			name: "calls",
			load: loadtest.Load{Concurrency: 4, Calls: 50, Request: get(url, nil), Check: statusOK},
			want: loadtest.Stats{Sent: 50, Answered: 50, Measured: 50, Bytes: 50 * int64(len(hello))},
		},
		{
			name: "more workers than calls",
			load: loadtest.Load{Concurrency: 16, Calls: 3, Request: get(url, nil)},
			want: loadtest.Stats{Sent: 3, Answered: 3, Measured: 3, Bytes: 3 * int64(len(hello))},
		},
		{
			name: "failed calls are not measured",
			load: loadtest.Load{Concurrency: 3, Calls: 20, Request: get(url, odd), Check: statusOK},
			want: loadtest.Stats{Sent: 20, Answered: 20, Failed: 10, Measured: 10},
		},
		{
			name: "a request that cannot be built is not sent",
			load: loadtest.Load{Concurrency: 2, Calls: 10, Check: statusOK, Request: func(ctx context.Context, i int64) (*http.Request, error) {
				if i == 4 {
					return nil, errors.New("no request")
				}
				return get(url, nil)(ctx, i)
			}},
			want: loadtest.Stats{Sent: 9, Answered: 9, Failed: 1, Measured: 9},
		},
		{
			name:    "measured",
			load:    loadtest.Load{Concurrency: 4, Measured: 25, Request: get(url, nil), Check: statusOK},
			want:    loadtest.Stats{Measured: 25},
			minSent: 25,
		},
		{
			name:    "measured, after a warm-up",
			load:    loadtest.Load{Concurrency: 4, Warmup: 20 * time.Millisecond, Measured: 25, Request: get(url, nil), Check: statusOK},
			want:    loadtest.Stats{Measured: 25},
			minSent: 25,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.load.Run(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			if int64(len(got.Latencies)) != got.Measured || !slices.IsSorted(got.Latencies) {
				t.Errorf("%d latencies (sorted: %v) for %d measured calls", len(got.Latencies), slices.IsSorted(got.Latencies), got.Measured)
			}
			if int64(len(got.Errors)) != min(got.Failed, 10) {
				t.Errorf("%d errors kept of %d failures", len(got.Errors), got.Failed)
			}
			if tt.minSent > 0 {
				// Calls that ended just before the window closed, in
				// other workers, are measured too.
				most := tt.want.Measured + int64(tt.load.Concurrency) - 1
				if got.Sent < tt.minSent || got.Answered != got.Sent || got.Failed != 0 || got.Measured < tt.want.Measured || got.Measured > most {
					t.Errorf("got %+v, want %d to %d measured of at least %d sent, all answered", got, tt.want.Measured, most, tt.minSent)
				}
				return
			}
			if got.Sent != tt.want.Sent || got.Answered != tt.want.Answered || got.Failed != tt.want.Failed || got.Measured != tt.want.Measured {
				t.Errorf("sent %d, answered %d, failed %d, measured %d; want %d, %d, %d, %d",
					got.Sent, got.Answered, got.Failed, got.Measured, tt.want.Sent, tt.want.Answered, tt.want.Failed, tt.want.Measured)
			}
			if tt.want.Bytes > 0 && got.Bytes != tt.want.Bytes {
				t.Errorf("bytes %d, want %d", got.Bytes, tt.want.Bytes)
			}
		})
	}
}

// TestLoadWindow checks that a window bounded by time is measured for
// exactly its length, and that no call is begun twice or skipped.
func TestLoadWindow(t *testing.T) {
	url := server(t)
	var mu sync.Mutex
	seen := map[int64]int{}
	got, err := loadtest.Load{
		Concurrency: 3,
		Warmup:      10 * time.Millisecond,
		Window:      30 * time.Millisecond,
		Request: func(ctx context.Context, i int64) (*http.Request, error) {
			mu.Lock()
			seen[i]++
			mu.Unlock()
			return get(url, nil)(ctx, i)
		},
		Check: statusOK,
	}.Run(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if got.Window != 30*time.Millisecond {
		t.Errorf("window %s, want 30ms", got.Window)
	}
	if got.Failed != 0 || got.Measured > got.Sent || int64(len(seen)) != got.Sent {
		t.Errorf("got %+v; %d calls begun", got, len(seen))
	}
	for i := range int64(len(seen)) {
		if seen[i] != 1 {
			t.Errorf("call %d begun %d times", i, seen[i])
		}
	}
}

// TestLoadContext checks that a run with no bound of its own ends with
// its context.
func TestLoadContext(t *testing.T) {
	url := server(t)
	ctx, cancel := context.WithCancel(context.Background())
	got, err := loadtest.Load{
		Concurrency: 2,
		Window:      time.Hour,
		Request:     get(url, nil),
		Check: func(i int64, resp *http.Response, buf []byte) error {
			if i == 10 {
				cancel()
			}
			return statusOK(i, resp, buf)
		},
	}.Run(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if got.Sent < 11 || got.Window >= time.Hour {
		t.Errorf("got sent %d, window %s; want the run cut short after call 10", got.Sent, got.Window)
	}
}

func TestLoadInvalid(t *testing.T) {
	req := get("http://127.0.0.1:1", nil)
	for _, l := range []loadtest.Load{
		{Calls: 1, Request: req},
		{Concurrency: 1, Calls: 1},
		{Concurrency: 1, Request: req},
		{Concurrency: 1, Calls: -1, Request: req},
		{Concurrency: 1, Calls: 1, Warmup: -time.Second, Request: req},
	} {
		if _, err := l.Run(context.Background()); err == nil {
			t.Errorf("%+v: no error", l)
		}
	}
}

func TestPercentile(t *testing.T) {
	ms := func(ns ...int) []time.Duration {
		var out []time.Duration
		for _, n := range ns {
			out = append(out, time.Duration(n)*time.Millisecond)
		}
		return out
	}
	hundred := make([]int, 100)
	for i := range hundred {
		hundred[i] = i + 1
	}
	tests := []struct {
		sorted []time.Duration
		q      float64
		want   time.Duration
	}{
		{nil, 0.5, 0},
		{ms(7), 0.5, 7 * time.Millisecond},
		{ms(7), 0.99, 7 * time.Millisecond},
		{ms(1, 2), 0.5, 1 * time.Millisecond},
		{ms(1, 2, 3), 0.5, 2 * time.Millisecond},
		{ms(hundred...), 0.5, 50 * time.Millisecond},
		{ms(hundred...), 0.99, 99 * time.Millisecond},
		{ms(hundred...), 1, 100 * time.Millisecond},
		{ms(hundred...), 0.001, 1 * time.Millisecond},
	}
	for _, tt := range tests {
		if got := loadtest.Percentile(tt.sorted, tt.q); got != tt.want {
			t.Errorf("Percentile(%d latencies, %v) = %s, want %s", len(tt.sorted), tt.q, got, tt.want)
		}
	}
}

func TestStatsAdd(t *testing.T) {
	var errs []error
	for i := range 8 {
		errs = append(errs, fmt.Errorf("failure %d", i))
	}
	s := loadtest.Stats{Sent: 3, Answered: 2, Failed: 8, Errors: errs, Measured: 2, Bytes: 10, Window: time.Second,
		Latencies: []time.Duration{1, 5}}
	s.Add(loadtest.Stats{Sent: 4, Answered: 4, Failed: 8, Errors: errs, Measured: 3, Bytes: 5, Window: time.Second,
		Latencies: []time.Duration{2, 3, 9}})
	want := loadtest.Stats{Sent: 7, Answered: 6, Failed: 16, Measured: 5, Bytes: 15, Window: 2 * time.Second,
		Latencies: []time.Duration{1, 2, 3, 5, 9}}
	if s.Sent != want.Sent || s.Answered != want.Answered || s.Failed != want.Failed || s.Measured != want.Measured ||
		s.Bytes != want.Bytes || s.Window != want.Window || !slices.Equal(s.Latencies, want.Latencies) {
		t.Errorf("got %+v, want %+v", s, want)
	}
	if len(s.Errors) != 10 || s.Errors[8] != errs[0] {
		t.Errorf("errors %v, want the first 10", s.Errors)
	}
}

// A load of 100 calls, 8 at a time, then its figures.
func ExampleLoad() {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "ok")
	}))
	defer srv.Close()
	s, err := loadtest.Load{
		Concurrency: 8,
		Calls:       100,
		Request: func(ctx context.Context, i int64) (*http.Request, error) {
			return http.NewRequestWithContext(ctx, http.MethodGet, srv.URL, nil)
		},
		Check: func(i int64, resp *http.Response, buf []byte) error {
			if resp.StatusCode != http.StatusOK {
				return fmt.Errorf("call %d: status %d", i, resp.StatusCode)
			}
			return nil
		},
	}.Run(context.Background())
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("%d sent, %d failed, %d measured, %d bytes; p99 latency measured: %v\n",
		s.Sent, s.Failed, s.Measured, s.Bytes, loadtest.Percentile(s.Latencies, 0.99) > 0)
	// Output: 100 sent, 0 failed, 100 measured, 200 bytes; p99 latency measured: true
}
