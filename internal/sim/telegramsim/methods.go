package telegramsim

import (
	"encoding/json"
	"fmt"
	"image"
	_ "image/gif"  // register decoders for photo sizes
	_ "image/jpeg" // register decoders for photo sizes
	_ "image/png"  // register decoders for photo sizes
	"path"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf16"
)

// utf16Len is the length of s in UTF-16 code units, as Telegram counts
// (without building the encoding: it runs on every message sent).
func utf16Len(s string) int {
	n := 0
	for _, r := range s {
		n += utf16.RuneLen(r)
	}
	return n
}

func (s *Server) apiGetMe(c *call) (any, *apiError) { return s.me, nil }

func (s *Server) apiGetUpdates(c *call) (any, *apiError) {
	offset, _ := c.int64("offset")
	limit, ok := c.int64("limit")
	if !ok || limit <= 0 || limit > 100 {
		limit = 100
	}
	timeout, _ := c.int64("timeout")
	var allowed []string
	if c.has("allowed_updates") {
		if err := json.Unmarshal([]byte(c.str("allowed_updates")), &allowed); err != nil {
			return nil, badRequest("can't parse allowed updates")
		}
	}
	deadline := time.Now().Add(time.Duration(timeout) * time.Second)

	s.mu.Lock()
	if s.webhook.URL != "" {
		s.mu.Unlock()
		return nil, &apiError{code: 409, desc: "Conflict: can't use getUpdates method while webhook is active; use deleteWebhook to delete the webhook first"}
	}
	s.pollGen++
	gen := s.pollGen
	s.signalUpdatesLocked() // terminate an older poll
	if c.has("allowed_updates") {
		s.allowed = allowed
	}
	s.confirmLocked(offset)
	var timer *time.Timer
	defer func() {
		if timer != nil {
			timer.Stop()
		}
	}()
	for {
		if gen != s.pollGen {
			s.mu.Unlock()
			return nil, &apiError{code: 409, desc: "Conflict: terminated by other getUpdates request; make sure that only one bot instance is running"}
		}
		batch := s.collectLocked(int(limit))
		wait := time.Until(deadline)
		if len(batch) > 0 || wait <= 0 {
			s.mu.Unlock()
			return joinRaw(batch), nil
		}
		ch := s.updSignal
		s.mu.Unlock()
		if timer == nil {
			timer = time.NewTimer(wait)
		}
		select {
		case <-ch:
		case <-timer.C:
			deadline = time.Now()
		case <-c.ctx.Done():
			return json.RawMessage("[]"), nil
		case <-s.closed:
			return json.RawMessage("[]"), nil
		}
		s.mu.Lock()
	}
}

func joinRaw(batch [][]byte) json.RawMessage {
	if len(batch) == 0 {
		return json.RawMessage("[]")
	}
	n := 2
	for _, b := range batch {
		n += len(b) + 1
	}
	out := make([]byte, 0, n)
	out = append(out, '[')
	for i, b := range batch {
		if i > 0 {
			out = append(out, ',')
		}
		out = append(out, b...)
	}
	return append(out, ']')
}

// confirmLocked forgets updates confirmed by offset. s.mu held.
func (s *Server) confirmLocked(offset int64) {
	if s.keepUpdates {
		return
	}
	i := 0
	switch {
	case offset > 0:
		for i < len(s.queue) && s.queue[i].id < offset {
			i++
		}
	case offset < 0:
		if keep := int(-offset); keep < len(s.queue) {
			i = len(s.queue) - keep
		}
	}
	if i > 0 {
		s.queue = append([]queued(nil), s.queue[i:]...)
		s.signalMessagesLocked() // WaitUpdatesConsumed waiters
	}
}

// collectLocked returns up to limit pending updates allowed by
// allowed_updates, forgetting disallowed ones. s.mu held.
func (s *Server) collectLocked(limit int) [][]byte {
	// Every poll comes here: the queue is copied only when an update is
	// to be forgotten.
	if len(s.allowed) > 0 && slices.ContainsFunc(s.queue, func(q queued) bool { return !s.allowedLocked(q.kind) }) {
		kept := s.queue[:0:0]
		for _, q := range s.queue {
			if s.allowedLocked(q.kind) {
				kept = append(kept, q)
			}
		}
		s.queue = kept
	}
	n := min(limit, len(s.queue))
	out := make([][]byte, n)
	for i := range n {
		out[i] = s.queue[i].body
	}
	return out
}

func (s *Server) allowedLocked(kind string) bool {
	if len(s.allowed) == 0 {
		return true
	}
	for _, a := range s.allowed {
		if a == kind {
			return true
		}
	}
	return false
}

var secretTokenRE = regexp.MustCompile(`^[A-Za-z0-9_-]{1,256}$`)

func (s *Server) apiSetWebhook(c *call) (any, *apiError) {
	u := c.str("url")
	secret := c.str("secret_token")
	if secret != "" && !secretTokenRE.MatchString(secret) {
		return nil, badRequest("secret token contains unallowed characters")
	}
	if u != "" && !strings.HasPrefix(u, "http://") && !strings.HasPrefix(u, "https://") {
		return nil, badRequest("bad webhook: An HTTPS URL must be provided for webhook")
	}
	var allowed []string
	if c.has("allowed_updates") {
		if err := json.Unmarshal([]byte(c.str("allowed_updates")), &allowed); err != nil {
			return nil, badRequest("can't parse allowed updates")
		}
	}
	maxConn, _ := c.int64("max_connections")
	s.mu.Lock()
	defer s.mu.Unlock()
	if c.bool("drop_pending_updates") {
		s.queue = nil
	}
	s.pollGen++
	s.webhook = WebhookInfo{URL: u, SecretToken: secret, MaxConnections: int(maxConn), AllowedUpdates: allowed}
	if c.has("allowed_updates") {
		s.allowed = allowed
	}
	s.signalUpdatesLocked()
	s.signalHookLocked()
	return true, nil
}

func (s *Server) apiDeleteWebhook(c *call) (any, *apiError) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if c.bool("drop_pending_updates") {
		s.queue = nil
	}
	s.webhook = WebhookInfo{}
	s.signalUpdatesLocked()
	s.signalHookLocked()
	return true, nil
}

func (s *Server) apiGetWebhookInfo(c *call) (any, *apiError) {
	s.mu.Lock()
	defer s.mu.Unlock()
	wi := s.webhook
	wi.PendingUpdateCount = len(s.queue)
	return wi, nil
}

// chatForLocked resolves chat_id. s.mu held.
func (s *Server) chatForLocked(c *call) (*chatState, *apiError) {
	raw := c.str("chat_id")
	if raw == "" {
		return nil, badRequest("chat_id is empty")
	}
	id, err := strconv.ParseInt(strings.Trim(raw, `"`), 10, 64)
	if err != nil {
		return nil, errChatNotFound
	}
	ch := s.chats[id]
	if ch == nil {
		return nil, errChatNotFound
	}
	return ch, nil
}

// parseMarkup validates reply_markup and extracts the inline keyboard.
func parseMarkup(raw string) (json.RawMessage, [][]Button, *apiError) {
	if raw == "" {
		return nil, nil, nil
	}
	var rm struct {
		InlineKeyboard [][]Button `json:"inline_keyboard"`
	}
	if err := json.Unmarshal([]byte(raw), &rm); err != nil {
		return nil, nil, badRequest("can't parse reply keyboard markup JSON object")
	}
	for _, row := range rm.InlineKeyboard {
		for _, b := range row {
			if b.Text == "" {
				return nil, nil, badRequest("text buttons are unallowed in the inline keyboard")
			}
			if len(b.CallbackData) > 64 {
				return nil, nil, badRequest("BUTTON_DATA_INVALID")
			}
		}
	}
	if rm.InlineKeyboard == nil {
		// Reply keyboards, ForceReply, ReplyKeyboardRemove: accepted, not echoed.
		return json.RawMessage(raw), nil, nil
	}
	return json.RawMessage(raw), rm.InlineKeyboard, nil
}

// formatText validates text for parse_mode and returns the plain text.
func (s *Server) formatText(text, parseMode string) (string, *apiError) {
	if strings.EqualFold(parseMode, "HTML") && !s.cfg.NoEntityCheck {
		plain, msg := checkHTML(text)
		if msg != "" {
			return "", badRequest("can't parse entities: %s", msg)
		}
		return plain, nil
	}
	return text, nil
}

func (s *Server) apiSendMessage(c *call) (any, *apiError) {
	text := c.str("text")
	plain, aerr := s.formatText(text, c.str("parse_mode"))
	if aerr != nil {
		return nil, aerr
	}
	if strings.TrimSpace(plain) == "" {
		return nil, badRequest("message text is empty")
	}
	if utf16Len(plain) > 4096 {
		return nil, badRequest("message is too long")
	}
	raw, kb, aerr := parseMarkup(c.str("reply_markup"))
	if aerr != nil {
		return nil, aerr
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	ch, aerr := s.chatForLocked(c)
	if aerr != nil {
		return nil, aerr
	}
	if ch.blocked {
		return nil, errBlocked
	}
	m := s.recordLocked(ch, &SentMessage{
		Method: "sendMessage", Text: text, PlainText: plain, ParseMode: c.str("parse_mode"),
		ReplyMarkup: raw, Keyboard: kb, Params: c.p, AnswerLost: c.lost,
	})
	return s.wireLocked(ch, m), nil
}

func (s *Server) apiSendPhoto(c *call) (any, *apiError) {
	caption := c.str("caption")
	plain, aerr := s.formatText(caption, c.str("parse_mode"))
	if aerr != nil {
		return nil, aerr
	}
	if utf16Len(plain) > 1024 {
		return nil, badRequest("message caption is too long")
	}
	raw, kb, aerr := parseMarkup(c.str("reply_markup"))
	if aerr != nil {
		return nil, aerr
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	ch, aerr := s.chatForLocked(c)
	if aerr != nil {
		return nil, aerr
	}
	if ch.blocked {
		return nil, errBlocked
	}
	var sizes []PhotoSize
	if data, ok := c.files["photo"]; ok {
		sizes = s.registerPhotoLocked(data, path.Ext(c.fname["photo"]))
	} else if id := strings.TrimPrefix(c.str("photo"), "attach://"); id != "" {
		if strings.HasPrefix(c.str("photo"), "attach://") {
			data, ok := c.files[id]
			if !ok {
				return nil, badRequest("wrong file identifier/HTTP URL specified")
			}
			sizes = s.registerPhotoLocked(data, path.Ext(c.fname[id]))
		} else if f := s.files[id]; f != nil {
			sizes = []PhotoSize{{FileID: f.id, FileUniqueID: f.uniqueID, Width: 800, Height: 600, FileSize: len(f.data)}}
		} else {
			return nil, badRequest("wrong file identifier/HTTP URL specified")
		}
	} else {
		return nil, badRequest("there is no photo in the request")
	}
	m := s.recordLocked(ch, &SentMessage{
		Method: "sendPhoto", Caption: caption, PlainText: plain, ParseMode: c.str("parse_mode"),
		PhotoFileID: sizes[len(sizes)-1].FileID, ReplyMarkup: raw, Keyboard: kb, Params: c.p, AnswerLost: c.lost,
	})
	msg := s.wireLocked(ch, m)
	msg.Photo = sizes
	return msg, nil
}

// findMessageLocked resolves chat_id + message_id for edits. s.mu held.
func (s *Server) findMessageLocked(c *call, what string) (*chatState, *SentMessage, *apiError) {
	if c.str("inline_message_id") != "" {
		return nil, nil, badRequest("MESSAGE_ID_INVALID")
	}
	ch, aerr := s.chatForLocked(c)
	if aerr != nil {
		return nil, nil, aerr
	}
	if ch.blocked {
		return nil, nil, errBlocked
	}
	id, ok := c.int64("message_id")
	if !ok {
		return nil, nil, badRequest("message identifier is not specified")
	}
	m := ch.byID[int(id)]
	if m == nil || m.Deleted {
		return nil, nil, badRequest("message to %s not found", what)
	}
	return ch, m, nil
}

func (s *Server) apiEditMessageText(c *call) (any, *apiError) {
	text := c.str("text")
	plain, aerr := s.formatText(text, c.str("parse_mode"))
	if aerr != nil {
		return nil, aerr
	}
	if strings.TrimSpace(plain) == "" {
		return nil, badRequest("message text is empty")
	}
	if utf16Len(plain) > 4096 {
		return nil, badRequest("MESSAGE_TOO_LONG")
	}
	raw, kb, aerr := parseMarkup(c.str("reply_markup"))
	if aerr != nil {
		return nil, aerr
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	ch, m, aerr := s.findMessageLocked(c, "edit")
	if aerr != nil {
		return nil, aerr
	}
	if m.Method != "sendMessage" {
		return nil, badRequest("there is no text in the message to edit")
	}
	if m.PlainText == plain && string(m.ReplyMarkup) == string(raw) {
		return nil, badRequest("message is not modified: specified new message content and reply markup are exactly the same as a current content and reply markup of the message")
	}
	nm := *m
	nm.Text, nm.PlainText, nm.ParseMode = text, plain, c.str("parse_mode")
	nm.ReplyMarkup, nm.Keyboard = raw, kb
	s.editLocked(ch, m, nm, c)
	return s.wireLocked(ch, m), nil
}

func (s *Server) apiEditMessageReplyMarkup(c *call) (any, *apiError) {
	raw, kb, aerr := parseMarkup(c.str("reply_markup"))
	if aerr != nil {
		return nil, aerr
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	ch, m, aerr := s.findMessageLocked(c, "edit")
	if aerr != nil {
		return nil, aerr
	}
	if string(m.ReplyMarkup) == string(raw) {
		return nil, badRequest("message is not modified: specified new message content and reply markup are exactly the same as a current content and reply markup of the message")
	}
	nm := *m
	nm.ReplyMarkup, nm.Keyboard = raw, kb
	s.editLocked(ch, m, nm, c)
	return s.wireLocked(ch, m), nil
}

func (s *Server) apiDeleteMessage(c *call) (any, *apiError) {
	s.mu.Lock()
	defer s.mu.Unlock()
	ch, aerr := s.chatForLocked(c)
	if aerr != nil {
		return nil, aerr
	}
	id, _ := c.int64("message_id")
	m := ch.byID[int(id)]
	if m == nil || m.Deleted {
		return nil, badRequest("message to delete not found")
	}
	nm := *m
	nm.Deleted = true
	*m = nm
	s.signalChatLocked(ch)
	return true, nil
}

func (s *Server) apiSendChatAction(c *call) (any, *apiError) {
	s.mu.Lock()
	defer s.mu.Unlock()
	ch, aerr := s.chatForLocked(c)
	if aerr != nil {
		return nil, aerr
	}
	if ch.blocked {
		return nil, errBlocked
	}
	return true, nil
}

func (s *Server) apiAnswerCallbackQuery(c *call) (any, *apiError) {
	id := c.str("callback_query_id")
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.queries[id] {
		return nil, badRequest("query is too old and response timeout expired or query ID is invalid")
	}
	delete(s.queries, id)
	cacheTime, _ := c.int64("cache_time")
	s.answers = append(s.answers, CallbackAnswer{
		QueryID: id, Text: c.str("text"), ShowAlert: c.bool("show_alert"), URL: c.str("url"),
		CacheTime: int(cacheTime), Time: time.Now(), AnswerLost: c.lost,
	})
	s.signalMessagesLocked()
	return true, nil
}

var commandRE = regexp.MustCompile(`^[a-z0-9_]{1,32}$`)

func commandsKey(c *call) (string, *apiError) {
	scope := "default"
	if raw := c.str("scope"); raw != "" {
		var sc struct {
			Type string `json:"type"`
		}
		if err := json.Unmarshal([]byte(raw), &sc); err != nil || sc.Type == "" {
			return "", badRequest("can't parse BotCommandScope JSON object")
		}
		scope = sc.Type
	}
	return scope + "|" + c.str("language_code"), nil
}

func (s *Server) apiSetMyCommands(c *call) (any, *apiError) {
	var cmds []BotCommand
	if err := json.Unmarshal([]byte(c.str("commands")), &cmds); err != nil {
		return nil, badRequest("can't parse commands JSON object")
	}
	if len(cmds) > 100 {
		return nil, badRequest("BOT_COMMANDS_TOO_MUCH")
	}
	for _, cmd := range cmds {
		if !commandRE.MatchString(cmd.Command) {
			return nil, badRequest("BOT_COMMAND_INVALID")
		}
		if n := len([]rune(cmd.Description)); n < 1 || n > 256 {
			return nil, badRequest("BOT_COMMAND_DESCRIPTION_INVALID")
		}
	}
	key, aerr := commandsKey(c)
	if aerr != nil {
		return nil, aerr
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.commands[key] = cmds
	return true, nil
}

func (s *Server) apiGetMyCommands(c *call) (any, *apiError) {
	key, aerr := commandsKey(c)
	if aerr != nil {
		return nil, aerr
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	cmds := s.commands[key]
	if cmds == nil {
		cmds = []BotCommand{}
	}
	return cmds, nil
}

func (s *Server) apiDeleteMyCommands(c *call) (any, *apiError) {
	key, aerr := commandsKey(c)
	if aerr != nil {
		return nil, aerr
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.commands, key)
	return true, nil
}

// Commands returns the commands recorded by setMyCommands for the default
// scope and languageCode ("" = no language), or nil.
func (s *Server) Commands(languageCode string) []BotCommand {
	return s.CommandsForScope("default", languageCode)
}

// CommandsForScope is Commands for a BotCommandScope type such as "all_private_chats".
func (s *Server) CommandsForScope(scopeType, languageCode string) []BotCommand {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]BotCommand(nil), s.commands[scopeType+"|"+languageCode]...)
}

func (s *Server) apiGetFile(c *call) (any, *apiError) {
	s.mu.Lock()
	defer s.mu.Unlock()
	f := s.files[c.str("file_id")]
	if f == nil {
		return nil, badRequest("invalid file_id")
	}
	return File{FileID: f.id, FileUniqueID: f.uniqueID, FileSize: len(f.data), FilePath: f.path}, nil
}

// registerFileLocked stores data as a downloadable file. s.mu held.
func (s *Server) registerFileLocked(data []byte, dir, ext string) *storedFile {
	s.nextFile++
	n := s.nextFile
	if ext == "" {
		ext = ".jpg"
	}
	f := &storedFile{
		id:       fmt.Sprintf("AgACAgIAAxkBAAI%08dtelegramsim", n),
		uniqueID: fmt.Sprintf("AQAD%08d", n),
		path:     fmt.Sprintf("%s/file_%d%s", dir, n, ext),
		data:     append([]byte(nil), data...),
	}
	s.files[f.id] = f
	s.paths[f.path] = f
	return f
}

// registerPhotoLocked stores a photo as two sizes (thumbnail, full). s.mu held.
func (s *Server) registerPhotoLocked(data []byte, ext string) []PhotoSize {
	w, h := 800, 600
	if cfg, _, err := image.DecodeConfig(strings.NewReader(string(data))); err == nil {
		w, h = cfg.Width, cfg.Height
	}
	tw, th := w, h
	if tw > 90 || th > 90 {
		if tw >= th {
			tw, th = 90, max(1, h*90/max(w, 1))
		} else {
			tw, th = max(1, w*90/max(h, 1)), 90
		}
	}
	thumb := s.registerFileLocked(data, "photos", ext)
	full := s.registerFileLocked(data, "photos", ext)
	return []PhotoSize{
		{FileID: thumb.id, FileUniqueID: thumb.uniqueID, Width: tw, Height: th, FileSize: len(data)},
		{FileID: full.id, FileUniqueID: full.uniqueID, Width: w, Height: h, FileSize: len(data)},
	}
}

// AddFile registers data as a downloadable file (getFile + /file/bot…) and
// returns its file_id.
func (s *Server) AddFile(data []byte, ext string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.registerFileLocked(data, "documents", ext).id
}

// FileData returns the bytes of a registered or uploaded file by file_id.
func (s *Server) FileData(fileID string) ([]byte, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	f := s.files[fileID]
	if f == nil {
		return nil, false
	}
	return append([]byte(nil), f.data...), true
}
