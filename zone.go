package courier

import (
	"context"
	"time"
)

// ZoneKind says when a zone applies.
type ZoneKind string

// Zone kinds: permanent zones always apply; dynamic ones only on their dates,
// weekdays and hours (a holiday area, an evening-only district).
const (
	ZonePermanent ZoneKind = "permanent"
	ZoneDynamic   ZoneKind = "dynamic"
)

// Zone is a delivery area drawn by a dispatcher. Geometry is a GeoJSON
// (RFC 7946) Polygon or MultiPolygon geometry object, kept as sent; geo/
// parses, validates and indexes it.
type Zone struct {
	ID         int64
	Name       string
	Color      string // #RRGGBB
	Kind       ZoneKind
	Geometry   []byte
	ValidFrom  string // dynamic: first date (YYYY-MM-DD), "" for open
	ValidTo    string // dynamic: last date, "" for open
	Weekdays   []int  // dynamic: ISO weekdays 1 (Monday) .. 7; empty means every day
	HoursFrom  string // dynamic: "HH:MM" in the company time zone, "" for all day
	HoursTo    string
	CourierIDs []int64 // couriers who serve it; empty means any courier
	BaseFee    *int64  // the tariff's base fee in this zone (minor units); nil: the company default
	Version    int64
	CreatedAt  time.Time
	UpdatedAt  time.Time
}

// ActiveOn reports whether the zone applies on date (YYYY-MM-DD, company time zone),
// ignoring hours: the planning question "may this zone be used that day".
func (z *Zone) ActiveOn(date string) bool {
	if z.Kind != ZoneDynamic {
		return true
	}
	if (z.ValidFrom != "" && date < z.ValidFrom) || (z.ValidTo != "" && date > z.ValidTo) {
		return false
	}
	if len(z.Weekdays) == 0 {
		return true
	}
	d, err := time.Parse(time.DateOnly, date)
	if err != nil {
		return false
	}
	wd := int(d.Weekday())
	if wd == 0 {
		wd = 7
	}
	for _, w := range z.Weekdays {
		if w == wd {
			return true
		}
	}
	return false
}

// ActiveAt reports whether the zone applies at t (hours included), read in loc.
func (z *Zone) ActiveAt(t time.Time, loc *time.Location) bool {
	lt := t.In(loc)
	if !z.ActiveOn(lt.Format(time.DateOnly)) {
		return false
	}
	if z.Kind != ZoneDynamic || z.HoursFrom == "" {
		return true
	}
	from, err1 := ParseClock("hours.from", z.HoursFrom)
	to, err2 := ParseClock("hours.to", z.HoursTo)
	if err1 != nil || err2 != nil {
		return false
	}
	m := lt.Hour()*60 + lt.Minute()
	if from <= to {
		return m >= from && m < to
	}
	return m >= from || m < to // over midnight
}

// ZoneStore persists zones.
type ZoneStore interface {
	// CreateZone inserts z and sets its ID, Version 1 and timestamps.
	CreateZone(ctx context.Context, z *Zone) error
	// Zone returns a zone by id. Returns ENOTFOUND.
	Zone(ctx context.Context, id int64) (*Zone, error)
	// ListZones returns every zone ordered by id.
	ListZones(ctx context.Context) ([]*Zone, error)
	// ZoneSetVersion returns a value that changes whenever a zone is
	// created, changed or deleted: a cheap check before ListZones.
	ZoneSetVersion(ctx context.Context) (string, error)
	// UpdateZone reads the zone, calls fn and writes the result with Version+1
	// in one transaction. Returns ENOTFOUND or fn's error.
	UpdateZone(ctx context.Context, id int64, fn func(*Zone) error) (*Zone, error)
	// DeleteZone removes a zone. Returns ENOTFOUND.
	DeleteZone(ctx context.Context, id int64) error
}
