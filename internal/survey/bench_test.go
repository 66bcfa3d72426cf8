package survey

import (
	"math/rand/v2"
	"strconv"
	"testing"
)

// BenchmarkTallyDistrict tallies and suppresses (complementary suppression
// and the audit included) one wave of a district: 50 schools of 3 grades
// of 6 classes, classes of 0 to 40 pupils, about 18,000 responses. A
// school's results page does this too (its view is a branch of the
// district's one pattern).
func BenchmarkTallyDistrict(b *testing.B) {
	sv := &Survey{Questions: Template()}
	inds := Indicators(sv)
	rng := rand.New(rand.NewPCG(1, 2))
	var rs []Respondent
	names := map[int64]string{}
	for s := int64(1); s <= 50; s++ {
		names[s] = "school " + strconv.FormatInt(s, 10)
		for g, grade := range []string{"初一", "初二", "初三"} {
			for c := range 6 {
				size := rng.IntN(41)
				for range size {
					a := Answers{}
					for _, q := range sv.Questions {
						if q.Kind != Text && len(q.Options) > 0 && rng.Float64() < 0.95 {
							o := q.Options[min(rng.IntN(len(q.Options)), rng.IntN(len(q.Options)))]
							a[q.ID] = []string{o.Key}
						}
					}
					rs = append(rs, Respondent{SchoolID: s, Grade: grade, Class: strconv.Itoa(g*10 + c), Answers: a})
				}
			}
		}
	}
	b.ReportMetric(float64(len(rs)), "responses")
	for b.Loop() {
		Tally("district", "区", inds, rs, names, nil)
	}
}
