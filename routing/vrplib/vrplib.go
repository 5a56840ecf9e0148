// Package vrplib reads and writes the classic benchmark formats:
// CVRPLIB/TSPLIB .vrp instances (CVRP and CVRPTW), Solomon VRPTW text
// files, and CVRPLIB .sol solutions.
//
// Distances and scales. TSPLIB EUC_2D instances use nint(euclid) per edge,
// as CVRPLIB defines (Scale 1). Solomon instances are real-valued; they are
// scaled once here, by Scale, to integers:
//   - Exact (the classic hierarchical convention): distances are
//     round(Scale*euclid) and travel times ceil(Scale*euclid), so a
//     schedule feasible in integers is feasible with exact doubles; times,
//     windows and service times are multiplied by Scale (default 10000).
//   - DIMACS: every distance and travel time is floor(10*euclid), i.e. the
//     DIMACS 2021 truncation to one decimal, Scale 10.
//
// Parse errors name the file and the line.
package vrplib

import (
	"bufio"
	"fmt"
	"io"
	"math"
	"os"
	"strconv"
	"strings"

	"github.com/courierhq/courier/routing"
)

// Convention selects how real-valued Solomon-type distances become integers.
type Convention int

const (
	Exact  Convention = iota // round distances, ceil travel times, x Scale
	DIMACS                   // floor(10*d), the DIMACS 2021 convention
)

// DefaultScale is the factor applied to real-valued instances under Exact.
const DefaultScale = 10000

// Instance is a parsed benchmark instance.
type Instance struct {
	Name    string
	Problem *routing.Problem
	// Scale divides costs back to the instance's unit (1 for TSPLIB EUC_2D).
	Scale float64
	// X, Y are the node coordinates; node 0 is the depot, node j+1 is job j.
	X, Y []float64
	// Exact is true when costs approximate real Euclidean distances (used
	// to recompute an exact double objective).
	RealValued bool
}

// ParseError names the file and line of a malformed input.
type ParseError struct {
	File string
	Line int
	Msg  string
}

func (e *ParseError) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("%s:%d: %s", e.File, e.Line, e.Msg)
	}
	return fmt.Sprintf("%s: %s", e.File, e.Msg)
}

// ReadFile reads an instance by its extension: .vrp (CVRPLIB/VRPLIB) or
// anything else as Solomon text.
func ReadFile(path string, conv Convention) (*Instance, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	if strings.HasSuffix(strings.ToLower(path), ".vrp") {
		return ReadVRP(f, path, conv)
	}
	return ReadSolomon(f, path, conv)
}

// maxNodes bounds instance size so that a hostile header cannot make the
// parser allocate without end.
const maxNodes = 5000

type lineReader struct {
	sc   *bufio.Scanner
	file string
	line int
}

func newLineReader(r io.Reader, file string) *lineReader {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64*1024), 1<<20)
	return &lineReader{sc: sc, file: file}
}

func (lr *lineReader) next() (string, bool) {
	for lr.sc.Scan() {
		lr.line++
		s := strings.TrimSpace(lr.sc.Text())
		if s != "" {
			return s, true
		}
	}
	return "", false
}

func (lr *lineReader) errf(format string, args ...any) error {
	return &ParseError{lr.file, lr.line, fmt.Sprintf(format, args...)}
}

func parseFloat(lr *lineReader, s string) (float64, error) {
	v, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
		return 0, lr.errf("%q is not a finite number", s)
	}
	if math.Abs(v) > 1e9 {
		return 0, lr.errf("%q is out of range", s)
	}
	return v, nil
}

func parseInt(lr *lineReader, s string) (int64, error) {
	v, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		f, ferr := parseFloat(lr, s)
		if ferr != nil || f != math.Trunc(f) {
			return 0, lr.errf("%q is not an integer", s)
		}
		v = int64(f)
	}
	if v < -1e12 || v > 1e12 {
		return 0, lr.errf("%q is out of range", s)
	}
	return v, nil
}

// ReadVRP parses a CVRPLIB/VRPLIB instance: TYPE CVRP or CVRPTW,
// EDGE_WEIGHT_TYPE EUC_2D, NODE_COORD_SECTION, DEMAND_SECTION,
// DEPOT_SECTION, and for CVRPTW TIME_WINDOW_SECTION, SERVICE_TIME or
// SERVICE_TIME_SECTION, VEHICLES. For CVRP the fleet is not limited: one
// vehicle per customer is created. For CVRPTW the distances follow conv
// (the header's EUC_2D notwithstanding, see the package comment).
func ReadVRP(r io.Reader, file string, conv Convention) (*Instance, error) {
	lr := newLineReader(r, file)
	hdr := map[string]string{}
	var xs, ys []float64
	var demand, ready, due, service []int64
	dim := -1
	section := ""
	got := map[string]int{}
	depotSeen := false
	need := func() error {
		if dim < 0 {
			return lr.errf("section %s before DIMENSION", section)
		}
		return nil
	}
	for {
		s, ok := lr.next()
		if !ok {
			break
		}
		if s == "EOF" {
			break
		}
		if strings.HasSuffix(strings.Fields(s)[0], "_SECTION") {
			section = strings.Fields(s)[0]
			if err := need(); err != nil {
				return nil, err
			}
			continue
		}
		if k, v, ok := strings.Cut(s, ":"); ok && section == "" || ok && !isNumberLine(s) {
			k = strings.TrimSpace(k)
			v = strings.TrimSpace(v)
			hdr[k] = v
			section = ""
			if k == "DIMENSION" {
				n, err := parseInt(lr, v)
				if err != nil {
					return nil, err
				}
				if n < 2 || n > maxNodes {
					return nil, lr.errf("DIMENSION %d is outside [2, %d]", n, maxNodes)
				}
				dim = int(n)
				xs, ys = make([]float64, dim), make([]float64, dim)
				demand, ready, due, service = make([]int64, dim), make([]int64, dim), make([]int64, dim), make([]int64, dim)
				for i := range due {
					due[i] = -1
				}
			}
			continue
		}
		f := strings.Fields(s)
		switch section {
		case "NODE_COORD_SECTION", "DEMAND_SECTION", "TIME_WINDOW_SECTION", "SERVICE_TIME_SECTION":
			want := map[string]int{"NODE_COORD_SECTION": 3, "DEMAND_SECTION": 2, "TIME_WINDOW_SECTION": 3, "SERVICE_TIME_SECTION": 2}[section]
			if len(f) < want {
				return nil, lr.errf("%s: want %d fields, got %d", section, want, len(f))
			}
			id, err := parseInt(lr, f[0])
			if err != nil {
				return nil, err
			}
			if id < 1 || int(id) > dim {
				return nil, lr.errf("node %d is outside [1, %d]", id, dim)
			}
			i := int(id) - 1
			got[section]++
			switch section {
			case "NODE_COORD_SECTION":
				if xs[i], err = parseFloat(lr, f[1]); err != nil {
					return nil, err
				}
				if ys[i], err = parseFloat(lr, f[2]); err != nil {
					return nil, err
				}
			case "DEMAND_SECTION":
				if demand[i], err = parseInt(lr, f[1]); err != nil {
					return nil, err
				}
				if demand[i] < 0 {
					return nil, lr.errf("negative demand %d", demand[i])
				}
			case "TIME_WINDOW_SECTION":
				if ready[i], err = parseInt(lr, f[1]); err != nil {
					return nil, err
				}
				if due[i], err = parseInt(lr, f[2]); err != nil {
					return nil, err
				}
				if ready[i] < 0 || due[i] < ready[i] {
					return nil, lr.errf("bad time window [%d, %d]", ready[i], due[i])
				}
			case "SERVICE_TIME_SECTION":
				if service[i], err = parseInt(lr, f[1]); err != nil {
					return nil, err
				}
				if service[i] < 0 {
					return nil, lr.errf("negative service time")
				}
			}
		case "DEPOT_SECTION":
			id, err := parseInt(lr, f[0])
			if err != nil {
				return nil, err
			}
			if id == -1 {
				section = ""
				continue
			}
			if id != 1 || depotSeen {
				return nil, lr.errf("only node 1 may be the depot, got %d", id)
			}
			depotSeen = true
		default:
			return nil, lr.errf("unexpected line %q", s)
		}
	}
	if err := lr.sc.Err(); err != nil {
		return nil, &ParseError{file, lr.line, err.Error()}
	}
	lr.line = 0
	if dim < 0 {
		return nil, lr.errf("no DIMENSION")
	}
	if w := hdr["EDGE_WEIGHT_TYPE"]; w != "EUC_2D" {
		return nil, lr.errf("EDGE_WEIGHT_TYPE %q is not supported (want EUC_2D)", w)
	}
	if got["NODE_COORD_SECTION"] != dim || got["DEMAND_SECTION"] != dim {
		return nil, lr.errf("want %d coordinates and demands, got %d and %d", dim, got["NODE_COORD_SECTION"], got["DEMAND_SECTION"])
	}
	capStr, ok := hdr["CAPACITY"]
	if !ok {
		return nil, lr.errf("no CAPACITY")
	}
	capacity, err := parseInt(lr, capStr)
	if err != nil || capacity <= 0 {
		return nil, lr.errf("bad CAPACITY %q", capStr)
	}
	typ := hdr["TYPE"]
	inst := &Instance{Name: hdr["NAME"], X: xs, Y: ys, Scale: 1}
	switch typ {
	case "CVRP":
		p := euclidProblem(xs, ys, func(d float64) int64 { return int64(math.Floor(d + 0.5)) }, nil)
		addJobs(p, demand, nil, nil, nil, 1)
		p.Vehicles = fleet(dim-1, capacity, -1, 1)
		inst.Problem = p
	case "CVRPTW":
		if got["TIME_WINDOW_SECTION"] != dim {
			return nil, lr.errf("want %d time windows, got %d", dim, got["TIME_WINDOW_SECTION"])
		}
		if st, ok := hdr["SERVICE_TIME"]; ok {
			v, err := parseInt(lr, st)
			if err != nil || v < 0 {
				return nil, lr.errf("bad SERVICE_TIME %q", st)
			}
			for i := 1; i < dim; i++ {
				service[i] = v
			}
		}
		nveh := int64(dim - 1)
		if vs, ok := hdr["VEHICLES"]; ok {
			if nveh, err = parseInt(lr, vs); err != nil || nveh < 1 || nveh > maxNodes {
				return nil, lr.errf("bad VEHICLES %q", vs)
			}
		}
		inst.RealValued = true
		inst.Problem, inst.Scale = tw(xs, ys, demand, ready, due, service, capacity, int(nveh), conv)
	default:
		return nil, lr.errf("TYPE %q is not supported (want CVRP or CVRPTW)", typ)
	}
	inst.Problem.Name = inst.Name
	return inst, nil
}

func isNumberLine(s string) bool {
	f := strings.Fields(s)
	if len(f) == 0 {
		return false
	}
	_, err := strconv.ParseFloat(f[0], 64)
	return err == nil
}

// euclidProblem builds the matrices from coordinates: distance f(d) and,
// when g is set, a separate duration matrix g(d).
func euclidProblem(xs, ys []float64, f func(float64) int64, g func(float64) int64) *routing.Problem {
	n := len(xs)
	dist := make([][]int64, n)
	var dur [][]int64
	if g != nil {
		dur = make([][]int64, n)
	}
	coords := make([]routing.Point, n)
	for i := 0; i < n; i++ {
		coords[i] = routing.Point{X: xs[i], Y: ys[i]}
		dist[i] = make([]int64, n)
		if g != nil {
			dur[i] = make([]int64, n)
		}
		for j := 0; j < n; j++ {
			d := math.Hypot(xs[i]-xs[j], ys[i]-ys[j])
			dist[i][j] = f(d)
			if g != nil {
				dur[i][j] = g(d)
			}
		}
	}
	return &routing.Problem{Distances: dist, Durations: dur, Objective: routing.MinimizeDistance, Coords: coords}
}

func addJobs(p *routing.Problem, demand, ready, due, service []int64, scale int64) {
	for i := 1; i < len(demand); i++ {
		j := routing.Job{ID: strconv.Itoa(i), Location: i, Demand: []int64{demand[i]}}
		if ready != nil {
			j.TimeWindows = []routing.TimeWindow{{Start: ready[i] * scale, End: due[i] * scale}}
			j.Service = service[i] * scale
		}
		p.Jobs = append(p.Jobs, j)
	}
}

func fleet(n int, capacity int64, horizon int64, scale int64) []routing.Vehicle {
	vs := make([]routing.Vehicle, n)
	for i := range vs {
		vs[i] = routing.Vehicle{ID: strconv.Itoa(i + 1), Start: 0, End: 0, Capacity: []int64{capacity}}
		if horizon >= 0 {
			vs[i].Shift = routing.TimeWindow{Start: 0, End: horizon * scale}
		}
	}
	return vs
}

// tw builds a VRPTW problem under a distance convention.
func tw(xs, ys []float64, demand, ready, due, service []int64, capacity int64, nveh int, conv Convention) (*routing.Problem, float64) {
	var p *routing.Problem
	var scale int64
	switch conv {
	case DIMACS:
		scale = 1
		trunc := func(d float64) int64 { return int64(math.Floor(10*d + 1e-9)) }
		p = euclidProblem(xs, ys, trunc, trunc)
		// times are in tenths as well
		addJobs(p, demand, ready, due, service, 10)
		p.Vehicles = fleet(nveh, capacity, due[0], 10)
		return p, 10
	default:
		scale = DefaultScale
		s := float64(scale)
		p = euclidProblem(xs, ys,
			func(d float64) int64 { return int64(math.Round(d * s)) },
			func(d float64) int64 { return int64(math.Ceil(d*s - 1e-7)) })
		addJobs(p, demand, ready, due, service, scale)
		p.Vehicles = fleet(nveh, capacity, due[0], scale)
		return p, s
	}
}

// ReadSolomon parses a Solomon text instance (name, VEHICLE NUMBER
// CAPACITY, CUSTOMER table with depot row 0).
func ReadSolomon(r io.Reader, file string, conv Convention) (*Instance, error) {
	lr := newLineReader(r, file)
	name, ok := lr.next()
	if !ok {
		return nil, lr.errf("empty file")
	}
	var nveh, capacity int64 = -1, -1
	var xs, ys []float64
	var demand, ready, due, service []int64
	for {
		s, ok := lr.next()
		if !ok {
			break
		}
		f := strings.Fields(s)
		if !isNumberLine(s) {
			continue // headings
		}
		if nveh < 0 {
			if len(f) != 2 {
				return nil, lr.errf("want VEHICLE NUMBER and CAPACITY, got %q", s)
			}
			var err error
			if nveh, err = parseInt(lr, f[0]); err != nil {
				return nil, err
			}
			if capacity, err = parseInt(lr, f[1]); err != nil {
				return nil, err
			}
			if nveh < 1 || nveh > maxNodes || capacity <= 0 {
				return nil, lr.errf("bad vehicle number %d or capacity %d", nveh, capacity)
			}
			continue
		}
		if len(f) != 7 {
			return nil, lr.errf("want 7 columns, got %d", len(f))
		}
		var v [7]float64
		for k := range f {
			var err error
			if v[k], err = parseFloat(lr, f[k]); err != nil {
				return nil, err
			}
		}
		if int(v[0]) != len(xs) || v[0] != math.Trunc(v[0]) {
			return nil, lr.errf("customer %v out of order (want %d)", v[0], len(xs))
		}
		if len(xs) >= maxNodes {
			return nil, lr.errf("more than %d customers", maxNodes)
		}
		for k := 3; k < 7; k++ {
			if v[k] < 0 || v[k] != math.Trunc(v[k]) {
				return nil, lr.errf("column %d: %v is not a non-negative integer", k+1, v[k])
			}
		}
		if v[5] < v[4] {
			return nil, lr.errf("due date %v before ready time %v", v[5], v[4])
		}
		xs, ys = append(xs, v[1]), append(ys, v[2])
		demand = append(demand, int64(v[3]))
		ready, due, service = append(ready, int64(v[4])), append(due, int64(v[5])), append(service, int64(v[6]))
	}
	if err := lr.sc.Err(); err != nil {
		return nil, &ParseError{file, lr.line, err.Error()}
	}
	lr.line = 0
	if nveh < 0 || len(xs) < 2 {
		return nil, lr.errf("no vehicle line or fewer than one customer")
	}
	p, scale := tw(xs, ys, demand, ready, due, service, capacity, int(nveh), conv)
	p.Name = name
	return &Instance{Name: name, Problem: p, Scale: scale, X: xs, Y: ys, RealValued: true}, nil
}

// Solution is a CVRPLIB .sol: routes of customer numbers (1..n, job j is
// customer j+1) and the stated cost.
type Solution struct {
	Routes [][]int
	Cost   float64
}

// ReadSol parses a CVRPLIB .sol file.
func ReadSol(r io.Reader, file string) (*Solution, error) {
	lr := newLineReader(r, file)
	sol := &Solution{Cost: -1}
	for {
		s, ok := lr.next()
		if !ok {
			break
		}
		low := strings.ToLower(s)
		switch {
		case strings.HasPrefix(low, "route"):
			_, rest, ok := strings.Cut(s, ":")
			if !ok {
				return nil, lr.errf("route line without ':'")
			}
			var route []int
			for _, f := range strings.Fields(rest) {
				c, err := parseInt(lr, f)
				if err != nil {
					return nil, err
				}
				if c < 1 || c > maxNodes {
					return nil, lr.errf("customer %d is outside [1, %d]", c, maxNodes)
				}
				route = append(route, int(c))
			}
			sol.Routes = append(sol.Routes, route)
		case strings.HasPrefix(low, "cost"):
			c, err := parseFloat(lr, strings.TrimSpace(s[4:]))
			if err != nil {
				return nil, err
			}
			sol.Cost = c
		default:
			// other lines (e.g. "Time") are ignored
		}
	}
	if err := lr.sc.Err(); err != nil {
		return nil, &ParseError{file, lr.line, err.Error()}
	}
	return sol, nil
}

// WriteSol writes s in CVRPLIB .sol format: customers are numbered from 1
// (job j is customer j+1 when the depot is location 0 and job j is at
// location j+1, as ReadVRP and ReadSolomon build them).
func WriteSol(w io.Writer, p *routing.Problem, s *routing.Solution, cost string) error {
	bw := bufio.NewWriter(w)
	k := 0
	for _, r := range s.Routes {
		if len(r.Stops) == 0 {
			continue
		}
		k++
		fmt.Fprintf(bw, "Route #%d:", k)
		for _, st := range r.Stops {
			fmt.Fprintf(bw, " %d", p.Jobs[st.Job].Location)
		}
		fmt.Fprintln(bw)
	}
	fmt.Fprintf(bw, "Cost %s\n", cost)
	return bw.Flush()
}
