// Package apicall reads a Tencent Cloud API call as the API reads it: its
// parameter list (the query of a GET, the form body of a POST) and the
// distance of its signed timestamp from the clock. The stand-ins for the
// API (internal/emulator, internal/fakeapi, internal/fakeapi3) share it, so
// that they agree on what a call says.
package apicall

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"time"
)

// The API's documented request size limits for calls signed with
// signature v1 (see docs/reliability.md): over them it answers 501.
const (
	MaxQuery = 32 << 10 // the query string of a GET
	MaxBody  = 1 << 20  // the body of a POST
)

// How far a signed timestamp may be from the API's clock, either way (see
// code 4500 and AuthFailure.SignatureExpire in docs/codes.md).
const (
	// WindowV2 is API 2.0's window for the Timestamp parameter.
	WindowV2 = 2 * time.Hour
	// WindowV3 is API 3.0's window for X-TC-Timestamp, or the Timestamp
	// parameter of a call signed with signature v1.
	WindowV3 = 5 * time.Minute
)

// Errors of Read and CheckTimestamp; test with errors.Is.
var (
	// ErrTooLarge reports a body over the limit given to Read.
	ErrTooLarge = errors.New("apicall: body over the limit")
	// ErrUnreadable reports a body that could not be read or decoded.
	ErrUnreadable = errors.New("apicall: body unreadable")
	// ErrNoTimestamp reports a timestamp that is missing or not a number.
	ErrNoTimestamp = errors.New("apicall: timestamp missing or not a number")
	// ErrExpired reports a timestamp outside the window.
	ErrExpired = errors.New("apicall: timestamp outside the window")
)

// Call is what a call carries, read as the API reads it.
type Call struct {
	// Body is the raw body of a POST; nil for any other method, whose body
	// the API does not read.
	Body []byte
	// MediaType is the media type of a POST's Content-Type, such as
	// application/x-www-form-urlencoded; "" for any other method.
	MediaType string
	// Params is the parameter list the API reads, URL-encoded: the raw
	// query of any call but a POST (a POST's query is ignored); the body
	// of a POST as sent when it is application/x-www-form-urlencoded; the
	// fields of a multipart/form-data body, encoded (file parts dropped);
	// "" for a POST with any other body, such as JSON.
	Params string
}

// Read reads r's body (a POST's only) up to maxBody bytes and returns
// what the call carries. r.Body is consumed; w is told to close the
// connection when the body is over the limit (http.MaxBytesReader).
// Read does not check the query's length; compare it with MaxQuery where
// the limit matters.
func Read(w http.ResponseWriter, r *http.Request, maxBody int64) (Call, error) {
	if r.Method != http.MethodPost {
		return Call{Params: r.URL.RawQuery}, nil
	}
	c := Call{}
	c.MediaType, _, _ = mime.ParseMediaType(r.Header.Get("Content-Type"))
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBody))
	if err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			return Call{}, fmt.Errorf("%w (%d bytes)", ErrTooLarge, maxBody)
		}
		return Call{}, fmt.Errorf("%w: %v", ErrUnreadable, err)
	}
	c.Body = body
	switch c.MediaType {
	case "application/x-www-form-urlencoded":
		c.Params = string(body)
	case "multipart/form-data":
		// Read again from the bytes, so that the caller keeps them.
		form := &http.Request{Method: r.Method, Header: r.Header,
			Body: io.NopCloser(bytes.NewReader(body)), ContentLength: int64(len(body))}
		if err := form.ParseMultipartForm(maxBody); err != nil {
			return Call{}, fmt.Errorf("%w: %v", ErrUnreadable, err)
		}
		c.Params = url.Values(form.MultipartForm.Value).Encode()
	}
	return c, nil
}

// CheckTimestamp checks a signed timestamp, Unix seconds in decimal, as
// the API does: ErrNoTimestamp when ts is empty or not a number,
// ErrExpired when it is more than window from now, either way; nil
// otherwise.
func CheckTimestamp(ts string, now time.Time, window time.Duration) error {
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		return ErrNoTimestamp
	}
	if d := now.Sub(time.Unix(sec, 0)); d > window || d < -window {
		return ErrExpired
	}
	return nil
}
