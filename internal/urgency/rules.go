package urgency

import (
	"fmt"
	"regexp"
	"regexp/syntax"
	"slices"
	"sort"
	"strings"
	"unicode"
	"unicode/utf8"
)

// The rules read a message once at intake and keep only a flag and a
// coarse reason. They are designed for recall on children's language:
// a counselor can clear a flag, but a missed "I want to die" cannot be
// taken back. So it works by categories of danger rather than by a list of
// phrases:
//
//   - the text is folded first (full-width forms, case, traditional
//     characters, emoji, pinyin and homophone slang such as zs or 紫砂), and
//     everyday hyperbole (笑死了, 累得要死, 打死我也不说) is neutralised;
//   - Chinese patterns allow short gaps inside a clause (想…跳下去, 要…打我),
//     and pair violent verbs with markers of now or of intent;
//   - a negation only denies what it governs: 不/没 must stand right before
//     the match, with nothing between but auxiliaries (没有想过自杀, 他没带刀),
//     and never across a condition (不给钱就打死我 is a threat);
//   - English is tokenised with contractions expanded (gonna, I'll, dont),
//     so future and intent forms and pronoun variants share one pattern;
//   - talk about games (狼人杀, fortnite) voids matches about killing, and
//     a message that says it is a joke voids threats, nothing else.

// Reasons returned by UrgentReason: coarse categories, never the text, so
// counselors' feedback on flags can be counted by category. ReasonModel is
// the statistical layer's: it says danger without saying which.
const (
	ReasonModel    = "model"
	ReasonSelfHarm = "self-harm"
	ReasonWeapon   = "weapon"
	ReasonSexual   = "sexual"
	ReasonViolence = "violence-now"
	ReasonThreat   = "threat"
)

// rulesReason reports whether the rules read text as danger now and, if
// so, the category of the first danger found (one of the Reason constants).
func rulesReason(text string) (bool, string) {
	return rulesRead(read(text))
}

// reading is a message as both layers read it: folded (fold), and with its
// spaces made single and character-by-character typing joined (spaced).
type reading struct{ folded, spaced string }

func read(text string) reading {
	f := fold(text)
	return reading{folded: f, spaced: joinSpacedHan(singleSpaced(f))}
}

// singleSpaced is strings.Join(strings.Fields(s), " "): words separated by
// one space. Most messages are that already and are returned as they are.
func singleSpaced(s string) string {
	clean := true
	prevSpace := true // at the start, a space would be leading
	for _, r := range s {
		sp := isSpace(r)
		if sp && (prevSpace || r != ' ') {
			clean = false
			break
		}
		prevSpace = sp
	}
	if clean && !prevSpace || s == "" {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	word := -1 // where the current word began
	for i, r := range s {
		if !isSpace(r) {
			if word < 0 {
				word = i
			}
			continue
		}
		if word >= 0 {
			if b.Len() > 0 {
				b.WriteByte(' ')
			}
			b.WriteString(s[word:i])
			word = -1
		}
	}
	if word >= 0 {
		if b.Len() > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(s[word:])
	}
	return b.String()
}

// isSpace is unicode.IsSpace, quick for the runes of most messages.
func isSpace(r rune) bool {
	switch {
	case r < utf8.RuneSelf:
		return r == ' ' || ('\t' <= r && r <= '\r')
	case r > 0x3000:
		return false
	}
	return unicode.IsSpace(r)
}

// rulesRead is rulesReason on a message already read.
func rulesRead(rd reading) (bool, string) { return rulesSlang(rd, slangZH.Replace(rd.spaced)) }

// rulesSlang is rulesRead given slang, the message's homophones and tool
// names replaced (slangZH.Replace(rd.spaced)), which the model reads too.
func rulesSlang(rd reading, slang string) (bool, string) {
	ok, reason := rulesMatch(rd, slang)
	if ok && framed(rd.folded) {
		return false, "" // a past that is over, or a story (context.go)
	}
	return ok, reason
}

// rulesMatch reports the first rule that matches, whatever frames the
// message.
func rulesMatch(rd reading, slang string) (bool, string) {
	folded := rd.folded
	zh := prepareChinese(rd.spaced, slang)
	ctx := &msgContext{zh: zh, folded: folded}
	sc := scanPool.Get().(*scan)
	defer scanPool.Put(sc)
	sc.scanText(zh, false)
	for i := range zhRules {
		if zhRules[i].firstMatch(zh, sc, ctx, negatedZH) {
			return true, zhRules[i].reason
		}
	}
	en := prepareEnglish(folded)
	sc.scanText(en, true)
	for i := range enRules {
		if enRules[i].firstMatch(en, sc, ctx, negatedEN) {
			return true, enRules[i].reason
		}
	}
	return false, ""
}

// rule is one category of danger written as a regular expression. A rule
// is tried only where a match could begin (one of its first runes) and
// what it needs stands near, alternative by alternative, anchored there:
// its gaps are short, so each try reads a few characters, and a long
// message costs little more than its length (scan.go).
type rule struct {
	reason  string
	pattern string      // as written
	alts    []alt       // its alternatives, and what each needs
	firsts  []firstAlts // the alternatives by the rune they begin with
	sets    []int       // the needed rune sets of all its alternatives
	words   []int       // and their needed words
	max     int         // the most bytes a match can take
	// notAfter voids a match that goes on into another word: 想死 in
	// 想死你了, 不想活 in 不想活在别人的眼光里.
	notAfter []string
	// unless voids the rule when the whole message matches it: 吃药 when
	// the message is about a cold.
	unless terms
}

// msgContext tells whether the message is about a game or says it is a
// joke; it is worked out only when a match needs it.
type msgContext struct {
	zh, folded        string
	known, game, joke bool
}

func (c *msgContext) isGame() bool { c.work(); return c.game }
func (c *msgContext) isJoke() bool { c.work(); return c.joke }

func (c *msgContext) work() {
	if !c.known {
		c.known = true
		c.game = gameZH.in(c.zh) || gameEN.in(c.folded)
		c.joke = jokeRE.in(c.folded)
	}
}

// playWords are what a match about a game is made of: killing others.
// Hitting, stalking and a child's own wish to die stay urgent when a game
// is mentioned.
var playWords = []string{"杀", "打死", "kill", "shoot", "shot"}

// firstMatch reports whether the rule matches t (scanned as sc) at one of
// its starts without being voided.
// Where it tries first does not matter: any match not voided is the
// rule's answer.
func (r *rule) firstMatch(t string, sc *scan, ctx *msgContext, negated func(t string, start, end int) bool) bool {
	for _, f := range r.firsts {
		starts := sc.starts[f.id]
		if len(starts) == 0 {
			continue
		}
		sc.rewind(r.sets, r.words)
		for k := 0; k < len(starts); {
			at := int(starts[k])
			end, ok, next := r.matchAt(t, f.alts, at, sc)
			if ok && !r.voided(t, at, end, ctx, negated) {
				return !r.unless.in(t)
			}
			k++
			if next > at+1 {
				// No alternative can match before next: skip the starts
				// before it.
				k += sort.Search(len(starts)-k, func(j int) bool { return int(starts[k+j]) >= next })
			}
		}
	}
	return false
}

// voided reports whether the match t[start:end] is one a context, a
// following word or a negation voids.
func (r *rule) voided(t string, start, end int, ctx *msgContext, negated func(t string, start, end int) bool) bool {
	return hasAnyPrefix(t[end:], r.notAfter) ||
		(r.reason != ReasonSelfHarm && containsAny(t[start:end], playWords) && ctx.isGame()) ||
		(r.reason == ReasonThreat && ctx.isJoke()) ||
		negated(t, start, end)
}

func hasAnyPrefix(s string, ps []string) bool {
	for _, p := range ps {
		if strings.HasPrefix(s, p) {
			return true
		}
	}
	return false
}

func containsAny(s string, subs []string) bool {
	for _, p := range subs {
		if strings.Contains(s, p) {
			return true
		}
	}
	return false
}

// fold maps full-width forms to ASCII, case to lower, curly quotes to
// straight ones and traditional characters to simplified, so one pattern
// covers every way of typing the same word.
func fold(s string) string {
	var b strings.Builder
	last := 0 // s[last:i] is unchanged, not written yet
	change := func(i, size int, with string) {
		if b.Cap() == 0 {
			b.Grow(len(s) + 16)
		}
		b.WriteString(s[last:i])
		b.WriteString(with)
		last = i + size
	}
	var buf [utf8.UTFMax]byte
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			switch {
			case c == '\t' || c == '\r':
				change(i, 1, " ")
			case c == '`':
				change(i, 1, "'")
			case 'A' <= c && c <= 'Z':
				buf[0] = c + 'a' - 'A'
				change(i, 1, string(buf[:1]))
			}
			i++
			continue
		}
		r, size := decodeAt(s, i)
		if r >= 0x4E00 && r <= 0x9FFF { // Han: only traditional forms change
			if tradSet.has(r) {
				change(i, size, string(simplified[r]))
			}
			i += size
			continue
		}
		to := r
		switch {
		case r == utf8.RuneError && size == 1:
			// Invalid bytes are read as U+FFFD, as ranging over them does.
		case r >= 0xFF01 && r <= 0xFF5E:
			to = r - 0xFEE0
		case r == 0x3000:
			to = ' '
		case r == '’' || r == '‘':
			to = '\''
		}
		if to >= 0x1F000 && emojiSet.has(to-0x10000) {
			change(i, size, emoji[to])
			i += size
			continue
		}
		if tradSet.has(to) {
			to = simplified[to]
		}
		to = unicode.ToLower(to)
		if to != r || (r == utf8.RuneError && size == 1) {
			n := utf8.EncodeRune(buf[:], to)
			change(i, size, string(buf[:n]))
		}
		i += size
	}
	if last == 0 {
		return s
	}
	b.WriteString(s[last:])
	return b.String()
}

// emoji that carry the danger by themselves, written as the words they
// stand for.
var emoji = map[rune]string{
	'🔪': " 持刀 ", '🗡': " 持刀 ", '💊': "药", '💣': " 炸弹 ", '🧨': " 炸弹 ", '🪢': "绳子",
}

// emojiSet holds the keys of emoji less 0x10000, so that most emoji are
// passed over without a map look-up.
var emojiSet = func() (s runeSet) {
	for r := range emoji {
		s.add(r - 0x10000)
	}
	return s
}()

// simplified maps the traditional characters of the words the rules use.
var simplified = func() map[rune]rune {
	pairs := []string{
		"殺杀", "樓楼", "槍枪", "姦奸", "藥药", "遺遗", "書书", "撐撑", "們们", "說说", "會会", "現现", "這这",
		"裡里", "給给", "錢钱", "沒没", "殘残", "圍围", "來来", "燒烧", "門门", "廁厕", "鎖锁", "關关", "開开",
		"見见", "熱热", "燙烫", "脫脱", "視视", "頻频", "親亲", "傷伤", "結结", "動动", "後后", "讓让", "還还",
		"輕轻", "尋寻", "過过", "帶带", "學学", "體体", "脅胁", "個个", "欄栏", "臺台", "窩窝", "繩绳", "頭头",
		"賣卖", "紮扎", "劃划", "棄弃", "絕绝", "準准", "備备", "電电", "話话", "聽听", "媽妈", "爺爷", "隨随",
		"嗎吗", "麼么", "為为", "難难", "氣气", "餓饿", "睏困", "煩烦", "嚇吓", "戲戏", "遊游", "鬥斗",
		"膽胆", "發发", "時时", "對对", "揮挥", "舉举", "擺摆", "條条", "滅灭", "淚泪", "樣样",
	}
	m := make(map[rune]rune, len(pairs))
	for _, p := range pairs {
		t, size := utf8.DecodeRuneInString(p)
		s, _ := utf8.DecodeRuneInString(p[size:])
		m[t] = s
		tradSet.add(t)
	}
	return m
}()

// tradSet holds the keys of simplified, so that most characters are
// passed over without a map look-up.
var tradSet runeSet

// runeSet is a set of runes of the basic plane.
type runeSet [0x10000 / 64]uint64

func (s *runeSet) add(r rune) { s[r/64] |= 1 << (r % 64) }

func (s *runeSet) has(r rune) bool { return r >= 0 && r < 0x10000 && s[r/64]&(1<<(r%64)) != 0 }

// prepareChinese readies folded text for the Chinese rules: spaces are
// kept (children use them as commas) but spaced-out typing is joined,
// pinyin and homophone slang become the characters they stand for, tools
// named after knives and toy guns get neutral names, and hyperbole and
// idioms are neutralised.
//
// slang is slangZH.Replace(spaced): without pinyin to replace, it is the
// text the rest reads.
func prepareChinese(spaced, slang string) string {
	s := replacePinyin(spaced)
	if s == spaced {
		s = slang
	} else {
		s = slangZH.Replace(s)
	}
	if strings.Contains(s, "死") || strings.Contains(s, "杀") { // every hyperbole and idiom has one
		var c litCache
		for _, n := range neutralZH {
			s = n.replace(s, &c)
		}
	}
	return s
}

// joinSpacedHan drops the spaces of character-by-character typing
// ("我 想 死") but keeps those between clauses ("我不开心 想死"). It reads
// the runes around each space in place: it runs on every message.
func joinSpacedHan(s string) string {
	// isolatedBefore: the rune ending at end is Han, with a space or the
	// start before it; isolatedAfter: the rune at start is Han, with a
	// space or the end after it.
	isolatedBefore := func(end int) bool {
		r, n := utf8.DecodeLastRuneInString(s[:end])
		return isHan(r) && (end-n == 0 || s[end-n-1] == ' ')
	}
	isolatedAfter := func(start int) bool {
		r, n := utf8.DecodeRuneInString(s[start:])
		return isHan(r) && (start+n == len(s) || s[start+n] == ' ')
	}
	var b strings.Builder
	last := 0
	for i := 0; i < len(s); i++ {
		if s[i] != ' ' || i == 0 || i+1 == len(s) || !isolatedBefore(i) || !isolatedAfter(i+1) {
			continue
		}
		if b.Len() == 0 {
			b.Grow(len(s))
		}
		b.WriteString(s[last:i])
		last = i + 1
	}
	if last == 0 {
		return s
	}
	b.WriteString(s[last:])
	return b.String()
}

// decodeAt is utf8.DecodeRuneInString(s[i:]), quick for the runes of
// most messages: ASCII, and the three bytes of a Chinese character.
func decodeAt(s string, i int) (rune, int) {
	c := s[i]
	if c < utf8.RuneSelf {
		return rune(c), 1
	}
	if c&0xF0 == 0xE0 && i+2 < len(s) {
		c1, c2 := s[i+1], s[i+2]
		if c1&0xC0 == 0x80 && c2&0xC0 == 0x80 {
			// Well formed unless overlong (below U+0800) or a surrogate.
			if r := rune(c&0x0F)<<12 | rune(c1&0x3F)<<6 | rune(c2&0x3F); r >= 0x800 && (r < 0xD800 || r > 0xDFFF) {
				return r, 3
			}
		}
	}
	return utf8.DecodeRuneInString(s[i:])
}

func isHan(r rune) bool {
	if r >= 0x1F000 && r < 0x20000 { // emoji and symbols: no Han (TestIsHanEmoji)
		return false
	}
	return (r >= 0x4E00 && r <= 0x9FFF) || (r >= 0x2E80 && unicode.Is(unicode.Han, r))
}

// pinyinAlone are pinyin abbreviations that mean one thing on their own;
// pinyinBeside only when written next to Chinese ("nong死", "sha了").
var (
	pinyinAlone = map[string]string{
		"zs": "自杀", "zisha": "自杀", "zsha": "自杀", "zish": "自杀", "kms": "自杀", "xiangsi": "想死",
		"tiaolou": "跳楼", "gewan": "割腕", "qingsheng": "轻生",
	}
	pinyinBeside = map[string]string{
		"sha": "杀", "nong": "弄", "da": "打", "si": "死", "ta": "他", "tm": "他们", "xiang": "想",
		"tong": "捅", "dao": "刀", "kan": "砍", "wo": "我", "tiao": "跳", "lou": "楼",
	}
)

// replacePinyin writes pinyin words as the characters they stand for.
// It reads s byte by byte (the letters are ASCII) and writes nothing when
// no word is replaced.
func replacePinyin(s string) string {
	var b strings.Builder
	last := 0
	for i := 0; i < len(s); {
		if s[i] < 'a' || s[i] > 'z' {
			i++
			continue
		}
		j := i
		for j < len(s) && s[j] >= 'a' && s[j] <= 'z' {
			j++
		}
		z, ok := pinyinAlone[s[i:j]]
		if !ok {
			if z, ok = pinyinBeside[s[i:j]]; ok {
				before, _ := utf8.DecodeLastRuneInString(s[:i])
				after, _ := utf8.DecodeRuneInString(s[j:])
				ok = isHan(before) || isHan(after)
			}
		}
		if ok {
			if b.Cap() == 0 {
				b.Grow(len(s) + 16)
			}
			b.WriteString(s[last:i])
			b.WriteString(z)
			last = j
		}
		i = j
	}
	if last == 0 {
		return s
	}
	b.WriteString(s[last:])
	return b.String()
}

func isASCIILetter(r rune) bool { return r >= 'a' && r <= 'z' }

// slangZH are homophones children type to get past filters, and names of
// tools and toys that contain 刀 or 枪 but are not weapons by themselves.
var slangZH = newPhrases(
	"紫砂", "自杀", "自沙", "自杀", "自鲨", "自杀", "紫杀", "自杀", "自刹", "自杀", "子杀", "自杀",
	"美工刀", "美工具", "剪刀", "剪具", "铅笔刀", "笔具", "卷笔刀", "笔具", "削笔刀", "笔具", "刀削面", "面条",
	"玩具枪", "玩具", "水枪", "玩具", "水弹枪", "玩具", "泡泡枪", "玩具", "枪手", "代考", "枪战游戏", "游戏",
	"踢出群", "移出群", "踢出了群", "移出了群",
)

// phrases replaces phrases as strings.Replacer does (left to right, no
// overlaps, at one place the first phrase listed wins), but reads a text
// with no phrase's first rune in it without writing anything, and looks
// only at the phrases that begin with the rune at hand.
type phrases struct {
	first runeSet
	by    map[rune][][2]string // old, new: by the first rune of old, in the order given
}

func newPhrases(oldnew ...string) *phrases {
	p := &phrases{by: map[rune][][2]string{}}
	for i := 0; i+1 < len(oldnew); i += 2 {
		r, _ := utf8.DecodeRuneInString(oldnew[i])
		p.first.add(r)
		p.by[r] = append(p.by[r], [2]string{oldnew[i], oldnew[i+1]})
	}
	return p
}

// Replace returns s with its phrases replaced.
func (p *phrases) Replace(s string) string {
	var b strings.Builder
	last := 0
	for i := 0; i < len(s); {
		r, size := decodeAt(s, i)
		if !p.first.has(r) {
			i += size
			continue
		}
		matched := false
		for _, on := range p.by[r] {
			if strings.HasPrefix(s[i:], on[0]) {
				if b.Cap() == 0 {
					b.Grow(len(s))
				}
				b.WriteString(s[last:i])
				b.WriteString(on[1])
				i += len(on[0])
				last, matched = i, true
				break
			}
		}
		if !matched {
			i += size
		}
	}
	if last == 0 {
		return s
	}
	b.WriteString(s[last:])
	return b.String()
}

// neutralZH are hyperbole and idioms: 死 after an adjective is "very"
// (笑死了, 累得要死), 打死我也不说 is "never", 想死你了 is "missed you".
var neutralZH = []*near{
	newNear(`(笑|累|饿|气|热|冷|困|烦|吓|难|菜|虐|渴|忙|懒|丑|穷|闷|蠢|臭|酸|急|馋|美|帅|萌|爱|吵|挤|晒|撑|闲|愁|惨|坑|压|卷|无聊|尴尬|羡慕|丢人|麻烦|后悔|可爱)(得)?(要死|半死|死|到去世)`, "${1}极", false, "死", "去世"),
	newNear(`打死(我)?也(不|没|别)`, "绝不", false, "死"),
	newNear(`想死(你|您)`, "想$1", false, "死"),
	newNear(`(多|累|烦|难|饿|困|热|冷|气|笑|无聊|尴尬|丢人)(到|得)想死`, "${1}极", false, "死"),
	newNear(`(妈|爸|老师|家长|父母)[^,.!?;:。、…\n]{0,4}(会|要)(杀了我|打死我|弄死我)的`, "$1会骂我的", false, "杀", "死"),
	newNear(`(知道|发现|看到|看见)[^,.!?;:。、…\n]{0,4}(会|要|肯定|非)?打死我`, "会骂我", false, "死"),
}

// Contexts that void some matches; see firstMatch.
var (
	gameZH = anyTerm("游戏", "狼人杀", "三国杀", "剧本杀", "吃鸡", "王者", "和平精英", "我的世界", "原神", "蛋仔", "第五人格", "迷你世界", "开黑", "排位", "副本", "队友")
	gameEN = anyTerm(`\bgame\b`, `\bgames\b`, `\bgaming\b`, `\bgamer\b`, `\bfortnite\b`, `\bminecraft\b`, `\broblox\b`, `\bwerewolf\b`, `\bmafia\b`, `\bamong us\b`,
		`\bpubg\b`, `\bvalorant\b`, `\bcall of duty\b`, `\bchess\b`, `\bender dragon\b`, `\boverwatch\b`, `\bapex\b`)
	jokeRE = anyTerm("开玩笑", "开个玩笑", "闹着玩", "说着玩", "逗你玩", `\bjk\b`, "just kidding", `\bjoking\b`)
)

// gapRE turns "~N" in a Chinese pattern into a gap of up to N characters
// that stays inside one clause (spaces may be crossed: children use them
// for commas, but the gaps are short).
var gapRE = regexp.MustCompile(`~(\d+)`)

func zh(reason, pattern string, opts ...func(*rule)) rule {
	p := gapRE.ReplaceAllString(pattern, `[^,.!?;:。、…\n]{0,$1}`)
	r := compileRule(reason, p)
	for _, o := range opts {
		o(&r)
	}
	return r
}

// compileRule anchors pattern and lists the runes a match can begin with.
func compileRule(reason, pattern string) rule {
	re, err := syntax.Parse(pattern, syntax.Perl)
	if err != nil {
		panic(fmt.Sprintf("urgency rule %q: %v", pattern, err))
	}
	simple := re.Simplify()
	first, ok := firstRunes(simple)
	if !ok || len(first) == 0 {
		// Every rule must begin with something definite, or it would be
		// tried at every character.
		panic(fmt.Sprintf("urgency rule %q: no definite first character", pattern))
	}
	max, ok := maxBytes(simple)
	if !ok {
		panic(fmt.Sprintf("urgency rule %q: unbounded", pattern))
	}
	as := alts(re)
	var sets, words []int
	for _, a := range as {
		for _, n := range a.needs {
			if n.set >= 0 && !slices.Contains(sets, n.set) {
				sets = append(sets, n.set)
			}
			if n.words >= 0 && !slices.Contains(words, n.words) {
				words = append(words, n.words)
			}
		}
	}
	return rule{reason: reason, firsts: byFirst(as), sets: sets, words: words, pattern: pattern, alts: as, max: max + utf8.UTFMax}
}

// maxBytes returns the most bytes a match of re can take; ok is false if
// that is unbounded.
func maxBytes(re *syntax.Regexp) (n int, ok bool) {
	switch re.Op {
	case syntax.OpLiteral:
		for _, r := range re.Rune {
			n += utf8.RuneLen(r)
		}
		return n, true
	case syntax.OpCharClass, syntax.OpAnyChar, syntax.OpAnyCharNotNL:
		return utf8.UTFMax, true
	case syntax.OpCapture, syntax.OpQuest:
		return maxBytes(re.Sub[0])
	case syntax.OpRepeat:
		if re.Max < 0 {
			return 0, false
		}
		m, ok := maxBytes(re.Sub[0])
		return m * re.Max, ok
	case syntax.OpStar, syntax.OpPlus:
		return 0, false
	case syntax.OpConcat, syntax.OpAlternate:
		for _, sub := range re.Sub {
			m, ok := maxBytes(sub)
			if !ok {
				return 0, false
			}
			if re.Op == syntax.OpConcat {
				n += m
			} else {
				n = max(n, m)
			}
		}
		return n, true
	}
	return 0, true // empty-width assertions
}

// firstRunes returns the runes a match of re can begin with; ok is false
// when that is not a short list (a gap or a class at the start).
func firstRunes(re *syntax.Regexp) (rs []rune, ok bool) {
	set := map[rune]bool{}
	if _, ok := addFirst(re, set); !ok {
		return nil, false
	}
	for r := range set {
		rs = append(rs, r)
	}
	slices.Sort(rs) // deterministic order of tries
	return rs, true
}

// addFirst adds the first runes of re to set and reports whether re can
// match the empty string (so what follows it can begin a match too).
func addFirst(re *syntax.Regexp, set map[rune]bool) (nullable, ok bool) {
	switch re.Op {
	case syntax.OpLiteral:
		set[re.Rune[0]] = true
		return false, true
	case syntax.OpCharClass:
		n := 0
		for i := 0; i < len(re.Rune); i += 2 {
			n += int(re.Rune[i+1]-re.Rune[i]) + 1
			if n > 64 {
				return false, false
			}
			for r := re.Rune[i]; r <= re.Rune[i+1]; r++ {
				set[r] = true
			}
		}
		return false, true
	case syntax.OpEmptyMatch, syntax.OpBeginText, syntax.OpEndText, syntax.OpBeginLine, syntax.OpEndLine,
		syntax.OpWordBoundary, syntax.OpNoWordBoundary:
		return true, true
	case syntax.OpCapture, syntax.OpPlus:
		return addFirst(re.Sub[0], set)
	case syntax.OpQuest, syntax.OpStar:
		_, ok := addFirst(re.Sub[0], set)
		return true, ok
	case syntax.OpRepeat:
		n, ok := addFirst(re.Sub[0], set)
		return n || re.Min == 0, ok
	case syntax.OpConcat:
		for _, sub := range re.Sub {
			n, ok := addFirst(sub, set)
			if !ok {
				return false, false
			}
			if !n {
				return false, true
			}
		}
		return true, true
	case syntax.OpAlternate:
		nullable := false
		for _, sub := range re.Sub {
			n, ok := addFirst(sub, set)
			if !ok {
				return false, false
			}
			nullable = nullable || n
		}
		return nullable, true
	}
	return false, false
}

func notAfter(s ...string) func(*rule) { return func(r *rule) { r.notAfter = s } }

func unless(words ...string) func(*rule) {
	return func(r *rule) { r.unless = anyTerm(words...) }
}

// Building blocks of the Chinese rules.
const (
	// nowZH marks danger that is happening or about to: 现在, 放学后, 救命.
	nowZH = `(现在|正在|马上|就在|还在|一直在|此刻|今天|今晚|晚上|放学|等会|等下|待会|一会|刚才|刚刚|救命|救救|快来)`
	// hitZH are verbs of bodily violence; with 我/人 or under 把/被 they
	// become an act against a person.
	hitZH  = `(打|揍|踢|踹|扇|抽|掐|按|堵|围|勒|捂|绑|捆|砸|撞)`
	actZH  = `(` + hitZH + `(着|住|了)?(我|人|他|她)|把(我|人|他|她)~4` + hitZH + `|被(人|他|他们|她|她们)?~2` + hitZH + `)`
	knife  = `(刀子|刀片|小刀|菜刀|水果刀|砍刀|匕首|折叠刀|蝴蝶刀|西瓜刀|尖刀|持刀|刀)`
	blunt  = `(甩棍|铁棍|木棍|棍子|棍棒|钢管|铁管|棒球棍|球棒|砖头|板砖|石头|铁链|锤子|榔头|皮带|衣架|鞭子|家伙)`
	craft  = `(美工具|剪具|笔具|圆规|图钉|针)`
	holdZH = `(拿|带|掏|持|抄|举|亮|挥|握|藏|揣|用)(着|了|出|起|来)?`
	// intentZH announces what someone will do: 要, 说, 明天, 就 (of a condition).
	intentZH = `(要|会|敢|准备|打算|扬言|威胁|说|等着|明天|后天|下次|放学|今晚|晚上|就|再|来|去)`
	harmZH   = `(打|揍|弄|收拾|堵|围|捅|砍|杀|砸|搞|整|教训|削|废|干|灭)`
)

var zhRules = []rule{
	// Self-harm and suicide: the act, the means, the plan, the farewell.
	zh(ReasonSelfHarm, `自杀|轻生|寻死|自尽|自残|自伤|割腕|跳楼|跳河|跳江|跳海|跳湖|跳桥|卧轨|上吊|服毒|安眠药|农药|老鼠药|百草枯|敌敌畏|遗书|遗言|忌日|一了百了|(撑|活|熬|挺)不(下去|过今天|过明天|到明天)|(撑|熬|扛)不住`),
	zh(ReasonSelfHarm, `结束(自己|生命|这一切|一切|我的生命)|了结自己|(伤害|弄死|杀了|弄|划|割|扎|捅|打|掐|烫|烧)自己|跳下去|血止不住|永别|下辈子见|(睡|睡过去)~4不(要)?醒|再也不(想)?醒|不想(再)?醒`),
	zh(ReasonSelfHarm, `不想~4(活|存在)`, notAfter("在", "动", "泼")),
	zh(ReasonSelfHarm, `(刀|刀片|药|绳子)~4(准备好|买好|藏好|买了)|(买|藏|准备)(了|好)?~3(刀片|安眠药|绳子|刀)|(要|准备|打算)去死|这个世界~4(再见|告别|拜拜)|告别~3世界`),
	zh(ReasonSelfHarm, `想~6(跳下|跳楼|跳河|跳江|跳海|跳桥|消失|解脱|离开这个世界)`),
	zh(ReasonSelfHarm, `(划|割|扎|刺)(了|伤)?~2(手腕|腕|手臂|胳膊|大腿|手|腿)|割~2(几刀|一刀|好几刀|很多刀)`),
	zh(ReasonSelfHarm, `(吞|一整盒|一整瓶|整瓶|整盒|一瓶|一盒|一把|好多|很多|一堆|全部|所有)~2药|药~6(全吃|全吞|吃光|都吃|全部吃|吞了)|药~6吃(了)?(一把|好多|很多|一瓶|一盒|全部|一整)|攒~4药`),
	zh(ReasonSelfHarm, `吃药`, unless("感冒", "发烧", "咳嗽", "生病", "病了", "医生", "胃疼", "头疼", "过敏", "维生素", "中药", "按时")),
	zh(ReasonSelfHarm, `(现在|已经|一个人|正|我)~3(在|站在|坐在|爬上|爬到|到了)(天台|楼顶|窗台|窗户外|桥上|楼边|栏杆外|江边|河边)|(站在|爬上|爬到|坐在)(天台|楼顶|窗台|窗户|桥|楼边|栏杆)`),
	zh(ReasonSelfHarm, `从~6(楼|窗|桥|天台|阳台|楼顶)~4跳|(准备|要|想|敢)跳了|刀口|刀痕|没有我~6(更好|会好|开心)|(大家|他们|世界|所有人|爸妈)~6没有我~4(更好|会好|开心)|我~4(该|应该)(去)?死`),
	zh(ReasonSelfHarm, `最后一次~4(说话|聊天|发消息|联系|跟你们|和你们)|再见了~2(世界|大家|所有人)|绳子~6(准备|买好|挂|系好)|(准备|买|找)(好)?(了)?(一根)?绳子`),
	zh(ReasonSelfHarm, `活着~4(没意思|没有意思|没意义|没有意义|没劲|好累|太累|真累|拖累|多余|痛苦|有什么意思|有什么用|干什么|干嘛)`),

	// Weapons: a knife held, carried or used; a craft tool used on someone;
	// a blunt object, boiling water, fire, a gun or a bomb.
	zh(ReasonWeapon, holdZH+`~4`+knife+`|(一|有|两|几)(把)?~2`+knife+`|`+knife+`~6(划|捅|砍|扎|刺|割|抵|架|威胁|吓唬|追|伤|刻)|动刀|刀捅|捅刀|挨刀`),
	zh(ReasonWeapon, craft+`~6(划|扎|刺|捅|戳|割|抵|对着|指着|剪烂|剪伤|剪破|剪我|剪自己|威胁|伤)`),
	zh(ReasonWeapon, holdZH+`~3`+blunt+`|`+blunt+`~4(打|砸|抽|拍|敲|等|堵)`),
	zh(ReasonWeapon, `(开水|热水|沸水|滚水|硫酸|汽油|烟头|打火机)~6(泼|烫|浇|烧|点|倒)|(泼|烫|浇|倒)~6(开水|热水|沸水|滚水|硫酸|汽油)|(泼|烫|烧)(了)?(我|你|自己|人|他|她)`),
	zh(ReasonWeapon, `枪|炸弹|炸药|把~6炸(了|掉|平|毁)|炸(死|学校|教室)`),

	// Sexual violence and coercion, including images used as a threat.
	zh(ReasonSexual, `强奸|强暴|性侵|猥亵|轮奸|裸照|裸体|私密照|私照|色情|偷拍|下体|私处|隐私部位|开房|陪睡|发生关系|强吻|强行亲`),
	zh(ReasonSexual, `摸(我|~3(胸|下面|屁股|大腿|隐私|身体))|脱~4(衣服|裤子|内裤)|扒~4(衣服|裤子|内裤|光)|(衣服|裤子|内裤)~3(扒|脱)|(身体|私处|下面|胸|裸)~3(照片|照|视频)|看~3(身体|下面)|(拍|录)~4(裸|光着|没穿)|伸进~4(衣服|裤子|裙子|内衣)|性骚扰|坐~2腿上|偷看~4洗澡|洗澡~4偷看|黄色(视频|图片|网站|电影)`),
	zh(ReasonThreat, `(就|不然|否则|要不)~6(照片|视频|聊天记录|截图)~4(发|传|曝光|公开)|威胁~8(照片|视频|聊天记录)`),

	// Violence happening now: a violent act with a marker of now, in
	// progress (在厕所打我), or its marks (打晕, 喘不过气); being locked in,
	// tied up, followed.
	zh(ReasonViolence, nowZH+`~8`+actZH+`|`+actZH+`~8`+nowZH+`|(正在|在)~6`+hitZH+`(着|住)?(我|人|他|她)`),
	zh(ReasonViolence, `救救我|快来人|掐~3(脖子|喉咙)|勒~3脖子|喘不(过|上)气|打晕|晕过去|昏过去|(打|砸|踢|踹|扎|划|割|捅|砍|揍)~6(流血|出血|流了~2血|流鼻血|见血|骨折|晕)`),
	zh(ReasonViolence, `围殴|群殴|(按|压)(在|倒)~6(打|揍|踢)|围(起来|住)~4(打|揍|踢)|骨头~4断|(腿|手|胳膊)~4断了|绑架|拐卖|拐走|(拉|拖|拽|抱|塞)(上|进)~2车|(我|现在)~4(有|很|在)危险|头破|破了头|头~2(流血|出血)|缝了~3针|骨折|脑震荡|(头|脑袋)~6(撞墙|往墙上撞|撞地)|往墙上撞|(踩|踢|砸)(我的)?(头|脑袋)|打得~6(站不起来|动不了|爬不起来|走不了|晕)`),
	zh(ReasonViolence, `(正在|现在|还在|一直在|快来|救命|救救)~8(欺负|打|揍|殴|追|跟)(着)?我|(欺负|追|打|揍)(着)?我~6(快来|救命|救救)`),
	zh(ReasonViolence, `疼得~4(站不起来|动不了)|(腿|脚|身体)~3动不了|推(到|下|倒)~6(楼梯|地上|水里|河里)|按(进|到|在)~2(水|马桶)`),
	zh(ReasonViolence, `被(锁|关)|(锁|关)在~6(里|室|厕所|教室|宿舍|房间)|出不去|不让我(走|出来|出去|离开)|绑(起来|住|着)|胶带|拖(到|进|去)~4(没人|厕所|角落|树林|后山)`),
	zh(ReasonViolence, `(逼|扒|脱|强迫|按着|跪)~10(拍|录)(了)?~2(视频|照|像)|逼(我|他|她)~4(喝|吃|舔)`),
	zh(ReasonViolence, `跟踪|一直跟着我|(知道|找到)我~2(家|住)~3(哪|地址)|(来|到|去)我家~3(找我|堵我|等我)|(盯|跟|等)(着)?我~8(不敢|害怕|好怕|怕|救)|跟着我~6(害怕|好怕)`),

	// Threats: an announced act of serious harm.
	zh(ReasonThreat, intentZH+`~6`+harmZH+`(了|掉)?(我|你|他|她|死|残|人|一顿|全家|我们)`, notAfter("一样", "似的", "小报告", "的小报告", "电话", "的电话")),
	zh(ReasonThreat, `(弄|打|捅|砍|掐|干|整|搞|揍|杀|砸|淹|烧|毒|勒)死|杀(了)?(我|你|他|她|全家|人)|(弄|打)(残|废)|废了(你|我|他)|放血|死定了|死得很难看|往死里|打(到|进)~2(住院|医院|icu)`),
	zh(ReasonThreat, `放学别走|给我等着|等着瞧|有你好看|让(我|你)好看|报复(我|你|他|她)|扬言|放火|纵火|烧(了)?(我家|你家|房子|学校)`),
	zh(ReasonThreat, `捅|砍(我|你|人|死)|不会放过(你|我)|让(我|你)消失|推下(去|楼)|从楼上推|扔(到|进)~4(河|湖|水里|海)|找人~4(打|揍|收拾|弄)|社会上的人|威胁(我|要|说)|打断~2(腿|手|胳膊|骨头)|(腿|手|胳膊|骨头)~2打断`,
		notAfter("破", "娄", "篓", "马蜂窝")),

	// Broad suicidal talk last, after everything more specific: 想…死,
	// 死了就…, 不如死了, 如果我死了.
	zh(ReasonSelfHarm, `想~6死`, notAfter("你", "您", "他", "她")),
	zh(ReasonSelfHarm, `死了~3(算了|就|解脱|干净|也没)|死了(比较|更|会更|才|就)?好|(还)?不如死|(如果|要是|假如|等)我死了|我死了~6(后悔|难过|开心|伤心|高兴|会不会)`),
}

// negatorsZH deny what follows them; longest first so 没有 wins over 没.
var negatorsZH = []string{"从来没有", "从来没", "从没", "并没有", "没有", "不是", "不会", "从未", "并非", "不曾", "没", "不", "未"}

// fillerZH are what may stand between a negation and what it denies:
// auxiliaries and adverbs (没有想过自杀, 不是要打我, 不会再) and verbs of
// holding (没有拿刀), nothing else.
var fillerZH = []string{"打算", "准备", "曾经", "真的", "拿着", "带着", "拿", "带", "掏", "用", "持", "藏", "揣", "想", "过", "会", "要", "再", "曾", "是", "有", "敢", "说", "太", "去", "能"}

// conditionZH turns "不…" into a condition: 不给钱就打死我.
var conditionZH = []string{"就", "否则", "不然", "的话", "才"}

// negatedZH reports whether a match at t[start:end] is denied by a
// negation that governs it: one right before it (他没带刀), or one inside
// it right before the harm (他说不会打我).
func negatedZH(t string, start, end int) bool {
	clause := 0 // where the match's clause begins: punctuation and spaces end one
	if i := strings.LastIndexAny(t[:start], ",.!?;: 。、…\n"); i >= 0 {
		_, size := utf8.DecodeRuneInString(t[i:])
		clause = i + size
	}
	before := t[clause:start]
	for gap := 0; gap <= 4; gap++ {
		for _, n := range negatorsZH {
			if strings.HasSuffix(before, n) {
				at := clause + len(before) - len(n)
				return !question(t, at, n) && !conditional(t[at:end])
			}
		}
		trimmed := trimFiller(before, strings.TrimSuffix)
		if trimmed == before {
			break
		}
		before = trimmed
	}
	// Inside the match: a negation that reaches the harm itself.
	span := t[start:end]
	for i, r := range span {
		if i == 0 || (r != '不' && r != '没') {
			continue
		}
		rest := span[i+len(string(r)):]
		for k := 0; k < 4; k++ {
			rest = trimFiller(rest, strings.TrimPrefix)
		}
		h, _ := utf8.DecodeRuneInString(rest)
		if strings.ContainsRune(harmRunesZH, h) && !conditional(span[i:]) && !question(t, start+i, string(r)) {
			return true
		}
	}
	return false
}

// trimFiller removes one filler word from one end of s, as trim does.
func trimFiller(s string, trim func(s, w string) string) string {
	for _, w := range fillerZH {
		if t := trim(s, w); t != s {
			return t
		}
	}
	return s
}

// harmRunesZH begin the verbs of harm a negation inside a match can deny.
const harmRunesZH = "打揍弄收堵围捅砍杀砸搞整教削废干灭踢踹扇抽掐按勒捂绑捆撞带拿用伤害划割扎刺推泼烫烧摸脱扒拍"

// question reports whether the negation at t[at:] is the middle of an
// A-not-A question (是不是, 有没有, 会不会), which denies nothing.
func question(t string, at int, n string) bool {
	prev, _ := utf8.DecodeLastRuneInString(t[:at])
	next, _ := utf8.DecodeRuneInString(t[at+len(string([]rune(n)[0])):])
	return prev == next && prev != utf8.RuneError
}

func conditional(span string) bool { return containsAny(span, conditionZH) }

// English: the text is tokenised into words with contractions expanded
// and punctuation as "." so that patterns see one spelling of each form.

var enWords = map[string]string{
	"im": "i am", "ive": "i have", "id": "i would", "dont": "do not", "didnt": "did not", "doesnt": "does not",
	"cant": "can not", "cannot": "can not", "wont": "will not", "wouldnt": "would not", "isnt": "is not",
	"arent": "are not", "wasnt": "was not", "werent": "were not", "havent": "have not", "hasnt": "has not",
	"shouldnt": "should not", "couldnt": "could not", "hes": "he is", "shes": "she is", "theyre": "they are",
	"youre": "you are", "theyll": "they will", "hell": "he will", "youll": "you will", "gonna": "going to",
	"wanna": "want to", "gotta": "got to", "tryna": "trying to", "u": "you", "ur": "your", "r": "are",
	"tmr": "tomorrow", "tmrw": "tomorrow", "2morrow": "tomorrow", "tonite": "tonight", "2nite": "tonight",
	"kms": "kill myself", "kys": "kill yourself", "urself": "yourself", "ya": "you", "unalive": "kill", "sewerslide": "suicide", "suicde": "suicide",
	"nudez": "nudes", "rn": "right now", "plz": "please", "pls": "please",
}

var enSuffixes = []struct{ suf, with string }{
	{"n't", " not"}, {"'ll", " will"}, {"'re", " are"}, {"'ve", " have"}, {"'m", " am"}, {"'d", " would"},
}

// isWords are the words whose 's is "is"; for any other word it is a
// possessive and is dropped ("my mom's pills" is "my mom pills").
var isWords = map[string]bool{
	"he": true, "she": true, "it": true, "that": true, "there": true, "what": true, "who": true, "where": true,
	"here": true, "how": true, "everyone": true, "someone": true, "somebody": true, "nobody": true, "life": true,
}

// prepareEnglish returns the words of folded text separated by single
// spaces, with " . " where a clause ends (punctuation, Chinese, emoji).
func prepareEnglish(s string) string {
	var b strings.Builder
	b.Grow(len(s)/2 + 16)
	clauseEnd := func() {
		// One mark for a run of them: a long Chinese message is not
		// thousands of empty English clauses.
		if n := b.Len(); n < 2 || b.String()[n-2:] != ". " {
			b.WriteString(". ")
		}
	}
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
			clauseEnd()
		}
	}
	if start >= 0 {
		word(s[start:])
	}
	clauseEnd() // so that a pattern can ask for the end of a clause
	e := b.String()
	e = toyGuns.ReplaceAllString(e)
	e = hyperboleEN.ReplaceAllString(e)
	e = boredEN.ReplaceAllString(e)
	return e
}

// toyGuns are not weapons; hyperboleEN are the everyday "kill me" of
// school and parents: "this test is going to kill me", "my mom will kill
// me if I fail".
var (
	toyGuns     = newNear(`\b(nerf|water|toy|squirt|glue|paintball|bubble|laser|cap|pop|finger) (gun|guns|pistol)\b`, "toy ", true, "gun", "pistol")
	boredEN     = newNear(`\b(boring|bored|embarrassing|embarrassed|awkward|cringe|cringy)( i| i am)? (want to|could|am going to|will|would) die `, "$1 ", true, " die ")
	hyperboleEN = newNear(`\b(test|tests|exam|exams|homework|class|quiz|essay|project|teacher|mom|mum|mother|dad|father|parents|coach|math|school|heat|weather)( is| are)?( going to| will| would)? (kill|murder) me `, "$1 will scold me ", true, "kill me ", "murder me ")
)

func en(reason, pattern string, opts ...func(*rule)) rule {
	p := strings.ReplaceAll(pattern, "~", `(?:[a-z0-9]{1,24} ){0,6}?`)
	r := compileRule(reason, p)
	for _, o := range opts {
		o(&r)
	}
	return r
}

// Building blocks of the English rules.
const (
	intentEN = `\b(going to|will|would|about to|want to|wants to|wanted to|plan to|planning to|plans to|threatened to|threatens to|threatening to|trying to|try to|gonna|is going to|are going to)\b `
	whomEN   = `(me|you|him|her|them|us|myself|yourself|himself|herself|everyone|everybody|someone|somebody|people|my|his|her|their|the)\b`
	nowEN    = `\b(right now|now|currently|at the moment|help|hurry)\b`
	hurtEN   = `\b(being (bullied|attacked|beaten|hit|hurt|chased|followed|jumped)|hitting|beating|kicking|punching|slapping|choking|strangling|attacking|hurting|chasing|following|blocking|surrounding|cornering|waiting for|waiting outside|outside)\b`
)

var enRules = []rule{
	en(ReasonSelfHarm, `\b(kill|killing|hurt|hurting|cut|cutting|harm|harming|burn|burning|starve|starving|hang|hanging|shoot|stab) (myself|my self)\b|\bsuicid(e|al)\b|\bself harm\b|\bend (it all|my life|it tonight|everything|it now|things)\b`),
	en(ReasonSelfHarm, `\bwants? to die\b|\bwant to be dead\b|\bwish i (was|were) (dead|never born)\b|\bbetter off dead\b|\bmight as well die\b|\b(not|never|no longer) want to (live|be alive|be here|exist|wake up)\b`),
	en(ReasonSelfHarm, `\bno (reason|point) (to|in|of) (live|living|life|being alive)\b|\b(not|never|no longer) see (the|any) point\b|\bwhat is the point (in|of) (living|life|being alive)\b|\bwants? (it|this|everything|my life|it all) to (end|be over|stop forever)\b|\b(goodbye|suicide) (letter|note)\b`),
	en(ReasonSelfHarm, `\b(disappear|vanish) forever\b|\bwant to disappear\b|\bif i (die|died|was dead|were dead|was gone|were gone|killed myself|disappeared)\b|\b(jump|jumping|jumped) (off|from|out of|in front of)\b|\bgoing to jump (\. |tonight|now|today|off)`),
	en(ReasonSelfHarm, `\b(bottle|bottles|handful|bunch|lot|all|box|whole|pack|packet) of ~(pills|tablets|meds|painkillers|sleeping pills)\b|\boverdos(e|ed|ing)\b|\bcut(ting)? (my wrists?|my arms?|my legs?|my thighs?|again|tonight|deeper)\b|\bgoing to cut\b`),
	en(ReasonSelfHarm, `\b(standing|sitting) on (the|a) (roof|ledge|bridge|edge|railing)\b|\bcan not (go on|keep going|keep living|live like this|live anymore|take it anymore|do this anymore|take this anymore)\b`),
	en(ReasonSelfHarm, `\b(i|me) (should|might as well|could just|would rather|deserve to) (just )?(die|be dead|disappear|not exist|not be here)\b|\b(slit|cut|slice) my (throat|wrist|wrists)\b`),
	en(ReasonSelfHarm, `\b(done|finished) with (life|living|everything)\b|\bbetter off without me\b|\b(nobody|no one) (would|will|is going to) (miss|notice|care)\b|\bnot worth (living|it anymore)\b|\btired of (being alive|living|life)\b|\b(think|thinking|thought) about (dying|death|suicide|killing myself|ending it|ending my life)\b|\b(sleep|sleeping) and never wake up\b|\bnever wake up again\b`),
	en(ReasonSelfHarm, `\b(too many|a lot of|all my|all the|all of my|a bunch of) (pills|meds|tablets|sleeping pills)\b|\bswallow(ed)? ~(pills|tablets|meds)\b|\b(want to|going to|will|about to) end it (\. |now|tonight|today|all)`),

	en(ReasonWeapon, `\b(knife|knives|blade|blades|razor|gun|guns|pistol|rifle|weapon|weapons|machete|box cutter|boxcutter|switchblade|bomb|bombs)\b|\bwith (sticks|a stick|bats|a bat|pipes|a pipe|bricks|a brick|rocks|a rock|a belt|his belt|chains|a chain|a hammer)\b`),
	en(ReasonWeapon, `\b(boiling|hot) water\b ~\b(on|at|over) me\b|\bboiling water\b|\bset (me|him|her|us) on fire\b|\bacid (on|at) (me|him|her|us)\b|\bthrow acid\b`),

	en(ReasonSexual, `\b(nudes|nude|naked|rape|raped|raping|rapist|molest|molested|molesting|groping|groped|grope)\b|\bsexual(ly)? (assault|assaulted|abuse|abused)\b|\btouch(ing|ed|es)? me\b|\bhands? (down|in|inside|under|up) (my|her) (pants|shirt|clothes|skirt|dress|underwear)\b|\bprivate parts\b|\bprivates\b|\b(pics|pictures|photos|videos) of (my body|me naked|my chest|my privates|me without)\b`),
	en(ReasonSexual, `\b(send|sending|post|posting|share|sharing|leak|leaking) (my |me |our )?(pics|pictures|photos|videos|nudes|private)\b|\b(took|take|taking|pulled|pull|ripped|rip|tore) (off )?my (clothes|pants|shirt|underwear)\b|\bforc(ing|ed|e|es) me to (send|take off|undress|touch|film|strip|kiss|show)\b`),

	en(ReasonViolence, hurtEN+` ~`+nowEN+`|`+nowEN+` ~`+hurtEN+`|\bin danger\b`),
	en(ReasonViolence, `\b(choking|strangling|stabbing|suffocating|drowning|attacking) (me|him|her|us|my)\b|\bpinned (me|him|her) (down|against|to)\b|\blocked (me |us |him |her )?(in|inside|up)\b|\btrapped (in|inside)\b|\bnot let me (go|leave|out)\b`),
	en(ReasonViolence, `\b(hit|hits|beat|beats|whip|whips) (me|us) (every|each) (night|day|time)\b|\b(choked|strangled|suffocated) (me|him|her|us)\b|\b(is|are|keeps) (following|stalking) me\b|\bstalking me\b|\b(find|finds|knows|know|found) where i live\b|\bfollow(s|ed|ing)? me home\b`),
	en(ReasonViolence, `\b(is|are|keeps|keep|will not stop|won't stop) (hitting|beating|kicking|punching|slapping|hurting|choking|strangling) (me|us|him|her)\b`),

	en(ReasonThreat, intentEN+`~\b(kill|stab|shoot|murder|hurt|strangle|choke|rape|drown) `+whomEN),
	en(ReasonThreat, intentEN+`~\b(jump|get|cut|burn) (me|you|him|her|them|us)\b`),
	en(ReasonThreat, intentEN+`~\bbeat (me|us)\b`, notAfter(" at")),
	en(ReasonThreat, `\b(slit|cut|slice) (your|his|her|their) (throat|throats)\b|\bthreaten(ed|ing|s)? (me|us|him|her|my)\b|\bthreaten(ed|ing|s)? to (kill|hurt|stab|shoot|beat|jump|rape|post|share|leak|cut|burn)\b|\bkill yourself\b|\bgo die\b`),
	en(ReasonThreat, `\bblackmail(ing|ed|s)?\b|\bshoot(ing)? up\b|\bbeat(ing)? ~(up|to death)\b|\bbeat the (shit|crap|hell|life) out\b|\bjump(ed)? me\b|\b(kill|stab|shoot|murder) (you|him|her|them|everyone|everybody) (all|tomorrow|tonight|today|after|at)\b`),
}

// negatorsEN deny the words that follow them in the same clause.
var negatorsEN = map[string]bool{"not": true, "no": true, "never": true, "without": true}

// clauseEN are words at which a negation stops governing: a new subject or
// a conjunction ("if you do not pay he will beat you up").
var clauseEN = map[string]bool{
	".": true, "i": true, "you": true, "he": true, "she": true, "they": true, "we": true, "if": true, "unless": true,
	"and": true, "but": true, "or": true, "so": true, "because": true, "then": true, "when": true,
}

// negatedEN reports whether a negation governs the match: one of the
// three words before it (I would never kill myself), or one inside it
// right before the harm (he will not hurt me).
func negatedEN(t string, start, end int) bool {
	// The three words before the match, last first, read backwards: the
	// text before it can be long.
	before := t[:start]
	for n := 0; n < 3; n++ {
		before = strings.TrimRight(before, " ")
		i := strings.LastIndexByte(before, ' ')
		w := before[i+1:]
		if w == "" {
			break
		}
		if negatorsEN[w] {
			return true
		}
		if clauseEN[w] {
			break
		}
		before = before[:i+1]
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

// harmEN are the verbs of harm a negation inside a match can deny.
var harmEN = map[string]bool{
	"kill": true, "stab": true, "shoot": true, "murder": true, "hurt": true, "strangle": true, "choke": true,
	"rape": true, "drown": true, "jump": true, "get": true, "cut": true, "burn": true, "beat": true, "hit": true,
	"touch": true, "find": true,
}
