package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cdnproxy/cdnproxy/codes"
	"github.com/cdnproxy/cdnproxy/internal/logbuf"
)

// Polling bounds: how often and how many times a test asks before it
// gives up. They bound waiting; no test asserts how long anything took.
const (
	pollTries = 500
	pollPause = 10 * time.Millisecond
	// runExit bounds the wait for run to return after its context ends.
	runExit = 20 * time.Second
)

// The fake API's answers. The error is the one in the annotate package's
// documentation: public code 4000 carrying module code 9112.
const (
	onlineHostError = `{"code":4000,"message":"(9112)操作域名需要为【开启中】状态，请确认后重试","codeDesc":"InvalidParameter"}`
	apiSuccess      = `{"code":0,"message":"","codeDesc":"Success","data":{"hosts":[]}}`
)

// freeAddr returns a 127.0.0.1 address with a port that was free a moment
// ago.
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("finding a free port: %v", err)
	}
	addr := ln.Addr().String()
	if err := ln.Close(); err != nil {
		t.Fatal(err)
	}
	return addr
}

// fakeAPI answers like API 2.0: OnlineHost fails with module code 9112,
// Hold waits for release (after telling arrived), every other Action
// succeeds.
type fakeAPI struct {
	arrived chan struct{} // receives once per Hold call
	release chan struct{} // closed to let Hold calls answer
	once    sync.Once
}

// newFakeAPI starts a fakeAPI, closed when the test ends.
func newFakeAPI(t *testing.T) (*httptest.Server, *fakeAPI) {
	t.Helper()
	api := &fakeAPI{arrived: make(chan struct{}, 1), release: make(chan struct{})}
	srv := httptest.NewServer(api)
	t.Cleanup(srv.Close)
	t.Cleanup(api.releaseAll) // runs before srv.Close, which waits for handlers
	return srv, api
}

func (a *fakeAPI) releaseAll() { a.once.Do(func() { close(a.release) }) }

func (a *fakeAPI) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path != "/v2/index.php" {
		http.NotFound(w, r)
		return
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	switch r.FormValue("Action") {
	case "OnlineHost":
		io.WriteString(w, onlineHostError)
	case "Hold":
		select {
		case a.arrived <- struct{}{}:
		default:
		}
		select {
		case <-a.release:
		case <-r.Context().Done():
			return
		}
		io.WriteString(w, apiSuccess)
	default:
		io.WriteString(w, apiSuccess)
	}
}

// instance is cdnproxy started by run, in-process.
type instance struct {
	api, admin string // host:port of the two listeners
	environ    []string
	stdout     *logbuf.Buffer
	stderr     *logbuf.Buffer
	cancel     context.CancelFunc
	done       chan error
}

// start runs cdnproxy on free ports with environ added to the variables
// that place it, and returns once its /healthz answers 200. It is stopped
// when the test ends, if the test did not stop it.
func start(t *testing.T, upstream string, environ ...string) *instance {
	t.Helper()
	in := &instance{
		api:    freeAddr(t),
		admin:  freeAddr(t),
		stdout: &logbuf.Buffer{},
		stderr: &logbuf.Buffer{},
		done:   make(chan error, 1),
	}
	in.environ = append([]string{
		"CDNPROXY_LISTEN_ADDR=" + in.api,
		"CDNPROXY_ADMIN_ADDR=" + in.admin,
		"CDNPROXY_UPSTREAM_URL=" + upstream,
	}, environ...)
	ctx, cancel := context.WithCancel(context.Background())
	in.cancel = cancel
	go func() { in.done <- run(ctx, nil, in.environ, strings.NewReader(""), in.stdout, in.stderr) }()
	t.Cleanup(func() {
		cancel()
		select {
		case <-in.done:
		case <-time.After(runExit):
			t.Errorf("run did not return within %s of its context ending", runExit)
		}
	})

	for try := 0; ; try++ {
		select {
		case err := <-in.done:
			in.done <- err // for the cleanup
			t.Fatalf("run returned before it was healthy: %v\nstdout:\n%s", err, in.stdout)
		default:
		}
		if status, _, err := get(t, "http://"+in.admin+"/healthz"); err == nil && status == http.StatusOK {
			return in
		}
		if try == pollTries {
			t.Fatalf("/healthz did not answer 200 after %d tries\nstdout:\n%s", pollTries, in.stdout)
		}
		time.Sleep(pollPause)
	}
}

// stop ends run's context, as SIGTERM does, and returns what run returned.
func (in *instance) stop(t *testing.T) error {
	t.Helper()
	in.cancel()
	select {
	case err := <-in.done:
		in.done <- err // for the cleanup
		return err
	case <-time.After(runExit):
		t.Fatalf("run did not return within %s of its context ending", runExit)
		return nil
	}
}

// client is the HTTP client of the tests: no connection reuse, so that
// each call sees the listeners as they are now.
var client = &http.Client{Transport: &http.Transport{DisableKeepAlives: true}, Timeout: 30 * time.Second}

// get fetches a URL and returns its status and body.
func get(t *testing.T, url string) (int, []byte, error) {
	t.Helper()
	resp, err := client.Get(url)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	return resp.StatusCode, body, err
}

// call sends an API call through the proxy.
func call(t *testing.T, in *instance, action string) (*http.Response, []byte) {
	t.Helper()
	q := url.Values{"Action": {action}, "SecretId": {"AKIDexample0000000000000000"}, "Nonce": {"1"}, "Timestamp": {"1700000000"}, "Signature": {"x"}}
	resp, err := client.Get("http://" + in.api + "/v2/index.php?" + q.Encode())
	if err != nil {
		t.Fatalf("calling %s through the proxy: %v", action, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("reading the answer to %s: %v", action, err)
	}
	return resp, body
}

// logLines returns the JSON log lines written so far.
func logLines(t *testing.T, out *logbuf.Buffer) []map[string]any {
	t.Helper()
	lines, err := out.Lines()
	if err != nil {
		t.Fatalf("stdout: %v", err)
	}
	return lines
}

// waitForLog polls stdout for a log line that match accepts.
func waitForLog(t *testing.T, out *logbuf.Buffer, what string, match func(map[string]any) bool) map[string]any {
	t.Helper()
	for try := 0; try <= pollTries; try++ {
		for _, line := range logLines(t, out) {
			if match(line) {
				return line
			}
		}
		time.Sleep(pollPause)
	}
	t.Fatalf("no log line %s after %d tries; stdout:\n%s", what, pollTries, out)
	return nil
}

func TestRun(t *testing.T) {
	upstream, _ := newFakeAPI(t)
	in := start(t, upstream.URL)

	t.Run("started log line", func(t *testing.T) {
		line := waitForLog(t, in.stdout, `"cdnproxy started"`, func(l map[string]any) bool { return l["msg"] == "cdnproxy started" })
		if got, want := line["listen"], in.api; got != want {
			t.Errorf("listen = %v, want %v", got, want)
		}
		if got, want := line["admin"], in.admin; got != want {
			t.Errorf("admin = %v, want %v", got, want)
		}
	})

	t.Run("readyz", func(t *testing.T) {
		status, body, err := get(t, "http://"+in.admin+"/readyz")
		if err != nil || status != http.StatusOK {
			t.Errorf("/readyz = %d %q, %v; want 200", status, body, err)
		}
	})

	t.Run("error body annotated", func(t *testing.T) {
		resp, body := call(t, in, "OnlineHost")
		if resp.StatusCode != http.StatusOK {
			t.Errorf("status = %d, want 200 (the API's own status)", resp.StatusCode)
		}
		var got struct {
			Code        *int    `json:"code"`
			Message     string  `json:"message"`
			CodeDesc    string  `json:"codeDesc"`
			Category    string  `json:"category"`
			Retryable   *bool   `json:"retryable"`
			Description string  `json:"description"`
			ModuleCode  *int    `json:"moduleCode"`
			Extra       *string `json:"extra"`
		}
		if err := json.Unmarshal(body, &got); err != nil {
			t.Fatalf("body is not JSON: %v\n%s", err, body)
		}
		entry, ok := codes.Module(9112)
		if !ok {
			t.Fatal("codes.Module(9112) is missing from the catalogue")
		}
		if got.Code == nil || *got.Code != 4000 || got.CodeDesc != "InvalidParameter" || !strings.HasPrefix(got.Message, "(9112)") {
			t.Errorf("the upstream's members changed:\n%s", body)
		}
		if got.ModuleCode == nil || *got.ModuleCode != 9112 {
			t.Errorf("moduleCode missing or wrong:\n%s", body)
		}
		if got.Category != string(entry.Category) || got.Retryable == nil || *got.Retryable != entry.Retryable || got.Description != entry.Description {
			t.Errorf("annotation = category %q, retryable %v, description %q; want the catalogue's %q, %v, %q",
				got.Category, got.Retryable, got.Description, entry.Category, entry.Retryable, entry.Description)
		}
		if !bytes.HasPrefix(body, []byte(strings.TrimSuffix(onlineHostError, "}"))) {
			t.Errorf("the upstream's bytes must come first, unchanged:\n%s", body)
		}

		id := resp.Header.Get("X-Request-Id")
		if id == "" {
			t.Fatal("no X-Request-Id header")
		}
		line := waitForLog(t, in.stdout, "for request "+id, func(l map[string]any) bool { return l["requestId"] == id })
		for key, want := range map[string]any{
			"level":      "WARN",
			"msg":        "call failed",
			"action":     "OnlineHost",
			"method":     "GET",
			"code":       "4000",
			"moduleCode": float64(9112),
			"codeDesc":   "InvalidParameter",
			"category":   string(entry.Category),
			"status":     float64(200),
		} {
			if got := line[key]; got != want {
				t.Errorf("log line %s = %#v, want %#v", key, got, want)
			}
		}
		if secret, _ := line["secretId"].(string); strings.Contains(secret, "AKIDexample0000000000000000") {
			t.Errorf("log line holds the whole SecretId: %q", secret)
		}
	})

	t.Run("success body untouched", func(t *testing.T) {
		resp, body := call(t, in, "DescribeCdnHosts")
		if resp.StatusCode != http.StatusOK || string(body) != apiSuccess {
			t.Errorf("answer = %d %s, want 200 %s", resp.StatusCode, body, apiSuccess)
		}
	})

	t.Run("healthcheck subcommand", func(t *testing.T) {
		var stdout, stderr bytes.Buffer
		if err := run(context.Background(), []string{"healthcheck"}, in.environ, strings.NewReader(""), &stdout, &stderr); err != nil {
			t.Errorf("healthcheck against the running instance: %v", err)
		}
	})

	if err := in.stop(t); err != nil {
		t.Fatalf("run returned %v after its context ended, want nil", err)
	}
	waitForLog(t, in.stdout, `"cdnproxy stopped"`, func(l map[string]any) bool { return l["msg"] == "cdnproxy stopped" })
	if _, _, err := get(t, "http://"+in.admin+"/healthz"); err == nil {
		t.Error("the admin listener still answers after run returned")
	}
}

// TestRunDrains cancels run's context while a call is in flight: the call
// still completes, /readyz turns away new traffic meanwhile, and run then
// returns nil.
func TestRunDrains(t *testing.T) {
	upstream, api := newFakeAPI(t)
	in := start(t, upstream.URL)

	type answer struct {
		status int
		body   []byte
		err    error
	}
	answered := make(chan answer, 1)
	go func() {
		resp, err := client.Get("http://" + in.api + "/v2/index.php?Action=Hold")
		if err != nil {
			answered <- answer{err: err}
			return
		}
		defer resp.Body.Close()
		body, err := io.ReadAll(resp.Body)
		answered <- answer{resp.StatusCode, body, err}
	}()
	select {
	case <-api.arrived:
	case a := <-answered:
		t.Fatalf("the call ended before it reached the upstream: %d %s %v", a.status, a.body, a.err)
	}

	stopped := make(chan error, 1)
	go func() { stopped <- in.stop(t) }()

	// While the call is held, the proxy drains: /readyz must stop
	// answering 200 (503 while the admin listener is still up).
	for try := 0; ; try++ {
		status, _, err := get(t, "http://"+in.admin+"/readyz")
		if err != nil || status != http.StatusOK {
			break
		}
		if try == pollTries {
			t.Fatalf("/readyz still answers 200 after %d tries since the context ended", pollTries)
		}
		time.Sleep(pollPause)
	}

	// The upstream holds the call a little longer (run must keep
	// waiting), then answers.
	time.Sleep(300 * time.Millisecond)
	select {
	case err := <-stopped:
		t.Fatalf("run returned (%v) while a call was in flight", err)
	default:
	}
	api.releaseAll()
	a := <-answered
	if a.err != nil || a.status != http.StatusOK || string(a.body) != apiSuccess {
		t.Errorf("the call in flight got %d %s (%v), want 200 %s", a.status, a.body, a.err, apiSuccess)
	}
	if err := <-stopped; err != nil {
		t.Errorf("run returned %v after draining, want nil", err)
	}
	if status, _, err := get(t, "http://"+in.admin+"/readyz"); err == nil && status == http.StatusOK {
		t.Error("/readyz answers 200 after run returned")
	}
}

// TestRunBadConfig checks that a bad configuration stops run before it
// listens or logs anything, with an error naming the variable.
func TestRunBadConfig(t *testing.T) {
	for _, tc := range []struct {
		name    string
		environ func(api, admin string) []string
		want    string
	}{
		{"bad log level", func(api, admin string) []string {
			return []string{"CDNPROXY_LISTEN_ADDR=" + api, "CDNPROXY_ADMIN_ADDR=" + admin, "CDNPROXY_LOG_LEVEL=loud"}
		}, "CDNPROXY_LOG_LEVEL"},
		{"ftp upstream", func(api, admin string) []string {
			return []string{"CDNPROXY_LISTEN_ADDR=" + api, "CDNPROXY_ADMIN_ADDR=" + admin, "CDNPROXY_UPSTREAM_URL=ftp://cdn.api.qcloud.com"}
		}, "CDNPROXY_UPSTREAM_URL"},
		{"admin addr equal to listen addr", func(api, _ string) []string {
			return []string{"CDNPROXY_LISTEN_ADDR=" + api, "CDNPROXY_ADMIN_ADDR=" + api}
		}, "CDNPROXY_ADMIN_ADDR"},
		{"timeout not a duration", func(api, admin string) []string {
			return []string{"CDNPROXY_LISTEN_ADDR=" + api, "CDNPROXY_ADMIN_ADDR=" + admin, "CDNPROXY_SHUTDOWN_TIMEOUT=soon"}
		}, "CDNPROXY_SHUTDOWN_TIMEOUT"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			api, admin := freeAddr(t), freeAddr(t)
			var stdout, stderr logbuf.Buffer
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			done := make(chan error, 1)
			go func() { done <- run(ctx, nil, tc.environ(api, admin), strings.NewReader(""), &stdout, &stderr) }()
			var err error
			select {
			case err = <-done:
			case <-time.After(runExit):
				cancel()
				<-done
				t.Fatal("run did not return on a bad configuration: it started serving")
			}
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("run = %v, want an error naming %s", err, tc.want)
			}
			if out := stdout.String(); out != "" {
				t.Errorf("run wrote to stdout before failing:\n%s", out)
			}
			for _, addr := range []string{api, admin} {
				ln, err := net.Listen("tcp", addr)
				if err != nil {
					t.Errorf("%s is held after run failed: %v", addr, err)
					continue
				}
				ln.Close()
			}
		})
	}
}

func TestRunCommands(t *testing.T) {
	closed := freeAddr(t)
	for _, tc := range []struct {
		name    string
		args    []string
		environ []string
		want    string // in the error
	}{
		{"unknown command", []string{"serve"}, nil, `"serve"`},
		{"unknown flag", []string{"--verbose"}, nil, `"--verbose"`}, // --help is help now (TestHelp)
		{"healthcheck against a closed port", []string{"healthcheck"}, []string{"CDNPROXY_ADMIN_ADDR=" + closed}, "healthcheck"},
		{"healthcheck with a bad configuration", []string{"healthcheck"}, []string{"CDNPROXY_ADMIN_ADDR=nowhere"}, "CDNPROXY_ADMIN_ADDR"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			err := run(context.Background(), tc.args, tc.environ, strings.NewReader(""), &stdout, &stderr)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("run(%q) = %v, want an error containing %s", tc.args, err, tc.want)
			}
		})
	}
}

// TestHealthcheckStatus checks that healthcheck fails unless /healthz
// answers 200.
func TestHealthcheckStatus(t *testing.T) {
	for _, tc := range []struct {
		status int
		ok     bool
	}{
		{http.StatusOK, true},
		{http.StatusServiceUnavailable, false},
		{http.StatusNotFound, false},
	} {
		t.Run(fmt.Sprint(tc.status), func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if r.URL.Path != "/healthz" {
					http.NotFound(w, r)
					return
				}
				w.WriteHeader(tc.status)
			}))
			defer srv.Close()
			environ := []string{"CDNPROXY_ADMIN_ADDR=" + srv.Listener.Addr().String()}
			err := run(context.Background(), []string{"healthcheck"}, environ, strings.NewReader(""), io.Discard, io.Discard)
			if (err == nil) != tc.ok {
				t.Errorf("healthcheck with /healthz %d = %v, want ok %v", tc.status, err, tc.ok)
			}
		})
	}
}
