package courier

import (
	"context"
	"time"
)

// Depot is where route sheets start and end and where cash is settled.
// Opens and Closes are "HH:MM" in the company time zone.
type Depot struct {
	ID        int64
	Name      string
	Address   string
	Location  LatLng
	Opens     string
	Closes    string
	CreatedAt time.Time
	UpdatedAt time.Time
}

// Validate checks the depot's fields. Returns EINVALID.
func (d *Depot) Validate() error {
	if d.Name == "" {
		return FieldError("name", "is required")
	}
	if err := d.Location.Validate("location"); err != nil {
		return err
	}
	o, err := ParseClock("opening_hours.opens", d.Opens)
	if err != nil {
		return err
	}
	c, err := ParseClock("opening_hours.closes", d.Closes)
	if err != nil {
		return err
	}
	if c <= o {
		return FieldError("opening_hours", "closes must be after opens")
	}
	return nil
}

// DepotStore persists depots.
type DepotStore interface {
	// CreateDepot inserts d and sets its ID and timestamps.
	CreateDepot(ctx context.Context, d *Depot) error
	// Depot returns a depot by id. Returns ENOTFOUND.
	Depot(ctx context.Context, id int64) (*Depot, error)
	// ListDepots returns all depots ordered by id.
	ListDepots(ctx context.Context) ([]*Depot, error)
	// UpdateDepot reads the depot, calls fn and writes the result in one transaction. Returns ENOTFOUND.
	UpdateDepot(ctx context.Context, id int64, fn func(*Depot) error) (*Depot, error)
	// DeleteDepot removes a depot. Returns ENOTFOUND, or ECONFLICT while couriers or orders refer to it.
	DeleteDepot(ctx context.Context, id int64) error
}

// ParseClock parses "HH:MM" (00:00 to 24:00) into minutes after midnight. Returns EINVALID naming field.
func ParseClock(field, s string) (int, error) {
	if len(s) != 5 || s[2] != ':' {
		return 0, FieldError(field, "must be HH:MM, got %q", s)
	}
	h, m := 0, 0
	for i, ch := range []byte(s) {
		if i == 2 {
			continue
		}
		if ch < '0' || ch > '9' {
			return 0, FieldError(field, "must be HH:MM, got %q", s)
		}
		if i < 2 {
			h = h*10 + int(ch-'0')
		} else {
			m = m*10 + int(ch-'0')
		}
	}
	if h > 24 || m > 59 || (h == 24 && m != 0) {
		return 0, FieldError(field, "must be a time of day between 00:00 and 24:00, got %q", s)
	}
	return h*60 + m, nil
}
