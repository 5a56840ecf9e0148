package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/courierhq/courier/internal/testsvc"
	"github.com/redis/go-redis/v9"
)

// TestEmbeddedRedisPassword: the in-process miniredis (no REDIS_URL) refuses
// clients without its random password, so no local process can FLUSHALL the
// login throttle; courierd's own client has the password, which is not logged.
func TestEmbeddedRedisPassword(t *testing.T) {
	var logs bytes.Buffer
	rdb, closeRedis, err := openRedis(t.Context(), "", slog.New(slog.NewTextHandler(&logs, nil)))
	if err != nil {
		t.Fatal(err)
	}
	defer closeRedis()
	opt := rdb.(*redis.Client).Options()
	if len(opt.Password) < 20 {
		t.Fatalf("embedded redis password %q: want a long random one", opt.Password)
	}
	if err := rdb.Set(t.Context(), "throttle:x", 1, 0).Err(); err != nil {
		t.Fatalf("courierd's own client: %v", err)
	}
	stranger := redis.NewClient(&redis.Options{Addr: opt.Addr})
	defer stranger.Close()
	if err := stranger.FlushAll(t.Context()).Err(); err == nil || !strings.Contains(err.Error(), "NOAUTH") {
		t.Errorf("FLUSHALL without the password: %v, want NOAUTH", err)
	}
	if n, err := rdb.Exists(t.Context(), "throttle:x").Result(); err != nil || n != 1 {
		t.Errorf("the key after a stranger's FLUSHALL: %d, %v", n, err)
	}
	wrong := redis.NewClient(&redis.Options{Addr: opt.Addr, Password: "guess"})
	defer wrong.Close()
	if err := wrong.Ping(t.Context()).Err(); err == nil {
		t.Error("a wrong password was accepted")
	}
	if strings.Contains(logs.String(), opt.Password) {
		t.Errorf("the password is logged: %s", logs.String())
	}
}

// startServer runs courierd with cfg until the test ends and returns its base
// URL; cfg.OnListen is set here.
func startServer(t *testing.T, cfg Config) (base string, out *syncWriter) {
	t.Helper()
	addr := make(chan string, 1)
	cfg.OnListen = func(a string) { addr <- a }
	ctx, cancel := context.WithCancel(context.Background())
	out = &syncWriter{w: &bytes.Buffer{}}
	done := make(chan error, 1)
	go func() { done <- Run(ctx, cfg, out) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("Run: %v", err)
			}
		case <-time.After(30 * time.Second):
			t.Error("courierd did not stop")
		}
	})
	select {
	case a := <-addr:
		return "http://" + a, out
	case err := <-done:
		t.Fatalf("Run: %v", err)
	case <-time.After(60 * time.Second):
		t.Fatal("courierd did not start")
	}
	return "", nil
}

// getStatus answers the status and body of GET url with an optional bearer token.
func getStatus(t *testing.T, url, token string) (int, string) {
	t.Helper()
	st, b := send(t, "GET", url, token, "")
	return st, string(b)
}

// TestMetricsListener: /metrics is not served on the API address without a
// token; COURIER_METRICS_ADDR serves it on its own address, asking for
// COURIER_METRICS_TOKEN when set, which then opens it on the API address too;
// Go's profiles are served on the metrics address only, with the token.
func TestMetricsListener(t *testing.T) {
	parse := func(env map[string]string) Config {
		cfg, err := ParseConfig([]string{"--demo", "--addr", "127.0.0.1:0", "--data-dir", t.TempDir(), "--bcrypt-cost", "4"},
			func(k string) string { return env[k] }, io.Discard)
		if err != nil {
			t.Fatal(err)
		}
		return cfg
	}
	if _, err := ParseConfig([]string{"--demo", "--metrics-token", "short"}, func(string) string { return "" }, io.Discard); err == nil {
		t.Error("a 5-character metrics token was accepted")
	}

	base, out := startServer(t, parse(nil))
	if st, _ := getStatus(t, base+"/metrics", ""); st != 404 {
		t.Errorf("/metrics with nothing configured: %d, want 404", st)
	}
	if !strings.Contains(out.String(), "GET /metrics is not served") {
		t.Error("the log does not say that metrics are off")
	}

	const token = "metrics-token-0123456789"
	cfg := parse(map[string]string{"COURIER_METRICS_ADDR": "127.0.0.1:0", "COURIER_METRICS_TOKEN": token})
	maddr := make(chan string, 1)
	cfg.OnMetricsListen = func(a string) { maddr <- a }
	base, _ = startServer(t, cfg)
	metrics := "http://" + <-maddr + "/metrics"
	if st, _ := getStatus(t, base+"/healthz", ""); st != 200 {
		t.Fatalf("healthz: %d", st)
	}
	for _, test := range []struct {
		url, token string
		want       int
	}{
		{metrics, token, 200},
		{metrics, "", 401},
		{metrics, "wrong-token-0123456789", 401},
		{base + "/metrics", token, 200},
		{base + "/metrics", "", 401},
		{strings.TrimSuffix(metrics, "/metrics") + "/api/v1/orders", token, 404}, // the metrics address serves nothing else
		{strings.TrimSuffix(metrics, "/metrics") + "/debug/pprof/heap", token, 200},
		{strings.TrimSuffix(metrics, "/metrics") + "/debug/pprof/heap", "", 401},
		{strings.TrimSuffix(metrics, "/metrics") + "/debug/pprof/goroutine?debug=1", "wrong-token-0123456789", 401},
		{base + "/debug/pprof/heap", token, 404}, // never on the API address
	} {
		st, body := getStatus(t, test.url, test.token)
		if st != test.want {
			t.Errorf("GET %s with token %q: %d, want %d", test.url, test.token, st, test.want)
		}
		if st == 200 && strings.HasSuffix(test.url, "/metrics") && !strings.Contains(body, "courierd_http_requests_total") {
			t.Errorf("GET %s: no request counter: %.300s", test.url, body)
		}
	}
}

// TestTwoReplicas runs two courierd on one PostgreSQL and one redis-server,
// as docker-compose does: a refresh token spent on one is spent on the
// other, and a logout on one refuses the access token on the other within
// moments, though each replica trusts its cache for a minute here.
func TestTwoReplicas(t *testing.T) {
	rs := testsvc.StartRedis(t)
	env := map[string]string{"DATABASE_URL": testsvc.PostgresURL(t), "REDIS_URL": rs.URL(), "JWT_SECRET": strings.Repeat("s", 40),
		"COURIER_ADMIN_LOGIN": "root", "COURIER_ADMIN_PASSWORD": "root-password"}
	replica := func() string {
		cfg, err := ParseConfig([]string{"--addr", "127.0.0.1:0", "--bcrypt-cost", "4"}, func(k string) string { return env[k] }, io.Discard)
		if err != nil {
			t.Fatal(err)
		}
		cfg.SessionTTL = time.Minute
		base, _ := startServer(t, cfg)
		return base
	}
	a := replica()
	b := replica()
	type tokens struct {
		AccessToken  string `json:"access_token"`
		RefreshToken string `json:"refresh_token"`
	}
	login := func(base, login, password string) tokens {
		var tok tokens
		if st := call(t, "POST", base+"/api/v1/auth/login", "", `{"login":"`+login+`","password":"`+password+`"}`, &tok); st != 200 {
			t.Fatalf("login %s at %s: %d", login, base, st)
		}
		return tok
	}
	root := login(a, "root", "root-password")
	if st := call(t, "POST", b+"/api/v1/users", root.AccessToken, `{"login":"disp","name":"Disp","role":"dispatcher","password":"disp-password"}`, nil); st != 201 {
		t.Fatalf("create user: %d", st)
	}

	// A refresh token used on b is spent on a; its reuse there ends the family on both.
	t0 := login(b, "disp", "disp-password")
	var t1 tokens
	if st := call(t, "POST", b+"/api/v1/auth/refresh", "", `{"refresh_token":"`+t0.RefreshToken+`"}`, &t1); st != 200 {
		t.Fatalf("refresh at b: %d", st)
	}
	if st := call(t, "POST", a+"/api/v1/auth/refresh", "", `{"refresh_token":"`+t0.RefreshToken+`"}`, nil); st != 401 {
		t.Errorf("the spent refresh token at a: %d, want 401", st)
	}
	if st := call(t, "POST", b+"/api/v1/auth/refresh", "", `{"refresh_token":"`+t1.RefreshToken+`"}`, nil); st != 401 {
		t.Errorf("the family's newest token at b after the reuse at a: %d, want 401", st)
	}

	// A logout at b reaches a's session cache.
	s := login(a, "disp", "disp-password")
	if st := call(t, "GET", a+"/api/v1/me", s.AccessToken, "", nil); st != 200 {
		t.Fatalf("me at a: %d", st)
	}
	if st := call(t, "POST", b+"/api/v1/auth/logout", s.AccessToken, "", nil); st != 204 {
		t.Fatalf("logout at b: %d", st)
	}
	start := time.Now()
	for call(t, "GET", a+"/api/v1/me", s.AccessToken, "", nil) != 401 {
		if time.Since(start) > 3*time.Second {
			t.Fatalf("the access token still works at a %v after the logout at b", time.Since(start))
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Logf("a refused the access token %v after the logout at b", time.Since(start).Round(time.Millisecond))
	if st := call(t, "GET", b+"/api/v1/me", s.AccessToken, "", nil); st != 401 {
		t.Errorf("me at b after the logout: %d", st)
	}

	// Deactivation by an admin at a reaches b.
	d := login(b, "disp", "disp-password")
	var me struct{ ID int64 }
	call(t, "GET", b+"/api/v1/me", d.AccessToken, "", &me)
	if st := call(t, "PATCH", a+"/api/v1/users/"+itoa(me.ID), root.AccessToken, `{"active":false}`, nil); st != 200 {
		t.Fatalf("deactivate: %d", st)
	}
	start = time.Now()
	for call(t, "GET", b+"/api/v1/me", d.AccessToken, "", nil) != 401 {
		if time.Since(start) > 3*time.Second {
			t.Fatalf("the deactivated user's token still works at b %v later", time.Since(start))
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// request sends a JSON request and returns the status and the decoded body.
func request(t *testing.T, method, url, token, body string) (int, map[string]any) {
	t.Helper()
	st, b := send(t, method, url, token, body)
	var out map[string]any
	_ = json.Unmarshal(b, &out)
	return st, out
}

// errorCode returns the code of an error body {"error":{"code","message","details"}},
// or "" when the body does not have that shape.
func errorCode(body map[string]any) string {
	e, _ := body["error"].(map[string]any)
	code, _ := e["code"].(string)
	if _, ok := e["message"].(string); !ok {
		return ""
	}
	if _, ok := e["details"].(map[string]any); !ok {
		return ""
	}
	return code
}

// TestRedisDown stops a real redis-server under a running courierd and starts
// it again: meanwhile tracking answers 503 unavailable, logins work (throttled
// in the replica's memory, logged), orders, planning and the cash desk work,
// /readyz says degraded; afterwards everything works again by itself.
func TestRedisDown(t *testing.T) {
	rs := testsvc.StartRedis(t)
	cfg, err := ParseConfig([]string{"--demo", "--addr", "127.0.0.1:0", "--data-dir", t.TempDir(), "--bcrypt-cost", "4"},
		func(k string) string { return map[string]string{"REDIS_URL": rs.URL()}[k] }, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	base, logs := startServer(t, cfg)
	token := func(login string) string {
		var tok struct {
			AccessToken string `json:"access_token"`
		}
		if st := call(t, "POST", base+"/api/v1/auth/login", "", `{"login":"`+login+`","password":"demo"}`, &tok); st != 200 {
			t.Fatalf("login %s: %d", login, st)
		}
		return tok.AccessToken
	}
	courierTok, dispTok, cashTok := token("courier1"), token("dispatcher"), token("cashier")
	var me struct {
		CourierID int64 `json:"courier_id"`
	}
	call(t, "GET", base+"/api/v1/me", courierTok, "", &me)
	ping := func() string {
		return `{"pings":[{"lat":55.7312,"lng":37.6401,"accuracy_m":5,"recorded_at":"` + time.Now().UTC().Format(time.RFC3339Nano) + `"}]}`
	}
	tracking := []struct{ method, path, token string }{
		{"GET", "/api/v1/couriers/nearby?lat=55.7312&lng=37.6401", dispTok},
		{"GET", "/api/v1/couriers/" + itoa(me.CourierID) + "/location", dispTok},
		{"GET", "/api/v1/couriers/" + itoa(me.CourierID) + "/track", dispTok},
		{"GET", "/api/v1/tracking/positions", dispTok},
	}
	if st, body := request(t, "POST", base+"/api/v1/courier/locations", courierTok, ping()); st != 200 {
		t.Fatalf("a ping with Redis up: %d %v", st, body)
	}
	for _, r := range tracking {
		if st, body := request(t, r.method, base+r.path, r.token, ""); st != 200 {
			t.Fatalf("%s with Redis up: %d %v", r.path, st, body)
		}
	}

	rs.Stop()
	for _, r := range append(tracking, struct{ method, path, token string }{"GET", "/api/v1/tracking/stream", dispTok}) {
		st, body := request(t, r.method, base+r.path, r.token, "")
		// Nearby answers from the replica's live index until the index
		// notices that its subscription's connection is gone: a moment.
		for deadline := time.Now().Add(2 * time.Second); st == 200 && strings.Contains(r.path, "nearby") && time.Now().Before(deadline); {
			time.Sleep(20 * time.Millisecond)
			st, body = request(t, r.method, base+r.path, r.token, "")
		}
		if st != 503 || errorCode(body) != "unavailable" {
			t.Errorf("%s with Redis down: %d %v, want 503 unavailable", r.path, st, body)
		}
	}
	if st, body := request(t, "POST", base+"/api/v1/courier/locations", courierTok, ping()); st != 503 || errorCode(body) != "unavailable" {
		t.Errorf("a ping with Redis down: %d %v, want 503 unavailable", st, body)
	}
	// Logins work, throttled in this replica's memory.
	token("admin")
	for range 5 {
		if st, _ := request(t, "POST", base+"/api/v1/auth/login", "", `{"login":"courier2","password":"wrong"}`); st != 401 {
			t.Errorf("a wrong password with Redis down: %d, want 401", st)
		}
	}
	if st, _ := request(t, "POST", base+"/api/v1/auth/login", "", `{"login":"courier2","password":"demo"}`); st != 429 {
		t.Errorf("the 6th attempt with Redis down: %d, want 429 (the replica's own limit)", st)
	}
	if !strings.Contains(logs.String(), "login throttle: Redis does not answer") {
		t.Error("the log does not say the login throttle fell back to memory")
	}
	// Orders, planning and the cash desk work as before.
	moscow, _ := time.LoadLocation("Europe/Moscow")
	tomorrow := time.Now().In(moscow).AddDate(0, 0, 1).Format(time.DateOnly)
	order := `{"external_id":"REDIS-DOWN-1","delivery_date":"` + tomorrow + `","customer":{"name":"Anna","phone":"+7 903 123-45-67"},"address":"Moscow, Tverskaya 7",
		"location":{"lat":55.7577,"lng":37.6136},"weight_kg":2,"items":[{"sku":"A1","name":"Kettle","qty":1}],
		"cod":{"amount":249900,"currency":"RUB","method":"cash"}}`
	if st, body := request(t, "POST", base+"/api/v1/orders", dispTok, order); st != 201 {
		t.Errorf("create an order with Redis down: %d %v", st, body)
	}
	if st, _ := request(t, "GET", base+"/api/v1/orders?limit=5", dispTok, ""); st != 200 {
		t.Errorf("list orders with Redis down: %d", st)
	}
	st, plan := request(t, "POST", base+"/api/v1/plans", dispTok, `{"date":"`+tomorrow+`","depot_id":1,"time_limit_s":1}`)
	if st != 202 {
		t.Fatalf("plan with Redis down: %d %v", st, plan)
	}
	planURL := base + "/api/v1/plans/" + strconv.FormatInt(int64(plan["id"].(float64)), 10)
	for deadline := time.Now().Add(60 * time.Second); plan["status"] != "done"; time.Sleep(200 * time.Millisecond) {
		if time.Now().After(deadline) || plan["status"] == "failed" {
			t.Fatalf("the plan with Redis down: %v", plan["status"])
		}
		_, plan = request(t, "GET", planURL, dispTok, "")
	}
	if st, body := request(t, "POST", base+"/api/v1/cashdesk/shifts", cashTok, `{"depot_id":1}`); st != 201 {
		t.Errorf("open a cash shift with Redis down: %d %v", st, body)
	}
	if st, _ := request(t, "GET", base+"/api/v1/cashdesk/debtors", cashTok, ""); st != 200 {
		t.Errorf("debtors with Redis down: %d", st)
	}
	// The courier's day works: today, a shift started directly, one ended through sync.
	if st, body := request(t, "GET", base+"/api/v1/courier/today?date="+tomorrow, courierTok, ""); st != 200 {
		t.Errorf("the courier's today with Redis down: %d %v", st, body)
	}
	now := time.Now().UTC().Format(time.RFC3339)
	if st, body := request(t, "POST", base+"/api/v1/courier/shift/start", courierTok,
		`{"client_event_id":"6f1c2a52-6a56-4c3e-9d1e-2b7f3c4d5e01","at":"`+now+`","date":"`+tomorrow+`"}`); st != 200 || body["status"] != "applied" {
		t.Errorf("a shift start with Redis down: %d %v", st, body)
	}
	if st, body := request(t, "POST", base+"/api/v1/courier/sync", courierTok,
		`{"events":[{"client_event_id":"6f1c2a52-6a56-4c3e-9d1e-2b7f3c4d5e02","action":"shift_end","at":"`+now+`"}]}`); st != 200 ||
		!strings.Contains(fmt.Sprint(body["results"]), "status:applied") {
		t.Errorf("a sync with Redis down: %d %v", st, body)
	}
	if st, body := request(t, "GET", base+"/readyz", "", ""); st != 200 || body["status"] != "degraded" || body["checks"].(map[string]any)["redis"] != "down" {
		t.Errorf("readyz with Redis down: %d %v", st, body)
	}

	rs.Start()
	back := time.Now()
	deadline := time.Now().Add(15 * time.Second)
	for {
		st, _ := request(t, "POST", base+"/api/v1/courier/locations", courierTok, ping())
		if st == 200 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("pings still %d 15 s after Redis came back", st)
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Logf("pings accepted again %v after Redis came back", time.Since(back).Round(time.Millisecond))
	for _, r := range tracking {
		if st, body := request(t, r.method, base+r.path, r.token, ""); st != 200 {
			t.Errorf("%s after Redis came back: %d %v", r.path, st, body)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", base+"/api/v1/tracking/stream", nil)
	req.Header.Set("Authorization", "Bearer "+dispTok)
	if res, err := http.DefaultClient.Do(req); err != nil || res.StatusCode != 200 {
		t.Errorf("the tracking stream after Redis came back: %v %v", res, err)
	} else {
		res.Body.Close()
	}
	time.Sleep(1100 * time.Millisecond) // the throttle leaves Redis alone a second after a failure
	token("dispatcher")
	if !strings.Contains(logs.String(), "login throttle: Redis answers again") {
		t.Error("the log does not say the login throttle went back to Redis")
	}
	if st, body := request(t, "GET", base+"/readyz", "", ""); st != 200 || body["status"] != "ok" {
		t.Errorf("readyz after Redis came back: %d %v", st, body)
	}
}
