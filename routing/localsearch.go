package routing

import "time"

// run applies improving moves until none is left (a local optimum of the
// granular neighbourhood), first improvement, in the style of HGS-CVRP:
// for every job U in random order and every neighbour V, the node
// operators; moves into an empty route from the second loop on; inserting
// unassigned jobs and removing optional ones; then SWAP* between routes
// whose sectors overlap; with vehicles of several types, route swaps. A pair is only re-tested when one of its routes
// changed since.
func (s *search) run() {
	in := s.in
	s.rng.Shuffle(len(s.order), func(a, b int) { s.order[a], s.order[b] = s.order[b], s.order[a] })
	for _, u := range s.order {
		if len(s.nbr[u]) > 1 && s.rng.IntN(8) == 0 {
			nb := s.nbr[u]
			s.rng.Shuffle(len(nb), func(a, b int) { nb[a], nb[b] = nb[b], nb[a] })
		}
	}
	if !s.incremental {
		for j := range s.lastTested {
			s.lastTested[j] = -1
		}
		for v := range s.swapTested {
			s.swapTested[v] = -1
			s.routeSwapTested[v] = -1
		}
	}
	for t := range s.emptyOf {
		s.emptyOf[t] = -1
	}
	routeOrder := make([]int, 0, len(s.routes))
	for loop := 0; ; loop++ {
		improved := false
		for k, u := range s.order {
			if k&63 == 63 && !s.deadline.IsZero() && time.Now().After(s.deadline) {
				return
			}
			lastTest := s.lastTested[u]
			s.lastTested[u] = s.step
			if s.nodeRoute[u] >= 0 && !s.may(int(s.nodeRoute[u])) {
				continue
			}
			if s.nodeRoute[u] < 0 {
				if !s.noGrow && s.tryInsert(u) {
					improved = true
				}
				continue
			}
			for _, v := range s.nbr[u] {
				if s.nodeRoute[v] < 0 || s.nodeRoute[u] < 0 || !s.may(int(s.nodeRoute[v])) {
					continue
				}
				ru, rv := s.routes[s.nodeRoute[u]], s.routes[s.nodeRoute[v]]
				if max(ru.modified, rv.modified) <= lastTest {
					continue
				}
				if s.tryOps(u, v) {
					improved = true
					continue
				}
				// V's predecessor is the start depot: also try after the depot.
				if s.nodePos[v] == 1 {
					if s.tryDepotOps(u, int32(in.n+2*rv.v)) {
						improved = true
					}
				}
			}
			if s.nodeRoute[u] < 0 {
				continue
			}
			if loop > 0 && !s.noGrow {
				for t := range s.emptyOf {
					r := s.emptyRoute(t)
					if r == nil || int(s.nodeRoute[u]) == r.v || !in.compatible(u, r.v) {
						continue
					}
					if s.tryDepotOps(u, int32(in.n+2*r.v)) {
						improved = true
						break
					}
				}
			}
			if in.weight[u] == 0 && s.tryRemove(u) {
				improved = true
			}
		}
		if s.useSwapStar {
			routeOrder = routeOrder[:0]
			for v, r := range s.routes {
				if !r.empty() {
					routeOrder = append(routeOrder, v)
				}
			}
			s.rng.Shuffle(len(routeOrder), func(a, b int) { routeOrder[a], routeOrder[b] = routeOrder[b], routeOrder[a] })
			for x, a := range routeOrder {
				r1 := s.routes[a]
				last := s.swapTested[a]
				s.swapTested[a] = s.step
				for _, b := range routeOrder[x+1:] {
					r2 := s.routes[b]
					if !s.may(a) || !s.may(b) {
						continue
					}
					if r1.empty() || r2.empty() || max(r1.modified, r2.modified) <= last {
						continue
					}
					if !sectorsOverlap(r1, r2, 0) {
						continue
					}
					if s.swapStar(r1, r2) {
						improved = true
					}
				}
			}
		}
		if in.nTypes > 1 && s.tryRouteSwaps() {
			improved = true
		}
		if !improved {
			return
		}
	}
}

// tryOps applies the first improving node operator for (U, V).
func (s *search) tryOps(u, v int32) bool {
	for _, op := range s.ops {
		if d := op.evaluate(s, u, v); d < 0 {
			op.apply(s, u, v)
			return true
		}
	}
	return false
}

// tryDepotOps tries the operators that make sense with V a start depot.
func (s *search) tryDepotOps(u, depot int32) bool {
	for _, op := range s.ops {
		switch o := op.(type) {
		case exchange:
			if o.m > 0 {
				continue
			}
		case twoOptStar, twoOptStarRev:
		default:
			continue
		}
		if d := op.evaluate(s, u, depot); d < 0 {
			op.apply(s, u, depot)
			return true
		}
	}
	return false
}
