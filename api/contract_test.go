package api_test

import (
	"flag"
	"fmt"
	"os"

	"context"
	"github.com/courierhq/courier/api"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
)

// TestMain runs the package's tests, every request of which is validated
// against mobile-api-spec/openapi.yaml (env.do does), and then, when the
// whole suite ran, fails unless every route of the server was exercised.
func TestMain(m *testing.M) {
	code := m.Run()
	if code == 0 && flag.Lookup("test.run").Value.String() == "" {
		var routes []string
		for _, r := range (&api.Server{}).RouteNames() {
			routes = append(routes, specPath(r))
		}
		missing := 0
		for _, r := range routes {
			if _, ok := exercised.Load(r); !ok {
				fmt.Fprintf(os.Stderr, "contract: route %s was not exercised by any test\n", r)
				missing++
			}
		}
		if missing > 0 {
			code = 1
		}
	}
	os.Exit(code)
}

// TestContract fails when a route is missing from the spec or the spec
// describes a route the server does not have, and drives a day of work
// through most routes.
func TestContract(t *testing.T) {
	e := newEnv(t)
	e.must(e.do("GET", "/healthz", "", nil), 200)
	e.must(e.do("GET", "/readyz", "", nil), 200)
	if r := e.must(e.do("GET", "/metrics", "raw:"+testMetricsToken, nil), 200); !strings.Contains(string(r.Body), `courierd_http_requests_total{method="POST",route="/api/v1/auth/login",status="200"}`) {
		t.Errorf("metrics lack the request counter by route: %.400s", r.Body)
	}
	var login struct {
		RefreshToken string `json:"refresh_token"`
	}
	e.decode(e.must(e.do("POST", "/api/v1/auth/login", "", map[string]any{"login": "cashier", "password": "secret-cashier"}), 200), &login)
	e.must(e.do("POST", "/api/v1/auth/refresh", "", map[string]any{"refresh_token": login.RefreshToken}), 200)
	var me struct{ ID int64 }
	e.decode(e.must(e.do("GET", "/api/v1/me", "cashier", nil), 200), &me)

	e.must(e.do("GET", "/api/v1/users", "admin", nil), 200)
	var u struct{ ID int64 }
	e.decode(e.must(e.do("POST", "/api/v1/users", "admin", map[string]any{"login": "cashier2", "name": "Second cashier", "role": "cashier", "password": "cash-two-2"}), 201), &u)
	e.must(e.do("GET", "/api/v1/users/"+itoa(u.ID), "admin", nil), 200)
	e.must(e.do("GET", "/api/v1/users/"+itoa(me.ID), "cashier", nil), 200)
	e.must(e.do("PATCH", "/api/v1/users/"+itoa(u.ID), "admin", map[string]any{"name": "Cashier Two", "active": false}), 200)
	e.must(e.do("POST", "/api/v1/users", "admin", map[string]any{"login": "cashier2", "role": "cashier", "password": "cash-two-2"}), 409)

	e.must(e.do("GET", "/api/v1/depots", "courier1", nil), 200)
	e.must(e.do("GET", "/api/v1/depots/"+itoa(e.depotID), "courier1", nil), 200)
	var d struct{ ID int64 }
	e.decode(e.must(e.do("POST", "/api/v1/depots", "dispatcher", map[string]any{"name": "North", "address": "Dmitrovskoe sh. 100",
		"location": map[string]any{"lat": 55.88, "lng": 37.55}, "opening_hours": map[string]any{"opens": "08:00", "closes": "20:00"}}), 201), &d)
	e.must(e.do("PATCH", "/api/v1/depots/"+itoa(d.ID), "dispatcher", map[string]any{"opening_hours": map[string]any{"opens": "09:00", "closes": "21:00"}}), 200)
	e.must(e.do("PATCH", "/api/v1/depots/"+itoa(d.ID), "dispatcher", map[string]any{"opening_hours": map[string]any{"opens": "21:00", "closes": "09:00"}}), 422)
	e.must(e.do("DELETE", "/api/v1/depots/"+itoa(e.depotID), "admin", nil), 409) // couriers work from it
	e.must(e.do("DELETE", "/api/v1/depots/"+itoa(d.ID), "admin", nil), 204)
	e.must(e.do("GET", "/api/v1/depots/"+itoa(d.ID), "admin", nil), 404)

	e.must(e.do("GET", "/api/v1/couriers?active=true&q=courier", "cashier", nil), 200)
	e.must(e.do("GET", "/api/v1/couriers/"+itoa(e.courier["courier2"]), "dispatcher", nil), 200)
	var bound zoneOut
	e.decode(e.must(e.do("POST", "/api/v1/zones", "dispatcher", zoneFeature("Centre", centre, nil)), 201), &bound)
	e.must(e.do("PATCH", "/api/v1/couriers/"+itoa(e.courier["courier2"]), "dispatcher", map[string]any{"zone_ids": []int64{bound.ID, bound.ID}, "version": 1}), 200)
	e.must(e.do("PATCH", "/api/v1/couriers/"+itoa(e.courier["courier2"]), "dispatcher", map[string]any{"zone_ids": []int64{999}}), 422)
	e.must(e.do("PATCH", "/api/v1/couriers/"+itoa(e.courier["courier2"]), "dispatcher", map[string]any{"name": "Stale", "version": 1}), 409)
	e.must(e.do("POST", "/api/v1/couriers", "dispatcher", map[string]any{"name": "Bike courier", "phone": "+7 916 000-11-22", "login": "bike1",
		"password": "bike-pw-11", "vehicle": map[string]any{"type": "bike", "capacity_kg": 20, "capacity_l": 60, "max_stops": 12},
		"shift": map[string]any{"start": "10:00", "end": "19:00"}, "depot_id": e.depotID}), 201)

	var z zoneOut
	e.decode(e.must(e.do("POST", "/api/v1/zones", "dispatcher", zoneFeature("North", `[[[37.5,55.8],[37.7,55.8],[37.7,55.9],[37.5,55.8]]]`, nil)), 201), &z)
	e.must(e.do("GET", "/api/v1/zones", "courier1", nil), 200)
	e.must(e.do("GET", "/api/v1/zones/"+itoa(z.ID), "courier1", nil), 200)
	e.must(e.do("GET", "/api/v1/zones/lookup?lat=55.85&lng=37.55&at=any", "courier1", nil), 200)
	e.must(e.do("PATCH", "/api/v1/zones/"+itoa(z.ID), "dispatcher", map[string]any{"type": "Feature", "properties": map[string]any{"color": "#00ff00"}}), 200)
	e.must(e.do("POST", "/api/v1/zones/rezone", "dispatcher", nil), 200)
	e.must(e.do("DELETE", "/api/v1/zones/"+itoa(z.ID), "dispatcher", nil), 204)

	o := e.createOrder("CT-1")
	e.must(e.do("GET", "/api/v1/orders?status=new", "dispatcher", nil), 200)
	e.must(e.do("GET", "/api/v1/orders/"+itoa(o.ID), "cashier", nil), 200)
	e.must(e.do("PATCH", "/api/v1/orders/"+itoa(o.ID), "dispatcher", map[string]any{"notes": "gate code 42"}), 200)
	e.must(e.do("POST", "/api/v1/orders/"+itoa(o.ID)+"/status", "dispatcher", map[string]any{"status": "confirmed", "comment": "phoned"}), 200)
	e.must(e.do("GET", "/api/v1/orders/"+itoa(o.ID)+"/history", "dispatcher", nil), 200)
	e.must(e.do("POST", "/api/v1/orders/import", "dispatcher", map[string]any{"orders": []any{e.orderBody("CT-2")}}), 200)

	// Planning and route sheets.
	o1 := e.readyOrder("CT-P1", func(b map[string]any) { b["location"] = at(1) })
	o2 := e.readyOrder("CT-P2", func(b map[string]any) { b["location"] = at(7) })
	var p planOut
	e.decode(e.must(e.do("POST", "/api/v1/plans", "dispatcher", map[string]any{"date": "2026-11-23", "depot_id": e.depotID,
		"order_ids": []int64{o1, o2}, "courier_ids": []int64{e.courier["courier1"]}, "time_limit_s": 1}), 202), &p)
	p = e.waitPlan(p.ID)
	e.must(e.do("GET", "/api/v1/plans/"+itoa(p.ID)+"/events", "dispatcher", nil), 200)
	e.must(e.do("GET", "/api/v1/plans/"+itoa(p.ID)+"/problem", "dispatcher", nil), 200)
	sh := p.Sheets[0]
	e.must(e.do("GET", "/api/v1/route-sheets?date=2026-11-23", "dispatcher", nil), 200)
	e.must(e.do("GET", "/api/v1/route-sheets/"+itoa(sh.ID), "dispatcher", nil), 200)
	e.must(e.do("POST", "/api/v1/route-sheets/"+itoa(sh.ID)+"/moves", "dispatcher", map[string]any{"order_id": sh.Stops[0].OrderID, "position": 2}), 200)
	e.must(e.do("POST", "/api/v1/route-sheets/"+itoa(sh.ID)+"/locks", "dispatcher", map[string]any{"order_id": o1, "locked": true}), 200)
	e.must(e.do("POST", "/api/v1/route-sheets/optimize", "dispatcher", map[string]any{"sheet_ids": []int64{sh.ID}}), 200)
	e.must(e.do("POST", "/api/v1/plans/"+itoa(p.ID)+"/publish", "dispatcher", nil), 200)
	e.must(e.do("GET", "/api/v1/courier/sheets?date=2026-11-23", "courier1", nil), 200)
	e.must(e.do("POST", "/api/v1/route-sheets/"+itoa(sh.ID)+"/start", "courier1", map[string]any{"at": "2026-11-23T07:00:00Z"}), 200)

	// Compare the three sets: server routes, spec operations, exercised routes.
	routes := map[string]bool{}
	for _, r := range e.srv.Routes() {
		routes[specPath(r)] = true
	}
	doc, err := openapi3.NewLoader().LoadFromFile(filepath.Join("..", "mobile-api-spec", "openapi.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if err := doc.Validate(context.Background()); err != nil {
		t.Fatal(err)
	}
	spec := map[string]bool{}
	for path, item := range doc.Paths.Map() {
		for method := range item.Operations() {
			spec[method+" "+path] = true
		}
	}
	for _, r := range sorted(routes) {
		if !spec[r] {
			t.Errorf("route %s is not in openapi.yaml", r)
		}
	}
	for _, s := range sorted(spec) {
		if !routes[s] {
			t.Errorf("openapi.yaml describes %s, which the server does not have", s)
		}
	}
}

// specPath turns gin's "GET /a/:id" into the spec's "GET /a/{id}".
func specPath(r string) string {
	parts := strings.Split(r, "/")
	for i, p := range parts {
		if strings.HasPrefix(p, ":") {
			parts[i] = "{" + p[1:] + "}"
		}
	}
	return strings.Join(parts, "/")
}

func sorted(m map[string]bool) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func TestReadiness(t *testing.T) {
	e := newEnv(t)
	e.must(e.do("GET", "/readyz", "", nil), 200)
	e.mini.Close()
	var r struct {
		Status string
		Checks map[string]string
	}
	e.decode(e.must(e.do("GET", "/readyz", "", nil), 503), &r)
	if r.Status != "unavailable" || r.Checks["redis"] != "down" || r.Checks["store"] != "ok" {
		t.Errorf("readyz with Redis down = %+v", r)
	}
	e.must(e.do("GET", "/healthz", "", nil), 200)
}
