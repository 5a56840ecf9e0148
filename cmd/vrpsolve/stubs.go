package main

import (
	"context"
	"errors"
	"io"

	"github.com/courierhq/courier/routing"
)

type bksRow struct {
	cost     float64
	vehicles int
	dimacs   float64
	dimacsV  int
}

func readBKS(path string) (map[string]bksRow, error)                                     { return nil, errors.New("todo") }
func cmdBench(ctx context.Context, args []string) error                                  { return errors.New("todo") }
func cmdGen(args []string) error                                                         { return errors.New("todo") }
func loadJSON(path string) (*loaded, error)                                              { return nil, errors.New("todo") }
func writeJSONOut(w io.Writer, p *routing.Problem, s *routing.Solution, l *loaded) error { return nil }
