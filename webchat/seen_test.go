package webchat

import (
	"context"
	"hotline/internal/hotline"
	"net/http"
	"testing"
	"time"
)

// TestWidgetSeenOnlyFromTheSchoolsOwnSite: the widget's question "may I
// open here?" from one of the school's allowed origins is kept as one row
// per school, origin and day, however many pages load it; from any other
// origin, or with none, nothing is kept. The row holds no visitor data:
// its columns are the school, the origin, the day and when it was first
// seen.
func TestWidgetSeenOnlyFromTheSchoolsOwnSite(t *testing.T) {
	e := newEnv(t, nil)
	e.srv.Seen = e.db // set before any request, as PublicURL is
	ask := func(origin string) {
		t.Helper()
		req, _ := http.NewRequest(http.MethodGet, e.ts.URL+"/webchat/allowed?school=no3", nil)
		if origin != "" {
			req.Header.Set("Origin", origin)
		}
		req.Header.Set("User-Agent", "canary-agent/1.0")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	for _, o := range []string{"", "https://evil.example.cn", "null", "https://www.no3.example.cn.evil.cn"} {
		ask(o)
	}
	ctx := context.Background()
	rows, err := e.db.WidgetSeenSince(ctx, "2000-01-01")
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 0 {
		t.Fatalf("kept %d rows from sites the school does not list: %+v", len(rows), rows[0])
	}
	for i := 0; i < 5; i++ {
		ask("https://www.no3.example.cn")
	}
	rows, err = e.db.WidgetSeenSince(ctx, "2000-01-01")
	if err != nil {
		t.Fatal(err)
	}
	today := time.Now().In(hotline.ChinaTime).Format("2006-01-02")
	if len(rows) != 1 || rows[0].SchoolID != e.school.ID || rows[0].Origin != "https://www.no3.example.cn" || rows[0].LastDay != today {
		t.Fatalf("rows %+v, want one for no3's site today (%s)", rows, today)
	}
	var n int
	if err := e.db.Reader().Get(&n, `SELECT COUNT(*) FROM widget_seen`); err != nil || n != 1 {
		t.Fatalf("widget_seen holds %d rows (%v), want 1", n, err)
	}
	var cols []string
	rs, err := e.db.Reader().Query(`SELECT * FROM widget_seen`)
	if err != nil {
		t.Fatal(err)
	}
	cols, _ = rs.Columns()
	rs.Close()
	if len(cols) != 4 {
		t.Fatalf("widget_seen columns %v: it keeps something besides school, origin, day and first time", cols)
	}
}
