package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"hotline/internal/hotline"
	"hotline/internal/poster"
	"hotline/internal/store"
)

func runPoster(ctx context.Context, args []string, env *Env) error {
	var dir, code, out, publicURL, botName, wechatQR string
	fs := newFlagSet("poster", env, "Writes the A4 poster of a school as a PDF (--out NAME.pdf) or a PNG at 150 dpi (1240×1754): Chinese first, then English, the\nQR codes for the web chat, the Telegram bot and the WeChat account, the form's address and the numbers to call. It is\ndrawn in Go with an embedded Noto Sans SC font: no browser or system font is needed. /poster/CODE\nserves the same poster as a page to print from a browser.")
	fs.dataFlag(&dir)
	fs.StringVar(&code, "school", "", "the school's code")
	fs.StringVar(&out, "out", "", "the file to write: NAME.pdf (A4 PDF) or NAME.png")
	fs.str(&publicURL, "public-url", "", "public base URL the QR code opens, e.g. https://hotline.example.edu.cn")
	fs.str(&botName, "telegram-bot-name", "", "the bot's username for the t.me QR code (none when empty)")
	fs.str(&wechatQR, "wechat-qr", "", "the WeChat official account's QR code image (PNG or JPEG, downloaded from 公众平台), printed beside the others, or instead of Telegram's without --telegram-bot-name")
	if err := fs.Parse(args); err != nil {
		return usageErr(err)
	}
	if code == "" || out == "" {
		fmt.Fprintln(env.Stderr, "hotline poster: --school and --out are required")
		return ErrUsage
	}
	if publicURL == "" {
		// A poster whose QR code opens localhost helps no student: refuse.
		fmt.Fprintln(env.Stderr, "hotline poster: 需要 --public-url（学生手机能打开的网址，例如 https://hotline.example.edu.cn），否则二维码会指向本机 / --public-url is required (the address students' phones open, e.g. https://hotline.example.edu.cn); without it the QR code would open localhost")
		return ErrUsage
	}
	publicURL, err := checkPublicURL(publicURL)
	if err != nil {
		fmt.Fprintln(env.Stderr, "hotline poster:", err)
		return ErrUsage
	}
	ext := strings.ToLower(filepath.Ext(out))
	if ext != ".pdf" && ext != ".png" {
		fmt.Fprintln(env.Stderr, "hotline poster: --out must end in .pdf or .png")
		return ErrUsage
	}
	qr, err := readWechatQR(wechatQR)
	if err != nil {
		return err
	}
	m, err := openData(dir, env)
	if err != nil {
		return err
	}
	defer m.Close()
	school, err := m.Intake.SchoolByCode(ctx, code)
	if err != nil {
		return errMessage(err)
	}
	p := poster.New(school, publicURL, botName)
	p.Wechat = qr
	if missing := p.Missing(); len(missing) > 0 {
		fmt.Fprintf(env.Stderr, "hotline poster: the embedded font has no %q (in the school's name); they print as empty boxes\n", string(missing))
	}
	var data []byte
	if ext == ".pdf" {
		data, err = p.PDF()
	} else {
		data, err = p.PNG()
	}
	if err != nil {
		return err
	}
	if err := os.WriteFile(out, data, 0o644); err != nil {
		return err
	}
	// Printed from the command line counts for the district's rollout
	// tracker as much as a download from the setup page.
	err = m.DB.Update(ctx, func(tx *store.Tx) error {
		return tx.AppendAudit(&hotline.AuditEntry{Kind: hotline.AuditPosterDownloaded, SchoolID: school.ID, District: school.District, Client: "cli", Detail: "poster" + ext})
	})
	if err != nil {
		return err
	}
	fmt.Fprintf(env.Stdout, "海报已写入 / poster written: %s\n", out)
	return nil
}
