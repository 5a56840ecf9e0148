package geo

import (
	"context"
	"math"
	"time"
)

// OdometerStepM is the least move the odometer counts: GPS fixes wander a
// few metres while the courier stands at a door, and summing that jitter
// would add kilometres over a day. The distance is counted from an anchor
// fix to the first fix at least this far from it, which becomes the anchor.
const OdometerStepM = 25

// DrivenM returns the distance of the courier's GPS track recorded within
// [from, to], in metres (see OdometerStepM); ok is false when the track has
// fewer than two fixes there (the distance is not known). Returns EINVALID
// when from is after to.
func (t *Tracker) DrivenM(ctx context.Context, courierID int64, from, to time.Time) (int64, bool, error) {
	pings, err := t.Track(ctx, courierID, from, to)
	if err != nil {
		return 0, false, err
	}
	m, ok := TrackDistanceM(pings)
	return m, ok, nil
}

// TrackDistanceM is the odometer over pings sorted by time (as Track returns them).
func TrackDistanceM(pings []Ping) (int64, bool) {
	if len(pings) < 2 {
		return 0, false
	}
	var m float64
	anchor := pings[0].Location()
	for _, p := range pings[1:] {
		if d := HaversineM(anchor, p.Location()); d >= OdometerStepM {
			m += d
			anchor = p.Location()
		}
	}
	return int64(math.Round(m)), true
}

// Keeps returns how long the history of a courier is kept: a track older
// than that is gone.
func (t *Tracker) Keeps() time.Duration { return t.cfg.Retention }
