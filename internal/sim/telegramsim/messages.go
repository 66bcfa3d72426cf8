package telegramsim

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// chatState is a private chat between the bot and one simulated user.
type chatState struct {
	user      *User
	nextMsgID int
	msgs      []*SentMessage
	byID      map[int]*SentMessage
	blocked   bool
	// changed is closed and renewed when a message of this chat is sent,
	// edited or deleted: its user's waits wake for their own chat only.
	changed chan struct{}
}

// signalChatLocked wakes the waits of ch's user, and every other message
// waiter. s.mu held.
func (s *Server) signalChatLocked(ch *chatState) {
	if ch.changed != nil {
		close(ch.changed)
	}
	ch.changed = make(chan struct{})
	s.signalMessagesLocked()
}

// SentMessage is one message the bot sent (sendMessage or sendPhoto), in its
// current state (edits and deletion are applied in place).
type SentMessage struct {
	// Seq orders all sent messages across chats (1, 2, …).
	Seq int64
	// ChatID and MessageID identify the message.
	ChatID    int64
	MessageID int
	// Method is "sendMessage" or "sendPhoto".
	Method string
	// Text is the text exactly as sent (sendMessage); PlainText is the text
	// (or caption) with HTML markup removed when parse_mode was HTML.
	Text      string
	PlainText string
	ParseMode string
	// Caption and PhotoFileID are set for sendPhoto.
	Caption     string
	PhotoFileID string
	// ReplyMarkup is the raw reply_markup JSON; Keyboard its inline keyboard rows.
	ReplyMarkup json.RawMessage
	Keyboard    [][]Button
	// Params are all request parameters of the last send/edit, as strings.
	Params map[string]string
	// Time is when the message was sent; EditedAt the last edit (zero if none).
	Time     time.Time
	EditedAt time.Time
	// Edits counts editMessageText/editMessageReplyMarkup calls applied.
	Edits int
	// Deleted is set by deleteMessage.
	Deleted bool
	// AnswerLost is set when the send was accepted but its answer was dropped
	// by FaultAnswerLost: a later identical message is then an expected retry,
	// not a bot bug.
	AnswerLost bool
}

// Buttons returns the inline keyboard buttons in row order.
func (m SentMessage) Buttons() []Button {
	var out []Button
	for _, row := range m.Keyboard {
		out = append(out, row...)
	}
	return out
}

// Button finds a button whose label equals labelOrData, else whose
// callback_data equals it.
func (m SentMessage) Button(labelOrData string) (Button, bool) {
	bs := m.Buttons()
	for _, b := range bs {
		if b.Text == labelOrData {
			return b, true
		}
	}
	for _, b := range bs {
		if b.CallbackData != "" && b.CallbackData == labelOrData {
			return b, true
		}
	}
	return Button{}, false
}

// CallbackAnswer is one recorded answerCallbackQuery.
type CallbackAnswer struct {
	QueryID    string
	Text       string
	ShowAlert  bool
	URL        string
	CacheTime  int
	Time       time.Time
	AnswerLost bool
}

// recordLocked stores a new bot message. s.mu held.
func (s *Server) recordLocked(ch *chatState, m *SentMessage) *SentMessage {
	ch.nextMsgID++
	s.seq++
	m.Seq = s.seq
	m.ChatID = ch.user.id
	m.MessageID = ch.nextMsgID
	m.Time = time.Now()
	ch.msgs = append(ch.msgs, m)
	ch.byID[m.MessageID] = m
	s.signalChatLocked(ch)
	return m
}

// editLocked replaces *m with nm (copy-on-write so readers' copies stay valid). s.mu held.
func (s *Server) editLocked(ch *chatState, m *SentMessage, nm SentMessage, c *call) {
	nm.Edits++
	nm.EditedAt = time.Now()
	nm.Params = c.p
	*m = nm
	s.signalChatLocked(ch)
}

// wireLocked renders a recorded message as a Bot API Message. s.mu held.
func (s *Server) wireLocked(ch *chatState, m *SentMessage) *Message {
	me := s.me
	msg := &Message{
		MessageID: m.MessageID,
		From:      &me,
		Chat:      ch.user.chat(),
		Date:      m.Time.Unix(),
	}
	if !m.EditedAt.IsZero() {
		msg.EditDate = m.EditedAt.Unix()
	}
	if m.Method == "sendPhoto" {
		msg.Caption = m.PlainText
		if f := s.files[m.PhotoFileID]; f != nil {
			msg.Photo = []PhotoSize{{FileID: f.id, FileUniqueID: f.uniqueID, Width: 800, Height: 600, FileSize: len(f.data)}}
		}
	} else {
		msg.Text = m.PlainText
	}
	if m.Keyboard != nil {
		msg.ReplyMarkup = m.ReplyMarkup
	}
	return msg
}

// Messages returns copies of the messages the bot sent to chatID, in order.
func (s *Server) Messages(chatID int64) []SentMessage {
	s.mu.Lock()
	defer s.mu.Unlock()
	ch := s.chats[chatID]
	if ch == nil {
		return nil
	}
	out := make([]SentMessage, len(ch.msgs))
	for i, m := range ch.msgs {
		out[i] = *m
	}
	return out
}

// Texts returns the PlainText of every message sent to chatID, in order.
func (s *Server) Texts(chatID int64) []string {
	ms := s.Messages(chatID)
	out := make([]string, len(ms))
	for i, m := range ms {
		out[i] = m.PlainText
	}
	return out
}

// AllMessages returns every message the bot sent to any chat, in Seq order.
func (s *Server) AllMessages() []SentMessage {
	s.mu.Lock()
	var out []SentMessage
	for _, ch := range s.chats {
		for _, m := range ch.msgs {
			out = append(out, *m)
		}
	}
	s.mu.Unlock()
	sortBySeq(out)
	return out
}

func sortBySeq(ms []SentMessage) {
	for i := 1; i < len(ms); i++ {
		for j := i; j > 0 && ms[j].Seq < ms[j-1].Seq; j-- {
			ms[j], ms[j-1] = ms[j-1], ms[j]
		}
	}
}

// ErrClosed is returned by waits when the server is closed.
var ErrClosed = errors.New("telegramsim: server closed")

// wait calls check under s.mu each time something changes until it returns
// true, ctx ends or the server closes.
func (s *Server) wait(ctx context.Context, check func() bool) error {
	s.mu.Lock()
	for {
		if check() {
			s.mu.Unlock()
			return nil
		}
		ch := s.msgSignal
		s.mu.Unlock()
		select {
		case <-ch:
		case <-ctx.Done():
			return ctx.Err()
		case <-s.closed:
			return ErrClosed
		}
		s.mu.Lock()
	}
}

// WaitMessage waits until a message sent to chatID (already sent or future,
// in its current state) satisfies pred (nil = any) and returns the first such.
// Predicates run under the server lock and must not call Server or User methods.
func (s *Server) WaitMessage(ctx context.Context, chatID int64, pred func(SentMessage) bool) (SentMessage, error) {
	var found SentMessage
	err := s.wait(ctx, func() bool {
		ch := s.chats[chatID]
		if ch == nil {
			return false
		}
		for _, m := range ch.msgs {
			if pred == nil || pred(*m) {
				found = *m
				return true
			}
		}
		return false
	})
	if err != nil {
		return SentMessage{}, fmt.Errorf("telegramsim: waiting for a message in chat %d: %w", chatID, err)
	}
	return found, nil
}

// WaitMessages waits until at least n messages were sent to chatID and
// returns all of them, or an error (with those received so far) after timeout.
func (s *Server) WaitMessages(chatID int64, n int, timeout time.Duration) ([]SentMessage, error) {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	err := s.wait(ctx, func() bool {
		ch := s.chats[chatID]
		return ch != nil && len(ch.msgs) >= n
	})
	ms := s.Messages(chatID)
	if err != nil {
		return ms, fmt.Errorf("telegramsim: chat %d got %d of %d messages: %w", chatID, len(ms), n, err)
	}
	return ms, nil
}

// LastKeyboard returns the latest non-deleted message in chatID that carries
// an inline keyboard.
func (s *Server) LastKeyboard(chatID int64) (SentMessage, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	ch := s.chats[chatID]
	if ch == nil {
		return SentMessage{}, false
	}
	for i := len(ch.msgs) - 1; i >= 0; i-- {
		if m := ch.msgs[i]; len(m.Keyboard) > 0 && !m.Deleted {
			return *m, true
		}
	}
	return SentMessage{}, false
}

// CallbackAnswers returns all recorded answerCallbackQuery calls in order.
func (s *Server) CallbackAnswers() []CallbackAnswer {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]CallbackAnswer(nil), s.answers...)
}

// WaitCallbackAnswer waits until the callback query queryID is answered.
func (s *Server) WaitCallbackAnswer(ctx context.Context, queryID string) (CallbackAnswer, error) {
	var found CallbackAnswer
	err := s.wait(ctx, func() bool {
		for _, a := range s.answers {
			if a.QueryID == queryID {
				found = a
				return true
			}
		}
		return false
	})
	if err != nil {
		return CallbackAnswer{}, fmt.Errorf("telegramsim: waiting for answer to callback query %s: %w", queryID, err)
	}
	return found, nil
}

// SetBlocked makes chatID block (true) or unblock the bot: while blocked,
// sending to it fails with 403 "Forbidden: bot was blocked by the user".
func (s *Server) SetBlocked(chatID int64, blocked bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if ch := s.chats[chatID]; ch != nil {
		ch.blocked = blocked
	}
}

// PendingUpdates returns how many updates are queued and not yet confirmed
// (by a later getUpdates offset or a successful webhook delivery).
func (s *Server) PendingUpdates() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.queue)
}

// WaitUpdatesConsumed waits until no update is pending. With getUpdates the
// last batch is confirmed only by the bot's next poll.
func (s *Server) WaitUpdatesConsumed(ctx context.Context) error {
	return s.wait(ctx, func() bool { return len(s.queue) == 0 })
}

// SetKeepUpdates makes getUpdates offsets confirm nothing while on, as if
// every confirmation was lost with the bot in a crash: a restarted bot is
// sent every update since, and must recognise those it applied before.
func (s *Server) SetKeepUpdates(on bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.keepUpdates = on
}
