package fakeapi3

import (
	"encoding/json"
	"fmt"
	"slices"
	"time"

	"github.com/cdnproxy/cdnproxy/internal/api3"
)

// Aliases of the shared API 3.0 model (internal/api3), under the names
// the fake's tests use.
type (
	// Origin is a domain's origin configuration.
	Origin = api3.Origin
	// Domain is one acceleration domain of the fake's account. Zero
	// fields are filled in when the domain is added: ResourceID
	// "cdn-fake<n>", Cname "<Domain>.cdn.dnsv1.com", Status online,
	// ServiceType web, Area mainland, Origin one "origin.<Domain>" of
	// type domain pulled over http, CreateTime and UpdateTime the fake's
	// clock.
	Domain = api3.Domain
	// Quota is a daily quota of one kind in one area.
	Quota = api3.Quota
	// Task is one URL or directory of a purge or push call.
	Task = api3.Task
)

// Constants of the shared model, under the names the fake's tests use.
const (
	TimeLayout       = api3.TimeLayout
	StatusOnline     = api3.StatusOnline
	StatusOffline    = api3.StatusOffline
	StatusProcessing = api3.StatusProcessing
	AppID            = api3.AppID
	QuotaURLPurge    = api3.QuotaURLPurge
	QuotaPathPurge   = api3.QuotaPathPurge
	QuotaURLPush     = api3.QuotaURLPush
	TaskURLPurge     = api3.TaskURLPurge
	TaskPathPurge    = api3.TaskPathPurge
	TaskPush         = api3.TaskPush
)

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

// defaultQuotas are the API's documented limits per area.
func defaultQuotas() map[string][]Quota {
	q := map[string][]Quota{}
	for _, kind := range []string{QuotaURLPurge, QuotaPathPurge, QuotaURLPush} {
		for _, area := range api3.QuotaAreas {
			q[kind] = append(q[kind], Quota{Batch: api3.DefaultBatch[kind], Total: api3.DefaultTotal[kind],
				Available: api3.DefaultTotal[kind], Area: area})
		}
	}
	return q
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
// Server's mutex guards it. It is the api3.Account the actions run
// against.
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
	d = d.Clone()
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
	return s.st.Domain(name)
}

// Domains returns every domain, in the order they were added.
func (s *Server) Domains() []Domain {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.st.Domains()
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
	return s.st.Tasks()
}

// Calls returns every call the fake accepted (see Call), oldest first.
func (s *Server) Calls() []Call {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.st.calls)
}

// The api3.Account methods: the actions' view of the state.

// Domains returns every domain, in the order added.
func (st *state) Domains() []Domain {
	out := make([]Domain, len(st.domains))
	for i, d := range st.domains {
		out[i] = d.Clone()
	}
	return out
}

// Domain returns the domain of that name.
func (st *state) Domain(name string) (Domain, bool) {
	if d := st.find(name); d != nil {
		return d.Clone(), true
	}
	return Domain{}, false
}

// AddDomain adds a domain as AddCdnDomain asks.
func (st *state) AddDomain(d Domain) *api3.Error {
	if _, err := st.add(d, d.CreateTime); err != nil {
		return &api3.Error{Code: "InternalError", Message: err.Error()}
	}
	return nil
}

// SetStatus changes a domain's status at once.
func (st *state) SetStatus(name, status string, now time.Time) {
	if d := st.find(name); d != nil {
		d.Status, d.UpdateTime = status, now
	}
}

// DeleteDomain removes a domain.
func (st *state) DeleteDomain(name string) {
	st.domains = slices.DeleteFunc(st.domains, func(d *Domain) bool { return d.Domain == name })
}

// Quotas returns the quotas of a kind.
func (st *state) Quotas(kind string) []Quota { return slices.Clone(st.quotas[kind]) }

// Spend takes URLs from the quotas of a kind.
func (st *state) Spend(kind string, byArea map[string]int64) {
	qs := st.quotas[kind]
	for i := range qs {
		qs[i].Available -= byArea[qs[i].Area]
	}
}

// NewTaskID returns the next TaskId.
func (st *state) NewTaskID(now time.Time) string {
	st.taskSeq++
	return fmt.Sprintf("%d-fake%04d", now.Unix(), st.taskSeq)
}

// AddTasks records tasks.
func (st *state) AddTasks(tasks []Task) { st.tasks = append(st.tasks, tasks...) }

// Tasks returns every task, oldest first.
func (st *state) Tasks() []Task { return slices.Clone(st.tasks) }

// Actions lists the actions the fake serves (those of internal/api3).
func Actions() []string { return api3.Actions() }
