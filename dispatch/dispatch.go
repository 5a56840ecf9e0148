// Package dispatch holds the business rules of orders, couriers and depots:
// validation, the delivery tariff, the order lifecycle and who may touch what.
// Planning a day and the courier app's flows build on it.
package dispatch

import (
	"context"
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
}

// New returns the dispatch service. zones may be nil until zones are configured.
func New(store courier.Store, clock courier.Clock, cfg Config, zones ZoneIndexer, hasher PasswordHasher) *Service {
	if cfg.Location == nil {
		cfg.Location = time.UTC
	}
	if cfg.MaxClockSkew == 0 {
		cfg.MaxClockSkew = 2 * time.Minute
	}
	return &Service{store: store, clock: clock, cfg: cfg, zones: zones, hasher: hasher}
}

// SetZones installs the zone locator once geo is wired.
func (s *Service) SetZones(z ZoneIndexer) { s.zones = z }

// Config returns the company settings.
func (s *Service) Config() Config { return s.cfg }

// staff are the roles that manage orders, couriers and depots.
var staff = []courier.Role{courier.RoleAdmin, courier.RoleDispatcher}
