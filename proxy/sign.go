package proxy

import (
	"cmp"
	"crypto/rand"
	"encoding/binary"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/cdnproxy/cdnproxy/proxy/signature"
)

// SigningMode says what the proxy does with a call's signature.
type SigningMode string

const (
	// Passthrough forwards calls exactly as they came, for clients that
	// already sign for the upstream host.
	Passthrough SigningMode = "passthrough"
	// Resign verifies each call's signature against the host the client
	// used, when it is the proxy's own (see Config.PublicHosts), or the
	// upstream's or the CDN API's hosts, with the upstream key or a client key,
	// then signs it again for the upstream with the upstream credential.
	// Calls that fail verification are answered by the proxy and never
	// forwarded.
	Resign SigningMode = "resign"
	// Sign is Resign plus, for local development, signing calls that carry
	// no SecretId and Signature at all.
	Sign SigningMode = "sign"
)

// Signing configures signature handling. The zero value is Passthrough.
type Signing struct {
	Mode SigningMode
	// SecretID and SecretKey are the upstream credential: every call that
	// leaves the proxy in Resign or Sign mode is signed with them.
	SecretID, SecretKey string
	// ClientKeys maps SecretIds the proxy issues to clients to their
	// keys, so that clients never hold the upstream key. A call signed
	// with a client key leaves with the upstream SecretId.
	ClientKeys map[string]string
	// ClientToken, when set, must arrive as "Authorization: Bearer <token>"
	// (or, for API 3.0 calls whose Authorization header holds their TC3
	// signature, as "X-Cdnproxy-Token: <token>")
	// on every call, in every mode, Passthrough included (compared in
	// constant time).
	ClientToken string
	// Now is the clock for Timestamp checks and for signing; nil means
	// time.Now.
	Now func() time.Time
}

// String describes s without its secrets: the key and the token are
// shown as set or not, SecretIDs masked as in the log, client keys
// counted. Printing a Config (%v, %+v, a panic value) thus never shows
// them.
func (s Signing) String() string {
	return fmt.Sprintf("{Mode:%s SecretID:%s SecretKey:%s ClientKeys:%d ClientToken:%s}",
		s.Mode, maskSecretID(s.SecretID), redacted(s.SecretKey), len(s.ClientKeys), redacted(s.ClientToken))
}

// GoString is String for %#v.
func (s Signing) GoString() string { return "proxy.Signing" + s.String() }

// LogValue is String for slog, whose JSON handler would otherwise
// marshal every exported field.
func (s Signing) LogValue() slog.Value { return slog.StringValue(s.String()) }

// redacted shows whether a secret is set, never the secret.
func redacted(secret string) string {
	if secret == "" {
		return `""`
	}
	return "[redacted]"
}

// How far a call's Timestamp may be from the proxy's clock: each API's own
// tolerance.
const (
	timestampWindow   = 2 * time.Hour   // API 2.0
	timestampWindowV3 = 5 * time.Minute // API 3.0
)

// upstreamServiceV3 is the service name in TC3 credential scopes of calls
// the proxy signs: the CDN API's.
const upstreamServiceV3 = "cdn"

// now returns the signing clock's time.
func (s *Signing) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

// secretKey is a key the proxy verifies or signs calls with, ready for
// both signature versions.
type secretKey struct {
	secret string            // for verifying TC3
	tc3    *signature.TC3Key // for signing TC3
	v1     *signature.Key    // for signature v1
}

// newKeys returns the keys of a signing configuration by SecretId: the
// upstream's and the clients'. Passthrough holds none.
func newKeys(s Signing) map[string]secretKey {
	if s.Mode == Passthrough || s.Mode == "" {
		return nil
	}
	keys := make(map[string]secretKey, len(s.ClientKeys)+1)
	for id, key := range s.ClientKeys {
		keys[id] = secretKey{secret: key, tc3: signature.NewTC3Key(id, key), v1: signature.NewKey(key)}
	}
	keys[s.SecretID] = secretKey{secret: s.SecretKey, tc3: signature.NewTC3Key(s.SecretID, s.SecretKey), v1: signature.NewKey(s.SecretKey)}
	return keys
}

// keyFor returns the key of a SecretId: the upstream's or a client's.
func (p *Proxy) keyFor(id string) (secretKey, *apiError) {
	key, ok := p.keys[id]
	if !ok || id == "" {
		return secretKey{}, errAuth(unknownSecretID)
	}
	return key, nil
}

// upstreamKey is the key every call leaving the proxy is signed with.
func (p *Proxy) upstreamKey() secretKey { return p.keys[p.cfg.Signing.SecretID] }

// resign checks a call of API a and signs it again for the upstream,
// returning the call to forward.
func (p *Proxy) resign(in inbound, a *api) (inbound, *apiError) {
	r := in.r
	if a.gen == 3 {
		auth := r.Header.Get("Authorization")
		_, hasSig := in.params.Get("Signature")
		_, hasID := in.params.Get("SecretId")
		switch {
		case strings.HasPrefix(auth, signature.TC3Algorithm):
			return p.resignTC3(in, a, auth)
		case !hasSig && !hasID && p.cfg.Signing.Mode == Sign && !in.multipart && (in.json || r.Header.Get("X-TC-Action") != ""):
			// An unsigned call in the TC3 style (JSON body, X-TC-*
			// headers); one in the v1 style (Action and Version
			// parameters) is signed with v1 below.
			return p.signTC3(in, a)
		}
		// Otherwise: signature v1 on API 3.0, handled as for 2.0 below.
		if in.parseErr == nil && in.json {
			return in, errAuth("the call carries no TC3 Authorization header")
		}
	}
	return p.resignV1(in, a)
}

// resignV1 checks and re-signs a signature v1 call (API 2.0, or API 3.0
// with SignatureMethod parameters). In Sign mode a call without SecretId
// and Signature is signed from scratch, with Version 2018-06-06 added to
// an API 3.0 call that has none.
func (p *Proxy) resignV1(in inbound, a *api) (inbound, *apiError) {
	s := &p.cfg.Signing
	if in.parseErr != nil {
		return in, errBadRequest("the call's parameters could not be read: " + in.parseErr.Error())
	}
	if in.multipart {
		return in, errBadRequest("calls that are re-signed must be GET or application/x-www-form-urlencoded POST")
	}
	// Sorted once here, the parameters are signed, verified and encoded
	// without another copy or sort each time (see signature's sorted);
	// With keeps them sorted when it replaces a parameter.
	params := slices.Clone(in.params)
	slices.SortStableFunc(params, func(a, b signature.Param) int { return cmp.Compare(a.Name, b.Name) })
	_, hasID := params.Get("SecretId")
	_, hasSig := params.Get("Signature")
	unsigned := s.Mode == Sign && !hasID && !hasSig
	if _, ok := params.Get("Version"); a.gen == 3 && !ok {
		if !unsigned {
			return in, errBadRequest("API 3.0 calls signed with signature v1 need the Version parameter")
		}
		// Signed here: the CDN API's one version, as a developer calling
		// by hand expects.
		params = params.With("Version", v3Version)
	}
	if unsigned {
		params = params.
			With("Nonce", strconv.FormatUint(uint64(nonce()), 10)).
			With("Timestamp", strconv.FormatInt(s.now().Unix(), 10))
	} else if aerr := p.verifyV1(in.r, a, params); aerr != nil {
		return in, aerr
	}
	// The Signature parameter is replaced rather than dropped first: the
	// string to sign leaves it out either way, and Encode orders the
	// parameters by name.
	params = params.With("SecretId", s.SecretID)
	params = params.With("Signature", p.upstreamKey().v1.Sign(in.r.Method, a.upstream.Host, a.upstreamPath, params))
	in.r = withParams(in.r, params)
	return in, nil
}

// verifyV1 checks a signature v1 call's SecretId, Timestamp and Signature.
func (p *Proxy) verifyV1(r *http.Request, a *api, params signature.Params) *apiError {
	id, _ := params.Get("SecretId")
	key, aerr := p.keyFor(id)
	if aerr != nil {
		return aerr
	}
	ts, _ := params.Get("Timestamp")
	if aerr := p.checkTimestamp(ts, a.window); aerr != nil {
		return aerr
	}
	hosts := p.signedHosts(r.Host, a)
	for _, host := range hosts.h[:hosts.n] {
		if key.v1.Verify(r.Method, host, a.path, params) {
			return nil
		}
	}
	return errAuth("the signature does not match")
}

// unknownSecretID is the message of a call signed with a SecretId the
// proxy has no key for.
const unknownSecretID = "the SecretId is not one this proxy accepts"

// checkTimestamp checks a Timestamp against the clock and a window.
func (p *Proxy) checkTimestamp(ts string, window time.Duration) *apiError {
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		return errAuth("the Timestamp is missing or not a number")
	}
	if d := p.cfg.Signing.now().Sub(time.Unix(sec, 0)); d > window || d < -window {
		return errExpired()
	}
	return nil
}

// resignTC3 checks a TC3-HMAC-SHA256 call and signs it again for the
// upstream: same headers signed, same timestamp, same body bytes; the
// upstream host, the upstream credential and the CDN service name.
func (p *Proxy) resignTC3(in inbound, a *api, authorization string) (inbound, *apiError) {
	r := in.r
	auth, err := signature.ParseTC3Authorization(authorization)
	if err != nil {
		return in, errAuth("the Authorization header is not a TC3-HMAC-SHA256 signature")
	}
	key, aerr := p.keyFor(auth.SecretID)
	if aerr != nil {
		return in, aerr
	}
	ts := r.Header.Get("X-TC-Timestamp")
	if aerr := p.checkTimestamp(ts, a.window); aerr != nil {
		return in, aerr
	}
	sec, _ := strconv.ParseInt(ts, 10, 64)
	for _, name := range auth.SignedHeaders {
		if len(r.Header.Values(name)) > 1 {
			return in, errAuth("a signed header is sent more than once")
		}
	}
	req := tc3Request(r, in.body, auth.SignedHeaders, auth.Service, sec)
	verified := false
	hosts := p.signedHosts(r.Host, a)
	for _, host := range hosts.h[:hosts.n] {
		setHost(req.Headers, host)
		if signature.VerifyTC3(key.secret, auth, req) {
			verified = true
			break
		}
	}
	if !verified {
		return in, errAuth("the signature does not match")
	}
	out := withOwnHeader(r)
	req.Service = upstreamServiceV3
	setHost(req.Headers, a.upstream.Host)
	out.Header.Set("Authorization", p.upstreamKey().tc3.Authorization(req))
	in.r = out
	return in, nil
}

// signTC3 signs an unsigned API 3.0 call (Sign mode, local development)
// with the upstream credential and the current time, adding X-TC-Version
// 2018-06-06 when the call has none.
func (p *Proxy) signTC3(in inbound, a *api) (inbound, *apiError) {
	r := in.r
	if r.Header.Get("X-TC-Action") == "" {
		return in, errBadRequest("an unsigned API 3.0 call needs the X-TC-Action header")
	}
	out := withOwnHeader(r)
	if out.Header.Get("X-TC-Version") == "" {
		// The CDN API's one version, as a developer calling by hand
		// expects.
		out.Header.Set("X-TC-Version", v3Version)
	}
	if out.Header.Get("Content-Type") == "" {
		if r.Method == http.MethodPost {
			out.Header.Set("Content-Type", "application/json")
		} else {
			out.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		}
	}
	p.signTC3Request(out, in.body, a)
	in.r = out
	return in, nil
}

// signTC3Request signs r, an API 3.0 call with body, for API a with the
// upstream credential and the proxy's clock, over its Content-Type and
// Host.
func (p *Proxy) signTC3Request(r *http.Request, body []byte, a *api) {
	now := p.cfg.Signing.now().Unix()
	r.Header.Set("X-TC-Timestamp", strconv.FormatInt(now, 10))
	req := tc3Request(r, body, []string{"content-type", "host"}, upstreamServiceV3, now)
	setHost(req.Headers, a.upstream.Host)
	r.Header.Set("Authorization", p.upstreamKey().tc3.Authorization(req))
}

// tc3Request gathers what a TC3 signature covers from a request.
func tc3Request(r *http.Request, body []byte, signed []string, service string, timestamp int64) signature.TC3Request {
	req := signature.TC3Request{
		Method:          r.Method,
		SignedHeaders:   signed,
		Payload:         body,
		Service:         service,
		Timestamp:       timestamp,
		UnsignedPayload: r.Header.Get("X-TC-Content-SHA256") == "UNSIGNED-PAYLOAD",
	}
	if r.Method != http.MethodPost {
		req.Query = r.URL.RawQuery
	}
	for _, name := range signed {
		value := r.Header.Get(name)
		if name == "host" {
			value = r.Host
		}
		req.Headers = append(req.Headers, signature.Header{Name: name, Value: value})
	}
	return req
}

// setHost sets the host header's value among signed headers.
func setHost(headers []signature.Header, host string) {
	for i := range headers {
		if headers[i].Name == "host" {
			headers[i].Value = host
		}
	}
}

// withOwnHeader returns a copy of r with a header of its own, so that
// changing it leaves r as it came.
func withOwnHeader(r *http.Request) *http.Request {
	out := new(http.Request)
	*out = *r
	out.Header = r.Header.Clone()
	return out
}

// withParams returns a copy of r that carries params: in the query for
// GET, as a URL-encoded body for POST (whose query the API ignores, so it
// is dropped).
func withParams(r *http.Request, params signature.Params) *http.Request {
	encoded := params.Encode()
	u := *r.URL
	if r.Method == http.MethodGet {
		out := new(http.Request)
		*out = *r
		u.RawQuery = encoded
		out.URL = &u
		return out
	}
	out := withOwnHeader(r)
	u.RawQuery = ""
	out.URL = &u
	out.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	setBody(out, []byte(encoded))
	return out
}

// nonce returns a random positive Nonce.
func nonce() uint32 {
	var b [4]byte
	_, _ = rand.Read(b[:])
	return binary.BigEndian.Uint32(b[:])>>1 | 1
}
