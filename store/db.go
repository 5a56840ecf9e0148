// Package store keeps the courier domain in a relational database: SQLite
// (modernc.org/sqlite, pure Go; the embedded default) or PostgreSQL (pgx
// through its database/sql driver). One type, DB, implements courier.Store
// over both; the few differences (row locks, DDL types, error codes, time
// encoding) live in dialect.go.
//
// store maps rows to types and runs transactions. It does not decide who may
// do what: callers validate and authorise before they call it.
package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	courier "github.com/courierhq/courier"
)

// DB is the relational store. It implements courier.Store. It is safe for
// concurrent use by many goroutines; with PostgreSQL, by many replicas.
type DB struct {
	d *dialect
	// rdb serves single-statement reads; wdb serves writes and transactions.
	// With PostgreSQL both are the same pool. With SQLite wdb holds one
	// connection (SQLite has one writer at a time; queuing writers in Go is
	// faster and fairer than polling the busy handler) and rdb several
	// read-only connections that WAL lets read beside the writer.
	rdb, wdb *sql.DB
	clock    courier.Clock
	plans    planChanges // couriers whose plans open transactions wrote
}

var _ courier.Store = (*DB)(nil)

// Option changes how Open sets up the store.
type Option func(*config)

type config struct {
	clock    courier.Clock
	maxConns int
}

// WithClock sets the clock used for CreatedAt, UpdatedAt and event times.
// The default is courier.SystemClock.
func WithClock(c courier.Clock) Option { return func(cfg *config) { cfg.clock = c } }

// WithMaxConns sets the maximum number of open connections: the PostgreSQL
// pool size (default 10), or the number of SQLite reader connections
// (default 4; SQLite always has exactly one writer connection).
func WithMaxConns(n int) Option { return func(cfg *config) { cfg.maxConns = n } }

// Open connects to the database named by rawURL, applies pending migrations
// and returns the store. The URL picks the backend:
//
//	postgres://user:pass@host:5432/db?sslmode=disable   PostgreSQL (also postgresql://)
//	sqlite:///var/lib/courier/courier.db                 SQLite, absolute path
//	sqlite://data/courier.db                             SQLite, path relative to the working directory
//	data/courier.db                                      SQLite, a plain file path
//
// For SQLite the file's directory is created when missing. The PostgreSQL
// URL is handed to pgx as is, so pgx's parameters (sslmode, search_path,
// connect_timeout, ...) work.
func Open(ctx context.Context, rawURL string, opts ...Option) (*DB, error) {
	cfg := config{clock: courier.SystemClock{}}
	for _, o := range opts {
		o(&cfg)
	}
	var (
		s   *DB
		err error
	)
	switch {
	case strings.HasPrefix(rawURL, "postgres://"), strings.HasPrefix(rawURL, "postgresql://"):
		s, err = openPostgres(rawURL, cfg)
	default:
		var path string
		path, err = sqlitePath(rawURL)
		if err == nil {
			s, err = openSQLite(path, cfg)
		}
	}
	if err != nil {
		return nil, err
	}
	// Several processes opening a new SQLite file at once may meet SQLITE_BUSY
	// while one of them switches it to WAL, which the busy timeout does not
	// cover: retry for a little while.
	for try := 0; ; try++ {
		err = s.Ping(ctx)
		if err == nil || s.d != sqliteDialect || try == 40 || !strings.Contains(err.Error(), "SQLITE_BUSY") {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if err != nil {
		s.Close()
		return nil, err
	}
	if err := s.migrate(ctx); err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

// sqlitePath extracts the file path from a sqlite:// URL or a plain path.
func sqlitePath(raw string) (string, error) {
	path := raw
	if strings.HasPrefix(raw, "sqlite:") {
		u, err := url.Parse(raw)
		if err != nil {
			return "", fmt.Errorf("store: parse sqlite URL: %w", err)
		}
		if u.RawQuery != "" {
			return "", fmt.Errorf("store: sqlite URL %q: query parameters are not supported", raw)
		}
		path = u.Host + u.Path // sqlite:///abs -> /abs; sqlite://rel/x.db -> rel/x.db
		if u.Opaque != "" {
			path = u.Opaque // sqlite:rel/x.db
		}
	}
	if strings.Contains(raw, "://") && !strings.HasPrefix(raw, "sqlite://") {
		return "", fmt.Errorf("store: unsupported database URL scheme in %q (want postgres://, postgresql://, sqlite:// or a file path)", redact(raw))
	}
	if path == "" || path == ":memory:" || strings.Contains(path, "?") {
		return "", fmt.Errorf("store: %q is not a usable SQLite file path", path)
	}
	return path, nil
}

// redact hides a password in a URL for error messages.
func redact(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "(unparsable URL)"
	}
	return u.Redacted()
}

func openSQLite(path string, cfg config) (*DB, error) {
	if dir := filepath.Dir(path); dir != "" {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return nil, fmt.Errorf("store: create directory for %s: %w", path, err)
		}
	}
	// busy_timeout first (the driver applies it before the other pragmas),
	// so that journal_mode=WAL waits for a peer process instead of failing.
	// _txlock=immediate makes BEGIN take the write lock, so a transaction
	// that reads and then writes never fails with SQLITE_BUSY halfway.
	common := "_pragma=busy_timeout(10000)&_pragma=foreign_keys(1)&_pragma=synchronous(NORMAL)&_txlock=immediate"
	wdb, err := sql.Open("sqlite", path+"?_pragma=journal_mode(WAL)&"+common)
	if err != nil {
		return nil, fmt.Errorf("store: open sqlite %s: %w", path, err)
	}
	wdb.SetMaxOpenConns(1)
	wdb.SetMaxIdleConns(1)
	wdb.SetConnMaxIdleTime(0)
	wdb.SetConnMaxLifetime(0)

	rdb, err := sql.Open("sqlite", path+"?_pragma=query_only(1)&"+common)
	if err != nil {
		wdb.Close()
		return nil, fmt.Errorf("store: open sqlite %s: %w", path, err)
	}
	n := cfg.maxConns
	if n <= 0 {
		n = 4
	}
	rdb.SetMaxOpenConns(n)
	rdb.SetMaxIdleConns(n)
	rdb.SetConnMaxIdleTime(5 * time.Minute)
	return &DB{d: sqliteDialect, rdb: rdb, wdb: wdb, clock: cfg.clock}, nil
}

func openPostgres(rawURL string, cfg config) (*DB, error) {
	db, err := sql.Open("pgx", rawURL)
	if err != nil {
		return nil, fmt.Errorf("store: open postgres %s: %w", redact(rawURL), err)
	}
	n := cfg.maxConns
	if n <= 0 {
		n = 10
	}
	db.SetMaxOpenConns(n)
	db.SetMaxIdleConns(n)
	db.SetConnMaxIdleTime(5 * time.Minute)
	db.SetConnMaxLifetime(time.Hour)
	return &DB{d: postgresDialect, rdb: db, wdb: db, clock: cfg.clock}, nil
}

// Backend returns "sqlite" or "postgres".
func (s *DB) Backend() string { return s.d.name }

// Ping checks that the database answers. Returns EUNAVAILABLE when it does not.
func (s *DB) Ping(ctx context.Context) error {
	if err := s.wdb.PingContext(ctx); err != nil {
		return &unavailableError{err: err}
	}
	if s.rdb != s.wdb {
		if err := s.rdb.PingContext(ctx); err != nil {
			return &unavailableError{err: err}
		}
	}
	return nil
}

// unavailableError is EUNAVAILABLE for the client and keeps the cause for the log.
type unavailableError struct{ err error }

func (e *unavailableError) Error() string { return "store: database unavailable: " + e.err.Error() }
func (e *unavailableError) Unwrap() []error {
	return []error{&courier.Error{Code: courier.EUNAVAILABLE, Message: "The database is unavailable."}, e.err}
}

// Close releases the connections.
func (s *DB) Close() error {
	err := s.wdb.Close()
	if s.rdb != s.wdb {
		err = errors.Join(err, s.rdb.Close())
	}
	return err
}

// now returns the clock's time in UTC at the databases' precision (microseconds).
func (s *DB) now() time.Time { return utc(s.clock.Now()) }

// utc returns t in UTC truncated to microseconds, the precision both backends keep.
func utc(t time.Time) time.Time {
	if t.IsZero() {
		return time.Time{}
	}
	return t.UTC().Truncate(time.Microsecond)
}

// inTx runs fn in a write transaction and commits when fn returns nil.
// fn's error is returned unchanged. fn must not call other methods of s.
// Inside a request transaction (BeginIdempotent) fn runs under a savepoint
// of it instead, and commits with the request.
func (s *DB) inTx(ctx context.Context, fn func(tx *sql.Tx) error) error {
	if rt := s.reqTx(ctx); rt != nil {
		return rt.savepoint(ctx, func() error { return fn(rt.tx) })
	}
	tx, err := s.wdb.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("store: begin: %w", err)
	}
	if err := fn(tx); err != nil {
		_ = tx.Rollback()
		s.ended(tx, false)
		return err
	}
	if err := tx.Commit(); err != nil {
		s.ended(tx, false)
		return fmt.Errorf("store: commit: %w", err)
	}
	s.ended(tx, true)
	return nil
}
