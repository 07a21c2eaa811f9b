// Package codes is cdnproxy's catalogue of Tencent Cloud CDN API error codes:
// for every code the API documents, a category, whether a retry may help,
// and an English description written for an operator who reads no Chinese.
// It covers both generations of the API: 2.0's numeric codes (Public,
// Module) and 3.0's dotted codes such as "LimitExceeded.CdnPurgeUrlExceedDayLimit"
// (V3, which falls back to the code's family).
//
// The catalogue is plain Go data; nothing is read or computed at start-up.
package codes

import "sort"

// Category classifies an error by what the caller should do about it.
// The set is small and stable; values are snake_case and safe to use as
// metric labels.
type Category string

// The categories. Every catalogue entry has exactly one.
const (
	InvalidParameter     Category = "invalid_parameter"     // the request itself is malformed or a value is wrong
	AuthenticationFailed Category = "authentication_failed" // the signature or key did not verify
	RequestExpired       Category = "request_expired"       // the Timestamp is too old or too far in the future
	ReplayedRequest      Category = "replayed_request"      // the Nonce/Timestamp pair was already used
	PermissionDenied     Category = "permission_denied"     // the account may not do this
	RateLimited          Category = "rate_limited"          // too many calls in a short time; slow down and retry
	QuotaExceeded        Category = "quota_exceeded"        // a daily or account quota is used up
	NotFound             Category = "not_found"             // the named resource does not exist
	AlreadyExists        Category = "already_exists"        // the resource exists already (perhaps under another account)
	InvalidState         Category = "invalid_state"         // the resource is in the wrong state for this operation
	Compliance           Category = "compliance"            // ICP filing, real-name checks, blocked domains
	Billing              Category = "billing"               // balance, purchase or payment problems
	OperationFailed      Category = "operation_failed"      // the operation was attempted and failed
	PartialSuccess       Category = "partial_success"       // a batch succeeded only in part
	InternalError        Category = "internal_error"        // a fault on Tencent's side
	Unavailable          Category = "unavailable"           // the service is down for maintenance; retry later
	Unsupported          Category = "unsupported"           // the action, version or protocol is not supported
	Unknown              Category = "unknown"               // the code is not in the catalogue
	UpstreamUnreachable  Category = "upstream_unreachable"  // cdnproxy could not get an answer from the API
)

// Meaning says in a few words what the category reports, for people
// reading a table or a terminal; "" for a value that is not a category.
func (c Category) Meaning() string {
	switch c {
	case InvalidParameter:
		return "the request itself is malformed or a value is wrong"
	case AuthenticationFailed:
		return "the signature or key did not verify"
	case RequestExpired:
		return "the request's timestamp is too old or too far in the future"
	case ReplayedRequest:
		return "the Nonce/Timestamp pair was already used"
	case PermissionDenied:
		return "the account may not do this"
	case RateLimited:
		return "too many calls in a short time"
	case QuotaExceeded:
		return "a daily or account quota is used up"
	case NotFound:
		return "the named resource does not exist"
	case AlreadyExists:
		return "the resource exists already, perhaps under another account"
	case InvalidState:
		return "the resource is in the wrong state for this operation"
	case Compliance:
		return "ICP filing, real-name verification or a blocked domain"
	case Billing:
		return "balance, purchase or payment problems"
	case OperationFailed:
		return "the operation was attempted and failed"
	case PartialSuccess:
		return "a batch succeeded only in part"
	case InternalError:
		return "a fault on Tencent's side"
	case Unavailable:
		return "the service is down for maintenance or short of capacity"
	case Unsupported:
		return "the action, version or protocol is not supported"
	case Unknown:
		return "the code is not in the catalogue"
	case UpstreamUnreachable:
		return "cdnproxy could not get an answer from the API"
	}
	return ""
}

// Categories lists every category in a fixed order, for documentation and
// for tests that check an enumeration is complete.
func Categories() []Category {
	return []Category{
		InvalidParameter, AuthenticationFailed, RequestExpired, ReplayedRequest,
		PermissionDenied, RateLimited, QuotaExceeded, NotFound, AlreadyExists,
		InvalidState, Compliance, Billing, OperationFailed, PartialSuccess,
		InternalError, Unavailable, Unsupported, Unknown, UpstreamUnreachable,
	}
}

// Entry describes one numeric API 2.0 error code.
type Entry struct {
	// Code is the numeric code: a public code such as 4000 in the
	// response's "code" member, or a module code such as 9112 or -9009 in
	// the "(9112)…" prefix of its "message".
	Code int
	// CodeDesc is, for a public code, the English class name the API
	// sends with it in the response's "codeDesc" member, such as
	// "AuthFailure" for 4100. It is "" for a module code: an answer that
	// carries one has the public code's class name or the module code
	// itself in codeDesc.
	CodeDesc string
	// Category says what kind of problem the code reports.
	Category Category
	// Retryable reports whether sending the same call again later, with a
	// fresh Nonce and Timestamp and no other change, may succeed.
	Retryable bool
	// Description says in English what happened and what to do about it.
	// It is plain ASCII text with no quotes or backslashes.
	Description string
	// Original is the text of Tencent's Chinese error code document.
	Original string
}

// Public returns the entry for a public code (the response's "code"
// member, 4000 to 6200). The second result is false when the code is not
// in the catalogue.
func Public(code int) (Entry, bool) { return find(publicCodes[:], code) }

// CodeDesc returns the "codeDesc" member the API sends with a public
// code: "Success" for 0, the entry's CodeDesc for a code in the catalogue,
// and "" for any other code.
func CodeDesc(public int) string {
	if public == 0 {
		return "Success"
	}
	e, _ := Public(public)
	return e.CodeDesc
}

// Module returns the entry for a module code (the number in a message's
// "(9112)" prefix). The second result is false when the code is not in the
// catalogue.
func Module(code int) (Entry, bool) { return find(moduleCodes[:], code) }

// PublicEntries returns a copy of every public-code entry, sorted by code.
func PublicEntries() []Entry { return append([]Entry(nil), publicCodes[:]...) }

// ModuleEntries returns a copy of every module-code entry, sorted by code.
func ModuleEntries() []Entry { return append([]Entry(nil), moduleCodes[:]...) }

// find does a binary search over a table sorted by Code.
func find(table []Entry, code int) (Entry, bool) {
	i := sort.Search(len(table), func(i int) bool { return table[i].Code >= code })
	if i < len(table) && table[i].Code == code {
		return table[i], true
	}
	return Entry{}, false
}
