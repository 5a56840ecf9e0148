// Package routing is the vehicle routing heuristic core: it takes a
// Problem (jobs, vehicles, integer matrices) and returns a feasible
// Solution (routes with schedules, unassigned jobs with reasons, cost).
// It imports only the standard library.
//
// Use Solve(ctx, problem, Options{TimeLimit: ..., Seed: ...}); Check
// verifies any solution independently; Evaluate builds the Solution of
// given routes (for re-planning and tests). README.md documents the model,
// the JSON format, the algorithms and the benchmark results.
package routing
