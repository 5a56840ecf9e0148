package dispatch

import (
	"context"
	"fmt"
	"math"
	"slices"
	"time"

	"github.com/courierhq/courier"
	"github.com/courierhq/courier/routing"
)

// unlimited is the capacity of a dimension a vehicle does not limit.
const unlimited = int64(1) << 34

// Capacity dimensions of the routing problems we build: grams and millilitres.
var dimensions = []string{"g", "ml"}

// planProblem is a routing problem built from orders and couriers, with the
// maps back: job j is orders[j], vehicle v is couriers[v]. Location 0 is the
// depot; routes under way add their start points; then one location per job.
// Times are seconds after origin (midnight of the date in the company time zone).
type planProblem struct {
	problem    *routing.Problem
	origin     time.Time
	depot      *courier.Depot
	orders     []*courier.Order
	couriers   []*courier.Courier
	unassigned []courier.UnassignedOrder // left out before solving, with the reason
}

// jobOf returns the job index of an order, or -1.
func (pp *planProblem) jobOf(orderID int64) int {
	for j, o := range pp.orders {
		if o.ID == orderID {
			return j
		}
	}
	return -1
}

// vehicleOf returns the vehicle index of a courier, or -1.
func (pp *planProblem) vehicleOf(courierID int64) int {
	for v, c := range pp.couriers {
		if c.ID == courierID {
			return v
		}
	}
	return -1
}

// allowedCouriers returns which of couriers may serve an order in zone
// (nil: no zone): a courier with a zone list serves only those zones; a zone
// with a courier list is served only by those couriers.
func allowedCouriers(zone *courier.Zone, couriers []*courier.Courier) []int {
	var out []int
	for v, c := range couriers {
		if zone == nil {
			if len(c.ZoneIDs) == 0 {
				out = append(out, v)
			}
			continue
		}
		if len(c.ZoneIDs) > 0 && !slices.Contains(c.ZoneIDs, zone.ID) {
			continue
		}
		if len(zone.CourierIDs) > 0 && !slices.Contains(zone.CourierIDs, c.ID) {
			continue
		}
		out = append(out, v)
	}
	return out
}

// problemSpec is what a routing problem is built from.
type problemSpec struct {
	date     string
	depot    *courier.Depot
	orders   []*courier.Order
	couriers []*courier.Courier
	zones    map[int64]*courier.Zone
	// notBefore, when later than the day's start, keeps routes from starting
	// in the past (planning during the day).
	notBefore time.Time
	// fixed[courierID] lists orders that must open that courier's route, in
	// that order (the stop a courier is heading to).
	fixed map[int64][]int64
	// pinned[orderID] keeps an order on one courier (a locked stop).
	pinned map[int64]int64
	// startAt[courierID] is where a route under way goes on from (the last
	// stop served); absent means the depot.
	startAt map[int64]courier.LatLng
	// keepAll makes every order a job, to evaluate sheets as they stand (an
	// edit): an order no courier here may serve (its zone) is still a job
	// and is reported in unassigned; a window already over is checked as a
	// time window. Without it such orders are left out (planning).
	keepAll bool
}

// buildProblem turns orders and couriers of one depot and date into a routing
// problem. Orders that no courier may serve are left out with a reason.
func (s *Service) buildProblem(ctx context.Context, sp problemSpec) (*planProblem, error) {
	date, depot, orders, couriers, zones, notBefore, fixed, pinned := sp.date, sp.depot, sp.orders, sp.couriers, sp.zones, sp.notBefore, sp.fixed, sp.pinned
	day, err := time.ParseInLocation(time.DateOnly, date, s.cfg.Location)
	if err != nil {
		return nil, courier.FieldError("date", "must be a date YYYY-MM-DD")
	}
	pp := &planProblem{origin: day, depot: depot, couriers: couriers}
	secs := func(t time.Time) int64 { return int64(t.Sub(day) / time.Second) }
	p := &routing.Problem{Name: fmt.Sprintf("%s depot %d", date, depot.ID), Objective: routing.MinimizeDuration, Dimensions: dimensions}

	opens, _ := courier.ParseClock("opens", depot.Opens)
	closes, _ := courier.ParseClock("closes", depot.Closes)
	earliest := int64(0)
	if ns := secs(notBefore); ns > 0 {
		earliest = ns
	}
	for _, c := range couriers {
		start, _ := courier.ParseClock("shift.start", c.Shift.Start)
		end, _ := courier.ParseClock("shift.end", c.Shift.End)
		if end <= start {
			end += 24 * 60
		}
		from, to := int64(max(start, opens))*60, int64(min(end, max(closes, opens+1)))*60
		if closes <= opens { // a depot open around the clock
			to = int64(end) * 60
		}
		from = max(from, earliest)
		if to <= from {
			to = from // an empty shift: the vehicle can serve nothing
		}
		veh := routing.Vehicle{ID: fmt.Sprint(c.ID), Start: 0, End: 0, Shift: routing.TimeWindow{Start: from, End: to},
			Capacity: []int64{scaled(c.Vehicle.CapacityKg), scaled(c.Vehicle.CapacityL)}, MaxStops: c.Vehicle.MaxStops}
		p.Vehicles = append(p.Vehicles, veh)
	}

	points := []courier.LatLng{depot.Location}
	for v, c := range couriers {
		if at, ok := sp.startAt[c.ID]; ok {
			p.Vehicles[v].Start = len(points)
			points = append(points, at)
		}
	}
	for _, o := range orders {
		var zone *courier.Zone
		if o.ZoneID != 0 {
			zone = zones[o.ZoneID]
		}
		allowed := allowedCouriers(zone, couriers)
		if c, ok := pinned[o.ID]; ok {
			allowed = []int{pp.vehicleOf(c)}
		}
		if len(allowed) == 0 || allowed[0] < 0 {
			reason := "no_courier_for_zone"
			if len(couriers) == 0 {
				reason = "no_courier"
			}
			pp.unassigned = append(pp.unassigned, courier.UnassignedOrder{OrderID: o.ID, Reason: reason})
			if !sp.keepAll || len(couriers) == 0 {
				continue
			}
			allowed = nil // evaluated where the sheets have it; the zone is reported
		}
		job := routing.Job{ID: fmt.Sprint(o.ID), Location: len(points), Service: int64(o.ServiceMinutes) * 60,
			Demand: []int64{grams(o.WeightKg), grams(o.VolumeL)}}
		if len(allowed) > 0 && len(allowed) < len(couriers) {
			job.Vehicles = allowed
		}
		if o.TimeWindow != nil {
			from, to := max(secs(o.TimeWindow.From), 0), secs(o.TimeWindow.To)
			if to < from && sp.keepAll {
				from, to = 0, 0 // over before the route goes on: any arrival breaks it
			} else if to < from {
				pp.unassigned = append(pp.unassigned, courier.UnassignedOrder{OrderID: o.ID, Reason: "window_unreachable"})
				continue
			}
			job.TimeWindows = []routing.TimeWindow{{Start: from, End: to}}
		}
		p.Jobs = append(p.Jobs, job)
		pp.orders = append(pp.orders, o)
		points = append(points, o.Location)
	}
	for cid, ids := range fixed {
		v := pp.vehicleOf(cid)
		for _, id := range ids {
			if j := pp.jobOf(id); v >= 0 && j >= 0 {
				p.Vehicles[v].Fixed = append(p.Vehicles[v].Fixed, j)
			}
		}
	}
	// One matrix per kind of vehicle: a courier on foot travels at walking
	// speed (and, with OSRM, by footpaths). One kind keeps the plain top-level
	// matrices; several become routing profiles.
	depart := day.Add(time.Duration(max(earliest, 9*3600)) * time.Second)
	var kinds []string
	for _, c := range couriers {
		if !slices.Contains(kinds, vehicleKind(c)) {
			kinds = append(kinds, vehicleKind(c))
		}
	}
	if len(kinds) == 0 {
		kinds = []string{courier.VehicleCar}
	}
	for _, kind := range kinds {
		m, err := s.travel.Matrix(ctx, points, kind, depart)
		if err != nil {
			return nil, fmt.Errorf("travel matrix (%s): %w", kind, err)
		}
		if len(kinds) == 1 {
			p.Durations, p.Distances = m.DurationRows(), m.DistanceRows()
			break
		}
		p.Profiles = append(p.Profiles, routing.Profile{Name: kind, Durations: m.DurationRows(), Distances: m.DistanceRows()})
	}
	if len(kinds) > 1 {
		for v, c := range couriers {
			p.Vehicles[v].Profile = slices.Index(kinds, vehicleKind(c))
		}
	}
	for _, pt := range points {
		p.Coords = append(p.Coords, routing.Point{X: pt.Lng, Y: pt.Lat})
	}
	pp.problem = p
	return pp, nil
}

// vehicleKind is the travel profile of a courier's vehicle.
func vehicleKind(c *courier.Courier) string {
	if c.Vehicle.Type == "" {
		return courier.VehicleCar
	}
	return c.Vehicle.Type
}

// scaled turns a capacity in kg or litres into grams or millilitres; 0 is no limit.
func scaled(v float64) int64 {
	if v <= 0 {
		return unlimited
	}
	return min(int64(math.Round(v*1000)), unlimited)
}

func grams(v float64) int64 { return int64(math.Round(v * 1000)) }

// reasons maps the optimizer's reasons to what a dispatcher reads.
var reasons = map[string]string{
	"capacity":     "no_capacity",
	"time_window":  "window_unreachable",
	"skills":       "no_courier_for_zone",
	"max_stops":    "too_many_stops",
	"max_duration": "shift_too_short",
	"max_distance": "route_too_long",
	"no_vehicle":   "no_courier",
	"optional":     "no_courier",
}

// sheets turns a solution into draft route sheets, one per used courier.
func (pp *planProblem) sheets(sol *routing.Solution, date string) []*courier.RouteSheet {
	at := func(s int64) time.Time { return pp.origin.Add(time.Duration(s) * time.Second).UTC() }
	var out []*courier.RouteSheet
	for _, r := range sol.Routes {
		if len(r.Stops) == 0 {
			continue
		}
		c := pp.couriers[r.Vehicle]
		sh := &courier.RouteSheet{CourierID: c.ID, DepotID: pp.depot.ID, Date: date, Status: courier.SheetDraft,
			DistanceM: r.Distance, DurationS: r.Duration, Start: at(r.Departure), End: at(r.Arrival)}
		for k, st := range r.Stops {
			o := pp.orders[st.Job]
			eta := at(st.Start)
			sh.Stops = append(sh.Stops, courier.SheetStop{OrderID: o.ID, Seq: k + 1, ETA: eta, ETAFrom: etaFrom(eta, o), ETATo: etaTo(eta, o)})
		}
		out = append(out, sh)
	}
	return out
}

// etaSlack is how wide the window promised to a customer is around the ETA.
const etaSlack = 30 * time.Minute

func etaFrom(eta time.Time, o *courier.Order) time.Time {
	t := eta.Add(-etaSlack).Truncate(15 * time.Minute)
	if o.TimeWindow != nil && t.Before(o.TimeWindow.From) {
		t = o.TimeWindow.From
	}
	return t.UTC()
}

func etaTo(eta time.Time, o *courier.Order) time.Time {
	t := eta.Add(etaSlack + 15*time.Minute - time.Nanosecond).Truncate(15 * time.Minute)
	if o.TimeWindow != nil && t.After(o.TimeWindow.To) {
		t = o.TimeWindow.To
	}
	return t.UTC()
}

// unassignedOrders lists the solution's unassigned jobs as orders with reasons.
func (pp *planProblem) unassignedOrders(sol *routing.Solution) []courier.UnassignedOrder {
	out := slices.Clone(pp.unassigned)
	for _, u := range sol.Unassigned {
		r, ok := reasons[u.Reason]
		if !ok {
			r = u.Reason
		}
		out = append(out, courier.UnassignedOrder{OrderID: pp.orders[u.Job].ID, Reason: r})
	}
	slices.SortFunc(out, func(a, b courier.UnassignedOrder) int { return int(a.OrderID - b.OrderID) })
	if out == nil {
		out = []courier.UnassignedOrder{}
	}
	return out
}
