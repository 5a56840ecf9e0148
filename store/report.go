package store

import (
	"cmp"
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

// quoteJSON is how a FeeQuote is kept in orders.fee_quote and
// stop_attempts.fee_quote: stable keys, independent of the Go field names.
type quoteJSON struct {
	Version    int64           `json:"version"`
	Components []componentJSON `json:"components"`
}

type componentJSON struct {
	Rule   string `json:"rule"`
	Amount int64  `json:"amount"`
	Detail string `json:"detail,omitempty"`
}

func encodeQuote(q *courier.FeeQuote) (any, error) {
	if q == nil {
		return nil, nil
	}
	j := quoteJSON{Version: q.TariffVersion, Components: make([]componentJSON, len(q.Components))}
	for i, c := range q.Components {
		j.Components[i] = componentJSON(c)
	}
	b, err := json.Marshal(j)
	if err != nil {
		return nil, fmt.Errorf("store: encode fee quote: %w", err)
	}
	return string(b), nil
}

func decodeQuote(s string) (*courier.FeeQuote, error) {
	if s == "" {
		return nil, nil
	}
	var j quoteJSON
	if err := json.Unmarshal([]byte(s), &j); err != nil {
		return nil, err
	}
	q := &courier.FeeQuote{TariffVersion: j.Version, Components: make([]courier.FeeComponent, len(j.Components))}
	for i, c := range j.Components {
		q.Components[i] = courier.FeeComponent(c)
	}
	return q, nil
}

// tariffJSON is how a Tariff's rules are kept in tariffs.rules.
type tariffJSON struct {
	BaseFee       int64            `json:"base_fee"`
	ZoneFees      []zoneFeeJSON    `json:"zone_fees,omitempty"`
	FreeKg        float64          `json:"free_kg"`
	PerKg         int64            `json:"per_kg"`
	PerKm         int64            `json:"per_km"`
	FreeAbove     int64            `json:"free_above"`
	NarrowWindows []windowCostJSON `json:"narrow_windows,omitempty"`
}

type zoneFeeJSON struct {
	ZoneID  int64 `json:"zone_id"`
	BaseFee int64 `json:"base_fee"`
}

type windowCostJSON struct {
	FromMinutes int   `json:"from_minutes"`
	ToMinutes   int   `json:"to_minutes"`
	Surcharge   int64 `json:"surcharge"`
}

func scanTariff(row rowScanner) (*courier.Tariff, error) {
	var (
		t     courier.Tariff
		rules string
	)
	if err := row.Scan(&t.Version, &rules, &t.CreatedBy, timeScan{&t.CreatedAt}); err != nil {
		return nil, err
	}
	var j tariffJSON
	if err := json.Unmarshal([]byte(rules), &j); err != nil {
		return nil, fmt.Errorf("tariff %d: %w", t.Version, err)
	}
	t.BaseFee, t.FreeKg, t.PerKg, t.PerKm, t.FreeAbove = j.BaseFee, j.FreeKg, j.PerKg, j.PerKm, j.FreeAbove
	for _, z := range j.ZoneFees {
		t.ZoneFees = append(t.ZoneFees, courier.ZoneFee(z))
	}
	for _, w := range j.NarrowWindows {
		t.NarrowWindows = append(t.NarrowWindows, courier.WindowSurcharge(w))
	}
	return &t, nil
}

// Tariffs returns every tariff version set through the API, by version.
func (s *DB) Tariffs(ctx context.Context) ([]*courier.Tariff, error) {
	return queryAll(ctx, s.rdb, "tariffs", scanTariff, `SELECT id, rules, created_by, created_at FROM tariffs ORDER BY id`)
}

// AddTariff stores t as the version after basedOn, setting Version and
// CreatedAt. Returns ECONFLICT when basedOn is not the latest version.
func (s *DB) AddTariff(ctx context.Context, t *courier.Tariff, basedOn int64) error {
	j := tariffJSON{BaseFee: t.BaseFee, FreeKg: t.FreeKg, PerKg: t.PerKg, PerKm: t.PerKm, FreeAbove: t.FreeAbove}
	for _, z := range t.ZoneFees {
		j.ZoneFees = append(j.ZoneFees, zoneFeeJSON(z))
	}
	for _, w := range t.NarrowWindows {
		j.NarrowWindows = append(j.NarrowWindows, windowCostJSON(w))
	}
	rules, err := json.Marshal(j)
	if err != nil {
		return fmt.Errorf("store: encode tariff: %w", err)
	}
	stale := func(latest int64) error {
		return &courier.Error{Code: courier.ECONFLICT, Message: fmt.Sprintf("the tariff changed: version %d is the latest, not %d; reload and retry", latest, basedOn),
			Details: map[string]any{"version": latest}}
	}
	now := s.now()
	err = s.inTx(ctx, func(tx *sql.Tx) error {
		var latest int64
		if err := tx.QueryRowContext(ctx, `SELECT COALESCE(MAX(id), 0) FROM tariffs`).Scan(&latest); err != nil {
			return fmt.Errorf("store: latest tariff: %w", err)
		}
		if latest != basedOn {
			return stale(latest)
		}
		// based_on is unique: of two admins who changed the same version
		// at once, the second fails here (SQLite serialises them before).
		err := tx.QueryRowContext(ctx, `INSERT INTO tariffs (based_on, rules, created_by, created_at) VALUES ($1, $2, $3, $4) RETURNING id`,
			basedOn, string(rules), t.CreatedBy, s.d.timeArg(now)).Scan(&t.Version)
		if s.d.violation(err) == uniqueViolation {
			return stale(basedOn + 1)
		} else if err != nil {
			return fmt.Errorf("store: insert tariff: %w", err)
		}
		return nil
	})
	if err != nil {
		t.Version = 0
		return err
	}
	t.CreatedAt = now
	return nil
}

const payRuleColumns = `id, COALESCE(courier_id, 0), vehicle_type, effective_from, currency, per_delivered, per_failed, per_km, per_kg,
	per_shift, min_per_shift, note, created_by, created_at`

func scanPayRule(row rowScanner) (*courier.PayRule, error) {
	var r courier.PayRule
	err := row.Scan(&r.ID, &r.CourierID, &r.VehicleType, &r.EffectiveFrom, &r.Currency, &r.PerDelivered, &r.PerFailed, &r.PerKm, &r.PerKg,
		&r.PerShift, &r.MinPerShift, &r.Note, &r.CreatedBy, timeScan{&r.CreatedAt})
	return &r, err
}

// PayRules returns every pay rule, by id.
func (s *DB) PayRules(ctx context.Context) ([]*courier.PayRule, error) {
	return queryAll(ctx, s.rdb, "pay rules", scanPayRule, `SELECT `+payRuleColumns+` FROM pay_rules ORDER BY id`)
}

// paidThrough locks the pay state and returns the last paid-out day ("" when none).
func (s *DB) paidThrough(ctx context.Context, tx *sql.Tx) (string, error) {
	var through string
	if err := tx.QueryRowContext(ctx, `SELECT paid_through FROM pay_state WHERE id = 1`+s.d.forUpdate).Scan(&through); err != nil {
		return "", fmt.Errorf("store: pay state: %w", err)
	}
	return through, nil
}

// AddPayRule stores r after check approves the last paid-out day, read
// under the lock that closing a pay period takes too.
func (s *DB) AddPayRule(ctx context.Context, r *courier.PayRule, check func(paidThrough string) error) error {
	now := s.now()
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		through, err := s.paidThrough(ctx, tx)
		if err != nil {
			return err
		}
		if err := check(through); err != nil {
			return err
		}
		err = tx.QueryRowContext(ctx, `INSERT INTO pay_rules (courier_id, vehicle_type, effective_from, currency, per_delivered, per_failed,
			per_km, per_kg, per_shift, min_per_shift, note, created_by, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)
			RETURNING id`, nullID(r.CourierID), r.VehicleType, r.EffectiveFrom, r.Currency, r.PerDelivered, r.PerFailed, r.PerKm, r.PerKg,
			r.PerShift, r.MinPerShift, r.Note, r.CreatedBy, s.d.timeArg(now)).Scan(&r.ID)
		if s.d.violation(err) == foreignKeyViolation {
			return &fkError{refs: []ref{{field: "courier_id", what: "courier", table: "couriers", id: r.CourierID}}}
		} else if err != nil {
			return fmt.Errorf("store: insert pay rule: %w", err)
		}
		return nil
	})
	if err != nil {
		r.ID = 0
		return s.resolve(ctx, err)
	}
	r.CreatedAt = now
	return nil
}

const payPeriodColumns = `id, date_from, date_to, note, closed_by, closed_at`

func scanPayPeriod(row rowScanner) (*courier.PayPeriod, error) {
	var p courier.PayPeriod
	err := row.Scan(&p.ID, &p.From, &p.To, &p.Note, &p.ClosedBy, timeScan{&p.ClosedAt})
	return &p, err
}

// PayPeriods returns the closed pay periods, by date.
func (s *DB) PayPeriods(ctx context.Context) ([]*courier.PayPeriod, error) {
	return queryAll(ctx, s.rdb, "pay periods", scanPayPeriod, `SELECT `+payPeriodColumns+` FROM pay_periods ORDER BY date_from`)
}

// ClosePayPeriod stores p after check approves it against the last closed
// period, under the pay state's lock, and moves the last paid-out day to p.To.
func (s *DB) ClosePayPeriod(ctx context.Context, p *courier.PayPeriod, check func(last *courier.PayPeriod) error) error {
	now := s.now()
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		if _, err := s.paidThrough(ctx, tx); err != nil {
			return err
		}
		last, err := scanPayPeriod(tx.QueryRowContext(ctx, `SELECT `+payPeriodColumns+` FROM pay_periods ORDER BY date_to DESC LIMIT 1`))
		if errors.Is(err, sql.ErrNoRows) {
			last = nil
		} else if err != nil {
			return fmt.Errorf("store: last pay period: %w", err)
		}
		if err := check(last); err != nil {
			return err
		}
		err = tx.QueryRowContext(ctx, `INSERT INTO pay_periods (date_from, date_to, note, closed_by, closed_at) VALUES ($1, $2, $3, $4, $5) RETURNING id`,
			p.From, p.To, p.Note, p.ClosedBy, s.d.timeArg(now)).Scan(&p.ID)
		if err != nil {
			return fmt.Errorf("store: insert pay period: %w", err)
		}
		if _, err := tx.ExecContext(ctx, `UPDATE pay_state SET paid_through = $1 WHERE id = 1`, p.To); err != nil {
			return fmt.Errorf("store: pay state: %w", err)
		}
		return nil
	})
	if err != nil {
		p.ID = 0
		return err
	}
	p.ClosedAt = now
	return nil
}

// insertAttempts records finished stop attempts (OrderID set) in tx, a few
// hundred in one statement: each one's number (after the order's earlier
// attempts) and the courier's vehicle come from the database; the orders
// are locked by the caller. It sets ID, Attempt and VehicleType.
func (s *DB) insertAttempts(ctx context.Context, tx *sql.Tx, as []*courier.StopAttempt) error {
	for start := 0; start < len(as); start += 200 {
		chunk := as[start:min(start+200, len(as))]
		var c conds
		rows := make([]string, len(chunk))
		before := map[int64]int{} // attempts of the order earlier in this statement
		for i, a := range chunk {
			quote, err := encodeQuote(a.Quote)
			if err != nil {
				return err
			}
			var from, to any
			if a.Window != nil {
				from, to = s.d.timeArg(utc(a.Window.From)), s.d.timeArg(utc(a.Window.To))
			}
			a.FinishedAt = utc(a.FinishedAt)
			var early, late any
			if e, l, ok := a.Timing(); ok {
				early, late = e, l
			}
			before[a.OrderID]++
			order, cid := c.arg(a.OrderID), c.arg(a.CourierID)
			rows[i] = fmt.Sprintf("(%s, (SELECT COUNT(*) + %d FROM stop_attempts WHERE order_id = %s), %s, COALESCE((SELECT vehicle_type FROM couriers WHERE id = %s), ''), %s)",
				order, before[a.OrderID], order, cid, cid, inList(&c, []any{a.ExternalID, nullID(a.SheetID), nullID(a.DepotID), nullID(a.ZoneID), a.Date,
					string(a.Outcome), a.FailReason, a.RefusedPieces, s.d.timeArg(a.FinishedAt), from, to, early, late, a.WeightG(), a.Currency, string(a.PaidBy),
					a.AmountDue, a.Collected, string(a.CollectedBy), a.Fee, quote}))
		}
		type made struct {
			id, order   int64
			attempt     int
			vehicleType string
		}
		got, err := queryAll(ctx, tx, "record stop attempts", func(row rowScanner) (made, error) {
			var m made
			err := row.Scan(&m.id, &m.order, &m.attempt, &m.vehicleType)
			return m, err
		}, `INSERT INTO stop_attempts (order_id, attempt, courier_id, vehicle_type, external_id, sheet_id, depot_id, zone_id, work_date, outcome,
			fail_reason, refused_pieces, finished_at, window_from, window_to, early_min, late_min, weight_g, currency, paid_by, amount_due, collected, collected_by,
			fee, fee_quote) VALUES `+strings.Join(rows, ", ")+` RETURNING id, order_id, attempt, vehicle_type`, c.args...)
		if err != nil {
			return err
		}
		// Back to the attempts: an order's rows in the order of their numbers.
		slices.SortFunc(got, func(a, b made) int { return cmp.Or(cmp.Compare(a.order, b.order), cmp.Compare(a.attempt, b.attempt)) })
		byOrder := map[int64][]made{}
		for _, m := range got {
			byOrder[m.order] = append(byOrder[m.order], m)
		}
		for _, a := range chunk {
			m := byOrder[a.OrderID][0]
			byOrder[a.OrderID] = byOrder[a.OrderID][1:]
			a.ID, a.Attempt, a.VehicleType = m.id, m.attempt, m.vehicleType
		}
	}
	return nil
}

const attemptColumns = `id, order_id, attempt, external_id, courier_id, vehicle_type, COALESCE(sheet_id, 0), COALESCE(depot_id, 0),
	COALESCE(zone_id, 0), work_date, outcome, fail_reason, refused_pieces, finished_at, window_from, window_to, weight_g, currency, paid_by,
	amount_due, collected, collected_by, fee, fee_quote`

// scanAttempts returns a scanner of attempts; quotes repeat (one tariff,
// a few zones, whole km and kg), so each distinct one is decoded once.
func scanAttempts() func(row rowScanner) (*courier.StopAttempt, error) {
	quotes := map[string]*courier.FeeQuote{}
	return func(row rowScanner) (*courier.StopAttempt, error) {
		var (
			a                          courier.StopAttempt
			outcome, paidBy, collected string
			from, to                   time.Time
			quote                      sql.NullString
			grams                      int64
		)
		if err := row.Scan(&a.ID, &a.OrderID, &a.Attempt, &a.ExternalID, &a.CourierID, &a.VehicleType, &a.SheetID, &a.DepotID, &a.ZoneID,
			&a.Date, &outcome, &a.FailReason, &a.RefusedPieces, timeScan{&a.FinishedAt}, timeScan{&from}, timeScan{&to}, &grams,
			&a.Currency, &paidBy, &a.AmountDue, &a.Collected, &collected, &a.Fee, &quote); err != nil {
			return nil, err
		}
		a.WeightKg = float64(grams) / 1000
		a.Outcome, a.PaidBy, a.CollectedBy = courier.OrderStatus(outcome), courier.PaymentMethod(paidBy), courier.PaymentMethod(collected)
		if !from.IsZero() || !to.IsZero() {
			a.Window = &courier.TimeWindow{From: from, To: to}
		}
		if quote.Valid {
			q, ok := quotes[quote.String]
			if !ok {
				var err error
				if q, err = decodeQuote(quote.String); err != nil {
					return nil, fmt.Errorf("attempt %d fee quote: %w", a.ID, err)
				}
				quotes[quote.String] = q
			}
			a.Quote = q
		}
		return &a, nil
	}
}

// dayConds selects rows whose date column lies in f's days, of f's courier.
func dayConds(f courier.ReportFilter, date, courierCol string) *conds {
	var c conds
	c.add(date + " >= " + c.arg(f.From))
	c.add(date + " <= " + c.arg(f.To))
	if f.CourierID != 0 {
		c.add(courierCol + " = " + c.arg(f.CourierID))
	}
	return &c
}

// StopAttempts returns the attempts of days in f, by date, courier and id.
func (s *DB) StopAttempts(ctx context.Context, f courier.ReportFilter) ([]*courier.StopAttempt, error) {
	c := dayConds(f, "work_date", "courier_id")
	cols := attemptColumns
	if !f.Fees {
		cols = strings.Replace(cols, "fee_quote", "NULL", 1)
	}
	return queryAll(ctx, s.rdb, "stop attempts", scanAttempts(),
		`SELECT `+cols+` FROM stop_attempts`+c.sql()+` ORDER BY work_date, courier_id, id`, c.args...)
}

// AttemptCells sums the attempts of days in f by day, courier, zone and currency.
func (s *DB) AttemptCells(ctx context.Context, f courier.ReportFilter) ([]courier.AttemptCell, error) {
	c := dayConds(f, "work_date", "courier_id")
	del := c.arg(string(courier.StatusDelivered))
	sum := func(expr string) string { return "CAST(COALESCE(SUM(" + expr + "), 0) AS BIGINT)" }
	when := func(cond, then string) string { return sum("CASE WHEN " + cond + " THEN " + then + " ELSE 0 END") }
	cols := []string{"work_date", "courier_id", "COALESCE(zone_id, 0)", "currency", "COUNT(*)",
		when("outcome = "+del, "1"),
		when("outcome = "+del+" AND refused_pieces > 0", "1"),
		when("outcome <> "+del+" AND fail_reason = "+c.arg(courier.FailHandedBack), "1"),
		sum("weight_g"),
		when("outcome = "+del, "weight_g"),
		when("collected_by = "+c.arg(string(courier.PayCash)), "collected"),
		when("collected_by = "+c.arg(string(courier.PayCard)), "collected"),
		when("early_min IS NOT NULL", "1"),
		when("early_min > 0", "1"), sum("early_min"),
		when("late_min > 0", "1"), sum("late_min"), "CAST(COALESCE(MAX(late_min), 0) AS BIGINT)",
		when("attempt = 1", "1"),
		when("attempt = 1 AND outcome = "+del, "1"),
	}
	return queryAll(ctx, s.rdb, "attempt cells", func(row rowScanner) (courier.AttemptCell, error) {
		var a courier.AttemptCell
		err := row.Scan(&a.Date, &a.CourierID, &a.ZoneID, &a.Currency, &a.Attempts, &a.Delivered, &a.Partial, &a.HandedBack, &a.CarriedG,
			&a.DeliveredG, &a.CashCollected, &a.CardCollected, &a.WithWindow, &a.Early, &a.EarlyMinutes, &a.Late, &a.LateMinutes,
			&a.MaxLateMinutes, &a.FirstAttempts, &a.FirstDelivered)
		return a, err
	}, `SELECT `+strings.Join(cols, ", ")+` FROM stop_attempts`+c.sql()+` GROUP BY work_date, courier_id, COALESCE(zone_id, 0), currency
		ORDER BY work_date, courier_id, COALESCE(zone_id, 0), currency`, c.args...)
}

// FailureReasons counts the failed attempts of days in f by day, courier,
// zone and reason (the outcome when no reason was given).
func (s *DB) FailureReasons(ctx context.Context, f courier.ReportFilter) ([]courier.ReasonCell, error) {
	r := dayConds(f, "work_date", "courier_id")
	r.add("outcome <> " + r.arg(string(courier.StatusDelivered)))
	return queryAll(ctx, s.rdb, "failure reasons", func(row rowScanner) (courier.ReasonCell, error) {
		var rc courier.ReasonCell
		err := row.Scan(&rc.Date, &rc.CourierID, &rc.ZoneID, &rc.Reason, &rc.N)
		return rc, err
	}, `SELECT work_date, courier_id, COALESCE(zone_id, 0), CASE WHEN fail_reason = '' THEN outcome ELSE fail_reason END, COUNT(*)
		FROM stop_attempts`+r.sql()+` GROUP BY work_date, courier_id, COALESCE(zone_id, 0), CASE WHEN fail_reason = '' THEN outcome ELSE fail_reason END
		ORDER BY 1, 2, 3, 4`, r.args...)
}

// SheetDays returns the published, active and completed route sheets of days in f.
func (s *DB) SheetDays(ctx context.Context, f courier.ReportFilter) ([]courier.SheetDay, error) {
	c := dayConds(f, "sheet_date", "courier_id")
	c.add("status IN (" + inList(c, []string{string(courier.SheetPublished), string(courier.SheetActive), string(courier.SheetCompleted)}) + ")")
	return queryAll(ctx, s.rdb, "sheet days", func(row rowScanner) (courier.SheetDay, error) {
		var (
			d      courier.SheetDay
			status string
		)
		err := row.Scan(&d.SheetID, &d.CourierID, &d.Date, &status, &d.Stops, &d.DistanceM)
		d.Status = courier.SheetStatus(status)
		return d, err
	}, `SELECT id, courier_id, sheet_date, status, `+s.d.jsonArrayLength+`(stops), distance_m FROM route_sheets`+c.sql()+
		` ORDER BY sheet_date, courier_id, id`, c.args...)
}

// ShiftDays returns the couriers' shifts started on days in f.
func (s *DB) ShiftDays(ctx context.Context, f courier.ReportFilter) ([]courier.ShiftDay, error) {
	c := dayConds(f, "shift_date", "courier_id")
	return queryAll(ctx, s.rdb, "shift days", func(row rowScanner) (courier.ShiftDay, error) {
		var (
			d      courier.ShiftDay
			ended  time.Time
			driven sql.NullInt64
		)
		if err := row.Scan(&d.ShiftID, &d.CourierID, &d.Date, timeScan{&d.StartedAt}, timeScan{&ended}, &driven); err != nil {
			return d, err
		}
		if !ended.IsZero() {
			d.EndedAt = &ended
		}
		if driven.Valid {
			d.DrivenM = &driven.Int64
		}
		return d, nil
	}, `SELECT id, courier_id, shift_date, started_at, ended_at, driven_m FROM courier_shifts`+c.sql()+` ORDER BY shift_date, courier_id, id`, c.args...)
}

// HandedIn sums the cash counted at the desk for sheets of days in f, per
// courier, sheet date and currency.
func (s *DB) HandedIn(ctx context.Context, f courier.ReportFilter) ([]courier.HandedIn, error) {
	c := dayConds(f, "r.sheet_date", "r.courier_id")
	return queryAll(ctx, s.rdb, "handed in", func(row rowScanner) (courier.HandedIn, error) {
		var h courier.HandedIn
		err := row.Scan(&h.CourierID, &h.Date, &h.Currency, &h.Amount)
		return h, err
	}, `SELECT r.courier_id, r.sheet_date, st.currency, SUM(st.counted) FROM cash_settlements st JOIN route_sheets r ON r.id = st.sheet_id`+
		c.sql()+` GROUP BY r.courier_id, r.sheet_date, st.currency ORDER BY r.sheet_date, r.courier_id, st.currency`, c.args...)
}

// SetShiftDriven records the distance of a shift's GPS track. Returns ENOTFOUND.
func (s *DB) SetShiftDriven(ctx context.Context, shiftID, meters int64) error {
	res, err := s.wdb.ExecContext(ctx, `UPDATE courier_shifts SET driven_m = $1 WHERE id = $2`, meters, shiftID)
	if err != nil {
		return fmt.Errorf("store: driven distance of shift %d: %w", shiftID, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return courier.Errorf(courier.ENOTFOUND, "shift %d not found", shiftID)
	}
	return nil
}
