package annotate_test

import (
	"bytes"
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/cdnproxy/cdnproxy/annotate"
	"github.com/cdnproxy/cdnproxy/codes"
)

// Real response bodies, from docs/reference/cdn-api-v2.md §3.2
// (numbers are the section's example numbers).
const (
	// §3.2 #2, RefreshCdnUrl: codeDesc is the module code as a string.
	body9110String = `{"code": 4000, "message": "(9110)没有这个域名的信息 cdn no such host", "codeDesc": "9110"}`
	// §3.2 #3, RefreshCdnDir: codeDesc is the module code as a number.
	body9110Number = `{"code": 4000, "message": "(9110)没有这个域名的信息 cdn no such host", "codeDesc": 9110}`
	// §3.2 #9, OfflineHost while deploying.
	body9175 = `{"code": 4000, "message": "(9175)部署中状态 cdn host in progress[host in progress]", "codeDesc": 9175}`
	// §3.2 #11, UpdateCdnConfig: a class name in codeDesc.
	body9175UserRequestError = `{"code": 4000, "message": "(9175)部署中状态 cdn host in progress[host in progress]", "codeDesc": "UserRequestError"}`
	// §3.2 #8, OnlineHost when already online.
	body9177 = `{"code": 4000, "message": "(9177)域名已上线 cdn host online[host online]", "codeDesc": 9177}`
	// §3.2 #7, AddCdnHost without ICP filing.
	body20004 = `{"code": 4000, "message": "(20004)未备案 cdn audit no icp[cdn audit no icp[当前域名未在工信部备案]]", "codeDesc": 20004}`
	// §3.2 #10, DeleteCdnHost DNS failure.
	body22200 = `{"code": 4000, "message": "(22200)Dnspod接口异常 cdn dp system error[cdn dp system error[connect() timed out!]]", "codeDesc": 22200}`
	// §3.2 #5, DescribeCdnHosts auth failure (docs).
	body4100Docs = `{"code": 4100, "message": "鉴权失败，请参考文档中鉴权部分。", "codeDesc": "AuthFailure"}`
	// §3.2 #17, real auth failure (printed by Node; rewritten as JSON).
	body4100Real = `{"code":4100,"message":"身份认证失败，用户身份验证失败","codeDesc":"AuthFailure"}`
	// §3.2 #17, real 2020 purge error; module code 1012 is not catalogued.
	body1012Real = `{"code":4000,"message":"(1012)传参错误 invalid error code[域名 luan.ma 未部署在 mainland]","codeDesc":"InvalidParameter"}`
	// §3.2 #18, generic error page: module code 100004 is not catalogued.
	body5100 = `{"code": 5100, "message": "(100004)projectId不正确"}`
	// The package doc's example.
	body9112 = `{"code":4000,"message":"(9112)操作域名需要为【开启中】状态，请确认后重试","codeDesc":"InvalidParameter"}`

	// Success bodies (§3.2 #1, #3, #10, #14).
	success1 = `{"code": 0, "message": "", "codeDesc": "Success",
 "data": {"count": 1, "task_id": "1480069888795584532"}}`
	success3  = `{"code": 0, "message": "", "codeDesc": "Success"}`
	success10 = `{"retcode": 0, "errmsg": "ok", "code": 0, "message": "", "codeDesc": "Success", "data": []}`
	success14 = `{"code": 0, "data": {"count": 2, "task_id": "1522134939950455"}, "message": "", "codeDesc": "Success"}`
)

// failure is what a table test expects Body to find in an error body.
type failure struct {
	code      int
	module    int // 0 with hasModule false: no module code
	hasModule bool
	source    annotate.Source
	category  codes.Category
	retryable bool
	message   string
	codeDesc  string
	added     []string // the members Body adds, in order
}

var all4 = []string{"category", "retryable", "description", "moduleCode"}
var all3 = []string{"category", "retryable", "description"}

var failureTests = []struct {
	name string
	body string
	want failure
}{
	{"9110 codeDesc string", body9110String, failure{4000, 9110, true, annotate.FromModule, codes.NotFound, false,
		"(9110)没有这个域名的信息 cdn no such host", "9110", all4}},
	{"9110 codeDesc number", body9110Number, failure{4000, 9110, true, annotate.FromModule, codes.NotFound, false,
		"(9110)没有这个域名的信息 cdn no such host", "9110", all4}},
	{"9175 retryable", body9175, failure{4000, 9175, true, annotate.FromModule, codes.InvalidState, true,
		"(9175)部署中状态 cdn host in progress[host in progress]", "9175", all4}},
	{"9175 codeDesc class name", body9175UserRequestError, failure{4000, 9175, true, annotate.FromModule, codes.InvalidState, true,
		"(9175)部署中状态 cdn host in progress[host in progress]", "UserRequestError", all4}},
	{"9177", body9177, failure{4000, 9177, true, annotate.FromModule, codes.InvalidState, false,
		"(9177)域名已上线 cdn host online[host online]", "9177", all4}},
	{"20004", body20004, failure{4000, 20004, true, annotate.FromModule, codes.Compliance, false,
		"(20004)未备案 cdn audit no icp[cdn audit no icp[当前域名未在工信部备案]]", "20004", all4}},
	{"22200", body22200, failure{4000, 22200, true, annotate.FromModule, codes.InternalError, true,
		"(22200)Dnspod接口异常 cdn dp system error[cdn dp system error[connect() timed out!]]", "22200", all4}},
	{"9112 package doc", body9112, failure{4000, 9112, true, annotate.FromModule, codes.InvalidState, false,
		"(9112)操作域名需要为【开启中】状态，请确认后重试", "InvalidParameter", all4}},
	{"4100 docs, no module code", body4100Docs, failure{4100, 0, false, annotate.FromPublic, codes.AuthenticationFailed, false,
		"鉴权失败，请参考文档中鉴权部分。", "AuthFailure", all3}},
	{"4100 real, no module code", body4100Real, failure{4100, 0, false, annotate.FromPublic, codes.AuthenticationFailed, false,
		"身份认证失败，用户身份验证失败", "AuthFailure", all3}},
	{"5100 module 100004 not catalogued", body5100, failure{5100, 100004, true, annotate.FromPublic, codes.OperationFailed, true,
		"(100004)projectId不正确", "", all4}},
	{"1012 real, not catalogued", body1012Real, failure{4000, 1012, true, annotate.FromPublic, codes.InvalidParameter, false,
		"(1012)传参错误 invalid error code[域名 luan.ma 未部署在 mainland]", "InvalidParameter", all4}},
	{"string code", `{"code":"4000","message":"(9110)没有这个域名的信息 cdn no such host","codeDesc":"9110"}`,
		failure{4000, 9110, true, annotate.FromModule, codes.NotFound, false,
			"(9110)没有这个域名的信息 cdn no such host", "9110", all4}},
	{"string code, no module code", `{"code":"4100","message":"Authentication failed. SecretId does not exist"}`,
		failure{4100, 0, false, annotate.FromPublic, codes.AuthenticationFailed, false,
			"Authentication failed. SecretId does not exist", "", all3}},
	{"negative module code", `{"code":4000,"message":"(-9009)查询无记录","codeDesc":"InvalidParameter"}`,
		failure{4000, -9009, true, annotate.FromModule, codes.NotFound, false, "(-9009)查询无记录", "InvalidParameter", all4}},
	{"negative module code in codeDesc", `{"code":4000,"message":"查询无记录","codeDesc":"-9009"}`,
		failure{4000, -9009, true, annotate.FromModule, codes.NotFound, false, "查询无记录", "-9009", all4}},
	{"English message, space after paren", `{"code":4000,"message":"(9112) The domain must be online for this operation.","codeDesc":"InvalidParameter"}`,
		failure{4000, 9112, true, annotate.FromModule, codes.InvalidState, false,
			"(9112) The domain must be online for this operation.", "InvalidParameter", all4}},
	{"English 9110", `{"code": 4000, "message": "(9110) Information for this domain does not exist. cdn no such host", "codeDesc": "9110"}`,
		failure{4000, 9110, true, annotate.FromModule, codes.NotFound, false,
			"(9110) Information for this domain does not exist. cdn no such host", "9110", all4}},
	{"codeDesc only", `{"code":4000,"message":"cdn no such host","codeDesc":"9110"}`,
		failure{4000, 9110, true, annotate.FromModule, codes.NotFound, false, "cdn no such host", "9110", all4}},
	{"message wins over codeDesc", `{"code":4000,"message":"(9175)部署中状态","codeDesc":9110}`,
		failure{4000, 9175, true, annotate.FromModule, codes.InvalidState, true, "(9175)部署中状态", "9110", all4}},
	{"message wins even when not catalogued", `{"code":4000,"message":"(1012)传参错误","codeDesc":"9110"}`,
		failure{4000, 1012, true, annotate.FromPublic, codes.InvalidParameter, false, "(1012)传参错误", "9110", all4}},
	{"message without module code, codeDesc decides", `{"code":4000,"message":"(abc) not a code","codeDesc":9177}`,
		failure{4000, 9177, true, annotate.FromModule, codes.InvalidState, false, "(abc) not a code", "9177", all4}},
	{"full-width parens are not a module code", `{"code":4000,"message":"（9110）没有这个域名的信息"}`,
		failure{4000, 0, false, annotate.FromPublic, codes.InvalidParameter, false, "（9110）没有这个域名的信息", "", all3}},
	{"module code not at the start", `{"code":4000,"message":"error (9110)"}`,
		failure{4000, 0, false, annotate.FromPublic, codes.InvalidParameter, false, "error (9110)", "", all3}},
	{"unclosed paren", `{"code":4000,"message":"(9110 no such host"}`,
		failure{4000, 0, false, annotate.FromPublic, codes.InvalidParameter, false, "(9110 no such host", "", all3}},
	{"unknown public code", `{"code":4242,"message":"something new"}`,
		failure{4242, 0, false, annotate.FromNone, codes.Unknown, false, "something new", "", all3}},
	{"unknown public and module code", `{"code":4242,"message":"(424242)something new","codeDesc":"Whatever"}`,
		failure{4242, 424242, true, annotate.FromNone, codes.Unknown, false, "(424242)something new", "Whatever", all4}},
	{"unknown public code, known module code", `{"code":4242,"message":"(9110)no such host"}`,
		failure{4242, 9110, true, annotate.FromModule, codes.NotFound, false, "(9110)no such host", "", all4}},
	{"negative public code", `{"code":-1,"message":"oops"}`,
		failure{-1, 0, false, annotate.FromNone, codes.Unknown, false, "oops", "", all3}},
	{"legacy retcode and errmsg", `{"retcode": 0, "errmsg": "ok", "code": 4000, "message": "(22200)Dnspod接口异常 cdn dp system error[cdn dp system error[connect() timed out!]]", "codeDesc": 22200}`,
		failure{4000, 22200, true, annotate.FromModule, codes.InternalError, true,
			"(22200)Dnspod接口异常 cdn dp system error[cdn dp system error[connect() timed out!]]", "22200", all4}},
	{"English SetHttpsInfo shape, no codeDesc", `{"retcode":-1,"errmsg":"failed","data":[],"code":4000,"message":"(9110)no such host"}`,
		failure{4000, 9110, true, annotate.FromModule, codes.NotFound, false, "(9110)no such host", "", all4}},
	{"upstream already has description", `{"code":4000,"message":"(9110)没有这个域名的信息","description":"the upstream's own"}`,
		failure{4000, 9110, true, annotate.FromModule, codes.NotFound, false, "(9110)没有这个域名的信息", "",
			[]string{"category", "retryable", "moduleCode"}}},
	{"upstream already has category and moduleCode", `{"category":"mine","code":4000,"moduleCode":"x","message":"(9110)没有这个域名的信息"}`,
		failure{4000, 9110, true, annotate.FromModule, codes.NotFound, false, "(9110)没有这个域名的信息", "",
			[]string{"retryable", "description"}}},
	{"upstream has moduleCode but none found", `{"code":4100,"moduleCode":1,"message":"auth"}`,
		failure{4100, 0, false, annotate.FromPublic, codes.AuthenticationFailed, false, "auth", "", all3}},
	{"escaped annotation key counts as present", `{"code":4100,"\u0063ategory":"x","message":"auth"}`,
		failure{4100, 0, false, annotate.FromPublic, codes.AuthenticationFailed, false, "auth", "",
			[]string{"retryable", "description"}}},
	{"whitespace and newlines before the final brace", "{\n  \"code\": 4000,\n  \"message\": \"(9177)域名已上线\",\n  \"codeDesc\": 9177\n}\n",
		failure{4000, 9177, true, annotate.FromModule, codes.InvalidState, false, "(9177)域名已上线", "9177", all4}},
	{"tabs and CRLF", "\r\n\t{\t\"code\"\t:\t4000\r\n,\"message\" : \"(9175)x\"\t\r\n}\t\r\n",
		failure{4000, 9175, true, annotate.FromModule, codes.InvalidState, true, "(9175)x", "", all4}},
	{"escaped code key", `{"\u0063ode":4000,"message":"(9110)没有这个域名的信息 cdn no such host","codeDesc":"9110"}`,
		failure{4000, 9110, true, annotate.FromModule, codes.NotFound, false,
			"(9110)没有这个域名的信息 cdn no such host", "9110", all4}},
	{"escaped message and codeDesc keys", `{"code":4000,"mess\u0061ge":"(9175)x","code\u0044esc":"9110"}`,
		failure{4000, 9175, true, annotate.FromModule, codes.InvalidState, true, "(9175)x", "9110", all4}},
	{"escapes in the message", `{"code":4000,"message":"(9110)\u6ca1\u6709 \"host\"\n","codeDesc":"9110"}`,
		failure{4000, 9110, true, annotate.FromModule, codes.NotFound, false, "(9110)没有 \"host\"\n", "9110", all4}},
	{"code last, after data", `{"data":{"code":0,"message":"(9110)nested"},"message":"(9177)x","code":4000}`,
		failure{4000, 9177, true, annotate.FromModule, codes.InvalidState, false, "(9177)x", "", all4}},
	{"nested code and message are ignored", `{"code":5000,"data":{"code":4000,"message":"(9110)nested","codeDesc":"9110"}}`,
		failure{5000, 0, false, annotate.FromPublic, codes.NotFound, false, "", "", all3}},
	{"message not a string", `{"code":4000,"message":9110}`,
		failure{4000, 0, false, annotate.FromPublic, codes.InvalidParameter, false, "9110", "", all3}},
	{"codeDesc not an integer", `{"code":4000,"codeDesc":"9110a"}`,
		failure{4000, 0, false, annotate.FromPublic, codes.InvalidParameter, false, "", "9110a", all3}},
	{"codeDesc a float", `{"code":4000,"codeDesc":9110.5}`,
		failure{4000, 0, false, annotate.FromPublic, codes.InvalidParameter, false, "", "9110.5", all3}},
}

func TestBodyFailures(t *testing.T) {
	for _, tt := range failureTests {
		t.Run(tt.name, func(t *testing.T) {
			in := []byte(tt.body)
			out, res, err := checkBody(in)
			if err != nil {
				t.Fatal(err)
			}
			w := tt.want
			if res.Kind != annotate.Failure {
				t.Fatalf("Kind = %v, want failure", res.Kind)
			}
			if res.Code != w.code || res.ModuleCode != w.module || res.HasModuleCode != w.hasModule {
				t.Errorf("Code, ModuleCode, HasModuleCode = %d, %d, %t; want %d, %d, %t",
					res.Code, res.ModuleCode, res.HasModuleCode, w.code, w.module, w.hasModule)
			}
			if res.Source != w.source || res.Category != w.category || res.Retryable != w.retryable {
				t.Errorf("Source, Category, Retryable = %d, %s, %t; want %d, %s, %t",
					res.Source, res.Category, res.Retryable, w.source, w.category, w.retryable)
			}
			var desc string
			switch w.source {
			case annotate.FromModule:
				e, _ := codes.Module(w.module)
				desc = e.Description
			case annotate.FromPublic:
				e, _ := codes.Public(w.code)
				desc = e.Description
			default:
				desc = annotate.UnknownDescription
			}
			if res.Description != desc {
				t.Errorf("Description = %q, want %q", res.Description, desc)
			}
			if got := res.Message(); got != w.message {
				t.Errorf("Message() = %q, want %q", got, w.message)
			}
			if got := res.CodeDesc(); got != w.codeDesc {
				t.Errorf("CodeDesc() = %q, want %q", got, w.codeDesc)
			}
			// The exact bytes added, in order.
			var add strings.Builder
			for _, name := range w.added {
				switch name {
				case "category":
					fmt.Fprintf(&add, `,"category":%q`, w.category)
				case "retryable":
					fmt.Fprintf(&add, `,"retryable":%t`, w.retryable)
				case "description":
					fmt.Fprintf(&add, `,"description":%q`, desc)
				case "moduleCode":
					fmt.Fprintf(&add, `,"moduleCode":%d`, w.module)
				}
			}
			k := strings.LastIndexByte(tt.body, '}')
			if want := tt.body[:k] + add.String() + tt.body[k:]; string(out) != want {
				t.Errorf("Body =\n%s\nwant\n%s", out, want)
			}
		})
	}
}

// A body that already has every annotation member is returned as it came,
// though it is still a failure.
func TestBodyFullyAnnotatedUpstream(t *testing.T) {
	for _, body := range []string{
		`{"code":4100,"message":"auth","category":"x","retryable":"y","description":null}`,
		`{"code":4000,"message":"(9110)x","category":1,"retryable":2,"description":3,"moduleCode":4}`,
	} {
		in := []byte(body)
		out, res, err := checkBody(in)
		if err != nil {
			t.Fatal(err)
		}
		if res.Kind != annotate.Failure || !sameSlice(in, out) {
			t.Errorf("Body(%s) = %s, %v; want the same slice, failure", in, out, res.Kind)
		}
	}
	// Without moduleCode but with a module code to report, it is added.
	in := []byte(`{"code":4000,"message":"(9110)x","category":1,"retryable":2,"description":3}`)
	out, _ := annotate.Body(in)
	if want := `{"code":4000,"message":"(9110)x","category":1,"retryable":2,"description":3,"moduleCode":9110}`; string(out) != want {
		t.Errorf("Body = %s, want %s", out, want)
	}
}

// Body does not write to its argument, even where there is spare capacity
// after it.
func TestBodyDoesNotAppendInPlace(t *testing.T) {
	buf := make([]byte, 0, 4096)
	buf = append(buf, body9112...)
	spare := buf[len(buf):cap(buf)]
	for i := range spare {
		spare[i] = 'x'
	}
	out, _ := annotate.Body(buf)
	if &out[0] == &buf[0] {
		t.Fatal("Body annotated in place")
	}
	if !bytes.Equal(buf, []byte(body9112)) || bytes.ContainsFunc(spare, func(r rune) bool { return r != 'x' }) {
		t.Fatal("Body wrote to its argument's backing array")
	}
}

var successTests = []string{
	success1, success3, success10, success14,
	`{"code":0}`,
	`{"code":"0","message":"","codeDesc":"Success"}`,
	`{"code":-0}`,
	`{"message":"","code":0,"codeDesc":"Success","data":{"code":4000}}`,
	"\n\t {\"code\" : 0 } \n",
	`{"\u0063ode":0}`,
	`{"code":0,"message":"(9110)a success is never annotated"}`,
}

func TestBodySuccess(t *testing.T) {
	for _, body := range successTests {
		in := []byte(body)
		out, res, err := checkBody(in)
		if err != nil {
			t.Fatalf("%s: %v", in, err)
		}
		if !reflect.DeepEqual(res, annotate.Result{Kind: annotate.Success, Generation: 2}) || !sameSlice(in, out) {
			t.Errorf("Body(%s) = %s, %+v; want the same slice and Result{Kind: Success}", in, out, res)
		}
		if res.Message() != "" || res.CodeDesc() != "" {
			t.Errorf("success Result has Message %q, CodeDesc %q", res.Message(), res.CodeDesc())
		}
	}
}

// deep returns an object with a code and a member nested n levels deep.
func deep(code string, n int, open, close string) string {
	return `{"code":` + code + `,"x":` + strings.Repeat(open, n) + `1` + strings.Repeat(close, n) + `}`
}

var unchangedTests = []struct {
	name string
	body string
}{
	{"empty", ""},
	{"space", " "},
	{"whitespace only", " \t\r\n "},
	{"null", "null"},
	{"true", "true"},
	{"number", "4000"},
	{"string", `"code"`},
	{"array", `[{"code":4000,"message":"(9110)x"}]`},
	{"empty array", "[]"},
	{"empty object", "{}"},
	{"truncated", `{"code":4000,"message":"(91`},
	{"truncated after code", `{"code":4000`},
	{"truncated before brace", `{"code":4000,"message":"(9110)x"`},
	{"open brace", "{"},
	{"no code", `{"message":"(9110)x","codeDesc":"9110"}`},
	{"code only nested", `{"data":{"code":4000}}`},
	{"duplicate code", `{"code":4000,"message":"(9110)x","code":4000}`},
	{"duplicate code, second escaped", `{"code":4000,"\u0063ode":0}`},
	{"duplicate code, first zero", `{"code":0,"code":4000}`},
	{"duplicate message", `{"code":4000,"message":"(9110)x","message":"(9175)y"}`},
	{"duplicate codeDesc", `{"code":4000,"codeDesc":"9110","codeDesc":9175}`},
	{"code float", `{"code":4000.5,"message":"(9110)x"}`},
	{"code float zero", `{"code":0.0}`},
	{"code exponent", `{"code":4e3}`},
	{"code true", `{"code":true}`},
	{"code false", `{"code":false}`},
	{"code null", `{"code":null,"message":"(9110)x"}`},
	{"code object", `{"code":{"value":4000}}`},
	{"code array", `{"code":[4000]}`},
	{"code empty string", `{"code":""}`},
	{"code string with space", `{"code":" 4000"}`},
	{"code string with sign", `{"code":"+4000"}`},
	{"code text", `{"code":"InvalidParameter"}`},
	{"code huge string", `{"code":"99999999999","message":"(9110)x"}`},
	{"code huge number", `{"code":99999999999,"message":"(9110)x"}`},
	{"code ten digits", `{"code":1000000000}`},
	{"code escaped digits", `{"code":"\u0034000"}`},
	{"code leading zero", `{"code":04000}`},
	{"code minus only", `{"code":-}`},
	{"trailing garbage", `{"code":4000,"message":"(9110)x"}x`},
	{"trailing object", `{"code":4000}{"code":4000}`},
	{"trailing comma member", `{"code":4000,}`},
	{"missing comma", `{"code":4000 "message":"x"}`},
	{"missing colon", `{"code" 4000}`},
	{"unquoted key", `{code:4000}`},
	{"single quotes", `{'code':4000}`},
	{"Node notation (§3.2 #17)", `{ code: 4100, message: '身份认证失败，用户身份验证失败', codeDesc: 'AuthFailure' }`},
	{"bad literal after code", `{"code":4000,"x":tru}`},
	{"bad number after code", `{"code":4000,"x":1.}`},
	{"bad escape after code", `{"code":4000,"x":"\q"}`},
	{"control character in string", "{\"code\":4000,\"message\":\"a\nb\"}"},
	{"unbalanced brackets in member", `{"code":4000,"x":[}}`},
	{"unclosed nested", `{"code":4000,"x":{"y":1}`},
	{"BOM", "\xef\xbb\xbf{\"code\":4000}"},
	{"doc sample with unquoted date (§3.2 #12)", `{"code": 4000, "data": {"date": 2016-12-30}}`},
	{"deep arrays, code first", deep("4000", 10000, "[", "]")},
	{"deep objects, code first", deep("4000", 10000, `{"a":`, "}")},
	{"deep arrays, success", deep("0", 10000, "[", "]")},
	{"deep unclosed", `{"code":4000,"x":` + strings.Repeat("[", 10000)},
}

func TestBodyUnchanged(t *testing.T) {
	for _, tt := range unchangedTests {
		t.Run(tt.name, func(t *testing.T) {
			in := []byte(tt.body)
			out, res, err := checkBody(in)
			if err != nil {
				t.Fatal(err)
			}
			if res.Kind != annotate.Other {
				t.Errorf("Kind = %v, want other", res.Kind)
			}
			if !sameSlice(in, out) {
				t.Errorf("Body changed %q to %q", in, out)
			}
		})
	}
	// nil is a body too.
	if out, res := annotate.Body(nil); out != nil || res.Kind != annotate.Other {
		t.Errorf("Body(nil) = %q, %v", out, res.Kind)
	}
}

// Nesting up to what the scanner follows is annotated like any body.
func TestBodyNestedWithinLimit(t *testing.T) {
	for _, n := range []int{1, 100, 255} {
		in := []byte(deep("4000", n, "[", "]"))
		out, res, err := checkBody(in)
		if err != nil {
			t.Fatal(err)
		}
		if res.Kind != annotate.Failure || len(out) == len(in) {
			t.Errorf("depth %d: Kind = %v", n, res.Kind)
		}
	}
}

func TestKindString(t *testing.T) {
	for k, want := range map[annotate.Kind]string{annotate.Other: "other", annotate.Success: "success", annotate.Failure: "failure", 99: "other"} {
		if got := k.String(); got != want {
			t.Errorf("Kind(%d).String() = %q, want %q", k, got, want)
		}
	}
}

// Every catalogued module code, written as the API writes it, is annotated
// from its own catalogue entry.
func TestBodyEveryModuleCode(t *testing.T) {
	for _, e := range codes.ModuleEntries() {
		for _, body := range []string{
			fmt.Sprintf(`{"code":4000,"message":"(%d)text","codeDesc":"InvalidParameter"}`, e.Code),
			fmt.Sprintf(`{"code":4000,"message":"text","codeDesc":"%d"}`, e.Code),
			fmt.Sprintf(`{"code":4000,"message":"text","codeDesc":%d}`, e.Code),
		} {
			out, res, err := checkBody([]byte(body))
			if err != nil {
				t.Fatal(err)
			}
			if res.Kind != annotate.Failure || res.Source != annotate.FromModule || res.ModuleCode != e.Code ||
				res.Category != e.Category || res.Retryable != e.Retryable || res.Description != e.Description {
				t.Errorf("Body(%s) = %+v", body, res)
			}
			if !bytes.HasSuffix(out, fmt.Appendf(nil, `,"moduleCode":%d}`, e.Code)) {
				t.Errorf("Body(%s) = %s: no moduleCode at the end", body, out)
			}
		}
	}
	for _, e := range codes.PublicEntries() {
		body := fmt.Sprintf(`{"code":%d,"message":"text"}`, e.Code)
		_, res, err := checkBody([]byte(body))
		if err != nil {
			t.Fatal(err)
		}
		if res.Kind != annotate.Failure || res.Source != annotate.FromPublic || res.Code != e.Code ||
			res.Category != e.Category || res.Retryable != e.Retryable || res.Description != e.Description {
			t.Errorf("Body(%s) = %+v", body, res)
		}
	}
}
