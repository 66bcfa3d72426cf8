package alertsim_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"hotline/internal/alert"
	"hotline/internal/sim/alertsim"
)

func start(t *testing.T) (*alertsim.Sim, alert.Config) {
	t.Helper()
	s, err := alertsim.Start("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	cfg, err := s.Provision()
	if err != nil {
		t.Fatal(err)
	}
	return s, cfg
}

func testCtx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), time.Minute)
	t.Cleanup(cancel)
	return c
}

var message = alert.Message{School: "第一实验中学", SchoolEN: "No. 1 School", AliasZH: "蓝狐", AliasEN: "Blue Fox",
	Text: "紧急报告「蓝狐」— 第一实验中学", Link: "https://hotline.example.cn/a/x", Urgent: true}

func code(t *testing.T, err error) string {
	t.Helper()
	var e *alert.Error
	if !errors.As(err, &e) {
		t.Fatalf("error %v, want an *alert.Error", err)
	}
	return e.Code
}

// roundTrip lets a test see or change a request on its way out.
type roundTrip func(*http.Request) (*http.Response, error)

func (f roundTrip) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// TestTamperedRequestsRefused: a request changed after it was signed (a
// different number, a different text) fails the vendor's signature check.
func TestTamperedRequestsRefused(t *testing.T) {
	s, cfg := start(t)
	tamper := func(r *http.Request) (*http.Response, error) {
		if r.Body != nil {
			b, _ := io.ReadAll(r.Body)
			b = bytes.ReplaceAll(b, []byte("13812345678"), []byte("13987654321"))
			b = bytes.ReplaceAll(b, []byte("蓝狐"), []byte("红狼"))
			r.Body, r.ContentLength = io.NopCloser(bytes.NewReader(b)), int64(len(b))
		}
		r.URL.RawQuery = strings.ReplaceAll(r.URL.RawQuery, "13812345678", "13987654321")
		return http.DefaultTransport.RoundTrip(r)
	}
	cfg.HTTPClient = &http.Client{Transport: roundTrip(tamper)}
	set := alert.New(cfg, nil, nil)
	for _, tc := range []struct {
		to   alert.Target
		want string
	}{
		{alert.Target{Kind: alert.SMSAliyun, Address: "13812345678"}, "SignatureDoesNotMatch"},
		{alert.Target{Kind: alert.VoiceAliyun, Address: "13812345678"}, "SignatureDoesNotMatch"},
		{alert.Target{Kind: alert.SMSTencent, Address: "13812345678"}, "AuthFailure.SignatureFailure"},
		{alert.Target{Kind: alert.VoiceTencent, Address: "13812345678"}, "AuthFailure.SignatureFailure"},
		{s.NewWebhook(), "401"},
	} {
		if got := code(t, set.Send(testCtx(t), tc.to, message)); got != tc.want {
			t.Errorf("%s tampered: code %q, want %q", tc.to.Kind, got, tc.want)
		}
	}
	if got := s.Received(); len(got) != 0 {
		t.Errorf("the simulator accepted tampered requests: %v", got)
	}
}

// TestReplayRefused: an Aliyun request sent twice is refused the second
// time (its signature nonce was used).
func TestReplayRefused(t *testing.T) {
	s, cfg := start(t)
	var mu sync.Mutex
	var last *http.Request
	cfg.HTTPClient = &http.Client{Transport: roundTrip(func(r *http.Request) (*http.Response, error) {
		mu.Lock()
		last = r.Clone(context.Background())
		mu.Unlock()
		return http.DefaultTransport.RoundTrip(r)
	})}
	if err := alert.New(cfg, nil, nil).Send(testCtx(t), alert.Target{Kind: alert.SMSAliyun, Address: "13812345678"}, message); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	replay, err := http.NewRequest(http.MethodPost, last.URL.String(), nil)
	replay.Header = last.Header.Clone()
	mu.Unlock()
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(replay)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest || !strings.Contains(string(body), "SignatureNonceUsed") {
		t.Errorf("replay answered %d %s, want 400 SignatureNonceUsed", resp.StatusCode, body)
	}
	if n := len(s.Received()); n != 1 {
		t.Errorf("received %d, want the first only", n)
	}
}

// TestStaleSignaturesRefused: each vendor refuses a signature made too
// long ago (its clock 13 hours ahead of ours, past the VAPID token too).
func TestStaleSignaturesRefused(t *testing.T) {
	s, cfg := start(t)
	s.SetClock(func() time.Time { return time.Now().Add(13 * time.Hour) })
	set := alert.New(cfg, nil, nil)
	push, err := s.NewPushSubscription("")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		to   alert.Target
		want string
	}{
		{s.NewDingTalkRobot(), "310000"},
		{s.NewFeishuBot(), "19021"},
		{alert.Target{Kind: alert.SMSAliyun, Address: "13812345678"}, "InvalidTimeStamp.Expired"},
		{alert.Target{Kind: alert.SMSTencent, Address: "13812345678"}, "AuthFailure.SignatureExpire"},
		{s.NewWebhook(), "401"},
		{push, "403"}, // the VAPID token expired
	} {
		if got := code(t, set.Send(testCtx(t), tc.to, message)); got != tc.want {
			t.Errorf("%s: code %q, want %q", tc.to.Kind, got, tc.want)
		}
	}
}

func TestWaitAndReset(t *testing.T) {
	s, cfg := start(t)
	set := alert.New(cfg, nil, nil)
	robot := s.NewWeComRobot()
	short, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if _, err := s.Wait(short, func(alertsim.Request) bool { return true }); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Wait with nothing received: %v, want the context's error", err)
	}
	done := make(chan alertsim.Request, 1)
	go func() {
		r, _ := s.Wait(testCtx(t), func(r alertsim.Request) bool { return r.Kind == alert.WeComRobot })
		done <- r
	}()
	if err := set.Send(testCtx(t), robot, message); err != nil {
		t.Fatal(err)
	}
	if r := <-done; r.Target != robot.Address || !strings.Contains(r.Text, "蓝狐") || r.Time.IsZero() {
		t.Errorf("Wait returned %+v", r)
	}
	s.Fail(alert.WeComRobot, "", "45009")
	if err := set.Send(testCtx(t), robot, message); err == nil {
		t.Error("a failed robot accepted the alert")
	}
	s.Reset()
	if len(s.Received()) != 0 || len(s.Refused()) != 0 {
		t.Error("Reset kept requests")
	}
	if err := set.Send(testCtx(t), robot, message); err != nil {
		t.Errorf("Reset kept the fault: %v", err)
	}
}

// TestSMSNeedsTemplateVariables: a template whose variable has no value
// is refused as the vendor does.
func TestSMSNeedsTemplateVariables(t *testing.T) {
	s, cfg := start(t)
	s.AddAliyunTemplate("SMS_200", "${school}的报告「${alias}」，请点击 ${link}")
	cfg.Aliyun.SMSTemplate, cfg.Aliyun.SMSUrgentTemplate = "SMS_200", ""
	set := alert.New(cfg, nil, nil)
	to := alert.Target{Kind: alert.SMSAliyun, Address: "13812345678"}
	if got := code(t, set.Send(testCtx(t), to, message)); got != "isv.TEMPLATE_MISSING_PARAMETERS" {
		t.Errorf("code %q, want isv.TEMPLATE_MISSING_PARAMETERS", got)
	}
	cfg.Aliyun.SMSParams = []string{"alias", "school", "link"}
	if err := alert.New(cfg, nil, nil).Send(testCtx(t), to, message); err != nil {
		t.Fatal(err)
	}
	r := s.Received()[0]
	if want := "【Hotline热线】第一实验中学的报告「蓝狐」，请点击 https://hotline.example.cn/a/x"; r.Text != want {
		t.Errorf("text %q, want %q", r.Text, want)
	}
}
