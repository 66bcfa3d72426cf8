package web

import (
	"net/http"

	"hotline/internal/hotline"
)

// LangCookie remembers a staff member's choice of language on every staff
// page; the pupils' questionnaire keeps none (a shared computer).
const LangCookie = "hl_lang"

// Lang is the language a staff page is in: ?lang=, else the cookie, else
// zh-CN, the first language of every screen.
func Lang(r *http.Request) hotline.Lang {
	if l := r.URL.Query().Get("lang"); l != "" {
		return hotline.ParseLang(l)
	}
	if c, err := r.Cookie(LangCookie); err == nil {
		return hotline.ParseLang(c.Value)
	}
	return hotline.LangZH
}

// ChooseLang is Lang that also remembers a ?lang= choice in the cookie.
func ChooseLang(w http.ResponseWriter, r *http.Request) hotline.Lang {
	l := Lang(r)
	if r.URL.Query().Get("lang") != "" {
		http.SetCookie(w, &http.Cookie{Name: LangCookie, Value: string(l), Path: "/", MaxAge: 365 * 24 * 3600, HttpOnly: true, SameSite: http.SameSiteLaxMode})
	}
	return l
}

// SwitchURL is the link to the page in the other language than lang: the
// same page for a GET, home for anything else (a form's answer has no
// address to load again).
func SwitchURL(r *http.Request, lang hotline.Lang, home string) string {
	other := hotline.LangEN
	if lang == hotline.LangEN {
		other = hotline.LangZH
	}
	if r.Method != http.MethodGet {
		return home + "?lang=" + string(other)
	}
	u := *r.URL
	q := u.Query()
	q.Set("lang", string(other))
	u.RawQuery = q.Encode()
	return u.RequestURI()
}
