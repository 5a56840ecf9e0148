package routing

// route is the mutable search view of one vehicle's route (PyVRP's
// search::Route): the node sequence with its two depots and cached running
// data, recomputed in O(len) by update after every applied move.
//
// Index by position p in nodes (0 = start depot, len-1 = end depot):
//
//	cumCost[p]   travel cost from the start depot to p
//	cumDist[p]   distance from the start depot to p (only when distances differ from costs)
//	cumLoad[p*D+d] total demand of the jobs at positions 1..p, dimension d
//	fwd[p]       time segment of positions 0..p
//	bwd[p]       time segment of positions p..len-1
//	bwdJ[p]      time segment of positions p..len-2 (without the end depot)
//
//	revCost[p]   travel cost of positions p, p-1, ..., 0 visited backwards
//	             (revDist likewise; only with an asymmetric profile)
//	between(a, b)  time segment of positions a..b, and reversed(a, b) of b, b-1, ..., a:
//	             rows of two n x n tables filled on first use after each
//	             change (routes up to maxTableLen positions)
//
// All of them use the vehicle's own travel profile (prof, m). When the
// problem has several profiles, alt[q] holds cumCost, cumDist and bwdJ
// under every other profile q, so that a string of this route moved to a
// vehicle of profile q is still evaluated in O(1) (alt[prof] is unused).
type route struct {
	v        int
	nodes    []int32
	fixedLen int  // fixed jobs at positions 1..fixedLen
	scratch  bool // holds jobs only, no depots (its prof is the receiving route's)
	prof     int
	m        *matrices
	alt      []altData

	locs    []int32 // location of each position
	cumCost []int64
	cumDist []int64
	cumLoad []int64
	fwd     []twSeg
	bwd     []twSeg
	bwdJ    []twSeg

	revCost []int64
	revDist []int64

	// Segment tables: row a of btw (positions a..b) and rtw (b back to a)
	// is valid when btwRow[a] (rtwRow[a]) equals ver.
	ver            int
	btw, rtw       []twSeg
	btwRow, rtwRow []int

	penalized int64 // penalised cost under the search's current penalties
	penalty   int64 // the part of penalized above travel and fixed cost
	modified  int   // search step of the last change

	// polar sector of the route's jobs, for SWAP*
	secStart, secEnd int32
	secOK            bool
}

// altData is a route's running data under another travel profile.
type altData struct {
	cumCost, cumDist []int64
	bwdJ             []twSeg
}

// cumIn returns the prefix travel costs and distances of r under profile q.
func (r *route) cumIn(q int) (cost, dist []int64) {
	if r.prof == q {
		return r.cumCost, r.cumDist
	}
	a := &r.alt[q]
	return a.cumCost, a.cumDist
}

func (r *route) jobs() int   { return len(r.nodes) - 2 }
func (r *route) last() int   { return len(r.nodes) - 1 }
func (r *route) empty() bool { return len(r.nodes) == 2 }

// penalties are the current weights of constraint violations.
type penalties struct {
	load, tw, dist float64
}

const infCost = int64(1) << 62

// routeCost is the penalised cost of a plan for vehicle v with the given
// totals. An empty plan costs nothing.
func (s *search) routeCost(v int, cost int64, load []int64, tw twSeg, dist int64, jobs int) int64 {
	if jobs == 0 {
		return 0
	}
	in := s.in
	vd := &in.veh[v]
	if vd.maxStops > 0 && jobs > vd.maxStops {
		return infCost
	}
	c := cost + vd.fixedCost
	if s.strict {
		return s.strictCost(vd, c, load, tw, dist)
	}
	var ex int64
	for d, q := range load {
		if q > vd.cap[d] {
			ex += q - vd.cap[d]
		}
	}
	if ex > 0 {
		c += int64(s.pen.load * float64(ex))
	}
	if in.hasTime {
		w := tw.tw
		if tw.dur > vd.maxDur {
			w += tw.dur - vd.maxDur
		}
		if w > 0 {
			c += int64(s.pen.tw * float64(w))
		}
	}
	if in.hasDistLimit && dist > vd.maxDist {
		c += int64(s.pen.dist * float64(dist-vd.maxDist))
	}
	return c
}

// strictCost is routeCost when every constraint is hard.
func (s *search) strictCost(vd *vehData, c int64, load []int64, tw twSeg, dist int64) int64 {
	for d, q := range load {
		if q > vd.cap[d] {
			return infCost
		}
	}
	if s.in.hasTime && (tw.tw > 0 || tw.dur > vd.maxDur) {
		return infCost
	}
	if s.in.hasDistLimit && dist > vd.maxDist {
		return infCost
	}
	return c
}

// violation returns the raw excess load, time warp and distance excess of r.
func (s *search) violation(r *route) (load, warp, dist int64) {
	if r.empty() {
		return
	}
	in := s.in
	vd := &in.veh[r.v]
	L := r.last()
	for d := 0; d < in.D; d++ {
		if q := r.cumLoad[L*in.D+d]; q > vd.cap[d] {
			load += q - vd.cap[d]
		}
	}
	if in.hasTime {
		seg := r.fwd[L]
		warp = seg.tw + max(seg.dur-vd.maxDur, 0)
	}
	if in.hasDistLimit {
		dist = max(r.cumDist[L]-vd.maxDist, 0)
	}
	return
}

// update recomputes the caches of r and the positions of its nodes.
func (s *search) update(r *route) {
	in := s.in
	n := len(r.nodes)
	D := in.D
	r.cumCost = grow(r.cumCost, n)
	if cap(r.locs) < n {
		r.locs = make([]int32, n, n+n/2+4)
	}
	r.locs = r.locs[:n]
	r.cumLoad = grow(r.cumLoad, n*D)
	for d := 0; d < D; d++ {
		r.cumLoad[d] = 0
	}
	r.cumCost[0] = 0
	m := r.m
	trackDist := !m.distIsCost
	if trackDist {
		r.cumDist = grow(r.cumDist, n)
		r.cumDist[0] = 0
	} else {
		r.cumDist = r.cumCost
	}
	for p, node := range r.nodes {
		s.nodeRoute[node] = int32(r.v)
		s.nodePos[node] = int32(p)
		r.locs[p] = in.nodeLoc[node]
		if p == 0 {
			continue
		}
		a, b := r.locs[p-1], r.locs[p]
		r.cumCost[p] = r.cumCost[p-1] + m.c(a, b)
		if trackDist {
			r.cumDist[p] = r.cumDist[p-1] + m.d(a, b)
		}
		if int(node) < in.n {
			for d := 0; d < D; d++ {
				r.cumLoad[p*D+d] = r.cumLoad[(p-1)*D+d] + in.demand[int(node)*D+d]
			}
		} else {
			copy(r.cumLoad[p*D:p*D+D], r.cumLoad[(p-1)*D:p*D])
		}
	}
	if !m.symmetric {
		r.revCost = grow(r.revCost, n)
		r.revCost[0] = 0
		if trackDist {
			r.revDist = grow(r.revDist, n)
			r.revDist[0] = 0
		} else {
			r.revDist = r.revCost
		}
		for p := 1; p < n; p++ {
			a, b := r.locs[p], r.locs[p-1]
			r.revCost[p] = r.revCost[p-1] + m.c(a, b)
			if trackDist {
				r.revDist[p] = r.revDist[p-1] + m.d(a, b)
			}
		}
	}
	r.ver++
	if in.hasTime {
		r.fwd = growSeg(r.fwd, n)
		r.bwd = growSeg(r.bwd, n)
		r.bwdJ = growSeg(r.bwdJ, n)
		r.fwd[0] = nodeSeg(in, r.nodes[0])
		for p := 1; p < n; p++ {
			r.fwd[p] = merge(r.fwd[p-1], m.t(r.locs[p-1], r.locs[p]), nodeSeg(in, r.nodes[p]))
		}
		r.bwd[n-1] = nodeSeg(in, r.nodes[n-1])
		for p := n - 2; p >= 0; p-- {
			r.bwd[p] = merge(nodeSeg(in, r.nodes[p]), m.t(r.locs[p], r.locs[p+1]), r.bwd[p+1])
		}
		if n >= 3 {
			r.bwdJ[n-2] = nodeSeg(in, r.nodes[n-2])
			for p := n - 3; p >= 1; p-- {
				r.bwdJ[p] = merge(nodeSeg(in, r.nodes[p]), m.t(r.locs[p], r.locs[p+1]), r.bwdJ[p+1])
			}
		}
	}
	if len(in.prof) > 1 {
		s.updateAlt(r)
	}
	s.refreshCost(r)
	r.modified = s.step
	s.updateSector(r)
}

// updateAlt recomputes the data of r under the other profiles.
func (s *search) updateAlt(r *route) {
	in := s.in
	n := len(r.nodes)
	if len(r.alt) != len(in.prof) {
		r.alt = make([]altData, len(in.prof))
	}
	for q, m := range in.prof {
		if q == r.prof {
			continue
		}
		a := &r.alt[q]
		a.cumCost = grow(a.cumCost, n)
		a.cumCost[0] = 0
		if m.distIsCost {
			a.cumDist = a.cumCost
		} else {
			a.cumDist = grow(a.cumDist, n)
			a.cumDist[0] = 0
		}
		for p := 1; p < n; p++ {
			x, y := r.locs[p-1], r.locs[p]
			a.cumCost[p] = a.cumCost[p-1] + m.c(x, y)
			if !m.distIsCost {
				a.cumDist[p] = a.cumDist[p-1] + m.d(x, y)
			}
		}
		if in.hasTime {
			a.bwdJ = growSeg(a.bwdJ, n)
			if n >= 3 {
				a.bwdJ[n-2] = nodeSeg(in, r.nodes[n-2])
				for p := n - 3; p >= 1; p-- {
					a.bwdJ[p] = merge(nodeSeg(in, r.nodes[p]), m.t(r.locs[p], r.locs[p+1]), a.bwdJ[p+1])
				}
			}
		}
	}
}

// refreshCost recomputes r.penalized under the current penalties.
func (s *search) refreshCost(r *route) {
	L := r.last()
	var tw twSeg
	if s.in.hasTime {
		tw = r.fwd[L]
	}
	r.penalized = s.routeCost(r.v, r.cumCost[L], r.cumLoad[L*s.in.D:(L+1)*s.in.D], tw, r.cumDist[L], r.jobs())
	r.penalty = 0
	if r.jobs() > 0 {
		r.penalty = r.penalized - r.cumCost[L] - s.in.veh[r.v].fixedCost
	}
}

func (s *search) updateSector(r *route) {
	in := s.in
	r.secOK = false
	if in.angle == nil || r.jobs() == 0 {
		return
	}
	// The smallest arc containing all angles: start from the first job and
	// extend greedily (as HGS does), good enough for a pruning test.
	first := in.angle[r.nodes[1]]
	r.secStart, r.secEnd = first, first
	for _, node := range r.nodes[1 : len(r.nodes)-1] {
		a := in.angle[node]
		if angleIn(a, r.secStart, r.secEnd) {
			continue
		}
		// extend the side that grows the arc least
		dl := (r.secStart - a) & 0xffff
		dr := (a - r.secEnd) & 0xffff
		if dl < dr {
			r.secStart = a
		} else {
			r.secEnd = a
		}
	}
	r.secOK = true
}

func angleIn(a, s, e int32) bool { return (a-s)&0xffff <= (e-s)&0xffff }

func sectorsOverlap(a, b *route, tol int32) bool {
	if !a.secOK || !b.secOK {
		return true
	}
	as, ae := (a.secStart-tol)&0xffff, (a.secEnd+tol)&0xffff
	return angleIn(b.secStart, as, ae) || angleIn(b.secEnd, as, ae) || angleIn(as, b.secStart, b.secEnd)
}

// maxTableLen bounds the routes (in positions) that keep segment tables
// (two n x n tables of 32-byte segments: 1 MB at 128); longer ones merge
// their middle segments visit by visit.
const maxTableLen = 128

// between returns the time segment of positions a..b (0 < a <= b < last)
// of r under its own profile: O(1) from row a of the table, filled in
// O(len) on its first use since r changed.
func (r *route) between(in *inst, a, b int) twSeg {
	n := len(r.nodes)
	if n > maxTableLen {
		seg := nodeSeg(in, r.nodes[a])
		for k := a + 1; k <= b; k++ {
			seg = merge(seg, r.m.t(r.locs[k-1], r.locs[k]), nodeSeg(in, r.nodes[k]))
		}
		return seg
	}
	if len(r.btwRow) < n {
		r.btwRow = make([]int, maxTableLen)
		r.btw = make([]twSeg, 0, n*n)
	}
	if r.btwRow[a] != r.ver || len(r.btw) < n*n {
		if cap(r.btw) < n*n {
			r.btw = make([]twSeg, n*n, n*n+n*n/2)
			clear(r.btwRow)
		}
		r.btw = r.btw[:n*n]
		row := r.btw[a*n : a*n+n]
		row[a] = nodeSeg(in, r.nodes[a])
		for k := a + 1; k < n; k++ {
			row[k] = merge(row[k-1], r.m.t(r.locs[k-1], r.locs[k]), nodeSeg(in, r.nodes[k]))
		}
		r.btwRow[a] = r.ver
	}
	return r.btw[a*n+b]
}

// reversed returns the time segment of positions b, b-1, ..., a of r under
// its own profile, from row a of the reversed table (filled like between's).
func (r *route) reversed(in *inst, a, b int) twSeg {
	n := len(r.nodes)
	if n > maxTableLen {
		seg := nodeSeg(in, r.nodes[b])
		for k := b - 1; k >= a; k-- {
			seg = merge(seg, r.m.t(r.locs[k+1], r.locs[k]), nodeSeg(in, r.nodes[k]))
		}
		return seg
	}
	if len(r.rtwRow) < n {
		r.rtwRow = make([]int, maxTableLen)
		r.rtw = make([]twSeg, 0, n*n)
	}
	if r.rtwRow[a] != r.ver || len(r.rtw) < n*n {
		if cap(r.rtw) < n*n {
			r.rtw = make([]twSeg, n*n, n*n+n*n/2)
			clear(r.rtwRow)
		}
		r.rtw = r.rtw[:n*n]
		row := r.rtw[a*n : a*n+n]
		row[a] = nodeSeg(in, r.nodes[a])
		for k := a + 1; k < n; k++ {
			// b = k visited first, then the reversed a..k-1
			row[k] = merge(nodeSeg(in, r.nodes[k]), r.m.t(r.locs[k], r.locs[k-1]), row[k-1])
		}
		r.rtwRow[a] = r.ver
	}
	return r.rtw[a*n+b]
}

func grow(s []int64, n int) []int64 {
	if cap(s) < n {
		return make([]int64, n, n+n/2+4)
	}
	return s[:n]
}

func growSeg(s []twSeg, n int) []twSeg {
	if cap(s) < n {
		return make([]twSeg, n, n+n/2+4)
	}
	return s[:n]
}
