package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	courier "github.com/courierhq/courier"
)

// idempotencyRecord reads the record of a key. Returns ENOTFOUND.
func idempotencyRecord(ctx context.Context, q querier, scope, key string) (*courier.IdempotencyRecord, error) {
	var r courier.IdempotencyRecord
	err := q.QueryRowContext(ctx, `SELECT scope, key, request_hash, status, body, created_at
		FROM idempotency_keys WHERE scope = $1 AND key = $2`, scope, key).
		Scan(&r.Scope, &r.Key, &r.RequestHash, &r.Status, &r.Body, timeScan{&r.CreatedAt})
	if errors.Is(err, sql.ErrNoRows) {
		return nil, courier.Errorf(courier.ENOTFOUND, "idempotency key %q not found", key)
	} else if err != nil {
		return nil, fmt.Errorf("store: read idempotency key: %w", err)
	}
	return &r, nil
}

// IdempotencyRecordOf returns the stored answer of a key; a key whose
// request is still running has none. Returns ENOTFOUND.
func (s *DB) IdempotencyRecordOf(ctx context.Context, scope, key string) (*courier.IdempotencyRecord, error) {
	r, err := idempotencyRecord(ctx, s.read(ctx), scope, key)
	if err == nil && r.Status == 0 {
		return nil, courier.Errorf(courier.ENOTFOUND, "idempotency key %q has no answer", key)
	}
	return r, err
}

// PurgeIdempotencyKeys deletes records created before t and returns how many.
func (s *DB) PurgeIdempotencyKeys(ctx context.Context, before time.Time) (int64, error) {
	var n int64
	err := s.write(ctx, func(q execer) error {
		res, err := q.ExecContext(ctx, `DELETE FROM idempotency_keys WHERE created_at < $1`, s.d.timeArg(utc(before)))
		if err != nil {
			return fmt.Errorf("store: purge idempotency keys: %w", err)
		}
		if n, err = res.RowsAffected(); err != nil {
			return fmt.Errorf("store: purge idempotency keys: %w", err)
		}
		return nil
	})
	return n, err
}
