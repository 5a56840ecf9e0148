package routing

import (
	"cmp"
	"math/rand/v2"
	"slices"
)

// construct builds a fast first solution: Clarke-Wright savings for
// capacity-only problems with identical vehicles, otherwise sequential
// cheapest insertion restricted to granular neighbours (constant-time
// feasibility through the time segments). Jobs that fit nowhere stay
// unassigned. It returns nil when there is nothing to route.
func construct(in *inst) *individual {
	if in.n == 0 {
		return nil
	}
	var ind *individual
	if !in.hasTime && !in.hasDistLimit && in.nTypes == 1 && len(in.veh[0].fixedJobs) == 0 && in.allCompat {
		ind = savings(in)
	} else {
		ind = insertion(in)
	}
	ind.evaluate(in)
	return ind
}

// savings is the parallel Clarke-Wright heuristic over neighbour pairs
// (identical vehicles: one travel profile).
func savings(in *inst) *individual {
	vd := &in.veh[0]
	D := in.D
	type link struct {
		save int64
		i, j int32
	}
	var links []link
	for i := int32(0); int(i) < in.n; i++ {
		if !in.active[i] {
			continue
		}
		li := in.nodeLoc[i]
		for _, j := range in.neighbors[i] {
			lj := in.nodeLoc[j]
			links = append(links, link{vd.m.c(li, vd.end) + vd.m.c(vd.start, lj) - vd.m.c(li, lj), i, j})
		}
	}
	slices.SortStableFunc(links, func(a, b link) int {
		if c := cmp.Compare(b.save, a.save); c != 0 {
			return c
		}
		if c := cmp.Compare(a.i, b.i); c != 0 {
			return c
		}
		return cmp.Compare(a.j, b.j)
	})
	// Each job starts alone; routes are linked lists with a head.
	next := make([]int32, in.n)
	head := make([]int32, in.n) // route id = head job
	tail := make([]int32, in.n)
	load := make([]int64, in.n*D)
	stops := make([]int, in.n)
	for j := int32(0); int(j) < in.n; j++ {
		next[j], head[j], tail[j] = -1, j, j
		copy(load[int(j)*D:], in.demand[int(j)*D:int(j+1)*D])
		stops[j] = 1
	}
	for _, l := range links {
		if l.save <= 0 {
			break
		}
		hi, hj := head[l.i], head[l.j]
		if hi == hj || tail[hi] != l.i || hj != l.j {
			continue
		}
		ok := vd.maxStops == 0 || stops[hi]+stops[hj] <= vd.maxStops
		for d := 0; d < D && ok; d++ {
			ok = load[int(hi)*D+d]+load[int(hj)*D+d] <= vd.cap[d]
		}
		if !ok {
			continue
		}
		next[l.i] = l.j
		tail[hi] = tail[hj]
		for d := 0; d < D; d++ {
			load[int(hi)*D+d] += load[int(hj)*D+d]
		}
		stops[hi] += stops[hj]
		for x := l.j; x >= 0; x = next[x] {
			head[x] = hi
		}
	}
	ind := newIndividual(in)
	v := 0
	for j := int32(0); int(j) < in.n && v < in.nv; j++ {
		if !in.active[j] || head[j] != j {
			continue
		}
		for x := j; x >= 0; x = next[x] {
			ind.routes[v] = append(ind.routes[v], x)
		}
		v++
	}
	return ind
}

// insertion builds routes one vehicle at a time: a seed job (the most
// urgent, or the farthest), then the cheapest feasible insertion among the
// unrouted neighbours of the route's jobs, until nothing fits.
func insertion(in *inst) *individual {
	s := newSearch(in, rand.New(rand.NewPCG(1, 2)))
	s.strict = true
	ind := newIndividual(in)
	for v := range ind.routes {
		ind.routes[v] = append(ind.routes[v], in.veh[v].fixedJobs...)
	}
	ind.evaluate(in)
	s.load(ind)
	routed := make([]bool, in.n)
	left := 0
	for j := 0; j < in.n; j++ {
		if in.active[j] {
			left++
		} else {
			routed[j] = true
		}
	}
	mark := make([]int, in.n)
	stamp := 0
	var cands []int32
	for v := 0; v < in.nv && left > 0; v++ {
		r := s.routes[v]
		if r.jobs() == 0 {
			// seed
			seed := int32(-1)
			var key int64
			for j := int32(0); int(j) < in.n; j++ {
				if routed[j] || !in.compatible(j, v) {
					continue
				}
				k := -in.veh[v].m.c(in.veh[v].start, in.nodeLoc[j]) // farthest first
				if in.hasTime {
					k = in.nodeL[j]
				}
				if seed < 0 || k < key {
					seed, key = j, k
				}
			}
			if seed < 0 {
				continue
			}
			if s.insertDelta(seed, r, 0) >= infCost/2 {
				continue
			}
			s.insertPlan(seed, r, 0)
			s.commit(false)
			routed[seed] = true
			left--
		}
		for left > 0 {
			stamp++
			cands = cands[:0]
			for _, x := range r.nodes[1:r.last()] {
				for _, u := range in.neighbors[x] {
					if !routed[u] && mark[u] != stamp && in.compatible(u, v) {
						mark[u] = stamp
						cands = append(cands, u)
					}
				}
			}
			bu, bp := int32(-1), -1
			var bd int64
			for _, u := range cands {
				for p := r.fixedLen; p < r.last(); p++ {
					d := s.insertDelta(u, r, p)
					if d < infCost/2 && (bu < 0 || d < bd) {
						bu, bp, bd = u, p, d
					}
				}
			}
			if bu < 0 {
				break
			}
			s.insertPlan(bu, r, bp)
			s.commit(false)
			routed[bu] = true
			left--
		}
	}
	s.strict = false
	s.export(ind)
	return ind
}
