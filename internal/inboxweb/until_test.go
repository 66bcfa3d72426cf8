package inboxweb

import (
	"testing"
	"time"

	"hotline/internal/hotline"
)

// Time left counts up to its unit: a 7-day deadline set a moment ago shows
// "剩余 7 天", as the counselor set it, not 6; overdue time counts down.
func TestUntilCountsTimeLeftUp(t *testing.T) {
	now := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	p := &page{Lang: hotline.LangZH, now: now}
	for _, tc := range []struct {
		in   time.Duration
		want string
	}{
		{7 * 24 * time.Hour, "剩余 7 天"},
		{7*24*time.Hour - time.Second, "剩余 7 天"},
		{6*24*time.Hour + time.Hour, "剩余 7 天"},
		{6 * 24 * time.Hour, "剩余 6 天"},
		{72 * time.Hour, "剩余 3 天"},
		{47*time.Hour + 10*time.Minute, "剩余 2 天"},
		{23*time.Hour + time.Minute, "剩余 24 小时"},
		{90 * time.Minute, "剩余 2 小时"},
		{59*time.Minute + 30*time.Second, "剩余 1 小时"},
		{10 * time.Minute, "剩余 10 分钟"},
		{10 * time.Second, "剩余 1 分钟"},
		{-26 * time.Hour, "已逾期 26 小时"},
		{-(3*24*time.Hour + time.Hour), "已逾期 3 天"},
	} {
		t.Run(tc.in.String(), func(t *testing.T) {
			if got := p.Until(now.Add(tc.in)); got != tc.want {
				t.Errorf("Until(now%+v) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
}
