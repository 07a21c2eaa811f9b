package main

// The fleet profile of docker-compose.yml: proxy replicas sharing their
// limits through one Redis (docs/limits.md).

import (
	"fmt"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// fleetProfile is the compose profile of the replicas that share Redis.
const fleetProfile = "fleet"

// redisImage matches the Redis images a compose service may run: the
// official image, pinned to a full release or a digest, never a moving tag
// such as latest or 7-alpine.
var redisImage = regexp.MustCompile(`^(?:docker\.io/)?(?:library/)?redis:(\d+\.\d+\.\d+(?:-[a-z0-9.]+)?(?:@sha256:[0-9a-f]{64})?)$|^(?:docker\.io/)?(?:library/)?redis@sha256:[0-9a-f]{64}$`)

// isRedis reports whether a service runs Redis rather than cdnproxy.
func isRedis(svc composeService) bool {
	name, _, _ := strings.Cut(svc.Image, "@")
	name, _, _ = strings.Cut(name, ":")
	return name == "redis" || strings.HasSuffix(name, "/redis")
}

// dependencies returns the services a service depends on, each with the
// condition it waits for ("service_started" for the short list form).
func dependencies(svc composeService) map[string]string {
	deps := map[string]string{}
	switch d := svc.DependsOn.(type) {
	case []any:
		for _, name := range stringList(d) {
			deps[name] = "service_started"
		}
	case map[string]any:
		for name, v := range d {
			deps[name] = "service_started"
			if m, ok := v.(map[string]any); ok && m["condition"] != nil {
				deps[name] = fmt.Sprint(m["condition"])
			}
		}
	}
	return deps
}

// redisPort is the port redis-server listens on: --port's, else 6379.
func redisPort(svc composeService) int {
	cmd := stringList(svc.Command)
	for i, arg := range cmd {
		if arg == "--port" && i+1 < len(cmd) {
			if n, err := strconv.Atoi(cmd[i+1]); err == nil {
				return n
			}
		}
	}
	return 6379
}

// checkRedisService checks a Redis service: a pinned official image, no
// published port (only the proxies on the compose network reach it), a
// health check the proxies can wait for, and the same hardening as theirs.
func checkRedisService(t *testing.T, svc composeService) {
	t.Helper()
	if !redisImage.MatchString(svc.Image) {
		t.Errorf("image = %q, want the official redis image pinned to a release such as redis:7.4.2-alpine (or a digest), not a moving tag", svc.Image)
	}
	if len(svc.Ports) != 0 {
		t.Errorf("ports = %v; Redis holds the fleet's counts and has no password here, so publish no port (the proxies reach it on the compose network)", svc.Ports)
	}
	if svc.Build != nil {
		t.Error("Redis has a build section; it runs the official image as it is")
	}
	if cmd := stringList(svc.Command); len(cmd) > 0 && cmd[0] != "redis-server" {
		t.Errorf("command = %q, want redis-server and its flags", cmd)
	}
	if test := stringList(svc.Healthcheck.Test); !slices.Equal(test, []string{"CMD", "redis-cli", "-p", strconv.Itoa(redisPort(svc)), "ping"}) &&
		!(redisPort(svc) == 6379 && slices.Equal(test, []string{"CMD", "redis-cli", "ping"})) {
		t.Errorf("healthcheck test = %q, want [CMD redis-cli ping] so that the proxies can wait for service_healthy", test)
	}
	// With cap_drop ALL the image's entrypoint cannot switch to its redis
	// user itself, so the service names it.
	checkHardening(t, svc, "redis")
}

// TestComposeFleet checks the fleet profile: `docker compose --profile
// fleet up` runs Redis and two or more proxies with the limits on, all
// pointing at that Redis and starting after it is healthy.
func TestComposeFleet(t *testing.T) {
	services := readComposeServices(t)
	var redisName string
	var replicas []string
	for name, svc := range services {
		if isRedis(svc) && !slices.Contains(svc.Profiles, fleetProfile) {
			t.Errorf("service %s runs Redis outside the fleet profile; a plain docker compose up needs no Redis", name)
		}
		if !slices.Contains(svc.Profiles, fleetProfile) {
			continue
		}
		switch {
		case isRedis(svc):
			if redisName != "" {
				t.Fatalf("two Redis services in the fleet profile: %s and %s", redisName, name)
			}
			redisName = name
		case composeCommand(svc) == "":
			replicas = append(replicas, name)
		}
	}
	slices.Sort(replicas)
	if redisName == "" || len(replicas) < 2 {
		t.Fatalf("the fleet profile has Redis %q and proxies %q; want one Redis and two proxies at least", redisName, replicas)
	}
	for name, svc := range services {
		for dep := range dependencies(svc) {
			dsvc, ok := services[dep]
			if !ok {
				t.Errorf("service %s depends on %s, which docker-compose.yml does not define", name, dep)
				continue
			}
			// A dependency must run whenever its dependant does.
			for _, p := range svc.Profiles {
				if len(dsvc.Profiles) > 0 && !slices.Contains(dsvc.Profiles, p) {
					t.Errorf("service %s runs under --profile %s, but its dependency %s does not (profiles %q)", name, p, dep, dsvc.Profiles)
				}
			}
		}
	}

	var redisURL string
	for _, name := range replicas {
		t.Run(name, func(t *testing.T) {
			svc := services[name]
			cfg := loadRuntime(t, name, svc).proxy
			if cfg.Limits != "on" {
				t.Errorf("CDNPROXY_LIMITS = %q, want on: the replicas are there to share their limits", cfg.Limits)
			}
			u, err := url.Parse(cfg.RedisURL)
			if err != nil || u.Scheme != "redis" || u.Hostname() != redisName || u.Port() != strconv.Itoa(redisPort(services[redisName])) {
				t.Errorf("CDNPROXY_REDIS_URL = %q, want redis://%s:%d/0 (the fleet's Redis service)", cfg.RedisURL, redisName, redisPort(services[redisName]))
			}
			if redisURL == "" {
				redisURL = cfg.RedisURL
			} else if cfg.RedisURL != redisURL {
				t.Errorf("CDNPROXY_REDIS_URL = %q, but another replica uses %q: the replicas must share one Redis and database", cfg.RedisURL, redisURL)
			}
			if cond := dependencies(svc)[redisName]; cond != "service_healthy" {
				t.Errorf("depends_on %s: condition %q, want service_healthy, so that the replicas start with Redis answering", redisName, cond)
			}
			if up, err := url.Parse(cfg.UpstreamURL); err == nil && services[up.Hostname()].Image != "" {
				if _, ok := dependencies(svc)[up.Hostname()]; !ok {
					t.Errorf("the upstream is the service %s, but the replica does not depend on it", up.Hostname())
				}
			}
		})
	}
}
