package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"hotline/internal/store"
)

// errLocked marks a data directory another server holds.
var errLocked = errors.New("locked")

// lockData makes this process the one server of its SQLite database: it
// takes an exclusive lock (flock) on a file beside the database, held until
// Close and released by the kernel if the process dies. Two servers on one
// SQLite file would both lead, both run the scheduler and both poll
// Telegram. On PostgreSQL several nodes are the design (they take turns
// through advisory locks), so nothing is locked there. Administrative
// commands take no lock: SQLite lets them write beside a server.
func (m *Main) lockData() error {
	file := store.LocalFile(m.Config.DatabaseDSN())
	if m.dataLock != nil || file == "" {
		return nil
	}
	path := file + ".lock"
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return fmt.Errorf("lock %s: %w", path, err)
	}
	if err := flock(f); err != nil {
		holder, _ := os.ReadFile(path)
		f.Close()
		if !errors.Is(err, errLocked) {
			return fmt.Errorf("lock %s: %w", path, err)
		}
		who := strings.TrimSpace(string(holder))
		if who == "" {
			who = "a process that is starting"
		}
		return fmt.Errorf("另一个 hotline 服务器正在使用这个数据库，本进程不启动 / another hotline server is using this database; not starting.\n"+
			"  database: %s\n  held by:  %s\n"+
			"一个 SQLite 数据库只能有一个服务器（多个节点请用 PostgreSQL）。先停掉它，或确认它已退出。\n"+
			"One SQLite database takes one server (several nodes need PostgreSQL): stop that one first",
			m.Config.DatabaseDSN(), who)
	}
	// Who holds it, for the next one that tries: no content, no address.
	host, _ := os.Hostname()
	info := fmt.Sprintf("pid %d on %s, started %s (%s)\n", os.Getpid(), host, time.Now().Format(time.RFC3339), filepath.Base(os.Args[0]))
	if err := f.Truncate(0); err == nil {
		f.WriteAt([]byte(info), 0)
	}
	m.dataLock = f
	m.closers = append(m.closers, func() error {
		// Emptied first, so that a reader never names a process gone.
		f.Truncate(0)
		return f.Close()
	})
	return nil
}
