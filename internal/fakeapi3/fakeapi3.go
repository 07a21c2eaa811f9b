// Package fakeapi3 is a stand-in for Tencent Cloud's CDN API 3.0
// (cdn.tencentcloudapi.com, Version 2018-06-06) in tests: an httptest
// server on "/" that checks signatures exactly as the API does and answers
// by action, in the API's shape (reference/cdn-api-v3.md §1):
//
//	{"Response":{"TaskId":"…","RequestId":"<uuid>"}}
//	{"Response":{"Error":{"Code":"…","Message":"…"},"RequestId":"<uuid>"}}
//
// Signatures (reference/cdn-api-v3.md §2):
//
//   - TC3-HMAC-SHA256 (an Authorization header starting with
//     "TC3-HMAC-SHA256"): the header is parsed, the canonical request is
//     rebuilt from the headers its SignedHeaders names (host being the Host
//     header the fake itself received), the raw query of a GET and the raw
//     body of a POST, with the service "cdn" and the credential date the UTC
//     date of X-TC-Timestamp, which must be within 5 minutes of the fake's
//     clock. A JSON POST must be signed so; the action is X-TC-Action and
//     the version X-TC-Version.
//   - signature v1 (HmacSHA1 / HmacSHA256): parameters from the query of a
//     GET or the URL-encoded body of a POST, verified over the fake's own
//     Host and the path "/"; Version is required and Timestamp must be
//     within 5 minutes.
//
// Failed checks are answered as the API answers them, with status 200:
// AuthFailure.InvalidAuthorization (malformed Authorization),
// AuthFailure.SecretIdNotFound (a SecretId the fake does not know),
// AuthFailure.SignatureExpire (timestamp out of the window),
// AuthFailure.SignatureFailure (the signature does not match),
// MissingParameter / NoSuchVersion (Version), InvalidAction (an action the
// fake does not serve).
//
// Actions served: PurgeUrlsCache, PurgePathCache and PushUrlsCache answer a
// TaskId; DescribeDomains answers Domains and TotalNumber. Any verified
// call answers the error code of choice instead when it carries one, in
// the header X-Fake-Error, or in a parameter FailWith (a member of the JSON
// body, or a query or form parameter): its Message is Chinese, as the API's
// are by default.
package fakeapi3

import (
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cdnproxy/cdnproxy/internal/apicall"
	"github.com/cdnproxy/cdnproxy/proxy/signature"
)

// The API's constants.
const (
	// Service is the service name of the CDN API's TC3 credential scope.
	Service = "cdn"
	// Version is the CDN API 3.0 version.
	Version = "2018-06-06"
	// Window is how far a signed timestamp may be from the API's clock.
	Window = apicall.WindowV3
	// ErrorHeader asks for an error answer: its value is the code.
	ErrorHeader = "X-Fake-Error"
	// ErrorParam asks for an error answer too, as a JSON body member or a
	// query or form parameter.
	ErrorParam = "FailWith"
)

// Config says what the fake accepts.
type Config struct {
	// Keys maps the SecretIds the fake accepts to their keys.
	Keys map[string]string
	// Now is the fake's clock for the timestamp window; nil means
	// time.Now.
	Now func() time.Time
}

// Server is a running fake API 3.0. Its methods are safe for concurrent
// use.
type Server struct {
	// URL is the server's base URL, such as http://127.0.0.1:41234, to
	// configure as the API 3.0 upstream.
	URL string
	// Host is URL's host:port, the host a call must be signed for.
	Host string

	cfg Config
	srv *httptest.Server

	mu       sync.Mutex
	requests int
	last     Request
}

// Request is what the fake saw of one call and what it answered.
type Request struct {
	Method   string
	Host     string // the Host header as received
	Path     string
	RawQuery string
	Header   http.Header
	Body     []byte
	// Signing is "TC3", "v1" or "" (neither could be told).
	Signing string
	// SecretID is the SecretId the call was signed with, if any.
	SecretID string
	// Action is X-TC-Action (TC3) or the Action parameter (v1).
	Action string
	// Verified reports whether the signature checked out.
	Verified bool
	// Status and Answer are the status and body sent back.
	Status int
	Answer []byte
	// RequestID is the answer's RequestId ("" for a non-API answer).
	RequestID string
	// ErrorCode is the answer's Response.Error.Code, "" for a success.
	ErrorCode string
}

// New starts a fake API 3.0, closed when the test ends.
func New(tb testing.TB, cfg Config) *Server {
	tb.Helper()
	s := &Server{cfg: cfg}
	s.srv = httptest.NewServer(http.HandlerFunc(s.serve))
	s.URL = s.srv.URL
	s.Host = strings.TrimPrefix(s.URL, "http://")
	tb.Cleanup(s.Close)
	return s
}

// Close shuts the server down and waits for the calls in flight. It may be
// called more than once.
func (s *Server) Close() { s.srv.Close() }

// Requests returns the number of calls received so far, on any path.
func (s *Server) Requests() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.requests
}

// Last returns the most recent call and its answer, and false when there
// was none.
func (s *Server) Last() (Request, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.last, s.requests > 0
}

func (s *Server) now() time.Time {
	if s.cfg.Now != nil {
		return s.cfg.Now()
	}
	return time.Now()
}

// serve answers one call and records it.
func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	call, err := apicall.Read(w, r, maxBody)
	req := Request{Method: r.Method, Host: r.Host, Path: r.URL.Path, RawQuery: r.URL.RawQuery,
		Header: r.Header.Clone(), Body: call.Body}
	switch {
	case err != nil:
		req.Status, req.Answer = http.StatusRequestEntityTooLarge, []byte("fakeapi3: "+err.Error()+"\n")
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	case r.URL.Path != "/":
		req.Status, req.Answer = http.StatusNotFound, []byte("fakeapi3: "+r.URL.Path+" is not /\n")
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	default:
		s.answer(&req, r, call)
		w.Header().Set("Content-Type", "application/json")
	}
	w.Header().Set("Content-Length", strconv.Itoa(len(req.Answer)))
	w.WriteHeader(req.Status)
	_, _ = w.Write(req.Answer)
	s.mu.Lock()
	s.requests++
	s.last = req
	s.mu.Unlock()
}

// answer decides what an API call gets.
func (s *Server) answer(req *Request, r *http.Request, call apicall.Call) {
	req.Status = http.StatusOK
	req.RequestID = newUUID()
	code, params := s.check(req, r, call)
	if code == "" {
		code = params.failWith
		if h := r.Header.Get(ErrorHeader); h != "" {
			code = h
		}
	}
	if code == "" {
		var ok bool
		if req.Answer, ok = success(req.Action, req.RequestID); ok {
			return
		}
		code = "InvalidAction"
	}
	req.ErrorCode = code
	req.Answer = ErrorBody(code, Message(code), req.RequestID)
}

// callParams are the parameters of a call that the fake reads.
type callParams struct {
	failWith string
}

// check verifies the call's signature, version and action, filling in
// req. It returns the error code of a failed check, or "".
func (s *Server) check(req *Request, r *http.Request, call apicall.Call) (string, callParams) {
	if r.Method != http.MethodGet && r.Method != http.MethodPost {
		return "UnsupportedProtocol", callParams{}
	}
	if auth := r.Header.Get("Authorization"); strings.HasPrefix(auth, signature.TC3Algorithm) {
		req.Signing = "TC3"
		return s.checkTC3(req, r, auth, call)
	}
	if r.Method == http.MethodPost && call.MediaType != "application/x-www-form-urlencoded" {
		// A JSON (or any other) body is read only with a TC3 signature.
		return "AuthFailure.InvalidAuthorization", callParams{}
	}
	req.Signing = "v1"
	return s.checkV1(req, r, call)
}

// checkTC3 checks a TC3-HMAC-SHA256 call.
func (s *Server) checkTC3(req *Request, r *http.Request, authorization string, call apicall.Call) (string, callParams) {
	req.Action = r.Header.Get("X-TC-Action")
	auth, err := signature.ParseTC3Authorization(authorization)
	if err != nil {
		return "AuthFailure.InvalidAuthorization", callParams{}
	}
	req.SecretID = auth.SecretID
	var params callParams
	switch {
	case r.Method == http.MethodGet:
		q, err := signature.Parse(r.URL.RawQuery)
		if err != nil {
			return "InvalidParameter", params
		}
		params.failWith, _ = q.Get(ErrorParam)
	case call.MediaType == "application/json":
		var m map[string]any
		if err := json.Unmarshal(call.Body, &m); err != nil {
			return "InvalidParameter", params
		}
		params.failWith, _ = m[ErrorParam].(string)
	default:
		return "InvalidParameter", params
	}
	key, ok := s.cfg.Keys[auth.SecretID]
	if !ok {
		return "AuthFailure.SecretIdNotFound", params
	}
	tsText := r.Header.Get("X-TC-Timestamp")
	if code := s.checkTimestamp(tsText); code != "" {
		return code, params
	}
	ts, _ := strconv.ParseInt(tsText, 10, 64)
	if auth.Service != Service {
		return "AuthFailure.SignatureFailure", params
	}
	tr := signature.TC3Request{
		Method:          r.Method,
		SignedHeaders:   auth.SignedHeaders,
		Service:         Service,
		Timestamp:       ts,
		UnsignedPayload: r.Header.Get("X-TC-Content-SHA256") == "UNSIGNED-PAYLOAD",
	}
	if r.Method == http.MethodGet {
		tr.Query = r.URL.RawQuery
	} else {
		tr.Payload = call.Body
	}
	for _, name := range auth.SignedHeaders {
		if name == "host" {
			tr.Headers = append(tr.Headers, signature.Header{Name: name, Value: r.Host})
			continue
		}
		// Every value: a header sent twice makes VerifyTC3 refuse.
		for _, v := range r.Header.Values(name) {
			tr.Headers = append(tr.Headers, signature.Header{Name: name, Value: v})
		}
	}
	if !signature.VerifyTC3(key, auth, tr) {
		return "AuthFailure.SignatureFailure", params
	}
	req.Verified = true
	switch v := r.Header.Get("X-TC-Version"); {
	case v == "":
		return "MissingParameter", params
	case v != Version:
		return "NoSuchVersion", params
	}
	return "", params
}

// checkV1 checks a signature v1 call.
func (s *Server) checkV1(req *Request, r *http.Request, call apicall.Call) (string, callParams) {
	p, err := signature.Parse(call.Params)
	if err != nil {
		return "InvalidParameter", callParams{}
	}
	var params callParams
	params.failWith, _ = p.Get(ErrorParam)
	req.Action, _ = p.Get("Action")
	req.SecretID, _ = p.Get("SecretId")
	if _, ok := p.Get("Signature"); !ok || req.SecretID == "" {
		return "AuthFailure.InvalidAuthorization", params
	}
	key, ok := s.cfg.Keys[req.SecretID]
	if !ok {
		return "AuthFailure.SecretIdNotFound", params
	}
	tsText, _ := p.Get("Timestamp")
	if code := s.checkTimestamp(tsText); code != "" {
		return code, params
	}
	if !signature.NewKey(key).Verify(r.Method, r.Host, "/", p) {
		return "AuthFailure.SignatureFailure", params
	}
	req.Verified = true
	switch v, ok := p.Get("Version"); {
	case !ok:
		return "MissingParameter", params
	case v != Version:
		return "NoSuchVersion", params
	}
	return "", params
}

// checkTimestamp checks a signed timestamp against the fake's clock and
// returns the API's error code for it, or "".
func (s *Server) checkTimestamp(ts string) string {
	switch err := apicall.CheckTimestamp(ts, s.now(), Window); {
	case errors.Is(err, apicall.ErrExpired):
		return "AuthFailure.SignatureExpire"
	case err != nil:
		return "MissingParameter"
	}
	return ""
}

// maxBody is the largest body the fake reads: API 3.0's limit for a call
// signed with TC3.
const maxBody = 10 << 20

// TaskID is the TaskId of every purge and push answer.
const TaskID = "1700000000-fake3task"

// success returns the success body of an action the fake serves.
func success(action, requestID string) ([]byte, bool) {
	var response any
	switch action {
	case "PurgeUrlsCache", "PurgePathCache", "PushUrlsCache":
		response = struct {
			TaskID    string `json:"TaskId"`
			RequestID string `json:"RequestId"`
		}{TaskID, requestID}
	case "DescribeDomains":
		type domain struct {
			ResourceID  string `json:"ResourceId"`
			AppID       int64  `json:"AppId"`
			Domain      string `json:"Domain"`
			Cname       string `json:"Cname"`
			Status      string `json:"Status"`
			ProjectID   int64  `json:"ProjectId"`
			ServiceType string `json:"ServiceType"`
			CreateTime  string `json:"CreateTime"`
			UpdateTime  string `json:"UpdateTime"`
			Disable     string `json:"Disable"`
			Area        string `json:"Area"`
			Readonly    string `json:"Readonly"`
			Product     string `json:"Product"`
		}
		response = struct {
			Domains     []domain `json:"Domains"`
			TotalNumber int      `json:"TotalNumber"`
			RequestID   string   `json:"RequestId"`
		}{[]domain{{
			ResourceID: "cdn-fake0001", AppID: 1250000000, Domain: "www.example.com", Cname: "www.example.com.cdn.dnsv1.com",
			Status: "online", ServiceType: "web", CreateTime: "2023-11-14 22:13:20", UpdateTime: "2023-11-14 22:13:20",
			Disable: "normal", Area: "mainland", Readonly: "normal", Product: "cdn",
		}}, 1, requestID}
	default:
		return nil, false
	}
	out, err := json.Marshal(map[string]any{"Response": response})
	if err != nil {
		panic("fakeapi3: " + err.Error())
	}
	return out, true
}

// ErrorBody returns an API 3.0 error body, exactly as the fake sends it:
//
//	{"Response":{"Error":{"Code":code,"Message":message},"RequestId":requestID}}
func ErrorBody(code, message, requestID string) []byte {
	var b struct {
		Response struct {
			Error struct {
				Code    string `json:"Code"`
				Message string `json:"Message"`
			} `json:"Error"`
			RequestID string `json:"RequestId"`
		} `json:"Response"`
	}
	b.Response.Error.Code, b.Response.Error.Message, b.Response.RequestID = code, message, requestID
	out, err := json.Marshal(b)
	if err != nil {
		panic("fakeapi3: " + err.Error())
	}
	return out
}

// messages are the API's Chinese messages for the codes the fake answers
// by itself and a few others.
var messages = map[string]string{
	"AuthFailure.InvalidAuthorization":             "请求头部的 Authorization 不符合腾讯云标准。",
	"AuthFailure.SecretIdNotFound":                 "密钥不存在，请在控制台检查密钥是否已被删除或者禁用。",
	"AuthFailure.SignatureExpire":                  "签名过期。Timestamp 和服务器时间相差不得超过五分钟。",
	"AuthFailure.SignatureFailure":                 "请求签名验证失败，请检查您的签名计算是否正确。",
	"InvalidAction":                                "接口不存在。",
	"MissingParameter":                             "缺少参数错误。",
	"NoSuchVersion":                                "接口版本不存在。",
	"LimitExceeded.CdnPurgeUrlExceedDayLimit":      "刷新的Url数量超过每日限额。",
	"RequestLimitExceeded":                         "请求的次数超过了频率限制。",
	"ResourceInUse.CdnOpInProgress":                "域名操作过于频繁，请稍后重试。",
	"ResourceNotFound.CdnHostNotExists":            "未查询到该域名，请确认域名是否正确。",
	"UnauthorizedOperation.CdnAccountUnauthorized": "子账号未配置cam策略。",
}

// Message returns the fake's Chinese message for a code.
func Message(code string) string {
	if m, ok := messages[code]; ok {
		return m
	}
	return fmt.Sprintf("操作失败（%s），请稍后重试或联系腾讯云客服。", code)
}

// newUUID returns a random version-4 UUID, as the API's RequestIds are.
func newUUID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:])
}

// SignTC3 signs req as a TC3 client would: it sets X-TC-Timestamp to ts
// and Authorization to a TC3-HMAC-SHA256 signature with id and key over
// content-type and host, host being signedHost (which need not be req's
// Host, so that a test can sign as the Node SDK does), service the
// credential scope's service, body the raw body req carries and, for a
// GET, req's raw query.
func SignTC3(req *http.Request, body []byte, id, key, signedHost, service string, ts int64) {
	req.Header.Set("X-TC-Timestamp", strconv.FormatInt(ts, 10))
	tr := signature.TC3Request{
		Method:        req.Method,
		SignedHeaders: []string{"content-type", "host"},
		Headers: []signature.Header{
			{Name: "content-type", Value: req.Header.Get("Content-Type")},
			{Name: "host", Value: signedHost},
		},
		Service:   service,
		Timestamp: ts,
	}
	if req.Method == http.MethodGet {
		tr.Query = req.URL.RawQuery
	} else {
		tr.Payload = body
	}
	req.Header.Set("Authorization", signature.TC3Authorization(id, key, tr))
}
