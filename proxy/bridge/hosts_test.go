package bridge

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"testing"
)

// fakeDomains returns a DescribeDomainsConfig answer holding domains
// offset … offset+limit-1 of total, named d<i>.test.com with ResourceId
// cdn-<i>.
func fakeDomains(offset, limit, total int) []byte {
	var ds []string
	for i := offset; i < offset+limit && i < total; i++ {
		ds = append(ds, domain("cdn-"+strconv.Itoa(i), "d"+strconv.Itoa(i)+".test.com", "online"))
	}
	return []byte(`{"Response":{"Domains":[` + strings.Join(ds, ",") + `],"TotalNumber":` + strconv.Itoa(total) + `,"RequestId":"r-` + strconv.Itoa(offset) + `"}}`)
}

// account is a fake 3.0 account with total domains: it answers
// DescribeDomainsConfig (pages, and resourceId filters) and
// StartCdnDomain, and records every call.
type account struct {
	total int
	calls []string // action and payload
}

func (a *account) do(_ context.Context, action string, payload []byte) (int, []byte, error) {
	a.calls = append(a.calls, action+" "+string(payload))
	switch action {
	case "DescribeDomainsConfig":
		var q struct {
			Offset, Limit int
			Filters       []domainFilter
		}
		if err := json.Unmarshal(payload, &q); err != nil {
			return 0, nil, err
		}
		if len(q.Filters) == 0 {
			return 200, fakeDomains(q.Offset, q.Limit, a.total), nil
		}
		var ds []string
		for _, v := range q.Filters[0].Value {
			i, _ := strconv.Atoi(strings.TrimPrefix(v, "cdn-"))
			ds = append(ds, domain(v, "d"+strconv.Itoa(i)+".test.com", "offline"))
		}
		return 200, []byte(`{"Response":{"Domains":[` + strings.Join(ds, ",") + `],"TotalNumber":` + strconv.Itoa(len(ds)) + `,"RequestId":"r-f"}}`), nil
	case "StartCdnDomain":
		return 200, []byte(`{"Response":{"RequestId":"r-start"}}`), nil
	}
	return 200, []byte(`{"Response":{"Error":{"Code":"InvalidAction","Message":"no"},"RequestId":"r-x"}}`), nil
}

// hostsOf decodes the hosts of a DescribeCdnHosts/GetHostInfo* answer.
func hostsOf(t *testing.T, body []byte) (ids []int64, names []string, total int) {
	t.Helper()
	var a struct {
		Data struct {
			Hosts []struct {
				ID     int64  `json:"id"`
				HostID int64  `json:"host_id"`
				Host   string `json:"host"`
			} `json:"hosts"`
			Total int `json:"total"`
		} `json:"data"`
	}
	if err := json.Unmarshal(body, &a); err != nil {
		t.Fatalf("%v: %s", err, body)
	}
	for _, h := range a.Data.Hosts {
		if h.ID != h.HostID || h.ID <= 0 || h.ID >= 1<<53 {
			t.Errorf("host %s: id %d, host_id %d", h.Host, h.ID, h.HostID)
		}
		ids, names = append(ids, h.ID), append(names, h.Host)
	}
	return ids, names, a.Data.Total
}

// TestHostIDRoundTrip lists the domains, looks one up by the id the list
// gave, and starts it by that id.
func TestHostIDRoundTrip(t *testing.T) {
	b, acct := New(), &account{total: 3}
	ctx := context.Background()
	res, err := b.Serve(ctx, acct.do, params(t, "Action=DescribeCdnHosts"))
	if err != nil || res.Failed {
		t.Fatalf("DescribeCdnHosts: %v %s", err, res.Body)
	}
	ids, names, total := hostsOf(t, res.Body)
	if total != 3 || len(ids) != 3 || names[1] != "d1.test.com" || ids[1] != HostID("cdn-1") {
		t.Fatalf("listed %v %v total %d", ids, names, total)
	}
	acct.calls = nil
	id := strconv.FormatInt(ids[1], 10)
	res, err = b.Serve(ctx, acct.do, params(t, "Action=GetHostInfoById&ids.0="+id))
	if err != nil || res.Failed {
		t.Fatalf("GetHostInfoById: %v %s", err, res.Body)
	}
	gotIDs, gotNames, _ := hostsOf(t, res.Body)
	if len(gotIDs) != 1 || gotIDs[0] != ids[1] || gotNames[0] != "d1.test.com" {
		t.Errorf("GetHostInfoById(%s) = %v %v", id, gotIDs, gotNames)
	}
	want := []string{`DescribeDomainsConfig {"Offset":0,"Limit":100,"Filters":[{"Name":"resourceId","Value":["cdn-1"]}]}`}
	if fmt.Sprint(acct.calls) != fmt.Sprint(want) {
		t.Errorf("calls = %v, want %v (no listing: the id is indexed)", acct.calls, want)
	}
	acct.calls = nil
	res, err = b.Serve(ctx, acct.do, params(t, "Action=OnlineHost&hostId="+id))
	if err != nil || res.Failed {
		t.Fatalf("OnlineHost: %v %s", err, res.Body)
	}
	if want := []string{`StartCdnDomain {"Domain":"d1.test.com"}`}; fmt.Sprint(acct.calls) != fmt.Sprint(want) {
		t.Errorf("calls = %v, want %v", acct.calls, want)
	}
}

// TestHostIDMiss checks that a Bridge that has not listed the domains
// lists them on the first unknown id, and answers 5000 (9110) for an id
// the account does not have, without starting anything.
func TestHostIDMiss(t *testing.T) {
	ctx := context.Background()
	acct := &account{total: 2}
	id := strconv.FormatInt(HostID("cdn-1"), 10)
	res, err := New().Serve(ctx, acct.do, params(t, "Action=OnlineHost&hostId="+id))
	if err != nil || res.Failed {
		t.Fatalf("OnlineHost: %v %s", err, res.Body)
	}
	want := []string{`DescribeDomainsConfig {"Offset":0,"Limit":100}`, `StartCdnDomain {"Domain":"d1.test.com"}`}
	if fmt.Sprint(acct.calls) != fmt.Sprint(want) {
		t.Errorf("calls = %v, want %v", acct.calls, want)
	}

	acct.calls = nil
	res, err = New().Serve(ctx, acct.do, params(t, "Action=OnlineHost&hostId=308902"))
	if err != nil {
		t.Fatal(err)
	}
	checkBody(t, res.Body, true)
	if res.Code != 5000 || res.ModuleCode != 9110 || res.V3Code != "" || len(acct.calls) != 1 {
		t.Errorf("unknown id: %s after calls %v", res.Body, acct.calls)
	}
}

// TestPagingAllDomains checks that DescribeCdnHosts without limit pages
// through 3.0's 100-domain pages and returns every domain.
func TestPagingAllDomains(t *testing.T) {
	for _, tc := range []struct {
		query              string
		total, want, calls int
	}{
		{"Action=DescribeCdnHosts", 250, 250, 3},
		{"Action=DescribeCdnHosts", 200, 200, 2},
		{"Action=DescribeCdnHosts&offset=150&limit=120", 250, 100, 1},
		{"Action=DescribeCdnHosts&offset=10&limit=150", 250, 150, 2},
		{"Action=DescribeCdnHosts&limit=0", 250, 0, 0},
	} {
		t.Run(fmt.Sprint(tc.query, "/", tc.total), func(t *testing.T) {
			acct := &account{total: tc.total}
			res, err := New().Serve(context.Background(), acct.do, params(t, tc.query))
			if err != nil || res.Failed {
				t.Fatalf("%v %s", err, res.Body)
			}
			ids, _, _ := hostsOf(t, res.Body)
			seen := map[int64]bool{}
			for _, id := range ids {
				seen[id] = true
			}
			if len(ids) != tc.want || len(seen) != tc.want || len(acct.calls) != tc.calls {
				t.Errorf("%d hosts (%d distinct) in %d calls, want %d in %d: %v", len(ids), len(seen), len(acct.calls), tc.want, tc.calls, acct.calls)
			}
		})
	}
}

// TestHostIDStable pins the id derivation: changing it would break every
// id a client has stored.
func TestHostIDStable(t *testing.T) {
	for rid, want := range map[string]int64{"cdn-abc123": 8519715023117259, "cdn-1": HostID("cdn-1")} {
		if got := HostID(rid); got != want || got <= 0 || got >= 1<<53 {
			t.Errorf("HostID(%q) = %d, want %d", rid, got, want)
		}
	}
	if HostID("cdn-1") == HostID("cdn-2") {
		t.Error("two resource ids share a host id")
	}
}
