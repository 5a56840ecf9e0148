package cashdesk

import (
	"context"
	"strconv"
	"strings"

	"github.com/courierhq/courier"
)

// Line states: where an order of a sheet is, seen from the cash desk.
const (
	StatePending  = "pending"   // not delivered yet: nothing to settle
	StateToSettle = "to_settle" // delivered with cash: the courier owes it
	StateSettled  = "settled"   // the cash was accepted (payment deposited)
	StateCard     = "card"      // paid by card at the door: nothing in cash
	StatePrepaid  = "prepaid"   // nothing to collect
	StateGoodsDue = "goods_due" // failed or refused: the goods have to come back
	StateReturned = "returned"  // the goods are back at the depot
	StateNone     = "none"      // cancelled, or delivered without anything to collect
)

// OrderLine is one order of a scanned sheet. Money is in minor units of the
// company currency; goods are pieces.
type OrderLine struct {
	Order         *courier.Order
	State         string
	ExpectedCash  int64 // the cash the customer pays at the door (cash orders): the order's amount less refused goods
	Reported      int64 // the cash the courier reported collected (booked on delivery)
	ShortAtDoor   int64 // what was due at the door but not collected (reported by the courier)
	Settled       int64 // accepted at the desk
	Outstanding   int64 // still owed by the courier for this order
	Card          int64 // paid by card at the door
	GoodsPieces   int64 // pieces of goods the order is
	GoodsDue      int64 // pieces still to come back
	GoodsReturned int64 // pieces checked back in
}

// Totals sum a sheet's lines.
type Totals struct {
	Expected      int64 // cash owed for delivered orders (what the courier reported collected)
	Pending       int64 // cash of cash orders not delivered yet
	ShortAtDoor   int64 // due at the door but not collected, over the sheet's delivered orders
	Settled       int64 // cash accepted for orders
	Outstanding   int64 // Expected - Settled: what the courier still owes for the sheet's orders
	Counted       int64 // cash counted in the sheet's settlements
	Discrepancy   int64 // Counted - the expected of those settlements: negative is a shortage
	Card          int64
	GoodsDue      int64
	GoodsReturned int64
}

// SheetView is what the cashier sees after scanning a route sheet.
type SheetView struct {
	Sheet       *courier.RouteSheet
	CourierName string
	Currency    string
	Lines       []OrderLine
	Totals      Totals
	Settlements []*courier.Settlement
}

// Scan reads a route sheet by its barcode (the sheet number with its check
// digit) for the cash desk. Office roles only. Returns EFORBIDDEN, EINVALID
// (a malformed number or a wrong check digit), ENOTFOUND.
func (s *Service) Scan(ctx context.Context, actor courier.Actor, barcode string) (*SheetView, error) {
	if err := actor.Require(office...); err != nil {
		return nil, err
	}
	id, err := courier.ParseSheetNumber(strings.TrimSpace(barcode))
	if err != nil {
		return nil, err
	}
	book, err := s.store.SheetBook(ctx, id)
	if err != nil {
		return nil, notFoundSheet(err, barcode)
	}
	v := view(book, s.cfg.Currency)
	v.CourierName = s.courierName(ctx, book.Sheet.CourierID)
	return v, nil
}

// notFoundSheet names the barcode in a not-found error.
func notFoundSheet(err error, barcode string) error {
	if courier.ErrorCode(err) == courier.ENOTFOUND {
		return courier.Errorf(courier.ENOTFOUND, "no route sheet has the barcode %s", barcode)
	}
	return err
}

// view computes a sheet's lines and totals from its book: every amount comes
// from the ledger, the orders give only their state.
func view(b *courier.SheetBook, currency string) *SheetView {
	v := &SheetView{Sheet: b.Sheet, Currency: currency, Settlements: b.Settlements}
	byOrder := map[int64][]courier.Posting{}
	for _, p := range b.Postings {
		byOrder[p.OrderID] = append(byOrder[p.OrderID], p)
	}
	returned := map[int64]int64{}
	for _, r := range b.Returned {
		returned[r.OrderID]++
	}
	for _, o := range b.Orders {
		l := OrderLine{Order: o, GoodsPieces: courier.GoodsPieces(o), GoodsReturned: returned[o.ID]}
		if o.COD.Method == courier.PayCash {
			l.ExpectedCash = o.Due()
		}
		if o.Status == courier.StatusDelivered {
			l.ShortAtDoor = o.Report.Short()
		}
		var goods int64
		for _, p := range byOrder[o.ID] {
			switch {
			case p.Currency != currency && p.Currency != courier.GoodsUnit:
				continue
			case strings.HasPrefix(p.Account, courier.PrefixCourierCash):
				l.Outstanding += p.Amount
				if p.Kind == courier.KindCODCollected {
					l.Reported += p.Amount
				} else if p.Kind == courier.KindSettlement {
					l.Settled -= p.Amount
				}
			case p.Account == courier.AccountCardReceivable && p.Kind == courier.KindCardCollected:
				l.Card += p.Amount
			case strings.HasPrefix(p.Account, courier.PrefixCourierGoods):
				goods += p.Amount
			}
		}
		if goods > 0 {
			l.GoodsDue = max(goods-l.GoodsReturned, 0)
		}
		l.State = lineState(o, &l, goods)
		if o.RouteSheetID != b.Sheet.ID && (l.State == StatePending || l.State == StatePrepaid) {
			l.State = StateNone // taken off the sheet (back to ready for another day)
		}
		v.Lines = append(v.Lines, l)
		t := &v.Totals
		t.Expected += l.Reported
		t.Settled += l.Settled
		t.Outstanding += l.Outstanding
		t.Card += l.Card
		t.ShortAtDoor += l.ShortAtDoor
		t.GoodsDue += l.GoodsDue
		t.GoodsReturned += l.GoodsReturned
		if l.State == StatePending {
			t.Pending += l.ExpectedCash
		}
	}
	for _, st := range b.Settlements {
		v.Totals.Counted += st.Counted
		v.Totals.Discrepancy += st.Discrepancy()
	}
	return v
}

func lineState(o *courier.Order, l *OrderLine, goods int64) string {
	switch o.Status {
	case courier.StatusDelivered:
		switch {
		case l.Outstanding > 0:
			return StateToSettle
		case l.GoodsDue > 0:
			return StateGoodsDue // refused goods of a partial delivery
		case o.PaymentStatus == courier.PaymentDeposited:
			return StateSettled
		case o.COD.Method == courier.PayCard && o.COD.Amount > 0:
			return StateCard
		case o.COD.Method == courier.PayPrepaid:
			return StatePrepaid
		}
		return StateNone
	case courier.StatusFailedAttempt, courier.StatusRefused:
		if goods > 0 {
			return StateGoodsDue
		}
		return StateNone
	case courier.StatusReturnedToDepot:
		return StateReturned
	case courier.StatusCancelled:
		return StateNone
	}
	if o.COD.Method == courier.PayPrepaid {
		return StatePrepaid
	}
	return StatePending
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
