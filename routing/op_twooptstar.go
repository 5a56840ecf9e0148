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
	if !s.noPrune && op.prune(s, u, v) {
		return infCost
	}
	if !op.plan(s, u, v) {
		return infCost
	}
	return s.evalPlans(true, false)
}

// prune reports whether the travel and fixed cost change alone, minus the
// current penalties of both routes, is not negative.
func (twoOptStar) prune(s *search, u, v int32) bool {
	ru, rv := s.routeOf(u), s.routeOf(v)
	if ru == nil || rv == nil || ru == rv {
		return false
	}
	in := s.in
	i, j := int(s.nodePos[u]), int(s.nodePos[v])
	Lu, Lv := ru.last(), rv.last()
	if i >= Lu || j >= Lv {
		return false
	}
	loc := func(r *route, p int) int32 { return r.locs[p] }
	// head of r up to p, then the jobs of o after q, then r's end depot,
	// all under r's travel profile
	tail := func(r *route, p int, o *route, q int) (int64, int) {
		L, Lo := r.last(), o.last()
		m := r.m
		if q+1 > Lo-1 {
			return r.cumCost[p] + m.c(loc(r, p), loc(r, L)), p
		}
		oc := o.cumCost
		if o.m != m {
			oc = o.alt[r.prof].cumCost
		}
		return r.cumCost[p] + m.c(loc(r, p), loc(o, q+1)) + oc[Lo-1] - oc[q+1] + m.c(loc(o, Lo-1), loc(r, L)),
			p + Lo - 1 - q
	}
	a, ja := tail(ru, i, rv, j)
	b, jb := tail(rv, j, ru, i)
	if ja > 0 {
		a += in.veh[ru.v].fixedCost
	}
	if jb > 0 {
		b += in.veh[rv.v].fixedCost
	}
	return a+b >= ru.penalized+rv.penalized
}

func (op twoOptStar) apply(s *search, u, v int32) {
	if op.plan(s, u, v) {
		s.commit(true)
	}
}
