package routing

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"time"
)

// Solve optimises p within the limits of opt and returns a solution that
// Check accepts: capacity, time windows, shifts, skills and route limits
// hold; jobs that cannot be served are listed as unassigned with a reason.
// It returns an error wrapping ErrInvalidProblem for a malformed problem,
// ErrNoLimit when no stopping criterion is set, and ctx.Err() only if the
// context is done before any solution exists.
func Solve(ctx context.Context, p *Problem, opt Options) (*Solution, error) {
	if err := Validate(p); err != nil {
		return nil, err
	}
	if opt.TimeLimit < 0 || opt.MaxIterations < 0 {
		return nil, fmt.Errorf("routing: negative time or iteration limit: %w", ErrNoLimit)
	}
	if opt.TimeLimit == 0 && opt.MaxIterations == 0 {
		return nil, ErrNoLimit
	}
	if opt.Initial != nil {
		if err := checkInitial(p, opt.Initial); err != nil {
			return nil, err
		}
	}
	start := time.Now()
	var deadline time.Time
	if opt.TimeLimit > 0 {
		deadline = start.Add(opt.TimeLimit)
	}
	return solve(ctx, p, opt, start, deadline, &reporter{opt: opt, start: start})
}

// solve runs the search on a validated problem: HGS, or, when fixed
// vehicle costs dominate travel costs, route minimisation followed by ruin
// and recreate on the fleet it kept.
func solve(ctx context.Context, p *Problem, opt Options, start, deadline time.Time, rep *reporter) (*Solution, error) {
	threads := max(opt.Threads, 1)
	prm := defaultParams()
	for i := range p.Jobs {
		if len(p.Jobs[i].TimeWindows) > 0 {
			prm.granular = 30 // time windows make the closest jobs less telling
			break
		}
	}
	in := compile(p, prm.granular)

	report := func(ind *individual, it int) { rep.report(in, ind, it) }

	// Seeds: a fast construction, and the warm start if any.
	var seeds []*individual
	c := construct(in)
	if c != nil {
		report(c, 0)
		seeds = append(seeds, c)
	}
	if opt.Initial != nil {
		seeds = append(seeds, fromSolution(in, opt.Initial))
	}
	// The best feasible seed (construction or warm start) starts the
	// route minimisation.
	for _, sd := range seeds {
		if sd.feasible && (c == nil || !c.feasible || sd.cost() < c.cost()) {
			c = sd
		}
	}
	if c != nil && c.feasible && fixedCostsDominate(in, c) {
		rmDeadline := deadline
		rmStart := c
		if !deadline.IsZero() && preHGS > 0 {
			// A short HGS on travel cost alone gives route minimisation a
			// start with good routes: its ejections keep most of them.
			free := *p
			free.Vehicles = append([]Vehicle(nil), p.Vehicles...)
			for i := range free.Vehicles {
				free.Vehicles[i].FixedCost = 0
			}
			fin := compile(&free, prm.granular)
			hd := start.Add(time.Duration(float64(deadline.Sub(start)) * preHGS))
			h := newHGS(ctx, fin, prm, splitmix(uint64(opt.Seed)^0x5bd1e995), start, hd, 0, nil)
			h.run([]*individual{c})
			if h.best != nil {
				hb := newIndividual(in)
				copy(hb.routes, h.best.routes)
				hb.evaluate(in)
				if hb.feasible && hb.weight <= c.weight {
					rmStart = hb
				}
			}
		}
		if !deadline.IsZero() {
			rmDeadline = start.Add(time.Duration(float64(deadline.Sub(start)) * (0.4 + preHGS)))
		}
		rng := rand.New(rand.NewPCG(splitmix(uint64(opt.Seed)), 99))
		best := minimizeRoutes(ctx, in, rmStart, rng, rmDeadline, 40*opt.MaxIterations)
		if c.cost() < best.cost() {
			best = c
		}
		report(best, 0)
		if restricted(in, best) {
			// Keep this fleet: improve the travel cost by ruin and
			// recreate, one search per thread.
			final := parallelRuinRecreate(ctx, in, best, threadRNGs(opt, threads, 5), time.Now(), deadline, 200*opt.MaxIterations, false, report)
			if !final.feasible || final.cost() >= best.cost() {
				final = best
			}
			return buildSolution(in, final), nil
		}
		seeds = append(seeds, best)
	}

	if c != nil && largeWithWindows(in, c) {
		// Ruin and recreate from the best feasible seed, one search per
		// thread.
		for _, sd := range seeds {
			if sd.feasible && better(sd, c) {
				c = sd
			}
		}
		final := parallelRuinRecreate(ctx, in, c, threadRNGs(opt, threads, 7), start, deadline, 200*opt.MaxIterations, true, report)
		return buildSolution(in, final), nil
	}

	results := make([]*individual, threads)
	var wg sync.WaitGroup
	for t := 0; t < threads; t++ {
		wg.Add(1)
		go func(t int) {
			defer wg.Done()
			seed := splitmix(uint64(opt.Seed) + uint64(t)*0x9e3779b97f4a7c15)
			h := newHGS(ctx, in, prm, seed, start, deadline, opt.MaxIterations, report)
			h.run(seeds)
			// The best feasible one, or the best of the population
			// repaired, whichever is better.
			results[t] = h.best
			if pb := h.bestAny(); pb != nil && !pb.feasible {
				if r := repair(in, pb); r.feasible && (results[t] == nil || r.cost() < results[t].cost()) {
					results[t] = r
				}
			} else if results[t] == nil {
				results[t] = pb
			}
		}(t)
	}
	wg.Wait()
	var best *individual
	for _, r := range append(results, seeds...) {
		if r == nil {
			continue
		}
		if !r.feasible {
			r = repair(in, r)
		}
		if best == nil || r.cost() < best.cost() {
			best = r
		}
	}
	if best == nil {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		return nil, errors.New("routing: no solution found")
	}
	return buildSolution(in, best), nil
}

// preHGS is the share of the time budget for a travel-cost HGS before
// route minimisation (only with a time limit).
const preHGS = 0.2

// fixedCostsDominate reports whether every vehicle's fixed cost exceeds the
// travel cost of the whole solution c: then fewer routes always win.
func fixedCostsDominate(in *inst, c *individual) bool {
	for v := range in.veh {
		if in.veh[v].fixedCost <= c.travel {
			return false
		}
	}
	return true
}

// threadRNGs returns the random source of each thread's search.
func threadRNGs(opt Options, threads int, stream uint64) []*rand.Rand {
	rngs := make([]*rand.Rand, threads)
	for t := range rngs {
		rngs[t] = rand.New(rand.NewPCG(splitmix(uint64(opt.Seed)+uint64(t)*0x9e3779b97f4a7c15), stream))
	}
	return rngs
}

// lnsJobs is the number of jobs from which problems with time windows
// are solved by ruin and recreate rather than by the genetic search.
const lnsJobs = 300

// largeWithWindows reports whether the problem has time windows and at
// least lnsJobs jobs to route, and c is a feasible start (it may leave
// jobs out: ruin and recreate tries them again and again): then ruin and
// recreate (lns.go) is the search.
func largeWithWindows(in *inst, c *individual) bool {
	if !in.hasTime || !c.feasible {
		return false
	}
	k := 0
	for j := 0; j < in.n; j++ {
		if in.active[j] {
			k++
		}
	}
	return k >= lnsJobs
}

// restricted reports whether ind serves every job it can (so its fleet
// may be kept).
func restricted(in *inst, ind *individual) bool {
	for j := 0; j < in.n; j++ {
		if in.active[j] && ind.succ[j] == -2 {
			return false
		}
	}
	return true
}

// reporter calls Options.Progress when the best solution improves
// (fewer unassigned, then lower cost), from one goroutine at a time.
type reporter struct {
	mu     sync.Mutex
	opt    Options
	start  time.Time
	have   bool
	weight int64
	cost   int64
}

func (r *reporter) report(in *inst, ind *individual, it int) {
	if r.opt.Progress == nil {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	c := ind.travel + ind.fixed + optionalPrize(in, ind)
	if r.have && (ind.weight > r.weight || ind.weight == r.weight && c >= r.cost) {
		return
	}
	r.have, r.weight, r.cost = true, ind.weight, c
	r.opt.Progress(Progress{BestCost: Cost(c), Elapsed: time.Since(r.start), Iteration: it,
		Feasible: ind.feasible, Unassigned: countUnassigned(in, ind)})
}

func splitmix(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9
	x = (x ^ (x >> 27)) * 0x94d049bb133111eb
	return x ^ (x >> 31)
}

func optionalPrize(in *inst, ind *individual) int64 {
	var s int64
	for j := 0; j < in.n; j++ {
		if ind.succ[j] == -2 && in.weight[j] == 0 {
			s += in.prize[j]
		}
	}
	return s
}

func countUnassigned(in *inst, ind *individual) int {
	k := 0
	for j := 0; j < in.n; j++ {
		if ind.succ[j] == -2 {
			k++
		}
	}
	return k
}

// bestAny returns the individual with the lowest penalised cost.
func (h *hgs) bestAny() *individual {
	var best *individual
	for _, sub := range [][]*individual{h.pop.feas, h.pop.infs} {
		for _, ind := range sub {
			if best == nil || ind.penalized(h.pen) < best.penalized(h.pen) {
				best = ind
			}
		}
	}
	if best == nil {
		return nil
	}
	c := newIndividual(h.in)
	copyIndividual(c, best)
	return c
}

// checkInitial validates a warm start against p.
func checkInitial(p *Problem, s *Solution) error {
	seen := make([]bool, len(p.Jobs))
	used := make([]bool, len(p.Vehicles))
	for ri, r := range s.Routes {
		if r.Vehicle < 0 || r.Vehicle >= len(p.Vehicles) || used[r.Vehicle] {
			return invalid(fmt.Sprintf("initial.routes[%d].vehicle", ri), "vehicle %d does not exist or is used twice", r.Vehicle)
		}
		used[r.Vehicle] = true
		for k, st := range r.Stops {
			if st.Job < 0 || st.Job >= len(p.Jobs) || seen[st.Job] {
				return invalid(fmt.Sprintf("initial.routes[%d].stops[%d]", ri, k), "job %d does not exist or is served twice", st.Job)
			}
			seen[st.Job] = true
		}
	}
	return nil
}

// fromSolution converts a warm start into an individual: fixed jobs are
// put first on their vehicle, jobs the search may not route are dropped.
func fromSolution(in *inst, s *Solution) *individual {
	ind := newIndividual(in)
	for v := range ind.routes {
		ind.routes[v] = append(ind.routes[v][:0], in.veh[v].fixedJobs...)
	}
	for _, r := range s.Routes {
		for _, st := range r.Stops {
			j := int32(st.Job)
			if in.active[j] && in.compatible(j, r.Vehicle) {
				ind.routes[r.Vehicle] = append(ind.routes[r.Vehicle], j)
			}
		}
	}
	ind.evaluate(in)
	return ind
}
