package routing

import (
	"errors"
	"fmt"
	"math"
)

// ErrInvalidProblem is wrapped by every error Validate returns.
var ErrInvalidProblem = errors.New("invalid problem")

// ErrNoLimit is returned by Solve when neither a time limit nor an
// iteration limit is set.
var ErrNoLimit = errors.New("routing: set a positive TimeLimit or MaxIterations")

// InputError names the offending field of a Problem.
type InputError struct {
	Field string // e.g. "jobs[3].time_windows[0]"
	Msg   string
}

func (e *InputError) Error() string { return "routing: " + e.Field + ": " + e.Msg }

// Unwrap makes errors.Is(err, ErrInvalidProblem) true.
func (e *InputError) Unwrap() error { return ErrInvalidProblem }

func invalid(field, format string, args ...any) error {
	return &InputError{Field: field, Msg: fmt.Sprintf(format, args...)}
}

// MaxJobs bounds the number of jobs (and of vehicles).
const MaxJobs = 1 << 20

// Dims returns the number of capacity dimensions of p.
func (p *Problem) Dims() int {
	d := 0
	for i := range p.Vehicles {
		d = max(d, len(p.Vehicles[i].Capacity))
	}
	for i := range p.Jobs {
		d = max(d, len(p.Jobs[i].Demand))
	}
	return d
}

// NumLocations returns the size of the matrices.
func (p *Problem) NumLocations() int {
	for _, m := range [][][]int64{p.Costs, p.Distances, p.Durations} {
		if m != nil {
			return len(m)
		}
	}
	for k := range p.Profiles {
		q := &p.Profiles[k]
		for _, m := range [][][]int64{q.Costs, q.Distances, q.Durations} {
			if m != nil {
				return len(m)
			}
		}
	}
	return 0
}

// Validate checks the structure of p: sizes, indices, signs and bounds. It
// does not decide whether jobs can be served; Solve reports those as
// unassigned with a reason. Every error wraps ErrInvalidProblem.
func Validate(p *Problem) error {
	if p == nil {
		return invalid("problem", "is nil")
	}
	if len(p.Jobs) == 0 {
		return invalid("jobs", "the problem has no jobs")
	}
	if len(p.Vehicles) == 0 {
		return invalid("vehicles", "the problem has no vehicles")
	}
	if len(p.Jobs) > MaxJobs || len(p.Vehicles) > MaxJobs {
		return invalid("jobs", "more than %d jobs or vehicles", MaxJobs)
	}
	n := p.NumLocations()
	if n == 0 {
		return invalid("matrices", "no durations, distances or costs matrix")
	}
	if err := checkMatrices("", p.Durations, p.Distances, p.Costs, n); err != nil {
		return err
	}
	for k := range p.Profiles {
		q := &p.Profiles[k]
		if err := checkMatrices(fmt.Sprintf("profiles[%d].", k), q.Durations, q.Distances, q.Costs, n); err != nil {
			return err
		}
	}
	switch p.Objective {
	case "", MinimizeDistance, MinimizeDuration:
	default:
		return invalid("objective", "unknown objective %q (want distance or duration)", p.Objective)
	}
	if len(p.Profiles) == 0 {
		switch p.Objective {
		case MinimizeDistance:
			if p.Distances == nil && p.Costs == nil {
				return invalid("objective", "minimises distance but there is no distances matrix")
			}
		case MinimizeDuration:
			if p.Durations == nil && p.Costs == nil {
				return invalid("objective", "minimises duration but there is no durations matrix")
			}
		}
	}
	var kind0 string
	for k := range p.Profiles {
		pr := p.profile(k)
		f := fmt.Sprintf("profiles[%d]", k)
		if pr.Durations == nil && pr.Distances == nil && pr.Costs == nil {
			return invalid(f, "has no durations, distances or costs matrix (and there is none at the top level)")
		}
		if p.Objective == MinimizeDistance && pr.Distances == nil && pr.Costs == nil {
			return invalid(f+".distances", "absent, but the objective minimises distance")
		}
		if p.Objective == MinimizeDuration && pr.Durations == nil && pr.Costs == nil {
			return invalid(f+".durations", "absent, but the objective minimises duration")
		}
		kind := p.travelKind(&pr)
		if k == 0 {
			kind0 = kind
		} else if kind != kind0 {
			return invalid(f, "its travel cost is its %s matrix, profile 0's is its %s matrix: the travel cost must be of one kind for every profile (a costs matrix for all, or the objective's matrix for all)", kind, kind0)
		}
	}
	if p.Coords != nil && len(p.Coords) != n {
		return invalid("coords", "has %d points, want %d (one per location)", len(p.Coords), n)
	}
	for i, c := range p.Coords {
		if math.IsNaN(c.X) || math.IsNaN(c.Y) || math.IsInf(c.X, 0) || math.IsInf(c.Y, 0) {
			return invalid(fmt.Sprintf("coords[%d]", i), "is not a finite number")
		}
	}
	d := p.Dims()
	if len(p.Dimensions) > 0 && len(p.Dimensions) != d {
		return invalid("dimensions", "names %d dimensions, the capacities have %d", len(p.Dimensions), d)
	}
	nv := len(p.Vehicles)
	fixedBy := make(map[int]int)
	for vi := range p.Vehicles {
		v := &p.Vehicles[vi]
		f := func(name string) string { return fmt.Sprintf("vehicles[%d].%s", vi, name) }
		if v.Start != None && (v.Start < 0 || v.Start >= n) {
			return invalid(f("start"), "location %d is outside [0, %d)", v.Start, n)
		}
		if v.End != None && (v.End < 0 || v.End >= n) {
			return invalid(f("end"), "location %d is outside [0, %d)", v.End, n)
		}
		if v.Profile < 0 || v.Profile >= p.numProfiles() {
			if len(p.Profiles) == 0 {
				return invalid(f("profile"), "profile %d does not exist: the problem has no profiles (only 0, the top-level matrices)", v.Profile)
			}
			return invalid(f("profile"), "profile %d is outside [0, %d)", v.Profile, len(p.Profiles))
		}
		if d > 0 && len(v.Capacity) != d {
			return invalid(f("capacity"), "has %d dimensions, want %d", len(v.Capacity), d)
		}
		for k, c := range v.Capacity {
			if c < 0 || c >= MaxMeasure {
				return invalid(fmt.Sprintf("vehicles[%d].capacity[%d]", vi, k), "value %d is outside [0, %d)", c, MaxMeasure)
			}
		}
		if err := checkWindow(f("shift"), v.Shift); err != nil {
			return err
		}
		if v.MaxDuration < 0 || v.MaxDuration >= MaxMeasure {
			return invalid(f("max_duration"), "value %d is outside [0, %d)", v.MaxDuration, MaxMeasure)
		}
		if v.MaxDistance < 0 || v.MaxDistance >= MaxMeasure {
			return invalid(f("max_distance"), "value %d is outside [0, %d)", v.MaxDistance, MaxMeasure)
		}
		if v.MaxStops < 0 {
			return invalid(f("max_stops"), "is negative")
		}
		if v.FixedCost < 0 || int64(v.FixedCost) >= MaxMeasure {
			return invalid(f("fixed_cost"), "value %d is outside [0, %d)", v.FixedCost, MaxMeasure)
		}
		for k, j := range v.Fixed {
			if j < 0 || j >= len(p.Jobs) {
				return invalid(fmt.Sprintf("vehicles[%d].fixed[%d]", vi, k), "job %d does not exist", j)
			}
			if other, ok := fixedBy[j]; ok {
				return invalid(fmt.Sprintf("vehicles[%d].fixed[%d]", vi, k), "job %d is already fixed on vehicle %d", j, other)
			}
			fixedBy[j] = vi
		}
	}
	for ji := range p.Jobs {
		j := &p.Jobs[ji]
		f := func(name string) string { return fmt.Sprintf("jobs[%d].%s", ji, name) }
		if j.Location < 0 || j.Location >= n {
			return invalid(f("location"), "location %d is outside [0, %d)", j.Location, n)
		}
		if len(j.Demand) != 0 && len(j.Demand) != d {
			return invalid(f("demand"), "has %d dimensions, want %d", len(j.Demand), d)
		}
		for k, q := range j.Demand {
			if q < 0 || q >= MaxMeasure {
				return invalid(fmt.Sprintf("jobs[%d].demand[%d]", ji, k), "value %d is outside [0, %d)", q, MaxMeasure)
			}
		}
		if j.Service < 0 || j.Service >= MaxMeasure {
			return invalid(f("service"), "value %d is outside [0, %d)", j.Service, MaxMeasure)
		}
		for k, w := range j.TimeWindows {
			if err := checkWindow(fmt.Sprintf("jobs[%d].time_windows[%d]", ji, k), w); err != nil {
				return err
			}
		}
		for k, v := range j.Vehicles {
			if v < 0 || v >= nv {
				return invalid(fmt.Sprintf("jobs[%d].vehicles[%d]", ji, k), "vehicle %d does not exist", v)
			}
		}
		if j.Priority < 0 || j.Priority > 100 {
			return invalid(f("priority"), "value %d is outside [0, 100]", j.Priority)
		}
		if j.Penalty < 0 || int64(j.Penalty) >= MaxMeasure {
			return invalid(f("penalty"), "value %d is outside [0, %d)", j.Penalty, MaxMeasure)
		}
	}
	return nil
}

// checkMatrices checks the shape and entries of the given matrices (nil
// ones are absent); prefix starts the field names ("profiles[2].").
func checkMatrices(prefix string, durations, distances, costs [][]int64, n int) error {
	for _, m := range []struct {
		name string
		m    [][]int64
	}{{"durations", durations}, {"distances", distances}, {"costs", costs}} {
		if m.m == nil {
			continue
		}
		name := prefix + m.name
		if len(m.m) != n {
			return invalid(name, "has %d rows, want %d (one per location)", len(m.m), n)
		}
		for i, row := range m.m {
			if len(row) != n {
				return invalid(fmt.Sprintf("%s[%d]", name, i), "has %d entries, want %d", len(row), n)
			}
			for j, v := range row {
				if v < 0 || v >= MaxMeasure {
					return invalid(fmt.Sprintf("%s[%d][%d]", name, i, j), "value %d is outside [0, %d)", v, MaxMeasure)
				}
			}
		}
	}
	return nil
}

func checkWindow(field string, w TimeWindow) error {
	if w.Start < 0 || w.End >= MaxMeasure {
		return invalid(field, "[%d, %d] is outside [0, %d)", w.Start, w.End, MaxMeasure)
	}
	if w.Start > w.End {
		return invalid(field, "starts at %d after it ends at %d", w.Start, w.End)
	}
	return nil
}
