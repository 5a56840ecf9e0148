package main

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"math"
	mrand "math/rand/v2"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// The city the load runs in: a box of about 28 x 28 km around the centre
// of Moscow, the depot in its middle.
const (
	cityLat, cityLng = 55.7558, 37.6173
	boxLat, boxLng   = 0.125, 0.22 // half sides in degrees
	depotName        = "courierload depot"
)

// fleetCourier is one courier of the load: its token and where it is.
type fleetCourier struct {
	id       int64
	login    string
	token    string
	mu       sync.Mutex
	lat, lng float64
	last     time.Time // recorded_at of its newest ping

	// Working couriers have a day: the stops still to report, in order.
	stops []int64
}

// world is what the setup made: the admin's and dispatcher's tokens, the depot, the couriers.
type world struct {
	admin, dispatcher string
	depotID           int64
	couriers          []*fleetCourier
	working           []*fleetCourier
	date              string // the working couriers' day (tomorrow in the company time zone)
	timeZone          *time.Location
}

// parallel runs fn(i) for i in [0, n) on conns goroutines and returns the first error.
func parallel(ctx context.Context, n, conns int, fn func(ctx context.Context, i int) error) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var next atomic.Int64
	var first error
	var once sync.Once
	var wg sync.WaitGroup
	for range min(conns, n) {
		wg.Go(func() {
			for ctx.Err() == nil {
				i := int(next.Add(1) - 1)
				if i >= n {
					return
				}
				if err := fn(ctx, i); err != nil {
					once.Do(func() { first = err; cancel() })
					return
				}
			}
		})
	}
	wg.Wait()
	return first
}

type tokenAnswer struct {
	AccessToken string `json:"access_token"`
	CourierID   *int64 `json:"courier_id"`
}

func (c *client) login(ctx context.Context, login, password string) (tokenAnswer, error) {
	var tok tokenAnswer
	a, err := c.must(ctx, "POST", "/api/v1/auth/login", "", map[string]string{"login": login, "password": password}, 200)
	if err != nil {
		return tok, err
	}
	return tok, a.decode(&tok)
}

// setup makes (or finds) the depot, a dispatcher, cfg.couriers couriers
// with logins, logs them all in and gives each a first position.
func setup(ctx context.Context, c *client, cfg config, logf func(string, ...any)) (*world, error) {
	w := &world{}
	admin, err := c.login(ctx, cfg.adminLogin, cfg.adminPassword)
	if err != nil {
		return nil, fmt.Errorf("admin login: %w", err)
	}
	w.admin = admin.AccessToken

	var console struct {
		TimeZone string `json:"time_zone"`
	}
	if a, err := c.must(ctx, "GET", "/console/config.json", "", nil, 200); err != nil {
		return nil, err
	} else if err := a.decode(&console); err != nil {
		return nil, err
	}
	if w.timeZone, err = time.LoadLocation(console.TimeZone); err != nil {
		return nil, fmt.Errorf("company time zone %q: %w", console.TimeZone, err)
	}
	w.date = time.Now().In(w.timeZone).AddDate(0, 0, 1).Format(time.DateOnly)

	// The dispatcher: created once, logged in every run.
	const dispLogin, dispPassword = "load-dispatcher", "load-dispatcher-pw"
	if _, err := c.must(ctx, "POST", "/api/v1/users", w.admin, map[string]any{"login": dispLogin, "name": "Load dispatcher",
		"role": "dispatcher", "password": dispPassword}, 201, 409); err != nil {
		return nil, err
	}
	disp, err := c.login(ctx, dispLogin, dispPassword)
	if err != nil {
		return nil, err
	}
	w.dispatcher = disp.AccessToken

	// The depot, found by name.
	var depots struct {
		Items []struct {
			ID   int64  `json:"id"`
			Name string `json:"name"`
		} `json:"items"`
	}
	a, err := c.must(ctx, "GET", "/api/v1/depots", w.dispatcher, nil, 200)
	if err != nil {
		return nil, err
	}
	if err := a.decode(&depots); err != nil {
		return nil, err
	}
	for _, d := range depots.Items {
		if d.Name == depotName {
			w.depotID = d.ID
		}
	}
	if w.depotID == 0 {
		var d struct{ ID int64 }
		a, err := c.must(ctx, "POST", "/api/v1/depots", w.dispatcher, map[string]any{"name": depotName, "address": "Moscow",
			"location": map[string]float64{"lat": cityLat, "lng": cityLng}, "opening_hours": map[string]string{"opens": "00:00", "closes": "23:59"}}, 201)
		if err != nil {
			return nil, err
		}
		if err := a.decode(&d); err != nil {
			return nil, err
		}
		w.depotID = d.ID
	}

	// The couriers: created through the API (409: there from an earlier run), then logged in.
	start := time.Now()
	var created atomic.Int64
	w.couriers = make([]*fleetCourier, cfg.couriers)
	rng := mrand.New(mrand.NewPCG(1, 2))
	for i := range w.couriers {
		w.couriers[i] = &fleetCourier{login: fmt.Sprintf("load-%05d", i+1),
			lat: cityLat + (2*rng.Float64()-1)*boxLat, lng: cityLng + (2*rng.Float64()-1)*boxLng}
	}
	password := func(fc *fleetCourier) string { return "pw-" + fc.login }
	err = parallel(ctx, len(w.couriers), cfg.conns, func(ctx context.Context, i int) error {
		fc := w.couriers[i]
		a, err := c.must(ctx, "POST", "/api/v1/couriers", w.dispatcher, map[string]any{"name": "Load " + fc.login, "phone": "+7 916 555-00-11",
			"login": fc.login, "password": password(fc), "vehicle": map[string]any{"type": "car"},
			"shift": map[string]string{"start": "00:00", "end": "23:59"}, "depot_id": w.depotID}, 201, 409)
		if err == nil && a.Status == 201 {
			created.Add(1)
		}
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("create couriers: %w", err)
	}
	logf("couriers: %d created, %d there already (%.1f s)", created.Load(), int64(len(w.couriers))-created.Load(), time.Since(start).Seconds())
	start = time.Now()
	err = parallel(ctx, len(w.couriers), cfg.conns, func(ctx context.Context, i int) error {
		fc := w.couriers[i]
		tok, err := c.login(ctx, fc.login, password(fc))
		if err != nil {
			return err
		}
		if tok.CourierID == nil {
			return fmt.Errorf("login %s has no courier", fc.login)
		}
		fc.id, fc.token = *tok.CourierID, tok.AccessToken
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("log couriers in: %w", err)
	}
	logf("couriers: %d logged in (%.1f s)", len(w.couriers), time.Since(start).Seconds())
	return w, nil
}

// pingBatch is the next n pings of fc, 1 ms apart from its last one (or
// from 2 s ago), each a few metres on from the one before: every one is
// accepted (none a duplicate, too fast, too old or in the future).
func pingBatch(fc *fleetCourier, n int, now time.Time) []byte {
	// Pings 1 ms apart (3 m, as a courier would in a second: the speed check
	// takes a second at least), so that even a courier whose batches follow
	// each other as fast as the server answers (gps-road: 50 couriers) stays
	// behind the real time; an earlier batch's are never repeated.
	t := fc.last.Add(time.Millisecond)
	if floor := now.Add(-2 * time.Second); t.Before(floor) {
		t = floor
	}
	// Written by hand, not by json.Marshal of maps: the tool shares the
	// machine with the server, and the CPU it spends is not the server's.
	b := make([]byte, 0, 16+n*130)
	b = append(b, `{"pings":[`...)
	for j := range n {
		// About 3 m per ping, turning slowly; kept inside the box.
		a := float64(t.UnixMilli()%36000) / 36000 * 2 * math.Pi
		fc.lat += 0.000027 * math.Sin(a)
		fc.lng += 0.000045 * math.Cos(a)
		fc.lat = math.Max(cityLat-boxLat, math.Min(cityLat+boxLat, fc.lat))
		fc.lng = math.Max(cityLng-boxLng, math.Min(cityLng+boxLng, fc.lng))
		if j > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"lat":`...)
		b = strconv.AppendFloat(b, fc.lat, 'f', -1, 64)
		b = append(b, `,"lng":`...)
		b = strconv.AppendFloat(b, fc.lng, 'f', -1, 64)
		b = append(b, `,"accuracy_m":5,"speed_mps":3,"heading":90,"recorded_at":"`...)
		b = t.UTC().AppendFormat(b, time.RFC3339Nano)
		b = append(b, `"}`...)
		fc.last = t
		t = t.Add(time.Millisecond)
	}
	return append(b, "]}"...)
}

type pingAnswer struct {
	Accepted   int            `json:"accepted"`
	Duplicates int            `json:"duplicates"`
	Dropped    map[string]int `json:"dropped"`
}

// goLive sends one ping of every courier, so that all of them are live.
func goLive(ctx context.Context, c *client, w *world, conns int) error {
	return parallel(ctx, len(w.couriers), conns, func(ctx context.Context, i int) error {
		fc := w.couriers[i]
		fc.mu.Lock()
		body := pingBatch(fc, 1, time.Now())
		fc.mu.Unlock()
		a, err := c.must(ctx, "POST", "/api/v1/courier/locations", fc.token, body, 200)
		if err != nil {
			return err
		}
		var res pingAnswer
		if err := a.decode(&res); err != nil {
			return err
		}
		if res.Accepted != 1 {
			return fmt.Errorf("courier %s: first ping not accepted: %s", fc.login, a.Body)
		}
		return nil
	})
}

func newID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:])
}

// prepareDay gives cfg.working couriers a day of cfg.stops stops each:
// orders created through the API and made ready, a plan for tomorrow with
// just them, published, and their shifts started. The couriers are ones
// with no route sheet that day yet (pickWorking), so that today and sync
// measure a day of cfg.stops stops however many runs the database kept.
func prepareDay(ctx context.Context, c *client, w *world, cfg config, logf func(string, ...any)) error {
	if cfg.working == 0 {
		return nil
	}
	if err := pickWorking(ctx, c, w, cfg); err != nil {
		return err
	}
	start := time.Now()
	cpuBefore := sampleCPU(cfg.cpu)
	run := newID()[:8]
	n := len(w.working) * cfg.stops
	ids := make([]int64, n)
	err := parallel(ctx, n, cfg.conns, func(ctx context.Context, i int) error {
		rng := mrand.New(mrand.NewPCG(uint64(i), 7))
		var o struct{ ID int64 }
		a, err := c.must(ctx, "POST", "/api/v1/orders", w.dispatcher, map[string]any{
			"external_id": fmt.Sprintf("load-%s-%d", run, i), "customer": map[string]string{"name": "Load customer", "phone": "+7 903 123-45-67"},
			"address": "Moscow", "location": map[string]float64{"lat": cityLat + (2*rng.Float64()-1)*0.04, "lng": cityLng + (2*rng.Float64()-1)*0.07},
			"delivery_date": w.date, "weight_kg": 1, "items": []map[string]any{{"sku": "L", "name": "Parcel", "qty": 1}},
			"cod": map[string]any{"amount": 0, "currency": "RUB", "method": "prepaid"}, "depot_id": w.depotID}, 201)
		if err != nil {
			return err
		}
		if err := a.decode(&o); err != nil {
			return err
		}
		for _, st := range []string{"confirmed", "ready"} {
			if _, err := c.must(ctx, "POST", fmt.Sprintf("/api/v1/orders/%d/status", o.ID), w.dispatcher, map[string]string{"status": st}, 200); err != nil {
				return err
			}
		}
		ids[i] = o.ID
		return nil
	})
	if err != nil {
		return fmt.Errorf("orders: %w", err)
	}
	logf("day: %d orders for %s made ready (%.1f s): %.0f orders/s, each created, confirmed and made ready (3 requests)",
		n, w.date, time.Since(start).Seconds(), float64(n)/time.Since(start).Seconds())
	if len(cfg.cpu) > 0 {
		logf("day: orders made, CPU (a request here is an order of 3 requests):\n%s",
			cpuLine(cpuBetween(cfg.cpu, cpuBefore, sampleCPU(cfg.cpu)), summary{Requests: int64(n), Elapsed: time.Since(start)}))
	}

	start = time.Now()
	courierIDs := make([]int64, len(w.working))
	for i, fc := range w.working {
		courierIDs[i] = fc.id
	}
	var plan struct {
		ID       int64  `json:"id"`
		Status   string `json:"status"`
		Error    string `json:"error"`
		Progress struct {
			Unassigned int `json:"unassigned"`
		} `json:"progress"`
	}
	a, err := c.must(ctx, "POST", "/api/v1/plans", w.dispatcher, map[string]any{"date": w.date, "depot_id": w.depotID,
		"courier_ids": courierIDs, "order_ids": ids, "time_limit_s": cfg.planSeconds}, 202)
	if err != nil {
		return err
	}
	if err := a.decode(&plan); err != nil {
		return err
	}
	for plan.Status != "done" {
		if plan.Status == "failed" {
			return fmt.Errorf("plan %d failed: %s", plan.ID, plan.Error)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(500 * time.Millisecond):
		}
		a, err := c.must(ctx, "GET", fmt.Sprintf("/api/v1/plans/%d", plan.ID), w.dispatcher, nil, 200)
		if err != nil {
			return err
		}
		if err := a.decode(&plan); err != nil {
			return err
		}
	}
	if _, err := c.must(ctx, "POST", fmt.Sprintf("/api/v1/plans/%d/publish", plan.ID), w.dispatcher, nil, 200); err != nil {
		return err
	}
	logf("day: plan %d done and published (%.1f s)", plan.ID, time.Since(start).Seconds())

	stops := 0
	err = parallel(ctx, len(w.working), cfg.conns, func(ctx context.Context, i int) error {
		fc := w.working[i]
		if err := courierEvent(ctx, c, fc, "/api/v1/courier/shift/start", map[string]any{"date": w.date,
			"position": map[string]float64{"lat": cityLat, "lng": cityLng}}); err != nil {
			return err
		}
		td, err := today(ctx, c, fc)
		if err != nil {
			return err
		}
		fc.stops = nil
		for _, sh := range td.Sheets {
			for _, st := range sh.Stops {
				if st.Status == "out_for_delivery" {
					fc.stops = append(fc.stops, st.OrderID)
				}
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("start shifts: %w", err)
	}
	for _, fc := range w.working {
		stops += len(fc.stops)
	}
	logf("day: %d working couriers on shift with %d stops out for delivery (%d orders left unassigned by the plan)",
		len(w.working), stops, plan.Progress.Unassigned)
	if stops == 0 {
		return errors.New("no stop is out for delivery")
	}
	return nil
}

// pickWorking takes as w.working the first cfg.working couriers with no
// route sheet on w.date: an earlier run's working couriers have theirs (and
// their shifts, left open, are ended, the stops still out handed back).
// When too few are left, the rest are taken from the start. Their vehicles
// take cfg.stops stops.
func pickWorking(ctx context.Context, c *client, w *world, cfg config) error {
	want := min(cfg.working, len(w.couriers))
	w.working = nil
	const chunk = 64
	for from := 0; from < len(w.couriers) && len(w.working) < want; from += chunk {
		part := w.couriers[from:min(from+chunk, len(w.couriers))]
		free := make([]bool, len(part))
		err := parallel(ctx, len(part), cfg.conns, func(ctx context.Context, i int) error {
			td, err := todayOn(ctx, c, part[i], w.date)
			if err != nil {
				return err
			}
			free[i] = len(td.Sheets) == 0
			if td.Shift == nil || td.Shift.Status != "open" {
				return nil
			}
			if td.Shift.Date != w.date { // a shift left open on another day: its own stops go back
				if td, err = today(ctx, c, part[i]); err != nil {
					return err
				}
			}
			return endShift(ctx, c, part[i], td)
		})
		if err != nil {
			return fmt.Errorf("pick the working couriers: %w", err)
		}
		for i, fc := range part {
			if free[i] && len(w.working) < want {
				w.working = append(w.working, fc)
			}
		}
	}
	for _, fc := range w.couriers {
		if len(w.working) == want {
			break
		}
		if !slices.Contains(w.working, fc) {
			w.working = append(w.working, fc)
		}
	}
	// At most cfg.stops stops each, so that the plan gives every one of them
	// a day of cfg.stops (unlimited, it serves the city with a few couriers
	// of 200 stops).
	return parallel(ctx, len(w.working), cfg.conns, func(ctx context.Context, i int) error {
		_, err := c.must(ctx, "PATCH", fmt.Sprintf("/api/v1/couriers/%d", w.working[i].id), w.dispatcher,
			map[string]any{"vehicle": map[string]any{"type": "car", "max_stops": cfg.stops}}, 200)
		return err
	})
}

type todayAnswer struct {
	Shift *struct {
		Date   string `json:"date"`
		Status string `json:"status"`
	} `json:"shift"`
	Sheets []struct {
		Stops []struct {
			OrderID int64  `json:"order_id"`
			Status  string `json:"status"`
		} `json:"stops"`
	} `json:"sheets"`
}

func today(ctx context.Context, c *client, fc *fleetCourier) (todayAnswer, error) {
	return todayOn(ctx, c, fc, "")
}

// todayOn is fc's day on date ("": its open shift's, else today's).
func todayOn(ctx context.Context, c *client, fc *fleetCourier, date string) (todayAnswer, error) {
	var td todayAnswer
	path := "/api/v1/courier/today"
	if date != "" {
		path += "?date=" + date
	}
	a, err := c.must(ctx, "GET", path, fc.token, nil, 200)
	if err != nil {
		return td, err
	}
	return td, a.decode(&td)
}

// courierEvent posts one direct courier event and wants it applied.
func courierEvent(ctx context.Context, c *client, fc *fleetCourier, path string, fields map[string]any) error {
	body := map[string]any{"client_event_id": newID(), "at": time.Now().UTC().Format(time.RFC3339Nano)}
	for k, v := range fields {
		body[k] = v
	}
	_, err := c.must(ctx, "POST", path, fc.token, body, 200)
	return err
}

// endShift ends fc's open shift, if any (td is its today), handing back the
// stops still out.
func endShift(ctx context.Context, c *client, fc *fleetCourier, td todayAnswer) error {
	if td.Shift == nil || td.Shift.Status != "open" {
		return nil
	}
	back := []int64{}
	for _, sh := range td.Sheets {
		for _, st := range sh.Stops {
			if st.Status == "out_for_delivery" {
				back = append(back, st.OrderID)
			}
		}
	}
	return courierEvent(ctx, c, fc, "/api/v1/courier/shift/end", map[string]any{"hand_back": back})
}
