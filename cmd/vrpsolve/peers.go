package main

import (
	"context"
	"encoding/csv"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/courierhq/courier/routing"
)

// peerRow is one line of a peers.csv: an instance (a JSON or VROOM
// problem, maybe gzip-compressed) with the costs and route counts other
// solvers reached on it.
type peerRow struct {
	name               string
	n                  int
	pyvrp, vroom       float64
	pyvrpOK, vroomOK   bool
	pyvrpRts, vroomRts string
}

// readPeers reads a peers.csv by column name: instance, n, pyvrp_cost,
// pyvrp_routes, vroom_cost, vroom_routes (the peers' columns may be empty).
func readPeers(path string) ([]peerRow, error) {
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
	col := map[string]int{}
	for i, h := range recs[0] {
		col[h] = i
	}
	if _, ok := col["instance"]; !ok {
		return nil, fmt.Errorf("%s: no instance column", path)
	}
	get := func(rec []string, name string) string {
		if i, ok := col[name]; ok && i < len(rec) {
			return strings.TrimSpace(rec[i])
		}
		return ""
	}
	var out []peerRow
	for _, rec := range recs[1:] {
		p := peerRow{name: get(rec, "instance"), pyvrpRts: get(rec, "pyvrp_routes"), vroomRts: get(rec, "vroom_routes")}
		p.n, _ = strconv.Atoi(get(rec, "n"))
		var e1, e2 error
		p.pyvrp, e1 = strconv.ParseFloat(get(rec, "pyvrp_cost"), 64)
		p.vroom, e2 = strconv.ParseFloat(get(rec, "vroom_cost"), 64)
		p.pyvrpOK, p.vroomOK = e1 == nil, e2 == nil
		out = append(out, p)
	}
	return out, nil
}

// benchPeers solves every instance of a peers.csv directory and prints our
// cost beside the peers': the gap to PyVRP, the time to the first solution
// serving every job, and the best cost at 5 s against the final one.
func benchPeers(ctx context.Context, dir string, secs, per100 float64, iters, threads int, seed int64, only string) error {
	rows, err := readPeers(filepath.Join(dir, "peers.csv"))
	if err != nil {
		return err
	}
	want := map[string]bool{}
	for _, s := range strings.Split(only, ",") {
		if s = strings.TrimSpace(s); s != "" {
			want[s] = true
		}
	}
	host, _ := os.Hostname()
	limitText := fmt.Sprintf("%.1f s per 100 jobs", per100)
	if secs > 0 {
		limitText = fmt.Sprintf("%.0f s", secs)
	}
	fmt.Printf("# vrpsolve bench %s: %s, %d thread(s), seed %d, %s, %s\n", dir, limitText, threads, seed, cpuModel(), host)
	fmt.Println("| instance | n | ours | routes | PyVRP | routes | VROOM | routes | vs PyVRP % | first feasible s | ours at 5 s | 5 s vs end % | seconds | CPU s | load | feasible |")
	fmt.Println("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|")
	var gapSum float64
	gapN, bad := 0, 0
	for _, row := range rows {
		if len(want) > 0 && !want[row.name] {
			continue
		}
		path := filepath.Join(dir, row.name+".json")
		if _, err := os.Stat(path); err != nil {
			path += ".gz"
		}
		l, err := load(path, false)
		if err != nil {
			return err
		}
		p := l.problem
		limit := time.Duration(per100 * float64(len(p.Jobs)) / 100 * float64(time.Second))
		if secs > 0 {
			limit = time.Duration(secs * float64(time.Second))
		}
		if iters > 0 {
			limit = 0
		}
		first, at5 := -1.0, -1.0
		opt := routing.Options{TimeLimit: limit, MaxIterations: iters, Seed: seed, Threads: threads,
			Progress: func(pr routing.Progress) {
				if pr.Unassigned > 0 || !pr.Feasible {
					return
				}
				if first < 0 {
					first = pr.Elapsed.Seconds()
				}
				if pr.Elapsed <= 5*time.Second {
					at5 = float64(pr.BestCost)
				}
			}}
		start, cpu0 := time.Now(), cpuSeconds()
		sol, err := routing.Solve(ctx, p, opt)
		if err != nil {
			return fmt.Errorf("%s: %w", row.name, err)
		}
		el, cpu := time.Since(start).Seconds(), cpuSeconds()-cpu0
		feas := "yes"
		if v := routing.Check(p, sol); len(v) > 0 || sol.Summary.Unassigned > 0 {
			feas = "NO"
			bad++
			for _, x := range v {
				fmt.Fprintf(os.Stderr, "%s: %v\n", row.name, x)
			}
		}
		cost := float64(sol.Summary.Cost)
		cell := func(ok bool, v float64) string {
			if !ok {
				return "-"
			}
			return fmt.Sprintf("%.0f", v)
		}
		gap := "-"
		if row.pyvrpOK {
			g := pct(cost, row.pyvrp)
			gap = fmt.Sprintf("%+.2f", g)
			gapSum += g
			gapN++
		}
		firstS, at5S, at5Gap := "-", "-", "-"
		if first >= 0 {
			firstS = fmt.Sprintf("%.2f", first)
		}
		if at5 >= 0 {
			at5S = fmt.Sprintf("%.0f", at5)
			at5Gap = fmt.Sprintf("%.2f", pct(at5, cost))
		}
		fmt.Printf("| %s | %d | %.0f | %d | %s | %s | %s | %s | %s | %s | %s | %s | %.1f | %.1f | %s | %s |\n",
			row.name, len(p.Jobs), cost, sol.Summary.Vehicles, cell(row.pyvrpOK, row.pyvrp), dash(row.pyvrpRts),
			cell(row.vroomOK, row.vroom), dash(row.vroomRts), gap, firstS, at5S, at5Gap, el, cpu, loadAvg(), feas)
	}
	if gapN > 0 {
		fmt.Printf("\naverage gap to PyVRP over %d instances: %+.2f%%\n", gapN, gapSum/float64(gapN))
	}
	if bad > 0 {
		fmt.Printf("%d infeasible or incomplete solutions\n", bad)
		return errInfeasible
	}
	return nil
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
