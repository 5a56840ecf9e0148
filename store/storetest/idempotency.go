package storetest

import (
	"bytes"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	courier "github.com/courierhq/courier"
)

func testIdempotency(t *testing.T, s courier.Store) {
	start := time.Now()
	rec := courier.IdempotencyRecord{Scope: "user:1", Key: "k-1", RequestHash: "POST /orders sha256:abc"}
	got, err := s.ReserveIdempotencyKey(ctx(t), rec)
	must(t, err)
	if got != nil {
		t.Fatalf("first reserve returned %+v, want nil", got)
	}
	got, err = s.ReserveIdempotencyKey(ctx(t), courier.IdempotencyRecord{Scope: "user:1", Key: "k-1", RequestHash: "other"})
	must(t, err)
	if got == nil || got.Scope != "user:1" || got.Key != "k-1" || got.RequestHash != rec.RequestHash || got.Status != 0 || len(got.Body) != 0 {
		t.Fatalf("second reserve returned %+v, want the in-flight record", got)
	}
	wantRecent(t, "CreatedAt", got.CreatedAt, start)

	// Same key in another scope is another record.
	got, err = s.ReserveIdempotencyKey(ctx(t), courier.IdempotencyRecord{Scope: "user:2", Key: "k-1"})
	must(t, err)
	if got != nil {
		t.Fatalf("reserve in another scope returned %+v, want nil", got)
	}

	body := []byte(`{"id":42,"status":"new"}` + "\x00\xff")
	must(t, s.CompleteIdempotencyKey(ctx(t), "user:1", "k-1", 201, body))
	got, err = s.ReserveIdempotencyKey(ctx(t), rec)
	must(t, err)
	if got == nil || got.Status != 201 || !bytes.Equal(got.Body, body) {
		t.Fatalf("reserve after complete returned %+v, want status 201 and the body", got)
	}
	wantCode(t, s.CompleteIdempotencyKey(ctx(t), "user:1", "missing", 200, nil), courier.ENOTFOUND)

	// Releasing a completed key keeps it; releasing a reservation frees it.
	must(t, s.ReleaseIdempotencyKey(ctx(t), "user:1", "k-1"))
	if got, _ := s.ReserveIdempotencyKey(ctx(t), rec); got == nil || got.Status != 201 {
		t.Fatalf("a completed key was released: %+v", got)
	}
	must(t, s.ReleaseIdempotencyKey(ctx(t), "user:2", "k-1"))
	got, err = s.ReserveIdempotencyKey(ctx(t), courier.IdempotencyRecord{Scope: "user:2", Key: "k-1"})
	must(t, err)
	if got != nil {
		t.Fatalf("reserve after release returned %+v, want nil", got)
	}
	must(t, s.ReleaseIdempotencyKey(ctx(t), "user:9", "never-reserved"))

	// A completion with an empty body.
	must(t, s.CompleteIdempotencyKey(ctx(t), "user:2", "k-1", 204, nil))
	got, err = s.ReserveIdempotencyKey(ctx(t), courier.IdempotencyRecord{Scope: "user:2", Key: "k-1"})
	must(t, err)
	if got == nil || got.Status != 204 || len(got.Body) != 0 {
		t.Fatalf("got %+v, want status 204 and no body", got)
	}
}

// testIdempotencyReserveRace reserves one key from many goroutines at once:
// exactly one wins, every other one sees the winner's record.
func testIdempotencyReserveRace(t *testing.T, s courier.Store) {
	const n = 50
	for round := range 3 {
		key := fmt.Sprintf("race-%d", round)
		var winners atomic.Int32
		var wg sync.WaitGroup
		errs := make(chan error, n)
		for i := range n {
			wg.Go(func() {
				got, err := s.ReserveIdempotencyKey(ctx(t), courier.IdempotencyRecord{Scope: "s", Key: key, RequestHash: fmt.Sprint(i)})
				switch {
				case err != nil:
					errs <- err
				case got == nil:
					winners.Add(1)
				case got.Key != key || got.Status != 0:
					errs <- fmt.Errorf("loser %d got %+v", i, got)
				}
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Error(err)
		}
		if w := winners.Load(); w != 1 {
			t.Fatalf("round %d: %d goroutines reserved the key, want exactly 1", round, w)
		}
	}
}

func testIdempotencyPurge(t *testing.T, s courier.Store) {
	now := time.Now().UTC()
	old := now.Add(-48 * time.Hour)
	for i, at := range []time.Time{old, old.Add(time.Minute), now} {
		got, err := s.ReserveIdempotencyKey(ctx(t), courier.IdempotencyRecord{Scope: "s", Key: fmt.Sprint(i), CreatedAt: at})
		must(t, err)
		if got != nil {
			t.Fatalf("key %d already reserved", i)
		}
	}
	n, err := s.PurgeIdempotencyKeys(ctx(t), now.Add(-24*time.Hour))
	must(t, err)
	if n != 2 {
		t.Fatalf("purged %d, want 2", n)
	}
	for i, gone := range []bool{true, true, false} {
		got, err := s.ReserveIdempotencyKey(ctx(t), courier.IdempotencyRecord{Scope: "s", Key: fmt.Sprint(i)})
		must(t, err)
		if (got == nil) != gone {
			t.Fatalf("key %d: reserve returned %+v; purged=%v", i, got, gone)
		}
	}
	n, err = s.PurgeIdempotencyKeys(ctx(t), old)
	must(t, err)
	if n != 0 {
		t.Fatalf("purged %d records older than the oldest, want 0", n)
	}
}
