package inboxweb

import (
	"context"
	"net/http"
	"strconv"

	"hotline/internal/alert"
	"hotline/internal/hotline"
	"hotline/internal/staff"
)

// kindOption is a channel kind a form offers.
type kindOption struct {
	Kind       alert.Kind
	Label      hotline.Label
	Configured bool // the server has an account for it
	Secret     bool // it needs a signing secret
	Hint       hotline.Label
}

var kindHints = map[alert.Kind]hotline.Label{
	alert.WeComApp:     {ZH: "企业微信账号（UserID），在企业微信管理后台“通讯录”里可以查到", EN: "WeCom account (UserID), shown under Contacts in the WeCom admin console"},
	alert.SMSAliyun:    {ZH: "手机号，如 13800138000", EN: "mobile number, e.g. 13800138000"},
	alert.SMSTencent:   {ZH: "手机号，如 13800138000", EN: "mobile number, e.g. 13800138000"},
	alert.VoiceAliyun:  {ZH: "手机号；只在夜间、最后两级（校长、区教育局）时拨打", EN: "mobile number; called only at night, on the last two rungs (the head, the district)"},
	alert.VoiceTencent: {ZH: "手机号；只在夜间、最后两级（校长、区教育局）时拨打", EN: "mobile number; called only at night, on the last two rungs (the head, the district)"},
	alert.WeComRobot:   {ZH: "群机器人的 Webhook 地址（群设置 → 群机器人 → 添加）；个人也可以建一个只有自己的群", EN: "the group robot's webhook address (group settings → group robots → add); for yourself, a group of your own"},
	alert.DingTalk:     {ZH: "机器人的 Webhook 地址；安全设置选“加签”，把 SEC 开头的密钥填在下面", EN: "the robot's webhook address; choose “signature” in its security settings and paste the SEC… secret below"},
	alert.Feishu:       {ZH: "机器人的 Webhook 地址；安全设置开启“签名校验”，把密钥填在下面", EN: "the bot's webhook address; turn on “signature verification” and paste its secret below"},
	alert.Webhook:      {ZH: "平安校园平台接收提醒的 https:// 地址；签名密钥至少 16 个字符", EN: "the safe-campus platform's https:// address; a signing secret of 16 characters or more"},
}

func (s *Server) kindOptions(kinds []alert.Kind) []kindOption {
	var out []kindOption
	for _, k := range kinds {
		if k == alert.WebPush {
			continue // subscribed by the installed inbox's button
		}
		out = append(out, kindOption{Kind: k, Label: staff.KindLabel(k), Configured: s.cfg.Staff.Configured(k),
			Secret: k == alert.DingTalk || k == alert.Feishu || k == alert.Webhook, Hint: kindHints[k]})
	}
	return out
}

// targetsBlock is the list of a scope's targets and the form to add one,
// on "my alerts" and on the school's settings page.
type targetsBlock struct {
	Action  string // where the forms post: /inbox/alerts/targets or /inbox/admin/groups
	Targets []staff.TargetView
	Kinds   []kindOption
	Form    struct{ Kind, Address string }
	// Tested names the target a test just went to, and how it went.
	Tested     int64
	TestFailed string
}

func (s *Server) targetsBlock(ctx context.Context, rc *reqCtx, scope staff.Scope) (*targetsBlock, error) {
	b := &targetsBlock{Action: "/inbox/alerts/targets"}
	kinds := staff.PersonalKinds
	if scope == staff.ScopeSchool {
		b.Action, kinds = "/inbox/admin/groups", staff.GroupKinds
	}
	ts, err := s.cfg.Staff.Targets(ctx, rc.sess.ts, scope)
	if err != nil {
		return nil, err
	}
	b.Targets, b.Kinds = ts, s.kindOptions(kinds)
	return b, nil
}

// targetScope is one page with targets: its scope, where it lives, and
// how to render it with an error.
type targetScope struct {
	scope staff.Scope
	back  string
	// render shows the page with a refused form kept and its error.
	render func(w http.ResponseWriter, r *http.Request, rc *reqCtx, err error, form func(*targetsBlock))
}

func (s *Server) targetScopes() (mine, school targetScope) {
	mine = targetScope{scope: staff.ScopeMine, back: "/inbox/alerts", render: s.renderAlertsWith}
	school = targetScope{scope: staff.ScopeSchool, back: "/inbox/admin/settings", render: s.renderSettingsWith}
	return mine, school
}

func targetID(r *http.Request) int64 {
	id, _ := strconv.ParseInt(r.PathValue("id"), 10, 64)
	return id
}

// handleTargetAdd links a channel; a refused one re-renders the page with
// what was typed (never the secret) and why.
func (s *Server) handleTargetAdd(ts targetScope) handler {
	return func(w http.ResponseWriter, r *http.Request, rc *reqCtx) {
		kind, addr := alert.Kind(r.FormValue("kind")), r.FormValue("address")
		id, err := s.cfg.Staff.LinkTarget(r.Context(), rc.sess.ts, ts.scope, kind, addr, r.FormValue("secret"))
		if err != nil {
			if c := hotline.ErrorCode(err); c != hotline.EINVALID {
				s.fail(w, r, rc, err)
				return
			}
			ts.render(w, r, rc, err, func(b *targetsBlock) { b.Form.Kind, b.Form.Address = string(kind), addr })
			return
		}
		redirect(w, r, ts.back+"?done=linked#target-"+strconv.FormatInt(id, 10))
	}
}

// handleTargetDelete unlinks a channel.
func (s *Server) handleTargetDelete(ts targetScope) handler {
	return func(w http.ResponseWriter, r *http.Request, rc *reqCtx) {
		if err := s.cfg.Staff.UnlinkTarget(r.Context(), rc.sess.ts, ts.scope, targetID(r)); err != nil {
			s.fail(w, r, rc, err)
			return
		}
		redirect(w, r, ts.back+"?done=unlinked_target")
	}
}

// handleTargetTest sends a test alert at once and shows how it went.
func (s *Server) handleTargetTest(ts targetScope) handler {
	return func(w http.ResponseWriter, r *http.Request, rc *reqCtx) {
		if s.cfg.Alerts == nil {
			s.fail(w, r, rc, hotline.Errorf(hotline.EINVALID, "这台服务器不能发送测试提醒。", "This server cannot send test alerts."))
			return
		}
		id := targetID(r)
		res, err := s.cfg.Alerts.SendTest(r.Context(), rc.sess.ts, ts.scope, id)
		if err != nil {
			if hotline.ErrorCode(err) == hotline.EINTERNAL {
				s.fail(w, r, rc, err)
				return
			}
			ts.render(w, r, rc, err, nil)
			return
		}
		done := "test_sent"
		switch {
		case !res.Sent:
			done = "test_failed"
		case res.Code:
			done = "test_code"
		}
		redirect(w, r, ts.back+"?done="+done+"&t="+strconv.FormatInt(id, 10)+"#target-"+strconv.FormatInt(id, 10))
	}
}

// handleTargetCode confirms a test by the code a text message or a call
// carried.
func (s *Server) handleTargetCode(ts targetScope) handler {
	return func(w http.ResponseWriter, r *http.Request, rc *reqCtx) {
		id := targetID(r)
		if err := s.cfg.Staff.ConfirmTestCode(r.Context(), rc.sess.ts, ts.scope, id, r.FormValue("code")); err != nil {
			if hotline.ErrorCode(err) != hotline.EINVALID {
				s.fail(w, r, rc, err)
				return
			}
			ts.render(w, r, rc, err, func(b *targetsBlock) { b.Tested = id })
			return
		}
		redirect(w, r, ts.back+"?done=confirmed#target-"+strconv.FormatInt(id, 10))
	}
}

// targetNotice is the notice of a finished target action (?done=…).
func targetNotice(p *page, r *http.Request, b *targetsBlock) {
	q := r.URL.Query()
	if id, err := strconv.ParseInt(q.Get("t"), 10, 64); err == nil {
		b.Tested = id
	}
	switch q.Get("done") {
	case "linked":
		p.Notice = p.T("target_linked")
	case "unlinked_target":
		p.Notice = p.T("target_unlinked")
	case "test_sent":
		p.Notice = p.T("test_sent")
	case "test_code":
		p.Notice = p.T("test_code_sent")
	case "test_failed":
		for _, t := range b.Targets {
			if t.ID == b.Tested {
				b.TestFailed = t.Reason.In(p.Lang)
			}
		}
		p.Error = p.T("test_failed") + " " + b.TestFailed
	case "confirmed":
		p.Notice = p.T("test_confirmed")
	}
}
