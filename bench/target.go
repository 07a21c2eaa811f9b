package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/cdnproxy/cdnproxy/internal/loadtest"
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
// idle pool as large as the concurrency, kept from one slice to the next.
func newTarget(c *child, up *upstream, concurrency int) *target {
	t := &target{
		kind:      c.kind,
		base:      "http://" + c.addr + "/v2/index.php?",
		bodies:    up.bodies,
		client:    loadtest.NewClient(concurrency),
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
// upstream's members first). It reads success bodies with buf.
func (t *target) check(resp *http.Response, body string, buf []byte) error {
	want := t.bodies[body]
	if !isError(body) {
		var n int64
		for {
			k, err := resp.Body.Read(buf)
			n += int64(k)
			if err == io.EOF {
				break
			}
			if err != nil {
				return err
			}
		}
		if resp.StatusCode != http.StatusOK || n != int64(len(want)) {
			return fmt.Errorf("status %d, %d bytes; want 200, %d bytes", resp.StatusCode, n, len(want))
		}
		return nil
	}
	got, err := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if err != nil {
		return err
	}
	ok := resp.StatusCode == http.StatusOK
	if strings.HasPrefix(t.kind, "plain") {
		ok = ok && bytes.Equal(got, want)
	} else {
		ok = ok && len(got) > len(want) && bytes.HasPrefix(got, want[:len(want)-1]) && bytes.Contains(got, []byte(`"category"`))
	}
	if !ok {
		return fmt.Errorf("status %d, unexpected body %.200q", resp.StatusCode, got)
	}
	return nil
}

// runSlice keeps concurrency clients sending calls for body, without a
// pause, from now until the end of a measurement window that opens after
// warmup and lasts window, or until maxCalls calls (if not 0) completed in
// it; calls in flight at the end are completed, not counted. Counting
// only what happens inside the window keeps the ramp-up and the drain of
// long calls out of the figures. Latency runs from sending the request to
// the last byte of the answer; building and signing the call are not
// included.
func runSlice(ctx context.Context, t *target, body string, concurrency int, warmup, window time.Duration, maxCalls int64) (loadtest.Stats, error) {
	return loadtest.Load{
		Concurrency: concurrency,
		Warmup:      warmup,
		Window:      window,
		Measured:    maxCalls,
		Client:      t.client,
		Request:     func(ctx context.Context, _ int64) (*http.Request, error) { return t.request(ctx, body) },
		Check:       func(_ int64, resp *http.Response, buf []byte) error { return t.check(resp, body, buf) },
	}.Run(ctx)
}
