package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"hotline/internal/store"
	"hotline/internal/vault"
)

// openVault loads the server key and checks it against the fingerprint the
// database recorded at the key's first use, recording it when none is. A
// key is created only when m.InitKey is set (hotline init, demo) and the
// database is new: a missing or different key with data is refused with
// a message that says where the key was expected and how to restore it,
// since a new key would answer every receipt "not found" and leave every
// sealed chat id unreadable, without a word in the log.
func (m *Main) openVault(ctx context.Context, missing *vault.MissingKeyError) error {
	opts := vault.Options{KDFConcurrency: m.Config.KDFConcurrency, Argon: m.Argon}
	rec, err := m.DB.ServerKeyRecord(ctx)
	if err != nil {
		return err
	}
	hasData, err := m.DB.HasData(ctx)
	if err != nil {
		return err
	}
	if missing != nil {
		if rec != nil || hasData {
			return &keyError{missingKeyMessage(missing, rec, m.Config.DataDir)}
		}
		if !m.InitKey {
			return &keyError{noKeyYetMessage(missing, m.Config.DataDir)}
		}
		if _, err := vault.CreateServerKey(m.Config.DataDir); err != nil {
			return err
		}
		m.KeyCreated = true
	}
	v, source, err := vault.Load(m.Config.DataDir, opts)
	if err != nil {
		return err
	}
	m.KeySource = source
	if rec == nil {
		// First use: record it. Nodes that start at once with different
		// keys race here, and all but the first are refused below.
		if rec, err = m.DB.RecordServerKey(ctx, v.Fingerprint()); err != nil {
			return err
		}
		if rec != nil && rec.Fingerprint == v.Fingerprint() {
			m.Logger.Info("server key recorded in the database", "fingerprint", rec.Fingerprint, "source", source)
		}
	}
	if rec == nil || rec.Fingerprint != v.Fingerprint() {
		return &keyError{wrongKeyMessage(source, v.Fingerprint(), rec, m.Config.DataDir)}
	}
	m.Vault = v
	return nil
}

// keyError is a refusal to start over the server key; its message is the
// whole explanation for the operator.
type keyError struct{ msg string }

func (e *keyError) Error() string { return e.msg }

func recorded(rec *store.KeyRecord) string {
	if rec == nil {
		return "这个数据库已有学校或报告，是用一把服务器密钥加密和索引的（它记录于指纹功能之前，没有记下指纹）。\n" +
			"This database holds schools or reports sealed and indexed under a server key (from before fingerprints were recorded)."
	}
	return fmt.Sprintf("这个数据库的数据是用指纹为 %s 的服务器密钥加密和索引的（%s 记录）。\n"+
		"This database's data is sealed and indexed under the server key with fingerprint %s (recorded %s).",
		rec.Fingerprint, rec.RecordedAt.Format("2006-01-02"), rec.Fingerprint, rec.RecordedAt.Format("2006-01-02"))
}

func restoreSteps(dataDir string, rec *store.KeyRecord) string {
	file := filepath.Join(dataDir, vault.ServerKeyFile)
	check := "it must print the fingerprint above"
	if rec == nil {
		check = "the receipts and chats of this database open only with the key they were sealed under"
	}
	return fmt.Sprintf(`恢复方法：把与备份分开保存的那份服务器密钥放回上面任一位置，再启动。
To restore it, put back the key you kept apart from the backups (it is never in a backup) in one of those places, then start again:
    install -m 600 /path/to/kept/server.key %s
  or HOTLINE_SERVER_KEY=<its base64>, or under systemd LoadCredential=server-key:/etc/hotline/server-key,
  or in docker compose the secret file deploy/server.key.
Check the copy first: hotline key fingerprint --file /path/to/kept/server.key (%s).
不要运行 hotline init 或另造一把新密钥：新密钥打不开这个数据库的任何回执和聊天。
Do not run hotline init or make a new key: a new key opens none of this database's receipts and chats.`, file, check)
}

func missingKeyMessage(missing *vault.MissingKeyError, rec *store.KeyRecord, dataDir string) string {
	var b strings.Builder
	b.WriteString("服务器密钥缺失，拒绝启动 / the server key is missing: not starting.\n")
	b.WriteString(recorded(rec))
	b.WriteString("\n找过这些位置 / looked for the key in:\n")
	for _, l := range missing.Looked {
		fmt.Fprintf(&b, "  - %s\n", l)
	}
	b.WriteString(restoreSteps(dataDir, rec))
	return b.String()
}

func wrongKeyMessage(source, fingerprint string, rec *store.KeyRecord, dataDir string) string {
	var b strings.Builder
	b.WriteString("服务器密钥与这个数据库不符，拒绝启动 / the server key does not match this database: not starting.\n")
	b.WriteString(recorded(rec))
	fmt.Fprintf(&b, "\n给出的密钥来自 %s，指纹是 %s。\nThe key given comes from %s and has fingerprint %s", source, fingerprint, source, fingerprint)
	if source == vault.ServerKeyEnv {
		b.WriteString(" (HOTLINE_SERVER_KEY comes before the systemd credential and the data directory's server.key)")
	}
	b.WriteString(".\n")
	b.WriteString(restoreSteps(dataDir, rec))
	return b.String()
}

func noKeyYetMessage(missing *vault.MissingKeyError, dataDir string) string {
	var b strings.Builder
	b.WriteString("没有服务器密钥 / no server key.\n找过这些位置 / looked for the key in:\n")
	for _, l := range missing.Looked {
		fmt.Fprintf(&b, "  - %s\n", l)
	}
	fmt.Fprintf(&b, "新的数据目录请先运行 hotline init --data %s（它生成密钥）；已有数据的，请把原来的密钥放回。\n", dataDir)
	fmt.Fprintf(&b, "A new data directory: run hotline init --data %s first (it makes the key); for existing data, put its key back.", dataDir)
	return b.String()
}

// sqliteIsNew reports whether dsn names a SQLite file that does not exist
// yet: a command that cannot go on without a key then creates nothing.
func sqliteIsNew(dsn string) bool {
	file := store.LocalFile(dsn)
	if file == "" {
		return false
	}
	_, err := os.Stat(file)
	return errors.Is(err, os.ErrNotExist)
}
