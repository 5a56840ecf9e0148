package vroom

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/courierhq/courier/routing"
)

const sample = `{
  "vehicles": [
    {"id": 7, "start_index": 0, "end_index": 0, "capacity": [4], "time_window": [0, 20000], "skills": [1]},
    {"id": 8, "start_index": 0, "capacity": [4]}
  ],
  "jobs": [
    {"id": 101, "location_index": 1, "delivery": [1], "service": 300, "time_windows": [[0, 5000]]},
    {"id": 102, "location_index": 2, "delivery": [2], "service": 300, "skills": [1]},
    {"id": 103, "location_index": 3, "amount": [1], "priority": 50},
    {"id": 104, "location_index": 3, "delivery": [9]}
  ],
  "matrices": {"car": {
    "durations": [[0, 100, 200, 300], [100, 0, 150, 250], [200, 150, 0, 120], [300, 250, 120, 0]],
    "distances": [[0, 1000, 2000, 3000], [1000, 0, 1500, 2500], [2000, 1500, 0, 1200], [3000, 2500, 1200, 0]]
  }}
}`

func TestDecodeSolveEncode(t *testing.T) {
	in, p, err := Decode(strings.NewReader(sample))
	if err != nil {
		t.Fatal(err)
	}
	if p.Vehicles[1].End != routing.None || p.Objective != routing.MinimizeDuration {
		t.Fatalf("conversion: %+v", p.Vehicles[1])
	}
	sol, err := routing.Solve(context.Background(), p, routing.Options{MaxIterations: 20})
	if err != nil {
		t.Fatal(err)
	}
	if v := routing.Check(p, sol); len(v) > 0 {
		t.Fatal(v)
	}
	out := Encode(in, p, sol)
	if out.Summary.Unassigned != 1 || out.Unassigned[0].ID != 104 {
		t.Fatalf("want job 104 unassigned (demand 9 > capacity 4): %+v", out.Unassigned)
	}
	var buf bytes.Buffer
	if err := json.NewEncoder(&buf).Encode(out); err != nil {
		t.Fatal(err)
	}
	var back map[string]any
	if err := json.Unmarshal(buf.Bytes(), &back); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"code", "summary", "unassigned", "routes"} {
		if _, ok := back[k]; !ok {
			t.Fatalf("output lacks %q", k)
		}
	}
	for _, r := range out.Routes {
		if r.Steps[0].Type != "start" {
			t.Fatalf("route starts with %q", r.Steps[0].Type)
		}
		for _, st := range r.Steps {
			if st.Type == "job" && *st.Job == 102 && r.Vehicle != 7 {
				t.Fatal("job 102 needs skill 1 (vehicle 7)")
			}
		}
	}
}

func TestDecodeErrors(t *testing.T) {
	for _, tc := range []struct{ doc, want string }{
		{`{"jobs": [}`, "line 1"},
		{"{\n\"jobs\": [],\n\"vehicles\": 3}", "line 3"},
		{`{"jobs": [], "vehicles": [], "shipments": [{}], "matrix": [[0]]}`, "shipments"},
		{`{"jobs": [{"id": 1}], "vehicles": [{"id": 1, "start_index": 0}], "matrix": [[0]]}`, "location_index"},
		{`{"jobs": [], "vehicles": []}`, "matrix"},
	} {
		_, _, err := Decode(strings.NewReader(tc.doc))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: got %v, want %q", tc.doc, err, tc.want)
		}
	}
}

func FuzzDecode(f *testing.F) {
	f.Add([]byte(sample))
	f.Fuzz(func(t *testing.T, data []byte) {
		_, p, err := Decode(bytes.NewReader(data))
		if err != nil {
			return
		}
		if routing.Validate(p) != nil {
			return
		}
		sol, err := routing.Solve(context.Background(), p, routing.Options{MaxIterations: 2})
		if err != nil {
			t.Fatal(err)
		}
		if v := routing.Check(p, sol); len(v) > 0 {
			t.Fatal(v)
		}
	})
}

const twoProfiles = `{
  "vehicles": [
    {"id": 1, "profile": "bike", "start_index": 0, "end_index": 0, "capacity": [5]},
    {"id": 2, "start_index": 0, "end_index": 0, "capacity": [5], "time_window": [0, 100]}
  ],
  "jobs": [
    {"id": 11, "location_index": 1, "delivery": [1]},
    {"id": 12, "location_index": 2, "delivery": [1]}
  ],
  "matrices": {
    "car": {"durations": [[0, 10, 20], [10, 0, 15], [20, 15, 0]],
            "distances": [[0, 100, 200], [100, 0, 150], [200, 150, 0]]},
    "bike": {"durations": [[0, 30, 60], [30, 0, 45], [60, 45, 0]],
             "distances": [[0, 90, 190], [90, 0, 140], [190, 140, 0]]}
  }
}`

func TestDecodeProfiles(t *testing.T) {
	in, p, err := Decode(strings.NewReader(twoProfiles))
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Profiles) != 2 || p.Profiles[0].Name != "bike" || p.Profiles[1].Name != "car" {
		t.Fatalf("profiles %+v", p.Profiles)
	}
	if p.Vehicles[0].Profile != 0 || p.Vehicles[1].Profile != 1 {
		t.Fatalf("vehicle profiles %d %d (bike, default car)", p.Vehicles[0].Profile, p.Vehicles[1].Profile)
	}
	// Each route's figures use its vehicle's matrices.
	sol, err := routing.Evaluate(p, [][]int{{0}, {1}})
	if err != nil {
		t.Fatal(err)
	}
	if v := routing.Check(p, sol); len(v) > 0 {
		t.Fatal(v)
	}
	out := Encode(in, p, sol)
	if out.Routes[0].Duration != 60 || *out.Routes[0].Distance != 180 || out.Routes[1].Duration != 40 || *out.Routes[1].Distance != 400 {
		t.Fatalf("per-profile output: %+v", out.Routes)
	}
	if out.Summary.Cost != 100 || *out.Summary.Distance != 580 {
		t.Fatalf("summary %+v", out.Summary)
	}
	// The search too.
	sol, err = routing.Solve(context.Background(), p, routing.Options{MaxIterations: 10})
	if err != nil {
		t.Fatal(err)
	}
	if v := routing.Check(p, sol); len(v) > 0 || sol.Summary.Vehicles != 1 || sol.Routes[0].Vehicle != 1 {
		t.Fatalf("want both jobs by car: %+v %v", sol.Routes, v)
	}

	// A profile without matrices; costs on one profile only.
	bad := strings.Replace(twoProfiles, `"profile": "bike"`, `"profile": "foot"`, 1)
	if _, _, err := Decode(strings.NewReader(bad)); err == nil || !strings.Contains(err.Error(), `profile "foot" has no matrices`) {
		t.Fatalf("unknown profile: %v", err)
	}
	withCosts := strings.Replace(twoProfiles, `"car": {"durations"`, `"car": {"costs": [[0, 1, 2], [1, 0, 1], [2, 1, 0]], "durations"`, 1)
	_, p, err = Decode(strings.NewReader(withCosts))
	if err != nil {
		t.Fatal(err)
	}
	if err := routing.Validate(p); err != nil || p.Profiles[0].Costs == nil {
		t.Fatalf("the bike pays its durations: %v", err)
	}
}
