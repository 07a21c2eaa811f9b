package emulator

import (
	"errors"
	"net/http"

	"github.com/cdnproxy/cdnproxy/internal/apicall"
	"github.com/cdnproxy/cdnproxy/proxy/signature"
)

// readParams returns a call's parameters: from the query for GET, from the
// body for POST (whose query the API ignores). The body may be
// application/x-www-form-urlencoded or multipart/form-data; file parts
// of a multipart body are ignored. Over the API's size limits the call is
// answered 501.
func readParams(w http.ResponseWriter, r *http.Request) (signature.Params, *reply) {
	fail := func(rep reply) (signature.Params, *reply) { return nil, &rep }
	if r.Method == http.MethodGet && len(r.URL.RawQuery) > apicall.MaxQuery {
		return fail(errTooLarge("the query string is over 32 KB"))
	}
	call, err := apicall.Read(w, r, apicall.MaxBody)
	switch {
	case errors.Is(err, apicall.ErrTooLarge):
		return fail(errTooLarge("the body is over 1 MB"))
	case err != nil:
		return fail(errPublic(4000, "请求参数非法 (the body could not be read)"))
	}
	// Parse refuses repeated names, in a multipart body as in any other.
	p, err := signature.Parse(call.Params)
	if err != nil {
		return fail(errPublic(4000, "请求参数非法 ("+err.Error()+")"))
	}
	return p, nil
}
