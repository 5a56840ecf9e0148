package main

import (
	"context"
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
