package urgency

import (
	"strings"
	"sync"
)

// A rule matches words; whether they are danger now depends on what the
// message says around them. Two frames make the rules' words not danger
// now, and the rules do not claim such a message (the model still reads
// it, and asks if it reads danger):
//
//   - a past that is over: the danger is placed in the past (以前, 去年,
//     初二那年, used to, two years ago) and the message says it ended
//     (现在好多了, 已经没有了, 熬过来了, anymore, haven't since);
//   - a story told: a lesson, a talk, the news, a book, a film or a play
//     (心理课讲了, 新闻里说, 《雷雨》, assembly, documentary), and the
//     danger is a story's, not the writer's.
//
// Neither frame holds where the message also speaks of danger now: a
// past marker never vetoes a present one. "I wanted to die last year and
// I still do", "以前被打过 今天他们又在厕所打我" and "课上讲了自杀 我现在也想"
// stay urgent: still, again, 又, 还是, tonight, 今天, 救命, or (in a story)
// the writer's own wish or a harm done to them.

var (
	// pastZH and pastEN place what is told in the past.
	pastZH = anyTerm("以前", "之前", "去年", "前年", "那年", "那时", "当时", "曾经", "上学期", "上个月", "年前", "小时候",
		"那段时间", "有段时间", "有一段时间", "一度", "旧年", "那会", "初一时", "初二时", "初三时", "小学时", "小学的时候", "初中的时候",
		"初一的时候", "初二的时候", "初三的时候", "年级的时候", "上学期的时候")
	pastEN = anyTerm(`\bused to\b`, `\blast year\b`, `\blast winter\b`, `\blast summer\b`, `\bago\b`, `\bwhen i was\b`, `\bback in\b`,
		`\bback then\b`, `\bthere was a time\b`, `\bat my old school\b`, `\bin middle school\b`, `\bin primary\b`, `\bfreshman year\b`,
		`\bsophomore year\b`, `\bover the summer\b`, `\bin year 7\b`, `\bin year 8\b`, `\bin year 9\b`, `\bin year 3\b`,
		`\bin 6th grade\b`, `\bin 7th grade\b`, `\bin 8th grade\b`, `\bin 9th grade\b`, `\bin primary\b`, `\bin middle school\b`)

	// overZH and overEN say that it ended.
	overZH = anyTerm("现在好", "现在已经", "已经好", "好多了", "没事了", "过去了", "过去两年", "翻篇", "走出来", "熬过来", "挺过来",
		"没有再", "没再", "停了", "停药", "稳定", "不怕了", "不想了", "没有这种想法", "没有那种想法",
		"现在挺好", "现在很好", "现在过得", "挺好的", "回头看", "回想起来", "和好了", "处理好了", "处理完了", "恢复", "都好", "正常了", "好起来",
		"一切正常", "上了初中", "上了高中", "长大了", "毕业了", "转学了", "不这么想", "很开心", "变好", "好返", "不会了",
		"很久没", "平稳", "和睦", "现在我们是朋友")
	overEN = anyTerm(`\bbetter now\b`, `\bdoing well\b`, `\bdoing better\b`,
		`\bdoing fine\b`, `\bdoing great\b`, `\bdoing way better\b`,
		`\bhaven't since\b`, `\bhavent since\b`, `\bhave not since\b`, `\bstopped\b`, `\bit passed\b`, `\bgot better\b`, `\bgets better\b`,
		`\bcan change\b`, `\bstable\b`, `\bhandled\b`, `\brecovered\b`, `\bi'm ok\b`, `\bim ok\b`, `\bi am ok\b`, `\bi'm fine\b`,
		`\bglad i'm still here\b`, `\bmoved away\b`, `\bgot expelled\b`, `\bso much better\b`, `\blife is good\b`, `\bmuch better\b`,
		`\bnot scared\b`, `\bsteadier\b`, `\bi'm okay\b`, `\bhave been okay\b`, `\bhaven't since\b`, `\bi haven't\b`)

	// storyZH and storyEN tell of a lesson, a talk, the news, a book, a
	// film or a play.
	storyZH = anyTerm("新闻", "热搜", "课讲", "课学", "课文", "班会", "讲座", "纪录片", "电影", "话剧", "作文", "读后感", "小说",
		"诗", "《", "教育课", "安全教育", "心理课讲", "生命教育", "评论区", "案例", "课程", "家长会", "国旗下讲话", "演的", "台词",
		"老师讲", "老师让我们", "老师说如果", "宣传")
	storyEN = anyTerm(`\bnews\b`, `\bassembly\b`, `\bdocumentary\b`, `\bmovie\b`, `\bfilm\b`, `\bnovel\b`, `\bpoem\b`,
		`\bdebate\b`, `\bcoursework\b`, `\bpshe\b`, `\bhealth class\b`, `\bpsych class\b`, `\benglish class\b`, `\bdrama class\b`,
		`\bsociology\b`, `\bpsychology unit\b`, `\bguest speaker\b`, `\bstaff training\b`, `\bfirst aid course\b`, `\bleaflet\b`,
		`\bposter\b`, `\bposters\b`, `\bessay\b`, `\bcharity\b`, `\bdid a talk\b`, `\bwe learned\b`, `\bwe covered\b`,
		`\bwe watched\b`, `\bour class is\b`, `\bfor my debate\b`, `\bcharacter\b`)

	// presentZH and presentEN speak of danger now, or again: no frame holds.
	presentZH = anyTerm("又", "还是想", "还在想", "还想", "仍然", "依然", "最近", "这几天", "这两天", "今晚", "现在也", "现在还", "到现在还",
		"现在又", "现在就", "现在想死", "现在很想死", "现在想消失", "现在真的", "救命", "救救", "马上", "正在", "快来", "明天",
		"刚才", "刚刚", "下周", "放学就")
	presentEN = anyTerm(`\bstill\b`, `\bagain\b`, `\bright now\b`, `\btonight\b`, `\bthese days\b`, `\blately\b`, `\brecently\b`,
		`\bcame back\b`, `\bis back\b`, `\bback again\b`, `\bhelp me\b`, `\btomorrow\b`, `\bthis week\b`,
		`\bnext week\b`, `\bjust now\b`)

	// wishEN is a wish or a plan said now: English has tenses, and "I used
	// to cut, now I want to die" is danger now.
	wishEN = anyTerm(`\bi want to\b`, `\bi wanna\b`, `\bi'm going to\b`, `\bim going to\b`, `\bi am going to\b`,
		`\bi'm gonna\b`, `\bim gonna\b`, `\bi don't want to\b`, `\bi dont want to\b`, `\bi do not want to\b`,
		`\bi can't take\b`, `\bi cant take\b`, `\bi can't do this\b`, `\bi cant do this\b`, `\bi'm done\b`, `\bim done\b`)

	// ownZH and ownEN make a story the writer's: their own wish, or a
	// harm done to them.
	ownZH = anyTerm("我想死", "我想自杀", "我也想", "我不想活", "我要", "我现在", "打我", "揍我", "我被", "欺负我", "摸我", "威胁我",
		"杀了我", "杀我", "打死我", "弄死我")
	ownEN = anyTerm(`\bi want to\b`, `\bi wanna\b`, `\bi am going to\b`, `\bi'm going to\b`, `\bim going to\b`, `\bi'm gonna\b`,
		`\bim gonna\b`, `\bmyself\b`, `\bhit me\b`, `\bhitting me\b`, `\bhurt me\b`, `\bhurting me\b`, `\btouched me\b`,
		`\btouching me\b`, `\bthreatening me\b`, `\bthreatened me\b`, `\bkill me\b`, `\bstab me\b`, `\bbeat me\b`,
		`\btouch me\b`, `\bafter me\b`, `\bon me\b`, `\bat me\b`)
)

// The frames' kinds of marker, as bits.
const (
	markPast = 1 << iota
	markOver
	markStory
	markPresent
	markWish
	markOwn
)

// frameMarkers are the markers by kind.
var frameMarkers = []struct {
	ts   terms
	kind uint8
}{
	{pastZH, markPast}, {pastEN, markPast}, {overZH, markOver}, {overEN, markOver}, {storyZH, markStory},
	{storyEN, markStory}, {presentZH, markPresent}, {presentEN, markPresent}, {wishEN, markWish},
	{ownZH, markOwn}, {ownEN, markOwn},
}

// framed reports whether the message (folded) tells of a past that is
// over, or of a story, and says nothing of danger now: then what the
// rules match in it is not danger now.
func framed(folded string) bool { return framedBy(markersIn(folded)) }

func framedBy(m uint8) bool {
	if m&markPresent != 0 {
		return false
	}
	past := m&markPast != 0 && m&markOver != 0 && m&markWish == 0
	story := m&markStory != 0 && m&markOwn == 0
	return past || story
}

// markersIn returns the kinds of marker s holds, found in one pass: the
// frames are asked about a message a rule matched, which may be 4,096
// characters long, and its hundred and fifty markers looked for one by
// one would read it a hundred and fifty times.
func markersIn(s string) uint8 {
	ix := markerIndexOf()
	var found uint8
	for i := 0; i+1 < len(s); i++ {
		g := ix.byPair[uint16(s[i])<<8|uint16(s[i+1])]
		if g == 0 {
			continue
		}
		for _, t := range ix.groups[g-1] {
			if found&t.kind == 0 && strings.HasPrefix(s[i:], t.text) &&
				(!t.bounded || (!wordByteBefore(s, i) && !wordByteAt(s, i+len(t.text)))) {
				found |= t.kind
			}
		}
	}
	return found
}

// markerIndex lists the markers by their first two bytes.
type markerIndex struct {
	byPair [1 << 16]uint16 // 1 + the index in groups; 0: no marker
	groups [][]marker
}

type marker struct {
	text    string
	bounded bool
	kind    uint8
}

var markerIndexOf = sync.OnceValue(func() *markerIndex {
	ix := new(markerIndex)
	for _, set := range frameMarkers {
		for _, t := range set.ts {
			if len(t.text) < 2 {
				panic("urgency: a frame marker shorter than two bytes: " + t.text)
			}
			key := uint16(t.text[0])<<8 | uint16(t.text[1])
			if ix.byPair[key] == 0 {
				ix.groups = append(ix.groups, nil)
				ix.byPair[key] = uint16(len(ix.groups))
			}
			g := &ix.groups[ix.byPair[key]-1]
			*g = append(*g, marker{text: t.text, bounded: t.bounded, kind: set.kind})
		}
	}
	return ix
})
