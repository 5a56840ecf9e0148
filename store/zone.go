package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"

	courier "github.com/courierhq/courier"
)

const zoneColumns = `id, name, color, kind, geometry, valid_from, valid_to, weekdays, hours_from, hours_to,
	courier_ids, base_fee, version, created_at, updated_at`

func scanZone(row rowScanner) (*courier.Zone, error) {
	var z courier.Zone
	var geom, weekdays, couriers string
	var fee sql.NullInt64
	if err := row.Scan(&z.ID, &z.Name, &z.Color, &z.Kind, &geom, &z.ValidFrom, &z.ValidTo, &weekdays, &z.HoursFrom,
		&z.HoursTo, &couriers, &fee, &z.Version, timeScan{&z.CreatedAt}, timeScan{&z.UpdatedAt}); err != nil {
		return nil, err
	}
	z.Geometry = []byte(geom)
	if err := json.Unmarshal([]byte(weekdays), &z.Weekdays); err != nil {
		return nil, fmt.Errorf("zone %d weekdays: %w", z.ID, err)
	}
	var err error
	if z.CourierIDs, err = decodeIDs(couriers); err != nil {
		return nil, fmt.Errorf("zone %d courier_ids: %w", z.ID, err)
	}
	if z.Weekdays == nil {
		z.Weekdays = []int{}
	}
	if z.CourierIDs == nil {
		z.CourierIDs = []int64{}
	}
	if fee.Valid {
		z.BaseFee = &fee.Int64
	}
	return &z, nil
}

func zoneNotFound(id int64) error { return courier.Errorf(courier.ENOTFOUND, "zone %d not found", id) }

func encodeInts(v []int) string {
	if len(v) == 0 {
		return "[]"
	}
	b, _ := json.Marshal(v)
	return string(b)
}

func nullFee(p *int64) any {
	if p == nil {
		return nil
	}
	return *p
}

// CreateZone inserts z and sets its ID, Version 1 and timestamps.
func (s *DB) CreateZone(ctx context.Context, z *courier.Zone) error {
	now := s.now()
	err := s.write(ctx, func(q execer) error {
		return q.QueryRowContext(ctx, `INSERT INTO zones (name, color, kind, geometry, valid_from, valid_to, weekdays,
		hours_from, hours_to, courier_ids, base_fee, version, created_at, updated_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, 1, $12, $12) RETURNING id`,
			z.Name, z.Color, string(z.Kind), string(z.Geometry), z.ValidFrom, z.ValidTo, encodeInts(z.Weekdays), z.HoursFrom,
			z.HoursTo, encodeIDs(z.CourierIDs), nullFee(z.BaseFee), s.d.timeArg(now)).Scan(&z.ID)
	})
	if err != nil {
		return fmt.Errorf("store: insert zone: %w", err)
	}
	z.Version, z.CreatedAt, z.UpdatedAt = 1, now, now
	return nil
}

// Zone returns a zone by id. Returns ENOTFOUND.
func (s *DB) Zone(ctx context.Context, id int64) (*courier.Zone, error) {
	z, err := scanZone(s.read(ctx).QueryRowContext(ctx, `SELECT `+zoneColumns+` FROM zones WHERE id = $1`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, zoneNotFound(id)
	} else if err != nil {
		return nil, fmt.Errorf("store: zone %d: %w", id, err)
	}
	return z, nil
}

// ListZones returns every zone ordered by id.
func (s *DB) ListZones(ctx context.Context) ([]*courier.Zone, error) {
	return queryAll(ctx, s.read(ctx), "list zones", scanZone, `SELECT `+zoneColumns+` FROM zones ORDER BY id`)
}

// ZoneSetVersion returns the count of zones, the sum of their versions and
// the highest id ever given: a creation raises the highest id, a change the
// sum, a deletion without a creation lowers the count, so any change moves it.
func (s *DB) ZoneSetVersion(ctx context.Context) (string, error) {
	var n, sum, maxID int64
	if err := s.read(ctx).QueryRowContext(ctx, `SELECT COUNT(*), COALESCE(SUM(version), 0), COALESCE(MAX(id), 0) FROM zones`).
		Scan(&n, &sum, &maxID); err != nil {
		return "", fmt.Errorf("store: zone set version: %w", err)
	}
	return fmt.Sprintf("%d/%d/%d", n, sum, maxID), nil
}

// UpdateZone reads the zone, calls fn and writes the result with Version+1 in
// one transaction. Returns ENOTFOUND or fn's error.
func (s *DB) UpdateZone(ctx context.Context, id int64, fn func(*courier.Zone) error) (*courier.Zone, error) {
	var z *courier.Zone
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		old, err := scanZone(tx.QueryRowContext(ctx, `SELECT `+zoneColumns+` FROM zones WHERE id = $1`+s.d.forUpdate, id))
		if errors.Is(err, sql.ErrNoRows) {
			return zoneNotFound(id)
		} else if err != nil {
			return fmt.Errorf("store: read zone %d: %w", id, err)
		}
		cp := *old
		z = &cp
		if err := fn(z); err != nil {
			return err
		}
		z.ID, z.CreatedAt, z.UpdatedAt, z.Version = old.ID, old.CreatedAt, s.now(), old.Version+1
		_, err = tx.ExecContext(ctx, `UPDATE zones SET name = $1, color = $2, kind = $3, geometry = $4, valid_from = $5,
			valid_to = $6, weekdays = $7, hours_from = $8, hours_to = $9, courier_ids = $10, base_fee = $11,
			version = $12, updated_at = $13 WHERE id = $14`,
			z.Name, z.Color, string(z.Kind), string(z.Geometry), z.ValidFrom, z.ValidTo, encodeInts(z.Weekdays), z.HoursFrom,
			z.HoursTo, encodeIDs(z.CourierIDs), nullFee(z.BaseFee), z.Version, s.d.timeArg(z.UpdatedAt), id)
		if err != nil {
			return fmt.Errorf("store: update zone %d: %w", id, err)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return z, nil
}

// DeleteZone removes a zone. Returns ENOTFOUND.
func (s *DB) DeleteZone(ctx context.Context, id int64) error {
	return s.write(ctx, func(q execer) error {
		res, err := q.ExecContext(ctx, `DELETE FROM zones WHERE id = $1`, id)
		if err != nil {
			return fmt.Errorf("store: delete zone %d: %w", id, err)
		}
		if n, err := res.RowsAffected(); err != nil {
			return fmt.Errorf("store: delete zone %d: %w", id, err)
		} else if n == 0 {
			return zoneNotFound(id)
		}
		return nil
	})
}
