// Package legacyclient holds no code: its tests drive real third-party
// clients through cdnproxy in resign mode, the way a user would point them
// at the proxy: the API 2.0 npm package qcloudapi-sdk@0.2.1 (client.js)
// and the API 3.0 npm package tencentcloud-sdk-nodejs-cdn (client3.js),
// both pinned in package.json and package-lock.json. Install them with
// `npm ci --prefix internal/legacyclient` before `go test` (.ci/test does).
package legacyclient
