// Package fakeapi3 is a stand-in for Tencent Cloud's CDN API 3.0
// (cdn.tencentcloudapi.com, Version 2018-06-06) in tests: an httptest
// server on "/" that checks signatures exactly as the API does and answers
// by action, in the API's shape (docs/reference/cdn-api-v3.md §1):
//
//	{"Response":{"TaskId":"…","RequestId":"<uuid>"}}
//	{"Response":{"Error":{"Code":"…","Message":"…"},"RequestId":"<uuid>"}}
//
// Signatures (docs/reference/cdn-api-v3.md §2):
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
// Actions served (see Actions), each answered in the shape of the Go SDK's
// tencentcloud/cdn/v20180606 response structs, from a small account kept
// in memory:
//
//   - PurgeUrlsCache (Urls, Area, UrlEncode), PurgePathCache (Paths,
//     FlushType flush|delete, Area, UrlEncode) and PushUrlsCache (Urls,
//     Area, Layer, Headers …) answer TaskId. Each URL must lie on a domain
//     of the account (ResourceNotFound.CdnHostNotExists), a push's domain
//     must be online (ResourceUnavailable.CdnHostIsNotOnline), and each
//     URL spends one of the area's daily quota (a global domain spends
//     both areas'): more than Batch is LimitExceeded.*ExceedBatchLimit,
//     more than Available LimitExceeded.*ExceedDayLimit. Every URL is
//     recorded as a Task, done at once.
//   - DescribePurgeTasks (PurgeType url|path, StartTime/EndTime or TaskId,
//     Offset, Limit ≤ 1000, default 20, Keyword, Status, Area) answers
//     PurgeLogs and TotalCount; DescribePushTasks answers PushLogs and
//     TotalCount; both newest first.
//   - DescribePurgeQuota answers UrlPurge and PathPurge, DescribePushQuota
//     UrlPush: per area (mainland, overseas) Batch, Total, Available;
//     defaults are the documented limits (URL purge 1000/10000, directory
//     purge 500/100, push 500/1000).
//   - DescribeDomains (Limit ≤ 1000) and DescribeDomainsConfig (Limit ≤
//     100, and Sort) take Offset, Limit (default 100) and Filters
//     {Name, Value[1…5], Fuzzy} with Name domain, resourceId, status,
//     serviceType, projectId or origin (Fuzzy: domain and origin only, one
//     value) and answer Domains and TotalNumber, in the order domains were
//     added. DescribeDomainsConfig's Domains carry the detail members
//     (Cache, Https … with fixed defaults).
//   - StartCdnDomain, StopCdnDomain and DeleteCdnDomain (Domain) move a
//     domain offline -> online -> offline -> deleted at once. Unknown:
//     ResourceNotFound.CdnHostNotExists; processing:
//     ResourceInUse.CdnOpInProgress; starting an online or stopping an
//     offline domain: InvalidParameter.CdnHostInvalidStatus; deleting a
//     domain not offline: ResourceUnavailable.CdnHostIsNotOffline.
//   - AddCdnDomain (Domain, ServiceType, Origin{Origins, OriginType …},
//     ProjectId, Area, other configuration accepted unread) adds an online
//     domain; a taken name is ResourceInUse.CdnHostExists, a bad one
//     InvalidParameter.CdnHostInvalidParam, a bad ServiceType
//     InvalidParameter.CdnInvalidParamServiceType.
//   - DescribeCdnDomainLogs (Domain, StartTime, EndTime ≤ 30 days apart,
//     Offset, Limit, Area) answers one DomainLog per hour and TotalCount.
//   - DescribeCdnData (StartTime, EndTime, Metric, Domains ≤ 30, Interval
//     min|5min|hour|day, Detail …) answers Interval and Data[{Resource,
//     CdnData[{Metric, DetailData[{Time, Value}], SummarizedData}]}] with
//     made-up, deterministic values.
//
// Times are read and written as TimeLayout in UTC+8, as the API does.
// Parameters are checked as the API checks them: a member the action does
// not have is UnknownParameter, a missing required one MissingParameter, a
// wrong JSON type InvalidParameter (query and form values, all strings,
// count as the numbers and booleans they spell), a bad value
// InvalidParameter.CdnParamError or the action's own code. Config.Strict
// decides only how strict purges and pushes are (see Config).
//
// The account starts with Config.Domains (DefaultDomain() when nil); tests
// add domains, change a status and set quotas with AddDomain,
// SetDomainStatus and SetQuota, and read the state back with Domain,
// Domains, Quota and Tasks. Calls returns every call accepted (signature
// and version good, action served) with the action, version, host it was
// signed for and its parameters, and the code it was answered.
//
// Any verified call answers the error code of choice instead, without
// running the action, when it carries one in the header X-Fake-Error or in
// a parameter FailWith (a member of the JSON body, or a query or form
// parameter): its Message is Chinese, as the API's are by default.
package fakeapi3

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cdnproxy/cdnproxy/internal/api3"
	"github.com/cdnproxy/cdnproxy/internal/apicall"
	"github.com/cdnproxy/cdnproxy/proxy/signature"
)

// The API's constants.
const (
	// Service is the service name of the CDN API's TC3 credential scope.
	Service = api3.Service
	// Version is the CDN API 3.0 version.
	Version = api3.Version
	// Window is how far a signed timestamp may be from the API's clock.
	Window = api3.Window
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
	// Now is the fake's clock for the timestamp window and for the times
	// it records and reports; nil means time.Now.
	Now func() time.Time
	// Domains are the account's domains at the start (zero fields filled
	// in as AddDomain does); nil means DefaultDomain alone, an empty
	// slice none.
	Domains []Domain
	// Strict makes purges and pushes as strict as the API's: Urls (Paths
	// and FlushType) required and not empty, every URL http(s) on a
	// domain of the account, and each call its own TaskId. Without it
	// they accept an empty call and unknown domains (spending the
	// mainland quota) and always answer TaskID, as the fake did before
	// it kept state. Every other check holds either way.
	Strict bool
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
	st       state
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

// New starts a fake API 3.0, closed when the test ends. It fails the test
// when a domain of cfg.Domains cannot be added.
func New(tb testing.TB, cfg Config) *Server {
	tb.Helper()
	s := &Server{cfg: cfg, st: state{quotas: defaultQuotas()}}
	seed := cfg.Domains
	if seed == nil {
		seed = []Domain{DefaultDomain()}
	}
	for _, d := range seed {
		if _, err := s.st.add(d, s.now()); err != nil {
			tb.Fatal(err)
		}
	}
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
	ac, err := apicall.Read(w, r, maxBody)
	req := Request{Method: r.Method, Host: r.Host, Path: r.URL.Path, RawQuery: r.URL.RawQuery,
		Header: r.Header.Clone(), Body: ac.Body}
	switch {
	case err != nil:
		req.Status, req.Answer = http.StatusRequestEntityTooLarge, []byte("fakeapi3: "+err.Error()+"\n")
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	case r.URL.Path != "/":
		req.Status, req.Answer = http.StatusNotFound, []byte("fakeapi3: "+r.URL.Path+" is not /\n")
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	default:
		s.answer(&req, r, ac)
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
func (s *Server) answer(req *Request, r *http.Request, ac apicall.Call) {
	req.Status = http.StatusOK
	req.RequestID = api3.NewRequestID()
	chk := api3.Verify(r, ac, api3.Verifier{
		Key:   func(id string) (string, bool) { k, ok := s.cfg.Keys[id]; return k, ok },
		Now:   s.now(),
		Extra: ErrorParam,
	})
	req.Signing, req.SecretID, req.Action, req.Verified = chk.Signing, chk.SecretID, chk.Action, chk.Verified
	code, params := chk.Code, chk.Params
	served := api3.Handles(req.Action)
	accepted := code == "" && served
	if code == "" {
		code = params.Extra
		if e := r.Header.Get(ErrorHeader); e != "" {
			code = e
		}
	}
	if code == "" && !served {
		code = "InvalidAction"
	}
	message := Message(code)
	if accepted {
		// Accepted: the action runs unless an error was asked for.
		s.mu.Lock()
		defer s.mu.Unlock()
		rec := Call{Action: req.Action, Version: chk.Version, Host: r.Host, Signing: req.Signing,
			SecretID: req.SecretID, Payload: params.Payload}
		_ = json.Unmarshal(params.Payload, &rec.Params)
		if code == "" {
			var resp any
			perr := params.Err
			if perr == nil {
				resp, perr = api3.Run(&s.st, req.Action, api3.Call{Params: params.Action, FromForm: params.FromForm,
					Now: s.now(), Strict: s.cfg.Strict})
			}
			if perr == nil {
				req.Answer = api3.SuccessBody(resp, req.RequestID)
				s.st.calls = append(s.st.calls, rec)
				return
			}
			code, message = perr.Code, perr.Message
		}
		rec.Code = code
		s.st.calls = append(s.st.calls, rec)
	}
	req.ErrorCode = code
	req.Answer = ErrorBody(code, message, req.RequestID)
}

// maxBody is the largest body the fake reads.
const maxBody = api3.MaxBody

// TaskID is the TaskId of every purge and push answer when
// Config.Strict is false.
const TaskID = api3.FixedTaskID

// ErrorBody returns an API 3.0 error body, exactly as the fake sends it:
//
//	{"Response":{"Error":{"Code":code,"Message":message},"RequestId":requestID}}
func ErrorBody(code, message, requestID string) []byte {
	return api3.ErrorBody(code, message, requestID)
}

// Message returns the fake's Chinese message for a code.
func Message(code string) string { return api3.Message(code) }

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
