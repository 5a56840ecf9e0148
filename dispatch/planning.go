package dispatch

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/courierhq/courier"
	"github.com/courierhq/courier/routing"
)

// PlanRequest asks to plan a day. Empty OrderIDs means every ready order of
// the date at the depot; empty CourierIDs every active courier of the depot.
type PlanRequest struct {
	Date       string
	DepotID    int64
	OrderIDs   []int64
	CourierIDs []int64
	TimeLimit  time.Duration
}

// Plan time limits.
const (
	DefaultPlanTime = 30 * time.Second
	MaxPlanTime     = 10 * time.Minute
)

// progressEvery is how often a running plan writes its progress.
const progressEvery = time.Second

// StartPlan checks the request, builds the routing problem (kept with the
// plan, so it can be replayed offline) and starts the optimizer in the
// background. Staff only. Returns EFORBIDDEN, EINVALID, ENOTFOUND.
func (s *Service) StartPlan(ctx context.Context, actor courier.Actor, req PlanRequest) (*courier.Plan, error) {
	if err := actor.Require(staff...); err != nil {
		return nil, err
	}
	if req.TimeLimit == 0 {
		req.TimeLimit = DefaultPlanTime
	}
	// The time limit counts from the request: building the problem and
	// saving the sheets come out of it.
	deadline := time.Now().Add(req.TimeLimit)
	if req.TimeLimit < time.Second || req.TimeLimit > MaxPlanTime {
		return nil, courier.FieldError("time_limit_s", "must be within [1, %d] seconds", int(MaxPlanTime.Seconds()))
	}
	if _, err := time.Parse(time.DateOnly, req.Date); err != nil {
		return nil, courier.FieldError("date", "must be a date YYYY-MM-DD")
	}
	select {
	case s.slots <- struct{}{}:
	default:
		return nil, &courier.Error{Code: courier.ETOOMANY, Message: fmt.Sprintf("%d plans are running already; try again when one finishes", cap(s.slots)),
			Details: map[string]any{"retry_after_s": int(req.TimeLimit.Seconds())}}
	}
	started := false
	defer func() {
		if !started {
			<-s.slots
		}
	}()
	depot, err := s.store.Depot(ctx, req.DepotID)
	if courier.ErrorCode(err) == courier.ENOTFOUND {
		return nil, courier.FieldError("depot_id", "depot %d does not exist", req.DepotID)
	} else if err != nil {
		return nil, err
	}
	orders, err := s.planOrders(ctx, req)
	if err != nil {
		return nil, err
	}
	couriers, err := s.planCouriers(ctx, req)
	if err != nil {
		return nil, err
	}
	zones, err := s.zoneMap(ctx, req.Date)
	if err != nil {
		return nil, err
	}
	pp, err := s.buildProblem(ctx, problemSpec{date: req.Date, depot: depot, orders: orders, couriers: couriers, zones: zones,
		notBefore: s.clock.Now()})
	if err != nil {
		return nil, err
	}
	plan := &courier.Plan{Date: req.Date, DepotID: depot.ID, TimeLimit: req.TimeLimit, Status: courier.PlanQueued,
		CreatedBy: actor.UserID, Unassigned: pp.unassigned, UnassignedN: len(pp.unassigned),
		LeaseOwner: s.owner, LeaseUntil: s.leaseEnd()}
	for _, o := range orders {
		plan.OrderIDs = append(plan.OrderIDs, o.ID)
	}
	for _, c := range couriers {
		plan.CourierIDs = append(plan.CourierIDs, c.ID)
	}
	if err := s.store.CreatePlan(ctx, plan); err != nil {
		return nil, err
	}
	s.jobs.Add(1)
	started = true
	// The job reads and writes the plan's row: it starts once the request
	// that created it has committed (at once outside a request transaction).
	courier.AfterTx(ctx, func(committed bool) {
		if !committed {
			<-s.slots
			s.jobs.Done()
			return
		}
		go func() {
			defer func() { <-s.slots; s.jobs.Done() }()
			s.runPlan(plan.ID, pp, deadline, req.TimeLimit)
		}()
	})
	return plan, nil
}

// planOrders loads the orders of a request: the listed ones (each must be
// ready, of that date and depot), or every ready one.
func (s *Service) planOrders(ctx context.Context, req PlanRequest) ([]*courier.Order, error) {
	if len(req.OrderIDs) == 0 {
		var out []*courier.Order
		f := courier.OrderFilter{Status: courier.StatusReady, Date: req.Date, DepotID: req.DepotID, Limit: 500}
		for {
			page, err := s.store.ListOrders(ctx, f)
			if err != nil {
				return nil, err
			}
			out = append(out, page...)
			if len(page) < f.Limit {
				break
			}
			f.After = page[len(page)-1].ID
		}
		if len(out) == 0 {
			return nil, courier.FieldError("order_ids", "there are no ready orders for %s at depot %d", req.Date, req.DepotID)
		}
		return out, nil
	}
	var out []*courier.Order
	for i, id := range slices.Compact(slices.Sorted(slices.Values(req.OrderIDs))) {
		o, err := s.store.Order(ctx, id)
		field := fmt.Sprintf("order_ids[%d]", i)
		if courier.ErrorCode(err) == courier.ENOTFOUND {
			return nil, courier.FieldError(field, "order %d does not exist", id)
		} else if err != nil {
			return nil, err
		}
		if o.Status != courier.StatusReady {
			return nil, courier.FieldError(field, "order %d is %s, not ready", id, o.Status)
		}
		if o.DeliveryDate != req.Date || o.DepotID != req.DepotID {
			return nil, courier.FieldError(field, "order %d is for %s at depot %d", id, o.DeliveryDate, o.DepotID)
		}
		out = append(out, o)
	}
	return out, nil
}

// planCouriers loads the couriers of a request: the listed ones, or every active one of the depot.
func (s *Service) planCouriers(ctx context.Context, req PlanRequest) ([]*courier.Courier, error) {
	if len(req.CourierIDs) == 0 {
		active := true
		cs, err := s.store.ListCouriers(ctx, courier.CourierFilter{DepotID: req.DepotID, Active: &active})
		if err != nil {
			return nil, err
		}
		return cs, nil
	}
	var out []*courier.Courier
	for i, id := range slices.Compact(slices.Sorted(slices.Values(req.CourierIDs))) {
		c, err := s.store.Courier(ctx, id)
		field := fmt.Sprintf("courier_ids[%d]", i)
		if courier.ErrorCode(err) == courier.ENOTFOUND {
			return nil, courier.FieldError(field, "courier %d does not exist", id)
		} else if err != nil {
			return nil, err
		}
		if !c.Active || c.DepotID != req.DepotID {
			return nil, courier.FieldError(field, "courier %d is not an active courier of depot %d", id, req.DepotID)
		}
		out = append(out, c)
	}
	return out, nil
}

// zoneMap returns the zones by id (all of them: an order's zone was decided
// when it was placed; the date only matters for dynamic zones' validity there).
func (s *Service) zoneMap(ctx context.Context, _ string) (map[int64]*courier.Zone, error) {
	zs, err := s.store.ListZones(ctx)
	if err != nil {
		return nil, err
	}
	m := map[int64]*courier.Zone{}
	for _, z := range zs {
		m[z.ID] = z
	}
	return m, nil
}

// runPlan solves a plan's problem, writing progress as it goes and the draft
// sheets at the end. It runs in the background, detached from the request,
// under the plan's lease: every progress write renews it, and a job that
// finds its lease lost (its plan was reaped as abandoned) stops and writes
// nothing more, so two replicas never run one plan.
func (s *Service) runPlan(planID int64, pp *planProblem, deadline time.Time, limit time.Duration) {
	ctx, cancel := context.WithCancel(s.bg)
	defer cancel()
	log := slog.With(slog.Int64("plan_id", planID))
	start := time.Now()
	_, err := s.store.UpdatePlan(ctx, planID, func(p *courier.Plan) error {
		if err := s.renewLease(p); err != nil {
			return err
		}
		p.Status = courier.PlanRunning
		return nil
	})
	if err != nil {
		log.Error("plan: mark running", slog.Any("err", err))
		return
	}
	var lost atomic.Bool
	// The best so far, written to the store once a second (a heartbeat even
	// without improvement, so a progress bar moves) by a ticker below.
	// The first solution is written at once (kick), not at the next tick.
	var mu sync.Mutex
	best := routing.Progress{Unassigned: len(pp.problem.Jobs)}
	kick := make(chan struct{}, 1)
	// The search stops a twentieth of the limit early, leaving time to
	// check and save the sheets.
	budget := max(time.Until(deadline)-limit/20, limit/10)
	opts := routing.Options{TimeLimit: budget, Seed: planID, Threads: s.solver.Threads, MaxIterations: s.solver.MaxIterations,
		Progress: func(pr routing.Progress) {
			mu.Lock()
			first := best.BestCost == 0
			best = pr
			mu.Unlock()
			if first {
				select {
				case kick <- struct{}{}:
				default:
				}
			}
		}}
	// firstStored opens once the first solution is in the store, or the
	// search has ended (see the problem's save below).
	firstStored := make(chan struct{})
	var firstOnce sync.Once
	openFirst := func() { firstOnce.Do(func() { close(firstStored) }) }
	stopBeat := make(chan struct{})
	beatDone := make(chan struct{})
	go func() {
		defer close(beatDone)
		defer openFirst()
		tick := time.NewTicker(min(progressEvery, s.solver.PlanLease/3)) // progress, and the lease renewed well before it ends
		defer tick.Stop()
		for {
			select {
			case <-stopBeat:
				return
			case <-tick.C:
			case <-kick:
			}
			mu.Lock()
			pr := best
			mu.Unlock()
			_, err := s.store.UpdatePlan(ctx, planID, func(p *courier.Plan) error {
				if err := s.renewLease(p); err != nil {
					return err
				}
				p.BestCost, p.Elapsed, p.UnassignedN = int64(pr.BestCost), time.Since(start), pr.Unassigned+len(pp.unassigned)
				return nil
			})
			if errors.Is(err, errLeaseLost) {
				log.Error("plan: lost its lease (reaped as abandoned); stopping", slog.Any("err", err))
				lost.Store(true)
				cancel()
				return
			}
			if err != nil && ctx.Err() == nil {
				log.Warn("plan: progress", slog.Any("err", err))
			}
			if err == nil && pr.BestCost > 0 {
				openFirst()
			}
		}
	}()
	if s.solver.MaxIterations > 0 {
		opts.TimeLimit = 0
	}
	// The problem is kept with the plan for offline replay. Encoded and
	// written beside the solver (tens of megabytes for a thousand orders),
	// it waits until the first solution is stored: started at once, its
	// encoding took the CPU the first solution needed and its write held
	// the store's only writer while the first progress waited
	// (BenchmarkPlan1000 at load 17: first plan stored after 2.2 to 9.4 s,
	// the solver's own first solution at 0.5 s). The plan ends after it.
	saved := make(chan error, 1)
	go func() {
		<-firstStored
		var buf bytes.Buffer
		err := routing.EncodeProblem(&buf, pp.problem)
		if err == nil {
			err = s.store.SetPlanProblem(context.WithoutCancel(ctx), planID, buf.Bytes())
		}
		saved <- err
	}()
	var sol *routing.Solution
	if len(pp.problem.Jobs) == 0 || len(pp.problem.Vehicles) == 0 {
		sol = &routing.Solution{}
		for j := range pp.problem.Jobs {
			sol.Unassigned = append(sol.Unassigned, routing.Unassigned{Job: j, Reason: "no_vehicle"})
		}
	} else {
		sol, err = routing.Solve(ctx, pp.problem, opts)
	}
	openFirst() // the problem is saved now if no solution was stored
	// The heartbeat keeps the lease until the sheets are saved.
	beating := true
	stopBeating := func() {
		if beating {
			beating = false
			close(stopBeat)
			<-beatDone
		}
	}
	defer stopBeating()
	if perr := <-saved; perr != nil {
		log.Warn("plan: the routing problem was not saved", slog.Any("err", perr))
	}
	if lost.Load() {
		return // reaped meanwhile: the plan is failed already and not ours
	}
	if err == nil {
		if v := routing.Check(pp.problem, sol); len(v) > 0 {
			err = fmt.Errorf("the optimizer returned an infeasible plan: %v", v[0])
		}
	}
	if err != nil {
		msg := "the optimizer failed: " + err.Error()
		if errors.Is(err, context.Canceled) {
			msg = "interrupted: the server stopped"
		}
		stopBeating()
		if lost.Load() {
			return
		}
		log.Error("plan failed", slog.Any("err", err))
		s.failPlan(planID, msg)
		return
	}
	sheets := pp.sheets(sol, pp.origin.Format(time.DateOnly))
	wctx := context.WithoutCancel(ctx)
	if err := s.store.ReplaceDraftSheets(wctx, planID, sheets); err != nil {
		log.Error("plan: write sheets", slog.Any("err", err))
		stopBeating()
		s.failPlan(planID, "could not save the route sheets")
		return
	}
	stopBeating()
	_, err = s.store.UpdatePlan(wctx, planID, func(p *courier.Plan) error {
		if err := s.renewLease(p); err != nil {
			return err
		}
		p.Status, p.BestCost, p.Elapsed = courier.PlanDone, int64(sol.Summary.Cost), time.Since(start)
		p.Unassigned = pp.unassignedOrders(sol)
		p.UnassignedN = len(p.Unassigned)
		return nil
	})
	if err != nil {
		log.Error("plan: mark done", slog.Any("err", err))
	}
}

// failPlan marks a plan this process runs failed, unless it lost the lease.
func (s *Service) failPlan(planID int64, msg string) {
	_, err := s.store.UpdatePlan(context.Background(), planID, func(p *courier.Plan) error {
		if err := s.renewLease(p); err != nil {
			return err
		}
		p.Status, p.Error = courier.PlanFailed, msg
		return nil
	})
	if err != nil {
		slog.Error("plan: mark failed", slog.Int64("plan_id", planID), slog.Any("err", err))
	}
}

// Plan returns a plan and its current route sheets to staff. A plan whose
// server died while running is reported failed. Returns EFORBIDDEN, ENOTFOUND.
func (s *Service) Plan(ctx context.Context, actor courier.Actor, id int64) (*courier.Plan, []*courier.RouteSheet, error) {
	if err := actor.Require(staff...); err != nil {
		return nil, nil, err
	}
	p, err := s.store.Plan(ctx, id)
	if err != nil {
		return nil, nil, err
	}
	if (p.Status == courier.PlanRunning || p.Status == courier.PlanQueued) && p.LeaseUntil.Before(time.Now()) {
		// Its replica died and no reaper ran since: reap now.
		if _, err := s.ReapPlans(ctx); err != nil {
			return nil, nil, err
		}
		if p, err = s.store.Plan(ctx, id); err != nil {
			return nil, nil, err
		}
	}
	sheets, err := s.store.ListSheets(ctx, courier.SheetFilter{PlanID: id,
		Statuses: []courier.SheetStatus{courier.SheetDraft, courier.SheetPublished, courier.SheetActive, courier.SheetCompleted}})
	if err != nil {
		return nil, nil, err
	}
	return p, sheets, nil
}

// ListPlans returns the plans of a date (of one depot unless depotID is 0),
// newest first, at most limit (1 to 50; 0 means 10): the console reads the
// latest plan's orders left out, and why, after a reload. Staff only.
// Returns EFORBIDDEN, EINVALID.
func (s *Service) ListPlans(ctx context.Context, actor courier.Actor, date string, depotID int64, limit int) ([]*courier.Plan, error) {
	if err := actor.Require(staff...); err != nil {
		return nil, err
	}
	if _, err := time.Parse(time.DateOnly, date); err != nil {
		return nil, courier.FieldError("date", "must be a date YYYY-MM-DD")
	}
	if limit == 0 {
		limit = 10
	}
	if limit < 1 || limit > 50 {
		return nil, courier.FieldError("limit", "must be within [1, 50]")
	}
	return s.store.ListPlans(ctx, date, depotID, limit)
}

// PlanProblem returns the routing problem of a plan in the routing JSON
// format, for offline replay with vrpsolve. Staff only.
func (s *Service) PlanProblem(ctx context.Context, actor courier.Actor, id int64) ([]byte, error) {
	if err := actor.Require(staff...); err != nil {
		return nil, err
	}
	problem, err := s.store.PlanProblem(ctx, id)
	if err != nil {
		return nil, err
	}
	if problem == nil {
		return nil, courier.Errorf(courier.ECONFLICT, "plan %d's problem is still being saved; try again in a moment", id)
	}
	return problem, nil
}
