package routing

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
)

// checkAllMoves evaluates every operator on every pair of nodes and checks
// that the delta of evaluate equals the recomputed cost change after apply.
// It returns the number of moves applied and how many of them were between
// routes of different travel profiles.
func checkAllMoves(t testing.TB, in *inst, seed uint64) (applied, cross int) {
	t.Helper()
	rng := rand.New(rand.NewPCG(seed, 11))
	s, ind := randomState(t, in, rng, true)
	base := scratchCost(s)
	if got := s.totalPenalized(); got != base {
		t.Fatalf("cached cost %d, recomputed %d", got, base)
	}
	checkAltData(t, s)
	nodes := in.n + 2*in.nv
	for _, op := range s.ops {
		for u := int32(0); int(u) < in.n; u++ {
			for v := int32(0); int(v) < nodes; v++ {
				if u == v || (int(v) >= in.n && (int(v)-in.n)%2 == 1) {
					continue
				}
				d := op.evaluate(s, u, v)
				if d >= infCost {
					continue
				}
				ru, rv := s.routeOf(u), s.routeOf(v)
				op.apply(s, u, v)
				after := scratchCost(s)
				if after-base != d {
					t.Fatalf("%T%v u=%d v=%d: evaluate %d, recomputed %d (state %v)", op, op, u, v, d, after-base, ind.routes)
				}
				if got := s.totalPenalized(); got != after {
					t.Fatalf("%T%v: cached cost %d after apply, recomputed %d", op, op, got, after)
				}
				checkAltData(t, s)
				applied++
				if ru != nil && rv != nil && ru.prof != rv.prof {
					cross++
				}
				s.load(ind) // back to the start state
			}
		}
	}
	// SWAP* between every pair of routes.
	for a := range s.routes {
		for b := a + 1; b < len(s.routes); b++ {
			if s.routes[a].empty() || s.routes[b].empty() {
				continue
			}
			if s.swapStar(s.routes[a], s.routes[b]) {
				after := scratchCost(s)
				if after >= base {
					t.Fatalf("swap* applied a non-improving move: %d -> %d", base, after)
				}
				applied++
				if s.routes[a].prof != s.routes[b].prof {
					cross++
				}
				s.load(ind)
			}
		}
	}
	// Route swaps between every two vehicles.
	for _, r1 := range s.routes {
		for _, r2 := range s.routes {
			r1, r2 := s.routes[r1.v], s.routes[r2.v]
			if r1 == r2 || !s.swapRoutesPlan(r1, r2) {
				continue
			}
			d := s.evalPlans(true, false)
			if d >= infCost {
				continue
			}
			s.commit(true)
			if after := scratchCost(s); after-base != d {
				t.Fatalf("route swap %d-%d: evaluate %d, recomputed %d (state %v)", r1.v, r2.v, d, after-base, ind.routes)
			}
			checkAltData(t, s)
			applied++
			if r1.prof != r2.prof {
				cross++
			}
			s.load(ind)
		}
	}
	// Every insertion of an unassigned job: insertDelta (O(1)) against the
	// plan of the same insertion and the cost recomputed after applying it.
	for u := int32(0); int(u) < in.n; u++ {
		if !in.active[u] || s.nodeRoute[u] >= 0 {
			continue
		}
		for _, r := range s.routes {
			if !in.compatible(u, r.v) {
				continue
			}
			for p := r.fixedLen; p < r.last(); p++ {
				d := s.insertDelta(u, r, p)
				s.insertPlan(u, r, p)
				pc := s.planCost(&s.planA)
				if d >= infCost || pc >= infCost {
					if d < infCost || pc < infCost {
						t.Fatalf("insert %d after %d of route %d: insertDelta %d, plan cost %d", u, p, r.v, d, pc)
					}
					continue
				}
				if want := pc - r.penalized - in.prize[u]; d != want {
					t.Fatalf("insert %d after %d of route %d: insertDelta %d, plan %d", u, p, r.v, d, want)
				}
				s.commit(false)
				if after := scratchCost(s); after-base != d {
					t.Fatalf("insert %d after %d of route %d: insertDelta %d, recomputed %d", u, p, r.v, d, after-base)
				}
				applied++
				s.load(ind)
			}
		}
	}
	// Insertion and removal.
	for u := int32(0); int(u) < in.n; u++ {
		if !in.active[u] {
			continue
		}
		if s.nodeRoute[u] < 0 {
			if s.tryInsert(u) {
				if after := scratchCost(s); after >= base {
					t.Fatalf("insert of %d did not improve: %d -> %d", u, base, after)
				}
				applied++
				s.load(ind)
			}
		} else if s.tryRemove(u) {
			if after := scratchCost(s); after >= base {
				t.Fatalf("removal of %d did not improve: %d -> %d", u, base, after)
			}
			applied++
			s.load(ind)
		}
	}
	return applied, cross
}

// checkAltData verifies the data every route keeps under the other travel
// profiles against a recomputation.
func checkAltData(t testing.TB, s *search) {
	t.Helper()
	in := s.in
	if len(in.prof) < 2 {
		return
	}
	for _, r := range s.routes {
		for q, m := range in.prof {
			cc, cd := r.cumIn(q)
			var c, d int64
			for p := 1; p < len(r.nodes); p++ {
				a, b := r.locs[p-1], r.locs[p]
				c += m.c(a, b)
				d += m.d(a, b)
				if cc[p] != c || cd[p] != d {
					t.Fatalf("route %d under profile %d: position %d cost/dist %d/%d, recomputed %d/%d", r.v, q, p, cc[p], cd[p], c, d)
				}
			}
			if !in.hasTime || q == r.prof || r.jobs() == 0 {
				continue
			}
			for a := 1; a < r.last(); a++ {
				seg := nodeSeg(in, r.nodes[a])
				for k := a + 1; k < r.last(); k++ {
					seg = merge(seg, m.t(r.locs[k-1], r.locs[k]), nodeSeg(in, r.nodes[k]))
				}
				if got := r.alt[q].bwdJ[a]; got != seg {
					t.Fatalf("route %d under profile %d: suffix segment at %d is %+v, recomputed %+v", r.v, q, a, got, seg)
				}
			}
		}
	}
}

func TestOperatorsExactDelta(t *testing.T) {
	for _, tc := range []struct {
		name     string
		tw       bool
		asym     bool
		n, k     int
		optional bool
	}{
		{"cvrp", false, false, 9, 3, false},
		{"vrptw", true, false, 9, 3, false},
		{"vrptw-asym", true, true, 10, 3, false},
		{"cvrp-asym-optional", false, true, 8, 2, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			total := 0
			for seed := uint64(1); seed <= 6; seed++ {
				p := tinyProblem(seed, tc.n, tc.k, tc.tw, tc.asym)
				if tc.optional {
					for j := range p.Jobs {
						if j%3 == 0 {
							p.Jobs[j].Penalty = 15
						}
					}
				}
				mustValid(t, p)
				in := compile(p, 6)
				n, _ := checkAllMoves(t, in, seed)
				total += n
			}
			if total == 0 {
				t.Fatal("no move was applied: the test checks nothing")
			}
		})
	}
}

func TestOperatorsWithFixedAndSkills(t *testing.T) {
	p := tinyProblem(5, 10, 3, true, false)
	p.Vehicles[0].Fixed = []int{3, 7}
	p.Vehicles[2].Skills = []int{1}
	p.Jobs[2].Skills = []int{1}
	p.Jobs[5].Vehicles = []int{1, 2}
	p.Vehicles[1].MaxStops = 4
	mustValid(t, p)
	in := compile(p, 5)
	if in.allCompat {
		t.Fatal("skills ignored")
	}
	for seed := uint64(1); seed <= 5; seed++ {
		rng := rand.New(rand.NewPCG(seed, 1))
		s, _ := randomState(t, in, rng, false)
		s.run()
		r0 := s.routes[0]
		if len(r0.nodes) < 4 || r0.nodes[1] != 3 || r0.nodes[2] != 7 {
			t.Fatalf("fixed head moved: %v", r0.nodes)
		}
		if r := s.nodeRoute[2]; r >= 0 && r != 2 {
			t.Fatalf("job 2 needs skill 1, is on vehicle %d", r)
		}
		if r := s.nodeRoute[5]; r == 0 {
			t.Fatalf("job 5 may not use vehicle 0")
		}
		if s.routes[1].jobs() > 4 {
			t.Fatalf("vehicle 1 has %d stops, max 4", s.routes[1].jobs())
		}
		checkAllMoves(t, in, seed)
	}
}

// TestStrictInsertion checks that the pruned strict insertion finds the
// cheapest feasible position that insertDelta finds by trying them all.
func TestStrictInsertion(t *testing.T) {
	found, none := 0, 0
	for seed := uint64(1); seed <= 40; seed++ {
		p := tinyProblem(seed, 14, 3, seed%2 == 0, seed%3 == 0)
		if seed%5 == 0 {
			p = withProfiles(p, seed, profileOpts{k: 2, asym: seed%2 == 1})
		}
		mustValid(t, p)
		in := compile(p, 5)
		rng := rand.New(rand.NewPCG(seed, 7))
		s, _ := randomState(t, in, rng, true)
		s.strict = true
		s.setPenalties(s.pen)
		for u := int32(0); int(u) < in.n; u++ {
			if !in.active[u] || s.nodeRoute[u] >= 0 {
				continue
			}
			for _, r := range s.routes {
				if r.empty() || !in.compatible(u, r.v) {
					continue
				}
				want := infCost
				for q := r.fixedLen; q < r.last(); q++ {
					want = min(want, s.insertDelta(u, r, q))
				}
				q, d := s.strictInsertion(u, r, infCost)
				switch {
				case want >= infCost && q >= 0:
					t.Fatalf("seed %d: job %d into route %d: position %d found, none is feasible", seed, u, r.v, q)
				case want >= infCost:
					none++
				case q < 0 || d != want || s.insertDelta(u, r, q) != d:
					t.Fatalf("seed %d: job %d into route %d: position %d delta %d, want delta %d", seed, u, r.v, q, d, want)
				default:
					found++
				}
			}
		}
	}
	if found == 0 || none == 0 {
		t.Fatalf("%d feasible and %d infeasible cases: the test covers too little", found, none)
	}
}

// TestRelocateTiny checks one relocate by hand on a line.
func TestRelocateTiny(t *testing.T) {
	// Locations on a line: depot 0 at x=0, jobs at x=1,2,3 (locations 1..3).
	x := []int64{0, 1, 2, 3}
	m := make([][]int64, 4)
	for i := range m {
		m[i] = make([]int64, 4)
		for j := range m[i] {
			m[i][j] = max(x[i]-x[j], x[j]-x[i])
		}
	}
	p := &Problem{Distances: m,
		Jobs:     []Job{{Location: 1}, {Location: 2}, {Location: 3}},
		Vehicles: []Vehicle{{Start: 0, End: 0}, {Start: 0, End: 0}}}
	mustValid(t, p)
	in := compile(p, 2)
	s := newSearch(in, rand.New(rand.NewPCG(1, 1)))
	ind := newIndividual(in)
	ind.routes[0] = []int32{0, 2} // 0 -> 1 -> 3 -> 0: 1 + 2 + 3 = 6
	ind.routes[1] = []int32{1}    // 0 -> 2 -> 0: 4
	ind.evaluate(in)
	s.load(ind)
	if got := s.totalPenalized(); got != 10 {
		t.Fatalf("cost %d, want 10", got)
	}
	// Relocate job 1 (x=2) after job 0 (x=1): route 0 becomes 0-1-2-3-0 = 6, route 1 empty.
	op := exchange{1, 0, false}
	if d := op.evaluate(s, 1, 0); d != -4 {
		t.Fatalf("delta %d, want -4", d)
	}
	op.apply(s, 1, 0)
	if got := s.totalPenalized(); got != 6 {
		t.Fatalf("cost after %d, want 6", got)
	}
	if fmt.Sprint(s.routes[0].nodes[1:4]) != "[0 1 2]" {
		t.Fatalf("route %v", s.routes[0].nodes)
	}
}

func FuzzOperators(f *testing.F) {
	f.Add(uint64(1), uint8(6), uint8(2), true, false)
	f.Add(uint64(7), uint8(9), uint8(3), false, true)
	f.Add(uint64(42), uint8(4), uint8(1), true, true)
	f.Fuzz(func(t *testing.T, seed uint64, n, k uint8, tw, asym bool) {
		nn := 2 + int(n)%9
		kk := 1 + int(k)%3
		p := tinyProblem(seed, nn, kk, tw, asym)
		if err := Validate(p); err != nil {
			t.Skip()
		}
		in := compile(p, 4)
		checkAllMoves(t, in, seed)
	})
}

// TestSegmentTables compares the tabled time segments of middle and
// reversed pieces with segments merged visit by visit, on a short route
// (tables) and a long one (merged on the fly), before and after a change.
func TestSegmentTables(t *testing.T) {
	for _, n := range []int{30, maxTableLen + 20} {
		p := RandomProblem(n, 1, 3, true)
		for i := range p.Durations { // asymmetric travel times
			for j := i + 1; j < len(p.Durations); j++ {
				p.Durations[i][j] += int64(j % 7)
			}
		}
		in := compile(p, 5)
		rng := rand.New(rand.NewPCG(uint64(n), 1))
		s, _ := randomState(t, in, rng, false)
		r := s.routes[0]
		for change := 0; change < 2; change++ {
			if r.jobs() < 4 {
				t.Fatalf("route of %d jobs", r.jobs())
			}
			for a := 1; a < r.last(); a++ {
				fwd, rev := nodeSeg(in, r.nodes[a]), nodeSeg(in, r.nodes[a])
				for b := a; b < r.last(); b++ {
					if b > a {
						fwd = merge(fwd, r.m.t(r.locs[b-1], r.locs[b]), nodeSeg(in, r.nodes[b]))
						rev = merge(nodeSeg(in, r.nodes[b]), r.m.t(r.locs[b], r.locs[b-1]), rev)
					}
					if got := r.between(in, a, b); got != fwd {
						t.Fatalf("n %d, change %d: between(%d, %d) = %v, want %v", n, change, a, b, got, fwd)
					}
					if got := r.reversed(in, a, b); got != rev {
						t.Fatalf("n %d, change %d: reversed(%d, %d) = %v, want %v", n, change, a, b, got, rev)
					}
				}
			}
			// Reverse a middle part of the route: every row is stale.
			slices.Reverse(r.nodes[2 : r.last()-1])
			s.step++
			s.update(r)
		}
	}
}
