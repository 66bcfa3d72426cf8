package store

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/jmoiron/sqlx"

	"hotline/internal/hotline"
)

// SurveyRow is a stored questionnaire; Questions is its JSON, which
// internal/survey owns.
type SurveyRow struct {
	ID        int64  `db:"id"`
	UID       string `db:"uid"`
	SchoolID  int64  `db:"school_id"`
	Series    string `db:"series"`
	District  string `db:"district"`
	TitleZH   string `db:"title_zh"`
	TitleEN   string `db:"title_en"`
	Questions string `db:"questions"`
	CreatedBy int64  `db:"created_by"`
	CreatedAt int64  `db:"created_at"`
	// ByDistrict: one copy of a district officer's survey for every school.
	ByDistrict bool `db:"by_district"`
}

// WaveRow is one wave of a survey.
type WaveRow struct {
	ID       int64  `db:"id"`
	SurveyID int64  `db:"survey_id"`
	N        int    `db:"n"`
	NameZH   string `db:"name_zh"`
	NameEN   string `db:"name_en"`
	OpensAt  int64  `db:"opens_at"`
	ClosesAt int64  `db:"closes_at"`
}

// SurveyCodeRow is a one-time code, known only by its MAC.
type SurveyCodeRow struct {
	ID     int64  `db:"id"`
	WaveID int64  `db:"wave_id"`
	Grade  string `db:"grade"`
	Class  string `db:"class"`
	Used   bool   `db:"used"`
	Draft  []byte `db:"draft_sealed"`
	// DraftMAC and UsedMAC name (by a keyed MAC bound to the code) the
	// browser or chat whose draft this is, and the one that submitted it.
	DraftMAC []byte `db:"draft_mac"`
	UsedMAC  []byte `db:"used_mac"`
}

// SurveyResponseRow is one submitted questionnaire: class and day only.
type SurveyResponseRow struct {
	UID        string `db:"uid"`
	WaveID     int64  `db:"wave_id"`
	Grade      string `db:"grade"`
	Class      string `db:"class"`
	Day        int64  `db:"day"`
	Answers    string `db:"answers"`
	TextSealed []byte `db:"text_sealed"`
}

// ClassCount is how many codes a class of a wave has, and how many were used.
type ClassCount struct {
	WaveID int64  `db:"wave_id"`
	Grade  string `db:"grade"`
	Class  string `db:"class"`
	Codes  int    `db:"codes"`
	Used   int    `db:"used"`
}

// MeasureRow is a rectification measure (整改措施).
type MeasureRow struct {
	ID        int64  `db:"id"`
	UID       string `db:"uid"`
	SchoolID  int64  `db:"school_id"`
	SurveyID  int64  `db:"survey_id"`
	Finding   string `db:"finding"`
	What      string `db:"what"`
	Who       string `db:"who"`
	DueAt     int64  `db:"due_at"`
	DoneAt    int64  `db:"done_at"`
	CreatedBy int64  `db:"created_by"`
	CreatedAt int64  `db:"created_at"`
}

// SurveyChatRow is a Telegram chat in the middle of a survey.
type SurveyChatRow struct {
	ChatMAC    []byte `db:"chat_mac"`
	CodeSealed []byte `db:"code_sealed"`
	Step       int    `db:"step"`
	Lang       string `db:"lang"`
	UpdatedAt  int64  `db:"updated_at"`
}

const surveyCols = `id, uid, school_id, series, district, title_zh, title_en, questions, created_by, created_at, by_district`
const surveyCodeCols = `id, wave_id, grade, class, used, draft_sealed, draft_mac, used_mac`
const waveCols = `id, survey_id, n, name_zh, name_en, opens_at, closes_at`
const measureCols = `id, uid, school_id, survey_id, finding, what, who, due_at, done_at, created_by, created_at`

// InsertSurvey stores a new survey and sets its ID.
func (tx *Tx) InsertSurvey(s *SurveyRow) error {
	s.CreatedAt = micros(tx.now)
	return tx.GetContext(tx.c(), &s.ID, tx.Rebind(`INSERT INTO surveys (uid, school_id, series, district, title_zh, title_en, questions, created_by, created_at, by_district)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`),
		s.UID, s.SchoolID, s.Series, s.District, s.TitleZH, s.TitleEN, s.Questions, s.CreatedBy, s.CreatedAt, s.ByDistrict)
}

// UpdateSurvey stores a survey's title and questions.
func (tx *Tx) UpdateSurvey(s *SurveyRow) error {
	_, err := tx.exec(`UPDATE surveys SET title_zh = ?, title_en = ?, questions = ? WHERE id = ?`, s.TitleZH, s.TitleEN, s.Questions, s.ID)
	return err
}

// InsertWave stores a new wave and sets its ID.
func (tx *Tx) InsertWave(w *WaveRow) error {
	return tx.GetContext(tx.c(), &w.ID, tx.Rebind(`INSERT INTO survey_waves (survey_id, n, name_zh, name_en, opens_at, closes_at)
		VALUES (?, ?, ?, ?, ?, ?) RETURNING id`), w.SurveyID, w.N, w.NameZH, w.NameEN, w.OpensAt, w.ClosesAt)
}

// UpdateWave stores a wave's names and times.
func (tx *Tx) UpdateWave(w *WaveRow) error {
	_, err := tx.exec(`UPDATE survey_waves SET name_zh = ?, name_en = ?, opens_at = ?, closes_at = ? WHERE id = ?`, w.NameZH, w.NameEN, w.OpensAt, w.ClosesAt, w.ID)
	return err
}

// SurveyForUpdate reads a survey inside a write transaction.
func (tx *Tx) SurveyForUpdate(uid string) (*SurveyRow, []*WaveRow, error) {
	return surveyByUID(tx.c(), tx.Tx, uid)
}

// InsertSurveyCode stores a code's MAC for a class of a wave.
func (tx *Tx) InsertSurveyCode(waveID int64, grade, class string, mac []byte) error {
	_, err := tx.exec(`INSERT INTO survey_codes (wave_id, grade, class, code_mac, created_at) VALUES (?, ?, ?, ?, ?)`, waveID, grade, class, mac, micros(tx.now))
	return err
}

// CountSurveyCodes counts the codes of a class of a wave.
func (tx *Tx) CountSurveyCodes(waveID int64, grade, class string) (int, error) {
	var n int
	err := tx.GetContext(tx.c(), &n, tx.Rebind(`SELECT COUNT(*) FROM survey_codes WHERE wave_id = ? AND grade = ? AND class = ?`), waveID, grade, class)
	return n, err
}

// SurveyCode finds a code by its MAC in the transaction.
func (tx *Tx) SurveyCode(mac []byte) (*SurveyCodeRow, error) {
	return surveyCodeByMAC(tx.c(), tx.Tx, mac)
}

// SurveyCodeByID reads a code's row in the transaction.
func (tx *Tx) SurveyCodeByID(id int64) (*SurveyCodeRow, error) {
	var c SurveyCodeRow
	err := tx.GetContext(tx.c(), &c, tx.Rebind(`SELECT `+surveyCodeCols+` FROM survey_codes WHERE id = ?`), id)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, hotline.ErrNotFound
	}
	return &c, err
}

// SaveSurveyDraft stores a code's unfinished answers (sealed to the code)
// as the draft of the browser or chat that owner names.
func (tx *Tx) SaveSurveyDraft(codeID int64, sealed, owner []byte) error {
	return tx.execOne(`UPDATE survey_codes SET draft_sealed = ?, draft_mac = ? WHERE id = ?`, sealed, owner, codeID)
}

// UseSurveyCode marks a code used by the browser or chat that by names,
// and drops its draft; false when it was used already, in which case
// nothing may be stored (by is recorded all the same).
func (tx *Tx) UseSurveyCode(codeID int64, by []byte) (bool, error) {
	res, err := tx.exec(`UPDATE survey_codes SET used = ?, draft_sealed = NULL, draft_mac = NULL, used_mac = ? WHERE id = ? AND used = ?`, 1, by, codeID, 0)
	if err != nil {
		return false, err
	}
	if n, err := res.RowsAffected(); err != nil || n == 1 {
		return n == 1, err
	}
	return false, tx.execOne(`UPDATE survey_codes SET draft_sealed = NULL, draft_mac = NULL, used_mac = ? WHERE id = ?`, by, codeID)
}

// InsertSurveyResponse stores a response. The caller gives it a random
// uid and a day, never a code.
func (tx *Tx) InsertSurveyResponse(r *SurveyResponseRow) error {
	_, err := tx.exec(`INSERT INTO survey_responses (uid, wave_id, grade, class, day, answers, text_sealed) VALUES (?, ?, ?, ?, ?, ?, ?)`,
		r.UID, r.WaveID, r.Grade, r.Class, r.Day, r.Answers, r.TextSealed)
	return err
}

// PutSurveyChat records (or moves on) a Telegram chat's survey.
func (tx *Tx) PutSurveyChat(c *SurveyChatRow) error {
	_, err := tx.exec(`INSERT INTO survey_chats (chat_mac, code_sealed, step, lang, updated_at) VALUES (?, ?, ?, ?, ?)
		ON CONFLICT (chat_mac) DO UPDATE SET code_sealed = excluded.code_sealed, step = excluded.step, lang = excluded.lang, updated_at = excluded.updated_at`,
		c.ChatMAC, c.CodeSealed, c.Step, c.Lang, micros(tx.now))
	return err
}

// DeleteSurveyChat forgets a chat's survey.
func (tx *Tx) DeleteSurveyChat(mac []byte) error {
	_, err := tx.exec(`DELETE FROM survey_chats WHERE chat_mac = ?`, mac)
	return err
}

// SurveyChat reads a chat's survey in the transaction; nil when none.
func (tx *Tx) SurveyChat(mac []byte) (*SurveyChatRow, error) {
	return surveyChat(tx.c(), tx.Tx, mac)
}

// InsertMeasure stores a measure and sets its ID.
func (tx *Tx) InsertMeasure(m *MeasureRow) error {
	m.CreatedAt = micros(tx.now)
	return tx.GetContext(tx.c(), &m.ID, tx.Rebind(`INSERT INTO survey_measures (uid, school_id, survey_id, finding, what, who, due_at, done_at, created_by, created_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`),
		m.UID, m.SchoolID, m.SurveyID, m.Finding, m.What, m.Who, m.DueAt, m.DoneAt, m.CreatedBy, m.CreatedAt)
}

// MeasureForUpdate reads a measure in the transaction.
func (tx *Tx) MeasureForUpdate(uid string) (*MeasureRow, error) {
	var m MeasureRow
	err := tx.GetContext(tx.c(), &m, tx.Rebind(`SELECT `+measureCols+` FROM survey_measures WHERE uid = ?`), uid)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, hotline.ErrNotFound
	}
	return &m, err
}

// SetMeasureDone marks a measure done at the transaction's time.
func (tx *Tx) SetMeasureDone(id int64) error {
	_, err := tx.exec(`UPDATE survey_measures SET done_at = ? WHERE id = ? AND done_at = ?`, micros(tx.now), id, 0)
	return err
}

// SurveysOfSchool lists a school's surveys, newest first.
func (db *DB) SurveysOfSchool(ctx context.Context, schoolID int64) ([]*SurveyRow, error) {
	var rows []*SurveyRow
	err := db.reader.SelectContext(ctx, &rows, db.reader.Rebind(`SELECT `+surveyCols+` FROM surveys WHERE school_id = ? ORDER BY id DESC`), schoolID)
	return rows, err
}

// SurveysOfDistrict lists the surveys of a district's schools, newest first.
func (db *DB) SurveysOfDistrict(ctx context.Context, district string) ([]*SurveyRow, error) {
	var rows []*SurveyRow
	err := db.reader.SelectContext(ctx, &rows, db.reader.Rebind(`SELECT `+surveyCols+` FROM surveys WHERE district = ? ORDER BY id DESC`), district)
	return rows, err
}

// SurveysOfSeries lists the copies of one series (one per school).
func (db *DB) SurveysOfSeries(ctx context.Context, series string) ([]*SurveyRow, error) {
	var rows []*SurveyRow
	err := db.reader.SelectContext(ctx, &rows, db.reader.Rebind(`SELECT `+surveyCols+` FROM surveys WHERE series = ? ORDER BY school_id`), series)
	return rows, err
}

// Survey reads a survey and its waves by uid.
func (db *DB) Survey(ctx context.Context, uid string) (*SurveyRow, []*WaveRow, error) {
	return surveyByUID(ctx, db.reader, uid)
}

// SurveyByWave reads the survey a wave belongs to, and its waves.
func (db *DB) SurveyByWave(ctx context.Context, waveID int64) (*SurveyRow, []*WaveRow, error) {
	var uid string
	err := db.reader.GetContext(ctx, &uid, db.reader.Rebind(`SELECT s.uid FROM surveys s JOIN survey_waves w ON w.survey_id = s.id WHERE w.id = ?`), waveID)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil, hotline.ErrNotFound
	} else if err != nil {
		return nil, nil, err
	}
	return surveyByUID(ctx, db.reader, uid)
}

// WavesOf lists the waves of surveys.
func (db *DB) WavesOf(ctx context.Context, surveyIDs []int64) ([]*WaveRow, error) {
	if len(surveyIDs) == 0 {
		return nil, nil
	}
	q, args, err := sqlx.In(`SELECT `+waveCols+` FROM survey_waves WHERE survey_id IN (?) ORDER BY survey_id, n`, surveyIDs)
	if err != nil {
		return nil, err
	}
	var rows []*WaveRow
	err = db.reader.SelectContext(ctx, &rows, db.reader.Rebind(q), args...)
	return rows, err
}

func surveyByUID(ctx context.Context, q sqlx.QueryerContext, uid string) (*SurveyRow, []*WaveRow, error) {
	var s SurveyRow
	err := sqlx.GetContext(ctx, q, &s, rebind(q, `SELECT `+surveyCols+` FROM surveys WHERE uid = ?`), uid)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil, hotline.ErrNotFound
	} else if err != nil {
		return nil, nil, err
	}
	var waves []*WaveRow
	err = sqlx.SelectContext(ctx, q, &waves, rebind(q, `SELECT `+waveCols+` FROM survey_waves WHERE survey_id = ? ORDER BY n`), s.ID)
	return &s, waves, err
}

// rebind carries ? placeholders to the dialect of q.
func rebind(q sqlx.QueryerContext, query string) string {
	if b, ok := q.(interface{ Rebind(string) string }); ok {
		return b.Rebind(query)
	}
	return query
}

// SurveyCode finds a code by its MAC.
func (db *DB) SurveyCode(ctx context.Context, mac []byte) (*SurveyCodeRow, error) {
	return surveyCodeByMAC(ctx, db.reader, mac)
}

func surveyCodeByMAC(ctx context.Context, q sqlx.QueryerContext, mac []byte) (*SurveyCodeRow, error) {
	var c SurveyCodeRow
	err := sqlx.GetContext(ctx, q, &c, rebind(q, `SELECT `+surveyCodeCols+` FROM survey_codes WHERE code_mac = ?`), mac)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, hotline.ErrNotFound
	}
	return &c, err
}

// ClassCounts counts the codes and used codes of each class of waves.
func (db *DB) ClassCounts(ctx context.Context, waveIDs []int64) ([]*ClassCount, error) {
	if len(waveIDs) == 0 {
		return nil, nil
	}
	q, args, err := sqlx.In(`SELECT wave_id, grade, class, COUNT(*) AS codes, SUM(CASE WHEN used = 1 THEN 1 ELSE 0 END) AS used FROM survey_codes
		WHERE wave_id IN (?) GROUP BY wave_id, grade, class ORDER BY wave_id, grade, class`, waveIDs)
	if err != nil {
		return nil, err
	}
	var rows []*ClassCount
	err = db.reader.SelectContext(ctx, &rows, db.reader.Rebind(q), args...)
	return rows, err
}

// SurveyResponses reads the responses of waves in key order (random):
// nothing in the order says when, or from which code, one came.
func (db *DB) SurveyResponses(ctx context.Context, waveIDs []int64, withText bool) ([]*SurveyResponseRow, error) {
	if len(waveIDs) == 0 {
		return nil, nil
	}
	cols := `uid, wave_id, grade, class, day, answers, NULL AS text_sealed`
	if withText {
		cols = `uid, wave_id, grade, class, day, answers, text_sealed`
	}
	q, args, err := sqlx.In(`SELECT `+cols+` FROM survey_responses WHERE wave_id IN (?) ORDER BY uid`, waveIDs)
	if err != nil {
		return nil, err
	}
	var rows []*SurveyResponseRow
	err = db.reader.SelectContext(ctx, &rows, db.reader.Rebind(q), args...)
	return rows, err
}

// SurveyChat reads a chat's survey; nil when none.
func (db *DB) SurveyChat(ctx context.Context, mac []byte) (*SurveyChatRow, error) {
	return surveyChat(ctx, db.reader, mac)
}

func surveyChat(ctx context.Context, q sqlx.QueryerContext, mac []byte) (*SurveyChatRow, error) {
	var c SurveyChatRow
	err := sqlx.GetContext(ctx, q, &c, rebind(q, `SELECT chat_mac, code_sealed, step, lang, updated_at FROM survey_chats WHERE chat_mac = ?`), mac)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	return &c, err
}

// MeasuresOfSchool lists a school's measures: open ones first, by deadline.
func (db *DB) MeasuresOfSchool(ctx context.Context, schoolID int64) ([]*MeasureRow, error) {
	var rows []*MeasureRow
	err := db.reader.SelectContext(ctx, &rows, db.reader.Rebind(`SELECT `+measureCols+` FROM survey_measures WHERE school_id = ?
		ORDER BY CASE WHEN done_at = 0 THEN 0 ELSE 1 END, due_at, id`), schoolID)
	return rows, err
}

// MeasureCount is a school's open and overdue measures.
type MeasureCount struct {
	SchoolID int64 `db:"school_id"`
	Total    int   `db:"total"`
	Open     int   `db:"open"`
	Overdue  int   `db:"overdue"`
}

// MeasureCounts counts the measures of the given schools at now.
func (db *DB) MeasureCounts(ctx context.Context, schoolIDs []int64, now time.Time) ([]*MeasureCount, error) {
	if len(schoolIDs) == 0 {
		return nil, nil
	}
	q, args, err := sqlx.In(`SELECT school_id, COUNT(*) AS total,
		SUM(CASE WHEN done_at = 0 THEN 1 ELSE 0 END) AS open,
		SUM(CASE WHEN done_at = 0 AND due_at < ? THEN 1 ELSE 0 END) AS overdue
		FROM survey_measures WHERE school_id IN (?) GROUP BY school_id ORDER BY school_id`, micros(now), schoolIDs)
	if err != nil {
		return nil, err
	}
	var rows []*MeasureCount
	err = db.reader.SelectContext(ctx, &rows, db.reader.Rebind(q), args...)
	return rows, err
}
