package bridge

import (
	"hash/fnv"
	"net"
	"strconv"
	"strings"
)

// HostID returns the numeric 2.0 host id of a 3.0 domain: a hash of its
// ResourceId (FNV-1a, 64 bits, cut to 53), so the same domain always has
// the same id, on every proxy and after restarts. It is positive and below
// 2^53, so it survives JSON clients that read numbers as doubles.
func HostID(resourceID string) int64 { return numericID(resourceID) }

// numericID hashes s to a positive integer below 2^53.
func numericID(s string) int64 {
	h := fnv.New64a()
	h.Write([]byte(s))
	id := int64(h.Sum64() & (1<<53 - 1))
	if id == 0 {
		id = 1
	}
	return id
}

// remember adds listed domains to the id index. Should two ResourceIds
// ever hash to one id, the one listed last wins.
func (b *Bridge) remember(domains []domainConfig) {
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, d := range domains {
		if d.ResourceID != "" {
			b.hosts[HostID(d.ResourceID)] = hostRef{resourceID: d.ResourceID, domain: d.Domain}
		}
	}
}

// lookup returns the domain of a numeric id the index knows.
func (b *Bridge) lookup(id int64) (hostRef, bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	r, ok := b.hosts[id]
	return r, ok
}

// resolve returns the domains of numeric ids, in order, leaving out ids
// the account does not have. On a miss it lists every domain (which fills
// the index) and looks again.
func (c *call) resolve(ids []int64) ([]hostRef, error) {
	refs, missed := c.known(ids)
	if missed {
		if _, _, err := c.listDomains(nil, 0, -1); err != nil {
			return nil, err
		}
		refs, _ = c.known(ids)
	}
	return refs, nil
}

// known returns the indexed domains of ids and whether any was missing.
func (c *call) known(ids []int64) (refs []hostRef, missed bool) {
	for _, id := range ids {
		if r, ok := c.b.lookup(id); ok {
			refs = append(refs, r)
		} else {
			missed = true
		}
	}
	return refs, missed
}

// domainFilter is one of DescribeDomainsConfig's Filters.
type domainFilter struct {
	Name  string   `json:"Name"`
	Value []string `json:"Value"`
}

// domainConfig is the part of 3.0's DetailDomain the host object uses.
type domainConfig struct {
	ResourceID  string `json:"ResourceId"`
	AppID       int64  `json:"AppId"`
	Domain      string `json:"Domain"`
	Cname       string `json:"Cname"`
	Status      string `json:"Status"`
	ProjectID   int64  `json:"ProjectId"`
	ServiceType string `json:"ServiceType"`
	CreateTime  string `json:"CreateTime"`
	UpdateTime  string `json:"UpdateTime"`
	Origin      *struct {
		Origins    []string `json:"Origins"`
		OriginType string   `json:"OriginType"`
		ServerName string   `json:"ServerName"`
	} `json:"Origin"`
	Cache *struct {
		SimpleCache *struct {
			CacheRules []struct {
				CacheType     string   `json:"CacheType"`
				CacheContents []string `json:"CacheContents"`
				CacheTime     int64    `json:"CacheTime"`
			} `json:"CacheRules"`
		} `json:"SimpleCache"`
	} `json:"Cache"`
	CacheKey *struct {
		FullURLCache string `json:"FullUrlCache"`
	} `json:"CacheKey"`
	Referer *struct {
		Switch       string `json:"Switch"`
		RefererRules []struct {
			RefererType string   `json:"RefererType"`
			Referers    []string `json:"Referers"`
			AllowEmpty  bool     `json:"AllowEmpty"`
		} `json:"RefererRules"`
	} `json:"Referer"`
	HTTPS *struct {
		Switch   string `json:"Switch"`
		CertInfo *struct {
			ExpireTime string `json:"ExpireTime"`
			DeployTime string `json:"DeployTime"`
		} `json:"CertInfo"`
	} `json:"Https"`
	Seo *struct {
		Switch string `json:"Switch"`
	} `json:"Seo"`
	Disable  string `json:"Disable"`
	Area     string `json:"Area"`
	Readonly string `json:"Readonly"`
}

// domainPage is DescribeDomainsConfig's largest Limit.
const domainPage = 100

// filterValues is the most values one 3.0 domain filter takes.
const filterValues = 5

// listDomains pages through DescribeDomainsConfig from offset, want
// domains (want < 0: all), and returns them and the total the upstream
// reports. Every listed domain goes into the id index.
func (c *call) listDomains(filters []domainFilter, offset, want int) ([]domainConfig, int, error) {
	var all []domainConfig
	total := 0
	err := pages(offset, want, domainPage, func(offset, limit int) (int, int, error) {
		var out struct {
			Domains     []domainConfig `json:"Domains"`
			TotalNumber int            `json:"TotalNumber"`
		}
		if err := c.v3("DescribeDomainsConfig", struct {
			Offset  int            `json:"Offset"`
			Limit   int            `json:"Limit"`
			Filters []domainFilter `json:"Filters,omitempty"`
		}{offset, limit, filters}, &out); err != nil {
			return 0, 0, err
		}
		c.b.remember(out.Domains)
		all = append(all, out.Domains...)
		total = out.TotalNumber
		return len(out.Domains), out.TotalNumber, nil
	})
	return all, total, err
}

// listBy lists the domains whose filter field (domain or resourceId) is
// one of values, filterValues values per call.
func (c *call) listBy(field string, values []string) ([]domainConfig, error) {
	var all []domainConfig
	for len(values) > 0 {
		n := min(filterValues, len(values))
		got, _, err := c.listDomains([]domainFilter{{Name: field, Value: values[:n]}}, 0, -1)
		if err != nil {
			return nil, err
		}
		all = append(all, got...)
		values = values[n:]
	}
	return all, nil
}

// HostList is the data of DescribeCdnHosts and GetHostInfoBy*.
type HostList struct {
	Hosts []Host `json:"hosts"`
	Total int    `json:"total"`
}

// answerHosts answers with the host objects of domains.
func (c *call) answerHosts(domains []domainConfig, total int) error {
	hosts := make([]Host, 0, len(domains))
	for _, d := range domains {
		hosts = append(hosts, hostOfDomain(d))
	}
	return c.ok(HostList{Hosts: hosts, Total: total})
}

// describeCdnHosts: DescribeCdnHosts offset, limit (absent: all) ->
// DescribeDomainsConfig, 100 per page.
func (c *call) describeCdnHosts() error {
	offset, limit, err := c.window()
	if err != nil {
		return err
	}
	domains, total, err := c.listDomains(nil, offset, limit)
	if err != nil {
		return err
	}
	return c.answerHosts(domains, total)
}

// getHostInfoByHost: GetHostInfoByHost hosts.n -> DescribeDomainsConfig
// filtered on domain; names the account does not have are left out.
func (c *call) getHostInfoByHost() error {
	names, err := c.requiredList("hosts")
	if err != nil {
		return err
	}
	domains, err := c.listBy("domain", names)
	if err != nil {
		return err
	}
	return c.answerHosts(domains, len(domains))
}

// hostIDs parses numeric host ids.
func (c *call) hostIDs(raw []string, name string) ([]int64, error) {
	ids := make([]int64, 0, len(raw))
	for _, s := range raw {
		id, err := strconv.ParseInt(s, 10, 64)
		if err != nil || id <= 0 {
			return nil, c.invalid(name + " must be a positive integer host id")
		}
		ids = append(ids, id)
	}
	return ids, nil
}

// getHostInfoByID: GetHostInfoById ids.n -> the id index ->
// DescribeDomainsConfig filtered on resourceId; unknown ids are left out.
func (c *call) getHostInfoByID() error {
	raw, err := c.requiredList("ids")
	if err != nil {
		return err
	}
	ids, err := c.hostIDs(raw, "ids.n")
	if err != nil {
		return err
	}
	refs, err := c.resolve(ids)
	if err != nil {
		return err
	}
	var domains []domainConfig
	if len(refs) > 0 {
		rids := make([]string, len(refs))
		for i, r := range refs {
			rids[i] = r.resourceID
		}
		if domains, err = c.listBy("resourceId", rids); err != nil {
			return err
		}
	}
	return c.answerHosts(domains, len(domains))
}

// target returns the domain name a host operation names by host or hostId.
func (c *call) target() (string, error) {
	if h := c.get("host"); h != "" {
		return h, nil
	}
	raw := c.get("hostId")
	if raw == "" {
		return "", c.invalid("host or hostId is required")
	}
	ids, err := c.hostIDs([]string{raw}, "hostId")
	if err != nil {
		return "", err
	}
	refs, err := c.resolve(ids)
	if err != nil {
		return "", err
	}
	if len(refs) == 0 {
		return "", c.noSuchHost("hostId " + raw)
	}
	return refs[0].domain, nil
}

// domainOp runs a 3.0 action that takes one Domain and answers nothing.
func (c *call) domainOp(action string) error {
	domain, err := c.target()
	if err != nil {
		return err
	}
	return c.v3(action, struct {
		Domain string `json:"Domain"`
	}{domain}, nil)
}

// onlineHost: OnlineHost host or hostId -> StartCdnDomain.
func (c *call) onlineHost() error {
	if err := c.domainOp("StartCdnDomain"); err != nil {
		return err
	}
	return c.ok(nil)
}

// offlineHost: OfflineHost host or hostId -> StopCdnDomain.
func (c *call) offlineHost() error {
	if err := c.domainOp("StopCdnDomain"); err != nil {
		return err
	}
	return c.ok(nil)
}

// deleteCdnHost: DeleteCdnHost host or hostId -> DeleteCdnDomain; the
// answer has the documented legacy members and an empty data array.
func (c *call) deleteCdnHost() error {
	if err := c.domainOp("DeleteCdnDomain"); err != nil {
		return err
	}
	return c.okLegacy([]any{})
}

// addCdnHost: AddCdnHost host, origin, hostType, projectId, serviceType,
// fwdHost -> AddCdnDomain.
func (c *call) addCdnHost() error {
	domain := c.get("host")
	if domain == "" {
		return c.invalid("host is required")
	}
	project, err := c.intParam("projectId", 0)
	if err != nil {
		return err
	}
	service := c.get("serviceType")
	switch service {
	case "":
		service = "web"
	case "web", "download", "media":
	default:
		return c.invalid("serviceType must be web, download or media")
	}
	type origin struct {
		Origins    []string `json:"Origins"`
		OriginType string   `json:"OriginType"`
		ServerName string   `json:"ServerName,omitempty"`
	}
	o := origin{ServerName: c.get("fwdHost")}
	for _, s := range strings.Split(c.get("origin"), ";") {
		if s = strings.TrimSpace(s); s != "" {
			o.Origins = append(o.Origins, s)
		}
	}
	switch c.get("hostType") {
	case "", "cname":
		if len(o.Origins) == 0 {
			return c.invalid("origin is required for hostType cname")
		}
		o.OriginType = originType(o.Origins)
	case "cos":
		if len(o.Origins) == 0 {
			return c.invalid("origin (the bucket's domain) is required for hostType cos")
		}
		o.OriginType = "cos"
	default:
		return c.invalid("hostType must be cname or cos (ftp hosting has no API 3.0 successor)")
	}
	if err := c.v3("AddCdnDomain", struct {
		Domain      string `json:"Domain"`
		ServiceType string `json:"ServiceType"`
		Origin      origin `json:"Origin"`
		ProjectID   int    `json:"ProjectId"`
	}{domain, service, o, project}, nil); err != nil {
		return err
	}
	return c.ok(nil)
}

// originType is "ip" when every origin is an IP address (with an optional
// :port or :port:weight), else "domain".
func originType(origins []string) string {
	for _, o := range origins {
		h := o
		if strings.Count(o, ":") <= 2 && !strings.HasPrefix(o, "[") {
			h, _, _ = strings.Cut(o, ":")
		}
		if net.ParseIP(strings.Trim(h, "[]")) == nil {
			return "domain"
		}
	}
	return "ip"
}
