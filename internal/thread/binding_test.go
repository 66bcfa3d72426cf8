package thread_test

import (
	"context"
	"errors"
	"testing"

	"hotline/internal/hotline"
	"hotline/internal/store"
	"hotline/internal/testsupport"
	"hotline/internal/thread"
	"hotline/internal/vault"
)

// bindingFixture is a stored school with two counselors and a web tip.
type bindingFixture struct {
	db                  *store.DB
	school              *hotline.School
	schoolKey, reporter *vault.PrivateKey
	tip                 *hotline.Tip
	c1, c2              int64 // counselor ids
}

func newBindingFixture(t *testing.T) *bindingFixture {
	t.Helper()
	db := testsupport.OpenStore(t)
	f := &bindingFixture{db: db, schoolKey: mustKey(t), reporter: mustKey(t)}
	f.school = &hotline.School{Code: "no2", Name: "二中", District: "西城区", PublicKey: f.schoolKey.PublicKey()}
	f.tip = &hotline.Tip{UID: vault.NewID(), Channel: hotline.ChannelWebchat, Role: hotline.ReporterVictim, Status: hotline.StatusNew,
		Severity: hotline.SeverityUnassessed, Category: hotline.CategoryVerbal, Alias: hotline.Alias{ZH: "白鹭", EN: "White Egret"},
		ReporterKey: f.reporter.PublicKey(), ReporterKeyVersion: vault.ReporterKeyCurrent, Steps: map[hotline.Step]bool{}}
	err := db.Update(context.Background(), func(tx *store.Tx) error {
		if err := tx.CreateSchool(f.school, []byte("wrapped")); err != nil {
			return err
		}
		for i, id := range []*int64{&f.c1, &f.c2} {
			c := &hotline.Counselor{SchoolID: f.school.ID, Username: []string{"a", "b"}[i], Role: hotline.RoleCounselor}
			if err := tx.CreateCounselor(c, []byte("wrapped")); err != nil {
				return err
			}
			*id = c.ID
		}
		f.tip.SchoolID = f.school.ID
		return tx.InsertTip(f.tip, nil)
	})
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// stored reads a message back as the database holds it.
func (f *bindingFixture) stored(t *testing.T, uid string) *store.SealedMessage {
	t.Helper()
	m, err := f.db.MessageByUID(context.Background(), uid)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func (f *bindingFixture) exec(t *testing.T, q string, args ...any) {
	t.Helper()
	if _, err := f.db.Writer().Exec(q, args...); err != nil {
		t.Fatal(err)
	}
}

// TestRelabelledAuthorDoesNotOpen: a counselor's note whose author column
// is changed to the reporter's (so that the inbox would show it as the
// reporter's words), or to another counselor, no longer opens; nor does
// lowering its label version to the one that bound no author.
func TestRelabelledAuthorDoesNotOpen(t *testing.T) {
	ctx := context.Background()
	f := newBindingFixture(t)
	note, _, err := thread.Append(ctx, f.db, f.tip, f.school, thread.Draft{Author: hotline.AuthorNote, CounselorID: f.c1, Text: "家长说孩子在撒谎"}, thread.Hooks{})
	if err != nil {
		t.Fatal(err)
	}
	reply, _, err := thread.Append(ctx, f.db, f.tip, f.school, thread.Draft{Author: hotline.AuthorCounselor, CounselorID: f.c1, Text: "我们会处理"}, thread.Hooks{})
	if err != nil {
		t.Fatal(err)
	}
	if m := f.stored(t, note.UID); m.SealVersion != vault.InfoV2 {
		t.Fatalf("new message stored with seal version %d, want %d", m.SealVersion, vault.InfoV2)
	}
	if msg, err := thread.Open(f.schoolKey, thread.ReadSchool, f.school.ID, f.tip.UID, f.stored(t, note.UID)); err != nil || msg.Body != "家长说孩子在撒谎" {
		t.Fatalf("note opens as %+v, %v", msg, err)
	}
	tests := []struct {
		name, uid, set string
		args           []any
	}{
		{"note as reporter", note.UID, `author = 'reporter', counselor_id = NULL`, nil},
		{"note as reporter, counselor kept", note.UID, `author = 'reporter'`, nil},
		{"note as reply", note.UID, `author = 'counselor'`, nil},
		{"note as system", note.UID, `author = 'system', counselor_id = NULL`, nil},
		{"note of another counselor", note.UID, `counselor_id = ?`, []any{f.c2}},
		{"note lowered to version 1", note.UID, `seal_version = 1`, nil},
		{"note as reporter at version 1", note.UID, `author = 'reporter', counselor_id = NULL, seal_version = 1`, nil},
		{"reply of another counselor", reply.UID, `counselor_id = ?`, []any{f.c2}},
		{"reply as reporter", reply.UID, `author = 'reporter', counselor_id = NULL`, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			orig := f.stored(t, tt.uid)
			f.exec(t, `UPDATE messages SET `+tt.set+` WHERE uid = ?`, append(tt.args, tt.uid)...)
			defer f.exec(t, `UPDATE messages SET author = ?, counselor_id = ?, seal_version = ? WHERE uid = ?`, string(orig.Author), orig.CounselorID, orig.SealVersion, tt.uid)
			m := f.stored(t, tt.uid)
			if msg, err := thread.Open(f.schoolKey, thread.ReadSchool, f.school.ID, f.tip.UID, m); !errors.Is(err, vault.ErrDecrypt) {
				t.Errorf("school copy of the relabelled message opens: %+v, %v", msg, err)
			}
			if m.ReporterSealed != nil {
				if msg, err := thread.Open(f.reporter, thread.ReadReporter, f.school.ID, f.tip.UID, m); !errors.Is(err, vault.ErrDecrypt) {
					t.Errorf("reporter copy of the relabelled message opens: %+v, %v", msg, err)
				}
			}
		})
	}
	// Restored, both open again: the test changed only the labels.
	for _, uid := range []string{note.UID, reply.UID} {
		if _, err := thread.Open(f.schoolKey, thread.ReadSchool, f.school.ID, f.tip.UID, f.stored(t, uid)); err != nil {
			t.Errorf("restored message does not open: %v", err)
		}
	}
}

// TestVersion1MessagesOpen: messages sealed before authors were bound
// (the version 1 label, written here with that code path) still open for
// the school, the reporter and, after escalation, the district.
func TestVersion1MessagesOpen(t *testing.T) {
	ctx := context.Background()
	f := newBindingFixture(t)
	district := mustKey(t)
	old := &store.SealedMessage{UID: vault.NewID(), TipID: f.tip.ID, Author: hotline.AuthorCounselor, SealVersion: vault.InfoV1}
	old.CounselorID.Int64, old.CounselorID.Valid = f.c1, true
	v1 := func(part string) vault.Info {
		return vault.Info{School: f.school.ID, Tip: f.tip.UID, Msg: old.UID, Part: part}
	}
	var err error
	if old.BodySealed, err = vault.Seal(f.schoolKey.PublicKey(), v1(thread.PartBody), []byte("旧的回复")); err != nil {
		t.Fatal(err)
	}
	if old.ReporterSealed, err = vault.Seal(f.reporter.PublicKey(), v1(thread.PartReporterBody), []byte("旧的回复")); err != nil {
		t.Fatal(err)
	}
	if err := f.db.Update(ctx, func(tx *store.Tx) error { return tx.InsertMessage(old) }); err != nil {
		t.Fatal(err)
	}
	m := f.stored(t, old.UID)
	if msg, err := thread.Open(f.schoolKey, thread.ReadSchool, f.school.ID, f.tip.UID, m); err != nil || msg.Body != "旧的回复" {
		t.Fatalf("school opens the version 1 message as %+v, %v", msg, err)
	}
	msgs, err := thread.OpenForReporter(f.reporter, f.tip, []*store.SealedMessage{m})
	if err != nil || len(msgs) != 1 || msgs[0].Body != "旧的回复" {
		t.Fatalf("reporter opens the version 1 message as %+v, %v", msgs, err)
	}
	body, _, err := thread.CopyForDistrict(f.schoolKey, f.school.ID, f.tip.UID, m, district.PublicKey())
	if err != nil {
		t.Fatal(err)
	}
	m.DistrictSealed = body
	if msg, err := thread.Open(district, thread.ReadDistrict, f.school.ID, f.tip.UID, m); err != nil || msg.Body != "旧的回复" {
		t.Fatalf("district opens its copy of the version 1 message as %+v, %v", msg, err)
	}
	// A version 1 row relabelled still opens (it bound no author): that is
	// what version 2 fixes, and why new rows never get version 1.
	m.Author = hotline.AuthorReporter
	if _, err := thread.Open(f.schoolKey, thread.ReadSchool, f.school.ID, f.tip.UID, m); err != nil {
		t.Errorf("version 1 row no longer opens after relabelling: %v", err)
	}
}

func TestPreparedIsTheReporters(t *testing.T) {
	school, reporter := mustKey(t), mustKey(t)
	pre, err := thread.Prepare(3, "tipQ", school.PublicKey(), reporter.PublicKey())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := thread.SealPrepared(pre, 3, "tipQ", hotline.AuthorNote, "x", nil, thread.Recipients{School: school.PublicKey()}); err == nil {
		t.Fatalf("a prepared body sealed as a note")
	}
	m, err := thread.SealPrepared(pre, 3, "tipQ", hotline.AuthorReporter, "他们又来了", nil, thread.Recipients{School: school.PublicKey(), Reporter: reporter.PublicKey()})
	if err != nil {
		t.Fatal(err)
	}
	if msg, err := thread.Open(school, thread.ReadSchool, 3, "tipQ", m); err != nil || msg.Body != "他们又来了" {
		t.Fatalf("prepared message opens as %+v, %v", msg, err)
	}
	m.Author = hotline.AuthorSystem
	if _, err := thread.Open(school, thread.ReadSchool, 3, "tipQ", m); !errors.Is(err, vault.ErrDecrypt) {
		t.Errorf("prepared message opens with another author: %v", err)
	}
}
