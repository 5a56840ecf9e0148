package throttle

import (
	"context"
	"crypto/rand"
	"io"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/courierhq/courier"
	"github.com/courierhq/courier/internal/testsvc"
	"github.com/redis/go-redis/v9"
)

// backends runs fn on the embedded miniredis, on a real redis-server and on
// a Redis Cluster of three masters (where a script over keys of two slots
// fails with CROSSSLOT); wait lets real time (TTLs) pass.
func backends(t *testing.T, fn func(t *testing.T, rdb redis.UniversalClient, wait func(time.Duration))) {
	t.Run("miniredis", func(t *testing.T) {
		m := miniredis.RunT(t)
		rdb := redis.NewClient(&redis.Options{Addr: m.Addr()})
		defer rdb.Close()
		fn(t, rdb, m.FastForward)
	})
	t.Run("redis-server", func(t *testing.T) {
		opt, err := redis.ParseURL(testsvc.RedisURL(t))
		if err != nil {
			t.Fatal(err)
		}
		rdb := redis.NewClient(opt)
		defer rdb.Close()
		fn(t, rdb, time.Sleep)
	})
	t.Run("redis-cluster", func(t *testing.T) {
		addrs, err := testsvc.RedisCluster()
		if err != nil {
			t.Fatal(err)
		}
		rdb := redis.NewClusterClient(&redis.ClusterOptions{Addrs: addrs})
		defer rdb.Close()
		fn(t, rdb, time.Sleep)
	})
}

// TestHit: fixed windows that start with the first hit.
func TestHit(t *testing.T) {
	backends(t, func(t *testing.T, rdb redis.UniversalClient, wait func(time.Duration)) {
		ctx := context.Background()
		th := New(rdb, "test:"+rand.Text()+":")
		for want := 1; want <= 3; want++ {
			if n, err := th.Hit(ctx, "bob", 300*time.Millisecond); err != nil || n != want {
				t.Fatalf("hit %d: got %d, %v", want, n, err)
			}
		}
		if n, _ := th.Hit(ctx, "alice", time.Minute); n != 1 {
			t.Errorf("other key = %d", n)
		}
		// The window starts at the first hit and does not slide with later ones.
		wait(400 * time.Millisecond)
		if n, _ := th.Hit(ctx, "bob", time.Minute); n != 1 {
			t.Errorf("after the window: %d", n)
		}
	})
}

var testLimits = courier.LoginLimits{Free: 3, BaseDelay: time.Second, MaxDelay: 10 * time.Second, PerAddress: 20, Window: 15 * time.Minute}

// loginThrottles runs fn on the Redis throttle (miniredis, redis-server) and
// on the in-memory one.
func loginThrottles(t *testing.T, fn func(t *testing.T, th courier.LoginThrottle)) {
	backends(t, func(t *testing.T, rdb redis.UniversalClient, _ func(time.Duration)) {
		fn(t, NewLogins(rdb, "test:"+rand.Text()+":", nil))
	})
	t.Run("local", func(t *testing.T) { fn(t, NewLocal()) })
}

// attempt returns the wait of one attempt, failing the test on an error.
func attempt(t *testing.T, th courier.LoginThrottle, login, addr string, now time.Time) time.Duration {
	t.Helper()
	wait, err := th.Attempt(context.Background(), login, addr, now, testLimits)
	if err != nil {
		t.Fatal(err)
	}
	return wait
}

// TestLoginDelays: a pair gets Free attempts, then waits that double up to
// MaxDelay; other addresses and other logins are not affected; a success
// forgets the pair.
func TestLoginDelays(t *testing.T) {
	loginThrottles(t, func(t *testing.T, th courier.LoginThrottle) {
		now := time.Date(2026, 11, 23, 7, 0, 0, 0, time.UTC)
		for i := range 3 {
			if w := attempt(t, th, "admin", "203.0.113.7", now); w != 0 {
				t.Fatalf("attempt %d waits %v", i+1, w)
			}
		}
		for _, want := range []time.Duration{time.Second, 2 * time.Second, 4 * time.Second, 8 * time.Second, 10 * time.Second, 10 * time.Second} {
			if w := attempt(t, th, "admin", "203.0.113.7", now); w != want {
				t.Fatalf("refused attempt waits %v, want %v", w, want)
			}
			if w := attempt(t, th, "admin", "203.0.113.7", now.Add(want/2)); w != want/2 { // a refused attempt counts nothing
				t.Fatalf("halfway: waits %v, want %v", w, want/2)
			}
			now = now.Add(want)
			if w := attempt(t, th, "admin", "203.0.113.7", now); w != 0 {
				t.Fatalf("after %v: waits %v", want, w)
			}
		}
		// The stranger's guesses do not touch admin from elsewhere, nor others from there.
		if w := attempt(t, th, "admin", "198.51.100.2", now); w != 0 {
			t.Errorf("admin from another address waits %v", w)
		}
		if w := attempt(t, th, "dispatcher", "203.0.113.7", now); w != 0 {
			t.Errorf("another login from the stranger's address waits %v", w)
		}
		if err := th.Succeeded(context.Background(), "admin", "203.0.113.7"); err != nil {
			t.Fatal(err)
		}
		if w := attempt(t, th, "admin", "203.0.113.7", now); w != 0 {
			t.Errorf("after a success: waits %v", w)
		}
	})
}

// TestLoginAddressCeiling: an address gets PerAddress attempts over all
// logins; successes give theirs back, so people behind one address who log
// in do not use it up.
func TestLoginAddressCeiling(t *testing.T) {
	loginThrottles(t, func(t *testing.T, th courier.LoginThrottle) {
		now := time.Date(2026, 11, 23, 7, 0, 0, 0, time.UTC)
		for i := range 100 {
			login := "courier" + string(rune('a'+i%26)) + string(rune('a'+i/26))
			if w := attempt(t, th, login, "10.1.2.3", now); w != 0 {
				t.Fatalf("successful login %d waits %v", i, w)
			}
			if err := th.Succeeded(context.Background(), login, "10.1.2.3"); err != nil {
				t.Fatal(err)
			}
		}
		for i := range 20 {
			if w := attempt(t, th, "stranger"+strings.Repeat("x", i), "10.1.2.3", now); w != 0 {
				t.Fatalf("failure %d waits %v", i+1, w)
			}
		}
		w := attempt(t, th, "courier1", "10.1.2.3", now)
		if w <= 0 || w > testLimits.Window {
			t.Errorf("over the ceiling: waits %v, want up to the window", w)
		}
		if w := attempt(t, th, "courier1", "10.9.9.9", now); w != 0 {
			t.Errorf("another address waits %v", w)
		}
	})
}

// TestLoginParallel: attempts sent at once are counted one by one: exactly
// Free of 40 go through.
func TestLoginParallel(t *testing.T) {
	loginThrottles(t, func(t *testing.T, th courier.LoginThrottle) {
		now := time.Date(2026, 11, 23, 7, 0, 0, 0, time.UTC)
		var mu sync.Mutex
		through := 0
		var wg sync.WaitGroup
		for range 40 {
			wg.Go(func() {
				if attempt(t, th, "cashier", "10.1.2.3", now) == 0 {
					mu.Lock()
					through++
					mu.Unlock()
				}
			})
		}
		wg.Wait()
		if through != testLimits.Free {
			t.Errorf("%d of 40 parallel attempts went through, want %d", through, testLimits.Free)
		}
	})
}

// TestLoginFallback: while Redis does not answer, logins are throttled in
// memory (said once in the log); when it answers again, counting goes back to
// it by itself.
func TestLoginFallback(t *testing.T) {
	m := miniredis.RunT(t)
	rdb := redis.NewClient(&redis.Options{Addr: m.Addr(), MaxRetries: -1})
	defer rdb.Close()
	var logs strings.Builder
	var logMu sync.Mutex
	th := NewLogins(rdb, "test:", slog.New(slog.NewTextHandler(&lockedWriter{w: &logs, mu: &logMu}, nil)))
	th.RetryAfter = 50 * time.Millisecond
	now := time.Date(2026, 11, 23, 7, 0, 0, 0, time.UTC)
	attempt(t, th, "admin", "10.0.0.1", now)
	m.Close()
	for i := range 2 { // the Redis count (1) is not known to the memory
		if w := attempt(t, th, "admin", "10.0.0.1", now); w != 0 {
			t.Fatalf("attempt %d while Redis is down waits %v", i+2, w)
		}
	}
	attempt(t, th, "admin", "10.0.0.1", now)
	if w := attempt(t, th, "admin", "10.0.0.1", now); w != time.Second {
		t.Errorf("the memory throttle: waits %v after 3 attempts, want 1s", w)
	}
	time.Sleep(60 * time.Millisecond)
	attempt(t, th, "admin", "10.0.0.2", now) // tries Redis again: still down
	if err := m.Restart(); err != nil {
		t.Fatal(err)
	}
	time.Sleep(60 * time.Millisecond)
	for i := range 2 { // back on Redis, where admin had one attempt
		if w := attempt(t, th, "admin", "10.0.0.1", now); w != 0 {
			t.Fatalf("attempt %d after Redis came back waits %v", i+2, w)
		}
	}
	if w := attempt(t, th, "admin", "10.0.0.1", now); w != time.Second {
		t.Errorf("back on Redis: waits %v, want 1s", w)
	}
	logMu.Lock()
	defer logMu.Unlock()
	if strings.Count(logs.String(), "Redis does not answer") != 1 || strings.Count(logs.String(), "Redis answers again") != 1 {
		t.Errorf("the log should tell the outage once and its end once:\n%s", logs.String())
	}
}

type lockedWriter struct {
	w  io.Writer
	mu *sync.Mutex
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}
