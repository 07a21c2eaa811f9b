package proxy

import "net/http/httputil"

// rewrite points the outbound request at the configured upstream. The
// client's Host header and any absolute URL it sent are ignored: SetURL
// replaces scheme, host and Host header, so no request can choose another
// target. ReverseProxy has already removed hop-by-hop headers (including
// any named in Connection) and X-Forwarded-*; none are added, so the
// client's address is not disclosed upstream.
func (p *Proxy) rewrite(pr *httputil.ProxyRequest) {
	c := callFrom(pr.In.Context())
	pr.SetURL(c.api.upstream)
	// ReverseProxy drops query parameters with an unescaped ';' before
	// Rewrite, as Go's own parser would reject them. The API's PHP backend
	// takes ';' as an ordinary byte (cache rules such as ".php;.jsp" carry
	// it), and a signature covers every parameter: send the query on as
	// the client (or the re-signing step) wrote it.
	pr.Out.URL.RawQuery = pr.In.URL.RawQuery
	// The call's id goes upstream too, so that both sides' logs can be
	// joined. The header keys are written canonical, as the server stores
	// them.
	h := pr.Out.Header
	h["X-Request-Id"] = c.idHeader
	// Tencent's API has no use for the client's cookies or the token meant
	// for the proxy. An Authorization header is the proxy's bearer token,
	// or (API 3.0) a TC3 signature, which goes on.
	delete(h, "Cookie")
	delete(h, tokenHeader)
	// The body is already read and sized: waiting for the upstream's
	// "100 Continue" would only add a round trip, or a second when an
	// upstream never sends one.
	delete(h, "Expect")
	// Without an Accept-Encoding of the client's, Go's transport would
	// ask for gzip and inflate the answer itself: a small compressed body
	// could become a huge one nobody asked for. Ask for what the client
	// asked for, and for nothing else.
	if h.Get("Accept-Encoding") == "" {
		h["Accept-Encoding"] = []string{"identity"}
	}
	if isBearer(h.Get("Authorization")) {
		delete(h, "Authorization")
	}
}
