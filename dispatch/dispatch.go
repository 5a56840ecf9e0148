// Package dispatch holds the business rules of orders, couriers and depots:
// validation, the delivery tariff, the order lifecycle and who may touch what.
// Planning a day and the courier app's flows build on it.
package dispatch

import (
	"context"
	"sync"
	"time"

	"github.com/courierhq/courier"
	"github.com/courierhq/courier/geo"
)

// Config is the company's settings that the rules depend on.
type Config struct {
	Currency              string         // ISO 4217; every order's money is in it
	Location              *time.Location // the company time zone: delivery dates, shifts
	Tariff                Tariff
	DefaultServiceMinutes int
	MaxClockSkew          time.Duration // how far in the future a phone's event time may be
}

// ZoneIndexer gives the current index of delivery zones (geo.Zones).
type ZoneIndexer interface {
	Index(ctx context.Context) (*geo.ZoneIndex, error)
}

// PasswordHasher turns a courier's initial password into a bcrypt hash.
type PasswordHasher interface {
	HashPassword(field, password string) (string, error)
}

// Service applies the rules over the store.
type Service struct {
	store  courier.Store
	clock  courier.Clock
	cfg    Config
	zones  ZoneIndexer
	hasher PasswordHasher
	travel geo.MatrixSource

	// Planning jobs run in the background under bg; Close cancels them.
	bg     context.Context
	stop   context.CancelFunc
	jobs   sync.WaitGroup
	solver SolverSettings
	slots  chan struct{} // one per running plan
	// owner names this process in the leases of the plan jobs it runs.
	owner string
}

// SolverSettings tune the optimizer runs of plans and edits.
type SolverSettings struct {
	Threads       int           // parallel searches per plan (default 1)
	EditTimeLimit time.Duration // re-optimizing sheets and inserting orders (default 3 s)
	// MaxIterations, when positive, stops every run after that many
	// iterations instead of at its time limit: deterministic runs for tests.
	MaxIterations int
	// MaxPlans is how many plans may run at once in this process (default 2);
	// more are refused with ETOOMANY rather than starving each other's CPU.
	MaxPlans int
	// PlanLease is how long a plan job's lease lasts unless its progress
	// renews it (every second): a replica that died loses its jobs this long
	// after its last renewal (default 15 s).
	PlanLease time.Duration
}

// New returns the dispatch service. zones may be nil until zones are configured.
func New(store courier.Store, clock courier.Clock, cfg Config, zones ZoneIndexer, hasher PasswordHasher) *Service {
	if cfg.Location == nil {
		cfg.Location = time.UTC
	}
	if cfg.MaxClockSkew == 0 {
		cfg.MaxClockSkew = 2 * time.Minute
	}
	bg, stop := context.WithCancel(context.Background())
	return &Service{store: store, clock: clock, cfg: cfg, zones: zones, hasher: hasher,
		travel: geo.DefaultTravelModel(cfg.Location), bg: bg, stop: stop,
		solver: SolverSettings{Threads: 1, EditTimeLimit: 3 * time.Second, MaxPlans: 2, PlanLease: defaultPlanLease}, slots: make(chan struct{}, 2),
		owner: leaseOwner()}
}

// SetTravel replaces the travel model that builds routing matrices (OSRM, say).
func (s *Service) SetTravel(m geo.MatrixSource) { s.travel = m }

// SetSolver replaces the optimizer settings.
func (s *Service) SetSolver(st SolverSettings) {
	if st.Threads <= 0 {
		st.Threads = 1
	}
	if st.EditTimeLimit <= 0 {
		st.EditTimeLimit = 3 * time.Second
	}
	if st.MaxPlans <= 0 {
		st.MaxPlans = 2
	}
	if st.PlanLease <= 0 {
		st.PlanLease = defaultPlanLease
	}
	s.solver = st
	s.slots = make(chan struct{}, st.MaxPlans)
}

// Close stops the planning jobs running in this process and waits for them;
// their plans are marked failed so that a dispatcher can plan again.
func (s *Service) Close() {
	s.stop()
	s.jobs.Wait()
}

// SetZones installs the zone locator once geo is wired.
func (s *Service) SetZones(z ZoneIndexer) { s.zones = z }

// Config returns the company settings.
func (s *Service) Config() Config { return s.cfg }

// staff are the roles that manage orders, couriers and depots.
var staff = []courier.Role{courier.RoleAdmin, courier.RoleDispatcher}

// set copies *src into *dst when the field was sent (src not nil).
func set[T any](dst *T, src *T) {
	if src != nil {
		*dst = *src
	}
}
