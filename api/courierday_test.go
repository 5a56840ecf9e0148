package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"mime/multipart"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/courierhq/courier"
)

// The courier's day through the phone API: shifts, stop events live and as
// an offline batch, proofs, the sheet completing and the cash desk seeing
// what was collected at the door.

var eventSeq atomic.Int64

// newEventID returns a fresh UUID-shaped client event id.
func newEventID() string {
	return fmt.Sprintf("00000000-0000-4000-8000-%012d", eventSeq.Add(1))
}

// at moves the clock and signs everyone in again (access tokens live 15 minutes).
func (e *env) at(t time.Time) {
	e.t.Helper()
	e.clock.Set(t)
	pw := map[string]string{"admin": "admin-pass", "dispatcher": "secret-dispatcher", "cashier": "secret-cashier"}
	for login := range e.tokens {
		p, ok := pw[login]
		if !ok {
			p = "pw-" + login
		}
		e.login(login, p)
	}
}

// pos is a phone position.
func pos(lat, lng float64) map[string]any {
	return map[string]any{"lat": lat, "lng": lng, "accuracy_m": 8}
}

type eventResult struct {
	ClientEventID  string  `json:"client_event_id"`
	Status         string  `json:"status"`
	OriginalStatus *string `json:"original_status"`
	Error          *struct {
		Code    string
		Message string
		Details map[string]any
	}
	Stop *struct {
		OrderID   int64 `json:"order_id"`
		Status    string
		Actions   []string
		AmountDue int64 `json:"amount_due"`
		Collected int64
	}
	Shift *struct {
		ID     int64
		Status string
	}
	CompletedSheets []int64 `json:"completed_sheets"`
}

// event posts one event to its direct endpoint as login and returns the response.
func (e *env) event(login string, action string, orderID int64, body map[string]any) *response {
	e.t.Helper()
	if body == nil {
		body = map[string]any{}
	}
	if _, ok := body["client_event_id"]; !ok {
		body["client_event_id"] = newEventID()
	}
	if _, ok := body["at"]; !ok {
		body["at"] = e.clock.Now().Format(time.RFC3339Nano)
	}
	path := "/api/v1/courier/shift/" + strings.TrimPrefix(action, "shift_")
	if orderID != 0 {
		path = "/api/v1/courier/stops/" + itoa(orderID) + "/" + action
	}
	return e.do("POST", path, login, body)
}

// applied posts an event and requires it applied.
func (e *env) applied(login string, action string, orderID int64, body map[string]any) eventResult {
	e.t.Helper()
	var r eventResult
	e.decode(e.must(e.event(login, action, orderID, body), 200), &r)
	if r.Status != "applied" {
		e.t.Fatalf("%s %d: %+v", action, orderID, r)
	}
	return r
}

type syncOut struct {
	ClockOffsetMS int64 `json:"clock_offset_ms"`
	Results       []eventResult
}

func (e *env) sync(login string, body map[string]any) syncOut {
	e.t.Helper()
	var out syncOut
	e.decode(e.must(e.do("POST", "/api/v1/courier/sync", login, body), 200), &out)
	return out
}

// upload sends a proof as multipart/form-data.
func (e *env) upload(login string, orderID int64, kind, id string, file []byte) *response {
	e.t.Helper()
	var buf bytes.Buffer
	w := multipart.NewWriter(&buf)
	_ = w.WriteField("kind", kind)
	if id != "" {
		_ = w.WriteField("proof_id", id)
	}
	fw, _ := w.CreateFormFile("file", kind+".bin")
	_, _ = fw.Write(file)
	_ = w.Close()
	return e.do("POST", "/api/v1/courier/stops/"+itoa(orderID)+"/proofs", login, buf.Bytes(), "Content-Type", w.FormDataContentType())
}

func pngSignature() []byte {
	img := image.NewGray(image.Rect(0, 0, 60, 20))
	for x := range 60 {
		img.Set(x, 10+x%5, color.White)
	}
	var b bytes.Buffer
	_ = png.Encode(&b, img)
	return b.Bytes()
}

func jpegPhoto() []byte {
	img := image.NewRGBA(image.Rect(0, 0, 32, 24))
	var b bytes.Buffer
	_ = jpeg.Encode(&b, img, nil)
	return b.Bytes()
}

type todayOut struct {
	Date  string
	Shift *struct {
		ID     int64
		Status string
	}
	CashOnHand struct{ Amount int64 } `json:"cash_on_hand"`
	Sheets     []struct {
		ID       int64
		Number   string
		Status   string
		Progress struct{ Total, Delivered, Failed, Remaining int }
		Stops    []struct {
			OrderID int64 `json:"order_id"`
			Status  string
			Actions []string
			Goods   []struct {
				Item    int
				Barcode string
				Qty     int
				Price   int64
			}
			Collect struct {
				Amount int64
				Method string
			}
			AddressDetails struct{ Entrance, Floor, Intercom string } `json:"address_details"`
			Report         *struct {
				AmountDue   int64 `json:"amount_due"`
				ShortAtDoor int64 `json:"short_at_door"`
			}
		}
	}
}

// barcodes lists an order's barcodes, one per piece; skip names lines to leave out once each.
func (e *env) barcodes(orderID int64, skip ...int) []string {
	e.t.Helper()
	var o struct {
		Items []struct {
			Qty     int
			Barcode string
		}
	}
	e.decode(e.must(e.do("GET", "/api/v1/orders/"+itoa(orderID), "dispatcher", nil), 200), &o)
	var out []string
	for i, it := range o.Items {
		n := it.Qty
		if slices.Contains(skip, i) {
			n--
		}
		for range n {
			out = append(out, it.Barcode)
		}
	}
	return out
}

func (e *env) today(login string) todayOut {
	e.t.Helper()
	var t todayOut
	e.decode(e.must(e.do("GET", "/api/v1/courier/today?date=2026-11-23", login, nil), 200), &t)
	return t
}

// dayFixture is three couriers, each alone in a zone, with three orders
// each, planned and published.
type dayFixture struct {
	sheets map[string]sheetOut // by courier login
	orders map[string][]int64  // by courier login, in stop order
}

// zoneBox is a square zone east of lng0.
func zoneBox(lng0 float64) string {
	return fmt.Sprintf(`[[[%[1]g,55.70],[%[2]g,55.70],[%[2]g,55.76],[%[1]g,55.76],[%[1]g,55.70]]]`, lng0, lng0+0.05)
}

// planDay plans the 23rd for three couriers and publishes it, after
// beforePublish when given.
func (e *env) planDay(mods map[string]func(i int, b map[string]any), beforePublish ...func()) dayFixture {
	e.t.Helper()
	var c3 struct{ ID int64 }
	e.decode(e.must(e.do("POST", "/api/v1/couriers", "dispatcher", map[string]any{"name": "Courier courier3", "phone": "+7 916 555-00-33",
		"login": "courier3", "password": "pw-courier3", "vehicle": map[string]any{"type": "car", "capacity_kg": 200, "capacity_l": 500, "max_stops": 30},
		"shift": map[string]any{"start": "09:00", "end": "18:00"}, "depot_id": e.depotID}), 201), &c3)
	e.courier["courier3"] = c3.ID
	e.login("courier3", "pw-courier3")
	logins := []string{"courier1", "courier2", "courier3"}
	for k, login := range logins {
		lng0 := 37.55 + 0.05*float64(k)
		e.must(e.do("POST", "/api/v1/zones", "dispatcher", zoneFeature("Z"+login, zoneBox(lng0),
			map[string]any{"courier_ids": []int64{e.courier[login]}})), 201)
		for i := range 3 {
			e.readyOrder(fmt.Sprintf("DAY-%s-%d", login, i), func(b map[string]any) {
				b["location"] = map[string]any{"lat": 55.72 + 0.008*float64(i), "lng": lng0 + 0.02 + 0.004*float64(i)}
				b["weight_kg"] = 5
				b["address_details"] = map[string]any{"entrance": "2", "floor": "5", "apartment": "12", "intercom": "12K", "comment": "ring twice"}
				if m := mods[login]; m != nil {
					m(i, b)
				}
			})
		}
	}
	var p planOut
	e.decode(e.must(e.do("POST", "/api/v1/plans", "dispatcher", map[string]any{"date": "2026-11-23", "depot_id": e.depotID, "time_limit_s": 5}), 202), &p)
	p = e.waitPlan(p.ID)
	if p.Status != "done" || len(p.Unassigned) != 0 || len(p.Sheets) != 3 {
		e.t.Fatalf("plan: %+v", p)
	}
	for _, f := range beforePublish {
		f()
	}
	e.must(e.do("POST", "/api/v1/plans/"+itoa(p.ID)+"/publish", "dispatcher", nil), 200)
	f := dayFixture{sheets: map[string]sheetOut{}, orders: map[string][]int64{}}
	for _, sh := range p.Sheets {
		for _, login := range logins {
			if e.courier[login] == sh.CourierID {
				f.sheets[login] = sh
				for _, st := range sh.Stops {
					f.orders[login] = append(f.orders[login], st.OrderID)
				}
			}
		}
	}
	if len(f.sheets) != 3 {
		e.t.Fatalf("sheets by courier: %+v", f.sheets)
	}
	return f
}

// TestCourierDay is a whole day through HTTP: plan and publish; three
// couriers start their shifts; one works online, one offline (its events go
// as one sync batch, then the same batch again), one hands stops back;
// deliveries with scans and proofs, one partial, one failed with a
// reschedule, one short collection, one paid by card; the sheets complete;
// the cash desk scan shows expected, reported and counted; settlement.
func TestCourierDay(t *testing.T) {
	backends(t, func(t *testing.T, e *env) {
		ctx := context.Background()
		// Courier 1's orders: two lines of goods with prices; courier 2's
		// first order is prepaid; courier 3's are plain parcels.
		f := e.planDay(map[string]func(int, map[string]any){
			"courier1": func(i int, b map[string]any) {
				b["items"] = []any{
					map[string]any{"sku": "CUP", "name": "Cup", "qty": 2, "barcode": fmt.Sprintf("C%d", i), "price": 20000},
					map[string]any{"sku": "POT", "name": "Pot", "qty": 1, "barcode": fmt.Sprintf("P%d", i), "price": 60000},
				}
				b["cod"] = map[string]any{"amount": 100000, "currency": "RUB", "method": "cash"}
			},
			"courier2": func(i int, b map[string]any) {
				b["items"] = []any{map[string]any{"sku": "BOX", "name": "Box", "qty": 1, "barcode": fmt.Sprintf("B%d", i)}}
				b["cod"] = map[string]any{"amount": 150000, "currency": "RUB", "method": "cash"}
			},
			"courier3": func(i int, b map[string]any) { b["items"] = []any{} },
		})

		// Before the shift the stops are listed with nothing to do yet.
		td := e.today("courier1")
		if td.Shift != nil || len(td.Sheets) != 1 || td.Sheets[0].Status != "published" || len(td.Sheets[0].Stops) != 3 {
			t.Fatalf("today before the shift: %+v", td)
		}
		st0 := td.Sheets[0].Stops[0]
		if len(st0.Actions) != 0 || st0.Collect.Amount != 100000 || st0.Collect.Method != "cash" || len(st0.Goods) != 2 ||
			st0.Goods[0].Price != 20000 || st0.AddressDetails.Intercom != "12K" {
			t.Fatalf("a stop before the shift: %+v", st0)
		}
		if r := e.event("courier1", "arrive", st0.OrderID, map[string]any{"position": pos(55.72, 37.57)}); r.Status != 409 {
			t.Fatalf("arriving before the shift: %d %s", r.Status, r.Body)
		}
		// Courier 2 may not see courier 1's day nor report on its stops: the
		// answer is the same as for an order that does not exist.
		if r := e.event("courier2", "arrive", st0.OrderID, nil); r.Status != 404 {
			t.Fatalf("another courier's stop: %d %s", r.Status, r.Body)
		}
		if r := e.event("courier2", "arrive", 999999, nil); r.Status != 404 {
			t.Fatalf("a missing stop: %d %s", r.Status, r.Body)
		}

		// --- Courier 1 works online. --------------------------------------
		e.at(day.Add(7*time.Hour + 5*time.Minute))
		sr := e.applied("courier1", "shift_start", 0, map[string]any{"position": pos(55.7296, 37.6453)})
		if sr.Shift == nil || sr.Shift.Status != "open" {
			t.Fatalf("shift start: %+v", sr)
		}
		a1, a2, a3 := f.orders["courier1"][0], f.orders["courier1"][1], f.orders["courier1"][2]
		td = e.today("courier1")
		if td.Shift == nil || td.Sheets[0].Status != "active" || !slices.Equal(td.Sheets[0].Stops[0].Actions, []string{"arrive", "deliver", "fail"}) {
			t.Fatalf("today after the shift start: %+v", td)
		}
		e.at(day.Add(7*time.Hour + 20*time.Minute))
		r := e.applied("courier1", "arrive", a1, map[string]any{"position": pos(55.72, 37.57)})
		if !slices.Equal(r.Stop.Actions, []string{"deliver", "fail"}) {
			t.Errorf("after arriving: %+v", r.Stop)
		}
		// A partial delivery: one cup refused, so 80,000 is due; signed on the screen.
		sig := newEventID()
		e.must(e.upload("courier1", a1, "signature", sig, pngSignature()), 201)
		e.must(e.upload("courier1", a1, "signature", sig, pngSignature()), 201) // a retried upload is the same proof
		e.at(day.Add(7*time.Hour + 25*time.Minute))
		deliver := map[string]any{"client_event_id": newEventID(), "position": pos(55.72, 37.57), "scanned_barcodes": e.barcodes(a1, 0),
			"refused": []any{map[string]any{"item": 0, "qty": 1}}, "collected": map[string]any{"amount": 80000, "method": "cash"},
			"recipient_name": "Anna", "proof_ids": []string{sig}, "at": e.clock.Now().Format(time.RFC3339)}
		r = e.applied("courier1", "deliver", a1, deliver)
		if r.Stop.Status != "delivered" || r.Stop.AmountDue != 80000 || r.Stop.Collected != 80000 {
			t.Errorf("partial delivery: %+v", r.Stop)
		}
		// The phone did not hear the answer and sends it again: the first answer, nothing twice.
		var dup eventResult
		e.decode(e.must(e.event("courier1", "deliver", a1, deliver), 200), &dup)
		if dup.Status != "duplicate" || dup.OriginalStatus == nil || *dup.OriginalStatus != "applied" || dup.Stop.Collected != 80000 {
			t.Errorf("a retried delivery: %+v", dup)
		}
		// Paid by card: the slip number is required.
		e.at(day.Add(7*time.Hour + 40*time.Minute))
		card := map[string]any{"scanned_barcodes": e.barcodes(a2), "collected": map[string]any{"amount": 100000, "method": "card"}}
		if r := e.event("courier1", "deliver", a2, card); r.Status != 422 || r.errorField() != "collected.payment_ref" {
			t.Fatalf("card without a slip: %d %s", r.Status, r.Body)
		}
		// The same event id with other content is another event: refused. A fixed report is a new event.
		card["collected"] = map[string]any{"amount": 100000, "method": "card", "payment_ref": "SLIP-7731"}
		if r := e.event("courier1", "deliver", a2, card); r.Status != 422 || r.errorField() != "client_event_id" {
			t.Fatalf("an event id reused for other content: %d %s", r.Status, r.Body)
		}
		delete(card, "client_event_id")
		e.applied("courier1", "deliver", a2, card)
		// The third customer asks for another day; a photo of the door.
		photo := newEventID()
		e.must(e.upload("courier1", a3, "photo", photo, jpegPhoto()), 201)
		e.at(day.Add(7*time.Hour + 55*time.Minute))
		r = e.applied("courier1", "fail", a3, map[string]any{"reason": "reschedule", "wished_date": "2026-11-25", "comment": "at work today",
			"proof_ids": []string{photo}})
		if r.Stop.Status != "failed_attempt" || len(r.CompletedSheets) != 1 || r.CompletedSheets[0] != f.sheets["courier1"].ID {
			t.Errorf("the last stop fails and the sheet completes: %+v", r)
		}
		// Deliver after fail, fail after deliver: conflicts with the state.
		if r := e.event("courier1", "deliver", a3, map[string]any{"scanned_barcodes": e.barcodes(a3),
			"collected": map[string]any{"amount": 100000, "method": "cash"}}); r.Status != 409 {
			t.Errorf("deliver after fail: %d %s", r.Status, r.Body)
		}
		if r := e.event("courier1", "fail", a1, map[string]any{"reason": "no_answer"}); r.Status != 409 {
			t.Errorf("fail after deliver: %d %s", r.Status, r.Body)
		}
		e.at(day.Add(8 * time.Hour))
		e.applied("courier1", "shift_end", 0, map[string]any{"position": pos(55.7296, 37.6453)})
		td = e.today("courier1")
		if td.Shift == nil || td.Shift.Status != "ended" || td.Sheets[0].Status != "completed" || td.CashOnHand.Amount != 80000 ||
			td.Sheets[0].Progress != (struct{ Total, Delivered, Failed, Remaining int }{3, 2, 1, 0}) {
			t.Errorf("courier 1 at the end of the day: %+v", td)
		}

		// --- Courier 2 works offline: one batch, then the same batch again.
		b1, b2, b3 := f.orders["courier2"][0], f.orders["courier2"][1], f.orders["courier2"][2]
		tm := func(min int) string {
			return day.Add(7*time.Hour + time.Duration(min)*time.Minute).Format(time.RFC3339)
		}
		batch := map[string]any{"sent_at": day.Add(9 * time.Hour).Format(time.RFC3339), "events": []any{
			map[string]any{"client_event_id": newEventID(), "action": "shift_start", "at": tm(10), "position": pos(55.7296, 37.6453)},
			map[string]any{"client_event_id": newEventID(), "action": "arrive", "order_id": b1, "at": tm(30)},
			// A short collection: 150,000 due, 140,000 taken.
			map[string]any{"client_event_id": newEventID(), "action": "deliver", "order_id": b1, "at": tm(35), "scanned_barcodes": e.barcodes(b1),
				"collected": map[string]any{"amount": 140000, "method": "cash"}, "recipient_name": "Boris"},
			// A typo on the phone: the wrong barcode is refused, the rest go on.
			map[string]any{"client_event_id": newEventID(), "action": "deliver", "order_id": b2, "at": tm(50), "scanned_barcodes": []string{"B9"},
				"collected": map[string]any{"amount": 150000, "method": "cash"}},
			map[string]any{"client_event_id": newEventID(), "action": "deliver", "order_id": b2, "at": tm(52), "scanned_barcodes": e.barcodes(b2),
				"collected": map[string]any{"amount": 150000, "method": "cash"}},
			map[string]any{"client_event_id": newEventID(), "action": "fail", "order_id": b3, "at": tm(70), "reason": "no_answer"},
			map[string]any{"client_event_id": newEventID(), "action": "shift_end", "at": tm(90)},
		}}
		e.at(day.Add(9 * time.Hour))
		out := e.sync("courier2", batch)
		want := []string{"applied", "applied", "applied", "invalid", "applied", "applied", "applied"}
		for i, r := range out.Results {
			if r.Status != want[i] {
				t.Errorf("offline event %d: %+v", i, r)
			}
		}
		if d := out.Results[3].Error.Details; d["field"] != "scanned_barcodes" || fmt.Sprint(d["missing"]) != fmt.Sprint(e.barcodes(b2)) || fmt.Sprint(d["unexpected"]) != "[B9]" {
			t.Errorf("wrong barcode: %+v", out.Results[3].Error)
		}
		again := e.sync("courier2", batch)
		for i, r := range again.Results {
			if r.Status != "duplicate" || r.OriginalStatus == nil || *r.OriginalStatus != want[i] {
				t.Errorf("replayed event %d: %+v", i, r)
			}
		}
		td = e.today("courier2")
		if td.Sheets[0].Status != "completed" || td.CashOnHand.Amount != 140000+150000 {
			t.Errorf("courier 2 after the replay: %+v", td)
		}
		for _, st := range td.Sheets[0].Stops {
			if st.OrderID == b1 && (st.Report == nil || st.Report.AmountDue != 150000 || st.Report.ShortAtDoor != 10000) {
				t.Errorf("short collection report: %+v", st.Report)
			}
		}

		// --- Courier 3 delivers one and hands the rest back. -------------
		c1, c2, c3 := f.orders["courier3"][0], f.orders["courier3"][1], f.orders["courier3"][2]
		if r := e.event("courier3", "shift_start", 0, map[string]any{"date": "2026-11-26"}); r.Status != 422 || r.errorField() != "date" {
			t.Errorf("a shift for sheets three days away: %d %s", r.Status, r.Body)
		}
		e.applied("courier3", "shift_start", 0, map[string]any{"date": "2026-11-23"})
		e.applied("courier3", "deliver", c1, map[string]any{"collected": map[string]any{"amount": 249900, "method": "cash"}})
		r0 := e.event("courier3", "shift_end", 0, nil)
		if r0.Status != 409 {
			t.Fatalf("ending a shift with open stops: %d %s", r0.Status, r0.Body)
		}
		var open struct {
			Error struct{ Details struct{ OpenStops []int64 } }
		}
		_ = json.Unmarshal(bytes.ReplaceAll(r0.Body, []byte("open_stops"), []byte("OpenStops")), &open)
		if !slices.Equal(slices.Sorted(slices.Values(open.Error.Details.OpenStops)), slices.Sorted(slices.Values([]int64{c2, c3}))) {
			t.Errorf("open stops listed: %s", r0.Body)
		}
		r = e.applied("courier3", "shift_end", 0, map[string]any{"hand_back": []int64{c2, c3}})
		if len(r.CompletedSheets) != 1 {
			t.Errorf("hand back completes the sheet: %+v", r)
		}

		// --- The dispatcher sees the day. ---------------------------------
		var list struct {
			Items []struct {
				ID       int64
				Status   string
				Progress struct{ Total, Delivered, Failed, Remaining, Late int }
			}
		}
		e.decode(e.must(e.do("GET", "/api/v1/route-sheets?date=2026-11-23", "dispatcher", nil), 200), &list)
		for _, it := range list.Items {
			if it.Status != "completed" || it.Progress.Total != 3 || it.Progress.Remaining != 0 || it.Progress.Delivered+it.Progress.Failed != 3 {
				t.Errorf("sheet %d at the end of the day: %+v", it.ID, it)
			}
		}
		// Proofs are on the order card, for staff and the courier only.
		var proofs struct {
			Items []struct {
				ID, Kind, ContentType, URL string
			}
		}
		e.decode(e.must(e.do("GET", "/api/v1/orders/"+itoa(a1)+"/proofs", "dispatcher", nil), 200), &proofs)
		if len(proofs.Items) != 1 || proofs.Items[0].ID != sig || proofs.Items[0].Kind != "signature" {
			t.Fatalf("proofs of a1: %+v", proofs)
		}
		img := e.must(e.do("GET", proofs.Items[0].URL, "courier1", nil), 200)
		if !bytes.Equal(img.Body, pngSignature()) || img.Header.Get("Content-Type") != "image/png" || !strings.Contains(img.Header.Get("Content-Security-Policy"), "sandbox") {
			t.Errorf("proof image: %q %q", img.Header.Get("Content-Type"), img.Header.Get("Content-Security-Policy"))
		}
		e.must(e.do("GET", proofs.Items[0].URL, "courier2", nil), 404)
		e.must(e.do("GET", "/api/v1/orders/"+itoa(a1)+"/proofs", "cashier", nil), 404)
		var ord struct {
			Report struct {
				RecipientName string `json:"recipient_name"`
				ProofIDs      []string
				Refused       []struct{ Item, Qty int }
			}
		}
		e.decode(e.must(e.do("GET", "/api/v1/orders/"+itoa(a1), "dispatcher", nil), 200), &ord)
		if ord.Report.RecipientName != "Anna" || len(ord.Report.Refused) != 1 || ord.Report.Refused[0].Qty != 1 {
			t.Errorf("the order card's report: %+v", ord.Report)
		}

		// The customers hear of it: delivered, and failed with the wished date.
		msgs, err := e.db.ClaimOutbox(ctx, "test", e.clock.Now().Add(time.Hour), time.Minute, 1000)
		if err != nil {
			t.Fatal(err)
		}
		var delivered, rescheduled bool
		for _, m := range msgs {
			var p map[string]any
			_ = json.Unmarshal(m.Payload, &p)
			if m.Topic == courier.TopicOrderStatus && p["order_id"] == float64(a1) && p["to"] == "delivered" {
				delivered = true
			}
			if m.Topic == courier.TopicOrderStatus && p["order_id"] == float64(a3) && p["to"] == "failed_attempt" && p["wished_date"] == "2026-11-25" {
				rescheduled = true
			}
		}
		if !delivered || !rescheduled {
			t.Errorf("outbox: delivered %v, failed with the wished date %v", delivered, rescheduled)
		}

		// --- The cash desk. ------------------------------------------------
		var shift struct{ ID int64 }
		e.decode(e.must(e.do("POST", "/api/v1/cashdesk/shifts", "cashier", map[string]any{"depot_id": e.depotID}), 201), &shift)
		var scan struct {
			Orders []struct {
				OrderID           int64 `json:"order_id"`
				ExpectedCash      int64 `json:"expected_cash"`
				ReportedCollected int64 `json:"reported_collected"`
				ShortAtDoor       int64 `json:"short_at_door"`
				Card              int64
				State             string
			}
			Totals struct {
				Expected    int64
				ShortAtDoor int64 `json:"short_at_door"`
				Counted     int64
			}
		}
		e.decode(e.must(e.do("GET", "/api/v1/cashdesk/sheets/"+f.sheets["courier2"].Number, "cashier", nil), 200), &scan)
		for _, l := range scan.Orders {
			if l.OrderID == b1 && (l.ExpectedCash != 150000 || l.ReportedCollected != 140000 || l.ShortAtDoor != 10000) {
				t.Errorf("short collection at the desk: %+v", l)
			}
		}
		if scan.Totals.Expected != 290000 || scan.Totals.ShortAtDoor != 10000 {
			t.Errorf("sheet totals at the desk: %+v", scan.Totals)
		}
		e.must(e.do("POST", "/api/v1/cashdesk/settlements", "cashier", map[string]any{"barcode": f.sheets["courier2"].Number,
			"counted": map[string]any{"amount": 290000, "currency": "RUB"}}, "Idempotency-Key", "day-settle-2"), 201)
		e.decode(e.must(e.do("GET", "/api/v1/cashdesk/sheets/"+f.sheets["courier2"].Number, "cashier", nil), 200), &scan)
		if scan.Totals.Counted != 290000 {
			t.Errorf("counted after settling: %+v", scan.Totals)
		}
		e.decode(e.must(e.do("GET", "/api/v1/cashdesk/sheets/"+f.sheets["courier1"].Number, "cashier", nil), 200), &scan)
		for _, l := range scan.Orders {
			switch l.OrderID {
			case a1:
				if l.ExpectedCash != 80000 || l.ReportedCollected != 80000 || l.ShortAtDoor != 0 {
					t.Errorf("partial delivery at the desk: %+v", l)
				}
			case a2:
				if l.Card != 100000 || l.State != "card" {
					t.Errorf("card payment at the desk: %+v", l)
				}
			}
		}
		if td := e.today("courier2"); td.CashOnHand.Amount != 0 {
			t.Errorf("courier 2 owes %d after the settlement", td.CashOnHand.Amount)
		}
		// The cup courier 1 brought back is checked in; the goods leave the courier.
		var ret struct {
			OrderComplete bool `json:"order_complete"`
		}
		e.decode(e.must(e.do("POST", "/api/v1/cashdesk/returns", "cashier", map[string]any{"barcode": f.sheets["courier1"].Number, "item_barcode": e.barcodes(a1)[0]}), 201), &ret)
		if !ret.OrderComplete {
			t.Errorf("the refused cup checked in: %+v", ret)
		}

		// --- The failed order goes back into a pool with one call. ----------
		var back struct {
			Status       string
			DeliveryDate string                   `json:"delivery_date"`
			TimeWindow   struct{ From time.Time } `json:"time_window"`
		}
		e.must(e.do("POST", "/api/v1/orders/"+itoa(a3)+"/reschedule", "courier1", map[string]any{}), 403)
		e.decode(e.must(e.do("POST", "/api/v1/orders/"+itoa(a3)+"/reschedule", "dispatcher", map[string]any{}), 200), &back)
		if back.Status != "ready" || back.DeliveryDate != "2026-11-25" || !back.TimeWindow.From.Equal(time.Date(2026, 11, 25, 7, 0, 0, 0, time.UTC)) {
			t.Errorf("rescheduled to the wished date: %+v", back)
		}
		e.must(e.do("POST", "/api/v1/orders/"+itoa(a3)+"/reschedule", "dispatcher", map[string]any{}), 409)
		e.decode(e.must(e.do("POST", "/api/v1/orders/"+itoa(b3)+"/reschedule", "dispatcher", map[string]any{"date": "2026-11-23"}), 200), &back)
		if back.Status != "ready" || back.DeliveryDate != "2026-11-23" {
			t.Errorf("back into today's pool: %+v", back)
		}
	})
}

// TestCourierDayBadInput: every bad report gets a clear answer in the usual
// error shape, and nothing is half-written.
func TestCourierDayBadInput(t *testing.T) {
	backends(t, func(t *testing.T, e *env) {
		f := e.planDay(map[string]func(int, map[string]any){
			"courier1": func(i int, b map[string]any) {
				b["items"] = []any{map[string]any{"sku": "X", "name": "X", "qty": 2, "barcode": fmt.Sprintf("X%d", i), "price": 1000}}
			},
		})
		o1, o2, o3 := f.orders["courier1"][0], f.orders["courier1"][1], f.orders["courier1"][2]
		other := f.orders["courier2"][0]
		e.at(day.Add(7*time.Hour + 5*time.Minute))
		e.applied("courier1", "shift_start", 0, nil)
		e.at(day.Add(7*time.Hour + 30*time.Minute))
		now := e.clock.Now()
		good := func() map[string]any {
			return map[string]any{"scanned_barcodes": e.barcodes(o1), "collected": map[string]any{"amount": 249900, "method": "cash"}}
		}
		with := func(k string, v any) map[string]any { b := good(); b[k] = v; return b }
		for _, c := range []struct {
			name   string
			order  int64
			body   map[string]any
			status int
			field  string
		}{
			{"a time ahead of the server's clock", o1, with("at", now.Add(10*time.Minute).Format(time.RFC3339)), 422, "at"},
			{"a time before the sheet started", o1, with("at", now.Add(-40*time.Minute).Format(time.RFC3339)), 422, "at"},
			{"a negative amount", o1, with("collected", map[string]any{"amount": -5, "method": "cash"}), 422, "collected.amount"},
			{"a fractional amount", o1, with("collected", rawJSON(`{"amount": 2499.5, "method": "cash"}`)), 400, "collected.amount"},
			{"more than is due", o1, with("collected", map[string]any{"amount": 249901, "method": "cash"}), 422, "collected.amount"},
			{"nothing said about the money", o1, with("collected", nil), 422, "collected"},
			{"an unknown method", o1, with("collected", map[string]any{"amount": 1, "method": "barter"}), 422, "collected.method"},
			{"card without a slip", o1, with("collected", map[string]any{"amount": 249900, "method": "card"}), 422, "collected.payment_ref"},
			{"a missing piece", o1, with("scanned_barcodes", e.barcodes(o1)[:1]), 422, "scanned_barcodes"},
			{"an unexpected piece", o1, with("scanned_barcodes", append(e.barcodes(o1), "ZZZ")), 422, "scanned_barcodes"},
			{"a refused line that does not exist", o1, with("refused", []any{map[string]any{"item": 5, "qty": 1}}), 422, "refused[0].item"},
			{"more refused than there are", o1, with("refused", []any{map[string]any{"item": 0, "qty": 3}}), 422, "refused[0].qty"},
			{"everything refused", o1, with("refused", []any{map[string]any{"item": 0, "qty": 2}}), 422, "refused"},
			{"a proof never uploaded", o1, with("proof_ids", []string{newEventID()}), 422, "proof_ids[0]"},
			{"an unknown field", o1, with("tip", 5), 400, "tip"},
			{"no event id", o1, with("client_event_id", ""), 422, "client_event_id"},
			{"an event id that is not a UUID", o1, with("client_event_id", "42"), 422, "client_event_id"},
			{"an unknown fail reason", o2, map[string]any{"reason": "lazy"}, 422, "reason"},
			{"reschedule without a date", o2, map[string]any{"reason": "reschedule"}, 422, "wished_date"},
			{"reschedule to the past", o2, map[string]any{"reason": "reschedule", "wished_date": "2026-11-20"}, 422, "wished_date"},
			{"a position off the globe", o2, map[string]any{"reason": "no_answer", "position": pos(91, 0)}, 422, "position.lat"},
		} {
			action := "deliver"
			if _, ok := c.body["reason"]; ok {
				action = "fail"
			}
			r := e.event("courier1", action, c.order, c.body)
			if r.Status != c.status || r.errorField() != c.field {
				t.Errorf("%s: %d field %q, want %d %q: %s", c.name, r.Status, r.errorField(), c.status, c.field, r.Body)
			}
			if strings.Contains(string(r.Body), "Go value") || strings.Contains(string(r.Body), "2006-01-02") {
				t.Errorf("%s: the message shows Go internals: %s", c.name, r.Body)
			}
		}
		// Nothing of it was written.
		td := e.today("courier1")
		for _, st := range td.Sheets[0].Stops {
			if st.Status != "out_for_delivery" || st.Report != nil {
				t.Errorf("stop %d after bad reports: %s %+v", st.OrderID, st.Status, st.Report)
			}
		}
		if td.CashOnHand.Amount != 0 {
			t.Errorf("cash on hand after bad reports: %d", td.CashOnHand.Amount)
		}

		// A phone whose clock is 10 minutes ahead: refused without sent_at,
		// right with it (the server moves its times to its own clock).
		ahead := now.Add(10 * time.Minute)
		id := newEventID()
		b := good()
		b["client_event_id"], b["at"] = id, ahead.Format(time.RFC3339)
		if r := e.event("courier1", "deliver", o1, b); r.Status != 422 || r.errorField() != "at" {
			t.Fatalf("a phone 10 minutes ahead: %d %s", r.Status, r.Body)
		}
		b = good()
		b["at"], b["sent_at"] = ahead.Add(-time.Minute).Format(time.RFC3339), ahead.Format(time.RFC3339)
		var res struct {
			Status string
			At     time.Time
		}
		e.decode(e.must(e.event("courier1", "deliver", o1, b), 200), &res)
		if res.Status != "applied" || !res.At.Equal(now.Add(-time.Minute)) {
			t.Errorf("a phone 10 minutes ahead with sent_at: %+v, want at %s", res, now.Add(-time.Minute))
		}

		// Another courier's stop in a batch: the same answer as a missing order.
		out := e.sync("courier1", map[string]any{"events": []any{
			map[string]any{"client_event_id": newEventID(), "action": "arrive", "order_id": other, "at": now.Format(time.RFC3339)},
			map[string]any{"client_event_id": newEventID(), "action": "arrive", "order_id": 987654, "at": now.Format(time.RFC3339)},
			// A malformed event is answered alone; the next one applies.
			rawJSON(`{"client_event_id": "` + newEventID() + `", "action": "arrive", "order_id": ` + itoa(o2) + `, "at": "at noon"}`),
			map[string]any{"client_event_id": newEventID(), "action": "arrive", "order_id": o2, "at": now.Format(time.RFC3339)},
			map[string]any{"client_event_id": newEventID(), "action": "arrive", "order_id": o2, "at": now.Format(time.RFC3339)},
		}})
		notOurs := func(r eventResult, id int64) bool {
			return r.Status == "conflict" && r.Error != nil && r.Error.Code == "not_found" && r.Stop == nil &&
				r.Error.Message == fmt.Sprintf("order %d is not on your route sheets", id)
		}
		if !notOurs(out.Results[0], other) || !notOurs(out.Results[1], 987654) {
			t.Errorf("another courier's stop and a missing one: %+v %+v / %+v %+v", out.Results[0], out.Results[0].Error, out.Results[1], out.Results[1].Error)
		}
		if out.Results[2].Status != "invalid" || out.Results[3].Status != "applied" || out.Results[4].Status != "conflict" ||
			out.Results[4].Stop == nil || out.Results[4].Stop.Status != "out_for_delivery" {
			t.Errorf("malformed, arrive, arrive again: %+v", out.Results[2:])
		}

		// A batch of 501 events is refused whole.
		var many []any
		for range 501 {
			many = append(many, map[string]any{"client_event_id": newEventID(), "action": "arrive", "order_id": o3, "at": now.Format(time.RFC3339)})
		}
		if r := e.do("POST", "/api/v1/courier/sync", "courier1", map[string]any{"events": many}); r.Status != 422 || r.errorField() != "events" {
			t.Errorf("501 events: %d %s", r.Status, r.Body)
		}
		// A reordered replay applies nothing twice.
		batch := []any{
			map[string]any{"client_event_id": newEventID(), "action": "fail", "order_id": o3, "at": now.Format(time.RFC3339), "reason": "no_answer"},
			map[string]any{"client_event_id": newEventID(), "action": "fail", "order_id": o2, "at": now.Format(time.RFC3339), "reason": "damaged"},
		}
		first := e.sync("courier1", map[string]any{"events": batch})
		second := e.sync("courier1", map[string]any{"events": []any{batch[1], batch[0]}})
		if first.Results[0].Status != "applied" || first.Results[1].Status != "applied" ||
			second.Results[0].Status != "duplicate" || second.Results[1].Status != "duplicate" {
			t.Errorf("reordered replay: %+v then %+v", first.Results, second.Results)
		}
		td = e.today("courier1")
		if td.CashOnHand.Amount != 249900 || td.Sheets[0].Status != "completed" {
			t.Errorf("after the replay: cash %d, sheet %s", td.CashOnHand.Amount, td.Sheets[0].Status)
		}
		var hist []struct {
			ToStatus string `json:"to_status"`
		}
		var h struct {
			Items []struct {
				ToStatus string `json:"to_status"`
			}
		}
		e.decode(e.must(e.do("GET", "/api/v1/orders/"+itoa(o3)+"/history", "dispatcher", nil), 200), &h)
		for _, ev := range h.Items {
			if ev.ToStatus == "failed_attempt" {
				hist = append(hist, struct {
					ToStatus string `json:"to_status"`
				}{ev.ToStatus})
			}
		}
		if len(hist) != 1 {
			t.Errorf("order %d failed %d times in its history", o3, len(hist))
		}

		// Proofs: size, content and scripts are checked by the bytes.
		for _, c := range []struct {
			name, kind string
			file       []byte
			status     int
		}{
			{"a 30 MB photo", "photo", append(jpegPhoto(), make([]byte, 30<<20)...), 413},
			{"a photo that is not an image", "photo", []byte("%PDF-1.4 not a photo"), 422},
			{"a PNG sent as a photo", "photo", pngSignature(), 422},
			{"an SVG with a script", "signature", []byte(`<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script><path d="M0 0L10 10"/></svg>`), 422},
			{"an SVG with an event handler", "signature", []byte(`<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"><path d="M0 0"/></svg>`), 422},
			{"an SVG with an entity", "signature", []byte(`<!DOCTYPE svg [<!ENTITY x "y">]><svg xmlns="http://www.w3.org/2000/svg"><path d="M0 0"/></svg>`), 422},
			{"an SVG linking out", "signature", []byte(`<svg xmlns="http://www.w3.org/2000/svg"><image href="http://evil.example/x.png"/></svg>`), 422},
			{"an unknown kind", "video", jpegPhoto(), 422},
			{"a plain SVG signature", "signature", []byte(`<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 100 40"><path d="M0 20 C 20 0, 40 40, 60 20" stroke="black" fill="none"/></svg>`), 201},
		} {
			r := e.upload("courier1", o1, c.kind, "", c.file)
			if r.Status != c.status {
				t.Errorf("%s: %d, want %d: %.300s", c.name, r.Status, c.status, r.Body)
			}
		}
		if r := e.upload("courier2", o1, "photo", "", jpegPhoto()); r.Status != 404 {
			t.Errorf("a proof for another courier's order: %d", r.Status)
		}
		// The same proof id with other bytes is refused.
		pid := newEventID()
		e.must(e.upload("courier1", o1, "photo", pid, jpegPhoto()), 201)
		if r := e.upload("courier1", o1, "signature", pid, pngSignature()); r.Status != 409 {
			t.Errorf("a proof id reused: %d %s", r.Status, r.Body)
		}
	})
}

// TestCourierSyncConcurrentReplay: a phone that retries while its first
// request still runs sends the same batch four times at once; every event is
// applied exactly once and the other answers are duplicates.
func TestCourierSyncConcurrentReplay(t *testing.T) {
	backends(t, func(t *testing.T, e *env) {
		f := e.planDay(nil)
		e.at(day.Add(7*time.Hour + 5*time.Minute))
		now := e.clock.Now().Format(time.RFC3339)
		var evs []any
		evs = append(evs, map[string]any{"client_event_id": newEventID(), "action": "shift_start", "at": now})
		for _, id := range f.orders["courier2"] {
			evs = append(evs, map[string]any{"client_event_id": newEventID(), "action": "deliver", "order_id": id, "at": now,
				"scanned_barcodes": e.barcodes(id), "collected": map[string]any{"amount": 249900, "method": "cash"}})
		}
		batch := map[string]any{"events": evs}
		results := make([]syncOut, 4)
		var wg sync.WaitGroup
		for i := range results {
			wg.Go(func() {
				r := e.do("POST", "/api/v1/courier/sync", "courier2", batch)
				if r.Status != 200 {
					t.Errorf("sync %d: %d %s", i, r.Status, r.Body)
					return
				}
				_ = json.Unmarshal(r.Body, &results[i])
			})
		}
		wg.Wait()
		for k := range evs {
			applied := 0
			for _, res := range results {
				switch res.Results[k].Status {
				case "applied":
					applied++
				case "duplicate":
					if *res.Results[k].OriginalStatus != "applied" {
						t.Errorf("event %d: a duplicate of %s", k, *res.Results[k].OriginalStatus)
					}
				default:
					t.Errorf("event %d: %+v", k, res.Results[k])
				}
			}
			if applied != 1 {
				t.Errorf("event %d applied %d times", k, applied)
			}
		}
		if td := e.today("courier2"); td.CashOnHand.Amount != 3*249900 || td.Sheets[0].Status != "completed" {
			t.Errorf("after four concurrent copies: cash %d, sheet %s", td.CashOnHand.Amount, td.Sheets[0].Status)
		}
	})
}

// TestSheetProgressLive: the dispatcher's list of the day shows each sheet's
// progress, the stops that will miss their window and the courier's last
// signal, and every stop event goes out on the tracking stream.
func TestSheetProgressLive(t *testing.T) {
	e := newEnv(t)
	f := e.planDay(nil)
	e.at(day.Add(7*time.Hour + 5*time.Minute))
	e.applied("courier1", "shift_start", 0, nil)
	e.do("POST", "/api/v1/courier/locations", "courier1", map[string]any{"pings": []any{ping(55.73, 37.60, 5, e.clock.Now())}})

	first := f.orders["courier1"][0]
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	go func() {
		time.Sleep(300 * time.Millisecond) // let the stream subscribe
		e.applied("courier1", "deliver", first, map[string]any{"scanned_barcodes": e.barcodes(first),
			"collected": map[string]any{"amount": 249900, "method": "cash"}})
		time.Sleep(300 * time.Millisecond)
		cancel()
	}()
	r := e.doCtx(ctx, "GET", "/api/v1/tracking/stream", "dispatcher", nil)
	i := strings.Index(string(r.Body), "event: sheet_progress\ndata: ")
	if i < 0 {
		t.Fatalf("no sheet_progress event in %q", r.Body)
	}
	var ev struct {
		SheetID  *int64 `json:"sheet_id"`
		StopID   *int64 `json:"stop_id"`
		Status   string
		Progress struct{ Total, Delivered, Remaining int }
	}
	line := strings.SplitN(string(r.Body)[i+len("event: sheet_progress\ndata: "):], "\n", 2)[0]
	if err := json.Unmarshal([]byte(line), &ev); err != nil || *ev.StopID != first || *ev.SheetID != f.sheets["courier1"].ID ||
		ev.Status != "delivered" || ev.Progress.Total != 3 || ev.Progress.Delivered != 1 || ev.Progress.Remaining != 2 {
		t.Errorf("sheet_progress %s: %v", line, err)
	}

	type progressOut struct {
		Total, Delivered, Remaining, Late int
		LateOrders                        []int64 `json:"late_orders"`
		LateStops                         []struct {
			OrderID  int64     `json:"order_id"`
			ETA      time.Time `json:"eta"`
			WindowTo time.Time `json:"window_to"`
		} `json:"late_stops"`
		LastSignal *time.Time `json:"last_signal_at"`
	}
	progress := func() map[int64]progressOut {
		var l struct {
			Items []struct {
				ID       int64
				Progress progressOut
			}
		}
		e.decode(e.must(e.do("GET", "/api/v1/route-sheets?date=2026-11-23", "dispatcher", nil), 200), &l)
		out := map[int64]progressOut{}
		for _, it := range l.Items {
			out[it.ID] = it.Progress
		}
		return out
	}
	p := progress()[f.sheets["courier1"].ID]
	if p.Total != 3 || p.Delivered != 1 || p.Remaining != 2 || p.Late != 0 || p.LastSignal == nil {
		t.Errorf("courier 1's sheet under way: %+v", p)
	}
	// Past the end of the windows (13:00 Moscow) the two open stops are late.
	e.at(day.Add(10*time.Hour + 30*time.Minute))
	p = progress()[f.sheets["courier1"].ID]
	if p.Late != 2 || len(p.LateOrders) != 2 || slices.Contains(p.LateOrders, first) {
		t.Errorf("late stops after the windows closed: %+v", p)
	}
	// Each late stop with its expected arrival past its window's end.
	for i, l := range p.LateStops {
		if l.OrderID != p.LateOrders[i] || !l.ETA.After(l.WindowTo) {
			t.Errorf("late stop %d: %+v", i, l)
		}
	}
	if len(p.LateStops) != 2 {
		t.Errorf("late stops: %+v", p.LateStops)
	}
	// A sheet not started has no late stops and no signal.
	if p := progress()[f.sheets["courier2"].ID]; p.Late != 0 || p.LastSignal != nil || p.Remaining != 3 {
		t.Errorf("a sheet not started: %+v", p)
	}
}

// TestCourierShiftForTheNextDay: a shift started the evening before may work
// the next day's sheets (shift_start's date), today without a date follows
// the open shift's working day, and any other date is refused.
func TestCourierShiftForTheNextDay(t *testing.T) {
	backends(t, func(t *testing.T, e *env) {
		f := e.planDay(map[string]func(int, map[string]any){
			"courier1": func(i int, b map[string]any) { b["items"] = []any{} },
		})
		// 21:00 in Moscow on the 22nd; the sheets are for the 23rd.
		e.at(day.Add(-6 * time.Hour))
		for _, c := range []struct{ date, field string }{{"2026-11-24", "date"}, {"2026-11-21", "date"}, {"23.11.2026", "date"}} {
			r := e.event("courier1", "shift_start", 0, map[string]any{"date": c.date})
			if r.Status != 422 || r.errorField() != c.field {
				t.Errorf("shift_start for %s: %d %s", c.date, r.Status, r.Body)
			}
		}
		if r := e.event("courier1", "arrive", f.orders["courier1"][0], map[string]any{"date": "2026-11-23"}); r.Status != 422 || r.errorField() != "date" {
			t.Errorf("a date on arrive: %d %s", r.Status, r.Body)
		}
		// Courier 2 starts without a date: the 22nd, which has no sheets.
		e.applied("courier2", "shift_start", 0, nil)
		var t2 todayOut
		e.decode(e.must(e.do("GET", "/api/v1/courier/today", "courier2", nil), 200), &t2)
		if t2.Date != "2026-11-22" || len(t2.Sheets) != 0 || t2.Shift == nil {
			t.Errorf("courier 2's day without a date: %+v", t2)
		}
		// Courier 1 starts for the 23rd: the sheet goes out now.
		r := e.applied("courier1", "shift_start", 0, map[string]any{"date": "2026-11-23"})
		if r.Shift == nil || r.Shift.Status != "open" {
			t.Fatalf("shift for the next day: %+v", r)
		}
		var t1 todayOut
		e.decode(e.must(e.do("GET", "/api/v1/courier/today", "courier1", nil), 200), &t1)
		if t1.Date != "2026-11-23" || len(t1.Sheets) != 1 || t1.Sheets[0].Status != "active" || t1.Shift == nil || t1.Shift.Status != "open" {
			t.Fatalf("today without a date follows the open shift: %+v", t1)
		}
		for _, st := range t1.Sheets[0].Stops {
			if st.Status != "out_for_delivery" || !slices.Contains(st.Actions, "deliver") {
				t.Errorf("stop %d: %s %v", st.OrderID, st.Status, st.Actions)
			}
		}
		// The stops are worked and the shift ends: the day still shows it.
		e.at(day.Add(7 * time.Hour))
		first := f.orders["courier1"][0]
		e.applied("courier1", "arrive", first, nil)
		// The arrival is a line of the order's history (kind arrived), as the spec says.
		var h struct {
			Items []struct{ Kind string }
		}
		e.decode(e.must(e.do("GET", "/api/v1/orders/"+itoa(first)+"/history", "dispatcher", nil), 200), &h)
		if !slices.ContainsFunc(h.Items, func(it struct{ Kind string }) bool { return it.Kind == "arrived" }) {
			t.Errorf("the arrival is not in the history: %+v", h.Items)
		}
		for _, id := range f.orders["courier1"] {
			e.applied("courier1", "deliver", id, map[string]any{"collected": map[string]any{"amount": 249900, "method": "cash"}})
		}
		e.applied("courier1", "shift_end", 0, nil)
		t1 = e.today("courier1")
		if t1.Shift == nil || t1.Shift.Status != "ended" || t1.Sheets[0].Status != "completed" {
			t.Errorf("the day after the shift: %+v", t1)
		}
	})
}

// TestSheetPublishedAfterShiftStart: a sheet published while its courier's
// shift of that day is open shows its stops with their actions, and the
// courier's first action on one starts it (the shift start started only the
// sheets published before it). Without a shift the stops wait.
func TestSheetPublishedAfterShiftStart(t *testing.T) {
	backends(t, func(t *testing.T, e *env) {
		e.at(day.Add(-6 * time.Hour)) // 21:00 in Moscow on the 22nd
		f := e.planDay(nil, func() {
			e.applied("courier1", "shift_start", 0, map[string]any{"date": "2026-11-23"})
		})
		t1 := e.today("courier1")
		if len(t1.Sheets) != 1 || t1.Sheets[0].Status != "published" {
			t.Fatalf("courier 1's day after the publication: %+v", t1)
		}
		for _, st := range t1.Sheets[0].Stops {
			if !slices.Contains(st.Actions, "arrive") || !slices.Contains(st.Actions, "deliver") {
				t.Errorf("stop %d of a sheet published during the shift: %s %v", st.OrderID, st.Status, st.Actions)
			}
		}
		e.at(day.Add(7 * time.Hour))
		first := f.orders["courier1"][0]
		if r := e.applied("courier1", "arrive", first, nil); r.Stop == nil || r.Stop.Status != "out_for_delivery" {
			t.Errorf("the first arrival: %+v", r)
		}
		t1 = e.today("courier1")
		if t1.Sheets[0].Status != "active" {
			t.Errorf("the sheet after the first action: %s", t1.Sheets[0].Status)
		}
		for _, st := range t1.Sheets[0].Stops {
			if st.Status != "out_for_delivery" {
				t.Errorf("stop %d after the sheet started: %s", st.OrderID, st.Status)
			}
		}
		// Courier 2 has no shift: no actions, and an arrival says why.
		for _, st := range e.today("courier2").Sheets[0].Stops {
			if len(st.Actions) != 0 {
				t.Errorf("stop %d without a shift: %v", st.OrderID, st.Actions)
			}
		}
		if r := e.event("courier2", "arrive", f.orders["courier2"][0], nil); r.Status != 409 || !strings.Contains(string(r.Body), "start your shift") {
			t.Errorf("an arrival without a shift: %d %s", r.Status, r.Body)
		}
	})
}
