package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"hash/fnv"
	"sync"

	courier "github.com/courierhq/courier"
)

// requestTx is a transaction that spans a whole request (BeginIdempotent):
// every store call made with its context runs in it, so the request's
// writes and its answer commit together. Writes inside it run under
// savepoints, so a failed statement (a unique violation, a version
// conflict) undoes only its own call, as its own transaction would have, and
// the request may still answer and commit.
type requestTx struct {
	db    *DB
	tx    *sql.Tx
	ctx   context.Context
	end   *courier.TxEnd
	scope string
	key   string

	mu     sync.Mutex
	closed bool
	points int // savepoints taken, for their names
}

type requestTxKey struct{}

// reqTx returns the open request transaction of s that ctx carries, or nil.
// A context that outlives its transaction (a goroutine started with it)
// falls back to the pools.
func (s *DB) reqTx(ctx context.Context) *requestTx {
	rt, ok := ctx.Value(requestTxKey{}).(*requestTx)
	if !ok || rt.db != s {
		return nil
	}
	rt.mu.Lock()
	defer rt.mu.Unlock()
	if rt.closed {
		return nil
	}
	return rt
}

// execer runs statements: a pool, a transaction or a connection.
type execer interface {
	querier
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
}

// read returns what a read runs on: the request transaction of ctx, which
// sees the request's own writes, or the read pool.
func (s *DB) read(ctx context.Context) querier {
	if rt := s.reqTx(ctx); rt != nil {
		return rt.tx
	}
	return s.rdb
}

// write runs a one-statement write: on the write pool, or in the request
// transaction of ctx under a savepoint.
func (s *DB) write(ctx context.Context, fn func(q execer) error) error {
	if rt := s.reqTx(ctx); rt != nil {
		return rt.savepoint(ctx, func() error { return fn(rt.tx) })
	}
	return fn(s.wdb)
}

// savepoint runs fn under a savepoint of the request transaction: when fn
// fails, its writes are undone and the transaction stays usable.
func (rt *requestTx) savepoint(ctx context.Context, fn func() error) error {
	rt.mu.Lock()
	rt.points++
	name := fmt.Sprintf("sp%d", rt.points)
	rt.mu.Unlock()
	if _, err := rt.tx.ExecContext(ctx, "SAVEPOINT "+name); err != nil {
		return fmt.Errorf("store: savepoint: %w", err)
	}
	if err := fn(); err != nil {
		bg := context.WithoutCancel(ctx)
		if _, rerr := rt.tx.ExecContext(bg, "ROLLBACK TO SAVEPOINT "+name); rerr != nil {
			return errors.Join(err, fmt.Errorf("store: rollback to savepoint: %w", rerr))
		}
		_, _ = rt.tx.ExecContext(bg, "RELEASE SAVEPOINT "+name)
		return err
	}
	if _, err := rt.tx.ExecContext(ctx, "RELEASE SAVEPOINT "+name); err != nil {
		return fmt.Errorf("store: release savepoint: %w", err)
	}
	return nil
}

// keyLock is the PostgreSQL advisory lock number of an idempotency key.
func keyLock(scope, key string) int64 {
	h := fnv.New64a()
	h.Write([]byte(scope))
	h.Write([]byte{0})
	h.Write([]byte(key))
	return int64(h.Sum64())
}

// BeginIdempotent starts the transaction of a request made with rec's key
// (see courier.IdempotencyStore). The key's row is inserted in the new
// transaction at once, with no answer; Commit writes the answer into it.
// On PostgreSQL the transaction also takes an advisory lock on the key, so
// a second request with the key learns at once (ECONFLICT) that the first
// is still running, and takes over as soon as the first's connection is
// gone. On SQLite the transaction holds the database's write lock, so a
// second request waits for the first to end. A committed row without an
// answer can only be left by an older courierd that reserved keys in their
// own transaction: it is taken over.
func (s *DB) BeginIdempotent(ctx context.Context, rec courier.IdempotencyRecord) (courier.IdempotentTx, *courier.IdempotencyRecord, error) {
	if s.reqTx(ctx) != nil {
		return nil, nil, fmt.Errorf("store: begin idempotent request: a request transaction is already open")
	}
	if rec.CreatedAt.IsZero() {
		rec.CreatedAt = s.now()
	}
	// The transaction lives as long as the request, cancelled or not: its end
	// is Commit or Rollback.
	tx, err := s.wdb.BeginTx(context.WithoutCancel(ctx), nil)
	if err != nil {
		return nil, nil, fmt.Errorf("store: begin: %w", err)
	}
	prev, err := s.holdKey(ctx, tx, rec)
	if err != nil || prev != nil {
		_ = tx.Rollback()
		return nil, prev, err
	}
	rt := &requestTx{db: s, tx: tx, scope: rec.Scope, key: rec.Key}
	rt.ctx, rt.end = courier.WithTxEnd(context.WithValue(ctx, requestTxKey{}, rt))
	return rt, nil, nil
}

// holdKey takes rec's key in tx: nil when the key is now this
// transaction's, or the stored answer of an earlier request.
func (s *DB) holdKey(ctx context.Context, tx *sql.Tx, rec courier.IdempotencyRecord) (*courier.IdempotencyRecord, error) {
	if s.d == postgresDialect {
		var got bool
		if err := tx.QueryRowContext(ctx, `SELECT pg_try_advisory_xact_lock($1)`, keyLock(rec.Scope, rec.Key)).Scan(&got); err != nil {
			return nil, fmt.Errorf("store: lock idempotency key: %w", err)
		}
		if !got {
			return nil, courier.Errorf(courier.ECONFLICT, "a request with this Idempotency-Key is still being processed")
		}
	}
	for range 2 {
		res, err := tx.ExecContext(ctx, `INSERT INTO idempotency_keys (scope, key, request_hash, status, body, created_at)
			VALUES ($1, $2, $3, 0, NULL, $4) ON CONFLICT (scope, key) DO NOTHING`,
			rec.Scope, rec.Key, rec.RequestHash, s.d.timeArg(utc(rec.CreatedAt)))
		if err != nil {
			return nil, fmt.Errorf("store: reserve idempotency key: %w", err)
		}
		if n, err := res.RowsAffected(); err != nil {
			return nil, fmt.Errorf("store: reserve idempotency key: %w", err)
		} else if n == 1 {
			return nil, nil
		}
		prev, err := idempotencyRecord(ctx, tx, rec.Scope, rec.Key)
		if err != nil {
			return nil, err
		}
		if prev.Status != 0 {
			return prev, nil
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM idempotency_keys WHERE scope = $1 AND key = $2 AND status = 0`, rec.Scope, rec.Key); err != nil {
			return nil, fmt.Errorf("store: take over idempotency key: %w", err)
		}
	}
	return nil, fmt.Errorf("store: reserve idempotency key %q: no answer and no reservation", rec.Key)
}

func (rt *requestTx) Context() context.Context { return rt.ctx }

// close marks the transaction ended; it reports false when it already was.
func (rt *requestTx) close() bool {
	rt.mu.Lock()
	defer rt.mu.Unlock()
	if rt.closed {
		return false
	}
	rt.closed = true
	return true
}

// Commit stores the answer in the key's row and commits it with the
// request's writes.
func (rt *requestTx) Commit(status int, body []byte) error {
	if body == nil {
		body = []byte{}
	}
	if status <= 0 {
		return fmt.Errorf("store: commit idempotent request: status %d", status)
	}
	ctx := context.WithoutCancel(rt.ctx)
	if !rt.close() {
		return fmt.Errorf("store: commit idempotent request: the transaction has ended")
	}
	_, err := rt.tx.ExecContext(ctx, `UPDATE idempotency_keys SET status = $1, body = $2 WHERE scope = $3 AND key = $4`,
		status, body, rt.scope, rt.key)
	if err == nil {
		err = rt.tx.Commit()
	} else {
		_ = rt.tx.Rollback()
	}
	if err != nil {
		rt.db.ended(rt.tx, false)
		rt.end.Run(false)
		return fmt.Errorf("store: commit idempotent request: %w", err)
	}
	rt.db.ended(rt.tx, true)
	rt.end.Run(true)
	return nil
}

// Rollback undoes the request's writes; the key is free again.
func (rt *requestTx) Rollback() error {
	if !rt.close() {
		return nil
	}
	err := rt.tx.Rollback()
	rt.db.ended(rt.tx, false)
	rt.end.Run(false)
	if err != nil {
		return fmt.Errorf("store: rollback idempotent request: %w", err)
	}
	return nil
}
