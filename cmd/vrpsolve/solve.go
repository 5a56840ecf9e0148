package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"runtime/pprof"
	"strings"
	"time"

	"github.com/courierhq/courier/routing"
	"github.com/courierhq/courier/routing/vroom"
	"github.com/courierhq/courier/routing/vrplib"
)

var errInfeasible = errors.New("a solution is infeasible")

// loaded is an input file of any supported format.
type loaded struct {
	problem *routing.Problem
	inst    *vrplib.Instance // for benchmark formats
	vroomIn *vroom.Input
}

func load(path string, dimacs bool) (*loaded, error) {
	ext := strings.ToLower(filepath.Ext(strings.TrimSuffix(path, ".gz")))
	switch ext {
	case ".json":
		return loadJSON(path)
	default:
		conv := vrplib.Exact
		if dimacs {
			conv = vrplib.DIMACS
		}
		in, err := vrplib.ReadFile(path, conv)
		if err != nil {
			return nil, err
		}
		return &loaded{problem: in.Problem, inst: in}, nil
	}
}

func cmdSolve(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("solve", flag.ContinueOnError)
	secs := fs.Float64("t", 10, "time limit in seconds")
	iters := fs.Int("iters", 0, "iteration limit (deterministic); 0: none")
	seed := fs.Int64("seed", 1, "random seed")
	threads := fs.Int("threads", 1, "independent searches")
	out := fs.String("o", "", "write the solution here (.sol: CVRPLIB, .json: ours, or VROOM's shape for VROOM input)")
	dimacs := fs.Bool("dimacs", false, "Solomon: DIMACS convention (distances truncated to one decimal)")
	hier := fs.Bool("hier", false, "VRPTW: minimise vehicles first (large fixed cost per vehicle)")
	quiet := fs.Bool("q", false, "do not print progress")
	cpuProfile := fs.String("cpuprofile", "", "write a CPU profile of the solve to this file (go tool pprof)")
	path, rest := splitPath(args)
	if err := fs.Parse(rest); err != nil {
		return err
	}
	if path == "" && fs.NArg() > 0 {
		path = fs.Arg(0)
	}
	if path == "" {
		return errors.New("solve: no FILE")
	}
	if *secs <= 0 && *iters <= 0 {
		return errors.New("solve: the time limit must be positive (or give -iters)")
	}
	l, err := load(path, *dimacs)
	if err != nil {
		return err
	}
	p := l.problem
	if *hier {
		setHierarchical(p)
	}
	opt := routing.Options{TimeLimit: time.Duration(*secs * float64(time.Second)), MaxIterations: *iters, Seed: *seed, Threads: *threads}
	if *secs <= 0 {
		opt.TimeLimit = 0
	}
	scale := 1.0
	if l.inst != nil {
		scale = l.inst.Scale
	}
	if !*quiet {
		opt.Progress = func(pr routing.Progress) {
			fmt.Fprintf(os.Stderr, "%8.2fs  iter %7d  best %.2f  unassigned %d\n", pr.Elapsed.Seconds(), pr.Iteration, float64(pr.BestCost)/scale, pr.Unassigned)
		}
	}
	stopProfile, err := startCPUProfile(*cpuProfile)
	if err != nil {
		return err
	}
	start := time.Now()
	sol, err := routing.Solve(ctx, p, opt)
	el := time.Since(start)
	stopProfile()
	if err != nil {
		return err
	}
	viol := routing.Check(p, sol)
	printSolution(p, sol, l, scale)
	fmt.Printf("time %.2fs\n", el.Seconds())
	if bks, ok := knownBKS(path, l, *dimacs); ok {
		c := objective(sol, l, p)
		fmt.Printf("bks %.2f gap %.3f%%\n", bks, pct(c, bks))
	}
	if *out != "" {
		if err := writeOut(*out, p, sol, l); err != nil {
			return err
		}
	}
	if len(viol) > 0 {
		for _, v := range viol {
			fmt.Fprintln(os.Stderr, "violation:", v)
		}
		return errInfeasible
	}
	return nil
}

// startCPUProfile starts a CPU profile into path (none when empty) and
// returns the function that stops it.
func startCPUProfile(path string) (func(), error) {
	if path == "" {
		return func() {}, nil
	}
	f, err := os.Create(path)
	if err != nil {
		return nil, err
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, err
	}
	return func() {
		pprof.StopCPUProfile()
		f.Close()
	}, nil
}

// splitPath allows the FILE before or after the flags.
func splitPath(args []string) (string, []string) {
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		return args[0], args[1:]
	}
	return "", args
}

// setHierarchical makes one vehicle cost more than any total distance (of
// any travel profile), so the objective is (vehicles, distance).
func setHierarchical(p *routing.Problem) {
	var total int64
	mats := [][][]int64{p.Distances}
	for _, pr := range p.Profiles {
		mats = append(mats, pr.Distances)
	}
	for _, d := range mats {
		var t int64
		for _, row := range d {
			var m int64
			for _, v := range row {
				m = max(m, v)
			}
			t += 2 * m
		}
		total = max(total, t)
	}
	fc := routing.Cost(min(total+1, routing.MaxMeasure-1))
	for i := range p.Vehicles {
		p.Vehicles[i].FixedCost = fc
	}
}

// objective is the benchmark cost of sol: travel (distance) in the
// instance's unit, recomputed with exact doubles for real-valued instances
// under the exact convention.
func objective(sol *routing.Solution, l *loaded, p *routing.Problem) float64 {
	if l.inst == nil {
		return float64(sol.Summary.Travel)
	}
	in := l.inst
	if in.RealValued && in.Scale != 10 {
		var d float64
		for _, r := range sol.Routes {
			prev := 0
			for _, st := range r.Stops {
				loc := p.Jobs[st.Job].Location
				d += math.Hypot(in.X[prev]-in.X[loc], in.Y[prev]-in.Y[loc])
				prev = loc
			}
			d += math.Hypot(in.X[prev]-in.X[0], in.Y[prev]-in.Y[0])
		}
		return d
	}
	return float64(sol.Summary.Distance) / in.Scale
}

func printSolution(p *routing.Problem, sol *routing.Solution, l *loaded, scale float64) {
	for k, r := range sol.Routes {
		fmt.Printf("Route #%d:", k+1)
		for _, st := range r.Stops {
			if l.inst != nil {
				fmt.Printf(" %d", p.Jobs[st.Job].Location)
			} else {
				fmt.Printf(" %d", st.Job)
			}
		}
		fmt.Println()
	}
	for _, u := range sol.Unassigned {
		fmt.Printf("unassigned job %d: %s\n", u.Job, u.Reason)
	}
	fmt.Printf("Cost %.4f\nvehicles %d\n", objective(sol, l, p), sol.Summary.Vehicles)
}

// knownBKS looks for a bks.csv beside the file, or a .sol next to it.
func knownBKS(path string, l *loaded, dimacs bool) (float64, bool) {
	if l.inst == nil {
		return 0, false
	}
	name := strings.TrimSuffix(filepath.Base(path), filepath.Ext(path))
	rows, err := readBKS(filepath.Join(filepath.Dir(path), "bks.csv"))
	if err == nil {
		if b, ok := rows[name]; ok {
			if dimacs && l.inst.RealValued {
				return b.dimacs, b.dimacs > 0
			}
			return b.cost, true
		}
	}
	f, err := os.Open(strings.TrimSuffix(path, filepath.Ext(path)) + ".sol")
	if err != nil {
		return 0, false
	}
	defer f.Close()
	s, err := vrplib.ReadSol(f, path)
	if err != nil || s.Cost < 0 {
		return 0, false
	}
	return s.Cost, true
}

func writeOut(path string, p *routing.Problem, sol *routing.Solution, l *loaded) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	defer f.Close()
	switch {
	case strings.HasSuffix(path, ".sol"):
		err = vrplib.WriteSol(f, p, sol, fmt.Sprintf("%.2f", objective(sol, l, p)))
	default:
		err = writeJSONOut(f, p, sol, l)
	}
	if err != nil {
		return err
	}
	return f.Close()
}
