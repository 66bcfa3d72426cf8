package main

import (
	"context"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"hotline/internal/survey"
)

// TestSurveyInBrowser takes the questionnaire on a 360-px phone in a real
// browser (no JavaScript is needed, none runs) and shows the results page
// to the school's admin; with HOTLINE_SCREENSHOTS set it refreshes
// docs/survey-phone.png and docs/survey-results.png.
func TestSurveyInBrowser(t *testing.T) {
	const chromium = "/usr/bin/chromium"
	if _, err := os.Stat(chromium); err != nil {
		if os.Getenv("CI") == "" {
			t.Skipf("no %s (set CI=true to make this a failure)", chromium)
		}
		t.Fatalf("CI needs %s: %v", chromium, err)
	}
	f := newSurveyFixture(t)
	ctx0 := context.Background()
	made, err := f.m.Surveys.Create(ctx0, f.school.Admin, survey.NewSurvey{BaselineOpens: f.now.Add(-time.Hour), BaselineCloses: f.now.Add(7 * 24 * time.Hour),
		FollowUpOpens: f.now.Add(30 * 24 * time.Hour), FollowUpCloses: f.now.Add(40 * 24 * time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	uid := made[0].UID
	codes := f.printCodes(t, uid, 1, "初一", "3", 24)
	codes4 := f.printCodes(t, uid, 1, "初一", "4", 20)
	for i, c := range codes[:23] {
		answerWeb(t, f.m.URL(), c, pupilAnswers(i, 9), -1)
	}
	for i, c := range codes4 {
		answerWeb(t, f.m.URL(), c, pupilAnswers(i, 6), -1)
	}

	outer, cancelOuter := context.WithTimeout(context.Background(), 6*time.Minute)
	defer cancelOuter()
	actx, cancelAlloc := chromedp.NewExecAllocator(outer, append(browserOptions(chromium, filepath.Join(t.TempDir(), "chromium")), chromedp.WindowSize(360, 740))...)
	defer cancelAlloc()
	ctx, cancel := chromedp.NewContext(actx)
	defer cancel()
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(360, 740, chromedp.EmulateScale(2), chromedp.EmulateMobile)); err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	do := func(what string, actions ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		sctx, c := context.WithTimeout(ctx, 60*time.Second)
		defer c()
		if err := chromedp.Do(sctx, actions...); err != nil {
			t.Fatalf("%s: %v", what, err)
		}
	}
	shot := func(name string) {
		t.Helper()
		png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
		if err != nil {
			t.Fatal(err)
		}
		out := filepath.Join(t.TempDir(), name)
		if os.Getenv("HOTLINE_SCREENSHOTS") != "" {
			out = filepath.Join("..", "..", "docs", name)
		}
		if err := os.WriteFile(out, png, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	// The pupil scans the slip: the questionnaire opens at its address.
	do("open the slip's link",
		chromedp.Navigate(f.m.URL()+"/q/"+codes[23]),
		chromedp.Click(`button[value=start]`),
		chromedp.WaitVisible(`input[name="a.v_overall"]`),
		chromedp.Click(`input[name="a.v_overall"][value="2"]`),
		chromedp.Click(`input[name="a.v_verbal"][value="3"]`),
	)
	width, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.documentElement.scrollWidth`))
	if err != nil || width > 360 {
		t.Errorf("the page is %d px wide on a 360-px phone (%v)", width, err)
	}
	shot("survey-phone.png")
	do("next page", chromedp.Click(`button[value=next]`), chromedp.WaitVisible(`input[name="a.where"]`))

	// Once the wave has closed, the admin reads the results on a desktop.
	f.clock.Set(made[0].Wave(1).PublishedAt())
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(1280, 900)); err != nil {
		t.Fatal(err)
	}
	do("log in",
		chromedp.Navigate(f.m.URL()+"/inbox/login"),
		chromedp.SendKeys(`input[name=username]`, "admin-no3"),
		chromedp.SendKeys(`input[name=password]`, surveyAdminPassword),
		chromedp.Click(`form[action="/inbox/login"] button[type=submit]`),
		chromedp.WaitVisible(`nav`),
		chromedp.Navigate(f.m.URL()+"/inbox/surveys/"+url.PathEscape(uid)+"/results"),
		chromedp.WaitVisible(`#main`),
	)
	text, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.body.innerText`))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"初一(3)", "初一(4)", "9 / 23 (39%)", "6 / 20 (30%)", survey.HiddenMark, "地点 × 时间"} {
		if !strings.Contains(text, want) {
			t.Errorf("results page lacks %q", want)
		}
	}
	shot("survey-results.png")
}
