package proxy

import "slices"

// knownActions are the API 2.0 action names, from the reference's action
// list (docs/reference/cdn-api-v2.md §5), in byte order for binary search. Both
// spellings of DescribeCdnEntities are kept: the CLI uses the misspelt
// one. A metric label takes only these values, "other" and "none", so a
// client sending random Action values cannot grow the label set.
var knownActions = [...]string{
	"AddCdnHost",
	"AddYYCdnHost",
	"CdnOverseaPushser",
	"CdnPusherV2",
	"CdnUrlPusher",
	"DeleteCdnEntity",
	"DeleteCdnHost",
	"DeleteCdnOvHost",
	"DescribeCdnEntites",
	"DescribeCdnEntities",
	"DescribeCdnHostDetailedInfo",
	"DescribeCdnHostInfo",
	"DescribeCdnHosts",
	"DescribeOverseaCdnHosts",
	"DescribeYYHostsDetailLogStat",
	"DescribeYYWildcardSubHosts",
	"FlushOrPushOverall",
	"ForbidBadUrl",
	"GenerateLogList",
	"GenerateYYLogList",
	"GetCdnEdgeStatus",
	"GetCdnHostSafetyChainKey",
	"GetCdnHostsDetailStatistics",
	"GetCdnIps",
	"GetCdnLogList",
	"GetCdnMiddleSourceList",
	"GetCdnMonitorData",
	"GetCdnOriginStat",
	"GetCdnOverseaOpenStat",
	"GetCdnOverseaRefreshLog",
	"GetCdnOverseaStatTop",
	"GetCdnProvIspDetailStat",
	"GetCdnProvIspDetailStatusCode",
	"GetCdnRefreshLog",
	"GetCdnStatTop",
	"GetCdnStatusCode",
	"GetForbidUrlInfo",
	"GetHostInfoByHost",
	"GetHostInfoById",
	"GetHostsTopData",
	"GetOvAreaIp",
	"GetOverseaCdnLogList",
	"GetPayType",
	"GetPushLogs",
	"GetTimeBandwidth",
	"OfflineHost",
	"OfflineOvHost",
	"OnlineHost",
	"QueryCdnIp",
	"RefreshCdnDir",
	"RefreshCdnOverSeaUrl",
	"RefreshCdnUrl",
	"ReleaseForbidUrl",
	"RenameCdnEntity",
	"SetCdnHostSafetyChainKey",
	"SetHttpsInfo",
	"StartCdnService",
	"UpdateCache",
	"UpdateCdnConfig",
	"UpdateCdnHost",
	"UpdateCdnOverseaConfig",
	"UpdateCdnProject",
	"UpdatePayType",
	"UploadCdnEntity",
}

// actionLabel returns the action as a metric label value: the action
// itself when it is a known API 2.0 action, "none" when the call named
// none, and "other" for anything else.
func actionLabel(action string) string {
	if action == "" {
		return "none"
	}
	if _, ok := slices.BinarySearch(knownActions[:], action); ok {
		return action
	}
	if _, ok := slices.BinarySearch(knownActionsV3[:], action); ok {
		return action
	}
	return "other"
}

// knownActionsV3 are API 3.0 CDN action names (docs/reference/cdn-api-v3.md §6 and the
// quota look-ups it names), in byte order for binary search.
var knownActionsV3 = [...]string{
	"AddCdnDomain",
	"DeleteCdnDomain",
	"DescribeCdnData",
	"DescribeCdnDomainLogs",
	"DescribeCdnIp",
	"DescribeDomains",
	"DescribeDomainsConfig",
	"DescribeIpVisit",
	"DescribeOriginData",
	"DescribePurgeQuota",
	"DescribePurgeTasks",
	"DescribePushQuota",
	"DescribePushTasks",
	"ListTopData",
	"PurgePathCache",
	"PurgeUrlsCache",
	"PushUrlsCache",
	"StartCdnDomain",
	"StopCdnDomain",
	"UpdateDomainConfig",
}
