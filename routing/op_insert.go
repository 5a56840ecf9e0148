package routing

// Inserting an unassigned job and removing an optional one. The prize of a
// job is what leaving it unassigned costs (its penalty, or a value above
// any route plan for a required job).

// insertPlan writes into s.planA the route of v with job u inserted after
// position p.
func (s *search) insertPlan(u int32, r *route, p int) {
	s.single.scratch = true
	s.single.nodes = append(s.single.nodes[:0], u)
	s.singleUpdate(u)
	s.single.prof, s.single.m = r.prof, r.m
	s.planA.reset(r.v)
	s.planA.add(r, 0, p)
	s.planA.add(&s.single, 0, 0)
	s.planA.add(r, p+1, r.last())
}

// singleUpdate prepares the scratch route holding only job u.
func (s *search) singleUpdate(u int32) {
	in := s.in
	r := &s.single
	r.cumCost = grow(r.cumCost, 1)
	r.cumCost[0] = 0
	r.locs = append(r.locs[:0], in.nodeLoc[u])
	r.cumDist = r.cumCost
	r.cumLoad = grow(r.cumLoad, in.D)
	copy(r.cumLoad, in.demand[int(u)*in.D:int(u+1)*in.D])
	if in.hasTime {
		r.fwd = growSeg(r.fwd, 1)
		r.bwd = growSeg(r.bwd, 1)
		r.bwdJ = growSeg(r.bwdJ, 1)
		r.fwd[0] = nodeSeg(in, u)
		r.bwd[0], r.bwdJ[0] = r.fwd[0], r.fwd[0]
	}
}

// insertDelta is the change of penalised cost when unassigned job u goes
// after position p of r. It is O(1): the travel cost and distance by three
// matrix reads, the load from the route's total, the time windows by
// merging the forward segment up to p, u, and the backward segment from
// p+1 (the same figures planCost computes for insertPlan's plan).
func (s *search) insertDelta(u int32, r *route, p int) int64 {
	c := s.insertedCost(u, r, p)
	if c >= infCost {
		return infCost
	}
	return c - r.penalized - s.in.prize[u]
}

// insertedCost is the penalised cost of r with job u inserted after
// position p.
func (s *search) insertedCost(u int32, r *route, p int) int64 {
	in := s.in
	m := r.m
	L := r.last()
	a, b, lu := r.locs[p], r.locs[p+1], in.nodeLoc[u]
	cost := r.cumCost[L] + m.c(a, lu) + m.c(lu, b) - m.c(a, b)
	dist := cost
	if !m.distIsCost {
		dist = r.cumDist[L] + m.d(a, lu) + m.d(lu, b) - m.d(a, b)
	}
	D := in.D
	load := s.loadBuf
	for d := 0; d < D; d++ {
		load[d] = r.cumLoad[L*D+d] + in.demand[int(u)*D+d]
	}
	var tw twSeg
	if in.hasTime {
		tw = merge(merge(r.fwd[p], m.t(a, lu), nodeSeg(in, u)), m.t(lu, b), r.bwd[p+1])
	}
	return s.routeCost(r.v, cost, load, tw, dist, r.jobs()+1)
}

// tryInsert inserts unassigned job u at its best position next to its
// neighbours or in an empty route, if that lowers the penalised cost.
func (s *search) tryInsert(u int32) bool {
	best := int64(0)
	var br *route
	bp := -1
	try := func(r *route, p int) {
		if p < r.fixedLen || p >= r.last() || !s.in.compatible(u, r.v) {
			return
		}
		if d := s.insertDelta(u, r, p); d < best {
			best, br, bp = d, r, p
		}
	}
	for _, v := range s.nbr[u] {
		r := s.routeOf(v)
		if r == nil {
			continue
		}
		p := int(s.nodePos[v])
		try(r, p)
		try(r, p-1)
	}
	if br == nil {
		for t := range s.emptyOf {
			if r := s.emptyRoute(t); r != nil {
				try(r, 0)
			}
		}
	}
	if br == nil {
		// Last resort: every route (keeps required jobs in the search).
		for _, r := range s.routes {
			if !r.empty() || r.fixedLen > 0 {
				for p := r.fixedLen; p < r.last(); p++ {
					try(r, p)
				}
			}
		}
	}
	if br == nil {
		return false
	}
	s.insertPlan(u, br, bp)
	s.commit(false)
	return true
}

// tryRemove takes job u out of its route if its prize is lower than what
// it costs to serve.
func (s *search) tryRemove(u int32) bool {
	r := s.routeOf(u)
	p := int(s.nodePos[u])
	if r == nil || p <= r.fixedLen {
		return false
	}
	s.planA.reset(r.v)
	s.planA.add(r, 0, p-1)
	s.planA.add(r, p+1, r.last())
	c := s.planCost(&s.planA)
	if c >= infCost || c-r.penalized+s.in.prize[u] >= 0 {
		return false
	}
	s.commit(false)
	s.nodeRoute[u] = -1
	return true
}

// cheapestInsertion returns where u costs least (insert after position p
// of route r) among the routes u may use that keep accepts (nil: all); r is
// nil when no place costs less than infCost (strict: none is feasible).
func (s *search) cheapestInsertion(u int32, keep func(*route) bool) (*route, int) {
	best := infCost
	var br *route
	bp := -1
	for _, r := range s.routes {
		if !s.in.compatible(u, r.v) || keep != nil && !keep(r) {
			continue
		}
		if s.strict && !r.empty() {
			if p, d := s.strictInsertion(u, r, best); p >= 0 {
				best, br, bp = d, r, p
			}
			continue
		}
		for p := r.fixedLen; p < r.last(); p++ {
			if s.blink > 0 && s.rng.Float64() < s.blink {
				continue
			}
			if d := s.insertDelta(u, r, p); d < best {
				best, br, bp = d, r, p
			}
		}
	}
	return br, bp
}

// strictInsertion returns the feasible position of r after which job u
// costs least, if that costs less than bound, and its insertDelta; -1 if
// none (strict search, r not empty, hence feasible). Travel first (the
// edge replaced is the route's own cached cost, the edges to u read one
// row of each matrix), then the capacity, time windows and limits of the
// positions that would win. Each position is skipped with probability
// s.blink.
func (s *search) strictInsertion(u int32, r *route, bound int64) (int, int64) {
	in := s.in
	vd := &in.veh[r.v]
	L := r.last()
	if r.penalized >= infCost || vd.maxStops > 0 && r.jobs()+1 > vd.maxStops {
		return -1, 0
	}
	D := in.D
	for d := 0; d < D; d++ {
		if r.cumLoad[L*D+d]+in.demand[int(u)*D+d] > vd.cap[d] {
			return -1, 0
		}
	}
	m := r.m
	lu := in.nodeLoc[u]
	prize := in.prize[u]
	su := nodeSeg(in, u)
	bp := -1
	bound += prize // compare travel deltas
	for p := r.fixedLen; p < L; p++ {
		a, b := r.locs[p], r.locs[p+1]
		dc := m.cTo(a, lu) + m.c(lu, b) - (r.cumCost[p+1] - r.cumCost[p])
		if dc >= bound {
			continue
		}
		if in.hasTime {
			tw := merge(merge(r.fwd[p], m.t(a, lu), su), m.t(lu, b), r.bwd[p+1])
			if tw.tw > 0 || tw.dur > vd.maxDur {
				continue
			}
		}
		if in.hasDistLimit && r.cumDist[L]+m.d(a, lu)+m.d(lu, b)-m.d(a, b) > vd.maxDist {
			continue
		}
		if s.blink > 0 && s.rng.Float64() < s.blink {
			continue
		}
		bound, bp = dc, p
	}
	return bp, bound - prize
}
