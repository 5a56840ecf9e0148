// Package cashdesk holds the business rules of cash on delivery at the depot:
// what each courier owes (derived from the double-entry ledger, never kept as
// a lone number), the route sheet scan, settlement of the counted cash with
// shortages and surpluses booked as discrepancies, returned goods checked in
// by barcode, cashier shifts with their closing report, and the daily
// reconciliation of a depot.
//
// The ledger's accounts (see courier.Posting):
//
//	courier_cash:<courier>   debit when the courier takes cash at the door, credit when the desk accepts it
//	card_receivable          debit when a customer pays by card at the door
//	cod_revenue              credit for every payment taken at the door
//	cashdesk:<depot>         debit when the desk accepts cash
//	discrepancy:<courier>    debit for a shortage, credit for a surplus, until resolved
//	discrepancy_writeoff     where a resolved discrepancy goes when it is written off
//	courier_goods:<courier>  pieces of goods a courier has to bring back (unit PCS)
//	depot_goods:<depot>      the depot's side of goods out with couriers
package cashdesk

import (
	"context"
	"time"

	"github.com/courierhq/courier"
)

// Config is the company settings the cash desk depends on.
type Config struct {
	Currency string         // ISO 4217: the only currency the desk accepts
	Location *time.Location // the company time zone: the days of the reconciliation
}

// Service applies the cash desk's rules over the store.
type Service struct {
	store courier.Store
	clock courier.Clock
	cfg   Config
}

// New returns the cash desk service.
func New(store courier.Store, clock courier.Clock, cfg Config) *Service {
	if cfg.Location == nil {
		cfg.Location = time.UTC
	}
	return &Service{store: store, clock: clock, cfg: cfg}
}

// Config returns the settings.
func (s *Service) Config() Config { return s.cfg }

// Roles.
var (
	// desk may take money and goods in.
	desk = []courier.Role{courier.RoleAdmin, courier.RoleCashier}
	// office may read the desk's views.
	office = []courier.Role{courier.RoleAdmin, courier.RoleCashier, courier.RoleDispatcher}
)

// now returns the clock's time in UTC at the store's precision.
func (s *Service) now() time.Time { return s.clock.Now().UTC().Truncate(time.Microsecond) }

// scope is the Idempotency-Key scope of an actor: keys never collide across users.
func scope(a courier.Actor) string { return "user:" + itoa(a.UserID) }

// courierName returns a courier's name, or "" when it cannot be read.
func (s *Service) courierName(ctx context.Context, id int64) string {
	if id == 0 {
		return ""
	}
	c, err := s.store.Courier(ctx, id)
	if err != nil {
		return ""
	}
	return c.Name
}
