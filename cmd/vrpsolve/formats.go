package main

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/courierhq/courier/routing"
	"github.com/courierhq/courier/routing/vroom"
)

// loadJSON reads our JSON problem or a VROOM input (told apart by VROOM's
// "matrices"/"matrix" keys), gzip-compressed when the name ends in .gz.
func loadJSON(path string) (*loaded, error) {
	data, err := readFile(path)
	if err != nil {
		return nil, err
	}
	var keys map[string]json.RawMessage
	if err := json.Unmarshal(data, &keys); err != nil {
		_, err = routing.DecodeProblem(bytes.NewReader(data))
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	_, m1 := keys["matrices"]
	_, m2 := keys["matrix"]
	if m1 || m2 {
		in, p, err := vroom.Decode(bytes.NewReader(data))
		if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		return &loaded{problem: p, vroomIn: in}, nil
	}
	p, err := routing.DecodeProblem(bytes.NewReader(data))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return &loaded{problem: p}, nil
}

// readFile reads a file, uncompressing it when its name ends in .gz (the
// city benchmark files are stored so).
func readFile(path string) ([]byte, error) {
	data, err := os.ReadFile(path)
	if err != nil || !strings.HasSuffix(path, ".gz") {
		return data, err
	}
	zr, err := gzip.NewReader(bytes.NewReader(data))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	defer zr.Close()
	data, err = io.ReadAll(zr)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return data, nil
}

func writeJSONOut(w io.Writer, p *routing.Problem, s *routing.Solution, l *loaded) error {
	if l.vroomIn != nil {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(vroom.Encode(l.vroomIn, p, s))
	}
	return routing.EncodeSolution(w, s)
}

func cmdGen(args []string) error {
	fs := flag.NewFlagSet("gen", flag.ContinueOnError)
	n := fs.Int("n", 1000, "jobs")
	veh := fs.Int("vehicles", 50, "vehicles")
	seed := fs.Uint64("seed", 1, "random seed")
	tw := fs.Bool("tw", true, "time windows")
	mixed := fs.Bool("mixed", false, "a mixed courier fleet: foot, bike, car and van travel profiles (travel time objective)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *n < 1 || *veh < 1 || *n > routing.MaxJobs {
		return fmt.Errorf("gen: bad -n or -vehicles")
	}
	if *mixed {
		return routing.EncodeProblem(os.Stdout, routing.RandomMixedFleet(*n, *veh, *seed, *tw))
	}
	return routing.EncodeProblem(os.Stdout, routing.RandomProblem(*n, *veh, *seed, *tw))
}
