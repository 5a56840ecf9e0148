package routing

import (
	"context"
	"math"
	"math/rand/v2"
	"sync"
	"time"
)

// Ruin and recreate with string removals and blinks (after Christiaens
// and Vanden Berghe's SISR, 2020), with simulated-annealing acceptance and
// a light strict local search on the routes each recreate changed. Every
// solution it visits is feasible. It improves the fleet that route
// minimisation kept (no route opens), and it is the search for large
// problems with time windows, where it moves much faster than the genetic
// search (see the README's profiles): there a job that fits in no used
// route opens an idle vehicle's route.

// Annealing temperatures, in average edges of the start solution (large
// problems, from lnsJobs jobs; small ones), and the average number of
// jobs a ruin removes (SISR's c-bar).
var lnsT0, lnsTf, lnsT0Small, lnsTfSmall, lnsRemoved = 2.0, 0.1, 4.0, 0.02, 10.0

type lns struct {
	in          *inst
	s           *search
	rng         *rand.Rand
	removed     []int32 // the jobs of this iteration's recreate (ruined, then the unassigned ones)
	ruined      []bool
	cur         *individual
	best        *individual
	focus       []int32
	keepFn      func(*route) bool // l.keep
	own         []int32           // with a decomposition: the jobs of this search's part (ruin seeds)
	ownsLeftOut bool              // with a decomposition: this part tries the jobs left out
	grow        bool              // a job that fits in no used route may open an idle vehicle's route
	t0, tf      float64
	iter        int  // iterations run
	fixedCosts  bool // some vehicle has a fixed cost
	routeRuin   int  // one ruin in this many empties a route
	large       bool // lnsJobs jobs or more: the local search looks at the reinserted jobs only
}

// newLNS prepares a ruin and recreate search from the feasible start (its
// routes may leave jobs unassigned: each recreate tries them again). With
// grow, a job that fits in no used route opens an idle vehicle's route;
// without, the fleet of start is kept (routes may only empty).
func newLNS(in *inst, start *individual, rng *rand.Rand, grow bool) *lns {
	l := &lns{in: in, rng: rng, ruined: make([]bool, in.nv), grow: grow}
	for v := range in.veh {
		l.fixedCosts = l.fixedCosts || in.veh[v].fixedCost > 0
	}
	l.routeRuin = lnsRouteRuinFree
	if l.fixedCosts {
		l.routeRuin = lnsRouteRuin
	}
	l.keepFn = l.keep
	l.s = newSearch(in, rng)
	l.s.strict = true
	l.s.noGrow = true
	l.cur, l.best = newIndividual(in), newIndividual(in)
	copyIndividual(l.cur, start)
	copyIndividual(l.best, start)
	// Temperatures relative to the average edge of the start solution.
	edges := 0
	for _, r := range start.routes {
		if len(r) > 0 {
			edges += len(r) + 1
		}
	}
	avg := float64(start.travel) / float64(max(edges, 1))
	l.large = in.n >= lnsJobs
	l.t0, l.tf = lnsT0*avg, lnsTf*avg
	if !l.large {
		l.t0, l.tf = lnsT0Small*avg, lnsTfSmall*avg
	}
	s := l.s
	s.load(l.cur)
	s.incremental = true
	// A light local search: the moves that repair a recreate best.
	s.ops = []nodeOp{exchange{1, 0, false}, exchange{2, 0, false}, exchange{1, 1, false}, twoOpt{}, twoOptStar{}}
	s.useSwapStar = false
	return l
}

// adopt makes ind (feasible) the current solution.
func (l *lns) adopt(ind *individual) {
	copyIndividual(l.cur, ind)
	l.s.load(l.cur)
	if ind.cost() < l.best.cost() {
		copyIndividual(l.best, ind)
	}
}

// ruinRecreate returns the best solution found from the feasible start
// within the deadline or maxIter iterations (0: no limit), by one search.
func ruinRecreate(ctx context.Context, in *inst, start *individual, rng *rand.Rand, begin, deadline time.Time, maxIter int, grow bool, report func(*individual, int)) *individual {
	l := newLNS(in, start, rng, grow)
	sched := annealing{begin: begin, deadline: deadline, maxIter: maxIter}
	l.run(ctx, deadline, maxIter, sched, report)
	return l.best
}

// lnsEpochs is how many times parallel searches meet. At 60,000
// iterations per thread (-iters 300, 2 threads), 32 meetings gave 206,376,
// 209,867 and 108,582 on the three city days against 206,630, 210,084 and
// 109,804 with 8 (deterministic, load 3 to 6), and the best at 5 s
// 1.5 to 6.5% above the end against 3.3 to 7.9%.
const lnsEpochs = 32

// parallelRuinRecreate runs one search per random source from the
// feasible start, within the deadline or maxIter iterations each (0: no
// limit), and returns the best solution. With several sources the problem
// is decomposed (as in hybrid genetic search's decomposition, and FILO's):
// lnsEpochs times (at equal shares of the time or iterations) the routes
// of the best solution are split into groups of neighbouring routes, one
// per search, each search improves its own group (ruins, insertions and
// local search stay inside it), and the groups' best routes are put
// together. The annealing temperature follows the whole run.
func parallelRuinRecreate(ctx context.Context, in *inst, start *individual, rngs []*rand.Rand, begin, deadline time.Time, maxIter int, grow bool, report func(*individual, int)) *individual {
	ls := make([]*lns, len(rngs))
	for t, rng := range rngs {
		ls[t] = newLNS(in, start, rng, grow)
	}
	sched := annealing{begin: begin, deadline: deadline, maxIter: maxIter}
	if len(ls) == 1 {
		ls[0].run(ctx, deadline, maxIter, sched, report)
		return ls[0].best
	}
	best := newIndividual(in)
	copyIndividual(best, start)
	union := newIndividual(in)
	part := newPartition(in, rngs[0])
	for k := 1; k <= lnsEpochs; k++ {
		var ed time.Time
		if !deadline.IsZero() {
			ed = begin.Add(deadline.Sub(begin) * time.Duration(k) / lnsEpochs)
		}
		ei := maxIter * k / lnsEpochs
		if maxIter > 0 && ei == 0 {
			continue
		}
		owner := part.split(best, len(ls))
		var wg sync.WaitGroup
		for t, l := range ls {
			l.restrict(best, owner, t)
			if len(l.own) == 0 {
				continue
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				l.run(ctx, ed, ei, sched, report)
			}()
		}
		wg.Wait()
		for v := range union.routes {
			union.routes[v] = append(union.routes[v][:0], ls[owner[v]].best.routes[v]...)
		}
		union.evaluate(in)
		if union.feasible && better(union, best) {
			copyIndividual(best, union)
		}
		if ctx.Err() != nil || (!deadline.IsZero() && time.Now().After(deadline)) {
			break
		}
	}
	for _, l := range ls {
		l.s.allowed = nil
	}
	return best
}

// restrict makes ind the current and best solution of l, to be improved
// on the routes of the vehicles that owner gives to part t only (and the
// jobs ind leaves out when t is 0).
func (l *lns) restrict(ind *individual, owner []int, t int) {
	copyIndividual(l.cur, ind)
	copyIndividual(l.best, ind)
	l.s.load(l.cur)
	if l.s.allowed == nil {
		l.s.allowed = make([]bool, l.in.nv)
	}
	l.own = l.own[:0]
	for v, o := range owner {
		l.s.allowed[v] = o == t
		if o == t {
			l.own = append(l.own, ind.routes[v][len(l.in.veh[v].fixedJobs):]...)
		}
	}
	l.ownsLeftOut = t == 0
	if t == 0 {
		for j := 0; j < l.in.n; j++ {
			if l.in.active[j] && ind.succ[j] == -2 {
				l.own = append(l.own, int32(j))
			}
		}
	}
}

// partition splits the routes of a solution into groups of neighbouring
// routes (by granular neighbour links between their jobs).
type partition struct {
	in    *inst
	rng   *rand.Rand
	score []int
	owner []int
}

func newPartition(in *inst, rng *rand.Rand) *partition {
	return &partition{in: in, rng: rng, score: make([]int, in.nv), owner: make([]int, in.nv)}
}

// partLinks is how many of each job's closest neighbours link routes.
const partLinks = 10

// split returns the group (0..k-1) of each vehicle: k-1 times, from a
// random route, the group grows by the route most linked to it until it
// holds its share of the jobs; the rest is the last group. Idle vehicles
// are dealt round.
func (pt *partition) split(ind *individual, k int) []int {
	in := pt.in
	routeOf := make(map[int32]int, in.n)
	total := 0
	var used []int
	for v, r := range ind.routes {
		pt.owner[v] = -1
		if len(r) > 0 {
			used = append(used, v)
			total += len(r)
			for _, j := range r {
				routeOf[j] = v
			}
		}
	}
	idle := 0
	for v, r := range ind.routes {
		if len(r) == 0 {
			pt.owner[v] = idle % k
			idle++
		}
	}
	left := len(used)
	for g := 0; g < k-1 && left > 0; g++ {
		clear(pt.score)
		jobs := 0
		pick, free := -1, 0
		for _, v := range used { // a random free route
			if pt.owner[v] < 0 {
				if free++; pt.rng.IntN(free) == 0 {
					pick = v
				}
			}
		}
		for pick >= 0 && jobs*(k-g) < total {
			pt.owner[pick] = g
			left--
			jobs += len(ind.routes[pick])
			total -= len(ind.routes[pick])
			for _, j := range ind.routes[pick] {
				for _, x := range in.neighbors[j][:min(partLinks, len(in.neighbors[j]))] {
					if v, ok := routeOf[x]; ok {
						pt.score[v]++
					}
				}
			}
			pick = -1
			for _, v := range used {
				if pt.owner[v] < 0 && (pick < 0 || pt.score[v] > pt.score[pick]) {
					pick = v
				}
			}
		}
	}
	for _, v := range used {
		if pt.owner[v] < 0 {
			pt.owner[v] = k - 1
		}
	}
	return pt.owner
}

// better reports whether feasible a beats feasible b: fewer unassigned
// (by weight), then a lower cost.
func better(a, b *individual) bool {
	return a.weight < b.weight || a.weight == b.weight && a.cost() < b.cost()
}

// annealing gives the share of the search done, by iterations (with a
// limit) or by the clock, for the temperature.
type annealing struct {
	begin, deadline time.Time
	maxIter         int
}

func (a annealing) frac(it int) float64 {
	if a.maxIter > 0 {
		return float64(it) / float64(a.maxIter)
	}
	if a.deadline.IsZero() {
		return 0
	}
	return time.Since(a.begin).Seconds() / a.deadline.Sub(a.begin).Seconds()
}

// run iterates until the deadline or until l has run maxIter iterations
// in all (0: no limit).
func (l *lns) run(ctx context.Context, deadline time.Time, maxIter int, sched annealing, report func(*individual, int)) {
	in, s := l.in, l.s
	for ; ; l.iter++ {
		it := l.iter
		if (maxIter > 0 && it >= maxIter) || (it&15 == 0 && ctx.Err() != nil) {
			return
		}
		if it&15 == 0 && !deadline.IsZero() && time.Now().After(deadline) {
			return
		}
		temp := l.t0 * math.Pow(l.tf/l.t0, math.Min(sched.frac(it), 1))
		mark := s.step
		l.ruin()
		l.recreate()
		// Local search on the reinserted jobs only, against all their
		// neighbours: the rest of the solution was a local optimum already.
		// Small problems search every pair of the routes that changed.
		if !l.large {
			s.run()
		}
		l.focus = l.focus[:0]
		for _, u := range l.removed {
			if s.nodeRoute[u] >= 0 {
				l.focus = append(l.focus, u)
				s.lastTested[u] = -1
			}
		}
		if l.large && len(l.focus) > 0 {
			all := s.order
			s.order = l.focus
			s.run()
			s.order = all
		}
		c := s.totalPenalized()
		if float64(c) < float64(l.cur.cost())-temp*math.Log(l.rng.Float64()) {
			s.export(l.cur)
			if l.cur.feasible && better(l.cur, l.best) {
				copyIndividual(l.best, l.cur)
				if report != nil {
					report(l.best, it)
				}
			}
			continue
		}
		// Rejected: put back the routes that changed, and the jobs the
		// current solution leaves out.
		for _, r := range s.routes {
			if r.modified > mark {
				r.nodes = append(r.nodes[:1], l.cur.routes[r.v]...)
				r.nodes = append(r.nodes, int32(in.n+2*r.v+1))
				s.update(r)
			}
		}
		for _, u := range l.removed {
			if l.cur.succ[u] == -2 {
				s.nodeRoute[u] = -1
			}
		}
	}
}

// ruin removes strings of consecutive jobs from routes near a random seed
// job (about ten jobs in all).
func (l *lns) ruin() {
	s := l.s
	in := l.in
	l.removed = l.removed[:0]
	clear(l.ruined)
	order := s.order
	if s.allowed != nil {
		order = l.own
		for v, ok := range s.allowed {
			l.ruined[v] = !ok // routes of other parts stay whole
		}
	}
	if len(order) == 0 {
		return
	}
	if l.rng.IntN(l.routeRuin) == 0 && l.ruinRoute() {
		return
	}
	seed := order[l.rng.IntN(len(order))]
	avgRemoved, maxString := lnsRemoved, 10
	for k := -1; k < len(in.neighbors[seed]); k++ {
		x := seed
		if k >= 0 {
			x = in.neighbors[seed][k]
		}
		if len(l.removed) >= 2*int(avgRemoved) {
			break
		}
		r := s.routeOf(x)
		if r == nil || l.ruined[r.v] || r.jobs() <= r.fixedLen {
			continue
		}
		l.ruined[r.v] = true
		free := r.jobs() - r.fixedLen
		length := 1 + l.rng.IntN(min(maxString, free))
		// a string of this length containing x
		p := int(s.nodePos[x])
		lo := max(r.fixedLen+1, p-l.rng.IntN(length))
		hi := min(r.last()-1, lo+length-1)
		lo = max(r.fixedLen+1, hi-length+1)
		for q := lo; q <= hi; q++ {
			l.removed = append(l.removed, r.nodes[q])
		}
		s.step++
		r.nodes = append(r.nodes[:lo], r.nodes[hi+1:]...)
		for _, j := range l.removed[len(l.removed)-(hi-lo+1):] {
			s.nodeRoute[j] = -1
		}
		s.update(r)
		if float64(len(l.removed)) >= avgRemoved*(0.5+l.rng.Float64()) {
			break
		}
	}
}

// One ruin in lnsRouteRuin empties a whole route (the shorter of two
// random ones) when vehicles cost a fixed amount, one in lnsRouteRuinFree
// when they do not: so that the search can drop a vehicle, which string
// removals alone seldom do, and save its two depot legs. On city-1000-s2
// (30 s, seeds 1 to 4, load 2 to 4) one in 50 gave 206,335 on average
// against 208,609 without (29 or 30 routes against 29 to 30).
const lnsRouteRuin, lnsRouteRuinFree = 10, 50

// ruinRoute takes every job out of a short random route without fixed
// jobs; it reports false if there is none.
func (l *lns) ruinRoute() bool {
	s := l.s
	var pick *route
	for range 2 {
		r := s.routes[l.rng.IntN(len(s.routes))]
		if !r.empty() && r.fixedLen == 0 && s.may(r.v) && (pick == nil || r.jobs() < pick.jobs()) {
			pick = r
		}
	}
	if pick == nil {
		return false
	}
	l.removed = append(l.removed, pick.nodes[1:pick.last()]...)
	for _, j := range l.removed {
		s.nodeRoute[j] = -1
	}
	s.step++
	pick.nodes = append(pick.nodes[:1], pick.nodes[pick.last()])
	s.update(pick)
	return true
}

// recreate inserts the removed jobs, and the jobs left unassigned, one by
// one at their cheapest feasible position in a non-empty route (with grow,
// in an idle vehicle's route when none fits), skipping each position with
// probability 1% (blinks). A job that fits nowhere, or an optional job
// that costs more than its penalty, stays unassigned.
func (l *lns) recreate() {
	s := l.s
	in := l.in
	if s.allowed == nil || l.ownsLeftOut {
		for _, j := range s.order {
			if s.nodeRoute[j] < 0 && l.cur.succ[j] == -2 {
				l.removed = append(l.removed, j)
			}
		}
	}
	rem := l.removed
	switch l.rng.IntN(3) {
	case 0:
		l.rng.Shuffle(len(rem), func(a, b int) { rem[a], rem[b] = rem[b], rem[a] })
	case 1: // largest demand first
		sortBy(rem, func(j int32) float64 {
			var q int64
			for d := 0; d < in.D; d++ {
				q += in.demand[int(j)*in.D+d]
			}
			return -float64(q)
		})
	default: // farthest from the first start first
		o, m := in.veh[0].start, in.veh[0].m
		sortBy(rem, func(j int32) float64 { return -float64(m.c(o, in.nodeLoc[j])) })
	}
	s.blink = 0.01
	defer func() { s.blink = 0 }()
	for _, u := range rem {
		br, bp := s.cheapestInsertion(u, l.keepFn)
		if br == nil && l.grow {
			best := infCost
			for t := range s.emptyOf {
				if r := s.emptyRoute(t); r != nil && in.compatible(u, r.v) {
					if d := s.insertDelta(u, r, r.fixedLen); d < best {
						best, br, bp = d, r, r.fixedLen
					}
				}
			}
		}
		if br == nil || s.insertDelta(u, br, bp) >= 0 {
			continue
		}
		s.insertPlan(u, br, bp)
		s.commit(false)
	}
}

// keep accepts the non-empty routes the search may change.
func (l *lns) keep(r *route) bool { return !r.empty() && l.s.may(r.v) }

func sortBy(xs []int32, key func(int32) float64) {
	for i := 1; i < len(xs); i++ {
		for j := i; j > 0 && key(xs[j]) < key(xs[j-1]); j-- {
			xs[j], xs[j-1] = xs[j-1], xs[j]
		}
	}
}
