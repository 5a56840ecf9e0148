package notify_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/courierhq/courier"
	"github.com/courierhq/courier/geo"
	"github.com/courierhq/courier/internal/testsvc"
	"github.com/courierhq/courier/notify"
	"github.com/courierhq/courier/notify/fcm"
	"github.com/courierhq/courier/store"
)

// clock is a settable clock shared by the stores and the service. It stands
// still unless Run makes it follow the real time.
type clock struct {
	mu    sync.Mutex
	t     time.Time
	since time.Time // when the clock was set running; zero when it stands still
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.since.IsZero() {
		return c.t.Add(time.Since(c.since))
	}
	return c.t
}
func (c *clock) Add(d time.Duration)    { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }
func (c *clock) Set(t time.Time)        { c.mu.Lock(); c.t = t; c.mu.Unlock() }
func (c *clock) Run()                   { c.mu.Lock(); c.since = time.Now(); c.mu.Unlock() }
func ctxT(t testing.TB) context.Context { return t.Context() }

var msk, _ = time.LoadLocation("Europe/Moscow")

// day0 is 09:00 Moscow time on the test day.
var day0 = time.Date(2026, 11, 23, 6, 0, 0, 0, time.UTC)

// env is a store with a depot, a courier with a login, and orders, a
// notify service over it and a fake FCM.
type env struct {
	t       testing.TB
	url     string
	db      *store.DB
	clock   *clock
	svc     *notify.Service
	fcm     *fakeFCM
	sender  *fcm.Sender
	depot   *courier.Depot
	courier *courier.Courier
	user    *courier.User
	pos     *positions
}

// backends runs fn on SQLite and on a fresh PostgreSQL database.
func backends(t *testing.T, fn func(t *testing.T, e *env)) {
	t.Run("sqlite", func(t *testing.T) { fn(t, newEnv(t, filepath.Join(t.TempDir(), "n.db"))) })
	t.Run("postgres", func(t *testing.T) { fn(t, newEnv(t, testsvc.PostgresURL(t))) })
}

// loopbackAllowed lets webhooks reach the tests' receivers on 127.0.0.1
// (COURIER_WEBHOOK_ALLOWED_NETS=127.0.0.0/8).
var loopbackAllowed = notify.TargetPolicy{Allowed: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}}

func quiet() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func newEnv(t testing.TB, url string) *env {
	t.Helper()
	e := &env{t: t, url: url, clock: &clock{t: day0}, pos: &positions{at: map[int64]*geo.Position{}}}
	e.db = e.open()
	e.svc = notify.New(e.db, e.clock, notify.Config{Language: "en", Location: msk, PublicURL: "https://track.example.com",
		Company: "Test Delivery", BaseBackoff: 10 * time.Second, MaxBackoff: time.Hour, MaxAttempts: 3, WebhookTargets: loopbackAllowed}, quiet())
	e.svc.SetPositions(e.pos)
	e.fcm = newFakeFCM(t)
	var err error
	e.sender, err = fcm.New(ctxT(t), fcm.Config{Endpoint: e.fcm.srv.URL, ProjectID: "p"})
	if err != nil {
		t.Fatal(err)
	}
	ctx := ctxT(t)
	e.depot = &courier.Depot{Name: "Main", Location: courier.LatLng{Lat: 55.7296, Lng: 37.6453}, Opens: "07:00", Closes: "23:00"}
	must(t, e.db.CreateDepot(ctx, e.depot))
	e.user = &courier.User{Login: "courier1", Role: courier.RoleCourier, Active: true}
	e.courier = &courier.Courier{Name: "Ivan", Phone: "+7 916 555-00-11", Vehicle: courier.Vehicle{Type: courier.VehicleCar},
		Shift: courier.Shift{Start: "09:00", End: "18:00"}, DepotID: e.depot.ID, Active: true}
	must(t, e.db.CreateCourier(ctx, e.courier, e.user))
	return e
}

// open opens another handle on the env's database (a second replica).
func (e *env) open() *store.DB {
	e.t.Helper()
	db, err := store.Open(context.Background(), e.url, store.WithClock(e.clock))
	if err != nil {
		e.t.Fatal(err)
	}
	e.t.Cleanup(func() { db.Close() })
	return db
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// order creates an order with a 10:00-13:00 Moscow window at loc.
func (e *env) order(ext string, loc courier.LatLng) *courier.Order {
	e.t.Helper()
	o := &courier.Order{ExternalID: ext, Customer: courier.Customer{Name: "Anna", Phone: "+7 903 123-45-67"}, Address: "Tverskaya 7",
		Location: loc, DeliveryDate: "2026-11-23", TimeWindow: &courier.TimeWindow{From: day0.Add(time.Hour), To: day0.Add(4 * time.Hour)},
		ServiceMinutes: 5, Items: []courier.Item{}, COD: courier.COD{Currency: "RUB", Method: courier.PayPrepaid},
		Status: courier.StatusReady, PaymentStatus: courier.PaymentPrepaid, DepotID: e.depot.ID}
	must(e.t, e.db.CreateOrder(ctxT(e.t), o, nil))
	return o
}

// activeSheet puts orders on an active sheet of the courier, out for delivery.
func (e *env) activeSheet(orders ...*courier.Order) *courier.RouteSheet {
	e.t.Helper()
	ctx := ctxT(e.t)
	p := &courier.Plan{Date: "2026-11-23", DepotID: e.depot.ID, Status: courier.PlanDone}
	must(e.t, e.db.CreatePlan(ctx, p))
	sh := &courier.RouteSheet{CourierID: e.courier.ID, DepotID: e.depot.ID, Date: "2026-11-23", Status: courier.SheetDraft,
		Start: day0, End: day0.Add(8 * time.Hour)}
	var ids []int64
	for i, o := range orders {
		eta := day0.Add(time.Duration(i+1) * time.Hour)
		sh.Stops = append(sh.Stops, courier.SheetStop{OrderID: o.ID, Seq: i + 1, ETA: eta, ETAFrom: eta.Add(-30 * time.Minute), ETATo: eta.Add(30 * time.Minute)})
		ids = append(ids, o.ID)
	}
	must(e.t, e.db.ReplaceDraftSheets(ctx, p.ID, []*courier.RouteSheet{sh}))
	now := e.clock.Now()
	sheets, err := e.db.UpdateSheets(ctx, []int64{sh.ID}, ids, func(sheets []*courier.RouteSheet, m map[int64]*courier.Order) ([]courier.OrderEvent, error) {
		sheets[0].Status, sheets[0].PublishedAt, sheets[0].StartedAt = courier.SheetActive, &now, &now
		var evs []courier.OrderEvent
		for _, o := range m {
			o.Status, o.CourierID, o.RouteSheetID = courier.StatusOutForDelivery, e.courier.ID, sheets[0].ID
			evs = append(evs, courier.OrderEvent{OrderID: o.ID, Kind: courier.EventStatus, FromStatus: courier.StatusReady, ToStatus: o.Status})
		}
		return evs, nil
	})
	must(e.t, err)
	return sheets[0]
}

func (e *env) courierDevice(token, platform string) *courier.Device {
	e.t.Helper()
	d, err := e.svc.RegisterCourierDevice(ctxT(e.t), courier.Actor{UserID: e.user.ID, Role: courier.RoleCourier, CourierID: e.courier.ID},
		notify.DeviceInput{Token: token, Platform: platform, App: courier.AppCourier})
	must(e.t, err)
	return d
}

func (e *env) customerDevice(o *courier.Order, token, platform string) *courier.Device {
	e.t.Helper()
	tok, _, err := e.svc.TrackingLink(ctxT(e.t), courier.Actor{UserID: 1, Role: courier.RoleAdmin}, o.ID)
	must(e.t, err)
	d, err := e.svc.RegisterCustomerDevice(ctxT(e.t), tok, notify.DeviceInput{Token: token, Platform: platform, App: courier.AppCustomer})
	must(e.t, err)
	return d
}

func (e *env) queue(topic, key string, payload map[string]any) {
	e.t.Helper()
	b, _ := json.Marshal(payload)
	n, err := e.db.QueueOutbox(ctxT(e.t), courier.OutboxMessage{Topic: topic, Key: key, Payload: b})
	must(e.t, err)
	if n != 1 {
		e.t.Fatalf("queued %d messages, want 1", n)
	}
}

func (e *env) worker() *notify.Worker { return e.svc.NewWorker(e.sender, nil) }

func (e *env) drain(w *notify.Worker) int {
	e.t.Helper()
	n, err := w.Drain(ctxT(e.t))
	must(e.t, err)
	return n
}

func (e *env) deliveries(f courier.DeliveryFilter) []*courier.Delivery {
	e.t.Helper()
	list, err := e.db.Deliveries(ctxT(e.t), f)
	must(e.t, err)
	return list
}

// positions is a fake of the tracker's live positions.
type positions struct {
	mu sync.Mutex
	at map[int64]*geo.Position
}

func (p *positions) Location(_ context.Context, id int64) (*geo.Position, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if pos, ok := p.at[id]; ok {
		c := *pos
		return &c, nil
	}
	return nil, courier.Errorf(courier.ENOTFOUND, "no position")
}

func (p *positions) set(id int64, loc courier.LatLng, at time.Time) {
	p.mu.Lock()
	p.at[id] = &geo.Position{CourierID: id, Location: loc, RecordedAt: at, ReceivedAt: at}
	p.mu.Unlock()
}

// fakeFCM is an FCM HTTP v1 server: it records every request and answers
// per device token from a script (default 200).
type fakeFCM struct {
	t   testing.TB
	srv *httptest.Server
	mu  sync.Mutex
	got []fcmRequest
	// script: token -> answers to give in turn (the last one repeats)
	script map[string][]fcmAnswer
	n      int
	// outage, when it returns an answer, answers before the script (FCM is down).
	outage func() *fcmAnswer
	// now, when set, stamps each request with the test's clock.
	now func() time.Time
}

type fcmRequest struct {
	At     time.Time // by the test's clock (fakeFCM.now), when set
	Status int       // what the fake answered
	Path   string
	Header http.Header
	Body   map[string]any
	Raw    string
}

type fcmAnswer struct {
	status int
	body   string
	header map[string]string
}

var (
	ok200         = fcmAnswer{status: 200}
	unregistered  = fcmAnswer{status: 404, body: `{"error":{"code":404,"message":"Requested entity was not found.","status":"NOT_FOUND","details":[{"@type":"type.googleapis.com/google.firebase.fcm.v1.FcmError","errorCode":"UNREGISTERED"}]}}`}
	invalidToken  = fcmAnswer{status: 400, body: `{"error":{"code":400,"message":"The registration token is not a valid FCM registration token","status":"INVALID_ARGUMENT","details":[{"@type":"type.googleapis.com/google.firebase.fcm.v1.FcmError","errorCode":"INVALID_ARGUMENT"}]}}`}
	quota429      = fcmAnswer{status: 429, header: map[string]string{"Retry-After": "120"}, body: `{"error":{"code":429,"message":"Quota exceeded.","status":"RESOURCE_EXHAUSTED","details":[{"@type":"type.googleapis.com/google.firebase.fcm.v1.FcmError","errorCode":"QUOTA_EXCEEDED"}]}}`}
	unavailable   = fcmAnswer{status: 503, body: `{"error":{"code":503,"message":"The service is currently unavailable.","status":"UNAVAILABLE","details":[{"@type":"type.googleapis.com/google.firebase.fcm.v1.FcmError","errorCode":"UNAVAILABLE"}]}}`}
	unavailable30 = fcmAnswer{status: 503, header: map[string]string{"Retry-After": "30"}, body: unavailable.body}
)

func newFakeFCM(t testing.TB) *fakeFCM {
	f := &fakeFCM{t: t, script: map[string][]fcmAnswer{}}
	f.srv = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fakeFCM) serve(w http.ResponseWriter, r *http.Request) {
	raw, _ := io.ReadAll(r.Body)
	var body map[string]any
	if err := json.Unmarshal(raw, &body); err != nil {
		f.t.Errorf("fake FCM: body %s: %v", raw, err)
	}
	f.mu.Lock()
	req := fcmRequest{Path: r.Method + " " + r.URL.Path, Header: r.Header.Clone(), Body: body, Raw: string(raw)}
	if f.now != nil {
		req.At = f.now()
	}
	f.got = append(f.got, req)
	token := ""
	if m, ok := body["message"].(map[string]any); ok {
		token, _ = m["token"].(string)
	}
	a := ok200
	if down := f.outage; down != nil && down() != nil {
		a = *down()
	} else if list := f.script[token]; len(list) > 0 {
		a = list[0]
		if len(list) > 1 {
			f.script[token] = list[1:]
		}
	}
	f.got[len(f.got)-1].Status = a.status
	f.n++
	n := f.n
	f.mu.Unlock()
	for k, v := range a.header {
		w.Header().Set(k, v)
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(a.status)
	if a.status == 200 {
		_, _ = io.WriteString(w, `{"name":"projects/p/messages/m`+itoa(n)+`"}`)
		return
	}
	_, _ = io.WriteString(w, a.body)
}

func (f *fakeFCM) answer(token string, answers ...fcmAnswer) {
	f.mu.Lock()
	f.script[token] = answers
	f.mu.Unlock()
}

func (f *fakeFCM) requests() []fcmRequest {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]fcmRequest(nil), f.got...)
}

// count is how many requests came.
func (f *fakeFCM) count() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.got)
}

// to returns the messages sent to token.
func (f *fakeFCM) to(token string) []map[string]any {
	var out []map[string]any
	for _, r := range f.requests() {
		if m, ok := r.Body["message"].(map[string]any); ok && m["token"] == token {
			out = append(out, m)
		}
	}
	return out
}

func itoa(n int) string { return strconv.Itoa(n) }
