package platform

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"time"

	"golang.org/x/time/rate"

	"hotline/internal/district"
	"hotline/internal/hotline"
	"hotline/internal/ledger"
)

// FormatStats names the statistics document's format.
const FormatStats = "hotline-stats/1"

// StatsDoc is what the statistics endpoint serves: the figures of the
// district page. A count that could single out a pupil (by category,
// channel, severity…, 1 to 4) is the string "<5", as on the page; a
// school's own failures and duties (overdue, missed, unassessed,
// escalated, must be escalated) are always numbers.
type StatsDoc struct {
	Format      string        `json:"format"`
	District    string        `json:"district"`
	GeneratedAt time.Time     `json:"generated_at"`
	Total       *SchoolStats  `json:"total"`
	Schools     []SchoolStats `json:"schools"`
	Ledger      LedgerState   `json:"ledger"`
}

// SchoolStats are one school's figures (or the district's total, without
// School).
type SchoolStats struct {
	School          *School          `json:"school,omitempty"`
	Received        Count            `json:"received"`
	Open            Count            `json:"open"`
	Overdue         int              `json:"overdue"`
	Missed          int              `json:"missed"`
	Unassessed      int              `json:"unassessed"`
	Escalated       int              `json:"escalated"`
	NeedsEscalation int              `json:"needs_escalation"`
	MedianAckHours  *float64         `json:"median_ack_hours"`
	MedianReply     *float64         `json:"median_first_reply_hours"`
	MedianResolve   *float64         `json:"median_resolve_hours"`
	ByCategory      map[string]Count `json:"by_category"`
	BySeverity      map[string]Count `json:"by_severity"`
	ByChannel       map[string]Count `json:"by_channel"`
	ByStatus        map[string]Count `json:"by_status"`
	BySteps         map[string]Count `json:"by_step"`
	Weeks           []Week           `json:"weeks"`
}

// Week is one week's reports.
type Week struct {
	Start    string `json:"start"` // Monday, China time
	Received Count  `json:"received"`
}

// Count is a count as the district page shows it: its number, or "<5".
type Count int

// MarshalJSON writes the number, or "<5" for 1 to 4.
func (c Count) MarshalJSON() ([]byte, error) {
	s := district.Suppress(int(c))
	if _, err := strconv.Atoi(s); err == nil {
		return []byte(s), nil
	}
	return []byte(`"` + s + `"`), nil // "<5": nothing to escape but for HTML
}

// LedgerState is the ledger's state as the district page shows it.
type LedgerState struct {
	OK      bool    `json:"ok"`
	Events  int64   `json:"events_verified"`
	Pending int64   `json:"events_pending"`
	Head    *Ledger `json:"head,omitempty"`
	Break   string  `json:"break,omitempty"`
	// Daily are the newest daily heads, newest first.
	Daily []DailyHead `json:"daily_heads"`
}

// DailyHead is a recorded daily head.
type DailyHead struct {
	Day string `json:"day"`
	Ledger
}

// Stats composes the district's statistics document.
func (s *Service) Stats(ctx context.Context, districtName string) (*StatsDoc, error) {
	now := s.District.Now()
	o, err := s.District.Overview(ctx, districtName, now)
	if err != nil {
		return nil, err
	}
	doc := &StatsDoc{Format: FormatStats, District: districtName, GeneratedAt: now.UTC(), Total: schoolStats(o.Total)}
	for _, st := range o.Schools {
		doc.Schools = append(doc.Schools, *schoolStats(st))
	}
	l := o.Ledger
	doc.Ledger = LedgerState{OK: l.Result.OK(), Events: l.Result.Count, Pending: l.Pending, Daily: []DailyHead{}}
	if h, err := hex.DecodeString(l.Result.Head); err == nil && l.Result.Count > 0 {
		doc.Ledger.Head = ledgerOf(l.Result.Count, h)
	}
	if l.Result.Break != nil {
		doc.Ledger.Break = l.Result.Break.Error()
	}
	for _, h := range l.Heads {
		doc.Ledger.Daily = append(doc.Ledger.Daily, DailyHead{Day: h.Day, Ledger: Ledger{Seq: h.Seq, Hash: hex.EncodeToString(h.Hash), Short: ledger.Short(h.Hash)}})
	}
	return doc, nil
}

func hours(m district.Median) *float64 {
	if m.N == 0 {
		return nil
	}
	h, _ := strconv.ParseFloat(m.Hours(), 64)
	return &h
}

func counts[K ~string](m map[K]int, keys []K) map[string]Count {
	out := make(map[string]Count, len(keys))
	for _, k := range keys {
		out[string(k)] = Count(m[k])
	}
	return out
}

func schoolStats(st *district.Stats) *SchoolStats {
	out := &SchoolStats{Received: Count(st.Received), Open: Count(st.Open), Overdue: st.Overdue, Missed: st.Missed, Unassessed: st.Unassessed,
		Escalated: st.Escalated, NeedsEscalation: st.NeedsEscalation, MedianAckHours: hours(st.MedianAck), MedianReply: hours(st.MedianReply),
		MedianResolve: hours(st.MedianResolve), ByCategory: counts(st.ByCategory, hotline.Categories), BySeverity: counts(st.BySeverity, hotline.Severities),
		ByChannel: counts(st.ByChannel, hotline.Channels), ByStatus: counts(st.ByStatus, hotline.Statuses), BySteps: counts(st.BySteps, hotline.Steps)}
	if sc := st.School; sc != nil {
		out.School = &School{Code: sc.Code, Name: sc.Name, NameEN: sc.Settings.NameEN}
	}
	for _, w := range st.ByWeek {
		out.Weeks = append(out.Weeks, Week{Start: w.Start.In(district.Zone).Format("2006-01-02"), Received: Count(w.N)})
	}
	return out
}

// Each token may read the figures every 5 seconds, 10 at once: a platform
// polls, and each answer reads every case of the district. The limits are
// per node, in memory (nothing a restart must keep).
const (
	statsEvery = 5 * time.Second
	statsBurst = 10
)

// allow reports whether token id may read the figures now.
func (s *Service) allow(id int64) bool {
	s.limitMu.Lock()
	defer s.limitMu.Unlock()
	if s.limits == nil {
		s.limits = map[int64]*rate.Limiter{}
	}
	l := s.limits[id]
	if l == nil {
		if len(s.limits) > 10_000 {
			clear(s.limits) // tokens are few; this bounds a misbehaving map
		}
		l = rate.NewLimiter(rate.Every(statsEvery), statsBurst)
		s.limits[id] = l
	}
	return l.Allow()
}

// StatsHandler serves GET with a district's token ("Authorization: Bearer
// hls_…"): the district's statistics as JSON. Anything else about the
// token answers 401 alike.
func (s *Service) StatsHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Cache-Control", "no-store")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'")
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			h.Set("Allow", "GET, HEAD")
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		auth := r.Header.Get("Authorization")
		token, ok := strings.CutPrefix(auth, "Bearer ")
		if !ok {
			h.Set("WWW-Authenticate", `Bearer realm="hotline"`)
			http.Error(w, "a district token is required: Authorization: Bearer hls_…", http.StatusUnauthorized)
			return
		}
		t, err := s.Authenticate(r.Context(), strings.TrimSpace(token))
		if hotline.ErrorCode(err) == hotline.EUNAUTHORIZED {
			h.Set("WWW-Authenticate", `Bearer realm="hotline", error="invalid_token"`)
			http.Error(w, "the token is not valid, or was revoked", http.StatusUnauthorized)
			return
		} else if err != nil {
			http.Error(w, "internal error", http.StatusInternalServerError)
			return
		}
		if !s.allow(t.ID) {
			h.Set("Retry-After", "10")
			http.Error(w, "too many requests for this token: at most one every few seconds", http.StatusTooManyRequests)
			return
		}
		doc, err := s.Stats(r.Context(), t.District)
		if err != nil {
			http.Error(w, "internal error", http.StatusInternalServerError)
			return
		}
		h.Set("Content-Type", "application/json; charset=utf-8")
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		enc.SetEscapeHTML(false) // "<5" as on the page
		enc.Encode(doc)
	})
}
