package routing

import "testing"

// The two constructions for constrained problems return plans that Check
// accepts: fixed stops first, skills, capacities, windows and shifts kept;
// regret insertion places every job when the fleet has room.
func TestConstructionsFeasible(t *testing.T) {
	cases := map[string]*Problem{
		"tw":          RandomProblem(300, 30, 4, true),
		"mixed fleet": RandomMixedFleet(200, 20, 5, true),
	}
	fixed := RandomProblem(120, 12, 6, true)
	fixed.Vehicles[3].Skills = []int{1}
	fixed.Vehicles[4].Skills = []int{1}
	for j := 0; j < 4; j++ {
		fixed.Jobs[20+j].Skills = []int{1}
	}
	// Vehicle 0 must open with jobs 5 and then the first job that can
	// follow it in time.
	for j := 6; j < len(fixed.Jobs); j++ {
		if evalSeq(compile(fixed, 30), 0, []int32{5, int32(j)}).feasible() {
			fixed.Vehicles[0].Fixed = []int{5, j}
			break
		}
	}
	if fixed.Vehicles[0].Fixed == nil {
		t.Fatal("no job can follow job 5")
	}
	cases["fixed and skills"] = fixed
	for name, p := range cases {
		mustValid(t, p)
		in := compile(p, 30)
		for cname, build := range map[string]func(*inst) *individual{"regret": regretInsertion, "sequential": insertion} {
			ind := build(in)
			ind.evaluate(in)
			if !ind.feasible {
				t.Fatalf("%s/%s: infeasible construction", name, cname)
			}
			// Regret insertion serves the jobs few vehicles may take
			// first; sequential insertion may fill those vehicles before.
			if u := countUnassigned(in, ind); u > 0 && cname == "regret" {
				t.Errorf("%s/%s: %d jobs unassigned", name, cname, u)
			}
			sol := buildSolution(in, ind)
			if vs := Check(p, sol); len(vs) > 0 {
				t.Fatalf("%s/%s: %v", name, cname, vs[0])
			}
			if name == "fixed and skills" {
				r0 := ind.routes[0]
				if len(r0) < 2 || r0[0] != 5 || int(r0[1]) != p.Vehicles[0].Fixed[1] {
					t.Fatalf("%s: fixed stops not first: %v", cname, r0)
				}
			}
		}
		// construct keeps the better of the two.
		c := construct(in)
		for _, build := range []func(*inst) *individual{regretInsertion, insertion} {
			x := build(in)
			x.evaluate(in)
			if x.weight < c.weight || x.weight == c.weight && x.cost() < c.cost() {
				t.Fatalf("%s: construct kept %d, a construction reached %d", name, c.cost(), x.cost())
			}
		}
	}
}

// Regret insertion spreads its first routes over the map: on a problem
// needing several vehicles by demand it opens at least that many at once,
// and the result is not worse than twice the sequential construction.
func TestRegretInsertionQuality(t *testing.T) {
	p := RandomProblem(400, 40, 8, true)
	in := compile(p, 30)
	if k := regretRoutes(in); k < 2 {
		t.Fatalf("lower bound on routes %d", k)
	}
	r := regretInsertion(in)
	r.evaluate(in)
	s := insertion(in)
	s.evaluate(in)
	if !r.feasible || r.weight != 0 {
		t.Fatalf("regret: feasible %v, unassigned weight %d", r.feasible, r.weight)
	}
	if r.cost() > 2*s.cost() {
		t.Fatalf("regret %d vs sequential %d", r.cost(), s.cost())
	}
	t.Logf("regret %d (%d routes), sequential %d (%d routes)", r.cost(), r.nRoutes, s.cost(), s.nRoutes)
}

// When the fleet cannot take every job, no individual with all jobs routed
// is feasible: the search still improves on the construction (repairing
// individuals as it goes) and reports it, and the plan it returns is valid.
func TestOverConstrainedProgress(t *testing.T) {
	p := RandomProblem(40, 2, 9, true)
	for d := range p.Vehicles[0].Capacity {
		var total int64
		for _, j := range p.Jobs {
			total += j.Demand[d]
		}
		for v := range p.Vehicles {
			p.Vehicles[v].Capacity[d] = total / 4 // the two take half
		}
	}
	in := compile(p, 30)
	c := construct(in)
	if countUnassigned(in, c) == 0 {
		t.Fatal("the fleet takes every job: not an over-constrained problem")
	}
	var reports []Progress
	sol := solveOK(t, p, Options{MaxIterations: 5, Seed: 1, Progress: func(pr Progress) { reports = append(reports, pr) }})
	if len(reports) < 2 {
		t.Fatalf("%d progress reports, want the construction and at least one improvement", len(reports))
	}
	last := reports[len(reports)-1]
	// Here the search serves jobs the construction left out.
	if last.Unassigned >= countUnassigned(in, c) {
		t.Fatalf("no fewer unassigned reported: construction %d unassigned, last report %+v", countUnassigned(in, c), last)
	}
	if len(sol.Unassigned) > last.Unassigned {
		t.Fatalf("returned %d unassigned, reported %d", len(sol.Unassigned), last.Unassigned)
	}
	t.Logf("construction %d unassigned; %d reports, last %d unassigned; returned %d", countUnassigned(in, c), len(reports), last.Unassigned, len(sol.Unassigned))
}
