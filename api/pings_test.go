package api

import (
	"encoding/json"
	"math"
	mrand "math/rand/v2"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/courierhq/courier"
	"github.com/courierhq/courier/geo"
	"github.com/gin-gonic/gin"
)

var pingSeeds = []string{
	`{"pings":[{"lat":55.75,"lng":37.61,"accuracy_m":5,"speed_mps":3.5,"heading":90,"recorded_at":"2026-11-23T10:00:00.123Z"}]}`,
	` { "pings" : [ { "recorded_at" : "2026-11-23T13:00:00+03:00" , "lng" : -1e-3 , "lat" : 0 } , {} ] } `,
	`{"pings":[]}`,
	`{"pings":[{"lat":-0.5E+2,"lng":1,"accuracy_m":-1,"speed_mps":-1,"heading":-1,"recorded_at":"2026-11-23T10:00:00Z"}]}`,
	// What the fast path leaves to decodeJSON.
	`{"pings":[{"lat":55.75,"lat":1}]}`,
	`{"pings":[{"LAT":55.75}]}`,
	`{"pings":[{"lat":null}]}`,
	`{"pings":[{"lat":"55.75"}]}`,
	`{"pings":[{"lat":01}]}`,
	`{"pings":[{"lat":1e999}]}`,
	`{"pings":[{"recorded_at":"2026-11-23T10:00:00\u005a"}]}`,
	`{"pings":[{"recorded_at":"yesterday"}]}`,
	`{"pings":[{"extra":1}]}`,
	`{"pings":[{"lat":1}],"more":1}`,
	`{"pings":[{"lat":1}]} x`,
	`{"pings":[{"lat":1},]}`,
	`{"pings":[{"lat":1,}]}`,
	`{"pings":{}}`,
	`{"pings":[{"lat":-}]}`,
	`{"pings":[{"lat":1.}]}`,
	`{"pings":[{"lat":1e}]}`,
	`[]`,
	``,
}

// FuzzDecodePings: whatever decodePings accepts, decodeJSON accepts to the
// same value.
func FuzzDecodePings(f *testing.F) {
	for _, s := range pingSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) { checkFastPings(t, b) })
}

func checkFastPings(t *testing.T, b []byte) bool {
	t.Helper()
	fast, ok := decodePings(b)
	if !ok {
		return false
	}
	var slow locationsIn
	if err := decodeJSON(b, &slow); err != nil {
		t.Fatalf("decodePings took %q, decodeJSON refused it: %v", b, err)
	}
	if !reflect.DeepEqual(fast, slow) {
		f, _ := json.Marshal(fast)
		s, _ := json.Marshal(slow)
		t.Fatalf("decodePings(%q) = %s, decodeJSON gives %s", b, f, s)
	}
	return true
}

// TestDecodePings: the seeds (the fuzz target's, run as a test), and which of
// them the fast path takes.
func TestDecodePings(t *testing.T) {
	took := 0
	for _, s := range pingSeeds {
		if checkFastPings(t, []byte(s)) {
			took++
		}
	}
	if took != 4 {
		t.Errorf("the fast path took %d of the seeds, want the first 4", took)
	}
	var batch []string
	for range 50 {
		batch = append(batch, `{"lat":55.75,"lng":37.61,"accuracy_m":5,"speed_mps":3,"heading":90,"recorded_at":"2026-11-23T10:00:00.123Z"}`)
	}
	if !checkFastPings(t, []byte(`{"pings":[`+strings.Join(batch, ",")+`]}`)) {
		t.Error("a batch of 50 pings took the slow path")
	}
}

// BenchmarkDecodePings: a batch of 50 pings by the fast path and by decodeJSON.
func BenchmarkDecodePings(b *testing.B) {
	var batch []string
	for range 50 {
		batch = append(batch, `{"lat":55.75,"lng":37.61,"accuracy_m":5,"speed_mps":3,"heading":90,"recorded_at":"2026-11-23T10:00:00.123Z"}`)
	}
	body := []byte(`{"pings":[` + strings.Join(batch, ",") + `]}`)
	b.Run("fast", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, ok := decodePings(body); !ok {
				b.Fatal("slow path")
			}
		}
	})
	b.Run("decodeJSON", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			var in locationsIn
			if err := decodeJSON(body, &in); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// TestAppendNearby: the hand-written nearby answer is what encoding/json
// writes for it, for ordinary and odd values.
func TestAppendNearby(t *testing.T) {
	rng := mrand.New(mrand.NewPCG(5, 6))
	odd := []float64{0, math.Copysign(0, -1), 1e-7, -3.2e-9, 1e21, 123456789.125, 0.1, -1, 359.99999999}
	for round := range 200 {
		var found []geo.NearbyCourier
		for i := range rng.IntN(5) {
			f := func() float64 {
				if rng.IntN(4) == 0 {
					return odd[rng.IntN(len(odd))]
				}
				return (rng.Float64()*2 - 1) * math.Pow(10, float64(rng.IntN(8)-3))
			}
			at := time.Date(2026, 11, 23, 7, 0, 0, rng.IntN(1e9), time.UTC).Add(time.Duration(rng.IntN(1e6)) * time.Second)
			found = append(found, geo.NearbyCourier{Position: geo.Position{CourierID: int64(round*10 + i), Location: courier.LatLng{Lat: f(), Lng: f()},
				AccuracyM: f(), SpeedMPS: f(), Heading: f(), RecordedAt: at, ReceivedAt: at.Add(time.Duration(rng.IntN(5000)) * time.Millisecond),
				Stale: rng.IntN(2) == 0}, DistanceM: f()})
		}
		out := make([]nearbyJSON, len(found))
		for i, n := range found {
			out[i] = nearbyJSON{positionJSON: toPosition(&n.Position), DistanceM: n.DistanceM}
		}
		want, err := json.Marshal(gin.H{"items": out})
		if err != nil {
			t.Fatal(err)
		}
		if got := appendNearby(nil, found); string(got) != string(want) {
			t.Fatalf("appendNearby:\n%s\nencoding/json:\n%s", got, want)
		}
	}
}

// FuzzJSONFloat holds appendJSONFloat (and its short-decimal path) to
// encoding/json, byte for byte.
func FuzzJSONFloat(f *testing.F) {
	for _, v := range []float64{0, math.Copysign(0, -1), 1e-6, 9.99999e-7, 52.5200066, -13.404954, 0.1, 0.05, 12.5, 359.99999999,
		999999.9999999, 1e6, 123456.1234567, 1e21, 1234.5678901234, 5e-7, -0.0000015, 3, -41} {
		f.Add(v)
	}
	f.Fuzz(func(t *testing.T, v float64) {
		want, err := json.Marshal(v)
		if err != nil {
			return // Inf, NaN: never stored
		}
		if got := appendJSONFloat(nil, v); string(got) != string(want) {
			t.Fatalf("%v (%x): appendJSONFloat %s, encoding/json %s", v, math.Float64bits(v), got, want)
		}
	})
}

// FuzzJSONTime holds appendJSONTime to encoding/json, byte for byte, for UTC
// times of any nanosecond and times in other zones.
func FuzzJSONTime(f *testing.F) {
	f.Add(int64(1796000000123), int64(0), false)
	f.Add(int64(-62135596800000), int64(1), false) // year 1
	f.Add(int64(253402300799999), int64(999999), true)
	f.Add(int64(1796000000000), int64(500), true)
	f.Fuzz(func(t *testing.T, ms, ns int64, zoned bool) {
		at := time.UnixMilli(ms).Add(time.Duration(ns % 1e6)).UTC()
		if zoned {
			at = at.In(time.FixedZone("", 3*3600))
		}
		want, err := json.Marshal(at)
		if err != nil {
			return // a year encoding/json refuses
		}
		if got := appendJSONTime(nil, at); string(got) != string(want) {
			t.Fatalf("%v: appendJSONTime %s, encoding/json %s", at, got, want)
		}
	})
}

// TestJSONFloatDecimals: decimals of 0 to 9 places such as phones send, and
// the doubles next to them, are written as encoding/json writes them.
func TestJSONFloatDecimals(t *testing.T) {
	rng := mrand.New(mrand.NewPCG(7, 8))
	for range 200000 {
		d := rng.IntN(10)
		v := float64(rng.Int64N(int64(2e6*math.Pow(10, float64(d))))-int64(1e6*math.Pow(10, float64(d)))) / math.Pow(10, float64(d))
		for _, x := range []float64{v, math.Nextafter(v, math.Inf(1)), math.Nextafter(v, math.Inf(-1)), v / 7} {
			want, _ := json.Marshal(x)
			if got := appendJSONFloat(nil, x); string(got) != string(want) {
				t.Fatalf("%v: appendJSONFloat %s, encoding/json %s", x, got, want)
			}
		}
	}
}
