package throttle

import (
	"context"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/courierhq/courier/internal/testsvc"
	"github.com/redis/go-redis/v9"
)

// TestThrottle runs the same checks on the embedded miniredis and on a real redis-server.
func TestThrottle(t *testing.T) {
	t.Run("miniredis", func(t *testing.T) {
		m := miniredis.RunT(t)
		testThrottle(t, redis.NewClient(&redis.Options{Addr: m.Addr()}), func(d time.Duration) { m.FastForward(d) })
	})
	t.Run("redis-server", func(t *testing.T) {
		opt, err := redis.ParseURL(testsvc.RedisURL(t))
		if err != nil {
			t.Fatal(err)
		}
		testThrottle(t, redis.NewClient(opt), func(d time.Duration) { time.Sleep(d) })
	})
}

func testThrottle(t *testing.T, rdb *redis.Client, wait func(time.Duration)) {
	defer rdb.Close()
	ctx := context.Background()
	th := New(rdb, "test:"+t.Name()+":")
	if n, err := th.Failures(ctx, "bob"); err != nil || n != 0 {
		t.Fatalf("fresh key: %d, %v", n, err)
	}
	for want := 1; want <= 3; want++ {
		if n, err := th.Hit(ctx, "bob", 300*time.Millisecond); err != nil || n != want {
			t.Fatalf("fail %d: got %d, %v", want, n, err)
		}
	}
	if n, _ := th.Failures(ctx, "bob"); n != 3 {
		t.Errorf("failures = %d, want 3", n)
	}
	if n, _ := th.Failures(ctx, "alice"); n != 0 {
		t.Errorf("other key = %d", n)
	}
	// The window starts at the first failure and does not slide with later ones.
	wait(400 * time.Millisecond)
	if n, _ := th.Failures(ctx, "bob"); n != 0 {
		t.Errorf("after the window: %d", n)
	}
	th.Hit(ctx, "bob", time.Minute)
	if err := th.Undo(ctx, "bob"); err != nil {
		t.Fatal(err)
	}
	th.Hit(ctx, "bob", time.Minute)
	if n, _ := th.Failures(ctx, "bob"); n != 1 {
		t.Errorf("after hit, undo, hit: %d", n)
	}
	if err := th.Undo(ctx, "bob"); err != nil {
		t.Fatal(err)
	}
	if err := th.Undo(ctx, "bob"); err != nil { // never below zero
		t.Fatal(err)
	}
	if n, _ := th.Failures(ctx, "bob"); n != 0 {
		t.Errorf("after undoing more than was hit: %d", n)
	}
	th.Hit(ctx, "bob", time.Minute)
	if err := th.Reset(ctx, "bob"); err != nil {
		t.Fatal(err)
	}
	if n, _ := th.Failures(ctx, "bob"); n != 0 {
		t.Errorf("after reset: %d", n)
	}
}
