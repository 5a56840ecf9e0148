package routing

// exchange moves the n consecutive jobs starting at U and, when m > 0,
// the m consecutive jobs starting at V in their place (PyVRP's Exchange<N,
// M>): (1,0) is relocate, (2,0) and (3,0) are or-opt, (1,1) is swap,
// (2,1) and (2,2) are cross-exchanges of short strings. With m == 0 the
// jobs of U go right after V, which may be a start depot.
//
// With rev (and m == 0) the moved jobs are inserted in reverse order
// (HGS's move 3: U X after V becomes V X U).
type exchange struct {
	n, m int
	rev  bool
}

// plan fills s.planA (and s.planB when U and V are in different routes).
// It returns 0 when the move does not apply, 1 or 2 for the plans used.
func (op exchange) plan(s *search, u, v int32) int {
	ru, rv := s.routeOf(u), s.routeOf(v)
	if ru == nil || rv == nil {
		return 0
	}
	i, j := int(s.nodePos[u]), int(s.nodePos[v])
	n, m := op.n, op.m
	if ru != rv {
		if !s.movable(ru, i, i+n-1, rv.v) {
			return 0
		}
		if m == 0 {
			if j < rv.fixedLen || j >= rv.last() {
				return 0
			}
			s.planA.reset(ru.v)
			s.planA.add(ru, 0, i-1)
			s.planA.add(ru, i+n, ru.last())
			s.planB.reset(rv.v)
			s.planB.add(rv, 0, j)
			if op.rev {
				s.planB.addRev(ru, i, i+n-1)
			} else {
				s.planB.add(ru, i, i+n-1)
			}
			s.planB.add(rv, j+1, rv.last())
			return 2
		}
		if !s.movable(rv, j, j+m-1, ru.v) {
			return 0
		}
		s.planA.reset(ru.v)
		s.planA.add(ru, 0, i-1)
		s.planA.add(rv, j, j+m-1)
		s.planA.add(ru, i+n, ru.last())
		s.planB.reset(rv.v)
		s.planB.add(rv, 0, j-1)
		s.planB.add(ru, i, i+n-1)
		s.planB.add(rv, j+m, rv.last())
		return 2
	}
	r := ru
	if !s.movable(r, i, i+n-1, r.v) {
		return 0
	}
	L := r.last()
	s.planA.reset(r.v)
	if m == 0 {
		if j < r.fixedLen || j >= L || (j >= i-1 && j <= i+n-1) {
			return 0
		}
		seg := func() {
			if op.rev {
				s.planA.addRev(r, i, i+n-1)
			} else {
				s.planA.add(r, i, i+n-1)
			}
		}
		if j < i {
			s.planA.add(r, 0, j)
			seg()
			s.planA.add(r, j+1, i-1)
			s.planA.add(r, i+n, L)
		} else {
			s.planA.add(r, 0, i-1)
			s.planA.add(r, i+n, j)
			seg()
			s.planA.add(r, j+1, L)
		}
		return 1
	}
	if !s.movable(r, j, j+m-1, r.v) {
		return 0
	}
	switch {
	case j+m-1 < i:
		s.planA.add(r, 0, j-1)
		s.planA.add(r, i, i+n-1)
		s.planA.addIf(r, j+m, i-1)
		s.planA.add(r, j, j+m-1)
		s.planA.add(r, i+n, L)
	case i+n-1 < j:
		s.planA.add(r, 0, i-1)
		s.planA.add(r, j, j+m-1)
		s.planA.addIf(r, i+n, j-1)
		s.planA.add(r, i, i+n-1)
		s.planA.add(r, j+m, L)
	default:
		return 0
	}
	return 1
}

func (op exchange) evaluate(s *search, u, v int32) int64 {
	if !s.noPrune && op.prune(s, u, v) {
		return infCost
	}
	k := op.plan(s, u, v)
	if k == 0 {
		return infCost
	}
	return s.evalPlans(k == 2, op.m == 0)
}

// prune reports whether the move between two different routes cannot
// improve: its travel and fixed cost change alone, minus the penalties
// the two routes pay now, is not negative (HGS's early exit). Six matrix
// reads, no plan.
func (op exchange) prune(s *search, u, v int32) bool {
	ru, rv := s.routeOf(u), s.routeOf(v)
	if ru == nil || rv == nil || ru == rv {
		return false
	}
	in := s.in
	i, j := int(s.nodePos[u]), int(s.nodePos[v])
	n, m := op.n, op.m
	if i+n > ru.last() || j+m > rv.last() || (m > 0 && j == 0) {
		return false // plan rejects it
	}
	loc := func(r *route, p int) int32 { return r.locs[p] }
	P, U1, Un, X := loc(ru, i-1), loc(ru, i), loc(ru, i+n-1), loc(ru, i+n)
	var d int64
	jobsA, jobsB := ru.jobs()-n+m, rv.jobs()+n-m
	mu, mv := ru.m, rv.m // each route's own travel profile
	switch {
	case m == 0 && op.rev:
		if !in.symmetric {
			return false
		}
		V, Y := loc(rv, j), loc(rv, j+1)
		d = mu.c(P, X) - mu.c(P, U1) - mu.c(Un, X) + mv.c(V, Un) + mv.c(U1, Y) - mv.c(V, Y)
	case m == 0:
		V, Y := loc(rv, j), loc(rv, j+1)
		d = mu.c(P, X) - mu.c(P, U1) - mu.c(Un, X) + mv.c(V, U1) + mv.c(Un, Y) - mv.c(V, Y)
	default:
		Q, V1, Vm, Y := loc(rv, j-1), loc(rv, j), loc(rv, j+m-1), loc(rv, j+m)
		d = mu.c(P, V1) + mu.c(Vm, X) - mu.c(P, U1) - mu.c(Un, X) +
			mv.c(Q, U1) + mv.c(Un, Y) - mv.c(Q, V1) - mv.c(Vm, Y)
	}
	if ru.prof != rv.prof {
		// The moved strings' inner edges cost differently in the other
		// profile (reversed ones too: symmetric then).
		cu, _ := ru.cumIn(rv.prof)
		d += cu[i+n-1] - cu[i] - (ru.cumCost[i+n-1] - ru.cumCost[i])
		if m > 0 {
			cv, _ := rv.cumIn(ru.prof)
			d += cv[j+m-1] - cv[j] - (rv.cumCost[j+m-1] - rv.cumCost[j])
		}
	}
	if jobsA == 0 {
		d -= in.veh[ru.v].fixedCost
	}
	if rv.jobs() == 0 && jobsB > 0 {
		d += in.veh[rv.v].fixedCost
	}
	if m == 0 {
		return d-ru.penalty >= 0 // route V only grows: its penalty stays
	}
	return d-ru.penalty-rv.penalty >= 0
}

func (op exchange) apply(s *search, u, v int32) {
	if k := op.plan(s, u, v); k > 0 {
		s.commit(k == 2)
	}
}
