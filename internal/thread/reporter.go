package thread

import (
	"fmt"
	"strings"
	"time"

	"hotline/internal/hotline"
	"hotline/internal/store"
	"hotline/internal/vault"
)

// ForReporter reports whether a stored message belongs in its reporter's
// copy of the thread: internal notes never do, nor messages sealed without
// a reporter copy (a Telegram tip's, or a purged one).
func ForReporter(m *store.SealedMessage) bool {
	return m.Author != hotline.AuthorNote && (m.ReporterSealed != nil || m.PhotoReporterSealed != nil)
}

// OpenForReporter opens the reporter's copy of a tip's messages with the
// key their receipt derives, skipping what is not theirs to read. Reporters
// never learn which counselor wrote.
func OpenForReporter(k *vault.PrivateKey, tip *hotline.Tip, sealed []*store.SealedMessage) ([]*hotline.Message, error) {
	var out []*hotline.Message
	for _, m := range sealed {
		if !ForReporter(m) {
			continue
		}
		msg, err := Open(k, ReadReporter, tip.SchoolID, tip.UID, m)
		if err != nil {
			return nil, fmt.Errorf("reporter thread: %w", err)
		}
		msg.CounselorID = 0
		out = append(out, msg)
	}
	return out, nil
}

// Speaker is who wrote a message, as its reporter is told. Its value is a
// stable name that pages style by and the chat page's frames carry.
type Speaker string

// The speakers of a reporter's thread.
const (
	SpeakerYou       Speaker = "you"
	SpeakerCounselor Speaker = "counselor"
	SpeakerHotline   Speaker = "hotline"
)

// Label is the speaker's name in both languages.
func (s Speaker) Label() hotline.Label {
	switch s {
	case SpeakerYou:
		return hotline.Label{ZH: "你", EN: "You"}
	case SpeakerCounselor:
		return hotline.Label{ZH: "老师", EN: "Counselor"}
	}
	return hotline.Label{ZH: "热线", EN: "Hotline"}
}

var (
	txtSaid      = hotline.Label{ZH: "%s：%s", EN: "%s: %s"}
	txtPhotoMark = hotline.Label{ZH: "[照片]", EN: "[photo]"}
)

// PhotoMark stands for a photo in a line of text.
func PhotoMark() hotline.Label { return txtPhotoMark }

// Entry is one message of a thread as its reporter sees it.
type Entry struct {
	UID      string
	Speaker  Speaker
	Text     string
	Photo    *hotline.Photo // nil when purged or not opened
	HasPhoto bool
	At       time.Time
}

// Entries renders opened messages for their reporter, in order. Internal
// notes never appear, whoever passes them.
func Entries(msgs []*hotline.Message) []Entry {
	out := make([]Entry, 0, len(msgs))
	for _, m := range msgs {
		if m == nil {
			continue
		}
		e := Entry{UID: m.UID, Text: m.Body, Photo: m.Photo, HasPhoto: m.HasPhoto || m.Photo != nil, At: m.CreatedAt}
		switch m.Author {
		case hotline.AuthorReporter:
			e.Speaker = SpeakerYou
		case hotline.AuthorCounselor:
			e.Speaker = SpeakerCounselor
		case hotline.AuthorSystem:
			e.Speaker = SpeakerHotline
		default:
			continue // notes never reach a reporter
		}
		out = append(out, e)
	}
	return out
}

// Line is the entry as one line of text in lang, such as "老师：[照片] 收到".
func (e Entry) Line(lang hotline.Lang) string {
	body := e.Text
	if e.HasPhoto {
		body = strings.TrimSpace(txtPhotoMark.In(lang) + " " + body)
	}
	return fmt.Sprintf(txtSaid.In(lang), e.Speaker.Label().In(lang), body)
}

// Texts of a counselor's message pushed into a reporter's chat (Telegram),
// where the chat itself is the thread: the report is named by its alias.
var (
	txtPushedReply = hotline.Label{
		ZH: "学校老师回复了你的报告「%s」：\n\n",
		EN: "A counselor at your school replied to your report \"%s\":\n\n",
	}
	txtPushedPhoto = hotline.Label{
		ZH: "学校老师就你的报告「%s」发来一张图片。",
		EN: "A counselor at your school sent a picture about your report \"%s\".",
	}
)

// PushedReply renders a counselor's reply as it arrives in a reporter's
// chat: a header naming the report, then the words.
func PushedReply(lang hotline.Lang, alias, text string) string {
	return fmt.Sprintf(txtPushedReply.In(lang), alias) + text
}

// PushedPhoto is the caption of a counselor's photo that arrives in a
// reporter's chat without words.
func PushedPhoto(lang hotline.Lang, alias string) string {
	return fmt.Sprintf(txtPushedPhoto.In(lang), alias)
}
