package vrplib

import (
	"bytes"
	"context"
	"encoding/csv"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/courierhq/courier/routing"
)

const bench = "../../testdata/bench"

func benchDir(t testing.TB, sub string) string {
	d := filepath.Join(bench, sub)
	if _, err := os.Stat(d); err != nil {
		t.Fatalf("benchmark data missing (testdata/bench at the repository root): %v", err)
	}
	return d
}

func readInst(t testing.TB, path string, conv Convention) *Instance {
	t.Helper()
	in, err := ReadFile(path, conv)
	if err != nil {
		t.Fatal(err)
	}
	if err := routing.Validate(in.Problem); err != nil {
		t.Fatal(err)
	}
	return in
}

// solFromVRPLIB turns a .sol into a routing.Solution via the solver's
// schedule (vehicles in order) so that Check can verify it.
func toSolution(t testing.TB, p *routing.Problem, s *Solution) *routing.Solution {
	t.Helper()
	var routes [][]int
	for _, r := range s.Routes {
		var jobs []int
		for _, c := range r {
			jobs = append(jobs, c-1)
		}
		routes = append(routes, jobs)
	}
	sol, err := routing.Evaluate(p, routes)
	if err != nil {
		t.Fatal(err)
	}
	return sol
}

func TestXSolutionsRecompute(t *testing.T) {
	dir := benchDir(t, "cvrp")
	for _, name := range []string{"X-n101-k25", "X-n200-k36"} {
		in := readInst(t, filepath.Join(dir, name+".vrp"), Exact)
		f, err := os.Open(filepath.Join(dir, name+".sol"))
		if err != nil {
			t.Fatal(err)
		}
		s, err := ReadSol(f, name+".sol")
		f.Close()
		if err != nil {
			t.Fatal(err)
		}
		sol := toSolution(t, in.Problem, s)
		if v := routing.Check(in.Problem, sol); len(v) > 0 {
			t.Fatalf("%s: %v", name, v[0])
		}
		if float64(sol.Summary.Distance) != s.Cost {
			t.Fatalf("%s: recomputed %d, file says %v", name, sol.Summary.Distance, s.Cost)
		}
	}
}

func TestSolomonDIMACSSolutions(t *testing.T) {
	dir := benchDir(t, "vrptw")
	for _, name := range []string{"C101", "R101", "RC208"} {
		txt := readInst(t, filepath.Join(dir, name+".txt"), DIMACS)
		vrp := readInst(t, filepath.Join(dir, name+".vrp"), DIMACS)
		if fmt.Sprint(txt.Problem.Jobs) != fmt.Sprint(vrp.Problem.Jobs) || fmt.Sprint(txt.Problem.Distances) != fmt.Sprint(vrp.Problem.Distances) {
			t.Fatalf("%s: .txt and .vrp differ", name)
		}
		f, _ := os.Open(filepath.Join(dir, name+".sol"))
		s, err := ReadSol(f, name)
		f.Close()
		if err != nil {
			t.Fatal(err)
		}
		sol := toSolution(t, txt.Problem, s)
		if v := routing.Check(txt.Problem, sol); len(v) > 0 {
			t.Fatalf("%s: %v", name, v[0])
		}
		if got := float64(sol.Summary.Distance) / 10; math.Abs(got-s.Cost) > 1e-9 {
			t.Fatalf("%s: recomputed %v, file says %v", name, got, s.Cost)
		}
	}
}

func TestSolomonExactIsConservative(t *testing.T) {
	// C101's DIMACS solution is feasible with exact distances (bench
	// README), so it must pass under the Exact convention too, with the
	// hierarchical BKS distance.
	dir := benchDir(t, "vrptw")
	in := readInst(t, filepath.Join(dir, "C101.txt"), Exact)
	f, _ := os.Open(filepath.Join(dir, "C101.sol"))
	s, _ := ReadSol(f, "C101.sol")
	f.Close()
	sol := toSolution(t, in.Problem, s)
	if v := routing.Check(in.Problem, sol); len(v) > 0 {
		t.Fatal(v[0])
	}
	if got := float64(sol.Summary.Distance) / in.Scale; math.Abs(got-828.94) > 0.01 {
		t.Fatalf("distance %v, want 828.94", got)
	}
}

// TestSolveAugerat solves small instances with an iteration limit
// (deterministic) and bounds the gap to the best known solution.
func TestSolveAugerat(t *testing.T) {
	dir := benchDir(t, "cvrp/augerat")
	bks := map[string]float64{}
	f, err := os.Open(filepath.Join(dir, "bks.csv"))
	if err != nil {
		t.Fatal(err)
	}
	recs, err := csv.NewReader(f).ReadAll()
	f.Close()
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range recs[1:] {
		bks[r[0]], _ = strconv.ParseFloat(r[2], 64)
	}
	var sum float64
	names := []string{"A-n32-k5", "A-n45-k6", "B-n50-k8", "P-n40-k5", "A-n64-k9"}
	iters := 150
	if testing.Short() || raceEnabled {
		names, iters = names[:2], 60
	}
	for _, name := range names {
		in := readInst(t, filepath.Join(dir, name+".vrp"), Exact)
		sol, err := routing.Solve(context.Background(), in.Problem, routing.Options{MaxIterations: iters, Seed: 1})
		if err != nil {
			t.Fatal(err)
		}
		if v := routing.Check(in.Problem, sol); len(v) > 0 {
			t.Fatalf("%s: %v", name, v[0])
		}
		gap := 100 * (float64(sol.Summary.Distance) - bks[name]) / bks[name]
		t.Logf("%s: %d (BKS %v, gap %.2f%%)", name, sol.Summary.Distance, bks[name], gap)
		if gap > 2 {
			t.Errorf("%s: gap %.2f%% above 2%%", name, gap)
		}
		sum += gap
	}
	if avg := sum / float64(len(names)); avg > 0.5 {
		t.Errorf("average gap %.2f%% above 0.5%%", avg)
	}
}

func TestParseErrorsNameLine(t *testing.T) {
	for _, tc := range []struct {
		name, text, want string
	}{
		{"bad.vrp", "NAME : x\nTYPE : CVRP\nDIMENSION : 3\nEDGE_WEIGHT_TYPE : EUC_2D\nCAPACITY : 10\nNODE_COORD_SECTION\n1 0 0\n2 nan 1\n", "bad.vrp:8"},
		{"bad.vrp", "NAME : x\nDIMENSION : 99999999\n", "bad.vrp:2"},
		{"bad.vrp", "NAME : x\nDIMENSION : 6000\n", "bad.vrp:2"},
		{"bad.vrp", "NAME : x\nTYPE : CVRP\nDIMENSION : 3\nEDGE_WEIGHT_TYPE : EUC_2D\nCAPACITY : 10\nNODE_COORD_SECTION\n1 0 0\n7 1 1\n", "bad.vrp:8"},
		{"s.txt", "S\nVEHICLE\nNUMBER CAPACITY\n25 200\nCUSTOMER\n0 40 50 0 0 1236 0\n1 45 68 10 912 900 90\n", "s.txt:7"},
		{"s.txt", "S\nVEHICLE\nNUMBER CAPACITY\n25 200\nCUSTOMER\n0 40 50 0 0 1236 0\n1 45 68 10 912\n", "s.txt:7"},
	} {
		var err error
		if strings.HasSuffix(tc.name, ".vrp") {
			_, err = ReadVRP(strings.NewReader(tc.text), tc.name, Exact)
		} else {
			_, err = ReadSolomon(strings.NewReader(tc.text), tc.name, Exact)
		}
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("got %v, want an error naming %s", err, tc.want)
		}
	}
}

func addCorpus(f *testing.F, paths ...string) {
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
}

func FuzzReadVRP(f *testing.F) {
	addCorpus(f, filepath.Join(bench, "cvrp/augerat/A-n32-k5.vrp"), filepath.Join(bench, "vrptw/C101.vrp"))
	f.Fuzz(func(t *testing.T, data []byte) {
		in, err := ReadVRP(bytes.NewReader(data), "fuzz.vrp", Exact)
		if err == nil {
			if err := routing.Validate(in.Problem); err != nil && len(in.Problem.Jobs) > 0 {
				t.Fatalf("parsed a problem that does not validate: %v", err)
			}
		}
	})
}

func FuzzReadSolomon(f *testing.F) {
	addCorpus(f, filepath.Join(bench, "vrptw/R101.txt"))
	f.Fuzz(func(t *testing.T, data []byte) {
		in, err := ReadSolomon(bytes.NewReader(data), "fuzz.txt", DIMACS)
		if err == nil {
			if err := routing.Validate(in.Problem); err != nil {
				t.Fatalf("parsed a problem that does not validate: %v", err)
			}
		}
	})
}

func FuzzReadSol(f *testing.F) {
	addCorpus(f, filepath.Join(bench, "cvrp/X-n101-k25.sol"))
	f.Fuzz(func(t *testing.T, data []byte) {
		ReadSol(bytes.NewReader(data), "fuzz.sol")
	})
}
