package emulator

import (
	"strconv"
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

// list returns the values of an array parameter (signature's List); one
// with malformed or repeated indexes counts as absent.
func (r *request) list(name string) []string {
	values, _ := r.params.List(name)
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
