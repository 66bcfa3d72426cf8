package main

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"

	"hotline/internal/hotline"
	"hotline/internal/ledger"
)

func runLedger(ctx context.Context, args []string, env *Env) error {
	if len(args) > 0 && args[0] == "verify-bundle" {
		return runVerifyBundle(ctx, args[1:], env)
	}
	if len(args) == 0 || (args[0] != "verify" && args[0] != "export") {
		fmt.Fprintln(env.Stderr, `usage: hotline ledger verify [--data DIR] [--head SEQ:HASH]… [--heads FILE]
           check the hash chain, the recorded heads and every case against its events, and the heads
           held outside the server (the paper register, the bureau's platform); exit 1 and name the
           first broken event
       hotline ledger export [--data DIR]
           write every event as JSON lines, checked as they go (exit 1 if broken)
       hotline ledger verify-bundle FILE [--head SEQ:HASH]…
           check a case's evidence bundle (证据包) offline, on any machine: its files, the case's events
           and their chain to the bundle's head; no data directory, database or key`)
		if len(args) > 0 && (args[0] == "-h" || args[0] == "--help") {
			return nil
		}
		return ErrUsage
	}
	var dir, headsFile string
	var heads anchorList
	fs := newFlagSet("ledger "+args[0], env, "The ledger (台账) is an append-only, hash-chained record of every case event: no content.")
	fs.dataFlag(&dir)
	if args[0] == "verify" {
		fs.Var(&heads, "head", "a head held outside the server, SEQ:HASH (the hash whole, or its short form of 20 hex digits as the register has it); repeat for several")
		fs.StringVar(&headsFile, "heads", "", "a file of heads held outside, one a line: SEQ:HASH, or the JSON bodies the district's webhook received")
	}
	if err := fs.Parse(args[1:]); err != nil {
		return usageErr(err)
	}
	if headsFile != "" {
		f, err := os.Open(headsFile)
		if err != nil {
			return err
		}
		more, err := ledger.ParseAnchors(f)
		f.Close()
		if err != nil {
			return fmt.Errorf("%s: %w", headsFile, err)
		}
		heads = append(heads, more...)
	}
	m, err := openData(dir, env)
	if err != nil {
		return err
	}
	defer m.Close()
	if args[0] == "export" {
		return exportLedger(ctx, m, env)
	}
	res, err := m.DB.VerifyLedgerWith(ctx, heads)
	if err != nil {
		return err
	}
	if !res.OK() {
		fmt.Fprintf(env.Stdout, "台账校验失败 / ledger BROKEN at event %d: %s\n(%d events verified before it)\n", res.Break.Seq, res.Break.Reason, res.Count)
		return &ExitError{Code: 1}
	}
	if res.Outside != nil {
		fmt.Fprintf(env.Stdout, "台账与外部保存的校验值不符 / ledger BROKEN against a head held outside, at event %d: %s\n(the chain inside is whole up to event %d: it was cut or rewritten after that head left the server)\n",
			res.Outside.Seq, res.Outside.Reason, res.Last)
		return &ExitError{Code: 1}
	}
	fmt.Fprintf(env.Stdout, "台账完整 / ledger OK: %d events, head %s\n", res.Count, res.Head)
	if len(heads) > 0 {
		fmt.Fprintf(env.Stdout, "外部保存的 %d 个校验值都吻合（最新：第 %d 条）/ the %d heads held outside all match (newest: event %d)\n", len(heads), res.OutsideNewest, len(heads), res.OutsideNewest)
	}
	printTail(env.Stdout, max(res.Anchor, res.OutsideNewest), max(0, res.Last-max(res.Anchor, res.OutsideNewest)))
	return nil
}

// anchorList collects repeated --head flags.
type anchorList []ledger.Anchor

func (l *anchorList) String() string {
	out := make([]string, len(*l))
	for i, a := range *l {
		out[i] = a.String()
	}
	return strings.Join(out, ",")
}

func (l *anchorList) Set(s string) error {
	a, err := ledger.ParseAnchor(s)
	if err != nil {
		return err
	}
	*l = append(*l, a)
	return nil
}

// printTail says how much of the ledger's end the recorded heads vouch
// for. Events after the newest head are checked as a chain, but deleting
// some of them from the end would leave a chain just as whole: only a later
// head can vouch for them. A head is recorded every store.HeadEvery events
// and, by the scheduler, within store.HeadInterval of any new event.
func printTail(w io.Writer, anchor, unvouched int64) {
	if unvouched == 0 {
		fmt.Fprintf(w, "每一条记录都有记录的校验点担保（最新：第 %d 条）/ every event is vouched for by a recorded head (newest: event %d)\n", anchor, anchor)
		return
	}
	fmt.Fprintf(w, "注意 / WARNING: 最新校验点（第 %d 条）之后的 %d 条记录无法担保：如果末尾有记录被删除，将无法发现。\n"+
		"%d events after the newest recorded head (event %d) cannot be vouched for: had events been deleted from the end, nothing would show it.\n",
		anchor, unvouched, unvouched, anchor)
}

type ledgerLine struct {
	Seq      int64  `json:"seq"`
	At       string `json:"at"`
	SchoolID int64  `json:"school_id"`
	TipID    int64  `json:"tip_id,omitempty"`
	Alias    string `json:"alias,omitempty"`
	Kind     string `json:"kind"`
	Detail   string `json:"detail,omitempty"`
	ActorID  int64  `json:"actor_id,omitempty"`
	Salt     string `json:"salt,omitempty"` // version 2 events (see internal/ledger)
	PrevHash string `json:"prev_hash"`
	Hash     string `json:"hash"`
}

// exportLedger writes every event as a JSON line and checks the chain as it
// goes, then the recorded heads against what it wrote: the lines are what
// the district gets, so they must be the whole history. A break is
// reported on stderr with exit 1 (the lines written so far stand as
// evidence); otherwise stderr says how many events at the end no recorded
// head vouches for.
func exportLedger(ctx context.Context, m *Main, env *Env) error {
	anchors, err := m.DB.LedgerAnchors(ctx)
	if err != nil {
		return err
	}
	want := anchors.Want()
	hashes := map[int64][]byte{}
	v := ledger.NewVerifier()
	enc := json.NewEncoder(env.Stdout)
	var after int64
	for {
		evs, err := m.DB.Events(ctx, after, 1000)
		if err != nil {
			return err
		}
		if len(evs) == 0 {
			break
		}
		for _, ev := range evs {
			if err := enc.Encode(lineOf(ev)); err != nil {
				return err
			}
			v.Add(ev)
			if want[ev.Seq] {
				hashes[ev.Seq] = ev.Hash
			}
			after = ev.Seq
		}
	}
	res := v.Result()
	if res.Break == nil {
		res.Break = anchors.Check(hashes)
	}
	if !res.OK() {
		fmt.Fprintf(env.Stderr, "台账校验失败 / ledger BROKEN at event %d: %s\n", res.Break.Seq, res.Break.Reason)
		return &ExitError{Code: 1}
	}
	fmt.Fprintf(env.Stderr, "已导出 / exported %d events\n", res.Count)
	newest := anchors.Newest()
	printTail(env.Stderr, newest, max(0, after-newest))
	return nil
}

func lineOf(ev *hotline.Event) ledgerLine {
	return ledgerLine{Seq: ev.Seq, At: ev.At.Format("2006-01-02T15:04:05.000000Z07:00"), SchoolID: ev.SchoolID, TipID: ev.TipID, Alias: ev.Alias,
		Kind: string(ev.Kind), Detail: ev.Detail, ActorID: ev.ActorID, Salt: hex.EncodeToString(ev.Salt), PrevHash: hex.EncodeToString(ev.PrevHash), Hash: hex.EncodeToString(ev.Hash)}
}
