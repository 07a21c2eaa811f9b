package proxy

import (
	"cmp"
	"encoding/json"
	"net/http"
	"strconv"

	"github.com/cdnproxy/cdnproxy/codes"
)

// apiError is an answer the proxy gives itself, in the API's own shape.
// It is the only way an error reaches a client: every refusal and every
// upstream failure becomes one, and writeError is the one place that
// turns it into a response, in the shape of the API generation the call
// was for. Its message is written for the client and never holds internal
// error text or secrets.
type apiError struct {
	status  int    // HTTP status unless Config.Always200 is set
	code    int    // API 2.0 public code, as the API would use; its codeDesc is codes.CodeDesc's
	v3Code  string // the API 3.0 error code for the same refusal
	message string // English, starts with "cdnproxy: "
	outcome outcome
	// category overrides the catalogue's category; used for upstream
	// failures and for the proxy's own limits, which are retryable.
	category codes.Category
	// description goes with category; empty means upstreamDescription.
	description string
	// reason names a limit the call met (outcome busy), for the metrics.
	reason string
	// allow is the Allow header of a 405 answer, which RFC 9110 requires.
	allow string
	// retryAfter, when over 0, is the seconds to wait before a retry: the
	// body's retryAfter (RetryAfter) and the Retry-After header.
	retryAfter int
}

// The body of an apiError for API 2.0: the API's members, then the
// annotation, in the order annotate adds them to upstream bodies.
type errorBody struct {
	Code        int            `json:"code"`
	Message     string         `json:"message"`
	CodeDesc    string         `json:"codeDesc"`
	Category    codes.Category `json:"category"`
	Retryable   bool           `json:"retryable"`
	Description string         `json:"description"`
	RetryAfter  int            `json:"retryAfter,omitempty"`
}

// The body of an apiError for API 3.0, annotated inside Response.Error.
type errorBodyV3 struct {
	Response struct {
		Error struct {
			Code        string         `json:"Code"`
			Message     string         `json:"Message"`
			Category    codes.Category `json:"Category"`
			Retryable   bool           `json:"Retryable"`
			Description string         `json:"Description"`
			RetryAfter  int            `json:"RetryAfter,omitempty"`
		} `json:"Error"`
		RequestID string `json:"RequestId"`
	} `json:"Response"`
}

// upstreamDescription is the description of upstream failures.
const upstreamDescription = "cdnproxy could not get an answer from the CDN API in time, or the connection failed. The call may or may not have been carried out; send it again with a fresh Nonce and Timestamp."

// annotation returns the category, retryable flag and description of the
// error for an API generation, from the catalogue like any upstream error.
func (e *apiError) annotation(gen int) (codes.Category, bool, string) {
	if e.category != "" {
		return e.category, true, cmp.Or(e.description, upstreamDescription)
	}
	if gen == 3 {
		if entry, ok := codes.V3(e.v3Code); ok {
			return entry.Category, entry.Retryable, entry.Description
		}
	} else if entry, ok := codes.Public(e.code); ok {
		return entry.Category, entry.Retryable, entry.Description
	}
	return codes.Unknown, false, ""
}

// render returns the error's body in the shape of API generation gen;
// requestID is the proxy's id for the call (3.0 bodies carry one).
func (e *apiError) render(gen int, requestID string) []byte {
	category, retryable, description := e.annotation(gen)
	var v any
	if gen == 3 {
		var b errorBodyV3
		b.Response.Error.Code, b.Response.Error.Message = e.v3Code, e.message
		b.Response.Error.Category, b.Response.Error.Retryable, b.Response.Error.Description = category, retryable, description
		b.Response.Error.RetryAfter = e.retryAfter
		b.Response.RequestID = requestID
		v = b
	} else {
		v = errorBody{Code: e.code, Message: e.message, CodeDesc: codes.CodeDesc(e.code), Category: category, Retryable: retryable, Description: description,
			RetryAfter: e.retryAfter}
	}
	out, err := json.Marshal(v)
	if err != nil { // cannot happen: the bodies are strings, ints and bools
		return []byte(`{"code":6000,"message":"cdnproxy: internal error","codeDesc":"InternalError"}`)
	}
	return out
}

// writeError answers call c with e, in the shape of the call's API
// generation. With Config.Always200 the status is 200, as the API itself
// answers every error, for clients that read no body on other statuses.
func (p *Proxy) writeError(w http.ResponseWriter, c *call, e *apiError) {
	out := e.render(c.gen(), c.id)
	status := e.status
	if p.cfg.Always200 {
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
	if e.retryAfter > 0 {
		h.Set("Retry-After", strconv.Itoa(e.retryAfter))
	}
	w.WriteHeader(status)
	_, _ = w.Write(out)
}

// The proxy's refusals and failures. Each constructor names the outcome
// the log line and metrics will carry.

func errNotAPIPath() *apiError {
	return &apiError{status: http.StatusNotFound, code: 4000, v3Code: "InvalidAction", outcome: outcomeRefused,
		message: "cdnproxy: this path is not a CDN API endpoint; send API 2.0 calls to /v2/index.php and API 3.0 calls to /"}
}

func errMethod() *apiError {
	return &apiError{status: http.StatusMethodNotAllowed, code: 4600, v3Code: "UnsupportedProtocol", outcome: outcomeRefused,
		allow: "GET, POST", message: "cdnproxy: only GET and POST are accepted"}
}

func errUpgrade() *apiError {
	return &apiError{status: http.StatusBadRequest, code: 4600, v3Code: "UnsupportedProtocol", outcome: outcomeRefused,
		message: "cdnproxy: the API never switches protocols; send the call without Upgrade"}
}

func errTooLarge(what string, limit int) *apiError {
	status := http.StatusRequestEntityTooLarge
	if what == "query string" {
		status = http.StatusRequestURITooLong
	}
	return &apiError{status: status, code: 4000, v3Code: "RequestSizeLimitExceeded", outcome: outcomeRefused,
		message: "cdnproxy: the " + what + " is larger than the API's limit of " + strconv.Itoa(limit) + " bytes"}
}

func errBadRequest(detail string) *apiError {
	return &apiError{status: http.StatusBadRequest, code: 4000, v3Code: "InvalidParameter", outcome: outcomeRefused,
		message: "cdnproxy: " + detail}
}

func errUpstream(timeout bool) *apiError {
	if timeout {
		return &apiError{status: http.StatusGatewayTimeout, code: 6200, v3Code: "InternalError.UpstreamTimeout", outcome: outcomeUpstreamError,
			category: codes.UpstreamUnreachable, message: "cdnproxy: the CDN API did not answer in time"}
	}
	return &apiError{status: http.StatusBadGateway, code: 6200, v3Code: "InternalError.UpstreamUnreachable", outcome: outcomeUpstreamError,
		category: codes.UpstreamUnreachable, message: "cdnproxy: the CDN API could not be reached"}
}

// The limits a busy answer names (Config.MemoryBudget, Config.MaxInFlight,
// the host's own resources such as file descriptors).
const (
	busyMemory   = "memory"
	busyInFlight = "in_flight"
	busyLocal    = "local_resources"
)

// busyDescription is the description of the proxy's busy answers.
const busyDescription = "cdnproxy, not the CDN API, is at one of its own limits (calls in flight, memory for request bodies, or its host's resources such as open files); the call was not sent. Send it again after the Retry-After seconds, with a fresh Nonce and Timestamp."

// errBusy answers a call that met one of the proxy's own limits: 503
// with Retry-After, category unavailable, retryable. Never the upstream's
// fault.
func errBusy(reason string) *apiError {
	return &apiError{status: http.StatusServiceUnavailable, code: 6200, v3Code: "RequestLimitExceeded", outcome: outcomeBusy,
		category: codes.Unavailable, description: busyDescription, reason: reason, retryAfter: 1,
		message: "cdnproxy: the proxy is busy (" + reason + "); retry shortly"}
}

func errAuth(detail string) *apiError {
	// The API answers failed authentication with status 200; so does the
	// proxy, so that legacy clients report an ordinary 4100.
	return &apiError{status: http.StatusOK, code: 4100, v3Code: "AuthFailure.SignatureFailure", outcome: outcomeRefused,
		message: "cdnproxy: authentication failed: " + detail}
}

func errExpired() *apiError {
	return &apiError{status: http.StatusOK, code: 4500, v3Code: "AuthFailure.SignatureExpire", outcome: outcomeRefused,
		message: "cdnproxy: the Timestamp is too far from the proxy's clock (2 hours for API 2.0, 5 minutes for API 3.0); sign the call again with the current time"}
}

func errToken(gen int) *apiError {
	how := "Authorization: Bearer <token>"
	if gen == 3 {
		how += " (or, when Authorization holds a TC3 signature, " + tokenHeader + ": <token>)"
	}
	return &apiError{status: http.StatusUnauthorized, code: 4100, v3Code: "AuthFailure.InvalidAuthorization", outcome: outcomeRefused,
		message: "cdnproxy: this proxy needs its client token: send " + how}
}
