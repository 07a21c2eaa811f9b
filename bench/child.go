package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// child is a proxy running in its own process.
type child struct {
	kind  string
	addr  string // host:port it serves on
	cmd   *exec.Cmd
	stdin io.WriteCloser
}

// startChild re-executes this binary in -serve mode for one proxy kind
// and waits until it listens.
func startChild(kind string, o options, up *upstream) (*child, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, err
	}
	args := []string{"-serve", kind, "-c", strconv.Itoa(o.concurrency), "-upstream", up.srv.URL, "-listen", "127.0.0.1:0"}
	if o.cpuprofile != "" {
		args = append(args, "-cpuprofile", filepath.Join(o.cpuprofile, kind+".pprof"))
	}
	cmd := exec.Command(exe, args...)
	cmd.Env = append(os.Environ(), "SSL_CERT_FILE="+up.caFile)
	// The proxy's log (failed calls at warn, as in production) goes to
	// /dev/null: cmd.Stderr nil.
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	c := &child{kind: kind, cmd: cmd, stdin: stdin}
	lines := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			select {
			case lines <- sc.Text():
			default:
			}
		}
		close(lines)
	}()
	select {
	case line, ok := <-lines:
		if addr, found := strings.CutPrefix(line, "listening "); found {
			c.addr = addr
			return c, nil
		}
		c.stop()
		if !ok {
			return nil, fmt.Errorf("proxy %s exited before it listened", kind)
		}
		return nil, fmt.Errorf("proxy %s: %s", kind, line)
	case <-time.After(10 * time.Second):
		c.stop()
		return nil, fmt.Errorf("proxy %s did not start within 10s", kind)
	}
}

// stop closes the child's stdin, which ends it, and waits for it; after
// 10 seconds it is killed.
func (c *child) stop() {
	c.stdin.Close()
	done := make(chan error, 1)
	go func() { done <- c.cmd.Wait() }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		_ = c.cmd.Process.Kill()
		<-done
	}
}

// resetPeakRSS resets the child's peak resident set size (VmHWM) to its
// current RSS, so that the next reading is the peak of what follows
// (Linux 4.0 and later).
func (c *child) resetPeakRSS() error {
	return os.WriteFile(fmt.Sprintf("/proc/%d/clear_refs", c.cmd.Process.Pid), []byte("5"), 0)
}

// peakRSS returns the child's VmHWM in bytes.
func (c *child) peakRSS() (int64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", c.cmd.Process.Pid))
	if err != nil {
		return 0, err
	}
	for line := range strings.SplitSeq(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 10, 64)
			return kb << 10, err
		}
	}
	return 0, errors.New("no VmHWM in /proc/<pid>/status")
}

// cpuTime returns the CPU time the child has used, user and system, all
// threads (clock-tick resolution).
func (c *child) cpuTime() (time.Duration, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", c.cmd.Process.Pid))
	if err != nil {
		return 0, err
	}
	// The fields after the command name, which is in parentheses and may
	// hold spaces: state is field 3, utime 14 and stime 15.
	i := strings.LastIndexByte(string(b), ')')
	if i < 0 {
		return 0, errors.New("malformed /proc/<pid>/stat")
	}
	f := strings.Fields(string(b[i+1:]))
	if len(f) < 13 {
		return 0, errors.New("malformed /proc/<pid>/stat")
	}
	utime, err1 := strconv.ParseInt(f[11], 10, 64)
	stime, err2 := strconv.ParseInt(f[12], 10, 64)
	if err := errors.Join(err1, err2); err != nil {
		return 0, err
	}
	return time.Duration(utime+stime) * time.Second / clockTicks, nil
}

// clockTicks is USER_HZ, the unit of /proc/<pid>/stat's times: 100 on
// every Linux architecture Go supports.
const clockTicks = 100

// selfCPUTime returns the CPU time this process (load client and fake
// upstream) has used.
func selfCPUTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
