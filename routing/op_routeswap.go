package routing

// Route swaps: vehicle A takes vehicle B's whole route and B takes A's
// (one of the two may be empty). With vehicles of different types (travel
// profile, capacity, shift, fixed cost, ...) this re-assigns routes to
// vehicles, which no node move does in one step: a walker's route handed
// to an idle car, or a van's and a bike's routes exchanged. Each plan is
// evaluated in O(1) under its new vehicle's profile.

// swapRoutesPlan fills planA and planB for the exchange of r1's and r2's
// jobs; it reports false when the move does not apply.
func (s *search) swapRoutesPlan(r1, r2 *route) bool {
	if r1.fixedLen > 0 || r2.fixedLen > 0 || (r1.empty() && r2.empty()) {
		return false
	}
	if !s.tailCompatible(r1, 1, r1.last()-1, r2.v) || !s.tailCompatible(r2, 1, r2.last()-1, r1.v) {
		return false
	}
	s.planA.reset(r1.v)
	s.planA.add(r1, 0, 0)
	s.planA.addIf(r2, 1, r2.last()-1)
	s.planA.add(r1, r1.last(), r1.last())
	s.planB.reset(r2.v)
	s.planB.add(r2, 0, 0)
	s.planB.addIf(r1, 1, r1.last()-1)
	s.planB.add(r2, r2.last(), r2.last())
	return true
}

// swapRoutes applies the route swap of r1 and r2 if it lowers the
// penalised cost.
func (s *search) swapRoutes(r1, r2 *route) bool {
	if !s.swapRoutesPlan(r1, r2) {
		return false
	}
	if d := s.evalPlans(true, false); d >= 0 || d >= infCost {
		return false
	}
	s.commit(true)
	return true
}

// tryRouteSwaps tries the route swaps between every non-empty route and
// the routes of the other vehicle types (one empty vehicle per type, and
// none when the search may not open routes), re-testing only pairs whose
// routes changed. Only for heterogeneous fleets.
func (s *search) tryRouteSwaps() bool {
	in := s.in
	improved := false
	for _, r1 := range s.routes {
		if r1.empty() || r1.fixedLen > 0 || !s.may(r1.v) {
			continue
		}
		last := s.routeSwapTested[r1.v]
		s.routeSwapTested[r1.v] = s.step
		t1 := in.vehType[r1.v]
		for _, r2 := range s.routes {
			if r1.empty() {
				break
			}
			t2 := in.vehType[r2.v]
			if t2 == t1 || r2.fixedLen > 0 || !s.may(r2.v) || max(r1.modified, r2.modified) <= last {
				continue
			}
			if r2.empty() {
				if s.noGrow || s.emptyRoute(t2) != r2 {
					continue
				}
			} else if r2.v < r1.v {
				continue // the pair was tried from r2's side
			}
			if s.swapRoutes(r1, r2) {
				improved = true
			}
		}
	}
	return improved
}
