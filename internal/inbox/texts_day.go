package inbox

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
}

func init() {
	for k, v := range dayTexts {
		if _, dup := texts[k]; dup {
			panic("inbox: text " + k + " defined twice")
		}
		texts[k] = v
	}
}
