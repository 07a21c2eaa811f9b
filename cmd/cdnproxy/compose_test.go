package main

// Docker cannot run where the tests run, so these tests read
// docker-compose.yml and the Dockerfile and check them against the code:
// variable names, ports, health check and the non-root user.

import (
	"bufio"
	"encoding/json"
	"fmt"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/caarlos0/env/v11"
	"gopkg.in/yaml.v3"
)

// composeService is the part of a compose service the tests check. Fields
// with several accepted shapes are left as any.
type composeService struct {
	Profiles        []string           `yaml:"profiles"`
	Image           string             `yaml:"image"`
	Command         any                `yaml:"command"`
	DependsOn       any                `yaml:"depends_on"`
	Build           any                `yaml:"build"`
	EnvFile         any                `yaml:"env_file"`
	Environment     any                `yaml:"environment"`
	Ports           []any              `yaml:"ports"`
	Healthcheck     struct{ Test any } `yaml:"healthcheck"`
	Restart         string             `yaml:"restart"`
	ReadOnly        bool               `yaml:"read_only"`
	User            string             `yaml:"user"`
	SecurityOpt     []string           `yaml:"security_opt"`
	CapDrop         []string           `yaml:"cap_drop"`
	StopGracePeriod string             `yaml:"stop_grace_period"`
}

// readComposeServices returns every service of docker-compose.yml.
func readComposeServices(t *testing.T) map[string]composeService {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(repoRoot, "docker-compose.yml"))
	if err != nil {
		t.Fatal(err)
	}
	var file struct {
		Services map[string]composeService `yaml:"services"`
	}
	if err := yaml.Unmarshal(data, &file); err != nil {
		t.Fatalf("docker-compose.yml: %v", err)
	}
	return file.Services
}

// readCompose returns docker-compose.yml's cdnproxy service.
func readCompose(t *testing.T) composeService {
	t.Helper()
	svc, ok := readComposeServices(t)["cdnproxy"]
	if !ok {
		t.Fatalf("docker-compose.yml has no service cdnproxy")
	}
	return svc
}

// defaultPorts returns the ports of the default LISTEN_ADDR and
// ADMIN_ADDR.
func defaultPorts(t *testing.T) (api, admin int) {
	t.Helper()
	cfg, err := loadConfig(nil)
	if err != nil {
		t.Fatalf("loadConfig(nil): %v", err)
	}
	port := func(addr string) int {
		_, p, err := net.SplitHostPort(addr)
		if err != nil {
			t.Fatal(err)
		}
		n, err := strconv.Atoi(p)
		if err != nil {
			t.Fatalf("default address %q has no numeric port", addr)
		}
		return n
	}
	return port(cfg.ListenAddr), port(cfg.AdminAddr)
}

// publishedPort is one entry of a service's ports.
type publishedPort struct {
	hostIP    string
	published string
	target    int
}

// parsePort reads a ports entry in the short syntax
// ("[HOST_IP:]PUBLISHED:TARGET[/PROTO]") or the long one (a mapping).
func parsePort(entry any) (publishedPort, error) {
	switch e := entry.(type) {
	case map[string]any:
		target, err := strconv.Atoi(fmt.Sprint(e["target"]))
		if err != nil {
			return publishedPort{}, fmt.Errorf("ports entry %v: target %v is not a port", e, e["target"])
		}
		p := publishedPort{target: target, published: fmt.Sprint(e["published"])}
		if ip, ok := e["host_ip"]; ok {
			p.hostIP = fmt.Sprint(ip)
		}
		return p, nil
	case string, int:
		s := fmt.Sprint(e)
		s, _, _ = strings.Cut(s, "/")
		i := strings.LastIndex(s, ":")
		if i < 0 {
			return publishedPort{}, fmt.Errorf("ports entry %q publishes a random host port; give HOST:CONTAINER", s)
		}
		target, err := strconv.Atoi(s[i+1:])
		if err != nil {
			return publishedPort{}, fmt.Errorf("ports entry %q: container port %q is not a single port", s, s[i+1:])
		}
		p := publishedPort{target: target, published: s[:i]}
		if j := strings.LastIndex(p.published, ":"); j >= 0 {
			p.hostIP = strings.Trim(p.published[:j], "[]")
			p.published = p.published[j+1:]
		}
		return p, nil
	default:
		return publishedPort{}, fmt.Errorf("ports entry %v (%T) is neither a string nor a mapping", entry, entry)
	}
}

// stringList reads a YAML value that may be one string or a list of
// strings (and, for env_file, of {path: ...} mappings).
func stringList(v any) []string {
	switch v := v.(type) {
	case nil:
		return nil
	case string:
		return []string{v}
	case []any:
		var out []string
		for _, e := range v {
			if m, ok := e.(map[string]any); ok {
				out = append(out, fmt.Sprint(m["path"]))
				continue
			}
			out = append(out, fmt.Sprint(e))
		}
		return out
	default:
		return []string{fmt.Sprint(v)}
	}
}

func TestComposeFile(t *testing.T) {
	svc := readCompose(t)
	apiPort, adminPort := defaultPorts(t)
	known := make(map[string]bool)
	for _, v := range configVariables(t) {
		known[v.name] = true
	}

	t.Run("environment names real variables", func(t *testing.T) {
		var names []string
		switch env := svc.Environment.(type) {
		case nil:
		case map[string]any:
			for name := range env {
				names = append(names, name)
			}
		case []any:
			for _, e := range env {
				name, _, _ := strings.Cut(fmt.Sprint(e), "=")
				names = append(names, name)
			}
		default:
			t.Fatalf("environment is %T, want a mapping or a list", env)
		}
		for _, name := range names {
			if !known[name] {
				t.Errorf("environment sets %s, which cdnproxy does not read (config has no such variable)", name)
			}
		}
	})

	t.Run("env_file includes config.example.env", func(t *testing.T) {
		files := stringList(svc.EnvFile)
		if !slices.ContainsFunc(files, func(f string) bool { return filepath.Clean(f) == "config.example.env" }) {
			t.Errorf("env_file = %q, want it to include config.example.env", files)
		}
	})

	t.Run("ports are the default listen ports", func(t *testing.T) {
		var targets []int
		for _, entry := range svc.Ports {
			p, err := parsePort(entry)
			if err != nil {
				t.Error(err)
				continue
			}
			targets = append(targets, p.target)
			if p.target == adminPort {
				if ip := net.ParseIP(p.hostIP); p.hostIP != "localhost" && (ip == nil || !ip.IsLoopback()) {
					t.Errorf("the admin port %d is published on %q; publish it on 127.0.0.1 only", adminPort, p.hostIP)
				}
			}
		}
		slices.Sort(targets)
		want := []int{apiPort, adminPort}
		slices.Sort(want)
		if !slices.Equal(targets, want) {
			t.Errorf("published container ports = %v, want %v (the ports of the default CDNPROXY_LISTEN_ADDR and CDNPROXY_ADMIN_ADDR)", targets, want)
		}
	})

	t.Run("healthcheck runs the healthcheck subcommand", func(t *testing.T) {
		test := stringList(svc.Healthcheck.Test)
		want := append([]string{"CMD"}, dockerfileExec(t, readDockerfile(t).final, "ENTRYPOINT")...)
		want = append(want, "healthcheck")
		if !slices.Equal(test, want) {
			t.Errorf("healthcheck test = %q, want %q (the image has no shell)", test, want)
		}
	})

	t.Run("hardening", func(t *testing.T) {
		if !svc.ReadOnly {
			t.Error("read_only must be true: cdnproxy writes no files")
		}
		if svc.Restart == "" || svc.Restart == "no" {
			t.Errorf("restart = %q, want a restart policy such as unless-stopped", svc.Restart)
		}
		if u := svc.User; u == "" || u == "root" || u == "0" || strings.HasPrefix(u, "0:") || strings.HasPrefix(u, "root:") {
			t.Errorf("user = %q, want a non-root user such as nonroot", u)
		}
		if !slices.ContainsFunc(svc.SecurityOpt, func(o string) bool { return o == "no-new-privileges" || o == "no-new-privileges:true" }) {
			t.Errorf("security_opt = %q, want no-new-privileges:true", svc.SecurityOpt)
		}
		if !slices.Contains(svc.CapDrop, "ALL") {
			t.Errorf("cap_drop = %q, want ALL", svc.CapDrop)
		}
	})

	t.Run("stop grace period covers the drain", func(t *testing.T) {
		cfg, err := loadConfig(nil)
		if err != nil {
			t.Fatal(err)
		}
		grace := 10 * time.Second // compose's default
		if svc.StopGracePeriod != "" {
			grace, err = time.ParseDuration(svc.StopGracePeriod)
			if err != nil {
				t.Fatalf("stop_grace_period %q: %v", svc.StopGracePeriod, err)
			}
		}
		if grace <= cfg.ShutdownTimeout {
			t.Errorf("stop_grace_period = %s, want more than the default CDNPROXY_SHUTDOWN_TIMEOUT (%s), or SIGKILL cuts the drain short", grace, cfg.ShutdownTimeout)
		}
	})

	t.Run("builds from the Dockerfile", func(t *testing.T) {
		dockerfile := "Dockerfile"
		switch b := svc.Build.(type) {
		case string:
			if filepath.Clean(b) != "." {
				t.Errorf("build = %q, want the repository root", b)
			}
		case map[string]any:
			if c, _ := b["context"].(string); filepath.Clean(c) != "." {
				t.Errorf("build context = %q, want the repository root", c)
			}
			if d, ok := b["dockerfile"].(string); ok {
				dockerfile = d
			}
		default:
			t.Fatalf("build is %T, want the repository root", b)
		}
		if filepath.Clean(dockerfile) != "Dockerfile" {
			t.Errorf("build dockerfile = %q, want Dockerfile", dockerfile)
		}
	})
}

// instruction is one Dockerfile instruction, continuation lines joined.
type instruction struct {
	line int
	cmd  string // upper case: FROM, USER, ...
	args string
}

// dockerfile is a Dockerfile split into its last stage and the rest.
type dockerfile struct {
	all   []instruction
	final []instruction // from the last FROM on
}

func readDockerfile(t *testing.T) dockerfile {
	t.Helper()
	f, err := os.Open(filepath.Join(repoRoot, "Dockerfile"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var df dockerfile
	var cur strings.Builder
	start := 0
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if strings.HasPrefix(line, "#") || (line == "" && cur.Len() == 0) {
			continue
		}
		if cur.Len() == 0 {
			start = n
		}
		if l, ok := strings.CutSuffix(line, `\`); ok {
			cur.WriteString(l + " ")
			continue
		}
		cur.WriteString(line)
		cmd, args, _ := strings.Cut(strings.TrimSpace(cur.String()), " ")
		df.all = append(df.all, instruction{start, strings.ToUpper(cmd), strings.TrimSpace(args)})
		cur.Reset()
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	for i, in := range df.all {
		if in.cmd == "FROM" {
			df.final = df.all[i:]
		}
	}
	if df.final == nil {
		t.Fatal("Dockerfile has no FROM")
	}
	return df
}

// dockerfileExec returns the exec-form (JSON) arguments of the last
// instruction cmd in a stage.
func dockerfileExec(t *testing.T, stage []instruction, cmd string) []string {
	t.Helper()
	for i := len(stage) - 1; i >= 0; i-- {
		if stage[i].cmd != cmd {
			continue
		}
		var args []string
		if err := json.Unmarshal([]byte(stage[i].args), &args); err != nil {
			t.Fatalf("Dockerfile line %d: %s %s is not in exec form ([\"...\"]): %v", stage[i].line, cmd, stage[i].args, err)
		}
		return args
	}
	t.Fatalf("the Dockerfile's final stage has no %s", cmd)
	return nil
}

func TestDockerfile(t *testing.T) {
	df := readDockerfile(t)
	apiPort, adminPort := defaultPorts(t)

	t.Run("exposes the default listen ports", func(t *testing.T) {
		var ports []int
		for _, in := range df.final {
			if in.cmd != "EXPOSE" {
				continue
			}
			for _, f := range strings.Fields(in.args) {
				p, proto, _ := strings.Cut(f, "/")
				n, err := strconv.Atoi(p)
				if err != nil || (proto != "" && proto != "tcp") {
					t.Errorf("line %d: EXPOSE %s is not a TCP port", in.line, f)
					continue
				}
				ports = append(ports, n)
			}
		}
		slices.Sort(ports)
		want := []int{apiPort, adminPort}
		slices.Sort(want)
		if !slices.Equal(ports, want) {
			t.Errorf("EXPOSE = %v, want %v (the ports of the default CDNPROXY_LISTEN_ADDR and CDNPROXY_ADMIN_ADDR)", ports, want)
		}
	})

	t.Run("final stage runs as non-root", func(t *testing.T) {
		// Without a USER the image's own user counts: distroless's
		// :nonroot tags run as nonroot, other images as root.
		user := "root"
		from := strings.Fields(df.final[0].args)
		if len(from) > 0 && strings.HasSuffix(from[0], ":nonroot") {
			user = "nonroot"
		}
		for _, in := range df.final {
			if in.cmd == "USER" {
				user = in.args
			}
		}
		name, _, _ := strings.Cut(user, ":")
		if name == "root" || name == "0" {
			t.Errorf("the final stage runs as %q; set USER to a non-root user such as 65532 (distroless nonroot)", user)
		}
	})

	t.Run("entrypoint and healthcheck", func(t *testing.T) {
		entry := dockerfileExec(t, df.final, "ENTRYPOINT")
		if len(entry) != 1 || !strings.HasPrefix(entry[0], "/") {
			t.Fatalf("ENTRYPOINT = %q, want the binary's absolute path alone", entry)
		}
		var hc *instruction
		for i := range df.final {
			if df.final[i].cmd == "HEALTHCHECK" {
				hc = &df.final[i]
			}
		}
		if hc == nil {
			t.Fatal("the final stage has no HEALTHCHECK")
		}
		_, exec, ok := strings.Cut(hc.args, "CMD ")
		var got []string
		if ok {
			ok = json.Unmarshal([]byte(strings.TrimSpace(exec)), &got) == nil
		}
		if want := []string{entry[0], "healthcheck"}; !ok || !slices.Equal(got, want) {
			t.Errorf("line %d: HEALTHCHECK %s; want CMD %q (exec form: the image has no shell)", hc.line, hc.args, want)
		}
	})

	t.Run("builder has go.mod's Go", func(t *testing.T) {
		mod, err := os.ReadFile(filepath.Join(repoRoot, "go.mod"))
		if err != nil {
			t.Fatal(err)
		}
		// The toolchain line names the exact release to build with (the
		// image sets GOTOOLCHAIN=local, so the tag must match it).
		m := regexp.MustCompile(`(?m)^toolchain go(\d+\.\d+\.\d+)$`).FindSubmatch(mod)
		if m == nil {
			t.Fatal("go.mod has no toolchain line")
		}
		want := "golang:" + string(m[1]) + " "
		found := false
		for _, in := range df.all {
			if in.cmd == "FROM" && strings.HasPrefix(in.args, want) {
				found = true
			}
		}
		if !found {
			t.Errorf("no build stage FROM %s(go.mod's toolchain is go%s)", want, m[1])
		}
	})
}

// offlineProfile is the compose profile of the offline development kit:
// the emulator and a proxy in front of it.
const offlineProfile = "offline"

// environmentOf returns a service's environment as a map. A variable
// listed without a value (taken from the host's environment) maps to "".
func environmentOf(t *testing.T, svc composeService) map[string]string {
	t.Helper()
	vars := map[string]string{}
	switch env := svc.Environment.(type) {
	case nil:
	case map[string]any:
		for name, v := range env {
			if v != nil {
				vars[name] = fmt.Sprint(v)
			} else {
				vars[name] = ""
			}
		}
	case []any:
		for _, e := range env {
			name, value, _ := strings.Cut(fmt.Sprint(e), "=")
			vars[name] = value
		}
	default:
		t.Fatalf("environment is %T, want a mapping or a list", env)
	}
	return vars
}

// environList turns a map into KEY=value strings, as run receives them.
func environList(vars map[string]string) []string {
	var out []string
	for k, v := range vars {
		out = append(out, k+"="+v)
	}
	slices.Sort(out)
	return out
}

// mockVariables returns the name of every variable `cdnproxy mock` reads,
// from mockConfig's env tags as the env library sees them.
func mockVariables(t *testing.T) map[string]bool {
	t.Helper()
	params, err := env.GetFieldParamsWithOptions(&mockConfig{}, env.Options{Prefix: mockPrefix})
	if err != nil {
		t.Fatal(err)
	}
	names := make(map[string]bool, len(params))
	for _, p := range params {
		names[p.Key] = true
	}
	return names
}

// composeCommand returns the subcommand a service runs: "" for the proxy.
func composeCommand(svc composeService) string {
	if cmd := stringList(svc.Command); len(cmd) > 0 {
		return cmd[0]
	}
	return ""
}

// portOf returns the port of a host:port address.
func portOf(t *testing.T, addr string) int {
	t.Helper()
	_, p, err := net.SplitHostPort(addr)
	if err != nil {
		t.Fatal(err)
	}
	n, err := strconv.Atoi(p)
	if err != nil {
		t.Fatalf("address %q has no numeric port", addr)
	}
	return n
}

// composeRuntime is what a service's configuration amounts to once its
// command has read it.
type composeRuntime struct {
	command   string          // "" (the proxy) or "mock"
	vars      map[string]bool // the variables the command reads
	ports     []int           // the ports it listens on
	adminPort int             // where its /healthz is
	proxy     config          // the proxy's configuration
	mock      mockSettings    // the emulator's configuration
}

// loadRuntime reads a service's environment the way its command would.
// env_file entries are not read: only the default service has them.
func loadRuntime(t *testing.T, name string, svc composeService) composeRuntime {
	t.Helper()
	rt := composeRuntime{command: composeCommand(svc)}
	vars := environOf(t, svc)
	switch rt.command {
	case "":
		cfg, err := loadConfig(vars)
		if err != nil {
			t.Fatalf("service %s: the proxy would not start with this environment: %v", name, err)
		}
		rt.proxy, rt.adminPort = cfg, portOf(t, cfg.AdminAddr)
		rt.ports = []int{portOf(t, cfg.ListenAddr), rt.adminPort}
		rt.vars = map[string]bool{}
		for _, v := range configVariables(t) {
			rt.vars[v.name] = true
		}
	case "mock":
		s, err := loadMockConfig(vars)
		if err != nil {
			t.Fatalf("service %s: the emulator would not start with this environment: %v", name, err)
		}
		rt.mock, rt.adminPort = s, portOf(t, s.AdminAddr)
		rt.ports = []int{portOf(t, s.Addr), rt.adminPort}
		rt.vars = mockVariables(t)
	default:
		t.Fatalf("service %s runs %q; the tests know the proxy (no command) and mock", name, rt.command)
	}
	return rt
}

func environOf(t *testing.T, svc composeService) []string { return environList(environmentOf(t, svc)) }

// runsHealthcheck reports whether a service's health check is
// `/cdnproxy healthcheck`, which probes the /healthz of CDNPROXY_ADMIN_ADDR.
func runsHealthcheck(t *testing.T, svc composeService) bool {
	want := append([]string{"CMD"}, dockerfileExec(t, readDockerfile(t).final, "ENTRYPOINT")...)
	return slices.Equal(stringList(svc.Healthcheck.Test), append(want, "healthcheck"))
}

// TestComposeServices checks every service of docker-compose.yml, the
// offline and fleet profiles' included, against the code of the command it
// runs; Redis, the one service not built from this repository, against
// checkRedisService.
func TestComposeServices(t *testing.T) {
	services := readComposeServices(t)
	names := slices.Sorted(func(yield func(string) bool) {
		for name := range services {
			if !yield(name) {
				return
			}
		}
	})
	hostPorts := map[string]string{} // published host port -> service
	for _, name := range names {
		svc := services[name]
		t.Run(name, func(t *testing.T) {
			if isRedis(svc) {
				checkRedisService(t, svc)
				return
			}
			rt := loadRuntime(t, name, svc)
			environment := environmentOf(t, svc)

			t.Run("environment names real variables of its command", func(t *testing.T) {
				for v := range environment {
					switch {
					case rt.vars[v]:
					case rt.command == "mock" && v == envPrefix+"ADMIN_ADDR" && runsHealthcheck(t, svc):
						// Read by the health check (`cdnproxy healthcheck`), not by the emulator.
					case rt.command == "mock":
						t.Errorf("environment sets %s, which cdnproxy mock does not read (mockConfig has no such variable)", v)
					default:
						t.Errorf("environment sets %s, which cdnproxy does not read (config has no such variable)", v)
					}
				}
			})

			t.Run("ports are the command's listen ports", func(t *testing.T) {
				var targets []int
				for _, entry := range svc.Ports {
					p, err := parsePort(entry)
					if err != nil {
						t.Error(err)
						continue
					}
					targets = append(targets, p.target)
					if other, ok := hostPorts[p.published]; ok && other != name {
						t.Errorf("host port %s is published by both %s and %s; they run together under --profile %s", p.published, other, name, offlineProfile)
					}
					hostPorts[p.published] = name
					if (slices.Contains(svc.Profiles, offlineProfile) || slices.Contains(svc.Profiles, fleetProfile)) && p.hostIP != "127.0.0.1" {
						t.Errorf("port %v is published on %q; the offline and fleet services hold fake credentials and a public token, so publish them on 127.0.0.1 only", entry, p.hostIP)
					}
				}
				slices.Sort(targets)
				want := slices.Sorted(slices.Values(rt.ports))
				if !slices.Equal(targets, want) {
					t.Errorf("published container ports = %v, want %v (the ports its configuration listens on)", targets, want)
				}
			})

			t.Run("healthcheck probes this service's /healthz", func(t *testing.T) {
				if !runsHealthcheck(t, svc) {
					t.Fatalf("healthcheck test = %q, want the healthcheck subcommand (the image has no shell)", stringList(svc.Healthcheck.Test))
				}
				// `cdnproxy healthcheck` reads the proxy's configuration
				// from the container's environment.
				cfg, err := loadConfig(environOf(t, svc))
				if err != nil {
					t.Fatalf("cdnproxy healthcheck would fail on its configuration: %v", err)
				}
				if got := portOf(t, cfg.AdminAddr); got != rt.adminPort {
					t.Errorf("cdnproxy healthcheck probes port %d, but the service's /healthz is on %d (set CDNPROXY_ADMIN_ADDR)", got, rt.adminPort)
				}
			})

			t.Run("runs the image built from the Dockerfile", func(t *testing.T) {
				if want := services["cdnproxy"].Image; svc.Image != want {
					t.Errorf("image = %q, want %q (the cdnproxy service's)", svc.Image, want)
				}
				if svc.Build == nil {
					t.Errorf("no build section: compose would try to pull %s from a registry", svc.Image)
				}
			})

			t.Run("hardening", func(t *testing.T) { checkHardening(t, svc, "nonroot") })
		})
	}
}

// checkHardening checks what every service of docker-compose.yml sets: a
// read-only root filesystem, a non-root user (such as user), no new
// privileges and no capabilities.
func checkHardening(t *testing.T, svc composeService, user string) {
	t.Helper()
	if !svc.ReadOnly {
		t.Error("read_only must be true: the service writes no files (a tmpfs holds any scratch directory)")
	}
	if u := svc.User; u == "" || u == "root" || u == "0" || strings.HasPrefix(u, "0:") || strings.HasPrefix(u, "root:") {
		t.Errorf("user = %q, want a non-root user such as %s", u, user)
	}
	if !slices.ContainsFunc(svc.SecurityOpt, func(o string) bool { return o == "no-new-privileges" || o == "no-new-privileges:true" }) {
		t.Errorf("security_opt = %q, want no-new-privileges:true", svc.SecurityOpt)
	}
	if !slices.Contains(svc.CapDrop, "ALL") {
		t.Errorf("cap_drop = %q, want ALL", svc.CapDrop)
	}
}

// TestComposeOffline checks the offline profile: `docker compose --profile
// offline up` runs the emulator and a proxy that signs for it.
func TestComposeOffline(t *testing.T) {
	services := readComposeServices(t)
	if p := services["cdnproxy"].Profiles; len(p) != 0 {
		t.Errorf("the cdnproxy service has profiles %q; it must run with a plain docker compose up", p)
	}
	var mockName string
	var proxies []string
	for name, svc := range services {
		if !slices.Contains(svc.Profiles, offlineProfile) {
			continue
		}
		switch composeCommand(svc) {
		case "mock":
			if mockName != "" {
				t.Fatalf("two emulators in the offline profile: %s and %s", mockName, name)
			}
			mockName = name
		case "":
			proxies = append(proxies, name)
		}
	}
	if mockName == "" || len(proxies) == 0 {
		t.Fatalf("the offline profile has emulator %q and proxies %q; want one of each at least", mockName, proxies)
	}
	mock := loadRuntime(t, mockName, services[mockName])
	for _, name := range proxies {
		t.Run(name, func(t *testing.T) {
			svc := services[name]
			cfg := loadRuntime(t, name, svc).proxy

			u, err := url.Parse(cfg.UpstreamURL)
			if err != nil || u.Scheme != "http" || u.Hostname() != mockName || u.Port() != strconv.Itoa(portOf(t, mock.mock.Addr)) {
				t.Errorf("CDNPROXY_UPSTREAM_URL = %q, want http://%s:%d (the emulator's CDNPROXY_MOCK_ADDR port)", cfg.UpstreamURL, mockName, portOf(t, mock.mock.Addr))
			}
			if cfg.Signing != "sign" {
				t.Errorf("CDNPROXY_SIGNING = %q, want sign: a newcomer's unsigned calls are signed for the emulator", cfg.Signing)
			}
			if cfg.ClientToken == "" {
				t.Error("sign mode without CDNPROXY_CLIENT_TOKEN: the proxy refuses to start on a non-loopback address")
			}
			if cfg.secretID() != mock.mock.SecretID || cfg.secretKey() != mock.mock.SecretKey {
				t.Errorf("the proxy signs with SecretId %q and a SecretKey that are not the emulator's (SecretId %q): set CDNPROXY_SECRET_ID and CDNPROXY_SECRET_KEY to the emulator's credentials", cfg.secretID(), mock.mock.SecretID)
			}
			if _, ok := dependencies(svc)[mockName]; !ok {
				t.Errorf("depends_on = %v, want %s, so that the proxy starts after the emulator", svc.DependsOn, mockName)
			}
		})
	}
}
