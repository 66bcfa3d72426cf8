package webchat

import (
	"net/http"

	"github.com/skip2/go-qrcode"

	"hotline/internal/hotline"
	"hotline/internal/poster"
)

// handlePoster serves a school's poster as an A4 page to print from a
// browser; `hotline poster` draws the same poster as a PNG.
func (s *Server) handlePoster(w http.ResponseWriter, r *http.Request) {
	lang := langOf(r)
	school := s.school(w, r, lang)
	if school == nil {
		return
	}
	s.secure(w, "")
	w.Header().Set("Cache-Control", "public, max-age=300")
	data := struct {
		poster.Poster
		Title, Lead, Chat, Bot, WechatCaption, WechatHow, Mailbox, Danger hotline.Label
	}{s.poster(school), poster.Title, poster.Lead, poster.Chat, poster.Bot, poster.Wechat, poster.WechatHow, poster.Mailbox, poster.Danger}
	s.render(w, http.StatusOK, "poster.html", page{Lang: lang, School: school, Title: poster.Title.ZH + " · " + school.Name, Data: data}.fill())
}

// handlePosterQR serves the poster's QR codes as PNG.
func (s *Server) handlePosterQR(w http.ResponseWriter, r *http.Request) {
	school, err := s.Schools.SchoolByCode(r.Context(), r.PathValue("code"))
	if err != nil {
		http.NotFound(w, r)
		return
	}
	p := s.poster(school)
	target := p.ChatURL
	switch r.PathValue("which") {
	case "chat.png":
	case "bot.png":
		target = p.BotURL
	case "wechat.png":
		// The account's own code, as 公众平台 made it (re-encoded).
		if p.Wechat == nil {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "image/png")
		w.Header().Set("Cache-Control", "public, max-age=300")
		w.Header().Set("X-Content-Type-Options", "nosniff")
		w.Write(p.Wechat.PNG())
		return
	default:
		target = ""
	}
	if target == "" {
		http.NotFound(w, r)
		return
	}
	b, err := qrcode.Encode(target, qrcode.Medium, 512)
	if err != nil {
		http.Error(w, "qr", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "image/png")
	w.Header().Set("Cache-Control", "public, max-age=300")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Write(b)
}

// poster is the school's poster: its links, and the QR code of the WeChat
// account serving it when one is configured.
func (s *Server) poster(school *hotline.School) poster.Poster {
	p := poster.New(school, s.PublicURL, s.BotName)
	if s.WechatQR != nil {
		p.Wechat = s.WechatQR(school.Code)
	}
	return p
}
