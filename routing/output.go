package routing

// seqEval is the exact evaluation of one vehicle's job sequence.
type seqEval struct {
	travel, dist int64
	excessLoad   int64
	seg          twSeg
	warp         int64 // time warp of the windows and shift
	durExcess    int64
	distExcess   int64
	stopsExcess  int
}

func (e seqEval) feasible() bool {
	return e.excessLoad == 0 && e.warp == 0 && e.durExcess == 0 && e.distExcess == 0 && e.stopsExcess == 0
}

// kind names the first violated constraint of e.
func (e seqEval) kind() string {
	switch {
	case e.excessLoad > 0:
		return "capacity"
	case e.stopsExcess > 0:
		return "max_stops"
	case e.warp > 0:
		return "time_window"
	case e.durExcess > 0:
		return "max_duration"
	case e.distExcess > 0:
		return "max_distance"
	}
	return ""
}

func (e seqEval) violation() int64 {
	return e.excessLoad + e.warp + e.durExcess + e.distExcess + int64(e.stopsExcess)
}

func evalSeq(in *inst, v int, seq []int32) seqEval {
	var e seqEval
	if len(seq) == 0 {
		return e
	}
	vd := &in.veh[v]
	start, end := int32(in.n+2*v), int32(in.n+2*v+1)
	e.seg = nodeSeg(in, start)
	prev := start
	for d := 0; d < in.D; d++ {
		var q int64
		for _, j := range seq {
			q += in.demand[int(j)*in.D+d]
		}
		e.excessLoad += max(q-vd.cap[d], 0)
	}
	for _, x := range append(seq, end) {
		a, b := in.nodeLoc[prev], in.nodeLoc[x]
		e.travel += vd.m.c(a, b)
		e.dist += vd.m.d(a, b)
		e.seg = merge(e.seg, vd.m.t(a, b), nodeSeg(in, x))
		prev = x
	}
	if in.hasTime {
		e.warp = e.seg.tw
		e.durExcess = max(e.seg.dur-vd.maxDur, 0)
	}
	e.distExcess = max(e.dist-vd.maxDist, 0)
	if vd.maxStops > 0 {
		e.stopsExcess = max(len(seq)-vd.maxStops, 0)
	}
	return e
}

// repair makes an infeasible individual feasible by taking jobs out of the
// violating routes (the job whose removal helps most first), then
// reinserting what fits.
func repair(in *inst, src *individual) *individual {
	ind := newIndividual(in)
	copyIndividual(ind, src)
	buf := make([]int32, 0, 64)
	for v := range ind.routes {
		seq := ind.routes[v]
		fixed := len(in.veh[v].fixedJobs)
		for {
			e := evalSeq(in, v, seq)
			if e.feasible() || len(seq) <= fixed {
				break
			}
			bestK, bestViol := -1, int64(0)
			for k := fixed; k < len(seq); k++ {
				buf = append(append(buf[:0], seq[:k]...), seq[k+1:]...)
				viol := evalSeq(in, v, buf).violation()
				if bestK < 0 || viol < bestViol {
					bestK, bestViol = k, viol
				}
			}
			seq = append(seq[:bestK], seq[bestK+1:]...)
		}
		ind.routes[v] = seq
	}
	ind.evaluate(in)
	fillFeasible(in, ind)
	return ind
}

// fillFeasible inserts unassigned jobs at their cheapest feasible position
// while that lowers the objective (always for required jobs).
func fillFeasible(in *inst, ind *individual) {
	buf := make([]int32, 0, 64)
	for j := int32(0); int(j) < in.n; j++ {
		if !in.active[j] || ind.succ[j] != -2 {
			continue
		}
		bestV, bestK := -1, -1
		var bestD int64
		for v := range ind.routes {
			if !in.compatible(j, v) {
				continue
			}
			seq := ind.routes[v]
			base := evalSeq(in, v, seq)
			fixedCost := int64(0)
			if len(seq) == 0 {
				fixedCost = in.veh[v].fixedCost
			}
			for k := len(in.veh[v].fixedJobs); k <= len(seq); k++ {
				buf = append(append(append(buf[:0], seq[:k]...), j), seq[k:]...)
				e := evalSeq(in, v, buf)
				if !e.feasible() {
					continue
				}
				d := e.travel - base.travel + fixedCost
				if len(seq) == 0 {
					d = e.travel + fixedCost
				}
				if bestV < 0 || d < bestD {
					bestV, bestK, bestD = v, k, d
				}
			}
		}
		if bestV >= 0 && bestD < in.prize[j] {
			seq := ind.routes[bestV]
			seq = append(seq, 0)
			copy(seq[bestK+1:], seq[bestK:])
			seq[bestK] = j
			ind.routes[bestV] = seq
			ind.evaluate(in)
		}
	}
}

// unassignedReason explains why job j is not in ind.
func unassignedReason(in *inst, ind *individual, j int32) string {
	if !in.active[j] {
		return in.reason[j]
	}
	order := map[string]int{"skills": 0, "capacity": 1, "max_stops": 2, "time_window": 3, "max_duration": 4, "max_distance": 5}
	best := "skills"
	buf := make([]int32, 0, 64)
	for v := range ind.routes {
		if !in.compatible(j, v) {
			continue
		}
		seq := ind.routes[v]
		for k := len(in.veh[v].fixedJobs); k <= len(seq); k++ {
			buf = append(append(append(buf[:0], seq[:k]...), j), seq[k:]...)
			e := evalSeq(in, v, buf)
			if e.feasible() {
				if in.weight[j] == 0 {
					return "optional"
				}
				return "no_vehicle"
			}
			if r := e.kind(); order[r] > order[best] {
				best = r
			}
		}
	}
	return best
}

// buildSolution turns a feasible individual into a Solution with the
// earliest-start schedule of every route.
func buildSolution(in *inst, ind *individual) *Solution {
	p := in.p
	sol := &Solution{Routes: []Route{}, Unassigned: []Unassigned{}}
	D := in.D
	for v, seq := range ind.routes {
		if len(seq) == 0 {
			continue
		}
		veh := &p.Vehicles[v]
		e := evalSeq(in, v, seq)
		r := Route{Vehicle: v, Departure: 0, Load: make([]int64, D)}
		if in.hasTime {
			r.Departure = e.seg.e
		}
		for _, j := range seq {
			for d, q := range p.Jobs[j].Demand {
				r.Load[d] += q
			}
		}
		onBoard := append([]int64(nil), r.Load...)
		t := r.Departure
		prev := veh.Start
		var dist, cost int64
		pr := p.VehicleProfile(v)
		travel := p.travelOf(&pr)
		for _, j := range seq {
			job := &p.Jobs[j]
			arr := t + entry(pr.Durations, prev, job.Location)
			dist += entry(pr.Distances, prev, job.Location)
			cost += entry(travel, prev, job.Location)
			st := arr
			for _, w := range sortedWindows(job.TimeWindows) {
				if arr <= w.End {
					st = max(arr, w.Start)
					break
				}
			}
			t = st + job.Service
			for d, q := range job.Demand {
				onBoard[d] -= q
			}
			r.Stops = append(r.Stops, Stop{Job: int(j), Arrival: arr, Start: st, Departure: t,
				Load: append([]int64(nil), onBoard...), Distance: dist})
			prev = job.Location
		}
		r.Arrival = t + entry(pr.Durations, prev, veh.End)
		dist += entry(pr.Distances, prev, veh.End)
		cost += entry(travel, prev, veh.End)
		r.Distance = dist
		r.Duration = r.Arrival - r.Departure
		r.Cost = Cost(cost) + veh.FixedCost
		sol.Routes = append(sol.Routes, r)
		s := &sol.Summary
		s.Cost += r.Cost
		s.Fixed += veh.FixedCost
		s.Vehicles++
		s.Distance += r.Distance
		s.Duration += r.Duration
	}
	sol.Summary.Travel = sol.Summary.Cost - sol.Summary.Fixed
	for j := int32(0); int(j) < in.n; j++ {
		if ind.succ[j] != -2 {
			continue
		}
		sol.Unassigned = append(sol.Unassigned, Unassigned{Job: int(j), Reason: unassignedReason(in, ind, j)})
		job := &p.Jobs[j]
		sol.Summary.Unassigned++
		if job.Penalty > 0 {
			sol.Summary.Penalty += job.Penalty
		} else {
			sol.Summary.UnassignedWeight += 1 + int64(job.Priority)
		}
	}
	sol.Summary.Cost += sol.Summary.Penalty
	return sol
}
