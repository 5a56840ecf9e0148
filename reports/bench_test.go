package reports_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	neturl "net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/courierhq/courier"
	"github.com/courierhq/courier/internal/testsvc"
	"github.com/courierhq/courier/reports"
	"github.com/courierhq/courier/store"
)

// BenchmarkReports is issue 12's target: each report over 30 days of 40
// couriers and 1,000 orders a day (30,000 stop attempts, 1,200 sheets,
// shifts and settlements), on SQLite and on PostgreSQL. The days are
// written through the store as the courier's day writes them (orders,
// sheets, shifts, attempts with their fee quotes, postings, settlements).
// Goal: under 1 s per report on PostgreSQL.
//
//	scripts/test.sh prints the services; then
//	go test -run '^$' -bench Reports -benchtime 5x ./reports/
func BenchmarkReports(b *testing.B) {
	for _, backend := range []string{"sqlite", "postgres"} {
		b.Run(backend, func(b *testing.B) {
			url := filepath.Join(b.TempDir(), "reports.db")
			if backend == "postgres" {
				url = testsvc.PostgresURL(b)
			}
			ctx := context.Background()
			clock := fixed{time.Date(2026, 12, 2, 12, 0, 0, 0, time.UTC)}
			db, err := store.Open(ctx, url, store.WithClock(clock))
			if err != nil {
				b.Fatal(err)
			}
			defer db.Close()
			t0 := time.Now()
			first, last := seed(b, db, 30, 40, 1000)
			b.Logf("%s: seeded 30 days x 40 couriers x 1,000 orders in %s", backend, time.Since(t0).Round(time.Second))
			msk, _ := time.LoadLocation("Europe/Moscow")
			svc := reports.New(db, clock, reports.Config{Currency: "RUB", Location: msk}, nil, nil)
			admin := courier.Actor{UserID: 1, Role: courier.RoleAdmin}
			r := reports.Range{From: first, To: last}
			for _, rep := range []struct {
				name string
				run  func() (int, error)
			}{
				{"workload", func() (int, error) {
					w, err := svc.Workload(ctx, admin, r)
					return lenOf(w, err, func() int { return len(w.Rows) })
				}},
				{"deliveries", func() (int, error) {
					d, err := svc.Deliveries(ctx, admin, r)
					return lenOf(d, err, func() int { return len(d.Lines) })
				}},
				{"on-time", func() (int, error) {
					o, err := svc.OnTime(ctx, admin, r)
					return lenOf(o, err, func() int { return o.Total.Attempts })
				}},
			} {
				b.Run(rep.name, func(b *testing.B) {
					var n int
					cpu0, pg0 := processCPU(), serverCPU(b, url)
					for range b.N {
						if n, err = rep.run(); err != nil {
							b.Fatal(err)
						}
					}
					// The machine is shared: besides the wall time, the CPU
					// time the report took here and in the PostgreSQL server.
					b.ReportMetric(float64(n), "rows")
					b.ReportMetric(float64((processCPU()-cpu0).Milliseconds())/float64(b.N), "cpu-ms/op")
					if backend == "postgres" {
						b.ReportMetric(float64((serverCPU(b, url)-pg0).Milliseconds())/float64(b.N), "pg-cpu-ms/op")
					}
				})
			}
		})
	}
}

func lenOf[T any](v *T, err error, n func() int) (int, error) {
	if err != nil {
		return 0, err
	}
	return n(), nil
}

type fixed struct{ t time.Time }

func (c fixed) Now() time.Time { return c.t }

// seed writes days of couriers' work and returns the first and last day.
func seed(b *testing.B, db *store.DB, days, couriers, perDay int) (string, string) {
	b.Helper()
	ctx := context.Background()
	rng := rand.New(rand.NewPCG(1, 2))
	must := func(err error) {
		if err != nil {
			b.Fatal(err)
		}
	}
	depot := &courier.Depot{Name: "Depot", Location: courier.LatLng{Lat: 55.73, Lng: 37.64}, Opens: "07:00", Closes: "23:00"}
	must(db.CreateDepot(ctx, depot))
	cashier := &courier.User{Login: "cashier", Role: courier.RoleCashier, PasswordHash: "x", Active: true}
	must(db.CreateUser(ctx, cashier))
	desk := &courier.CashShift{CashierID: cashier.ID, DepotID: depot.ID}
	must(db.OpenCashShift(ctx, desk))
	var cs []*courier.Courier
	for i := range couriers {
		c := &courier.Courier{Name: fmt.Sprintf("Courier %d", i+1), Phone: "+7 916 555-00-11", Vehicle: courier.Vehicle{Type: []string{"car", "bike", "van"}[i%3]},
			Shift: courier.Shift{Start: "09:00", End: "18:00"}, DepotID: depot.ID, Active: true}
		must(db.CreateCourier(ctx, c, nil))
		cs = append(cs, c)
	}
	for _, v := range []string{"car", "bike", "van"} {
		must(db.AddPayRule(ctx, &courier.PayRule{VehicleType: v, EffectiveFrom: "2026-01-01", Currency: "RUB", PerDelivered: 15000, PerFailed: 5000,
			PerKm: 1000, PerKg: 100, PerShift: 30000, MinPerShift: 200000}, func(string) error { return nil }))
	}
	start := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	var firstDay, lastDay string
	for d := range days {
		day := start.AddDate(0, 0, d)
		date := day.Format(time.DateOnly)
		if firstDay == "" {
			firstDay = date
		}
		lastDay = date
		plan := &courier.Plan{Date: date, DepotID: depot.ID, Status: courier.PlanDone, TimeLimit: time.Second}
		must(db.CreatePlan(ctx, plan))
		byCourier := map[int64][]int64{}
		for i := range perDay {
			c := cs[i%len(cs)]
			from := day.Add(time.Duration(6+rng.IntN(10)) * time.Hour)
			o := &courier.Order{Customer: courier.Customer{Name: "Anna", Phone: "+7 903 123-45-67"}, Address: "Tverskaya 7",
				Location: courier.LatLng{Lat: 55.68 + rng.Float64()*0.1, Lng: 37.55 + rng.Float64()*0.2}, DeliveryDate: date,
				TimeWindow: &courier.TimeWindow{From: from, To: from.Add(time.Duration(1+rng.IntN(3)) * time.Hour)}, WeightKg: float64(rng.IntN(150)) / 10,
				Items:  []courier.Item{{SKU: "A", Name: "Box", Qty: 1 + rng.IntN(2), Barcode: fmt.Sprintf("46%011d", d*perDay+i), Price: 50000}},
				COD:    courier.COD{Amount: 100000, Currency: "RUB", Method: []courier.PaymentMethod{courier.PayCash, courier.PayCard, courier.PayPrepaid}[rng.IntN(3)]},
				Status: courier.StatusPlanned, PaymentStatus: courier.PaymentCODPending, DepotID: depot.ID, ZoneID: int64(1 + rng.IntN(3)), CourierID: c.ID}
			if o.COD.Method == courier.PayPrepaid {
				o.COD.Amount, o.PaymentStatus = 0, courier.PaymentPrepaid
			}
			km, kg := 1+rng.Int64N(25), rng.Int64N(10)
			o.FeeQuote = &courier.FeeQuote{TariffVersion: 1, Components: []courier.FeeComponent{
				{Rule: courier.FeeBase, Amount: 19900 + 5000*o.ZoneID, Detail: fmt.Sprintf("the tariff's base fee of zone %d", o.ZoneID)},
				{Rule: courier.FeeWeight, Amount: 2000 * kg, Detail: fmt.Sprintf("%d started kg above 5 kg", kg)},
				{Rule: courier.FeeDistance, Amount: 1500 * km, Detail: fmt.Sprintf("%d started km from the depot", km)}}}
			o.DeliveryFee = o.FeeQuote.Total()
			must(db.CreateOrder(ctx, o, &courier.OrderEvent{Kind: courier.EventCreated, ToStatus: o.Status}))
			byCourier[c.ID] = append(byCourier[c.ID], o.ID)
		}
		var sheets []*courier.RouteSheet
		for _, c := range cs {
			sh := &courier.RouteSheet{CourierID: c.ID, DepotID: depot.ID, Date: date, Start: day.Add(5 * time.Hour), End: day.Add(15 * time.Hour),
				DistanceM: 20000 + rng.Int64N(40000)}
			for i, id := range byCourier[c.ID] {
				sh.Stops = append(sh.Stops, courier.SheetStop{OrderID: id, Seq: i + 1})
			}
			sheets = append(sheets, sh)
		}
		must(db.ReplaceDraftSheets(ctx, plan.ID, sheets))
		var shifts []*courier.CourierShift
		must(db.CourierDay(ctx, func(tx courier.CourierTx) error {
			for _, sh := range sheets {
				c := sh.CourierID
				began, ended := day.Add(5*time.Hour), day.Add(15*time.Hour)
				shift := &courier.CourierShift{CourierID: c, Date: date, StartedAt: began, EndedAt: &ended}
				if err := tx.SaveShift(shift); err != nil {
					return err
				}
				shifts = append(shifts, shift)
				locked, err := tx.Sheets(c, date)
				if err != nil {
					return err
				}
				for _, l := range locked {
					l.Status, l.StartedAt, l.CompletedAt = courier.SheetCompleted, &began, &ended
					if err := tx.WriteSheet(l); err != nil {
						return err
					}
				}
				orders, err := tx.Orders(byCourier[c])
				if err != nil {
					return err
				}
				for i, id := range byCourier[c] {
					o := orders[id]
					before := *o
					at := began.Add(time.Duration(20*(i+1)) * time.Minute)
					r := &courier.StopReport{FinishedAt: &at}
					o.RouteSheetID = sh.ID
					before.RouteSheetID = sh.ID
					a := &courier.StopAttempt{ExternalID: o.ExternalID, CourierID: c, SheetID: sh.ID, DepotID: o.DepotID, ZoneID: o.ZoneID, Date: date,
						FinishedAt: at, Window: o.TimeWindow, WeightKg: o.WeightKg, Currency: "RUB", PaidBy: o.COD.Method, Fee: o.DeliveryFee, Quote: o.FeeQuote}
					var postings []courier.Posting
					if rng.IntN(10) < 8 {
						o.Status, a.Outcome = courier.StatusDelivered, courier.StatusDelivered
						if o.COD.Method != courier.PayPrepaid {
							r.AmountDue, r.Collected, r.CollectedBy = o.COD.Amount, o.COD.Amount, o.COD.Method
							a.AmountDue, a.Collected, a.CollectedBy = r.AmountDue, r.Collected, r.CollectedBy
						}
						postings = courier.DeliveryPostings(&before, r, courier.Actor{}, at)
					} else {
						o.Status, a.Outcome = courier.StatusFailedAttempt, courier.StatusFailedAttempt
						r.FailReason = []string{courier.FailNoAnswer, courier.FailCustomerAbsent, courier.FailHandedBack}[rng.IntN(3)]
						a.FailReason = r.FailReason
						postings = courier.StatusPostings(&before, courier.StatusOutForDelivery, o.Status, courier.Actor{}, at)
					}
					o.Report = r
					if err := tx.WriteOrder(o, []courier.OrderEvent{{Kind: courier.EventStatus, FromStatus: courier.StatusOutForDelivery, ToStatus: o.Status,
						At: at, Postings: postings, Attempt: a}}); err != nil {
						return err
					}
				}
			}
			return nil
		}))
		for _, sh := range shifts {
			must(db.SetShiftDriven(ctx, sh.ID, 15000+rng.Int64N(50000)))
		}
		for _, sh := range sheets {
			_, err := db.Settle(ctx, desk.ID, sh.ID, "bench", fmt.Sprint("settle-", sh.ID), func(*courier.CashShift, *courier.SheetBook) (*courier.SettleChange, error) {
				return &courier.SettleChange{Settlement: &courier.Settlement{SheetID: sh.ID, CourierID: sh.CourierID, DepotID: depot.ID, ShiftID: desk.ID,
					Currency: "RUB", Expected: 1000000, Counted: 1000000, TxID: courier.NewTxID(), CashierID: cashier.ID}}, nil
			})
			must(err)
		}
	}
	return firstDay, lastDay
}

// processCPU is the CPU time this process used so far (user and system).
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// serverCPU is the CPU time the PostgreSQL cluster serving url (its
// postmaster, found by its -p port, and its children: the store's pooled
// connections stay open) used so far; 0 for SQLite.
func serverCPU(b *testing.B, url string) time.Duration {
	u, err := neturl.Parse(url)
	if err != nil || u.Port() == "" {
		return 0
	}
	procs, _ := filepath.Glob("/proc/[0-9]*")
	parent := map[string]string{}
	ticks := map[string]int64{}
	master := ""
	for _, p := range procs {
		pid := filepath.Base(p)
		if cmd, err := os.ReadFile(p + "/cmdline"); err == nil && strings.Contains(string(cmd), "postgres") &&
			strings.Contains(string(cmd), "\x00-p\x00"+u.Port()+"\x00") {
			master = pid
		}
		stat, err := os.ReadFile(p + "/stat")
		if err != nil {
			continue
		}
		// pid (comm) state ppid ... utime(14) stime(15): comm may hold spaces.
		f := strings.Fields(string(stat[strings.LastIndexByte(string(stat), ')')+1:]))
		if len(f) < 13 {
			continue
		}
		ut, _ := strconv.ParseInt(f[11], 10, 64)
		st, _ := strconv.ParseInt(f[12], 10, 64)
		parent[pid], ticks[pid] = f[1], ut+st
	}
	if master == "" {
		b.Logf("no PostgreSQL postmaster on port %s: server CPU not measured", u.Port())
		return 0
	}
	var sum int64
	for pid, t := range ticks {
		if pid == master || parent[pid] == master {
			sum += t
		}
	}
	return time.Duration(sum) * 10 * time.Millisecond // USER_HZ is 100 on Linux
}
