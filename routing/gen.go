package routing

import (
	"math"
	"math/rand/v2"
	"strconv"
)

// RandomProblem generates a reproducible Solomon-like instance: n jobs on a
// 1000 x 1000 grid (half clustered, half uniform), one depot in the
// middle, the given number of vehicles with capacity for about n/vehicles
// jobs each, and, when tw is set, time windows of 30 to 120 minutes
// (times in seconds, one grid unit = one metre at 10 m/s... rounded). Used
// by tests, benchmarks and vrpsolve gen.
func RandomProblem(n, vehicles int, seed uint64, tw bool) *Problem {
	rng := rand.New(rand.NewPCG(seed, 7))
	type pt struct{ x, y float64 }
	pts := []pt{{500, 500}}
	var centers []pt
	for k := 0; k < max(1, n/100); k++ {
		centers = append(centers, pt{rng.Float64() * 1000, rng.Float64() * 1000})
	}
	for i := 0; i < n; i++ {
		if i%2 == 0 {
			c := centers[rng.IntN(len(centers))]
			pts = append(pts, pt{math.Min(1000, math.Max(0, c.x+rng.NormFloat64()*40)), math.Min(1000, math.Max(0, c.y+rng.NormFloat64()*40))})
		} else {
			pts = append(pts, pt{rng.Float64() * 1000, rng.Float64() * 1000})
		}
	}
	m := len(pts)
	p := &Problem{Name: "random-" + strconv.Itoa(n), Objective: MinimizeDistance}
	p.Distances = make([][]int64, m)
	p.Durations = make([][]int64, m)
	p.Coords = make([]Point, m)
	for i := range pts {
		p.Coords[i] = Point{pts[i].x, pts[i].y}
		p.Distances[i] = make([]int64, m)
		p.Durations[i] = make([]int64, m)
		for j := range pts {
			d := math.Hypot(pts[i].x-pts[j].x, pts[i].y-pts[j].y) * 10 // metres
			p.Distances[i][j] = int64(math.Round(d))
			p.Durations[i][j] = int64(math.Ceil(d / 10)) // 10 m/s
		}
	}
	const horizon = 12 * 3600
	perVehicle := (n + vehicles - 1) / vehicles
	capacity := int64(perVehicle) * 30
	for i := 1; i < m; i++ {
		j := Job{ID: strconv.Itoa(i), Location: i, Demand: []int64{1 + rng.Int64N(40)}, Service: 300}
		if tw {
			width := int64(1800 + rng.IntN(5400))
			out := p.Durations[0][i]
			lo, hi := out, horizon-p.Durations[i][0]-j.Service-width
			if hi > lo {
				s := lo + rng.Int64N(hi-lo)
				j.TimeWindows = []TimeWindow{{Start: s, End: s + width}}
			}
		}
		p.Jobs = append(p.Jobs, j)
	}
	for k := 0; k < vehicles; k++ {
		p.Vehicles = append(p.Vehicles, Vehicle{ID: strconv.Itoa(k + 1), Start: 0, End: 0,
			Capacity: []int64{capacity}, Shift: TimeWindow{Start: 0, End: horizon}})
	}
	return p
}

// courierTypes are the vehicle types of RandomMixedFleet: travel speed and
// capacity relative to RandomProblem's vehicles.
var courierTypes = []struct {
	name     string
	kmh, cap float64
}{{"foot", 4.5, 0.25}, {"bike", 14, 0.5}, {"car", 25, 1}, {"van", 22, 2}}

// RandomMixedFleet is RandomProblem with a mixed courier fleet: four travel
// profiles, foot (4.5 km/h), bike (14), car (25) and van (22), sharing the
// top-level distances, each with its own durations; vehicle k is of type k
// mod 4, with a quarter of a car's capacity on foot, half on a bike and
// twice in a van. The objective is the travel time. Used by tests,
// benchmarks and vrpsolve gen -mixed.
func RandomMixedFleet(n, vehicles int, seed uint64, tw bool) *Problem {
	p := RandomProblem(n, vehicles, seed, tw)
	p.Name = "mixed-" + strconv.Itoa(n)
	p.Objective = MinimizeDuration
	m := len(p.Distances)
	for _, ct := range courierTypes {
		pr := Profile{Name: ct.name, Durations: make([][]int64, m)}
		mps := ct.kmh / 3.6
		for i := range m {
			pr.Durations[i] = make([]int64, m)
			for j := range m {
				pr.Durations[i][j] = int64(math.Ceil(float64(p.Distances[i][j]) / mps))
			}
		}
		p.Profiles = append(p.Profiles, pr)
	}
	p.Durations = nil
	for k := range p.Vehicles {
		t := k % len(courierTypes)
		v := &p.Vehicles[k]
		v.Profile = t
		v.ID = courierTypes[t].name + "-" + strconv.Itoa(k+1)
		v.Capacity = []int64{int64(math.Ceil(float64(v.Capacity[0]) * courierTypes[t].cap))}
	}
	return p
}
