package routing

import "math"

// splitter cuts a giant tour into routes (Prins 2004; the linear-time
// deque version of Vidal 2016 for a homogeneous fleet (one vehicle type,
// hence one travel profile) with one capacity dimension, with a
// limited-fleet variant), or greedily for other fleets.
type splitter struct {
	in         *inst
	linear     bool
	pot        [][]float64
	pred       [][]int
	sumCost    []float64
	sumLoad    []float64
	d0, dEnd   []float64
	queue      []int
	capacity   float64
	fixedCost  float64
	freeRoutes []int // vehicles without fixed jobs, in order
}

func newSplitter(in *inst) *splitter {
	sp := &splitter{in: in}
	for v := range in.veh {
		if len(in.veh[v].fixedJobs) == 0 {
			sp.freeRoutes = append(sp.freeRoutes, v)
		}
	}
	sp.linear = in.nTypes == 1 && in.D <= 1 && len(sp.freeRoutes) == in.nv && in.veh[0].maxStops == 0
	if sp.linear && in.D == 1 {
		sp.capacity = float64(in.veh[0].cap[0])
	} else {
		sp.capacity = math.Inf(1)
	}
	if sp.linear {
		sp.fixedCost = float64(in.veh[0].fixedCost)
	}
	return sp
}

// split writes into ind the routes obtained by cutting tour, with the load
// penalty pen (one unit of excess load costs pen).
func (sp *splitter) split(ind *individual, tour []int32, pen float64) {
	in := sp.in
	for v := range ind.routes {
		ind.routes[v] = append(ind.routes[v][:0], in.veh[v].fixedJobs...)
	}
	if len(tour) == 0 {
		return
	}
	if !sp.linear {
		sp.greedy(ind, tour)
		return
	}
	n := len(tour)
	sp.prepare(tour)
	if k := sp.simple(n, pen); k <= len(sp.freeRoutes) {
		sp.extract(ind, tour, k)
		return
	}
	sp.limited(ind, tour, pen, len(sp.freeRoutes))
}

func (sp *splitter) prepare(tour []int32) {
	in := sp.in
	n := len(tour)
	grow := func(s []float64) []float64 {
		if cap(s) < n+1 {
			return make([]float64, n+1)
		}
		return s[:n+1]
	}
	sp.sumCost, sp.sumLoad = grow(sp.sumCost), grow(sp.sumLoad)
	sp.d0, sp.dEnd = grow(sp.d0), grow(sp.dEnd)
	vd := &in.veh[0]
	for i := 1; i <= n; i++ {
		j := tour[i-1]
		l := in.nodeLoc[j]
		sp.d0[i] = float64(vd.m.c(vd.start, l))
		sp.dEnd[i] = float64(vd.m.c(l, vd.end))
		var q int64
		if in.D == 1 {
			q = in.demand[j]
		}
		sp.sumLoad[i] = sp.sumLoad[i-1] + float64(q)
		if i == 1 {
			sp.sumCost[i] = 0
		} else {
			sp.sumCost[i] = sp.sumCost[i-1] + float64(vd.m.c(in.nodeLoc[tour[i-2]], l))
		}
	}
}

func (sp *splitter) rows(k, n int) {
	for len(sp.pot) < k {
		sp.pot = append(sp.pot, nil)
		sp.pred = append(sp.pred, nil)
	}
	for r := 0; r < k; r++ {
		if cap(sp.pot[r]) < n+1 {
			sp.pot[r] = make([]float64, n+1)
			sp.pred[r] = make([]int, n+1)
		}
		sp.pot[r] = sp.pot[r][:n+1]
		sp.pred[r] = sp.pred[r][:n+1]
		for i := range sp.pot[r] {
			sp.pot[r][i] = math.Inf(1)
		}
	}
}

// cost of the route serving tour positions i+1..j after potential p.
func (sp *splitter) propagate(p []float64, i, j int, pen float64) float64 {
	return p[i] + sp.sumCost[j] - sp.sumCost[i+1] + sp.d0[i+1] + sp.dEnd[j] + sp.fixedCost +
		pen*math.Max(sp.sumLoad[j]-sp.sumLoad[i]-sp.capacity, 0)
}

// dominates: predecessor i (i < j) is never worse than j for any later end.
func (sp *splitter) dominates(p []float64, i, j int, pen float64) bool {
	return p[j]+sp.d0[j+1] > p[i]+sp.d0[i+1]+sp.sumCost[j+1]-sp.sumCost[i+1]+pen*(sp.sumLoad[j]-sp.sumLoad[i])
}

// dominatesRight: j is never worse than i (i < j) for any later end.
func (sp *splitter) dominatesRight(p []float64, i, j int) bool {
	return p[j]+sp.d0[j+1] < p[i]+sp.d0[i+1]+sp.sumCost[j+1]-sp.sumCost[i+1]+1e-9
}

// simple splits with an unlimited fleet and returns the number of routes.
func (sp *splitter) simple(n int, pen float64) int {
	sp.rows(1, n)
	p, pr := sp.pot[0], sp.pred[0]
	p[0] = 0
	q := sp.queue[:0]
	q = append(q, 0)
	head := 0
	for i := 1; i <= n; i++ {
		f := q[head]
		p[i] = sp.propagate(p, f, i, pen)
		pr[i] = f
		if i < n {
			if !sp.dominates(p, q[len(q)-1], i, pen) {
				for len(q) > head && sp.dominatesRight(p, q[len(q)-1], i) {
					q = q[:len(q)-1]
				}
				q = append(q, i)
			}
			for len(q)-head > 1 && sp.propagate(p, q[head], i+1, pen) > sp.propagate(p, q[head+1], i+1, pen)-1e-9 {
				head++
			}
		}
	}
	sp.queue = q
	k := 0
	for j := n; j > 0; j = pr[j] {
		k++
	}
	return k
}

// limited splits with at most K routes.
func (sp *splitter) limited(ind *individual, tour []int32, pen float64, K int) {
	n := len(tour)
	sp.rows(K+1, n)
	sp.pot[0][0] = 0
	for k := 0; k < K; k++ {
		p, next, pr := sp.pot[k], sp.pot[k+1], sp.pred[k+1]
		q := sp.queue[:0]
		head := 0
		if !math.IsInf(p[k], 1) {
			q = append(q, k)
		}
		for i := k + 1; i <= n && len(q) > head; i++ {
			f := q[head]
			next[i] = sp.propagate(p, f, i, pen)
			pr[i] = f
			if i < n {
				if !math.IsInf(p[i], 1) && !sp.dominates(p, q[len(q)-1], i, pen) {
					for len(q) > head && sp.dominatesRight(p, q[len(q)-1], i) {
						q = q[:len(q)-1]
					}
					q = append(q, i)
				}
				for len(q)-head > 1 && sp.propagate(p, q[head], i+1, pen) > sp.propagate(p, q[head+1], i+1, pen)-1e-9 {
					head++
				}
			}
		}
		sp.queue = q
	}
	best, bk := math.Inf(1), -1
	for k := 1; k <= K; k++ {
		if sp.pot[k][n] < best {
			best, bk = sp.pot[k][n], k
		}
	}
	if bk < 0 {
		bk = K
	}
	sp.extractK(ind, tour, bk)
}

// extract writes the routes of the unlimited split (k routes).
func (sp *splitter) extract(ind *individual, tour []int32, k int) {
	pr := sp.pred[0]
	r := k - 1
	for j := len(tour); j > 0; r-- {
		i := pr[j]
		v := sp.freeRoutes[r]
		ind.routes[v] = append(ind.routes[v][:0], tour[i:j]...)
		j = i
	}
}

// extractK writes the routes of the limited split with k routes.
func (sp *splitter) extractK(ind *individual, tour []int32, k int) {
	j := len(tour)
	for r := k; r > 0 && j > 0; r-- {
		i := sp.pred[r][j]
		v := sp.freeRoutes[r-1]
		ind.routes[v] = append(ind.routes[v][:0], tour[i:j]...)
		j = i
	}
}

// greedy fills vehicles in order while every dimension fits; jobs that do
// not fit anywhere, or that a vehicle may not serve, stay unassigned (the
// local search inserts them).
func (sp *splitter) greedy(ind *individual, tour []int32) {
	in := sp.in
	D := in.D
	load := make([]int64, D)
	k, ri := 0, 0
	for ri < len(sp.freeRoutes) && k < len(tour) {
		v := sp.freeRoutes[ri]
		vd := &in.veh[v]
		clear(load)
		stops := 0
		for k < len(tour) {
			j := tour[k]
			if !in.compatible(j, v) {
				k++ // left unassigned; the local search inserts it
				continue
			}
			fits := vd.maxStops == 0 || stops+1 <= vd.maxStops
			for d := 0; d < D && fits; d++ {
				fits = load[d]+in.demand[int(j)*D+d] <= vd.cap[d]
			}
			if !fits {
				break
			}
			for d := 0; d < D; d++ {
				load[d] += in.demand[int(j)*D+d]
			}
			ind.routes[v] = append(ind.routes[v], j)
			stops++
			k++
		}
		ri++
	}
}
