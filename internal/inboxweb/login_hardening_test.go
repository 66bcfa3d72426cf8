package inboxweb_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

// loginAs posts the log-in form from u and returns where it ended.
func (u *user) loginAs(username, password string) resp {
	u.e.t.Helper()
	u.get("/inbox/login")
	return u.post("/inbox/login", url.Values{"username": {username}, "password": {password}})
}

// A stranger's wrong guesses at the admin's username lock out new browsers
// for a while, never the browser the admin logged in from before.
func TestStrangerGuessesDoNotLockOutAKnownBrowser(t *testing.T) {
	e := newEnv(t)
	sf := e.school("no3")
	admin := e.login(sf.AdminUser, sf.AdminPassword, newPW)

	// The device cookie: long-lived, out of scripts' reach, same-site only.
	u := e.hs.URL + "/inbox/login"
	raw := e.browser()
	raw.get("/inbox/login")
	raw.c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	form := url.Values{"username": {sf.AdminUser}, "password": {newPW}, "csrf": {raw.csrf}}
	res, err := raw.c.PostForm(u, form)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	var device *http.Cookie
	for _, c := range res.Cookies() {
		if c.Name == "hl_device" {
			device = c
		}
	}
	if device == nil || !device.HttpOnly || device.SameSite != http.SameSiteStrictMode || device.MaxAge < 90*24*3600 || len(device.Value) != 43 {
		t.Fatalf("device cookie after a complete log-in: %+v", device)
	}

	stranger := e.browser()
	for i := range 7 {
		r := stranger.loginAs(sf.AdminUser, "guess"+strings.Repeat("!", i))
		if r.Status != http.StatusUnauthorized && r.Status != http.StatusTooManyRequests {
			t.Fatalf("stranger's guess %d: status %d", i+1, r.Status)
		}
		e.clock.Add(time.Second)
	}
	// The admin logs out and in again on the known browser: straight in.
	admin.post("/inbox/logout", nil)
	if r := admin.loginAs(sf.AdminUser, newPW); r.Status != http.StatusOK || r.URL == "/inbox/login" {
		t.Fatalf("admin on the known browser after the guesses: status %d at %s", r.Status, r.URL)
	}
	// A new browser waits, at most the 15 minutes the README promises.
	fresh := e.browser()
	if r := fresh.loginAs(sf.AdminUser, newPW); r.Status != http.StatusTooManyRequests {
		t.Fatalf("admin on a new browser right after the guesses: status %d at %s", r.Status, r.URL)
	}
	e.clock.Add(15 * time.Minute)
	if r := fresh.loginAs(sf.AdminUser, newPW); r.Status != http.StatusOK || r.URL == "/inbox/login" {
		t.Fatalf("admin on a new browser 15 minutes later: status %d at %s", r.Status, r.URL)
	}
}

// Changing a password ends the counselor's other sessions, which hold the
// school key under a log-in with the old password.
func TestPasswordChangeEndsOtherSessions(t *testing.T) {
	e := newEnv(t)
	sf := e.school("no3")
	here := e.login(sf.AdminUser, sf.AdminPassword, newPW)
	there := e.login(sf.AdminUser, newPW, "")
	other := e.login("wang", e.counselor(sf, "wang", "counselor"), newPW)
	if r := there.get("/inbox/"); r.URL != "/inbox/" {
		t.Fatalf("second session before the change: at %s", r.URL)
	}
	r := here.post("/inbox/password", url.Values{"current": {newPW}, "new": {newPW + "-2"}, "again": {newPW + "-2"}})
	if r.Status != http.StatusOK {
		t.Fatalf("password change: status %d: %s", r.Status, excerpt(r.Body))
	}
	if r := there.get("/inbox/"); r.URL != "/inbox/login" {
		t.Fatalf("the other session after the password change: at %s, want the log-in page", r.URL)
	}
	if r := here.get("/inbox/"); r.URL != "/inbox/" {
		t.Fatalf("the session that changed it: at %s", r.URL)
	}
	if r := other.get("/inbox/"); r.URL != "/inbox/" {
		t.Fatalf("another counselor's session: at %s", r.URL)
	}
	// The old password opens nothing; the new one does.
	if r := e.browser().loginAs(sf.AdminUser, newPW); r.Status != http.StatusUnauthorized {
		t.Fatalf("old password: status %d", r.Status)
	}
	e.login(sf.AdminUser, newPW+"-2", "")
}
