// Package vroom reads VROOM's JSON input and writes its JSON output shape,
// so that a team running VROOM can swap the binary and both can be
// compared on the very same file.
//
// Supported input: jobs (id, location_index, delivery or amount, service,
// time_windows, skills, priority), vehicles (id, start_index, end_index,
// capacity, time_window, skills, max_tasks, max_travel_time,
// max_distance, costs.fixed, profile), and custom matrices: "matrices"
// keyed by profile name, each holding "durations", optional "distances"
// and "costs", or the legacy top-level "matrix" (durations). With one
// profile every vehicle uses it; with several, each vehicle uses the
// matrices of its "profile" (VROOM's default: "car"). As in VROOM, the
// travel cost is the costs matrix when given, else the travel time (a
// profile without costs among profiles with costs pays its durations).
// Not supported, and reported as an error: shipments, pickup amounts,
// setup times, coordinates without matrices, vehicle breaks and steps,
// speed factors.
package vroom

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"sort"

	"github.com/courierhq/courier/routing"
)

// Input is VROOM's problem document (the supported part).
type Input struct {
	Jobs      []Job                  `json:"jobs"`
	Vehicles  []Vehicle              `json:"vehicles"`
	Shipments []json.RawMessage      `json:"shipments,omitempty"`
	Matrices  map[string]MatrixGroup `json:"matrices,omitempty"`
	Matrix    [][]int64              `json:"matrix,omitempty"`
}

type MatrixGroup struct {
	Durations [][]int64 `json:"durations"`
	Distances [][]int64 `json:"distances,omitempty"`
	Costs     [][]int64 `json:"costs,omitempty"`
}

type Job struct {
	ID            uint64     `json:"id"`
	Description   string     `json:"description,omitempty"`
	Location      []float64  `json:"location,omitempty"`
	LocationIndex *int       `json:"location_index"`
	Setup         int64      `json:"setup,omitempty"`
	Service       int64      `json:"service,omitempty"`
	Delivery      []int64    `json:"delivery,omitempty"`
	Pickup        []int64    `json:"pickup,omitempty"`
	Amount        []int64    `json:"amount,omitempty"`
	Skills        []int      `json:"skills,omitempty"`
	Priority      int        `json:"priority,omitempty"`
	TimeWindows   [][2]int64 `json:"time_windows,omitempty"`
}

type Vehicle struct {
	ID            uint64          `json:"id"`
	Profile       string          `json:"profile,omitempty"`
	Description   string          `json:"description,omitempty"`
	Start         []float64       `json:"start,omitempty"`
	StartIndex    *int            `json:"start_index"`
	End           []float64       `json:"end,omitempty"`
	EndIndex      *int            `json:"end_index"`
	Capacity      []int64         `json:"capacity,omitempty"`
	Skills        []int           `json:"skills,omitempty"`
	TimeWindow    *[2]int64       `json:"time_window,omitempty"`
	MaxTasks      int             `json:"max_tasks,omitempty"`
	MaxTravelTime int64           `json:"max_travel_time,omitempty"`
	MaxDistance   int64           `json:"max_distance,omitempty"`
	Costs         *VehicleCosts   `json:"costs,omitempty"`
	Breaks        json.RawMessage `json:"breaks,omitempty"`
	Steps         json.RawMessage `json:"steps,omitempty"`
	SpeedFactor   float64         `json:"speed_factor,omitempty"`
}

type VehicleCosts struct {
	Fixed   int64 `json:"fixed,omitempty"`
	PerHour int64 `json:"per_hour,omitempty"`
	PerKm   int64 `json:"per_km,omitempty"`
}

// Decode reads a VROOM input document and converts it. Errors name the
// line for syntax errors and the job or vehicle for unsupported features.
func Decode(r io.Reader) (*Input, *routing.Problem, error) {
	data, err := io.ReadAll(io.LimitReader(r, 1<<30))
	if err != nil {
		return nil, nil, err
	}
	var in Input
	dec := json.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&in); err != nil {
		var se *json.SyntaxError
		var te *json.UnmarshalTypeError
		off := int64(-1)
		if errors.As(err, &se) {
			off = se.Offset
		} else if errors.As(err, &te) {
			off = te.Offset
		}
		if off >= 0 {
			off = min(off, int64(len(data)))
			return nil, nil, fmt.Errorf("line %d: %w", 1+bytes.Count(data[:off], []byte("\n")), err)
		}
		return nil, nil, err
	}
	p, err := in.Problem()
	return &in, p, err
}

// Problem converts the input to a routing.Problem (job i and vehicle i keep
// their order).
func (in *Input) Problem() (*routing.Problem, error) {
	if len(in.Shipments) > 0 {
		return nil, errors.New("vroom: shipments are not supported")
	}
	p := &routing.Problem{Objective: routing.MinimizeDuration}
	profileIndex := map[string]int{}
	switch {
	case len(in.Matrices) > 1:
		names := make([]string, 0, len(in.Matrices))
		anyCosts := false
		for name, g := range in.Matrices {
			names = append(names, name)
			anyCosts = anyCosts || g.Costs != nil
		}
		slices.Sort(names)
		for k, name := range names {
			g := in.Matrices[name]
			if g.Durations == nil {
				return nil, fmt.Errorf("vroom: matrices.%s: no durations", name)
			}
			pr := routing.Profile{Name: name, Durations: g.Durations, Distances: g.Distances, Costs: g.Costs}
			if anyCosts && pr.Costs == nil {
				pr.Costs = g.Durations // VROOM's default cost: the travel time
			}
			p.Profiles = append(p.Profiles, pr)
			profileIndex[name] = k
		}
	case len(in.Matrices) == 1:
		for _, g := range in.Matrices {
			p.Durations, p.Distances, p.Costs = g.Durations, g.Distances, g.Costs
		}
		if p.Durations == nil && p.Costs == nil {
			return nil, errors.New("vroom: matrices: no durations")
		}
	case in.Matrix != nil:
		p.Durations = in.Matrix
	default:
		return nil, errors.New("vroom: no custom matrix (computing routes from coordinates is not supported)")
	}
	for i, v := range in.Vehicles {
		if len(v.Breaks) > 0 && string(v.Breaks) != "null" && string(v.Breaks) != "[]" {
			return nil, fmt.Errorf("vroom: vehicles[%d] (id %d): breaks are not supported", i, v.ID)
		}
		if len(v.Steps) > 0 && string(v.Steps) != "null" && string(v.Steps) != "[]" {
			return nil, fmt.Errorf("vroom: vehicles[%d] (id %d): steps are not supported", i, v.ID)
		}
		if v.SpeedFactor != 0 && v.SpeedFactor != 1 {
			return nil, fmt.Errorf("vroom: vehicles[%d] (id %d): speed_factor is not supported", i, v.ID)
		}
		if v.StartIndex == nil && v.EndIndex == nil {
			return nil, fmt.Errorf("vroom: vehicles[%d] (id %d): needs start_index or end_index", i, v.ID)
		}
		rv := routing.Vehicle{ID: fmt.Sprint(v.ID), Start: routing.None, End: routing.None,
			Capacity: v.Capacity, Skills: v.Skills, MaxStops: v.MaxTasks, MaxDuration: v.MaxTravelTime, MaxDistance: v.MaxDistance}
		if len(p.Profiles) > 0 {
			name := v.Profile
			if name == "" {
				name = "car" // VROOM's default profile
			}
			k, ok := profileIndex[name]
			if !ok {
				return nil, fmt.Errorf("vroom: vehicles[%d] (id %d): profile %q has no matrices", i, v.ID, name)
			}
			rv.Profile = k
		}
		if v.StartIndex != nil {
			rv.Start = *v.StartIndex
		}
		if v.EndIndex != nil {
			rv.End = *v.EndIndex
		}
		if v.TimeWindow != nil {
			rv.Shift = routing.TimeWindow{Start: v.TimeWindow[0], End: v.TimeWindow[1]}
		}
		if v.Costs != nil {
			if v.Costs.PerHour != 0 && v.Costs.PerHour != 3600 || v.Costs.PerKm != 0 {
				return nil, fmt.Errorf("vroom: vehicles[%d] (id %d): per_hour / per_km costs are not supported", i, v.ID)
			}
			rv.FixedCost = routing.Cost(v.Costs.Fixed)
		}
		p.Vehicles = append(p.Vehicles, rv)
	}
	for i, j := range in.Jobs {
		if j.LocationIndex == nil {
			return nil, fmt.Errorf("vroom: jobs[%d] (id %d): needs location_index", i, j.ID)
		}
		if j.Setup != 0 {
			return nil, fmt.Errorf("vroom: jobs[%d] (id %d): setup times are not supported", i, j.ID)
		}
		for _, q := range j.Pickup {
			if q != 0 {
				return nil, fmt.Errorf("vroom: jobs[%d] (id %d): pickup amounts are not supported", i, j.ID)
			}
		}
		rj := routing.Job{ID: fmt.Sprint(j.ID), Location: *j.LocationIndex, Service: j.Service, Skills: j.Skills, Priority: j.Priority}
		rj.Demand = j.Delivery
		if rj.Demand == nil {
			rj.Demand = j.Amount
		}
		for _, w := range j.TimeWindows {
			rj.TimeWindows = append(rj.TimeWindows, routing.TimeWindow{Start: w[0], End: w[1]})
		}
		p.Jobs = append(p.Jobs, rj)
	}
	// VROOM lets capacity and amounts be absent: align the dimensions.
	d := p.Dims()
	for i := range p.Vehicles {
		if len(p.Vehicles[i].Capacity) == 0 && d > 0 {
			return nil, fmt.Errorf("vroom: vehicles[%d] (id %d): no capacity but jobs have amounts", i, in.Vehicles[i].ID)
		}
	}
	return p, nil
}

// Output is VROOM's solution document.
type Output struct {
	Code       int          `json:"code"`
	Summary    Summary      `json:"summary"`
	Unassigned []Unassigned `json:"unassigned"`
	Routes     []Route      `json:"routes"`
}

type Summary struct {
	Cost        int64   `json:"cost"`
	Routes      int     `json:"routes"`
	Unassigned  int     `json:"unassigned"`
	Delivery    []int64 `json:"delivery"`
	Amount      []int64 `json:"amount"`
	Pickup      []int64 `json:"pickup"`
	Setup       int64   `json:"setup"`
	Service     int64   `json:"service"`
	Duration    int64   `json:"duration"`
	WaitingTime int64   `json:"waiting_time"`
	Priority    int64   `json:"priority"`
	Distance    *int64  `json:"distance,omitempty"`
	Violations  []any   `json:"violations"`
}

type Unassigned struct {
	ID            uint64 `json:"id"`
	Type          string `json:"type"`
	LocationIndex int    `json:"location_index"`
	Reason        string `json:"description,omitempty"`
}

type Route struct {
	Vehicle     uint64  `json:"vehicle"`
	Cost        int64   `json:"cost"`
	Delivery    []int64 `json:"delivery"`
	Amount      []int64 `json:"amount"`
	Pickup      []int64 `json:"pickup"`
	Setup       int64   `json:"setup"`
	Service     int64   `json:"service"`
	Duration    int64   `json:"duration"`
	WaitingTime int64   `json:"waiting_time"`
	Priority    int64   `json:"priority"`
	Distance    *int64  `json:"distance,omitempty"`
	Steps       []Step  `json:"steps"`
	Violations  []any   `json:"violations"`
}

type Step struct {
	Type          string  `json:"type"`
	ID            *uint64 `json:"id,omitempty"`
	Job           *uint64 `json:"job,omitempty"`
	LocationIndex int     `json:"location_index"`
	Load          []int64 `json:"load"`
	Arrival       int64   `json:"arrival"`
	Duration      int64   `json:"duration"` // travel time so far
	Setup         int64   `json:"setup"`
	Service       int64   `json:"service"`
	WaitingTime   int64   `json:"waiting_time"`
	Distance      *int64  `json:"distance,omitempty"`
}

// Encode converts a solution of the problem built from in to VROOM's shape.
// Costs are routing costs (travel cost plus fixed costs), as VROOM reports.
func Encode(in *Input, p *routing.Problem, s *routing.Solution) *Output {
	out := &Output{Unassigned: []Unassigned{}, Routes: []Route{}}
	d := p.Dims()
	zero := func() []int64 { return make([]int64, d) }
	out.Summary.Delivery, out.Summary.Amount, out.Summary.Pickup = zero(), zero(), zero()
	out.Summary.Violations = []any{}
	hasDistAll := true // every vehicle has a distances matrix
	for v := range p.Vehicles {
		hasDistAll = hasDistAll && p.VehicleProfile(v).Distances != nil
	}
	var totalDist int64
	for _, r := range s.Routes {
		v := &p.Vehicles[r.Vehicle]
		pr := p.VehicleProfile(r.Vehicle) // the vehicle's own matrices
		hasDist := pr.Distances != nil
		rt := Route{Vehicle: in.Vehicles[r.Vehicle].ID, Cost: int64(r.Cost), Delivery: append([]int64{}, r.Load...),
			Pickup: zero(), Violations: []any{}}
		if len(rt.Delivery) == 0 {
			rt.Delivery = zero()
		}
		rt.Amount = append([]int64{}, rt.Delivery...)
		var travel, dist int64
		prev := v.Start
		t := r.Departure
		if v.Start != routing.None {
			st := Step{Type: "start", LocationIndex: v.Start, Load: append([]int64{}, rt.Delivery...), Arrival: r.Departure}
			if hasDist {
				st.Distance = new(int64)
			}
			rt.Steps = append(rt.Steps, st)
		}
		for _, stop := range r.Stops {
			j := &p.Jobs[stop.Job]
			if prev != routing.None {
				travel += entry(pr.Durations, prev, j.Location)
				if hasDist {
					dist += pr.Distances[prev][j.Location]
				}
			}
			id := in.Jobs[stop.Job].ID
			st := Step{Type: "job", ID: &id, Job: &id, LocationIndex: j.Location, Load: stop.Load, Arrival: stop.Arrival,
				Duration: travel, Service: j.Service, WaitingTime: stop.Start - stop.Arrival}
			if len(st.Load) == 0 {
				st.Load = zero()
			}
			if hasDist {
				dd := dist
				st.Distance = &dd
			}
			rt.Steps = append(rt.Steps, st)
			rt.Service += j.Service
			rt.WaitingTime += stop.Start - stop.Arrival
			rt.Priority += int64(j.Priority)
			prev = j.Location
			t = stop.Departure
		}
		if v.End != routing.None {
			if prev != routing.None {
				travel += entry(pr.Durations, prev, v.End)
				if hasDist {
					dist += pr.Distances[prev][v.End]
				}
			}
			st := Step{Type: "end", LocationIndex: v.End, Load: zero(), Arrival: r.Arrival, Duration: travel}
			if hasDist {
				dd := dist
				st.Distance = &dd
			}
			rt.Steps = append(rt.Steps, st)
		}
		_ = t
		rt.Duration = travel
		if hasDist {
			dd := dist
			rt.Distance = &dd
			totalDist += dist
		}
		out.Routes = append(out.Routes, rt)
		sm := &out.Summary
		sm.Cost += rt.Cost
		sm.Routes++
		sm.Service += rt.Service
		sm.Duration += rt.Duration
		sm.WaitingTime += rt.WaitingTime
		sm.Priority += rt.Priority
		for k := range rt.Delivery {
			sm.Delivery[k] += rt.Delivery[k]
			sm.Amount[k] += rt.Delivery[k]
		}
	}
	if hasDistAll {
		out.Summary.Distance = &totalDist
	}
	un := append([]routing.Unassigned(nil), s.Unassigned...)
	sort.Slice(un, func(a, b int) bool { return un[a].Job < un[b].Job })
	for _, u := range un {
		out.Unassigned = append(out.Unassigned, Unassigned{ID: in.Jobs[u.Job].ID, Type: "job",
			LocationIndex: p.Jobs[u.Job].Location, Reason: u.Reason})
	}
	out.Summary.Unassigned = len(out.Unassigned)
	return out
}

// entry reads m[i][j], zero for an absent matrix.
func entry(m [][]int64, i, j int) int64 {
	if m == nil {
		return 0
	}
	return m[i][j]
}
