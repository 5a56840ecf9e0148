package geo

// The active plan of a courier on the road is read from the store once and
// kept in this replica until it changes: every GPS batch needs it, and
// reading it costs the store several queries. Writers of route sheets and
// orders call PlansChanged after their commit, which bumps the courier's
// field of tracking:{F}:plans; Ingest reads that stamp in the round trip that
// reads the last-seen record, so every replica sees a change with the next
// batch. PlanCacheTTL bounds what a bump lost while Redis was away costs.

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/courierhq/courier"
	"github.com/redis/go-redis/v9"
)

// PlanCacheTTL is how long a replica keeps a courier's active plan without
// a change being told.
const PlanCacheTTL = 5 * time.Minute

// planCacheMax bounds the cache: above it the expired entries go, and when
// that is not enough, all.
const planCacheMax = 100000

// allPlans is the field of the plans stamp hash bumped when every courier's
// plan may have changed (a depot moved).
const allPlans = "*"

func (t *Tracker) keyPlans() string { return t.prefix + "plans" }

// PlansChanged tells every replica that these couriers' active plans may have
// changed (0 among them: every courier's). Call it after the change commits.
// When it fails, the next call that works also drops every replica's plans,
// since changes were missed meanwhile.
func (t *Tracker) PlansChanged(ctx context.Context, courierIDs []int64) error {
	if len(courierIDs) == 0 {
		return nil
	}
	t.planMu.Lock()
	missed := t.plansMissed
	t.planMu.Unlock()
	_, err := t.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		for _, id := range courierIDs {
			field := allPlans
			if id > 0 {
				field = member(id)
			}
			p.HIncrBy(ctx, t.keyPlans(), field, 1)
		}
		if missed {
			p.HIncrBy(ctx, t.keyPlans(), allPlans, 1)
		}
		return nil
	})
	t.planMu.Lock()
	t.plansMissed = err != nil || (missed && t.plansMissed)
	t.planMu.Unlock()
	if err != nil {
		return redisErr(err, "plans changed")
	}
	return nil
}

type cachedPlan struct {
	plan  *CourierPlan // nil: no active sheet
	stamp string
	until time.Time
}

// activePlan returns the courier's active plan, from the cache when it was
// read at the same stamp (see lastSeenStamp) less than PlanCacheTTL ago.
func (t *Tracker) activePlan(ctx context.Context, courierID int64, stamp string, now time.Time) (*CourierPlan, error) {
	t.planMu.Lock()
	e, ok := t.planCache[courierID]
	t.planMu.Unlock()
	if ok && e.stamp == stamp && now.Before(e.until) {
		return e.plan, nil
	}
	plan, err := t.plans.ActivePlan(ctx, courierID)
	if err != nil {
		return nil, err
	}
	t.planMu.Lock()
	defer t.planMu.Unlock()
	if t.planCache == nil {
		t.planCache = map[int64]cachedPlan{}
	}
	courier.BoundMap(t.planCache, planCacheMax, func(e cachedPlan) bool { return !now.Before(e.until) })
	t.planCache[courierID] = cachedPlan{plan: plan, stamp: stamp, until: now.Add(PlanCacheTTL)}
	return plan, nil
}

// lastSeenStamp reads the courier's last-seen record and, with plans, the
// stamp of their active plan (their field and the all-couriers field of the
// plans hash), in one round trip.
func (t *Tracker) lastSeenStamp(ctx context.Context, courierID int64) (*seen, string, error) {
	if t.plans == nil {
		s, err := t.lastSeen(ctx, courierID)
		return s, "", err
	}
	var last *redis.StringCmd
	var stamp *redis.SliceCmd
	_, err := t.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		last = p.HGet(ctx, t.keyLast(), member(courierID))
		stamp = p.HMGet(ctx, t.keyPlans(), member(courierID), allPlans)
		return nil
	})
	if err != nil && !errors.Is(err, redis.Nil) {
		return nil, "", redisErr(err, "last seen of courier %d", courierID)
	}
	if err := stamp.Err(); err != nil {
		return nil, "", redisErr(err, "plan stamp of courier %d", courierID)
	}
	s, err := decodeSeen(last, courierID)
	if err != nil {
		return nil, "", err
	}
	var b []byte
	for i, v := range stamp.Val() {
		if i > 0 {
			b = append(b, '/')
		}
		if v, ok := v.(string); ok {
			b = append(b, v...)
		}
	}
	return s, string(b), nil
}

// PlansChangedHook returns a function for the store's commit hook
// (store.DB.OnPlansChanged): it calls PlansChanged within timeout and logs a
// failure, which only delays what the replicas' detectors learn.
func (t *Tracker) PlansChangedHook(timeout time.Duration, log *slog.Logger) func(courierIDs []int64) {
	return func(courierIDs []int64) {
		ctx, cancel := context.WithTimeout(context.Background(), timeout)
		defer cancel()
		if err := t.PlansChanged(ctx, courierIDs); err != nil {
			log.Warn("tracking: cannot tell the replicas that plans changed; their detectors catch up within the plan cache's TTL",
				slog.Any("couriers", courierIDs), slog.Any("err", err))
		}
	}
}
