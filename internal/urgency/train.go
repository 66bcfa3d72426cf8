package urgency

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"math"
	"slices"
	"strings"
)

// TrainOptions are the knobs of training. The zero value is not useful;
// start from DefaultTrainOptions.
type TrainOptions struct {
	Method     string  // "logistic" (regularised logistic regression) or "bayes" (multinomial naive Bayes)
	Bits       int     // 1<<Bits hashed buckets
	L2         float64 // logistic: weight of the L2 penalty
	Iterations int     // logistic: full-batch Adam steps
	Alpha      float64 // bayes: additive smoothing
	Window     int     // characters per window of a long message
}

// DefaultTrainOptions are the options `hotline detector train` uses; the
// figures in docs/detector.md say why.
var DefaultTrainOptions = TrainOptions{Method: "logistic", Bits: 18, L2: 1e-5, Iterations: 400, Alpha: 0.5, Window: 120}

// sparse is one example as sorted (bucket, count) pairs.
type sparse struct {
	idx []uint32
	val []float32
}

func vectorize(text string, mask uint32) sparse {
	counts := map[uint32]float32{}
	features(units(read(text).spaced), mask, func(_ int, b uint32) { counts[b]++ })
	idx := make([]uint32, 0, len(counts))
	for b := range counts {
		idx = append(idx, b)
	}
	slices.Sort(idx)
	val := make([]float32, len(idx))
	for i, b := range idx {
		val[i] = counts[b]
	}
	return sparse{idx, val}
}

// Digest is the SHA-256 of examples (batch, label, text of each, in
// order), as a model records it.
func Digest(ex []Example) string {
	h := sha256.New()
	for _, e := range ex {
		label := "ordinary"
		if e.Danger {
			label = "danger"
		}
		fmt.Fprintf(h, "%s\t%s\t%s\n", e.Batch, label, e.Text)
	}
	return hex.EncodeToString(h.Sum(nil))
}

// Train fits a model to the examples. It uses no randomness at all (full
// batch optimisation, examples in the order given), so the same examples
// and options give the same weights, byte for byte, on one architecture.
// The thresholds are left at +Inf: ChooseThresholds sets them.
func Train(ex []Example, opt TrainOptions) *Model {
	m := &Model{Bits: opt.Bits, Window: opt.Window, Unsure: float32(math.Inf(1)), Urgent: float32(math.Inf(1)), Veto: float32(math.Inf(-1))}
	danger := 0
	for _, e := range ex {
		if e.Danger {
			danger++
		}
	}
	m.Info = ModelInfo{Method: opt.Method, Examples: len(ex), Batches: Batches(ex), Danger: danger, Digest: Digest(ex)}
	ex = augment(ex)
	mask := uint32(1)<<opt.Bits - 1
	xs := make([]sparse, len(ex))
	for i, e := range ex {
		xs[i] = vectorize(e.Text, mask)
	}
	switch opt.Method {
	case "bayes":
		m.Weights, m.Bias = trainBayes(ex, xs, opt)
	default:
		m.Info.Method, m.Info.L2 = "logistic", opt.L2
		m.Weights, m.Bias = trainLogistic(ex, xs, opt)
	}
	return m
}

// classWeights weigh each example so that both labels count equally,
// whatever their numbers in the corpus.
func classWeights(ex []Example) (danger, ordinary float64) {
	var nd, no float64
	for _, e := range ex {
		if e.Danger {
			nd++
		} else {
			no++
		}
	}
	n := nd + no
	if nd == 0 || no == 0 {
		return 1 / n, 1 / n
	}
	return 0.5 / nd, 0.5 / no
}

// trainLogistic minimises the class-weighted log loss plus L2/2·|w|² with
// full-batch Adam. The loss is convex; a fixed number of steps keeps the
// result reproducible.
func trainLogistic(ex []Example, xs []sparse, opt TrainOptions) ([]float32, float32) {
	nb := 1 << opt.Bits
	w := make([]float64, nb+1) // the last is the bias
	g := make([]float64, nb+1)
	m1 := make([]float64, nb+1)
	m2 := make([]float64, nb+1)
	cd, co := classWeights(ex)
	const (
		lr    = 0.05
		beta1 = 0.9
		beta2 = 0.999
		eps   = 1e-8
	)
	for it := 1; it <= opt.Iterations; it++ {
		clear(g)
		for i, x := range xs {
			z := w[nb]
			for k, b := range x.idx {
				z += w[b] * float64(x.val[k])
			}
			y, c := 0.0, co
			if ex[i].Danger {
				y, c = 1, cd
			}
			d := c * (Probability(z) - y)
			for k, b := range x.idx {
				g[b] += d * float64(x.val[k])
			}
			g[nb] += d
		}
		for j := 0; j < nb; j++ {
			g[j] += opt.L2 * w[j]
		}
		b1 := 1 - math.Pow(beta1, float64(it))
		b2 := 1 - math.Pow(beta2, float64(it))
		for j := range w {
			if g[j] == 0 && m1[j] == 0 {
				continue // a bucket no example uses stays at zero
			}
			// Explicit conversions round each step, so that no platform
			// fuses them and the weights stay the same everywhere.
			m1[j] = float64(beta1*m1[j]) + float64((1-beta1)*g[j])
			m2[j] = float64(beta2*m2[j]) + float64((1-beta2)*float64(g[j]*g[j]))
			w[j] -= float64(lr*(m1[j]/b1)) / (math.Sqrt(m2[j]/b2) + eps)
		}
	}
	out := make([]float32, nb)
	for j := range out {
		out[j] = float32(w[j])
	}
	return out, float32(w[nb])
}

// trainBayes is multinomial naive Bayes with additive smoothing, written
// as the linear model it is: each bucket's weight is the log ratio of its
// smoothed frequencies in danger and in ordinary messages.
func trainBayes(ex []Example, xs []sparse, opt TrainOptions) ([]float32, float32) {
	nb := 1 << opt.Bits
	cd := make([]float64, nb)
	co := make([]float64, nb)
	var td, to float64
	used := map[uint32]bool{}
	for i, x := range xs {
		c, t := co, &to
		if ex[i].Danger {
			c, t = cd, &td
		}
		for k, b := range x.idx {
			c[b] += float64(x.val[k])
			*t += float64(x.val[k])
			used[b] = true
		}
	}
	v := float64(len(used))
	out := make([]float32, nb)
	for b := range used {
		out[b] = float32(math.Log((cd[b]+opt.Alpha)/(td+opt.Alpha*v)) - math.Log((co[b]+opt.Alpha)/(to+opt.Alpha*v)))
	}
	// Equal priors: the corpus's share of danger is not the world's.
	return out, 0
}

// augment adds, for every line with Chinese characters, the same line typed
// in pinyin (each character's toneless syllable, spaced), with its label:
// children type whole messages in pinyin, and without these the model
// would learn that pinyin itself means danger (or not), from the few
// pinyin lines of the corpus. Only the lines trained on are augmented, so
// in cross-validation no held-out line has a twin in training.
func augment(ex []Example) []Example {
	out := ex
	table := pinyinOf()
	for _, e := range ex {
		var b strings.Builder
		han := false
		for _, r := range fold(e.Text) {
			if syl, ok := table.reading(r); ok {
				b.WriteByte(' ')
				b.WriteString(syl)
				han = true
				continue
			}
			b.WriteRune(r)
		}
		if han {
			a := e
			a.Text = strings.TrimSpace(b.String())
			a.Lang = "pinyin"
			out = append(out, a)
		}
	}
	return out
}
