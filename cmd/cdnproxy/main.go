// Command cdnproxy runs the annotating reverse proxy in front of Tencent
// Cloud's CDN API. It is configured through CDNPROXY_* environment
// variables only; see config.example.env.
//
// Usage:
//
//	cdnproxy              run the proxy
//	cdnproxy healthcheck  probe the admin listener's /healthz (for container health checks)
//	cdnproxy mock         run an offline emulator of the API 2.0 endpoint (CDNPROXY_MOCK_* variables; see mock.go)
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
	if len(args) > 0 {
		switch args[0] {
		case "healthcheck":
			return healthcheck(ctx, environ)
		case "mock":
			return runMock(ctx, args[1:], environ, stdout, stderr)
		case "codes":
			return runCodes(args[1:], stdout, stderr)
		case "explain":
			return runExplain(args[1:], stdin, stdout, stderr)
		default:
			return fmt.Errorf("unknown command %q (commands: healthcheck, mock, codes, explain; no command runs the proxy)", args[0])
		}
	}
	cfg, err := loadConfig(environ)
	if err != nil {
		return err
	}
	return serve(ctx, cfg, stdout)
}
