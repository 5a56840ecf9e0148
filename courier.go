package courier

import (
	"context"
	"time"
)

// Vehicle types, which pick the speed profile of the travel model.
const (
	VehicleFoot  = "foot"
	VehicleBike  = "bike"
	VehicleCar   = "car"
	VehicleVan   = "van"
	VehicleTruck = "truck"
)

// Vehicle is what a courier drives. Zero capacities mean "no limit" on that dimension.
type Vehicle struct {
	Type       string
	CapacityKg float64
	CapacityL  float64
	MaxStops   int
}

// Shift is a courier's working hours, "HH:MM" in the company time zone.
// End may be before Start for a shift that crosses midnight.
type Shift struct {
	Start string
	End   string
}

// Courier delivers orders. UserID is the login the courier uses in the phone app.
type Courier struct {
	ID        int64
	Name      string
	Phone     string
	UserID    int64
	Login     string
	Vehicle   Vehicle
	Shift     Shift
	DepotID   int64
	ZoneIDs   []int64
	Active    bool
	Version   int64
	CreatedAt time.Time
	UpdatedAt time.Time
}

// Validate checks the courier's own fields (not references). Returns EINVALID.
func (c *Courier) Validate() error {
	if c.Name == "" {
		return FieldError("name", "is required")
	}
	if err := ValidatePhone("phone", c.Phone); err != nil {
		return err
	}
	switch c.Vehicle.Type {
	case VehicleFoot, VehicleBike, VehicleCar, VehicleVan, VehicleTruck:
	default:
		return FieldError("vehicle.type", "must be one of foot, bike, car, van, truck")
	}
	if c.Vehicle.CapacityKg < 0 {
		return FieldError("vehicle.capacity_kg", "must not be negative")
	}
	if c.Vehicle.CapacityL < 0 {
		return FieldError("vehicle.capacity_l", "must not be negative")
	}
	if c.Vehicle.MaxStops < 0 {
		return FieldError("vehicle.max_stops", "must not be negative")
	}
	if _, err := ParseClock("shift.start", c.Shift.Start); err != nil {
		return err
	}
	if _, err := ParseClock("shift.end", c.Shift.End); err != nil {
		return err
	}
	if c.Shift.Start == c.Shift.End {
		return FieldError("shift", "start and end must differ")
	}
	if c.DepotID <= 0 {
		return FieldError("depot_id", "is required")
	}
	return nil
}

// ValidatePhone accepts an international number: an optional +, then 7 to 15 digits,
// with spaces, dashes and brackets allowed. Returns EINVALID naming field.
func ValidatePhone(field, s string) error {
	digits := 0
	for i, ch := range s {
		switch {
		case ch >= '0' && ch <= '9':
			digits++
		case ch == '+' && i == 0, ch == ' ', ch == '-', ch == '(', ch == ')':
		default:
			return FieldError(field, "is not a phone number")
		}
	}
	if digits < 7 || digits > 15 {
		return FieldError(field, "must have 7 to 15 digits")
	}
	return nil
}

// CourierFilter selects couriers in ListCouriers. Zero fields do not filter.
type CourierFilter struct {
	DepotID int64
	Active  *bool
	Search  string // name, phone or login contains
}

// CourierStore persists couriers.
type CourierStore interface {
	// CreateCourier inserts the courier and, when u is not nil, its login user in
	// the same transaction, linking both. Returns ECONFLICT if the login is taken,
	// EINVALID if the depot does not exist.
	CreateCourier(ctx context.Context, c *Courier, u *User) error
	// Courier returns a courier by id. Returns ENOTFOUND.
	Courier(ctx context.Context, id int64) (*Courier, error)
	// ListCouriers returns the couriers matching f, ordered by id.
	ListCouriers(ctx context.Context, f CourierFilter) ([]*Courier, error)
	// UpdateCourier reads the courier, calls fn and writes the result in one
	// transaction, incrementing Version. Returns ENOTFOUND, EINVALID for an unknown depot, or fn's error.
	UpdateCourier(ctx context.Context, id int64, fn func(*Courier) error) (*Courier, error)
}
