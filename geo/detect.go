package geo

// Off-route, idle and arrival detection on the pings of a courier with an
// active route sheet. The detectors are a pure step function over a small
// state; the state lives in Redis (tracking:{F}:detect:<id>) and is read and
// written under WATCH/MULTI together with the PUBLISH of the events, so two
// replicas ingesting for one courier at once neither lose a transition nor
// publish it twice.

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/courierhq/courier"
	"github.com/redis/go-redis/v9"
)

// PlannedStop is one stop of a route sheet as the detectors need it.
type PlannedStop struct {
	ID       int64
	Location courier.LatLng
	Done     bool // delivered, failed or skipped: no longer a place to go
}

// CourierPlan is the active route sheet of a courier.
type CourierPlan struct {
	SheetID int64
	Path    []courier.LatLng // planned polyline depot -> stops -> depot
	Stops   []PlannedStop    // in planned order; the next stop is the first not Done
}

// PlanSource tells the detectors the active plan of a courier.
type PlanSource interface {
	// ActivePlan returns the courier's active route sheet, or nil, nil when
	// the courier has none (then no detection runs).
	ActivePlan(ctx context.Context, courierID int64) (*CourierPlan, error)
}

// detectState is what the detectors remember of a courier between pings.
type detectState struct {
	Sheet int64 `json:"sheet"` // the plan the state belongs to; another sheet starts afresh
	T     int64 `json:"t"`     // recorded_at (ms) of the last ping run; older ones are skipped

	Off bool `json:"off,omitempty"` // off route

	AnchorT   int64   `json:"at,omitempty"` // standing still since (ms); 0: no anchor yet
	AnchorLat float64 `json:"alat,omitempty"`
	AnchorLng float64 `json:"alng,omitempty"`
	Idle      bool    `json:"idle,omitempty"` // idle reported

	Cand   int64   `json:"cand,omitempty"` // stop whose arrival dwell runs
	CandT  int64   `json:"ct,omitempty"`   // dwell start (ms)
	Arr    int64   `json:"arr,omitempty"`  // stop arrived at, until departed
	ArrLat float64 `json:"arlat,omitempty"`
	ArrLng float64 `json:"arlng,omitempty"`
}

// step runs the detectors on one ping (newer than s.T) and returns the
// events it raises.
//
//   - Off route: farther than OffRouteM from the planned path raises
//     off_route once; back within OffRouteM/2 raises back_on_route.
//   - Idle: the first ping farther than IdleRadiusM from the anchor becomes
//     the new anchor. Still within IdleRadiusM of it after IdleAfter, and not
//     within StopRadiusM of an open stop or the depot (the ends of the path),
//     raises idle once; leaving the anchor's radius then raises moving.
//   - Arrival at the next stop (the first not Done): within ArrivalRadiusM
//     starts a dwell, which only ends beyond ArrivalExitM, so jitter about the
//     edge does not restart it; a dwell of ArrivalDwell raises arrived once.
//     Going beyond ArrivalExitM of the stop arrived at raises departed (also
//     raised just before arriving at another stop without leaving).
func (c TrackerConfig) step(s *detectState, plan *CourierPlan, courierID int64, p Ping) []Event {
	var events []Event
	at := ms(p.RecordedAt)
	pt := p.Location()
	emit := func(typ string, stopID int64, d float64) {
		events = append(events, Event{Type: typ, CourierID: courierID, At: p.RecordedAt, Location: pt,
			SheetID: plan.SheetID, StopID: stopID, DistanceM: d})
	}
	since := func(t0 int64) time.Duration { return time.Duration(at-t0) * time.Millisecond }

	if len(plan.Path) > 0 {
		d := distanceToPathM(pt, plan.Path)
		if !s.Off && d > c.OffRouteM {
			s.Off = true
			emit(EventOffRoute, 0, d)
		} else if s.Off && d <= c.OffRouteM/2 {
			s.Off = false
			emit(EventBackOnRoute, 0, d)
		}
	}

	anchor := courier.LatLng{Lat: s.AnchorLat, Lng: s.AnchorLng}
	if s.AnchorT == 0 || HaversineM(anchor, pt) > c.IdleRadiusM {
		if s.Idle {
			s.Idle = false
			emit(EventMoving, 0, HaversineM(anchor, pt))
		}
		s.AnchorT, s.AnchorLat, s.AnchorLng = at, pt.Lat, pt.Lng
	} else if !s.Idle && since(s.AnchorT) >= c.IdleAfter {
		if d := nearestOpenPlace(pt, plan); d > c.StopRadiusM {
			s.Idle = true
			emit(EventIdle, 0, finite(d))
		}
	}

	if s.Arr != 0 {
		if d := HaversineM(pt, courier.LatLng{Lat: s.ArrLat, Lng: s.ArrLng}); d > c.ArrivalExitM {
			emit(EventDeparted, s.Arr, d)
			s.Arr = 0
		}
	}
	next := nextStop(plan)
	if next == nil || next.ID == s.Arr {
		s.Cand = 0
		return events
	}
	d := HaversineM(pt, next.Location)
	if s.Cand != next.ID {
		s.Cand = 0
	}
	if s.Cand == 0 && d <= c.ArrivalRadiusM {
		s.Cand, s.CandT = next.ID, at
	} else if s.Cand != 0 && d > c.ArrivalExitM {
		s.Cand = 0
	}
	if s.Cand != 0 && since(s.CandT) >= c.ArrivalDwell {
		if s.Arr != 0 {
			emit(EventDeparted, s.Arr, HaversineM(pt, courier.LatLng{Lat: s.ArrLat, Lng: s.ArrLng}))
		}
		emit(EventArrived, next.ID, d)
		s.Arr, s.ArrLat, s.ArrLng = next.ID, next.Location.Lat, next.Location.Lng
		s.Cand = 0
	}
	return events
}

// nextStop returns the first stop not Done, or nil.
func nextStop(plan *CourierPlan) *PlannedStop {
	for i := range plan.Stops {
		if !plan.Stops[i].Done {
			return &plan.Stops[i]
		}
	}
	return nil
}

// nearestOpenPlace returns the distance from p to the nearest stop not Done
// or end of the path (the depot), +Inf when there is none.
func nearestOpenPlace(p courier.LatLng, plan *CourierPlan) float64 {
	d := math.Inf(1)
	for _, s := range plan.Stops {
		if !s.Done {
			d = math.Min(d, HaversineM(p, s.Location))
		}
	}
	if n := len(plan.Path); n > 0 {
		d = math.Min(d, math.Min(HaversineM(p, plan.Path[0]), HaversineM(p, plan.Path[n-1])))
	}
	return d
}

// distanceToPathM returns the distance in metres from p to the polyline
// path, measured on an equirectangular projection centred on p (good to a
// fraction of a percent at city scale).
func distanceToPathM(p courier.LatLng, path []courier.LatLng) float64 {
	const rad = math.Pi / 180
	kx := EarthRadiusM * rad * math.Cos(p.Lat*rad)
	ky := EarthRadiusM * rad
	proj := func(q courier.LatLng) (x, y float64) {
		dLng := math.Remainder(q.Lng-p.Lng, 360)
		return dLng * kx, (q.Lat - p.Lat) * ky
	}
	ax, ay := proj(path[0])
	best := math.Hypot(ax, ay)
	for _, q := range path[1:] {
		bx, by := proj(q)
		dx, dy := bx-ax, by-ay
		if l2 := dx*dx + dy*dy; l2 > 0 {
			t := math.Max(0, math.Min(1, -(ax*dx+ay*dy)/l2))
			best = math.Min(best, math.Hypot(ax+t*dx, ay+t*dy))
		}
		ax, ay = bx, by
	}
	return best
}

// detectAttempts bounds the WATCH retries of one detection run.
const detectAttempts = 50

// detect runs the detectors over the stored pings (sorted) that are newer than
// the state, then saves the state and publishes the events in one MULTI; when
// another replica changed the state meanwhile, it starts over.
func (t *Tracker) detect(ctx context.Context, courierID int64, plan *CourierPlan, pings []Ping) ([]Event, error) {
	key := t.keyDetect(courierID)
	var events []Event
	run := func(tx *redis.Tx) error {
		events = events[:0]
		var s detectState
		raw, err := tx.Get(ctx, key).Bytes()
		if err != nil && !errors.Is(err, redis.Nil) {
			return err
		} else if err == nil {
			if err := json.Unmarshal(raw, &s); err != nil {
				return fmt.Errorf("decode: %w", err)
			}
		}
		if s.Sheet != plan.SheetID {
			s = detectState{Sheet: plan.SheetID, T: s.T}
		}
		ran := false
		for _, p := range pings {
			if ms(p.RecordedAt) <= s.T {
				continue
			}
			events = append(events, t.cfg.step(&s, plan, courierID, p)...)
			s.T = ms(p.RecordedAt)
			ran = true
		}
		if !ran {
			return nil
		}
		state, err := json.Marshal(s)
		if err != nil {
			return fmt.Errorf("encode: %w", err)
		}
		_, err = tx.TxPipelined(ctx, func(pipe redis.Pipeliner) error {
			pipe.Set(ctx, key, state, t.cfg.Retention)
			for _, e := range events {
				pipe.Publish(ctx, t.Channel(), encodeEvent(e))
			}
			return nil
		})
		return err
	}
	for range detectAttempts {
		err := t.rdb.Watch(ctx, run, key)
		if err == nil {
			return events, nil
		} else if !errors.Is(err, redis.TxFailedErr) {
			return nil, redisErr(err, "detect for courier %d", courierID)
		}
	}
	return nil, fmt.Errorf("detect for courier %d: state kept changing, %d attempts", courierID, detectAttempts)
}
