package dispatch_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/courierhq/courier"
	"github.com/courierhq/courier/dispatch"
	"github.com/courierhq/courier/store"
)

type clockAt time.Time

func (c clockAt) Now() time.Time { return time.Time(c) }

type plainHasher struct{}

func (plainHasher) HashPassword(_, pw string) (string, error) { return "hash:" + pw, nil }

// TestPlansAtOnce: a process runs at most MaxPlans plans at once; one more is
// refused with ETOOMANY until one finishes.
func TestPlansAtOnce(t *testing.T) {
	ctx := context.Background()
	now := clockAt(time.Date(2026, 11, 23, 7, 0, 0, 0, time.UTC))
	db, err := store.Open(ctx, filepath.Join(t.TempDir(), "d.db"), store.WithClock(now))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	svc := dispatch.New(db, now, dispatch.Config{Currency: "RUB", Location: time.UTC, Tariff: dispatch.DefaultTariff, DefaultServiceMinutes: 5}, nil, plainHasher{})
	defer svc.Close()
	svc.SetSolver(dispatch.SolverSettings{MaxPlans: 1})
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
	for i := range 3 {
		ext, addr := "O-"+string(rune('a'+i)), "Somewhere"
		date := "2026-11-23"
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
	req := dispatch.PlanRequest{Date: "2026-11-23", DepotID: depot.ID, TimeLimit: 2 * time.Second}
	first, err := svc.StartPlan(ctx, admin, req)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := svc.StartPlan(ctx, admin, req); courier.ErrorCode(err) != courier.ETOOMANY {
		t.Fatalf("a second plan while one runs: %v, want too_many", err)
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		p, _, err := svc.Plan(ctx, admin, first.ID)
		if err != nil {
			t.Fatal(err)
		}
		if p.Status == courier.PlanDone {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("plan still %s", p.Status)
		}
		time.Sleep(50 * time.Millisecond)
	}
	// The slot is free once the first plan has finished.
	for time.Now().Before(deadline) {
		if _, err = svc.StartPlan(ctx, admin, req); courier.ErrorCode(err) != courier.ETOOMANY {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err != nil {
		t.Errorf("after the first plan finished: %v", err)
	}
}
