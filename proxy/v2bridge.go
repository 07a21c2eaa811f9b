package proxy

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"

	"github.com/cdnproxy/cdnproxy/proxy/bridge"
	"github.com/cdnproxy/cdnproxy/proxy/signature"
)

// With Config.BridgeV2, an API 2.0 call never goes to the retired 2.0
// host: the proxy verifies it as in Resign mode, refuses a replay itself
// (the 3.0 upstream never sees the client's Nonce), and has the bridge
// package make the 3.0 calls it translates to, which it signs with TC3 and
// its own clock. The answer is the bridge's 2.0 body.

// v3Version is the CDN API 3.0 version the bridge calls.
const v3Version = "2018-06-06"

// maxV3Answer bounds a 3.0 answer the bridge reads (a DescribeCdnData
// answer for many domains is the largest).
const maxV3Answer = 10 << 20

// serveBridged answers an API 2.0 call, verified by verifyBridged, through
// API 3.0, under the call's deadline.
func (p *Proxy) serveBridged(w *countingWriter, c *call, in inbound, params signature.Params) {
	local := 0 // the limits' retry hint when they answered a 3.0 call themselves
	res, err := p.bridge.Serve(p.clientTrace(in.r), p.cfg.Limits.doer(p.send3, &local), params)
	if err != nil {
		if e := c.upstreamFailed(err, ""); e != nil {
			p.writeError(w, c, e)
		}
		return
	}
	c.deadline.decided()
	c.upstreamAnswered(http.StatusOK)
	c.bridged(res)
	res.Body = p.hintBridged(w.Header(), c, res.Body, local)
	if res.Unsupported {
		p.cfg.Metrics.unsupported(c.action)
	}
	h := w.Header()
	h.Set("Content-Type", "application/json; charset=utf-8")
	h.Set("Content-Length", strconv.Itoa(len(res.Body)))
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusOK) // as the 2.0 API answered every call
	_, _ = w.Write(res.Body)
}

// verifyBridged checks a 2.0 call for the bridge exactly as resign would
// (in Sign mode an unsigned call is accepted), and refuses a signature
// already seen within its window. It returns the call's parameters.
func (p *Proxy) verifyBridged(in inbound) (signature.Params, *apiError) {
	if in.parseErr != nil {
		return nil, errBadRequest("the call's parameters could not be read: " + in.parseErr.Error())
	}
	if in.multipart {
		return nil, errBadRequest("bridged calls must be GET or application/x-www-form-urlencoded POST")
	}
	id, hasID := in.params.Get("SecretId")
	sig, hasSig := in.params.Get("Signature")
	if p.cfg.Signing.Mode == Sign && !hasID && !hasSig {
		return in.params, nil
	}
	if aerr := p.verifyV1(in.r, p.v2, in.params); aerr != nil {
		return nil, aerr
	}
	ts, _ := in.params.Get("Timestamp")
	sec, _ := strconv.ParseInt(ts, 10, 64) // checked by verifyV1
	if !p.firstSeen(in.r.Context(), id+"\x00"+sig, sec, p.cfg.Signing.now()) {
		return nil, errReplay()
	}
	return in.params, nil
}

// send3 is the bridge's Doer: one API 3.0 call to UpstreamV3, signed with
// TC3 by the upstream credential.
func (p *Proxy) send3(ctx context.Context, action string, payload []byte) (int, []byte, error) {
	a := p.v3
	u := *a.upstream
	u.Path = a.upstreamPath
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u.String(), bytes.NewReader(payload))
	if err != nil {
		return 0, nil, err
	}
	// The keys are written canonical, as Header.Set would make them.
	req.Header = http.Header{
		"Content-Type": {"application/json; charset=utf-8"},
		"X-Tc-Action":  {action},
		"X-Tc-Version": {v3Version},
		// Set, so that the transport asks for no compression.
		"Accept-Encoding": {"identity"},
	}
	if c := callFrom(ctx); c.id != "" {
		req.Header["X-Request-Id"] = c.idHeader
	}
	passClientTrace(ctx, req.Header)
	p.signTC3Request(req, payload, a)
	resp, err := p.cfg.Transport.RoundTrip(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxV3Answer+1))
	if err != nil {
		return 0, nil, err
	}
	if len(body) > maxV3Answer {
		return 0, nil, fmt.Errorf("the API 3.0 answer to %s is larger than %d bytes", action, maxV3Answer)
	}
	return resp.StatusCode, body, nil
}

// errReplay is the answer to a bridged call whose signature was already
// used.
func errReplay() *apiError {
	return &apiError{status: http.StatusOK, code: 4500, v3Code: "AuthFailure.SignatureExpire", outcome: outcomeRefused,
		message: "cdnproxy: this signature was already used; sign the call again with a fresh Nonce and Timestamp"}
}

// errBridgeConfig reports a bridge configuration that cannot work.
var errBridgeConfig = errors.New("proxy: BridgeV2 needs UpstreamV3 and the Resign or Sign signing mode")

// newBridge returns the bridge of a configuration, or nil when it has none.
func newBridge(cfg Config) (*bridge.Bridge, error) {
	if !cfg.BridgeV2 {
		return nil, nil
	}
	if cfg.UpstreamV3 == nil || (cfg.Signing.Mode != Resign && cfg.Signing.Mode != Sign) {
		return nil, errBridgeConfig
	}
	return bridge.New(), nil
}
