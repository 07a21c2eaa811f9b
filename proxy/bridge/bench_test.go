package bridge

import (
	"context"
	"testing"
)

// BenchmarkRefreshCdnUrl measures a bridged RefreshCdnUrl of ten URLs with
// a fake Doer, answered with success and with a 3.0 error.
func BenchmarkRefreshCdnUrl(b *testing.B) {
	query := "Action=RefreshCdnUrl"
	for i := range 10 {
		query += "&urls." + string(rune('0'+i)) + "=https://www.test.com/static/app." + string(rune('a'+i)) + ".js"
	}
	p := params(b, query)
	for _, bc := range []struct{ name, answer string }{
		{"success", `{"Response":{"TaskId":"1533045796-i60rfmzm","RequestId":"4d5a83f8-0001"}}`},
		{"error", `{"Response":{"Error":{"Code":"LimitExceeded.CdnPurgeUrlExceedDayLimit","Message":"daily quota used up"},"RequestId":"4d5a83f8-0002"}}`},
	} {
		b.Run(bc.name, func(b *testing.B) {
			answer := []byte(bc.answer)
			do := func(context.Context, string, []byte) (int, []byte, error) { return 200, answer, nil }
			br := New()
			ctx := context.Background()
			b.ReportAllocs()
			for b.Loop() {
				if _, err := br.Serve(ctx, do, p); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
