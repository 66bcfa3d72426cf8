package platform_test

import (
	"context"
	"fmt"
	"testing"

	"hotline/internal/hotline"
	"hotline/internal/store"
)

// BenchmarkIntakeHooks measures a report's filing (sealed, durable, with
// its ledger event) without the platform's hooks, with them for a district
// without an endpoint (one indexed read more), and with one endpoint (the
// payload composed and a row queued in the same transaction).
func BenchmarkIntakeHooks(b *testing.B) {
	for _, mode := range []string{"no hooks", "hooks, no endpoint", "hooks, one endpoint"} {
		b.Run(mode, func(b *testing.B) {
			e := newBenchEnv(b, mode)
			ctx := context.Background()
			b.ResetTimer()
			for i := range b.N {
				if _, err := e.intake.Submit(ctx, hotline.Submission{SchoolCode: "no3", Channel: hotline.ChannelMailbox, Role: hotline.ReporterWitness,
					Category: hotline.CategoryVerbal, Lang: hotline.LangZH, Texts: []string{fmt.Sprintf("报告 %d", i)}}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func newBenchEnv(b *testing.B, mode string) *env {
	e := newEnvTB(b)
	ctx := context.Background()
	switch mode {
	case "no hooks":
		e.db.SetLedgerHooks(store.LedgerHooks{})
	case "hooks, no endpoint":
		eps, _ := e.pf.Endpoints(ctx, e.officer)
		for _, ep := range eps {
			if err := e.pf.DeleteEndpoint(ctx, e.officer, ep.ID); err != nil {
				b.Fatal(err)
			}
		}
	}
	return e
}
