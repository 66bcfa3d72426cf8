package inboxweb

import (
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"hotline/internal/hotline"
	"hotline/internal/poster"
	"hotline/internal/staff"
)

// setupData is what the admin's setup page shows: how students reach the
// school, and what is still missing before the school can take reports.
type setupData struct {
	Snippet    string // the widget's <script> tag, shown as text to copy
	ChatPath   string // /c/CODE on this server, for the preview
	ChatURL    string
	MailboxURL string
	BotURL     string // empty when no bot is known
	PosterURL  string
	// PosterQRPath is the poster's chat QR code on this server (the page
	// may be opened under another host than the public URL).
	PosterQRPath string
	// Local is set when the public URL is a loopback or unspecified
	// address: links and QR codes would open only on the server itself.
	Local     bool
	PublicURL string
	Checks    []setupCheck
	Done      int // how many checks the server can verify are done
	Total     int // how many checks the server can verify

	// Wechat lists the WeChat official accounts serving the school.
	Wechat []wechatSetup

	// Safety is the safety question's wording, for the school to read.
	Safety *safetyWording
}

// safetyWording is the safety question reporters are asked when the
// detector is unsure of their words, in both languages, and how long it
// waits for an answer.
type safetyWording struct {
	Question, Yes, No hotline.Label
	Minutes           int
}

// setupCheck is one line of the checklist. Info lines are reminders the
// server cannot verify (the recovery key is never stored).
type setupCheck struct {
	Key  string // the texts key of its title; "<key>_how" explains it
	Done bool
	Info bool
	Link string // where to fix it, or empty
	// Problems say why it is not done (the on-call item), with reasons.
	Problems []staff.Problem
}

// maxSetupScan bounds how many of the school's tips the checklist reads
// looking for an answered one: a school with more has long been set up.
const maxSetupScan = 1000

// handleSetup shows an admin how to put the hotline in front of students
// (the widget snippet, the links and the poster) and a checklist of what
// the school still has to do.
func (s *Server) handleSetup(w http.ResponseWriter, r *http.Request, rc *reqCtx) {
	d, err := s.setupData(r, rc)
	if err != nil {
		s.fail(w, r, rc, err)
		return
	}
	p := s.newPage(r, rc, rc.Lang)
	p.Title, p.Nav, p.Data = p.T("setup"), "setup", d
	s.pages.Render(w, http.StatusOK, "setup", p)
}

func (s *Server) setupData(r *http.Request, rc *reqCtx) (*setupData, error) {
	ctx := r.Context()
	school := rc.School
	base := strings.TrimRight(s.cfg.PublicURL, "/")
	bot := ""
	if s.cfg.BotName != nil {
		bot = s.cfg.BotName()
	}
	pst := poster.New(school, base, bot)
	code := url.PathEscape(school.Code)
	d := &setupData{
		Snippet:      `<script src="` + base + `/webchat/widget.js" data-school="` + school.Code + `" async></script>`,
		ChatPath:     "/c/" + code,
		ChatURL:      pst.ChatURL,
		MailboxURL:   pst.MailboxURL,
		BotURL:       pst.BotURL,
		PosterURL:    base + "/poster/" + code,
		PosterQRPath: "/poster/" + code + "/qr/chat.png",
		Local:        localURL(base),
		PublicURL:    base,
		Wechat:       s.wechatSetups(base, school.Code),
	}
	if s.cfg.SafetyWords != nil {
		q, yes, no := s.cfg.SafetyWords()
		d.Safety = &safetyWording{Question: q, Yes: yes, No: no, Minutes: int(hotline.SafetyQuestionWait / time.Minute)}
	}

	counselors, err := s.cfg.Staff.Counselors(ctx, rc.actor())
	if err != nil {
		return nil, err
	}
	ready, err := s.cfg.Staff.Readiness(ctx, school.ID, s.clock.Now())
	if err != nil {
		return nil, err
	}
	active := 0
	for _, c := range counselors {
		if c.Active {
			active++
		}
	}
	sent, answered, err := s.testReport(r, rc)
	if err != nil {
		return nil, err
	}
	d.Checks = []setupCheck{
		{Key: "chk_counselors", Done: active > 1, Link: "/inbox/admin/counselors"},
		{Key: "chk_recovery", Info: true},
		{Key: "chk_oncall", Done: ready.Ready, Link: "/inbox/admin/rota", Problems: ready.Problems},
		{Key: "chk_report_sent", Done: sent, Link: d.ChatPath},
		{Key: "chk_report_answered", Done: answered, Link: "/inbox/"},
	}
	for _, c := range d.Checks {
		if c.Info {
			continue
		}
		d.Total++
		if c.Done {
			d.Done++
		}
	}
	return d, nil
}

// testReport says whether the school has any report, and any a counselor
// has answered: the first answered report proves the whole path works.
func (s *Server) testReport(r *http.Request, rc *reqCtx) (sent, answered bool, err error) {
	f := hotline.TipFilter{Limit: 200}
	for n := 0; n < maxSetupScan; {
		tips, next, err := s.cfg.Triage.Queue(r.Context(), rc.actor(), f)
		if err != nil {
			return false, false, err
		}
		for _, t := range tips {
			sent = true
			if !t.FirstReplyAt.IsZero() {
				return true, true, nil
			}
		}
		n += len(tips)
		if next == nil || len(tips) == 0 {
			break
		}
		f.After = next
	}
	return sent, false, nil
}

// localURL reports whether base points at the server itself (the default
// when --public-url is not set): no phone that scans the poster reaches it.
func localURL(base string) bool {
	u, err := url.Parse(base)
	if err != nil || u.Hostname() == "" {
		return true
	}
	h := u.Hostname()
	if strings.EqualFold(h, "localhost") || strings.HasSuffix(strings.ToLower(h), ".localhost") {
		return true
	}
	ip := net.ParseIP(h)
	return ip != nil && (ip.IsLoopback() || ip.IsUnspecified())
}

// setupTexts are the setup page's words, zh-CN then English.
var setupTexts = map[string][2]string{
	"setup":                   {"开通设置", "Setup"},
	"setup_lead":              {"把举报入口放到学生面前，并完成下面的清单。学生无需注册，举报全程匿名。", "Put the hotline in front of students and finish the checklist below. Students need no account; every report is anonymous."},
	"setup_local":             {"服务器没有设置公开网址（--public-url），下面的链接和海报二维码都指向本机（localhost），学生的手机打不开。请用 --public-url https://你的域名 重新启动服务器后再打印海报。", "The server has no public URL (--public-url): the links and the poster's QR codes below point at this machine (localhost) and will not open on students' phones. Restart the server with --public-url https://your.domain before printing posters."},
	"setup_checklist":         {"开通清单", "Checklist"},
	"setup_done_n":            {"已完成 %d / %d 项", "%d of %d done"},
	"chk_done":                {"已完成", "Done"},
	"chk_todo":                {"未完成", "Missing"},
	"chk_info":                {"请自行确认", "Check yourself"},
	"chk_fix":                 {"去处理", "Fix it"},
	"chk_counselors":          {"已添加辅导老师（管理员以外至少一人）", "Counselors added (at least one besides the admin)"},
	"chk_counselors_how":      {"在“老师账号”页面添加，并把一次性密码当面交给老师。", "Add them on the Counselors page and hand each one-time password over in person."},
	"chk_recovery":            {"恢复密钥已妥善保管", "Recovery key stored safely"},
	"chk_recovery_how":        {"恢复密钥只在创建学校时显示过一次，服务器没有保存它，所以这里无法检查。请把它打印或写下，封存在校长办公室的保险柜里；所有管理员都忘记密码时，只有它能找回举报内容。", "The recovery key was shown once when the school was created; the server does not keep it, so this page cannot check it. Print or write it down and seal it in the principal's safe: when every admin has lost their password, only it recovers the reports."},
	"chk_oncall":              {"值班表每个小时都有人，且提醒已测试确认", "Every hour of the rota has someone whose alerts were tested and confirmed"},
	"chk_oncall_how":          {"在“值班表”页面排好每周每个小时的第一值班人；值班的老师在“我的提醒”页面绑定企业微信、钉钉、短信等，并点“发送测试提醒”，从收到的提醒里确认。只保存了邮箱、却没有配置邮件服务器的，不算。", "Fill every hour of the week with someone first on call on the Rota page; each of them links WeCom, DingTalk, text messages… on My alerts, presses “Send a test alert” and confirms it from the alert. An e-mail address saved on a server without an SMTP server does not count."},
	"chk_report_sent":         {"已发送一条测试举报", "Test report sent"},
	"chk_report_sent_how":     {"用下面的聊天链接自己发一条测试举报（写明“测试”）。", "Send yourself a test report (say it is a test) through the chat link below."},
	"chk_report_answered":     {"测试举报已得到回复", "Test report answered"},
	"chk_report_answered_how": {"在收件箱里打开这条举报并回复；再用回执码在聊天里查看回复，确认整个流程畅通。", "Open the report in the inbox and reply; then use its receipt in the chat to read the reply, to see the whole path works."},
	"setup_widget":            {"网站小部件", "Website widget"},
	"setup_widget_how":        {"把下面这一行加到学校网站每个页面的 </body> 之前。学校网站的地址（如 https://www.school.cn）还要填进“学校设置”页面的“允许嵌入网页聊天的网站来源”，否则浏览器不会显示聊天窗口。", "Add this line before </body> on every page of the school's website. Also list the website's origin (e.g. https://www.school.cn) under the sites allowed to embed the web chat in School settings, or browsers will not show the chat."},
	"setup_copy":              {"复制", "Copy"},
	"setup_copied":            {"已复制", "Copied"},
	"setup_preview":           {"预览", "Preview"},
	"setup_preview_how":       {"学生点开小部件看到的就是下面这个聊天窗口（实时运行，可以在这里发一条测试举报）。", "Below is the chat students see when they open the widget, live: you can send the test report from here."},
	"setup_open_chat":         {"在新窗口打开聊天页面", "Open the chat page in a new tab"},
	"setup_links":             {"举报入口", "Ways to report"},
	"setup_chat":              {"网页聊天", "Web chat"},
	"setup_mailbox":           {"匿名信箱（无需 JavaScript）", "Mailbox (works without JavaScript)"},
	"setup_telegram":          {"Telegram 机器人", "Telegram bot"},
	"setup_no_bot":            {"服务器没有配置 Telegram 机器人（--telegram-token）。", "The server has no Telegram bot configured (--telegram-token)."},
	"setup_poster":            {"海报", "Poster"},
	"setup_safety":            {"系统不确定时问学生的话", "What students are asked when the system is unsure"},
	"setup_safety_how":        {"当系统不确定学生写的内容是否意味着现在有危险时，会马上直接问这一句，附两个按钮（网页信箱在提交后的页面上问）。回答「是」：报告作为紧急报告处理，值班老师马上收到提醒；回答「没有」：照常处理；%d 分钟内没有回答：报告在收件箱里标为「可能紧急」，可以筛选。像心理援助热线一样直接问，不会让孩子产生这样的念头。", "When the system is unsure whether what a student wrote means danger now, it asks this at once, with two buttons (the web mailbox asks on the page after sending). \"Yes\": the report is handled as urgent and the on-call staff are paged at once; \"No\": it goes on as usual; no answer within %d minutes: the report is marked \"possibly urgent\" in the inbox, where you can filter on it. Asking directly, as crisis lines do, does not put the idea in a child's head."},
	"setup_poster_how":        {"A4 海报，中文在前、英文在后，二维码指向上面的链接。下载 PDF 或 PNG 打印，或在浏览器里打开后打印；命令 hotline poster 也能生成。", "An A4 poster, Chinese first, English second; its QR codes open the links above. Download the PDF or PNG to print, or print it from a browser; `hotline poster` makes them too."},
	"setup_poster_open":       {"打开海报（可打印）", "Open the poster (printable)"},
	"setup_poster_pdf":        {"下载海报 PDF（A4）", "Download the poster as PDF (A4)"},
	"setup_poster_png":        {"下载 PNG", "Download PNG"},
	"setup_poster_local":      {"服务器没有设置公开网址（--public-url），海报上的二维码会指向本机，学生的手机打不开，所以现在不能生成海报。请用 --public-url https://你的域名 重新启动服务器。", "The server has no public URL (--public-url): the poster's QR codes would point at this machine and open on no student's phone, so no poster is made. Restart the server with --public-url https://your.domain."},
}

func init() {
	for k, v := range setupTexts {
		texts[k] = v
	}
}
