package api_test

import (
	"crypto/ed25519"
	"crypto/rand"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

func TestLogin(t *testing.T) {
	e := newEnv(t)
	var tok struct {
		AccessToken  string `json:"access_token"`
		RefreshToken string `json:"refresh_token"`
		TokenType    string `json:"token_type"`
		ExpiresIn    int    `json:"expires_in"`
		Role         string
		UserID       int64  `json:"user_id"`
		CourierID    *int64 `json:"courier_id"`
	}
	e.decode(e.must(e.do("POST", "/api/v1/auth/login", "", map[string]any{"login": "courier1", "password": "pw-courier1"}), 200), &tok)
	if tok.TokenType != "Bearer" || tok.ExpiresIn != 900 || tok.Role != "courier" || tok.CourierID == nil || *tok.CourierID != e.courier["courier1"] {
		t.Errorf("login answer = %+v", tok)
	}
	for _, test := range []struct {
		name string
		body any
		want int
	}{
		{"wrong password", map[string]any{"login": "courier1", "password": "nope"}, 401},
		{"unknown login", map[string]any{"login": "ghost", "password": "nope"}, 401},
		{"missing password", map[string]any{"login": "courier1"}, 422},
		{"malformed", `{"login": "courier1",`, 400},
	} {
		if r := e.do("POST", "/api/v1/auth/login", "", test.body); r.Status != test.want {
			t.Errorf("%s: status %d, want %d: %s", test.name, r.Status, test.want, r.Body)
		}
	}

	// Refresh gives a new pair; an access token is not a refresh token.
	var again struct {
		AccessToken string `json:"access_token"`
	}
	e.decode(e.must(e.do("POST", "/api/v1/auth/refresh", "", map[string]any{"refresh_token": tok.RefreshToken}), 200), &again)
	e.must(e.do("GET", "/api/v1/me", "raw:"+again.AccessToken, nil), 200)
	e.must(e.do("POST", "/api/v1/auth/refresh", "", map[string]any{"refresh_token": tok.AccessToken}), 401)
	e.must(e.do("GET", "/api/v1/me", "raw:"+tok.RefreshToken, nil), 401)

	// A deactivated user cannot refresh.
	var me struct{ ID int64 }
	e.decode(e.must(e.do("GET", "/api/v1/me", "raw:"+tok.AccessToken, nil), 200), &me)
	e.must(e.do("PATCH", "/api/v1/users/"+itoa(me.ID), "admin", map[string]any{"active": false}), 200)
	e.must(e.do("GET", "/api/v1/me", "raw:"+again.AccessToken, nil), 401)
	e.must(e.do("POST", "/api/v1/auth/refresh", "", map[string]any{"refresh_token": tok.RefreshToken}), 401)
	e.must(e.do("POST", "/api/v1/auth/login", "", map[string]any{"login": "courier1", "password": "pw-courier1"}), 401)
}

func TestLoginThrottling(t *testing.T) {
	e := newEnv(t)
	for i := range 5 {
		if r := e.do("POST", "/api/v1/auth/login", "", map[string]any{"login": "dispatcher", "password": "wrong"}); r.Status != 401 {
			t.Fatalf("attempt %d: status %d", i+1, r.Status)
		}
	}
	// The right password is refused too while the login is throttled from this address.
	r := e.do("POST", "/api/v1/auth/login", "", map[string]any{"login": "dispatcher", "password": "secret-dispatcher"})
	if r.Status != 429 || r.Header.Get("Retry-After") != "1" || r.errorCode() != "too_many" {
		t.Fatalf("after 5 failures: status %d Retry-After %q: %s", r.Status, r.Header.Get("Retry-After"), r.Body)
	}
	// Other logins from the same address are not affected; the delay passes.
	e.must(e.do("POST", "/api/v1/auth/login", "", map[string]any{"login": "cashier", "password": "secret-cashier"}), 200)
	e.clock.Set(e.clock.Now().Add(time.Second))
	e.must(e.do("POST", "/api/v1/auth/login", "", map[string]any{"login": "dispatcher", "password": "secret-dispatcher"}), 200)
}

// TestLoginLockoutAttacks: the two ways login throttling was a weapon. A
// stranger's guesses at admin do not lock admin out from admin's own address;
// many strangers' failures from a depot's shared address do not lock out the
// couriers behind it (the address's ceiling is far higher than a login's).
func TestLoginLockoutAttacks(t *testing.T) {
	e := newEnv(t)
	from := func(addr string) []string { return []string{"X-Forwarded-For", addr} } // through the trusted proxy 192.0.2.1
	login := func(addr, login, password string) *response {
		return e.do("POST", "/api/v1/auth/login", "", map[string]any{"login": login, "password": password}, from(addr)...)
	}
	// A stranger guesses at admin: 5 guesses, then growing waits.
	statuses := map[int]int{}
	for range 30 {
		statuses[login("203.0.113.7", "admin", "guess").Status]++
	}
	if statuses[401] != 5 || statuses[429] != 25 {
		t.Errorf("30 guesses at admin: %v, want 5 checked and 25 refused", statuses)
	}
	e.must(login("198.51.100.2", "admin", "admin-pass"), 200)
	for _, wait := range []string{"2", "4", "8"} { // each wait doubles
		e.clock.Set(e.clock.Now().Add(time.Hour))
		e.must(login("203.0.113.7", "admin", "guess"), 401)
		if r := login("203.0.113.7", "admin", "guess"); r.Status != 429 || r.Header.Get("Retry-After") != wait {
			t.Errorf("the stranger's next guess: %d, Retry-After %q, want 429 and %s", r.Status, r.Header.Get("Retry-After"), wait)
		}
	}
	e.must(login("198.51.100.2", "admin", "admin-pass"), 200)

	// 150 failures from the depot's address, over many logins.
	for i := range 150 {
		if r := login("10.20.30.40", "ghost"+itoa(int64(i)), "x"); r.Status != 401 {
			t.Fatalf("failure %d from the depot: %d", i+1, r.Status)
		}
	}
	e.must(login("10.20.30.40", "courier1", "pw-courier1"), 200)
	e.must(login("10.20.30.40", "courier2", "pw-courier2"), 200)
	// The address's own ceiling (200) still holds against one address trying everyone.
	for i := range 50 {
		login("10.20.30.40", "ghost-b"+itoa(int64(i)), "x")
	}
	if r := login("10.20.30.40", "courier1", "pw-courier1"); r.Status != 429 {
		t.Errorf("past the address ceiling: %d, want 429", r.Status)
	}
	e.must(login("10.20.30.41", "courier1", "pw-courier1"), 200)
}

// TestTokensVerifiedStrictly: every token that is not exactly ours is 401.
func TestTokensVerifiedStrictly(t *testing.T) {
	e := newEnv(t)
	now := e.clock.Now()
	claims := func(mod func(jwt.MapClaims)) jwt.MapClaims {
		c := jwt.MapClaims{"iss": "courierd", "aud": []string{"courier-api"}, "sub": "1", "role": "admin", "typ": "access",
			"iat": now.Unix(), "nbf": now.Unix(), "exp": now.Add(time.Minute).Unix()}
		if mod != nil {
			mod(c)
		}
		return c
	}
	sign := func(c jwt.MapClaims, key []byte) string {
		s, err := jwt.NewWithClaims(jwt.SigningMethodHS256, c).SignedString(key)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	none, err := jwt.NewWithClaims(jwt.SigningMethodNone, claims(nil)).SignedString(jwt.UnsafeAllowNoneSignatureType)
	if err != nil {
		t.Fatal(err)
	}
	_, edKey, _ := ed25519.GenerateKey(rand.Reader)
	ed, _ := jwt.NewWithClaims(jwt.SigningMethodEdDSA, claims(nil)).SignedString(edKey)
	hs384, _ := jwt.NewWithClaims(jwt.SigningMethodHS384, claims(nil)).SignedString([]byte(testSecret))

	// Our own token, built by hand, is accepted: the rejections below are for the one thing changed.
	e.must(e.do("GET", "/api/v1/me", "raw:"+sign(claims(nil), []byte(testSecret)), nil), 200)
	for _, test := range []struct{ name, token string }{
		{"alg none", none},
		{"another key", sign(claims(nil), []byte("another-secret-another-secret-0123456789"))},
		{"another algorithm (EdDSA)", ed},
		{"another algorithm (HS384) with our key", hs384},
		{"expired", sign(claims(func(c jwt.MapClaims) { c["exp"] = now.Add(-time.Minute).Unix() }), []byte(testSecret))},
		{"no expiry", sign(claims(func(c jwt.MapClaims) { delete(c, "exp") }), []byte(testSecret))},
		{"not yet valid", sign(claims(func(c jwt.MapClaims) { c["nbf"] = now.Add(time.Hour).Unix() }), []byte(testSecret))},
		{"issued in the future", sign(claims(func(c jwt.MapClaims) { c["iat"] = now.Add(time.Hour).Unix() }), []byte(testSecret))},
		{"another audience", sign(claims(func(c jwt.MapClaims) { c["aud"] = []string{"billing"} }), []byte(testSecret))},
		{"another issuer", sign(claims(func(c jwt.MapClaims) { c["iss"] = "evil" }), []byte(testSecret))},
		{"a refresh token", sign(claims(func(c jwt.MapClaims) { c["typ"] = "refresh" }), []byte(testSecret))},
		{"unknown role", sign(claims(func(c jwt.MapClaims) { c["role"] = "root" }), []byte(testSecret))},
		{"garbage", "not.a.token"},
		{"tampered payload", tamper(sign(claims(nil), []byte(testSecret)))},
	} {
		r := e.do("GET", "/api/v1/me", "raw:"+test.token, nil)
		if r.Status != 401 || r.errorCode() != "unauthorized" {
			t.Errorf("%s: status %d, want 401: %s", test.name, r.Status, r.Body)
		}
	}
	if r := e.do("GET", "/api/v1/me", "", nil); r.Status != 401 || r.Header.Get("WWW-Authenticate") == "" {
		t.Errorf("no token: status %d, WWW-Authenticate %q", r.Status, r.Header.Get("WWW-Authenticate"))
	}
	// The server's own tokens expire too.
	e.clock.Set(now.Add(16 * time.Minute))
	e.must(e.do("GET", "/api/v1/me", "dispatcher", nil), 401)
}

func tamper(tok string) string {
	parts := strings.Split(tok, ".")
	parts[1] = strings.Replace(parts[1], parts[1][:4], "eyJz", 1)
	return strings.Join(parts, ".")
}

func TestRoles(t *testing.T) {
	e := newEnv(t)
	o := e.createOrder("R-1")
	other := e.createOrder("R-2")
	e.assign(o.ID, "courier1")
	e.assign(other.ID, "courier2")

	// A courier calling dispatcher and admin endpoints: 403.
	for _, test := range []struct {
		method, path string
		body         any
	}{
		{"POST", "/api/v1/orders", e.orderBody("R-3")},
		{"PATCH", "/api/v1/orders/" + itoa(o.ID), map[string]any{"notes": "x"}},
		{"POST", "/api/v1/orders/import", map[string]any{"orders": []any{}}},
		{"GET", "/api/v1/couriers", nil},
		{"POST", "/api/v1/couriers", map[string]any{"name": "x"}},
		{"PATCH", "/api/v1/couriers/" + itoa(e.courier["courier1"]), map[string]any{"name": "x"}},
		{"POST", "/api/v1/depots", map[string]any{"name": "x"}},
		{"GET", "/api/v1/users", nil},
		{"POST", "/api/v1/users", map[string]any{"login": "x"}},
	} {
		if r := e.do(test.method, test.path, "courier1", test.body); r.Status != 403 || r.errorCode() != "forbidden" {
			t.Errorf("courier %s %s: status %d, want 403: %s", test.method, test.path, r.Status, r.Body)
		}
	}
	// Dispatchers do not manage users; cashiers do not create orders.
	e.must(e.do("GET", "/api/v1/users", "dispatcher", nil), 403)
	e.must(e.do("POST", "/api/v1/orders", "cashier", e.orderBody("R-4")), 403)

	// A courier sees their own order, not another courier's (404: its existence is not told).
	e.must(e.do("GET", "/api/v1/orders/"+itoa(o.ID), "courier1", nil), 200)
	e.must(e.do("GET", "/api/v1/orders/"+itoa(other.ID), "courier1", nil), 404)
	e.must(e.do("GET", "/api/v1/orders/"+itoa(other.ID)+"/history", "courier1", nil), 404)
	e.must(e.do("POST", "/api/v1/orders/"+itoa(other.ID)+"/status", "courier1", map[string]any{"status": "delivered"}), 404)
	e.must(e.do("GET", "/api/v1/couriers/"+itoa(e.courier["courier2"]), "courier1", nil), 404)
	e.must(e.do("GET", "/api/v1/couriers/"+itoa(e.courier["courier1"]), "courier1", nil), 200)
	e.must(e.do("GET", "/api/v1/orders?courier_id="+itoa(e.courier["courier2"]), "courier1", nil), 403)
	var list struct{ Items []orderOut }
	e.decode(e.must(e.do("GET", "/api/v1/orders", "courier1", nil), 200), &list)
	if len(list.Items) != 1 || list.Items[0].ID != o.ID {
		t.Errorf("courier1 lists %+v, want only order %d", list.Items, o.ID)
	}
	var users struct{ Items []struct{ ID int64 } }
	e.decode(e.must(e.do("GET", "/api/v1/users", "admin", nil), 200), &users)
	e.must(e.do("GET", "/api/v1/users/"+itoa(users.Items[0].ID), "courier1", nil), 403)
}

// TestLoginThrottlingParallel: guesses sent at once each take their turn in
// the count before the password is checked, so at most 5 are checked.
func TestLoginThrottlingParallel(t *testing.T) {
	e := newEnv(t)
	var mu sync.Mutex
	statuses := map[int]int{}
	var wg sync.WaitGroup
	for range 40 {
		wg.Go(func() {
			r := e.do("POST", "/api/v1/auth/login", "", map[string]any{"login": "cashier", "password": "guess"})
			mu.Lock()
			statuses[r.Status]++
			mu.Unlock()
		})
	}
	wg.Wait()
	if statuses[401] != 5 || statuses[429] != 35 {
		t.Errorf("40 parallel guesses: %v, want 5 checked (401) and 35 refused (429)", statuses)
	}
	// Successful logins from one address (a depot's) do not use up its allowance.
	e.mini.FastForward(16 * time.Minute)
	for range 40 {
		e.must(e.do("POST", "/api/v1/auth/login", "", map[string]any{"login": "dispatcher", "password": "secret-dispatcher"}), 200)
	}
}

// TestSessionsEnd: logging out, a new password or deactivation make every
// refresh token of the user useless.
func TestSessionsEnd(t *testing.T) {
	e := newEnv(t)
	login := func(user, pw string) (access, refresh string) {
		var tok struct {
			AccessToken  string `json:"access_token"`
			RefreshToken string `json:"refresh_token"`
		}
		e.decode(e.must(e.do("POST", "/api/v1/auth/login", "", map[string]any{"login": user, "password": pw}), 200), &tok)
		return tok.AccessToken, tok.RefreshToken
	}
	phone, phoneRefresh := login("courier1", "pw-courier1")
	_, tabletRefresh := login("courier1", "pw-courier1")
	e.must(e.do("POST", "/api/v1/auth/refresh", "", map[string]any{"refresh_token": tabletRefresh}), 200)
	e.must(e.do("POST", "/api/v1/auth/logout", "raw:"+phone, nil), 204)
	e.must(e.do("GET", "/api/v1/me", "raw:"+phone, nil), 401) // the access token too, at once
	for _, rt := range []string{phoneRefresh, tabletRefresh} {
		if r := e.do("POST", "/api/v1/auth/refresh", "", map[string]any{"refresh_token": rt}); r.Status != 401 {
			t.Errorf("refresh after logout: %d %s", r.Status, r.Body)
		}
	}
	// A new password set by an admin ends the sessions too; the new one works.
	_, refresh := login("cashier", "secret-cashier")
	var users struct {
		Items []struct {
			ID    int64
			Login string
		}
	}
	e.decode(e.must(e.do("GET", "/api/v1/users", "admin", nil), 200), &users)
	var cashierID int64
	for _, u := range users.Items {
		if u.Login == "cashier" {
			cashierID = u.ID
		}
	}
	e.must(e.do("PATCH", "/api/v1/users/"+itoa(cashierID), "admin", map[string]any{"password": "a-new-secret"}), 200)
	e.must(e.do("POST", "/api/v1/auth/refresh", "", map[string]any{"refresh_token": refresh}), 401)
	_, refresh = login("cashier", "a-new-secret")
	var next struct {
		RefreshToken string `json:"refresh_token"`
	}
	e.decode(e.must(e.do("POST", "/api/v1/auth/refresh", "", map[string]any{"refresh_token": refresh}), 200), &next)
	// A name change does not.
	e.must(e.do("PATCH", "/api/v1/users/"+itoa(cashierID), "admin", map[string]any{"name": "Galina"}), 200)
	e.must(e.do("POST", "/api/v1/auth/refresh", "", map[string]any{"refresh_token": next.RefreshToken}), 200)
	e.must(e.do("POST", "/api/v1/auth/logout", "", nil), 401)
}
