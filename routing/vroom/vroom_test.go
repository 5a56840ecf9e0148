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
