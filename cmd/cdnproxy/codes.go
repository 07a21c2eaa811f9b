package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/cdnproxy/cdnproxy/codes"
)

// `cdnproxy codes` prints the error code catalogue (package codes): the
// whole of it as a table, or one code explained. Its Markdown output is
// docs/codes.md, checked in and kept in step by TestDocsCodesInSync.

// docsCommand regenerates docs/codes.md; the file and the drift test both
// name it.
const docsCommand = "go run ./cmd/cdnproxy codes --markdown > docs/codes.md"

// Generations and kinds, as `cdnproxy codes` prints them.
const (
	gen2 = "2.0"
	gen3 = "3.0"

	kindPublic = "public" // 2.0: the response's "code" member
	kindModule = "module" // 2.0: the number in the "(9112)" prefix of "message"
	kindCode   = "code"   // 3.0: Response.Error.Code
)

// row is one catalogue entry as every output of `cdnproxy codes` shows it.
// Its JSON form is the --json output; the field names are stable.
type row struct {
	Code        string         `json:"code"`       // "9112", "-9009", "LimitExceeded.CdnPurgeUrlExceedDayLimit"
	Generation  string         `json:"generation"` // "2.0" or "3.0"
	Kind        string         `json:"kind"`       // "public", "module" or "code"
	Category    codes.Category `json:"category"`
	Retryable   bool           `json:"retryable"`
	Description string         `json:"description"`
	Original    string         `json:"original"` // Tencent's Chinese text (2.0); "" for 3.0
	// Requested is the code that was asked for when only its family is
	// in the catalogue ("LimitExceeded.Whatever" explained by
	// "LimitExceeded"); empty otherwise.
	Requested string `json:"requested,omitempty"`
}

// catalogue is the data `cdnproxy codes` shows. It is a value rather than
// calls into package codes so that tests can give it entries the real
// catalogue does not have.
type catalogue struct {
	public, module []codes.Entry
	v3             []codes.V3Entry // sorted by Code
}

// builtinCatalogue is the catalogue of package codes.
func builtinCatalogue() catalogue {
	return catalogue{public: codes.PublicEntries(), module: codes.ModuleEntries(), v3: codes.V3Entries()}
}

func v2Row(e codes.Entry, kind string) row {
	return row{Code: strconv.Itoa(e.Code), Generation: gen2, Kind: kind, Category: e.Category,
		Retryable: e.Retryable, Description: e.Description, Original: e.Original}
}

func v3Row(e codes.V3Entry) row {
	return row{Code: e.Code, Generation: gen3, Kind: kindCode, Category: e.Category,
		Retryable: e.Retryable, Description: e.Description}
}

// rows returns every entry: 2.0 public codes, 2.0 module codes, then 3.0
// codes, each group in catalogue order.
func (c catalogue) rows() []row {
	out := make([]row, 0, len(c.public)+len(c.module)+len(c.v3))
	for _, e := range c.public {
		out = append(out, v2Row(e, kindPublic))
	}
	for _, e := range c.module {
		out = append(out, v2Row(e, kindModule))
	}
	for _, e := range c.v3 {
		out = append(out, v3Row(e))
	}
	return out
}

// lookup returns the entries for one code as typed by a user. A number is
// a 2.0 code: its public entry and its module entry, in that order, if
// both exist. Anything else is a 3.0 code, falling back to its family as
// codes.V3 does; the row's Requested then holds what was asked for.
func (c catalogue) lookup(code string) ([]row, error) {
	if n, err := strconv.Atoi(code); err == nil {
		var out []row
		for _, e := range c.public {
			if e.Code == n {
				out = append(out, v2Row(e, kindPublic))
			}
		}
		for _, e := range c.module {
			if e.Code == n {
				out = append(out, v2Row(e, kindModule))
			}
		}
		if len(out) == 0 {
			return nil, fmt.Errorf("%d is not an API 2.0 code in the catalogue (public codes are %s; module codes %s); run 'cdnproxy codes' for the list",
				n, span(c.public), span(c.module))
		}
		return out, nil
	}
	find := func(code string) (codes.V3Entry, bool) {
		i, ok := slices.BinarySearchFunc(c.v3, code, func(e codes.V3Entry, code string) int { return strings.Compare(e.Code, code) })
		if !ok {
			return codes.V3Entry{}, false
		}
		return c.v3[i], true
	}
	if e, ok := find(code); ok {
		return []row{v3Row(e)}, nil
	}
	if family, _, dotted := strings.Cut(code, "."); dotted && family != "" {
		if e, ok := find(family); ok {
			r := v3Row(e)
			r.Requested = code
			return []row{r}, nil
		}
	}
	msg := fmt.Sprintf("%q is not a code in the catalogue, nor is its family", code)
	for _, e := range c.v3 {
		if strings.EqualFold(e.Code, code) {
			msg += fmt.Sprintf(" (codes are case-sensitive: did you mean %s?)", e.Code)
			break
		}
	}
	return nil, errors.New(msg + "; run 'cdnproxy codes' for the list")
}

// span describes the range of a sorted table's codes, such as "4000 to 6200".
func span(table []codes.Entry) string {
	if len(table) == 0 {
		return "none"
	}
	return fmt.Sprintf("%d to %d", table[0].Code, table[len(table)-1].Code)
}

// retryableMeaning spells out what a retryable flag promises.
func retryableMeaning(retryable bool, generation string) string {
	switch {
	case !retryable:
		return "no: sending the same call again fails the same way until something changes first"
	case generation == gen3:
		return "yes: sending the same call again later, signed afresh with a new timestamp, may succeed"
	default:
		return "yes: sending the same call again later with a fresh Nonce/Timestamp may succeed"
	}
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

const codesUsage = `usage: cdnproxy codes [--json | --markdown] [CODE ...]

Without a CODE, lists the whole error code catalogue: API 2.0 public
codes, API 2.0 module codes, then API 3.0 codes. With one or more, explains
each: a number is an API 2.0 code (4100, 9112, -9009), anything else an
API 3.0 code (LimitExceeded.CdnPurgeUrlExceedDayLimit); an unknown 3.0
code is explained by its family (LimitExceeded.Whatever by LimitExceeded).

Flags (before or after the codes):
`

// runCodes is `cdnproxy codes`.
func runCodes(args []string, stdout, stderr io.Writer) error {
	return codesCommand(builtinCatalogue(), args, stdout, stderr)
}

func codesCommand(cat catalogue, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("codes", flag.ContinueOnError)
	fs.SetOutput(stderr)
	asJSON := fs.Bool("json", false, "print JSON: an array of objects with the fields code, generation, kind, category, retryable, description, original")
	asMarkdown := fs.Bool("markdown", false, "print Markdown; without a CODE, the whole of docs/codes.md")
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), codesUsage)
		fs.PrintDefaults()
	}
	wanted, err := parseArgs(fs, args)
	if errors.Is(err, flag.ErrHelp) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("codes: %w", err)
	}
	if *asJSON && *asMarkdown {
		return errors.New("codes: --json and --markdown exclude each other")
	}

	var rows []row
	if len(wanted) == 0 {
		rows = cat.rows()
	}
	for _, code := range wanted {
		found, err := cat.lookup(code)
		if err != nil {
			return fmt.Errorf("codes: %w", err)
		}
		rows = append(rows, found...)
	}

	switch {
	case *asJSON:
		enc := json.NewEncoder(stdout)
		enc.SetEscapeHTML(false)
		enc.SetIndent("", "  ")
		return enc.Encode(rows)
	case *asMarkdown && len(wanted) == 0:
		return writeMarkdownDoc(stdout, rows)
	case *asMarkdown:
		return writeMarkdownTables(stdout, rows)
	case len(wanted) == 0:
		return writeTable(stdout, rows)
	default:
		return writeExplanations(stdout, rows)
	}
}

// writeTable prints rows as an aligned text table.
func writeTable(w io.Writer, rows []row) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "CODE\tGENERATION\tKIND\tCATEGORY\tRETRYABLE\tDESCRIPTION")
	for _, r := range rows {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", r.Code, r.Generation, r.Kind, r.Category, yesNo(r.Retryable), r.Description)
	}
	return tw.Flush()
}

// kindText names a row's kind in words.
func kindText(r row) string {
	switch r.Kind {
	case kindPublic:
		return `API 2.0 public code: the response's "code" member`
	case kindModule:
		return fmt.Sprintf(`API 2.0 module code: the "(%s)" prefix of the response's "message"`, r.Code)
	default:
		return "API 3.0 code: Response.Error.Code"
	}
}

// writeExplanations prints each row as a block of labelled lines.
func writeExplanations(w io.Writer, rows []row) error {
	var b strings.Builder
	for i, r := range rows {
		if i > 0 {
			b.WriteByte('\n')
		}
		code := r.Code
		if r.Requested != "" {
			code = r.Requested
		}
		fmt.Fprintf(&b, "%s (%s)\n", code, kindText(r))
		line := func(label, text string) { fmt.Fprintf(&b, "  %-12s %s\n", label, text) }
		if r.Requested != "" {
			line("note", fmt.Sprintf("%s is not in the catalogue; this is the entry of its family, %s", r.Requested, r.Code))
		}
		line("category", fmt.Sprintf("%s: %s", r.Category, r.Category.Meaning()))
		line("retryable", retryableMeaning(r.Retryable, r.Generation))
		line("description", r.Description)
		if r.Original != "" {
			line("original", r.Original)
		}
		line("what to do", r.Category.Advice(r.Retryable))
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// writeMarkdownDoc prints docs/codes.md: an introduction, the categories,
// then the tables.
func writeMarkdownDoc(w io.Writer, rows []row) error {
	var b strings.Builder
	fmt.Fprintf(&b, "<!-- Generated from the catalogue in codes/ by `%s`. Do not edit by hand. -->\n\n", docsCommand)
	b.WriteString(`# Error codes

Every error code of Tencent Cloud's CDN API that cdnproxy knows, for both
generations of the API. cdnproxy adds the **category**, **retryable** and
**description** shown here to each error body that passes through it
(` + "`cdnproxy explain`" + ` does the same for a body you paste), and
` + "`cdnproxy codes CODE`" + ` explains one code on the command line.

The **category** says what kind of problem a code reports, and so what the
caller should do about it. **Retryable** says whether sending the same call
again later, signed afresh (a new ` + "`Nonce`/`Timestamp`" + ` in API 2.0, a new
timestamp in API 3.0) and with no other change, may succeed; when it is
"no", something must change first. An API 3.0 code that is not listed is
explained by its family (the part before the first dot); any other code that
is not listed is ` + "`unknown`" + `.

The categories:

`)
	for _, c := range codes.Categories() {
		fmt.Fprintf(&b, "- `%s`: %s.\n", c, c.Meaning())
	}
	b.WriteByte('\n')
	if _, err := io.WriteString(w, b.String()); err != nil {
		return err
	}
	return writeMarkdownTables(w, rows)
}

// markdownGroups are the sections of the Markdown output, in order.
var markdownGroups = []struct {
	generation, kind, title, intro string
}{
	{gen2, kindPublic, "API 2.0 public codes",
		"The response's `code` member, such as `{\"code\":4100,...}`. When the message starts with a module code, the module code's entry is the one cdnproxy uses."},
	{gen2, kindModule, "API 2.0 module codes",
		"The number in the `(9112)` prefix of the response's `message` (or in `codeDesc`); cdnproxy also adds it as `moduleCode`."},
	{gen3, kindCode, "API 3.0 codes",
		"`Response.Error.Code`, such as `{\"Response\":{\"Error\":{\"Code\":\"LimitExceeded.CdnPurgeUrlExceedDayLimit\",...}}}`. cdnproxy adds `Category`, `Retryable` and `Description` next to `Code` and `Message`."},
}

// writeMarkdownTables prints rows as one Markdown section per generation
// and kind, skipping empty ones.
func writeMarkdownTables(w io.Writer, rows []row) error {
	var b strings.Builder
	first := true
	for _, g := range markdownGroups {
		var group []row
		for _, r := range rows {
			if r.Generation == g.generation && r.Kind == g.kind {
				group = append(group, r)
			}
		}
		if len(group) == 0 {
			continue
		}
		if !first {
			b.WriteByte('\n')
		}
		first = false
		fmt.Fprintf(&b, "## %s\n\n%s\n\n", g.title, g.intro)
		if g.generation == gen2 {
			b.WriteString("| Code | Category | Retryable | Description | Original (Chinese) |\n|---|---|---|---|---|\n")
		} else {
			b.WriteString("| Code | Category | Retryable | Description |\n|---|---|---|---|\n")
		}
		for _, r := range group {
			code := "`" + r.Code + "`"
			if r.Requested != "" {
				code = fmt.Sprintf("`%s` (for `%s`)", r.Code, r.Requested)
			}
			fmt.Fprintf(&b, "| %s | `%s` | %s | %s |", code, r.Category, yesNo(r.Retryable), markdownCell(r.Description))
			if g.generation == gen2 {
				fmt.Fprintf(&b, " %s |", markdownCell(r.Original))
			}
			b.WriteByte('\n')
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// markdownCell makes text safe inside a table cell.
func markdownCell(s string) string {
	return strings.NewReplacer("|", `\|`, "\n", " ", "\r", " ").Replace(s)
}

// parseArgs parses fs's flags wherever they appear among args and returns
// the other arguments in order. Unlike fs.Parse alone, it goes on after
// the first non-flag argument, takes a negative number such as -9009 for
// an argument rather than a flag, and leaves "-" (stdin) as an argument;
// everything after "--" is an argument.
func parseArgs(fs *flag.FlagSet, args []string) ([]string, error) {
	var positional []string
	for len(args) > 0 {
		a := args[0]
		if a == "--" {
			return append(positional, args[1:]...), nil
		}
		if a == "-" || !strings.HasPrefix(a, "-") || isNegativeNumber(a) {
			positional = append(positional, a)
			args = args[1:]
			continue
		}
		// fs.Parse stops at the first non-flag argument, but would
		// take a negative number for a flag: stop it there.
		end := len(args)
		for j := 1; j < len(args); j++ {
			if isNegativeNumber(args[j]) {
				end = j
				break
			}
		}
		if err := fs.Parse(args[:end]); err != nil {
			return nil, err
		}
		rest := fs.Args()
		if consumed := end - len(rest); args[consumed-1] == "--" {
			return slices.Concat(positional, rest, args[end:]), nil
		}
		args = slices.Concat(rest, args[end:])
	}
	return positional, nil
}

// isNegativeNumber reports whether s is "-" followed by decimal digits.
func isNegativeNumber(s string) bool {
	if len(s) < 2 || s[0] != '-' {
		return false
	}
	for _, c := range s[1:] {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}
