package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	courier "github.com/courierhq/courier"
)

// CreateRefreshFamily stores a new family and sets its CreatedAt and RotatedAt.
func (s *DB) CreateRefreshFamily(ctx context.Context, f *courier.RefreshFamily) error {
	now := s.now()
	_, err := s.wdb.ExecContext(ctx, `INSERT INTO refresh_families (id, user_id, current_jti, expires_at, created_at, rotated_at)
		VALUES ($1, $2, $3, $4, $5, $5)`, f.ID, f.UserID, f.CurrentJTI, s.d.timeArg(utc(f.ExpiresAt)), s.d.timeArg(now))
	if err != nil {
		return fmt.Errorf("store: create refresh family: %w", err)
	}
	f.CreatedAt, f.RotatedAt, f.RevokedAt = now, now, time.Time{}
	return nil
}

// RefreshFamily returns a family by id. Returns ENOTFOUND.
func (s *DB) RefreshFamily(ctx context.Context, id string) (*courier.RefreshFamily, error) {
	var f courier.RefreshFamily
	err := s.wdb.QueryRowContext(ctx, `SELECT id, user_id, current_jti, expires_at, revoked_at, created_at, rotated_at
		FROM refresh_families WHERE id = $1`, id).
		Scan(&f.ID, &f.UserID, &f.CurrentJTI, timeScan{&f.ExpiresAt}, timeScan{&f.RevokedAt}, timeScan{&f.CreatedAt}, timeScan{&f.RotatedAt})
	if errors.Is(err, sql.ErrNoRows) {
		return nil, courier.Errorf(courier.ENOTFOUND, "refresh family not found")
	} else if err != nil {
		return nil, fmt.Errorf("store: refresh family: %w", err)
	}
	return &f, nil
}

// RotateRefreshFamily makes to the current token id if from is and the
// family is not revoked, in one UPDATE; it reports whether it did.
func (s *DB) RotateRefreshFamily(ctx context.Context, id, from, to string, expires time.Time) (bool, error) {
	res, err := s.wdb.ExecContext(ctx, `UPDATE refresh_families SET current_jti = $1, expires_at = $2, rotated_at = $3
		WHERE id = $4 AND current_jti = $5 AND revoked_at IS NULL`, to, s.d.timeArg(utc(expires)), s.d.timeArg(s.now()), id, from)
	if err != nil {
		return false, fmt.Errorf("store: rotate refresh family: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("store: rotate refresh family: %w", err)
	}
	return n == 1, nil
}

// RevokeRefreshFamily ends a family (a revoked one keeps its first revocation time).
func (s *DB) RevokeRefreshFamily(ctx context.Context, id string) error {
	_, err := s.wdb.ExecContext(ctx, `UPDATE refresh_families SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL`,
		s.d.timeArg(s.now()), id)
	if err != nil {
		return fmt.Errorf("store: revoke refresh family: %w", err)
	}
	return nil
}

// PurgeRefreshFamilies deletes families that expired before t.
func (s *DB) PurgeRefreshFamilies(ctx context.Context, before time.Time) (int64, error) {
	res, err := s.wdb.ExecContext(ctx, `DELETE FROM refresh_families WHERE expires_at < $1`, s.d.timeArg(utc(before)))
	if err != nil {
		return 0, fmt.Errorf("store: purge refresh families: %w", err)
	}
	return res.RowsAffected()
}
