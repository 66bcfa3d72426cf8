package survey

import "hotline/internal/hotline"

// The built-in questionnaire follows the structure of the established
// bullying instruments (Olweus Bully/Victim Questionnaire and its
// successors): a definition first; frequency over the last two or three
// months on one fixed scale for being bullied, overall and in each form;
// where and when; telling and whether an adult stepped in; witnessing;
// bullying others; feeling safe. The words are ours.

// Definition is shown before the first question.
var Definition = hotline.Label{
	ZH: "我们说一个同学被欺负（欺凌），是指另一个或几个同学故意地、反复地对他/她说难听的话、取笑、起侮辱性的外号，打、踢、推、威胁、关起来，故意不理他/她、把他/她排除在外，散布关于他/她的谣言，在网上骂或传播他/她的照片，抢或索要钱物等，而被欺负的同学很难保护自己。两个力气或人数差不多的同学之间偶尔吵架、打闹，或友好的玩笑，不算欺凌。这份问卷是匿名的：不写名字，学校只看到全班合起来的结果，看不到你的答案。每道题都可以跳过。",
	EN: "We say a pupil is being bullied when another pupil, or several, on purpose and again and again say mean and hurtful things to them, make fun of them or call them hurtful names, hit, kick, push, threaten or lock them in, ignore them or leave them out on purpose, spread rumours about them, insult them or share their photos online, take or demand their money or things — and the pupil being bullied finds it hard to defend themselves. It is not bullying when two pupils of about the same strength quarrel or fight now and then, or tease each other in a friendly way. This questionnaire is anonymous: you do not write your name, the school sees only the results of the whole class together, never your answers. You may skip any question.",
}

// Frequency is the fixed scale of the frequency questions; "2" (two or
// three times a month) and above is the usual cut-off for "bullied".
var Frequency = []Option{
	{"0", hotline.Label{ZH: "没有", EN: "Not at all"}},
	{"1", hotline.Label{ZH: "只有一两次", EN: "Only once or twice"}},
	{"2", hotline.Label{ZH: "每月两三次", EN: "Two or three times a month"}},
	{"3", hotline.Label{ZH: "大约每周一次", EN: "About once a week"}},
	{"4", hotline.Label{ZH: "每周好几次", EN: "Several times a week"}},
}

// Cutoff is the lowest frequency counted as being bullied or bullying.
const Cutoff = "2"

// Template question IDs the results read.
const (
	QVictim    = "v_overall"
	QPhysical  = "v_physical"
	QVerbal    = "v_verbal"
	QExclusion = "v_exclusion"
	QOnline    = "v_online"
	QExtortion = "v_extortion"
	QWho       = "v_who"
	QWhere     = "where"
	QWhen      = "when"
	QTold      = "told"
	QAdult     = "adult"
	QTeachers  = "teachers_stop"
	QWitness   = "witness"
	QWitnessDo = "witness_do"
	QBully     = "b_overall"
	QJoin      = "b_join"
	QSafe      = "safe"
	QLonely    = "lonely"
	QFriends   = "friends"
	QText      = "text"
)

func opts(pairs ...string) []Option {
	out := make([]Option, 0, len(pairs)/3)
	for i := 0; i+2 < len(pairs); i += 3 {
		out = append(out, Option{Key: pairs[i], Label: hotline.Label{ZH: pairs[i+1], EN: pairs[i+2]}})
	}
	return out
}

func freq(id, section, zh, en string) Question {
	return Question{ID: id, Kind: Scale, Section: section, Text: hotline.Label{ZH: zh, EN: en}, Options: Frequency}
}

// Template returns a fresh copy of the built-in questionnaire.
func Template() []Question {
	return []Question{
		freq(QVictim, "victim", "在过去两三个月里，你在学校被欺负过多少次？", "How often have you been bullied at school in the past couple of months?"),
		freq(QPhysical, "victim", "……被打、踢、推、撞，或被关起来", "…hit, kicked, pushed, shoved around or locked indoors"),
		freq(QVerbal, "victim", "……被骂、被嘲笑，或被起难听的外号", "…called mean names, made fun of or teased in a hurtful way"),
		freq(QExclusion, "victim", "……被故意孤立、排挤，或有人散布关于你的谣言", "…left out on purpose, ignored, or had rumours spread about you"),
		freq(QOnline, "victim", "……在网上（微信、QQ、游戏、短视频等）被骂、被威胁，或照片、谣言被传播", "…insulted, threatened, or had photos or rumours shared online (chat apps, games, video sites)"),
		freq(QExtortion, "victim", "……被抢、被索要钱或东西，或东西被故意弄坏", "…had money or things taken or demanded, or damaged on purpose"),
		{ID: QWho, Kind: Single, Section: "victim", Text: hotline.Label{ZH: "欺负你的主要是谁？", EN: "Who mostly bullied you?"},
			Options: opts("none", "我没有被欺负", "I was not bullied",
				"class", "同班同学", "Pupils of my class",
				"grade", "同年级其他班的同学", "Pupils of my grade, other classes",
				"older", "高年级的同学", "Older pupils",
				"younger", "低年级的同学", "Younger pupils",
				"outside", "校外的人", "People from outside school")},
		{ID: QWhere, Kind: Multiple, Section: "where", Text: hotline.Label{ZH: "如果你被欺负过，是在哪里？（可以多选）", EN: "If you were bullied, where did it happen? (choose any)"},
			Options: opts("classroom", "教室", "Classroom",
				"corridor", "走廊、楼梯", "Corridors, stairs",
				"toilet", "厕所", "Toilets",
				"playground", "操场、体育馆", "Playground, sports hall",
				"canteen", "食堂", "Canteen",
				"dorm", "宿舍", "Dormitory",
				"gate", "校门口、上下学路上", "School gate, way to or from school",
				"online", "网上", "Online",
				"other", "其他地方", "Somewhere else")},
		{ID: QWhen, Kind: Multiple, Section: "where", Text: hotline.Label{ZH: "通常是什么时候？（可以多选）", EN: "When did it usually happen? (choose any)"},
			Options: opts("break", "课间", "Between lessons",
				"lunch", "午饭、午休", "Lunch break",
				"pe", "体育课、活动课", "PE or activity lessons",
				"lesson", "上课时", "During lessons",
				"commute", "上学、放学路上", "On the way to or from school",
				"evening", "放学后、晚自习", "After school, evening study",
				"weekend", "周末、假期", "Weekends, holidays")},
		{ID: QTold, Kind: Single, Section: "telling", Text: hotline.Label{ZH: "被欺负以后，你告诉过谁吗？", EN: "After you were bullied, did you tell anyone?"},
			Options: opts("na", "我没有被欺负", "I was not bullied",
				"nobody", "没有告诉任何人", "I told nobody",
				"teacher", "告诉了班主任或其他老师", "My class teacher or another teacher",
				"parent", "告诉了家长", "My parents or family",
				"friend", "告诉了同学或朋友", "A classmate or friend",
				"other", "告诉了其他人", "Someone else")},
		{ID: QAdult, Kind: Single, Section: "telling", Text: hotline.Label{ZH: "老师或其他大人有没有出面帮你、制止欺负？", EN: "Did a teacher or another adult step in to help you or stop it?"},
			Options: opts("na", "我没有被欺负", "I was not bullied",
				"no", "没有", "No",
				"tried", "出面了，但欺负还在继续", "Yes, but the bullying went on",
				"stopped", "出面了，欺负停止了或变少了", "Yes, and it stopped or lessened")},
		{ID: QTeachers, Kind: Scale, Section: "telling", Text: hotline.Label{ZH: "学校里有学生被欺负时，老师多常出面制止？", EN: "How often do teachers try to stop it when a pupil is being bullied at school?"},
			Options: opts("0", "几乎从不", "Almost never", "1", "偶尔", "Once in a while", "2", "有时", "Sometimes", "3", "经常", "Often", "4", "几乎总是", "Almost always")},
		freq(QWitness, "witness", "在过去两三个月里，你看到别的同学在学校被欺负过多少次？", "How often have you seen another pupil being bullied at school in the past couple of months?"),
		{ID: QWitnessDo, Kind: Single, Section: "witness", Text: hotline.Label{ZH: "看到别人被欺负时，你通常怎么做？", EN: "When you see a pupil being bullied, what do you usually do?"},
			Options: opts("never", "我没看到过", "I have never seen it",
				"nothing", "什么也没做", "Nothing",
				"adult", "告诉老师或其他大人", "Tell a teacher or another adult",
				"help", "上前帮忙或安慰被欺负的同学", "Help or comfort the pupil",
				"join", "跟着一起", "Join in")},
		freq(QBully, "others", "在过去两三个月里，你在学校欺负过别的同学多少次？", "How often have you taken part in bullying another pupil at school in the past couple of months?"),
		{ID: QJoin, Kind: Scale, Section: "others", Text: hotline.Label{ZH: "如果有你不喜欢的同学被欺负，你会加入吗？", EN: "Could you join in bullying a pupil you do not like?"},
			Options: opts("0", "肯定不会", "Definitely not", "1", "可能不会", "Probably not", "2", "说不准", "Not sure", "3", "可能会", "Maybe", "4", "肯定会", "Yes")},
		{ID: QSafe, Kind: Scale, Section: "safety", Text: hotline.Label{ZH: "你在学校感到安全吗？", EN: "How safe do you feel at school?"},
			Options: opts("0", "很不安全", "Very unsafe", "1", "不太安全", "Rather unsafe", "2", "一般", "So-so", "3", "比较安全", "Rather safe", "4", "很安全", "Very safe")},
		freq(QLonely, "safety", "在学校里你多常感到孤单？", "How often do you feel lonely at school?"),
		{ID: QFriends, Kind: Single, Section: "safety", Text: hotline.Label{ZH: "你在班里有几个好朋友？", EN: "How many good friends do you have in your class?"},
			Options: opts("0", "没有", "None", "1", "1 个", "One", "2", "2–5 个", "Two to five", "6", "6 个或更多", "Six or more")},
		{ID: QText, Kind: Text, Section: "safety", Text: hotline.Label{ZH: "还有什么想告诉学校的吗？（选填；请不要写自己或别人的名字）", EN: "Anything else you want the school to know? (optional; please do not write your own or anyone's name)"},
			Help: hotline.Label{ZH: "这段文字会加密保存，只有本校老师能打开。", EN: "This text is stored sealed; only your school's staff can open it."}},
	}
}
