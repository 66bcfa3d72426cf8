package alertsim

import (
	"fmt"

	"hotline/internal/alert"
)

// The accounts Provision makes: what a district would have set up with
// each vendor, with templates worded as the README suggests.
const (
	SimWeComCorpID  = "wwsim0000000000001"
	SimWeComAgentID = 1000002

	SimAliyunKeyID     = "LTAI5tSimulatorKey0001"
	SimAliyunSign      = "Hotline热线"
	SimAliyunSMS       = "SMS_100000001"
	SimAliyunSMSUrgent = "SMS_100000002"
	SimAliyunTTS       = "TTS_100000001"

	SimTencentSecretID    = "AKIDsimulator00000000000000000000001"
	SimTencentSMSApp      = "1400000001"
	SimTencentVoiceApp    = "1400000002"
	SimTencentSign        = "Hotline热线"
	SimTencentSMS         = "100001"
	SimTencentSMSUrgent   = "100002"
	SimTencentVoiceTpl    = "200001"
	SimWebPushSubject     = "mailto:alerts@hotline.invalid"
	aliyunSMSText         = "${school}有报告「${alias}」需要处理，请登录 Hotline 查看。"
	aliyunSMSUrgentText   = "紧急：${school}有紧急报告「${alias}」，请立即登录 Hotline 处理。"
	aliyunTTSText         = "这里是 Hotline 紧急提醒。${school}有紧急报告，代号${alias}，请立即登录处理。"
	tencentSMSText        = "{2}有报告「{1}」需要处理，请登录 Hotline 查看。"
	tencentSMSUrgentText  = "紧急：{2}有紧急报告「{1}」，请立即登录 Hotline 处理。"
	tencentVoiceText      = "这里是 Hotline 紧急提醒。{2}有紧急报告，代号{1}，请立即登录处理。"
	provisionedSecretSize = 20
)

// Provision makes an account with every vendor (WeCom corp and app,
// Aliyun SMS and voice, Tencent SMS and voice) with approved signatures
// and templates, generates a VAPID key pair, and returns the alert.Config
// that sends to this simulator with them. Targets come from NewWeComRobot,
// NewDingTalkRobot, NewFeishuBot, NewWebhook, NewPushSubscription,
// AddWeComUser and any valid phone number.
func (s *Sim) Provision() (alert.Config, error) {
	u := s.URL()
	if u == "" {
		return alert.Config{}, fmt.Errorf("alertsim: Provision before SetURL")
	}
	wecomSecret := randomHex(provisionedSecretSize)
	s.AddWeComCorp(SimWeComCorpID, wecomSecret, SimWeComAgentID)

	aliyunSecret := randomHex(provisionedSecretSize)
	s.AddAliyun(SimAliyunKeyID, aliyunSecret)
	s.AddAliyunSign(SimAliyunSign)
	s.AddAliyunTemplate(SimAliyunSMS, aliyunSMSText)
	s.AddAliyunTemplate(SimAliyunSMSUrgent, aliyunSMSUrgentText)
	s.AddAliyunTemplate(SimAliyunTTS, aliyunTTSText)

	tencentKey := randomHex(provisionedSecretSize)
	s.AddTencent(SimTencentSecretID, tencentKey)
	s.AddTencentSMSApp(SimTencentSMSApp, SimTencentSign)
	s.AddTencentVoiceApp(SimTencentVoiceApp)
	s.AddTencentTemplate(SimTencentSMS, tencentSMSText)
	s.AddTencentTemplate(SimTencentSMSUrgent, tencentSMSUrgentText)
	s.AddTencentTemplate(SimTencentVoiceTpl, tencentVoiceText)

	keys, err := alert.GenerateVAPIDKeys()
	if err != nil {
		return alert.Config{}, err
	}
	return alert.Config{
		WeComRobot: alert.RobotConfig{BaseURL: u},
		DingTalk:   alert.RobotConfig{BaseURL: u},
		Feishu:     alert.RobotConfig{BaseURL: u},
		WeComApp:   alert.WeComAppConfig{BaseURL: u, CorpID: SimWeComCorpID, CorpSecret: wecomSecret, AgentID: SimWeComAgentID},
		Aliyun: alert.AliyunConfig{
			BaseURL: u, AccessKeyID: SimAliyunKeyID, AccessKeySecret: aliyunSecret,
			SignName: SimAliyunSign, SMSTemplate: SimAliyunSMS, SMSUrgentTemplate: SimAliyunSMSUrgent,
			VoiceTemplate: SimAliyunTTS,
		},
		Tencent: alert.TencentConfig{
			BaseURL: u, SecretID: SimTencentSecretID, SecretKey: tencentKey,
			SMSAppID: SimTencentSMSApp, SignName: SimTencentSign, SMSTemplate: SimTencentSMS, SMSUrgentTemplate: SimTencentSMSUrgent,
			VoiceAppID: SimTencentVoiceApp, VoiceTemplate: SimTencentVoiceTpl,
		},
		WebPush: alert.WebPushConfig{Keys: keys, Subject: SimWebPushSubject},
	}, nil
}
