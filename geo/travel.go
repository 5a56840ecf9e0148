package geo

import (
	"context"
	"fmt"
	"math"
	"time"

	"github.com/courierhq/courier"
)

// TravelModel estimates road distances and travel times from great-circle
// distances; it is the travel model used when no road router is configured
// (OSRM_URL empty). It is deliberately simple, and its defaults are meant to
// be tuned per city:
//
//	road distance = great-circle distance (HaversineM) × Circuity
//	travel time   = road distance / speed(vehicle type) × rush factor(local hour of departure)
//
// Defaults (DefaultTravelModel):
//
//	| setting        | default                                  | why                                       |
//	|----------------|------------------------------------------|-------------------------------------------|
//	| Circuity       | 1.35                                     | city streets detour 1.2-1.4× the straight |
//	|                |                                          | line; 1.35 suits a dense city             |
//	| speed, foot    | 4.5 km/h                                 | walking with parcels, crossings included  |
//	| speed, bike    | 14 km/h                                  | city cycling                              |
//	| speed, car     | 25 km/h                                  | urban door-to-door average                |
//	| speed, van     | 22 km/h                                  | slower to turn and park than a car        |
//	| speed, truck   | 20 km/h                                  | light truck in town                       |
//	| rush, weekdays | ×1.3 at 08:00-09:59 and 17:00-19:59,     | multiplies travel time, by local hour     |
//	|                | ×1.0 otherwise                           | (Monday to Friday)                        |
//	| rush, weekends | ×1.0 all day                             | Saturday and Sunday                       |
//	| Location       | UTC; set it to the company's time zone   | the zone hours and weekdays are read in   |
//
// Rounding: distances are rounded to whole metres and durations to whole
// seconds, each once, half away from zero (math.Round), both from the
// unrounded road distance. The diagonal of a matrix is zero. A matrix uses
// one rush factor, that of its departure time: it is a snapshot, not a
// time-dependent matrix. Public holidays are not modelled (they read as
// their weekday).
//
// Example: 1 km due north by car at 08:30 on a Monday is 1350 m of road;
// 1350 m / (25/3.6 m/s) = 194.4 s, × 1.3 = 252.72 s, rounded to 253 s.
//
// Start from DefaultTravelModel and change fields before first use; the zero
// value is not usable. A TravelModel is safe for concurrent use as long as
// nobody changes its fields.
type TravelModel struct {
	// Circuity is road distance over great-circle distance, at least 1.
	Circuity float64
	// SpeedsKmh is the average speed of each vehicle type in km/h. The keys
	// are the profiles Matrix and Leg accept.
	SpeedsKmh map[string]float64
	// WeekdayRush and WeekendRush multiply travel time by the local hour of
	// departure, Monday-Friday and Saturday-Sunday.
	WeekdayRush [24]float64
	WeekendRush [24]float64
	// Location is the time zone the hours are read in; nil means UTC.
	Location *time.Location
}

var _ MatrixSource = (*TravelModel)(nil)

// Default travel model settings; TravelModel documents them.
const (
	DefaultCircuity   = 1.35
	DefaultRushFactor = 1.3
)

// DefaultSpeedsKmh returns the default speed of each vehicle type in km/h:
// foot 4.5, bike 14, car 25, van 22, truck 20. The map is a fresh copy.
func DefaultSpeedsKmh() map[string]float64 {
	return map[string]float64{
		courier.VehicleFoot:  4.5,
		courier.VehicleBike:  14,
		courier.VehicleCar:   25,
		courier.VehicleVan:   22,
		courier.VehicleTruck: 20,
	}
}

// DefaultWeekdayRush returns the default weekday travel time multipliers by
// local hour: 1.3 for hours 8, 9 (08:00-09:59) and 17, 18, 19 (17:00-19:59),
// 1.0 otherwise.
func DefaultWeekdayRush() [24]float64 {
	var f [24]float64
	for h := range f {
		f[h] = 1
	}
	for _, h := range []int{8, 9, 17, 18, 19} {
		f[h] = DefaultRushFactor
	}
	return f
}

// flatRush is 1.0 at every hour.
func flatRush() [24]float64 {
	var f [24]float64
	for h := range f {
		f[h] = 1
	}
	return f
}

// MatrixSource builds travel matrices. The haversine TravelModel and the
// OSRM client both implement it; cmd/courierd picks one at wiring time.
type MatrixSource interface {
	// Matrix returns the distances and durations between all pairs of
	// points for the vehicle type profile (courier.VehicleCar, ...),
	// departing at depart. Returns EINVALID for an invalid point or an
	// unknown profile.
	Matrix(ctx context.Context, points []courier.LatLng, profile string, depart time.Time) (*Matrix, error)
}

// Matrix holds travel distances and durations between N points, row-major:
// entry (i, j) is from point i to point j, at index i*N+j.
type Matrix struct {
	N         int
	Durations []int64 // seconds
	Distances []int64 // metres
}

// NewMatrix returns an n×n matrix of zeros.
func NewMatrix(n int) *Matrix {
	return &Matrix{N: n, Durations: make([]int64, n*n), Distances: make([]int64, n*n)}
}

// Duration returns the travel time from point i to point j in seconds.
func (m *Matrix) Duration(i, j int) int64 { return m.Durations[i*m.N+j] }

// Distance returns the travel distance from point i to point j in metres.
func (m *Matrix) Distance(i, j int) int64 { return m.Distances[i*m.N+j] }

// At returns the distance (metres) and the duration (seconds) from point i to point j.
func (m *Matrix) At(i, j int) (metres, seconds int64) {
	k := i*m.N + j
	return m.Distances[k], m.Durations[k]
}

// DurationRows returns the durations as rows, the shape routing.Problem
// takes. The rows share the matrix's storage: nothing is copied.
func (m *Matrix) DurationRows() [][]int64 { return rows(m.Durations, m.N) }

// DistanceRows returns the distances as rows sharing the matrix's storage.
func (m *Matrix) DistanceRows() [][]int64 { return rows(m.Distances, m.N) }

func rows(flat []int64, n int) [][]int64 {
	r := make([][]int64, n)
	for i := range r {
		r[i] = flat[i*n : (i+1)*n : (i+1)*n]
	}
	return r
}

// DefaultTravelModel returns the model with the documented defaults (see the
// package's travel.go header), reading hours in loc (nil means UTC).
func DefaultTravelModel(loc *time.Location) *TravelModel {
	return &TravelModel{
		Circuity:    DefaultCircuity,
		SpeedsKmh:   DefaultSpeedsKmh(),
		WeekdayRush: DefaultWeekdayRush(),
		WeekendRush: flatRush(),
		Location:    loc,
	}
}

// Validate checks the model's settings. Returns EINVALID naming the setting.
func (m *TravelModel) Validate() error {
	if !(m.Circuity >= 1) || math.IsInf(m.Circuity, 0) {
		return courier.FieldError("travel.circuity", "must be a number of at least 1, got %v", m.Circuity)
	}
	if len(m.SpeedsKmh) == 0 {
		return courier.FieldError("travel.speeds_kmh", "must list at least one vehicle type")
	}
	for p, v := range m.SpeedsKmh {
		if !(v > 0) || math.IsInf(v, 0) {
			return courier.FieldError("travel.speeds_kmh."+p, "must be a positive number, got %v", v)
		}
	}
	for h := range 24 {
		for _, f := range []struct {
			name string
			v    float64
		}{{"weekday_rush", m.WeekdayRush[h]}, {"weekend_rush", m.WeekendRush[h]}} {
			if !(f.v > 0) || math.IsInf(f.v, 0) {
				return courier.FieldError(fmt.Sprintf("travel.%s[%d]", f.name, h), "must be a positive number, got %v", f.v)
			}
		}
	}
	return nil
}

// RushFactor returns the travel time multiplier for a departure at t: the
// factor of t's hour in the model's Location, weekday or weekend. The zero
// time means "no particular time" and returns 1.
func (m *TravelModel) RushFactor(t time.Time) float64 {
	if t.IsZero() {
		return 1
	}
	loc := m.Location
	if loc == nil {
		loc = time.UTC
	}
	t = t.In(loc)
	switch t.Weekday() {
	case time.Saturday, time.Sunday:
		return m.WeekendRush[t.Hour()]
	}
	return m.WeekdayRush[t.Hour()]
}

// speedMps returns the profile's speed in metres per second. Returns
// EINVALID for an unknown profile.
func (m *TravelModel) speedMps(profile string) (float64, error) {
	v, ok := m.SpeedsKmh[profile]
	if !ok {
		return 0, &courier.Error{Code: courier.EINVALID, Message: fmt.Sprintf("profile: unknown vehicle type %q", profile),
			Details: map[string]any{"field": "profile"}}
	}
	if !(v > 0) || math.IsInf(v, 0) {
		return 0, courier.FieldError("travel.speeds_kmh."+profile, "must be a positive number, got %v", v)
	}
	return v / 3.6, nil
}

// secondsPerMetre returns the time per road metre for profile departing at t.
func (m *TravelModel) secondsPerMetre(profile string, t time.Time) (float64, error) {
	v, err := m.speedMps(profile)
	if err != nil {
		return 0, err
	}
	return m.RushFactor(t) / v, nil
}

// Leg returns the road distance in metres and the travel time in seconds
// from a to b for the vehicle type profile, departing at at. It gives the
// same numbers as the (a, b) entry of Matrix. Returns EINVALID for an invalid
// point or an unknown profile.
func (m *TravelModel) Leg(a, b courier.LatLng, profile string, at time.Time) (metres, seconds int64, err error) {
	if err := a.Validate("from"); err != nil {
		return 0, 0, err
	}
	if err := b.Validate("to"); err != nil {
		return 0, 0, err
	}
	spm, err := m.secondsPerMetre(profile, at)
	if err != nil {
		return 0, 0, err
	}
	road := chordToMetres(unitVector(a), unitVector(b)) * m.Circuity
	return int64(math.Round(road)), int64(math.Round(road * spm)), nil
}

// Matrix returns the road distances and travel times between all pairs of
// points, departing at depart (one rush factor for the whole matrix). The
// matrix is symmetric with a zero diagonal. It takes 16·N² bytes and about
// N²/2 great-circle computations. Returns EINVALID for an invalid point
// (the error names points[i]) or an unknown profile.
func (m *TravelModel) Matrix(ctx context.Context, points []courier.LatLng, profile string, depart time.Time) (*Matrix, error) {
	spm, err := m.secondsPerMetre(profile, depart)
	if err != nil {
		return nil, err
	}
	if err := validatePoints(points); err != nil {
		return nil, err
	}
	n := len(points)
	out := NewMatrix(n)
	xyz := make([]vec3, n)
	for i, p := range points {
		xyz[i] = unitVector(p)
	}
	circ := m.Circuity
	for i := range n {
		if i&63 == 63 {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
		}
		a := xyz[i]
		for j := i + 1; j < n; j++ {
			road := chordToMetres(a, xyz[j]) * circ
			d, t := int64(math.Round(road)), int64(math.Round(road*spm))
			out.Distances[i*n+j], out.Durations[i*n+j] = d, t
			out.Distances[j*n+i], out.Durations[j*n+i] = d, t
		}
	}
	return out, nil
}

// vec3 is a point on the unit sphere.
type vec3 struct{ x, y, z float64 }

// unitVector returns p on the unit sphere.
func unitVector(p courier.LatLng) vec3 {
	const rad = math.Pi / 180
	sinLat, cosLat := math.Sincos(p.Lat * rad)
	sinLng, cosLng := math.Sincos(p.Lng * rad)
	return vec3{cosLat * cosLng, cosLat * sinLng, sinLat}
}

// chordToMetres returns the great-circle distance between a and b in metres:
// HaversineM's value (within micrometres) from the chord between the
// points, with no trigonometry but an arcsine. It is exactly symmetric.
func chordToMetres(a, b vec3) float64 {
	dx, dy, dz := a.x-b.x, a.y-b.y, a.z-b.z
	h := math.Sqrt(dx*dx+dy*dy+dz*dz) / 2 // the sine of half the central angle
	return 2 * EarthRadiusM * asin(h)
}

// asin is math.Asin for 0 <= h, clamped at 1, with its Taylor series below
// h = 1/64 (points up to about 200 km apart: every leg in a city), where it is
// within 2 ulps of math.Asin and about twice as fast. The first omitted term,
// 63/2816·h¹¹, is below 2⁻⁶⁰·h there.
func asin(h float64) float64 {
	if h < 1.0/64 {
		h2 := h * h
		return h + h*h2*(1.0/6+h2*(3.0/40+h2*(5.0/112+h2*(35.0/1152))))
	}
	return math.Asin(math.Min(1, h))
}

// validatePoints returns EINVALID naming points[i] for the first invalid point.
func validatePoints(points []courier.LatLng) error {
	for i, p := range points {
		if p.Lat >= -90 && p.Lat <= 90 && p.Lng >= -180 && p.Lng <= 180 {
			continue // valid: skip building the field name
		}
		if err := p.Validate(fmt.Sprintf("points[%d]", i)); err != nil {
			return err
		}
	}
	return nil
}
