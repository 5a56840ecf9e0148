package notify_test

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/courierhq/courier"
	"github.com/courierhq/courier/notify"
)

func collapse(key string) string {
	sum := sha256.Sum256([]byte(key))
	return "n" + hex.EncodeToString(sum[:12])
}

func jsonOf(t *testing.T, s string) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal([]byte(s), &m); err != nil {
		t.Fatalf("%s: %v", s, err)
	}
	return m
}

func sameJSON(t *testing.T, what string, got map[string]any, want string) {
	t.Helper()
	if w := jsonOf(t, want); !reflect.DeepEqual(got, w) {
		g, _ := json.MarshalIndent(got, "", "  ")
		t.Errorf("%s:\ngot  %s\nwant %s", what, g, want)
	}
}

// TestPushBodies runs the real Firebase Admin SDK against the fake FCM and
// checks the exact request bodies of a courier and a customer push.
func TestPushBodies(t *testing.T) {
	backends(t, func(t *testing.T, e *env) {
		o := e.order("SHOP-1", courier.LatLng{Lat: 55.75, Lng: 37.61})
		e.courierDevice("courier-android-1", courier.PlatformAndroid)
		e.courierDevice("courier-android-1", courier.PlatformAndroid) // again: deduplicated
		e.courierDevice("courier-ios-1", courier.PlatformIOS)
		e.customerDevice(o, "customer-web-1", courier.PlatformWeb)
		e.customerDevice(o, "customer-web-1", courier.PlatformWeb)

		e.queue(courier.TopicSheetPublished, "sheet_published:7:2", map[string]any{"type": "sheet_published", "sheet_id": 7,
			"sheet_number": "000000075", "courier_id": e.courier.ID, "date": "2026-11-23", "stops": 2})
		e.queue(courier.TopicOrderStatus, "order_status:1:5", map[string]any{"order_id": o.ID, "from": "out_for_delivery",
			"to": "delivered", "reason": "", "at": day0})
		w := e.worker()
		if n := e.drain(w); n != 3 {
			t.Fatalf("tried %d deliveries, want 3", n)
		}
		reqs := e.fcm.requests()
		if len(reqs) != 3 {
			t.Fatalf("FCM got %d requests, want 3", len(reqs))
		}
		for _, r := range reqs {
			if r.Path != "POST /v1/projects/p/messages:send" {
				t.Errorf("request to %s", r.Path)
			}
		}
		ck := collapse("sheet_published:7:2")
		sameJSON(t, "courier push", map[string]any{"message": e.fcm.to("courier-android-1")[0]}, `{"message":{
			"token":"courier-android-1",
			"notification":{"title":"New route sheet 000000075","body":"2 stops on 23 Nov. Open the app to start."},
			"data":{"type":"sheet_published","sheet_id":"7","sheet_number":"000000075","date":"2026-11-23"},
			"android":{"collapse_key":"`+ck+`","priority":"high","notification":{"tag":"`+ck+`","channel_id":"courier"}},
			"apns":{"headers":{"apns-collapse-id":"`+ck+`","apns-priority":"10"},"payload":{"aps":{"sound":"default","thread-id":"courier"}}}}}`)
		tok, link, err := e.svc.TrackingLink(ctxT(t), courier.Actor{UserID: 1, Role: courier.RoleDispatcher}, o.ID)
		must(t, err)
		if link != "https://track.example.com/t/"+tok || len(tok) < 22 {
			t.Errorf("tracking link %q of token %q", link, tok)
		}
		ck = collapse("order_status:1:5")
		sameJSON(t, "customer push", map[string]any{"message": e.fcm.to("customer-web-1")[0]}, `{"message":{
			"token":"customer-web-1",
			"notification":{"title":"Order SHOP-1 is delivered","body":"Thank you! Your order has been handed over."},
			"data":{"type":"order_status","order_id":"`+fmt.Sprint(o.ID)+`","order_number":"SHOP-1","status":"delivered","tracking_url":"`+link+`"},
			"android":{"collapse_key":"`+ck+`","priority":"high","notification":{"tag":"`+ck+`","channel_id":"customer"}},
			"apns":{"headers":{"apns-collapse-id":"`+ck+`","apns-priority":"10"},"payload":{"aps":{"sound":"default","thread-id":"customer"}}},
			"webpush":{"fcm_options":{"link":"`+link+`"}}}}`)
		for _, d := range e.deliveries(courier.DeliveryFilter{}) {
			if d.Status != courier.DeliverySent || !strings.HasPrefix(d.ProviderID, "projects/p/messages/") || d.Attempts != 1 || d.LastStatus != 200 {
				t.Errorf("delivery %+v", d)
			}
		}
		// Nothing is sent twice: the outbox is drained.
		if n := e.drain(w); n != 0 || len(e.fcm.requests()) != 3 {
			t.Errorf("second drain tried %d, FCM has %d requests", n, len(e.fcm.requests()))
		}
		// A courier who logs out forgets the device.
		must(t, e.svc.UnregisterCourierDevice(ctxT(t), courier.Actor{UserID: e.user.ID, Role: courier.RoleCourier},
			notify.DeviceInput{Token: "courier-ios-1", App: courier.AppCourier}))
		devs, err := e.db.Devices(ctxT(t), courier.AppCourier, e.user.ID, 0)
		must(t, err)
		if len(devs) != 1 || devs[0].Token != "courier-android-1" {
			t.Errorf("devices after logout: %+v", devs)
		}
	})
}

// TestFCMAnswers: 200 sends, 404 UNREGISTERED and an invalid token drop
// the device, 429 and 503 wait (Retry-After when longer than the backoff)
// and give up after MaxAttempts, and the SDK never retries behind our back.
func TestFCMAnswers(t *testing.T) {
	backends(t, func(t *testing.T, e *env) {
		for _, tok := range []string{"tok-ok", "tok-gone", "tok-invalid", "tok-busy", "tok-down"} {
			e.courierDevice(tok, courier.PlatformAndroid)
		}
		e.fcm.answer("tok-gone", unregistered)
		e.fcm.answer("tok-invalid", invalidToken)
		e.fcm.answer("tok-busy", quota429, ok200)
		e.fcm.answer("tok-down", unavailable30, unavailable)
		e.queue(courier.TopicCourierMessage, "courier_message:1", map[string]any{"courier_id": e.courier.ID, "text": "Call the office"})
		w := e.worker()
		start := e.clock.Now()
		if n := e.drain(w); n != 5 {
			t.Fatalf("tried %d, want 5", n)
		}
		byToken := func() map[string]*courier.Delivery {
			m := map[string]*courier.Delivery{}
			for _, d := range e.deliveries(courier.DeliveryFilter{Channel: courier.ChannelPush}) {
				var p notify.Push
				must(t, json.Unmarshal(d.Payload, &p))
				m[p.Token] = d
			}
			return m
		}
		d := byToken()
		check := func(tok, status string, httpStatus int, next time.Time) {
			t.Helper()
			got := d[tok]
			if got.Status != status || got.LastStatus != httpStatus || (!next.IsZero() && !got.NextAttemptAt.Equal(next)) {
				t.Errorf("%s: status %s http %d next %s (err %q), want %s %d %s", tok, got.Status, got.LastStatus, got.NextAttemptAt,
					got.LastError, status, httpStatus, next)
			}
		}
		check("tok-ok", courier.DeliverySent, 200, time.Time{})
		check("tok-gone", courier.DeliveryDropped, 404, time.Time{})
		check("tok-invalid", courier.DeliveryDropped, 400, time.Time{})
		check("tok-busy", courier.DeliveryPending, 429, start.Add(120*time.Second)) // Retry-After 120 > 10 s backoff
		check("tok-down", courier.DeliveryPending, 503, start.Add(30*time.Second))  // Retry-After 30 > 10 s backoff
		if n := len(e.fcm.to("tok-down")); n != 1 {
			t.Errorf("FCM got %d requests for tok-down, want 1: the SDK must not retry by itself", n)
		}
		devs, err := e.db.Devices(ctxT(t), courier.AppCourier, e.user.ID, 0)
		must(t, err)
		var left []string
		for _, dv := range devs {
			left = append(left, dv.Token)
		}
		if strings.Join(left, ",") != "tok-ok,tok-busy,tok-down" {
			t.Errorf("devices left: %v", left)
		}

		e.clock.Add(31 * time.Second)
		e.drain(w)
		d = byToken()
		check("tok-down", courier.DeliveryPending, 503, start.Add(51*time.Second)) // no Retry-After: backoff 20 s
		check("tok-busy", courier.DeliveryPending, 429, start.Add(120*time.Second))
		e.clock.Set(start.Add(121 * time.Second))
		e.drain(w)
		d = byToken()
		check("tok-busy", courier.DeliverySent, 200, time.Time{})
		check("tok-down", courier.DeliveryFailed, 503, time.Time{}) // third try of three: a dead letter
		log, err := e.db.DeliveryAttempts(ctxT(t), d["tok-down"].ID)
		must(t, err)
		if len(log) != 3 || log[0].Status != 503 || log[2].Attempt != 3 || log[2].Error == "" {
			t.Errorf("tok-down log: %+v", log)
		}
		e.clock.Add(24 * time.Hour)
		e.drain(w)
		for tok, want := range map[string]int{"tok-ok": 1, "tok-gone": 1, "tok-invalid": 1, "tok-busy": 2, "tok-down": 3} {
			if n := len(e.fcm.to(tok)); n != want {
				t.Errorf("%s: %d FCM requests, want %d", tok, n, want)
			}
		}
		failed, err := e.svc.Deliveries(ctxT(t), courier.Actor{Role: courier.RoleAdmin}, courier.DeliveryFilter{Status: courier.DeliveryFailed})
		must(t, err)
		if len(failed) != 1 || failed[0].ID != d["tok-down"].ID {
			t.Errorf("dead letters: %+v", failed)
		}
	})
}

// TestTwoWorkers: two workers over two store handles (two replicas) drain
// one outbox at once; every message reaches every device exactly once.
func TestTwoWorkers(t *testing.T) {
	backends(t, func(t *testing.T, e *env) {
		e.courierDevice("phone-a", courier.PlatformAndroid)
		e.courierDevice("phone-b", courier.PlatformIOS)
		const messages = 30
		for i := range messages {
			e.queue(courier.TopicCourierMessage, fmt.Sprintf("courier_message:%d", i), map[string]any{"courier_id": e.courier.ID, "text": fmt.Sprint("message ", i)})
		}
		cfg := e.svc.Config()
		cfg.Batch = 4
		var wg sync.WaitGroup
		for range 2 {
			svc := notify.New(e.open(), e.clock, cfg, quiet())
			w := svc.NewWorker(e.sender, nil)
			wg.Go(func() {
				for range 50 {
					if n, err := w.Drain(ctxT(t)); err != nil {
						t.Error(err)
						return
					} else if n == 0 {
						return
					}
				}
			})
		}
		wg.Wait()
		e.drain(e.worker())
		seen := map[string]int{}
		for _, r := range e.fcm.requests() {
			m := r.Body["message"].(map[string]any)
			seen[m["token"].(string)+" "+m["notification"].(map[string]any)["body"].(string)]++
		}
		if len(seen) != 2*messages {
			t.Errorf("%d distinct pushes, want %d", len(seen), 2*messages)
		}
		for k, n := range seen {
			if n != 1 {
				t.Errorf("%s sent %d times", k, n)
			}
		}
		if n := len(e.fcm.requests()); n != 2*messages {
			t.Errorf("FCM got %d requests, want %d", n, 2*messages)
		}
	})
}

// TestWebhooks: a signed delivery, retried after a 500 (honouring
// Retry-After), logged per endpoint, and replayed.
func TestWebhooks(t *testing.T) {
	backends(t, func(t *testing.T, e *env) {
		const secret = "whsec-test-0123456789"
		type hit struct {
			header http.Header
			body   []byte
		}
		var (
			mu   sync.Mutex
			hits []hit
			fail = 1
		)
		recv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			body, _ := io.ReadAll(r.Body)
			if err := notify.Verify(secret, r.Header.Get(notify.HeaderSignature), body, e.clock.Now(), 5*time.Minute); err != nil {
				t.Errorf("signature: %v", err)
			}
			mu.Lock()
			hits = append(hits, hit{r.Header.Clone(), body})
			f := fail > 0
			fail--
			mu.Unlock()
			if f {
				w.Header().Set("Retry-After", "60")
				http.Error(w, "busy", http.StatusInternalServerError)
				return
			}
			w.WriteHeader(http.StatusNoContent)
		}))
		defer recv.Close()
		admin := courier.Actor{UserID: 1, Role: courier.RoleAdmin}
		s := secret
		ep, err := e.svc.CreateWebhook(ctxT(t), admin, notify.WebhookInput{URL: &recv.URL, Secret: &s, Events: &[]string{courier.TopicOrderStatus}})
		must(t, err)
		o := e.order("SHOP-9", courier.LatLng{Lat: 55.75, Lng: 37.61})
		e.queue(courier.TopicOrderStatus, "order_status:9:2", map[string]any{"order_id": o.ID, "external_id": "SHOP-9", "from": "ready",
			"to": "cancelled", "reason": "customer asked", "at": day0})
		e.queue(courier.TopicSheetPublished, "sheet_published:1:2", map[string]any{"sheet_id": 1, "courier_id": e.courier.ID}) // not subscribed
		w := e.worker()
		e.drain(w)
		list, err := e.svc.WebhookDeliveries(ctxT(t), admin, ep.ID, courier.DeliveryFilter{})
		must(t, err)
		if len(list) != 1 || list[0].Status != courier.DeliveryPending || list[0].LastStatus != 500 ||
			!list[0].NextAttemptAt.Equal(day0.Add(60*time.Second)) || list[0].LastError != "HTTP 500: Internal Server Error" {
			t.Fatalf("after a 500: %+v", list)
		}
		e.clock.Add(61 * time.Second)
		e.drain(w)
		list, err = e.svc.WebhookDeliveries(ctxT(t), admin, ep.ID, courier.DeliveryFilter{})
		must(t, err)
		if d := list[0]; d.Status != courier.DeliverySent || d.LastStatus != 204 || len(list[0].Attempts) != 2 ||
			list[0].Attempts[0].Status != 500 || list[0].Attempts[1].Status != 204 {
			t.Fatalf("after the retry: %+v %+v", d, list[0].Attempts)
		}
		mu.Lock()
		if len(hits) != 2 || string(hits[0].body) != string(hits[1].body) {
			t.Fatalf("%d hits", len(hits))
		}
		var body notify.WebhookBody
		must(t, json.Unmarshal(hits[1].body, &body))
		if body.Type != "order_status" || body.ID != hits[1].header.Get(notify.HeaderEventID) || hits[1].header.Get(notify.HeaderEvent) != "order_status" ||
			body.Data["to"] != "cancelled" || body.Data["external_id"] != "SHOP-9" || body.Data["reason"] != "customer asked" ||
			!strings.HasPrefix(fmt.Sprint(body.Data["tracking_url"]), "https://track.example.com/t/") {
			t.Errorf("webhook body %s headers %v", hits[1].body, hits[1].header)
		}
		mu.Unlock()
		// Replay the delivery: the same body and event id, signed anew.
		e.clock.Add(time.Hour)
		d, err := e.svc.ReplayWebhookDelivery(ctxT(t), admin, ep.ID, list[0].ID)
		must(t, err)
		if d.Status != courier.DeliveryPending {
			t.Errorf("replayed delivery is %s", d.Status)
		}
		_, err = e.svc.ReplayWebhookDelivery(ctxT(t), admin, ep.ID, list[0].ID)
		if courier.ErrorCode(err) != courier.ECONFLICT {
			t.Errorf("replaying a pending delivery: %v", err)
		}
		e.drain(w)
		mu.Lock()
		if len(hits) != 3 || string(hits[2].body) != string(hits[1].body) || hits[2].header.Get(notify.HeaderEventID) != body.ID ||
			hits[2].header.Get(notify.HeaderSignature) == hits[1].header.Get(notify.HeaderSignature) {
			t.Errorf("replay: %d hits", len(hits))
		}
		mu.Unlock()
		// Bad endpoints are refused.
		bad := "ftp://x"
		if _, err := e.svc.CreateWebhook(ctxT(t), admin, notify.WebhookInput{URL: &bad, Events: &[]string{"order_status"}}); courier.ErrorCode(err) != courier.EINVALID {
			t.Errorf("ftp URL: %v", err)
		}
		if _, err := e.svc.CreateWebhook(ctxT(t), admin, notify.WebhookInput{URL: &recv.URL, Events: &[]string{"nope"}}); courier.ErrorCode(err) != courier.EINVALID {
			t.Errorf("unknown event: %v", err)
		}
		if _, err := e.svc.CreateWebhook(ctxT(t), courier.Actor{Role: courier.RoleDispatcher}, notify.WebhookInput{URL: &recv.URL}); courier.ErrorCode(err) != courier.EFORBIDDEN {
			t.Errorf("dispatcher: %v", err)
		}
	})
}

// TestArrivingAndTracking: the arrival check queues "arriving" once for the
// order the courier is near, the customer gets the ETA, and the tracking
// view shows the courier only for the next stops.
func TestArrivingAndTracking(t *testing.T) {
	backends(t, func(t *testing.T, e *env) {
		near := e.order("NEAR-1", courier.LatLng{Lat: 55.7420, Lng: 37.6200})
		far := e.order("FAR-1", courier.LatLng{Lat: 56.0500, Lng: 37.9000})
		sh := e.activeSheet(near, far)
		e.customerDevice(near, "near-phone", courier.PlatformAndroid)
		e.customerDevice(far, "far-phone", courier.PlatformAndroid)
		// Before any GPS fix nothing is queued.
		n, err := e.svc.ScanArrivals(ctxT(t))
		must(t, err)
		if n != 0 {
			t.Errorf("queued %d without a position", n)
		}
		e.pos.set(e.courier.ID, courier.LatLng{Lat: 55.7296, Lng: 37.6453}, e.clock.Now())
		if n, err = e.svc.ScanArrivals(ctxT(t)); err != nil || n != 1 {
			t.Fatalf("queued %d, %v; want 1", n, err)
		}
		if n, err = e.svc.ScanArrivals(ctxT(t)); err != nil || n != 0 {
			t.Fatalf("second scan queued %d, %v; want 0", n, err)
		}
		e.drain(e.worker())
		got := e.fcm.to("near-phone")
		if len(got) != 1 || len(e.fcm.to("far-phone")) != 0 {
			t.Fatalf("near %d, far %d pushes", len(got), len(e.fcm.to("far-phone")))
		}
		body := got[0]["notification"].(map[string]any)["body"].(string)
		if !strings.HasPrefix(body, "The courier will be with you in about ") || !strings.Contains(body, "https://track.example.com/t/") {
			t.Errorf("arriving body %q", body)
		}
		data := got[0]["data"].(map[string]any)
		if data["type"] != courier.TopicCustomerArriving || data["status"] != "arriving" || data["eta"] == "" {
			t.Errorf("arriving data %v", data)
		}

		staffActor := courier.Actor{UserID: 1, Role: courier.RoleDispatcher}
		nearTok, _, err := e.svc.TrackingLink(ctxT(t), staffActor, near.ID)
		must(t, err)
		farTok, _, err := e.svc.TrackingLink(ctxT(t), staffActor, far.ID)
		must(t, err)
		v, err := e.svc.Track(ctxT(t), nearTok)
		must(t, err)
		if v.Status != courier.StatusOutForDelivery || v.StopsAhead != 0 || v.Courier == nil || v.ETA.IsZero() ||
			v.ETA.Sub(e.clock.Now()) > 60*time.Minute || v.OrderNumber != "NEAR-1" {
			t.Errorf("near view %+v", v)
		}
		// The next stop's customer sees the courier, to 3 decimals (the GPS said 55.7296, 37.6453).
		if v.Courier != nil && (*v.Courier != courier.LatLng{Lat: 55.730, Lng: 37.645}) {
			t.Errorf("near view shows the courier at %v, want 55.730, 37.645", *v.Courier)
		}
		// The customer after them sees how many stops come first and the ETA, not the courier.
		v, err = e.svc.Track(ctxT(t), farTok)
		must(t, err)
		if v.StopsAhead != 1 || v.Courier != nil || v.ETA.IsZero() {
			t.Errorf("far view %+v", v)
		}
		if _, err := e.svc.Track(ctxT(t), "AAAAAAAAAAAAAAAAAAAAAAAA"); courier.ErrorCode(err) != courier.ENOTFOUND {
			t.Errorf("unknown token: %v", err)
		}
		// Delivered: no courier on the page; a week later the link is gone.
		_, err = e.db.UpdateOrder(ctxT(t), near.ID, func(o *courier.Order) ([]courier.OrderEvent, error) {
			o.Status = courier.StatusDelivered
			return []courier.OrderEvent{{Kind: courier.EventStatus, FromStatus: courier.StatusOutForDelivery, ToStatus: o.Status}}, nil
		})
		must(t, err)
		if v, err = e.svc.Track(ctxT(t), nearTok); err != nil || v.Courier != nil || v.Status != courier.StatusDelivered {
			t.Errorf("delivered view %+v, %v", v, err)
		}
		e.clock.Add(8 * 24 * time.Hour)
		if _, err := e.svc.Track(ctxT(t), nearTok); courier.ErrorCode(err) != courier.ENOTFOUND {
			t.Errorf("expired link: %v", err)
		}
		_ = sh
	})
}

// TestRussianTemplates: the company language shapes the customer's text.
func TestRussianTemplates(t *testing.T) {
	e := newEnv(t, t.TempDir()+"/ru.db")
	ru := notify.New(e.db, e.clock, notify.Config{Language: "ru", Location: msk, PublicURL: "https://t.example.ru"}, quiet())
	o := e.order("RU-1", courier.LatLng{Lat: 55.75, Lng: 37.61})
	e.customerDevice(o, "ru-phone", courier.PlatformIOS)
	e.queue(courier.TopicOrderStatus, "order_status:ru:1", map[string]any{"order_id": o.ID, "from": "out_for_delivery", "to": "failed_attempt",
		"reason": "не было дома"})
	e.queue(courier.TopicOrderOutForDelivery, "out_for_delivery:ru:1", map[string]any{"order_id": o.ID, "sheet_id": 1})
	if _, err := ru.NewWorker(e.sender, nil).Drain(ctxT(t)); err != nil {
		t.Fatal(err)
	}
	got := e.fcm.to("ru-phone")
	if len(got) != 2 {
		t.Fatalf("%d pushes", len(got))
	}
	// The two pushes go out at once: in either order.
	if got[0]["data"].(map[string]any)["type"] != courier.TopicOrderStatus {
		got[0], got[1] = got[1], got[0]
	}
	n := got[0]["notification"].(map[string]any)
	if n["title"] != "Не удалось доставить заказ RU-1" || !strings.HasPrefix(n["body"].(string), "Причина: не было дома. Мы свяжемся с вами") {
		t.Errorf("failed attempt: %v", n)
	}
	n = got[1]["notification"].(map[string]any)
	if n["title"] != "Заказ RU-1 в пути" || !strings.HasPrefix(n["body"].(string), "Курьер приедет сегодня с 10:00 до 13:00. Отследить: https://t.example.ru/t/") {
		t.Errorf("out for delivery: %v", n)
	}
}

// TestFailedAttemptWords: a courier's fail reason reaches the customer in
// words, and a reschedule says the day they asked for.
func TestFailedAttemptWords(t *testing.T) {
	e := newEnv(t, t.TempDir()+"/words.db")
	ru := notify.New(e.db, e.clock, notify.Config{Language: "ru", Location: msk, PublicURL: "https://t.example.ru"}, quiet())
	o := e.order("RU-2", courier.LatLng{Lat: 55.75, Lng: 37.61})
	e.customerDevice(o, "ru-phone-2", courier.PlatformAndroid)
	e.queue(courier.TopicOrderStatus, "order_status:ru:2", map[string]any{"order_id": o.ID, "from": "out_for_delivery", "to": "failed_attempt",
		"reason": "reschedule", "wished_date": "2026-11-25"})
	if _, err := ru.NewWorker(e.sender, nil).Drain(ctxT(t)); err != nil {
		t.Fatal(err)
	}
	got := e.fcm.to("ru-phone-2")
	if len(got) != 1 {
		t.Fatalf("%d pushes", len(got))
	}
	n := got[0]["notification"].(map[string]any)
	if !strings.HasPrefix(n["body"].(string), "Причина: вы попросили другой день. Как вы просили, привезём 25.11; время сообщим.") ||
		got[0]["data"].(map[string]any)["wished_date"] != "2026-11-25" {
		t.Errorf("rescheduled: %v %v", n, got[0]["data"])
	}
}

// TestStalePush: a push whose change is older than PushMaxAge is not sent
// (the message counts as handled); a delivery that waits too long expires.
func TestStalePush(t *testing.T) {
	e := newEnv(t, t.TempDir()+"/stale.db")
	e.courierDevice("old-phone", courier.PlatformAndroid)
	e.queue(courier.TopicCourierMessage, "courier_message:old", map[string]any{"courier_id": e.courier.ID, "text": "yesterday's news"})
	e.clock.Add(7 * time.Hour)
	w := e.worker()
	e.drain(w)
	if n := len(e.fcm.requests()); n != 0 {
		t.Errorf("a stale push was sent (%d requests)", n)
	}
	msgs, err := e.db.OutboxMessages(ctxT(t), courier.TopicCourierMessage, 0, 10)
	must(t, err)
	if len(msgs) != 1 || msgs[0].SentAt.IsZero() {
		t.Errorf("outbox %+v", msgs)
	}
	// A delivery retried past the max age gives up.
	e.fcm.answer("old-phone", quota429)
	e.queue(courier.TopicCourierMessage, "courier_message:new", map[string]any{"courier_id": e.courier.ID, "text": "now"})
	e.drain(w)
	e.clock.Add(7 * time.Hour)
	e.drain(w)
	list := e.deliveries(courier.DeliveryFilter{})
	if len(list) != 1 || list[0].Status != courier.DeliveryFailed || !strings.Contains(list[0].LastError, "expired") || len(e.fcm.requests()) != 1 {
		t.Errorf("deliveries %+v, %d requests", list, len(e.fcm.requests()))
	}
}

// TestDeviceLimit: an order keeps at most MaxDevices tokens, the freshest.
func TestDeviceLimit(t *testing.T) {
	e := newEnv(t, t.TempDir()+"/limit.db")
	o := e.order("LIM-1", courier.LatLng{Lat: 55.75, Lng: 37.61})
	for i := range notify.MaxDevices + 3 {
		e.customerDevice(o, fmt.Sprint("tok-", i), courier.PlatformAndroid)
		e.clock.Add(time.Second)
	}
	list, err := e.db.Devices(ctxT(t), courier.AppCustomer, 0, o.ID)
	must(t, err)
	if len(list) != notify.MaxDevices || list[0].Token != "tok-3" {
		t.Errorf("%d devices, first %s", len(list), list[0].Token)
	}
}

// TestPurge: finished deliveries and handled messages go after Retention;
// pending ones stay.
func TestPurge(t *testing.T) {
	backends(t, func(t *testing.T, e *env) {
		e.courierDevice("p-ok", courier.PlatformAndroid)
		e.courierDevice("p-busy", courier.PlatformAndroid)
		e.fcm.answer("p-busy", fcmAnswer{status: 429, header: map[string]string{"Retry-After": "3600000"}, body: quota429.body})
		e.queue(courier.TopicCourierMessage, "courier_message:p", map[string]any{"courier_id": e.courier.ID, "text": "x"})
		e.drain(e.worker())
		e.clock.Add(29 * 24 * time.Hour)
		if d, m, err := e.svc.Purge(ctxT(t)); err != nil || d != 0 || m != 0 {
			t.Fatalf("early purge: %d, %d, %v", d, m, err)
		}
		e.clock.Add(2 * 24 * time.Hour)
		d, m, err := e.svc.Purge(ctxT(t))
		must(t, err)
		if d != 1 || m != 0 { // the pending delivery keeps its message
			t.Errorf("purged %d deliveries, %d messages", d, m)
		}
		if left := e.deliveries(courier.DeliveryFilter{}); len(left) != 1 || left[0].Status != courier.DeliveryPending {
			t.Errorf("left %+v", left)
		}
	})
}

// TestLeases: a worker that dies holding leases stops nobody for longer
// than the lease, and its late writes are refused.
func TestLeases(t *testing.T) {
	backends(t, func(t *testing.T, e *env) {
		e.courierDevice("lease-phone", courier.PlatformAndroid)
		e.queue(courier.TopicCourierMessage, "courier_message:lease", map[string]any{"courier_id": e.courier.ID, "text": "x"})
		ctx := ctxT(t)
		lease := e.svc.Config().Lease
		// A dead worker leased the message.
		msgs, err := e.db.ClaimOutbox(ctx, "dead", e.clock.Now(), lease, 10)
		must(t, err)
		if len(msgs) != 1 {
			t.Fatalf("claimed %d", len(msgs))
		}
		w := e.worker()
		if e.drain(w); len(e.deliveries(courier.DeliveryFilter{})) != 0 {
			t.Fatal("a leased message was expanded by another worker")
		}
		e.clock.Add(lease + time.Second)
		e.drain(w)
		if n := len(e.fcm.to("lease-phone")); n != 1 {
			t.Fatalf("%d pushes after the lease ran out", n)
		}
		if err := e.db.ExpandOutbox(ctx, msgs[0].ID, "dead", nil, e.clock.Now()); courier.ErrorCode(err) != courier.ECONFLICT {
			t.Errorf("the dead worker's late expansion: %v", err)
		}
		// The same for a delivery: leased by a dead worker, sent once after its lease.
		e.queue(courier.TopicCourierMessage, "courier_message:lease2", map[string]any{"courier_id": e.courier.ID, "text": "y"})
		_, err = w.ExpandDue(ctx)
		must(t, err)
		ds, err := e.db.ClaimDeliveries(ctx, "dead", "", e.clock.Now(), lease, 10)
		must(t, err)
		if len(ds) != 1 {
			t.Fatalf("claimed %d deliveries", len(ds))
		}
		e.drain(w)
		if n := len(e.fcm.to("lease-phone")); n != 1 {
			t.Fatalf("a leased delivery was sent by another worker")
		}
		e.clock.Add(lease + time.Second)
		e.drain(w)
		if n := len(e.fcm.to("lease-phone")); n != 2 {
			t.Fatalf("%d pushes, want 2", n)
		}
		err = e.db.FinishDelivery(ctx, ds[0].ID, "dead", courier.DeliveryResult{Status: courier.DeliverySent, At: e.clock.Now()})
		if courier.ErrorCode(err) != courier.ECONFLICT {
			t.Errorf("the dead worker's late result: %v", err)
		}
		if d, _ := e.db.Delivery(ctx, ds[0].ID); d.Status != courier.DeliverySent || d.Attempts != 2 {
			t.Errorf("delivery %+v", d)
		}
	})
}

// TestStartedSheetWebhook: orders going out with a started sheet reach the
// shop as order_status events like any other change.
func TestStartedSheetWebhook(t *testing.T) {
	e := newEnv(t, t.TempDir()+"/started.db")
	bodies := make(chan []byte, 4)
	recv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		bodies <- b
	}))
	defer recv.Close()
	if _, err := e.svc.CreateWebhook(ctxT(t), courier.Actor{Role: courier.RoleAdmin}, notify.WebhookInput{URL: &recv.URL,
		Events: &[]string{courier.TopicOrderStatus}}); err != nil {
		t.Fatal(err)
	}
	o := e.order("GO-1", courier.LatLng{Lat: 55.75, Lng: 37.61})
	e.queue(courier.TopicOrderOutForDelivery, "out_for_delivery:go:1", map[string]any{"type": "out_for_delivery", "order_id": o.ID, "sheet_id": 3})
	e.drain(e.worker())
	var body notify.WebhookBody
	must(t, json.Unmarshal(<-bodies, &body))
	if body.Type != courier.TopicOrderStatus || body.Data["from"] != "planned" || body.Data["to"] != "out_for_delivery" ||
		body.Data["external_id"] != "GO-1" || body.Data["sheet_id"] != float64(3) || body.Data["at"] == nil {
		t.Errorf("body %+v", body)
	}
}
