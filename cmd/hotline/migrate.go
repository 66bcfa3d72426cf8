package main

import (
	"context"
	"fmt"
)

// runMigrate applies the database's migrations and exits: a deployment
// step before starting (or upgrading) nodes. Every command migrates when
// it opens the database too; on PostgreSQL an advisory lock makes nodes
// that start together take turns.
func runMigrate(ctx context.Context, args []string, env *Env) error {
	var dir string
	fs := newFlagSet("migrate", env, "Applies the database's migrations (SQLite or PostgreSQL) and exits. Safe to run again,\nand while other nodes start: on PostgreSQL they take turns under an advisory lock.")
	fs.dataFlag(&dir)
	if err := fs.Parse(args); err != nil {
		return usageErr(err)
	}
	m, err := openData(dir, env)
	if err != nil {
		return err
	}
	defer m.Close()
	names, err := m.DB.Migrations(ctx)
	if err != nil {
		return err
	}
	last := ""
	if len(names) > 0 {
		last = names[len(names)-1]
	}
	fmt.Fprintf(env.Stdout, "数据库已是最新 / database up to date (%s): %d migrations, the last %s\n", m.DB.DialectName(), len(names), last)
	return nil
}
