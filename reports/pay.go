package reports

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/courierhq/courier"
)

// MaxRate bounds every amount of a pay rule (1,000,000.00 in a currency of
// two minor digits), so that rate × grams or rate × metres cannot overflow.
const MaxRate = int64(100_000_000)

var vehicleTypes = []string{courier.VehicleFoot, courier.VehicleBike, courier.VehicleCar, courier.VehicleVan, courier.VehicleTruck}

// PayRules lists every pay rule and the last paid-out day. Admins only.
// Returns EFORBIDDEN.
func (s *Service) PayRules(ctx context.Context, actor courier.Actor) ([]*courier.PayRule, string, error) {
	if err := actor.Require(courier.RoleAdmin); err != nil {
		return nil, "", err
	}
	rules, err := s.store.PayRules(ctx)
	if err != nil {
		return nil, "", err
	}
	periods, err := s.store.PayPeriods(ctx)
	if err != nil {
		return nil, "", err
	}
	return rules, paidThrough(periods), nil
}

func paidThrough(periods []*courier.PayPeriod) string {
	if n := len(periods); n > 0 {
		return periods[n-1].To
	}
	return ""
}

// AddPayRule adds a pay rule from its EffectiveFrom on: a courier's own
// (CourierID) or a vehicle type's. Rules are never edited: a later rule of
// the same scope takes over from its date, and one of the same scope and
// date replaces the earlier one from then on (both stay listed). A rule
// may not take effect on a day already paid out: the pay of a closed
// period never changes. Admins only. Returns EFORBIDDEN, EINVALID,
// ECONFLICT (the day is paid out).
func (s *Service) AddPayRule(ctx context.Context, actor courier.Actor, r courier.PayRule) (*courier.PayRule, error) {
	if err := actor.Require(courier.RoleAdmin); err != nil {
		return nil, err
	}
	r.VehicleType, r.Note = strings.TrimSpace(r.VehicleType), strings.TrimSpace(r.Note)
	switch {
	case r.CourierID == 0 && r.VehicleType == "":
		return nil, courier.FieldError("courier_id", "a rule is for a courier (courier_id) or a vehicle type (vehicle_type)")
	case r.CourierID != 0 && r.VehicleType != "":
		return nil, courier.FieldError("vehicle_type", "a rule is for a courier or a vehicle type, not both")
	case r.CourierID < 0:
		return nil, courier.FieldError("courier_id", "must be positive")
	case r.VehicleType != "" && !slices.Contains(vehicleTypes, r.VehicleType):
		return nil, courier.FieldError("vehicle_type", "must be one of %s", strings.Join(vehicleTypes, ", "))
	}
	if _, err := time.Parse(time.DateOnly, r.EffectiveFrom); err != nil {
		return nil, courier.FieldError("effective_from", "must be a date YYYY-MM-DD")
	}
	for _, a := range []struct {
		field string
		v     int64
	}{{"per_delivered", r.PerDelivered}, {"per_failed", r.PerFailed}, {"per_km", r.PerKm}, {"per_kg", r.PerKg},
		{"per_shift", r.PerShift}, {"min_per_shift", r.MinPerShift}} {
		if a.v < 0 {
			return nil, courier.FieldError(a.field, "must not be negative")
		}
		if a.v > MaxRate {
			return nil, courier.FieldError(a.field, "must be at most %d (minor units)", MaxRate)
		}
	}
	if len(r.Note) > 500 {
		return nil, courier.FieldError("note", "must be at most 500 bytes")
	}
	r.Currency, r.CreatedBy, r.ID = s.cfg.Currency, actor.UserID, 0
	err := s.store.AddPayRule(ctx, &r, func(paid string) error {
		if paid != "" && r.EffectiveFrom <= paid {
			next, _ := time.Parse(time.DateOnly, paid)
			return &courier.Error{Code: courier.ECONFLICT,
				Message: fmt.Sprintf("effective_from: the couriers are paid out through %s (a closed pay period); a rule may take effect from %s on",
					paid, next.AddDate(0, 0, 1).Format(time.DateOnly)),
				Details: map[string]any{"field": "effective_from", "paid_through": paid}}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &r, nil
}

// PayPeriods lists the closed pay periods. Admins only. Returns EFORBIDDEN.
func (s *Service) PayPeriods(ctx context.Context, actor courier.Actor) ([]*courier.PayPeriod, error) {
	if err := actor.Require(courier.RoleAdmin); err != nil {
		return nil, err
	}
	return s.store.PayPeriods(ctx)
}

// ClosePayPeriod records that the couriers were paid for the days p.From to
// p.To: from then on no pay rule may take effect on them. Periods follow
// each other: From is the day after the last period (it may be left empty
// then); the first period needs it. To must be a day that is over. Admins
// only. Returns EFORBIDDEN, EINVALID, ECONFLICT (a gap or an overlap with
// the periods closed before).
func (s *Service) ClosePayPeriod(ctx context.Context, actor courier.Actor, p courier.PayPeriod) (*courier.PayPeriod, error) {
	if err := actor.Require(courier.RoleAdmin); err != nil {
		return nil, err
	}
	p.Note = strings.TrimSpace(p.Note)
	if len(p.Note) > 500 {
		return nil, courier.FieldError("note", "must be at most 500 bytes")
	}
	to, err := time.Parse(time.DateOnly, p.To)
	if err != nil {
		return nil, courier.FieldError("to", "must be a date YYYY-MM-DD")
	}
	today := s.clock.Now().In(s.cfg.Location).Format(time.DateOnly)
	if p.To >= today {
		return nil, courier.FieldError("to", "%s is not over yet (today is %s): close a period of past days", p.To, today)
	}
	if p.From != "" {
		if _, err := time.Parse(time.DateOnly, p.From); err != nil {
			return nil, courier.FieldError("from", "must be a date YYYY-MM-DD")
		}
	}
	if err := s.checkFinished(ctx, p); err != nil {
		return nil, err
	}
	p.ClosedBy, p.ID = actor.UserID, 0
	err = s.store.ClosePayPeriod(ctx, &p, func(last *courier.PayPeriod) error {
		if last != nil {
			lastTo, _ := time.Parse(time.DateOnly, last.To)
			next := lastTo.AddDate(0, 0, 1).Format(time.DateOnly)
			if p.From == "" {
				p.From = next
			}
			if p.From != next {
				return &courier.Error{Code: courier.ECONFLICT,
					Message: fmt.Sprintf("from: pay periods follow each other; the last one ended on %s, so the next starts on %s", last.To, next),
					Details: map[string]any{"field": "from", "paid_through": last.To}}
			}
		} else if p.From == "" {
			return courier.FieldError("from", "is required for the first pay period")
		}
		from, _ := time.Parse(time.DateOnly, p.From)
		if to.Before(from) {
			return courier.FieldError("to", "%s is before from (%s)", p.To, p.From)
		}
		if n := dayCount(from, to); n > MaxDays {
			return courier.FieldError("to", "a pay period has at most %d days, not %d", MaxDays, n)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &p, nil
}

// checkFinished refuses to close p while one of its days is still being
// worked: a shift open, a route sheet active. The stops finished later
// would change the pay of a paid-out day. (Days of a closed period cannot
// get new work: a shift works today's or tomorrow's sheets, and a sheet of
// a paid-out day cannot be started.) Returns ECONFLICT.
func (s *Service) checkFinished(ctx context.Context, p courier.PayPeriod) error {
	from := p.From
	if from == "" {
		periods, err := s.store.PayPeriods(ctx)
		if err != nil {
			return err
		}
		last := paidThrough(periods)
		if last == "" {
			return nil // the store's check asks for from
		}
		t, _ := time.Parse(time.DateOnly, last)
		from = t.AddDate(0, 0, 1).Format(time.DateOnly)
	}
	a, err1 := time.Parse(time.DateOnly, from)
	b, err2 := time.Parse(time.DateOnly, p.To)
	if err1 != nil || err2 != nil || b.Before(a) || dayCount(a, b) > MaxDays {
		return nil // the store's check refuses it
	}
	f := courier.ReportFilter{From: from, To: p.To}
	sheets, err := s.store.SheetDays(ctx, f)
	if err != nil {
		return err
	}
	shifts, err := s.store.ShiftDays(ctx, f)
	if err != nil {
		return err
	}
	var what []string
	var sheetIDs, shiftIDs []int64
	for _, sh := range sheets {
		if sh.Status == courier.SheetActive {
			sheetIDs = append(sheetIDs, sh.SheetID)
			what = append(what, fmt.Sprintf("route sheet %s of %s is still active", courier.SheetNumber(sh.SheetID), sh.Date))
		}
	}
	for _, sh := range shifts {
		if sh.EndedAt == nil {
			shiftIDs = append(shiftIDs, sh.ShiftID)
			what = append(what, fmt.Sprintf("courier %d's shift of %s has not ended", sh.CourierID, sh.Date))
		}
	}
	if len(what) == 0 {
		return nil
	}
	const most = 5
	more := ""
	if len(what) > most {
		more = fmt.Sprintf(" (and %d more)", len(what)-most)
		what = what[:most]
	}
	return &courier.Error{Code: courier.ECONFLICT,
		Message: fmt.Sprintf("to: the days up to %s are still being worked, so their pay is not final: %s%s; close the period when they are finished",
			p.To, strings.Join(what, "; "), more),
		Details: map[string]any{"field": "to", "active_sheets": orEmpty(sheetIDs), "open_shifts": orEmpty(shiftIDs)}}
}

func orEmpty(ids []int64) []int64 {
	if ids == nil {
		return []int64{}
	}
	return ids
}

// payBook finds the rule in force for a courier on a day.
type payBook struct {
	byCourier map[int64][]*courier.PayRule
	byVehicle map[string][]*courier.PayRule
}

func newPayBook(rules []*courier.PayRule) *payBook {
	b := &payBook{byCourier: map[int64][]*courier.PayRule{}, byVehicle: map[string][]*courier.PayRule{}}
	for _, r := range rules {
		if r.CourierID != 0 {
			b.byCourier[r.CourierID] = append(b.byCourier[r.CourierID], r)
		} else {
			b.byVehicle[r.VehicleType] = append(b.byVehicle[r.VehicleType], r)
		}
	}
	return b
}

// latest is the rule of rules with the latest EffectiveFrom not after date;
// of rules of one date the later (higher id).
func latest(rules []*courier.PayRule, date string) *courier.PayRule {
	var best *courier.PayRule
	for _, r := range rules {
		if r.EffectiveFrom > date {
			continue
		}
		if best == nil || r.EffectiveFrom > best.EffectiveFrom || (r.EffectiveFrom == best.EffectiveFrom && r.ID > best.ID) {
			best = r
		}
	}
	return best
}

// rule is the rule in force for the courier on date, when driving vehicle; nil when none.
func (b *payBook) rule(courierID int64, vehicle, date string) *courier.PayRule {
	if r := latest(b.byCourier[courierID], date); r != nil {
		return r
	}
	return latest(b.byVehicle[vehicle], date)
}

// Pay is what a courier earns for a stop or a day, by component, in minor
// units; Total is their sum.
type Pay struct {
	Stop    int64 // per delivered or per failed stop
	Kg      int64 // per kg delivered
	Km      int64 // per km driven
	Shift   int64 // per shift
	Minimum int64 // the top-up to the minimum per shift
	Total   int64
}

func (p *Pay) sum() { p.Total = p.Stop + p.Kg + p.Km + p.Shift + p.Minimum }

// add adds q to p, component by component.
func (p *Pay) add(q Pay) {
	p.Stop += q.Stop
	p.Kg += q.Kg
	p.Km += q.Km
	p.Shift += q.Shift
	p.Minimum += q.Minimum
	p.Total += q.Total
}

// stopPay is what r pays for one attempt: per delivered stop and per kg
// delivered, or per failed stop (a stop handed back unvisited earns nothing).
func stopPay(r *courier.PayRule, a *courier.StopAttempt) Pay {
	var p Pay
	if r == nil {
		return p
	}
	switch {
	case a.Delivered():
		p.Stop, p.Kg = r.PerDelivered, perThousand(r.PerKg, a.WeightG())
	case a.FailReason != courier.FailHandedBack:
		p.Stop = r.PerFailed
	}
	p.sum()
	return p
}

// dayPay is what r pays for a day beside its stops (which earned stops):
// per km of distance, per shift, and the top-up to the minimum per shift.
func dayPay(r *courier.PayRule, distanceM int64, shifts int, stops Pay) Pay {
	var p Pay
	if r == nil {
		return p
	}
	p.Km = perThousand(r.PerKm, distanceM)
	p.Shift = r.PerShift * int64(shifts)
	if floor := r.MinPerShift * int64(shifts); floor > stops.Total+p.Km+p.Shift {
		p.Minimum = floor - (stops.Total + p.Km + p.Shift)
	}
	p.sum()
	return p
}
