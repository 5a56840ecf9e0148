package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const bench = "../../testdata/bench"

func TestSolveAndBench(t *testing.T) {
	dir := t.TempDir()
	for _, name := range []string{"A-n32-k5", "P-n16-k8"} {
		b, err := os.ReadFile(filepath.Join(bench, "cvrp/augerat", name+".vrp"))
		if err != nil {
			t.Fatalf("benchmark data missing: %v", err)
		}
		os.WriteFile(filepath.Join(dir, name+".vrp"), b, 0o644)
	}
	bks := "instance,n,bks_cost,bks_vehicles\nA-n32-k5,31,784,5\nP-n16-k8,15,450,8\n"
	os.WriteFile(filepath.Join(dir, "bks.csv"), []byte(bks), 0o644)
	out := filepath.Join(dir, "out.sol")
	if code := run(context.Background(), []string{"solve", filepath.Join(dir, "A-n32-k5.vrp"), "-iters", "20", "-t", "0", "-q", "-o", out}); code != 0 {
		t.Fatalf("solve exited %d", code)
	}
	b, err := os.ReadFile(out)
	if err != nil || !strings.Contains(string(b), "Route #1:") {
		t.Fatalf("no .sol written: %v %q", err, b)
	}
	if code := run(context.Background(), []string{"bench", dir, "-iters", "20"}); code != 0 {
		t.Fatalf("bench exited %d", code)
	}
	if code := run(context.Background(), []string{"solve", filepath.Join(dir, "A-n32-k5.vrp"), "-t", "0"}); code == 0 {
		t.Fatal("a zero time limit was accepted")
	}
	if code := run(context.Background(), []string{"solve", filepath.Join(dir, "missing.vrp")}); code == 0 {
		t.Fatal("a missing file was accepted")
	}
}

func TestVROOMRoundTrip(t *testing.T) {
	dir := t.TempDir()
	in := filepath.Join(dir, "in.json")
	os.WriteFile(in, []byte(`{"vehicles": [{"id": 1, "start_index": 0, "end_index": 0, "capacity": [3]}],
 "jobs": [{"id": 5, "location_index": 1, "delivery": [1]}, {"id": 6, "location_index": 2, "delivery": [1]}],
 "matrices": {"car": {"durations": [[0, 5, 9], [5, 0, 4], [9, 4, 0]]}}}`), 0o644)
	out := filepath.Join(dir, "out.json")
	if code := run(context.Background(), []string{"solve", in, "-iters", "5", "-t", "0", "-q", "-o", out}); code != 0 {
		t.Fatalf("exit %d", code)
	}
	b, _ := os.ReadFile(out)
	for _, want := range []string{`"steps"`, `"summary"`, `"cost": 18`} {
		if !strings.Contains(string(b), want) {
			t.Fatalf("VROOM output lacks %s:\n%s", want, b)
		}
	}
}

func TestVROOMProfiles(t *testing.T) {
	dir := t.TempDir()
	in := filepath.Join(dir, "in.json")
	os.WriteFile(in, []byte(`{"vehicles": [{"id": 1, "profile": "bike", "start_index": 0, "end_index": 0, "capacity": [3]},
   {"id": 2, "profile": "car", "start_index": 0, "end_index": 0, "capacity": [3]}],
 "jobs": [{"id": 5, "location_index": 1, "delivery": [1]}, {"id": 6, "location_index": 2, "delivery": [1]}],
 "matrices": {"car": {"durations": [[0, 5, 9], [5, 0, 4], [9, 4, 0]]},
              "bike": {"durations": [[0, 15, 27], [15, 0, 12], [27, 12, 0]]}}}`), 0o644)
	out := filepath.Join(dir, "out.json")
	if code := run(context.Background(), []string{"solve", in, "-iters", "5", "-t", "0", "-q", "-o", out}); code != 0 {
		t.Fatalf("exit %d", code)
	}
	b, _ := os.ReadFile(out)
	for _, want := range []string{`"vehicle": 2`, `"cost": 18`} {
		if !strings.Contains(string(b), want) {
			t.Fatalf("VROOM output lacks %s (both jobs by car):\n%s", want, b)
		}
	}
}

// TestBenchPeers runs the peers' benchmark (a city problem of the
// repository beside the peers' figures) and checks the table row.
func TestBenchPeers(t *testing.T) {
	dir := t.TempDir()
	b, err := os.ReadFile(filepath.Join(bench, "city", "city-400-s3.json.gz"))
	if err != nil {
		t.Fatalf("benchmark data missing: %v", err)
	}
	os.WriteFile(filepath.Join(dir, "city-400-s3.json.gz"), b, 0o644)
	os.WriteFile(filepath.Join(dir, "peers.csv"), []byte("instance,n,pyvrp_cost,pyvrp_routes,vroom_cost,vroom_routes\ncity-400-s3,400,108535,13,,\n"), 0o644)
	out := captureStdout(t, func() {
		if code := run(context.Background(), []string{"bench", dir, "-iters", "1"}); code != 0 {
			t.Fatalf("bench exited %d", code)
		}
	})
	if !strings.Contains(out, "| city-400-s3 | 400 | ") || !strings.Contains(out, "| 108535 | 13 | - | - |") || !strings.Contains(out, "| yes |") {
		t.Fatalf("no table row for city-400-s3 beside PyVRP's figure:\n%s", out)
	}
}

// captureStdout returns what f writes to the standard output.
func captureStdout(t *testing.T, f func()) string {
	t.Helper()
	tmp, err := os.CreateTemp(t.TempDir(), "stdout")
	if err != nil {
		t.Fatal(err)
	}
	old := os.Stdout
	os.Stdout = tmp
	defer func() { os.Stdout = old }()
	f()
	os.Stdout = old
	b, err := os.ReadFile(tmp.Name())
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
