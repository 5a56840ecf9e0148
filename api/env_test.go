package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/courierhq/courier"
	"github.com/courierhq/courier/api"
	"github.com/courierhq/courier/auth"
	"github.com/courierhq/courier/cashdesk"
	"github.com/courierhq/courier/dispatch"
	"github.com/courierhq/courier/geo"
	"github.com/courierhq/courier/internal/testsvc"
	"github.com/courierhq/courier/notify"
	"github.com/courierhq/courier/reports"
	"github.com/courierhq/courier/sheetpdf"
	"github.com/courierhq/courier/store"
	"github.com/courierhq/courier/throttle"
	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"
	"github.com/redis/go-redis/v9"
)

const (
	testSecret       = "test-secret-test-secret-test-secret-0123456789"
	testMetricsToken = "test-metrics-token-0123456789"
)

// fixedClock is a settable clock.
type fixedClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fixedClock) Now() time.Time  { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *fixedClock) Set(t time.Time) { c.mu.Lock(); c.t = t; c.mu.Unlock() }

// exercised collects "METHOD /template" of every route any test of the
// package sent a request to; TestMain checks that every route was.
var exercised sync.Map

var (
	specOnce   sync.Once
	specRouter routers.Router
	specErr    error
)

// contract loads mobile-api-spec/openapi.yaml once.
func contract(t testing.TB) routers.Router {
	t.Helper()
	specOnce.Do(func() {
		openapi3filter.RegisterBodyDecoder("text/event-stream", openapi3filter.PlainBodyDecoder)
		openapi3filter.RegisterBodyDecoder("text/csv", openapi3filter.PlainBodyDecoder)
		openapi3filter.RegisterBodyDecoder("application/geo+json", openapi3filter.JSONBodyDecoder)
		openapi3filter.RegisterBodyDecoder("application/pdf", openapi3filter.FileBodyDecoder)
		loader := openapi3.NewLoader()
		doc, err := loader.LoadFromFile(filepath.Join("..", "mobile-api-spec", "openapi.yaml"))
		if err != nil {
			specErr = err
			return
		}
		if specErr = doc.Validate(context.Background()); specErr != nil {
			return
		}
		specRouter, specErr = gorillamux.NewRouter(doc)
	})
	if specErr != nil {
		t.Fatalf("openapi.yaml: %v", specErr)
	}
	return specRouter
}

// env is a server over a fresh SQLite store with a depot, staff and two couriers.
type env struct {
	t       testing.TB
	clock   *fixedClock
	db      *store.DB
	srv     *api.Server
	svc     *dispatch.Service
	notify  *notify.Service
	mini    *miniredis.Miniredis
	tokens  map[string]string // login -> access token
	depotID int64
	courier map[string]int64 // login -> courier id
}

var day = time.Date(2026, 11, 23, 0, 0, 0, 0, time.UTC)

func newEnv(t *testing.T) *env {
	t.Helper()
	return newEnvOn(t, filepath.Join(t.TempDir(), "api.db"))
}

// backends runs fn against SQLite and against a fresh PostgreSQL database.
func backends(t *testing.T, fn func(t *testing.T, e *env)) {
	t.Run("sqlite", func(t *testing.T) { fn(t, newEnv(t)) })
	t.Run("postgres", func(t *testing.T) { fn(t, newEnvOn(t, testsvc.PostgresURL(t))) })
}

// newEnvOn builds the env over the store at dbURL.
func newEnvOn(t testing.TB, dbURL string) *env {
	t.Helper()
	ctx := context.Background()
	clock := &fixedClock{t: day.Add(7 * time.Hour)}
	db, err := store.Open(ctx, dbURL, store.WithClock(clock))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	mini := miniredis.RunT(t)
	rdb := redis.NewClient(&redis.Options{Addr: mini.Addr()})
	t.Cleanup(func() { rdb.Close() })
	tokens, err := auth.NewTokens(auth.KeyConfig{Algorithm: "HS256", Secret: []byte(testSecret), Issuer: "courierd",
		Audience: "courier-api", AccessTTL: 15 * time.Minute, RefreshTTL: 24 * time.Hour}, clock)
	if err != nil {
		t.Fatal(err)
	}
	users := auth.NewUsers(db, tokens, throttle.NewLogins(rdb, "throttle:", nil), auth.DefaultLimits, 4)
	msk, _ := time.LoadLocation("Europe/Moscow")
	svc := dispatch.New(db, clock, dispatch.Config{Currency: "RUB", Location: msk, Tariff: dispatch.DefaultTariff, DefaultServiceMinutes: 5}, geo.NewZones(db), users)
	svc.SetSolver(dispatch.SolverSettings{MaxIterations: 300}) // deterministic and quick
	t.Cleanup(svc.Close)
	tracker := geo.NewTracker(rdb, clock, geo.TrackerConfig{Fleet: "test"}.WithDefaults(), svc)
	db.OnPlansChanged(tracker.PlansChangedHook(time.Second, slog.New(slog.NewTextHandler(io.Discard, nil))))
	notes := notify.New(db, clock, notify.Config{Language: "en", Location: msk, Company: "Test Delivery", PublicURL: "https://track.example.com",
		WebhookTargets: notify.TargetPolicy{Allowed: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}}},
		slog.New(slog.NewTextHandler(io.Discard, nil)))
	notes.SetPositions(tracker)
	printer, err := sheetpdf.New("", "ru", "RUB", msk)
	if err != nil {
		t.Fatal(err)
	}
	srv := api.New(api.Deps{Log: slog.New(slog.NewTextHandler(io.Discard, nil)), Clock: clock, Store: db, Users: users, Dispatch: svc, Tracker: tracker,
		Printer: printer, Company: "Test Delivery", Cashdesk: cashdesk.New(db, clock, cashdesk.Config{Currency: "RUB", Location: msk}), Notify: notes,
		Reports:      reports.New(db, clock, reports.Config{Currency: "RUB", Location: msk}, tracker, slog.New(slog.NewTextHandler(io.Discard, nil))),
		Ready:        map[string]func(context.Context) error{"store": db.Ping, "redis": func(ctx context.Context) error { return rdb.Ping(ctx).Err() }},
		MetricsToken: testMetricsToken, TrustedProxies: []string{"192.0.2.1"}}) // httptest's client address
	e := &env{t: t, clock: clock, db: db, srv: srv, svc: svc, notify: notes, mini: mini, tokens: map[string]string{}, courier: map[string]int64{}}

	hash, _ := users.HashPassword("password", "admin-pass")
	if err := db.CreateUser(ctx, &courier.User{Login: "admin", Role: courier.RoleAdmin, PasswordHash: hash, Active: true}); err != nil {
		t.Fatal(err)
	}
	e.login("admin", "admin-pass")
	for _, u := range []struct{ login, role string }{{"dispatcher", "dispatcher"}, {"cashier", "cashier"}} {
		e.must(e.do("POST", "/api/v1/users", "admin", map[string]any{"login": u.login, "name": u.login, "role": u.role, "password": "secret-" + u.login}), 201)
		e.login(u.login, "secret-"+u.login)
	}
	var d struct{ ID int64 }
	e.decode(e.must(e.do("POST", "/api/v1/depots", "dispatcher", map[string]any{"name": "Main", "address": "Kozhevnicheskaya 14",
		"location": map[string]any{"lat": 55.7296, "lng": 37.6453}, "opening_hours": map[string]any{"opens": "07:00", "closes": "23:00"}}), 201), &d)
	e.depotID = d.ID
	for _, login := range []string{"courier1", "courier2"} {
		var c struct{ ID int64 }
		e.decode(e.must(e.do("POST", "/api/v1/couriers", "dispatcher", map[string]any{"name": "Courier " + login, "phone": "+7 916 555-00-11",
			"login": login, "password": "pw-" + login, "vehicle": map[string]any{"type": "car", "capacity_kg": 200, "capacity_l": 500, "max_stops": 30},
			"shift": map[string]any{"start": "09:00", "end": "18:00"}, "depot_id": e.depotID}), 201), &c)
		e.courier[login] = c.ID
		e.login(login, "pw-"+login)
	}
	return e
}

func (e *env) login(login, password string) {
	e.t.Helper()
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	e.decode(e.must(e.do("POST", "/api/v1/auth/login", "", map[string]any{"login": login, "password": password}), 200), &tok)
	e.tokens[login] = tok.AccessToken
}

// response is a recorded answer.
type response struct {
	Status int
	Header http.Header
	Body   []byte
}

// errorCode returns the error code of an error response.
func (r *response) errorCode() string {
	var b struct {
		Error struct{ Code string } `json:"error"`
	}
	_ = json.Unmarshal(r.Body, &b)
	return b.Error.Code
}

func (r *response) errorField() string {
	var b struct {
		Error struct{ Details map[string]any } `json:"error"`
	}
	_ = json.Unmarshal(r.Body, &b)
	f, _ := b.Error.Details["field"].(string)
	return f
}

// do sends a request as user (a login in e.tokens, "" for none, or "raw:<token>")
// through the real router and checks the response against the OpenAPI
// contract; successful requests are checked against it too.
func (e *env) do(method, path, user string, body any, headers ...string) *response {
	e.t.Helper()
	return e.doCtx(context.Background(), method, path, user, body, headers...)
}

// doCtx is do with a request context (event streams end when it does).
func (e *env) doCtx(ctx context.Context, method, path, user string, body any, headers ...string) *response {
	e.t.Helper()
	var raw []byte
	ctype := "application/json"
	switch b := body.(type) {
	case nil:
	case string:
		raw = []byte(b)
	case []byte:
		raw = b
	default:
		var err error
		if raw, err = json.Marshal(b); err != nil {
			e.t.Fatal(err)
		}
	}
	req := httptest.NewRequestWithContext(ctx, method, "http://localhost:8080"+path, bytes.NewReader(raw))
	if body != nil {
		req.Header.Set("Content-Type", ctype)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	switch {
	case strings.HasPrefix(user, "raw:"):
		req.Header.Set("Authorization", "Bearer "+strings.TrimPrefix(user, "raw:"))
	case user != "":
		tok, ok := e.tokens[user]
		if !ok {
			e.t.Fatalf("no token for %q", user)
		}
		req.Header.Set("Authorization", "Bearer "+tok)
	}
	rec := httptest.NewRecorder()
	e.srv.Handler().ServeHTTP(rec, req)
	res := &response{Status: rec.Code, Header: rec.Header(), Body: rec.Body.Bytes()}
	if _, bench := e.t.(*testing.B); !bench {
		// A benchmark times the server: the spec check of a large batch
		// would count in its figure (the tests check the same requests).
		e.checkContract(req, raw, res)
	}
	return res
}

// checkContract validates the exchange against openapi.yaml: the route must be
// in the spec, the response must match it, and a request the server accepted
// must match it too.
func (e *env) checkContract(req *http.Request, body []byte, res *response) {
	e.t.Helper()
	router := contract(e.t)
	vreq := req.Clone(context.Background())
	vreq.Body = io.NopCloser(bytes.NewReader(body))
	route, params, err := router.FindRoute(vreq)
	if err != nil {
		if res.Status == http.StatusNotFound || res.Status == http.StatusMethodNotAllowed {
			return // a request to a path the API does not have
		}
		e.t.Fatalf("contract: %s %s is not in openapi.yaml: %v", req.Method, req.URL.Path, err)
	}
	exercised.Store(req.Method+" "+route.Path, true)
	in := &openapi3filter.RequestValidationInput{Request: vreq, PathParams: params, Route: route,
		Options: &openapi3filter.Options{AuthenticationFunc: openapi3filter.NoopAuthenticationFunc}}
	if res.Status < 300 {
		if err := openapi3filter.ValidateRequest(context.Background(), in); err != nil {
			e.t.Errorf("contract: request %s %s accepted by the server but not by openapi.yaml: %v", req.Method, req.URL.Path, err)
		}
	}
	if res.Status == 499 {
		return // the client went away: nobody reads this answer, and no route lists it
	}
	out := &openapi3filter.ResponseValidationInput{RequestValidationInput: in, Status: res.Status, Header: res.Header,
		Body: io.NopCloser(bytes.NewReader(res.Body)), Options: &openapi3filter.Options{IncludeResponseStatus: true}}
	if err := openapi3filter.ValidateResponse(context.Background(), out); err != nil {
		e.t.Errorf("contract: response %d of %s %s does not match openapi.yaml: %v\nbody: %s", res.Status, req.Method, req.URL.Path, err, res.Body)
	}
}

// must fails the test unless the response has status want.
func (e *env) must(r *response, want int) *response {
	e.t.Helper()
	if r.Status != want {
		e.t.Fatalf("status %d, want %d; body: %s", r.Status, want, r.Body)
	}
	return r
}

func (e *env) decode(r *response, v any) {
	e.t.Helper()
	if err := json.Unmarshal(r.Body, v); err != nil {
		e.t.Fatalf("decode %s: %v", r.Body, err)
	}
}

// orderBody is a valid order; override fields with kv pairs.
func (e *env) orderBody(ext string) map[string]any {
	return map[string]any{
		"external_id": ext,
		"customer":    map[string]any{"name": "Anna Petrova", "phone": "+7 903 123-45-67", "email": "anna@example.com"},
		"address":     "Moscow, Tverskaya 7, apt 12",
		"location":    map[string]any{"lat": 55.7577, "lng": 37.6136},
		"time_window": map[string]any{"from": "2026-11-23T10:00:00+03:00", "to": "2026-11-23T13:00:00+03:00"},
		"weight_kg":   7.5,
		"volume_l":    20,
		"items":       []any{map[string]any{"sku": "A1", "name": "Kettle", "qty": 1, "barcode": "4600000000017"}},
		"cod":         map[string]any{"amount": 249900, "currency": "RUB", "method": "cash"},
	}
}

type orderOut struct {
	ID            int64
	Status        string
	PaymentStatus string `json:"payment_status"`
	DeliveryFee   int64  `json:"delivery_fee"`
	DeliveryDate  string `json:"delivery_date"`
	Version       int64
	CourierID     *int64 `json:"courier_id"`
}

func (e *env) createOrder(ext string) orderOut {
	e.t.Helper()
	var o orderOut
	e.decode(e.must(e.do("POST", "/api/v1/orders", "dispatcher", e.orderBody(ext)), 201), &o)
	return o
}

// moveOrder walks an order through statuses as user, failing on any refusal.
func (e *env) moveOrder(id int64, user string, statuses ...string) {
	e.t.Helper()
	for _, st := range statuses {
		body := map[string]any{"status": st}
		if st == "failed_attempt" || st == "refused" || st == "cancelled" {
			body["reason"] = "test"
		}
		e.must(e.do("POST", "/api/v1/orders/"+itoa(id)+"/status", user, body), 200)
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// assign puts an order on a courier as planning will, straight in the store.
func (e *env) assign(orderID int64, login string) {
	e.t.Helper()
	_, err := e.db.UpdateOrder(context.Background(), orderID, func(o *courier.Order) ([]courier.OrderEvent, error) {
		o.CourierID = e.courier[login]
		return nil, nil
	})
	if err != nil {
		e.t.Fatal(err)
	}
}

// rawJSON embeds literal JSON in a request body map.
type rawJSON string

func (r rawJSON) MarshalJSON() ([]byte, error) { return []byte(r), nil }
