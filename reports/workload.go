package reports

import (
	"context"

	"github.com/courierhq/courier"
)

// WorkloadRow is one courier's day (Date and CourierID set), or the totals
// of one currency (both empty). Money is in Currency; the counts, distances
// and times of a day are on the row of the company currency (orders are in
// it), so a total is the sum of its currency's rows.
type WorkloadRow struct {
	Date         string
	CourierID    int64
	CourierName  string
	Currency     string
	Sheets       int // published route sheets
	StopsPlanned int // stops on them
	Delivered    int // stops delivered (partial deliveries too)
	Partial      int // of them, with goods refused
	Failed       int // stops failed, refused or handed back
	HandedBack   int // of them, brought back unvisited at the end of the shift
	PlannedM     int64
	// DrivenM is the distance of the day's GPS tracks; nil unless every
	// shift of the day ended and was measured (in totals: the sum of known days).
	DrivenM          *int64
	Shifts           int
	OpenShifts       int   // shifts not ended (counted until now)
	ShiftMinutes     int64 // on shift
	ScheduledMinutes int64 // the courier's shift hours, on days they worked
	CarriedG         int64 // the goods of every stop attempted, grams
	DeliveredG       int64 // of delivered stops
	CashCollected    int64
	CardCollected    int64
	CashHandedIn     int64 // counted at the desk for the day's sheets
}

// Workload is the workload report: rows by date and courier, totals by currency.
type Workload struct {
	Range  Range
	Rows   []*WorkloadRow
	Totals []*WorkloadRow
}

// Workload reports each courier's days: stops planned, delivered and
// failed, planned and driven distance, time on shift against the shift,
// goods carried, cash collected and handed in. Staff and cashiers (the
// cash collected and handed in is the desk's business). Returns
// EFORBIDDEN, EINVALID.
func (s *Service) Workload(ctx context.Context, actor courier.Actor, r Range) (*Workload, error) {
	if err := actor.Require(workloadReaders...); err != nil {
		return nil, err
	}
	return s.workload(ctx, r)
}

// CourierWorkload is the workload of the courier who asks, only theirs.
// Returns EFORBIDDEN, EINVALID.
func (s *Service) CourierWorkload(ctx context.Context, actor courier.Actor, from, to string) (*Workload, error) {
	if actor.Role != courier.RoleCourier || actor.CourierID == 0 {
		return nil, courier.Errorf(courier.EFORBIDDEN, "only couriers have their own workload")
	}
	return s.workload(ctx, Range{From: from, To: to, CourierID: actor.CourierID})
}

func (s *Service) workload(ctx context.Context, r Range) (*Workload, error) {
	f, err := s.check(ctx, r)
	if err != nil {
		return nil, err
	}
	fs, err := s.facts(ctx, f, readCells|readHandedIn)
	if err != nil {
		return nil, err
	}
	now := s.clock.Now()
	type key struct {
		day      dayKey
		currency string
	}
	rows := map[key]*WorkloadRow{}
	worked := map[dayKey]bool{}
	row := func(date string, courierID int64, currency string) *WorkloadRow {
		k := key{dayKey{date, courierID}, currency}
		if w := rows[k]; w != nil {
			return w
		}
		w := &WorkloadRow{Date: date, CourierID: courierID, CourierName: fs.courierName(courierID), Currency: currency}
		rows[k] = w
		return w
	}
	for _, sh := range fs.sheets {
		w := row(sh.Date, sh.CourierID, s.cfg.Currency)
		w.Sheets++
		w.StopsPlanned += sh.Stops
		w.PlannedM += sh.DistanceM
		worked[dayKey{sh.Date, sh.CourierID}] = true
	}
	driven := map[dayKey]*int64{}
	unknown := map[dayKey]bool{}
	for _, sh := range fs.shifts {
		k := dayKey{sh.Date, sh.CourierID}
		w := row(sh.Date, sh.CourierID, s.cfg.Currency)
		w.Shifts++
		w.ShiftMinutes += shiftMinutes(sh, now)
		worked[k] = true
		if sh.EndedAt == nil {
			w.OpenShifts++
			unknown[k] = true
			continue
		}
		if sh.DrivenM == nil {
			unknown[k] = true
			continue
		}
		if driven[k] == nil {
			driven[k] = new(int64)
		}
		*driven[k] += *sh.DrivenM
	}
	for _, a := range fs.cells {
		w := row(a.Date, a.CourierID, a.Currency)
		w.CarriedG += a.CarriedG
		w.Delivered += a.Delivered
		w.DeliveredG += a.DeliveredG
		w.Partial += a.Partial
		w.Failed += a.Attempts - a.Delivered
		w.HandedBack += a.HandedBack
		w.CashCollected += a.CashCollected
		w.CardCollected += a.CardCollected
		worked[dayKey{a.Date, a.CourierID}] = true
	}
	for _, h := range fs.handed {
		row(h.Date, h.CourierID, h.Currency).CashHandedIn += h.Amount
	}
	for k := range worked {
		w := row(k.date, k.courierID, s.cfg.Currency)
		w.ScheduledMinutes = scheduledMinutes(fs.couriers[k.courierID])
		if d := driven[k]; d != nil && !unknown[k] {
			w.DrivenM = d
		}
	}
	out := &Workload{Range: r, Rows: make([]*WorkloadRow, 0, len(rows))}
	for _, w := range rows {
		out.Rows = append(out.Rows, w)
	}
	sortRows(out.Rows, func(w *WorkloadRow) (string, int64, string) { return w.Date, w.CourierID, w.Currency })
	totals := map[string]*WorkloadRow{}
	for _, w := range out.Rows {
		t := totals[w.Currency]
		if t == nil {
			t = &WorkloadRow{Currency: w.Currency}
			totals[w.Currency] = t
			out.Totals = append(out.Totals, t)
		}
		t.Sheets += w.Sheets
		t.StopsPlanned += w.StopsPlanned
		t.Delivered += w.Delivered
		t.Partial += w.Partial
		t.Failed += w.Failed
		t.HandedBack += w.HandedBack
		t.PlannedM += w.PlannedM
		if w.DrivenM != nil {
			if t.DrivenM == nil {
				t.DrivenM = new(int64)
			}
			*t.DrivenM += *w.DrivenM
		}
		t.Shifts += w.Shifts
		t.OpenShifts += w.OpenShifts
		t.ShiftMinutes += w.ShiftMinutes
		t.ScheduledMinutes += w.ScheduledMinutes
		t.CarriedG += w.CarriedG
		t.DeliveredG += w.DeliveredG
		t.CashCollected += w.CashCollected
		t.CardCollected += w.CardCollected
		t.CashHandedIn += w.CashHandedIn
	}
	sortRows(out.Totals, func(w *WorkloadRow) (string, int64, string) { return "", 0, w.Currency })
	return out, nil
}
