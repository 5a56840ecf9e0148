package dispatch

import (
	"context"

	"github.com/courierhq/courier"
	"github.com/courierhq/courier/geo"
)

var _ geo.PlanSource = (*Service)(nil)

// ActivePlan tells the tracker's detectors a courier's active route sheet:
// the path depot -> stops -> depot and the stops (order ids), finished ones
// marked. It returns nil, nil when the courier has no active sheet.
func (s *Service) ActivePlan(ctx context.Context, courierID int64) (*geo.CourierPlan, error) {
	sheets, err := s.store.ListSheets(ctx, courier.SheetFilter{CourierID: courierID, Statuses: []courier.SheetStatus{courier.SheetActive}})
	if err != nil || len(sheets) == 0 {
		return nil, err
	}
	sh := sheets[len(sheets)-1]
	depot, err := s.store.Depot(ctx, sh.DepotID)
	if err != nil {
		return nil, err
	}
	// The stops' orders in one query per page (it runs for every GPS batch
	// of a courier on the road): not one per stop.
	orders, err := s.sheetOrders(ctx, sh)
	if err != nil {
		return nil, err
	}
	plan := &geo.CourierPlan{SheetID: sh.ID, Path: []courier.LatLng{depot.Location}}
	for _, st := range sh.Stops {
		o := orders[st.OrderID]
		plan.Path = append(plan.Path, o.Location)
		plan.Stops = append(plan.Stops, geo.PlannedStop{ID: o.ID, Location: o.Location, Done: stopDone(o)})
	}
	plan.Path = append(plan.Path, depot.Location)
	return plan, nil
}
