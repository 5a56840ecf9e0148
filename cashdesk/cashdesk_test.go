package cashdesk_test

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/courierhq/courier"
	"github.com/courierhq/courier/cashdesk"
	"github.com/courierhq/courier/dispatch"
	"github.com/courierhq/courier/internal/testsvc"
	"github.com/courierhq/courier/store"
)

// clock is a settable clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time      { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Add(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

// desk is a cash desk over a fresh store with a depot, two couriers, two
// cashiers, an admin and a dispatcher.
type desk struct {
	t        *testing.T
	db       *store.DB
	clock    *clock
	cash     *cashdesk.Service
	dispatch *dispatch.Service
	depot    *courier.Depot
	other    *courier.Depot // a second depot
	couriers []*courier.Courier
	cashier  courier.Actor
	cashier2 courier.Actor
	admin    courier.Actor
	disp     courier.Actor
	plan     *courier.Plan
	n        int
}

// backends runs fn against SQLite and against a fresh PostgreSQL database.
func backends(t *testing.T, fn func(t *testing.T, d *desk)) {
	t.Run("sqlite", func(t *testing.T) { fn(t, newDesk(t, filepath.Join(t.TempDir(), "cash.db"))) })
	t.Run("postgres", func(t *testing.T) { fn(t, newDesk(t, testsvc.PostgresURL(t))) })
}

func newDesk(t *testing.T, url string) *desk {
	t.Helper()
	ctx := context.Background()
	c := &clock{t: time.Date(2026, 11, 23, 15, 0, 0, 0, time.UTC)}
	db, err := store.Open(ctx, url, store.WithClock(c))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	msk, _ := time.LoadLocation("Europe/Moscow")
	d := &desk{t: t, db: db, clock: c,
		cash:     cashdesk.New(db, c, cashdesk.Config{Currency: "RUB", Location: msk}),
		dispatch: dispatch.New(db, c, dispatch.Config{Currency: "RUB", Location: msk, Tariff: dispatch.DefaultTariff}, nil, nil)}
	for _, dep := range []**courier.Depot{&d.depot, &d.other} {
		*dep = &courier.Depot{Name: "Depot", Location: courier.LatLng{Lat: 55.73, Lng: 37.64}, Opens: "07:00", Closes: "23:00"}
		d.must(db.CreateDepot(ctx, *dep))
	}
	for i := range 2 {
		cr := &courier.Courier{Name: fmt.Sprintf("Courier %d", i+1), Phone: "+7 916 555-00-11", Vehicle: courier.Vehicle{Type: courier.VehicleCar},
			Shift: courier.Shift{Start: "09:00", End: "18:00"}, DepotID: d.depot.ID, Active: true}
		u := &courier.User{Login: fmt.Sprintf("courier%d", i+1), Role: courier.RoleCourier, PasswordHash: "x", Active: true}
		d.must(db.CreateCourier(ctx, cr, u))
		d.couriers = append(d.couriers, cr)
	}
	for _, a := range []struct {
		actor *courier.Actor
		role  courier.Role
	}{{&d.cashier, courier.RoleCashier}, {&d.cashier2, courier.RoleCashier}, {&d.admin, courier.RoleAdmin}, {&d.disp, courier.RoleDispatcher}} {
		u := &courier.User{Login: fmt.Sprintf("%s-%d", a.role, len(d.couriers)+int(rand.Int32N(1e6))), Role: a.role, PasswordHash: "x", Active: true}
		d.must(db.CreateUser(ctx, u))
		*a.actor = courier.Actor{UserID: u.ID, Role: a.role, TokenID: fmt.Sprintf("jti-%s-%d", a.role, u.ID)}
	}
	d.plan = &courier.Plan{Date: "2026-11-23", DepotID: d.depot.ID, Status: courier.PlanDone, TimeLimit: time.Second}
	d.must(db.CreatePlan(ctx, d.plan))
	return d
}

func (d *desk) must(err error) {
	d.t.Helper()
	if err != nil {
		d.t.Fatal(err)
	}
}

func (d *desk) courierActor(i int) courier.Actor {
	c := d.couriers[i]
	return courier.Actor{UserID: c.UserID, Role: courier.RoleCourier, CourierID: c.ID, TokenID: fmt.Sprintf("jti-courier-%d", c.ID)}
}

// orderSpec is an order of a test sheet.
type orderSpec struct {
	amount int64
	method courier.PaymentMethod
	items  []courier.Item
}

func cash(amount int64) orderSpec { return orderSpec{amount: amount, method: courier.PayCash} }

// sheet creates orders and a route sheet for courier ci at depot, active, its
// orders out for delivery, as publishing and starting the sheet would.
func (d *desk) sheet(ci int, depot *courier.Depot, specs ...orderSpec) (*courier.RouteSheet, []*courier.Order) {
	d.t.Helper()
	ctx := context.Background()
	c := d.couriers[ci]
	sh := &courier.RouteSheet{CourierID: c.ID, DepotID: depot.ID, Date: "2026-11-23", Start: d.clock.Now(), End: d.clock.Now().Add(8 * time.Hour)}
	var ids []int64
	for i, sp := range specs {
		d.n++
		items := sp.items
		if items == nil {
			items = []courier.Item{{SKU: "SKU", Name: "Box", Qty: 1, Barcode: fmt.Sprintf("460%010d", d.n)}}
		}
		o := &courier.Order{ExternalID: fmt.Sprintf("T-%d", d.n), Customer: courier.Customer{Name: "Anna", Phone: "+7 903 123-45-67"},
			Address: "Tverskaya 7", Location: courier.LatLng{Lat: 55.75, Lng: 37.61}, DeliveryDate: "2026-11-23", Items: items,
			COD: courier.COD{Amount: sp.amount, Currency: "RUB", Method: sp.method}, Status: courier.StatusReady,
			PaymentStatus: courier.PaymentCODPending, DepotID: depot.ID}
		if sp.method == courier.PayPrepaid {
			o.PaymentStatus = courier.PaymentPrepaid
		}
		d.must(d.db.CreateOrder(ctx, o, &courier.OrderEvent{Kind: courier.EventCreated, ToStatus: o.Status}))
		ids = append(ids, o.ID)
		sh.Stops = append(sh.Stops, courier.SheetStop{OrderID: o.ID, Seq: i + 1})
	}
	d.must(d.db.ReplaceDraftSheets(ctx, d.plan.ID, []*courier.RouteSheet{sh}))
	_, err := d.db.UpdateSheets(ctx, []int64{sh.ID}, ids, func(sheets []*courier.RouteSheet, orders map[int64]*courier.Order) ([]courier.OrderEvent, error) {
		sheets[0].Status = courier.SheetActive
		var evs []courier.OrderEvent
		for _, o := range orders {
			o.Status, o.CourierID, o.RouteSheetID = courier.StatusOutForDelivery, c.ID, sh.ID
			evs = append(evs, courier.OrderEvent{OrderID: o.ID, Kind: courier.EventStatus, FromStatus: courier.StatusReady, ToStatus: o.Status})
		}
		return evs, nil
	})
	d.must(err)
	var out []*courier.Order
	for _, id := range ids {
		o, err := d.db.Order(ctx, id)
		d.must(err)
		out = append(out, o)
	}
	return sh, out
}

// move changes an order's status through dispatch, as its courier for the
// delivery outcomes and as the dispatcher otherwise.
func (d *desk) move(o *courier.Order, to courier.OrderStatus) {
	d.t.Helper()
	actor := d.disp
	for i, c := range d.couriers {
		if c.ID == o.CourierID && (to == courier.StatusDelivered || to == courier.StatusFailedAttempt || to == courier.StatusRefused) {
			actor = d.courierActor(i)
		}
	}
	_, err := d.dispatch.ChangeStatus(context.Background(), actor, o.ID, dispatch.StatusChange{To: to, Reason: "test"})
	d.must(err)
}

func (d *desk) openShift(a courier.Actor, depot *courier.Depot) *courier.CashShift {
	d.t.Helper()
	sh, err := d.cash.OpenShift(context.Background(), a, depot.ID, "float 0")
	d.must(err)
	return sh
}

func rub(n int64) courier.Money { return courier.Money{Amount: n, Currency: "RUB"} }

// wantCode fails unless err is a domain error with code.
func wantCode(t *testing.T, err error, code string) {
	t.Helper()
	var e *courier.Error
	if !errors.As(err, &e) || e.Code != code {
		t.Fatalf("error = %v, want code %s", err, code)
	}
}

func wantField(t *testing.T, err error, field string) {
	t.Helper()
	wantCode(t, err, courier.EINVALID)
	if f, _ := courier.ErrorDetails(err)["field"].(string); f != field {
		t.Fatalf("error %v names field %q, want %q", err, f, field)
	}
}

// ledgerSumsToZero fails unless every currency of the whole ledger sums to zero
// and every transaction balances.
func (d *desk) ledgerSumsToZero() {
	d.t.Helper()
	ps, err := d.db.Postings(context.Background(), courier.PostingFilter{})
	d.must(err)
	if err := courier.CheckBalanced(ps); err != nil {
		d.t.Fatalf("ledger: %v", err)
	}
	sums := map[string]int64{}
	for _, p := range ps {
		sums[p.Currency] += p.Amount
	}
	for cur, s := range sums {
		if s != 0 {
			d.t.Fatalf("the ledger sums to %d %s", s, cur)
		}
	}
}

func lineByOrder(v *cashdesk.SheetView, id int64) cashdesk.OrderLine {
	for _, l := range v.Lines {
		if l.Order.ID == id {
			return l
		}
	}
	return cashdesk.OrderLine{}
}

func TestScanAndSettle(t *testing.T) {
	backends(t, func(t *testing.T, d *desk) {
		ctx := context.Background()
		sh, os := d.sheet(0, d.depot, cash(10000), cash(25050), cash(4950), orderSpec{amount: 30000, method: courier.PayCard},
			orderSpec{method: courier.PayPrepaid},
			orderSpec{amount: 5000, method: courier.PayCash, items: []courier.Item{{Name: "Cup", Qty: 2, Barcode: "CUP"}, {SKU: "LID", Name: "Lid", Qty: 1}}},
			cash(1000))
		for _, o := range os[:5] {
			d.move(o, courier.StatusDelivered)
		}
		d.move(os[5], courier.StatusRefused)
		// os[6] is still out for delivery.

		v, err := d.cash.Scan(ctx, d.cashier, sh.Number)
		d.must(err)
		if v.Sheet.ID != sh.ID || v.CourierName != "Courier 1" || len(v.Lines) != 7 || v.Currency != "RUB" {
			t.Fatalf("scan: sheet %d, courier %q, %d lines", v.Sheet.ID, v.CourierName, len(v.Lines))
		}
		states := ""
		for _, l := range v.Lines {
			states += l.State + " "
		}
		if states != "to_settle to_settle to_settle card prepaid goods_due pending " {
			t.Errorf("states = %s", states)
		}
		if l := lineByOrder(v, os[1].ID); l.ExpectedCash != 25050 || l.Reported != 25050 || l.Outstanding != 25050 || l.Settled != 0 {
			t.Errorf("cash line = %+v", l)
		}
		want := cashdesk.Totals{Expected: 40000, Pending: 1000, Outstanding: 40000, Card: 30000, GoodsDue: 3}
		if v.Totals != want {
			t.Errorf("totals = %+v\nwant     %+v", v.Totals, want)
		}

		// No shift: refused. Then a shortage of 50.00, with a note.
		in := cashdesk.SettleInput{Barcode: sh.Number, Counted: rub(35000), Note: "courier says a customer underpaid", Key: "k1",
			Denominations: []courier.Denomination{{Value: 500000 / 100, Count: 6}, {Value: 5000, Count: 1}}}
		_, err = d.cash.Settle(ctx, d.cashier, in)
		wantCode(t, err, courier.ECONFLICT)
		shift := d.openShift(d.cashier, d.depot)
		st, err := d.cash.Settle(ctx, d.cashier, in)
		d.must(err)
		if st.Expected != 40000 || st.Counted != 35000 || st.Discrepancy() != -5000 || len(st.Orders) != 3 || st.ShiftID != shift.ID ||
			st.CashierID != d.cashier.UserID || st.TokenID != d.cashier.TokenID || st.Replayed {
			t.Fatalf("settlement = %+v", st)
		}
		// A retry with the key answers the same settlement; with another body it is refused.
		again, err := d.cash.Settle(ctx, d.cashier, in)
		d.must(err)
		if again.ID != st.ID || !again.Replayed {
			t.Errorf("retry = %+v", again)
		}
		other := in
		other.Counted, other.Denominations = rub(40000), nil
		_, err = d.cash.Settle(ctx, d.cashier, other)
		wantCode(t, err, courier.EIDEMPOTENCY)
		// Nothing delivered is left to settle; one order is still out.
		other.Key = "k2"
		_, err = d.cash.Settle(ctx, d.cashier, other)
		wantCode(t, err, courier.ECONFLICT)

		for _, o := range os[:3] {
			got, err := d.db.Order(ctx, o.ID)
			d.must(err)
			if got.PaymentStatus != courier.PaymentDeposited {
				t.Errorf("order %d payment %s, want deposited", o.ID, got.PaymentStatus)
			}
		}
		card, _ := d.db.Order(ctx, os[3].ID)
		if card.PaymentStatus != courier.PaymentCollected {
			t.Errorf("card order payment %s, want collected", card.PaymentStatus)
		}
		bal, err := d.cash.CourierBalance(ctx, d.courierActor(0), d.couriers[0].ID, 0, 0)
		d.must(err)
		if bal.Cash != 0 || bal.Discrepancy != 5000 || bal.Owed != 5000 || bal.Goods != 3 || len(bal.Entries) == 0 {
			t.Errorf("balance after the shortage = %+v", bal)
		}

		// The last order is delivered: a partial settlement of it alone.
		d.move(os[6], courier.StatusDelivered)
		st2, err := d.cash.Settle(ctx, d.cashier, cashdesk.SettleInput{Barcode: sh.Number, Counted: rub(1000), Key: "k3"})
		d.must(err)
		if st2.Expected != 1000 || len(st2.Orders) != 1 || st2.Orders[0].OrderID != os[6].ID {
			t.Errorf("second settlement = %+v", st2)
		}
		_, err = d.cash.Settle(ctx, d.cashier, cashdesk.SettleInput{Barcode: sh.Number, Counted: rub(1000), Key: "k4"})
		wantCode(t, err, courier.ECONFLICT)

		v, err = d.cash.Scan(ctx, d.cashier, sh.Number)
		d.must(err)
		want = cashdesk.Totals{Expected: 41000, Settled: 41000, Counted: 36000, Discrepancy: -5000, Card: 30000, GoodsDue: 3}
		if v.Totals != want || len(v.Settlements) != 2 {
			t.Errorf("totals after settling = %+v (%d settlements)\nwant %+v", v.Totals, len(v.Settlements), want)
		}
		d.ledgerSumsToZero()
		rec, err := d.cash.Reconciliation(ctx, d.cashier, "2026-11-23", d.depot.ID)
		d.must(err)
		if !rec.Balanced || len(rec.Totals) != 2 {
			t.Errorf("reconciliation = %+v", rec)
		}
		for _, a := range rec.Accounts {
			if a.Account == courier.AccountCashdesk(d.depot.ID) && a.Balance() != 36000 {
				t.Errorf("cash desk holds %d, want 36000", a.Balance())
			}
		}
	})
}

func TestSettleBadInput(t *testing.T) {
	backends(t, func(t *testing.T, d *desk) {
		ctx := context.Background()
		sh, os := d.sheet(0, d.depot, cash(10000), cash(2000))
		otherSheet, otherOrders := d.sheet(1, d.other, cash(500))
		d.move(otherOrders[0], courier.StatusDelivered)
		d.openShift(d.cashier, d.depot)
		ok := cashdesk.SettleInput{Barcode: sh.Number, Counted: rub(10000), Key: "bad"}
		with := func(f func(in *cashdesk.SettleInput)) cashdesk.SettleInput { in := ok; f(&in); return in }
		bad := sh.Number[:len(sh.Number)-1] + string('0'+(sh.Number[len(sh.Number)-1]-'0'+1)%10)
		for _, test := range []struct {
			name  string
			actor courier.Actor
			in    cashdesk.SettleInput
			code  string
			field string
		}{
			{"a courier", d.courierActor(0), ok, courier.EFORBIDDEN, ""},
			{"a dispatcher", d.disp, ok, courier.EFORBIDDEN, ""},
			{"no key", d.cashier, with(func(in *cashdesk.SettleInput) { in.Key = "" }), courier.EINVALID, "Idempotency-Key"},
			{"no barcode", d.cashier, with(func(in *cashdesk.SettleInput) { in.Barcode = " " }), courier.EINVALID, "barcode"},
			{"wrong check digit", d.cashier, with(func(in *cashdesk.SettleInput) { in.Barcode = bad }), courier.EINVALID, "barcode"},
			{"letters", d.cashier, with(func(in *cashdesk.SettleInput) { in.Barcode = "0000000A1" }), courier.EINVALID, "barcode"},
			{"unknown sheet", d.cashier, with(func(in *cashdesk.SettleInput) { in.Barcode = courier.SheetNumber(987654) }), courier.ENOTFOUND, ""},
			{"negative", d.cashier, with(func(in *cashdesk.SettleInput) { in.Counted.Amount = -1 }), courier.EINVALID, "counted.amount"},
			{"foreign currency", d.cashier, with(func(in *cashdesk.SettleInput) { in.Counted.Currency = "USD" }), courier.EINVALID, "counted.currency"},
			{"no currency", d.cashier, with(func(in *cashdesk.SettleInput) { in.Counted.Currency = "" }), courier.EINVALID, "counted.currency"},
			{"denominations off", d.cashier, with(func(in *cashdesk.SettleInput) {
				in.Denominations = []courier.Denomination{{Value: 5000, Count: 1}}
			}), courier.EINVALID, "denominations"},
			{"zero denomination", d.cashier, with(func(in *cashdesk.SettleInput) {
				in.Denominations = []courier.Denomination{{Value: 0, Count: 1}}
			}), courier.EINVALID, "denominations[0].value"},
			{"a barcode as counted", d.cashier, with(func(in *cashdesk.SettleInput) { in.Counted.Amount = 4600000000017 }), courier.EINVALID, "counted.amount"},
			{"int64 max as counted", d.cashier, with(func(in *cashdesk.SettleInput) { in.Counted.Amount = math.MaxInt64 }), courier.EINVALID, "counted.amount"},
			{"a barcode as denomination", d.cashier, with(func(in *cashdesk.SettleInput) {
				in.Denominations = []courier.Denomination{{Value: 4600000000017, Count: 1}}
			}), courier.EINVALID, "denominations[0].value"},
			{"too many denominations", d.cashier, with(func(in *cashdesk.SettleInput) {
				in.Denominations = make([]courier.Denomination, cashdesk.MaxDenominations+1)
			}), courier.EINVALID, "denominations"},
			{"nothing delivered", d.cashier, ok, courier.ECONFLICT, ""},
			{"another depot's sheet", d.cashier, with(func(in *cashdesk.SettleInput) { in.Barcode = otherSheet.Number; in.Key = "o" }), courier.ECONFLICT, ""},
			{"no shift", d.cashier2, with(func(in *cashdesk.SettleInput) { in.Key = "n" }), courier.ECONFLICT, ""},
		} {
			_, err := d.cash.Settle(ctx, test.actor, test.in)
			if test.field != "" {
				wantField(t, err, test.field)
			} else {
				wantCode(t, err, test.code)
			}
		}
		if _, err := d.cash.Settle(ctx, d.cashier, ok); courier.ErrorDetails(err)["pending_orders"] != 2 {
			t.Errorf("nothing delivered: %v does not count the 2 pending orders", err)
		}
		sts, err := d.db.Settlements(ctx, courier.SettlementFilter{})
		d.must(err)
		if len(sts) != 0 {
			t.Errorf("bad requests stored %d settlements", len(sts))
		}
		// Settling twice: the second time nothing is outstanding.
		for _, o := range os {
			d.move(o, courier.StatusDelivered)
		}
		_, err = d.cash.Settle(ctx, d.cashier, with(func(in *cashdesk.SettleInput) { in.Counted.Amount = 12000 }))
		d.must(err)
		_, err = d.cash.Settle(ctx, d.cashier, with(func(in *cashdesk.SettleInput) { in.Counted.Amount = 12000; in.Key = "twice" }))
		wantCode(t, err, courier.ECONFLICT)
		d.ledgerSumsToZero()
	})
}

func TestReturnedGoods(t *testing.T) {
	backends(t, func(t *testing.T, d *desk) {
		ctx := context.Background()
		sh, os := d.sheet(0, d.depot,
			orderSpec{amount: 5000, method: courier.PayCash, items: []courier.Item{{Name: "Cup", Qty: 2, Barcode: "CUP"}, {SKU: "LID", Name: "Lid", Qty: 1}}},
			orderSpec{amount: 0, method: courier.PayPrepaid, items: []courier.Item{{Name: "Box", Qty: 1, Barcode: "BOX"}}},
			cash(700))
		d.move(os[0], courier.StatusRefused)
		d.move(os[1], courier.StatusFailedAttempt)
		d.move(os[2], courier.StatusDelivered)
		in := func(code string) cashdesk.ReturnInput {
			return cashdesk.ReturnInput{Barcode: sh.Number, ItemBarcode: code}
		}

		_, err := d.cash.CheckIn(ctx, d.courierActor(0), in("CUP"))
		wantCode(t, err, courier.EFORBIDDEN)
		_, err = d.cash.CheckIn(ctx, d.cashier, in("NOPE"))
		wantField(t, err, "item_barcode")
		_, err = d.cash.CheckIn(ctx, d.cashier, cashdesk.ReturnInput{Barcode: sh.Number})
		wantField(t, err, "item_barcode")
		_, err = d.cash.CheckIn(ctx, d.cashier, cashdesk.ReturnInput{Barcode: courier.SheetNumber(55555), ItemBarcode: "CUP"})
		wantCode(t, err, courier.ENOTFOUND)
		// A delivered order's goods are not returned.
		_, err = d.cash.CheckIn(ctx, d.cashier, in(os[2].Items[0].Barcode))
		wantField(t, err, "item_barcode")

		for i, code := range []string{"CUP", "LID", "CUP"} {
			r, err := d.cash.CheckIn(ctx, d.cashier, in(code))
			d.must(err)
			if r.OrderID != os[0].ID || r.PiecesIn != int64(i+1) || r.PiecesTotal != 3 || r.OrderComplete != (i == 2) || r.Item.TokenID != d.cashier.TokenID {
				t.Errorf("scan %d = %+v", i, r)
			}
		}
		_, err = d.cash.CheckIn(ctx, d.cashier, in("CUP"))
		wantCode(t, err, courier.ECONFLICT)
		o, err := d.db.Order(ctx, os[0].ID)
		d.must(err)
		if o.Status != courier.StatusReturnedToDepot {
			t.Errorf("order status %s, want returned_to_depot", o.Status)
		}
		h, err := d.db.OrderHistory(ctx, o.ID)
		d.must(err)
		if last := h[len(h)-1]; last.ToStatus != courier.StatusReturnedToDepot || last.ActorID != d.cashier.UserID || last.ActorRole != courier.RoleCashier {
			t.Errorf("last event = %+v", last)
		}
		// The failed attempt goes back to ready instead: its goods are back too.
		d.move(os[1], courier.StatusReady)
		bal, err := d.cash.CourierBalance(ctx, d.admin, d.couriers[0].ID, 0, 0)
		d.must(err)
		if bal.Goods != 0 || bal.Cash != 700 {
			t.Errorf("balance = %+v, want no goods and 700 cash", bal)
		}
		v, err := d.cash.Scan(ctx, d.cashier, sh.Number)
		d.must(err)
		if v.Totals.GoodsDue != 0 || v.Totals.GoodsReturned != 3 || lineByOrder(v, os[0].ID).State != cashdesk.StateReturned ||
			lineByOrder(v, os[1].ID).State != cashdesk.StateNone {
			t.Errorf("scan after returns: %+v", v.Totals)
		}
		d.ledgerSumsToZero()
	})
}

func TestShiftsAndBalances(t *testing.T) {
	backends(t, func(t *testing.T, d *desk) {
		ctx := context.Background()
		sh1, os1 := d.sheet(0, d.depot, cash(10000), orderSpec{amount: 2500, method: courier.PayCard})
		sh2, os2 := d.sheet(1, d.depot, cash(3000))
		for _, o := range append(os1, os2...) {
			d.move(o, courier.StatusDelivered)
		}
		_, err := d.cash.OpenShift(ctx, d.courierActor(0), d.depot.ID, "")
		wantCode(t, err, courier.EFORBIDDEN)
		_, err = d.cash.OpenShift(ctx, d.cashier, 0, "")
		wantField(t, err, "depot_id")
		shift := d.openShift(d.cashier, d.depot)
		_, err = d.cash.OpenShift(ctx, d.cashier, d.depot.ID, "")
		wantCode(t, err, courier.ECONFLICT)

		_, err = d.cash.Settle(ctx, d.cashier, cashdesk.SettleInput{Barcode: sh1.Number, Counted: rub(9000), Note: "short", Key: "a"})
		d.must(err)
		_, err = d.cash.Settle(ctx, d.cashier, cashdesk.SettleInput{Barcode: sh2.Number, Counted: rub(3500), Key: "b"})
		d.must(err)

		// Balances: each courier their own.
		_, err = d.cash.CourierBalance(ctx, d.courierActor(0), d.couriers[1].ID, 0, 0)
		wantCode(t, err, courier.EFORBIDDEN)
		_, err = d.cash.CourierBalance(ctx, d.cashier, 424242, 0, 0)
		wantCode(t, err, courier.ENOTFOUND)
		b2, err := d.cash.CourierBalance(ctx, d.courierActor(1), d.couriers[1].ID, 0, 0)
		d.must(err)
		if b2.Owed != -500 || b2.Discrepancy != -500 {
			t.Errorf("surplus balance = %+v", b2)
		}
		page, err := d.cash.CourierBalance(ctx, d.cashier, d.couriers[0].ID, 0, 1)
		d.must(err)
		if len(page.Entries) != 1 || page.NextAfter == 0 {
			t.Errorf("first page = %d entries, next %d", len(page.Entries), page.NextAfter)
		}
		debtors, err := d.cash.Debtors(ctx, d.cashier, d.depot.ID)
		d.must(err)
		if len(debtors) != 2 || debtors[0].Owed != 1000 || debtors[1].Owed != -500 || debtors[0].Name != "Courier 1" {
			t.Errorf("debtors = %+v", debtors)
		}
		if none, _ := d.cash.Debtors(ctx, d.cashier, d.other.ID); len(none) != 0 {
			t.Errorf("debtors of the other depot = %+v", none)
		}

		// Resolving: too much, a cashier writing off, then a partial repayment and an admin's write-off.
		res := cashdesk.ResolveInput{CourierID: d.couriers[0].ID, Amount: rub(1500), Method: cashdesk.ResolveCash}
		_, err = d.cash.Resolve(ctx, d.cashier, res)
		wantField(t, err, "Idempotency-Key")
		res.Key = "r1"
		_, err = d.cash.Resolve(ctx, d.cashier, res)
		wantField(t, err, "amount.amount")
		res.Amount, res.Key = rub(600), "r2"
		r, err := d.cash.Resolve(ctx, d.cashier, res)
		d.must(err)
		if len(r.Postings) != 2 || r.Postings[0].ShiftID != shift.ID || r.Replayed {
			t.Errorf("repayment = %+v", r)
		}
		// The retry answers what was booked; the key with another amount is refused.
		again, err := d.cash.Resolve(ctx, d.cashier, res)
		d.must(err)
		if !again.Replayed || len(again.Postings) != 2 || again.Postings[0].ID != r.Postings[0].ID {
			t.Errorf("retried repayment = %+v", again)
		}
		other := res
		other.Amount = rub(100)
		_, err = d.cash.Resolve(ctx, d.cashier, other)
		wantCode(t, err, courier.EIDEMPOTENCY)
		res.Method, res.Amount, res.Key = cashdesk.ResolveWriteOff, rub(400), "w1"
		_, err = d.cash.Resolve(ctx, d.cashier, res)
		wantCode(t, err, courier.EFORBIDDEN)
		_, err = d.cash.Resolve(ctx, d.admin, res)
		wantField(t, err, "note")
		res.Note = "customer refund confirmed"
		_, err = d.cash.Resolve(ctx, d.admin, res)
		d.must(err)
		res.Key = "w2"
		_, err = d.cash.Resolve(ctx, d.admin, res)
		wantCode(t, err, courier.ECONFLICT)
		res.Method = "barter"
		_, err = d.cash.Resolve(ctx, d.admin, res)
		wantField(t, err, "method")

		// The report so far, then closing: only the shift's cashier or an admin.
		live, err := d.cash.Shift(ctx, d.cashier, shift.ID)
		d.must(err)
		if live.Settlements != 2 || live.CashIn != 9000+3500+600 || live.ByMethod[1].Orders != 1 || live.ByMethod[1].Amount != 2500 {
			t.Errorf("live report = %+v", live)
		}
		_, err = d.cash.CloseShift(ctx, d.cashier2, shift.ID, "")
		wantCode(t, err, courier.EFORBIDDEN)
		rep, err := d.cash.CloseShift(ctx, d.cashier, shift.ID, "all counted")
		d.must(err)
		if rep.Settlements != 2 || rep.ByMethod[0].Method != courier.PayCash || rep.ByMethod[0].Expected != 13000 || rep.ByMethod[0].Amount != 12500 ||
			rep.ByMethod[0].Orders != 2 || rep.ByMethod[1].Method != courier.PayCard || rep.ByMethod[1].Amount != 2500 || rep.ByMethod[1].Orders != 1 {
			t.Errorf("by method = %+v", rep.ByMethod)
		}
		if len(rep.Discrepancies) != 2 || rep.DiscrepancyTotal != -500 || len(rep.Resolutions) != 1 || rep.CashIn != 13100 {
			t.Errorf("report = %+v", rep)
		}
		if len(rep.Owing) != 1 || rep.Owing[0].CourierID != d.couriers[1].ID {
			t.Errorf("owing at close = %+v", rep.Owing)
		}
		_, err = d.cash.CloseShift(ctx, d.cashier, shift.ID, "")
		wantCode(t, err, courier.ECONFLICT)
		stored, err := d.cash.Shift(ctx, d.admin, shift.ID)
		d.must(err)
		if stored.Shift.Status != courier.ShiftClosed || stored.CashIn != rep.CashIn || len(stored.Discrepancies) != 2 || stored.Shift.ClosedToken != d.cashier.TokenID {
			t.Errorf("stored report = %+v", stored)
		}
		// Cash cannot be taken without an open shift.
		_, err = d.cash.Resolve(ctx, d.cashier, cashdesk.ResolveInput{CourierID: d.couriers[1].ID, Amount: rub(500), Method: cashdesk.ResolveCash, Key: "late"})
		wantCode(t, err, courier.ECONFLICT)
		d.ledgerSumsToZero()
	})
}

// TestReconciliationAlwaysBalances drives random deliveries, failures,
// settlements (exact, short, over), returns and resolutions over several
// days and checks every day's reconciliation of every depot balances.
func TestReconciliationAlwaysBalances(t *testing.T) {
	backends(t, func(t *testing.T, d *desk) {
		ctx := context.Background()
		rng := rand.New(rand.NewPCG(7, 11))
		d.openShift(d.cashier, d.depot)
		d.openShift(d.cashier2, d.other)
		days := map[string]bool{}
		for day := range 3 {
			for s := range 4 {
				depot, cashier := d.depot, d.cashier
				if s%2 == 1 {
					depot, cashier = d.other, d.cashier2
				}
				var specs []orderSpec
				for range 2 + rng.IntN(4) {
					specs = append(specs, []orderSpec{cash(int64(100 + rng.IntN(100000))), {amount: int64(rng.IntN(5000) + 1), method: courier.PayCard},
						{method: courier.PayPrepaid}}[rng.IntN(3)])
				}
				sh, os := d.sheet(s%2, depot, specs...)
				for _, o := range os {
					switch rng.IntN(4) {
					case 0:
						d.move(o, courier.StatusRefused)
						for _, it := range o.Items {
							for range it.Qty {
								_, _ = d.cash.CheckIn(ctx, cashier, cashdesk.ReturnInput{Barcode: sh.Number, ItemBarcode: it.Barcode})
							}
						}
					case 1:
						d.move(o, courier.StatusFailedAttempt)
					default:
						d.move(o, courier.StatusDelivered)
					}
				}
				v, err := d.cash.Scan(ctx, cashier, sh.Number)
				d.must(err)
				counted := max(v.Totals.Outstanding+int64(rng.IntN(2001)-1000), 0)
				_, err = d.cash.Settle(ctx, cashier, cashdesk.SettleInput{Barcode: sh.Number, Counted: rub(counted), Key: fmt.Sprintf("d%d-s%d", day, s)})
				if err != nil && courier.ErrorCode(err) != courier.ECONFLICT {
					t.Fatal(err)
				}
			}
			for _, c := range d.couriers {
				b, err := d.cash.CourierBalance(ctx, d.cashier, c.ID, 0, 0)
				d.must(err)
				if b.Discrepancy > 0 {
					_, err = d.cash.Resolve(ctx, d.cashier, cashdesk.ResolveInput{CourierID: c.ID, Amount: rub(b.Discrepancy/2 + 1), Method: cashdesk.ResolveCash,
						Key: fmt.Sprintf("d%d-c%d", day, c.ID)})
					d.must(err)
				}
			}
			days[d.clock.Now().In(d.cash.Config().Location).Format(time.DateOnly)] = true
			d.clock.Add(24 * time.Hour)
		}
		for day := range days {
			for _, dep := range []*courier.Depot{d.depot, d.other} {
				rec, err := d.cash.Reconciliation(ctx, d.admin, day, dep.ID)
				d.must(err)
				if !rec.Balanced || len(rec.Accounts) == 0 {
					t.Errorf("%s depot %d: reconciliation %+v", day, dep.ID, rec)
				}
				var sum int64
				for _, a := range rec.Accounts {
					sum += a.Balance()
				}
				if sum != 0 {
					t.Errorf("%s depot %d sums to %d", day, dep.ID, sum)
				}
			}
		}
		_, err := d.cash.Reconciliation(ctx, d.admin, "23.11.2026", d.depot.ID)
		wantField(t, err, "date")
		_, err = d.cash.Reconciliation(ctx, d.admin, "2026-11-23", 0)
		wantField(t, err, "depot_id")
		_, err = d.cash.Reconciliation(ctx, d.courierActor(0), "2026-11-23", d.depot.ID)
		wantCode(t, err, courier.EFORBIDDEN)
		d.ledgerSumsToZero()
	})
}

// TestResolveConcurrent: many requests with one key book one repayment.
func TestResolveConcurrent(t *testing.T) {
	backends(t, func(t *testing.T, d *desk) {
		ctx := context.Background()
		sh, os := d.sheet(0, d.depot, cash(10000))
		d.move(os[0], courier.StatusDelivered)
		d.openShift(d.cashier, d.depot)
		_, err := d.cash.Settle(ctx, d.cashier, cashdesk.SettleInput{Barcode: sh.Number, Counted: rub(9000), Key: "short"})
		d.must(err)
		var wg sync.WaitGroup
		ids := make(chan int64, 10)
		for range 10 {
			wg.Go(func() {
				r, err := d.cash.Resolve(ctx, d.cashier, cashdesk.ResolveInput{CourierID: d.couriers[0].ID, Amount: rub(300),
					Method: cashdesk.ResolveCash, Key: "once"})
				if err != nil {
					t.Error(err)
					return
				}
				ids <- r.Postings[0].ID
			})
		}
		wg.Wait()
		close(ids)
		seen := map[int64]bool{}
		for id := range ids {
			seen[id] = true
		}
		b, err := d.cash.CourierBalance(ctx, d.cashier, d.couriers[0].ID, 0, 0)
		d.must(err)
		if len(seen) != 1 || b.Discrepancy != 700 {
			t.Errorf("%d distinct bookings, discrepancy %d; want 1 and 700", len(seen), b.Discrepancy)
		}
		d.ledgerSumsToZero()
	})
}

// TestSettleCountedBounds: a count far beyond what the sheet owes (a barcode
// scanned into the field) is refused naming counted.amount, nothing is
// booked, and the reconciliation stays balanced; a large but plausible
// surplus is booked. The bound is max(expected × 10, expected + 1,000,000.00).
func TestSettleCountedBounds(t *testing.T) {
	backends(t, func(t *testing.T, d *desk) {
		ctx := context.Background()
		sh, os := d.sheet(0, d.depot, cash(10000), cash(2000))
		for _, o := range os {
			d.move(o, courier.StatusDelivered)
		}
		d.openShift(d.cashier, d.depot)
		limit := int64(12000 + 100_000_000) // 120.00 + 1,000,000.00 RUB
		// Just over the bound, 460 million roubles, and an EAN-13 read as kopecks.
		for _, counted := range []int64{limit + 1, 46_000_000_000, 4600000000017} {
			_, err := d.cash.Settle(ctx, d.cashier, cashdesk.SettleInput{Barcode: sh.Number, Counted: rub(counted), Key: fmt.Sprint("scan-", counted)})
			wantField(t, err, "counted.amount")
			if counted < cashdesk.MaxAmount && (courier.ErrorDetails(err)["max"] != limit || !strings.Contains(courier.ErrorMessage(err), "scanned barcode")) {
				t.Errorf("counted %d: %v %v", counted, courier.ErrorMessage(err), courier.ErrorDetails(err))
			}
		}
		sts, err := d.db.Settlements(ctx, courier.SettlementFilter{})
		d.must(err)
		if len(sts) != 0 {
			t.Fatalf("refused counts stored %d settlements", len(sts))
		}
		st, err := d.cash.Settle(ctx, d.cashier, cashdesk.SettleInput{Barcode: sh.Number, Counted: rub(limit), Note: "found in the bag", Key: "max"})
		d.must(err)
		if st.Discrepancy() != 100_000_000 {
			t.Errorf("surplus %d, want 100000000", st.Discrepancy())
		}
		// A resolution of a barcode-sized amount is refused before anything else.
		_, err = d.cash.Resolve(ctx, d.cashier, cashdesk.ResolveInput{CourierID: d.couriers[0].ID, Amount: rub(4600000000017),
			Method: cashdesk.ResolveCash, Key: "scan"})
		wantField(t, err, "amount.amount")
		d.ledgerSumsToZero()
		rec, err := d.cash.Reconciliation(ctx, d.admin, "2026-11-23", d.depot.ID)
		d.must(err)
		if !rec.Balanced {
			t.Errorf("reconciliation %+v", rec)
		}
	})
}

// closingStore closes the cashier's shift right after handing it out: a
// close that commits between a request reading the shift and booking on it.
type closingStore struct {
	courier.Store
	close func(*courier.CashShift)
}

func (s *closingStore) OpenCashShiftOf(ctx context.Context, cashierID int64) (*courier.CashShift, error) {
	sh, err := s.Store.OpenCashShiftOf(ctx, cashierID)
	if err == nil {
		s.close(sh)
	}
	return sh, err
}

// TestResolveOnClosedShift: a cash repayment whose shift is closed while
// the request runs books nothing on the closed shift (ECONFLICT): the shift
// is checked under its lock in the booking's transaction.
func TestResolveOnClosedShift(t *testing.T) {
	backends(t, func(t *testing.T, d *desk) {
		ctx := context.Background()
		sh, os := d.sheet(0, d.depot, cash(10000))
		d.move(os[0], courier.StatusDelivered)
		shift := d.openShift(d.cashier, d.depot)
		_, err := d.cash.Settle(ctx, d.cashier, cashdesk.SettleInput{Barcode: sh.Number, Counted: rub(9000), Key: "short"})
		d.must(err)
		racing := cashdesk.New(&closingStore{Store: d.db, close: func(s *courier.CashShift) {
			_, err := d.cash.CloseShift(ctx, d.cashier, s.ID, "end of day")
			d.must(err)
		}}, d.clock, d.cash.Config())
		_, err = racing.Resolve(ctx, d.cashier, cashdesk.ResolveInput{CourierID: d.couriers[0].ID, Amount: rub(300),
			Method: cashdesk.ResolveCash, Key: "late"})
		wantCode(t, err, courier.ECONFLICT)
		ps, err := d.db.Postings(ctx, courier.PostingFilter{ShiftID: shift.ID})
		d.must(err)
		for _, p := range ps {
			if p.Kind == courier.KindRepayment {
				t.Errorf("a repayment was booked on the closed shift: %+v", p)
			}
		}
		b, err := d.cash.CourierBalance(ctx, d.cashier, d.couriers[0].ID, 0, 0)
		d.must(err)
		if b.Discrepancy != 1000 {
			t.Errorf("discrepancy %d, want 1000", b.Discrepancy)
		}
		d.ledgerSumsToZero()
	})
}
