package geo

import (
	"context"
	"errors"
	"math"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/courierhq/courier"
	"github.com/redis/go-redis/v9"
)

// fixedPlans is a PlanSource with one plan for every courier, changed by the
// test through change, which tells the trackers that use it as a store's
// commit would.
type fixedPlans struct {
	mu    sync.Mutex
	plan  *CourierPlan
	err   error
	reads int // ActivePlan calls
	tr    []*Tracker
}

func (f *fixedPlans) ActivePlan(ctx context.Context, courierID int64) (*CourierPlan, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.reads++
	if f.err != nil || f.plan == nil {
		return nil, f.err
	}
	p := *f.plan
	p.Stops = slices.Clone(p.Stops)
	return &p, nil
}

// change runs fn on the plans and tells the trackers every courier's plan changed.
func (f *fixedPlans) change(t testing.TB, fn func()) {
	t.Helper()
	f.mu.Lock()
	fn()
	trackers := slices.Clone(f.tr)
	f.mu.Unlock()
	for _, tr := range trackers {
		if err := tr.PlansChanged(context.Background(), []int64{0}); err != nil {
			t.Fatal(err)
		}
	}
}

func (f *fixedPlans) markDone(t testing.TB, stopID int64) {
	f.change(t, func() {
		for i := range f.plan.Stops {
			if f.plan.Stops[i].ID == stopID {
				f.plan.Stops[i].Done = true
			}
		}
	})
}

// at is the point northM north and eastM east of trackHome.
func trackAt(northM, eastM float64) courier.LatLng { return offsetM(trackHome, northM, eastM) }

// lineSheet is a sheet from the depot at trackHome to stop 1 at 1000 m east, stop
// 2 at 2000 m east and back.
func lineSheet() *fixedPlans {
	return &fixedPlans{plan: &CourierPlan{
		SheetID: 31,
		Path:    []courier.LatLng{trackHome, trackAt(0, 1000), trackAt(0, 2000), trackHome},
		Stops:   []PlannedStop{{ID: 1, Location: trackAt(0, 1000)}, {ID: 2, Location: trackAt(0, 2000)}},
	}}
}

// trace returns pings every `every` from start at the points.
func pingsEvery(start time.Time, every time.Duration, points ...courier.LatLng) []Ping {
	pings := make([]Ping, len(points))
	for i, p := range points {
		pings[i] = pingAt(p, start.Add(time.Duration(i)*every))
	}
	return pings
}

// drive ingests the pings one per call, the clock a second after each
// recording, as a phone online would, and returns the detector events.
func driveOnline(t *testing.T, tr *Tracker, clock *testClock, courierID int64, pings []Ping) []Event {
	t.Helper()
	var events []Event
	for _, p := range pings {
		clock.Set(p.RecordedAt.Add(time.Second))
		res := mustIngest(t, tr, courierID, p)
		if res.Accepted != 1 {
			t.Fatalf("ping %+v: %+v", p, res)
		}
		for _, e := range res.Events {
			if e.Type != EventPosition {
				events = append(events, e)
			}
		}
	}
	return events
}

type wantEvent struct {
	typ       string
	at        time.Time
	stopID    int64
	distanceM float64 // checked within 1 m, unless negative
}

func checkEvents(t *testing.T, got []Event, sheetID, courierID int64, want ...wantEvent) {
	t.Helper()
	if len(got) != len(want) {
		t.Errorf("%d events, want %d:", len(got), len(want))
		for _, e := range got {
			t.Logf("  %s at %v stop %d %.1f m", e.Type, e.At.Sub(trackStart), e.StopID, e.DistanceM)
		}
		return
	}
	for i, w := range want {
		e := got[i]
		if e.Type != w.typ || !e.At.Equal(w.at) || e.StopID != w.stopID || e.SheetID != sheetID || e.CourierID != courierID ||
			(w.distanceM >= 0 && math.Abs(e.DistanceM-w.distanceM) > 1) {
			t.Errorf("event %d = %s at %v stop %d sheet %d %.1f m, want %s at %v stop %d %.1f m", i,
				e.Type, e.At.Sub(trackStart), e.StopID, e.SheetID, e.DistanceM, w.typ, w.at.Sub(trackStart), w.stopID, w.distanceM)
		}
	}
}

func TestDistanceToPath(t *testing.T) {
	line := []courier.LatLng{trackAt(0, 0), trackAt(0, 1000), trackAt(1000, 1000)}
	for _, test := range []struct {
		name string
		p    courier.LatLng
		path []courier.LatLng
		want float64
	}{
		{"on a vertex", trackAt(0, 1000), line, 0},
		{"on the first segment", trackAt(0, 400), line, 0},
		{"100 m beside the first segment", trackAt(-100, 400), line, 100},
		{"beside the second segment", trackAt(500, 1250), line, 250},
		{"before the start", trackAt(0, -300), line, 300},
		{"beyond the end, diagonally", trackAt(1300, 1400), line, 500},
		{"a one-point path", trackAt(300, 400), []courier.LatLng{trackHome}, 500},
		{"a zero-length segment", trackAt(0, 50), []courier.LatLng{trackHome, trackHome}, 50},
	} {
		if got := distanceToPathM(test.p, test.path); math.Abs(got-test.want) > 0.5 {
			t.Errorf("%s: %.2f m, want %.0f", test.name, got, test.want)
		}
	}
	// Across the antimeridian the short way round counts.
	east, west := courier.LatLng{Lat: 0, Lng: 179.999}, courier.LatLng{Lat: 0, Lng: -179.999}
	if d := distanceToPathM(east, []courier.LatLng{west}); math.Abs(d-HaversineM(east, west)) > 1 {
		t.Errorf("across the antimeridian: %.1f m, want %.1f", d, HaversineM(east, west))
	}
}

func TestDetectOffRoute(t *testing.T) {
	redisBackends(t, func(t *testing.T, rdb redis.UniversalClient) {
		tr, clock := newTestTracker(t, rdb, TrackerConfig{OffRouteM: 300}, lineSheet())
		pings := pingsEvery(trackStart, 30*time.Second,
			trackAt(0, 500),   // on the path
			trackAt(200, 500), // 200 m off: within 300
			trackAt(400, 500), // off route
			trackAt(250, 500), // still off: back means within 150
			trackAt(160, 500),
			trackAt(100, 500), // back on route
			trackAt(420, 600), // off again
		)
		checkEvents(t, driveOnline(t, tr, clock, 4, pings), 31, 4,
			wantEvent{EventOffRoute, pings[2].RecordedAt, 0, 400},
			wantEvent{EventBackOnRoute, pings[5].RecordedAt, 0, 100},
			wantEvent{EventOffRoute, pings[6].RecordedAt, 0, 420},
		)
	})
}

func TestDetectIdle(t *testing.T) {
	redisBackends(t, func(t *testing.T, rdb redis.UniversalClient) {
		plans := lineSheet()
		tr, clock := newTestTracker(t, rdb, TrackerConfig{IdleAfter: 10 * time.Minute, IdleRadiusM: 50, StopRadiusM: 150}, plans)

		// Standing 15 minutes between the stops (500 m from each), GPS
		// wandering by 10 m, then moving on.
		var points []courier.LatLng
		for i := range 16 {
			points = append(points, trackAt(float64(i%3)*10-10, 500+float64(i%2)*10))
		}
		points = append(points, trackAt(0, 600), trackAt(0, 610), trackAt(0, 605)) // moved 100 m, then stands again
		pings := pingsEvery(trackStart, time.Minute, points...)
		checkEvents(t, driveOnline(t, tr, clock, 5, pings), 31, 5,
			wantEvent{EventIdle, trackStart.Add(10 * time.Minute), 0, -1},
			wantEvent{EventMoving, pings[16].RecordedAt, 0, 100},
		)

		// Standing 15 minutes 110 m from the next stop (outside the arrival
		// radius): waiting there is not idle.
		pings = pingsEvery(trackStart, time.Minute, slices.Repeat([]courier.LatLng{trackAt(110, 1000)}, 16)...)
		checkEvents(t, driveOnline(t, tr, clock, 6, pings), 31, 6)

		// The stop is done and the courier stays: now it is idle.
		plans.markDone(t, 1)
		last := pings[len(pings)-1].RecordedAt.Add(time.Minute)
		checkEvents(t, driveOnline(t, tr, clock, 6, pingsEvery(last, time.Minute, trackAt(110, 1000))), 31, 6,
			wantEvent{EventIdle, last, 0, 1006}) // the nearest open place is stop 2 (or the depot), hypot(1000, 110) m away
	})
}

// edgeJitter is a courier waiting at the edge of the arrival radius: distances
// west of the stop, around ArrivalRadiusM = 80.
var edgeJitter = []float64{75, 85, 78, 92, 70, 95, 79, 88, 76, 84, 81, 77, 90, 74, 86, 80}

func TestDetectArrivalWithJitter(t *testing.T) {
	redisBackends(t, func(t *testing.T, rdb redis.UniversalClient) {
		cfg := TrackerConfig{ArrivalRadiusM: 80, ArrivalDwell: time.Minute, ArrivalExitM: 120}
		tr, clock := newTestTracker(t, rdb, cfg, lineSheet())
		points := []courier.LatLng{trackAt(0, 600), trackAt(0, 700), trackAt(0, 800), trackAt(0, 900)}
		for _, d := range edgeJitter {
			points = append(points, trackAt(0, 1000-d))
		}
		points = append(points, trackAt(0, 1100), trackAt(0, 1115), trackAt(0, 1130), trackAt(0, 1200))
		pings := pingsEvery(trackStart, 10*time.Second, points...)
		// The dwell starts at the first fix within 80 m (index 4) and is not
		// broken by fixes between 80 and 120 m: one arrival a minute later;
		// 100 and 115 m east are not a departure yet, 130 m is.
		checkEvents(t, driveOnline(t, tr, clock, 8, pings), 31, 8,
			wantEvent{EventArrived, pings[4].RecordedAt.Add(time.Minute), 1, 79},
			wantEvent{EventDeparted, pings[len(pings)-2].RecordedAt, 1, 130},
		)
	})
}

func TestDetectArrivalNeedsDwell(t *testing.T) {
	redisBackends(t, func(t *testing.T, rdb redis.UniversalClient) {
		tr, clock := newTestTracker(t, rdb, TrackerConfig{}, lineSheet())
		// Driving past stop 1 at 10 m/s: 20 s within 80 m.
		var points []courier.LatLng
		for e := 800.0; e <= 1200; e += 50 {
			points = append(points, trackAt(0, e))
		}
		checkEvents(t, driveOnline(t, tr, clock, 9, pingsEvery(trackStart, 5*time.Second, points...)), 31, 9)

		// Back at stop 1 a few minutes later, in and out of 80 m but never
		// beyond 120 m, 50 s in all: still no arrival.
		pings := pingsEvery(trackStart.Add(5*time.Minute), 10*time.Second, trackAt(0, 1010), trackAt(0, 1090), trackAt(0, 1000), trackAt(0, 1100), trackAt(0, 1005), trackAt(0, 1070))
		checkEvents(t, driveOnline(t, tr, clock, 9, pings), 31, 9)
	})
}

func TestDetectNextStop(t *testing.T) {
	redisBackends(t, func(t *testing.T, rdb redis.UniversalClient) {
		plans := lineSheet()
		tr, clock := newTestTracker(t, rdb, TrackerConfig{}, plans)
		start := trackStart
		var events []Event
		stay := func(p courier.LatLng, d time.Duration) {
			n := int(d / (10 * time.Second))
			pings := pingsEvery(start, 10*time.Second, slices.Repeat([]courier.LatLng{p}, n)...)
			events = append(events, driveOnline(t, tr, clock, 10, pings)...)
			start = start.Add(time.Duration(n) * 10 * time.Second)
		}
		move := func(fromE, toE float64) { // along the line at 10 m/s
			var points []courier.LatLng
			step := math.Copysign(100, toE-fromE)
			for e := fromE + step; math.Abs(e-fromE) <= math.Abs(toE-fromE); e += step {
				points = append(points, trackAt(0, e))
			}
			events = append(events, driveOnline(t, tr, clock, 10, pingsEvery(start, 10*time.Second, points...))...)
			start = start.Add(time.Duration(len(points)) * 10 * time.Second)
		}
		stay(trackAt(0, 2000), 2*time.Minute) // at stop 2 first: not the next stop
		move(2000, 1000)
		arrived1 := start.Add(time.Minute - 10*time.Second) // the last move ping is at the stop
		stay(trackAt(0, 1000), 90*time.Second)
		plans.markDone(t, 1)
		stay(trackAt(0, 1000), 30*time.Second) // delivered, still there
		left1 := start.Add(10 * time.Second)
		move(1000, 2000)
		arrived2 := start.Add(time.Minute - 10*time.Second)
		stay(trackAt(0, 2000), 70*time.Second)
		plans.markDone(t, 2)
		left2 := start.Add(10 * time.Second)
		move(2000, 1500)
		checkEvents(t, events, 31, 10,
			wantEvent{EventArrived, arrived1, 1, 0},
			wantEvent{EventDeparted, left1, 1, 200},
			wantEvent{EventArrived, arrived2, 2, 0},
			wantEvent{EventDeparted, left2, 2, 200},
		)
	})
}

func TestDetectOrderAndSheets(t *testing.T) {
	redisBackends(t, func(t *testing.T, rdb redis.UniversalClient) {
		ctx := context.Background()
		plans := lineSheet()
		tr, clock := newTestTracker(t, rdb, TrackerConfig{}, plans)
		checkEvents(t, driveOnline(t, tr, clock, 12, pingsEvery(trackStart, time.Minute, trackAt(0, 500), trackAt(400, 500))), 31, 12,
			wantEvent{EventOffRoute, trackStart.Add(time.Minute), 0, 400})

		// A buffered ping from before the last one is stored but not detected
		// again (it would be "back on route").
		res := mustIngest(t, tr, 12, pingAt(trackAt(0, 450), trackStart.Add(30*time.Second)))
		if res.Accepted != 1 || len(res.Events) != 0 {
			t.Errorf("late ping: %+v", res)
		}

		// A batch from offline runs the detectors on each new ping in order.
		pings := pingsEvery(trackStart.Add(2*time.Minute), 30*time.Second, trackAt(300, 500), trackAt(100, 500), trackAt(500, 500))
		clock.Set(trackStart.Add(5 * time.Minute))
		res = mustIngest(t, tr, 12, pings[2], pings[0], pings[1])
		var types []string
		for _, e := range res.Events {
			types = append(types, e.Type)
		}
		if !slices.Equal(types, []string{EventPosition, EventBackOnRoute, EventOffRoute}) {
			t.Errorf("offline batch events %v", types)
		}

		// Another sheet starts afresh: the courier is off its route.
		plans.change(t, func() {
			plans.plan = &CourierPlan{SheetID: 32, Path: []courier.LatLng{trackAt(2000, 0), trackAt(2000, 1000)}}
		})
		checkEvents(t, driveOnline(t, tr, clock, 12, pingsEvery(trackStart.Add(6*time.Minute), time.Minute, trackAt(500, 500))), 32, 12,
			wantEvent{EventOffRoute, trackStart.Add(6 * time.Minute), 0, 1500})

		// No active sheet: no detection and no state.
		plans.change(t, func() { plans.plan = nil })
		if events := driveOnline(t, tr, clock, 13, pingsEvery(trackStart.Add(7*time.Minute), time.Minute, trackAt(0, 0), trackAt(900, 0))); len(events) != 0 {
			t.Errorf("events without a sheet: %+v", events)
		}
		if n := rdb.Exists(ctx, tr.keyDetect(13)).Val(); n != 0 {
			t.Error("detector state without a sheet")
		}

		// A failing plan source stores nothing: the phone may send again.
		plans.mu.Lock()
		plans.err = errors.New("database down")
		plans.mu.Unlock()
		if _, err := tr.Ingest(ctx, 14, []Ping{pingAt(trackHome, clock.Now())}); err == nil {
			t.Error("no error from a failing plan source")
		}
		if _, err := tr.Location(ctx, 14); courier.ErrorCode(err) != courier.ENOTFOUND {
			t.Errorf("a failed ingest stored a position: %v", err)
		}
	})
}
