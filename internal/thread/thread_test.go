package thread_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"hotline/internal/hotline"
	"hotline/internal/store"
	"hotline/internal/testsupport"
	"hotline/internal/thread"
	"hotline/internal/vault"
)

func mustKey(tb testing.TB) *vault.PrivateKey {
	tb.Helper()
	k, err := vault.GenerateKeyPair()
	if err != nil {
		tb.Fatal(err)
	}
	return k
}

func TestSealOpenEachReader(t *testing.T) {
	school, reporter, district := mustKey(t), mustKey(t), mustKey(t)
	photo := &hotline.Photo{Type: "image/png", Data: []byte("\x89PNG\r\n\x1a\nnot really")}
	m, err := thread.Seal(7, "tip1", hotline.AuthorReporter, "他们抢了我的钱", photo,
		thread.Recipients{School: school.PublicKey(), Reporter: reporter.PublicKey(), District: district.PublicKey()})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name string
		key  *vault.PrivateKey
		who  thread.Reader
	}{{"school", school, thread.ReadSchool}, {"reporter", reporter, thread.ReadReporter}, {"district", district, thread.ReadDistrict}} {
		t.Run(c.name, func(t *testing.T) {
			got, err := thread.Open(c.key, c.who, 7, "tip1", m)
			if err != nil {
				t.Fatal(err)
			}
			if got.Body != "他们抢了我的钱" || !got.HasPhoto || got.Photo == nil || got.Photo.Type != "image/png" || string(got.Photo.Data) != string(photo.Data) {
				t.Fatalf("opened %+v, want the body and the photo", got)
			}
			// Another reader's key, or the same ciphertext bound to another
			// tip, does not open.
			other := school
			if c.key == school {
				other = reporter
			}
			if _, err := thread.Open(other, c.who, 7, "tip1", m); !errors.Is(err, vault.ErrDecrypt) {
				t.Errorf("opened with another key: got %v, want ErrDecrypt", err)
			}
			if _, err := thread.Open(c.key, c.who, 7, "tip2", m); !errors.Is(err, vault.ErrDecrypt) {
				t.Errorf("opened bound to another tip: got %v, want ErrDecrypt", err)
			}
		})
	}
	// A copy moved to another column does not open: the labels differ.
	moved := *m
	moved.BodySealed = m.ReporterSealed
	if _, err := thread.Open(reporter, thread.ReadSchool, 7, "tip1", &moved); !errors.Is(err, vault.ErrDecrypt) {
		t.Errorf("reporter copy opened as the school's: got %v, want ErrDecrypt", err)
	}
}

func TestSealWithoutOptionalRecipients(t *testing.T) {
	school := mustKey(t)
	m, err := thread.Seal(1, "t", hotline.AuthorNote, "note", nil, thread.Recipients{School: school.PublicKey()})
	if err != nil {
		t.Fatal(err)
	}
	if m.BodySealed == nil || m.ReporterSealed != nil || m.DistrictSealed != nil || m.PhotoSealed != nil {
		t.Fatalf("sealed columns: got %+v, want the school's body only", m)
	}
	got, err := thread.Open(school, thread.ReadSchool, 1, "t", m)
	if err != nil || got.Body != "note" || got.HasPhoto {
		t.Fatalf("opened %+v %v", got, err)
	}
}

func TestPrepared(t *testing.T) {
	school, reporter := mustKey(t), mustKey(t)
	pre, err := thread.Prepare(3, "tipP", school.PublicKey(), reporter.PublicKey())
	if err != nil {
		t.Fatal(err)
	}
	m, err := thread.SealPrepared(pre, 3, "tipP", hotline.AuthorReporter, "早就准备好了", nil,
		thread.Recipients{School: school.PublicKey(), Reporter: reporter.PublicKey()})
	if err != nil {
		t.Fatal(err)
	}
	if m.UID != pre.UID {
		t.Fatalf("uid: got %q, want the prepared %q", m.UID, pre.UID)
	}
	for _, c := range []struct {
		key *vault.PrivateKey
		who thread.Reader
	}{{school, thread.ReadSchool}, {reporter, thread.ReadReporter}} {
		got, err := thread.Open(c.key, c.who, 3, "tipP", m)
		if err != nil || got.Body != "早就准备好了" {
			t.Fatalf("reader %d: got %+v %v", c.who, got, err)
		}
	}
	// A prepared seal is single-shot.
	if _, err := thread.SealPrepared(pre, 3, "tipP", hotline.AuthorReporter, "again", nil, thread.Recipients{School: school.PublicKey()}); !errors.Is(err, vault.ErrSealerUsed) {
		t.Fatalf("second seal: got %v, want ErrSealerUsed", err)
	}
}

func TestDistrictCopies(t *testing.T) {
	school, district := mustKey(t), mustKey(t)
	photo := &hotline.Photo{Type: "image/jpeg", Data: []byte{0xff, 0xd8, 1, 2, 3}}
	m, err := thread.Seal(2, "tipD", hotline.AuthorCounselor, "已经联系家长", photo, thread.Recipients{School: school.PublicKey()})
	if err != nil {
		t.Fatal(err)
	}
	// Escalation: the school's copy sealed again to the district.
	body, ph, err := thread.CopyForDistrict(school, 2, "tipD", m, district.PublicKey())
	if err != nil {
		t.Fatal(err)
	}
	copied := *m
	copied.DistrictSealed, copied.PhotoDistrictSealed = body, ph
	got, err := thread.Open(district, thread.ReadDistrict, 2, "tipD", &copied)
	if err != nil || got.Body != "已经联系家长" || got.Photo == nil || string(got.Photo.Data) != string(photo.Data) {
		t.Fatalf("district copy: got %+v %v", got, err)
	}
	// The race: a message sealed before escalation and stored after.
	if err := thread.AddDistrictCopy(m, 2, "tipD", "已经联系家长", photo, district.PublicKey()); err != nil {
		t.Fatal(err)
	}
	got, err = thread.Open(district, thread.ReadDistrict, 2, "tipD", m)
	if err != nil || got.Body != "已经联系家长" || got.Photo == nil {
		t.Fatalf("added district copy: got %+v %v", got, err)
	}
	// A second call keeps the first copy.
	before := string(m.DistrictSealed)
	if err := thread.AddDistrictCopy(m, 2, "tipD", "other", nil, district.PublicKey()); err != nil || string(m.DistrictSealed) != before {
		t.Fatalf("second AddDistrictCopy replaced the copy (err %v)", err)
	}
}

func TestValidateText(t *testing.T) {
	for _, c := range []struct {
		in   string
		want string
		err  error
	}{
		{"  你好 \x00", "你好", nil},
		{" \n ", "", hotline.ErrEmptyMessage},
		{"\xff", "", hotline.ErrInvalidUTF8},
		{strings.Repeat("欺", thread.MaxMessageRunes), strings.Repeat("欺", thread.MaxMessageRunes), nil},
		{strings.Repeat("欺", thread.MaxMessageRunes+1), "", hotline.ErrTooLong},
	} {
		got, err := thread.ValidateText(c.in)
		if got != c.want || !errors.Is(err, c.err) && err != c.err {
			t.Errorf("ValidateText(%.20q): got %.20q, %v; want %.20q, %v", c.in, got, err, c.want, c.err)
		}
	}
}

func TestEntriesForReporter(t *testing.T) {
	at := time.Date(2026, 3, 1, 8, 0, 0, 0, time.UTC)
	msgs := []*hotline.Message{
		{UID: "a", Author: hotline.AuthorReporter, Body: "我被打了", CreatedAt: at},
		{UID: "n", Author: hotline.AuthorNote, Body: "internal"},
		{UID: "b", Author: hotline.AuthorCounselor, Body: "收到", Photo: &hotline.Photo{Type: "image/png"}, HasPhoto: true},
		{UID: "c", Author: hotline.AuthorSystem, Body: "ok"},
		nil,
	}
	es := thread.Entries(msgs)
	var got []string
	for _, e := range es {
		got = append(got, e.UID+"|"+string(e.Speaker)+"|"+e.Line(hotline.LangZH)+"|"+e.Line(hotline.LangEN))
	}
	want := []string{
		"a|you|你：我被打了|You: 我被打了",
		"b|counselor|老师：[照片] 收到|Counselor: [photo] 收到",
		"c|hotline|热线：ok|Hotline: ok",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("entries:\ngot  %q\nwant %q", got, want)
	}
	if !es[0].At.Equal(at) {
		t.Errorf("at: got %v, want %v", es[0].At, at)
	}
}

// TestAppend adds a reporter's message and a note to a stored tip, and a
// reply to an escalated one, through the one transaction.
func TestAppend(t *testing.T) {
	ctx := context.Background()
	db := testsupport.OpenStore(t)
	schoolKey, reporterKey := mustKey(t), mustKey(t)
	school := &hotline.School{Code: "no1", Name: "一中", District: "西城区", PublicKey: schoolKey.PublicKey()}
	tip := &hotline.Tip{UID: vault.NewID(), Channel: hotline.ChannelWebchat, Role: hotline.ReporterVictim, Status: hotline.StatusNew,
		Severity: hotline.SeverityUnassessed, Category: hotline.CategoryVerbal, Alias: hotline.Alias{ZH: "蓝狐", EN: "Blue Fox"},
		ReporterKey: reporterKey.PublicKey(), ReporterKeyVersion: vault.ReporterKeyCurrent, Steps: map[hotline.Step]bool{}}
	err := db.Update(ctx, func(tx *store.Tx) error {
		if err := tx.CreateSchool(school, []byte("wrapped")); err != nil {
			return err
		}
		tip.SchoolID = school.ID
		return tx.InsertTip(tip, nil)
	})
	if err != nil {
		t.Fatal(err)
	}
	var order []string
	m, saved, err := thread.Append(ctx, db, tip, school, thread.Draft{Author: hotline.AuthorReporter, Text: "还有一件事"}, thread.Hooks{
		Before: func(tx *store.Tx, t *hotline.Tip, m *store.SealedMessage) error {
			order = append(order, "before")
			if m.ID != 0 {
				return errors.New("before: message already stored")
			}
			return nil
		},
		After: func(tx *store.Tx, t *hotline.Tip, m *store.SealedMessage) error {
			order = append(order, "after")
			if m.ID == 0 {
				return errors.New("after: message not stored")
			}
			t.Urgent = true
			return nil
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(order, ",") != "before,after" {
		t.Fatalf("hooks ran %v, want before,after", order)
	}
	if !saved.Urgent {
		t.Errorf("tip changed in After was not saved")
	}
	if _, _, err := thread.Append(ctx, db, tip, school, thread.Draft{Author: hotline.AuthorNote, Text: "内部备注"}, thread.Hooks{}); err != nil {
		t.Fatal(err)
	}
	stored, err := db.Messages(ctx, tip.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(stored) != 2 || stored[0].UID != m.UID || stored[1].ReporterSealed != nil {
		t.Fatalf("stored %d messages; the note must have no reporter copy", len(stored))
	}
	t2, err := db.TipByID(ctx, tip.ID)
	if err != nil || !t2.Urgent {
		t.Fatalf("stored tip: %+v %v", t2, err)
	}
	// The reporter reads their message, never the note.
	msgs, err := thread.OpenForReporter(reporterKey, t2, stored)
	if err != nil {
		t.Fatal(err)
	}
	if len(msgs) != 1 || msgs[0].Body != "还有一件事" {
		t.Fatalf("reporter reads %+v", msgs)
	}
	// A failing hook stores nothing.
	boom := errors.New("boom")
	if _, _, err := thread.Append(ctx, db, tip, school, thread.Draft{Author: hotline.AuthorReporter, Text: "x"}, thread.Hooks{
		After: func(*store.Tx, *hotline.Tip, *store.SealedMessage) error { return boom },
	}); !errors.Is(err, boom) {
		t.Fatalf("append with failing hook: got %v, want boom", err)
	}
	if stored, _ := db.Messages(ctx, tip.ID); len(stored) != 2 {
		t.Fatalf("a failed append stored a message: %d messages", len(stored))
	}
}

func TestPushed(t *testing.T) {
	if got, want := thread.PushedReply(hotline.LangZH, "蓝狐", "你安全吗？"), "学校老师回复了你的报告「蓝狐」：\n\n你安全吗？"; got != want {
		t.Errorf("zh: got %q, want %q", got, want)
	}
	if got, want := thread.PushedPhoto(hotline.LangEN, "Blue Fox"), "A counselor at your school sent a picture about your report \"Blue Fox\"."; got != want {
		t.Errorf("en photo: got %q, want %q", got, want)
	}
}
