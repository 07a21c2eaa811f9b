package signature

import (
	"net"
	"strings"
)

// Hosts lists the hosts a client may have signed a request for, given the
// Host header it arrived with: the header as sent (with its port), the same
// without the port (clients configured without one, and SDKs that drop it),
// then each of also (such as the upstream's canonical host). Empty strings
// and repeats are left out. An IPv6 literal keeps its brackets without the
// port, as a client configured with "[::1]" signs it.
func Hosts(host string, also ...string) []string {
	hosts := make([]string, 0, 2+len(also))
	add := func(h string) {
		if h == "" {
			return
		}
		for _, seen := range hosts {
			if seen == h {
				return
			}
		}
		hosts = append(hosts, h)
	}
	add(host)
	if h, _, err := net.SplitHostPort(host); err == nil {
		if strings.Contains(h, ":") {
			h = "[" + h + "]"
		}
		add(h)
	}
	for _, h := range also {
		add(h)
	}
	return hosts
}
