package api_test

import (
	"context"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/courierhq/courier/api"
)

// metricsSeries returns the number of request-counter series and the size of
// GET /metrics.
func (e *env) metricsSeries() (series, size int) {
	e.t.Helper()
	r := e.must(e.do("GET", "/metrics", "raw:"+testMetricsToken, nil), 200)
	for _, line := range strings.Split(string(r.Body), "\n") {
		if strings.HasPrefix(line, "courierd_http_requests_total{") {
			series++
		}
	}
	return series, len(r.Body)
}

// TestMetricsCardinality: thousands of requests with random methods (up to
// 4 KB) and random paths do not add label values: /metrics keeps its size.
func TestMetricsCardinality(t *testing.T) {
	e := newEnv(t)
	rng := rand.New(rand.NewPCG(1, 2))
	word := func(n int) string {
		b := make([]byte, n)
		for i := range b {
			b[i] = byte('A' + rng.IntN(26))
		}
		return string(b)
	}
	paths := []string{"/api/v1/orders", "/healthz", "/nowhere/", "/api/v1/orders/1"}
	send := func(n int) {
		for range n {
			path := paths[rng.IntN(len(paths))]
			if rng.IntN(2) == 0 {
				path = "/" + strings.ToLower(word(1+rng.IntN(40)))
			}
			req := httptest.NewRequest("GET", path, nil)
			req.Method = word(1 + rng.IntN(4096))
			rec := httptest.NewRecorder()
			e.srv.Handler().ServeHTTP(rec, req)
			if rec.Code != http.StatusNotFound && rec.Code != http.StatusMethodNotAllowed {
				t.Fatalf("%.20s %s: status %d", req.Method, path, rec.Code)
			}
		}
	}
	send(20)
	e.metricsSeries() // counts itself
	series, size := e.metricsSeries()
	send(3000)
	series2, size2 := e.metricsSeries()
	if series2 != series || size2 > size+2000 {
		t.Errorf("after 3,000 more random methods and paths: %d request series and %d bytes of /metrics, was %d and %d", series2, size2, series, size)
	}
	r := e.do("GET", "/metrics", "raw:"+testMetricsToken, nil)
	if !strings.Contains(string(r.Body), `method="other",route="unmatched",status="404"`) {
		t.Errorf("the random requests are not counted as method other, route unmatched: %.2000s", r.Body)
	}
	// The token is asked for; a server without one does not serve /metrics.
	if r := e.do("GET", "/metrics", "", nil); r.Status != 401 || r.errorCode() != "unauthorized" {
		t.Errorf("/metrics without the token: %d %s", r.Status, r.Body)
	}
	if r := e.do("GET", "/metrics", "raw:"+testMetricsToken+"x", nil); r.Status != 401 {
		t.Errorf("/metrics with a wrong token: %d", r.Status)
	}
	bare := api.New(api.Deps{Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
	rec := httptest.NewRecorder()
	bare.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	if rec.Code != 404 {
		t.Errorf("/metrics of a server without a metrics token: %d, want 404", rec.Code)
	}
}

// countIdempotencyKeys returns how many Idempotency-Keys the store holds (it
// purges them all to count them).
func (e *env) countIdempotencyKeys() int64 {
	e.t.Helper()
	n, err := e.db.PurgeIdempotencyKeys(context.Background(), e.clock.Now().Add(24*time.Hour))
	if err != nil {
		e.t.Fatal(err)
	}
	return n
}

// TestAnonymousIdempotencyKeys: calls without a bearer token store no
// Idempotency-Key, and two customers behind one address sending the same key
// each get their own answer; an authenticated user's key is replayed.
func TestAnonymousIdempotencyKeys(t *testing.T) {
	e := newEnv(t)
	e.countIdempotencyKeys()
	for i := range 50 {
		r := e.do("POST", "/api/v1/devices", "", map[string]any{"token": "t-" + itoa(int64(i)), "platform": "android", "app": "courier"},
			"Idempotency-Key", "anon-"+itoa(int64(i)))
		if r.Status != 401 {
			t.Fatalf("an anonymous courier device: %d %s", r.Status, r.Body)
		}
	}
	var links [2]struct{ Token string }
	for i := range links {
		o := e.createOrder("IDEM-" + itoa(int64(i)))
		e.decode(e.must(e.do("GET", "/api/v1/orders/"+itoa(o.ID)+"/tracking-link", "dispatcher", nil), 200), &links[i])
	}
	e.countIdempotencyKeys() // the orders above were created with no key; start from zero
	var devices [2]struct{ ID int64 }
	for i, link := range links {
		r := e.must(e.do("POST", "/api/v1/devices", "", map[string]any{"token": "fcm-customer-" + itoa(int64(i)), "platform": "web", "app": "customer",
			"tracking_token": link.Token}, "Idempotency-Key", "same-key"), 201)
		if r.Header.Get("Idempotent-Replayed") != "" {
			t.Errorf("customer %d got a replayed answer: %s", i, r.Body)
		}
		e.decode(r, &devices[i])
	}
	if devices[0].ID == devices[1].ID {
		t.Errorf("two customers with one Idempotency-Key got the same device %d", devices[0].ID)
	}
	if n := e.countIdempotencyKeys(); n != 0 {
		t.Errorf("anonymous calls stored %d Idempotency-Keys, want 0", n)
	}
	// An authenticated user's key is kept and replayed, to them only.
	body := map[string]any{"text": "Come back"}
	path := "/api/v1/couriers/" + itoa(e.courier["courier1"]) + "/messages"
	first := e.must(e.do("POST", path, "dispatcher", body, "Idempotency-Key", "msg-1"), 202)
	again := e.must(e.do("POST", path, "dispatcher", body, "Idempotency-Key", "msg-1"), 202)
	if again.Header.Get("Idempotent-Replayed") != "true" || string(again.Body) != string(first.Body) {
		t.Errorf("the dispatcher's retry was not replayed: %s", again.Body)
	}
	if r := e.must(e.do("POST", path, "admin", body, "Idempotency-Key", "msg-1"), 202); r.Header.Get("Idempotent-Replayed") != "" {
		t.Error("another user's key answered the admin")
	}
	if n := e.countIdempotencyKeys(); n != 2 {
		t.Errorf("%d keys stored for two users, want 2", n)
	}
}

// refreshOnce exchanges a refresh token and returns the new pair's refresh
// token, or "" with the status when refused.
func (e *env) refreshOnce(token string) (string, int) {
	e.t.Helper()
	r := e.do("POST", "/api/v1/auth/refresh", "", map[string]any{"refresh_token": token})
	if r.Status != 200 {
		return "", r.Status
	}
	var tok struct {
		AccessToken  string `json:"access_token"`
		RefreshToken string `json:"refresh_token"`
	}
	e.decode(r, &tok)
	if tok.RefreshToken == token || tok.AccessToken == "" {
		e.t.Fatalf("refresh answered %+v", tok)
	}
	return tok.RefreshToken, r.Status
}

// loginTokens logs in and returns the access and refresh tokens.
func (e *env) loginTokens(login, password string) (access, refresh string) {
	e.t.Helper()
	var tok struct {
		AccessToken  string `json:"access_token"`
		RefreshToken string `json:"refresh_token"`
	}
	e.decode(e.must(e.do("POST", "/api/v1/auth/login", "", map[string]any{"login": login, "password": password}), 200), &tok)
	return tok.AccessToken, tok.RefreshToken
}

// TestRefreshRotation: every refresh gives a new refresh token and spends
// the old one; presenting a spent one revokes its family (the thief's and the
// owner's newer tokens alike), and only that family: the user's session on
// another device goes on.
func TestRefreshRotation(t *testing.T) {
	e := newEnv(t)
	_, r0 := e.loginTokens("courier1", "pw-courier1")
	_, tablet := e.loginTokens("courier1", "pw-courier1")
	r1, _ := e.refreshOnce(r0)
	r2, _ := e.refreshOnce(r1)
	if r2 == "" {
		t.Fatal("a rotated refresh token was refused")
	}
	// r0 was spent: presenting it again ends the family, r2 included.
	if _, st := e.refreshOnce(r0); st != 401 {
		t.Fatalf("a spent refresh token: %d, want 401", st)
	}
	if _, st := e.refreshOnce(r2); st != 401 {
		t.Errorf("the newest token of a family whose spent token was reused: %d, want 401", st)
	}
	if _, st := e.refreshOnce(r1); st != 401 {
		t.Errorf("a spent token of a revoked family: %d, want 401", st)
	}
	// The other device's family is untouched.
	tablet2, st := e.refreshOnce(tablet)
	if st != 200 {
		t.Fatalf("the other device's refresh: %d", st)
	}
	// Two uses of one token at once: one wins, the other is a reuse and ends the family.
	results := make(chan int, 2)
	for range 2 {
		go func() {
			r := e.do("POST", "/api/v1/auth/refresh", "", map[string]any{"refresh_token": tablet2})
			results <- r.Status
		}()
	}
	a, b := <-results, <-results
	if a+b != 200+401 {
		t.Errorf("two concurrent uses of one refresh token: %d and %d, want one 200 and one 401", a, b)
	}
	// A fresh login works again.
	_, fresh := e.loginTokens("courier1", "pw-courier1")
	if _, st := e.refreshOnce(fresh); st != 200 {
		t.Errorf("after a new login: %d", st)
	}
}

// TestStreamEndsWithSession: the live tracking feed of a dispatcher who logs
// out ends by itself.
func TestStreamEndsWithSession(t *testing.T) {
	e := newEnv(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	token := e.tokens["dispatcher"]
	go func() {
		time.Sleep(300 * time.Millisecond)
		e.do("POST", "/api/v1/auth/logout", "raw:"+token, nil)
	}()
	start := time.Now()
	r := e.doCtx(ctx, "GET", "/api/v1/tracking/stream", "dispatcher", nil)
	if r.Status != 200 || ctx.Err() != nil {
		t.Fatalf("the stream of a logged-out dispatcher: status %d, still open after %v", r.Status, time.Since(start))
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("the stream ended %v after it began, want within about a second of the logout", d)
	}
}
