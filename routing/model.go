package routing

import (
	"context"
	"time"
)

// Cost is an objective value in the unit of the cost matrix (or of the
// distance or duration matrix the problem minimises).
type Cost int64

// None marks an absent location: a vehicle whose Start is None starts at its
// first job, one whose End is None ends at its last job (an open route).
const None = -1

// TimeWindow is a closed interval [Start, End] in the problem's time unit.
// For a job, service must begin inside it; for a vehicle, the route must
// leave its start no earlier than Start and reach its end no later than End.
type TimeWindow struct {
	Start int64 `json:"start"`
	End   int64 `json:"end"`
}

// Job is one stop to serve. Demand is delivered: it is loaded at the
// vehicle's start and dropped at the job.
type Job struct {
	ID       string  `json:"id,omitempty"`
	Location int     `json:"location"`         // index into the matrices
	Demand   []int64 `json:"demand,omitempty"` // one amount per capacity dimension (kg, litres, count, ...)
	Service  int64   `json:"service,omitempty"`
	// TimeWindows lists the windows in which service may begin. Empty means
	// any time. With several windows the search commits each job to one of
	// them (see README), the checker accepts any.
	TimeWindows []TimeWindow `json:"time_windows,omitempty"`
	Skills      []int        `json:"skills,omitempty"`   // the vehicle must have every one of these
	Vehicles    []int        `json:"vehicles,omitempty"` // allowed vehicle indices; empty means all
	// Priority weights an unassigned required job: the objective first
	// minimises the sum of (1 + Priority) over unassigned required jobs.
	Priority int `json:"priority,omitempty"`
	// Penalty, when positive, makes the job optional: leaving it unassigned
	// costs Penalty (in cost units) instead of counting as unassigned.
	Penalty Cost `json:"penalty,omitempty"`
}

// Vehicle is one route to build.
type Vehicle struct {
	ID       string  `json:"id,omitempty"`
	Start    int     `json:"start"` // location index, or None
	End      int     `json:"end"`   // location index, or None (open route)
	Capacity []int64 `json:"capacity,omitempty"`
	// Shift bounds the route in time; the zero value means no limit.
	Shift       TimeWindow `json:"shift"`
	MaxDuration int64      `json:"max_duration,omitempty"` // 0: no limit
	MaxDistance int64      `json:"max_distance,omitempty"` // 0: no limit
	MaxStops    int        `json:"max_stops,omitempty"`    // 0: no limit
	Skills      []int      `json:"skills,omitempty"`
	FixedCost   Cost       `json:"fixed_cost,omitempty"` // paid when the vehicle serves at least one job
	// Fixed lists job indices that must open this vehicle's route, in this
	// order (completed or locked stops). The solver never moves them.
	Fixed []int `json:"fixed,omitempty"`
	// Profile is the index into Problem.Profiles of the matrices this
	// vehicle travels with. Without Profiles it must be 0 (the top-level
	// matrices).
	Profile int `json:"profile,omitempty"`
}

// Profile is the travel matrices of one kind of vehicle (on foot, bike,
// car, van: what OSRM gives per profile). The matrices follow the rules of
// the top-level ones (square, one row per location, non-negative, below
// MaxMeasure); an absent one is the Problem's top-level matrix, so a
// distance matrix shared by every profile may be given once at the top.
type Profile struct {
	Name      string    `json:"name,omitempty"`
	Durations [][]int64 `json:"durations,omitempty"`
	Distances [][]int64 `json:"distances,omitempty"`
	Costs     [][]int64 `json:"costs,omitempty"`
}

// Objective says which matrix is the travel cost when Costs is absent.
type Objective string

const (
	MinimizeDistance Objective = "distance"
	MinimizeDuration Objective = "duration"
)

// Point is an optional planar or (lng, lat) coordinate of a location. The
// solver only uses it as a hint (to pick which routes to compare).
type Point struct {
	X float64 `json:"x"`
	Y float64 `json:"y"`
}

// Problem is the immutable input of Solve. Matrices are square, indexed by
// location, row = from, column = to, and may be asymmetric. All entries are
// non-negative integers below MaxMeasure.
//
// Without Profiles every vehicle travels with the top-level matrices. With
// Profiles, vehicle v travels with Profiles[Vehicles[v].Profile], whose
// absent matrices are the top-level ones (which may then be absent too).
// The travel cost must be of one kind for every profile: the costs matrix
// for all, or the objective's matrix for all.
type Problem struct {
	Name      string    `json:"name,omitempty"`
	Jobs      []Job     `json:"jobs"`
	Vehicles  []Vehicle `json:"vehicles"`
	Durations [][]int64 `json:"durations,omitempty"` // travel times; absent means zero (no timing)
	Distances [][]int64 `json:"distances,omitempty"`
	Costs     [][]int64 `json:"costs,omitempty"`     // optional travel cost; overrides Objective
	Objective Objective `json:"objective,omitempty"` // default: distance if Distances is given, else duration
	Profiles  []Profile `json:"profiles,omitempty"`  // optional per-vehicle-type matrices (see Vehicle.Profile)
	Coords    []Point   `json:"coords,omitempty"`    // optional, one per location
	// Dimensions optionally names the capacity dimensions ("kg", "l", "count").
	Dimensions []string `json:"dimensions,omitempty"`
}

// MaxMeasure bounds every matrix entry, time, demand and capacity so that
// sums over a route cannot overflow int64.
const MaxMeasure = int64(1) << 36

// Options controls Solve. At least one of TimeLimit and MaxIterations must be
// positive. The search is deterministic for a given Seed and Threads when it
// stops on MaxIterations; a TimeLimit is wall-clock bound and so is not.
type Options struct {
	TimeLimit     time.Duration
	MaxIterations int   // genetic iterations per thread; 0: no limit
	Seed          int64 // random seed
	Threads       int   // independent searches; 0 or 1: one
	// Progress, when set, is called (from one goroutine at a time) whenever
	// the best solution improves.
	Progress func(Progress)
	// Initial is an optional warm start (for example the current plan).
	Initial *Solution
}

// Progress reports the best solution found so far.
type Progress struct {
	BestCost   Cost
	Elapsed    time.Duration
	Iteration  int
	Feasible   bool
	Unassigned int
}

// Solution is the output of Solve: one route per used vehicle, the jobs left
// unassigned with a reason, and the objective.
type Solution struct {
	Routes     []Route      `json:"routes"`
	Unassigned []Unassigned `json:"unassigned"`
	Summary    Summary      `json:"summary"`
}

// Route is the plan of one vehicle.
type Route struct {
	Vehicle   int     `json:"vehicle"` // index into Problem.Vehicles
	Stops     []Stop  `json:"stops"`   // jobs in visiting order
	Departure int64   `json:"departure"`
	Arrival   int64   `json:"arrival"` // at the end (or at the last job for an open route)
	Distance  int64   `json:"distance"`
	Duration  int64   `json:"duration"` // Arrival - Departure
	Cost      Cost    `json:"cost"`     // travel cost plus fixed cost
	Load      []int64 `json:"load"`     // total delivered per dimension
}

// Stop is one job visit.
type Stop struct {
	Job       int     `json:"job"`       // index into Problem.Jobs
	Arrival   int64   `json:"arrival"`   // at the location
	Start     int64   `json:"start"`     // service begins (after waiting)
	Departure int64   `json:"departure"` // service ends
	Load      []int64 `json:"load"`      // on board after this stop
	Distance  int64   `json:"distance"`  // cumulated from the route start
}

// Unassigned is a job the solution does not serve, with a reason:
// "capacity", "time_window", "skills", "max_duration", "max_distance",
// "max_stops", "optional" (cheaper to skip) or "no_vehicle" (no room left).
type Unassigned struct {
	Job    int    `json:"job"`
	Reason string `json:"reason"`
}

// Summary is the objective. Solutions compare first on UnassignedWeight
// (sum of 1 + Priority over unassigned required jobs), then on Cost.
type Summary struct {
	Cost             Cost  `json:"cost"` // Travel + Fixed + Penalty
	Travel           Cost  `json:"travel"`
	Fixed            Cost  `json:"fixed"`
	Penalty          Cost  `json:"penalty"` // penalties of skipped optional jobs
	UnassignedWeight int64 `json:"unassigned_weight"`
	Unassigned       int   `json:"unassigned"`
	Vehicles         int   `json:"vehicles"`
	Distance         int64 `json:"distance"`
	Duration         int64 `json:"duration"`
}

// Better reports whether a is strictly better than b under the objective.
func (a Summary) Better(b Summary) bool {
	if a.UnassignedWeight != b.UnassignedWeight {
		return a.UnassignedWeight < b.UnassignedWeight
	}
	return a.Cost < b.Cost
}

var _ = context.Background
