package dispatch_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/courierhq/courier"
	"github.com/courierhq/courier/dispatch"
	"github.com/courierhq/courier/internal/testsvc"
	"github.com/courierhq/courier/store"
)

// replica is a dispatch service as one courierd replica runs it.
func replica(t *testing.T, db courier.Store, now courier.Clock, lease time.Duration) *dispatch.Service {
	svc := dispatch.New(db, now, dispatch.Config{Currency: "RUB", Location: time.UTC, Tariff: dispatch.DefaultTariff, DefaultServiceMinutes: 5}, nil, plainHasher{})
	svc.SetSolver(dispatch.SolverSettings{PlanLease: lease})
	t.Cleanup(svc.Close)
	return svc
}

// readyOrders makes a depot, a courier and n ready orders for 2026-11-23.
func readyOrders(t *testing.T, svc *dispatch.Service, n int) int64 {
	ctx := context.Background()
	admin := courier.Actor{UserID: 1, Role: courier.RoleAdmin}
	depot := &courier.Depot{Name: "D", Location: courier.LatLng{Lat: 55.73, Lng: 37.64}, Opens: "07:00", Closes: "23:00"}
	if err := svc.CreateDepot(ctx, admin, depot); err != nil {
		t.Fatal(err)
	}
	name, phone, login, pw := "C", "+7 916 000-00-01", "cour1", "password1"
	if _, err := svc.CreateCourier(ctx, admin, dispatch.CourierInput{Name: &name, Phone: &phone, Login: &login, Password: &pw,
		Shift: &courier.Shift{Start: "09:00", End: "18:00"}, DepotID: &depot.ID}); err != nil {
		t.Fatal(err)
	}
	for i := range n {
		ext, addr, date := "O-"+string(rune('a'+i)), "Somewhere", "2026-11-23"
		o, err := svc.CreateOrder(ctx, admin, dispatch.OrderInput{ExternalID: &ext, Customer: &courier.Customer{Name: "N", Phone: "+7 900 000-00-00"},
			Address: &addr, Location: &courier.LatLng{Lat: 55.75 + float64(i)/100, Lng: 37.6}, DeliveryDate: &date})
		if err != nil {
			t.Fatal(err)
		}
		for _, st := range []courier.OrderStatus{courier.StatusConfirmed, courier.StatusReady} {
			if _, err := svc.ChangeStatus(ctx, admin, o.ID, dispatch.StatusChange{To: st}); err != nil {
				t.Fatal(err)
			}
		}
	}
	return depot.ID
}

// waitPlan polls the store (not the service: reading through it may reap)
// until the plan's status satisfies ok.
func waitPlan(t *testing.T, db courier.Store, id int64, within time.Duration, ok func(*courier.Plan) bool) *courier.Plan {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		p, err := db.Plan(context.Background(), id)
		if err != nil {
			t.Fatal(err)
		}
		if ok(p) {
			return p
		}
		if time.Now().After(deadline) {
			t.Fatalf("plan %d still %s (%s) after %s", id, p.Status, p.Error, within)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestPlanLeases: plan jobs run under leases. A replica that starts while
// another runs a plan leaves that plan alone (its lease is renewed), and it
// finishes; a plan whose replica died (its lease ran out) is marked failed by
// a live replica's watcher without anyone reading it; and a job whose plan
// was reaped stops and writes nothing more, so two replicas never run one plan.
func TestPlanLeases(t *testing.T) {
	t.Run("sqlite", func(t *testing.T) { planLeases(t, filepath.Join(t.TempDir(), "lease.db")) })
	t.Run("postgres", func(t *testing.T) { planLeases(t, testsvc.PostgresURL(t)) })
}

func planLeases(t *testing.T, dbURL string) {
	ctx := context.Background()
	now := clockAt(time.Date(2026, 11, 23, 7, 0, 0, 0, time.UTC))
	db, err := store.Open(ctx, dbURL, store.WithClock(now))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	const lease = 600 * time.Millisecond
	a := replica(t, db, now, lease)
	depotID := readyOrders(t, a, 3)
	admin := courier.Actor{UserID: 1, Role: courier.RoleAdmin}
	req := dispatch.PlanRequest{Date: "2026-11-23", DepotID: depotID, TimeLimit: 2 * time.Second}

	// A runs a plan for 2 s (three leases); B starts meanwhile and watches.
	running, err := a.StartPlan(ctx, admin, req)
	if err != nil {
		t.Fatal(err)
	}
	waitPlan(t, db, running.ID, 5*time.Second, func(p *courier.Plan) bool { return p.Status == courier.PlanRunning })
	b := replica(t, db, now, lease)
	b.WatchPlans()
	done := waitPlan(t, db, running.ID, 20*time.Second, func(p *courier.Plan) bool {
		return p.Status != courier.PlanRunning && p.Status != courier.PlanQueued
	})
	if done.Status != courier.PlanDone {
		t.Fatalf("a plan running on a live replica ended %s (%s)", done.Status, done.Error)
	}

	// A replica died while running a plan: its row stays running with a lease
	// nobody renews. B's watcher fails it within about a lease.
	dead := &courier.Plan{Date: "2026-11-23", DepotID: depotID, TimeLimit: time.Minute, Status: courier.PlanRunning,
		LeaseOwner: "host/1/dead", LeaseUntil: time.Now().Add(lease)}
	if err := db.CreatePlan(ctx, dead); err != nil {
		t.Fatal(err)
	}
	reaped := waitPlan(t, db, dead.ID, 5*lease, func(p *courier.Plan) bool { return p.Status != courier.PlanRunning })
	if reaped.Status != courier.PlanFailed || reaped.Error != "interrupted: the server running it stopped" {
		t.Fatalf("abandoned plan: %s (%s)", reaped.Status, reaped.Error)
	}
	if time.Since(reaped.LeaseUntil) > 4*lease {
		t.Errorf("reaped %s after its lease ended", time.Since(reaped.LeaseUntil))
	}

	// A plan reaped while its job still runs (its replica stalled past the
	// lease): the job stops at its next renewal and writes nothing more.
	req.TimeLimit = 3 * time.Second
	stalled, err := a.StartPlan(ctx, admin, req)
	if err != nil {
		t.Fatal(err)
	}
	waitPlan(t, db, stalled.ID, 5*time.Second, func(p *courier.Plan) bool { return p.Status == courier.PlanRunning })
	if ids, err := db.ReapPlans(ctx, time.Now().Add(time.Hour), "reaped by the test"); err != nil || len(ids) != 1 || ids[0] != stalled.ID {
		t.Fatalf("reap: %v %v", ids, err)
	}
	time.Sleep(req.TimeLimit + time.Second)
	p, err := db.Plan(ctx, stalled.ID)
	if err != nil {
		t.Fatal(err)
	}
	sheets, err := db.ListSheets(ctx, courier.SheetFilter{PlanID: stalled.ID})
	if err != nil {
		t.Fatal(err)
	}
	if p.Status != courier.PlanFailed || p.Error != "reaped by the test" || len(sheets) != 0 {
		t.Errorf("a reaped job went on: %s (%s), %d sheets", p.Status, p.Error, len(sheets))
	}
	// One more plan runs again at once: the reaped job gave its slot back.
	if _, err := a.StartPlan(ctx, admin, req); err != nil {
		t.Errorf("a new plan after the reaped one: %v", err)
	}
}
