package main

import (
	"context"
	"fmt"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/courierhq/courier"
	"github.com/courierhq/courier/internal/testsvc"
	"github.com/courierhq/courier/store"
)

// startWithPlanLease starts a courierd replica on dbURL with a plan lease of lease.
func startWithPlanLease(t *testing.T, dbURL string, lease time.Duration) (string, *exec.Cmd) {
	t.Helper()
	return startCourierd(t, dbURL, "COURIER_PLAN_LEASE="+lease.String())
}

// TestPlanCrash runs two courierd replicas on one store. A plan runs on
// replica A longer than the lease while B watches: B leaves it alone and it
// finishes. Then A is killed with SIGKILL in the middle of a plan: B marks
// that plan failed within about a lease, with nobody reading it.
func TestPlanCrash(t *testing.T) {
	t.Run("sqlite", func(t *testing.T) { planCrash(t, filepath.Join(t.TempDir(), "plans.db")) })
	t.Run("postgres", func(t *testing.T) { planCrash(t, testsvc.PostgresURL(t)) })
}

func planCrash(t *testing.T, dbURL string) {
	ctx := context.Background()
	const lease = 2 * time.Second
	a, procA := startWithPlanLease(t, dbURL, lease)
	defer func() { procA.Process.Kill(); procA.Wait() }()
	boss, depotID := bossAndDepot(t, a)
	depot := struct{ ID int64 }{depotID}
	if st := call(t, "POST", a+"/api/v1/couriers", boss, fmt.Sprintf(`{"name":"C","phone":"+7 916 555-00-10","login":"cour","password":"password-c",`+
		`"vehicle":{"type":"car"},"shift":{"start":"08:00","end":"20:00"},"depot_id":%d}`, depot.ID), nil); st != 201 {
		t.Fatalf("courier: %d", st)
	}
	date := time.Now().AddDate(0, 0, 1).Format(time.DateOnly)
	for i := range 6 {
		var o struct{ ID int64 }
		body := fmt.Sprintf(`{"external_id":"P-%d","customer":{"name":"N","phone":"+7 900 000-00-00"},"address":"A",`+
			`"location":{"lat":%f,"lng":37.61},"delivery_date":%q,"cod":{"amount":1000,"currency":"RUB","method":"cash"}}`, i, 55.74+float64(i)/200, date)
		if st := call(t, "POST", a+"/api/v1/orders", boss, body, &o); st != 201 {
			t.Fatalf("order: %d", st)
		}
		for _, s := range []string{"confirmed", "ready"} {
			if st := call(t, "POST", fmt.Sprintf("%s/api/v1/orders/%d/status", a, o.ID), boss, `{"status":"`+s+`"}`, nil); st != 200 {
				t.Fatalf("status %s: %d", s, st)
			}
		}
	}
	db, err := store.Open(ctx, dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	plan := func(limit int) int64 {
		var p struct{ ID int64 }
		if st := call(t, "POST", a+"/api/v1/plans", boss, fmt.Sprintf(`{"date":%q,"depot_id":%d,"time_limit_s":%d}`, date, depot.ID, limit), &p); st != 202 {
			t.Fatalf("plan: %d", st)
		}
		return p.ID
	}
	// wait polls the store (never the API, whose reads would reap) until ok.
	wait := func(id int64, within time.Duration, ok func(*courier.Plan) bool) *courier.Plan {
		deadline := time.Now().Add(within)
		for {
			p, err := db.Plan(ctx, id)
			if err != nil {
				t.Fatal(err)
			}
			if ok(p) || time.Now().After(deadline) {
				return p
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	running := func(p *courier.Plan) bool { return p.Status == courier.PlanRunning }
	ended := func(p *courier.Plan) bool { return p.Status != courier.PlanRunning && p.Status != courier.PlanQueued }

	// B joins while A runs a plan three leases long.
	live := plan(6)
	if p := wait(live, 10*time.Second, running); !running(p) {
		t.Fatalf("plan %d: %s", live, p.Status)
	}
	_, procB := startWithPlanLease(t, dbURL, lease)
	defer func() { procB.Process.Signal(syscall.SIGTERM); procB.Wait() }()
	if p := wait(live, 30*time.Second, ended); p.Status != courier.PlanDone {
		t.Fatalf("a plan running on a live replica ended %s (%s)", p.Status, p.Error)
	}

	// A dies in the middle of a plan.
	dead := plan(60)
	if p := wait(dead, 10*time.Second, running); !running(p) {
		t.Fatalf("plan %d: %s", dead, p.Status)
	}
	if err := procA.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	procA.Wait()
	killed := time.Now()
	if p, _ := db.Plan(ctx, dead); p.Status != courier.PlanRunning {
		t.Fatalf("right after the kill the plan is %s", p.Status)
	}
	p := wait(dead, 10*lease, ended)
	if p.Status != courier.PlanFailed || p.Error != "interrupted: the server running it stopped" {
		t.Fatalf("the dead replica's plan: %s (%s) %s after the kill", p.Status, p.Error, time.Since(killed))
	}
	t.Logf("the dead replica's plan was marked failed %s after SIGKILL (lease %s)", time.Since(killed).Round(10*time.Millisecond), lease)
}
