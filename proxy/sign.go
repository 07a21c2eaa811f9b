package proxy

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/binary"
	"fmt"
	"log/slog"
	"net"
	"net/http"
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

// timestampWindow is how far a call's Timestamp may be from the proxy's
// clock: the API's own tolerance.
const timestampWindow = 2 * time.Hour

// now returns the signing clock's time.
func (s *Signing) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

// resign checks and re-signs an API 2.0 call, returning the request to
// forward. in.params are the call's parsed parameters.
func (p *Proxy) resign(r *http.Request, in *inbound) (*http.Request, *apiError) {
	s := &p.cfg.Signing
	if in.parseErr != nil {
		return nil, errBadRequest("the call's parameters could not be read: " + in.parseErr.Error())
	}
	if in.multipart {
		return nil, errBadRequest("calls that are re-signed must be GET or application/x-www-form-urlencoded POST")
	}
	params := in.params
	_, hasID := params.Get("SecretId")
	_, hasSig := params.Get("Signature")
	if s.Mode == Sign && !hasID && !hasSig {
		params = params.
			With("Nonce", strconv.FormatUint(uint64(nonce()), 10)).
			With("Timestamp", strconv.FormatInt(s.now().Unix(), 10))
	} else if aerr := p.verify(r, params); aerr != nil {
		return nil, aerr
	}
	params = params.With("SecretId", s.SecretID).Without("Signature")
	params = params.With("Signature", signature.Sign(s.SecretKey, r.Method, p.cfg.Upstream.Host, p.upstreamPath, params))
	return rebuild(r, params), nil
}

// verify checks a call's SecretId, Timestamp and Signature.
func (p *Proxy) verify(r *http.Request, params signature.Params) *apiError {
	s := &p.cfg.Signing
	id, _ := params.Get("SecretId")
	key, ok := s.ClientKeys[id]
	if id == s.SecretID {
		key, ok = s.SecretKey, true
	}
	if id == "" || !ok {
		return errAuth("the SecretId is not one this proxy accepts")
	}
	ts, _ := params.Get("Timestamp")
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		return errAuth("the Timestamp parameter is missing or not a number")
	}
	if d := s.now().Sub(time.Unix(sec, 0)); d > timestampWindow || d < -timestampWindow {
		return errExpired()
	}
	for _, host := range p.signedHosts(r.Host) {
		if signature.Verify(key, r.Method, host, apiPath, params) {
			return nil
		}
	}
	return errAuth("the signature does not match")
}

// signedHosts lists the hosts a client may have signed: the Host it sent,
// the same without its port, and the upstream host.
func (p *Proxy) signedHosts(host string) []string {
	hosts := make([]string, 0, 3)
	add := func(h string) {
		for _, seen := range hosts {
			if seen == h {
				return
			}
		}
		if h != "" {
			hosts = append(hosts, h)
		}
	}
	add(host)
	if h, _, err := net.SplitHostPort(host); err == nil {
		if strings.Contains(h, ":") {
			// An IPv6 literal: a client configured with "[::1]" signs
			// it with its brackets.
			h = "[" + h + "]"
		}
		add(h)
	}
	add(p.cfg.Upstream.Host)
	return hosts
}

// rebuild returns a copy of r carrying params: in the query for GET, as a
// URL-encoded body for POST (whose query the API ignores, so it is
// dropped).
func rebuild(r *http.Request, params signature.Params) *http.Request {
	out := r.WithContext(r.Context()) // a shallow copy
	u := *r.URL
	out.URL = &u
	out.Header = r.Header.Clone()
	encoded := params.Encode()
	if r.Method == http.MethodGet {
		u.RawQuery = encoded
		return out
	}
	u.RawQuery = ""
	out.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	setBody(out, []byte(encoded))
	return out
}

// bearerOK reports whether an Authorization header carries the token.
func bearerOK(header, token string) bool {
	const prefix = "Bearer "
	if len(header) < len(prefix) || !strings.EqualFold(header[:len(prefix)], prefix) {
		return false
	}
	return subtle.ConstantTimeCompare([]byte(header[len(prefix):]), []byte(token)) == 1
}

// nonce returns a random positive Nonce.
func nonce() uint32 {
	var b [4]byte
	_, _ = rand.Read(b[:])
	return binary.BigEndian.Uint32(b[:])>>1 | 1
}
