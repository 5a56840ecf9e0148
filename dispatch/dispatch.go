// Package dispatch holds the business rules of orders, couriers and depots:
// validation, the delivery tariff, the order lifecycle and who may touch what.
// Planning a day and the courier app's flows build on it.
package dispatch

import (
	"context"
	"time"

	"github.com/courierhq/courier"
)

// Config is the company's settings that the rules depend on.
type Config struct {
	Currency              string         // ISO 4217; every order's money is in it
	Location              *time.Location // the company time zone: delivery dates, shifts
	Tariff                Tariff
	DefaultServiceMinutes int
	MaxClockSkew          time.Duration // how far in the future a phone's event time may be
}

// ZoneLocator tells which delivery zone holds a point on a date (geo implements it).
type ZoneLocator interface {
	// ZoneAt returns the id of the zone holding p on date (YYYY-MM-DD), 0 when none.
	ZoneAt(ctx context.Context, p courier.LatLng, date string) (int64, error)
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
	zones  ZoneLocator
	hasher PasswordHasher
}

// New returns the dispatch service. zones may be nil until zones are configured.
func New(store courier.Store, clock courier.Clock, cfg Config, zones ZoneLocator, hasher PasswordHasher) *Service {
	if cfg.Location == nil {
		cfg.Location = time.UTC
	}
	if cfg.MaxClockSkew == 0 {
		cfg.MaxClockSkew = 2 * time.Minute
	}
	return &Service{store: store, clock: clock, cfg: cfg, zones: zones, hasher: hasher}
}

// SetZones installs the zone locator once geo is wired.
func (s *Service) SetZones(z ZoneLocator) { s.zones = z }

// Config returns the company settings.
func (s *Service) Config() Config { return s.cfg }

// staff are the roles that manage orders, couriers and depots.
var staff = []courier.Role{courier.RoleAdmin, courier.RoleDispatcher}
