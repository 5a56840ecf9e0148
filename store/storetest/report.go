package storetest

import (
	"sync"
	"testing"
	"time"

	courier "github.com/courierhq/courier"
)

// testTariffs: versions follow each other; of two admins who change the
// same version at once, one wins and the other gets ECONFLICT.
func testTariffs(t *testing.T, s courier.Store) {
	if vs, err := s.Tariffs(ctx(t)); err != nil || len(vs) != 0 {
		t.Fatalf("tariffs of a new store: %v %v", vs, err)
	}
	v1 := &courier.Tariff{BaseFee: 25000, FreeKg: 3.5, PerKg: 1000, PerKm: 500, FreeAbove: 900000, CreatedBy: 7,
		ZoneFees:      []courier.ZoneFee{{ZoneID: 2, BaseFee: 30000}},
		NarrowWindows: []courier.WindowSurcharge{{FromMinutes: 0, ToMinutes: 60, Surcharge: 9000}}}
	must(t, s.AddTariff(ctx(t), v1, 0))
	if v1.Version != 1 || v1.CreatedAt.IsZero() {
		t.Fatalf("first version: %+v", v1)
	}
	wantCode(t, s.AddTariff(ctx(t), &courier.Tariff{BaseFee: 1}, 0), courier.ECONFLICT)
	var wg sync.WaitGroup
	errs := make([]error, 4)
	for i := range errs {
		wg.Go(func() { errs[i] = s.AddTariff(ctx(t), &courier.Tariff{BaseFee: int64(i)}, 1) })
	}
	wg.Wait()
	won := 0
	for _, err := range errs {
		if err == nil {
			won++
		} else {
			wantCode(t, err, courier.ECONFLICT)
		}
	}
	vs, err := s.Tariffs(ctx(t))
	must(t, err)
	if won != 1 || len(vs) != 2 {
		t.Fatalf("%d of 4 concurrent changes of version 1 won, %d versions stored", won, len(vs))
	}
	got := vs[0]
	if got.BaseFee != 25000 || got.FreeKg != 3.5 || got.PerKg != 1000 || got.PerKm != 500 || got.FreeAbove != 900000 || got.CreatedBy != 7 ||
		len(got.ZoneFees) != 1 || got.ZoneFees[0] != v1.ZoneFees[0] || len(got.NarrowWindows) != 1 || got.NarrowWindows[0] != v1.NarrowWindows[0] {
		t.Fatalf("version 1 read back: %+v", got)
	}
}

// testPayRules: a rule's check sees the last paid-out day, under the lock
// closing a period takes; periods follow each other.
func testPayRules(t *testing.T, s courier.Store) {
	d := newDepot(t, s, "Pay")
	c := &courier.Courier{Name: "Olga", Phone: "+7 912 345-67-89", Vehicle: courier.Vehicle{Type: courier.VehicleBike},
		Shift: courier.Shift{Start: "09:00", End: "18:00"}, DepotID: d.ID, Active: true}
	must(t, s.CreateCourier(ctx(t), c, nil))
	seen := "?"
	r := &courier.PayRule{CourierID: c.ID, EffectiveFrom: "2026-03-01", Currency: "RUB", PerDelivered: 100, PerFailed: 20, PerKm: 5, PerKg: 3,
		PerShift: 400, MinPerShift: 1500, Note: "spring", CreatedBy: 1}
	must(t, s.AddPayRule(ctx(t), r, func(paid string) error { seen = paid; return nil }))
	if seen != "" || r.ID == 0 || r.CreatedAt.IsZero() {
		t.Fatalf("rule %+v, paid through %q", r, seen)
	}
	wantField(t, s.AddPayRule(ctx(t), &courier.PayRule{CourierID: 9999, EffectiveFrom: "2026-03-01", Currency: "RUB"},
		func(string) error { return nil }), "courier_id")
	var last *courier.PayPeriod
	p := &courier.PayPeriod{From: "2026-03-01", To: "2026-03-15", ClosedBy: 1}
	must(t, s.ClosePayPeriod(ctx(t), p, func(l *courier.PayPeriod) error { last = l; return nil }))
	if last != nil || p.ID == 0 {
		t.Fatalf("first period: %+v (last %+v)", p, last)
	}
	must(t, s.ClosePayPeriod(ctx(t), &courier.PayPeriod{From: "2026-03-16", To: "2026-03-31"}, func(l *courier.PayPeriod) error { last = l; return nil }))
	if last == nil || last.To != "2026-03-15" {
		t.Fatalf("the second period saw %+v", last)
	}
	refused := courier.Errorf(courier.ECONFLICT, "paid out")
	wantCode(t, s.AddPayRule(ctx(t), &courier.PayRule{VehicleType: "car", EffectiveFrom: "2026-03-20", Currency: "RUB"}, func(paid string) error {
		seen = paid
		return refused
	}), courier.ECONFLICT)
	if seen != "2026-03-31" {
		t.Fatalf("paid through %q", seen)
	}
	rules, err := s.PayRules(ctx(t))
	must(t, err)
	periods, err := s.PayPeriods(ctx(t))
	must(t, err)
	if len(rules) != 1 || *rules[0] != *r || len(periods) != 2 || periods[1].From != "2026-03-16" {
		t.Fatalf("rules %+v (want %+v), periods %+v", rules, r, periods)
	}
}

// testStopAttempts: attempts are numbered per order and read back by day
// and courier, with the courier's vehicle and the fee quote.
func testStopAttempts(t *testing.T, s courier.Store) {
	d := newDepot(t, s, "Attempts")
	c := &courier.Courier{Name: "Pavel", Phone: "+7 912 345-67-89", Vehicle: courier.Vehicle{Type: courier.VehicleVan},
		Shift: courier.Shift{Start: "09:00", End: "18:00"}, DepotID: d.ID, Active: true}
	must(t, s.CreateCourier(ctx(t), c, nil))
	o := newOrder("ATT-1")
	o.DepotID = d.ID
	must(t, s.CreateOrder(ctx(t), o, createdEvent()))
	at := time.Date(2026, 3, 14, 9, 30, 0, 0, time.UTC)
	quote := &courier.FeeQuote{TariffVersion: 3, Components: []courier.FeeComponent{{Rule: courier.FeeBase, Amount: 19900, Detail: "default"},
		{Rule: courier.FeeFreeAbove, Amount: -19900}}}
	for i, a := range []*courier.StopAttempt{
		{CourierID: c.ID, Date: "2026-03-14", Outcome: courier.StatusFailedAttempt, FailReason: courier.FailNoAnswer, FinishedAt: at,
			WeightKg: 2.5, Currency: "RUB", PaidBy: courier.PayCash, Fee: 0, Quote: quote},
		{CourierID: c.ID, Date: "2026-03-16", Outcome: courier.StatusDelivered, FinishedAt: at.Add(48 * time.Hour), WeightKg: 2.5, Currency: "RUB",
			PaidBy: courier.PayCash, AmountDue: 1000, Collected: 900, CollectedBy: courier.PayCash, RefusedPieces: 1,
			Window: &courier.TimeWindow{From: at, To: at.Add(time.Hour)}},
	} {
		_, err := s.UpdateOrder(ctx(t), o.ID, func(o *courier.Order) ([]courier.OrderEvent, error) {
			return []courier.OrderEvent{{Kind: courier.EventStatus, Attempt: a}}, nil
		})
		must(t, err)
		if a.Attempt != i+1 || a.VehicleType != courier.VehicleVan || a.ID == 0 {
			t.Fatalf("attempt %d: %+v", i, a)
		}
	}
	all, err := s.StopAttempts(ctx(t), courier.ReportFilter{From: "2026-03-01", To: "2026-03-31", Fees: true})
	must(t, err)
	if len(all) != 2 || all[0].Attempt != 1 || all[0].Quote == nil || all[0].Quote.Total() != 0 || all[0].Quote.TariffVersion != 3 ||
		all[1].Window == nil || !all[1].Window.To.Equal(at.Add(time.Hour)) || all[1].Collected != 900 || all[1].RefusedPieces != 1 {
		t.Fatalf("attempts read back: %+v %+v", all[0], all[1])
	}
	one, err := s.StopAttempts(ctx(t), courier.ReportFilter{From: "2026-03-15", To: "2026-03-16", CourierID: c.ID})
	must(t, err)
	if len(one) != 1 || one[0].Date != "2026-03-16" || one[0].Quote != nil {
		t.Fatalf("one day, no fees: %+v", one)
	}
	if other, err := s.StopAttempts(ctx(t), courier.ReportFilter{From: "2026-03-01", To: "2026-03-31", CourierID: c.ID + 1}); err != nil || len(other) != 0 {
		t.Fatalf("another courier's: %v %v", other, err)
	}
	// Summed by the database: the failure on the 14th, the partial
	// delivery on the 16th, 45 minutes after its window (2.5 kg each).
	cells, err := s.AttemptCells(ctx(t), courier.ReportFilter{From: "2026-03-01", To: "2026-03-31"})
	must(t, err)
	want := []courier.AttemptCell{
		{Date: "2026-03-14", CourierID: c.ID, Currency: "RUB", Attempts: 1, CarriedG: 2500, FirstAttempts: 1},
		{Date: "2026-03-16", CourierID: c.ID, Currency: "RUB", Attempts: 1, Delivered: 1, Partial: 1, CarriedG: 2500, DeliveredG: 2500,
			CashCollected: 900, WithWindow: 1, Late: 1, LateMinutes: 47 * 60, MaxLateMinutes: 47 * 60},
	}
	if len(cells) != 2 || cells[0] != want[0] || cells[1] != want[1] {
		t.Fatalf("attempt cells:\n%+v\nwant\n%+v", cells, want)
	}
	reasons, err := s.FailureReasons(ctx(t), courier.ReportFilter{From: "2026-03-01", To: "2026-03-31", CourierID: c.ID})
	must(t, err)
	if len(reasons) != 1 || reasons[0] != (courier.ReasonCell{Date: "2026-03-14", CourierID: c.ID, Reason: courier.FailNoAnswer, N: 1}) {
		t.Fatalf("failure reasons: %+v", reasons)
	}
}
