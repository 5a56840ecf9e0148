package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	courier "github.com/courierhq/courier"
)

const orderColumns = `id, external_id, customer_name, customer_phone, customer_email, address, lat, lng,
	delivery_date, window_from, window_to, service_minutes, weight_kg, volume_l, items,
	cod_amount, cod_currency, cod_method, delivery_fee, fee_overridden, notes, status, payment_status,
	COALESCE(depot_id, 0), COALESCE(zone_id, 0), COALESCE(courier_id, 0), COALESCE(route_sheet_id, 0),
	version, created_at, updated_at, address_details, stop_report, fee_quote`

// itemJSON is how an Item is kept in orders.items: stable keys, independent
// of the Go field names.
type itemJSON struct {
	SKU     string `json:"sku"`
	Name    string `json:"name"`
	Qty     int    `json:"qty"`
	Barcode string `json:"barcode,omitempty"`
	Price   int64  `json:"price,omitempty"`
}

func encodeItems(items []courier.Item) (string, error) {
	js := make([]itemJSON, len(items))
	for i, it := range items {
		js[i] = itemJSON(it)
	}
	b, err := json.Marshal(js)
	if err != nil {
		return "", fmt.Errorf("store: encode items: %w", err)
	}
	return string(b), nil
}

func decodeItems(s string) ([]courier.Item, error) {
	var js []itemJSON
	if err := json.Unmarshal([]byte(s), &js); err != nil {
		return nil, err
	}
	if len(js) == 0 {
		return nil, nil
	}
	items := make([]courier.Item, len(js))
	for i, it := range js {
		items[i] = courier.Item(it)
	}
	return items, nil
}

func scanOrder(row rowScanner) (*courier.Order, error) {
	var (
		o                        courier.Order
		from, to                 time.Time
		items, status, payStatus string
		codMethod                string
		details, report, quote   sql.NullString
	)
	if err := row.Scan(&o.ID, &o.ExternalID, &o.Customer.Name, &o.Customer.Phone, &o.Customer.Email, &o.Address,
		&o.Location.Lat, &o.Location.Lng, &o.DeliveryDate, timeScan{&from}, timeScan{&to}, &o.ServiceMinutes,
		&o.WeightKg, &o.VolumeL, &items, &o.COD.Amount, &o.COD.Currency, &codMethod, &o.DeliveryFee,
		&o.FeeOverridden, &o.Notes, &status, &payStatus, &o.DepotID, &o.ZoneID, &o.CourierID, &o.RouteSheetID,
		&o.Version, timeScan{&o.CreatedAt}, timeScan{&o.UpdatedAt}, &details, &report, &quote); err != nil {
		return nil, err
	}
	o.Status, o.PaymentStatus, o.COD.Method = courier.OrderStatus(status), courier.PaymentStatus(payStatus), courier.PaymentMethod(codMethod)
	if !from.IsZero() || !to.IsZero() {
		o.TimeWindow = &courier.TimeWindow{From: from, To: to}
	}
	var err error
	if o.Items, err = decodeItems(items); err != nil {
		return nil, fmt.Errorf("order %d items: %w", o.ID, err)
	}
	if o.AddressDetails, err = decodeAddressDetails(details.String); err != nil {
		return nil, fmt.Errorf("order %d address details: %w", o.ID, err)
	}
	if o.Report, err = decodeReport(report.String); err != nil {
		return nil, fmt.Errorf("order %d stop report: %w", o.ID, err)
	}
	if o.FeeQuote, err = decodeQuote(quote.String); err != nil {
		return nil, fmt.Errorf("order %d fee quote: %w", o.ID, err)
	}
	return &o, nil
}

func orderNotFound(id int64) error {
	return courier.Errorf(courier.ENOTFOUND, "order %d not found", id)
}

func externalIDTaken(id string) error {
	return &courier.Error{Code: courier.ECONFLICT, Message: fmt.Sprintf("external_id %q already exists", id),
		Details: map[string]any{"field": "external_id"}}
}

func orderRefs(o *courier.Order) []ref {
	return []ref{
		{field: "depot_id", what: "depot", table: "depots", id: o.DepotID},
		{field: "courier_id", what: "courier", table: "couriers", id: o.CourierID},
	}
}

// window returns the time window's bounds as query arguments (NULL when unset).
func (s *DB) window(o *courier.Order) (from, to any) {
	if o.TimeWindow == nil {
		return nil, nil
	}
	o.TimeWindow.From, o.TimeWindow.To = utc(o.TimeWindow.From), utc(o.TimeWindow.To)
	return s.d.timeArg(o.TimeWindow.From), s.d.timeArg(o.TimeWindow.To)
}

// orderArgs are the values of the writable columns, in the order of orderWriteColumns.
const orderWriteColumns = `external_id, customer_name, customer_phone, customer_email, address, lat, lng,
	delivery_date, window_from, window_to, service_minutes, weight_kg, volume_l, items,
	cod_amount, cod_currency, cod_method, delivery_fee, fee_overridden, notes, status, payment_status,
	depot_id, zone_id, courier_id, route_sheet_id, version, updated_at, address_details, stop_report, fee_quote`

func (s *DB) orderArgs(o *courier.Order) ([]any, error) {
	items, err := encodeItems(o.Items)
	if err != nil {
		return nil, err
	}
	from, to := s.window(o)
	details, err := encodeAddressDetails(o.AddressDetails)
	if err != nil {
		return nil, err
	}
	report, err := encodeReport(o.Report)
	if err != nil {
		return nil, err
	}
	quote, err := encodeQuote(o.FeeQuote)
	if err != nil {
		return nil, err
	}
	return []any{o.ExternalID, o.Customer.Name, o.Customer.Phone, o.Customer.Email, o.Address, o.Location.Lat, o.Location.Lng,
		o.DeliveryDate, from, to, o.ServiceMinutes, o.WeightKg, o.VolumeL, items,
		o.COD.Amount, o.COD.Currency, string(o.COD.Method), o.DeliveryFee, o.FeeOverridden, o.Notes, string(o.Status), string(o.PaymentStatus),
		nullID(o.DepotID), nullID(o.ZoneID), nullID(o.CourierID), nullID(o.RouteSheetID), o.Version, s.d.timeArg(o.UpdatedAt),
		details, report, quote}, nil
}

// placeholders returns "$from, $from+1, ..., $from+n-1".
func placeholders(from, n int) string {
	p := make([]string, n)
	for i := range p {
		p[i] = fmt.Sprintf("$%d", from+i)
	}
	return strings.Join(p, ", ")
}

// CreateOrder inserts o and its first history event in one transaction and
// sets o.ID, ev.ID, ev.OrderID, Version=1 and timestamps (ev.At defaults to
// the creation time). ev may be nil. Returns ECONFLICT if the external id is
// taken, EINVALID if the depot or courier does not exist.
func (s *DB) CreateOrder(ctx context.Context, o *courier.Order, ev *courier.OrderEvent) error {
	now := s.now()
	o.Version, o.CreatedAt, o.UpdatedAt = 1, now, now
	args, err := s.orderArgs(o)
	if err != nil {
		return err
	}
	args = append(args, s.d.timeArg(now))
	err = s.inTx(ctx, func(tx *sql.Tx) error {
		n := len(args)
		err := tx.QueryRowContext(ctx, `INSERT INTO orders (`+orderWriteColumns+`, created_at) VALUES (`+placeholders(1, n)+`) RETURNING id`,
			args...).Scan(&o.ID)
		switch s.d.violation(err) {
		case uniqueViolation:
			return externalIDTaken(o.ExternalID)
		case foreignKeyViolation:
			return &fkError{refs: orderRefs(o)}
		}
		if err != nil {
			return fmt.Errorf("store: insert order: %w", err)
		}
		if ev != nil {
			if err := s.insertEvent(ctx, tx, o.ID, ev, now); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		o.ID, o.Version, o.CreatedAt, o.UpdatedAt = 0, 0, time.Time{}, time.Time{}
		if ev != nil {
			ev.ID, ev.OrderID = 0, 0
		}
		return s.resolve(ctx, err)
	}
	return nil
}

// insertEvent appends ev to the order's history, setting ev.ID, ev.OrderID and, when zero, ev.At,
// and books ev.Postings in the ledger.
func (s *DB) insertEvent(ctx context.Context, tx *sql.Tx, orderID int64, ev *courier.OrderEvent, now time.Time) error {
	ev.OrderID = orderID
	if ev.At.IsZero() {
		ev.At = now
	}
	ev.At = utc(ev.At)
	err := tx.QueryRowContext(ctx, `INSERT INTO order_events (order_id, kind, from_status, to_status, actor_id, actor_role, at, reason, comment)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id`,
		orderID, ev.Kind, string(ev.FromStatus), string(ev.ToStatus), ev.ActorID, string(ev.ActorRole), s.d.timeArg(ev.At),
		ev.Reason, ev.Comment).Scan(&ev.ID)
	if err != nil {
		return fmt.Errorf("store: insert event of order %d: %w", orderID, err)
	}
	if a := ev.Attempt; a != nil {
		a.OrderID = orderID
		if err := s.insertAttempts(ctx, tx, []*courier.StopAttempt{a}); err != nil {
			return err
		}
	}
	return s.insertPostings(ctx, tx, ev.Postings, now)
}

// Order returns an order by id. Returns ENOTFOUND.
func (s *DB) Order(ctx context.Context, id int64) (*courier.Order, error) {
	o, err := scanOrder(s.read(ctx).QueryRowContext(ctx, `SELECT `+orderColumns+` FROM orders WHERE id = $1`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, orderNotFound(id)
	} else if err != nil {
		return nil, fmt.Errorf("store: order %d: %w", id, err)
	}
	return o, nil
}

// OrderByExternalID returns an order by the shop's id. Returns ENOTFOUND.
func (s *DB) OrderByExternalID(ctx context.Context, externalID string) (*courier.Order, error) {
	if externalID == "" {
		return nil, courier.Errorf(courier.ENOTFOUND, "order with external_id %q not found", externalID)
	}
	o, err := scanOrder(s.read(ctx).QueryRowContext(ctx, `SELECT `+orderColumns+` FROM orders WHERE external_id = $1`, externalID))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, courier.Errorf(courier.ENOTFOUND, "order with external_id %q not found", externalID)
	} else if err != nil {
		return nil, fmt.Errorf("store: order by external id: %w", err)
	}
	return o, nil
}

// Page sizes of ListOrders.
const (
	DefaultLimit = 50
	MaxLimit     = 500
)

// ListOrders returns up to f.Limit orders with id > f.After matching f,
// ordered by id. A Limit of 0 means DefaultLimit; more than MaxLimit means
// MaxLimit. Search is a case-insensitive "contains" on external id, customer
// phone and customer name.
func (s *DB) ListOrders(ctx context.Context, f courier.OrderFilter) ([]*courier.Order, error) {
	var c conds
	if f.Status != "" {
		c.add("status = " + c.arg(string(f.Status)))
	}
	if f.Date != "" {
		c.add("delivery_date = " + c.arg(f.Date))
	}
	if f.ZoneID != 0 {
		c.add("zone_id = " + c.arg(f.ZoneID))
	}
	if f.CourierID != 0 {
		c.add("courier_id = " + c.arg(f.CourierID))
	}
	if f.DepotID != 0 {
		c.add("depot_id = " + c.arg(f.DepotID))
	}
	if f.Search != "" {
		p := c.arg(likeContains(f.Search))
		c.add(fmt.Sprintf(`(%[1]s(external_id) LIKE %[2]s ESCAPE '\' OR %[1]s(customer_phone) LIKE %[2]s ESCAPE '\'
			OR %[1]s(customer_name) LIKE %[2]s ESCAPE '\')`, s.d.lower, p))
	}
	if len(f.IDs) > 0 {
		c.add("id IN (" + inList(&c, f.IDs) + ")")
	}
	if f.After != 0 {
		c.add("id > " + c.arg(f.After))
	}
	q := `SELECT ` + orderColumns + ` FROM orders` + c.sql() + " ORDER BY id LIMIT " + c.arg(pageLimit(f.Limit))
	return queryAll(ctx, s.read(ctx), "list orders", scanOrder, q, c.args...)
}

// UpdateOrder locks the order, calls fn, and when fn succeeds writes the
// order (Version+1, UpdatedAt now; ID and CreatedAt kept) and appends the
// events fn returns (setting their ID and OrderID, and At when zero), all in
// one transaction: concurrent updates of one order are serialised. fn must
// not call the store. Returns ENOTFOUND, ECONFLICT on a taken external id,
// EINVALID for an unknown depot or courier, or fn's error unchanged (nothing written).
func (s *DB) UpdateOrder(ctx context.Context, id int64, fn func(*courier.Order) ([]courier.OrderEvent, error)) (*courier.Order, error) {
	var o *courier.Order
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		old, err := scanOrder(tx.QueryRowContext(ctx, `SELECT `+orderColumns+` FROM orders WHERE id = $1`+s.d.forUpdate, id))
		if errors.Is(err, sql.ErrNoRows) {
			return orderNotFound(id)
		} else if err != nil {
			return fmt.Errorf("store: read order %d: %w", id, err)
		}
		s.touch(tx, false, old.CourierID) // fn may take it off the courier's sheet
		version, created := old.Version, old.CreatedAt
		o = old
		events, err := fn(o)
		if err != nil {
			return err
		}
		o.ID, o.Version, o.CreatedAt = id, version, created
		return s.writeOrder(ctx, tx, o, events, s.now())
	})
	if err != nil {
		return nil, s.resolve(ctx, err)
	}
	return o, nil
}

// writeOrder writes o, read under lock in tx at o.Version, as Version+1 and
// appends events, all in tx.
func (s *DB) writeOrder(ctx context.Context, tx *sql.Tx, o *courier.Order, events []courier.OrderEvent, now time.Time) error {
	if err := s.updateOrderRow(ctx, tx, o, now); err != nil {
		return err
	}
	for i := range events {
		if err := s.insertEvent(ctx, tx, o.ID, &events[i], now); err != nil {
			return err
		}
		if err := s.queueOutbox(ctx, tx, events[i].Outbox, now); err != nil {
			return err
		}
	}
	return nil
}

// updateOrderRow writes o, read under lock in tx at o.Version, as Version+1.
func (s *DB) updateOrderRow(ctx context.Context, tx *sql.Tx, o *courier.Order, now time.Time) error {
	id := o.ID
	s.touch(tx, false, o.CourierID)
	o.Version, o.UpdatedAt = o.Version+1, now
	args, err := s.orderArgs(o)
	if err != nil {
		return err
	}
	args = append(args, id)
	sets := strings.Fields(strings.ReplaceAll(orderWriteColumns, ",", " "))
	for i := range sets {
		sets[i] = fmt.Sprintf("%s = $%d", sets[i], i+1)
	}
	_, err = tx.ExecContext(ctx, `UPDATE orders SET `+strings.Join(sets, ", ")+fmt.Sprintf(" WHERE id = $%d", len(args)), args...)
	switch s.d.violation(err) {
	case uniqueViolation:
		return externalIDTaken(o.ExternalID)
	case foreignKeyViolation:
		return &fkError{refs: orderRefs(o)}
	}
	if err != nil {
		return fmt.Errorf("store: update order %d: %w", id, err)
	}
	return nil
}

// insertEventRows appends many orders' events (OrderID set) with their stop attempts,
// postings and outbox messages in a few statements; the events' IDs are not
// read back.
func (s *DB) insertEventRows(ctx context.Context, tx *sql.Tx, events []courier.OrderEvent, now time.Time) error {
	var postings []courier.Posting
	var msgs []courier.OutboxMessage
	var attempts []*courier.StopAttempt
	for start := 0; start < len(events); start += 500 {
		chunk := events[start:min(start+500, len(events))]
		var c conds
		rows := make([]string, len(chunk))
		for i := range chunk {
			ev := &chunk[i]
			if ev.At.IsZero() {
				ev.At = now
			}
			ev.At = utc(ev.At)
			rows[i] = "(" + inList(&c, []any{ev.OrderID, ev.Kind, string(ev.FromStatus), string(ev.ToStatus), ev.ActorID, string(ev.ActorRole),
				s.d.timeArg(ev.At), ev.Reason, ev.Comment}) + ")"
			postings = append(postings, ev.Postings...)
			msgs = append(msgs, ev.Outbox...)
			if a := ev.Attempt; a != nil {
				a.OrderID = ev.OrderID
				attempts = append(attempts, a)
			}
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO order_events (order_id, kind, from_status, to_status, actor_id, actor_role, at, reason, comment)
			VALUES `+strings.Join(rows, ", "), c.args...); err != nil {
			return fmt.Errorf("store: insert %d order events: %w", len(chunk), err)
		}
	}
	for start := 0; start < len(postings); start += 1000 {
		if err := s.insertPostings(ctx, tx, postings[start:min(start+1000, len(postings))], now); err != nil {
			return err
		}
	}
	if err := s.insertAttempts(ctx, tx, attempts); err != nil {
		return err
	}
	var unique []courier.OutboxMessage
	seen := map[string]bool{}
	for _, m := range msgs {
		if m.Key == "" {
			return fmt.Errorf("store: outbox message of topic %q has no key", m.Topic)
		}
		if !seen[m.Key] {
			seen[m.Key] = true
			unique = append(unique, m)
		}
	}
	for start := 0; start < len(unique); start += 500 {
		chunk := unique[start:min(start+500, len(unique))]
		var c conds
		rows := make([]string, len(chunk))
		for i, m := range chunk {
			rows[i] = "(" + inList(&c, []any{m.Topic, m.Key, string(m.Payload), s.d.timeArg(now), s.d.timeArg(now)}) + ")"
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO outbox (topic, dedup_key, payload, next_attempt_at, created_at) VALUES `+
			strings.Join(rows, ", ")+` ON CONFLICT (dedup_key) DO NOTHING`, c.args...); err != nil {
			return fmt.Errorf("store: queue %d outbox messages: %w", len(chunk), err)
		}
	}
	return nil
}

// queueOutbox inserts messages into the outbox in tx; a message whose key is
// already queued is skipped (queuing is idempotent).
func (s *DB) queueOutbox(ctx context.Context, tx *sql.Tx, msgs []courier.OutboxMessage, now time.Time) error {
	for i := range msgs {
		m := &msgs[i]
		if m.Key == "" {
			return fmt.Errorf("store: outbox message of topic %q has no key", m.Topic)
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO outbox (topic, dedup_key, payload, next_attempt_at, created_at)
			VALUES ($1, $2, $3, $4, $4) ON CONFLICT (dedup_key) DO NOTHING`, m.Topic, m.Key, string(m.Payload), s.d.timeArg(now))
		if err != nil {
			return fmt.Errorf("store: queue outbox %s: %w", m.Key, err)
		}
		m.CreatedAt = now
	}
	return nil
}

// OrderHistory returns an order's events in the order they were recorded
// (by id; At may be earlier for events a phone reported late). Returns ENOTFOUND.
func (s *DB) OrderHistory(ctx context.Context, id int64) ([]courier.OrderEvent, error) {
	// One statement, so that "no order" and "no events" are told apart on one snapshot.
	rows, err := s.read(ctx).QueryContext(ctx, `SELECT o.id, COALESCE(e.id, 0), COALESCE(e.kind, ''), COALESCE(e.from_status, ''),
		COALESCE(e.to_status, ''), COALESCE(e.actor_id, 0), COALESCE(e.actor_role, ''), e.at, COALESCE(e.reason, ''), COALESCE(e.comment, '')
		FROM orders o LEFT JOIN order_events e ON e.order_id = o.id WHERE o.id = $1 ORDER BY e.id`, id)
	if err != nil {
		return nil, fmt.Errorf("store: history of order %d: %w", id, err)
	}
	defer rows.Close()
	found := false
	events := []courier.OrderEvent{}
	for rows.Next() {
		found = true
		var (
			ev       courier.OrderEvent
			from, to string
			role     string
		)
		if err := rows.Scan(&ev.OrderID, &ev.ID, &ev.Kind, &from, &to, &ev.ActorID, &role, timeScan{&ev.At},
			&ev.Reason, &ev.Comment); err != nil {
			return nil, fmt.Errorf("store: history of order %d: %w", id, err)
		}
		if ev.ID == 0 {
			continue // the order has no events
		}
		ev.FromStatus, ev.ToStatus, ev.ActorRole = courier.OrderStatus(from), courier.OrderStatus(to), courier.Role(role)
		events = append(events, ev)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: history of order %d: %w", id, err)
	}
	if !found {
		return nil, orderNotFound(id)
	}
	return events, nil
}
