package signature_test

import (
	"slices"
	"testing"

	"github.com/cdnproxy/cdnproxy/proxy/signature"
)

func TestHosts(t *testing.T) {
	for _, tt := range []struct {
		host string
		also []string
		want []string
	}{
		{"127.0.0.1:8080", []string{"cdn.api.qcloud.com"}, []string{"127.0.0.1:8080", "127.0.0.1", "cdn.api.qcloud.com"}},
		{"cdn.api.qcloud.com", []string{"cdn.api.qcloud.com"}, []string{"cdn.api.qcloud.com"}},
		{"[::1]:8080", nil, []string{"[::1]:8080", "[::1]"}},
		{"proxy.internal", []string{"", "up:443"}, []string{"proxy.internal", "up:443"}},
		{"", []string{"up"}, []string{"up"}},
	} {
		if got := signature.Hosts(tt.host, tt.also...); !slices.Equal(got, tt.want) {
			t.Errorf("Hosts(%q, %q) = %q, want %q", tt.host, tt.also, got, tt.want)
		}
	}
}
