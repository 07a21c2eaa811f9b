package proxy_test

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/cdnproxy/cdnproxy/proxy"
)

// counter returns the value of a counter series registered with reg:
// name, and label=value when label is not empty.
func counter(t *testing.T, reg *prometheus.Registry, name, label, value string) float64 {
	t.Helper()
	fams, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range fams {
		if f.GetName() != name {
			continue
		}
		for _, m := range f.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == label && l.GetValue() == value {
					return m.GetCounter().GetValue()
				}
			}
			if label == "" {
				return m.GetCounter().GetValue()
			}
		}
	}
	t.Fatalf("no series %s{%s=%q}", name, label, value)
	return 0
}

// TestBudgetResponsePassesThrough: an error body the memory budget has
// no room for is not held: it passes through byte for byte, and a metric
// counts it. One that fits is annotated.
func TestBudgetResponsePassesThrough(t *testing.T) {
	big := []byte(`{"code":4000,"message":"(9110)x","codeDesc":"9110","pad":"` + strings.Repeat("x", 200<<10) + `"}`)
	small := []byte(`{"code":4000,"message":"(9110)x","codeDesc":"9110"}`)
	reg := prometheus.NewRegistry()
	front, _ := handlerRig(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		if r.URL.Query().Get("Action") == "Big" {
			_, _ = w.Write(big)
			return
		}
		_, _ = w.Write(small)
	}, proxy.Config{MemoryBudget: 64 << 10, Metrics: proxy.NewMetrics(reg)})
	for _, tt := range []struct {
		action    string
		body      []byte
		annotated bool
	}{{"Big", big, false}, {"Small", small, true}} {
		req, _ := http.NewRequest(http.MethodGet, front.URL+"/v2/index.php?Action="+tt.action, nil)
		_, got := do(t, req)
		if annotated := bytes.Contains(got, []byte(`"category"`)); annotated != tt.annotated {
			t.Errorf("%s: annotated %v, want %v", tt.action, annotated, tt.annotated)
		}
		if !tt.annotated && !bytes.Equal(got, tt.body) {
			t.Errorf("%s: not passed through byte for byte (%d bytes, want %d)", tt.action, len(got), len(tt.body))
		}
	}
	front.Close() // a call is counted once it has ended, after its answer went out
	if got := counter(t, reg, "cdnproxy_budget_passthrough_total", "", ""); got != 1 {
		t.Errorf("cdnproxy_budget_passthrough_total = %v, want 1", got)
	}
}

// TestBudgetAsLargeAsMaxBody: a budget as large as MaxBodyBytes (the
// smallest cmd/cdnproxy accepts) annotates a body of known length near
// that size, although the recycled buffer's size class would be larger
// than the budget. (A body of unknown length is read into a buffer that
// doubles, and needs room for the old and the new one at once.)
func TestBudgetAsLargeAsMaxBody(t *testing.T) {
	body := []byte(`{"code":4000,"message":"(9110)x","codeDesc":"9110","pad":"` + strings.Repeat("x", 900_000) + `"}`)
	front, _ := handlerRig(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Content-Length", strconv.Itoa(len(body)))
		_, _ = w.Write(body)
	}, proxy.Config{MemoryBudget: 1_000_000, MaxBodyBytes: 1_000_000})
	for range 2 { // the second finds the first's buffer, if it was recycled
		req, _ := http.NewRequest(http.MethodGet, front.URL+"/v2/index.php?Action=DescribeCdnHosts", nil)
		_, got := do(t, req)
		if !bytes.Contains(got, []byte(`"category"`)) || len(got) <= len(body) {
			t.Fatalf("a %d-byte error under a budget of 1,000,000 was not annotated (%d bytes back)", len(body), len(got))
		}
	}
}

// TestBudgetRequestBusy: a request body that must be read (to verify its
// signature) and gets no budget is refused with an API-shaped busy answer
// the client can retry; the upstream never sees it.
func TestBudgetRequestBusy(t *testing.T) {
	reg := prometheus.NewRegistry()
	var calls atomic.Int32
	front, _ := handlerRig(t, func(w http.ResponseWriter, r *http.Request) { calls.Add(1) },
		proxy.Config{MemoryBudget: 8 << 10, Metrics: proxy.NewMetrics(reg),
			Signing: proxy.Signing{Mode: proxy.Resign, SecretID: "AKIDup", SecretKey: "upkey"}})
	raw := "Action=DescribeCdnHosts&pad=" + strings.Repeat("x", 16<<10)
	req, _ := http.NewRequest(http.MethodPost, front.URL+"/v2/index.php", strings.NewReader(raw))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, body := do(t, req)
	var got errorBody
	if err := json.Unmarshal(body, &got); err != nil {
		t.Fatalf("answer is not JSON: %s", body)
	}
	if resp.StatusCode != http.StatusServiceUnavailable || resp.Header.Get("Retry-After") == "" ||
		got.Category != "unavailable" || !got.Retryable || got.Code != 6200 {
		t.Errorf("status %d, Retry-After %q, body %s; want 503 with Retry-After, code 6200, category unavailable, retryable",
			resp.StatusCode, resp.Header.Get("Retry-After"), body)
	}
	if n := calls.Load(); n != 0 {
		t.Errorf("the upstream saw %d calls", n)
	}
	front.Close() // a call is counted once it has ended, after its answer went out
	if n := counter(t, reg, "cdnproxy_busy_total", "limit", "memory"); n != 1 {
		t.Errorf("cdnproxy_busy_total{limit=memory} = %v, want 1", n)
	}
}

// TestPassthroughStreamsRequestBody: in passthrough nothing needs a JSON
// body, so it streams: the upstream reads its first bytes while the
// client has not yet sent the rest (a proxy that read it whole first
// would wait for ever), and a tiny memory budget does not matter.
func TestPassthroughStreamsRequestBody(t *testing.T) {
	first := make(chan struct{})
	var sentAll, sentAllAtFirst atomic.Bool
	front, _ := handlerRig(t, func(w http.ResponseWriter, r *http.Request) {
		buf := make([]byte, 1)
		if _, err := io.ReadFull(r.Body, buf); err == nil {
			sentAllAtFirst.Store(sentAll.Load())
			close(first)
		}
		_, _ = io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"code":0}`)
	}, proxy.Config{MemoryBudget: 1 << 10})
	pr, pw := io.Pipe()
	go func() {
		_, _ = pw.Write([]byte(`{"Pad":"` + strings.Repeat("x", 64<<10)))
		select {
		case <-first:
		case <-time.After(faultHang): // a hang guard: the test fails below
		}
		sentAll.Store(true)
		_, _ = pw.Write([]byte(`"}`))
		pw.Close()
	}()
	// The proxy serves API 3.0 at / only with UpstreamV3; the 2.0 path
	// takes a JSON body as an opaque one (multipart), which streams too.
	req, _ := http.NewRequest(http.MethodPost, front.URL+"/v2/index.php", pr)
	req.Header.Set("Content-Type", "application/json")
	resp, _ := do(t, req)
	if sentAllAtFirst.Load() {
		t.Error("the upstream got nothing before the client had sent the whole body")
	}
	if resp.StatusCode != http.StatusOK {
		t.Errorf("status %d", resp.StatusCode)
	}
}

// TestBudgetHoldsDecoderState: a compressed error body needs a decoder,
// whose state (about 40 KiB) comes out of the budget like the decoded
// bytes. Without room for it the body passes through as it came, still
// compressed; with room it is annotated.
func TestBudgetHoldsDecoderState(t *testing.T) {
	zipped := gzipped(t, []byte(`{"code":4000,"message":"(9110)x","codeDesc":"9110"}`))
	client := &http.Client{Transport: &http.Transport{DisableCompression: true}}
	for _, tt := range []struct {
		budget    int64
		annotated bool
	}{{40 << 10, false}, {256 << 10, true}} {
		reg := prometheus.NewRegistry()
		front, _ := handlerRig(t, func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			w.Header().Set("Content-Encoding", "gzip")
			_, _ = w.Write(zipped)
		}, proxy.Config{MemoryBudget: tt.budget, Metrics: proxy.NewMetrics(reg)})
		req, _ := http.NewRequest(http.MethodGet, front.URL+"/v2/index.php?Action=RefreshCdnUrl", nil)
		req.Header.Set("Accept-Encoding", "gzip")
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		got, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if tt.annotated {
			if resp.Header.Get("Content-Encoding") != "" || !bytes.Contains(got, []byte(`"category"`)) {
				t.Errorf("budget %d: got %q (Content-Encoding %q), want the body decoded and annotated", tt.budget, got, resp.Header.Get("Content-Encoding"))
			}
			continue
		}
		if !bytes.Equal(got, zipped) || resp.Header.Get("Content-Encoding") != "gzip" {
			t.Errorf("budget %d: got %d bytes (Content-Encoding %q), want the upstream's %d compressed bytes", tt.budget, len(got), resp.Header.Get("Content-Encoding"), len(zipped))
		}
		front.Close() // a call is counted once it has ended, after its answer went out
		if n := counter(t, reg, "cdnproxy_budget_passthrough_total", "", ""); n != 1 {
			t.Errorf("budget %d: cdnproxy_budget_passthrough_total = %v, want 1", tt.budget, n)
		}
	}
}

// TestRecycledBodiesKeptApart: the buffers annotated bodies are read into
// are recycled from call to call (TestRecycledBodyAllocs), and none is
// handed on while its call still sends from it or logs from it. Many
// calls at once, each with an error body of its own size and content,
// plain or gzip: every client gets exactly its own body annotated, and
// every call's log line names its own message.
func TestRecycledBodiesKeptApart(t *testing.T) {
	bodyOf := func(n int) []byte {
		pad := strings.Repeat(string(rune('a'+n%26)), 1<<10+n*4099%(300<<10))
		return []byte(`{"code":4000,"message":"(9110)call ` + strconv.Itoa(n) + `","codeDesc":"9110","pad":"` + pad + `"}`)
	}
	front, logs := handlerRig(t, func(w http.ResponseWriter, r *http.Request) {
		n, _ := strconv.Atoi(r.URL.Query().Get("n"))
		w.Header().Set("Content-Type", "application/json")
		if n%2 == 1 {
			w.Header().Set("Content-Encoding", "gzip")
			zw := gzip.NewWriter(w)
			_, _ = zw.Write(bodyOf(n))
			_ = zw.Close()
			return
		}
		_, _ = w.Write(bodyOf(n))
	}, proxy.Config{MemoryBudget: 64 << 20})
	client := rawClient(t)
	const workers, each = 32, 8
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				n := w*each + i
				req, _ := http.NewRequest(http.MethodGet, front.URL+"/v2/index.php?Action=DescribeCdnHosts&n="+strconv.Itoa(n), nil)
				if n%2 == 1 {
					req.Header.Set("Accept-Encoding", "gzip")
				}
				resp, err := client.Do(req)
				if err != nil {
					t.Errorf("call %d: %v", n, err)
					return
				}
				got, err := io.ReadAll(resp.Body)
				resp.Body.Close()
				if err != nil {
					t.Errorf("call %d: reading the body: %v", n, err)
					return
				}
				var answer struct {
					Message, Pad, Category string
				}
				want := bodyOf(n)
				if err := json.Unmarshal(got, &answer); err != nil || answer.Category == "" ||
					answer.Message != "(9110)call "+strconv.Itoa(n) || answer.Pad != string(want[bytes.LastIndex(want, []byte(`"pad":"`))+7:len(want)-2]) {
					t.Errorf("call %d: not its own body annotated (%d bytes, err %v, message %q)", n, len(got), err, answer.Message)
				}
			}
		}()
	}
	wg.Wait()
	front.Close() // a call logs once it has ended, after its answer went out
	seen := map[string]bool{}
	for _, l := range logs.lines(t) {
		if m, ok := l["message"].(string); ok && l["msg"] == "call failed" {
			seen[m] = true
		}
	}
	for n := range workers * each {
		if m := "(9110)call " + strconv.Itoa(n); !seen[m] {
			t.Errorf("no log line with message %q", m)
		}
	}
}
