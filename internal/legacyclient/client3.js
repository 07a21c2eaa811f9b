// client3.js drives the npm package tencentcloud-sdk-nodejs-cdn (Tencent's
// own CDN API 3.0 client for Node.js, pinned in package.json) against the
// proxy. It is configured the way a user points it at the proxy: the
// endpoint and protocol of its httpProfile, nothing else changed. For TC3
// the SDK signs the host WITHOUT its port and takes the service name from
// the endpoint's first label ("127" for 127.0.0.1:8080); for signature v1
// it signs the endpoint as given.
//
// Environment:
//   CDNPROXY_ENDPOINT  the proxy's host:port, e.g. 127.0.0.1:8080
//   CDN3_SECRET_ID     the SecretId the client signs with
//   CDN3_SECRET_KEY    its key
//   CDN3_FAIL_WITH     the error code the failing call asks the fake API for
//
// It makes four calls and prints one JSON line per call:
//   {"name":"...","action":"...","reqMethod":"POST","signMethod":"TC3-HMAC-SHA256",
//    "response":{...}|null,"error":{"code":...,"message":...,"requestId":...,"httpCode":...}|null,
//    "raw":"<the answer's body as received>"}
// The SDK hands back only Response (or, for an error, Code, Message and
// RequestId); to show whether the proxy's annotation arrived, the client's
// parseResponse is wrapped to keep a copy of the raw body first. Nothing
// the SDK sends or reads is changed.
'use strict'

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
const failWith = env('CDN3_FAIL_WITH')

const calls = [
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

async function run() {
  for (const c of calls) {
    const client = new CdnClient({
      credential: { secretId, secretKey },
      region: '',
      profile: {
        signMethod: c.signMethod,
        httpProfile: { endpoint, protocol: 'http://', reqMethod: c.reqMethod, reqTimeout: 30 },
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
