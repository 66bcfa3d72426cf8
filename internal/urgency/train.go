package urgency

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"math"
	"runtime"
	"slices"
	"strings"
	"sync"
)

// TrainOptions are the knobs of training. The zero value is not useful;
// start from DefaultTrainOptions.
type TrainOptions struct {
	// Method: "logistic" (regularised logistic regression), "nblr"
	// (logistic regression over features scaled by their naive Bayes
	// log-count ratios, NB-SVM's way), "ensemble" (the mean of the two) or
	// "bayes" (multinomial naive Bayes).
	Method     string
	Bits       int     // 1<<Bits hashed buckets
	L2         float64 // logistic, nblr: weight of the L2 penalty
	Iterations int     // logistic, nblr: full-batch Adam steps
	Alpha      float64 // bayes, nblr: additive smoothing
	Window     int     // characters per window of a long message
	// DangerWeight multiplies the weight of danger lines in the loss,
	// after both labels are balanced (1: balanced).
	DangerWeight float64
	// Presence: nblr's ratios count in how many lines of each label a
	// feature stands, not how often (NB-SVM's binarised counts).
	Presence bool
	Features FeatureOptions
}

// DefaultTrainOptions are the options `hotline detector train` uses; the
// figures in docs/detector.md say why.
var DefaultTrainOptions = TrainOptions{Method: "nblr", Bits: 18, L2: 1e-5, Iterations: 400, Alpha: 0.5, Window: 120, DangerWeight: 1, Features: FeatureOptions{MaxGram: 4, IDs: true}}

// sparse is one example as sorted (bucket, count) pairs.
type sparse struct {
	idx []uint32
	val []float32
}

func vectorize(text string, f FeatureOptions, mask uint32) sparse {
	counts := map[uint32]float32{}
	features(f, units(nil, read(text).spaced, f.IDs), mask, &sink{counts: counts})
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

// prepared are examples read as features once, with their augmented
// twins (see augment), so that cross-validation's many trainings on
// subsets of them do not read every line again.
type prepared struct {
	ex  []Example
	xs  []sparse
	aug [][]sparse // the vectors of each example's augmented twins
}

func prepare(ex []Example, opt TrainOptions) *prepared {
	mask := uint32(1)<<opt.Bits - 1
	p := &prepared{ex: ex, xs: make([]sparse, len(ex)), aug: make([][]sparse, len(ex))}
	parallel(len(ex), func(i int) {
		p.xs[i] = vectorize(ex[i].Text, opt.Features, mask)
		for _, a := range augmentOne(ex[i]) {
			p.aug[i] = append(p.aug[i], vectorize(a, opt.Features, mask))
		}
	})
	return p
}

// Train fits a model to the examples. It uses no randomness at all (full
// batch optimisation, examples in the order given), so the same examples
// and options give the same weights, byte for byte, on one architecture.
// The thresholds are left at +Inf: ChooseThresholds sets them.
func Train(ex []Example, opt TrainOptions) *Model {
	all := make([]int, len(ex))
	for i := range all {
		all[i] = i
	}
	return prepare(ex, opt).train(all, opt)
}

// train fits a model to the prepared examples idx (and their twins).
func (p *prepared) train(idx []int, opt TrainOptions) *Model {
	m := &Model{Bits: opt.Bits, Window: opt.Window, Features: opt.Features,
		Unsure: float32(math.Inf(1)), Urgent: float32(math.Inf(1)), Veto: float32(math.Inf(-1))}
	ex := make([]Example, 0, len(idx))
	var xs []sparse
	var danger []bool
	for _, i := range idx {
		ex = append(ex, p.ex[i])
		xs = append(xs, p.xs[i])
		danger = append(danger, p.ex[i].Danger)
	}
	for _, i := range idx {
		for _, a := range p.aug[i] {
			xs = append(xs, a)
			danger = append(danger, p.ex[i].Danger)
		}
	}
	nd := 0
	for _, e := range ex {
		if e.Danger {
			nd++
		}
	}
	m.Info = ModelInfo{Method: opt.Method, Examples: len(ex), Batches: Batches(ex), Danger: nd, Digest: Digest(ex)}
	switch opt.Method {
	case "bayes":
		m.Weights, m.Bias = trainBayes(danger, xs, opt)
	case "nblr":
		m.Info.L2 = opt.L2
		scale, _ := trainBayes(danger, xs, opt)
		m.Weights, m.Bias = trainLogistic(danger, xs, scale, opt)
	case "ensemble":
		// The mean of logistic regression and nblr: one linear model.
		m.Info.L2 = opt.L2
		scale, _ := trainBayes(danger, xs, opt)
		w1, b1 := trainLogistic(danger, xs, scale, opt)
		w2, b2 := trainLogistic(danger, xs, nil, opt)
		for j := range w1 {
			w1[j] = float32((float64(w1[j]) + float64(w2[j])) / 2)
		}
		m.Weights, m.Bias = w1, float32((float64(b1)+float64(b2))/2)
	default:
		m.Info.Method, m.Info.L2 = "logistic", opt.L2
		m.Weights, m.Bias = trainLogistic(danger, xs, nil, opt)
	}
	return m
}

// classWeights weigh each example so that both labels count equally,
// whatever their numbers in the corpus; danger lines are then weighed
// dangerWeight times more.
func classWeights(danger []bool, dangerWeight float64) (dw, ow float64) {
	var nd, no float64
	for _, d := range danger {
		if d {
			nd++
		} else {
			no++
		}
	}
	n := nd + no
	if nd == 0 || no == 0 {
		return 1 / n, 1 / n
	}
	if dangerWeight <= 0 {
		dangerWeight = 1
	}
	return dangerWeight * 0.5 / nd, 0.5 / no
}

// trainLogistic minimises the class-weighted log loss plus L2/2·|w|² with
// full-batch Adam. The loss is convex; a fixed number of steps keeps the
// result reproducible. With scale, the features are scaled by it (bucket
// by bucket) before the loss, and the weights returned are for unscaled
// features: the same linear model, regularised as the scaled one.
func trainLogistic(danger []bool, xs []sparse, scale []float32, opt TrainOptions) ([]float32, float32) {
	nb := 1 << opt.Bits
	w := make([]float64, nb+1) // the last is the bias
	g := make([]float64, nb+1)
	m1 := make([]float64, nb+1)
	m2 := make([]float64, nb+1)
	cd, co := classWeights(danger, opt.DangerWeight)
	sc := make([]float64, nb)
	for j := range sc {
		sc[j] = 1
		if scale != nil {
			sc[j] = float64(scale[j])
		}
	}
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
				z += float64(w[b]*sc[b]) * float64(x.val[k])
			}
			y, c := 0.0, co
			if danger[i] {
				y, c = 1, cd
			}
			d := c * (Probability(z) - y)
			for k, b := range x.idx {
				g[b] += float64(d*sc[b]) * float64(x.val[k])
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
		out[j] = float32(w[j] * sc[j])
	}
	return out, float32(w[nb])
}

// trainBayes is multinomial naive Bayes with additive smoothing, written
// as the linear model it is: each bucket's weight is the log ratio of its
// smoothed frequencies in danger and in ordinary messages.
func trainBayes(danger []bool, xs []sparse, opt TrainOptions) ([]float32, float32) {
	nb := 1 << opt.Bits
	cd := make([]float64, nb)
	co := make([]float64, nb)
	var td, to float64
	used := make([]bool, nb)
	nused := 0
	for i, x := range xs {
		c, t := co, &to
		if danger[i] {
			c, t = cd, &td
		}
		for k, b := range x.idx {
			v := float64(x.val[k])
			if opt.Presence {
				v = 1
			}
			c[b] += v
			*t += v
			if !used[b] {
				used[b] = true
				nused++
			}
		}
	}
	v := float64(nused)
	out := make([]float32, nb)
	for b := range out {
		if used[b] {
			out[b] = float32(math.Log((cd[b]+opt.Alpha)/(td+opt.Alpha*v)) - math.Log((co[b]+opt.Alpha)/(to+opt.Alpha*v)))
		}
	}
	// Equal priors: the corpus's share of danger is not the world's.
	return out, 0
}

// augmentOne returns the twins of a line trained on with its label: for a
// line with Chinese characters, the same line typed in pinyin (each
// character's toneless syllable, spaced). Children type whole messages in
// pinyin, and without these the model would learn that pinyin itself
// means danger (or not), from the few pinyin lines of the corpus. Only
// the lines trained on are augmented, so in cross-validation no held-out
// line has a twin in training.
func augmentOne(e Example) []string {
	var b strings.Builder
	table := pinyinOf()
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
	if !han {
		return nil
	}
	return []string{strings.TrimSpace(b.String())}
}

// parallel calls f(0) … f(n-1) on as many goroutines as there are CPUs.
// Each call writes only its own results, so the outcome does not depend
// on the order they run in.
func parallel(n int, f func(i int)) {
	workers := min(runtime.GOMAXPROCS(0), n)
	var wg sync.WaitGroup
	next := make(chan int)
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				f(i)
			}
		}()
	}
	for i := range n {
		next <- i
	}
	close(next)
	wg.Wait()
}
