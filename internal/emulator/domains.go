package emulator

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/cdnproxy/cdnproxy/proxy/bridge"
)

// Fixed account numbers shown in host objects (the documentation's
// example values).
const (
	appID    = 1234567
	ownerUIN = 7654321
)

// Host name suffixes that make AddCdnHost fail the way some real domains
// do, so that these errors can be provoked without fault rules.
const (
	suffixNoICP = ".noicp.example" // not ICP-filed: 20004
	suffixTaken = ".taken.example" // added by another account: 9138
)

// beijing is the API's time zone: days, dates and times in bodies are
// Beijing time.
var beijing = time.FixedZone("UTC+8", 8*60*60)

// timeLayout is how the API writes times ("2016-08-25 21:22:40").
const timeLayout = "2006-01-02 15:04:05"

// domain is one domain of the emulated account.
type domain struct {
	id        int
	host      string
	status    Status
	readyAt   time.Time // when a deploying domain goes online; zero: never
	origin    string
	projectID int
	hostType  string
	created   time.Time
	updated   time.Time
}

// settle moves a deploying domain online once its deployment is over.
func (d *domain) settle(now time.Time) {
	if d.status == StatusDeploying && !d.readyAt.IsZero() && !now.Before(d.readyAt) {
		d.status, d.updated = StatusOnline, d.readyAt
	}
}

// addDomain creates a domain. e.mu must be held (or e not yet shared).
func (e *Emulator) addDomain(host string, status Status, origin string, project int, hostType string, now time.Time) *domain {
	d := &domain{
		id: e.nextHostID, host: host, status: status, origin: origin,
		projectID: project, hostType: hostType, created: now, updated: now,
	}
	e.nextHostID++
	e.domains[host] = d
	return d
}

// deploy puts d in deployment, online after DeployTime.
func (e *Emulator) deploy(d *domain, now time.Time) {
	d.status, d.updated, d.readyAt = StatusDeploying, now, now.Add(e.deployTime)
	d.settle(now)
}

// sortedDomains returns every domain, settled, in order of creation.
func (e *Emulator) sortedDomains(now time.Time) []*domain {
	all := make([]*domain, 0, len(e.domains))
	for _, d := range e.domains {
		d.settle(now)
		all = append(all, d)
	}
	slices.SortFunc(all, func(a, b *domain) int { return a.id - b.id })
	return all
}

// lookup returns the domain a URL or host name belongs to, settled.
func (e *Emulator) lookup(host string, now time.Time) *domain {
	d := e.domains[strings.ToLower(host)]
	if d != nil {
		d.settle(now)
	}
	return d
}

// target returns the domain named by the host or hostId parameter.
func (e *Emulator) target(r *request) (*domain, *reply) {
	if host := r.get("host"); host != "" {
		if d := e.lookup(host, r.now); d != nil {
			return d, nil
		}
		rep := errModule(9110, tailNoHost)
		return nil, &rep
	}
	raw := r.get("hostId")
	if raw == "" {
		rep := errParam("host or hostId is required")
		return nil, &rep
	}
	id, err := strconv.Atoi(raw)
	if err != nil {
		rep := errParam("hostId is not a number")
		return nil, &rep
	}
	for _, d := range e.domains {
		if d.id == id {
			d.settle(r.now)
			return d, nil
		}
	}
	rep := errModule(9110, tailNoHost)
	return nil, &rep
}

// info returns d's host object.
func (d *domain) info() bridge.Host {
	message := map[Status]string{StatusDeploying: "部署中", StatusOnline: "已开启", StatusOffline: "已关闭"}[d.status]
	disabled := 0
	if d.status == StatusOffline {
		disabled = 1
	}
	return bridge.Host{
		ID: int64(d.id), AppID: appID, OwnerUIN: ownerUIN, ProjectID: int64(d.projectID),
		Host: d.host, HostType: d.hostType, ServiceType: "web", Origin: d.origin,
		Cache: []bridge.CacheRule{
			{Type: 0, Rule: "all", Time: 2592000, Unit: "d"},
			{Type: 1, Rule: ".php;.jsp;.asp;.aspx", Time: 0, Unit: "s"},
		},
		Status: int(d.status), Disabled: disabled, Message: message, EnableOverseas: "no",
		CreateTime: d.created.In(beijing).Format(timeLayout),
		UpdateTime: d.updated.In(beijing).Format(timeLayout),
		Deleted:    "no", FwdHostType: "default", FwdHost: d.host, MiddleResource: -1,
		Refer:     bridge.Refer{Type: 0, List: []string{}, NullFlag: 0},
		Cname:     d.host + ".cdn.dnsv1.com",
		CacheMode: "simple", FurlCache: "on", SEO: "off", HostID: int64(d.id),
	}
}

// describeCdnHosts lists every domain; offset and limit page the list
// (no limit: all), total counts them all.
func (e *Emulator) describeCdnHosts(r *request) reply {
	offset, ok1 := r.intParam("offset", 0)
	limit, ok2 := r.intParam("limit", -1)
	if !ok1 || !ok2 {
		return errParam("offset and limit must be non-negative integers")
	}
	all := e.sortedDomains(r.now)
	out := bridge.HostList{Hosts: []bridge.Host{}, Total: len(all)}
	for i, d := range all {
		if i < offset || (limit >= 0 && len(out.Hosts) >= limit) {
			continue
		}
		out.Hosts = append(out.Hosts, d.info())
	}
	return ok(out)
}

// getHostInfoByHost returns the domains named by hosts.n; names the
// account does not have are left out.
func (e *Emulator) getHostInfoByHost(r *request) reply {
	names := r.list("hosts")
	if len(names) == 0 {
		return errParam("hosts.n is required")
	}
	out := bridge.HostList{Hosts: []bridge.Host{}}
	for _, name := range names {
		if d := e.lookup(name, r.now); d != nil {
			out.Hosts = append(out.Hosts, d.info())
		}
	}
	out.Total = len(out.Hosts)
	return ok(out)
}

// addCdnHost adds a domain, which deploys and then goes online.
func (e *Emulator) addCdnHost(r *request) reply {
	host := strings.ToLower(r.get("host"))
	if host == "" {
		return errParam("host is required")
	}
	if err := checkHost(host); err != nil {
		return errModule(9107, tailBadHost)
	}
	hostType := r.get("hostType")
	if hostType == "" {
		hostType = "cname"
	}
	if hostType != "cname" && hostType != "ftp" && hostType != "cos" {
		return errParam("hostType must be cname, ftp or cos")
	}
	origin := r.get("origin")
	if hostType == "cname" && origin == "" {
		return errParam("origin is required for hostType cname")
	}
	project, okProject := r.intParam("projectId", 0)
	if !okProject {
		return errParam("projectId must be a non-negative integer")
	}
	switch {
	case e.domains[host] != nil:
		return errModule(9137, tailExistsOwn)
	case strings.HasSuffix(host, suffixTaken):
		return errModule(9138, tailExistsOther)
	case strings.HasSuffix(host, suffixNoICP):
		return errModule(20004, tailNoICP)
	case len(e.domains) >= e.limits.Domains:
		return errModule(9089, tailTooManyHosts)
	}
	d := e.addDomain(host, StatusDeploying, origin, project, hostType, r.now)
	e.deploy(d, r.now)
	return ok(nil)
}

// onlineHost starts an offline domain.
func (e *Emulator) onlineHost(r *request) reply {
	d, bad := e.target(r)
	if bad != nil {
		return *bad
	}
	switch d.status {
	case StatusOnline:
		return errModule(9177, tailOnline)
	case StatusDeploying:
		return errModule(9175, tailInProgress)
	}
	e.deploy(d, r.now)
	return ok(nil)
}

// offlineHost stops an online domain.
func (e *Emulator) offlineHost(r *request) reply {
	d, bad := e.target(r)
	if bad != nil {
		return *bad
	}
	switch d.status {
	case StatusOffline:
		return errModule(9176, tailOffline)
	case StatusDeploying:
		return errModule(9175, tailInProgress)
	}
	d.status, d.updated = StatusOffline, r.now
	return ok(nil)
}

// deleteCdnHost deletes an offline domain.
func (e *Emulator) deleteCdnHost(r *request) reply {
	d, bad := e.target(r)
	if bad != nil {
		return *bad
	}
	if d.status != StatusOffline {
		return errModule(9315, tailNotOffline)
	}
	delete(e.domains, d.host)
	return okLegacy([]any{})
}

// checkHost reports whether host is a plausible domain name: at least two
// dot-separated labels of lower-case letters, digits and inner hyphens.
func checkHost(host string) error {
	if len(host) == 0 || len(host) > 253 {
		return fmt.Errorf("%q is not a domain name", host)
	}
	labels := strings.Split(host, ".")
	if len(labels) < 2 {
		return fmt.Errorf("%q is not a domain name (no dot)", host)
	}
	for _, l := range labels {
		if l == "" || len(l) > 63 || l[0] == '-' || l[len(l)-1] == '-' {
			return fmt.Errorf("%q is not a domain name", host)
		}
		for i := 0; i < len(l); i++ {
			c := l[i]
			if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-') {
				return fmt.Errorf("%q is not a domain name", host)
			}
		}
	}
	return nil
}

// ParseDomains reads a comma-separated list of domain names, such as
// "www.example.com,img.example.com,static.offline.example". A name with
// a label "offline" starts offline, one with a label "deploying" stays
// deploying for good (so 9175 can be provoked); any other is online.
// Names are lower-cased; blanks around names and empty entries are
// ignored; an invalid or repeated name is an error.
func ParseDomains(list string) ([]Domain, error) {
	var out []Domain
	seen := make(map[string]bool)
	for i, entry := range strings.Split(list, ",") {
		host := strings.ToLower(strings.TrimSpace(entry))
		if host == "" {
			continue
		}
		if err := checkHost(host); err != nil {
			return nil, fmt.Errorf("entry %d: %w", i+1, err)
		}
		if seen[host] {
			return nil, fmt.Errorf("entry %d: %q is listed twice", i+1, host)
		}
		seen[host] = true
		status := StatusOnline
		labels := strings.Split(host, ".")
		switch {
		case slices.Contains(labels, "offline"):
			status = StatusOffline
		case slices.Contains(labels, "deploying"):
			status = StatusDeploying
		}
		out = append(out, Domain{Host: host, Status: status})
	}
	return out, nil
}
