package storetest

import (
	"sync"
	"sync/atomic"
	"testing"
	"time"

	courier "github.com/courierhq/courier"
)

// testRefreshFamilies: a family rotates only from its current token id, once
// of many concurrent tries, never once revoked, and is purged after it expires.
func testRefreshFamilies(t *testing.T, s courier.Store) {
	u := &courier.User{Login: "rita", Name: "Rita", Role: courier.RoleCourier, PasswordHash: "$2a$10$x", Active: true}
	must(t, s.CreateUser(ctx(t), u))
	expires := time.Now().Add(time.Hour).UTC().Truncate(time.Microsecond)
	f := &courier.RefreshFamily{ID: "fam-1", UserID: u.ID, CurrentJTI: "jti-1", ExpiresAt: expires}
	must(t, s.CreateRefreshFamily(ctx(t), f))
	wantRecent(t, "CreatedAt", f.CreatedAt, time.Now().Add(-time.Minute))
	_, err := s.RefreshFamily(ctx(t), "no-such-family")
	wantCode(t, err, courier.ENOTFOUND)

	if ok, err := s.RotateRefreshFamily(ctx(t), "fam-1", "jti-0", "jti-x", expires); err != nil || ok {
		t.Fatalf("rotate from a token that is not current: %v, %v", ok, err)
	}
	var wins atomic.Int32
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			ok, err := s.RotateRefreshFamily(ctx(t), "fam-1", "jti-1", "jti-2-"+string(rune('a'+i)), expires.Add(time.Hour))
			if err != nil {
				t.Error(err)
			} else if ok {
				wins.Add(1)
			}
		})
	}
	wg.Wait()
	if wins.Load() != 1 {
		t.Fatalf("%d of 8 concurrent rotations from one token won, want 1", wins.Load())
	}
	got, err := s.RefreshFamily(ctx(t), "fam-1")
	must(t, err)
	if got.UserID != u.ID || len(got.CurrentJTI) != len("jti-2-a") || !got.ExpiresAt.Equal(expires.Add(time.Hour)) || !got.RevokedAt.IsZero() {
		t.Fatalf("after rotation: %+v", got)
	}
	must(t, s.RevokeRefreshFamily(ctx(t), "fam-1"))
	if ok, err := s.RotateRefreshFamily(ctx(t), "fam-1", got.CurrentJTI, "jti-3", expires); err != nil || ok {
		t.Fatalf("a revoked family rotated: %v, %v", ok, err)
	}
	got, err = s.RefreshFamily(ctx(t), "fam-1")
	must(t, err)
	if got.RevokedAt.IsZero() {
		t.Fatal("RevokedAt not set")
	}

	must(t, s.CreateRefreshFamily(ctx(t), &courier.RefreshFamily{ID: "fam-2", UserID: u.ID, CurrentJTI: "j", ExpiresAt: expires.Add(3 * time.Hour)}))
	n, err := s.PurgeRefreshFamilies(ctx(t), expires.Add(2*time.Hour+time.Second))
	must(t, err)
	if n != 1 {
		t.Fatalf("purged %d families, want 1", n)
	}
	_, err = s.RefreshFamily(ctx(t), "fam-1")
	wantCode(t, err, courier.ENOTFOUND)
	_, err = s.RefreshFamily(ctx(t), "fam-2")
	must(t, err)
}
