package annotate

import (
	"strconv"
	"time"

	"github.com/cdnproxy/cdnproxy/codes"
	"github.com/tidwall/gjson"
)

// API 3.0 bodies have the shape
//
//	{"Response":{"Error":{"Code":"LimitExceeded.CdnPurgeUrlExceedDayLimit","Message":"…"},"RequestId":"…"}}
//
// and are annotated inside Response.Error, next to Code and Message, with
// members named as that object's own are: "Category", "Retryable",
// "Description".

// errorV3 holds the members of a 3.0 Response that matter here.
type errorV3 struct {
	errObj                                    []byte // raw Response.Error
	code, message, requestID                  []byte // raw Code, Message, RequestId
	hasCategory, hasRetryable, hasDescription bool
	hasRetryAfter                             bool
}

// bodyV3 handles a body whose top level is {"Response": response}, as
// annotateBody does (now and seconds: the retry hint).
func bodyV3(body, response []byte, now time.Time, seconds int, whole bool) ([]byte, int, Result) {
	e, ok := inspectV3(response)
	if !ok {
		return nil, 0, Result{Kind: Other}
	}
	if e.errObj == nil {
		return nil, 0, Result{Kind: Success, Generation: 3, requestID: e.requestID}
	}
	if !gjson.ValidBytes(body) {
		return nil, 0, Result{Kind: Other}
	}
	res := Result{Kind: Failure, Generation: 3, ErrorCode: jsonText(e.code), message: e.message, requestID: e.requestID}
	if entry, ok := codes.V3(res.ErrorCode); ok {
		res.Source, res.Category, res.Retryable, res.Description = FromV3Code, entry.Category, entry.Retryable, entry.Description
		if entry.Code != res.ErrorCode {
			res.Source = FromV3Family
		}
	} else {
		res.Source, res.Category, res.Description = FromNone, codes.Unknown, UnknownDescription
	}
	res.RetryAfter = retryAfter(res, now, seconds)
	if e.hasCategory && e.hasRetryable && e.hasDescription && (e.hasRetryAfter || res.RetryAfter == 0) {
		return nil, 0, res
	}
	out, at := spliceV3(body, e, res, whole)
	return out, at, res
}

// inspectV3 reads a Response object. It fails unless Response is an
// object with at most one Error and one RequestId, and an Error present is
// an object with exactly one non-empty string Code and at most one
// Message.
func inspectV3(response []byte) (errorV3, bool) {
	var e errorV3
	s := objectScanner{b: response}
	if s.open() != scanOK {
		return e, false
	}
	seenRequestID := false
	for first := true; ; first = false {
		m, st := s.next(first)
		if st == scanEnd {
			break
		}
		if st != scanOK {
			return e, false
		}
		switch key(m) {
		case "Error":
			if e.errObj != nil || m.value[0] != '{' {
				return e, false
			}
			e.errObj = m.value
		case "RequestId":
			if seenRequestID {
				return e, false
			}
			seenRequestID, e.requestID = true, m.value
		}
	}
	if e.errObj == nil {
		return e, true
	}
	s = objectScanner{b: e.errObj}
	s.open()
	for first := true; ; first = false {
		m, st := s.next(first)
		if st == scanEnd {
			break
		}
		if st != scanOK {
			return e, false
		}
		switch key(m) {
		case "Code":
			if e.code != nil {
				return e, false
			}
			e.code = m.value
		case "Message":
			if e.message != nil {
				return e, false
			}
			e.message = m.value
		case "Category":
			e.hasCategory = true
		case "Retryable":
			e.hasRetryable = true
		case "Description":
			e.hasDescription = true
		case "RetryAfter":
			e.hasRetryAfter = true
		}
	}
	if len(e.code) < 3 || e.code[0] != '"' {
		return e, false // Code must be a non-empty string
	}
	return e, true
}

// spliceV3 returns a copy of body with the missing annotation members
// inserted before the closing brace of Response.Error (whole), or only
// those members; and where they go.
func spliceV3(body []byte, e errorV3, res Result, whole bool) ([]byte, int) {
	// e.errObj is a subslice of body: its offset follows from the
	// capacities.
	end := cap(body) - cap(e.errObj) + len(e.errObj) - 1
	out := make([]byte, 0, wholeLen(body, whole)+len(res.Description)+96)
	if whole {
		out = append(out, body[:end]...)
	}
	if !e.hasCategory {
		out = append(out, `,"Category":"`...)
		out = append(out, res.Category...)
		out = append(out, '"')
	}
	if !e.hasRetryable {
		out = append(out, `,"Retryable":`...)
		out = strconv.AppendBool(out, res.Retryable)
	}
	if !e.hasDescription {
		out = append(out, `,"Description":`...)
		out = appendString(out, res.Description)
	}
	if res.RetryAfter > 0 && !e.hasRetryAfter {
		out = append(out, `,"RetryAfter":`...)
		out = strconv.AppendInt(out, int64(res.RetryAfter), 10)
	}
	if whole {
		out = append(out, body[end:]...)
	}
	return out, end
}
