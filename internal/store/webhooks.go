package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/jmoiron/sqlx"

	"hotline/internal/hotline"
)

// LedgerHooks run inside the transaction that appends a ledger event or
// records a head, so that what they write (the platform's outbox) commits
// with it or not at all. cmd/hotline sets them once, at open, before any
// write; a hook's error fails the transaction.
type LedgerHooks struct {
	// Event runs after each event is appended.
	Event func(tx *Tx, ev *hotline.Event) error
	// Head runs after a head is recorded: a checkpoint (every HeadEvery
	// events, HeadInterval, an evidence export) or a day's head.
	Head func(tx *Tx, h *LedgerHead, daily bool) error
}

// SetLedgerHooks installs the hooks; call it before the first write.
func (db *DB) SetLedgerHooks(h LedgerHooks) { db.hooks = h }

func (tx *Tx) eventHook(ev *hotline.Event) error {
	if tx.db.hooks.Event == nil {
		return nil
	}
	return tx.db.hooks.Event(tx, ev)
}

func (tx *Tx) headHook(h *LedgerHead, daily bool) error {
	if tx.db.hooks.Head == nil {
		return nil
	}
	return tx.db.hooks.Head(tx, h, daily)
}

// WebhookEndpoint is a district's endpoint on its own platform. Its URL and
// secret are only in Sealed; Masked is what pages show.
type WebhookEndpoint struct {
	ID         int64     `db:"id"`
	District   string    `db:"district"`
	Sealed     []byte    `db:"sealed"`
	Masked     string    `db:"masked"`
	CreatedBy  int64     `db:"created_by"`
	CreatedAt  time.Time `db:"-"`
	OKAt       time.Time `db:"-"`
	FailedAt   time.Time `db:"-"`
	FailCode   string    `db:"fail_code"`
	FailReason string    `db:"fail_reason"`
}

type endpointRow struct {
	WebhookEndpoint
	CreatedAtM int64 `db:"created_at"`
	OKAtM      int64 `db:"ok_at"`
	FailedAtM  int64 `db:"failed_at"`
}

const endpointColumns = `id, district, sealed, masked, created_by, created_at, ok_at, failed_at, fail_code, fail_reason`

func (r *endpointRow) endpoint() *WebhookEndpoint {
	e := r.WebhookEndpoint
	e.CreatedAt, e.OKAt, e.FailedAt = fromMicros(r.CreatedAtM), fromMicros(r.OKAtM), fromMicros(r.FailedAtM)
	return &e
}

// AddWebhookEndpoint inserts an endpoint without its sealed address and
// sets e.ID: the caller seals the URL bound to that id and stores it with
// SetWebhookEndpointSealed in the same transaction.
func (tx *Tx) AddWebhookEndpoint(e *WebhookEndpoint) error {
	e.CreatedAt = tx.now
	id, err := tx.insertID(`INSERT INTO webhook_endpoints (district, masked, created_by, created_at) VALUES (?, ?, ?, ?) RETURNING id`,
		e.District, e.Masked, e.CreatedBy, micros(e.CreatedAt))
	if err != nil {
		return fmt.Errorf("insert webhook endpoint: %w", err)
	}
	e.ID = id
	return nil
}

// SetWebhookEndpointSealed stores an endpoint's sealed URL and secret.
func (tx *Tx) SetWebhookEndpointSealed(id int64, sealed []byte) error {
	return tx.execOne(`UPDATE webhook_endpoints SET sealed = ? WHERE id = ?`, sealed, id)
}

// DeleteWebhookEndpoint deletes a district's endpoint and what waits for
// it; ErrNotFound unless the endpoint is the district's.
func (tx *Tx) DeleteWebhookEndpoint(id int64, district string) error {
	if err := tx.execOne(`DELETE FROM webhook_endpoints WHERE id = ? AND district = ?`, id, district); err != nil {
		return err
	}
	_, err := tx.exec(`DELETE FROM webhook_outbox WHERE endpoint_id = ?`, id)
	return err
}

// MarkWebhookEndpoint records how the last delivery to an endpoint went:
// a success clears an earlier failure.
func (tx *Tx) MarkWebhookEndpoint(id int64, ok bool, code, reason string) error {
	if ok {
		_, err := tx.exec(`UPDATE webhook_endpoints SET ok_at = ?, failed_at = 0, fail_code = '', fail_reason = '' WHERE id = ?`, micros(tx.now), id)
		return err
	}
	_, err := tx.exec(`UPDATE webhook_endpoints SET failed_at = ?, fail_code = ?, fail_reason = ? WHERE id = ?`, micros(tx.now), clip(code, 64), clip(reason, 300), id)
	return err
}

// WebhookEndpoints returns a district's endpoints, oldest first.
func (db *DB) WebhookEndpoints(ctx context.Context, district string) ([]*WebhookEndpoint, error) {
	return findEndpoints(ctx, db.reader, `WHERE district = ? ORDER BY id`, district)
}

// WebhookEndpointByID returns one endpoint.
func (db *DB) WebhookEndpointByID(ctx context.Context, id int64) (*WebhookEndpoint, error) {
	es, err := findEndpoints(ctx, db.reader, `WHERE id = ?`, id)
	if err != nil {
		return nil, err
	} else if len(es) == 0 {
		return nil, hotline.ErrNotFound
	}
	return es[0], nil
}

// WebhookEndpointsTx returns the endpoints of a district ("" for every
// district's) within the transaction.
func (tx *Tx) WebhookEndpointsTx(district string) ([]*WebhookEndpoint, error) {
	if district == "" {
		return findEndpoints(tx.c(), tx.Tx, `ORDER BY id`)
	}
	return findEndpoints(tx.c(), tx.Tx, `WHERE district = ? ORDER BY id`, district)
}

// EndpointsOfSchool returns the endpoints of a school's district, in one
// read: what every case event's hook asks, on the path of every report.
func (tx *Tx) EndpointsOfSchool(schoolID int64) ([]*WebhookEndpoint, error) {
	return findEndpoints(tx.c(), tx.Tx, `WHERE district <> '' AND district = (SELECT district FROM schools WHERE id = ?) ORDER BY id`, schoolID)
}

func findEndpoints(ctx context.Context, q interface {
	SelectContext(context.Context, any, string, ...any) error
	Rebind(string) string
}, where string, args ...any) ([]*WebhookEndpoint, error) {
	var rows []endpointRow
	if err := q.SelectContext(ctx, &rows, q.Rebind(`SELECT `+endpointColumns+` FROM webhook_endpoints `+where), args...); err != nil {
		return nil, fmt.Errorf("select webhook endpoints: %w", err)
	}
	out := make([]*WebhookEndpoint, len(rows))
	for i := range rows {
		out[i] = rows[i].endpoint()
	}
	return out, nil
}

// WebhookOut is a row of the platform's outbox.
type WebhookOut struct {
	ID          int64
	EventID     string
	EndpointID  int64 // an endpoint, or
	TargetID    int64 // an alert target (a district robot, an officer's e-mail)
	District    string
	Kind        string
	Payload     string
	Attempts    int
	NextAt      time.Time
	CreatedAt   time.Time
	DeliveredAt time.Time
	AbandonedAt time.Time
	LastCode    string
}

type webhookOutRow struct {
	ID          int64  `db:"id"`
	EventID     string `db:"event_id"`
	EndpointID  int64  `db:"endpoint_id"`
	TargetID    int64  `db:"target_id"`
	District    string `db:"district"`
	Kind        string `db:"kind"`
	Payload     string `db:"payload"`
	Attempts    int    `db:"attempts"`
	NextAt      int64  `db:"next_attempt_at"`
	CreatedAt   int64  `db:"created_at"`
	DeliveredAt int64  `db:"delivered_at"`
	AbandonedAt int64  `db:"abandoned_at"`
	LastCode    string `db:"last_code"`
}

const webhookOutColumns = `id, event_id, endpoint_id, target_id, district, kind, payload, attempts, next_attempt_at, created_at, delivered_at, abandoned_at, last_code`

func (r *webhookOutRow) out() *WebhookOut {
	return &WebhookOut{ID: r.ID, EventID: r.EventID, EndpointID: r.EndpointID, TargetID: r.TargetID, District: r.District, Kind: r.Kind, Payload: r.Payload,
		Attempts: r.Attempts, NextAt: fromMicros(r.NextAt), CreatedAt: fromMicros(r.CreatedAt), DeliveredAt: fromMicros(r.DeliveredAt),
		AbandonedAt: fromMicros(r.AbandonedAt), LastCode: r.LastCode}
}

// EnqueueWebhook adds a row to the platform's outbox, due now; a row of
// the same event for the same destination is already there and nothing is
// added (it reports false then).
func (tx *Tx) EnqueueWebhook(o *WebhookOut) (bool, error) {
	o.CreatedAt, o.NextAt = tx.now, tx.now
	id, err := tx.insertID(`INSERT INTO webhook_outbox (event_id, endpoint_id, target_id, district, kind, payload, next_attempt_at, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (event_id, endpoint_id, target_id) DO NOTHING RETURNING id`,
		o.EventID, o.EndpointID, o.TargetID, o.District, o.Kind, o.Payload, micros(o.NextAt), micros(o.CreatedAt))
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	} else if err != nil {
		return false, fmt.Errorf("enqueue webhook: %w", err)
	}
	o.ID = id
	return true, nil
}

// ClaimWebhooks claims, for node until the lease ends, up to limit rows
// due by now and not claimed by a lease still running (a node that died
// mid-send leaves its claim to run out). Rows another transaction has
// locked are passed over, not waited for.
func (tx *Tx) ClaimWebhooks(node string, lease time.Duration, limit int) ([]*WebhookOut, error) {
	now := micros(tx.now)
	var rows []webhookOutRow
	err := tx.SelectContext(tx.c(), &rows, tx.Rebind(`SELECT `+webhookOutColumns+` FROM webhook_outbox o
		WHERE o.delivered_at = 0 AND o.abandoned_at = 0 AND o.next_attempt_at <= ? AND o.claimed_until <= ?
		ORDER BY o.next_attempt_at, o.id LIMIT ?`+tx.db.dialect.skipLocked("o")), now, now, limit)
	if err != nil {
		return nil, fmt.Errorf("claim webhooks: %w", err)
	}
	until := micros(tx.now.Add(lease))
	out := make([]*WebhookOut, len(rows))
	for i := range rows {
		if _, err := tx.exec(`UPDATE webhook_outbox SET claimed_by = ?, claimed_until = ? WHERE id = ?`, node, until, rows[i].ID); err != nil {
			return nil, fmt.Errorf("claim webhooks: %w", err)
		}
		out[i] = rows[i].out()
	}
	return out, nil
}

// FinishWebhook records a row's last attempt: delivered, abandoned (it
// will never go) or to be tried again at next. Only the node holding the
// claim records it: a node whose lease ran out and whose row another took
// over records nothing.
func (tx *Tx) FinishWebhook(id int64, node string, delivered, abandoned bool, next time.Time, code string) (bool, error) {
	var q string
	var args []any
	switch {
	case delivered:
		q, args = `UPDATE webhook_outbox SET delivered_at = ?, attempts = attempts + 1, claimed_by = '', claimed_until = 0, last_code = ? WHERE id = ? AND claimed_by = ?`,
			[]any{micros(tx.now), clip(code, 64), id, node}
	case abandoned:
		q, args = `UPDATE webhook_outbox SET abandoned_at = ?, attempts = attempts + 1, claimed_by = '', claimed_until = 0, last_code = ? WHERE id = ? AND claimed_by = ?`,
			[]any{micros(tx.now), clip(code, 64), id, node}
	default:
		q, args = `UPDATE webhook_outbox SET next_attempt_at = ?, attempts = attempts + 1, claimed_by = '', claimed_until = 0, last_code = ? WHERE id = ? AND claimed_by = ?`,
			[]any{micros(next), clip(code, 64), id, node}
	}
	res, err := tx.exec(q, args...)
	if err != nil {
		return false, fmt.Errorf("finish webhook: %w", err)
	}
	n, _ := res.RowsAffected()
	return n == 1, nil
}

// NextWebhookAttempt returns when the next row is due (zero: none waits).
func (db *DB) NextWebhookAttempt(ctx context.Context) (time.Time, error) {
	var at sql.NullInt64
	err := db.reader.GetContext(ctx, &at, `SELECT MIN(next_attempt_at) FROM webhook_outbox WHERE delivered_at = 0 AND abandoned_at = 0`)
	if err != nil || !at.Valid {
		return time.Time{}, err
	}
	return fromMicros(at.Int64), nil
}

// WebhookRows lists a district's newest outbox rows (every row when
// district is ""), newest first, at most limit.
func (db *DB) WebhookRows(ctx context.Context, district string, limit int) ([]*WebhookOut, error) {
	q, args := `SELECT `+webhookOutColumns+` FROM webhook_outbox`, []any{}
	if district != "" {
		q, args = q+` WHERE district = ?`, append(args, district)
	}
	var rows []webhookOutRow
	if err := db.reader.SelectContext(ctx, &rows, db.reader.Rebind(q+fmt.Sprintf(` ORDER BY id DESC LIMIT %d`, max(1, limit))), args...); err != nil {
		return nil, fmt.Errorf("select webhooks: %w", err)
	}
	out := make([]*WebhookOut, len(rows))
	for i := range rows {
		out[i] = rows[i].out()
	}
	return out, nil
}

// WebhookCounts counts a district's rows waiting and abandoned.
func (db *DB) WebhookCounts(ctx context.Context, district string) (waiting, abandoned int, err error) {
	var c struct {
		Waiting   int `db:"waiting"`
		Abandoned int `db:"abandoned"`
	}
	err = db.reader.GetContext(ctx, &c, db.reader.Rebind(`SELECT COALESCE(SUM(CASE WHEN delivered_at = 0 AND abandoned_at = 0 THEN 1 ELSE 0 END), 0) AS waiting,
		COALESCE(SUM(CASE WHEN abandoned_at <> 0 THEN 1 ELSE 0 END), 0) AS abandoned FROM webhook_outbox WHERE district = ?`), district)
	return c.Waiting, c.Abandoned, err
}

// PurgeWebhooks deletes rows delivered or abandoned before t.
func (tx *Tx) PurgeWebhooks(before time.Time) (int64, error) {
	res, err := tx.exec(`DELETE FROM webhook_outbox WHERE (delivered_at <> 0 AND delivered_at < ?) OR (abandoned_at <> 0 AND abandoned_at < ?)`, micros(before), micros(before))
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}

// AnnounceWave records that a survey wave's closing was announced; false
// when it already was.
func (tx *Tx) AnnounceWave(series string, wave int) (bool, error) {
	res, err := tx.exec(`INSERT INTO webhook_waves (series, wave, announced_at) VALUES (?, ?, ?) ON CONFLICT (series, wave) DO NOTHING`, series, wave, micros(tx.now))
	if err != nil {
		return false, err
	}
	n, _ := res.RowsAffected()
	return n == 1, nil
}

// ClosedWave is a survey wave that closed: a series (a district's, whose
// copies close together, or a school's survey's own uid) and a wave number.
type ClosedWave struct {
	Series     string `db:"series"`
	Wave       int    `db:"n"`
	ClosesAt   int64  `db:"closes_at"`
	SurveyUID  string `db:"uid"`
	District   string `db:"district"`
	ByDistrict bool   `db:"by_district"`
}

// UnannouncedWaves lists the survey waves whose every copy closed before
// closedBy and whose closing was not announced yet, at most limit.
func (db *DB) UnannouncedWaves(ctx context.Context, closedBy time.Time, limit int) ([]*ClosedWave, error) {
	var out []*ClosedWave
	err := db.reader.SelectContext(ctx, &out, db.reader.Rebind(`SELECT s.series, w.n, MAX(w.closes_at) AS closes_at, MIN(s.uid) AS uid,
		MIN(sc.district) AS district, MAX(s.by_district) AS by_district
		FROM survey_waves w JOIN surveys s ON s.id = w.survey_id JOIN schools sc ON sc.id = s.school_id
		WHERE NOT EXISTS (SELECT 1 FROM webhook_waves a WHERE a.series = s.series AND a.wave = w.n)
		GROUP BY s.series, w.n HAVING MAX(w.closes_at) <= ? ORDER BY 3 LIMIT ?`), micros(closedBy), limit)
	if err != nil {
		return nil, fmt.Errorf("select closed waves: %w", err)
	}
	return out, nil
}

// StatsToken is a district's token for the statistics endpoint: only its
// keyed hash is stored.
type StatsToken struct {
	ID        int64
	District  string
	Label     string
	Hint      string // its last characters, to tell tokens apart
	CreatedBy int64
	CreatedAt time.Time
	UsedAt    time.Time
	RevokedAt time.Time
}

type statsTokenRow struct {
	ID        int64  `db:"id"`
	District  string `db:"district"`
	Label     string `db:"label"`
	Hint      string `db:"hint"`
	CreatedBy int64  `db:"created_by"`
	CreatedAt int64  `db:"created_at"`
	UsedAt    int64  `db:"used_at"`
	RevokedAt int64  `db:"revoked_at"`
}

func (r *statsTokenRow) token() *StatsToken {
	return &StatsToken{ID: r.ID, District: r.District, Label: r.Label, Hint: r.Hint, CreatedBy: r.CreatedBy, CreatedAt: fromMicros(r.CreatedAt),
		UsedAt: fromMicros(r.UsedAt), RevokedAt: fromMicros(r.RevokedAt)}
}

const statsTokenColumns = `id, district, label, hint, created_by, created_at, used_at, revoked_at`

// AddStatsToken stores a new token's keyed hash.
func (tx *Tx) AddStatsToken(t *StatsToken, mac []byte) error {
	t.CreatedAt = tx.now
	id, err := tx.insertID(`INSERT INTO stats_tokens (district, token_mac, label, hint, created_by, created_at) VALUES (?, ?, ?, ?, ?, ?) RETURNING id`,
		t.District, mac, t.Label, t.Hint, t.CreatedBy, micros(t.CreatedAt))
	if err != nil {
		return fmt.Errorf("insert stats token: %w", err)
	}
	t.ID = id
	return nil
}

// RevokeStatsToken revokes a district's token; ErrNotFound unless it is
// the district's and not revoked yet.
func (tx *Tx) RevokeStatsToken(id int64, district string) error {
	return tx.execOne(`UPDATE stats_tokens SET revoked_at = ? WHERE id = ? AND district = ? AND revoked_at = 0`, micros(tx.now), id, district)
}

// StatsTokens lists a district's tokens, newest first.
func (db *DB) StatsTokens(ctx context.Context, district string) ([]*StatsToken, error) {
	var rows []statsTokenRow
	if err := db.reader.SelectContext(ctx, &rows, db.reader.Rebind(`SELECT `+statsTokenColumns+` FROM stats_tokens WHERE district = ? ORDER BY id DESC`), district); err != nil {
		return nil, fmt.Errorf("select stats tokens: %w", err)
	}
	out := make([]*StatsToken, len(rows))
	for i := range rows {
		out[i] = rows[i].token()
	}
	return out, nil
}

// StatsTokenByMAC returns the token whose keyed hash is mac, revoked or
// not; ErrNotFound if none.
func (db *DB) StatsTokenByMAC(ctx context.Context, mac []byte) (*StatsToken, error) {
	var r statsTokenRow
	err := db.reader.GetContext(ctx, &r, db.reader.Rebind(`SELECT `+statsTokenColumns+` FROM stats_tokens WHERE token_mac = ?`), mac)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, hotline.ErrNotFound
	} else if err != nil {
		return nil, fmt.Errorf("stats token: %w", err)
	}
	return r.token(), nil
}

// TouchStatsToken records that a token was used now.
func (tx *Tx) TouchStatsToken(id int64) error {
	_, err := tx.exec(`UPDATE stats_tokens SET used_at = ? WHERE id = ?`, micros(tx.now), id)
	return err
}

// MissedDue returns when a case's missed deadline of kind was due (the
// newest recorded miss); zero if none is recorded.
func (tx *Tx) MissedDue(tipID int64, kind string) (time.Time, error) {
	var due sql.NullInt64
	err := tx.GetContext(tx.c(), &due, tx.Rebind(`SELECT MAX(due) FROM deadline_misses WHERE tip_id = ? AND kind = ?`), tipID, kind)
	if err != nil || !due.Valid {
		return time.Time{}, err
	}
	return fromMicros(due.Int64), nil
}

// NoticeTarget is where a district's daily ledger head goes besides its
// platform: a district group robot, or a district officer's e-mail.
type NoticeTarget struct {
	TargetID    int64  `db:"id"`
	District    string `db:"district"`
	Kind        string `db:"kind"`
	CounselorID int64  `db:"counselor_id"`
}

// NoticeTargets lists every district's group robots and its active
// officers' e-mail targets, for the daily head.
func (tx *Tx) NoticeTargets(robotKinds []string) ([]*NoticeTarget, error) {
	if len(robotKinds) == 0 {
		return nil, nil
	}
	q, args, err := sqlx.In(`SELECT t.id, t.district, t.kind, 0 AS counselor_id FROM alert_targets t WHERE t.owner = 'district' AND t.district <> '' AND t.kind IN (?)
		UNION ALL SELECT t.id, c.district, t.kind, c.id FROM alert_targets t JOIN counselors c ON c.id = t.counselor_id
		WHERE t.owner = 'staff' AND t.kind = 'email' AND c.role = 'district' AND c.active = 1 AND c.district <> '' ORDER BY 1`, robotKinds)
	if err != nil {
		return nil, err
	}
	var out []*NoticeTarget
	if err := tx.SelectContext(tx.c(), &out, tx.Rebind(q), args...); err != nil {
		return nil, fmt.Errorf("select notice targets: %w", err)
	}
	return out, nil
}

// NewestEvent returns the newest ledger event's seq and hash (0 and nil
// on an empty ledger): the head at this moment of the transaction.
func (tx *Tx) NewestEvent() (int64, []byte, error) {
	var last eventRow
	err := tx.GetContext(tx.c(), &last, `SELECT seq, hash FROM ledger ORDER BY seq DESC LIMIT 1`)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil, nil
	}
	return last.Seq, last.Hash, err
}
