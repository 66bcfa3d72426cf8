package districtweb

import (
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"hotline/internal/district"
	"hotline/internal/hotline"
	"hotline/internal/staff"
	"hotline/internal/store"
)

// The district's rollout (开通情况): the tracker of its schools' opening,
// adding a school, and handing each to its admin. The officer never holds
// a school's key: a new school's key pair is made when its admin accepts
// the hand-over link, and a running school's new admin brings the
// school's recovery key.

type rolloutPage struct {
	*page
	Rollout *district.Rollout
	Sort    string
	Desc    bool
	// Added is the school just added or handed over again: its link is in
	// this page only (stored as a hash).
	Added *addedSchool
	Form  addForm
}

type addedSchool struct {
	Code, Name string
	Link       string
	Expires    string
	Next       bool // a running school's new admin: they need its recovery key
}

type addForm struct{ Code, Name, NameEN string }

// SortURL is the tracker sorted by key: the same key again reverses it.
func (p *rolloutPage) SortURL(key string) string {
	v := url.Values{"sort": {key}}
	if key == p.Sort && !p.Desc {
		v.Set("desc", "1")
	}
	return "/district/rollout?" + v.Encode()
}

// SortMark is ▲ or ▼ beside the sorted column.
func (p *rolloutPage) SortMark(key string) string {
	if key != p.Sort {
		return ""
	}
	if p.Desc {
		return " ▼"
	}
	return " ▲"
}

// Name is a row's school name in the page's language.
func (p *rolloutPage) Name(r *district.RolloutRow) string {
	if p.Lang == hotline.LangEN && r.Name.EN != "" {
		return r.Name.EN
	}
	return r.Name.ZH
}

func (h *Handler) rollout(r *http.Request, sess *staff.Session, p *page) (*district.Rollout, error) {
	ro, err := h.cfg.District.Rollout(r.Context(), sess.Counselor.District, p.Now)
	if err != nil {
		return nil, err
	}
	if h.cfg.Staff != nil {
		reach, err := h.cfg.Staff.DistrictReadiness(r.Context(), sess.Counselor.District, p.Now)
		if err != nil {
			return nil, err
		}
		ready := map[int64]bool{}
		for _, rd := range reach {
			ready[rd.School.ID] = rd.Ready
		}
		ro.SetAlerts(ready)
	}
	return ro, nil
}

func (h *Handler) rolloutPage(w http.ResponseWriter, r *http.Request, sess *staff.Session, status int, p *rolloutPage) {
	ro, err := h.rollout(r, sess, p.page)
	if err != nil {
		h.fail(w, r, err, 0)
		return
	}
	p.Rollout = ro
	if p.Sort = r.URL.Query().Get("sort"); slices.Contains(district.RolloutSorts, p.Sort) {
		p.Desc = r.URL.Query().Get("desc") == "1"
		ro.Sort(p.Sort, p.Desc)
	} else {
		p.Sort = ""
	}
	h.pages.Render(w, status, "rollout", p)
}

func (h *Handler) handleRollout(w http.ResponseWriter, r *http.Request, sess *staff.Session) {
	h.rolloutPage(w, r, sess, http.StatusOK, &rolloutPage{page: h.newPage(r, sess, "rollout")})
}

func (h *Handler) handleRolloutCSV(w http.ResponseWriter, r *http.Request, sess *staff.Session) {
	p := h.newPage(r, sess, "rollout")
	ro, err := h.rollout(r, sess, p)
	if err != nil {
		h.fail(w, r, err, 0)
		return
	}
	if key := r.URL.Query().Get("sort"); slices.Contains(district.RolloutSorts, key) {
		ro.Sort(key, r.URL.Query().Get("desc") == "1")
	}
	if err := h.cfg.District.RecordExport(r.Context(), sess.Counselor, sess.Counselor.District, 0, staff.ClientOf(r.Context()), "rollout.csv"); err != nil {
		h.fail(w, r, err, 0)
		return
	}
	name := "rollout-" + p.Now.In(district.Zone).Format("2006-01-02") + ".csv"
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", "attachment; filename="+url.PathEscape(name))
	if err := ro.WriteCSV(w); err != nil {
		h.cfg.Logger.Error("rollout csv failed", "err", err)
	}
}

func (h *Handler) link(sh *staff.StartedHandover) string {
	return strings.TrimRight(h.cfg.PublicURL, "/") + sh.Path()
}

func (h *Handler) added(p *page, sh *staff.StartedHandover) *addedSchool {
	return &addedSchool{Code: sh.Handover.Code, Name: sh.Handover.Name, Link: h.link(sh),
		Expires: sh.Handover.Expires().In(district.Zone).Format("2006-01-02 15:04"), Next: sh.Handover.SchoolID != 0}
}

func (h *Handler) handleSchoolAdd(w http.ResponseWriter, r *http.Request, sess *staff.Session) {
	if h.cfg.Staff == nil {
		h.fail(w, r, hotline.ErrNotFound, http.StatusNotFound)
		return
	}
	p := &rolloutPage{page: h.newPage(r, sess, "rollout")}
	p.Form = addForm{Code: strings.TrimSpace(r.PostFormValue("code")), Name: r.PostFormValue("name"), NameEN: r.PostFormValue("name_en")}
	sh, err := h.cfg.Staff.AddSchool(r.Context(), sess, p.Form.Code, p.Form.Name, p.Form.NameEN)
	if err != nil {
		if hotline.ErrorCode(err) == hotline.EINTERNAL {
			h.fail(w, r, err, 0)
			return
		}
		p.Error = hotline.ErrorMessage(err, p.Lang)
		h.rolloutPage(w, r, sess, hotline.HTTPStatus(err), p)
		return
	}
	p.Added = h.added(p.page, sh)
	p.Form = addForm{}
	h.rolloutPage(w, r, sess, http.StatusOK, p)
}

type rolloutSchoolPage struct {
	*page
	Code      string
	Name      string
	School    *hotline.School // nil: waiting for its first admin
	Admins    []*store.CounselorRecord
	Handovers []*store.Handover
	Added     *addedSchool
}

// Withdrawable reports whether the school is still only the district's
// plan: no admin accepted it, and it was not withdrawn.
func (p *rolloutSchoolPage) Withdrawable() bool {
	if p.School != nil {
		return false
	}
	for _, ho := range p.Handovers {
		if ho.SchoolID == 0 && ho.RevokedAt == 0 && ho.AcceptedAt == 0 {
			return true
		}
	}
	return false
}

// State says what became of a hand-over, in the page's language.
func (p *rolloutSchoolPage) State(ho *store.Handover) string {
	switch {
	case ho.AcceptedAt != 0:
		return p.T("ho_accepted") + " " + ho.Accepted().In(district.Zone).Format("2006-01-02 15:04")
	case ho.RevokedAt != 0:
		return p.T("ho_replaced")
	case !ho.Open(p.Now):
		return p.T("ho_expired")
	}
	return p.T("ho_open") + " " + ho.Expires().In(district.Zone).Format("2006-01-02 15:04")
}

func (h *Handler) rolloutSchool(w http.ResponseWriter, r *http.Request, sess *staff.Session, status int, added *addedSchool, errMsg string) {
	p := &rolloutSchoolPage{page: h.newPage(r, sess, "rollout"), Code: store.NormalizeCode(r.PathValue("code")), Added: added}
	p.Error = errMsg
	ctx := r.Context()
	hs, err := h.cfg.Staff.Handovers(ctx, sess)
	if err != nil {
		h.fail(w, r, err, 0)
		return
	}
	for _, ho := range hs {
		if ho.Code == p.Code {
			p.Handovers = append(p.Handovers, ho)
			if p.Name == "" {
				p.Name = ho.Name
			}
		}
	}
	v, err := h.cfg.District.School(ctx, sess.Counselor.District, p.Code, p.Now)
	switch {
	case err == nil:
		p.School, p.Name = v.School, v.School.DisplayName(p.Lang)
		if p.Admins, err = h.cfg.Staff.SchoolAdmins(ctx, sess, v.School.ID); err != nil {
			h.fail(w, r, err, 0)
			return
		}
	case hotline.ErrorCode(err) == hotline.ENOTFOUND && len(p.Handovers) > 0:
	case hotline.ErrorCode(err) == hotline.ENOTFOUND:
		h.fail(w, r, hotline.ErrSchoolNotFound, http.StatusNotFound)
		return
	default:
		h.fail(w, r, err, 0)
		return
	}
	p.Title = p.Name + " · " + p.T("rollout")
	h.pages.Render(w, status, "rolloutschool", p)
}

func (h *Handler) handleRolloutSchool(w http.ResponseWriter, r *http.Request, sess *staff.Session) {
	if h.cfg.Staff == nil {
		h.fail(w, r, hotline.ErrNotFound, http.StatusNotFound)
		return
	}
	h.rolloutSchool(w, r, sess, http.StatusOK, nil, "")
}

func (h *Handler) handleHandoverNew(w http.ResponseWriter, r *http.Request, sess *staff.Session) {
	if h.cfg.Staff == nil {
		h.fail(w, r, hotline.ErrNotFound, http.StatusNotFound)
		return
	}
	sh, err := h.cfg.Staff.NewHandover(r.Context(), sess, r.PathValue("code"))
	if err != nil {
		if hotline.ErrorCode(err) == hotline.ENOTFOUND {
			h.fail(w, r, hotline.ErrSchoolNotFound, http.StatusNotFound)
			return
		}
		h.fail(w, r, err, 0)
		return
	}
	p := h.newPage(r, sess, "rollout")
	h.rolloutSchool(w, r, sess, http.StatusOK, h.added(p, sh), "")
}

func (h *Handler) handleWithdraw(w http.ResponseWriter, r *http.Request, sess *staff.Session) {
	if h.cfg.Staff == nil {
		h.fail(w, r, hotline.ErrNotFound, http.StatusNotFound)
		return
	}
	if err := h.cfg.Staff.WithdrawSchool(r.Context(), sess, r.PathValue("code")); err != nil {
		status := 0
		if hotline.ErrorCode(err) == hotline.ENOTFOUND {
			status = http.StatusNotFound
		}
		h.fail(w, r, err, status)
		return
	}
	http.Redirect(w, r, "/district/rollout", http.StatusSeeOther)
}

func (h *Handler) handleAdminDeactivate(w http.ResponseWriter, r *http.Request, sess *staff.Session) {
	if h.cfg.Staff == nil {
		h.fail(w, r, hotline.ErrNotFound, http.StatusNotFound)
		return
	}
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err == nil {
		err = h.cfg.Staff.DeactivateSchoolAdmin(r.Context(), sess, id)
	} else {
		err = hotline.ErrNotFound
	}
	if err != nil {
		status := 0
		if hotline.ErrorCode(err) == hotline.ENOTFOUND {
			status = http.StatusNotFound
		}
		h.fail(w, r, err, status)
		return
	}
	http.Redirect(w, r, "/district/rollout/"+url.PathEscape(store.NormalizeCode(r.PathValue("code"))), http.StatusSeeOther)
}

// rolloutLabels are the rollout pages' texts, zh-CN first.
var rolloutLabels = map[string]hotline.Label{
	"rollout":           {ZH: "开通情况", EN: "Rollout"},
	"rollout_lead":      {ZH: "每所学校一行：开通热线的六个步骤都完成（绿色）才算全部开通。问卷和超时案件是工作进展，不计入开通。", EN: "One row per school: a school is fully live when all six opening steps are done (green). The questionnaire and overdue cases are the campaign's progress, not opening steps."},
	"rollout_summary":   {ZH: "报告用语", EN: "For the report"},
	"rollout_csv":       {ZH: "下载 CSV", EN: "Download CSV"},
	"col_school":        {ZH: "学校", EN: "School"},
	"col_live":          {ZH: "全部开通", EN: "Fully live"},
	"col_admin":         {ZH: "管理员已登录", EN: "Admin logged in"},
	"col_counselors":    {ZH: "辅导老师（管理员以外）", EN: "Counselors besides the admin"},
	"col_alerts":        {ZH: "紧急提醒有人接收", EN: "Alerts reach someone now"},
	"col_widget":        {ZH: "学校网站上有小部件（30 天内）", EN: "Widget on the school's site (30 days)"},
	"col_printed":       {ZH: "已下载海报或问卷码", EN: "Poster or code sheets downloaded"},
	"col_test":          {ZH: "已收到并回复一份举报（测试或真实）", EN: "A report received and answered (test or real)"},
	"col_survey":        {ZH: "最近一次问卷（作答率）", EN: "Last questionnaire (response rate)"},
	"col_overdue":       {ZH: "超时未办结", EN: "Open overdue cases"},
	"yes":               {ZH: "是", EN: "Yes"},
	"no":                {ZH: "否", EN: "No"},
	"sent_only":         {ZH: "已发送，未回复", EN: "Sent, not answered"},
	"pending_admin":     {ZH: "等待管理员接收交接", EN: "Waiting for its admin"},
	"link_expires":      {ZH: "链接有效期至", EN: "link valid until"},
	"none":              {ZH: "无", EN: "None"},
	"manage":            {ZH: "管理员与交接", EN: "Admins and hand-over"},
	"add_school":        {ZH: "新增学校", EN: "Add a school"},
	"add_school_hint":   {ZH: "新增后会生成一个交接链接，请当面或通过安全渠道交给学校的第一位管理员（通常是分管德育的副校长或心理老师）。管理员打开链接、设置密码后，学校的加密密钥才生成，学校才开始接收举报；恢复密钥只显示给这位管理员。区教育局看不到学校未上报的举报内容。", EN: "Adding a school makes a hand-over link: give it in person, or over a safe channel, to the school's first admin (usually the vice-principal for student affairs or the school counselor). Only when that admin opens it and sets a password is the school's encryption key made and does the school take reports; its recovery key is shown to that admin alone. The district cannot read a school's reports that were not escalated to it."},
	"school_code":       {ZH: "学校代码（小写字母、数字、连字符，印在海报上）", EN: "School code (lower-case letters, digits, hyphens; printed on posters)"},
	"school_name":       {ZH: "学校名称", EN: "School name"},
	"school_name_en":    {ZH: "英文名称（可不填）", EN: "English name (optional)"},
	"add":               {ZH: "新增并生成交接链接", EN: "Add and make the hand-over link"},
	"handover_link":     {ZH: "交接链接（只显示这一次）", EN: "Hand-over link (shown this once)"},
	"handover_once":     {ZH: "请现在复制这个链接交给学校管理员。服务器只保存它的校验值，离开本页后无法再次显示；丢失了可以重新生成（旧链接随即作废）。", EN: "Copy this link now and give it to the school's admin. The server keeps only a hash of it and cannot show it again; if it is lost, make a new one (the old one stops working)."},
	"handover_next":     {ZH: "这所学校已经在运行：新管理员接收时需要输入学校的恢复密钥（学校保管，区教育局没有）。", EN: "This school is running: the new admin needs the school's recovery key to accept (the school keeps it; the district does not have it)."},
	"admins":            {ZH: "学校管理员", EN: "School admins"},
	"active":            {ZH: "在用", EN: "Active"},
	"deactivated":       {ZH: "已停用", EN: "Deactivated"},
	"deactivate":        {ZH: "停用此账号", EN: "Deactivate this account"},
	"deactivate_hint":   {ZH: "停用后此人的密码不再能打开学校的任何内容，已登录的会话立即结束。区教育局不能打开学校的密钥：新管理员需要通过交接链接和学校的恢复密钥接任。", EN: "Once deactivated, this person's password opens nothing of the school's and their sessions end at once. The district cannot open the school's key: a new admin takes over through a hand-over link and the school's recovery key."},
	"new_handover":      {ZH: "生成新的管理员交接链接", EN: "Make a new admin hand-over link"},
	"handovers":         {ZH: "交接记录", EN: "Hand-overs"},
	"ho_open":           {ZH: "等待接收，有效期至", EN: "Waiting, valid until"},
	"ho_accepted":       {ZH: "已接收", EN: "Accepted"},
	"ho_replaced":       {ZH: "已被新链接取代", EN: "Replaced by a newer link"},
	"ho_expired":        {ZH: "已过期", EN: "Expired"},
	"ho_started":        {ZH: "发出时间", EN: "Started"},
	"back_rollout":      {ZH: "返回开通情况", EN: "Back to the rollout"},
	"withdraw":          {ZH: "撤回这所学校", EN: "Withdraw this school"},
	"withdraw_hint":     {ZH: "学校代码或名称填错了、或者不该添加？撤回后交接链接立即作废，学校代码可以重新使用。已经开通的学校不能撤回。", EN: "Wrong code or name, or added by mistake? Withdrawing stops its hand-over links at once and frees its code. A school that is open cannot be withdrawn."},
	"link_expired":      {ZH: "交接链接已过期，请生成新的链接", EN: "The hand-over link expired: make a new one"},
	"not_open_yet":      {ZH: "这所学校还没有管理员接收交接：它没有加密密钥，所有渠道都不接收它的举报。", EN: "No admin has accepted this school's hand-over yet: it has no encryption key, and every channel refuses reports for it."},
	"col_step_done":     {ZH: "已完成", EN: "done"},
	"col_step_todo":     {ZH: "未完成", EN: "not done"},
	"rollout_no_school": {ZH: "还没有学校。用下面的表单新增第一所。", EN: "No schools yet. Add the first with the form below."},
}
