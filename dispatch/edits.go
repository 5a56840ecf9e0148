package dispatch

import (
	"context"
	"fmt"
	"slices"

	"github.com/courierhq/courier"
	"github.com/courierhq/courier/routing"
)

// An edit reads the sheets and their orders, computes and checks the new
// arrangement outside any transaction (that needs the travel model and the
// optimizer), then writes it in one transaction that first makes sure nothing
// changed since the read: a concurrent edit of the same sheet gets ECONFLICT.

// loaded is a set of sheets and their orders as read before an edit.
type loaded struct {
	sheets   []*courier.RouteSheet
	orders   map[int64]*courier.Order
	versions map[int64]int64 // sheet id -> version read
	orderVer map[int64]int64 // order id -> version read
}

func (s *Service) load(ctx context.Context, sheetIDs []int64, extraOrders ...int64) (*loaded, error) {
	l := &loaded{orders: map[int64]*courier.Order{}, versions: map[int64]int64{}, orderVer: map[int64]int64{}}
	for _, id := range sortedUnique(sheetIDs) {
		sh, err := s.store.Sheet(ctx, id)
		if err != nil {
			return nil, err
		}
		if err := editable(sh); err != nil {
			return nil, err
		}
		l.sheets = append(l.sheets, sh)
		l.versions[sh.ID] = sh.Version
		for _, st := range sh.Stops {
			extraOrders = append(extraOrders, st.OrderID)
		}
	}
	for _, id := range extraOrders {
		if _, ok := l.orders[id]; ok {
			continue
		}
		o, err := s.store.Order(ctx, id)
		if err != nil {
			return nil, err
		}
		l.orders[id], l.orderVer[id] = o, o.Version
	}
	return l, nil
}

// sameStage refuses edits that mix draft sheets with published or active
// ones: an order moved onto a draft would leave its courier's sheet while
// still planned on it.
func (l *loaded) sameStage() error {
	for _, sh := range l.sheets[1:] {
		if (sh.Status == courier.SheetDraft) != (l.sheets[0].Status == courier.SheetDraft) {
			return courier.Errorf(courier.ECONFLICT, "route sheets %s (%s) and %s (%s) cannot be edited together: publish the drafts first",
				l.sheets[0].Number, l.sheets[0].Status, sh.Number, sh.Status)
		}
	}
	return nil
}

func (l *loaded) sheet(id int64) *courier.RouteSheet {
	for _, sh := range l.sheets {
		if sh.ID == id {
			return sh
		}
	}
	return nil
}

func (l *loaded) orderIDs() []int64 {
	var ids []int64
	for id := range l.orders {
		ids = append(ids, id)
	}
	return ids
}

func sortedUnique(ids []int64) []int64 {
	out := slices.Clone(ids)
	slices.Sort(out)
	return slices.Compact(out)
}

// commit writes the edited sheets (whose stops l.sheets now hold) if nothing
// changed since the read; orders that moved to another sheet get their new
// courier and sheet, with an event and a notification. It returns the sheets.
func (s *Service) commit(ctx context.Context, actor courier.Actor, l *loaded, reason string) ([]*courier.RouteSheet, error) {
	target := map[int64]*courier.RouteSheet{}
	for _, sh := range l.sheets {
		for _, st := range sh.Stops {
			target[st.OrderID] = sh
		}
	}
	now := s.clock.Now()
	var ids []int64
	for _, sh := range l.sheets {
		ids = append(ids, sh.ID)
	}
	return s.store.UpdateSheets(ctx, ids, l.orderIDs(), func(sheets []*courier.RouteSheet, orders map[int64]*courier.Order) ([]courier.OrderEvent, error) {
		for _, sh := range sheets {
			if sh.Version != l.versions[sh.ID] {
				return nil, checkVersion(sh, ptr(l.versions[sh.ID]))
			}
			edited := l.sheet(sh.ID)
			sh.Stops, sh.DistanceM, sh.DurationS, sh.Start, sh.End = edited.Stops, edited.DistanceM, edited.DurationS, edited.Start, edited.End
		}
		var events []courier.OrderEvent
		for id, o := range orders {
			if o.Version != l.orderVer[id] {
				return nil, courier.Errorf(courier.ECONFLICT, "order %d changed meanwhile; reload and retry", id)
			}
			sh, ok := target[id]
			if !ok || (o.RouteSheetID == sh.ID && o.CourierID == sh.CourierID) {
				continue
			}
			from, fromSheet := o.Status, o.RouteSheetID
			if sh.Status != courier.SheetDraft {
				if o.Status == courier.StatusReady {
					o.Status = courier.StatusPlanned
				}
				if sh.Status == courier.SheetActive && o.Status == courier.StatusPlanned {
					o.Status = courier.StatusOutForDelivery
				}
				o.CourierID, o.RouteSheetID = sh.CourierID, sh.ID
			}
			kind := courier.EventUpdated
			if from != o.Status {
				kind = courier.EventStatus
			}
			ev := courier.OrderEvent{OrderID: id, Kind: kind, FromStatus: from, ToStatus: o.Status, ActorID: actor.UserID,
				ActorRole: actor.Role, At: now, Reason: reason + ": route sheet " + sh.Number}
			if sh.Status != courier.SheetDraft {
				ev.Outbox = []courier.OutboxMessage{{Topic: courier.TopicSheetChanged, Key: fmt.Sprintf("sheet_changed:%d:%d:%d", sh.ID, sh.Version+1, id),
					Payload: sheetPayload("stop_added", sh, map[string]any{"order_id": id})}}
				// The courier whose sheet the stop leaves hears of it too.
				for _, left := range sheets {
					if left.ID == fromSheet && left.ID != sh.ID && left.Status != courier.SheetDraft {
						ev.Outbox = append(ev.Outbox, courier.OutboxMessage{Topic: courier.TopicSheetChanged,
							Key:     fmt.Sprintf("sheet_changed:%d:%d:%d", left.ID, left.Version+1, id),
							Payload: sheetPayload("stop_removed", left, map[string]any{"order_id": id})})
					}
				}
			}
			events = append(events, ev)
		}
		return events, nil
	})
}

func ptr[T any](v T) *T { return &v }

// MoveRequest moves a stop to a position (1-based; 0 = the end) on a sheet,
// the same or another. Versions, when given, must match the sheets read.
type MoveRequest struct {
	OrderID   int64
	ToSheetID int64
	Position  int
	Version   *int64 // of the sheet the stop is on
	ToVersion *int64 // of the target sheet
	Force     bool   // accept an arrangement that breaks rules (they are reported)
}

// MoveStop moves an order's stop within or between route sheets, re-times
// them and checks capacity, time windows, shifts and zones. Staff only.
// Returns EFORBIDDEN, ENOTFOUND, EINVALID (violations, unless Force),
// ECONFLICT (a stale version, a finished stop, a sheet that can no longer change).
func (s *Service) MoveStop(ctx context.Context, actor courier.Actor, fromSheetID int64, req MoveRequest) (*EditResult, error) {
	if err := actor.Require(staff...); err != nil {
		return nil, err
	}
	if req.ToSheetID == 0 {
		req.ToSheetID = fromSheetID
	}
	l, err := s.load(ctx, []int64{fromSheetID, req.ToSheetID})
	if err != nil {
		return nil, err
	}
	if err := l.sameStage(); err != nil {
		return nil, err
	}
	from, to := l.sheet(fromSheetID), l.sheet(req.ToSheetID)
	if err := checkVersion(from, req.Version); err != nil {
		return nil, err
	}
	if err := checkVersion(to, req.ToVersion); err != nil {
		return nil, err
	}
	if from.Date != to.Date || from.DepotID != to.DepotID {
		return nil, courier.FieldError("to_sheet_id", "the sheets are of different days or depots")
	}
	i := slices.IndexFunc(from.Stops, func(st courier.SheetStop) bool { return st.OrderID == req.OrderID })
	var stop courier.SheetStop
	if i < 0 {
		// An order on no route sheet (left out of the plan, or added later)
		// joins this one: the dispatcher assigns it to the courier.
		if req.ToSheetID != fromSheetID {
			return nil, courier.FieldError("order_id", "order %d is not on route sheet %s", req.OrderID, from.Number)
		}
		if err := s.joinSheet(ctx, l, to, req.OrderID); err != nil {
			return nil, err
		}
		stop = courier.SheetStop{OrderID: req.OrderID}
	} else {
		if stopDone(l.orders[req.OrderID]) {
			return nil, courier.Errorf(courier.ECONFLICT, "order %d is finished; its stop cannot move", req.OrderID)
		}
		stop = from.Stops[i]
		from.Stops = slices.Delete(from.Stops, i, i+1)
	}
	pos := req.Position - 1
	if req.Position <= 0 || pos > len(to.Stops) {
		pos = len(to.Stops)
	}
	// A stop cannot go before a finished one.
	firstOpen := slices.IndexFunc(to.Stops, func(st courier.SheetStop) bool { return !stopDone(l.orders[st.OrderID]) })
	if firstOpen < 0 {
		firstOpen = len(to.Stops)
	}
	if pos < firstOpen {
		pos = firstOpen
	}
	to.Stops = slices.Insert(to.Stops, pos, stop)
	return s.finishEdit(ctx, actor, l, req.Force, "moved by the dispatcher")
}

// joinSheet loads an order that is on no route sheet into l, to be added to
// sheet to: it must be ready, of the sheet's day and depot, and on no other
// sheet of that day (a published or active one; for a draft, another draft of
// the same plan). Returns ENOTFOUND, EINVALID, ECONFLICT.
func (s *Service) joinSheet(ctx context.Context, l *loaded, to *courier.RouteSheet, orderID int64) error {
	o, err := s.store.Order(ctx, orderID)
	if err != nil {
		return err
	}
	if o.Status != courier.StatusReady || o.DeliveryDate != to.Date || o.DepotID != to.DepotID {
		return &courier.Error{Code: courier.ECONFLICT, Message: fmt.Sprintf("order %d is %s for %s at depot %d: only ready orders of the sheet's day and depot can join it",
			orderID, o.Status, o.DeliveryDate, o.DepotID), Details: map[string]any{"order_id": orderID, "status": string(o.Status)}}
	}
	others, err := s.store.ListSheets(ctx, courier.SheetFilter{Date: to.Date,
		Statuses: []courier.SheetStatus{courier.SheetDraft, courier.SheetPublished, courier.SheetActive}})
	if err != nil {
		return err
	}
	for _, sh := range others {
		if sh.ID == to.ID || (sh.Status == courier.SheetDraft && (to.Status != courier.SheetDraft || sh.PlanID != to.PlanID)) {
			continue
		}
		if slices.ContainsFunc(sh.Stops, func(st courier.SheetStop) bool { return st.OrderID == orderID }) {
			return &courier.Error{Code: courier.ECONFLICT, Message: fmt.Sprintf("order %d is on route sheet %s already: move it from there", orderID, sh.Number),
				Details: map[string]any{"order_id": orderID, "sheet_id": sh.ID}}
		}
	}
	l.orders[orderID], l.orderVer[orderID] = o, o.Version
	return nil
}

// finishEdit re-times and checks l's sheets and commits them.
func (s *Service) finishEdit(ctx context.Context, actor courier.Actor, l *loaded, force bool, reason string) (*EditResult, error) {
	ev, err := s.evaluate(ctx, l.sheets, l.orders)
	if err != nil {
		return nil, err
	}
	if len(ev.violations) > 0 && !force {
		return nil, violationError(ev.violations)
	}
	retime(l.sheets, l.orders, ev.pp, ev.sol)
	sheets, err := s.commit(ctx, actor, l, reason)
	if err != nil {
		return nil, err
	}
	return &EditResult{Sheets: sheets, Violations: ev.violations}, nil
}

// LockStop pins (or unpins) a stop to its sheet: re-optimizing never moves a
// locked stop to another courier. Staff only. Returns ENOTFOUND, ECONFLICT.
func (s *Service) LockStop(ctx context.Context, actor courier.Actor, sheetID, orderID int64, locked bool, version *int64) (*courier.RouteSheet, error) {
	if err := actor.Require(staff...); err != nil {
		return nil, err
	}
	sheets, err := s.store.UpdateSheets(ctx, []int64{sheetID}, nil, func(sheets []*courier.RouteSheet, _ map[int64]*courier.Order) ([]courier.OrderEvent, error) {
		sh := sheets[0]
		if err := editable(sh); err != nil {
			return nil, err
		}
		if err := checkVersion(sh, version); err != nil {
			return nil, err
		}
		i := slices.IndexFunc(sh.Stops, func(st courier.SheetStop) bool { return st.OrderID == orderID })
		if i < 0 {
			return nil, courier.FieldError("order_id", "order %d is not on route sheet %s", orderID, sh.Number)
		}
		sh.Stops[i].Locked = locked
		return nil, nil
	})
	if err != nil {
		return nil, err
	}
	return sheets[0], nil
}

// OptimizeSheets re-optimizes route sheets together: stops may move between
// them, except locked ones (they stay on their sheet) and finished ones (they
// stay where they are); on a sheet under way the stop the courier is heading to
// stays first. With orderIDs, ready orders of the same day are inserted too
// (urgent orders added during the day). Staff only. Returns EFORBIDDEN,
// ENOTFOUND, EINVALID, ECONFLICT.
func (s *Service) OptimizeSheets(ctx context.Context, actor courier.Actor, sheetIDs []int64, orderIDs []int64, versions map[int64]int64) (*EditResult, error) {
	if err := actor.Require(staff...); err != nil {
		return nil, err
	}
	if len(sheetIDs) == 0 {
		return nil, courier.FieldError("sheet_ids", "name at least one route sheet")
	}
	l, err := s.load(ctx, sheetIDs, orderIDs...)
	if err != nil {
		return nil, err
	}
	if err := l.sameStage(); err != nil {
		return nil, err
	}
	for _, sh := range l.sheets {
		if v, ok := versions[sh.ID]; ok {
			if err := checkVersion(sh, &v); err != nil {
				return nil, err
			}
		}
	}
	onSheets := map[int64]bool{}
	for _, sh := range l.sheets {
		for _, st := range sh.Stops {
			onSheets[st.OrderID] = true
		}
	}
	for i, id := range orderIDs {
		o := l.orders[id]
		if onSheets[id] {
			continue
		}
		if o.Status != courier.StatusReady || o.DeliveryDate != l.sheets[0].Date || o.DepotID != l.sheets[0].DepotID {
			return nil, courier.FieldError(fmt.Sprintf("order_ids[%d]", i), "order %d is %s for %s at depot %d: only ready orders of the sheets' day and depot can be added",
				id, o.Status, o.DeliveryDate, o.DepotID)
		}
	}
	sp, err := s.specOf(ctx, l.sheets, l.orders, true)
	if err != nil {
		return nil, err
	}
	for _, id := range orderIDs {
		if !onSheets[id] { // the new orders join as jobs no sheet holds yet
			sp.orders = append(sp.orders, l.orders[id])
		}
	}
	pp, err := s.buildProblem(ctx, sp)
	if err != nil {
		return nil, err
	}
	routes := pp.routesOf(l.sheets)
	initial, err := routing.Evaluate(pp.problem, routes)
	if err != nil {
		return nil, fmt.Errorf("evaluate current sheets: %w", err)
	}
	opts := routing.Options{TimeLimit: s.solver.EditTimeLimit, Seed: 1, Threads: s.solver.Threads, MaxIterations: s.solver.MaxIterations}
	if len(routing.Check(pp.problem, initial)) == 0 {
		opts.Initial = initial
	}
	if opts.MaxIterations > 0 {
		opts.TimeLimit = 0
	}
	sol, err := routing.Solve(ctx, pp.problem, opts)
	if err != nil {
		return nil, fmt.Errorf("re-optimize: %w", err)
	}
	retime(l.sheets, l.orders, pp, sol)
	var violations []Violation
	for _, u := range pp.unassignedOrders(sol) {
		violations = append(violations, Violation{OrderID: u.OrderID, Kind: u.Reason, Message: fmt.Sprintf("order %d could not be placed: %s", u.OrderID, u.Reason)})
	}
	// Orders on the sheets that could not be placed again stay where they were,
	// at the end: nothing is dropped silently.
	for _, v := range violations {
		if onSheets[v.OrderID] {
			return nil, violationError(violations)
		}
	}
	sheets, err := s.commit(ctx, actor, l, "re-optimized")
	if err != nil {
		return nil, err
	}
	return &EditResult{Sheets: sheets, Violations: violations}, nil
}
