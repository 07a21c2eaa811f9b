package proxy

import (
	"bytes"
	"crypto/subtle"
	"errors"
	"io"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"

	"github.com/cdnproxy/cdnproxy/proxy/bridge"
	"github.com/cdnproxy/cdnproxy/proxy/signature"
)

// apiPath is the one path of API 2.0; API 3.0 is served at "/".
const apiPath = "/v2/index.php"

// inbound is an admitted call, as admit read it. Re-signing takes one
// and returns another; none is changed in place.
type inbound struct {
	r         *http.Request    // the proxy's own copy of the client's request, to forward
	params    signature.Params // the parameters the API will read (query or form body); resign and sign modes only
	parseErr  error            // why params could not be read, if so
	multipart bool             // a POST body the proxy cannot re-encode
	json      bool             // an API 3.0 POST with a JSON body (TC3 only)
	body      []byte           // the POST body as received
}

// admit checks that r, the proxy's own copy of a client's request, is an
// API call the proxy may forward: the client token, if one is configured
// (in every signing mode), one of the APIs' paths, GET or POST, within the
// API's size limits. It reads a POST body so that it can be inspected and
// sent again, and reads the parameters the API will read (the query for
// GET, a form body for POST): all of them when the call is to be
// re-signed, only Action and SecretId in passthrough. It records on c what
// was called.
func (p *Proxy) admit(r *http.Request, c *call) (inbound, *apiError) {
	in := inbound{r: r}
	switch {
	case r.URL.Path == apiPath:
		c.api = p.v2
	case r.URL.Path == "/" && p.v3 != nil:
		c.api = p.v3
	}
	// The token comes next: a caller without it gets nothing read and
	// learns nothing about the call it sent.
	if t := p.cfg.Signing.ClientToken; t != "" && !tokenOK(r.Header, t) {
		return in, errToken(c.gen())
	}
	if c.api == nil {
		return in, errNotAPIPath()
	}
	if c.slot = p.slots.acquire(); !c.slot {
		return in, errBusy(busyInFlight)
	}
	if r.Method != http.MethodGet && r.Method != http.MethodPost {
		return in, errMethod()
	}
	if upgrade(r.Header) {
		return in, errUpgrade()
	}
	if len(r.URL.RawQuery) > maxQueryBytes {
		return in, errTooLarge("query string", maxQueryBytes)
	}
	raw := r.URL.RawQuery
	if r.Method == http.MethodGet && r.ContentLength != 0 {
		// A GET's parameters are in its query; a body would go upstream
		// unsigned and unbounded.
		return in, errBadRequest("a GET call carries no body")
	}
	if r.Method == http.MethodPost {
		mt := mediaType(r.Header.Get("Content-Type"))
		in.json = c.api.gen == 3 && mt == "application/json"
		limit := int64(maxFormBytes)
		if in.json {
			limit = maxJSONBytes
		}
		c.requestLimit = limit
		form := mt == "application/x-www-form-urlencoded"
		if p.cfg.Signing.Mode == Passthrough && !form {
			// Nothing reads a JSON or multipart body in passthrough:
			// it streams to the upstream, held to its limit on the way.
			if r.ContentLength > limit {
				return in, errTooLarge("request body", int(limit))
			}
			c.requestBody = streamRequestBody(r, limit)
			return p.looked(in, c, "")
		}
		body, err := readBody(r, limit, &c.held)
		if err != nil {
			switch {
			case errors.Is(err, errBodyTooLarge):
				return in, errTooLarge("request body", int(limit))
			case errors.Is(err, errNoBudget):
				return in, errBusy(busyMemory)
			}
			return in, errBadRequest("the request body could not be read")
		}
		in.body = body
		raw = ""
		switch {
		case form:
			raw = string(body)
		case !in.json:
			in.multipart = true
		}
	}
	return p.looked(in, c, raw)
}

// looked finishes admit: it reads the parameters in raw (the query, or a
// form body) and records on c what was called.
func (p *Proxy) looked(in inbound, c *call, raw string) (inbound, *apiError) {
	r := in.r
	if p.cfg.Signing.Mode == Passthrough {
		// The parameters are only looked at, for the log and the
		// metrics: a call whose parameters do not parse is still
		// forwarded as it came.
		c.action, _ = signature.Lookup(raw, "Action")
		c.secretID, _ = signature.Lookup(raw, "SecretId")
	} else {
		in.params, in.parseErr = signature.Parse(raw)
		c.action, _ = in.params.Get("Action")
		c.secretID, _ = in.params.Get("SecretId")
	}
	if c.api.gen == 3 {
		if action := r.Header.Get("X-TC-Action"); action != "" {
			c.action = action
		}
		if auth, err := signature.ParseTC3Authorization(r.Header.Get("Authorization")); err == nil {
			c.secretID = auth.SecretID
		}
	} else {
		c.successor = bridge.Successor(c.action)
	}
	return in, nil
}

// errBodyTooLarge reports a request body over the limit.
var errBodyTooLarge = errors.New("request body too large")

// readBody reads r's body, at most limit bytes, into memory reserved
// from h (errNoBudget when there is none), and puts it back so that it
// can be forwarded (and, through GetBody, sent again by the transport).
func readBody(r *http.Request, limit int64, h *hold) ([]byte, error) {
	if r.ContentLength > limit {
		return nil, errBodyTooLarge
	}
	var body []byte
	if r.ContentLength > 0 {
		if !h.reserve(r.ContentLength + 1) {
			return nil, errNoBudget
		}
		body = make([]byte, 0, r.ContentLength+1) // +1 to see the end
	}
	for {
		if len(body) == cap(body) {
			var ok bool
			if body, ok = h.grow(body, limit); !ok {
				return nil, errNoBudget
			}
		}
		n, err := r.Body.Read(body[len(body):cap(body)])
		body = body[:len(body)+n]
		if int64(len(body)) > limit {
			return nil, errBodyTooLarge
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, err
		}
	}
	setBody(r, body)
	return body, nil
}

// streamRequestBody lets r's body stream to the upstream unread, held to
// limit bytes: a body that goes past it breaks off the upstream call,
// which is then answered as too large (see call.upstreamFailed), not as
// the upstream's failure. It returns the body, or nil for none.
func streamRequestBody(r *http.Request, limit int64) *limitedBody {
	if r.Body == nil || r.Body == http.NoBody {
		return nil
	}
	b := &limitedBody{ReadCloser: r.Body, left: limit}
	r.Body = b
	r.GetBody = nil
	return b
}

// limitedBody is a streamed request body held to its limit. The
// transport reads it on a goroutine of its own.
type limitedBody struct {
	io.ReadCloser
	left int64
	over atomic.Bool // it went past the limit
}

func (b *limitedBody) Read(p []byte) (int, error) {
	if int64(len(p)) > b.left+1 {
		p = p[:b.left+1]
	}
	n, err := b.ReadCloser.Read(p)
	b.left -= int64(n)
	if b.left < 0 {
		b.over.Store(true)
		return 0, errBodyTooLarge
	}
	return n, err
}

// tooLarge reports whether a streamed body went past its limit; false
// for nil.
func (b *limitedBody) tooLarge() bool { return b != nil && b.over.Load() }

// setBody makes body the request's body.
func setBody(r *http.Request, body []byte) {
	r.Body = io.NopCloser(bytes.NewReader(body))
	r.ContentLength = int64(len(body))
	r.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(body)), nil }
	r.Header.Set("Content-Length", strconv.Itoa(len(body)))
	r.TransferEncoding = nil
}

// upgrade reports whether a request asks to switch protocols: an Upgrade
// header named in Connection, as httputil.ReverseProxy would forward it.
func upgrade(h http.Header) bool {
	if h.Get("Upgrade") == "" {
		return false
	}
	for _, v := range h["Connection"] {
		for _, token := range strings.Split(v, ",") {
			if strings.EqualFold(strings.TrimSpace(token), "upgrade") {
				return true
			}
		}
	}
	return false
}

// mediaType returns a Content-Type's media type, lower-cased, or "" when
// it is missing or malformed.
func mediaType(contentType string) string {
	mt, _, err := mime.ParseMediaType(contentType)
	if err != nil {
		return ""
	}
	return mt
}

// tokenHeader carries the client token for calls whose Authorization
// header is taken by a TC3 signature.
const tokenHeader = "X-Cdnproxy-Token"

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
