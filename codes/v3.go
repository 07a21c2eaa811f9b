package codes

import (
	"sort"
	"strings"
)

// This file is the catalogue of CDN API 3.0 error codes ("Response.Error.Code"):
// every code of testdata/cdn-api-v3-codes.tsv (the CDN codes of Tencent's Go
// SDK errors.go plus the common codes of all 3.0 products), and a bare
// family entry for every family, so that an unknown dotted code still gets
// a sensible answer. TestV3CatalogueMatchesTSV checks the table against the
// TSV, code by code; TestV3Rules checks the rules below.
//
// Categories and retryability follow the same rules as API 2.0 (v2.go):
// InternalError, OperationFailed, RateLimited, RequestExpired and
// Unavailable entries are retryable; InvalidState is retryable only where the
// state passes by itself; everything else needs a change by someone first.
// A code is classified by its meaning, which is not always its family's:
//   - Daily quotas (*DayLimit) are QuotaExceeded and not retryable: they reset
//     the next day. Per-call batch limits (*BatchLimit, *BatchTooMany,
//     CamResourceArrayTooLong, CamTagKeyTooLong, CdnConfigTooManyCacheRules,
//     ClsLogSizeExceed) are InvalidParameter: the request must be split or cut.
//   - RequestLimitExceeded and its sub-codes, *OperationTooOften, *OpTooOften,
//     CdnCallingQueryIpTooOften and SslCertRequestLimitExceeded are
//     RateLimited and retryable with backoff.
//   - ResourceInUse.CdnOpInProgress is InvalidState and retryable: the domain
//     is busy with another of the caller's operations (as 2.0's 9135 and 9175),
//     not a Tencent outage, so Unavailable would mislead dashboards. The bare
//     ResourceInUse family is the same, for unknown sub-codes; the *Exists
//     sub-codes are AlreadyExists.
//   - AuthFailure.SignatureExpire is RequestExpired and retryable: signing
//     again with a fresh X-TC-Timestamp fixes it. AuthFailure.UnauthorizedOperation
//     is a CAM policy refusal, so PermissionDenied.
//   - Codes whose documented text says "internal service error" are
//     InternalError and retryable whatever their family
//     (InvalidParameter.CdnInterfaceError, InvalidParameter.EcdnInterfaceError,
//     UnauthorizedOperation.CdnUserInvalidCredential,
//     UnauthorizedOperation.CsrfError); the description says to open a ticket
//     if the error persists.
//   - UnauthorizedOperation.* and OperationDenied.* are PermissionDenied,
//     except domain or account states (InvalidState: suspended service, CLS not
//     activated, EdgeOne upgrade or migration, ECDN migrated, DDoS risk),
//     verification and ICP matters (Compliance), arrears (Billing:
//     CdnUserIsIsolated), domains taken by another account (AlreadyExists, as
//     2.0's 9138) and ShareCacheAreaDnsNotMatch (InvalidParameter: pick
//     another target domain).
//   - ResourceNotFound.CdnUserTooManyHosts means "domain quota reached"
//     despite its family, so it is QuotaExceeded like LimitExceeded.CdnUserTooManyHosts.
//   - DryRunOperation is InvalidParameter and not retryable: nothing failed,
//     but the same request only ever answers the same way; to carry it out the
//     caller must drop DryRun. No CDN action has a DryRun parameter today.
//   - ResourceInsufficient (capacity on Tencent's side) is Unavailable and
//     retryable.
//   - OperationDenied has no bare code in the TSV; its family entry is added
//     here with a generic description.

// V3Entry describes one API 3.0 error code ("Response.Error.Code").
type V3Entry struct {
	// Code is a dotted code such as "LimitExceeded.CdnPurgeUrlExceedDayLimit",
	// or a family such as "LimitExceeded" (the text before the first '.').
	Code string
	// Category says what kind of problem the code reports.
	Category Category
	// Retryable reports whether sending the same call again later, signed
	// afresh and with no other change, may succeed.
	Retryable bool
	// Description says in English what happened and what to do about it.
	// It is plain ASCII text with no quotes or backslashes.
	Description string
}

// V3 returns the entry for an API 3.0 error code: the exact code if the
// catalogue has it, otherwise the entry of its family (the text before the
// first '.', so "LimitExceeded.Whatever" gives the "LimitExceeded" entry),
// otherwise the zero V3Entry and false. The returned entry's Code tells
// which of the two matched. Lookups are case-sensitive and do not allocate.
func V3(code string) (V3Entry, bool) {
	if e, ok := findV3(code); ok {
		return e, true
	}
	if i := strings.IndexByte(code, '.'); i > 0 {
		return findV3(code[:i])
	}
	return V3Entry{}, false
}

// V3Entries returns a copy of every API 3.0 entry, sorted by Code.
func V3Entries() []V3Entry { return append([]V3Entry(nil), v3Codes[:]...) }

// findV3 does a binary search over v3Codes for an exact code.
func findV3(code string) (V3Entry, bool) {
	i := sort.Search(len(v3Codes), func(i int) bool { return v3Codes[i].Code >= code })
	if i < len(v3Codes) && v3Codes[i].Code == code {
		return v3Codes[i], true
	}
	return V3Entry{}, false
}

// v3Codes holds every API 3.0 code and family, sorted by Code in byte order.
var v3Codes = [...]V3Entry{
	{
		Code:        "ActionOffline",
		Category:    Unsupported,
		Retryable:   false,
		Description: "This API action has been retired and no longer accepts calls. Move to the action that replaces it, as listed in the CDN API documentation.",
	},
	{
		Code:        "AuthFailure",
		Category:    AuthenticationFailed,
		Retryable:   false,
		Description: "The request failed the signature or credential check. Check the SecretId, SecretKey and signing method, then sign the call again.",
	},
	{
		Code:        "AuthFailure.InvalidAuthorization",
		Category:    AuthenticationFailed,
		Retryable:   false,
		Description: "The Authorization header was rejected as malformed or inconsistent. Check how the client builds it (algorithm, credential scope, SignedHeaders, signature) and send a correctly signed request.",
	},
	{
		Code:        "AuthFailure.InvalidSecretId",
		Category:    AuthenticationFailed,
		Retryable:   false,
		Description: "The SecretId is not a cloud API key. Use an API key created for this account in Access Management (CAM).",
	},
	{
		Code:        "AuthFailure.MFAFailure",
		Category:    AuthenticationFailed,
		Retryable:   false,
		Description: "The multi-factor authentication (MFA) check failed. Complete MFA for this user correctly, then sign the request again.",
	},
	{
		Code:        "AuthFailure.SecretIdNotFound",
		Category:    AuthenticationFailed,
		Retryable:   false,
		Description: "The SecretId does not exist, or its key was deleted or disabled. Check the key in the CAM console and sign with an active one.",
	},
	{
		Code:        "AuthFailure.SignatureExpire",
		Category:    RequestExpired,
		Retryable:   true,
		Description: "The request's X-TC-Timestamp is more than 5 minutes away from Tencent's clock. Sign the call again with a current timestamp; if it keeps happening, synchronise the caller's clock with NTP.",
	},
	{
		Code:        "AuthFailure.SignatureFailure",
		Category:    AuthenticationFailed,
		Retryable:   false,
		Description: "The signature does not match the one Tencent computed for this request. Check the SecretKey, the canonical request (host, signed headers, payload hash) and the signing algorithm.",
	},
	{
		Code:        "AuthFailure.TokenFailure",
		Category:    AuthenticationFailed,
		Retryable:   false,
		Description: "The temporary-credential token is invalid or has expired. Obtain fresh temporary credentials (SecretId, SecretKey and Token together) and sign the call with them.",
	},
	{
		Code:        "AuthFailure.UnauthorizedOperation",
		Category:    PermissionDenied,
		Retryable:   false,
		Description: "CAM denied the request: the caller's policies do not allow this action on this resource. Grant the needed CAM policy to the user or role.",
	},
	{
		Code:        "DryRunOperation",
		Category:    InvalidParameter,
		Retryable:   false,
		Description: "Not a failure: the request asked for a dry run, which would have succeeded, so nothing was changed. Send it again without DryRun to carry it out.",
	},
	{
		Code:        "FailedOperation",
		Category:    OperationFailed,
		Retryable:   true,
		Description: "The operation was attempted and failed. Retry after a short wait; if it keeps failing, open a ticket with the RequestId.",
	},
	{
		Code:        "FailedOperation.CdnConfigError",
		Category:    OperationFailed,
		Retryable:   true,
		Description: "Updating the domain configuration failed. Retry after a short wait; if it keeps failing, open a ticket with the RequestId.",
	},
	{
		Code:        "FailedOperation.DataSystemError",
		Category:    InternalError,
		Retryable:   true,
		Description: "The statistics backend failed to answer the query. Retry after a short wait; if it persists, open a ticket with the RequestId.",
	},
	{
		Code:        "FailedOperation.SslCertCannotGetOrder",
		Category:    InvalidState,
		Retryable:   true,
		Description: "The SSL certificate order cannot be retrieved yet, usually because the certificate is still being issued or synchronised. Wait a few minutes, then send the request again.",
	},
	{
		Code:        "FailedOperation.SslCertNotFound",
		Category:    NotFound,
		Retryable:   false,
		Description: "The SSL certificate named in the request was not found. Check the certificate ID and that it belongs to this account in the SSL certificate console.",
	},
	{
		Code:        "InternalError",
		Category:    InternalError,
		Retryable:   true,
		Description: "An internal error occurred on Tencent's side. Retry after a short wait; if it persists, open a ticket with the RequestId.",
	},
	{
		Code:        "InternalError.CamSystemError",
		Category:    InternalError,
		Retryable:   true,
		Description: "Tencent's CAM authorization system had an internal error. Retry after a short wait; if it persists, open a ticket with the RequestId.",
	},
	{
		Code:        "InternalError.CdnConfigError",
		Category:    InternalError,
		Retryable:   true,
		Description: "Updating the domain configuration failed inside Tencent's system. Retry after a short wait; if it persists, open a ticket with the RequestId.",
	},
	{
		Code:        "InternalError.CdnDbError",
		Category:    InternalError,
		Retryable:   true,
		Description: "Tencent's CDN database had an internal error. Retry after a short wait; if it persists, open a ticket with the RequestId.",
	},
	{
		Code:        "InternalError.CdnQueryParamError",
		Category:    InternalError,
		Retryable:   true,
		Description: "Tencent's query service failed internally while handling the request. Retry after a short wait; if it persists, open a ticket with the RequestId.",
	},
	{
		Code:        "InternalError.CdnQuerySystemError",
		Category:    InternalError,
		Retryable:   true,
		Description: "Tencent's query system had an internal error. Retry after a short wait; if it persists, open a ticket with the RequestId.",
	},
	{
		Code:        "InternalError.CdnSystemError",
		Category:    InternalError,
		Retryable:   true,
		Description: "The CDN backend had a system error. Retry after a short wait; if it persists, open a ticket with the RequestId.",
	},
	{
		Code:        "InternalError.ClsInternalError",
		Category:    InternalError,
		Retryable:   true,
		Description: "The log service (CLS) had an internal error. Retry after a short wait; if it persists, open a ticket with the RequestId.",
	},
	{
		Code:        "InternalError.CostDataSystemError",
		Category:    InternalError,
		Retryable:   true,
		Description: "The billing data query failed inside Tencent's system. Retry after a short wait; if it persists, open a ticket with the RequestId.",
	},
	{
		Code:        "InternalError.DataSystemError",
		Category:    InternalError,
		Retryable:   true,
		Description: "The statistics data system had an internal error. Retry after a short wait; if it persists, open a ticket with the RequestId.",
	},
	{
		Code:        "InternalError.Error",
		Category:    InternalError,
		Retryable:   true,
		Description: "Tencent's service had an internal error. Retry after a short wait; if it persists, open a ticket with the RequestId.",
	},
	{
		Code:        "InternalError.InvalidErrorCode",
		Category:    InternalError,
		Retryable:   true,
		Description: "Tencent's service had an internal error that its backend did not map to a specific code. Retry after a short wait; if it persists, open a ticket with the RequestId.",
	},
	{
		Code:        "InternalError.ProxyServer",
		Category:    InternalError,
		Retryable:   true,
		Description: "Tencent's internal API gateway or proxy failed. Retry after a short wait; if it persists, open a ticket with the RequestId.",
	},
	{
		Code:        "InternalError.RouteError",
		Category:    InternalError,
		Retryable:   true,
		Description: "Tencent's internal request routing failed. Retry after a short wait; if it persists, open a ticket with the RequestId.",
	},
	{
		Code:        "InternalError.TagSystemError",
		Category:    InternalError,
		Retryable:   true,
		Description: "The tag service had an internal error. Retry after a short wait; if it persists, open a ticket with the RequestId.",
	},
	{
		Code:        "InternalError.UnknownError",
		Category:    InternalError,
		Retryable:   true,
		Description: "An unknown internal error occurred on Tencent's side. Retry after a short wait; if it persists, open a ticket with the RequestId.",
	},
	{
		Code:        "InvalidAction",
		Category:    Unsupported,
		Retryable:   false,
		Description: "The Action does not exist for this service and version. Check the action name (spelling and case) and the API host.",
	},
	{
		Code:        "InvalidParameter",
		Category:    InvalidParameter,
		Retryable:   false,
		Description: "A parameter is wrong; the Message names the problem. Fix the request before sending it again.",
	},
	{
		Code:        "InvalidParameter.AccessPortOpenedHttps",
		Category:    InvalidParameter,
		Retryable:   false,
		Description: "An HTTPS configuration needs access port 443 to stay open. Keep port 443 among the domain's access ports, or turn HTTPS off.",
	},
	{
		Code:        "InvalidParameter.BandLimitRequiredMainland",
		Category:    InvalidState,
		Retryable:   false,
		Description: "The domain has a bandwidth cap configuration that prevents changing its service area. Remove the bandwidth cap first, then change the area.",
	},
	{
		Code:        "InvalidParameter.BandwidthAlertCounterMeasureConflictOriginType",
		Category:    InvalidParameter,
		Retryable:   false,
		Description: "With a COS or third-party object storage origin, the only allowed action when the bandwidth cap is reached is to return 404. Change the cap action and send the request again.",
	},
	{
		Code:        "InvalidParameter.CDNStatusInvalidDomain",
		Category:    InvalidState,
		Retryable:   false,
		Description: "The domain's current status does not allow this operation. Check it with DescribeDomains, bring it to the state the action needs (for example online), then send the request again.",
	},
	{
		Code:        "InvalidParameter.CamResourceBelongToDifferentUser",
		Category:    InvalidParameter,
		Retryable:   false,
		Description: "The resources in one request belong to different accounts (AppIds). Put only resources of one account in each request.",
	},
	{
		Code:        "InvalidParameter.CamResourceSixStageError",
		Category:    InvalidParameter,
		Retryable:   false,
		Description: "A resource descriptor (the six-segment qcs resource string) is malformed. Fix its format and send the request again.",
	},
	{
		Code:        "InvalidParameter.CamTagKeyAlreadyAttached",
		Category:    AlreadyExists,
		Retryable:   false,
		Description: "The domain already has this tag attached. Leave it as it is, or change the tag value instead of attaching the tag again.",
	},
	{
		Code:        "InvalidParameter.CamTagKeyIllegal",
		Category:    InvalidParameter,
		Retryable:   false,
		Description: "The tag key contains characters that are not allowed. Use a key made of permitted characters only.",
	},
	{
		Code:        "InvalidParameter.CamTagKeyNotExist",
		Category:    NotFound,
		Retryable:   false,
		Description: "The tag key does not exist. Create the tag in the tag console first, or correct the key.",
	},
	{
		Code:        "InvalidParameter.CamTagValueIllegal",
		Category:    InvalidParameter,
		Retryable:   false,
		Description: "The tag value contains characters that are not allowed. Use a value made of permitted characters only.",
	},
	{
		Code:        "InvalidParameter.CdnCertInfoNotFound",
		Category:    InvalidParameter,
		Retryable:   false,
		Description: "The certificate information is missing or invalid. Check the certificate ID or the certificate content in the request.",
	},
	{
		Code:        "InvalidParameter.CdnCertNoCertInfo",
		Category:    InvalidParameter,
		Retryable:   false,
		Description: "The certificate is invalid. Check the certificate content and that it covers the domain, then send it again.",
	},
	{
		Code:        "InvalidParameter.CdnCertNotPem",
		Category:    InvalidParameter,
		Retryable:   false,
		Description: "The HTTPS certificate is not valid PEM. Send the certificate and its chain as PEM text.",
	},
	{
		Code:        "InvalidParameter.CdnClsDuplicateTopic",
		Category:    AlreadyExists,
		Retryable:   false,
		Description: "The CLS topic is a duplicate of one that already exists. Use the existing topic or choose another name.",
	},
	{
		Code:        "InvalidParameter.CdnClsTopicNameInvalid",
		Category:    InvalidParameter,
		Retryable:   false,
		Description: "The CLS topic name is invalid. Use a name that follows the CLS naming rules.",
	},
	{
		Code:        "InvalidParameter.CdnClsTopicNotExist",
		Category:    NotFound,
		Retryable:   false,
		Description: "The CLS topic does not exist. Check the topic ID, or create the topic first.",
	},
	{
		Code:        "InvalidParameter.CdnConfigInvalidCache",
		Category:    InvalidParameter,
		Retryable:   false,
		Description: "The cache configuration is invalid. Check the cache rules against the documentation and send them again.",
	},
	{
		Code:        "InvalidParameter.CdnConfigInvalidHost",
		Category:    InvalidParameter,
		Retryable:   false,
		Description: "The domain name does not follow the naming rules. Correct the domain name.",
	},
	{
		Code:        "InvalidParameter.CdnConfigInvalidTag",
		Category:    InvalidParameter,
		Retryable:   false,
		Description: "The tag configuration is invalid. Check the tag keys and values in the request.",
	},
	{
		Code:        "InvalidParameter.CdnConfigTagRequired",
		Category:    InvalidParameter,
		Retryable:   false,
		Description: "This domain can only be added with a tag. Add a tag to the request and send it again.",
	},
	{
		Code:        "InvalidParameter.CdnHostExistsInEdgeOne",
		Category:    AlreadyExists,
		Retryable:   false,
		Description: "The domain is already onboarded in EdgeOne. Remove it from EdgeOne before adding it to CDN, or keep managing it in EdgeOne.",
	},
	{
		Code:        "InvalidParameter.CdnHostHasSpecialConfig",
		Category:    InvalidState,
		Retryable:   false,
		Description: "The domain has a special configuration that cannot be changed through the API. Open a ticket to have the change made.",
	},
	{
		Code:        "InvalidParameter.CdnHostInternalHost",
		Category:    PermissionDenied,
		Retryable:   false,
		Description: "The domain is reserved for another, designated account and cannot be added by this one. Use the owning account, or open a ticket if this account should own it.",
	},
	{
		Code:        "InvalidParameter.CdnHostInvalidMiddleConfig",
		Category:    InvalidParameter,
		Retryable:   false,
		Description: "The middle-tier (parent) origin configuration is invalid. Correct it and send the request again.",
	},
	{
		Code:        "InvalidParameter.CdnHostInvalidParam",
		Category:    InvalidParameter,
		Retryable:   false,
		Description: "The domain name format is invalid. Correct the domain name.",
	},
	{
		Code:        "InvalidParameter.CdnHostInvalidStatus",
		Category:    InvalidState,
		Retryable:   false,
		Description: "The domain's status does not allow this operation. Check it with DescribeDomains and bring it to the state the action needs first.",
	},
	{
		Code:        "InvalidParameter.CdnHostIsCosDefaultAccess",
		Category:    InvalidParameter,
		Retryable:   false,
		Description: "This is a COS default access domain, which cannot be added as a CDN domain. Turn on default CDN acceleration in the COS console instead, or add a custom domain.",
	},
	{
		Code:        "InvalidParameter.CdnHostTooLongHost",
		Category:    InvalidParameter,
		Retryable:   false,
		Description: "The domain name is too long. Use a shorter domain name.",
	},
	{
		Code:        "InvalidParameter.CdnInterfaceError",
		Category:    InternalError,
		Retryable:   true,
		Description: "An internal interface failed on Tencent's side, despite the InvalidParameter family. Retry after a short wait; if it persists, open a ticket with the RequestId.",
	},
	{
		Code:        "InvalidParameter.CdnInvalidParamInterval",
		Category:    InvalidParameter,
		Retryable:   false,
		Description: "The Interval parameter is invalid for this query. Choose a granularity the action allows for the requested time range.",
	},
	{
		Code:        "InvalidParameter.CdnInvalidParamMetric",
		Category:    InvalidParameter,
		Retryable:   false,
		Description: "The Metric parameter is invalid. Use one of the metrics the action documents.",
	},
	{
		Code:        "InvalidParameter.CdnInvalidParamServiceType",
		Category:    InvalidParameter,
		Retryable:   false,
		Description: "The ServiceType parameter is invalid. Use one of the documented service types.",
	},
	{
		Code:        "InvalidParameter.CdnKeyRulesExcludeCustomRequiresFullLego",
		Category:    Unsupported,
		Retryable:   false,
		Description: "This cache-key option is not supported for the domain on its current platform. Use another cache-key setting, or open a ticket.",
	},
	{
		Code:        "InvalidParameter.CdnKeyRulesInvalidQueryStringValue",
		Category:    InvalidParameter,
		Retryable:   false,
		Description: "The QueryString value in the cache-key rules is invalid. Correct it and send the request again.",
	},
	{
		Code:        "InvalidParameter.CdnParamError",
		Category:    InvalidParameter,
		Retryable:   false,
		Description: "A parameter is wrong. Compare the request with the examples in the action's documentation.",
	},
	{
		Code:        "InvalidParameter.CdnPurgeWildcardNotAllowed",
		Category:    InvalidParameter,
		Retryable:   false,
		Description: "Cache purge does not accept wildcard domains. Purge URLs or directories under concrete domain names.",
	},
	{
		Code:        "InvalidParameter.CdnPushWildcardNotAllowed",
		Category:    InvalidParameter,
		Retryable:   false,
		Description: "Prefetch does not accept wildcard domains. Prefetch URLs under concrete domain names.",
	},
	{
		Code:        "InvalidParameter.CdnStatInvalidDate",
		Category:    InvalidParameter,
		Retryable:   false,
		Description: "The date or time range is invalid. Use the documented time format and a range the action allows.",
	},
	{
		Code:        "InvalidParameter.CdnStatInvalidFilter",
		Category:    InvalidParameter,
		Retryable:   false,
		Description: "The statistics dimension (filter) is invalid. Use a dimension the action documents.",
	},
	{
		Code:        "InvalidParameter.CdnStatInvalidMetric",
		Category:    InvalidParameter,
		Retryable:   false,
		Description: "The statistics metric is invalid. Use a metric the action documents.",
	},
	{
		Code:        "InvalidParameter.CdnStatInvalidProjectId",
		Category:    InvalidParameter,
		Retryable:   false,
		Description: "The project ID is invalid. Check the project ID in the console.",
	},
	{
		Code:        "InvalidParameter.CdnStatTooManyDomains",
		Category:    InvalidParameter,
		Retryable:   false,
		Description: "The query names more domains than one call allows. Split the domains over several queries.",
	},
	{
		Code:        "InvalidParameter.CdnUrlExceedLength",
		Category:    InvalidParameter,
		Retryable:   false,
		Description: "A URL is longer than allowed. Shorten it, or purge its directory instead.",
	},
	{
		Code:        "InvalidParameter.ClsIndexConflict",
		Category:    AlreadyExists,
		Retryable:   false,
		Description: "The CLS index conflicts with one that already exists. Modify the existing index instead of creating another.",
	},
	{
		Code:        "InvalidParameter.ClsIndexRuleEmpty",
		Category:    InvalidParameter,
		Retryable:   false,
		Description: "The CLS index rule is empty. Include at least one index rule.",
	},
	{
		Code:        "InvalidParameter.ClsInvalidContent",
		Category:    InvalidParameter,
		Retryable:   false,
		Description: "The content sent to CLS is invalid. Check the request against the CLS documentation.",
	},
	{
		Code:        "InvalidParameter.ClsInvalidContentType",
		Category:    InvalidParameter,
		Retryable:   false,
		Description: "The Content-Type of the CLS request is invalid. Send the content type the action expects.",
	},
	{
		Code:        "InvalidParameter.ClsInvalidLogsetId",
		Category:    InvalidParameter,
		Retryable:   false,
		Description: "The CLS logset ID is invalid. Check the logset ID.",
	},
	{
		Code:        "InvalidParameter.ClsInvalidParam",
		Category:    InvalidParameter,
		Retryable:   false,
		Description: "A CLS parameter is wrong. Check the request against the action's documentation.",
	},
	{
		Code:        "InvalidParameter.ClsLogsetConflict",
		Category:    AlreadyExists,
		Retryable:   false,
		Description: "A CLS logset with the same name already exists. Use it or choose another name.",
	},
	{
		Code:        "InvalidParameter.ClsLogsetEmpty",
		Category:    InvalidParameter,
		Retryable:   false,
		Description: "The CLS logset is empty. Check the logset ID and that the logset holds topics.",
	},
	{
		Code:        "InvalidParameter.ClsLogsetNotEmpty",
		Category:    InvalidState,
		Retryable:   false,
		Description: "The CLS logset still contains topics, so it cannot be deleted. Delete its topics first.",
	},
	{
		Code:        "InvalidParameter.ClsMissingAuthorization",
		Category:    PermissionDenied,
		Retryable:   false,
		Description: "CLS authorization information is missing. Authorize CDN to use CLS in the console, then send the request again.",
	},
	{
		Code:        "InvalidParameter.ClsMissingContent",
		Category:    InvalidParameter,
		Retryable:   false,
		Description: "The CLS request has no content. Include the required content.",
	},
	{
		Code:        "InvalidParameter.ClsSyntaxError",
		Category:    InvalidParameter,
		Retryable:   false,
		Description: "The CLS search statement has a syntax error. Fix the statement.",
	},
	{
		Code:        "InvalidParameter.ClsTopicClosed",
		Category:    InvalidState,
		Retryable:   false,
		Description: "The CLS topic is closed. Turn the topic on again, or use another topic.",
	},
	{
		Code:        "InvalidParameter.ClsTopicConflict",
		Category:    AlreadyExists,
		Retryable:   false,
		Description: "A CLS topic with the same name already exists. Use it or choose another name.",
	},
	{
		Code:        "InvalidParameter.EcdnInterfaceError",
		Category:    InternalError,
		Retryable:   true,
		Description: "An ECDN internal interface failed on Tencent's side, despite the InvalidParameter family. Retry after a short wait; if it persists, open a ticket with the RequestId.",
	},
	{
		Code:        "InvalidParameter.PathRegexTooManySubPattern",
		Category:    InvalidParameter,
		Retryable:   false,
		Description: "A path regular expression has more sub-patterns than allowed. Simplify the expression.",
	},
	{
		Code:        "InvalidParameter.RemoteAuthInvalidPlatform",
		Category:    Unsupported,
		Retryable:   false,
		Description: "Remote authentication is not supported on the platform this domain runs on. Use another access-control feature, or open a ticket.",
	},
	{
		Code:        "InvalidParameter.RemoteAuthInvalidProtocol",
		Category:    InvalidParameter,
		Retryable:   false,
		Description: "On this platform the remote authentication server cannot be reached over HTTPS. Give an HTTP address for the authentication server.",
	},
	{
		Code:        "InvalidParameter.SslCertChainError",
		Category:    InvalidParameter,
		Retryable:   false,
		Description: "The SSL certificate chain is wrong. Send the complete chain in order, starting with the domain's certificate.",
	},
	{
		Code:        "InvalidParameter.SslCertMatchError",
		Category:    InvalidParameter,
		Retryable:   false,
		Description: "The SSL certificate and the private key do not match. Send the key that belongs to the certificate.",
	},
	{
		Code:        "InvalidParameter.SslCertParseError",
		Category:    InvalidParameter,
		Retryable:   false,
		Description: "The SSL certificate cannot be parsed. Check that it is complete and unaltered PEM text.",
	},
	{
		Code:        "InvalidParameterValue",
		Category:    InvalidParameter,
		Retryable:   false,
		Description: "A parameter value is invalid; the Message names it. Check the value against the action's documentation.",
	},
	{
		Code:        "InvalidRequest",
		Category:    InvalidParameter,
		Retryable:   false,
		Description: "The multipart request body is malformed. Fix how the client builds the request body.",
	},
	{
		Code:        "IpInBlacklist",
		Category:    PermissionDenied,
		Retryable:   false,
		Description: "The caller's IP address is on the account's blocklist for API access. Call from another address, or remove this one from the blocklist in the console.",
	},
	{
		Code:        "IpNotInWhitelist",
		Category:    PermissionDenied,
		Retryable:   false,
		Description: "The caller's IP address is not on the account's allowlist for API access. Add the address to the allowlist, or call from an allowed one.",
	},
	{
		Code:        "LimitExceeded",
		Category:    QuotaExceeded,
		Retryable:   false,
		Description: "A quota or limit was exceeded; the Message says which. Reduce the request or free some capacity, or ask Tencent Cloud to raise the quota.",
	},
	{
		Code:        "LimitExceeded.CamResourceArrayTooLong",
		Category:    InvalidParameter,
		Retryable:   false,
		Description: "The request names more resources than one call allows. Split the resources over several calls.",
	},
	{
		Code:        "LimitExceeded.CamResourceTooManyTagKey",
		Category:    QuotaExceeded,
		Retryable:   false,
		Description: "The resource already has the maximum of 50 tag keys. Remove unused tags before adding new ones.",
	},
	{
		Code:        "LimitExceeded.CamTagKeyTooLong",
		Category:    InvalidParameter,
		Retryable:   false,
		Description: "The tag key is longer than allowed. Use a shorter key.",
	},
	{
		Code:        "LimitExceeded.CamTagKeyTooManyTagValue",
		Category:    QuotaExceeded,
		Retryable:   false,
		Description: "The tag key already has the maximum of 1000 values. Reuse an existing value or delete unused ones.",
	},
	{
		Code:        "LimitExceeded.CamTagQuotaExceedLimit",
		Category:    QuotaExceeded,
		Retryable:   false,
		Description: "The domain already has the maximum number of tags bound to it. Unbind unused tags first.",
	},
	{
		Code:        "LimitExceeded.CamUserTooManyTagKey",
		Category:    QuotaExceeded,
		Retryable:   false,
		Description: "The account already has the maximum of 1000 distinct tag keys. Delete unused tag keys first.",
	},
	{
		Code:        "LimitExceeded.CdnCallingQueryIpTooOften",
		Category:    RateLimited,
		Retryable:   true,
		Description: "IP ownership queries were sent too often. Slow down and retry after a short wait.",
	},
	{
		Code:        "LimitExceeded.CdnClsTooManyTopics",
		Category:    QuotaExceeded,
		Retryable:   false,
		Description: "The account has created the maximum number of CLS topics. Delete unused topics first.",
	},
	{
		Code:        "LimitExceeded.CdnConfigTooManyCacheRules",
		Category:    InvalidParameter,
		Retryable:   false,
		Description: "The configuration has more cache rules than allowed. Merge or remove rules, then send it again.",
	},
	{
		Code:        "LimitExceeded.CdnHostOpTooOften",
		Category:    RateLimited,
		Retryable:   true,
		Description: "Operations on this domain were sent too often. Slow down and retry after a short wait.",
	},
	{
		Code:        "LimitExceeded.CdnPurgeExceedBatchLimit",
		Category:    InvalidParameter,
		Retryable:   false,
		Description: "More URLs were submitted for purging in one call than allowed. Split them over several calls.",
	},
	{
		Code:        "LimitExceeded.CdnPurgeExceedDayLimit",
		Category:    QuotaExceeded,
		Retryable:   false,
		Description: "Today's URL purge quota is used up, so retrying today will not help. Check usage with DescribePurgeQuota and wait for the quota to reset the next day.",
	},
	{
		Code:        "LimitExceeded.CdnPurgePathExceedBatchLimit",
		Category:    InvalidParameter,
		Retryable:   false,
		Description: "More directories were submitted for purging in one call than allowed. Split them over several calls.",
	},
	{
		Code:        "LimitExceeded.CdnPurgePathExceedDayLimit",
		Category:    QuotaExceeded,
		Retryable:   false,
		Description: "Today's directory purge quota is used up, so retrying today will not help. Check usage with DescribePurgeQuota and wait for the quota to reset the next day.",
	},
	{
		Code:        "LimitExceeded.CdnPurgeUrlExceedBatchLimit",
		Category:    InvalidParameter,
		Retryable:   false,
		Description: "More URLs were submitted for purging in one call than allowed. Split them over several calls.",
	},
	{
		Code:        "LimitExceeded.CdnPurgeUrlExceedDayLimit",
		Category:    QuotaExceeded,
		Retryable:   false,
		Description: "Today's URL purge quota is used up, so retrying today will not help. Check usage with DescribePurgeQuota and wait for the quota to reset the next day.",
	},
	{
		Code:        "LimitExceeded.CdnPushExceedBatchLimit",
		Category:    InvalidParameter,
		Retryable:   false,
		Description: "More URLs were submitted for prefetch in one call than allowed. Split them over several calls.",
	},
	{
		Code:        "LimitExceeded.CdnPushExceedDayLimit",
		Category:    QuotaExceeded,
		Retryable:   false,
		Description: "Today's prefetch quota is used up, so retrying today will not help. Check usage with DescribePushQuota and wait for the quota to reset the next day.",
	},
	{
		Code:        "LimitExceeded.CdnQueryIpBatchTooMany",
		Category:    InvalidParameter,
		Retryable:   false,
		Description: "More IP addresses were submitted in one ownership query than allowed. Split them over several calls.",
	},
	{
		Code:        "LimitExceeded.CdnUserTooManyHosts",
		Category:    QuotaExceeded,
		Retryable:   false,
		Description: "The account has reached its maximum number of domains. Delete unused domains, or open a ticket to raise the limit.",
	},
	{
		Code:        "LimitExceeded.ClsLogSizeExceed",
		Category:    InvalidParameter,
		Retryable:   false,
		Description: "The log data is larger than CLS allows in one call. Send less, for example by narrowing the time range.",
	},
	{
		Code:        "LimitExceeded.ClsLogsetExceed",
		Category:    QuotaExceeded,
		Retryable:   false,
		Description: "The maximum number of CLS logsets has been reached. Delete unused logsets first.",
	},
	{
		Code:        "LimitExceeded.ClsTopicExceed",
		Category:    QuotaExceeded,
		Retryable:   false,
		Description: "The maximum number of CLS topics has been reached. Delete unused topics first.",
	},
	{
		Code:        "LimitExceeded.SslCertRequestLimitExceeded",
		Category:    RateLimited,
		Retryable:   true,
		Description: "SSL certificate requests were sent too often. Slow down and retry later.",
	},
	{
		Code:        "MissingParameter",
		Category:    InvalidParameter,
		Retryable:   false,
		Description: "A required parameter is missing; the Message names it. Add it and send the request again.",
	},
	{
		Code:        "NoSuchProduct",
		Category:    Unsupported,
		Retryable:   false,
		Description: "The product (service) the request names does not exist. Check the API host and the service name, which for CDN is cdn.",
	},
	{
		Code:        "NoSuchVersion",
		Category:    Unsupported,
		Retryable:   false,
		Description: "The API version does not exist for this service. Use Version 2018-06-06 for CDN API 3.0.",
	},
	{
		Code:        "OperationDenied",
		Category:    PermissionDenied,
		Retryable:   false,
		Description: "The operation was denied; the Message gives the reason. It usually needs a change by the account owner or Tencent Cloud support.",
	},
	{
		Code:        "OperationDenied.CdnHostHasDDosRisk",
		Category:    InvalidState,
		Retryable:   false,
		Description: "The domain is under a large DDoS attack and cannot be added now. Wait until the attack has stopped, or open a ticket.",
	},
	{
		Code:        "OperationDenied.ProductUpdating",
		Category:    InvalidState,
		Retryable:   false,
		Description: "The domain is being upgraded to EdgeOne, and configuration changes are blocked meanwhile. Once the upgrade completes, manage the domain in EdgeOne.",
	},
	{
		Code:        "OperationDenied.ProductUpgraded",
		Category:    InvalidState,
		Retryable:   false,
		Description: "This CDN service has been upgraded to the EdgeOne platform, so the CDN API refuses the action. Use the EdgeOne console or API instead.",
	},
	{
		Code:        "OperationDenied.ShareCacheAreaDnsNotMatch",
		Category:    InvalidParameter,
		Retryable:   false,
		Description: "The target domain runs on a different platform from the source domain, so they cannot share a cache. Choose a domain on the same platform, or open a ticket.",
	},
	{
		Code:        "OperationDenied.UserMigrating",
		Category:    InvalidState,
		Retryable:   false,
		Description: "The account is being migrated to EdgeOne, and the action is refused meanwhile. Once the migration completes, manage the domains in EdgeOne.",
	},
	{
		Code:        "RequestLimitExceeded",
		Category:    RateLimited,
		Retryable:   true,
		Description: "The request rate limit for this action was exceeded. Slow down and retry with exponential backoff.",
	},
	{
		Code:        "RequestLimitExceeded.GlobalRegionUinLimitExceeded",
		Category:    RateLimited,
		Retryable:   true,
		Description: "The account-wide request rate limit across all regions was exceeded. Slow down and retry with exponential backoff.",
	},
	{
		Code:        "RequestLimitExceeded.IPLimitExceeded",
		Category:    RateLimited,
		Retryable:   true,
		Description: "The request rate limit for the caller's IP address was exceeded. Slow down and retry with exponential backoff.",
	},
	{
		Code:        "RequestLimitExceeded.UinLimitExceeded",
		Category:    RateLimited,
		Retryable:   true,
		Description: "The account's request rate limit was exceeded. Slow down and retry with exponential backoff.",
	},
	{
		Code:        "RequestSizeLimitExceeded",
		Category:    InvalidParameter,
		Retryable:   false,
		Description: "The request body is larger than allowed. Send less data per call, for example by splitting a batch.",
	},
	{
		Code:        "ResourceInUse",
		Category:    InvalidState,
		Retryable:   true,
		Description: "The resource is in use or busy. Retry after a while; if the Message names a conflict rather than a busy resource, resolve it first.",
	},
	{
		Code:        "ResourceInUse.CdnConflictHostExists",
		Category:    AlreadyExists,
		Retryable:   false,
		Description: "The domain conflicts with a domain that already exists in the system. Check for the same or an overlapping wildcard domain, or open a ticket.",
	},
	{
		Code:        "ResourceInUse.CdnHostExists",
		Category:    AlreadyExists,
		Retryable:   false,
		Description: "The domain has already been added to CDN. Manage the existing domain instead of adding it again.",
	},
	{
		Code:        "ResourceInUse.CdnOpInProgress",
		Category:    InvalidState,
		Retryable:   true,
		Description: "Another operation on this domain is still in progress. Wait for it to finish, then retry.",
	},
	{
		Code:        "ResourceInUse.TcbHostExists",
		Category:    AlreadyExists,
		Retryable:   false,
		Description: "The domain has already been added through Tencent CloudBase (TCB). Remove it there before adding it to CDN.",
	},
	{
		Code:        "ResourceInsufficient",
		Category:    Unavailable,
		Retryable:   true,
		Description: "Tencent does not have enough resources to serve the request right now. Retry later; if it persists, open a ticket with the RequestId.",
	},
	{
		Code:        "ResourceNotFound",
		Category:    NotFound,
		Retryable:   false,
		Description: "The resource named in the request does not exist. Check the identifier and which account's key signs the request.",
	},
	{
		Code:        "ResourceNotFound.CamTagKeyNotExist",
		Category:    NotFound,
		Retryable:   false,
		Description: "The tag key does not exist. Create it in the tag console, or correct the key.",
	},
	{
		Code:        "ResourceNotFound.CdnHostNotExists",
		Category:    NotFound,
		Retryable:   false,
		Description: "The domain is not in this account's CDN. Check the domain name and which account's key signs the request.",
	},
	{
		Code:        "ResourceNotFound.CdnProjectNotExists",
		Category:    NotFound,
		Retryable:   false,
		Description: "The project does not exist. Check the project ID.",
	},
	{
		Code:        "ResourceNotFound.CdnUserNotExists",
		Category:    NotFound,
		Retryable:   false,
		Description: "The CDN service has not been activated for this account. Activate CDN in the Tencent Cloud console first.",
	},
	{
		Code:        "ResourceNotFound.CdnUserTooManyHosts",
		Category:    QuotaExceeded,
		Retryable:   false,
		Description: "Despite the ResourceNotFound family, this means the account has reached its maximum number of domains. Delete unused domains, or open a ticket to raise the limit.",
	},
	{
		Code:        "ResourceNotFound.ClsIndexNotExist",
		Category:    NotFound,
		Retryable:   false,
		Description: "The CLS index does not exist. Create it first, or check the topic ID.",
	},
	{
		Code:        "ResourceNotFound.ClsLogsetNotExist",
		Category:    NotFound,
		Retryable:   false,
		Description: "The CLS logset does not exist. Check the logset ID.",
	},
	{
		Code:        "ResourceNotFound.ClsTopicNotExist",
		Category:    NotFound,
		Retryable:   false,
		Description: "The CLS topic does not exist. Check the topic ID.",
	},
	{
		Code:        "ResourceNotFound.EcdnDomainNotExists",
		Category:    NotFound,
		Retryable:   false,
		Description: "The ECDN domain does not exist. Check the domain name.",
	},
	{
		Code:        "ResourceUnavailable",
		Category:    InvalidState,
		Retryable:   false,
		Description: "The resource is not available for this operation in its current state; the Message says why. Check the resource's status before sending the request again.",
	},
	{
		Code:        "ResourceUnavailable.CdnHostBelongsToOthersInMainland",
		Category:    AlreadyExists,
		Retryable:   false,
		Description: "The domain is already served in the Chinese mainland area by another account. To serve it globally from this account, verify ownership of the domain to reclaim it.",
	},
	{
		Code:        "ResourceUnavailable.CdnHostBelongsToOthersInOverseas",
		Category:    AlreadyExists,
		Retryable:   false,
		Description: "The domain is already served outside the Chinese mainland by another account. To serve it globally from this account, verify ownership of the domain to reclaim it.",
	},
	{
		Code:        "ResourceUnavailable.CdnHostExistsInDsa",
		Category:    AlreadyExists,
		Retryable:   false,
		Description: "The domain is already added to Dynamic Site Acceleration (DSA). Remove it there before adding it to CDN.",
	},
	{
		Code:        "ResourceUnavailable.CdnHostExistsInTcb",
		Category:    AlreadyExists,
		Retryable:   false,
		Description: "The domain is already added through the Tencent CloudBase (TCB) console. Remove it there before adding it to CDN.",
	},
	{
		Code:        "ResourceUnavailable.CdnHostIsLocked",
		Category:    InvalidState,
		Retryable:   false,
		Description: "The domain is locked and cannot be changed. Open a ticket to learn why and to have it unlocked.",
	},
	{
		Code:        "ResourceUnavailable.CdnHostIsMalicious",
		Category:    Compliance,
		Retryable:   false,
		Description: "The domain is flagged as non-compliant or risky and cannot be added. Contact Tencent Cloud support if the flag is wrong.",
	},
	{
		Code:        "ResourceUnavailable.CdnHostIsNotOffline",
		Category:    InvalidState,
		Retryable:   false,
		Description: "The domain is still online. Stop it with StopCdnDomain, wait until it is offline, then send the request again.",
	},
	{
		Code:        "ResourceUnavailable.CdnHostIsNotOnline",
		Category:    InvalidState,
		Retryable:   false,
		Description: "The domain is offline, so the request (for example a prefetch) is refused. Start it with StartCdnDomain first.",
	},
	{
		Code:        "ResourceUnavailable.CdnHostNoIcp",
		Category:    Compliance,
		Retryable:   false,
		Description: "The domain has no ICP filing on record. File it first; a new filing can take up to 2 hours to reach CDN, so send the request again after that.",
	},
	{
		Code:        "ResourceUnavailable.CheckUserHighRisk",
		Category:    Compliance,
		Retryable:   false,
		Description: "The account is flagged as a compliance risk, and the operation is refused. Contact Tencent Cloud support.",
	},
	{
		Code:        "ResourceUnavailable.HostExistInVod",
		Category:    AlreadyExists,
		Retryable:   false,
		Description: "The domain is already added in VOD. Delete it from VOD before adding it to CDN.",
	},
	{
		Code:        "ResponseSizeLimitExceeded",
		Category:    InvalidParameter,
		Retryable:   false,
		Description: "The response would be larger than allowed. Ask for less, for example a shorter time range or a smaller page.",
	},
	{
		Code:        "ServiceUnavailable",
		Category:    Unavailable,
		Retryable:   true,
		Description: "The service is temporarily unavailable. Retry after a short wait, with backoff.",
	},
	{
		Code:        "UnauthorizedOperation",
		Category:    PermissionDenied,
		Retryable:   false,
		Description: "The caller is not authorized for this operation. Check the CAM policies of the user or role and the account's status.",
	},
	{
		Code:        "UnauthorizedOperation.CdnAccountUnauthorized",
		Category:    PermissionDenied,
		Retryable:   false,
		Description: "The sub-account may not query account-wide data. Name specific domains in the query, or grant the sub-account access to all domains.",
	},
	{
		Code:        "UnauthorizedOperation.CdnCamUnauthorized",
		Category:    PermissionDenied,
		Retryable:   false,
		Description: "The sub-account has no CAM policy for this CDN action. Ask the root account to grant one.",
	},
	{
		Code:        "UnauthorizedOperation.CdnClsNotRegistered",
		Category:    PermissionDenied,
		Retryable:   false,
		Description: "The account is not authorized to use CLS from CDN. Authorize CDN for CLS in the console first.",
	},
	{
		Code:        "UnauthorizedOperation.CdnDomainRecordNotVerified",
		Category:    Compliance,
		Retryable:   false,
		Description: "Ownership of the domain has not been verified. Add the DNS TXT record or verification file as instructed, then verify again.",
	},
	{
		Code:        "UnauthorizedOperation.CdnHostExistsInInternal",
		Category:    AlreadyExists,
		Retryable:   false,
		Description: "The domain already exists in Tencent's system and cannot be added this way. Open a ticket.",
	},
	{
		Code:        "UnauthorizedOperation.CdnHostInIcpBlacklist",
		Category:    Compliance,
		Retryable:   false,
		Description: "The domain is on a compliance blocklist and cannot be added. Contact Tencent Cloud support if this is wrong.",
	},
	{
		Code:        "UnauthorizedOperation.CdnHostIsOwnedByOther",
		Category:    PermissionDenied,
		Retryable:   false,
		Description: "The domain belongs to another account, so this one may not add it. Use the owning account, or verify ownership of the domain to reclaim it.",
	},
	{
		Code:        "UnauthorizedOperation.CdnHostIsToApplyHost",
		Category:    PermissionDenied,
		Retryable:   false,
		Description: "This domain can only be added after an application. Open a ticket to request it.",
	},
	{
		Code:        "UnauthorizedOperation.CdnHostIsUsedByOther",
		Category:    AlreadyExists,
		Retryable:   false,
		Description: "The domain has already been added by another account. Remove it there, or verify ownership or open a ticket to reclaim it.",
	},
	{
		Code:        "UnauthorizedOperation.CdnHostUnauthorized",
		Category:    PermissionDenied,
		Retryable:   false,
		Description: "The sub-account has no access to this domain. Ask the root account to grant it.",
	},
	{
		Code:        "UnauthorizedOperation.CdnInvalidUserStatus",
		Category:    PermissionDenied,
		Retryable:   false,
		Description: "The account's status does not allow use of the CDN service. Check the account in the console or contact Tencent Cloud support.",
	},
	{
		Code:        "UnauthorizedOperation.CdnProjectUnauthorized",
		Category:    PermissionDenied,
		Retryable:   false,
		Description: "The sub-account has no access to this project. Ask the root account to grant it.",
	},
	{
		Code:        "UnauthorizedOperation.CdnTagUnauthorized",
		Category:    PermissionDenied,
		Retryable:   false,
		Description: "The sub-account has no access to this tag. Ask the root account to grant it.",
	},
	{
		Code:        "UnauthorizedOperation.CdnTxtRecordValueNotMatch",
		Category:    Compliance,
		Retryable:   false,
		Description: "The DNS TXT record does not hold the expected verification value. Correct the record, wait for DNS to update, then verify again.",
	},
	{
		Code:        "UnauthorizedOperation.CdnUserAuthFail",
		Category:    Compliance,
		Retryable:   false,
		Description: "The account's identity verification (real-name authentication) failed. Complete identity verification in the console.",
	},
	{
		Code:        "UnauthorizedOperation.CdnUserAuthWait",
		Category:    Compliance,
		Retryable:   false,
		Description: "The account's identity verification is still pending review. Wait until it is approved, then send the request again.",
	},
	{
		Code:        "UnauthorizedOperation.CdnUserInvalidCredential",
		Category:    InternalError,
		Retryable:   true,
		Description: "Tencent's service failed internally while checking the user's credential, despite the UnauthorizedOperation family. Retry after a short wait; if it persists, open a ticket with the RequestId.",
	},
	{
		Code:        "UnauthorizedOperation.CdnUserIsIsolated",
		Category:    Billing,
		Retryable:   false,
		Description: "The account is isolated because of overdue payments. Pay the outstanding bill, then send the request again.",
	},
	{
		Code:        "UnauthorizedOperation.CdnUserIsSuspended",
		Category:    InvalidState,
		Retryable:   false,
		Description: "The CDN service is suspended for this account. Restart the service in the console, then send the request again.",
	},
	{
		Code:        "UnauthorizedOperation.CdnUserNoWhitelist",
		Category:    PermissionDenied,
		Retryable:   false,
		Description: "This feature is open only to allowlisted (beta) users. Apply for access, or open a ticket.",
	},
	{
		Code:        "UnauthorizedOperation.ClsInvalidAuthorization",
		Category:    PermissionDenied,
		Retryable:   false,
		Description: "The CLS authorization is invalid. Authorize CDN for CLS again in the console.",
	},
	{
		Code:        "UnauthorizedOperation.ClsServiceNotActivated",
		Category:    InvalidState,
		Retryable:   false,
		Description: "CLS is not activated for this account. Activate it in the CLS console first.",
	},
	{
		Code:        "UnauthorizedOperation.ClsUnauthorized",
		Category:    PermissionDenied,
		Retryable:   false,
		Description: "CLS refused the authorization. Check the CLS permissions of the user or role.",
	},
	{
		Code:        "UnauthorizedOperation.CsrfError",
		Category:    InternalError,
		Retryable:   true,
		Description: "Tencent's service failed an internal request check (CSRF), despite the UnauthorizedOperation family. Retry after a short wait; if it persists, open a ticket with the RequestId.",
	},
	{
		Code:        "UnauthorizedOperation.EcdnMigratedCdn",
		Category:    InvalidState,
		Retryable:   false,
		Description: "The account's ECDN domains have been migrated to CDN. Use the CDN console and CDN API actions instead of the ECDN ones.",
	},
	{
		Code:        "UnauthorizedOperation.OpNoAuth",
		Category:    PermissionDenied,
		Retryable:   false,
		Description: "This operation is not enabled for the account. Open a ticket to have it enabled.",
	},
	{
		Code:        "UnauthorizedOperation.OperationTooOften",
		Category:    RateLimited,
		Retryable:   true,
		Description: "Calls were sent too often. Slow down and retry after a short wait, with backoff.",
	},
	{
		Code:        "UnauthorizedOperation.Unknown",
		Category:    PermissionDenied,
		Retryable:   false,
		Description: "The operation was not authorized, and no specific reason was given. Check the CAM policies and the account's status, or open a ticket.",
	},
	{
		Code:        "UnknownParameter",
		Category:    InvalidParameter,
		Retryable:   false,
		Description: "The request contains a parameter the action does not know. Remove it, or fix its spelling and case.",
	},
	{
		Code:        "UnsupportedOperation",
		Category:    Unsupported,
		Retryable:   false,
		Description: "The operation is not supported; the Message may say why. Check the action's documentation.",
	},
	{
		Code:        "UnsupportedOperation.ClsNotAllowed",
		Category:    Unsupported,
		Retryable:   false,
		Description: "This CLS operation is not allowed for CDN logs. Check the action's documentation, or open a ticket.",
	},
	{
		Code:        "UnsupportedOperation.OpNoAuth",
		Category:    Unsupported,
		Retryable:   false,
		Description: "This operation is not supported for the account at present. Open a ticket for help.",
	},
	{
		Code:        "UnsupportedProtocol",
		Category:    Unsupported,
		Retryable:   false,
		Description: "The request protocol or method is not supported. Send the call as GET or POST over HTTPS.",
	},
	{
		Code:        "UnsupportedRegion",
		Category:    Unsupported,
		Retryable:   false,
		Description: "The API does not support the region named in the request. Use a supported region; CDN actions are global and usually need no Region.",
	},
}
