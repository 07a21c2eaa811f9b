package codes_test

import (
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/cdnproxy/cdnproxy/codes"
)

// seedPath is a verbatim copy of Tencent's Chinese error code document,
// the source the catalogue was transcribed from.
const seedPath = "testdata/cdn-api-v2-error-codes.md"

// seedCode is one row of the document: a code and its Chinese text.
type seedCode struct {
	code int
	text string
}

var (
	tableRE = regexp.MustCompile(`(?s)<table.*?</table>`)
	cellRE  = regexp.MustCompile(`(?s)<td>(.*?)</td>`)
)

// parseSeed reads the document's two HTML tables: the public codes (code,
// error type, description; text = type + "：" + description) and the
// module codes (code, description).
func parseSeed(t *testing.T) (public, module []seedCode) {
	t.Helper()
	b, err := os.ReadFile(seedPath)
	if err != nil {
		t.Fatal(err)
	}
	tables := tableRE.FindAllString(string(b), -1)
	if len(tables) != 2 {
		t.Fatalf("%s: found %d tables, want 2", seedPath, len(tables))
	}
	rows := func(table string, width int, text func([]string) string) []seedCode {
		var cells []string
		for _, m := range cellRE.FindAllStringSubmatch(table, -1) {
			cells = append(cells, strings.TrimSpace(m[1]))
		}
		if len(cells)%width != 0 {
			t.Fatalf("%d cells do not split into rows of %d", len(cells), width)
		}
		var out []seedCode
		for i := 0; i < len(cells); i += width {
			code, err := strconv.Atoi(cells[i])
			if err != nil {
				t.Fatalf("row %d: %v", i/width, err)
			}
			out = append(out, seedCode{code, text(cells[i+1 : i+width])})
		}
		return out
	}
	public = rows(tables[0], 3, func(c []string) string { return c[0] + "：" + c[1] })
	module = rows(tables[1], 2, func(c []string) string { return c[0] })
	return public, module
}

// TestCatalogueMatchesSeed proves that the catalogue and the document list
// the same codes, and that every entry is complete.
func TestCatalogueMatchesSeed(t *testing.T) {
	seedPublic, seedModule := parseSeed(t)
	if got, want := len(seedPublic), 16; got != want {
		t.Errorf("seed has %d public codes, want %d", got, want)
	}
	if got, want := len(seedModule), 135; got != want {
		t.Errorf("seed has %d module codes, want %d", got, want)
	}

	for _, tc := range []struct {
		name    string
		seed    []seedCode
		entries []codes.Entry
		lookup  func(int) (codes.Entry, bool)
	}{
		{"public", seedPublic, codes.PublicEntries(), codes.Public},
		{"module", seedModule, codes.ModuleEntries(), codes.Module},
	} {
		t.Run(tc.name, func(t *testing.T) {
			seen := make(map[int]bool)
			for _, s := range tc.seed {
				if seen[s.code] {
					t.Errorf("seed lists %d twice", s.code)
				}
				seen[s.code] = true
				e, ok := tc.lookup(s.code)
				if !ok {
					t.Errorf("%d is in the seed but not in the catalogue", s.code)
					continue
				}
				if e.Code != s.code {
					t.Errorf("lookup(%d) returned the entry for %d", s.code, e.Code)
				}
				if e.Original != s.text {
					t.Errorf("%d: Original = %q, seed says %q", s.code, e.Original, s.text)
				}
			}

			if got, want := len(tc.entries), len(tc.seed); got != want {
				t.Errorf("catalogue has %d entries, seed has %d", got, want)
			}
			inCatalogue := make(map[int]bool)
			for i, e := range tc.entries {
				if inCatalogue[e.Code] {
					t.Errorf("catalogue lists %d twice", e.Code)
				}
				inCatalogue[e.Code] = true
				if !seen[e.Code] {
					t.Errorf("catalogue has %d, which the seed lacks", e.Code)
				}
				if i > 0 && tc.entries[i-1].Code >= e.Code {
					t.Errorf("not sorted: %d comes after %d", e.Code, tc.entries[i-1].Code)
				}
				checkEntry(t, e)
				if public := tc.name == "public"; public != (e.CodeDesc != "") {
					t.Errorf("%d: CodeDesc = %q; want one for every public code and none for a module code", e.Code, e.CodeDesc)
				}
			}
		})
	}
}

// checkEntry reports any field of e that is missing or breaks the
// documented promises.
func checkEntry(t *testing.T, e codes.Entry) {
	t.Helper()
	switch e.Category {
	case "", codes.Unknown, codes.UpstreamUnreachable:
		t.Errorf("%d: Category %q is not allowed in the catalogue", e.Code, e.Category)
	default:
		if !slices.Contains(codes.Categories(), e.Category) {
			t.Errorf("%d: Category %q is not a defined category", e.Code, e.Category)
		}
	}
	if e.Original == "" {
		t.Errorf("%d: Original is empty", e.Code)
	}
	d := e.Description
	switch {
	case d == "":
		t.Errorf("%d: Description is empty", e.Code)
	case strings.TrimSpace(d) != d || strings.Contains(d, "  "):
		t.Errorf("%d: Description has stray spaces: %q", e.Code, d)
	case !strings.HasSuffix(d, "."):
		t.Errorf("%d: Description does not end with a full stop: %q", e.Code, d)
	}
	for _, r := range d {
		if r < 0x20 || r > 0x7e || r == '"' || r == '\\' {
			t.Errorf("%d: Description contains %q; want printable ASCII without quotes or backslashes", e.Code, r)
			break
		}
	}
}

// TestRequiredExamples pins the classification of codes whose category and
// retryability were settled by hand.
func TestRequiredExamples(t *testing.T) {
	type want struct {
		category  codes.Category
		retryable bool
	}
	public := map[int]want{
		4000: {codes.InvalidParameter, false},
		4100: {codes.AuthenticationFailed, false},
		4200: {codes.RequestExpired, true},
		4300: {codes.PermissionDenied, false},
		4400: {codes.RateLimited, true},
		4500: {codes.ReplayedRequest, true},
		4600: {codes.Unsupported, false},
		5000: {codes.NotFound, false},
		5100: {codes.OperationFailed, true},
		5300: {codes.Billing, false},
		5400: {codes.PartialSuccess, false},
		5500: {codes.Compliance, false},
		6000: {codes.InternalError, true},
		6100: {codes.Unsupported, false},
		6200: {codes.Unavailable, true},
	}
	module := map[int]want{
		9110:  {codes.NotFound, false},
		9105:  {codes.NotFound, false},
		9307:  {codes.NotFound, false},
		-9009: {codes.NotFound, false},
		9163:  {codes.RateLimited, true},
		22063: {codes.RateLimited, true},
		22044: {codes.QuotaExceeded, false},
		21000: {codes.QuotaExceeded, false},
		22046: {codes.QuotaExceeded, false},
		23101: {codes.QuotaExceeded, false},
		20004: {codes.Compliance, false},
		1001:  {codes.Compliance, false},
		1002:  {codes.Compliance, false},
		20009: {codes.Compliance, false},
		20010: {codes.Compliance, false},
		9112:  {codes.InvalidState, false},
		9135:  {codes.InvalidState, true},
		9175:  {codes.InvalidState, true},
		9176:  {codes.InvalidState, false},
		9177:  {codes.InvalidState, false},
		9313:  {codes.InvalidState, false},
		9314:  {codes.InvalidState, false},
		9315:  {codes.InvalidState, false},
		9103:  {codes.InvalidState, false},
		28006: {codes.InvalidState, false},
		28007: {codes.InvalidState, false},
		28008: {codes.InvalidState, false},
		9137:  {codes.AlreadyExists, false},
		9092:  {codes.AlreadyExists, false},
		9138:  {codes.AlreadyExists, false},
		9302:  {codes.AlreadyExists, false},
		9169:  {codes.PermissionDenied, false},
		23103: {codes.PermissionDenied, false},
		25002: {codes.PermissionDenied, false},
		25010: {codes.PermissionDenied, false},
		9000:  {codes.InternalError, true},
		-9021: {codes.InternalError, true},
		-9011: {codes.InternalError, true},
		22200: {codes.InternalError, true},
		22800: {codes.InternalError, true},
		22037: {codes.OperationFailed, true},
		22038: {codes.OperationFailed, true},
		23201: {codes.OperationFailed, true},
		23234: {codes.OperationFailed, true},
		23235: {codes.OperationFailed, true},
		22402: {codes.OperationFailed, true},
		-9015: {codes.InternalError, true},
		-9014: {codes.InternalError, true},
		9114:  {codes.InternalError, true},
		9118:  {codes.InternalError, true},
		9182:  {codes.InternalError, true},
		9151:  {codes.InternalError, true},
	}
	for _, tc := range []struct {
		name   string
		want   map[int]want
		lookup func(int) (codes.Entry, bool)
	}{
		{"public", public, codes.Public},
		{"module", module, codes.Module},
	} {
		for code, w := range tc.want {
			t.Run(tc.name+"/"+strconv.Itoa(code), func(t *testing.T) {
				e, ok := tc.lookup(code)
				if !ok {
					t.Fatalf("%d not in the catalogue", code)
				}
				if got := (want{e.Category, e.Retryable}); got != w {
					t.Errorf("%d = %+v, want %+v", code, got, w)
				}
			})
		}
	}
}

// TestRetryableFollowsCategory checks that retryability is decided the same
// way across the catalogue: categories that describe a passing condition
// are always retryable, categories that need a change by someone are never
// retryable, and only InvalidState goes either way (per code).
func TestRetryableFollowsCategory(t *testing.T) {
	always := []codes.Category{codes.RequestExpired, codes.ReplayedRequest, codes.RateLimited,
		codes.InternalError, codes.OperationFailed, codes.Unavailable}
	never := []codes.Category{codes.InvalidParameter, codes.AuthenticationFailed, codes.PermissionDenied,
		codes.QuotaExceeded, codes.NotFound, codes.AlreadyExists, codes.Compliance, codes.Billing,
		codes.PartialSuccess, codes.Unsupported}
	for _, e := range append(codes.PublicEntries(), codes.ModuleEntries()...) {
		switch {
		case slices.Contains(always, e.Category) && !e.Retryable:
			t.Errorf("%d (%s) is not retryable; every %s entry should be", e.Code, e.Category, e.Category)
		case slices.Contains(never, e.Category) && e.Retryable:
			t.Errorf("%d (%s) is retryable; no %s entry should be", e.Code, e.Category, e.Category)
		}
	}
}

func TestCategories(t *testing.T) {
	all := []codes.Category{
		codes.InvalidParameter, codes.AuthenticationFailed, codes.RequestExpired, codes.ReplayedRequest,
		codes.PermissionDenied, codes.RateLimited, codes.QuotaExceeded, codes.NotFound, codes.AlreadyExists,
		codes.InvalidState, codes.Compliance, codes.Billing, codes.OperationFailed, codes.PartialSuccess,
		codes.InternalError, codes.Unavailable, codes.Unsupported, codes.Unknown, codes.UpstreamUnreachable,
	}
	snake := regexp.MustCompile(`^[a-z]+(_[a-z]+)*$`)
	listed := codes.Categories()
	if got, want := len(listed), len(all); got != want {
		t.Errorf("Categories() has %d items, want %d", got, want)
	}
	for _, c := range all {
		if !snake.MatchString(string(c)) {
			t.Errorf("category %q is not snake_case", c)
		}
		n := 0
		for _, l := range listed {
			if l == c {
				n++
			}
		}
		if n != 1 {
			t.Errorf("Categories() lists %q %d times, want once", c, n)
		}
		if c.Meaning() == "" {
			t.Errorf("category %q has no Meaning", c)
		}
		for _, retryable := range []bool{false, true} {
			a := c.Advice(retryable)
			if a == "" || !strings.HasSuffix(a, ".") {
				t.Errorf("category %q (retryable %v) has advice %q, want a sentence", c, retryable, a)
			}
		}
		// Only a state can pass by itself; every other category's advice
		// is the same whatever the entry's Retryable.
		if differs := c.Advice(true) != c.Advice(false); differs != (c == codes.InvalidState) {
			t.Errorf("category %q: advice depends on retryable = %v, want %v", c, differs, c == codes.InvalidState)
		}
	}
	if got := codes.Category("no_such").Meaning(); got != "" {
		t.Errorf("Meaning of an unknown category = %q, want \"\"", got)
	}
	if got := codes.Category("no_such").Advice(true); got != "" {
		t.Errorf("Advice of an unknown category = %q, want \"\"", got)
	}
}

// TestCodeDesc pins the codeDesc of every public code in the seed; the
// decision behind each value is noted at the top of v2.go.
func TestCodeDesc(t *testing.T) {
	want := map[int]string{
		0:    "Success",
		4000: "InvalidParameter",
		4100: "AuthFailure",
		4200: "RequestExpired",
		4300: "AccessDenied",
		4400: "RequestLimitExceeded",
		4500: "ReplayAttack",
		4600: "UnsupportedProtocol",
		5000: "ResourceNotFound",
		5100: "FailedOperation",
		5200: "PurchaseFailed",
		5300: "PurchaseFailed",
		5400: "PartialSuccess",
		5500: "UserNotQualified",
		6000: "InternalError",
		6100: "VersionNotSupported",
		6200: "ServiceUnavailable",
	}
	seedPublic, _ := parseSeed(t)
	for _, s := range seedPublic {
		if _, ok := want[s.code]; !ok {
			t.Errorf("public code %d of the seed has no codeDesc in this test", s.code)
		}
	}
	camel := regexp.MustCompile(`^[A-Z][A-Za-z]+$`)
	for code, w := range want {
		got := codes.CodeDesc(code)
		if got != w {
			t.Errorf("CodeDesc(%d) = %q, want %q", code, got, w)
		}
		if !camel.MatchString(got) {
			t.Errorf("CodeDesc(%d) = %q is not one CamelCase word", code, got)
		}
		if e, ok := codes.Public(code); code != 0 && (!ok || e.CodeDesc != got) {
			t.Errorf("Public(%d).CodeDesc = %q, %v; CodeDesc says %q", code, e.CodeDesc, ok, got)
		}
	}
	for _, code := range []int{-1, 1, 3999, 4001, 6300, 9110, 100004} {
		if got := codes.CodeDesc(code); got != "" {
			t.Errorf("CodeDesc(%d) = %q, want \"\" for a code that is not public", code, got)
		}
	}
}

// TestCodeDescAgreesWithV3 checks that where a public code's codeDesc is
// also an API 3.0 code, both catalogues put it in the same category: the
// name was borrowed from 3.0 for the same condition.
func TestCodeDescAgreesWithV3(t *testing.T) {
	borrowed := 0
	for _, e := range codes.PublicEntries() {
		v3, ok := codes.V3(e.CodeDesc)
		if !ok || v3.Code != e.CodeDesc {
			continue
		}
		borrowed++
		if v3.Category != e.Category {
			t.Errorf("%d has codeDesc %s and category %s, but 3.0's %s is %s", e.Code, e.CodeDesc, e.Category, v3.Code, v3.Category)
		}
	}
	if borrowed != 8 {
		t.Errorf("%d public codes have a 3.0 code for codeDesc; the notes in v2.go name 8", borrowed)
	}
}

func TestUnknownCodes(t *testing.T) {
	for _, code := range []int{0, 1, -1, 3999, 4001, 6300, 100004, 1012, 9123, -9000} {
		if e, ok := codes.Public(code); ok || e != (codes.Entry{}) {
			t.Errorf("Public(%d) = %+v, %v; want zero Entry, false", code, e, ok)
		}
	}
	for _, code := range []int{0, 1, -1, -9022, -9010, 9001, 28009, 100004, 1012, 9123, 4000} {
		if e, ok := codes.Module(code); ok || e != (codes.Entry{}) {
			t.Errorf("Module(%d) = %+v, %v; want zero Entry, false", code, e, ok)
		}
	}
}

// TestEntriesReturnCopies checks that callers cannot change the catalogue
// through the slices PublicEntries and ModuleEntries return.
func TestEntriesReturnCopies(t *testing.T) {
	p := codes.PublicEntries()
	p[0].Description = "changed"
	m := codes.ModuleEntries()
	m[0].Category = codes.Unknown
	if e, _ := codes.Public(p[0].Code); e.Description == "changed" {
		t.Error("changing PublicEntries() changed the catalogue")
	}
	if e, _ := codes.Module(m[0].Code); e.Category == codes.Unknown {
		t.Error("changing ModuleEntries() changed the catalogue")
	}
}

func TestLookupDoesNotAllocate(t *testing.T) {
	if n := testing.AllocsPerRun(100, func() {
		codes.Module(9112)
		codes.Module(-9009)
		codes.Public(4000)
		codes.Module(12345)
	}); n != 0 {
		t.Errorf("lookups allocate %v times per run, want 0", n)
	}
}

func BenchmarkModule(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, ok := codes.Module(22044); !ok {
			b.Fatal("22044 not found")
		}
	}
}
