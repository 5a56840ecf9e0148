package routing

import (
	"fmt"
	"slices"
)

// Violation is one broken rule found by Check.
type Violation struct {
	Route int    // index into Solution.Routes, or -1
	Job   int    // job index, or -1
	Kind  string // "job", "vehicle", "skills", "capacity", "time_window", "shift", "max_duration", "max_distance", "max_stops", "fixed", "schedule", "cost", "summary"
	Msg   string
}

func (v Violation) String() string {
	return fmt.Sprintf("route %d job %d: %s: %s", v.Route, v.Job, v.Kind, v.Msg)
}

// Check verifies s against p from scratch, without any of the solver's
// data structures: every job served at most once and either served or
// listed unassigned, each vehicle used once, skills and allowed vehicles,
// capacity per dimension, time windows, shifts, maximum duration, distance
// and stops, fixed route heads, the reported schedule, loads, distances and
// costs, and the summary, each route with its vehicle's travel profile. It
// assumes p passed Validate. An empty result
// means the solution is feasible and its figures are right.
func Check(p *Problem, s *Solution) []Violation {
	var out []Violation
	add := func(r, j int, kind, format string, args ...any) {
		out = append(out, Violation{r, j, kind, fmt.Sprintf(format, args...)})
	}
	if s == nil {
		add(-1, -1, "job", "no solution")
		return out
	}
	nj := len(p.Jobs)
	d := p.Dims()
	seen := make([]int, nj) // 0 none, 1 routed, 2 unassigned
	usedVeh := make([]bool, len(p.Vehicles))
	var sum Summary
	for ri := range s.Routes {
		r := &s.Routes[ri]
		if r.Vehicle < 0 || r.Vehicle >= len(p.Vehicles) {
			add(ri, -1, "vehicle", "vehicle %d does not exist", r.Vehicle)
			continue
		}
		if usedVeh[r.Vehicle] {
			add(ri, -1, "vehicle", "vehicle %d has two routes", r.Vehicle)
		}
		usedVeh[r.Vehicle] = true
		v := &p.Vehicles[r.Vehicle]
		// The vehicle's own travel profile.
		pr := p.VehicleProfile(r.Vehicle)
		travel := p.travelOf(&pr)
		ok := true
		for _, st := range r.Stops {
			if st.Job < 0 || st.Job >= nj {
				add(ri, st.Job, "job", "job %d does not exist", st.Job)
				ok = false
				continue
			}
			if seen[st.Job] != 0 {
				add(ri, st.Job, "job", "job %d is served twice", st.Job)
			}
			seen[st.Job] = 1
		}
		if !ok {
			continue
		}
		if len(r.Stops) < len(v.Fixed) {
			add(ri, -1, "fixed", "route has %d stops, the vehicle has %d fixed jobs", len(r.Stops), len(v.Fixed))
		} else {
			for k, j := range v.Fixed {
				if r.Stops[k].Job != j {
					add(ri, r.Stops[k].Job, "fixed", "stop %d is job %d, want fixed job %d", k, r.Stops[k].Job, j)
				}
			}
		}
		if v.MaxStops > 0 && len(r.Stops) > v.MaxStops {
			add(ri, -1, "max_stops", "%d stops, at most %d", len(r.Stops), v.MaxStops)
		}
		// Skills and allowed vehicles.
		for _, st := range r.Stops {
			j := &p.Jobs[st.Job]
			if len(j.Vehicles) > 0 && !slices.Contains(j.Vehicles, r.Vehicle) {
				add(ri, st.Job, "skills", "vehicle %d is not allowed", r.Vehicle)
			}
			for _, sk := range j.Skills {
				if !slices.Contains(v.Skills, sk) {
					add(ri, st.Job, "skills", "vehicle %d lacks skill %d", r.Vehicle, sk)
				}
			}
		}
		// Load: everything is on board at the start.
		total := make([]int64, d)
		for _, st := range r.Stops {
			for k, q := range p.Jobs[st.Job].Demand {
				total[k] += q
			}
		}
		for k := 0; k < d; k++ {
			if total[k] > v.Capacity[k] {
				add(ri, -1, "capacity", "dimension %d: load %d exceeds capacity %d", k, total[k], v.Capacity[k])
			}
		}
		if len(r.Load) != d || !slices.Equal(r.Load, total) {
			add(ri, -1, "schedule", "reported load %v, recomputed %v", r.Load, total)
		}
		// Schedule, earliest service start from the reported departure.
		shift := shiftOf(v)
		if r.Departure < shift.Start {
			add(ri, -1, "shift", "departs at %d before the shift starts at %d", r.Departure, shift.Start)
		}
		t := r.Departure
		prev := v.Start
		var dist, cost int64
		onBoard := slices.Clone(total)
		for k, st := range r.Stops {
			j := &p.Jobs[st.Job]
			arr := t + entry(pr.Durations, prev, j.Location)
			dist += entry(pr.Distances, prev, j.Location)
			cost += entry(travel, prev, j.Location)
			start := arr
			if len(j.TimeWindows) > 0 {
				found := false
				for _, w := range sortedWindows(j.TimeWindows) {
					if arr <= w.End {
						start = max(arr, w.Start)
						found = true
						break
					}
				}
				if !found {
					add(ri, st.Job, "time_window", "arrives at %d after its last window closes", arr)
				}
			}
			t = start + j.Service
			for q := range j.Demand {
				onBoard[q] -= j.Demand[q]
			}
			if st.Arrival != arr || st.Start != start || st.Departure != t {
				add(ri, st.Job, "schedule", "stop %d reports arrival/start/departure %d/%d/%d, recomputed %d/%d/%d",
					k, st.Arrival, st.Start, st.Departure, arr, start, t)
			}
			if st.Distance != dist {
				add(ri, st.Job, "schedule", "stop %d reports distance %d, recomputed %d", k, st.Distance, dist)
			}
			if len(st.Load) != d || !slices.Equal(st.Load, onBoard) {
				add(ri, st.Job, "schedule", "stop %d reports load %v, recomputed %v", k, st.Load, onBoard)
			}
			prev = j.Location
		}
		arrEnd := t + entry(pr.Durations, prev, v.End)
		dist += entry(pr.Distances, prev, v.End)
		cost += entry(travel, prev, v.End)
		if len(r.Stops) == 0 {
			// An unused vehicle costs nothing and goes nowhere.
			arrEnd, dist, cost = r.Departure, 0, 0
		}
		if arrEnd > shift.End {
			add(ri, -1, "shift", "ends at %d after the shift ends at %d", arrEnd, shift.End)
		}
		dur := arrEnd - r.Departure
		if v.MaxDuration > 0 && dur > v.MaxDuration {
			add(ri, -1, "max_duration", "duration %d exceeds %d", dur, v.MaxDuration)
		}
		if v.MaxDistance > 0 && dist > v.MaxDistance {
			add(ri, -1, "max_distance", "distance %d exceeds %d", dist, v.MaxDistance)
		}
		if len(r.Stops) > 0 {
			cost += int64(v.FixedCost)
			sum.Fixed += v.FixedCost
			sum.Vehicles++
		}
		if r.Arrival != arrEnd || r.Duration != dur || r.Distance != dist || r.Cost != Cost(cost) {
			add(ri, -1, "cost", "reports arrival/duration/distance/cost %d/%d/%d/%d, recomputed %d/%d/%d/%d",
				r.Arrival, r.Duration, r.Distance, r.Cost, arrEnd, dur, dist, cost)
		}
		sum.Cost += Cost(cost)
		sum.Distance += dist
		sum.Duration += dur
	}
	sum.Travel = sum.Cost - sum.Fixed
	for vi := range p.Vehicles {
		if len(p.Vehicles[vi].Fixed) > 0 && !usedVeh[vi] {
			add(-1, p.Vehicles[vi].Fixed[0], "fixed", "vehicle %d has fixed jobs but no route", vi)
		}
	}
	for _, u := range s.Unassigned {
		if u.Job < 0 || u.Job >= nj {
			add(-1, u.Job, "job", "unassigned job %d does not exist", u.Job)
			continue
		}
		if seen[u.Job] != 0 {
			add(-1, u.Job, "job", "job %d is both served and unassigned (or listed twice)", u.Job)
			continue
		}
		seen[u.Job] = 2
		j := &p.Jobs[u.Job]
		sum.Unassigned++
		if j.Penalty > 0 {
			sum.Penalty += j.Penalty
		} else {
			sum.UnassignedWeight += 1 + int64(j.Priority)
		}
	}
	for j := range seen {
		if seen[j] == 0 {
			add(-1, j, "job", "job %d is neither served nor unassigned", j)
		}
	}
	sum.Cost += sum.Penalty
	if s.Summary != sum {
		add(-1, -1, "summary", "reports %+v, recomputed %+v", s.Summary, sum)
	}
	return out
}

// sortedWindows returns the windows ordered by start (a copy if needed).
func sortedWindows(ws []TimeWindow) []TimeWindow {
	if slices.IsSortedFunc(ws, func(a, b TimeWindow) int { return cmpInt(a.Start, b.Start) }) {
		return ws
	}
	c := slices.Clone(ws)
	slices.SortFunc(c, func(a, b TimeWindow) int { return cmpInt(a.Start, b.Start) })
	return c
}

func cmpInt(a, b int64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}
