package api_test

import (
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/courierhq/courier"
	"github.com/courierhq/courier/notify"
	"github.com/getkin/kin-openapi/openapi3filter"
)

func init() { openapi3filter.RegisterBodyDecoder("text/html", openapi3filter.PlainBodyDecoder) }

type trackOut struct {
	OrderNumber string `json:"order_number"`
	Status      string
	StatusText  string     `json:"status_text"`
	ETA         *time.Time `json:"eta"`
	StopsAhead  *int       `json:"stops_ahead"`
	Courier     *struct {
		Location struct{ Lat, Lng float64 }
	}
}

// drainOutbox runs a notification worker (pushes only logged) until the outbox is empty.
func (e *env) drainOutbox() {
	e.t.Helper()
	w := e.notify.NewWorker(&notify.LogSender{Log: slog.New(slog.NewTextHandler(io.Discard, nil))}, nil)
	if _, err := w.Drain(e.t.Context()); err != nil {
		e.t.Fatal(err)
	}
}

// TestDevices: couriers register with their bearer token, customers with
// their tracking token; tokens are kept once; bad input is refused.
func TestDevices(t *testing.T) {
	e := newEnv(t)
	dev := map[string]any{"token": "fcm-token-courier-1", "platform": "android", "app": "courier"}
	var d1, d2 struct{ ID int64 }
	e.decode(e.must(e.do("POST", "/api/v1/devices", "courier1", dev), 201), &d1)
	e.decode(e.must(e.do("POST", "/api/v1/devices", "courier1", dev), 201), &d2)
	if d1.ID != d2.ID {
		t.Errorf("the same token twice made devices %d and %d", d1.ID, d2.ID)
	}
	e.must(e.do("POST", "/api/v1/devices", "", dev), 401)
	e.must(e.do("POST", "/api/v1/devices", "dispatcher", dev), 403)
	e.must(e.do("POST", "/api/v1/devices", "courier1", map[string]any{"token": "x", "platform": "symbian", "app": "courier"}), 422)
	e.must(e.do("POST", "/api/v1/devices", "courier1", map[string]any{"token": "x", "platform": "ios", "app": "courier", "extra": 1}), 400)

	o := e.createOrder("DEV-1")
	var link struct{ Token, URL string }
	e.decode(e.must(e.do("GET", "/api/v1/orders/"+itoa(o.ID)+"/tracking-link", "dispatcher", nil), 200), &link)
	e.must(e.do("GET", "/api/v1/orders/"+itoa(o.ID)+"/tracking-link", "courier1", nil), 403)
	e.must(e.do("GET", "/api/v1/orders/999999/tracking-link", "dispatcher", nil), 404)
	if link.URL != "https://track.example.com/t/"+link.Token || len(link.Token) < 22 {
		t.Errorf("tracking link %+v", link)
	}
	cust := map[string]any{"token": "fcm-token-customer-1", "platform": "web", "app": "customer", "tracking_token": link.Token}
	e.must(e.do("POST", "/api/v1/devices", "", cust), 201)
	e.must(e.do("POST", "/api/v1/devices", "", map[string]any{"token": "t", "platform": "web", "app": "customer", "tracking_token": "nope-nope-nope-nope-nope"}), 404)
	e.must(e.do("POST", "/api/v1/devices", "", map[string]any{"token": "t", "platform": "web", "app": "customer"}), 422)

	e.must(e.do("DELETE", "/api/v1/devices", "courier1", map[string]any{"token": "fcm-token-courier-1", "app": "courier"}), 204)
	e.must(e.do("DELETE", "/api/v1/devices", "courier1", map[string]any{"token": "fcm-token-courier-1", "app": "courier"}), 404)
	e.must(e.do("DELETE", "/api/v1/devices", "", map[string]any{"token": "fcm-token-customer-1", "app": "customer", "tracking_token": link.Token}), 204)
	e.must(e.do("DELETE", "/api/v1/devices", "", map[string]any{"token": "fcm-token-courier-1", "app": "courier"}), 401)
}

// TestCourierMessages: dispatchers queue messages to couriers; the worker sends them.
func TestCourierMessages(t *testing.T) {
	e := newEnv(t)
	id := e.courier["courier1"]
	e.must(e.do("POST", "/api/v1/devices", "courier1", map[string]any{"token": "phone-1", "platform": "ios", "app": "courier"}), 201)
	var q struct {
		Status     string
		MessageKey string `json:"message_key"`
	}
	e.decode(e.must(e.do("POST", "/api/v1/couriers/"+itoa(id)+"/messages", "dispatcher", map[string]any{"text": "Please call the office"}), 202), &q)
	if q.Status != "queued" || !strings.HasPrefix(q.MessageKey, "courier_message:") {
		t.Errorf("answer %+v", q)
	}
	e.must(e.do("POST", "/api/v1/couriers/"+itoa(id)+"/messages", "dispatcher", map[string]any{"text": "  "}), 422)
	e.must(e.do("POST", "/api/v1/couriers/999999/messages", "dispatcher", map[string]any{"text": "hi"}), 404)
	e.must(e.do("POST", "/api/v1/couriers/"+itoa(id)+"/messages", "courier1", map[string]any{"text": "hi"}), 403)
	e.drainOutbox()
	var list struct {
		Items []struct {
			Channel, Status, Event string
			DeviceID               *int64 `json:"device_id"`
		}
	}
	e.decode(e.must(e.do("GET", "/api/v1/notifications?channel=push", "admin", nil), 200), &list)
	if len(list.Items) != 1 || list.Items[0].Status != "sent" || list.Items[0].Event != "courier_message" || list.Items[0].DeviceID == nil {
		t.Errorf("notifications %+v", list.Items)
	}
	e.must(e.do("GET", "/api/v1/notifications?status=failed", "admin", nil), 200)
	e.must(e.do("GET", "/api/v1/notifications?status=lost", "admin", nil), 422)
	e.must(e.do("GET", "/api/v1/notifications", "dispatcher", nil), 403)
}

// TestWebhookEndpoints: admins manage endpoints; an order status change
// reaches the shop signed, is logged, and can be replayed.
func TestWebhookEndpoints(t *testing.T) {
	backends(t, func(t *testing.T, e *env) {
		var (
			mu     sync.Mutex
			bodies []string
			secret string
		)
		recv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			b, _ := io.ReadAll(r.Body)
			mu.Lock()
			defer mu.Unlock()
			if err := notify.Verify(secret, r.Header.Get(notify.HeaderSignature), b, e.clock.Now(), time.Minute); err != nil {
				t.Errorf("signature: %v", err)
			}
			bodies = append(bodies, string(b))
			w.WriteHeader(http.StatusOK)
		}))
		defer recv.Close()
		var wh struct {
			ID     int64
			Secret string
			Events []string
		}
		e.decode(e.must(e.do("POST", "/api/v1/webhooks", "admin", map[string]any{"url": recv.URL + "/hook", "events": []string{"order_status", "cash_settled"},
			"description": "shop"}), 201), &wh)
		mu.Lock()
		secret = wh.Secret
		mu.Unlock()
		if !strings.HasPrefix(wh.Secret, "whsec_") {
			t.Errorf("generated secret %q", wh.Secret)
		}
		e.must(e.do("POST", "/api/v1/webhooks", "dispatcher", map[string]any{"url": recv.URL, "events": []string{"order_status"}}), 403)
		e.must(e.do("POST", "/api/v1/webhooks", "admin", map[string]any{"url": "not a url", "events": []string{"order_status"}}), 422)
		var got map[string]any
		e.decode(e.must(e.do("GET", "/api/v1/webhooks/"+itoa(wh.ID), "admin", nil), 200), &got)
		if _, ok := got["secret"]; ok {
			t.Errorf("the secret is shown after creation: %v", got)
		}
		e.must(e.do("GET", "/api/v1/webhooks", "admin", nil), 200)
		e.must(e.do("PATCH", "/api/v1/webhooks/"+itoa(wh.ID), "admin", map[string]any{"events": []string{"order_status", "sheet_published"}}), 200)
		e.must(e.do("PATCH", "/api/v1/webhooks/"+itoa(wh.ID), "admin", map[string]any{"events": []string{}}), 422)
		e.must(e.do("GET", "/api/v1/webhooks/999999", "admin", nil), 404)

		o := e.createOrder("WH-1")
		e.moveOrder(o.ID, "dispatcher", "confirmed")
		e.drainOutbox()
		var dl struct {
			Items []struct {
				ID       int64
				EventID  string `json:"event_id"`
				Status   string
				Attempts int
				Log      []struct {
					StatusCode *int `json:"status_code"`
				}
			}
		}
		e.decode(e.must(e.do("GET", "/api/v1/webhooks/"+itoa(wh.ID)+"/deliveries", "admin", nil), 200), &dl)
		if len(dl.Items) != 1 || dl.Items[0].Status != "sent" || len(dl.Items[0].Log) != 1 || *dl.Items[0].Log[0].StatusCode != 200 {
			t.Fatalf("deliveries %+v", dl.Items)
		}
		mu.Lock()
		var body struct {
			ID   string
			Type string
			Data map[string]any
		}
		if len(bodies) != 1 || json.Unmarshal([]byte(bodies[0]), &body) != nil || body.Type != "order_status" || body.ID != dl.Items[0].EventID ||
			body.Data["from"] != "new" || body.Data["to"] != "confirmed" || body.Data["external_id"] != "WH-1" {
			t.Errorf("webhook bodies %v", bodies)
		}
		mu.Unlock()
		did := itoa(dl.Items[0].ID)
		e.must(e.do("POST", "/api/v1/webhooks/"+itoa(wh.ID)+"/deliveries/"+did+"/replay", "admin", nil), 202)
		e.must(e.do("POST", "/api/v1/webhooks/"+itoa(wh.ID)+"/deliveries/"+did+"/replay", "admin", nil), 409)
		e.must(e.do("POST", "/api/v1/webhooks/"+itoa(wh.ID)+"/deliveries/999999/replay", "admin", nil), 404)
		e.drainOutbox()
		mu.Lock()
		if len(bodies) != 2 || bodies[1] != bodies[0] {
			t.Errorf("replay sent %d bodies", len(bodies))
		}
		mu.Unlock()
		e.must(e.do("GET", "/api/v1/webhooks/"+itoa(wh.ID)+"/deliveries?status=bogus", "admin", nil), 422)
		e.must(e.do("DELETE", "/api/v1/webhooks/"+itoa(wh.ID), "admin", nil), 204)
		e.must(e.do("DELETE", "/api/v1/webhooks/"+itoa(wh.ID), "admin", nil), 404)
	})
}

// TestCustomerTracking: an order's page and JSON without a login; the
// courier's position shows once the sheet is under way and the order is
// among the next stops.
func TestCustomerTracking(t *testing.T) {
	backends(t, func(t *testing.T, e *env) {
		o1 := e.readyOrder("TR-1", func(b map[string]any) { b["location"] = at(1) })
		o2 := e.readyOrder("TR-2", func(b map[string]any) { b["location"] = at(7) })
		var link struct{ Token string }
		e.decode(e.must(e.do("GET", "/api/v1/orders/"+itoa(o1)+"/tracking-link", "dispatcher", nil), 200), &link)
		var v trackOut
		e.decode(e.must(e.do("GET", "/api/v1/track/"+link.Token, "", nil), 200), &v)
		if v.OrderNumber != "TR-1" || v.Status != "ready" || v.Courier != nil || v.ETA != nil {
			t.Errorf("before planning %+v", v)
		}
		e.must(e.do("GET", "/api/v1/track/AAAAAAAAAAAAAAAAAAAAAAAA", "", nil), 404)
		page := e.must(e.do("GET", "/t/"+link.Token, "", nil), 200)
		if s := string(page.Body); !strings.Contains(s, "Order TR-1") || !strings.Contains(s, "Ready for delivery") ||
			!strings.Contains(page.Header.Get("Content-Security-Policy"), "script-src 'nonce-") || page.Header.Get("Referrer-Policy") != "no-referrer" {
			t.Errorf("page %d: %.300s %v", page.Status, s, page.Header)
		}
		if s := string(e.must(e.do("GET", "/t/<script>alert(1)</script>AAAAAAAAAAAAAAAAAAAAA", "", nil), 404).Body); strings.Contains(s, "<script>alert") {
			t.Errorf("the token is echoed unescaped: %s", s)
		}

		var p planOut
		e.decode(e.must(e.do("POST", "/api/v1/plans", "dispatcher", map[string]any{"date": "2026-11-23", "depot_id": e.depotID,
			"order_ids": []int64{o1, o2}, "courier_ids": []int64{e.courier["courier1"]}, "time_limit_s": 1}), 202), &p)
		p = e.waitPlan(p.ID)
		e.must(e.do("POST", "/api/v1/plans/"+itoa(p.ID)+"/publish", "dispatcher", nil), 200)
		e.must(e.do("POST", "/api/v1/route-sheets/"+itoa(p.Sheets[0].ID)+"/start", "courier1", nil), 200)
		now := e.clock.Now()
		e.must(e.do("POST", "/api/v1/courier/locations", "courier1", map[string]any{"pings": []any{
			map[string]any{"lat": 55.735, "lng": 37.60, "accuracy_m": 10, "recorded_at": now.Format(time.RFC3339)}}}), 200)
		// The customer of the next stop sees the courier, to 3 decimals; the
		// other customer how many stops come first.
		var link2 struct{ Token string }
		e.decode(e.must(e.do("GET", "/api/v1/orders/"+itoa(o2)+"/tracking-link", "dispatcher", nil), 200), &link2)
		var v2 trackOut
		e.decode(e.must(e.do("GET", "/api/v1/track/"+link.Token, "", nil), 200), &v)
		e.decode(e.must(e.do("GET", "/api/v1/track/"+link2.Token, "", nil), 200), &v2)
		next, after, nextTok, afterTok := v, v2, link.Token, link2.Token
		if v.StopsAhead != nil && *v.StopsAhead == 1 {
			next, after, nextTok, afterTok = v2, v, link2.Token, link.Token
		}
		if next.Status != "out_for_delivery" || next.Courier == nil || next.ETA == nil || next.StopsAhead == nil || *next.StopsAhead != 0 ||
			next.StatusText != "On its way" || next.Courier.Location.Lat != 55.735 || next.Courier.Location.Lng != 37.6 {
			t.Errorf("next stop under way %+v", next)
		}
		if after.Courier != nil || after.ETA == nil || after.StopsAhead == nil || *after.StopsAhead != 1 {
			t.Errorf("second stop under way %+v", after)
		}
		if s := string(e.must(e.do("GET", "/t/"+nextTok, "", nil), 200).Body); !strings.Contains(s, "The courier was last seen at") ||
			!strings.Contains(s, "55.735, 37.600 (") || !strings.Contains(strings.ReplaceAll(s, " ", ""), "dec=3;") {
			t.Errorf("page of the next stop: %.1500s", s)
		}
		if s := string(e.must(e.do("GET", "/t/"+afterTok, "", nil), 200).Body); !strings.Contains(s, `<dd id="courier"></dd>`) {
			t.Errorf("page of the second stop shows the courier: %.1500s", s)
		}
		// The arrival check and the outbox: the shop, the courier and the customer hear of it.
		if _, err := e.notify.ScanArrivals(e.t.Context()); err != nil {
			t.Fatal(err)
		}
		e.drainOutbox()
	})
}

// TestTrackingTooMany: a tracking link asked more than 30 times a minute
// answers 429 with Retry-After, the page as well as its JSON; a minute later
// it works again.
func TestTrackingTooMany(t *testing.T) {
	e := newEnv(t)
	o := e.createOrder("MANY-1")
	var link struct{ Token string }
	e.decode(e.must(e.do("GET", "/api/v1/orders/"+itoa(o.ID)+"/tracking-link", "dispatcher", nil), 200), &link)
	for i := range 30 {
		path := "/api/v1/track/" + link.Token
		if i%2 == 0 {
			path = "/t/" + link.Token
		}
		e.must(e.do("GET", path, "", nil), 200)
	}
	for _, path := range []string{"/api/v1/track/" + link.Token, "/t/" + link.Token} {
		r := e.must(e.do("GET", path, "", nil), 429)
		if r.errorCode() != courier.ETOOMANY || r.Header.Get("Retry-After") != "60" {
			t.Errorf("%s: %s, Retry-After %q", path, r.Body, r.Header.Get("Retry-After"))
		}
	}
	e.clock.Set(e.clock.Now().Add(time.Minute))
	e.must(e.do("GET", "/api/v1/track/"+link.Token, "", nil), 200)
}

// TestCashSettledWebhook: a cash desk settlement reaches the accounting
// system's webhook through the outbox of the settlement's transaction.
func TestCashSettledWebhook(t *testing.T) {
	e := newEnv(t)
	bodies := make(chan []byte, 4)
	recv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		bodies <- b
	}))
	defer recv.Close()
	e.must(e.do("POST", "/api/v1/webhooks", "admin", map[string]any{"url": recv.URL, "events": []string{"cash_settled"},
		"secret": "accounting-secret-0123"}), 201)
	sh, ids := e.cashSheet("courier1", 100000)
	e.moveOrder(ids[0], "courier1", "delivered")
	e.must(e.do("POST", "/api/v1/cashdesk/shifts", "cashier", map[string]any{"depot_id": e.depotID}), 201)
	e.must(e.do("POST", "/api/v1/cashdesk/settlements", "cashier", settleBody(sh.Number, 90000), "Idempotency-Key", "settle-1"), 201)
	e.drainOutbox()
	select {
	case b := <-bodies:
		var body struct {
			Type string
			Data struct {
				SheetNumber string `json:"sheet_number"`
				Expected    int64
				Counted     int64
				Discrepancy int64
				Currency    string
				Orders      []struct {
					OrderID int64 `json:"order_id"`
					Amount  int64
				}
			}
		}
		if err := json.Unmarshal(b, &body); err != nil || body.Type != "cash_settled" || body.Data.SheetNumber != sh.Number ||
			body.Data.Expected != 100000 || body.Data.Counted != 90000 || body.Data.Discrepancy != -10000 || body.Data.Currency != "RUB" ||
			len(body.Data.Orders) != 1 || body.Data.Orders[0].OrderID != ids[0] {
			t.Errorf("cash_settled body %s", b)
		}
	default:
		t.Fatal("no cash_settled webhook")
	}
	if len(bodies) != 0 {
		t.Errorf("%d more webhooks", len(bodies))
	}
}

// TestStopRemovedPush: a dispatcher cancelling a planned order tells its
// courier that the stop left the sheet.
func TestStopRemovedPush(t *testing.T) {
	e := newEnv(t)
	e.must(e.do("POST", "/api/v1/devices", "courier1", map[string]any{"token": "phone-x", "platform": "android", "app": "courier"}), 201)
	o1 := e.readyOrder("RM-1", func(b map[string]any) { b["location"] = at(1) })
	o2 := e.readyOrder("RM-2", func(b map[string]any) { b["location"] = at(7) })
	var p planOut
	e.decode(e.must(e.do("POST", "/api/v1/plans", "dispatcher", map[string]any{"date": "2026-11-23", "depot_id": e.depotID,
		"order_ids": []int64{o1, o2}, "courier_ids": []int64{e.courier["courier1"]}, "time_limit_s": 1}), 202), &p)
	p = e.waitPlan(p.ID)
	e.must(e.do("POST", "/api/v1/plans/"+itoa(p.ID)+"/publish", "dispatcher", nil), 200)
	e.must(e.do("POST", "/api/v1/orders/"+itoa(o2)+"/status", "dispatcher", map[string]any{"status": "cancelled", "reason": "the shop cancelled"}), 200)
	e.drainOutbox()
	var bodies []string
	list, err := e.db.Deliveries(e.t.Context(), courier.DeliveryFilter{Channel: courier.ChannelPush})
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range list {
		var push notify.Push
		_ = json.Unmarshal(d.Payload, &push)
		bodies = append(bodies, d.Event+": "+push.Title+" / "+push.Body)
	}
	want := []string{
		"sheet_published: New route sheet " + p.Sheets[0].Number + " / 2 stops on 23 Nov. Open the app to start.",
		"sheet_changed: Route sheet " + p.Sheets[0].Number + " changed / Stop removed: order RM-2.",
	}
	if strings.Join(bodies, "\n") != strings.Join(want, "\n") {
		t.Errorf("pushes:\n%s\nwant:\n%s", strings.Join(bodies, "\n"), strings.Join(want, "\n"))
	}
}

// TestMovedStopPushes: a stop moved between published sheets tells both
// couriers: one that it arrived, the other that it left.
func TestMovedStopPushes(t *testing.T) {
	e := newEnv(t)
	for _, login := range []string{"courier1", "courier2"} {
		e.must(e.do("POST", "/api/v1/devices", login, map[string]any{"token": "phone-" + login, "platform": "android", "app": "courier"}), 201)
	}
	a := e.readyOrder("MS-1", func(b map[string]any) { b["weight_kg"] = 150 })
	b := e.readyOrder("MS-2", func(b map[string]any) { b["weight_kg"] = 10; b["location"] = at(9) })
	c := e.readyOrder("MS-3", func(b map[string]any) { b["weight_kg"] = 150; b["location"] = at(4) })
	var p planOut
	e.decode(e.must(e.do("POST", "/api/v1/plans", "dispatcher", map[string]any{"date": "2026-11-23", "depot_id": e.depotID,
		"order_ids": []int64{a, b, c}, "time_limit_s": 1}), 202), &p)
	p = e.waitPlan(p.ID)
	e.must(e.do("POST", "/api/v1/plans/"+itoa(p.ID)+"/publish", "dispatcher", nil), 200)
	if len(p.Sheets) != 2 {
		t.Fatalf("want two sheets: %+v", p.Sheets)
	}
	from, to := p.Sheets[0], p.Sheets[1]
	if len(from.Stops) < 2 {
		from, to = to, from
	}
	var moved int64
	for _, st := range from.Stops {
		if st.OrderID == b {
			moved = b
		}
	}
	if moved == 0 {
		t.Fatalf("the light order is not on the fuller sheet: %+v", p.Sheets)
	}
	e.drainOutbox()
	e.must(e.do("POST", "/api/v1/route-sheets/"+itoa(from.ID)+"/moves", "dispatcher", map[string]any{"order_id": moved, "to_sheet_id": to.ID}), 200)
	e.drainOutbox()
	list, err := e.db.Deliveries(e.t.Context(), courier.DeliveryFilter{Channel: courier.ChannelPush})
	if err != nil {
		t.Fatal(err)
	}
	var changes []string
	for _, d := range list {
		var push notify.Push
		_ = json.Unmarshal(d.Payload, &push)
		if d.Event == "sheet_changed" {
			changes = append(changes, push.Title+" / "+push.Body)
		}
	}
	want := []string{
		"Route sheet " + to.Number + " changed / Stop added: order MS-2, Moscow, Tverskaya 7, apt 12.",
		"Route sheet " + from.Number + " changed / Stop removed: order MS-2.",
	}
	slices.Sort(changes)
	slices.Sort(want)
	if strings.Join(changes, "\n") != strings.Join(want, "\n") {
		t.Errorf("pushes:\n%s\nwant:\n%s", strings.Join(changes, "\n"), strings.Join(want, "\n"))
	}
}
