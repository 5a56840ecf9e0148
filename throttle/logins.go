package throttle

import (
	"context"
	"fmt"
	"log/slog"
	"math"
	"sync"
	"time"

	"github.com/courierhq/courier"
	"github.com/redis/go-redis/v9"
)

// attemptScript counts a login attempt in one atomic step: the pair (a hash
// of the attempts n and the time until which the next must wait) and the
// address (a counter over a fixed window). A refused attempt counts nothing.
//
//	KEYS: pair, address
//	ARGV: now (ms), free, base delay (ms), max delay (ms), per address, window (ms)
//	returns 0, or the wait in ms
var attemptScript = redis.NewScript(`
local now, free, base, maxd = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])
local peraddr, window = tonumber(ARGV[5]), tonumber(ARGV[6])
local untl = tonumber(redis.call('HGET', KEYS[1], 'until') or '0')
if now < untl then
	return untl - now
end
if tonumber(redis.call('GET', KEYS[2]) or '0') >= peraddr then
	local ttl = redis.call('PTTL', KEYS[2])
	if ttl <= 0 then ttl = window end
	return ttl
end
local n = redis.call('HINCRBY', KEYS[1], 'n', 1)
local keep = window
if n >= free then
	local d = maxd
	if n - free < 40 then d = math.min(maxd, base * 2 ^ (n - free)) end
	redis.call('HSET', KEYS[1], 'until', now + d)
	if d > keep then keep = d end
end
redis.call('PEXPIRE', KEYS[1], keep)
if redis.call('INCR', KEYS[2]) == 1 then
	redis.call('PEXPIRE', KEYS[2], window)
end
return 0
`)

// successScript forgets the pair and takes one attempt back from the address.
var successScript = redis.NewScript(`
redis.call('DEL', KEYS[1])
local n = tonumber(redis.call('GET', KEYS[2]) or '0')
if n > 1 then
	redis.call('DECR', KEYS[2])
elseif n == 1 then
	redis.call('DEL', KEYS[2])
end
return 0
`)

// delay is the wait after the n-th attempt of a pair under l (0 below Free).
func delay(n int, l courier.LoginLimits) time.Duration {
	if n < l.Free {
		return 0
	}
	if n-l.Free >= 40 {
		return l.MaxDelay
	}
	return min(l.MaxDelay, time.Duration(float64(l.BaseDelay)*math.Pow(2, float64(n-l.Free))))
}

// Logins is the login throttle (courier.LoginThrottle): it counts in Redis,
// shared by every replica, and while Redis does not answer in this process's
// memory (Local), saying so in the log once per outage; logins keep working
// and each replica then applies the limits on its own. It goes back to Redis
// by itself, trying it again at most every RetryAfter.
type Logins struct {
	rdb    redis.UniversalClient
	prefix string
	log    *slog.Logger
	local  *Local
	// RetryAfter is how long Redis is left alone after it failed (default 1 s).
	RetryAfter time.Duration
	// Timeout bounds each Redis call (default 3 s, go-redis's read timeout),
	// so a Redis that hangs slows a login down at most this much, once per
	// RetryAfter. It is generous on purpose: a call that times out may have
	// been counted in Redis all the same, and is counted again in memory, so
	// a Redis that is only slow must not trip it.
	Timeout time.Duration

	mu      sync.Mutex
	down    bool
	retryAt time.Time // real time
}

// NewLogins returns a login throttle keeping its counters under prefix.
func NewLogins(rdb redis.UniversalClient, prefix string, log *slog.Logger) *Logins {
	if log == nil {
		log = slog.Default()
	}
	return &Logins{rdb: rdb, prefix: prefix, log: log, local: NewLocal(), RetryAfter: time.Second, Timeout: 3 * time.Second}
}

// keys are the pair's and the address's keys. They share the hash tag of the
// address, so one script may touch both on a Redis Cluster.
func (t *Logins) keys(login, addr string) []string {
	tag := t.prefix + "{" + addr + "}:"
	return []string{tag + "pair:" + login, tag + "addr"}
}

// redisUp reports whether Redis is worth a try now.
func (t *Logins) redisUp() bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	return !t.down || !time.Now().Before(t.retryAt)
}

// failed notes a Redis failure; the first of an outage is logged.
func (t *Logins) failed(err error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if !t.down {
		t.log.Warn("login throttle: Redis does not answer; counting in this replica's memory until it does", slog.Any("err", err))
	}
	t.down, t.retryAt = true, time.Now().Add(t.RetryAfter)
}

// answered notes a Redis answer; the end of an outage is logged.
func (t *Logins) answered() {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.down {
		t.log.Info("login throttle: Redis answers again; counting there")
	}
	t.down = false
}

// Attempt counts one attempt; see courier.LoginThrottle.
func (t *Logins) Attempt(ctx context.Context, login, addr string, now time.Time, l courier.LoginLimits) (time.Duration, error) {
	if t.redisUp() {
		rctx, cancel := context.WithTimeout(ctx, t.Timeout)
		wait, err := attemptScript.Run(rctx, t.rdb, t.keys(login, addr), now.UnixMilli(), l.Free, l.BaseDelay.Milliseconds(),
			l.MaxDelay.Milliseconds(), l.PerAddress, l.Window.Milliseconds()).Int64()
		cancel()
		if err == nil {
			t.answered()
			return time.Duration(wait) * time.Millisecond, nil
		}
		if ctx.Err() != nil {
			return 0, fmt.Errorf("login throttle: %w", err)
		}
		t.failed(err)
	}
	return t.local.Attempt(ctx, login, addr, now, l)
}

// Succeeded forgets the pair's attempts (in Redis and in memory) and takes
// one back from the address.
func (t *Logins) Succeeded(ctx context.Context, login, addr string) error {
	_ = t.local.Succeeded(ctx, login, addr)
	if !t.redisUp() {
		return nil
	}
	rctx, cancel := context.WithTimeout(ctx, t.Timeout)
	defer cancel()
	if err := successScript.Run(rctx, t.rdb, t.keys(login, addr)).Err(); err != nil {
		if ctx.Err() != nil {
			return fmt.Errorf("login throttle: %w", err)
		}
		t.failed(err)
		return nil
	}
	t.answered()
	return nil
}

// Local is a courier.LoginThrottle in this process's memory: the same rules
// as the Redis script, on the caller's clock, for one replica only.
type Local struct {
	mu    sync.Mutex
	pairs map[[2]string]*localPair
	addrs map[string]*localAddr
}

type localPair struct {
	n            int
	until, ended time.Time
}

type localAddr struct {
	n     int
	ended time.Time
}

// localSweep is the number of entries above which an attempt first drops the
// ended ones; when they are still that many, all are dropped (the throttle
// forgets rather than grow without bound).
const localSweep = 100000

// NewLocal returns an empty in-memory login throttle.
func NewLocal() *Local {
	return &Local{pairs: map[[2]string]*localPair{}, addrs: map[string]*localAddr{}}
}

// Attempt counts one attempt; see courier.LoginThrottle.
func (m *Local) Attempt(_ context.Context, login, addr string, now time.Time, l courier.LoginLimits) (time.Duration, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if len(m.pairs)+len(m.addrs) >= localSweep {
		m.sweep(now)
	}
	p := m.pairs[[2]string{login, addr}]
	if p != nil && !now.Before(p.ended) {
		p = nil
	}
	if p != nil && now.Before(p.until) {
		return p.until.Sub(now), nil
	}
	a := m.addrs[addr]
	if a != nil && !now.Before(a.ended) {
		a = nil
	}
	if a != nil && a.n >= l.PerAddress {
		return a.ended.Sub(now), nil
	}
	if p == nil {
		p = &localPair{}
		m.pairs[[2]string{login, addr}] = p
	}
	p.n++
	d := delay(p.n, l)
	if d > 0 {
		p.until = now.Add(d)
	}
	p.ended = now.Add(max(l.Window, d))
	if a == nil {
		a = &localAddr{ended: now.Add(l.Window)}
		m.addrs[addr] = a
	}
	a.n++
	return 0, nil
}

// Succeeded forgets the pair's attempts and takes one back from the address.
func (m *Local) Succeeded(_ context.Context, login, addr string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.pairs, [2]string{login, addr})
	if a := m.addrs[addr]; a != nil {
		if a.n--; a.n <= 0 {
			delete(m.addrs, addr)
		}
	}
	return nil
}

func (m *Local) sweep(now time.Time) {
	for k, p := range m.pairs {
		if !now.Before(p.ended) {
			delete(m.pairs, k)
		}
	}
	for k, a := range m.addrs {
		if !now.Before(a.ended) {
			delete(m.addrs, k)
		}
	}
	if len(m.pairs)+len(m.addrs) >= localSweep {
		clear(m.pairs)
		clear(m.addrs)
	}
}
