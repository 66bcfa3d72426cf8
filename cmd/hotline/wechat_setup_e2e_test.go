package main

import (
	"bytes"
	"context"
	"image"
	"image/jpeg"
	"image/png"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/skip2/go-qrcode"

	"hotline/internal/hotline"
)

// writeWechatQR writes a stand-in for the QR code image 公众平台 gives to
// download (a 430 px JPEG) and returns its path.
func writeWechatQR(t *testing.T) string {
	t.Helper()
	q, err := qrcode.New("http://weixin.qq.com/q/02FAKE-hotline-e2e", qrcode.Medium)
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if err := jpeg.Encode(&b, q.Image(430), &jpeg.Options{Quality: 95}); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "wechat-qr.jpg")
	if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestWechatSetupPageAndPoster: the server runs the demo school's own
// WeChat account with its QR code image (--wechat-qr). Its admin logs in to
// the inbox over HTTP and reads, on the setup page, the server URL built
// from --public-url and the token to paste into 公众平台; a counselor is
// refused the page. The school's printable poster carries the account's
// code, served as a PNG.
func TestWechatSetupPageAndPoster(t *testing.T) {
	qrFile := writeWechatQR(t)
	e := newWechatEnvMain(t, nil, func(m *Main) {
		m.Config.WechatSchool = demoSchool
		m.Config.WechatQR = qrFile
	})
	base := e.m.URL()

	admin := newInboxUser(t, base)
	admin.login(demoUser, demoPassword)
	p := admin.get("/inbox/admin/setup")
	if p.status != 200 {
		t.Fatalf("setup: %d", p.status)
	}
	for _, want := range []string{e.m.Config.PublicURL + "/wechat/district", e.cfg.Token, "服务器配置", "安全模式", "令牌是服务器和微信之间共用的密钥", "海报上印有这个公众号的二维码"} {
		if !strings.Contains(p.body, want) {
			t.Errorf("setup page lacks %q", want)
		}
	}

	// A counselor of the school: refused, and no token.
	sess, err := e.m.Staff.Authenticate(e.ctx, demoUser, demoPassword)
	if err != nil {
		t.Fatal(err)
	}
	defer sess.Wipe()
	_, otp, err := e.m.Staff.AddCounselor(e.ctx, sess, "zhou", "周老师", hotline.RoleCounselor)
	if err != nil {
		t.Fatal(err)
	}
	counselor := newInboxUser(t, base)
	if err := setPassword(e.ctx, e.m, "zhou", otp); err != nil {
		t.Fatal(err)
	}
	counselor.login("zhou", demoPassword)
	if p := counselor.get("/inbox/admin/setup"); p.status != http.StatusForbidden || strings.Contains(p.body, e.cfg.Token) {
		t.Fatalf("counselor: setup %d, token shown %v", p.status, strings.Contains(p.body, e.cfg.Token))
	}

	// The poster page and its WeChat code.
	resp, err := http.Get(base + "/poster/" + demoSchool)
	if err != nil {
		t.Fatal(err)
	}
	var page bytes.Buffer
	page.ReadFrom(resp.Body)
	resp.Body.Close()
	for _, want := range []string{`/poster/demo/qr/wechat.png`, "微信公众号", "微信扫码关注后点「我要报告」"} {
		if !strings.Contains(page.String(), want) {
			t.Errorf("poster page lacks %q", want)
		}
	}
	resp, err = http.Get(base + "/poster/" + demoSchool + "/qr/wechat.png")
	if err != nil {
		t.Fatal(err)
	}
	img, err := png.Decode(resp.Body)
	resp.Body.Close()
	if err != nil || resp.Header.Get("Content-Type") != "image/png" {
		t.Fatalf("wechat.png: %v (%s)", err, resp.Header.Get("Content-Type"))
	}
	if img.Bounds().Size() != image.Pt(430, 430) {
		t.Fatalf("wechat.png is %v, want the 430 px code", img.Bounds().Size())
	}
}

// TestPosterCommandWechatQR: `hotline poster --wechat-qr FILE` without a
// bot prints the account's code instead of Telegram's: the PNG is A4 and
// differs from the poster without it; a file that is not an image is
// refused with the reason, and nothing is written.
func TestPosterCommandWechatQR(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	var out, errb bytes.Buffer
	for _, args := range [][]string{
		{"init", "--data", dir},
		{"district", "add", "--data", dir, "--name", "海淀区", "--officer", "hd-officer"},
		{"school", "add", "--data", dir, "--name", "第三中学（演示）", "--code", "demo", "--district", "海淀区"},
	} {
		if code := run(ctx, args, nil, &out, &errb); code != 0 {
			t.Fatalf("%s exit %d: %s", args[0], code, errb.String())
		}
	}
	draw := func(extra ...string) (image.Image, string, int) {
		file := filepath.Join(t.TempDir(), "p.png")
		out.Reset()
		errb.Reset()
		args := append([]string{"poster", "--data", dir, "--school", "demo", "--out", file, "--public-url", "https://hotline.example.edu.cn"}, extra...)
		code := run(ctx, args, nil, &out, &errb)
		b, err := os.ReadFile(file)
		if err != nil {
			return nil, errb.String(), code
		}
		m, err := png.Decode(bytes.NewReader(b))
		if err != nil {
			t.Fatal(err)
		}
		return m, errb.String(), code
	}
	with, stderr, code := draw("--wechat-qr", writeWechatQR(t))
	if code != 0 || with == nil {
		t.Fatalf("poster with --wechat-qr: exit %d: %s", code, stderr)
	}
	if with.Bounds() != image.Rect(0, 0, 1240, 1754) {
		t.Fatalf("got %v, want A4 at 150 dpi", with.Bounds())
	}
	without, _, code := draw()
	if code != 0 || without == nil {
		t.Fatalf("poster: exit %d", code)
	}
	diff := 0
	for y := 0; y < 1754; y += 2 {
		for x := 0; x < 1240; x += 2 {
			r1, g1, b1, _ := with.At(x, y).RGBA()
			r2, g2, b2, _ := without.At(x, y).RGBA()
			if r1 != r2 || g1 != g2 || b1 != b2 {
				diff++
			}
		}
	}
	if diff < 5000 {
		t.Fatalf("only %d sampled pixels differ: the code is not printed", diff)
	}

	bad := filepath.Join(t.TempDir(), "qr.png")
	os.WriteFile(bad, []byte("not an image"), 0o644)
	if m, stderr, code := draw("--wechat-qr", bad); code == 0 || m != nil || !strings.Contains(stderr, "QR code image") {
		t.Fatalf("a bad QR file: exit %d, stderr %q, written %v", code, stderr, m != nil)
	}
}
