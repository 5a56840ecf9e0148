package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	courier "github.com/courierhq/courier"
)

const depotColumns = `id, name, address, lat, lng, opens, closes, created_at, updated_at`

func scanDepot(row rowScanner) (*courier.Depot, error) {
	var d courier.Depot
	if err := row.Scan(&d.ID, &d.Name, &d.Address, &d.Location.Lat, &d.Location.Lng, &d.Opens, &d.Closes,
		timeScan{&d.CreatedAt}, timeScan{&d.UpdatedAt}); err != nil {
		return nil, err
	}
	return &d, nil
}

func depotNotFound(id int64) error {
	return courier.Errorf(courier.ENOTFOUND, "depot %d not found", id)
}

// CreateDepot inserts d and sets its ID and timestamps.
func (s *DB) CreateDepot(ctx context.Context, d *courier.Depot) error {
	now := s.now()
	err := s.write(ctx, func(q execer) error {
		return q.QueryRowContext(ctx, `INSERT INTO depots (name, address, lat, lng, opens, closes, created_at, updated_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $7) RETURNING id`,
			d.Name, d.Address, d.Location.Lat, d.Location.Lng, d.Opens, d.Closes, s.d.timeArg(now)).Scan(&d.ID)
	})
	if err != nil {
		return fmt.Errorf("store: insert depot: %w", err)
	}
	d.CreatedAt, d.UpdatedAt = now, now
	return nil
}

// Depot returns a depot by id. Returns ENOTFOUND.
func (s *DB) Depot(ctx context.Context, id int64) (*courier.Depot, error) {
	d, err := scanDepot(s.read(ctx).QueryRowContext(ctx, `SELECT `+depotColumns+` FROM depots WHERE id = $1`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, depotNotFound(id)
	} else if err != nil {
		return nil, fmt.Errorf("store: depot %d: %w", id, err)
	}
	return d, nil
}

// ListDepots returns all depots ordered by id.
func (s *DB) ListDepots(ctx context.Context) ([]*courier.Depot, error) {
	return queryAll(ctx, s.read(ctx), "list depots", scanDepot, `SELECT `+depotColumns+` FROM depots ORDER BY id`)
}

// UpdateDepot reads the depot, calls fn and writes the result in one
// transaction. ID and CreatedAt are kept; UpdatedAt is set. Returns ENOTFOUND or fn's error.
func (s *DB) UpdateDepot(ctx context.Context, id int64, fn func(*courier.Depot) error) (*courier.Depot, error) {
	var d *courier.Depot
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		old, err := scanDepot(tx.QueryRowContext(ctx, `SELECT `+depotColumns+` FROM depots WHERE id = $1`+s.d.forUpdate, id))
		if errors.Is(err, sql.ErrNoRows) {
			return depotNotFound(id)
		} else if err != nil {
			return fmt.Errorf("store: read depot %d: %w", id, err)
		}
		cp := *old
		d = &cp
		if err := fn(d); err != nil {
			return err
		}
		d.ID, d.CreatedAt, d.UpdatedAt = old.ID, old.CreatedAt, s.now()
		s.touch(tx, true) // the start and end of its couriers' routes
		_, err = tx.ExecContext(ctx, `UPDATE depots SET name = $1, address = $2, lat = $3, lng = $4, opens = $5,
			closes = $6, updated_at = $7 WHERE id = $8`,
			d.Name, d.Address, d.Location.Lat, d.Location.Lng, d.Opens, d.Closes, s.d.timeArg(d.UpdatedAt), id)
		if err != nil {
			return fmt.Errorf("store: update depot %d: %w", id, err)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return d, nil
}

// DeleteDepot removes a depot. Returns ENOTFOUND, or ECONFLICT while couriers
// or orders refer to it.
func (s *DB) DeleteDepot(ctx context.Context, id int64) error {
	return s.write(ctx, func(q execer) error {
		res, err := q.ExecContext(ctx, `DELETE FROM depots WHERE id = $1`, id)
		if err != nil {
			if s.d.violation(err) == foreignKeyViolation {
				return courier.Errorf(courier.ECONFLICT, "depot %d is still used by couriers or orders", id)
			}
			return fmt.Errorf("store: delete depot %d: %w", id, err)
		}
		n, err := res.RowsAffected()
		if err != nil {
			return fmt.Errorf("store: delete depot %d: %w", id, err)
		}
		if n == 0 {
			return depotNotFound(id)
		}
		return nil
	})
}
