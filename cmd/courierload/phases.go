package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	mrand "math/rand/v2"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"
)

// drive runs work on conns goroutines until ctx ends (the phase's time is
// up) or work says there is nothing more to do; it returns how long it ran.
func drive(ctx context.Context, conns int, work func(ctx context.Context, worker int, rng *mrand.Rand) bool) time.Duration {
	start := time.Now()
	var wg sync.WaitGroup
	for i := range conns {
		wg.Go(func() {
			rng := mrand.New(mrand.NewPCG(uint64(i), uint64(start.UnixNano())))
			for ctx.Err() == nil {
				if !work(ctx, i, rng) {
					return
				}
			}
		})
	}
	wg.Wait()
	return time.Since(start)
}

// paced lets work run rate times a second over all its connections, each
// run at its slot (start + k/rate); a connection that is behind runs at
// once. rate 0: work as it is, each connection as fast as it gets answers.
func paced(rate float64, work func(context.Context, int, *mrand.Rand) bool) func(context.Context, int, *mrand.Rand) bool {
	if rate <= 0 {
		return work
	}
	var n atomic.Int64
	var once sync.Once
	var start time.Time
	return func(ctx context.Context, i int, rng *mrand.Rand) bool {
		once.Do(func() { start = time.Now() })
		at := start.Add(time.Duration(float64(n.Add(1)-1) / rate * float64(time.Second)))
		if d := time.Until(at); d > 0 {
			t := time.NewTimer(d)
			select {
			case <-ctx.Done():
				t.Stop()
				return false
			case <-t.C:
			}
		}
		return work(ctx, i, rng)
	}
}

// timed records one HTTP request: ok(items) when the answer has status
// want and check accepts it, fail otherwise. A request cut short by the end
// of the phase is not counted.
func timed(ctx context.Context, rec *recorder, c *client, method, path, token string, body any, want int,
	check func(answer) (int, string)) {
	start := time.Now()
	a, err := c.do(ctx, method, path, token, body)
	record(ctx, rec, time.Since(start), a, err, want, check)
}

// timedGet is timed for a GET on the worker's own connection (rawGets):
// from just before the request is written to the kernel's arrival time of
// the answer when there is one (the tool's own wait for a core to read it
// is then left out, and recorded apart), else to when it was read.
func timedGet(ctx context.Context, rec *recorder, c *client, worker int, path, token string, want int, check func(answer) (int, string)) {
	start := time.Now()
	a, err := c.raw.get(ctx, worker, path, token)
	read := time.Since(start)
	if err == nil && !a.Arrived.IsZero() {
		if d := a.Arrived.Sub(start); d > 0 && d <= read {
			rec.read(read)
			record(ctx, rec, d, a, err, want, check)
			return
		}
	}
	record(ctx, rec, read, a, err, want, check)
}

func record(ctx context.Context, rec *recorder, d time.Duration, a answer, err error, want int, check func(answer) (int, string)) {
	switch {
	case err != nil && ctx.Err() != nil:
		return
	case err != nil:
		rec.fail(d, "transport: "+err.Error())
	case a.Status != want:
		rec.fail(d, fmt.Sprintf("HTTP %d: %.120s", a.Status, a.Body))
	default:
		items, bad := check(a)
		if bad != "" {
			rec.fail(d, bad)
		} else {
			rec.ok(d, items)
		}
	}
}

// gpsWork posts batches of pings, each courier of couriers in turn.
func gpsWork(c *client, couriers []*fleetCourier, batch int, rec *recorder) func(context.Context, int, *mrand.Rand) bool {
	var next atomic.Uint64
	return func(ctx context.Context, _ int, _ *mrand.Rand) bool {
		fc := couriers[int(next.Add(1)-1)%len(couriers)]
		if !fc.mu.TryLock() {
			return true // another worker has this courier now
		}
		if now := time.Now(); fc.last.Add(time.Duration(batch) * time.Millisecond).After(now) {
			// Its next batch would be recorded in the future: a few couriers
			// (gps-road) wait for the clock.
			fc.mu.Unlock()
			time.Sleep(time.Millisecond)
			return true
		}
		body := pingBatch(fc, batch, time.Now())
		timed(ctx, rec, c, "POST", "/api/v1/courier/locations", fc.token, body, 200, func(a answer) (int, string) {
			var res pingAnswer
			if err := a.decode(&res); err != nil {
				return 0, err.Error()
			}
			if res.Accepted != batch {
				return res.Accepted, fmt.Sprintf("%d of %d pings accepted: %s", res.Accepted, batch, a.Body)
			}
			return res.Accepted, ""
		})
		fc.mu.Unlock()
		return true
	}
}

type itemsAnswer struct {
	Items []struct{} `json:"items"`
}

// nearbyWork asks for the 10 couriers nearest to a random point of the city within 2 km.
func nearbyWork(c *client, w *world, rec *recorder) func(context.Context, int, *mrand.Rand) bool {
	return func(ctx context.Context, worker int, rng *mrand.Rand) bool {
		lat := cityLat + (2*rng.Float64()-1)*boxLat
		lng := cityLng + (2*rng.Float64()-1)*boxLng
		path := fmt.Sprintf("/api/v1/couriers/nearby?lat=%.6f&lng=%.6f&radius_m=2000&limit=10", lat, lng)
		timedGet(ctx, rec, c, worker, path, w.dispatcher, 200, countNearby)
		return true
	}
}

// countNearby counts the couriers of a nearby answer by their key, without
// decoding it (the contract tests check its shape): the tool shares the
// machine with the server.
func countNearby(a answer) (int, string) {
	if !bytes.HasPrefix(a.Body, []byte(`{"items":[`)) || !bytes.HasSuffix(a.Body, []byte(`]}`)) {
		return 0, fmt.Sprintf("not a list of items: %.120s", a.Body)
	}
	return bytes.Count(a.Body, []byte(`"courier_id":`)), ""
}

// todayWork asks for the working couriers' days in turn.
func todayWork(c *client, w *world, rec *recorder) func(context.Context, int, *mrand.Rand) bool {
	var next atomic.Uint64
	return func(ctx context.Context, _ int, _ *mrand.Rand) bool {
		fc := w.working[int(next.Add(1)-1)%len(w.working)]
		timed(ctx, rec, c, "GET", "/api/v1/courier/today", fc.token, nil, 200, func(a answer) (int, string) {
			var td todayAnswer
			if err := a.decode(&td); err != nil {
				return 0, err.Error()
			}
			n := 0
			for _, sh := range td.Sheets {
				n += len(sh.Stops)
			}
			return n, ""
		})
		return true
	}
}

// syncWork reports the working couriers' stops through POST /courier/sync,
// one stop (arrive, deliver) per batch, until every stop is reported.
func syncWork(c *client, w *world, rec *recorder) func(context.Context, int, *mrand.Rand) bool {
	var next atomic.Uint64
	return func(ctx context.Context, _ int, _ *mrand.Rand) bool {
		for range len(w.working) {
			fc := w.working[int(next.Add(1)-1)%len(w.working)]
			if !fc.mu.TryLock() {
				continue
			}
			if len(fc.stops) == 0 {
				fc.mu.Unlock()
				continue
			}
			order := fc.stops[0]
			now := time.Now().UTC()
			body := map[string]any{"sent_at": now.Format(time.RFC3339Nano), "events": []map[string]any{
				{"client_event_id": newID(), "action": "arrive", "order_id": order, "at": now.Add(-time.Second).Format(time.RFC3339Nano)},
				{"client_event_id": newID(), "action": "deliver", "order_id": order, "at": now.Format(time.RFC3339Nano), "recipient_name": "Load"},
			}}
			timed(ctx, rec, c, "POST", "/api/v1/courier/sync", fc.token, body, 200, func(a answer) (int, string) {
				var res struct {
					Results []struct {
						Status string `json:"status"`
						Error  *struct {
							Message string `json:"message"`
						} `json:"error"`
					} `json:"results"`
				}
				if err := a.decode(&res); err != nil {
					return 0, err.Error()
				}
				applied := 0
				for _, r := range res.Results {
					if r.Status == "applied" {
						applied++
					} else if r.Error != nil {
						return applied, r.Status + ": " + r.Error.Message
					}
				}
				if applied != 2 {
					return applied, fmt.Sprintf("%d of 2 events applied: %.200s", applied, a.Body)
				}
				return applied, ""
			})
			fc.stops = fc.stops[1:]
			fc.mu.Unlock()
			return true
		}
		// Every courier is busy or done: done when no stop is left.
		for _, fc := range w.working {
			fc.mu.Lock()
			left := len(fc.stops)
			fc.mu.Unlock()
			if left > 0 {
				time.Sleep(time.Millisecond)
				return true
			}
		}
		return false
	}
}

// ordersWork is the dispatcher's order list of the day, 50 a page.
func ordersWork(c *client, w *world, rec *recorder) func(context.Context, int, *mrand.Rand) bool {
	return func(ctx context.Context, _ int, rng *mrand.Rand) bool {
		path := "/api/v1/orders?limit=50&date=" + w.date
		if rng.IntN(2) == 0 {
			path += "&status=out_for_delivery"
		}
		timed(ctx, rec, c, "GET", path, w.dispatcher, nil, 200, countItems)
		return true
	}
}

// Raw Redis: the same server, the same number of connections, no courierd.

const rawKey = "courierload:{raw}:live"

// rawGeoadd sends pipelines of batch single-member GEOADDs (one per ping).
func rawGeoadd(rdb *redis.Client, members, batch int, rec *recorder) func(context.Context, int, *mrand.Rand) bool {
	return func(ctx context.Context, _ int, rng *mrand.Rand) bool {
		start := time.Now()
		_, err := rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
			for range batch {
				p.GeoAdd(ctx, rawKey, &redis.GeoLocation{Name: "m" + strconv.Itoa(rng.IntN(members)),
					Longitude: cityLng + (2*rng.Float64()-1)*boxLng, Latitude: cityLat + (2*rng.Float64()-1)*boxLat})
			}
			return nil
		})
		d := time.Since(start)
		if err != nil {
			if ctx.Err() == nil {
				rec.fail(d, err.Error())
			}
			return true
		}
		rec.ok(d, batch)
		return true
	}
}

// rawFill puts members couriers into the raw GEO set.
func rawFill(ctx context.Context, rdb *redis.Client, members int) error {
	rng := mrand.New(mrand.NewPCG(3, 4))
	for i := 0; i < members; i += 1000 {
		_, err := rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
			for k := i; k < min(i+1000, members); k++ {
				p.GeoAdd(ctx, rawKey, &redis.GeoLocation{Name: "m" + strconv.Itoa(k),
					Longitude: cityLng + (2*rng.Float64()-1)*boxLng, Latitude: cityLat + (2*rng.Float64()-1)*boxLat})
			}
			return nil
		})
		if err != nil {
			return err
		}
	}
	return nil
}

// rawGeosearch runs the GEOSEARCH that nearby runs first (2 km, nearest 20, with distances).
func rawGeosearch(rdb *redis.Client, rec *recorder) func(context.Context, int, *mrand.Rand) bool {
	return func(ctx context.Context, _ int, rng *mrand.Rand) bool {
		start := time.Now()
		locs, err := rdb.GeoSearchLocation(ctx, rawKey, &redis.GeoSearchLocationQuery{
			GeoSearchQuery: redis.GeoSearchQuery{Longitude: cityLng + (2*rng.Float64()-1)*boxLng, Latitude: cityLat + (2*rng.Float64()-1)*boxLat,
				Radius: 2000, RadiusUnit: "m", Sort: "ASC", Count: 20},
			WithDist: true,
		}).Result()
		d := time.Since(start)
		if err != nil {
			if ctx.Err() == nil {
				rec.fail(d, err.Error())
			}
			return true
		}
		rec.ok(d, len(locs))
		return true
	}
}

// memory is one sample of a replica's /metrics.
type memory struct {
	RSS, HeapInuse float64
	Goroutines     float64
}

// sampleMemory reads process_resident_memory_bytes, go_memstats_heap_inuse_bytes
// and go_goroutines from target's /metrics.
func sampleMemory(ctx context.Context, c *client, target, token string) (memory, error) {
	var m memory
	cc := &client{targets: []string{target}, http: c.http}
	a, err := cc.must(ctx, "GET", "/metrics", token, nil, 200)
	if err != nil {
		return m, err
	}
	sc := bufio.NewScanner(strings.NewReader(string(a.Body)))
	sc.Buffer(make([]byte, 64*1024), 1<<20)
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) != 2 {
			continue
		}
		v, err := strconv.ParseFloat(f[1], 64)
		if err != nil {
			continue
		}
		switch f[0] {
		case "process_resident_memory_bytes":
			m.RSS = v
		case "go_memstats_heap_inuse_bytes":
			m.HeapInuse = v
		case "go_goroutines":
			m.Goroutines = v
		}
	}
	return m, sc.Err()
}

// countItems counts the items of a list answer ({items: [...]}).
func countItems(a answer) (int, string) {
	var res itemsAnswer
	if err := a.decode(&res); err != nil {
		return 0, err.Error()
	}
	return len(res.Items), ""
}
