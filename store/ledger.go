package store

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	courier "github.com/courierhq/courier"
)

// The cash desk's ledger, settlements, shifts and returned goods. Ledger rows
// are only ever inserted; every write checks that each transaction balances.

// querier is a *sql.Tx or a *sql.DB.
type querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

const postingColumns = `id, tx_id, account, amount, currency, COALESCE(courier_id, 0), COALESCE(order_id, 0),
	COALESCE(sheet_id, 0), COALESCE(depot_id, 0), COALESCE(shift_id, 0), kind, actor_id, token_id, at, note`

func scanPosting(row rowScanner) (courier.Posting, error) {
	var p courier.Posting
	err := row.Scan(&p.ID, &p.TxID, &p.Account, &p.Amount, &p.Currency, &p.CourierID, &p.OrderID, &p.SheetID, &p.DepotID,
		&p.ShiftID, &p.Kind, &p.ActorID, &p.TokenID, timeScan{&p.At}, &p.Note)
	return p, err
}

// insertPostings books ps in tx, setting their IDs (and At to now where it is
// zero). It refuses postings that do not balance: that is a bug, not input.
func (s *DB) insertPostings(ctx context.Context, tx *sql.Tx, ps []courier.Posting, now time.Time) error {
	if len(ps) == 0 {
		return nil
	}
	for i := range ps {
		if ps[i].At.IsZero() {
			ps[i].At = now
		}
		ps[i].At = utc(ps[i].At)
	}
	if err := courier.CheckBalanced(ps); err != nil {
		return fmt.Errorf("store: %w", err)
	}
	// One statement for the whole transaction. RETURNING does not promise
	// the rows' order, so the ids are matched back by what the rows say.
	var c conds
	rows := make([]string, len(ps))
	for i := range ps {
		p := &ps[i]
		rows[i] = "(" + inList(&c, []any{p.TxID, p.Account, p.Amount, p.Currency, nullID(p.CourierID), nullID(p.OrderID), nullID(p.SheetID),
			nullID(p.DepotID), nullID(p.ShiftID), p.Kind, p.ActorID, p.TokenID, s.d.timeArg(p.At), p.Note}) + ")"
	}
	type key struct {
		tx, account, currency string
		amount                int64
	}
	got, err := queryAll(ctx, tx, "book postings", func(row rowScanner) (struct {
		k  key
		id int64
	}, error) {
		var r struct {
			k  key
			id int64
		}
		err := row.Scan(&r.id, &r.k.tx, &r.k.account, &r.k.currency, &r.k.amount)
		return r, err
	}, `INSERT INTO ledger_entries (tx_id, account, amount, currency, courier_id, order_id, sheet_id,
			depot_id, shift_id, kind, actor_id, token_id, at, note) VALUES `+strings.Join(rows, ", ")+`
			RETURNING id, tx_id, account, currency, amount`, c.args...)
	if err != nil {
		return fmt.Errorf("store: book %s: %w", ps[0].TxID, err)
	}
	ids := map[key][]int64{}
	for _, r := range got {
		ids[r.k] = append(ids[r.k], r.id)
	}
	for i := range ps {
		k := key{ps[i].TxID, ps[i].Account, ps[i].Currency, ps[i].Amount}
		if len(ids[k]) == 0 {
			return fmt.Errorf("store: book %s: posting on %s not returned", ps[i].TxID, ps[i].Account)
		}
		ps[i].ID, ids[k] = ids[k][0], ids[k][1:]
	}
	return nil
}

// postingWhere turns f into a WHERE clause (with its leading " WHERE ", or "").
func (s *DB) postingWhere(f courier.PostingFilter, args *[]any) string {
	arg := func(v any) string { *args = append(*args, v); return fmt.Sprintf("$%d", len(*args)) }
	var where []string
	var accounts []string
	for _, a := range f.Accounts {
		accounts = append(accounts, "account = "+arg(a))
	}
	for _, p := range f.Prefixes {
		accounts = append(accounts, "account LIKE "+arg(likePrefix(p))+` ESCAPE '\'`)
	}
	if len(accounts) > 0 {
		where = append(where, "("+strings.Join(accounts, " OR ")+")")
	}
	for _, c := range []struct {
		col string
		v   int64
	}{{"courier_id", f.CourierID}, {"depot_id", f.DepotID}, {"sheet_id", f.SheetID}, {"shift_id", f.ShiftID}} {
		if c.v != 0 {
			where = append(where, c.col+" = "+arg(c.v))
		}
	}
	if f.TxID != "" {
		where = append(where, "tx_id = "+arg(f.TxID))
	}
	if !f.From.IsZero() {
		where = append(where, "at >= "+arg(s.d.timeArg(utc(f.From))))
	}
	if !f.To.IsZero() {
		where = append(where, "at < "+arg(s.d.timeArg(utc(f.To))))
	}
	if f.After != 0 {
		where = append(where, "id > "+arg(f.After))
	}
	if len(where) == 0 {
		return ""
	}
	return " WHERE " + strings.Join(where, " AND ")
}

// likePrefix returns a LIKE pattern matching values that start with p.
func likePrefix(p string) string {
	r := strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)
	return r.Replace(p) + "%"
}

func (s *DB) queryPostings(ctx context.Context, q querier, where string, args []any, limit int) ([]courier.Posting, error) {
	sqlText := `SELECT ` + postingColumns + ` FROM ledger_entries` + where + ` ORDER BY id`
	if limit > 0 {
		sqlText += fmt.Sprintf(" LIMIT %d", limit)
	}
	return queryAll(ctx, q, "postings", scanPosting, sqlText, args...)
}

// Postings returns the postings matching f, by id.
func (s *DB) Postings(ctx context.Context, f courier.PostingFilter) ([]courier.Posting, error) {
	var args []any
	where := s.postingWhere(f, &args)
	return s.queryPostings(ctx, s.read(ctx), where, args, f.Limit)
}

// Balances sums the postings matching f per account and currency, ordered by
// account and currency. f.After and f.Limit are ignored.
func (s *DB) Balances(ctx context.Context, f courier.PostingFilter) ([]courier.AccountBalance, error) {
	f.After, f.Limit = 0, 0
	var args []any
	where := s.postingWhere(f, &args)
	scan := func(row rowScanner) (b courier.AccountBalance, err error) {
		err = row.Scan(&b.Account, &b.Currency, &b.Debit, &b.Credit)
		return b, err
	}
	return queryAll(ctx, s.read(ctx), "balances", scan, `SELECT account, currency,
		COALESCE(SUM(CASE WHEN amount > 0 THEN amount ELSE 0 END), 0),
		COALESCE(SUM(CASE WHEN amount < 0 THEN -amount ELSE 0 END), 0)
		FROM ledger_entries`+where+` GROUP BY account, currency ORDER BY account, currency`, args...)
}

// PostLedger locks the cashier shift (unless shiftID is 0) and then the
// courier (unless courierID is 0), in the order Settle takes them, reads the
// postings matching f, calls fn with the shift and them and books what fn
// returns, in one transaction. Returns ENOTFOUND for an unknown shift or
// courier, or fn's error (nothing written).
func (s *DB) PostLedger(ctx context.Context, shiftID, courierID int64, f courier.PostingFilter,
	fn func(*courier.CashShift, []courier.Posting) ([]courier.Posting, error)) ([]courier.Posting, error) {
	var out []courier.Posting
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		var sh *courier.CashShift
		if shiftID != 0 {
			var err error
			sh, err = scanShift(tx.QueryRowContext(ctx, `SELECT `+shiftColumns+` FROM cash_shifts WHERE id = $1`+s.d.forUpdate, shiftID))
			if errors.Is(err, sql.ErrNoRows) {
				return shiftNotFound(shiftID)
			} else if err != nil {
				return fmt.Errorf("store: lock shift %d: %w", shiftID, err)
			}
		}
		if courierID != 0 {
			var id int64
			err := tx.QueryRowContext(ctx, `SELECT id FROM couriers WHERE id = $1`+s.d.forUpdate, courierID).Scan(&id)
			if errors.Is(err, sql.ErrNoRows) {
				return courierNotFound(courierID)
			} else if err != nil {
				return fmt.Errorf("store: lock courier %d: %w", courierID, err)
			}
		}
		var args []any
		where := s.postingWhere(f, &args)
		ps, err := s.queryPostings(ctx, tx, where, args, 0)
		if err != nil {
			return err
		}
		out, err = fn(sh, ps)
		if err != nil {
			return err
		}
		return s.insertPostings(ctx, tx, out, s.now())
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// readTx runs fn on one snapshot of the database without taking the write
// lock: on PostgreSQL a read-only repeatable-read transaction; on SQLite a
// deferred transaction on a read connection (WAL lets it read beside the
// writer; database/sql's BeginTx would take the write lock, see _txlock).
func (s *DB) readTx(ctx context.Context, fn func(q querier) error) error {
	if rt := s.reqTx(ctx); rt != nil {
		return fn(rt.tx) // the request's own snapshot, with its writes
	}
	if s.d == postgresDialect {
		tx, err := s.rdb.BeginTx(ctx, &sql.TxOptions{Isolation: sql.LevelRepeatableRead, ReadOnly: true})
		if err != nil {
			return fmt.Errorf("store: begin: %w", err)
		}
		defer tx.Rollback()
		if err := fn(tx); err != nil {
			return err
		}
		return tx.Commit()
	}
	conn, err := s.rdb.Conn(ctx)
	if err != nil {
		return fmt.Errorf("store: read connection: %w", err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, "BEGIN"); err != nil {
		return fmt.Errorf("store: begin: %w", err)
	}
	err = fn(conn)
	// End the transaction even when ctx is done, or drop the connection.
	if _, rerr := conn.ExecContext(context.WithoutCancel(ctx), "ROLLBACK"); rerr != nil {
		_ = conn.Raw(func(any) error { return driver.ErrBadConn })
	}
	return err
}

// SheetBook reads a route sheet's book: the sheet, its orders, their postings,
// its settlements and the goods checked in, from one snapshot. Returns ENOTFOUND.
func (s *DB) SheetBook(ctx context.Context, sheetID int64) (*courier.SheetBook, error) {
	var b *courier.SheetBook
	err := s.readTx(ctx, func(q querier) error {
		var err error
		b, err = s.loadBook(ctx, q, sheetID, false)
		return err
	})
	return b, err
}

// loadBook reads a sheet's book in tx; with lock it locks the sheet, then the
// sheet's courier, then its orders in id order.
func (s *DB) loadBook(ctx context.Context, tx querier, sheetID int64, lock bool) (*courier.SheetBook, error) {
	forUpdate := ""
	if lock {
		forUpdate = s.d.forUpdate
	}
	sh, err := scanSheet(tx.QueryRowContext(ctx, `SELECT `+sheetColumns+` FROM route_sheets WHERE id = $1`+forUpdate, sheetID))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, sheetNotFound(sheetID)
	} else if err != nil {
		return nil, fmt.Errorf("store: read sheet %d: %w", sheetID, err)
	}
	if lock {
		var id int64
		if err := tx.QueryRowContext(ctx, `SELECT id FROM couriers WHERE id = $1`+forUpdate, sh.CourierID).Scan(&id); err != nil {
			return nil, fmt.Errorf("store: lock courier %d: %w", sh.CourierID, err)
		}
	}
	b := &courier.SheetBook{Sheet: sh}
	args := []any{sheetID}
	in := []string{}
	for _, st := range sh.Stops {
		args = append(args, st.OrderID)
		in = append(in, fmt.Sprintf("$%d", len(args)))
	}
	cond := "route_sheet_id = $1"
	if len(in) > 0 {
		cond += " OR id IN (" + strings.Join(in, ", ") + ")"
	}
	b.Orders, err = queryAll(ctx, tx, fmt.Sprintf("orders of sheet %d", sheetID), scanOrder,
		`SELECT `+orderColumns+` FROM orders WHERE `+cond+` ORDER BY id`+forUpdate, args...)
	if err != nil {
		return nil, err
	}
	// Postings and returned goods of the sheet or of its orders.
	args = []any{sheetID}
	in = in[:0]
	for _, o := range b.Orders {
		args = append(args, o.ID)
		in = append(in, fmt.Sprintf("$%d", len(args)))
	}
	byOrder := "sheet_id = $1"
	if len(in) > 0 {
		byOrder += " OR order_id IN (" + strings.Join(in, ", ") + ")"
	}
	if b.Postings, err = s.queryPostings(ctx, tx, " WHERE "+byOrder, args, 0); err != nil {
		return nil, err
	}
	if b.Returned, err = s.queryReturned(ctx, tx, " WHERE "+byOrder, args); err != nil {
		return nil, err
	}
	if b.Settlements, err = s.querySettlements(ctx, tx, " WHERE sheet_id = $1", []any{sheetID}); err != nil {
		return nil, err
	}
	return b, nil
}

const settlementColumns = `id, sheet_id, courier_id, depot_id, shift_id, currency, expected, counted, denominations, orders,
	note, tx_id, cashier_id, token_id, idem_scope, idem_key, request_hash, created_at`

type denominationJSON struct {
	Value int64 `json:"value"`
	Count int64 `json:"count"`
}

type settledOrderJSON struct {
	OrderID int64 `json:"order_id"`
	Amount  int64 `json:"amount"`
}

func scanSettlement(row rowScanner) (*courier.Settlement, error) {
	var st courier.Settlement
	var dens, orders string
	if err := row.Scan(&st.ID, &st.SheetID, &st.CourierID, &st.DepotID, &st.ShiftID, &st.Currency, &st.Expected, &st.Counted,
		&dens, &orders, &st.Note, &st.TxID, &st.CashierID, &st.TokenID, &st.IdemScope, &st.IdemKey, &st.RequestHash,
		timeScan{&st.CreatedAt}); err != nil {
		return nil, err
	}
	var ds []denominationJSON
	if err := json.Unmarshal([]byte(dens), &ds); err != nil {
		return nil, fmt.Errorf("settlement %d denominations: %w", st.ID, err)
	}
	for _, d := range ds {
		st.Denominations = append(st.Denominations, courier.Denomination(d))
	}
	var os []settledOrderJSON
	if err := json.Unmarshal([]byte(orders), &os); err != nil {
		return nil, fmt.Errorf("settlement %d orders: %w", st.ID, err)
	}
	for _, o := range os {
		st.Orders = append(st.Orders, courier.SettledOrder(o))
	}
	return &st, nil
}

func (s *DB) querySettlements(ctx context.Context, q querier, where string, args []any) ([]*courier.Settlement, error) {
	return queryAll(ctx, q, "settlements", scanSettlement, `SELECT `+settlementColumns+` FROM cash_settlements`+where+` ORDER BY id`, args...)
}

func settlementNotFound() error {
	return courier.Errorf(courier.ENOTFOUND, "no settlement was made with this Idempotency-Key")
}

// SettlementByKey returns the settlement made with an Idempotency-Key in scope. Returns ENOTFOUND.
func (s *DB) SettlementByKey(ctx context.Context, scope, key string) (*courier.Settlement, error) {
	return s.settlementByKey(ctx, s.read(ctx), scope, key)
}

func (s *DB) settlementByKey(ctx context.Context, q querier, scope, key string) (*courier.Settlement, error) {
	st, err := scanSettlement(q.QueryRowContext(ctx, `SELECT `+settlementColumns+` FROM cash_settlements
		WHERE idem_scope = $1 AND idem_key = $2`, scope, key))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, settlementNotFound()
	} else if err != nil {
		return nil, fmt.Errorf("store: settlement by key: %w", err)
	}
	return st, nil
}

// Settlements lists the settlements matching f, by id.
func (s *DB) Settlements(ctx context.Context, f courier.SettlementFilter) ([]*courier.Settlement, error) {
	var where []string
	var args []any
	for _, c := range []struct {
		col string
		v   int64
	}{{"sheet_id", f.SheetID}, {"shift_id", f.ShiftID}, {"courier_id", f.CourierID}} {
		if c.v != 0 {
			args = append(args, c.v)
			where = append(where, fmt.Sprintf("%s = $%d", c.col, len(args)))
		}
	}
	w := ""
	if len(where) > 0 {
		w = " WHERE " + strings.Join(where, " AND ")
	}
	return s.querySettlements(ctx, s.read(ctx), w, args)
}

// Settle settles a sheet in one transaction: it locks the shift, the sheet,
// the sheet's courier and its orders; answers the settlement already made
// with (scope, key) when there is one (Replayed set, fn not called); else
// calls fn and writes the settlement, its postings and the orders fn changed
// with their events. Returns ENOTFOUND (shift or sheet), or fn's error.
func (s *DB) Settle(ctx context.Context, shiftID, sheetID int64, scope, key string, fn func(*courier.CashShift, *courier.SheetBook) (*courier.SettleChange, error)) (*courier.Settlement, error) {
	var out *courier.Settlement
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		out = nil
		sh, err := scanShift(tx.QueryRowContext(ctx, `SELECT `+shiftColumns+` FROM cash_shifts WHERE id = $1`+s.d.forUpdate, shiftID))
		if errors.Is(err, sql.ErrNoRows) {
			return shiftNotFound(shiftID)
		} else if err != nil {
			return fmt.Errorf("store: lock shift %d: %w", shiftID, err)
		}
		// Under the shift's lock, a request with the same key that committed
		// first is visible: answer it.
		if prev, err := s.settlementByKey(ctx, tx, scope, key); err == nil {
			prev.Replayed = true
			out = prev
			return nil
		} else if courier.ErrorCode(err) != courier.ENOTFOUND {
			return err
		}
		book, err := s.loadBook(ctx, tx, sheetID, true)
		if err != nil {
			return err
		}
		ch, err := fn(sh, book)
		if err != nil {
			return err
		}
		now := s.now()
		st := ch.Settlement
		st.IdemScope, st.IdemKey, st.CreatedAt = scope, key, now
		if err := s.insertPostings(ctx, tx, ch.Postings, now); err != nil {
			return err
		}
		dens := make([]denominationJSON, len(st.Denominations))
		for i, d := range st.Denominations {
			dens[i] = denominationJSON(d)
		}
		orders := make([]settledOrderJSON, len(st.Orders))
		for i, o := range st.Orders {
			orders[i] = settledOrderJSON(o)
		}
		db, _ := json.Marshal(dens)
		ob, _ := json.Marshal(orders)
		err = tx.QueryRowContext(ctx, `INSERT INTO cash_settlements (sheet_id, courier_id, depot_id, shift_id, currency, expected,
			counted, denominations, orders, note, tx_id, cashier_id, token_id, idem_scope, idem_key, request_hash, created_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17) RETURNING id`,
			st.SheetID, st.CourierID, st.DepotID, st.ShiftID, st.Currency, st.Expected, st.Counted, string(db), string(ob), st.Note,
			st.TxID, st.CashierID, st.TokenID, scope, key, st.RequestHash, s.d.timeArg(now)).Scan(&st.ID)
		if s.d.violation(err) == uniqueViolation {
			return errKeyTaken
		} else if err != nil {
			return fmt.Errorf("store: insert settlement: %w", err)
		}
		if err := s.writeChangedOrders(ctx, tx, book.Orders, ch.Events, now); err != nil {
			return err
		}
		out = st
		return nil
	})
	if errors.Is(err, errKeyTaken) {
		// Another request with the key committed between our check and our
		// insert (possible only across shifts): answer what it made.
		prev, err := s.SettlementByKey(ctx, scope, key)
		if err != nil {
			return nil, err
		}
		prev.Replayed = true
		return prev, nil
	}
	if err != nil {
		return nil, s.resolve(ctx, err)
	}
	return out, nil
}

var errKeyTaken = errors.New("store: idempotency key taken")

// writeChangedOrders writes each order of orders that events name, with its events.
func (s *DB) writeChangedOrders(ctx context.Context, tx *sql.Tx, orders []*courier.Order, events []courier.OrderEvent, now time.Time) error {
	byOrder := map[int64][]courier.OrderEvent{}
	for _, ev := range events {
		byOrder[ev.OrderID] = append(byOrder[ev.OrderID], ev)
	}
	written := 0
	for _, o := range orders {
		evs := byOrder[o.ID]
		if len(evs) == 0 {
			continue
		}
		if err := s.writeOrder(ctx, tx, o, evs, now); err != nil {
			return err
		}
		written++
	}
	if written != len(byOrder) {
		return fmt.Errorf("store: events name orders that are not in the book")
	}
	return nil
}

const returnedColumns = `id, order_id, sheet_id, item_index, piece, barcode, actor_id, token_id, at`

func (s *DB) queryReturned(ctx context.Context, q querier, where string, args []any) ([]courier.ReturnedItem, error) {
	scan := func(row rowScanner) (r courier.ReturnedItem, err error) {
		err = row.Scan(&r.ID, &r.OrderID, &r.SheetID, &r.ItemIndex, &r.Piece, &r.Barcode, &r.ActorID, &r.TokenID, timeScan{&r.At})
		return r, err
	}
	return queryAll(ctx, q, "returned items", scan, `SELECT `+returnedColumns+` FROM returned_items`+where+` ORDER BY id`, args...)
}

// ReturnItem locks the sheet, its courier and its orders, calls fn with the
// book, and writes the piece fn returns and the orders it changed with their
// events, in one transaction. Returns ENOTFOUND, ECONFLICT when the piece is
// already checked in, or fn's error (nothing written).
func (s *DB) ReturnItem(ctx context.Context, sheetID int64, fn func(*courier.SheetBook) (*courier.ReturnChange, error)) (*courier.ReturnedItem, error) {
	var out courier.ReturnedItem
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		book, err := s.loadBook(ctx, tx, sheetID, true)
		if err != nil {
			return err
		}
		ch, err := fn(book)
		if err != nil {
			return err
		}
		now := s.now()
		r := ch.Item
		if r.At.IsZero() {
			r.At = now
		}
		r.At = utc(r.At)
		err = tx.QueryRowContext(ctx, `INSERT INTO returned_items (order_id, sheet_id, item_index, piece, barcode, actor_id, token_id, at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id`, r.OrderID, r.SheetID, r.ItemIndex, r.Piece, r.Barcode, r.ActorID,
			r.TokenID, s.d.timeArg(r.At)).Scan(&r.ID)
		if s.d.violation(err) == uniqueViolation {
			return courier.Errorf(courier.ECONFLICT, "piece %d of item %d of order %d is already checked in", r.Piece, r.ItemIndex, r.OrderID)
		} else if err != nil {
			return fmt.Errorf("store: insert returned item: %w", err)
		}
		if err := s.writeChangedOrders(ctx, tx, book.Orders, ch.Events, now); err != nil {
			return err
		}
		out = r
		return nil
	})
	if err != nil {
		return nil, s.resolve(ctx, err)
	}
	return &out, nil
}

const shiftColumns = `id, cashier_id, depot_id, status, opened_at, opened_token, closed_at, closed_by, closed_token, note, report, version`

func scanShift(row rowScanner) (*courier.CashShift, error) {
	var sh courier.CashShift
	var closed time.Time
	var report sql.NullString
	if err := row.Scan(&sh.ID, &sh.CashierID, &sh.DepotID, &sh.Status, timeScan{&sh.OpenedAt}, &sh.OpenedToken, timeScan{&closed},
		&sh.ClosedBy, &sh.ClosedToken, &sh.Note, &report, &sh.Version); err != nil {
		return nil, err
	}
	if !closed.IsZero() {
		sh.ClosedAt = &closed
	}
	if report.Valid {
		sh.Report = []byte(report.String)
	}
	return &sh, nil
}

func shiftNotFound(id int64) error {
	return courier.Errorf(courier.ENOTFOUND, "cashier shift %d not found", id)
}

// OpenCashShift inserts sh as an open shift and sets its ID, Status, OpenedAt
// (when zero) and Version. Returns ECONFLICT when the cashier already has an
// open shift, EINVALID for an unknown depot or cashier.
func (s *DB) OpenCashShift(ctx context.Context, sh *courier.CashShift) error {
	if sh.OpenedAt.IsZero() {
		sh.OpenedAt = s.now()
	}
	sh.OpenedAt, sh.Status, sh.Version = utc(sh.OpenedAt), courier.ShiftOpen, 1
	err := s.write(ctx, func(q execer) error {
		return q.QueryRowContext(ctx, `INSERT INTO cash_shifts (cashier_id, depot_id, status, opened_at, opened_token, note, version)
		VALUES ($1, $2, $3, $4, $5, $6, 1) RETURNING id`, sh.CashierID, sh.DepotID, string(sh.Status), s.d.timeArg(sh.OpenedAt),
			sh.OpenedToken, sh.Note).Scan(&sh.ID)
	})
	switch s.d.violation(err) {
	case uniqueViolation:
		return courier.Errorf(courier.ECONFLICT, "the cashier already has an open shift; close it first")
	case foreignKeyViolation:
		return s.badReference(ctx, ref{field: "depot_id", what: "depot", table: "depots", id: sh.DepotID, required: true},
			ref{field: "cashier_id", what: "user", table: "users", id: sh.CashierID, required: true})
	}
	if err != nil {
		return fmt.Errorf("store: open shift: %w", err)
	}
	return nil
}

// CashShift returns a shift by id. Returns ENOTFOUND.
func (s *DB) CashShift(ctx context.Context, id int64) (*courier.CashShift, error) {
	sh, err := scanShift(s.read(ctx).QueryRowContext(ctx, `SELECT `+shiftColumns+` FROM cash_shifts WHERE id = $1`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, shiftNotFound(id)
	} else if err != nil {
		return nil, fmt.Errorf("store: shift %d: %w", id, err)
	}
	return sh, nil
}

// OpenCashShiftOf returns the cashier's open shift. Returns ENOTFOUND.
func (s *DB) OpenCashShiftOf(ctx context.Context, cashierID int64) (*courier.CashShift, error) {
	sh, err := scanShift(s.read(ctx).QueryRowContext(ctx, `SELECT `+shiftColumns+` FROM cash_shifts WHERE cashier_id = $1 AND status = $2`,
		cashierID, string(courier.ShiftOpen)))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, courier.Errorf(courier.ENOTFOUND, "you have no open cashier shift")
	} else if err != nil {
		return nil, fmt.Errorf("store: open shift of %d: %w", cashierID, err)
	}
	return sh, nil
}

// CloseCashShift locks the shift, reads its settlements and postings, calls fn
// and writes the shift (Version+1) in one transaction. Returns ENOTFOUND or fn's error.
func (s *DB) CloseCashShift(ctx context.Context, id int64, fn func(*courier.CashShift, []*courier.Settlement, []courier.Posting) error) (*courier.CashShift, error) {
	var sh *courier.CashShift
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		var err error
		sh, err = scanShift(tx.QueryRowContext(ctx, `SELECT `+shiftColumns+` FROM cash_shifts WHERE id = $1`+s.d.forUpdate, id))
		if errors.Is(err, sql.ErrNoRows) {
			return shiftNotFound(id)
		} else if err != nil {
			return fmt.Errorf("store: lock shift %d: %w", id, err)
		}
		settlements, err := s.querySettlements(ctx, tx, " WHERE shift_id = $1", []any{id})
		if err != nil {
			return err
		}
		postings, err := s.queryPostings(ctx, tx, " WHERE shift_id = $1", []any{id}, 0)
		if err != nil {
			return err
		}
		version := sh.Version
		if err := fn(sh, settlements, postings); err != nil {
			return err
		}
		sh.ID, sh.Version = id, version+1
		var closed any
		if sh.ClosedAt != nil {
			t := utc(*sh.ClosedAt)
			sh.ClosedAt = &t
			closed = s.d.timeArg(t)
		}
		var report any
		if len(sh.Report) > 0 {
			report = string(sh.Report)
		}
		_, err = tx.ExecContext(ctx, `UPDATE cash_shifts SET status = $1, closed_at = $2, closed_by = $3, closed_token = $4, note = $5,
			report = $6, version = $7 WHERE id = $8`, string(sh.Status), closed, sh.ClosedBy, sh.ClosedToken, sh.Note, report, sh.Version, id)
		if err != nil {
			return fmt.Errorf("store: update shift %d: %w", id, err)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return sh, nil
}
