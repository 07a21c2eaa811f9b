package main

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// curlLine reads the fixed form of the curl commands cdnproxy dev prints.
var curlLine = regexp.MustCompile(`^curl -s(?: -X (\w+))?((?: -H '[^']*')*)(?: -d '([^']*)')? '([^']*)'$`)

// TestDev starts cdnproxy dev, sends every call it prints (with net/http,
// as curl would) and checks each gets the printed kind of answer, then
// interrupts it and checks it ends cleanly.
func TestDev(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"dev", "-addr", "127.0.0.1:0", "-addr-v2", "127.0.0.1:0"}, nil, nil, pw, io.Discard)
		pw.Close()
	}()
	sc := bufio.NewScanner(pr)
	kind, calls := "", 0
	kinds := map[string]int{}
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "Ctrl-C stops") {
			break
		}
		if k, _, ok := strings.Cut(strings.TrimPrefix(line, "# "), ": "); ok && strings.HasPrefix(line, "# ") {
			kind = k
			continue
		}
		m := curlLine.FindStringSubmatch(line)
		if m == nil {
			continue
		}
		calls++
		kinds[kind]++
		method := m[1]
		if method == "" {
			method = http.MethodGet
		}
		req, err := http.NewRequest(method, m[4], strings.NewReader(m[3]))
		if err != nil {
			t.Fatal(err)
		}
		for _, h := range regexp.MustCompile(`-H '([^:]+): ([^']*)'`).FindAllStringSubmatch(m[2], -1) {
			req.Header.Set(h[1], h[2])
		}
		res, err := (&http.Client{Timeout: 30 * time.Second}).Do(req)
		if err != nil {
			t.Fatalf("%s: %v", line, err)
		}
		var body map[string]any
		err = json.NewDecoder(res.Body).Decode(&body)
		res.Body.Close()
		if err != nil {
			t.Fatalf("%s: %v", line, err)
		}
		if r, ok := body["Response"].(map[string]any); ok {
			body = r
			if e, ok := r["Error"].(map[string]any); ok {
				body = e
				body["code"] = e["Code"]
			} else {
				body["code"] = float64(0)
			}
		}
		success := body["code"] == float64(0)
		annotated := body["category"] != nil || body["Category"] != nil
		switch kind {
		case "success":
			if !success {
				t.Errorf("%s: want a success, got %v", line, body)
			}
		case "annotated error":
			if success || !annotated {
				t.Errorf("%s: want an annotated error, got %v", line, body)
			}
		default:
			t.Errorf("%s: printed kind %q is neither", line, kind)
		}
	}
	if calls != 6 || kinds["success"] != 3 || kinds["annotated error"] != 3 {
		t.Errorf("dev printed %d calls (%v), want 3 successes and 3 annotated errors", calls, kinds)
	}
	cancel() // Ctrl-C
	go func() { _, _ = io.Copy(io.Discard, pr) }()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("dev ended with %v, want nil (exit 0)", err)
		}
	case <-time.After(time.Minute):
		t.Fatal("dev did not stop")
	}
}

// TestHelp checks -h, --help and help print usage and every variable
// config.example.env lists, with its default; -h after each command
// describes it; an unknown flag fails.
func TestHelp(t *testing.T) {
	example, _ := readExampleEnv(t, filepath.Join(repoRoot, "config.example.env"))
	if len(example) == 0 {
		t.Fatal("config.example.env lists no variables")
	}
	for _, args := range [][]string{{"-h"}, {"--help"}, {"help"}} {
		var out strings.Builder
		if err := run(context.Background(), args, nil, nil, &out, io.Discard); err != nil {
			t.Fatalf("%v: %v", args, err)
		}
		for name, v := range example {
			if !regexp.MustCompile(`(?m)^  ` + regexp.QuoteMeta(name) + ` +` + regexp.QuoteMeta(orEmpty(v.value)) + ` `).MatchString(out.String()) {
				t.Errorf("%v does not list %s with default %q", args, name, v.value)
			}
		}
	}
	for _, cmd := range []string{"dev", "mock", "healthcheck", "codes", "explain"} {
		var out, errOut strings.Builder
		err := run(context.Background(), []string{cmd, "-h"}, nil, nil, &out, &errOut)
		if err != nil || !strings.Contains(out.String()+errOut.String(), "sage") {
			t.Errorf("%s -h: %v\n%s%s", cmd, err, out.String(), errOut.String())
		}
	}
	var out strings.Builder
	if err := run(context.Background(), []string{"mock", "-h"}, nil, nil, &out, io.Discard); err != nil || !strings.Contains(out.String(), "CDNPROXY_MOCK_FAULTS") {
		t.Errorf("mock -h lists no CDNPROXY_MOCK_ variables: %v\n%s", err, out.String())
	}
	if err := run(context.Background(), []string{"--nope"}, nil, nil, io.Discard, io.Discard); err == nil || !strings.Contains(err.Error(), "unknown flag") {
		t.Errorf("--nope: %v", err)
	}
}

func orEmpty(s string) string {
	if s == "" {
		return "(empty)"
	}
	return s
}
