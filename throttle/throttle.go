// Package throttle counts in Redis so that every courierd replica sees the
// same counts: login throttling (Logins, with an in-memory fallback while
// Redis is down) and fixed-window hit counters (Redis).
package throttle

import (
	"context"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"
)

// Redis counts hits per key in fixed windows over a Redis server (real, or
// miniredis in the embedded default: SET NX PX and INCR behave the same in both).
type Redis struct {
	rdb    redis.UniversalClient
	prefix string
}

// New returns a counter storing its counts under prefix (e.g. "track:").
func New(rdb redis.UniversalClient, prefix string) *Redis {
	return &Redis{rdb: rdb, prefix: prefix}
}

// Hit increments the count under key; the first hit starts the window.
func (r *Redis) Hit(ctx context.Context, key string, window time.Duration) (int, error) {
	pipe := r.rdb.TxPipeline()
	pipe.SetNX(ctx, r.prefix+key, 0, window) // starts the window; INCR keeps the TTL
	incr := pipe.Incr(ctx, r.prefix+key)
	if _, err := pipe.Exec(ctx); err != nil {
		return 0, fmt.Errorf("throttle incr: %w", err)
	}
	return int(incr.Val()), nil
}
