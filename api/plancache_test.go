package api_test

import (
	"slices"
	"testing"
	"time"
)

// TestPlansChangedAfterCommit: each committed write of a courier's route
// sheet or of an order on it tells the trackers of every replica (the
// courier's field of tracking:{fleet}:plans, which GPS batches read to know
// whether their cached plan still holds); a refused write tells nothing, and
// a depot that moved changes every courier's plan.
func TestPlansChangedAfterCommit(t *testing.T) {
	backends(t, func(t *testing.T, e *env) {
		e.at(day.Add(6 * time.Hour))
		f := e.planDay(nil)
		const key = "tracking:{test}:plans"
		stamps := func() map[string]string {
			return map[string]string{"courier1": e.mini.HGet(key, itoa(e.courier["courier1"])),
				"courier2": e.mini.HGet(key, itoa(e.courier["courier2"])), "all": e.mini.HGet(key, "*")}
		}
		changed := func(before map[string]string, want ...string) map[string]string {
			t.Helper()
			now := stamps()
			for k, v := range now {
				if moved := v != before[k]; moved != slices.Contains(want, k) {
					t.Errorf("stamp of %s: %q -> %q (want a change for %v)", k, before[k], v, want)
				}
			}
			return now
		}
		s := stamps()
		if s["courier1"] == "" || s["courier2"] == "" {
			t.Fatalf("publishing the sheets told nothing: %v", s)
		}
		e.at(day.Add(7 * time.Hour))
		e.applied("courier1", "shift_start", 0, nil)
		s = changed(s, "courier1")
		// Courier 1 arriving at courier 2's stop is refused: nothing committed, nothing told.
		if r := e.event("courier1", "arrive", f.orders["courier2"][0], nil); r.Status < 400 {
			t.Fatalf("arriving at another courier's stop: %d %s", r.Status, r.Body)
		}
		s = changed(s)
		e.applied("courier1", "arrive", f.orders["courier1"][0], nil)
		s = changed(s, "courier1")
		e.must(e.do("PATCH", "/api/v1/depots/"+itoa(e.depotID), "dispatcher", map[string]any{"name": "Depot moved"}), 200)
		changed(s, "all")
	})
}
