package bot

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf16"

	tgbot "github.com/go-telegram/bot"
	"github.com/go-telegram/bot/models"

	"hotline/internal/dialog"
	"hotline/internal/hotline"
	"hotline/internal/photo"
)

func decodeUpdate(r io.Reader) (*models.Update, error) {
	var upd models.Update
	if err := json.NewDecoder(r).Decode(&upd); err != nil {
		return nil, err
	}
	return &upd, nil
}

// handle runs one update through dialog.Apply: unless the store says its
// effect was applied before (a redelivery, answered only with the
// conversation's current question: see firstPrompt), it becomes a dialog
// event, the dialog persists its effect with the update's key in the same
// transaction, done(err) tells
// the poller or webhook it may confirm the update, and the replies go out
// in order. A panic is recovered: it would otherwise kill the whole server.
//
// One update may cause several write transactions (a follow-up is stored,
// then the conversation saved; today a submission, then the conversation).
// The key goes with the first, so a redelivery after a crash between them
// is recognised and not applied again; what the later ones would have
// written is the conversation's bookkeeping (its step, active tip, time),
// which the reporter's next message brings up to date. Submitting and
// saving in one transaction (the submission id) closes that gap for
// reports.
func (b *Bot) handle(ctx context.Context, upd *models.Update, done func(error)) {
	chat, _ := chatOf(upd)
	lang := langOf(upd)
	var once sync.Once
	settle := func(err error) { once.Do(func() { done(err) }) }
	defer func() {
		if r := recover(); r != nil {
			b.panics.Add(1)
			// The panic value may hold content: log only that it happened.
			b.log.Error("bot: update handler panicked", "update", updateKind(upd))
			settle(nil)
			func() {
				defer func() { recover() }()
				b.sendText(ctx, chat, hotline.ErrorMessage(errors.New("panic"), lang), nil)
			}()
		}
	}()
	defer settle(nil)
	defer b.handled.Add(1)

	key := dialog.Key{Channel: hotline.ChannelTelegram, ChatID: chat}
	out, err := dialog.Apply(ctx, b.dialog, b.cfg.Updates, key, updateKey(upd.ID), dialog.Delivery{
		Lang:     lang,
		AskAgain: func() bool { return chat != 0 && b.conversational(upd) && b.firstPrompt(chat) },
		Event: func(ctx context.Context) (*dialog.Event, []dialog.Reply, error) {
			b.unprompt(chat)
			if m := upd.EditedMessage; m != nil {
				// An edit never reaches the school: say so, so that the
				// reporter sends what they changed again.
				if m.Chat.Type == models.ChatTypePrivate {
					b.sendText(ctx, chat, txtEdited.In(lang), nil)
				}
				return nil, nil, nil
			}
			ev, ok := b.event(ctx, upd, chat, lang)
			if !ok {
				return nil, nil, nil
			}
			ev.BotName = b.Username()
			return &ev, nil, nil
		},
	})
	switch {
	case out.Again:
		b.redelivered.Add(1)
		if err != nil {
			b.log.Warn("bot: conversation not readable for a redelivered update", "code", hotline.ErrorCode(err))
			return
		}
		b.sendReplies(ctx, chat, out.Replies)
		return
	case out.Duplicate:
		// Another delivery of this update stored its effect first: this
		// one applied nothing, and its replies would be wrong.
		b.redelivered.Add(1)
		return
	case errors.Is(err, dialog.ErrNotApplied):
		// Nothing of it was stored: it is not confirmed, and comes back
		// (polling handles it again here; a webhook's 503 has Telegram
		// send it again). The reporter hears that once, and nothing that
		// says it was kept.
		b.log.Warn("bot: update not applied; it will be handled again", "update", updateKind(upd), "code", hotline.ErrorCode(err))
		settle(err)
		if b.firstFailure(upd.ID) {
			b.sendReplies(ctx, chat, notAppliedReplies(out.Replies, lang))
		}
		return
	case err != nil:
		b.log.Error("bot: conversation could not be saved", "update", updateKind(upd), "code", hotline.ErrorCode(err))
	}
	settle(err)
	b.sendReplies(ctx, chat, out.Replies)
}

// maxPrompted bounds the chats remembered as prompted; past it they are
// forgotten, which costs at most a question asked twice. It bounds the
// updates remembered as failed the same way.
const maxPrompted = 4096

// firstFailure reports whether update id failed for the first time, so
// that its reporter is told once however often it is tried again (in
// memory: after a restart they may be told once more).
func (b *Bot) firstFailure(id int64) bool {
	b.promptedMu.Lock()
	defer b.promptedMu.Unlock()
	if b.failed[id] {
		return false
	}
	if b.failed == nil || len(b.failed) >= maxPrompted {
		b.failed = map[int64]bool{}
	}
	b.failed[id] = true
	return true
}

// notAppliedReplies are the answer to an update that will be handled
// again: the safety guidance the dialog gave, then the transport's own
// "not saved yet, it comes by itself" (the dialog's "send it again" is
// for a web page, which does not resend).
func notAppliedReplies(replies []dialog.Reply, lang hotline.Lang) []dialog.Reply {
	var out []dialog.Reply
	for _, r := range replies {
		if r.Kind == dialog.ReplySafety {
			out = append(out, r)
		}
		if r.Lang != "" {
			lang = r.Lang
		}
	}
	return append(out, dialog.Reply{Kind: dialog.ReplyError, Text: txtNotAppliedYet.In(lang), Lang: lang})
}

// firstPrompt reports whether chat may be asked its current question for
// a redelivered update (its effect was stored, then the process stopped,
// perhaps before the answer left), and remembers that it was: several
// redelivered updates of a chat get one question, until the chat is heard
// from anew. If the first answer did arrive, the reporter sees the
// question again.
func (b *Bot) firstPrompt(chat int64) bool {
	b.promptedMu.Lock()
	defer b.promptedMu.Unlock()
	if b.prompted[chat] {
		return false
	}
	if b.prompted == nil || len(b.prompted) >= maxPrompted {
		b.prompted = map[int64]bool{}
	}
	b.prompted[chat] = true
	return true
}

// unprompt forgets that chat was prompted: it is heard from anew.
func (b *Bot) unprompt(chat int64) {
	b.promptedMu.Lock()
	delete(b.prompted, chat)
	b.promptedMu.Unlock()
}

// conversational reports whether the event method would make upd a dialog
// event, judged without side effects (no photo is fetched): updates that
// were never part of a conversation (groups, /link, edits, unsupported
// content) are not asked again.
func (b *Bot) conversational(upd *models.Update) bool {
	if cq := upd.CallbackQuery; cq != nil {
		return cq.Message.Message == nil || cq.Message.Message.Chat.Type == models.ChatTypePrivate
	}
	m := upd.Message
	if m == nil || m.Chat.Type != models.ChatTypePrivate {
		return false
	}
	switch {
	case m.Text != "":
		if isCommand(m) {
			name, _ := splitCommand(m.Text)
			return name != "link" || b.cfg.LinkStaff == nil
		}
		return true
	case len(m.Photo) > 0:
		return true
	}
	return m.Document != nil && isImage(m.Document.MimeType)
}

// updateKey names an update in the store's record of handled updates.
func updateKey(id int64) string { return "tg:" + strconv.FormatInt(id, 10) }

// langOf is the reporter's client language, a hint for the first contact
// and for the transport's own few texts.
func langOf(upd *models.Update) hotline.Lang {
	switch {
	case upd.Message != nil && upd.Message.From != nil:
		return hotline.ParseLang(upd.Message.From.LanguageCode)
	case upd.EditedMessage != nil && upd.EditedMessage.From != nil:
		return hotline.ParseLang(upd.EditedMessage.From.LanguageCode)
	case upd.CallbackQuery != nil:
		return hotline.ParseLang(upd.CallbackQuery.From.LanguageCode)
	}
	return hotline.LangZH
}

func updateKind(upd *models.Update) string {
	switch {
	case upd.CallbackQuery != nil:
		return "callback_query"
	case upd.EditedMessage != nil:
		return "edited_message"
	case upd.Message != nil && len(upd.Message.Photo) > 0:
		return "photo"
	case upd.Message != nil && upd.Message.Document != nil:
		return "document"
	case upd.Message != nil:
		return "message"
	}
	return "other"
}

// event turns an update into a dialog event. Only the chat id, the text,
// the button data, the photo and the language code are read: nothing else
// about the user (id, names, username) is kept.
func (b *Bot) event(ctx context.Context, upd *models.Update, chat int64, lang hotline.Lang) (dialog.Event, bool) {
	if cq := upd.CallbackQuery; cq != nil {
		// Answer at once: the reporter's client shows a spinner until
		// then. Beside the dialog, not before it, and not holding the
		// chat's next update: the answer is a round trip to Telegram
		// that neither needs to wait for. Shutdown waits for it (Run).
		b.answers.Go(func() { b.answerCallback(ctx, cq.ID) })
		if cq.Message.Message != nil && cq.Message.Message.Chat.Type != models.ChatTypePrivate {
			return dialog.Event{}, false
		}
		return dialog.Event{Kind: dialog.EventChoice, Choice: cq.Data, Lang: lang}, true
	}
	m := upd.Message
	if m == nil {
		return dialog.Event{}, false
	}
	if m.Chat.Type != models.ChatTypePrivate {
		// A report in a group would be read by the group.
		if isCommand(m) {
			b.sendText(ctx, chat, txtPrivateOnly.In(lang), nil)
		}
		return dialog.Event{}, false
	}
	switch {
	case m.Text != "":
		if isCommand(m) {
			name, arg := splitCommand(m.Text)
			if name == "link" && b.cfg.LinkStaff != nil {
				// Staff linking their chat for alerts: never part of a
				// reporter's conversation, so the code is not kept as a draft.
				b.linkStaff(ctx, chat, arg, lang)
				return dialog.Event{}, false
			}
			return dialog.Event{Kind: dialog.EventCommand, Command: name, Text: arg, Lang: lang}, true
		}
		return dialog.Event{Kind: dialog.EventText, Text: m.Text, Lang: lang}, true
	case len(m.Photo) > 0 || (m.Document != nil && isImage(m.Document.MimeType)):
		photo, err := b.fetchPhoto(ctx, m)
		if err != nil {
			msg := txtPhotoFailed.In(lang)
			if code := hotline.ErrorCode(err); code == hotline.ETOOLARGE || code == hotline.EINVALID {
				msg = hotline.ErrorMessage(err, lang)
			} else {
				b.log.Warn("bot: photo not fetched", "kind", errKind(err))
			}
			b.sendText(ctx, chat, msg, nil)
			return dialog.Event{}, false
		}
		return dialog.Event{Kind: dialog.EventPhoto, Photo: photo, Text: m.Caption, Lang: lang}, true
	}
	b.sendText(ctx, chat, txtUnsupported.In(lang), nil)
	return dialog.Event{}, false
}

func isImage(mime string) bool {
	return mime == "image/jpeg" || mime == "image/png" || mime == "image/gif"
}

// isCommand reports whether the message starts with a bot command, by its
// entity as Telegram marks it, or by a leading slash.
func isCommand(m *models.Message) bool {
	for _, e := range m.Entities {
		if e.Type == models.MessageEntityTypeBotCommand && e.Offset == 0 {
			return true
		}
	}
	return strings.HasPrefix(m.Text, "/") && len(m.Text) > 1
}

// splitCommand splits "/start@HotlineBot demo" into "start" and "demo".
func splitCommand(text string) (string, string) {
	word, arg, _ := strings.Cut(strings.TrimSpace(text), " ")
	word = strings.TrimPrefix(word, "/")
	word, _, _ = strings.Cut(word, "@")
	return strings.ToLower(word), strings.TrimSpace(arg)
}

// fetchPhoto downloads the largest photo size that fits the limit and
// cleans it: decoded within pixel limits and re-encoded, so EXIF and GPS
// are gone before anything is sealed.
func (b *Bot) fetchPhoto(ctx context.Context, m *models.Message) (*hotline.Photo, error) {
	var fileID string
	if len(m.Photo) > 0 {
		for _, p := range m.Photo {
			if p.FileSize <= photo.MaxBytes {
				fileID = p.FileID // sizes come smallest first
			}
		}
		if fileID == "" {
			return nil, hotline.ErrPhotoTooLarge
		}
	} else {
		if m.Document.FileSize > photo.MaxBytes {
			return nil, hotline.ErrPhotoTooLarge
		}
		fileID = m.Document.FileID
	}
	var data []byte
	err := b.withRetry(ctx, func(cctx context.Context) error {
		f, err := b.api.GetFile(cctx, &tgbot.GetFileParams{FileID: fileID})
		if err != nil {
			return err
		}
		if f.FileSize > photo.MaxBytes {
			return hotline.ErrPhotoTooLarge
		}
		data, err = b.download(cctx, b.api.FileDownloadLink(f))
		return err
	})
	if err != nil {
		return nil, err
	}
	return photo.CleanContext(ctx, data)
}

// errDownload is a failed file download; its cause is not kept because
// it would carry the URL, and with it the token.
var errDownload = errors.New("download failed")

func (b *Bot) download(ctx context.Context, link string) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, link, nil)
	if err != nil {
		return nil, errDownload
	}
	resp, err := b.cfg.HTTPClient.Do(req)
	if err != nil {
		return nil, errDownload
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, &statusError{resp.StatusCode}
	}
	data, err := io.ReadAll(io.LimitReader(resp.Body, photo.MaxBytes+1))
	if err != nil {
		return nil, errDownload
	}
	if len(data) > photo.MaxBytes {
		return nil, hotline.ErrPhotoTooLarge
	}
	return data, nil
}

type statusError struct{ code int }

func (e *statusError) Error() string { return fmt.Sprintf("status %d", e.code) }

func (b *Bot) answerCallback(ctx context.Context, id string) {
	defer func() {
		// Run beside the handler, a panic here is not the handler's to
		// recover: it would kill the server.
		if r := recover(); r != nil {
			b.panics.Add(1)
			b.log.Error("bot: callback answer panicked")
		}
	}()
	err := b.withRetry(ctx, func(cctx context.Context) error {
		return b.call(cctx, "answerCallbackQuery", &tgbot.AnswerCallbackQueryParams{CallbackQueryID: id})
	})
	if err != nil {
		b.log.Debug("bot: callback query not answered", "kind", errKind(err))
	}
}

// sendReplies renders the dialog's replies in order. Receipts are for the
// web only and never go to Telegram.
func (b *Bot) sendReplies(ctx context.Context, chat int64, replies []dialog.Reply) {
	for _, r := range replies {
		switch {
		case r.Kind == dialog.ReplyReceipt:
			continue
		case r.Photo != nil:
			if err := b.sendPhoto(ctx, chat, r.Photo, r.Text); err != nil {
				return
			}
		default:
			if err := b.sendText(ctx, chat, r.Text, keyboard(r.Buttons)); err != nil {
				return // the chat is gone, or Telegram is: the rest would fail too
			}
		}
	}
}

func keyboard(rows [][]hotline.Button) models.ReplyMarkup {
	if len(rows) == 0 {
		return nil
	}
	kb := make([][]models.InlineKeyboardButton, 0, len(rows))
	for _, row := range rows {
		r := make([]models.InlineKeyboardButton, 0, len(row))
		for _, btn := range row {
			r = append(r, models.InlineKeyboardButton{Text: btn.Label, CallbackData: btn.Data})
		}
		kb = append(kb, r)
	}
	return &models.InlineKeyboardMarkup{InlineKeyboard: kb}
}

// Telegram's limits, in UTF-16 code units.
const (
	maxText    = 4096
	maxCaption = 1024
)

// sendText sends text as plain text (no parse mode: nothing a reporter or
// counselor writes can be read as markup), split when too long; the
// keyboard goes with the last part.
func (b *Bot) sendText(ctx context.Context, chat int64, text string, markup models.ReplyMarkup) error {
	parts := splitText(text, maxText)
	for i, part := range parts {
		p := &tgbot.SendMessageParams{ChatID: chat, Text: part}
		if i == len(parts)-1 && markup != nil {
			p.ReplyMarkup = markup
		}
		if err := b.withRetry(ctx, func(cctx context.Context) error {
			return b.call(cctx, "sendMessage", p)
		}); err != nil {
			b.log.Warn("bot: reply not sent", "kind", errKind(err))
			return err
		}
	}
	return nil
}

func (b *Bot) sendPhoto(ctx context.Context, chat int64, photo *hotline.Photo, caption string) error {
	name := "photo.jpg"
	if photo.Type == "image/png" {
		name = "photo.png"
	}
	short := caption
	if utf16Len(short) > maxCaption {
		short = ""
	}
	err := b.withRetry(ctx, func(cctx context.Context) error {
		_, err := b.api.SendPhoto(cctx, &tgbot.SendPhotoParams{ChatID: chat, Photo: &models.InputFileUpload{Filename: name, Data: strings.NewReader(string(photo.Data))}, Caption: short})
		return err
	})
	if err != nil {
		b.log.Warn("bot: photo not sent", "kind", errKind(err))
		return err
	}
	if short == "" && caption != "" {
		return b.sendText(ctx, chat, caption, nil)
	}
	return nil
}

// withRetry calls fn with a per-call deadline, retrying network errors and
// 5xx with backoff and 429 after retry_after, up to SendAttempts tries.
func (b *Bot) withRetry(ctx context.Context, fn func(context.Context) error) error {
	var err error
	for attempt := 0; attempt < b.cfg.SendAttempts; attempt++ {
		cctx, cancel := context.WithTimeout(ctx, b.cfg.CallTimeout)
		err = fn(cctx)
		cancel()
		if err == nil || !retryable(err) || ctx.Err() != nil {
			return err
		}
		wait := b.cfg.RetryBase << attempt
		var tm *tgbot.TooManyRequestsError
		if errors.As(err, &tm) {
			wait = time.Duration(max(tm.RetryAfter, 1)) * time.Second
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(wait):
		}
	}
	return err
}

// retryable tells transient failures (network, 5xx, 429) from answers that
// will not change (403 blocked, 400 bad request, photo too large).
func retryable(err error) bool {
	var he *hotline.Error
	switch {
	case errors.As(err, &he):
		return false
	case errors.Is(err, tgbot.ErrorForbidden), errors.Is(err, tgbot.ErrorBadRequest),
		errors.Is(err, tgbot.ErrorUnauthorized), errors.Is(err, tgbot.ErrorNotFound):
		return false
	}
	var se *statusError
	if errors.As(err, &se) {
		return se.code >= 500 || se.code == http.StatusTooManyRequests
	}
	return true
}

// errKind names an error for a log line without its text, which may carry
// a URL with the token, or a response body with message content.
func errKind(err error) string {
	var tm *tgbot.TooManyRequestsError
	var ne net.Error
	var he *hotline.Error
	var se *statusError
	switch {
	case err == nil:
		return ""
	case errors.As(err, &he):
		return he.Code
	case errors.As(err, &tm):
		return "too_many_requests"
	case errors.Is(err, tgbot.ErrorForbidden):
		return "forbidden"
	case errors.Is(err, tgbot.ErrorBadRequest):
		return "bad_request"
	case errors.Is(err, tgbot.ErrorUnauthorized):
		return "unauthorized"
	case errors.Is(err, tgbot.ErrorNotFound):
		return "not_found"
	case errors.Is(err, tgbot.ErrorConflict):
		return "conflict"
	case errors.Is(err, context.DeadlineExceeded):
		return "timeout"
	case errors.Is(err, context.Canceled):
		return "canceled"
	case errors.As(err, &se):
		return fmt.Sprintf("http_%d", se.code)
	case errors.Is(err, errDownload), errors.As(err, &ne):
		return "network"
	case strings.Contains(err.Error(), "error response from telegram"):
		return "server_error"
	}
	return "other"
}

// onLibraryError logs the library's own errors (failed polls) by kind only.
func (b *Bot) onLibraryError(err error) {
	if errors.Is(err, context.Canceled) {
		return
	}
	b.log.Warn("bot: telegram call failed", "kind", errKind(err))
}

func utf16Len(s string) int {
	n := 0
	for _, r := range s {
		n += utf16.RuneLen(r)
	}
	return n
}

// splitText cuts s into parts of at most limit UTF-16 units, at a line
// break when there is one in the second half of a part.
func splitText(s string, limit int) []string {
	if utf16Len(s) <= limit {
		return []string{s}
	}
	var parts []string
	for utf16Len(s) > limit {
		n, cut, lastBreak := 0, 0, -1
		for i, r := range s {
			w := utf16.RuneLen(r)
			if n+w > limit {
				cut = i
				break
			}
			n += w
			if r == '\n' && n > limit/2 {
				lastBreak = i + 1
			}
		}
		if lastBreak > 0 {
			cut = lastBreak
		}
		parts = append(parts, s[:cut])
		s = s[cut:]
	}
	if s != "" {
		parts = append(parts, s)
	}
	return parts
}

// linkStaff links this chat to the staff member whose inbox showed code.
func (b *Bot) linkStaff(ctx context.Context, chat int64, code string, lang hotline.Lang) {
	if err := b.cfg.LinkStaff(ctx, code, chat); err != nil {
		if hotline.ErrorCode(err) == hotline.EINTERNAL {
			b.log.Error("bot: staff link failed", "code", hotline.ErrorCode(err))
		}
		b.sendText(ctx, chat, hotline.ErrorMessage(err, lang), nil)
		return
	}
	b.sendText(ctx, chat, txtStaffLinked.In(lang), nil)
}
