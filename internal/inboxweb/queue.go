package inboxweb

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"hotline/internal/hotline"
)

// queueLimit is one page of the queue: enough for a morning's work, small
// enough to render fast on a school laptop.
const queueLimit = 50

type queueRow struct {
	Tip      *hotline.Tip
	Unread   bool
	Due      time.Time
	Assignee string
	Snippet  string // a word search's excerpt around the match
}

type queueData struct {
	Query    url.Values
	Filter   hotline.TipFilter
	StatusQ  string // "", "all" or a status
	Mine     bool
	Rows     []queueRow
	Counts   map[hotline.Status]int
	Open     int
	Total    int
	Next     string
	First    bool
	Staff    []*hotline.Counselor
	Statuses []hotline.Status
	Sevs     []hotline.Severity
	Cats     []hotline.Category
	Chans    []hotline.Channel
	// Search: the words, alias and received-date fields as typed; Words
	// set means the rows are a word search's hits.
	Words, Alias, From, To string
	Searched               int // cases opened by this pass of a word search
}

// parseDay reads a yyyy-mm-dd date of the filter form as that day's
// start in China.
func parseDay(v string) (time.Time, error) {
	t, err := time.ParseInLocation("2006-01-02", strings.TrimSpace(v), hotline.ChinaTime)
	if err != nil {
		return time.Time{}, hotline.Errorf(hotline.EINVALID, "日期格式应为 年-月-日，例如 2024-03-01。", "Dates are year-month-day, e.g. 2024-03-01.")
	}
	return t, nil
}

// parseCursor reads the "after" parameter: urgent.dueMicros.id.
func parseCursor(v string) (*hotline.QueueCursor, error) {
	parts := strings.Split(v, ".")
	bad := hotline.Errorf(hotline.EINVALID, "分页参数无效。", "Invalid page position.")
	if len(parts) != 3 || (parts[0] != "0" && parts[0] != "1") {
		return nil, bad
	}
	due, err1 := strconv.ParseInt(parts[1], 10, 64)
	id, err2 := strconv.ParseInt(parts[2], 10, 64)
	if err1 != nil || err2 != nil || due < 0 || id < 0 {
		return nil, bad
	}
	c := &hotline.QueueCursor{Urgent: parts[0] == "1", ID: id}
	if due != 0 {
		c.Due = time.UnixMicro(due).UTC()
	}
	return c, nil
}

func formatCursor(c *hotline.QueueCursor) string {
	u, due := "0", int64(0)
	if c.Urgent {
		u = "1"
	}
	if !c.Due.IsZero() {
		due = c.Due.UnixMicro()
	}
	return fmt.Sprintf("%s.%d.%d", u, due, c.ID)
}

// queue reads the filters of the request and loads one page of the queue.
func (s *Server) queue(r *http.Request, rc *reqCtx) (*queueData, error) {
	ctx := r.Context()
	q := r.URL.Query()
	q.Del("lang")
	d := &queueData{Query: q, Statuses: hotline.Statuses, Sevs: hotline.Severities, Cats: hotline.Categories, Chans: hotline.Channels}
	f := &d.Filter
	f.Limit = queueLimit
	d.StatusQ = q.Get("status")
	switch st := hotline.Status(d.StatusQ); {
	case d.StatusQ == "", d.StatusQ == "open":
		f.OpenOnly = true
		d.StatusQ = ""
	case d.StatusQ == "all":
	case st.Valid():
		f.Status = st
	default:
		return nil, hotline.Errorf(hotline.EINVALID, "状态无效。", "Invalid status.")
	}
	if v := hotline.Severity(q.Get("severity")); v != "" {
		if !v.Valid() {
			return nil, hotline.Errorf(hotline.EINVALID, "情节等级无效。", "Invalid severity.")
		}
		f.Severity = v
	}
	if v := hotline.Category(q.Get("category")); v != "" {
		if !v.Valid() {
			return nil, hotline.Errorf(hotline.EINVALID, "类别无效。", "Invalid category.")
		}
		f.Category = v
	}
	if v := hotline.Channel(q.Get("channel")); v != "" {
		if !v.Valid() {
			return nil, hotline.Errorf(hotline.EINVALID, "渠道无效。", "Invalid channel.")
		}
		f.Channel = v
	}
	counselors, err := s.cfg.Staff.Counselors(ctx, rc.actor())
	if err != nil {
		return nil, err
	}
	d.Staff = counselors
	names := make(map[int64]string, len(counselors))
	for _, c := range counselors {
		names[c.ID] = c.DisplayName
	}
	if v := q.Get("assignee"); v != "" {
		id, err := strconv.ParseInt(v, 10, 64)
		if _, ours := names[id]; err != nil || !ours {
			// A counselor of another school is not a filter value that
			// exists here.
			return nil, hotline.ErrNotFound
		}
		f.AssigneeID = id
	}
	if q.Get("mine") == "1" {
		d.Mine, f.AssigneeID = true, rc.Me.ID
	}
	f.Overdue = q.Get("overdue") == "1"
	f.PossiblyUrgent = q.Get("possibly") == "1"
	d.Words, d.Alias, d.From, d.To = strings.TrimSpace(q.Get("q")), strings.TrimSpace(q.Get("alias")), q.Get("from"), q.Get("to")
	if len(d.Alias) > 64 {
		return nil, hotline.Errorf(hotline.EINVALID, "化名太长了。", "The alias is too long.")
	}
	f.Alias = d.Alias
	if d.From != "" {
		if f.From, err = parseDay(d.From); err != nil {
			return nil, err
		}
	}
	if d.To != "" {
		if f.To, err = parseDay(d.To); err != nil {
			return nil, err
		}
		f.To = f.To.AddDate(0, 0, 1) // the "to" day is included
	}
	if v := q.Get("after"); v != "" {
		if f.After, err = parseCursor(v); err != nil {
			return nil, err
		}
	}
	d.First = f.After == nil
	var tips []*hotline.Tip
	var next *hotline.QueueCursor
	snippets := map[int64]string{}
	if d.Words != "" {
		// Words are looked for in the opened threads, with this session's
		// key: there is no index to ask.
		res, err := s.cfg.Triage.Search(ctx, rc.sess.ts, *f, d.Words)
		if err != nil {
			return nil, err
		}
		for _, h := range res.Hits {
			tips = append(tips, h.Tip)
			snippets[h.Tip.ID] = h.Snippet
		}
		next, d.Searched = res.Next, res.Scanned
	} else if tips, next, err = s.cfg.Triage.Queue(ctx, rc.actor(), *f); err != nil {
		return nil, err
	}
	unread, err := s.cfg.Triage.Unread(ctx, rc.actor(), tips)
	if err != nil {
		return nil, err
	}
	d.Rows = make([]queueRow, len(tips))
	for i, t := range tips {
		d.Rows[i] = queueRow{Tip: t, Unread: unread[t.ID], Due: t.NextDue(), Assignee: names[t.AssigneeID], Snippet: snippets[t.ID]}
	}
	if d.Counts, err = s.cfg.Triage.StatusCounts(ctx, rc.actor()); err != nil {
		return nil, err
	}
	for st, n := range d.Counts {
		d.Total += n
		if st.Open() {
			d.Open += n
		}
	}
	if next != nil {
		nq := url.Values{}
		for k, v := range q {
			nq[k] = v
		}
		nq.Set("after", formatCursor(next))
		d.Next = "/inbox/?" + nq.Encode()
	}
	return d, nil
}

func (s *Server) queuePage(r *http.Request, rc *reqCtx) (*page, error) {
	d, err := s.queue(r, rc)
	if err != nil {
		return nil, err
	}
	p := s.newPage(r, rc, rc.Lang)
	p.Title, p.Nav, p.Live, p.Data = p.T("inbox"), "queue", "queue", d
	if d.Words != "" {
		p.Live = "" // a change must not re-run a search that opens every thread
	}
	if p.Unread, err = s.cfg.Triage.UnreadCount(r.Context(), rc.actor()); err != nil {
		return nil, err
	}
	return p, nil
}

func (s *Server) handleQueue(w http.ResponseWriter, r *http.Request, rc *reqCtx) {
	p, err := s.queuePage(r, rc)
	if err != nil {
		s.fail(w, r, rc, err)
		return
	}
	s.pages.Render(w, http.StatusOK, "queue", p)
}

// handleQueueFragment serves the queue's body alone, for the live script.
func (s *Server) handleQueueFragment(w http.ResponseWriter, r *http.Request, rc *reqCtx) {
	p, err := s.queuePage(r, rc)
	if err != nil {
		s.logErr(r, err)
		http.Error(w, hotline.ErrorMessage(err, rc.Lang), hotline.HTTPStatus(err))
		return
	}
	s.pages.Fragment(w, "queue", "queuebody", p)
}

// eventHeartbeat keeps proxies from closing an idle stream and notices a
// session that expired meanwhile.
var eventHeartbeat = 25 * time.Second

// liveEvent is what the page script receives: no content, only that
// something changed, which tip, and this counselor's unread count.
type liveEvent struct {
	Kind   hotline.ChangeKind `json:"kind"`
	Tip    string             `json:"tip"`
	Unread int                `json:"unread"`
}

// handleEvents streams server-sent events of the counselor's own school.
// Streaming does not count as activity: an open tab must not keep a
// session (and its key) alive forever.
func (s *Server) handleEvents(w http.ResponseWriter, r *http.Request, rc *reqCtx) {
	ctl := http.NewResponseController(w)
	schoolID := rc.School.ID
	actor := rc.actor()
	sub := s.cfg.Broker.SubscribeSchool(schoolID)
	defer sub.Cancel()
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	fmt.Fprint(w, "retry: 5000\n: ok\n\n")
	if err := ctl.Flush(); err != nil {
		return
	}
	tick := time.NewTicker(eventHeartbeat)
	defer tick.Stop()
	for {
		select {
		case <-r.Context().Done():
			return
		case <-s.done:
			return
		case <-tick.C:
			if !s.streamAlive(r, rc) {
				fmt.Fprint(w, "event: expired\ndata: {}\n\n")
				ctl.Flush()
				return
			}
			fmt.Fprint(w, ": ping\n\n")
		case c, ok := <-sub.C:
			if !ok {
				return
			}
			if c.SchoolID != schoolID {
				continue // never another school's notice, whatever the broker does
			}
			if !s.streamAlive(r, rc) {
				fmt.Fprint(w, "event: expired\ndata: {}\n\n")
				ctl.Flush()
				return
			}
			n, err := s.cfg.Triage.UnreadCount(r.Context(), actor)
			if err != nil {
				s.logErr(r, err)
			}
			b, _ := json.Marshal(liveEvent{Kind: c.Kind, Tip: c.TipUID, Unread: n})
			fmt.Fprintf(w, "event: change\ndata: %s\n\n", b)
		}
		if err := ctl.Flush(); err != nil {
			return
		}
	}
}

// streamAlive reports whether a stream's session may still listen: not
// expired, not logged out, the account not deactivated.
func (s *Server) streamAlive(r *http.Request, rc *reqCtx) bool {
	if !s.cfg.Staff.SessionAlive(r.Context(), rc.sess.ts, s.cfg.IdleTimeout) {
		return false
	}
	_, err := s.cfg.Staff.Active(r.Context(), rc.sess.ts)
	return err == nil
}
