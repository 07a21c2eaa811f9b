package proxy

import (
	"encoding/json"
	"net/http"
	"strconv"

	"github.com/cdnproxy/cdnproxy/codes"
)

// apiError is an answer the proxy gives itself, in the API's own shape.
// It is the only way an error reaches a client: every refusal and every
// upstream failure becomes one, and writeError is the one place that
// turns it into a response. Its message is written for the client and
// never holds internal error text or secrets.
type apiError struct {
	status   int    // HTTP status unless Config.Always200 is set
	code     int    // public code, as the API would use
	codeDesc string // the API's class name for code
	message  string // English, starts with "cdnproxy: "
	outcome  outcome
	// category overrides the catalogue's category for code; used for
	// upstream failures, which are the proxy's own category.
	category codes.Category
	// allow is the Allow header of a 405 answer, which RFC 9110 requires.
	allow string
}

// The body of an apiError: the API's members, then the annotation, in the
// same order annotate adds them to upstream bodies.
type errorBody struct {
	Code        int            `json:"code"`
	Message     string         `json:"message"`
	CodeDesc    string         `json:"codeDesc"`
	Category    codes.Category `json:"category"`
	Retryable   bool           `json:"retryable"`
	Description string         `json:"description"`
}

// upstreamDescription is the description of upstream failures.
const upstreamDescription = "cdnproxy could not get an answer from the CDN API in time, or the connection failed. The call may or may not have been carried out; send it again with a fresh Nonce and Timestamp."

// body renders the error in the API's shape.
func (e *apiError) body() errorBody {
	b := errorBody{Code: e.code, Message: e.message, CodeDesc: e.codeDesc}
	if e.category == codes.UpstreamUnreachable {
		b.Category, b.Retryable, b.Description = e.category, true, upstreamDescription
		return b
	}
	if entry, ok := codes.Public(e.code); ok {
		b.Category, b.Retryable, b.Description = entry.Category, entry.Retryable, entry.Description
	}
	return b
}

// writeError writes e to w. With always200 the status is 200, as the API
// itself answers every error, for clients that read no body on other
// statuses.
func writeError(w http.ResponseWriter, e *apiError, always200 bool) {
	out, err := json.Marshal(e.body())
	if err != nil { // cannot happen: the body is strings, ints and bools
		out = []byte(`{"code":6000,"message":"cdnproxy: internal error","codeDesc":"InternalError"}`)
	}
	status := e.status
	if always200 {
		status = http.StatusOK
	}
	h := w.Header()
	h.Set("Content-Type", "application/json; charset=utf-8")
	h.Set("Content-Length", strconv.Itoa(len(out)))
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	if e.allow != "" {
		h.Set("Allow", e.allow)
	}
	w.WriteHeader(status)
	_, _ = w.Write(out)
}

// The proxy's refusals and failures. Each constructor names the outcome
// the log line and metrics will carry.

func errNotAPIPath() *apiError {
	return &apiError{status: http.StatusNotFound, code: 4000, codeDesc: "InvalidParameter", outcome: outcomeRefused,
		message: "cdnproxy: this path is not a CDN API endpoint; send API 2.0 calls to /v2/index.php"}
}

func errMethod() *apiError {
	return &apiError{status: http.StatusMethodNotAllowed, code: 4600, codeDesc: "UnsupportedProtocol", outcome: outcomeRefused,
		allow: "GET, POST", message: "cdnproxy: only GET and POST are accepted"}
}

func errTooLarge(what string, limit int) *apiError {
	status := http.StatusRequestEntityTooLarge
	if what == "query string" {
		status = http.StatusRequestURITooLong
	}
	return &apiError{status: status, code: 4000, codeDesc: "InvalidParameter", outcome: outcomeRefused,
		message: "cdnproxy: the " + what + " is larger than the API's limit of " + strconv.Itoa(limit) + " bytes"}
}

func errBadRequest(detail string) *apiError {
	return &apiError{status: http.StatusBadRequest, code: 4000, codeDesc: "InvalidParameter", outcome: outcomeRefused,
		message: "cdnproxy: " + detail}
}

func errUpstream(timeout bool) *apiError {
	if timeout {
		return &apiError{status: http.StatusGatewayTimeout, code: 6200, codeDesc: "UpstreamTimeout", outcome: outcomeUpstreamError,
			category: codes.UpstreamUnreachable, message: "cdnproxy: the CDN API did not answer in time"}
	}
	return &apiError{status: http.StatusBadGateway, code: 6200, codeDesc: "UpstreamUnreachable", outcome: outcomeUpstreamError,
		category: codes.UpstreamUnreachable, message: "cdnproxy: the CDN API could not be reached"}
}

func errAuth(detail string) *apiError {
	// The API answers failed authentication with status 200; so does the
	// proxy, so that legacy clients report an ordinary 4100.
	return &apiError{status: http.StatusOK, code: 4100, codeDesc: "AuthFailure", outcome: outcomeRefused,
		message: "cdnproxy: authentication failed: " + detail}
}

func errExpired() *apiError {
	return &apiError{status: http.StatusOK, code: 4500, codeDesc: "ReplayAttack", outcome: outcomeRefused,
		message: "cdnproxy: the Timestamp is more than 2 hours away from the proxy's clock; sign the call again with the current time"}
}

func errToken() *apiError {
	return &apiError{status: http.StatusUnauthorized, code: 4100, codeDesc: "AuthFailure", outcome: outcomeRefused,
		message: "cdnproxy: this proxy needs an Authorization: Bearer token"}
}
