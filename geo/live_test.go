package geo

import (
	"context"
	"math"
	mrand "math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// runLive starts tr's live index for the test and waits until it is current.
func runLive(t *testing.T, tr *Tracker) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); tr.RunLive(ctx, nil) }()
	t.Cleanup(func() { cancel(); <-done })
	waitFor(t, "the live index", func() bool {
		x := tr.live.Load()
		if x == nil {
			return false
		}
		x.mu.RLock()
		defer x.mu.RUnlock()
		return x.ready
	})
}

func waitFor(t *testing.T, what string, ok func() bool) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); !ok(); time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not after 5 s", what)
		}
	}
}

// TestLiveIndex: Nearby from a replica's live index answers what Nearby from
// Redis answers, for positions it read in the snapshot, positions other
// replicas publish and positions it ingests itself; a forgotten courier is
// gone at once; stale ones are left out.
func TestLiveIndex(t *testing.T) {
	redisBackends(t, func(t *testing.T, rdb redis.UniversalClient) {
		ctx := context.Background()
		indexed, clock := newTestTracker(t, rdb, TrackerConfig{}, nil)
		other := NewTracker(rdb, clock, indexed.Config(), nil) // another replica, asking Redis
		rng := mrand.New(mrand.NewPCG(7, 11))
		place := func(tr *Tracker, from, to int64) {
			for id := from; id < to; id++ {
				age := time.Duration(rng.IntN(8*60)) * time.Second // some beyond StaleAfter (5 min)
				mustIngest(t, tr, id, pingAt(offsetM(trackHome, (rng.Float64()*2-1)*5000, (rng.Float64()*2-1)*5000), clock.Now().Add(-age)))
			}
		}
		place(other, 1, 150) // before the index: its snapshot
		runLive(t, indexed)
		place(other, 150, 300) // published by another replica
		place(indexed, 300, 400)
		// Courier 5 moves on through the other replica; 6 is forgotten.
		mustIngest(t, other, 5, pingAt(offsetM(trackHome, 10, 10), clock.Now()))
		if err := indexed.Forget(ctx, 6); err != nil {
			t.Fatal(err)
		}
		waitFor(t, "the other replica's pings", func() bool {
			x := indexed.live.Load()
			x.mu.RLock()
			defer x.mu.RUnlock()
			return len(x.pos) == 398 && x.pos[5].Lat == offsetM(trackHome, 10, 10).Lat
		})
		compare := func(radius float64, limit int) {
			t.Helper()
			centre := offsetM(trackHome, (rng.Float64()*2-1)*4000, (rng.Float64()*2-1)*4000)
			want, err := other.Nearby(ctx, centre, radius, limit)
			if err != nil {
				t.Fatal(err)
			}
			got, err := indexed.Nearby(ctx, centre, radius, limit)
			if err != nil {
				t.Fatal(err)
			}
			// Redis measures from its geohash (within a metre): couriers
			// within a metre of the radius or of each other may differ.
			if len(got) != len(want) && (len(want) == 0 || math.Abs(want[len(want)-1].DistanceM-radius) > 1) {
				t.Fatalf("radius %.0f limit %d: %d couriers, Redis says %d", radius, limit, len(got), len(want))
			}
			for i := range min(len(got), len(want)) {
				g, w := got[i], want[i]
				if math.Abs(g.DistanceM-w.DistanceM) > 1 {
					t.Errorf("radius %.0f limit %d, #%d: courier %d at %.1f m, Redis says %d at %.1f m", radius, limit, i, g.CourierID, g.DistanceM, w.CourierID, w.DistanceM)
				}
				if g.CourierID == w.CourierID && (g.RecordedAt != w.RecordedAt || g.ReceivedAt != w.ReceivedAt || g.Stale || g.AccuracyM != w.AccuracyM || g.Heading != w.Heading) {
					t.Errorf("courier %d: %+v, Redis says %+v", g.CourierID, g.Position, w.Position)
				}
			}
			if !slices.IsSortedFunc(got, func(a, b NearbyCourier) int { return int(a.DistanceM - b.DistanceM) }) {
				t.Error("not nearest first")
			}
		}
		for range 30 {
			compare(500+rng.Float64()*2500, 10)
			compare(1000, 100)
		}
		compare(MaxNearbyRadiusM, MaxNearbyLimit)
		got, err := indexed.Nearby(ctx, offsetM(trackHome, 10, 10), 1, 10)
		if err != nil || len(got) != 1 || got[0].CourierID != 5 {
			t.Errorf("courier 5 where the other replica saw it: %+v %v", got, err)
		}
		for _, c := range must(indexed.Nearby(ctx, trackHome, MaxNearbyRadiusM, MaxNearbyLimit)) {
			if c.CourierID == 6 {
				t.Error("a forgotten courier is still near")
			}
		}
		clock.Add(time.Hour)
		if got := must(indexed.Nearby(ctx, trackHome, MaxNearbyRadiusM, MaxNearbyLimit)); len(got) != 0 {
			t.Errorf("an hour later nobody is fresh, yet %d are near", len(got))
		}
	})
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

// TestLiveIndexReconnects: when the subscription's connection is killed,
// what was published meanwhile reaches the index through the snapshot read
// when the subscription is made again.
func TestLiveIndexReconnects(t *testing.T) {
	redisBackends(t, func(t *testing.T, rdb redis.UniversalClient) {
		c, ok := rdb.(*redis.Client)
		if !ok {
			return // the cluster client: the kill below needs one node
		}
		ctx := context.Background()
		indexed, clock := newTestTracker(t, rdb, TrackerConfig{}, nil)
		other := NewTracker(rdb, clock, indexed.Config(), nil)
		runLive(t, indexed)
		mustIngest(t, other, 1, pingAt(trackHome, clock.Now()))
		waitFor(t, "courier 1", func() bool { return len(must(indexed.Nearby(ctx, trackHome, 100, 10))) == 1 })
		if err := c.Do(ctx, "CLIENT", "KILL", "TYPE", "pubsub").Err(); err != nil {
			if strings.Contains(err.Error(), "unknown") || strings.Contains(err.Error(), "ERR") {
				return // miniredis has no CLIENT KILL
			}
			t.Fatal(err)
		}
		// Published while the subscription may be away.
		for id := int64(2); id < 20; id++ {
			mustIngest(t, other, id, pingAt(offsetM(trackHome, float64(id), 0), clock.Now()))
		}
		waitFor(t, "the couriers pinging during the reconnection", func() bool {
			x := indexed.live.Load()
			x.mu.RLock()
			defer x.mu.RUnlock()
			return x.ready && len(x.pos) == 19 && x.loads == 2
		})
	})
}

// BenchmarkLiveNearby: the 10 nearest within 2 km among 10,000 couriers on
// 28 x 28 km, as courierload asks.
func BenchmarkLiveNearby(b *testing.B) {
	rng := mrand.New(mrand.NewPCG(1, 2))
	now := time.Now()
	x := &liveIndex{}
	for id := int64(1); id <= 10000; id++ {
		x.put(id, seen{Rec: ms(now), Rcv: ms(now), Lat: 55.75 + (rng.Float64()*2-1)*0.125, Lng: 37.62 + (rng.Float64()*2-1)*0.22}, now)
	}
	x.ready = true
	for b.Loop() {
		p := offsetM(trackHome, (rng.Float64()*2-1)*12000, (rng.Float64()*2-1)*12000)
		if _, ok := x.nearby(p, 2000, 10, now, 5*time.Minute); !ok {
			b.Fatal("not ready")
		}
	}
}

// TestLocations: many couriers' last positions in a few round trips, the
// same as Location's one by one, those never seen left out.
func TestLocations(t *testing.T) {
	redisBackends(t, func(t *testing.T, rdb redis.UniversalClient) {
		ctx := context.Background()
		tr, clock := newTestTracker(t, rdb, TrackerConfig{}, nil)
		var ids []int64
		for id := int64(1); id <= 1200; id++ {
			ids = append(ids, id)
			if id%3 != 0 {
				mustIngest(t, tr, id, pingAt(offsetM(trackHome, float64(id), 0), clock.Now().Add(-time.Duration(id)*time.Second)))
			}
		}
		got, err := tr.Locations(ctx, ids)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 800 {
			t.Errorf("%d couriers found, want 800", len(got))
		}
		for _, id := range ids {
			want, err := tr.Location(ctx, id)
			if id%3 == 0 {
				if got[id] != nil || err == nil {
					t.Errorf("courier %d was never seen: %+v %v", id, got[id], err)
				}
				continue
			}
			if err != nil || got[id] == nil || *got[id] != *want {
				t.Errorf("courier %d: %+v, Location says %+v %v", id, got[id], want, err)
			}
		}
	})
}
