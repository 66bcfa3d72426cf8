package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math"
	"sort"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"

	"hotline/internal/hotline"
)

type tipRow struct {
	ID             int64         `db:"id"`
	UID            string        `db:"uid"`
	SchoolID       int64         `db:"school_id"`
	AliasZH        string        `db:"alias_zh"`
	AliasEN        string        `db:"alias_en"`
	Channel        string        `db:"channel"`
	ReporterRole   string        `db:"reporter_role"`
	Status         string        `db:"status"`
	Severity       string        `db:"severity"`
	Category       string        `db:"category"`
	Urgent         bool          `db:"urgent"`
	AssigneeID     sql.NullInt64 `db:"assignee_id"`
	Escalated      bool          `db:"escalated"`
	Steps          string        `db:"steps"`
	ReporterKey    []byte        `db:"reporter_key"`
	ReporterKeyV   int           `db:"reporter_key_version"`
	CreatedAt      int64         `db:"created_at"`
	UpdatedAt      int64         `db:"updated_at"`
	LastReporterAt int64         `db:"last_reporter_at"`
	AckDue         int64         `db:"ack_due"`
	ReplyDue       int64         `db:"reply_due"`
	DistrictDue    int64         `db:"district_due"`
	AcknowledgedAt int64         `db:"acknowledged_at"`
	FirstReplyAt   int64         `db:"first_reply_at"`
	ResolvedAt     int64         `db:"resolved_at"`
	QueueDue       int64         `db:"queue_due"`
	Purged         bool          `db:"purged"`
	AssessDue      int64         `db:"assess_due"`
	ProgressDue    int64         `db:"progress_due"`
	PossiblyUrgent bool          `db:"possibly_urgent"`
	SafetyDue      int64         `db:"safety_due"`
	SafetyAskedAt  int64         `db:"safety_asked_at"`
}

const tipColumns = `id, uid, school_id, alias_zh, alias_en, channel, reporter_role, status, severity, category, urgent, assignee_id, escalated, steps, reporter_key, reporter_key_version, created_at, updated_at, last_reporter_at, ack_due, reply_due, district_due, acknowledged_at, first_reply_at, resolved_at, queue_due, purged, assess_due, progress_due, possibly_urgent, safety_due, safety_asked_at`

func (r *tipRow) tip() *hotline.Tip {
	t := &hotline.Tip{
		ID: r.ID, UID: r.UID, SchoolID: r.SchoolID, Alias: hotline.Alias{ZH: r.AliasZH, EN: r.AliasEN},
		Channel: hotline.Channel(r.Channel), Role: hotline.ReporterRole(r.ReporterRole), Status: hotline.Status(r.Status),
		Severity: hotline.Severity(r.Severity), Category: hotline.Category(r.Category), Urgent: r.Urgent,
		AssigneeID: r.AssigneeID.Int64, Escalated: r.Escalated, Steps: parseSteps(r.Steps), ReporterKey: r.ReporterKey, ReporterKeyVersion: r.ReporterKeyV,
		CreatedAt: fromMicros(r.CreatedAt), UpdatedAt: fromMicros(r.UpdatedAt), LastReporterAt: fromMicros(r.LastReporterAt),
		AckDue: fromMicros(r.AckDue), ReplyDue: fromMicros(r.ReplyDue), DistrictDue: fromMicros(r.DistrictDue),
		AcknowledgedAt: fromMicros(r.AcknowledgedAt), FirstReplyAt: fromMicros(r.FirstReplyAt), ResolvedAt: fromMicros(r.ResolvedAt),
		Purged: r.Purged, AssessDue: fromMicros(r.AssessDue), ProgressDue: fromMicros(r.ProgressDue),
		PossiblyUrgent: r.PossiblyUrgent, SafetyDue: fromMicros(r.SafetyDue), SafetyAskedAt: fromMicros(r.SafetyAskedAt),
	}
	return t
}

func parseSteps(s string) map[hotline.Step]bool {
	m := map[hotline.Step]bool{}
	for _, f := range strings.Split(s, ",") {
		if f != "" {
			m[hotline.Step(f)] = true
		}
	}
	return m
}

func formatSteps(m map[hotline.Step]bool) string {
	var ss []string
	for k, v := range m {
		if v {
			ss = append(ss, string(k))
		}
	}
	sort.Strings(ss)
	return strings.Join(ss, ",")
}

// noDue sorts tips without an open deadline after every dated one.
const noDue = math.MaxInt64

// queueDue is the stored sort key: the nearest open deadline.
func queueDue(t *hotline.Tip) int64 {
	if d := t.NextDue(); !d.IsZero() {
		return micros(d)
	}
	return noDue
}

// InsertTip inserts a new tip. The caller sets UID, alias, metadata,
// deadlines and the safety question's state (asked with the report, or
// possibly urgent already: in this INSERT, not an UPDATE after it, which
// on PostgreSQL is a round trip fewer); an alias already used in the
// school is ErrAliasTaken. An open unassessed tip without an assessment
// deadline gets its district's (CaseDeadlines), so that no case is
// received outside the net.
func (tx *Tx) InsertTip(t *hotline.Tip, receiptMAC []byte) error {
	return tx.InsertChatTip(t, receiptMAC, nil)
}

// InsertChatTip is InsertTip for a tip filed from a chat (h not nil): the
// chat's handle is written in the tip's row, and h.TipID set. A chat that
// files a report can be reached, so it also revives the chat's other
// handles (ReviveChat; InsertChatTipAlias only when the chat has a handle
// undeliverable or a reply held).
func (tx *Tx) InsertChatTip(t *hotline.Tip, receiptMAC []byte, h *Handle) error {
	return tx.insertTip(t, receiptMAC, h, nil, nil)
}

// InsertChatTipAlias is InsertChatTip that also picks the tip's alias, in
// the same statement: the first of candidates that no tip of the school
// uses (INSERT … SELECT … WHERE NOT EXISTS … LIMIT 1), so that a new
// tip's first waited statement is its insert, not a read of the names in
// use. t.Alias is set to the one chosen. ErrAliasTaken means every
// candidate is taken (or was taken as it went in: the school's unique key
// stays the final judge): try again with others.
//
// submissionMAC, if not nil, is the key of the submission filing the
// tip: the same statement inserts nothing when that submission filed a
// tip already, and that is ErrSubmissionFiled, known before anything else
// of the filing is written (its InsertSubmission, sent late on
// PostgreSQL, stays the final judge).
func (tx *Tx) InsertChatTipAlias(t *hotline.Tip, receiptMAC []byte, h *Handle, candidates []hotline.Alias, submissionMAC []byte) error {
	if len(candidates) == 0 {
		return fmt.Errorf("insert tip: no alias candidates")
	}
	err := tx.insertTip(t, receiptMAC, h, candidates, submissionMAC)
	if errors.Is(err, ErrAliasTaken) && submissionMAC != nil {
		// Nothing went in: for want of a name, or because the submission
		// is filed. Rare, so the one read that tells is here.
		var one int
		switch rerr := tx.queryRow(`SELECT 1 FROM submissions WHERE submission_mac = ?`, submissionMAC).Scan(&one); {
		case rerr == nil:
			return ErrSubmissionFiled
		case !errors.Is(rerr, sql.ErrNoRows):
			return fmt.Errorf("insert tip: %w", rerr)
		}
	}
	return err
}

func (tx *Tx) insertTip(t *hotline.Tip, receiptMAC []byte, h *Handle, candidates []hotline.Alias, submissionMAC []byte) error {
	var chatMAC, chatSealed []byte
	lang, linkedAt := hotline.LangZH, int64(0)
	if h != nil {
		if h.Lang == "" {
			h.Lang = hotline.LangZH
		}
		h.CreatedAt = micros(tx.now)
		chatMAC, chatSealed, lang, linkedAt = h.ChatMAC, h.ChatSealed, h.Lang, h.CreatedAt
	}
	if t.ReporterKey != nil && t.ReporterKeyVersion == 0 {
		// Without its version the key could not be derived again.
		return fmt.Errorf("insert tip: reporter key without its derivation version")
	}
	if t.CreatedAt.IsZero() {
		t.CreatedAt = tx.now
	}
	t.UpdatedAt = t.CreatedAt
	if t.AssessDue.IsZero() && !t.Assessed() && t.Status.Open() {
		d, err := tx.CaseDeadlines(t.SchoolID)
		if err != nil {
			return err
		}
		t.AssessDue = t.CreatedAt.Add(d.Assess.D())
	}
	var assignee sql.NullInt64
	if t.AssigneeID != 0 {
		assignee = sql.NullInt64{Int64: t.AssigneeID, Valid: true}
	}
	head := []any{t.UID, t.SchoolID}
	tail := []any{string(t.Channel), string(t.Role), string(t.Status), string(t.Severity), string(t.Category),
		t.Urgent, assignee, t.Escalated, formatSteps(t.Steps), nullBytes(receiptMAC), nullBytes(t.ReporterKey),
		micros(t.CreatedAt), micros(t.UpdatedAt), micros(t.LastReporterAt), micros(t.AckDue), micros(t.ReplyDue), micros(t.DistrictDue),
		micros(t.AcknowledgedAt), micros(t.FirstReplyAt), micros(t.ResolvedAt), queueDue(t), reporterKeyVersion(t), micros(t.AssessDue), micros(t.ProgressDue),
		t.PossiblyUrgent, micros(t.SafetyDue), micros(t.SafetyAskedAt),
		nullBytes(chatMAC), nullBytes(chatSealed), string(lang), linkedAt}
	var err error
	revive := 1 // without candidates, the plain INSERT does not ask
	if candidates == nil {
		args := append(append(head, t.Alias.ZH, t.Alias.EN), tail...)
		t.ID, err = tx.insertID(qInsertTip, args...)
	} else {
		args := make([]any, 0, len(head)+len(tail)+2*len(candidates)+2)
		args = append(append(args, head...), tail...)
		for _, c := range candidates {
			args = append(args, c.ZH, c.EN)
		}
		args = append(args, t.SchoolID, nullBytes(submissionMAC), nullBytes(chatMAC), true, nullBytes(chatMAC))
		var alias hotline.Alias
		err = tx.queryRow(qInsertTipPicking(len(candidates)), args...).Scan(&t.ID, &alias.ZH, &alias.EN, &revive)
		if err == nil {
			t.Alias = alias
		}
	}
	if errors.Is(err, sql.ErrNoRows) {
		// ON CONFLICT … DO NOTHING, no free candidate, or the
		// submission filed already (InsertChatTipAlias tells): the alias is
		// taken, and the transaction is still usable for another try
		// (on PostgreSQL a failed statement would have aborted it).
		return ErrAliasTaken
	} else if err != nil {
		return fmt.Errorf("insert tip: %w", err)
	}
	if h == nil {
		return nil
	}
	h.TipID = t.ID
	if revive == 0 {
		// Nothing of the chat's to revive: ReviveChat's three
		// statements would change nothing.
		return nil
	}
	return tx.ReviveChat(h.ChatMAC)
}

// qInsertTipPicking is the tip's INSERT that picks its alias among n
// candidates (InsertChatTipAlias): the columns of qInsertTip, the alias
// from a VALUES list (its columns are column1 and column2 on both
// engines), the first candidate no tip of the school has; no row when the
// submission is filed (its parameter; NULL matches none). It also returns
// whether the chat filing it (the last parameters; NULL for none) has
// anything for ReviveChat to do, a handle undeliverable or a reply held,
// so that a chat's new tip runs ReviveChat's three statements only then.
func qInsertTipPicking(n int) string {
	if n == AliasBatch {
		return qInsertTipPick
	}
	return buildInsertTipPicking(n)
}

// qInsertTipPick is the usual one, built once.
var qInsertTipPick = buildInsertTipPicking(AliasBatch)

func buildInsertTipPicking(n int) string {
	var b strings.Builder
	b.WriteString(`INSERT INTO tips (uid, school_id, alias_zh, alias_en, channel, reporter_role, status, severity, category, urgent, assignee_id, escalated, steps, receipt_mac, reporter_key, created_at, updated_at, last_reporter_at, ack_due, reply_due, district_due, acknowledged_at, first_reply_at, resolved_at, queue_due, reporter_key_version, assess_due, progress_due, possibly_urgent, safety_due, safety_asked_at,
		chat_mac, chat_sealed, chat_lang, chat_linked_at)
		SELECT ?, ?, c.column1, c.column2`)
	b.WriteString(strings.Repeat(", ?", 31))
	b.WriteString(` FROM (VALUES (?, ?)`)
	b.WriteString(strings.Repeat(", (?, ?)", n-1))
	// The candidate's test is a scalar subquery, not NOT EXISTS: PostgreSQL
	// turns NOT EXISTS into an anti-join and, for a school of a few
	// hundred tips with statistics, plans it as a hash of every tip of the
	// school (a scan per new tip; without statistics, an index scan of
	// them all). A scalar subquery runs per candidate tried, as one probe
	// of the (school_id, alias_zh) key; SQLite probes either way.
	b.WriteString(`) AS c WHERE (SELECT 1 FROM tips u WHERE u.school_id = ? AND u.alias_zh = c.column1 LIMIT 1) IS NULL
		AND NOT EXISTS (SELECT 1 FROM submissions f WHERE f.submission_mac = ?) LIMIT 1
		ON CONFLICT (school_id, alias_zh) DO NOTHING RETURNING id, alias_zh, alias_en,
		CASE WHEN EXISTS (SELECT 1 FROM tips o WHERE o.chat_mac = ? AND o.chat_undeliverable = ?)
			OR EXISTS (SELECT 1 FROM outbox x WHERE x.chat_mac = ? AND x.held_at > 0) THEN 1 ELSE 0 END`)
	return b.String()
}

// reporterKeyVersion is the stored derivation version of a tip's reporter
// key: 0 without one.
func reporterKeyVersion(t *hotline.Tip) int {
	if t.ReporterKey == nil {
		return 0
	}
	return t.ReporterKeyVersion
}

// ErrAliasTaken means the alias is already used by a tip of the school.
var ErrAliasTaken = fmt.Errorf("store: alias taken")

// UpdateTip saves a tip's metadata (status, severity, category, flags,
// assignee, steps, deadlines and their fulfilment times).
func (tx *Tx) UpdateTip(t *hotline.Tip) error {
	t.UpdatedAt = tx.now
	var assignee sql.NullInt64
	if t.AssigneeID != 0 {
		assignee = sql.NullInt64{Int64: t.AssigneeID, Valid: true}
	}
	return tx.execOne(qUpdateTip,
		string(t.Status), string(t.Severity), string(t.Category), t.Urgent, assignee, t.Escalated, formatSteps(t.Steps), micros(t.UpdatedAt), micros(t.LastReporterAt),
		micros(t.AckDue), micros(t.ReplyDue), micros(t.DistrictDue), micros(t.AcknowledgedAt), micros(t.FirstReplyAt), micros(t.ResolvedAt), queueDue(t), t.Purged,
		micros(t.AssessDue), micros(t.ProgressDue), t.ID)
}

// CountTips counts a school's tips, from the read pool.
func (db *DB) CountTips(ctx context.Context, schoolID int64) (int, error) {
	var n int
	err := db.reader.GetContext(ctx, &n, `SELECT COUNT(*) FROM tips WHERE school_id = ?`, schoolID)
	return n, err
}

// CountTips counts a school's tips.
func (tx *Tx) CountTips(schoolID int64) (int, error) {
	var n int
	err := tx.GetContext(tx.c(), &n, `SELECT COUNT(*) FROM tips WHERE school_id = ?`, schoolID)
	return n, err
}

func findTips(ctx context.Context, q sqlx.QueryerContext, where string, args ...any) ([]*hotline.Tip, error) {
	var rows []tipRow
	if err := sqlx.SelectContext(ctx, q, &rows, `SELECT `+tipColumns+` FROM tips `+where, args...); err != nil {
		return nil, fmt.Errorf("select tips: %w", err)
	}
	out := make([]*hotline.Tip, len(rows))
	for i := range rows {
		out[i] = rows[i].tip()
	}
	return out, nil
}

func findTip(ctx context.Context, q sqlx.QueryerContext, where string, args ...any) (*hotline.Tip, error) {
	ts, err := findTips(ctx, q, where+` LIMIT 1`, args...)
	if err != nil {
		return nil, err
	} else if len(ts) == 0 {
		return nil, hotline.ErrNotFound
	}
	return ts[0], nil
}

// TipByUID finds a tip by its UID.
func (db *DB) TipByUID(ctx context.Context, uid string) (*hotline.Tip, error) {
	return findTip(ctx, db.rq, `WHERE uid = ?`, uid)
}

// TipByID finds a tip by id.
func (db *DB) TipByID(ctx context.Context, id int64) (*hotline.Tip, error) {
	return findTip(ctx, db.rq, `WHERE id = ?`, id)
}

// TipByUID finds a tip by UID within the transaction.
func (tx *Tx) TipByUID(uid string) (*hotline.Tip, error) {
	return findTip(tx.c(), tx.Tx, `WHERE uid = ?`, uid)
}

// TipByID finds a tip by id within the transaction.
func (tx *Tx) TipByID(id int64) (*hotline.Tip, error) {
	return findTip(tx.c(), tx.Tx, `WHERE id = ?`, id)
}

// TipByReceiptMAC finds a web reporter's tip by the HMAC of their receipt.
func (db *DB) TipByReceiptMAC(ctx context.Context, mac []byte) (*hotline.Tip, error) {
	return findTip(ctx, db.rq, `WHERE receipt_mac = ?`, mac)
}

// TipByReceiptMAC finds a web reporter's tip within the transaction.
func (tx *Tx) TipByReceiptMAC(mac []byte) (*hotline.Tip, error) {
	return findTip(tx.c(), tx.Tx, `WHERE receipt_mac = ?`, mac)
}

// Tips runs a filtered query for tools (oversight, export, deadlines).
func (db *DB) Tips(ctx context.Context, where string, args ...any) ([]*hotline.Tip, error) {
	return findTips(ctx, db.reader, where, args...)
}

// Queue returns one page of a school's queue, urgent first, then nearest
// deadline, then oldest, and the cursor of the next page (nil at the end).
// It is one range scan of the tips_queue index.
func (db *DB) Queue(ctx context.Context, f hotline.TipFilter, now time.Time) ([]*hotline.Tip, *hotline.QueueCursor, error) {
	if f.SchoolID == 0 {
		return nil, nil, fmt.Errorf("store: queue without a school")
	}
	limit := f.Limit
	if limit <= 0 || limit > 200 {
		limit = 50
	}
	where := []string{"school_id = ?"}
	args := []any{f.SchoolID}
	if f.Status != "" {
		where, args = append(where, "status = ?"), append(args, string(f.Status))
	} else if f.OpenOnly {
		where = append(where, "status IN ('new', 'acknowledged', 'investigating')")
	}
	if f.Severity != "" {
		where, args = append(where, "severity = ?"), append(args, string(f.Severity))
	}
	if f.Category != "" {
		where, args = append(where, "category = ?"), append(args, string(f.Category))
	}
	if f.Channel != "" {
		where, args = append(where, "channel = ?"), append(args, string(f.Channel))
	}
	if f.AssigneeID != 0 {
		where, args = append(where, "assignee_id = ?"), append(args, f.AssigneeID)
	}
	if f.Urgent != nil {
		where, args = append(where, "urgent = ?"), append(args, *f.Urgent)
	}
	if f.Escalated {
		where, args = append(where, "escalated = ?"), append(args, true)
	}
	if f.PossiblyUrgent {
		where, args = append(where, "possibly_urgent = ?"), append(args, true)
	}
	if a := strings.TrimSpace(f.Alias); a != "" {
		// A part of the alias, either language; LIKE's wildcards in the
		// input are escaped so they match themselves.
		pat := "%" + likeEscaper.Replace(strings.ToLower(a)) + "%"
		where = append(where, `(alias_zh LIKE ? ESCAPE '\' OR LOWER(alias_en) LIKE ? ESCAPE '\')`)
		args = append(args, pat, pat)
	}
	if !f.From.IsZero() {
		where, args = append(where, "created_at >= ?"), append(args, micros(f.From))
	}
	if !f.To.IsZero() {
		where, args = append(where, "created_at < ?"), append(args, micros(f.To))
	}
	if f.Overdue {
		// queue_due is the nearest open deadline, so a tip is overdue exactly
		// when it has passed.
		where, args = append(where, "queue_due < ?"), append(args, micros(now))
	}
	if c := f.After; c != nil {
		due := micros(c.Due)
		if c.Due.IsZero() {
			due = noDue
		}
		// Row-value comparison in queue order (urgent DESC, queue_due, id).
		where = append(where, "(urgent < ? OR (urgent = ? AND (queue_due > ? OR (queue_due = ? AND id > ?))))")
		args = append(args, c.Urgent, c.Urgent, due, due, c.ID)
	}
	query := `WHERE ` + strings.Join(where, " AND ") + fmt.Sprintf(` ORDER BY urgent DESC, queue_due, id LIMIT %d`, limit+1)
	tips, err := findTips(ctx, db.reader, query, args...)
	if err != nil {
		return nil, nil, err
	}
	var next *hotline.QueueCursor
	if len(tips) > limit {
		tips = tips[:limit]
		last := tips[len(tips)-1]
		next = &hotline.QueueCursor{Urgent: last.Urgent, Due: last.NextDue(), ID: last.ID}
	}
	return tips, next, nil
}

var likeEscaper = strings.NewReplacer(`\`, `\\`, "%", `\%`, "_", `\_`)

// StatusCounts counts a school's tips by status.
func (db *DB) StatusCounts(ctx context.Context, schoolID int64) (map[hotline.Status]int, error) {
	var rows []struct {
		Status string `db:"status"`
		N      int    `db:"n"`
	}
	if err := db.reader.SelectContext(ctx, &rows, `SELECT status, COUNT(*) AS n FROM tips WHERE school_id = ? GROUP BY status`, schoolID); err != nil {
		return nil, err
	}
	m := map[hotline.Status]int{}
	for _, r := range rows {
		m[hotline.Status(r.Status)] = r.N
	}
	return m, nil
}

func nullBytes(b []byte) any {
	if b == nil {
		return nil
	}
	return b
}
