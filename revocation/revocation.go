// Package revocation tells every courierd replica, over Redis pub/sub, that a
// user's tokens were revoked (a logout, a new password, deactivation, another
// role), so each forgets at once what it cached of the user's sessions. It
// implements auth.Revocations. Messages are best effort: while Redis is away
// they are lost, each replica's cache then expires by its short TTL, and the
// whole cache is dropped whenever the subscription is made again.
package revocation

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"strconv"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
)

// Redis publishes and receives revocations on one channel.
type Redis struct {
	rdb     redis.UniversalClient
	channel string
	log     *slog.Logger
	// Timeout bounds a publish (default 500 ms), so a Redis that hangs slows
	// a logout down only this much.
	Timeout time.Duration
	// Idle is how long Listen waits for a message before it pings the
	// connection (default 30 s); a second silence in a row renews the subscription.
	Idle time.Duration

	mu      sync.Mutex
	failing bool // publishing fails; logged once
}

// New returns revocations on channel (e.g. "courierd:revoked").
func New(rdb redis.UniversalClient, channel string, log *slog.Logger) *Redis {
	if log == nil {
		log = slog.Default()
	}
	return &Redis{rdb: rdb, channel: channel, log: log, Timeout: 500 * time.Millisecond, Idle: 30 * time.Second}
}

// Revoked tells every replica that userID's tokens were revoked. A failure is
// logged (once until publishing works again), not returned: the revocation
// itself is in the store already.
func (r *Redis) Revoked(ctx context.Context, userID int64) {
	ctx, cancel := context.WithTimeout(ctx, r.Timeout)
	defer cancel()
	err := r.rdb.Publish(ctx, r.channel, strconv.FormatInt(userID, 10)).Err()
	r.mu.Lock()
	defer r.mu.Unlock()
	switch {
	case err != nil && !r.failing:
		r.log.Warn("revocations: cannot publish; other replicas notice within their session TTL", slog.Int64("user_id", userID), slog.Any("err", err))
		r.failing = true
	case err == nil && r.failing:
		r.log.Info("revocations: publishing again")
		r.failing = false
	}
}

// Listen receives revocations until ctx ends: forget(userID) for each, and
// forgetAll each time the subscription is made (at start and after Redis
// was away: messages may have been missed meanwhile). It reconnects by itself.
func (r *Redis) Listen(ctx context.Context, forget func(userID int64), forgetAll func()) {
	var psMu sync.Mutex
	ps, closed := r.rdb.Subscribe(ctx, r.channel), false
	// end closes the subscription; again makes a new one, unless Listen is over.
	end := func(again bool) {
		psMu.Lock()
		defer psMu.Unlock()
		ps.Close()
		if again && !closed {
			ps = r.rdb.Subscribe(ctx, r.channel)
		} else {
			closed = true
		}
	}
	current := func() *redis.PubSub {
		psMu.Lock()
		defer psMu.Unlock()
		return ps
	}
	// A receive blocks until its deadline whatever ctx does: closing the
	// subscription ends it at once.
	stop := context.AfterFunc(ctx, func() { end(false) })
	defer func() {
		stop()
		end(false)
	}()
	down, silent, pause := false, 0, 200*time.Millisecond
	for ctx.Err() == nil {
		ps := current()
		msg, err := ps.ReceiveTimeout(ctx, r.Idle)
		var nerr net.Error
		switch {
		case ctx.Err() != nil:
			return
		case err != nil && errors.As(err, &nerr) && nerr.Timeout() && silent == 0:
			silent++
			_ = ps.Ping(ctx) // the answer, or the broken connection, comes to the next receive
			continue
		case err != nil && errors.As(err, &nerr) && nerr.Timeout():
			// Two silences in a row: the connection is gone without a word.
			end(true)
			silent = 0
			continue
		case err != nil:
			if !down {
				r.log.Warn("revocations: subscription lost; replicas rely on their session TTL until it is back", slog.Any("err", err))
				down = true
			}
			select {
			case <-ctx.Done():
				return
			case <-time.After(pause):
			}
			pause = min(2*pause, 5*time.Second)
			continue
		}
		silent, pause = 0, 200*time.Millisecond
		switch m := msg.(type) {
		case *redis.Subscription:
			forgetAll()
			if down {
				r.log.Info("revocations: subscribed again")
				down = false
			}
		case *redis.Message:
			if id, err := strconv.ParseInt(m.Payload, 10, 64); err == nil {
				forget(id)
			}
		}
	}
}
