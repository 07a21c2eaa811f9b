package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/cdnproxy/cdnproxy/internal/logbuf"
)

// processExit bounds the wait for the cdnproxy process to exit after
// SIGTERM: well beyond the drain it is configured with below, so that a
// process that does not exit fails the test instead of hanging it.
const processExit = 30 * time.Second

// buildBinary builds cdnproxy into a temporary directory and returns its
// path.
func buildBinary(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "cdnproxy")
	out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// holdAPI answers each call with a body naming its n parameter, but only
// once released; it tells arrived as each call comes in.
type holdAPI struct {
	arrived chan string
	release chan struct{}
	once    sync.Once
}

func newHoldAPI(t *testing.T) (*httptest.Server, *holdAPI) {
	t.Helper()
	api := &holdAPI{arrived: make(chan string, 64), release: make(chan struct{})}
	srv := httptest.NewServer(api)
	t.Cleanup(srv.Close)
	t.Cleanup(api.releaseAll) // runs before srv.Close, which waits for handlers
	return srv, api
}

func (a *holdAPI) releaseAll() { a.once.Do(func() { close(a.release) }) }

// holdBody is what holdAPI answers the call with parameter n.
func holdBody(n string) string {
	return `{"code":0,"message":"","codeDesc":"Success","data":{"n":"` + n + `"}}`
}

func (a *holdAPI) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	n := r.FormValue("n")
	a.arrived <- n
	select {
	case <-a.release:
	case <-r.Context().Done():
		return
	}
	w.Header().Set("Content-Type", "application/json")
	io.WriteString(w, holdBody(n))
}

// TestSIGTERMDrains runs the real binary, holds 10 calls in flight at the
// upstream and sends the process SIGTERM: the listener must close (new
// connections refused) while the calls are still held, every held call
// must then complete with its own answer, and the process must exit 0.
func TestSIGTERMDrains(t *testing.T) {
	const inFlight = 10
	bin := buildBinary(t)
	upstream, api := newHoldAPI(t)
	apiAddr, adminAddr := freeAddr(t), freeAddr(t)
	var stdout, stderr logbuf.Buffer
	cmd := exec.Command(bin)
	cmd.Env = []string{
		"CDNPROXY_LISTEN_ADDR=" + apiAddr,
		"CDNPROXY_ADMIN_ADDR=" + adminAddr,
		"CDNPROXY_UPSTREAM_URL=" + upstream.URL,
		"CDNPROXY_SHUTDOWN_TIMEOUT=20s",
	}
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	cmd.WaitDelay = 10 * time.Second // Wait returns even if output copying hangs after a kill
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var waitErr error // set before exited closes
	exited := make(chan struct{})
	go func() { waitErr = cmd.Wait(); close(exited) }()
	t.Cleanup(func() {
		select {
		case <-exited:
		default:
			cmd.Process.Kill()
			<-exited
		}
	})

	for try := 0; ; try++ {
		if status, _, err := get(t, "http://"+adminAddr+"/healthz"); err == nil && status == http.StatusOK {
			break
		}
		select {
		case <-exited:
			t.Fatalf("cdnproxy exited before it was healthy: %v\nstdout:\n%s\nstderr:\n%s", waitErr, &stdout, &stderr)
		default:
		}
		if try == pollTries {
			t.Fatalf("/healthz did not answer 200 after %d tries\nstdout:\n%s\nstderr:\n%s", pollTries, &stdout, &stderr)
		}
		time.Sleep(pollPause)
	}

	type answer struct {
		n, body string
		status  int
		err     error
	}
	answers := make(chan answer, inFlight)
	for i := range inFlight {
		n := fmt.Sprint(i)
		go func() {
			resp, err := client.Get("http://" + apiAddr + "/v2/index.php?Action=DescribeCdnHosts&n=" + n)
			if err != nil {
				answers <- answer{n: n, err: err}
				return
			}
			defer resp.Body.Close()
			body, err := io.ReadAll(resp.Body)
			answers <- answer{n, string(body), resp.StatusCode, err}
		}()
	}
	for i := range inFlight {
		select {
		case <-api.arrived:
		case a := <-answers:
			t.Fatalf("call %s ended before it reached the upstream: %d %s %v", a.n, a.status, a.body, a.err)
		case <-time.After(processExit):
			t.Fatalf("only %d of %d calls reached the upstream", i, inFlight)
		}
	}

	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	// While the calls are held, the API listener closes: new connections
	// are refused. A dial that lands in the backlog just as the listener
	// closes is reset instead; either way it is not served.
	for try := 0; ; try++ {
		conn, err := net.Dial("tcp", apiAddr)
		if err != nil {
			if !errors.Is(err, syscall.ECONNREFUSED) && !errors.Is(err, syscall.ECONNRESET) {
				t.Errorf("a new connection after SIGTERM failed with %v, want connection refused (or reset)", err)
			}
			break
		}
		conn.Close()
		if try == pollTries {
			t.Fatalf("new connections still accepted %d tries after SIGTERM", pollTries)
		}
		time.Sleep(pollPause)
	}
	select {
	case <-exited:
		t.Fatalf("cdnproxy exited (%v) with %d calls in flight", waitErr, inFlight)
	default:
	}

	api.releaseAll()
	for range inFlight {
		a := <-answers
		if a.err != nil || a.status != http.StatusOK || a.body != holdBody(a.n) {
			t.Errorf("call %s in flight at SIGTERM got %d %q (%v), want 200 %s", a.n, a.status, a.body, a.err, holdBody(a.n))
		}
	}

	ctx, cancel := context.WithTimeout(context.Background(), processExit)
	defer cancel()
	select {
	case <-exited:
		if waitErr != nil {
			t.Errorf("cdnproxy exited with %v after draining, want exit status 0\nstderr:\n%s", waitErr, &stderr)
		}
	case <-ctx.Done():
		t.Fatalf("cdnproxy did not exit within %s of its calls completing", processExit)
	}
	for _, msg := range []string{"cdnproxy draining", "cdnproxy stopped"} {
		waitForLog(t, &stdout, `"`+msg+`"`, func(l map[string]any) bool { return l["msg"] == msg })
	}
}
