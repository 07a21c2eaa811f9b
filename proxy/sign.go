package proxy

import (
	"cmp"
	"crypto/rand"
	"crypto/subtle"
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
	// used (or the upstream host), with the upstream key or a client key,
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

// tokenHeader carries the client token for calls whose Authorization
// header is taken by a TC3 signature.
const tokenHeader = "X-Cdnproxy-Token"

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

// resign checks and re-signs a call for its API generation, returning
// the request to forward.
func (p *Proxy) resign(in *inbound) (*http.Request, *apiError) {
	r := in.r
	if in.api.gen == 3 {
		auth := r.Header.Get("Authorization")
		_, hasSig := in.params.Get("Signature")
		_, hasID := in.params.Get("SecretId")
		switch {
		case strings.HasPrefix(auth, signature.TC3Algorithm):
			return p.resignTC3(in, auth)
		case !hasSig && !hasID && p.cfg.Signing.Mode == Sign && !in.multipart && (in.json || r.Header.Get("X-TC-Action") != ""):
			// An unsigned call in the TC3 style (JSON body, X-TC-*
			// headers); one in the v1 style (Action and Version
			// parameters) is signed with v1 below.
			return p.signTC3(in)
		}
		// Otherwise: signature v1 on API 3.0, handled as for 2.0 below.
		if in.parseErr == nil && in.json {
			return nil, errAuth("the call carries no TC3 Authorization header")
		}
	}
	return p.resignV1(in)
}

// resignV1 checks and re-signs a signature v1 call (API 2.0, or API 3.0
// with SignatureMethod parameters). In Sign mode a call without SecretId
// and Signature is signed from scratch.
func (p *Proxy) resignV1(in *inbound) (*http.Request, *apiError) {
	s := &p.cfg.Signing
	r, a := in.r, in.api
	if in.parseErr != nil {
		return nil, errBadRequest("the call's parameters could not be read: " + in.parseErr.Error())
	}
	if in.multipart {
		return nil, errBadRequest("calls that are re-signed must be GET or application/x-www-form-urlencoded POST")
	}
	// Sorted once here, the parameters are signed, verified and encoded
	// without another copy or sort each time (see signature's sorted);
	// With keeps them sorted when it replaces a parameter.
	params := slices.Clone(in.params)
	slices.SortStableFunc(params, func(a, b signature.Param) int { return cmp.Compare(a.Name, b.Name) })
	if _, ok := params.Get("Version"); a.gen == 3 && !ok {
		return nil, errBadRequest("API 3.0 calls signed with signature v1 need the Version parameter")
	}
	_, hasID := params.Get("SecretId")
	_, hasSig := params.Get("Signature")
	if s.Mode == Sign && !hasID && !hasSig {
		params = params.
			With("Nonce", strconv.FormatUint(uint64(nonce()), 10)).
			With("Timestamp", strconv.FormatInt(s.now().Unix(), 10))
	} else if aerr := p.verifyV1(r, a, params); aerr != nil {
		return nil, aerr
	}
	// The Signature parameter is replaced rather than dropped first: the
	// string to sign leaves it out either way, and Encode orders the
	// parameters by name.
	params = params.With("SecretId", s.SecretID)
	params = params.With("Signature", p.v1Keys[s.SecretID].Sign(r.Method, a.upstream.Host, a.upstreamPath, params))
	return rebuild(r, params), nil
}

// verifyV1 checks a signature v1 call's SecretId, Timestamp and Signature.
func (p *Proxy) verifyV1(r *http.Request, a *api, params signature.Params) *apiError {
	id, _ := params.Get("SecretId")
	key, ok := p.v1Keys[id]
	if !ok || id == "" {
		return errAuth(unknownSecretID)
	}
	ts, _ := params.Get("Timestamp")
	if aerr := p.checkTimestamp(ts, a.window); aerr != nil {
		return aerr
	}
	for _, host := range signature.Hosts(r.Host, a.upstream.Host) {
		if key.Verify(r.Method, host, a.path, params) {
			return nil
		}
	}
	return errAuth("the signature does not match")
}

// keyFor returns the secret key of a SecretId: the upstream's or a
// client's (for signature v1, p.v1Keys holds them ready to use).
func (p *Proxy) keyFor(id string) (string, *apiError) {
	s := &p.cfg.Signing
	if id != "" && id == s.SecretID {
		return s.SecretKey, nil
	}
	if key, ok := s.ClientKeys[id]; ok && id != "" {
		return key, nil
	}
	return "", errAuth(unknownSecretID)
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
func (p *Proxy) resignTC3(in *inbound, authorization string) (*http.Request, *apiError) {
	r, a := in.r, in.api
	auth, err := signature.ParseTC3Authorization(authorization)
	if err != nil {
		return nil, errAuth("the Authorization header is not a TC3-HMAC-SHA256 signature")
	}
	key, aerr := p.keyFor(auth.SecretID)
	if aerr != nil {
		return nil, aerr
	}
	ts := r.Header.Get("X-TC-Timestamp")
	if aerr := p.checkTimestamp(ts, a.window); aerr != nil {
		return nil, aerr
	}
	sec, _ := strconv.ParseInt(ts, 10, 64)
	for _, name := range auth.SignedHeaders {
		if len(r.Header.Values(name)) > 1 {
			return nil, errAuth("a signed header is sent more than once")
		}
	}
	req := tc3Request(r, in.body, auth.SignedHeaders, auth.Service, sec)
	verified := false
	for _, host := range signature.Hosts(r.Host, a.upstream.Host) {
		setHost(req.Headers, host)
		if signature.VerifyTC3(key, auth, req) {
			verified = true
			break
		}
	}
	if !verified {
		return nil, errAuth("the signature does not match")
	}
	out := ownHeader(r)
	req.Service = upstreamServiceV3
	setHost(req.Headers, a.upstream.Host)
	out.Header.Set("Authorization", signature.TC3Authorization(p.cfg.Signing.SecretID, p.cfg.Signing.SecretKey, req))
	return out, nil
}

// signTC3 signs an unsigned API 3.0 call (Sign mode, local development)
// with the upstream credential and the current time.
func (p *Proxy) signTC3(in *inbound) (*http.Request, *apiError) {
	r, a := in.r, in.api
	if r.Header.Get("X-TC-Action") == "" {
		return nil, errBadRequest("an unsigned API 3.0 call needs the X-TC-Action header")
	}
	out := ownHeader(r)
	if out.Header.Get("Content-Type") == "" {
		if r.Method == http.MethodPost {
			out.Header.Set("Content-Type", "application/json")
		} else {
			out.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		}
	}
	now := p.cfg.Signing.now().Unix()
	out.Header.Set("X-TC-Timestamp", strconv.FormatInt(now, 10))
	req := tc3Request(out, in.body, []string{"content-type", "host"}, upstreamServiceV3, now)
	setHost(req.Headers, a.upstream.Host)
	out.Header.Set("Authorization", signature.TC3Authorization(p.cfg.Signing.SecretID, p.cfg.Signing.SecretKey, req))
	return out, nil
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

// ownHeader gives r, the proxy's own copy of a client's request (see
// ServeHTTP), a header of its own, so that changing it leaves the
// client's request as it came.
func ownHeader(r *http.Request) *http.Request {
	r.Header = r.Header.Clone()
	return r
}

// rebuild makes r, the proxy's own copy of a client's request, carry
// params: in the query for GET, as a URL-encoded body for POST (whose
// query the API ignores, so it is dropped).
func rebuild(r *http.Request, params signature.Params) *http.Request {
	encoded := params.Encode()
	u := *r.URL // still the client's request's
	r.URL = &u
	if r.Method == http.MethodGet {
		u.RawQuery = encoded
		return r
	}
	u.RawQuery = ""
	ownHeader(r).Header.Set("Content-Type", "application/x-www-form-urlencoded")
	setBody(r, []byte(encoded))
	return r
}

// tokenOK reports whether a request carries the client token, as a
// bearer token or in the X-Cdnproxy-Token header.
func tokenOK(h http.Header, token string) bool {
	if auth := h.Get("Authorization"); isBearer(auth) {
		return subtle.ConstantTimeCompare([]byte(auth[len(bearerPrefix):]), []byte(token)) == 1
	}
	return subtle.ConstantTimeCompare([]byte(h.Get(tokenHeader)), []byte(token)) == 1
}

// bearerPrefix starts an Authorization header that carries a bearer token.
const bearerPrefix = "Bearer "

// isBearer reports whether an Authorization header is a bearer token.
func isBearer(auth string) bool {
	return len(auth) >= len(bearerPrefix) && strings.EqualFold(auth[:len(bearerPrefix)], bearerPrefix)
}

// nonce returns a random positive Nonce.
func nonce() uint32 {
	var b [4]byte
	_, _ = rand.Read(b[:])
	return binary.BigEndian.Uint32(b[:])>>1 | 1
}
