// Package pgtest runs tests against a real PostgreSQL server: a throwaway
// cluster that the test binary starts itself (initdb and postgres in a temp
// dir, listening only on a unix socket there) and stops when it ends, or
// the server named by HOTLINE_TEST_PG. Each test gets a fresh database.
//
// A package whose tests must pass on both engines calls Main from its
// TestMain; the test command runs it once per engine (HOTLINE_TEST_ENGINE).
// Its helpers open the database DB names: the SQLite file on a SQLite run,
// a PostgreSQL database on a PostgreSQL run.
//
// Without PostgreSQL installed the PostgreSQL pass and NewDatabase skip,
// unless CI is set: then they fail, so that a CI machine cannot pass
// without testing it.
package pgtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// EnvDSN names a PostgreSQL server to use instead of a throwaway cluster,
// e.g. postgres://postgres@/postgres?host=/tmp/pg (its user must be allowed
// to create databases).
const EnvDSN = "HOTLINE_TEST_PG"

// EnvEngine, set to "sqlite" (the default) or "postgres", names the engine
// a test process runs on; child processes a test starts inherit it.
const EnvEngine = "HOTLINE_TEST_ENGINE"

var (
	onPostgres atomic.Bool

	// runTag tells this process's databases from those of an earlier one
	// that had the same pid: a shared server keeps the databases of runs
	// that were killed, and pids come round again.
	runTag = func() string {
		b := make([]byte, 3)
		rand.Read(b)
		return hex.EncodeToString(b)
	}()

	mu       sync.Mutex
	cluster  *server // started on first use
	startErr error
	seq      int
	named    = map[string]string{} // test name + path → DSN, on the PostgreSQL pass
	// made lists the databases this process created, which stop drops
	// on a shared server (HOTLINE_TEST_PG): left there, every run's
	// databases pile up until the server's disk is full.
	made []string
)

// Main runs the package's tests once, on the engine HOTLINE_TEST_ENGINE
// names (SQLite when unset), and stops the cluster it started; it returns
// the exit code for os.Exit. The test command runs the suite once per
// engine (see the Makefile's test target), as a CI matrix would: one pass
// per process, so a child process a test starts inherits its engine from
// the environment and nothing flips a switch under running tests.
// Without PostgreSQL (and CI unset) the PostgreSQL run is skipped with a
// note.
//
//	func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }
func Main(m *testing.M) int {
	switch engine := os.Getenv(EnvEngine); engine {
	case "", "sqlite":
		return m.Run()
	case "postgres":
	default:
		slog.Error("pgtest: want sqlite or postgres", "env", EnvEngine, "value", engine)
		return 2
	}
	if err := available(); err != nil {
		if os.Getenv("CI") != "" {
			slog.Error("pgtest: PostgreSQL is needed under CI", "err", err)
			return 1
		}
		slog.Warn("pgtest: PostgreSQL run skipped", "err", err)
		return 0
	}
	defer stop()
	onPostgres.Store(true)
	return m.Run()
}

// OnPostgres reports whether this is Main's PostgreSQL pass.
func OnPostgres() bool { return onPostgres.Load() }

// Engine names the engine of the current pass: "sqlite" or "postgres".
func Engine() string {
	if OnPostgres() {
		return "postgres"
	}
	return "sqlite"
}

// DB returns what a test opens as its database: path itself on the SQLite
// pass; on the PostgreSQL pass a fresh database, the same one whenever the
// same test asks for the same path again (a test that closes and reopens
// its database, as a restart does).
func DB(tb testing.TB, path string) string {
	tb.Helper()
	if !OnPostgres() {
		return path
	}
	key := tb.Name() + "\x00" + path
	mu.Lock()
	dsn, ok := named[key]
	mu.Unlock()
	if ok {
		return dsn
	}
	dsn = NewDatabase(tb)
	mu.Lock()
	named[key] = dsn
	mu.Unlock()
	tb.Cleanup(func() {
		mu.Lock()
		delete(named, key)
		mu.Unlock()
	})
	return dsn
}

// Prepare, when set (before Main), readies a new database for Database:
// typically, applies the schema. It runs once, on a template database
// that every database Database makes is then copied from, so that a
// package opening many stores does not migrate each one. It must leave no
// session connected.
var Prepare func(dsn string) error

var (
	templateOnce sync.Once
	templateName string
	templateErr  error
)

// Database returns the PostgreSQL database named by key on this pass,
// creating it on first use (a copy of Prepare's template, when set): for
// code that maps a name to a database without a test at hand (a data
// directory opened by a command). Each call with a new key makes a new
// database; it lives as long as the cluster.
func Database(key string) (string, error) {
	mu.Lock()
	dsn, ok := named["\x00key\x00"+key]
	mu.Unlock()
	if ok {
		return dsn, nil
	}
	if err := available(); err != nil {
		return "", err
	}
	template := ""
	if Prepare != nil {
		templateOnce.Do(func() {
			var dsn string
			if dsn, templateErr = createDatabase(""); templateErr != nil {
				return
			}
			if templateErr = Prepare(dsn); templateErr != nil {
				templateErr = fmt.Errorf("prepare the template database: %w", templateErr)
				return
			}
			u, _ := url.Parse(dsn)
			templateName = strings.TrimPrefix(u.Path, "/")
		})
		if templateErr != nil {
			return "", templateErr
		}
		template = templateName
	}
	dsn, err := createDatabase(template)
	if err != nil {
		return "", err
	}
	mu.Lock()
	defer mu.Unlock()
	if prev, ok := named["\x00key\x00"+key]; ok {
		return prev, nil // another goroutine won; ours stays unused
	}
	named["\x00key\x00"+key] = dsn
	return dsn, nil
}

// NewDatabase creates an empty PostgreSQL database for tb and returns its
// DSN. It skips tb when PostgreSQL is not installed and CI is unset.
func NewDatabase(tb testing.TB) string {
	tb.Helper()
	if err := available(); err != nil {
		if os.Getenv("CI") != "" {
			tb.Fatalf("PostgreSQL is needed under CI: %v", err)
		}
		tb.Skipf("PostgreSQL is not available: %v", err)
	}
	dsn, err := createDatabase("")
	if err != nil {
		tb.Fatal(err)
	}
	tb.Logf("PostgreSQL database %s", dsn)
	return dsn
}

// createDatabase creates a database on the cluster, empty or a copy of
// template, and returns its DSN.
func createDatabase(template string) (string, error) {
	s, err := start()
	if err != nil {
		return "", fmt.Errorf("start PostgreSQL: %w", err)
	}
	mu.Lock()
	seq++
	name := fmt.Sprintf("t%d_%s_%d", os.Getpid(), runTag, seq)
	made = append(made, name)
	mu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	conn, err := pgx.Connect(ctx, s.dsn)
	if err != nil {
		return "", fmt.Errorf("connect to PostgreSQL: %w", err)
	}
	defer conn.Close(ctx)
	q := `CREATE DATABASE ` + name
	if template != "" {
		q += ` TEMPLATE ` + pgx.Identifier{template}.Sanitize()
	}
	if _, err := conn.Exec(ctx, q); err != nil {
		return "", fmt.Errorf("create database %s: %w", name, err)
	}
	return withDatabase(s.dsn, name), nil
}

// withDatabase returns dsn naming database name instead.
func withDatabase(dsn, name string) string {
	u, err := url.Parse(dsn)
	if err != nil {
		panic(err)
	}
	u.Path = "/" + name
	return u.String()
}

// available says why PostgreSQL cannot be used, or nil.
func available() error {
	if os.Getenv(EnvDSN) != "" {
		return nil
	}
	_, err := binDir()
	return err
}

// binDir finds the directory of initdb and postgres: PATH first, then
// Debian's /usr/lib/postgresql/<version>/bin, newest version first.
func binDir() (string, error) {
	if p, err := exec.LookPath("initdb"); err == nil {
		if real, err := filepath.EvalSymlinks(p); err == nil {
			p = real
		}
		dir := filepath.Dir(p)
		if _, err := os.Stat(filepath.Join(dir, "postgres")); err == nil {
			return dir, nil
		}
	}
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	sort.Slice(dirs, func(i, j int) bool { return version(dirs[i]) > version(dirs[j]) })
	for _, d := range dirs {
		if _, err := os.Stat(filepath.Join(d, "initdb")); err == nil {
			return d, nil
		}
	}
	return "", errors.New("no initdb found (install Debian's postgresql package, or set " + EnvDSN + ")")
}

// Tool returns the path of one of PostgreSQL's programs (pg_dump,
// pg_restore, psql), from the installation Main's cluster comes from.
func Tool(name string) (string, error) {
	dir, err := binDir()
	if err != nil {
		return "", err
	}
	p := filepath.Join(dir, name)
	if _, err := os.Stat(p); err != nil {
		return "", err
	}
	return p, nil
}

func version(binDir string) int {
	n, _ := strconv.Atoi(filepath.Base(filepath.Dir(binDir)))
	return n
}

// server is a running PostgreSQL: ours (cmd set) or HOTLINE_TEST_PG's.
type server struct {
	dsn  string // to the postgres database, as a superuser
	dir  string
	cmd  *exec.Cmd
	done chan struct{}
}

func start() (*server, error) {
	mu.Lock()
	defer mu.Unlock()
	if cluster != nil || startErr != nil {
		return cluster, startErr
	}
	if dsn := os.Getenv(EnvDSN); dsn != "" {
		cluster = &server{dsn: dsn}
		return cluster, nil
	}
	cluster, startErr = startCluster()
	return cluster, startErr
}

// startCluster runs initdb in a temp dir and starts postgres on a unix
// socket in it. As root it runs them as the postgres user, which PostgreSQL
// requires.
func startCluster() (*server, error) {
	dir, cred, err := initCluster()
	if err != nil {
		return nil, err
	}
	s, err := runCluster(dir, cred)
	if err != nil {
		os.RemoveAll(dir)
	}
	return s, err
}

// initCluster makes a new cluster's data directory in a temp dir.
func initCluster() (dir string, cred *syscall.Credential, err error) {
	bin, err := binDir()
	if err != nil {
		return "", nil, err
	}
	dir, err = os.MkdirTemp("", "hotline-pg-")
	if err != nil {
		return "", nil, err
	}
	if os.Geteuid() == 0 {
		u, err := user.Lookup("postgres")
		if err != nil {
			os.RemoveAll(dir)
			return "", nil, fmt.Errorf("running as root needs a postgres user: %w", err)
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		cred = &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}
		if err := os.Chown(dir, uid, gid); err != nil {
			os.RemoveAll(dir)
			return "", nil, err
		}
	}
	initdb := exec.Command(filepath.Join(bin, "initdb"), "-D", filepath.Join(dir, "data"), "-U", "postgres", "-A", "trust", "-E", "UTF8", "--no-locale", "--no-sync")
	initdb.SysProcAttr = &syscall.SysProcAttr{Credential: cred}
	initdb.Dir = dir
	if out, err := initdb.CombinedOutput(); err != nil {
		os.RemoveAll(dir)
		return "", nil, fmt.Errorf("initdb: %v: %s", err, out)
	}
	return dir, cred, nil
}

// runCluster starts postgres on the cluster in dir and waits until it
// takes connections.
func runCluster(dir string, cred *syscall.Credential) (*server, error) {
	bin, err := binDir()
	if err != nil {
		return nil, err
	}
	// Durability settings off: the cluster lives for one test binary, and
	// the tests check behaviour, not power loss. No TCP: the socket is in
	// the temp dir, so parallel test binaries never collide.
	cmd := exec.Command(filepath.Join(bin, "postgres"), "-D", filepath.Join(dir, "data"), "-k", dir, "-c", "listen_addresses=",
		"-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off",
		"-c", "max_connections=300", "-c", "shared_buffers=32MB")
	// The cluster dies with the test binary, even one killed by a timeout.
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: cred, Pdeathsig: syscall.SIGQUIT}
	cmd.Dir = dir
	logf, err := os.OpenFile(filepath.Join(dir, "postgres.log"), os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
	if err != nil {
		return nil, err
	}
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		logf.Close()
		return nil, fmt.Errorf("start postgres: %w", err)
	}
	s := &server{dir: dir, cmd: cmd, done: make(chan struct{}), dsn: "postgres://postgres@/postgres?host=" + url.QueryEscape(dir)}
	go func() { cmd.Wait(); logf.Close(); close(s.done) }()
	deadline := time.Now().Add(60 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		conn, err := pgx.Connect(ctx, s.dsn)
		cancel()
		if err == nil {
			conn.Close(context.Background())
			return s, nil
		}
		select {
		case <-s.done:
			log, _ := os.ReadFile(filepath.Join(dir, "postgres.log"))
			return nil, fmt.Errorf("postgres exited: %s", strings.TrimSpace(string(log)))
		case <-time.After(100 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			s.halt(syscall.SIGINT)
			return nil, fmt.Errorf("postgres did not accept connections: %v", err)
		}
	}
}

// Cluster is a PostgreSQL cluster of one test's own, which the test may
// stop and start again (an outage): never the shared server, which other
// tests and engineers use.
type Cluster struct {
	tb   testing.TB
	dir  string
	cred *syscall.Credential

	mu sync.Mutex
	s  *server // nil while stopped
}

// NewCluster starts a cluster for tb, removed at its end. It skips tb
// when PostgreSQL is not installed and CI is unset.
func NewCluster(tb testing.TB) *Cluster {
	tb.Helper()
	if _, err := binDir(); err != nil {
		if os.Getenv("CI") != "" {
			tb.Fatalf("PostgreSQL is required under CI: %v", err)
		}
		tb.Skipf("PostgreSQL not available: %v", err)
	}
	dir, cred, err := initCluster()
	if err != nil {
		tb.Fatal(err)
	}
	c := &Cluster{tb: tb, dir: dir, cred: cred}
	tb.Cleanup(func() {
		c.Stop()
		os.RemoveAll(dir)
	})
	c.Start()
	return c
}

// DSN is the URL of the database name on the cluster (created with
// CreateDatabase), the same whether it runs or not.
func (c *Cluster) DSN(name string) string {
	return "postgres://postgres@/" + name + "?host=" + url.QueryEscape(c.dir)
}

// CreateDatabase creates an empty database and returns its DSN.
func (c *Cluster) CreateDatabase(name string) string {
	c.tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	conn, err := pgx.Connect(ctx, c.DSN("postgres"))
	if err != nil {
		c.tb.Fatal(err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, `CREATE DATABASE `+pgx.Identifier{name}.Sanitize()); err != nil {
		c.tb.Fatal(err)
	}
	return c.DSN(name)
}

// Stop shuts the cluster down at once (PostgreSQL's fast shutdown: open
// transactions are rolled back, clients disconnected) and waits for it.
func (c *Cluster) Stop() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.s != nil {
		c.s.halt(syscall.SIGINT)
		c.s = nil
	}
}

// Start starts a stopped cluster again on the same socket and data.
func (c *Cluster) Start() {
	c.tb.Helper()
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.s != nil {
		return
	}
	s, err := runCluster(c.dir, c.cred)
	if err != nil {
		c.tb.Fatal(err)
	}
	c.s = s
}

// halt signals postgres (SIGINT: fast shutdown) and waits for it to exit.
func (s *server) halt(sig syscall.Signal) {
	s.cmd.Process.Signal(sig)
	select {
	case <-s.done:
	case <-time.After(30 * time.Second):
		s.cmd.Process.Kill()
		<-s.done
	}
}

func (s *server) stop() {
	if s.cmd == nil {
		s.dropMade()
		return
	}
	s.halt(syscall.SIGINT) // fast shutdown: disconnects clients
	os.RemoveAll(s.dir)
}

// dropMade drops the databases this process created on a shared server,
// once its tests are done (a child process a test started has exited).
// A run that is killed leaves its databases; the next runs do not reuse
// them (runTag).
func (s *server) dropMade() {
	mu.Lock()
	names := made
	made = nil
	mu.Unlock()
	if len(names) == 0 {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	// Several at once: each DROP waits for a checkpoint, which concurrent
	// drops share.
	var (
		wg     sync.WaitGroup
		failed atomic.Int64
		next   = make(chan string)
	)
	for range 8 {
		wg.Go(func() {
			conn, err := pgx.Connect(ctx, s.dsn)
			if err != nil {
				for range next {
					failed.Add(1)
				}
				return
			}
			defer conn.Close(ctx)
			for name := range next {
				if _, err := conn.Exec(ctx, `DROP DATABASE IF EXISTS `+pgx.Identifier{name}.Sanitize()+` WITH (FORCE)`); err != nil {
					failed.Add(1)
				}
			}
		})
	}
	for _, name := range names {
		next <- name
	}
	close(next)
	wg.Wait()
	if n := failed.Load(); n > 0 {
		slog.Warn("pgtest: databases left on the server", "count", n)
	}
}

// stop stops the cluster if one was started.
func stop() {
	mu.Lock()
	s := cluster
	cluster, startErr = nil, nil
	mu.Unlock()
	if s != nil {
		s.stop()
	}
}

// Stop stops the cluster started for this binary, if any. A package that
// uses NewDatabase without Main calls it from its TestMain after m.Run.
func Stop() { stop() }

// Clone copies the PostgreSQL database dsn names into a new database and
// returns its DSN: a snapshot, as a SQLite test takes with a backup. No
// session may be connected to the source: close its store first.
func Clone(tb testing.TB, dsn string) string {
	tb.Helper()
	s, err := start()
	if err != nil {
		tb.Fatalf("start PostgreSQL: %v", err)
	}
	u, err := url.Parse(dsn)
	if err != nil {
		tb.Fatal(err)
	}
	src := strings.TrimPrefix(u.Path, "/")
	mu.Lock()
	seq++
	name := fmt.Sprintf("t%d_%s_%d", os.Getpid(), runTag, seq)
	made = append(made, name)
	mu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	conn, err := pgx.Connect(ctx, s.dsn)
	if err != nil {
		tb.Fatalf("connect to PostgreSQL: %v", err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, `CREATE DATABASE `+name+` TEMPLATE `+pgx.Identifier{src}.Sanitize()); err != nil {
		tb.Fatalf("clone database: %v", err)
	}
	return withDatabase(dsn, name)
}
