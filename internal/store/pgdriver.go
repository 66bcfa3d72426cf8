package store

import (
	"context"
	"database/sql/driver"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5/stdlib"
)

// pgConnector opens pgx connections (github.com/jackc/pgx/v5, its
// database/sql driver) that speak the store's SQL: ? placeholders become
// $1, $2… and Go booleans become the 0/1 integers the schema's flags are.
// Doing it here, below database/sql, means no query can bypass it: not a
// repository's, not a test's raw Writer().Exec, not one merged later.
type pgConnector struct{ inner driver.Connector }

func (c pgConnector) Connect(ctx context.Context) (driver.Conn, error) {
	conn, err := c.inner.Connect(ctx)
	if err != nil {
		return nil, err
	}
	return &pgConn{Conn: conn.(*stdlib.Conn)}, nil
}

func (c pgConnector) Driver() driver.Driver { return c.inner.Driver() }

// pgConn is a pgx connection whose statements are rebound. Every other
// method (transactions, ping, session reset) is pgx's own.
type pgConn struct{ *stdlib.Conn }

func (c *pgConn) Prepare(query string) (driver.Stmt, error) {
	return c.Conn.PrepareContext(context.Background(), rebindDollar(query))
}

func (c *pgConn) PrepareContext(ctx context.Context, query string) (driver.Stmt, error) {
	return c.Conn.PrepareContext(ctx, rebindDollar(query))
}

// ExecContext rebinds a statement with arguments; one without runs as
// written, through the simple protocol, which also takes several
// statements at once (a migration file).
func (c *pgConn) ExecContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Result, error) {
	if len(args) > 0 {
		query = rebindDollar(query)
	}
	return c.Conn.ExecContext(ctx, query, args)
}

func (c *pgConn) QueryContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Rows, error) {
	if len(args) > 0 {
		query = rebindDollar(query)
	}
	return c.Conn.QueryContext(ctx, query, args)
}

// CheckNamedValue stores a bool as the integer 0 or 1: flags are INTEGER
// columns on both engines (SQLite has no boolean type), and reading them
// back into a bool works on both. Everything else goes to pgx as it is.
func (c *pgConn) CheckNamedValue(nv *driver.NamedValue) error {
	if b, ok := nv.Value.(bool); ok {
		nv.Value = int64(0)
		if b {
			nv.Value = int64(1)
		}
	}
	return nil
}

// rebindDollar turns ? placeholders into $1, $2… outside string literals,
// quoted identifiers and comments. A query already in $n form (sqlx's
// Rebind ran first) has no ? and is returned as it is.
func rebindDollar(q string) string {
	if !strings.Contains(q, "?") {
		return q
	}
	var b strings.Builder
	b.Grow(len(q) + 16)
	n := 0
	for i := 0; i < len(q); i++ {
		switch ch := q[i]; {
		case ch == '\'' || ch == '"':
			j := i + 1
			for j < len(q) {
				if q[j] == ch {
					if j+1 < len(q) && q[j+1] == ch { // doubled quote: still inside
						j += 2
						continue
					}
					break
				}
				j++
			}
			end := min(j+1, len(q))
			b.WriteString(q[i:end])
			i = end - 1
		case ch == '-' && i+1 < len(q) && q[i+1] == '-':
			j := strings.IndexByte(q[i:], '\n')
			if j < 0 {
				j = len(q) - i
			}
			b.WriteString(q[i : i+j])
			i += j - 1
		case ch == '?':
			n++
			b.WriteByte('$')
			b.WriteString(strconv.Itoa(n))
		default:
			b.WriteByte(ch)
		}
	}
	return b.String()
}
