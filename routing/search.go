package routing

import (
	"math/rand/v2"
	"time"
)

// search is the mutable local-search structure over one solution: one
// route per vehicle, node positions, penalties and scratch space. It is
// loaded from and exported to an individual (the immutable side).
type search struct {
	in        *inst
	pen       penalties
	routes    []*route
	nodeRoute []int32 // route of each node, -1 if unassigned
	nodePos   []int32
	rng       *rand.Rand
	step      int

	lastTested      []int
	swapTested      []int
	routeSwapTested []int
	order           []int32
	nbr             [][]int32
	emptyOf         []int // a candidate empty route per vehicle type

	planA, planB plan
	loadBuf      []int64
	nodesA       []int32
	nodesB       []int32
	ops          []nodeOp
	useSwapStar  bool
	deadline     time.Time // stop early (still a valid solution) after this
	strict       bool
	noPrune      bool    // tests: evaluate every move exactly
	noGrow       bool    // do not insert unassigned jobs or open empty routes
	blink        float64 // cheapestInsertion skips each position with this probability (SISR's blinks)
	allowed      []bool  // when set, the vehicles whose routes the search may change (a part of a decomposed search)
	incremental  bool    // run re-tests only pairs whose routes changed since the last run      // every constraint hard: violating plans cost infCost
	star         swapStarCache
	single       route // scratch route holding one unassigned job, no depots
}

// piece is positions a..b (a <= b) of route r, visited backwards if rev.
type piece struct {
	r    *route
	a, b int
	rev  bool
}

// plan is a proposed route for vehicle v made of pieces of current routes.
type plan struct {
	v   int
	pcs [6]piece
	n   int
}

func (pl *plan) reset(v int)               { pl.v, pl.n = v, 0 }
func (pl *plan) add(r *route, a, b int)    { pl.pcs[pl.n] = piece{r, a, b, false}; pl.n++ }
func (pl *plan) addRev(r *route, a, b int) { pl.pcs[pl.n] = piece{r, a, b, true}; pl.n++ }
func (pl *plan) addIf(r *route, a, b int) {
	if a <= b {
		pl.add(r, a, b)
	}
}

func newSearch(in *inst, rng *rand.Rand) *search {
	nn := in.n + 2*in.nv
	s := &search{
		in:              in,
		nodeRoute:       make([]int32, nn),
		nodePos:         make([]int32, nn),
		rng:             rng,
		lastTested:      make([]int, in.n),
		swapTested:      make([]int, in.nv),
		routeSwapTested: make([]int, in.nv),
		loadBuf:         make([]int64, in.D),
		emptyOf:         make([]int, in.nTypes),
		nbr:             make([][]int32, in.n),
	}
	for j := range s.nbr {
		s.nbr[j] = append([]int32(nil), in.neighbors[j]...)
	}
	s.routes = make([]*route, in.nv)
	for v := range s.routes {
		r := &route{v: v, fixedLen: len(in.veh[v].fixedJobs), prof: in.veh[v].prof, m: in.veh[v].m}
		s.routes[v] = r
	}
	for j := 0; j < in.n; j++ {
		if in.active[j] {
			s.order = append(s.order, int32(j))
		}
	}
	s.ops = []nodeOp{
		exchange{1, 0, false}, exchange{2, 0, false}, exchange{2, 0, true}, exchange{3, 0, false},
		exchange{1, 1, false}, exchange{2, 1, false}, exchange{2, 2, false},
		twoOpt{}, twoOptStar{}, twoOptStarRev{},
	}
	s.useSwapStar = true
	return s
}

// segment returns the time segment of a piece under the travel profile of
// route ro (the plan's vehicle): the cached one when the piece's route has
// that profile, else its jobs-only suffix under it, else recomputed (short
// strings: at most three jobs for the node operators).
func (s *search) segment(pc *piece, ro *route) twSeg {
	in := s.in
	r := pc.r
	m := ro.m
	if !pc.rev {
		if r.m == m {
			switch {
			case pc.a == 0:
				return r.fwd[pc.b]
			case pc.b == r.last():
				return r.bwd[pc.a]
			case pc.b == r.last()-1:
				return r.bwdJ[pc.a]
			}
			if pc.a == pc.b {
				return nodeSeg(in, r.nodes[pc.a])
			}
			return r.between(in, pc.a, pc.b)
		} else if pc.b == r.last()-1 && pc.a >= 1 {
			return r.alt[ro.prof].bwdJ[pc.a]
		}
		seg := nodeSeg(in, r.nodes[pc.a])
		for k := pc.a + 1; k <= pc.b; k++ {
			seg = merge(seg, m.t(r.locs[k-1], r.locs[k]), nodeSeg(in, r.nodes[k]))
		}
		return seg
	}
	if pc.a == pc.b {
		return nodeSeg(in, r.nodes[pc.a])
	}
	if r.m == m && !r.scratch {
		return r.reversed(in, pc.a, pc.b)
	}
	seg := nodeSeg(in, r.nodes[pc.b])
	for k := pc.b - 1; k >= pc.a; k-- {
		seg = merge(seg, m.t(r.locs[k+1], r.locs[k]), nodeSeg(in, r.nodes[k]))
	}
	return seg
}

// planCost is the penalised cost of the route a plan describes, under the
// travel profile of the plan's vehicle (pieces of routes of other profiles
// use their data under that profile).
func (s *search) planCost(pl *plan) int64 {
	in := s.in
	D := in.D
	ro := s.routes[pl.v]
	m := ro.m
	trackDist := !m.distIsCost
	load := s.loadBuf
	for d := range load {
		load[d] = 0
	}
	var cost, dist int64
	var tw twSeg
	jobs := 0
	var lastLoc int32
	for k := 0; k < pl.n; k++ {
		pc := &pl.pcs[k]
		r := pc.r
		fl, ll := r.locs[pc.a], r.locs[pc.b]
		if pc.rev {
			fl, ll = ll, fl
		}
		if k > 0 {
			cost += m.c(lastLoc, fl)
			if trackDist {
				dist += m.d(lastLoc, fl)
			}
		}
		if !pc.rev || m.symmetric {
			cc, cd := r.cumCost, r.cumDist
			if r.m != m { // a string of a route of another profile
				cc, cd = r.alt[ro.prof].cumCost, r.alt[ro.prof].cumDist
			}
			cost += cc[pc.b] - cc[pc.a]
			if trackDist {
				dist += cd[pc.b] - cd[pc.a]
			}
		} else if r.m == m && !r.scratch {
			cost += r.revCost[pc.b] - r.revCost[pc.a]
			if trackDist {
				dist += r.revDist[pc.b] - r.revDist[pc.a]
			}
		} else {
			for q := pc.b; q > pc.a; q-- {
				a, b := r.locs[q], r.locs[q-1]
				cost += m.c(a, b)
				if trackDist {
					dist += m.d(a, b)
				}
			}
		}
		if pc.a > 0 {
			for d := 0; d < D; d++ {
				load[d] += r.cumLoad[pc.b*D+d] - r.cumLoad[(pc.a-1)*D+d]
			}
		} else {
			for d := 0; d < D; d++ {
				load[d] += r.cumLoad[pc.b*D+d]
			}
		}
		jobs += pc.b - pc.a + 1
		if !r.scratch {
			if pc.a == 0 {
				jobs--
			}
			if pc.b == r.last() {
				jobs--
			}
		}
		if in.hasTime {
			seg := s.segment(pc, ro)
			if k == 0 {
				tw = seg
			} else {
				tw = merge(tw, m.t(lastLoc, fl), seg)
			}
		}
		lastLoc = ll
	}
	if !trackDist {
		dist = cost
	}
	return s.routeCost(pl.v, cost, load, tw, dist, jobs)
}

// planTravel is the travel cost plus fixed cost of a plan, a lower bound
// of planCost (penalties are never negative).
func (s *search) planTravel(pl *plan) int64 {
	ro := s.routes[pl.v]
	m := ro.m
	var cost int64
	jobs := 0
	var lastLoc int32
	for k := 0; k < pl.n; k++ {
		pc := &pl.pcs[k]
		r := pc.r
		fl, ll := r.locs[pc.a], r.locs[pc.b]
		if pc.rev {
			fl, ll = ll, fl
		}
		if k > 0 {
			cost += m.c(lastLoc, fl)
		}
		if !pc.rev || m.symmetric {
			cc := r.cumCost
			if r.m != m { // a string of a route of another profile
				cc = r.alt[ro.prof].cumCost
			}
			cost += cc[pc.b] - cc[pc.a]
		} else if r.m == m && !r.scratch {
			cost += r.revCost[pc.b] - r.revCost[pc.a]
		} else {
			for q := pc.b; q > pc.a; q-- {
				cost += m.c(r.locs[q], r.locs[q-1])
			}
		}
		jobs += pc.b - pc.a + 1
		if !r.scratch {
			if pc.a == 0 {
				jobs--
			}
			if pc.b == r.last() {
				jobs--
			}
		}
		lastLoc = ll
	}
	if jobs == 0 {
		return 0
	}
	return cost + s.in.veh[pl.v].fixedCost
}

// evalPlans returns the change of penalised cost if the routes of planA
// (and planB when two) are replaced by their plans, or infCost when the
// move is infeasible or, by a lower bound, not improving. When bGrows, plan
// B only adds jobs to its route, so (with the triangle inequality) its
// penalty cannot fall: a tighter bound, and a heuristic one otherwise.
func (s *search) evalPlans(two, bGrows bool) int64 {
	ra := s.routes[s.planA.v]
	old := ra.penalized
	var rb *route
	if two {
		rb = s.routes[s.planB.v]
		old += rb.penalized
	}
	var lbB int64
	if !s.noPrune {
		lbA := s.planTravel(&s.planA)
		if two {
			lbB = s.planTravel(&s.planB)
			if bGrows && lbB > 0 {
				lbB += rb.penalty
			}
		}
		if lbA+lbB >= old {
			return infCost
		}
	}
	a := s.planCost(&s.planA)
	if a >= infCost {
		return infCost
	}
	if !two {
		return a - old
	}
	if !s.noPrune && a+lbB >= old {
		return infCost
	}
	b := s.planCost(&s.planB)
	if b >= infCost {
		return infCost
	}
	return a + b - old
}

// build writes the node sequence of a plan into buf.
func (s *search) build(pl *plan, buf []int32) []int32 {
	buf = buf[:0]
	for k := 0; k < pl.n; k++ {
		pc := &pl.pcs[k]
		if pc.rev {
			for q := pc.b; q >= pc.a; q-- {
				buf = append(buf, pc.r.nodes[q])
			}
		} else {
			buf = append(buf, pc.r.nodes[pc.a:pc.b+1]...)
		}
	}
	return buf
}

// commit replaces the routes of planA (and planB if two) by their plans.
func (s *search) commit(two bool) {
	s.nodesA = s.build(&s.planA, s.nodesA)
	if two {
		s.nodesB = s.build(&s.planB, s.nodesB)
	}
	s.step++
	ra := s.routes[s.planA.v]
	ra.nodes = append(ra.nodes[:0], s.nodesA...)
	s.update(ra)
	if two {
		rb := s.routes[s.planB.v]
		rb.nodes = append(rb.nodes[:0], s.nodesB...)
		s.update(rb)
	}
}

// movable reports whether the nodes of r at positions a..b are jobs that
// may leave r for vehicle v.
func (s *search) movable(r *route, a, b, v int) bool {
	if a <= r.fixedLen || b >= r.last() {
		return false
	}
	if r.v == v || s.in.allCompat {
		return true
	}
	for q := a; q <= b; q++ {
		if !s.in.compatible(r.nodes[q], v) {
			return false
		}
	}
	return true
}

// tailCompatible reports whether positions a..b of r (jobs only) may go to vehicle v.
func (s *search) tailCompatible(r *route, a, b, v int) bool {
	if r.v == v || s.in.allCompat {
		return true
	}
	for q := a; q <= b; q++ {
		if !s.in.compatible(r.nodes[q], v) {
			return false
		}
	}
	return true
}

// emptyRoute returns an empty route of vehicle type t, or nil.
func (s *search) emptyRoute(t int) *route {
	if k := s.emptyOf[t]; k >= 0 && s.routes[k].empty() && s.routes[k].fixedLen == 0 && s.may(k) {
		return s.routes[k]
	}
	if s.emptyOf[t] == -1-s.step {
		return nil // known: none since the last change
	}
	s.emptyOf[t] = -1 - s.step
	for _, r := range s.routes {
		if r.empty() && r.fixedLen == 0 && s.in.vehType[r.v] == t && s.may(r.v) {
			s.emptyOf[t] = r.v
			return r
		}
	}
	return nil
}

// may reports whether the search may change vehicle v's route.
func (s *search) may(v int) bool { return s.allowed == nil || s.allowed[v] }

// routeOf returns the route of node x, or nil if x is unassigned.
func (s *search) routeOf(x int32) *route {
	if r := s.nodeRoute[x]; r >= 0 {
		return s.routes[r]
	}
	return nil
}

// nodeOp is a move defined by two nodes, U and V (one per file).
type nodeOp interface {
	// evaluate returns the change of penalised cost, or infCost if the move
	// does not apply.
	evaluate(s *search, u, v int32) int64
	apply(s *search, u, v int32)
}

// load puts the routes of an individual into s.
func (s *search) load(ind *individual) {
	in := s.in
	for i := range s.nodeRoute {
		s.nodeRoute[i] = -1
	}
	s.step++
	for v, r := range s.routes {
		r.nodes = append(r.nodes[:0], int32(in.n+2*v))
		r.nodes = append(r.nodes, ind.routes[v]...)
		r.nodes = append(r.nodes, int32(in.n+2*v+1))
		s.update(r)
	}
}

// export writes the current routes into ind and evaluates it.
func (s *search) export(ind *individual) {
	for v, r := range s.routes {
		ind.routes[v] = append(ind.routes[v][:0], r.nodes[1:len(r.nodes)-1]...)
	}
	ind.evaluate(s.in)
}

// setPenalties changes the weights and refreshes the cached route costs.
func (s *search) setPenalties(p penalties) {
	s.pen = p
	for _, r := range s.routes {
		s.refreshCost(r)
	}
}

func (s *search) totalPenalized() int64 {
	var t int64
	for _, r := range s.routes {
		t += r.penalized
	}
	for j := 0; j < s.in.n; j++ {
		if s.nodeRoute[j] < 0 && s.in.active[j] {
			t += s.in.prize[j]
		}
	}
	return t
}
