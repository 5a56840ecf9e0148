package cashdesk

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/courierhq/courier"
)

// SettleInput is a cashier accepting cash for a route sheet.
type SettleInput struct {
	Barcode       string
	Counted       courier.Money
	Denominations []courier.Denomination // optional; when given they must sum to Counted
	Note          string                 // why the count differs, when it does
	// Key is the request's Idempotency-Key: a retry with the same key gets
	// the same settlement, even when the server died before answering.
	Key string
}

// maxNote is the longest note a settlement or a resolution may carry.
const maxNote = 1000

// Bounds of the amounts the desk takes. A barcode scanner types into
// whatever field has the focus: an EAN-13 such as 4600000000017 read as
// kopecks would book a 46-billion-rouble surplus, and amounts near the int64
// limit would make the ledger's sums overflow. The bounds refuse both
// (EINVALID naming the field) and keep every sum of postings far within int64.
const (
	// MaxAmount is the most any amount at the desk may be, in minor units:
	// 10^12, 10 billion roubles; a million postings that large still sum
	// within int64.
	MaxAmount = 1_000_000_000_000
	// MaxDenomination is the largest banknote or coin value, in minor units:
	// 10^8, a million roubles, five times the largest note of any currency
	// we accept (200,000.00 UZS).
	MaxDenomination = 100_000_000
	// MaxDenominations is how many lines a count of banknotes and coins may have.
	MaxDenominations = 100
	// MaxCountedFactor and MaxCountedOverMajor bound the counted cash by what
	// a settlement expects: it may be at most
	//
	//	max(expected × MaxCountedFactor, expected + MaxCountedOverMajor major units)
	//
	// (and MaxAmount). A real surplus is a forgotten order or a mistake in
	// change, never ten times the sheet's cash nor a million more; a count
	// beyond that is a typo or a scanned barcode, and the cashier counts again.
	MaxCountedFactor    = 10
	MaxCountedOverMajor = 1_000_000
)

// maxCounted returns the most that may be counted when expected is owed.
func maxCounted(expected int64, currency string) int64 {
	over := int64(MaxCountedOverMajor)
	for range courier.MinorDigits(currency) {
		over *= 10
	}
	if expected >= MaxAmount/MaxCountedFactor {
		return MaxAmount
	}
	return min(max(expected*MaxCountedFactor, expected+over), MaxAmount)
}

// validate checks the input on its own and returns the sheet id.
// Returns EINVALID naming the field.
func (s *Service) validateSettle(in *SettleInput) (int64, error) {
	if in.Key == "" {
		return 0, courier.FieldError("Idempotency-Key", "is required: a settlement can be retried safely only with one")
	}
	if len(in.Key) > 200 {
		return 0, courier.FieldError("Idempotency-Key", "must be at most 200 characters")
	}
	in.Barcode = strings.TrimSpace(in.Barcode)
	if in.Barcode == "" {
		return 0, courier.FieldError("barcode", "is required")
	}
	id, err := courier.ParseSheetNumber(in.Barcode)
	if err != nil {
		return 0, err
	}
	if err := s.validateMoney("counted", in.Counted); err != nil {
		return 0, err
	}
	if len(in.Denominations) > MaxDenominations {
		return 0, courier.FieldError("denominations", "must have at most %d lines", MaxDenominations)
	}
	if len(in.Denominations) > 0 {
		var sum int64
		for i, d := range in.Denominations {
			field := fmt.Sprintf("denominations[%d]", i)
			if d.Value <= 0 {
				return 0, courier.FieldError(field+".value", "must be positive (minor units)")
			}
			if d.Value > MaxDenomination {
				return 0, courier.FieldError(field+".value", "%s is no banknote (at most %s): it looks like a scanned barcode",
					courier.Money{Amount: d.Value, Currency: in.Counted.Currency}, courier.Money{Amount: MaxDenomination, Currency: in.Counted.Currency})
			}
			if d.Count < 0 || d.Count > 1_000_000 {
				return 0, courier.FieldError(field+".count", "must be within [0, 1000000]")
			}
			sum += d.Value * d.Count // at most 100 × 10^8 × 10^6: no overflow
		}
		if sum != in.Counted.Amount {
			return 0, &courier.Error{Code: courier.EINVALID,
				Message: fmt.Sprintf("denominations: they add up to %s, not to the counted %s", courier.Money{Amount: sum, Currency: in.Counted.Currency}, in.Counted),
				Details: map[string]any{"field": "denominations", "sum": sum}}
		}
	}
	in.Note = strings.TrimSpace(in.Note)
	if utf8.RuneCountInString(in.Note) > maxNote {
		return 0, courier.FieldError("note", "must be at most %d characters", maxNote)
	}
	return id, nil
}

// validateMoney checks an amount the desk takes: not negative, at most
// MaxAmount, in the company currency.
func (s *Service) validateMoney(field string, m courier.Money) error {
	if m.Currency == "" {
		return courier.FieldError(field+".currency", "is required")
	}
	if m.Currency != s.cfg.Currency {
		return courier.FieldError(field+".currency", "must be the company currency %s, not %q", s.cfg.Currency, m.Currency)
	}
	if err := m.Validate(field); err != nil {
		return err
	}
	if m.Amount > MaxAmount {
		return courier.FieldError(field+".amount", "%s is more than the desk ever takes (at most %s): it looks like a scanned barcode",
			m, courier.Money{Amount: MaxAmount, Currency: m.Currency})
	}
	return nil
}

// requestHash is a digest of what a settlement request asks, to tell a
// retry from another request made with the same Idempotency-Key.
func requestHash(sheetID int64, in SettleInput) string {
	h := sha256.New()
	fmt.Fprintf(h, "settle\x00%d\x00%d\x00%s\x00%s\x00", sheetID, in.Counted.Amount, in.Counted.Currency, in.Note)
	for _, d := range in.Denominations {
		fmt.Fprintf(h, "%d*%d\x00", d.Value, d.Count)
	}
	return hex.EncodeToString(h.Sum(nil))
}

// Settle accepts the counted cash for a route sheet's delivered cash orders
// that are not settled yet, in one transaction: the orders' debts are
// cleared, the cash enters the depot's desk, a shortage or surplus becomes a
// discrepancy on the courier (with the cashier and the note), and the orders
// move to payment state deposited. Orders not delivered yet stay for a later
// settlement. The settlement is idempotent by in.Key in the database itself:
// a retry gets the stored settlement (Replayed set).
//
// Cashiers and admins only, with an open shift at the sheet's depot. Returns
// EFORBIDDEN; EINVALID (bad barcode, amount, currency, denominations, missing
// key, a count beyond MaxAmount or maxCounted of what is expected); EIDEMPOTENCY (the key was used with another request); ENOTFOUND (no
// such sheet); ECONFLICT (no open shift, another depot's sheet, nothing to
// settle: all settled or not delivered yet).
func (s *Service) Settle(ctx context.Context, actor courier.Actor, in SettleInput) (*courier.Settlement, error) {
	if err := actor.Require(desk...); err != nil {
		return nil, err
	}
	sheetID, err := s.validateSettle(&in)
	if err != nil {
		return nil, err
	}
	hash := requestHash(sheetID, in)
	sc := scope(actor)
	// A retry after the first request committed: answer it without needing a shift.
	if prev, err := s.store.SettlementByKey(ctx, sc, in.Key); err == nil {
		return replay(prev, hash)
	} else if courier.ErrorCode(err) != courier.ENOTFOUND {
		return nil, err
	}
	// A sheet already settled in full is refused from committed data with
	// one read, without taking the write lock (on SQLite there is one
	// writer, and duplicate requests are common at a busy desk).
	if done, err := s.fullySettled(ctx, sheetID); err != nil {
		return nil, err
	} else if done {
		// The key may have committed since the first look: answer it then.
		if prev, err := s.store.SettlementByKey(ctx, sc, in.Key); err == nil {
			return replay(prev, hash)
		} else if courier.ErrorCode(err) != courier.ENOTFOUND {
			return nil, err
		}
		return nil, courier.Errorf(courier.ECONFLICT, "route sheet %s is already settled: nothing delivered is outstanding", in.Barcode)
	}
	shift, err := s.store.OpenCashShiftOf(ctx, actor.UserID)
	if courier.ErrorCode(err) == courier.ENOTFOUND {
		return nil, courier.Errorf(courier.ECONFLICT, "open a cashier shift before settling")
	} else if err != nil {
		return nil, err
	}
	st, err := s.store.Settle(ctx, shift.ID, sheetID, sc, in.Key, func(sh *courier.CashShift, b *courier.SheetBook) (*courier.SettleChange, error) {
		return s.settle(actor, sh, b, in, hash)
	})
	if err != nil {
		return nil, notFoundSheet(err, in.Barcode)
	}
	if st.Replayed {
		return replay(st, hash)
	}
	return st, nil
}

// fullySettled reports whether the sheet has been settled and none of its
// delivered cash is outstanding, from the ledger's committed postings.
func (s *Service) fullySettled(ctx context.Context, sheetID int64) (bool, error) {
	bals, err := s.store.Balances(ctx, courier.PostingFilter{SheetID: sheetID, Prefixes: []string{courier.PrefixCourierCash}})
	if err != nil {
		return false, err
	}
	settled := false
	for _, b := range bals {
		if b.Balance() > 0 {
			return false, nil
		}
		settled = settled || b.Credit > 0
	}
	return settled, nil
}

// replay answers a settlement found by its key, unless the key came with another request.
func replay(st *courier.Settlement, hash string) (*courier.Settlement, error) {
	if st.RequestHash != hash {
		return nil, courier.Errorf(courier.EIDEMPOTENCY, "this Idempotency-Key was used for another settlement (%d); use a new key", st.ID)
	}
	st.Replayed = true
	return st, nil
}

// settle decides a settlement from the locked shift and sheet book.
func (s *Service) settle(actor courier.Actor, sh *courier.CashShift, b *courier.SheetBook, in SettleInput, hash string) (*courier.SettleChange, error) {
	number := b.Sheet.Number
	if sh.Status != courier.ShiftOpen {
		return nil, courier.Errorf(courier.ECONFLICT, "your cashier shift %d is closed; open a new one", sh.ID)
	}
	if sh.DepotID != b.Sheet.DepotID {
		return nil, &courier.Error{Code: courier.ECONFLICT,
			Message: fmt.Sprintf("route sheet %s belongs to depot %d; your shift is at depot %d", number, b.Sheet.DepotID, sh.DepotID),
			Details: map[string]any{"sheet_depot_id": b.Sheet.DepotID, "shift_depot_id": sh.DepotID}}
	}
	v := view(b, s.cfg.Currency)
	now := s.now()
	st := &courier.Settlement{SheetID: b.Sheet.ID, CourierID: b.Sheet.CourierID, DepotID: b.Sheet.DepotID, ShiftID: sh.ID,
		Currency: in.Counted.Currency, Counted: in.Counted.Amount, Denominations: in.Denominations, Note: in.Note,
		TxID: courier.NewTxID(), CashierID: actor.UserID, TokenID: actor.TokenID, RequestHash: hash}
	ch := &courier.SettleChange{Settlement: st}
	base := courier.Posting{TxID: st.TxID, Currency: st.Currency, SheetID: st.SheetID, DepotID: st.DepotID, ShiftID: sh.ID,
		Kind: courier.KindSettlement, ActorID: actor.UserID, TokenID: actor.TokenID, At: now, Note: "route sheet " + number}
	if err := nothingToSettle(b, v); err != nil {
		return nil, err
	}
	for _, l := range v.Lines {
		if l.State != StateToSettle {
			continue
		}
		o := l.Order
		// Credit each courier cash account that holds this order's debt.
		owed := map[string]int64{}
		var accounts []string
		for _, p := range b.Postings {
			if p.OrderID == o.ID && p.Currency == st.Currency && strings.HasPrefix(p.Account, courier.PrefixCourierCash) {
				if _, ok := owed[p.Account]; !ok {
					accounts = append(accounts, p.Account)
				}
				owed[p.Account] += p.Amount
			}
		}
		for _, acc := range accounts {
			if owed[acc] <= 0 {
				continue
			}
			p := base
			p.Account, p.Amount, p.OrderID, p.CourierID = acc, -owed[acc], o.ID, courierOf(acc)
			ch.Postings = append(ch.Postings, p)
		}
		st.Expected += l.Outstanding
		st.Orders = append(st.Orders, courier.SettledOrder{OrderID: o.ID, Amount: l.Outstanding})
		if o.PaymentStatus != courier.PaymentDeposited {
			o.PaymentStatus = courier.PaymentDeposited
			ch.Events = append(ch.Events, courier.OrderEvent{OrderID: o.ID, Kind: courier.EventPayment, FromStatus: o.Status, ToStatus: o.Status,
				ActorID: actor.UserID, ActorRole: actor.Role, At: now, Reason: string(courier.PaymentDeposited),
				Comment: "route sheet " + number + " settled at the cash desk"})
		}
	}
	if st.Counted > 0 {
		p := base
		p.Account, p.Amount = courier.AccountCashdesk(st.DepotID), st.Counted
		ch.Postings = append(ch.Postings, p)
	}
	if diff := st.Expected - st.Counted; diff != 0 {
		// A shortage (diff > 0) stays on the courier as a debit; a surplus as a credit.
		p := base
		p.Account, p.Amount, p.CourierID, p.Kind = courier.AccountDiscrepancy(st.CourierID), diff, st.CourierID, courier.KindDiscrepancy
		what := "shortage"
		if diff < 0 {
			what = "surplus"
		}
		p.Note = what + " on route sheet " + number
		if in.Note != "" {
			p.Note += ": " + in.Note
		}
		ch.Postings = append(ch.Postings, p)
	}
	if limit := maxCounted(st.Expected, st.Currency); st.Counted > limit {
		return nil, &courier.Error{Code: courier.EINVALID,
			Message: fmt.Sprintf("counted.amount: %s is far more than the %s expected (at most %s): it looks like a scanned barcode; count again",
				in.Counted, courier.Money{Amount: st.Expected, Currency: st.Currency}, courier.Money{Amount: limit, Currency: st.Currency}),
			Details: map[string]any{"field": "counted.amount", "expected": st.Expected, "max": limit}}
	}
	if len(ch.Events) > 0 {
		// The accounting system hears of it through the outbox (webhook event cash_settled).
		ch.Events[0].Outbox = []courier.OutboxMessage{courier.CashSettledMessage(st, number)}
	}
	return ch, nil
}

// courierOf returns the courier id of a per-courier account, or 0.
func courierOf(account string) int64 {
	i := strings.LastIndexByte(account, ':')
	if i < 0 {
		return 0
	}
	var id int64
	for _, c := range account[i+1:] {
		if c < '0' || c > '9' {
			return 0
		}
		id = id*10 + int64(c-'0')
	}
	return id
}

// nothingToSettle returns ECONFLICT saying why when no order of the sheet
// can be settled now: all settled, none delivered yet, or no cash at all.
func nothingToSettle(b *courier.SheetBook, v *SheetView) error {
	pending := 0
	for _, l := range v.Lines {
		if l.State == StateToSettle && l.Outstanding > 0 {
			return nil
		}
		if l.State == StatePending && l.ExpectedCash > 0 {
			pending++
		}
	}
	number := b.Sheet.Number
	switch {
	case pending > 0:
		return &courier.Error{Code: courier.ECONFLICT,
			Message: fmt.Sprintf("nothing to settle yet on route sheet %s: %d cash orders are not delivered", number, pending),
			Details: map[string]any{"pending_orders": pending}}
	case len(b.Settlements) > 0:
		return courier.Errorf(courier.ECONFLICT, "route sheet %s is already settled: nothing is outstanding", number)
	}
	return courier.Errorf(courier.ECONFLICT, "route sheet %s has no delivered cash orders to settle", number)
}
