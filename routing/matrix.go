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

// travelMatrix returns the matrix that is the travel cost of p.
func (p *Problem) travelMatrix() [][]int64 {
	switch {
	case p.Costs != nil:
		return p.Costs
	case p.Objective == MinimizeDuration && p.Durations != nil:
		return p.Durations
	case p.Distances != nil:
		return p.Distances
	}
	return p.Durations
}

// entry reads m[i][j]; a missing matrix or a None end reads as zero.
func entry(m [][]int64, i, j int) int64 {
	if m == nil || i == None || j == None {
		return 0
	}
	return m[i][j]
}
