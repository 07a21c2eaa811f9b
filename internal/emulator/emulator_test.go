package emulator_test

import (
	"encoding/json"
	"errors"
	"math/rand/v2"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/cdnproxy/cdnproxy/codes"
	"github.com/cdnproxy/cdnproxy/internal/emulator"
	"github.com/cdnproxy/cdnproxy/proxy/signature"
)

// The reference's signature v1 vectors (docs/reference/cdn-api-v2.md §2.2): key, SecretId
// and the signed parameter strings.
const (
	vectorID     = "AKIDT8G5AsY1D3MChWooNq1rFSw1fyBVCX9D"
	vectorKey    = "pxPgRWDbCy86ZYyqBTDk7WmeRZSmPco0"
	vectorSHA1   = "Action=DescribeCdnHosts&Nonce=13029&SecretId=AKIDT8G5AsY1D3MChWooNq1rFSw1fyBVCX9D&Timestamp=1463122059&limit=10&offset=0"
	vectorSHA256 = "Action=DescribeCdnHosts&Nonce=48059&SecretId=AKIDT8G5AsY1D3MChWooNq1rFSw1fyBVCX9D&SignatureMethod=HmacSHA256&Timestamp=1502197934&limit=10&offset=0"
)

// TestEmulatorSignatureVectors checks that the emulator accepts exactly the
// reference's signatures, for the host they were computed over, and
// refuses each after a one-character change to the signature or to a
// signed value.
func TestEmulatorSignatureVectors(t *testing.T) {
	for _, tc := range []struct {
		name      string
		method    string
		host      string // the Host header the call arrives with
		params    string
		ts        int64
		signature string
		want      int // code for the unchanged call
	}{
		{"GET SHA1", "GET", "cdn.api.qcloud.com", vectorSHA1, 1463122059, "bWMMAR1eFGjZ5KWbfxTlBiLiNLc=", 0},
		{"POST SHA1", "POST", "cdn.api.qcloud.com", vectorSHA1, 1463122059, "i/KcLp6VaOtUmVtT0dqtLpKJOkg=", 0},
		{"GET SHA256", "GET", "cdn.api.qcloud.com", vectorSHA256, 1502197934, "b/HlnO7vWEtR/kf21BvF0fX4vGmIThwWxlaD5GQtlSM=", 0},
		{"GET SHA1 for 127.0.0.1:8080", "GET", "127.0.0.1:8080", vectorSHA1, 1463122059, "G7cAVHcjoYpoR6el8AIFSWgHWJ4=", 0},
		{"canonical host accepted on any Host", "GET", "127.0.0.1:8080", vectorSHA1, 1463122059, "bWMMAR1eFGjZ5KWbfxTlBiLiNLc=", 0},
		{"127.0.0.1:8080 signature on another port", "GET", "127.0.0.1:8081", vectorSHA1, 1463122059, "G7cAVHcjoYpoR6el8AIFSWgHWJ4=", 4100},
		{"127.0.0.1:8080 signature on the canonical host", "GET", "cdn.api.qcloud.com", vectorSHA1, 1463122059, "G7cAVHcjoYpoR6el8AIFSWgHWJ4=", 4100},
		{"GET signature sent as POST", "POST", "cdn.api.qcloud.com", vectorSHA1, 1463122059, "bWMMAR1eFGjZ5KWbfxTlBiLiNLc=", 4100},
		{"SHA1 signature with HmacSHA256 asked", "GET", "cdn.api.qcloud.com", vectorSHA1 + "&SignatureMethod=HmacSHA256", 1463122059, "bWMMAR1eFGjZ5KWbfxTlBiLiNLc=", 4100},
	} {
		t.Run(tc.name, func(t *testing.T) {
			send := func(params, sig string) result {
				t.Helper()
				emu := emulator.New(emulator.Config{
					Credentials: map[string]string{vectorID: vectorKey},
					Now:         func() time.Time { return time.Unix(tc.ts, 0) },
				})
				c := &tester{t: t, emu: emu}
				return c.raw(tc.method, tc.host, params+"&Signature="+url.QueryEscape(sig))
			}
			if got := send(tc.params, tc.signature); got.code() != tc.want {
				t.Fatalf("unchanged: code %d, want %d\n%s", got.code(), tc.want, got.raw)
			}
			if tc.want != 0 {
				return
			}
			// One character changed: in the signature, in a signed value, in
			// a signed name.
			for _, change := range []struct{ what, params, sig string }{
				{"signature", tc.params, flip(tc.signature, 0)},
				{"signature's last character", tc.params, flip(tc.signature, len(tc.signature)-2)},
				{"Nonce value", strings.Replace(tc.params, "Nonce=1", "Nonce=2", 1), tc.signature},
				{"Nonce value", strings.Replace(tc.params, "Nonce=4", "Nonce=5", 1), tc.signature},
				{"limit value", strings.Replace(tc.params, "limit=10", "limit=11", 1), tc.signature},
				{"limit name", strings.Replace(tc.params, "limit=", "limiT=", 1), tc.signature},
			} {
				if change.params == tc.params && change.sig == tc.signature {
					continue // the replacement did not apply to this vector
				}
				if got := send(change.params, change.sig); got.code() != 4100 || got.body["codeDesc"] != "AuthFailure" {
					t.Errorf("%s changed: %s, want the 4100 AuthFailure body", change.what, got.raw)
				}
			}
		})
	}
}

// flip changes the character at i to another Base64 character.
func flip(s string, i int) string {
	b := []byte(s)
	if b[i] == 'A' {
		b[i] = 'B'
	} else {
		b[i] = 'A'
	}
	return string(b)
}

// TestEmulatorSignedHosts checks the three hosts a signature may be over:
// the Host as received, the same without its port, and the canonical host.
func TestEmulatorSignedHosts(t *testing.T) {
	for _, tc := range []struct {
		name       string
		signedFor  string
		arrivingAs string
		want       int
	}{
		{"host with port", "localhost:8081", "localhost:8081", 0},
		{"host without port", "localhost", "localhost:8081", 0},
		{"canonical host", "cdn.api.qcloud.com", "localhost:8081", 0},
		{"another port", "localhost:9000", "localhost:8081", 4100},
		{"another host", "example.com", "localhost:8081", 4100},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := newTester(t, emulator.Config{})
			p := signature.Params{{Name: "Action", Value: "DescribeCdnHosts"}, {Name: "Nonce", Value: "7"},
				{Name: "SecretId", Value: testID}, {Name: "Timestamp", Value: strconv.FormatInt(start.Unix(), 10)}}
			p = p.With("Signature", signature.NewKey(testKey).Sign("GET", tc.signedFor, emulator.Path, p))
			if got := c.raw("GET", tc.arrivingAs, p.Encode()); got.code() != tc.want {
				t.Errorf("code %d, want %d\n%s", got.code(), tc.want, got.raw)
			}
		})
	}
}

// TestEmulatorAuthFailures checks unknown and missing credentials.
func TestEmulatorAuthFailures(t *testing.T) {
	c := newTester(t, emulator.Config{})
	want := `{"code":4100,"message":"鉴权失败，请参考文档中鉴权部分。","codeDesc":"AuthFailure"}`
	for _, tc := range []struct {
		name string
		c    *tester
	}{
		{"unknown SecretId", c.as("AKIDunknown", testKey)},
		{"wrong key", c.as(testID, otherKey)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.c.call("DescribeCdnHosts"); got.raw != want {
				t.Errorf("got %s\nwant %s", got.raw, want)
			}
		})
	}
	t.Run("no Signature", func(t *testing.T) {
		p := signature.Params{{Name: "Action", Value: "DescribeCdnHosts"}, {Name: "Nonce", Value: "1"},
			{Name: "SecretId", Value: testID}, {Name: "Timestamp", Value: strconv.FormatInt(start.Unix(), 10)}}
		if got := c.raw("GET", c.host, p.Encode()); got.raw != want {
			t.Errorf("got %s\nwant %s", got.raw, want)
		}
	})
}

// TestEmulatorTimestamp checks the 2-hour window.
func TestEmulatorTimestamp(t *testing.T) {
	for _, tc := range []struct {
		name string
		ts   string
		want int
	}{
		{"now", strconv.FormatInt(start.Unix(), 10), 0},
		{"2 hours old", strconv.FormatInt(start.Add(-2*time.Hour).Unix(), 10), 0},
		{"2 hours ahead", strconv.FormatInt(start.Add(2*time.Hour).Unix(), 10), 0},
		{"expired", strconv.FormatInt(start.Add(-2*time.Hour-time.Second).Unix(), 10), 4500},
		{"too far ahead", strconv.FormatInt(start.Add(2*time.Hour+time.Second).Unix(), 10), 4500},
		{"not a number", "yesterday", 4000},
		{"missing", "", 4000},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := newTester(t, emulator.Config{})
			p := signature.Params{{Name: "Action", Value: "DescribeCdnHosts"}, {Name: "Nonce", Value: "1"}, {Name: "SecretId", Value: testID}}
			if tc.ts != "" {
				p = p.With("Timestamp", tc.ts)
			}
			got := c.send(p)
			if got.code() != tc.want {
				t.Fatalf("code %d, want %d\n%s", got.code(), tc.want, got.raw)
			}
			if tc.want == 4500 {
				msg, _ := got.body["message"].(string)
				if !strings.HasSuffix(msg, "Timestamp = "+strconv.FormatInt(start.Unix(), 10)) {
					t.Errorf("4500 message does not end with the server's Timestamp: %q", msg)
				}
			}
		})
	}
}

// TestEmulatorReplay checks that a (SecretId, Nonce) pair is refused with
// 4500 within 2 hours, accepted again after, and that memory is capped.
func TestEmulatorReplay(t *testing.T) {
	c := newTester(t, emulator.Config{MaxNonces: 3})
	send := func(c *tester, nonce string) int {
		t.Helper()
		return c.send(signature.Params{{Name: "Action", Value: "DescribeCdnHosts"}, {Name: "Nonce", Value: nonce},
			{Name: "SecretId", Value: c.id}, {Name: "Timestamp", Value: strconv.FormatInt(c.clock.Now().Unix(), 10)}}).code()
	}
	steps := []struct {
		name    string
		c       *tester
		nonce   string
		advance time.Duration // before the call
		want    int
	}{
		{"first use", c, "42", 0, 0},
		{"replayed", c, "42", 0, 4500},
		{"same Nonce, other SecretId", c.as(otherID, otherKey), "42", 0, 0},
		{"replayed an hour later with a new Timestamp", c, "42", time.Hour, 4500},
		{"forgotten after 2 hours", c, "42", time.Hour + time.Second, 0},
		{"second Nonce", c, "43", 0, 0},
		{"third Nonce", c, "44", 0, 0},
		{"fourth Nonce evicts the oldest (42)", c, "45", 0, 0},
		{"evicted pair accepted", c, "42", 0, 0},
		{"remembered pair still refused", c, "45", 0, 4500},
	}
	for _, s := range steps {
		c.clock.Add(s.advance)
		if got := send(s.c, s.nonce); got != s.want {
			t.Errorf("%s: code %d, want %d", s.name, got, s.want)
		}
	}
}

// hostStatus returns a domain's status through GetHostInfoByHost, or 0.
func hostStatus(c *tester, host string) int {
	c.t.Helper()
	res := c.call("GetHostInfoByHost", "hosts.0", host)
	v, ok := res.path("data.hosts.0.status")
	if !ok {
		return 0
	}
	n, _ := v.(json.Number).Int64()
	return int(n)
}

// TestEmulatorDomainLifecycle drives a domain through add, online, offline
// and delete, with the state errors on the way.
func TestEmulatorDomainLifecycle(t *testing.T) {
	domains, err := emulator.ParseDomains("www.example.com, static.offline.example,busy.deploying.example")
	if err != nil {
		t.Fatal(err)
	}
	c := newTester(t, emulator.Config{Domains: domains, Limits: emulator.Limits{Domains: 4}})
	const host = "new.example.com"
	steps := []struct {
		name       string
		action     string
		kv         []string
		want       string // outcome: code or code/module
		wantStatus int    // of host afterwards; 0: absent (unchecked if -1)
	}{
		{"purge before it exists", "RefreshCdnUrl", []string{"urls.0", "http://" + host + "/a"}, "4000/9110", 0},
		{"add", "AddCdnHost", []string{"host", host, "origin", "1.1.1.1"}, "0", 5},
		{"add again", "AddCdnHost", []string{"host", host, "origin", "1.1.1.1"}, "4000/9137", 5},
		{"add another account's", "AddCdnHost", []string{"host", "cdn.taken.example", "origin", "1.1.1.1"}, "4000/9138", -1},
		{"add without ICP filing", "AddCdnHost", []string{"host", "shop.noicp.example", "origin", "1.1.1.1"}, "4000/20004", -1},
		{"add an invalid name", "AddCdnHost", []string{"host", "not_a_domain", "origin", "1.1.1.1"}, "4000/9107", -1},
		{"add without origin", "AddCdnHost", []string{"host", "b.example.com"}, "4000/9003", -1},
		{"online while online", "OnlineHost", []string{"host", host}, "4000/9177", 5},
		{"purge while online", "RefreshCdnUrl", []string{"urls.0", "http://" + host + "/a"}, "0", 5},
		{"delete while online", "DeleteCdnHost", []string{"host", host}, "4000/9315", 5},
		{"offline", "OfflineHost", []string{"host", host}, "0", 6},
		{"offline while offline", "OfflineHost", []string{"host", host}, "4000/9176", 6},
		{"purge while offline", "RefreshCdnUrl", []string{"urls.0", "http://" + host + "/a"}, "4000/9112", 6},
		{"prefetch while offline", "CdnPusherV2", []string{"urls.0", "http://" + host + "/a"}, "4000/9112", 6},
		{"online again", "OnlineHost", []string{"host", host}, "0", 5},
		{"offline again", "OfflineHost", []string{"host", host}, "0", 6},
		{"delete", "DeleteCdnHost", []string{"host", host}, "0", 0},
		{"delete again", "DeleteCdnHost", []string{"host", host}, "4000/9110", 0},
		{"online after delete", "OnlineHost", []string{"host", host}, "4000/9110", 0},
		{"offline while deploying", "OfflineHost", []string{"host", "busy.deploying.example"}, "4000/9175", -1},
		{"online while deploying", "OnlineHost", []string{"host", "busy.deploying.example"}, "4000/9175", -1},
		{"by hostId", "OnlineHost", []string{"hostId", "308903"}, "0", -1}, // static.offline.example
		{"unknown hostId", "OnlineHost", []string{"hostId", "1"}, "4000/9110", -1},
		{"no host", "OnlineHost", nil, "4000/9003", -1},
		{"add up to the account limit", "AddCdnHost", []string{"host", "c.example.com", "origin", "1.1.1.1"}, "0", -1},
		{"add over the account limit", "AddCdnHost", []string{"host", "d.example.com", "origin", "1.1.1.1"}, "4000/9089", -1},
	}
	for _, s := range steps {
		got := c.call(s.action, s.kv...)
		if got.outcome() != s.want {
			t.Errorf("%s: %s, want %s\n%s", s.name, got.outcome(), s.want, got.raw)
		}
		if s.wantStatus >= 0 {
			if st := hostStatus(c, host); st != s.wantStatus {
				t.Errorf("%s: status %d afterwards, want %d", s.name, st, s.wantStatus)
			}
		}
	}
}

// TestEmulatorDeployTime checks that a domain deploys for DeployTime
// (refusing changes with 9175) and then is online.
func TestEmulatorDeployTime(t *testing.T) {
	c := newTester(t, emulator.Config{DeployTime: time.Minute})
	const host = "slow.example.com"
	for _, s := range []struct {
		name    string
		advance time.Duration
		action  string
		want    string
		status  int
	}{
		{"add", 0, "AddCdnHost", "0", 4},
		{"offline while deploying", 30 * time.Second, "OfflineHost", "4000/9175", 4},
		{"offline once deployed", 30 * time.Second, "OfflineHost", "0", 6},
		{"online", 0, "OnlineHost", "0", 4},
		{"online while deploying", 59 * time.Second, "OnlineHost", "4000/9175", 4},
		{"online once deployed", time.Second, "OnlineHost", "4000/9177", 5},
	} {
		c.clock.Add(s.advance)
		if got := c.call(s.action, "host", host, "origin", "1.1.1.1"); got.outcome() != s.want {
			t.Errorf("%s: %s, want %s\n%s", s.name, got.outcome(), s.want, got.raw)
		}
		if st := hostStatus(c, host); st != s.status {
			t.Errorf("%s: status %d, want %d", s.name, st, s.status)
		}
	}
}

// TestEmulatorLimits checks the per-call and daily limits of every purge
// and prefetch action: per SecretId, reset on the next Beijing day.
func TestEmulatorLimits(t *testing.T) {
	limits := emulator.Limits{
		RefreshURLsPerCall: 3, RefreshURLsPerDay: 5,
		RefreshDirsPerCall: 2, RefreshDirsPerDay: 3,
		PushURLsPerCall: 2, PushURLsPerDay: 3,
	}
	for _, tc := range []struct {
		action            string
		list              string
		perCall, perDay   int
		batchCode, dayCod int
	}{
		{"RefreshCdnUrl", "urls", 3, 5, 22043, 22044},
		{"RefreshCdnDir", "dirs", 2, 3, 22045, 22046},
		{"CdnPusherV2", "urls", 2, 3, 23100, 23101},
		{"CdnUrlPusher", "urls", 2, 3, 21002, 21000},
	} {
		t.Run(tc.action, func(t *testing.T) {
			c := newTester(t, emulator.Config{Domains: []emulator.Domain{{Host: "www.example.com", Status: emulator.StatusOnline}}, Limits: limits})
			call := func(c *tester, n int) string {
				t.Helper()
				return c.call(tc.action, urls(tc.list, "www.example.com", n)...).outcome()
			}
			batch, day := "4000/"+strconv.Itoa(tc.batchCode), "4000/"+strconv.Itoa(tc.dayCod)
			check := func(step, got, want string) {
				t.Helper()
				if got != want {
					t.Errorf("%s: %s, want %s", step, got, want)
				}
			}
			check("over the batch limit", call(c, tc.perCall+1), batch)
			check("none", call(c, 0), "4000/9003")
			used := 0
			for used+tc.perCall <= tc.perDay {
				check("within the day", call(c, tc.perCall), "0")
				used += tc.perCall
			}
			if rest := tc.perDay - used; rest > 0 {
				check("one more than is left", call(c, rest+1), day)
				check("what is left", call(c, rest), "0")
			}
			check("day used up", call(c, 1), day)
			check("other SecretId", call(c.as(otherID, otherKey), 1), "0")
			c.clock.Add(14 * time.Hour) // 2024-03-02 00:00 Beijing
			check("next day", call(c, 1), "0")
		})
	}
	t.Run("push quota shared by CdnPusherV2 and CdnUrlPusher", func(t *testing.T) {
		c := newTester(t, emulator.Config{Domains: []emulator.Domain{{Host: "www.example.com", Status: emulator.StatusOnline}}, Limits: limits})
		if got := c.call("CdnPusherV2", urls("urls", "www.example.com", 2)...).outcome(); got != "0" {
			t.Fatalf("CdnPusherV2: %s", got)
		}
		if got := c.call("CdnUrlPusher", urls("urls", "www.example.com", 2)...).outcome(); got != "4000/21000" {
			t.Errorf("CdnUrlPusher after CdnPusherV2 used 2 of 3: %s, want 4000/21000", got)
		}
	})
	t.Run("defaults are the API's", func(t *testing.T) {
		c := newTester(t, emulator.Config{Domains: []emulator.Domain{{Host: "www.example.com", Status: emulator.StatusOnline}}})
		for _, s := range []struct {
			action, list string
			n            int
			want         string
		}{
			{"RefreshCdnUrl", "urls", 1000, "0"},
			{"RefreshCdnUrl", "urls", 1001, "4000/22043"},
			{"RefreshCdnDir", "dirs", 20, "0"},
			{"RefreshCdnDir", "dirs", 21, "4000/22045"},
			{"CdnPusherV2", "urls", 20, "0"},
			{"CdnPusherV2", "urls", 21, "4000/23100"},
		} {
			c.method = http.MethodPost // 1000 URLs are over GET's 32 KB
			if got := c.call(s.action, urls(s.list, "www.example.com", s.n)...).outcome(); got != s.want {
				t.Errorf("%s with %d: %s, want %s", s.action, s.n, got, s.want)
			}
		}
	})
}

// TestEmulatorFaults checks the three kinds of rule.
func TestEmulatorFaults(t *testing.T) {
	domains := []emulator.Domain{{Host: "www.example.com", Status: emulator.StatusOnline}}
	t.Run("next", func(t *testing.T) {
		faults, err := emulator.ParseFaults("next:2:9112")
		if err != nil {
			t.Fatal(err)
		}
		c := newTester(t, emulator.Config{Domains: domains, Faults: faults})
		for i, want := range []string{"4000/9112", "4000/9112", "0", "0"} {
			if got := c.call("DescribeCdnHosts"); got.outcome() != want {
				t.Errorf("call %d: %s, want %s", i+1, got.outcome(), want)
			}
		}
		if left := c.emu.Faults(); len(left) != 0 {
			t.Errorf("rules left after they ran out: %v", left)
		}
	})
	t.Run("module and public codes", func(t *testing.T) {
		c := newTester(t, emulator.Config{Domains: domains})
		if _, err := c.emu.AddFaults(emulator.Fault{Kind: emulator.FaultNext, Count: 1, Code: 9112}, emulator.Fault{Kind: emulator.FaultNext, Count: 1, Code: 6000}); err != nil {
			t.Fatal(err)
		}
		mod, _ := codes.Module(9112)
		got := c.call("DescribeCdnHosts")
		if want := "(9112)" + mod.Original + " cdn injected fault[cdnproxy mock]"; got.body["message"] != want || got.code() != 4000 || got.body["codeDesc"] != json.Number("9112") {
			t.Errorf("module fault: %s, want code 4000, message %q, codeDesc 9112", got.raw, want)
		}
		pub, _ := codes.Public(6000)
		got = c.call("DescribeCdnHosts")
		if got.code() != 6000 || got.body["message"] != pub.Original || got.body["codeDesc"] != "InternalError" {
			t.Errorf("public fault: %s", got.raw)
		}
	})
	t.Run("action", func(t *testing.T) {
		faults, _ := emulator.ParseFaults("action:RefreshCdnUrl:22044")
		c := newTester(t, emulator.Config{Domains: domains, Faults: faults})
		for i := 0; i < 3; i++ {
			if got := c.call("RefreshCdnUrl", "urls.0", "http://www.example.com/a"); got.outcome() != "4000/22044" {
				t.Errorf("RefreshCdnUrl %d: %s, want 4000/22044", i+1, got.outcome())
			}
		}
		if got := c.call("DescribeCdnHosts"); got.outcome() != "0" {
			t.Errorf("DescribeCdnHosts: %s, want 0", got.outcome())
		}
		if f := c.emu.Faults(); len(f) != 1 || f[0].Hits != 3 {
			t.Errorf("rules %+v, want the action rule with 3 hits", f)
		}
	})
	t.Run("rate", func(t *testing.T) {
		faults, _ := emulator.ParseFaults("rate:0.2:6000")
		c := newTester(t, emulator.Config{Domains: domains, Faults: faults, Rand: rand.NewPCG(1, 2)})
		const calls = 1000
		failed := 0
		for i := 0; i < calls; i++ {
			switch got := c.call("DescribeCdnHosts", "limit", "0"); got.outcome() {
			case "6000":
				failed++
			case "0":
			default:
				t.Fatalf("call %d: %s", i, got.raw)
			}
		}
		// 0.2 × 1000 = 200, standard deviation about 12.6: ±50 is four of
		// them, and the seed makes the count repeatable anyway.
		if failed < 150 || failed > 250 {
			t.Errorf("%d of %d calls failed, want about 200", failed, calls)
		}
		if f := c.emu.Faults(); len(f) != 1 || f[0].Hits != failed {
			t.Errorf("rules %+v, want the rate rule with %d hits", f, failed)
		}
	})
	t.Run("faults come after authentication", func(t *testing.T) {
		faults, _ := emulator.ParseFaults("next:1:9112")
		c := newTester(t, emulator.Config{Faults: faults})
		if got := c.as(testID, otherKey).call("DescribeCdnHosts"); got.code() != 4100 {
			t.Errorf("bad signature: %s, want 4100", got.raw)
		}
		if got := c.call("NoSuchAction"); got.outcome() != "4000" {
			t.Errorf("unknown action: %s, want plain 4000", got.raw)
		}
		if got := c.call("DescribeCdnHosts"); got.outcome() != "4000/9112" {
			t.Errorf("first good call: %s, want the fault", got.raw)
		}
	})
}

// TestParseFaults checks the compact syntax.
func TestParseFaults(t *testing.T) {
	for _, tc := range []struct {
		in      string
		want    string // String of the rules joined by commas; "" for none
		wantErr string
	}{
		{"", "", ""},
		{" next:3:9112 , rate:0.2:6000,action:RefreshCdnUrl:22044,", "next:3:9112,rate:0.2:6000,action:RefreshCdnUrl:22044", ""},
		{"rate:1:4500", "rate:1:4500", ""},
		{"next:0:9112", "", "count must be at least 1"},
		{"rate:0:6000", "", "rate must be above 0"},
		{"rate:1.5:6000", "", "rate must be above 0"},
		{"action:Nope:6000", "", "not an action"},
		{"next:1:12345", "", "not in the catalogue"},
		{"next:1:0", "", "not in the catalogue"},
		{"later:1:9112", "", "not next, rate or action"},
		{"next:1", "", "want KIND:ARG:CODE"},
		{"next:x:9112", "", "not a number"},
	} {
		t.Run(tc.in, func(t *testing.T) {
			got, err := emulator.ParseFaults(tc.in)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Errorf("error %v, want one containing %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			s := make([]string, len(got))
			for i, f := range got {
				s[i] = f.String()
			}
			if joined := strings.Join(s, ","); joined != tc.want {
				t.Errorf("got %q, want %q", joined, tc.want)
			}
		})
	}
}

// TestParseDomains checks the domain list syntax.
func TestParseDomains(t *testing.T) {
	got, err := emulator.ParseDomains("www.example.com, IMG.example.com,,static.offline.example,x.deploying.example")
	if err != nil {
		t.Fatal(err)
	}
	want := []emulator.Domain{
		{Host: "www.example.com", Status: emulator.StatusOnline},
		{Host: "img.example.com", Status: emulator.StatusOnline},
		{Host: "static.offline.example", Status: emulator.StatusOffline},
		{Host: "x.deploying.example", Status: emulator.StatusDeploying},
	}
	if !slices.Equal(got, want) {
		t.Errorf("got %v, want %v", got, want)
	}
	for _, bad := range []string{"localhost", "a..b", "-a.example", "a.example,a.example", "a_b.example"} {
		if _, err := emulator.ParseDomains(bad); err == nil {
			t.Errorf("ParseDomains(%q) accepted", bad)
		}
	}
}

// admin sends a request to the admin handler and decodes the answer.
func admin(t *testing.T, h http.Handler, method, path, body string) (int, map[string]any) {
	t.Helper()
	r := httptest.NewRequest(method, path, strings.NewReader(body))
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	var out map[string]any
	if err := json.Unmarshal(w.Body.Bytes(), &out); err != nil {
		t.Fatalf("%s %s: answer is not JSON: %v\n%s", method, path, err, w.Body)
	}
	return w.Code, out
}

// ruleSummary renders an admin answer's rules as "id:kind:code" strings.
func ruleSummary(out map[string]any) string {
	list, _ := out["faults"].([]any)
	s := make([]string, 0, len(list))
	for _, r := range list {
		m := r.(map[string]any)
		s = append(s, strconv.Itoa(int(m["id"].(float64)))+":"+m["kind"].(string)+":"+strconv.Itoa(int(m["code"].(float64))))
	}
	return strings.Join(s, ",")
}

// TestEmulatorAdmin drives the fault rules through the admin endpoint.
func TestEmulatorAdmin(t *testing.T) {
	c := newTester(t, emulator.Config{Domains: []emulator.Domain{{Host: "www.example.com", Status: emulator.StatusOnline}}})
	h := c.emu.Admin()
	for _, s := range []struct {
		name, method, path, body string
		wantStatus               int
		want                     string // rules afterwards, or the error's start
	}{
		{"none yet", "GET", "/faults", "", 200, ""},
		{"JSON rule", "POST", "/faults", `{"kind":"next","count":2,"code":9175}`, 200, "1:next:9175"},
		{"JSON array", "POST", "/faults", `[{"kind":"action","action":"GetCdnLogList","code":9110},{"kind":"rate","rate":1,"code":6200}]`, 200, "1:next:9175,2:action:9110,3:rate:6200"},
		{"compact text", "POST", "/faults", "next:1:4400", 200, "1:next:9175,2:action:9110,3:rate:6200,4:next:4400"},
		{"delete one", "DELETE", "/faults/3", "", 200, "1:next:9175,2:action:9110,4:next:4400"},
		{"delete a missing one", "DELETE", "/faults/3", "", 404, "no fault rule"},
		{"unknown code", "POST", "/faults", `{"kind":"next","count":1,"code":12345}`, 400, `fault "next": code 12345`},
		{"unknown member", "POST", "/faults", `{"kind":"next","count":1,"code":9112,"when":"now"}`, 400, "the body is not a fault rule"},
		{"one bad rule adds none", "POST", "/faults", `next:1:9112,next:0:9112`, 400, "rule 2"},
		{"empty body", "POST", "/faults", ``, 400, "no rules"},
		{"still the same", "GET", "/faults", "", 200, "1:next:9175,2:action:9110,4:next:4400"},
	} {
		status, out := admin(t, h, s.method, s.path, s.body)
		if status != s.wantStatus {
			t.Errorf("%s: status %d, want %d: %v", s.name, status, s.wantStatus, out)
			continue
		}
		if status == 200 {
			if got := ruleSummary(out); got != s.want {
				t.Errorf("%s: rules %q, want %q", s.name, got, s.want)
			}
		} else if msg, _ := out["error"].(string); !strings.HasPrefix(msg, s.want) {
			t.Errorf("%s: error %q, want one starting %q", s.name, msg, s.want)
		}
	}
	// The rules set through the admin endpoint act on API calls: next
	// rules first, in order, then action rules.
	for i, want := range []string{"4000/9175", "4000/9175", "4400", "0"} {
		if got := c.call("DescribeCdnHosts"); got.outcome() != want {
			t.Errorf("call %d: %s, want %s", i+1, got.outcome(), want)
		}
	}
	if got := c.call("GetCdnLogList", "host", "www.example.com"); got.outcome() != "4000/9110" {
		t.Errorf("GetCdnLogList: %s, want the action rule's 4000/9110", got.outcome())
	}
	if status, out := admin(t, h, "DELETE", "/faults", ""); status != 200 || ruleSummary(out) != "" {
		t.Errorf("DELETE /faults: %d %v", status, out)
	}
	if got := c.call("GetCdnLogList", "host", "www.example.com"); got.outcome() != "0" {
		t.Errorf("GetCdnLogList after DELETE /faults: %s", got.raw)
	}
	r := httptest.NewRequest("GET", "/healthz", nil)
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	if w.Code != 200 {
		t.Errorf("/healthz: %d", w.Code)
	}
}

// TestEmulatorMethods checks GET and POST (urlencoded and multipart), and
// what is not the API.
func TestEmulatorMethods(t *testing.T) {
	c := newTester(t, emulator.Config{})
	signed := func(method string) signature.Params {
		c.nonce++
		p := signature.Params{{Name: "Action", Value: "DescribeCdnHosts"}, {Name: "Nonce", Value: strconv.FormatUint(c.nonce, 10)},
			{Name: "SecretId", Value: testID}, {Name: "Timestamp", Value: strconv.FormatInt(start.Unix(), 10)}}
		return p.With("Signature", signature.NewKey(testKey).Sign(method, c.host, emulator.Path, p))
	}
	multipartBody := func(p signature.Params) (string, string) {
		var b strings.Builder
		mw := multipart.NewWriter(&b)
		for _, x := range p {
			_ = mw.WriteField(x.Name, x.Value)
		}
		_ = mw.Close()
		return b.String(), mw.FormDataContentType()
	}
	for _, tc := range []struct {
		name       string
		req        func() *http.Request
		wantStatus int
		wantCode   int
	}{
		{"GET", func() *http.Request {
			return httptest.NewRequest("GET", "http://cdn.api.qcloud.com/v2/index.php?"+signed("GET").Encode(), nil)
		}, 200, 0},
		{"POST urlencoded", func() *http.Request {
			r := httptest.NewRequest("POST", "http://cdn.api.qcloud.com/v2/index.php", strings.NewReader(signed("POST").Encode()))
			r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			return r
		}, 200, 0},
		{"POST multipart", func() *http.Request {
			body, ct := multipartBody(signed("POST"))
			r := httptest.NewRequest("POST", "http://cdn.api.qcloud.com/v2/index.php", strings.NewReader(body))
			r.Header.Set("Content-Type", ct)
			return r
		}, 200, 0},
		{"POST ignores the query", func() *http.Request {
			r := httptest.NewRequest("POST", "http://cdn.api.qcloud.com/v2/index.php?"+signed("POST").Encode(), strings.NewReader(""))
			r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			return r
		}, 200, 4100},
		{"GET ignores a body", func() *http.Request {
			return httptest.NewRequest("GET", "http://cdn.api.qcloud.com/v2/index.php", strings.NewReader(signed("GET").Encode()))
		}, 200, 4100},
		{"repeated parameter", func() *http.Request {
			return httptest.NewRequest("GET", "http://cdn.api.qcloud.com/v2/index.php?"+signed("GET").Encode()+"&Nonce=1", nil)
		}, 200, 4000},
		{"bad escape", func() *http.Request {
			return httptest.NewRequest("GET", "http://cdn.api.qcloud.com/v2/index.php?Action=%zz", nil)
		}, 200, 4000},
		{"other path", func() *http.Request {
			return httptest.NewRequest("GET", "http://cdn.api.qcloud.com/v2/other.php?"+signed("GET").Encode(), nil)
		}, 404, 6100},
		{"other method", func() *http.Request {
			return httptest.NewRequest("PUT", "http://cdn.api.qcloud.com/v2/index.php", strings.NewReader(signed("PUT").Encode()))
		}, 404, 4600},
		{"GET over 32 KB", func() *http.Request {
			return httptest.NewRequest("GET", "http://cdn.api.qcloud.com/v2/index.php?"+signed("GET").Encode()+"&x="+strings.Repeat("a", 32<<10), nil)
		}, 501, 4000},
		{"POST over 1 MB", func() *http.Request {
			r := httptest.NewRequest("POST", "http://cdn.api.qcloud.com/v2/index.php", strings.NewReader(signed("POST").Encode()+"&x="+strings.Repeat("a", 1<<20)))
			r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			return r
		}, 501, 4000},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := c.do(tc.req())
			if got.status != tc.wantStatus || got.code() != tc.wantCode {
				t.Errorf("status %d code %d, want %d and %d\n%s", got.status, got.code(), tc.wantStatus, tc.wantCode, got.raw)
			}
		})
	}
}

// documentedHost is the host object of the reference's DescribeCdnHosts
// example (docs/reference/cdn-api-v2.md §3.2 item 4).
const documentedHost = `{"id": 308902, "app_id": 1234567, "owner_uin": 7654321, "project_id": 0,
   "host": "www.test.com", "host_type": "cname", "service_type": "web", "origin": "8.8.8.8",
   "cache": [{"type": 0, "rule": "all", "time": 2592000, "unit": "d"},
             {"type": 1, "rule": ".php;.jsp;.asp;.aspx", "time": 0, "unit": "s"}],
   "status": 5, "disabled": 0, "message": "已开启", "enable_overseas": "no",
   "create_time": "2016-08-25 21:22:40", "update_time": "2016-09-02 15:33:37", "deleted": "no",
   "fwd_host_type": "default", "fwd_host": "www.test.com", "middle_resource": -1,
   "refer": {"type": 2, "list": ["1.1.1.1"], "null_flag": 0}, "readonly": 0,
   "cname": "www.test.com.cdn.dnsv1.com", "cache_mode": "simple", "furl_cache": "on", "ssl_type": 0,
   "pid_config": null, "bucket_name": "", "bucket_project_id": 0, "ssl_deploy_time": null,
   "ssl_expire_time": null, "seo": "off", "host_id": 308902}`

// keysOf returns an object's member names, sorted.
func keysOf(v any) []string {
	m, _ := v.(map[string]any)
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// jsonKind names a decoded JSON value's type.
func jsonKind(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case string:
		return "string"
	case json.Number:
		return "number"
	case bool:
		return "bool"
	case []any:
		return "array"
	case map[string]any:
		return "object"
	}
	return "?"
}

// TestEmulatorBodies checks that each action's answer is one JSON object
// with the documented members, in the documented order.
func TestEmulatorBodies(t *testing.T) {
	domains, _ := emulator.ParseDomains("www.example.com,static.offline.example")
	c := newTester(t, emulator.Config{Domains: domains})
	c.call("OfflineHost", "host", "www.example.com")
	c.call("OnlineHost", "host", "www.example.com")
	for _, tc := range []struct {
		action string
		kv     []string
		prefix string            // the body starts with this
		want   map[string]string // path → JSON kind
	}{
		{"DescribeCdnHosts", nil, `{"code":0,"message":"","codeDesc":"Success","data":{"hosts":[{"id":`,
			map[string]string{"data.hosts": "array", "data.total": "number", "data.hosts.0.host": "string", "data.hosts.1.status": "number", "data.hosts.0.pid_config": "null"}},
		{"GetHostInfoByHost", []string{"hosts.0", "www.example.com", "hosts.1", "nope.example.com"}, `{"code":0,"message":"","codeDesc":"Success","data":{"hosts":[`,
			map[string]string{"data.hosts.0.host_id": "number", "data.total": "number"}},
		{"RefreshCdnUrl", urls("urls", "www.example.com", 2), `{"code":0,"message":"","codeDesc":"Success","data":{"count":2,"task_id":"`,
			map[string]string{"data.count": "number", "data.task_id": "string"}},
		{"RefreshCdnDir", []string{"dirs.0", "http://www.example.com/d/", "type", "2"}, `{"code":0,"message":"","codeDesc":"Success"}`, nil},
		{"CdnPusherV2", urls("urls", "www.example.com", 2), `{"code":0,"message":"","codeDesc":"Success","data":{"task_ids":[{"task_id":`,
			map[string]string{"data.task_ids.0.task_id": "number", "data.task_ids.0.date": "string"}},
		{"CdnUrlPusher", urls("urls", "www.example.com", 1), `{"code":0,"message":"","codeDesc":"Success","data":{"count":1,"task_id":"`, nil},
		{"GetCdnRefreshLog", []string{"startDate", "2024-03-01 00:00:00", "endDate", "2024-03-01 23:59:59"}, `{"retcode":0,"errmsg":"ok","code":0,"message":"","codeDesc":"Success","data":{"logs":[`,
			map[string]string{"data.logs.0.id": "number", "data.logs.0.app_id": "number", "data.logs.0.project_id": "number", "data.logs.0.host": "string",
				"data.logs.0.type": "number", "data.logs.0.status": "number", "data.logs.0.url_list": "array", "data.logs.0.datetime": "string", "data.total": "number"}},
		{"GetCdnLogList", []string{"host", "www.example.com"}, `{"code":0,"message":"","codeDesc":"Success","data":{"now":`,
			map[string]string{"data.list.0.date": "string", "data.list.0.type": "number", "data.list.0.name": "string", "data.list.0.link": "string"}},
		{"AddCdnHost", []string{"host", "added.example.com", "origin", "1.1.1.1"}, `{"code":0,"message":"","codeDesc":"Success"}`, nil},
		{"OfflineHost", []string{"host", "added.example.com"}, `{"code":0,"message":"","codeDesc":"Success"}`, nil},
		{"DeleteCdnHost", []string{"host", "added.example.com"}, `{"retcode":0,"errmsg":"ok","code":0,"message":"","codeDesc":"Success","data":[]}`, nil},
		{"OnlineHost", []string{"host", "static.offline.example"}, `{"code":0,"message":"","codeDesc":"Success"}`, nil},
		// Errors: code, message, codeDesc and nothing else.
		{"OnlineHost", []string{"host", "www.example.com"}, `{"code":4000,"message":"(9177)无法操作上线的域名 cdn host online[host online]","codeDesc":9177}`, nil},
		{"RefreshCdnUrl", urls("urls", "nope.example.com", 1), `{"code":4000,"message":"(9110)域名不存在，请确认后重试 cdn no such host","codeDesc":9110}`, nil},
		{"RefreshCdnUrl", urls("urls", "www.example.com", 1001), `{"code":4000,"message":"(22043)单次提交刷新 URL 超出上限 cdn batch limit exceeded[1001 urls in one call, limit 1000]","codeDesc":"InvalidParameter"}`, nil},
		{"AddCdnHost", []string{"host", "a.noicp.example", "origin", "1.1.1.1"}, `{"code":4000,"message":"(20004)域名未备案，请备案后重试 cdn audit no icp[cdn audit no icp[当前域名未在工信部备案]]","codeDesc":20004}`, nil},
		{"PurgeUrlsCache", nil, `{"code":4000,"message":"模块 cdn 不存在接口 PurgeUrlsCache (no such action in module cdn)","codeDesc":"InvalidParameter"}`, nil},
	} {
		t.Run(tc.action, func(t *testing.T) {
			c.method = http.MethodPost
			got := c.call(tc.action, tc.kv...)
			if !strings.HasPrefix(got.raw, tc.prefix) {
				t.Errorf("body does not start as documented:\n got %s\nwant %s…", got.raw, tc.prefix)
			}
			if strings.HasPrefix(tc.prefix, `{"code":4000`) && len(got.body) != 3 {
				t.Errorf("error body has members beyond code, message, codeDesc: %s", got.raw)
			}
			for path, kind := range tc.want {
				v, ok := got.path(path)
				if !ok || jsonKind(v) != kind {
					t.Errorf("%s: %v (%s), want a %s\n%s", path, v, jsonKind(v), kind, got.raw)
				}
			}
		})
	}
	t.Run("host object has the documented members", func(t *testing.T) {
		var doc map[string]any
		if err := json.Unmarshal([]byte(documentedHost), &doc); err != nil {
			t.Fatal(err)
		}
		got := c.call("DescribeCdnHosts")
		host, _ := got.path("data.hosts.0")
		if g, w := keysOf(host), keysOf(doc); !slices.Equal(g, w) {
			t.Errorf("members %v\nwant      %v", g, w)
		}
		for _, k := range keysOf(doc) {
			if g, w := jsonKind(host.(map[string]any)[k]), jsonKind(toNumber(doc[k])); g != w {
				t.Errorf("%s is a %s, documented as a %s", k, g, w)
			}
		}
	})
}

// toNumber turns float64 into json.Number, to compare kinds with bodies
// decoded with UseNumber.
func toNumber(v any) any {
	if f, ok := v.(float64); ok {
		return json.Number(strconv.FormatFloat(f, 'g', -1, 64))
	}
	return v
}

// TestEmulatorFaultsBounded: the fault list cannot grow without bound
// through the admin endpoint; a batch that would exceed the cap is
// refused whole.
func TestEmulatorFaultsBounded(t *testing.T) {
	e := emulator.New(emulator.Config{})
	rule := emulator.Fault{Kind: emulator.FaultNext, Count: 1, Code: 9112}
	for i := 0; i < emulator.MaxFaults; i++ {
		if _, err := e.AddFaults(rule); err != nil {
			t.Fatalf("rule %d: %v", i+1, err)
		}
	}
	if _, err := e.AddFaults(rule); !errors.Is(err, emulator.ErrTooManyFaults) {
		t.Fatalf("rule %d: err = %v, want ErrTooManyFaults", emulator.MaxFaults+1, err)
	}
	if got := len(e.Faults()); got != emulator.MaxFaults {
		t.Errorf("%d rules kept, want %d", got, emulator.MaxFaults)
	}
}
