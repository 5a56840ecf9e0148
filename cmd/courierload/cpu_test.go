package main

import (
	"context"
	"encoding/json"
	"math"
	mrand "math/rand/v2"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

func TestParseCPUGroups(t *testing.T) {
	gs, err := parseCPUGroups("courierd=41,42;postgres=17+; redis=20")
	if err != nil {
		t.Fatal(err)
	}
	if len(gs) != 3 || gs[0].name != "courierd" || len(gs[0].pids) != 2 || gs[0].children ||
		gs[1].name != "postgres" || !gs[1].children || gs[1].pids[0] != 17 || gs[2].pids[0] != 20 {
		t.Fatalf("groups: %+v", gs)
	}
	for _, bad := range []string{"courierd", "=1", "x=", "x=a", "x=0", "x=1,,2"} {
		if _, err := parseCPUGroups(bad); err == nil {
			t.Errorf("%q: no error", bad)
		}
	}
}

// The CPU this process spends shows in its own group.
func TestSampleCPUSelf(t *testing.T) {
	gs := []cpuGroup{{name: "self", pids: []int{os.Getpid()}, children: true}}
	a := sampleCPU(gs)
	for end := time.Now().Add(300 * time.Millisecond); time.Now().Before(end); {
	}
	use := cpuBetween(gs, a, sampleCPU(gs))
	if len(use) != 1 || use[0].Name != "self" || use[0].Seconds <= 0 {
		t.Fatalf("use: %+v", use)
	}
}

// paced runs work at the rate asked, over every connection together.
func TestPaced(t *testing.T) {
	var n atomic.Int64
	work := paced(200, func(context.Context, int, *mrand.Rand) bool { n.Add(1); return true })
	ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
	defer cancel()
	drive(ctx, 4, work)
	// 100 slots in 0.5 s (the first at once); never more, however fast
	// work is (a loaded machine may run fewer).
	if got := n.Load(); got < 1 || got > 101 {
		t.Errorf("%d runs in 0.5 s at 200/s", got)
	}
}

// The dialer refuses any address that is not loopback, whatever a name resolved to.
func TestLoopbackDialer(t *testing.T) {
	if _, err := loopbackDialer().DialContext(context.Background(), "tcp", "192.0.2.1:80"); err == nil ||
		!strings.Contains(err.Error(), "not a loopback address") {
		t.Errorf("dial 192.0.2.1: %v", err)
	}
}

// TestPingBatch: the hand-written batch is the JSON the API takes, pings 1 ms
// apart after the courier's last, never in the future.
func TestPingBatch(t *testing.T) {
	now := time.Now()
	fc := &fleetCourier{lat: cityLat, lng: cityLng, last: now.Add(-time.Minute)}
	var in struct {
		Pings []struct {
			Lat, Lng   float64
			RecordedAt time.Time `json:"recorded_at"`
			AccuracyM  float64   `json:"accuracy_m"`
		} `json:"pings"`
	}
	b := pingBatch(fc, 50, now)
	if err := json.Unmarshal(b, &in); err != nil {
		t.Fatalf("%s: %v", b, err)
	}
	if len(in.Pings) != 50 {
		t.Fatalf("%d pings", len(in.Pings))
	}
	for i, p := range in.Pings {
		if want := now.Add(-2 * time.Second).Add(time.Duration(i) * time.Millisecond); !p.RecordedAt.Equal(want) || p.AccuracyM != 5 {
			t.Errorf("ping %d: %+v, want recorded at %v", i, p, want)
		}
		if math.Abs(p.Lat-cityLat) > boxLat || math.Abs(p.Lng-cityLng) > boxLng {
			t.Errorf("ping %d out of the box: %+v", i, p)
		}
	}
	if !fc.last.Equal(in.Pings[49].RecordedAt) {
		t.Errorf("the courier's last ping %v, the batch's %v", fc.last, in.Pings[49].RecordedAt)
	}
}
