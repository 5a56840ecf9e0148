package routing

import (
	"cmp"
	"math"
	"slices"
)

// individual is an immutable-once-evaluated solution of the genetic
// search: one job sequence per vehicle (fixed jobs included) and its
// evaluation.
type individual struct {
	routes [][]int32

	travel     int64 // travel cost of the used routes
	fixed      int64
	prize      int64 // prizes of unassigned active jobs
	excessLoad int64
	warp       int64
	excessDist int64
	nRoutes    int
	weight     int64 // unassigned weight of required jobs
	feasible   bool

	succ, pred []int32 // per job: neighbour job, -1 for a depot, -2 unassigned

	// population bookkeeping
	fitness float64
	prox    []proxEntry // distance to the other individuals of its subpopulation, sorted
}

type proxEntry struct {
	d     float64
	other *individual
}

func newIndividual(in *inst) *individual {
	return &individual{
		routes: make([][]int32, in.nv),
		succ:   make([]int32, in.n),
		pred:   make([]int32, in.n),
	}
}

func (ind *individual) penalized(p penalties) int64 {
	c := ind.travel + ind.fixed + ind.prize
	if ind.excessLoad > 0 {
		c += int64(p.load * float64(ind.excessLoad))
	}
	if ind.warp > 0 {
		c += int64(p.tw * float64(ind.warp))
	}
	if ind.excessDist > 0 {
		c += int64(p.dist * float64(ind.excessDist))
	}
	return c
}

// cost is the objective of a feasible individual (prizes of optional
// jobs included, required ones counted by weight).
func (ind *individual) cost() int64 { return ind.travel + ind.fixed + ind.prize }

// evaluate recomputes every figure of ind from its routes.
func (ind *individual) evaluate(in *inst) {
	*ind = individual{routes: ind.routes, succ: ind.succ, pred: ind.pred, prox: ind.prox}
	for j := range ind.succ {
		ind.succ[j], ind.pred[j] = -2, -2
	}
	D := in.D
	load := make([]int64, D)
	for v, seq := range ind.routes {
		if len(seq) == 0 {
			continue
		}
		vd := &in.veh[v]
		m := vd.m
		ind.nRoutes++
		ind.fixed += vd.fixedCost
		clear(load)
		start, end := int32(in.n+2*v), int32(in.n+2*v+1)
		prev := start
		seg := nodeSeg(in, start)
		var dist int64
		for k, j := range seq {
			pl, jl := in.nodeLoc[prev], in.nodeLoc[j]
			ind.travel += m.c(pl, jl)
			dist += m.d(pl, jl)
			if in.hasTime {
				seg = merge(seg, m.t(pl, jl), nodeSeg(in, j))
			}
			for d := 0; d < D; d++ {
				load[d] += in.demand[int(j)*D+d]
			}
			if k == 0 {
				ind.pred[j] = -1
			} else {
				ind.pred[j] = seq[k-1]
			}
			if k == len(seq)-1 {
				ind.succ[j] = -1
			} else {
				ind.succ[j] = seq[k+1]
			}
			prev = j
		}
		pl, el := in.nodeLoc[prev], in.nodeLoc[end]
		ind.travel += m.c(pl, el)
		dist += m.d(pl, el)
		for d := 0; d < D; d++ {
			ind.excessLoad += max(load[d]-vd.cap[d], 0)
		}
		if in.hasTime {
			seg = merge(seg, m.t(pl, el), nodeSeg(in, end))
			ind.warp += seg.tw + max(seg.dur-vd.maxDur, 0)
		}
		if in.hasDistLimit {
			ind.excessDist += max(dist-vd.maxDist, 0)
		}
	}
	for j := 0; j < in.n; j++ {
		if in.active[j] && ind.succ[j] == -2 {
			ind.prize += in.prize[j]
			ind.weight += in.weight[j]
		}
	}
	ind.feasible = ind.excessLoad == 0 && ind.warp == 0 && ind.excessDist == 0
}

// brokenPairs is the broken-pairs distance between a and b, in [0, 1].
func brokenPairs(in *inst, a, b *individual) float64 {
	diff, cnt := 0, 0
	for j := 0; j < in.n; j++ {
		if !in.active[j] {
			continue
		}
		cnt++
		if a.succ[j] != b.succ[j] && a.succ[j] != b.pred[j] {
			diff++
		}
		if a.pred[j] == -1 && b.pred[j] != -1 && b.succ[j] != -1 {
			diff++
		}
	}
	if cnt == 0 {
		return 0
	}
	return float64(diff) / float64(cnt)
}

// giantTour returns the free (non-fixed) jobs of ind as one sequence: its
// routes in order of the polar angle of their barycentre (when coordinates
// are known), then the unassigned active jobs.
func (ind *individual) giantTour(in *inst, buf []int32) []int32 {
	buf = buf[:0]
	type ra struct {
		v int
		a float64
	}
	var order []ra
	for v, seq := range ind.routes {
		if len(seq) > len(in.veh[v].fixedJobs) {
			a := float64(v)
			if in.coords != nil && in.veh[v].start != int32(in.dummy) {
				var x, y float64
				o := in.coords[in.veh[v].start]
				for _, j := range seq {
					c := in.coords[in.nodeLoc[j]]
					x += c.X - o.X
					y += c.Y - o.Y
				}
				a = math.Atan2(y, x)
			}
			order = append(order, ra{v, a})
		}
	}
	slices.SortStableFunc(order, func(p, q ra) int { return cmp.Compare(p.a, q.a) })
	for _, o := range order {
		buf = append(buf, ind.routes[o.v][len(in.veh[o.v].fixedJobs):]...)
	}
	for j := 0; j < in.n; j++ {
		if in.active[j] && ind.succ[j] == -2 {
			buf = append(buf, int32(j))
		}
	}
	return buf
}
