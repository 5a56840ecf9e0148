package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	courier "github.com/courierhq/courier"
)

// userColumns are read by scanUser. CourierID comes from the courier that
// links the user (couriers.user_id is unique).
const userColumns = `u.id, u.login, u.name, u.role, u.password_hash, u.active, u.token_version, u.created_at, u.updated_at,
	COALESCE((SELECT c.id FROM couriers c WHERE c.user_id = u.id), 0)`

func scanUser(row rowScanner) (*courier.User, error) {
	var u courier.User
	var role string
	if err := row.Scan(&u.ID, &u.Login, &u.Name, &role, &u.PasswordHash, &u.Active, &u.TokenVersion,
		timeScan{&u.CreatedAt}, timeScan{&u.UpdatedAt}, &u.CourierID); err != nil {
		return nil, err
	}
	u.Role = courier.Role(role)
	return &u, nil
}

func loginTaken(login string) error {
	return &courier.Error{Code: courier.ECONFLICT, Message: fmt.Sprintf("login %q is taken", login),
		Details: map[string]any{"field": "login"}}
}

// CreateUser inserts u and sets its ID and timestamps. Returns ECONFLICT if the login is taken.
func (s *DB) CreateUser(ctx context.Context, u *courier.User) error {
	return s.inTx(ctx, func(tx *sql.Tx) error { return s.insertUser(ctx, tx, u) })
}

func (s *DB) insertUser(ctx context.Context, tx *sql.Tx, u *courier.User) error {
	now := s.now()
	err := tx.QueryRowContext(ctx, `INSERT INTO users (login, name, role, password_hash, active, created_at, updated_at)
		VALUES ($1, $2, $3, $4, $5, $6, $6) RETURNING id`,
		u.Login, u.Name, string(u.Role), u.PasswordHash, u.Active, s.d.timeArg(now)).Scan(&u.ID)
	if err != nil {
		if s.d.violation(err) == uniqueViolation {
			return loginTaken(u.Login)
		}
		return fmt.Errorf("store: insert user: %w", err)
	}
	u.CreatedAt, u.UpdatedAt = now, now
	return nil
}

// User returns a user by id. Returns ENOTFOUND.
func (s *DB) User(ctx context.Context, id int64) (*courier.User, error) {
	u, err := scanUser(s.read(ctx).QueryRowContext(ctx, `SELECT `+userColumns+` FROM users u WHERE u.id = $1`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, courier.Errorf(courier.ENOTFOUND, "user %d not found", id)
	} else if err != nil {
		return nil, fmt.Errorf("store: user %d: %w", id, err)
	}
	return u, nil
}

// UserByLogin returns a user by login. Returns ENOTFOUND.
func (s *DB) UserByLogin(ctx context.Context, login string) (*courier.User, error) {
	u, err := scanUser(s.read(ctx).QueryRowContext(ctx, `SELECT `+userColumns+` FROM users u WHERE u.login = $1`, login))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, courier.Errorf(courier.ENOTFOUND, "user %q not found", login)
	} else if err != nil {
		return nil, fmt.Errorf("store: user by login: %w", err)
	}
	return u, nil
}

// ListUsers returns all users ordered by id.
func (s *DB) ListUsers(ctx context.Context) ([]*courier.User, error) {
	return queryAll(ctx, s.read(ctx), "list users", scanUser, `SELECT `+userColumns+` FROM users u ORDER BY u.id`)
}

// UpdateUser reads the user, calls fn and writes the result, in one
// transaction. ID, CourierID and CreatedAt are kept; UpdatedAt is set.
// Returns ENOTFOUND, ECONFLICT if the new login is taken, or fn's error.
func (s *DB) UpdateUser(ctx context.Context, id int64, fn func(*courier.User) error) (*courier.User, error) {
	var u *courier.User
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		old, err := scanUser(tx.QueryRowContext(ctx, `SELECT `+userColumns+` FROM users u WHERE u.id = $1`+s.d.forUpdate, id))
		if errors.Is(err, sql.ErrNoRows) {
			return courier.Errorf(courier.ENOTFOUND, "user %d not found", id)
		} else if err != nil {
			return fmt.Errorf("store: read user %d: %w", id, err)
		}
		cp := *old
		u = &cp
		if err := fn(u); err != nil {
			return err
		}
		u.ID, u.CourierID, u.CreatedAt = old.ID, old.CourierID, old.CreatedAt
		u.UpdatedAt = s.now()
		_, err = tx.ExecContext(ctx, `UPDATE users SET login = $1, name = $2, role = $3, password_hash = $4,
			active = $5, token_version = $6, updated_at = $7 WHERE id = $8`,
			u.Login, u.Name, string(u.Role), u.PasswordHash, u.Active, u.TokenVersion, s.d.timeArg(u.UpdatedAt), id)
		if err != nil {
			if s.d.violation(err) == uniqueViolation {
				return loginTaken(u.Login)
			}
			return fmt.Errorf("store: update user %d: %w", id, err)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return u, nil
}
