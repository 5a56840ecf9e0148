package routing

import (
	"bytes"
	"context"
	"reflect"
	"strings"
	"testing"
)

func TestJSONRoundTrip(t *testing.T) {
	p := tinyProblem(9, 6, 2, true, true)
	p.Vehicles[1].End = None
	var buf bytes.Buffer
	if err := EncodeProblem(&buf, p); err != nil {
		t.Fatal(err)
	}
	q, err := DecodeProblem(&buf)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(p, q) {
		t.Fatalf("round trip changed the problem:\n%+v\n%+v", p.Vehicles, q.Vehicles)
	}
	sol, err := Solve(context.Background(), q, Options{MaxIterations: 5})
	if err != nil {
		t.Fatal(err)
	}
	buf.Reset()
	if err := EncodeSolution(&buf, sol); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(buf.String(), `"unassigned_weight"`) {
		t.Fatal("solution JSON lacks the summary")
	}
}

func TestJSONErrors(t *testing.T) {
	for _, tc := range []struct{ doc, want string }{
		{"{\n\"jobs\": [\n{\"location\": \"x\"}]}", "line 3"},
		{"{\"jobs\": [], \"bogus\": 1}", "bogus"},
		{"{\n\n  \"durations\": [[0, 1.5]]}", "line 3"},
		{"[", "unexpected EOF"},
	} {
		_, err := DecodeProblem(strings.NewReader(tc.doc))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: got %v, want %q", tc.doc, err, tc.want)
		}
	}
}

func FuzzDecodeProblem(f *testing.F) {
	var buf bytes.Buffer
	EncodeProblem(&buf, tinyProblem(1, 4, 2, true, false))
	f.Add(buf.Bytes())
	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := DecodeProblem(bytes.NewReader(data))
		if err != nil || Validate(p) != nil || len(p.Jobs) > 30 {
			return
		}
		sol, err := Solve(context.Background(), p, Options{MaxIterations: 2})
		if err != nil {
			t.Fatal(err)
		}
		if v := Check(p, sol); len(v) > 0 {
			t.Fatal(v)
		}
	})
}
