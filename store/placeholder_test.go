package store

import (
	"context"
	"database/sql"
	"path/filepath"
	"testing"
)

// TestSQLiteDollarPlaceholders checks what every query here relies on:
// modernc.org/sqlite binds $N to the N-th argument, as PostgreSQL does, also
// when the numbers appear out of order or more than once.
func TestSQLiteDollarPlaceholders(t *testing.T) {
	db, err := sql.Open("sqlite", filepath.Join(t.TempDir(), "p.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var a, b, c string
	err = db.QueryRowContext(context.Background(), `SELECT $2, $1, $2 || $3`, "one", "two", "three").Scan(&a, &b, &c)
	if err != nil {
		t.Fatal(err)
	}
	if a != "two" || b != "one" || c != "twothree" {
		t.Fatalf("got %q %q %q, want \"two\" \"one\" \"twothree\"", a, b, c)
	}
	var n int
	if err := db.QueryRow(`SELECT $1 + $1`, 21).Scan(&n); err != nil || n != 42 {
		t.Fatalf("$1 + $1 = %d, %v; want 42", n, err)
	}
}

func TestSQLitePath(t *testing.T) {
	for _, test := range []struct {
		in, want string
		bad      bool
	}{
		{in: "sqlite:///var/lib/courier.db", want: "/var/lib/courier.db"},
		{in: "sqlite://data/courier.db", want: "data/courier.db"},
		{in: "sqlite:data/courier.db", want: "data/courier.db"},
		{in: "data/courier.db", want: "data/courier.db"},
		{in: "/tmp/x.db", want: "/tmp/x.db"},
		{in: "sqlite:///x.db?cache=shared", bad: true},
		{in: "mysql://u:p@h/db", bad: true},
		{in: ":memory:", bad: true},
		{in: "", bad: true},
	} {
		got, err := sqlitePath(test.in)
		if test.bad {
			if err == nil {
				t.Errorf("sqlitePath(%q) = %q, want an error", test.in, got)
			}
			continue
		}
		if err != nil || got != test.want {
			t.Errorf("sqlitePath(%q) = %q, %v; want %q", test.in, got, err, test.want)
		}
	}
}
