package cashdesk

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/courierhq/courier"
)

// MethodTotal is what a shift took by one payment method.
type MethodTotal struct {
	Method   courier.PaymentMethod
	Orders   int
	Expected int64 // cash: what the settled orders owed
	Amount   int64 // cash: counted; card: paid by card on the settled sheets
}

// DiscrepancyLine is one shortage (negative Amount) or surplus of a settlement.
type DiscrepancyLine struct {
	SettlementID int64
	SheetID      int64
	SheetNumber  string
	CourierID    int64
	Amount       int64 // counted - expected
	Note         string
	CashierID    int64
	At           time.Time
}

// ResolutionLine is a discrepancy resolved during the shift.
type ResolutionLine struct {
	CourierID int64
	Kind      string // repayment or write_off
	Amount    int64  // the change of the courier's discrepancy
	Note      string
	At        time.Time
}

// ShiftReport is a cashier shift's closing report (or, while it is open, its
// report so far).
type ShiftReport struct {
	Shift            *courier.CashShift
	Currency         string
	Settlements      int
	ByMethod         []MethodTotal
	CashIn           int64 // cash into the desk during the shift: settlements and repayments
	Discrepancies    []DiscrepancyLine
	DiscrepancyTotal int64
	Resolutions      []ResolutionLine
	Owing            []CourierDebt // couriers of the depot still owing at the time of the report
}

// OpenShift opens a cashier shift at a depot. Cashiers and admins only.
// Returns EFORBIDDEN, EINVALID (depot), ECONFLICT (a shift is already open).
func (s *Service) OpenShift(ctx context.Context, actor courier.Actor, depotID int64, note string) (*courier.CashShift, error) {
	if err := actor.Require(desk...); err != nil {
		return nil, err
	}
	if depotID <= 0 {
		return nil, courier.FieldError("depot_id", "is required")
	}
	note = strings.TrimSpace(note)
	if utf8.RuneCountInString(note) > maxNote {
		return nil, courier.FieldError("note", "must be at most %d characters", maxNote)
	}
	sh := &courier.CashShift{CashierID: actor.UserID, DepotID: depotID, OpenedAt: s.now(), OpenedToken: actor.TokenID, Note: note}
	if err := s.store.OpenCashShift(ctx, sh); err != nil {
		return nil, err
	}
	return sh, nil
}

// Shift returns a shift with its report: the closing report once closed, the
// report so far while open. Its cashier, admins and dispatchers may read it.
// Returns EFORBIDDEN, ENOTFOUND.
func (s *Service) Shift(ctx context.Context, actor courier.Actor, id int64) (*ShiftReport, error) {
	sh, err := s.readableShift(ctx, actor, id, office)
	if err != nil {
		return nil, err
	}
	if sh.Status == courier.ShiftClosed && len(sh.Report) > 0 {
		var rep ShiftReport
		if err := json.Unmarshal(sh.Report, &rep); err != nil {
			return nil, fmt.Errorf("cashdesk: shift %d report: %w", id, err)
		}
		rep.Shift = sh
		return &rep, nil
	}
	sts, err := s.store.Settlements(ctx, courier.SettlementFilter{ShiftID: id})
	if err != nil {
		return nil, err
	}
	ps, err := s.store.Postings(ctx, courier.PostingFilter{ShiftID: id})
	if err != nil {
		return nil, err
	}
	cards, err := s.cardTotals(ctx, sts)
	if err != nil {
		return nil, err
	}
	owing, err := s.debtors(ctx, sh.DepotID)
	if err != nil {
		return nil, err
	}
	return s.report(sh, sts, ps, cards, owing), nil
}

// CurrentShift returns the caller's open shift with its report so far, so a
// console that lost track of it can carry on. Returns EFORBIDDEN, ENOTFOUND
// when the caller has no open shift.
func (s *Service) CurrentShift(ctx context.Context, actor courier.Actor) (*ShiftReport, error) {
	if err := actor.Require(desk...); err != nil {
		return nil, err
	}
	sh, err := s.store.OpenCashShiftOf(ctx, actor.UserID)
	if err != nil {
		return nil, err
	}
	return s.Shift(ctx, actor, sh.ID)
}

// readableShift reads a shift the actor may see: cashiers only their own.
func (s *Service) readableShift(ctx context.Context, actor courier.Actor, id int64, roles []courier.Role) (*courier.CashShift, error) {
	if err := actor.Require(roles...); err != nil {
		return nil, err
	}
	sh, err := s.store.CashShift(ctx, id)
	if err != nil {
		return nil, err
	}
	if actor.Role == courier.RoleCashier && sh.CashierID != actor.UserID {
		return nil, courier.Errorf(courier.EFORBIDDEN, "shift %d is another cashier's", id)
	}
	return sh, nil
}

// CloseShift closes a cashier shift and returns its closing report: totals
// by method, discrepancies, resolutions, and the couriers of the depot still
// owing. The report is kept with the shift. The shift's cashier or an admin
// only. Returns EFORBIDDEN, ENOTFOUND, EINVALID (note), ECONFLICT (already closed).
func (s *Service) CloseShift(ctx context.Context, actor courier.Actor, id int64, note string) (*ShiftReport, error) {
	sh, err := s.readableShift(ctx, actor, id, desk)
	if err != nil {
		return nil, err
	}
	note = strings.TrimSpace(note)
	if utf8.RuneCountInString(note) > maxNote {
		return nil, courier.FieldError("note", "must be at most %d characters", maxNote)
	}
	// Read before the transaction (a callback never reads the store): the
	// couriers' debts and the card totals of the sheets settled so far.
	owing, err := s.debtors(ctx, sh.DepotID)
	if err != nil {
		return nil, err
	}
	sts, err := s.store.Settlements(ctx, courier.SettlementFilter{ShiftID: id})
	if err != nil {
		return nil, err
	}
	cards, err := s.cardTotals(ctx, sts)
	if err != nil {
		return nil, err
	}
	var rep *ShiftReport
	_, err = s.store.CloseCashShift(ctx, id, func(sh *courier.CashShift, sts []*courier.Settlement, ps []courier.Posting) error {
		if sh.Status != courier.ShiftOpen {
			return courier.Errorf(courier.ECONFLICT, "shift %d is already closed", id)
		}
		now := s.now()
		sh.Status, sh.ClosedAt, sh.ClosedBy, sh.ClosedToken = courier.ShiftClosed, &now, actor.UserID, actor.TokenID
		if note != "" {
			sh.Note = strings.TrimSpace(sh.Note + "\n" + note)
		}
		rep = s.report(sh, sts, ps, cards, owing)
		stored := *rep
		stored.Shift = nil
		b, err := json.Marshal(stored)
		if err != nil {
			return fmt.Errorf("cashdesk: encode report: %w", err)
		}
		sh.Report = b
		return nil
	})
	if err != nil {
		return nil, err
	}
	return rep, nil
}

// cardTotal is what customers paid by card on one settled sheet: the
// amount and the orders it was paid for.
type cardTotal struct {
	Amount int64
	Orders int
}

// cardTotals returns the card payments booked on each settled sheet, with
// the number of orders paid by card, so the report's card line never says
// "0 orders" over an amount.
func (s *Service) cardTotals(ctx context.Context, sts []*courier.Settlement) (map[int64]cardTotal, error) {
	out := map[int64]cardTotal{}
	for _, st := range sts {
		if _, ok := out[st.SheetID]; ok {
			continue
		}
		ps, err := s.store.Postings(ctx, courier.PostingFilter{SheetID: st.SheetID, Accounts: []string{courier.AccountCardReceivable}})
		if err != nil {
			return nil, err
		}
		var ct cardTotal
		net := map[int64]int64{}
		for _, p := range ps {
			if p.Currency != s.cfg.Currency {
				continue
			}
			if p.Amount > 0 {
				ct.Amount += p.Amount
			}
			net[p.OrderID] += p.Amount
		}
		for _, v := range net {
			if v > 0 {
				ct.Orders++
			}
		}
		out[st.SheetID] = ct
	}
	return out, nil
}

// report sums a shift's settlements and postings.
func (s *Service) report(sh *courier.CashShift, sts []*courier.Settlement, ps []courier.Posting, cards map[int64]cardTotal, owing []CourierDebt) *ShiftReport {
	rep := &ShiftReport{Shift: sh, Currency: s.cfg.Currency, Settlements: len(sts), Discrepancies: []DiscrepancyLine{},
		Resolutions: []ResolutionLine{}, Owing: owing}
	cash := MethodTotal{Method: courier.PayCash}
	card := MethodTotal{Method: courier.PayCard}
	sheets := map[int64]bool{}
	for _, st := range sts {
		cash.Orders += len(st.Orders)
		cash.Expected += st.Expected
		cash.Amount += st.Counted
		if !sheets[st.SheetID] {
			sheets[st.SheetID] = true
			card.Amount += cards[st.SheetID].Amount
			card.Orders += cards[st.SheetID].Orders
		}
		if d := st.Discrepancy(); d != 0 {
			rep.Discrepancies = append(rep.Discrepancies, DiscrepancyLine{SettlementID: st.ID, SheetID: st.SheetID,
				SheetNumber: courier.SheetNumber(st.SheetID), CourierID: st.CourierID, Amount: d, Note: st.Note, CashierID: st.CashierID, At: st.CreatedAt})
			rep.DiscrepancyTotal += d
		}
	}
	rep.ByMethod = []MethodTotal{cash, card}
	for _, p := range ps {
		if p.Currency != s.cfg.Currency {
			continue
		}
		if strings.HasPrefix(p.Account, courier.PrefixCashdesk) {
			rep.CashIn += p.Amount
		}
		if (p.Kind == courier.KindRepayment || p.Kind == courier.KindWriteOff) && strings.HasPrefix(p.Account, courier.PrefixDiscrepancy) {
			rep.Resolutions = append(rep.Resolutions, ResolutionLine{CourierID: p.CourierID, Kind: p.Kind, Amount: p.Amount, Note: p.Note, At: p.At})
		}
	}
	return rep
}
