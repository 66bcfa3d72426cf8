package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"

	"hotline/internal/evidence"
)

// runVerifyBundle checks a case's evidence bundle (证据包) offline: no data
// directory, no database, no key. Exit 0 when it holds, 1 when a check
// fails (named), 2 for a usage error.
func runVerifyBundle(_ context.Context, args []string, env *Env) error {
	var heads anchorList
	fs := newFlagSet("ledger verify-bundle", env, "Checks a case's evidence bundle (证据包) offline, on any machine, without the database or a key:\n"+
		"every file against its SHA-256, each of the case's ledger events, and the hash chain from the case's first\n"+
		"event to the bundle's head. Give the head the district holds (its register, its platform) with --head.\n\n"+
		"Usage: hotline ledger verify-bundle FILE [--head SEQ:HASH]…")
	fs.Var(&heads, "head", "a head held outside the server, SEQ:HASH (whole, or the register's short form): it must match the bundle's chain; repeat for several")
	// The file may come before or after the flags.
	var file string
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		file, args = args[0], args[1:]
	}
	if err := fs.Parse(args); err != nil {
		return usageErr(err)
	}
	if file == "" && fs.NArg() == 1 {
		file = fs.Arg(0)
	} else if file == "" || fs.NArg() > 0 {
		fmt.Fprintln(env.Stderr, "usage: hotline ledger verify-bundle FILE [--head SEQ:HASH]…")
		return ErrUsage
	}
	f, err := os.Open(file)
	if err != nil {
		return err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return err
	}
	rep, err := evidence.Verify(f, st.Size(), heads)
	var failure *evidence.Failure
	if errors.As(err, &failure) {
		fmt.Fprintf(env.Stdout, "证据包校验失败 / evidence bundle FAILED: %s: %s\n", failure.Where, failure.Reason)
		return &ExitError{Code: 1}
	} else if err != nil {
		return err
	}
	m := rep.Manifest
	w := env.Stdout
	fmt.Fprintf(w, "证据包校验通过 / evidence bundle OK: %s\n", m.Bundle)
	fmt.Fprintf(w, "  案件 / case: %s · %s (%s)\n", m.Case.Alias.String(), m.Case.School, m.Case.SchoolCode)
	fmt.Fprintf(w, "  导出 / exported: %s UTC by %s (%s)\n", m.ExportedAt.Format("2006-01-02 15:04:05"), m.ExportedBy.Name, m.ExportedBy.Role)
	ref := ""
	if m.Reason.Reference != "" {
		ref = " — " + m.Reason.Reference
	}
	fmt.Fprintf(w, "  原因 / reason: %s / %s%s\n", m.Reason.Label.ZH, m.Reason.Label.EN, ref)
	fmt.Fprintf(w, "  文件 / files: %d, each matches its SHA-256; the content digest matches the export event\n", rep.Files)
	fmt.Fprintf(w, "  台账 / ledger: events %d to %d recomputed: %d of this case, %d of other cases as digests", m.Ledger.First, m.Ledger.Last, rep.CaseEvents, rep.Digests)
	if rep.WholeOthers > 0 {
		fmt.Fprintf(w, ", %d older events of other cases whole", rep.WholeOthers)
	}
	fmt.Fprintln(w)
	if rep.HeadsChecked > 0 {
		fmt.Fprintf(w, "  期间记录的 %d 个校验值吻合 / the heads recorded in the span match (%d)\n", rep.HeadsChecked, rep.HeadsChecked)
	}
	fmt.Fprintf(w, "  校验值 / head: event %d %s\n  简写 / short form: %s\n", m.Ledger.Head.Seq, m.Ledger.Head.Hash, m.Ledger.Head.Short)
	if len(rep.Anchors) > 0 {
		for _, a := range rep.Anchors {
			fmt.Fprintf(w, "  外部保存的校验值吻合 / the head held outside matches: %s\n", a)
		}
		return nil
	}
	fmt.Fprintf(w, "请向区教育局核对这个校验值（登记簿或平台）/ confirm this head with the district (its register or platform):\n  hotline ledger verify-bundle %s --head %d:%s\n",
		file, m.Ledger.Head.Seq, m.Ledger.Head.Short)
	return nil
}
