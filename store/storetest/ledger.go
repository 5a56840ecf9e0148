package storetest

import (
	"fmt"
	"sync"
	"testing"
	"time"

	courier "github.com/courierhq/courier"
)

// ledgerFixture is a depot, a courier, a cashier, and a published sheet with
// orders out for delivery on that courier.
type ledgerFixture struct {
	depot   *courier.Depot
	courier *courier.Courier
	cashier *courier.User
	sheet   *courier.RouteSheet
	orders  []*courier.Order
}

func newLedgerFixture(t *testing.T, s courier.Store, codAmounts ...int64) *ledgerFixture {
	t.Helper()
	f := &ledgerFixture{depot: newDepot(t, s, "Cash depot")}
	f.courier = newCourier(t, s, f.depot.ID, "Cash courier", "")
	f.cashier = &courier.User{Login: fmt.Sprintf("cashier-%d", f.depot.ID), Role: courier.RoleCashier, PasswordHash: "x", Active: true}
	must(t, s.CreateUser(ctx(t), f.cashier))
	plan := &courier.Plan{Date: "2026-03-14", DepotID: f.depot.ID, Status: courier.PlanDone, TimeLimit: time.Second}
	must(t, s.CreatePlan(ctx(t), plan))
	sh := &courier.RouteSheet{CourierID: f.courier.ID, DepotID: f.depot.ID, Date: "2026-03-14",
		Start: time.Date(2026, 3, 14, 6, 0, 0, 0, time.UTC), End: time.Date(2026, 3, 14, 15, 0, 0, 0, time.UTC)}
	var ids []int64
	for i, amount := range codAmounts {
		o := newOrder(fmt.Sprintf("L-%d-%d", f.depot.ID, i))
		o.DepotID, o.COD.Amount = f.depot.ID, amount
		o.Items = []courier.Item{{SKU: "S", Name: "Box", Qty: 2, Barcode: fmt.Sprintf("BC-%d", i)}}
		must(t, s.CreateOrder(ctx(t), o, createdEvent()))
		f.orders = append(f.orders, o)
		ids = append(ids, o.ID)
		sh.Stops = append(sh.Stops, courier.SheetStop{OrderID: o.ID, Seq: i + 1})
	}
	must(t, s.ReplaceDraftSheets(ctx(t), plan.ID, []*courier.RouteSheet{sh}))
	sheets, err := s.UpdateSheets(ctx(t), []int64{sh.ID}, ids, func(sheets []*courier.RouteSheet, orders map[int64]*courier.Order) ([]courier.OrderEvent, error) {
		sheets[0].Status = courier.SheetActive
		var evs []courier.OrderEvent
		for _, o := range orders {
			o.Status, o.CourierID, o.RouteSheetID = courier.StatusOutForDelivery, f.courier.ID, sh.ID
			evs = append(evs, courier.OrderEvent{OrderID: o.ID, Kind: courier.EventStatus, FromStatus: courier.StatusNew, ToStatus: o.Status})
		}
		return evs, nil
	})
	must(t, err)
	f.sheet = sheets[0]
	for i, o := range f.orders {
		f.orders[i], err = s.Order(ctx(t), o.ID)
		must(t, err)
	}
	return f
}

// deliver moves an order to status to, booking the postings of the change.
func deliver(t *testing.T, s courier.Store, id int64, to courier.OrderStatus) []courier.Posting {
	t.Helper()
	var ps []courier.Posting
	_, err := s.UpdateOrder(ctx(t), id, func(o *courier.Order) ([]courier.OrderEvent, error) {
		from := o.Status
		ps = courier.StatusPostings(o, from, to, courier.Actor{UserID: 7, Role: courier.RoleCourier, TokenID: "jti-1"}, time.Now())
		o.Status = to
		if to == courier.StatusDelivered {
			o.PaymentStatus = courier.PaymentCollected
		}
		return []courier.OrderEvent{{Kind: courier.EventStatus, FromStatus: from, ToStatus: to, Postings: ps}}, nil
	})
	must(t, err)
	return ps
}

func sumBalances(bs []courier.AccountBalance) map[string]int64 {
	out := map[string]int64{}
	for _, b := range bs {
		out[b.Account+" "+b.Currency] += b.Balance()
	}
	return out
}

func testLedgerPostings(t *testing.T, s courier.Store) {
	f := newLedgerFixture(t, s, 150000, 0)
	ps := deliver(t, s, f.orders[0].ID, courier.StatusDelivered)
	if len(ps) != 2 || ps[0].ID == 0 || ps[1].ID == 0 {
		t.Fatalf("postings of delivery = %+v, want two with ids", ps)
	}
	goods := deliver(t, s, f.orders[1].ID, courier.StatusRefused)
	if len(goods) != 2 || goods[0].Currency != courier.GoodsUnit || goods[0].Amount != 2 {
		t.Fatalf("postings of refusal = %+v, want 2 pieces", goods)
	}
	got, err := s.Postings(ctx(t), courier.PostingFilter{CourierID: f.courier.ID})
	must(t, err)
	if len(got) != 4 {
		t.Fatalf("postings of the courier = %+v, want 4", got)
	}
	p := got[0]
	if p.Account != courier.AccountCourierCash(f.courier.ID) || p.Amount != 150000 || p.Currency != "RUB" || p.OrderID != f.orders[0].ID ||
		p.SheetID != f.sheet.ID || p.DepotID != f.depot.ID || p.Kind != courier.KindCODCollected || p.ActorID != 7 || p.TokenID != "jti-1" || p.TxID == "" {
		t.Errorf("posting = %+v", p)
	}
	wantUTC(t, "posting At", p.At)
	bal, err := s.Balances(ctx(t), courier.PostingFilter{DepotID: f.depot.ID})
	must(t, err)
	sums := sumBalances(bal)
	if sums[courier.AccountCourierCash(f.courier.ID)+" RUB"] != 150000 || sums["cod_revenue RUB"] != -150000 ||
		sums[courier.AccountCourierGoods(f.courier.ID)+" PCS"] != 2 {
		t.Errorf("balances = %v", sums)
	}
	// Filters: by prefix, by account, by time, by cursor and limit.
	for _, test := range []struct {
		f    courier.PostingFilter
		want int
	}{
		{courier.PostingFilter{Prefixes: []string{courier.PrefixCourierCash}}, 1},
		{courier.PostingFilter{Prefixes: []string{"courier_"}}, 2},
		{courier.PostingFilter{Accounts: []string{courier.AccountCODRevenue, courier.AccountDepotGoods(f.depot.ID)}}, 2},
		{courier.PostingFilter{SheetID: f.sheet.ID, TxID: p.TxID}, 2},
		{courier.PostingFilter{From: time.Now().Add(time.Hour)}, 0},
		{courier.PostingFilter{To: time.Now().Add(time.Hour), After: p.ID, Limit: 2}, 2},
		{courier.PostingFilter{Prefixes: []string{"courier\\_%"}}, 0},
	} {
		got, err := s.Postings(ctx(t), test.f)
		must(t, err)
		if len(got) != test.want {
			t.Errorf("Postings(%+v) = %d rows, want %d", test.f, len(got), test.want)
		}
	}
	// A change whose postings do not balance is refused whole.
	_, err = s.UpdateOrder(ctx(t), f.orders[0].ID, func(o *courier.Order) ([]courier.OrderEvent, error) {
		o.Notes = "unbalanced"
		return []courier.OrderEvent{{Kind: courier.EventUpdated, Postings: []courier.Posting{{TxID: "t", Account: "a", Amount: 5,
			Currency: "RUB", Kind: "x"}}}}, nil
	})
	if err == nil {
		t.Fatal("unbalanced postings were booked")
	}
	o, err := s.Order(ctx(t), f.orders[0].ID)
	must(t, err)
	if o.Notes == "unbalanced" {
		t.Error("the order changed although its postings were refused")
	}
	if after, _ := s.Postings(ctx(t), courier.PostingFilter{}); len(after) != 4 {
		t.Errorf("%d postings after the refused change, want 4", len(after))
	}
}

// settleFn settles every collected order of the book in full.
func settleFn(t *testing.T, calls *int, mu *sync.Mutex) func(*courier.CashShift, *courier.SheetBook) (*courier.SettleChange, error) {
	return func(sh *courier.CashShift, b *courier.SheetBook) (*courier.SettleChange, error) {
		if mu != nil {
			mu.Lock()
			defer mu.Unlock()
		}
		*calls++
		st := &courier.Settlement{SheetID: b.Sheet.ID, CourierID: b.Sheet.CourierID, DepotID: b.Sheet.DepotID, ShiftID: sh.ID,
			Currency: "RUB", TxID: courier.NewTxID(), CashierID: sh.CashierID, TokenID: "jti-c", RequestHash: "h",
			Denominations: []courier.Denomination{{Value: 500000, Count: 1}}}
		ch := &courier.SettleChange{Settlement: st}
		at := time.Now().UTC().Truncate(time.Microsecond)
		for _, o := range b.Orders {
			if o.PaymentStatus != courier.PaymentCollected {
				continue
			}
			st.Expected += o.COD.Amount
			st.Orders = append(st.Orders, courier.SettledOrder{OrderID: o.ID, Amount: o.COD.Amount})
			ch.Postings = append(ch.Postings, courier.Posting{TxID: st.TxID, Account: courier.AccountCourierCash(o.CourierID), Amount: -o.COD.Amount,
				Currency: "RUB", CourierID: o.CourierID, OrderID: o.ID, SheetID: b.Sheet.ID, DepotID: b.Sheet.DepotID, ShiftID: sh.ID,
				Kind: courier.KindSettlement, At: at})
			o.PaymentStatus = courier.PaymentDeposited
			ch.Events = append(ch.Events, courier.OrderEvent{OrderID: o.ID, Kind: courier.EventPayment, Reason: "deposited"})
		}
		if st.Expected == 0 {
			return nil, courier.Errorf(courier.ECONFLICT, "nothing to settle")
		}
		st.Counted = st.Expected
		ch.Postings = append(ch.Postings, courier.Posting{TxID: st.TxID, Account: courier.AccountCashdesk(b.Sheet.DepotID), Amount: st.Counted,
			Currency: "RUB", SheetID: b.Sheet.ID, DepotID: b.Sheet.DepotID, ShiftID: sh.ID, Kind: courier.KindSettlement, At: at})
		return ch, nil
	}
}

func testLedgerSettle(t *testing.T, s courier.Store) {
	f := newLedgerFixture(t, s, 100000, 50000, 7000)
	deliver(t, s, f.orders[0].ID, courier.StatusDelivered)
	deliver(t, s, f.orders[1].ID, courier.StatusDelivered)

	wantField(t, s.OpenCashShift(ctx(t), &courier.CashShift{CashierID: f.cashier.ID, DepotID: 9999}), "depot_id")
	shift := &courier.CashShift{CashierID: f.cashier.ID, DepotID: f.depot.ID, OpenedToken: "jti-open"}
	must(t, s.OpenCashShift(ctx(t), shift))
	if shift.ID == 0 || shift.Status != courier.ShiftOpen || shift.Version != 1 {
		t.Fatalf("opened shift = %+v", shift)
	}
	wantCode(t, s.OpenCashShift(ctx(t), &courier.CashShift{CashierID: f.cashier.ID, DepotID: f.depot.ID}), courier.ECONFLICT)
	open, err := s.OpenCashShiftOf(ctx(t), f.cashier.ID)
	must(t, err)
	if open.ID != shift.ID || open.OpenedToken != "jti-open" {
		t.Errorf("OpenCashShiftOf = %+v", open)
	}
	_, err = s.OpenCashShiftOf(ctx(t), 4242)
	wantCode(t, err, courier.ENOTFOUND)

	book, err := s.SheetBook(ctx(t), f.sheet.ID)
	must(t, err)
	if book.Sheet.ID != f.sheet.ID || len(book.Orders) != 3 || len(book.Postings) != 4 || len(book.Settlements) != 0 {
		t.Fatalf("book: sheet %d, %d orders, %d postings, %d settlements", book.Sheet.ID, len(book.Orders), len(book.Postings), len(book.Settlements))
	}
	_, err = s.SheetBook(ctx(t), 999999)
	wantCode(t, err, courier.ENOTFOUND)

	calls := 0
	st, err := s.Settle(ctx(t), shift.ID, f.sheet.ID, "user:1", "key-1", settleFn(t, &calls, nil))
	must(t, err)
	if st.ID == 0 || st.Replayed || st.Expected != 150000 || len(st.Orders) != 2 || st.IdemKey != "key-1" {
		t.Fatalf("settlement = %+v", st)
	}
	wantUTC(t, "settlement CreatedAt", st.CreatedAt)
	// The same key again: the stored settlement, fn not called.
	again, err := s.Settle(ctx(t), shift.ID, f.sheet.ID, "user:1", "key-1", settleFn(t, &calls, nil))
	must(t, err)
	if !again.Replayed || again.ID != st.ID || calls != 1 || again.Expected != st.Expected || len(again.Denominations) != 1 ||
		again.Denominations[0] != (courier.Denomination{Value: 500000, Count: 1}) || again.Orders[1] != st.Orders[1] {
		t.Fatalf("replay = %+v (calls %d), want settlement %d", again, calls, st.ID)
	}
	byKey, err := s.SettlementByKey(ctx(t), "user:1", "key-1")
	must(t, err)
	if byKey.ID != st.ID || byKey.TokenID != "jti-c" || byKey.RequestHash != "h" {
		t.Errorf("SettlementByKey = %+v", byKey)
	}
	_, err = s.SettlementByKey(ctx(t), "user:2", "key-1")
	wantCode(t, err, courier.ENOTFOUND)
	// A new key: fn's error rolls back, nothing written.
	_, err = s.Settle(ctx(t), shift.ID, f.sheet.ID, "user:1", "key-2", settleFn(t, &calls, nil))
	wantCode(t, err, courier.ECONFLICT)
	_, err = s.Settle(ctx(t), 999999, f.sheet.ID, "user:1", "key-3", settleFn(t, &calls, nil))
	wantCode(t, err, courier.ENOTFOUND)
	_, err = s.Settle(ctx(t), shift.ID, 999999, "user:1", "key-3", settleFn(t, &calls, nil))
	wantCode(t, err, courier.ENOTFOUND)

	for _, o := range f.orders[:2] {
		got, err := s.Order(ctx(t), o.ID)
		must(t, err)
		if got.PaymentStatus != courier.PaymentDeposited {
			t.Errorf("order %d payment %s, want deposited", o.ID, got.PaymentStatus)
		}
	}
	list, err := s.Settlements(ctx(t), courier.SettlementFilter{SheetID: f.sheet.ID, ShiftID: shift.ID, CourierID: f.courier.ID})
	must(t, err)
	if len(list) != 1 || list[0].ID != st.ID {
		t.Errorf("Settlements = %+v", list)
	}
	bal, err := s.Balances(ctx(t), courier.PostingFilter{})
	must(t, err)
	sums := sumBalances(bal)
	if sums[courier.AccountCourierCash(f.courier.ID)+" RUB"] != 0 || sums[courier.AccountCashdesk(f.depot.ID)+" RUB"] != 150000 {
		t.Errorf("balances after settling = %v", sums)
	}
	var total int64
	for _, v := range sums {
		total += v
	}
	if total != 0 {
		t.Errorf("the ledger does not sum to zero: %v", sums)
	}

	// Closing: fn sees the shift's settlements and postings.
	closed, err := s.CloseCashShift(ctx(t), shift.ID, func(sh *courier.CashShift, sts []*courier.Settlement, ps []courier.Posting) error {
		if len(sts) != 1 || len(ps) != 3 {
			t.Errorf("close sees %d settlements, %d postings; want 1, 3", len(sts), len(ps))
		}
		now := time.Now()
		sh.Status, sh.ClosedAt, sh.ClosedBy, sh.ClosedToken, sh.Report = courier.ShiftClosed, &now, f.cashier.ID, "jti-close", []byte(`{"ok": true}`)
		return nil
	})
	must(t, err)
	if closed.Version != 2 || closed.Status != courier.ShiftClosed {
		t.Errorf("closed = %+v", closed)
	}
	got, err := s.CashShift(ctx(t), shift.ID)
	must(t, err)
	if got.Status != courier.ShiftClosed || got.ClosedAt == nil || got.ClosedToken != "jti-close" || len(got.Report) == 0 {
		t.Errorf("shift read back = %+v", got)
	}
	wantUTC(t, "ClosedAt", *got.ClosedAt)
	_, err = s.OpenCashShiftOf(ctx(t), f.cashier.ID)
	wantCode(t, err, courier.ENOTFOUND)
	// A closed shift frees the cashier for a new one.
	must(t, s.OpenCashShift(ctx(t), &courier.CashShift{CashierID: f.cashier.ID, DepotID: f.depot.ID}))
	_, err = s.CloseCashShift(ctx(t), 999999, func(*courier.CashShift, []*courier.Settlement, []courier.Posting) error { return nil })
	wantCode(t, err, courier.ENOTFOUND)
}

// testLedgerSettleConcurrent: many requests, mostly with one key, settle the
// sheet once; the others get the stored settlement or find nothing left.
func testLedgerSettleConcurrent(t *testing.T, s courier.Store) {
	f := newLedgerFixture(t, s, 1000, 2000)
	for _, o := range f.orders {
		deliver(t, s, o.ID, courier.StatusDelivered)
	}
	shift := &courier.CashShift{CashierID: f.cashier.ID, DepotID: f.depot.ID}
	must(t, s.OpenCashShift(ctx(t), shift))
	var mu sync.Mutex
	calls := 0
	var wg sync.WaitGroup
	ids := make(chan int64, 20)
	for i := range 20 {
		wg.Go(func() {
			key := "same"
			if i%5 == 4 {
				key = fmt.Sprintf("other-%d", i)
			}
			st, err := s.Settle(ctx(t), shift.ID, f.sheet.ID, "user:1", key, settleFn(t, &calls, &mu))
			if err != nil {
				// Another key settled the sheet first: nothing left for this one.
				wantCode(t, err, courier.ECONFLICT)
				return
			}
			ids <- st.ID
		})
	}
	wg.Wait()
	close(ids)
	seen := map[int64]bool{}
	for id := range ids {
		seen[id] = true
	}
	list, err := s.Settlements(ctx(t), courier.SettlementFilter{SheetID: f.sheet.ID})
	must(t, err)
	if len(list) != 1 || len(seen) != 1 || !seen[list[0].ID] {
		t.Errorf("%d settlements stored, answers named %v", len(list), seen)
	}
}

func testLedgerReturnItem(t *testing.T, s courier.Store) {
	f := newLedgerFixture(t, s, 1000)
	deliver(t, s, f.orders[0].ID, courier.StatusRefused)
	o := f.orders[0]
	piece := func(n int, complete bool) func(b *courier.SheetBook) (*courier.ReturnChange, error) {
		return func(b *courier.SheetBook) (*courier.ReturnChange, error) {
			ch := &courier.ReturnChange{Item: courier.ReturnedItem{OrderID: o.ID, SheetID: b.Sheet.ID, ItemIndex: 0, Piece: n, Barcode: "BC-0",
				ActorID: 3, TokenID: "jti-r"}}
			if complete {
				bo := b.Orders[0]
				ps := courier.StatusPostings(bo, bo.Status, courier.StatusReturnedToDepot, courier.Actor{UserID: 3}, time.Now())
				ch.Events = []courier.OrderEvent{{OrderID: bo.ID, Kind: courier.EventStatus, FromStatus: bo.Status,
					ToStatus: courier.StatusReturnedToDepot, Postings: ps}}
				bo.Status = courier.StatusReturnedToDepot
			}
			return ch, nil
		}
	}
	r, err := s.ReturnItem(ctx(t), f.sheet.ID, piece(1, false))
	must(t, err)
	if r.ID == 0 || r.Piece != 1 || r.TokenID != "jti-r" {
		t.Errorf("returned = %+v", r)
	}
	wantUTC(t, "returned At", r.At)
	_, err = s.ReturnItem(ctx(t), f.sheet.ID, piece(1, false))
	wantCode(t, err, courier.ECONFLICT)
	_, err = s.ReturnItem(ctx(t), f.sheet.ID, piece(2, true))
	must(t, err)
	got, err := s.Order(ctx(t), o.ID)
	must(t, err)
	if got.Status != courier.StatusReturnedToDepot {
		t.Errorf("order status %s, want returned_to_depot", got.Status)
	}
	book, err := s.SheetBook(ctx(t), f.sheet.ID)
	must(t, err)
	if len(book.Returned) != 2 {
		t.Errorf("book has %d returned pieces, want 2", len(book.Returned))
	}
	bal, err := s.Balances(ctx(t), courier.PostingFilter{Accounts: []string{courier.AccountCourierGoods(f.courier.ID)}})
	must(t, err)
	if len(bal) != 1 || bal[0].Balance() != 0 || bal[0].Debit != 2 {
		t.Errorf("goods balance = %+v, want 2 out and 2 back", bal)
	}
	_, err = s.ReturnItem(ctx(t), 999999, piece(3, false))
	wantCode(t, err, courier.ENOTFOUND)
}

func testLedgerPostLedger(t *testing.T, s courier.Store) {
	f := newLedgerFixture(t, s, 1000)
	deliver(t, s, f.orders[0].ID, courier.StatusDelivered)
	filter := courier.PostingFilter{Accounts: []string{courier.AccountCourierCash(f.courier.ID)}}
	shift := &courier.CashShift{CashierID: f.cashier.ID, DepotID: f.depot.ID}
	must(t, s.OpenCashShift(ctx(t), shift))
	ps, err := s.PostLedger(ctx(t), shift.ID, f.courier.ID, filter, func(sh *courier.CashShift, seen []courier.Posting) ([]courier.Posting, error) {
		if len(seen) != 1 || seen[0].Amount != 1000 {
			t.Errorf("PostLedger fn saw %+v", seen)
		}
		if sh == nil || sh.ID != shift.ID || sh.Status != courier.ShiftOpen {
			t.Errorf("PostLedger fn got shift %+v", sh)
		}
		tx := courier.NewTxID()
		return []courier.Posting{
			{TxID: tx, Account: courier.AccountCashdesk(f.depot.ID), Amount: 1000, Currency: "RUB", DepotID: f.depot.ID, Kind: courier.KindRepayment},
			{TxID: tx, Account: courier.AccountCourierCash(f.courier.ID), Amount: -1000, Currency: "RUB", CourierID: f.courier.ID,
				DepotID: f.depot.ID, Kind: courier.KindRepayment},
		}, nil
	})
	must(t, err)
	if len(ps) != 2 || ps[0].ID == 0 || ps[0].At.IsZero() {
		t.Errorf("PostLedger booked %+v", ps)
	}
	none := func(*courier.CashShift, []courier.Posting) ([]courier.Posting, error) { return nil, nil }
	_, err = s.PostLedger(ctx(t), 0, 999999, filter, none)
	wantCode(t, err, courier.ENOTFOUND)
	_, err = s.PostLedger(ctx(t), 999999, f.courier.ID, filter, none)
	wantCode(t, err, courier.ENOTFOUND)
	// Without a shift fn gets nil; a closed shift comes as it is now.
	_, err = s.PostLedger(ctx(t), 0, f.courier.ID, filter, func(sh *courier.CashShift, _ []courier.Posting) ([]courier.Posting, error) {
		if sh != nil {
			t.Errorf("PostLedger without a shift gave fn %+v", sh)
		}
		return nil, nil
	})
	must(t, err)
	_, err = s.CloseCashShift(ctx(t), shift.ID, func(sh *courier.CashShift, _ []*courier.Settlement, _ []courier.Posting) error {
		sh.Status = courier.ShiftClosed
		return nil
	})
	must(t, err)
	_, err = s.PostLedger(ctx(t), shift.ID, f.courier.ID, filter, func(sh *courier.CashShift, _ []courier.Posting) ([]courier.Posting, error) {
		if sh == nil || sh.Status != courier.ShiftClosed {
			t.Errorf("PostLedger after closing gave fn %+v", sh)
		}
		return nil, nil
	})
	must(t, err)
	bal, err := s.Balances(ctx(t), filter)
	must(t, err)
	if len(bal) != 1 || bal[0].Balance() != 0 {
		t.Errorf("courier cash after repayment = %+v", bal)
	}
}
