package main

import (
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/cdnproxy/cdnproxy/codes"
	"github.com/cdnproxy/cdnproxy/internal/logbuf"
	"github.com/cdnproxy/cdnproxy/proxy/signature"
)

// Polling bounds of the mock tests: they bound waiting; nothing asserts how
// long anything took.
const (
	mockPollTries = 1000
	mockPollPause = 10 * time.Millisecond
	mockExit      = 20 * time.Second
)

// The mock's default credentials, and the client key the proxy issues in
// the end-to-end test.
const (
	mockDefaultID  = "AKIDmockmockmockmockmockmockmockmock"
	mockDefaultKey = "mockkeymockkeymockkeymockkey"
	mockClientID   = "AKIDclientclientclientclientclient"
	mockClientKey  = "clientkeyclientkeyclientkey"
)

// mockProcess is `cdnproxy` (any command) run in-process by run.
type mockProcess struct {
	stdout, stderr *logbuf.Buffer
	cancel         context.CancelFunc
	done           chan error
}

// mockRun starts run(args, environ) and stops it when the test ends.
func mockRun(t *testing.T, args []string, environ ...string) *mockProcess {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	p := &mockProcess{stdout: &logbuf.Buffer{}, stderr: &logbuf.Buffer{}, cancel: cancel, done: make(chan error, 1)}
	go func() { p.done <- run(ctx, args, environ, strings.NewReader(""), p.stdout, p.stderr) }()
	t.Cleanup(func() {
		cancel()
		select {
		case <-p.done:
		case <-time.After(mockExit):
			t.Errorf("%v did not return within %s of its context ending", args, mockExit)
		}
	})
	return p
}

// wait polls until ready returns true, failing if run returns first.
func (p *mockProcess) wait(t *testing.T, what string, ready func() bool) {
	t.Helper()
	for try := 0; try <= mockPollTries; try++ {
		select {
		case err := <-p.done:
			p.done <- err
			t.Fatalf("run returned before %s: %v\nstdout:\n%s\nstderr:\n%s", what, err, p.stdout, p.stderr)
		default:
		}
		if ready() {
			return
		}
		time.Sleep(mockPollPause)
	}
	t.Fatalf("no %s after %d tries\nstdout:\n%s", what, mockPollTries, p.stdout)
}

// stop ends run's context and returns what run returned.
func (p *mockProcess) stop(t *testing.T) error {
	t.Helper()
	p.cancel()
	select {
	case err := <-p.done:
		p.done <- err // for the cleanup
		return err
	case <-time.After(mockExit):
		t.Fatalf("run did not return within %s of its context ending", mockExit)
		return nil
	}
}

// mockBannerAddr matches the banner's address lines.
var mockBannerAddr = regexp.MustCompile(`(?m)^  (API|admin) +http://([^/\s]+)/`)

// startMock runs `cdnproxy mock` on free ports (port 0) with environ added,
// and returns it with the API and admin addresses its banner printed.
func startMock(t *testing.T, environ ...string) (p *mockProcess, api, admin string) {
	t.Helper()
	environ = append([]string{"CDNPROXY_MOCK_ADDR=127.0.0.1:0", "CDNPROXY_MOCK_ADMIN_ADDR=127.0.0.1:0"}, environ...)
	p = mockRun(t, []string{"mock"}, environ...)
	p.wait(t, "mock banner", func() bool {
		for _, m := range mockBannerAddr.FindAllStringSubmatch(p.stdout.String(), -1) {
			if m[1] == "API" {
				api = m[2]
			} else {
				admin = m[2]
			}
		}
		return api != "" && admin != ""
	})
	p.wait(t, "mock /healthz", func() bool { return mockGet("http://"+admin+"/healthz") == http.StatusOK })
	return p, api, admin
}

// mockHTTP is the tests' HTTP client.
var mockHTTP = &http.Client{Timeout: 30 * time.Second}

// mockGet returns the status of a GET, 0 if it failed.
func mockGet(u string) int {
	resp, err := mockHTTP.Get(u)
	if err != nil {
		return 0
	}
	resp.Body.Close()
	return resp.StatusCode
}

// mockAdmin sends a request to the mock's admin listener and decodes the
// JSON answer.
func mockAdmin(t *testing.T, method, u, body string) map[string]any {
	t.Helper()
	req, err := http.NewRequest(method, u, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	resp, err := mockHTTP.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, u, err)
	}
	defer resp.Body.Close()
	var out map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("%s %s: status %d, %v, %v", method, u, resp.StatusCode, out, err)
	}
	return out
}

// mockClient signs API calls for the proxy's address with a client key.
type mockClient struct {
	t      *testing.T
	addr   string // the proxy's host:port: what the client signs
	nonce  uint64
	method string
}

// mockAnswer is one decoded API answer.
type mockAnswer map[string]any

// call sends action with name, value pairs, a fresh Nonce and the current
// Timestamp.
func (c *mockClient) call(action string, kv ...string) mockAnswer {
	c.t.Helper()
	c.nonce++
	return c.callNonce(c.nonce, action, kv...)
}

// callNonce is call with a chosen Nonce.
func (c *mockClient) callNonce(nonce uint64, action string, kv ...string) mockAnswer {
	c.t.Helper()
	p := signature.Params{
		{Name: "Action", Value: action},
		{Name: "Nonce", Value: strconv.FormatUint(nonce, 10)},
		{Name: "SecretId", Value: mockClientID},
		{Name: "Timestamp", Value: strconv.FormatInt(time.Now().Unix(), 10)},
	}
	for i := 0; i+1 < len(kv); i += 2 {
		p = p.With(kv[i], kv[i+1])
	}
	p = p.With("Signature", signature.NewKey(mockClientKey).Sign(c.method, c.addr, "/v2/index.php", p))
	var resp *http.Response
	var err error
	if c.method == http.MethodPost {
		resp, err = mockHTTP.Post("http://"+c.addr+"/v2/index.php", "application/x-www-form-urlencoded", strings.NewReader(p.Encode()))
	} else {
		resp, err = mockHTTP.Get("http://" + c.addr + "/v2/index.php?" + p.Encode())
	}
	if err != nil {
		c.t.Fatalf("%s through the proxy: %v", action, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		c.t.Fatal(err)
	}
	var a mockAnswer
	if err := json.Unmarshal(raw, &a); err != nil {
		c.t.Fatalf("%s: the answer is not a JSON object (status %d): %s", action, resp.StatusCode, raw)
	}
	if resp.StatusCode != http.StatusOK {
		c.t.Fatalf("%s: status %d: %s", action, resp.StatusCode, raw)
	}
	return a
}

func (a mockAnswer) num(name string) int {
	f, _ := a[name].(float64)
	return int(f)
}

func (a mockAnswer) String() string {
	b, _ := json.Marshal(map[string]any(a))
	return string(b)
}

// check asserts an answer's code and module code and, for an error, that
// the proxy annotated it as the catalogue says: category, retryable,
// description, and moduleCode exactly when there is a module code.
func (a mockAnswer) check(t *testing.T, step string, code, module int) {
	t.Helper()
	if a.num("code") != code {
		t.Errorf("%s: code %d, want %d: %s", step, a.num("code"), code, a)
		return
	}
	msg, _ := a["message"].(string)
	if module != 0 && !strings.HasPrefix(msg, "("+strconv.Itoa(module)+")") {
		t.Errorf("%s: message %q, want module code %d", step, msg, module)
	}
	if code == 0 {
		if _, annotated := a["category"]; annotated {
			t.Errorf("%s: a success was annotated: %s", step, a)
		}
		return
	}
	entry, _ := codes.Public(code)
	if module != 0 {
		entry, _ = codes.Module(module)
	}
	if a["category"] != string(entry.Category) || a["retryable"] != entry.Retryable || a["description"] != entry.Description {
		t.Errorf("%s: annotation %v/%v/%q, want %s/%v/%q", step, a["category"], a["retryable"], a["description"], entry.Category, entry.Retryable, entry.Description)
	}
	mc, has := a["moduleCode"]
	if module != 0 && (!has || int(mc.(float64)) != module) {
		t.Errorf("%s: moduleCode %v, want %d", step, mc, module)
	}
	if module == 0 && has {
		t.Errorf("%s: moduleCode %v on an error without one", step, mc)
	}
}

// TestMockThroughProxy is the end-to-end test: `cdnproxy mock` on free
// ports, the real proxy (run, resign mode) in front of it, and a client
// that signs for the proxy's address with a client key. Every answer must
// arrive, and every error annotated.
func TestMockThroughProxy(t *testing.T) {
	mock, mockAPI, mockAdminAddr := startMock(t, "CDNPROXY_MOCK_FAULTS=action:GetCdnLogList:9175", "CDNPROXY_MOCK_SEED=7")
	for _, want := range []string{"SecretId   " + mockDefaultID, "SecretKey  " + mockDefaultKey,
		"static.offline.example (offline)", "faults     action:GetCdnLogList:9175"} {
		if !strings.Contains(mock.stdout.String(), want) {
			t.Errorf("banner lacks %q:\n%s", want, mock.stdout)
		}
	}
	proxyAddr, proxyAdmin := freeAddr(t), freeAddr(t)
	proxyRun := mockRun(t, nil,
		"CDNPROXY_LISTEN_ADDR="+proxyAddr,
		"CDNPROXY_ADMIN_ADDR="+proxyAdmin,
		"CDNPROXY_UPSTREAM_URL=http://"+mockAPI,
		"CDNPROXY_SIGNING=resign",
		"CDNPROXY_SECRET_ID="+mockDefaultID,
		"CDNPROXY_SECRET_KEY="+mockDefaultKey,
		"CDNPROXY_CLIENT_KEYS="+mockClientID+":"+mockClientKey,
	)
	proxyRun.wait(t, "proxy /healthz", func() bool { return mockGet("http://"+proxyAdmin+"/healthz") == http.StatusOK })
	faults := "http://" + mockAdminAddr + "/faults"
	c := &mockClient{t: t, addr: proxyAddr, method: http.MethodGet}

	t.Run("success passes unannotated", func(t *testing.T) {
		a := c.call("DescribeCdnHosts")
		a.check(t, "DescribeCdnHosts", 0, 0)
		if data, _ := a["data"].(map[string]any); data == nil || data["total"] != float64(3) {
			t.Errorf("DescribeCdnHosts: %s, want the 3 default domains", a)
		}
	})

	t.Run("fault set at start", func(t *testing.T) {
		c.call("GetCdnLogList", "host", "www.example.com").check(t, "GetCdnLogList", 4000, 9175)
		mockAdmin(t, http.MethodDelete, faults, "")
		c.call("GetCdnLogList", "host", "www.example.com").check(t, "GetCdnLogList after DELETE /faults", 0, 0)
	})

	t.Run("domain lifecycle", func(t *testing.T) {
		const host = "e2e.example.com"
		for _, s := range []struct {
			action       string
			kv           []string
			code, module int
		}{
			{"AddCdnHost", []string{"host", host, "origin", "1.1.1.1"}, 0, 0},
			{"AddCdnHost", []string{"host", host, "origin", "1.1.1.1"}, 4000, 9137},
			{"OnlineHost", []string{"host", host}, 4000, 9177},
			{"RefreshCdnUrl", []string{"urls.0", "http://" + host + "/index.html"}, 0, 0},
			{"DeleteCdnHost", []string{"host", host}, 4000, 9315},
			{"OfflineHost", []string{"host", host}, 0, 0},
			{"OfflineHost", []string{"host", host}, 4000, 9176},
			{"RefreshCdnUrl", []string{"urls.0", "http://" + host + "/index.html"}, 4000, 9112},
			{"DeleteCdnHost", []string{"host", host}, 0, 0},
			{"DeleteCdnHost", []string{"host", host}, 4000, 9110},
			{"AddCdnHost", []string{"host", "shop.noicp.example", "origin", "1.1.1.1"}, 4000, 20004},
			{"RefreshCdnUrl", []string{"urls.0", "http://static.offline.example/a.css"}, 4000, 9112},
		} {
			c.call(s.action, s.kv...).check(t, s.action+" "+strings.Join(s.kv, " "), s.code, s.module)
		}
	})

	t.Run("daily limit", func(t *testing.T) {
		c := &mockClient{t: t, addr: proxyAddr, method: http.MethodPost, nonce: 1 << 20}
		dirs := func(n int) []string {
			kv := make([]string, 0, 2*n)
			for i := 0; i < n; i++ {
				kv = append(kv, "dirs."+strconv.Itoa(i), "http://img.example.com/d"+strconv.Itoa(i)+"/")
			}
			return kv
		}
		c.call("RefreshCdnDir", dirs(21)...).check(t, "21 directories in one call", 4000, 22045)
		for i := 0; i < 5; i++ { // 5 × 20 = the day's 100
			c.call("RefreshCdnDir", dirs(20)...).check(t, "20 directories", 0, 0)
		}
		c.call("RefreshCdnDir", dirs(1)...).check(t, "the 101st directory", 4000, 22046)
	})

	t.Run("replay refused", func(t *testing.T) {
		const nonce = 987654321
		c.callNonce(nonce, "DescribeCdnHosts").check(t, "first use of the Nonce", 0, 0)
		a := c.callNonce(nonce, "DescribeCdnHosts")
		a.check(t, "the same Nonce again", 4500, 0)
		if msg, _ := a["message"].(string); !strings.Contains(msg, "腾讯服务器 Timestamp = ") {
			t.Errorf("the 4500 is not the emulator's (its message ends with the server's clock): %s", a)
		}
	})

	t.Run("next calls fail", func(t *testing.T) {
		mockAdmin(t, http.MethodPost, faults, "next:2:9112")
		c.call("DescribeCdnHosts").check(t, "first faulted call", 4000, 9112)
		c.call("DescribeCdnHosts").check(t, "second faulted call", 4000, 9112)
		c.call("DescribeCdnHosts").check(t, "after the rule ran out", 0, 0)
	})

	t.Run("fault rate", func(t *testing.T) {
		mockAdmin(t, http.MethodPost, faults, `{"kind":"rate","rate":0.25,"code":6000}`)
		const calls = 400
		failed := 0
		for i := 0; i < calls; i++ {
			a := c.call("DescribeCdnHosts", "limit", "0")
			if a.num("code") == 0 {
				continue
			}
			failed++
			a.check(t, "a faulted call", 6000, 0)
			if t.Failed() {
				return
			}
		}
		// 0.25 × 400 = 100, standard deviation about 8.7: ±40 is over
		// four of them, and the seed makes the count repeatable anyway.
		if failed < 60 || failed > 140 {
			t.Errorf("%d of %d calls failed, want about 100", failed, calls)
		}
		rules, _ := mockAdmin(t, http.MethodGet, faults, "")["faults"].([]any)
		if len(rules) != 1 || rules[0].(map[string]any)["hits"] != float64(failed) {
			t.Errorf("rules %v, want the rate rule with %d hits", rules, failed)
		}
		mockAdmin(t, http.MethodDelete, faults, "")
	})

	if err := proxyRun.stop(t); err != nil {
		t.Errorf("proxy: %v", err)
	}
	if err := mock.stop(t); err != nil {
		t.Errorf("mock: %v", err)
	}
	if !strings.Contains(mock.stdout.String(), "cdnproxy mock: stopped") {
		t.Errorf("mock did not report stopping:\n%s", mock.stdout)
	}
}

// TestMockConfig checks the defaults and that every bad value is reported
// naming its variable.
func TestMockConfig(t *testing.T) {
	s, err := loadMockConfig(nil)
	if err != nil {
		t.Fatal(err)
	}
	if s.Addr != "127.0.0.1:8081" || s.AdminAddr != "127.0.0.1:9091" || s.SecretID != mockDefaultID || s.SecretKey != mockDefaultKey ||
		len(s.domains) != 3 || s.domains[2].Status.String() != "offline" || len(s.faults) != 0 || s.deployTime != 0 || s.rand != nil {
		t.Errorf("defaults: %+v", s)
	}
	for _, tc := range []struct {
		env, want string
	}{
		{"CDNPROXY_MOCK_ADDR=nowhere", "CDNPROXY_MOCK_ADDR"},
		{"CDNPROXY_MOCK_ADMIN_ADDR=127.0.0.1:8081", "CDNPROXY_MOCK_ADMIN_ADDR"},
		{"CDNPROXY_MOCK_SECRET_ID= ", "CDNPROXY_MOCK_SECRET_ID"},
		{"CDNPROXY_MOCK_SECRET_KEY= ", "CDNPROXY_MOCK_SECRET_KEY"},
		{"CDNPROXY_MOCK_DOMAINS=www.example.com,bad_name", "CDNPROXY_MOCK_DOMAINS"},
		{"CDNPROXY_MOCK_FAULTS=next:0:9112", "CDNPROXY_MOCK_FAULTS"},
		{"CDNPROXY_MOCK_FAULTS=next:1:12345", "CDNPROXY_MOCK_FAULTS"},
		{"CDNPROXY_MOCK_DEPLOY_TIME=soon", "CDNPROXY_MOCK_DEPLOY_TIME"},
		{"CDNPROXY_MOCK_DEPLOY_TIME=-1s", "CDNPROXY_MOCK_DEPLOY_TIME"},
		{"CDNPROXY_MOCK_SEED=-1", "CDNPROXY_MOCK_SEED"},
	} {
		t.Run(tc.env, func(t *testing.T) {
			err := run(context.Background(), []string{"mock"}, []string{tc.env}, strings.NewReader(""), io.Discard, io.Discard)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %v, want one naming %s", err, tc.want)
			}
		})
	}
	t.Run("arguments", func(t *testing.T) {
		err := run(context.Background(), []string{"mock", "--port=1"}, nil, strings.NewReader(""), io.Discard, io.Discard)
		if err == nil || !strings.Contains(err.Error(), "no arguments") {
			t.Errorf("error %v, want one saying mock takes no arguments", err)
		}
	})
	t.Run("address in use", func(t *testing.T) {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer ln.Close()
		err = run(context.Background(), []string{"mock"}, []string{"CDNPROXY_MOCK_ADDR=" + ln.Addr().String(), "CDNPROXY_MOCK_ADMIN_ADDR=127.0.0.1:0"},
			strings.NewReader(""), io.Discard, io.Discard)
		if err == nil || !strings.Contains(err.Error(), "CDNPROXY_MOCK_ADDR") {
			t.Errorf("error %v, want one naming CDNPROXY_MOCK_ADDR", err)
		}
	})
}

// TestMockDirect checks that the emulator answers a client that signs
// for the mock's own address, with no proxy in between: the errors then
// arrive as the API sends them, unannotated.
func TestMockDirect(t *testing.T) {
	_, api, _ := startMock(t, "CDNPROXY_MOCK_SECRET_ID="+mockClientID, "CDNPROXY_MOCK_SECRET_KEY="+mockClientKey)
	c := &mockClient{t: t, addr: api, method: http.MethodPost}
	if a := c.call("DescribeCdnHosts"); a.num("code") != 0 {
		t.Errorf("DescribeCdnHosts: %s", a)
	}
	a := c.call("OnlineHost", "host", "www.example.com")
	if a.num("code") != 4000 || a["codeDesc"] != float64(9177) || a["category"] != nil {
		t.Errorf("OnlineHost of an online domain: %s, want the API's own 9177 body", a)
	}
}
