package routing

import (
	"context"
	"math/rand/v2"
	"time"
)

// Route minimisation by an ejection pool (after Nagata and Bräysy 2009,
// simplified): take a route out, put its jobs in a pool, and reinsert them
// one by one: at the cheapest feasible position if there is one, else
// inserting the job while ejecting up to two jobs of the receiving route,
// chosen to minimise the sum of their ejection counters (jobs that keep
// coming back get harder to eject); the ejected jobs go to the pool, and a
// few random feasible moves shake the solution. The attempt succeeds when
// the pool is empty. Every intermediate solution is feasible.

type routeMin struct {
	s          *search
	snap       *individual
	focus      []int32
	squeezeOps []nodeOp
	pen        penalties
	in         *inst
	rng        *rand.Rand
	counter    []int
	pool       []int32
	steps      int
}

// minimizeRoutes removes routes from the feasible individual start while it
// can, within maxSteps ejection steps (0: no limit) and the deadline. It
// returns the best individual found (start itself if no route could go).
func minimizeRoutes(ctx context.Context, in *inst, start *individual, rng *rand.Rand, deadline time.Time, maxSteps int) *individual {
	rm := &routeMin{in: in, rng: rng, counter: make([]int, in.n)}
	rm.s = newSearch(in, rng)
	rm.s.strict = true
	rm.snap = newIndividual(in)
	rm.squeezeOps = []nodeOp{exchange{1, 0, false}, exchange{1, 1, false}, twoOptStar{}}
	// Squeeze penalties: a unit of violation costs like ten units of travel.
	sc, sd, _ := in.matrixSums()
	rm.pen = penalties{load: 10, tw: 10, dist: 10}
	if sd > 0 {
		rm.pen.tw = 10 * max(1, sc/sd)
	}
	best := newIndividual(in)
	copyIndividual(best, start)
	// No fewer routes than the total demand needs with the largest vehicle.
	lb := 1
	for d := 0; d < in.D; d++ {
		var total, big int64
		for j := 0; j < in.n; j++ {
			if in.active[j] || in.fixedVeh[j] >= 0 {
				total += in.demand[j*in.D+d]
			}
		}
		for v := range in.veh {
			big = max(big, in.veh[v].cap[d])
		}
		if big > 0 {
			lb = max(lb, int((total+big-1)/big))
		}
	}
	var budget time.Duration
	if !deadline.IsZero() {
		budget = time.Until(deadline)
	}
	fails := 0
	for fails < 3 && best.nRoutes > lb {
		if (maxSteps > 0 && rm.steps >= maxSteps) || (!deadline.IsZero() && time.Now().After(deadline)) || ctx.Err() != nil {
			break
		}
		rm.s.load(best)
		// Remove a random route (without fixed jobs), preferring short ones.
		var cands []*route
		for _, r := range rm.s.routes {
			if !r.empty() && r.fixedLen == 0 {
				cands = append(cands, r)
			}
		}
		if len(cands) <= 1 {
			break
		}
		pick := cands[rm.rng.IntN(len(cands))]
		if alt := cands[rm.rng.IntN(len(cands))]; alt.jobs() < pick.jobs() {
			pick = alt
		}
		// Each attempt gets a third of the budget, so that a hopeless
		// choice of route leaves time to try others.
		attempt := deadline
		if !deadline.IsZero() {
			attempt = time.Now().Add(budget / 3)
			if attempt.After(deadline) {
				attempt = deadline
			}
		}
		stepCap := maxSteps
		if maxSteps > 0 {
			stepCap = min(maxSteps, rm.steps+max(maxSteps/3, 1))
		}
		if rm.removeRoute(ctx, pick, attempt, stepCap) {
			rm.s.export(best)
			fails = 0
		} else {
			fails++
		}
	}
	return best
}

func (rm *routeMin) removeRoute(ctx context.Context, r *route, deadline time.Time, maxSteps int) bool {
	s := rm.s
	rm.pool = rm.pool[:0]
	for _, x := range r.nodes[1:r.last()] {
		rm.pool = append(rm.pool, x)
	}
	rm.rng.Shuffle(len(rm.pool), func(a, b int) { rm.pool[a], rm.pool[b] = rm.pool[b], rm.pool[a] })
	for j := range rm.counter {
		rm.counter[j] = 1
	}
	s.step++
	r.nodes = append(r.nodes[:0], int32(rm.in.n+2*r.v), int32(rm.in.n+2*r.v+1))
	for _, x := range rm.pool {
		s.nodeRoute[x] = -1
	}
	s.update(r)
	banned := r.v
	for len(rm.pool) > 0 {
		rm.steps++
		if (maxSteps > 0 && rm.steps >= maxSteps) || (rm.steps&15 == 0 && ((!deadline.IsZero() && time.Now().After(deadline)) || ctx.Err() != nil)) {
			return false
		}
		v := rm.pool[len(rm.pool)-1]
		rm.pool = rm.pool[:len(rm.pool)-1]
		if rm.insertFeasible(v, banned) {
			continue
		}
		if rm.squeeze(v, banned) {
			continue
		}
		rm.counter[v]++
		if !rm.insertEjecting(v, banned) {
			rm.pool = append([]int32{v}, rm.pool...)
		}
		rm.perturb(200)
	}
	return true
}

// keepFor accepts the non-empty routes other than vehicle banned's.
func (rm *routeMin) keepFor(banned int) func(*route) bool {
	return func(r *route) bool { return !r.empty() && r.v != banned }
}

// insertFeasible puts v at its cheapest feasible position in a non-empty route.
func (rm *routeMin) insertFeasible(v int32, banned int) bool {
	s := rm.s
	br, bp := s.cheapestInsertion(v, rm.keepFor(banned))
	if br == nil {
		return false
	}
	s.insertPlan(v, br, bp)
	s.commit(false)
	return true
}

// ejectPlan writes into s.planA route r without the jobs at positions a
// (and b > a when b > 0) and with v inserted after position p.
func (rm *routeMin) ejectPlan(v int32, r *route, p, a, b int) {
	s := rm.s
	s.single.scratch = true
	s.single.nodes = append(s.single.nodes[:0], v)
	s.singleUpdate(v)
	s.single.prof, s.single.m = r.prof, r.m
	pl := &s.planA
	pl.reset(r.v)
	start := 0
	ins := false
	for _, q := range [2]int{a, b} {
		if q <= 0 {
			continue
		}
		if !ins && p < q {
			pl.addIf(r, start, p)
			pl.add(&s.single, 0, 0)
			start, ins = p+1, true
		}
		pl.addIf(r, start, q-1)
		start = q + 1
	}
	if !ins {
		pl.addIf(r, start, p)
		pl.add(&s.single, 0, 0)
		start = p + 1
	}
	pl.addIf(r, start, r.last())
}

// insertEjecting inserts v ejecting at most two jobs of the receiving
// route, minimising the sum of their counters, then the cost.
func (rm *routeMin) insertEjecting(v int32, banned int) bool {
	s := rm.s
	in := rm.in
	bestP, bestCost := int(^uint(0)>>1), infCost
	var br *route
	bpos, ba, bb := -1, -1, -1
	try := func(r *route, p, a, b int) {
		psum := rm.counter[r.nodes[a]]
		if b > 0 {
			psum += rm.counter[r.nodes[b]]
		}
		if psum > bestP {
			return
		}
		rm.ejectPlan(v, r, p, a, b)
		c := s.planCost(&s.planA)
		if c >= infCost {
			return
		}
		c -= r.penalized
		if psum < bestP || c < bestCost {
			bestP, bestCost, br, bpos, ba, bb = psum, c, r, p, a, b
		}
	}
	for _, r := range s.routes {
		if r.empty() || r.v == banned || !in.compatible(v, r.v) {
			continue
		}
		L := r.last()
		long := L > 25
		for p := r.fixedLen; p < L; p++ {
			for a := r.fixedLen + 1; a < L; a++ {
				if a == p {
					continue
				}
				try(r, p, a, 0)
				for b := a + 1; b < L; b++ {
					if b == p {
						continue
					}
					if long && (b-p > 6 || p-b > 6 || a-p > 6 || p-a > 6) {
						continue
					}
					try(r, p, a, b)
				}
			}
		}
	}
	if br == nil {
		return false
	}
	ej := []int32{br.nodes[ba]}
	if bb > 0 {
		ej = append(ej, br.nodes[bb])
	}
	rm.ejectPlan(v, br, bpos, ba, bb)
	s.commit(false)
	for _, x := range ej {
		s.nodeRoute[x] = -1
		rm.pool = append(rm.pool, x)
	}
	return true
}

// perturb applies k random feasible moves between neighbours.
func (rm *routeMin) perturb(k int) {
	s := rm.s
	ops := []nodeOp{exchange{1, 0, false}, exchange{1, 1, false}, twoOptStar{}}
	order := s.order
	for i := 0; i < k && len(order) > 0; i++ {
		u := order[rm.rng.IntN(len(order))]
		if s.nodeRoute[u] < 0 || len(s.nbr[u]) == 0 {
			continue
		}
		v := s.nbr[u][rm.rng.IntN(len(s.nbr[u]))]
		if s.nodeRoute[v] < 0 {
			continue
		}
		op := ops[rm.rng.IntN(len(ops))]
		if d := op.evaluate(s, u, v); d < infCost {
			op.apply(s, u, v)
		}
	}
}

// squeeze inserts v where the penalised cost grows least and runs the
// penalised local search (without opening routes or inserting pool jobs);
// it keeps the result only if it is feasible.
func (rm *routeMin) squeeze(v int32, banned int) bool {
	s := rm.s
	s.export(rm.snap)
	s.strict = false
	s.noGrow = true
	s.setPenalties(rm.pen)
	defer func() {
		s.strict = true
		s.noGrow = false
	}()
	br, bp := s.cheapestInsertion(v, rm.keepFor(banned))
	ok := false
	if br != nil {
		s.insertPlan(v, br, bp)
		s.commit(false)
		// Local search focused on the receiving route's jobs.
		all := s.order
		s.order = append(rm.focus[:0], br.nodes[1:br.last()]...)
		rm.focus = s.order
		s.useSwapStar = false
		ops := s.ops
		s.ops = rm.squeezeOps
		s.run()
		s.order, s.useSwapStar, s.ops = all, true, ops
		ok = true
		for _, r := range s.routes {
			if l, w, d := s.violation(r); l+w+d > 0 {
				ok = false
				break
			}
		}
	}
	s.strict = true
	if !ok {
		s.load(rm.snap)
		return false
	}
	s.setPenalties(rm.pen) // refresh the cached costs in strict mode
	return true
}
