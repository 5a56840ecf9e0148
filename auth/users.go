package auth

import (
	"context"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/courierhq/courier"
	"golang.org/x/crypto/bcrypt"
)

// Limits are the login throttling rules (see courier.LoginLimits).
type Limits = courier.LoginLimits

// DefaultLimits: a login from one address gets 5 attempts at once, then
// waits 1 s, 2 s, 4 s ... up to 15 minutes between attempts; an address gets
// 200 failed attempts over all logins in 15 minutes.
var DefaultLimits = Limits{Free: 5, BaseDelay: time.Second, MaxDelay: 15 * time.Minute, PerAddress: 200, Window: 15 * time.Minute}

// Users logs people in and manages their accounts.
type Users struct {
	// MinPassword is the shortest password accepted for a new or changed
	// password (default 8; the demo lowers it for its password "demo").
	MinPassword int
	// SessionTTL is how long this replica trusts what it read of a user's
	// sessions when no revocation reaches it (default DefaultSessionTTL).
	SessionTTL time.Duration

	store    courier.UserStore
	tokens   *Tokens
	throttle courier.LoginThrottle
	limits   Limits
	cost     int
	dummy    []byte // a hash compared against when the login is unknown, so timing does not tell

	sessions    sessionCache
	revocations Revocations
}

// NewUsers returns the user service. bcryptCost 0 means bcrypt.DefaultCost.
func NewUsers(store courier.UserStore, tokens *Tokens, throttle courier.LoginThrottle, limits Limits, bcryptCost int) *Users {
	if bcryptCost == 0 {
		bcryptCost = bcrypt.DefaultCost
	}
	dummy, _ := bcrypt.GenerateFromPassword([]byte("not a password"), bcryptCost)
	return &Users{MinPassword: 8, SessionTTL: DefaultSessionTTL, store: store, tokens: tokens, throttle: throttle, limits: limits, cost: bcryptCost, dummy: dummy}
}

// Tokens returns the token issuer, for the HTTP layer's verification.
func (s *Users) Tokens() *Tokens { return s.tokens }

// HashPassword returns the bcrypt hash of a password that passes the length rules. Returns EINVALID.
func (s *Users) HashPassword(field, password string) (string, error) {
	if n := utf8.RuneCountInString(password); n < s.MinPassword {
		return "", courier.FieldError(field, "must have at least %d characters", s.MinPassword)
	} else if len(password) > 72 {
		return "", courier.FieldError(field, "must be at most 72 bytes")
	}
	h, err := bcrypt.GenerateFromPassword([]byte(password), s.cost)
	if err != nil {
		return "", err
	}
	return string(h), nil
}

// Login checks a login and password from a client address and issues tokens.
// Returns ETOOMANY (details: retry_after_s) while this login is throttled
// from this address, or the address is, and EUNAUTHORIZED for wrong
// credentials, with one message whether the login exists or not.
func (s *Users) Login(ctx context.Context, login, password, addr string) (*courier.User, Pair, error) {
	login = strings.TrimSpace(login)
	key := strings.ToLower(login)
	if len(key) > 64 { // no such login can exist; keep throttle keys short
		key = key[:64]
	}
	// Count the attempt before checking the password: requests sent in
	// parallel each take their own turn, so at most limits.Free are checked.
	wait, err := s.throttle.Attempt(ctx, key, addr, s.tokens.clock.Now(), s.limits)
	if err != nil {
		return nil, Pair{}, err
	}
	if wait > 0 {
		secs := int((wait + time.Second - 1) / time.Second)
		return nil, Pair{}, &courier.Error{Code: courier.ETOOMANY, Message: "too many failed logins; try again later",
			Details: map[string]any{"retry_after_s": secs}}
	}
	u, err := s.store.UserByLogin(ctx, login)
	if err != nil && courier.ErrorCode(err) != courier.ENOTFOUND {
		return nil, Pair{}, err
	}
	hash := s.dummy
	if u != nil {
		hash = []byte(u.PasswordHash)
	}
	if bcrypt.CompareHashAndPassword(hash, []byte(password)) != nil || u == nil || !u.Active {
		return nil, Pair{}, courier.Errorf(courier.EUNAUTHORIZED, "wrong login or password")
	}
	// A good login forgets its own failures and takes its attempt back from
	// the address (many couriers log in from one depot's address).
	if err := s.throttle.Succeeded(ctx, key, addr); err != nil {
		return nil, Pair{}, err
	}
	// Each login starts a refresh-token family.
	family, err := randomID()
	if err != nil {
		return nil, Pair{}, err
	}
	p, err := s.tokens.Issue(u, family)
	if err != nil {
		return nil, Pair{}, err
	}
	f := &courier.RefreshFamily{ID: family, UserID: u.ID, CurrentJTI: p.RefreshID, ExpiresAt: p.RefreshExpires}
	if err := s.store.CreateRefreshFamily(ctx, f); err != nil {
		return nil, Pair{}, err
	}
	return u, p, nil
}

// Refresh exchanges a refresh token for a new pair, re-reading the user so a
// deactivated user or a changed role takes effect. Each refresh token works
// once: the new pair's refresh token replaces it in its family, and
// presenting a spent one again (a copy someone kept) revokes the family, so
// neither the thief nor the owner can refresh until they log in again.
// Returns EUNAUTHORIZED.
func (s *Users) Refresh(ctx context.Context, raw string) (*courier.User, Pair, error) {
	a, claims, err := s.tokens.VerifyRefresh(raw)
	if err != nil {
		return nil, Pair{}, err
	}
	if claims.Family == "" {
		return nil, Pair{}, courier.Errorf(courier.EUNAUTHORIZED, "the session was ended; log in again")
	}
	u, err := s.store.User(ctx, a.UserID)
	if courier.ErrorCode(err) == courier.ENOTFOUND || (err == nil && (!u.Active || u.Role != a.Role)) {
		return nil, Pair{}, courier.Errorf(courier.EUNAUTHORIZED, "the account is no longer active")
	} else if err != nil {
		return nil, Pair{}, err
	}
	if claims.Version != u.TokenVersion {
		return nil, Pair{}, courier.Errorf(courier.EUNAUTHORIZED, "the session was ended; log in again")
	}
	p, err := s.tokens.Issue(u, claims.Family)
	if err != nil {
		return nil, Pair{}, err
	}
	rotated, err := s.store.RotateRefreshFamily(ctx, claims.Family, claims.ID, p.RefreshID, p.RefreshExpires)
	if err != nil {
		return nil, Pair{}, err
	}
	if rotated {
		return u, p, nil
	}
	f, err := s.store.RefreshFamily(ctx, claims.Family)
	if courier.ErrorCode(err) == courier.ENOTFOUND || (err == nil && (!f.RevokedAt.IsZero() || f.UserID != u.ID)) {
		return nil, Pair{}, courier.Errorf(courier.EUNAUTHORIZED, "the session was ended; log in again")
	} else if err != nil {
		return nil, Pair{}, err
	}
	// A spent token: whoever holds the family's tokens, the session ends.
	if err := s.store.RevokeRefreshFamily(ctx, f.ID); err != nil {
		return nil, Pair{}, err
	}
	return nil, Pair{}, courier.Errorf(courier.EUNAUTHORIZED, "this refresh token was already used; the session is ended, log in again")
}

// Logout ends every session of the actor: their refresh and access tokens
// stop working, on every replica within seconds.
func (s *Users) Logout(ctx context.Context, actor courier.Actor) error {
	_, err := s.store.UpdateUser(ctx, actor.UserID, func(u *courier.User) error {
		u.TokenVersion++
		return nil
	})
	if err == nil {
		s.revoked(ctx, actor.UserID)
	}
	return err
}

// UserInput is what an admin sends to create or change a user. Nil fields do not change.
type UserInput struct {
	Login    *string
	Name     *string
	Role     *courier.Role
	Password *string
	Active   *bool
}

// CreateUser creates a user. Only admins may. Returns EFORBIDDEN, EINVALID, ECONFLICT.
func (s *Users) CreateUser(ctx context.Context, actor courier.Actor, in UserInput) (*courier.User, error) {
	if err := actor.Require(courier.RoleAdmin); err != nil {
		return nil, err
	}
	if in.Login == nil {
		return nil, courier.FieldError("login", "is required")
	}
	if in.Password == nil {
		return nil, courier.FieldError("password", "is required")
	}
	if in.Role == nil {
		return nil, courier.FieldError("role", "is required")
	}
	u := &courier.User{Active: true}
	if err := s.apply(u, in); err != nil {
		return nil, err
	}
	if u.Role == courier.RoleCourier {
		return nil, courier.FieldError("role", "courier logins are created with the courier (POST /api/v1/couriers)")
	}
	if err := s.store.CreateUser(ctx, u); err != nil {
		return nil, err
	}
	return u, nil
}

// UpdateUser changes a user. Only admins may; an admin cannot deactivate or demote themselves.
// Returns EFORBIDDEN, EINVALID, ENOTFOUND, ECONFLICT.
func (s *Users) UpdateUser(ctx context.Context, actor courier.Actor, id int64, in UserInput) (*courier.User, error) {
	if err := actor.Require(courier.RoleAdmin); err != nil {
		return nil, err
	}
	if id == actor.UserID && ((in.Active != nil && !*in.Active) || (in.Role != nil && *in.Role != courier.RoleAdmin)) {
		return nil, courier.Errorf(courier.ECONFLICT, "admins cannot deactivate or demote themselves")
	}
	var ended bool
	u, err := s.store.UpdateUser(ctx, id, func(u *courier.User) error {
		if in.Role != nil && (*in.Role == courier.RoleCourier) != (u.Role == courier.RoleCourier) {
			return courier.FieldError("role", "a courier login stays a courier login")
		}
		version := u.TokenVersion
		if err := s.apply(u, in); err != nil {
			return err
		}
		ended = u.TokenVersion != version
		return nil
	})
	if err == nil && ended {
		s.revoked(ctx, id)
	}
	return u, err
}

func (s *Users) apply(u *courier.User, in UserInput) error {
	before := *u
	defer func() {
		// A new password, deactivation or another role ends the user's sessions.
		if u.PasswordHash != before.PasswordHash || (before.Active && !u.Active) || u.Role != before.Role {
			u.TokenVersion = before.TokenVersion + 1
		}
	}()
	if in.Login != nil {
		l := strings.TrimSpace(*in.Login)
		if err := courier.ValidateLogin("login", l); err != nil {
			return err
		}
		u.Login = l
	}
	if in.Name != nil {
		u.Name = strings.TrimSpace(*in.Name)
	}
	if in.Role != nil {
		if !in.Role.Valid() {
			return courier.FieldError("role", "must be admin, dispatcher, courier or cashier")
		}
		u.Role = *in.Role
	}
	if in.Password != nil {
		h, err := s.HashPassword("password", *in.Password)
		if err != nil {
			return err
		}
		u.PasswordHash = h
	}
	if in.Active != nil {
		u.Active = *in.Active
	}
	return nil
}

// ListUsers lists every user. Only admins may. Returns EFORBIDDEN.
func (s *Users) ListUsers(ctx context.Context, actor courier.Actor) ([]*courier.User, error) {
	if err := actor.Require(courier.RoleAdmin); err != nil {
		return nil, err
	}
	return s.store.ListUsers(ctx)
}

// User returns one user to an admin, or to the user themselves. Returns EFORBIDDEN, ENOTFOUND.
func (s *Users) User(ctx context.Context, actor courier.Actor, id int64) (*courier.User, error) {
	if !actor.Is(courier.RoleAdmin) && actor.UserID != id {
		return nil, courier.Errorf(courier.EFORBIDDEN, "you may read only your own account")
	}
	return s.store.User(ctx, id)
}
