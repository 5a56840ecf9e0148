package geo

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"math"
	mrand "math/rand/v2"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/courierhq/courier"
	"github.com/courierhq/courier/internal/testsvc"
	"github.com/redis/go-redis/v9"
)

// testClock is a courier.Clock the test moves by hand.
type testClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *testClock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = t
}

func (c *testClock) Add(d time.Duration) { c.Set(c.Now().Add(d)) }

var (
	trackStart = time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	trackHome  = courier.LatLng{Lat: 55.75, Lng: 37.62}
)

// offset returns the point northM metres north and eastM metres east of p.
func offsetM(p courier.LatLng, northM, eastM float64) courier.LatLng {
	const rad = math.Pi / 180
	return courier.LatLng{
		Lat: p.Lat + northM/(EarthRadiusM*rad),
		Lng: p.Lng + eastM/(EarthRadiusM*rad*math.Cos(p.Lat*rad)),
	}
}

func pingAt(p courier.LatLng, at time.Time) Ping {
	return Ping{Lat: p.Lat, Lng: p.Lng, AccuracyM: 10, SpeedMPS: 3, Heading: 90, RecordedAt: at}
}

// backends runs fn against the embedded miniredis, against the real
// redis-server of scripts/services.sh, and against a Redis Cluster of three
// masters (testsvc.RedisCluster), where a script or transaction over keys of
// two slots would fail with CROSSSLOT.
func redisBackends(t *testing.T, fn func(t *testing.T, rdb redis.UniversalClient)) {
	t.Helper()
	t.Run("miniredis", func(t *testing.T) {
		m := miniredis.RunT(t)
		rdb := redis.NewClient(&redis.Options{Addr: m.Addr()})
		t.Cleanup(func() { rdb.Close() })
		fn(t, rdb)
	})
	t.Run("redis-server", func(t *testing.T) {
		opt, err := redis.ParseURL(testsvc.RedisURL(t))
		if err != nil {
			t.Fatal(err)
		}
		rdb := redis.NewClient(opt)
		t.Cleanup(func() { rdb.Close() })
		fn(t, rdb)
	})
	t.Run("redis-cluster", func(t *testing.T) {
		addrs, err := testsvc.RedisCluster()
		if err != nil {
			t.Fatal(err)
		}
		rdb := redis.NewClusterClient(&redis.ClusterOptions{Addrs: addrs})
		t.Cleanup(func() { rdb.Close() })
		fn(t, rdb)
	})
}

// deleteKeys deletes the keys matching pattern, on every master of a cluster.
func deleteKeys(ctx context.Context, rdb redis.UniversalClient, pattern string) error {
	del := func(ctx context.Context, c redis.Cmdable) error {
		keys, err := c.Keys(ctx, pattern).Result()
		if err != nil || len(keys) == 0 {
			return err
		}
		return c.Del(ctx, keys...).Err()
	}
	if cc, ok := rdb.(*redis.ClusterClient); ok {
		return cc.ForEachMaster(ctx, func(ctx context.Context, c *redis.Client) error { return del(ctx, c) })
	}
	return del(ctx, rdb)
}

// newTestTracker returns a tracker of a fleet of its own, whose keys are
// deleted when the test ends, and its clock (at trackStart).
func newTestTracker(t testing.TB, rdb redis.UniversalClient, cfg TrackerConfig, plans PlanSource) (*Tracker, *testClock) {
	t.Helper()
	clock := &testClock{now: trackStart}
	cfg.Fleet = "test-" + strings.ToLower(rand.Text()[:12])
	tr := NewTracker(rdb, clock, cfg, plans)
	if f, ok := plans.(*fixedPlans); ok {
		f.mu.Lock()
		f.tr = append(f.tr, tr)
		f.mu.Unlock()
	}
	t.Cleanup(func() {
		if err := deleteKeys(context.Background(), rdb, "tracking:{"+cfg.Fleet+"}:*"); err != nil {
			t.Logf("cleanup: %v", err)
		}
	})
	return tr, clock
}

func mustIngest(t *testing.T, tr *Tracker, courierID int64, pings ...Ping) IngestResult {
	t.Helper()
	res, err := tr.Ingest(context.Background(), courierID, pings)
	if err != nil {
		t.Fatalf("ingest: %v", err)
	}
	return res
}

func mustLocation(t *testing.T, tr *Tracker, courierID int64) *Position {
	t.Helper()
	pos, err := tr.Location(context.Background(), courierID)
	if err != nil {
		t.Fatalf("location of %d: %v", courierID, err)
	}
	return pos
}

func samePlace(a, b courier.LatLng) bool { return HaversineM(a, b) < 0.01 }

// walk returns n pings 1 s apart ending at end, moving speed m/s east.
func walkEast(n int, end time.Time, speed float64) []Ping {
	pings := make([]Ping, n)
	for i := range pings {
		pings[i] = pingAt(offsetM(trackHome, 0, speed*float64(i)), end.Add(time.Duration(i-n+1)*time.Second))
	}
	return pings
}

func TestIngestOutOfOrder(t *testing.T) {
	redisBackends(t, func(t *testing.T, rdb redis.UniversalClient) {
		ctx := context.Background()
		tr, _ := newTestTracker(t, rdb, TrackerConfig{}, nil)
		pings := walkEast(30, trackStart.Add(-time.Minute), 5)
		newest := pings[len(pings)-1]
		shuffled := append([]Ping(nil), pings[10:]...)
		mrand.New(mrand.NewPCG(1, 2)).Shuffle(len(shuffled), func(i, j int) { shuffled[i], shuffled[j] = shuffled[j], shuffled[i] })

		res := mustIngest(t, tr, 7, shuffled...)
		if res.Accepted != 20 || res.Duplicates != 0 || len(res.Dropped) != 0 {
			t.Fatalf("result %+v", res)
		}
		if len(res.Events) != 1 || res.Events[0].Type != EventPosition || !res.Events[0].At.Equal(newest.RecordedAt) ||
			!samePlace(res.Events[0].Location, newest.Location()) || res.Events[0].CourierID != 7 {
			t.Errorf("events %+v", res.Events)
		}
		pos := mustLocation(t, tr, 7)
		if !pos.RecordedAt.Equal(newest.RecordedAt) || !samePlace(pos.Location, newest.Location()) || !pos.ReceivedAt.Equal(trackStart) {
			t.Errorf("live position %+v, want the newest ping %+v", pos, newest)
		}
		if pos.AccuracyM != 10 || pos.SpeedMPS != 3 || pos.Heading != 90 || pos.Stale || pos.CourierID != 7 {
			t.Errorf("position %+v", pos)
		}

		// The older pings come later (buffered offline): stored, the live position stays.
		res = mustIngest(t, tr, 7, pings[:10]...)
		if res.Accepted != 10 || len(res.Events) != 0 {
			t.Errorf("late batch: %+v", res)
		}
		if pos := mustLocation(t, tr, 7); !pos.RecordedAt.Equal(newest.RecordedAt) {
			t.Errorf("a late batch moved the live position back to %v", pos.RecordedAt)
		}
		track, err := tr.Track(ctx, 7, trackStart.Add(-time.Hour), trackStart)
		if err != nil {
			t.Fatal(err)
		}
		if len(track) != 30 {
			t.Fatalf("track has %d pings, want 30", len(track))
		}
		for i, p := range track {
			if !p.RecordedAt.Equal(pings[i].RecordedAt) || !samePlace(p.Location(), pings[i].Location()) || p.AccuracyM != 10 {
				t.Errorf("track[%d] = %+v, want %+v", i, p, pings[i])
			}
		}
	})
}

func TestIngestDuplicates(t *testing.T) {
	redisBackends(t, func(t *testing.T, rdb redis.UniversalClient) {
		ctx := context.Background()
		tr, _ := newTestTracker(t, rdb, TrackerConfig{}, nil)
		pings := walkEast(5, trackStart.Add(-time.Minute), 2)
		// The same fix twice in a batch, and once more within the same millisecond.
		again := pings[2]
		again.RecordedAt = again.RecordedAt.Add(300 * time.Microsecond)
		res := mustIngest(t, tr, 1, append(pings, pings[1], again)...)
		if res.Accepted != 5 || res.Duplicates != 2 {
			t.Errorf("first batch %+v", res)
		}
		// A resend of the whole batch: only the last-seen one is known as a
		// duplicate; the others are history again, which Track deduplicates.
		res = mustIngest(t, tr, 1, pings[4])
		if res.Accepted != 0 || res.Duplicates != 1 || len(res.Events) != 0 {
			t.Errorf("resend of the last-seen ping %+v", res)
		}
		mustIngest(t, tr, 1, pings[:4]...)
		track, err := tr.Track(ctx, 1, trackStart.Add(-time.Hour), trackStart)
		if err != nil {
			t.Fatal(err)
		}
		if len(track) != 5 {
			t.Errorf("track has %d pings, want 5", len(track))
		}
		stats, err := tr.Stats(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if stats[StatAccepted] != 9 || stats[StatDuplicates] != 3 || stats[DropTooFast] != 0 {
			t.Errorf("stats %v", stats)
		}
	})
}

func TestIngestDrops(t *testing.T) {
	redisBackends(t, func(t *testing.T, rdb redis.UniversalClient) {
		ctx := context.Background()
		tr, _ := newTestTracker(t, rdb, TrackerConfig{}, nil)
		ok := pingAt(trackHome, trackStart.Add(-time.Second))
		with := func(f func(p *Ping)) Ping {
			p := ok
			f(&p)
			return p
		}
		want := map[string]int64{}
		for i, test := range []struct {
			name   string
			ping   Ping
			reason string // "" = accepted
		}{
			{"fine", ok, ""},
			{"latitude above 90", with(func(p *Ping) { p.Lat = 91 }), DropInvalidCoordinates},
			{"latitude beyond what a GEO set holds", with(func(p *Ping) { p.Lat = -85.1 }), DropInvalidCoordinates},
			{"longitude below -180", with(func(p *Ping) { p.Lng = -180.5 }), DropInvalidCoordinates},
			{"NaN", with(func(p *Ping) { p.Lng = math.NaN() }), DropInvalidCoordinates},
			{"null island", with(func(p *Ping) { p.Lat, p.Lng = 0, 0 }), DropInvalidCoordinates},
			{"accuracy 150 m", with(func(p *Ping) { p.AccuracyM = 150 }), DropPoorAccuracy},
			{"negative accuracy", with(func(p *Ping) { p.AccuracyM = -1 }), DropPoorAccuracy},
			{"accuracy unknown (0)", with(func(p *Ping) { p.AccuracyM = 0 }), ""},
			{"accuracy exactly the limit", with(func(p *Ping) { p.AccuracyM = 100 }), ""},
			{"3 minutes ahead", with(func(p *Ping) { p.RecordedAt = trackStart.Add(3 * time.Minute) }), DropFuture},
			{"1 minute ahead (skew)", with(func(p *Ping) { p.RecordedAt = trackStart.Add(time.Minute) }), ""},
			{"49 hours late", with(func(p *Ping) { p.RecordedAt = trackStart.Add(-49 * time.Hour) }), DropTooOld},
			{"zero time", with(func(p *Ping) { p.RecordedAt = time.Time{} }), DropTooOld},
			{"47 hours late", with(func(p *Ping) { p.RecordedAt = trackStart.Add(-47 * time.Hour) }), ""},
			{"NaN speed and heading are kept as 0", with(func(p *Ping) { p.SpeedMPS, p.Heading = math.NaN(), math.Inf(1) }), ""},
		} {
			courierID := int64(100 + i) // a courier of its own: no speed check against another test's ping
			res, err := tr.Ingest(ctx, courierID, []Ping{test.ping})
			if err != nil {
				t.Fatalf("%s: %v", test.name, err)
			}
			if test.reason == "" {
				if res.Accepted != 1 || len(res.Dropped) != 0 {
					t.Errorf("%s: %+v, want accepted", test.name, res)
				}
				want[StatAccepted]++
				continue
			}
			if res.Accepted != 0 || res.Dropped[test.reason] != 1 || len(res.Dropped) != 1 || len(res.Events) != 0 {
				t.Errorf("%s: %+v, want dropped as %s", test.name, res, test.reason)
			}
			if _, err := tr.Location(ctx, courierID); courier.ErrorCode(err) != courier.ENOTFOUND {
				t.Errorf("%s: a dropped ping gave a location (%v)", test.name, err)
			}
			want[test.reason]++
		}
		stats, err := tr.Stats(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, k := range []string{StatAccepted, StatDuplicates, DropInvalidCoordinates, DropPoorAccuracy, DropTooFast, DropFuture, DropTooOld} {
			if stats[k] != want[k] {
				t.Errorf("stats[%s] = %d, want %d", k, stats[k], want[k])
			}
		}
	})
}

func TestIngestGPSJump(t *testing.T) {
	redisBackends(t, func(t *testing.T, rdb redis.UniversalClient) {
		ctx := context.Background()
		tr, clock := newTestTracker(t, rdb, TrackerConfig{}, nil)
		// 10 m/s east, one fix 5 km north in the middle: only the jump goes.
		pings := walkEast(10, trackStart.Add(-time.Minute), 10)
		pings[5].Lat = offsetM(pings[5].Location(), 5000, 0).Lat
		res := mustIngest(t, tr, 3, pings...)
		if res.Accepted != 9 || res.Dropped[DropTooFast] != 1 {
			t.Fatalf("%+v, want 9 accepted and 1 too_fast", res)
		}
		if pos := mustLocation(t, tr, 3); !samePlace(pos.Location, pings[9].Location()) {
			t.Errorf("live position %v, want the last good ping", pos.Location)
		}

		// A jump as the first ping of the next batch, judged against the last
		// seen one; the good pings after it are judged against the last seen too.
		next := walkEast(13, trackStart.Add(-time.Minute+3*time.Second), 10)[10:]
		jump := pingAt(offsetM(trackHome, 3000, 3000), next[0].RecordedAt.Add(-500*time.Millisecond))
		res = mustIngest(t, tr, 3, append([]Ping{jump}, next...)...)
		if res.Accepted != 3 || res.Dropped[DropTooFast] != 1 {
			t.Fatalf("%+v, want 3 accepted and 1 too_fast", res)
		}
		track, err := tr.Track(ctx, 3, trackStart.Add(-time.Hour), trackStart)
		if err != nil {
			t.Fatal(err)
		}
		if len(track) != 12 {
			t.Errorf("track has %d pings, want 12", len(track))
		}
		for _, p := range track {
			if HaversineM(p.Location(), trackHome) > 200 {
				t.Errorf("a jump reached the history: %+v", p)
			}
		}
		// Ten minutes later, 4 km away, is no jump: the implied speed is low.
		clock.Add(10 * time.Minute)
		res = mustIngest(t, tr, 3, pingAt(offsetM(trackHome, 3000, 3000), clock.Now()))
		if res.Accepted != 1 {
			t.Errorf("a ping 5 km and a minute later: %+v", res)
		}
	})
}

func TestIngestConcurrent(t *testing.T) {
	redisBackends(t, func(t *testing.T, rdb redis.UniversalClient) {
		ctx := context.Background()
		path := []courier.LatLng{trackHome, offsetM(trackHome, 0, 1000)}
		plans := &fixedPlans{plan: &CourierPlan{SheetID: 9, Path: path, Stops: []PlannedStop{{ID: 1, Location: offsetM(trackHome, 0, 900)}}}}
		tr, _ := newTestTracker(t, rdb, TrackerConfig{}, plans)
		pings := walkEast(200, trackStart.Add(-time.Second), 1)
		newest := pings[len(pings)-1]
		shuffled := append([]Ping(nil), pings...)
		mrand.New(mrand.NewPCG(3, 4)).Shuffle(len(shuffled), func(i, j int) { shuffled[i], shuffled[j] = shuffled[j], shuffled[i] })

		var wg sync.WaitGroup
		var mu sync.Mutex
		total := IngestResult{Dropped: map[string]int{}}
		errs := make(chan error, 20)
		for g := range 10 {
			mine := shuffled[g*20 : (g+1)*20]
			wg.Go(func() {
				for _, batch := range [][]Ping{mine[:10], mine[10:]} {
					res, err := tr.Ingest(ctx, 42, batch)
					if err != nil {
						errs <- err
						return
					}
					mu.Lock()
					total.Accepted += res.Accepted
					total.Duplicates += res.Duplicates
					for k, v := range res.Dropped {
						total.Dropped[k] += v
					}
					total.Events = append(total.Events, res.Events...)
					mu.Unlock()
				}
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Fatal(err)
		}
		if total.Accepted != 200 || total.Duplicates != 0 || len(total.Dropped) != 0 {
			t.Errorf("accepted %d, duplicates %d, dropped %v", total.Accepted, total.Duplicates, total.Dropped)
		}
		pos := mustLocation(t, tr, 42)
		if !pos.RecordedAt.Equal(newest.RecordedAt) || !samePlace(pos.Location, newest.Location()) {
			t.Errorf("live position recorded %v at %v, want the newest %v at %v", pos.RecordedAt, pos.Location, newest.RecordedAt, newest.Location())
		}
		for _, e := range total.Events {
			if e.Type != EventPosition || e.At.After(newest.RecordedAt) {
				t.Errorf("unexpected event %+v", e)
			}
		}
		track, err := tr.Track(ctx, 42, trackStart.Add(-time.Hour), trackStart)
		if err != nil {
			t.Fatal(err)
		}
		if len(track) != 200 {
			t.Errorf("track has %d pings, want 200", len(track))
		}
		var s detectState
		raw, err := rdb.Get(ctx, tr.keyDetect(42)).Bytes()
		if err != nil || json.Unmarshal(raw, &s) != nil || s.T != ms(newest.RecordedAt) {
			t.Errorf("detector state %s (%v), want it at the newest ping", raw, err)
		}
	})
}

func TestStale(t *testing.T) {
	redisBackends(t, func(t *testing.T, rdb redis.UniversalClient) {
		ctx := context.Background()
		tr, clock := newTestTracker(t, rdb, TrackerConfig{StaleAfter: 5 * time.Minute}, nil)
		mustIngest(t, tr, 5, pingAt(trackHome, trackStart.Add(-time.Minute)))
		if pos := mustLocation(t, tr, 5); pos.Stale {
			t.Error("stale a minute after the ping")
		}
		clock.Add(4 * time.Minute) // 5 minutes after the ping: not yet
		if pos := mustLocation(t, tr, 5); pos.Stale {
			t.Error("stale exactly StaleAfter after the ping")
		}
		clock.Add(time.Second)
		if pos := mustLocation(t, tr, 5); !pos.Stale {
			t.Error("not stale after StaleAfter")
		}
		if near, err := tr.Nearby(ctx, trackHome, 1000, 10); err != nil || len(near) != 0 {
			t.Errorf("nearby returns a stale courier: %v, %v", near, err)
		}
		// A fresh ping, and the courier is active again.
		mustIngest(t, tr, 5, pingAt(trackHome, clock.Now()))
		if pos := mustLocation(t, tr, 5); pos.Stale {
			t.Error("stale after a fresh ping")
		}
		if _, err := tr.Location(ctx, 6); courier.ErrorCode(err) != courier.ENOTFOUND {
			t.Errorf("never seen: %v, want ENOTFOUND", err)
		}
	})
}

func TestNearby(t *testing.T) {
	redisBackends(t, func(t *testing.T, rdb redis.UniversalClient) {
		ctx := context.Background()
		tr, _ := newTestTracker(t, rdb, TrackerConfig{}, nil)
		// Courier i stands i*100 m north; courier 2 is stale, courier 9 is 2 km away.
		for _, id := range []int64{4, 1, 3, 2, 5} {
			at := trackStart.Add(-time.Minute)
			if id == 2 {
				at = trackStart.Add(-10 * time.Minute)
			}
			mustIngest(t, tr, id, pingAt(offsetM(trackHome, float64(id)*100, 0), at))
		}
		mustIngest(t, tr, 9, pingAt(offsetM(trackHome, -2000, 0), trackStart))

		got, err := tr.Nearby(ctx, trackHome, 1000, 10)
		if err != nil {
			t.Fatal(err)
		}
		var ids []int64
		for _, c := range got {
			ids = append(ids, c.CourierID)
			if want := float64(c.CourierID) * 100; math.Abs(c.DistanceM-want) > 1 {
				t.Errorf("courier %d at %.2f m, want %.0f", c.CourierID, c.DistanceM, want)
			}
			if c.Stale || !samePlace(c.Location, offsetM(trackHome, float64(c.CourierID)*100, 0)) || !c.RecordedAt.Equal(trackStart.Add(-time.Minute)) {
				t.Errorf("courier %+v", c)
			}
		}
		if want := []int64{1, 3, 4, 5}; !equalIDs(ids, want) {
			t.Errorf("nearby = %v, want %v (nearest first, stale and far ones left out)", ids, want)
		}
		for _, test := range []struct {
			radius float64
			limit  int
			want   []int64
		}{
			{1000, 2, []int64{1, 3}},
			{1000, 1, []int64{1}},
			{250, 10, []int64{1}},                  // 2 is stale, 3 is at 300 m
			{50, 10, nil},                          // nobody
			{3000, 100, []int64{1, 3, 4, 5, 9}},    // the far one too
			{100_000, 100, []int64{1, 3, 4, 5, 9}}, // the largest radius
		} {
			got, err := tr.Nearby(ctx, trackHome, test.radius, test.limit)
			if err != nil {
				t.Fatal(err)
			}
			var ids []int64
			for _, c := range got {
				ids = append(ids, c.CourierID)
			}
			if !equalIDs(ids, test.want) {
				t.Errorf("radius %v limit %d: %v, want %v", test.radius, test.limit, ids, test.want)
			}
		}

		// Many stale couriers nearer than the fresh ones: the search widens past them.
		for id := int64(20); id < 60; id++ {
			mustIngest(t, tr, id, pingAt(offsetM(trackHome, 1, 1), trackStart.Add(-time.Hour)))
		}
		got, err = tr.Nearby(ctx, trackHome, 1000, 2)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 2 || got[0].CourierID != 1 || got[1].CourierID != 3 {
			t.Errorf("behind 40 stale couriers: %+v", got)
		}
		// Behind 1,100 (the script reads the last-seen records 500 at a time),
		// and past one on the map whose last-seen record is gone.
		for id := int64(100); id < 1200; id++ {
			mustIngest(t, tr, id, pingAt(offsetM(trackHome, 2, 2), trackStart.Add(-time.Hour)))
		}
		mustIngest(t, tr, 1300, pingAt(offsetM(trackHome, 3, 3), trackStart))
		if err := rdb.HDel(ctx, tr.keyLast(), "1300").Err(); err != nil {
			t.Fatal(err)
		}
		got, err = tr.Nearby(ctx, trackHome, 1000, 2)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 2 || got[0].CourierID != 1 || got[1].CourierID != 3 {
			t.Errorf("behind 1,140 stale couriers and one without a last-seen record: %+v", got)
		}

		// Forget takes a courier off the map.
		if err := tr.Forget(ctx, 1); err != nil {
			t.Fatal(err)
		}
		got, _ = tr.Nearby(ctx, trackHome, 1000, 1)
		if len(got) != 1 || got[0].CourierID != 3 {
			t.Errorf("after forgetting courier 1: %+v", got)
		}
		if _, err := tr.Location(ctx, 1); courier.ErrorCode(err) != courier.ENOTFOUND {
			t.Errorf("location of a forgotten courier: %v", err)
		}
	})
}

func equalIDs(a, b []int64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestBadInput(t *testing.T) {
	redisBackends(t, func(t *testing.T, rdb redis.UniversalClient) {
		ctx := context.Background()
		tr, _ := newTestTracker(t, rdb, TrackerConfig{}, nil)
		for _, test := range []struct {
			name   string
			p      courier.LatLng
			radius float64
			limit  int
			field  string
		}{
			{"radius 0", trackHome, 0, 10, "radius_m"},
			{"negative radius", trackHome, -5, 10, "radius_m"},
			{"NaN radius", trackHome, math.NaN(), 10, "radius_m"},
			{"huge radius", trackHome, 100_001, 10, "radius_m"},
			{"limit 0", trackHome, 100, 0, "limit"},
			{"limit over the maximum", trackHome, 100, MaxNearbyLimit + 1, "limit"},
			{"latitude 91", courier.LatLng{Lat: 91, Lng: 37}, 100, 10, "lat"},
			{"NaN latitude", courier.LatLng{Lat: math.NaN(), Lng: 37}, 100, 10, "lat"},
			{"longitude 190", courier.LatLng{Lat: 55, Lng: 190}, 100, 10, "lng"},
		} {
			_, err := tr.Nearby(ctx, test.p, test.radius, test.limit)
			if courier.ErrorCode(err) != courier.EINVALID || courier.ErrorDetails(err)["field"] != test.field {
				t.Errorf("%s: %v, want EINVALID on %s", test.name, err, test.field)
			}
		}
		if _, err := tr.Ingest(ctx, 0, []Ping{pingAt(trackHome, trackStart)}); courier.ErrorCode(err) != courier.EINVALID {
			t.Errorf("courier 0: %v", err)
		}
		if _, err := tr.Ingest(ctx, 1, make([]Ping, MaxPingsPerBatch+1)); courier.ErrorCode(err) != courier.EINVALID {
			t.Errorf("too many pings: %v", err)
		}
		if res, err := tr.Ingest(ctx, 1, nil); err != nil || res.Accepted != 0 || res.Dropped == nil {
			t.Errorf("empty batch: %+v, %v", res, err)
		}
		if _, err := tr.Track(ctx, 1, trackStart, trackStart.Add(-time.Second)); courier.ErrorCode(err) != courier.EINVALID {
			t.Errorf("track from after to: %v", err)
		}
	})
}

func TestTrack(t *testing.T) {
	redisBackends(t, func(t *testing.T, rdb redis.UniversalClient) {
		ctx := context.Background()
		tr, clock := newTestTracker(t, rdb, TrackerConfig{}, nil)
		// Two hours of pings, one a minute, sent in three batches: the first
		// hour arrives last (the phone was offline).
		clock.Set(trackStart.Add(2 * time.Hour))
		var pings []Ping
		for i := range 120 {
			pings = append(pings, pingAt(offsetM(trackHome, 0, float64(i)*100), trackStart.Add(time.Duration(i)*time.Minute)))
		}
		mustIngest(t, tr, 8, pings[90:]...)
		mustIngest(t, tr, 8, pings[60:90]...)
		clock.Add(time.Hour)
		mustIngest(t, tr, 8, pings[:60]...)
		mustIngest(t, tr, 9, pingAt(trackHome, trackStart.Add(30*time.Minute))) // another courier

		for _, test := range []struct {
			name     string
			from, to time.Time
			first, n int
		}{
			{"everything", trackStart.Add(-time.Hour), trackStart.Add(3 * time.Hour), 0, 120},
			{"the first half hour, received an hour and more later", trackStart, trackStart.Add(29 * time.Minute), 0, 30},
			{"bounds are inclusive", trackStart.Add(10 * time.Minute), trackStart.Add(20 * time.Minute), 10, 11},
			{"across batches", trackStart.Add(50 * time.Minute), trackStart.Add(100 * time.Minute), 50, 51},
			{"one instant", trackStart.Add(75 * time.Minute), trackStart.Add(75 * time.Minute), 75, 1},
			{"between pings", trackStart.Add(75*time.Minute + time.Second), trackStart.Add(76*time.Minute - time.Second), 0, 0},
			{"before everything", trackStart.Add(-3 * time.Hour), trackStart.Add(-time.Second), 0, 0},
		} {
			got, err := tr.Track(ctx, 8, test.from, test.to)
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != test.n {
				t.Errorf("%s: %d pings, want %d", test.name, len(got), test.n)
				continue
			}
			for i, p := range got {
				if w := pings[test.first+i]; !p.RecordedAt.Equal(w.RecordedAt) || !samePlace(p.Location(), w.Location()) {
					t.Errorf("%s: [%d] = %v, want %v", test.name, i, p.RecordedAt, w.RecordedAt)
					break
				}
			}
		}
		if got, err := tr.Track(ctx, 404, trackStart, trackStart.Add(time.Hour)); err != nil || got == nil || len(got) != 0 {
			t.Errorf("unknown courier: %v, %v", got, err)
		}
	})
}

func TestRetention(t *testing.T) {
	redisBackends(t, func(t *testing.T, rdb redis.UniversalClient) {
		ctx := context.Background()
		tr, clock := newTestTracker(t, rdb, TrackerConfig{HistoryMaxLen: 5, Retention: time.Hour}, nil)
		pings := walkEast(12, trackStart.Add(-time.Second), 1)
		mustIngest(t, tr, 2, pings[:6]...)
		mustIngest(t, tr, 2, pings[6:]...)
		if n := rdb.XLen(ctx, tr.keyHistory(2)).Val(); n != 5 {
			t.Errorf("history length %d, want the cap 5", n)
		}
		track, _ := tr.Track(ctx, 2, trackStart.Add(-time.Hour), trackStart)
		if len(track) != 5 || !track[0].RecordedAt.Equal(pings[7].RecordedAt) {
			t.Errorf("after the cap the track holds %d pings from %v, want the newest 5", len(track), track)
		}
		if ttl := rdb.PTTL(ctx, tr.keyHistory(2)).Val(); ttl <= 59*time.Minute || ttl > time.Hour {
			t.Errorf("history TTL %v, want the retention", ttl)
		}

		// Two hours later: what was received more than an hour ago goes.
		clock.Add(2 * time.Hour)
		mustIngest(t, tr, 2, pingAt(trackHome, clock.Now()))
		if n := rdb.XLen(ctx, tr.keyHistory(2)).Val(); n != 1 {
			t.Errorf("history length %d after the retention, want 1", n)
		}
		track, _ = tr.Track(ctx, 2, trackStart.Add(-time.Hour), clock.Now())
		if len(track) != 1 || !track[0].RecordedAt.Equal(clock.Now()) {
			t.Errorf("track after the retention: %+v", track)
		}

		// The stream IDs stay increasing when the clock goes back (another replica's).
		clock.Add(-time.Minute)
		if res := mustIngest(t, tr, 2, pingAt(trackHome, clock.Now())); res.Accepted != 1 {
			t.Errorf("behind the stream top: %+v", res)
		}
		if n := rdb.XLen(ctx, tr.keyHistory(2)).Val(); n != 2 {
			t.Errorf("history length %d, want 2", n)
		}
	})
}

func TestSubscribe(t *testing.T) {
	redisBackends(t, func(t *testing.T, rdb redis.UniversalClient) {
		plans := &fixedPlans{plan: &CourierPlan{SheetID: 77, Path: []courier.LatLng{trackHome, offsetM(trackHome, 0, 2000)}}}
		tr, _ := newTestTracker(t, rdb, TrackerConfig{}, plans)
		other, _ := newTestTracker(t, rdb, TrackerConfig{}, nil) // another fleet: not on this feed
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		feed, err := tr.Subscribe(ctx)
		if err != nil {
			t.Fatal(err)
		}
		mustIngest(t, other, 1, pingAt(trackHome, trackStart))
		mustIngest(t, tr, 11, pingAt(trackHome, trackStart.Add(-time.Minute)))
		res := mustIngest(t, tr, 11, pingAt(offsetM(trackHome, 500, 1000), trackStart))
		want := []Event{
			{Type: EventPosition, CourierID: 11, At: trackStart.Add(-time.Minute), Location: trackHome},
			{Type: EventPosition, CourierID: 11, At: trackStart, Location: offsetM(trackHome, 500, 1000)},
			{Type: EventOffRoute, CourierID: 11, At: trackStart, Location: offsetM(trackHome, 500, 1000), SheetID: 77, DistanceM: 500},
		}
		if len(res.Events) != 2 || res.Events[1].Type != EventOffRoute {
			t.Errorf("result events %+v", res.Events)
		}
		for i, w := range want {
			select {
			case e := <-feed:
				if e.Type != w.Type || e.CourierID != w.CourierID || !e.At.Equal(w.At) || !samePlace(e.Location, w.Location) ||
					e.SheetID != w.SheetID || math.Abs(e.DistanceM-w.DistanceM) > 1 {
					t.Errorf("event %d = %+v, want %+v", i, e, w)
				}
			case <-time.After(5 * time.Second):
				t.Fatalf("event %d (%s) did not arrive", i, w.Type)
			}
		}
		cancel()
		for range feed { // drains and ends: the channel closes with the context
		}
	})
}

func TestTrackGeoJSON(t *testing.T) {
	pings := walkEast(3, trackStart, 10)
	raw, err := TrackGeoJSON(5, pings)
	if err != nil {
		t.Fatal(err)
	}
	var fc struct {
		Type     string
		Features []struct {
			Geometry struct {
				Type        string
				Coordinates json.RawMessage
			}
			Properties map[string]any
		}
	}
	if err := json.Unmarshal(raw, &fc); err != nil {
		t.Fatal(err)
	}
	if fc.Type != "FeatureCollection" || len(fc.Features) != 4 || fc.Features[3].Geometry.Type != "LineString" ||
		fc.Features[0].Geometry.Type != "Point" || fc.Features[0].Properties["recorded_at"] != pings[0].RecordedAt.Format(time.RFC3339Nano) {
		t.Fatalf("geojson %s", raw)
	}
	var first [2]float64 // [lng, lat]
	if err := json.Unmarshal(fc.Features[0].Geometry.Coordinates, &first); err != nil || first[0] != pings[0].Lng || first[1] != pings[0].Lat {
		t.Errorf("first point %v, want [lng, lat] of %+v", first, pings[0])
	}
	if raw, _ := TrackGeoJSON(5, nil); !strings.Contains(string(raw), `"features":[]`) {
		t.Errorf("empty track: %s", raw)
	}
}

func TestTrackerConfig(t *testing.T) {
	c := TrackerConfig{}.WithDefaults()
	if c.Fleet != "default" || c.MaxAccuracyM != 100 || c.MaxSpeedMPS != 50 || c.StaleAfter != 5*time.Minute ||
		c.HistoryMaxLen != 20000 || c.Retention != 7*24*time.Hour || c.MaxDelay != 48*time.Hour || c.MaxSkew != 2*time.Minute ||
		c.OffRouteM != 300 || c.IdleAfter != 10*time.Minute || c.IdleRadiusM != 50 || c.StopRadiusM != 150 ||
		c.ArrivalRadiusM != 80 || c.ArrivalDwell != time.Minute || c.ArrivalExitM != 120 {
		t.Errorf("defaults %+v", c)
	}
	if c := (TrackerConfig{ArrivalRadiusM: 40}).WithDefaults(); c.ArrivalExitM != 60 {
		t.Errorf("exit radius %v, want 1.5 x 40", c.ArrivalExitM)
	}
	for _, test := range []struct {
		cfg   TrackerConfig
		field string
	}{
		{TrackerConfig{Fleet: "msk{1}"}, "fleet"},
		{TrackerConfig{Fleet: "a b"}, "fleet"},
		{TrackerConfig{MaxSpeedMPS: -1}, "max_speed_mps"},
		{TrackerConfig{StaleAfter: -time.Second}, "stale_after"},
		{TrackerConfig{HistoryMaxLen: -1}, "history_max_len"},
		{TrackerConfig{ArrivalRadiusM: 100, ArrivalExitM: 90}, "arrival_exit_m"},
		{TrackerConfig{OffRouteM: math.Inf(1)}, "off_route_m"},
	} {
		if err := test.cfg.Validate(); courier.ErrorDetails(err)["field"] != test.field {
			t.Errorf("%+v: %v, want an error on %s", test.cfg, err, test.field)
		}
	}
	if err := (TrackerConfig{Fleet: "msk-2.north_a"}).Validate(); err != nil {
		t.Error(err)
	}
	defer func() {
		if recover() == nil {
			t.Error("NewTracker took an invalid config")
		}
	}()
	NewTracker(nil, courier.SystemClock{}, TrackerConfig{Fleet: "{x}"}, nil)
}

// BenchmarkIngest50 ingests batches of 50 pings (one a second, walking)
// into miniredis.
func BenchmarkIngest50(b *testing.B) {
	m := miniredis.RunT(b)
	rdb := redis.NewClient(&redis.Options{Addr: m.Addr()})
	b.Cleanup(func() { rdb.Close() }) // after the tracker's cleanup
	tr, clock := newTestTracker(b, rdb, TrackerConfig{}, nil)
	ctx := context.Background()
	var n int
	for b.Loop() {
		clock.Add(50 * time.Second)
		pings := make([]Ping, 50)
		for i := range pings {
			east := math.Abs(float64(n%2000) - 1000) // back and forth at 1 m/s
			pings[i] = pingAt(offsetM(trackHome, 0, east), clock.Now().Add(time.Duration(i-49)*time.Second))
			n++
		}
		res, err := tr.Ingest(ctx, 1, pings)
		if err != nil || res.Accepted != 50 {
			b.Fatalf("%+v, %v", res, err)
		}
	}
}
