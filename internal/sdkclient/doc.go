// Package sdkclient holds no code: its test drives a real third-party
// CDN API 3.0 client, Tencent's Go SDK (the CommonClient of
// github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common, which
// calls any action), through cdnproxy in resign mode to the fake API 3.0
// of internal/fakeapi3, the way a user points the SDK at the proxy: its
// endpoint set to the proxy's address, nothing else changed.
package sdkclient
