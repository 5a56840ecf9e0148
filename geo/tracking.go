package geo

// Live tracking of couriers in Redis.
//
// A Tracker keeps one fleet (a city, or "default") under keys that share the
// hash tag {fleet}, so a whole fleet lives on one Redis Cluster slot and the
// ingest script may touch all of its keys:
//
//	tracking:{F}:live          GEO set (a sorted set): member courier id -> live position
//	tracking:{F}:last          hash: courier id -> last-seen JSON {rec, rcv, lat, lng, acc, spd, hdg}
//	                           (rec and rcv are unix milliseconds of recorded_at and receipt)
//	tracking:{F}:history:<id>  stream: one entry per accepted ping, fields rec, lat, lng, acc, spd, hdg;
//	                           capped by XADD MAXLEN (~ from 1000 entries up, exact below), trimmed
//	                           by XTRIM MINID now-Retention, key expires Retention after the last write
//	tracking:{F}:detect:<id>   string: detector state JSON (off-route, idle, arrival), expires after Retention
//	tracking:{F}:stats         hash: accepted, duplicates and one counter per drop reason (HINCRBY)
//	tracking:{F}:events        Pub/Sub channel: JSON events (position, off_route, arrived, ...)
//
// Defaults (TrackerConfig zero values): Fleet "default", MaxAccuracyM 100,
// MaxSpeedMPS 50 (180 km/h), StaleAfter 5m, HistoryMaxLen 20000, Retention
// 7 days, MaxDelay 48h, MaxSkew 2m, OffRouteM 300, IdleAfter 10m, IdleRadiusM
// 50, StopRadiusM 150, ArrivalRadiusM 80, ArrivalDwell 60s, ArrivalExitM
// 1.5 x ArrivalRadiusM.
//
// Nothing that matters is kept in the process: any number of courierd
// replicas may ingest for the same courier at once. The rule "the live
// position only moves forward in recorded time" and the history write run in
// one Lua script (EVAL), atomic on the server; the detectors read and write
// their state under WATCH/MULTI and retry when another replica got there first.
// The same commands run on a real Redis (>= 6.2) and on miniredis: GEOADD,
// GEOSEARCH, HGET/HSET/HMGET, XADD MAXLEN, XRANGE, XTRIM MINID, EVAL with
// cjson, WATCH/MULTI, PUBLISH/SUBSCRIBE.
//
// Times are recorded_at of the phone, kept with millisecond precision
// (finer parts are cut off, so two pings in the same millisecond are
// duplicates). History stream IDs are the receive time of the tracker's clock,
// kept increasing per stream: a buffered ping cannot take an ID from its
// recorded_at, because an older ID than the stream's top is refused.
// A duplicate is a ping with the recorded_at of another in its batch or of
// the last-seen one; a resent older batch is stored again (use the API's
// Idempotency-Key for retries) and Track returns one ping per recorded_at.

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"math"
	"regexp"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/courierhq/courier"
	"github.com/paulmach/orb"
	"github.com/paulmach/orb/geojson"
	"github.com/redis/go-redis/v9"
)

// Reasons a ping is dropped; the keys of IngestResult.Dropped and of Stats.
const (
	DropInvalidCoordinates = "invalid_coordinates" // NaN, out of range, 0,0, or beyond the poles a GEO set can hold
	DropPoorAccuracy       = "poor_accuracy"       // accuracy worse than MaxAccuracyM (or negative, NaN)
	DropTooFast            = "too_fast"            // implied speed from the neighbouring accepted ping above MaxSpeedMPS
	DropFuture             = "future"              // recorded more than MaxSkew after now
	DropTooOld             = "too_old"             // recorded more than MaxDelay before now
)

// Stats counters besides the drop reasons.
const (
	StatAccepted   = "accepted"
	StatDuplicates = "duplicates"
)

// Event types on the live feed.
const (
	EventPosition    = "position"      // the live position moved
	EventOffRoute    = "off_route"     // more than OffRouteM from the planned path
	EventBackOnRoute = "back_on_route" // within OffRouteM/2 of the path again
	EventIdle        = "idle"          // stood still IdleAfter, away from any open stop
	EventMoving      = "moving"        // left the place it stood idle at
	EventArrived     = "arrived"       // stayed ArrivalDwell within ArrivalRadiusM of the next stop
	EventDeparted    = "departed"      // went beyond ArrivalExitM of the stop it arrived at
)

// Limits of the queries.
const (
	MaxNearbyRadiusM = 100_000 // Nearby refuses a larger radius
	MaxNearbyLimit   = 100     // Nearby returns at most this many couriers
	MaxPingsPerBatch = 1000    // Ingest refuses a larger batch
)

// maxGeoLat is the latitude limit of Redis GEO sets (Web Mercator).
const maxGeoLat = 85.05112878

// TrackerConfig tunes a Tracker. Zero fields take the defaults listed at the
// top of tracking.go (see WithDefaults); negative ones are invalid.
type TrackerConfig struct {
	Fleet          string        // key namespace, e.g. "default" or a city: letters, digits, '.', '_', '-'
	MaxAccuracyM   float64       // drop pings with a worse (larger) accuracy radius
	MaxSpeedMPS    float64       // drop pings implying a faster move from the neighbouring accepted ping
	StaleAfter     time.Duration // a courier with no newer ping is stale
	HistoryMaxLen  int64         // per-courier history cap (entries)
	Retention      time.Duration // history and detector state are kept this long
	MaxDelay       time.Duration // how late a buffered ping may arrive; older ones are dropped as too_old
	MaxSkew        time.Duration // how far in the future recorded_at may be; beyond, dropped as future
	OffRouteM      float64       // farther from the planned path is off route
	IdleAfter      time.Duration // standing still this long is idle
	IdleRadiusM    float64       // standing still = staying within this radius
	StopRadiusM    float64       // standing within this of an open stop (or the depot) is not idle
	ArrivalRadiusM float64       // within this of the next stop starts the arrival dwell
	ArrivalDwell   time.Duration // dwell needed (not leaving beyond ArrivalExitM) to arrive
	ArrivalExitM   float64       // leaving counts only beyond this radius (hysteresis)
}

var fleetName = regexp.MustCompile(`^[A-Za-z0-9._-]{1,64}$`)

// WithDefaults returns c with every zero field set to its default.
func (c TrackerConfig) WithDefaults() TrackerConfig {
	def := func(v *float64, d float64) {
		if *v == 0 {
			*v = d
		}
	}
	dur := func(v *time.Duration, d time.Duration) {
		if *v == 0 {
			*v = d
		}
	}
	if c.Fleet == "" {
		c.Fleet = "default"
	}
	def(&c.MaxAccuracyM, 100)
	def(&c.MaxSpeedMPS, 50)
	dur(&c.StaleAfter, 5*time.Minute)
	if c.HistoryMaxLen == 0 {
		c.HistoryMaxLen = 20000
	}
	dur(&c.Retention, 7*24*time.Hour)
	dur(&c.MaxDelay, 48*time.Hour)
	dur(&c.MaxSkew, 2*time.Minute)
	def(&c.OffRouteM, 300)
	dur(&c.IdleAfter, 10*time.Minute)
	def(&c.IdleRadiusM, 50)
	def(&c.StopRadiusM, 150)
	def(&c.ArrivalRadiusM, 80)
	dur(&c.ArrivalDwell, 60*time.Second)
	def(&c.ArrivalExitM, 1.5*c.ArrivalRadiusM)
	return c
}

// Validate checks c after defaults. Returns EINVALID naming the field.
func (c TrackerConfig) Validate() error {
	c = c.WithDefaults()
	if !fleetName.MatchString(c.Fleet) {
		return courier.FieldError("fleet", "must be 1 to 64 letters, digits, '.', '_' or '-'")
	}
	for _, f := range []struct {
		name string
		v    float64
	}{
		{"max_accuracy_m", c.MaxAccuracyM}, {"max_speed_mps", c.MaxSpeedMPS}, {"off_route_m", c.OffRouteM},
		{"idle_radius_m", c.IdleRadiusM}, {"stop_radius_m", c.StopRadiusM}, {"arrival_radius_m", c.ArrivalRadiusM},
		{"arrival_exit_m", c.ArrivalExitM}, {"history_max_len", float64(c.HistoryMaxLen)},
		{"stale_after", float64(c.StaleAfter)}, {"retention", float64(c.Retention)}, {"max_delay", float64(c.MaxDelay)},
		{"max_skew", float64(c.MaxSkew)}, {"idle_after", float64(c.IdleAfter)}, {"arrival_dwell", float64(c.ArrivalDwell)},
	} {
		if !(f.v > 0) || math.IsInf(f.v, 0) {
			return courier.FieldError(f.name, "must be positive")
		}
	}
	if c.ArrivalExitM < c.ArrivalRadiusM {
		return courier.FieldError("arrival_exit_m", "must not be less than arrival_radius_m")
	}
	if c.Retention < time.Millisecond {
		return courier.FieldError("retention", "must be at least 1ms")
	}
	return nil
}

// Ping is one GPS fix from the courier's phone.
type Ping struct {
	Lat, Lng   float64
	AccuracyM  float64 // radius of the 68% confidence circle; 0 when the phone did not say
	SpeedMPS   float64
	Heading    float64 // degrees clockwise from north
	RecordedAt time.Time
}

// Location returns the position of the ping.
func (p Ping) Location() courier.LatLng { return courier.LatLng{Lat: p.Lat, Lng: p.Lng} }

// IngestResult says what happened to a batch of pings.
type IngestResult struct {
	Accepted   int            // stored in the history
	Duplicates int            // same recorded_at as another ping of the batch or as the last-seen one
	Dropped    map[string]int // reason (Drop...) -> count; never nil
	Events     []Event        // published to the live feed, in order
}

// Position is where a courier was last seen.
type Position struct {
	CourierID  int64
	Location   courier.LatLng
	AccuracyM  float64
	SpeedMPS   float64
	Heading    float64
	RecordedAt time.Time // by the phone
	ReceivedAt time.Time // by the tracker
	Stale      bool      // no newer ping for StaleAfter
}

// NearbyCourier is a courier found by Nearby.
type NearbyCourier struct {
	Position
	DistanceM float64 // from the search centre
}

// Event is one item of the live feed.
type Event struct {
	Type      string // Event...
	CourierID int64
	At        time.Time // recorded_at of the ping that caused it
	Location  courier.LatLng
	SheetID   int64   // the active route sheet, for detector events
	StopID    int64   // arrived, departed
	DistanceM float64 // off_route/back_on_route: from the path; arrived/departed: from the stop; idle: from the nearest open stop; moving: from where it stood
	// Stop events reported from the phone (sheet_progress): the order's new
	// status and the sheet's counts after it.
	Status   string
	Progress *SheetCounts
	// Position events: the rest of the courier's new last-seen record.
	AccuracyM, SpeedMPS, Heading float64
	ReceivedAt                   time.Time
}

// SheetCounts are a route sheet's stops by outcome.
type SheetCounts struct {
	Total     int `json:"total"`
	Delivered int `json:"delivered"`
	Failed    int `json:"failed"`
	Remaining int `json:"remaining"`
	Late      int `json:"late"`
}

// Event types published by the courier's day (beside the detectors').
const (
	EventSheetProgress = "sheet_progress" // a stop was arrived at, delivered or failed
	EventShiftStarted  = "shift_started"
	EventShiftEnded    = "shift_ended"
)

// Tracker keeps live positions, history and detector state of one fleet in Redis.
type Tracker struct {
	rdb   redis.UniversalClient
	clock courier.Clock
	cfg   TrackerConfig
	plans PlanSource

	prefix string // "tracking:{fleet}:"

	live atomic.Pointer[liveIndex] // this replica's copy of the live positions, while RunLive runs (live.go)

	planMu      sync.Mutex
	planCache   map[int64]cachedPlan // active plans of couriers (plancache.go)
	plansMissed bool                 // a PlansChanged failed: the next one drops every plan
}

// NewTracker returns a tracker of cfg.Fleet. Zero fields of cfg take their
// defaults; plans may be nil (no detection). NewTracker panics when cfg does
// not pass Validate: check it first where it is read.
func NewTracker(rdb redis.UniversalClient, clock courier.Clock, cfg TrackerConfig, plans PlanSource) *Tracker {
	if err := cfg.Validate(); err != nil {
		panic(fmt.Sprintf("geo.NewTracker: %v", courier.ErrorMessage(err)))
	}
	cfg = cfg.WithDefaults()
	return &Tracker{rdb: rdb, clock: clock, cfg: cfg, plans: plans, prefix: "tracking:{" + cfg.Fleet + "}:"}
}

// Config returns the configuration in effect (defaults filled in).
func (t *Tracker) Config() TrackerConfig { return t.cfg }

func (t *Tracker) keyLive() string  { return t.prefix + "live" }
func (t *Tracker) keyLast() string  { return t.prefix + "last" }
func (t *Tracker) keyStats() string { return t.prefix + "stats" }
func (t *Tracker) keyHistory(courierID int64) string {
	return t.prefix + "history:" + member(courierID)
}
func (t *Tracker) keyDetect(courierID int64) string { return t.prefix + "detect:" + member(courierID) }

// Channel is the Pub/Sub channel of the fleet's live feed.
func (t *Tracker) Channel() string { return t.prefix + "events" }

func member(courierID int64) string { return strconv.FormatInt(courierID, 10) }

// seen is the last-seen record of a courier, as stored (JSON) in the last hash.
type seen struct {
	Rec int64   `json:"rec"` // recorded_at, unix ms
	Rcv int64   `json:"rcv"` // received, unix ms
	Lat float64 `json:"lat"`
	Lng float64 `json:"lng"`
	Acc float64 `json:"acc"`
	Spd float64 `json:"spd"`
	Hdg float64 `json:"hdg"`
}

func (s seen) position(courierID int64, now time.Time, staleAfter time.Duration) Position {
	rec := time.UnixMilli(s.Rec).UTC()
	return Position{
		CourierID: courierID, Location: courier.LatLng{Lat: s.Lat, Lng: s.Lng},
		AccuracyM: s.Acc, SpeedMPS: s.Spd, Heading: s.Hdg,
		RecordedAt: rec, ReceivedAt: time.UnixMilli(s.Rcv).UTC(),
		Stale: now.Sub(rec) > staleAfter,
	}
}

func (s seen) ping() Ping {
	return Ping{Lat: s.Lat, Lng: s.Lng, AccuracyM: s.Acc, SpeedMPS: s.Spd, Heading: s.Hdg, RecordedAt: time.UnixMilli(s.Rec).UTC()}
}

// eventMessage is an Event as published on the Pub/Sub channel.
type eventMessage struct {
	Type      string       `json:"type"`
	CourierID int64        `json:"courier_id"`
	At        time.Time    `json:"at"`
	Lat       float64      `json:"lat"`
	Lng       float64      `json:"lng"`
	SheetID   int64        `json:"sheet_id,omitempty"`
	StopID    int64        `json:"stop_id,omitempty"`
	DistanceM float64      `json:"distance_m,omitempty"`
	Status    string       `json:"status,omitempty"`
	Progress  *SheetCounts `json:"progress,omitempty"`
	Rcv       int64        `json:"rcv,omitempty"` // position: received, unix ms
	Acc       float64      `json:"acc,omitempty"`
	Spd       float64      `json:"spd,omitempty"`
	Hdg       float64      `json:"hdg,omitempty"`
}

func encodeEvent(e Event) string {
	m := eventMessage{Type: e.Type, CourierID: e.CourierID, At: e.At.UTC(),
		Lat: e.Location.Lat, Lng: e.Location.Lng, SheetID: e.SheetID, StopID: e.StopID, DistanceM: finite(e.DistanceM),
		Status: e.Status, Progress: e.Progress, Acc: finite(e.AccuracyM), Spd: finite(e.SpeedMPS), Hdg: finite(e.Heading)}
	if !e.ReceivedAt.IsZero() {
		m.Rcv = ms(e.ReceivedAt)
	}
	b, err := json.Marshal(m)
	if err != nil { // only plain numbers and strings: cannot happen
		panic(err)
	}
	return string(b)
}

func decodeEvent(s string) (Event, error) {
	var m eventMessage
	if err := json.Unmarshal([]byte(s), &m); err != nil {
		return Event{}, err
	}
	return Event{Type: m.Type, CourierID: m.CourierID, At: m.At.UTC(), Location: courier.LatLng{Lat: m.Lat, Lng: m.Lng},
		SheetID: m.SheetID, StopID: m.StopID, DistanceM: m.DistanceM, Status: m.Status, Progress: m.Progress,
		AccuracyM: m.Acc, SpeedMPS: m.Spd, Heading: m.Hdg, ReceivedAt: receivedAt(m.Rcv)}, nil
}

func receivedAt(rcv int64) time.Time {
	if rcv == 0 {
		return time.Time{}
	}
	return time.UnixMilli(rcv).UTC()
}

// Publish puts events on the fleet's live feed, for every replica's
// subscribers, in one round trip.
func (t *Tracker) Publish(ctx context.Context, events ...Event) error {
	if len(events) == 0 {
		return nil
	}
	_, err := t.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		for _, e := range events {
			p.Publish(ctx, t.Channel(), encodeEvent(e))
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("publish %d events: %w", len(events), err)
	}
	return nil
}

func finite(v float64) float64 {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return 0
	}
	return v
}

func ms(t time.Time) int64 { return t.UnixMilli() }

// normalize cuts recorded_at to milliseconds in UTC and replaces non-finite
// speed and heading (which JSON cannot carry) with 0.
func normalize(p Ping) Ping {
	p.RecordedAt = time.UnixMilli(p.RecordedAt.UnixMilli()).UTC()
	p.SpeedMPS = finite(p.SpeedMPS)
	p.Heading = finite(p.Heading)
	return p
}

// check returns the reason to drop p by itself (without neighbours), or "".
func (t *Tracker) check(p Ping, now time.Time) string {
	switch {
	case math.IsNaN(p.Lat) || math.IsNaN(p.Lng) || p.Lat < -maxGeoLat || p.Lat > maxGeoLat || p.Lng < -180 || p.Lng > 180,
		p.Lat == 0 && p.Lng == 0:
		return DropInvalidCoordinates
	case math.IsNaN(p.AccuracyM) || p.AccuracyM < 0 || p.AccuracyM > t.cfg.MaxAccuracyM:
		return DropPoorAccuracy
	case p.RecordedAt.After(now.Add(t.cfg.MaxSkew)):
		return DropFuture
	case p.RecordedAt.Before(now.Add(-t.cfg.MaxDelay)):
		return DropTooOld
	}
	return ""
}

// impliedSpeed is the speed in m/s needed to move between a and b in the
// time between their recordings (at least one second, so that two fixes a
// few milliseconds apart do not look like a jump).
func impliedSpeed(a, b Ping) float64 {
	dt := b.RecordedAt.Sub(a.RecordedAt).Abs().Seconds()
	return HaversineM(a.Location(), b.Location()) / math.Max(dt, 1)
}

// Ingest stores a batch of pings of one courier: pings are checked, sorted by
// recorded_at and deduplicated; the accepted ones go to the history, the
// newest moves the live position if it is newer than the last-seen one (an
// older, buffered ping never moves it back), and the detectors run when the
// courier has an active plan. A ping is dropped as too_fast when it implies a
// speed above MaxSpeedMPS from the previous accepted ping of the batch, or
// from the last-seen ping for the first one, so one GPS jump does not drop
// the good pings after it.
//
// The active plan is read before anything is stored, so an error from the
// PlanSource leaves nothing behind and the phone may resend the batch.
// Returns EINVALID for a courier id <= 0 or more than MaxPingsPerBatch pings.
func (t *Tracker) Ingest(ctx context.Context, courierID int64, pings []Ping) (res IngestResult, err error) {
	res.Dropped = map[string]int{}
	if courierID <= 0 {
		return res, courier.FieldError("courier_id", "must be positive")
	}
	if len(pings) > MaxPingsPerBatch {
		return res, courier.FieldError("pings", "at most %d pings per batch", MaxPingsPerBatch)
	}
	if len(pings) == 0 {
		return res, nil
	}
	now := t.clock.Now().UTC()

	batch := make([]Ping, 0, len(pings))
	for _, p := range pings {
		p = normalize(p)
		if reason := t.check(p, now); reason != "" {
			res.Dropped[reason]++
			continue
		}
		batch = append(batch, p)
	}
	slices.SortStableFunc(batch, func(a, b Ping) int { return a.RecordedAt.Compare(b.RecordedAt) })

	var last *seen
	var stamp string
	if len(batch) > 0 {
		if last, stamp, err = t.lastSeenStamp(ctx, courierID); err != nil {
			return res, err
		}
	}
	accepted := batch[:0]
	for i, p := range batch {
		if (i > 0 && p.RecordedAt.Equal(batch[i-1].RecordedAt)) || (last != nil && ms(p.RecordedAt) == last.Rec) {
			res.Duplicates++
			continue
		}
		var ref *Ping
		if len(accepted) > 0 {
			ref = &accepted[len(accepted)-1]
		} else if last != nil {
			lp := last.ping()
			ref = &lp
		}
		if ref != nil && impliedSpeed(*ref, p) > t.cfg.MaxSpeedMPS {
			res.Dropped[DropTooFast]++
			continue
		}
		accepted = append(accepted, p)
	}

	var plan *CourierPlan
	if len(accepted) > 0 && t.plans != nil {
		if plan, err = t.activePlan(ctx, courierID, stamp, now); err != nil {
			return res, fmt.Errorf("active plan of courier %d: %w", courierID, err)
		}
	}

	stored, moved, err := t.store(ctx, courierID, now, accepted, res)
	if err != nil {
		return res, err
	}
	res.Accepted = len(stored)
	res.Duplicates += len(accepted) - len(stored)
	if moved != nil {
		res.Events = append(res.Events, *moved)
	}
	if plan != nil && len(stored) > 0 {
		events, err := t.detect(ctx, courierID, plan, stored)
		if err != nil {
			return res, err
		}
		res.Events = append(res.Events, events...)
	}
	return res, nil
}

// ingestScript appends pings to the history, moves the live position forward
// only, and adds to the stats, atomically. A ping with the recorded_at of the
// last-seen one (a resend racing another replica) is skipped as a duplicate.
//
// KEYS: live GEO set, last hash, history stream, stats hash.
// ARGV: member, now (ms), maxlen, "~" or "=", minid (ms), retention (ms),
// channel, last-seen JSON of the newest ping, its position event JSON, n,
// then n x (rec, lat, lng, acc, spd, hdg) sorted by rec, then (stats field,
// increment) pairs.
// Returns {moved (0/1), {stored flag per ping}}.
var ingestScript = redis.NewScript(`
local member = ARGV[1]
local n = tonumber(ARGV[10])
local cur = redis.call('HGET', KEYS[2], member)
local curRec = nil
if cur then curRec = tonumber(cjson.decode(cur).rec) end

local ms, seq = tonumber(ARGV[2]), 0
if n > 0 then
  local top = redis.call('XREVRANGE', KEYS[3], '+', '-', 'COUNT', 1)
  if #top > 0 then
    local lms, lseq = string.match(top[1][1], '^(%d+)-(%d+)$')
    lms, lseq = tonumber(lms), tonumber(lseq)
    if ms <= lms then ms, seq = lms, lseq + 1 end
  end
end

-- The loop is what a batch costs Redis: no tables, no formatting but the
-- id's sequence number, the stream trimmed once after it.
local flags, stored, lastStored = {}, 0, false
local prefix, hist = string.format('%.0f-', ms), KEYS[3]
for i = 0, n - 1 do
  local b = 10 + i * 6
  if curRec ~= nil and tonumber(ARGV[b + 1]) == curRec then
    flags[i + 1] = 0
    lastStored = false
  else
    redis.call('XADD', hist, prefix .. seq, 'rec', ARGV[b + 1], 'lat', ARGV[b + 2], 'lng', ARGV[b + 3],
      'acc', ARGV[b + 4], 'spd', ARGV[b + 5], 'hdg', ARGV[b + 6])
    seq = seq + 1
    flags[i + 1] = 1
    stored = stored + 1
    lastStored = true
  end
end
if stored > 0 then
  if ARGV[4] == '~' then
    redis.call('XTRIM', hist, 'MAXLEN', '~', ARGV[3])
  else
    redis.call('XTRIM', hist, 'MAXLEN', ARGV[3])
  end
end

local moved = 0
if lastStored then
  local b = 10 + (n - 1) * 6
  if curRec == nil or tonumber(ARGV[b + 1]) > curRec then
    redis.call('HSET', KEYS[2], member, ARGV[8])
    redis.call('GEOADD', KEYS[1], ARGV[b + 3], ARGV[b + 2], member)
    redis.call('PUBLISH', ARGV[7], ARGV[9])
    moved = 1
  end
end
if stored > 0 then
  redis.call('XTRIM', KEYS[3], 'MINID', ARGV[5])
  if redis.call('XLEN', KEYS[3]) == 0 then
    redis.call('DEL', KEYS[3])
  else
    redis.call('PEXPIRE', KEYS[3], ARGV[6])
  end
  redis.call('HINCRBY', KEYS[4], 'accepted', stored)
end
if n - stored > 0 then
  redis.call('HINCRBY', KEYS[4], 'duplicates', n - stored)
end
for j = 11 + n * 6, #ARGV, 2 do
  redis.call('HINCRBY', KEYS[4], ARGV[j], ARGV[j + 1])
end
return {moved, flags}
`)

// store runs ingestScript for the accepted pings (sorted, unique) and adds
// res's duplicates and drops to the stats. It returns the pings the script
// stored and the position event when the live position moved.
func (t *Tracker) store(ctx context.Context, courierID int64, now time.Time, pings []Ping, res IngestResult) ([]Ping, *Event, error) {
	num := func(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) }
	approx := "="
	if t.cfg.HistoryMaxLen >= 1000 {
		approx = "~"
	}
	var newest seen
	var moved Event
	if len(pings) > 0 {
		p := pings[len(pings)-1]
		newest = seen{Rec: ms(p.RecordedAt), Rcv: ms(now), Lat: p.Lat, Lng: p.Lng, Acc: p.AccuracyM, Spd: p.SpeedMPS, Hdg: p.Heading}
		moved = Event{Type: EventPosition, CourierID: courierID, At: p.RecordedAt, Location: p.Location(),
			AccuracyM: p.AccuracyM, SpeedMPS: p.SpeedMPS, Heading: p.Heading, ReceivedAt: time.UnixMilli(newest.Rcv).UTC()}
	}
	last, err := json.Marshal(newest)
	if err != nil {
		return nil, nil, fmt.Errorf("encode last seen: %w", err)
	}
	args := make([]any, 0, 10+6*len(pings)+2*(len(res.Dropped)+1))
	args = append(args, member(courierID), ms(now), t.cfg.HistoryMaxLen, approx, ms(now.Add(-t.cfg.Retention)),
		t.cfg.Retention.Milliseconds(), t.Channel(), string(last), encodeEvent(moved), len(pings))
	for _, p := range pings {
		args = append(args, ms(p.RecordedAt), num(p.Lat), num(p.Lng), num(p.AccuracyM), num(p.SpeedMPS), num(p.Heading))
	}
	if res.Duplicates > 0 {
		args = append(args, StatDuplicates, res.Duplicates)
	}
	for _, reason := range slices.Sorted(maps.Keys(res.Dropped)) {
		args = append(args, reason, res.Dropped[reason])
	}
	if len(pings) == 0 && len(args) == 10 {
		return nil, nil, nil
	}
	reply, err := ingestScript.Run(ctx, t.rdb, []string{t.keyLive(), t.keyLast(), t.keyHistory(courierID), t.keyStats()}, args...).Slice()
	if err != nil {
		return nil, nil, redisErr(err, "ingest pings of courier %d", courierID)
	}
	if len(reply) != 2 {
		return nil, nil, fmt.Errorf("ingest pings of courier %d: unexpected reply %v", courierID, reply)
	}
	flags, _ := reply[1].([]any)
	if len(flags) != len(pings) {
		return nil, nil, fmt.Errorf("ingest pings of courier %d: %d flags for %d pings", courierID, len(flags), len(pings))
	}
	var stored []Ping
	for i, f := range flags {
		if f == int64(1) {
			stored = append(stored, pings[i])
		}
	}
	if reply[0] == int64(1) {
		if x := t.live.Load(); x != nil {
			x.put(courierID, newest, time.Now())
		}
		return stored, &moved, nil
	}
	return stored, nil, nil
}

// lastSeen returns the last-seen record of a courier, or nil.
func (t *Tracker) lastSeen(ctx context.Context, courierID int64) (*seen, error) {
	return decodeSeen(t.rdb.HGet(ctx, t.keyLast(), member(courierID)), courierID)
}

// decodeSeen decodes the reply of an HGET of the last-seen hash: nil when
// the courier was never seen.
func decodeSeen(cmd *redis.StringCmd, courierID int64) (*seen, error) {
	raw, err := cmd.Bytes()
	if errors.Is(err, redis.Nil) {
		return nil, nil
	} else if err != nil {
		return nil, redisErr(err, "last seen of courier %d", courierID)
	}
	return parseSeen(raw, courierID)
}

// parseSeen decodes a last-seen record.
func parseSeen(raw []byte, courierID int64) (*seen, error) {
	var s seen
	if err := json.Unmarshal(raw, &s); err != nil {
		return nil, fmt.Errorf("last seen of courier %d: %w", courierID, err)
	}
	return &s, nil
}

// Locations returns where each of the couriers was last seen (those never
// seen are left out), Stale set as Location does, reading the last-seen
// records 500 a round trip.
func (t *Tracker) Locations(ctx context.Context, courierIDs []int64) (map[int64]*Position, error) {
	now := t.clock.Now().UTC()
	out := make(map[int64]*Position, len(courierIDs))
	for chunk := range slices.Chunk(courierIDs, 500) {
		fields := make([]string, len(chunk))
		for i, id := range chunk {
			fields[i] = member(id)
		}
		vals, err := t.rdb.HMGet(ctx, t.keyLast(), fields...).Result()
		if err != nil {
			return nil, redisErr(err, "last seen of %d couriers", len(chunk))
		}
		for i, v := range vals {
			raw, ok := v.(string)
			if !ok {
				continue
			}
			s, err := parseSeen([]byte(raw), chunk[i])
			if err != nil {
				return nil, err
			}
			pos := s.position(chunk[i], now, t.cfg.StaleAfter)
			out[chunk[i]] = &pos
		}
	}
	return out, nil
}

// Location returns where the courier was last seen, with Stale set when the
// last ping is older than StaleAfter. Returns ENOTFOUND if the courier was
// never seen (or was forgotten).
func (t *Tracker) Location(ctx context.Context, courierID int64) (*Position, error) {
	s, err := t.lastSeen(ctx, courierID)
	if err != nil {
		return nil, err
	} else if s == nil {
		return nil, courier.Errorf(courier.ENOTFOUND, "No known location of courier %d.", courierID)
	}
	pos := s.position(courierID, t.clock.Now().UTC(), t.cfg.StaleAfter)
	return &pos, nil
}

// Nearby returns up to limit couriers within radiusM metres of p, nearest
// first, with their distances; stale couriers are left out. Returns EINVALID
// for a bad point, a radius outside (0, MaxNearbyRadiusM] or a limit outside
// [1, MaxNearbyLimit].
func (t *Tracker) Nearby(ctx context.Context, p courier.LatLng, radiusM float64, limit int) ([]NearbyCourier, error) {
	switch {
	case math.IsNaN(p.Lat) || p.Lat < -90 || p.Lat > 90:
		return nil, courier.FieldError("lat", "must be within [-90, 90]")
	case math.IsNaN(p.Lng) || p.Lng < -180 || p.Lng > 180:
		return nil, courier.FieldError("lng", "must be within [-180, 180]")
	case !(radiusM > 0) || radiusM > MaxNearbyRadiusM:
		return nil, courier.FieldError("radius_m", "must be more than 0 and at most %d", MaxNearbyRadiusM)
	case limit < 1 || limit > MaxNearbyLimit:
		return nil, courier.FieldError("limit", "must be within [1, %d]", MaxNearbyLimit)
	}
	now := t.clock.Now().UTC()
	if x := t.live.Load(); x != nil {
		if out, ok := x.nearby(p, radiusM, limit, now, t.cfg.StaleAfter); ok {
			return out, nil
		}
	}
	// Stale couriers stay in the GEO set (Location still answers for them),
	// so ask for more than limit and widen until enough fresh ones are found
	// or the radius holds no more.
	for count := max(2*limit, 16); ; count *= 4 {
		reply, err := nearbyScript.Run(ctx, t.rdb, []string{t.keyLive(), t.keyLast()},
			strconv.FormatFloat(p.Lng, 'f', -1, 64), strconv.FormatFloat(p.Lat, 'f', -1, 64),
			strconv.FormatFloat(radiusM, 'f', -1, 64), count).Slice()
		if err != nil {
			return nil, redisErr(err, "nearby search")
		}
		if len(reply)%3 != 0 {
			return nil, fmt.Errorf("nearby search: a reply of %d values", len(reply))
		}
		found := len(reply) / 3
		out := []NearbyCourier{}
		for i := 0; i < len(reply) && len(out) < limit; i += 3 {
			name, _ := reply[i].(string)
			dist, _ := reply[i+1].(string)
			raw, ok := reply[i+2].(string)
			id, err := strconv.ParseInt(name, 10, 64)
			if !ok || err != nil { // forgotten meanwhile
				continue
			}
			d, err := strconv.ParseFloat(dist, 64)
			if err != nil {
				return nil, fmt.Errorf("nearby search: distance %q of courier %d: %w", dist, id, err)
			}
			var s seen
			if err := json.Unmarshal([]byte(raw), &s); err != nil {
				return nil, fmt.Errorf("nearby last seen of courier %d: %w", id, err)
			}
			pos := s.position(id, now, t.cfg.StaleAfter)
			if pos.Stale {
				continue
			}
			out = append(out, NearbyCourier{Position: pos, DistanceM: d})
		}
		if len(out) >= limit || found < count {
			return out, nil
		}
	}
}

// nearbyScript is Nearby's GEOSEARCH and the last-seen records of what it
// found in one round trip (both keys carry the fleet's hash tag, so they are
// on one Redis Cluster slot).
//
// KEYS: live GEO set, last hash. ARGV: lng, lat, radius in metres, count.
// Returns name, distance in metres, last-seen JSON (nil when forgotten) of
// each courier found, nearest first, flattened.
var nearbyScript = redis.NewScript(`
local found = redis.call('GEOSEARCH', KEYS[1], 'FROMLONLAT', ARGV[1], ARGV[2], 'BYRADIUS', ARGV[3], 'm', 'ASC', 'COUNT', ARGV[4], 'WITHDIST')
local out = {}
for from = 1, #found, 500 do
  local names = {}
  for i = from, math.min(from + 499, #found) do names[#names + 1] = found[i][1] end
  local vals = redis.call('HMGET', KEYS[2], unpack(names))
  for j, name in ipairs(names) do
    out[#out + 1] = name
    out[#out + 1] = found[from + j - 1][2]
    out[#out + 1] = vals[j]
  end
end
return out
`)

// trackPage is how many history entries Track reads per XRANGE.
const trackPage = 1000

// Track returns the history of a courier recorded within [from, to], sorted
// by recorded_at, one ping per recorded_at. The stream is ordered by receive
// time, and a ping is received between MaxSkew before and MaxDelay after it
// was recorded (others are dropped), so Track reads the receive-time range
// [from-MaxSkew, to+MaxDelay] and filters, sorts and deduplicates by
// recorded_at. Returns EINVALID when from is after to.
func (t *Tracker) Track(ctx context.Context, courierID int64, from, to time.Time) ([]Ping, error) {
	if from.After(to) {
		return nil, courier.FieldError("from", "must not be after to")
	}
	lo, hi := ms(from), ms(to)
	start := strconv.FormatInt(ms(from.Add(-t.cfg.MaxSkew)), 10)
	end := strconv.FormatInt(ms(to.Add(t.cfg.MaxDelay)), 10)
	var out []Ping
	for {
		msgs, err := t.rdb.XRangeN(ctx, t.keyHistory(courierID), start, end, trackPage).Result()
		if err != nil {
			return nil, redisErr(err, "track of courier %d", courierID)
		}
		for _, m := range msgs {
			p, err := historyPing(m.Values)
			if err != nil {
				return nil, fmt.Errorf("track of courier %d, entry %s: %w", courierID, m.ID, err)
			}
			if r := ms(p.RecordedAt); r >= lo && r <= hi {
				out = append(out, p)
			}
		}
		if len(msgs) < trackPage {
			break
		}
		start = "(" + msgs[len(msgs)-1].ID
	}
	slices.SortStableFunc(out, func(a, b Ping) int { return a.RecordedAt.Compare(b.RecordedAt) })
	out = slices.CompactFunc(out, func(a, b Ping) bool { return a.RecordedAt.Equal(b.RecordedAt) })
	if out == nil {
		out = []Ping{}
	}
	return out, nil
}

func historyPing(v map[string]any) (Ping, error) {
	var p Ping
	var errs []error
	f := func(name string) float64 {
		s, _ := v[name].(string)
		x, err := strconv.ParseFloat(s, 64)
		if err != nil {
			errs = append(errs, fmt.Errorf("field %s: %w", name, err))
		}
		return x
	}
	rec, err := strconv.ParseInt(fmt.Sprint(v["rec"]), 10, 64)
	if err != nil {
		errs = append(errs, fmt.Errorf("field rec: %w", err))
	}
	p = Ping{Lat: f("lat"), Lng: f("lng"), AccuracyM: f("acc"), SpeedMPS: f("spd"), Heading: f("hdg"), RecordedAt: time.UnixMilli(rec).UTC()}
	return p, errors.Join(errs...)
}

// TrackGeoJSON renders a track (as from Track) as a GeoJSON (RFC 7946)
// FeatureCollection: one Point feature per ping with properties recorded_at
// (RFC 3339), accuracy_m, speed_mps and heading, then, for two pings or more,
// a LineString feature of the whole track with properties courier_id, from
// and to.
func TrackGeoJSON(courierID int64, pings []Ping) ([]byte, error) {
	fc := geojson.NewFeatureCollection()
	line := make(orb.LineString, 0, len(pings))
	for _, p := range pings {
		pt := ToPoint(p.Location())
		f := geojson.NewFeature(pt)
		f.Properties = geojson.Properties{
			"recorded_at": p.RecordedAt.UTC().Format(time.RFC3339Nano),
			"accuracy_m":  p.AccuracyM, "speed_mps": p.SpeedMPS, "heading": p.Heading,
		}
		fc.Append(f)
		line = append(line, pt)
	}
	if len(pings) >= 2 {
		f := geojson.NewFeature(line)
		f.Properties = geojson.Properties{
			"courier_id": courierID,
			"from":       pings[0].RecordedAt.UTC().Format(time.RFC3339Nano),
			"to":         pings[len(pings)-1].RecordedAt.UTC().Format(time.RFC3339Nano),
		}
		fc.Append(f)
	}
	return fc.MarshalJSON()
}

// Forget removes a courier from the live set, its last-seen record and its
// detector state (the courier was deactivated). The history stays until it
// expires. A later ping puts the courier back.
func (t *Tracker) Forget(ctx context.Context, courierID int64) error {
	_, err := t.rdb.TxPipelined(ctx, func(pipe redis.Pipeliner) error {
		pipe.ZRem(ctx, t.keyLive(), member(courierID))
		pipe.HDel(ctx, t.keyLast(), member(courierID))
		pipe.Del(ctx, t.keyDetect(courierID))
		return nil
	})
	if err != nil {
		return redisErr(err, "forget courier %d", courierID)
	}
	if x := t.live.Load(); x != nil {
		x.forget(courierID) // other replicas' indexes drop it with their next resync
	}
	return nil
}

// Subscribe returns the fleet's live feed: every event any replica publishes
// from the moment Subscribe returns. The channel closes when ctx ends (or the
// connection is closed); a slow reader holds up only its own feed. Messages
// that do not decode are skipped.
func (t *Tracker) Subscribe(ctx context.Context) (<-chan Event, error) {
	ps := t.rdb.Subscribe(ctx, t.Channel())
	if _, err := ps.Receive(ctx); err != nil { // the subscription is confirmed
		ps.Close()
		return nil, redisErr(err, "subscribe to %s", t.Channel())
	}
	in := ps.Channel()
	out := make(chan Event, 64)
	go func() {
		defer close(out)
		defer ps.Close()
		for {
			select {
			case <-ctx.Done():
				return
			case m, ok := <-in:
				if !ok {
					return
				}
				e, err := decodeEvent(m.Payload)
				if err != nil {
					continue
				}
				select {
				case out <- e:
				case <-ctx.Done():
					return
				}
			}
		}
	}()
	return out, nil
}

// Stats returns the fleet's counters, added up over all replicas: accepted,
// duplicates and one per drop reason (missing ones are 0).
func (t *Tracker) Stats(ctx context.Context) (map[string]int64, error) {
	raw, err := t.rdb.HGetAll(ctx, t.keyStats()).Result()
	if err != nil {
		return nil, redisErr(err, "tracking stats")
	}
	out := map[string]int64{StatAccepted: 0, StatDuplicates: 0, DropInvalidCoordinates: 0, DropPoorAccuracy: 0,
		DropTooFast: 0, DropFuture: 0, DropTooOld: 0}
	for k, v := range raw {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return nil, fmt.Errorf("tracking stats %s: %w", k, err)
		}
		out[k] = n
	}
	return out, nil
}
