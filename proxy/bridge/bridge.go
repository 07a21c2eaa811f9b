// Package bridge answers legacy CDN API 2.0 calls by calling CDN API 3.0:
// it turns one verified 2.0 call (its decoded parameters) into one or more
// 3.0 calls, sends them through a caller-supplied Doer, and turns the 3.0
// answers back into a complete 2.0 answer body. It does no HTTP, signing or
// logging of its own; docs/bridge.md lists the actions, the fields and the
// error mapping.
package bridge

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/tidwall/gjson"

	"github.com/cdnproxy/cdnproxy/codes"
	"github.com/cdnproxy/cdnproxy/proxy/signature"
)

// Doer sends one API 3.0 call upstream and returns the raw answer: the
// HTTP status and body. action is the 3.0 action name (for X-TC-Action) and
// payload the JSON request body, both to be signed by the Doer. A non-nil
// error means no usable answer arrived (transport failure, timeout,
// cancelled context); Serve then stops and returns that error wrapped.
type Doer func(ctx context.Context, action string, payload []byte) (status int, body []byte, err error)

// Bridge translates API 2.0 calls into API 3.0 calls. It remembers the
// numeric host ids it has handed out (see HostID), so one Bridge should
// serve all calls of a proxy. Its methods are safe for concurrent use.
type Bridge struct {
	mu    sync.Mutex
	hosts map[int64]hostRef // numeric 2.0 host id -> 3.0 domain

	// now returns the current time; it sets default time ranges.
	now func() time.Time
}

// hostRef is what the numeric id index knows about one domain.
type hostRef struct{ resourceID, domain string }

// New returns a Bridge with an empty host id index.
func New() *Bridge {
	return &Bridge{hosts: make(map[int64]hostRef), now: time.Now}
}

// Result describes the answer Serve produced.
type Result struct {
	// Body is the complete API 2.0 answer body, always a JSON object with
	// an integer "code" (0 on success).
	Body []byte
	// Action is the 2.0 action called ("" when the call named none).
	Action string
	// Successor is the main API 3.0 action that serves Action, "" when
	// there is none.
	Successor string
	// RequestID is the RequestId of the last 3.0 answer, "" when no 3.0
	// answer carried one.
	RequestID string

	// Failed reports that Body is an error answer. The fields below are set
	// only when it is.
	Failed bool
	// Code is the 2.0 public code ("code"), ModuleCode the 2.0 module code
	// put in front of the message as "(9110)", 0 when none corresponds.
	Code, ModuleCode int
	// CodeDesc is the body's "codeDesc": the class name of Code.
	CodeDesc string
	// Message is the body's "message".
	Message string
	// V3Code is the API 3.0 error code that caused the failure, "" when the
	// failure was decided locally or the 3.0 answer was unusable.
	V3Code string
	// Category, Retryable and Description are the annotation added to the
	// body, from cdnproxy's catalogue.
	Category    codes.Category
	Retryable   bool
	Description string
	// Unsupported reports that the bridge does not translate Action; no 3.0
	// call was made.
	Unsupported bool
}

// errAnswered tells Serve that a handler has already put a 2.0 error
// answer into the call's Result.
var errAnswered = errors.New("bridge: answered")

// call is the state of one Serve.
type call struct {
	b      *Bridge
	ctx    context.Context
	do     Doer
	params signature.Params
	res    Result
}

// Serve answers one verified 2.0 call. params are all of the call's
// parameters; the common ones (Action, Nonce, Timestamp, SecretId,
// Signature, …) are ignored except Action. A non-nil error is returned only
// when the Doer returned one; the Result then carries Action and Successor
// but no Body, and the caller answers the client itself. Every other
// outcome, including an unusable 3.0 answer, is a 2.0 answer in Result.Body.
func (b *Bridge) Serve(ctx context.Context, do Doer, params signature.Params) (Result, error) {
	action, _ := params.Get("Action")
	c := &call{b: b, ctx: ctx, do: do, params: params, res: Result{Action: action, Successor: Successor(action)}}
	h := handler(action)
	if h == nil {
		c.unsupported()
		return c.res, nil
	}
	err := h(c)
	switch {
	case err == nil, errors.Is(err, errAnswered):
		return c.res, nil
	default:
		r := Result{Action: c.res.Action, Successor: c.res.Successor, RequestID: c.res.RequestID}
		return r, err
	}
}

// handler returns the function that bridges a 2.0 action, nil when the
// action is not bridged.
func handler(action string) func(*call) error {
	switch action {
	case "RefreshCdnUrl":
		return (*call).refreshCdnURL
	case "RefreshCdnDir":
		return (*call).refreshCdnDir
	case "CdnUrlPusher":
		return (*call).cdnURLPusher
	case "CdnPusherV2":
		return (*call).cdnPusherV2
	case "GetCdnRefreshLog":
		return (*call).getCdnRefreshLog
	case "GetPushLogs":
		return (*call).getPushLogs
	case "GetFlushQuota":
		return (*call).getFlushQuota
	case "DescribeCdnHosts":
		return (*call).describeCdnHosts
	case "GetHostInfoByHost":
		return (*call).getHostInfoByHost
	case "GetHostInfoById":
		return (*call).getHostInfoByID
	case "OnlineHost":
		return (*call).onlineHost
	case "OfflineHost":
		return (*call).offlineHost
	case "DeleteCdnHost":
		return (*call).deleteCdnHost
	case "AddCdnHost":
		return (*call).addCdnHost
	case "GetCdnLogList":
		return (*call).getCdnLogList
	case "DescribeCdnHostInfo":
		return (*call).describeCdnHostInfo
	case "DescribeCdnHostDetailedInfo":
		return (*call).describeCdnHostDetailedInfo
	case "GetCdnStatusCode":
		return (*call).getCdnStatusCode
	}
	return nil
}

// Bridged lists the 2.0 actions Serve translates, sorted.
func Bridged() []string {
	return []string{
		"AddCdnHost", "CdnPusherV2", "CdnUrlPusher", "DeleteCdnHost",
		"DescribeCdnHostDetailedInfo", "DescribeCdnHostInfo", "DescribeCdnHosts",
		"GetCdnLogList", "GetCdnRefreshLog", "GetCdnStatusCode", "GetFlushQuota",
		"GetHostInfoByHost", "GetHostInfoById", "GetPushLogs", "OfflineHost",
		"OnlineHost", "RefreshCdnDir", "RefreshCdnUrl",
	}
}

// Successor returns the API 3.0 action that replaces a 2.0 action, from the
// CDN permission table (https://cloud.tencent.com/document/product/228/14867)
// and the bridge's own choices, "" when none is known. Where a 2.0 action
// maps to several 3.0 actions, the main one is named.
func Successor(action string) string {
	switch action {
	case "AddCdnHost":
		return "AddCdnDomain"
	case "DeleteCdnHost":
		return "DeleteCdnDomain"
	case "DescribeCdnHostDetailedInfo", "DescribeCdnHostInfo", "GetCdnProvIspDetailStat", "GetCdnStatusCode":
		return "DescribeCdnData"
	case "GenerateLogList", "GetCdnLogList":
		return "DescribeCdnDomainLogs"
	case "QueryCdnIp":
		return "DescribeCdnIp"
	case "DescribeCdnHosts", "GetHostInfoByHost", "GetHostInfoById":
		return "DescribeDomainsConfig"
	case "GetCdnRefreshLog":
		return "DescribePurgeTasks"
	case "GetPushLogs":
		return "DescribePushTasks"
	case "GetFlushQuota":
		return "DescribePurgeQuota"
	case "GetCdnStatTop":
		return "ListTopData"
	case "RefreshCdnDir":
		return "PurgePathCache"
	case "RefreshCdnUrl":
		return "PurgeUrlsCache"
	case "CdnOverseaPushser", "CdnPusherV2", "CdnUrlPusher":
		return "PushUrlsCache"
	case "OnlineHost":
		return "StartCdnDomain"
	case "OfflineHost":
		return "StopCdnDomain"
	case "UpdateCdnConfig":
		return "UpdateDomainConfig"
	}
	return ""
}

// v3 sends one 3.0 call and decodes a successful answer's Response into
// out (which may be nil). It returns the Doer's error wrapped, errAnswered
// after putting a 2.0 error answer into c.res (3.0 error or unusable
// answer), or nil.
func (c *call) v3(action string, payload any, out any) error {
	if err := c.ctx.Err(); err != nil {
		return fmt.Errorf("bridge: %s: %w", action, err)
	}
	body, err := marshal(payload)
	if err != nil {
		return fmt.Errorf("bridge: %s: encoding the payload: %w", action, err)
	}
	status, answer, err := c.do(c.ctx, action, body)
	if err != nil {
		return fmt.Errorf("bridge: %s: %w", action, err)
	}
	// The envelope is read with gjson; only the Response, once, with
	// encoding/json into out.
	resp := gjson.GetBytes(answer, "Response")
	if !gjson.ValidBytes(answer) || !resp.IsObject() {
		c.badAnswer(action, status, "no API 3.0 Response object")
		return errAnswered
	}
	if id := resp.Get("RequestId"); id.Type == gjson.String && id.Str != "" {
		c.res.RequestID = id.Str
	}
	if e := resp.Get("Error"); e.Exists() {
		code, message := e.Get("Code"), e.Get("Message")
		if !e.IsObject() || (code.Exists() && code.Type != gjson.String) || (message.Exists() && message.Type != gjson.String) {
			c.badAnswer(action, status, "a Response whose Error is not an object of strings")
			return errAnswered
		}
		if code.Str != "" {
			c.v3Error(code.Str, message.Str)
			return errAnswered
		}
	}
	if status != 200 {
		c.badAnswer(action, status, "a Response without an Error")
		return errAnswered
	}
	if out != nil && json.Unmarshal([]byte(resp.Raw), out) != nil {
		c.badAnswer(action, status, "a Response of an unexpected shape")
		return errAnswered
	}
	return nil
}

// marshal encodes v as compact JSON without escaping <, > and &.
func marshal(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}
