package main

import (
	"bufio"
	"fmt"
	"html"
	"maps"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/caarlos0/env/v11"
)

// repoRoot is where the repository's top-level files are, seen from this
// package's directory (where go test runs).
const repoRoot = "../.."

// configVariables returns every variable of config, in declaration order,
// including those of nested structs (under their envPrefix) and those with
// options such as ",file". It fails the test when a variable has no desc
// or when its own reading of the tags disagrees with the env library's.
func configVariables(t testing.TB) []variable {
	t.Helper()
	var vars []variable
	collectVariables(reflect.TypeFor[config](), envPrefix, "", &vars)

	// The env library is what reads the variables; make sure the walk
	// above sees the same set it does (a nil pointer to a struct, for
	// one, is not descended into by the library).
	params, err := env.GetFieldParamsWithOptions(&config{}, env.Options{Prefix: envPrefix})
	if err != nil {
		t.Fatalf("env.GetFieldParamsWithOptions: %v", err)
	}
	lib := make(map[string]env.FieldParams, len(params))
	for _, p := range params {
		lib[p.Key] = p
	}
	var problems []string
	seen := make(map[string]bool, len(vars))
	for _, v := range vars {
		if seen[v.name] {
			problems = append(problems, fmt.Sprintf("%s is declared twice", v.name))
		}
		seen[v.name] = true
		p, ok := lib[v.name]
		switch {
		case !ok:
			problems = append(problems, fmt.Sprintf("%s (field %s) is not read by the env library", v.name, v.field))
		case p.HasDefaultValue != v.hasDefault || p.DefaultValue != v.def:
			problems = append(problems, fmt.Sprintf("%s: default %q here, %q for the env library", v.name, v.def, p.DefaultValue))
		}
		if strings.TrimSpace(v.desc) == "" || strings.ContainsAny(v.desc, "\r\n") {
			problems = append(problems, fmt.Sprintf("%s (field %s) needs a one-line desc tag: it is the variable's meaning in config.example.env and the README", v.name, v.field))
		}
	}
	for key := range lib {
		if !seen[key] {
			problems = append(problems, fmt.Sprintf("%s is read by the env library but not found by this test's walk of config", key))
		}
	}
	if len(problems) > 0 {
		slices.Sort(problems)
		t.Fatalf("the config struct's tags:\n\t%s", strings.Join(problems, "\n\t"))
	}
	return vars
}

// exampleEntry is one NAME=value line of config.example.env.
type exampleEntry struct {
	line    int
	value   string
	comment string // the comment line just above, without "# "; "" if none
}

// readExampleEnv reads an env file: comment lines, blank lines and
// NAME=value lines, the format docker compose's env_file takes.
func readExampleEnv(t *testing.T, path string) (map[string]exampleEntry, []string) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatalf("%v", err)
	}
	defer f.Close()
	entries := make(map[string]exampleEntry)
	var problems []string
	var prev string // the previous line, trimmed
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line != "" && !strings.HasPrefix(line, "#") {
			name, value, ok := strings.Cut(line, "=")
			name = strings.TrimSpace(name)
			first, dup := entries[name]
			switch {
			case !ok:
				problems = append(problems, fmt.Sprintf("line %d: %q is not NAME=value", n, line))
			case dup:
				problems = append(problems, fmt.Sprintf("line %d: %s is set again (first on line %d); remove one", n, name, first.line))
			default:
				e := exampleEntry{line: n, value: unquote(strings.TrimSpace(value))}
				if c, ok := strings.CutPrefix(prev, "#"); ok {
					e.comment = strings.TrimSpace(c)
				}
				entries[name] = e
			}
		}
		prev = line
	}
	if err := sc.Err(); err != nil {
		t.Fatalf("reading %s: %v", path, err)
	}
	return entries, problems
}

// unquote removes one pair of matching quotes around an env file value.
func unquote(v string) string {
	if len(v) >= 2 && (v[0] == '"' || v[0] == '\'') && v[len(v)-1] == v[0] {
		return v[1 : len(v)-1]
	}
	return v
}

// TestExampleEnvInSync keeps config.example.env listing exactly the
// variables of config, each set to its default and preceded by its
// meaning.
func TestExampleEnvInSync(t *testing.T) {
	vars := configVariables(t)
	path := filepath.Join(repoRoot, "config.example.env")
	entries, problems := readExampleEnv(t, path)

	known := make(map[string]bool, len(vars))
	var add []string
	for _, v := range vars {
		known[v.name] = true
		e, ok := entries[v.name]
		if !ok {
			add = append(add, fmt.Sprintf("# %s\n\t\t%s=%s", v.desc, v.name, v.def))
			continue
		}
		if e.value != v.def {
			problems = append(problems, fmt.Sprintf("line %d: set %s=%s (its default), not %q", e.line, v.name, v.def, e.value))
		}
		if e.comment != v.desc {
			problems = append(problems, fmt.Sprintf("line %d: the line above %s must be the comment\n\t\t# %s\n\tnot\n\t\t# %s", e.line, v.name, v.desc, e.comment))
		}
	}
	for name, e := range entries {
		if !known[name] {
			problems = append(problems, fmt.Sprintf("line %d: remove %s (and its comment): config has no such variable", e.line, name))
		}
	}
	if len(add) > 0 {
		problems = append(problems, "add these lines:\n\t\t"+strings.Join(add, "\n\t\t"))
	}
	if len(problems) > 0 {
		t.Errorf("%s is out of step with the config struct (cmd/cdnproxy/config.go):\n\t%s", path, strings.Join(problems, "\n\t"))
	}
}

// readmeRow is a configuration table row of the README.
type readmeRow struct {
	line          int
	def, describe string
}

// readREADMERows returns the rows of the README's configuration tables:
// the Markdown tables whose header is | Variable | Default | Meaning |.
// Other tables (which may well start with a variable) are not read.
func readREADMERows(text string) (map[string]readmeRow, []string) {
	rows := make(map[string]readmeRow)
	var problems []string
	tables := 0
	lines := strings.Split(text, "\n")
	for i := 0; i < len(lines); i++ {
		// A table: a header row, a delimiter row, then rows, all
		// starting with a pipe.
		if !isTableRow(lines[i]) || i+1 >= len(lines) || !isDelimiterRow(lines[i+1]) {
			continue
		}
		header := tableCells(lines[i])
		i += 2
		isConfig := len(header) == 3 && strings.EqualFold(header[0], "Variable") &&
			strings.EqualFold(header[1], "Default") && strings.EqualFold(header[2], "Meaning")
		if isConfig {
			tables++
		}
		for ; i < len(lines) && isTableRow(lines[i]); i++ {
			if !isConfig {
				continue
			}
			n, cells := i+1, tableCells(lines[i])
			name, ok := codeSpan(cells[0])
			if !ok {
				problems = append(problems, fmt.Sprintf("line %d: the first cell must be the variable in a code span, such as `%sLISTEN_ADDR`, not %s", n, envPrefix, cells[0]))
				continue
			}
			if len(cells) != 3 {
				problems = append(problems, fmt.Sprintf("line %d: the row for %s has %d cells, want 3: | `%s` | `default` | meaning |", n, name, len(cells), name))
				continue
			}
			if r, dup := rows[name]; dup {
				problems = append(problems, fmt.Sprintf("line %d: %s has a second row (first on line %d); remove one", n, name, r.line))
				continue
			}
			rows[name] = readmeRow{line: n, def: cells[1], describe: cells[2]}
		}
	}
	if tables == 0 {
		problems = append(problems, "there is no configuration table: a Markdown table with the header | Variable | Default | Meaning |")
	}
	return rows, problems
}

// isTableRow reports whether a line is a Markdown table row.
func isTableRow(line string) bool { return strings.HasPrefix(strings.TrimSpace(line), "|") }

// isDelimiterRow reports whether a line is a table's |---|---| row.
func isDelimiterRow(line string) bool {
	if !isTableRow(line) {
		return false
	}
	for _, c := range tableCells(line) {
		if strings.Trim(c, ":-") != "" || !strings.Contains(c, "-") {
			return false
		}
	}
	return true
}

// tableCells splits a Markdown table row into its trimmed cells; an
// escaped pipe (\|) stays in its cell, unescaped.
func tableCells(row string) []string {
	row = strings.TrimSpace(row)
	row = strings.TrimPrefix(row, "|")
	if strings.HasSuffix(row, "|") && !strings.HasSuffix(row, `\|`) {
		row = row[:len(row)-1]
	}
	var cells []string
	var cell strings.Builder
	for i := 0; i < len(row); i++ {
		switch {
		case row[i] == '\\' && i+1 < len(row) && row[i+1] == '|':
			cell.WriteByte('|')
			i++
		case row[i] == '|':
			cells = append(cells, strings.TrimSpace(cell.String()))
			cell.Reset()
		default:
			cell.WriteByte(row[i])
		}
	}
	return append(cells, strings.TrimSpace(cell.String()))
}

// codeSpan returns the text of a cell that is a single code span.
func codeSpan(cell string) (string, bool) {
	if len(cell) >= 2 && cell[0] == '`' && cell[len(cell)-1] == '`' {
		inner := cell[1 : len(cell)-1]
		if !strings.Contains(inner, "`") {
			return inner, true
		}
	}
	return "", false
}

// prose normalises a meaning for comparison: code-span backticks, HTML
// entities (&lt;token&gt;) and spacing do not matter.
func prose(s string) string {
	return strings.Join(strings.Fields(html.UnescapeString(strings.ReplaceAll(s, "`", ""))), " ")
}

// markdownEscaper makes a desc safe in a table cell: a pipe would end the
// cell and <token> would be taken for an HTML tag.
var markdownEscaper = strings.NewReplacer("|", `\|`, "<", "&lt;", ">", "&gt;")

// readmeRowFor is the table row the README should have for v.
func readmeRowFor(v variable) string {
	def := "" // an empty cell, for variables without a default
	if v.def != "" {
		def = "`" + v.def + "`"
	}
	return fmt.Sprintf("| `%s` | %s | %s |", v.name, def, markdownEscaper.Replace(v.desc))
}

// TestREADMEInSync keeps the README's configuration table listing every
// variable of config with its default and meaning, and nothing else.
func TestREADMEInSync(t *testing.T) {
	vars := configVariables(t)
	path := filepath.Join(repoRoot, "README.md")
	var want []string
	for _, v := range vars {
		want = append(want, readmeRowFor(v))
	}
	wantTable := "| Variable | Default | Meaning |\n\t|---|---|---|\n\t" + strings.Join(want, "\n\t")

	text, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v\n\tThe README must document the configuration in a table:\n\t%s", err, wantTable)
	}
	rows, problems := readREADMERows(string(text))
	known := make(map[string]bool, len(vars))
	var add []string
	for _, v := range vars {
		known[v.name] = true
		r, ok := rows[v.name]
		if !ok {
			add = append(add, readmeRowFor(v))
			continue
		}
		def, isSpan := codeSpan(r.def)
		switch {
		case !v.hasDefault || v.def == "":
			if r.def != "" && r.def != "``" {
				problems = append(problems, fmt.Sprintf("line %d: %s has no default; leave its Default cell empty or ``, not %s", r.line, v.name, r.def))
			}
		case !isSpan || def != v.def:
			problems = append(problems, fmt.Sprintf("line %d: %s's Default cell must be `%s`, not %s", r.line, v.name, v.def, r.def))
		}
		if prose(r.describe) != prose(v.desc) {
			problems = append(problems, fmt.Sprintf("line %d: %s's Meaning cell must be its desc tag:\n\t\t%s\n\tnot\n\t\t%s", r.line, v.name, v.desc, r.describe))
		}
	}
	for name, r := range rows {
		if !known[name] {
			problems = append(problems, fmt.Sprintf("line %d: remove the row for %s: config has no such variable", r.line, name))
		}
	}
	if len(add) > 0 {
		problems = append(problems, "add these rows to the configuration table:\n\t\t"+strings.Join(add, "\n\t\t"))
	}
	if len(problems) > 0 {
		t.Errorf("%s's configuration table is out of step with the config struct (cmd/cdnproxy/config.go):\n\t%s\n\n\tThe whole table, for reference:\n\t%s", path, strings.Join(problems, "\n\t"), wantTable)
	}
}

// checkFields compares the named fields of cfg with want. Fields that
// are not named are not compared, so that the struct can grow without
// touching these tests (TestExampleEnvLoads covers every default).
func checkFields(t *testing.T, cfg config, want map[string]any) {
	t.Helper()
	v := reflect.ValueOf(cfg)
	for _, name := range slices.Sorted(maps.Keys(want)) {
		f := v.FieldByName(name)
		if !f.IsValid() {
			t.Errorf("config has no field %s", name)
			continue
		}
		if got := f.Interface(); !reflect.DeepEqual(got, want[name]) {
			t.Errorf("%s = %#v, want %#v", name, got, want[name])
		}
	}
}

func TestLoadConfigDefaults(t *testing.T) {
	want := map[string]any{
		"ListenAddr":      ":8080",
		"AdminAddr":       ":9090",
		"UpstreamURL":     "https://cdn.api.qcloud.com",
		"UpstreamTimeout": 30 * time.Second,
		"MaxBodyBytes":    int64(1 << 20),
		"MaxIdleConns":    64,
		"Always200":       false,
		"LogLevel":        "info",
		"LogFormat":       "json",
		"ShutdownTimeout": 30 * time.Second,
		"Signing":         "passthrough",
		"SecretID":        "",
		"SecretKey":       "",
		"TLSCertFile":     "",
		// The limits on load.
		"MemoryBudget":       int64(256 << 20),
		"ClientWriteTimeout": 60 * time.Second,
		"MaxInFlight":        256,
		"MaxUpstreamConns":   256,
		"MaxConns":           1024,
	}
	for _, tc := range []struct {
		name    string
		environ []string
	}{
		{"nil environment", nil},
		{"empty environment", []string{}},
		{"other variables only", []string{"HOME=/root", "PATH=/bin", "LISTEN_ADDR=:1", "cdnproxy_LOG_LEVEL=debug"}},
		// docker compose passes NAME= lines of an env_file as empty
		// values; they mean the default.
		{"empty values", []string{"CDNPROXY_LISTEN_ADDR=", "CDNPROXY_UPSTREAM_TIMEOUT=", "CDNPROXY_LOG_LEVEL=", "CDNPROXY_SECRET_ID_FILE="}},
		{"entries without =", []string{"CDNPROXY_LISTEN_ADDR", "garbage"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := loadConfig(tc.environ)
			if err != nil {
				t.Fatalf("loadConfig: %v", err)
			}
			checkFields(t, got, want)
		})
	}
}

func TestLoadConfigValues(t *testing.T) {
	got, err := loadConfig([]string{
		"CDNPROXY_LISTEN_ADDR=127.0.0.1:18080",
		"CDNPROXY_ADMIN_ADDR=[::1]:19090",
		"CDNPROXY_UPSTREAM_URL=http://api.internal:8000/base",
		"CDNPROXY_UPSTREAM_TIMEOUT=1m30s",
		"CDNPROXY_MAX_BODY_BYTES=1024",
		"CDNPROXY_MAX_IDLE_CONNS=1",
		"CDNPROXY_ALWAYS_200=true",
		"CDNPROXY_LOG_LEVEL=debug",
		"CDNPROXY_LOG_FORMAT=text",
		"CDNPROXY_SHUTDOWN_TIMEOUT=5s",
		"CDNPROXY_MEMORY_BUDGET=2048",
		"CDNPROXY_CLIENT_WRITE_TIMEOUT=15s",
		"CDNPROXY_MAX_IN_FLIGHT=7",
		"CDNPROXY_MAX_UPSTREAM_CONNS=8",
		"CDNPROXY_MAX_CONNS=9",
		"CDNPROXY_PUBLIC_HOSTS= proxy.example:8443 ,cdn-proxy.internal,",
	})
	if err != nil {
		t.Fatalf("loadConfig: %v", err)
	}
	if hosts := got.publicHosts(); !slices.Equal(hosts, []string{"proxy.example:8443", "cdn-proxy.internal"}) {
		t.Errorf("publicHosts() = %q, want [proxy.example:8443 cdn-proxy.internal]", hosts)
	}
	checkFields(t, got, map[string]any{
		"ListenAddr":         "127.0.0.1:18080",
		"AdminAddr":          "[::1]:19090",
		"UpstreamURL":        "http://api.internal:8000/base",
		"UpstreamTimeout":    90 * time.Second,
		"MaxBodyBytes":       int64(1024),
		"MaxIdleConns":       1,
		"Always200":          true,
		"LogLevel":           "debug",
		"LogFormat":          "text",
		"ShutdownTimeout":    5 * time.Second,
		"MemoryBudget":       int64(2048),
		"ClientWriteTimeout": 15 * time.Second,
		"MaxInFlight":        7,
		"MaxUpstreamConns":   8,
		"MaxConns":           9,
	})
}

func TestLoadConfigRejects(t *testing.T) {
	dir := t.TempDir()
	secretFile := filepath.Join(dir, "secret_id")
	if err := os.WriteFile(secretFile, []byte("AKIDfromfile\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	missingFile := filepath.Join(dir, "missing")
	for _, tc := range []struct {
		name    string
		environ []string
		want    []string // variables the error must name
	}{
		{"listen addr without port", []string{"CDNPROXY_LISTEN_ADDR=8080"}, []string{"CDNPROXY_LISTEN_ADDR"}},
		{"listen addr with a path", []string{"CDNPROXY_LISTEN_ADDR=http://localhost:8080/"}, []string{"CDNPROXY_LISTEN_ADDR"}},
		{"admin addr without port", []string{"CDNPROXY_ADMIN_ADDR=localhost"}, []string{"CDNPROXY_ADMIN_ADDR"}},
		{"admin addr equal to listen addr", []string{"CDNPROXY_LISTEN_ADDR=:8000", "CDNPROXY_ADMIN_ADDR=:8000"}, []string{"CDNPROXY_ADMIN_ADDR"}},
		{"admin addr equal to default listen addr", []string{"CDNPROXY_ADMIN_ADDR=:8080"}, []string{"CDNPROXY_ADMIN_ADDR"}},
		{"upstream url without scheme", []string{"CDNPROXY_UPSTREAM_URL=cdn.api.qcloud.com"}, []string{"CDNPROXY_UPSTREAM_URL"}},
		{"upstream url ftp", []string{"CDNPROXY_UPSTREAM_URL=ftp://cdn.api.qcloud.com"}, []string{"CDNPROXY_UPSTREAM_URL"}},
		{"upstream url with query", []string{"CDNPROXY_UPSTREAM_URL=https://cdn.api.qcloud.com/?Region=gz"}, []string{"CDNPROXY_UPSTREAM_URL"}},
		{"upstream url without host", []string{"CDNPROXY_UPSTREAM_URL=https:///v2"}, []string{"CDNPROXY_UPSTREAM_URL"}},
		{"upstream url with credentials", []string{"CDNPROXY_UPSTREAM_URL=https://user:s3cret@cdn.api.qcloud.com"}, []string{"CDNPROXY_UPSTREAM_URL"}},
		{"v3 upstream url ftp", []string{"CDNPROXY_UPSTREAM_V3_URL=ftp://cdn.tencentcloudapi.com"}, []string{"CDNPROXY_UPSTREAM_V3_URL"}},
		{"upstream timeout not a duration", []string{"CDNPROXY_UPSTREAM_TIMEOUT=abc"}, []string{"CDNPROXY_UPSTREAM_TIMEOUT"}},
		{"upstream timeout negative", []string{"CDNPROXY_UPSTREAM_TIMEOUT=-1s"}, []string{"CDNPROXY_UPSTREAM_TIMEOUT"}},
		{"upstream timeout zero", []string{"CDNPROXY_UPSTREAM_TIMEOUT=0"}, []string{"CDNPROXY_UPSTREAM_TIMEOUT"}},
		{"max body bytes not a number", []string{"CDNPROXY_MAX_BODY_BYTES=x"}, []string{"CDNPROXY_MAX_BODY_BYTES"}},
		{"max body bytes too small", []string{"CDNPROXY_MAX_BODY_BYTES=10"}, []string{"CDNPROXY_MAX_BODY_BYTES"}},
		{"max idle conns zero", []string{"CDNPROXY_MAX_IDLE_CONNS=0"}, []string{"CDNPROXY_MAX_IDLE_CONNS"}},
		{"memory budget below max body bytes", []string{"CDNPROXY_MAX_BODY_BYTES=2097152", "CDNPROXY_MEMORY_BUDGET=1048576"}, []string{"CDNPROXY_MEMORY_BUDGET"}},
		{"client write timeout zero", []string{"CDNPROXY_CLIENT_WRITE_TIMEOUT=0"}, []string{"CDNPROXY_CLIENT_WRITE_TIMEOUT"}},
		{"max in flight zero", []string{"CDNPROXY_MAX_IN_FLIGHT=0"}, []string{"CDNPROXY_MAX_IN_FLIGHT"}},
		{"max upstream conns zero", []string{"CDNPROXY_MAX_UPSTREAM_CONNS=0"}, []string{"CDNPROXY_MAX_UPSTREAM_CONNS"}},
		{"max conns zero", []string{"CDNPROXY_MAX_CONNS=0"}, []string{"CDNPROXY_MAX_CONNS"}},
		{"public host with a path", []string{"CDNPROXY_PUBLIC_HOSTS=proxy.example,https://proxy.example/"}, []string{"CDNPROXY_PUBLIC_HOSTS"}},
		{"always 200 not a bool", []string{"CDNPROXY_ALWAYS_200=sometimes"}, []string{"CDNPROXY_ALWAYS_200"}},
		{"log level unknown", []string{"CDNPROXY_LOG_LEVEL=loud"}, []string{"CDNPROXY_LOG_LEVEL"}},
		{"log format unknown", []string{"CDNPROXY_LOG_FORMAT=xml"}, []string{"CDNPROXY_LOG_FORMAT"}},
		{"shutdown timeout zero", []string{"CDNPROXY_SHUTDOWN_TIMEOUT=0"}, []string{"CDNPROXY_SHUTDOWN_TIMEOUT"}},
		{"signing mode unknown", []string{"CDNPROXY_SIGNING=maybe"}, []string{"CDNPROXY_SIGNING"}},
		{"resign without credential", []string{"CDNPROXY_SIGNING=resign"}, []string{"CDNPROXY_SIGNING"}},
		{"bridge neither on nor off", []string{"CDNPROXY_V2_BRIDGE=yes"}, []string{"CDNPROXY_V2_BRIDGE"}},
		{"bridge without a key to sign with", []string{"CDNPROXY_V2_BRIDGE=on"}, []string{"CDNPROXY_V2_BRIDGE", "CDNPROXY_SIGNING"}},
		{"secret id and its file", []string{"CDNPROXY_SECRET_ID=AKIDx", "CDNPROXY_SECRET_ID_FILE=" + secretFile}, []string{"CDNPROXY_SECRET_ID"}},
		{"secret key file missing", []string{"CDNPROXY_SECRET_KEY_FILE=" + missingFile}, []string{"CDNPROXY_SECRET_KEY_FILE"}},
		{"client keys malformed", []string{"CDNPROXY_CLIENT_KEYS=id-without-key"}, []string{"CDNPROXY_CLIENT_KEYS"}},
		{"sign mode open without token", []string{"CDNPROXY_SIGNING=sign", "CDNPROXY_SECRET_ID=AKIDx", "CDNPROXY_SECRET_KEY=k"}, []string{"CDNPROXY_CLIENT_TOKEN"}},
		{"tls cert without key", []string{"CDNPROXY_TLS_CERT_FILE=/etc/cdnproxy/cert.pem"}, []string{"CDNPROXY_TLS_CERT_FILE", "CDNPROXY_TLS_KEY_FILE"}},
		{
			"several checks at once",
			[]string{"CDNPROXY_LOG_LEVEL=loud", "CDNPROXY_LOG_FORMAT=xml", "CDNPROXY_UPSTREAM_URL=ftp://x", "CDNPROXY_SHUTDOWN_TIMEOUT=0"},
			[]string{"CDNPROXY_LOG_LEVEL", "CDNPROXY_LOG_FORMAT", "CDNPROXY_UPSTREAM_URL", "CDNPROXY_SHUTDOWN_TIMEOUT"},
		},
		{
			"several parse errors at once",
			[]string{"CDNPROXY_UPSTREAM_TIMEOUT=abc", "CDNPROXY_MAX_BODY_BYTES=x"},
			[]string{"CDNPROXY_UPSTREAM_TIMEOUT", "CDNPROXY_MAX_BODY_BYTES"},
		},
		{
			// A value that does not parse must not hide the problems of
			// the others.
			"parse and check errors at once",
			[]string{"CDNPROXY_UPSTREAM_TIMEOUT=abc", "CDNPROXY_LOG_LEVEL=loud", "CDNPROXY_LISTEN_ADDR=8080"},
			[]string{"CDNPROXY_UPSTREAM_TIMEOUT", "CDNPROXY_LOG_LEVEL", "CDNPROXY_LISTEN_ADDR"},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := loadConfig(tc.environ)
			if err == nil {
				t.Fatalf("loadConfig(%q) = nil error, want one naming %s", tc.environ, strings.Join(tc.want, ", "))
			}
			for _, name := range tc.want {
				if !strings.Contains(err.Error(), name) {
					t.Errorf("loadConfig(%q) error does not name %s:\n\t%v", tc.environ, name, err)
				}
			}
			if strings.Contains(err.Error(), "s3cret") {
				t.Errorf("the error shows a password from a URL: %v", err)
			}
		})
	}
}

// TestExampleEnvLoads checks that config.example.env, used as it is (as
// docker compose's env_file does, empty values included), is a valid
// configuration equal to the defaults.
func TestExampleEnvLoads(t *testing.T) {
	entries, problems := readExampleEnv(t, filepath.Join(repoRoot, "config.example.env"))
	if len(problems) > 0 {
		t.Fatalf("config.example.env:\n\t%s", strings.Join(problems, "\n\t"))
	}
	environ := make([]string, 0, len(entries))
	for name, e := range entries {
		environ = append(environ, name+"="+e.value)
	}
	got, err := loadConfig(environ)
	if err != nil {
		t.Fatalf("loadConfig(config.example.env): %v", err)
	}
	want, err := loadConfig(nil)
	if err != nil {
		t.Fatalf("loadConfig(nil): %v", err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("config.example.env gives\n\t%+v\nnot the defaults\n\t%+v", got, want)
	}
}

// TestLoadConfigFileVariables checks that a _FILE variable is read from
// its file, without the file's trailing newline.
func TestLoadConfigFileVariables(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string) string {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		return path
	}
	cfg, err := loadConfig([]string{
		"CDNPROXY_SIGNING=resign",
		"CDNPROXY_SECRET_ID_FILE=" + write("id", "AKIDfromfile\n"),
		"CDNPROXY_SECRET_KEY_FILE=" + write("key", "keyfromfile\n"),
		"CDNPROXY_CLIENT_KEYS_FILE=" + write("clients", "alice:k1\nbob:k2\n"),
	})
	if err != nil {
		t.Fatalf("loadConfig: %v", err)
	}
	s := cfg.signing()
	if got, want := s.SecretID, "AKIDfromfile"; got != want {
		t.Errorf("SecretID = %q, want %q", got, want)
	}
	if got, want := s.SecretKey, "keyfromfile"; got != want {
		t.Errorf("SecretKey = %q, want %q", got, want)
	}
	if got, want := s.ClientKeys, map[string]string{"alice": "k1", "bob": "k2"}; !reflect.DeepEqual(got, want) {
		t.Errorf("ClientKeys = %v, want %v", got, want)
	}
}

// TestReadREADMERows checks the README table reader on its own, so that
// TestREADMEInSync fails only for a README that is really out of step.
func TestReadREADMERows(t *testing.T) {
	for _, tc := range []struct {
		name     string
		text     string
		rows     map[string]readmeRow
		problems int
	}{
		{
			name: "configuration table",
			text: "# x\n\n| Variable | Default | Meaning |\n|---|:--|---|\n| `CDNPROXY_A` | `1` | one \\| two |\n| `CDNPROXY_B` | | none |\n\nafter\n",
			rows: map[string]readmeRow{
				"CDNPROXY_A": {line: 5, def: "`1`", describe: "one | two"},
				"CDNPROXY_B": {line: 6, def: "", describe: "none"},
			},
		},
		{
			name:     "other tables are not read",
			text:     "| `CDNPROXY_SIGNING` | what happens | trade-off |\n|---|---|---|\n| `passthrough` | x | y |\n",
			rows:     map[string]readmeRow{},
			problems: 1, // no configuration table
		},
		{
			name: "duplicate row",
			text: "| Variable | Default | Meaning |\n|---|---|---|\n| `CDNPROXY_A` | `1` | one |\n| `CDNPROXY_A` | `1` | one |\n",
			rows: map[string]readmeRow{
				"CDNPROXY_A": {line: 3, def: "`1`", describe: "one"},
			},
			problems: 1,
		},
		{
			name:     "row without code span or with missing cells",
			text:     "| Variable | Default | Meaning |\n|---|---|---|\n| CDNPROXY_A | `1` | one |\n| `CDNPROXY_B` | one |\n",
			rows:     map[string]readmeRow{},
			problems: 2,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rows, problems := readREADMERows(tc.text)
			if !reflect.DeepEqual(rows, tc.rows) {
				t.Errorf("rows = %+v, want %+v", rows, tc.rows)
			}
			if len(problems) != tc.problems {
				t.Errorf("problems = %q, want %d", problems, tc.problems)
			}
		})
	}
}
