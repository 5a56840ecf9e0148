package api_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"github.com/courierhq/courier"
	"strings"
	"sync"
	"testing"
)

func TestCreateOrder(t *testing.T) {
	e := newEnv(t)
	r := e.must(e.do("POST", "/api/v1/orders", "dispatcher", e.orderBody("C-1")), 201)
	var o orderOut
	e.decode(r, &o)
	if r.Header.Get("Location") != "/api/v1/orders/"+itoa(o.ID) {
		t.Errorf("Location = %q", r.Header.Get("Location"))
	}
	// 7.5 kg, 3.7 km from the depot: base 199.00 + 3 started kg above 5 kg at 20.00 + 4 started km at 15.00.
	if o.Status != "new" || o.PaymentStatus != "cod_pending" || o.DeliveryDate != "2026-11-23" || o.Version != 1 {
		t.Errorf("created order = %+v", o)
	}
	if want := int64(19900 + 3*2000 + 4*1500); o.DeliveryFee != want {
		t.Errorf("delivery fee = %d, want %d", o.DeliveryFee, want)
	}
	// A dispatcher override wins; prepaid orders have nothing to collect.
	body := e.orderBody("C-2")
	body["delivery_fee"] = 0
	body["cod"] = map[string]any{"amount": 0, "currency": "RUB", "method": "prepaid"}
	e.decode(e.must(e.do("POST", "/api/v1/orders", "dispatcher", body), 201), &o)
	if o.DeliveryFee != 0 || o.PaymentStatus != "prepaid" {
		t.Errorf("override: %+v", o)
	}
	// A duplicate external id is a conflict.
	if r := e.do("POST", "/api/v1/orders", "dispatcher", e.orderBody("C-1")); r.Status != 409 || r.errorCode() != "conflict" {
		t.Errorf("duplicate external_id: %d %s", r.Status, r.Body)
	}
	var got struct {
		Customer struct{ Name, Phone, Email string }
		Items    []struct {
			SKU string
			Qty int
		}
		TimeWindow struct{ From, To string } `json:"time_window"`
	}
	e.decode(e.must(e.do("GET", "/api/v1/orders/"+itoa(o.ID), "dispatcher", nil), 200), &got)
	if got.Customer.Email != "anna@example.com" || len(got.Items) != 1 || got.Items[0].Qty != 1 || got.TimeWindow.From != "2026-11-23T07:00:00Z" {
		t.Errorf("read back = %+v", got)
	}
}

// TestBadInput: each bad request gets a 4xx with a JSON error naming the field, and nothing is stored.
func TestBadInput(t *testing.T) {
	e := newEnv(t)
	with := func(mod func(map[string]any)) map[string]any {
		b := e.orderBody("BAD")
		mod(b)
		return b
	}
	for _, test := range []struct {
		name  string
		body  any
		want  int
		field string
	}{
		{"malformed JSON", `{"external_id": "BAD", `, 400, ""},
		{"not an object", `[1, 2]`, 400, ""},
		{"trailing data", `{} {}`, 400, ""},
		{"empty body", ``, 400, ""},
		{"unknown field", with(func(b map[string]any) { b["colour"] = "red" }), 400, "colour"},
		{"wrong type", with(func(b map[string]any) { b["weight_kg"] = "heavy" }), 400, "weight_kg"},
		{"fractional money", with(func(b map[string]any) { b["cod"] = map[string]any{"amount": 10.5, "currency": "RUB", "method": "cash"} }), 400, ""},
		{"lat above 90", with(func(b map[string]any) { b["location"] = map[string]any{"lat": 91, "lng": 37} }), 422, "location.lat"},
		{"lat below -90", with(func(b map[string]any) { b["location"] = map[string]any{"lat": -90.5, "lng": 37} }), 422, "location.lat"},
		{"lng outside", with(func(b map[string]any) { b["location"] = map[string]any{"lat": 55, "lng": 180.1} }), 422, "location.lng"},
		{"lng missing", with(func(b map[string]any) { b["location"] = map[string]any{"lat": 55} }), 422, "location.lng"},
		{"window from = to", with(func(b map[string]any) {
			b["time_window"] = map[string]any{"from": "2026-11-23T10:00:00Z", "to": "2026-11-23T10:00:00Z"}
		}), 422, "time_window"},
		{"window from > to", with(func(b map[string]any) {
			b["time_window"] = map[string]any{"from": "2026-11-23T12:00:00Z", "to": "2026-11-23T10:00:00Z"}
		}), 422, "time_window"},
		{"window not a time", with(func(b map[string]any) { b["time_window"] = map[string]any{"from": "noon", "to": "evening"} }), 400, ""},
		{"negative money", with(func(b map[string]any) { b["cod"] = map[string]any{"amount": -100, "currency": "RUB", "method": "cash"} }), 422, "cod.amount"},
		{"negative fee", with(func(b map[string]any) { b["delivery_fee"] = -1 }), 422, "delivery_fee"},
		{"a barcode typed as money", with(func(b map[string]any) {
			b["cod"] = map[string]any{"amount": 4600000000017000, "currency": "RUB", "method": "cash"}
		}), 422, "cod.amount"},
		{"unknown currency", with(func(b map[string]any) { b["cod"] = map[string]any{"amount": 100, "currency": "XYZ", "method": "cash"} }), 422, "cod.currency"},
		{"foreign currency", with(func(b map[string]any) { b["cod"] = map[string]any{"amount": 100, "currency": "USD", "method": "cash"} }), 422, "cod.currency"},
		{"prepaid with an amount", with(func(b map[string]any) {
			b["cod"] = map[string]any{"amount": 100, "currency": "RUB", "method": "prepaid"}
		}), 422, "cod.amount"},
		{"unknown method", with(func(b map[string]any) {
			b["cod"] = map[string]any{"amount": 100, "currency": "RUB", "method": "barter"}
		}), 422, "cod.method"},
		{"bad phone", with(func(b map[string]any) { b["customer"] = map[string]any{"name": "A", "phone": "call me"} }), 422, "customer.phone"},
		{"no address", with(func(b map[string]any) { delete(b, "address") }), 422, "address"},
		{"negative weight", with(func(b map[string]any) { b["weight_kg"] = -1 }), 422, "weight_kg"},
		{"item without qty", with(func(b map[string]any) { b["items"] = []any{map[string]any{"name": "x"}} }), 422, "items[0].qty"},
		{"unknown depot", with(func(b map[string]any) { b["depot_id"] = 999 }), 422, "depot_id"},
		{"bad delivery date", with(func(b map[string]any) { delete(b, "time_window"); b["delivery_date"] = "23.11.2026" }), 422, "delivery_date"},
	} {
		r := e.do("POST", "/api/v1/orders", "dispatcher", test.body)
		if r.Status != test.want {
			t.Errorf("%s: status %d, want %d: %s", test.name, r.Status, test.want, r.Body)
			continue
		}
		var b struct {
			Error struct {
				Code, Message string
				Details       map[string]any
			}
		}
		if err := json.Unmarshal(r.Body, &b); err != nil || b.Error.Code == "" || b.Error.Message == "" || b.Error.Details == nil {
			t.Errorf("%s: error body %s", test.name, r.Body)
		}
		if test.field != "" && r.errorField() != test.field {
			t.Errorf("%s: details.field = %q, want %q (%s)", test.name, r.errorField(), test.field, r.Body)
		}
	}
	var list struct{ Items []orderOut }
	e.decode(e.must(e.do("GET", "/api/v1/orders", "dispatcher", nil), 200), &list)
	if len(list.Items) != 0 {
		t.Errorf("bad requests stored %d orders", len(list.Items))
	}
	// A body over 1 MiB is 413.
	big := `{"notes": "` + strings.Repeat("x", 1<<20) + `"}`
	if r := e.do("POST", "/api/v1/orders", "dispatcher", big); r.Status != 413 {
		t.Errorf("big body: status %d", r.Status)
	}
	// Unknown routes and ids answer in the same error shape.
	if r := e.do("GET", "/api/v1/orders/abc", "dispatcher", nil); r.Status != 404 || r.errorCode() != "not_found" {
		t.Errorf("non-numeric id: %d %s", r.Status, r.Body)
	}
	if r := e.do("GET", "/api/v1/orders/4242", "dispatcher", nil); r.Status != 404 {
		t.Errorf("unknown id: %d", r.Status)
	}
	// Couriers: a duplicate login is 409; a bad shift is 422.
	courier := map[string]any{"name": "Dup", "phone": "+7 916 000-00-00", "login": "courier1", "password": "pw-duplicate",
		"vehicle": map[string]any{"type": "bike", "capacity_kg": 20, "capacity_l": 50, "max_stops": 10},
		"shift":   map[string]any{"start": "09:00", "end": "18:00"}, "depot_id": e.depotID}
	if r := e.do("POST", "/api/v1/couriers", "dispatcher", courier); r.Status != 409 || r.errorCode() != "conflict" {
		t.Errorf("duplicate courier login: %d %s", r.Status, r.Body)
	}
	courier["login"], courier["shift"] = "fresh", map[string]any{"start": "25:00", "end": "18:00"}
	if r := e.do("POST", "/api/v1/couriers", "dispatcher", courier); r.Status != 422 || r.errorField() != "shift.start" {
		t.Errorf("bad shift: %d %s", r.Status, r.Body)
	}
}

func TestOrderLifecycle(t *testing.T) {
	e := newEnv(t)
	o := e.createOrder("L-1")
	path := "/api/v1/orders/" + itoa(o.ID) + "/status"

	// Skipping states is refused with the allowed ones named.
	r := e.must(e.do("POST", path, "dispatcher", map[string]any{"status": "delivered"}), 409)
	var conflict struct {
		Error struct{ Details struct{ Allowed []string } }
	}
	e.decode(r, &conflict)
	if strings.Join(conflict.Error.Details.Allowed, ",") != "confirmed,cancelled" {
		t.Errorf("allowed from new = %v", conflict.Error.Details.Allowed)
	}
	e.moveOrder(o.ID, "dispatcher", "confirmed", "awaiting_stock", "ready", "planned")
	e.assign(o.ID, "courier1")
	// Couriers set only their delivery statuses; a failure needs a reason.
	e.must(e.do("POST", path, "courier1", map[string]any{"status": "cancelled", "reason": "x"}), 403)
	e.moveOrder(o.ID, "courier1", "out_for_delivery")
	e.must(e.do("POST", path, "courier1", map[string]any{"status": "failed_attempt"}), 422)
	// The phone was offline: the tap time is kept.
	e.must(e.do("POST", path, "courier1", map[string]any{"status": "failed_attempt", "reason": "no answer", "comment": "called twice", "at": "2026-11-23T07:01:00Z"}), 200)
	e.must(e.do("POST", path, "courier1", map[string]any{"status": "ready"}), 403)
	e.moveOrder(o.ID, "dispatcher", "ready")
	var after orderOut
	e.decode(e.must(e.do("GET", "/api/v1/orders/"+itoa(o.ID), "dispatcher", nil), 200), &after)
	if after.CourierID != nil {
		t.Errorf("back to ready, the order still has courier %d", *after.CourierID)
	}
	e.moveOrder(o.ID, "dispatcher", "planned")
	e.assign(o.ID, "courier1")
	e.moveOrder(o.ID, "courier1", "out_for_delivery", "delivered")
	e.decode(e.must(e.do("GET", "/api/v1/orders/"+itoa(o.ID), "courier1", nil), 200), &after)
	if after.Status != "delivered" || after.PaymentStatus != "collected" {
		t.Errorf("delivered order: %+v", after)
	}
	e.must(e.do("POST", path, "dispatcher", map[string]any{"status": "cancelled", "reason": "late"}), 409)
	e.must(e.do("PATCH", "/api/v1/orders/"+itoa(o.ID), "dispatcher", map[string]any{"notes": "too late"}), 409)

	var hist struct {
		Items []struct {
			Kind       string
			FromStatus string `json:"from_status"`
			ToStatus   string `json:"to_status"`
			At         string
			Reason     string
			Comment    string
			ActorRole  string `json:"actor_role"`
		}
	}
	e.decode(e.must(e.do("GET", "/api/v1/orders/"+itoa(o.ID)+"/history", "courier1", nil), 200), &hist)
	var trail []string
	for _, h := range hist.Items {
		trail = append(trail, h.Kind+":"+h.ToStatus)
		if h.Reason == "no answer" && (h.Comment != "called twice" || h.At != "2026-11-23T07:01:00Z" || h.ActorRole != "courier") {
			t.Errorf("failed attempt event = %+v", h)
		}
	}
	want := "created:new status:confirmed status:awaiting_stock status:ready status:planned status:out_for_delivery " +
		"status:failed_attempt status:ready status:planned status:out_for_delivery status:delivered payment:delivered"
	if strings.Join(trail, " ") != want {
		t.Errorf("history:\n got %s\nwant %s", strings.Join(trail, " "), want)
	}
}

func TestUpdateOrder(t *testing.T) {
	e := newEnv(t)
	o := e.createOrder("U-1")
	p := "/api/v1/orders/" + itoa(o.ID)
	var got struct {
		orderOut
		Notes      string
		TimeWindow *struct{ From string } `json:"time_window"`
		Overridden bool                   `json:"delivery_fee_overridden"`
	}
	e.decode(e.must(e.do("PATCH", p, "dispatcher", map[string]any{"notes": "call first", "weight_kg": 2, "version": 1}), 200), &got)
	if got.Notes != "call first" || got.Version != 2 || got.DeliveryFee != 19900+4*1500 {
		t.Errorf("after patch: %+v", got)
	}
	// A stale version is a conflict; null clears the window and returns the fee to the tariff.
	e.must(e.do("PATCH", p, "dispatcher", map[string]any{"notes": "stale", "version": 1}), 409)
	e.must(e.do("PATCH", p, "dispatcher", map[string]any{"delivery_fee": 100}), 200)
	e.decode(e.must(e.do("PATCH", p, "dispatcher", map[string]any{"time_window": nil, "delivery_date": "2026-11-24", "delivery_fee": nil}), 200), &got)
	if got.TimeWindow != nil || got.DeliveryDate != "2026-11-24" || got.Overridden || got.DeliveryFee != 19900+4*1500 {
		t.Errorf("after clearing: %+v", got)
	}
	e.must(e.do("PATCH", p, "dispatcher", map[string]any{"location": map[string]any{"lat": 100, "lng": 0}}), 422)
}

func TestListOrders(t *testing.T) {
	e := newEnv(t)
	var ids []int64
	for i := range 7 {
		o := e.createOrder("P-" + itoa(int64(i)))
		ids = append(ids, o.ID)
	}
	e.moveOrder(ids[2], "dispatcher", "confirmed")
	e.moveOrder(ids[5], "dispatcher", "confirmed")
	var seen []int64
	cursor := ""
	for pages := 0; ; pages++ {
		var p struct {
			Items      []orderOut
			NextCursor *string `json:"next_cursor"`
		}
		e.decode(e.must(e.do("GET", "/api/v1/orders?limit=3"+cursor, "dispatcher", nil), 200), &p)
		for _, o := range p.Items {
			seen = append(seen, o.ID)
		}
		if p.NextCursor == nil {
			break
		}
		cursor = "&cursor=" + *p.NextCursor
		if pages > 5 {
			t.Fatal("pagination does not end")
		}
	}
	if len(seen) != 7 || seen[0] != ids[0] || seen[6] != ids[6] {
		t.Errorf("paged through %v, want %v", seen, ids)
	}
	var p struct{ Items []orderOut }
	e.decode(e.must(e.do("GET", "/api/v1/orders?status=confirmed&date=2026-11-23", "dispatcher", nil), 200), &p)
	if len(p.Items) != 2 || p.Items[0].ID != ids[2] || p.Items[1].ID != ids[5] {
		t.Errorf("status filter: %+v", p.Items)
	}
	e.decode(e.must(e.do("GET", "/api/v1/orders?q=P-4", "dispatcher", nil), 200), &p)
	if len(p.Items) != 1 || p.Items[0].ID != ids[4] {
		t.Errorf("search: %+v", p.Items)
	}
	e.decode(e.must(e.do("GET", "/api/v1/orders?date=2026-11-24", "dispatcher", nil), 200), &p)
	if len(p.Items) != 0 {
		t.Errorf("date filter: %+v", p.Items)
	}
	e.must(e.do("GET", "/api/v1/orders?status=lost", "dispatcher", nil), 422)
	e.must(e.do("GET", "/api/v1/orders?limit=501", "dispatcher", nil), 422)
	e.must(e.do("GET", "/api/v1/orders?cursor=abc", "dispatcher", nil), 422)
}

func TestIdempotencyKey(t *testing.T) { backends(t, testIdempotencyKey) }

func testIdempotencyKey(t *testing.T, e *env) {
	body := e.orderBody("I-1")
	first := e.must(e.do("POST", "/api/v1/orders", "dispatcher", body, "Idempotency-Key", "k-1"), 201)
	again := e.must(e.do("POST", "/api/v1/orders", "dispatcher", body, "Idempotency-Key", "k-1"), 201)
	if string(first.Body) != string(again.Body) || again.Header.Get("Idempotent-Replayed") != "true" {
		t.Errorf("replay differs:\n%s\n%s", first.Body, again.Body)
	}
	other := e.orderBody("I-2")
	if r := e.do("POST", "/api/v1/orders", "dispatcher", other, "Idempotency-Key", "k-1"); r.Status != 422 || r.errorCode() != "idempotency_key_reused" {
		t.Errorf("same key, other body: %d %s", r.Status, r.Body)
	}
	// Keys are per user: another user's same key is a new request.
	e.must(e.do("POST", "/api/v1/orders", "admin", other, "Idempotency-Key", "k-1"), 201)

	// A retried status change applies once: the second answer is the first one again.
	o := e.createOrder("I-3")
	for range 3 {
		e.must(e.do("POST", "/api/v1/orders/"+itoa(o.ID)+"/status", "dispatcher", map[string]any{"status": "confirmed"}, "Idempotency-Key", "st-1"), 200)
	}
	var hist struct{ Items []any }
	e.decode(e.must(e.do("GET", "/api/v1/orders/"+itoa(o.ID)+"/history", "dispatcher", nil), 200), &hist)
	if len(hist.Items) != 2 {
		t.Errorf("history after 3 retries has %d events, want 2", len(hist.Items))
	}
	// Concurrent retries of one key create one order.
	var wg sync.WaitGroup
	statuses := make([]int, 20)
	for i := range statuses {
		wg.Add(1)
		go func() {
			defer wg.Done()
			statuses[i] = e.do("POST", "/api/v1/orders", "dispatcher", e.orderBody("I-4"), "Idempotency-Key", "k-race").Status
		}()
	}
	wg.Wait()
	var list struct{ Items []orderOut }
	e.decode(e.must(e.do("GET", "/api/v1/orders?q=I-4", "dispatcher", nil), 200), &list)
	if len(list.Items) != 1 {
		t.Errorf("concurrent retries created %d orders", len(list.Items))
	}
	for _, st := range statuses {
		if st != 201 && st != 409 {
			t.Errorf("concurrent retry answered %d", st)
		}
	}
}

// TestConcurrentStatusChanges: 200 goroutines change one order's status at
// once; the history is one unbroken chain through the state machine and every
// successful change has its row.
func TestConcurrentStatusChanges(t *testing.T) { backends(t, testConcurrentStatusChanges) }

func testConcurrentStatusChanges(t *testing.T, e *env) {
	o := e.createOrder("S-1")
	e.moveOrder(o.ID, "dispatcher", "confirmed", "ready")
	p := "/api/v1/orders/" + itoa(o.ID) + "/status"
	var wg sync.WaitGroup
	var mu sync.Mutex
	ok, conflicts := 0, 0
	for i := range 200 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			to := "planned"
			if i%2 == 1 {
				to = "ready"
			}
			r := e.do("POST", p, "dispatcher", map[string]any{"status": to})
			mu.Lock()
			defer mu.Unlock()
			switch r.Status {
			case 200:
				ok++
			case 409:
				conflicts++
			default:
				t.Errorf("status %d: %s", r.Status, r.Body)
			}
		}()
	}
	wg.Wait()
	var hist struct {
		Items []struct {
			Kind       string
			FromStatus string `json:"from_status"`
			ToStatus   string `json:"to_status"`
		}
	}
	e.decode(e.must(e.do("GET", "/api/v1/orders/"+itoa(o.ID)+"/history", "dispatcher", nil), 200), &hist)
	if ok == 0 || ok+conflicts != 200 {
		t.Fatalf("ok %d, conflicts %d", ok, conflicts)
	}
	if got := len(hist.Items); got != 3+ok {
		t.Errorf("history has %d rows, want %d (3 before + %d changes)", got, 3+ok, ok)
	}
	for i := 1; i < len(hist.Items); i++ {
		prev, cur := hist.Items[i-1], hist.Items[i]
		if cur.FromStatus != prev.ToStatus {
			t.Fatalf("history breaks at %d: %s -> %s after ... -> %s", i, cur.FromStatus, cur.ToStatus, prev.ToStatus)
		}
	}
	var final orderOut
	e.decode(e.must(e.do("GET", "/api/v1/orders/"+itoa(o.ID), "dispatcher", nil), 200), &final)
	if final.Version != int64(3+ok) || final.Status != hist.Items[len(hist.Items)-1].ToStatus {
		t.Errorf("final order %+v after %d changes", final, ok)
	}
}

func TestImportOrders(t *testing.T) {
	e := newEnv(t)
	csv := "external_id,customer_name,customer_phone,address,lat,lng,window_from,window_to,weight_kg,cod_amount,cod_method,items\n" +
		"IMP-1,Ivan,+7 900 000-00-01,Tverskaya 1,55.76,37.61,2026-11-23 10:00,2026-11-23 12:00,1.5,150000,cash,A1|Kettle|1|4600000000017\n" +
		"IMP-2,Olga,+7 900 000-00-02,Arbat 5,95.0,37.60,2026-11-23 10:00,2026-11-23 12:00,1,0,prepaid,\n" +
		"IMP-3,Petr,+7 900 000-00-03,Lesnaya 3,55.78,37.59,2026-11-23 14:00,2026-11-23 16:00,heavy,0,,\n" +
		"IMP-4,Nina,+7 900 000-00-04,Pokrovka 9,55.758,37.645,2026-11-23 14:00,2026-11-23 16:00,3,99900,card,B2|Lamp|2|;C3|Bulb|4|\n"
	var res struct {
		Created, Existing, Failed int
		Rows                      []struct {
			Row        int
			ExternalID string `json:"external_id"`
			Outcome    string
			Error      *struct{ Message string }
		}
	}
	send := func() {
		e.decode(e.must(e.do("POST", "/api/v1/orders/import", "dispatcher", csv, "Content-Type", "text/csv"), 200), &res)
	}
	send()
	if res.Created != 2 || res.Failed != 2 || res.Existing != 0 {
		t.Fatalf("first import: %+v", res)
	}
	if r := res.Rows[1]; r.Outcome != "error" || r.Row != 3 || !strings.Contains(r.Error.Message, "lat") {
		t.Errorf("row IMP-2: %+v %+v", r, r.Error)
	}
	if r := res.Rows[2]; r.Outcome != "error" || !strings.Contains(r.Error.Message, "weight_kg") {
		t.Errorf("row IMP-3: %+v", r)
	}
	send()
	if res.Created != 0 || res.Existing != 2 || res.Failed != 2 {
		t.Errorf("second import: %+v", res)
	}
	var list struct{ Items []orderOut }
	e.decode(e.must(e.do("GET", "/api/v1/orders?q=IMP", "dispatcher", nil), 200), &list)
	if len(list.Items) != 2 {
		t.Errorf("%d orders after two imports, want 2", len(list.Items))
	}
	// JSON: per-row decode errors, valid rows kept.
	body := map[string]any{"orders": []any{e.orderBody("IMP-5"), map[string]any{"external_id": "IMP-6", "weight_kg": "x"}, e.orderBody("IMP-1")}}
	e.decode(e.must(e.do("POST", "/api/v1/orders/import", "dispatcher", body), 200), &res)
	if res.Created != 1 || res.Failed != 1 || res.Existing != 1 {
		t.Errorf("json import: %+v", res)
	}
	e.must(e.do("POST", "/api/v1/orders/import", "dispatcher", "external_id,shoe_size\nX,42\n", "Content-Type", "text/csv"), 422)
	e.must(e.do("POST", "/api/v1/orders/import", "dispatcher", "<orders/>", "Content-Type", "application/xml"), 422)
}

// TestPaidByAtTheDoor: a customer who pays by card instead of cash makes a
// card receivable, not a cash debt, and the history says so.
func TestPaidByAtTheDoor(t *testing.T) {
	e := newEnv(t)
	o := e.createOrder("PB-1") // 2499.00 cash on delivery
	e.moveOrder(o.ID, "dispatcher", "confirmed", "ready", "planned")
	e.assign(o.ID, "courier1")
	e.moveOrder(o.ID, "courier1", "out_for_delivery")
	p := "/api/v1/orders/" + itoa(o.ID) + "/status"
	e.must(e.do("POST", p, "courier1", map[string]any{"status": "delivered", "paid_by": "bitcoin"}), 422)
	e.must(e.do("POST", p, "courier1", map[string]any{"status": "failed_attempt", "reason": "x", "paid_by": "card"}), 422)
	var got struct {
		COD struct{ Method string }
	}
	if r := e.do("POST", p, "courier1", map[string]any{"status": "delivered", "paid_by": "card"}); r.Status != 422 || r.errorField() != "payment_ref" {
		t.Errorf("card instead of cash without the terminal slip: %d %s", r.Status, r.Body)
	}
	e.decode(e.must(e.do("POST", p, "courier1", map[string]any{"status": "delivered", "paid_by": "card", "payment_ref": "RRN 123456"}), 200), &got)
	if got.COD.Method != "card" {
		t.Errorf("cod after paying by card: %+v", got)
	}
	var bal struct{ Cash int64 }
	e.decode(e.must(e.do("GET", "/api/v1/cashdesk/couriers/"+itoa(e.courier["courier1"])+"/balance", "courier1", nil), 200), &bal)
	if bal.Cash != 0 {
		t.Errorf("the courier owes %d in cash for an order paid by card", bal.Cash)
	}
	var hist struct{ Items []struct{ Comment string } }
	e.decode(e.must(e.do("GET", "/api/v1/orders/"+itoa(o.ID)+"/history", "dispatcher", nil), 200), &hist)
	if c := hist.Items[len(hist.Items)-2].Comment; !strings.Contains(c, "paid by card instead of cash (terminal slip RRN 123456)") {
		t.Errorf("history comment %q", c)
	}
}

// TestIdempotencyKeyAfterCrash: a request's key is held only by its open
// transaction. While it runs a retry is told so (PostgreSQL); once the
// transaction is gone without a commit (what a killed server's is) the
// retry runs at once, not ten minutes later. Keys of logins are never
// stored (their answers are tokens).
func TestIdempotencyKeyAfterCrash(t *testing.T) { backends(t, testIdempotencyKeyAfterCrash) }

func testIdempotencyKeyAfterCrash(t *testing.T, e *env) {
	var me struct{ ID int64 }
	e.decode(e.must(e.do("GET", "/api/v1/me", "dispatcher", nil), 200), &me)
	scope := "user:" + itoa(me.ID)
	body := e.orderBody("AB-1")
	tx, prev, err := e.db.BeginIdempotent(t.Context(), courier.IdempotencyRecord{Scope: scope, Key: "k-crash", RequestHash: requestHash(t, e, body)})
	if err != nil || prev != nil {
		t.Fatalf("begin: %+v %v", prev, err)
	}
	if e.db.Backend() == "postgres" { // SQLite's retry would wait for the writer
		r := e.must(e.do("POST", "/api/v1/orders", "dispatcher", body, "Idempotency-Key", "k-crash"), 409)
		if !strings.Contains(string(r.Body), "still being processed") {
			t.Errorf("retry while the first runs: %s", r.Body)
		}
	}
	if err := tx.Rollback(); err != nil {
		t.Fatal(err)
	}
	first := e.must(e.do("POST", "/api/v1/orders", "dispatcher", body, "Idempotency-Key", "k-crash"), 201)
	again := e.must(e.do("POST", "/api/v1/orders", "dispatcher", body, "Idempotency-Key", "k-crash"), 201)
	if again.Header.Get("Idempotent-Replayed") != "true" || string(first.Body) != string(again.Body) {
		t.Errorf("the retry was not replayed: %s / %s", first.Body, again.Body)
	}

	e.must(e.do("POST", "/api/v1/auth/login", "", map[string]any{"login": "cashier", "password": "secret-cashier"}, "Idempotency-Key", "login-1"), 200)
	if rec, err := e.db.IdempotencyRecordOf(t.Context(), "anon:192.0.2.1", "login-1"); courier.ErrorCode(err) != courier.ENOTFOUND {
		t.Errorf("a login's answer was stored under its key: %+v %v", rec, err)
	}
}

// TestIdempotentAnswerCommitsWithEffects: the handler's writes and the stored
// answer commit together; a 4xx answer is stored with whatever its handler
// wrote before failing, and a retry replays it.
func TestIdempotentAnswerCommitsWithEffects(t *testing.T) {
	backends(t, func(t *testing.T, e *env) {
		o := e.createOrder("EF-1")
		// A status change that is not allowed: 409, stored and replayed, the order unchanged.
		for i := range 2 {
			r := e.must(e.do("POST", "/api/v1/orders/"+itoa(o.ID)+"/status", "dispatcher", map[string]any{"status": "delivered"}, "Idempotency-Key", "bad-move"), 409)
			if (r.Header.Get("Idempotent-Replayed") == "true") != (i == 1) {
				t.Errorf("try %d: replayed=%q", i, r.Header.Get("Idempotent-Replayed"))
			}
		}
		var got orderOut
		e.decode(e.must(e.do("GET", "/api/v1/orders/"+itoa(o.ID), "dispatcher", nil), 200), &got)
		if got.Status != "new" {
			t.Errorf("order after a refused move: %s", got.Status)
		}
		// A duplicate external_id with a fresh key: 409, and the failed insert
		// does not spoil the request's transaction (the answer is stored).
		r := e.must(e.do("POST", "/api/v1/orders", "dispatcher", e.orderBody("EF-1"), "Idempotency-Key", "dup"), 409)
		var me struct{ ID int64 }
		e.decode(e.must(e.do("GET", "/api/v1/me", "dispatcher", nil), 200), &me)
		if rec, err := e.db.IdempotencyRecordOf(t.Context(), "user:"+itoa(me.ID), "dup"); err != nil || rec.Status != 409 || string(rec.Body) != string(r.Body) {
			t.Errorf("the 409's answer: %+v %v", rec, err)
		}
	})
}

// requestHash is the digest the idempotency layer keeps for a POST /api/v1/orders with body.
func requestHash(t *testing.T, e *env, body any) string {
	b, _ := json.Marshal(body)
	sum := sha256.New()
	fmt.Fprintf(sum, "%s %s %s\n", "POST", "/api/v1/orders", "application/json")
	sum.Write(b)
	return hex.EncodeToString(sum.Sum(nil))
}

// TestClientWentAway: a request whose client is gone before its answer (the
// context is cancelled) is answered 499, not 500: nothing failed on our side.
func TestClientWentAway(t *testing.T) {
	e := newEnv(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if r := e.doCtx(ctx, "GET", "/api/v1/orders", "dispatcher", nil); r.Status != 499 {
		t.Errorf("a request of a client gone: %d %s, want 499", r.Status, r.Body)
	}
	if r := e.do("GET", "/api/v1/orders", "dispatcher", nil); r.Status != 200 {
		t.Errorf("the next request: %d %s", r.Status, r.Body)
	}
}
