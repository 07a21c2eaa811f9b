// Command cdnproxy runs the annotating reverse proxy in front of Tencent
// Cloud's CDN API. It is configured through CDNPROXY_* environment
// variables only; see config.example.env.
//
// Usage:
//
//	cdnproxy              run the proxy
//	cdnproxy -h           usage, commands and every variable with its default (also --help, help)
//	cdnproxy dev          try it offline: the proxy in sign mode in front of an in-process emulator
//	cdnproxy healthcheck  probe the admin listener's /healthz (for container health checks)
//	cdnproxy mock         run an offline emulator of the API, 2.0 and 3.0 (CDNPROXY_MOCK_* variables; see mock.go)
//	cdnproxy codes [--json|--markdown] [CODE...]
//	                      list the error code catalogue, or explain codes (9112, -9009, LimitExceeded.CdnPurgeUrlExceedDayLimit)
//	cdnproxy explain [--verbose] [--lines] [BODY|@FILE|-]
//	                      print a response body (argument, file or stdin) with cdnproxy's annotation added
//
// codes and explain read no configuration; -h after either describes its flags.
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Environ(), os.Stdin, os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "cdnproxy:", err)
		stop()
		os.Exit(1)
	}
}

// run is the whole program: main only supplies the process's context,
// arguments, environment and streams, so tests can run it in-process.
func run(ctx context.Context, args, environ []string, stdin io.Reader, stdout, stderr io.Writer) error {
	if isHelp(args) {
		printHelp(stdout)
		return nil
	}
	if len(args) > 0 {
		switch args[0] {
		case "healthcheck":
			if isHelp(args[1:]) {
				fmt.Fprintln(stdout, "Usage: cdnproxy healthcheck\n\nProbes http://<CDNPROXY_ADMIN_ADDR>/healthz and exits 0 when it answers 200 (for container health checks).")
				return nil
			}
			return healthcheck(ctx, environ)
		case "mock":
			if isHelp(args[1:]) {
				printMockHelp(stdout)
				return nil
			}
			return runMock(ctx, args[1:], environ, stdout, stderr)
		case "dev":
			return runDev(ctx, args[1:], stdout, stderr)
		case "codes":
			return runCodes(args[1:], stdout, stderr)
		case "explain":
			return runExplain(args[1:], stdin, stdout, stderr)
		default:
			if strings.HasPrefix(args[0], "-") {
				return fmt.Errorf("unknown flag %q (cdnproxy -h lists the commands and variables; the proxy is configured by CDNPROXY_* variables only)", args[0])
			}
			return fmt.Errorf("unknown command %q (commands: dev, mock, healthcheck, codes, explain, help; no command runs the proxy)", args[0])
		}
	}
	cfg, err := loadConfig(environ)
	if err != nil {
		return err
	}
	tr, err := newTracing(ctx, environ)
	if err != nil {
		return err
	}
	return serve(ctx, cfg, stdout, tr)
}
