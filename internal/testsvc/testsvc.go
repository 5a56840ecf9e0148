// Package testsvc gives tests the real services that scripts/test.sh starts:
// a fresh PostgreSQL database per test and the Redis server. When the
// environment does not name them the test fails, naming the script: tests are
// never skipped for a missing service.
package testsvc

import (
	"context"
	"crypto/rand"
	"database/sql"
	"fmt"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // the pgx database/sql driver
)

// Environment variables set by scripts/services.sh.
const (
	PostgresEnv = "COURIER_TEST_POSTGRES_URL"
	RedisEnv    = "COURIER_TEST_REDIS_URL"
)

func required(t testing.TB, name string) string {
	t.Helper()
	v := os.Getenv(name)
	if v == "" {
		t.Fatalf("%s is not set: run the tests with scripts/test.sh, which installs and starts PostgreSQL and Redis "+
			"(or eval \"$(scripts/services.sh)\" first)", name)
	}
	return v
}

// RedisURL returns the URL of the test Redis server.
func RedisURL(t testing.TB) string {
	t.Helper()
	return required(t, RedisEnv)
}

// PostgresURL creates an empty database for this test on the test server and
// returns its URL; the database is dropped when the test ends.
func PostgresURL(t testing.TB) string {
	t.Helper()
	base := required(t, PostgresEnv)
	u, err := url.Parse(base)
	if err != nil {
		t.Fatalf("%s: %v", PostgresEnv, err)
	}
	name := "t_" + strings.ToLower(rand.Text()[:16])
	admin, err := sql.Open("pgx", base)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := admin.ExecContext(ctx, "CREATE DATABASE "+name); err != nil {
		admin.Close()
		t.Fatalf("create test database: %v", err)
	}
	t.Cleanup(func() {
		defer admin.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if _, err := admin.ExecContext(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)"); err != nil {
			t.Logf("drop test database %s: %v", name, err)
		}
	})
	u.Path = "/" + name
	return fmt.Sprint(u)
}
