package api_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/courierhq/courier/api"
)

// goInternals are what a client must never read in an error message.
var goInternals = []string{"Go value", "go value", "json:", "unmarshal", "float64", "int64", "parsing time", "2006-01-02",
	"strconv", "panic", "runtime", "/tmp/", "/usr/", "/work/", "reflect"}

// TestIssueBadInput: each kind of bad input the hardening issue lists gets a
// clear 4xx in the JSON error shape, naming the field where it can, never a
// 500 and never Go's own words.
func TestIssueBadInput(t *testing.T) {
	e := newEnv(t)
	with := func(change func(b map[string]any)) map[string]any {
		b := e.orderBody("BAD-1")
		change(b)
		return b
	}
	orderJSON, _ := json.Marshal(e.orderBody("DUP-1"))
	dupKeys := strings.Replace(string(orderJSON), `{"address"`, `{"external_id":"DUP-0","address"`, 1)
	if !strings.Contains(dupKeys, `"external_id":"DUP-0"`) || !strings.Contains(dupKeys, `"external_id":"DUP-1"`) {
		t.Fatalf("no duplicate key in %s", dupKeys)
	}
	ping := func(change func(p map[string]any)) map[string]any {
		p := map[string]any{"lat": 55.75, "lng": 37.61, "accuracy_m": 10, "speed_mps": 5, "heading": 90, "recorded_at": "2026-11-23T06:59:00Z"}
		change(p)
		return map[string]any{"pings": []any{p}}
	}
	for _, test := range []struct {
		name, method, path, user string
		body                     any
		headers                  []string
		status                   int
		field                    string
		says                     string // in the message
	}{
		{"duplicate JSON keys", "POST", "/api/v1/orders", "dispatcher", dupKeys, nil, 400, "external_id", "appears twice"},
		{"duplicate keys deep inside", "POST", "/api/v1/orders", "dispatcher",
			strings.Replace(string(orderJSON), `"method":"cash"`, `"method":"cash","method":"card"`, 1), nil, 400, "cod.method", "appears twice"},
		{"a NUL byte in a name", "POST", "/api/v1/orders", "dispatcher",
			with(func(b map[string]any) { b["customer"].(map[string]any)["name"] = "Anna\x00Petrova" }), nil, 400, "customer.name", "NUL"},
		{"a 900 KB customer name", "POST", "/api/v1/orders", "dispatcher",
			with(func(b map[string]any) { b["customer"].(map[string]any)["name"] = strings.Repeat("Ж", 450_000) }), nil, 400, "customer.name", "at most"},
		{"a 300-character customer name", "POST", "/api/v1/orders", "dispatcher",
			with(func(b map[string]any) { b["customer"].(map[string]any)["name"] = strings.Repeat("Ж", 300) }), nil, 422, "customer.name", "at most 200"},
		{"a window in the year 9999", "POST", "/api/v1/orders", "dispatcher",
			with(func(b map[string]any) {
				b["time_window"] = map[string]any{"from": "9999-11-23T10:00:00+03:00", "to": "9999-11-23T13:00:00+03:00"}
			}), nil, 422, "time_window", "five years"},
		{"a delivery date in the year 9999", "POST", "/api/v1/orders", "dispatcher",
			with(func(b map[string]any) { delete(b, "time_window"); b["delivery_date"] = "9999-01-01" }), nil, 422, "delivery_date", "five years"},
		{"a zone hole outside its shell", "POST", "/api/v1/zones", "dispatcher",
			zoneFeature("Holey", `[[[37.60,55.70],[37.70,55.70],[37.70,55.80],[37.60,55.80],[37.60,55.70]],`+
				`[[37.80,55.70],[37.85,55.70],[37.85,55.75],[37.80,55.70]]]`, nil), nil, 422, "geometry", "hole"},
		{"a GPS speed of 1e308", "POST", "/api/v1/courier/locations", "courier1",
			ping(func(p map[string]any) { p["speed_mps"] = 1e308 }), nil, 422, "pings[0].speed_mps", "within"},
		{"a heading of 1e308", "POST", "/api/v1/courier/locations", "courier1",
			ping(func(p map[string]any) { p["heading"] = -1e308 }), nil, 422, "pings[0].heading", "within"},
		{"a JSON body sent as text/plain", "POST", "/api/v1/orders", "dispatcher", e.orderBody("PLAIN-1"),
			[]string{"Content-Type", "text/plain"}, 400, "Content-Type", "application/json"},
		{"a JSON body with no Content-Type", "POST", "/api/v1/depots", "dispatcher", `{"name":"X"}`,
			[]string{"Content-Type", ""}, 400, "Content-Type", "application/json"},
		{"a number sent as a string", "POST", "/api/v1/orders", "dispatcher",
			with(func(b map[string]any) { b["weight_kg"] = "heavy" }), nil, 400, "weight_kg", "must be a number"},
		{"a time in another layout", "POST", "/api/v1/orders", "dispatcher",
			with(func(b map[string]any) {
				b["time_window"] = map[string]any{"from": "tomorrow at ten", "to": "2026-11-23T13:00:00+03:00"}
			}),
			nil, 400, "", "RFC 3339"},
		{"a time sent as a number", "POST", "/api/v1/orders", "dispatcher",
			with(func(b map[string]any) {
				b["time_window"] = map[string]any{"from": 5, "to": "2026-11-23T13:00:00+03:00"}
			}),
			nil, 400, "", "RFC 3339"},
		{"an array for an object", "POST", "/api/v1/orders", "dispatcher", "[1,2]", nil, 400, "", "must be an object in JSON"},
		{"a CSV with an unterminated quote", "POST", "/api/v1/orders/import", "dispatcher",
			"external_id,customer_name,customer_phone,address,lat,lng\nQ-1,\"Ivan,+7 900 000-00-01,Tverskaya 1,55.76,37.61\n",
			[]string{"Content-Type", "text/csv"}, 422, "csv", "line 2"},
		{"a zone geometry of the wrong type", "POST", "/api/v1/zones", "dispatcher",
			map[string]any{"type": "Feature", "geometry": map[string]any{"type": "Polygon", "coordinates": "here"}, "properties": map[string]any{"name": "Z"}},
			nil, 422, "geometry", "GeoJSON"},
		{"a CSV with no lines", "POST", "/api/v1/orders/import", "dispatcher", "\n", []string{"Content-Type", "text/csv"}, 422, "csv", ""},
		{"a CSV header with a stray quote", "POST", "/api/v1/orders/import", "dispatcher", "external_id,\"customer_name\n",
			[]string{"Content-Type", "text/csv"}, 422, "csv", "quote"},
		{"a CSV with a bare quote", "POST", "/api/v1/orders/import", "dispatcher",
			"external_id,customer_name,customer_phone,address,lat,lng\nQ-2,Iv\"an,+7 900 000-00-01,Tverskaya 1,55.76,37.61\n",
			[]string{"Content-Type", "text/csv"}, 422, "csv", "quote"},
	} {
		r := e.do(test.method, test.path, test.user, test.body, test.headers...)
		var b struct {
			Error struct {
				Code    string
				Message string
				Details map[string]any
			}
		}
		if err := json.Unmarshal(r.Body, &b); err != nil || b.Error.Code == "" || b.Error.Details == nil {
			t.Errorf("%s: not the JSON error shape: %d %.300s", test.name, r.Status, r.Body)
			continue
		}
		if r.Status != test.status || r.errorField() != test.field || !strings.Contains(b.Error.Message, test.says) {
			t.Errorf("%s: %d %s (field %q), want %d naming %q and saying %q", test.name, r.Status, b.Error.Message, r.errorField(),
				test.status, test.field, test.says)
		}
		for _, bad := range goInternals {
			if strings.Contains(b.Error.Message, bad) {
				t.Errorf("%s: the message shows %q: %s", test.name, bad, b.Error.Message)
			}
		}
	}
	// Nothing of it was stored.
	var list struct{ Items []orderOut }
	e.decode(e.must(e.do("GET", "/api/v1/orders", "dispatcher", nil), 200), &list)
	if len(list.Items) != 0 {
		t.Errorf("%d orders stored from bad input", len(list.Items))
	}
}

// TestEmojiAddressPrints: an order whose address and name carry emoji
// prints on its route sheet (replaced), not a 500.
func TestEmojiAddressPrints(t *testing.T) {
	e := newEnv(t)
	id := e.readyOrder("EMOJI-1", func(b map[string]any) {
		b["address"] = "Москва, Тверская 7 🏠 подъезд 2 🚪"
		b["customer"].(map[string]any)["name"] = "Анна 👩‍🦰 Петрова"
		b["items"] = []any{map[string]any{"sku": "T1", "name": "Чайник 🫖", "qty": 1}}
	})
	var p planOut
	e.decode(e.must(e.do("POST", "/api/v1/plans", "dispatcher", map[string]any{"date": "2026-11-23", "depot_id": e.depotID,
		"order_ids": []int64{id}, "time_limit_s": 2}), 202), &p)
	if p = e.waitPlan(p.ID); p.Status != "done" || len(p.Sheets) != 1 {
		t.Fatalf("plan %s with %d sheets: %s", p.Status, len(p.Sheets), p.Error)
	}
	pdf := e.must(e.do("GET", "/api/v1/route-sheets/"+itoa(p.Sheets[0].ID)+"/pdf", "dispatcher", nil), 200)
	if !bytes.HasPrefix(pdf.Body, []byte("%PDF-")) || pdf.Header.Get("Content-Type") != "application/pdf" {
		t.Errorf("route sheet PDF: %q %.40q", pdf.Header.Get("Content-Type"), pdf.Body)
	}
}

// TestMalformedHeaderJSON: a request net/http refuses by itself (a NUL in
// Content-Type) is answered in the JSON error shape too, through the
// listener courierd serves on.
func TestMalformedHeaderJSON(t *testing.T) {
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		t.Errorf("the handler ran for a malformed request")
	}))
	srv.Listener = api.JSONErrors(srv.Listener)
	srv.Start()
	defer srv.Close()
	for _, raw := range []string{
		"POST /api/v1/orders HTTP/1.1\r\nHost: a\r\nContent-Type: application/json\x00\r\nContent-Length: 2\r\n\r\n{}",
		"POST /api/v1/orders HTTP/1.1\r\nHost: a\r\nX-Bad: a\x01b\r\nContent-Length: 2\r\n\r\n{}",
	} {
		c, err := net.Dial("tcp", srv.Listener.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprint(c, raw)
		res, err := http.ReadResponse(bufio.NewReader(c), nil)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(res.Body)
		c.Close()
		var b struct {
			Error struct{ Code, Message string }
		}
		if res.StatusCode != 400 || res.Header.Get("Content-Type") != "application/json; charset=utf-8" ||
			json.Unmarshal(body, &b) != nil || b.Error.Code != "bad_request" {
			t.Errorf("%q: %d %s %s", raw, res.StatusCode, res.Header.Get("Content-Type"), body)
		}
	}
	// An ordinary answer passes untouched.
	ok := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "plain", http.StatusTeapot)
	}))
	ok.Listener = api.JSONErrors(ok.Listener)
	ok.Start()
	defer ok.Close()
	res, err := http.Get(ok.URL)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != http.StatusTeapot || strings.TrimSpace(string(body)) != "plain" {
		t.Errorf("a handler's own answer was changed: %d %s", res.StatusCode, body)
	}
}
