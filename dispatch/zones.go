package dispatch

import (
	"context"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/courierhq/courier"
	"github.com/courierhq/courier/geo"
)

// ZoneInput is a zone as a dispatcher sends it; nil fields are absent.
type ZoneInput struct {
	Name       *string
	Color      *string
	Kind       *courier.ZoneKind
	Geometry   []byte
	ValidFrom  *string
	ValidTo    *string
	Weekdays   *[]int
	HoursFrom  *string
	HoursTo    *string
	CourierIDs *[]int64
	BaseFee    *int64 // negative: back to the company default
	Version    *int64
}

var colorRE = regexp.MustCompile(`^#[0-9a-fA-F]{6}$`)

// CreateZone validates and stores a zone. Staff only. Returns EFORBIDDEN, EINVALID.
func (s *Service) CreateZone(ctx context.Context, actor courier.Actor, in ZoneInput) (*courier.Zone, error) {
	if err := actor.Require(staff...); err != nil {
		return nil, err
	}
	if in.Geometry == nil {
		return nil, courier.FieldError("geometry", "is required")
	}
	if in.Version != nil {
		return nil, courier.FieldError("version", "is only for updates")
	}
	z := &courier.Zone{Kind: courier.ZonePermanent, Color: "#3388ff", CourierIDs: []int64{}, Weekdays: []int{}}
	if err := s.checkZoneCouriers(ctx, in); err != nil {
		return nil, err
	}
	if err := s.applyZone(z, in); err != nil {
		return nil, err
	}
	if err := s.store.CreateZone(ctx, z); err != nil {
		return nil, err
	}
	return z, nil
}

// checkZoneCouriers checks that the couriers named in a zone exist. Returns EINVALID.
func (s *Service) checkZoneCouriers(ctx context.Context, in ZoneInput) error {
	if in.CourierIDs == nil {
		return nil
	}
	for i, id := range *in.CourierIDs {
		if _, err := s.store.Courier(ctx, id); courier.ErrorCode(err) == courier.ENOTFOUND {
			return courier.FieldError("courier_ids["+strconv.Itoa(i)+"]", "courier %d does not exist", id)
		} else if err != nil {
			return err
		}
	}
	return nil
}

func (s *Service) applyZone(z *courier.Zone, in ZoneInput) error {
	if in.Name != nil {
		z.Name = strings.TrimSpace(*in.Name)
	}
	set(&z.Color, in.Color)
	set(&z.Kind, in.Kind)
	if in.Geometry != nil {
		if _, err := geo.ParseZoneGeometry(in.Geometry); err != nil {
			return err
		}
		z.Geometry = in.Geometry
	}
	set(&z.ValidFrom, in.ValidFrom)
	set(&z.ValidTo, in.ValidTo)
	set(&z.HoursFrom, in.HoursFrom)
	set(&z.HoursTo, in.HoursTo)
	if in.Weekdays != nil {
		w := slices.Clone(*in.Weekdays)
		slices.Sort(w)
		z.Weekdays = slices.Compact(w)
	}
	if in.CourierIDs != nil {
		c := slices.Clone(*in.CourierIDs)
		slices.Sort(c)
		z.CourierIDs = slices.Compact(c)
	}
	if in.BaseFee != nil {
		if *in.BaseFee < 0 {
			z.BaseFee = nil
		} else {
			fee := *in.BaseFee
			z.BaseFee = &fee
		}
	}
	return validateZone(z)
}

func validateZone(z *courier.Zone) error {
	if z.Name == "" || len(z.Name) > 100 {
		return courier.FieldError("name", "is required, at most 100 characters")
	}
	if !colorRE.MatchString(z.Color) {
		return courier.FieldError("color", "must be #RRGGBB")
	}
	switch z.Kind {
	case courier.ZonePermanent:
		if z.ValidFrom != "" || z.ValidTo != "" || len(z.Weekdays) > 0 || z.HoursFrom != "" || z.HoursTo != "" {
			return courier.FieldError("kind", "dates, weekdays and hours are only for dynamic zones")
		}
	case courier.ZoneDynamic:
		for _, d := range []struct{ field, v string }{{"valid_from", z.ValidFrom}, {"valid_to", z.ValidTo}} {
			if d.v == "" {
				continue
			}
			if _, err := time.Parse(time.DateOnly, d.v); err != nil {
				return courier.FieldError(d.field, "must be a date YYYY-MM-DD")
			}
		}
		if z.ValidFrom != "" && z.ValidTo != "" && z.ValidTo < z.ValidFrom {
			return courier.FieldError("valid_to", "must not be before valid_from")
		}
		for _, w := range z.Weekdays {
			if w < 1 || w > 7 {
				return courier.FieldError("weekdays", "are ISO weekdays 1 (Monday) to 7 (Sunday)")
			}
		}
		if (z.HoursFrom == "") != (z.HoursTo == "") {
			return courier.FieldError("hours", "from and to go together")
		}
		if z.HoursFrom != "" {
			f, err := courier.ParseClock("hours.from", z.HoursFrom)
			if err != nil {
				return err
			}
			t, err := courier.ParseClock("hours.to", z.HoursTo)
			if err != nil {
				return err
			}
			if f == t {
				return courier.FieldError("hours", "from and to must differ")
			}
		}
	default:
		return courier.FieldError("kind", "must be permanent or dynamic")
	}
	if z.BaseFee != nil && (*z.BaseFee < 0 || *z.BaseFee > courier.MaxAmount) {
		return courier.FieldError("tariff.base_fee", "must be within [0, %d] (minor units)", courier.MaxAmount)
	}
	return nil
}

// UpdateZone changes a zone. Staff only. Returns EFORBIDDEN, ENOTFOUND, EINVALID, ECONFLICT (stale version).
func (s *Service) UpdateZone(ctx context.Context, actor courier.Actor, id int64, in ZoneInput) (*courier.Zone, error) {
	if err := actor.Require(staff...); err != nil {
		return nil, err
	}
	if err := s.checkZoneCouriers(ctx, in); err != nil {
		return nil, err
	}
	return s.store.UpdateZone(ctx, id, func(z *courier.Zone) error {
		if in.Version != nil && *in.Version != z.Version {
			return &courier.Error{Code: courier.ECONFLICT, Message: "the zone changed since you read it; reload and retry",
				Details: map[string]any{"version": z.Version}}
		}
		return s.applyZone(z, in)
	})
}

// DeleteZone removes a zone no courier is bound to. Staff only.
// Returns EFORBIDDEN, ENOTFOUND, ECONFLICT naming the couriers that serve it.
func (s *Service) DeleteZone(ctx context.Context, actor courier.Actor, id int64) error {
	if err := actor.Require(staff...); err != nil {
		return err
	}
	cs, err := s.store.ListCouriers(ctx, courier.CourierFilter{})
	if err != nil {
		return err
	}
	var bound []int64
	for _, c := range cs {
		if slices.Contains(c.ZoneIDs, id) {
			bound = append(bound, c.ID)
		}
	}
	if len(bound) > 0 {
		return &courier.Error{Code: courier.ECONFLICT, Message: "couriers are bound to this zone; remove it from them first",
			Details: map[string]any{"courier_ids": bound}}
	}
	return s.store.DeleteZone(ctx, id)
}

// Zone returns a zone to any signed-in user. Returns ENOTFOUND.
func (s *Service) Zone(ctx context.Context, id int64) (*courier.Zone, error) {
	return s.store.Zone(ctx, id)
}

// ListZones returns every zone.
func (s *Service) ListZones(ctx context.Context) ([]*courier.Zone, error) {
	return s.store.ListZones(ctx)
}

// LookupZones returns the zones holding p that apply at t (every zone holding p when t is zero).
func (s *Service) LookupZones(ctx context.Context, p courier.LatLng, t time.Time) ([]*courier.Zone, error) {
	if err := p.Validate("location"); err != nil {
		return nil, err
	}
	if s.zones == nil {
		return []*courier.Zone{}, nil
	}
	ix, err := s.zones.Index(ctx)
	if err != nil {
		return nil, err
	}
	all, err := ix.Lookup(p)
	if err != nil {
		return nil, err
	}
	out := []*courier.Zone{}
	for _, z := range all {
		if t.IsZero() || z.ActiveAt(t, s.cfg.Location) {
			out = append(out, z)
		}
	}
	return out, nil
}

// RezoneResult counts what RezoneOrders did.
type RezoneResult struct {
	Checked int
	Changed int
}

// RezoneOrders gives every open order (not yet out for delivery) the zone it
// belongs to now, recomputing tariff fees, in one call after zones change.
// Staff only. Returns EFORBIDDEN.
func (s *Service) RezoneOrders(ctx context.Context, actor courier.Actor) (RezoneResult, error) {
	var res RezoneResult
	if err := actor.Require(staff...); err != nil {
		return res, err
	}
	pl, err := s.orderContext(ctx)
	if err != nil || pl.zones == nil {
		return res, err
	}
	ix := pl.zones
	f := courier.OrderFilter{Limit: 500}
	for {
		page, err := s.store.ListOrders(ctx, f)
		if err != nil {
			return res, err
		}
		for _, o := range page {
			if !o.Status.Editable() {
				continue
			}
			res.Checked++
			z, err := ix.ZoneAt(o.Location, o.DeliveryDate)
			if err != nil {
				return res, err
			}
			if zoneID(z) == o.ZoneID {
				continue
			}
			changed := false
			_, err = s.store.UpdateOrder(ctx, o.ID, func(o *courier.Order) ([]courier.OrderEvent, error) {
				if !o.Status.Editable() || zoneID(z) == o.ZoneID {
					return nil, errUnchanged
				}
				if err := s.placeOrder(o, z, pl); err != nil {
					return nil, err
				}
				changed = true
				return []courier.OrderEvent{{Kind: courier.EventUpdated, FromStatus: o.Status, ToStatus: o.Status,
					ActorID: actor.UserID, ActorRole: actor.Role, At: s.clock.Now(), Reason: "rezoned"}}, nil
			})
			if err != nil && err != errUnchanged {
				return res, err
			}
			if changed {
				res.Changed++
			}
		}
		if len(page) < f.Limit {
			return res, nil
		}
		f.After = page[len(page)-1].ID
	}
}

var errUnchanged = courier.Errorf(courier.ECONFLICT, "unchanged")

func zoneID(z *courier.Zone) int64 {
	if z == nil {
		return 0
	}
	return z.ID
}
