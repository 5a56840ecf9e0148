package dispatch

import (
	"context"
	"fmt"
	"math"
	"slices"
	"strconv"
	"time"

	"github.com/courierhq/courier"
)

// Tariff is the company's price list of deliveries (see courier.Tariff):
//
//	fee = base (the tariff's fee of the order's zone, else the zone's own
//	           base fee, else BaseFee)
//	    + PerKg for each started kg above FreeKg
//	    + PerKm for each started km of straight-line distance from the depot
//	    + the surcharge of the narrow-window rule the window's length falls in
//
// and 0 when the order is worth at least FreeAbove (> 0): the largest of its
// cash-on-delivery amount and the price of its goods. A dispatcher may
// override the fee per order. Admins change the tariff through SetTariff;
// each change is a version, and an order is priced by the version in force
// when it was created, also when it is edited later.
type Tariff = courier.Tariff

// DefaultTariff is version 0, in force until an admin sets a tariff: 199.00
// base, 20.00 per kg above 5 kg, 15.00 per km, free from 5000.00.
var DefaultTariff = Tariff{BaseFee: 19900, PerKg: 2000, FreeKg: 5, PerKm: 1500, FreeAbove: 500000}

// FeeInput is what of an order its delivery fee depends on.
type FeeInput struct {
	Zone     *courier.Zone // nil: no zone
	WeightKg float64
	DistM    float64 // straight-line distance from the depot
	Value    int64   // what the order is worth, minor units
	Window   *courier.TimeWindow
}

// Quote prices a delivery by t: the components sum to the fee.
func Quote(t *Tariff, in FeeInput) *courier.FeeQuote {
	q := &courier.FeeQuote{TariffVersion: t.Version}
	add := func(rule string, amount int64, detail string) {
		q.Components = append(q.Components, courier.FeeComponent{Rule: rule, Amount: amount, Detail: detail})
	}
	base, detail := t.BaseFee, "the default base fee"
	if z := in.Zone; z != nil {
		if i := slices.IndexFunc(t.ZoneFees, func(f courier.ZoneFee) bool { return f.ZoneID == z.ID }); i >= 0 {
			base, detail = t.ZoneFees[i].BaseFee, fmt.Sprintf("the tariff's base fee of zone %d", z.ID)
		} else if z.BaseFee != nil {
			base, detail = *z.BaseFee, fmt.Sprintf("the base fee of zone %d", z.ID)
		}
	}
	add(courier.FeeBase, base, detail)
	if over := in.WeightKg - t.FreeKg; over > 0 && t.PerKg > 0 {
		kg := int64(math.Ceil(over - 1e-9))
		add(courier.FeeWeight, t.PerKg*kg, fmt.Sprintf("%d started kg above %s kg", kg, strconv.FormatFloat(t.FreeKg, 'f', -1, 64)))
	}
	if in.DistM > 0 && t.PerKm > 0 {
		km := int64(math.Ceil(in.DistM/1000 - 1e-9))
		add(courier.FeeDistance, t.PerKm*km, fmt.Sprintf("%d started km from the depot", km))
	}
	if w := in.Window; w != nil {
		minutes := int(math.Ceil(w.To.Sub(w.From).Minutes() - 1e-9))
		for _, r := range t.NarrowWindows {
			if minutes > r.FromMinutes && minutes <= r.ToMinutes {
				add(courier.FeeWindow, r.Surcharge, fmt.Sprintf("a %d-minute window (over %d, up to %d minutes)", minutes, r.FromMinutes, r.ToMinutes))
				break
			}
		}
	}
	if t.FreeAbove > 0 && in.Value >= t.FreeAbove {
		add(courier.FeeFreeAbove, -q.Total(), fmt.Sprintf("the order is worth %d, at least %d", in.Value, t.FreeAbove))
	}
	return q
}

// orderValue is what an order is worth for the free-delivery rule: the
// largest of its cash-on-delivery amount and the price of its goods.
func orderValue(o *courier.Order) int64 {
	var goods int64
	for _, it := range o.Items {
		goods += it.Price * int64(it.Qty)
	}
	return max(o.COD.Amount, goods)
}

// tariffs are the tariff versions, read before a transaction.
type tariffs struct {
	builtIn  *Tariff
	versions []*Tariff // by version
}

func (s *Service) tariffs(ctx context.Context) (*tariffs, error) {
	vs, err := s.store.Tariffs(ctx)
	if err != nil {
		return nil, err
	}
	builtIn := s.cfg.Tariff
	builtIn.Version = 0
	return &tariffs{builtIn: &builtIn, versions: vs}, nil
}

// current is the version in force now.
func (ts *tariffs) current() *Tariff {
	if n := len(ts.versions); n > 0 {
		return ts.versions[n-1]
	}
	return ts.builtIn
}

// version returns version v (0 is the built-in tariff), nil when there is none.
func (ts *tariffs) version(v int64) *Tariff {
	if v == 0 {
		return ts.builtIn
	}
	i := slices.IndexFunc(ts.versions, func(t *Tariff) bool { return t.Version == v })
	if i < 0 {
		return nil
	}
	return ts.versions[i]
}

// forOrder is the version that prices o: the one it was priced by, else the
// one in force when it was created (the current one for a new order).
func (ts *tariffs) forOrder(o *courier.Order) *Tariff {
	if o.FeeQuote != nil {
		if t := ts.version(o.FeeQuote.TariffVersion); t != nil {
			return t
		}
	}
	if o.CreatedAt.IsZero() {
		return ts.current()
	}
	t := ts.builtIn
	for _, v := range ts.versions {
		if !v.CreatedAt.After(o.CreatedAt) {
			t = v
		}
	}
	return t
}

// Tariff returns a tariff version to staff: the one in force now when
// version is nil, 0 for the built-in one. Returns EFORBIDDEN, ENOTFOUND.
func (s *Service) Tariff(ctx context.Context, actor courier.Actor, version *int64) (*Tariff, error) {
	if err := actor.Require(staff...); err != nil {
		return nil, err
	}
	ts, err := s.tariffs(ctx)
	if err != nil {
		return nil, err
	}
	if version == nil {
		return ts.current(), nil
	}
	t := ts.version(*version)
	if t == nil {
		return nil, &courier.Error{Code: courier.ENOTFOUND, Message: fmt.Sprintf("tariff version %d not found", *version),
			Details: map[string]any{"latest": ts.current().Version}}
	}
	return t, nil
}

// SetTariff makes t the tariff from now on, as a new version: orders
// created from now are priced by it; orders created before keep their
// version. basedOn, when given, is the version the admin changed: a
// mismatch with the latest is ECONFLICT. Admins only. Returns EFORBIDDEN,
// EINVALID (a negative fee, an unknown zone, overlapping rules), ECONFLICT.
func (s *Service) SetTariff(ctx context.Context, actor courier.Actor, t Tariff, basedOn *int64) (*Tariff, error) {
	if err := actor.Require(courier.RoleAdmin); err != nil {
		return nil, err
	}
	zones, err := s.store.ListZones(ctx)
	if err != nil {
		return nil, err
	}
	if err := validateTariff(&t, zones); err != nil {
		return nil, err
	}
	ts, err := s.tariffs(ctx)
	if err != nil {
		return nil, err
	}
	latest := ts.current().Version
	if basedOn != nil && *basedOn != latest {
		return nil, &courier.Error{Code: courier.ECONFLICT, Message: fmt.Sprintf("the tariff changed: version %d is the latest, not %d; reload and retry", latest, *basedOn),
			Details: map[string]any{"version": latest}}
	}
	t.CreatedBy = actor.UserID
	if err := s.store.AddTariff(ctx, &t, latest); err != nil {
		return nil, err
	}
	return &t, nil
}

// validateTariff checks amounts and that no two rules cover the same case:
// two fees for one zone, or narrow-window rules whose ranges meet.
func validateTariff(t *Tariff, zones []*courier.Zone) error {
	fee := func(field string, v int64) error {
		if v < 0 {
			return courier.FieldError(field, "must not be negative")
		}
		if v > courier.MaxAmount {
			return courier.FieldError(field, "must be at most %d (minor units)", courier.MaxAmount)
		}
		return nil
	}
	for _, f := range []struct {
		field string
		v     int64
	}{{"base_fee", t.BaseFee}, {"weight.per_kg", t.PerKg}, {"distance.per_km", t.PerKm}, {"free_above", t.FreeAbove}} {
		if err := fee(f.field, f.v); err != nil {
			return err
		}
	}
	if math.IsNaN(t.FreeKg) || t.FreeKg < 0 || t.FreeKg > 20000 {
		return courier.FieldError("weight.free_kg", "must be within [0, 20000]")
	}
	for i, z := range t.ZoneFees {
		field := "zones[" + strconv.Itoa(i) + "]"
		if err := fee(field+".base_fee", z.BaseFee); err != nil {
			return err
		}
		if !slices.ContainsFunc(zones, func(x *courier.Zone) bool { return x.ID == z.ZoneID }) {
			return courier.FieldError(field+".zone_id", "zone %d does not exist", z.ZoneID)
		}
		if j := slices.IndexFunc(t.ZoneFees[:i], func(x courier.ZoneFee) bool { return x.ZoneID == z.ZoneID }); j >= 0 {
			return &courier.Error{Code: courier.EINVALID, Message: fmt.Sprintf("%s: overlaps zones[%d]: zone %d has two base fees", field, j, z.ZoneID),
				Details: map[string]any{"field": field, "overlaps": fmt.Sprintf("zones[%d]", j)}}
		}
	}
	for i, w := range t.NarrowWindows {
		field := "narrow_windows[" + strconv.Itoa(i) + "]"
		if err := fee(field+".surcharge", w.Surcharge); err != nil {
			return err
		}
		if w.FromMinutes < 0 || w.ToMinutes <= w.FromMinutes || w.ToMinutes > 24*60 {
			return courier.FieldError(field, "needs 0 <= from_minutes < to_minutes <= 1440")
		}
		for j, o := range t.NarrowWindows[:i] {
			if w.FromMinutes < o.ToMinutes && o.FromMinutes < w.ToMinutes {
				return &courier.Error{Code: courier.EINVALID,
					Message: fmt.Sprintf("%s: overlaps narrow_windows[%d]: windows over %d and up to %d minutes would match both", field, j,
						max(w.FromMinutes, o.FromMinutes), min(w.ToMinutes, o.ToMinutes)),
					Details: map[string]any{"field": field, "overlaps": fmt.Sprintf("narrow_windows[%d]", j)}}
			}
		}
	}
	slices.SortFunc(t.NarrowWindows, func(a, b courier.WindowSurcharge) int { return a.FromMinutes - b.FromMinutes })
	return nil
}

// attemptOf is the stop attempt that changing o from out for delivery to
// o.Status finishes. before is the order as it was (its courier and sheet),
// sh the sheet (nil when none), reason why it failed. nil when the order has
// no courier (nobody made the attempt).
func (s *Service) attemptOf(before, o *courier.Order, sh *courier.RouteSheet, at time.Time, reason string) *courier.StopAttempt {
	if before.CourierID == 0 {
		return nil
	}
	a := &courier.StopAttempt{OrderID: o.ID, ExternalID: o.ExternalID, CourierID: before.CourierID, SheetID: before.RouteSheetID,
		DepotID: o.DepotID, ZoneID: o.ZoneID, Date: at.In(s.cfg.Location).Format(time.DateOnly), Outcome: o.Status, FinishedAt: at,
		Window: o.TimeWindow, WeightKg: o.WeightKg, Currency: o.COD.Currency, PaidBy: before.COD.Method, Fee: o.DeliveryFee, Quote: o.FeeQuote}
	if sh != nil {
		a.Date = sh.Date
	}
	if o.FeeOverridden {
		a.Quote = &courier.FeeQuote{Components: []courier.FeeComponent{{Rule: courier.FeeOverride, Amount: o.DeliveryFee, Detail: "set by a dispatcher"}}}
	}
	switch r := o.Report; {
	case o.Status != courier.StatusDelivered:
		a.FailReason = reason
	case r != nil && r.FinishedAt != nil && r.FinishedAt.Equal(at):
		// Reported at the door.
		a.RefusedPieces, a.AmountDue, a.Collected, a.CollectedBy = courier.RefusedPieces(r), r.AmountDue, r.Collected, r.CollectedBy
	case o.COD.Method != courier.PayPrepaid:
		// Marked delivered by staff: the whole amount, as the ledger books it.
		a.AmountDue, a.Collected, a.CollectedBy = o.COD.Amount, o.COD.Amount, o.COD.Method
		if o.COD.Amount == 0 {
			a.CollectedBy = ""
		}
	}
	return a
}
