package main

import (
	"testing"
	"time"
)

// TestTimeline: requests fall in the second they ended in, each second with
// its own count, p99 and maximum; a second without requests stays empty.
func TestTimeline(t *testing.T) {
	r := newRecorder("x", "items")
	r.start = time.Now().Add(-2500 * time.Millisecond) // what ends now ends in second 2
	for i := range 100 {
		r.ok(time.Duration(i+1)*time.Millisecond, 1)
	}
	r.fail(500*time.Millisecond, "boom")
	r.start = time.Now() // second 0
	r.ok(3*time.Millisecond, 1)
	tl := r.timeline(time.Second)
	if len(tl) != 3 {
		t.Fatalf("%d windows, want 3: %+v", len(tl), tl)
	}
	if tl[0].Requests != 1 || tl[0].Max != 3*time.Millisecond {
		t.Errorf("second 0: %+v", tl[0])
	}
	if tl[1].Requests != 0 {
		t.Errorf("second 1: %+v, want empty", tl[1])
	}
	if tl[2].Requests != 101 || tl[2].P99 != 100*time.Millisecond || tl[2].Max != 500*time.Millisecond {
		t.Errorf("second 2: %+v, want 101 requests, p99 100 ms, max 500 ms", tl[2])
	}
	if s := r.summary(time.Second); s.Requests != 102 || s.Errors != 1 {
		t.Errorf("summary: %d requests, %d errors", s.Requests, s.Errors)
	}
}
