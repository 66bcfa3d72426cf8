package inboxweb_test

import (
	"html"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"hotline/internal/hotline"
	"hotline/internal/staff"
)

var savedIDRE = regexp.MustCompile(`name="saved" value="(\d+)"`)

func TestSavedReplies(t *testing.T) {
	e := newEnv(t)
	a, b := e.school("s1"), e.school("s2")
	pw := e.counselor(a, "wang", hotline.RoleCounselor)
	uc := e.login("wang", pw, newPW) // a counselor, not an admin, manages them too
	ub := e.login(b.AdminUser, b.AdminPassword, newPW)
	tip := e.tip("s1", "他们在厕所堵我")

	r := uc.post("/inbox/replies", url.Values{"title": {"感谢"}, "lang": {"zh"}, "body": {"谢谢你告诉我们，老师会尽快和你联系。"}})
	if r.Status != 200 || r.URL != "/inbox/replies" {
		t.Fatalf("add: %d at %s: %s", r.Status, r.URL, excerpt(r.Body))
	}
	uc.post("/inbox/replies", url.Values{"title": {"Thanks"}, "lang": {"en"}, "body": {"Thank you for telling us."}})
	if r := uc.post("/inbox/replies", url.Values{"title": {"x"}, "lang": {"fr"}, "body": {"y"}}); r.Status != 400 {
		t.Errorf("a third language: status %d, want 400", r.Status)
	}
	if r := uc.post("/inbox/replies", url.Values{"title": {"empty"}, "lang": {"zh"}, "body": {"  "}}); r.Status != 400 || !strings.Contains(r.Body, `value="empty"`) {
		t.Errorf("an empty text: status %d, or the typed title lost", r.Status)
	}

	page := uc.get("/inbox/tips/" + tip.TipUID)
	ids := savedIDRE.FindAllStringSubmatch(page.Body, -1)
	if len(ids) != 2 {
		t.Fatalf("case page shows %d saved replies, want 2", len(ids))
	}
	if strings.Index(page.Body, ">感谢<") > strings.Index(page.Body, ">Thanks<") {
		t.Error("Chinese saved replies should come first")
	}
	zhID := ids[0][1]

	t.Run("inserted without script, after what was typed", func(t *testing.T) {
		r := uc.post("/inbox/tips/"+tip.TipUID+"/insert", url.Values{"saved": {zhID}, "text": {"同学你好，"}})
		if r.Status != 200 {
			t.Fatalf("insert: %d", r.Status)
		}
		box := regexp.MustCompile(`(?s)<textarea name="text" id="reply-text"[^>]*>(.*?)</textarea>`).FindStringSubmatch(r.Body)
		if box == nil || html.UnescapeString(box[1]) != "同学你好，\n谢谢你告诉我们，老师会尽快和你联系。" {
			t.Fatalf("reply box: %q", box)
		}
		tp, msgs, err := e.tr.Thread(t.Context(), mustSession(t, e, "wang"), tip.TipUID)
		if err != nil {
			t.Fatal(err)
		}
		if len(msgs) != 1 || tp.Status != hotline.StatusNew {
			t.Fatalf("inserting sent or changed something: %d messages, status %s", len(msgs), tp.Status)
		}
	})
	t.Run("another school's staff can neither see nor use nor delete them", func(t *testing.T) {
		if r := ub.get("/inbox/replies"); strings.Contains(r.Body, "感谢") {
			t.Fatal("school 2 sees school 1's saved replies")
		}
		own := e.tip("s2", "test")
		if r := ub.post("/inbox/tips/"+own.TipUID+"/insert", url.Values{"saved": {zhID}}); r.Status != 404 {
			t.Errorf("insert of another school's reply: %d, want 404", r.Status)
		}
		if r := ub.post("/inbox/replies", url.Values{"id": {zhID}, "title": {"hacked"}, "lang": {"zh"}, "body": {"hacked"}}); r.Status != 404 {
			t.Errorf("edit of another school's reply: %d, want 404", r.Status)
		}
		if r := ub.post("/inbox/replies/"+zhID+"/delete", nil); r.Status != 404 {
			t.Errorf("delete of another school's reply: %d, want 404", r.Status)
		}
	})
	t.Run("only the author or an admin changes one, and the audit trail says who", func(t *testing.T) {
		lpw := e.counselor(a, "li", hotline.RoleCounselor)
		ul := e.login("li", lpw, newPW)
		if r := ul.get("/inbox/replies"); !strings.Contains(r.Body, "感谢") || strings.Contains(r.Body, `name="id" value="`+zhID+`"`) {
			t.Fatal("another counselor gets a form to change wang's reply, or does not see it")
		}
		if r := ul.post("/inbox/replies", url.Values{"id": {zhID}, "title": {"改掉"}, "lang": {"zh"}, "body": {"被别人改了"}}); r.Status != 403 {
			t.Fatalf("another counselor changes wang's reply: %d, want 403", r.Status)
		}
		if r := ul.post("/inbox/replies/"+zhID+"/delete", nil); r.Status != 403 {
			t.Fatalf("another counselor deletes wang's reply: %d, want 403", r.Status)
		}
		ul.post("/inbox/replies", url.Values{"title": {"李老师的"}, "lang": {"zh"}, "body": {"我们会跟进。"}})
		admin := e.login(a.AdminUser, a.AdminPassword, newPW)
		if r := admin.post("/inbox/replies", url.Values{"id": {zhID}, "title": {"感谢"}, "lang": {"zh"}, "body": {"谢谢你告诉我们，老师会尽快和你联系。"}}); r.Status != 200 {
			t.Fatalf("the admin changes wang's reply: %d", r.Status)
		}
		trail := admin.get("/inbox/admin/audit?kind=saved_reply").Body
		for _, want := range []string{"wang", "li", a.AdminUser, "added #" + zhID, "changed #" + zhID, "李老师的"} {
			if !strings.Contains(trail, want) {
				t.Errorf("the audit trail of saved replies lacks %q", want)
			}
		}
		if strings.Contains(trail, "被别人改了") {
			t.Error("a refused change reached the audit trail")
		}
	})
	t.Run("edit and delete", func(t *testing.T) {
		uc.post("/inbox/replies", url.Values{"id": {zhID}, "title": {"感谢来信"}, "lang": {"zh"}, "body": {"谢谢你。"}})
		if r := uc.get("/inbox/replies"); !strings.Contains(r.Body, "感谢来信") || !strings.Contains(r.Body, "谢谢你。") {
			t.Fatal("edit not saved")
		}
		uc.post("/inbox/replies/"+zhID+"/delete", nil)
		if r := uc.get("/inbox/tips/" + tip.TipUID); strings.Contains(r.Body, "感谢来信") {
			t.Fatal("deleted reply still offered")
		}
	})
}

// mustSession logs a counselor in at the service (after the forced change
// of their one-time password) for direct service calls.
func mustSession(t *testing.T, e *env, username string) *staff.Session {
	t.Helper()
	sess, err := e.st.Authenticate(t.Context(), username, newPW)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(sess.Wipe)
	return sess
}
