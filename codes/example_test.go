package codes_test

import (
	"fmt"

	"github.com/cdnproxy/cdnproxy/codes"
)

// A message such as "(9112)操作域名需要为【开启中】状态" carries module code
// 9112; Module explains it.
func ExampleModule() {
	e, ok := codes.Module(9112)
	fmt.Println(ok, e.Category, e.Retryable)
	fmt.Println(e.Description)

	_, ok = codes.Module(100004)
	fmt.Println(ok)
	// Output:
	// true invalid_state false
	// This operation needs the domain to be online (status 'enabled'). Start it with OnlineHost, wait for the deployment to finish, then send the request again.
	// false
}

// The response's "code" member is a public code.
func ExamplePublic() {
	e, ok := codes.Public(4500)
	fmt.Println(ok, e.Category, e.Retryable)
	fmt.Println(e.Original)
	// Output:
	// true replayed_request true
	// 重放攻击：请求的 Nonce 和 Timestamp 参数用于确保每次请求只会在服务器端被执行一次,所以本次的 Nonce 和上次的不能重复, Timestamp 与腾讯服务器相差不能超过 2 小时。
}

// The class name the API sends in "codeDesc" with a public code.
func ExampleCodeDesc() {
	fmt.Println(codes.CodeDesc(0))
	fmt.Println(codes.CodeDesc(4100))
	fmt.Println(codes.CodeDesc(4600))
	fmt.Printf("%q\n", codes.CodeDesc(9110)) // a module code has none
	// Output:
	// Success
	// AuthFailure
	// UnsupportedProtocol
	// ""
}

// A category says what kind of problem an entry reports and what to do
// about it; for invalid_state the advice depends on whether the state
// passes by itself.
func ExampleCategory_Advice() {
	e, _ := codes.Module(9175) // the domain is being deployed
	fmt.Printf("%s: %s\n", e.Category, e.Category.Meaning())
	fmt.Println(e.Category.Advice(e.Retryable))
	fmt.Println(e.Category.Advice(false))
	// Output:
	// invalid_state: the resource is in the wrong state for this operation
	// Wait for the resource's current operation to finish, then retry.
	// Bring the resource into the state the operation needs (the description says which), then send the call again.
}
