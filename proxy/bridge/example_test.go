package bridge_test

import (
	"context"
	"fmt"

	"github.com/cdnproxy/cdnproxy/proxy/bridge"
	"github.com/cdnproxy/cdnproxy/proxy/signature"
)

// A legacy RefreshCdnUrl call becomes a PurgeUrlsCache call; the Doer
// stands in for the signed HTTPS call to cdn.tencentcloudapi.com.
func ExampleBridge_Serve() {
	do := func(_ context.Context, action string, payload []byte) (int, []byte, error) {
		fmt.Printf("3.0 call: %s %s\n", action, payload)
		return 200, []byte(`{"Response":{"TaskId":"1533045796-i60rfmzm","RequestId":"4d5a83f8-0001"}}`), nil
	}
	params, _ := signature.Parse("Action=RefreshCdnUrl&Nonce=1&SecretId=AKIDexample&Timestamp=1700000000&Signature=x&urls.0=https://www.test.com/a.jpg")
	res, err := bridge.New().Serve(context.Background(), do, params)
	if err != nil {
		panic(err)
	}
	fmt.Printf("2.0 answer: %s\n", res.Body)
	fmt.Println(res.Successor, res.RequestID)
	// Output:
	// 3.0 call: PurgeUrlsCache {"Urls":["https://www.test.com/a.jpg"]}
	// 2.0 answer: {"code":0,"message":"","codeDesc":"Success","data":{"count":1,"task_id":"1533045796-i60rfmzm"}}
	// PurgeUrlsCache 4d5a83f8-0001
}
