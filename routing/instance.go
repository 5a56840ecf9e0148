package routing

import (
	"cmp"
	"fmt"
	"math"
	"slices"
	"strings"
)

// inst is the solver's compiled, immutable view of a Problem: flat integer
// matrices with an extra dummy location (index dummy) that is zero distance
// from everywhere and stands for an absent start or end, per-node data for
// jobs and for the start and end depot of each vehicle, compatibility and
// granular neighbour lists.
//
// Node ids: jobs are 0..n-1; vehicle v has start depot n+2v and end depot
// n+2v+1.
type inst struct {
	p     *Problem
	n     int // jobs
	nv    int // vehicles
	nLoc  int // locations including the dummy
	dummy int
	D     int // capacity dimensions

	// prof holds the distinct travel profiles the vehicles use (one
	// without Problem.Profiles); vehicle v travels with veh[v].m.
	prof      []*matrices
	symmetric bool // every profile's cost and duration matrices are symmetric

	hasTime      bool // time windows, shifts or maximum durations matter
	hasDistLimit bool
	allCompat    bool

	nodeLoc []int32
	nodeE   []int64 // search time window of each node
	nodeL   []int64
	nodeSrv []int64
	segs    []twSeg // time segment of each node alone (nodeSeg)
	demand  []int64 // n*D
	prize   []int64 // cost of leaving a job unassigned
	weight  []int64 // 1+priority for required jobs, 0 for optional ones

	veh     []vehData
	vehType []int // identical vehicles share a type
	nTypes  int

	compat    []uint64 // n rows of words bits: job j may go on vehicle v
	words     int
	active    []bool   // job may be routed (not fixed, not impossible)
	fixedVeh  []int    // vehicle a job is fixed on, or -1
	reason    []string // why an inactive, non-fixed job cannot be served
	neighbors [][]int32

	coords   []Point // per location incl. dummy, or nil
	angle    []int32 // polar angle of each job around its nearest start, in 1/65536 turns
	bigPrize int64
}

type vehData struct {
	start, end int32 // locations (dummy for None)
	prof       int   // index into inst.prof
	m          *matrices
	cap        []int64
	shift      TimeWindow
	maxDur     int64 // Unbounded when none
	maxDist    int64
	maxStops   int // 0: none
	fixedCost  int64
	fixedJobs  []int32
}

// matrices is one compiled travel profile: flat n*n matrices (n = nLoc,
// with the dummy location).
type matrices struct {
	n               int
	cost, dur, dist []int64
	cost32          []int32 // cost again, when it fits, for the hot paths
	costT           []int32 // cost32 transposed (cost32 itself when symmetric), or nil
	distIsCost      bool    // dist is cost (the same slice)
	symmetric       bool    // cost and duration are symmetric
}

func (m *matrices) c(i, j int32) int64 {
	if m.cost32 != nil {
		return int64(m.cost32[int(i)*m.n+int(j)])
	}
	return m.cost[int(i)*m.n+int(j)]
}
func (m *matrices) t(i, j int32) int64 { return m.dur[int(i)*m.n+int(j)] }

// cTo is c(i, j) read from the transposed copy: for many i and one j (the
// cost of reaching j from every position of a route) it reads one row.
func (m *matrices) cTo(i, j int32) int64 {
	if m.costT != nil {
		return int64(m.costT[int(j)*m.n+int(i)])
	}
	return m.c(i, j)
}
func (m *matrices) d(i, j int32) int64 { return m.dist[int(i)*m.n+int(j)] }

// compileMatrices builds the flat matrices of profile k of p. flat caches
// the flat copy of each input matrix (by its first row), so that a matrix
// shared by several profiles, or both the travel cost and the durations,
// is stored once.
func compileMatrices(p *Problem, k, nLoc int, flat map[*[]int64][]int64) *matrices {
	n0 := nLoc - 1
	m := &matrices{n: nLoc}
	ext := func(a [][]int64) []int64 {
		if a == nil {
			return make([]int64, nLoc*nLoc)
		}
		if out, ok := flat[&a[0]]; ok {
			return out
		}
		out := make([]int64, nLoc*nLoc)
		for i, row := range a {
			copy(out[i*nLoc:], row)
		}
		flat[&a[0]] = out
		return out
	}
	pr := p.profile(k)
	travel := p.travelOf(&pr)
	m.cost = ext(travel)
	m.dur = ext(pr.Durations)
	m.cost32 = make([]int32, len(m.cost))
	for i, c := range m.cost {
		if c > 1<<31-1 {
			m.cost32 = nil
			break
		}
		m.cost32[i] = int32(c)
	}
	m.distIsCost = pr.Distances == nil || (len(travel) > 0 && &travel[0] == &pr.Distances[0])
	if m.distIsCost {
		m.dist = m.cost
	} else {
		m.dist = ext(pr.Distances)
	}
	m.symmetric = true
	costSym := true
	for i := 0; i < n0 && costSym; i++ {
		for j := 0; j < i; j++ {
			a, b := i*nLoc+j, j*nLoc+i
			if m.cost[a] != m.cost[b] {
				costSym = false
				break
			}
			if m.dur[a] != m.dur[b] {
				m.symmetric = false
			}
		}
	}
	m.symmetric = m.symmetric && costSym
	switch {
	case m.cost32 == nil:
	case costSym:
		m.costT = m.cost32
	default:
		m.costT = make([]int32, len(m.cost32))
		for i := 0; i < nLoc; i++ {
			for j := 0; j < nLoc; j++ {
				m.costT[j*nLoc+i] = m.cost32[i*nLoc+j]
			}
		}
	}
	return m
}

func (m *matrices) equal(o *matrices) bool {
	return slices.Equal(m.cost, o.cost) && slices.Equal(m.dur, o.dur) && slices.Equal(m.dist, o.dist)
}

func (in *inst) compatible(job int32, v int) bool {
	return in.compat[int(job)*in.words+v>>6]&(1<<(v&63)) != 0
}

// compile builds the solver's view of a validated problem.
func compile(p *Problem, granular int) *inst {
	in := &inst{p: p, n: len(p.Jobs), nv: len(p.Vehicles), D: p.Dims()}
	n0 := p.NumLocations()
	in.nLoc = n0 + 1
	in.dummy = n0
	// Profiles: only those some vehicle uses, identical ones merged.
	compiled := make([]int, p.numProfiles())
	for k := range compiled {
		compiled[k] = -1
	}
	flat := map[*[]int64][]int64{}
	profOf := func(k int) int {
		if compiled[k] < 0 {
			m := compileMatrices(p, k, in.nLoc, flat)
			compiled[k] = len(in.prof)
			for ci, o := range in.prof {
				if o.equal(m) {
					compiled[k] = ci
					break
				}
			}
			if compiled[k] == len(in.prof) {
				in.prof = append(in.prof, m)
			}
		}
		return compiled[k]
	}
	if len(p.Vehicles) == 0 {
		profOf(0)
	}
	in.veh = make([]vehData, in.nv)
	in.symmetric = true
	for vi := range p.Vehicles {
		k := profOf(p.Vehicles[vi].Profile)
		in.veh[vi].prof = k
		in.veh[vi].m = in.prof[k]
		in.symmetric = in.symmetric && in.prof[k].symmetric
	}
	if p.Coords != nil {
		in.coords = append(slices.Clone(p.Coords), Point{})
	}

	// Vehicles.
	for vi := range p.Vehicles {
		v := &p.Vehicles[vi]
		vd := &in.veh[vi]
		vd.start, vd.end = int32(in.dummy), int32(in.dummy)
		if v.Start != None {
			vd.start = int32(v.Start)
		}
		if v.End != None {
			vd.end = int32(v.End)
		}
		vd.cap = make([]int64, in.D)
		copy(vd.cap, v.Capacity)
		vd.shift = shiftOf(v)
		vd.maxDur = Unbounded
		if v.MaxDuration > 0 {
			vd.maxDur = v.MaxDuration
			in.hasTime = true
		}
		vd.maxDist = Unbounded
		if v.MaxDistance > 0 {
			vd.maxDist = v.MaxDistance
			in.hasDistLimit = true
		}
		vd.maxStops = v.MaxStops
		vd.fixedCost = int64(v.FixedCost)
		for _, j := range v.Fixed {
			vd.fixedJobs = append(vd.fixedJobs, int32(j))
		}
		if v.Shift != (TimeWindow{}) {
			in.hasTime = true
		}
	}

	// Nodes.
	nn := in.n + 2*in.nv
	in.nodeLoc = make([]int32, nn)
	in.nodeE = make([]int64, nn)
	in.nodeL = make([]int64, nn)
	in.nodeSrv = make([]int64, nn)
	in.demand = make([]int64, in.n*in.D)
	for ji := range p.Jobs {
		j := &p.Jobs[ji]
		in.nodeLoc[ji] = int32(j.Location)
		in.nodeSrv[ji] = j.Service
		copy(in.demand[ji*in.D:], j.Demand)
		in.nodeE[ji], in.nodeL[ji] = 0, Unbounded
		if len(j.TimeWindows) > 0 {
			in.hasTime = true
		}
	}
	for vi := range in.veh {
		vd := &in.veh[vi]
		for k, loc := range []int32{vd.start, vd.end} {
			id := in.n + 2*vi + k
			in.nodeLoc[id] = loc
			in.nodeE[id], in.nodeL[id] = vd.shift.Start, vd.shift.End
		}
	}
	if !in.hasTime {
		for i := range in.nodeE {
			in.nodeE[i], in.nodeL[i] = 0, Unbounded
		}
	}

	// Prizes: an unassigned required job costs more than any route plan.
	var ub int64 = 1
	for i := 0; i < in.nLoc; i++ {
		var mo, mi int64
		for _, m := range in.prof {
			for j := 0; j < in.nLoc; j++ {
				mo = max(mo, m.cost[i*in.nLoc+j])
				mi = max(mi, m.cost[j*in.nLoc+i])
			}
		}
		ub = min(ub+mo+mi, 1<<35)
	}
	for vi := range in.veh {
		ub = min(ub+in.veh[vi].fixedCost, 1<<35)
	}
	in.bigPrize = ub
	in.prize = make([]int64, in.n)
	in.weight = make([]int64, in.n)
	for ji := range p.Jobs {
		j := &p.Jobs[ji]
		if j.Penalty > 0 {
			in.prize[ji] = int64(j.Penalty)
		} else {
			in.weight[ji] = 1 + int64(j.Priority)
			in.prize[ji] = ub * in.weight[ji]
		}
	}

	in.compileCompat()
	in.pickWindows()
	in.segs = make([]twSeg, nn)
	for i := range in.segs {
		in.segs[i] = twSeg{dur: in.nodeSrv[i], e: in.nodeE[i], l: in.nodeL[i]}
	}
	in.compileFeasibility()
	in.compileTypes()
	in.compileNeighbors(granular)
	in.compileAngles()
	return in
}

// compileCompat fills compat from skills and allowed vehicles.
func (in *inst) compileCompat() {
	p := in.p
	in.words = (in.nv + 63) / 64
	in.compat = make([]uint64, in.n*in.words)
	in.allCompat = true
	for ji := range p.Jobs {
		j := &p.Jobs[ji]
		for vi := range p.Vehicles {
			ok := len(j.Vehicles) == 0 || slices.Contains(j.Vehicles, vi)
			for _, s := range j.Skills {
				if !slices.Contains(p.Vehicles[vi].Skills, s) {
					ok = false
				}
			}
			if ok {
				in.compat[ji*in.words+vi>>6] |= 1 << (vi & 63)
			} else {
				in.allCompat = false
			}
		}
	}
}

// pickWindows chooses the search window of each job: with several windows,
// the widest one that some vehicle can reach.
func (in *inst) pickWindows() {
	if !in.hasTime {
		return
	}
	for ji := range in.p.Jobs {
		ws := in.p.Jobs[ji].TimeWindows
		if len(ws) == 0 {
			continue
		}
		best := -1
		for k, w := range ws {
			reach := false
			for vi := range in.veh {
				vd := &in.veh[vi]
				if vd.shift.Start+vd.m.t(vd.start, in.nodeLoc[ji]) <= w.End {
					reach = true
					break
				}
			}
			if best < 0 || (reach && (w.End-w.Start > ws[best].End-ws[best].Start)) {
				if reach || best < 0 {
					best = k
				}
			}
		}
		in.nodeE[ji], in.nodeL[ji] = ws[best].Start, ws[best].End
	}
}

func nodeSeg(in *inst, node int32) twSeg { return in.segs[node] }

// aloneReason reports why job j cannot be the only free job of vehicle v
// (after its fixed jobs), or "" if it can.
func (in *inst) aloneReason(j int32, vi int) string {
	if !in.compatible(j, vi) {
		return "skills"
	}
	vd := &in.veh[vi]
	for d := 0; d < in.D; d++ {
		var load int64
		for _, f := range vd.fixedJobs {
			load += in.demand[int(f)*in.D+d]
		}
		if load+in.demand[int(j)*in.D+d] > vd.cap[d] {
			return "capacity"
		}
	}
	if vd.maxStops > 0 && len(vd.fixedJobs)+1 > vd.maxStops {
		return "max_stops"
	}
	seq := append(slices.Clone(vd.fixedJobs), j)
	start, end := int32(in.n+2*vi), int32(in.n+2*vi+1)
	seg := nodeSeg(in, start)
	prev := start
	var dist int64
	for _, x := range append(seq, end) {
		seg = merge(seg, vd.m.t(in.nodeLoc[prev], in.nodeLoc[x]), nodeSeg(in, x))
		dist += vd.m.d(in.nodeLoc[prev], in.nodeLoc[x])
		prev = x
	}
	if in.hasTime {
		if seg.tw > 0 {
			return "time_window"
		}
		if seg.dur > vd.maxDur {
			return "max_duration"
		}
	}
	if dist > vd.maxDist {
		return "max_distance"
	}
	return ""
}

// compileFeasibility marks fixed jobs and jobs no vehicle can serve even
// alone, and narrows compat to vehicles that can serve each job alone.
func (in *inst) compileFeasibility() {
	in.active = make([]bool, in.n)
	in.fixedVeh = make([]int, in.n)
	in.reason = make([]string, in.n)
	for j := range in.fixedVeh {
		in.fixedVeh[j] = -1
	}
	for vi := range in.veh {
		for _, j := range in.veh[vi].fixedJobs {
			in.fixedVeh[j] = vi
		}
	}
	order := map[string]int{"skills": 0, "capacity": 1, "max_stops": 2, "time_window": 3, "max_duration": 4, "max_distance": 5}
	for j := int32(0); int(j) < in.n; j++ {
		if in.fixedVeh[j] >= 0 {
			continue
		}
		best := ""
		for vi := range in.veh {
			r := in.aloneReason(j, vi)
			if r == "" {
				in.active[j] = true
				continue
			}
			if in.compatible(j, vi) {
				in.compat[int(j)*in.words+vi>>6] &^= 1 << (vi & 63)
				in.allCompat = false
			}
			if best == "" || order[r] > order[best] {
				best = r
			}
		}
		if !in.active[j] {
			in.reason[j] = best
		}
	}
}

// compileTypes groups identical vehicles.
func (in *inst) compileTypes() {
	keys := map[string]int{}
	in.vehType = make([]int, in.nv)
	col := make([]byte, (in.n+7)/8)
	for vi := range in.veh {
		vd := &in.veh[vi]
		var b strings.Builder
		fmt.Fprint(&b, vd.start, vd.end, vd.cap, vd.shift, vd.maxDur, vd.maxDist, vd.maxStops, vd.fixedCost, vd.prof)
		if len(vd.fixedJobs) > 0 {
			fmt.Fprint(&b, "fixed", vi) // a vehicle with fixed jobs is its own type
		}
		if !in.allCompat {
			clear(col)
			for j := 0; j < in.n; j++ {
				if in.compatible(int32(j), vi) {
					col[j>>3] |= 1 << (j & 7)
				}
			}
			b.Write(col)
		}
		k := b.String()
		t, ok := keys[k]
		if !ok {
			t = len(keys)
			keys[k] = t
		}
		in.vehType[vi] = t
	}
	in.nTypes = len(keys)
}

// compileNeighbors builds the granular neighbourhood: for every active job,
// its k closest active jobs by a time-window aware correlation (Vidal et
// al. 2013), made symmetric.
func (in *inst) compileNeighbors(k int) {
	in.neighbors = make([][]int32, in.n)
	var act []int32
	for j := 0; j < in.n; j++ {
		if in.active[j] {
			act = append(act, int32(j))
		}
	}
	k = min(k, len(act)-1)
	if k <= 0 {
		return
	}
	type cand struct {
		j int32
		v float64
	}
	less := func(a, b cand) bool { return a.v < b.v || (a.v == b.v && a.j < b.j) }
	top := make([]cand, 0, k+1)
	sets := make([]map[int32]bool, in.n)
	for _, i := range act {
		// the k closest, kept sorted by insertion (O(n) per job when k is small)
		top = top[:0]
		for _, j := range act {
			if j == i {
				continue
			}
			c := cand{j, in.proximity(i, j)}
			if len(top) == k && !less(c, top[k-1]) {
				continue
			}
			p := len(top)
			if p < k {
				top = append(top, c)
			} else {
				p = k - 1
				top[p] = c
			}
			for ; p > 0 && less(top[p], top[p-1]); p-- {
				top[p], top[p-1] = top[p-1], top[p]
			}
		}
		for _, c := range top {
			if sets[i] == nil {
				sets[i] = map[int32]bool{}
			}
			if sets[c.j] == nil {
				sets[c.j] = map[int32]bool{}
			}
			sets[i][c.j] = true
			sets[c.j][i] = true
		}
	}
	for _, i := range act {
		for j := range sets[i] {
			in.neighbors[i] = append(in.neighbors[i], j)
		}
		slices.SortFunc(in.neighbors[i], func(a, b int32) int {
			if c := cmp.Compare(in.proximity(i, a), in.proximity(i, b)); c != 0 {
				return c
			}
			return cmp.Compare(a, b)
		})
	}
}

// proximity is the correlation of i then j: the travel cost plus the
// waiting and time warp of going from i to j, with several profiles under
// the cheapest and fastest of them (any vehicle may link the two).
func (in *inst) proximity(i, j int32) float64 {
	li, lj := in.nodeLoc[i], in.nodeLoc[j]
	c := in.prof[0].c(li, lj)
	for _, m := range in.prof[1:] {
		c = min(c, m.c(li, lj))
	}
	v := float64(c)
	if in.hasTime {
		t := in.prof[0].t(li, lj)
		for _, m := range in.prof[1:] {
			t = min(t, m.t(li, lj))
		}
		wait := max(in.nodeE[j]-t-in.nodeSrv[i]-in.nodeL[i], 0)
		warp := max(in.nodeE[i]+in.nodeSrv[i]+t-in.nodeL[j], 0)
		v += 0.2*float64(wait) + 1.0*float64(warp)
	}
	return v
}

// compileAngles computes each job's polar angle around the first vehicle's
// start, used to skip SWAP* between routes in disjoint sectors.
func (in *inst) compileAngles() {
	if in.coords == nil || in.nv == 0 || in.veh[0].start == int32(in.dummy) {
		return
	}
	o := in.coords[in.veh[0].start]
	in.angle = make([]int32, in.n)
	for j := 0; j < in.n; j++ {
		c := in.coords[in.nodeLoc[j]]
		a := math.Atan2(c.Y-o.Y, c.X-o.X) // (-pi, pi]
		in.angle[j] = int32(math.Round((a + math.Pi) / (2 * math.Pi) * 65536))
	}
}

// matrixSums returns the sums of the cost, duration and distance matrices
// over every profile (for the initial penalty weights).
func (in *inst) matrixSums() (cost, dur, dist float64) {
	for _, m := range in.prof {
		for i, c := range m.cost {
			cost += float64(c)
			dur += float64(m.dur[i])
			dist += float64(m.dist[i])
		}
	}
	return
}
