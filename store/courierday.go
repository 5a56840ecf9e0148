package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"slices"
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
		t := &courierTx{s: s, ctx: ctx, tx: tx, now: s.now()}
		if err := fn(t); err != nil {
			return err
		}
		return t.flush()
	})
	if err != nil {
		return s.resolve(ctx, err)
	}
	return nil
}

// courierTx implements courier.CourierTx over one database transaction.
type courierTx struct {
	s   *DB
	ctx context.Context
	tx  *sql.Tx
	now time.Time
	// dirty is set by every write of the current step.
	dirty bool
	// sheets and orders are the rows this transaction locked, as written so
	// far: a batch of events reads each once.
	sheets map[int64]*courier.RouteSheet
	orders map[int64]*courier.Order
	// events are the order events written so far, inserted with their
	// postings and outbox messages in a few statements before the commit.
	events []courier.OrderEvent
	// locked are the orders as this transaction read them from the
	// database; pending are orders written since whose changes are only in
	// the columns a courier's day changes: they are updated together, in
	// one statement, before the next read of orders or the commit.
	locked  map[int64]*courier.Order
	pending map[int64]*courier.Order
	// open counts the open stops of a sheet once known (counted under the
	// sheet's lock), kept up to date by WriteOrder.
	open map[int64]int
}

// flush writes the pending orders and inserts the order events the
// transaction wrote.
func (t *courierTx) flush() error {
	if err := t.flushOrders(); err != nil {
		return err
	}
	err := t.s.insertEventRows(t.ctx, t.tx, t.events, t.now)
	t.events = nil
	return err
}

// dayColumns are the columns of orders a courier's day changes, with their
// types for a VALUES list: an order that changed only in these is written
// with the others of its batch in one statement.
var dayColumns = []struct{ name, typ string }{
	{"status", "text"}, {"payment_status", "text"}, {"cod_method", "text"}, {"stop_report", "json"},
	{"courier_id", "bigint"}, {"route_sheet_id", "bigint"}, {"version", "bigint"}, {"updated_at", "time"},
}

// onlyDayColumns reports whether o differs from was only in dayColumns.
func onlyDayColumns(was, o *courier.Order) bool {
	a, b := *was, *o
	for _, x := range []*courier.Order{&a, &b} {
		x.Status, x.PaymentStatus, x.COD.Method, x.Report = "", "", "", nil
		x.CourierID, x.RouteSheetID, x.Version, x.UpdatedAt = 0, 0, 0, time.Time{}
	}
	return reflect.DeepEqual(a, b)
}

// flushOrders writes the pending orders in one UPDATE per 200.
func (t *courierTx) flushOrders() error {
	if len(t.pending) == 0 {
		return nil
	}
	ids := make([]int64, 0, len(t.pending))
	for id := range t.pending {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	cast := func(arg, typ string) string {
		switch typ {
		case "json":
			typ = t.s.d.ddl["json"]
		case "time":
			typ = t.s.d.ddl["time"]
		}
		return "CAST(" + arg + " AS " + typ + ")"
	}
	for len(ids) > 0 {
		n := min(len(ids), 200)
		var c conds
		rows := make([]string, n)
		for i, id := range ids[:n] {
			o := t.pending[id]
			report, err := encodeReport(o.Report)
			if err != nil {
				return err
			}
			vals := []any{o.ID, string(o.Status), string(o.PaymentStatus), string(o.COD.Method), report, nullID(o.CourierID),
				nullID(o.RouteSheetID), o.Version, t.s.d.timeArg(o.UpdatedAt)}
			cells := make([]string, len(vals))
			for k, v := range vals {
				cells[k] = c.arg(v)
				if i == 0 { // the first row gives the VALUES list its types
					typ := "bigint"
					if k > 0 {
						typ = dayColumns[k-1].typ
					}
					cells[k] = cast(cells[k], typ)
				}
			}
			rows[i] = "(" + strings.Join(cells, ", ") + ")"
		}
		// A VALUES list's columns are column1, column2, ... on both backends.
		sets := make([]string, len(dayColumns))
		for k, col := range dayColumns {
			sets[k] = fmt.Sprintf("%s = v.column%d", col.name, k+2)
		}
		q := `UPDATE orders SET ` + strings.Join(sets, ", ") + ` FROM (VALUES ` + strings.Join(rows, ", ") + `) AS v WHERE orders.id = v.column1`
		if _, err := t.tx.ExecContext(t.ctx, q, c.args...); err != nil {
			return fmt.Errorf("store: update %d orders: %w", n, err)
		}
		ids = ids[n:]
	}
	t.pending = nil
	return nil
}

var _ courier.CourierTx = (*courierTx)(nil)

func (t *courierTx) Step(fn func() error) error {
	t.dirty = false
	err := fn()
	if err != nil && t.dirty {
		// Not a domain error any more (%v): the whole transaction rolls back.
		return fmt.Errorf("store: a step failed after it wrote: %v", err)
	}
	return err
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

func (t *courierTx) RecordEvents(evs []*courier.CourierEvent) ([]string, error) {
	var taken []string
	for len(evs) > 0 {
		n := min(len(evs), 200)
		chunk := evs[:n]
		evs = evs[n:]
		var c conds
		rows := make([]string, len(chunk))
		byID := map[string]*courier.CourierEvent{}
		for i, ev := range chunk {
			lat, lng := latLngArgs(ev.Position)
			ev.ReceivedAt = t.now
			rows[i] = "(" + strings.Join([]string{c.arg(ev.CourierID), c.arg(ev.ClientEventID), c.arg(string(ev.Action)), c.arg(nullID(ev.OrderID)),
				c.arg(nullID(ev.SheetID)), c.arg(t.s.d.timeArg(utc(ev.At))), c.arg(lat), c.arg(lng), c.arg(ev.RequestHash), c.arg(string(ev.Payload)),
				c.arg(ev.Outcome), c.arg(string(ev.Result)), c.arg(t.s.d.timeArg(t.now))}, ", ") + ")"
			byID[ev.ClientEventID] = ev
		}
		got, err := queryAll(t.ctx, t.tx, "record courier events", func(row rowScanner) (courier.CourierEvent, error) {
			var ev courier.CourierEvent
			err := row.Scan(&ev.ID, &ev.ClientEventID)
			return ev, err
		}, `INSERT INTO courier_events (courier_id, client_event_id, action, order_id, sheet_id, at, lat, lng,
			request_hash, payload, outcome, result, received_at) VALUES `+strings.Join(rows, ", ")+`
			ON CONFLICT (courier_id, client_event_id) DO NOTHING RETURNING id, client_event_id`, c.args...)
		if err != nil {
			return nil, err
		}
		t.dirty = true
		for _, g := range got {
			byID[g.ClientEventID].ID = g.ID
			delete(byID, g.ClientEventID)
		}
		for id := range byID {
			taken = append(taken, id)
		}
	}
	return taken, nil
}

func (t *courierTx) sheet(id int64) (*courier.RouteSheet, error) {
	if sh, ok := t.sheets[id]; ok {
		return cloneSheet(sh), nil
	}
	sh, err := scanSheet(t.tx.QueryRowContext(t.ctx, `SELECT `+sheetColumns+` FROM route_sheets WHERE id = $1`+t.s.d.forUpdate, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, sheetNotFound(id)
	} else if err != nil {
		return nil, fmt.Errorf("store: read sheet %d: %w", id, err)
	}
	t.keep(sh)
	return sh, nil
}

// keep remembers a locked sheet as it is now.
func (t *courierTx) keep(sh *courier.RouteSheet) {
	if t.sheets == nil {
		t.sheets = map[int64]*courier.RouteSheet{}
	}
	t.sheets[sh.ID] = cloneSheet(sh)
}

// cloneSheet copies a sheet so that a caller's changes reach the cache only
// through WriteSheet.
func cloneSheet(sh *courier.RouteSheet) *courier.RouteSheet {
	c := *sh
	c.Stops = slices.Clone(sh.Stops)
	return &c
}

// sheetOf returns the locked sheet that lists orderID among its stops, if this
// transaction holds one.
func (t *courierTx) sheetOf(orderID int64) int64 {
	for id, sh := range t.sheets {
		for _, st := range sh.Stops {
			if st.OrderID == orderID {
				return id
			}
		}
	}
	return 0
}

func (t *courierTx) order(id int64, lock bool) (*courier.Order, error) {
	if o, ok := t.orders[id]; ok {
		c := *o
		return &c, nil
	}
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
	if lock {
		t.lockedOrder(o)
	}
	return o, nil
}

// lockedOrder remembers an order as read under lock from the database.
func (t *courierTx) lockedOrder(o *courier.Order) {
	if t.locked == nil {
		t.locked = map[int64]*courier.Order{}
	}
	c := *o
	t.locked[o.ID] = &c
	t.keepOrder(o)
}

// keepOrder remembers a locked order as it is now.
func (t *courierTx) keepOrder(o *courier.Order) {
	if t.orders == nil {
		t.orders = map[int64]*courier.Order{}
	}
	c := *o
	t.orders[o.ID] = &c
}

// inList returns "$a, $b, ..." for ids, adding them to c.
func inList[T any](c *conds, ids []T) string {
	p := make([]string, len(ids))
	for i, id := range ids {
		p[i] = c.arg(id)
	}
	return strings.Join(p, ", ")
}

func (t *courierTx) Prefetch(orderIDs []int64) error {
	if err := t.flushOrders(); err != nil {
		return err
	}
	var ask []int64
	for _, id := range sortedUnique(orderIDs) {
		if _, ok := t.orders[id]; !ok {
			ask = append(ask, id)
		}
	}
	if len(ask) == 0 {
		return nil
	}
	var c conds
	where := inList(&c, ask)
	refs, err := queryAll(t.ctx, t.tx, "sheets of orders", func(row rowScanner) ([2]int64, error) {
		var r [2]int64
		err := row.Scan(&r[0], &r[1])
		return r, err
	}, `SELECT id, COALESCE(route_sheet_id, 0) FROM orders WHERE id IN (`+where+`)`, c.args...)
	if err != nil {
		return err
	}
	var sheetIDs []int64
	for _, r := range refs {
		if _, ok := t.sheets[r[1]]; r[1] != 0 && !ok {
			sheetIDs = append(sheetIDs, r[1])
		}
	}
	if sheetIDs = sortedUnique(sheetIDs); len(sheetIDs) > 0 {
		var c conds
		sheets, err := queryAll(t.ctx, t.tx, "lock sheets", scanSheet, `SELECT `+sheetColumns+` FROM route_sheets WHERE id IN (`+inList(&c, sheetIDs)+`)
			ORDER BY id`+t.s.d.forUpdate, c.args...)
		if err != nil {
			return err
		}
		for _, sh := range sheets {
			t.keep(sh)
		}
	}
	stops := 0
	for _, id := range sheetIDs {
		stops += len(t.sheets[id].Stops)
	}
	lock := ask
	if len(ask)*4 >= stops {
		// A good part of the sheets: all of their orders, read at once, so
		// that OpenStops counts from them instead of a query an event.
		lock = nil
		for _, id := range sheetIDs {
			for _, st := range t.sheets[id].Stops {
				if _, ok := t.orders[st.OrderID]; !ok {
					lock = append(lock, st.OrderID)
				}
			}
		}
	}
	for lock = sortedUnique(lock); len(lock) > 0; {
		n := min(len(lock), 500)
		var c conds
		orders, err := queryAll(t.ctx, t.tx, "lock orders", scanOrder, `SELECT `+orderColumns+` FROM orders WHERE id IN (`+inList(&c, lock[:n])+`)
			ORDER BY id`+t.s.d.forUpdate, c.args...)
		if err != nil {
			return err
		}
		for _, o := range orders {
			t.lockedOrder(o)
		}
		lock = lock[n:]
	}
	return nil
}

func (t *courierTx) Stop(orderID int64) (*courier.RouteSheet, *courier.Order, error) {
	// A stop of a sheet this transaction holds: lock the order at once.
	if o, ok := t.orders[orderID]; ok && (o.RouteSheetID == 0 || t.sheets[o.RouteSheetID] != nil) {
		var sh *courier.RouteSheet
		if o.RouteSheetID != 0 {
			sh = cloneSheet(t.sheets[o.RouteSheetID])
		}
		c := *o
		return sh, &c, nil
	}
	if id := t.sheetOf(orderID); id != 0 {
		o, err := t.order(orderID, true)
		if err != nil {
			return nil, nil, err
		}
		if o.RouteSheetID == id {
			sh, err := t.sheet(id)
			return sh, o, err
		}
	}
	if err := t.flushOrders(); err != nil {
		return nil, nil, err
	}
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
	sheets, err := queryAll(t.ctx, t.tx, "courier sheets", scanSheet, `SELECT `+sheetColumns+` FROM route_sheets`+c.sql()+` ORDER BY id`+t.s.d.forUpdate, c.args...)
	for _, sh := range sheets {
		t.keep(sh)
	}
	return sheets, err
}

func (t *courierTx) Orders(ids []int64) (map[int64]*courier.Order, error) {
	out := map[int64]*courier.Order{}
	var lock []int64
	for _, id := range sortedUnique(ids) {
		if _, ok := t.orders[id]; !ok {
			lock = append(lock, id)
		}
	}
	for len(lock) > 0 {
		n := min(len(lock), 500)
		var c conds
		orders, err := queryAll(t.ctx, t.tx, "lock orders", scanOrder, `SELECT `+orderColumns+` FROM orders WHERE id IN (`+inList(&c, lock[:n])+`)
			ORDER BY id`+t.s.d.forUpdate, c.args...)
		if err != nil {
			return nil, err
		}
		for _, o := range orders {
			t.lockedOrder(o)
		}
		lock = lock[n:]
	}
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
	if n, ok := t.open[sheetID]; ok {
		return n, nil
	}
	// From the locked rows when this transaction holds all of the sheet's orders.
	if sh, ok := t.sheets[sheetID]; ok {
		n, all := 0, true
		for _, st := range sh.Stops {
			o, ok := t.orders[st.OrderID]
			if !ok {
				all = false
				break
			}
			if o.RouteSheetID == sheetID && !slices.Contains(finished, o.Status) {
				n++
			}
		}
		if all {
			return n, nil
		}
	}
	if err := t.flushOrders(); err != nil {
		return 0, err
	}
	var n int
	var c conds
	c.add("route_sheet_id = " + c.arg(sheetID))
	c.add("status NOT IN (" + inList(&c, finishedArgs) + ")")
	err := t.tx.QueryRowContext(t.ctx, `SELECT COUNT(*) FROM orders`+c.sql(), c.args...).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("store: open stops of sheet %d: %w", sheetID, err)
	}
	if _, locked := t.sheets[sheetID]; locked {
		// Under the sheet's lock nobody else finishes its stops: from here
		// WriteOrder keeps the count.
		if t.open == nil {
			t.open = map[int64]int{}
		}
		t.open[sheetID] = n
	}
	return n, nil
}

func (t *courierTx) WriteSheet(sh *courier.RouteSheet) error {
	t.dirty = true
	if err := t.s.updateSheet(t.ctx, t.tx, sh, t.now); err != nil {
		return err
	}
	t.keep(sh)
	return nil
}

func (t *courierTx) WriteOrder(o *courier.Order, events []courier.OrderEvent) error {
	t.dirty = true
	if was := t.locked[o.ID]; was != nil {
		t.s.touch(t.tx, false, was.CourierID, o.CourierID) // a hand back takes it off the courier
	} else {
		t.s.touch(t.tx, false, o.CourierID)
	}
	if was := t.locked[o.ID]; was != nil && onlyDayColumns(was, o) {
		o.Version, o.UpdatedAt = o.Version+1, t.now
		if t.pending == nil {
			t.pending = map[int64]*courier.Order{}
		}
		c := *o
		t.pending[o.ID] = &c
	} else {
		if err := t.flushOrders(); err != nil {
			return err
		}
		if err := t.s.updateOrderRow(t.ctx, t.tx, o, t.now); err != nil {
			return err
		}
		t.lockedOrder(o) // the database has it all now
	}
	for _, ev := range events {
		ev.OrderID = o.ID
		t.events = append(t.events, ev)
	}
	t.countOpen(t.orders[o.ID], o)
	t.keepOrder(o)
	return nil
}

// countOpen keeps the known open-stop counts right as an order goes from
// was (nil: not read by this transaction) to now.
func (t *courierTx) countOpen(was, now *courier.Order) {
	if len(t.open) == 0 {
		return
	}
	if was == nil {
		delete(t.open, now.RouteSheetID) // its old state is unknown
		return
	}
	isOpen := func(o *courier.Order) bool { return o.RouteSheetID != 0 && !slices.Contains(finished, o.Status) }
	if isOpen(was) {
		if n, ok := t.open[was.RouteSheetID]; ok {
			t.open[was.RouteSheetID] = n - 1
		}
	}
	if isOpen(now) {
		if n, ok := t.open[now.RouteSheetID]; ok {
			t.open[now.RouteSheetID] = n + 1
		}
	}
}

// finished are the order statuses that end a stop.
var finished = []courier.OrderStatus{courier.StatusDelivered, courier.StatusFailedAttempt, courier.StatusRefused,
	courier.StatusReturnedToDepot, courier.StatusCancelled}

// finishedArgs are finished as query arguments.
var finishedArgs = func() []string {
	var out []string
	for _, st := range finished {
		out = append(out, string(st))
	}
	return out
}()

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
		// DO NOTHING rather than an error: a unique violation would abort a
		// PostgreSQL transaction, and a concurrent shift start is an answer.
		err := t.tx.QueryRowContext(t.ctx, `INSERT INTO courier_shifts (courier_id, shift_date, started_at, start_lat, start_lng, ended_at,
			end_lat, end_lng, version, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 1, $9, $9)
			ON CONFLICT (courier_id) WHERE ended_at IS NULL DO NOTHING RETURNING id`,
			sh.CourierID, sh.Date, t.s.d.timeArg(utc(sh.StartedAt)), slat, slng, ended, elat, elng, t.s.d.timeArg(t.now)).Scan(&sh.ID)
		if errors.Is(err, sql.ErrNoRows) {
			return courier.Errorf(courier.ECONFLICT, "courier %d has an open shift already", sh.CourierID)
		} else if err != nil {
			return fmt.Errorf("store: insert shift: %w", err)
		}
		t.dirty = true
		return nil
	}
	t.dirty = true
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
