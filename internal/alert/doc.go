// Package alert carries a content-free alert to a person or a group over one
// channel. It never sees report content: a Message holds an alias, a school,
// a reason and a link, nothing else, and only the text, the link, the aliases
// and the school names go on the wire. It never logs; its errors (*Error)
// carry a reason safe to show a school admin and the district, and never a
// phone number, a key, a secret or a URL (a robot's URL is its key).
//
// Every vendor channel takes its base URL from its config, so the simulator
// (internal/sim/alertsim) stands in for the vendor in tests and the demo.
// Every request has a deadline (Config.Timeout). An HTTP 200 that carries a
// vendor error code is a failure, never counted as sent. Each vendor code is
// mapped to a reason and to Permanent (retrying will not help: a bad key, a
// refused number) or temporary (rate limits, the vendor's own errors).
//
// # 企业微信群机器人 (WeComRobot)
//
// POST {base}/cgi-bin/webhook/send?key=KEY, {"msgtype":"text","text":{…}};
// urgent alerts mention @all. Answer {"errcode":0,"errmsg":"ok"}; 93000 is an
// invalid key, 45009 the limit of 20 messages a minute per robot.
// Address: the key, or the whole webhook URL (Normalize keeps the key).
// https://developer.work.weixin.qq.com/document/path/91770 (群机器人配置说明),
// https://developer.work.weixin.qq.com/document/path/90313 (全局错误码).
//
// # 企业微信应用消息 (WeComApp)
//
// GET {base}/cgi-bin/gettoken?corpid&corpsecret → access_token (kept in
// memory until five minutes before expires_in; fetched again once on 40014
// or 42001), then POST {base}/cgi-bin/message/send?access_token=… with
// touser, msgtype text, agentid. errcode 0 with the user in "invaliduser"
// is a failure. Address: the member's userid.
// https://developer.work.weixin.qq.com/document/path/91039 (获取access_token),
// https://developer.work.weixin.qq.com/document/path/90236 (发送应用消息).
//
// # 钉钉自定义机器人 (DingTalk)
//
// POST {base}/robot/send?access_token=T&timestamp=MS&sign=S where S is the
// URL-encoded base64 of HMAC-SHA256(key = secret, timestamp + "\n" + secret),
// timestamp in milliseconds within an hour of DingTalk's clock. Body
// {"msgtype":"text","text":{…},"at":{"isAtAll":urgent}}. 310000 is the
// security check (signature, keyword or IP), 300001/400101 an unknown token,
// 410100 the limit of 20 a minute. Address: the access_token or the webhook
// URL; Secret: the SEC… signing secret.
// https://open.dingtalk.com/document/orgapp/custom-robot-access,
// https://open.dingtalk.com/document/robots/customize-robot-security-settings.
//
// # 飞书自定义机器人 (Feishu)
//
// POST {base}/open-apis/bot/v2/hook/HOOK with "timestamp" (seconds) and
// "sign" in the JSON body: base64 of HMAC-SHA256 keyed with
// timestamp + "\n" + secret over an empty message. Answer {"code":0,…};
// 19021 is a signature mismatch or a stale timestamp, 19024 a missing
// keyword, 19022 an IP not allowed, 11232 the rate limit.
// https://open.feishu.cn/document/client-docs/bot-v3/add-custom-bot
// (自定义机器人使用指南, also https://open.larkoffice.com/document/ukTMukTMukTM/ucTM5YjL3ETO24yNxkjN).
//
// # 阿里云短信与语音通知 (SMSAliyun, VoiceAliyun)
//
// dysmsapi 2017-05-25 SendSms (PhoneNumbers, SignName, TemplateCode,
// TemplateParam as JSON of the template's variables: the alias and the
// school, never text) and dyvmsapi 2017-05-25 SingleCallByTts
// (CalledNumber, TtsCode, TtsParam, PlayTimes, CalledShowNumber), signed
// with ACS3-HMAC-SHA256, the V3 signature, written here on the standard
// library: the official SDK (alibabacloud-go/dysmsapi-20170525 with tea,
// openapi and credentials) is many modules for two calls. The signing is
// tested against the signatures the documentation publishes. Codes:
// isv.MOBILE_NUMBER_ILLEGAL (permanent), isv.BUSINESS_LIMIT_CONTROL
// (temporary), SignatureDoesNotMatch, InvalidAccessKeyId.NotFound, ….
// https://help.aliyun.com/zh/sdk/product-overview/v3-request-structure-and-signature,
// https://help.aliyun.com/zh/sms/developer-reference/api-dysmsapi-2017-05-25-sendsms,
// https://help.aliyun.com/zh/sms/developer-reference/api-error-codes,
// https://help.aliyun.com/document_detail/393519.html (SingleCallByTts).
//
// # 腾讯云短信与语音消息 (SMSTencent, VoiceTencent)
//
// SMS 2021-01-11 SendSms (PhoneNumberSet, SmsSdkAppId, SignName, TemplateId,
// TemplateParamSet: the alias and the school by position) and VMS 2020-09-02
// SendTtsVoice (TemplateId, TemplateParamSet, CalledNumber, VoiceSdkAppid),
// signed with TC3-HMAC-SHA256 (signature v3), tested against the documented
// example. A SendSms answer without Error can still fail its one number:
// SendStatusSet[0].Code must be "Ok". Codes: AuthFailure.SignatureFailure,
// FailedOperation.PhoneNumberInBlacklist, InvalidParameterValue.IncorrectPhoneNumber
// (permanent), LimitExceeded.PhoneNumberOneHourLimit, InternalError.* (temporary), ….
// https://cloud.tencent.com/document/api/382/52072 (签名方法 v3),
// https://cloud.tencent.com/document/api/382/55981 (SendSms),
// https://cloud.tencent.com/document/api/382/52075 (错误码),
// https://cloud.tencent.com/document/api/1128/51558 (SendTtsVoice).
//
// # Webhook (平安校园 platform)
//
// POST to the target's https URL (http only to localhost) a JSON
// WebhookPayload with the headers X-Hotline-Id (the delivery id, for
// de-duplication), X-Hotline-Timestamp (Unix seconds) and
// X-Hotline-Signature: "sha256=" + hex(HMAC-SHA256(secret, timestamp + "." +
// body)). Any 2xx is delivered; 401/403/404/410 are permanent.
//
// # Web Push (WebPush)
//
// RFC 8030 push to the subscription's endpoint, the payload encrypted per
// RFC 8291 (aes128gcm, RFC 8188) with crypto/ecdh, crypto/hkdf and AES-GCM,
// authorised with a VAPID JWT (RFC 8292, ES256 with crypto/ecdsa); urgent
// alerts use "Urgency: high". 404 and 410 mean the subscription is gone
// (permanent). The encryption is tested against RFC 8291's worked example.
// https://www.rfc-editor.org/rfc/rfc8030, https://www.rfc-editor.org/rfc/rfc8291,
// https://www.rfc-editor.org/rfc/rfc8292.
//
// # Telegram and e-mail
//
// Adapters over the bot's SendAlert (the address is the chat id) and
// internal/mail (a 5xx reply is permanent). Telegram does not work in
// mainland China.
package alert
