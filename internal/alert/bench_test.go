package alert_test

import (
	"context"
	"testing"

	"hotline/internal/alert"
)

// BenchmarkSend is one alert through each channel to the simulator on
// loopback: signing, encryption, HTTP and the simulator's own checks.
func BenchmarkSend(b *testing.B) {
	for _, kind := range []alert.Kind{alert.WeComRobot, alert.DingTalk, alert.SMSAliyun, alert.SMSTencent, alert.WebPush} {
		b.Run(string(kind), func(b *testing.B) {
			s, cfg := startSimB(b)
			set := alert.New(cfg, nil, nil)
			var to alert.Target
			switch kind {
			case alert.WeComRobot:
				to = s.NewWeComRobot()
			case alert.DingTalk:
				to = s.NewDingTalkRobot()
			case alert.SMSAliyun, alert.SMSTencent:
				to = alert.Target{Kind: kind, Address: "13812345678"}
			case alert.WebPush:
				var err error
				if to, err = s.NewPushSubscription(cfg.WebPush.Keys.PublicKey()); err != nil {
					b.Fatal(err)
				}
			}
			m := msg()
			for b.Loop() {
				if err := set.Send(context.Background(), to, m); err != nil {
					b.Fatal(err)
				}
				s.Reset()
			}
		})
	}
}
