// Package legacyclient holds no code: its test drives a real third-party
// CDN API 2.0 client, the npm package qcloudapi-sdk@0.2.1 (pinned in
// package.json and package-lock.json), through cdnproxy in resign mode,
// the way a user would point a legacy client at the proxy. Install the
// client with `npm ci --prefix internal/legacyclient` before `go test`.
package legacyclient
