package api_test

import (
	"strings"
	"testing"
)

func zoneFeature(name string, coords string, props map[string]any) map[string]any {
	p := map[string]any{"name": name, "color": "#ff8800"}
	for k, v := range props {
		p[k] = v
	}
	return map[string]any{"type": "Feature", "geometry": rawJSON(`{"type":"Polygon","coordinates":` + coords + `}`), "properties": p}
}

type zoneOut struct {
	ID         int64
	Properties struct {
		Name    string
		Version int64
		Tariff  *struct {
			BaseFee int64 `json:"base_fee"`
		}
	}
}

// The centre of Moscow, with Tverskaya 7 (the test order's address) inside.
const centre = `[[[37.58,55.73],[37.66,55.73],[37.66,55.78],[37.58,55.78],[37.58,55.73]]]`

func TestZones(t *testing.T) {
	e := newEnv(t)
	before := e.createOrder("Z-0") // made before any zone exists
	var z zoneOut
	e.decode(e.must(e.do("POST", "/api/v1/zones", "dispatcher", zoneFeature("Centre", centre, map[string]any{"tariff": map[string]any{"base_fee": 30000}})), 201), &z)

	// New orders get their zone and its tariff; old ones after a rezone.
	var o struct {
		orderOut
		ZoneID *int64 `json:"zone_id"`
	}
	e.decode(e.must(e.do("POST", "/api/v1/orders", "dispatcher", e.orderBody("Z-1")), 201), &o)
	if o.ZoneID == nil || *o.ZoneID != z.ID || o.DeliveryFee != 30000+3*2000+4*1500 {
		t.Errorf("order in the zone: zone %v fee %d", o.ZoneID, o.DeliveryFee)
	}
	var rez struct{ Checked, Changed int }
	e.decode(e.must(e.do("POST", "/api/v1/zones/rezone", "dispatcher", nil), 200), &rez)
	if rez.Checked != 2 || rez.Changed != 1 {
		t.Errorf("rezone: %+v", rez)
	}
	e.decode(e.must(e.do("GET", "/api/v1/orders/"+itoa(before.ID), "dispatcher", nil), 200), &o)
	if o.ZoneID == nil || *o.ZoneID != z.ID {
		t.Errorf("after rezone the old order has zone %v", o.ZoneID)
	}

	var look struct{ Zones []struct{ ID int64 } }
	e.decode(e.must(e.do("GET", "/api/v1/zones/lookup?lat=55.7577&lng=37.6136", "courier1", nil), 200), &look)
	if len(look.Zones) != 1 || look.Zones[0].ID != z.ID {
		t.Errorf("lookup inside: %+v", look)
	}
	e.decode(e.must(e.do("GET", "/api/v1/zones/lookup?lat=55.9&lng=37.6136", "courier1", nil), 200), &look)
	if len(look.Zones) != 0 {
		t.Errorf("lookup outside: %+v", look)
	}
	e.must(e.do("GET", "/api/v1/zones/lookup?lat=95&lng=37", "courier1", nil), 422)
	e.must(e.do("GET", "/api/v1/zones/lookup?lng=37", "courier1", nil), 422)

	// An evening-only dynamic zone over part of the centre applies on its hours only.
	evening := zoneFeature("Evening", `[[[37.60,55.75],[37.62,55.75],[37.62,55.76],[37.60,55.76],[37.60,55.75]]]`,
		map[string]any{"kind": "dynamic", "hours": map[string]any{"from": "18:00", "to": "23:00"}})
	var ev zoneOut
	e.decode(e.must(e.do("POST", "/api/v1/zones", "dispatcher", evening), 201), &ev)
	e.decode(e.must(e.do("GET", "/api/v1/zones/lookup?lat=55.755&lng=37.61&at=2026-11-23T19:00:00%2B03:00", "dispatcher", nil), 200), &look)
	if len(look.Zones) != 2 || look.Zones[0].ID != ev.ID {
		t.Errorf("evening lookup: %+v", look)
	}
	e.decode(e.must(e.do("GET", "/api/v1/zones/lookup?lat=55.755&lng=37.61&at=2026-11-23T12:00:00%2B03:00", "dispatcher", nil), 200), &look)
	if len(look.Zones) != 1 {
		t.Errorf("midday lookup: %+v", look)
	}

	// Edit with version checks; a courier bound to a zone keeps it from deletion.
	e.decode(e.must(e.do("PATCH", "/api/v1/zones/"+itoa(z.ID), "dispatcher", map[string]any{"type": "Feature",
		"properties": map[string]any{"name": "Centre (Garden Ring)", "tariff": nil, "version": 1}}), 200), &z)
	if z.Properties.Name != "Centre (Garden Ring)" || z.Properties.Tariff != nil || z.Properties.Version != 2 {
		t.Errorf("after patch: %+v", z.Properties)
	}
	e.must(e.do("PATCH", "/api/v1/zones/"+itoa(z.ID), "dispatcher", map[string]any{"type": "Feature", "properties": map[string]any{"version": 1}}), 409)
	e.must(e.do("PATCH", "/api/v1/couriers/"+itoa(e.courier["courier1"]), "dispatcher", map[string]any{"zone_ids": []int64{z.ID}}), 200)
	if r := e.do("DELETE", "/api/v1/zones/"+itoa(z.ID), "dispatcher", nil); r.Status != 409 || !strings.Contains(string(r.Body), "courier_ids") {
		t.Errorf("delete a bound zone: %d %s", r.Status, r.Body)
	}
	e.must(e.do("DELETE", "/api/v1/zones/"+itoa(ev.ID), "dispatcher", nil), 204)
	e.must(e.do("GET", "/api/v1/zones/"+itoa(ev.ID), "dispatcher", nil), 404)
	var fc struct {
		Type     string
		Features []zoneOut
	}
	e.decode(e.must(e.do("GET", "/api/v1/zones", "courier1", nil), 200), &fc)
	if fc.Type != "FeatureCollection" || len(fc.Features) != 1 {
		t.Errorf("list: %+v", fc)
	}
	e.must(e.do("GET", "/api/v1/zones/"+itoa(z.ID), "courier1", nil), 200)
	e.must(e.do("POST", "/api/v1/zones", "courier1", zoneFeature("X", centre, nil)), 403)
}

func TestZoneBadInput(t *testing.T) {
	e := newEnv(t)
	for _, test := range []struct {
		name  string
		body  any
		field string
	}{
		{"open ring", zoneFeature("A", `[[[0,0],[1,0],[1,1],[0,1]]]`, nil), "geometry"},
		{"bow tie", zoneFeature("A", `[[[0,0],[2,2],[2,0],[0,1],[0,0]]]`, nil), "geometry"},
		{"bad coordinate", zoneFeature("A", `[[[0,0],[1,0],[1,91],[0,0]]]`, nil), "geometry"},
		{"the size of a country", zoneFeature("A", `[[[30,50],[40,50],[40,60],[30,50]]]`, nil), "geometry"},
		{"no name", zoneFeature("", centre, nil), "name"},
		{"bad colour", zoneFeature("A", centre, map[string]any{"color": "red"}), "color"},
		{"hours on a permanent zone", zoneFeature("A", centre, map[string]any{"hours": map[string]any{"from": "18:00", "to": "23:00"}}), "kind"},
		{"weekday 8", zoneFeature("A", centre, map[string]any{"kind": "dynamic", "weekdays": []int{8}}), "weekdays"},
		{"unknown courier", zoneFeature("A", centre, map[string]any{"courier_ids": []int{999}}), "courier_ids[0]"},
		{"not a feature", map[string]any{"type": "Polygon", "coordinates": rawJSON(centre)}, ""},
		{"no geometry", map[string]any{"type": "Feature", "properties": map[string]any{"name": "A"}}, "geometry"},
	} {
		r := e.do("POST", "/api/v1/zones", "dispatcher", test.body)
		if r.Status != 422 && r.Status != 400 {
			t.Errorf("%s: status %d: %s", test.name, r.Status, r.Body)
			continue
		}
		if test.field != "" && r.errorField() != test.field {
			t.Errorf("%s: field %q, want %q: %s", test.name, r.errorField(), test.field, r.Body)
		}
	}
}
