package routing

import "fmt"

// Evaluate builds the Solution of p that serves routes[i] (job indices in
// order) with vehicle i, with the earliest-start schedule and every figure
// computed; jobs not listed are unassigned. It does not check feasibility
// (use Check). It returns an error wrapping ErrInvalidProblem for a
// malformed problem or an out-of-range or repeated job.
func Evaluate(p *Problem, routes [][]int) (*Solution, error) {
	if err := Validate(p); err != nil {
		return nil, err
	}
	if len(routes) > len(p.Vehicles) {
		return nil, invalid("routes", "%d routes for %d vehicles", len(routes), len(p.Vehicles))
	}
	in := compile(p, 0)
	ind := newIndividual(in)
	seen := make([]bool, len(p.Jobs))
	for v, r := range routes {
		for k, j := range r {
			if j < 0 || j >= len(p.Jobs) || seen[j] {
				return nil, invalid(fmt.Sprintf("routes[%d][%d]", v, k), "job %d does not exist or is repeated", j)
			}
			seen[j] = true
			ind.routes[v] = append(ind.routes[v], int32(j))
		}
	}
	ind.evaluate(in)
	// evaluate marks only active jobs as routed; mark the rest too.
	for v := range ind.routes {
		for _, j := range ind.routes[v] {
			if ind.succ[j] == -2 {
				ind.succ[j] = -1
			}
		}
	}
	return buildSolution(in, ind), nil
}
