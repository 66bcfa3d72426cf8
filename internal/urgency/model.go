package urgency

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"slices"
	"sync"
)

// Model is the statistical layer: a linear model over hashed features (see
// features.go), with the thresholds that turn its score into an answer.
// Its score is a logit: the log-odds that a message shows danger now.
type Model struct {
	Bits    int       // 1<<Bits buckets
	Weights []float32 // one per bucket
	Bias    float32
	// Window is how many characters a long message is read in at once:
	// the score of a message longer than Window is the highest score of
	// its windows, so that one clause of danger in a run-on message about
	// bullying is not drowned by the rest.
	Window int
	// Unsure is the score at or above which a message the rules do not
	// flag is unsure (the conversation asks); Urgent the score at or above
	// which the model alone makes it urgent (+Inf: never); Veto the score
	// below which a match of the rules is asked about rather than urgent
	// (-Inf: never). All are chosen by batch-grouped cross-validation when
	// the model is trained (ChooseThresholds).
	Unsure, Urgent, Veto float32
	// Features are the features the model reads.
	Features FeatureOptions
	// Info says what the model was trained on, for `hotline detector` and
	// the docs; it does not change a score.
	Info ModelInfo
	// quant are the weights of a model read from its file as the file
	// keeps them, int16 steps of quantStep: Weights[i] is
	// float32(float64(quant[i]) * quantStep), and scoring works that out
	// as it goes. Half the bytes of Weights, they stay in the processor's
	// cache, and a message's score is the same to the last bit.
	quant     []int16
	quantStep float64
}

// ModelInfo describes a trained model.
type ModelInfo struct {
	Method   string // "nblr", "logistic", "ensemble" or "bayes" (TrainOptions.Method)
	L2       float64
	Examples int
	Batches  int
	Danger   int
	// Digest is the SHA-256 of the examples trained on (batch, label and
	// text of each, in order), so a model can be matched to its corpus.
	Digest string
}

// stride is how far apart the windows of a long message start.
const stride = 16

// buffers are the per-call buffers of Score: the message's characters and
// the score added at each. Pooled, so that scoring a message allocates
// little.
type buffers struct {
	units []rune
	add   []float32
}

var scratch = sync.Pool{New: func() any { return new(buffers) }}

// Score returns the model's logit for text: over the whole text when it is
// at most Window characters, else the highest over windows of Window
// characters (every stride characters, the last one ending at the end).
func (m *Model) Score(text string) float64 { return m.scoreRead(read(text)) }

// scoreRead is Score on a message already read.
func (m *Model) scoreRead(rd reading) float64 { return m.scoreSlang(slangZH.Replace(rd.spaced)) }

// scoreSlang is scoreRead given the message's text with its slang
// replaced (slangZH.Replace of its reading's spaced text), which the
// rules read too.
func (m *Model) scoreSlang(slang string) float64 {
	buf := scratch.Get().(*buffers)
	u := unitsOf(buf.units, slang, m.Features.IDs)
	add := slices.Grow(buf.add[:0], len(u))[:len(u)]
	clear(add)
	mask := uint32(len(m.Weights) - 1)
	if q := m.quant; len(q) == len(m.Weights) {
		features(m.Features, u, mask, &sink{add: add, q: q[:mask+1], step: m.quantStep})
	} else {
		features(m.Features, u, mask, &sink{add: add, w: m.Weights[:mask+1]})
	}
	best := windowMax(add, m.Window)
	buf.units, buf.add = u, add
	scratch.Put(buf)
	return float64(m.Bias) + best
}

// windowMax returns the sum of add when it fits in one window, else the
// highest sum over windows of w characters.
func windowMax(add []float32, w int) float64 {
	if w <= 0 || len(add) <= w {
		var s float64
		for _, v := range add {
			s += float64(v)
		}
		return s
	}
	var s float64
	for _, v := range add[:w] {
		s += float64(v)
	}
	best := s
	// Slide one character at a time, but compare only at window starts
	// stride apart and at the last window, as the doc says.
	for start := 1; start+w <= len(add); start++ {
		s += float64(add[start+w-1]) - float64(add[start-1])
		if start%stride == 0 || start+w == len(add) {
			best = max(best, s)
		}
	}
	return best
}

// Probability turns a logit into a probability.
func Probability(logit float64) float64 { return 1 / (1 + math.Exp(-logit)) }

// The model file: a magic, a version, then little-endian fields, then the
// non-zero weights as (gap to the previous bucket, value) varints, the
// values quantised to int16 steps of Scale. Compact (a few hundred KiB),
// and the same model writes the same bytes.
const (
	modelMagic   = "HLDM"
	modelVersion = 3 // 3: feature options in the header; characters hashed whole
)

// MarshalBinary writes the model file.
func (m *Model) MarshalBinary() ([]byte, error) {
	if m.Bits < 8 || m.Bits > 24 || len(m.Weights) != 1<<m.Bits {
		return nil, fmt.Errorf("urgency: model with %d weights for %d bits", len(m.Weights), m.Bits)
	}
	if f := m.Features; f.MaxGram < 1 || f.MaxGram > 8 || f.SkipGap < 0 || f.SkipGap > 8 {
		return nil, fmt.Errorf("urgency: model with features %+v", f)
	}
	var maxW float64
	for _, w := range m.Weights {
		maxW = max(maxW, math.Abs(float64(w)))
	}
	scale := maxW / math.MaxInt16
	if scale == 0 {
		scale = 1
	}
	var b bytes.Buffer
	b.WriteString(modelMagic)
	b.WriteByte(modelVersion)
	b.WriteByte(byte(m.Bits))
	put := func(v any) { _ = binary.Write(&b, binary.LittleEndian, v) }
	put(float32(scale))
	put(m.Bias)
	put(uint32(m.Window))
	put(m.Unsure)
	put(m.Urgent)
	put(m.Veto)
	ids := uint8(0)
	if m.Features.IDs {
		ids = 1
	}
	put([3]uint8{uint8(m.Features.MaxGram), uint8(m.Features.SkipGap), ids})
	info := []string{m.Info.Method, fmt.Sprint(m.Info.L2), fmt.Sprint(m.Info.Examples), fmt.Sprint(m.Info.Batches), fmt.Sprint(m.Info.Danger), m.Info.Digest}
	for _, s := range info {
		b.Write(binary.AppendUvarint(nil, uint64(len(s))))
		b.WriteString(s)
	}
	var nz []uint32
	var q []int16
	for i, w := range m.Weights {
		if v := int16(math.Round(float64(w) / scale)); v != 0 {
			nz = append(nz, uint32(i))
			q = append(q, v)
		}
	}
	b.Write(binary.AppendUvarint(nil, uint64(len(nz))))
	prev := uint32(0)
	for i, at := range nz {
		b.Write(binary.AppendUvarint(nil, uint64(at-prev)))
		b.Write(binary.AppendVarint(nil, int64(q[i])))
		prev = at
	}
	return b.Bytes(), nil
}

// UnmarshalBinary reads a model file written by MarshalBinary.
func (m *Model) UnmarshalBinary(data []byte) error {
	bad := func(what string) error { return fmt.Errorf("urgency: model file: %s", what) }
	if len(data) < 6 || string(data[:4]) != modelMagic {
		return bad("not a model file")
	}
	if data[4] != modelVersion {
		return bad(fmt.Sprintf("version %d, want %d", data[4], modelVersion))
	}
	bits := int(data[5])
	if bits < 8 || bits > 24 {
		return bad("bits out of range")
	}
	r := bytes.NewReader(data[6:])
	var head struct {
		Scale, Bias          float32
		Window               uint32
		Unsure, Urgent, Veto float32
		Features             [3]uint8
	}
	if err := binary.Read(r, binary.LittleEndian, &head); err != nil {
		return bad("short header")
	}
	var info [6]string
	for i := range info {
		n, err := binary.ReadUvarint(r)
		if err != nil || n > 1024 || n > uint64(r.Len()) {
			return bad("damaged description")
		}
		s := make([]byte, n)
		_, _ = r.Read(s)
		info[i] = string(s)
	}
	count, err := binary.ReadUvarint(r)
	if err != nil || count > 1<<uint(bits) {
		return bad("damaged weight count")
	}
	w := make([]float32, 1<<uint(bits))
	q := make([]int16, 1<<uint(bits))
	at := uint64(0)
	for i := uint64(0); i < count; i++ {
		gap, err1 := binary.ReadUvarint(r)
		v, err2 := binary.ReadVarint(r)
		if err := errors.Join(err1, err2); err != nil {
			return bad("truncated weights")
		}
		at += gap
		if at >= uint64(len(w)) || v < math.MinInt16 || v > math.MaxInt16 {
			return bad("weight out of range")
		}
		w[at] = float32(float64(v) * float64(head.Scale))
		q[at] = int16(v)
	}
	if r.Len() != 0 {
		return bad("trailing bytes")
	}
	f := FeatureOptions{MaxGram: int(head.Features[0]), SkipGap: int(head.Features[1]), IDs: head.Features[2] == 1}
	if f.MaxGram < 1 || f.MaxGram > 8 || f.SkipGap > 8 || head.Features[2] > 1 {
		return bad("features out of range")
	}
	*m = Model{Bits: bits, Weights: w, Bias: head.Bias, Window: int(head.Window), Unsure: head.Unsure, Urgent: head.Urgent, Veto: head.Veto, Features: f,
		quant: q, quantStep: float64(head.Scale)}
	m.Info.Method, m.Info.Digest = info[0], info[5]
	_, _ = fmt.Sscan(info[1], &m.Info.L2)
	_, _ = fmt.Sscan(info[2], &m.Info.Examples)
	_, _ = fmt.Sscan(info[3], &m.Info.Batches)
	_, _ = fmt.Sscan(info[4], &m.Info.Danger)
	return nil
}
