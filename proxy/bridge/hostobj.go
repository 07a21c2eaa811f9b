package bridge

import "strings"

// Host is the 2.0 host object, as DescribeCdnHosts and GetHostInfoBy*
// answered it, members in the documented order. Filled from 3.0, members
// with no 3.0 source carry the value the 2.0 API gave a plain domain
// (docs/bridge.md lists which). The emulator answers with it too.
type Host struct {
	ID              int64       `json:"id"`
	AppID           int64       `json:"app_id"`
	OwnerUIN        int64       `json:"owner_uin"`
	ProjectID       int64       `json:"project_id"`
	Host            string      `json:"host"`
	HostType        string      `json:"host_type"`
	ServiceType     string      `json:"service_type"`
	Origin          string      `json:"origin"`
	Cache           []CacheRule `json:"cache"`
	Status          int         `json:"status"`
	Disabled        int         `json:"disabled"`
	Message         string      `json:"message"`
	EnableOverseas  string      `json:"enable_overseas"`
	CreateTime      string      `json:"create_time"`
	UpdateTime      string      `json:"update_time"`
	Deleted         string      `json:"deleted"`
	FwdHostType     string      `json:"fwd_host_type"`
	FwdHost         string      `json:"fwd_host"`
	MiddleResource  int         `json:"middle_resource"`
	Refer           Refer       `json:"refer"`
	Readonly        int         `json:"readonly"`
	Cname           string      `json:"cname"`
	CacheMode       string      `json:"cache_mode"`
	FurlCache       string      `json:"furl_cache"`
	SSLType         int         `json:"ssl_type"`
	PidConfig       any         `json:"pid_config"`
	BucketName      string      `json:"bucket_name"`
	BucketProjectID int         `json:"bucket_project_id"`
	SSLDeployTime   any         `json:"ssl_deploy_time"`
	SSLExpireTime   any         `json:"ssl_expire_time"`
	SEO             string      `json:"seo"`
	HostID          int64       `json:"host_id"`
}

// CacheRule is one 2.0 cache rule: type 0 all files, 1 file suffixes,
// 2 directories, 3 full paths; time in seconds.
type CacheRule struct {
	Type int    `json:"type"`
	Rule string `json:"rule"`
	Time int64  `json:"time"`
	Unit string `json:"unit"`
}

// Refer is the 2.0 referer list: type 0 none, 1 blacklist, 2 whitelist;
// null_flag 1 when an empty Referer is allowed.
type Refer struct {
	Type     int      `json:"type"`
	List     []string `json:"list"`
	NullFlag int      `json:"null_flag"`
}

// statusOf maps 3.0's domain status to 2.0's number and console text:
// 1 under review, 2 rejected, 4 deploying, 5 online, 6 offline (also for
// deleted, which 2.0 marked with deleted "yes").
func statusOf(s string) (int, string) {
	switch s {
	case "pending":
		return 1, "审核中"
	case "rejected":
		return 2, "审核未通过"
	case "processing":
		return 4, "部署中"
	case "online":
		return 5, "已开启"
	case "offline":
		return 6, "已关闭"
	case "deleted":
		return 6, "已删除"
	}
	return 0, s
}

// hostOfDomain fills a 2.0 host object from a 3.0 domain configuration.
func hostOfDomain(d domainConfig) Host {
	id := HostID(d.ResourceID)
	status, message := statusOf(d.Status)
	h := Host{
		ID: id, AppID: d.AppID, ProjectID: d.ProjectID, Host: d.Domain,
		HostType: "cname", ServiceType: d.ServiceType, Cache: []CacheRule{},
		Status: status, Message: message, EnableOverseas: "no",
		CreateTime: d.CreateTime, UpdateTime: d.UpdateTime, Deleted: "no",
		FwdHostType: "default", FwdHost: d.Domain, MiddleResource: -1,
		Refer: Refer{List: []string{}}, Cname: d.Cname, CacheMode: "simple",
		FurlCache: "off", SEO: "off", HostID: id,
	}
	if d.Status == "deleted" {
		h.Deleted = "yes"
	}
	if d.Disable != "" && d.Disable != "normal" {
		h.Disabled = 1
	}
	if d.Readonly != "" && d.Readonly != "normal" {
		h.Readonly = 1
	}
	if d.Area == "overseas" || d.Area == "global" {
		h.EnableOverseas = "yes"
	}
	if o := d.Origin; o != nil {
		h.Origin = strings.Join(o.Origins, ";")
		if o.OriginType == "cos" {
			h.HostType = "cos"
		}
		if o.ServerName != "" && o.ServerName != d.Domain {
			h.FwdHostType, h.FwdHost = "custom", o.ServerName
		}
	}
	if d.Cache != nil && d.Cache.SimpleCache != nil {
		for _, r := range d.Cache.SimpleCache.CacheRules {
			h.Cache = append(h.Cache, cacheRuleOf(r.CacheType, r.CacheContents, r.CacheTime))
		}
	}
	if d.CacheKey != nil && d.CacheKey.FullURLCache != "" {
		h.FurlCache = d.CacheKey.FullURLCache
	}
	if r := d.Referer; r != nil && r.Switch == "on" && len(r.RefererRules) > 0 {
		rule := r.RefererRules[0]
		h.Refer.List = append(h.Refer.List, rule.Referers...)
		if rule.RefererType == "blacklist" {
			h.Refer.Type = 1
		} else {
			h.Refer.Type = 2
		}
		if rule.AllowEmpty {
			h.Refer.NullFlag = 1
		}
	}
	if s := d.HTTPS; s != nil && s.Switch == "on" {
		h.SSLType = 1
		if s.CertInfo != nil {
			h.SSLDeployTime, h.SSLExpireTime = nullable(s.CertInfo.DeployTime), nullable(s.CertInfo.ExpireTime)
		}
	}
	if d.Seo != nil && d.Seo.Switch != "" {
		h.SEO = d.Seo.Switch
	}
	return h
}

// cacheRuleOf translates one 3.0 SimpleCache rule. File suffixes get a
// leading dot and all lists are joined with ';', as 2.0 wrote them.
func cacheRuleOf(kind string, contents []string, seconds int64) CacheRule {
	r := CacheRule{Time: seconds, Unit: "s"}
	switch kind {
	case "all":
		r.Rule = "all"
	case "file":
		r.Type = 1
		parts := make([]string, len(contents))
		for i, c := range contents {
			parts[i] = "." + strings.TrimPrefix(c, ".")
		}
		r.Rule = strings.Join(parts, ";")
	case "directory":
		r.Type, r.Rule = 2, strings.Join(contents, ";")
	default: // path, index ("/")
		r.Type, r.Rule = 3, strings.Join(contents, ";")
	}
	return r
}

// nullable returns s, or nil (JSON null) when s is empty.
func nullable(s string) any {
	if s == "" {
		return nil
	}
	return s
}
