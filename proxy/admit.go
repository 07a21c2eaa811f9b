package proxy

import (
	"bytes"
	"errors"
	"io"
	"mime"
	"net/http"
	"strconv"

	"github.com/cdnproxy/cdnproxy/proxy/signature"
)

// apiPath is the one path of API 2.0.
const apiPath = "/v2/index.php"

// inbound is an admitted call.
type inbound struct {
	r         *http.Request
	params    signature.Params // the parameters the API will read
	parseErr  error            // why params could not be read, if so
	multipart bool             // a POST body the proxy cannot re-encode
}

// admit checks that r is an API call the proxy may forward: the client
// token, if one is configured (in every signing mode), the API's path, GET
// or POST, within the API's size limits. It reads a POST body (at most
// 1 MB) so that it can be inspected and sent again, and parses the
// parameters the API will read: the query for GET, the body for POST.
func (p *Proxy) admit(r *http.Request, c *call) (*inbound, *apiError) {
	// The token comes first: a caller without it gets nothing read and
	// learns nothing about the call it sent.
	if t := p.cfg.Signing.ClientToken; t != "" && !bearerOK(r.Header.Get("Authorization"), t) {
		return nil, errToken()
	}
	if r.URL.Path != apiPath {
		return nil, errNotAPIPath()
	}
	if r.Method != http.MethodGet && r.Method != http.MethodPost {
		return nil, errMethod()
	}
	if len(r.URL.RawQuery) > maxQueryBytes {
		return nil, errTooLarge("query string", maxQueryBytes)
	}
	in := &inbound{r: r}
	raw := r.URL.RawQuery
	if r.Method == http.MethodPost {
		body, err := readBody(r, maxFormBytes)
		if err != nil {
			if errors.Is(err, errBodyTooLarge) {
				return nil, errTooLarge("request body", maxFormBytes)
			}
			return nil, errBadRequest("the request body could not be read")
		}
		raw = string(body)
		in.multipart = !isForm(r.Header.Get("Content-Type"))
		if in.multipart {
			raw = ""
		}
	}
	// In passthrough mode the parameters are only looked at, for the log:
	// a call whose parameters do not parse is still forwarded as it came.
	in.params, in.parseErr = signature.Parse(raw)
	c.action, _ = in.params.Get("Action")
	c.secretID, _ = in.params.Get("SecretId")
	return in, nil
}

// errBodyTooLarge reports a request body over the limit.
var errBodyTooLarge = errors.New("request body too large")

// readBody reads r's body, at most limit bytes, and puts it back so that
// it can be forwarded (and, through GetBody, sent again by the transport).
func readBody(r *http.Request, limit int64) ([]byte, error) {
	if r.ContentLength > limit {
		return nil, errBodyTooLarge
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(body)) > limit {
		return nil, errBodyTooLarge
	}
	setBody(r, body)
	return body, nil
}

// setBody makes body the request's body.
func setBody(r *http.Request, body []byte) {
	r.Body = io.NopCloser(bytes.NewReader(body))
	r.ContentLength = int64(len(body))
	r.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(body)), nil }
	r.Header.Set("Content-Length", strconv.Itoa(len(body)))
	r.TransferEncoding = nil
}

// isForm reports whether a Content-Type is a URL-encoded form.
func isForm(contentType string) bool {
	mt, _, err := mime.ParseMediaType(contentType)
	return err == nil && mt == "application/x-www-form-urlencoded"
}
