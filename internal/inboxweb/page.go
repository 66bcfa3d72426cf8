package inboxweb

import (
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"time"

	"hotline/internal/alert"
	"hotline/internal/hotline"
	"hotline/internal/staff"
	"hotline/internal/triage"
	"hotline/internal/web"
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
	// HTTPSLogin is the log-in page's https address when the server is
	// served over https: a log-in page opened over plain http says so
	// and links it (a Secure cookie never sticks over http).
	HTTPSLogin string
	// Insecure: this request came over plain http to an https server.
	Insecure bool
	Data     any
	now      time.Time
}

func (s *Server) newPage(r *http.Request, rc *reqCtx, lang hotline.Lang) *page {
	p := &page{Lang: lang, now: s.clock.Now(), LangURL: web.SwitchURL(r, lang, "/inbox/")}
	if rc != nil {
		p.CSRF, p.Me, p.School = rc.CSRF, rc.Me, rc.School
		p.Full = rc.sess != nil && rc.sessStage == stageFull
	}
	return p
}

// funcs are the inbox's own template funcs, over web.Funcs.
var funcs = template.FuncMap{
	"kindLabel": func(k alert.Kind) hotline.Label { return staff.KindLabel(k) },
}

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
	return t.In(hotline.ChinaTime).Format("2006-01-02 15:04")
}

// When says an instant briefly in the page's language ("11月28日 14:03",
// "Nov 28 14:03"), with the year only when it is not this year's.
func (p *page) When(t time.Time) string {
	if t.IsZero() {
		return "—"
	}
	t = t.In(hotline.ChinaTime)
	sameYear := t.Year() == p.now.In(hotline.ChinaTime).Year()
	switch {
	case p.Lang == hotline.LangEN && sameYear:
		return t.Format("Jan 2 15:04")
	case p.Lang == hotline.LangEN:
		return t.Format("Jan 2 2006 15:04")
	case sameYear:
		return t.Format("1月2日 15:04")
	}
	return t.Format("2006年1月2日 15:04")
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
		// Time left is counted up: a 7-day deadline set a moment ago has
		// 7 days left, not 6 (and 1 minute left is not "under a minute").
		return fmt.Sprintf(p.T("left"), p.spanUp(d))
	}
	return fmt.Sprintf(p.T("overdue_by"), p.span(p.now.Sub(t)))
}

// spanUp is span rounded up to its unit.
func (p *page) spanUp(d time.Duration) string {
	switch {
	case d <= 0:
		return p.span(d)
	case d <= time.Hour:
		return p.span(roundUp(d, time.Minute))
	case d <= 48*time.Hour:
		return p.span(roundUp(d, time.Hour))
	}
	return p.span(roundUp(d, 24*time.Hour))
}

// roundUp rounds d up to a whole number of units.
func roundUp(d, unit time.Duration) time.Duration {
	if r := d % unit; r != 0 {
		return d - r + unit
	}
	return d
}

// MustEscalate flags a case the policy requires to be escalated and that
// has not been.
func (p *page) MustEscalate(t *hotline.Tip) bool { return triage.NeedsEscalation(t) }

// Past reports whether a deadline has passed.
func (p *page) Past(t time.Time) bool { return !t.IsZero() && p.now.After(t) }

// Soon reports whether a deadline is less than two hours away.
func (p *page) Soon(t time.Time) bool { return !t.IsZero() && t.Sub(p.now) < 2*time.Hour }

// Span says how long d is, for templates.
func (p *page) Span(d time.Duration) string { return p.span(d) }

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
	"app":               {"校园欺凌举报热线", "Bullying report hotline"},
	"inbox":             {"收件箱", "Inbox"},
	"error":             {"出错了", "Error"},
	"unavailable_title": {"暂时无法连接数据库", "The database is unavailable"},
	"unavailable":       {"系统暂时出了故障，数据库没有响应。你仍然是登录状态，不需要重新登录；请过一会儿刷新页面。", "Something went wrong on our side: the database is not answering. You are still logged in and need not log in again; reload the page in a little while."},
	"not_saved_title":   {"没有保存", "Not saved"},
	"not_saved":         {"没有保存：系统暂时出了故障。你写的内容还在下面，请稍等一会儿再点「再试一次」。", "Not saved: something went wrong on our side. What you wrote is still below; wait a little, then press \"Try again\"."},
	"not_saved_photo":   {"附带的照片没有保存，请重新选择。", "The photo that came with it was not saved; choose it again."},
	"try_again":         {"再试一次", "Try again"},
	"current_mark":      {"（当前）", " (now)"},
	"unread_badge":      {" 条未读", " unread"},
	// The navigation's own, shorter words (the pages keep their titles):
	// the admin's eleven links fit a 1280-px line in English too.
	"nav_intake":         {"代录报告", "New report"},
	"nav_stats":          {"统计", "Stats"},
	"nav_settings":       {"学校设置", "Settings"},
	"nav_audit":          {"操作记录", "Audit"},
	"nav_alerts":         {"我的提醒", "Alerts"},
	"unread_badge_title": {"有新消息、还没打开看过的案件", "Cases with new messages you have not opened yet"},
	"insecure_login":     {"这个页面是用不加密的 http 打开的，在这里登录不会成功（登录凭据只能在 https 下保存）。请改用安全地址登录：", "This page was opened over plain http, where logging in cannot work (the log-in is kept only over https). Log in at the secure address:"},
	"back_to_case":       {"返回案件", "Back to the case"},
	"back":               {"返回收件箱", "Back to the inbox"},
	"lang_switch":        {"English", "中文"},
	"login":              {"登录", "Log in"},
	"logout":             {"退出登录", "Log out"},
	"username":           {"用户名", "Username"},
	"password":           {"密码", "Password"},
	"login_hint":         {"仅限学校辅导老师和管理员使用。连续输错密码后，新浏览器须等待一段时间（最长 15 分钟）；在你登录过的浏览器上，别人的错误尝试不会把你锁在外面。", "For school counselors and admins only. After repeated wrong passwords a new browser must wait (at most 15 minutes); on a browser you have logged in from before, other people's wrong guesses never lock you out."},
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
	"surveys":            {"调查问卷", "Surveys"},
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
	"possibly_urgent":    {"可能紧急", "Possibly urgent"},
	"possibly_hint":      {"系统不确定报告里是否有危险，问了报告人是否安全，报告人没有回答。请优先查看。", "The detector was unsure whether the report means danger now; the reporter was asked whether they are safe and did not answer. Please look at it first."},
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
	"note_label":         {"内部备注·不会发送给报告人·学校老师可见；上报区教育局后，区教育局也可查看", "Internal note · never sent to the reporter · Visible to school staff; after escalation, also to the district"},
	"system":             {"系统", "System"},
	"photo":              {"照片", "Photo"},
	"purged":             {"内容已按保存期限清除。", "Content purged under the retention policy."},
	"reply":              {"回复报告人", "Reply to the reporter"},
	"send_reply":         {"发送回复", "Send reply"},
	"attach_photo":       {"附加照片（可选）", "Attach a photo (optional)"},
	"unreachable":        {"注意：这位报告人目前无法收到回复（对方已屏蔽机器人、解除关联，或这是老师代录的报告）。回复仍会记入案件。对方屏蔽了机器人的，回复会保存起来（最多 30 天），对方再发消息时按写的顺序全部送达。", "Note: this reporter cannot receive replies now (they blocked the bot, unlinked, or the report was entered by staff). A reply is still recorded in the case. If they blocked the bot, replies are kept (up to 30 days) and all go out, in the order written, when they write again."},
	"note":               {"添加内部备注", "Add an internal note"},
	"add_note":           {"保存备注", "Save note"},
	"note_hint":          {"备注不会发给报告人。学校老师可见；上报区教育局后，区教育局也可查看。", "Notes never reach the reporter. Visible to school staff; after escalation, also to the district."},
	"case":               {"案件", "Case"},
	"controls":           {"处理", "Handling"},
	"change":             {"更改", "Change"},
	"mark_urgent":        {"标记为紧急", "Mark urgent"},
	"clear_urgent":       {"取消紧急标记", "Clear urgent"},
	"urgent_feedback":    {"系统自动标出的紧急，如果判断不是「现在有危险」，请取消，会记作一次误报；系统没有标出、但现在有危险的，请标记，会记作一次漏报。只统计类别和数量，不含任何内容，用来改进自动识别。", "If a flag the system raised is not danger now, clear it: it counts as a false alarm. If a case is danger now and the system did not flag it, mark it: it counts as a miss. Only categories and counts are kept, never content, to improve the detection."},
	"assign":             {"指派", "Assign"},
	"steps":              {"处置措施", "Handling steps"},
	"steps_hint":         {"按当前情节等级，政策要求的处置措施：", "The handling this severity calls for under the policy:"},
	"save_steps":         {"保存处置措施", "Save handling steps"},
	"dstep_followup":     {"情况有变化，请用「向区教育局续报」按钮续报", "the case changed: report it with the follow-up button"},
	"dstep_hint":         {"只能通过「上报区教育局」按钮完成：上报后区教育局才能看到案件", "done only with the \"Escalate to the district\" button, which lets the district see the case"},
	"timeline":           {"案件记录（台账）", "Case timeline (ledger)"},
	"deadlines":          {"时限", "Deadlines"},
	"ack_due":            {"受理", "Acknowledge"},
	"reply_due":          {"首次回复", "First reply"},
	"district_due":       {"上报区教育局", "Report to district"},
	"assess_due":         {"评估情节", "Assess the severity"},
	"progress_due":       {"下一步跟进或办结（每次回复或处置后重新计时）", "Next follow-up or closure (restarts after each reply or action)"},
	"done":               {"已完成", "done"},
	"escalated":          {"已上报区教育局", "Escalated to the district"},
	"reporter_role":      {"报告人身份", "Reporter"},
	"new_activity":       {"这个案件有新动态。", "This case has new activity."},
	"reload":             {"刷新", "Reload"},
	"intake_repeated":    {"这份记录已经提交过了（页面被刷新或重复提交），没有再建新的案件。下面是同一份记录的回执码。", "This report was submitted already (the page was refreshed or sent twice); no second case was filed. Below is the same report's receipt."},
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
	"alerts":             {"我的提醒", "My alerts"},
	"alerts_intro":       {"有紧急报告或案件超过处理时限时，系统会通过 Telegram 或电子邮件提醒你打开收件箱。", "When an urgent report arrives or a case misses a deadline, you are reminded by Telegram or e-mail to open the inbox."},
	"alerts_no_content":  {"提醒里永远不含报告内容：只有报告人代号、学校和“请打开收件箱”。", "Alerts never contain report content: only the reporter's alias, the school and “open the inbox”."},
	"alerts_district":    {"区教育局工作人员会在紧急报告一小时无人受理、或案件逾期时收到提醒。", "District officers are alerted when an urgent report is not acknowledged within an hour, or a case is overdue."},
	"on_call":            {"值班", "On call"},
	"you_on_call":        {"你在本校的值班名单上：紧急报告会第一时间提醒你。", "You are on your school's on-call rota: urgent reports page you first."},
	"you_not_on_call":    {"你目前不在值班名单上。", "You are not on the on-call rota now."},
	"oncall_ask_admin":   {"值班名单由学校管理员在“老师账号”页设置。", "The school admin sets the rota on the Counselors page."},
	"tg_linked":          {"已绑定", "Linked"},
	"tg_linked_hint":     {"提醒会发到你绑定的 Telegram 聊天。", "Alerts go to your linked Telegram chat."},
	"tg_unlink":          {"解除 Telegram 绑定", "Unlink Telegram"},
	"tg_unlink_confirm":  {"确定解除绑定吗？解除后 Telegram 不再收到提醒。", "Unlink? Telegram will get no more alerts."},
	"tg_not_linked":      {"未绑定", "Not linked"},
	"tg_code_is":         {"你的一次性绑定码：", "Your one-time link code:"},
	"tg_step1":           {"在手机或电脑上打开 Telegram，找到本校的举报机器人（学生海报上的那个）。", "Open Telegram and find your school's report bot (the one on the students' poster)."},
	"tg_step2_pre":       {"在 Telegram 里给机器人发送", "In Telegram, send the bot"},
	"tg_step2_post":      {"，15 分钟内有效。", " — valid for 15 minutes."},
	"tg_step3":           {"机器人回复“已绑定”后，刷新本页即可看到状态。", "When the bot answers that you are linked, reload this page to see it."},
	"tg_code_valid":      {"有效期至 %s，只能使用一次。", "Valid until %s, once."},
	"tg_get_code":        {"生成绑定码", "Get a link code"},
	"tg_new_code":        {"重新生成绑定码", "Make a new code"},
	"tg_relink":          {"换一个 Telegram 账号绑定", "Link another Telegram chat"},
	"tg_unlinked":        {"已解除 Telegram 绑定。", "Telegram unlinked."},
	"email_alerts":       {"电子邮件提醒", "E-mail alerts"},
	"email_hint":         {"可选。地址会加密保存，只用于发送提醒。留空并保存即可删除。", "Optional. The address is stored sealed and used only for alerts. Save it empty to remove it."},
	"email_addr":         {"电子邮件地址", "E-mail address"},
	"email_clear":        {"删除地址", "Remove address"},
	"email_saved":        {"提醒邮箱已保存。", "Alert address saved."},
	"email_cleared":      {"提醒邮箱已删除。", "Alert address removed."},
	"email_short":        {"邮件", "E-mail"},
	"reach":              {"提醒方式", "Alerts by"},
	"reach_none":         {"未设置", "none"},
	"oncall_on":          {"设为值班", "Put on call"},
	"oncall_off":         {"取消值班", "Take off call"},
	"oncall_title":       {"值班名单", "On-call rota"},
	"oncall_n":           {"目前有 %d 位老师值班。", "%d staff on call now."},
	"oncall_none":        {"目前没有人值班。", "Nobody is on call now."},
	"oncall_fb1":         {"紧急报告先提醒值班的老师；没有人值班时，提醒本校所有老师。", "An urgent report pages the staff on call first; when nobody is on call, every counselor of the school."},
	"oncall_fb2":         {"%s后仍无人受理：提醒本校所有老师。", "Still not acknowledged after %s: every counselor of the school is paged."},
	"oncall_fb3":         {"超过紧急报告受理时限（%s）仍无人受理：提醒区教育局。", "Not acknowledged within the urgent deadline (%s): the district is alerted."},
	"oncall_reach_hint":  {"只有绑定了 Telegram 或填写了邮箱的老师才能收到提醒。每位老师在这里设置自己的提醒方式：", "Only staff with Telegram linked or an e-mail address set can be paged; each sets their own under"},
	"district_title":     {"上报区教育局", "Escalate to the district"},
	"escalated_hint":     {"区教育局的工作人员可以阅读这个案件的对话和内部备注；之后的新消息和备注也会同步给他们。", "District officers can read this case's thread and internal notes; later messages and notes reach them too."},
	"followup_due":       {"案件有变化，需要向区教育局续报：", "The case changed; a follow-up report to the district is due:"},
	"followup_button":    {"续报区教育局", "Follow-up report to the district"},
	"followup_confirm":   {"确认已向区教育局续报这个案件的最新情况？", "Confirm you have reported this case's latest state to the district?"},
	"must_escalate":      {"必须上报区教育局。", "Must be escalated to the district."},
	"no_district":        {"但本校还没有接入区教育局账户，现在无法上报：请系统管理员运行 hotline district add 和 hotline school set-district，然后再上报。在此之前请按规定另行报告区教育局。", "But this school is not linked to a district bureau's account, so it cannot be escalated here yet: ask the system administrator to run hotline district add and hotline school set-district, then escalate. Until then, report to the district by other means as the rules require."},
	"no_district_short":  {"本校未接入区教育局，无法上报", "No district bureau linked; cannot escalate"},
	"must_escalate_tag":  {"待上报", "To escalate"},
	"must_escalate_why":  {"情节为“%s”的案件须在时限内上报区教育局。", "A case of severity “%s” must be reported to the district in time."},
	"escalate_optional":  {"情节严重或涉嫌违法犯罪的案件必须上报；其他案件需要区里协助时也可以上报。", "Severe and criminal cases must be escalated; escalate others when the district's help is needed."},
	"escalate_check":     {"我确认上报：区教育局的工作人员将可以阅读这个案件的全部对话和内部备注。", "I confirm: the district's officers will be able to read this case's whole thread, internal notes included."},
	"escalate_confirm":   {"确定把这个案件上报区教育局吗？上报后不能撤回。", "Escalate this case to the district? This cannot be undone."},
	"escalate_button":    {"上报区教育局", "Escalate to the district"},
	"bad_number":         {"请输入整数。", "Please enter a whole number."},
}
