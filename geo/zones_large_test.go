package geo

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/courierhq/courier"
	"github.com/courierhq/courier/store"
	"github.com/paulmach/orb"
	"github.com/paulmach/orb/planar"
)

// wavySquare is a GeoJSON polygon of about side km a side, south-west corner
// at (lat, lng), whose edges wave with n vertices each (a real border, not
// four straight lines).
func wavySquare(lat, lng, sideKm float64, n int) string {
	dLat := sideKm / 110.57
	dLng := sideKm / (111.32 * math.Cos(lat*math.Pi/180))
	var pts []string
	add := func(la, ln float64) { pts = append(pts, fmt.Sprintf("[%.6f,%.6f]", ln, la)) }
	wave := func(i int) float64 { return 0.01 * math.Sin(float64(i)*0.7) * math.Sin(math.Pi*float64(i)/float64(n)) } // flat at the corners
	for i := range n {                                                                                               // south edge, west to east
		add(lat+wave(i)*dLat, lng+dLng*float64(i)/float64(n))
	}
	for i := range n { // east edge
		add(lat+dLat*float64(i)/float64(n), lng+dLng+wave(i)*dLng)
	}
	for i := range n { // north edge
		add(lat+dLat+wave(i)*dLat, lng+dLng*(1-float64(i)/float64(n)))
	}
	for i := range n { // west edge
		add(lat+dLat*(1-float64(i)/float64(n)), lng+wave(i)*dLng)
	}
	pts = append(pts, pts[0])
	return `{"type":"Polygon","coordinates":[[` + strings.Join(pts, ",") + `]]}`
}

// largeZones are 8 zones of about 99 x 99 km (97 km and their waves) side by side (4 x 2) south of
// Moscow, each with 1,600 border vertices, and 200 district zones of 3 x 3 km
// over them (a 20 x 10 grid): the large and the many.
func largeZones() []*courier.Zone {
	var zones []*courier.Zone
	id := int64(0)
	for row := range 2 {
		for col := range 4 {
			id++
			zones = append(zones, &courier.Zone{ID: id, Name: fmt.Sprintf("Region %d", id), Kind: courier.ZonePermanent, Version: 1,
				Geometry: []byte(wavySquare(53.5+float64(row)*0.9, 35.0+float64(col)*1.5, 97, 400))})
		}
	}
	for row := range 10 {
		for col := range 20 {
			id++
			zones = append(zones, &courier.Zone{ID: id, Name: fmt.Sprintf("District %d", id), Kind: courier.ZoneDynamic, Version: 1,
				Weekdays: []int{1, 2, 3, 4, 5}, Geometry: []byte(wavySquare(54.0+float64(row)*0.03, 36.0+float64(col)*0.05, 3, 12))})
		}
	}
	return zones
}

// samplePoints are points spread over the large zones and a little beyond.
func samplePoints(n int) []courier.LatLng {
	rng := rand.New(rand.NewPCG(7, 8))
	pts := make([]courier.LatLng, n)
	for i := range pts {
		pts[i] = courier.LatLng{Lat: 53.4 + rng.Float64()*1.9, Lng: 34.9 + rng.Float64()*6.3}
	}
	return pts
}

// zoneStore opens a SQLite store holding zones.
func zoneStore(t testing.TB, zones []*courier.Zone) *store.DB {
	t.Helper()
	ctx := context.Background()
	db, err := store.Open(ctx, filepath.Join(t.TempDir(), "zones.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	for _, z := range zones {
		cp := *z
		if err := db.CreateZone(ctx, &cp); err != nil {
			t.Fatal(err)
		}
		z.ID = cp.ID
	}
	return db
}

// TestLargeZonesLookupFast: with 8 zones of about 99 x 99 km and 200 small
// ones, a large zone's cover is compacted (thousands of cells, not about
// 100,000), a lookup through the store answers in well under a millisecond
// once the index is built (it was 0.7 to 1.5 s), every answer matches the
// exact polygon test, and a zone changed through the store is seen at the
// next lookup.
func TestLargeZonesLookupFast(t *testing.T) {
	ctx := context.Background()
	zones := largeZones()
	db := zoneStore(t, zones)
	z := NewZones(db)
	start := time.Now()
	ix, err := z.Index(ctx)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("index of %d zones built in %s", len(zones), time.Since(start))
	if n := ix.Cells(zones[0].ID); n == 0 || n > 20000 {
		t.Errorf("a 99 x 99 km zone is covered by %d cells, want a compacted cover under 20,000", n)
	}
	shapes := map[int64]orb.Geometry{}
	for _, zone := range zones {
		g, _ := ParseZoneGeometry(zone.Geometry)
		shapes[zone.ID] = g
	}
	// While the zones do not change, every lookup through the store reuses
	// the index built once (its speed is BenchmarkZoneLookupLarge's, not a
	// timed test's).
	pts := samplePoints(2000)
	hits := 0
	for _, p := range pts {
		got, err := z.Index(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if got != ix {
			t.Fatalf("the index was built again though no zone changed")
		}
		found, err := got.Lookup(p)
		if err != nil {
			t.Fatal(err)
		}
		hits += len(found)
	}
	t.Logf("%d lookups through the store, %d hits", len(pts), hits)
	for _, p := range pts {
		found, _ := ix.Lookup(p)
		n := 0
		for id, g := range shapes {
			in := false
			switch g := g.(type) {
			case orb.Polygon:
				in = planar.PolygonContains(g, ToPoint(p))
			case orb.MultiPolygon:
				in = planar.MultiPolygonContains(g, ToPoint(p))
			}
			if in {
				n++
				ok := false
				for _, f := range found {
					ok = ok || f.ID == id
				}
				if !ok {
					t.Fatalf("%v: zone %d holds it, the index says %v", p, id, found)
				}
			}
		}
		if n != len(found) {
			t.Fatalf("%v: %d zones hold it, the index found %d", p, n, len(found))
		}
	}
	if hits < 1000 {
		t.Errorf("only %d hits: the sample misses the zones", hits)
	}
	// A change through the store is seen at once.
	if _, err := db.UpdateZone(ctx, zones[0].ID, func(zn *courier.Zone) error {
		zn.Geometry = []byte(wavySquare(60, 30, 5, 8))
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	centre := courier.LatLng{Lat: 53.5 + 0.45, Lng: 35.0 + 0.75}
	if zn, err := z.ZoneAt(ctx, centre, "2026-11-22"); err != nil || zn != nil {
		t.Errorf("after moving zone 1 away its old centre is in %v (%v)", zn, err)
	}
}

// BenchmarkZoneLookupLarge measures lookups over 8 zones of about 99 x 99 km
// and 200 districts: the index alone, and through Zones over SQLite (one
// ZoneSetVersion query, then the cached index).
func BenchmarkZoneLookupLarge(b *testing.B) {
	zones := largeZones()
	pts := samplePoints(4096)
	b.Run("index", func(b *testing.B) {
		ix, err := BuildZoneIndex(zones)
		if err != nil {
			b.Fatal(err)
		}
		b.ResetTimer()
		for i := range b.N {
			if _, err := ix.Lookup(pts[i%len(pts)]); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("through-store", func(b *testing.B) {
		z := NewZones(zoneStore(b, zones))
		ctx := context.Background()
		if _, err := z.Index(ctx); err != nil {
			b.Fatal(err)
		}
		b.ResetTimer()
		for i := range b.N {
			if _, err := z.ZoneAt(ctx, pts[i%len(pts)], "2026-11-23"); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("build", func(b *testing.B) {
		for range b.N {
			if _, err := BuildZoneIndex(zones); err != nil {
				b.Fatal(err)
			}
		}
	})
}
