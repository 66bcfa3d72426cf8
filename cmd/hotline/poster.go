package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"time"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"

	"hotline/webchat"
)

func runPoster(ctx context.Context, args []string, env *Env) error {
	var dir, code, out, publicURL, botName, chromium string
	fs := newFlagSet("poster", env, "Writes the A4 poster of a school (zh-CN and English, QR codes for the web chat and the Telegram\nbot) as a PNG, the same as /poster/CODE. With Chromium installed the HTML poster is rendered as is;\nwithout it, a plainer English-only PNG with the same QR codes is drawn.")
	fs.dataFlag(&dir)
	fs.StringVar(&code, "school", "", "the school's code")
	fs.StringVar(&out, "out", "", "the PNG file to write")
	fs.str(&publicURL, "public-url", "", "public base URL the QR code opens, e.g. https://hotline.example.edu.cn")
	fs.str(&botName, "telegram-bot-name", "", "the bot's username for the t.me QR code (none when empty)")
	fs.str(&chromium, "chromium", "/usr/bin/chromium", "Chromium to render the poster with; empty draws it without a browser")
	if err := fs.Parse(args); err != nil {
		return usageErr(err)
	}
	if code == "" || out == "" {
		fmt.Fprintln(env.Stderr, "hotline poster: --school and --out are required")
		return ErrUsage
	}
	if publicURL == "" {
		publicURL = "http://127.0.0.1:8080"
		fmt.Fprintln(env.Stderr, "hotline poster: no --public-url; the QR code opens", publicURL)
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
	var png []byte
	if _, statErr := os.Stat(chromium); chromium != "" && statErr == nil {
		s := &webchat.Server{Intake: m.Intake, Reporters: m.Intake, Schools: m.Intake, MAC: m.Vault.MAC,
			PublicURL: publicURL, BotName: botName, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
		png, err = renderPoster(ctx, s.Handler(), chromium, school.Code)
		if err != nil {
			fmt.Fprintln(env.Stderr, "hotline poster: Chromium failed, drawing without it:", err)
		}
	}
	if png == nil {
		if png, err = webchat.NewPoster(school, publicURL, botName).PNG(); err != nil {
			return err
		}
	}
	if err := os.WriteFile(out, png, 0o644); err != nil {
		return err
	}
	fmt.Fprintf(env.Stdout, "海报已写入 / poster written: %s\n", out)
	return nil
}

// renderPoster serves the poster page on a loopback port and prints it with
// headless Chromium at A4, 150 dpi (1240×1754).
func renderPoster(ctx context.Context, h http.Handler, chromium, code string) ([]byte, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 5 * time.Second}
	go srv.Serve(ln)
	defer srv.Close()
	tmp, err := os.MkdirTemp("", "hotline-poster-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(tmp)
	actx, cancel := chromedp.NewExecAllocator(ctx, browserOptions(chromium, tmp)...)
	defer cancel()
	bctx, cancel := chromedp.NewContext(actx)
	defer cancel()
	if err := chromedp.Do(bctx); err != nil {
		return nil, err
	}
	tctx, cancel := context.WithTimeout(bctx, 30*time.Second)
	defer cancel()
	const a4W, a4H = 794, 1123 // CSS pixels at 96 dpi
	err = chromedp.Do(tctx,
		chromedp.EmulateViewport(a4W, a4H, chromedp.EmulateScale(1240.0/a4W)),
		chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
			_, err := chromedp.Call(ctx, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{Media: "print"})
			return err
		}),
		chromedp.Navigate("http://"+ln.Addr().String()+"/poster/"+code),
		chromedp.WaitVisible(chromedp.CSS(".sheet")),
	)
	if err != nil {
		return nil, err
	}
	// Wait for the QR images to decode before the capture.
	if _, err := chromedp.Run(tctx, chromedp.Poll[bool](`Array.from(document.images).every(i => i.complete && i.naturalWidth > 0)`)); err != nil {
		return nil, err
	}
	png, err := chromedp.Run(tctx, chromedp.CaptureScreenshot())
	if err != nil {
		return nil, err
	}
	if len(png) == 0 {
		return nil, errors.New("empty screenshot")
	}
	return png, nil
}

// browserOptions are the flags of a quiet headless Chromium: no sandbox
// (containers), no GPU, no background traffic to Google, a fresh profile.
func browserOptions(chromium, profile string) []chromedp.ExecAllocatorOption {
	return []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(chromium),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.UserDataDir(profile),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.Flag("font-render-hinting", "none"),
	}
}
