package annotate_test

import (
	"testing"

	"github.com/cdnproxy/cdnproxy/annotate"
)

func TestAmbiguous(t *testing.T) {
	for _, tt := range []struct {
		body string
		want bool
	}{
		{`{"code":0,"message":"","code":4000}`, true},
		{`{"code":4000,"\u0063ode":0}`, true},
		{`{"Response":{"RequestId":"a"},"Response":{"Error":{"Code":"X"}}}`, true},
		{`{"code":0,"data":{"code":4000}}`, false}, // nested: not the top level
		{`{"code":4000,"message":"x"}`, false},
		{`{"code":0,"code":4000,"data":`, true}, // two already, whatever follows
		{`not json`, false},
		{``, false},
	} {
		if got := annotate.Ambiguous([]byte(tt.body)); got != tt.want {
			t.Errorf("Ambiguous(%s) = %v, want %v", tt.body, got, tt.want)
		}
	}
}
