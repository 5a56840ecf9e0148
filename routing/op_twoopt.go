package routing

// twoOpt reverses the part of a route strictly after U up to and including
// V (U before V in the same route): edges (U,X) and (V,Y) become (U,V)
// and (X,Y). U may be the start depot.
type twoOpt struct{}

func (twoOpt) plan(s *search, u, v int32) bool {
	ru, rv := s.routeOf(u), s.routeOf(v)
	if ru == nil || ru != rv {
		return false
	}
	i, j := int(s.nodePos[u]), int(s.nodePos[v])
	if i < ru.fixedLen || j <= i+1 || j >= ru.last() {
		return false
	}
	s.planA.reset(ru.v)
	s.planA.add(ru, 0, i)
	s.planA.addRev(ru, i+1, j)
	s.planA.add(ru, j+1, ru.last())
	return true
}

func (op twoOpt) evaluate(s *search, u, v int32) int64 {
	if !op.plan(s, u, v) {
		return infCost
	}
	return s.evalPlans(false, false)
}

func (op twoOpt) apply(s *search, u, v int32) {
	if op.plan(s, u, v) {
		s.commit(false)
	}
}
