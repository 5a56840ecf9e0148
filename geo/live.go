package geo

// The live index: this replica's copy of the fleet's last-seen positions,
// for Nearby. It is filled from the last-seen hash and kept current by the
// fleet's position events (every replica's ingest publishes one when a
// courier's live position moves forward), so a nearby search costs neither
// a Redis round trip nor decoding what it returns. A position is only ever
// replaced by a newer one (by recorded_at), so the snapshot and the events
// may arrive in any order. While the subscription is down Nearby asks Redis,
// and each time it is made again the snapshot is read again; it is also
// read every liveResync, which drops couriers another replica forgot.

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"math"
	"net"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/courierhq/courier"
	"github.com/redis/go-redis/v9"
)

// liveResync is how often the live index reads the whole last-seen hash again.
const liveResync = time.Minute

// liveCellDeg is the side of the index's grid cells in degrees (about 1.1 km
// north-south).
const liveCellDeg = 0.01

// redisEarthRadiusM is the Earth radius Redis's GEO commands measure with:
// the index measures alike, so Nearby answers the same from either.
const redisEarthRadiusM = 6372797.560856

type liveCell struct{ lat, lng int32 }

func cellOf(lat, lng float64) liveCell {
	return liveCell{int32(math.Floor(lat / liveCellDeg)), int32(math.Floor(lng / liveCellDeg))}
}

type liveEntry struct {
	id int64
	seen
	at time.Time // when this replica learnt it
}

// liveSlot is a courier in its cell.
type liveSlot struct {
	id       int64
	rec      int64 // recorded_at, unix ms
	lat, lng float64
}

type liveIndex struct {
	mu    sync.RWMutex
	ready bool
	pos   map[int64]*liveEntry
	cells map[liveCell][]liveSlot // what a search reads, side by side in memory
	loads int                     // snapshots read
}

// put keeps s as the courier's position unless the index has a newer one.
func (x *liveIndex) put(id int64, s seen, at time.Time) {
	x.mu.Lock()
	defer x.mu.Unlock()
	x.putLocked(id, s, at)
}

func (x *liveIndex) putLocked(id int64, s seen, at time.Time) {
	old, ok := x.pos[id]
	if ok && old.Rec >= s.Rec {
		return
	}
	if x.pos == nil {
		x.pos, x.cells = map[int64]*liveEntry{}, map[liveCell][]liveSlot{}
	}
	c := cellOf(s.Lat, s.Lng)
	slot := liveSlot{id: id, rec: s.Rec, lat: s.Lat, lng: s.Lng}
	if !ok {
		x.pos[id] = &liveEntry{id: id, seen: s, at: at}
		x.cells[c] = append(x.cells[c], slot)
		return
	}
	if was := cellOf(old.Lat, old.Lng); was != c {
		x.unlink(id, was)
		x.cells[c] = append(x.cells[c], slot)
	} else if i := x.slotOf(id, c); i >= 0 {
		x.cells[c][i] = slot
	}
	old.seen, old.at = s, at
}

func (x *liveIndex) slotOf(id int64, c liveCell) int {
	return slices.IndexFunc(x.cells[c], func(s liveSlot) bool { return s.id == id })
}

func (x *liveIndex) unlink(id int64, c liveCell) {
	slots := x.cells[c]
	if i := x.slotOf(id, c); i >= 0 {
		slots[i] = slots[len(slots)-1]
		slots = slots[:len(slots)-1]
	}
	if len(slots) == 0 {
		delete(x.cells, c)
	} else {
		x.cells[c] = slots
	}
}

func (x *liveIndex) forget(id int64) {
	x.mu.Lock()
	defer x.mu.Unlock()
	if old, ok := x.pos[id]; ok {
		x.unlink(id, cellOf(old.Lat, old.Lng))
		delete(x.pos, id)
	}
}

// load replaces the index by a snapshot read since `since`, keeping what it
// learnt after that (newer than the snapshot can know).
func (x *liveIndex) load(snapshot map[int64]seen, since time.Time) {
	x.mu.Lock()
	defer x.mu.Unlock()
	old := x.pos
	x.pos, x.cells = map[int64]*liveEntry{}, map[liveCell][]liveSlot{}
	for id, s := range snapshot {
		x.putLocked(id, s, since)
	}
	for id, e := range old {
		if e.at.After(since) {
			x.putLocked(id, e.seen, e.at)
		}
	}
	x.ready = true
	x.loads++
}

func (x *liveIndex) setReady(ready bool) {
	x.mu.Lock()
	defer x.mu.Unlock()
	x.ready = ready
}

// nearby answers Nearby from the index; ok is false when it is not ready.
// It keeps the limit nearest fresh couriers as it goes.
func (x *liveIndex) nearby(p courier.LatLng, radiusM float64, limit int, now time.Time, staleAfter time.Duration) ([]NearbyCourier, bool) {
	x.mu.RLock()
	defer x.mu.RUnlock()
	if !x.ready {
		return nil, false
	}
	const rad = math.Pi / 180
	const mPerDeg = redisEarthRadiusM * rad
	freshFrom := now.Add(-staleAfter).UnixNano() // a position recorded before is stale
	// Within 20 km and off the poles, the flat distance with the cosine of
	// the mean latitude (to first order) is within 10 cm of haversine; else
	// haversine, after a flat estimate (within 2%) rules out the far ones.
	flat := radiusM <= 20000 && math.Abs(p.Lat) <= 70
	cosP, sinP := math.Cos(p.Lat*rad), math.Sin(p.Lat*rad)
	roughR2 := math.Inf(1)
	if radiusM <= 50000 && math.Abs(p.Lat) < 80 {
		r := radiusM / mPerDeg * 1.02
		roughR2 = r * r
	}
	r2 := radiusM * radiusM / (redisEarthRadiusM * redisEarthRadiusM)
	type hit struct {
		d  float64
		id int64
	}
	var kept [MaxNearbyLimit + 1]hit // on the stack
	best := kept[: 0 : limit+1]      // nearest first
	consider := func(e liveSlot) {
		if e.rec*int64(time.Millisecond) < freshFrom {
			return
		}
		var d float64
		if flat {
			dPhi, dLambda := (e.lat-p.Lat)*rad, (e.lng-p.Lng)*rad
			x := dLambda * (cosP - sinP*dPhi/2)
			d2 := x*x + dPhi*dPhi
			if d2 > r2 {
				return
			}
			d = math.Sqrt(d2) * redisEarthRadiusM
		} else {
			dy, dx := e.lat-p.Lat, (e.lng-p.Lng)*cosP
			if dy*dy+dx*dx > roughR2 {
				return
			}
			d = HaversineM(p, courier.LatLng{Lat: e.lat, Lng: e.lng}) * redisEarthRadiusM / EarthRadiusM
		}
		id := e.id
		if d > radiusM || len(best) == limit && (d > best[limit-1].d || d == best[limit-1].d && id > best[limit-1].id) {
			return
		}
		i, _ := slices.BinarySearchFunc(best, hit{d, id}, func(a, b hit) int {
			if a.d != b.d {
				if a.d < b.d {
					return -1
				}
				return 1
			}
			return int(a.id - b.id)
		})
		best = slices.Insert(best, i, hit{d, id})
		if len(best) > limit {
			best = best[:limit]
		}
	}
	// The cells of the box around the circle, or every courier when the box
	// has more cells than there are couriers.
	dLat := radiusM / mPerDeg
	cosEdge := math.Cos(math.Min(89, math.Abs(p.Lat)+dLat) * math.Pi / 180)
	dLng := math.Min(180, dLat/math.Max(cosEdge, 1e-6))
	lo, hi := cellOf(p.Lat-dLat, p.Lng-dLng), cellOf(p.Lat+dLat, p.Lng+dLng)
	if cells := (int64(hi.lat-lo.lat) + 1) * (int64(hi.lng-lo.lng) + 1); cells > int64(len(x.pos)) || p.Lng-dLng < -180 || p.Lng+dLng > 180 {
		for _, slots := range x.cells {
			for _, e := range slots {
				consider(e)
			}
		}
	} else {
		// Rings of cells outward from the centre's, until the limit's
		// farthest is nearer than any cell of the next ring can be: a cell of
		// ring r+1 is at least r whole cells away (the narrowest cell side,
		// where the box is farthest from the equator).
		c := cellOf(p.Lat, p.Lng)
		step := liveCellDeg * mPerDeg * min(1, cosEdge)
		cell := func(la, ln int32) {
			if la < lo.lat || la > hi.lat || ln < lo.lng || ln > hi.lng {
				return
			}
			for _, e := range x.cells[liveCell{la, ln}] {
				consider(e)
			}
		}
		last := max(c.lat-lo.lat, hi.lat-c.lat, c.lng-lo.lng, hi.lng-c.lng)
		for r := int32(0); r <= last; r++ {
			if r == 0 {
				cell(c.lat, c.lng)
			} else {
				for ln := c.lng - r; ln <= c.lng+r; ln++ {
					cell(c.lat-r, ln)
					cell(c.lat+r, ln)
				}
				for la := c.lat - r + 1; la <= c.lat+r-1; la++ {
					cell(la, c.lng-r)
					cell(la, c.lng+r)
				}
			}
			if len(best) == limit && best[limit-1].d < float64(r)*step {
				break
			}
		}
	}
	out := make([]NearbyCourier, len(best))
	for i, h := range best {
		e := x.pos[h.id]
		out[i] = NearbyCourier{Position: e.position(h.id, now, staleAfter), DistanceM: h.d}
	}
	return out, true
}

// RunLive keeps this replica's live index of the fleet until ctx ends, and
// Nearby answers from it while it is current. Without RunLive, Nearby asks
// Redis every time.
func (t *Tracker) RunLive(ctx context.Context, log *slog.Logger) {
	if log == nil {
		log = slog.Default()
	}
	t.live.Store(&liveIndex{})
	x := t.live.Load()
	defer x.setReady(false)
	pause, down := 200*time.Millisecond, false
	for ctx.Err() == nil {
		err := t.follow(ctx, x, func() {
			if down {
				log.Info("tracking: the live index follows the fleet again")
				down = false
			}
			pause = 200 * time.Millisecond
		})
		x.setReady(false)
		if ctx.Err() != nil {
			return
		}
		if !down {
			log.Warn("tracking: the live index is behind; nearby asks Redis until it is back", slog.Any("err", err))
			down = true
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(pause):
		}
		pause = min(2*pause, 5*time.Second)
	}
}

// follow subscribes to the fleet's events, reads the snapshot once the
// subscription is confirmed and every liveResync, and applies position
// events until the connection fails (then the index is behind until the
// next subscription and its snapshot) or ctx ends. A receive that fails
// ends it at once, so that Nearby asks Redis (and says it is away) rather
// than answer from an index that stopped moving; a silence is checked with
// a PING.
func (t *Tracker) follow(ctx context.Context, x *liveIndex, current func()) error {
	ps := t.rdb.Subscribe(ctx, t.Channel())
	defer ps.Close()
	// A receive waits for its deadline whatever ctx does: closing the
	// subscription ends it at once.
	defer context.AfterFunc(ctx, func() { ps.Close() })()
	loaded, silent := time.Time{}, 0
	for {
		if !loaded.IsZero() && time.Since(loaded) > liveResync {
			if err := t.loadLive(ctx, x); err != nil {
				return err
			}
			loaded = time.Now()
		}
		msg, err := ps.ReceiveTimeout(ctx, liveIdle)
		var nerr net.Error
		switch {
		case ctx.Err() != nil:
			return ctx.Err()
		case err != nil && errors.As(err, &nerr) && nerr.Timeout() && silent == 0:
			silent++
			if err := ps.Ping(ctx); err != nil {
				return err
			}
			continue
		case err != nil:
			return err
		}
		silent = 0
		switch m := msg.(type) {
		case *redis.Subscription: // confirmed: what was published before is in the snapshot
			if err := t.loadLive(ctx, x); err != nil {
				return err
			}
			loaded = time.Now()
			current()
		case *redis.Message:
			var e eventMessage
			if json.Unmarshal([]byte(m.Payload), &e) != nil || e.Type != EventPosition || e.Rcv == 0 {
				continue
			}
			x.put(e.CourierID, seen{Rec: ms(e.At), Rcv: e.Rcv, Lat: e.Lat, Lng: e.Lng, Acc: e.Acc, Spd: e.Spd, Hdg: e.Hdg}, time.Now())
		}
	}
}

// liveIdle is how long follow waits for a message before it pings.
const liveIdle = 5 * time.Second

// loadLive reads the whole last-seen hash into x.
func (t *Tracker) loadLive(ctx context.Context, x *liveIndex) error {
	since := time.Now()
	all, err := t.rdb.HGetAll(ctx, t.keyLast()).Result()
	if err != nil {
		return redisErr(err, "read the fleet's last-seen positions")
	}
	snapshot := make(map[int64]seen, len(all))
	for k, v := range all {
		id, err := strconv.ParseInt(k, 10, 64)
		if err != nil {
			continue
		}
		s, err := parseSeen([]byte(v), id)
		if err != nil {
			continue // a record Location would refuse: left out of the index
		}
		snapshot[id] = *s
	}
	x.load(snapshot, since)
	return nil
}
