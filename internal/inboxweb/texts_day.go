package inboxweb

// dayTexts are the texts of the counselor's-day features (search, saved
// replies, receipts for staff intake, statistics, audit), zh-CN first.
// They join texts at start-up.
var dayTexts = map[string][2]string{
	"search_words":      {"搜索对话内容", "Words in the thread"},
	"search_words_hint": {"在本校案件的对话里查找（用你登录时解开的本校密钥逐个打开，不建立任何索引）。", "Looks in your school's threads (each opened with the key your log-in unlocked; no index is kept)."},
	"search_alias":      {"化名", "Alias"},
	"search_from":       {"收到日期从", "Received from"},
	"search_to":         {"到", "to"},
	"search_scanned":    {"本次查看了 %d 个案件，找到 %d 个。", "Looked through %d cases, found %d."},
	"search_more":       {"继续搜索后面的案件", "Search the next cases"},
	"search":            {"搜索", "Search"},
	"more_filters":      {"更多筛选", "More filters"},
	"saved_replies":     {"常用回复（点一下放进回复框）", "Saved replies (one click puts one in the reply)"},
	"saved_none":        {"还没有常用回复。", "No saved replies yet."},
	"saved_manage":      {"管理常用回复", "Manage saved replies"},
	"replies":           {"常用回复", "Saved replies"},
	"replies_hint":      {"本校老师共用的回复模板。这里的文字对所有案件都一样，不要写入学生的姓名或案情。每位老师都可以新增；修改和删除只限作者本人或学校管理员，每次都记入审计记录。", "Reply templates shared by your school's staff. They are the same for every case: never put a student's name or a case's details in them. Anyone may add one; only its author or a school admin may change or delete it, and each change is in the audit trail."},
	"reply_not_mine":    {"别的老师写的：只有作者或学校管理员能修改。", "Written by someone else: only its author or a school admin may change it."},
	"reply_title":       {"标题", "Title"},
	"reply_body":        {"内容", "Text"},
	"reply_lang":        {"语言", "Language"},
	"lang_zh":           {"中文", "Chinese"},
	"lang_en":           {"英文", "English"},
	"add_reply":         {"添加", "Add"},
	"save_reply":        {"保存", "Save"},
	"delete_reply":      {"删除", "Delete"},
	"give_receipt":      {"给报告人一个回执码（读给来电人听，或打印交给本人），以后凭它在网上查看老师的回复", "Give the reporter a receipt (read it to the caller, or print it for them) to read the counselors' answers online later"},
	"receipt_title":     {"回执码", "Receipt"},
	"receipt_once":      {"这个回执码只显示这一次，系统不保存它。请现在读给来电人，请对方记下；或打印下面的回执单交给本人。", "This receipt is shown only now; the server does not keep it. Read it to the caller and ask them to write it down, or print the slip below and hand it over."},
	"receipt_read":      {"逐组读出：", "Read it group by group:"},
	"receipt_print":     {"打印回执单", "Print the slip"},
	"receipt_to_case":   {"打开这个案件", "Open the case"},
	"audit":             {"操作记录", "Audit trail"},
	"audit_hint":        {"本校人员的登录（含失败）、恢复密钥、修改密码、查看案件（含区教育局）和导出记录。不含任何举报内容，不记录 IP 地址，只记录浏览器和系统的大类。", "Your school's log-ins (failed ones too), key recoveries, password changes, case views (the district's included) and exports. No report content; no IP address, only a browser and system family."},
	"audit_kind":        {"类型", "Kind"},
	"audit_time":        {"时间", "Time"},
	"audit_who":         {"人员", "Who"},
	"audit_case":        {"案件", "Case"},
	"audit_client":      {"浏览器/系统", "Browser/system"},
	"audit_detail":      {"说明", "Detail"},
	"audit_nobody":      {"（无账户）", "(no account)"},
	"audit_none":        {"还没有记录。", "Nothing recorded yet."},
	"stats":             {"统计", "Statistics"},
	"stats_hint":        {"本校收到和处理报告的情况，与区教育局看到的本校数据由同一套程序计算。可据此撰写工作总结。", "Your school's reports and how they were handled, computed by the same code as the district's view of your school: the basis of the summary report (工作总结)."},
	"stats_small":       {"图表中小于 5 的数字显示为「<5」，与区教育局看到的一致，以免识别出个别学生。", "In the charts, counts below 5 show as \"<5\", as the district sees them, so that no student can be singled out."},
	"st_received":       {"收到", "Received"},
	"st_open":           {"未办结", "Open"},
	"st_overdue":        {"超时", "Overdue"},
	"st_missed":         {"曾超时", "Missed a deadline"},
	"st_unassessed":     {"未评估", "Unassessed"},
	"st_escalated":      {"已上报", "Escalated"},
	"st_ack":            {"受理用时中位数", "Median time to acknowledge"},
	"st_reply":          {"首次回复用时中位数", "Median time to first reply"},
	"st_resolve":        {"办结用时中位数", "Median time to resolve"},
	"st_watch":          {"超时或上报的案件", "Overdue or escalated cases"},
	"st_csv":            {"工作总结（CSV）", "Summary report (CSV)"},
	"st_download":       {"下载", "Download"},
	"delete_reply_q":    {"删除这条常用回复？", "Delete this saved reply?"},
}

func init() {
	for k, v := range dayTexts {
		if _, dup := texts[k]; dup {
			panic("inbox: text " + k + " defined twice")
		}
		texts[k] = v
	}
}
