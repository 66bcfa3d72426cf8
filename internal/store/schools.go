package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/jmoiron/sqlx"

	"hotline/internal/hotline"
)

type schoolRow struct {
	ID              int64  `db:"id"`
	Code            string `db:"code"`
	Name            string `db:"name"`
	District        string `db:"district"`
	Settings        string `db:"settings"`
	PublicKey       []byte `db:"public_key"`
	RecoveryWrapped []byte `db:"recovery_wrapped"`
	CreatedAt       int64  `db:"created_at"`
}

func (r *schoolRow) school() (*hotline.School, error) {
	s := &hotline.School{ID: r.ID, Code: r.Code, Name: r.Name, District: r.District, PublicKey: r.PublicKey, CreatedAt: fromMicros(r.CreatedAt)}
	if err := json.Unmarshal([]byte(r.Settings), &s.Settings); err != nil {
		return nil, fmt.Errorf("school %d settings: %w", r.ID, err)
	}
	return s, nil
}

const schoolColumns = `id, code, name, district, settings, public_key, recovery_wrapped, created_at`

// NormalizeCode returns the canonical form of a school code: lower case,
// trimmed. Codes are ASCII letters, digits and '-'.
func NormalizeCode(code string) string { return strings.ToLower(strings.TrimSpace(code)) }

// ValidCode reports whether code is a usable school code.
func ValidCode(code string) bool {
	if len(code) < 2 || len(code) > 32 {
		return false
	}
	for _, r := range code {
		if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-') {
			return false
		}
	}
	return true
}

// CreateSchool inserts a school with its public key and the private key
// wrapped under the recovery key.
func (tx *Tx) CreateSchool(s *hotline.School, recoveryWrapped []byte) error {
	settings, err := json.Marshal(s.Settings)
	if err != nil {
		return err
	}
	s.Code = NormalizeCode(s.Code)
	if !ValidCode(s.Code) {
		return hotline.Errorf(hotline.EINVALID, "学校代码只能包含小写字母、数字和连字符（2–32 个字符）。", "A school code is 2–32 lower-case letters, digits or hyphens.")
	}
	s.CreatedAt = tx.now
	id, err := tx.insertID(`INSERT INTO schools (code, name, name_en, district, settings, public_key, recovery_wrapped, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
		s.Code, s.Name, s.Settings.NameEN, s.District, string(settings), s.PublicKey, recoveryWrapped, micros(s.CreatedAt))
	if err != nil {
		if tx.isUnique(err) {
			return hotline.Errorf(hotline.ECONFLICT, "这个学校代码已被使用。", "That school code is taken.")
		}
		return fmt.Errorf("insert school: %w", err)
	}
	s.ID = id
	return nil
}

// UpdateSchool saves a school's name, code, district and settings.
func (tx *Tx) UpdateSchool(s *hotline.School) error {
	settings, err := json.Marshal(s.Settings)
	if err != nil {
		return err
	}
	s.Code = NormalizeCode(s.Code)
	if !ValidCode(s.Code) {
		return hotline.Errorf(hotline.EINVALID, "学校代码只能包含小写字母、数字和连字符（2–32 个字符）。", "A school code is 2–32 lower-case letters, digits or hyphens.")
	}
	_, err = tx.exec(`UPDATE schools SET code = ?, name = ?, name_en = ?, district = ?, settings = ? WHERE id = ?`, s.Code, s.Name, s.Settings.NameEN, s.District, string(settings), s.ID)
	if tx.isUnique(err) {
		return hotline.Errorf(hotline.ECONFLICT, "这个学校代码已被使用。", "That school code is taken.")
	}
	return err
}

// SchoolRecoveryWrapped returns the school's private key wrapped under its
// recovery key.
func (db *DB) SchoolRecoveryWrapped(ctx context.Context, schoolID int64) ([]byte, error) {
	var b []byte
	err := db.reader.GetContext(ctx, &b, `SELECT recovery_wrapped FROM schools WHERE id = ?`, schoolID)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, hotline.ErrSchoolNotFound
	}
	return b, err
}

func findSchools(ctx context.Context, q sqlx.QueryerContext, where string, args ...any) ([]*hotline.School, error) {
	var rows []schoolRow
	if err := sqlx.SelectContext(ctx, q, &rows, `SELECT `+schoolColumns+` FROM schools `+where, args...); err != nil {
		return nil, fmt.Errorf("select schools: %w", err)
	}
	out := make([]*hotline.School, 0, len(rows))
	for i := range rows {
		s, err := rows[i].school()
		if err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, nil
}

func findSchool(ctx context.Context, q sqlx.QueryerContext, where string, args ...any) (*hotline.School, error) {
	ss, err := findSchools(ctx, q, where+` LIMIT 1`, args...)
	if err != nil {
		return nil, err
	} else if len(ss) == 0 {
		return nil, hotline.ErrSchoolNotFound
	}
	return ss[0], nil
}

// SchoolByCode finds a school by its code.
// A school a district added whose admin has not accepted the hand-over
// is not found with its own answer (hotline.ErrSchoolNotOpen).
func (db *DB) SchoolByCode(ctx context.Context, code string) (*hotline.School, error) {
	s, err := findSchool(ctx, db.reader, `WHERE code = ?`, NormalizeCode(code))
	if errors.Is(err, hotline.ErrSchoolNotFound) && ValidCode(NormalizeCode(code)) {
		if pending, perr := db.PendingSchool(ctx, code); perr != nil {
			return nil, perr
		} else if pending {
			return nil, hotline.ErrSchoolNotOpen
		}
	}
	return s, err
}

// SchoolByID finds a school by id.
func (db *DB) SchoolByID(ctx context.Context, id int64) (*hotline.School, error) {
	return findSchool(ctx, db.reader, `WHERE id = ?`, id)
}

// SchoolByCode finds a school by its code within the transaction.
func (tx *Tx) SchoolByCode(code string) (*hotline.School, error) {
	return findSchool(tx.c(), tx.Tx, `WHERE code = ?`, NormalizeCode(code))
}

// SchoolByID finds a school by id within the transaction.
func (tx *Tx) SchoolByID(id int64) (*hotline.School, error) {
	return findSchool(tx.c(), tx.Tx, `WHERE id = ?`, id)
}

// Schools lists schools, optionally of one district, by name.
func (db *DB) Schools(ctx context.Context, district string) ([]*hotline.School, error) {
	if district != "" {
		return findSchools(ctx, db.reader, `WHERE district = ? ORDER BY code`, district)
	}
	return findSchools(ctx, db.reader, `ORDER BY code`)
}

// FindSchools matches a reporter's words against school codes and names.
func (db *DB) FindSchools(ctx context.Context, query string, limit int) ([]*hotline.School, error) {
	query = strings.TrimSpace(query)
	if query == "" {
		return nil, nil
	}
	if limit <= 0 || limit > 20 {
		limit = 5
	}
	// lower() on both sides: SQLite's LIKE ignores ASCII case, PostgreSQL's
	// does not.
	like := "%" + strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(strings.ToLower(query)) + "%"
	return findSchools(ctx, db.reader, fmt.Sprintf(`WHERE code = ? OR lower(name) LIKE ? ESCAPE '\' OR lower(name_en) LIKE ? ESCAPE '\' ORDER BY CASE WHEN code = ? THEN 0 ELSE 1 END, length(name), code LIMIT %d`, limit),
		NormalizeCode(query), like, like, NormalizeCode(query))
}

// isUnique reports whether err is a unique constraint's refusal. The
// statement that failed may have ended the transaction (PostgreSQL aborts
// it): answer the caller, do not go on writing in it.
func (tx *Tx) isUnique(err error) bool { return err != nil && tx.db.dialect.isUnique(err) }
