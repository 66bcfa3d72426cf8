package web

import (
	"io/fs"
	"net/http"
)

// CSP is the Content-Security-Policy of the staff pages that run our own
// scripts (the inbox, the district's pages): no inline script or style, so
// hostile report text that slipped past escaping still could not run, and
// no framing.
const CSP = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"

// SetHeaders sets the security headers of every page we serve, with csp
// as its Content-Security-Policy: no sniffing, no referrer, no framing, a
// window of its own, and nothing stored (a shared computer keeps no page).
// Static files loosen only the caching (Static).
func SetHeaders(h http.Header, csp string) {
	h.Set("Content-Security-Policy", csp)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Cross-Origin-Opener-Policy", "same-origin")
	h.Set("Cache-Control", "no-store")
}

// Static serves the embedded files of dir in fsys under prefix ("/inbox/
// static/"). They hold no content, the same for everyone: browsers may
// keep them for five minutes.
func Static(prefix string, fsys fs.FS, dir string) (http.Handler, error) {
	sub, err := fs.Sub(fsys, dir)
	if err != nil {
		return nil, err
	}
	files := http.StripPrefix(prefix, http.FileServerFS(sub))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "public, max-age=300")
		files.ServeHTTP(w, r)
	}), nil
}
