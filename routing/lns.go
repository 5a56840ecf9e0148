package routing

import (
	"context"
	"math"
	"math/rand/v2"
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

// lsEvery runs the strict local search after every recreate (1) or never (0).
var lsEvery = 1

// Annealing temperatures, in average edges of the start solution, and
// the average number of jobs a ruin removes (SISR's c-bar).
var lnsT0, lnsTf, lnsRemoved = 4.0, 0.1, 10.0

type lns struct {
	in      *inst
	s       *search
	rng     *rand.Rand
	removed []int32
	ruined  []bool
	cur     *individual
	best    *individual
	focus   []int32
	grow    bool // a job that fits in no used route may open an idle vehicle's route
}

// ruinRecreate returns the best solution found from the feasible start
// within the deadline or maxIter iterations (0: no limit). With grow, a job
// that fits in no used route opens an idle vehicle's route; without, the
// fleet of start is kept (routes may only empty).
func ruinRecreate(ctx context.Context, in *inst, start *individual, rng *rand.Rand, begin, deadline time.Time, maxIter int, grow bool, report func(*individual, int)) *individual {
	l := &lns{in: in, rng: rng, ruined: make([]bool, in.nv), grow: grow}
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
	if edges == 0 {
		return l.best
	}
	avg := float64(start.travel) / float64(edges)
	t0, tf := lnsT0*avg, lnsTf*avg
	total := deadline.Sub(begin).Seconds()
	s := l.s
	s.load(l.cur)
	s.incremental = true
	// A light local search: the moves that repair a recreate best.
	s.ops = []nodeOp{exchange{1, 0, false}, exchange{2, 0, false}, exchange{1, 1, false}, twoOpt{}, twoOptStar{}}
	s.useSwapStar = false
	for it := 0; ; it++ {
		if (maxIter > 0 && it >= maxIter) || (it&15 == 0 && ctx.Err() != nil) {
			break
		}
		if it&15 == 0 && !deadline.IsZero() && time.Now().After(deadline) {
			break
		}
		var frac float64
		if maxIter > 0 {
			frac = float64(it) / float64(maxIter)
		} else {
			frac = time.Since(begin).Seconds() / total
		}
		temp := t0 * math.Pow(tf/t0, math.Min(frac, 1))
		mark := s.step
		l.ruin()
		ok := l.recreate()
		if ok && lsEvery > 0 && it%lsEvery == 0 {
			// Only the reinserted jobs, against all their neighbours:
			// the rest of the solution was a local optimum already.
			all := s.order
			s.order = append(l.focus[:0], l.removed...)
			l.focus = s.order
			for _, u := range l.removed {
				s.lastTested[u] = -1
			}
			s.run()
			s.order = all
		}
		var c int64
		for _, r := range s.routes {
			c += r.penalized
		}
		if ok && float64(c) < float64(l.cur.travel+l.cur.fixed)-temp*math.Log(l.rng.Float64()) {
			s.export(l.cur)
			if l.cur.feasible && l.cur.cost() < l.best.cost() {
				copyIndividual(l.best, l.cur)
				if report != nil {
					report(l.best, it)
				}
			}
			continue
		}
		// Rejected: put back the routes that changed.
		for _, r := range s.routes {
			if r.modified > mark {
				r.nodes = append(r.nodes[:1], l.cur.routes[r.v]...)
				r.nodes = append(r.nodes, int32(in.n+2*r.v+1))
				s.update(r)
			}
		}
	}
	return l.best
}

// ruin removes strings of consecutive jobs from routes near a random seed
// job (about ten jobs in all).
func (l *lns) ruin() {
	s := l.s
	in := l.in
	l.removed = l.removed[:0]
	clear(l.ruined)
	order := s.order
	if len(order) == 0 {
		return
	}
	seed := order[l.rng.IntN(len(order))]
	avgRemoved, maxString := lnsRemoved, 10
	for _, x := range append([]int32{seed}, in.neighbors[seed]...) {
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

// recreate inserts the removed jobs one by one at their cheapest feasible
// position in a non-empty route, skipping each position with probability
// 1% (blinks). It fails if a job fits nowhere.
func (l *lns) recreate() bool {
	s := l.s
	in := l.in
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
		br, bp := s.cheapestInsertion(u, nonEmpty)
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
		if br == nil {
			return false
		}
		s.insertPlan(u, br, bp)
		s.commit(false)
	}
	return true
}

func nonEmpty(r *route) bool { return !r.empty() }

func sortBy(xs []int32, key func(int32) float64) {
	for i := 1; i < len(xs); i++ {
		for j := i; j > 0 && key(xs[j]) < key(xs[j-1]); j-- {
			xs[j], xs[j-1] = xs[j-1], xs[j]
		}
	}
}
