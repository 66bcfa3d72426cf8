package wechat

import (
	"bytes"
	"context"
	"image"
	"image/color"
	"image/jpeg"
	"io"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"hotline/internal/hotline"
	"hotline/internal/relay"
	"hotline/internal/sim/wechatsim"
	"hotline/internal/store"
	"hotline/internal/testsupport"
	"hotline/internal/vault"
	"hotline/internal/wechattest"
)

type testClock = testsupport.Clock

// rig is a fake WeChat and one database that several adapters (nodes)
// share.
type rig struct {
	t     *testing.T
	ctx   context.Context
	clock *testClock
	fake  *wechatsim.Server
	db    *store.DB
	vault *vault.Vault
	acct  Account
}

func newRig(t *testing.T) *rig {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	t.Cleanup(cancel)
	clock := testsupport.NewClock(time.Now())
	dir := t.TempDir()
	db, err := store.Open(filepath.Join(dir, "hotline.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	v, err := vault.LoadOrCreate(dir, vault.Options{Argon: vault.Argon2Params{Time: 1, MemoryKiB: 64, Threads: 1}})
	if err != nil {
		t.Fatal(err)
	}
	acct := Account{Name: "district", AppID: "wx0123456789abcdef", Secret: "APPSECRET-unit", Token: "unitToken", AESKey: wechatsim.NewAESKey()}
	fake := wechattest.New(t, wechatsim.Config{AppID: acct.AppID, Secret: acct.Secret, Token: acct.Token, AESKey: acct.AESKey, Clock: clock})
	return &rig{t: t, ctx: ctx, clock: clock, fake: fake, db: db, vault: v, acct: acct}
}

// node starts one adapter on the rig's database.
func (r *rig) node() *Service {
	r.t.Helper()
	s, err := New(Config{Accounts: []Account{r.acct}, APIURL: r.fake.URL(), DB: r.db, Vault: r.vault, Clock: r.clock,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), CallTimeout: 5 * time.Second})
	if err != nil {
		r.t.Fatal(err)
	}
	return s
}

func (r *rig) client(s *Service) *client { return s.accounts[r.acct.Name].client }

// storedAt is when the shared token row was last refreshed, 0 for none.
func (r *rig) storedAt() int64 {
	t, err := r.db.WechatToken(r.ctx, r.acct.Name)
	if hotline.ErrorCode(err) == hotline.ENOTFOUND {
		return 0
	} else if err != nil {
		r.t.Fatal(err)
	}
	return t.RefreshedAt
}

func texts(sent []wechatsim.Sent) []string {
	var out []string
	for _, s := range sent {
		out = append(out, s.Kind+":"+s.Text)
	}
	return out
}

// TestAccessTokenRefresh: the access token is fetched once and shared by
// two nodes through the database. When WeChat answers 40001 (the token was
// invalidated) the stored token is dropped, refreshed once with
// force_refresh, and the send goes through, once; the other node then uses
// the new token without a refresh of its own. 42001 (expired) refreshes
// without forcing. A call that keeps failing is not retried for ever.
func TestAccessTokenRefresh(t *testing.T) {
	r := newRig(t)
	a, b := r.node(), r.node()
	const openID = "oUNIT-openid-1"
	r.fake.OpenWindow(openID)

	if err := r.client(a).sendText(r.ctx, openID, "one"); err != nil {
		t.Fatal(err)
	}
	if err := r.client(b).sendText(r.ctx, openID, "two"); err != nil {
		t.Fatal(err)
	}
	if issued, _ := r.fake.TokensIssued(); issued != 1 || r.fake.TokenCalls() != 1 {
		t.Fatalf("issued %d tokens in %d calls for two nodes, want 1 in 1: the token is not shared", issued, r.fake.TokenCalls())
	}
	first := r.storedAt()

	// 40001: invalidated (revoked, or refreshed by someone else).
	r.fake.RevokeTokens()
	r.clock.Add(time.Second)
	if err := r.client(a).sendText(r.ctx, openID, "three"); err != nil {
		t.Fatalf("send after 40001: %v", err)
	}
	issued, forced := r.fake.TokensIssued()
	if issued != 2 || forced != 1 {
		t.Fatalf("after 40001: issued %d, forced %d; want one forced refresh", issued, forced)
	}
	if at := r.storedAt(); at == 0 || at == first {
		t.Fatalf("the stored token was not replaced (%d, was %d)", at, first)
	}
	calls := r.fake.TokenCalls()
	if err := r.client(b).sendText(r.ctx, openID, "four"); err != nil {
		t.Fatal(err)
	}
	if r.fake.TokenCalls() != calls {
		t.Fatal("the other node refreshed again instead of using the shared token")
	}

	// 42001: expired. Refreshed without forcing (stable_token hands out
	// the current one).
	r.fake.FailNext("/cgi-bin/message/custom/send", codeExpiredToken)
	if err := r.client(b).sendText(r.ctx, openID, "five"); err != nil {
		t.Fatalf("send after 42001: %v", err)
	}
	if got := r.fake.TokenCalls(); got != calls+1 {
		t.Fatalf("%d token calls after 42001, want %d", got, calls+1)
	}
	if _, f := r.fake.TokensIssued(); f != 1 {
		t.Fatalf("42001 forced a refresh (%d forced)", f)
	}

	want := []string{"text:one", "text:two", "text:three", "text:four", "text:five"}
	if got := texts(r.fake.Sent(openID)); strings.Join(got, "|") != strings.Join(want, "|") {
		t.Fatalf("sent %q, want each once, in order: %q", got, want)
	}

	// A token that is refused again after the refresh: the error comes
	// back after one retry, not a loop.
	calls = r.fake.TokenCalls()
	n := 0
	err := r.client(a).withToken(r.ctx, func(string) error { n++; return &APIError{Code: codeInvalidToken} })
	if apiCode(err) != codeInvalidToken || n != 2 || r.fake.TokenCalls() != calls+1 {
		t.Fatalf("got %v after %d tries and %d token calls, want 40001 after 2 tries and 1 call", err, n, r.fake.TokenCalls()-calls)
	}
}

// TestAccessTokenRefreshedByOtherNode: node A's call fails 40001 because
// node B refreshed meanwhile. A takes B's token from the database instead of
// forcing a refresh of its own, which would invalidate B's in turn.
func TestAccessTokenRefreshedByOtherNode(t *testing.T) {
	r := newRig(t)
	a, b := r.node(), r.node()
	const openID = "oUNIT-openid-2"
	r.fake.OpenWindow(openID)
	if err := r.client(a).sendText(r.ctx, openID, "warm"); err != nil {
		t.Fatal(err)
	}
	var bTok string
	tries := 0
	err := r.client(a).withToken(r.ctx, func(tok string) error {
		tries++
		if tries == 1 {
			// B refreshes (forced: its own 40001) while A's call is out.
			r.clock.Add(time.Second)
			var err error
			if bTok, _, err = r.client(b).token(r.ctx, true); err != nil {
				t.Fatal(err)
			}
			return &APIError{Code: codeInvalidToken}
		}
		if tok != bTok {
			t.Errorf("A retried with another token than B's fresh one")
		}
		return nil
	})
	if err != nil || tries != 2 {
		t.Fatalf("got %v after %d tries", err, tries)
	}
	if _, forced := r.fake.TokensIssued(); forced != 1 {
		t.Fatalf("%d forced refreshes, want only B's", forced)
	}
	// B's token stays stored: A's drop of its stale one did not remove it.
	stored, err := r.db.WechatToken(r.ctx, r.acct.Name)
	if err != nil {
		t.Fatal(err)
	}
	if tok, err := r.vault.OpenServer(tokenPurpose(&r.acct), stored.TokenSealed); err != nil || string(tok) != bTok {
		t.Fatal("the stored token is not B's")
	}
}

func testJPEG(t *testing.T) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, 64, 48))
	for y := 0; y < 48; y++ {
		for x := 0; x < 64; x++ {
			img.Set(x, y, color.RGBA{uint8(x * 4), uint8(y * 5), 0x80, 0xff})
		}
	}
	var b bytes.Buffer
	if err := jpeg.Encode(&b, img, nil); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// peer records a reporter who wrote now, as a callback would.
func (r *rig) peer(s *Service, openID string) int64 {
	r.t.Helper()
	a := s.accounts[r.acct.Name]
	peer := s.peerID(a, openID)
	if err := s.touch(r.ctx, a, peer, openID); err != nil {
		r.t.Fatal(err)
	}
	r.fake.OpenWindow(openID)
	return peer
}

// TestDeliverCounselorPhoto: a counselor's reply with a photo is uploaded
// as temporary media, then sent as an image message with the uploaded
// bytes, then the caption with the case's alias, in that order; a photo
// without words gets a short line naming the alias. An upload refused for
// an invalid token is retried once with a fresh one, and nothing is sent
// twice.
func TestDeliverCounselorPhoto(t *testing.T) {
	r := newRig(t)
	s := r.node()
	const openID = "oUNIT-openid-photo"
	peer := r.peer(s, openID)
	photo := testJPEG(t)

	p := &relay.Payload{Kind: relay.KindReply, Channel: hotline.ChannelWechat, ChatID: peer, Text: "这是学校门口的监控截图，是这个人吗？", Alias: "蓝狐", Lang: hotline.LangZH, Photo: photo, PhotoType: "image/jpeg"}
	if err := s.Deliver(r.ctx, p); err != nil {
		t.Fatal(err)
	}
	sent := r.fake.Sent(openID)
	if len(sent) != 2 {
		t.Fatalf("sent %q, want an image then its caption", texts(sent))
	}
	if sent[0].Kind != "image" || !bytes.Equal(sent[0].Image, photo) {
		t.Fatalf("first message %q is not the uploaded photo", sent[0].Kind)
	}
	if sent[1].Kind != "text" || !strings.Contains(sent[1].Text, "是这个人吗") || !strings.Contains(sent[1].Text, "蓝狐") {
		t.Fatalf("caption %q", sent[1].Text)
	}

	// Photo only, and the token is invalidated before the upload.
	r.fake.RevokeTokens()
	p2 := &relay.Payload{Kind: relay.KindReply, Channel: hotline.ChannelWechat, ChatID: peer, Alias: "蓝狐", Lang: hotline.LangZH, Photo: photo, PhotoType: "image/jpeg"}
	if err := s.Deliver(r.ctx, p2); err != nil {
		t.Fatalf("photo after 40001: %v", err)
	}
	sent = r.fake.Sent(openID)[2:]
	if len(sent) != 2 || sent[0].Kind != "image" || !bytes.Equal(sent[0].Image, photo) || sent[1].Kind != "text" || !strings.Contains(sent[1].Text, "蓝狐") {
		t.Fatalf("photo-only reply sent %q", texts(sent))
	}
	if _, forced := r.fake.TokensIssued(); forced != 1 {
		t.Fatalf("%d forced refreshes, want 1", forced)
	}

	// After the 48-hour window the photo is not uploaded at all: the
	// reply is held.
	r.clock.Add(49 * time.Hour)
	if err := s.Deliver(r.ctx, p); err != relay.ErrUnreachable {
		t.Fatalf("after the window: %v, want ErrUnreachable", err)
	}
	if got := len(r.fake.Sent(openID)); got != 4 {
		t.Fatalf("%d messages after the window closed, want still 4", got)
	}
}
