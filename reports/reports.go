// Package reports reads the days couriers worked: workload per courier and
// day, every delivery with the fee the tariff charged and the courier's pay
// for it, and punctuality; and it keeps the couriers' pay rules and the pay
// periods an admin closed.
//
// Every money figure is an integer of minor units in the currency of its
// row, and every total is the sum of the rows it totals, per currency: a
// report never sums rounded figures. Weights are whole grams and distances
// whole metres for the same reason; the wire shows kg and km from them.
package reports

import (
	"cmp"
	"context"
	"fmt"
	"log/slog"
	"slices"
	"time"

	"github.com/courierhq/courier"
)

// MaxDays is the longest range a report covers.
const MaxDays = 366

// Config is the company's settings reports depend on.
type Config struct {
	Currency string         // ISO 4217: pay rules are in it
	Location *time.Location // the company time zone: days
}

// Odometer measures couriers' GPS tracks (geo.Tracker).
type Odometer interface {
	// DrivenM returns the metres of the track within [from, to]; ok is
	// false when the track is too short to tell.
	DrivenM(ctx context.Context, courierID int64, from, to time.Time) (m int64, ok bool, err error)
	// Keeps is how long a track is kept.
	Keeps() time.Duration
}

// Service builds reports over the store.
type Service struct {
	store courier.Store
	clock courier.Clock
	cfg   Config
	odo   Odometer
	log   *slog.Logger
}

// New returns the reports service. odo may be nil: driven distances are then
// never measured, and pay per km uses the planned routes.
func New(store courier.Store, clock courier.Clock, cfg Config, odo Odometer, log *slog.Logger) *Service {
	if cfg.Location == nil {
		cfg.Location = time.UTC
	}
	if log == nil {
		log = slog.Default()
	}
	return &Service{store: store, clock: clock, cfg: cfg, odo: odo, log: log}
}

// Range is what a report covers: the days From to To (YYYY-MM-DD in the
// company time zone, both included) of one courier, or of all when
// CourierID is 0.
type Range struct {
	From, To  string
	CourierID int64
}

// Who may read which report.
var (
	workloadReaders = []courier.Role{courier.RoleAdmin, courier.RoleDispatcher, courier.RoleCashier}
	payReaders      = []courier.Role{courier.RoleAdmin, courier.RoleDispatcher}
)

// check validates r and returns its filter. Returns EINVALID for a missing
// or malformed date, to before from, more than MaxDays days, or an unknown
// courier.
func (s *Service) check(ctx context.Context, r Range) (courier.ReportFilter, error) {
	f := courier.ReportFilter{From: r.From, To: r.To, CourierID: r.CourierID}
	var days [2]time.Time
	for i, d := range []struct{ field, v string }{{"from", r.From}, {"to", r.To}} {
		if d.v == "" {
			return f, courier.FieldError(d.field, "is required: a date YYYY-MM-DD")
		}
		t, err := time.Parse(time.DateOnly, d.v)
		if err != nil {
			return f, courier.FieldError(d.field, "must be a date YYYY-MM-DD, got %q", d.v)
		}
		days[i] = t
	}
	if days[1].Before(days[0]) {
		return f, &courier.Error{Code: courier.EINVALID, Message: fmt.Sprintf("to: %s is before from (%s)", r.To, r.From),
			Details: map[string]any{"field": "to"}}
	}
	if n := dayCount(days[0], days[1]); n > MaxDays {
		return f, &courier.Error{Code: courier.EINVALID, Message: fmt.Sprintf("to: the range has %d days; a report covers at most %d", n, MaxDays),
			Details: map[string]any{"field": "to", "max_days": MaxDays, "days": n}}
	}
	if r.CourierID < 0 {
		return f, courier.FieldError("courier_id", "must be positive")
	}
	if r.CourierID > 0 {
		if _, err := s.store.Courier(ctx, r.CourierID); courier.ErrorCode(err) == courier.ENOTFOUND {
			return f, courier.FieldError("courier_id", "courier %d does not exist", r.CourierID)
		} else if err != nil {
			return f, err
		}
	}
	return f, nil
}

// dayCount is the number of days from a to b, both included.
func dayCount(a, b time.Time) int { return int(b.Sub(a).Hours()/24+0.5) + 1 }

// facts are what a report reads, for the days of a filter.
type facts struct {
	attempts []*courier.StopAttempt // the delivery report's lines
	cells    []courier.AttemptCell  // the attempts summed, for the workload
	sheets   []courier.SheetDay
	shifts   []courier.ShiftDay
	handed   []courier.HandedIn
	couriers map[int64]*courier.Courier
}

// What facts reads besides sheets, shifts and couriers.
const (
	readAttempts = 1 << iota
	readCells
	readHandedIn
)

// dayKey names a courier's working day.
type dayKey struct {
	date      string
	courierID int64
}

func (s *Service) facts(ctx context.Context, f courier.ReportFilter, read int) (*facts, error) {
	var (
		fs  facts
		err error
	)
	if read&readAttempts != 0 {
		if fs.attempts, err = s.store.StopAttempts(ctx, f); err != nil {
			return nil, err
		}
	}
	if read&readCells != 0 {
		if fs.cells, err = s.store.AttemptCells(ctx, f); err != nil {
			return nil, err
		}
	}
	if fs.sheets, err = s.store.SheetDays(ctx, f); err != nil {
		return nil, err
	}
	if fs.shifts, err = s.store.ShiftDays(ctx, f); err != nil {
		return nil, err
	}
	if read&readHandedIn != 0 {
		if fs.handed, err = s.store.HandedIn(ctx, f); err != nil {
			return nil, err
		}
	}
	cs, err := s.store.ListCouriers(ctx, courier.CourierFilter{})
	if err != nil {
		return nil, err
	}
	fs.couriers = map[int64]*courier.Courier{}
	for _, c := range cs {
		fs.couriers[c.ID] = c
	}
	if err := s.measure(ctx, fs.shifts); err != nil {
		return nil, err
	}
	return &fs, nil
}

// Settle is how long after a shift ends its track is measured: a phone
// that was offline sends its buffered positions when it is back.
const Settle = time.Hour

// measure fills in the driven distance of shifts that ended at least Settle
// ago and lack it, while their GPS track is still kept, and records it; a
// day already paid out keeps what its pay was computed from. Reports read
// tracks only here, so a track is read once.
func (s *Service) measure(ctx context.Context, shifts []courier.ShiftDay) error {
	if s.odo == nil {
		return nil
	}
	now := s.clock.Now()
	kept, settled := now.Add(-s.odo.Keeps()), now.Add(-Settle)
	var todo []int
	for i, sh := range shifts {
		if sh.EndedAt != nil && sh.DrivenM == nil && sh.StartedAt.After(kept) && sh.EndedAt.Before(settled) {
			todo = append(todo, i)
		}
	}
	if len(todo) == 0 {
		return nil
	}
	periods, err := s.store.PayPeriods(ctx)
	if err != nil {
		return err
	}
	paid := paidThrough(periods)
	for _, i := range todo {
		sh := &shifts[i]
		if sh.Date <= paid {
			continue
		}
		m, ok, err := s.odo.DrivenM(ctx, sh.CourierID, sh.StartedAt, *sh.EndedAt)
		if err != nil {
			// Redis down: the report uses the planned distance this time.
			s.log.Warn("reports: driven distance not measured", slog.Int64("shift_id", sh.ShiftID), slog.Any("err", err))
			continue
		}
		if !ok {
			continue
		}
		if err := s.store.SetShiftDriven(ctx, sh.ShiftID, m); err != nil {
			return err
		}
		sh.DrivenM = &m
	}
	return nil
}

// courierName is the courier's name, or "courier N" for one that is gone.
func (fs *facts) courierName(id int64) string {
	if c := fs.couriers[id]; c != nil {
		return c.Name
	}
	return fmt.Sprintf("courier %d", id)
}

// perThousand is rate × n / 1000 rounded half up (a rate per kg of grams, per km of metres).
func perThousand(rate, n int64) int64 { return (rate*n + 500) / 1000 }

// sortRows orders rows by date, courier and currency (key returns them).
func sortRows[T any](rows []T, key func(T) (string, int64, string)) {
	slices.SortFunc(rows, func(a, b T) int {
		ad, ac, ax := key(a)
		bd, bc, bx := key(b)
		return cmp.Or(cmp.Compare(ad, bd), cmp.Compare(ac, bc), cmp.Compare(ax, bx))
	})
}

// shiftMinutes is how long a shift lasted (until now while open), in whole minutes.
func shiftMinutes(sh courier.ShiftDay, now time.Time) int64 {
	end := now
	if sh.EndedAt != nil {
		end = *sh.EndedAt
	}
	if end.Before(sh.StartedAt) {
		return 0
	}
	return int64(end.Sub(sh.StartedAt) / time.Minute)
}

// scheduledMinutes is the length of the courier's shift of the day.
func scheduledMinutes(c *courier.Courier) int64 {
	if c == nil {
		return 0
	}
	from, err1 := courier.ParseClock("shift.start", c.Shift.Start)
	to, err2 := courier.ParseClock("shift.end", c.Shift.End)
	if err1 != nil || err2 != nil {
		return 0
	}
	if to <= from {
		to += 24 * 60 // over midnight
	}
	return int64(to - from)
}
