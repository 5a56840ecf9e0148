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
	start time.Time
	mu    sync.Mutex
	lat   []time.Duration
	end   []time.Duration // when each request ended, from start (timeline)
	reads []time.Duration // when lat is the kernel's arrival: as the tool read them
	items int64
	errs  int64
	first map[string]int // error text -> count (a few kinds)
}

func newRecorder(name, unit string) *recorder {
	return &recorder{name: name, unit: unit, start: time.Now(), first: map[string]int{}}
}

// ok records a successful request that carried items.
func (r *recorder) ok(d time.Duration, items int) {
	now := time.Since(r.start)
	r.mu.Lock()
	r.lat = append(r.lat, d)
	r.end = append(r.end, now)
	r.items += int64(items)
	r.mu.Unlock()
}

// read records what a request whose latency is its answer's kernel arrival
// time took until the tool read the answer.
func (r *recorder) read(d time.Duration) {
	r.mu.Lock()
	r.reads = append(r.reads, d)
	r.mu.Unlock()
}

// fail records a failed request (its latency counts too).
func (r *recorder) fail(d time.Duration, what string) {
	now := time.Since(r.start)
	r.mu.Lock()
	r.lat = append(r.lat, d)
	r.end = append(r.end, now)
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
	// ReadP50...: the same requests timed to when the tool read the answer
	// (set when P50... are timed to the kernel's arrival time).
	ReadP50, ReadP99, ReadMax time.Duration
	Stamped                   int64 // requests timed to the kernel's arrival
	ErrorKinds                map[string]int
	CPU                       string // what the processes of -cpu spent (cpuLine)
	Timeline                  []window
}

// window is what the requests ending in one interval of a phase took.
type window struct {
	Requests int
	P99, Max time.Duration
}

func (s summary) ReqPerS() float64   { return float64(s.Requests) / s.Elapsed.Seconds() }
func (s summary) ItemsPerS() float64 { return float64(s.Items) / s.Elapsed.Seconds() }

// timeline cuts the phase into windows of width by the requests' ends.
func (r *recorder) timeline(width time.Duration) []window {
	r.mu.Lock()
	defer r.mu.Unlock()
	var buckets [][]time.Duration
	for i, at := range r.end {
		k := int(at / width)
		for len(buckets) <= k {
			buckets = append(buckets, nil)
		}
		buckets[k] = append(buckets[k], r.lat[i])
	}
	out := make([]window, len(buckets))
	for k, b := range buckets {
		if len(b) == 0 {
			continue
		}
		slices.Sort(b)
		out[k] = window{Requests: len(b), P99: quantile(b, 0.99), Max: b[len(b)-1]}
	}
	return out
}

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
	if len(r.reads) > 0 {
		reads := slices.Clone(r.reads)
		slices.Sort(reads)
		s.Stamped = int64(len(reads))
		s.ReadP50, s.ReadP99, s.ReadMax = quantile(reads, 0.50), quantile(reads, 0.99), reads[len(reads)-1]
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
		if s.Stamped > 0 {
			fmt.Fprintf(w, "    timed to the answer's arrival (kernel timestamps, %d of %d requests); to when the tool read it: p50 %s, p99 %s, max %s ms\n",
				s.Stamped, s.Requests, ms(s.ReadP50), ms(s.ReadP99), ms(s.ReadMax))
		}
		if s.CPU != "" {
			fmt.Fprintln(w, s.CPU)
		}
		if len(s.Timeline) > 0 {
			fmt.Fprint(w, "    by second, requests p99/max ms:")
			for _, x := range s.Timeline {
				fmt.Fprintf(w, " %d %s/%s", x.Requests, ms(x.P99), ms(x.Max))
			}
			fmt.Fprintln(w)
		}
	}
}
