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

// The categories. Every catalogue entry has exactly one. Meaning says what
// each reports and Advice what to do about it.
const (
	InvalidParameter     Category = "invalid_parameter"
	AuthenticationFailed Category = "authentication_failed"
	RequestExpired       Category = "request_expired"
	ReplayedRequest      Category = "replayed_request"
	PermissionDenied     Category = "permission_denied"
	RateLimited          Category = "rate_limited"
	QuotaExceeded        Category = "quota_exceeded"
	NotFound             Category = "not_found"
	AlreadyExists        Category = "already_exists"
	InvalidState         Category = "invalid_state"
	Compliance           Category = "compliance"
	Billing              Category = "billing"
	OperationFailed      Category = "operation_failed"
	PartialSuccess       Category = "partial_success"
	InternalError        Category = "internal_error"
	Unavailable          Category = "unavailable"
	Unsupported          Category = "unsupported"
	Unknown              Category = "unknown"
	UpstreamUnreachable  Category = "upstream_unreachable"
)

// categoryText is what a category means and what to do about it.
type categoryText struct {
	category Category
	meaning  string
	advice   string
	// retryAdvice, when set, replaces advice for a retryable code; only
	// invalid_state has it, since some states pass by themselves.
	retryAdvice string
}

// categoryTexts is the one table of category texts, in the order
// Categories lists them.
var categoryTexts = [...]categoryText{
	{InvalidParameter, "the request itself is malformed or a value is wrong",
		"Fix the request as the description says; sending it unchanged fails the same way.", ""},
	{AuthenticationFailed, "the signature or key did not verify",
		"Check the SecretId and SecretKey, the signature method and exactly what was signed; then sign the call again.", ""},
	{RequestExpired, "the request's timestamp is too old or too far in the future",
		"Sign the call again with a current timestamp; if it keeps happening, synchronise the caller's clock (NTP).", ""},
	{ReplayedRequest, "the Nonce/Timestamp pair was already used",
		"Sign the call again with a new random Nonce and a current Timestamp.", ""},
	{PermissionDenied, "the account may not do this",
		"Give the account (or the CAM sub-user) the permission, or call with an account that has it.", ""},
	{RateLimited, "too many calls in a short time",
		"Slow down: retry after a short wait, with exponential backoff.", ""},
	{QuotaExceeded, "a daily or account quota is used up",
		"Do not retry now: wait for the quota to reset (daily quotas reset the next day), spend less of it, or ask Tencent Cloud for more.", ""},
	{NotFound, "the named resource does not exist",
		"Check the resource's name or id, and which account's key signs the call.", ""},
	{AlreadyExists, "the resource exists already, perhaps under another account",
		"Use the existing resource, or have it released by the account that holds it.", ""},
	{InvalidState, "the resource is in the wrong state for this operation",
		"Bring the resource into the state the operation needs (the description says which), then send the call again.",
		"Wait for the resource's current operation to finish, then retry."},
	{Compliance, "ICP filing, real-name verification or a blocked domain",
		"Complete the ICP filing or verification, or resolve the block, in the console; no retry helps before that.", ""},
	{Billing, "balance, purchase or payment problems",
		"Top up the balance or settle the account in the console, then send the call again.", ""},
	{OperationFailed, "the operation was attempted and failed",
		"Retry later with backoff; if it persists, open a ticket with Tencent Cloud, quoting the call's details.", ""},
	{PartialSuccess, "a batch succeeded only in part",
		"Find out which items failed and send only those again.", ""},
	{InternalError, "a fault on Tencent's side",
		"Retry later with backoff; if it persists, open a ticket with Tencent Cloud, quoting the call's details.", ""},
	{Unavailable, "the service is down for maintenance or short of capacity",
		"Retry later with backoff.", ""},
	{Unsupported, "the action, version or protocol is not supported",
		"Use a supported action, version or protocol; retrying does not help.", ""},
	{Unknown, "the code is not in the catalogue",
		"Read the message for details; do not retry blindly.", ""},
	{UpstreamUnreachable, "cdnproxy could not get an answer from the API",
		"Check the network path to the API and CDNPROXY_UPSTREAM_URL, then retry.", ""},
}

// text returns c's row of categoryTexts; the zero row for a value that is
// not a category.
func (c Category) text() categoryText {
	for _, t := range categoryTexts {
		if t.category == c {
			return t
		}
	}
	return categoryText{}
}

// Meaning says in a few words what the category reports, for people
// reading a table or a terminal; "" for a value that is not a category.
func (c Category) Meaning() string { return c.text().meaning }

// Advice says in a sentence what a caller should do about an error of the
// category; "" for a value that is not a category. retryable is the
// entry's Retryable: it changes the advice only for InvalidState, where a
// retryable state passes by itself and the caller need only wait.
func (c Category) Advice(retryable bool) string {
	t := c.text()
	if retryable && t.retryAdvice != "" {
		return t.retryAdvice
	}
	return t.advice
}

// Categories lists every category in a fixed order, for documentation and
// for tests that check an enumeration is complete.
func Categories() []Category {
	out := make([]Category, len(categoryTexts))
	for i, t := range categoryTexts {
		out[i] = t.category
	}
	return out
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
