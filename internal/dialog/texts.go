package dialog

import (
	"fmt"
	"time"

	"hotline/internal/hotline"
)

// Every text the reporter reads, zh-CN first. They are written for a
// frightened 13-year-old on a phone: short sentences, plain words, warm.
// Placeholders are fmt verbs; a test checks that both languages have the
// same ones.
var (
	txtPrivacy = hotline.Label{
		ZH: "先说说隐私：\n• 学校只会看到一个代号（比如「蓝狐」）、你写的话和你发的照片，看不到你的名字、用户名、手机号或 Telegram 账号。\n• 这和你在 Telegram 上的其他聊天一样：Telegram 能看到你在和 %s 聊天，也能看到聊天内容。\n• 聊天记录会留在你的手机上。担心被别人看到，可以在 Telegram 里删掉这个聊天。\n• 随时发 /forget，就能解除这个聊天和你的报告之间的关联。",
		EN: "First, about privacy:\n• The school sees only a nickname (like \"Blue Fox\"), your words and your photos — never your name, username, phone number or Telegram account.\n• Like any of your Telegram chats, Telegram can see that you are talking to %s, and what is said.\n• The messages stay on your phone. If you worry someone might see them, delete this chat in Telegram.\n• Send /forget at any time to unlink this chat from your reports.",
	}
	txtPrivacyWechat = hotline.Label{
		ZH: "先说说隐私：\n• 学校只会看到一个代号（比如「蓝狐」）、你写的话和你发的照片，不知道你是谁：看不到你的微信号、昵称、头像或手机号。\n• 腾讯（微信）知道你给这个公众号发了消息，也能看到聊天内容，和你在微信里的其他聊天一样。\n• 聊天记录会留在你的手机上。担心被别人看到，可以在微信里删掉这个聊天。\n• 随时发 /forget，就能解除这个聊天和你的报告之间的关联。",
		EN: "First, about privacy:\n• The school sees only a nickname (like \"Blue Fox\"), your words and your photos. It does not learn who you are: never your WeChat ID, name, picture or phone number.\n• Tencent (WeChat) knows that you wrote to this official account, and can see what is said, as with any of your WeChat chats.\n• The messages stay on your phone. If you worry someone might see them, delete this chat in WeChat.\n• Send /forget at any time to unlink this chat from your reports.",
	}
	txtThisBot = hotline.Label{ZH: "这个机器人", EN: "this bot"}

	// The greeting says beforehand what happens to a draft: kept for a
	// stated time, an urgent one sent to the school on its own, and so is
	// one whose safety question goes unanswered.
	txtGreeting = hotline.Label{
		ZH: "你好，这里是匿名求助热线，谢谢你来找我们。我们先问几个简单的问题，然后请你写下发生了什么。\n还没发送的草稿保存 %d 天，之后会自动删除。如果你写的事说明现在有人有危险，而且已经选好了学校，我们会请你一键把它发给学校；%d 分钟内没有发送的话，我们会自动把它作为紧急报告发给学校的值班老师。如果我们问你是否安全而你 %d 分钟内没有回答，我们也会把草稿发给学校，请老师优先看。",
		EN: "Hi, this is an anonymous help line, and thank you for reaching out. First a few quick questions, then you can write what happened.\nA draft you haven't sent is kept for %d days, then deleted. If what you write shows someone is in danger right now and you have chosen the school, we'll ask you to send it to the school with one tap; if it isn't sent within %d minutes, we send it to the school's on-call staff as an urgent report automatically. If we ask whether you are safe and you don't answer within %d minutes, we send the draft to the school too, for a counselor to look at first.",
	}

	txtAskSchool = hotline.Label{
		ZH: "这件事发生在哪所学校？请输入学校的名字或学校代码。",
		EN: "Which school is this about? Type the school's name or code.",
	}
	txtSchoolPick = hotline.Label{
		ZH: "是哪一所？点一下就好。如果都不是，可以再输入一次。",
		EN: "Which one is it? Tap to choose. If none of these, type the name again.",
	}
	txtSchoolNone = hotline.Label{
		ZH: "没有找到这所学校。换个写法再试试吧，比如学校的全名，或者海报上的学校代码。",
		EN: "We couldn't find that school. Try another spelling, the school's full name, or the code on the poster.",
	}
	txtSchoolSet = hotline.Label{
		ZH: "好的，你的报告会送到「%s」。",
		EN: "OK, your report will go to %s.",
	}

	txtAskRole = hotline.Label{
		ZH: "下面哪一个说的是你？",
		EN: "Which of these is you?",
	}
	txtAskCategory = hotline.Label{
		ZH: "发生的事更像哪一种？不确定也没关系。",
		EN: "What kind of thing happened? It's OK if you're not sure.",
	}
	txtNotSure = hotline.Label{ZH: "不确定", EN: "Not sure"}

	txtAskText = hotline.Label{
		ZH: "请写下发生了什么：是谁、在哪里、什么时候、做了什么。可以分几条发，也可以发照片或截图。不用写你自己的名字。写完了就点「写完了」。",
		EN: "Tell us what happened: who, where, when, and what they did. You can send several messages, and photos or screenshots too. You don't need to give your own name. Tap \"Done\" when you're finished.",
	}
	txtGotText = hotline.Label{
		ZH: "收到，还可以继续补充。写完了就点「写完了」。",
		EN: "Got it. You can add more, or tap \"Done\".",
	}
	txtGotPhoto = hotline.Label{
		ZH: "照片收到了，还可以继续补充。写完了就点「写完了」。",
		EN: "Photo received. You can add more, or tap \"Done\".",
	}
	txtNoted = hotline.Label{
		ZH: "你写的我先记下了，不会丢。",
		EN: "I've kept what you wrote; it won't be lost.",
	}
	txtDraftEmpty = hotline.Label{
		ZH: "还没有写内容呢。写几句发生了什么，再点「写完了」。",
		EN: "Nothing written yet. Write a few words about what happened, then tap \"Done\".",
	}
	txtDraftFull = hotline.Label{
		ZH: "这份报告已经很长了。请先发送它，发送以后还可以继续补充。",
		EN: "This report is already very long. Please send it first; you can add more after sending.",
	}
	txtBtnDone = hotline.Label{ZH: "写完了", EN: "Done"}

	txtAskDanger = hotline.Label{
		ZH: "现在有人有危险吗？比如正在被打、有人带着刀或别的危险东西，或者有人想伤害自己。",
		EN: "Is anyone in danger right now? For example being beaten, someone with a knife or another weapon, or someone who wants to hurt themselves.",
	}
	txtYes = hotline.Label{ZH: "有", EN: "Yes"}
	txtNo  = hotline.Label{ZH: "没有", EN: "No"}

	txtSafety = hotline.Label{
		ZH: "如果你或别人现在有危险，请马上：\n• 打 110 报警\n• 有人受伤，打 120 叫救护车\n• 打 12355 青少年服务台，有人会认真听你说\n先去安全、有大人在的地方。你不是一个人。",
		EN: "If you or someone else is in danger right now:\n• call 110 for the police\n• call 120 for an ambulance if someone is hurt\n• call 12355, the youth helpline — someone will listen\nGo somewhere safe where there are adults. You are not alone.",
	}
	txtSafetyAgain = hotline.Label{
		ZH: "再提醒一次：有危险就马上打 110 报警，有人受伤打 120，想找人说说可以打 12355。",
		EN: "A reminder: if there is danger, call 110 now; 120 if someone is hurt; 12355 if you want someone to talk to.",
	}
	txtSafetySchool = hotline.Label{
		ZH: "学校紧急联系：%s",
		EN: "School emergency contact: %s",
	}

	txtConfirm = hotline.Label{
		ZH: "请看一下，没问题就点「发送给学校」：\n学校：%s\n你是：%s\n类型：%s\n内容：%d 条文字，%d 张照片\n现在有危险：%s",
		EN: "Please check, then tap \"Send to the school\":\nSchool: %s\nYou: %s\nKind: %s\nContent: messages %d, photos %d\nDanger now: %s",
	}
	txtBtnSend   = hotline.Label{ZH: "发送给学校", EN: "Send to the school"}
	txtBtnEdit   = hotline.Label{ZH: "再补充", EN: "Add more"}
	txtBtnCancel = hotline.Label{ZH: "不发了，删掉", EN: "Don't send, delete it"}
	txtBtnRetry  = hotline.Label{ZH: "再试一次", EN: "Try again"}
	txtDraftKept = hotline.Label{
		ZH: "别担心，你写的内容都还在。",
		EN: "Don't worry, everything you wrote is still here.",
	}

	// The times in these texts are the school's own deadlines: the
	// ordinary one for a report, the on-call one for an urgent report.
	txtSubmitted = hotline.Label{
		ZH: "谢谢你说出来。你的报告已经安全送到学校了。在学校那里，你的代号是「%s」，老师不会知道你是谁。\n老师会尽快看你的报告（一般在 %s内），回复会发到这里。你也可以随时在这里继续补充，发 /status 可以看进度。",
		EN: "Thank you for speaking up. Your report has safely reached the school. There, your nickname is \"%s\"; counselors won't know who you are.\nA counselor will read it soon (usually within %s) and reply here. You can keep adding to it here at any time; send /status to see how it is going.",
	}
	txtSubmittedWeb = hotline.Label{
		ZH: "谢谢你说出来。你的报告已经安全送到学校了。在学校那里，你的代号是「%s」，老师不会知道你是谁。\n老师会尽快看你的报告（一般在 %s内）。以后用下面的回执码回来，就能看到老师的回复。现在也可以继续补充。",
		EN: "Thank you for speaking up. Your report has safely reached the school. There, your nickname is \"%s\"; counselors won't know who you are.\nA counselor will read it soon (usually within %s). Come back with the receipt code below to read their reply. You can also keep adding to it now.",
	}
	txtSubmittedUrgent = hotline.Label{
		ZH: "谢谢你说出来。你的报告已经作为紧急报告送到学校了。在学校那里，你的代号是「%s」，老师不会知道你是谁。\n学校值班老师会在 %s内处理，回复会发到这里。你也可以随时在这里继续补充，发 /status 可以看进度。",
		EN: "Thank you for speaking up. Your report has reached the school as an urgent report. There, your nickname is \"%s\"; counselors won't know who you are.\nThe school's on-call staff will act on it within %s and reply here. You can keep adding to it here at any time; send /status to see how it is going.",
	}
	txtSubmittedUrgentWeb = hotline.Label{
		ZH: "谢谢你说出来。你的报告已经作为紧急报告送到学校了。在学校那里，你的代号是「%s」，老师不会知道你是谁。\n学校值班老师会在 %s内处理。以后用下面的回执码回来，就能看到老师的回复。现在也可以继续补充。",
		EN: "Thank you for speaking up. Your report has reached the school as an urgent report. There, your nickname is \"%s\"; counselors won't know who you are.\nThe school's on-call staff will act on it within %s. Come back with the receipt code below to read their reply. You can also keep adding to it now.",
	}
	// An urgent draft left unsent was sent by the sweeper; a Telegram
	// reporter reads this at once (AutoSentNotice, through the relay), a
	// web reporter at their next visit.
	txtAutoSent = hotline.Label{
		ZH: "你写的事情说明现在可能有危险，所以过了 %d 分钟，我们已经自动把它作为紧急报告发给了学校。在学校那里，你的代号是「%s」，老师不会知道你是谁。\n学校值班老师会在 %s内处理，回复会发到这里。你之后写的内容都会补充到这份报告里。",
		EN: "What you wrote showed there may be danger now, so after %d minutes we sent it to the school as an urgent report automatically. There, your nickname is \"%s\"; counselors won't know who you are.\nThe school's on-call staff will act on it within %s and reply here. Anything you write from now on is added to this report.",
	}
	// A draft whose safety question went unanswered was sent by the
	// sweeper, marked possibly urgent: read like txtAutoSent. The time is
	// the school's ordinary one: nobody is paged.
	txtPossiblySent = hotline.Label{
		ZH: "我们问你现在是否安全，%d 分钟里没有收到回答，所以我们已经把你写的内容发给了学校，并请老师优先看。在学校那里，你的代号是「%s」，老师不会知道你是谁。\n学校会在 %s内回复，回复会发到这里。你之后写的内容都会补充到这份报告里。如果你现在有危险，请马上打 110。",
		EN: "We asked whether you are safe and heard nothing for %d minutes, so we have sent what you wrote to the school and asked a counselor to look at it first. There, your nickname is \"%s\"; counselors won't know who you are.\nThe school will reply within %s, here. Anything you write from now on is added to this report. If you are in danger right now, call 110.",
	}
	txtPossiblySentWeb = hotline.Label{
		ZH: "我们问你现在是否安全，%d 分钟里没有收到回答，所以我们已经把你写的内容发给了学校，并请老师优先看。在学校那里，你的代号是「%s」，老师不会知道你是谁。\n学校会在 %s内回复。以后用下面的回执码回来，就能看到老师的回复。你之后写的内容都会补充到这份报告里。如果你现在有危险，请马上打 110。",
		EN: "We asked whether you are safe and heard nothing for %d minutes, so we have sent what you wrote to the school and asked a counselor to look at it first. There, your nickname is \"%s\"; counselors won't know who you are.\nThe school will reply within %s. Come back with the receipt code below to read their reply. Anything you write from now on is added to this report. If you are in danger right now, call 110.",
	}
	txtAutoSentWeb = hotline.Label{
		ZH: "你写的事情说明现在可能有危险，所以过了 %d 分钟，我们已经自动把它作为紧急报告发给了学校。在学校那里，你的代号是「%s」，老师不会知道你是谁。\n学校值班老师会在 %s内处理。以后用下面的回执码回来，就能看到老师的回复。你之后写的内容都会补充到这份报告里。",
		EN: "What you wrote showed there may be danger now, so after %d minutes we sent it to the school as an urgent report automatically. There, your nickname is \"%s\"; counselors won't know who you are.\nThe school's on-call staff will act on it within %s. Come back with the receipt code below to read their reply. Anything you write from now on is added to this report.",
	}

	txtUrgentOffer = hotline.Label{
		ZH: "你写的事听起来很危险。点「现在就发给学校」，学校值班老师马上就能收到，会在 %s内处理。\n如果没有发送，%d 分钟后我们也会自动把它作为紧急报告发给学校。发送以后，你还可以继续补充。",
		EN: "What you wrote sounds dangerous. Tap \"Send to the school now\" and the school's on-call staff get it at once; they will act within %s.\nIf it isn't sent, we send it to the school as an urgent report automatically in %d minutes. You can keep adding to it after it is sent.",
	}
	txtBtnUrgentSend = hotline.Label{ZH: "现在就发给学校", EN: "Send to the school now"}

	// The safety question, asked at once when the detector is unsure of
	// what a reporter wrote. Direct, as crisis lines ask: asking does not
	// put the idea in a child's head, and it tells them they may say it.
	// Short and kind; a school reads it on its setup page.
	txtAskSafetyDraft = hotline.Label{
		ZH: "我们想直接问你一句：你现在有危险吗？或者，你有没有在想伤害自己？\n不管是什么，都可以告诉我们。不方便回答也没关系，报告发给学校后，老师会优先看。",
		EN: "We'd like to ask you straight out: are you in danger right now? Or are you thinking about hurting yourself?\nWhatever it is, you can tell us. If you can't answer now, that's OK: once your report reaches the school, a counselor will look at it first.",
	}
	// The same question once the school is known: unanswered, the draft
	// goes to the school by itself.
	txtAskSafetyDraftSend = hotline.Label{
		ZH: "我们想直接问你一句：你现在有危险吗？或者，你有没有在想伤害自己？\n不管是什么，都可以告诉我们。不方便回答也没关系：%d 分钟内没有回答的话，我们会把你写的内容发给学校，请老师优先看。",
		EN: "We'd like to ask you straight out: are you in danger right now? Or are you thinking about hurting yourself?\nWhatever it is, you can tell us. If you can't answer now, that's OK: if we hear nothing within %d minutes, we send what you wrote to the school for a counselor to look at first.",
	}
	txtAskSafetyFiled = hotline.Label{
		ZH: "我们想直接问你一句：你现在有危险吗？或者，你有没有在想伤害自己？\n不管是什么，都可以告诉我们。不方便回答也没关系，老师会优先看你的报告。",
		EN: "We'd like to ask you straight out: are you in danger right now? Or are you thinking about hurting yourself?\nWhatever it is, you can tell us. If you can't answer now, that's OK: a counselor will look at your report first.",
	}
	txtBtnSafeYes = hotline.Label{ZH: "是的，我需要帮助", EN: "Yes, I need help"}
	txtBtnSafeNo  = hotline.Label{ZH: "没有，我现在安全", EN: "No, I'm safe now"}
	txtSafeNo     = hotline.Label{
		ZH: "谢谢你告诉我们。我们接着来。",
		EN: "Thank you for telling us. Let's carry on.",
	}
	txtSafeYesFiled = hotline.Label{
		ZH: "谢谢你告诉我们。我们已经通知了学校的值班老师，他们会在 %s内处理。你可以继续在这里写。",
		EN: "Thank you for telling us. We have told the school's on-call staff; they will act within %s. You can keep writing here.",
	}

	txtReceipt = hotline.Label{
		ZH: "请把它抄下来或截图，存在只有你能看到的地方。以后回来看老师的回复，要靠它；它丢了，我们也没办法找回。它只属于你：不要告诉别人，也不要发给老师。",
		EN: "Write it down or take a screenshot, and keep it where only you can see it. You need it to come back and read the counselors' replies; if it is lost, we cannot get it back. It is yours alone: don't share it with anyone, not even counselors.",
	}

	txtForwarded   = hotline.Label{ZH: "已经转给老师了。", EN: "Sent to the counselor."}
	txtNeedReceipt = hotline.Label{
		ZH: "要继续和老师对话，请先点「我有回执码」，输入你的回执码，打开你的报告。",
		EN: "To keep talking with the counselor, tap \"I have a code\" and enter your receipt code to open your report first.",
	}
	txtFollowPrompt = hotline.Label{
		ZH: "你可以继续在这里写给老师，也可以发照片。",
		EN: "You can keep writing to the counselor here, and send photos too.",
	}

	txtStatus = hotline.Label{ZH: "「%s」：%s", EN: "\"%s\": %s"}
	txtNoTips = hotline.Label{
		ZH: "你还没有发送过报告。",
		EN: "You haven't sent a report yet.",
	}
	txtMoreTips = hotline.Label{
		ZH: "你还有别的报告，发 /tips 可以切换。",
		EN: "You have other reports too; send /tips to switch.",
	}
	txtTipsList = hotline.Label{
		ZH: "你有这几份报告。点一下，选择要继续写的那一份：",
		EN: "These are your reports. Tap the one you want to continue:",
	}
	txtNoOpenTips = hotline.Label{
		ZH: "你现在没有正在处理中的报告。",
		EN: "You have no report in progress right now.",
	}
	txtTipSwitched = hotline.Label{
		ZH: "好的，接下来你发的消息会送到「%s」这份报告。",
		EN: "OK, your next messages will go to the report \"%s\".",
	}
	txtTipUnknown = hotline.Label{
		ZH: "找不到这份报告了。",
		EN: "That report can no longer be found.",
	}
	txtDraftWaiting = hotline.Label{
		ZH: "你没写完的那份报告还保存着，发 /new 可以接着写。",
		EN: "Your unfinished report is still saved; send /new to continue it.",
	}
	txtStartKeepsDraft = hotline.Label{
		ZH: "你还有一份没发送的报告，我们帮你留着，接着写吧。如果想删掉它重新开始，发 /cancel。",
		EN: "You have a report you haven't sent yet; we kept it, so let's continue. To delete it and start again, send /cancel.",
	}
	txtResumeDraft = hotline.Label{
		ZH: "你还有一份没写完的报告，我们接着写吧。",
		EN: "You have an unfinished report; let's continue it.",
	}
	txtWebOneTip = hotline.Label{
		ZH: "在网页上，一个回执码对应一份报告。要看另一份，请用那一份的回执码打开。",
		EN: "On the web, each receipt code opens one report. To see another one, open it with its own receipt code.",
	}

	txtForgetAsk = hotline.Label{
		ZH: "确定要解除这个聊天和你的报告之间的关联吗？\n解除以后，学校仍会处理你的报告，但老师的回复不会再发到这里，我们也不会再知道这些报告来自这个聊天。已有的聊天记录还留在 Telegram 里，你可以自己删掉这个聊天。",
		EN: "Unlink this chat from your reports?\nThe school will still handle your reports, but counselors' replies will no longer reach this chat, and we will no longer know the reports came from it. The messages already here stay in Telegram until you delete the chat yourself.",
	}
	txtForgetAskWechat = hotline.Label{
		ZH: "确定要解除这个聊天和你的报告之间的关联吗？\n解除以后，学校仍会处理你的报告，但老师的回复不会再发到这里，我们也会删掉用来给你回消息的微信身份记录，不再知道这些报告来自这个聊天。已有的聊天记录还留在微信里，你可以自己删掉这个聊天。",
		EN: "Unlink this chat from your reports?\nThe school will still handle your reports, but counselors' replies will no longer reach this chat: we delete the WeChat identity we keep to reply to you, and will no longer know the reports came from it. The messages already here stay in WeChat until you delete the chat yourself.",
	}
	txtBtnForgetYes = hotline.Label{ZH: "确定解除", EN: "Yes, unlink"}
	txtBtnForgetNo  = hotline.Label{ZH: "先不了", EN: "Not now"}
	txtForgotten    = hotline.Label{
		ZH: "已经解除关联了。这个聊天和你的报告之间不再有联系。想再找我们，随时发 /start。",
		EN: "Done: this chat is no longer linked to your reports. To talk to us again, send /start any time.",
	}
	txtForgottenWechat = hotline.Label{
		ZH: "已经解除关联了。这个聊天和你的报告之间不再有联系。想再找我们，随时点下面菜单里的「我要报告」。",
		EN: "Done: this chat is no longer linked to your reports. To talk to us again, tap 我要报告 (Report) in the menu below any time.",
	}
	txtForgetKept = hotline.Label{ZH: "好的，什么都没有改变。", EN: "OK, nothing has changed."}
	txtForgetWeb  = hotline.Label{
		ZH: "网页聊天本来就不会记住你是谁。关掉页面就好，回来时用回执码。想马上离开，点「快速离开」。",
		EN: "The web chat never knows who you are. Just close the page, and come back with your receipt code. To leave at once, tap \"Quick exit\".",
	}

	txtCancelled = hotline.Label{
		ZH: "好的，草稿已经删掉了，什么都没有发出去。",
		EN: "OK, the draft is deleted; nothing was sent.",
	}
	txtNothingToCancel = hotline.Label{
		ZH: "现在没有要取消的内容。",
		EN: "There is nothing to cancel right now.",
	}
	txtIdle = hotline.Label{
		ZH: "想报告新的事情，随时点「写新的报告」，或者直接写下来。",
		EN: "To report something new, tap \"New report\" or just start writing.",
	}
	txtBtnNew    = hotline.Label{ZH: "写新的报告", EN: "New report"}
	txtBtnStatus = hotline.Label{ZH: "查看进度", EN: "Check status"}

	txtHelp = hotline.Label{
		ZH: "在这里可以匿名报告欺凌，老师不会知道你是谁。\n/new 写新的报告\n/status 看报告的进度\n/tips 选择要继续写的报告\n/cancel 删掉还没发送的草稿\n/language 切换语言 English\n/forget 解除这个聊天和报告的关联\n如果有人现在有危险，请马上打 110。",
		EN: "Here you can report bullying anonymously; counselors won't know who you are.\n/new write a new report\n/status see how your report is going\n/tips choose which report to continue\n/cancel delete a draft you haven't sent\n/language switch language 中文\n/forget unlink this chat from your reports\nIf anyone is in danger right now, call 110 at once.",
	}
	// The web chat has no /tips or /forget: a web reporter comes back with
	// the receipt, and nothing links the browser to the report.
	txtHelpWeb = hotline.Label{
		ZH: "在这里可以匿名报告欺凌，老师不会知道你是谁。\n/new 写新的报告\n/status 看报告的进度\n/cancel 删掉还没发送的草稿\n/language 切换语言 English\n以后回来时，点「我有回执码」并输入你的回执码。\n如果有人现在有危险，请马上打 110。",
		EN: "Here you can report bullying anonymously; counselors won't know who you are.\n/new write a new report\n/status see how your report is going\n/cancel delete a draft you haven't sent\n/language switch language 中文\nWhen you come back, tap \"I have a code\" and enter your receipt code.\nIf anyone is in danger right now, call 110 at once.",
	}
	txtLangAsk     = hotline.Label{ZH: "请选择语言：", EN: "Choose a language:"}
	txtLangSet     = hotline.Label{ZH: "好的，我们用中文聊。", EN: "OK, let's talk in English."}
	txtAlreadySent = hotline.Label{ZH: "这份报告已经发送给学校了，不会重复提交。你的代号是「%s」。", EN: "This report has already been sent to the school; it is not filed twice. Your alias is \"%s\"."}
	txtStale       = hotline.Label{ZH: "这个按钮已经过期了，我们接着来：", EN: "That button is no longer active; let's carry on:"}

	txtSaveFailed = hotline.Label{
		ZH: "系统暂时出了故障，刚才这条没有保存。请稍等一会儿再发一次。",
		EN: "Something went wrong on our side and that message was not saved. Please send it again in a little while.",
	}
	txtBadKey = hotline.Label{
		ZH: "这个对话打不开了，请重新打开聊天。",
		EN: "This conversation can't be opened; please open the chat again.",
	}

	txtWelcomeBack = hotline.Label{
		ZH: "欢迎回来。这是你作为「%s」的对话记录：",
		EN: "Welcome back. Here is your conversation as \"%s\":",
	}
	txtNone = hotline.Label{ZH: "—", EN: "—"}
)

// Language names are shown in their own language, so they stay the same
// whichever language the conversation is in.
const (
	langNameZH = "中文"
	langNameEN = "English"
)

// SafetyQuestion returns the safety question about a filed report and its
// two answers, in both languages: the mailbox's pages ask it with these
// words, and a school's setup page shows them.
func SafetyQuestion() (question, yes, no hotline.Label) {
	return txtAskSafetyFiled, txtBtnSafeYes, txtBtnSafeNo
}

// SafetyQuestionDraft is the question as a conversation asks it about a
// report not sent yet.
func SafetyQuestionDraft() hotline.Label { return txtAskSafetyDraft }

// AutoSentNotice is what a Telegram or WeChat reporter is told, through
// the relay, the moment the sweeper sent their draft: urgent, or possibly
// urgent (its safety question went unanswered). A fixed text with their
// alias and the school's time to act on it, in their language.
func AutoSentNotice(lang hotline.Lang, alias string, act time.Duration, possibly bool) string {
	if possibly {
		return fmt.Sprintf(txtPossiblySent.In(lang), int(hotline.SafetyQuestionWait/time.Minute), alias, hotline.Duration(act).In(lang))
	}
	return fmt.Sprintf(txtAutoSent.In(lang), int(UrgentSendAfter/time.Minute), alias, hotline.Duration(act).In(lang))
}
