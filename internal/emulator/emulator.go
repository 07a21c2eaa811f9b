// Package emulator is an offline stand-in for Tencent Cloud's CDN API, both
// generations on one account: API 2.0 at /v2/index.php (as
// cdn.api.qcloud.com served it) and API 3.0 at / (as
// cdn.tencentcloudapi.com serves it, see v3.go), for developing and testing
// clients without credentials or a network: it checks signatures as the API
// does, keeps a small set of domains whose state changes as calls arrive,
// enforces the documented daily and per-call limits, and fails calls on
// demand with any code of the catalogue (fault injection).
//
// A call reads as a straight line through the files: request.go reads the
// parameters, auth.go checks the signature, Timestamp and Nonce, faults.go
// may fail the call, actions.go finds the action, domains.go and purge.go
// carry it out, reply.go writes the body. admin.go serves the fault rules.
// An API 3.0 call goes through v3.go instead, whose account3 lets the
// shared 3.0 actions of internal/api3 act on the same domains, tasks and
// daily quotas.
package emulator

import (
	"log/slog"
	"maps"
	"math/rand/v2"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/cdnproxy/cdnproxy/internal/api3"
	"github.com/cdnproxy/cdnproxy/proxy/signature"
)

// Path is the one API path the emulator serves, as the real API does.
const Path = "/v2/index.php"

// CanonicalHost is the API's host name. A signature computed over it is
// accepted whatever Host header the call arrives with, because official
// clients sign the host they were configured with.
const CanonicalHost = "cdn.api.qcloud.com"

// Status is a domain's state, numbered as DescribeCdnHosts reports it.
type Status int

// The domain states the emulator uses (the API also has 1 auditing, 2
// audit failed and 3 approved, which the emulator never enters).
const (
	StatusDeploying Status = 4 // being deployed; most changes are refused with 9175
	StatusOnline    Status = 5 // serving
	StatusOffline   Status = 6 // stopped; may be deleted
)

// String returns the state's name: deploying, online or offline.
func (s Status) String() string {
	switch s {
	case StatusDeploying:
		return "deploying"
	case StatusOnline:
		return "online"
	case StatusOffline:
		return "offline"
	}
	return "unknown"
}

// Domain is a domain that exists when the emulator starts.
type Domain struct {
	// Host is the domain name, such as www.example.com.
	Host string
	// Status is its state. A domain created StatusDeploying stays
	// deploying for good, so that 9175 can be provoked on demand.
	Status Status
}

// Limits are the per-call and daily limits. A zero field takes the API's
// documented value (in parentheses). Days are Beijing days (UTC+8), counted
// per SecretId.
type Limits struct {
	RefreshURLsPerCall int // RefreshCdnUrl URLs per call (1000), else 22043
	RefreshURLsPerDay  int // RefreshCdnUrl URLs per day (10000), else 22044
	RefreshDirsPerCall int // RefreshCdnDir directories per call (20), else 22045
	RefreshDirsPerDay  int // RefreshCdnDir directories per day (100), else 22046
	PushURLsPerCall    int // CdnPusherV2 URLs per call (20), else 23100; CdnUrlPusher 21002
	PushURLsPerDay     int // CdnPusherV2 and CdnUrlPusher URLs per day, shared (1000), else 23101; CdnUrlPusher 21000
	Domains            int // domains in the account (100), else AddCdnHost fails with 9089
}

// withDefaults fills zero fields with the API's values.
func (l Limits) withDefaults() Limits {
	def := func(v *int, d int) {
		if *v <= 0 {
			*v = d
		}
	}
	def(&l.RefreshURLsPerCall, 1000)
	def(&l.RefreshURLsPerDay, 10000)
	def(&l.RefreshDirsPerCall, 20)
	def(&l.RefreshDirsPerDay, 100)
	def(&l.PushURLsPerCall, 20)
	def(&l.PushURLsPerDay, 1000)
	def(&l.Domains, 100)
	return l
}

// Config is what an Emulator starts with. Every field has a working zero
// value, but without Credentials no call can authenticate.
type Config struct {
	// Credentials maps each accepted SecretId to its SecretKey. All of
	// them act on the same account (the same domains); limits are counted
	// per SecretId.
	Credentials map[string]string
	// Now is the emulator's clock, for the Timestamp window, Nonce memory,
	// days and times in bodies. Nil means time.Now.
	Now func() time.Time
	// Domains exist, in this order, when the emulator starts (created a
	// week earlier, so GetCdnLogList has logs for them). New panics on
	// an invalid or repeated host; ParseDomains returns valid ones.
	Domains []Domain
	// Faults are the fault-injection rules in force at start. New panics
	// on an invalid rule; ParseFaults returns valid ones.
	Faults []Fault
	// Rand decides which calls a rate rule fails. Nil means a randomly
	// seeded source; pass a seeded one (rand.NewPCG(1, 2)) for repeatable
	// tests.
	Rand rand.Source
	// Limits are the per-call and daily limits; zero fields take the
	// API's values.
	Limits Limits
	// DeployTime is how long AddCdnHost and OnlineHost leave a domain
	// deploying (status 4) before it is online. Zero means at once.
	DeployTime time.Duration
	// MaxNonces caps how many (SecretId, Nonce) pairs are remembered for
	// replay refusal. Pairs are forgotten 2 hours after they were seen or,
	// when the cap is reached, oldest first. Zero means 100000.
	MaxNonces int
	// Logger receives one line per API call. Nil discards.
	Logger *slog.Logger
}

// Emulator is the emulated API 2.0 endpoint, an http.Handler. Build it with
// New; it is safe for concurrent use.
type Emulator struct {
	creds      map[string]string // SecretKeys by SecretId
	now        func() time.Time
	limits     Limits
	deployTime time.Duration
	logger     *slog.Logger

	mu         sync.Mutex // guards everything below
	rand       *rand.Rand
	nonces     nonceMemory
	domains    map[string]*domain
	nextHostID int
	usage      map[string]*usage // by SecretId
	logs       []refreshLog      // oldest first, at most maxLogs
	pushes     []api3.Task       // prefetches of either generation, oldest first, at most maxLogs
	rate       rateCounter       // API 3.0 calls per action this second
	nextLogID  int
	taskSeq    int
	faults     []Fault
	nextFault  int
}

// New returns an Emulator for cfg. It panics if cfg.Domains or cfg.Faults
// holds an invalid entry, as a programming error.
func New(cfg Config) *Emulator {
	e := &Emulator{
		creds:      maps.Clone(cfg.Credentials),
		now:        cfg.Now,
		limits:     cfg.Limits.withDefaults(),
		deployTime: cfg.DeployTime,
		logger:     cfg.Logger,
		domains:    make(map[string]*domain),
		nextHostID: 308902,
		usage:      make(map[string]*usage),
		nextLogID:  6182538,
		nextFault:  1,
	}
	if e.now == nil {
		e.now = time.Now
	}
	if e.logger == nil {
		e.logger = slog.New(slog.DiscardHandler)
	}
	src := cfg.Rand
	if src == nil {
		src = rand.NewPCG(rand.Uint64(), rand.Uint64())
	}
	e.rand = rand.New(src)
	max := cfg.MaxNonces
	if max <= 0 {
		max = 100000
	}
	e.nonces = nonceMemory{max: max, seen: make(map[nonceKey]struct{})}
	created := e.now().Add(-7 * 24 * time.Hour)
	for _, d := range cfg.Domains {
		host := strings.ToLower(d.Host)
		if err := checkHost(host); err != nil {
			panic("emulator.New: " + err.Error())
		}
		if _, dup := e.domains[host]; dup {
			panic("emulator.New: domain " + host + " is listed twice")
		}
		switch d.Status {
		case StatusDeploying, StatusOnline, StatusOffline:
		default:
			panic("emulator.New: domain " + host + " has an unknown status")
		}
		e.addDomain(host, d.Status, "origin."+host, 0, "cname", created)
	}
	if _, err := e.AddFaults(cfg.Faults...); err != nil {
		panic("emulator.New: " + err.Error())
	}
	return e
}

// ServeHTTP answers one API call: API 3.0 at / (see v3.go), API 2.0 at
// /v2/index.php. Like the API it answers errors with status 200 and a JSON
// body; only a path other than these or a 2.0 method other than GET and
// POST get 404, and an oversized 2.0 call 501.
func (e *Emulator) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path == Path3 {
		action, rep := e.serve3(w, r)
		write3(w, rep)
		e.logger.Info("call", "api", "3.0", "method", r.Method, "action", action, "code", rep.code, "fault", rep.fault)
		return
	}
	var rep reply
	action := ""
	switch {
	case r.URL.Path != Path:
		rep = errPath()
	case r.Method != http.MethodGet && r.Method != http.MethodPost:
		rep = errMethod()
	default:
		params, bad := readParams(w, r)
		if bad != nil {
			rep = *bad
			break
		}
		action, _ = params.Get("Action")
		rep = e.call(r.Method, r.Host, params)
	}
	write(w, rep)
	e.logger.Info("call", "api", "2.0", "method", r.Method, "action", action, "code", rep.body.Code,
		"moduleCode", rep.module, "fault", rep.fault)
}

// call checks a call's credentials and carries it out.
func (e *Emulator) call(method, host string, params signature.Params) reply {
	id, bad := e.authenticate(method, host, params)
	if bad != nil {
		return *bad
	}
	now := e.now()
	nonce, bad := checkFreshness(params, now)
	if bad != nil {
		return *bad
	}
	action, _ := params.Get("Action")
	handle := handler(action)

	e.mu.Lock()
	defer e.mu.Unlock()
	if !e.nonces.add(nonceKey{id, nonce}, now) {
		return errReplay(now)
	}
	switch {
	case action == "":
		return errPublic(4000, "缺少参数 Action (missing parameter Action)")
	case handle == nil:
		return errPublic(4000, "模块 cdn 不存在接口 "+action+" (no such action in module cdn)")
	}
	if f, ok := e.injected(action, false); ok {
		return faultReply(f)
	}
	return handle(e, &request{params: params, secretID: id, now: now})
}

// request is one authenticated call, as the action handlers see it.
type request struct {
	params   signature.Params
	secretID string
	now      time.Time
}

// get returns a parameter's value, "" when absent.
func (r *request) get(name string) string {
	v, _ := r.params.Get(name)
	return v
}
