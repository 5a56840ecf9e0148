package revocation

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/courierhq/courier/internal/testsvc"
	"github.com/redis/go-redis/v9"
)

// TestListenAcrossOutage: revocations published by one client reach a
// listener; when Redis goes away and comes back, the listener subscribes
// again by itself, drops its whole cache (it may have missed revocations)
// and hears the next ones.
func TestListenAcrossOutage(t *testing.T) {
	rs := testsvc.StartRedis(t)
	rdb := redis.NewClient(&redis.Options{Addr: rs.Addr(), MaxRetries: -1})
	defer rdb.Close()
	pub, sub := New(rdb, "revoked", nil), New(rdb, "revoked", nil)
	var mu sync.Mutex
	var forgot []int64
	forgotAll := 0
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		sub.Listen(ctx,
			func(id int64) { mu.Lock(); forgot = append(forgot, id); mu.Unlock() },
			func() { mu.Lock(); forgotAll++; mu.Unlock() })
	}()
	waitFor := func(what string, ok func() bool) {
		t.Helper()
		for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
			mu.Lock()
			good := ok()
			mu.Unlock()
			if good {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("waited 10 s for %s: forgot %v, forgot all %d times", what, forgot, forgotAll)
			}
		}
	}
	waitFor("the subscription", func() bool { return forgotAll == 1 })
	pub.Revoked(ctx, 7)
	waitFor("user 7", func() bool { return len(forgot) == 1 && forgot[0] == 7 })

	rs.Stop()
	pub.Revoked(ctx, 8) // lost: nobody is there to hear it
	time.Sleep(300 * time.Millisecond)
	rs.Start()
	waitFor("the subscription again", func() bool { return forgotAll == 2 })
	pub.Revoked(ctx, 9)
	waitFor("user 9", func() bool { return len(forgot) == 2 && forgot[1] == 9 })

	cancel()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("Listen did not return when its context ended")
	}
}
