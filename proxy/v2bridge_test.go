package proxy_test

import (
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/cdnproxy/cdnproxy/internal/fakeapi3"
	"github.com/cdnproxy/cdnproxy/internal/logbuf"
	"github.com/cdnproxy/cdnproxy/proxy"
	"github.com/cdnproxy/cdnproxy/proxy/bridge"
	"github.com/cdnproxy/cdnproxy/proxy/signature"
)

// The credentials of the bridge tests: the upstream's, which only the
// proxy holds, and one issued to a client.
const (
	brUpstreamID  = "AKIDbridgeUPSTREAM00000001"
	brUpstreamKey = "bridgeUpstreamKey0000000000000001"
	brClientID    = "AKIDbridgeCLIENT000000000002"
	brClientKey   = "bridgeClientKey00000000000000002"
)

// brSetup is a bridging proxy in front of a strict fake API 3.0.
type brSetup struct {
	fake    *fakeapi3.Server
	proxy   *proxy.Proxy
	logs    *logbuf.Buffer
	reg     *prometheus.Registry
	nonce   atomic.Int64
	legacy  *url.URL // an API 2.0 upstream that must never be called
	retired *atomic.Int64
}

func newBridgeSetup(t *testing.T, fake *fakeapi3.Server, mode proxy.SigningMode, options ...func(*proxy.Config)) *brSetup {
	t.Helper()
	if fake == nil {
		fake = fakeapi3.New(t, fakeapi3.Config{Keys: map[string]string{brUpstreamID: brUpstreamKey}, Strict: true})
	}
	var retired atomic.Int64
	old := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		retired.Add(1)
		http.Error(w, "retired", http.StatusNotFound)
	}))
	t.Cleanup(old.Close)
	s := &brSetup{fake: fake, logs: &logbuf.Buffer{}, reg: prometheus.NewRegistry(), retired: &retired}
	s.legacy, _ = url.Parse(old.URL)
	v3, _ := url.Parse(fake.URL)
	cfg := proxy.Config{
		Upstream:   s.legacy,
		UpstreamV3: v3,
		Timeout:    2 * time.Second,
		BridgeV2:   true,
		Signing: proxy.Signing{Mode: mode, SecretID: brUpstreamID, SecretKey: brUpstreamKey,
			ClientKeys: map[string]string{brClientID: brClientKey}},
		Logger:  slog.New(slog.NewJSONHandler(s.logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
		Metrics: proxy.NewMetrics(s.reg),
	}
	for _, o := range options {
		o(&cfg)
	}
	p, err := proxy.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	s.proxy = p
	return s
}

// signed returns a GET of a 2.0 call signed by a client with id and key
// for the proxy's host, as a legacy client pointed at the proxy signs it.
func (s *brSetup) signed(id, key string, params ...string) *http.Request {
	ps := signature.Params{}
	for i := 0; i+1 < len(params); i += 2 {
		ps = append(ps, signature.Param{Name: params[i], Value: params[i+1]})
	}
	ps = append(ps,
		signature.Param{Name: "SecretId", Value: id},
		signature.Param{Name: "Nonce", Value: strconv.FormatInt(1000+s.nonce.Add(1), 10)},
		signature.Param{Name: "Timestamp", Value: strconv.FormatInt(time.Now().Unix(), 10)},
	)
	ps = append(ps, signature.Param{Name: "Signature", Value: signature.NewKey(key).Sign(http.MethodGet, "proxy.example", "/v2/index.php", ps)})
	r := httptest.NewRequest(http.MethodGet, "http://proxy.example/v2/index.php?"+ps.Encode(), nil)
	return r
}

// do serves r and decodes the 2.0 answer.
func (s *brSetup) do(t *testing.T, r *http.Request) (map[string]any, *http.Response) {
	t.Helper()
	rec := httptest.NewRecorder()
	s.proxy.ServeHTTP(rec, r)
	resp := rec.Result()
	body, _ := io.ReadAll(resp.Body)
	var m map[string]any
	if err := json.Unmarshal(body, &m); err != nil {
		t.Fatalf("answer is not JSON: %v\n%s", err, body)
	}
	if _, ok := m["code"].(float64); !ok {
		t.Fatalf("answer has no numeric code: %s", body)
	}
	return m, resp
}

// TestBridgeActions drives the bridged actions a legacy client relies on
// through the proxy to a strict fake API 3.0 that checks each call's TC3
// signature (made with the upstream key, for the upstream's host) and its
// parameters, and checks the 3.0 call made and the 2.0 answer.
func TestBridgeActions(t *testing.T) {
	s := newBridgeSetup(t, nil, proxy.Resign)
	domain := fakeapi3.DefaultDomain().Domain
	tests := []struct {
		name     string
		params   []string
		v3       string // the 3.0 action called last
		wantData []string
	}{
		{"purge", []string{"Action", "RefreshCdnUrl", "urls.0", "http://" + domain + "/a.png"}, "PurgeUrlsCache", []string{"count", "task_id"}},
		{"purge dirs", []string{"Action", "RefreshCdnDir", "dirs.0", "http://" + domain + "/img/", "type", "2"}, "PurgePathCache", []string{"count", "task_id"}},
		{"prefetch", []string{"Action", "CdnUrlPusher", "urls.0", "http://" + domain + "/a.png"}, "PushUrlsCache", nil},
		{"purge quota", []string{"Action", "GetFlushQuota"}, "DescribePurgeQuota", nil},
		{"list hosts", []string{"Action", "DescribeCdnHosts"}, "DescribeDomainsConfig", []string{"hosts", "total"}},
		{"host by name", []string{"Action", "GetHostInfoByHost", "hosts.0", domain}, "DescribeDomainsConfig", []string{"hosts"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := len(s.fake.Calls())
			m, resp := s.do(t, s.signed(brClientID, brClientKey, tt.params...))
			if m["code"] != float64(0) {
				t.Fatalf("answer = %v, want code 0", m)
			}
			if got := resp.Header.Get("X-Request-Id"); got == "" {
				t.Error("no X-Request-Id on the answer")
			}
			calls := s.fake.Calls()[before:]
			if len(calls) == 0 {
				t.Fatal("the fake API 3.0 saw no call")
			}
			last := calls[len(calls)-1]
			if last.Action != tt.v3 || last.Version != "2018-06-06" || last.Signing != "TC3" || last.SecretID != brUpstreamID || last.Host != s.fake.Host {
				t.Errorf("3.0 call = %s %s %s by %s for %s; want %s 2018-06-06 TC3 by the upstream key for %s",
					last.Action, last.Version, last.Signing, last.SecretID, last.Host, tt.v3, s.fake.Host)
			}
			data, _ := m["data"].(map[string]any)
			for _, k := range tt.wantData {
				if _, ok := data[k]; !ok {
					t.Errorf("answer's data has no %q: %v", k, m)
				}
			}
		})
	}
	if n := s.retired.Load(); n != 0 {
		t.Errorf("the retired 2.0 upstream was called %d times", n)
	}
	var line map[string]any
	for l := range strings.Lines(s.logs.String()) {
		_ = json.Unmarshal([]byte(l), &line)
	}
	if line["api"] != "2.0-bridge" || line["action"] != "GetHostInfoByHost" || line["successor"] != "DescribeDomainsConfig" || line["upstreamRequestId"] == "" {
		t.Errorf("log line = %v; want api 2.0-bridge with both actions and the 3.0 RequestId", line)
	}
}

// TestBridgeHostIDRoundTrip lists hosts, then uses the numeric id of one
// in GetHostInfoById and OfflineHost/OnlineHost, as a 2.0 client would.
func TestBridgeHostIDRoundTrip(t *testing.T) {
	fake := fakeapi3.New(t, fakeapi3.Config{Keys: map[string]string{brUpstreamID: brUpstreamKey}, Strict: true,
		Domains: fakeapi3.NumberedDomains(130)})
	s := newBridgeSetup(t, fake, proxy.Resign)
	m, _ := s.do(t, s.signed(brClientID, brClientKey, "Action", "DescribeCdnHosts"))
	data, _ := m["data"].(map[string]any)
	hosts, _ := data["hosts"].([]any)
	if len(hosts) != 130 {
		t.Fatalf("DescribeCdnHosts listed %d hosts, want all 130 (3.0 pages by 100)", len(hosts))
	}
	h, _ := hosts[129].(map[string]any)
	id, ok := h["id"].(float64)
	if !ok || id <= 0 {
		t.Fatalf("host without a numeric id: %v", h)
	}
	wantHost := h["host"]
	if bridge.HostID(fakeapi3.NumberedDomains(130)[129].ResourceID) != int64(id) {
		t.Errorf("id %v is not the one derived from the ResourceId", id)
	}
	ids := strconv.FormatInt(int64(id), 10)

	m, _ = s.do(t, s.signed(brClientID, brClientKey, "Action", "GetHostInfoById", "ids.0", ids))
	data, _ = m["data"].(map[string]any)
	got, _ := data["hosts"].([]any)
	if len(got) != 1 || got[0].(map[string]any)["host"] != wantHost {
		t.Fatalf("GetHostInfoById %s = %v, want %v", ids, m, wantHost)
	}
	for _, step := range []struct{ action, status string }{{"OfflineHost", "offline"}, {"OnlineHost", "online"}} {
		m, _ = s.do(t, s.signed(brClientID, brClientKey, "Action", step.action, "hostId", ids))
		if m["code"] != float64(0) {
			t.Fatalf("%s hostId=%s = %v, want code 0", step.action, ids, m)
		}
		if d, _ := fake.Domain(wantHost.(string)); d.Status != step.status {
			t.Errorf("after %s the domain is %q, want %q", step.action, d.Status, step.status)
		}
	}
	// Online again: the API's state error, in 2.0 terms, annotated from
	// the 3.0 catalogue.
	m, _ = s.do(t, s.signed(brClientID, brClientKey, "Action", "OnlineHost", "hostId", ids))
	if m["code"] != float64(4000) || m["v3Code"] != "InvalidParameter.CdnHostInvalidStatus" || m["category"] != "invalid_state" || m["description"] == nil || m["requestId"] == nil {
		t.Errorf("a domain already online: answer = %v; want code 4000, the 3.0 code and RequestId, and the annotation", m)
	}
	// A host the account does not have: the module code 2.0 clients parse.
	m, _ = s.do(t, s.signed(brClientID, brClientKey, "Action", "OnlineHost", "host", "nosuch.example.com"))
	if msg, _ := m["message"].(string); m["code"] != float64(5000) || !strings.HasPrefix(msg, "(9110)") || m["category"] != "not_found" {
		t.Errorf("an unknown host: answer = %v; want code 5000, a (9110) message, not_found", m)
	}
}

// TestBridgeRefusesLocally checks what never reaches the 3.0 upstream: a
// replayed signature, a bad signature, a stale Timestamp, an action the
// bridge does not translate. Nothing is forwarded unsigned or with a
// client's key.
func TestBridgeRefusesLocally(t *testing.T) {
	s := newBridgeSetup(t, nil, proxy.Resign)
	r := s.signed(brClientID, brClientKey, "Action", "RefreshCdnUrl", "urls.0", "http://www.example.com/x")
	again := r.Clone(r.Context())
	if m, _ := s.do(t, r); m["code"] != float64(0) {
		t.Fatalf("first call = %v, want code 0", m)
	}
	calls := len(s.fake.Calls())
	if m, _ := s.do(t, again); m["code"] != float64(4500) || m["category"] != "replayed_request" {
		t.Errorf("replay = %v, want 4500 replayed_request", m)
	}

	bad := s.signed(brClientID, "not-the-key", "Action", "RefreshCdnUrl", "urls.0", "http://www.example.com/x")
	if m, _ := s.do(t, bad); m["code"] != float64(4100) {
		t.Errorf("bad signature = %v, want 4100", m)
	}
	unsigned := httptest.NewRequest(http.MethodGet, "http://proxy.example/v2/index.php?Action=RefreshCdnUrl&urls.0=http%3A%2F%2Fwww.example.com%2Fx", nil)
	if m, _ := s.do(t, unsigned); m["code"] != float64(4100) {
		t.Errorf("unsigned call in resign mode = %v, want 4100", m)
	}
	unknown := s.signed(brClientID, brClientKey, "Action", "GetCdnStatTop")
	m, _ := s.do(t, unknown)
	if m["category"] != "unsupported" || !strings.Contains(fmt.Sprint(m["message"]), "ListTopData") {
		t.Errorf("untranslated action = %v, want category unsupported naming its 3.0 successor", m)
	}
	if got := len(s.fake.Calls()); got != calls {
		t.Errorf("the 3.0 upstream saw %d more calls, want none", got-calls)
	}
	if got := counter(t, s.reg, "cdnproxy_bridge_unsupported_total", "action", "GetCdnStatTop"); got != 1 {
		t.Errorf("cdnproxy_bridge_unsupported_total{action=GetCdnStatTop} = %v, want 1", got)
	}
	for _, c := range s.fake.Calls() {
		if c.SecretID != brUpstreamID || c.Signing != "TC3" {
			t.Errorf("a 3.0 call signed %s by %q, want TC3 by the upstream key", c.Signing, c.SecretID)
		}
	}
}

// TestBridgeBadAnswers points the bridge at 3.0 upstreams that answer
// badly: the client always gets a complete 2.0 error body, never a hang or
// a half-written one.
func TestBridgeBadAnswers(t *testing.T) {
	tests := []struct {
		name     string
		answer   func(w http.ResponseWriter)
		wantCode float64
	}{
		{"invalid JSON", func(w http.ResponseWriter) { _, _ = io.WriteString(w, `{"Response":`) }, 6000},
		{"no Response", func(w http.ResponseWriter) { _, _ = io.WriteString(w, `{"code":0}`) }, 6000},
		{"502 page", func(w http.ResponseWriter) {
			w.Header().Set("Content-Type", "text/html")
			w.WriteHeader(http.StatusBadGateway)
			_, _ = io.WriteString(w, "<html><body>502 Bad Gateway</body></html>")
		}, 6000},
		{"never answers", func(http.ResponseWriter) { time.Sleep(3 * time.Second) }, 6200},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { tt.answer(w) }))
			defer up.Close()
			v3, _ := url.Parse(up.URL)
			p, err := proxy.New(proxy.Config{Upstream: v3, UpstreamV3: v3, Timeout: 300 * time.Millisecond, BridgeV2: true,
				Signing: proxy.Signing{Mode: proxy.Sign, SecretID: brUpstreamID, SecretKey: brUpstreamKey}})
			if err != nil {
				t.Fatal(err)
			}
			s := &brSetup{proxy: p}
			r := httptest.NewRequest(http.MethodGet, "http://proxy.example/v2/index.php?Action=RefreshCdnUrl&urls.0=http%3A%2F%2Fwww.example.com%2Fx", nil)
			m, resp := s.do(t, r)
			if m["code"] != tt.wantCode || m["category"] == nil {
				t.Errorf("answer = %v, want code %v, annotated", m, tt.wantCode)
			}
			if resp.Header.Get("Content-Length") == "" {
				t.Error("the answer has no Content-Length")
			}
		})
	}
}

// TestBridgeConfig checks that a bridge that cannot sign is refused at
// construction.
func TestBridgeConfig(t *testing.T) {
	u, _ := url.Parse("https://cdn.tencentcloudapi.com")
	for _, cfg := range []proxy.Config{
		{Upstream: u, UpstreamV3: u, BridgeV2: true},
		{Upstream: u, BridgeV2: true, Signing: proxy.Signing{Mode: proxy.Resign, SecretID: "a", SecretKey: "b"}},
	} {
		if _, err := proxy.New(cfg); err == nil {
			t.Errorf("New(%+v) accepted a bridge it cannot serve", cfg)
		}
	}
}
