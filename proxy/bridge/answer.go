package bridge

import (
	"strconv"
	"strings"

	"github.com/cdnproxy/cdnproxy/annotate"
	"github.com/cdnproxy/cdnproxy/codes"
)

// successBody is a 2.0 success answer, members in the documented order.
type successBody struct {
	Code     int    `json:"code"`
	Message  string `json:"message"`
	CodeDesc string `json:"codeDesc"`
	Data     any    `json:"data,omitempty"`
}

// legacySuccessBody is the success answer of the two actions whose
// documented examples lead with the older retcode/errmsg pair
// (GetCdnRefreshLog, DeleteCdnHost).
type legacySuccessBody struct {
	Retcode  int    `json:"retcode"`
	Errmsg   string `json:"errmsg"`
	Code     int    `json:"code"`
	Message  string `json:"message"`
	CodeDesc string `json:"codeDesc"`
	Data     any    `json:"data"`
}

// errorBody is a 2.0 error answer: the 2.0 members, then cdnproxy's
// annotation in the order annotate.Body adds it, then where it came from.
type errorBody struct {
	Code        int            `json:"code"`
	Message     string         `json:"message"`
	CodeDesc    string         `json:"codeDesc"`
	Category    codes.Category `json:"category"`
	Retryable   bool           `json:"retryable"`
	Description string         `json:"description"`
	ModuleCode  int            `json:"moduleCode,omitempty"`
	V3Code      string         `json:"v3Code,omitempty"`
	RequestID   string         `json:"requestId,omitempty"`
}

// ok answers with success and data (nil for none).
func (c *call) ok(data any) error {
	c.res.Body = mustMarshal(successBody{Code: 0, Message: "", CodeDesc: "Success", Data: data})
	return nil
}

// okLegacy answers with success in the retcode/errmsg shape.
func (c *call) okLegacy(data any) error {
	c.res.Body = mustMarshal(legacySuccessBody{Errmsg: "ok", CodeDesc: "Success", Data: data})
	return nil
}

// fail puts an error answer into c.res. It returns errAnswered so a
// handler can write return c.fail(…).
func (c *call) fail(code, module int, message, v3Code string, cat codes.Category, retryable bool, description string) error {
	if module != 0 {
		message = "(" + strconv.Itoa(module) + ")" + message
	}
	r := &c.res
	r.Failed, r.Code, r.ModuleCode, r.CodeDesc, r.Message = true, code, module, codes.CodeDesc(code), message
	r.V3Code, r.Category, r.Retryable, r.Description = v3Code, cat, retryable, description
	r.Body = mustMarshal(errorBody{
		Code: code, Message: message, CodeDesc: r.CodeDesc,
		Category: cat, Retryable: retryable, Description: description,
		ModuleCode: module, V3Code: v3Code, RequestID: r.RequestID,
	})
	return errAnswered
}

// invalid answers a missing or malformed 2.0 parameter, found before any
// 3.0 call: public code 4000, annotated from the catalogue's 4000 entry.
func (c *call) invalid(message string) error {
	e, _ := codes.Public(4000)
	return c.fail(4000, 0, message, "", e.Category, e.Retryable, e.Description)
}

// noSuchHost answers a host or host id the account does not have, found
// by the bridge itself: as 3.0's ResourceNotFound.CdnHostNotExists would
// be, without a v3Code.
func (c *call) noSuchHost(what string) error {
	const v3 = "ResourceNotFound.CdnHostNotExists"
	e, _ := codes.V3(v3)
	return c.fail(PublicCode(v3), ModuleCode(v3), "cdn no such host: "+what, "", e.Category, e.Retryable, e.Description)
}

// v3Error translates a 3.0 error into the 2.0 answer.
func (c *call) v3Error(code, message string) {
	if message == "" {
		message = code
	}
	e, ok := codes.V3(code)
	if !ok {
		e = codes.V3Entry{Category: codes.Unknown, Description: annotate.UnknownDescription}
	}
	c.fail(PublicCode(code), ModuleCode(code), message, code, e.Category, e.Retryable, e.Description)
}

// badAnswerDescription is the description of an unusable 3.0 answer.
const badAnswerDescription = "The API 3.0 gateway sent no usable answer (not JSON, or no Response object), typically an error page from a gateway in between. Retry later with backoff; the call may or may not have been carried out."

// badAnswer answers a 3.0 answer that is not an API answer: an HTML error
// page, invalid JSON, no Response. It is public code 6000 (internal
// error), category upstream_unreachable, retryable.
func (c *call) badAnswer(action string, status int, what string) {
	msg := "API 3.0 " + action + " answered HTTP " + strconv.Itoa(status) + " with " + what
	c.fail(6000, 0, msg, "", codes.UpstreamUnreachable, true, badAnswerDescription)
}

// unsupported answers an action the bridge does not translate.
func (c *call) unsupported() {
	action := c.res.Action
	if action == "" {
		c.invalid("the Action parameter is missing")
		return
	}
	msg := "action " + strconv.Quote(action) + " is not available: CDN API 2.0 was retired on 2022-11-30 and cdnproxy does not translate this action"
	desc := "cdnproxy bridges only some CDN API 2.0 actions to API 3.0 and this is not one of them. Call API 3.0 directly"
	if s := c.res.Successor; s != "" {
		msg += "; its API 3.0 successor is " + s
		desc += " (" + s + ")"
	}
	c.fail(4000, 0, msg, "", codes.Unsupported, false, desc+".")
	c.res.Unsupported = true
}

// PublicCode returns the 2.0 public code that answers a 3.0 error code,
// chosen by the code's family (the part before the first dot); see
// docs/bridge.md for the table.
func PublicCode(v3Code string) int {
	switch v3Code {
	case "AuthFailure.UnauthorizedOperation": // a CAM refusal, not a bad signature
		return 4300
	case "UnsupportedProtocol":
		return 4600
	case "NoSuchVersion", "ActionOffline":
		return 6100
	case "ServiceUnavailable":
		return 6200
	case "IpInBlacklist", "IpNotInWhitelist":
		return 4300
	}
	family, _, _ := strings.Cut(v3Code, ".")
	switch family {
	case "InvalidParameter", "InvalidParameterValue", "MissingParameter", "UnknownParameter",
		"InvalidAction", "InvalidRequest", "NoSuchProduct", "UnsupportedOperation", "UnsupportedRegion",
		"RequestSizeLimitExceeded", "ResponseSizeLimitExceeded", "DryRunOperation":
		return 4000
	case "AuthFailure":
		return 4100
	case "UnauthorizedOperation", "OperationDenied":
		return 4300
	case "RequestLimitExceeded", "LimitExceeded":
		return 4400
	case "ResourceNotFound":
		return 5000
	case "ResourceInUse", "ResourceUnavailable", "FailedOperation", "ResourceInsufficient":
		return 5100
	case "InternalError":
		return 6000
	}
	return 5100 // an unknown family: the operation failed, cause unknown
}

// ModuleCode returns the 2.0 module code that corresponds to a 3.0 error
// code, 0 when none does. The correspondence is inferred from the codes'
// meanings (no Tencent document maps them); docs/bridge.md lists it.
func ModuleCode(v3Code string) int {
	switch v3Code {
	case "ResourceNotFound.CdnHostNotExists":
		return 9110
	case "ResourceNotFound.CdnUserNotExists":
		return 9111
	case "LimitExceeded.CdnPurgeUrlExceedBatchLimit", "LimitExceeded.CdnPurgeExceedBatchLimit":
		return 22043
	case "LimitExceeded.CdnPurgeUrlExceedDayLimit", "LimitExceeded.CdnPurgeExceedDayLimit":
		return 22044
	case "LimitExceeded.CdnPurgePathExceedBatchLimit":
		return 22045
	case "LimitExceeded.CdnPurgePathExceedDayLimit":
		return 22046
	case "LimitExceeded.CdnPushExceedBatchLimit":
		return 23100
	case "LimitExceeded.CdnPushExceedDayLimit":
		return 23101
	case "LimitExceeded.CdnUserTooManyHosts", "ResourceNotFound.CdnUserTooManyHosts":
		return 9089
	case "ResourceInUse.CdnHostExists":
		return 9137
	case "UnauthorizedOperation.CdnHostIsUsedByOther":
		return 9138
	case "ResourceInUse.CdnOpInProgress":
		return 9175
	case "ResourceUnavailable.CdnHostIsNotOffline":
		return 9315
	case "ResourceUnavailable.CdnHostIsNotOnline":
		return 9176
	case "ResourceUnavailable.CdnHostNoIcp":
		return 20004
	case "ResourceUnavailable.CdnHostIsMalicious":
		return 20009
	case "ResourceUnavailable.CdnHostIsLocked":
		return 9161
	case "LimitExceeded.CdnHostOpTooOften":
		return 9163
	case "InvalidParameter.CdnHostInvalidParam":
		return 9107
	case "InvalidParameter.CdnStatInvalidDate":
		return 9150
	case "InvalidParameter.CdnStatInvalidMetric":
		return 9160
	case "InvalidParameter.CdnParamError":
		return 9003
	case "UnauthorizedOperation.CdnHostUnauthorized":
		return 25002
	case "UnauthorizedOperation.CdnUserIsSuspended":
		return 9169
	case "LimitExceeded.CdnQueryIpBatchTooMany":
		return 9404
	case "InternalError.CdnSystemError":
		return 9000
	case "InternalError.CdnDbError":
		return -9014
	}
	return 0
}

// mustMarshal encodes an answer the bridge built itself; it cannot fail
// (strings, numbers, bools, slices and maps of them).
func mustMarshal(v any) []byte {
	b, err := marshal(v)
	if err != nil {
		panic("bridge: encoding an answer: " + err.Error())
	}
	return b
}
