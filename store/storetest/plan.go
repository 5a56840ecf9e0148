package storetest

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/courierhq/courier"
)

// testPlanProblem: a plan's routing problem is stored apart. Plan and
// UpdatePlan (read and written every second while a plan runs) never carry
// it; PlanProblem returns it, nil before it is stored; an update of the plan
// leaves it as it was.
func testPlanProblem(t *testing.T, s courier.Store) {
	d := newDepot(t, s, "Plans")
	p := &courier.Plan{Date: "2026-03-14", DepotID: d.ID, Status: courier.PlanQueued, TimeLimit: time.Second}
	must(t, s.CreatePlan(ctx(t), p))
	if got, err := s.PlanProblem(ctx(t), p.ID); err != nil || got != nil {
		t.Fatalf("problem before it is stored: %q, %v", got, err)
	}
	big := []byte(`{"jobs":[],"durations":[` + strings.Repeat("[1,2,3],", 200000) + `[0]]}`)
	must(t, s.SetPlanProblem(ctx(t), p.ID, big))
	up, err := s.UpdatePlan(ctx(t), p.ID, func(p *courier.Plan) error { p.BestCost = 42; return nil })
	must(t, err)
	if up.Problem != nil || up.BestCost != 42 {
		t.Fatalf("UpdatePlan: %d problem bytes, best cost %d", len(up.Problem), up.BestCost)
	}
	got, err := s.Plan(ctx(t), p.ID)
	must(t, err)
	if got.Problem != nil || got.Version != 2 {
		t.Fatalf("Plan: %d problem bytes, version %d", len(got.Problem), got.Version)
	}
	back, err := s.PlanProblem(ctx(t), p.ID)
	must(t, err)
	// PostgreSQL keeps it as jsonb: the same JSON value, spaced its own way.
	var want, have any
	must(t, json.Unmarshal(big, &want))
	if err := json.Unmarshal(back, &have); err != nil || !reflect.DeepEqual(have, want) {
		t.Fatalf("problem: %d bytes back, %d stored (%v)", len(back), len(big), err)
	}
	_, err = s.PlanProblem(ctx(t), p.ID+1000)
	wantCode(t, err, courier.ENOTFOUND)
	wantCode(t, s.SetPlanProblem(ctx(t), p.ID+1000, big), courier.ENOTFOUND)

	// CreatePlan still writes a problem it is given.
	q := &courier.Plan{Date: "2026-03-14", DepotID: d.ID, Status: courier.PlanQueued, TimeLimit: time.Second, Problem: []byte(`{"jobs":[]}`)}
	must(t, s.CreatePlan(ctx(t), q))
	if back, err := s.PlanProblem(ctx(t), q.ID); err != nil || strings.ReplaceAll(string(back), " ", "") != `{"jobs":[]}` {
		t.Fatalf("problem written at create: %q, %v", back, err)
	}
}
