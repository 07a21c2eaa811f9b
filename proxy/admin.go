package proxy

import "net/http"

// AdminConfig is what the admin listener serves.
type AdminConfig struct {
	// Ready reports whether the proxy takes calls; /readyz answers 503
	// while it is false (during start-up and while draining). Nil means
	// always ready.
	Ready func() bool
}

// Admin returns the handler for the admin listener, which is kept apart
// from the API port so that no API path is ever claimed by the proxy:
//
//	GET /healthz  200 while the process runs
//	GET /readyz   200 while calls are taken, 503 while draining
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
		writeText(w, http.StatusOK, "ready\n")
	})
	return mux
}

// writeText writes a short plain-text answer.
func writeText(w http.ResponseWriter, status int, text string) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = w.Write([]byte(text))
}
