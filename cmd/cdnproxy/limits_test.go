package main

import (
	"strings"
	"testing"
)

func TestLimitsConfig(t *testing.T) {
	tests := []struct {
		env     []string
		wantErr string // the variable named, "" for none
	}{
		{[]string{"CDNPROXY_LIMITS=on", "CDNPROXY_RATE_LIMITS=PurgeUrlsCache:15/s,DescribeCdnIp:200/10m:20",
			"CDNPROXY_LIMIT_WAIT=500ms", "CDNPROXY_REDIS_URL=redis://:secretpass@redis:6379/0", "CDNPROXY_LIMITS_ON_STORE_ERROR=closed"}, ""},
		{[]string{"CDNPROXY_LIMITS=yes"}, "CDNPROXY_LIMITS:"},
		{[]string{"CDNPROXY_RATE_LIMITS=PurgeUrlsCache"}, "CDNPROXY_RATE_LIMITS:"},
		{[]string{"CDNPROXY_LIMIT_WAIT=-1s"}, "CDNPROXY_LIMIT_WAIT:"},
		{[]string{"CDNPROXY_REDIS_URL=http://:secretpass@redis:6379"}, "CDNPROXY_REDIS_URL:"},
		{[]string{"CDNPROXY_LIMITS_ON_STORE_ERROR=maybe"}, "CDNPROXY_LIMITS_ON_STORE_ERROR:"},
	}
	for _, tt := range tests {
		cfg, err := loadConfig(tt.env)
		switch {
		case tt.wantErr == "" && err != nil:
			t.Errorf("%v: %v", tt.env, err)
		case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
			t.Errorf("%v: error %v, want one naming %s", tt.env, err, tt.wantErr)
		case err != nil && strings.Contains(err.Error(), "secretpass"):
			t.Errorf("the error shows the Redis password: %v", err)
		case err == nil:
			l, lerr := cfg.limits(nil, nil)
			if lerr != nil || l == nil || l.State() != "redis" {
				t.Errorf("%v: limits %v, %v", tt.env, l, lerr)
			}
		}
	}
}
