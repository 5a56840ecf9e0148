// Package throttle counts failures in Redis so that every courierd replica
// sees the same count (login throttling). It implements courier.Throttle.
package throttle

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"
)

// Redis is a courier.Throttle over a Redis server (real, or miniredis in the
// embedded default: INCR, PEXPIRE and GET behave the same in both).
type Redis struct {
	rdb    redis.UniversalClient
	prefix string
}

// New returns a throttle storing its counters under prefix (e.g. "throttle:").
func New(rdb redis.UniversalClient, prefix string) *Redis {
	return &Redis{rdb: rdb, prefix: prefix}
}

// Failures returns the count under key.
func (r *Redis) Failures(ctx context.Context, key string) (int, error) {
	n, err := r.rdb.Get(ctx, r.prefix+key).Int()
	if errors.Is(err, redis.Nil) {
		return 0, nil
	} else if err != nil {
		return 0, fmt.Errorf("throttle get: %w", err)
	}
	return n, nil
}

// Hit increments the count under key; the first attempt starts the window.
func (r *Redis) Hit(ctx context.Context, key string, window time.Duration) (int, error) {
	pipe := r.rdb.TxPipeline()
	pipe.SetNX(ctx, r.prefix+key, 0, window) // starts the window; INCR keeps the TTL
	incr := pipe.Incr(ctx, r.prefix+key)
	if _, err := pipe.Exec(ctx); err != nil {
		return 0, fmt.Errorf("throttle incr: %w", err)
	}
	return int(incr.Val()), nil
}

// Undo decrements the count under key, never below zero.
func (r *Redis) Undo(ctx context.Context, key string) error {
	n, err := r.rdb.Decr(ctx, r.prefix+key).Result()
	if err != nil {
		return fmt.Errorf("throttle undo: %w", err)
	}
	if n <= 0 {
		return r.Reset(ctx, key)
	}
	return nil
}

// Reset deletes the count under key.
func (r *Redis) Reset(ctx context.Context, key string) error {
	if err := r.rdb.Del(ctx, r.prefix+key).Err(); err != nil {
		return fmt.Errorf("throttle reset: %w", err)
	}
	return nil
}
