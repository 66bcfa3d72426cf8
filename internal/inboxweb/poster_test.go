package inboxweb_test

import (
	"image/png"
	"strings"
	"testing"

	"hotline/internal/hotline"
)

// TestPosterDownloads: an admin downloads the A4 poster as PDF and PNG from
// the setup page; a server without a public URL refuses with a clear error
// instead of a poster whose QR codes open localhost; counselors get none.
func TestPosterDownloads(t *testing.T) {
	base := newEnv(t)
	e := withPublic(t, base, "https://hotline.example.edu.cn", "school_hotline_bot")
	sf := e.school("s1")
	ua := e.login(sf.AdminUser, sf.AdminPassword, newPW)
	page := ua.get("/inbox/admin/setup")
	mustContain(t, "setup", page, `href="/inbox/admin/poster.pdf"`, `href="/inbox/admin/poster.png"`, `<iframe class="preview" id="preview" src="/c/s1?preview=1"`)

	pdf := ua.get("/inbox/admin/poster.pdf")
	if pdf.Status != 200 || pdf.Header.Get("Content-Type") != "application/pdf" || !strings.HasPrefix(pdf.Body, "%PDF-") {
		t.Fatalf("pdf: %d %s", pdf.Status, pdf.Header.Get("Content-Type"))
	}
	if !strings.Contains(pdf.Header.Get("Content-Disposition"), "hotline-poster-s1.pdf") {
		t.Errorf("pdf disposition %q", pdf.Header.Get("Content-Disposition"))
	}
	img := ua.get("/inbox/admin/poster.png")
	if img.Status != 200 || img.Header.Get("Content-Type") != "image/png" {
		t.Fatalf("png: %d", img.Status)
	}
	if cfg, err := png.DecodeConfig(strings.NewReader(img.Body)); err != nil || cfg.Width != 1240 || cfg.Height != 1754 {
		t.Fatalf("png %v: %+v", err, cfg)
	}

	// Without a public URL: the page says why, and no poster is made.
	ul := base.login(sf.AdminUser, newPW, newPW)
	mustContain(t, "local setup", ul.get("/inbox/admin/setup"), `id="poster-local"`, "--public-url")
	if strings.Contains(ul.get("/inbox/admin/setup").Body, `id="poster-pdf"`) {
		t.Fatal("a poster is offered for localhost")
	}
	r := ul.get("/inbox/admin/poster.pdf")
	if r.Status != 400 || !strings.Contains(r.Body, "--public-url") || strings.HasPrefix(r.Body, "%PDF") {
		t.Fatalf("local poster: %d", r.Status)
	}

	pw := e.counselor(sf, "li", hotline.RoleCounselor)
	uc := e.login("li", pw, newPW)
	if r := uc.get("/inbox/admin/poster.pdf"); r.Status != 403 && r.Status != 404 {
		t.Fatalf("a counselor's poster: %d", r.Status)
	}
}
