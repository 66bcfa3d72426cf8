package staff

import "context"

// Gate is the caller's flood limit on credential work from a browser the
// account does not know (internal/inboxweb: per client, per network and a
// ceiling over all of them). The staff service asks it at the last
// moment: after the cheap refusals (a malformed request, a locked account
// or name) and only for an attempt that will cost a check, so that a
// request refused for free costs the limit nothing, and never for a
// browser the account knows, which a flood of strangers' guesses must not
// keep out.
type Gate interface {
	// Admit takes a token for one attempt, or returns the error to answer
	// with (hotline.ERATELIMIT).
	Admit() error
	// Refund gives the token back: the attempt did not count (it was
	// refused after all before any check, or it was right).
	Refund()
}

type gateKey struct{}

// WithGate makes g the gate of the credential checks made under ctx
// (Login, VerifyTOTP, Recover). Without one nothing is asked.
func WithGate(ctx context.Context, g Gate) context.Context {
	return context.WithValue(ctx, gateKey{}, g)
}

// admit asks ctx's gate, if any, and returns the refund to call when the
// attempt turns out not to count.
func admit(ctx context.Context) (refund func(), err error) {
	g, _ := ctx.Value(gateKey{}).(Gate)
	if g == nil {
		return func() {}, nil
	}
	if err := g.Admit(); err != nil {
		return nil, err
	}
	return g.Refund, nil
}
