package districtweb

import (
	"context"
	"net/http"
	"strconv"

	"hotline/internal/alert"
	"hotline/internal/hotline"
	"hotline/internal/staff"
	"hotline/internal/store"
)

// alertsView is the district's alert settings: the minutes between rungs,
// its duty officers, and its group robots and webhook.
type alertsView struct {
	Minutes  int
	Default  int
	Officers []*store.CounselorRecord
	Groups   []staff.TargetView
	Kinds    []alert.Kind
	Form     struct{ Kind, Address string }
	// Done says how a test just went (test_sent, test_failed).
	Done string
}

func (h *Handler) alertsView(ctx context.Context, sess *staff.Session) (*alertsView, error) {
	st := h.cfg.Staff
	if st == nil {
		return nil, nil
	}
	v := &alertsView{Default: staff.DefaultLadderMinutes, Kinds: staff.GroupKinds}
	n, err := st.DB.LadderMinutes(ctx, sess.Counselor.District)
	if err != nil {
		return nil, err
	}
	v.Minutes = n
	if v.Officers, err = st.DistrictOfficers(ctx, sess); err != nil {
		return nil, err
	}
	if v.Groups, err = st.Targets(ctx, sess, staff.ScopeDistrict); err != nil {
		return nil, err
	}
	return v, nil
}

// KindLabel names a channel kind in the page's language.
func (p *page) KindLabel(k alert.Kind) string { return staff.KindLabel(k).In(p.Lang) }

// Rung names a ladder rung in the page's language.
func (p *page) Rung(n int) string { return staff.RungLabel(n).In(p.Lang) }

// settingsError re-renders the settings page with an error about alerts.
func (h *Handler) settingsError(w http.ResponseWriter, r *http.Request, sess *staff.Session, err error, form func(*alertsView)) {
	if hotline.ErrorCode(err) != hotline.EINVALID {
		h.fail(w, r, err, 0)
		return
	}
	d, derr := h.cfg.District.Deadlines(r.Context(), sess.Counselor.District)
	if derr != nil {
		h.fail(w, r, derr, 0)
		return
	}
	p := h.settingsPage(r, sess, d)
	if p.Alerts, derr = h.alertsView(r.Context(), sess); derr != nil {
		h.fail(w, r, derr, 0)
		return
	}
	if form != nil {
		form(p.Alerts)
	}
	if derr = h.fillPlatform(r, sess, p); derr != nil {
		h.fail(w, r, derr, 0)
		return
	}
	p.Error = hotline.ErrorMessage(err, p.Lang)
	h.pages.Render(w, hotline.HTTPStatus(err), "settings", p)
}

// handleLadderMinutes saves the minutes between two rungs of the ladder.
func (h *Handler) handleLadderMinutes(w http.ResponseWriter, r *http.Request, sess *staff.Session) {
	if h.cfg.Staff == nil {
		h.fail(w, r, hotline.ErrNotFound, http.StatusNotFound)
		return
	}
	n := 0
	if v := r.FormValue("minutes"); v != "" {
		var err error
		if n, err = strconv.Atoi(v); err != nil {
			n = -1
		}
	}
	if err := h.cfg.Staff.SetLadderMinutes(r.Context(), sess, n); err != nil {
		h.settingsError(w, r, sess, err, nil)
		return
	}
	http.Redirect(w, r, "/district/settings?saved=1#alerts", http.StatusSeeOther)
}

// handleDuty names or unnames a duty officer (区教育局值班).
func (h *Handler) handleDuty(w http.ResponseWriter, r *http.Request, sess *staff.Session) {
	if h.cfg.Staff == nil {
		h.fail(w, r, hotline.ErrNotFound, http.StatusNotFound)
		return
	}
	id, _ := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err := h.cfg.Staff.SetDistrictDuty(r.Context(), sess, id, r.FormValue("on") == "1"); err != nil {
		h.fail(w, r, err, http.StatusNotFound)
		return
	}
	http.Redirect(w, r, "/district/settings?saved=1#duty", http.StatusSeeOther)
}

// handleGroupAdd links a district group robot or webhook.
func (h *Handler) handleGroupAdd(w http.ResponseWriter, r *http.Request, sess *staff.Session) {
	if h.cfg.Staff == nil {
		h.fail(w, r, hotline.ErrNotFound, http.StatusNotFound)
		return
	}
	kind, addr := alert.Kind(r.FormValue("kind")), r.FormValue("address")
	id, err := h.cfg.Staff.LinkTarget(r.Context(), sess, staff.ScopeDistrict, kind, addr, r.FormValue("secret"))
	if err != nil {
		h.settingsError(w, r, sess, err, func(v *alertsView) { v.Form.Kind, v.Form.Address = string(kind), addr })
		return
	}
	http.Redirect(w, r, "/district/settings?saved=1#group-"+strconv.FormatInt(id, 10), http.StatusSeeOther)
}

func (h *Handler) handleGroupDelete(w http.ResponseWriter, r *http.Request, sess *staff.Session) {
	if h.cfg.Staff == nil {
		h.fail(w, r, hotline.ErrNotFound, http.StatusNotFound)
		return
	}
	id, _ := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err := h.cfg.Staff.UnlinkTarget(r.Context(), sess, staff.ScopeDistrict, id); err != nil {
		h.fail(w, r, err, http.StatusNotFound)
		return
	}
	http.Redirect(w, r, "/district/settings?saved=1#alerts", http.StatusSeeOther)
}

// handleGroupTest sends a test alert to a district group; its result shows
// on the group's line (its state and reason).
func (h *Handler) handleGroupTest(w http.ResponseWriter, r *http.Request, sess *staff.Session) {
	if h.cfg.Staff == nil {
		h.fail(w, r, hotline.ErrNotFound, http.StatusNotFound)
		return
	}
	if h.cfg.Alerts == nil {
		h.fail(w, r, hotline.Errorf(hotline.EINVALID, "这台服务器不能发送测试提醒。", "This server cannot send test alerts."), http.StatusBadRequest)
		return
	}
	id, _ := strconv.ParseInt(r.PathValue("id"), 10, 64)
	res, err := h.cfg.Alerts.SendTest(r.Context(), sess, staff.ScopeDistrict, id)
	if err != nil {
		if hotline.ErrorCode(err) == hotline.ENOTFOUND {
			h.fail(w, r, err, http.StatusNotFound)
			return
		}
		h.settingsError(w, r, sess, err, nil)
		return
	}
	done := "test_sent"
	if !res.Sent {
		done = "test_failed"
	}
	http.Redirect(w, r, "/district/settings?done="+done+"#group-"+strconv.FormatInt(id, 10), http.StatusSeeOther)
}

// alertLabels are the district pages' words about alerts.
var alertLabels = map[string]hotline.Label{
	"reach_title":       {ZH: "紧急报告能否提醒到人", EN: "Do urgent reports reach someone?"},
	"reach_hint":        {ZH: "每所学校：现在紧急报告能否通过已确认的方式提醒到人，值班表每周有几个小时无人值班或提醒方式未确认，最近 7 天发送失败的提醒。", EN: "Per school: whether an urgent report reaches someone over a confirmed channel now, how many hours a week the rota leaves empty or unconfirmed, and alerts that failed in the last 7 days."},
	"reach_now":         {ZH: "现在", EN: "Now"},
	"reach_ok":          {ZH: "能", EN: "yes"},
	"reach_no":          {ZH: "不能", EN: "no"},
	"reach_empty":       {ZH: "无人值班（小时/周）", EN: "Hours nobody on call"},
	"reach_weak":        {ZH: "未确认（小时/周）", EN: "Hours unconfirmed"},
	"reach_first":       {ZH: "现在先提醒", EN: "Paged first now"},
	"reach_failures":    {ZH: "发送失败", EN: "Failed alerts"},
	"alerts_settings":   {ZH: "紧急提醒", EN: "Urgent alerts"},
	"ladder_minutes":    {ZH: "逐级提醒的间隔（分钟）", EN: "Minutes between rungs"},
	"ladder_hint":       {ZH: "紧急报告每一级等多少分钟无人受理就提醒下一级（1–30，留空为 5）。", EN: "How many minutes each rung waits before the next (1–30; empty: 5)."},
	"duty_title":        {ZH: "区教育局值班人员", EN: "District duty officers"},
	"duty_hint":         {ZH: "学校逐级提醒后仍无人受理的紧急报告（第 5 级）会提醒值班人员；他们在“我的提醒”页面绑定自己的手机、企业微信等。", EN: "Urgent reports nobody at the school acknowledged after every rung (rung 5) page the duty officers; each links their own phone, WeCom… on My alerts."},
	"duty_on":           {ZH: "设为值班", EN: "Make duty officer"},
	"duty_off":          {ZH: "取消值班", EN: "No longer duty officer"},
	"groups_title":      {ZH: "区教育局的群机器人和平安校园平台", EN: "The district's group robots and safe-campus platform"},
	"groups_hint":       {ZH: "第 5 级时也会发到这里；群消息只带区教育局页面的链接。", EN: "Rung 5 also posts here; a group message links to the district's pages only."},
	"t_kind":            {ZH: "方式", EN: "Channel"},
	"t_address":         {ZH: "地址（Webhook 地址或 key）", EN: "Address (webhook URL or key)"},
	"t_secret":          {ZH: "签名密钥（钉钉、飞书、Webhook 需要）", EN: "Signing secret (DingTalk, Feishu, webhook)"},
	"t_add":             {ZH: "添加", EN: "Add"},
	"t_test":            {ZH: "发送测试提醒", EN: "Send a test alert"},
	"t_delete":          {ZH: "删除", EN: "Remove"},
	"t_none":            {ZH: "还没有添加。", EN: "None yet."},
	"t_working":         {ZH: "可用", EN: "Working"},
	"t_not_working":     {ZH: "未确认", EN: "Not confirmed"},
	"test_sent":         {ZH: "测试提醒已发出，请在群里点链接确认。", EN: "Test alert sent; confirm it from its link in the group."},
	"test_failed":       {ZH: "测试提醒没有发出，原因见下。", EN: "The test alert was not sent; the reason is below."},
	"rung_n":            {ZH: "第 %d 级", EN: "rung %d"},
	"settings_alerts_h": {ZH: "紧急提醒设置", EN: "Urgent alert settings"},
}

func init() {
	for k, v := range alertLabels {
		labels[k] = v
	}
}
