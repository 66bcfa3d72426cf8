package inboxweb

import (
	"bytes"
	"encoding/json"
	"image"
	"image/color"
	"image/png"
	"net/http"
	"sync"
)

// The installed inbox: a web app manifest, so a counselor can add the
// inbox to a phone's home screen, and a service worker that shows Web Push
// alerts (a title, the alias, the school and a link; never content) and
// opens their link when tapped.

// handleManifest serves the web app manifest.
func (s *Server) handleManifest(w http.ResponseWriter, r *http.Request) {
	m := map[string]any{
		"name":             "Hotline 收件箱 / inbox",
		"short_name":       "Hotline",
		"lang":             "zh-CN",
		"start_url":        "/inbox/",
		"scope":            "/inbox/",
		"display":          "standalone",
		"background_color": "#f4f6f8",
		"theme_color":      "#17324f",
		"icons": []map[string]string{
			{"src": "/inbox/icons/192.png", "sizes": "192x192", "type": "image/png", "purpose": "any maskable"},
			{"src": "/inbox/icons/512.png", "sizes": "512x512", "type": "image/png", "purpose": "any maskable"},
		},
	}
	w.Header().Set("Content-Type", "application/manifest+json")
	w.Header().Set("Cache-Control", "public, max-age=3600")
	json.NewEncoder(w).Encode(m)
}

// handleServiceWorker serves the push service worker from /inbox/, so that
// its scope is the whole inbox.
func (s *Server) handleServiceWorker(w http.ResponseWriter, r *http.Request) {
	b, err := assets.ReadFile("static/sw.js")
	if err != nil {
		http.Error(w, "not found", http.StatusNotFound)
		return
	}
	w.Header().Set("Content-Type", "text/javascript; charset=utf-8")
	w.Header().Set("Cache-Control", "no-cache")
	w.Write(b)
}

var (
	iconsOnce sync.Once
	icons     map[string][]byte
)

// handleIcon serves the app's icon: the inbox's blue with a white bell
// shape, drawn once (no image files to keep in step).
func (s *Server) handleIcon(w http.ResponseWriter, r *http.Request) {
	iconsOnce.Do(func() {
		icons = map[string][]byte{}
		for name, n := range map[string]int{"192.png": 192, "512.png": 512} {
			icons[name] = drawIcon(n)
		}
	})
	b, ok := icons[r.PathValue("size")]
	if !ok {
		s.handleNotFound(w, r)
		return
	}
	w.Header().Set("Content-Type", "image/png")
	w.Header().Set("Cache-Control", "public, max-age=86400")
	w.Write(b)
}

func drawIcon(n int) []byte {
	img := image.NewRGBA(image.Rect(0, 0, n, n))
	bg, fg := color.RGBA{0x17, 0x32, 0x4f, 0xff}, color.RGBA{0xff, 0xff, 0xff, 0xff}
	c := float64(n) / 2
	for y := 0; y < n; y++ {
		for x := 0; x < n; x++ {
			fx, fy := (float64(x)-c)/c, (float64(y)-c)/c
			col := bg
			// A bell: a dome, a rim and a clapper, inside the safe zone of
			// a maskable icon.
			dome := fy > -0.45 && fy < 0.25 && fx*fx < 0.11*(fy+0.55)*1.6
			rim := fy >= 0.25 && fy < 0.35 && fx > -0.45 && fx < 0.45
			clapper := (fx*fx + (fy-0.45)*(fy-0.45)) < 0.012
			if dome || rim || clapper {
				col = fg
			}
			img.SetRGBA(x, y, col)
		}
	}
	var buf bytes.Buffer
	png.Encode(&buf, img)
	return buf.Bytes()
}
