package emulator_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cdnproxy/cdnproxy/internal/emulator"
	"github.com/cdnproxy/cdnproxy/proxy/signature"
)

// The tests' credentials, and a second pair for per-SecretId checks.
const (
	testID   = "AKIDtesttesttesttesttesttesttesttest"
	testKey  = "testkeytestkeytestkeytestkey"
	otherID  = "AKIDotherotherotherotherotherother"
	otherKey = "otherkeyotherkeyotherkey"
)

// start is the tests' clock start: 2024-03-01 10:00:00 Beijing time.
var start = time.Date(2024, 3, 1, 2, 0, 0, 0, time.UTC)

// clock is a settable clock, safe for concurrent reads.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// tester sends signed calls to an Emulator through its ServeHTTP.
type tester struct {
	t      *testing.T
	emu    *emulator.Emulator
	clock  *clock
	id     string
	key    string
	host   string // Host header and signed host
	method string
	nonce  uint64
}

// newTester returns a tester for an emulator built from cfg, whose
// Credentials and Now it sets (test and other keys, a clock at start).
func newTester(t *testing.T, cfg emulator.Config) *tester {
	t.Helper()
	c := &clock{t: start}
	cfg.Credentials = map[string]string{testID: testKey, otherID: otherKey}
	cfg.Now = c.Now
	return &tester{t: t, emu: emulator.New(cfg), clock: c, id: testID, key: testKey,
		host: "cdn.api.qcloud.com", method: http.MethodGet, nonce: 1000}
}

// as returns a copy of the tester that signs with another credential.
func (c *tester) as(id, key string) *tester {
	cp := *c
	cp.id, cp.key = id, key
	return &cp
}

// call sends action with the given name, value pairs, a fresh Nonce and the
// current Timestamp.
func (c *tester) call(action string, kv ...string) result {
	c.t.Helper()
	c.nonce++
	p := signature.Params{
		{Name: "Action", Value: action},
		{Name: "Nonce", Value: strconv.FormatUint(c.nonce, 10)},
		{Name: "SecretId", Value: c.id},
		{Name: "Timestamp", Value: strconv.FormatInt(c.clock.Now().Unix(), 10)},
	}
	for i := 0; i+1 < len(kv); i += 2 {
		p = p.With(kv[i], kv[i+1])
	}
	return c.send(p)
}

// send signs p (over c.method and c.host) and sends it.
func (c *tester) send(p signature.Params) result {
	c.t.Helper()
	p = p.With("Signature", signature.NewKey(c.key).Sign(c.method, c.host, emulator.Path, p))
	return c.raw(c.method, c.host, p.Encode())
}

// raw sends an already-encoded parameter string: in the query for GET, as
// an urlencoded body for POST.
func (c *tester) raw(method, host, encoded string) result {
	c.t.Helper()
	var r *http.Request
	if method == http.MethodGet {
		r = httptest.NewRequest(method, "http://"+host+emulator.Path+"?"+encoded, nil)
	} else {
		r = httptest.NewRequest(method, "http://"+host+emulator.Path, strings.NewReader(encoded))
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	return c.do(r)
}

// do serves r and decodes the answer.
func (c *tester) do(r *http.Request) result {
	c.t.Helper()
	w := httptest.NewRecorder()
	c.emu.ServeHTTP(w, r)
	res := result{status: w.Code, raw: w.Body.String()}
	dec := json.NewDecoder(bytes.NewReader(w.Body.Bytes()))
	dec.UseNumber()
	if err := dec.Decode(&res.body); err != nil {
		c.t.Fatalf("answer is not a JSON object: %v\n%s", err, res.raw)
	}
	return res
}

// result is one decoded answer.
type result struct {
	status int
	body   map[string]any
	raw    string
}

// code returns the body's code member.
func (r result) code() int {
	n, _ := r.body["code"].(json.Number).Int64()
	return int(n)
}

var modulePrefix = regexp.MustCompile(`^\((-?\d+)\)`)

// module returns the module code of the message's "(n)" prefix, or 0.
func (r result) module() int {
	msg, _ := r.body["message"].(string)
	m := modulePrefix.FindStringSubmatch(msg)
	if m == nil {
		return 0
	}
	n, _ := strconv.Atoi(m[1])
	return n
}

// outcome is "code" or "code/module", for one-line comparisons.
func (r result) outcome() string {
	if m := r.module(); m != 0 {
		return strconv.Itoa(r.code()) + "/" + strconv.Itoa(m)
	}
	return strconv.Itoa(r.code())
}

// path walks dotted members and array indexes ("data.hosts.0.status").
func (r result) path(p string) (any, bool) {
	var cur any = r.body
	for _, part := range strings.Split(p, ".") {
		switch v := cur.(type) {
		case map[string]any:
			next, ok := v[part]
			if !ok {
				return nil, false
			}
			cur = next
		case []any:
			i, err := strconv.Atoi(part)
			if err != nil || i < 0 || i >= len(v) {
				return nil, false
			}
			cur = v[i]
		default:
			return nil, false
		}
	}
	return cur, true
}

// urls returns name.0=…, name.1=… pairs for n URLs of host.
func urls(name, host string, n int) []string {
	kv := make([]string, 0, 2*n)
	for i := 0; i < n; i++ {
		kv = append(kv, name+"."+strconv.Itoa(i), "http://"+host+"/p/"+strconv.Itoa(i)+"/")
	}
	return kv
}
