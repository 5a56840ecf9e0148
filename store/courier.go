package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	courier "github.com/courierhq/courier"
)

// courierColumns are read by scanCourier. Login comes from the linked user.
const courierColumns = `c.id, c.name, c.phone, COALESCE(c.user_id, 0),
	COALESCE((SELECT u.login FROM users u WHERE u.id = c.user_id), ''),
	c.vehicle_type, c.capacity_kg, c.capacity_l, c.max_stops, c.shift_start, c.shift_end,
	c.depot_id, c.zone_ids, c.active, c.version, c.created_at, c.updated_at`

func scanCourier(row rowScanner) (*courier.Courier, error) {
	var c courier.Courier
	var zones string
	if err := row.Scan(&c.ID, &c.Name, &c.Phone, &c.UserID, &c.Login,
		&c.Vehicle.Type, &c.Vehicle.CapacityKg, &c.Vehicle.CapacityL, &c.Vehicle.MaxStops, &c.Shift.Start, &c.Shift.End,
		&c.DepotID, &zones, &c.Active, &c.Version, timeScan{&c.CreatedAt}, timeScan{&c.UpdatedAt}); err != nil {
		return nil, err
	}
	var err error
	if c.ZoneIDs, err = decodeIDs(zones); err != nil {
		return nil, fmt.Errorf("courier %d zone_ids: %w", c.ID, err)
	}
	return &c, nil
}

// encodeIDs stores an id list as a JSON array; nil is [].
func encodeIDs(ids []int64) string {
	if len(ids) == 0 {
		return "[]"
	}
	b, _ := json.Marshal(ids) // []int64 always marshals
	return string(b)
}

// decodeIDs reads a JSON id array; an empty array is nil.
func decodeIDs(s string) ([]int64, error) {
	var ids []int64
	if err := json.Unmarshal([]byte(s), &ids); err != nil {
		return nil, err
	}
	if len(ids) == 0 {
		return nil, nil
	}
	return ids, nil
}

func courierNotFound(id int64) error {
	return courier.Errorf(courier.ENOTFOUND, "courier %d not found", id)
}

// ref is a foreign key value to check when the database reports a violation.
type ref struct {
	field    string // the domain field, e.g. depot_id
	what     string // what it names, e.g. depot
	table    string
	id       int64
	required bool // 0 is not "none" but a missing row
}

// badReference finds which of refs names a missing row and returns EINVALID
// naming its field. It runs after the failed transaction has rolled back.
func (s *DB) badReference(ctx context.Context, refs ...ref) error {
	for _, r := range refs {
		if r.id == 0 && !r.required {
			continue // optional reference left empty
		}
		var one int
		err := s.read(ctx).QueryRowContext(ctx, `SELECT 1 FROM `+r.table+` WHERE id = $1`, r.id).Scan(&one)
		if errors.Is(err, sql.ErrNoRows) {
			return courier.FieldError(r.field, "%s %d does not exist", r.what, r.id)
		} else if err != nil {
			return fmt.Errorf("store: check %s: %w", r.field, err)
		}
	}
	fields := make([]string, len(refs))
	for i, r := range refs {
		fields[i] = r.field
	}
	return &courier.Error{Code: courier.EINVALID, Message: "a referenced record does not exist: " + strings.Join(fields, ", ")}
}

// fkError marks a foreign-key violation inside a transaction; the caller
// turns it into EINVALID with badReference once the transaction is over.
type fkError struct{ refs []ref }

func (e *fkError) Error() string { return "store: foreign key violation" }

// resolve turns an fkError into the EINVALID it stands for; other errors pass.
func (s *DB) resolve(ctx context.Context, err error) error {
	var fk *fkError
	if errors.As(err, &fk) {
		return s.badReference(ctx, fk.refs...)
	}
	return err
}

func courierRefs(c *courier.Courier) []ref {
	return []ref{
		{field: "depot_id", what: "depot", table: "depots", id: c.DepotID, required: true},
		{field: "user_id", what: "user", table: "users", id: c.UserID},
	}
}

// CreateCourier inserts the courier and, when u is not nil, its login user in
// the same transaction, linking both: c.UserID, c.Login and u.CourierID are
// set. It sets IDs, Version 1 and timestamps. Returns ECONFLICT if the login
// is taken or the user already has a courier, EINVALID (field depot_id or
// user_id) if the depot or the user does not exist.
func (s *DB) CreateCourier(ctx context.Context, c *courier.Courier, u *courier.User) error {
	now := s.now()
	userID := c.UserID
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		if u != nil {
			if err := s.insertUser(ctx, tx, u); err != nil {
				return err
			}
			c.UserID = u.ID
		}
		err := tx.QueryRowContext(ctx, `INSERT INTO couriers (name, phone, user_id, vehicle_type, capacity_kg, capacity_l,
			max_stops, shift_start, shift_end, depot_id, zone_ids, active, version, created_at, updated_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, 1, $13, $13) RETURNING id`,
			c.Name, c.Phone, nullID(c.UserID), c.Vehicle.Type, c.Vehicle.CapacityKg, c.Vehicle.CapacityL,
			c.Vehicle.MaxStops, c.Shift.Start, c.Shift.End, c.DepotID, encodeIDs(c.ZoneIDs), c.Active,
			s.d.timeArg(now)).Scan(&c.ID)
		switch s.d.violation(err) {
		case uniqueViolation:
			return courier.Errorf(courier.ECONFLICT, "user %d already has a courier", c.UserID)
		case foreignKeyViolation:
			return &fkError{refs: courierRefs(c)}
		}
		if err != nil {
			return fmt.Errorf("store: insert courier: %w", err)
		}
		if u == nil && c.UserID != 0 {
			if err := tx.QueryRowContext(ctx, `SELECT login FROM users WHERE id = $1`, c.UserID).Scan(&c.Login); err != nil {
				return fmt.Errorf("store: read courier login: %w", err)
			}
		}
		return nil
	})
	if err != nil {
		c.ID, c.UserID = 0, userID
		if u != nil {
			u.ID, u.CreatedAt, u.UpdatedAt = 0, time.Time{}, time.Time{}
		}
		return s.resolve(ctx, err)
	}
	if u != nil {
		u.CourierID = c.ID
		c.Login = u.Login
	}
	c.Version, c.CreatedAt, c.UpdatedAt = 1, now, now
	return nil
}

// Courier returns a courier by id. Returns ENOTFOUND.
func (s *DB) Courier(ctx context.Context, id int64) (*courier.Courier, error) {
	c, err := scanCourier(s.read(ctx).QueryRowContext(ctx, `SELECT `+courierColumns+` FROM couriers c WHERE c.id = $1`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, courierNotFound(id)
	} else if err != nil {
		return nil, fmt.Errorf("store: courier %d: %w", id, err)
	}
	return c, nil
}

// ListCouriers returns the couriers matching f, ordered by id. Search is a
// case-insensitive "contains" on name, phone and login.
func (s *DB) ListCouriers(ctx context.Context, f courier.CourierFilter) ([]*courier.Courier, error) {
	var c conds
	if f.DepotID != 0 {
		c.add("c.depot_id = " + c.arg(f.DepotID))
	}
	if f.Active != nil {
		c.add("c.active = " + c.arg(*f.Active))
	}
	if f.Search != "" {
		p := c.arg(likeContains(f.Search))
		l := s.d.lower
		c.add(fmt.Sprintf(`(%[1]s(c.name) LIKE %[2]s ESCAPE '\' OR %[1]s(c.phone) LIKE %[2]s ESCAPE '\'
			OR EXISTS (SELECT 1 FROM users u WHERE u.id = c.user_id AND %[1]s(u.login) LIKE %[2]s ESCAPE '\'))`, l, p))
	}
	q := `SELECT ` + courierColumns + ` FROM couriers c` + c.sql() + " ORDER BY c.id"
	return queryAll(ctx, s.read(ctx), "list couriers", scanCourier, q, c.args...)
}

// UpdateCourier reads the courier, calls fn and writes the result in one
// transaction, incrementing Version. ID and CreatedAt are kept; Login is
// read from the linked user. Returns ENOTFOUND, EINVALID for an unknown
// depot or user, ECONFLICT if the user already has another courier, or fn's error.
func (s *DB) UpdateCourier(ctx context.Context, id int64, fn func(*courier.Courier) error) (*courier.Courier, error) {
	var c *courier.Courier
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		old, err := scanCourier(tx.QueryRowContext(ctx, `SELECT `+courierColumns+` FROM couriers c WHERE c.id = $1`+s.d.forUpdate, id))
		if errors.Is(err, sql.ErrNoRows) {
			return courierNotFound(id)
		} else if err != nil {
			return fmt.Errorf("store: read courier %d: %w", id, err)
		}
		cp := *old
		c = &cp
		if err := fn(c); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `UPDATE couriers SET name = $1, phone = $2, user_id = $3, vehicle_type = $4,
			capacity_kg = $5, capacity_l = $6, max_stops = $7, shift_start = $8, shift_end = $9, depot_id = $10,
			zone_ids = $11, active = $12, version = $13, updated_at = $14 WHERE id = $15`,
			c.Name, c.Phone, nullID(c.UserID), c.Vehicle.Type, c.Vehicle.CapacityKg, c.Vehicle.CapacityL,
			c.Vehicle.MaxStops, c.Shift.Start, c.Shift.End, c.DepotID, encodeIDs(c.ZoneIDs), c.Active,
			old.Version+1, s.d.timeArg(s.now()), id)
		switch s.d.violation(err) {
		case uniqueViolation:
			return courier.Errorf(courier.ECONFLICT, "user %d already has a courier", c.UserID)
		case foreignKeyViolation:
			return &fkError{refs: courierRefs(c)}
		}
		if err != nil {
			return fmt.Errorf("store: update courier %d: %w", id, err)
		}
		c, err = scanCourier(tx.QueryRowContext(ctx, `SELECT `+courierColumns+` FROM couriers c WHERE c.id = $1`, id))
		if err != nil {
			return fmt.Errorf("store: reread courier %d: %w", id, err)
		}
		return nil
	})
	if err != nil {
		return nil, s.resolve(ctx, err)
	}
	return c, nil
}
