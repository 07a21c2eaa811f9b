package proxy

import (
	"net"
	"slices"
	"strings"
)

// The CDN API's own hosts: a client may have signed a call for either,
// whichever upstream the proxy is configured with.
const (
	cdnHostV2 = "cdn.api.qcloud.com"
	cdnHostV3 = "cdn.tencentcloudapi.com"
)

// signedHosts lists the hosts a call of API a that arrived with Host host
// may have been signed for: the proxy's own names (host as the client sent
// it, with and without its port, when it is one of them), the configured
// upstream's host and the CDN API's hosts. A call signed for another
// Tencent product's API host (cvm.api.qcloud.com, …) is never verified,
// whatever Host it arrives with: the proxy would sign it again for CDN.
func (p *Proxy) signedHosts(host string, a *api) hostList {
	var l hostList
	if p.ownHost(host) {
		l.add(host)
		if h, _, err := net.SplitHostPort(host); err == nil {
			if strings.Contains(h, ":") {
				h = "[" + h + "]"
			}
			l.add(h)
		}
	}
	l.add(a.upstream.Host)
	l.add(cdnHostV2)
	l.add(cdnHostV3)
	return l
}

// hostList is a short list of distinct hosts, kept off the heap.
type hostList struct {
	h [5]string
	n int
}

// add appends a host that is not empty and not yet listed.
func (l *hostList) add(host string) {
	if host == "" || l.n == len(l.h) || slices.Contains(l.h[:l.n], host) {
		return
	}
	l.h[l.n] = host
	l.n++
}

// ownHost reports whether a Host value names the proxy itself. With
// Config.PublicHosts, it must be one of them (with or without its port);
// without, it may be any name but another Tencent Cloud API's.
func (p *Proxy) ownHost(host string) bool {
	name := strings.ToLower(strings.TrimSuffix(hostname(host), "."))
	if len(p.cfg.PublicHosts) > 0 {
		for _, h := range p.cfg.PublicHosts {
			if strings.EqualFold(h, host) || strings.EqualFold(hostname(h), name) && !strings.Contains(h, ":") {
				return true
			}
		}
		return false
	}
	return !tencentAPIHost(name)
}

// hostname is a Host value without its port.
func hostname(host string) string {
	if h, _, err := net.SplitHostPort(host); err == nil {
		return h
	}
	return host
}

// tencentAPIHost reports whether a lower-case host name is a Tencent Cloud
// API's endpoint other than the CDN API's.
func tencentAPIHost(name string) bool {
	if name == cdnHostV2 || name == cdnHostV3 {
		return false
	}
	for _, domain := range [...]string{"qcloud.com", "tencentcloudapi.com", "tencentcloud.com"} {
		if name == domain || strings.HasSuffix(name, "."+domain) {
			return true
		}
	}
	return false
}
