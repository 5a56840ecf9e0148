package routing

import (
	"context"
	"math/rand/v2"
	"testing"
	"time"
)

// BenchmarkEvaluate measures one move evaluation (relocate, swap, 2-opt*)
// on a 200-job instance, with and without time windows.
func BenchmarkEvaluate(b *testing.B) {
	for _, tw := range []bool{false, true} {
		name := "cvrp"
		if tw {
			name = "vrptw"
		}
		b.Run(name, func(b *testing.B) {
			p := RandomProblem(200, 12, 1, tw)
			in := compile(p, 20)
			rng := rand.New(rand.NewPCG(1, 1))
			s, _ := randomState(b, in, rng, false)
			ops := []nodeOp{exchange{1, 0, false}, exchange{1, 1, false}, twoOptStar{}}
			b.ResetTimer()
			var sink int64
			for i := 0; i < b.N; i++ {
				u := int32(i % in.n)
				nb := in.neighbors[u]
				v := nb[i%len(nb)]
				sink += ops[i%3].evaluate(s, u, v)
			}
			_ = sink
		})
	}
}

// BenchmarkEvaluateIntraRoute measures one evaluation of a move inside a
// route (relocate, or-opt, swap, 2-opt) with time windows, on routes of
// about 50 jobs: the moved string's neighbours in the route and the
// reversed part of a 2-opt are middle segments of the route.
func BenchmarkEvaluateIntraRoute(b *testing.B) {
	for _, asym := range []bool{false, true} {
		name := "symmetric"
		if asym {
			name = "asymmetric"
		}
		b.Run(name, func(b *testing.B) {
			p := RandomProblem(200, 4, 1, true)
			if asym {
				for i := range p.Durations {
					for j := i + 1; j < len(p.Durations); j++ {
						p.Durations[i][j]++
						p.Distances[i][j] += 3
					}
				}
			}
			in := compile(p, 20)
			rng := rand.New(rand.NewPCG(1, 1))
			s, _ := randomState(b, in, rng, false)
			s.noPrune = true
			var pairs [][2]int32
			for _, r := range s.routes {
				for i := 1; i < r.last(); i++ {
					for j := 1; j < r.last(); j++ {
						if j < i-1 || j > i+1 {
							pairs = append(pairs, [2]int32{r.nodes[i], r.nodes[j]})
						}
					}
				}
			}
			ops := []nodeOp{exchange{1, 0, false}, exchange{2, 0, false}, exchange{1, 1, false}, twoOpt{}}
			b.ResetTimer()
			var sink int64
			for i := 0; i < b.N; i++ {
				pr := pairs[i%len(pairs)]
				sink += ops[i%len(ops)].evaluate(s, pr[0], pr[1])
			}
			_ = sink
		})
	}
}

// BenchmarkLocalSearch measures one full local search from a random
// solution of a 200-job instance.
func BenchmarkLocalSearch(b *testing.B) {
	for _, tw := range []bool{false, true} {
		name := "cvrp"
		if tw {
			name = "vrptw"
		}
		b.Run(name, func(b *testing.B) {
			p := RandomProblem(200, 12, 1, tw)
			in := compile(p, 20)
			h := newHGS(context.Background(), in, defaultParams(), 1, time.Now(), time.Time{}, 0, nil)
			ind := h.randomIndividual()
			start := newIndividual(in)
			copyIndividual(start, ind)
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				copyIndividual(ind, start)
				h.educate(ind, 1)
			}
		})
	}
}

// BenchmarkFirstFeasible1000TW measures the construction of a first
// solution for 1000 jobs with time windows and 50 vehicles.
func BenchmarkFirstFeasible1000TW(b *testing.B) {
	p := RandomProblem(1000, 50, 1, true)
	for i := 0; i < b.N; i++ {
		in := compile(p, 20)
		c := construct(in)
		if !c.feasible || countUnassigned(in, c) > 0 {
			b.Fatalf("feasible %v, %d unassigned", c.feasible, countUnassigned(in, c))
		}
	}
}
