package courier

import (
	"context"
	"time"
)

// Role is what a user may do.
type Role string

// The roles. Couriers work route sheets from the phone app; dispatchers plan;
// cashiers settle cash; admins manage users and everything else.
const (
	RoleAdmin      Role = "admin"
	RoleDispatcher Role = "dispatcher"
	RoleCourier    Role = "courier"
	RoleCashier    Role = "cashier"
)

// Valid reports whether r is one of the four roles.
func (r Role) Valid() bool {
	switch r {
	case RoleAdmin, RoleDispatcher, RoleCourier, RoleCashier:
		return true
	}
	return false
}

// User is a person who logs in. PasswordHash is a bcrypt hash, never the password.
// CourierID is set for users with the courier role once their courier record exists.
type User struct {
	ID           int64
	Login        string
	Name         string
	Role         Role
	PasswordHash string
	CourierID    int64
	Active       bool
	CreatedAt    time.Time
	UpdatedAt    time.Time
}

// UserStore persists users.
type UserStore interface {
	// CreateUser inserts u and sets its ID and timestamps. Returns ECONFLICT if the login is taken.
	CreateUser(ctx context.Context, u *User) error
	// User returns a user by id. Returns ENOTFOUND.
	User(ctx context.Context, id int64) (*User, error)
	// UserByLogin returns a user by login. Returns ENOTFOUND.
	UserByLogin(ctx context.Context, login string) (*User, error)
	// ListUsers returns all users ordered by id.
	ListUsers(ctx context.Context) ([]*User, error)
	// UpdateUser reads the user, calls fn and writes the result, in one transaction.
	// Returns ENOTFOUND, ECONFLICT if the new login is taken, or fn's error.
	UpdateUser(ctx context.Context, id int64, fn func(*User) error) (*User, error)
}
