package courier

import (
	"context"
	"time"
	"unicode/utf8"
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
	// TokenVersion is carried by refresh tokens; bumping it revokes them all
	// (logout, new password, deactivation, another role).
	TokenVersion int64
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

	// CreateRefreshFamily stores a new family and sets its times.
	CreateRefreshFamily(ctx context.Context, f *RefreshFamily) error
	// RefreshFamily returns a family by id. Returns ENOTFOUND.
	RefreshFamily(ctx context.Context, id string) (*RefreshFamily, error)
	// RotateRefreshFamily makes to the family's current token id, expiring at
	// expires, if from is the current one and the family is not revoked: one
	// atomic compare-and-swap, so of two uses of one token only one rotates.
	// It reports whether it did.
	RotateRefreshFamily(ctx context.Context, id, from, to string, expires time.Time) (bool, error)
	// RevokeRefreshFamily ends a family: none of its tokens is accepted again.
	RevokeRefreshFamily(ctx context.Context, id string) error
	// PurgeRefreshFamilies deletes families that expired before t.
	PurgeRefreshFamilies(ctx context.Context, before time.Time) (int64, error)
}

// RefreshFamily is one login's chain of refresh tokens. Each refresh token is
// used once: using it gives a new one, which becomes CurrentJTI. A token of
// the family that is not the current one has been spent, and presenting it
// again (a thief's or the owner's copy) revokes the family.
type RefreshFamily struct {
	ID         string
	UserID     int64
	CurrentJTI string
	ExpiresAt  time.Time
	RevokedAt  time.Time // zero while the family is in use
	CreatedAt  time.Time
	RotatedAt  time.Time
}

// Actor is who is asking: the authenticated user, their role and, for
// couriers, their courier id. Domain services take it to check ownership.
type Actor struct {
	UserID    int64
	Role      Role
	CourierID int64
	TokenID   string // the access token's id (jti), for the audit of money and goods
}

// Is reports whether the actor has one of roles.
func (a Actor) Is(roles ...Role) bool {
	for _, r := range roles {
		if a.Role == r {
			return true
		}
	}
	return false
}

// Require returns EFORBIDDEN unless the actor has one of roles.
func (a Actor) Require(roles ...Role) error {
	if a.Is(roles...) {
		return nil
	}
	return Errorf(EFORBIDDEN, "this action needs the role %s", joinRoles(roles))
}

func joinRoles(roles []Role) string {
	s := ""
	for i, r := range roles {
		if i > 0 {
			if i == len(roles)-1 {
				s += " or "
			} else {
				s += ", "
			}
		}
		s += string(r)
	}
	return s
}

// LoginLimits are the rules of login throttling. Attempts are counted by
// login and client address together (the pair), so strangers' guesses never
// lock a login out from other addresses: a pair gets Free attempts at once,
// then each further attempt waits a delay that doubles from BaseDelay up to
// MaxDelay. Apart from that an address gets at most PerAddress attempts over
// all logins within Window (a ceiling well above what the people behind one
// shared address, a depot's, get wrong). A pair's failures are forgotten
// Window after its last attempt; a successful login forgets them at once and
// takes its attempt back from the address.
type LoginLimits struct {
	Free       int
	BaseDelay  time.Duration
	MaxDelay   time.Duration
	PerAddress int
	Window     time.Duration
}

// LoginThrottle counts login attempts for every replica at once (in Redis).
// An attempt is counted before the password is checked, so parallel guesses
// cannot all slip under the limits.
type LoginThrottle interface {
	// Attempt counts one attempt of login from addr at now under l, the pair
	// and the address in one atomic step, and returns 0; or, counting
	// nothing, how long the client must wait before trying again.
	Attempt(ctx context.Context, login, addr string, now time.Time, l LoginLimits) (wait time.Duration, err error)
	// Succeeded forgets the pair's attempts and takes one back from the address.
	Succeeded(ctx context.Context, login, addr string) error
}

// ValidateLogin checks a login: 3 to 64 characters of letters, digits, '.', '_', '-', '@'. Returns EINVALID.
func ValidateLogin(field, login string) error {
	if n := utf8.RuneCountInString(login); n < 3 || n > 64 {
		return FieldError(field, "must have 3 to 64 characters")
	}
	for _, r := range login {
		ok := r == '.' || r == '_' || r == '-' || r == '@' || r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z'
		if !ok {
			return FieldError(field, "may hold only letters, digits and . _ - @")
		}
	}
	return nil
}
