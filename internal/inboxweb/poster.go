package inboxweb

import (
	"net/http"
	"net/url"
	"path"
	"strconv"
	"strings"

	"hotline/internal/hotline"
	"hotline/internal/poster"
)

// errPosterLocal refuses a poster whose QR codes would open the server's
// own loopback address: a printed poster nobody's phone can use is worse
// than none.
var errPosterLocal = hotline.Errorf(hotline.EINVALID,
	"服务器没有设置公开网址（--public-url），海报上的二维码会指向本机，学生的手机打不开，所以现在不能生成海报。请用 --public-url https://你的域名 重新启动服务器。",
	"The server has no public URL (--public-url): the poster's QR codes would point at this machine and open on no student's phone, so no poster is made. Restart the server with --public-url https://your.domain.")

// handlePosterFile serves the school's A4 poster as PNG or PDF, drawn in Go
// with the embedded fonts, with QR codes for the configured public URL.
func (s *Server) handlePosterFile(w http.ResponseWriter, r *http.Request, rc *reqCtx) {
	base := strings.TrimRight(s.cfg.PublicURL, "/")
	if localURL(base) {
		s.fail(w, r, rc, errPosterLocal)
		return
	}
	bot := ""
	if s.cfg.BotName != nil {
		bot = s.cfg.BotName()
	}
	p := poster.New(rc.School, base, bot)
	var data []byte
	var err error
	ext := strings.TrimPrefix(path.Ext(r.URL.Path), ".")
	switch ext {
	case "png":
		data, err = p.PNG()
	case "pdf":
		data, err = p.PDF()
	default:
		err = hotline.ErrNotFound
	}
	if err != nil {
		s.fail(w, r, rc, err)
		return
	}
	if err := s.cfg.Staff.RecordPoster(r.Context(), rc.sess.ts, "poster."+ext); err != nil {
		s.fail(w, r, rc, err)
		return
	}
	h := w.Header()
	if ext == "png" {
		h.Set("Content-Type", "image/png")
	} else {
		h.Set("Content-Type", "application/pdf")
	}
	h.Set("Content-Length", strconv.Itoa(len(data)))
	h.Set("Content-Disposition", "attachment; filename="+url.PathEscape("hotline-poster-"+rc.School.Code+"."+ext))
	w.Write(data)
}
