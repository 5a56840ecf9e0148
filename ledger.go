package courier

import (
	"context"
	"crypto/rand"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Posting is one line of the cash desk's double-entry ledger. The ledger is
// append-only: a posting is never changed or deleted, a mistake is corrected
// by another transaction. Every balance (what a courier owes, the cash in a
// depot's desk) is the sum of postings, never a number kept on its own.
//
// The postings of one business transaction share TxID, DepotID and At, and
// sum to zero per currency (CheckBalanced). Amount is signed: positive is a
// debit, negative a credit, in minor units of Currency (or pieces of goods
// for GoodsUnit).
type Posting struct {
	ID        int64
	TxID      string
	Account   string // courier_cash:12, cashdesk:3, cod_revenue, ... (see the Account* functions)
	Amount    int64
	Currency  string
	CourierID int64
	OrderID   int64
	SheetID   int64
	DepotID   int64
	ShiftID   int64  // the cashier shift that booked it; 0 outside the desk
	Kind      string // cod_collected, card_collected, goods_out, goods_returned, settlement, discrepancy, repayment, write_off
	ActorID   int64  // the user who caused it
	TokenID   string // the id (jti) of the access token the request carried, for the audit
	At        time.Time
	Note      string
}

// GoodsUnit is the "currency" of goods postings: pieces. A courier who did
// not deliver owes the goods back, and goods are counted, not priced.
const GoodsUnit = "PCS"

// Posting kinds.
const (
	KindCODCollected  = "cod_collected"  // the courier took cash at the door: the courier owes it
	KindCardCollected = "card_collected" // the customer paid by card at the door: a card receivable to match with the terminal's report
	KindGoodsOut      = "goods_out"      // a failed or refused delivery: the courier owes the goods back
	KindGoodsReturned = "goods_returned" // the goods are back at the depot
	KindSettlement    = "settlement"     // the cashier accepted cash for delivered orders
	KindDiscrepancy   = "discrepancy"    // counted cash differed from what was owed
	KindRepayment     = "repayment"      // a discrepancy was settled in cash
	KindWriteOff      = "write_off"      // a discrepancy was written off
)

// Fixed accounts.
const (
	AccountCODRevenue     = "cod_revenue"          // what customers paid on delivery (owed to the shops)
	AccountCardReceivable = "card_receivable"      // card payments the acquirer still has to pay out
	AccountWriteOff       = "discrepancy_writeoff" // shortages and surpluses written off
)

// Account name prefixes of per-courier and per-depot accounts.
const (
	PrefixCourierCash  = "courier_cash:"  // cash a courier holds for the company
	PrefixDiscrepancy  = "discrepancy:"   // a courier's unresolved shortages (+) and surpluses (-)
	PrefixCourierGoods = "courier_goods:" // goods a courier has to bring back
	PrefixCashdesk     = "cashdesk:"      // cash in a depot's desk
	PrefixDepotGoods   = "depot_goods:"   // a depot's goods (out with couriers: negative)
)

// AccountCourierCash is the cash courier id holds for the company.
func AccountCourierCash(id int64) string { return PrefixCourierCash + strconv.FormatInt(id, 10) }

// AccountDiscrepancy is courier id's unresolved difference between cash owed and cash counted.
func AccountDiscrepancy(id int64) string { return PrefixDiscrepancy + strconv.FormatInt(id, 10) }

// AccountCourierGoods is the goods courier id has to bring back, in pieces.
func AccountCourierGoods(id int64) string { return PrefixCourierGoods + strconv.FormatInt(id, 10) }

// AccountCashdesk is the cash in depot id's cash desk.
func AccountCashdesk(id int64) string { return PrefixCashdesk + strconv.FormatInt(id, 10) }

// AccountDepotGoods is depot id's goods, in pieces.
func AccountDepotGoods(id int64) string { return PrefixDepotGoods + strconv.FormatInt(id, 10) }

// NewTxID returns a fresh ledger transaction id.
func NewTxID() string { return "tx_" + strings.ToLower(rand.Text()) }

// CheckBalanced reports an error unless the postings of every transaction sum
// to zero per currency, every posting has an account, a transaction id, a
// non-zero amount, and the postings of one transaction share depot and time.
func CheckBalanced(ps []Posting) error {
	type key struct{ tx, cur string }
	sums := map[key]int64{}
	first := map[string]Posting{}
	for _, p := range ps {
		if p.TxID == "" || p.Account == "" || p.Currency == "" || p.Kind == "" {
			return fmt.Errorf("ledger: posting %+v lacks a transaction, account, currency or kind", p)
		}
		if p.Amount == 0 {
			return fmt.Errorf("ledger: posting of %s to %s has amount 0", p.TxID, p.Account)
		}
		if f, ok := first[p.TxID]; !ok {
			first[p.TxID] = p
		} else if f.DepotID != p.DepotID || !f.At.Equal(p.At) {
			return fmt.Errorf("ledger: transaction %s spans depots or times", p.TxID)
		}
		sums[key{p.TxID, p.Currency}] += p.Amount
	}
	for k, sum := range sums {
		if sum != 0 {
			return fmt.Errorf("ledger: transaction %s does not balance in %s: off by %d", k.tx, k.cur, sum)
		}
	}
	return nil
}

// pair returns the two postings of a simple transfer: amount debited to
// debit and credited to credit.
func pair(base Posting, debit, credit string, amount int64) []Posting {
	d, c := base, base
	d.Account, d.Amount = debit, amount
	c.Account, c.Amount = credit, -amount
	return []Posting{d, c}
}

// GoodsPieces is how many pieces of goods an order is: the sum of its items'
// quantities, or 1 for an order without an item list (one parcel).
func GoodsPieces(o *Order) int64 {
	var n int64
	for _, it := range o.Items {
		n += int64(it.Qty)
	}
	if n == 0 {
		n = 1
	}
	return n
}

// StatusPostings returns the ledger transaction that moving o from one status
// to another causes, or nil: delivering a cash order makes its courier owe the
// cash, delivering a card order books a card receivable, a failed or refused
// delivery makes the courier owe the goods, and the goods coming back (the
// order returned to the depot, or made ready for another attempt) clears that.
// o is the order as it was before the change (its courier, items and COD).
// at is when the ledger books it (the time of recording).
func StatusPostings(o *Order, from, to OrderStatus, actor Actor, at time.Time) []Posting {
	base := Posting{TxID: NewTxID(), CourierID: o.CourierID, OrderID: o.ID, SheetID: o.RouteSheetID, DepotID: o.DepotID,
		ActorID: actor.UserID, TokenID: actor.TokenID, At: at.UTC().Truncate(time.Microsecond)}
	switch {
	case to == StatusDelivered && o.COD.Amount > 0 && o.COD.Method == PayCash:
		base.Kind, base.Currency = KindCODCollected, o.COD.Currency
		return pair(base, AccountCourierCash(o.CourierID), AccountCODRevenue, o.COD.Amount)
	case to == StatusDelivered && o.COD.Amount > 0 && o.COD.Method == PayCard:
		base.Kind, base.Currency = KindCardCollected, o.COD.Currency
		return pair(base, AccountCardReceivable, AccountCODRevenue, o.COD.Amount)
	case from == StatusOutForDelivery && (to == StatusFailedAttempt || to == StatusRefused):
		base.Kind, base.Currency = KindGoodsOut, GoodsUnit
		return pair(base, AccountCourierGoods(o.CourierID), AccountDepotGoods(o.DepotID), GoodsPieces(o))
	case (from == StatusFailedAttempt || from == StatusRefused) && (to == StatusReady || to == StatusReturnedToDepot):
		base.Kind, base.Currency = KindGoodsReturned, GoodsUnit
		return pair(base, AccountDepotGoods(o.DepotID), AccountCourierGoods(o.CourierID), GoodsPieces(o))
	}
	return nil
}

// DeliveryPostings returns the ledger transaction of a delivery reported at
// the door (o as it was before, r the report): the cash the courier took
// becomes their debt, a card payment a card receivable, both for the amount
// reported collected (a short collection leaves the rest unbooked and
// visible as AmountDue - Collected); goods the customer refused become goods
// the courier owes back. nil when nothing moves.
func DeliveryPostings(o *Order, r *StopReport, actor Actor, at time.Time) []Posting {
	base := Posting{TxID: NewTxID(), CourierID: o.CourierID, OrderID: o.ID, SheetID: o.RouteSheetID, DepotID: o.DepotID,
		ActorID: actor.UserID, TokenID: actor.TokenID, At: at.UTC().Truncate(time.Microsecond)}
	var ps []Posting
	if r.Collected > 0 {
		b := base
		b.Currency = o.COD.Currency
		switch r.CollectedBy {
		case PayCash:
			b.Kind = KindCODCollected
			ps = append(ps, pair(b, AccountCourierCash(o.CourierID), AccountCODRevenue, r.Collected)...)
		case PayCard:
			b.Kind = KindCardCollected
			ps = append(ps, pair(b, AccountCardReceivable, AccountCODRevenue, r.Collected)...)
		}
	}
	if n := RefusedPieces(r); n > 0 {
		b := base
		b.Kind, b.Currency = KindGoodsOut, GoodsUnit
		ps = append(ps, pair(b, AccountCourierGoods(o.CourierID), AccountDepotGoods(o.DepotID), n)...)
	}
	return ps
}

// GoodsReturnedPostings returns the transaction of pieces of o's goods
// coming back to the depot from its courier.
func GoodsReturnedPostings(o *Order, pieces int64, actor Actor, at time.Time) []Posting {
	base := Posting{TxID: NewTxID(), CourierID: o.CourierID, OrderID: o.ID, SheetID: o.RouteSheetID, DepotID: o.DepotID,
		ActorID: actor.UserID, TokenID: actor.TokenID, At: at.UTC().Truncate(time.Microsecond), Kind: KindGoodsReturned, Currency: GoodsUnit}
	return pair(base, AccountDepotGoods(o.DepotID), AccountCourierGoods(o.CourierID), pieces)
}

// Denomination is a count of banknotes or coins of one value (minor units).
type Denomination struct {
	Value int64
	Count int64
}

// SettledOrder is an order a settlement cleared and the cash it cleared.
type SettledOrder struct {
	OrderID int64
	Amount  int64
}

// Settlement is the cashier accepting a courier's cash for a route sheet:
// Expected is what the sheet's delivered cash orders owed, Counted what the
// cashier counted; a difference is booked as a discrepancy on the courier.
type Settlement struct {
	ID            int64
	SheetID       int64
	CourierID     int64
	DepotID       int64
	ShiftID       int64
	Currency      string
	Expected      int64
	Counted       int64
	Denominations []Denomination
	Orders        []SettledOrder
	Note          string
	TxID          string
	CashierID     int64
	TokenID       string
	IdemScope     string // the Idempotency-Key's scope (the user) and the key: unique together
	IdemKey       string
	RequestHash   string // digest of the request, to tell a retry from another request with the same key
	CreatedAt     time.Time
	Replayed      bool // set when the settlement was found by its key instead of made now
}

// Discrepancy returns counted minus expected: negative is a shortage.
func (s *Settlement) Discrepancy() int64 { return s.Counted - s.Expected }

// ShiftStatus is whether a cashier shift is open.
type ShiftStatus string

// Shift statuses.
const (
	ShiftOpen   ShiftStatus = "open"
	ShiftClosed ShiftStatus = "closed"
)

// CashShift is a cashier's working session at a depot's cash desk. Settlements
// need an open shift; closing it produces the closing report (kept as JSON).
type CashShift struct {
	ID          int64
	CashierID   int64
	DepotID     int64
	Status      ShiftStatus
	OpenedAt    time.Time
	OpenedToken string
	ClosedAt    *time.Time
	ClosedBy    int64
	ClosedToken string
	Note        string
	Report      []byte // the closing report, JSON, once closed
	Version     int64
}

// ReturnedItem is one piece of goods checked back in at the depot by
// scanning its barcode.
type ReturnedItem struct {
	ID        int64
	OrderID   int64
	SheetID   int64
	ItemIndex int // position in Order.Items; -1 for an order without items (the parcel itself)
	Piece     int // 1..Qty
	Barcode   string
	ActorID   int64
	TokenID   string
	At        time.Time
}

// SheetBook is everything the cash desk knows about one route sheet: the
// sheet, its orders (the stops and any order that names the sheet), every
// posting of those orders or of the sheet, its settlements and the goods
// pieces checked back in.
type SheetBook struct {
	Sheet       *RouteSheet
	Orders      []*Order // by id
	Postings    []Posting
	Settlements []*Settlement
	Returned    []ReturnedItem
}

// SettleChange is what a settlement writes: the settlement row, its ledger
// transaction, and the orders it deposits with their events.
type SettleChange struct {
	Settlement *Settlement
	Postings   []Posting
	Events     []OrderEvent // one or more per changed order (OrderID set)
}

// ReturnChange is what checking one piece in writes: the piece, and when the
// order is complete its events (the order was changed by the callback).
type ReturnChange struct {
	Item   ReturnedItem
	Events []OrderEvent
}

// PostingFilter selects postings; zero fields do not filter. Accounts match
// exactly; Prefixes match the start of the account.
type PostingFilter struct {
	Accounts  []string
	Prefixes  []string
	CourierID int64
	DepotID   int64
	SheetID   int64
	ShiftID   int64
	TxID      string
	From, To  time.Time // From <= At < To
	After     int64     // id cursor
	Limit     int       // 0: no limit
}

// AccountBalance is the sum of an account's postings in one currency.
type AccountBalance struct {
	Account  string
	Currency string
	Debit    int64 // the sum of positive amounts
	Credit   int64 // the sum of negative amounts, as a positive number
}

// Balance returns debit minus credit.
func (b AccountBalance) Balance() int64 { return b.Debit - b.Credit }

// SettlementFilter selects settlements; zero fields do not filter.
type SettlementFilter struct {
	SheetID   int64
	ShiftID   int64
	CourierID int64
}

// LedgerStore keeps the cash desk's ledger, settlements, shifts and returned goods.
type LedgerStore interface {
	// SheetBook reads a sheet's book (no locks). Returns ENOTFOUND.
	SheetBook(ctx context.Context, sheetID int64) (*SheetBook, error)
	// Settle settles a sheet in one transaction. It locks the shift, the sheet,
	// the sheet's courier and orders (in that order); when a settlement with
	// (scope, key) exists it returns that one (Replayed set) without
	// calling fn. Otherwise it calls fn with the locked shift and book, and
	// writes the settlement, its postings, and the orders fn changed with
	// their events. Returns ENOTFOUND, or fn's error (nothing written).
	Settle(ctx context.Context, shiftID, sheetID int64, scope, key string, fn func(*CashShift, *SheetBook) (*SettleChange, error)) (*Settlement, error)
	// SettlementByKey returns the settlement made with an Idempotency-Key. Returns ENOTFOUND.
	SettlementByKey(ctx context.Context, scope, key string) (*Settlement, error)
	// Settlements lists settlements matching f, by id.
	Settlements(ctx context.Context, f SettlementFilter) ([]*Settlement, error)
	// ReturnItem locks the sheet and its orders, calls fn with the book and
	// writes the piece fn returns, and the orders fn changed with the events
	// it returns, in one transaction. Returns ENOTFOUND, ECONFLICT when the
	// piece is already in, or fn's error.
	ReturnItem(ctx context.Context, sheetID int64, fn func(*SheetBook) (*ReturnChange, error)) (*ReturnedItem, error)
	// PostLedger locks the cashier shift (when shiftID is not 0), then the
	// courier (when courierID is not 0), calls fn with the locked shift (nil
	// without one) and the postings matching f, and writes the postings fn
	// returns, in one transaction: a discrepancy can be resolved only once,
	// and fn sees whether the shift is still open (closing it takes the
	// same lock). Returns ENOTFOUND (shift, courier), or fn's error.
	PostLedger(ctx context.Context, shiftID, courierID int64, f PostingFilter, fn func(*CashShift, []Posting) ([]Posting, error)) ([]Posting, error)
	// Postings returns postings matching f, by id.
	Postings(ctx context.Context, f PostingFilter) ([]Posting, error)
	// Balances sums postings matching f per account and currency, by account.
	Balances(ctx context.Context, f PostingFilter) ([]AccountBalance, error)
	// OpenCashShift inserts an open shift and sets its ID. Returns ECONFLICT when
	// the cashier already has an open shift, EINVALID for an unknown depot.
	OpenCashShift(ctx context.Context, sh *CashShift) error
	// CashShift returns a shift by id. Returns ENOTFOUND.
	CashShift(ctx context.Context, id int64) (*CashShift, error)
	// OpenCashShiftOf returns the cashier's open shift. Returns ENOTFOUND.
	OpenCashShiftOf(ctx context.Context, cashierID int64) (*CashShift, error)
	// CloseCashShift locks the shift, reads its settlements and postings, calls
	// fn with them and writes the shift (Version+1), in one transaction.
	// Returns ENOTFOUND or fn's error.
	CloseCashShift(ctx context.Context, id int64, fn func(*CashShift, []*Settlement, []Posting) error) (*CashShift, error)
}

// SortPostings orders postings by id (the order they were booked).
func SortPostings(ps []Posting) {
	sort.SliceStable(ps, func(i, j int) bool { return ps[i].ID < ps[j].ID })
}
