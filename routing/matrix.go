package routing

// Unbounded is the horizon used for an absent shift or time window.
const Unbounded = MaxMeasure * 64

// shiftOf returns the vehicle's shift, [0, Unbounded] when it is unset.
func shiftOf(v *Vehicle) TimeWindow {
	if v.Shift.Start == 0 && v.Shift.End == 0 {
		return TimeWindow{0, Unbounded}
	}
	return v.Shift
}

// numProfiles is the number of travel profiles of p (1 without Profiles:
// the top-level matrices).
func (p *Problem) numProfiles() int { return max(1, len(p.Profiles)) }

// profile returns profile k with every absent matrix replaced by the
// top-level one (without Profiles, profile 0 is the top-level matrices).
func (p *Problem) profile(k int) Profile {
	pr := Profile{Durations: p.Durations, Distances: p.Distances, Costs: p.Costs}
	if len(p.Profiles) == 0 {
		return pr
	}
	q := &p.Profiles[k]
	pr.Name = q.Name
	if q.Durations != nil {
		pr.Durations = q.Durations
	}
	if q.Distances != nil {
		pr.Distances = q.Distances
	}
	if q.Costs != nil {
		pr.Costs = q.Costs
	}
	return pr
}

// VehicleProfile returns the matrices vehicle v travels with: those of its
// profile, an absent one replaced by the top-level matrix (without
// Profiles: the top-level matrices). p must be valid.
func (p *Problem) VehicleProfile(v int) Profile { return p.profile(p.Vehicles[v].Profile) }

// travelKind names the matrix that is the travel cost of pr under p's
// objective: "costs", "durations" or "distances".
func (p *Problem) travelKind(pr *Profile) string {
	switch {
	case pr.Costs != nil:
		return "costs"
	case p.Objective == MinimizeDuration && pr.Durations != nil:
		return "durations"
	case pr.Distances != nil:
		return "distances"
	}
	return "durations"
}

// travelOf returns the matrix that is the travel cost of pr.
func (p *Problem) travelOf(pr *Profile) [][]int64 {
	switch p.travelKind(pr) {
	case "costs":
		return pr.Costs
	case "distances":
		return pr.Distances
	}
	return pr.Durations
}

// entry reads m[i][j]; a missing matrix or a None end reads as zero.
func entry(m [][]int64, i, j int) int64 {
	if m == nil || i == None || j == None {
		return 0
	}
	return m[i][j]
}
