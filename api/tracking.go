package api

import (
	"encoding/json"
	"math"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/courierhq/courier"
	"github.com/courierhq/courier/geo"
	"github.com/gin-gonic/gin"
	"github.com/prometheus/client_golang/prometheus"
)

type pingIn struct {
	Lat        *float64   `json:"lat"`
	Lng        *float64   `json:"lng"`
	AccuracyM  float64    `json:"accuracy_m"`
	SpeedMPS   float64    `json:"speed_mps"`
	Heading    float64    `json:"heading"`
	RecordedAt *time.Time `json:"recorded_at"`
}

type locationsIn struct {
	Pings []pingIn `json:"pings"`
}

// pingCounter counts pings by outcome (accepted, duplicate, or a drop reason).
func newPingCounter(reg prometheus.Registerer) *prometheus.CounterVec {
	c := prometheus.NewCounterVec(prometheus.CounterOpts{Name: "courierd_pings_total",
		Help: "GPS pings received from couriers' phones by outcome: accepted, duplicate, or why they were dropped."}, []string{"outcome"})
	reg.MustRegister(c)
	return c
}

// decodeLocations reads a GPS batch: by decodePings when it can, else as
// decode would.
func decodeLocations(c *gin.Context) (locationsIn, error) {
	var in locationsIn
	if isJSON(c.GetHeader("Content-Type")) {
		b, err := readBody(c, maxBody)
		if err != nil {
			return in, err
		}
		if in, ok := decodePings(b); ok {
			return in, nil
		}
	}
	return in, decode(c, &in)
}

// postLocations takes a batch of pings from the courier's phone, buffered
// while offline: out-of-order and duplicate pings are normal.
func (s *Server) postLocations(c *gin.Context) error {
	in, err := decodeLocations(c)
	if err != nil {
		return err
	}
	if len(in.Pings) == 0 {
		return courier.FieldError("pings", "send at least one ping")
	}
	if len(in.Pings) > geo.MaxPingsPerBatch {
		return courier.FieldError("pings", "at most %d pings per batch", geo.MaxPingsPerBatch)
	}
	pings := make([]geo.Ping, len(in.Pings))
	for i, p := range in.Pings {
		field := "pings[" + strconv.Itoa(i) + "]"
		if p.Lat == nil || p.Lng == nil {
			return courier.FieldError(field+".lat", "lat and lng are required")
		}
		if p.RecordedAt == nil {
			return courier.FieldError(field+".recorded_at", "is required")
		}
		// Phones report -1 for an unknown speed, heading or accuracy.
		for _, m := range []struct {
			name     string
			v, limit float64
		}{{"speed_mps", p.SpeedMPS, 300}, {"heading", p.Heading, 360}, {"accuracy_m", p.AccuracyM, 100000}} {
			if math.IsNaN(m.v) || m.v < -1 || m.v > m.limit {
				return courier.FieldError(field+"."+m.name, "must be within [-1, %g] (-1: unknown)", m.limit)
			}
		}
		pings[i] = geo.Ping{Lat: *p.Lat, Lng: *p.Lng, AccuracyM: p.AccuracyM, SpeedMPS: p.SpeedMPS, Heading: p.Heading, RecordedAt: *p.RecordedAt}
	}
	a := actorOf(c)
	if a.CourierID == 0 {
		return courier.Errorf(courier.EFORBIDDEN, "this login has no courier record")
	}
	res, err := s.tracker.Ingest(c.Request.Context(), a.CourierID, pings)
	if err != nil {
		return err
	}
	s.pings.WithLabelValues("accepted").Add(float64(res.Accepted))
	s.pings.WithLabelValues("duplicate").Add(float64(res.Duplicates))
	for reason, n := range res.Dropped {
		s.pings.WithLabelValues(reason).Add(float64(n))
	}
	dropped := res.Dropped
	if dropped == nil {
		dropped = map[string]int{}
	}
	c.JSON(http.StatusOK, gin.H{"accepted": res.Accepted, "duplicates": res.Duplicates, "dropped": dropped})
	return nil
}

type positionJSON struct {
	CourierID  int64      `json:"courier_id"`
	Location   latLngJSON `json:"location"`
	AccuracyM  float64    `json:"accuracy_m"`
	SpeedMPS   float64    `json:"speed_mps"`
	Heading    float64    `json:"heading"`
	RecordedAt time.Time  `json:"recorded_at"`
	ReceivedAt time.Time  `json:"received_at"`
	Stale      bool       `json:"stale"`
}

func toPosition(p *geo.Position) positionJSON {
	return positionJSON{CourierID: p.CourierID, Location: toLatLng(p.Location), AccuracyM: p.AccuracyM, SpeedMPS: p.SpeedMPS,
		Heading: p.Heading, RecordedAt: p.RecordedAt, ReceivedAt: p.ReceivedAt, Stale: p.Stale}
}

// ownCourier checks that a courier asks only about themselves; office roles may ask about anyone.
func ownCourier(c *gin.Context, id int64) error {
	if a := actorOf(c); a.Role == courier.RoleCourier && a.CourierID != id {
		return courier.Errorf(courier.ENOTFOUND, "courier %d not found", id)
	}
	return nil
}

func (s *Server) courierLocation(c *gin.Context) error {
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	if err := ownCourier(c, id); err != nil {
		return err
	}
	p, err := s.tracker.Location(c.Request.Context(), id)
	if err != nil {
		return err
	}
	c.JSON(http.StatusOK, toPosition(p))
	return nil
}

func (s *Server) nearbyCouriers(c *gin.Context) error {
	p, err := queryLatLng(c)
	if err != nil {
		return err
	}
	radius, limit := 2000.0, 10
	if v := c.Query("radius_m"); v != "" {
		if radius, err = strconv.ParseFloat(v, 64); err != nil {
			return courier.FieldError("radius_m", "must be a number")
		}
	}
	if v := c.Query("limit"); v != "" {
		if limit, err = strconv.Atoi(v); err != nil {
			return courier.FieldError("limit", "must be an integer")
		}
	}
	found, err := s.tracker.Nearby(c.Request.Context(), p, radius, limit)
	if err != nil {
		return err
	}
	buf := answers.Get().(*[]byte)
	defer answers.Put(buf)
	b := appendNearby((*buf)[:0], found)
	*buf = b[:0]                                     // at most MaxNearbyLimit couriers: a few tens of KB kept
	c.Header("Content-Length", strconv.Itoa(len(b))) // not chunked
	c.Data(http.StatusOK, "application/json; charset=utf-8", b)
	return nil
}

// answers are the buffers nearby answers are written in, kept between
// requests (a dispatcher's map asks often; the answer is written to the
// connection before its buffer goes back).
var answers = sync.Pool{New: func() any { b := make([]byte, 0, 4096); return &b }}

type nearbyJSON struct {
	positionJSON
	DistanceM float64 `json:"distance_m"`
}

// appendNearby appends Nearby's answer, {"items": [nearbyJSON...]}, byte for
// byte what encoding/json writes (TestAppendNearby), without its reflection:
// a dispatcher's map asks this often, and encoding it was a fifth of the
// request's CPU.
func appendNearby(b []byte, found []geo.NearbyCourier) []byte {
	b = append(b, `{"items":[`...)
	for i := range found {
		n := &found[i]
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"courier_id":`...)
		b = strconv.AppendInt(b, n.CourierID, 10)
		b = append(b, `,"location":{"lat":`...)
		b = appendJSONFloat(b, n.Location.Lat)
		b = append(b, `,"lng":`...)
		b = appendJSONFloat(b, n.Location.Lng)
		b = append(b, `},"accuracy_m":`...)
		b = appendJSONFloat(b, n.AccuracyM)
		b = append(b, `,"speed_mps":`...)
		b = appendJSONFloat(b, n.SpeedMPS)
		b = append(b, `,"heading":`...)
		b = appendJSONFloat(b, n.Heading)
		b = append(b, `,"recorded_at":`...)
		b = appendJSONTime(b, n.RecordedAt)
		b = append(b, `,"received_at":`...)
		b = appendJSONTime(b, n.ReceivedAt)
		b = append(b, `,"stale":`...)
		b = strconv.AppendBool(b, n.Stale)
		b = append(b, `,"distance_m":`...)
		b = appendJSONFloat(b, n.DistanceM)
		b = append(b, '}')
	}
	return append(b, "]}"...)
}

// appendJSONFloat writes a finite float64 as encoding/json does.
func appendJSONFloat(b []byte, f float64) []byte {
	if math.IsInf(f, 0) || math.IsNaN(f) {
		return append(b, "null"...) // never stored; encoding/json would fail
	}
	if out, ok := appendShortDecimal(b, f); ok {
		return out
	}
	abs, format := math.Abs(f), byte('f')
	if abs != 0 && (abs < 1e-6 || abs >= 1e21) {
		format = 'e'
	}
	b = strconv.AppendFloat(b, f, format, -1, 64)
	if format == 'e' { // e-07 -> e-7, as encoding/json
		if n := len(b); n >= 4 && b[n-4] == 'e' && b[n-3] == '-' && b[n-2] == '0' {
			b[n-2] = b[n-1]
			b = b[:n-1]
		}
	}
	return b
}

// pow10 are the exact powers of ten appendShortDecimal tries.
var pow10 = [...]float64{1, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7}

// appendShortDecimal writes f as the shortest decimal that reads back as f
// when that decimal has at most 7 places and f is at least 1e-6 and under
// 1e6 in magnitude: what a phone sends (coordinates, accuracy, speed,
// heading). n/10^d (n an integer under 2^53, 10^d exact) is the correctly
// rounded double of the decimal, as parsing it is, so the first d for which
// it gives f back is the shortest place count; floats are a thousand times
// closer than 10^-7 there, so only one n can, and strconv's shortest form
// is that decimal (FuzzJSONFloat holds it to encoding/json). Else ok is
// false.
func appendShortDecimal(b []byte, f float64) ([]byte, bool) {
	abs := math.Abs(f)
	if !(abs >= 1e-6 && abs < 1e6) {
		return b, false
	}
	for d, p := range pow10 {
		n := math.Round(abs * p)
		if n/p != abs {
			continue
		}
		if f < 0 {
			b = append(b, '-')
		}
		var buf [16]byte
		digits := strconv.AppendInt(buf[:0], int64(n), 10)
		if d == 0 {
			return append(b, digits...), true
		}
		if len(digits) <= d { // 0.0ddd
			b = append(b, '0', '.')
			for range d - len(digits) {
				b = append(b, '0')
			}
			return append(b, digits...), true
		}
		b = append(b, digits[:len(digits)-d]...)
		b = append(b, '.')
		return append(b, digits[len(digits)-d:]...), true
	}
	return b, false
}

// appendJSONTime writes a time as encoding/json does (RFC 3339 with
// nanoseconds, quoted) for the years it can; a UTC time of the years 1 to
// 9999, the tracker's, is written digit by digit (FuzzJSONTime).
func appendJSONTime(b []byte, t time.Time) []byte {
	b = append(b, '"')
	if t.Location() != time.UTC || t.Year() < 1 || t.Year() > 9999 {
		b = t.AppendFormat(b, time.RFC3339Nano)
		return append(b, '"')
	}
	year, month, day := t.Date()
	hour, minute, sec := t.Clock()
	b = append2(append2(b, year/100), year%100)
	b = append2(append(b, '-'), int(month))
	b = append2(append(b, '-'), day)
	b = append2(append(b, 'T'), hour)
	b = append2(append(b, ':'), minute)
	b = append2(append(b, ':'), sec)
	if ns := t.Nanosecond(); ns != 0 {
		var frac [10]byte
		frac[0] = '.'
		for i := 9; i >= 1; i-- {
			frac[i] = byte('0' + ns%10)
			ns /= 10
		}
		n := 10
		for frac[n-1] == '0' {
			n--
		}
		b = append(b, frac[:n]...)
	}
	return append(b, 'Z', '"')
}

// append2 writes 0 <= v < 100 as two digits.
func append2(b []byte, v int) []byte {
	return append(b, byte('0'+v/10), byte('0'+v%10))
}

// courierTrack answers a courier's history between from and to (default: the last 24 hours) as GeoJSON.
func (s *Server) courierTrack(c *gin.Context) error {
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	if err := ownCourier(c, id); err != nil {
		return err
	}
	to, from := s.clock.Now(), time.Time{}
	for _, q := range []struct {
		name string
		dst  *time.Time
	}{{"from", &from}, {"to", &to}} {
		if v := c.Query(q.name); v != "" {
			if *q.dst, err = time.Parse(time.RFC3339, v); err != nil {
				return courier.FieldError(q.name, "must be an RFC 3339 time")
			}
		}
	}
	if from.IsZero() {
		from = to.Add(-24 * time.Hour)
	}
	pings, err := s.tracker.Track(c.Request.Context(), id, from, to)
	if err != nil {
		return err
	}
	b, err := geo.TrackGeoJSON(id, pings)
	if err != nil {
		return err
	}
	c.Data(http.StatusOK, "application/geo+json", b)
	return nil
}

// positions lists the last known position of every active courier, stale ones marked.
func (s *Server) positions(c *gin.Context) error {
	active := true
	cs, err := s.dispatch.ListCouriers(c.Request.Context(), actorOf(c), courier.CourierFilter{Active: &active})
	if err != nil {
		return err
	}
	ids := make([]int64, len(cs))
	for i, x := range cs {
		ids[i] = x.ID
	}
	found, err := s.tracker.Locations(c.Request.Context(), ids)
	if err != nil {
		return err
	}
	out := []positionJSON{}
	for _, id := range ids {
		if p := found[id]; p != nil {
			out = append(out, toPosition(p))
		}
	}
	c.JSON(http.StatusOK, gin.H{"items": out})
	return nil
}

type eventJSON struct {
	Type      string     `json:"type"`
	CourierID int64      `json:"courier_id"`
	At        time.Time  `json:"at"`
	Location  latLngJSON `json:"location"`
	SheetID   *int64     `json:"sheet_id"`
	StopID    *int64     `json:"stop_id"`
	DistanceM float64    `json:"distance_m"`
	// sheet_progress: the stop's new status and the sheet's counts.
	Status   string           `json:"status,omitempty"`
	Progress *geo.SheetCounts `json:"progress,omitempty"`
}

// trackingStream is the console's live feed: Server-Sent Events of position
// changes and detector events (off_route, idle, arrived, ...), from Redis
// Pub/Sub, so every replica sees every courier. A comment line every 15 s keeps
// proxies from closing the stream. It ends within a second or so of the
// session's end (a logout, deactivation).
func (s *Server) trackingStream(c *gin.Context) error {
	ctx := c.Request.Context()
	events, err := s.tracker.Subscribe(ctx)
	if err != nil {
		return err
	}
	startEventStream(c)
	c.Writer.WriteString(": connected\n\n")
	c.Writer.Flush()
	keepAlive := time.NewTicker(15 * time.Second)
	defer keepAlive.Stop()
	recheck := time.NewTicker(time.Second)
	defer recheck.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-recheck.C:
			if s.sessionEnded(c) {
				return nil
			}
		case <-keepAlive.C:
			c.Writer.WriteString(": keep-alive\n\n")
			c.Writer.Flush()
		case ev, ok := <-events:
			if !ok {
				return nil
			}
			b, _ := json.Marshal(eventJSON{Type: ev.Type, CourierID: ev.CourierID, At: ev.At, Location: toLatLng(ev.Location),
				SheetID: nullID(ev.SheetID), StopID: nullID(ev.StopID), DistanceM: ev.DistanceM, Status: ev.Status, Progress: ev.Progress})
			c.Writer.WriteString("event: " + ev.Type + "\ndata: " + string(b) + "\n\n")
			c.Writer.Flush()
		}
	}
}
