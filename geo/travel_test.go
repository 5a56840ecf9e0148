package geo

import (
	"context"
	"errors"
	"math"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/courierhq/courier"
)

// msk is UTC+3 without daylight saving (Moscow), fixed so the tests need no tzdata.
var msk = time.FixedZone("MSK", 3*3600)

// north returns the point metres due north of p along the meridian.
func north(p courier.LatLng, metres float64) courier.LatLng {
	return courier.LatLng{Lat: p.Lat + metres/EarthRadiusM*180/math.Pi, Lng: p.Lng}
}

var kremlin = courier.LatLng{Lat: 55.7520, Lng: 37.6175}

func TestLeg(t *testing.T) {
	monday := func(hh, mm int) time.Time { return time.Date(2026, 3, 2, hh, mm, 0, 0, msk) } // a Monday
	km := north(kremlin, 1000)
	custom := DefaultTravelModel(msk)
	custom.Circuity = 1
	custom.SpeedsKmh = map[string]float64{"scooter": 36} // 10 m/s
	for _, test := range []struct {
		name        string
		model       *TravelModel
		a, b        courier.LatLng
		profile     string
		at          time.Time
		wantMetres  int64
		wantSeconds int64
	}{
		// 1 km × 1.35 = 1350 m; car 25 km/h = 6.944 m/s: 194.4 s, ×1.3 = 252.72 s.
		{"car 1 km north at 08:30 Monday (rush)", nil, kremlin, km, courier.VehicleCar, monday(8, 30), 1350, 253},
		{"car 1 km south at 08:30 Monday (rush)", nil, km, kremlin, courier.VehicleCar, monday(8, 30), 1350, 253},
		{"car at 07:59 (before rush)", nil, kremlin, km, courier.VehicleCar, monday(7, 59), 1350, 194},
		{"car at 09:59 (last rush minute)", nil, kremlin, km, courier.VehicleCar, monday(9, 59), 1350, 253},
		{"car at 10:00 (after rush)", nil, kremlin, km, courier.VehicleCar, monday(10, 0), 1350, 194},
		{"car at 17:00 (evening rush)", nil, kremlin, km, courier.VehicleCar, monday(17, 0), 1350, 253},
		{"car at 19:59 (evening rush)", nil, kremlin, km, courier.VehicleCar, monday(19, 59), 1350, 253},
		{"car at 20:00 (after rush)", nil, kremlin, km, courier.VehicleCar, monday(20, 0), 1350, 194},
		{"car at 05:30 UTC = 08:30 MSK (rush)", nil, kremlin, km, courier.VehicleCar, time.Date(2026, 3, 2, 5, 30, 0, 0, time.UTC), 1350, 253},
		{"car at 08:30 UTC = 11:30 MSK (no rush)", nil, kremlin, km, courier.VehicleCar, time.Date(2026, 3, 2, 8, 30, 0, 0, time.UTC), 1350, 194},
		{"car at 08:30 Saturday (weekend)", nil, kremlin, km, courier.VehicleCar, time.Date(2026, 3, 7, 8, 30, 0, 0, msk), 1350, 194},
		{"car at 08:30 Sunday (weekend)", nil, kremlin, km, courier.VehicleCar, time.Date(2026, 3, 8, 8, 30, 0, 0, msk), 1350, 194},
		{"car, zero time (no rush)", nil, kremlin, km, courier.VehicleCar, time.Time{}, 1350, 194},
		// foot 4.5 km/h = 1.25 m/s: 1080 s, ×1.3 = 1404 s.
		{"foot", nil, kremlin, km, courier.VehicleFoot, monday(12, 0), 1350, 1080},
		{"foot in rush", nil, kremlin, km, courier.VehicleFoot, monday(8, 0), 1350, 1404},
		// bike 14 km/h: 347.14 s, ×1.3 = 451.29 s.
		{"bike", nil, kremlin, km, courier.VehicleBike, monday(12, 0), 1350, 347},
		{"bike in rush", nil, kremlin, km, courier.VehicleBike, monday(18, 0), 1350, 451},
		// van 22 km/h: 220.91 s, ×1.3 = 287.18 s.
		{"van", nil, kremlin, km, courier.VehicleVan, monday(12, 0), 1350, 221},
		{"van in rush", nil, kremlin, km, courier.VehicleVan, monday(9, 0), 1350, 287},
		// truck 20 km/h: 243 s, ×1.3 = 315.9 s.
		{"truck", nil, kremlin, km, courier.VehicleTruck, monday(12, 0), 1350, 243},
		{"truck in rush", nil, kremlin, km, courier.VehicleTruck, monday(19, 0), 1350, 316},
		{"same point", nil, kremlin, kremlin, courier.VehicleCar, monday(8, 30), 0, 0},
		// 10 km, circuity 1, 10 m/s, rush 1.3: 10000 m, 1300 s.
		{"custom profile and circuity", custom, kremlin, north(kremlin, 10000), "scooter", monday(8, 30), 10000, 1300},
		// 0.5 km × 1.35 = 675 m at 25 km/h = 97.2 s.
		{"car 500 m", nil, kremlin, north(kremlin, 500), courier.VehicleCar, monday(12, 0), 675, 97},
	} {
		m := test.model
		if m == nil {
			m = DefaultTravelModel(msk)
		}
		metres, seconds, err := m.Leg(test.a, test.b, test.profile, test.at)
		if err != nil {
			t.Errorf("%s: %v", test.name, err)
			continue
		}
		if metres != test.wantMetres || seconds != test.wantSeconds {
			t.Errorf("%s: Leg = %d m, %d s; want %d m, %d s", test.name, metres, seconds, test.wantMetres, test.wantSeconds)
		}
	}
}

func TestRushFactorNilLocationIsUTC(t *testing.T) {
	m := DefaultTravelModel(nil)
	if f := m.RushFactor(time.Date(2026, 3, 2, 8, 30, 0, 0, time.UTC)); f != DefaultRushFactor {
		t.Errorf("08:30 UTC Monday: factor %v, want %v", f, DefaultRushFactor)
	}
	if f := m.RushFactor(time.Date(2026, 3, 2, 8, 30, 0, 0, msk)); f != 1 { // 05:30 UTC
		t.Errorf("08:30 MSK = 05:30 UTC Monday: factor %v, want 1", f)
	}
}

func TestDefaultWeekdayRush(t *testing.T) {
	got := DefaultWeekdayRush()
	for h, f := range got {
		want := 1.0
		if h == 8 || h == 9 || h == 17 || h == 18 || h == 19 {
			want = 1.3
		}
		if f != want {
			t.Errorf("hour %d: %v, want %v", h, f, want)
		}
	}
}

// testPoints returns n points scattered over about 30×30 km around Moscow.
func testPoints(n int, seed uint64) []courier.LatLng {
	rng := rand.New(rand.NewPCG(seed, 7))
	pts := make([]courier.LatLng, n)
	for i := range pts {
		pts[i] = courier.LatLng{Lat: 55.60 + 0.27*rng.Float64(), Lng: 37.40 + 0.45*rng.Float64()}
	}
	return pts
}

func TestMatrix(t *testing.T) {
	m := DefaultTravelModel(msk)
	pts := testPoints(60, 1)
	pts = append(pts, pts[3]) // a duplicate: zero off the diagonal
	at := time.Date(2026, 3, 2, 8, 30, 0, 0, msk)
	for _, profile := range []string{courier.VehicleFoot, courier.VehicleBike, courier.VehicleCar, courier.VehicleVan, courier.VehicleTruck} {
		mx, err := m.Matrix(context.Background(), pts, profile, at)
		if err != nil {
			t.Fatalf("%s: %v", profile, err)
		}
		n := len(pts)
		if mx.N != n || len(mx.Durations) != n*n || len(mx.Distances) != n*n {
			t.Fatalf("%s: N=%d, %d durations, %d distances; want %d, %d, %d", profile, mx.N, len(mx.Durations), len(mx.Distances), n, n*n, n*n)
		}
		rowsDur, rowsDist := mx.DurationRows(), mx.DistanceRows()
		for i := range n {
			for j := range n {
				metres, seconds := mx.At(i, j)
				if i == j && (metres != 0 || seconds != 0) {
					t.Fatalf("%s: diagonal (%d, %d) = %d m, %d s", profile, i, j, metres, seconds)
				}
				if rm, rs := mx.At(j, i); rm != metres || rs != seconds {
					t.Fatalf("%s: (%d, %d) = %d m, %d s but (%d, %d) = %d m, %d s", profile, i, j, metres, seconds, j, i, rm, rs)
				}
				wm, ws, err := m.Leg(pts[i], pts[j], profile, at)
				if err != nil {
					t.Fatal(err)
				}
				if metres != wm || seconds != ws {
					t.Fatalf("%s: (%d, %d) = %d m, %d s; Leg says %d m, %d s", profile, i, j, metres, seconds, wm, ws)
				}
				if d := math.Abs(float64(metres) - HaversineM(pts[i], pts[j])*DefaultCircuity); d > 0.5+1e-6 {
					t.Fatalf("%s: (%d, %d) = %d m, %.2f m from haversine × circuity", profile, i, j, metres, d)
				}
				if mx.Distance(i, j) != metres || mx.Duration(i, j) != seconds || rowsDist[i][j] != metres || rowsDur[i][j] != seconds {
					t.Fatalf("%s: (%d, %d): accessors disagree", profile, i, j)
				}
			}
		}
		if metres, _ := mx.At(3, n-1); metres != 0 {
			t.Errorf("%s: duplicate point: %d m, want 0", profile, metres)
		}
	}
}

func TestMatrixSmall(t *testing.T) {
	m := DefaultTravelModel(msk)
	for _, n := range []int{0, 1} {
		mx, err := m.Matrix(context.Background(), testPoints(n, 2), courier.VehicleCar, time.Time{})
		if err != nil {
			t.Fatal(err)
		}
		if mx.N != n || len(mx.Durations) != n*n || len(mx.Distances) != n*n {
			t.Errorf("n=%d: got N=%d with %d, %d entries", n, mx.N, len(mx.Durations), len(mx.Distances))
		}
		if n == 1 && (mx.Durations[0] != 0 || mx.Distances[0] != 0) {
			t.Errorf("n=1: diagonal not zero")
		}
	}
}

func TestTravelErrors(t *testing.T) {
	m := DefaultTravelModel(msk)
	ctx := context.Background()
	good := testPoints(3, 3)
	bad := append(testPoints(3, 3), courier.LatLng{Lat: 91, Lng: 37})
	for _, test := range []struct {
		name      string
		call      func() error
		wantField string
	}{
		{"Matrix: unknown profile", func() error { _, err := m.Matrix(ctx, good, "hovercraft", time.Time{}); return err }, "profile"},
		{"Matrix: empty profile", func() error { _, err := m.Matrix(ctx, good, "", time.Time{}); return err }, "profile"},
		{"Matrix: latitude out of range", func() error { _, err := m.Matrix(ctx, bad, courier.VehicleCar, time.Time{}); return err }, "points[3].lat"},
		{"Matrix: NaN longitude", func() error {
			_, err := m.Matrix(ctx, []courier.LatLng{{Lat: 1, Lng: math.NaN()}}, courier.VehicleCar, time.Time{})
			return err
		}, "points[0].lng"},
		{"Leg: unknown profile", func() error { _, _, err := m.Leg(good[0], good[1], "hovercraft", time.Time{}); return err }, "profile"},
		{"Leg: invalid from", func() error { _, _, err := m.Leg(courier.LatLng{Lat: -90.5}, good[1], "car", time.Time{}); return err }, "from.lat"},
		{"Leg: invalid to", func() error { _, _, err := m.Leg(good[0], courier.LatLng{Lng: 181}, "car", time.Time{}); return err }, "to.lng"},
	} {
		err := test.call()
		if code := courier.ErrorCode(err); code != courier.EINVALID {
			t.Errorf("%s: error %v (code %q), want EINVALID", test.name, err, code)
			continue
		}
		if f := courier.ErrorDetails(err)["field"]; f != test.wantField {
			t.Errorf("%s: field %v, want %q", test.name, f, test.wantField)
		}
	}
}

func TestTravelModelValidate(t *testing.T) {
	if err := DefaultTravelModel(nil).Validate(); err != nil {
		t.Fatalf("defaults: %v", err)
	}
	for _, test := range []struct {
		name   string
		change func(m *TravelModel)
		field  string
	}{
		{"circuity below 1", func(m *TravelModel) { m.Circuity = 0.9 }, "travel.circuity"},
		{"circuity NaN", func(m *TravelModel) { m.Circuity = math.NaN() }, "travel.circuity"},
		{"circuity infinite", func(m *TravelModel) { m.Circuity = math.Inf(1) }, "travel.circuity"},
		{"no speeds", func(m *TravelModel) { m.SpeedsKmh = nil }, "travel.speeds_kmh"},
		{"zero speed", func(m *TravelModel) { m.SpeedsKmh[courier.VehicleVan] = 0 }, "travel.speeds_kmh.van"},
		{"zero weekday factor", func(m *TravelModel) { m.WeekdayRush[13] = 0 }, "travel.weekday_rush[13]"},
		{"negative weekend factor", func(m *TravelModel) { m.WeekendRush[0] = -1 }, "travel.weekend_rush[0]"},
	} {
		m := DefaultTravelModel(nil)
		test.change(m)
		err := m.Validate()
		if courier.ErrorCode(err) != courier.EINVALID || courier.ErrorDetails(err)["field"] != test.field {
			t.Errorf("%s: Validate = %v, want EINVALID on %s", test.name, err, test.field)
		}
	}
}

func TestMatrixCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := DefaultTravelModel(nil).Matrix(ctx, testPoints(200, 4), courier.VehicleCar, time.Time{})
	if !errors.Is(err, context.Canceled) {
		t.Errorf("Matrix with a cancelled context: %v, want context.Canceled", err)
	}
}

func TestDefaultsAreCopies(t *testing.T) {
	a := DefaultTravelModel(nil)
	a.SpeedsKmh[courier.VehicleCar] = 99
	if b := DefaultTravelModel(nil); b.SpeedsKmh[courier.VehicleCar] != 25 {
		t.Errorf("changing one model's speeds changed the defaults: car %v", b.SpeedsKmh[courier.VehicleCar])
	}
}

func TestGreatCircleAgreesWithHaversineM(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 9))
	for k := range 20000 {
		a := courier.LatLng{Lat: 180*rng.Float64() - 90, Lng: 360*rng.Float64() - 180}
		var b courier.LatLng
		switch k % 3 {
		case 0: // anywhere
			b = courier.LatLng{Lat: 180*rng.Float64() - 90, Lng: 360*rng.Float64() - 180}
		case 1: // within a few km
			b = courier.LatLng{Lat: max(-90, min(90, a.Lat+0.05*rng.NormFloat64())), Lng: a.Lng + 0.05*rng.NormFloat64()}
		default: // within metres
			b = courier.LatLng{Lat: max(-90, min(90, a.Lat+1e-5*rng.NormFloat64())), Lng: a.Lng + 1e-5*rng.NormFloat64()}
		}
		want := HaversineM(a, b)
		got := chordToMetres(unitVector(a), unitVector(b))
		if math.Abs(got-want) > 1e-6+1e-12*want {
			t.Fatalf("%v to %v: %.9f m, HaversineM %.9f m", a, b, got, want)
		}
	}
	if got := chordToMetres(unitVector(courier.LatLng{}), unitVector(courier.LatLng{Lng: 180})); math.Abs(got-math.Pi*EarthRadiusM) > 1e-6 {
		t.Errorf("antipodes: %f m, want %f", got, math.Pi*EarthRadiusM)
	}
}

func TestAsinSeries(t *testing.T) {
	for k := 0; k <= 100000; k++ {
		h := float64(k) / 100000 / 64 * 1.01 // across the switch at 1/64
		got, want := asin(h), math.Asin(h)
		if ulp := math.Nextafter(want, 2) - want; math.Abs(got-want) > 2*ulp {
			t.Fatalf("asin(%g) = %.17g, math.Asin = %.17g", h, got, want)
		}
	}
	if asin(1+1e-15) != math.Pi/2 {
		t.Errorf("asin above 1 is not clamped")
	}
}

// BenchmarkHaversineMatrix1000 builds the 1000×1000 car matrix (10⁶ entries).
func BenchmarkHaversineMatrix1000(b *testing.B) {
	m := DefaultTravelModel(msk)
	pts := testPoints(1000, 5)
	at := time.Date(2026, 3, 2, 8, 30, 0, 0, msk)
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := m.Matrix(ctx, pts, courier.VehicleCar, at); err != nil {
			b.Fatal(err)
		}
	}
}
