package inboxweb_test

import (
	"context"
	"net/url"
	"strings"
	"testing"
	"time"

	"hotline/internal/hotline"
	"hotline/internal/pgtest"
)

// search runs the queue's search form and returns the page.
func (u *user) search(t *testing.T, q url.Values) resp {
	t.Helper()
	r := u.get("/inbox/?" + q.Encode())
	if r.Status != 200 {
		t.Fatalf("search %v: status %d: %s", q, r.Status, excerpt(r.Body))
	}
	return r
}

func TestSearch(t *testing.T) {
	e := newEnv(t)
	a, b := e.school("s1"), e.school("s2")
	ua := e.login(a.AdminUser, a.AdminPassword, newPW)
	ub := e.login(b.AdminUser, b.AdminPassword, newPW)

	bike := e.tip("s1", "有人在车棚抢我的自行车钥匙")
	lunch := e.tip("s1", "午饭时总有人把我的饭倒掉")
	other := e.tip("s2", "有人在车棚打人")
	ctx := context.Background()
	tipA, _ := e.db.TipByUID(ctx, bike.TipUID)
	tipL, _ := e.db.TipByUID(ctx, lunch.TipUID)
	tipO, _ := e.db.TipByUID(ctx, other.TipUID)

	t.Run("words in the reporter's text", func(t *testing.T) {
		r := ua.search(t, url.Values{"q": {"车棚"}, "status": {"all"}})
		if !strings.Contains(r.Body, bike.TipUID) || strings.Contains(r.Body, lunch.TipUID) {
			t.Fatalf("got %s, want only the bike case", excerpt(r.Body))
		}
		if !strings.Contains(r.Body, "车棚抢我的自行车") {
			t.Errorf("no excerpt of the match in %s", excerpt(r.Body))
		}
		if strings.Contains(r.Body, other.TipUID) {
			t.Fatal("a search found another school's case")
		}
	})
	t.Run("words of a counselor's reply and note, all words", func(t *testing.T) {
		if r := ua.post("/inbox/tips/"+lunch.TipUID+"/reply", url.Values{"text": {"Please come to room 204 tomorrow"}}); r.Status != 200 {
			t.Fatalf("reply: %d", r.Status)
		}
		if r := ua.post("/inbox/tips/"+lunch.TipUID+"/note", url.Values{"text": {"班主任王老师已知情"}}); r.Status != 200 {
			t.Fatalf("note: %d", r.Status)
		}
		r := ua.search(t, url.Values{"q": {"ROOM 王老师"}, "status": {"all"}})
		if !strings.Contains(r.Body, lunch.TipUID) || strings.Contains(r.Body, bike.TipUID) {
			t.Fatalf("got %s, want only the lunch case", excerpt(r.Body))
		}
		r = ua.search(t, url.Values{"q": {"room 自行车"}, "status": {"all"}})
		if strings.Contains(r.Body, lunch.TipUID) || strings.Contains(r.Body, bike.TipUID) {
			t.Fatal("a case matched without every word")
		}
	})
	t.Run("another school's words find nothing", func(t *testing.T) {
		r := ua.search(t, url.Values{"q": {"打人"}, "status": {"all"}})
		if strings.Contains(r.Body, other.TipUID) {
			t.Fatal("school 1 found school 2's case")
		}
		r = ub.search(t, url.Values{"q": {"车棚"}, "status": {"all"}})
		if !strings.Contains(r.Body, other.TipUID) || strings.Contains(r.Body, bike.TipUID) {
			t.Fatalf("school 2: got %s", excerpt(r.Body))
		}
		r = ub.search(t, url.Values{"alias": {tipA.Alias.ZH}, "status": {"all"}})
		if strings.Contains(r.Body, bike.TipUID) {
			t.Fatal("an alias search found another school's case")
		}
	})
	t.Run("alias in either language, in part", func(t *testing.T) {
		for _, q := range []string{tipL.Alias.ZH, strings.ToUpper(tipL.Alias.EN), tipL.Alias.EN[1:4]} {
			r := ua.search(t, url.Values{"alias": {q}, "status": {"all"}})
			if !strings.Contains(r.Body, lunch.TipUID) {
				t.Errorf("alias %q: lunch case missing", q)
			}
		}
		r := ua.search(t, url.Values{"alias": {"%"}, "status": {"all"}})
		if strings.Contains(r.Body, lunch.TipUID) || strings.Contains(r.Body, bike.TipUID) {
			t.Error("a LIKE wildcard matched every alias")
		}
	})
	t.Run("status and severity", func(t *testing.T) {
		if r := ua.post("/inbox/tips/"+bike.TipUID+"/severity", url.Values{"severity": {"serious"}}); r.Status != 200 {
			t.Fatalf("severity: %d", r.Status)
		}
		r := ua.search(t, url.Values{"severity": {"serious"}, "status": {"all"}})
		if !strings.Contains(r.Body, bike.TipUID) || strings.Contains(r.Body, lunch.TipUID) {
			t.Fatal("severity filter")
		}
		r = ua.search(t, url.Values{"status": {"acknowledged"}, "q": {"饭"}})
		if !strings.Contains(r.Body, lunch.TipUID) { // the reply acknowledged it
			t.Fatalf("status + words: %s", excerpt(r.Body))
		}
		r = ua.search(t, url.Values{"status": {"new"}, "q": {"饭"}})
		if strings.Contains(r.Body, lunch.TipUID) {
			t.Fatal("status filter ignored by the word search")
		}
	})
	t.Run("received dates", func(t *testing.T) {
		day := tipO.CreatedAt.In(time.FixedZone("CST", 8*3600))
		today, tomorrow := day.Format("2006-01-02"), day.AddDate(0, 0, 1).Format("2006-01-02")
		r := ua.search(t, url.Values{"from": {today}, "to": {today}, "status": {"all"}})
		if !strings.Contains(r.Body, bike.TipUID) {
			t.Fatal("today's case missing from today's range")
		}
		r = ua.search(t, url.Values{"from": {tomorrow}, "status": {"all"}})
		if strings.Contains(r.Body, bike.TipUID) {
			t.Fatal("today's case in tomorrow's range")
		}
		if r := ua.get("/inbox/?from=yesterday"); r.Status != 400 {
			t.Fatalf("bad date: status %d, want 400", r.Status)
		}
	})
	t.Run("no index of words is written", func(t *testing.T) {
		var n int
		q := `SELECT COUNT(*) FROM sqlite_master WHERE sql LIKE '%fts%' OR name LIKE '%search%' OR name LIKE '%word%'`
		if pgtest.OnPostgres() {
			// No table or index named for search, and no full-text
			// column (tsvector) anywhere.
			q = `SELECT (SELECT COUNT(*) FROM pg_class c JOIN pg_namespace s ON s.oid = c.relnamespace
				WHERE s.nspname = current_schema() AND (c.relname LIKE '%search%' OR c.relname LIKE '%word%' OR c.relname LIKE '%fts%'))
				+ (SELECT COUNT(*) FROM information_schema.columns WHERE table_schema = current_schema() AND data_type = 'tsvector')`
		}
		if err := e.db.Reader().Get(&n, q); err != nil {
			t.Fatal(err)
		}
		if n != 0 {
			t.Fatalf("%d search tables or indexes exist", n)
		}
	})
}

// TestSearchCounts: the page says how many cases a pass looked through.
func TestSearchCounts(t *testing.T) {
	e := newEnv(t)
	a := e.school("s1")
	ua := e.login(a.AdminUser, a.AdminPassword, newPW)
	ctx := context.Background()
	var want []string
	for i := range 3 {
		out, err := e.in.Submit(ctx, hotline.Submission{SchoolCode: "s1", Channel: hotline.ChannelMailbox, Texts: []string{"楼梯间 " + strings.Repeat("x", i)}})
		if err != nil {
			t.Fatal(err)
		}
		want = append(want, out.TipUID)
	}
	r := ua.search(t, url.Values{"q": {"楼梯间"}})
	for _, uid := range want {
		if !strings.Contains(r.Body, uid) {
			t.Fatalf("case %s missing", uid)
		}
	}
	if !strings.Contains(r.Body, "本次查看了 3 个案件，找到 3 个") {
		t.Errorf("no count of what was looked through: %s", excerpt(r.Body))
	}
}
