package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	courier "github.com/courierhq/courier"
)

// ReserveIdempotencyKey inserts rec (Status 0, CreatedAt now when zero)
// unless (Scope, Key) exists; it returns the existing record when there is
// one, else nil. Of many concurrent calls with one key exactly one gets nil.
func (s *DB) ReserveIdempotencyKey(ctx context.Context, rec courier.IdempotencyRecord) (*courier.IdempotencyRecord, error) {
	if rec.CreatedAt.IsZero() {
		rec.CreatedAt = s.now()
	}
	for range 10 {
		res, err := s.wdb.ExecContext(ctx, `INSERT INTO idempotency_keys (scope, key, request_hash, status, body, created_at)
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
		existing, err := s.idempotencyRecord(ctx, rec.Scope, rec.Key)
		if errors.Is(err, sql.ErrNoRows) {
			continue // released between our insert and our read: try again
		} else if err != nil {
			return nil, err
		}
		return existing, nil
	}
	return nil, fmt.Errorf("store: reserve idempotency key: the key keeps being reserved and released")
}

func (s *DB) idempotencyRecord(ctx context.Context, scope, key string) (*courier.IdempotencyRecord, error) {
	var r courier.IdempotencyRecord
	err := s.wdb.QueryRowContext(ctx, `SELECT scope, key, request_hash, status, body, created_at
		FROM idempotency_keys WHERE scope = $1 AND key = $2`, scope, key).
		Scan(&r.Scope, &r.Key, &r.RequestHash, &r.Status, &r.Body, timeScan{&r.CreatedAt})
	if errors.Is(err, sql.ErrNoRows) {
		return nil, err
	} else if err != nil {
		return nil, fmt.Errorf("store: read idempotency key: %w", err)
	}
	return &r, nil
}

// CompleteIdempotencyKey stores the final status and body of a reserved key.
// Returns ENOTFOUND if the key is not reserved.
func (s *DB) CompleteIdempotencyKey(ctx context.Context, scope, key string, status int, body []byte) error {
	if body == nil {
		body = []byte{}
	}
	res, err := s.wdb.ExecContext(ctx, `UPDATE idempotency_keys SET status = $1, body = $2 WHERE scope = $3 AND key = $4`,
		status, body, scope, key)
	if err != nil {
		return fmt.Errorf("store: complete idempotency key: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return fmt.Errorf("store: complete idempotency key: %w", err)
	}
	if n == 0 {
		return courier.Errorf(courier.ENOTFOUND, "idempotency key %q not found", key)
	}
	return nil
}

// ReleaseIdempotencyKey deletes a reservation whose request failed before
// changing anything, so the client may retry. A completed key (Status != 0)
// is kept, so that its answer is still replayed; releasing a key that does
// not exist is not an error.
func (s *DB) ReleaseIdempotencyKey(ctx context.Context, scope, key string) error {
	if _, err := s.wdb.ExecContext(ctx, `DELETE FROM idempotency_keys WHERE scope = $1 AND key = $2 AND status = 0`, scope, key); err != nil {
		return fmt.Errorf("store: release idempotency key: %w", err)
	}
	return nil
}

// PurgeIdempotencyKeys deletes records created before t and returns how many.
func (s *DB) PurgeIdempotencyKeys(ctx context.Context, before time.Time) (int64, error) {
	res, err := s.wdb.ExecContext(ctx, `DELETE FROM idempotency_keys WHERE created_at < $1`, s.d.timeArg(utc(before)))
	if err != nil {
		return 0, fmt.Errorf("store: purge idempotency keys: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, fmt.Errorf("store: purge idempotency keys: %w", err)
	}
	return n, nil
}
