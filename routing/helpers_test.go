package routing

import (
	"math"
	"math/rand/v2"
	"testing"
)

// tinyProblem is a random small instance: n jobs, k vehicles, coordinates
// on a 100 x 100 grid, asymmetric durations when asym, optional time
// windows and two capacity dimensions.
func tinyProblem(seed uint64, n, k int, tw, asym bool) *Problem {
	rng := rand.New(rand.NewPCG(seed, 3))
	m := n + 2
	xs, ys := make([]float64, m), make([]float64, m)
	for i := range xs {
		xs[i], ys[i] = rng.Float64()*100, rng.Float64()*100
	}
	p := &Problem{Name: "tiny"}
	p.Distances = make([][]int64, m)
	p.Durations = make([][]int64, m)
	for i := 0; i < m; i++ {
		p.Distances[i] = make([]int64, m)
		p.Durations[i] = make([]int64, m)
		for j := 0; j < m; j++ {
			d := math.Hypot(xs[i]-xs[j], ys[i]-ys[j])
			p.Distances[i][j] = int64(d)
			p.Durations[i][j] = int64(d)
			if asym && i < j {
				p.Durations[i][j] += int64(rng.IntN(7))
				p.Distances[i][j] += int64(rng.IntN(5))
			}
		}
	}
	for i := 0; i < n; i++ {
		j := Job{Location: i + 1, Demand: []int64{1 + rng.Int64N(9), rng.Int64N(3)}, Service: rng.Int64N(10)}
		if tw {
			s := rng.Int64N(300)
			j.TimeWindows = []TimeWindow{{s, s + 20 + rng.Int64N(100)}}
		}
		p.Jobs = append(p.Jobs, j)
	}
	for v := 0; v < k; v++ {
		veh := Vehicle{Start: 0, End: 0, Capacity: []int64{int64(5 * n / k), 4}}
		if v == 1 {
			veh.End = n + 1 // a different end
		}
		if tw {
			veh.Shift = TimeWindow{0, 600}
			if v == 0 {
				veh.MaxDuration = 400
			}
		}
		p.Vehicles = append(p.Vehicles, veh)
	}
	return p
}

// scratchCost recomputes the penalised cost of the search state with the
// independent sequence evaluation (no caches).
func scratchCost(s *search) int64 {
	in := s.in
	var total int64
	load := make([]int64, in.D)
	for _, r := range s.routes {
		seq := r.nodes[1 : len(r.nodes)-1]
		e := evalSeq(in, r.v, seq)
		clear(load)
		for _, j := range seq {
			for d := 0; d < in.D; d++ {
				load[d] += in.demand[int(j)*in.D+d]
			}
		}
		total += s.routeCost(r.v, e.travel, load, e.seg, e.dist, len(seq))
	}
	for j := 0; j < in.n; j++ {
		if in.active[j] && s.nodeRoute[j] < 0 {
			total += in.prize[j]
		}
	}
	return total
}

// randomState loads a random assignment of the active jobs (some left
// unassigned when drop is set).
func randomState(t testing.TB, in *inst, rng *rand.Rand, drop bool) (*search, *individual) {
	s := newSearch(in, rng)
	s.pen = penalties{load: 3.5, tw: 2.25, dist: 1.5}
	s.noPrune = rng.IntN(2) == 0
	ind := newIndividual(in)
	for v := range ind.routes {
		ind.routes[v] = append(ind.routes[v][:0], in.veh[v].fixedJobs...)
	}
	for j := 0; j < in.n; j++ {
		if !in.active[j] || (drop && rng.IntN(6) == 0) {
			continue
		}
		var vs []int
		for v := 0; v < in.nv; v++ {
			if in.compatible(int32(j), v) {
				vs = append(vs, v)
			}
		}
		if len(vs) == 0 {
			continue
		}
		v := vs[rng.IntN(len(vs))]
		ind.routes[v] = append(ind.routes[v], int32(j))
	}
	ind.evaluate(in)
	s.load(ind)
	return s, ind
}

func mustValid(t testing.TB, p *Problem) {
	t.Helper()
	if err := Validate(p); err != nil {
		t.Fatal(err)
	}
}
