package annotate_test

import (
	"bytes"
	"testing"
	"time"

	"github.com/cdnproxy/cdnproxy/annotate"
)

// at is 2024-03-01 23:59:30 in Shanghai (15:59:30 UTC): 30 s before the
// daily quotas reset.
var at = time.Date(2024, 3, 1, 15, 59, 30, 0, time.UTC)

func TestBodyAtRetryAfter(t *testing.T) {
	tests := []struct {
		name, body, want string
		retryAfter       int
	}{
		{"3.0 rate limit", `{"Response":{"Error":{"Code":"RequestLimitExceeded","Message":"m"},"RequestId":"r"}}`,
			`"RetryAfter":1}`, 1},
		{"3.0 OperationTooOften is a rate limit", `{"Response":{"Error":{"Code":"UnauthorizedOperation.OperationTooOften","Message":"m"}}}`,
			`"RetryAfter":1}`, 1},
		{"3.0 day limit", `{"Response":{"Error":{"Code":"LimitExceeded.CdnPurgeUrlExceedDayLimit","Message":"m"}}}`,
			`"RetryAfter":30}`, 30},
		{"2.0 per-minute 4400", `{"code":4400,"message":"m","codeDesc":"RequestLimitExceeded"}`,
			`"retryAfter":60}`, 60},
		{"2.0 daily module code", `{"code":4400,"message":"(22044)URL 刷新数目超出单日限额","codeDesc":"22044"}`,
			`"moduleCode":22044,"retryAfter":30}`, 30},
		{"2.0 made from a 3.0 rate limit", `{"code":4400,"message":"m","codeDesc":"RequestLimitExceeded","v3Code":"RequestLimitExceeded"}`,
			`"retryAfter":60}`, 60},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, res := annotate.BodyAt([]byte(tt.body), at)
			if res.RetryAfter != tt.retryAfter || !bytes.Contains(out, []byte(tt.want)) {
				t.Errorf("BodyAt = %s, RetryAfter %d; want %s in it, %d", out, res.RetryAfter, tt.want, tt.retryAfter)
			}
			if plain, _ := annotate.Body([]byte(tt.body)); bytes.Contains(bytes.ToLower(plain), []byte("retryafter")) {
				t.Errorf("Body added a retry hint: %s", plain)
			}
		})
	}
}

func TestBodyAtNoHint(t *testing.T) {
	for _, body := range []string{
		`{"Response":{"Error":{"Code":"LimitExceeded.CdnPurgeUrlExceedBatchLimit","Message":"m"}}}`, // split the batch
		`{"code":4000,"message":"(22043)URL 刷新数目超出单次限制","codeDesc":"22043"}`,
		`{"Response":{"Error":{"Code":"LimitExceeded.CamUserTooManyTagKey","Message":"m"}}}`, // a quota, not a daily one
		`{"code":0,"message":"","codeDesc":"Success"}`,
		`not json`,
	} {
		out, res := annotate.BodyAt([]byte(body), at)
		if res.RetryAfter != 0 || bytes.Contains(bytes.ToLower(out), []byte("retryafter")) {
			t.Errorf("BodyAt(%s) = %s, RetryAfter %d; want no hint", body, out, res.RetryAfter)
		}
	}
}

// A body that already carries every member, retryAfter included, is sent
// on byte for byte.
func TestBodyAtKeepsComplete(t *testing.T) {
	body := []byte(`{"Response":{"Error":{"Code":"RequestLimitExceeded","Message":"m","Category":"x","Retryable":true,"Description":"d","RetryAfter":7}}}`)
	out, res := annotate.BodyAt(body, at)
	if &out[0] != &body[0] || res.RetryAfter != 1 {
		t.Errorf("BodyAt changed a complete body: %s (%d)", out, res.RetryAfter)
	}
}

func TestNextShanghaiMidnight(t *testing.T) {
	tests := []struct {
		now  time.Time
		want time.Time
		date string
	}{
		{at, time.Date(2024, 3, 1, 16, 0, 0, 0, time.UTC), "2024-03-01"},
		{time.Date(2024, 3, 1, 16, 0, 0, 0, time.UTC), time.Date(2024, 3, 2, 16, 0, 0, 0, time.UTC), "2024-03-02"},
		{time.Date(2024, 2, 28, 17, 0, 0, 0, time.UTC), time.Date(2024, 2, 29, 16, 0, 0, 0, time.UTC), "2024-02-29"},
	}
	for _, tt := range tests {
		if got := annotate.NextShanghaiMidnight(tt.now); !got.Equal(tt.want) {
			t.Errorf("NextShanghaiMidnight(%v) = %v, want %v", tt.now, got, tt.want)
		}
		if got := annotate.ShanghaiDate(tt.now); got != tt.date {
			t.Errorf("ShanghaiDate(%v) = %s, want %s", tt.now, got, tt.date)
		}
	}
}

func TestSeconds(t *testing.T) {
	for d, want := range map[time.Duration]int{0: 1, time.Millisecond: 1, time.Second: 1, 1001 * time.Millisecond: 2, time.Minute: 60} {
		if got := annotate.Seconds(d); got != want {
			t.Errorf("Seconds(%v) = %d, want %d", d, got, want)
		}
	}
}

func TestWithRetryAfter(t *testing.T) {
	tests := []struct{ body, want string }{
		{`{"code":4400,"message":"m","codeDesc":"RequestLimitExceeded","category":"rate_limited","retryable":true,"description":"d"}`,
			`{"code":4400,"message":"m","codeDesc":"RequestLimitExceeded","category":"rate_limited","retryable":true,"description":"d","retryAfter":3}`},
		{`{"Response":{"Error":{"Code":"RequestLimitExceeded","Message":"m","Category":"rate_limited","Retryable":true,"Description":"d"}}}`,
			`{"Response":{"Error":{"Code":"RequestLimitExceeded","Message":"m","Category":"rate_limited","Retryable":true,"Description":"d","RetryAfter":3}}}`},
		{`{"code":0}`, `{"code":0}`},
	}
	for _, tt := range tests {
		if got := annotate.WithRetryAfter([]byte(tt.body), 3); string(got) != tt.want {
			t.Errorf("WithRetryAfter(%s) = %s, want %s", tt.body, got, tt.want)
		}
	}
}
