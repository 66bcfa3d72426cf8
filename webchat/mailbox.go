package webchat

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/rand"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"io"
	"mime/multipart"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"hotline/internal/dialog"
	"hotline/internal/hotline"
	"hotline/internal/thread"
	"hotline/internal/throttle"
	"hotline/internal/vault"
)

// The no-JavaScript mailbox (信箱): a plain form that answers with a
// receipt page, and a status page that opens a thread with the receipt.
// No cookies: forms carry a short-lived token signed with the server key
// and bound to the form it was issued for, and posts must come from our
// own pages (Origin, Referer, Sec-Fetch-Site).

// Form names a token is bound to.
const (
	formMailbox = "mailbox"
	formStatus  = "status"
	formReply   = "reply"
	formSafety  = "safety"
)

const (
	tokenNonceLen = 8
	tokenMACLen   = 16
	tokenLen      = 8 + tokenNonceLen + tokenMACLen
)

// formToken returns a token for form (and school) that expires after
// Limits.FormTokenLife. A random nonce makes every issued token unique,
// so a mailbox token can be used once without two pages sharing it.
func (s *Server) formToken(form, school string) string {
	exp := s.Now().Add(s.Limits.FormTokenLife).Unix()
	var b [tokenLen]byte
	binary.BigEndian.PutUint64(b[:8], uint64(exp))
	rand.Read(b[8 : 8+tokenNonceLen])
	copy(b[8+tokenNonceLen:], s.tokenMAC(form, school, exp, b[8:8+tokenNonceLen]))
	return base64.RawURLEncoding.EncodeToString(b[:])
}

func (s *Server) tokenMAC(form, school string, exp int64, nonce []byte) []byte {
	return s.MAC("webchat-form", []byte(form+"\x00"+school+"\x00"+strconv.FormatInt(exp, 10)+"\x00"+string(nonce)))[:tokenMACLen]
}

// checkToken verifies a form token: signature, binding and expiry.
func (s *Server) checkToken(tok, form, school string) bool {
	b, err := base64.RawURLEncoding.DecodeString(tok)
	if err != nil || len(b) != tokenLen {
		return false
	}
	exp := int64(binary.BigEndian.Uint64(b[:8]))
	if s.Now().Unix() > exp {
		return false
	}
	return hmac.Equal(b[8+tokenNonceLen:], s.tokenMAC(form, school, exp, b[8:8+tokenNonceLen]))
}

// sameOrigin rejects posts that a browser says came from elsewhere. A
// request without any of these headers is not from a browser page that
// could be forged cross-site, and still needs a valid token.
func (s *Server) sameOrigin(r *http.Request) bool {
	if site := r.Header.Get("Sec-Fetch-Site"); site != "" && site != "same-origin" && site != "none" {
		return false
	}
	ours := func(o string) bool {
		o = cleanOrigin(o)
		return o != "" && (o == s.origin() || o == "http://"+strings.ToLower(r.Host) || o == "https://"+strings.ToLower(r.Host))
	}
	if o := r.Header.Get("Origin"); o != "" {
		return ours(o)
	}
	if ref := r.Header.Get("Referer"); ref != "" {
		u, err := url.Parse(ref)
		return err == nil && ours(u.Scheme+"://"+u.Host)
	}
	return true
}

var (
	errForm     = hotline.Errorf(hotline.EINVALID, "这个表单已经过期了（超过 3 小时）。别担心，你写的内容还在下面，请再点一次提交。", "This form has expired (after 3 hours). Don't worry, what you wrote is still below; please submit again.")
	errOrigin   = hotline.Errorf(hotline.EFORBIDDEN, "请从本站的页面提交。", "Please submit from this site's own page.")
	errTooBig   = hotline.Errorf(hotline.ETOOLARGE, "提交的内容太大了（照片最多 10 MB）。", "The submission is too large (photos at most 10 MB).")
	errBadInput = hotline.Errorf(hotline.EINVALID, "表单内容无法识别，请重新填写。", "The form could not be read; please fill it in again.")
)

// mailForm is a parsed mailbox or reply form.
type mailForm struct {
	Token    string
	Role     string
	Category string
	Text     string
	Danger   bool
	Receipt  string
	Lang     string
	Photo    []byte
	Answer   string // the safety question's answer: "yes" or "no"
	From     string // the page the answer came from: "receipt" or the thread
}

// parseForm reads a multipart or urlencoded form in memory only: the
// standard multipart parser would spill a large photo to a temporary file.
func (s *Server) parseForm(w http.ResponseWriter, r *http.Request) (*mailForm, error) {
	limit := s.Limits.PhotoBytes + 64<<10
	r.Body = http.MaxBytesReader(w, r.Body, limit)
	// The server bounds only the headers' time; a body trickled in must
	// not hold the handler (and the photo's memory) for ever. Not every
	// ResponseWriter can (a test recorder): then the body is read as is.
	_ = http.NewResponseController(w).SetReadDeadline(time.Now().Add(s.Limits.BodyReadWait))
	f := &mailForm{}
	set := func(name, v string) {
		switch name {
		case "token":
			f.Token = v
		case "role":
			f.Role = v
		case "category":
			f.Category = v
		case "text":
			f.Text = v
		case "danger":
			f.Danger = v != ""
		case "receipt":
			f.Receipt = v
		case "lang":
			f.Lang = v
		case "answer":
			f.Answer = v
		case "from":
			f.From = v
		}
	}
	ct := r.Header.Get("Content-Type")
	if strings.HasPrefix(ct, "multipart/form-data") {
		mr, err := r.MultipartReader()
		if err != nil {
			return nil, errBadInput
		}
		for {
			p, err := mr.NextPart()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				return nil, tooBig(err)
			}
			if err := s.readPart(p, f, set); err != nil {
				return nil, err
			}
		}
		return f, nil
	}
	if err := r.ParseForm(); err != nil {
		return nil, tooBig(err)
	}
	for k, v := range r.PostForm {
		if len(v) > 0 {
			set(k, v[0])
		}
	}
	return f, nil
}

func (s *Server) readPart(p *multipart.Part, f *mailForm, set func(string, string)) error {
	defer p.Close()
	name := p.FormName()
	if name == "photo" {
		data, err := io.ReadAll(io.LimitReader(p, s.Limits.PhotoBytes+1))
		if err != nil {
			return tooBig(err)
		}
		if int64(len(data)) > s.Limits.PhotoBytes {
			return errTooBig
		}
		if len(data) > 0 {
			f.Photo = data
		}
		return nil
	}
	var b bytes.Buffer
	if n, err := b.ReadFrom(io.LimitReader(p, 32<<10+1)); err != nil {
		return tooBig(err)
	} else if n > 32<<10 {
		return hotline.ErrTooLong
	}
	set(name, b.String())
	return nil
}

// errPhotoBusy answers a form photo that found the decode budget taken
// for too long; the form comes back with what was written.
var errPhotoBusy = hotline.Errorf(hotline.ERATELIMIT, "现在人有点多，照片没能处理，这次没有保存。请稍等片刻再提交一次，你写的内容还在下面。", "We are busy right now and could not process the photo, so nothing was saved. Please submit again in a moment; what you wrote is still below.")

// Errors that say truthfully that nothing was stored: the database or the
// disk failed, so the post must be sent again.
var (
	errNotSaved      = hotline.Errorf(hotline.EINTERNAL, "系统出了点问题，你的报告没有保存。请稍后再提交一次，你写的内容还在下面。", "Something went wrong on our side and your report was not saved. Please submit again later; what you wrote is still below.")
	errReplyNotSaved = hotline.Errorf(hotline.EINTERNAL, "系统出了点问题，这条消息没有保存。请稍后再发送一次。", "Something went wrong on our side and this message was not saved. Please send it again later.")
)

// notSaved replaces the generic text of an internal error with one that
// says the post was not stored; other errors keep their own message.
func notSaved(err, instead error) error {
	if hotline.ErrorCode(err) == hotline.EINTERNAL {
		return instead
	}
	return err
}

// cleanPhoto decodes a form's photo within the process-wide decode budget,
// waiting at most 10 seconds for room in it. The form was read whole
// before, so a slow upload held no part of the budget.
func (s *Server) cleanPhoto(ctx context.Context, data []byte) (*hotline.Photo, error) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	p, err := s.CleanPhoto(ctx, data)
	if hotline.ErrorCode(err) == hotline.ERATELIMIT {
		// photo.ErrBusy, in the form's words.
		return nil, errPhotoBusy
	}
	return p, err
}

func tooBig(err error) error {
	var mb *http.MaxBytesError
	if errors.As(err, &mb) {
		return errTooBig
	}
	return errBadInput
}

// mailboxData is what the mailbox templates show.
type mailboxData struct {
	Roles      []option
	Categories []option
	Text       string
	Danger     bool
	Receipt    string
	Alias      string
	Urgent     bool
	Emergency  string
	Thread     []threadView
	Status     string
	// Within is how soon the school promises to act, in the page's
	// language, from its own deadlines: the on-call time for an urgent
	// report, else the time to read (receipt) or to reply (thread).
	Within string
	// Ask shows the safety question (the detector was unsure of the
	// words, and it waits for its answer), with its own form token.
	Ask *askView
}

// askView is the safety question as a page asks it: the words are the
// conversation's (dialog.SafetyQuestion), given to the server by wiring.
type askView struct {
	Question, Yes, No string
	Token             string
	From              string // "receipt" on the receipt page
}

// schoolsByID finds a tip's school (intake.Service does): the thread page
// promises what that school does. A service without it leaves the default
// deadlines, which are also a school's until it changes them.
type schoolsByID interface {
	SchoolByID(ctx context.Context, id int64) (*hotline.School, error)
}

type option struct {
	Value   string
	Label   string
	Checked bool
}

type threadView struct {
	Author string
	Class  string
	Text   string
	Photo  bool
	At     string
}

func (s *Server) mailboxOptions(lang hotline.Lang, f *mailForm) mailboxData {
	var d mailboxData
	for _, r := range hotline.ReporterRoles {
		d.Roles = append(d.Roles, option{string(r), r.Label().In(lang), f != nil && f.Role == string(r)})
	}
	for _, c := range hotline.Categories {
		d.Categories = append(d.Categories, option{string(c), c.Label().In(lang), f != nil && f.Category == string(c)})
	}
	if f != nil {
		d.Text, d.Danger = f.Text, f.Danger
	}
	return d
}

func (s *Server) handleMailboxForm(w http.ResponseWriter, r *http.Request) {
	lang := langOf(r)
	school := s.school(w, r, lang)
	if school == nil {
		return
	}
	s.secure(w, "")
	s.render(w, http.StatusOK, "mailbox.html", page{Lang: lang, School: school, Title: txtMailbox.In(lang) + " · " + school.DisplayName(lang),
		Token: s.formToken(formMailbox, school.Code), Data: s.mailboxOptions(lang, nil)}.fill())
}

var txtMailbox = hotline.Label{ZH: "网上信箱", EN: "Mailbox"}

func (s *Server) handleMailboxSubmit(w http.ResponseWriter, r *http.Request) {
	lang := langOf(r)
	school := s.school(w, r, lang)
	if school == nil {
		return
	}
	s.secure(w, "")
	again := func(status int, f *mailForm, err error) {
		d := s.mailboxOptions(lang, f)
		s.render(w, status, "mailbox.html", page{Lang: lang, School: school, Title: txtMailbox.In(lang) + " · " + school.DisplayName(lang),
			Token: s.formToken(formMailbox, school.Code), Data: d, Error: hotline.ErrorMessage(err, lang)}.fill())
	}
	if !s.sameOrigin(r) {
		again(http.StatusForbidden, nil, errOrigin)
		return
	}
	f, err := s.parseForm(w, r)
	if err != nil {
		again(hotline.HTTPStatus(err), f, err)
		return
	}
	if f.Lang != "" {
		lang = hotline.ParseLang(f.Lang)
	}
	if !s.checkToken(f.Token, formMailbox, school.Code) {
		again(http.StatusForbidden, f, errForm)
		return
	}
	if ok, wait := s.limits.Allow(s.clientOf(r), actPost); !ok {
		retryAfter(w, wait)
		again(http.StatusTooManyRequests, f, waitError(txtTooManyPosts, wait))
		return
	}
	// The token is single-use: a second post of the same form (a double
	// click, a resend after a lost answer, a restart between) waits for
	// the first and, if it was stored, is told so instead of filing it
	// again. The form is recorded as used in the transaction that files
	// the report (dialog.Once), so a post whose answer was lost (a crash
	// before it was sent) finds it used, and one racing it on another
	// node is refused by that record.
	used := s.formUseMAC(f.Token)
	release, err := s.forms.claim(r.Context(), string(used))
	if err != nil {
		return // the reporter left
	}
	defer release()
	sub := hotline.Submission{SchoolCode: school.Code, Channel: hotline.ChannelMailbox, Role: hotline.ReporterRole(f.Role),
		Category: hotline.Category(f.Category), Lang: lang, DangerNow: f.Danger}
	if strings.TrimSpace(f.Text) != "" {
		sub.Texts = []string{f.Text}
	}
	var res *hotline.Submitted
	before, err := dialog.Once(r.Context(), s.Deliveries, reportKey(used), func(ctx context.Context) error {
		if f.Photo != nil {
			p, err := s.cleanPhoto(ctx, f.Photo)
			if err != nil {
				return err
			}
			sub.Photos = []hotline.Photo{*p}
		}
		var err error
		res, err = s.Intake.Submit(ctx, sub)
		return err
	})
	if before != dialog.NotBefore {
		s.render(w, http.StatusOK, "received.html", page{Lang: lang, School: school, Title: txtReceivedTitle.In(lang)}.fill())
		return
	}
	if err != nil {
		if hotline.ErrorCode(err) == hotline.EINTERNAL {
			s.Logger.Error("mailbox submit", "school", school.Code, "err", err)
		}
		again(hotline.HTTPStatus(err), f, notSaved(err, errNotSaved))
		return
	}
	d := mailboxData{Receipt: res.Receipt, Alias: res.Alias.In(lang), Urgent: res.Urgent, Emergency: school.Settings.EmergencyContact}
	if !res.SafetyDue.IsZero() {
		if d.Ask = s.askView(lang); d.Ask != nil {
			d.Ask.From = "receipt"
		}
	}
	dl := school.Settings.Deadlines.WithDefaults()
	if res.Urgent {
		d.Within = dl.AckUrgent.In(lang)
	} else {
		d.Within = dl.Ack.In(lang)
	}
	s.render(w, http.StatusOK, "receipt.html", page{Lang: lang, School: school, Title: txtReceiptTitle.In(lang), Data: d}.fill())
}

var (
	txtReceiptTitle  = hotline.Label{ZH: "已收到你的报告", EN: "Your report was received"}
	txtReceivedTitle = hotline.Label{ZH: "已经收到了", EN: "Already received"}
)

// handleStatusForm asks for a receipt. The receipt is always posted, never
// put in a URL, so it stays out of history and server logs.
func (s *Server) handleStatusForm(w http.ResponseWriter, r *http.Request) {
	lang := langOf(r)
	s.secure(w, "")
	s.render(w, http.StatusOK, "status.html", page{Lang: lang, Title: txtStatusTitle.In(lang), Token: s.formToken(formStatus, "")}.fill())
}

var txtStatusTitle = hotline.Label{ZH: "查看老师的回复", EN: "Read the counselors' replies"}

func (s *Server) handleStatusShow(w http.ResponseWriter, r *http.Request) {
	lang := langOf(r)
	s.secure(w, "")
	if !s.sameOrigin(r) {
		s.statusPage(w, r, lang, http.StatusForbidden, "", errOrigin, "")
		return
	}
	f, err := s.parseForm(w, r)
	if err != nil {
		s.statusPage(w, r, lang, hotline.HTTPStatus(err), "", err, "")
		return
	}
	if f.Lang != "" {
		lang = hotline.ParseLang(f.Lang)
	}
	if !s.checkToken(f.Token, formStatus, "") {
		s.statusPage(w, r, lang, http.StatusForbidden, "", errForm, "")
		return
	}
	if f.Receipt != "" {
		var done func()
		if r, done, err = s.admitLookup(w, r, actRead); err != nil {
			s.statusPage(w, r, lang, http.StatusTooManyRequests, "", err, "")
			return
		}
		defer done()
	}
	s.statusPage(w, r, lang, http.StatusOK, f.Receipt, nil, "")
}

// admitLookup decides, before a receipt is looked up, whether the client
// may: it must have a guess left (a client that keeps trying receipts
// that open nothing waits) and a token of act. Refused, it sets
// Retry-After and returns the error to show. The guess is taken now, not
// charged after a miss: lookups that run at once (a flood of parallel
// requests, or slow lookups) cannot all pass while the bucket still looks
// full. done gives it back unless the lookup missed (threadPage marks the
// request's guess spent): a valid receipt's lookup costs no guess, so a
// reporter is never held back by a guesser elsewhere. The returned request
// carries the guess.
func (s *Server) admitLookup(w http.ResponseWriter, r *http.Request, act throttle.Action) (_ *http.Request, done func(), _ error) {
	client := s.clientOf(r)
	if ok, wait := s.limits.Allow(client, actGuess); !ok {
		retryAfter(w, wait)
		return r, func() {}, waitError(txtTooManyGuesses, wait)
	}
	if ok, wait := s.limits.Allow(client, act); !ok {
		s.limits.Refund(client, actGuess)
		retryAfter(w, wait)
		if act == actPost {
			return r, func() {}, waitError(txtTooManyPosts, wait)
		}
		return r, func() {}, waitError(txtTooManyReads, wait)
	}
	g := &heldGuess{}
	done = func() {
		if !g.spent.Load() {
			s.limits.Refund(client, actGuess)
		}
	}
	return r.WithContext(context.WithValue(r.Context(), heldGuessKey{}, g)), done, nil
}

// heldGuess is the guess admitLookup took for a request's receipt lookup.
type heldGuess struct{ spent atomic.Bool }

type heldGuessKey struct{}

// spendGuess counts a receipt lookup that opened nothing: the request's
// held guess is kept, or, without one, a guess is charged.
func (s *Server) spendGuess(r *http.Request) {
	if g, ok := r.Context().Value(heldGuessKey{}).(*heldGuess); ok {
		g.spent.Store(true)
		return
	}
	s.limits.Charge(s.clientOf(r), actGuess)
}

func (s *Server) handleStatusReply(w http.ResponseWriter, r *http.Request) {
	lang := langOf(r)
	s.secure(w, "")
	if !s.sameOrigin(r) {
		s.statusPage(w, r, lang, http.StatusForbidden, "", errOrigin, "")
		return
	}
	f, err := s.parseForm(w, r)
	if err != nil {
		s.statusPage(w, r, lang, hotline.HTTPStatus(err), "", err, "")
		return
	}
	if f.Lang != "" {
		lang = hotline.ParseLang(f.Lang)
	}
	// The rate limit comes before anything that looks the receipt up: a
	// refused post must not open the thread, or it would be a free oracle
	// for guessing receipts.
	r, done, err := s.admitLookup(w, r, actPost)
	if err != nil {
		s.replyAgain(w, lang, http.StatusTooManyRequests, f.Receipt, err, f.Text)
		return
	}
	defer done()
	if !s.checkToken(f.Token, formReply, "") {
		s.statusPage(w, r, lang, http.StatusForbidden, f.Receipt, errForm, f.Text)
		return
	}
	var photo *hotline.Photo
	if f.Photo != nil {
		if photo, err = s.cleanPhoto(r.Context(), f.Photo); err != nil {
			s.statusPage(w, r, lang, hotline.HTTPStatus(err), f.Receipt, err, f.Text)
			return
		}
	}
	// The token is single-use, and used in the transaction that stores the
	// message: a post sent again (a double click, a resend after a lost
	// answer, a restart between) waits for the first and is told it was
	// received instead of adding the message twice.
	used := s.formUseMAC(f.Token)
	release, err := s.forms.claim(r.Context(), string(used))
	if err != nil {
		return // the reporter left
	}
	defer release()
	// Not looked up first (nil deliveries): a post refused before it
	// writes (its receipt in the text) is told why, as it always was; the
	// key recorded with the message decides.
	before, err := dialog.Once(r.Context(), nil, replyKey(used), func(ctx context.Context) error {
		_, err := s.Intake.AddReporterMessage(ctx, hotline.ReporterRef{Receipt: f.Receipt}, f.Text, photo)
		return err
	})
	if before != dialog.NotBefore {
		s.threadPage(w, r, lang, http.StatusOK, f.Receipt, nil, "", txtReplyReceived.In(lang))
		return
	}
	if err != nil {
		if hotline.ErrorCode(err) == hotline.EINTERNAL {
			s.Logger.Error("mailbox reply", "err", err)
		}
		keep := f.Text
		if errors.Is(err, hotline.ErrReceiptInText) {
			keep = "" // do not echo the receipt back into the form
		}
		s.statusPage(w, r, lang, hotline.HTTPStatus(err), f.Receipt, notSaved(err, errReplyNotSaved), keep)
		return
	}
	s.statusPage(w, r, lang, http.StatusOK, f.Receipt, nil, "")
}

var (
	txtSent          = hotline.Label{ZH: "已经转给老师了。", EN: "Sent to the counselor."}
	txtReplyReceived = hotline.Label{ZH: "这条消息之前已经收到了，没有重复保存。", EN: "This message was already received; it was not saved twice."}
)

// reportKey and replyKey name a used mailbox or reply form token in the
// record of applied deliveries (the store's handled updates).
func reportKey(tokenMAC []byte) string { return "mbs:" + hex.EncodeToString(tokenMAC) }
func replyKey(tokenMAC []byte) string  { return "mbr:" + hex.EncodeToString(tokenMAC) }

// replyAgain shows the reply form again with what the reporter wrote, but
// without opening the thread: for a post refused before its receipt may be
// looked up.
func (s *Server) replyAgain(w http.ResponseWriter, lang hotline.Lang, status int, receipt string, fail error, text string) {
	if vault.ReceiptContains(text, receipt) {
		text = ""
	}
	p := page{Lang: lang, Title: txtStatusTitle.In(lang), Token: s.formToken(formReply, ""),
		Data: mailboxData{Receipt: receipt, Text: text}, Error: hotline.ErrorMessage(fail, lang)}
	s.render(w, status, "thread.html", p.fill())
}

// statusPage shows the thread of receipt with a reply form, or the receipt
// form again with an error.
func (s *Server) statusPage(w http.ResponseWriter, r *http.Request, lang hotline.Lang, status int, receipt string, fail error, text string) {
	notice := ""
	if fail == nil && r.URL.Path == "/m/status/reply" {
		notice = txtSent.In(lang)
	}
	s.threadPage(w, r, lang, status, receipt, fail, text, notice)
}

// threadPage is statusPage with the notice to show above the thread.
func (s *Server) threadPage(w http.ResponseWriter, r *http.Request, lang hotline.Lang, status int, receipt string, fail error, text, notice string) {
	p := page{Lang: lang, Title: txtStatusTitle.In(lang)}
	if receipt == "" {
		p.Token = s.formToken(formStatus, "")
		p.Error = hotline.ErrorMessage(fail, lang)
		s.render(w, status, "status.html", p.fill())
		return
	}
	tip, msgs, err := s.Reporters.ThreadByReceipt(r.Context(), receipt)
	if err != nil {
		if missedReceipt(err) {
			s.spendGuess(r)
		}
		if hotline.ErrorCode(err) == hotline.EINTERNAL {
			s.Logger.Error("mailbox thread", "err", err)
		}
		p.Token = s.formToken(formStatus, "")
		p.Error = hotline.ErrorMessage(err, lang)
		s.render(w, hotline.HTTPStatus(err), "status.html", p.fill())
		return
	}
	d := mailboxData{Receipt: receipt, Alias: tip.Alias.In(lang), Status: tip.Status.ForReporter().In(lang), Text: text, Urgent: tip.Urgent}
	if !tip.SafetyDue.IsZero() && !tip.Urgent {
		d.Ask = s.askView(lang)
	}
	var dl hotline.Deadlines
	if sb, ok := s.Schools.(schoolsByID); ok {
		if school, err := sb.SchoolByID(r.Context(), tip.SchoolID); err == nil {
			dl = school.Settings.Deadlines
		} else {
			s.Logger.Error("mailbox thread: school", "err", err)
		}
	}
	dl = dl.WithDefaults()
	if tip.Urgent {
		d.Within = dl.AckUrgent.In(lang)
	} else {
		d.Within = dl.FirstReply.In(lang)
	}
	d.Emergency = s.emergency(r.Context(), tip)
	for _, e := range thread.Entries(msgs) {
		v := threadView{Author: e.Speaker.Label().In(lang), Class: "them", Text: e.Text, Photo: e.HasPhoto, At: e.At.In(hotline.ChinaTime).Format("2006-01-02 15:04")}
		if e.Speaker == thread.SpeakerYou {
			v.Class = "you"
		}
		d.Thread = append(d.Thread, v)
	}
	p.Token = s.formToken(formReply, "")
	p.Data = d
	if fail != nil {
		p.Error = hotline.ErrorMessage(fail, lang)
	} else {
		p.Notice = notice
	}
	s.render(w, status, "thread.html", p.fill())
}

// askView returns the safety question for a page in lang, or nil when the
// server takes no answers.
func (s *Server) askView(lang hotline.Lang) *askView {
	if s.Safety == nil || s.SafetyWords == nil {
		return nil
	}
	q, yes, no := s.SafetyWords()
	return &askView{Question: q.In(lang), Yes: yes.In(lang), No: no.In(lang), Token: s.formToken(formSafety, "")}
}

// handleSafetyAnswer takes the answer to the safety question the receipt
// or thread page asked (a form without JavaScript: the page cannot ask
// back as the chat does). The receipt names the report, as on the status
// page; the answer's form token is single-purpose. Yes marks the report
// urgent and the on-call is paged; the thread page then shows the safety
// guidance. No is thanked. Either way the reporter lands on their thread,
// where they can write on.
func (s *Server) handleSafetyAnswer(w http.ResponseWriter, r *http.Request) {
	lang := langOf(r)
	s.secure(w, "")
	if !s.sameOrigin(r) {
		s.statusPage(w, r, lang, http.StatusForbidden, "", errOrigin, "")
		return
	}
	f, err := s.parseForm(w, r)
	if err != nil {
		s.statusPage(w, r, lang, hotline.HTTPStatus(err), "", err, "")
		return
	}
	if f.Lang != "" {
		lang = hotline.ParseLang(f.Lang)
	}
	r, done, err := s.admitLookup(w, r, actPost)
	if err != nil {
		s.statusPage(w, r, lang, http.StatusTooManyRequests, "", err, "")
		return
	}
	defer done()
	if !s.checkToken(f.Token, formSafety, "") || (f.Answer != "yes" && f.Answer != "no") || s.Safety == nil {
		s.statusPage(w, r, lang, http.StatusForbidden, f.Receipt, errForm, "")
		return
	}
	yes := f.Answer == "yes"
	if _, err := s.Safety.AnswerSafety(r.Context(), hotline.ReporterRef{Receipt: f.Receipt}, yes); err != nil {
		if missedReceipt(err) {
			s.spendGuess(r)
		}
		if hotline.ErrorCode(err) == hotline.EINTERNAL {
			s.Logger.Error("mailbox safety answer", "err", err)
		}
		s.statusPage(w, r, lang, hotline.HTTPStatus(err), f.Receipt, err, "")
		return
	}
	notice := txtSafeNo.In(lang)
	if yes {
		notice = txtSafeYes.In(lang)
	}
	if f.From == "receipt" {
		// Answered before the receipt was surely written down: show it
		// again, or the reporter could lose it by answering.
		s.receiptAgain(w, r, lang, f.Receipt, notice)
		return
	}
	s.threadPage(w, r, lang, http.StatusOK, f.Receipt, nil, "", notice)
}

// receiptAgain shows the receipt page of receipt's report again, as it
// stands now, with notice.
func (s *Server) receiptAgain(w http.ResponseWriter, r *http.Request, lang hotline.Lang, receipt, notice string) {
	tip, err := s.Reporters.TipStatus(r.Context(), receipt)
	if err != nil {
		s.threadPage(w, r, lang, http.StatusOK, receipt, nil, "", notice)
		return
	}
	d := mailboxData{Receipt: receipt, Alias: tip.Alias.In(lang), Urgent: tip.Urgent, Emergency: s.emergency(r.Context(), tip)}
	var dl hotline.Deadlines
	if sb, ok := s.Schools.(schoolsByID); ok {
		if school, err := sb.SchoolByID(r.Context(), tip.SchoolID); err == nil {
			dl = school.Settings.Deadlines
		}
	}
	dl = dl.WithDefaults()
	d.Within = dl.Ack.In(lang)
	if tip.Urgent {
		d.Within = dl.AckUrgent.In(lang)
	}
	s.render(w, http.StatusOK, "receipt.html", page{Lang: lang, Title: txtReceiptTitle.In(lang), Data: d, Notice: notice}.fill())
}

// emergency is the emergency contact of tip's school, for the safety
// guidance of its pages; "" when it cannot be found.
func (s *Server) emergency(ctx context.Context, tip *hotline.Tip) string {
	if sb, ok := s.Schools.(schoolsByID); ok {
		if school, err := sb.SchoolByID(ctx, tip.SchoolID); err == nil {
			return school.Settings.EmergencyContact
		}
	}
	return ""
}

var (
	txtSafeNo  = hotline.Label{ZH: "谢谢你告诉我们。", EN: "Thank you for telling us."}
	txtSafeYes = hotline.Label{ZH: "谢谢你告诉我们。我们已经通知了学校的值班老师，他们会尽快处理。如果现在就有危险，请马上打 110。", EN: "Thank you for telling us. We have told the school's on-call staff, who will act on it soon. If there is danger right now, call 110 at once."}
)
