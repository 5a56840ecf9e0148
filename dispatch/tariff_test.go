package dispatch

import (
	"slices"
	"testing"
	"time"

	"github.com/courierhq/courier"
)

func TestTariffFee(t *testing.T) {
	base := int64(30000)
	zone := &courier.Zone{ID: 7, BaseFee: &base}
	t0 := time.Date(2030, 1, 15, 10, 0, 0, 0, time.UTC)
	window := func(minutes int) *courier.TimeWindow {
		return &courier.TimeWindow{From: t0, To: t0.Add(time.Duration(minutes) * time.Minute)}
	}
	priced := DefaultTariff
	priced.Version = 3
	priced.ZoneFees = []courier.ZoneFee{{ZoneID: 7, BaseFee: 25000}}
	priced.NarrowWindows = []courier.WindowSurcharge{{FromMinutes: 0, ToMinutes: 60, Surcharge: 15000}, {FromMinutes: 60, ToMinutes: 120, Surcharge: 5000}}
	for _, test := range []struct {
		name   string
		tariff Tariff
		in     FeeInput
		want   int64
		rules  []string
	}{
		{"light and near", DefaultTariff, FeeInput{WeightKg: 1, Value: 100000}, 19900, []string{"base"}},
		{"5 kg is still free of weight", DefaultTariff, FeeInput{WeightKg: 5}, 19900, []string{"base"}},
		{"5.1 kg is one started kg", DefaultTariff, FeeInput{WeightKg: 5.1}, 19900 + 2000, []string{"base", "weight"}},
		{"7.5 kg, 3.2 km", DefaultTariff, FeeInput{WeightKg: 7.5, DistM: 3200}, 19900 + 3*2000 + 4*1500, []string{"base", "weight", "distance"}},
		{"the zone's own base", DefaultTariff, FeeInput{Zone: zone, WeightKg: 1, DistM: 1000}, 30000 + 1500, []string{"base", "distance"}},
		{"free from 5000.00", DefaultTariff, FeeInput{WeightKg: 50, DistM: 20000, Value: 500000}, 0, []string{"base", "weight", "distance", "free_above"}},
		{"the tariff's zone fee wins over the zone's own", priced, FeeInput{Zone: zone}, 25000, []string{"base"}},
		{"a 45-minute window", priced, FeeInput{Window: window(45)}, 19900 + 15000, []string{"base", "window"}},
		{"a 60-minute window is the first rule's", priced, FeeInput{Window: window(60)}, 19900 + 15000, []string{"base", "window"}},
		{"a 90-minute window", priced, FeeInput{Window: window(90)}, 19900 + 5000, []string{"base", "window"}},
		{"a 3-hour window has no surcharge", priced, FeeInput{Window: window(180)}, 19900, []string{"base"}},
	} {
		q := Quote(&test.tariff, test.in)
		var rules []string
		for _, c := range q.Components {
			rules = append(rules, c.Rule)
		}
		if q.Total() != test.want || q.TariffVersion != test.tariff.Version || !slices.Equal(rules, test.rules) {
			t.Errorf("%s: %d by %v (version %d), want %d by %v", test.name, q.Total(), rules, q.TariffVersion, test.want, test.rules)
		}
	}
	// Goods priced above the threshold make a prepaid order free too.
	o := &courier.Order{COD: courier.COD{Method: courier.PayPrepaid}, Items: []courier.Item{{Qty: 2, Price: 300000}}}
	if v := orderValue(o); v != 600000 {
		t.Errorf("order value %d", v)
	}
}

func TestValidateTariff(t *testing.T) {
	zones := []*courier.Zone{{ID: 1}, {ID: 2}}
	for _, test := range []struct {
		name  string
		edit  func(t *Tariff)
		field string
	}{
		{"a negative base fee", func(t *Tariff) { t.BaseFee = -1 }, "base_fee"},
		{"a negative per kg", func(t *Tariff) { t.PerKg = -5 }, "weight.per_kg"},
		{"a negative free weight", func(t *Tariff) { t.FreeKg = -1 }, "weight.free_kg"},
		{"a negative zone fee", func(t *Tariff) { t.ZoneFees = []courier.ZoneFee{{ZoneID: 1, BaseFee: -100}} }, "zones[0].base_fee"},
		{"an unknown zone", func(t *Tariff) { t.ZoneFees = []courier.ZoneFee{{ZoneID: 9, BaseFee: 100}} }, "zones[0].zone_id"},
		{"two fees for one zone", func(t *Tariff) { t.ZoneFees = []courier.ZoneFee{{ZoneID: 1, BaseFee: 100}, {ZoneID: 1, BaseFee: 200}} }, "zones[1]"},
		{"overlapping windows", func(t *Tariff) {
			t.NarrowWindows = []courier.WindowSurcharge{{FromMinutes: 0, ToMinutes: 60, Surcharge: 1}, {FromMinutes: 30, ToMinutes: 90, Surcharge: 1}}
		}, "narrow_windows[1]"},
		{"a window range backwards", func(t *Tariff) { t.NarrowWindows = []courier.WindowSurcharge{{FromMinutes: 60, ToMinutes: 30}} }, "narrow_windows[0]"},
		{"a negative surcharge", func(t *Tariff) {
			t.NarrowWindows = []courier.WindowSurcharge{{FromMinutes: 0, ToMinutes: 30, Surcharge: -1}}
		}, "narrow_windows[0].surcharge"},
		{"fine", func(t *Tariff) {
			t.ZoneFees = []courier.ZoneFee{{ZoneID: 1, BaseFee: 100}, {ZoneID: 2, BaseFee: 200}}
			t.NarrowWindows = []courier.WindowSurcharge{{FromMinutes: 60, ToMinutes: 120, Surcharge: 1}, {FromMinutes: 0, ToMinutes: 60, Surcharge: 2}}
		}, ""},
	} {
		tf := DefaultTariff
		test.edit(&tf)
		err := validateTariff(&tf, zones)
		if test.field == "" {
			if err != nil || tf.NarrowWindows[0].FromMinutes != 0 {
				t.Errorf("%s: %v %+v", test.name, err, tf.NarrowWindows)
			}
			continue
		}
		if courier.ErrorCode(err) != courier.EINVALID || courier.ErrorDetails(err)["field"] != test.field {
			t.Errorf("%s: %v (%v), want EINVALID on %s", test.name, err, courier.ErrorDetails(err), test.field)
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

// TestTariffForOrder: an order is priced by the version it was priced by,
// else by the one in force when it was created (a fee set by hand and then
// returned to the tariff, an order from before tariff versions), else the
// current one (a new order).
func TestTariffForOrder(t *testing.T) {
	t1 := time.Date(2030, 1, 10, 9, 0, 0, 0, time.UTC)
	v1 := &Tariff{Version: 1, BaseFee: 100, CreatedAt: t1}
	v2 := &Tariff{Version: 2, BaseFee: 200, CreatedAt: t1.Add(24 * time.Hour)}
	builtIn := DefaultTariff
	ts := &tariffs{builtIn: &builtIn, versions: []*Tariff{v1, v2}}
	for _, test := range []struct {
		name string
		o    *courier.Order
		want int64
	}{
		{"a new order", &courier.Order{}, 2},
		{"priced by v1", &courier.Order{CreatedAt: t1.Add(48 * time.Hour), FeeQuote: &courier.FeeQuote{TariffVersion: 1}}, 1},
		{"priced by the built-in tariff", &courier.Order{CreatedAt: t1.Add(48 * time.Hour), FeeQuote: &courier.FeeQuote{TariffVersion: 0}}, 0},
		{"created under v1, no quote", &courier.Order{CreatedAt: t1.Add(time.Hour)}, 1},
		{"created before any version", &courier.Order{CreatedAt: t1.Add(-time.Hour)}, 0},
	} {
		if got := ts.forOrder(test.o); got.Version != test.want {
			t.Errorf("%s: version %d, want %d", test.name, got.Version, test.want)
		}
	}
	if ts.current() != v2 || ts.version(7) != nil || ts.version(0) != &builtIn {
		t.Errorf("current %v, version 7 %v", ts.current(), ts.version(7))
	}
}
