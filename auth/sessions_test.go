package auth_test

import (
	"context"
	"crypto/rand"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/courierhq/courier"
	"github.com/courierhq/courier/auth"
	"github.com/courierhq/courier/internal/testsvc"
	"github.com/courierhq/courier/revocation"
	"github.com/courierhq/courier/store"
	"github.com/courierhq/courier/throttle"
	"github.com/redis/go-redis/v9"
)

type settableClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *settableClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *settableClock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// replicas are Users services over one store and one Redis, as two courierd
// replicas have them.
type replicas struct {
	t     *testing.T
	db    *store.DB
	rdb   *redis.Client
	clock *settableClock
}

func newReplicas(t *testing.T) *replicas {
	clock := &settableClock{t: time.Date(2026, 11, 23, 7, 0, 0, 0, time.UTC)}
	db, err := store.Open(context.Background(), filepath.Join(t.TempDir(), "auth.db"), store.WithClock(clock))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	opt, err := redis.ParseURL(testsvc.RedisURL(t))
	if err != nil {
		t.Fatal(err)
	}
	rdb := redis.NewClient(opt)
	t.Cleanup(func() { rdb.Close() })
	return &replicas{t: t, db: db, rdb: rdb, clock: clock}
}

// replica builds one Users; with a channel it publishes and listens there.
func (r *replicas) replica(channel string) *auth.Users {
	tokens, err := auth.NewTokens(auth.KeyConfig{Algorithm: "HS256", Secret: []byte(strings.Repeat("k", 40)), Issuer: "courierd",
		Audience: "courier-api", AccessTTL: 15 * time.Minute, RefreshTTL: time.Hour}, r.clock)
	if err != nil {
		r.t.Fatal(err)
	}
	u := auth.NewUsers(r.db, tokens, throttle.NewLocal(), auth.DefaultLimits, 4)
	u.SessionTTL = time.Minute // longer than any wait below: only a revocation explains a refusal
	if channel != "" {
		rev := revocation.New(r.rdb, channel, nil)
		u.SetRevocations(rev)
		ctx, cancel := context.WithCancel(context.Background())
		subscribed := make(chan struct{}, 1)
		done := make(chan struct{})
		go func() {
			defer close(done)
			rev.Listen(ctx, u.Forget, func() {
				u.ForgetAll()
				select {
				case subscribed <- struct{}{}:
				default:
				}
			})
		}()
		r.t.Cleanup(func() { cancel(); <-done })
		<-subscribed
	}
	return u
}

func (r *replicas) createUser(users *auth.Users, login string, role courier.Role) int64 {
	r.t.Helper()
	hash, err := users.HashPassword("password", "password-"+login)
	if err != nil {
		r.t.Fatal(err)
	}
	u := &courier.User{Login: login, Name: login, Role: role, PasswordHash: hash, Active: true}
	if err := r.db.CreateUser(context.Background(), u); err != nil {
		r.t.Fatal(err)
	}
	return u.ID
}

// refusedWithin polls users.Authenticate until it refuses tok, for up to d.
func refusedWithin(users *auth.Users, tok string, d time.Duration) (time.Duration, bool) {
	start := time.Now()
	for time.Since(start) < d {
		if _, _, err := users.Authenticate(context.Background(), tok); courier.ErrorCode(err) == courier.EUNAUTHORIZED {
			return time.Since(start), true
		}
		time.Sleep(10 * time.Millisecond)
	}
	return d, false
}

// TestRevocationReachesReplicas: a logout, a new password or deactivation on
// one replica refuses the user's access tokens on another within moments,
// though the other cached the user a minute long (Redis pub/sub); a name
// change does not; a replica that hears nothing refuses them once its cache
// expires.
func TestRevocationReachesReplicas(t *testing.T) {
	r := newReplicas(t)
	channel := "test:revoked:" + rand.Text()
	a, b, deaf := r.replica(channel), r.replica(channel), r.replica("")
	ctx := context.Background()
	admin := courier.Actor{UserID: r.createUser(a, "admin1", courier.RoleAdmin), Role: courier.RoleAdmin}
	id := r.createUser(a, "disp", courier.RoleDispatcher)
	for _, test := range []struct {
		name   string
		revoke func(actor courier.Actor) error
		ends   bool
	}{
		{"name change", func(courier.Actor) error {
			name := "Dispatcher Two"
			_, err := a.UpdateUser(ctx, admin, id, auth.UserInput{Name: &name})
			return err
		}, false},
		{"logout", func(actor courier.Actor) error { return a.Logout(ctx, actor) }, true},
		{"new password", func(courier.Actor) error {
			pw := "another-password-" + rand.Text()
			_, err := a.UpdateUser(ctx, admin, id, auth.UserInput{Password: &pw})
			return err
		}, true},
		{"deactivation", func(courier.Actor) error {
			off := false
			_, err := a.UpdateUser(ctx, admin, id, auth.UserInput{Active: &off})
			return err
		}, true},
	} {
		u, err := r.db.User(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		pair, err := a.Tokens().Issue(u, "fam")
		if err != nil {
			t.Fatal(err)
		}
		for name, users := range map[string]*auth.Users{"a": a, "b": b, "deaf": deaf} {
			if _, _, err := users.Authenticate(ctx, pair.Access); err != nil { // cached now
				t.Fatalf("%s: replica %s refuses a fresh token: %v", test.name, name, err)
			}
		}
		actor, _, _ := a.Authenticate(ctx, pair.Access)
		if err := test.revoke(actor); err != nil {
			t.Fatalf("%s: %v", test.name, err)
		}
		took, refused := refusedWithin(b, pair.Access, 2*time.Second)
		if refused != test.ends {
			t.Errorf("%s: the other replica refuses the token: %v (after %v), want %v", test.name, refused, took, test.ends)
		}
		if _, _, err := a.Authenticate(ctx, pair.Access); (err != nil) != test.ends {
			t.Errorf("%s: the replica that revoked: %v", test.name, err)
		}
		if test.ends {
			if _, _, err := deaf.Authenticate(ctx, pair.Access); err != nil {
				t.Errorf("%s: the replica without revocations refused before its cache expired: %v", test.name, err)
			}
			r.clock.Add(time.Minute + time.Second)
			if _, _, err := deaf.Authenticate(ctx, pair.Access); courier.ErrorCode(err) != courier.EUNAUTHORIZED {
				t.Errorf("%s: the replica without revocations, its cache expired: %v", test.name, err)
			}
		}
	}
}
