package dispatch

import "math"

// Tariff computes an order's delivery fee in minor units:
//
//	fee = base (the zone's base fee when its zone has one, else Base)
//	    + PerKg for each started kg above FreeKg
//	    + PerKm for each started km of straight-line distance from the depot
//
// and 0 when the order value (the cash on delivery amount) is at least FreeAbove (> 0).
// A dispatcher may override the fee per order.
type Tariff struct {
	Base      int64
	PerKg     int64
	FreeKg    float64
	PerKm     int64
	FreeAbove int64
}

// DefaultTariff is 199.00 base, 20.00 per kg above 5 kg, 15.00 per km, free from 5000.00.
var DefaultTariff = Tariff{Base: 19900, PerKg: 2000, FreeKg: 5, PerKm: 1500, FreeAbove: 500000}

// Fee returns the fee for an order weighing weightKg, distM metres from the
// depot, worth value; zoneBase is its zone's base fee (nil: Base).
func (t Tariff) Fee(zoneBase *int64, weightKg, distM float64, value int64) int64 {
	if t.FreeAbove > 0 && value >= t.FreeAbove {
		return 0
	}
	fee := t.Base
	if zoneBase != nil {
		fee = *zoneBase
	}
	if over := weightKg - t.FreeKg; over > 0 {
		fee += t.PerKg * int64(math.Ceil(over-1e-9))
	}
	if distM > 0 {
		fee += t.PerKm * int64(math.Ceil(distM/1000-1e-9))
	}
	return fee
}
