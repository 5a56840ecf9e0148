package geo

import (
	"context"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// TestPlanCache: a courier's active plan is read from the source once per
// replica and kept until a change is told (by any replica) or the TTL ends.
func TestPlanCache(t *testing.T) {
	redisBackends(t, func(t *testing.T, rdb redis.UniversalClient) {
		ctx := context.Background()
		plans := lineSheet()
		one, clock := newTestTracker(t, rdb, TrackerConfig{}, plans)
		two := NewTracker(rdb, clock, one.Config(), plans) // another replica of the fleet
		plans.tr = append(plans.tr, two)
		reads := func() int {
			plans.mu.Lock()
			defer plans.mu.Unlock()
			return plans.reads
		}
		ping := func(tr *Tracker, courierID int64, want int) {
			t.Helper()
			clock.Add(10 * time.Second)
			mustIngest(t, tr, courierID, pingAt(trackHome, clock.Now()))
			if got := reads(); got != want {
				t.Fatalf("after a batch of courier %d: %d plan reads, want %d", courierID, got, want)
			}
		}
		ping(one, 1, 1)
		ping(one, 1, 1) // cached
		ping(two, 1, 2) // the other replica reads it once too
		ping(two, 1, 2)
		ping(one, 2, 3) // another courier

		// A change of courier 1 told on one replica reaches both; courier 2's stays.
		if err := one.PlansChanged(ctx, []int64{1}); err != nil {
			t.Fatal(err)
		}
		ping(two, 1, 4)
		ping(one, 1, 5)
		ping(one, 2, 5)
		ping(one, 1, 5)

		// A change of every plan (a depot moved).
		if err := two.PlansChanged(ctx, []int64{0}); err != nil {
			t.Fatal(err)
		}
		ping(one, 2, 6)
		ping(one, 1, 7)

		// A change that could not be told drops every plan with the next one told.
		cancelled, cancel := context.WithCancel(ctx)
		cancel()
		if err := one.PlansChanged(cancelled, []int64{1}); err == nil {
			t.Fatal("PlansChanged with a cancelled context: no error")
		}
		ping(one, 2, 7) // nothing reached Redis: still cached
		if err := one.PlansChanged(ctx, []int64{3}); err != nil {
			t.Fatal(err)
		}
		ping(one, 2, 8)
		ping(one, 2, 8)

		// The TTL bounds a change that was never told.
		clock.Add(PlanCacheTTL)
		ping(one, 2, 9)
	})
}
