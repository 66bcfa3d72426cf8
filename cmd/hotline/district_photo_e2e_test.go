package main

import (
	"bytes"
	"context"
	"image"
	_ "image/jpeg"
	_ "image/png"
	"io"
	"net/url"
	"regexp"
	"testing"

	"hotline/internal/hotline"
	"hotline/internal/photo"
)

// TestDistrictSeesEscalatedPhoto: the district's case page shows an
// escalated case's photo, opened from the district's copy; the photo of a
// case not escalated, and the photo asked for by another district's
// officer, are not found.
func TestDistrictSeesEscalatedPhoto(t *testing.T) {
	t.Parallel()
	m := MustRunMain(t)
	ctx := context.Background()
	if err := seedDemo(ctx, m, io.Discard); err != nil {
		t.Fatal(err)
	}
	submitPhoto := func() (tipUID, photoUID string) {
		p, err := photo.Clean(canaryPNG(t, 7))
		if err != nil {
			t.Fatal(err)
		}
		out, err := m.Intake.Submit(ctx, hotline.Submission{SchoolCode: demoSchool, Channel: hotline.ChannelWebchat, Texts: []string{"他们拍了这张照片"}, Photos: []hotline.Photo{*p}})
		if err != nil {
			t.Fatal(err)
		}
		tip, _ := m.DB.TipByUID(ctx, out.TipUID)
		msgs, _ := m.DB.Messages(ctx, tip.ID)
		for _, msg := range msgs {
			if msg.PhotoSealed != nil {
				return out.TipUID, msg.UID
			}
		}
		t.Fatal("no photo message")
		return "", ""
	}
	escalated, photo := submitPhoto()
	_, hidden := submitPhoto()
	admin, err := m.Staff.Authenticate(ctx, demoUser, demoPassword)
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Wipe()
	if err := m.Triage.Escalate(ctx, admin, escalated); err != nil {
		t.Fatal(err)
	}

	officer := newInboxUser(t, m.URL())
	officer.get("/inbox/login")
	if p := officer.post("/inbox/login", url.Values{"username": {demoOfficer}, "password": {demoPassword}}); p.path != "/district/" {
		t.Fatalf("officer log-in at %s", p.path)
	}
	page := officer.get("/district/tips/" + escalated)
	if page.status != 200 || !regexp.MustCompile(`<img src="/district/photos/`+regexp.QuoteMeta(photo)+`"`).MatchString(page.body) {
		t.Fatalf("the district's case page does not show the photo: %d", page.status)
	}
	img := officer.get("/district/photos/" + photo)
	if img.status != 200 {
		t.Fatalf("photo: %d", img.status)
	}
	if _, _, err := image.Decode(bytes.NewReader([]byte(img.body))); err != nil {
		t.Fatalf("the photo does not decode: %v", err)
	}
	if p := officer.get("/district/photos/" + hidden); p.status != 404 {
		t.Fatalf("the photo of a case not escalated: %d, want 404", p.status)
	}

	// An officer of another district: not found, as for a guess.
	other, err := m.Staff.CreateDistrict(ctx, "朝阳区", "cy-officer")
	if err != nil {
		t.Fatal(err)
	}
	sess, err := m.Staff.Authenticate(ctx, other.Officer.Username, other.OfficerPassword)
	if err != nil {
		t.Fatal(err)
	}
	defer sess.Wipe()
	if _, err := m.Triage.Photo(ctx, sess, photo); hotline.ErrorCode(err) != hotline.ENOTFOUND {
		t.Fatalf("another district's officer: %v, want not found", err)
	}
}
