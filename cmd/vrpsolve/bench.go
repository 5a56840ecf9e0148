package main

import (
	"context"
	"encoding/csv"
	"errors"
	"flag"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/courierhq/courier/routing"
)

// defaultBench is the directory vrpsolve bench reads without DIR: the
// repository's CVRP instances, when run from the repository root.
const defaultBench = "testdata/bench/cvrp"

type bksRow struct {
	n        int
	cost     float64
	vehicles int
	dimacs   float64
	dimacsV  int
}

// csvTable is a CSV file with a header row naming its columns.
type csvTable struct {
	col  map[string]int
	rows [][]string
}

// readCSVTable reads a benchmark table (bks.csv, peers.csv): a header row
// with an "instance" column, then one row per instance.
func readCSVTable(path string) (*csvTable, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	r := csv.NewReader(f)
	r.FieldsPerRecord = -1
	recs, err := r.ReadAll()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if len(recs) < 1 {
		return nil, fmt.Errorf("%s: empty", path)
	}
	t := &csvTable{col: map[string]int{}, rows: recs[1:]}
	for i, h := range recs[0] {
		t.col[h] = i
	}
	if _, ok := t.col["instance"]; !ok {
		return nil, fmt.Errorf("%s: no instance column", path)
	}
	return t, nil
}

// get returns the named column of rec, trimmed ("" if absent).
func (t *csvTable) get(rec []string, name string) string {
	if i, ok := t.col[name]; ok && i < len(rec) {
		return strings.TrimSpace(rec[i])
	}
	return ""
}

// readBKS reads a bks.csv (see testdata/bench/README.md) by column name.
func readBKS(path string) (map[string]bksRow, error) {
	t, err := readCSVTable(path)
	if err != nil {
		return nil, err
	}
	get := t.get
	out := map[string]bksRow{}
	for k, rec := range t.rows {
		var b bksRow
		b.n, _ = strconv.Atoi(get(rec, "n"))
		if b.cost, err = strconv.ParseFloat(get(rec, "bks_cost"), 64); err != nil {
			return nil, fmt.Errorf("%s:%d: bks_cost: %w", path, k+2, err)
		}
		b.vehicles, _ = strconv.Atoi(get(rec, "bks_vehicles"))
		b.dimacs, _ = strconv.ParseFloat(get(rec, "dimacs_bks_cost"), 64)
		b.dimacsV, _ = strconv.Atoi(get(rec, "dimacs_bks_vehicles"))
		out[get(rec, "instance")] = b
	}
	return out, nil
}

func cmdBench(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	per100 := fs.Float64("t-per-100", 10, "seconds per 100 customers")
	secs := fs.Float64("t", 0, "seconds per instance (instead of -t-per-100)")
	iters := fs.Int("iters", 0, "iteration limit instead of time (deterministic)")
	threads := fs.Int("threads", 1, "independent searches per instance")
	seed := fs.Int64("seed", 1, "random seed")
	maxN := fs.Int("max-n", 0, "skip instances with more customers")
	only := fs.String("only", "", "comma-separated instance names")
	dimacs := fs.Bool("dimacs", false, "VRPTW: DIMACS convention (truncated distances, distance only)")
	dir, rest := splitPath(args)
	if err := fs.Parse(rest); err != nil {
		return err
	}
	if dir == "" && fs.NArg() > 0 {
		dir = fs.Arg(0)
	}
	if dir == "" {
		dir = defaultBench
	}
	if *per100 <= 0 && *iters <= 0 {
		return errors.New("bench: -t-per-100 must be positive (or give -iters)")
	}
	if _, err := os.Stat(filepath.Join(dir, "peers.csv")); err == nil {
		return benchPeers(ctx, dir, *secs, *per100, *iters, *threads, *seed, *only)
	}
	rows, err := readBKS(filepath.Join(dir, "bks.csv"))
	if err != nil {
		return err
	}
	var names []string
	entries, err := os.ReadDir(dir)
	if err != nil {
		return err
	}
	seen := map[string]bool{}
	for _, e := range entries {
		ext := filepath.Ext(e.Name())
		name := strings.TrimSuffix(e.Name(), ext)
		if (ext == ".vrp" || ext == ".txt") && !seen[name] {
			if _, ok := rows[name]; ok {
				seen[name] = true
				names = append(names, name)
			}
		}
	}
	if *only != "" {
		want := map[string]bool{}
		for _, s := range strings.Split(*only, ",") {
			want[strings.TrimSpace(s)] = true
		}
		var keep []string
		for _, n := range names {
			if want[n] {
				keep = append(keep, n)
			}
		}
		names = keep
	}
	sortByN(names, rows)
	host, _ := os.Hostname()
	fmt.Printf("# vrpsolve bench %s: %.1f s per 100 customers, %d thread(s), seed %d, %s, %s\n",
		dir, *per100, *threads, *seed, cpuModel(), host)
	var (
		gapSum           float64
		gapN, infeasible int
		twRows, vehMatch int
		vehOurs, vehBKS  int
		twGapSum         float64
		header           bool
	)
	for _, name := range names {
		b := rows[name]
		if *maxN > 0 && b.n > *maxN {
			continue
		}
		path := filepath.Join(dir, name+".txt")
		if _, err := os.Stat(path); err != nil {
			path = filepath.Join(dir, name+".vrp")
		}
		l, err := load(path, *dimacs)
		if err != nil {
			return err
		}
		p := l.problem
		tw := l.inst != nil && l.inst.RealValued
		if tw && !*dimacs {
			setHierarchical(p)
		}
		n := len(p.Jobs)
		limit := time.Duration(*per100 * float64(n) / 100 * float64(time.Second))
		if *secs > 0 {
			limit = time.Duration(*secs * float64(time.Second))
		}
		if *iters > 0 {
			limit = 0
		}
		start, cpu0 := time.Now(), cpuSeconds()
		sol, err := routing.Solve(ctx, p, routing.Options{TimeLimit: limit, MaxIterations: *iters, Seed: *seed, Threads: *threads})
		if err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		secs, cpu, load := time.Since(start).Seconds(), cpuSeconds()-cpu0, loadAvg()
		viol := routing.Check(p, sol)
		feas := "yes"
		if len(viol) > 0 || sol.Summary.Unassigned > 0 {
			feas = "NO"
			infeasible++
			for _, v := range viol {
				fmt.Fprintf(os.Stderr, "%s: %v\n", name, v)
			}
		}
		cost := objective(sol, l, p)
		if !tw {
			if !header {
				fmt.Println("| instance | n | BKS | cost | gap % | seconds | CPU s | load | feasible |")
				fmt.Println("|---|---:|---:|---:|---:|---:|---:|---:|---|")
				header = true
			}
			gap := pct(cost, b.cost)
			gapSum += gap
			gapN++
			fmt.Printf("| %s | %d | %.0f | %.0f | %.2f | %.1f | %.1f | %s | %s |\n", name, n, b.cost, cost, gap, secs, cpu, load, feas)
			continue
		}
		if !header {
			if *dimacs {
				fmt.Println("| instance | n | BKS veh | BKS dist | veh | dist | gap % | seconds | CPU s | load | feasible |")
			} else {
				fmt.Println("| instance | n | BKS veh | BKS dist | veh | dist | gap % (same veh) | seconds | CPU s | load | feasible |")
			}
			fmt.Println("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|")
			header = true
		}
		bv, bc := b.vehicles, b.cost
		if *dimacs {
			bv, bc = b.dimacsV, b.dimacs
		}
		veh := sol.Summary.Vehicles
		twRows++
		vehOurs += veh
		vehBKS += bv
		gapStr := "-"
		gap := pct(cost, bc)
		if bc > 0 && (*dimacs || veh == bv) { // no BKS (empty in bks.csv): no gap
			vehMatch++
			twGapSum += gap
			gapStr = fmt.Sprintf("%.2f", gap)
		}
		fmt.Printf("| %s | %d | %d | %.2f | %d | %.2f | %s | %.1f | %.1f | %s | %s |\n", name, n, bv, bc, veh, cost, gapStr, secs, cpu, load, feas)
	}
	if gapN > 0 {
		fmt.Printf("\naverage gap over %d instances: %.3f%%\n", gapN, gapSum/float64(gapN))
	}
	if twRows > 0 {
		fmt.Printf("\n%d instances; vehicles: ours %d, BKS %d; BKS vehicle count matched on %d", twRows, vehOurs, vehBKS, vehMatch)
		if vehMatch > 0 {
			fmt.Printf("; average distance gap where matched: %.3f%%", twGapSum/float64(vehMatch))
		}
		fmt.Println()
	}
	if infeasible > 0 {
		fmt.Printf("%d infeasible or incomplete solutions\n", infeasible)
		return errInfeasible
	}
	return nil
}

func sortByN(names []string, rows map[string]bksRow) {
	for i := 1; i < len(names); i++ {
		for j := i; j > 0; j-- {
			a, b := rows[names[j-1]], rows[names[j]]
			if a.n > b.n || (a.n == b.n && names[j-1] > names[j]) {
				names[j-1], names[j] = names[j], names[j-1]
			}
		}
	}
}

func cpuModel() string {
	b, err := os.ReadFile("/proc/cpuinfo")
	if err != nil {
		return "cpu unknown"
	}
	model, n := "", 0
	for _, line := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(line, "model name") {
			n++
			if _, v, ok := strings.Cut(line, ":"); ok {
				model = strings.TrimSpace(v)
			}
		}
	}
	return fmt.Sprintf("%d x %s", n, model)
}

// loadAvg is the one-minute load average of the machine ("-" if unknown).
func loadAvg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "-"
	}
	if f := strings.Fields(string(b)); len(f) > 0 {
		return f[0]
	}
	return "-"
}

// pct is the gap in percent, rounded to 0.01 so that a match prints 0.00.
func pct(cost, bks float64) float64 {
	g := 100 * (cost - bks) / bks
	g = math.Round(g*100) / 100
	if g == 0 {
		return 0 // not -0
	}
	return g
}
