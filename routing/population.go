package routing

import (
	"cmp"
	"slices"
)

// params are the genetic search settings (defaults after Vidal 2022).
type params struct {
	mu, lambda      int
	nbElite         int
	nbClose         int
	targetFeasible  float64
	restartAfter    int // iterations without improvement
	repairProb      float64
	granular        int
	penaltyInterval int
}

func defaultParams() params {
	return params{mu: 25, lambda: 40, nbElite: 4, nbClose: 5, targetFeasible: 0.4,
		restartAfter: 20000, repairProb: 0.5, granular: 20, penaltyInterval: 50}
}

// population holds two subpopulations, feasible and infeasible, ranked by
// biased fitness (cost rank plus diversity rank, Vidal et al. 2012).
type population struct {
	in         *inst
	prm        params
	feas, infs []*individual
	pool       []*individual // spare individuals to reuse
}

func (pop *population) get() *individual {
	if k := len(pop.pool); k > 0 {
		ind := pop.pool[k-1]
		pop.pool = pop.pool[:k-1]
		return ind
	}
	return newIndividual(pop.in)
}

func (pop *population) release(ind *individual) {
	ind.prox = ind.prox[:0]
	pop.pool = append(pop.pool, ind)
}

// clone copies src into a fresh individual.
func (pop *population) clone(src *individual) *individual {
	ind := pop.get()
	for v := range src.routes {
		ind.routes[v] = append(ind.routes[v][:0], src.routes[v]...)
	}
	succ, pred, routes, prox := ind.succ, ind.pred, ind.routes, ind.prox[:0]
	*ind = *src
	ind.succ, ind.pred, ind.routes, ind.prox = succ, pred, routes, prox
	copy(ind.succ, src.succ)
	copy(ind.pred, src.pred)
	return ind
}

// add inserts a copy of ind and trims the subpopulation when it is full.
func (pop *population) add(ind *individual, pen penalties) {
	c := pop.clone(ind)
	sub := &pop.infs
	if c.feasible {
		sub = &pop.feas
	}
	for _, o := range *sub {
		d := brokenPairs(pop.in, c, o)
		insertProx(c, proxEntry{d, o})
		insertProx(o, proxEntry{d, c})
	}
	*sub = append(*sub, c)
	pop.sortSub(*sub, pen)
	if len(*sub) >= pop.prm.mu+pop.prm.lambda {
		for len(*sub) > pop.prm.mu {
			pop.removeWorst(sub, pen)
		}
	}
}

func insertProx(a *individual, e proxEntry) {
	i, _ := slices.BinarySearchFunc(a.prox, e.d, func(x proxEntry, d float64) int { return cmp.Compare(x.d, d) })
	a.prox = slices.Insert(a.prox, i, e)
}

func (pop *population) sortSub(sub []*individual, pen penalties) {
	slices.SortStableFunc(sub, func(a, b *individual) int { return cmp.Compare(a.penalized(pen), b.penalized(pen)) })
}

// avgClose is the mean distance to the nbClose closest others.
func (pop *population) avgClose(ind *individual) float64 {
	k := min(pop.prm.nbClose, len(ind.prox))
	if k == 0 {
		return 0
	}
	var s float64
	for _, e := range ind.prox[:k] {
		s += e.d
	}
	return s / float64(k)
}

// updateFitness computes the biased fitness of a sorted subpopulation.
func (pop *population) updateFitness(sub []*individual) {
	n := len(sub)
	if n == 1 {
		sub[0].fitness = 0
		return
	}
	type rk struct {
		div float64
		i   int
	}
	rs := make([]rk, n)
	for i, ind := range sub {
		rs[i] = rk{-pop.avgClose(ind), i}
	}
	slices.SortStableFunc(rs, func(a, b rk) int { return cmp.Compare(a.div, b.div) })
	elite := float64(pop.prm.nbElite)
	for divRank, r := range rs {
		costRank := float64(r.i) / float64(n-1)
		dr := float64(divRank) / float64(n-1)
		if n <= pop.prm.nbElite {
			sub[r.i].fitness = costRank
		} else {
			sub[r.i].fitness = costRank + (1-elite/float64(n))*dr
		}
	}
}

// removeWorst drops a clone if there is one, else the worst biased fitness.
func (pop *population) removeWorst(sub *[]*individual, pen penalties) {
	s := *sub
	pop.updateFitness(s)
	worst := -1
	worstClone := false
	for i := 1; i < len(s); i++ { // never the best
		clone := len(s[i].prox) > 0 && s[i].prox[0].d < 1e-9
		if worst < 0 || (clone && !worstClone) || (clone == worstClone && s[i].fitness > s[worst].fitness) {
			worst, worstClone = i, clone
		}
	}
	if worst < 0 {
		return
	}
	w := s[worst]
	for _, o := range s {
		if o == w {
			continue
		}
		for k, e := range o.prox {
			if e.other == w {
				o.prox = slices.Delete(o.prox, k, k+1)
				break
			}
		}
	}
	*sub = slices.Delete(s, worst, worst+1)
	pop.release(w)
}

// tournament picks the fitter of two random individuals.
func (pop *population) tournament(s *search) *individual {
	n := len(pop.feas) + len(pop.infs)
	at := func(i int) *individual {
		if i < len(pop.feas) {
			return pop.feas[i]
		}
		return pop.infs[i-len(pop.feas)]
	}
	a, b := at(s.rng.IntN(n)), at(s.rng.IntN(n))
	if a.fitness <= b.fitness {
		return a
	}
	return b
}

func (pop *population) refresh(pen penalties) {
	pop.sortSub(pop.infs, pen)
	if len(pop.feas) > 0 {
		pop.updateFitness(pop.feas)
	}
	if len(pop.infs) > 0 {
		pop.updateFitness(pop.infs)
	}
}

func (pop *population) clear() {
	for _, ind := range pop.feas {
		pop.release(ind)
	}
	for _, ind := range pop.infs {
		pop.release(ind)
	}
	pop.feas, pop.infs = pop.feas[:0], pop.infs[:0]
}

func (pop *population) size() int { return len(pop.feas) + len(pop.infs) }
