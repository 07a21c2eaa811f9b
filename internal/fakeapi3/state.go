package fakeapi3

import (
	"encoding/json"
	"fmt"
	"slices"
	"time"
)

// TimeLayout is how the API writes and reads times ("2018-08-08 00:00:00"),
// always in China Standard Time (UTC+8).
const TimeLayout = "2006-01-02 15:04:05"

// cst is UTC+8, the zone of every time the API writes or reads.
var cst = time.FixedZone("CST", 8*60*60)

// formatTime writes t as the API does.
func formatTime(t time.Time) string { return t.In(cst).Format(TimeLayout) }

// Domain statuses.
const (
	StatusOnline     = "online"
	StatusOffline    = "offline"
	StatusProcessing = "processing"
)

// AppID is the AppId of every domain the fake reports.
const AppID = 1250000000

// Origin is a domain's origin configuration, with the names of the API's
// Origin structure.
type Origin struct {
	Origins            []string `json:"Origins"`
	OriginType         string   `json:"OriginType"`
	ServerName         string   `json:"ServerName"`
	OriginPullProtocol string   `json:"OriginPullProtocol"`
	BackupOrigins      []string `json:"BackupOrigins"`
	BackupOriginType   string   `json:"BackupOriginType"`
	BackupServerName   string   `json:"BackupServerName"`
}

// Domain is one acceleration domain of the fake's account. Zero fields
// are filled in when the domain is added: ResourceID "cdn-fake<n>", Cname
// "<Domain>.cdn.dnsv1.com", Status online, ServiceType web, Area
// mainland, Origin one "origin.<Domain>" of type domain pulled over http,
// CreateTime and UpdateTime the fake's clock.
type Domain struct {
	ResourceID  string
	Domain      string
	Cname       string
	Status      string // StatusOnline, StatusOffline or StatusProcessing
	ServiceType string // web, download, media, hybrid or dynamic
	ProjectID   int64
	Area        string // mainland, overseas or global
	Origin      Origin
	CreateTime  time.Time
	UpdateTime  time.Time
}

// DefaultDomain returns the one domain a fake has when Config.Domains is
// nil: www.example.com, online, ResourceId cdn-fake0001, created at Unix
// time 1700000000.
func DefaultDomain() Domain {
	return Domain{
		ResourceID: "cdn-fake0001", Domain: "www.example.com", Cname: "www.example.com.cdn.dnsv1.com",
		Status: StatusOnline, ServiceType: "web", Area: "mainland",
		Origin:     Origin{Origins: []string{"origin.example.com"}, OriginType: "domain", OriginPullProtocol: "http"},
		CreateTime: time.Unix(1700000000, 0), UpdateTime: time.Unix(1700000000, 0),
	}
}

// NumberedDomains returns n domains d001.example.com, d002.example.com …
// (ResourceIds cdn-seed0001 …), all online, for tests of paging.
func NumberedDomains(n int) []Domain {
	ds := make([]Domain, n)
	for i := range ds {
		ds[i] = Domain{ResourceID: fmt.Sprintf("cdn-seed%04d", i+1), Domain: fmt.Sprintf("d%03d.example.com", i+1)}
	}
	return ds
}

// Quota kinds, named as DescribePurgeQuota and DescribePushQuota name them.
const (
	QuotaURLPurge  = "UrlPurge"
	QuotaPathPurge = "PathPurge"
	QuotaURLPush   = "UrlPush"
)

// Quota is a daily quota of one kind in one area: at most Batch URLs per
// call, Total per day, Available left today.
type Quota struct {
	Batch     int64  `json:"Batch"`
	Total     int64  `json:"Total"`
	Available int64  `json:"Available"`
	Area      string `json:"Area"`
}

// quotaAreas are the areas quotas are kept for.
var quotaAreas = []string{"mainland", "overseas"}

// defaultQuotas are the API's documented limits per area
// (https://tencentcloud.com/document/api/228/33601, 33602, 33600).
func defaultQuotas() map[string][]Quota {
	q := map[string][]Quota{}
	for kind, bt := range map[string][2]int64{QuotaURLPurge: {1000, 10000}, QuotaPathPurge: {500, 100}, QuotaURLPush: {500, 1000}} {
		for _, area := range quotaAreas {
			q[kind] = append(q[kind], Quota{Batch: bt[0], Total: bt[1], Available: bt[1], Area: area})
		}
	}
	return q
}

// Task kinds.
const (
	TaskURLPurge  = "url"
	TaskPathPurge = "path"
	TaskPush      = "push"
)

// Task is one URL or directory of a purge or push call.
type Task struct {
	TaskID     string
	Kind       string // TaskURLPurge, TaskPathPurge or TaskPush
	URL        string
	FlushType  string // flush or delete, for a directory purge
	Area       string
	Status     string // done: the fake completes tasks at once
	CreateTime time.Time
}

// Call is a call the fake accepted: its signature and version checked out
// and it named an action the fake serves. Code is the error code it was
// answered, "" for a success.
type Call struct {
	Action  string
	Version string
	// Host is the Host the call was signed for (and sent to).
	Host string
	// Signing is "TC3" or "v1"; SecretID the key's id.
	Signing  string
	SecretID string
	// Payload is the action's parameters as JSON: the body of a JSON
	// POST as received, or the query or form parameters, nested
	// (Urls.0 -> {"Urls":["…"]}) and without the common ones (Action,
	// Nonce, Signature …), all values strings.
	Payload json.RawMessage
	// Params is Payload decoded (numbers as float64).
	Params map[string]any
	Code   string
}

// state is the fake's account: domains, tasks, quotas and calls. The
// Server's mutex guards it.
type state struct {
	domains []*Domain
	tasks   []Task
	quotas  map[string][]Quota
	calls   []Call
	seq     int // domains added, for ResourceIds
	taskSeq int // calls that made tasks, for TaskIds
}

func (st *state) find(domain string) *Domain {
	for _, d := range st.domains {
		if d.Domain == domain {
			return d
		}
	}
	return nil
}

// add fills in d's zero fields and adds it.
func (st *state) add(d Domain, now time.Time) (Domain, error) {
	if d.Domain == "" {
		return Domain{}, fmt.Errorf("fakeapi3: a domain needs a name")
	}
	if st.find(d.Domain) != nil {
		return Domain{}, fmt.Errorf("fakeapi3: domain %s exists", d.Domain)
	}
	st.seq++
	if d.ResourceID == "" {
		d.ResourceID = fmt.Sprintf("cdn-fake%04d", st.seq)
	}
	if d.Cname == "" {
		d.Cname = d.Domain + ".cdn.dnsv1.com"
	}
	switch d.Status {
	case "":
		d.Status = StatusOnline
	case StatusOnline, StatusOffline, StatusProcessing:
	default:
		return Domain{}, fmt.Errorf("fakeapi3: status %q is not online, offline or processing", d.Status)
	}
	if d.ServiceType == "" {
		d.ServiceType = "web"
	}
	if d.Area == "" {
		d.Area = "mainland"
	}
	if len(d.Origin.Origins) == 0 {
		d.Origin = Origin{Origins: []string{"origin." + d.Domain}, OriginType: "domain", OriginPullProtocol: "http"}
	}
	d.Origin.Origins = slices.Clone(d.Origin.Origins)
	d.Origin.BackupOrigins = slices.Clone(d.Origin.BackupOrigins)
	if d.CreateTime.IsZero() {
		d.CreateTime = now
	}
	if d.UpdateTime.IsZero() {
		d.UpdateTime = d.CreateTime
	}
	st.domains = append(st.domains, &d)
	return d, nil
}

// AddDomain adds a domain to the fake's account, filling in its zero
// fields (see Domain), and returns it as stored. It fails when the name is
// empty or taken or the status unknown.
func (s *Server) AddDomain(d Domain) (Domain, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.st.add(d, s.now())
}

// Domain returns the domain of that name as the fake holds it now.
func (s *Server) Domain(name string) (Domain, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if d := s.st.find(name); d != nil {
		return cloneDomain(d), true
	}
	return Domain{}, false
}

// Domains returns every domain, in the order they were added.
func (s *Server) Domains() []Domain {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Domain, len(s.st.domains))
	for i, d := range s.st.domains {
		out[i] = cloneDomain(d)
	}
	return out
}

func cloneDomain(d *Domain) Domain {
	c := *d
	c.Origin.Origins = slices.Clone(d.Origin.Origins)
	c.Origin.BackupOrigins = slices.Clone(d.Origin.BackupOrigins)
	return c
}

// SetDomainStatus sets a domain's status (StatusProcessing, say, to test
// ResourceInUse.CdnOpInProgress) and reports whether the domain exists.
func (s *Server) SetDomainStatus(name, status string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	d := s.st.find(name)
	if d != nil {
		d.Status, d.UpdateTime = status, s.now()
	}
	return d != nil
}

// Quota returns the quota of a kind (QuotaURLPurge, QuotaPathPurge,
// QuotaURLPush) in an area (mainland, overseas).
func (s *Server) Quota(kind, area string) (Quota, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, q := range s.st.quotas[kind] {
		if q.Area == area {
			return q, true
		}
	}
	return Quota{}, false
}

// SetQuota replaces the quota of a kind in q.Area, so that a test can
// bring a limit within reach.
func (s *Server) SetQuota(kind string, q Quota) {
	s.mu.Lock()
	defer s.mu.Unlock()
	qs := s.st.quotas[kind]
	for i := range qs {
		if qs[i].Area == q.Area {
			qs[i] = q
			return
		}
	}
	s.st.quotas[kind] = append(qs, q)
}

// Tasks returns every purge and push task recorded, oldest first.
func (s *Server) Tasks() []Task {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.st.tasks)
}

// Calls returns every call the fake accepted (see Call), oldest first.
func (s *Server) Calls() []Call {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.st.calls)
}
