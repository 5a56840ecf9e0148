package cashdesk

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/courierhq/courier"
)

// CourierBalance is what a courier owes the company, derived from the ledger.
type CourierBalance struct {
	Courier     *courier.Courier
	Currency    string
	Cash        int64 // cash taken at the door and not yet accepted at the desk
	Discrepancy int64 // unresolved shortages (+) and surpluses (-)
	Owed        int64 // Cash + Discrepancy
	Goods       int64 // pieces of goods to bring back
	Entries     []courier.Posting
	NextAfter   int64 // the cursor of the next page of entries, 0 at the end
}

// CourierDebt is a courier who still owes cash or goods (or is owed a surplus).
type CourierDebt struct {
	CourierID   int64
	Name        string
	DepotID     int64
	Cash        int64
	Discrepancy int64
	Owed        int64
	Goods       int64
}

// courierAccounts are the ledger accounts of one courier.
func courierAccounts(id int64) []string {
	return []string{courier.AccountCourierCash(id), courier.AccountDiscrepancy(id), courier.AccountCourierGoods(id)}
}

// Entry pages.
const (
	DefaultEntries = 100
	MaxEntries     = 1000
)

// CourierBalance returns a courier's balance and ledger entries (by id, after
// the cursor after, at most limit). A courier may read only their own; the
// office roles any. Returns EFORBIDDEN, ENOTFOUND, EINVALID (limit).
func (s *Service) CourierBalance(ctx context.Context, actor courier.Actor, courierID, after int64, limit int) (*CourierBalance, error) {
	switch {
	case actor.Role == courier.RoleCourier:
		if actor.CourierID == 0 || actor.CourierID != courierID {
			return nil, courier.Errorf(courier.EFORBIDDEN, "couriers may read only their own balance")
		}
	default:
		if err := actor.Require(office...); err != nil {
			return nil, err
		}
	}
	if limit == 0 {
		limit = DefaultEntries
	} else if limit < 0 || limit > MaxEntries {
		return nil, courier.FieldError("limit", "must be within [1, %d]", MaxEntries)
	}
	c, err := s.store.Courier(ctx, courierID)
	if err != nil {
		return nil, err
	}
	accounts := courierAccounts(courierID)
	bals, err := s.store.Balances(ctx, courier.PostingFilter{Accounts: accounts})
	if err != nil {
		return nil, err
	}
	b := &CourierBalance{Courier: c, Currency: s.cfg.Currency}
	for _, x := range bals {
		switch {
		case x.Account == accounts[0] && x.Currency == s.cfg.Currency:
			b.Cash = x.Balance()
		case x.Account == accounts[1] && x.Currency == s.cfg.Currency:
			b.Discrepancy = x.Balance()
		case x.Account == accounts[2] && x.Currency == courier.GoodsUnit:
			b.Goods = x.Balance()
		}
	}
	b.Owed = b.Cash + b.Discrepancy
	b.Entries, err = s.store.Postings(ctx, courier.PostingFilter{Accounts: accounts, After: after, Limit: limit})
	if err != nil {
		return nil, err
	}
	if len(b.Entries) == limit {
		b.NextAfter = b.Entries[len(b.Entries)-1].ID
	}
	return b, nil
}

// Debtors lists the couriers (of depotID, or all when 0) whose cash,
// discrepancy or goods balance is not zero, by courier id. Office roles only.
// Returns EFORBIDDEN.
func (s *Service) Debtors(ctx context.Context, actor courier.Actor, depotID int64) ([]CourierDebt, error) {
	if err := actor.Require(office...); err != nil {
		return nil, err
	}
	return s.debtors(ctx, depotID)
}

func (s *Service) debtors(ctx context.Context, depotID int64) ([]CourierDebt, error) {
	bals, err := s.store.Balances(ctx, courier.PostingFilter{Prefixes: []string{courier.PrefixCourierCash, courier.PrefixDiscrepancy, courier.PrefixCourierGoods}})
	if err != nil {
		return nil, err
	}
	debts := map[int64]*CourierDebt{}
	for _, b := range bals {
		id := courierOf(b.Account)
		d := debts[id]
		if d == nil {
			d = &CourierDebt{CourierID: id}
			debts[id] = d
		}
		switch {
		case strings.HasPrefix(b.Account, courier.PrefixCourierCash) && b.Currency == s.cfg.Currency:
			d.Cash += b.Balance()
		case strings.HasPrefix(b.Account, courier.PrefixDiscrepancy) && b.Currency == s.cfg.Currency:
			d.Discrepancy += b.Balance()
		case strings.HasPrefix(b.Account, courier.PrefixCourierGoods) && b.Currency == courier.GoodsUnit:
			d.Goods += b.Balance()
		}
	}
	couriers, err := s.store.ListCouriers(ctx, courier.CourierFilter{DepotID: depotID})
	if err != nil {
		return nil, err
	}
	known := map[int64]*courier.Courier{}
	for _, c := range couriers {
		known[c.ID] = c
	}
	out := []CourierDebt{}
	for id, d := range debts {
		d.Owed = d.Cash + d.Discrepancy
		if d.Cash == 0 && d.Discrepancy == 0 && d.Goods == 0 {
			continue
		}
		c, ok := known[id]
		if !ok && depotID != 0 {
			continue
		}
		if ok {
			d.Name, d.DepotID = c.Name, c.DepotID
		}
		out = append(out, *d)
	}
	slices.SortFunc(out, func(a, b CourierDebt) int { return int(a.CourierID - b.CourierID) })
	return out, nil
}

// Resolution methods.
const (
	ResolveCash     = "cash"      // the courier pays a shortage in (or is paid a surplus out) at the desk
	ResolveWriteOff = "write_off" // the company absorbs it (admins only)
)

// ResolveInput settles (part of) a courier's discrepancy.
type ResolveInput struct {
	CourierID int64
	Amount    courier.Money
	Method    string
	Note      string
	// Key is the request's Idempotency-Key: the resolution's ledger
	// transaction id derives from it, so a retry finds what was booked.
	Key string
}

// Resolution is what Resolve booked (or, for a retry, had booked).
type Resolution struct {
	Postings []courier.Posting
	Replayed bool
}

// errBooked stops a transaction that finds its key already booked.
var errBooked = errors.New("cashdesk: already booked")

// Resolve reduces a courier's discrepancy by in.Amount: in cash at the desk
// of the cashier's open shift (a shortage paid in, a surplus paid out), or
// written off by an admin. It reads the discrepancy under the courier's lock,
// so it cannot be resolved twice, and books cash only under the shift's lock
// while the shift is open, so a shift closed meanwhile takes nothing; a
// retry with the same key answers what was booked (Replayed), also after a
// crash. Returns EFORBIDDEN, EINVALID (amount, currency, method, note, key),
// EIDEMPOTENCY (the key was used for another resolution), ENOTFOUND
// (courier), ECONFLICT (no discrepancy, no open shift).
func (s *Service) Resolve(ctx context.Context, actor courier.Actor, in ResolveInput) (*Resolution, error) {
	if err := actor.Require(desk...); err != nil {
		return nil, err
	}
	if in.Key == "" {
		return nil, courier.FieldError("Idempotency-Key", "is required: a payment can be retried safely only with one")
	}
	if len(in.Key) > 200 {
		return nil, courier.FieldError("Idempotency-Key", "must be at most 200 characters")
	}
	if err := s.validateMoney("amount", in.Amount); err != nil {
		return nil, err
	}
	if in.Amount.Amount == 0 {
		return nil, courier.FieldError("amount.amount", "must be positive")
	}
	in.Note = strings.TrimSpace(in.Note)
	if utf8.RuneCountInString(in.Note) > maxNote {
		return nil, courier.FieldError("note", "must be at most %d characters", maxNote)
	}
	kind := courier.KindWriteOff
	switch in.Method {
	case ResolveCash:
		kind = courier.KindRepayment
	case ResolveWriteOff:
		if err := actor.Require(courier.RoleAdmin); err != nil {
			return nil, courier.Errorf(courier.EFORBIDDEN, "only an admin may write a discrepancy off")
		}
		if in.Note == "" {
			return nil, courier.FieldError("note", "is required to write a discrepancy off")
		}
	default:
		return nil, courier.FieldError("method", "must be cash or write_off")
	}
	sum := sha256.Sum256([]byte("resolve\x00" + scope(actor) + "\x00" + in.Key))
	txID := "res_" + hex.EncodeToString(sum[:20])
	if res, err := s.booked(ctx, txID, kind, in); res != nil || err != nil {
		return res, err
	}
	c, err := s.store.Courier(ctx, in.CourierID)
	if err != nil {
		return nil, err
	}
	var shift *courier.CashShift
	depotID, counter := c.DepotID, courier.AccountWriteOff
	if in.Method == ResolveCash {
		shift, err = s.store.OpenCashShiftOf(ctx, actor.UserID)
		if courier.ErrorCode(err) == courier.ENOTFOUND {
			return nil, courier.Errorf(courier.ECONFLICT, "open a cashier shift before taking cash")
		} else if err != nil {
			return nil, err
		}
		depotID, counter = shift.DepotID, courier.AccountCashdesk(shift.DepotID)
	}
	account := courier.AccountDiscrepancy(in.CourierID)
	now := s.now()
	var shiftID int64
	if shift != nil {
		shiftID = shift.ID
	}
	ps, err := s.store.PostLedger(ctx, shiftID, in.CourierID, courier.PostingFilter{Accounts: []string{account}}, func(sh *courier.CashShift, ps []courier.Posting) ([]courier.Posting, error) {
		// The shift was read before the transaction; under its lock it may
		// have been closed meanwhile (closing takes the same lock).
		if sh != nil && sh.Status != courier.ShiftOpen {
			return nil, courier.Errorf(courier.ECONFLICT, "your cashier shift %d was closed; open a new one before taking cash", sh.ID)
		}
		var open int64
		for _, p := range ps {
			if p.TxID == txID {
				return nil, errBooked // a request with this key committed while we waited for the lock
			}
			if p.Currency == in.Amount.Currency {
				open += p.Amount
			}
		}
		if open == 0 {
			return nil, courier.Errorf(courier.ECONFLICT, "courier %d has no discrepancy to resolve", in.CourierID)
		}
		if in.Amount.Amount > abs(open) {
			return nil, &courier.Error{Code: courier.EINVALID,
				Message: fmt.Sprintf("amount.amount: %s is more than the open discrepancy of %s", in.Amount, courier.Money{Amount: open, Currency: in.Amount.Currency}),
				Details: map[string]any{"field": "amount.amount", "open": open}}
		}
		sign := int64(1)
		if open < 0 {
			sign = -1 // a surplus: the desk pays out, or it becomes income
		}
		base := courier.Posting{TxID: txID, Currency: in.Amount.Currency, CourierID: in.CourierID, DepotID: depotID,
			Kind: kind, ActorID: actor.UserID, TokenID: actor.TokenID, At: now, Note: in.Note}
		if shift != nil {
			base.ShiftID = shift.ID
		}
		cp, dp := base, base
		cp.Account, cp.Amount, cp.CourierID = counter, sign*in.Amount.Amount, 0
		dp.Account, dp.Amount = account, -sign*in.Amount.Amount
		return []courier.Posting{cp, dp}, nil
	})
	if errors.Is(err, errBooked) {
		return s.booked(ctx, txID, kind, in)
	} else if err != nil {
		return nil, err
	}
	return &Resolution{Postings: ps}, nil
}

// booked returns the resolution booked under txID (Replayed), nil when there
// is none, or EIDEMPOTENCY when it was booked for another request.
func (s *Service) booked(ctx context.Context, txID, kind string, in ResolveInput) (*Resolution, error) {
	ps, err := s.store.Postings(ctx, courier.PostingFilter{TxID: txID})
	if err != nil || len(ps) == 0 {
		return nil, err
	}
	for _, p := range ps {
		if p.Kind != kind || abs(p.Amount) != in.Amount.Amount || p.Currency != in.Amount.Currency || p.Note != in.Note ||
			(strings.HasPrefix(p.Account, courier.PrefixDiscrepancy) && p.CourierID != in.CourierID) {
			return nil, courier.Errorf(courier.EIDEMPOTENCY, "this Idempotency-Key was used for another payment; use a new key")
		}
	}
	return &Resolution{Postings: ps, Replayed: true}, nil
}

func abs(n int64) int64 {
	if n < 0 {
		return -n
	}
	return n
}
