package store

import (
	"context"
	"fmt"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"hotline/internal/pgtest"
)

// allowedSchemaDifferences are the ways the engines' schemas differ on
// purpose: a fact (a column, index or unique line) that one engine has and the other has
// not ("sqlite: …" or "postgres: …"), with its reason. None today: what
// differs on purpose lies below these facts, in the width of an integer
// (class int on both; ids and times are checked to be 64-bit apart) and in
// SQLite's WITHOUT ROWID storage (0028), which PostgreSQL has no use for.
var allowedSchemaDifferences = map[string]string{}

// TestSchemasMatchAcrossEngines keeps both engines' schemas equal column by
// column: every table, column, type class, nullability, default, primary
// key, unique constraint and index, as SQLite's pragmas and PostgreSQL's
// catalogs report them after every migration, but for the differences
// listed in allowedSchemaDifferences. Ids and times must be 64-bit on
// PostgreSQL too.
func TestSchemasMatchAcrossEngines(t *testing.T) {
	if !pgtest.OnPostgres() {
		t.Skip("runs once, on the PostgreSQL pass, and opens a SQLite file beside it")
	}
	ctx := context.Background()
	lite, err := Open(filepath.Join(t.TempDir(), "h.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer lite.Close()
	pg, err := Open(pgtest.NewDatabase(t))
	if err != nil {
		t.Fatal(err)
	}
	defer pg.Close()
	lf, err := sqliteSchemaFacts(ctx, lite)
	if err != nil {
		t.Fatal(err)
	}
	pf, err := postgresSchemaFacts(ctx, pg)
	if err != nil {
		t.Fatal(err)
	}
	if len(lf) < 100 {
		t.Fatalf("only %d facts about SQLite's schema: the reader is broken", len(lf))
	}
	var diffs []string
	for _, f := range lf {
		if !slices.Contains(pf, f) {
			diffs = append(diffs, "sqlite: "+f)
		}
	}
	for _, f := range pf {
		if !slices.Contains(lf, f) {
			diffs = append(diffs, "postgres: "+f)
		}
	}
	for _, d := range diffs {
		if _, ok := allowedSchemaDifferences[d]; !ok {
			t.Errorf("schemas differ: %s", d)
		}
	}
	for d := range allowedSchemaDifferences {
		if !slices.Contains(diffs, d) {
			t.Errorf("allowed difference no longer there (remove it): %s", d)
		}
	}
	narrow, err := narrowPostgresColumns(ctx, pg)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range narrow {
		if c != "ledger_head.id" { // always 1
			t.Errorf("%s is a 32-bit INTEGER on PostgreSQL; ids and times need {{ID}} or {{INT64}}", c)
		}
	}
}

// typeClass is what a declared type stores, in words both engines share.
func typeClass(declared string) string {
	d := strings.ToLower(declared)
	switch {
	case strings.Contains(d, "int"):
		return "int"
	case strings.Contains(d, "text"), strings.Contains(d, "char"):
		return "text"
	case strings.Contains(d, "blob"), d == "bytea":
		return "bytes"
	}
	return d
}

var (
	pgCast   = regexp.MustCompile(`::[a-z ]+`)
	spaceRun = regexp.MustCompile(`\s+`)
)

// normExpr puts a default or an index predicate in one spelling.
func normExpr(s string) string {
	s = pgCast.ReplaceAllString(strings.ToLower(s), "")
	s = strings.NewReplacer("(", "", ")", "", "!=", "<>").Replace(s)
	return strings.TrimSpace(spaceRun.ReplaceAllString(s, " "))
}

func column(table, name, class string, notNull bool, def string, pk int) string {
	null := "null"
	if notNull || pk > 0 {
		null = "not null"
	}
	return fmt.Sprintf("%s.%s %s %s default %q pk %d", table, name, class, null, normExpr(def), pk)
}

func sqliteSchemaFacts(ctx context.Context, db *DB) ([]string, error) {
	var tables []string
	if err := db.reader.SelectContext(ctx, &tables, `SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name`); err != nil {
		return nil, err
	}
	var facts []string
	for _, t := range tables {
		var cols []struct {
			Name    string `db:"name"`
			Type    string `db:"type"`
			NotNull bool   `db:"notnull"`
			Default string `db:"dflt"`
			PK      int    `db:"pk"`
		}
		if err := db.reader.SelectContext(ctx, &cols, `SELECT name, type, "notnull", COALESCE(dflt_value, '') AS dflt, pk FROM pragma_table_info(?)`, t); err != nil {
			return nil, err
		}
		for _, c := range cols {
			facts = append(facts, column(t, c.Name, typeClass(c.Type), c.NotNull, c.Default, c.PK))
		}
		var idxs []struct {
			Name   string `db:"name"`
			Unique bool   `db:"unique"`
			Origin string `db:"origin"`
		}
		if err := db.reader.SelectContext(ctx, &idxs, `SELECT name, "unique", origin FROM pragma_index_list(?)`, t); err != nil {
			return nil, err
		}
		for _, ix := range idxs {
			if ix.Origin == "pk" {
				continue // the primary key, compared column by column
			}
			var keys []struct {
				Name string `db:"name"`
				Desc bool   `db:"desc"`
			}
			if err := db.reader.SelectContext(ctx, &keys, `SELECT name, "desc" FROM pragma_index_xinfo(?) WHERE key = 1 ORDER BY seqno`, ix.Name); err != nil {
				return nil, err
			}
			var cs []string
			for _, k := range keys {
				if k.Desc {
					k.Name += " desc"
				}
				cs = append(cs, k.Name)
			}
			if ix.Origin == "u" {
				facts = append(facts, fmt.Sprintf("%s unique (%s)", t, strings.Join(cs, ", ")))
				continue
			}
			var sql string
			if err := db.reader.GetContext(ctx, &sql, `SELECT sql FROM sqlite_schema WHERE type = 'index' AND name = ?`, ix.Name); err != nil {
				return nil, err
			}
			where := ""
			if i := strings.Index(strings.ToUpper(sql), " WHERE "); i >= 0 {
				where = sql[i+len(" WHERE "):]
			}
			facts = append(facts, index(t, ix.Name, ix.Unique, cs, where))
		}
	}
	return facts, nil
}

func index(table, name string, unique bool, cols []string, where string) string {
	kind := "index"
	if unique {
		kind = "unique index"
	}
	return fmt.Sprintf("%s %s %s (%s) where %q", table, kind, name, strings.Join(cols, ", "), normExpr(where))
}

func postgresSchemaFacts(ctx context.Context, db *DB) ([]string, error) {
	var cols []struct {
		Table   string `db:"table_name"`
		Name    string `db:"column_name"`
		Type    string `db:"data_type"`
		Null    string `db:"is_nullable"`
		Default string `db:"dflt"`
		PK      int    `db:"pk"`
	}
	if err := db.reader.SelectContext(ctx, &cols, `SELECT c.table_name, c.column_name, c.data_type, c.is_nullable, COALESCE(c.column_default, '') AS dflt,
			COALESCE((SELECT k.ordinal_position FROM information_schema.table_constraints tc
				JOIN information_schema.key_column_usage k ON k.constraint_name = tc.constraint_name AND k.table_schema = tc.table_schema AND k.table_name = tc.table_name
				WHERE tc.constraint_type = 'PRIMARY KEY' AND tc.table_schema = c.table_schema AND tc.table_name = c.table_name AND k.column_name = c.column_name), 0) AS pk
		FROM information_schema.columns c WHERE c.table_schema = current_schema() ORDER BY c.table_name, c.ordinal_position`); err != nil {
		return nil, err
	}
	var facts []string
	for _, c := range cols {
		facts = append(facts, column(c.Table, c.Name, typeClass(c.Type), c.Null == "NO", c.Default, c.PK))
	}
	var idxs []struct {
		Table      string `db:"tbl"`
		Name       string `db:"idx"`
		Unique     bool   `db:"indisunique"`
		Primary    bool   `db:"indisprimary"`
		Constraint bool   `db:"isconstraint"`
		Def        string `db:"def"`
		Where      string `db:"pred"`
	}
	if err := db.reader.SelectContext(ctx, &idxs, `SELECT t.relname AS tbl, i.relname AS idx, ix.indisunique, ix.indisprimary,
			EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = ix.indexrelid AND c.contype = 'u') AS isconstraint,
			pg_get_indexdef(ix.indexrelid) AS def, COALESCE(pg_get_expr(ix.indpred, ix.indrelid), '') AS pred
		FROM pg_index ix JOIN pg_class i ON i.oid = ix.indexrelid JOIN pg_class t ON t.oid = ix.indrelid
		JOIN pg_namespace n ON n.oid = t.relnamespace WHERE n.nspname = current_schema()`); err != nil {
		return nil, err
	}
	for _, ix := range idxs {
		if ix.Primary {
			continue
		}
		// pg_get_indexdef: CREATE [UNIQUE] INDEX n ON s.t USING btree (a, b DESC) [WHERE …]
		def := strings.ToLower(ix.Def)
		open := strings.Index(def, "using btree (")
		if open < 0 {
			return nil, fmt.Errorf("index %s: unexpected definition %q", ix.Name, ix.Def)
		}
		list := def[open+len("using btree ("):]
		list = list[:strings.Index(list, ")")]
		cs := strings.Split(list, ", ")
		if ix.Constraint {
			facts = append(facts, fmt.Sprintf("%s unique (%s)", ix.Table, strings.Join(cs, ", ")))
			continue
		}
		facts = append(facts, index(ix.Table, ix.Name, ix.Unique, cs, ix.Where))
	}
	return facts, nil
}

// narrowPostgresColumns lists the 32-bit integer columns named as ids or
// times (id, *_id, *_at, *_until, *_due, seq).
func narrowPostgresColumns(ctx context.Context, db *DB) ([]string, error) {
	var cs []string
	err := db.reader.SelectContext(ctx, &cs, `SELECT table_name || '.' || column_name FROM information_schema.columns
		WHERE table_schema = current_schema() AND data_type IN ('integer', 'smallint')
		AND (column_name IN ('id', 'seq') OR column_name LIKE '%\_id' OR column_name LIKE '%\_at' OR column_name LIKE '%\_until' OR column_name LIKE '%\_due')
		ORDER BY 1`)
	return cs, err
}
