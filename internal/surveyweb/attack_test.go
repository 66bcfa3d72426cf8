package surveyweb_test

// The attacker of the subtraction test: everything the published views
// show, as variables with ranges and the linear equations a reader knows
// between them, narrowed by interval propagation until nothing changes.
// One equation with one unknown is a subtraction (parent minus children,
// grade minus classes, school minus its grades, district minus schools);
// chains of them, and bounds (no count below 0, no count above its base,
// no base above the unit's respondents), come for free.

const unbounded = int64(1) << 40

type term struct {
	v    int
	coef int64 // +1 or -1
}

type equation struct {
	terms []term
	rhs   int64
}

type attacker struct {
	lo, hi []int64
	eqs    []equation
	of     [][]int // the equations each variable is in
}

func (a *attacker) variable() int {
	a.lo = append(a.lo, 0)
	a.hi = append(a.hi, unbounded)
	a.of = append(a.of, nil)
	return len(a.lo) - 1
}

func (a *attacker) fix(v int, val int64) { a.lo[v], a.hi[v] = val, val }

// sum records Σ terms = rhs.
func (a *attacker) sum(rhs int64, terms ...term) {
	a.eqs = append(a.eqs, equation{terms: terms, rhs: rhs})
	for _, t := range terms {
		a.of[t.v] = append(a.of[t.v], len(a.eqs)-1)
	}
}

func plus(v int) term  { return term{v, 1} }
func minus(v int) term { return term{v, -1} }

// run narrows every range until no equation narrows any. It reports false
// if the published figures contradict each other (a bug in the test or
// in the pages).
func (a *attacker) run() bool {
	queue := make([]int, len(a.eqs))
	queued := make([]bool, len(a.eqs))
	for i := range queue {
		queue[i], queued[i] = i, true
	}
	for len(queue) > 0 {
		e := a.eqs[queue[0]]
		queued[queue[0]] = false
		queue = queue[1:]
		// The range of each term a·x: its finite ends summed, its
		// unbounded ends counted.
		var minSum, maxSum int64
		infMin, infMax := 0, 0
		tmin := make([]int64, len(e.terms))
		tmax := make([]int64, len(e.terms))
		for i, t := range e.terms {
			lo, hi := a.lo[t.v], a.hi[t.v]
			if t.coef > 0 {
				tmin[i], tmax[i] = lo, hi
			} else {
				tmin[i], tmax[i] = -hi, -lo
			}
			if tmin[i] <= -unbounded {
				infMin++
			} else {
				minSum += tmin[i]
			}
			if tmax[i] >= unbounded {
				infMax++
			} else {
				maxSum += tmax[i]
			}
		}
		for i, t := range e.terms {
			// a·x = rhs − Σ others: at least rhs − (others' largest), at
			// most rhs − (others' smallest), where those are finite.
			lo, hi := -unbounded, unbounded
			if tmax[i] >= unbounded && infMax == 1 || infMax == 0 {
				om := maxSum
				if tmax[i] < unbounded {
					om -= tmax[i]
				}
				lo = e.rhs - om
			}
			if tmin[i] <= -unbounded && infMin == 1 || infMin == 0 {
				om := minSum
				if tmin[i] > -unbounded {
					om -= tmin[i]
				}
				hi = e.rhs - om
			}
			if t.coef < 0 {
				lo, hi = -hi, -lo
			}
			changed := false
			if lo > a.lo[t.v] && lo > -unbounded {
				a.lo[t.v], changed = lo, true
			}
			if hi < a.hi[t.v] && hi < unbounded {
				a.hi[t.v], changed = hi, true
			}
			if a.lo[t.v] > a.hi[t.v] {
				return false
			}
			if changed {
				for _, q := range a.of[t.v] {
					if !queued[q] {
						queued[q] = true
						queue = append(queue, q)
					}
				}
			}
		}
	}
	return true
}
