package routing

import (
	"cmp"
	"math/rand/v2"
	"slices"
)

// construct builds a fast first solution: Clarke-Wright savings for
// capacity-only problems with identical vehicles; otherwise (time windows,
// mixed fleets, skills, fixed stops) both regret insertion and sequential
// cheapest insertion, keeping the better (fewer unassigned, then cost).
// Both insert among granular neighbours with constant-time feasibility
// through the time segments; each wins on about half of the Solomon set,
// and together they cost a few milliseconds per hundred jobs. Jobs that fit
// nowhere stay unassigned. It returns nil when there is nothing to route.
func construct(in *inst) *individual {
	if in.n == 0 {
		return nil
	}
	if !in.hasTime && !in.hasDistLimit && in.nTypes == 1 && len(in.veh[0].fixedJobs) == 0 && in.allCompat {
		ind := savings(in)
		ind.evaluate(in)
		return ind
	}
	ind := insertion(in)
	ind.evaluate(in)
	alt := regretInsertion(in)
	alt.evaluate(in)
	if alt.weight < ind.weight || alt.weight == ind.weight && alt.cost() < ind.cost() {
		return alt
	}
	return ind
}

// savings is the parallel Clarke-Wright heuristic over neighbour pairs
// (identical vehicles: one travel profile).
func savings(in *inst) *individual {
	vd := &in.veh[0]
	D := in.D
	type link struct {
		save int64
		i, j int32
	}
	var links []link
	for i := int32(0); int(i) < in.n; i++ {
		if !in.active[i] {
			continue
		}
		li := in.nodeLoc[i]
		for _, j := range in.neighbors[i] {
			lj := in.nodeLoc[j]
			links = append(links, link{vd.m.c(li, vd.end) + vd.m.c(vd.start, lj) - vd.m.c(li, lj), i, j})
		}
	}
	slices.SortStableFunc(links, func(a, b link) int {
		if c := cmp.Compare(b.save, a.save); c != 0 {
			return c
		}
		if c := cmp.Compare(a.i, b.i); c != 0 {
			return c
		}
		return cmp.Compare(a.j, b.j)
	})
	// Each job starts alone; routes are linked lists with a head.
	next := make([]int32, in.n)
	head := make([]int32, in.n) // route id = head job
	tail := make([]int32, in.n)
	load := make([]int64, in.n*D)
	stops := make([]int, in.n)
	for j := int32(0); int(j) < in.n; j++ {
		next[j], head[j], tail[j] = -1, j, j
		copy(load[int(j)*D:], in.demand[int(j)*D:int(j+1)*D])
		stops[j] = 1
	}
	for _, l := range links {
		if l.save <= 0 {
			break
		}
		hi, hj := head[l.i], head[l.j]
		if hi == hj || tail[hi] != l.i || hj != l.j {
			continue
		}
		ok := vd.maxStops == 0 || stops[hi]+stops[hj] <= vd.maxStops
		for d := 0; d < D && ok; d++ {
			ok = load[int(hi)*D+d]+load[int(hj)*D+d] <= vd.cap[d]
		}
		if !ok {
			continue
		}
		next[l.i] = l.j
		tail[hi] = tail[hj]
		for d := 0; d < D; d++ {
			load[int(hi)*D+d] += load[int(hj)*D+d]
		}
		stops[hi] += stops[hj]
		for x := l.j; x >= 0; x = next[x] {
			head[x] = hi
		}
	}
	ind := newIndividual(in)
	v := 0
	for j := int32(0); int(j) < in.n && v < in.nv; j++ {
		if !in.active[j] || head[j] != j {
			continue
		}
		for x := j; x >= 0; x = next[x] {
			ind.routes[v] = append(ind.routes[v], x)
		}
		v++
	}
	return ind
}

// insertion builds routes one vehicle at a time: a seed job (the most
// urgent, or the farthest), then the cheapest feasible insertion among the
// unrouted neighbours of the route's jobs, until nothing fits.
func insertion(in *inst) *individual {
	s, ind, routed, left := startConstruction(in)
	mark := make([]int, in.n)
	stamp := 0
	var cands []int32
	for v := 0; v < in.nv && left > 0; v++ {
		r := s.routes[v]
		if r.jobs() == 0 {
			// seed
			seed := int32(-1)
			var key int64
			for j := int32(0); int(j) < in.n; j++ {
				if routed[j] || !in.compatible(j, v) {
					continue
				}
				k := -in.veh[v].m.c(in.veh[v].start, in.nodeLoc[j]) // farthest first
				if in.hasTime {
					k = in.nodeL[j]
				}
				if seed < 0 || k < key {
					seed, key = j, k
				}
			}
			if seed < 0 {
				continue
			}
			if s.insertDelta(seed, r, 0) >= infCost/2 {
				continue
			}
			s.insertPlan(seed, r, 0)
			s.commit(false)
			routed[seed] = true
			left--
		}
		for left > 0 {
			stamp++
			cands = cands[:0]
			for _, x := range r.nodes[1:r.last()] {
				for _, u := range in.neighbors[x] {
					if !routed[u] && mark[u] != stamp && in.compatible(u, v) {
						mark[u] = stamp
						cands = append(cands, u)
					}
				}
			}
			bu, bp := int32(-1), -1
			var bd int64
			for _, u := range cands {
				for p := r.fixedLen; p < r.last(); p++ {
					d := s.insertDelta(u, r, p)
					if d < infCost/2 && (bu < 0 || d < bd) {
						bu, bp, bd = u, p, d
					}
				}
			}
			if bu < 0 {
				break
			}
			s.insertPlan(bu, r, bp)
			s.commit(false)
			routed[bu] = true
			left--
		}
	}
	placeRest(s, routed)
	s.strict = false
	s.export(ind)
	return ind
}

// regretInsertion builds the routes in parallel by regret insertion
// (Potvin and Rousseau, 1993): a few routes are opened on seeds spread
// over the map, then, over and over, the unrouted job with the largest
// regret (the cost of its second best route minus its best) goes to its
// best place. A job that has a place in one route only is the most urgent.
// Places are granular: a job is tried next to its neighbours, so each
// insertion re-evaluates only the changed route, near its jobs. When no
// job has a place, the next vehicle opens on a new seed. Jobs still
// unrouted when the vehicles run out get a last, exhaustive attempt.
func regretInsertion(in *inst) *individual {
	s, ind, routed, left := startConstruction(in)
	nComp := make([]int, in.n) // vehicles a job may go on
	for j := 0; j < in.n; j++ {
		for v := 0; v < in.nv && !in.allCompat; v++ {
			if in.compatible(int32(j), v) {
				nComp[j]++
			}
		}
	}
	type place struct {
		v    int32
		p    int32
		cost int64
	}
	places := make([][]place, in.n)   // per job: its best place in each open route where it has one
	touched := make([][]int32, in.nv) // per route: the jobs that have a place in it
	bestC := make([]int64, in.n)
	bestP := make([]int32, in.n)
	mark := make([]int, in.n)
	stamp := 0
	var found []int32

	// evalRoute recomputes the places of the unrouted jobs in route v.
	evalRoute := func(v int) {
		for _, u := range touched[v] {
			ps := places[u]
			for i := range ps {
				if int(ps[i].v) == v {
					ps[i] = ps[len(ps)-1]
					places[u] = ps[:len(ps)-1]
					break
				}
			}
		}
		touched[v] = touched[v][:0]
		r := s.routes[v]
		stamp++
		found = found[:0]
		for q := 1; q < r.last(); q++ {
			for _, u := range in.neighbors[r.nodes[q]] {
				if routed[u] || !in.compatible(u, v) {
					continue
				}
				for p := q - 1; p <= q; p++ {
					if p < r.fixedLen {
						continue
					}
					d := s.insertDelta(u, r, p)
					if d >= infCost/2 {
						continue
					}
					if mark[u] != stamp {
						mark[u] = stamp
						found = append(found, u)
						bestC[u], bestP[u] = d, int32(p)
					} else if d < bestC[u] {
						bestC[u], bestP[u] = d, int32(p)
					}
				}
			}
		}
		for _, u := range found {
			places[u] = append(places[u], place{int32(v), bestP[u], bestC[u]})
			touched[v] = append(touched[v], u)
		}
	}

	opened := make([]bool, in.nv)
	var seeds []int32 // locations of the seeds so far, to spread new ones
	// open starts vehicle v on the unrouted job it can serve that lies
	// farthest from its start and from the other seeds.
	open := func(v int) bool {
		opened[v] = true
		r := s.routes[v]
		if r.jobs() > 0 {
			evalRoute(v)
			return true
		}
		vd := &in.veh[v]
		seed := int32(-1)
		var key int64
		for j := int32(0); int(j) < in.n; j++ {
			if routed[j] || !in.compatible(j, v) {
				continue
			}
			k := vd.m.c(vd.start, in.nodeLoc[j])
			for _, l := range seeds {
				k = min(k, vd.m.c(l, in.nodeLoc[j]))
			}
			k = -k
			if (seed < 0 || k < key) && s.insertDelta(j, r, 0) < infCost/2 {
				seed, key = j, k
			}
		}
		if seed < 0 {
			return false
		}
		s.insertPlan(seed, r, 0)
		s.commit(false)
		routed[seed] = true
		left--
		seeds = append(seeds, in.nodeLoc[seed])
		evalRoute(v)
		return true
	}
	// fresh[u] is the cost of serving u alone on the next vehicle to open:
	// a job's alternative when it has one place only.
	fresh := make([]int64, in.n)
	nextVehicle := 0
	priceFresh := func() {
		for nextVehicle < in.nv && opened[nextVehicle] {
			nextVehicle++
		}
		for u := range fresh {
			fresh[u] = infCost
			if nextVehicle < in.nv && !routed[u] && in.compatible(int32(u), nextVehicle) {
				fresh[u] = min(infCost, s.insertDelta(int32(u), s.routes[nextVehicle], 0))
			}
		}
	}
	openNext := func() bool {
		for ; nextVehicle < in.nv; nextVehicle++ {
			if !opened[nextVehicle] && open(nextVehicle) {
				priceFresh()
				return true
			}
		}
		return false
	}

	// The routes with fixed jobs are open from the start, and as many
	// more as the total demand needs at least.
	for v := 0; v < in.nv; v++ {
		if s.routes[v].jobs() > 0 {
			open(v)
		}
	}
	for k := regretRoutes(in) - len(seeds); k > 0 && left > 0; k-- {
		if !openNext() {
			break
		}
	}
	priceFresh()

	for left > 0 {
		bu := int32(-1)
		var bPrio, bRegret, bCost int64
		var bPlace place
		for u := int32(0); int(u) < in.n; u++ {
			if routed[u] || len(places[u]) == 0 {
				continue
			}
			first, second := place{cost: infCost}, place{cost: fresh[u]}
			for _, pl := range places[u] {
				if pl.cost < first.cost {
					first, second = pl, first
				} else if pl.cost < second.cost {
					second = pl
				}
			}
			regret := second.cost - first.cost
			// Higher priority first, then the jobs fewer vehicles may
			// take (skills), then the largest regret, then the cheapest.
			prio := in.weight[u]*int64(in.nv+1) - int64(nComp[u])
			if bu < 0 || prio > bPrio || prio == bPrio && (regret > bRegret || regret == bRegret && first.cost < bCost) {
				bu, bPrio, bRegret, bCost, bPlace = u, prio, regret, first.cost, first
			}
		}
		if bu < 0 {
			if !openNext() {
				break
			}
			continue
		}
		v := int(bPlace.v)
		s.insertPlan(bu, s.routes[v], int(bPlace.p))
		s.commit(false)
		routed[bu] = true
		left--
		places[bu] = nil
		evalRoute(v)
	}

	placeRest(s, routed)
	s.strict = false
	s.export(ind)
	return ind
}

// regretRoutes is a lower bound on the routes the jobs need by their
// demand, given the largest vehicle capacity of each dimension.
func regretRoutes(in *inst) int {
	k := 1
	for d := 0; d < in.D; d++ {
		var total, capMax int64
		for j := 0; j < in.n; j++ {
			if in.active[j] {
				total += in.demand[j*in.D+d]
			}
		}
		for v := range in.veh {
			capMax = max(capMax, in.veh[v].cap[d])
		}
		if capMax > 0 && total > 0 {
			k = max(k, int((total+capMax-1)/capMax))
		}
	}
	return min(k, in.nv)
}

// startConstruction returns a strict search loaded with the fixed jobs
// only, its individual, which jobs count as routed already (fixed or
// impossible ones) and how many are left to route.
func startConstruction(in *inst) (s *search, ind *individual, routed []bool, left int) {
	s = newSearch(in, rand.New(rand.NewPCG(1, 2)))
	s.strict = true
	ind = newIndividual(in)
	for v := range ind.routes {
		ind.routes[v] = append(ind.routes[v], in.veh[v].fixedJobs...)
	}
	ind.evaluate(in)
	s.load(ind)
	routed = make([]bool, in.n)
	for j := 0; j < in.n; j++ {
		if in.active[j] {
			left++
		} else {
			routed[j] = true
		}
	}
	return s, ind, routed, left
}

// placeRest inserts the jobs that found no place near their neighbours
// wherever they fit best, on any route (an exhaustive, last attempt).
func placeRest(s *search, routed []bool) {
	for u := int32(0); int(u) < s.in.n; u++ {
		if routed[u] {
			continue
		}
		if r, p := s.cheapestInsertion(u, nil); r != nil {
			s.insertPlan(u, r, p)
			s.commit(false)
			routed[u] = true
		}
	}
}
