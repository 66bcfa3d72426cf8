package web

import (
	"net/http"
	"strconv"

	"hotline/internal/hotline"
)

// WritePhoto sends a photo opened from sealed storage. Photo cleaning
// makes only JPEG and PNG; anything else is hotline.ErrNotFound, as for a
// guess, and nothing is written. The photo is never cached.
func WritePhoto(w http.ResponseWriter, p *hotline.Photo) error {
	if p.Type != "image/jpeg" && p.Type != "image/png" {
		return hotline.ErrNotFound
	}
	h := w.Header()
	h.Set("Content-Type", p.Type)
	h.Set("Content-Length", strconv.Itoa(len(p.Data)))
	h.Set("Content-Disposition", "inline")
	h.Set("Cache-Control", "no-store, private")
	w.Write(p.Data)
	return nil
}
