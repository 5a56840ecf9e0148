package api_test

import (
	"context"
	"encoding/csv"
	"fmt"
	"math"
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/courierhq/courier"
	"github.com/courierhq/courier/dispatch"
	"github.com/courierhq/courier/geo"
)

// The reports' property test: random days (deliveries, partial deliveries,
// short collections, failures, stops handed back, a stop a dispatcher marks
// delivered; cash, card and prepaid; GPS distance known or not) under a
// random tariff and random pay rules that change mid-range; then every
// report's totals must be the sums of its rows to the minor unit, JSON and
// CSV must carry the same figures, each delivered stop's fee must be the
// tariff's, and each courier's pay the configured rules' (computed here
// from what the test did, not from the report).

// payRuleSpec is a pay rule as the test configures it.
type payRuleSpec struct {
	id                                                     int64
	courier                                                string // a courier's own rule; "" for a vehicle type's
	vehicle                                                string
	from                                                   string
	delivered, failed, perKm, perKg, perShift, minPerShift int64
}

// tariffSpec is the tariff as the test sets it.
type tariffSpec struct {
	base, perKg, perKm, freeAbove int64
	freeKg                        float64
	windows                       [][3]int64 // from, to (minutes), surcharge
}

func (t tariffSpec) fee(o *courier.Order, depot courier.LatLng) int64 {
	fee := t.base
	if over := o.WeightKg - t.freeKg; over > 0 {
		fee += t.perKg * int64(math.Ceil(over-1e-9))
	}
	if d := geo.HaversineM(depot, o.Location); d > 0 {
		fee += t.perKm * int64(math.Ceil(d/1000-1e-9))
	}
	if w := o.TimeWindow; w != nil {
		m := int64(math.Ceil(w.To.Sub(w.From).Minutes() - 1e-9))
		for _, r := range t.windows {
			if m > r[0] && m <= r[1] {
				fee += r[2]
				break
			}
		}
	}
	var goods int64
	for _, it := range o.Items {
		goods += it.Price * int64(it.Qty)
	}
	if t.freeAbove > 0 && max(o.COD.Amount, goods) >= t.freeAbove {
		return 0
	}
	return fee
}

// stopDone is what the test did at a stop.
type stopDone struct {
	orderID    int64
	delivered  bool
	handedBack bool
	weightKg   float64
	fee        int64 // the tariff's fee
	collected  int64
	by         string
}

// courierDay is what the test did on a courier's day.
type courierDay struct {
	login   string
	date    string
	stops   []stopDone
	planM   int64
	drivenM *int64
}

func TestReportsProperty(t *testing.T) {
	for seed := range uint64(3) {
		t.Run(fmt.Sprint("seed", seed), func(t *testing.T) {
			backends(t, func(t *testing.T, e *env) {
				e.reportsProperty(t, rand.New(rand.NewPCG(seed, 12)), int(seed))
			})
		})
	}
}

func (e *env) reportsProperty(t *testing.T, rng *rand.Rand, round int) {
	ctx := context.Background()
	admin := courier.Actor{UserID: 1, Role: courier.RoleAdmin}
	depotLoc := courier.LatLng{Lat: 55.7296, Lng: 37.6453}
	if _, ok := e.courier["bike1"]; !ok {
		var c struct{ ID int64 }
		e.decode(e.must(e.do("POST", "/api/v1/couriers", "dispatcher", map[string]any{"name": "Bike courier", "phone": "+7 916 000-11-22",
			"login": "bike1", "password": "pw-bike1", "vehicle": map[string]any{"type": "bike", "capacity_kg": 30},
			"shift": map[string]any{"start": "10:00", "end": "19:00"}, "depot_id": e.depotID}), 201), &c)
		e.courier["bike1"] = c.ID
		e.login("bike1", "pw-bike1")
	}
	logins := []string{"courier1", "courier2", "bike1"}
	vehicles := map[string]string{"courier1": "car", "courier2": "car", "bike1": "bike"}

	// Each round works its own three days (in a store of its own).
	first := day.AddDate(0, 0, 10*round)
	date := func(i int) string { return first.AddDate(0, 0, i).Format(time.DateOnly) }
	e.at(first.Add(-3 * time.Hour))

	tariff := tariffSpec{base: 10000 + rng.Int64N(20000), perKg: rng.Int64N(3000), perKm: rng.Int64N(2000), freeKg: float64(rng.IntN(6)),
		freeAbove: 300000 + rng.Int64N(300000), windows: [][3]int64{{0, 60, 15000 + rng.Int64N(1000)}, {60, 120, 5000}}}
	var tv struct{ Version int64 }
	e.decode(e.must(e.do("PUT", "/api/v1/tariff", "admin", map[string]any{"base_fee": tariff.base,
		"weight": map[string]any{"free_kg": tariff.freeKg, "per_kg": tariff.perKg}, "distance": map[string]any{"per_km": tariff.perKm},
		"free_above": tariff.freeAbove, "narrow_windows": []any{
			map[string]any{"from_minutes": 60, "to_minutes": 120, "surcharge": 5000},
			map[string]any{"from_minutes": 0, "to_minutes": 60, "surcharge": tariff.windows[0][2]}}}), 200), &tv)

	rate := func() int64 { return rng.Int64N(20000) }
	rules := []payRuleSpec{
		{vehicle: "car", from: date(0), delivered: rate(), failed: rate(), perKm: rate(), perKg: rate(), perShift: rate(), minPerShift: rng.Int64N(300000)},
		{vehicle: "bike", from: date(0), delivered: rate(), failed: rate(), perKg: rate(), minPerShift: rng.Int64N(300000)},
		// Courier 1 gets their own rule from the second day: the first day is paid by the car rule.
		{courier: "courier1", from: date(1), delivered: rate(), failed: rate(), perKm: rate(), perShift: rate(), minPerShift: rng.Int64N(200000)},
		// The car rule changes on the third day, and is entered twice that
		// day: the later entry wins.
		{vehicle: "car", from: date(2), delivered: rate(), failed: rate(), perKm: rate(), perKg: rate()},
		{vehicle: "car", from: date(2), delivered: rate(), failed: rate(), perKm: rate(), perKg: rate(), perShift: rate()},
	}
	for i := range rules {
		r := &rules[i]
		body := map[string]any{"effective_from": r.from, "per_delivered": r.delivered, "per_failed": r.failed, "per_km": r.perKm,
			"per_kg": r.perKg, "per_shift": r.perShift, "min_per_shift": r.minPerShift}
		if r.courier != "" {
			body["courier_id"] = e.courier[r.courier]
		} else {
			body["vehicle_type"] = r.vehicle
		}
		var out struct{ ID int64 }
		e.decode(e.must(e.do("POST", "/api/v1/pay-rules", "admin", body), 201), &out)
		r.id = out.ID
	}

	var days []*courierDay
	n := 0
	for di := range 3 {
		d := date(di)
		dayStart := first.AddDate(0, 0, di) // 00:00 UTC is 03:00 in Moscow
		e.at(dayStart.Add(2 * time.Hour))
		plan := &courier.Plan{Date: d, DepotID: e.depotID, Status: courier.PlanDone, TimeLimit: time.Second}
		if err := e.db.CreatePlan(ctx, plan); err != nil {
			t.Fatal(err)
		}
		for _, login := range logins {
			cd := &courierDay{login: login, date: d, planM: 1000 + rng.Int64N(40000)}
			days = append(days, cd)
			cr, err := e.db.Courier(ctx, e.courier[login])
			if err != nil {
				t.Fatal(err)
			}
			var orders []*courier.Order
			for range 3 + rng.IntN(5) {
				n++
				orders = append(orders, e.randomOrder(t, rng, admin, fmt.Sprintf("P%d-%d", round, n), dayStart))
			}
			sh := &courier.RouteSheet{CourierID: cr.ID, DepotID: e.depotID, Date: d, Start: dayStart.Add(4 * time.Hour),
				End: dayStart.Add(14 * time.Hour), DistanceM: cd.planM}
			var ids []int64
			for i, o := range orders {
				ids = append(ids, o.ID)
				sh.Stops = append(sh.Stops, courier.SheetStop{OrderID: o.ID, Seq: i + 1})
			}
			if err := e.db.ReplaceDraftSheets(ctx, plan.ID, []*courier.RouteSheet{sh}); err != nil {
				t.Fatal(err)
			}
			if _, err := e.db.UpdateSheets(ctx, []int64{sh.ID}, ids, func(sheets []*courier.RouteSheet, os map[int64]*courier.Order) ([]courier.OrderEvent, error) {
				sheets[0].Status = courier.SheetPublished
				var evs []courier.OrderEvent
				for _, o := range os {
					o.Status, o.CourierID, o.RouteSheetID = courier.StatusPlanned, cr.ID, sh.ID
					evs = append(evs, courier.OrderEvent{OrderID: o.ID, Kind: courier.EventStatus, FromStatus: courier.StatusReady, ToStatus: o.Status})
				}
				return evs, nil
			}); err != nil {
				t.Fatal(err)
			}
			cd.stops = e.workDay(t, rng, cr, orders, dayStart, tariff, depotLoc)
			if rng.IntN(2) == 0 {
				shifts, err := e.db.CourierShifts(ctx, cr.ID, d)
				if err != nil || len(shifts) != 1 {
					t.Fatalf("shifts of %s on %s: %v %v", login, d, shifts, err)
				}
				m := rng.Int64N(60000)
				if err := e.db.SetShiftDriven(ctx, shifts[0].ID, m); err != nil {
					t.Fatal(err)
				}
				cd.drivenM = &m
			}
		}
	}
	e.at(first.AddDate(0, 0, 3).Add(3 * time.Hour))
	q := "?from=" + date(0) + "&to=" + date(2)

	// The delivery report: fees, pay, sums, and the same figures in CSV.
	var dr deliveriesJSON
	e.decode(e.must(e.do("GET", "/api/v1/reports/deliveries"+q, "dispatcher", nil), 200), &dr)
	checkDeliverySums(t, &dr)
	csvLines := e.csvRows(t, "/api/v1/reports/deliveries"+q+"&format=csv")
	checkDeliveriesCSV(t, &dr, csvLines)

	lineOf := map[int64]*deliveryLineJSON{}
	dayLine := map[string]*deliveryLineJSON{}
	for i := range dr.Lines {
		l := &dr.Lines[i]
		if l.Kind == "stop" {
			lineOf[*l.OrderID] = l
		} else {
			dayLine[fmt.Sprint(l.CourierID, l.Date)] = l
		}
	}
	payOf := map[int64]int64{}
	for _, cd := range days {
		cid := e.courier[cd.login]
		rule := ruleFor(rules, cd.login, vehicles[cd.login], cd.date)
		var stopPay int64
		for _, st := range cd.stops {
			l := lineOf[st.orderID]
			if l == nil {
				t.Fatalf("order %d has no line", st.orderID)
			}
			wantFee, wantPay := int64(0), int64(0)
			if st.delivered {
				wantFee = st.fee
				wantPay = rule.delivered + (rule.perKg*int64(math.Round(st.weightKg*1000))+500)/1000
			} else if !st.handedBack {
				wantPay = rule.failed
			}
			if l.fee() != wantFee || (st.delivered && (l.TariffVersion == nil || *l.TariffVersion != tv.Version)) {
				t.Errorf("order %d: fee %d by version %v, want %d by %d (%s)", st.orderID, l.fee(), l.TariffVersion, wantFee, tv.Version, l.FeeRule)
			}
			if l.Pay.Total != wantPay || *l.PayRuleID != rule.id || l.Collected != st.collected || string(l.CollectedBy) != st.by {
				t.Errorf("order %d (%s on %s): pay %+v by rule %d, collected %d by %q; want %d by rule %d, %d by %q", st.orderID, cd.login, cd.date,
					l.Pay, *l.PayRuleID, l.Collected, l.CollectedBy, wantPay, rule.id, st.collected, st.by)
			}
			stopPay += wantPay
		}
		dl := dayLine[fmt.Sprint(cid, cd.date)]
		if dl == nil {
			t.Fatalf("%s on %s has no day line", cd.login, cd.date)
		}
		dist, source := cd.planM, "plan"
		if cd.drivenM != nil {
			dist, source = *cd.drivenM, "gps"
		}
		km := (rule.perKm*dist + 500) / 1000
		minimum := max(rule.minPerShift-(stopPay+km+rule.perShift), 0)
		want := km + rule.perShift + minimum
		if dl.Pay.Total != want || dl.Pay.Km != km || dl.Pay.Minimum != minimum || dl.DistanceSource != source || dl.Shifts != 1 {
			t.Errorf("%s on %s: day pay %+v from %s, want km %d + shift %d + minimum %d from %s", cd.login, cd.date, dl.Pay, dl.DistanceSource,
				km, rule.perShift, minimum, source)
		}
		payOf[cid] += stopPay + want
	}
	for _, c := range dr.Couriers {
		if c.Pay.Total != payOf[*c.CourierID] {
			t.Errorf("courier %d: pay %d, want %d by the rules", *c.CourierID, c.Pay.Total, payOf[*c.CourierID])
		}
	}

	// The workload agrees with the delivery report and sums to its totals.
	var wl workloadJSON
	e.decode(e.must(e.do("GET", "/api/v1/reports/workload"+q, "dispatcher", nil), 200), &wl)
	checkWorkloadSums(t, &wl)
	checkWorkloadCSV(t, &wl, e.csvRows(t, "/api/v1/reports/workload"+q+"&format=csv"))
	if len(wl.Totals) != 1 || len(dr.Totals) != 1 {
		t.Fatalf("one currency: %+v %+v", wl.Totals, dr.Totals)
	}
	w, dt := wl.Totals[0], dr.Totals[0]
	if w.Delivered != dt.Delivered || w.Failed != dt.Failed || w.CashCollected != dt.CashCollected || w.CardCollected != dt.CardCollected {
		t.Errorf("workload totals %+v do not match the delivery report's %+v", w, dt)
	}

	// On time: every group adds up to the total, JSON and CSV alike.
	var ot onTimeJSON
	e.decode(e.must(e.do("GET", "/api/v1/reports/on-time"+q, "dispatcher", nil), 200), &ot)
	checkOnTimeSums(t, &ot)
	if ot.Total.Attempts != dt.Stops || ot.Total.Delivered != dt.Delivered {
		t.Errorf("on-time total %+v, delivery totals %+v", ot.Total, dt)
	}
	checkOnTimeCSV(t, &ot, e.csvRows(t, "/api/v1/reports/on-time"+q+"&format=csv"))
}

// randomOrder creates a ready order for the day through dispatch (priced by the tariff).
func (e *env) randomOrder(t *testing.T, rng *rand.Rand, admin courier.Actor, ext string, dayStart time.Time) *courier.Order {
	t.Helper()
	ctx := context.Background()
	from := dayStart.Add(time.Duration(6+rng.IntN(8)) * time.Hour)
	tw := courier.TimeWindow{From: from, To: from.Add(time.Duration(30+rng.IntN(200)) * time.Minute)}
	items := []courier.Item{
		{SKU: "A", Name: "A", Qty: 2, Barcode: ext + "-A", Price: rng.Int64N(100000)},
		{SKU: "B", Name: "B", Qty: 1, Barcode: ext + "-B", Price: rng.Int64N(100000)},
	}
	cod := courier.COD{Currency: "RUB"}
	switch rng.IntN(3) {
	case 0:
		cod.Method = courier.PayPrepaid
	case 1:
		cod.Method, cod.Amount = courier.PayCash, items[0].Price*2+items[1].Price
	default:
		cod.Method, cod.Amount = courier.PayCard, items[0].Price*2+items[1].Price
	}
	weight := math.Round(rng.Float64()*120) / 10
	loc := courier.LatLng{Lat: 55.70 + rng.Float64()*0.1, Lng: 37.55 + rng.Float64()*0.15}
	name, phone, addr := "Anna", "+7 903 123-45-67", "Tverskaya 7"
	in := dispatch.OrderInput{ExternalID: &ext, Customer: &courier.Customer{Name: name, Phone: phone}, Address: &addr, Location: &loc,
		TimeWindow: &tw, WeightKg: &weight, Items: &items, COD: &cod}
	o, err := e.svc.CreateOrder(ctx, admin, in)
	if err != nil {
		t.Fatal(err)
	}
	for _, st := range []courier.OrderStatus{courier.StatusConfirmed, courier.StatusReady} {
		if o, err = e.svc.ChangeStatus(ctx, admin, o.ID, dispatch.StatusChange{To: st}); err != nil {
			t.Fatal(err)
		}
	}
	return o
}

// workDay runs a courier's day through dispatch: the shift starts, one stop
// may be marked delivered by a dispatcher, the courier reports the others
// (in one offline batch), some are handed back at the end of the shift.
func (e *env) workDay(t *testing.T, rng *rand.Rand, cr *courier.Courier, orders []*courier.Order, dayStart time.Time, tariff tariffSpec,
	depot courier.LatLng) []stopDone {
	t.Helper()
	ctx := context.Background()
	actor := courier.Actor{UserID: cr.UserID, Role: courier.RoleCourier, CourierID: cr.ID}
	e.at(dayStart.Add(20 * time.Hour))
	at := dayStart.Add(4 * time.Hour)
	ev := func(action courier.CourierAction, orderID int64) dispatch.CourierEventInput {
		at = at.Add(time.Duration(5+rng.IntN(60)) * time.Minute)
		id := newEventID()
		return dispatch.CourierEventInput{ClientEventID: id, Action: action, OrderID: orderID, At: at, Raw: []byte(`"` + id + `"`)}
	}
	sync := func(evs []dispatch.CourierEventInput) {
		res, err := e.svc.Sync(ctx, actor, dispatch.SyncInput{Events: evs})
		if err != nil {
			t.Fatal(err)
		}
		for i, r := range res.Results {
			if r.Outcome != courier.OutcomeApplied {
				t.Fatalf("event %d (%s %d): %s %v", i, evs[i].Action, evs[i].OrderID, r.Outcome, r.Err)
			}
		}
	}
	sync([]dispatch.CourierEventInput{ev(courier.ActionShiftStart, 0)})

	var done []stopDone
	var batch []dispatch.CourierEventInput
	var handBack []int64
	for i, o := range orders {
		st := stopDone{orderID: o.ID, weightKg: o.WeightKg, fee: tariff.fee(o, depot)}
		due := o.COD.Amount
		if i == 0 && o.COD.Method != courier.PayPrepaid {
			// A dispatcher marks it delivered: the whole amount, as the ledger books it.
			if _, err := e.svc.ChangeStatus(ctx, courier.Actor{UserID: 1, Role: courier.RoleDispatcher}, o.ID,
				dispatch.StatusChange{To: courier.StatusDelivered, At: at}); err != nil {
				t.Fatal(err)
			}
			st.delivered, st.collected, st.by = true, due, string(o.COD.Method)
			done = append(done, st)
			continue
		}
		switch k := rng.IntN(6); {
		case k <= 2: // delivered, maybe one piece refused, maybe collected short
			x := ev(courier.ActionDeliver, o.ID)
			x.ScannedBarcodes = []string{o.Items[0].Barcode, o.Items[0].Barcode, o.Items[1].Barcode}
			if k == 1 {
				x.Refused = []courier.RefusedItem{{Item: 0, Qty: 1}}
				x.ScannedBarcodes = x.ScannedBarcodes[1:]
				if due > 0 {
					due = max(due-o.Items[0].Price, 0)
				}
			}
			if due > 0 {
				c := &dispatch.Collection{Amount: due, Method: courier.PayCash}
				if k == 2 {
					c.Amount = due - rng.Int64N(due+1)/3
				}
				if rng.IntN(2) == 0 {
					c.Method, c.PaymentRef = courier.PayCard, "SLIP"
				}
				x.Collected = c
				if c.Amount > 0 {
					st.collected, st.by = c.Amount, string(c.Method)
				}
			}
			st.delivered = true
			batch = append(batch, x)
		case k == 3, k == 4: // failed
			x := ev(courier.ActionFail, o.ID)
			x.Reason = []string{courier.FailNoAnswer, courier.FailRefused, courier.FailCustomerAbsent, courier.FailWrongAddress}[rng.IntN(4)]
			batch = append(batch, x)
		default: // brought back unvisited
			handBack = append(handBack, o.ID)
			st.handedBack = true
		}
		done = append(done, st)
	}
	end := ev(courier.ActionShiftEnd, 0)
	end.HandBack = handBack
	sync(append(batch, end))
	return done
}

// ruleFor is the pay rule in force for a courier on a day, as the test
// configured them: the courier's own, else their vehicle's; the latest date,
// then the latest rule.
func ruleFor(rules []payRuleSpec, login, vehicle, date string) payRuleSpec {
	best := -1
	for _, own := range []bool{true, false} {
		for i, r := range rules {
			if (own && r.courier != login) || (!own && (r.courier != "" || r.vehicle != vehicle)) || r.from > date {
				continue
			}
			if best < 0 || r.from > rules[best].from || (r.from == rules[best].from && r.id > rules[best].id) {
				best = i
			}
		}
		if best >= 0 {
			return rules[best]
		}
	}
	return payRuleSpec{}
}

// --- the reports as JSON ------------------------------------------------------

type payJSONT struct{ Stop, Kg, Km, Shift, Minimum, Total int64 }

type feePartsT struct {
	Base, Weight, Distance, Window int64
	FreeAbove                      int64 `json:"free_above"`
	Other                          int64
}

type deliveryLineJSON struct {
	Kind           string
	Date           string
	CourierID      int64  `json:"courier_id"`
	CourierName    string `json:"courier_name"`
	Currency       string
	OrderID        *int64 `json:"order_id"`
	ExternalID     string `json:"external_id"`
	Attempt        *int64
	Outcome        string
	FailReason     string  `json:"fail_reason"`
	WeightKg       float64 `json:"weight_kg"`
	AmountDue      int64   `json:"amount_due"`
	Collected      int64
	CollectedBy    string  `json:"collected_by"`
	DistanceKm     float64 `json:"distance_km"`
	DistanceSource string  `json:"distance_source"`
	Shifts         int
	PayRuleID      *int64 `json:"pay_rule_id"`
	Pay            payJSONT
	Fee            *int64
	FeeParts       feePartsT `json:"fee_parts"`
	TariffVersion  *int64    `json:"tariff_version"`
	FeeRule        string    `json:"fee_rule"`
}

type deliveryTotalJSON struct {
	CourierID     *int64 `json:"courier_id"`
	Currency      string
	Stops         int
	Delivered     int
	Failed        int
	AmountDue     int64   `json:"amount_due"`
	CashCollected int64   `json:"cash_collected"`
	CardCollected int64   `json:"card_collected"`
	DistanceKm    float64 `json:"distance_km"`
	Shifts        int
	Pay           payJSONT
	Fees          int64
	FeeParts      feePartsT `json:"fee_parts"`
}

type deliveriesJSON struct {
	Lines    []deliveryLineJSON
	Couriers []deliveryTotalJSON
	Totals   []deliveryTotalJSON
}

func (l deliveryLineJSON) fee() int64 {
	if l.Fee == nil {
		return 0
	}
	return *l.Fee
}

func checkDeliverySums(t *testing.T, d *deliveriesJSON) {
	t.Helper()
	sum := map[string]*deliveryTotalJSON{}
	for _, l := range d.Lines {
		p := l.FeeParts
		if p.Base+p.Weight+p.Distance+p.Window+p.FreeAbove+p.Other != l.fee() {
			t.Errorf("order %v: fee parts %+v do not sum to %d", l.OrderID, p, l.fee())
		}
		if l.Pay.Stop+l.Pay.Kg+l.Pay.Km+l.Pay.Shift+l.Pay.Minimum != l.Pay.Total {
			t.Errorf("line %+v: pay parts do not sum", l)
		}
		for _, k := range []string{fmt.Sprint(l.CourierID, l.Currency), l.Currency} {
			s := sum[k]
			if s == nil {
				s = &deliveryTotalJSON{}
				sum[k] = s
			}
			if l.Kind == "stop" {
				s.Stops++
			}
			s.Fees += l.fee()
			s.AmountDue += l.AmountDue
			s.Pay.Total += l.Pay.Total
			s.Pay.Km += l.Pay.Km
			s.Pay.Minimum += l.Pay.Minimum
			s.FeeParts.Base += l.FeeParts.Base
			s.FeeParts.FreeAbove += l.FeeParts.FreeAbove
			switch l.CollectedBy {
			case "cash":
				s.CashCollected += l.Collected
			case "card":
				s.CardCollected += l.Collected
			}
		}
	}
	check := func(key string, got deliveryTotalJSON) {
		s := sum[key]
		if s == nil || s.Stops != got.Stops || s.Fees != got.Fees || s.AmountDue != got.AmountDue || s.Pay.Total != got.Pay.Total ||
			s.Pay.Km != got.Pay.Km || s.Pay.Minimum != got.Pay.Minimum || s.CashCollected != got.CashCollected ||
			s.CardCollected != got.CardCollected || s.FeeParts.Base != got.FeeParts.Base || s.FeeParts.FreeAbove != got.FeeParts.FreeAbove {
			t.Errorf("total %s = %+v; the lines sum to %+v", key, got, s)
		}
	}
	for _, c := range d.Couriers {
		check(fmt.Sprint(*c.CourierID, c.Currency), c)
	}
	for _, c := range d.Totals {
		check(c.Currency, c)
	}
}

type workloadRowT struct {
	Date             string
	CourierID        *int64 `json:"courier_id"`
	Currency         string
	Sheets           int
	StopsPlanned     int `json:"stops_planned"`
	Delivered        int
	Partial          int
	Failed           int
	HandedBack       int      `json:"handed_back"`
	PlannedKm        float64  `json:"planned_km"`
	DrivenKm         *float64 `json:"driven_km"`
	Shifts           int
	ShiftMinutes     int64   `json:"shift_minutes"`
	ScheduledMinutes int64   `json:"scheduled_minutes"`
	CarriedKg        float64 `json:"carried_kg"`
	DeliveredKg      float64 `json:"delivered_kg"`
	CashCollected    int64   `json:"cash_collected"`
	CardCollected    int64   `json:"card_collected"`
	CashHandedIn     int64   `json:"cash_handed_in"`
}

type workloadJSON struct {
	Rows   []workloadRowT
	Totals []workloadRowT
}

// milli reads a JSON kg or km as whole grams or metres (they have at most three decimals).
func milliOf(f float64) int64 { return int64(math.Round(f * 1000)) }

func (w workloadRowT) counts() []int64 {
	var driven int64
	if w.DrivenKm != nil {
		driven = milliOf(*w.DrivenKm)
	}
	return []int64{int64(w.Sheets), int64(w.StopsPlanned), int64(w.Delivered), int64(w.Partial), int64(w.Failed), int64(w.HandedBack),
		milliOf(w.PlannedKm), driven, int64(w.Shifts), w.ShiftMinutes, w.ScheduledMinutes, milliOf(w.CarriedKg), milliOf(w.DeliveredKg),
		w.CashCollected, w.CardCollected, w.CashHandedIn}
}

func checkWorkloadSums(t *testing.T, w *workloadJSON) {
	t.Helper()
	sums := map[string][]int64{}
	for _, r := range w.Rows {
		s := sums[r.Currency]
		if s == nil {
			s = make([]int64, len(r.counts()))
		}
		for i, v := range r.counts() {
			s[i] += v
		}
		sums[r.Currency] = s
	}
	for _, tot := range w.Totals {
		if fmt.Sprint(sums[tot.Currency]) != fmt.Sprint(tot.counts()) {
			t.Errorf("workload total %s: %v; the rows sum to %v", tot.Currency, tot.counts(), sums[tot.Currency])
		}
	}
}

type onTimeRowT struct {
	Key                         string
	Attempts, Delivered, Failed int
	WithWindow                  int `json:"with_window"`
	OnTime                      int `json:"on_time"`
	Early, Late                 int
	EarlyMinutes                int64 `json:"early_minutes"`
	LateMinutes                 int64 `json:"late_minutes"`
	FirstAttempts               int   `json:"first_attempts"`
	FirstDelivered              int   `json:"first_delivered"`
	Reasons                     map[string]int
	OnTimeRate                  float64 `json:"on_time_rate"`
	MaxLateMinutes              int64   `json:"max_late_minutes"`
	FirstAttemptRate            float64 `json:"first_attempt_rate"`
	Name                        string
}

type onTimeJSON struct {
	Couriers, Zones, Days []onTimeRowT
	Total                 onTimeRowT
}

func (r onTimeRowT) counts() []int64 {
	out := []int64{int64(r.Attempts), int64(r.Delivered), int64(r.Failed), int64(r.WithWindow), int64(r.OnTime), int64(r.Early),
		int64(r.Late), r.EarlyMinutes, r.LateMinutes, int64(r.FirstAttempts), int64(r.FirstDelivered)}
	var reasons int64
	for _, n := range r.Reasons {
		reasons += int64(n)
	}
	return append(out, reasons)
}

func checkOnTimeSums(t *testing.T, o *onTimeJSON) {
	t.Helper()
	if o.Total.Delivered != o.Total.OnTime+o.Total.Early+o.Total.Late+(o.Total.Delivered-o.Total.WithWindow) ||
		o.Total.Attempts != o.Total.Delivered+o.Total.Failed || int64(o.Total.Failed) != o.Total.counts()[11] {
		t.Errorf("on-time total does not add up: %+v", o.Total)
	}
	for name, g := range map[string][]onTimeRowT{"couriers": o.Couriers, "zones": o.Zones, "days": o.Days} {
		sum := make([]int64, len(o.Total.counts()))
		for _, r := range g {
			for i, v := range r.counts() {
				sum[i] += v
			}
		}
		if fmt.Sprint(sum) != fmt.Sprint(o.Total.counts()) {
			t.Errorf("on-time %s sum to %v, the total is %v", name, sum, o.Total.counts())
		}
	}
}

// --- CSV ----------------------------------------------------------------------

// csvRows fetches a CSV report and returns its rows as maps by the header's names.
func (e *env) csvRows(t *testing.T, path string) []map[string]string {
	t.Helper()
	r := e.must(e.do("GET", path, "dispatcher", nil), 200)
	if ct := r.Header.Get("Content-Type"); ct != "text/csv; charset=utf-8" {
		t.Errorf("%s: Content-Type %q", path, ct)
	}
	// A byte order mark first: Excel reads the file as UTF-8 only with it
	// (the couriers' names are Cyrillic); LibreOffice and Google Sheets skip it.
	body, ok := strings.CutPrefix(string(r.Body), "\ufeff")
	if !ok {
		t.Errorf("%s: no UTF-8 byte order mark: %.40q", path, r.Body)
	}
	recs, err := csv.NewReader(strings.NewReader(body)).ReadAll()
	if err != nil || len(recs) < 1 {
		t.Fatalf("%s: %v %q", path, err, r.Body)
	}
	var out []map[string]string
	for _, rec := range recs[1:] {
		m := map[string]string{}
		for i, h := range recs[0] {
			m[h] = rec[i]
		}
		out = append(out, m)
	}
	return out
}

// minor reads major units ("1250.50", "-3.00") as minor units of a two-digit currency.
func minor(t *testing.T, s string) int64 {
	t.Helper()
	neg := strings.HasPrefix(s, "-")
	whole, frac, ok := strings.Cut(strings.TrimPrefix(s, "-"), ".")
	if !ok || len(frac) != 2 {
		t.Fatalf("money %q is not in major units with two decimals", s)
	}
	n, err := strconv.ParseInt(whole+frac, 10, 64)
	if err != nil {
		t.Fatalf("money %q: %v", s, err)
	}
	if neg {
		n = -n
	}
	return n
}

// milliCSV reads a CSV kg or km as grams or metres ("" is 0).
func milliCSV(t *testing.T, s string) int64 {
	t.Helper()
	if s == "" {
		return 0
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || strings.Count(strings.SplitN(s+".", ".", 2)[1], "") > 5 {
		t.Fatalf("a spreadsheet number with at most 3 decimals expected, got %q", s)
	}
	return milliOf(f)
}

func checkDeliveriesCSV(t *testing.T, d *deliveriesJSON, rows []map[string]string) {
	t.Helper()
	if len(rows) != len(d.Lines)+len(d.Couriers)+len(d.Totals) {
		t.Fatalf("CSV has %d rows, JSON %d lines, %d courier totals, %d totals", len(rows), len(d.Lines), len(d.Couriers), len(d.Totals))
	}
	for i, l := range d.Lines {
		r := rows[i]
		got := []int64{minor(t, r["fee"]), minor(t, r["fee_base"]), minor(t, r["fee_free_above"]), minor(t, r["pay_total"]), minor(t, r["pay_km"]),
			minor(t, r["amount_due"]), minor(t, r["collected"]), milliCSV(t, r["weight_kg"]), milliCSV(t, r["distance_km"])}
		want := []int64{l.fee(), l.FeeParts.Base, l.FeeParts.FreeAbove, l.Pay.Total, l.Pay.Km, l.AmountDue, l.Collected, milliOf(l.WeightKg),
			milliOf(l.DistanceKm)}
		if fmt.Sprint(got) != fmt.Sprint(want) || r["line"] != l.Kind || r["currency"] != l.Currency || r["date"] != l.Date ||
			r["courier_id"] != fmt.Sprint(l.CourierID) || r["outcome"] != l.Outcome || r["fee_rule"] != l.FeeRule {
			t.Errorf("CSV row %d %v\n differs from JSON line %+v", i, r, l)
		}
	}
	for i, tot := range append(append([]deliveryTotalJSON{}, d.Couriers...), d.Totals...) {
		r := rows[len(d.Lines)+i]
		if minor(t, r["pay_total"]) != tot.Pay.Total || minor(t, r["fee"]) != tot.Fees || minor(t, r["amount_due"]) != tot.AmountDue ||
			minor(t, r["collected"]) != tot.CashCollected+tot.CardCollected || r["currency"] != tot.Currency {
			t.Errorf("CSV total row %v differs from JSON %+v", r, tot)
		}
	}
}

func checkWorkloadCSV(t *testing.T, w *workloadJSON, rows []map[string]string) {
	t.Helper()
	all := append(append([]workloadRowT{}, w.Rows...), w.Totals...)
	if len(rows) != len(all) {
		t.Fatalf("CSV has %d rows, JSON %d", len(rows), len(all))
	}
	for i, j := range all {
		r := rows[i]
		n := func(k string) int64 {
			v, err := strconv.ParseInt(r[k], 10, 64)
			if err != nil {
				t.Fatalf("%s: %q is not an integer", k, r[k])
			}
			return v
		}
		got := []int64{n("sheets"), n("stops_planned"), n("delivered"), n("partial"), n("failed"), n("handed_back"), milliCSV(t, r["planned_km"]),
			milliCSV(t, r["driven_km"]), n("shifts"), n("shift_minutes"), n("scheduled_minutes"), milliCSV(t, r["carried_kg"]),
			milliCSV(t, r["delivered_kg"]), minor(t, r["cash_collected"]), minor(t, r["card_collected"]), minor(t, r["cash_handed_in"])}
		if fmt.Sprint(got) != fmt.Sprint(j.counts()) || r["currency"] != j.Currency || r["date"] != j.Date {
			t.Errorf("workload CSV row %v: %v, JSON %v", r, got, j.counts())
		}
	}
}

func checkOnTimeCSV(t *testing.T, o *onTimeJSON, rows []map[string]string) {
	t.Helper()
	all := append(append(append(append([]onTimeRowT{}, o.Couriers...), o.Zones...), o.Days...), o.Total)
	if len(rows) != len(all) {
		t.Fatalf("on-time CSV has %d rows, JSON %d", len(rows), len(all))
	}
	for i, j := range all {
		r := rows[i]
		var got []int64
		for _, k := range []string{"attempts", "delivered", "failed", "with_window", "on_time", "early", "late", "early_minutes", "late_minutes",
			"first_attempts", "first_delivered"} {
			n, err := strconv.ParseInt(r[k], 10, 64)
			if err != nil {
				t.Fatalf("%s: %q is not an integer", k, r[k])
			}
			got = append(got, n)
		}
		var reasons int64
		for k, v := range r {
			if strings.HasPrefix(k, "failed_") {
				n, _ := strconv.ParseInt(v, 10, 64)
				reasons += n
			}
		}
		got = append(got, reasons)
		if fmt.Sprint(got) != fmt.Sprint(j.counts()) || r["key"] != j.Key {
			t.Errorf("on-time CSV row %v: %v, JSON %v", r, got, j.counts())
		}
	}
}
