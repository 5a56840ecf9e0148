package dispatch

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"time"

	"github.com/courierhq/courier"
	"github.com/courierhq/courier/routing"
)

// SheetView is a route sheet with the orders on it, in stop order.
type SheetView struct {
	Sheet  *courier.RouteSheet
	Orders []*courier.Order // Orders[i] is the order of Sheet.Stops[i]
}

// Cash returns what the courier is to collect in cash on the sheet.
func (v *SheetView) Cash() int64 {
	var sum int64
	for _, o := range v.Orders {
		if o.COD.Method == courier.PayCash && o.Status != courier.StatusCancelled {
			sum += o.COD.Amount
		}
	}
	return sum
}

// doneStatuses are the order statuses that end a stop.
var doneStatuses = []courier.OrderStatus{courier.StatusDelivered, courier.StatusFailedAttempt, courier.StatusRefused,
	courier.StatusReturnedToDepot, courier.StatusCancelled}

// stopDone reports whether the stop's order is finished.
func stopDone(o *courier.Order) bool { return slices.Contains(doneStatuses, o.Status) }

// canSeeSheet: couriers see their own published or later sheets; office roles all.
func canSeeSheet(actor courier.Actor, sh *courier.RouteSheet) bool {
	if actor.Role == courier.RoleCourier {
		return actor.CourierID != 0 && sh.CourierID == actor.CourierID && sh.Status != courier.SheetDraft && sh.Status != courier.SheetDiscarded
	}
	return actor.Role.Valid()
}

// Sheet returns a route sheet with its orders. Couriers see only their own
// published sheets; others are told it does not exist. Returns ENOTFOUND.
func (s *Service) Sheet(ctx context.Context, actor courier.Actor, id int64) (*SheetView, error) {
	sh, err := s.store.Sheet(ctx, id)
	if err != nil {
		return nil, err
	}
	if !canSeeSheet(actor, sh) {
		return nil, courier.Errorf(courier.ENOTFOUND, "route sheet %d not found", id)
	}
	return s.view(ctx, sh)
}

func (s *Service) view(ctx context.Context, sh *courier.RouteSheet) (*SheetView, error) {
	v := &SheetView{Sheet: sh}
	orders, err := s.sheetOrders(ctx, sh)
	if err != nil {
		return nil, err
	}
	for i, st := range sh.Stops {
		o := orders[st.OrderID]
		sh.Stops[i].Done = stopDone(o)
		v.Orders = append(v.Orders, o)
	}
	return v, nil
}

// sheetOrders loads the orders of a sheet's stops in one query per 500
// stops, not one per stop (the courier's today and every GPS batch of a
// courier on the road read them). Returns ENOTFOUND when one is missing.
func (s *Service) sheetOrders(ctx context.Context, sh *courier.RouteSheet) (map[int64]*courier.Order, error) {
	orders := make(map[int64]*courier.Order, len(sh.Stops))
	ids := make([]int64, len(sh.Stops))
	for i, st := range sh.Stops {
		ids[i] = st.OrderID
	}
	for page := range slices.Chunk(ids, 500) {
		list, err := s.store.ListOrders(ctx, courier.OrderFilter{IDs: page, Limit: len(page)})
		if err != nil {
			return nil, err
		}
		for _, o := range list {
			orders[o.ID] = o
		}
	}
	for _, id := range ids {
		if orders[id] == nil {
			return nil, courier.Errorf(courier.ENOTFOUND, "order %d of route sheet %d not found", id, sh.ID)
		}
	}
	return orders, nil
}

// ListSheets lists route sheets; couriers get only their own, published or later.
func (s *Service) ListSheets(ctx context.Context, actor courier.Actor, f courier.SheetFilter) ([]*courier.RouteSheet, error) {
	if actor.Role == courier.RoleCourier {
		if f.CourierID != 0 && f.CourierID != actor.CourierID {
			return nil, courier.Errorf(courier.EFORBIDDEN, "couriers may list only their own route sheets")
		}
		f.CourierID = actor.CourierID
		if len(f.Statuses) == 0 {
			f.Statuses = []courier.SheetStatus{courier.SheetPublished, courier.SheetActive, courier.SheetCompleted}
		}
		for _, st := range f.Statuses {
			if st == courier.SheetDraft || st == courier.SheetDiscarded {
				return nil, courier.Errorf(courier.EFORBIDDEN, "couriers see published sheets only")
			}
		}
	}
	if f.Date != "" {
		if _, err := time.Parse(time.DateOnly, f.Date); err != nil {
			return nil, courier.FieldError("date", "must be a date YYYY-MM-DD")
		}
	}
	return s.store.ListSheets(ctx, f)
}

// sheetPayload is the JSON of a courier notification about a sheet.
func sheetPayload(kind string, sh *courier.RouteSheet, extra map[string]any) []byte {
	m := map[string]any{"type": kind, "sheet_id": sh.ID, "sheet_number": sh.Number, "courier_id": sh.CourierID, "date": sh.Date, "stops": len(sh.Stops)}
	for k, v := range extra {
		m[k] = v
	}
	b, _ := json.Marshal(m)
	return b
}

// PublishPlan publishes a finished plan's draft sheets in one transaction:
// sheets become published, their orders planned on their courier, and each
// courier gets a notification through the outbox. Staff only. Returns
// EFORBIDDEN, ENOTFOUND, ECONFLICT (the plan is not done, or an order changed
// meanwhile: plan again).
func (s *Service) PublishPlan(ctx context.Context, actor courier.Actor, planID int64) ([]*courier.RouteSheet, error) {
	if err := actor.Require(staff...); err != nil {
		return nil, err
	}
	plan, err := s.store.Plan(ctx, planID)
	if err != nil {
		return nil, err
	}
	if plan.Status != courier.PlanDone {
		return nil, courier.Errorf(courier.ECONFLICT, "plan %d is %s; only a finished plan can be published", planID, plan.Status)
	}
	drafts, err := s.store.ListSheets(ctx, courier.SheetFilter{PlanID: planID, Statuses: []courier.SheetStatus{courier.SheetDraft}})
	if err != nil {
		return nil, err
	}
	if len(drafts) == 0 {
		return nil, courier.Errorf(courier.ECONFLICT, "plan %d has no route sheets to publish", planID)
	}
	var sheetIDs, orderIDs []int64
	for _, sh := range drafts {
		sheetIDs = append(sheetIDs, sh.ID)
		for _, st := range sh.Stops {
			orderIDs = append(orderIDs, st.OrderID)
		}
	}
	now := s.clock.Now()
	sheets, err := s.store.UpdateSheets(ctx, sheetIDs, orderIDs, func(sheets []*courier.RouteSheet, orders map[int64]*courier.Order) ([]courier.OrderEvent, error) {
		var events []courier.OrderEvent
		for _, sh := range sheets {
			if sh.Status != courier.SheetDraft {
				return nil, courier.Errorf(courier.ECONFLICT, "route sheet %s is already %s", sh.Number, sh.Status)
			}
			sh.Status, sh.PublishedAt = courier.SheetPublished, &now
			for k, st := range sh.Stops {
				o := orders[st.OrderID]
				if o.Status != courier.StatusReady {
					return nil, &courier.Error{Code: courier.ECONFLICT, Message: fmt.Sprintf("order %d is now %s, no longer ready: plan again", o.ID, o.Status),
						Details: map[string]any{"order_id": o.ID, "status": o.Status}}
				}
				o.Status, o.CourierID, o.RouteSheetID = courier.StatusPlanned, sh.CourierID, sh.ID
				ev := courier.OrderEvent{OrderID: o.ID, Kind: courier.EventStatus, FromStatus: courier.StatusReady, ToStatus: courier.StatusPlanned,
					ActorID: actor.UserID, ActorRole: actor.Role, At: now, Reason: "route sheet " + sh.Number + " published"}
				if k == 0 {
					ev.Outbox = []courier.OutboxMessage{{Topic: courier.TopicSheetPublished, Key: fmt.Sprintf("sheet_published:%d:%d", sh.ID, sh.Version+1),
						Payload: sheetPayload("sheet_published", sh, nil)}}
				}
				events = append(events, ev)
			}
		}
		return events, nil
	})
	if err != nil {
		return nil, err
	}
	if _, err := s.store.UpdatePlan(ctx, planID, func(p *courier.Plan) error { p.Status = courier.PlanPublished; return nil }); err != nil {
		return nil, err
	}
	return sheets, nil
}

// StartSheet is the courier leaving the depot: the sheet becomes active and
// its planned orders go out for delivery. Only the sheet's courier (or staff).
// Returns ENOTFOUND, ECONFLICT when the sheet is not published.
func (s *Service) StartSheet(ctx context.Context, actor courier.Actor, id int64, at time.Time) (*SheetView, error) {
	sh, err := s.store.Sheet(ctx, id)
	if err != nil {
		return nil, err
	}
	if !canSeeSheet(actor, sh) || actor.Role == courier.RoleCashier {
		return nil, courier.Errorf(courier.ENOTFOUND, "route sheet %d not found", id)
	}
	if err := s.checkNotPaidOut(ctx, sh); err != nil {
		return nil, err
	}
	now := s.clock.Now()
	if at.IsZero() || at.After(now.Add(s.cfg.MaxClockSkew)) {
		at = now
	}
	var orderIDs []int64
	for _, st := range sh.Stops {
		orderIDs = append(orderIDs, st.OrderID)
	}
	sheets, err := s.store.UpdateSheets(ctx, []int64{id}, orderIDs, func(sheets []*courier.RouteSheet, orders map[int64]*courier.Order) ([]courier.OrderEvent, error) {
		sh := sheets[0]
		if sh.Status != courier.SheetPublished {
			return nil, courier.Errorf(courier.ECONFLICT, "route sheet %s is %s; only a published sheet can be started", sh.Number, sh.Status)
		}
		return startSheet(actor, sh, orders, at), nil
	})
	if err != nil {
		return nil, err
	}
	return s.view(ctx, sheets[0])
}

// checkNotPaidOut refuses to start a sheet of a day the couriers were paid
// out for (a closed pay period): its stops would change paid pay. Returns
// ECONFLICT.
func (s *Service) checkNotPaidOut(ctx context.Context, sh *courier.RouteSheet) error {
	periods, err := s.store.PayPeriods(ctx)
	if err != nil {
		return err
	}
	if n := len(periods); n > 0 && sh.Date <= periods[n-1].To {
		return &courier.Error{Code: courier.ECONFLICT,
			Message: fmt.Sprintf("route sheet %s is for %s, a day the couriers were paid out for (through %s); plan its orders for another day",
				sh.Number, sh.Date, periods[n-1].To),
			Details: map[string]any{"paid_through": periods[n-1].To}}
	}
	return nil
}

func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return b
}

// Violation is a rule an edited sheet would break.
type Violation struct {
	SheetID int64
	OrderID int64
	Kind    string // capacity, time_window, shift, max_stops, zone
	Message string
}

// evaluation is a set of sheets re-timed from their stop order.
type evaluation struct {
	pp         *planProblem
	sol        *routing.Solution
	violations []Violation
}

// evaluate re-times sheets as ordered, from the depot (or, for an active
// sheet, from its last finished stop at now), and lists what they break.
func (s *Service) evaluate(ctx context.Context, sheets []*courier.RouteSheet, orders map[int64]*courier.Order) (*evaluation, error) {
	pp, routes, err := s.problemOf(ctx, sheets, orders, false)
	if err != nil {
		return nil, err
	}
	sol, err := routing.Evaluate(pp.problem, routes)
	if err != nil {
		return nil, fmt.Errorf("evaluate sheets: %w", err)
	}
	ev := &evaluation{pp: pp, sol: sol}
	for _, u := range pp.unassigned {
		ev.violations = append(ev.violations, Violation{OrderID: u.OrderID, Kind: "zone", Message: "no courier on these sheets may serve the order's zone"})
	}
	for _, v := range routing.Check(pp.problem, sol) {
		switch v.Kind {
		case "capacity", "time_window", "shift", "max_stops", "max_duration", "skills":
		default:
			continue
		}
		out := Violation{Kind: v.Kind, Message: s.explain(pp, sol, v)}
		if v.Kind == "skills" {
			out.Kind = "zone"
		}
		if v.Route >= 0 && v.Route < len(sol.Routes) {
			out.SheetID = sheets[slices.IndexFunc(sheets, func(sh *courier.RouteSheet) bool {
				return sh.CourierID == pp.couriers[sol.Routes[v.Route].Vehicle].ID
			})].ID
		}
		if v.Job >= 0 {
			out.OrderID = pp.orders[v.Job].ID
		}
		ev.violations = append(ev.violations, out)
	}
	return ev, nil
}

// specOf is the problem of sheets (one courier each) with their remaining
// stops: finished stops are left out and an active sheet goes on from its last
// finished stop at now. With pin, locked stops stay on their sheet; the first
// remaining stop of an active sheet (where the courier is heading) always
// stays first on it.
func (s *Service) specOf(ctx context.Context, sheets []*courier.RouteSheet, orders map[int64]*courier.Order, pin bool) (problemSpec, error) {
	if len(sheets) == 0 {
		return problemSpec{}, courier.FieldError("sheet_ids", "no route sheets")
	}
	date, depotID := sheets[0].Date, sheets[0].DepotID
	depot, err := s.store.Depot(ctx, depotID)
	if err != nil {
		return problemSpec{}, err
	}
	sp := problemSpec{date: date, depot: depot, fixed: map[int64][]int64{}, pinned: map[int64]int64{}, startAt: map[int64]courier.LatLng{}}
	if sp.zones, err = s.zoneMap(ctx, date); err != nil {
		return sp, err
	}
	for _, sh := range sheets {
		if sh.Date != date || sh.DepotID != depotID {
			return sp, courier.Errorf(courier.ECONFLICT, "route sheets of different days or depots cannot be edited together")
		}
		if slices.ContainsFunc(sp.couriers, func(c *courier.Courier) bool { return c.ID == sh.CourierID }) {
			return sp, courier.Errorf(courier.ECONFLICT, "two of these route sheets belong to one courier")
		}
		c, err := s.store.Courier(ctx, sh.CourierID)
		if err != nil {
			return sp, err
		}
		sp.couriers = append(sp.couriers, c)
		var last *courier.Order
		heading := sh.Status == courier.SheetActive
		for _, st := range sh.Stops {
			o := orders[st.OrderID]
			if o == nil {
				return sp, fmt.Errorf("order %d of sheet %d not loaded", st.OrderID, sh.ID)
			}
			if stopDone(o) {
				last = o
				continue
			}
			sp.orders = append(sp.orders, o)
			if heading {
				sp.fixed[c.ID] = []int64{o.ID}
				sp.pinned[o.ID] = c.ID
				heading = false
			}
			if pin && st.Locked {
				sp.pinned[o.ID] = c.ID
			}
		}
		if sh.Status == courier.SheetActive {
			sp.notBefore = s.clock.Now()
			if last != nil {
				sp.startAt[c.ID] = last.Location
			}
		}
	}
	return sp, nil
}

// explain words a broken rule for a dispatcher: order numbers, kilograms and
// clock times in the company time zone rather than the optimizer's units.
func (s *Service) explain(pp *planProblem, sol *routing.Solution, v routing.Violation) string {
	clock := func(sec int64) string {
		return pp.origin.Add(time.Duration(sec) * time.Second).In(s.cfg.Location).Format("15:04")
	}
	order := func() string {
		if v.Job < 0 {
			return "an order"
		}
		o := pp.orders[v.Job]
		if o.ExternalID != "" {
			return "order " + o.ExternalID
		}
		return fmt.Sprintf("order %d", o.ID)
	}
	if v.Route < 0 || v.Route >= len(sol.Routes) {
		return v.Msg
	}
	r := sol.Routes[v.Route]
	c := pp.couriers[r.Vehicle]
	switch v.Kind {
	case "time_window":
		for _, st := range r.Stops {
			if st.Job == v.Job {
				if tw := pp.orders[v.Job].TimeWindow; tw != nil {
					return fmt.Sprintf("%s: %s arrives at %s, after the window closes at %s", order(), c.Name, clock(st.Arrival),
						tw.To.In(s.cfg.Location).Format("15:04"))
				}
				return fmt.Sprintf("%s: %s arrives at %s, too late", order(), c.Name, clock(st.Arrival))
			}
		}
	case "capacity":
		if len(r.Load) == 2 {
			if c.Vehicle.CapacityKg > 0 && float64(r.Load[0])/1000 > c.Vehicle.CapacityKg {
				return fmt.Sprintf("%s would carry %.1f kg; the %s takes %.0f kg", c.Name, float64(r.Load[0])/1000, c.Vehicle.Type, c.Vehicle.CapacityKg)
			}
			return fmt.Sprintf("%s would carry %.1f l; the %s takes %.0f l", c.Name, float64(r.Load[1])/1000, c.Vehicle.Type, c.Vehicle.CapacityL)
		}
	case "shift":
		return fmt.Sprintf("%s would be back at %s, after the shift ends at %s", c.Name, clock(r.Arrival), c.Shift.End)
	case "max_stops":
		return fmt.Sprintf("%s would have %d stops, at most %d", c.Name, len(r.Stops), c.Vehicle.MaxStops)
	case "skills":
		return fmt.Sprintf("%s: %s may not serve the order's zone", order(), c.Name)
	}
	return v.Msg
}

// problemOf builds the problem of sheets (see specOf) and their routes as ordered now.
func (s *Service) problemOf(ctx context.Context, sheets []*courier.RouteSheet, orders map[int64]*courier.Order, pin bool) (*planProblem, [][]int, error) {
	sp, err := s.specOf(ctx, sheets, orders, pin)
	if err != nil {
		return nil, nil, err
	}
	sp.keepAll = true // the sheets as they stand: no stop is left out
	pp, err := s.buildProblem(ctx, sp)
	if err != nil {
		return nil, nil, err
	}
	return pp, pp.routesOf(sheets), nil
}

// routesOf returns the job indices of sheets' stops, sheet i as vehicle i.
func (pp *planProblem) routesOf(sheets []*courier.RouteSheet) [][]int {
	routes := make([][]int, len(sheets))
	for i, sh := range sheets {
		for _, st := range sh.Stops {
			if j := pp.jobOf(st.OrderID); j >= 0 {
				routes[i] = append(routes[i], j)
			}
		}
	}
	return routes
}

// retime writes a solution's schedule into the sheets: remaining stops in
// the solution's order after the finished ones, ETAs, distance and duration.
func retime(sheets []*courier.RouteSheet, orders map[int64]*courier.Order, pp *planProblem, sol *routing.Solution) {
	at := func(sec int64) time.Time { return pp.origin.Add(time.Duration(sec) * time.Second).UTC() }
	byCourier := map[int64]routing.Route{}
	for _, r := range sol.Routes {
		byCourier[pp.couriers[r.Vehicle].ID] = r
	}
	for _, sh := range sheets {
		old := map[int64]courier.SheetStop{}
		var stops []courier.SheetStop
		for _, st := range sh.Stops {
			old[st.OrderID] = st
			if o := orders[st.OrderID]; o != nil && stopDone(o) {
				st.Done = true
				stops = append(stops, st)
			}
		}
		r, ok := byCourier[sh.CourierID]
		if ok {
			for _, st := range r.Stops {
				o := pp.orders[st.Job]
				eta := at(st.Start)
				stops = append(stops, courier.SheetStop{OrderID: o.ID, ETA: eta, ETAFrom: etaFrom(eta, o), ETATo: etaTo(eta, o),
					Locked: old[o.ID].Locked})
			}
			sh.DistanceM, sh.DurationS = r.Distance, r.Duration
			if sh.Status != courier.SheetActive {
				sh.Start = at(r.Departure)
			}
			sh.End = at(r.Arrival)
		} else if len(stops) == 0 {
			sh.DistanceM, sh.DurationS = 0, 0
		}
		for k := range stops {
			stops[k].Seq = k + 1
		}
		sh.Stops = stops
	}
}

// EditResult is an edited set of sheets and what they break (empty when fine).
type EditResult struct {
	Sheets     []*courier.RouteSheet
	Violations []Violation
}

// editable reports whether a sheet may still change.
func editable(sh *courier.RouteSheet) error {
	switch sh.Status {
	case courier.SheetDraft, courier.SheetPublished, courier.SheetActive:
		return nil
	}
	return courier.Errorf(courier.ECONFLICT, "route sheet %s is %s and can no longer change", sh.Number, sh.Status)
}

func checkVersion(sh *courier.RouteSheet, want *int64) error {
	if want != nil && *want != sh.Version {
		return &courier.Error{Code: courier.ECONFLICT, Message: fmt.Sprintf("route sheet %s changed since you read it (version %d, now %d); reload and retry", sh.Number, *want, sh.Version),
			Details: map[string]any{"sheet_id": sh.ID, "version": sh.Version}}
	}
	return nil
}

func violationError(vs []Violation) error {
	list := make([]map[string]any, len(vs))
	for i, v := range vs {
		list[i] = map[string]any{"sheet_id": v.SheetID, "order_id": v.OrderID, "kind": v.Kind, "message": v.Message}
	}
	return &courier.Error{Code: courier.EINVALID, Message: fmt.Sprintf("the change breaks %d rule(s): %s (send force to accept it anyway)", len(vs), vs[0].Message),
		Details: map[string]any{"violations": list}}
}
