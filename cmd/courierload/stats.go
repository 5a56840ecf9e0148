package main

import (
	"fmt"
	"io"
	"slices"
	"sync"
	"time"
)

// recorder collects the latencies, items and errors of one endpoint.
type recorder struct {
	name  string
	unit  string // what an item is: pings, couriers, events, orders, stops
	mu    sync.Mutex
	lat   []time.Duration
	items int64
	errs  int64
	first map[string]int // error text -> count (a few kinds)
}

func newRecorder(name, unit string) *recorder {
	return &recorder{name: name, unit: unit, first: map[string]int{}}
}

// ok records a successful request that carried items.
func (r *recorder) ok(d time.Duration, items int) {
	r.mu.Lock()
	r.lat = append(r.lat, d)
	r.items += int64(items)
	r.mu.Unlock()
}

// fail records a failed request (its latency counts too).
func (r *recorder) fail(d time.Duration, what string) {
	r.mu.Lock()
	r.lat = append(r.lat, d)
	r.errs++
	if len(r.first) < 8 || r.first[what] > 0 {
		r.first[what]++
	}
	r.mu.Unlock()
}

// summary is what one endpoint did over a phase.
type summary struct {
	Name             string
	Unit             string
	Requests, Errors int64
	Items            int64
	Elapsed          time.Duration
	P50, P99, Max    time.Duration
	ErrorKinds       map[string]int
	CPU              string // what the processes of -cpu spent (cpuLine)
}

func (s summary) ReqPerS() float64   { return float64(s.Requests) / s.Elapsed.Seconds() }
func (s summary) ItemsPerS() float64 { return float64(s.Items) / s.Elapsed.Seconds() }

func (r *recorder) summary(elapsed time.Duration) summary {
	r.mu.Lock()
	defer r.mu.Unlock()
	lat := slices.Clone(r.lat)
	slices.Sort(lat)
	s := summary{Name: r.name, Unit: r.unit, Requests: int64(len(lat)), Errors: r.errs, Items: r.items, Elapsed: elapsed,
		ErrorKinds: map[string]int{}}
	for k, v := range r.first {
		s.ErrorKinds[k] = v
	}
	if len(lat) > 0 {
		s.P50 = quantile(lat, 0.50)
		s.P99 = quantile(lat, 0.99)
		s.Max = lat[len(lat)-1]
	}
	return s
}

// quantile of sorted durations (nearest rank).
func quantile(sorted []time.Duration, q float64) time.Duration {
	i := int(q*float64(len(sorted))+0.999999) - 1
	return sorted[max(0, min(i, len(sorted)-1))]
}

func ms(d time.Duration) string { return fmt.Sprintf("%.2f", float64(d)/float64(time.Millisecond)) }

// printTable writes the summaries as an aligned table.
func printTable(w io.Writer, rows []summary) {
	fmt.Fprintf(w, "%-28s %9s %9s %11s %-9s %9s %9s %9s %7s\n", "endpoint", "requests", "req/s", "items/s", "item", "p50 ms", "p99 ms", "max ms", "errors")
	for _, s := range rows {
		fmt.Fprintf(w, "%-28s %9d %9.0f %11.0f %-9s %9s %9s %9s %7d\n", s.Name, s.Requests, s.ReqPerS(), s.ItemsPerS(), s.Unit,
			ms(s.P50), ms(s.P99), ms(s.Max), s.Errors)
		for k, v := range s.ErrorKinds {
			fmt.Fprintf(w, "    %d x %s\n", v, k)
		}
		if s.CPU != "" {
			fmt.Fprintln(w, s.CPU)
		}
	}
}
