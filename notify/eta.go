package notify

import (
	"context"
	"fmt"
	"slices"
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

// sheetPlan is an active sheet's remaining stops with their ETAs.
type sheetPlan struct {
	sheet *courier.RouteSheet
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
	sp := &sheetPlan{sheet: sh, order: map[int64]*stopETA{}}
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
		m, err := s.travel.Matrix(ctx, points, vehicle, now)
		if err != nil {
			s.log.Warn("travel times for ETAs", "sheet_id", sh.ID, "err", err)
		} else {
			sp.live = true
			t := now
			for i, o := range orders {
				t = t.Add(time.Duration(m.Duration(i, i+1)) * time.Second)
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
// and, while the courier is close, where the courier is. Nothing about
// other orders or about the courier as a person.
type TrackView struct {
	OrderNumber string
	Status      courier.OrderStatus
	Window      *courier.TimeWindow
	ETA         time.Time       // zero when unknown
	StopsAhead  int             // stops before this one; -1 when not on the way
	Courier     *courier.LatLng // while the order is among the courier's next PositionStops stops
	CourierAt   time.Time       // when that position was recorded
	Company     string
	Language    string
	UpdatedAt   time.Time
}

// Track returns the tracking view of a tracking token. Returns ENOTFOUND for
// an unknown or expired link.
func (s *Service) Track(ctx context.Context, token string) (*TrackView, error) {
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
	sp, err := s.planOf(ctx, sh)
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
		if sp.at != nil && st.ahead < s.cfg.PositionStops {
			at := *sp.at
			v.Courier, v.CourierAt = &at, sp.seen
		}
	}
	return v, nil
}
