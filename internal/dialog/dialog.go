// Package dialog is the reporter conversation as a transport-free state
// machine: school, role, category, free text and photos, danger question,
// confirm, submission, receipt and follow-up messages. The Telegram bot and
// the web chat both feed it Events and render its Replies, so a reporter
// gets the same conversation on either channel, and it is tested without
// any transport.
//
// The engine keeps no content in memory between events: each event loads
// the conversation from a Store, applies the event and saves it before the
// replies are returned. It never logs content.
//
// A draft does not wait for its reporter forever. One that turns urgent
// (the detector, or "someone is in danger now") once its school is known is
// offered to be sent at once, and the sweeper (Engine.Sweep) sends it to the
// school as an urgent report UrgentSendAfter later if the reporter has not;
// any other unsent draft is deleted DraftKeep after it was last touched.
// The greeting tells the reporter both before they write.
package dialog

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"hotline/internal/hotline"
	"hotline/internal/thread"
)

// Key names one conversation: a messenger chat, or a web chat session.
type Key struct {
	Channel hotline.Channel
	ChatID  int64  // Telegram chat; for WeChat, the transport's keyed-hash id of the openid
	Session string // web chat: a random session token
}

// EventKind says what the reporter did.
type EventKind string

// Event kinds.
const (
	EventText    EventKind = "text"
	EventChoice  EventKind = "choice"
	EventPhoto   EventKind = "photo"
	EventCommand EventKind = "command"
)

// Event is one thing the reporter did, as the transport saw it.
type Event struct {
	Kind    EventKind
	Text    string         // text, photo caption, or command argument (e.g. the /start deep-link school code)
	Choice  string         // button data
	Command string         // "start","new","status","help","language","forget","cancel","tips" (lower case, no slash)
	Photo   *hotline.Photo // already cleaned by the transport/intake
	Lang    hotline.Lang   // language hint (Telegram language_code, browser); used on first contact only
	School  string         // pre-set school code (widget, chat page /c/CODE); empty for Telegram
	// BotName is, on Telegram, the bot's own username, which the privacy
	// notice names: the one engine serves every channel (and could serve
	// several bots), so what a transport calls itself comes with its events.
	BotName string
	// PageSecret is the web page's own random secret, never stored: a
	// report sent with it keeps its receipt sealed to it for a while, so
	// that the page gets its receipt even if the answer was lost.
	PageSecret string
}

// ReplyKind says how a transport should present a reply.
type ReplyKind string

// Reply kinds.
const (
	ReplyText      ReplyKind = "text"
	ReplySafety    ReplyKind = "safety" // urgent guidance; always first in a reply list
	ReplySubmitted ReplyKind = "submitted"
	ReplyReceipt   ReplyKind = "receipt" // web only: show Receipt with copy/print; never log it
	ReplyThread    ReplyKind = "thread"  // a message of the thread, replayed
	ReplyError     ReplyKind = "error"
	ReplyPrivacy   ReplyKind = "privacy"
	// ReplyAsk is the safety question, with its two answers as buttons;
	// always last in a reply list, so that its buttons are the ones shown.
	ReplyAsk ReplyKind = "ask"
)

// Reply is one message to show the reporter.
type Reply struct {
	Kind    ReplyKind
	Text    string
	Buttons [][]hotline.Button // rows of choice buttons
	Receipt string             // only on ReplyReceipt: never persisted, never logged
	Alias   string             // on ReplySubmitted, in the conversation's language
	TipUID  string
	Photo   *hotline.Photo // on ReplyThread, a photo of the thread
	// Entry is, on ReplyThread, the message as its reporter sees it (who
	// wrote it, when, its uid), for transports that show a thread their own
	// way; Text is the same message as one line.
	Entry *thread.Entry
	// Lang is the language the conversation speaks after this event, in
	// which the reply is written: a transport writes its own texts in it.
	Lang hotline.Lang
}

// How long a draft waits for its reporter.
const (
	// UrgentSendAfter is how long an urgent draft to a known school waits
	// for its reporter's tap before the sweeper sends it.
	UrgentSendAfter = 10 * time.Minute
	// DraftKeep is how long an unsent draft that is not urgent is kept
	// after it was last touched.
	DraftKeep = 7 * 24 * time.Hour
)

// Store persists conversations in progress. The implementation seals the
// bytes; the engine writes a receipt into them only for a report the
// sweeper sent, until its reporter has been shown it once.
type Store interface {
	// Load returns the saved state, or hotline.ErrNotFound when there is none.
	Load(ctx context.Context, k Key) ([]byte, error)
	// Save stores the state and, in clear beside it, its content-free
	// metadata, in one commit. Called from a submission's Record, with the
	// context the intake passes it, it must write in the transaction that
	// files the report (the context carries it), so that a report and the
	// conversation that sent it are committed together.
	Save(ctx context.Context, k Key, state []byte, meta Meta) error
	Delete(ctx context.Context, k Key) error
	// Due returns up to limit saved states the sweeper must act on: those
	// whose Meta.UrgentSince is at or before urgentBefore, those whose
	// Meta.AskDue is at or before askBefore, and those with Meta.Draft
	// last saved before staleBefore.
	Due(ctx context.Context, urgentBefore, askBefore, staleBefore time.Time, limit int) ([][]byte, error)
}

// Meta is what a Store keeps in clear beside a sealed state so that the
// sweeper can find it: a time and a flag, never content.
type Meta struct {
	// UrgentSince is when the draft, its school known, turned urgent;
	// zero when there is no such draft.
	UrgentSince time.Time
	// Draft says the state holds an unsent draft, or an automatically sent
	// report whose reporter has not been told yet.
	Draft bool
	// AskDue is when the safety question about the draft goes unanswered;
	// zero when none waits.
	AskDue time.Time
	// Count lists events of the safety question to count for the
	// district of the school CountSchool (a code), in the commit that
	// saves the state: content-free kinds (store's UrgencyAsked…). An
	// empty CountSchool counts them under no district: the draft they
	// belong to was dropped before a school was chosen.
	Count       []string
	CountSchool string
}

// Engine runs reporter conversations. Set the fields, then call Handle from
// any number of goroutines; an Engine must not be copied after first use.
type Engine struct {
	Intake    hotline.IntakeService
	Reporters hotline.ReporterService
	Schools   hotline.SchoolService
	Store     Store
	Clock     hotline.Clock // nil: the system clock
	// Urgent detects urgency in a draft text, so that safety guidance is
	// shown the moment it is written rather than after submission. The
	// detector (urgency.Urgent) provides it; nil means never.
	Urgent func(text string) bool
	// Unsure says the detector is unsure whether a text means danger now
	// (urgency.Unsure): the reporter is asked at once. nil means never.
	Unsure func(text string) bool
	// Safety takes answers to the safety question about filed reports,
	// and, when it can (SafetyExpirer), its sweep marks those unanswered.
	Safety hotline.SafetyService
	// Receipts hands a web page the receipt of a report it sent whose
	// answer was lost (a resent "send"); nil: such a page is told only
	// that the report was sent.
	Receipts hotline.ReceiptKeeper
	// Surveys runs class questionnaires in Telegram chats; nil turns
	// them off (their buttons and deep links are then the conversation's).
	Surveys Surveys
	// Logger takes failures the engine answers itself (a questionnaire's
	// step), by code only; nil: slog.Default().
	Logger *slog.Logger

	// locks serialises the events of each conversation within the
	// process. The process runs one Engine for every channel and its
	// sweeper, so a reporter's tap and the sweeper's send of the same
	// draft meet here (and, across nodes, in the Store's Locker).
	locksMu sync.Mutex
	locks   map[Key]*keyLock
}

// keyLock serializes the events of one key; n counts holders and waiters so
// that the map entry can go when nobody needs it.
type keyLock struct {
	mu sync.Mutex
	n  int
}

// ErrNotApplied wraps the error of an event that changed nothing: the
// conversation could not be loaded, locked or saved, or a service it
// needed failed on our side (the database unreachable, the disk full). Its
// replies are only the safety guidance, if any, and "not saved, send it
// again": nothing said it was kept. A transport that can have the event
// delivered again (Telegram's unconfirmed updates) does so.
var ErrNotApplied = errors.New("dialog: event not applied")

// ErrBadKey is returned for a key that names no conversation.
var ErrBadKey = hotline.Errorf(hotline.EINVALID, txtBadKey.ZH, txtBadKey.EN)

// Handle applies one event of the reporter to the conversation k and
// returns the replies to show, in order; a "safety" reply is always first.
//
// Failures of the services become "error" replies with safe messages and a
// nil error. A non-nil error means the conversation could not be loaded or
// saved; the replies that come with it must still be delivered (a receipt
// is shown only once), and the error must be logged without content.
func (e *Engine) Handle(ctx context.Context, k Key, ev Event) ([]Reply, error) {
	return e.handle(ctx, k, "", ev)
}

// HandleWithReceipt is Handle for a web session whose reporter has already
// submitted: follow-up messages and /status reach their tip through the
// receipt, which the web transport keeps client-side and the engine never
// stores.
func (e *Engine) HandleWithReceipt(ctx context.Context, k Key, receipt string, ev Event) ([]Reply, error) {
	return e.handle(ctx, k, receipt, ev)
}

// Resume opens a returning web reporter's thread with their receipt,
// replays it as "thread" replies and makes that tip the active one, so the
// reporter can write on. A mistyped or unknown receipt gets its safe message.
func (e *Engine) Resume(ctx context.Context, k Key, receipt string, lang hotline.Lang) ([]Reply, error) {
	if !k.Channel.Web() || k.Session == "" {
		return []Reply{{Kind: ReplyError, Text: txtBadKey.In(parseLang(lang)), Lang: parseLang(lang)}}, ErrBadKey
	}
	unlock, err := e.lock(ctx, k)
	if err != nil {
		return []Reply{{Kind: ReplyError, Text: hotline.ErrorMessage(err, parseLang(lang)), Lang: parseLang(lang)}}, err
	}
	defer unlock()
	c, err := e.open(ctx, k, receipt)
	if err != nil {
		return []Reply{{Kind: ReplyError, Text: hotline.ErrorMessage(err, parseLang(lang)), Lang: parseLang(lang)}}, err
	}
	if lang != "" || c.fresh {
		c.st.Lang = parseLang(lang)
	}
	c.tellSent()
	c.resume()
	return e.finish(c)
}

// Prompt returns what the conversation k asks of its reporter now, as a
// reporter who lost track would be told: the current step's question with
// its buttons; after a report was sent, that it was sent (with its alias)
// before the follow-up prompt; while an urgent draft waits, the safety
// reminder first. It changes and saves nothing, so a transport can answer
// again an event whose effect was applied but whose answer may never have
// left (a redelivered Telegram update) without applying anything twice.
// lang is used only for a conversation that has no saved state.
func (e *Engine) Prompt(ctx context.Context, k Key, lang hotline.Lang) ([]Reply, error) {
	if !validKey(k) {
		return []Reply{{Kind: ReplyError, Text: txtBadKey.In(parseLang(lang)), Lang: parseLang(lang)}}, ErrBadKey
	}
	unlock, err := e.lock(ctx, k)
	if err != nil {
		return []Reply{{Kind: ReplyError, Text: hotline.ErrorMessage(err, parseLang(lang)), Lang: parseLang(lang)}}, err
	}
	defer unlock()
	c, err := e.open(ctx, k, "")
	if err != nil {
		return []Reply{{Kind: ReplyError, Text: hotline.ErrorMessage(err, parseLang(lang)), Lang: parseLang(lang)}}, err
	}
	if c.fresh {
		c.st.Lang = parseLang(lang)
	}
	c.reprompt()
	return c.replies(), nil
}

func (e *Engine) handle(ctx context.Context, k Key, receipt string, ev Event) ([]Reply, error) {
	if !validKey(k) {
		return []Reply{{Kind: ReplyError, Text: txtBadKey.In(parseLang(ev.Lang)), Lang: parseLang(ev.Lang)}}, ErrBadKey
	}
	ev, replies, taken := e.routeSurvey(ctx, k, ev)
	if taken {
		return replies, nil
	}
	unlock, err := e.lock(ctx, k)
	if err != nil {
		return notSaved(nil, parseLang(ev.Lang)), fmt.Errorf("%w: %w", ErrNotApplied, err)
	}
	defer unlock()
	c, err := e.open(ctx, k, receipt)
	if err != nil {
		return notSaved(nil, parseLang(ev.Lang)), fmt.Errorf("%w: %w", ErrNotApplied, err)
	}
	if k.Channel.Web() {
		c.pageSecret = ev.PageSecret
	}
	c.botName = ev.BotName
	if c.fresh {
		c.st.Lang = parseLang(ev.Lang)
		// A web reporter who comes with a receipt has submitted already,
		// even if their session state is gone.
		if receipt != "" {
			c.st.Step = stepFollow
		}
	}
	if c.tellSent() && waitsAfterSent(ev) {
		// The first thing after an automatic send is hearing of it: a tap
		// on an old "send" button or the page's /new on reload must not
		// start anything else. Words are a follow-up, as after any send.
		c.prompt()
		return e.finish(c)
	}
	c.apply(ev)
	c.checkUrgent()
	return e.finish(c)
}

// open loads the conversation. A state that cannot be decoded (an older
// format, a damaged row) starts afresh rather than locking the reporter out.
func (e *Engine) open(ctx context.Context, k Key, receipt string) (*conv, error) {
	c := &conv{e: e, ctx: ctx, k: k, receipt: receipt, st: &state{}}
	b, err := e.Store.Load(ctx, k)
	switch {
	case errors.Is(err, hotline.ErrNotFound):
		c.fresh = true
	case err != nil:
		return nil, fmt.Errorf("dialog: load: %w", err)
	default:
		if json.Unmarshal(b, c.st) != nil || c.st.V != stateVersion {
			c.st = &state{}
			c.fresh = true
		}
	}
	c.st.V = stateVersion
	return c, nil
}

// finish saves the state before the replies leave, so that a crash after a
// reporter's message was acknowledged cannot lose it. An event that could
// not be saved, or whose service failed on our side, is not applied: its
// replies say so and nothing else (no "kept" before a "not saved", no
// question of a step that was not reached), and the state stays as it was.
func (e *Engine) finish(c *conv) ([]Reply, error) {
	out := c.replies()
	if c.deleted || c.saved {
		// Forgotten, or saved already in the commit that filed the report.
		return out, nil
	}
	if c.notApplied != nil && !c.submitted {
		return notSaved(out, c.lang()), fmt.Errorf("%w: %w", ErrNotApplied, c.notApplied)
	}
	b, meta, err := e.encode(c.st, c.k)
	if err == nil {
		err = e.Store.Save(c.ctx, c.k, b, meta)
	}
	if err != nil {
		if !c.submitted {
			return notSaved(out, c.lang()), fmt.Errorf("%w: save: %w", ErrNotApplied, err)
		}
		// The report was filed (and told); what is lost is the
		// conversation's bookkeeping, which the next message brings up
		// to date.
		return out, fmt.Errorf("dialog: save: %w", err)
	}
	return out, nil
}

// notSaved is the answer to an event that was not applied: the safety
// guidance among out, if any (a reporter in danger sees it whatever
// failed), then that nothing was saved.
func notSaved(out []Reply, lang hotline.Lang) []Reply {
	var keep []Reply
	for _, r := range out {
		if r.Kind == ReplySafety {
			keep = append(keep, r)
		}
	}
	return append(keep, Reply{Kind: ReplyError, Text: txtSaveFailed.In(lang), Lang: lang})
}

// encode stamps a state and returns it as saved, with its metadata; the
// counts it hands to the store leave the state.
func (e *Engine) encode(st *state, k Key) ([]byte, Meta, error) {
	st.Updated = e.now()
	meta := Meta{UrgentSince: st.UrgentAt, Draft: st.hasDraft() || st.Sent != nil}
	if st.draftWaiting() {
		meta.AskDue = st.Ask.Due
	}
	switch {
	case len(st.Counts) == 0:
	case st.School != nil:
		meta.Count, meta.CountSchool = st.Counts, st.School.Code
		st.Counts = nil
	case !st.hasDraft():
		// The draft they belong to is gone and never had a school: they
		// are counted under no district (CountSchool "").
		meta.Count = st.Counts
		st.Counts = nil
	}
	if meta.Draft || !meta.UrgentSince.IsZero() || !meta.AskDue.IsZero() {
		st.Key = &savedKey{Channel: k.Channel, ChatID: k.ChatID, Session: k.Session}
	} else {
		st.Key = nil
	}
	b, err := json.Marshal(st)
	return b, meta, err
}

func (e *Engine) now() time.Time {
	if e.Clock == nil {
		return hotline.SystemClock{}.Now()
	}
	return e.Clock.Now()
}

// Locker is what a Store may also offer (SealedStore does): a lock on one
// conversation across every process on the database, so that two nodes
// never run events of one chat at once (on PostgreSQL, an advisory lock
// keyed by the chat's keyed hash).
type Locker interface {
	Lock(ctx context.Context, k Key) (unlock func(), err error)
}

// lock serialises the events of k: first within the process, then, when
// the store offers it, across processes. Different keys run in parallel.
func (e *Engine) lock(ctx context.Context, k Key) (unlock func(), err error) {
	local := e.lockLocal(k)
	l, ok := e.Store.(Locker)
	if !ok {
		return local, nil
	}
	remote, err := l.Lock(ctx, k)
	if err != nil {
		local()
		return nil, fmt.Errorf("dialog: lock: %w", err)
	}
	return func() { remote(); local() }, nil
}

// lockLocal takes the mutex of k.
func (e *Engine) lockLocal(k Key) (unlock func()) {
	e.locksMu.Lock()
	if e.locks == nil {
		e.locks = map[Key]*keyLock{}
	}
	l := e.locks[k]
	if l == nil {
		l = &keyLock{}
		e.locks[k] = l
	}
	l.n++
	e.locksMu.Unlock()
	l.mu.Lock()
	return func() {
		l.mu.Unlock()
		e.locksMu.Lock()
		l.n--
		if l.n == 0 {
			delete(e.locks, k)
		}
		e.locksMu.Unlock()
	}
}

func validKey(k Key) bool {
	switch {
	case k.Channel.Chat():
		return k.ChatID != 0
	case k.Channel.Web():
		return k.Session != ""
	}
	return false
}

// parseLang accepts only the languages we speak; anything else is zh-CN.
func parseLang(l hotline.Lang) hotline.Lang { return hotline.ParseLang(string(l)) }
