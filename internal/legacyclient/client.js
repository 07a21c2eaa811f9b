// client.js drives the npm package qcloudapi-sdk@0.2.1, a third-party
// CDN API 2.0 client that cdnproxy did not write, against the proxy. It is
// configured the way a user points it at the proxy: its host, protocol and
// path options, nothing else changed. It signs for the host it is given.
//
// Environment:
//   CDNPROXY_URL        the proxy's API URL, e.g. http://127.0.0.1:8080/v2/index.php
//   LEGACY_SECRET_ID    the SecretId the client signs with
//   LEGACY_SECRET_KEY   its key
//
//   LEGACY_CALLS        optional: the calls to make instead of the default
//                       ones, a JSON array of
//                       {"method":"GET","signatureMethod":"sha1","data":{"Action":"...",...}}
//
// By default, for each of GET/POST x HmacSHA1/HmacSHA256 it calls
// DescribeCdnHosts and OnlineHost. It makes the calls one after the other
// and prints one JSON line per call:
//   {"method":"GET","signatureMethod":"sha1","action":"...","error":null,"body":{...}}
'use strict'

const QcloudApi = require('qcloudapi-sdk')

function env(name) {
  const v = process.env[name]
  if (!v) {
    console.error('client.js: ' + name + ' is not set')
    process.exit(2)
  }
  return v
}

const target = new URL(env('CDNPROXY_URL'))
const secretId = env('LEGACY_SECRET_ID')
const secretKey = env('LEGACY_SECRET_KEY')

function defaultCalls() {
  const calls = []
  for (const method of ['GET', 'POST']) {
    for (const signatureMethod of ['sha1', 'sha256']) {
      calls.push({ method, signatureMethod, action: 'DescribeCdnHosts', data: { Action: 'DescribeCdnHosts', offset: 0, limit: 10, note: 'a+b/c=d 中文 100%' } })
      calls.push({ method, signatureMethod, action: 'OnlineHost', data: { Action: 'OnlineHost', hosts: ['www.test.com'] } })
    }
  }
  return calls
}

// givenCalls reads LEGACY_CALLS; each call's action is its data's Action.
function givenCalls(text) {
  let calls
  try {
    calls = JSON.parse(text)
  } catch (e) {
    console.error('client.js: LEGACY_CALLS is not JSON: ' + e.message)
    process.exit(2)
  }
  if (!Array.isArray(calls)) {
    console.error('client.js: LEGACY_CALLS is not a JSON array')
    process.exit(2)
  }
  return calls.map(function (c) {
    return { method: c.method, signatureMethod: c.signatureMethod, action: c.data.Action, data: c.data }
  })
}

const calls = process.env.LEGACY_CALLS ? givenCalls(process.env.LEGACY_CALLS) : defaultCalls()

function run(i) {
  if (i === calls.length) return
  const c = calls[i]
  const api = new QcloudApi({
    SecretId: secretId,
    SecretKey: secretKey,
    Region: 'gz',
    protocol: target.protocol.replace(/:$/, ''),
    host: target.host, // host:port, signed as given
    path: target.pathname,
    method: c.method,
    signatureMethod: c.signatureMethod,
  })
  // The 4th argument goes to the request library: no HTTP proxy from the
  // environment, and a bounded wait.
  api.request(c.data, api.defaults, function (error, body) {
    console.log(JSON.stringify({
      method: c.method,
      signatureMethod: c.signatureMethod,
      action: c.action,
      error: error ? String(error) : null,
      body: body === undefined ? null : body,
    }))
    run(i + 1)
  }, { proxy: null, timeout: 30000 })
}

run(0)
