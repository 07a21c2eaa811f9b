package api3

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/cdnproxy/cdnproxy/internal/apicall"
	"github.com/cdnproxy/cdnproxy/proxy/signature"
)

// Verifier says how Verify checks calls.
type Verifier struct {
	// Key returns the SecretKey of a SecretId, and false for an unknown
	// one.
	Key func(secretID string) (string, bool)
	// Now is the clock for the timestamp window.
	Now time.Time
	// Hosts are the host names a signature may be over; the first that
	// verifies wins. Empty means the Host the call arrived with.
	Hosts []string
	// Extra, if set, names a parameter (a JSON member or a query or form
	// parameter) that is not the action's: it is taken out of the
	// action's parameters into Params.Extra.
	Extra string
}

// Checked is what Verify found out about a call.
type Checked struct {
	// Signing is "TC3", "v1" or "" (neither could be told).
	Signing string
	// SecretID is the SecretId the call was signed with, if any.
	SecretID string
	// Action is X-TC-Action (TC3) or the Action parameter (v1); Version
	// likewise.
	Action, Version string
	// Verified reports whether the signature checked out.
	Verified bool
	// Code is the API's error code for the first check that failed
	// (signature, timestamp, version), "" when all passed. The action is
	// not checked: see Handles.
	Code string
	// Params are the action's parameters.
	Params Params
}

// Params are a call's action parameters.
type Params struct {
	// Action is a JSON body decoded with json.Number, or the query or
	// form parameters nested (Urls.0 -> {"Urls":["…"]}), without the
	// common ones (Action, Nonce, Signature …).
	Action map[string]any
	// FromForm reports that they came as strings (query or form).
	FromForm bool
	// Payload is Action as JSON: the body as received, or the nested
	// parameters encoded.
	Payload json.RawMessage
	// Err is set when the parameters cannot be read as an action's (a
	// JSON body that is not an object, list indexes with gaps).
	Err *Error
	// Extra is the value of Verifier.Extra's parameter, if any.
	Extra string
}

// Verify checks a call's signature (TC3-HMAC-SHA256 or signature v1),
// timestamp and version as the API does (docs/reference/cdn-api-v3.md §2)
// and reads its parameters. ac is the call as apicall.Read read it.
//
//   - TC3 (an Authorization header starting with "TC3-HMAC-SHA256"): the
//     canonical request is rebuilt from the headers SignedHeaders names
//     (host being each of v.Hosts), the raw query of a GET and the raw
//     body of a POST, with the service "cdn" and X-TC-Timestamp within the
//     window. A POST must be JSON.
//   - v1: parameters from the query of a GET or the URL-encoded body of a
//     POST, verified over each of v.Hosts and the path "/"; Timestamp
//     within the window, Nonce present.
func Verify(r *http.Request, ac apicall.Call, v Verifier) Checked {
	var c Checked
	if len(v.Hosts) == 0 {
		v.Hosts = []string{r.Host}
	}
	if r.Method != http.MethodGet && r.Method != http.MethodPost {
		c.Code = "UnsupportedProtocol"
		return c
	}
	if auth := r.Header.Get("Authorization"); strings.HasPrefix(auth, signature.TC3Algorithm) {
		c.Signing = "TC3"
		c.Code = v.tc3(&c, r, auth, ac)
		return c
	}
	if r.Method == http.MethodPost && ac.MediaType != "application/x-www-form-urlencoded" {
		// A JSON (or any other) body is read only with a TC3 signature.
		c.Code = "AuthFailure.InvalidAuthorization"
		return c
	}
	c.Signing = "v1"
	c.Code = v.v1(&c, r, ac)
	return c
}

// tc3 checks a TC3-HMAC-SHA256 call.
func (v Verifier) tc3(c *Checked, r *http.Request, authorization string, ac apicall.Call) string {
	c.Action = r.Header.Get("X-TC-Action")
	auth, err := signature.ParseTC3Authorization(authorization)
	if err != nil {
		return "AuthFailure.InvalidAuthorization"
	}
	c.SecretID = auth.SecretID
	switch {
	case r.Method == http.MethodGet:
		q, err := signature.Parse(r.URL.RawQuery)
		if err != nil {
			return "InvalidParameter"
		}
		c.Params.form(q, v.Extra)
	case ac.MediaType == "application/json":
		if err := c.Params.json(ac.Body, v.Extra); err != nil {
			return "InvalidParameter"
		}
	default:
		return "InvalidParameter"
	}
	key, ok := v.Key(auth.SecretID)
	if !ok {
		return "AuthFailure.SecretIdNotFound"
	}
	tsText := r.Header.Get("X-TC-Timestamp")
	if code := checkTimestamp(tsText, v.Now); code != "" {
		return code
	}
	ts, _ := strconv.ParseInt(tsText, 10, 64)
	if auth.Service != Service {
		return "AuthFailure.SignatureFailure"
	}
	tr := signature.TC3Request{
		Method:          r.Method,
		SignedHeaders:   auth.SignedHeaders,
		Service:         Service,
		Timestamp:       ts,
		UnsignedPayload: r.Header.Get("X-TC-Content-SHA256") == "UNSIGNED-PAYLOAD",
	}
	if r.Method == http.MethodGet {
		tr.Query = r.URL.RawQuery
	} else {
		tr.Payload = ac.Body
	}
	for _, host := range v.Hosts {
		tr.Headers = tr.Headers[:0]
		for _, name := range auth.SignedHeaders {
			if name == "host" {
				tr.Headers = append(tr.Headers, signature.Header{Name: name, Value: host})
				continue
			}
			// Every value: a header sent twice makes VerifyTC3 refuse.
			for _, val := range r.Header.Values(name) {
				tr.Headers = append(tr.Headers, signature.Header{Name: name, Value: val})
			}
		}
		if c.Verified = signature.VerifyTC3(key, auth, tr); c.Verified {
			break
		}
	}
	if !c.Verified {
		return "AuthFailure.SignatureFailure"
	}
	c.Version = r.Header.Get("X-TC-Version")
	return checkVersion(c.Version, c.Version != "")
}

// v1 checks a signature v1 call.
func (v Verifier) v1(c *Checked, r *http.Request, ac apicall.Call) string {
	p, err := signature.Parse(ac.Params)
	if err != nil {
		return "InvalidParameter"
	}
	c.Params.form(p, v.Extra)
	c.Action, _ = p.Get("Action")
	c.SecretID, _ = p.Get("SecretId")
	if _, ok := p.Get("Signature"); !ok || c.SecretID == "" {
		return "AuthFailure.InvalidAuthorization"
	}
	key, ok := v.Key(c.SecretID)
	if !ok {
		return "AuthFailure.SecretIdNotFound"
	}
	tsText, _ := p.Get("Timestamp")
	if code := checkTimestamp(tsText, v.Now); code != "" {
		return code
	}
	k := signature.NewKey(key)
	for _, host := range v.Hosts {
		if c.Verified = k.Verify(r.Method, host, "/", p); c.Verified {
			break
		}
	}
	if !c.Verified {
		return "AuthFailure.SignatureFailure"
	}
	if n, _ := p.Get("Nonce"); n == "" {
		return "MissingParameter"
	}
	version, present := p.Get("Version")
	c.Version = version
	return checkVersion(version, present)
}

// checkVersion returns the error code for a call's Version, or "".
func checkVersion(v string, present bool) string {
	switch {
	case !present || v == "":
		return "MissingParameter"
	case v != Version:
		return "NoSuchVersion"
	}
	return ""
}

// checkTimestamp checks a signed timestamp against the clock and returns
// the API's error code for it, or "".
func checkTimestamp(ts string, now time.Time) string {
	switch err := apicall.CheckTimestamp(ts, now, Window); {
	case errors.Is(err, apicall.ErrExpired):
		return "AuthFailure.SignatureExpire"
	case err != nil:
		return "MissingParameter"
	}
	return ""
}

// form fills in p from query or form parameters, leaving out extra's.
func (p *Params) form(sp signature.Params, extra string) {
	p.FromForm = true
	if extra != "" {
		p.Extra, _ = sp.Get(extra)
	}
	m, err := nest(sp, extra)
	if err != nil {
		p.Err = &Error{"InvalidParameter", "参数错误：" + err.Error()}
		m = map[string]any{}
	}
	p.Action = m
	p.Payload, _ = json.Marshal(m)
}

// json fills in p from a JSON body, leaving out extra's member.
func (p *Params) json(body []byte, extra string) error {
	d := json.NewDecoder(bytes.NewReader(body))
	d.UseNumber()
	var m map[string]any
	if err := d.Decode(&m); err != nil {
		return err
	}
	if m == nil {
		m = map[string]any{}
	}
	if extra != "" {
		p.Extra, _ = m[extra].(string)
		delete(m, extra)
	}
	p.Action = m
	p.Payload = json.RawMessage(body)
	return nil
}
