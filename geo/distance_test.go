package geo

import (
	"math"
	"testing"

	"github.com/courierhq/courier"
)

func TestHaversineM(t *testing.T) {
	for _, test := range []struct {
		name string
		a, b courier.LatLng
		want float64 // metres
		tol  float64
	}{
		{"same point", courier.LatLng{Lat: 55.75, Lng: 37.61}, courier.LatLng{Lat: 55.75, Lng: 37.61}, 0, 1e-9},
		{"one degree of latitude", courier.LatLng{Lat: 0, Lng: 0}, courier.LatLng{Lat: 1, Lng: 0}, 111195, 1},
		{"Moscow Kremlin to Saint Petersburg Palace Square", courier.LatLng{Lat: 55.7520, Lng: 37.6175}, courier.LatLng{Lat: 59.9391, Lng: 30.3159}, 634400, 1500},
		{"antipodes", courier.LatLng{Lat: 0, Lng: 0}, courier.LatLng{Lat: 0, Lng: 180}, math.Pi * EarthRadiusM, 1},
	} {
		if got := HaversineM(test.a, test.b); math.Abs(got-test.want) > test.tol {
			t.Errorf("%s: HaversineM = %.1f, want %.1f ± %.1f", test.name, got, test.want, test.tol)
		}
	}
}
