// Package geo is where positions live: great-circle distances, the travel
// model that builds routing matrices, delivery zones and live tracking.
package geo

import (
	"math"

	"github.com/courierhq/courier"
)

// EarthRadiusM is the mean Earth radius in metres (IUGG).
const EarthRadiusM = 6371008.8

// HaversineM returns the great-circle distance between a and b in metres.
func HaversineM(a, b courier.LatLng) float64 {
	const rad = math.Pi / 180
	dLat := (b.Lat - a.Lat) * rad
	dLng := (b.Lng - a.Lng) * rad
	s := math.Sin(dLat/2)*math.Sin(dLat/2) + math.Cos(a.Lat*rad)*math.Cos(b.Lat*rad)*math.Sin(dLng/2)*math.Sin(dLng/2)
	return 2 * EarthRadiusM * math.Asin(math.Min(1, math.Sqrt(s)))
}
