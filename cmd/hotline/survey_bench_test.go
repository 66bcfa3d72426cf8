package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"hotline/internal/survey"
)

// BenchmarkSurveySubmit is a whole district answering in one lesson: 1,000
// pupils at once each submit the last page of a 20-question questionnaire
// (their earlier pages saved as drafts) over HTTP to one node. It reports
// responses per second and the 99th-percentile latency of a submission.
// Goal: ≥ 1,000 responses/s, p99 ≤ 250 ms.
//
//	go test ./cmd/hotline -run '^$' -bench SurveySubmit -benchtime 1x
//
// All 1,000 arrive in the same instant, so the p99 is close to the time
// the whole burst takes. HOTLINE_BENCH_MAXBATCH overrides the store's
// group-commit size, to try it.
func BenchmarkSurveySubmit(b *testing.B) {
	const pupils = 1000
	f := newSurveyFixture(b)
	ctx := context.Background()
	made, err := f.m.Surveys.Create(ctx, f.school.Admin, survey.NewSurvey{BaselineOpens: f.now.Add(-time.Hour), BaselineCloses: f.now.Add(24 * time.Hour),
		FollowUpOpens: f.now.Add(48 * time.Hour), FollowUpCloses: f.now.Add(72 * time.Hour)})
	if err != nil {
		b.Fatal(err)
	}
	sv := made[0]
	if v := os.Getenv("HOTLINE_BENCH_MAXBATCH"); v != "" {
		f.m.DB.MaxBatch, _ = strconv.Atoi(v)
	}
	if len(sv.Questions) != 20 {
		b.Fatalf("%d questions", len(sv.Questions))
	}
	sections := sv.Sections()
	last := sections[len(sections)-1]
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: pupils, MaxConnsPerHost: pupils}, Timeout: time.Minute}
	var lat []time.Duration
	var total time.Duration
	for b.Loop() {
		b.StopTimer()
		// Print the codes (one class of at most 80 a time) and save each
		// pupil's first pages as a draft, as the earlier pages would have.
		var codes []string
		for c := 0; len(codes) < pupils; c++ {
			more, err := f.m.Surveys.PrintCodes(ctx, f.school.Admin, sv.UID, 1, survey.Class{Grade: "初" + []string{"一", "二", "三"}[c%3], Class: fmt.Sprint(c)}, min(80, pupils-len(codes)))
			if err != nil {
				b.Fatal(err)
			}
			codes = append(codes, more...)
		}
		var wg sync.WaitGroup
		sem := make(chan struct{}, 16)
		for i, code := range codes {
			wg.Add(1)
			sem <- struct{}{}
			go func() {
				defer wg.Done()
				defer func() { <-sem }()
				t, err := f.m.Surveys.Open(ctx, code, []byte(code))
				if err != nil {
					b.Error(err)
					return
				}
				if err := f.m.Surveys.Save(ctx, t, pupilAnswers(i, 300)); err != nil {
					b.Error(err)
				}
			}()
		}
		wg.Wait()
		forms := make([]string, len(codes))
		for i, code := range codes {
			v := url.Values{"code": {code}, "page": {fmt.Sprint(len(sections) - 1)}, "go": {"submit"}}
			a := pupilAnswers(i, 300)
			for _, q := range last {
				for _, x := range a[q.ID] {
					v.Add("a."+q.ID, x)
				}
			}
			if i%10 == 0 {
				v.Set("a."+survey.QText, "三楼厕所午饭时有人被堵")
			}
			forms[i] = v.Encode()
		}
		// The pupils' browsers are on the last page: their connections
		// are open already.
		for range codes {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if resp, err := client.Get(f.m.URL() + "/q/static/survey.css"); err == nil {
					io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
				}
			}()
		}
		wg.Wait()
		b.StartTimer()
		start := make(chan struct{})
		times := make([]time.Duration, len(codes))
		for i := range codes {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				t0 := time.Now()
				resp, err := client.Post(f.m.URL()+"/q/page", "application/x-www-form-urlencoded", strings.NewReader(forms[i]))
				if err != nil {
					b.Error(err)
					return
				}
				body, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				times[i] = time.Since(t0)
				if !strings.Contains(string(body), "问卷已经收到") {
					b.Errorf("submission %d: %d %.200s", i, resp.StatusCode, body)
				}
			}()
		}
		st0 := f.m.DB.Stats()
		t0 := time.Now()
		close(start)
		wg.Wait()
		total += time.Since(t0)
		st1 := f.m.DB.Stats()
		b.Logf("%d commits carried %d write jobs", st1.Commits-st0.Commits, st1.Jobs-st0.Jobs)
		lat = append(lat, times...)
	}
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	b.ReportMetric(float64(len(lat))/total.Seconds(), "responses/s")
	b.ReportMetric(float64(lat[len(lat)*99/100].Milliseconds()), "p99-ms")
	b.ReportMetric(float64(lat[len(lat)/2].Milliseconds()), "p50-ms")
}
