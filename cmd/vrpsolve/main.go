// Command vrpsolve solves vehicle routing problems with routing/ and
// benchmarks it against best known solutions.
//
//	vrpsolve solve FILE [-t seconds] [-iters N] [-seed N] [-threads K] [-o out] [-format json|vroom|sol]
//	vrpsolve bench [DIR] [-t-per-100 seconds | -t seconds] [-threads K] [-max-n N] [-only a,b] [-dimacs]
//	vrpsolve gen -n 1000 -vehicles 50 [-seed N] [-mixed] > problem.json
//
// FILE may be a CVRPLIB .vrp, a Solomon .txt, our JSON problem (.json with
// "jobs") or a VROOM input (.json with "matrices" or "vehicles" of VROOM's
// shape), gzip-compressed when its name ends in .gz. DIR (default
// testdata/bench/cvrp) holds instances with a bks.csv, or problems with a
// peers.csv (other solvers' costs, as in testdata/bench/city).
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	os.Exit(run(ctx, os.Args[1:]))
}

func run(ctx context.Context, args []string) int {
	if len(args) == 0 {
		usage()
		return 2
	}
	var err error
	switch args[0] {
	case "solve":
		err = cmdSolve(ctx, args[1:])
	case "bench":
		err = cmdBench(ctx, args[1:])
	case "gen":
		err = cmdGen(args[1:])
	default:
		usage()
		return 2
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "vrpsolve:", err)
		if err == errInfeasible {
			return 3
		}
		return 1
	}
	return 0
}

func usage() {
	fmt.Fprintln(os.Stderr, `usage:
  vrpsolve solve FILE [-t seconds] [-iters N] [-seed N] [-threads K] [-o out] [-dimacs] [-hier]
  vrpsolve bench [DIR] [-t-per-100 seconds | -t seconds] [-threads K] [-max-n N] [-only a,b] [-dimacs]
  vrpsolve gen [-n 1000] [-vehicles 50] [-seed 1] [-mixed]`)
}
