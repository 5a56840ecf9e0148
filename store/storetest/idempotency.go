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

// testIdempotency: a request transaction commits its writes with its
// answer, sees its own writes before that while nobody else does, survives
// a failed write, and a retry gets the stored answer.
func testIdempotency(t *testing.T, s courier.Store) {
	start := time.Now()
	rec := courier.IdempotencyRecord{Scope: "user:1", Key: "k-1", RequestHash: "POST /orders sha256:abc"}
	tx, prev, err := s.BeginIdempotent(ctx(t), rec)
	must(t, err)
	if prev != nil || tx == nil {
		t.Fatalf("first begin returned %+v, want a transaction", prev)
	}
	rctx := tx.Context()
	d := &courier.Depot{Name: "In the request", Location: courier.LatLng{Lat: 55.7, Lng: 37.6}, Opens: "08:00", Closes: "20:00"}
	must(t, s.CreateDepot(rctx, d))
	if got, err := s.Depot(rctx, d.ID); err != nil || got.Name != d.Name {
		t.Fatalf("the request does not see its own depot: %v", err)
	}
	wantCode(t, func() error { _, err := s.Depot(ctx(t), d.ID); return err }(), courier.ENOTFOUND)
	// A failed write undoes itself only; the request goes on.
	wantCode(t, s.DeleteDepot(rctx, d.ID+1000), courier.ENOTFOUND)
	d2 := &courier.Depot{Name: "After a failed write", Location: courier.LatLng{Lat: 55.7, Lng: 37.6}, Opens: "08:00", Closes: "20:00"}
	must(t, s.CreateDepot(rctx, d2))
	var ran []bool
	courier.AfterTx(rctx, func(committed bool) { ran = append(ran, committed) })
	if len(ran) != 0 {
		t.Fatal("AfterTx ran before the commit")
	}
	if _, err := s.IdempotencyRecordOf(ctx(t), "user:1", "k-1"); courier.ErrorCode(err) != courier.ENOTFOUND {
		t.Fatalf("an answer is visible before the commit: %v", err)
	}
	body := []byte(`{"id":42,"status":"new"}` + "\x00\xff")
	must(t, tx.Commit(201, body))
	if len(ran) != 1 || !ran[0] {
		t.Fatalf("AfterTx after the commit: %v", ran)
	}
	for _, id := range []int64{d.ID, d2.ID} {
		if _, err := s.Depot(ctx(t), id); err != nil {
			t.Fatalf("depot %d after the commit: %v", id, err)
		}
	}
	if err := tx.Rollback(); err != nil {
		t.Fatalf("rollback after commit: %v", err)
	}
	if _, err := s.Depot(ctx(t), d.ID); err != nil {
		t.Fatal("a rollback after the commit undid it")
	}
	// The retry gets the answer and no transaction.
	tx, prev, err = s.BeginIdempotent(ctx(t), courier.IdempotencyRecord{Scope: "user:1", Key: "k-1", RequestHash: "other"})
	must(t, err)
	if tx != nil || prev == nil || prev.Status != 201 || !bytes.Equal(prev.Body, body) || prev.RequestHash != rec.RequestHash {
		t.Fatalf("retry got tx %v, record %+v", tx, prev)
	}
	wantRecent(t, "CreatedAt", prev.CreatedAt, start)
	if got, err := s.IdempotencyRecordOf(ctx(t), "user:1", "k-1"); err != nil || got.Status != 201 {
		t.Fatalf("IdempotencyRecordOf: %+v %v", got, err)
	}

	// Same key in another scope is another request; a rolled back request
	// leaves nothing, and its key is free at once.
	tx, prev, err = s.BeginIdempotent(ctx(t), courier.IdempotencyRecord{Scope: "user:2", Key: "k-1"})
	must(t, err)
	if tx == nil || prev != nil {
		t.Fatalf("another scope: %+v", prev)
	}
	d3 := &courier.Depot{Name: "Rolled back", Location: courier.LatLng{Lat: 55.7, Lng: 37.6}, Opens: "08:00", Closes: "20:00"}
	must(t, s.CreateDepot(tx.Context(), d3))
	courier.AfterTx(tx.Context(), func(committed bool) { ran = append(ran, committed) })
	must(t, tx.Rollback())
	if len(ran) != 2 || ran[1] {
		t.Fatalf("AfterTx after a rollback: %v", ran)
	}
	wantCode(t, func() error { _, err := s.Depot(ctx(t), d3.ID); return err }(), courier.ENOTFOUND)
	if err := tx.Commit(200, nil); err == nil {
		t.Fatal("commit after rollback succeeded")
	}
	tx, prev, err = s.BeginIdempotent(ctx(t), courier.IdempotencyRecord{Scope: "user:2", Key: "k-1"})
	must(t, err)
	if tx == nil || prev != nil {
		t.Fatalf("after a rollback the key is still taken: %+v", prev)
	}
	must(t, tx.Commit(204, nil))
	if _, prev, _ := s.BeginIdempotent(ctx(t), courier.IdempotencyRecord{Scope: "user:2", Key: "k-1"}); prev == nil || prev.Status != 204 || len(prev.Body) != 0 {
		t.Fatalf("got %+v, want status 204 and no body", prev)
	}
	// Without a request transaction AfterTx runs at once.
	courier.AfterTx(ctx(t), func(committed bool) { ran = append(ran, committed) })
	if len(ran) != 3 || !ran[2] {
		t.Fatalf("AfterTx without a transaction: %v", ran)
	}
}

// testIdempotencyReserveRace begins one key from many goroutines at once:
// exactly one gets the transaction; every other one is told the key is
// busy (ECONFLICT) or, having waited, gets the winner's answer.
func testIdempotencyReserveRace(t *testing.T, s courier.Store) {
	const n = 30
	for round := range 3 {
		key := fmt.Sprintf("race-%d", round)
		var winners atomic.Int32
		var wg sync.WaitGroup
		errs := make(chan error, n)
		for i := range n {
			wg.Go(func() {
				tx, prev, err := s.BeginIdempotent(ctx(t), courier.IdempotencyRecord{Scope: "s", Key: key, RequestHash: "h"})
				switch {
				case courier.ErrorCode(err) == courier.ECONFLICT:
				case err != nil:
					errs <- err
				case tx != nil:
					winners.Add(1)
					time.Sleep(20 * time.Millisecond)
					if err := tx.Commit(200, []byte(key)); err != nil {
						errs <- err
					}
				case prev.Status != 200 || string(prev.Body) != key:
					errs <- fmt.Errorf("loser %d got %+v", i, prev)
				}
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Error(err)
		}
		if w := winners.Load(); w != 1 {
			t.Fatalf("round %d: %d goroutines got the key, want exactly 1", round, w)
		}
	}
}

func testIdempotencyPurge(t *testing.T, s courier.Store) {
	now := time.Now().UTC()
	old := now.Add(-48 * time.Hour)
	for i, at := range []time.Time{old, old.Add(time.Minute), now} {
		tx, prev, err := s.BeginIdempotent(ctx(t), courier.IdempotencyRecord{Scope: "s", Key: fmt.Sprint(i), CreatedAt: at})
		must(t, err)
		if prev != nil {
			t.Fatalf("key %d already used", i)
		}
		must(t, tx.Commit(200, nil))
	}
	n, err := s.PurgeIdempotencyKeys(ctx(t), now.Add(-24*time.Hour))
	must(t, err)
	if n != 2 {
		t.Fatalf("purged %d, want 2", n)
	}
	for i, gone := range []bool{true, true, false} {
		_, err := s.IdempotencyRecordOf(ctx(t), "s", fmt.Sprint(i))
		if (courier.ErrorCode(err) == courier.ENOTFOUND) != gone {
			t.Fatalf("key %d: %v; purged=%v", i, err, gone)
		}
	}
	n, err = s.PurgeIdempotencyKeys(ctx(t), old)
	must(t, err)
	if n != 0 {
		t.Fatalf("purged %d records older than the oldest, want 0", n)
	}
}
