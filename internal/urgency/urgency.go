// Package urgency is the danger detector: it reads one message and says
// whether it shows danger now (someone may die or be seriously hurt today
// unless an adult acts), with three answers: urgent, unsure (the
// conversation asks the reporter) and not urgent. It has two layers: rules
// (rules.go) and a linear model over hashed n-grams trained from the
// labelled corpus in corpus/ (features.go, model.go, train.go; the weights
// in model.bin, built in). Every exported detector function is a pure
// function of the text: no state, no I/O, no logging, so that intake, the
// conversation and tools outside the package can score any set of messages
// the same way. See docs/detector.md.
package urgency

//go:generate go run ../../cmd/hotline detector train --corpus corpus --out model.bin

import (
	_ "embed"
	"sync"
)

// Answer is the detector's answer about one message.
type Answer string

// Answers.
const (
	// AnswerUrgent: danger now. The report takes the urgent path: safety
	// guidance, an offer to send it at once, the on-call paged.
	AnswerUrgent Answer = "urgent"
	// AnswerUnsure: it may be danger now. The conversation asks the
	// reporter at once whether they are safe.
	AnswerUnsure Answer = "unsure"
	// AnswerNotUrgent: no sign of danger now.
	AnswerNotUrgent Answer = "not_urgent"
)

// Verdict is the detector's answer with what it is made of.
type Verdict struct {
	Answer Answer
	// Reason is the category of an urgent answer (one of the Reason
	// constants; ReasonModel when only the model saw danger), or
	// ReasonModel for an unsure one; "" otherwise. Never the text.
	Reason string
	// RuleScore is 1 when a rule matched, else 0.
	RuleScore float64
	// ModelScore is the model's probability of danger now.
	ModelScore float64
}

// modelFile is the trained model, written by `hotline detector train`
// (see docs/detector.md) and built into the binary.
//
//go:embed model.bin
var modelFile []byte

// DefaultModel returns the model built into the binary. It is decoded once,
// on first use; a damaged file is a build defect, caught by the tests.
var DefaultModel = sync.OnceValue(func() *Model {
	m := new(Model)
	if err := m.UnmarshalBinary(modelFile); err != nil {
		panic(err)
	}
	return m
})

// Assess scores text with the rules and the built-in model.
func Assess(text string) Verdict { return DefaultModel().Assess(text) }

// Assess scores text with the rules and m: a rule's match (unless the model
// scores it below m.Veto: then it is asked about), or a model score at or
// above m.Urgent, is urgent; a score at or above m.Unsure is unsure.
func (m *Model) Assess(text string) Verdict {
	rd := read(text) // read once, for both layers
	slang := slangZH.Replace(rd.spaced)
	ok, reason := rulesSlang(rd, slang)
	logit := m.scoreSlang(slang)
	v := Verdict{ModelScore: Probability(logit)}
	if ok {
		v.RuleScore = 1
	}
	switch a := m.Thresholds().Answer(LayerCombined, Scored{Rules: ok, Logit: logit}); {
	case a == AnswerUrgent && ok:
		v.Answer, v.Reason = AnswerUrgent, reason
	case a == AnswerNotUrgent:
		v.Answer = AnswerNotUrgent
	default:
		v.Answer, v.Reason = a, ReasonModel
	}
	return v
}

// Urgent reports whether text reads as danger now: the urgent answer.
func Urgent(text string) bool { return Assess(text).Answer == AnswerUrgent }

// UrgentReason reports whether text reads as danger now and, if so, the
// category of the danger (one of the Reason constants).
func UrgentReason(text string) (bool, string) {
	v := Assess(text)
	if v.Answer != AnswerUrgent {
		return false, ""
	}
	return true, v.Reason
}

// Unsure reports whether text may read as danger now, so that the reporter
// is asked: the unsure answer. An urgent text is not unsure.
func Unsure(text string) bool { return Assess(text).Answer == AnswerUnsure }
