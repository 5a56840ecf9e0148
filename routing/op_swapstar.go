package routing

// SWAP* (Vidal 2022): exchange U of one route with V of another, each
// reinserted at its best position in the other route rather than in the
// other's place. Insertion and removal costs use the travel profile of the
// route concerned. Candidate positions come from a travel-cost-only cache of
// the three best insertions of every job in the other route; the best pair
// found that way is then evaluated exactly (capacity, time windows, all
// penalties) with plans.

type insertPos struct {
	cost int64
	pos  int // insert after this position
}

type top3 [3]insertPos

func (t *top3) reset() {
	for k := range t {
		t[k] = insertPos{infCost, -1}
	}
}

func (t *top3) add(c int64, p int) {
	switch {
	case c < t[0].cost:
		t[2], t[1], t[0] = t[1], t[0], insertPos{c, p}
	case c < t[1].cost:
		t[2], t[1] = t[1], insertPos{c, p}
	case c < t[2].cost:
		t[2] = insertPos{c, p}
	}
}

type swapStarCache struct {
	bestIn1, bestIn2 []top3 // by position in the other route
	rem1, rem2       []int64
	loadA, loadB     []int64
}

// bestInsert fills t with the best positions to insert node x into r
// (after a position >= r.fixedLen): travel cost, plus, with time windows,
// the change of r's time-warp penalty, each in O(1) from the route's
// forward and backward segments (Vidal 2022 counts the travel cost only;
// with windows the cheapest places by travel are mostly too late or too
// early, and the exact evaluation of the chosen pair would reject them).
func (s *search) bestInsert(t *top3, x int32, r *route) {
	m := r.m
	t.reset()
	lx := s.in.nodeLoc[x]
	if !s.in.hasTime {
		for p := r.fixedLen; p < r.last(); p++ {
			a, b := r.locs[p], r.locs[p+1]
			t.add(m.cTo(a, lx)+m.c(lx, b)-(r.cumCost[p+1]-r.cumCost[p]), p)
		}
		return
	}
	sx := nodeSeg(s.in, x)
	w0 := s.warpOf(r, r.fwd[r.last()])
	for p := r.fixedLen; p < r.last(); p++ {
		a, b := r.locs[p], r.locs[p+1]
		c := m.cTo(a, lx) + m.c(lx, b) - (r.cumCost[p+1] - r.cumCost[p])
		if c >= t[2].cost {
			continue // the penalty change of an insertion is not negative
		}
		seg := merge(merge(r.fwd[p], m.t(a, lx), sx), m.t(lx, b), r.bwd[p+1])
		t.add(c+s.warpCost(s.warpOf(r, seg)-w0), p)
	}
}

// warpOf is the time warp of a whole route of r's vehicle with segment
// seg: the warp at the visits plus the excess over the maximum duration.
func (s *search) warpOf(r *route, seg twSeg) int64 {
	return seg.tw + max(seg.dur-s.in.veh[r.v].maxDur, 0)
}

// warpCost is the penalty of w units of time warp (negative when w is),
// infCost for any in a strict search.
func (s *search) warpCost(w int64) int64 {
	if w == 0 {
		return 0
	}
	if s.strict {
		if w > 0 {
			return infCost / 4
		}
		return 0
	}
	return int64(s.pen.tw * float64(w))
}

func (s *search) removalDelta(r *route, p int) int64 {
	m := r.m
	a, x, b := r.locs[p-1], r.locs[p], r.locs[p+1]
	d := m.c(a, b) - m.c(a, x) - m.c(x, b)
	if s.in.hasTime {
		seg := merge(r.fwd[p-1], m.t(a, b), r.bwd[p+1])
		d += s.warpCost(s.warpOf(r, seg) - s.warpOf(r, r.fwd[r.last()]))
	}
	return d
}

// loadPenaltyDelta approximates the penalty change of r when job out
// leaves and job inn arrives.
func (s *search) loadPenaltyDelta(r *route, out, inn int32) int64 {
	in := s.in
	D := in.D
	vd := &in.veh[r.v]
	L := r.last()
	var before, after int64
	for d := 0; d < D; d++ {
		q := r.cumLoad[L*D+d]
		before += max(q-vd.cap[d], 0)
		q += in.demand[int(inn)*D+d] - in.demand[int(out)*D+d]
		after += max(q-vd.cap[d], 0)
	}
	if before == after {
		return 0
	}
	return int64(s.pen.load*float64(after)) - int64(s.pen.load*float64(before))
}

// cheapestWithout returns the cheapest way to insert x (with cached top
// positions t) into r once the job at position q is removed.
func (s *search) cheapestWithout(t *top3, x int32, r *route, q int) (int64, int) {
	m := r.m
	// in place of the removed job
	a, b := r.locs[q-1], r.locs[q+1]
	lx := s.in.nodeLoc[x]
	best, pos := m.c(a, lx)+m.c(lx, b)-m.c(a, b), q-1
	if s.in.hasTime {
		seg := merge(merge(r.fwd[q-1], m.t(a, lx), nodeSeg(s.in, x)), m.t(lx, b), r.bwd[q+1])
		without := merge(r.fwd[q-1], m.t(a, b), r.bwd[q+1])
		best += s.warpCost(s.warpOf(r, seg) - s.warpOf(r, without))
	}
	for k := range t {
		if t[k].pos >= 0 && t[k].pos != q-1 && t[k].pos != q && t[k].cost < best {
			best, pos = t[k].cost, t[k].pos
		}
	}
	return best, pos
}

// swapStarPlan writes into pl the route r with the job at position q
// removed and node x (at position xp of route xr) inserted after position
// p (p == q-1 or p == q: in its place).
func swapStarPlan(pl *plan, r *route, q int, xr *route, xp int, p int) {
	pl.reset(r.v)
	L := r.last()
	switch {
	case p == q-1 || p == q:
		pl.add(r, 0, q-1)
		pl.add(xr, xp, xp)
		pl.add(r, q+1, L)
	case p < q:
		pl.add(r, 0, p)
		pl.add(xr, xp, xp)
		pl.addIf(r, p+1, q-1)
		pl.add(r, q+1, L)
	default:
		pl.add(r, 0, q-1)
		pl.add(r, q+1, p)
		pl.add(xr, xp, xp)
		pl.add(r, p+1, L)
	}
}

// swapStar tries the best SWAP* move between r1 and r2 and applies it if it
// improves the penalised cost.
func (s *search) swapStar(r1, r2 *route) bool {
	in := s.in
	c := &s.star
	n1, n2 := len(r1.nodes), len(r2.nodes)
	if cap(c.bestIn2) < n1 {
		c.bestIn2, c.rem1 = make([]top3, n1*2), make([]int64, n1*2)
	}
	if cap(c.bestIn1) < n2 {
		c.bestIn1, c.rem2 = make([]top3, n2*2), make([]int64, n2*2)
	}
	c.bestIn2, c.rem1 = c.bestIn2[:n1], c.rem1[:n1]
	c.bestIn1, c.rem2 = c.bestIn1[:n2], c.rem2[:n2]
	// bestIn2[p]: positions in r2 for the job at position p of r1, and back.
	for p := r1.fixedLen + 1; p < r1.last(); p++ {
		x := r1.nodes[p]
		if in.compatible(x, r2.v) {
			s.bestInsert(&c.bestIn2[p], x, r2)
		} else {
			c.bestIn2[p].reset()
		}
		c.rem1[p] = s.removalDelta(r1, p)
	}
	for q := r2.fixedLen + 1; q < r2.last(); q++ {
		y := r2.nodes[q]
		if in.compatible(y, r1.v) {
			s.bestInsert(&c.bestIn1[q], y, r1)
		} else {
			c.bestIn1[q].reset()
		}
		c.rem2[q] = s.removalDelta(r2, q)
	}
	best := int64(0)
	bp, bq, bpos1, bpos2 := -1, -1, -1, -1
	for p := r1.fixedLen + 1; p < r1.last(); p++ {
		x := r1.nodes[p]
		if c.bestIn2[p][0].pos < 0 {
			continue
		}
		for q := r2.fixedLen + 1; q < r2.last(); q++ {
			y := r2.nodes[q]
			if c.bestIn1[q][0].pos < 0 {
				continue
			}
			d1 := s.loadPenaltyDelta(r1, x, y)
			d2 := s.loadPenaltyDelta(r2, y, x)
			if d1+c.rem1[p]+d2+c.rem2[q] >= best {
				continue
			}
			ins2, pos2 := s.cheapestWithout(&c.bestIn2[p], x, r2, q)
			ins1, pos1 := s.cheapestWithout(&c.bestIn1[q], y, r1, p)
			delta := d1 + c.rem1[p] + ins1 + d2 + c.rem2[q] + ins2
			if delta < best {
				best, bp, bq, bpos1, bpos2 = delta, p, q, pos1, pos2
			}
		}
	}
	if bp < 0 {
		return false
	}
	swapStarPlan(&s.planA, r1, bp, r2, bq, bpos1)
	swapStarPlan(&s.planB, r2, bq, r1, bp, bpos2)
	a := s.planCost(&s.planA)
	b := s.planCost(&s.planB)
	if a >= infCost || b >= infCost || a+b-r1.penalized-r2.penalized >= 0 {
		return false
	}
	s.commit(true)
	return true
}
