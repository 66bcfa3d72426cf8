package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"hotline/internal/store"
)

// runBackup writes a consistent snapshot of a SQLite database with VACUUM
// INTO while the server may keep running. On PostgreSQL it refuses and
// names pg_dump, the server's own tool. The copy holds what the database
// holds — sealed content, HMACs, clear metadata — and not the server key,
// which should be kept apart from backups.
func runBackup(ctx context.Context, args []string, env *Env) error {
	var dir, out string
	fs := newFlagSet("backup", env, "Writes a consistent copy of the database (safe while the server runs). The copy holds only\nsealed reports; the server key (server.key or HOTLINE_SERVER_KEY) is NOT in it: keep the key\napart, for restoring needs both.")
	fs.dataFlag(&dir)
	fs.StringVar(&out, "out", "", "the backup file to write (must not exist)")
	if err := fs.Parse(args); err != nil {
		return usageErr(err)
	}
	if out == "" {
		fmt.Fprintln(env.Stderr, "hotline backup: --out is required")
		return ErrUsage
	}
	if err := store.CheckBackup(env.Database); err != nil {
		return err
	}
	if _, err := os.Stat(out); err == nil {
		return fmt.Errorf("%s exists; choose a new file", out)
	}
	m, err := openData(dir, env)
	if err != nil {
		return err
	}
	defer m.Close()
	abs, err := filepath.Abs(out)
	if err != nil {
		return err
	}
	// An empty owner-only file first: SQLite fills it and keeps its mode,
	// so the copy is never readable by others, not even for a moment.
	f, err := os.OpenFile(abs, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	f.Close()
	if err := m.DB.Backup(ctx, abs); err != nil {
		os.Remove(abs)
		return err
	}
	printBackupKey(env, abs, m.Vault.Fingerprint())
	return nil
}

// printBackupKey says what a backup needs besides itself: the server key
// with this fingerprint, which is not in it.
func printBackupKey(env *Env, path, fingerprint string) {
	fmt.Fprintf(env.Stdout, "备份已写入 / backup written: %s\n", path)
	fmt.Fprintf(env.Stdout, "服务器密钥指纹 / server key fingerprint: %s\n", fingerprint)
	fmt.Fprintln(env.Stdout, "服务器密钥不在备份中。恢复时需要这把指纹相同的密钥，请另行妥善保存（离线，与备份分开）。")
	fmt.Fprintln(env.Stdout, "The server key is NOT in the backup. Restoring needs the key with this fingerprint: keep it apart (offline, not with the backups).")
}
