package emulator

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/cdnproxy/cdnproxy/codes"
)

// reply is one answer: the body, its HTTP status and, for the log, the
// module code and whether a fault rule produced it.
type reply struct {
	status int // 0 means 200
	body   envelope
	module int
	fault  bool
}

// envelope is an API 2.0 body with members in the API's order. The legacy
// retcode and errmsg come first where the documentation shows them.
type envelope struct {
	Retcode  *int   `json:"retcode,omitempty"`
	Errmsg   string `json:"errmsg,omitempty"`
	Code     int    `json:"code"`
	Message  string `json:"message"`
	CodeDesc any    `json:"codeDesc"`
	Data     any    `json:"data,omitempty"`
}

// write sends rep as compact JSON with Chinese text unescaped, as the API
// does.
func write(w http.ResponseWriter, rep reply) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(rep.body); err != nil {
		// Every body is built from plain values; this cannot happen.
		panic("emulator: encoding a reply: " + err.Error())
	}
	body := bytes.TrimSuffix(buf.Bytes(), []byte("\n"))
	status := rep.status
	if status == 0 {
		status = http.StatusOK
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

// ok is a success with data (nil: no data member).
func ok(data any) reply {
	return reply{body: envelope{Code: 0, Message: "", CodeDesc: codes.CodeDesc(0), Data: data}}
}

// okLegacy is a success that also carries retcode 0 and errmsg "ok", as
// GetCdnRefreshLog and DeleteCdnHost answer.
func okLegacy(data any) reply {
	rep := ok(data)
	zero := 0
	rep.body.Retcode, rep.body.Errmsg = &zero, "ok"
	return rep
}

// errModule is a failure with a module code: public code 4000 and the
// message "(code)<catalogue text> <tail>", such as
// "(9110)域名不存在，请确认后重试 cdn no such host". codeDesc follows the
// documentation's two styles: "InvalidParameter" for parameter errors (as
// newer responses show), else the module code as a number (as the domain
// management pages show).
func errModule(code int, tail string) reply {
	entry, _ := codes.Module(code)
	var desc any = code
	if entry.Category == codes.InvalidParameter {
		desc = codes.CodeDesc(4000)
	}
	msg := fmt.Sprintf("(%d)%s", code, entry.Original)
	if tail != "" {
		msg += " " + tail
	}
	return reply{body: envelope{Code: 4000, Message: msg, CodeDesc: desc}, module: code}
}

// errPublic is a failure with a public code only and a plain message;
// codeDesc is the code's class name from the catalogue.
func errPublic(code int, msg string) reply {
	return reply{body: envelope{Code: code, Message: msg, CodeDesc: codes.CodeDesc(code)}}
}

// errAuth is the API's answer to an unknown SecretId or a bad signature.
func errAuth() reply {
	return errPublic(4100, "鉴权失败，请参考文档中鉴权部分。")
}

// errReplay answers a reused Nonce or a Timestamp more than 2 hours off,
// with the one combined text the API uses for both, ending with the
// server's clock.
func errReplay(now time.Time) reply {
	return errPublic(4500, fmt.Sprintf("请求被拒绝：本次请求的 Nonce 不能与之前的重复，Timestamp 与腾讯服务器相差不能超过 2 小时。腾讯服务器 Timestamp = %d", now.Unix()))
}

// errPath answers a path other than /v2/index.php and /.
func errPath() reply {
	rep := errPublic(6100, "接口不存在，请确认请求路径为 /v2/index.php (no such path; API 2.0 is served at /v2/index.php, API 3.0 at /)")
	rep.status = http.StatusNotFound
	return rep
}

// errMethod answers a method other than GET and POST.
func errMethod() reply {
	rep := errPublic(4600, "协议不支持，请使用 GET 或 POST (only GET and POST are supported)")
	rep.status = http.StatusNotFound
	return rep
}

// errTooLarge answers a call over the size limits.
func errTooLarge(why string) reply {
	rep := errPublic(4000, "请求过大 ("+why+")")
	rep.status = http.StatusNotImplemented
	return rep
}

// errParam is module code 9003 (parameter error) naming what is wrong.
func errParam(what string) reply {
	return errModule(9003, "cdn param error["+what+"]")
}

// The English tails of the module errors the emulator produces, in the
// style of the documented messages.
const (
	tailNoHost       = "cdn no such host"
	tailNotOnline    = "cdn host not online[host not online]"
	tailInProgress   = "cdn host in progress[host in progress]"
	tailOnline       = "cdn host online[host online]"
	tailOffline      = "cdn host offline[host offline]"
	tailNotOffline   = "cdn host not offline[host not offline]"
	tailExistsOwn    = "cdn host exist[host already added by yourself]"
	tailExistsOther  = "cdn host exist[host already added by others]"
	tailNoICP        = "cdn audit no icp[cdn audit no icp[当前域名未在工信部备案]]"
	tailBadHost      = "cdn host invalid[host invalid]"
	tailTooManyHosts = "cdn host count limit[host count limit]"
	tailFault        = "cdn injected fault[cdnproxy mock]"
)
