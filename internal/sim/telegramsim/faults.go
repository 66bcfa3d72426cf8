package telegramsim

import (
	"math/rand/v2"
	"strings"
	"time"
)

// FaultKind is a kind of injected failure.
type FaultKind string

const (
	// FaultTooManyRequests answers 429 with parameters.retry_after.
	FaultTooManyRequests FaultKind = "429"
	// FaultServerError answers 500 Internal Server Error.
	FaultServerError FaultKind = "500"
	// FaultSlow delays the request by Faults.SlowDelay, then handles it normally.
	FaultSlow FaultKind = "slow"
	// FaultDrop closes the connection without handling the request.
	FaultDrop FaultKind = "drop"
	// FaultAnswerLost handles the request (a sent message is recorded, with
	// SentMessage.AnswerLost set), then closes the connection without an answer.
	FaultAnswerLost FaultKind = "answer_lost"
)

// AllFaultKinds lists every FaultKind.
var AllFaultKinds = []FaultKind{FaultTooManyRequests, FaultServerError, FaultSlow, FaultDrop, FaultAnswerLost}

// Faults configures random fault injection.
type Faults struct {
	// Rate is the probability (0..1) that a request to one of Methods fails.
	Rate float64
	// Methods the faults apply to (canonical or any case, e.g. "sendMessage",
	// MethodDownload). Empty means every method, getMe and getUpdates included.
	Methods []string
	// Kinds to choose from uniformly; repeat a kind to weight it. Empty means AllFaultKinds.
	Kinds []FaultKind
	// RetryAfter is the retry_after seconds of 429 answers. Default 1.
	RetryAfter int
	// SlowDelay is the delay of FaultSlow. Default 200ms.
	SlowDelay time.Duration
	// Seed reseeds the generator when SetFaults is called, so that the same
	// sequence of requests sees the same faults.
	Seed uint64
}

// SetFaults replaces the random fault configuration and reseeds the generator.
// It may be called while the bot is running.
func (s *Server) SetFaults(f Faults) {
	f.Methods = append([]string(nil), f.Methods...)
	for i, m := range f.Methods {
		f.Methods[i], _ = lookupMethod(m)
	}
	f.Kinds = append([]FaultKind(nil), f.Kinds...)
	s.fmu.Lock()
	defer s.fmu.Unlock()
	s.faults = f
	s.rng = rand.New(rand.NewPCG(f.Seed, f.Seed^0x9e3779b97f4a7c15))
}

// ClearFaults stops random fault injection and discards scripted faults.
func (s *Server) ClearFaults() {
	s.fmu.Lock()
	defer s.fmu.Unlock()
	s.faults = Faults{RetryAfter: s.faults.RetryAfter, SlowDelay: s.faults.SlowDelay}
	s.scripted = map[string][]FaultKind{}
}

// InjectNext makes the next len(kinds) requests to method fail with the
// given kinds, in order, before (and regardless of) random faults.
func (s *Server) InjectNext(method string, kinds ...FaultKind) {
	name, _ := lookupMethod(method)
	s.fmu.Lock()
	defer s.fmu.Unlock()
	s.scripted[name] = append(s.scripted[name], kinds...)
}

func (s *Server) pickFault(method string) (FaultKind, bool) {
	s.fmu.Lock()
	defer s.fmu.Unlock()
	if q := s.scripted[method]; len(q) > 0 {
		s.scripted[method] = q[1:]
		return q[0], true
	}
	f := &s.faults
	if f.Rate <= 0 {
		return "", false
	}
	if len(f.Methods) > 0 {
		found := false
		for _, m := range f.Methods {
			if strings.EqualFold(m, method) {
				found = true
				break
			}
		}
		if !found {
			return "", false
		}
	}
	if s.rng.Float64() >= f.Rate {
		return "", false
	}
	kinds := f.Kinds
	if len(kinds) == 0 {
		kinds = AllFaultKinds
	}
	return kinds[s.rng.IntN(len(kinds))], true
}

func (s *Server) retryAfter() int {
	s.fmu.Lock()
	defer s.fmu.Unlock()
	if s.faults.RetryAfter > 0 {
		return s.faults.RetryAfter
	}
	return 1
}

func (s *Server) slowDelay() time.Duration {
	s.fmu.Lock()
	defer s.fmu.Unlock()
	if s.faults.SlowDelay > 0 {
		return s.faults.SlowDelay
	}
	return 200 * time.Millisecond
}
