package geo

import (
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/courierhq/courier"
	"github.com/paulmach/orb"
	"github.com/paulmach/orb/planar"
)

func TestParseZoneGeometry(t *testing.T) {
	for _, test := range []struct {
		name, geojson, wantErr string
	}{
		{"square", `{"type":"Polygon","coordinates":[[[37.6,55.7],[37.7,55.7],[37.7,55.8],[37.6,55.8],[37.6,55.7]]]}`, ""},
		{"square with a hole", `{"type":"Polygon","coordinates":[[[37.6,55.7],[37.7,55.7],[37.7,55.8],[37.6,55.8],[37.6,55.7]],
			[[37.62,55.72],[37.64,55.72],[37.64,55.74],[37.62,55.72]]]}`, ""},
		{"two squares", `{"type":"MultiPolygon","coordinates":[[[[37.6,55.7],[37.7,55.7],[37.7,55.8],[37.6,55.7]]],
			[[[38.6,55.7],[38.7,55.7],[38.7,55.8],[38.6,55.7]]]]}`, ""},
		{"a point", `{"type":"Point","coordinates":[37.6,55.7]}`, "must be a Polygon or MultiPolygon"},
		{"not JSON", `{"type":"Polygon",`, "not a GeoJSON geometry"},
		{"open ring", `{"type":"Polygon","coordinates":[[[37.6,55.7],[37.7,55.7],[37.7,55.8],[37.6,55.8]]]}`, "not closed"},
		{"too few positions", `{"type":"Polygon","coordinates":[[[37.6,55.7],[37.7,55.7],[37.6,55.7]]]}`, "at least 4 positions"},
		{"latitude out of range", `{"type":"Polygon","coordinates":[[[37.6,95.7],[37.7,55.7],[37.7,55.8],[37.6,95.7]]]}`, "out of range"},
		{"bow tie", `{"type":"Polygon","coordinates":[[[0,0],[0.02,0.02],[0.02,0],[0,0.01],[0,0]]]}`, "intersects itself"},
		{"spike folding back", `{"type":"Polygon","coordinates":[[[0,0],[0.02,0],[0.01,0],[0.01,0.01],[0,0]]]}`, "folds back"},
		{"hole crossing the outer ring", `{"type":"Polygon","coordinates":[[[0,0],[0.01,0],[0.01,0.01],[0,0.01],[0,0]],[[0.005,0.005],[0.015,0.005],[0.015,0.006],[0.005,0.005]]]}`, "crosses ring"},
		{"no area", `{"type":"Polygon","coordinates":[[[0,0],[0.01,0.01],[0.02,0.02],[0,0]]]}`, "no area"},
		{"a whole country (lat and lng swapped)", `{"type":"Polygon","coordinates":[[[55.7,37.6],[56.7,37.6],[56.7,38.6],[55.7,37.6]]]}`, ""},
		{"a continent", `{"type":"Polygon","coordinates":[[[30,50],[40,50],[40,60],[30,50]]]}`, "at most 10000 km²"},
		{"repeated position", `{"type":"Polygon","coordinates":[[[0,0],[0.01,0],[0.01,0],[0.01,0.01],[0,0]]]}`, "repeats position"},
	} {
		_, err := ParseZoneGeometry([]byte(test.geojson))
		switch {
		case test.wantErr == "" && err != nil:
			t.Errorf("%s: %v", test.name, err)
		case test.wantErr != "" && (err == nil || !strings.Contains(courier.ErrorMessage(err), test.wantErr)):
			t.Errorf("%s: error %v, want %q", test.name, err, test.wantErr)
		case test.wantErr != "" && courier.ErrorCode(err) != courier.EINVALID:
			t.Errorf("%s: code %s", test.name, courier.ErrorCode(err))
		}
	}
}

// A district of central Moscow with a hole (a park), and an overlapping
// dynamic evening zone.
var (
	district = `{"type":"Polygon","coordinates":[[[37.58,55.73],[37.66,55.73],[37.67,55.77],[37.62,55.79],[37.57,55.76],[37.58,55.73]],
		[[37.60,55.75],[37.61,55.75],[37.61,55.755],[37.60,55.755],[37.60,55.75]]]}`
	evening = `{"type":"Polygon","coordinates":[[[37.64,55.74],[37.70,55.74],[37.70,55.78],[37.64,55.78],[37.64,55.74]]]}`
)

// TestZoneIndexMatchesExactGeometry: the H3-accelerated lookup answers the
// same as the exact polygon test for points all over and around the zones.
func TestZoneIndexMatchesExactGeometry(t *testing.T) {
	zones := []*courier.Zone{
		{ID: 1, Kind: courier.ZonePermanent, Geometry: []byte(district), Version: 1},
		{ID: 2, Kind: courier.ZoneDynamic, Geometry: []byte(evening), Version: 1, Weekdays: []int{1, 2, 3, 4, 5}},
	}
	ix, err := BuildZoneIndex(zones)
	if err != nil {
		t.Fatal(err)
	}
	if n := ix.Cells(1); n < 100 {
		t.Fatalf("zone 1 is covered by %d cells", n)
	}
	var shapes []orb.Geometry
	for _, z := range zones {
		g, _ := ParseZoneGeometry(z.Geometry)
		shapes = append(shapes, g)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	inside := 0
	for range 20000 {
		p := courier.LatLng{Lat: 55.72 + rng.Float64()*0.08, Lng: 37.55 + rng.Float64()*0.17}
		got, err := ix.Lookup(p)
		if err != nil {
			t.Fatal(err)
		}
		var want []int64
		for _, id := range []int{1, 0} { // dynamic zone 2 first
			if planar.PolygonContains(shapes[id].(orb.Polygon), ToPoint(p)) {
				want = append(want, zones[id].ID)
			}
		}
		var ids []int64
		for _, z := range got {
			ids = append(ids, z.ID)
		}
		if len(ids) != len(want) || (len(ids) > 0 && (ids[0] != want[0] || ids[len(ids)-1] != want[len(want)-1])) {
			t.Fatalf("point %v: lookup %v, exact %v", p, ids, want)
		}
		inside += len(ids)
	}
	if inside < 5000 {
		t.Errorf("only %d hits: the sample misses the zones", inside)
	}
	// The hole is not in the zone; the evening zone applies on weekdays only.
	if got, _ := ix.Lookup(courier.LatLng{Lat: 55.752, Lng: 37.605}); len(got) != 0 {
		t.Errorf("a point in the hole is in %v", got)
	}
	both := courier.LatLng{Lat: 55.76, Lng: 37.65}
	if z, _ := ix.ZoneAt(both, "2026-11-23"); z == nil || z.ID != 2 { // a Monday
		t.Errorf("Monday: zone %v, want the dynamic zone 2", z)
	}
	if z, _ := ix.ZoneAt(both, "2026-11-22"); z == nil || z.ID != 1 { // a Sunday
		t.Errorf("Sunday: zone %v, want the permanent zone 1", z)
	}
	if _, err := ix.Lookup(courier.LatLng{Lat: 91}); courier.ErrorCode(err) != courier.EINVALID {
		t.Errorf("lat 91: %v", err)
	}
}

func BenchmarkZoneLookup(b *testing.B) {
	ix, err := BuildZoneIndex([]*courier.Zone{{ID: 1, Geometry: []byte(district)}, {ID: 2, Kind: courier.ZoneDynamic, Geometry: []byte(evening)}})
	if err != nil {
		b.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	pts := make([]courier.LatLng, 1024)
	for i := range pts {
		pts[i] = courier.LatLng{Lat: 55.72 + rng.Float64()*0.08, Lng: 37.55 + rng.Float64()*0.17}
	}
	b.ResetTimer()
	for i := range b.N {
		if _, err := ix.Lookup(pts[i%len(pts)]); err != nil {
			b.Fatal(err)
		}
	}
}
