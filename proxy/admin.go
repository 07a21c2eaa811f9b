package proxy

import "net/http"

// AdminConfig is what the admin listener serves.
type AdminConfig struct {
	// Ready reports whether the proxy takes calls; /readyz answers 503
	// while it is false (during start-up and while draining). Nil means
	// always ready.
	Ready func() bool
	// Metrics serves /metrics, typically promhttp.HandlerFor on the
	// registry the proxy's Metrics were registered with. Nil means no
	// /metrics.
	Metrics http.Handler
	// Failures is the record of failed calls behind the failures page,
	// the same one the Proxy writes to (Config.Failures). Nil means no
	// failures page.
	Failures *Failures
	// Limits, when set, has /readyz say where the limits' state is kept
	// (Limits.State): a line "limits: redis", for instance.
	Limits *Limits
}

// Admin returns the handler for the admin listener, which is kept apart
// from the API port so that no API path is ever claimed by the proxy:
//
//	GET /healthz        200 while the process runs
//	GET /readyz         200 while calls are taken, 503 while draining; with
//	                    AdminConfig.Limits, a line says where their state is
//	GET /metrics        Prometheus metrics (when AdminConfig.Metrics is set)
//	GET /failures       the failures page: recent failed calls and counts
//	                    by category and code over the last hour (when
//	                    AdminConfig.Failures is set)
//	GET /               the failures page too
//	GET /failures.json  the failures page's data as JSON
//
// The admin listener has no authentication: keep it on a private address.
func Admin(cfg AdminConfig) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		writeText(w, http.StatusOK, "ok\n")
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, _ *http.Request) {
		if cfg.Ready != nil && !cfg.Ready() {
			writeText(w, http.StatusServiceUnavailable, "draining\n")
			return
		}
		text := "ready\n"
		if cfg.Limits != nil {
			text += "limits: " + cfg.Limits.State() + "\n"
		}
		writeText(w, http.StatusOK, text)
	})
	if cfg.Metrics != nil {
		mux.Handle("GET /metrics", cfg.Metrics)
	}
	if f := cfg.Failures; f != nil {
		mux.HandleFunc("GET /failures", f.servePage)
		mux.HandleFunc("GET /{$}", f.servePage)
		mux.HandleFunc("GET /failures.json", f.serveJSON)
	}
	return mux
}

// writeText writes a short plain-text answer.
func writeText(w http.ResponseWriter, status int, text string) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	setAdminHeaders(w.Header())
	w.WriteHeader(status)
	_, _ = w.Write([]byte(text))
}
