// client3.js drives the npm package tencentcloud-sdk-nodejs-cdn (Tencent's
// own CDN API 3.0 client for Node.js, pinned in package.json) against the
// proxy (or, with CDN3_CONNECT_TO, `cdnproxy mock`'s emulator). It is configured the way a user points it at the proxy: the
// endpoint and protocol of its httpProfile, nothing else changed. For TC3
// the SDK signs the host WITHOUT its port and takes the service name from
// the endpoint's first label ("127" for 127.0.0.1:8080); for signature v1
// it signs the endpoint as given.
//
// Environment:
//   CDNPROXY_ENDPOINT  the proxy's host:port, e.g. 127.0.0.1:8080 (the
//                      endpoint the SDK is configured with)
//   CDN3_SECRET_ID     the SecretId the client signs with
//   CDN3_SECRET_KEY    its key
//   CDN3_FAIL_WITH     the error code the failing call asks the fake API for
//                      (needed only for the default calls)
//
//   CDN3_CALLS         optional: the calls to make instead of the default
//                      ones, a JSON array of
//                      {"name":"...","action":"PurgeUrlsCache","req":{...}}
//                      with optional "reqMethod" (default POST) and
//                      "signMethod" (default TC3-HMAC-SHA256)
//   CDN3_CONNECT_TO    optional: host:port every connection goes to,
//                      whatever the endpoint names, as a hosts-file entry
//                      would send it (curl's --connect-to); the SDK still
//                      signs and sends the endpoint's host. With the
//                      endpoint cdn.tencentcloudapi.com it makes the SDK
//                      sign exactly as for the real API (service "cdn").
//
// By default it makes four calls. It prints one JSON line per call:
//   {"name":"...","action":"...","reqMethod":"POST","signMethod":"TC3-HMAC-SHA256",
//    "response":{...}|null,"error":{"code":...,"message":...,"requestId":...,"httpCode":...}|null,
//    "raw":"<the answer's body as received>"}
// The SDK hands back only Response (or, for an error, Code, Message and
// RequestId); to show whether the proxy's annotation arrived, the client's
// parseResponse is wrapped to keep a copy of the raw body first. Nothing
// the SDK sends or reads is changed.
'use strict'

const http = require('http')
const net = require('net')
const tencentcloud = require('tencentcloud-sdk-nodejs-cdn')

const CdnClient = tencentcloud.cdn.v20180606.Client

function env(name) {
  const v = process.env[name]
  if (!v) {
    console.error('client3.js: ' + name + ' is not set')
    process.exit(2)
  }
  return v
}

const endpoint = env('CDNPROXY_ENDPOINT')
const secretId = env('CDN3_SECRET_ID')
const secretKey = env('CDN3_SECRET_KEY')

function defaultCalls() {
  const failWith = env('CDN3_FAIL_WITH')
  return [
    { name: 'purge', action: 'PurgeUrlsCache', reqMethod: 'POST', signMethod: 'TC3-HMAC-SHA256',
      req: { Urls: ['https://www.example.com/a.png', 'https://www.example.com/中文 b.png'] } },
    // FailWith is the fake API's switch for an error answer; the SDK sends
    // request members it does not know as they are.
    { name: 'purge failing', action: 'PurgeUrlsCache', reqMethod: 'POST', signMethod: 'TC3-HMAC-SHA256',
      req: { Urls: ['https://www.example.com/a.png'], FailWith: failWith } },
    { name: 'describe GET', action: 'DescribeDomains', reqMethod: 'GET', signMethod: 'TC3-HMAC-SHA256',
      req: { Offset: 0, Limit: 10 } },
    { name: 'purge v1', action: 'PurgeUrlsCache', reqMethod: 'POST', signMethod: 'HmacSHA256',
      req: { Urls: ['https://www.example.com/a.png'] } },
  ]
}

// givenCalls reads CDN3_CALLS.
function givenCalls(text) {
  let calls
  try {
    calls = JSON.parse(text)
  } catch (e) {
    console.error('client3.js: CDN3_CALLS is not JSON: ' + e.message)
    process.exit(2)
  }
  if (!Array.isArray(calls)) {
    console.error('client3.js: CDN3_CALLS is not a JSON array')
    process.exit(2)
  }
  return calls.map(function (c) {
    return { name: c.name, action: c.action, reqMethod: c.reqMethod || 'POST',
      signMethod: c.signMethod || 'TC3-HMAC-SHA256', req: c.req || {} }
  })
}

const calls = process.env.CDN3_CALLS ? givenCalls(process.env.CDN3_CALLS) : defaultCalls()

// connectAgent returns an agent whose connections all go to hostPort, or
// undefined (the SDK's own connections) when it is not set.
function connectAgent(hostPort) {
  if (!hostPort) return undefined
  const to = new URL('http://' + hostPort)
  const agent = new http.Agent()
  agent.createConnection = (options, cb) =>
    net.createConnection({ host: to.hostname.replace(/^\[|\]$/g, ''), port: Number(to.port) || 80 }, cb)
  return agent
}

const agent = connectAgent(process.env.CDN3_CONNECT_TO)

async function run() {
  for (const c of calls) {
    const client = new CdnClient({
      credential: { secretId, secretKey },
      region: '',
      profile: {
        signMethod: c.signMethod,
        httpProfile: { endpoint, protocol: 'http://', reqMethod: c.reqMethod, reqTimeout: 30, ...(agent && { agent }) },
      },
    })
    let raw = null
    const parse = client.parseResponse.bind(client)
    client.parseResponse = async (res) => {
      raw = await res.clone().text()
      return parse(res)
    }
    const out = { name: c.name, action: c.action, reqMethod: c.reqMethod, signMethod: c.signMethod, response: null, error: null, raw: null }
    try {
      out.response = await client[c.action](c.req) // the typed method, e.g. client.PurgeUrlsCache(req)
    } catch (e) {
      out.error = {
        code: e.code === undefined ? null : e.code,
        message: e.message,
        requestId: e.requestId || '',
        httpCode: e.httpCode === undefined ? null : e.httpCode,
      }
    }
    out.raw = raw
    console.log(JSON.stringify(out))
  }
}

run().catch((e) => {
  console.error('client3.js: ' + (e && e.stack ? e.stack : e))
  process.exit(1)
})
