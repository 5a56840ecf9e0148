package notify

import (
	"cmp"
	"context"
	"fmt"
	"math"
	"slices"
	"sync"
	"time"

	"github.com/courierhq/courier"
)

// doneStatuses end a stop (as in dispatch).
var doneStatuses = []courier.OrderStatus{courier.StatusDelivered, courier.StatusFailedAttempt, courier.StatusRefused,
	courier.StatusReturnedToDepot, courier.StatusCancelled}

// stopETA is the estimated arrival at one remaining stop of a sheet.
type stopETA struct {
	order *courier.Order
	eta   time.Time
	ahead int // remaining stops before this one
}

// sheetPlan is an active sheet's remaining stops with their ETAs. It is
// read-only once made: cached plans are shared by concurrent requests.
type sheetPlan struct {
	stops []stopETA
	live  bool               // the ETAs come from the courier's live position
	at    *courier.LatLng    // the courier's live position, when fresh
	seen  time.Time          // when the position was recorded
	order map[int64]*stopETA // by order id
}

// planOf estimates the remaining stops of sh. With a fresh live position of
// the courier, the ETAs drive from it through the remaining stops in sheet
// order with the travel model, waiting for a window that has not opened and
// adding each stop's service time; without one, they are the sheet's planned ETAs.
func (s *Service) planOf(ctx context.Context, sh *courier.RouteSheet) (*sheetPlan, error) {
	now := s.clock.Now()
	sp := &sheetPlan{order: map[int64]*stopETA{}}
	var remaining []courier.SheetStop
	var orders []*courier.Order
	// One query for the courier's orders of the day; a stop not among them
	// (moved meanwhile) is read on its own.
	day, err := s.store.ListOrders(ctx, courier.OrderFilter{CourierID: sh.CourierID, Date: sh.Date, Limit: 500})
	if err != nil {
		return nil, err
	}
	byID := make(map[int64]*courier.Order, len(day))
	for _, o := range day {
		byID[o.ID] = o
	}
	for _, st := range sh.Stops {
		o, ok := byID[st.OrderID]
		if !ok {
			o, err = s.store.Order(ctx, st.OrderID)
			if courier.ErrorCode(err) == courier.ENOTFOUND {
				continue
			} else if err != nil {
				return nil, err
			}
		}
		if slices.Contains(doneStatuses, o.Status) || o.RouteSheetID != sh.ID {
			continue
		}
		remaining = append(remaining, st)
		orders = append(orders, o)
	}
	if s.positions != nil && len(remaining) > 0 {
		pos, err := s.positions.Location(ctx, sh.CourierID)
		if err != nil && courier.ErrorCode(err) != courier.ENOTFOUND {
			s.log.Warn("courier position for ETAs", "courier_id", sh.CourierID, "err", err)
		}
		if err == nil && !pos.Stale {
			sp.at, sp.seen = &pos.Location, pos.RecordedAt
		}
	}
	if sp.at != nil && s.travel != nil {
		vehicle := courier.VehicleCar
		if c, err := s.store.Courier(ctx, sh.CourierID); err == nil {
			vehicle = c.Vehicle.Type
		}
		points := []courier.LatLng{*sp.at}
		for _, o := range orders {
			points = append(points, o.Location)
		}
		legs, err := s.legSeconds(ctx, points, vehicle, now)
		if err != nil {
			s.log.Warn("travel times for ETAs", "sheet_id", sh.ID, "err", err)
		} else {
			sp.live = true
			t := now
			for i, o := range orders {
				t = t.Add(time.Duration(legs[i]) * time.Second)
				if o.TimeWindow != nil && t.Before(o.TimeWindow.From) {
					t = o.TimeWindow.From
				}
				sp.stops = append(sp.stops, stopETA{order: o, eta: t, ahead: i})
				t = t.Add(time.Duration(o.ServiceMinutes) * time.Minute)
			}
		}
	}
	if !sp.live {
		for i, o := range orders {
			sp.stops = append(sp.stops, stopETA{order: o, eta: remaining[i].ETA, ahead: i})
		}
	}
	for i := range sp.stops {
		sp.order[sp.stops[i].order.ID] = &sp.stops[i]
	}
	return sp, nil
}

// legSource prices one leg at a time without a matrix; geo.TravelModel does.
type legSource interface {
	Leg(a, b courier.LatLng, profile string, at time.Time) (metres, seconds int64, err error)
}

// legParallel bounds the two-point matrix requests of one sheet's legs.
const legParallel = 4

// legSeconds returns the travel time in seconds of each consecutive leg of
// points (points[i] to points[i+1]), departing at depart: the len(points)-1
// legs the ETAs need, never the whole matrix. A travel model that prices
// single legs (the haversine model) does so; any other (OSRM) answers one
// two-point matrix per leg, legParallel at once.
func (s *Service) legSeconds(ctx context.Context, points []courier.LatLng, profile string, depart time.Time) ([]int64, error) {
	out := make([]int64, len(points)-1)
	if ls, ok := s.travel.(legSource); ok {
		for i := range out {
			_, sec, err := ls.Leg(points[i], points[i+1], profile, depart)
			if err != nil {
				return nil, err
			}
			out[i] = sec
		}
		return out, nil
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var (
		legs  sync.WaitGroup
		mu    sync.Mutex
		first error
	)
	slots := make(chan struct{}, legParallel)
	for i := range out {
		select {
		case slots <- struct{}{}:
		case <-ctx.Done():
		}
		if ctx.Err() != nil {
			break
		}
		legs.Go(func() {
			defer func() { <-slots }()
			m, err := s.travel.Matrix(ctx, points[i:i+2], profile, depart)
			if err != nil {
				mu.Lock()
				first = cmp.Or(first, err)
				mu.Unlock()
				cancel()
				return
			}
			out[i] = m.Duration(0, 1)
		})
	}
	legs.Wait()
	if first != nil {
		return nil, first
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return out, nil
}

// planCache keeps each sheet's plan for ETACache, so that tracking pages
// (which poll every 30 s) cost one plan per sheet per ETACache however many
// customers watch the sheet, instead of one per request. It lives in each
// replica's memory: a plan is derived, read-only data that replicas need
// not agree on; each serves a copy at most ETACache old, made for the
// sheet's current version. A missing plan is made once while concurrent
// requests for the same sheet wait for it.
type planCache struct {
	mu      sync.Mutex
	entries map[int64]*planEntry // by sheet id
}

type planEntry struct {
	version int64
	done    chan struct{} // closed once plan, err and expires are set
	plan    *sheetPlan
	err     error
	expires time.Time
}

// planCacheSweep is the size above which adding a plan first drops the expired ones.
const planCacheSweep = 1000

// planTimeout bounds making one plan for the cache.
const planTimeout = 20 * time.Second

// put stores e for sheet id; the caller holds c.mu.
func (c *planCache) put(id int64, e *planEntry, now time.Time) {
	if c.entries == nil {
		c.entries = map[int64]*planEntry{}
	}
	if len(c.entries) >= planCacheSweep {
		for k, old := range c.entries {
			select {
			case <-old.done:
				if !now.Before(old.expires) {
					delete(c.entries, k)
				}
			default:
			}
		}
	}
	c.entries[id] = e
}

// remember caches a plan made elsewhere (the arrival check's fresh one).
func (s *Service) remember(sh *courier.RouteSheet, sp *sheetPlan) {
	now := s.clock.Now()
	e := &planEntry{version: sh.Version, done: make(chan struct{}), plan: sp, expires: now.Add(s.cfg.ETACache)}
	close(e.done)
	s.plans.mu.Lock()
	s.plans.put(sh.ID, e, now)
	s.plans.mu.Unlock()
}

// cachedPlan returns sh's plan from the cache, making it when it is
// missing, expired or made for another version of the sheet.
func (s *Service) cachedPlan(ctx context.Context, sh *courier.RouteSheet) (*sheetPlan, error) {
	c := &s.plans
	now := s.clock.Now()
	c.mu.Lock()
	if e := c.entries[sh.ID]; e != nil && e.version == sh.Version {
		fresh := true
		select {
		case <-e.done:
			fresh = now.Before(e.expires)
		default: // being made: wait for it
		}
		if fresh {
			c.mu.Unlock()
			select {
			case <-e.done:
				return e.plan, e.err
			case <-ctx.Done():
				return nil, ctx.Err()
			}
		}
	}
	e := &planEntry{version: sh.Version, done: make(chan struct{})}
	c.put(sh.ID, e, now)
	c.mu.Unlock()
	// Made apart from this request's cancellation: others may wait for it.
	pctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), planTimeout)
	plan, err := s.planOf(pctx, sh)
	cancel()
	c.mu.Lock()
	e.plan, e.err, e.expires = plan, err, s.clock.Now().Add(s.cfg.ETACache)
	if err != nil && c.entries[sh.ID] == e {
		delete(c.entries, sh.ID)
	}
	c.mu.Unlock()
	close(e.done)
	return plan, err
}

// ScanArrivals queues "the courier is arriving" for every order out for
// delivery on an active sheet whose live ETA is within ArrivingMinutes,
// once per order and sheet (the outbox key). Replicas may scan at once: the
// key keeps the message single. It returns how many it queued.
func (s *Service) ScanArrivals(ctx context.Context) (int, error) {
	sheets, err := s.store.ListSheets(ctx, courier.SheetFilter{Statuses: []courier.SheetStatus{courier.SheetActive}})
	if err != nil {
		return 0, err
	}
	now := s.clock.Now()
	limit := time.Duration(s.cfg.ArrivingMinutes) * time.Minute
	queued := 0
	for _, sh := range sheets {
		sp, err := s.planOf(ctx, sh)
		if err != nil {
			return queued, err
		}
		s.remember(sh, sp) // tracking pages use it too
		if !sp.live {
			continue // no fresh GPS: the sheet's plan alone does not say the courier is near
		}
		var msgs []courier.OutboxMessage
		for _, st := range sp.stops {
			if st.order.Status != courier.StatusOutForDelivery || st.eta.Sub(now) > limit {
				continue
			}
			msgs = append(msgs, courier.OutboxMessage{Topic: courier.TopicCustomerArriving,
				Key: fmt.Sprintf("customer_arriving:%d:%d", st.order.ID, sh.ID),
				Payload: mustJSON(map[string]any{"order_id": st.order.ID, "sheet_id": sh.ID, "eta": st.eta.UTC(),
					"minutes": int(st.eta.Sub(now).Round(time.Minute) / time.Minute)})})
		}
		if len(msgs) == 0 {
			continue
		}
		n, err := s.store.QueueOutbox(ctx, msgs...)
		if err != nil {
			return queued, err
		}
		queued += n
	}
	return queued, nil
}

// TrackView is what the customer's tracking page shows: the order's state
// and, while the courier is on the way to this very stop, roughly where the
// courier is. Nothing about other orders or about the courier as a person:
// while other stops come first, only how many and the ETA.
type TrackView struct {
	OrderNumber string
	Status      courier.OrderStatus
	Window      *courier.TimeWindow
	ETA         time.Time       // zero when unknown
	StopsAhead  int             // stops before this one; -1 when not on the way
	Courier     *courier.LatLng // while this order is the courier's next stop, rounded to PositionDecimals
	CourierAt   time.Time       // when that position was recorded
	Company     string
	Language    string
	UpdatedAt   time.Time
}

// PositionDecimals is how many decimals of a degree the tracking page shows
// of the courier's position: 3, about 100 m, enough to see the courier come
// closer, not enough to tell which door they are at.
const PositionDecimals = 3

// roundPosition rounds p to PositionDecimals.
func roundPosition(p courier.LatLng) courier.LatLng {
	const scale = 1000 // 10^PositionDecimals
	return courier.LatLng{Lat: math.Round(p.Lat*scale) / scale, Lng: math.Round(p.Lng*scale) / scale}
}

// Track returns the tracking view of a tracking token. The ETAs come from
// the sheet's cached plan (at most ETACache old). Each link may ask
// TrackLimit times per TrackWindow. Returns ENOTFOUND for an unknown or
// expired link, ETOOMANY (details: retry_after_s) over the limit.
func (s *Service) Track(ctx context.Context, token string) (*TrackView, error) {
	if err := s.limitTrack(ctx, token); err != nil {
		return nil, err
	}
	o, err := s.orderOfLink(ctx, token)
	if err != nil {
		return nil, err
	}
	v := &TrackView{OrderNumber: orderNumber(o), Status: o.Status, Window: o.TimeWindow, StopsAhead: -1, Company: s.cfg.Company,
		Language: s.cfg.Language, UpdatedAt: o.UpdatedAt}
	if o.Status != courier.StatusOutForDelivery && o.Status != courier.StatusPlanned || o.RouteSheetID == 0 {
		return v, nil
	}
	sh, err := s.store.Sheet(ctx, o.RouteSheetID)
	if courier.ErrorCode(err) == courier.ENOTFOUND {
		return v, nil
	} else if err != nil {
		return nil, err
	}
	if sh.Status != courier.SheetPublished && sh.Status != courier.SheetActive {
		return v, nil
	}
	sp, err := s.cachedPlan(ctx, sh)
	if err != nil {
		return nil, err
	}
	st, ok := sp.order[o.ID]
	if !ok {
		return v, nil
	}
	v.ETA = st.eta
	if o.Status == courier.StatusOutForDelivery && sh.Status == courier.SheetActive {
		v.StopsAhead = st.ahead
		if sp.at != nil && st.ahead == 0 {
			at := roundPosition(*sp.at)
			v.Courier, v.CourierAt = &at, sp.seen
		}
	}
	return v, nil
}

// LateStop is a remaining stop of an active sheet that will miss its window.
type LateStop struct {
	OrderID  int64
	ETA      time.Time // live when the courier's position is fresh, else planned (never before now)
	WindowTo time.Time
	Live     bool
}

// LateStops returns the remaining stops of sh whose estimated arrival is
// after the end of their time window: from the courier's live position
// through the rest of the sheet when it is fresh, else from the plan; a
// window already closed counts as late. Sheets that are not active have none.
func (s *Service) LateStops(ctx context.Context, sh *courier.RouteSheet) ([]LateStop, error) {
	if sh.Status != courier.SheetActive {
		return nil, nil
	}
	sp, err := s.cachedPlan(ctx, sh)
	if err != nil {
		return nil, err
	}
	now := s.clock.Now()
	var out []LateStop
	for _, st := range sp.stops {
		tw := st.order.TimeWindow
		if tw == nil {
			continue
		}
		eta := st.eta
		if eta.Before(now) {
			eta = now
		}
		if eta.After(tw.To) {
			out = append(out, LateStop{OrderID: st.order.ID, ETA: eta, WindowTo: tw.To, Live: sp.live})
		}
	}
	return out, nil
}
