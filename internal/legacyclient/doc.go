// Package legacyclient holds no code: its tests drive real third-party
// clients through cdnproxy in resign mode, the way a user would point them
// at the proxy: the API 2.0 npm package qcloudapi-sdk@0.2.1 (client.js)
// and the API 3.0 npm package tencentcloud-sdk-nodejs-cdn (client3.js),
// both pinned in package.json and package-lock.json. The 2.0 client also
// goes through the 2.0 -> 3.0 bridge (proxy.Config.BridgeV2) to a fake API
// 3.0 (bridge_test.go), with the calls it makes given in LEGACY_CALLS.
// The 3.0 client also runs against `cdnproxy mock`'s emulator
// (internal/emulator), directly and through the proxy (emulator3_test.go),
// with its calls given in CDN3_CALLS.
//
// The tests need Node.js and those packages, so they are built only with
// the e2e build tag: a plain `go test ./...` compiles this package and
// runs nothing here. To run them, install the packages and set the tag,
// as .ci/test does:
//
//	npm ci --prefix internal/legacyclient
//	go test -tags e2e ./internal/legacyclient
package legacyclient
