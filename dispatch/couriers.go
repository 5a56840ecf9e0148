package dispatch

import (
	"context"
	"slices"
	"strconv"
	"strings"

	"github.com/courierhq/courier"
)

// CourierInput is a courier's fields as sent by a client; nil fields are absent.
// Login and Password create the courier's phone-app login with the courier.
type CourierInput struct {
	Name     *string
	Phone    *string
	Login    *string
	Password *string
	Vehicle  *courier.Vehicle
	Shift    *courier.Shift
	DepotID  *int64
	ZoneIDs  *[]int64
	Active   *bool
	Version  *int64
}

// CreateCourier creates a courier and their login (role courier). Staff only.
// Returns EFORBIDDEN, EINVALID, ECONFLICT (login taken).
func (s *Service) CreateCourier(ctx context.Context, actor courier.Actor, in CourierInput) (*courier.Courier, error) {
	if err := actor.Require(staff...); err != nil {
		return nil, err
	}
	if in.Login == nil {
		return nil, courier.FieldError("login", "is required")
	}
	if in.Password == nil {
		return nil, courier.FieldError("password", "is required")
	}
	if in.Version != nil {
		return nil, courier.FieldError("version", "is only for updates")
	}
	c := &courier.Courier{Active: true, ZoneIDs: []int64{}, Vehicle: courier.Vehicle{Type: courier.VehicleCar}}
	if err := s.checkCourierRefs(ctx, in); err != nil {
		return nil, err
	}
	if err := applyCourier(c, in); err != nil {
		return nil, err
	}
	login := strings.TrimSpace(*in.Login)
	if err := courier.ValidateLogin("login", login); err != nil {
		return nil, err
	}
	hash, err := s.hasher.HashPassword("password", *in.Password)
	if err != nil {
		return nil, err
	}
	u := &courier.User{Login: login, Name: c.Name, Role: courier.RoleCourier, PasswordHash: hash, Active: true}
	if err := s.store.CreateCourier(ctx, c, u); err != nil {
		return nil, err
	}
	return c, nil
}

// checkCourierRefs checks that the depot and zones named in a courier exist,
// before any transaction. Returns EINVALID.
func (s *Service) checkCourierRefs(ctx context.Context, in CourierInput) error {
	if in.DepotID != nil {
		if _, err := s.store.Depot(ctx, *in.DepotID); courier.ErrorCode(err) == courier.ENOTFOUND {
			return courier.FieldError("depot_id", "depot %d does not exist", *in.DepotID)
		} else if err != nil {
			return err
		}
	}
	if in.ZoneIDs != nil {
		for i, z := range *in.ZoneIDs {
			if _, err := s.store.Zone(ctx, z); courier.ErrorCode(err) == courier.ENOTFOUND {
				return courier.FieldError("zone_ids["+strconv.Itoa(i)+"]", "zone %d does not exist", z)
			} else if err != nil {
				return err
			}
		}
	}
	return nil
}

func applyCourier(c *courier.Courier, in CourierInput) error {
	if in.Name != nil {
		c.Name = strings.TrimSpace(*in.Name)
	}
	if in.Phone != nil {
		c.Phone = strings.TrimSpace(*in.Phone)
	}
	set(&c.Vehicle, in.Vehicle)
	set(&c.Shift, in.Shift)
	set(&c.DepotID, in.DepotID)
	if in.ZoneIDs != nil {
		z := slices.Clone(*in.ZoneIDs)
		slices.Sort(z)
		c.ZoneIDs = slices.Compact(z)
	}
	set(&c.Active, in.Active)
	return c.Validate()
}

// UpdateCourier changes a courier. Staff only; Login and Password cannot change here
// (admins change logins under /users). Returns EFORBIDDEN, ENOTFOUND, EINVALID, ECONFLICT.
func (s *Service) UpdateCourier(ctx context.Context, actor courier.Actor, id int64, in CourierInput) (*courier.Courier, error) {
	if err := actor.Require(staff...); err != nil {
		return nil, err
	}
	if in.Login != nil || in.Password != nil {
		return nil, courier.FieldError("login", "the login and password are changed under /api/v1/users")
	}
	if err := s.checkCourierRefs(ctx, in); err != nil {
		return nil, err
	}
	return s.store.UpdateCourier(ctx, id, func(c *courier.Courier) error {
		if in.Version != nil && *in.Version != c.Version {
			return &courier.Error{Code: courier.ECONFLICT, Message: "the courier changed since you read it; reload and retry",
				Details: map[string]any{"version": c.Version}}
		}
		return applyCourier(c, in)
	})
}

// Courier returns a courier to staff and cashiers, or to the courier themselves;
// another courier is told it does not exist. Returns ENOTFOUND.
func (s *Service) Courier(ctx context.Context, actor courier.Actor, id int64) (*courier.Courier, error) {
	if actor.Role == courier.RoleCourier && actor.CourierID != id {
		return nil, courier.Errorf(courier.ENOTFOUND, "courier %d not found", id)
	}
	return s.store.Courier(ctx, id)
}

// ListCouriers lists couriers to staff and cashiers. Returns EFORBIDDEN for couriers.
func (s *Service) ListCouriers(ctx context.Context, actor courier.Actor, f courier.CourierFilter) ([]*courier.Courier, error) {
	if err := actor.Require(courier.RoleAdmin, courier.RoleDispatcher, courier.RoleCashier); err != nil {
		return nil, err
	}
	return s.store.ListCouriers(ctx, f)
}

// CreateDepot creates a depot. Staff only. Returns EFORBIDDEN, EINVALID.
func (s *Service) CreateDepot(ctx context.Context, actor courier.Actor, d *courier.Depot) error {
	if err := actor.Require(staff...); err != nil {
		return err
	}
	d.Name = strings.TrimSpace(d.Name)
	if err := d.Validate(); err != nil {
		return err
	}
	return s.store.CreateDepot(ctx, d)
}

// UpdateDepot changes a depot through fn. Staff only. Returns EFORBIDDEN, ENOTFOUND, EINVALID.
func (s *Service) UpdateDepot(ctx context.Context, actor courier.Actor, id int64, fn func(*courier.Depot) error) (*courier.Depot, error) {
	if err := actor.Require(staff...); err != nil {
		return nil, err
	}
	return s.store.UpdateDepot(ctx, id, func(d *courier.Depot) error {
		if err := fn(d); err != nil {
			return err
		}
		return d.Validate()
	})
}

// DeleteDepot removes an unused depot. Admins only. Returns EFORBIDDEN, ENOTFOUND, ECONFLICT.
func (s *Service) DeleteDepot(ctx context.Context, actor courier.Actor, id int64) error {
	if err := actor.Require(courier.RoleAdmin); err != nil {
		return err
	}
	return s.store.DeleteDepot(ctx, id)
}

// Depot returns a depot; every signed-in user may read depots. Returns ENOTFOUND.
func (s *Service) Depot(ctx context.Context, id int64) (*courier.Depot, error) {
	return s.store.Depot(ctx, id)
}

// ListDepots returns every depot.
func (s *Service) ListDepots(ctx context.Context) ([]*courier.Depot, error) {
	return s.store.ListDepots(ctx)
}
