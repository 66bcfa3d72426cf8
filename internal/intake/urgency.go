package intake

import (
	"strings"
	"unicode"
)

// Urgency detection reads a message once at intake and keeps only a flag.
// It errs towards flagging: a counselor can clear the flag, but a missed
// "I want to die" cannot be taken back. Negations right before a phrase
// ("我不想死", "he did not bring a knife") do not trigger.

// urgentZH are phrases of danger now in Chinese: self-harm, weapons,
// violence happening now, serious threats.
var urgentZH = []string{
	// self-harm, suicide
	"不想活", "活不下去", "想死", "去死吧我", "自杀", "轻生", "寻死", "割腕", "跳楼", "跳河", "上吊", "吃药自", "结束生命", "结束自己",
	"伤害自己", "自残", "自伤", "划自己", "割自己", "活着没意思", "活着没有意思", "死了算了", "不如死了", "想消失",
	// weapons
	"带刀", "拿刀", "刀子", "持刀", "动刀", "匕首", "刀捅", "捅我", "捅死", "枪", "棍棒", "砖头砸",
	// threats to kill or maim
	"杀了我", "杀了你", "要杀", "弄死", "打死", "砍死", "砍我", "杀人", "放火", "烧死",
	// violence happening now
	"正在打", "正在被打", "现在在打", "现在被打", "一直在打我", "被围住", "被堵在", "把我堵", "关在厕所", "锁在", "救命", "快来救",
	// sexual violence
	"强奸", "性侵", "猥亵",
}

// urgentEN are the same in English, matched on word boundaries.
var urgentEN = []string{
	"kill myself", "killing myself", "kill me", "suicide", "suicidal", "end my life", "want to die", "wanna die", "want to be dead",
	"don't want to live", "dont want to live", "do not want to live", "hurt myself", "hurting myself", "cut myself", "cutting myself",
	"self harm", "self-harm", "better off dead", "no reason to live",
	"knife", "knives", "gun", "guns", "weapon", "stab", "stabbed", "stabbing",
	"kill you", "going to kill", "gonna kill", "will kill", "beat me to death", "burn",
	"hitting me right now", "beating me right now", "attacking me", "being attacked", "help me now", "locked in", "trapped",
	"rape", "raped", "sexual assault",
}

// negationsZH are words that, right before a phrase, deny it.
var negationsZH = []string{"不", "没", "没有", "并没有", "不是", "别", "不会", "从来没", "从没"}

// negationsEN are words that, within three words before a phrase, deny it.
var negationsEN = map[string]bool{"not": true, "no": true, "never": true, "don't": true, "dont": true, "didn't": true, "didnt": true,
	"isn't": true, "wasn't": true, "won't": true, "doesn't": true, "without": true, "nobody": true}

// Urgent reports whether text reads as danger now.
func Urgent(text string) bool {
	t := normalize(text)
	return urgentChinese(t) || urgentEnglish(t)
}

// normalize folds full-width forms and case and drops spaces between CJK
// characters, so "想 死" and "ＫＮＩＦＥ" still match.
func normalize(s string) string {
	var b strings.Builder
	rs := []rune(s)
	for i, r := range rs {
		if r >= 0xFF01 && r <= 0xFF5E {
			r -= 0xFEE0
		} else if r == 0x3000 {
			r = ' '
		} else if r == '’' || r == '‘' {
			r = '\''
		}
		if unicode.IsSpace(r) && i > 0 && i+1 < len(rs) && isHan(rs[i-1]) && isHan(rs[i+1]) {
			continue
		}
		b.WriteRune(unicode.ToLower(r))
	}
	return b.String()
}

func isHan(r rune) bool { return unicode.Is(unicode.Han, r) }

func urgentChinese(t string) bool {
	for _, p := range urgentZH {
		for off := 0; ; {
			i := strings.Index(t[off:], p)
			if i < 0 {
				break
			}
			at := off + i
			if !negatedZH(t[:at]) {
				return true
			}
			off = at + len(p)
		}
	}
	return false
}

// negatedZH reports whether the text just before a match ends in a negation,
// allowing a subject or one short word between ("他没有带刀", "我不想死").
func negatedZH(before string) bool {
	rs := []rune(before)
	// Look at the last four characters: enough for "并没有" plus one word.
	start := len(rs) - 4
	if start < 0 {
		start = 0
	}
	window := string(rs[start:])
	if i := strings.LastIndexAny(window, "，。！？,.!?；;"); i >= 0 {
		window = window[i+1:]
	}
	for _, n := range negationsZH {
		if strings.Contains(window, n) {
			return true
		}
	}
	return false
}

func urgentEnglish(t string) bool {
	words := strings.FieldsFunc(t, func(r rune) bool {
		return !(unicode.IsLetter(r) || unicode.IsDigit(r) || r == '\'' || r == '-')
	})
	for _, p := range urgentEN {
		pw := strings.Fields(p)
		for i := 0; i+len(pw) <= len(words); i++ {
			if !matchWords(words[i:i+len(pw)], pw) {
				continue
			}
			if !negatedEN(words[max(0, i-3):i]) {
				return true
			}
		}
	}
	return false
}

func matchWords(ws, pw []string) bool {
	for j := range pw {
		if ws[j] != pw[j] {
			return false
		}
	}
	return true
}

func negatedEN(before []string) bool {
	for _, w := range before {
		if negationsEN[w] {
			return true
		}
	}
	return false
}
