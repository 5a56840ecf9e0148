package routing

import (
	"context"
	"errors"
	"math"
	"math/rand/v2"
	"reflect"
	"testing"
	"time"
)

func solveOK(t *testing.T, p *Problem, opt Options) *Solution {
	t.Helper()
	sol, err := Solve(context.Background(), p, opt)
	if err != nil {
		t.Fatal(err)
	}
	if v := Check(p, sol); len(v) > 0 {
		t.Fatalf("infeasible solution: %v", v)
	}
	return sol
}

func TestSolveTinyVariants(t *testing.T) {
	for seed := uint64(1); seed <= 8; seed++ {
		for _, tw := range []bool{false, true} {
			p := tinyProblem(seed, 12, 3, tw, seed%2 == 0)
			if seed%3 == 0 {
				p.Jobs[1].Penalty = 5
				p.Jobs[2].Priority = 3
				p.Vehicles[2].FixedCost = 50
				p.Vehicles[1].End = None
			}
			if seed%4 == 0 {
				p.Vehicles[0].Fixed = []int{4}
				p.Jobs[6].Skills = []int{9}
				p.Vehicles[1].Skills = []int{9}
				p.Vehicles[2].MaxStops = 3
				p.Vehicles[2].MaxDistance = 250
			}
			solveOK(t, p, Options{MaxIterations: 6, Seed: int64(seed)})
		}
	}
}

func TestSolveDeterministic(t *testing.T) {
	p := tinyProblem(3, 16, 4, true, true)
	a := solveOK(t, p, Options{MaxIterations: 15, Seed: 7, Threads: 2})
	b := solveOK(t, p, Options{MaxIterations: 15, Seed: 7, Threads: 2})
	if !reflect.DeepEqual(a, b) {
		t.Fatalf("same seed, different solutions: %v vs %v", a.Summary, b.Summary)
	}
}

func TestSolveProgressAndCancel(t *testing.T) {
	p := RandomProblem(60, 5, 3, true)
	ctx, cancel := context.WithCancel(context.Background())
	var calls int
	var last Progress
	sol, err := Solve(ctx, p, Options{TimeLimit: time.Hour, Progress: func(pr Progress) {
		calls++
		if calls > 1 && pr.BestCost > last.BestCost && pr.Unassigned >= last.Unassigned {
			t.Errorf("progress went up: %v after %v", pr, last)
		}
		last = pr
		if calls == 2 {
			cancel()
		}
	}})
	if err != nil {
		t.Fatal(err)
	}
	if v := Check(p, sol); len(v) > 0 {
		t.Fatal(v)
	}
	if calls == 0 {
		t.Fatal("no progress reported")
	}
}

func TestBadInput(t *testing.T) {
	good := func() *Problem { return tinyProblem(1, 4, 2, true, false) }
	for _, tc := range []struct {
		name string
		mod  func(p *Problem)
	}{
		{"no jobs", func(p *Problem) { p.Jobs = nil }},
		{"no vehicles", func(p *Problem) { p.Vehicles = nil }},
		{"no matrix", func(p *Problem) { p.Distances, p.Durations = nil, nil }},
		{"short row", func(p *Problem) { p.Durations[2] = p.Durations[2][:3] }},
		{"wrong size", func(p *Problem) { p.Distances = p.Distances[:3] }},
		{"negative entry", func(p *Problem) { p.Distances[1][2] = -4 }},
		{"huge entry", func(p *Problem) { p.Durations[1][2] = math.MaxInt64 }},
		{"bad location", func(p *Problem) { p.Jobs[0].Location = 99 }},
		{"negative demand", func(p *Problem) { p.Jobs[0].Demand[0] = -1 }},
		{"demand dims", func(p *Problem) { p.Jobs[0].Demand = []int64{1, 2, 3} }},
		{"reversed window", func(p *Problem) { p.Jobs[0].TimeWindows = []TimeWindow{{10, 5}} }},
		{"bad vehicle index", func(p *Problem) { p.Jobs[0].Vehicles = []int{7} }},
		{"fixed twice", func(p *Problem) { p.Vehicles[0].Fixed = []int{1}; p.Vehicles[1].Fixed = []int{1} }},
		{"priority", func(p *Problem) { p.Jobs[0].Priority = 1000 }},
		{"objective", func(p *Problem) { p.Objective = "fun" }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := good()
			tc.mod(p)
			_, err := Solve(context.Background(), p, Options{MaxIterations: 5})
			if !errors.Is(err, ErrInvalidProblem) {
				t.Fatalf("got %v, want ErrInvalidProblem", err)
			}
		})
	}
	if _, err := Solve(context.Background(), good(), Options{}); !errors.Is(err, ErrNoLimit) {
		t.Fatalf("zero limits: got %v", err)
	}
	if _, err := Solve(context.Background(), nil, Options{MaxIterations: 1}); !errors.Is(err, ErrInvalidProblem) {
		t.Fatalf("nil problem: got %v", err)
	}
}

func TestUnassignedReasons(t *testing.T) {
	p := tinyProblem(2, 8, 2, true, false)
	p.Jobs[0].Demand = []int64{1000, 0} // exceeds every capacity
	p.Jobs[1].TimeWindows = []TimeWindow{{0, 0}}
	p.Jobs[1].Location = 5 // not at the depot: unreachable at time 0
	p.Jobs[2].Skills = []int{42}
	p.Jobs[3].Service = 10000 // longer than any shift
	sol := solveOK(t, p, Options{MaxIterations: 20})
	want := map[int]string{0: "capacity", 1: "time_window", 2: "skills", 3: "time_window"}
	got := map[int]string{}
	for _, u := range sol.Unassigned {
		got[u.Job] = u.Reason
	}
	for j, r := range want {
		if got[j] != r {
			t.Errorf("job %d: reason %q, want %q", j, got[j], r)
		}
	}
	if sol.Summary.Unassigned != 4 {
		t.Errorf("%d unassigned, want 4: %v", sol.Summary.Unassigned, sol.Unassigned)
	}
}

func TestFleetTooSmall(t *testing.T) {
	// Two vehicles of capacity 10 for 8 jobs of demand 4: at most 4 served.
	p := tinyProblem(4, 8, 2, false, false)
	for i := range p.Jobs {
		p.Jobs[i].Demand = []int64{4, 0}
	}
	p.Jobs[5].Priority = 50
	for i := range p.Vehicles {
		p.Vehicles[i].Capacity = []int64{10, 10}
	}
	sol := solveOK(t, p, Options{MaxIterations: 50})
	if sol.Summary.Unassigned != 4 {
		t.Fatalf("%d unassigned, want 4", sol.Summary.Unassigned)
	}
	for _, u := range sol.Unassigned {
		if u.Job == 5 {
			t.Fatal("the high-priority job was left out")
		}
	}
}

func TestWarmStartAndFixed(t *testing.T) {
	p := tinyProblem(6, 15, 3, true, false)
	first := solveOK(t, p, Options{MaxIterations: 8})
	// Lock the first stop of the first route and re-optimise from the plan.
	r := first.Routes[0]
	p.Vehicles[r.Vehicle].Fixed = []int{r.Stops[0].Job}
	second := solveOK(t, p, Options{MaxIterations: 8, Initial: first})
	if second.Summary.UnassignedWeight > first.Summary.UnassignedWeight {
		t.Fatalf("warm start lost jobs: %v -> %v", first.Summary, second.Summary)
	}
}

func TestCheckCatchesViolations(t *testing.T) {
	p := tinyProblem(8, 6, 2, true, false)
	sol := solveOK(t, p, Options{MaxIterations: 10})
	if len(sol.Routes) == 0 {
		t.Fatal("no routes")
	}
	mut := func(f func(s *Solution)) []Violation {
		c := cloneSolution(sol)
		f(c)
		return Check(p, c)
	}
	cases := map[string]func(s *Solution){
		"duplicate": func(s *Solution) { s.Routes[0].Stops = append(s.Routes[0].Stops, s.Routes[0].Stops[0]) },
		"missing": func(s *Solution) {
			s.Routes[0].Stops = s.Routes[0].Stops[1:]
		},
		"capacity": func(s *Solution) { p.Vehicles[s.Routes[0].Vehicle].Capacity[0] = 0 },
		"schedule": func(s *Solution) { s.Routes[0].Stops[0].Arrival++ },
		"summary":  func(s *Solution) { s.Summary.Cost-- },
		"vehicle":  func(s *Solution) { s.Routes[0].Vehicle = 99 },
	}
	for name, f := range cases {
		capBefore := append([]int64(nil), p.Vehicles[sol.Routes[0].Vehicle].Capacity...)
		if v := mut(f); len(v) == 0 {
			t.Errorf("%s: not caught", name)
		}
		p.Vehicles[sol.Routes[0].Vehicle].Capacity = capBefore
	}
}

func cloneSolution(s *Solution) *Solution {
	c := *s
	c.Routes = make([]Route, len(s.Routes))
	for i, r := range s.Routes {
		r.Stops = append([]Stop(nil), r.Stops...)
		c.Routes[i] = r
	}
	c.Unassigned = append([]Unassigned(nil), s.Unassigned...)
	return &c
}

func TestRouteMinimisation(t *testing.T) {
	p := RandomProblem(80, 30, 11, true)
	for i := range p.Vehicles {
		p.Vehicles[i].FixedCost = 1 << 30
	}
	in := compile(p, 20)
	c := construct(in)
	sol := solveOK(t, p, Options{MaxIterations: 2, Seed: 3})
	if sol.Summary.Vehicles > c.nRoutes {
		t.Fatalf("%d vehicles, the construction had %d", sol.Summary.Vehicles, c.nRoutes)
	}
	again := solveOK(t, p, Options{MaxIterations: 2, Seed: 3})
	if !reflect.DeepEqual(sol, again) {
		t.Fatal("route minimisation is not deterministic for an iteration limit")
	}
	t.Logf("construction %d routes, solution %d routes, travel %d", c.nRoutes, sol.Summary.Vehicles, sol.Summary.Travel)
}

// TestRuinRecreateLarge solves a problem with time windows and enough jobs
// for ruin and recreate: every job served, the solution feasible, and
// cheaper than the construction it starts from.
func TestRuinRecreateLarge(t *testing.T) {
	p := RandomProblem(lnsJobs, 20, 5, true)
	in := compile(p, defaultParams().granular)
	c := construct(in)
	if !largeWithWindows(in, c) {
		t.Fatal("the problem does not take the ruin and recreate path")
	}
	sol := solveOK(t, p, Options{MaxIterations: 2, Seed: 3, Threads: 2})
	if sol.Summary.Unassigned > 0 {
		t.Fatalf("%d jobs unassigned", sol.Summary.Unassigned)
	}
	if int64(sol.Summary.Cost) >= c.cost() {
		t.Fatalf("cost %d, not below the construction's %d", sol.Summary.Cost, c.cost())
	}
	// Two threads meeting at every epoch stay deterministic with an
	// iteration limit.
	if again := solveOK(t, p, Options{MaxIterations: 2, Seed: 3, Threads: 2}); !reflect.DeepEqual(sol, again) {
		t.Fatalf("same seed, different solutions: %v vs %v", sol.Summary, again.Summary)
	}
}

// TestRuinRecreateOverConstrained gives ruin and recreate more jobs than
// the fleet can serve in their windows: the solution is feasible, and
// serves more jobs than the construction.
func TestRuinRecreateOverConstrained(t *testing.T) {
	p := RandomProblem(lnsJobs, 20, 8, true)
	for i := range p.Vehicles {
		p.Vehicles[i].Capacity[0] = p.Vehicles[i].Capacity[0] * 3 / 5 // less than the total demand
	}
	in := compile(p, defaultParams().granular)
	c := construct(in)
	if !largeWithWindows(in, c) || countUnassigned(in, c) == 0 {
		t.Fatalf("the problem does not take the ruin and recreate path with jobs left out (%d unassigned)", countUnassigned(in, c))
	}
	sol := solveOK(t, p, Options{MaxIterations: 3, Seed: 1})
	t.Logf("%d unassigned, the construction left %d", sol.Summary.Unassigned, countUnassigned(in, c))
	if sol.Summary.Unassigned >= countUnassigned(in, c) {
		t.Fatalf("%d unassigned, the construction left %d", sol.Summary.Unassigned, countUnassigned(in, c))
	}
}

// TestRuinRecreateFixedCosts: with a fixed cost per vehicle (not so large
// that route minimisation takes over), ruin and recreate empties routes the
// travel cost alone would keep.
func TestRuinRecreateFixedCosts(t *testing.T) {
	p := RandomProblem(lnsJobs, 40, 2, true)
	for i := range p.Vehicles {
		p.Vehicles[i].Capacity[0] *= 4 // the windows and shifts, not the capacity, bound the routes
	}
	free := solveOK(t, p, Options{MaxIterations: 3, Seed: 1})
	for i := range p.Vehicles {
		p.Vehicles[i].FixedCost = 3 * free.Summary.Travel / Cost(free.Summary.Vehicles)
	}
	in := compile(p, defaultParams().granular)
	if c := construct(in); !largeWithWindows(in, c) || fixedCostsDominate(in, c) {
		t.Fatal("the problem does not take the ruin and recreate path")
	}
	paid := solveOK(t, p, Options{MaxIterations: 3, Seed: 1})
	t.Logf("routes: %d without fixed costs, %d with", free.Summary.Vehicles, paid.Summary.Vehicles)
	if paid.Summary.Vehicles >= free.Summary.Vehicles {
		t.Fatalf("%d routes with fixed costs, %d without", paid.Summary.Vehicles, free.Summary.Vehicles)
	}
}

// TestPartition splits a solution's routes into groups of linked routes:
// every vehicle in a group, the jobs shared out about evenly.
func TestPartition(t *testing.T) {
	p := RandomProblem(lnsJobs, 24, 4, true)
	in := compile(p, defaultParams().granular)
	c := construct(in)
	for _, k := range []int{2, 3} {
		pt := newPartition(in, rand.New(rand.NewPCG(uint64(k), 1)))
		owner := pt.split(c, k)
		jobs := make([]int, k)
		for v, g := range owner {
			if g < 0 || g >= k {
				t.Fatalf("vehicle %d in group %d of %d", v, g, k)
			}
			jobs[g] += len(c.routes[v])
		}
		for g, n := range jobs {
			if n < in.n/(2*k) {
				t.Fatalf("%d groups: group %d has %d of %d jobs", k, g, n, in.n)
			}
		}
	}
}
