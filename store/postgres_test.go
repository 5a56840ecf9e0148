package store_test

import (
	"database/sql"
	"fmt"
	"net/url"
	"os"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	courier "github.com/courierhq/courier"
	"github.com/courierhq/courier/store"
	"github.com/courierhq/courier/store/storetest"
)

// postgresURL returns the test server's URL. A missing URL fails the test:
// in CI PostgreSQL must run, and a silent skip would hide that it did not.
func postgresURL(t *testing.T) string {
	t.Helper()
	u := os.Getenv("COURIER_TEST_POSTGRES_URL")
	if u == "" {
		t.Fatal("COURIER_TEST_POSTGRES_URL is not set: run the tests with scripts/test.sh, " +
			`or start the services first: eval "$(scripts/services.sh)"`)
	}
	return u
}

var schemaSeq atomic.Int64

// freshSchema creates an empty schema, dropped when the test ends, and
// returns the URL that makes it the connection's search_path.
func freshSchema(t *testing.T) (schemaURL, schema string, admin *sql.DB) {
	t.Helper()
	base := postgresURL(t)
	admin, err := sql.Open("pgx", base)
	if err != nil {
		t.Fatal(err)
	}
	schema = fmt.Sprintf("test_%d_%d_%d", os.Getpid(), time.Now().UnixNano(), schemaSeq.Add(1))
	if _, err := admin.ExecContext(t.Context(), "CREATE SCHEMA "+schema); err != nil {
		admin.Close()
		t.Fatalf("create schema on %s: %v", base, err)
	}
	t.Cleanup(func() {
		if _, err := admin.Exec("DROP SCHEMA " + schema + " CASCADE"); err != nil {
			t.Errorf("drop schema %s: %v", schema, err)
		}
		admin.Close()
	})
	u, err := url.Parse(base)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String(), schema, admin
}

func openPostgres(t *testing.T) courier.Store {
	t.Helper()
	u, _, _ := freshSchema(t)
	s, err := store.Open(t.Context(), u, store.WithMaxConns(8))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	if s.Backend() != "postgres" {
		t.Fatalf("Backend() = %q", s.Backend())
	}
	return s
}

func TestPostgres(t *testing.T) {
	postgresURL(t) // fail once, up front, when the server is not configured
	storetest.Run(t, openPostgres)
}

// TestPostgresMigrateConcurrently starts several "replicas" on one empty
// schema at once: the advisory lock lets each migration run exactly once.
func TestPostgresMigrateConcurrently(t *testing.T) {
	postgresURL(t)
	u, schema, admin := freshSchema(t)
	const replicas = 5
	var wg sync.WaitGroup
	stores := make([]*store.DB, replicas)
	for i := range replicas {
		wg.Go(func() {
			s, err := store.Open(t.Context(), u, store.WithMaxConns(2))
			if err != nil {
				t.Errorf("replica %d: %v", i, err)
				return
			}
			stores[i] = s
		})
	}
	wg.Wait()
	for _, s := range stores {
		if s != nil {
			s.Close()
		}
	}
	var rows, versions int
	if err := admin.QueryRowContext(t.Context(), "SELECT count(*), count(DISTINCT version) FROM "+schema+".schema_migrations").Scan(&rows, &versions); err != nil {
		t.Fatal(err)
	}
	if rows == 0 || rows != versions {
		t.Fatalf("schema_migrations has %d rows for %d versions", rows, versions)
	}
	// And a later start applies nothing again.
	s, err := store.Open(t.Context(), u)
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
}

// TestPostgresUnavailable checks that a database that does not answer is EUNAVAILABLE.
func TestPostgresUnavailable(t *testing.T) {
	_, err := store.Open(t.Context(), "postgres://nobody:secret@127.0.0.1:1/none?sslmode=disable&connect_timeout=2")
	if err == nil {
		t.Fatal("Open of a closed port succeeded")
	}
	if code := courier.ErrorCode(err); code != courier.EUNAVAILABLE {
		t.Fatalf("ErrorCode = %s (%v), want %s", code, err, courier.EUNAVAILABLE)
	}
}
