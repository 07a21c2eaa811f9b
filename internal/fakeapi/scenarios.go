package fakeapi

import (
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/cdnproxy/cdnproxy/codes"
)

// The scenarios. Each is selected by its Action value; the bodies of the
// API's own answers are copied from the CDN API 2.0 documentation and from
// answers captured in the wild (docs/reference/cdn-api-v2.md §3.2), spacing
// included; a class name in codeDesc ("AuthFailure") is read from package
// codes, whose value the captures agree with. JSON scenarios are sent with Content-Type application/json
// (the ct= parameter overrides it), status 200 and an exact
// Content-Length, or gzip-compressed when the call accepts gzip.
const (
	// RefreshCdnUrl answers the small documented RefreshCdnUrl success:
	//	{"code": 0, "message": "", "codeDesc": "Success", "data": {"count": 1, "task_id": "1480069888795584532"}}
	RefreshCdnUrl = "RefreshCdnUrl"

	// DescribeCdnHosts answers the documented DescribeCdnHosts success, a
	// list of one host (about 1.3 KB).
	DescribeCdnHosts = "DescribeCdnHosts"

	// DeleteCdnHost answers the documented DeleteCdnHost success, which
	// carries the legacy "retcode" and "errmsg" members and an empty data
	// array.
	DeleteCdnHost = "DeleteCdnHost"

	// NoSuchHost answers the documented RefreshCdnUrl failure for an
	// unknown host: code 4000, module code 9110 in the message, and
	// codeDesc the module code as a string, "9110".
	NoSuchHost = "FakeNoSuchHost"

	// NoSuchHostNumeric is NoSuchHost as RefreshCdnDir documents it:
	// codeDesc the module code as a number, 9110.
	NoSuchHostNumeric = "FakeNoSuchHostNumeric"

	// HostInProgress answers the documented UpdateCdnConfig failure:
	// module code 9175 (host being deployed), codeDesc "UserRequestError".
	HostInProgress = "FakeHostInProgress"

	// HostOnline answers the documented OnlineHost failure: module code
	// 9177 (host already online), numeric codeDesc.
	HostOnline = "FakeHostOnline"

	// OnlineHost answers as HostOnline does, under the action's own name,
	// for clients that cannot send a made-up action, such as an SDK.
	OnlineHost = "OnlineHost"

	// NoICP answers the documented AddCdnHost failure: module code 20004
	// (no ICP filing), numeric codeDesc.
	NoICP = "FakeNoICP"

	// DNSPodError answers the documented DeleteCdnHost failure: module
	// code 22200 (DNSPod interface error), numeric codeDesc.
	DNSPodError = "FakeDNSPodError"

	// AuthFailure answers the 4100 AuthFailure body captured from the real
	// API (2019 and 2021): a public code and no module code.
	AuthFailure = "FakeAuthFailure"

	// ProjectID answers the two-member body of the generic error page:
	//	{"code": 5100, "message": "(100004)projectId不正确"}
	ProjectID = "FakeProjectID"

	// NotDeployed answers the 1012 purge failure captured from the real API
	// in 2020, codeDesc "InvalidParameter".
	NotDeployed = "FakeNotDeployed"

	// StringCode answers NoSuchHost with the code written as a string,
	// "4000", as other API 2.0 products document their codes. No CDN
	// example has one; clients are told to accept both.
	StringCode = "FakeStringCode"

	// BadGateway answers status 502 with a gateway's HTML error page
	// (Content-Type text/html), as a load balancer in front of the API
	// would. It is never compressed.
	BadGateway = "FakeBadGateway"

	// Truncated answers a body that stops in the middle of the message
	// string: invalid JSON, correctly framed (the Content-Length is that
	// of the bytes sent).
	Truncated = "FakeTruncated"

	// HugeSuccess answers a success body of size= bytes (default 8 MiB,
	// at least the bare JSON around it): {"code": 0, ...,"data": {"blob":
	// "..."}}, generated while it is sent, never held in memory. Generated
	// returns the same bytes.
	HugeSuccess = "FakeHugeSuccess"

	// HugeError answers a NoSuchHost error body padded with a "data"
	// string to size= bytes (default 2 MiB, more than the proxy's default
	// limit of 1 MiB for bodies it annotates), generated while it is sent.
	HugeError = "FakeHugeError"

	// WrongEncoding answers the NoSuchHost body uncompressed while saying
	// Content-Encoding: gzip, whatever the call accepts.
	WrongEncoding = "FakeWrongEncoding"

	// SlowBody sends the headers (with an exact Content-Length), then the
	// body of the scenario named by of= (default NoSuchHost) one byte at a
	// time, flushing each and pausing interval= (default 1ms) in between.
	// It stops when the call's context ends. It is never compressed.
	SlowBody = "FakeSlowBody"

	// Drop takes over the connection, writes the status line and headers
	// of the scenario named by of= (default DescribeCdnHosts) with its full
	// Content-Length, then the first half of its body, and closes the
	// connection.
	Drop = "FakeDrop"

	// ShortBody answers the scenario named by of= (default
	// DescribeCdnHosts) with a Content-Length 100 bytes larger than its
	// body, so the connection ends before the declared length.
	ShortBody = "FakeShortBody"

	// NoContent answers status 204 and no body.
	NoContent = "FakeNoContent"
)

// Scenario is a scenario with a fixed answer.
type Scenario struct {
	// Action is the Action value that selects the scenario.
	Action string
	// Status is the HTTP status of the answer.
	Status int
	// ContentType is the answer's Content-Type, unless ct= overrides it.
	ContentType string
	// Body is the answer's body, uncompressed: what the fake sends when
	// the call does not accept gzip.
	Body []byte
}

// JSON reports whether the scenario's body is (meant to be) JSON, and so
// is compressed for calls that accept gzip.
func (s Scenario) JSON() bool { return s.ContentType == jsonType }

const (
	jsonType = "application/json"
	htmlType = "text/html"
)

// The documented and captured bodies, exactly as the sources give them.
const (
	bodyNoSuchHost = `{"code": 4000, "message": "(9110)没有这个域名的信息 cdn no such host", "codeDesc": "9110"}`
	bodyHosts      = `{"code": 0, "message": "", "codeDesc": "Success", "data": {"hosts": [{"id": 308902, "app_id": 1234567, "owner_uin": 7654321, "project_id": 0, ` +
		`"host": "www.test.com", "host_type": "cname", "service_type": "web", "origin": "8.8.8.8", ` +
		`"cache": [{"type": 0, "rule": "all", "time": 2592000, "unit": "d"}, {"type": 1, "rule": ".php;.jsp;.asp;.aspx", "time": 0, "unit": "s"}], ` +
		`"status": 5, "disabled": 0, "message": "已开启", "enable_overseas": "no", ` +
		`"create_time": "2016-08-25 21:22:40", "update_time": "2016-09-02 15:33:37", "deleted": "no", ` +
		`"fwd_host_type": "default", "fwd_host": "www.test.com", "middle_resource": -1, ` +
		`"refer": {"type": 2, "list": ["1.1.1.1"], "null_flag": 0}, "readonly": 0, ` +
		`"cname": "www.test.com.cdn.dnsv1.com", "cache_mode": "simple", "furl_cache": "on", "ssl_type": 0, ` +
		`"pid_config": null, "bucket_name": "", "bucket_project_id": 0, "ssl_deploy_time": null, ` +
		`"ssl_expire_time": null, "seo": "off", "host_id": 308902}], "total": 1}}`
	bodyHostOnline = `{"code": 4000, "message": "(9177)域名已上线 cdn host online[host online]", "codeDesc": 9177}`
	bodyBadGateway = "<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>stgw</center>\r\n</body>\r\n</html>\r\n"
)

// Fixed returns the scenarios with a fixed answer, in the order of the
// constants: the successes, the errors, the HTML page and the truncated
// body. The slice and its bodies are the caller's to keep.
func Fixed() []Scenario {
	s := []Scenario{
		{RefreshCdnUrl, 200, jsonType, []byte(`{"code": 0, "message": "", "codeDesc": "Success", "data": {"count": 1, "task_id": "1480069888795584532"}}`)},
		{DescribeCdnHosts, 200, jsonType, []byte(bodyHosts)},
		{DeleteCdnHost, 200, jsonType, []byte(`{"retcode": 0, "errmsg": "ok", "code": 0, "message": "", "codeDesc": "Success", "data": []}`)},
		{NoSuchHost, 200, jsonType, []byte(bodyNoSuchHost)},
		{NoSuchHostNumeric, 200, jsonType, []byte(`{"code": 4000, "message": "(9110)没有这个域名的信息 cdn no such host", "codeDesc": 9110}`)},
		{HostInProgress, 200, jsonType, []byte(`{"code": 4000, "message": "(9175)部署中状态 cdn host in progress[host in progress]", "codeDesc": "UserRequestError"}`)},
		{HostOnline, 200, jsonType, []byte(bodyHostOnline)},
		{OnlineHost, 200, jsonType, []byte(bodyHostOnline)},
		{NoICP, 200, jsonType, []byte(`{"code": 4000, "message": "(20004)未备案 cdn audit no icp[cdn audit no icp[当前域名未在工信部备案]]", "codeDesc": 20004}`)},
		{DNSPodError, 200, jsonType, []byte(`{"code": 4000, "message": "(22200)Dnspod接口异常 cdn dp system error[cdn dp system error[connect() timed out!]]", "codeDesc": 22200}`)},
		{AuthFailure, 200, jsonType, []byte(`{"code": 4100, "message": "身份认证失败，用户身份验证失败", "codeDesc": "` + codes.CodeDesc(4100) + `"}`)},
		{ProjectID, 200, jsonType, []byte(`{"code": 5100, "message": "(100004)projectId不正确"}`)},
		{NotDeployed, 200, jsonType, []byte(`{"code": 4000, "message": "(1012)传参错误 invalid error code[域名 luan.ma 未部署在 mainland]", "codeDesc": "` + codes.CodeDesc(4000) + `"}`)},
		{StringCode, 200, jsonType, []byte(`{"code": "4000", "message": "(9110)没有这个域名的信息 cdn no such host", "codeDesc": "9110"}`)},
		{BadGateway, 502, htmlType, []byte(bodyBadGateway)},
		{Truncated, 200, jsonType, []byte(bodyNoSuchHost[:len(bodyNoSuchHost)/2])},
	}
	return s
}

// replayBody is the API's refusal of a Timestamp out of its window, in the
// words users captured from the real API, ending with the server's clock.
// Which codeDesc goes with it is not documented; none is sent.
func replayBody(now time.Time) []byte {
	return fmt.Appendf(nil, `{"code": 4500, "message": "请求被拒绝：本次请求的 Nonce 不能与之前的重复，Timestamp 与腾讯服务器相差不能超过 2 小时。腾讯服务器 Timestamp = %d"}`, now.Unix())
}

// Lookup returns the fixed scenario selected by action.
func Lookup(action string) (Scenario, bool) {
	for _, s := range Fixed() {
		if s.Action == action {
			return s, true
		}
	}
	return Scenario{}, false
}

// The generated bodies: a prefix, filler and a suffix.
const (
	hugeSuccessPrefix = `{"code": 0, "message": "", "codeDesc": "Success", "data": {"blob": "`
	hugeSuccessSuffix = `"}}`
	hugeErrorPrefix   = `{"code": 4000, "message": "(9110)没有这个域名的信息 cdn no such host", "codeDesc": "9110", "data": "`
	hugeErrorSuffix   = `"}`
	filler            = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"

	// DefaultHugeSuccess and DefaultHugeError are the sizes of the
	// generated bodies when the call has no size= parameter.
	DefaultHugeSuccess = 8 << 20
	DefaultHugeError   = 2 << 20
)

// Generated returns the body HugeSuccess or HugeError sends for size=size
// (a size of 0 or less means the default), generated as it is read, and
// its length. For any other action it returns nil and 0.
func Generated(action string, size int64) (io.Reader, int64) {
	var prefix, suffix string
	switch action {
	case HugeSuccess:
		prefix, suffix = hugeSuccessPrefix, hugeSuccessSuffix
		if size <= 0 {
			size = DefaultHugeSuccess
		}
	case HugeError:
		prefix, suffix = hugeErrorPrefix, hugeErrorSuffix
		if size <= 0 {
			size = DefaultHugeError
		}
	default:
		return nil, 0
	}
	fill := max(size-int64(len(prefix)+len(suffix)), 0)
	r := io.MultiReader(strings.NewReader(prefix), &fillReader{left: fill}, strings.NewReader(suffix))
	return r, int64(len(prefix)+len(suffix)) + fill
}

// fillReader produces left bytes of filler.
type fillReader struct {
	left int64
	pos  int
}

func (f *fillReader) Read(p []byte) (int, error) {
	if f.left <= 0 {
		return 0, io.EOF
	}
	if int64(len(p)) > f.left {
		p = p[:f.left]
	}
	for i := range p {
		p[i] = filler[f.pos]
		f.pos = (f.pos + 1) % len(filler)
	}
	f.left -= int64(len(p))
	return len(p), nil
}
