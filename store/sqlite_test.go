package store_test

import (
	"path/filepath"
	"sync"
	"testing"

	courier "github.com/courierhq/courier"
	"github.com/courierhq/courier/store"
	"github.com/courierhq/courier/store/storetest"
)

// openSQLite opens a store in a fresh file under the test's temp dir.
func openSQLite(t *testing.T) courier.Store {
	t.Helper()
	s, err := store.Open(t.Context(), "sqlite://"+filepath.Join(t.TempDir(), "sub", "courier.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func TestSQLite(t *testing.T) {
	storetest.Run(t, openSQLite)
}

// TestSQLiteReopen checks that a second Open of the same file finds the
// schema applied and the data kept, also when two processes' worth of
// stores open it at once.
func TestSQLiteReopen(t *testing.T) {
	path := filepath.Join(t.TempDir(), "courier.db")
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			s, err := store.Open(t.Context(), path)
			if err != nil {
				t.Error(err)
				return
			}
			s.Close()
		})
	}
	wg.Wait()
	s, err := store.Open(t.Context(), "sqlite:"+path)
	if err != nil {
		t.Fatal(err)
	}
	u := &courier.User{Login: "a", Role: courier.RoleAdmin}
	if err := s.CreateUser(t.Context(), u); err != nil {
		t.Fatal(err)
	}
	s.Close()
	s, err = store.Open(t.Context(), path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, err := s.UserByLogin(t.Context(), "a"); err != nil {
		t.Fatal(err)
	}
	if s.Backend() != "sqlite" {
		t.Fatalf("Backend() = %q", s.Backend())
	}
}
