package dispatch

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"time"

	"github.com/courierhq/courier"
)

// defaultPlanLease is how long a plan job's lease lasts without renewal.
const defaultPlanLease = 15 * time.Second

// reapReason is the error of a plan whose replica died while running it.
const reapReason = "interrupted: the server running it stopped"

// errLeaseLost stops a job whose plan was reaped (or taken) meanwhile.
var errLeaseLost = errors.New("the plan's lease is held by another replica or was reaped")

// leaseOwner names this process: host, pid and a random part, so that a
// restarted process never takes itself for its predecessor.
func leaseOwner() string {
	host, _ := os.Hostname()
	return fmt.Sprintf("%s/%d/%s", host, os.Getpid(), rand.Text()[:8])
}

// leaseEnd is when a lease taken or renewed now ends. Leases are wall-clock
// time (replicas compare them), not the injected business clock.
func (s *Service) leaseEnd() time.Time { return time.Now().Add(s.solver.PlanLease) }

// renewLease extends p's lease if this process still holds it.
func (s *Service) renewLease(p *courier.Plan) error {
	if p.LeaseOwner != s.owner || (p.Status != courier.PlanQueued && p.Status != courier.PlanRunning) {
		return errLeaseLost
	}
	p.LeaseUntil = s.leaseEnd()
	return nil
}

// ReapPlans marks failed the plans whose replica died while running them
// (their lease ran out) and returns how many. Plans with a live lease,
// running in this replica or another, are left alone.
func (s *Service) ReapPlans(ctx context.Context) (int, error) {
	ids, err := s.store.ReapPlans(ctx, time.Now(), reapReason)
	if err != nil {
		return 0, err
	}
	for _, id := range ids {
		slog.Warn("plan failed: the replica running it stopped (its lease ran out)", slog.Int64("plan_id", id))
	}
	return len(ids), nil
}

// WatchPlans reaps abandoned plans at once and then every third of the
// lease, until Close: a plan killed with its server is marked failed within
// about a lease, whether or not anyone reads it.
func (s *Service) WatchPlans() {
	every := s.solver.PlanLease / 3
	s.jobs.Go(func() {
		tick := time.NewTicker(every)
		defer tick.Stop()
		for {
			if _, err := s.ReapPlans(s.bg); err != nil && s.bg.Err() == nil {
				slog.Error("reap abandoned plans", slog.Any("err", err))
			}
			select {
			case <-s.bg.Done():
				return
			case <-tick.C:
			}
		}
	})
}
