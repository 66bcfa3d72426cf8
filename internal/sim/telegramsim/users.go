package telegramsim

import (
	"context"
	"encoding/json"
	"fmt"
	"path"
	"strconv"
	"strings"
	"time"
)

// UserOptions describes a simulated Telegram user. Zero fields get defaults.
type UserOptions struct {
	// ID is the user ID, also the private chat ID. Default: a fresh unique ID.
	ID int64
	// FirstName defaults to "Test<N>"; LastName and Username to "" and "user<N>".
	FirstName string
	LastName  string
	Username  string
	// LanguageCode is the client language, e.g. "zh-hans" or "en". Default "en".
	LanguageCode string
}

// User is a simulated Telegram user in a private chat with the bot.
type User struct {
	s    *Server
	id   int64
	info APIUser
	read int // index of the next unread bot message (NextMessage)
}

// NewUser creates a simulated user and its private chat with the bot.
// It panics if opts.ID is already taken.
func (s *Server) NewUser(opts UserOptions) *User {
	s.mu.Lock()
	defer s.mu.Unlock()
	id := opts.ID
	if id == 0 {
		for {
			s.nextUserID++
			if s.chats[s.nextUserID] == nil {
				break
			}
		}
		id = s.nextUserID
	}
	if s.chats[id] != nil {
		panic(fmt.Sprintf("telegramsim: user %d already exists", id))
	}
	n := strconv.FormatInt(id, 10)
	if opts.FirstName == "" {
		opts.FirstName = "Test" + n
	}
	if opts.Username == "" {
		opts.Username = "user" + n
	}
	if opts.LanguageCode == "" {
		opts.LanguageCode = "en"
	}
	u := &User{s: s, id: id, info: APIUser{
		ID: id, FirstName: opts.FirstName, LastName: opts.LastName,
		Username: opts.Username, LanguageCode: opts.LanguageCode,
	}}
	s.chats[id] = &chatState{user: u, byID: map[int]*SentMessage{}, changed: make(chan struct{})}
	return u
}

// ID is the user's ID.
func (u *User) ID() int64 { return u.id }

// ChatID is the ID of the private chat (equal to ID, as in Telegram).
func (u *User) ChatID() int64 { return u.id }

// Info is the user object sent in updates (first_name, username, language_code…).
func (u *User) Info() APIUser { return u.info }

func (u *User) chat() APIChat {
	return APIChat{ID: u.id, Type: "private", FirstName: u.info.FirstName, LastName: u.info.LastName, Username: u.info.Username}
}

// newMessageLocked builds a user message with the next message ID. s.mu held.
func (u *User) newMessageLocked() *Message {
	ch := u.s.chats[u.id]
	ch.nextMsgID++
	from := u.info
	return &Message{MessageID: ch.nextMsgID, From: &from, Chat: u.chat(), Date: time.Now().Unix()}
}

// enqueueLocked assigns an update ID and queues the update. s.mu held.
func (s *Server) enqueueLocked(upd *Update) Update {
	upd.UpdateID = s.nextUpdateID
	s.nextUpdateID++
	body, err := json.Marshal(upd)
	if err != nil {
		panic(err)
	}
	s.queue = append(s.queue, queued{id: upd.UpdateID, kind: upd.kind(), chat: upd.chatID(), body: body})
	s.signalUpdatesLocked()
	return *upd
}

// SendText sends a plain text message (no entities) and returns its update.
func (u *User) SendText(text string) Update {
	u.s.mu.Lock()
	defer u.s.mu.Unlock()
	m := u.newMessageLocked()
	m.Text = text
	return u.s.enqueueLocked(&Update{Message: m})
}

// EditText edits the user's earlier text message (an update of SendText or
// SendCommand) to text, as a client does: an edited_message update with
// the same message id and an edit date.
func (u *User) EditText(sent Update, text string) Update {
	u.s.mu.Lock()
	defer u.s.mu.Unlock()
	if sent.Message == nil {
		panic("telegramsim: EditText of an update without a message")
	}
	m := *sent.Message
	m.Text = text
	m.Entities = nil
	m.EditDate = time.Now().Unix()
	return u.s.enqueueLocked(&Update{EditedMessage: &m})
}

// SendCommand sends text starting with a command, e.g. "/start demo", with a
// bot_command entity covering the command word at offset 0 (as Telegram
// clients do). A missing leading "/" is added.
func (u *User) SendCommand(text string) Update {
	if !strings.HasPrefix(text, "/") {
		text = "/" + text
	}
	cmd := text
	if i := strings.IndexAny(text, " \n\t"); i >= 0 {
		cmd = text[:i]
	}
	u.s.mu.Lock()
	defer u.s.mu.Unlock()
	m := u.newMessageLocked()
	m.Text = text
	m.Entities = []MessageEntity{{Type: "bot_command", Offset: 0, Length: utf16Len(cmd)}}
	return u.s.enqueueLocked(&Update{Message: m})
}

// SendPhoto sends a photo with an optional caption. The bytes are registered
// as files (a thumbnail and a full size, both serving data) so that getFile
// and the download URL work. The update's Message.Photo lists the sizes, largest last.
func (u *User) SendPhoto(data []byte, caption string) Update {
	return u.SendPhotoFile(data, "photo.jpg", caption)
}

// SendPhotoFile is SendPhoto with a file name whose extension is kept in file_path.
func (u *User) SendPhotoFile(data []byte, name, caption string) Update {
	u.s.mu.Lock()
	defer u.s.mu.Unlock()
	m := u.newMessageLocked()
	m.Photo = u.s.registerPhotoLocked(data, path.Ext(name))
	m.Caption = caption
	return u.s.enqueueLocked(&Update{Message: m})
}

// PressButton sends a callback_query with data for the bot message
// messageID, without checking that such a button exists (use it to forge
// callback data). An unknown messageID is sent as an inaccessible message.
// The query ID is upd.CallbackQuery.ID.
func (u *User) PressButton(messageID int, data string) Update {
	u.s.mu.Lock()
	defer u.s.mu.Unlock()
	ch := u.s.chats[u.id]
	var msg *Message
	if m := ch.byID[messageID]; m != nil && !m.Deleted {
		msg = u.s.wireLocked(ch, m)
	} else {
		msg = &Message{MessageID: messageID, Chat: u.chat(), Date: 0}
	}
	u.s.nextQuery++
	qid := strconv.FormatInt(4000000000000000000+u.s.nextQuery, 10)
	u.s.queries[qid] = true
	return u.s.enqueueLocked(&Update{CallbackQuery: &CallbackQuery{
		ID: qid, From: u.info, Message: msg,
		ChatInstance: strconv.FormatInt(-u.id*7919, 10), Data: data,
	}})
}

// Press presses the button labelled labelOrData (or whose callback_data is
// labelOrData) on the latest message with an inline keyboard in this chat.
func (u *User) Press(labelOrData string) (Update, error) {
	m, ok := u.s.LastKeyboard(u.id)
	if !ok {
		return Update{}, fmt.Errorf("telegramsim: chat %d has no inline keyboard", u.id)
	}
	return u.PressOn(m, labelOrData)
}

// PressOn presses the button labelOrData on message m.
func (u *User) PressOn(m SentMessage, labelOrData string) (Update, error) {
	b, ok := m.Button(labelOrData)
	if !ok {
		return Update{}, fmt.Errorf("telegramsim: message %d in chat %d has no button %q (buttons: %v)", m.MessageID, u.id, labelOrData, m.Buttons())
	}
	if b.CallbackData == "" {
		return Update{}, fmt.Errorf("telegramsim: button %q has no callback_data", b.Text)
	}
	return u.PressButton(m.MessageID, b.CallbackData), nil
}

// BlockBot makes this user block the bot (sends then fail with 403).
func (u *User) BlockBot() { u.s.SetBlocked(u.id, true) }

// UnblockBot undoes BlockBot.
func (u *User) UnblockBot() { u.s.SetBlocked(u.id, false) }

// Messages returns the messages the bot sent to this user, in order.
func (u *User) Messages() []SentMessage { return u.s.Messages(u.id) }

// LastKeyboard returns the latest message to this user with an inline keyboard.
func (u *User) LastKeyboard() (SentMessage, bool) { return u.s.LastKeyboard(u.id) }

// NextMessage waits for the next bot message to this user not yet returned
// by NextMessage or WaitMessage (a per-user read cursor).
func (u *User) NextMessage(ctx context.Context) (SentMessage, error) {
	return u.WaitMessage(ctx, nil)
}

// WaitMessage waits for the first unread bot message (see NextMessage) that
// satisfies pred (nil = any) and marks it and all messages before it as read.
func (u *User) WaitMessage(ctx context.Context, pred func(SentMessage) bool) (SentMessage, error) {
	s := u.s
	// Woken by this chat's messages only: with every waiting user woken
	// by every message of every chat, a bench with many Telegram users
	// spent its CPU on wake-ups that found nothing.
	s.mu.Lock()
	ch := s.chats[u.id]
	for {
		for i := u.read; i < len(ch.msgs); i++ {
			if pred == nil || pred(*ch.msgs[i]) {
				found := *ch.msgs[i]
				u.read = i + 1
				s.mu.Unlock()
				return found, nil
			}
		}
		changed := ch.changed
		s.mu.Unlock()
		var err error
		select {
		case <-changed:
		case <-ctx.Done():
			err = ctx.Err()
		case <-s.closed:
			err = ErrClosed
		}
		if err != nil {
			return SentMessage{}, fmt.Errorf("telegramsim: user %d waiting for a message: %w", u.id, err)
		}
		s.mu.Lock()
	}
}
