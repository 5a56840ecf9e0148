package auth

import (
	"context"
	"sync"
	"time"

	"github.com/courierhq/courier"
)

// DefaultSessionTTL is how long a replica trusts what it read of a user's
// sessions (token version, active, role) before reading it again. A
// revocation drops it at once on every replica (Revocations); the TTL only
// bounds what a revocation lost while Redis was away costs, and is long
// enough that a phone sending GPS every 30 s is not a store read each time.
const DefaultSessionTTL = time.Minute

// Revocations tells every replica that a user's tokens were revoked, so each
// forgets what it cached of the user at once (Redis pub/sub in production).
// Delivery is best effort: the cache's TTL bounds what a lost message costs.
type Revocations interface {
	Revoked(ctx context.Context, userID int64)
}

// SetRevocations installs the channel to the other replicas. Call it before serving.
func (s *Users) SetRevocations(r Revocations) { s.revocations = r }

// Authenticate verifies an access token and checks that its session still
// stands: the user exists, is active, has the token's role and the token's
// version (a logout, a new password, deactivation or another role bumps it).
// What it reads of the user is cached for SessionTTL in this replica and
// forgotten as soon as any replica revokes the user's tokens.
// Returns EUNAUTHORIZED.
func (s *Users) Authenticate(ctx context.Context, raw string) (courier.Actor, *Claims, error) {
	a, claims, err := s.tokens.VerifyAccess(raw)
	if err != nil {
		return courier.Actor{}, nil, err
	}
	if err := s.Check(ctx, a, claims); err != nil {
		return courier.Actor{}, nil, err
	}
	return a, claims, nil
}

// Check checks again that the session of a verified access token stands
// (long event streams call it as they go). Returns EUNAUTHORIZED.
func (s *Users) Check(ctx context.Context, a courier.Actor, claims *Claims) error {
	st, err := s.sessionOf(ctx, a.UserID)
	if err != nil {
		return err
	}
	if !st.found || !st.active || st.role != a.Role || st.version != claims.Version {
		return courier.Errorf(courier.EUNAUTHORIZED, "the session was ended; log in again")
	}
	return nil
}

// sessionOf returns the cached session state of a user, reading the store
// when it is not cached or older than SessionTTL.
func (s *Users) sessionOf(ctx context.Context, userID int64) (sessionState, error) {
	now := s.tokens.clock.Now()
	st, epoch, ok := s.sessions.get(userID, now)
	if ok {
		return st, nil
	}
	u, err := s.store.User(ctx, userID)
	switch {
	case courier.ErrorCode(err) == courier.ENOTFOUND:
		st = sessionState{}
	case err != nil:
		return sessionState{}, err
	default:
		st = sessionState{found: true, active: u.Active, role: u.Role, version: u.TokenVersion}
	}
	s.sessions.put(userID, st, now, now.Add(s.SessionTTL), epoch)
	return st, nil
}

// Forget drops what this replica cached of a user (their tokens were revoked
// on some replica).
func (s *Users) Forget(userID int64) { s.sessions.forget(userID) }

// ForgetAll drops every cached session (revocations may have been missed,
// for example while Redis was away).
func (s *Users) ForgetAll() { s.sessions.forgetAll() }

// revoked tells this and every other replica that userID's tokens were revoked.
func (s *Users) revoked(ctx context.Context, userID int64) {
	s.sessions.forget(userID)
	if s.revocations != nil {
		s.revocations.Revoked(context.WithoutCancel(ctx), userID)
	}
}

// sessionState is what a token is checked against.
type sessionState struct {
	found, active bool
	role          courier.Role
	version       int64
}

// sessionCache keeps users' session states for a short while. epoch counts
// forgets: a state read from the store before a forget is not stored after it.
type sessionCache struct {
	mu    sync.Mutex
	epoch uint64
	users map[int64]cachedSession
}

type cachedSession struct {
	state sessionState
	until time.Time
}

// sessionCacheMax bounds the cache: above it the expired entries go, and
// when that is not enough, all.
const sessionCacheMax = 50000

func (c *sessionCache) get(userID int64, now time.Time) (sessionState, uint64, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.users[userID]
	if !ok || !now.Before(e.until) {
		return sessionState{}, c.epoch, false
	}
	return e.state, c.epoch, true
}

func (c *sessionCache) put(userID int64, st sessionState, now, until time.Time, epoch uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if epoch != c.epoch {
		return
	}
	if c.users == nil {
		c.users = map[int64]cachedSession{}
	}
	courier.BoundMap(c.users, sessionCacheMax, func(e cachedSession) bool { return !now.Before(e.until) })
	c.users[userID] = cachedSession{state: st, until: until}
}

func (c *sessionCache) forget(userID int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.epoch++
	delete(c.users, userID)
}

func (c *sessionCache) forgetAll() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.epoch++
	clear(c.users)
}
