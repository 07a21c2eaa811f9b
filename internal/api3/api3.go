// Package api3 carries out Tencent Cloud CDN API 3.0 calls
// (cdn.tencentcloudapi.com, Version 2018-06-06) against an Account, for the
// two stand-ins of the API: the offline emulator behind `cdnproxy mock`
// (internal/emulator) and the test fake internal/fakeapi3. It holds what
// both must agree on, written once: the signature checks (verify.go), the
// parameter checks (params.go), the actions and their answer shapes, those
// of the Go SDK's tencentcloud/cdn/v20180606 models.go (actions.go,
// domains.go), and the bodies:
//
//	{"Response":{"TaskId":"…","RequestId":"<uuid>"}}
//	{"Response":{"Error":{"Code":"…","Message":"…"},"RequestId":"<uuid>"}}
//
// The Account decides what is stored and how: domains, tasks and the
// quotas they spend. The package imports no testing code.
package api3

import (
	"crypto/rand"
	"encoding/json"
	"fmt"
	"slices"
	"time"

	"github.com/cdnproxy/cdnproxy/internal/apicall"
)

// The API's constants.
const (
	// Service is the service name of the CDN API's TC3 credential scope.
	Service = "cdn"
	// Version is the CDN API 3.0 version.
	Version = "2018-06-06"
	// CanonicalHost is the API's host name.
	CanonicalHost = "cdn.tencentcloudapi.com"
	// Window is how far a signed timestamp may be from the API's clock.
	Window = apicall.WindowV3
	// MaxBody is the largest body read: API 3.0's limit for a call signed
	// with TC3.
	MaxBody = 10 << 20
	// TimeLayout is how the API writes and reads times
	// ("2018-08-08 00:00:00"), always in China Standard Time (UTC+8).
	TimeLayout = "2006-01-02 15:04:05"
	// FixedTaskID is the TaskId of every purge and push answer of a call
	// that is not Strict.
	FixedTaskID = "1700000000-fake3task"
)

// CST is UTC+8, the zone of every time the API writes or reads, and of its
// days: daily quotas start again at 00:00 in it.
var CST = time.FixedZone("CST", 8*60*60)

// formatTime writes t as the API does.
func formatTime(t time.Time) string { return t.In(CST).Format(TimeLayout) }

// Domain statuses.
const (
	StatusOnline     = "online"
	StatusOffline    = "offline"
	StatusProcessing = "processing"
)

// AppID is the AppId of every domain reported.
const AppID = 1250000000

// Origin is a domain's origin configuration, with the names of the API's
// Origin structure.
type Origin struct {
	Origins            []string `json:"Origins"`
	OriginType         string   `json:"OriginType"`
	ServerName         string   `json:"ServerName"`
	OriginPullProtocol string   `json:"OriginPullProtocol"`
	BackupOrigins      []string `json:"BackupOrigins"`
	BackupOriginType   string   `json:"BackupOriginType"`
	BackupServerName   string   `json:"BackupServerName"`
}

// Domain is one acceleration domain of an account.
type Domain struct {
	ResourceID  string
	Domain      string
	Cname       string
	Status      string // StatusOnline, StatusOffline or StatusProcessing
	ServiceType string // web, download, media, hybrid or dynamic
	ProjectID   int64
	Area        string // mainland, overseas or global
	Origin      Origin
	CreateTime  time.Time
	UpdateTime  time.Time
}

// Clone returns d with its own copies of its lists.
func (d Domain) Clone() Domain {
	d.Origin.Origins = slices.Clone(d.Origin.Origins)
	d.Origin.BackupOrigins = slices.Clone(d.Origin.BackupOrigins)
	return d
}

// Quota kinds, named as DescribePurgeQuota and DescribePushQuota name them.
const (
	QuotaURLPurge  = "UrlPurge"
	QuotaPathPurge = "PathPurge"
	QuotaURLPush   = "UrlPush"
)

// Quota is a daily quota of one kind in one area: at most Batch URLs per
// call, Total per day, Available left today.
type Quota struct {
	Batch     int64  `json:"Batch"`
	Total     int64  `json:"Total"`
	Available int64  `json:"Available"`
	Area      string `json:"Area"`
}

// QuotaAreas are the areas quotas are kept for.
var QuotaAreas = []string{"mainland", "overseas"}

// DefaultBatch and DefaultTotal are the API's documented limits per area
// (https://tencentcloud.com/document/api/228/33601, 33602, 33600): URLs
// per call and per day of each quota kind.
var (
	DefaultBatch = map[string]int64{QuotaURLPurge: 1000, QuotaPathPurge: 500, QuotaURLPush: 500}
	DefaultTotal = map[string]int64{QuotaURLPurge: 10000, QuotaPathPurge: 100, QuotaURLPush: 1000}
)

// Task kinds.
const (
	TaskURLPurge  = "url"
	TaskPathPurge = "path"
	TaskPush      = "push"
)

// Task is one URL or directory of a purge or push call.
type Task struct {
	TaskID     string
	Kind       string // TaskURLPurge, TaskPathPurge or TaskPush
	URL        string
	FlushType  string // flush or delete, for a directory purge
	Area       string
	Status     string // done: tasks complete at once
	CreateTime time.Time
}

// Account is the state actions run against. Its methods are called with
// whatever lock guards it held, one call at a time.
type Account interface {
	// Domains returns every domain, in the order they were added.
	Domains() []Domain
	// Domain returns the domain of that name (lower case).
	Domain(name string) (Domain, bool)
	// AddDomain adds d (Domain, ServiceType, Origin, ProjectID, Area and
	// CreateTime set), filling in the rest, or refuses it with an error
	// in the API's codes.
	AddDomain(d Domain) *Error
	// SetStatus moves an existing domain to StatusOnline or
	// StatusOffline at now. An account may leave it StatusProcessing for
	// a while on its way online.
	SetStatus(name, status string, now time.Time)
	// DeleteDomain removes an existing domain.
	DeleteDomain(name string)
	// Quotas returns the quotas of a kind, one per area of QuotaAreas,
	// as they stand for this call.
	Quotas(kind string) []Quota
	// Spend takes URLs from the quotas of a kind, by area; Quotas has
	// shown they fit.
	Spend(kind string, byArea map[string]int64)
	// NewTaskID returns a TaskId for a call's tasks.
	NewTaskID(now time.Time) string
	// AddTasks records the tasks of one call.
	AddTasks(tasks []Task)
	// Tasks returns every task recorded, oldest first.
	Tasks() []Task
}

// Error is an API error: Response.Error's Code and Message.
type Error struct{ Code, Message string }

// Error returns "Code: Message".
func (e *Error) Error() string { return e.Code + ": " + e.Message }

// SuccessBody returns {"Response":{<resp's members>,"RequestId":id}}. It
// panics when resp does not encode as a JSON object.
func SuccessBody(resp any, requestID string) []byte {
	members, err := json.Marshal(resp)
	if err != nil || len(members) < 2 || members[0] != '{' {
		panic(fmt.Sprintf("api3: answer %T is not an object: %v", resp, err))
	}
	id, _ := json.Marshal(requestID)
	out := append([]byte(`{"Response":`), members[:len(members)-1]...)
	if len(members) > 2 {
		out = append(out, ',')
	}
	out = append(out, `"RequestId":`...)
	out = append(out, id...)
	return append(out, "}}"...)
}

// ErrorBody returns an API 3.0 error body:
//
//	{"Response":{"Error":{"Code":code,"Message":message},"RequestId":requestID}}
func ErrorBody(code, message, requestID string) []byte {
	var b struct {
		Response struct {
			Error struct {
				Code    string `json:"Code"`
				Message string `json:"Message"`
			} `json:"Error"`
			RequestID string `json:"RequestId"`
		} `json:"Response"`
	}
	b.Response.Error.Code, b.Response.Error.Message, b.Response.RequestID = code, message, requestID
	out, err := json.Marshal(b)
	if err != nil {
		panic("api3: " + err.Error())
	}
	return out
}

// messages are the API's Chinese messages for the codes answered without
// an action's own message, and a few others.
var messages = map[string]string{
	"AuthFailure.InvalidAuthorization":             "请求头部的 Authorization 不符合腾讯云标准。",
	"AuthFailure.SecretIdNotFound":                 "密钥不存在，请在控制台检查密钥是否已被删除或者禁用。",
	"AuthFailure.SignatureExpire":                  "签名过期。Timestamp 和服务器时间相差不得超过五分钟。",
	"AuthFailure.SignatureFailure":                 "请求签名验证失败，请检查您的签名计算是否正确。",
	"InvalidAction":                                "接口不存在。",
	"MissingParameter":                             "缺少参数错误。",
	"NoSuchVersion":                                "接口版本不存在。",
	"LimitExceeded.CdnPurgeUrlExceedDayLimit":      "刷新的Url数量超过每日限额。",
	"RequestLimitExceeded":                         "请求的次数超过了频率限制。",
	"ResourceInUse.CdnOpInProgress":                "域名操作过于频繁，请稍后重试。",
	"ResourceNotFound.CdnHostNotExists":            "未查询到该域名，请确认域名是否正确。",
	"UnauthorizedOperation.CdnAccountUnauthorized": "子账号未配置cam策略。",
}

// Message returns the Chinese message for a code.
func Message(code string) string {
	if m, ok := messages[code]; ok {
		return m
	}
	return fmt.Sprintf("操作失败（%s），请稍后重试或联系腾讯云客服。", code)
}

// NewRequestID returns a random version-4 UUID, as the API's RequestIds
// are.
func NewRequestID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:])
}
