package cashdesk

import (
	"context"
	"time"

	"github.com/courierhq/courier"
)

// CurrencyTotal is the sum of a day's postings in one currency (or PCS).
type CurrencyTotal struct {
	Currency string
	Debit    int64
	Credit   int64
	Balanced bool // Debit == Credit
}

// Reconciliation is a depot's ledger for one day (in the company time zone):
// every account's debits and credits, and per currency the totals, which
// balance because every transaction does.
type Reconciliation struct {
	Date     string
	DepotID  int64
	From, To time.Time
	Accounts []courier.AccountBalance
	Totals   []CurrencyTotal
	Balanced bool
}

// Reconciliation returns depot depotID's reconciliation of date (YYYY-MM-DD).
// Office roles only. Returns EFORBIDDEN, EINVALID (date, depot_id), ENOTFOUND (depot).
func (s *Service) Reconciliation(ctx context.Context, actor courier.Actor, date string, depotID int64) (*Reconciliation, error) {
	if err := actor.Require(office...); err != nil {
		return nil, err
	}
	if date == "" {
		return nil, courier.FieldError("date", "is required (YYYY-MM-DD)")
	}
	day, err := time.ParseInLocation(time.DateOnly, date, s.cfg.Location)
	if err != nil {
		return nil, courier.FieldError("date", "must be a date YYYY-MM-DD")
	}
	if depotID <= 0 {
		return nil, courier.FieldError("depot_id", "is required")
	}
	if _, err := s.store.Depot(ctx, depotID); err != nil {
		return nil, err
	}
	r := &Reconciliation{Date: date, DepotID: depotID, From: day.UTC(), To: day.AddDate(0, 0, 1).UTC(), Balanced: true}
	r.Accounts, err = s.store.Balances(ctx, courier.PostingFilter{DepotID: depotID, From: r.From, To: r.To})
	if err != nil {
		return nil, err
	}
	idx := map[string]int{}
	for _, a := range r.Accounts {
		i, ok := idx[a.Currency]
		if !ok {
			i = len(r.Totals)
			idx[a.Currency] = i
			r.Totals = append(r.Totals, CurrencyTotal{Currency: a.Currency})
		}
		r.Totals[i].Debit += a.Debit
		r.Totals[i].Credit += a.Credit
	}
	for i := range r.Totals {
		r.Totals[i].Balanced = r.Totals[i].Debit == r.Totals[i].Credit
		r.Balanced = r.Balanced && r.Totals[i].Balanced
	}
	if r.Totals == nil {
		r.Totals = []CurrencyTotal{}
	}
	return r, nil
}
