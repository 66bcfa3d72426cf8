package main

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"fmt"

	"hotline/internal/hotline"
)

func runLedger(ctx context.Context, args []string, env *Env) error {
	if len(args) == 0 || (args[0] != "verify" && args[0] != "export") {
		fmt.Fprintln(env.Stderr, "usage: hotline ledger verify [--data DIR]   check the hash chain; exit 1 and name the first broken event\n       hotline ledger export [--data DIR]   write every event as JSON lines")
		if len(args) > 0 && (args[0] == "-h" || args[0] == "--help") {
			return nil
		}
		return ErrUsage
	}
	var dir string
	fs := newFlagSet("ledger "+args[0], env, "The ledger (台账) is an append-only, hash-chained record of every case event: no content.")
	fs.dataFlag(&dir)
	if err := fs.Parse(args[1:]); err != nil {
		return usageErr(err)
	}
	m, err := openData(dir, env)
	if err != nil {
		return err
	}
	defer m.Close()
	if args[0] == "export" {
		return exportLedger(ctx, m, env)
	}
	res, err := m.DB.VerifyLedger(ctx)
	if err != nil {
		return err
	}
	if !res.OK() {
		fmt.Fprintf(env.Stdout, "台账校验失败 / ledger BROKEN at event %d: %s\n(%d events verified before it)\n", res.Break.Seq, res.Break.Reason, res.Count)
		return &ExitError{Code: 1}
	}
	fmt.Fprintf(env.Stdout, "台账完整 / ledger OK: %d events, head %s\n", res.Count, res.Head)
	return nil
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
	PrevHash string `json:"prev_hash"`
	Hash     string `json:"hash"`
}

func exportLedger(ctx context.Context, m *Main, env *Env) error {
	enc := json.NewEncoder(env.Stdout)
	var after int64
	for {
		evs, err := m.DB.Events(ctx, after, 1000)
		if err != nil {
			return err
		}
		if len(evs) == 0 {
			return nil
		}
		for _, ev := range evs {
			if err := enc.Encode(lineOf(ev)); err != nil {
				return err
			}
			after = ev.Seq
		}
	}
}

func lineOf(ev *hotline.Event) ledgerLine {
	return ledgerLine{Seq: ev.Seq, At: ev.At.Format("2006-01-02T15:04:05.000000Z07:00"), SchoolID: ev.SchoolID, TipID: ev.TipID, Alias: ev.Alias,
		Kind: string(ev.Kind), Detail: ev.Detail, ActorID: ev.ActorID, PrevHash: hex.EncodeToString(ev.PrevHash), Hash: hex.EncodeToString(ev.Hash)}
}
