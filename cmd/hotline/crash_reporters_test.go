package main

// Reporters of the channel crash tests, one kind per channel. Each behaves
// as its real client does across a server that dies: Telegram (the fake
// redelivers what the bot has not confirmed), the chat page (chat.js: keeps
// its last frame number and its unacknowledged messages, reconnects and
// resends them), and the no-JS mailbox (a browser posting the same form
// again after a lost answer).

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"mime/multipart"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/gorilla/websocket"

	"hotline/internal/sim/telegramsim"
)

const crashFollowUps = 2 // follow-ups after each report, every channel

// reportText is a report's words around its marker: plain, not urgent.
func reportText(mk string) string { return "课间有同学抢我的文具，还推我。" + mk }

// ---- Telegram ----

// telegramReporter reports through the bot again and again until work
// ends. A report counts as acknowledged when the bot answered "send" with
// its alias; a follow-up as soon as Telegram took it (Telegram redelivers
// it until the bot confirms it, so it must arrive exactly once).
func (r *crashRig) telegramReporter(work, hard context.Context, wg *sync.WaitGroup, n int) {
	wg.Add(1)
	go func() {
		defer wg.Done()
		u := r.tg.NewUser(telegramsim.UserOptions{LanguageCode: "zh-hans"})
		wait := func(pred func(telegramsim.SentMessage) bool) (telegramsim.SentMessage, bool) {
			ctx, cancel := context.WithTimeout(hard, 12*time.Second)
			defer cancel()
			m, err := u.WaitMessage(ctx, pred)
			return m, err == nil
		}
		tap := func(data string) bool {
			m, ok := wait(hasButton(data))
			if !ok {
				return false
			}
			_, err := u.PressOn(m, data)
			return err == nil
		}
		for i := 0; work.Err() == nil; i++ {
			rep := marker("tg", n, i, 0)
			u.SendCommand("/start demo")
			if !tap("role:victim") || !tap("cat:physical") {
				r.note("telegram %d.%d: no question after /start", n, i)
				continue
			}
			u.SendText(reportText(rep))
			r.unsure(rep, "telegram report")
			if !tap("done") || !tap("danger:no") || !tap("send") {
				r.note("telegram %d.%d: stuck before send", n, i)
				continue
			}
			if _, ok := wait(containsText("/status")); !ok {
				r.note("telegram %d.%d: no alias after send", n, i)
				continue
			}
			r.ack(rep, "telegram report")
			for k := 1; k <= crashFollowUps; k++ {
				fu := marker("tg", n, i, k)
				u.SendText("他们今天又来了。" + fu)
				r.ack(fu, "telegram follow-up")
				wait(containsText("老师")) // the forwarded note, when it comes
			}
		}
	}()
}

// ---- web chat ----

// crashFrame is a server frame of the chat protocol.
type crashFrame struct {
	Type  string `json:"type"`
	Seq   int64  `json:"seq"`
	ID    string `json:"id"`
	Dup   bool   `json:"dup"`
	Code  string `json:"code"`
	Text  string `json:"text"`
	Epoch string `json:"epoch"`
	Fatal bool   `json:"fatal"`
	Reply *struct {
		Kind    string `json:"kind"`
		Receipt string `json:"receipt"`
		Buttons [][]struct {
			Data string `json:"data"`
		} `json:"buttons"`
	} `json:"reply"`
}

// webPage is one open chat page, as chat.js keeps it.
type webPage struct {
	r    *crashRig
	n, i int

	session string // sessionStorage token
	secret  string // the page secret (sessionStorage): brings a lost receipt back
	epoch   string // of the welcome lastSeq counts in
	lastSeq int64
	pending []map[string]any // sent, not acknowledged, oldest first
	nextID  int
	buttons []string
	receipt string // memory only

	step        int // next step of the script
	report      string
	sendRefused bool
	follow      map[string]string // client id -> marker of a follow-up
}

// The page's script: what its reporter taps and types, in order; then
// the follow-ups.
var webScript = []struct{ typ, val string }{
	{"command", "new"}, {"choice", "role:victim"}, {"choice", "cat:physical"},
	{"text", ""}, {"choice", "done"}, {"choice", "danger:no"}, {"choice", "send"},
}

// webReporter opens pages one after the other until work ends; each
// reports once and then writes its follow-ups.
func (r *crashRig) webReporter(work, hard context.Context, wg *sync.WaitGroup, n int) {
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := 0; work.Err() == nil; i++ {
			p := &webPage{r: r, n: n, i: i, session: randToken(), secret: randToken(), report: marker("web", n, i, 0), follow: map[string]string{}}
			p.run(hard)
		}
	}()
}

func (p *webPage) post(ws *websocket.Conn, f map[string]any) {
	p.nextID++
	f["v"] = 1
	f["id"] = fmt.Sprintf("%d-%d-%d", p.n, p.i, p.nextID)
	p.pending = append(p.pending, f)
	p.transmit(ws, f)
}

func (p *webPage) transmit(ws *websocket.Conn, f map[string]any) {
	if ws == nil {
		return
	}
	out := map[string]any{}
	for k, v := range f {
		out[k] = v
	}
	if p.receipt != "" {
		out["receipt"] = p.receipt
	}
	ws.WriteJSON(out)
}

func (p *webPage) settle(id string) map[string]any {
	for i, f := range p.pending {
		if f["id"] == id {
			p.pending = append(p.pending[:i:i], p.pending[i+1:]...)
			return f
		}
	}
	return nil
}

// done: the report and its follow-ups are acknowledged, or the page gave
// up on a refused step.
func (p *webPage) done() bool {
	return p.step > len(webScript)+crashFollowUps && len(p.pending) == 0
}

// advance posts the next step once the last one is acknowledged.
func (p *webPage) advance(ws *websocket.Conn) {
	if len(p.pending) > 0 || p.done() {
		return
	}
	switch {
	case p.step < len(webScript):
		s := webScript[p.step]
		f := map[string]any{"type": s.typ}
		switch s.typ {
		case "command":
			f["command"] = s.val
		case "text":
			f["text"] = reportText(p.report)
			p.r.unsure(p.report, "web report")
		case "choice":
			f["data"] = s.val
			for _, b := range p.buttons {
				if strings.HasPrefix(b, s.val) {
					f["data"] = b
				}
			}
			if s.val == "send" {
				p.r.mu.Lock()
				p.r.pages = append(p.r.pages, p)
				p.r.mu.Unlock()
			}
		}
		p.step++
		p.post(ws, f)
	case p.step == len(webScript):
		// After "send": the follow-ups need the receipt.
		if p.receipt != "" {
			p.r.ack(p.report, "web report")
			p.step++
		}
	default:
		k := p.step - len(webScript)
		fu := marker("web", p.n, p.i, k)
		p.step++
		p.post(ws, map[string]any{"type": "text", "text": "他们今天又来了。" + fu})
		p.follow[p.pending[len(p.pending)-1]["id"].(string)] = fu
		p.r.unsure(fu, "web follow-up")
	}
}

// frame handles one server frame as chat.js does.
func (p *webPage) frame(ws *websocket.Conn, f *crashFrame) {
	if f.Seq != 0 {
		if f.Seq <= p.lastSeq {
			return // shown before a reconnect
		}
		p.lastSeq = f.Seq
		ws.WriteJSON(map[string]any{"v": 1, "type": "seen", "seq": p.lastSeq})
	}
	switch f.Type {
	case "welcome":
		// A new epoch: the server numbers this session's frames from 1
		// again; the page starts counting anew instead of discarding.
		if f.Epoch != "" && f.Epoch != p.epoch {
			p.epoch, p.lastSeq = f.Epoch, 0
		}
		for _, q := range p.pending {
			p.transmit(ws, q)
		}
	case "reply":
		if f.Reply == nil {
			return
		}
		if f.Reply.Kind == "receipt" && f.Reply.Receipt != "" {
			p.receipt = f.Reply.Receipt
		}
		if len(f.Reply.Buttons) > 0 {
			p.buttons = p.buttons[:0]
			for _, row := range f.Reply.Buttons {
				for _, b := range row {
					p.buttons = append(p.buttons, b.Data)
				}
			}
		}
	case "ack":
		q := p.settle(f.ID)
		if mk := p.follow[f.ID]; mk != "" && q != nil {
			p.r.ack(mk, "web follow-up")
		}
	case "error":
		if f.ID == "" {
			if f.Fatal {
				ws.Close()
			}
			return
		}
		if f.Code == "rate_limited" || f.Code == "busy" {
			// chat.js waits a moment, then sends it again.
			for _, q := range p.pending {
				if q["id"] == f.ID {
					time.Sleep(300 * time.Millisecond)
					p.transmit(ws, q)
				}
			}
			return
		}
		q := p.settle(f.ID)
		if q == nil {
			return
		}
		if mk := p.follow[f.ID]; mk != "" {
			p.r.refuse(mk, "web follow-up")
			return
		}
		p.r.note("web page %d.%d: step %v refused: %s %s", p.n, p.i, q["type"], f.Code, f.Text)
		if q["data"] != nil && strings.HasPrefix(q["data"].(string), "send") {
			p.sendRefused = true
		}
		// A refused step: this reporter gives up on the page.
		p.step = len(webScript) + crashFollowUps + 1
	}
}

// run keeps the page connected until its work is done or hard ends.
func (p *webPage) run(hard context.Context) {
	url := "ws" + strings.TrimPrefix(p.r.base, "http") + "/webchat/ws"
	d := websocket.Dialer{HandshakeTimeout: 3 * time.Second}
	for hard.Err() == nil && !p.done() {
		ws, _, err := d.DialContext(hard, url, http.Header{"Origin": {p.r.base}})
		if err != nil {
			time.Sleep(time.Duration(100+rand.IntN(200)) * time.Millisecond)
			continue
		}
		frames := make(chan *crashFrame, 64)
		go func() {
			defer close(frames)
			for {
				f := &crashFrame{}
				if err := ws.ReadJSON(f); err != nil {
					return
				}
				frames <- f
			}
		}()
		ws.WriteJSON(map[string]any{"v": 1, "type": "hello", "session": p.session, "school": demoSchool, "lang": "zh", "last_seq": p.lastSeq, "epoch": p.epoch, "page": p.secret})
		welcomed := false
	conn:
		for !p.done() {
			select {
			case <-hard.Done():
				break conn
			case f, ok := <-frames:
				if !ok {
					break conn
				}
				p.frame(ws, f)
				if f.Type == "welcome" {
					welcomed = true
				}
				if welcomed {
					p.advance(ws)
				}
			case <-time.After(6 * time.Second):
				// chat.js would wait for ever; this page reconnects, which
				// resends what is pending.
				p.r.note("web page %d.%d: no frame for 6 s at step %d, %d pending", p.n, p.i, p.step, len(p.pending))
				break conn
			}
		}
		ws.Close()
		for range frames {
		}
	}
	if !p.done() && p.step > len(webScript) {
		p.r.note("web page %d.%d: unfinished at step %d", p.n, p.i, p.step)
	}
}

// ---- mailbox ----

var (
	tokenRE   = regexp.MustCompile(`name="token" value="([^"]+)"`)
	receiptRE = regexp.MustCompile(`id="receipt-code">([^<]+)<`)
)

// mailboxReporter posts the no-JS form again and again until work ends,
// then follow-ups through the status page's reply form. A post whose
// answer is lost is posted again, with the same form, as a browser does.
func (r *crashRig) mailboxReporter(work, hard context.Context, wg *sync.WaitGroup, n int) {
	wg.Add(1)
	go func() {
		defer wg.Done()
		c := &http.Client{Timeout: 15 * time.Second}
		for i := 0; work.Err() == nil; i++ {
			// A person fills in a form in more than a moment; keeps the
			// channels' shares alike.
			time.Sleep(time.Duration(200+rand.IntN(400)) * time.Millisecond)
			rep := marker("mail", n, i, 0)
			tok, ok := r.formToken(hard, c, "/m/"+demoSchool)
			if !ok {
				return
			}
			r.unsure(rep, "mailbox report")
			body, status := r.postUntilAnswered(hard, c, "/m/"+demoSchool, map[string]string{"token": tok, "lang": "zh", "role": "victim", "category": "physical", "text": reportText(rep)})
			if status != http.StatusOK {
				r.note("mailbox %d.%d: report answered %d", n, i, status)
				continue
			}
			r.ack(rep, "mailbox report")
			rc := receiptRE.FindStringSubmatch(body)
			if rc == nil {
				r.note("mailbox %d.%d: answered 200 without a receipt", n, i)
				continue
			}
			receipt := strings.TrimSpace(rc[1])
			for k := 1; k <= crashFollowUps; k++ {
				fu := marker("mail", n, i, k)
				stok, ok := r.formToken(hard, c, "/m/status")
				if !ok {
					return
				}
				page, st := r.postUntilAnswered(hard, c, "/m/status", map[string]string{"token": stok, "lang": "zh", "receipt": receipt})
				m := tokenRE.FindStringSubmatch(page)
				if st != http.StatusOK || m == nil {
					r.note("mailbox %d.%d: status page answered %d", n, i, st)
					break
				}
				r.unsure(fu, "mailbox follow-up")
				if _, st := r.postUntilAnswered(hard, c, "/m/status/reply", map[string]string{"token": m[1], "lang": "zh", "receipt": receipt, "text": "他们今天又来了。" + fu}); st == http.StatusOK {
					r.ack(fu, "mailbox follow-up")
				} else {
					r.note("mailbox %d.%d: follow-up answered %d", n, i, st)
				}
			}
		}
	}()
}

// formToken opens a form page until it is served and returns its token.
func (r *crashRig) formToken(hard context.Context, c *http.Client, path string) (string, bool) {
	for hard.Err() == nil {
		req, _ := http.NewRequestWithContext(hard, http.MethodGet, r.base+path, nil)
		resp, err := c.Do(req)
		if err == nil {
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if m := tokenRE.FindSubmatch(b); resp.StatusCode == http.StatusOK && m != nil {
				return string(m[1]), true
			}
		}
		time.Sleep(time.Duration(100+rand.IntN(200)) * time.Millisecond)
	}
	return "", false
}

// postUntilAnswered posts a multipart form until an answer arrives that
// is not a server failure: a lost answer or a 5xx is posted again.
func (r *crashRig) postUntilAnswered(hard context.Context, c *http.Client, path string, fields map[string]string) (string, int) {
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	for k, v := range fields {
		mw.WriteField(k, v)
	}
	mw.Close()
	for hard.Err() == nil {
		req, _ := http.NewRequestWithContext(hard, http.MethodPost, r.base+path, bytes.NewReader(buf.Bytes()))
		req.Header.Set("Content-Type", mw.FormDataContentType())
		resp, err := c.Do(req)
		if err == nil {
			b, rerr := io.ReadAll(resp.Body)
			resp.Body.Close()
			if rerr == nil && resp.StatusCode < 500 {
				return string(b), resp.StatusCode
			}
		} else if errors.Is(err, context.Canceled) {
			break
		}
		time.Sleep(time.Duration(100+rand.IntN(200)) * time.Millisecond)
	}
	return "", 0
}
