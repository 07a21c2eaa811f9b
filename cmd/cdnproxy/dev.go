package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"reflect"
	"strings"
	"time"

	"github.com/cdnproxy/cdnproxy/internal/emulator"
	"github.com/cdnproxy/cdnproxy/proxy"
)

// devUsage describes `cdnproxy dev`.
const devUsage = `Usage: cdnproxy dev [-addr HOST:PORT] [-addr-v2 HOST:PORT]

Try cdnproxy with no account and no network: runs the offline emulator of
the CDN API (2.0 and 3.0, as cdnproxy mock) in-process and two proxies in
front of it on loopback, in sign mode (unsigned calls are signed for you):
one with the 2.0 -> 3.0 bridge on, one forwarding 2.0 calls as they are.
It prints calls to paste; Ctrl-C stops it.

To point the proxy at the real API instead, run cdnproxy without a command
and set CDNPROXY_SECRET_ID and CDNPROXY_SECRET_KEY (see cdnproxy -h).

Flags:
`

// runDev is `cdnproxy dev`. It serves until ctx ends (Ctrl-C), then
// drains and returns nil.
func runDev(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("dev", flag.ContinueOnError)
	fs.SetOutput(stderr)
	addr := fs.String("addr", "127.0.0.1:8080", "loopback address of the proxy with the bridge on (API 3.0 and bridged 2.0)")
	addrV2 := fs.String("addr-v2", "127.0.0.1:8082", "loopback address of the proxy forwarding 2.0 calls to the emulator's 2.0 endpoint")
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), devUsage)
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("dev takes no arguments, only flags (see cdnproxy dev -h)")
	}
	for _, a := range []string{*addr, *addrV2} {
		// Sign mode signs any call it gets: it must not leave the machine.
		if !loopback(a) {
			return fmt.Errorf("dev listens on loopback only; %q is not a loopback host:port", a)
		}
	}
	var mock mockSettings
	if err := mock.defaults(); err != nil {
		return err
	}
	logger := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	emu := emulator.New(emulator.Config{
		Credentials: map[string]string{mock.SecretID: mock.SecretKey},
		Domains:     mock.domains,
		Logger:      logger,
	})
	emuLn, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	emuURL := &url.URL{Scheme: "http", Host: emuLn.Addr().String()}
	servers := []*http.Server{{Handler: emu, ReadHeaderTimeout: 10 * time.Second}}
	listeners := []net.Listener{emuLn}
	for _, a := range []struct {
		addr   string
		bridge bool
	}{{*addr, true}, {*addrV2, false}} {
		p, err := proxy.New(proxy.Config{
			Upstream: emuURL, UpstreamV3: emuURL, BridgeV2: a.bridge, Logger: logger,
			Signing: proxy.Signing{Mode: proxy.Sign, SecretID: mock.SecretID, SecretKey: mock.SecretKey},
		})
		if err == nil {
			var ln net.Listener
			if ln, err = net.Listen("tcp", a.addr); err == nil {
				listeners = append(listeners, ln)
				servers = append(servers, &http.Server{Handler: p, ReadHeaderTimeout: 10 * time.Second})
			}
		}
		if err != nil {
			for _, ln := range listeners {
				ln.Close()
			}
			return fmt.Errorf("dev: %w", err)
		}
	}
	errc := make(chan error, len(servers))
	for i, srv := range servers {
		go func() { errc <- srv.Serve(listeners[i]) }()
	}
	printDevBanner(stdout, emuURL.Host, listeners[1].Addr().String(), listeners[2].Addr().String())

	var failed error
	select {
	case <-ctx.Done():
	case failed = <-errc:
	}
	sctx, cancel := context.WithTimeout(context.Background(), mockDrain)
	defer cancel()
	for _, srv := range servers[1:] {
		_ = srv.Shutdown(sctx)
	}
	_ = servers[0].Shutdown(sctx)
	if failed != nil {
		return fmt.Errorf("dev: a listener failed: %w", failed)
	}
	fmt.Fprintln(stdout, "cdnproxy dev: stopped")
	return nil
}

// defaults sets s to `cdnproxy mock`'s defaults.
func (s *mockSettings) defaults() error {
	got, err := loadMockConfig(nil)
	*s = got
	return err
}

// printDevBanner prints where everything listens and the calls to try.
// Each call is a comment line "# <answer kind>: <what>" (answer kind
// "success" or "annotated error") and one curl command line.
func printDevBanner(w io.Writer, emu, bridged, plain string) {
	fmt.Fprintf(w, `cdnproxy dev: the proxy in sign mode in front of an offline CDN API emulator (no account, no network)
  proxy, bridge on   http://%s   API 3.0 at /, API 2.0 at /v2/index.php answered through 3.0
  proxy, bridge off  http://%s   API 2.0 at /v2/index.php forwarded to the emulator's 2.0 endpoint
  emulator           http://%s   domains www.example.com, img.example.com (online), static.offline.example (offline)
Calls are unsigned: the proxy signs them with the emulator's fake key. Try:

`, bridged, plain, emu)
	for _, c := range devCalls(bridged, plain) {
		fmt.Fprintf(w, "# %s: %s\n%s\n\n", c.kind, c.what, c.curl())
	}
	fmt.Fprintln(w, "Ctrl-C stops. For the real API: cdnproxy -h (set CDNPROXY_SECRET_ID, CDNPROXY_SECRET_KEY).")
}

// devCall is one call printed by cdnproxy dev.
type devCall struct {
	kind, what string
	method     string
	url        string
	headers    []string // "Name: value"
	body       string
}

// curl returns the call as a command line to paste.
func (c devCall) curl() string {
	var b strings.Builder
	b.WriteString("curl -s")
	if c.method != http.MethodGet {
		b.WriteString(" -X " + c.method)
	}
	for _, h := range c.headers {
		b.WriteString(" -H '" + h + "'")
	}
	if c.body != "" {
		b.WriteString(" -d '" + c.body + "'")
	}
	b.WriteString(" '" + c.url + "'")
	return b.String()
}

// devCalls are the calls cdnproxy dev prints.
func devCalls(bridged, plain string) []devCall {
	purge2 := func(host, domain string) string {
		return "http://" + host + "/v2/index.php?Action=RefreshCdnUrl&urls.0=" + url.QueryEscape("http://"+domain+"/a.png")
	}
	v3 := func(body string) devCall {
		return devCall{method: http.MethodPost, url: "http://" + bridged + "/", body: body,
			headers: []string{"Content-Type: application/json", "X-TC-Action: PurgeUrlsCache"}}
	}
	ok3, bad3 := v3(`{"Urls":["http://www.example.com/a.png"]}`), v3(`{"Urls":["http://nosuch.example/a.png"]}`)
	ok3.kind, ok3.what = "success", "API 3.0 purge (X-TC-Version 2018-06-06 is added for you)"
	bad3.kind, bad3.what = "annotated error", "API 3.0 purge of a domain the account does not have"
	return []devCall{
		{kind: "success", what: "API 2.0 purge", method: http.MethodGet, url: purge2(plain, "www.example.com")},
		{kind: "annotated error", what: "API 2.0 purge of a domain the account does not have (9110)", method: http.MethodGet, url: purge2(plain, "nosuch.example")},
		{kind: "success", what: "the same 2.0 purge through the bridge (answered by API 3.0)", method: http.MethodGet, url: purge2(bridged, "www.example.com")},
		{kind: "annotated error", what: "the same 2.0 error through the bridge", method: http.MethodGet, url: purge2(bridged, "nosuch.example")},
		ok3,
		bad3,
	}
}

// printMockHelp is `cdnproxy mock -h`.
func printMockHelp(w io.Writer) {
	fmt.Fprintf(w, `Usage: cdnproxy mock

Runs the offline emulator of Tencent Cloud's CDN API: API 2.0 at
/v2/index.php and API 3.0 at /, on one account (domains, tasks, daily
quotas), with fault injection at the admin listener's /faults.

Environment (variable, default, meaning):
`)
	printVariables(w, variablesOf(reflect.TypeFor[mockConfig](), mockPrefix))
}
