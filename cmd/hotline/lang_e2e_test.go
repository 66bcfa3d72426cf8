package main

import (
	"strings"
	"testing"
)

// TestDistrictAndSurveyPagesKeepTheChosenLanguage: a language chosen on
// any staff page (?lang=) holds on the next pages of every area, the
// district's and the survey pages as much as the inbox's, until another
// is chosen.
func TestDistrictAndSurveyPagesKeepTheChosenLanguage(t *testing.T) {
	t.Parallel()
	_, school, officer := demoStaff(t)
	for _, step := range []struct {
		who  *inboxUser
		path string
		lang string
	}{
		{officer, "/district/", "zh-CN"},
		{officer, "/district/?lang=en", "en"},
		{officer, "/district/schools/" + demoSchool, "en"},
		{officer, "/district/settings", "en"},
		{officer, "/district/surveys/", "en"},
		{officer, "/district/surveys/?lang=zh", "zh-CN"},
		{officer, "/district/audit", "zh-CN"},
		{school, "/inbox/surveys/?lang=en", "en"},
		{school, "/inbox/surveys/", "en"},
		{school, "/inbox/", "en"},
		{school, "/inbox/stats?lang=zh", "zh-CN"},
		{school, "/inbox/surveys/", "zh-CN"},
	} {
		p := step.who.get(step.path)
		if p.status != 200 || !strings.Contains(p.body, `<html lang="`+step.lang+`">`) {
			i := strings.Index(p.body, "<html")
			t.Errorf("%s: %d, %.30s; want lang %s", step.path, p.status, p.body[max(i, 0):], step.lang)
		}
	}
}
