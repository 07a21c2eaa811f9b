package emulator

import (
	"errors"
	"io"
	"mime"
	"net/http"
	"net/url"

	"github.com/cdnproxy/cdnproxy/proxy/signature"
)

// The API's documented request size limits; over them it answers 501.
const (
	maxQuery = 32 << 10 // GET: the query string
	maxBody  = 1 << 20  // POST: the body
)

// readParams returns a call's parameters: from the query for GET, from the
// body for POST (whose query the API ignores). The body may be
// application/x-www-form-urlencoded or multipart/form-data; file parts
// of a multipart body are ignored.
func readParams(w http.ResponseWriter, r *http.Request) (signature.Params, *reply) {
	fail := func(rep reply) (signature.Params, *reply) { return nil, &rep }
	if r.Method == http.MethodGet {
		if len(r.URL.RawQuery) > maxQuery {
			return fail(errTooLarge("the query string is over 32 KB"))
		}
		return parseParams(r.URL.RawQuery)
	}
	r.Body = http.MaxBytesReader(w, r.Body, maxBody)
	var tooLarge *http.MaxBytesError
	if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt == "multipart/form-data" {
		if err := r.ParseMultipartForm(maxBody); err != nil {
			if errors.As(err, &tooLarge) {
				return fail(errTooLarge("the body is over 1 MB"))
			}
			return fail(errPublic(4000, "请求参数非法 (the multipart body could not be read)"))
		}
		// Encode then Parse, so that repeated names are refused exactly
		// as in an urlencoded body.
		return parseParams(url.Values(r.MultipartForm.Value).Encode())
	}
	body, err := io.ReadAll(r.Body)
	if err != nil {
		if errors.As(err, &tooLarge) {
			return fail(errTooLarge("the body is over 1 MB"))
		}
		return fail(errPublic(4000, "请求参数非法 (the body could not be read)"))
	}
	return parseParams(string(body))
}

// parseParams parses an urlencoded parameter list strictly.
func parseParams(raw string) (signature.Params, *reply) {
	p, err := signature.Parse(raw)
	if err != nil {
		rep := errPublic(4000, "请求参数非法 ("+err.Error()+")")
		return nil, &rep
	}
	return p, nil
}
