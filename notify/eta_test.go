package notify_test

import (
	"context"
	"crypto/rand"
	"errors"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/courierhq/courier"
	"github.com/courierhq/courier/geo"
	"github.com/courierhq/courier/internal/testsvc"
	"github.com/courierhq/courier/notify"
	"github.com/courierhq/courier/throttle"
	"github.com/redis/go-redis/v9"
)

// countingStore counts the order lists tracking reads.
type countingStore struct {
	courier.Store
	lists atomic.Int64
}

func (s *countingStore) ListOrders(ctx context.Context, f courier.OrderFilter) ([]*courier.Order, error) {
	s.lists.Add(1)
	return s.Store.ListOrders(ctx, f)
}

// matrixOnly is a travel model that answers whole matrices only, as OSRM
// does, and records how many points each one had.
type matrixOnly struct {
	model geo.MatrixSource
	mu    sync.Mutex
	sizes []int
}

func (m *matrixOnly) Matrix(ctx context.Context, points []courier.LatLng, profile string, depart time.Time) (*geo.Matrix, error) {
	m.mu.Lock()
	m.sizes = append(m.sizes, len(points))
	m.mu.Unlock()
	return m.model.Matrix(ctx, points, profile, depart)
}

// TestTrackingCost: the tracking page of an active sheet computes the legs
// it needs (one per remaining stop, never the whole matrix) once per sheet
// per ETACache, however many customers poll it, and gives the same ETAs as
// the whole matrix did.
func TestTrackingCost(t *testing.T) {
	backends(t, func(t *testing.T, e *env) {
		var orders []*courier.Order
		for i, loc := range []courier.LatLng{{Lat: 55.742, Lng: 37.620}, {Lat: 55.760, Lng: 37.600}, {Lat: 55.780, Lng: 37.640}, {Lat: 55.800, Lng: 37.660}} {
			orders = append(orders, e.order(string(rune('A'+i))+"-COST", loc))
		}
		e.activeSheet(orders...)
		e.pos.set(e.courier.ID, courier.LatLng{Lat: 55.7296, Lng: 37.6453}, e.clock.Now())
		cs := &countingStore{Store: e.db}
		travel := &matrixOnly{model: geo.DefaultTravelModel(msk)}
		svc := notify.New(cs, e.clock, e.svc.Config(), quiet())
		svc.SetPositions(e.pos)
		svc.SetTravel(travel)
		staff := courier.Actor{UserID: 1, Role: courier.RoleDispatcher}
		var tokens []string
		for _, o := range orders {
			tok, _, err := svc.TrackingLink(ctxT(t), staff, o.ID)
			must(t, err)
			tokens = append(tokens, tok)
		}

		// Every customer polls a few times, some at once.
		views := make([]*notify.TrackView, len(orders))
		var (
			polls sync.WaitGroup
			mu    sync.Mutex
		)
		for i, tok := range tokens {
			for range 3 {
				polls.Go(func() {
					v, err := svc.Track(ctxT(t), tok)
					if err != nil {
						t.Error(err)
						return
					}
					mu.Lock()
					views[i] = v
					mu.Unlock()
				})
			}
		}
		polls.Wait()
		travel.mu.Lock()
		sizes := slices.Clone(travel.sizes)
		travel.mu.Unlock()
		if n := cs.lists.Load(); n != 1 || !slices.Equal(sizes, []int{2, 2, 2, 2}) {
			t.Errorf("12 polls listed orders %d times and asked matrices of %v points; want once and [2 2 2 2] (one leg per stop)", n, sizes)
		}
		// The same ETAs as the haversine model's single legs (e.svc).
		for i, tok := range tokens {
			want, err := e.svc.Track(ctxT(t), tok)
			must(t, err)
			if v := views[i]; v == nil || !v.ETA.Equal(want.ETA) || v.StopsAhead != i || want.StopsAhead != i {
				t.Errorf("stop %d: %+v, want ETA %s", i, v, want.ETA)
			}
		}

		// After ETACache the plan is made again.
		e.clock.Add(e.svc.Config().ETACache + time.Second)
		_, err := svc.Track(ctxT(t), tokens[2])
		must(t, err)
		if n := cs.lists.Load(); n != 2 {
			t.Errorf("after ETACache: listed orders %d times, want 2", n)
		}
	})
}

// The Redis throttle is the counter replicas share.
var _ notify.HitCounter = (*throttle.Redis)(nil)

// TestTrackingLimit: a tracking link may be asked TrackLimit times per
// TrackWindow; more answer ETOOMANY with the wait. Each link counts on its
// own, and replicas sharing a counter (Redis) share the limit.
func TestTrackingLimit(t *testing.T) {
	e := newEnv(t, t.TempDir()+"/limit.db")
	cfg := e.svc.Config()
	cfg.TrackLimit = 3
	svc := notify.New(e.db, e.clock, cfg, quiet())
	staff := courier.Actor{UserID: 1, Role: courier.RoleDispatcher}
	link := func(ext string) string {
		tok, _, err := svc.TrackingLink(ctxT(t), staff, e.order(ext, courier.LatLng{Lat: 55.75, Lng: 37.61}).ID)
		must(t, err)
		return tok
	}
	one, two := link("LIM-1"), link("LIM-2")
	tooMany := func(svc *notify.Service, tok string) {
		t.Helper()
		_, err := svc.Track(ctxT(t), tok)
		var de *courier.Error
		if !errors.As(err, &de) || de.Code != courier.ETOOMANY || de.Details["retry_after_s"] != 60 {
			t.Errorf("over the limit: %v", err)
		}
	}
	for range 3 {
		_, err := svc.Track(ctxT(t), one)
		must(t, err)
	}
	tooMany(svc, one)
	_, err := svc.Track(ctxT(t), two)
	must(t, err)
	e.clock.Add(time.Minute)
	_, err = svc.Track(ctxT(t), one)
	must(t, err)

	opt, err := redis.ParseURL(testsvc.RedisURL(t))
	must(t, err)
	rdb := redis.NewClient(opt)
	defer rdb.Close()
	shared := throttle.New(rdb, "test:"+strings.ToLower(rand.Text())+":")
	a, b := notify.New(e.db, e.clock, cfg, quiet()), notify.New(e.db, e.clock, cfg, quiet())
	a.SetTrackCounter(shared)
	b.SetTrackCounter(shared)
	for _, s := range []*notify.Service{a, b, a} {
		_, err := s.Track(ctxT(t), two)
		must(t, err)
	}
	tooMany(b, two)
}
