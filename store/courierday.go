package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	courier "github.com/courierhq/courier"
)

// addressDetailsJSON is how AddressDetails are kept in orders.address_details.
type addressDetailsJSON struct {
	Entrance  string `json:"entrance,omitempty"`
	Floor     string `json:"floor,omitempty"`
	Apartment string `json:"apartment,omitempty"`
	Intercom  string `json:"intercom,omitempty"`
	Comment   string `json:"comment,omitempty"`
}

func encodeAddressDetails(a courier.AddressDetails) (any, error) {
	if a.IsZero() {
		return nil, nil
	}
	b, err := json.Marshal(addressDetailsJSON(a))
	if err != nil {
		return nil, fmt.Errorf("store: encode address details: %w", err)
	}
	return string(b), nil
}

func decodeAddressDetails(s string) (courier.AddressDetails, error) {
	if s == "" {
		return courier.AddressDetails{}, nil
	}
	var a addressDetailsJSON
	if err := json.Unmarshal([]byte(s), &a); err != nil {
		return courier.AddressDetails{}, err
	}
	return courier.AddressDetails(a), nil
}

// reportJSON is how a StopReport is kept in orders.stop_report: stable keys,
// independent of the Go field names.
type reportJSON struct {
	ArrivedAt   *time.Time        `json:"arrived_at,omitempty"`
	FinishedAt  *time.Time        `json:"finished_at,omitempty"`
	Position    *[2]float64       `json:"position,omitempty"` // lat, lng
	Recipient   string            `json:"recipient,omitempty"`
	AmountDue   int64             `json:"amount_due"`
	Collected   int64             `json:"collected"`
	CollectedBy string            `json:"collected_by,omitempty"`
	PaymentRef  string            `json:"payment_ref,omitempty"`
	Refused     []refusedItemJSON `json:"refused,omitempty"`
	ProofIDs    []string          `json:"proof_ids,omitempty"`
	FailReason  string            `json:"fail_reason,omitempty"`
	FailComment string            `json:"fail_comment,omitempty"`
	WishedDate  string            `json:"wished_date,omitempty"`
}

type refusedItemJSON struct {
	Item int `json:"item"`
	Qty  int `json:"qty"`
}

func encodeReport(r *courier.StopReport) (any, error) {
	if r == nil {
		return nil, nil
	}
	j := reportJSON{ArrivedAt: r.ArrivedAt, FinishedAt: r.FinishedAt, Recipient: r.Recipient, AmountDue: r.AmountDue,
		Collected: r.Collected, CollectedBy: string(r.CollectedBy), PaymentRef: r.PaymentRef, ProofIDs: r.ProofIDs,
		FailReason: r.FailReason, FailComment: r.FailComment, WishedDate: r.WishedDate}
	if r.Position != nil {
		j.Position = &[2]float64{r.Position.Lat, r.Position.Lng}
	}
	for _, it := range r.Refused {
		j.Refused = append(j.Refused, refusedItemJSON(it))
	}
	b, err := json.Marshal(j)
	if err != nil {
		return nil, fmt.Errorf("store: encode stop report: %w", err)
	}
	return string(b), nil
}

func decodeReport(s string) (*courier.StopReport, error) {
	if s == "" {
		return nil, nil
	}
	var j reportJSON
	if err := json.Unmarshal([]byte(s), &j); err != nil {
		return nil, err
	}
	r := &courier.StopReport{ArrivedAt: j.ArrivedAt, FinishedAt: j.FinishedAt, Recipient: j.Recipient, AmountDue: j.AmountDue,
		Collected: j.Collected, CollectedBy: courier.PaymentMethod(j.CollectedBy), PaymentRef: j.PaymentRef, ProofIDs: j.ProofIDs,
		FailReason: j.FailReason, FailComment: j.FailComment, WishedDate: j.WishedDate}
	for _, t := range []*time.Time{r.ArrivedAt, r.FinishedAt} {
		if t != nil {
			*t = t.UTC()
		}
	}
	if j.Position != nil {
		r.Position = &courier.LatLng{Lat: j.Position[0], Lng: j.Position[1]}
	}
	for _, it := range j.Refused {
		r.Refused = append(r.Refused, courier.RefusedItem(it))
	}
	return r, nil
}

// latLngArgs returns a position as two nullable query arguments.
func latLngArgs(p *courier.LatLng) (lat, lng any) {
	if p == nil {
		return nil, nil
	}
	return p.Lat, p.Lng
}

// latLngOf makes a position of two nullable columns.
func latLngOf(lat, lng sql.NullFloat64) *courier.LatLng {
	if !lat.Valid || !lng.Valid {
		return nil
	}
	return &courier.LatLng{Lat: lat.Float64, Lng: lng.Float64}
}

const courierShiftColumns = `id, courier_id, shift_date, started_at, start_lat, start_lng, ended_at, end_lat, end_lng, version, created_at, updated_at`

func scanCourierShift(row rowScanner) (*courier.CourierShift, error) {
	var (
		sh                     courier.CourierShift
		slat, slng, elat, elng sql.NullFloat64
		ended                  time.Time
	)
	if err := row.Scan(&sh.ID, &sh.CourierID, &sh.Date, timeScan{&sh.StartedAt}, &slat, &slng, timeScan{&ended}, &elat, &elng,
		&sh.Version, timeScan{&sh.CreatedAt}, timeScan{&sh.UpdatedAt}); err != nil {
		return nil, err
	}
	sh.StartPos, sh.EndPos = latLngOf(slat, slng), latLngOf(elat, elng)
	if !ended.IsZero() {
		sh.EndedAt = &ended
	}
	return &sh, nil
}

// CourierShifts returns the courier's shifts started on date, by id.
func (s *DB) CourierShifts(ctx context.Context, courierID int64, date string) ([]*courier.CourierShift, error) {
	return queryAll(ctx, s.rdb, "courier shifts", scanCourierShift,
		`SELECT `+courierShiftColumns+` FROM courier_shifts WHERE courier_id = $1 AND shift_date = $2 ORDER BY id`, courierID, date)
}

// OpenCourierShift returns the courier's open shift. Returns ENOTFOUND.
func (s *DB) OpenCourierShift(ctx context.Context, courierID int64) (*courier.CourierShift, error) {
	sh, err := scanCourierShift(s.rdb.QueryRowContext(ctx, `SELECT `+courierShiftColumns+` FROM courier_shifts WHERE courier_id = $1 AND ended_at IS NULL`, courierID))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, courier.Errorf(courier.ENOTFOUND, "courier %d has no open shift", courierID)
	} else if err != nil {
		return nil, fmt.Errorf("store: open shift of courier %d: %w", courierID, err)
	}
	return sh, nil
}

const courierEventColumns = `id, courier_id, client_event_id, action, COALESCE(order_id, 0), COALESCE(sheet_id, 0), at, lat, lng,
	request_hash, payload, outcome, result, received_at`

func scanCourierEvent(row rowScanner) (*courier.CourierEvent, error) {
	var (
		ev              courier.CourierEvent
		action          string
		lat, lng        sql.NullFloat64
		payload, result string
	)
	if err := row.Scan(&ev.ID, &ev.CourierID, &ev.ClientEventID, &action, &ev.OrderID, &ev.SheetID, timeScan{&ev.At}, &lat, &lng,
		&ev.RequestHash, &payload, &ev.Outcome, &result, timeScan{&ev.ReceivedAt}); err != nil {
		return nil, err
	}
	ev.Action, ev.Position = courier.CourierAction(action), latLngOf(lat, lng)
	ev.Payload, ev.Result = []byte(payload), []byte(result)
	return &ev, nil
}

// CourierEventsOf returns events matching f, by id.
func (s *DB) CourierEventsOf(ctx context.Context, f courier.CourierEventFilter) ([]*courier.CourierEvent, error) {
	var c conds
	if f.CourierID != 0 {
		c.add("courier_id = " + c.arg(f.CourierID))
	}
	if f.OrderID != 0 {
		c.add("order_id = " + c.arg(f.OrderID))
	}
	if f.Outcome != "" {
		c.add("outcome = " + c.arg(f.Outcome))
	}
	if !f.From.IsZero() {
		c.add("at >= " + c.arg(s.d.timeArg(utc(f.From))))
	}
	if !f.To.IsZero() {
		c.add("at < " + c.arg(s.d.timeArg(utc(f.To))))
	}
	return queryAll(ctx, s.rdb, "courier events", scanCourierEvent, `SELECT `+courierEventColumns+` FROM courier_events`+c.sql()+` ORDER BY id`, c.args...)
}

const proofColumns = `id, order_id, COALESCE(courier_id, 0), kind, content_type, size, sha256, uploaded_by, created_at`

func scanProof(row rowScanner) (*courier.Proof, error) {
	var p courier.Proof
	if err := row.Scan(&p.ID, &p.OrderID, &p.CourierID, &p.Kind, &p.ContentType, &p.Size, &p.SHA256, &p.UploadedBy, timeScan{&p.CreatedAt}); err != nil {
		return nil, err
	}
	return &p, nil
}

// AddProof stores a proof, setting CreatedAt. A proof with the same ID and
// digest is returned as stored (a retried upload); another digest is ECONFLICT.
func (s *DB) AddProof(ctx context.Context, p *courier.Proof) (*courier.Proof, error) {
	var out *courier.Proof
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		old, err := scanProof(tx.QueryRowContext(ctx, `SELECT `+proofColumns+` FROM proofs WHERE id = $1`, p.ID))
		if err == nil {
			if old.SHA256 != p.SHA256 || old.OrderID != p.OrderID {
				return &courier.Error{Code: courier.ECONFLICT, Message: "proof " + p.ID + " was uploaded before with other content; make a new id",
					Details: map[string]any{"field": "proof_id"}}
			}
			out = old
			return nil
		} else if !errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("store: read proof %s: %w", p.ID, err)
		}
		now := s.now()
		_, err = tx.ExecContext(ctx, `INSERT INTO proofs (id, order_id, courier_id, kind, content_type, size, sha256, data, uploaded_by, created_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`, p.ID, p.OrderID, nullID(p.CourierID), p.Kind, p.ContentType,
			int64(len(p.Data)), p.SHA256, p.Data, p.UploadedBy, s.d.timeArg(now))
		if err != nil {
			return fmt.Errorf("store: insert proof %s: %w", p.ID, err)
		}
		cp := *p
		cp.Size, cp.CreatedAt, cp.Data = int64(len(p.Data)), now, nil
		out = &cp
		return nil
	})
	if err != nil {
		return nil, s.resolve(ctx, err)
	}
	return out, nil
}

// Proof returns a proof with its data. Returns ENOTFOUND.
func (s *DB) Proof(ctx context.Context, id string) (*courier.Proof, error) {
	var data []byte
	p, err := scanProof(scanTail{s.rdb.QueryRowContext(ctx, `SELECT `+proofColumns+`, data FROM proofs WHERE id = $1`, id), &data})
	if errors.Is(err, sql.ErrNoRows) {
		return nil, courier.Errorf(courier.ENOTFOUND, "proof %s not found", id)
	} else if err != nil {
		return nil, fmt.Errorf("store: proof %s: %w", id, err)
	}
	p.Data = data
	return p, nil
}

// scanTail scans the row's columns into a scanner's destinations and then tail.
type scanTail struct {
	row  rowScanner
	tail any
}

func (s scanTail) Scan(dest ...any) error { return s.row.Scan(append(dest, s.tail)...) }

// Proofs returns an order's proofs without their data, by creation.
func (s *DB) Proofs(ctx context.Context, orderID int64) ([]*courier.Proof, error) {
	return s.proofs(ctx, s.rdb, orderID)
}

func (s *DB) proofs(ctx context.Context, q querier, orderID int64) ([]*courier.Proof, error) {
	return queryAll(ctx, q, "proofs", scanProof, `SELECT `+proofColumns+` FROM proofs WHERE order_id = $1 ORDER BY created_at, id`, orderID)
}

// StopCounts counts the orders on each of the sheets by status.
func (s *DB) StopCounts(ctx context.Context, sheetIDs []int64) ([]courier.StopCount, error) {
	if len(sheetIDs) == 0 {
		return nil, nil
	}
	var c conds
	in := make([]string, len(sheetIDs))
	for i, id := range sheetIDs {
		in[i] = c.arg(id)
	}
	return queryAll(ctx, s.rdb, "stop counts", func(row rowScanner) (courier.StopCount, error) {
		var sc courier.StopCount
		var status string
		err := row.Scan(&sc.SheetID, &status, &sc.N)
		sc.Status = courier.OrderStatus(status)
		return sc, err
	}, `SELECT route_sheet_id, status, COUNT(*) FROM orders WHERE route_sheet_id IN (`+strings.Join(in, ", ")+`)
		GROUP BY route_sheet_id, status ORDER BY route_sheet_id, status`, c.args...)
}

// CourierDay runs fn in one write transaction.
func (s *DB) CourierDay(ctx context.Context, fn func(tx courier.CourierTx) error) error {
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		return fn(&courierTx{s: s, ctx: ctx, tx: tx, now: s.now()})
	})
	if err != nil {
		return s.resolve(ctx, err)
	}
	return nil
}

// courierTx implements courier.CourierTx over one database transaction.
type courierTx struct {
	s    *DB
	ctx  context.Context
	tx   *sql.Tx
	now  time.Time
	save int // savepoints made
}

var _ courier.CourierTx = (*courierTx)(nil)

func (t *courierTx) Step(fn func() error) error {
	t.save++
	name := "step_" + strconv.Itoa(t.save)
	if _, err := t.tx.ExecContext(t.ctx, "SAVEPOINT "+name); err != nil {
		return fmt.Errorf("store: savepoint: %w", err)
	}
	if err := fn(); err != nil {
		if _, rerr := t.tx.ExecContext(t.ctx, "ROLLBACK TO SAVEPOINT "+name); rerr != nil {
			return errors.Join(err, fmt.Errorf("store: rollback to savepoint: %w", rerr))
		}
		return err
	}
	if _, err := t.tx.ExecContext(t.ctx, "RELEASE SAVEPOINT "+name); err != nil {
		return fmt.Errorf("store: release savepoint: %w", err)
	}
	return nil
}

func (t *courierTx) Events(courierID int64, clientIDs []string) (map[string]*courier.CourierEvent, error) {
	out := map[string]*courier.CourierEvent{}
	for len(clientIDs) > 0 {
		n := min(len(clientIDs), 500)
		var c conds
		c.add("courier_id = " + c.arg(courierID))
		in := make([]string, n)
		for i, id := range clientIDs[:n] {
			in[i] = c.arg(id)
		}
		c.add("client_event_id IN (" + strings.Join(in, ", ") + ")")
		evs, err := queryAll(t.ctx, t.tx, "courier events", scanCourierEvent, `SELECT `+courierEventColumns+` FROM courier_events`+c.sql(), c.args...)
		if err != nil {
			return nil, err
		}
		for _, ev := range evs {
			out[ev.ClientEventID] = ev
		}
		clientIDs = clientIDs[n:]
	}
	return out, nil
}

func (t *courierTx) RecordEvent(ev *courier.CourierEvent) error {
	lat, lng := latLngArgs(ev.Position)
	ev.ReceivedAt = t.now
	err := t.tx.QueryRowContext(t.ctx, `INSERT INTO courier_events (courier_id, client_event_id, action, order_id, sheet_id, at, lat, lng,
		request_hash, payload, outcome, result, received_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13) RETURNING id`,
		ev.CourierID, ev.ClientEventID, string(ev.Action), nullID(ev.OrderID), nullID(ev.SheetID), t.s.d.timeArg(utc(ev.At)), lat, lng,
		ev.RequestHash, string(ev.Payload), ev.Outcome, string(ev.Result), t.s.d.timeArg(t.now)).Scan(&ev.ID)
	if t.s.d.violation(err) == uniqueViolation {
		return courier.Errorf(courier.ECONFLICT, "event %s was recorded already", ev.ClientEventID)
	} else if err != nil {
		return fmt.Errorf("store: record courier event: %w", err)
	}
	return nil
}

func (t *courierTx) sheet(id int64) (*courier.RouteSheet, error) {
	sh, err := scanSheet(t.tx.QueryRowContext(t.ctx, `SELECT `+sheetColumns+` FROM route_sheets WHERE id = $1`+t.s.d.forUpdate, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, sheetNotFound(id)
	} else if err != nil {
		return nil, fmt.Errorf("store: read sheet %d: %w", id, err)
	}
	return sh, nil
}

func (t *courierTx) order(id int64, lock bool) (*courier.Order, error) {
	q := `SELECT ` + orderColumns + ` FROM orders WHERE id = $1`
	if lock {
		q += t.s.d.forUpdate
	}
	o, err := scanOrder(t.tx.QueryRowContext(t.ctx, q, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, orderNotFound(id)
	} else if err != nil {
		return nil, fmt.Errorf("store: read order %d: %w", id, err)
	}
	return o, nil
}

func (t *courierTx) Stop(orderID int64) (*courier.RouteSheet, *courier.Order, error) {
	for try := 0; ; try++ {
		peek, err := t.order(orderID, false)
		if err != nil {
			return nil, nil, err
		}
		var sh *courier.RouteSheet
		if peek.RouteSheetID != 0 {
			if sh, err = t.sheet(peek.RouteSheetID); err != nil {
				return nil, nil, err
			}
		}
		o, err := t.order(orderID, true)
		if err != nil {
			return nil, nil, err
		}
		// The order moved to another sheet between the two reads: lock again.
		if o.RouteSheetID == peek.RouteSheetID || try == 3 {
			if o.RouteSheetID != peek.RouteSheetID {
				sh = nil
			}
			return sh, o, nil
		}
	}
}

func (t *courierTx) Sheets(courierID int64, date string, statuses ...courier.SheetStatus) ([]*courier.RouteSheet, error) {
	var c conds
	c.add("courier_id = " + c.arg(courierID))
	if date != "" {
		c.add("sheet_date = " + c.arg(date))
	}
	if len(statuses) > 0 {
		in := make([]string, len(statuses))
		for i, st := range statuses {
			in[i] = c.arg(string(st))
		}
		c.add("status IN (" + strings.Join(in, ", ") + ")")
	}
	return queryAll(t.ctx, t.tx, "courier sheets", scanSheet, `SELECT `+sheetColumns+` FROM route_sheets`+c.sql()+` ORDER BY id`+t.s.d.forUpdate, c.args...)
}

func (t *courierTx) Orders(ids []int64) (map[int64]*courier.Order, error) {
	out := map[int64]*courier.Order{}
	for _, id := range sortedUnique(ids) {
		o, err := t.order(id, true)
		if err != nil {
			return nil, err
		}
		out[id] = o
	}
	return out, nil
}

func (t *courierTx) OpenStops(sheetID int64) (int, error) {
	var n int
	err := t.tx.QueryRowContext(t.ctx, `SELECT COUNT(*) FROM orders WHERE route_sheet_id = $1 AND status NOT IN ($2, $3, $4, $5, $6)`, sheetID,
		string(courier.StatusDelivered), string(courier.StatusFailedAttempt), string(courier.StatusRefused),
		string(courier.StatusReturnedToDepot), string(courier.StatusCancelled)).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("store: open stops of sheet %d: %w", sheetID, err)
	}
	return n, nil
}

func (t *courierTx) WriteSheet(sh *courier.RouteSheet) error {
	return t.s.updateSheet(t.ctx, t.tx, sh, t.now)
}

func (t *courierTx) WriteOrder(o *courier.Order, events []courier.OrderEvent) error {
	return t.s.writeOrder(t.ctx, t.tx, o, events, t.now)
}

func (t *courierTx) OpenShift(courierID int64) (*courier.CourierShift, error) {
	sh, err := scanCourierShift(t.tx.QueryRowContext(t.ctx, `SELECT `+courierShiftColumns+` FROM courier_shifts WHERE courier_id = $1 AND ended_at IS NULL`+t.s.d.forUpdate, courierID))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	} else if err != nil {
		return nil, fmt.Errorf("store: open shift of courier %d: %w", courierID, err)
	}
	return sh, nil
}

func (t *courierTx) SaveShift(sh *courier.CourierShift) error {
	slat, slng := latLngArgs(sh.StartPos)
	elat, elng := latLngArgs(sh.EndPos)
	var ended any
	if sh.EndedAt != nil {
		ended = t.s.d.timeArg(utc(*sh.EndedAt))
	}
	if sh.ID == 0 {
		sh.Version, sh.CreatedAt, sh.UpdatedAt = 1, t.now, t.now
		err := t.tx.QueryRowContext(t.ctx, `INSERT INTO courier_shifts (courier_id, shift_date, started_at, start_lat, start_lng, ended_at,
			end_lat, end_lng, version, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 1, $9, $9) RETURNING id`,
			sh.CourierID, sh.Date, t.s.d.timeArg(utc(sh.StartedAt)), slat, slng, ended, elat, elng, t.s.d.timeArg(t.now)).Scan(&sh.ID)
		if t.s.d.violation(err) == uniqueViolation {
			return courier.Errorf(courier.ECONFLICT, "courier %d has an open shift already", sh.CourierID)
		} else if err != nil {
			return fmt.Errorf("store: insert shift: %w", err)
		}
		return nil
	}
	sh.Version, sh.UpdatedAt = sh.Version+1, t.now
	_, err := t.tx.ExecContext(t.ctx, `UPDATE courier_shifts SET ended_at = $1, end_lat = $2, end_lng = $3, version = $4, updated_at = $5 WHERE id = $6`,
		ended, elat, elng, sh.Version, t.s.d.timeArg(t.now), sh.ID)
	if err != nil {
		return fmt.Errorf("store: update shift %d: %w", sh.ID, err)
	}
	return nil
}

func (t *courierTx) Proofs(orderID int64) ([]*courier.Proof, error) {
	return t.s.proofs(t.ctx, t.tx, orderID)
}
