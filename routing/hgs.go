package routing

import (
	"context"
	"math"
	"math/rand/v2"
	"time"
)

// hgs is one hybrid genetic search (Vidal 2012, 2022): a population of
// solutions as giant tours, ordered crossover, split, granular local
// search with penalised capacity and time warp, adaptive penalties, and
// survivor selection by biased fitness.
type hgs struct {
	in   *inst
	prm  params
	rng  *rand.Rand
	s    *search
	sp   *splitter
	pop  population
	pen  penalties
	best *individual // best feasible, compared on cost()

	iter, lastImprove          int
	infeasibleSeen             int // infeasible individuals considered, for repairEvery
	histLoad, histTW, histDist []bool

	start    time.Time
	deadline time.Time
	maxIter  int
	ctx      context.Context
	report   func(*individual, int)

	tourA, tourB, child []int32
	seen                []bool
	scratch             *individual
}

func newHGS(ctx context.Context, in *inst, prm params, seed uint64, start, deadline time.Time, maxIter int, report func(*individual, int)) *hgs {
	rng := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	h := &hgs{in: in, prm: prm, rng: rng, ctx: ctx, start: start, deadline: deadline, maxIter: maxIter, report: report}
	h.s = newSearch(in, rng)
	h.sp = newSplitter(in)
	h.pop = population{in: in, prm: prm}
	h.seen = make([]bool, in.n)
	h.scratch = newIndividual(in)
	// Initial penalties (HGS-CVRP): a unit of excess load costs about one
	// "typical" edge per unit of demand.
	var maxC, maxQ int64
	for _, m := range in.prof {
		for _, c := range m.cost {
			maxC = max(maxC, c)
		}
	}
	for _, q := range in.demand {
		maxQ = max(maxQ, q)
	}
	h.pen = penalties{load: 1, tw: 1, dist: 1}
	// A unit of time warp costs about what a unit of travel time does.
	sc, sd, sdist := in.matrixSums()
	if sd > 0 && sc > 0 {
		h.pen.tw = 10 * math.Max(1, sc/sd)
	}
	if in.hasDistLimit && sdist != sc && sdist > 0 {
		h.pen.dist = math.Max(1, sc/sdist)
	}
	if maxQ > 0 {
		h.pen.load = math.Max(0.1, math.Min(1000, float64(maxC)/float64(maxQ)))
	}
	return h
}

func (h *hgs) stop() bool {
	if h.maxIter > 0 && h.iter >= h.maxIter {
		return true
	}
	if !h.deadline.IsZero() && time.Now().After(h.deadline) {
		return true
	}
	return h.ctx.Err() != nil
}

// educate runs the local search on ind with the current penalties (times
// mult) and writes the result back.
func (h *hgs) educate(ind *individual, mult float64) {
	p := h.pen
	p.load *= mult
	p.tw *= mult
	p.dist *= mult
	h.s.pen = p
	h.s.load(ind)
	h.s.deadline = h.deadline
	h.s.run()
	h.s.export(ind)
}

// repairEvery is how often (in infeasible individuals) consider repairs
// one while a feasible best exists; before that it repairs every one.
const repairEvery = 20

// consider records ind as the best if it is feasible and better. An
// infeasible one is now and then repaired (the jobs breaking rules taken
// out, then what fits put back) and considered: when the fleet cannot take
// every job, no individual with all jobs routed is feasible, and the best
// and the progress would otherwise stand still until the end.
func (h *hgs) consider(ind *individual) {
	if !ind.feasible {
		h.infeasibleSeen++
		if h.best != nil && h.infeasibleSeen%repairEvery != 0 {
			return
		}
		ind = repair(h.in, ind)
		if !ind.feasible {
			return
		}
	}
	if h.best == nil || ind.cost() < h.best.cost() {
		if h.best == nil {
			h.best = newIndividual(h.in)
		}
		copyIndividual(h.best, ind)
		h.lastImprove = h.iter
		if h.report != nil {
			h.report(h.best, h.iter)
		}
	}
}

func copyIndividual(dst, src *individual) {
	for v := range src.routes {
		dst.routes[v] = append(dst.routes[v][:0], src.routes[v]...)
	}
	succ, pred, routes, prox := dst.succ, dst.pred, dst.routes, dst.prox
	*dst = *src
	dst.succ, dst.pred, dst.routes, dst.prox = succ, pred, routes, prox[:0]
	copy(dst.succ, src.succ)
	copy(dst.pred, src.pred)
}

// insert educates a new individual, records the feasibility statistics,
// adds it to the population and maybe repairs it.
func (h *hgs) insert(ind *individual) {
	h.educate(ind, 1)
	h.histLoad = append(h.histLoad, ind.excessLoad == 0)
	h.histTW = append(h.histTW, ind.warp == 0)
	h.histDist = append(h.histDist, ind.excessDist == 0)
	if len(h.histLoad) >= h.prm.penaltyInterval {
		h.managePenalties()
	}
	h.pop.add(ind, h.pen)
	h.consider(ind)
	if !ind.feasible && h.rng.Float64() < h.prm.repairProb {
		h.educate(ind, 10)
		if !ind.feasible {
			h.educate(ind, 100)
		}
		if ind.feasible {
			h.pop.add(ind, h.pen)
			h.consider(ind)
		}
	}
}

// randomIndividual splits a random permutation of the free jobs.
func (h *hgs) randomIndividual() *individual {
	in := h.in
	h.tourA = h.tourA[:0]
	for j := 0; j < in.n; j++ {
		if in.active[j] {
			h.tourA = append(h.tourA, int32(j))
		}
	}
	h.rng.Shuffle(len(h.tourA), func(a, b int) { h.tourA[a], h.tourA[b] = h.tourA[b], h.tourA[a] })
	ind := h.scratch
	h.sp.split(ind, h.tourA, h.pen.load)
	ind.evaluate(in)
	return ind
}

func (h *hgs) initialPopulation(seeds []*individual) {
	for _, sd := range seeds {
		if h.stop() {
			return
		}
		// Seeds are good solutions: keep a feasible copy of each.
		for mult := 10.0; mult <= 1000; mult *= 10 {
			copyIndividual(h.scratch, sd)
			h.educate(h.scratch, mult)
			if h.scratch.feasible {
				h.pop.add(h.scratch, h.pen)
				h.consider(h.scratch)
				break
			}
		}
		copyIndividual(h.scratch, sd)
		h.insert(h.scratch)
	}
	// 4 mu random individuals, but on large instances (500 jobs or more)
	// at most a sixth of the time budget: each local search from a random
	// tour costs a second there, the genetic loop pays off more.
	var cap time.Time
	if !h.deadline.IsZero() {
		cap = h.start.Add(h.deadline.Sub(h.start) / 6)
	}
	for k := 0; k < 4*h.prm.mu && !h.stop(); k++ {
		if h.in.n >= 500 && k >= h.prm.mu/2 && !cap.IsZero() && time.Now().After(cap) {
			break
		}
		h.insert(h.randomIndividual())
	}
}

// crossover builds a child by ordered crossover (OX) of two giant tours.
func (h *hgs) crossover(a, b *individual) *individual {
	in := h.in
	h.tourA = a.giantTour(in, h.tourA)
	h.tourB = b.giantTour(in, h.tourB)
	n := len(h.tourA)
	ind := h.scratch
	if n < 2 || len(h.tourB) != n {
		h.sp.split(ind, h.tourA, h.pen.load)
		ind.evaluate(in)
		return ind
	}
	i := h.rng.IntN(n)
	j := h.rng.IntN(n - 1)
	if j >= i {
		j++
	}
	h.child = grow32(h.child, n)
	for _, x := range h.tourA {
		h.seen[x] = false
	}
	k := i
	for {
		h.child[k] = h.tourA[k]
		h.seen[h.tourA[k]] = true
		if k == j {
			break
		}
		k = (k + 1) % n
	}
	pos := (j + 1) % n
	for q := 0; q < n; q++ {
		x := h.tourB[(j+1+q)%n]
		if !h.seen[x] {
			h.child[pos] = x
			h.seen[x] = true
			pos = (pos + 1) % n
		}
	}
	h.sp.split(ind, h.child, h.pen.load)
	ind.evaluate(in)
	return ind
}

func grow32(s []int32, n int) []int32 {
	if cap(s) < n {
		return make([]int32, n)
	}
	return s[:n]
}

// managePenalties steers each penalty towards the target share of
// feasible solutions after local search.
func (h *hgs) managePenalties() {
	adj := func(p float64, hist []bool) float64 {
		if len(hist) == 0 {
			return p
		}
		f := 0
		for _, ok := range hist {
			if ok {
				f++
			}
		}
		frac := float64(f) / float64(len(hist))
		switch {
		case frac < h.prm.targetFeasible-0.05:
			p = math.Min(p*1.2, 100000)
		case frac > h.prm.targetFeasible+0.05:
			p = math.Max(p*0.85, 0.1)
		}
		return p
	}
	h.pen.load = adj(h.pen.load, h.histLoad)
	h.pen.tw = adj(h.pen.tw, h.histTW)
	h.pen.dist = adj(h.pen.dist, h.histDist)
	h.histLoad, h.histTW, h.histDist = h.histLoad[:0], h.histTW[:0], h.histDist[:0]
	h.pop.refresh(h.pen)
}

// run executes the search until the stop condition.
func (h *hgs) run(seeds []*individual) {
	h.initialPopulation(seeds)
	for !h.stop() {
		h.iter++
		if h.pop.size() == 0 {
			h.insert(h.randomIndividual())
			continue
		}
		h.pop.refresh(h.pen)
		a := h.pop.tournament(h.s)
		b := h.pop.tournament(h.s)
		h.insert(h.crossover(a, b))
		if h.iter-h.lastImprove > h.prm.restartAfter {
			h.pop.clear()
			h.lastImprove = h.iter
			var seeds []*individual
			if h.best != nil {
				seeds = append(seeds, h.best)
			}
			h.initialPopulation(seeds)
		}
	}
}
