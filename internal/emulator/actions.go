package emulator

import (
	"sort"
	"strconv"
	"strings"
)

// actionFunc carries out one action. It runs with Emulator.mu held.
type actionFunc func(e *Emulator, r *request) reply

// handler returns the function for an action, or nil for an action the
// emulator does not know (answered with 4000, as the API answers an
// unknown action).
func handler(action string) actionFunc {
	switch action {
	case "DescribeCdnHosts":
		return (*Emulator).describeCdnHosts
	case "GetHostInfoByHost":
		return (*Emulator).getHostInfoByHost
	case "AddCdnHost":
		return (*Emulator).addCdnHost
	case "OnlineHost":
		return (*Emulator).onlineHost
	case "OfflineHost":
		return (*Emulator).offlineHost
	case "DeleteCdnHost":
		return (*Emulator).deleteCdnHost
	case "RefreshCdnUrl":
		return (*Emulator).refreshCdnURL
	case "RefreshCdnDir":
		return (*Emulator).refreshCdnDir
	case "CdnPusherV2":
		return (*Emulator).cdnPusherV2
	case "CdnUrlPusher":
		return (*Emulator).cdnURLPusher
	case "GetCdnRefreshLog":
		return (*Emulator).getCdnRefreshLog
	case "GetCdnLogList":
		return (*Emulator).getCdnLogList
	}
	return nil
}

// Actions lists the actions the emulator carries out, sorted.
func Actions() []string {
	return []string{
		"AddCdnHost", "CdnPusherV2", "CdnUrlPusher", "DeleteCdnHost",
		"DescribeCdnHosts", "GetCdnLogList", "GetCdnRefreshLog",
		"GetHostInfoByHost", "OfflineHost", "OnlineHost", "RefreshCdnDir",
		"RefreshCdnUrl",
	}
}

// list returns the values of an array parameter written name.0, name.1,
// … (or name_0, …, which the API treats alike), in index order.
func (r *request) list(name string) []string {
	type item struct {
		index int
		value string
	}
	var items []item
	for _, p := range r.params {
		if len(p.Name) <= len(name)+1 || !strings.HasPrefix(p.Name, name) {
			continue
		}
		if sep := p.Name[len(name)]; sep != '.' && sep != '_' {
			continue
		}
		i, err := strconv.Atoi(p.Name[len(name)+1:])
		if err != nil || i < 0 {
			continue
		}
		items = append(items, item{i, p.Value})
	}
	sort.Slice(items, func(a, b int) bool { return items[a].index < items[b].index })
	values := make([]string, len(items))
	for i, it := range items {
		values[i] = it.value
	}
	return values
}

// intParam returns an integer parameter, def when absent; ok is false when
// it is present but not a non-negative integer.
func (r *request) intParam(name string, def int) (int, bool) {
	v, present := r.params.Get(name)
	if !present || v == "" {
		return def, true
	}
	n, err := strconv.Atoi(v)
	return n, err == nil && n >= 0
}
