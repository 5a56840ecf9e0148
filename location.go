package courier

import "math"

// LatLng is a WGS84 position, {lat, lng} as on the wire. geo/ converts it to
// orb.Point{lng, lat} in exactly one place.
type LatLng struct {
	Lat float64
	Lng float64
}

// Validate checks the coordinate ranges. field names the location in errors.
// Returns EINVALID.
func (p LatLng) Validate(field string) error {
	if math.IsNaN(p.Lat) || p.Lat < -90 || p.Lat > 90 {
		return FieldError(field+".lat", "must be within [-90, 90]")
	}
	if math.IsNaN(p.Lng) || p.Lng < -180 || p.Lng > 180 {
		return FieldError(field+".lng", "must be within [-180, 180]")
	}
	return nil
}
