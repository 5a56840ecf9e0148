package routing

// twoOptStarRev is the other tail exchange (HGS's move 8): edges (U,X) and
// (V,Y) of two routes become (U,V) and (X,Y). Route(U) keeps its head up
// to U and continues with V's head reversed (V back to V's first job);
// route(V) starts with U's tail reversed (U's last job back to X) and
// continues with V's tail from Y. V may be a start depot.
type twoOptStarRev struct{}

func (twoOptStarRev) plan(s *search, u, v int32) bool {
	ru, rv := s.routeOf(u), s.routeOf(v)
	if ru == nil || rv == nil || ru == rv {
		return false
	}
	i, j := int(s.nodePos[u]), int(s.nodePos[v])
	Lu, Lv := ru.last(), rv.last()
	if i < ru.fixedLen || i >= Lu || j >= Lv || rv.fixedLen > 0 {
		return false
	}
	if !s.tailCompatible(rv, 1, j, ru.v) || !s.tailCompatible(ru, i+1, Lu-1, rv.v) {
		return false
	}
	s.planA.reset(ru.v)
	s.planA.add(ru, 0, i)
	if j >= 1 {
		s.planA.addRev(rv, 1, j)
	}
	s.planA.add(ru, Lu, Lu)
	s.planB.reset(rv.v)
	s.planB.add(rv, 0, 0)
	if i+1 <= Lu-1 {
		s.planB.addRev(ru, i+1, Lu-1)
	}
	s.planB.add(rv, j+1, Lv)
	return true
}

func (op twoOptStarRev) evaluate(s *search, u, v int32) int64 {
	if !op.plan(s, u, v) {
		return infCost
	}
	return s.evalPlans(true, false)
}

func (op twoOptStarRev) apply(s *search, u, v int32) {
	if op.plan(s, u, v) {
		s.commit(true)
	}
}
