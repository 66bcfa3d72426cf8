package bot

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/go-telegram/bot/models"

	"hotline/internal/dialog"
)

// allowedUpdates are the kinds of update the bot asks Telegram for.
var allowedUpdates = []string{"message", "edited_message", "callback_query"}

// tracker knows which fetched updates are still being handled, so that
// polling confirms (by the next getUpdates offset) only what is done: the
// offset never passes the lowest unfinished update, however long it takes.
type tracker struct {
	mu      sync.Mutex
	pending map[int64]bool // dispatched, not yet durably handled
	next    int64          // one past the highest update id dispatched
	changed chan struct{}  // closed and renewed when an update finishes
}

func (t *tracker) init() {
	t.pending = map[int64]bool{}
	t.changed = make(chan struct{})
}

// take claims an update for dispatch; false if it was dispatched before
// (Telegram sends unconfirmed updates again with every poll).
func (t *tracker) take(id int64) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	if id < t.next {
		return false
	}
	t.next = id + 1
	t.pending[id] = true
	return true
}

// untake gives back the update just taken (take), which could not be
// queued: the next poll takes it again. Polling stops right after, so it
// is the last one taken, and nothing after it was.
func (t *tracker) untake(id int64) {
	t.mu.Lock()
	defer t.mu.Unlock()
	delete(t.pending, id)
	if t.next == id+1 {
		t.next = id
	}
}

// finish marks an update durably handled.
func (t *tracker) finish(id int64) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.pending[id] {
		delete(t.pending, id)
		close(t.changed)
		t.changed = make(chan struct{})
	}
}

// offset is the getUpdates offset that confirms every finished update
// below the lowest unfinished one, and nothing else; 0 before any update.
func (t *tracker) offset() int64 {
	t.mu.Lock()
	defer t.mu.Unlock()
	off := t.next
	for id := range t.pending {
		off = min(off, id)
	}
	return off
}

// changes returns the channel closed when an update next finishes: taken
// before a poll, so that a finish during the poll is not missed.
func (t *tracker) changes() <-chan struct{} {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.changed
}

// wait returns when ch (from changes) is closed, after d, or when ctx
// ends; true if ch was closed.
func (t *tracker) wait(ctx context.Context, ch <-chan struct{}, d time.Duration) bool {
	tm := time.NewTimer(d)
	defer tm.Stop()
	select {
	case <-ch:
		return true
	case <-tm.C:
	case <-ctx.Done():
	}
	return false
}

// repollPause is how long polling waits, unless an update finishes first,
// after a poll that brought back only updates still being handled, the
// held-th such poll in a row with nothing finished. It is short at first:
// an update another chat sends meanwhile is not kept waiting behind the
// slowest one being handled (it was, up to that handler's whole time: a
// Telegram step's wait). Once an update has been held for a while
// (heldPolls), it doubles up to max, so that a chat held for long costs a
// poll a second, not two hundred.
func repollPause(held int, max time.Duration) time.Duration {
	d := firstRepoll
	if held > heldPolls {
		d <<= min(held-heldPolls, 16)
	}
	return min(d, max)
}

const (
	firstRepoll = 5 * time.Millisecond
	heldPolls   = 20 // 100 ms of short pauses, and as many round trips
)

// poll long-polls getUpdates until ctx ends, queueing each new update
// behind its chat's earlier ones. It asks with the tracker's offset, so an
// update is confirmed to Telegram only once it and every update before it
// have been handled; a crash before that gets them all sent again.
func (b *Bot) poll(ctx context.Context) {
	pause := 200 * time.Millisecond
	held := 0 // polls in a row that brought back only updates being handled
	for ctx.Err() == nil {
		// Taken before the poll: an update that finishes while the poll
		// is out wakes the wait below at once. (Taken after, that finish
		// was lost, and a lone update's next poll waited RepollPause:
		// the one-second stall of a Telegram step.)
		finished := b.track.changes()
		ups, retryAfter, err := b.getUpdates(ctx, b.track.offset(), b.cfg.PollTimeout, 100)
		if err != nil {
			if ctx.Err() != nil {
				return
			}
			b.log.Warn("bot: getUpdates failed", "kind", errKind(err))
			wait := pause
			if retryAfter > 0 {
				wait = retryAfter
			}
			pause = min(2*pause, 30*time.Second)
			select {
			case <-ctx.Done():
				return
			case <-time.After(wait):
			}
			continue
		}
		pause = 200 * time.Millisecond
		fresh := 0
		for _, raw := range ups {
			// Telegram sends every unconfirmed update again with each
			// poll: only a new one is decoded.
			if !b.track.take(raw.id) {
				continue
			}
			fresh++
			id := raw.id
			upd := b.decodeUpdate(raw)
			if !b.dispatch(ctx, upd, true, func(err error) {
				// An update whose effect was not stored (the database
				// went away under it), or whose handling shutdown cut
				// short, is left unconfirmed: Telegram sends it again,
				// and the store's record of handled updates keeps it
				// from being applied twice.
				if b.procCtx.Err() == nil && !errors.Is(err, dialog.ErrNotApplied) {
					b.track.finish(id)
				}
			}) {
				// Not queued: the lead was lost (or the bot is stopping)
				// while it waited for its chat's queue. It stays with
				// Telegram, and is this node's to take again when it
				// leads again; left taken, it held the offset for good,
				// and the polls after brought back only it and the
				// updates behind it, never a newer one.
				b.track.untake(id)
				return
			}
		}
		if fresh == 0 && len(ups) > 0 {
			// Telegram sent back only updates still being handled (a
			// slow chat holds the offset): wait for one to finish, or a
			// moment, rather than asking again at once (see repollPause).
			if b.track.wait(ctx, finished, repollPause(held, b.cfg.RepollPause)) {
				held = 0
			} else {
				held++
			}
		} else {
			held = 0
		}
	}
}

// apiAnswer is a Bot API answer, as far as polling needs it.
type apiAnswer struct {
	OK         bool              `json:"ok"`
	Result     []json.RawMessage `json:"result"`
	ErrorCode  int               `json:"error_code"`
	Parameters struct {
		RetryAfter int `json:"retry_after"`
	} `json:"parameters"`
}

// rawUpdate is an update as Telegram sent it, with its id.
type rawUpdate struct {
	id  int64
	raw json.RawMessage
}

// updateIDPrefix is how Telegram begins every update it sends.
const updateIDPrefix = `{"update_id":`

// peekUpdateID reads an update's id without decoding the rest: a poll
// brings back every update not yet confirmed, most of them being handled
// already, and decoding each again cost more CPU than the handling did.
func peekUpdateID(raw []byte) (int64, bool) {
	if rest, ok := bytes.CutPrefix(raw, []byte(updateIDPrefix)); ok {
		n := 0
		for n < len(rest) && n < 19 && rest[n] >= '0' && rest[n] <= '9' {
			n++
		}
		if n > 0 && n < len(rest) && (rest[n] == ',' || rest[n] == '}') {
			if id, err := strconv.ParseInt(string(rest[:n]), 10, 64); err == nil {
				return id, true
			}
		}
	}
	// Spelled otherwise: read it the slow way.
	var id struct {
		ID *int64 `json:"update_id"`
	}
	if json.Unmarshal(raw, &id) != nil || id.ID == nil {
		return 0, false
	}
	return *id.ID, true
}

// decodeUpdate decodes a new update. One the library's types cannot read
// is kept as its id alone: it is confirmed as handled, having no effect,
// and does not hide the others.
func (b *Bot) decodeUpdate(r rawUpdate) *models.Update {
	var upd models.Update
	if err := json.Unmarshal(r.raw, &upd); err != nil {
		b.log.Warn("bot: update not decoded; confirmed without effect")
		return &models.Update{ID: r.id}
	}
	upd.ID = r.id
	return &upd
}

// getUpdates asks for updates from offset on, waiting up to timeout for
// one, and returns them undecoded (see decodeUpdate). Errors never carry
// the URL (it holds the token) or the body.
func (b *Bot) getUpdates(ctx context.Context, offset int64, timeout time.Duration, limit int) ([]rawUpdate, time.Duration, error) {
	allowed, _ := json.Marshal(allowedUpdates)
	form := url.Values{
		"offset":          {strconv.FormatInt(offset, 10)},
		"limit":           {strconv.Itoa(limit)},
		"timeout":         {strconv.Itoa(int(timeout / time.Second))},
		"allowed_updates": {string(allowed)},
	}
	cctx, cancel := context.WithTimeout(ctx, timeout+b.cfg.CallTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(cctx, http.MethodPost, b.methodURL("getUpdates"), strings.NewReader(form.Encode()))
	if err != nil {
		return nil, 0, errDownload
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := b.client.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return nil, 0, ctx.Err()
		}
		return nil, 0, errDownload
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return nil, 0, errDownload
	}
	var ans apiAnswer
	if json.Unmarshal(body, &ans) != nil || !ans.OK {
		code := resp.StatusCode
		if ans.ErrorCode != 0 {
			code = ans.ErrorCode
		}
		if code == http.StatusOK {
			code = http.StatusBadGateway // a 200 that is not an answer
		}
		return nil, time.Duration(ans.Parameters.RetryAfter) * time.Second, &statusError{code}
	}
	ups := make([]rawUpdate, 0, len(ans.Result))
	for _, raw := range ans.Result {
		// One without an id cannot be confirmed or told apart: skipped.
		if id, ok := peekUpdateID(raw); ok {
			ups = append(ups, rawUpdate{id, raw})
		}
	}
	return ups, 0, nil
}

// confirm tells Telegram which updates have been handled, so that a clean
// restart does not receive them again: polling confirms only with its next
// call, which does not come after shutdown.
func (b *Bot) confirm() {
	off := b.track.offset()
	if off <= 0 {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if _, _, err := b.getUpdates(ctx, off, 0, 1); err != nil {
		b.log.Warn("bot: could not confirm handled updates; Telegram may send some again", "kind", errKind(err))
	}
}
