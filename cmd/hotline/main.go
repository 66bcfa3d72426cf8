// Command hotline runs Hotline, the anonymous bullying-report hotline and
// mailbox for schools, and administers it: schools, counselors, the ledger,
// exports. Run "hotline help" for the commands.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	_ "time/tzdata" // rota hours are in each school's zone, on hosts without a zone database too
)

// version is set at build time with -ldflags "-X main.version=…".
var version = "dev"

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

// command is one subcommand.
type command struct {
	name    string
	summary string
	run     func(ctx context.Context, args []string, env *Env) error
}

// Env is what a subcommand reads and writes besides its flags.
type Env struct {
	Stdin  io.Reader
	Stdout io.Writer
	Stderr io.Writer
	Getenv func(string) string
	// LookupEnv tells a variable set blank from one not set; nil: a
	// variable is set when Getenv returns more than "".
	LookupEnv func(string) (string, bool)
	// Database is the --database flag of the command (see dataFlag).
	Database string
}

// commands are the subcommands, in the order help lists them. Each runs
// from its own file.
func commands() []command {
	return []command{
		{"demo", "create a demo school, counselor and sample reports, then serve on localhost", runDemo},
		{"serve", "run the server: web chat, mailbox, counselor inbox, Telegram bot", runServe},
		{"init", "create the data directory, its server key and database", runInit},
		{"school", "manage schools: school add --name NAME --code CODE --district NAME | school set-district", runSchool},
		{"district", "manage district bureaus: district add --name NAME --officer USER", runDistrict},
		{"counselor", "manage counselors: counselor add --school CODE --username NAME [--role counselor|admin]", runCounselor},
		{"ledger", "the case ledger (台账): ledger verify | ledger export | ledger verify-bundle FILE (a case's evidence bundle, offline)", runLedger},
		{"export", "the summary report (工作总结) as CSV: export [--district D] [--school CODE] [--from DATE] [--to DATE] --format csv", runExport},
		{"poster", "write a school's A4 poster with QR codes as PNG: poster --school CODE --out FILE.png", runPoster},
		{"wechat", "WeChat official accounts: wechat menu [--account NAME] publishes the menu 我要报告 / 查看进度 / 紧急求助", runWechat},
		{"detector", "the danger detector: detector train (the model, from the corpus) | detector eval (its figures)", runDetector},
		{"migrate", "apply the database's migrations and exit (nodes starting at once on PostgreSQL take turns)", runMigrate},
		{"backup", "write a consistent copy of the database: backup --out FILE (the server key is not in it)", runBackup},
		{"key", "the server key: key fingerprint [--file KEYFILE] compares a key with the one the database recorded", runKey},
		{"healthcheck", "exit 0 when the server on --addr answers GET /healthz with 200 (for Docker; the image has no curl)", runHealthcheck},
		{"bench", "measure what this machine sustains (in-process demo; --target URL --yes for a test deployment)", runBench},
		{"version", "print the version", runVersion},
	}
}

func runVersion(ctx context.Context, args []string, env *Env) error {
	fmt.Fprintln(env.Stdout, "hotline", version)
	return nil
}

// ErrUsage marks a usage error, already explained to the user.
var ErrUsage = errors.New("usage")

// ExitError carries a specific exit code (ledger verify uses 1 for a broken chain).
type ExitError struct{ Code int }

func (e *ExitError) Error() string { return fmt.Sprintf("exit %d", e.Code) }

func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	return runWith(ctx, args, &Env{Stdin: stdin, Stdout: stdout, Stderr: stderr, Getenv: os.Getenv, LookupEnv: os.LookupEnv})
}

// runWith runs a command with env (tests give it their own environment).
func runWith(ctx context.Context, args []string, env *Env) int {
	stdout, stderr := env.Stdout, env.Stderr
	if len(args) == 0 || args[0] == "help" || args[0] == "-h" || args[0] == "--help" {
		if len(args) > 1 {
			return runWith(ctx, []string{args[1], "-h"}, env)
		}
		usage(stdout)
		return 0
	}
	for _, c := range commands() {
		if c.name == args[0] {
			err := c.run(ctx, args[1:], env)
			var exit *ExitError
			switch {
			case err == nil:
				return 0
			case errors.Is(err, flag.ErrHelp):
				return 0
			case errors.Is(err, ErrUsage):
				return 2
			case errors.As(err, &exit):
				return exit.Code
			}
			fmt.Fprintln(stderr, "hotline:", err)
			return 1
		}
	}
	fmt.Fprintf(stderr, "hotline: unknown command %q\n\n", args[0])
	usage(stderr)
	return 2
}

// realSchoolExample is the help's sequence for a real school, run as it
// stands by a test (with --data and --addr added).
const realSchoolExample = `  hotline init
  hotline district add --name 海淀区 --officer haidian-officer
  hotline school add --name 第三中学 --code no3 --district 海淀区
  hotline serve --public-url https://hotline.example.edu.cn`

func usage(w io.Writer) {
	fmt.Fprint(w, `Hotline — 校园欺凌匿名举报热线与信箱 / an anonymous bullying-report hotline and mailbox for schools.

Usage: hotline <command> [flags]

Commands:
`)
	for _, c := range commands() {
		fmt.Fprintf(w, "  %-11s %s\n", c.name, c.summary)
	}
	fmt.Fprint(w, `
Every command takes --data DIR (default ./data, or HOTLINE_DATA) and
--database DSN (default: the SQLite file DIR/hotline.db; a postgres:// URL
selects PostgreSQL, or HOTLINE_DATABASE). Run
"hotline <command> -h" for its flags; each flag also reads the environment
variable shown beside it.

Start here:   hotline demo          (then open the address it prints)
A real school (each step prints what to keep; see the README):
`+realSchoolExample+`
`)
}
