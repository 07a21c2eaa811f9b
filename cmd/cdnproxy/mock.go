package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/caarlos0/env/v11"

	"github.com/cdnproxy/cdnproxy/internal/emulator"
)

// mockPrefix starts the name of every variable `cdnproxy mock` reads.
const mockPrefix = "CDNPROXY_MOCK_"

// mockDrain is how long the emulator gives calls in flight when its
// context ends.
const mockDrain = 10 * time.Second

// mockConfig is the configuration of `cdnproxy mock`, read from the
// environment only. Fields are strings, parsed by validate, so that every
// bad value is reported with the name of its variable.
type mockConfig struct {
	Addr       string `env:"ADDR" envDefault:"127.0.0.1:8081" desc:"address of the emulated API (host:port); clients or the proxy call http://ADDR/v2/index.php"`
	AdminAddr  string `env:"ADMIN_ADDR" envDefault:"127.0.0.1:9091" desc:"address of the admin listener: /healthz and the fault rules at /faults"`
	SecretID   string `env:"SECRET_ID" envDefault:"AKIDmockmockmockmockmockmockmockmock" desc:"the SecretId the emulator accepts (fake, local; printed at start)"`
	SecretKey  string `env:"SECRET_KEY" envDefault:"mockkeymockkeymockkeymockkey" desc:"its SecretKey (fake, local; printed at start)"`
	Domains    string `env:"DOMAINS" envDefault:"www.example.com,img.example.com,static.offline.example" desc:"domains that exist at start, comma-separated; a label 'offline' starts one offline, 'deploying' keeps one deploying"`
	Faults     string `env:"FAULTS" desc:"fault rules in force at start, e.g. next:3:9112,rate:0.2:6000,action:RefreshCdnUrl:22044"`
	DeployTime string `env:"DEPLOY_TIME" envDefault:"0s" desc:"how long AddCdnHost and OnlineHost leave a domain deploying (status 4) before it is online"`
	Seed       string `env:"SEED" desc:"seed for the rate fault rules, for repeatable runs; empty: random"`
}

// mockSettings are mockConfig's values, parsed.
type mockSettings struct {
	mockConfig
	domains    []emulator.Domain
	faults     []emulator.Fault
	deployTime time.Duration
	rand       rand.Source // nil: random
}

// loadMockConfig reads and checks the CDNPROXY_MOCK_* variables of
// environ. Every problem is reported, each naming its variable.
func loadMockConfig(environ []string) (mockSettings, error) {
	var s mockSettings
	vars := make(map[string]string, len(environ))
	for _, kv := range environ {
		if k, v, ok := strings.Cut(kv, "="); ok {
			vars[k] = v
		}
	}
	if err := env.ParseWithOptions(&s.mockConfig, env.Options{Prefix: mockPrefix, Environment: vars}); err != nil {
		return s, fmt.Errorf("configuration: %w", err)
	}
	if err := s.parse(); err != nil {
		return s, fmt.Errorf("configuration: %w", err)
	}
	return s, nil
}

// parse checks and converts the values.
func (s *mockSettings) parse() error {
	var errs []error
	bad := func(name, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s%s: "+format, append([]any{mockPrefix, name}, args...)...))
	}
	for name, addr := range map[string]string{"ADDR": s.Addr, "ADMIN_ADDR": s.AdminAddr} {
		if _, _, err := net.SplitHostPort(addr); err != nil {
			bad(name, "%q is not host:port", addr)
		}
	}
	if _, port, _ := net.SplitHostPort(s.Addr); s.Addr == s.AdminAddr && port != "0" {
		bad("ADMIN_ADDR", "must differ from %sADDR", mockPrefix)
	}
	s.SecretID, s.SecretKey = strings.TrimSpace(s.SecretID), strings.TrimSpace(s.SecretKey)
	if s.SecretID == "" {
		bad("SECRET_ID", "must not be empty")
	}
	if s.SecretKey == "" {
		bad("SECRET_KEY", "must not be empty")
	}
	var err error
	if s.domains, err = emulator.ParseDomains(s.Domains); err != nil {
		bad("DOMAINS", "%v", err)
	}
	if s.faults, err = emulator.ParseFaults(s.Faults); err != nil {
		bad("FAULTS", "%v", err)
	}
	if s.deployTime, err = time.ParseDuration(s.DeployTime); err != nil || s.deployTime < 0 {
		bad("DEPLOY_TIME", "%q is not a non-negative duration such as 0s or 30s", s.DeployTime)
	}
	if s.Seed != "" {
		seed, err := strconv.ParseUint(s.Seed, 10, 64)
		if err != nil {
			bad("SEED", "%q is not an unsigned integer", s.Seed)
		}
		s.rand = rand.NewPCG(seed, seed)
	}
	return errors.Join(errs...)
}

// runMock is `cdnproxy mock`: it serves the API 2.0 emulator and its admin
// listener until ctx ends, then drains. The credentials it prints are
// fake, local ones: printing them is the point.
func runMock(ctx context.Context, args, environ []string, stdout, stderr io.Writer) error {
	if len(args) > 0 {
		return fmt.Errorf("mock takes no arguments; configure it with %s* variables", mockPrefix)
	}
	s, err := loadMockConfig(environ)
	if err != nil {
		return err
	}
	emu := emulator.New(emulator.Config{
		Credentials: map[string]string{s.SecretID: s.SecretKey},
		Domains:     s.domains,
		Faults:      s.faults,
		Rand:        s.rand,
		DeployTime:  s.deployTime,
		Logger:      slog.New(slog.NewTextHandler(stderr, nil)),
	})

	apiLn, err := net.Listen("tcp", s.Addr)
	if err != nil {
		return fmt.Errorf("%sADDR: %w", mockPrefix, err)
	}
	adminLn, err := net.Listen("tcp", s.AdminAddr)
	if err != nil {
		apiLn.Close()
		return fmt.Errorf("%sADMIN_ADDR: %w", mockPrefix, err)
	}
	apiSrv := &http.Server{Handler: emu, ReadHeaderTimeout: 10 * time.Second, ReadTimeout: 60 * time.Second, IdleTimeout: 120 * time.Second}
	adminSrv := &http.Server{Handler: emu.Admin(), ReadHeaderTimeout: 5 * time.Second, ReadTimeout: 10 * time.Second, IdleTimeout: 60 * time.Second}
	errc := make(chan error, 2)
	go func() { errc <- apiSrv.Serve(apiLn) }()
	go func() { errc <- adminSrv.Serve(adminLn) }()
	printMockBanner(stdout, s, apiLn.Addr().String(), adminLn.Addr().String())

	select {
	case <-ctx.Done():
	case err := <-errc:
		apiSrv.Close()
		adminSrv.Close()
		return fmt.Errorf("mock listener failed: %w", err)
	}
	sctx, cancel := context.WithTimeout(context.Background(), mockDrain)
	defer cancel()
	err = apiSrv.Shutdown(sctx)
	adminSrv.Close()
	if err != nil {
		apiSrv.Close()
		return fmt.Errorf("mock: calls still in flight after %s: %w", mockDrain, err)
	}
	fmt.Fprintln(stdout, "cdnproxy mock: stopped")
	return nil
}

// printMockBanner tells the user where the emulator listens and which
// (fake) credentials and domains it has.
func printMockBanner(w io.Writer, s mockSettings, api, admin string) {
	domains := make([]string, len(s.domains))
	for i, d := range s.domains {
		domains[i] = fmt.Sprintf("%s (%s)", d.Host, d.Status)
	}
	faults := make([]string, len(s.faults))
	for i, f := range s.faults {
		faults[i] = f.String()
	}
	orNone := func(list []string) string {
		if len(list) == 0 {
			return "none"
		}
		return strings.Join(list, ", ")
	}
	fmt.Fprintf(w, `cdnproxy mock: offline CDN API 2.0 emulator (fake local credentials; nothing leaves this machine)
  API        http://%s%s
  admin      http://%s/faults
  SecretId   %s
  SecretKey  %s
  domains    %s
  faults     %s
`, api, emulator.Path, admin, s.SecretID, s.SecretKey, orNone(domains), orNone(faults))
}
