// Package fakeapi is a stand-in for Tencent Cloud's CDN API 2.0 in tests:
// an httptest server on /v2/index.php whose answer is chosen by the call's
// Action parameter, read where the API reads it (the query of a GET, the
// form body of a POST), so that a proxy in front of it forwards the call
// unchanged. The scenarios are the constants of scenarios.go.
//
// Besides Action, every call may carry these parameters:
//
//	delay=D     wait D (a Go duration such as 500ms) before answering;
//	            the wait ends early, with no answer, when the call's
//	            context ends
//	ct=T        send Content-Type T instead of the scenario's
//	size=N      the body size of HugeSuccess and HugeError
//	of=A        the scenario whose body SlowBody, Drop and ShortBody send
//	interval=D  the pause between the bytes of SlowBody
//
// Calls to any other path are answered 404 with a plain-text body, and an
// Action that names no scenario 400 with a plain-text body, so that a test
// notices a call that went astray.
//
// A fake started with NewVerifying also checks each call's signature v1
// as the API does, before choosing its answer: the key is looked up by
// SecretId, the signature verified over the Host header the fake itself
// received and the path /v2/index.php, and the Timestamp must be within 2
// hours of the fake's clock. A call that fails is answered as the API
// answers it: the AuthFailure scenario (4100), or code 4500 for a
// Timestamp out of the window.
package fakeapi

import (
	"bytes"
	"compress/gzip"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cdnproxy/cdnproxy/internal/apicall"
	"github.com/cdnproxy/cdnproxy/proxy/signature"
)

// Path is the one path of API 2.0.
const Path = "/v2/index.php"

// Server is a running fake API. Its methods are safe for concurrent use.
type Server struct {
	// URL is the server's base URL, such as http://127.0.0.1:41234, to
	// configure as the upstream.
	URL string

	cfg     Config
	srv     *httptest.Server
	arrived chan Request

	mu       sync.Mutex
	requests int
	canceled int
	last     Request
}

// Request is what the fake saw of one call.
type Request struct {
	Method string
	// Host is the Host header as received.
	Host string
	// Path is the request's path.
	Path string
	// Header is the request's header.
	Header http.Header
	// RawParams is the parameter string as sent: the query of a GET, the
	// body of a POST.
	RawParams string
	// Params are the parameters as the API reads them: from the query of
	// a GET, from the form body (urlencoded or multipart) of a POST.
	Params url.Values
	// RawQuery is the request's raw query, for any method.
	RawQuery string
	// ContentLength is the request's declared body length, -1 unknown.
	ContentLength int64
	// Verified reports whether the call's signature checked out; always
	// false for a fake started with New, which checks none.
	Verified bool
}

// Config is what a verifying fake accepts.
type Config struct {
	// Keys maps each SecretId the fake accepts to its secret key.
	Keys map[string]string
	// Now is the fake's clock for the Timestamp window; nil means
	// time.Now.
	Now func() time.Time
}

// New starts a fake API that checks no signature. It is closed when the
// test ends.
func New(tb testing.TB) *Server {
	tb.Helper()
	return start(tb, Config{})
}

// NewVerifying starts a fake API that answers only calls signed with one
// of cfg.Keys (see the package documentation). It is closed when the
// test ends.
func NewVerifying(tb testing.TB, cfg Config) *Server {
	tb.Helper()
	if cfg.Keys == nil {
		cfg.Keys = map[string]string{}
	}
	return start(tb, cfg)
}

// start starts a fake with cfg; nil Keys check no signature.
func start(tb testing.TB, cfg Config) *Server {
	s := &Server{cfg: cfg, arrived: make(chan Request, 256)}
	s.srv = httptest.NewServer(http.HandlerFunc(s.serve))
	s.URL = s.srv.URL
	tb.Cleanup(s.Close)
	return s
}

// Close shuts the server down and waits until every call it was answering
// has ended. It may be called more than once.
func (s *Server) Close() { s.srv.Close() }

// Requests returns the number of calls received so far, on any path.
func (s *Server) Requests() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.requests
}

// Last returns the most recent call received, and false when there was
// none.
func (s *Server) Last() (Request, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.last, s.requests > 0
}

// Arrived returns a channel that receives each call as it arrives, before
// it is answered (up to 256 calls not yet taken; later ones are not sent).
func (s *Server) Arrived() <-chan Request { return s.arrived }

// Canceled returns the number of calls whose context ended while the fake
// was still answering them: the caller hung up or timed out.
func (s *Server) Canceled() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.canceled
}

// serve answers one call.
func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	req, refusal, err := s.read(w, r)
	s.record(req)
	switch {
	case err != nil:
		http.Error(w, "fakeapi: "+err.Error(), http.StatusRequestEntityTooLarge)
		return
	case r.URL.Path != Path:
		http.Error(w, "fakeapi: "+r.URL.Path+" is not "+Path, http.StatusNotFound)
		return
	case refusal != nil:
		write(w, r, http.StatusOK, jsonType, bytes.NewReader(refusal), int64(len(refusal)))
		return
	}
	hijacked := false
	defer func() {
		if !hijacked && r.Context().Err() != nil {
			s.mu.Lock()
			s.canceled++
			s.mu.Unlock()
		}
	}()
	p := req.Params
	if d, _ := time.ParseDuration(p.Get("delay")); d > 0 && !sleep(r.Context(), d) {
		return
	}
	action := p.Get("Action")
	switch action {
	case HugeSuccess, HugeError:
		size, _ := strconv.ParseInt(p.Get("size"), 10, 64)
		body, n := Generated(action, size)
		write(w, r, http.StatusOK, contentType(p, jsonType), body, n)
	case WrongEncoding:
		sc, _ := Lookup(NoSuchHost)
		w.Header().Set("Content-Encoding", "gzip")
		w.Header().Set("Content-Type", contentType(p, sc.ContentType))
		w.Header().Set("Content-Length", strconv.Itoa(len(sc.Body)))
		w.WriteHeader(sc.Status)
		_, _ = w.Write(sc.Body)
	case SlowBody:
		sc := of(p, NoSuchHost)
		interval, err := time.ParseDuration(p.Get("interval"))
		if err != nil || interval <= 0 {
			interval = time.Millisecond
		}
		w.Header().Set("Content-Type", contentType(p, sc.ContentType))
		w.Header().Set("Content-Length", strconv.Itoa(len(sc.Body)))
		w.WriteHeader(sc.Status)
		rc := http.NewResponseController(w)
		for i := range sc.Body {
			if i > 0 && !sleep(r.Context(), interval) {
				return
			}
			if _, err := w.Write(sc.Body[i : i+1]); err != nil {
				return
			}
			_ = rc.Flush()
		}
	case Drop:
		sc := of(p, DescribeCdnHosts)
		conn, bufrw, err := http.NewResponseController(w).Hijack()
		if err != nil {
			panic("fakeapi: cannot take over the connection: " + err.Error())
		}
		hijacked = true
		defer conn.Close()
		fmt.Fprintf(bufrw, "HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %d\r\n\r\n",
			sc.Status, http.StatusText(sc.Status), contentType(p, sc.ContentType), len(sc.Body))
		_, _ = bufrw.Write(sc.Body[:len(sc.Body)/2])
		_ = bufrw.Flush()
	case ShortBody:
		sc := of(p, DescribeCdnHosts)
		w.Header().Set("Content-Type", contentType(p, sc.ContentType))
		w.Header().Set("Content-Length", strconv.Itoa(len(sc.Body)+100))
		w.WriteHeader(sc.Status)
		_, _ = w.Write(sc.Body)
	case NoContent:
		w.WriteHeader(http.StatusNoContent)
	default:
		sc, ok := Lookup(action)
		if !ok {
			http.Error(w, fmt.Sprintf("fakeapi: no scenario for Action=%q", action), http.StatusBadRequest)
			return
		}
		if !sc.JSON() {
			w.Header().Set("Content-Type", contentType(p, sc.ContentType))
			w.Header().Set("Content-Length", strconv.Itoa(len(sc.Body)))
			w.WriteHeader(sc.Status)
			_, _ = w.Write(sc.Body)
			return
		}
		write(w, r, sc.Status, contentType(p, sc.ContentType), bytes.NewReader(sc.Body), int64(len(sc.Body)))
	}
}

// maxBody is the largest body the fake reads: above the API's limit, so
// that a test sees what a proxy forwards.
const maxBody = 4 << 20

// read reads what a call carries and, for a verifying fake, checks its
// signature: refusal is then the body of the API's refusal, or nil.
func (s *Server) read(w http.ResponseWriter, r *http.Request) (req Request, refusal []byte, err error) {
	req = Request{Method: r.Method, Host: r.Host, Path: r.URL.Path, Header: r.Header.Clone(),
		RawParams: r.URL.RawQuery, RawQuery: r.URL.RawQuery, ContentLength: r.ContentLength}
	call, err := apicall.Read(w, r, maxBody)
	if r.Method == http.MethodPost {
		req.RawParams = string(call.Body)
	}
	req.Params, _ = url.ParseQuery(call.Params)
	if err != nil || s.cfg.Keys == nil {
		return req, nil, err
	}
	req.Verified, refusal = s.verify(r, call.Params)
	return req, refusal, nil
}

// verify checks a call's signature v1 and Timestamp, and returns whether
// they passed or else the body of the API's refusal.
func (s *Server) verify(r *http.Request, raw string) (bool, []byte) {
	sc, _ := Lookup(AuthFailure)
	p, err := signature.Parse(raw)
	if err != nil {
		return false, sc.Body
	}
	id, _ := p.Get("SecretId")
	key, ok := s.cfg.Keys[id]
	if !ok || !signature.NewKey(key).Verify(r.Method, r.Host, Path, p) {
		return false, sc.Body
	}
	now := time.Now()
	if s.cfg.Now != nil {
		now = s.cfg.Now()
	}
	ts, _ := p.Get("Timestamp")
	if err := apicall.CheckTimestamp(ts, now, apicall.WindowV2); err != nil {
		return false, replayBody(now)
	}
	return true, nil
}

// record counts a call and keeps what it carried.
func (s *Server) record(req Request) {
	if req.Params == nil {
		req.Params = url.Values{}
	}
	s.mu.Lock()
	s.requests++
	s.last = req
	s.mu.Unlock()
	select {
	case s.arrived <- req:
	default:
	}
}

// write sends a JSON answer of n bytes from body, gzip-compressed when the
// call accepts gzip.
func write(w http.ResponseWriter, r *http.Request, status int, ct string, body io.Reader, n int64) {
	h := w.Header()
	h.Set("Content-Type", ct)
	if !acceptsGzip(r.Header) {
		h.Set("Content-Length", strconv.FormatInt(n, 10))
		w.WriteHeader(status)
		_, _ = io.Copy(w, body)
		return
	}
	h.Set("Content-Encoding", "gzip")
	h.Set("Vary", "Accept-Encoding")
	w.WriteHeader(status)
	zw := gzip.NewWriter(w)
	if _, err := io.Copy(zw, body); err == nil {
		_ = zw.Close()
	}
}

// of returns the fixed scenario named by the of= parameter, or def.
func of(p url.Values, def string) Scenario {
	if sc, ok := Lookup(p.Get("of")); ok {
		return sc
	}
	sc, _ := Lookup(def)
	return sc
}

// contentType returns the ct= parameter, or def.
func contentType(p url.Values, def string) string {
	if ct := p.Get("ct"); ct != "" {
		return ct
	}
	return def
}

// acceptsGzip reports whether an Accept-Encoding header admits gzip.
func acceptsGzip(h http.Header) bool {
	for _, v := range h.Values("Accept-Encoding") {
		for _, part := range strings.Split(v, ",") {
			coding, params, _ := strings.Cut(part, ";")
			if !strings.EqualFold(strings.TrimSpace(coding), "gzip") {
				continue
			}
			q := strings.ReplaceAll(params, " ", "")
			if q == "q=0" || q == "q=0.0" || q == "q=0.00" || q == "q=0.000" {
				return false
			}
			return true
		}
	}
	return false
}

// sleep waits for d, or until ctx ends; it reports whether d passed.
func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}
