//go:build e2e

package legacyclient_test

// The helpers shared by this package's end-to-end tests.

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/cdnproxy/cdnproxy/internal/logbuf"
	"github.com/cdnproxy/cdnproxy/proxy"
)

// runNode runs one of this folder's node scripts (which drives the npm
// package pkg) with env added to an environment stripped of HTTP proxy
// settings (the client must talk to cdnproxy directly), and decodes the
// want JSON lines it prints.
func runNode[T any](t *testing.T, script, pkg string, want int, env ...string) []T {
	t.Helper()
	node, err := exec.LookPath("node")
	if err != nil {
		t.Fatalf("node is not installed (%v); this test runs the npm client %s", err, pkg)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, script)
	for _, kv := range os.Environ() {
		name, _, _ := strings.Cut(kv, "=")
		if !strings.HasSuffix(strings.ToLower(name), "_proxy") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	cmd.Env = append(cmd.Env, env...)
	cmd.Env = append(cmd.Env, "NODE_NO_WARNINGS=1")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("node %s: %v\nstdout:\n%s\nstderr:\n%s", script, err, out, stderr.String())
	}
	var results []T
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var r T
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			t.Fatalf("%s printed a line that is not JSON: %v\n%s", script, err, sc.Text())
		}
		results = append(results, r)
	}
	if len(results) != want {
		t.Fatalf("%s printed %d results, want %d\nstdout:\n%s\nstderr:\n%s", script, len(results), want, out, stderr.String())
	}
	return results
}

// checkNoSecrets fails the test when the proxy's log holds one of the
// secret keys.
func checkNoSecrets(t *testing.T, log string, secrets ...string) {
	t.Helper()
	for _, secret := range secrets {
		if strings.Contains(log, secret) {
			t.Errorf("the proxy's log holds a secret key")
		}
	}
}

// resignProxy returns a proxy configured as cfg says, in resign mode: it
// accepts the calls clientID signs with clientKey and signs what it sends
// on with upstreamID and upstreamKey. It logs at debug level into the
// buffer it also returns.
func resignProxy(t *testing.T, cfg proxy.Config, upstreamID, upstreamKey, clientID, clientKey string) (*proxy.Proxy, *logbuf.Buffer) {
	t.Helper()
	logBuf := &logbuf.Buffer{}
	cfg.Signing = proxy.Signing{Mode: proxy.Resign, SecretID: upstreamID, SecretKey: upstreamKey,
		ClientKeys: map[string]string{clientID: clientKey}}
	cfg.Logger = slog.New(slog.NewJSONHandler(logBuf, &slog.HandlerOptions{Level: slog.LevelDebug}))
	p, err := proxy.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return p, logBuf
}
