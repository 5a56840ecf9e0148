package dispatch

import (
	"testing"

	"github.com/courierhq/courier"
)

func TestTariffFee(t *testing.T) {
	base := int64(30000)
	for _, test := range []struct {
		name     string
		zoneBase *int64
		kg, m    float64
		value    int64
		want     int64
	}{
		{"light and near", nil, 1, 0, 100000, 19900},
		{"5 kg is still free of weight", nil, 5, 0, 0, 19900},
		{"5.1 kg is one started kg", nil, 5.1, 0, 0, 19900 + 2000},
		{"7.5 kg, 3.2 km", nil, 7.5, 3200, 0, 19900 + 3*2000 + 4*1500},
		{"the zone's base", &base, 1, 1000, 0, 30000 + 1500},
		{"free from 5000.00", nil, 50, 20000, 500000, 0},
	} {
		if got := DefaultTariff.Fee(test.zoneBase, test.kg, test.m, test.value); got != test.want {
			t.Errorf("%s: %d, want %d", test.name, got, test.want)
		}
	}
}

func TestAllowedCouriers(t *testing.T) {
	anyZone := &courier.Courier{ID: 1}
	centreOnly := &courier.Courier{ID: 2, ZoneIDs: []int64{10}}
	northOnly := &courier.Courier{ID: 3, ZoneIDs: []int64{20}}
	cs := []*courier.Courier{anyZone, centreOnly, northOnly}
	for _, test := range []struct {
		name string
		zone *courier.Zone
		want []int
	}{
		{"no zone: only couriers without a zone list", nil, []int{0}},
		{"the centre", &courier.Zone{ID: 10}, []int{0, 1}},
		{"the north", &courier.Zone{ID: 20}, []int{0, 2}},
		{"a zone served by courier 2 only", &courier.Zone{ID: 10, CourierIDs: []int64{2}}, []int{1}},
		{"a zone whose courier is elsewhere", &courier.Zone{ID: 20, CourierIDs: []int64{2}}, nil},
	} {
		got := allowedCouriers(test.zone, cs)
		if len(got) != len(test.want) {
			t.Errorf("%s: %v, want %v", test.name, got, test.want)
			continue
		}
		for i := range got {
			if got[i] != test.want[i] {
				t.Errorf("%s: %v, want %v", test.name, got, test.want)
			}
		}
	}
}
