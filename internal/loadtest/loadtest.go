// Package loadtest generates HTTP load. Load is the generator: a closed
// loop of concurrent calls over a measured window, recording each
// measured call's latency; it drives both Run and the side-by-side
// benchmark (go run ./bench). Run sends a bounded load of mixed API 2.0
// calls to a cdnproxy whose upstream is an internal/fakeapi server, and
// checks every answer: the status the fake sent, its bytes unchanged, and
// on the errors cdnproxy annotates, exactly the annotation it must add.
// It stops by itself after Config.Calls calls.
package loadtest

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cdnproxy/cdnproxy/annotate"
	"github.com/cdnproxy/cdnproxy/internal/fakeapi"
)

// Mix says what the load is made of. The three kinds are weights: a
// call is a success, an error or a large body in proportion to them.
type Mix struct {
	// Success calls get small API successes, sent on untouched.
	Success int
	// Error calls get the API's error bodies (annotated), a gateway's HTML
	// page (status 502, untouched) and a truncated body (untouched).
	Error int
	// Large calls get generated bodies of half to one and a half times
	// Config.MaxBodyBytes: a success, an error small enough to annotate
	// and one too large to.
	Large int
	// GzipPercent of the calls accept gzip; PostPercent are sent as form
	// POSTs instead of GETs.
	GzipPercent, PostPercent int
}

// DefaultMix is the mix used when Config.Mix is the zero value.
var DefaultMix = Mix{Success: 70, Error: 25, Large: 5, GzipPercent: 30, PostPercent: 25}

// Config is one load run.
type Config struct {
	// URL is the proxy's base URL, such as http://127.0.0.1:8080; its
	// upstream must be a fakeapi server.
	URL string
	// Calls is how many calls to send in all; Concurrency how many at a
	// time.
	Calls, Concurrency int
	// Mix is what the calls are; the zero value means DefaultMix.
	Mix Mix
	// Seed chooses the sequence of calls; a run is repeatable.
	Seed uint64
	// MaxBodyBytes is the proxy's Config.MaxBodyBytes: error bodies
	// larger than this must arrive untouched. It also sizes the large
	// bodies. Zero means the proxy's default, 1 MiB.
	MaxBodyBytes int64
	// Client sends the calls; nil means NewClient(Concurrency) with a
	// two-minute timeout per call.
	Client *http.Client
}

// Result is what a run found.
type Result struct {
	// Calls is the number of calls sent; Answered those that got an
	// answer (any status).
	Calls, Answered int
	// Errors are calls that got no answer or whose body broke off;
	// UnexpectedStatus those answered with another status than the one
	// the fake sent (a non-2xx where the fake sent 200, for instance);
	// Mismatches those whose headers or body differ from what the fake
	// sent plus the expected annotation.
	Errors, UnexpectedStatus, Mismatches int
	// ByKind counts the calls of each kind: success, error, large.
	ByKind map[string]int
	// Bytes is the total of the bodies the client received, as sent on
	// the wire.
	Bytes int64
	// Latency percentiles of the calls that succeeded, from sending the
	// call to the end of its body.
	P50, P90, P99, Max time.Duration
	// Elapsed is the run's wall time.
	Elapsed time.Duration
	// Problems describes the first few failed calls.
	Problems []string
}

// Failed is the number of calls that went wrong in any way.
func (r Result) Failed() int { return r.Errors + r.UnexpectedStatus + r.Mismatches }

// String summarizes r on one line.
func (r Result) String() string {
	return fmt.Sprintf("%d calls (%d success, %d error, %d large) in %s: %d answered, %d errors, %d unexpected status, %d mismatches; %.1f MiB received; latency p50 %s p90 %s p99 %s max %s",
		r.Calls, r.ByKind["success"], r.ByKind["error"], r.ByKind["large"], r.Elapsed.Round(time.Millisecond),
		r.Answered, r.Errors, r.UnexpectedStatus, r.Mismatches, float64(r.Bytes)/(1<<20),
		r.P50.Round(10*time.Microsecond), r.P90.Round(10*time.Microsecond), r.P99.Round(10*time.Microsecond), r.Max.Round(10*time.Microsecond))
}

// scenario is one kind of answer and what the client must get for it.
type scenario struct {
	kind   string
	params url.Values // Action and, for generated bodies, size
	status int
	// body is what the fake sends, uncompressed.
	body []byte
	// compressible is true when the fake gzips the body for calls that
	// accept gzip.
	compressible bool
	// annotated is the body the client must get when cdnproxy annotates
	// it; nil when the body must arrive untouched. members is annotated,
	// decoded.
	annotated []byte
	members   map[string]any
}

// scenarios returns the scenarios of each kind.
func scenarios(maxBody int64) (map[string][]scenario, error) {
	out := map[string][]scenario{}
	add := func(kind string, params url.Values, status int, body []byte, compressible bool) error {
		sc := scenario{kind: kind, params: params, status: status, body: body, compressible: compressible}
		if ann, res := annotate.Body(body); res.Kind == annotate.Failure && !bytes.Equal(ann, body) && int64(len(body)) <= maxBody {
			sc.annotated = ann
			var err error
			if sc.members, err = decode(ann); err != nil {
				return fmt.Errorf("loadtest: the expected annotation of %s is not JSON: %w", params.Get("Action"), err)
			}
		}
		out[kind] = append(out[kind], sc)
		return nil
	}
	kinds := map[string]string{
		fakeapi.RefreshCdnUrl: "success", fakeapi.DescribeCdnHosts: "success", fakeapi.DeleteCdnHost: "success",
	}
	for _, sc := range fakeapi.Fixed() {
		kind := kinds[sc.Action]
		if kind == "" {
			kind = "error"
		}
		if err := add(kind, url.Values{"Action": {sc.Action}}, sc.Status, sc.Body, sc.JSON()); err != nil {
			return nil, err
		}
	}
	for _, g := range []struct {
		action string
		size   int64
	}{
		{fakeapi.HugeSuccess, maxBody / 2},
		{fakeapi.HugeError, maxBody * 3 / 4}, // annotated: within MaxBodyBytes
		{fakeapi.HugeError, maxBody * 3 / 2}, // untouched: over it
	} {
		r, _ := fakeapi.Generated(g.action, g.size)
		body, err := io.ReadAll(r)
		if err != nil {
			return nil, err
		}
		params := url.Values{"Action": {g.action}, "size": {strconv.FormatInt(g.size, 10)}}
		if err := add("large", params, http.StatusOK, body, true); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// decode decodes a JSON object, keeping numbers as written.
func decode(b []byte) (map[string]any, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var m map[string]any
	if err := dec.Decode(&m); err != nil {
		return nil, err
	}
	if dec.More() {
		return nil, errors.New("more than one JSON value")
	}
	return m, nil
}

// Run sends cfg.Calls calls, cfg.Concurrency at a time, and checks every
// answer. It returns early, with what it has, when ctx ends.
func Run(ctx context.Context, cfg Config) (Result, error) {
	if cfg.Calls <= 0 || cfg.Concurrency <= 0 {
		return Result{}, errors.New("loadtest: Calls and Concurrency must be positive")
	}
	if _, err := url.Parse(cfg.URL); err != nil || cfg.URL == "" {
		return Result{}, fmt.Errorf("loadtest: bad URL %q", cfg.URL)
	}
	mix := cfg.Mix
	if mix == (Mix{}) {
		mix = DefaultMix
	}
	if mix.Success < 0 || mix.Error < 0 || mix.Large < 0 || mix.Success+mix.Error+mix.Large == 0 {
		return Result{}, errors.New("loadtest: the Mix weights must be non-negative and not all zero")
	}
	maxBody := cfg.MaxBodyBytes
	if maxBody == 0 {
		maxBody = 1 << 20
	}
	all, err := scenarios(maxBody)
	if err != nil {
		return Result{}, err
	}
	client := cfg.Client
	if client == nil {
		client = NewClient(cfg.Concurrency)
		client.Timeout = 2 * time.Minute
		defer client.CloseIdleConnections()
	}
	endpoint := strings.TrimSuffix(cfg.URL, "/") + fakeapi.Path

	var (
		mu                   sync.Mutex
		byKind               = map[string]int{}
		unexpected, mismatch atomic.Int64
	)
	st, err := Load{
		Concurrency: cfg.Concurrency,
		Calls:       int64(cfg.Calls),
		Client:      client,
		Request: func(ctx context.Context, i int64) (*http.Request, error) {
			c := plan(all, mix, cfg.Seed, i)
			mu.Lock()
			byKind[c.sc.kind]++
			mu.Unlock()
			return request(ctx, endpoint, c, requestID(cfg.Seed, i))
		},
		Check: func(i int64, resp *http.Response, buf []byte) error {
			c := plan(all, mix, cfg.Seed, i)
			failure, detail := answer(resp, c, requestID(cfg.Seed, i), buf)
			switch failure {
			case "":
				return nil
			case failStatus:
				unexpected.Add(1)
			case failMismatch:
				mismatch.Add(1)
			}
			return fmt.Errorf("call %d (%s %s, gzip %v): %s: %s", i, c.method, c.sc.params.Encode(), c.gzip, failure, detail)
		},
	}.Run(ctx)
	if err != nil {
		return Result{}, err
	}
	res := Result{
		Answered:         int(st.Answered),
		UnexpectedStatus: int(unexpected.Load()),
		Mismatches:       int(mismatch.Load()),
		ByKind:           byKind,
		Bytes:            st.Bytes,
		Elapsed:          st.Window,
	}
	for _, n := range byKind {
		res.Calls += n
	}
	res.Errors = int(st.Failed) - res.UnexpectedStatus - res.Mismatches
	for _, err := range st.Errors {
		res.Problems = append(res.Problems, err.Error())
	}
	if n := len(st.Latencies); n > 0 {
		res.P50, res.P90, res.P99 = Percentile(st.Latencies, 0.50), Percentile(st.Latencies, 0.90), Percentile(st.Latencies, 0.99)
		res.Max = st.Latencies[n-1]
	}
	return res, ctx.Err()
}

// callPlan is one call to send.
type callPlan struct {
	sc     scenario
	method string
	gzip   bool
}

// plan chooses call i of the run with seed: the same for the same i
// whatever the order calls are sent in.
func plan(all map[string][]scenario, mix Mix, seed uint64, i int64) callPlan {
	rng := rand.New(rand.NewPCG(seed, uint64(i)))
	kind := "large"
	switch n := rng.IntN(mix.Success + mix.Error + mix.Large); {
	case n < mix.Success:
		kind = "success"
	case n < mix.Success+mix.Error:
		kind = "error"
	}
	list := all[kind]
	c := callPlan{sc: list[rng.IntN(len(list))], method: http.MethodGet}
	if rng.IntN(100) < mix.PostPercent {
		c.method = http.MethodPost
	}
	c.gzip = rng.IntN(100) < mix.GzipPercent
	return c
}

// How a call failed.
const (
	failError    = "error"
	failStatus   = "unexpected status"
	failMismatch = "mismatch"
)

// requestID is the X-Request-Id of call i of the run with seed.
func requestID(seed uint64, i int64) string { return fmt.Sprintf("load-%d-%d", seed, i) }

// request builds the request of call c.
func request(ctx context.Context, endpoint string, c callPlan, id string) (*http.Request, error) {
	params := c.sc.params.Encode()
	var req *http.Request
	var err error
	if c.method == http.MethodPost {
		req, err = http.NewRequestWithContext(ctx, http.MethodPost, endpoint, strings.NewReader(params))
		if err == nil {
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		}
	} else {
		req, err = http.NewRequestWithContext(ctx, http.MethodGet, endpoint+"?"+params, nil)
	}
	if err != nil {
		return nil, err
	}
	req.Header.Set("X-Request-Id", id)
	if c.gzip {
		req.Header.Set("Accept-Encoding", "gzip")
	}
	return req, nil
}

// answer checks the answer of call c, reading its body to the end with
// buf, 64 KiB, as the comparison buffers.
func answer(resp *http.Response, c callPlan, id string, buf []byte) (failure, detail string) {
	raw := &countingReader{r: resp.Body}
	failure, detail = check(resp, raw, c, id, &buffers{buf[:len(buf)/2], buf[len(buf)/2:]})
	// Drain what check did not read, so that the byte count is complete.
	if _, err := io.Copy(io.Discard, raw); err != nil && failure == "" {
		return failError, "reading the body: " + err.Error()
	}
	if failure == "" && resp.ContentLength >= 0 && resp.ContentLength != raw.n {
		return failMismatch, fmt.Sprintf("Content-Length %d, body %d bytes", resp.ContentLength, raw.n)
	}
	return failure, detail
}

// check compares an answer with what the call's scenario says it must
// be. It reads body as far as it needs.
func check(resp *http.Response, body io.Reader, c callPlan, id string, bufs *buffers) (failure, detail string) {
	sc := c.sc
	if resp.StatusCode != sc.status {
		return failStatus, fmt.Sprintf("status %d, want %d", resp.StatusCode, sc.status)
	}
	if got := resp.Header.Get("X-Request-Id"); got != id {
		return failMismatch, fmt.Sprintf("X-Request-Id %q, want %q", got, id)
	}
	ce := resp.Header.Get("Content-Encoding")
	if sc.annotated != nil {
		if ce != "" {
			return failMismatch, fmt.Sprintf("annotated body sent with Content-Encoding %q", ce)
		}
		got, err := io.ReadAll(body)
		if err != nil {
			return failError, "reading the body: " + err.Error()
		}
		return checkAnnotated(got, sc)
	}
	switch {
	case ce == "gzip" && c.gzip && sc.compressible:
		zr, err := gzip.NewReader(body)
		if err != nil {
			return failMismatch, "gzip: " + err.Error()
		}
		body = zr
	case ce != "":
		return failMismatch, fmt.Sprintf("Content-Encoding %q, want none (gzip asked for: %v)", ce, c.gzip)
	}
	n, same, err := bufs.sameStream(body, bytes.NewReader(sc.body))
	switch {
	case err != nil:
		return failError, fmt.Sprintf("reading the body after %d bytes: %v", n, err)
	case !same:
		return failMismatch, fmt.Sprintf("body differs from the upstream's %d bytes within its first %d bytes", len(sc.body), n)
	}
	return "", ""
}

// checkAnnotated checks an annotated body: the upstream's bytes, byte for
// byte, with members added before the final brace, and decoded, exactly
// the expected members.
func checkAnnotated(got []byte, sc scenario) (failure, detail string) {
	end := bytes.LastIndexByte(sc.body, '}')
	head, tail := sc.body[:end], sc.body[end:]
	if !bytes.HasPrefix(got, head) || !bytes.HasSuffix(got, tail) || len(got) <= len(sc.body) {
		return failMismatch, fmt.Sprintf("not the upstream's bytes with members added: %.200q", got)
	}
	m, err := decode(got)
	if err != nil {
		return failMismatch, "annotated body is not one JSON object: " + err.Error()
	}
	if !reflect.DeepEqual(m, sc.members) {
		return failMismatch, fmt.Sprintf("members %v, want %v", short(m), short(sc.members))
	}
	return "", ""
}

// short drops the long data member of generated bodies from a message.
func short(m map[string]any) map[string]any {
	out := make(map[string]any, len(m))
	for k, v := range m {
		if s, ok := v.(string); ok && len(s) > 200 {
			v = s[:200] + "..."
		}
		out[k] = v
	}
	return out
}

// buffers are two comparison buffers of equal length.
type buffers struct{ a, b []byte }

// sameStream is SameStream with bufs.
func (bufs *buffers) sameStream(a, b io.Reader) (int64, bool, error) {
	return sameStream(a, b, bufs.a, bufs.b)
}

// SameStream reports whether a yields exactly the bytes of b, and how many
// bytes it read from a, comparing them 32 KiB at a time so that bodies of
// any size cost the same memory. An error is a's read error.
func SameStream(a, b io.Reader) (int64, bool, error) {
	return sameStream(a, b, make([]byte, 32<<10), make([]byte, 32<<10))
}

// sameStream is SameStream with the buffers given, of equal length.
func sameStream(a, b io.Reader, bufA, bufB []byte) (int64, bool, error) {
	var n int64
	for {
		na, errA := io.ReadFull(a, bufA)
		n += int64(na)
		if errA != nil && errA != io.EOF && errA != io.ErrUnexpectedEOF {
			return n, false, errA
		}
		nb, _ := io.ReadFull(b, bufB)
		if na != nb || !bytes.Equal(bufA[:na], bufB[:nb]) {
			return n, false, nil
		}
		if na < len(bufA) {
			return n, true, nil
		}
	}
}

// countingReader counts the bytes read through it.
type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}
