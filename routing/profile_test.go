package routing

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"
	"time"
)

// profileOpts says how withProfiles derives travel profiles.
type profileOpts struct {
	k      int  // profiles
	asym   bool // asymmetric noise on the profiles' durations
	shared bool // the distances stay at the top level (every profile falls back to them)
	costs  bool // each profile has its own costs matrix
}

// withProfiles gives p (with top-level durations and distances) o.k travel
// profiles: profile q is faster or slower by a factor, has its own
// distances unless shared, and its own costs when costs. Vehicle v uses
// profile v mod k. The top-level durations are removed.
func withProfiles(p *Problem, seed uint64, o profileOpts) *Problem {
	rng := rand.New(rand.NewPCG(seed, 17))
	n := len(p.Durations)
	speed := []float64{1, 0.4, 2.5, 1.3}
	mat := func(f func(i, j int) int64) [][]int64 {
		m := make([][]int64, n)
		for i := range m {
			m[i] = make([]int64, n)
			for j := range m[i] {
				if i != j {
					m[i][j] = f(i, j)
				}
			}
		}
		return m
	}
	for q := 0; q < o.k; q++ {
		pr := Profile{Name: fmt.Sprint("p", q)}
		pr.Durations = mat(func(i, j int) int64 {
			d := int64(float64(p.Durations[i][j]) / speed[q%len(speed)])
			if o.asym && i < j {
				d += rng.Int64N(4)
			}
			return d
		})
		if !o.shared {
			pr.Distances = mat(func(i, j int) int64 { return p.Distances[i][j] + int64(q)*rng.Int64N(3) })
		}
		if o.costs {
			pr.Costs = mat(func(i, j int) int64 { return pr.Durations[i][j] + int64(q+1)*p.Distances[i][j]/2 })
		}
		p.Profiles = append(p.Profiles, pr)
	}
	p.Durations = nil
	if !o.shared {
		p.Distances = nil
	}
	for v := range p.Vehicles {
		p.Vehicles[v].Profile = v % o.k
	}
	return p
}

func TestOperatorsExactDeltaProfiles(t *testing.T) {
	for _, tc := range []struct {
		name     string
		tw       bool
		asym     bool
		n, k     int
		o        profileOpts
		optional bool
	}{
		{"cvrp-2", false, false, 9, 3, profileOpts{k: 2}, false},
		{"vrptw-3", true, false, 9, 4, profileOpts{k: 3}, false},
		{"vrptw-asym-shared", true, true, 10, 3, profileOpts{k: 2, asym: true, shared: true}, false},
		{"vrptw-costs", true, false, 9, 3, profileOpts{k: 3, costs: true}, false},
		{"cvrp-asym-optional", false, true, 8, 3, profileOpts{k: 2, asym: true}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			total, cross := 0, 0
			for seed := uint64(1); seed <= 5; seed++ {
				p := withProfiles(tinyProblem(seed, tc.n, tc.k, tc.tw, tc.asym), seed, tc.o)
				if tc.optional {
					for j := range p.Jobs {
						if j%3 == 0 {
							p.Jobs[j].Penalty = 15
						}
					}
				}
				mustValid(t, p)
				in := compile(p, 6)
				if len(in.prof) < 2 {
					t.Fatalf("%d compiled profiles, want several", len(in.prof))
				}
				a, c := checkAllMoves(t, in, seed)
				total += a
				cross += c
			}
			if cross == 0 {
				t.Fatalf("%d moves applied, none between routes of different profiles: the test checks nothing", total)
			}
			t.Logf("%d moves applied, %d between profiles", total, cross)
		})
	}
}

func FuzzOperatorsProfiles(f *testing.F) {
	f.Add(uint64(1), uint8(6), uint8(3), uint8(2), true, false, false)
	f.Add(uint64(7), uint8(9), uint8(3), uint8(3), false, true, true)
	f.Add(uint64(42), uint8(5), uint8(2), uint8(4), true, true, false)
	f.Fuzz(func(t *testing.T, seed uint64, n, k, np uint8, tw, asym, shared bool) {
		nn := 2 + int(n)%9
		kk := 2 + int(k)%3
		o := profileOpts{k: 2 + int(np)%3, asym: asym, shared: shared, costs: seed%3 == 0}
		p := withProfiles(tinyProblem(seed, nn, kk, tw, asym), seed, o)
		rng := rand.New(rand.NewPCG(seed, 5))
		for v := range p.Vehicles {
			p.Vehicles[v].Profile = rng.IntN(o.k)
		}
		if err := Validate(p); err != nil {
			t.Fatal(err)
		}
		in := compile(p, 4)
		checkAllMoves(t, in, seed)
	})
}

// footAndCar is a depot (location 0), a near location 1 (1 km) and a far
// one 2 (6 km), with a "foot" profile (1.25 m/s) and a "car" profile
// (7 m/s) sharing the distances; vehicle 0 walks, vehicle 1 drives. Job 0
// is near, job 1 is far and must be served within 20 minutes.
func footAndCar() *Problem {
	x := []int64{0, 1000, 6000}
	dist := make([][]int64, 3)
	foot, car := make([][]int64, 3), make([][]int64, 3)
	for i := range dist {
		dist[i], foot[i], car[i] = make([]int64, 3), make([]int64, 3), make([]int64, 3)
		for j := range dist {
			d := max(x[i]-x[j], x[j]-x[i])
			dist[i][j], foot[i][j], car[i][j] = d, d*4/5, d/7
		}
	}
	return &Problem{
		Distances: dist,
		Objective: MinimizeDuration,
		Profiles:  []Profile{{Name: "foot", Durations: foot}, {Name: "car", Durations: car}},
		Jobs: []Job{{Location: 1, Service: 60},
			{Location: 2, Service: 60, TimeWindows: []TimeWindow{{0, 1200}}}},
		Vehicles: []Vehicle{{ID: "walker", Start: 0, End: 0, Profile: 0},
			{ID: "driver", Start: 0, End: 0, Profile: 1, FixedCost: 100000}},
	}
}

func TestCheckProfiles(t *testing.T) {
	p := footAndCar()
	mustValid(t, p)
	// By car the far job is reached at 916 s (via the near one).
	byCar, err := Evaluate(p, [][]int{{}, {0, 1}})
	if err != nil {
		t.Fatal(err)
	}
	if v := Check(p, byCar); len(v) > 0 {
		t.Fatalf("feasible by car: %v", v)
	}
	r := byCar.Routes[0]
	if r.Vehicle != 1 || r.Stops[1].Arrival != 142+60+714 || r.Duration != 142+60+714+60+857 || r.Cost != 100000+142+714+857 {
		t.Fatalf("car figures: %+v", r)
	}
	// On foot the far job is reached after 4800 s: too late.
	byFoot, err := Evaluate(p, [][]int{{0, 1}, {}})
	if err != nil {
		t.Fatal(err)
	}
	v := Check(p, byFoot)
	if len(v) != 1 || v[0].Kind != "time_window" || v[0].Job != 1 {
		t.Fatalf("on foot: want one time_window violation of job 1, got %v", v)
	}
	if byFoot.Routes[0].Duration != 800+60+4000+60+4800 {
		t.Fatalf("foot duration %d", byFoot.Routes[0].Duration)
	}
	// The car's schedule handed to the walker: Check recomputes it on foot.
	moved := cloneSolution(byCar)
	moved.Routes[0].Vehicle = 0
	moved.Summary.Fixed, moved.Summary.Cost = 0, moved.Summary.Cost-100000
	kinds := map[string]bool{}
	for _, x := range Check(p, moved) {
		kinds[x.Kind] = true
	}
	if !kinds["time_window"] || !kinds["schedule"] || !kinds["cost"] {
		t.Fatalf("a car schedule on foot: want time_window, schedule and cost violations, got %v", kinds)
	}
	// Without profiles, the same data with the car's durations at the top
	// level gives the same figures.
	flat := footAndCar()
	flat.Durations, flat.Profiles = flat.Profiles[1].Durations, nil
	flat.Vehicles[1].Profile = 0
	same, err := Evaluate(flat, [][]int{{}, {0, 1}})
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(same, byCar) {
		t.Fatalf("top-level car matrices: %+v, car profile: %+v", same, byCar)
	}
}

// TestSolveSlowVehicle: the walkers cost nothing and the van a lot, but
// the walkers are too slow for the far jobs' windows (except one at a
// time): the van must take every far job, the walkers the near ones.
func TestSolveSlowVehicle(t *testing.T) {
	// Locations: 0 depot; 1..8 near (within 600 m); 9..14 far (5 km east,
	// 300 m apart).
	type pt struct{ x, y float64 }
	pts := []pt{{0, 0}}
	for k := 0; k < 8; k++ {
		a := float64(k) * math.Pi / 4
		pts = append(pts, pt{600 * math.Cos(a), 600 * math.Sin(a)})
	}
	for k := 0; k < 6; k++ {
		pts = append(pts, pt{5000 + 300*float64(k%3), 300 * float64(k/3)})
	}
	n := len(pts)
	mk := func(mps float64) [][]int64 {
		m := make([][]int64, n)
		for i := range m {
			m[i] = make([]int64, n)
			for j := range m[i] {
				m[i][j] = int64(math.Ceil(math.Hypot(pts[i].x-pts[j].x, pts[i].y-pts[j].y) / mps))
			}
		}
		return m
	}
	p := &Problem{Objective: MinimizeDuration,
		Profiles: []Profile{{Name: "foot", Durations: mk(1.25)}, {Name: "van", Durations: mk(6.1)}}}
	for l := 1; l < n; l++ {
		j := Job{ID: fmt.Sprint("j", l), Location: l, Demand: []int64{1}, Service: 120}
		if l > 8 {
			// On foot the first far job is reached after 4000 s, the
			// next one too late.
			j.TimeWindows = []TimeWindow{{0, 4200}}
		}
		p.Jobs = append(p.Jobs, j)
	}
	p.Vehicles = []Vehicle{
		{ID: "walker-1", Start: 0, End: 0, Capacity: []int64{20}, Profile: 0},
		{ID: "walker-2", Start: 0, End: 0, Capacity: []int64{20}, Profile: 0},
		{ID: "van", Start: 0, End: 0, Capacity: []int64{6}, Profile: 1, FixedCost: 50000},
	}
	for seed := int64(1); seed <= 3; seed++ {
		sol := solveOK(t, p, Options{MaxIterations: 30, Seed: seed})
		if sol.Summary.Unassigned > 0 {
			t.Fatalf("seed %d: unassigned %v", seed, sol.Unassigned)
		}
		for _, r := range sol.Routes {
			for _, st := range r.Stops {
				far := p.Jobs[st.Job].Location > 8
				if far != (r.Vehicle == 2) {
					t.Fatalf("seed %d: job %d (far %v) is on vehicle %d", seed, st.Job, far, r.Vehicle)
				}
			}
		}
	}
	// Ignoring the profiles (the van's durations for everyone) the walkers
	// would take the far jobs: the profiles decide.
	flat := *p
	flat.Durations, flat.Profiles = p.Profiles[1].Durations, nil
	flat.Vehicles = append([]Vehicle(nil), p.Vehicles...)
	flat.Vehicles[2].Profile = 0
	sol := solveOK(t, &flat, Options{MaxIterations: 30, Seed: 1})
	for _, r := range sol.Routes {
		if r.Vehicle == 2 {
			t.Fatal("without profiles the van should stay at the depot")
		}
	}
	if v := Check(p, sol); len(v) == 0 {
		t.Fatal("the single-profile plan passes Check with the walking profile")
	}
}

func TestSolveProfilesCheck(t *testing.T) {
	for seed := uint64(1); seed <= 4; seed++ {
		for _, tw := range []bool{false, true} {
			o := profileOpts{k: 2 + int(seed)%3, asym: seed%2 == 0, shared: seed%3 == 0, costs: seed%4 == 1}
			p := withProfiles(tinyProblem(seed, 12, 4, tw, o.asym), seed, o)
			if seed%3 == 0 {
				p.Jobs[1].Penalty = 5
				p.Vehicles[2].FixedCost = 50
				p.Vehicles[1].End = None
				p.Vehicles[3].MaxDistance = 200
			}
			if seed%4 == 0 {
				p.Vehicles[0].Fixed = []int{4}
				p.Jobs[6].Skills = []int{9}
				p.Vehicles[1].Skills = []int{9}
				p.Vehicles[2].MaxStops = 3
			}
			solveOK(t, p, Options{MaxIterations: 5, Seed: int64(seed)})
		}
	}
}

func TestSolveMixedFleet(t *testing.T) {
	p := RandomMixedFleet(20, 4, 5, true)
	mustValid(t, p)
	a := solveOK(t, p, Options{MaxIterations: 3, Seed: 2})
	b := solveOK(t, p, Options{MaxIterations: 3, Seed: 2})
	if !reflect.DeepEqual(a, b) {
		t.Fatal("not deterministic with profiles")
	}
	// Warm start from the plan.
	solveOK(t, p, Options{MaxIterations: 2, Seed: 3, Initial: a})
	// Route minimisation and the fixed-fleet ruin and recreate.
	for i := range p.Vehicles {
		p.Vehicles[i].FixedCost = 1 << 30
	}
	c := solveOK(t, p, Options{MaxIterations: 2, Seed: 3})
	t.Logf("%d routes, %d unassigned; with fixed costs %d routes", a.Summary.Vehicles, a.Summary.Unassigned, c.Summary.Vehicles)
}

// TestProfilesEquivalent: profiles that are all alike, or one profile used
// by every vehicle, give the very solution of the plain problem.
func TestProfilesEquivalent(t *testing.T) {
	for seed := uint64(1); seed <= 3; seed++ {
		plain := tinyProblem(seed, 12, 3, true, true)
		want := solveOK(t, plain, Options{MaxIterations: 6, Seed: int64(seed)})

		alike := tinyProblem(seed, 12, 3, true, true)
		pr := Profile{Durations: alike.Durations, Distances: alike.Distances}
		alike.Profiles = []Profile{pr, pr, {Name: "copy", Durations: clone2(pr.Durations)}}
		alike.Durations = nil
		for v := range alike.Vehicles {
			alike.Vehicles[v].Profile = v % 3
		}
		if got := solveOK(t, alike, Options{MaxIterations: 6, Seed: int64(seed)}); !reflect.DeepEqual(got, want) {
			t.Fatalf("seed %d: identical profiles changed the solution: %+v, want %+v", seed, got.Summary, want.Summary)
		}

		one := withProfiles(tinyProblem(seed, 12, 3, true, true), seed, profileOpts{k: 3, asym: true})
		for v := range one.Vehicles {
			one.Vehicles[v].Profile = 2
		}
		flat := *one
		flat.Durations, flat.Distances, flat.Profiles = one.Profiles[2].Durations, one.Profiles[2].Distances, nil
		flat.Vehicles = append([]Vehicle(nil), one.Vehicles...)
		for v := range flat.Vehicles {
			flat.Vehicles[v].Profile = 0
		}
		a := solveOK(t, one, Options{MaxIterations: 6, Seed: int64(seed)})
		b := solveOK(t, &flat, Options{MaxIterations: 6, Seed: int64(seed)})
		if !reflect.DeepEqual(a, b) {
			t.Fatalf("seed %d: one profile for all: %+v, top-level matrices: %+v", seed, a.Summary, b.Summary)
		}
	}
}

func clone2(m [][]int64) [][]int64 {
	c := make([][]int64, len(m))
	for i := range m {
		c[i] = append([]int64(nil), m[i]...)
	}
	return c
}

func TestValidateProfiles(t *testing.T) {
	good := func() *Problem {
		return withProfiles(tinyProblem(1, 5, 2, true, false), 1, profileOpts{k: 2})
	}
	mustValid(t, good())
	for _, tc := range []struct {
		name, field string
		mod         func(p *Problem)
	}{
		{"no profiles, profile 1", "vehicles[1].profile", func(p *Problem) {
			p.Durations, p.Distances, p.Profiles = p.Profiles[0].Durations, p.Profiles[0].Distances, nil
		}},
		{"out of range", "vehicles[0].profile", func(p *Problem) { p.Vehicles[0].Profile = 2 }},
		{"negative", "vehicles[1].profile", func(p *Problem) { p.Vehicles[1].Profile = -1 }},
		{"rows", "profiles[1].durations", func(p *Problem) { p.Profiles[1].Durations = p.Profiles[1].Durations[:3] }},
		{"short row", "profiles[0].distances[2]", func(p *Problem) { p.Profiles[0].Distances[2] = p.Profiles[0].Distances[2][:1] }},
		{"negative entry", "profiles[1].costs[1][2]", func(p *Problem) {
			p.Profiles[0].Costs = clone2(p.Profiles[0].Distances)
			p.Profiles[1].Costs = clone2(p.Profiles[1].Distances)
			p.Profiles[1].Costs[1][2] = -3
		}},
		{"huge entry", "profiles[0].durations[3][0]", func(p *Problem) { p.Profiles[0].Durations[3][0] = MaxMeasure }},
		{"top-level row", "durations[4]", func(p *Problem) {
			p.Durations = clone2(p.Profiles[0].Durations)
			p.Durations[4] = p.Durations[4][:2]
		}},
		{"empty profile", "profiles[1]", func(p *Problem) { p.Profiles[1] = Profile{Name: "empty"} }},
		{"costs in one only", "profiles[1]", func(p *Problem) { p.Profiles[0].Costs = clone2(p.Profiles[0].Distances) }},
		{"distance objective", "profiles[1].distances", func(p *Problem) {
			p.Objective = MinimizeDistance
			p.Profiles[1].Distances = nil
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := good()
			tc.mod(p)
			err := Validate(p)
			var ie *InputError
			if !errors.Is(err, ErrInvalidProblem) || !errors.As(err, &ie) || ie.Field != tc.field {
				t.Fatalf("got %v, want an InputError on %s", err, tc.field)
			}
		})
	}
	// A profile may leave a matrix to the top level.
	p := good()
	p.Distances = p.Profiles[0].Distances
	p.Profiles[0].Distances = nil
	mustValid(t, p)
	if pr := p.VehicleProfile(0); pr.Name != "p0" || &pr.Distances[0] != &p.Distances[0] || &pr.Durations[0] != &p.Profiles[0].Durations[0] {
		t.Fatal("VehicleProfile does not fall back to the top-level distances")
	}
}

func TestJSONProfiles(t *testing.T) {
	p := withProfiles(tinyProblem(2, 5, 3, true, false), 2, profileOpts{k: 2, shared: true})
	var buf bytes.Buffer
	if err := EncodeProblem(&buf, p); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`"profiles":[{"name":"p0","durations":`, `"profile":1`} {
		if !strings.Contains(buf.String(), want) {
			t.Fatalf("JSON lacks %s", want)
		}
	}
	q, err := DecodeProblem(&buf)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(p, q) {
		t.Fatal("round trip changed the problem")
	}
	doc := `{"jobs": [{"location": 1}, {"location": 2}],
	 "vehicles": [{"start": 0, "end": 0, "profile": 1}, {"start": 0}],
	 "distances": [[0, 5, 9], [5, 0, 4], [9, 4, 0]],
	 "profiles": [{"name": "bike", "durations": [[0, 2, 3], [2, 0, 2], [3, 2, 0]]},
	              {"name": "foot", "durations": [[0, 9, 20], [9, 0, 8], [20, 8, 0]]}]}`
	d, err := DecodeProblem(strings.NewReader(doc))
	if err != nil {
		t.Fatal(err)
	}
	if d.Vehicles[0].Profile != 1 || d.Vehicles[1].Profile != 0 || d.Profiles[1].Name != "foot" {
		t.Fatalf("decoded %+v", d.Vehicles)
	}
	sol, err := Evaluate(d, [][]int{{0}, {1}})
	if err != nil {
		t.Fatal(err)
	}
	if v := Check(d, sol); len(v) > 0 {
		t.Fatal(v)
	}
	if sol.Routes[0].Duration != 18 || sol.Routes[1].Duration != 3 || sol.Summary.Distance != 10+9 {
		t.Fatalf("per-profile figures: %+v", sol.Routes)
	}
}

// BenchmarkEvaluateProfiles is BenchmarkEvaluate on a mixed fleet (four
// profiles, most moves between routes of different profiles).
func BenchmarkEvaluateProfiles(b *testing.B) {
	p := RandomMixedFleet(200, 12, 1, true)
	in := compile(p, 20)
	rng := rand.New(rand.NewPCG(1, 1))
	s, _ := randomState(b, in, rng, false)
	ops := []nodeOp{exchange{1, 0, false}, exchange{1, 1, false}, twoOptStar{}}
	b.ResetTimer()
	var sink int64
	for i := 0; i < b.N; i++ {
		u := int32(i % in.n)
		nb := in.neighbors[u]
		if len(nb) == 0 {
			continue
		}
		v := nb[i%len(nb)]
		sink += ops[i%3].evaluate(s, u, v)
	}
	_ = sink
}

// BenchmarkLocalSearchProfiles is BenchmarkLocalSearch on a mixed fleet.
func BenchmarkLocalSearchProfiles(b *testing.B) {
	p := RandomMixedFleet(200, 12, 1, true)
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
}
