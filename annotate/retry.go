package annotate

import (
	"strings"
	"time"

	"github.com/cdnproxy/cdnproxy/codes"
)

// When to retry. BodyAt adds "retryAfter" (API 2.0, next to "retryable")
// or "RetryAfter" (API 3.0, inside Response.Error) to the failures whose
// wait is known: the seconds until a rate limit lets the next call through,
// or until a daily quota resets. "retryable" keeps its meaning (a later
// attempt of the same call can succeed at all); retryAfter, when present,
// says when. Batch-size errors get none: the description says to split
// the batch, and waiting does not help.

// Shanghai is the time zone Tencent's daily quotas reset in: UTC+8, with
// no daylight saving, so a fixed zone needs no time zone database.
var shanghai = time.FixedZone("Asia/Shanghai", 8*60*60)

// ShanghaiDate returns the date in Asia/Shanghai at t, as 2006-01-02: the
// day a daily quota is counted in.
func ShanghaiDate(t time.Time) string { return t.In(shanghai).Format(time.DateOnly) }

// NextShanghaiMidnight returns the next 00:00 Asia/Shanghai after t, when
// Tencent's daily quotas reset.
func NextShanghaiMidnight(t time.Time) time.Time {
	s := t.In(shanghai)
	return time.Date(s.Year(), s.Month(), s.Day()+1, 0, 0, 0, 0, shanghai)
}

// Seconds rounds a wait up to whole seconds, at least 1, as Retry-After
// and retryAfter carry it.
func Seconds(d time.Duration) int {
	s := int((d + time.Second - 1) / time.Second)
	return max(s, 1)
}

// The waits the API's rate limits imply: API 3.0 counts calls a second,
// API 2.0 counted them a minute (its 4400).
const (
	rateWaitV3 = 1
	rateWaitV2 = 60
)

// dailyModules are API 2.0's module codes for a daily quota used up.
var dailyModules = [...]int{21000, 22044, 22046, 23101}

// RetryAfter returns the seconds a caller should wait before sending a
// failed call again, 0 when unknown or when waiting does not help: 1 for
// an API 3.0 rate limit (also when a 2.0 answer was made from one), 60
// for API 2.0's per-minute 4400, and the seconds to the next 00:00
// Asia/Shanghai for a daily quota.
func RetryAfter(res Result, now time.Time) int {
	if res.Kind != Failure {
		return 0
	}
	if Daily(res) {
		return Seconds(NextShanghaiMidnight(now).Sub(now))
	}
	if res.Category != codes.RateLimited {
		return 0
	}
	if res.Generation == 3 || res.ErrorCode != "" {
		return rateWaitV3
	}
	return rateWaitV2
}

// Daily reports whether a failure is a daily quota used up, which resets
// at 00:00 Asia/Shanghai.
func Daily(res Result) bool {
	if res.Category != codes.QuotaExceeded {
		return false
	}
	if res.ErrorCode != "" {
		return strings.HasSuffix(res.ErrorCode, "DayLimit")
	}
	for _, m := range dailyModules {
		if res.HasModuleCode && res.ModuleCode == m {
			return true
		}
	}
	return false
}

// retryAfter is a failure's RetryAfter: seconds when over 0, else the
// wait known at now, else (now zero: Body) none.
func retryAfter(res Result, now time.Time, seconds int) int {
	switch {
	case seconds > 0:
		return seconds
	case now.IsZero():
		return 0
	}
	return RetryAfter(res, now)
}
