package inbox

import (
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"time"

	"hotline/internal/hotline"
)

// page is what every template gets.
type page struct {
	Lang    hotline.Lang
	LangURL string // the same page in the other language
	Title   string
	CSRF    string
	Me      *hotline.Counselor
	School  *hotline.School
	Error   string
	Notice  string
	Nav     string
	Live    string // "queue" or "tip": the page listens for live changes
	TipUID  string
	Unread  int
	Full    bool // the session may use the navigation
	Data    any
	now     time.Time
}

func (s *Server) newPage(r *http.Request, rc *reqCtx, lang hotline.Lang) *page {
	p := &page{Lang: lang, now: s.clock.Now()}
	other := hotline.LangEN
	if lang == hotline.LangEN {
		other = hotline.LangZH
	}
	if r.Method == http.MethodGet {
		u := *r.URL
		q := u.Query()
		q.Set("lang", string(other))
		u.RawQuery = q.Encode()
		p.LangURL = u.RequestURI()
	} else {
		p.LangURL = "/inbox/?lang=" + string(other)
	}
	if rc != nil {
		p.CSRF, p.Me, p.School = rc.CSRF, rc.Me, rc.School
		p.Full = rc.sess != nil && rc.sessStage == stageFull
	}
	return p
}

var funcs = template.FuncMap{}

// china is the display time zone: the schools this serves are in China.
var china = func() *time.Location {
	if l, err := time.LoadLocation("Asia/Shanghai"); err == nil {
		return l
	}
	return time.FixedZone("CST", 8*3600)
}()

// T translates a user-interface text.
func (p *page) T(key string) string {
	l, ok := texts[key]
	if !ok {
		return key
	}
	if p.Lang == hotline.LangEN {
		return l[1]
	}
	return l[0]
}

// L picks a label's text in the page's language.
func (p *page) L(l hotline.Label) string { return l.In(p.Lang) }

// Alias shows a tip's pseudonym in the page's language.
func (p *page) Alias(a hotline.Alias) string { return a.In(p.Lang) }

// Time formats an instant for a school's staff.
func (p *page) Time(t time.Time) string {
	if t.IsZero() {
		return "—"
	}
	return t.In(china).Format("2006-01-02 15:04")
}

// ISO is a machine-readable time for <time datetime>.
func (p *page) ISO(t time.Time) string { return t.UTC().Format(time.RFC3339) }

// Ago says how long ago t was.
func (p *page) Ago(t time.Time) string {
	if t.IsZero() {
		return "—"
	}
	return fmt.Sprintf(p.T("ago"), p.span(p.now.Sub(t)))
}

// Until says how long is left until a deadline, or how overdue it is.
func (p *page) Until(t time.Time) string {
	if t.IsZero() {
		return "—"
	}
	if d := t.Sub(p.now); d >= 0 {
		return fmt.Sprintf(p.T("left"), p.span(d))
	}
	return fmt.Sprintf(p.T("overdue_by"), p.span(p.now.Sub(t)))
}

// Past reports whether a deadline has passed.
func (p *page) Past(t time.Time) bool { return !t.IsZero() && p.now.After(t) }

// Soon reports whether a deadline is less than two hours away.
func (p *page) Soon(t time.Time) bool { return !t.IsZero() && t.Sub(p.now) < 2*time.Hour }

func (p *page) span(d time.Duration) string {
	switch {
	case d < time.Minute:
		return p.T("lt_minute")
	case d < time.Hour:
		return fmt.Sprintf(p.T("n_min"), int(d/time.Minute))
	case d < 48*time.Hour:
		return fmt.Sprintf(p.T("n_hours"), int(d/time.Hour))
	}
	return fmt.Sprintf(p.T("n_days"), int(d/(24*time.Hour)))
}

// Query returns the current filter query with one key changed, for links.
func (p *page) Query(v url.Values, key, value string) string {
	q := url.Values{}
	for k, vs := range v {
		q[k] = vs
	}
	q.Del("after")
	if value == "" {
		q.Del(key)
	} else {
		q.Set(key, value)
	}
	if len(q) == 0 {
		return "/inbox/"
	}
	return "/inbox/?" + q.Encode()
}

// texts are the inbox's own words, zh-CN then English; domain labels
// come from hotline.
var texts = map[string][2]string{
	"app":                {"校园欺凌举报热线", "Bullying report hotline"},
	"inbox":              {"收件箱", "Inbox"},
	"error":              {"出错了", "Error"},
	"back":               {"返回收件箱", "Back to the inbox"},
	"lang_switch":        {"English", "中文"},
	"login":              {"登录", "Log in"},
	"logout":             {"退出登录", "Log out"},
	"username":           {"用户名", "Username"},
	"password":           {"密码", "Password"},
	"login_hint":         {"仅限学校辅导老师和管理员使用。连续输错密码会被暂时锁定。", "For school counselors and admins only. Repeated wrong passwords lock the account for a while."},
	"forgot":             {"所有管理员都忘记了密码？用恢复密钥找回", "Every admin lost their password? Recover with the recovery key"},
	"recover":            {"用恢复密钥找回访问", "Recover access with the recovery key"},
	"recover_hint":       {"恢复密钥是创建学校时只显示过一次的那串代码。恢复后会新建一个管理员账号。", "The recovery key was shown once when the school was created. Recovery creates a new admin account."},
	"school_code":        {"学校代码", "School code"},
	"recovery_key":       {"恢复密钥", "Recovery key"},
	"new_admin":          {"新管理员用户名", "New admin username"},
	"recovered":          {"已恢复。新管理员的一次性密码如下，只显示这一次，请立即记下并登录修改：", "Recovered. The new admin's one-time password is below; it is shown only once — note it and log in to change it:"},
	"otp_once":           {"一次性密码（只显示一次）", "One-time password (shown once)"},
	"totp_title":         {"两步验证", "Two-step verification"},
	"totp_code":          {"验证器应用中的 6 位验证码", "6-digit code from your authenticator app"},
	"verify":             {"验证", "Verify"},
	"pw_title":           {"修改密码", "Change password"},
	"pw_forced":          {"这是你第一次用一次性密码登录。请设置新密码后再继续。", "You logged in with a one-time password. Choose a new password to continue."},
	"pw_current":         {"当前密码", "Current password"},
	"pw_new":             {"新密码（至少 10 个字符）", "New password (at least 10 characters)"},
	"pw_again":           {"再输入一次新密码", "New password again"},
	"pw_mismatch":        {"两次输入的新密码不一致。", "The two new passwords differ."},
	"pw_wrong":           {"当前密码不正确。", "The current password is wrong."},
	"pw_changed":         {"密码已修改。", "Password changed."},
	"save":               {"保存", "Save"},
	"account":            {"我的账号", "My account"},
	"totp_on":            {"两步验证已开启。", "Two-step verification is on."},
	"totp_off":           {"两步验证未开启。", "Two-step verification is off."},
	"totp_required":      {"本校要求开启两步验证，请先完成设置。", "Your school requires two-step verification; set it up to continue."},
	"totp_scan":          {"用验证器应用（如 Google Authenticator、Microsoft Authenticator）扫描二维码，或手动输入密钥，然后填入显示的验证码。", "Scan the QR code with an authenticator app (Google Authenticator, Microsoft Authenticator…) or type the secret, then enter the code it shows."},
	"totp_secret":        {"密钥", "Secret"},
	"totp_enable":        {"开启两步验证", "Turn on two-step verification"},
	"totp_disable":       {"关闭两步验证", "Turn off two-step verification"},
	"totp_enabled":       {"两步验证已开启。", "Two-step verification is on."},
	"totp_disabled":      {"两步验证已关闭。", "Two-step verification is off."},
	"queue":              {"案件队列", "Queue"},
	"intake":             {"代录报告", "Record a report"},
	"counselors":         {"老师账号", "Counselors"},
	"settings":           {"学校设置", "School settings"},
	"all":                {"全部", "All"},
	"open":               {"未结案", "Open"},
	"status":             {"状态", "Status"},
	"severity":           {"情节", "Severity"},
	"category":           {"类别", "Category"},
	"channel":            {"渠道", "Channel"},
	"assignee":           {"负责人", "Assignee"},
	"unassigned":         {"未指派", "Unassigned"},
	"overdue":            {"已逾期", "Overdue"},
	"mine":               {"我负责的", "Mine"},
	"filter":             {"筛选", "Filter"},
	"reset":              {"清除筛选", "Clear filters"},
	"alias":              {"报告人代号", "Reporter alias"},
	"urgent":             {"紧急", "Urgent"},
	"age":                {"收到", "Received"},
	"deadline":           {"时限", "Deadline"},
	"unread":             {"新消息", "New"},
	"unread_sr":          {"有未读的新消息", "has unread messages"},
	"empty_queue":        {"没有符合条件的案件。", "No cases match."},
	"next_page":          {"下一页", "Next page"},
	"first_page":         {"回到第一页", "First page"},
	"live_on":            {"实时更新已连接", "Live updates on"},
	"ago":                {"%s前", "%s ago"},
	"left":               {"剩余 %s", "%s left"},
	"overdue_by":         {"已逾期 %s", "overdue by %s"},
	"lt_minute":          {"不到 1 分钟", "under a minute"},
	"n_min":              {"%d 分钟", "%d min"},
	"n_hours":            {"%d 小时", "%d h"},
	"n_days":             {"%d 天", "%d d"},
	"thread":             {"对话记录", "Thread"},
	"reporter":           {"报告人", "Reporter"},
	"counselor":          {"老师回复", "Counselor reply"},
	"note_label":         {"内部备注·不会发送", "Internal note · never sent"},
	"system":             {"系统", "System"},
	"photo":              {"照片", "Photo"},
	"purged":             {"内容已按保存期限清除。", "Content purged under the retention policy."},
	"reply":              {"回复报告人", "Reply to the reporter"},
	"send_reply":         {"发送回复", "Send reply"},
	"attach_photo":       {"附加照片（可选）", "Attach a photo (optional)"},
	"unreachable":        {"注意：这位报告人目前无法收到回复（对方已屏蔽机器人、解除关联，或这是老师代录的报告）。回复仍会记入案件。", "Note: this reporter cannot receive replies now (they blocked the bot, unlinked, or the report was entered by staff). A reply is still recorded in the case."},
	"note":               {"添加内部备注", "Add an internal note"},
	"add_note":           {"保存备注", "Save note"},
	"note_hint":          {"备注只有本校老师能看到，永远不会发给报告人。", "Notes are for your school's staff only and never reach the reporter."},
	"case":               {"案件", "Case"},
	"controls":           {"处理", "Handling"},
	"change":             {"更改", "Change"},
	"mark_urgent":        {"标记为紧急", "Mark urgent"},
	"clear_urgent":       {"取消紧急标记", "Clear urgent"},
	"assign":             {"指派", "Assign"},
	"steps":              {"处置措施", "Handling steps"},
	"steps_hint":         {"按当前情节等级，政策要求的处置措施：", "The handling this severity calls for under the policy:"},
	"save_steps":         {"保存处置措施", "Save handling steps"},
	"timeline":           {"案件记录（台账）", "Case timeline (ledger)"},
	"deadlines":          {"时限", "Deadlines"},
	"ack_due":            {"受理", "Acknowledge"},
	"reply_due":          {"首次回复", "First reply"},
	"district_due":       {"上报区教育局", "Report to district"},
	"done":               {"已完成", "done"},
	"escalated":          {"已上报区教育局", "Escalated to the district"},
	"reporter_role":      {"报告人身份", "Reporter"},
	"new_activity":       {"这个案件有新动态。", "This case has new activity."},
	"reload":             {"刷新", "Reload"},
	"intake_hint":        {"把电话、纸条或当面收到的报告录入系统。内容会像其他报告一样加密保存，并进入本校队列。", "Enter a report received by phone, on a paper note or in person. It is sealed like any other report and joins your school's queue."},
	"source":             {"来源", "Source"},
	"src_phone":          {"电话", "Phone call"},
	"src_paper":          {"纸条 / 信箱", "Paper note"},
	"src_person":         {"当面", "In person"},
	"src_note":           {"代录来源：", "Entered from: "},
	"what_happened":      {"发生了什么（尽量记下原话）", "What happened (in the reporter's words if possible)"},
	"danger_now":         {"有人现在有危险", "Someone is in danger now"},
	"submit_report":      {"录入报告", "Record report"},
	"username_hint":      {"字母、数字、点、下划线或连字符", "letters, digits, dots, underscores or hyphens"},
	"display_name":       {"姓名", "Name"},
	"role":               {"角色", "Role"},
	"active":             {"状态", "Status"},
	"is_active":          {"正常", "Active"},
	"inactive":           {"已停用", "Deactivated"},
	"deactivate":         {"停用", "Deactivate"},
	"confirm_deactivate": {"确定停用这个账号吗？停用后该账号的密码将无法再打开任何内容。", "Deactivate this account? Its password will open nothing any more."},
	"add_counselor":      {"添加老师", "Add a counselor"},
	"added":              {"已添加。请把下面的一次性密码当面交给这位老师，它只显示这一次：", "Added. Give this one-time password to the counselor in person; it is shown only once:"},
	"you":                {"（你）", "(you)"},
	"name":               {"学校名称", "School name"},
	"name_en":            {"英文名称（可选）", "English name (optional)"},
	"emergency":          {"紧急联系方式（向有危险的报告人显示）", "Emergency contact (shown to a reporter in danger)"},
	"origins":            {"允许嵌入网页聊天的网站来源（每行一个，如 https://www.school.cn）", "Sites allowed to embed the web chat (one origin per line, e.g. https://www.school.cn)"},
	"hours_urgent":       {"紧急报告受理时限（小时，留空为 1）", "Acknowledge an urgent tip within (hours, empty: 1)"},
	"hours_ack":          {"报告受理时限（小时，留空为 24）", "Acknowledge a tip within (hours, empty: 24)"},
	"hours_reply":        {"首次回复时限（小时，留空为 24）", "First reply within (hours, empty: 24)"},
	"hours_district":     {"严重案件上报区教育局时限（小时，留空为 24）", "Report a severe case to the district within (hours, empty: 24)"},
	"require_totp":       {"要求所有老师开启两步验证", "Require two-step verification for all staff"},
	"retention":          {"内容保存天数（0 为永久保存，否则 90–3650）", "Keep content for (days; 0 forever, else 90–3650)"},
	"saved":              {"已保存。", "Saved."},
	"bad_number":         {"请输入整数。", "Please enter a whole number."},
}
