package api_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"
)

func ping(lat, lng float64, acc float64, at time.Time) map[string]any {
	return map[string]any{"lat": lat, "lng": lng, "accuracy_m": acc, "speed_mps": 5, "heading": 90, "recorded_at": at.Format(time.RFC3339Nano)}
}

func TestTracking(t *testing.T) {
	e := newEnv(t)
	now := e.clock.Now()
	c1, c2 := e.courier["courier1"], e.courier["courier2"]
	// A batch as a phone sends it after being offline: out of order, one
	// duplicate, one with poor accuracy, one GPS jump of 50 km in 10 s.
	batch := []any{
		ping(55.7560, 37.6170, 10, now.Add(-2*time.Minute)),
		ping(55.7550, 37.6160, 10, now.Add(-4*time.Minute)),
		ping(55.7555, 37.6165, 10, now.Add(-3*time.Minute)),
		ping(55.7555, 37.6165, 10, now.Add(-3*time.Minute)),
		ping(55.7556, 37.6166, 900, now.Add(-150*time.Second)),
		ping(56.2000, 37.6170, 10, now.Add(-110*time.Second)),
		ping(55.7562, 37.6172, 8, now.Add(-time.Minute)),
	}
	var res struct {
		Accepted, Duplicates int
		Dropped              map[string]int
	}
	e.decode(e.must(e.do("POST", "/api/v1/courier/locations", "courier1", map[string]any{"pings": batch}), 200), &res)
	if res.Accepted != 4 || res.Duplicates != 1 || res.Dropped["poor_accuracy"] != 1 || res.Dropped["too_fast"] != 1 {
		t.Errorf("ingest: %+v", res)
	}
	var pos struct {
		CourierID  int64 `json:"courier_id"`
		Location   struct{ Lat, Lng float64 }
		RecordedAt time.Time `json:"recorded_at"`
		Stale      bool
	}
	e.decode(e.must(e.do("GET", "/api/v1/couriers/"+itoa(c1)+"/location", "courier1", nil), 200), &pos)
	if pos.Location.Lat != 55.7562 || !pos.RecordedAt.Equal(now.Add(-time.Minute)) || pos.Stale {
		t.Errorf("live position is not the newest ping: %+v", pos)
	}
	e.must(e.do("GET", "/api/v1/couriers/"+itoa(c1)+"/location", "courier2", nil), 404)
	e.must(e.do("GET", "/api/v1/couriers/"+itoa(c2)+"/location", "dispatcher", nil), 404) // never seen
	e.must(e.do("POST", "/api/v1/courier/locations", "dispatcher", map[string]any{"pings": batch}), 403)
	e.must(e.do("POST", "/api/v1/courier/locations", "courier1", map[string]any{"pings": []any{}}), 422)
	e.must(e.do("POST", "/api/v1/courier/locations", "courier1", map[string]any{"pings": []any{map[string]any{"lat": 55.7}}}), 422)

	e.decode(e.must(e.do("POST", "/api/v1/courier/locations", "courier2", map[string]any{"pings": []any{ping(55.7600, 37.6300, 5, now)}}), 200), &res)
	var near struct {
		Items []struct {
			CourierID int64   `json:"courier_id"`
			DistanceM float64 `json:"distance_m"`
		}
	}
	e.decode(e.must(e.do("GET", "/api/v1/couriers/nearby?lat=55.7561&lng=37.6171&radius_m=3000&limit=5", "dispatcher", nil), 200), &near)
	if len(near.Items) != 2 || near.Items[0].CourierID != c1 || near.Items[0].DistanceM > 50 || near.Items[1].CourierID != c2 {
		t.Errorf("nearby: %+v", near)
	}
	e.must(e.do("GET", "/api/v1/couriers/nearby?lat=55.7561&lng=37.6171&radius_m=-1", "dispatcher", nil), 422)
	e.must(e.do("GET", "/api/v1/couriers/nearby?lat=95&lng=37.6171", "dispatcher", nil), 422)
	e.must(e.do("GET", "/api/v1/couriers/nearby?lat=55.7&lng=37.6", "courier1", nil), 403)

	var track struct {
		Type     string
		Features []struct {
			Geometry struct{ Type string }
		}
	}
	e.decode(e.must(e.do("GET", "/api/v1/couriers/"+itoa(c1)+"/track?from="+now.Add(-time.Hour).Format(time.RFC3339), "courier1", nil), 200), &track)
	points := 0
	for _, f := range track.Features {
		if f.Geometry.Type == "Point" {
			points++
		}
	}
	if track.Type != "FeatureCollection" || points != 4 {
		t.Errorf("track: %+v", track)
	}
	e.must(e.do("GET", "/api/v1/couriers/"+itoa(c1)+"/track?from=yesterday", "courier1", nil), 422)

	// Six minutes without a ping: courier1 shows stale and leaves the nearby list.
	e.clock.Set(now.Add(6 * time.Minute))
	var all struct {
		Items []struct {
			CourierID int64 `json:"courier_id"`
			Stale     bool
		}
	}
	e.decode(e.must(e.do("GET", "/api/v1/tracking/positions", "dispatcher", nil), 200), &all)
	if len(all.Items) != 2 || !all.Items[0].Stale || !all.Items[1].Stale {
		t.Errorf("positions after 6 min: %+v", all)
	}
	e.decode(e.must(e.do("GET", "/api/v1/couriers/nearby?lat=55.7561&lng=37.6171&radius_m=3000", "dispatcher", nil), 200), &near)
	if len(near.Items) != 0 {
		t.Errorf("stale couriers are nearby: %+v", near)
	}
}

func TestTrackingStream(t *testing.T) {
	e := newEnv(t)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	go func() {
		time.Sleep(300 * time.Millisecond) // let the stream subscribe
		e.do("POST", "/api/v1/courier/locations", "courier1", map[string]any{"pings": []any{ping(55.75, 37.61, 5, e.clock.Now())}})
		time.Sleep(300 * time.Millisecond)
		cancel()
	}()
	r := e.doCtx(ctx, "GET", "/api/v1/tracking/stream", "dispatcher", nil)
	if r.Status != 200 || !strings.HasPrefix(r.Header.Get("Content-Type"), "text/event-stream") {
		t.Fatalf("stream: %d %v", r.Status, r.Header)
	}
	i := strings.Index(string(r.Body), "event: position\ndata: ")
	if i < 0 {
		t.Fatalf("no position event in %q", r.Body)
	}
	line := strings.SplitN(string(r.Body)[i+len("event: position\ndata: "):], "\n", 2)[0]
	var ev struct {
		Type      string
		CourierID int64 `json:"courier_id"`
		Location  struct{ Lat float64 }
	}
	if err := json.Unmarshal([]byte(line), &ev); err != nil || ev.CourierID != e.courier["courier1"] || ev.Location.Lat != 55.75 {
		t.Errorf("event %q: %+v %v", line, ev, err)
	}
	e.must(e.do("GET", "/api/v1/tracking/stream", "courier1", nil), 403)
}

// TestArrivalOnActiveSheet: the detectors read the courier's active route
// sheet from dispatch; staying at the next stop raises one arrival on the feed.
func TestArrivalOnActiveSheet(t *testing.T) {
	e := newEnv(t)
	o1 := e.readyOrder("AR-1", func(b map[string]any) { b["location"] = at(1) })
	o2 := e.readyOrder("AR-2", func(b map[string]any) { b["location"] = at(8) })
	var p planOut
	e.decode(e.must(e.do("POST", "/api/v1/plans", "dispatcher", map[string]any{"date": "2026-11-23", "depot_id": e.depotID,
		"order_ids": []int64{o1, o2}, "courier_ids": []int64{e.courier["courier1"]}, "time_limit_s": 1}), 202), &p)
	p = e.waitPlan(p.ID)
	e.must(e.do("POST", "/api/v1/plans/"+itoa(p.ID)+"/publish", "dispatcher", nil), 200)
	sheet := p.Sheets[0]
	e.must(e.do("POST", "/api/v1/route-sheets/"+itoa(sheet.ID)+"/start", "courier1", nil), 200)
	next := sheet.Stops[0].OrderID
	var o struct{ Location struct{ Lat, Lng float64 } }
	e.decode(e.must(e.do("GET", "/api/v1/orders/"+itoa(next), "courier1", nil), 200), &o)

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	go func() {
		time.Sleep(300 * time.Millisecond)
		// Two minutes at the door, jittering a few metres, one ping every 10 s.
		var pings []any
		start := e.clock.Now().Add(-2 * time.Minute)
		for i := range 13 {
			d := 0.00003 * float64(i%3-1)
			pings = append(pings, ping(o.Location.Lat+d, o.Location.Lng-d, 5, start.Add(time.Duration(10*i)*time.Second)))
		}
		e.do("POST", "/api/v1/courier/locations", "courier1", map[string]any{"pings": pings})
		time.Sleep(500 * time.Millisecond)
		cancel()
	}()
	r := e.doCtx(ctx, "GET", "/api/v1/tracking/stream", "dispatcher", nil)
	if n := strings.Count(string(r.Body), "event: arrived\n"); n != 1 {
		t.Fatalf("%d arrival events in %s", n, r.Body)
	}
	i := strings.Index(string(r.Body), "event: arrived\ndata: ")
	line := strings.SplitN(string(r.Body)[i+len("event: arrived\ndata: "):], "\n", 2)[0]
	var ev struct {
		SheetID *int64 `json:"sheet_id"`
		StopID  *int64 `json:"stop_id"`
	}
	if err := json.Unmarshal([]byte(line), &ev); err != nil || ev.StopID == nil || *ev.StopID != next || *ev.SheetID != sheet.ID {
		t.Errorf("arrival %s: %v", line, err)
	}
}
