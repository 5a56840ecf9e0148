package geo

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"sync"

	"github.com/courierhq/courier"
	"github.com/paulmach/orb"
	"github.com/paulmach/orb/geojson"
	"github.com/paulmach/orb/planar"
	"github.com/uber/h3-go/v4"
)

// ZoneResolution is the finest H3 resolution of zone covers: 9, hexagons of
// about 0.1 km² (edges of about 200 m). A city district of 50 km² is about
// 500 cells. A point's cell answers most lookups at once: cells wholly inside
// a zone decide without geometry; only cells that cross a zone's border fall
// back to the exact polygon test. Larger zones are covered at coarser
// resolutions (coverResolution), and every cover's interior is compacted.
const ZoneResolution = 9

// maxCoverCells is about how many cells a zone's cover may have before
// compaction: a zone whose bounding box would need more at one resolution
// is covered at the next coarser one (hexagons seven times larger). A
// district keeps resolution 9; a zone of 100 x 100 km gets resolution 7
// (5 km² hexagons, about 2,000 cells), built in milliseconds, not seconds.
const maxCoverCells = 5000

// cellKm2 is the average hexagon area of H3 resolutions 0 to 9, in km².
var cellKm2 = [...]float64{4357449, 609788, 86801, 12393, 1770, 252.9, 36.13, 5.161, 0.7373, 0.1053}

// coverResolution is the resolution a zone with bounding box b is covered at.
func coverResolution(b orb.Bound) int {
	area := boundKm2(b)
	for r := ZoneResolution; r > 5; r-- {
		if area/cellKm2[r] <= maxCoverCells {
			return r
		}
	}
	return 5
}

// MaxZoneVertices bounds a zone's geometry, so validation and covers stay cheap.
const MaxZoneVertices = 5000

// MaxZoneAreaKm2 bounds the bounding box of a zone (a large city is about
// 2,500 km²); at resolution 9 its cover stays under about 100,000 cells.
const MaxZoneAreaKm2 = 10000

// boundKm2 is the area of a lng/lat bounding box in km², near enough.
func boundKm2(b orb.Bound) float64 {
	midLat := (b.Min[1] + b.Max[1]) / 2 * math.Pi / 180
	return (b.Max[0] - b.Min[0]) * 111.32 * math.Cos(midLat) * (b.Max[1] - b.Min[1]) * 110.57
}

// ToPoint converts a wire/domain position to orb's {lng, lat}: the one place
// where the coordinate order flips.
func ToPoint(p courier.LatLng) orb.Point { return orb.Point{p.Lng, p.Lat} }

// FromPoint converts orb's {lng, lat} back.
func FromPoint(p orb.Point) courier.LatLng { return courier.LatLng{Lat: p[1], Lng: p[0]} }

// ParseZoneGeometry reads and validates a GeoJSON Polygon or MultiPolygon
// geometry object: rings closed with at least four positions, coordinates in
// range, no ring crossing itself or another ring of its polygon. Returns
// EINVALID naming what is wrong (field "geometry").
func ParseZoneGeometry(raw []byte) (orb.Geometry, error) {
	g, err := geojson.UnmarshalGeometry(raw)
	if err != nil {
		// orb's error names Go types: say what is expected instead.
		return nil, courier.FieldError("geometry", `not a GeoJSON geometry: {"type": "Polygon" or "MultiPolygon", "coordinates": [...]} expected`)
	}
	var polys orb.MultiPolygon
	switch t := g.Geometry().(type) {
	case orb.Polygon:
		polys = orb.MultiPolygon{t}
	case orb.MultiPolygon:
		polys = t
	default:
		return nil, courier.FieldError("geometry", "must be a Polygon or MultiPolygon, not %s", g.Type)
	}
	if len(polys) == 0 {
		return nil, courier.FieldError("geometry", "has no polygons")
	}
	// Sizes first: the crossing check is quadratic and the H3 cover grows with
	// the area, so a huge or mistyped zone is refused before any of that.
	vertices := 0
	for _, poly := range polys {
		for _, ring := range poly {
			vertices += len(ring)
		}
	}
	if vertices > MaxZoneVertices {
		return nil, courier.FieldError("geometry", "has %d positions, at most %d", vertices, MaxZoneVertices)
	}
	for pi, poly := range polys {
		for ri, ring := range poly {
			for vi, p := range ring {
				if math.IsNaN(p[0]) || math.IsNaN(p[1]) || p[1] < -90 || p[1] > 90 || p[0] < -180 || p[0] > 180 {
					return nil, courier.FieldError("geometry", "polygon %d, ring %d, position %d: [lng, lat] out of range", pi, ri, vi)
				}
			}
		}
	}
	if b := polys.Bound(); boundKm2(b) > MaxZoneAreaKm2 {
		return nil, courier.FieldError("geometry", "spans about %.0f km² (its bounding box); a zone may span at most %.0f km² — are lat and lng swapped?",
			boundKm2(b), float64(MaxZoneAreaKm2))
	}
	for pi, poly := range polys {
		if len(poly) == 0 {
			return nil, courier.FieldError("geometry", "polygon %d has no rings", pi)
		}
		for ri, ring := range poly {
			where := fmt.Sprintf("polygon %d, ring %d", pi, ri)
			if len(ring) < 4 {
				return nil, courier.FieldError("geometry", "%s: a ring needs at least 4 positions", where)
			}
			if ring[0] != ring[len(ring)-1] {
				return nil, courier.FieldError("geometry", "%s: the ring is not closed (the last position must repeat the first)", where)
			}
			if math.Abs(planar.Area(ring)) == 0 {
				return nil, courier.FieldError("geometry", "%s: the ring has no area", where)
			}
		}
		if err := checkCrossings(poly); err != nil {
			return nil, courier.FieldError("geometry", "polygon %d: %s", pi, err.Error())
		}
		// The rings do not cross, so a hole lies inside its shell exactly when
		// one of its positions that is not on the shell's edge does.
		for ri, hole := range poly[1:] {
			if !insideRing(poly[0], hole) {
				return nil, courier.FieldError("geometry", "polygon %d, ring %d: a hole must lie inside the outer ring (ring 0)", pi, ri+1)
			}
		}
	}
	return g.Geometry(), nil
}

// checkCrossings finds two edges of a polygon's rings that cross or overlap,
// other than neighbours along one ring meeting at their shared vertex.
func checkCrossings(poly orb.Polygon) error {
	type edge struct {
		a, b        orb.Point
		ring, index int
	}
	var edges []edge
	for ri, ring := range poly {
		for i := 0; i+1 < len(ring); i++ {
			if ring[i] == ring[i+1] {
				return fmt.Errorf("ring %d repeats position %d", ri, i)
			}
			edges = append(edges, edge{ring[i], ring[i+1], ri, i})
		}
	}
	for i := range edges {
		for j := i + 1; j < len(edges); j++ {
			e, f := edges[i], edges[j]
			if e.ring == f.ring {
				n := len(poly[e.ring]) - 1 // edges in the ring
				if f.index == e.index+1 || (e.index == 0 && f.index == n-1) {
					// Neighbours share a vertex; they are wrong only if they fold back onto each other.
					if collinearOverlap(e.a, e.b, f.a, f.b) {
						return fmt.Errorf("ring %d folds back on itself at position %d", e.ring, f.index)
					}
					continue
				}
			}
			if segmentsTouch(e.a, e.b, f.a, f.b) {
				if e.ring == f.ring {
					return fmt.Errorf("ring %d intersects itself (edges %d and %d)", e.ring, e.index, f.index)
				}
				return fmt.Errorf("ring %d crosses ring %d", e.ring, f.ring)
			}
		}
	}
	return nil
}

func orient(a, b, c orb.Point) float64 {
	return (b[0]-a[0])*(c[1]-a[1]) - (b[1]-a[1])*(c[0]-a[0])
}

func onSegment(a, b, p orb.Point) bool {
	return math.Min(a[0], b[0]) <= p[0] && p[0] <= math.Max(a[0], b[0]) && math.Min(a[1], b[1]) <= p[1] && p[1] <= math.Max(a[1], b[1])
}

func sign(x float64) int {
	switch {
	case x > 0:
		return 1
	case x < 0:
		return -1
	}
	return 0
}

// segmentsTouch reports whether segments ab and cd share any point.
func segmentsTouch(a, b, c, d orb.Point) bool {
	o1, o2 := sign(orient(a, b, c)), sign(orient(a, b, d))
	o3, o4 := sign(orient(c, d, a)), sign(orient(c, d, b))
	if o1 != o2 && o3 != o4 {
		return true
	}
	return (o1 == 0 && onSegment(a, b, c)) || (o2 == 0 && onSegment(a, b, d)) ||
		(o3 == 0 && onSegment(c, d, a)) || (o4 == 0 && onSegment(c, d, b))
}

// collinearOverlap reports whether two edges that share an endpoint lie on
// one line and overlap beyond it (the ring folds back).
func collinearOverlap(a, b, c, d orb.Point) bool {
	if sign(orient(a, b, c)) != 0 || sign(orient(a, b, d)) != 0 {
		return false
	}
	s, u, v := b, a, d // shared vertex s, far ends u and v
	switch {
	case a == d:
		s, u, v = a, b, c
	case a == c:
		s, u, v = a, b, d
	case b == d:
		s, u, v = b, a, c
	}
	return (u[0]-s[0])*(v[0]-s[0])+(u[1]-s[1])*(v[1]-s[1]) > 0
}

// zoneCover is a zone with its parsed geometry and its H3 cover: the cells
// wholly inside the zone, compacted (a large zone's interior is a few
// hundred coarse cells, not a hundred thousand fine ones), and the cells of
// its cover resolution that cross its border.
type zoneCover struct {
	zone   *courier.Zone
	shape  orb.MultiPolygon
	bound  orb.Bound
	inside map[h3.Cell]bool // cell -> wholly inside (true) or crossing the border (false)
}

func buildCover(z *courier.Zone) (*zoneCover, error) {
	g, err := ParseZoneGeometry(z.Geometry)
	if err != nil {
		return nil, fmt.Errorf("zone %d: %w", z.ID, err)
	}
	mp, ok := g.(orb.MultiPolygon)
	if !ok {
		mp = orb.MultiPolygon{g.(orb.Polygon)}
	}
	c := &zoneCover{zone: z, shape: mp, bound: mp.Bound(), inside: map[h3.Cell]bool{}}
	res := coverResolution(c.bound)
	full := map[h3.Cell]bool{}
	var border []h3.Cell
	for _, poly := range mp {
		gp := h3.GeoPolygon{GeoLoop: loop(poly[0])}
		for _, hole := range poly[1:] {
			gp.Holes = append(gp.Holes, loop(hole))
		}
		over, err := h3.PolygonToCellsExperimental(gp, res, h3.ContainmentOverlapping)
		if err != nil {
			return nil, fmt.Errorf("zone %d: h3 cover: %w", z.ID, err)
		}
		in, err := h3.PolygonToCellsExperimental(gp, res, h3.ContainmentFull)
		if err != nil {
			return nil, fmt.Errorf("zone %d: h3 cover: %w", z.ID, err)
		}
		for _, cell := range in {
			full[cell] = true
		}
		border = append(border, over...)
	}
	interior := make([]h3.Cell, 0, len(full))
	for cell := range full {
		interior = append(interior, cell)
	}
	compact, err := h3.CompactCells(interior)
	if err != nil {
		return nil, fmt.Errorf("zone %d: compact h3 cover: %w", z.ID, err)
	}
	for _, cell := range border {
		if !full[cell] {
			c.inside[cell] = false
		}
	}
	for _, cell := range compact {
		c.inside[cell] = true
	}
	return c, nil
}

func loop(r orb.Ring) h3.GeoLoop {
	l := make(h3.GeoLoop, 0, len(r)-1)
	for _, p := range r[:len(r)-1] { // h3 loops are implicitly closed
		l = append(l, h3.LatLng{Lat: p[1], Lng: p[0]})
	}
	return l
}

// contains reports whether the zone holds p, whose cell (at some
// resolution) is one of the zone's cells: a cell inside decides at once; a
// border cell falls back to the exact polygon test.
func (c *zoneCover) contains(cell h3.Cell, p orb.Point) bool {
	inside, ok := c.inside[cell]
	if !ok {
		return false
	}
	if inside {
		return true
	}
	return c.bound.Contains(p) && planar.MultiPolygonContains(c.shape, p)
}

// ZoneIndex answers which zones hold a point. It is immutable; build a new
// one when zones change. Cells of several resolutions are in one map: a
// lookup tries the point's cell at each resolution the index holds, a dozen
// map reads at most, however large the zones.
type ZoneIndex struct {
	covers []*zoneCover
	cells  map[h3.Cell][]*zoneCover
	res    []int // the resolutions of the cells, finest first
}

// Lookup returns the zones that hold p, dynamic ones first, then by id,
// whether or not they apply at a given time.
func (ix *ZoneIndex) Lookup(p courier.LatLng) ([]*courier.Zone, error) {
	if err := p.Validate("location"); err != nil {
		return nil, err
	}
	fine, err := h3.LatLngToCell(h3.LatLng{Lat: p.Lat, Lng: p.Lng}, ZoneResolution)
	if err != nil {
		return nil, fmt.Errorf("h3 cell: %w", err)
	}
	pt := ToPoint(p)
	var out []*courier.Zone
	for _, r := range ix.res {
		cell := fine
		if r != ZoneResolution {
			if cell, err = fine.Parent(r); err != nil {
				return nil, fmt.Errorf("h3 cell: %w", err)
			}
		}
		for _, c := range ix.cells[cell] {
			if c.contains(cell, pt) && !slices.Contains(out, c.zone) {
				out = append(out, c.zone)
			}
		}
	}
	slices.SortFunc(out, func(a, b *courier.Zone) int {
		if (a.Kind == courier.ZoneDynamic) != (b.Kind == courier.ZoneDynamic) {
			if a.Kind == courier.ZoneDynamic {
				return -1
			}
			return 1
		}
		return int(a.ID - b.ID)
	})
	return out, nil
}

// Cells returns how many H3 cells (of any resolution) cover a zone (0 for
// an unknown zone).
func (ix *ZoneIndex) Cells(zoneID int64) int {
	for _, c := range ix.covers {
		if c.zone.ID == zoneID {
			return len(c.inside)
		}
	}
	return 0
}

// BuildZoneIndex indexes zones without a cache (tests, one-off tools).
func BuildZoneIndex(zones []*courier.Zone) (*ZoneIndex, error) {
	ix := &ZoneIndex{cells: map[h3.Cell][]*zoneCover{}}
	for _, zone := range zones {
		c, err := buildCover(zone)
		if err != nil {
			return nil, err
		}
		ix.add(c)
	}
	return ix, nil
}

func (ix *ZoneIndex) add(c *zoneCover) {
	ix.covers = append(ix.covers, c)
	for cell := range c.inside {
		ix.cells[cell] = append(ix.cells[cell], c)
		if r := cell.Resolution(); !slices.Contains(ix.res, r) {
			ix.res = append(ix.res, r)
			slices.SortFunc(ix.res, func(a, b int) int { return b - a })
		}
	}
}

// Zones reads zones from the store and keeps their index: each lookup asks
// the store only whether the set of zones changed (ZoneSetVersion, one
// small query), so a change made through any replica is seen at once, and
// rebuilds the index when it did, re-covering only the zones whose version
// changed.
type Zones struct {
	store courier.ZoneStore
	mu    sync.Mutex
	cache map[int64]*zoneCover
	ix    *ZoneIndex // the index of the zone set at version
	ver   string
}

// NewZones returns the zone index over store.
func NewZones(store courier.ZoneStore) *Zones {
	return &Zones{store: store, cache: map[int64]*zoneCover{}}
}

// Index returns an index of the zones as they are now.
func (z *Zones) Index(ctx context.Context) (*ZoneIndex, error) {
	ver, err := z.store.ZoneSetVersion(ctx)
	if err != nil {
		return nil, err
	}
	z.mu.Lock()
	if z.ix != nil && z.ver == ver {
		ix := z.ix
		z.mu.Unlock()
		return ix, nil
	}
	z.mu.Unlock()
	zones, err := z.store.ListZones(ctx)
	if err != nil {
		return nil, err
	}
	ix := &ZoneIndex{cells: map[h3.Cell][]*zoneCover{}}
	z.mu.Lock()
	cache := z.cache
	z.mu.Unlock()
	covers := map[int64]*zoneCover{}
	for _, zone := range zones {
		c := cache[zone.ID]
		if c == nil || c.zone.Version != zone.Version {
			if c, err = buildCover(zone); err != nil {
				return nil, err
			}
		}
		cp := *c
		cp.zone = zone
		covers[zone.ID] = &cp
		ix.add(&cp)
	}
	// Keep what was read only once it is committed: a request transaction
	// that rolls back must not leave its zones in the cache.
	courier.AfterTx(ctx, func(committed bool) {
		if !committed {
			return
		}
		z.mu.Lock()
		defer z.mu.Unlock()
		z.cache, z.ix, z.ver = covers, ix, ver
	})
	return ix, nil
}

// ZoneAt returns the zone an order at p on date belongs to: among the zones
// holding p and active that day, a dynamic one before a permanent one, then the
// lowest id. It returns nil when no zone holds p.
func (z *Zones) ZoneAt(ctx context.Context, p courier.LatLng, date string) (*courier.Zone, error) {
	ix, err := z.Index(ctx)
	if err != nil {
		return nil, err
	}
	return ix.ZoneAt(p, date)
}

// ZoneAt is Zones.ZoneAt over this index.
func (ix *ZoneIndex) ZoneAt(p courier.LatLng, date string) (*courier.Zone, error) {
	zones, err := ix.Lookup(p)
	if err != nil {
		return nil, err
	}
	for _, zone := range zones {
		if zone.ActiveOn(date) {
			return zone, nil
		}
	}
	return nil, nil
}

// MarshalGeometry re-encodes a geometry as a GeoJSON geometry object.
func MarshalGeometry(g orb.Geometry) ([]byte, error) {
	return json.Marshal(geojson.NewGeometry(g))
}

// insideRing reports whether hole lies inside shell, given that their edges
// do not cross: its first position off the shell's edge decides.
func insideRing(shell, hole orb.Ring) bool {
	for _, p := range hole {
		if onRing(shell, p) {
			continue
		}
		return planar.RingContains(shell, p)
	}
	return false // every position on the shell's edge: no area inside
}

// onRing reports whether p lies on an edge of r.
func onRing(r orb.Ring, p orb.Point) bool {
	for i := 0; i+1 < len(r); i++ {
		a, b := r[i], r[i+1]
		cross := (b[0]-a[0])*(p[1]-a[1]) - (b[1]-a[1])*(p[0]-a[0])
		if math.Abs(cross) < 1e-12 && p[0] >= math.Min(a[0], b[0]) && p[0] <= math.Max(a[0], b[0]) &&
			p[1] >= math.Min(a[1], b[1]) && p[1] <= math.Max(a[1], b[1]) {
			return true
		}
	}
	return false
}
