package main

import (
	"bufio"
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/cdnproxy/cdnproxy/annotate"
)

// `cdnproxy explain` annotates a response body offline, exactly as the
// proxy would (annotate.Body): for bug reports, old log files, or a body
// copied from a client's output.

// maxExplainBytes caps what explain reads: the whole input, or with
// --lines each line.
const maxExplainBytes = 10 << 20

const explainUsage = `usage: cdnproxy explain [--verbose] [--lines] [BODY | @FILE | -]

Prints an API 2.0 or 3.0 response body with cdnproxy's annotation added,
as the proxy would send it. The body is the argument, or the content of
FILE for @FILE, or stdin for "-" or no argument (at most 10 MiB). A body
that is not an error (a success, or not an API body at all) is printed
unchanged, and a note on stderr says so.

Flags (before or after the argument):
`

// runExplain is `cdnproxy explain`.
func runExplain(args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("explain", flag.ContinueOnError)
	fs.SetOutput(stderr)
	verbose := fs.Bool("verbose", false, "also describe each annotated error on stderr, in words")
	lines := fs.Bool("lines", false, "treat every input line as a separate body (for log files); each line may be up to 10 MiB")
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), explainUsage)
		fs.PrintDefaults()
	}
	pos, err := parseArgs(fs, args)
	if errors.Is(err, flag.ErrHelp) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("explain: %w", err)
	}
	if len(pos) > 1 {
		return fmt.Errorf("explain: one body at a time, got %d arguments (quote the body, or use @FILE or stdin)", len(pos))
	}

	in := stdin
	switch {
	case len(pos) == 0 || pos[0] == "-":
		if f, ok := stdin.(*os.File); ok {
			if fi, err := f.Stat(); err == nil && fi.Mode()&os.ModeCharDevice != 0 {
				fmt.Fprintln(stderr, "cdnproxy explain: reading a response body from stdin; end it with Ctrl-D")
			}
		}
	case strings.HasPrefix(pos[0], "@"):
		f, err := os.Open(pos[0][1:])
		if err != nil {
			return fmt.Errorf("explain: %w", err)
		}
		defer f.Close()
		in = f
	default:
		in = strings.NewReader(pos[0])
	}

	if *lines {
		return explainLines(in, stdout, stderr, *verbose)
	}
	body, err := io.ReadAll(io.LimitReader(in, maxExplainBytes+1))
	if err != nil {
		return fmt.Errorf("explain: reading the body: %w", err)
	}
	if len(body) > maxExplainBytes {
		return errors.New("explain: the body is larger than 10 MiB (for a log file, use --lines)")
	}
	if len(bytes.TrimSpace(body)) == 0 {
		return errors.New("explain: no body: give it as the argument, as @FILE or on stdin")
	}
	out, res := annotate.Body(body)
	if !bytes.HasSuffix(out, []byte("\n")) {
		out = append(out[:len(out):len(out)], '\n')
	}
	if _, err := stdout.Write(out); err != nil {
		return err
	}
	switch {
	case res.Kind == annotate.Success:
		fmt.Fprintf(stderr, "cdnproxy explain: a successful API %d.0 result: nothing to annotate; printed unchanged\n", res.Generation)
	case res.Kind != annotate.Failure:
		fmt.Fprintln(stderr, `cdnproxy explain: not an API error body (a JSON object with a non-zero integer "code" for 2.0, or {"Response":{"Error":{"Code":...}}} for 3.0); printed unchanged`)
	case *verbose:
		writeSummary(stderr, res)
	}
	return nil
}

// explainLines annotates every line of in as a body of its own, keeping
// line endings, and reports the counts on stderr.
func explainLines(in io.Reader, stdout, stderr io.Writer, verbose bool) error {
	sc := bufio.NewScanner(in)
	sc.Buffer(make([]byte, 0, 64<<10), maxExplainBytes+2) // + "\r\n"
	sc.Split(scanLinesKeepEnd)
	w := bufio.NewWriter(stdout)
	var n, failures, successes int
	for sc.Scan() {
		n++
		line := sc.Bytes()
		body := bytes.TrimSuffix(line, []byte("\n"))
		body = bytes.TrimSuffix(body, []byte("\r"))
		out, res := annotate.Body(body)
		w.Write(out)
		w.Write(line[len(body):])
		switch res.Kind {
		case annotate.Failure:
			failures++
			if verbose {
				fmt.Fprintf(stderr, "line %d: ", n)
				writeSummary(stderr, res)
			}
		case annotate.Success:
			successes++
		}
	}
	if err := sc.Err(); err != nil {
		w.Flush()
		if errors.Is(err, bufio.ErrTooLong) {
			return fmt.Errorf("explain: line %d is longer than 10 MiB", n+1)
		}
		return fmt.Errorf("explain: reading line %d: %w", n+1, err)
	}
	if err := w.Flush(); err != nil {
		return err
	}
	fmt.Fprintf(stderr, "cdnproxy explain: %d lines: %d API errors annotated; printed unchanged: %d successful results, %d other lines\n",
		n, failures, successes, n-failures-successes)
	return nil
}

// scanLinesKeepEnd is bufio.ScanLines, but the token keeps its line
// ending, so that lines can be written back exactly.
func scanLinesKeepEnd(data []byte, atEOF bool) (int, []byte, error) {
	if i := bytes.IndexByte(data, '\n'); i >= 0 {
		return i + 1, data[:i+1], nil
	}
	if atEOF && len(data) > 0 {
		return len(data), data, nil
	}
	return 0, nil, nil
}

// writeSummary describes an annotated failure in words.
func writeSummary(w io.Writer, res annotate.Result) {
	var b strings.Builder
	generation := gen2
	if res.Generation == 3 {
		generation = gen3
	}
	fmt.Fprintf(&b, "API %s error %s", generation, res.CodeText())
	if res.HasModuleCode {
		fmt.Fprintf(&b, ", module code %d", res.ModuleCode)
	}
	b.WriteByte('\n')
	line := func(label, text string) { fmt.Fprintf(&b, "  %-12s %s\n", label, text) }
	switch res.Source {
	case annotate.FromPublic:
		if res.HasModuleCode {
			line("note", fmt.Sprintf("module code %d is not in the catalogue; explained by public code %d", res.ModuleCode, res.Code))
		}
	case annotate.FromV3Family:
		family, _, _ := strings.Cut(res.ErrorCode, ".")
		line("note", fmt.Sprintf("%s is not in the catalogue; explained by its family, %s", res.ErrorCode, family))
	case annotate.FromNone:
		line("note", "the code is not in the catalogue")
	}
	line("category", fmt.Sprintf("%s: %s", res.Category, res.Category.Meaning()))
	line("retryable", retryableMeaning(res.Retryable, generation))
	line("description", res.Description)
	if m := res.Message(); m != "" {
		line("message", m)
	}
	if id := res.RequestID(); id != "" {
		line("request id", id)
	}
	line("what to do", res.Category.Advice(res.Retryable))
	io.WriteString(w, b.String())
}
