package api_test

import (
	"strings"
	"testing"
	"time"
)

// TestReportsDay: a day through HTTP on SQLite and PostgreSQL, under a
// tariff and pay rules an admin set through the API; then the reports as
// each role sees them, the courier's own pay, the tariff's versions, pay
// periods, and every bad input of issue 12.
func TestReportsDay(t *testing.T) {
	backends(t, func(t *testing.T, e *env) {
		// The tariff before the orders: base 250.00, 10.00 per kg above 3 kg,
		// 5.00 per km, 70.00 for a window of 2 to 3 hours (the test orders' is 3).
		var tf tariffJSONT
		e.decode(e.must(e.do("GET", "/api/v1/tariff", "dispatcher", nil), 200), &tf)
		if tf.Version != 0 || tf.BaseFee != 19900 || tf.CreatedAt != nil {
			t.Fatalf("the built-in tariff: %+v", tf)
		}
		e.decode(e.must(e.do("PUT", "/api/v1/tariff", "admin", map[string]any{"base_fee": 25000, "weight": map[string]any{"free_kg": 3, "per_kg": 1000},
			"distance": map[string]any{"per_km": 500}, "free_above": 1000000,
			"narrow_windows": []any{map[string]any{"from_minutes": 120, "to_minutes": 180, "surcharge": 7000}}, "version": 0}), 200), &tf)
		if tf.Version != 1 || tf.Currency != "RUB" || tf.CreatedAt == nil {
			t.Fatalf("tariff v1: %+v", tf)
		}
		// Pay: every car courier 100.00 a delivered stop, 30.00 a failed one,
		// 2.00 per kg, 10.00 per km, 500.00 a shift, at least 1500.00 a shift.
		e.must(e.do("POST", "/api/v1/pay-rules", "admin", map[string]any{"vehicle_type": "car", "effective_from": "2026-11-01",
			"per_delivered": 10000, "per_failed": 3000, "per_kg": 200, "per_km": 1000, "per_shift": 50000, "min_per_shift": 150000}), 201)

		f := e.planDay(map[string]func(int, map[string]any){
			"courier1": func(i int, b map[string]any) {
				b["items"] = []any{
					map[string]any{"sku": "CUP", "name": "Cup", "qty": 2, "barcode": "C" + itoa(int64(i)), "price": 20000},
					map[string]any{"sku": "POT", "name": "Pot", "qty": 1, "barcode": "P" + itoa(int64(i)), "price": 60000},
				}
				b["cod"] = map[string]any{"amount": 100000, "currency": "RUB", "method": "cash"}
			},
			"courier2": func(i int, b map[string]any) {
				b["items"] = []any{map[string]any{"sku": "BOX", "name": "Box", "qty": 1, "barcode": "B" + itoa(int64(i))}}
				b["cod"] = map[string]any{"amount": 150000, "currency": "RUB", "method": "cash"}
			},
			"courier3": func(i int, b map[string]any) { b["items"] = []any{} },
		})
		a1, a2, a3 := f.orders["courier1"][0], f.orders["courier1"][1], f.orders["courier1"][2]

		// Courier 1: a partial delivery in cash, one by card, one rescheduled; GPS on the way.
		e.at(day.Add(7*time.Hour + 5*time.Minute))
		e.applied("courier1", "shift_start", 0, nil)
		start := e.clock.Now()
		var pings []any
		for i := range 30 {
			pings = append(pings, ping(55.7296-0.0009*float64(i), 37.6453-0.0012*float64(i), 8, start.Add(time.Duration(i)*time.Minute)))
		}
		e.at(start.Add(30 * time.Minute))
		e.must(e.do("POST", "/api/v1/courier/locations", "courier1", map[string]any{"pings": pings}), 200)
		e.applied("courier1", "deliver", a1, map[string]any{"scanned_barcodes": e.barcodes(a1, 0), "refused": []any{map[string]any{"item": 0, "qty": 1}},
			"collected": map[string]any{"amount": 80000, "method": "cash"}})
		e.applied("courier1", "deliver", a2, map[string]any{"scanned_barcodes": e.barcodes(a2),
			"collected": map[string]any{"amount": 100000, "method": "card", "payment_ref": "SLIP-1"}})
		e.applied("courier1", "fail", a3, map[string]any{"reason": "reschedule", "wished_date": "2026-11-25"})
		e.at(start.Add(40 * time.Minute))
		e.applied("courier1", "shift_end", 0, nil)
		// Courier 2: a short collection, a delivery, a failure; the cash is settled.
		b1, b2, b3 := f.orders["courier2"][0], f.orders["courier2"][1], f.orders["courier2"][2]
		e.applied("courier2", "shift_start", 0, nil)
		e.applied("courier2", "deliver", b1, map[string]any{"scanned_barcodes": e.barcodes(b1), "collected": map[string]any{"amount": 140000, "method": "cash"}})
		e.applied("courier2", "deliver", b2, map[string]any{"scanned_barcodes": e.barcodes(b2), "collected": map[string]any{"amount": 150000, "method": "cash"}})
		e.applied("courier2", "fail", b3, map[string]any{"reason": "no_answer"})
		e.applied("courier2", "shift_end", 0, nil)
		e.must(e.do("POST", "/api/v1/cashdesk/shifts", "cashier", map[string]any{"depot_id": e.depotID}), 201)
		e.must(e.do("POST", "/api/v1/cashdesk/settlements", "cashier", map[string]any{"barcode": f.sheets["courier2"].Number,
			"counted": map[string]any{"amount": 290000, "currency": "RUB"}}, "Idempotency-Key", "reports-settle-2"), 201)
		// Courier 3: one delivered, two handed back.
		c1 := f.orders["courier3"][0]
		e.applied("courier3", "shift_start", 0, nil)
		e.applied("courier3", "deliver", c1, map[string]any{"collected": map[string]any{"amount": 249900, "method": "cash"}})
		e.applied("courier3", "shift_end", 0, map[string]any{"hand_back": f.orders["courier3"][1:]})

		// Two hours on, the tracks have settled and the day is reported.
		e.at(start.Add(3 * time.Hour))
		q := "?from=2026-11-23&to=2026-11-23"
		var wl workloadJSON
		e.decode(e.must(e.do("GET", "/api/v1/reports/workload"+q, "dispatcher", nil), 200), &wl)
		checkWorkloadSums(t, &wl)
		rows := map[int64]workloadRowT{}
		for _, r := range wl.Rows {
			rows[*r.CourierID] = r
		}
		w1, w2, w3 := rows[e.courier["courier1"]], rows[e.courier["courier2"]], rows[e.courier["courier3"]]
		if w1.StopsPlanned != 3 || w1.Delivered != 2 || w1.Partial != 1 || w1.Failed != 1 || w1.CashCollected != 80000 || w1.CardCollected != 100000 ||
			w1.DrivenKm == nil || *w1.DrivenKm < 3 || w1.Shifts != 1 || w1.ShiftMinutes != 40 || w1.ScheduledMinutes != 540 || w1.CarriedKg != 15 {
			t.Errorf("courier 1's workload: %+v (driven %v)", w1, w1.DrivenKm)
		}
		if w2.CashCollected != 290000 || w2.CashHandedIn != 290000 || w2.DrivenKm != nil || w2.Delivered != 2 || w2.Failed != 1 {
			t.Errorf("courier 2's workload: %+v", w2)
		}
		if w3.HandedBack != 2 || w3.Failed != 2 || w3.Delivered != 1 || w3.PlannedKm <= 0 {
			t.Errorf("courier 3's workload: %+v", w3)
		}

		var dr deliveriesJSON
		e.decode(e.must(e.do("GET", "/api/v1/reports/deliveries"+q, "admin", nil), 200), &dr)
		checkDeliverySums(t, &dr)
		checkDeliveriesCSV(t, &dr, e.csvRows(t, "/api/v1/reports/deliveries"+q+"&format=csv"))
		byOrder := map[int64]deliveryLineJSON{}
		days := map[int64]deliveryLineJSON{}
		for _, l := range dr.Lines {
			if l.Kind == "stop" {
				byOrder[*l.OrderID] = l
			} else {
				days[l.CourierID] = l
			}
		}
		var o1 struct {
			DeliveryFee int64 `json:"delivery_fee"`
			FeeQuote    *struct {
				TariffVersion int64 `json:"tariff_version"`
				Components    []struct {
					Rule   string
					Amount int64
				}
			} `json:"fee_quote"`
		}
		e.decode(e.must(e.do("GET", "/api/v1/orders/"+itoa(a1), "dispatcher", nil), 200), &o1)
		var quoted int64
		for _, c := range o1.FeeQuote.Components {
			quoted += c.Amount
		}
		if o1.FeeQuote.TariffVersion != 1 || quoted != o1.DeliveryFee || len(o1.FeeQuote.Components) != 4 {
			t.Errorf("the order card's fee quote: %+v, fee %d", o1.FeeQuote, o1.DeliveryFee)
		}
		l1 := byOrder[a1]
		if l1.Outcome != "partial" || l1.fee() != o1.DeliveryFee || l1.TariffVersion == nil || *l1.TariffVersion != 1 || l1.FeeParts.Base != 25000 ||
			l1.FeeParts.Window != 7000 || l1.FeeParts.Weight != 2000 || !strings.Contains(l1.FeeRule, "tariff v1: base") ||
			l1.AmountDue != 80000 || l1.Collected != 80000 || l1.CollectedBy != "cash" {
			t.Errorf("a partial delivery: %+v (order fee %d)", l1, o1.DeliveryFee)
		}
		// Pay: 100.00 + 5 kg x 2.00 for each delivered stop, 30.00 for the failed one.
		if l1.Pay.Stop != 10000 || l1.Pay.Kg != 1000 || byOrder[a3].Pay.Total != 3000 || byOrder[a3].fee() != 0 || byOrder[a3].Outcome != "failed" {
			t.Errorf("stop pay: %+v, %+v", l1.Pay, byOrder[a3])
		}
		if hb := byOrder[f.orders["courier3"][1]]; hb.Outcome != "handed_back" || hb.Pay.Total != 0 {
			t.Errorf("a stop handed back earns nothing: %+v", hb)
		}
		// The day: km by the GPS track for courier 1, the plan for courier 2; 500.00 a shift; topped up to 1500.00.
		d1, d2 := days[e.courier["courier1"]], days[e.courier["courier2"]]
		if d1.DistanceSource != "gps" || d2.DistanceSource != "plan" || d1.Pay.Shift != 50000 || d1.Pay.Km != (1000*milliOf(d1.DistanceKm)+500)/1000 {
			t.Errorf("day lines: %+v; %+v", d1, d2)
		}
		if stops := int64(2*(10000+1000) + 3000); d1.Pay.Minimum != max(150000-(stops+d1.Pay.Km+50000), 0) {
			t.Errorf("the minimum per shift: %+v", d1.Pay)
		}

		var ot onTimeJSON
		e.decode(e.must(e.do("GET", "/api/v1/reports/on-time"+q, "dispatcher", nil), 200), &ot)
		checkOnTimeSums(t, &ot)
		checkOnTimeCSV(t, &ot, e.csvRows(t, "/api/v1/reports/on-time"+q+"&format=csv"))
		if ot.Total.Attempts != 9 || ot.Total.Delivered != 5 || ot.Total.FirstAttempts != 9 || ot.Total.Reasons["handed_back"] != 2 ||
			ot.Total.Reasons["reschedule"] != 1 || ot.Total.Reasons["no_answer"] != 1 || len(ot.Zones) != 3 || ot.Zones[0].Name == "" {
			t.Errorf("on time: %+v, zones %+v", ot.Total, ot.Zones)
		}
		checkWorkloadCSV(t, &wl, e.csvRows(t, "/api/v1/reports/workload"+q+"&format=csv"))

		// Who sees what: cashiers the workload (the cash), not the pay; couriers only their own.
		e.must(e.do("GET", "/api/v1/reports/workload"+q, "cashier", nil), 200)
		e.must(e.do("GET", "/api/v1/reports/deliveries"+q, "cashier", nil), 403)
		e.must(e.do("GET", "/api/v1/reports/on-time"+q, "cashier", nil), 403)
		e.must(e.do("GET", "/api/v1/reports/workload"+q, "courier1", nil), 403)
		e.must(e.do("GET", "/api/v1/courier/pay"+q, "dispatcher", nil), 403)
		var mine workloadJSON
		e.decode(e.must(e.do("GET", "/api/v1/courier/workload"+q, "courier1", nil), 200), &mine)
		if len(mine.Rows) != 1 || *mine.Rows[0].CourierID != e.courier["courier1"] || mine.Rows[0].Delivered != 2 {
			t.Errorf("courier 1's own workload: %+v", mine)
		}
		pay := e.must(e.do("GET", "/api/v1/courier/pay"+q, "courier1", nil), 200)
		var own struct {
			CourierID int64 `json:"courier_id"`
			Lines     []deliveryLineJSON
			Totals    []deliveryTotalJSON
		}
		e.decode(pay, &own)
		if strings.Contains(string(pay.Body), `"fee`) || strings.Contains(string(pay.Body), "tariff") || len(own.Lines) != 4 ||
			own.Totals[0].Pay.Total != dr.Couriers[0].Pay.Total || own.CourierID != e.courier["courier1"] {
			t.Errorf("courier 1's own pay: %s", pay.Body)
		}
		for _, l := range own.Lines {
			if l.CourierID != e.courier["courier1"] {
				t.Errorf("another courier's line in courier 1's pay: %+v", l)
			}
		}
		if r := e.must(e.do("GET", "/api/v1/courier/pay"+q+"&format=csv", "courier1", nil), 200); strings.Contains(string(r.Body), "fee") ||
			!strings.HasPrefix(string(r.Body), "\ufeffline,date,courier_id") {
			t.Errorf("courier pay CSV: %s", r.Body)
		}

		// Bad ranges: each a 422 naming the field.
		for _, c := range []struct{ query, field string }{
			{"?from=2025-11-01&to=2026-11-23", "to"}, // 388 days
			{"?from=2026-11-23&to=2026-11-22", "to"}, // to before from
			{"?from=2026-11-23&to=2026-11-23&courier_id=999", "courier_id"},
			{"?from=23.11.2026&to=2026-11-23", "from"},
			{"?to=2026-11-23", "from"},
			{"?from=2026-11-23&to=2026-11-23&format=xml", "format"},
		} {
			for _, path := range []string{"/api/v1/reports/workload", "/api/v1/reports/deliveries", "/api/v1/reports/on-time"} {
				if r := e.do("GET", path+c.query, "dispatcher", nil); r.Status != 422 || r.errorField() != c.field {
					t.Errorf("%s%s: %d %s", path, c.query, r.Status, r.Body)
				}
			}
		}
		e.must(e.do("GET", "/api/v1/reports/workload?from=2025-11-23&to=2026-11-23", "dispatcher", nil), 200) // 366 days
		if r := e.do("GET", "/api/v1/courier/pay?from=2026-11-24&to=2026-11-23", "courier1", nil); r.Status != 422 || r.errorField() != "to" {
			t.Errorf("courier pay, to before from: %d %s", r.Status, r.Body)
		}

		e.tariffVersions(t, f.orders["courier1"][2])
		e.payPeriods(t, dr.Totals[0].Pay.Total)
	})
}

type tariffJSONT struct {
	Version   int64
	Currency  string
	BaseFee   int64      `json:"base_fee"`
	CreatedAt *time.Time `json:"created_at"`
	Zones     []struct {
		ZoneID  int64 `json:"zone_id"`
		BaseFee int64 `json:"base_fee"`
	}
}

// tariffVersions: a new version prices new orders, the old orders keep
// theirs when edited; a bad tariff is refused with the field named.
func (e *env) tariffVersions(t *testing.T, old int64) {
	t.Helper()
	var zones struct {
		Features []struct{ ID int64 }
	}
	e.decode(e.must(e.do("GET", "/api/v1/zones", "dispatcher", nil), 200), &zones)
	zone := zones.Features[0].ID
	good := func() map[string]any {
		return map[string]any{"base_fee": 30000, "zones": []any{map[string]any{"zone_id": zone, "base_fee": 40000}},
			"narrow_windows": []any{map[string]any{"from_minutes": 0, "to_minutes": 60, "surcharge": 10000}}}
	}
	with := func(k string, v any) map[string]any { b := good(); b[k] = v; return b }
	for _, c := range []struct {
		name   string
		body   map[string]any
		status int
		field  string
	}{
		{"a negative base fee", with("base_fee", -1), 422, "base_fee"},
		{"a negative per kg", with("weight", map[string]any{"per_kg": -100}), 422, "weight.per_kg"},
		{"a negative zone fee", with("zones", []any{map[string]any{"zone_id": zone, "base_fee": -5}}), 422, "zones[0].base_fee"},
		{"two fees for one zone", with("zones", []any{map[string]any{"zone_id": zone, "base_fee": 5}, map[string]any{"zone_id": zone, "base_fee": 6}}), 422, "zones[1]"},
		{"an unknown zone", with("zones", []any{map[string]any{"zone_id": 999, "base_fee": 5}}), 422, "zones[0].zone_id"},
		{"overlapping windows", with("narrow_windows", []any{map[string]any{"from_minutes": 0, "to_minutes": 90, "surcharge": 1},
			map[string]any{"from_minutes": 60, "to_minutes": 120, "surcharge": 1}}), 422, "narrow_windows[1]"},
		{"no base fee", with("base_fee", nil), 422, "base_fee"},
		{"an unknown field", with("per_mile", 5), 400, "per_mile"},
		{"a fee sent as a string", with("base_fee", "250"), 400, "base_fee"},
		{"a per kg sent as a string", with("weight", map[string]any{"per_kg": "1"}), 400, "weight.per_kg"},
		{"a stale version", with("version", 0), 409, ""},
	} {
		r := e.do("PUT", "/api/v1/tariff", "admin", c.body)
		if r.Status != c.status || r.errorField() != c.field {
			t.Errorf("%s: %d %s", c.name, r.Status, r.Body)
		}
	}
	e.must(e.do("PUT", "/api/v1/tariff", "dispatcher", good()), 403)
	var before orderOut
	e.decode(e.must(e.do("GET", "/api/v1/orders/"+itoa(old), "dispatcher", nil), 200), &before)
	var tf tariffJSONT
	e.decode(e.must(e.do("PUT", "/api/v1/tariff", "admin", with("version", 1)), 200), &tf)
	if tf.Version != 2 || len(tf.Zones) != 1 || tf.Zones[0].BaseFee != 40000 {
		t.Fatalf("tariff v2: %+v", tf)
	}
	e.decode(e.must(e.do("GET", "/api/v1/tariff?version=1", "dispatcher", nil), 200), &tf)
	if tf.Version != 1 || tf.BaseFee != 25000 {
		t.Errorf("tariff v1 kept: %+v", tf)
	}
	e.must(e.do("GET", "/api/v1/tariff?version=7", "dispatcher", nil), 404)
	e.must(e.do("GET", "/api/v1/tariff", "courier1", nil), 403)
	// The rescheduled order (priced by v1) is edited: still v1's fee.
	e.must(e.do("POST", "/api/v1/orders/"+itoa(old)+"/reschedule", "dispatcher", map[string]any{}), 200)
	var after orderOut
	e.decode(e.must(e.do("PATCH", "/api/v1/orders/"+itoa(old), "dispatcher", map[string]any{"notes": "call first"}), 200), &after)
	if after.DeliveryFee != before.DeliveryFee {
		t.Errorf("an order priced by v1 re-priced on edit: %d, was %d", after.DeliveryFee, before.DeliveryFee)
	}
	// A new order in that zone: v2's zone fee, no window surcharge (3 hours).
	var z struct {
		Geometry struct{ Coordinates [][][2]float64 }
	}
	e.decode(e.must(e.do("GET", "/api/v1/zones/"+itoa(zone), "dispatcher", nil), 200), &z)
	p := z.Geometry.Coordinates[0][0]
	var n orderOut
	b := e.orderBody("V2-1")
	b["location"], b["weight_kg"] = map[string]any{"lat": p[1] + 0.01, "lng": p[0] + 0.01}, 1
	e.decode(e.must(e.do("POST", "/api/v1/orders", "dispatcher", b), 201), &n)
	if n.DeliveryFee < 40000 || n.DeliveryFee >= 40000+before.DeliveryFee {
		t.Errorf("a new order under v2: fee %d", n.DeliveryFee)
	}
}

// payPeriods: closing a period, and a pay rule for a paid-out day refused
// while the paid pay stays what it was.
func (e *env) payPeriods(t *testing.T, paid int64) {
	t.Helper()
	q := "?from=2026-11-23&to=2026-11-23"
	var list struct {
		PaidThrough *string `json:"paid_through"`
		Items       []struct{ ID int64 }
	}
	e.decode(e.must(e.do("GET", "/api/v1/pay-periods", "admin", nil), 200), &list)
	if list.PaidThrough != nil || len(list.Items) != 0 {
		t.Fatalf("pay periods at first: %+v", list)
	}
	e.must(e.do("GET", "/api/v1/pay-periods", "dispatcher", nil), 403)
	for _, c := range []struct {
		body   map[string]any
		status int
		field  string
	}{
		{map[string]any{"to": "2026-11-22"}, 422, "from"},                     // the first period needs its start
		{map[string]any{"from": "2026-11-01", "to": "2026-11-23"}, 422, "to"}, // today is not over
		{map[string]any{"from": "2026-11-10", "to": "2026-11-01"}, 422, "to"}, // backwards
		{map[string]any{"from": "2026-11-01", "to": "1 Dec"}, 422, "to"},
	} {
		if r := e.do("POST", "/api/v1/pay-periods", "admin", c.body); r.Status != c.status || r.errorField() != c.field {
			t.Errorf("close %v: %d %s", c.body, r.Status, r.Body)
		}
	}
	e.must(e.do("POST", "/api/v1/pay-periods", "admin", map[string]any{"from": "2026-11-01", "to": "2026-11-22", "note": "November, first part"}), 201)
	if r := e.do("POST", "/api/v1/pay-periods", "admin", map[string]any{"from": "2026-11-10", "to": "2026-11-22"}); r.Status != 409 || r.errorField() != "from" {
		t.Errorf("an overlapping period: %d %s", r.Status, r.Body)
	}
	rule := func(from string) *response {
		return e.do("POST", "/api/v1/pay-rules", "admin", map[string]any{"vehicle_type": "car", "effective_from": from, "per_delivered": 99999})
	}
	if r := rule("2026-11-20"); r.Status != 409 || r.errorField() != "effective_from" || !strings.Contains(string(r.Body), "2026-11-22") {
		t.Errorf("a rule for a paid-out day: %d %s", r.Status, r.Body)
	}
	// The 23rd is not paid out yet: a rule for it changes its pay.
	e.must(rule("2026-11-23"), 201)
	var dr deliveriesJSON
	e.decode(e.must(e.do("GET", "/api/v1/reports/deliveries"+q, "admin", nil), 200), &dr)
	changed := dr.Totals[0].Pay.Total
	if changed == paid {
		t.Errorf("a rule from the 23rd did not change the 23rd's pay (%d)", paid)
	}
	// The next day the 23rd is closed (from follows on): its pay no longer moves.
	e.at(e.clock.Now().Add(24 * time.Hour))
	e.must(e.do("POST", "/api/v1/pay-periods", "admin", map[string]any{"to": "2026-11-23"}), 201)
	if r := rule("2026-11-23"); r.Status != 409 {
		t.Errorf("a rule for the closed 23rd: %d %s", r.Status, r.Body)
	}
	e.must(rule("2026-11-24"), 201)
	e.decode(e.must(e.do("GET", "/api/v1/reports/deliveries"+q, "admin", nil), 200), &dr)
	if dr.Totals[0].Pay.Total != changed {
		t.Errorf("the paid-out 23rd's pay moved: %d, was %d", dr.Totals[0].Pay.Total, changed)
	}
	var rules struct {
		PaidThrough *string `json:"paid_through"`
		Items       []struct {
			ID            int64
			VehicleType   *string `json:"vehicle_type"`
			EffectiveFrom string  `json:"effective_from"`
		}
	}
	e.decode(e.must(e.do("GET", "/api/v1/pay-rules", "admin", nil), 200), &rules)
	if rules.PaidThrough == nil || *rules.PaidThrough != "2026-11-23" || len(rules.Items) != 3 {
		t.Errorf("pay rules: %+v", rules)
	}
	e.must(e.do("GET", "/api/v1/pay-rules", "dispatcher", nil), 403)
	for _, c := range []struct {
		body  map[string]any
		field string
	}{
		{map[string]any{"effective_from": "2026-12-01"}, "courier_id"},
		{map[string]any{"courier_id": e.courier["courier1"], "vehicle_type": "car", "effective_from": "2026-12-01"}, "vehicle_type"},
		{map[string]any{"vehicle_type": "rocket", "effective_from": "2026-12-01"}, "vehicle_type"},
		{map[string]any{"courier_id": 999, "effective_from": "2026-12-01"}, "courier_id"},
		{map[string]any{"vehicle_type": "car", "effective_from": "Dec 1"}, "effective_from"},
		{map[string]any{"vehicle_type": "car", "effective_from": "2026-12-01", "per_km": -1}, "per_km"},
	} {
		if r := e.do("POST", "/api/v1/pay-rules", "admin", c.body); r.Status != 422 || r.errorField() != c.field {
			t.Errorf("pay rule %v: %d %s", c.body, r.Status, r.Body)
		}
	}
}

// TestPayPeriodWaitsForTheDay: a pay period cannot be closed while a day
// of it is still being worked (a shift open, a sheet active): the stops
// finished later would change pay already paid out. And once it is closed,
// a sheet of a paid-out day left unstarted cannot be started any more.
func TestPayPeriodWaitsForTheDay(t *testing.T) {
	backends(t, func(t *testing.T, e *env) {
		e.must(e.do("POST", "/api/v1/pay-rules", "admin", map[string]any{"vehicle_type": "car", "effective_from": "2026-11-01",
			"per_delivered": 10000, "per_failed": 3000}), 201)
		f := e.planDay(nil)
		a := f.orders["courier1"]
		e.applied("courier1", "shift_start", 0, nil)
		e.applied("courier1", "deliver", a[0], map[string]any{"scanned_barcodes": e.barcodes(a[0]), "collected": map[string]any{"amount": 249900, "method": "cash"}})

		// The next morning courier 1 has not ended the shift: the 23rd is not over for them.
		e.at(day.Add(31 * time.Hour))
		close := map[string]any{"from": "2026-11-01", "to": "2026-11-23"}
		r := e.do("POST", "/api/v1/pay-periods", "admin", close)
		if r.Status != 409 || r.errorField() != "to" || !strings.Contains(string(r.Body), f.sheets["courier1"].Number) {
			t.Fatalf("closing a day still worked: %d %s", r.Status, r.Body)
		}

		// The shift ends (the rest handed back): the day is final and is closed.
		e.applied("courier1", "shift_end", 0, map[string]any{"hand_back": a[1:]})
		e.must(e.do("POST", "/api/v1/pay-periods", "admin", close), 201)
		var q deliveriesJSON
		e.decode(e.must(e.do("GET", "/api/v1/reports/deliveries?from=2026-11-23&to=2026-11-23", "admin", nil), 200), &q)
		paid := q.Totals[0].Pay.Total
		if paid != 10000 {
			t.Errorf("the 23rd's pay: %d, want one delivered stop (10000)", paid)
		}

		// Courier 2's sheet of the paid-out 23rd was never started: it stays so.
		sh := f.sheets["courier2"]
		if r := e.do("POST", "/api/v1/route-sheets/"+itoa(sh.ID)+"/start", "dispatcher", map[string]any{}); r.Status != 409 ||
			!strings.Contains(string(r.Body), "2026-11-23") {
			t.Errorf("starting a sheet of a paid-out day: %d %s", r.Status, r.Body)
		}
		e.decode(e.must(e.do("GET", "/api/v1/reports/deliveries?from=2026-11-23&to=2026-11-23", "admin", nil), 200), &q)
		if q.Totals[0].Pay.Total != paid {
			t.Errorf("the paid-out 23rd's pay moved: %d, was %d", q.Totals[0].Pay.Total, paid)
		}
	})
}
