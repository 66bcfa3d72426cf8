package urgency

import (
	"regexp"
	"regexp/syntax"
	"slices"
	"strings"
	"sync"
	"unicode/utf8"
)

// The rules as they were read before they were made fast (scan.go,
// near.go): every rule tried at every start of one of its first runes,
// the whole text searched by regular expressions for its rewrites and
// contexts, English read with every clause mark kept. The tests hold the
// fast reading to the same answers on every text.

func rulesOld(text string) (bool, string) {
	ok, reason := rulesMatchOld(text)
	if ok && framed(readSimple(text).folded) {
		return false, ""
	}
	return ok, reason
}

func rulesMatchOld(text string) (bool, string) {
	rd := readSimple(text)
	zh := prepareChineseOld(rd.spaced)
	game := gameZHOld.MatchString(zh) || gameENOld.MatchString(rd.folded)
	joke := jokeREOld.MatchString(rd.folded)
	try := func(rules []rule, t string, words bool, negated func(string, int, int) bool) (bool, string) {
		for i := range rules {
			r := &rules[i]
			for at, c := range t {
				if words && at > 0 && t[at-1] != ' ' {
					continue
				}
				if !slices.Contains(firstsOld(r), c) || voidedOld(r, t, at, game, joke, negated) {
					continue
				}
				if r.unless == nil || !unlessOld.MatchString(t) {
					return true, r.reason
				}
				break
			}
		}
		return false, ""
	}
	if ok, reason := try(zhRules, zh, false, negatedZH); ok {
		return ok, reason
	}
	return try(enRules, prepareEnglishOld(rd.folded), true, negatedENOld)
}

func voidedOld(r *rule, t string, start int, game, joke bool, negated func(t string, start, end int) bool) bool {
	m := wholeRule(r).FindStringIndex(t[start:min(len(t), start+r.max)])
	if m == nil {
		return true
	}
	end := start + m[1]
	return hasAnyPrefix(t[end:], r.notAfter) ||
		(r.reason != ReasonSelfHarm && containsAny(t[start:end], playWords) && game) ||
		(r.reason == ReasonThreat && joke) ||
		negated(t, start, end)
}

// firstsOld returns the runes a match of r can begin with, from its
// expression alone.
func firstsOld(r *rule) []rune {
	if fs, ok := firstsCache.Load(r); ok {
		return fs.([]rune)
	}
	re, err := syntax.Parse(r.pattern, syntax.Perl)
	if err != nil {
		panic(err)
	}
	fs, _ := firstRunes(re.Simplify())
	firstsCache.Store(r, fs)
	return fs
}

var firstsCache sync.Map

// wholeRule is the rule's expression as one, anchored, as the rules ran it
// before.
func wholeRule(r *rule) *regexp.Regexp {
	if re, ok := wholeCache.Load(r); ok {
		return re.(*regexp.Regexp)
	}
	re := regexp.MustCompile(`^(?:` + r.pattern + `)`)
	wholeCache.Store(r, re)
	return re
}

var wholeCache sync.Map

var unlessOld = regexp.MustCompile(`感冒|发烧|咳嗽|生病|病了|医生|胃疼|头疼|过敏|维生素|中药|按时`)

var (
	gameZHOld      = regexp.MustCompile(`游戏|狼人杀|三国杀|剧本杀|吃鸡|王者|和平精英|我的世界|原神|蛋仔|第五人格|迷你世界|开黑|排位|副本|队友`)
	gameENOld      = regexp.MustCompile(`\b(game|games|gaming|gamer|fortnite|minecraft|roblox|werewolf|mafia|among us|pubg|valorant|call of duty|chess|ender dragon|overwatch|apex)\b`)
	jokeREOld      = regexp.MustCompile(`开玩笑|开个玩笑|闹着玩|说着玩|逗你玩|\bjk\b|just kidding|\bjoking\b`)
	toyGunsOld     = regexp.MustCompile(`\b(nerf|water|toy|squirt|glue|paintball|bubble|laser|cap|pop|finger) (gun|guns|pistol)\b`)
	boredENOld     = regexp.MustCompile(`\b(boring|bored|embarrassing|embarrassed|awkward|cringe|cringy)( i| i am)? (want to|could|am going to|will|would) die `)
	hyperboleENOld = regexp.MustCompile(`\b(test|tests|exam|exams|homework|class|quiz|essay|project|teacher|mom|mum|mother|dad|father|parents|coach|math|school|heat|weather)( is| are)?( going to| will| would)? (kill|murder) me `)
)

var neutralZHOld = []struct {
	re   *regexp.Regexp
	with string
}{
	{regexp.MustCompile(`(笑|累|饿|气|热|冷|困|烦|吓|难|菜|虐|渴|忙|懒|丑|穷|闷|蠢|臭|酸|急|馋|美|帅|萌|爱|吵|挤|晒|撑|闲|愁|惨|坑|压|卷|无聊|尴尬|羡慕|丢人|麻烦|后悔|可爱)(得)?(要死|半死|死|到去世)`), "${1}极"},
	{regexp.MustCompile(`打死(我)?也(不|没|别)`), "绝不"},
	{regexp.MustCompile(`想死(你|您)`), "想$1"},
	{regexp.MustCompile(`(多|累|烦|难|饿|困|热|冷|气|笑|无聊|尴尬|丢人)(到|得)想死`), "${1}极"},
	{regexp.MustCompile(`(妈|爸|老师|家长|父母)[^,.!?;:。、…\n]{0,4}(会|要)(杀了我|打死我|弄死我)的`), "$1会骂我的"},
	{regexp.MustCompile(`(知道|发现|看到|看见)[^,.!?;:。、…\n]{0,4}(会|要|肯定|非)?打死我`), "会骂我"},
}

func prepareChineseOld(spaced string) string {
	s := replacePinyinOld(spaced)
	s = slangOld.Replace(s)
	if strings.ContainsAny(s, "死杀") { // every hyperbole and idiom has one
		for _, n := range neutralZHOld {
			s = n.re.ReplaceAllString(s, n.with)
		}
	}
	return s
}

func prepareEnglishOld(s string) string {
	var b strings.Builder
	word := func(w string) {
		w = strings.Trim(w, "'")
		if w == "" {
			return
		}
		switch w {
		case "can't":
			w = "can not"
		case "won't":
			w = "will not"
		}
		if p, ok := strings.CutSuffix(w, "'s"); ok && p != "" {
			if w = p; isWords[p] {
				w = p + " is"
			}
		}
		for _, x := range enSuffixes {
			if strings.HasSuffix(w, x.suf) && len(w) > len(x.suf) {
				w = w[:len(w)-len(x.suf)] + x.with
				break
			}
		}
		if e, ok := enWords[w]; ok {
			w = e
		}
		b.WriteString(w)
		b.WriteByte(' ')
	}
	start := -1
	for i, r := range s {
		inWord := r < utf8.RuneSelf && (isASCIILetter(r) || (r >= '0' && r <= '9') || r == '\'')
		if inWord {
			if start < 0 {
				start = i
			}
			continue
		}
		if start >= 0 {
			word(s[start:i])
			start = -1
		}
		if r != ' ' && r != '-' && r != '/' && r != '"' {
			b.WriteString(". ")
		}
	}
	if start >= 0 {
		word(s[start:])
	}
	b.WriteString(". ") // so that a pattern can ask for the end of a clause
	e := b.String()
	if strings.Contains(e, "gun") || strings.Contains(e, "pistol") {
		e = toyGunsOld.ReplaceAllString(e, "toy ")
	}
	if strings.Contains(e, " me ") {
		e = hyperboleENOld.ReplaceAllString(e, "$1 will scold me ")
	}
	if strings.Contains(e, " die ") {
		e = boredENOld.ReplaceAllString(e, "$1 ")
	}
	return e
}

func negatedENOld(t string, start, end int) bool {
	ws := strings.Fields(t[:start])
	for i := len(ws) - 1; i >= 0 && i >= len(ws)-3; i-- {
		if negatorsEN[ws[i]] {
			return true
		}
		if clauseEN[ws[i]] {
			break
		}
	}
	in := strings.Fields(t[start:end])
	for i := 1; i < len(in); i++ {
		if !negatorsEN[in[i]] {
			continue
		}
		for j := i + 1; j < len(in) && j <= i+3; j++ {
			if harmEN[in[j]] {
				return true
			}
		}
	}
	return false
}

// slangOld is the replacer slangZH was.
var slangOld = strings.NewReplacer(
	"紫砂", "自杀", "自沙", "自杀", "自鲨", "自杀", "紫杀", "自杀", "自刹", "自杀", "子杀", "自杀",
	"美工刀", "美工具", "剪刀", "剪具", "铅笔刀", "笔具", "卷笔刀", "笔具", "削笔刀", "笔具", "刀削面", "面条",
	"玩具枪", "玩具", "水枪", "玩具", "水弹枪", "玩具", "泡泡枪", "玩具", "枪手", "代考", "枪战游戏", "游戏",
	"踢出群", "移出群", "踢出了群", "移出了群",
)

var _ = utf8.RuneSelf

func replacePinyinOld(s string) string {
	if !strings.ContainsFunc(s, isASCIILetter) {
		return s
	}
	rs := []rune(s)
	var b strings.Builder
	for i := 0; i < len(rs); {
		if !isASCIILetter(rs[i]) {
			b.WriteRune(rs[i])
			i++
			continue
		}
		j := i
		for j < len(rs) && isASCIILetter(rs[j]) {
			j++
		}
		word := string(rs[i:j])
		if z, ok := pinyinAlone[word]; ok {
			word = z
		} else if z, ok := pinyinBeside[word]; ok && ((i > 0 && isHan(rs[i-1])) || (j < len(rs) && isHan(rs[j]))) {
			word = z
		}
		b.WriteString(word)
		i = j
	}
	return b.String()
}
