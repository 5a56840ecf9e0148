package routing

// twoOptStar exchanges the tails of two routes after U and after V (V may
// be a start depot): route(U) keeps its head up to U and takes V's tail,
// route(V) keeps its head up to V and takes U's tail. Each route keeps its
// own end depot.
type twoOptStar struct{}

func (twoOptStar) plan(s *search, u, v int32) bool {
	ru, rv := s.routeOf(u), s.routeOf(v)
	if ru == nil || rv == nil || ru == rv {
		return false
	}
	i, j := int(s.nodePos[u]), int(s.nodePos[v])
	if i < ru.fixedLen || j < rv.fixedLen || i >= ru.last() || j >= rv.last() {
		return false
	}
	if !s.tailCompatible(rv, j+1, rv.last()-1, ru.v) || !s.tailCompatible(ru, i+1, ru.last()-1, rv.v) {
		return false
	}
	s.planA.reset(ru.v)
	s.planA.add(ru, 0, i)
	s.planA.addIf(rv, j+1, rv.last()-1)
	s.planA.add(ru, ru.last(), ru.last())
	s.planB.reset(rv.v)
	s.planB.add(rv, 0, j)
	s.planB.addIf(ru, i+1, ru.last()-1)
	s.planB.add(rv, rv.last(), rv.last())
	return true
}

func (op twoOptStar) evaluate(s *search, u, v int32) int64 {
	if !op.plan(s, u, v) {
		return infCost
	}
	a := s.planCost(&s.planA)
	if a >= infCost {
		return infCost
	}
	b := s.planCost(&s.planB)
	if b >= infCost {
		return infCost
	}
	return a + b - s.routes[s.planA.v].penalized - s.routes[s.planB.v].penalized
}

func (op twoOptStar) apply(s *search, u, v int32) {
	if op.plan(s, u, v) {
		s.commit(true)
	}
}
