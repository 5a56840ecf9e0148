package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	courier "github.com/courierhq/courier"
)

// planColumns leaves out the problem: it can be tens of megabytes, and
// progress is read and written every second while a plan runs.
const planColumns = `id, plan_date, depot_id, order_ids, courier_ids, time_limit_ms, status, error, best_cost,
	elapsed_ms, unassigned, unassigned_n, created_by, lease_owner, lease_until, version, created_at, updated_at`

type unassignedRow struct {
	OrderID int64  `json:"order_id"`
	Reason  string `json:"reason"`
}

func scanPlan(row rowScanner) (*courier.Plan, error) {
	var p courier.Plan
	var orders, couriers, unassigned string
	var limitMS, elapsedMS int64
	if err := row.Scan(&p.ID, &p.Date, &p.DepotID, &orders, &couriers, &limitMS, &p.Status, &p.Error, &p.BestCost,
		&elapsedMS, &unassigned, &p.UnassignedN, &p.CreatedBy, &p.LeaseOwner, timeScan{&p.LeaseUntil}, &p.Version, timeScan{&p.CreatedAt},
		timeScan{&p.UpdatedAt}); err != nil {
		return nil, err
	}
	p.TimeLimit, p.Elapsed = time.Duration(limitMS)*time.Millisecond, time.Duration(elapsedMS)*time.Millisecond
	var err error
	if p.OrderIDs, err = decodeIDs(orders); err != nil {
		return nil, fmt.Errorf("plan %d order_ids: %w", p.ID, err)
	}
	if p.CourierIDs, err = decodeIDs(couriers); err != nil {
		return nil, fmt.Errorf("plan %d courier_ids: %w", p.ID, err)
	}
	var rows []unassignedRow
	if err := json.Unmarshal([]byte(unassigned), &rows); err != nil {
		return nil, fmt.Errorf("plan %d unassigned: %w", p.ID, err)
	}
	p.Unassigned = make([]courier.UnassignedOrder, len(rows))
	for i, r := range rows {
		p.Unassigned[i] = courier.UnassignedOrder{OrderID: r.OrderID, Reason: r.Reason}
	}
	return &p, nil
}

func (s *DB) planArgs(p *courier.Plan) []any {
	rows := make([]unassignedRow, len(p.Unassigned))
	for i, u := range p.Unassigned {
		rows[i] = unassignedRow{OrderID: u.OrderID, Reason: u.Reason}
	}
	un, _ := json.Marshal(rows)
	return []any{p.Date, p.DepotID, encodeIDs(p.OrderIDs), encodeIDs(p.CourierIDs), p.TimeLimit.Milliseconds(), string(p.Status),
		p.Error, p.BestCost, p.Elapsed.Milliseconds(), string(un), p.UnassignedN, p.CreatedBy, p.LeaseOwner, s.d.timeArg(utc(p.LeaseUntil))}
}

// problemArg is a plan's problem as a column value (NULL when absent).
func problemArg(problem []byte) any {
	if len(problem) == 0 {
		return nil
	}
	return string(problem)
}

func planNotFound(id int64) error { return courier.Errorf(courier.ENOTFOUND, "plan %d not found", id) }

// CreatePlan inserts p and sets its ID, Version 1 and timestamps.
func (s *DB) CreatePlan(ctx context.Context, p *courier.Plan) error {
	now := s.now()
	p.LeaseUntil = utc(p.LeaseUntil)
	args := append(s.planArgs(p), problemArg(p.Problem), s.d.timeArg(now))
	err := s.write(ctx, func(q execer) error {
		return q.QueryRowContext(ctx, `INSERT INTO plans (plan_date, depot_id, order_ids, courier_ids, time_limit_ms, status,
		error, best_cost, elapsed_ms, unassigned, unassigned_n, created_by, lease_owner, lease_until, problem, version, created_at, updated_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, 1, $16, $16) RETURNING id`, args...).Scan(&p.ID)
	})
	if s.d.violation(err) == foreignKeyViolation {
		return courier.FieldError("depot_id", "depot %d does not exist", p.DepotID)
	} else if err != nil {
		return fmt.Errorf("store: insert plan: %w", err)
	}
	p.Version, p.CreatedAt, p.UpdatedAt = 1, now, now
	return nil
}

// Plan returns a plan by id. Returns ENOTFOUND.
func (s *DB) Plan(ctx context.Context, id int64) (*courier.Plan, error) {
	p, err := scanPlan(s.read(ctx).QueryRowContext(ctx, `SELECT `+planColumns+` FROM plans WHERE id = $1`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, planNotFound(id)
	} else if err != nil {
		return nil, fmt.Errorf("store: plan %d: %w", id, err)
	}
	return p, nil
}

// ListPlans returns the plans of a date (of one depot unless depotID is 0), newest first.
func (s *DB) ListPlans(ctx context.Context, date string, depotID int64, limit int) ([]*courier.Plan, error) {
	q, args := `SELECT `+planColumns+` FROM plans WHERE plan_date = $1`, []any{date}
	if depotID != 0 {
		q += ` AND depot_id = $2`
		args = append(args, depotID)
	}
	q += fmt.Sprintf(` ORDER BY id DESC LIMIT %d`, max(1, limit))
	rows, err := s.read(ctx).QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("store: list plans: %w", err)
	}
	defer rows.Close()
	var out []*courier.Plan
	for rows.Next() {
		p, err := scanPlan(rows)
		if err != nil {
			return nil, fmt.Errorf("store: list plans: %w", err)
		}
		out = append(out, p)
	}
	return out, rows.Err()
}

// UpdatePlan reads the plan, calls fn and writes it with Version+1 in one transaction.
func (s *DB) UpdatePlan(ctx context.Context, id int64, fn func(*courier.Plan) error) (*courier.Plan, error) {
	var p *courier.Plan
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		old, err := scanPlan(tx.QueryRowContext(ctx, `SELECT `+planColumns+` FROM plans WHERE id = $1`+s.d.forUpdate, id))
		if errors.Is(err, sql.ErrNoRows) {
			return planNotFound(id)
		} else if err != nil {
			return fmt.Errorf("store: read plan %d: %w", id, err)
		}
		p = old
		version, created := old.Version, old.CreatedAt
		if err := fn(p); err != nil {
			return err
		}
		p.ID, p.Version, p.CreatedAt, p.UpdatedAt = id, version+1, created, s.now()
		p.LeaseUntil = utc(p.LeaseUntil)
		args := append(s.planArgs(p), p.Version, s.d.timeArg(p.UpdatedAt), id)
		_, err = tx.ExecContext(ctx, `UPDATE plans SET plan_date = $1, depot_id = $2, order_ids = $3, courier_ids = $4,
			time_limit_ms = $5, status = $6, error = $7, best_cost = $8, elapsed_ms = $9, unassigned = $10, unassigned_n = $11,
			created_by = $12, lease_owner = $13, lease_until = $14, version = $15, updated_at = $16 WHERE id = $17`, args...)
		if err != nil {
			return fmt.Errorf("store: update plan %d: %w", id, err)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return p, nil
}

// ReapPlans marks failed, with reason, every queued or running plan whose
// lease ended before now (or that has none: it was started by a courierd
// without leases), and returns their ids. One statement: replicas reaping at
// once each fail a plan at most once between them.
func (s *DB) ReapPlans(ctx context.Context, now time.Time, reason string) ([]int64, error) {
	var ids []int64
	err := s.write(ctx, func(q execer) error {
		var err error
		ids, err = queryAll(ctx, q, "reap plans", func(r rowScanner) (int64, error) {
			var id int64
			return id, r.Scan(&id)
		}, `UPDATE plans SET status = $1, error = $2, version = version + 1, updated_at = $3
			WHERE status IN ($4, $5) AND (lease_until IS NULL OR lease_until < $6) RETURNING id`,
			string(courier.PlanFailed), reason, s.d.timeArg(s.now()), string(courier.PlanQueued), string(courier.PlanRunning), s.d.timeArg(utc(now)))
		return err
	})
	return ids, err
}

// SetPlanProblem stores the plan's routing problem. Returns ENOTFOUND.
func (s *DB) SetPlanProblem(ctx context.Context, id int64, problem []byte) error {
	return s.write(ctx, func(q execer) error {
		res, err := q.ExecContext(ctx, `UPDATE plans SET problem = $1 WHERE id = $2`, problemArg(problem), id)
		if err != nil {
			return fmt.Errorf("store: plan %d problem: %w", id, err)
		}
		if n, err := res.RowsAffected(); err != nil {
			return fmt.Errorf("store: plan %d problem: %w", id, err)
		} else if n == 0 {
			return planNotFound(id)
		}
		return nil
	})
}

// PlanProblem returns the plan's routing problem (nil until stored).
// Returns ENOTFOUND.
func (s *DB) PlanProblem(ctx context.Context, id int64) ([]byte, error) {
	var problem sql.NullString
	err := s.read(ctx).QueryRowContext(ctx, `SELECT problem FROM plans WHERE id = $1`, id).Scan(&problem)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, planNotFound(id)
	} else if err != nil {
		return nil, fmt.Errorf("store: plan %d problem: %w", id, err)
	}
	if !problem.Valid {
		return nil, nil
	}
	return []byte(problem.String), nil
}

const sheetColumns = `id, COALESCE(plan_id, 0), courier_id, depot_id, sheet_date, status, stops, distance_m, duration_s,
	starts_at, ends_at, version, published_at, started_at, created_at, updated_at, completed_at`

type stopRow struct {
	OrderID int64     `json:"order_id"`
	Seq     int       `json:"seq"`
	ETA     time.Time `json:"eta"`
	ETAFrom time.Time `json:"eta_from"`
	ETATo   time.Time `json:"eta_to"`
	Locked  bool      `json:"locked,omitempty"`
	Done    bool      `json:"done,omitempty"`
}

func scanSheet(row rowScanner) (*courier.RouteSheet, error) {
	var sh courier.RouteSheet
	var stops string
	var published, started, completed time.Time
	if err := row.Scan(&sh.ID, &sh.PlanID, &sh.CourierID, &sh.DepotID, &sh.Date, &sh.Status, &stops, &sh.DistanceM,
		&sh.DurationS, timeScan{&sh.Start}, timeScan{&sh.End}, &sh.Version, timeScan{&published}, timeScan{&started},
		timeScan{&sh.CreatedAt}, timeScan{&sh.UpdatedAt}, timeScan{&completed}); err != nil {
		return nil, err
	}
	var rows []stopRow
	if err := json.Unmarshal([]byte(stops), &rows); err != nil {
		return nil, fmt.Errorf("sheet %d stops: %w", sh.ID, err)
	}
	sh.Stops = make([]courier.SheetStop, len(rows))
	for i, r := range rows {
		sh.Stops[i] = courier.SheetStop{OrderID: r.OrderID, Seq: r.Seq, ETA: r.ETA.UTC(), ETAFrom: r.ETAFrom.UTC(), ETATo: r.ETATo.UTC(),
			Locked: r.Locked, Done: r.Done}
	}
	if !published.IsZero() {
		sh.PublishedAt = &published
	}
	if !started.IsZero() {
		sh.StartedAt = &started
	}
	if !completed.IsZero() {
		sh.CompletedAt = &completed
	}
	sh.Number = courier.SheetNumber(sh.ID)
	return &sh, nil
}

func (s *DB) sheetArgs(sh *courier.RouteSheet) []any {
	rows := make([]stopRow, len(sh.Stops))
	for i, st := range sh.Stops {
		rows[i] = stopRow{OrderID: st.OrderID, Seq: st.Seq, ETA: st.ETA.UTC(), ETAFrom: st.ETAFrom.UTC(), ETATo: st.ETATo.UTC(),
			Locked: st.Locked, Done: st.Done}
	}
	b, _ := json.Marshal(rows)
	opt := func(t *time.Time) any {
		if t == nil {
			return nil
		}
		return s.d.timeArg(*t)
	}
	return []any{nullID(sh.PlanID), sh.CourierID, sh.DepotID, sh.Date, string(sh.Status), string(b), sh.DistanceM, sh.DurationS,
		s.d.timeArg(sh.Start), s.d.timeArg(sh.End), opt(sh.PublishedAt), opt(sh.StartedAt), opt(sh.CompletedAt)}
}

// updateSheet writes sh, read under lock in tx, as Version+1.
func (s *DB) updateSheet(ctx context.Context, tx *sql.Tx, sh *courier.RouteSheet, now time.Time) error {
	s.touch(tx, false, sh.CourierID)
	sh.Version, sh.UpdatedAt = sh.Version+1, now
	args := append(s.sheetArgs(sh), sh.Version, s.d.timeArg(now), sh.ID)
	if _, err := tx.ExecContext(ctx, `UPDATE route_sheets SET plan_id = $1, courier_id = $2, depot_id = $3,
		sheet_date = $4, status = $5, stops = $6, distance_m = $7, duration_s = $8, starts_at = $9, ends_at = $10,
		published_at = $11, started_at = $12, completed_at = $13, version = $14, updated_at = $15 WHERE id = $16`, args...); err != nil {
		return fmt.Errorf("store: update sheet %d: %w", sh.ID, err)
	}
	return nil
}

func sheetNotFound(id int64) error {
	return courier.Errorf(courier.ENOTFOUND, "route sheet %d not found", id)
}

// ReplaceDraftSheets discards the plan's draft sheets and inserts sheets as its drafts.
func (s *DB) ReplaceDraftSheets(ctx context.Context, planID int64, sheets []*courier.RouteSheet) error {
	return s.inTx(ctx, func(tx *sql.Tx) error {
		now := s.now()
		if _, err := tx.ExecContext(ctx, `UPDATE route_sheets SET status = $1, version = version + 1, updated_at = $2
			WHERE plan_id = $3 AND status = $4`, string(courier.SheetDiscarded), s.d.timeArg(now), planID, string(courier.SheetDraft)); err != nil {
			return fmt.Errorf("store: discard drafts of plan %d: %w", planID, err)
		}
		for _, sh := range sheets {
			sh.PlanID, sh.Status = planID, courier.SheetDraft
			args := append(s.sheetArgs(sh), s.d.timeArg(now))
			err := tx.QueryRowContext(ctx, `INSERT INTO route_sheets (plan_id, courier_id, depot_id, sheet_date, status, stops,
				distance_m, duration_s, starts_at, ends_at, published_at, started_at, completed_at, version, created_at, updated_at)
				VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, 1, $14, $14) RETURNING id`, args...).Scan(&sh.ID)
			if s.d.violation(err) == foreignKeyViolation {
				return courier.FieldError("courier_id", "courier %d or depot %d does not exist", sh.CourierID, sh.DepotID)
			} else if err != nil {
				return fmt.Errorf("store: insert sheet: %w", err)
			}
			sh.Number, sh.Version, sh.CreatedAt, sh.UpdatedAt = courier.SheetNumber(sh.ID), 1, now, now
		}
		return nil
	})
}

// Sheet returns a route sheet by id. Returns ENOTFOUND.
func (s *DB) Sheet(ctx context.Context, id int64) (*courier.RouteSheet, error) {
	sh, err := scanSheet(s.read(ctx).QueryRowContext(ctx, `SELECT `+sheetColumns+` FROM route_sheets WHERE id = $1`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, sheetNotFound(id)
	} else if err != nil {
		return nil, fmt.Errorf("store: sheet %d: %w", id, err)
	}
	return sh, nil
}

// ListSheets returns the sheets matching f, ordered by id.
func (s *DB) ListSheets(ctx context.Context, f courier.SheetFilter) ([]*courier.RouteSheet, error) {
	var c conds
	if f.PlanID != 0 {
		c.add("plan_id = " + c.arg(f.PlanID))
	}
	if f.CourierID != 0 {
		c.add("courier_id = " + c.arg(f.CourierID))
	}
	if f.Date != "" {
		c.add("sheet_date = " + c.arg(f.Date))
	}
	if len(f.Statuses) > 0 {
		var in []string
		for _, st := range f.Statuses {
			in = append(in, c.arg(string(st)))
		}
		c.add("status IN (" + strings.Join(in, ", ") + ")")
	}
	q := `SELECT ` + sheetColumns + ` FROM route_sheets` + c.sql()
	return queryAll(ctx, s.read(ctx), "list sheets", scanSheet, q+" ORDER BY id", c.args...)
}

// UpdateSheets locks the sheets and orders (each in id order), calls fn and
// writes every sheet and each order fn returned events for, in one transaction.
func (s *DB) UpdateSheets(ctx context.Context, sheetIDs, orderIDs []int64, fn func([]*courier.RouteSheet, map[int64]*courier.Order) ([]courier.OrderEvent, error)) ([]*courier.RouteSheet, error) {
	sheetIDs, orderIDs = sortedUnique(sheetIDs), sortedUnique(orderIDs)
	var sheets []*courier.RouteSheet
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		sheets = sheets[:0]
		for _, id := range sheetIDs {
			sh, err := scanSheet(tx.QueryRowContext(ctx, `SELECT `+sheetColumns+` FROM route_sheets WHERE id = $1`+s.d.forUpdate, id))
			if errors.Is(err, sql.ErrNoRows) {
				return sheetNotFound(id)
			} else if err != nil {
				return fmt.Errorf("store: read sheet %d: %w", id, err)
			}
			s.touch(tx, false, sh.CourierID) // fn may give the sheet to another
			sheets = append(sheets, sh)
		}
		orders := map[int64]*courier.Order{}
		for _, id := range orderIDs {
			o, err := scanOrder(tx.QueryRowContext(ctx, `SELECT `+orderColumns+` FROM orders WHERE id = $1`+s.d.forUpdate, id))
			if errors.Is(err, sql.ErrNoRows) {
				return orderNotFound(id)
			} else if err != nil {
				return fmt.Errorf("store: read order %d: %w", id, err)
			}
			orders[id] = o
		}
		before := map[int64][2]any{} // sheet id -> version, created
		for _, sh := range sheets {
			before[sh.ID] = [2]any{sh.Version, sh.CreatedAt}
		}
		events, err := fn(sheets, orders)
		if err != nil {
			return err
		}
		now := s.now()
		for _, sh := range sheets {
			b := before[sh.ID]
			sh.Version, sh.CreatedAt = b[0].(int64), b[1].(time.Time)
			if err := s.updateSheet(ctx, tx, sh, now); err != nil {
				return err
			}
		}
		byOrder := map[int64][]courier.OrderEvent{}
		for _, ev := range events {
			byOrder[ev.OrderID] = append(byOrder[ev.OrderID], ev)
		}
		for _, id := range orderIDs {
			evs := byOrder[id]
			if len(evs) == 0 {
				continue
			}
			if err := s.writeOrder(ctx, tx, orders[id], evs, now); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, s.resolve(ctx, err)
	}
	return sheets, nil
}

func sortedUnique(ids []int64) []int64 {
	out := slices.Clone(ids)
	slices.Sort(out)
	return slices.Compact(out)
}
