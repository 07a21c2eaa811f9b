package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cdnproxy/cdnproxy/proxy/signature"
)

// target is one proxy as the load client sees it.
type target struct {
	kind   string
	base   string // http://host:port/v2/index.php?
	bodies map[string][]byte
	client *http.Client
	// The client signs every call, for every proxy, so that its own cost
	// is the same in every cell: for the upstream's host with the
	// upstream key (the signature passthrough and plain forward as is),
	// or, for resign, for the proxy's host with a client key.
	signHost, secretID, secretKey string
}

// newTarget returns the load client's view of a running proxy, with an
// idle pool as large as the concurrency.
func newTarget(c *child, up *upstream, concurrency int) *target {
	t := &target{
		kind:   c.kind,
		base:   "http://" + c.addr + "/v2/index.php?",
		bodies: up.bodies,
		client: &http.Client{Transport: &http.Transport{
			Proxy:               nil,
			DialContext:         (&net.Dialer{Timeout: 5 * time.Second}).DialContext,
			MaxIdleConns:        concurrency,
			MaxIdleConnsPerHost: concurrency,
			IdleConnTimeout:     90 * time.Second,
			DisableCompression:  true,
		}},
		signHost:  up.srv.Listener.Addr().String(),
		secretID:  upstreamSecretID,
		secretKey: upstreamSecretKey,
	}
	if c.kind == "resign" {
		t.signHost, t.secretID, t.secretKey = c.addr, clientSecretID, clientSecretKey
	}
	return t
}

// request builds one freshly signed call for body.
func (t *target) request(ctx context.Context, body string) (*http.Request, error) {
	p := signature.Params{
		{Name: "Action", Value: "DescribeCdnHosts"},
		{Name: "Nonce", Value: strconv.FormatUint(rand.Uint64N(1<<31)+1, 10)},
		{Name: "SecretId", Value: t.secretID},
		{Name: "Timestamp", Value: strconv.FormatInt(time.Now().Unix(), 10)},
		{Name: "body", Value: body},
	}
	sig := signature.NewKey(t.secretKey).Sign(http.MethodGet, t.signHost, "/v2/index.php", p)
	return http.NewRequestWithContext(ctx, http.MethodGet, t.base+p.With("Signature", sig).Encode(), nil)
}

// check reads an answer and checks that it is what the proxy should have
// sent: a success body byte for byte in length, an error body as the
// upstream sent it (plain) or with cdnproxy's annotation added (the
// upstream's members first). It returns the number of body bytes, and
// reports each read's size to progress as it happens.
func (t *target) check(resp *http.Response, body string, buf []byte, progress func(int)) (int64, error) {
	defer resp.Body.Close()
	want := t.bodies[body]
	if !isError(body) {
		var n int64
		for {
			k, err := resp.Body.Read(buf)
			n += int64(k)
			progress(k)
			if err == io.EOF {
				break
			}
			if err != nil {
				return n, err
			}
		}
		if resp.StatusCode != http.StatusOK || n != int64(len(want)) {
			return n, fmt.Errorf("status %d, %d bytes; want 200, %d bytes", resp.StatusCode, n, len(want))
		}
		return n, nil
	}
	got, err := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	progress(len(got))
	if err != nil {
		return int64(len(got)), err
	}
	ok := resp.StatusCode == http.StatusOK
	if strings.HasPrefix(t.kind, "plain") {
		ok = ok && bytes.Equal(got, want)
	} else {
		ok = ok && len(got) > len(want) && bytes.HasPrefix(got, want[:len(want)-1]) && bytes.Contains(got, []byte(`"category"`))
	}
	if !ok {
		return int64(len(got)), fmt.Errorf("status %d, unexpected body %.200q", resp.StatusCode, got)
	}
	return int64(len(got)), nil
}

// slice is what one stretch of load produced within its measurement
// window.
type slice struct {
	calls     int64           // completed within the window
	bytes     int64           // body bytes read within the window
	window    time.Duration   // the window's length
	latencies []time.Duration // of the calls completed within the window
	failures  int64           // failed calls, window or not
	firstErr  error
	started   int64 // calls started, window or not
}

// runSlice keeps concurrency workers sending calls for body, without a
// pause, from now until the end of a measurement window that opens after
// warmup and lasts window, or until maxCalls calls (if not 0) completed in
// it; calls in flight at the end are completed, not counted. Counting
// only what happens inside the window keeps the ramp-up and the drain of
// long calls out of the figures. Latency runs from sending the request to
// the last byte of the answer; building and signing the call are not
// included.
func runSlice(ctx context.Context, t *target, body string, concurrency int, warmup, window time.Duration, maxCalls int64) slice {
	var (
		mu    sync.Mutex
		total slice
		wg    sync.WaitGroup
		done  atomic.Int64 // calls completed in the window
	)
	opens := time.Now().Add(warmup)
	var closes atomic.Int64 // UnixNano; moved earlier when maxCalls is reached
	closes.Store(opens.Add(window).UnixNano())
	for range concurrency {
		wg.Go(func() {
			var s slice
			buf := make([]byte, 64<<10)
			for ctx.Err() == nil && time.Now().UnixNano() < closes.Load() {
				req, err := t.request(ctx, body)
				if err != nil {
					s.fail(err)
					continue
				}
				s.started++
				began := time.Now()
				resp, err := t.client.Do(req)
				if err != nil {
					s.fail(err)
					continue
				}
				_, err = t.check(resp, body, buf, func(k int) {
					if now := time.Now(); now.After(opens) && now.UnixNano() < closes.Load() {
						s.bytes += int64(k)
					}
				})
				if err != nil {
					s.fail(err)
					continue
				}
				end := time.Now()
				if end.Before(opens) || end.UnixNano() >= closes.Load() {
					continue
				}
				s.calls++
				s.latencies = append(s.latencies, end.Sub(began))
				if maxCalls > 0 && done.Add(1) == maxCalls {
					closes.Store(end.UnixNano())
				}
			}
			mu.Lock()
			defer mu.Unlock()
			total.add(s)
		})
	}
	wg.Wait()
	total.window = time.Unix(0, closes.Load()).Sub(opens)
	if total.firstErr != nil && errors.Is(total.firstErr, context.Canceled) {
		total.firstErr = nil
	}
	return total
}

// add adds o's counts to s.
func (s *slice) add(o slice) {
	s.calls += o.calls
	s.bytes += o.bytes
	s.window += o.window
	s.latencies = append(s.latencies, o.latencies...)
	s.failures += o.failures
	s.started += o.started
	if s.firstErr == nil {
		s.firstErr = o.firstErr
	}
}

// fail counts a failed call.
func (s *slice) fail(err error) {
	s.failures++
	if s.firstErr == nil {
		s.firstErr = err
	}
}

// percentile returns the q-quantile (0 < q <= 1) of sorted latencies.
func percentile(sorted []time.Duration, q float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := int(float64(len(sorted))*q+0.999999) - 1
	return sorted[max(0, min(i, len(sorted)-1))]
}
