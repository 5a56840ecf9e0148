package api_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/courierhq/courier"
	"github.com/courierhq/courier/internal/testsvc"
)

// BenchmarkCourierSync measures events applied per second through POST
// /api/v1/courier/sync, in batches of 100 (stops=50: arrive, then deliver
// with a scan and cash) and of 2 (stops=1: a phone online), through the whole HTTP stack (authentication, strict
// decoding, the store transaction, the live feed), on SQLite and on
// PostgreSQL, with one courier syncing at a time and with four at once.
// Each iteration is one batch per courier:
//
//	go test -run '^$' -bench CourierSync -benchtime 20x ./api/
func BenchmarkCourierSync(b *testing.B) {
	for _, backend := range []string{"sqlite", "postgres"} {
		for _, couriers := range []int{1, 4} {
			for _, per := range []int{50, 1} {
				b.Run(fmt.Sprintf("%s/couriers=%d/stops=%d", backend, couriers, per), func(b *testing.B) {
					var e *env
					if backend == "sqlite" {
						e = newEnvOn(b, b.TempDir()+"/bench.db")
					} else {
						e = newEnvOn(b, testsvc.PostgresURL(b))
					}
					logins := e.benchCouriers(couriers)
					orders := map[string][]int64{}
					for _, login := range logins {
						orders[login] = e.benchSheet(login, b.N*per)
					}
					e.at(day.Add(7*time.Hour + 5*time.Minute))
					for _, login := range logins {
						e.applied(login, "shift_start", 0, nil)
					}
					now := e.clock.Now().Format(time.RFC3339)
					batches := map[string][]map[string]any{}
					for _, login := range logins {
						for i := range b.N {
							var evs []any
							for _, id := range orders[login][i*per : (i+1)*per] {
								evs = append(evs,
									map[string]any{"client_event_id": newEventID(), "action": "arrive", "order_id": id, "at": now},
									map[string]any{"client_event_id": newEventID(), "action": "deliver", "order_id": id, "at": now,
										"scanned_barcodes": []string{"BENCH"}, "collected": map[string]any{"amount": 1000, "method": "cash"}})
							}
							batches[login] = append(batches[login], map[string]any{"events": evs})
						}
					}
					b.ResetTimer()
					start := time.Now()
					var wg sync.WaitGroup
					for _, login := range logins {
						wg.Go(func() {
							for i := range b.N {
								r := e.do("POST", "/api/v1/courier/sync", login, batches[login][i])
								if r.Status != 200 {
									b.Errorf("sync: %d %.300s", r.Status, r.Body)
									return
								}
							}
						})
					}
					wg.Wait()
					elapsed := time.Since(start)
					b.StopTimer()
					events := float64(b.N * 2 * per * couriers)
					b.ReportMetric(events/elapsed.Seconds(), "events/s")
					b.ReportMetric(0, "ns/op")
					// Every delivery was booked once.
					td := e.today(logins[0])
					if td.CashOnHand.Amount != int64(b.N*per*1000) {
						b.Errorf("cash on hand %d after %d deliveries", td.CashOnHand.Amount, b.N*per)
					}
				})
			}
		}
	}
}

// benchCouriers makes n couriers (the env has two).
func (e *env) benchCouriers(n int) []string {
	var out []string
	for i := range n {
		login := fmt.Sprintf("courier%d", i+1)
		if _, ok := e.courier[login]; !ok {
			var c struct{ ID int64 }
			e.decode(e.must(e.do("POST", "/api/v1/couriers", "dispatcher", map[string]any{"name": "Bench " + login, "phone": "+7 916 555-00-11",
				"login": login, "password": "pw-" + login, "shift": map[string]any{"start": "09:00", "end": "18:00"}, "depot_id": e.depotID}), 201), &c)
			e.courier[login] = c.ID
			e.login(login, "pw-"+login)
		}
		out = append(out, login)
	}
	return out
}

// benchSheet puts n ready orders on published sheets of 50 stops of the
// courier, straight through the store (planning a thousand orders is
// another benchmark).
func (e *env) benchSheet(login string, n int) []int64 {
	ctx := context.Background()
	depot := e.depotID
	plan := &courier.Plan{Date: "2026-11-23", DepotID: depot, Status: courier.PlanDone, TimeLimit: time.Second}
	if err := e.db.CreatePlan(ctx, plan); err != nil {
		e.t.Fatal(err)
	}
	var sheets []*courier.RouteSheet
	var sh *courier.RouteSheet
	var ids []int64
	for i := range n {
		if i%50 == 0 {
			sh = &courier.RouteSheet{CourierID: e.courier[login], DepotID: depot, Date: "2026-11-23", Start: day.Add(7 * time.Hour), End: day.Add(15 * time.Hour)}
			sheets = append(sheets, sh)
		}
		o := &courier.Order{ExternalID: fmt.Sprintf("BENCH-%s-%d", login, i), Customer: courier.Customer{Name: "C", Phone: "+7 900 000-00-00"},
			Address: "Somewhere", Location: courier.LatLng{Lat: 55.75, Lng: 37.62}, DeliveryDate: "2026-11-23", ServiceMinutes: 5,
			Items: []courier.Item{{SKU: "B", Name: "Box", Qty: 1, Barcode: "BENCH"}}, COD: courier.COD{Amount: 1000, Currency: "RUB", Method: courier.PayCash},
			Status: courier.StatusReady, PaymentStatus: courier.PaymentCODPending, DepotID: depot}
		if err := e.db.CreateOrder(ctx, o, nil); err != nil {
			e.t.Fatal(err)
		}
		ids = append(ids, o.ID)
		eta := day.Add(7*time.Hour + time.Duration(i)*time.Minute)
		sh.Stops = append(sh.Stops, courier.SheetStop{OrderID: o.ID, Seq: len(sh.Stops) + 1, ETA: eta, ETAFrom: eta, ETATo: eta.Add(time.Hour)})
	}
	if err := e.db.ReplaceDraftSheets(ctx, plan.ID, sheets); err != nil {
		e.t.Fatal(err)
	}
	if _, err := e.svc.PublishPlan(ctx, courier.Actor{UserID: 1, Role: courier.RoleAdmin}, plan.ID); err != nil {
		e.t.Fatal(err)
	}
	return ids
}
