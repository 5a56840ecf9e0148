package routing

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
)

// The JSON problem format is the Problem type itself (field names in its
// json tags), with one difference: a vehicle's "start" and "end" may be
// omitted or null for None (no start: the route begins at its first job;
// no end: an open route). Example:
//
//	{"jobs": [{"id": "o-17", "location": 1, "demand": [12, 1], "service": 300,
//	           "time_windows": [{"start": 32400, "end": 36000}], "skills": [2], "priority": 10}],
//	 "vehicles": [{"id": "van-1", "start": 0, "end": 0, "capacity": [800, 40],
//	               "shift": {"start": 28800, "end": 64800}, "max_stops": 60, "fixed_cost": 5000}],
//	 "durations": [[0, 600], [620, 0]], "distances": [[0, 4100], [4000, 0]],
//	 "objective": "distance"}
//
// The JSON solution format is the Solution type (see its json tags).

type jsonVehicle struct {
	Vehicle
	Start *int `json:"start"`
	End   *int `json:"end"`
}

type jsonProblem struct {
	Problem
	Vehicles []jsonVehicle `json:"vehicles"`
}

// DecodeProblem reads a JSON problem. Syntax and type errors name the line
// (file names are the caller's: wrap the error). It does not validate the
// problem; Solve does.
func DecodeProblem(r io.Reader) (*Problem, error) {
	data, err := io.ReadAll(io.LimitReader(r, 1<<30))
	if err != nil {
		return nil, err
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var jp jsonProblem
	if err := dec.Decode(&jp); err != nil {
		return nil, jsonError(data, err)
	}
	p := jp.Problem
	p.Vehicles = make([]Vehicle, len(jp.Vehicles))
	for i, v := range jp.Vehicles {
		p.Vehicles[i] = v.Vehicle
		p.Vehicles[i].Start, p.Vehicles[i].End = None, None
		if v.Start != nil {
			p.Vehicles[i].Start = *v.Start
		}
		if v.End != nil {
			p.Vehicles[i].End = *v.End
		}
	}
	return &p, nil
}

// EncodeProblem writes p in the JSON problem format.
func EncodeProblem(w io.Writer, p *Problem) error {
	jp := jsonProblem{Problem: *p, Vehicles: make([]jsonVehicle, len(p.Vehicles))}
	for i := range p.Vehicles {
		v := p.Vehicles[i]
		jv := jsonVehicle{Vehicle: v}
		if v.Start != None {
			jv.Start = &p.Vehicles[i].Start
		}
		if v.End != None {
			jv.End = &p.Vehicles[i].End
		}
		jp.Vehicles[i] = jv
	}
	enc := json.NewEncoder(w)
	return enc.Encode(jp)
}

// EncodeSolution writes s as indented JSON.
func EncodeSolution(w io.Writer, s *Solution) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(s)
}

// jsonError adds the line number to a decoding error.
func jsonError(data []byte, err error) error {
	var off int64 = -1
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case errors.As(err, &se):
		off = se.Offset
	case errors.As(err, &te):
		off = te.Offset
	}
	if off < 0 {
		return fmt.Errorf("json: %w", err)
	}
	off = min(off, int64(len(data)))
	line := 1 + bytes.Count(data[:off], []byte("\n"))
	return fmt.Errorf("line %d: %w", line, err)
}
