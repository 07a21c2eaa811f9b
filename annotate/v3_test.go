package annotate_test

import (
	"bytes"
	"testing"

	"github.com/cdnproxy/cdnproxy/annotate"
	"github.com/cdnproxy/cdnproxy/codes"
)

// v3Tests are API 3.0 bodies, in the shape of the reference's examples.
var v3Tests = []struct {
	name      string
	body      string
	kind      annotate.Kind
	code      string
	source    annotate.Source
	category  codes.Category
	retryable bool
	requestID string
	want      string // the whole annotated body, when checked exactly
}{
	{
		name: "daily purge quota", kind: annotate.Failure,
		body: `{"Response":{"Error":{"Code":"LimitExceeded.CdnPurgeUrlExceedDayLimit","Message":"刷新URL超出当日限额"},"RequestId":"6ef60bec-0242-43af-bb20-270359fb54a7"}}`,
		code: "LimitExceeded.CdnPurgeUrlExceedDayLimit", source: annotate.FromV3Code,
		category: codes.QuotaExceeded, retryable: false, requestID: "6ef60bec-0242-43af-bb20-270359fb54a7",
	},
	{
		name: "signature expired", kind: annotate.Failure,
		body: `{"Response":{"RequestId":"r1","Error":{"Code":"AuthFailure.SignatureExpire","Message":"签名过期"}}}`,
		code: "AuthFailure.SignatureExpire", source: annotate.FromV3Code,
		category: codes.RequestExpired, retryable: true, requestID: "r1",
	},
	{
		name: "rate limited", kind: annotate.Failure,
		body: `{"Response":{"Error":{"Code":"RequestLimitExceeded","Message":"请求的次数超过了频率限制"},"RequestId":"r2"}}`,
		code: "RequestLimitExceeded", source: annotate.FromV3Code,
		category: codes.RateLimited, retryable: true, requestID: "r2",
	},
	{
		name: "unknown member of a known family", kind: annotate.Failure,
		body: `{"Response":{"Error":{"Code":"LimitExceeded.SomethingNew","Message":"x"},"RequestId":"r3"}}`,
		code: "LimitExceeded.SomethingNew", source: annotate.FromV3Family,
		category: codes.QuotaExceeded, requestID: "r3",
	},
	{
		name: "unknown code", kind: annotate.Failure,
		body: `{"Response":{"Error":{"Code":"Whatever","Message":"x"},"RequestId":"r4"}}`,
		code: "Whatever", source: annotate.FromNone, category: codes.Unknown, requestID: "r4",
		want: `{"Response":{"Error":{"Code":"Whatever","Message":"x","Category":"unknown","Retryable":false,"Description":"` + annotate.UnknownDescription + `"},"RequestId":"r4"}}`,
	},
	{
		name: "existing members kept", kind: annotate.Failure,
		body: `{"Response":{"Error":{"Code":"InternalError","Message":"x","Retryable":"maybe"},"RequestId":"r5"}}`,
		code: "InternalError", source: annotate.FromV3Code, category: codes.InternalError, retryable: true, requestID: "r5",
	},
	{name: "success", kind: annotate.Success, body: `{"Response":{"RequestId":"4d5a83f8","TaskId":"1533045796-i60rfmzm"}}`, requestID: "4d5a83f8"},
	{name: "two Errors", kind: annotate.Other, body: `{"Response":{"Error":{"Code":"A"},"Error":{"Code":"B"}}}`},
	{name: "Code not a string", kind: annotate.Other, body: `{"Response":{"Error":{"Code":4000}}}`},
	{name: "empty Code", kind: annotate.Other, body: `{"Response":{"Error":{"Code":""}}}`},
	{name: "Error not an object", kind: annotate.Other, body: `{"Response":{"Error":"x"}}`},
	{name: "Response not an object", kind: annotate.Other, body: `{"Response":[1]}`},
	{name: "both generations", kind: annotate.Other, body: `{"code":4000,"Response":{"Error":{"Code":"A"}}}`},
	{name: "two Responses", kind: annotate.Other, body: `{"Response":{},"Response":{"Error":{"Code":"A"}}}`},
	{name: "invalid JSON inside", kind: annotate.Other, body: `{"Response":{"Error":{"Code":"A","x":tru}}}`},
}

func TestBodyV3(t *testing.T) {
	for _, tt := range v3Tests {
		t.Run(tt.name, func(t *testing.T) {
			in := []byte(tt.body)
			out, res, err := checkBody(in)
			if err != nil {
				t.Fatal(err)
			}
			if res.Kind != tt.kind {
				t.Fatalf("Kind = %v, want %v", res.Kind, tt.kind)
			}
			if tt.kind != annotate.Failure {
				if !bytes.Equal(out, in) {
					t.Errorf("body changed: %s", out)
				}
				if got := res.RequestID(); got != tt.requestID {
					t.Errorf("RequestID() = %q, want %q", got, tt.requestID)
				}
				return
			}
			if res.Generation != 3 || res.ErrorCode != tt.code || res.CodeText() != tt.code || res.Source != tt.source ||
				res.Category != tt.category || res.Retryable != tt.retryable || res.RequestID() != tt.requestID {
				t.Errorf("Result = %+v (RequestID %q), want code %q source %v category %s retryable %v request id %q",
					res, res.RequestID(), tt.code, tt.source, tt.category, tt.retryable, tt.requestID)
			}
			if res.Known() != (tt.source == annotate.FromV3Code) {
				t.Errorf("Known() = %v for source %v", res.Known(), tt.source)
			}
			if tt.want != "" && string(out) != tt.want {
				t.Errorf("Body =\n%s\nwant\n%s", out, tt.want)
			}
			if v := annotate.Decide(in); v != annotate.Buffer {
				t.Errorf("Decide = %v, want buffer", v)
			}
		})
	}
}

func TestDecideV3Prefixes(t *testing.T) {
	for _, tt := range []struct {
		prefix string
		want   annotate.Verdict
	}{
		{`{"Response":`, annotate.NeedMore},
		{`{"Response":{"RequestId":"ab`, annotate.NeedMore},
		{`{"Response":{"Error":`, annotate.Buffer},
		{`{"Response":{"Error":{"Co`, annotate.Buffer},
		{`{"Response":{"RequestId":"a","Domains":[{"x":1}],"TotalNumber":1}`, annotate.Succeeded},
		{`{"Response":{"Domains":[` + `{"Domain":"a.example"},`, annotate.NeedMore},
		{`{"Response":"x"`, annotate.Pass},
	} {
		if got := annotate.Decide([]byte(tt.prefix)); got != tt.want {
			t.Errorf("Decide(%s) = %v, want %v", tt.prefix, got, tt.want)
		}
	}
}
