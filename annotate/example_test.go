package annotate_test

import (
	"fmt"

	"github.com/cdnproxy/cdnproxy/annotate"
)

// An API 2.0 error body gets a category, a retry hint, an English
// description and the module code from its message; the upstream's own
// bytes stay as they were.
func ExampleBody() {
	in := []byte(`{"code":4000,"message":"(9112)操作域名需要为【开启中】状态，请确认后重试","codeDesc":"InvalidParameter"}`)
	out, res := annotate.Body(in)
	fmt.Println(string(in))
	fmt.Println(string(out))
	fmt.Println(res.Kind, res.Code, res.ModuleCode, res.Category, res.Retryable)

	// A success body comes back as it is.
	ok := []byte(`{"code":0,"message":"","codeDesc":"Success"}`)
	out, res = annotate.Body(ok)
	fmt.Println(string(out), res.Kind)
	// Output:
	// {"code":4000,"message":"(9112)操作域名需要为【开启中】状态，请确认后重试","codeDesc":"InvalidParameter"}
	// {"code":4000,"message":"(9112)操作域名需要为【开启中】状态，请确认后重试","codeDesc":"InvalidParameter","category":"invalid_state","retryable":false,"description":"This operation needs the domain to be online (status 'enabled'). Start it with OnlineHost, wait for the deployment to finish, then send the request again.","moduleCode":9112}
	// failure 4000 9112 invalid_state false
	// {"code":0,"message":"","codeDesc":"Success"} success
}

// Decide tells from the first bytes of a body whether it needs reading
// whole.
func ExampleDecide() {
	for _, prefix := range []string{
		`{"code":0,"message":"","codeDesc":"Succ`,
		`{"code":4000,"message":"(9110)没有`,
		`{"code":40`,
		`<html>`,
	} {
		fmt.Println(annotate.Decide([]byte(prefix)))
	}
	// Output:
	// succeeded
	// buffer
	// need_more
	// pass
}
