package bot

import (
	"github.com/go-telegram/bot/models"

	"hotline/internal/hotline"
)

// The few texts the transport says itself; the conversation's texts are the
// dialog's, and a counselor's pushed reply is rendered by internal/thread.
var (
	txtUnsupported = hotline.Label{
		ZH: "抱歉，这里暂时只能收到文字和照片，语音、视频和文件都收不到。请打字告诉我们，或者发照片、截图。",
		EN: "Sorry, for now only text and photos get through here; voice messages, videos and files do not. Please type what you want to say, or send a photo or screenshot.",
	}
	txtPhotoFailed = hotline.Label{
		ZH: "这张照片没有收到，请再发一次。如果照片下面写了字，也请一起再发。",
		EN: "That photo didn't come through; please send it again, with any words you wrote under it.",
	}
	txtStaffLinked = hotline.Label{
		ZH: "已绑定。紧急报告和超时提醒会发到这里，提醒里不会有报告内容——请打开收件箱查看。",
		EN: "Linked. Urgent reports and overdue reminders will come here, without any report content — open the inbox to read them.",
	}
	txtEdited = hotline.Label{
		ZH: "你修改了一条消息，但学校看不到修改后的内容。如果想补充或更正，请把它作为新消息再发一次。",
		EN: "You edited a message, but the school does not see edits. To add or correct something, please send it again as a new message.",
	}
	// txtNotAppliedYet answers an update that could not be stored (the
	// database unreachable, the disk full): it stays with Telegram and is
	// handled again until it is. The reporter must not send it again, or
	// it would be filed twice.
	txtNotAppliedYet = hotline.Label{
		ZH: "系统暂时出了故障，刚才这条还没有保存。系统恢复后会自动处理它，不用再发；处理好了会在这里回复你。",
		EN: "Something went wrong on our side and that message is not saved yet. It will be handled automatically once the system is back, so there is no need to send it again; you will get an answer here when it is.",
	}
	txtPrivateOnly = hotline.Label{
		ZH: "为了保护你，请在和本机器人的私聊中报告，不要在群里。",
		EN: "To protect you, please report in a private chat with this bot, not in a group.",
	}
)

// commandList is set with setMyCommands at start, per language.
var commandList = []struct {
	name string
	desc hotline.Label
}{
	{"start", hotline.Label{ZH: "开始报告（也可用学校代码：/start 学校代码）", EN: "Start a report (or /start school-code)"}},
	{"new", hotline.Label{ZH: "再报告一件事", EN: "Report something else"}},
	{"status", hotline.Label{ZH: "查看报告的处理进度", EN: "See where your report stands"}},
	{"tips", hotline.Label{ZH: "在我的几份报告之间切换", EN: "Switch between your reports"}},
	{"language", hotline.Label{ZH: "切换语言 / Language", EN: "Language / 切换语言"}},
	{"help", hotline.Label{ZH: "帮助和隐私说明", EN: "Help and privacy"}},
	{"cancel", hotline.Label{ZH: "删掉还没发送的草稿", EN: "Delete the draft you have not sent"}},
	{"forget", hotline.Label{ZH: "解除这个聊天与报告的关联", EN: "Unlink this chat from your reports"}},
}

func botCommands(lang hotline.Lang) []models.BotCommand {
	out := make([]models.BotCommand, len(commandList))
	for i, c := range commandList {
		out[i] = models.BotCommand{Command: c.name, Description: c.desc.In(lang)}
	}
	return out
}
