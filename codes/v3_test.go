package codes_test

import (
	"bufio"
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/cdnproxy/cdnproxy/codes"
)

// v3TSVPath is a verbatim copy of the reference list of every CDN API 3.0
// code: columns code, family, short_meaning_en.
const v3TSVPath = "testdata/cdn-api-v3-codes.tsv"

// v3AddedFamilies are the family entries the catalogue has although the TSV
// lists no bare code for them.
var v3AddedFamilies = []string{"OperationDenied"}

// tsvCode is one row of the TSV.
type tsvCode struct{ code, family, meaning string }

func parseV3TSV(t *testing.T) []tsvCode {
	t.Helper()
	f, err := os.Open(v3TSVPath)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var rows []tsvCode
	sc := bufio.NewScanner(f)
	for line := 1; sc.Scan(); line++ {
		cols := strings.Split(sc.Text(), "\t")
		if len(cols) != 3 {
			t.Fatalf("%s:%d: %d columns, want 3", v3TSVPath, line, len(cols))
		}
		if line == 1 {
			if want := []string{"code", "family", "short_meaning_en"}; !slices.Equal(cols, want) {
				t.Fatalf("%s: header %q, want %q", v3TSVPath, cols, want)
			}
			continue
		}
		fam, _, _ := strings.Cut(cols[0], ".")
		if cols[1] != fam {
			t.Errorf("%s:%d: family column %q, but %q belongs to %q", v3TSVPath, line, cols[1], cols[0], fam)
		}
		rows = append(rows, tsvCode{cols[0], cols[1], cols[2]})
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return rows
}

// TestV3CatalogueMatchesTSV proves that the catalogue lists exactly the
// TSV's codes plus the added family entries, and that every entry is
// complete.
func TestV3CatalogueMatchesTSV(t *testing.T) {
	rows := parseV3TSV(t)
	if got, want := len(rows), 205; got != want {
		t.Errorf("TSV has %d codes, want %d", got, want)
	}

	allowed := make(map[string]bool)
	families := make(map[string]bool)
	for _, r := range rows {
		if allowed[r.code] {
			t.Errorf("TSV lists %s twice", r.code)
		}
		allowed[r.code] = true
		families[r.family] = true
		e, ok := codes.V3(r.code)
		switch {
		case !ok:
			t.Errorf("%s is in the TSV but not in the catalogue", r.code)
		case e.Code != r.code:
			t.Errorf("V3(%q) fell back to %q; want an exact entry", r.code, e.Code)
		}
	}
	for _, fam := range v3AddedFamilies {
		if allowed[fam] {
			t.Errorf("added family %s is in the TSV already; drop it from v3AddedFamilies", fam)
		}
		if !families[fam] {
			t.Errorf("added family %s is not a family of the TSV", fam)
		}
		allowed[fam] = true
	}
	for fam := range families {
		if e, ok := codes.V3(fam); !ok || e.Code != fam {
			t.Errorf("family %s has no entry of its own", fam)
		}
	}

	entries := codes.V3Entries()
	if got, want := len(entries), len(allowed); got != want {
		t.Errorf("catalogue has %d entries, want %d (TSV plus added families)", got, want)
	}
	seen := make(map[string]bool)
	for i, e := range entries {
		if seen[e.Code] {
			t.Errorf("catalogue lists %s twice", e.Code)
		}
		seen[e.Code] = true
		if !allowed[e.Code] {
			t.Errorf("catalogue has %s, which is neither in the TSV nor an added family", e.Code)
		}
		if i > 0 && entries[i-1].Code >= e.Code {
			t.Errorf("not sorted: %s comes after %s", e.Code, entries[i-1].Code)
		}
		checkV3Entry(t, e)
	}
}

// checkV3Entry reports any field of e that is missing or breaks the
// documented promises.
func checkV3Entry(t *testing.T, e codes.V3Entry) {
	t.Helper()
	if e.Code == "" || strings.HasPrefix(e.Code, ".") || strings.HasSuffix(e.Code, ".") || strings.Count(e.Code, ".") > 1 {
		t.Errorf("malformed Code %q", e.Code)
	}
	switch e.Category {
	case "", codes.Unknown, codes.UpstreamUnreachable:
		t.Errorf("%s: Category %q is not allowed in the catalogue", e.Code, e.Category)
	default:
		if !slices.Contains(codes.Categories(), e.Category) {
			t.Errorf("%s: Category %q is not a defined category", e.Code, e.Category)
		}
	}
	d := e.Description
	switch {
	case d == "":
		t.Errorf("%s: Description is empty", e.Code)
	case strings.TrimSpace(d) != d || strings.Contains(d, "  "):
		t.Errorf("%s: Description has stray spaces: %q", e.Code, d)
	case !strings.HasSuffix(d, "."):
		t.Errorf("%s: Description does not end with a full stop: %q", e.Code, d)
	}
	for _, r := range d {
		if r < 0x20 || r > 0x7e || r == '"' || r == '\\' {
			t.Errorf("%s: Description contains %q; want printable ASCII without quotes or backslashes", e.Code, r)
			break
		}
	}
}

// v3Rule is one classification rule: every catalogue entry whose code
// matches, except the listed codes, has one of the categories and the
// given retryability.
type v3Rule struct {
	name      string
	match     func(code string) bool
	except    []string
	cats      []codes.Category
	retryable bool
}

func exact(list ...string) func(string) bool {
	return func(c string) bool { return slices.Contains(list, c) }
}

func prefix(p string) func(string) bool {
	return func(c string) bool { return strings.HasPrefix(c, p) }
}

func suffix(s string) func(string) bool {
	return func(c string) bool { return strings.HasSuffix(c, s) }
}

func contains(s string) func(string) bool {
	return func(c string) bool { return strings.Contains(c, s) }
}

func cats(c ...codes.Category) []codes.Category { return c }

// TestV3Rules checks the classification rules of issue 8 and v3.go's
// header comment across every entry each rule matches.
func TestV3Rules(t *testing.T) {
	rules := []v3Rule{
		{"daily quotas", contains("DayLimit"), nil, cats(codes.QuotaExceeded), false},
		{"RequestLimitExceeded*", prefix("RequestLimitExceeded"), nil, cats(codes.RateLimited), true},
		{"*OperationTooOften", suffix("OperationTooOften"), nil, cats(codes.RateLimited), true},
		{"*OpTooOften", suffix("OpTooOften"), nil, cats(codes.RateLimited), true},
		{"*TooOften", suffix("TooOften"), nil, cats(codes.RateLimited), true},
		{"SSL certificate request rate", exact("LimitExceeded.SslCertRequestLimitExceeded"), nil, cats(codes.RateLimited), true},
		{"operation in progress", exact("ResourceInUse.CdnOpInProgress"), nil, cats(codes.InvalidState), true},
		{"signature expired", exact("AuthFailure.SignatureExpire"), nil, cats(codes.RequestExpired), true},
		{"signature mismatch", exact("AuthFailure.SignatureFailure"), nil, cats(codes.AuthenticationFailed), false},
		{"other AuthFailure", prefix("AuthFailure"),
			[]string{"AuthFailure.SignatureExpire", "AuthFailure.UnauthorizedOperation"},
			cats(codes.AuthenticationFailed), false},
		{"CAM refusal", exact("AuthFailure.UnauthorizedOperation"), nil, cats(codes.PermissionDenied), false},
		{"service unavailable", exact("ServiceUnavailable"), nil, cats(codes.Unavailable), true},
		{"InternalError*", prefix("InternalError"), nil, cats(codes.InternalError), true},
		{"documented as internal errors", exact("InvalidParameter.CdnInterfaceError", "InvalidParameter.EcdnInterfaceError",
			"UnauthorizedOperation.CdnUserInvalidCredential", "UnauthorizedOperation.CsrfError"), nil, cats(codes.InternalError), true},
		{"*BatchLimit", suffix("BatchLimit"), nil, cats(codes.InvalidParameter), false},
		{"*BatchTooMany", suffix("BatchTooMany"), nil, cats(codes.InvalidParameter), false},
		{"ResourceNotFound*", prefix("ResourceNotFound"), []string{"ResourceNotFound.CdnUserTooManyHosts"}, cats(codes.NotFound), false},
		{"domain quota", suffix("CdnUserTooManyHosts"), nil, cats(codes.QuotaExceeded), false},
		{"domain exists", exact("ResourceInUse.CdnHostExists"), nil, cats(codes.AlreadyExists), false},
		{"UnauthorizedOperation*", prefix("UnauthorizedOperation"),
			[]string{
				"UnauthorizedOperation.OperationTooOften",        // rate limit, above
				"UnauthorizedOperation.CdnUserIsIsolated",        // arrears: billing
				"UnauthorizedOperation.CdnHostExistsInInternal",  // already exists
				"UnauthorizedOperation.CdnHostIsUsedByOther",     // already exists
				"UnauthorizedOperation.CdnUserInvalidCredential", // internal error
				"UnauthorizedOperation.CsrfError",                // internal error
			},
			cats(codes.PermissionDenied, codes.InvalidState, codes.Compliance), false},
		{"OperationDenied*", prefix("OperationDenied"),
			[]string{"OperationDenied.ShareCacheAreaDnsNotMatch"}, // pick another target domain
			cats(codes.PermissionDenied, codes.InvalidState, codes.Compliance), false},
		{"arrears", exact("UnauthorizedOperation.CdnUserIsIsolated"), nil, cats(codes.Billing), false},
		{"domain taken by another account", exact("UnauthorizedOperation.CdnHostExistsInInternal",
			"UnauthorizedOperation.CdnHostIsUsedByOther", "ResourceUnavailable.CdnHostBelongsToOthersInMainland",
			"ResourceUnavailable.CdnHostBelongsToOthersInOverseas"), nil, cats(codes.AlreadyExists), false},
		{"no ICP filing", exact("ResourceUnavailable.CdnHostNoIcp"), nil, cats(codes.Compliance), false},
		{"domain offline", exact("ResourceUnavailable.CdnHostIsNotOnline"), nil, cats(codes.InvalidState), false},
		{"unsupported", exact("InvalidAction", "NoSuchVersion", "NoSuchProduct", "UnsupportedProtocol",
			"UnsupportedRegion", "UnsupportedOperation", "ActionOffline"), nil, cats(codes.Unsupported), false},
		{"UnsupportedOperation*", prefix("UnsupportedOperation"), nil, cats(codes.Unsupported), false},
		{"dry run", exact("DryRunOperation"), nil, cats(codes.InvalidParameter), false},
		{"fix the request", exact("InvalidParameter", "InvalidParameterValue", "MissingParameter", "UnknownParameter",
			"InvalidRequest", "RequestSizeLimitExceeded", "ResponseSizeLimitExceeded"), nil, cats(codes.InvalidParameter), false},
		{"caller IP lists", exact("IpInBlacklist", "IpNotInWhitelist"), nil, cats(codes.PermissionDenied), false},
		{"transient failures", exact("FailedOperation.CdnConfigError", "FailedOperation.SslCertCannotGetOrder",
			"ResourceInsufficient", "ResourceInUse"), nil, cats(codes.OperationFailed, codes.InvalidState, codes.Unavailable), true},
	}
	entries := codes.V3Entries()
	for _, r := range rules {
		t.Run(r.name, func(t *testing.T) {
			matched := 0
			for _, code := range r.except {
				if !r.match(code) {
					t.Errorf("exception %s does not match the rule", code)
				}
				if _, ok := codes.V3(code); !ok {
					t.Errorf("exception %s is not in the catalogue", code)
				}
			}
			for _, e := range entries {
				if !r.match(e.Code) || slices.Contains(r.except, e.Code) {
					continue
				}
				matched++
				if !slices.Contains(r.cats, e.Category) || e.Retryable != r.retryable {
					t.Errorf("%s = %s, retryable %v; want one of %v, retryable %v",
						e.Code, e.Category, e.Retryable, r.cats, r.retryable)
				}
			}
			if matched == 0 {
				t.Error("the rule matches no entry")
			}
		})
	}
}

// TestV3RetryableFollowsCategory applies 2.0's consistency rule to 3.0:
// categories that describe a passing condition are always retryable,
// categories that need a change by someone never are, and InvalidState
// goes either way.
func TestV3RetryableFollowsCategory(t *testing.T) {
	always := []codes.Category{codes.RequestExpired, codes.ReplayedRequest, codes.RateLimited,
		codes.InternalError, codes.OperationFailed, codes.Unavailable}
	never := []codes.Category{codes.InvalidParameter, codes.AuthenticationFailed, codes.PermissionDenied,
		codes.QuotaExceeded, codes.NotFound, codes.AlreadyExists, codes.Compliance, codes.Billing,
		codes.PartialSuccess, codes.Unsupported}
	for _, e := range codes.V3Entries() {
		switch {
		case slices.Contains(always, e.Category) && !e.Retryable:
			t.Errorf("%s (%s) is not retryable; every %s entry should be", e.Code, e.Category, e.Category)
		case slices.Contains(never, e.Category) && e.Retryable:
			t.Errorf("%s (%s) is retryable; no %s entry should be", e.Code, e.Category, e.Category)
		}
	}
}

func TestV3Fallback(t *testing.T) {
	for _, tc := range []struct {
		code string
		want string // the Code of the returned entry; "" for ok=false
	}{
		{"LimitExceeded.CdnPurgeUrlExceedDayLimit", "LimitExceeded.CdnPurgeUrlExceedDayLimit"},
		{"LimitExceeded", "LimitExceeded"},
		{"LimitExceeded.Whatever", "LimitExceeded"},
		{"LimitExceeded.CdnPurgeUrlExceedDayLimit.More", "LimitExceeded"},
		{"LimitExceeded.", "LimitExceeded"},
		{"AuthFailure.NewThing", "AuthFailure"},
		{"OperationDenied.NewThing", "OperationDenied"},
		{"RequestLimitExceeded.NewLimit", "RequestLimitExceeded"},
		{"ResourceInUse.Whatever", "ResourceInUse"},
		{"NoDots", ""},
		{"", ""},
		{".", ""},
		{".x", ""},
		{".LimitExceeded", ""},
		{"x.", ""},
		{"x.LimitExceeded", ""},
		{"limitexceeded.CdnPurgeUrlExceedDayLimit", ""},
		{"ClientError.NetworkError", ""},
	} {
		e, ok := codes.V3(tc.code)
		switch {
		case tc.want == "" && (ok || e != (codes.V3Entry{})):
			t.Errorf("V3(%q) = %+v, %v; want zero V3Entry, false", tc.code, e, ok)
		case tc.want != "" && (!ok || e.Code != tc.want):
			t.Errorf("V3(%q) = %q, %v; want %q, true", tc.code, e.Code, ok, tc.want)
		}
	}

	// The fallback gives the family entry itself, unchanged.
	fam, _ := codes.V3("LimitExceeded")
	if e, _ := codes.V3("LimitExceeded.Whatever"); e != fam {
		t.Errorf("V3(LimitExceeded.Whatever) = %+v, want the family entry %+v", e, fam)
	}
}

// TestV3EntriesReturnCopies checks that callers cannot change the catalogue
// through the slice V3Entries returns.
func TestV3EntriesReturnCopies(t *testing.T) {
	all := codes.V3Entries()
	all[0].Description = "changed"
	if e, _ := codes.V3(all[0].Code); e.Description == "changed" {
		t.Error("changing V3Entries() changed the catalogue")
	}
}

func TestV3DoesNotAllocate(t *testing.T) {
	if n := testing.AllocsPerRun(100, func() {
		codes.V3("LimitExceeded.CdnPurgeUrlExceedDayLimit")
		codes.V3("LimitExceeded.Whatever")
		codes.V3("NoDots")
	}); n != 0 {
		t.Errorf("V3 allocates %v times per run, want 0", n)
	}
}

// A 3.0 error body carries a dotted code in Response.Error.Code; V3
// explains it, falling back to the code's family for codes it does not
// know.
func ExampleV3() {
	e, ok := codes.V3("LimitExceeded.CdnPurgeUrlExceedDayLimit")
	fmt.Println(ok, e.Category, e.Retryable)
	fmt.Println(e.Description)

	e, ok = codes.V3("RequestLimitExceeded.SomeNewLimit")
	fmt.Println(ok, e.Code, e.Category, e.Retryable)

	_, ok = codes.V3("NoSuchCode")
	fmt.Println(ok)
	// Output:
	// true quota_exceeded false
	// Today's URL purge quota is used up, so retrying today will not help. Check usage with DescribePurgeQuota and wait for the quota to reset the next day.
	// true RequestLimitExceeded rate_limited true
	// false
}

func BenchmarkV3(b *testing.B) {
	for _, bc := range []struct{ name, code, want string }{
		{"exact", "LimitExceeded.CdnPurgeUrlExceedDayLimit", "LimitExceeded.CdnPurgeUrlExceedDayLimit"},
		{"family", "LimitExceeded.Whatever", "LimitExceeded"},
	} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if e, ok := codes.V3(bc.code); !ok || e.Code != bc.want {
					b.Fatalf("V3(%q) = %q, %v", bc.code, e.Code, ok)
				}
			}
		})
	}
}
