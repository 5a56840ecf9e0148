package courier

import (
	"context"
	"time"
)

// Reports read the day after it happened: the delivery fee the tariff
// charged, what the courier collected, the courier's pay by their rules,
// workload and punctuality. They read facts kept when things happened (a
// stop attempt is recorded with the stop's outcome), never figures that a
// later edit could change.

// Tariff is the company's price list for deliveries, set by an admin. Each
// change is a new version; an order keeps the version in force when it was
// created, so a later change of the tariff never re-prices it. Version 0 is
// the built-in tariff that applies until an admin sets one. Amounts are
// minor units of the company currency.
type Tariff struct {
	Version int64
	// BaseFee is the fee of every delivery, unless the order's zone has its
	// own base fee (ZoneFees first, then the zone's own base_fee).
	BaseFee  int64
	ZoneFees []ZoneFee
	// PerKg is charged for each started kg above FreeKg.
	FreeKg float64
	PerKg  int64
	// PerKm is charged for each started km of straight-line distance from the depot.
	PerKm int64
	// FreeAbove makes delivery free for an order worth at least this much (0: never).
	FreeAbove int64
	// NarrowWindows surcharge orders whose time window is short.
	NarrowWindows []WindowSurcharge
	CreatedBy     int64
	CreatedAt     time.Time
}

// ZoneFee is the base fee of deliveries into one zone.
type ZoneFee struct {
	ZoneID  int64
	BaseFee int64
}

// WindowSurcharge is added to the fee of an order whose time window lasts
// more than FromMinutes and at most ToMinutes.
type WindowSurcharge struct {
	FromMinutes int
	ToMinutes   int
	Surcharge   int64
}

// Fee rules: the parts of a FeeQuote.
const (
	FeeBase      = "base"       // the base fee (of the zone, or the default)
	FeeWeight    = "weight"     // per started kg above the free weight
	FeeDistance  = "distance"   // per started km from the depot
	FeeWindow    = "window"     // a narrow time window
	FeeFreeAbove = "free_above" // delivery is free above an order value: minus the rest
	FeeOverride  = "override"   // a dispatcher set the fee by hand
)

// FeeQuote is how an order's delivery fee was priced: the tariff version and
// the parts, which sum to the fee.
type FeeQuote struct {
	TariffVersion int64
	Components    []FeeComponent
}

// Total returns the sum of the components.
func (q *FeeQuote) Total() int64 {
	if q == nil {
		return 0
	}
	var t int64
	for _, c := range q.Components {
		t += c.Amount
	}
	return t
}

// Amount returns the sum of the components of one rule.
func (q *FeeQuote) Amount(rule string) int64 {
	if q == nil {
		return 0
	}
	var t int64
	for _, c := range q.Components {
		if c.Rule == rule {
			t += c.Amount
		}
	}
	return t
}

// FeeComponent is one part of a fee: the rule, the amount (minor units,
// negative for a discount) and what it was computed from, in words.
type FeeComponent struct {
	Rule   string
	Amount int64
	Detail string
}

// StopAttempt is one finished visit of a courier at a stop: delivered
// (partly, when goods were refused), failed, or refused by the customer. It
// is recorded with the change of the order, as it was then, and never
// changed: an order rescheduled and delivered another day has two attempts.
type StopAttempt struct {
	ID            int64
	OrderID       int64
	Attempt       int // 1 for the order's first attempt (set by the store)
	ExternalID    string
	CourierID     int64
	VehicleType   string // the courier's vehicle then (set by the store)
	SheetID       int64
	DepotID       int64
	ZoneID        int64
	Date          string      // the working day (the route sheet's date), YYYY-MM-DD in the company time zone
	Outcome       OrderStatus // delivered, failed_attempt or refused
	FailReason    string
	RefusedPieces int64 // goods the customer did not take on a delivery (a partial delivery)
	FinishedAt    time.Time
	Window        *TimeWindow
	WeightKg      float64
	Currency      string
	PaidBy        PaymentMethod // the order's payment: cash, card or prepaid
	AmountDue     int64
	Collected     int64
	CollectedBy   PaymentMethod // cash or card; empty when nothing was collected
	Fee           int64         // the order's delivery fee at the time
	Quote         *FeeQuote     // how the fee was priced; nil for orders priced before tariff versions
}

// Delivered reports whether the goods were handed over (wholly or partly).
func (a *StopAttempt) Delivered() bool { return a.Outcome == StatusDelivered }

// WeightG is the weight of the goods in whole grams.
func (a *StopAttempt) WeightG() int64 { return int64(a.WeightKg*1000 + 0.5) }

// Timing says how a delivery kept its time window: minutes before its start
// (early) or after its end (late), a started minute counting whole; both 0
// within the window. ok is false for a failed attempt or an order without
// a window.
func (a *StopAttempt) Timing() (early, late int64, ok bool) {
	w := a.Window
	if !a.Delivered() || w == nil {
		return 0, 0, false
	}
	minutes := func(d time.Duration) int64 { return int64((d + time.Minute - 1) / time.Minute) }
	switch {
	case a.FinishedAt.Before(w.From):
		return minutes(w.From.Sub(a.FinishedAt)), 0, true
	case a.FinishedAt.After(w.To):
		return 0, minutes(a.FinishedAt.Sub(w.To)), true
	}
	return 0, 0, true
}

// AttemptCell sums the stop attempts of one day, courier, zone (0: none)
// and currency: what the workload and on-time reports need, summed by the
// database instead of read row by row.
type AttemptCell struct {
	Date           string
	CourierID      int64
	ZoneID         int64
	Currency       string
	Attempts       int
	Delivered      int // partial deliveries too
	Partial        int
	HandedBack     int
	CarriedG       int64 // every attempted stop's goods
	DeliveredG     int64
	CashCollected  int64
	CardCollected  int64
	WithWindow     int // delivered stops with a window
	Early          int
	EarlyMinutes   int64
	Late           int
	LateMinutes    int64
	MaxLateMinutes int64
	FirstAttempts  int
	FirstDelivered int
}

// ReasonCell counts the failed attempts of one day, courier and zone by
// reason (the outcome when no reason was given).
type ReasonCell struct {
	Date      string
	CourierID int64
	ZoneID    int64
	Reason    string
	N         int
}

// PayRule is what a courier earns, configured by an admin for one courier or
// for every courier of a vehicle type, from a date on. Amounts are minor
// units of Currency. For a courier and a day the rule in force is the
// courier's own rule with the latest EffectiveFrom not after the day, else
// the rule of the vehicle they drove that day (as recorded with their stop
// attempts; their current vehicle on a day without any); between rules of
// one scope and date the later one (the higher ID) wins.
type PayRule struct {
	ID            int64
	CourierID     int64  // the courier's own rule; 0 for a vehicle type's
	VehicleType   string // a vehicle type's rule; "" for a courier's
	EffectiveFrom string // YYYY-MM-DD, company time zone
	Currency      string
	PerDelivered  int64 // per delivered stop (a partial delivery counts)
	PerFailed     int64 // per failed or refused stop (not for stops handed back unvisited)
	PerKm         int64 // per km driven (GPS track, else the planned route)
	PerKg         int64 // per kg delivered
	PerShift      int64 // per shift started that day
	MinPerShift   int64 // the day's pay is topped up to this much per shift
	Note          string
	CreatedBy     int64
	CreatedAt     time.Time
}

// PayPeriod is a span of days an admin closed because the couriers were
// paid for it. Closed periods follow each other without gaps; a pay rule
// may not take effect on a paid-out day (it would rewrite paid pay).
type PayPeriod struct {
	ID       int64
	From, To string // YYYY-MM-DD, both included
	ClosedBy int64
	ClosedAt time.Time
	Note     string
}

// ReportFilter selects the facts of days From to To (YYYY-MM-DD, both
// included) of one courier, or of all when CourierID is 0.
type ReportFilter struct {
	From, To  string
	CourierID int64
	Fees      bool // read the attempts' fee quotes too
}

// SheetDay is a route sheet as reports count it.
type SheetDay struct {
	SheetID   int64
	CourierID int64
	Date      string
	Status    SheetStatus
	Stops     int
	DistanceM int64
}

// ShiftDay is a courier's shift as reports count it. DrivenM is the
// distance of the GPS track, nil when it is not known.
type ShiftDay struct {
	ShiftID   int64
	CourierID int64
	Date      string
	StartedAt time.Time
	EndedAt   *time.Time
	DrivenM   *int64
}

// HandedIn is the cash counted at the desk for a courier's sheets of a day.
type HandedIn struct {
	CourierID int64
	Date      string // the sheets' date
	Currency  string
	Amount    int64
}

// ReportStore keeps tariffs, pay rules and pay periods, and reads the facts
// of reports.
type ReportStore interface {
	// Tariffs returns every tariff version set through the API, by version.
	Tariffs(ctx context.Context) ([]*Tariff, error)
	// AddTariff stores t as the version after basedOn, setting Version and
	// CreatedAt. Returns ECONFLICT when basedOn is not the latest version
	// (another admin changed the tariff meanwhile).
	AddTariff(ctx context.Context, t *Tariff, basedOn int64) error
	// PayRules returns every pay rule, by id.
	PayRules(ctx context.Context) ([]*PayRule, error)
	// AddPayRule stores r, setting ID and CreatedAt, after check approves
	// the last paid-out day ("" when none), read under a lock that closing a
	// pay period takes too. Returns check's error, or EINVALID for an
	// unknown courier.
	AddPayRule(ctx context.Context, r *PayRule, check func(paidThrough string) error) error
	// PayPeriods returns the closed pay periods, by date.
	PayPeriods(ctx context.Context) ([]*PayPeriod, error)
	// ClosePayPeriod stores p after check approves it against the last
	// closed period (nil when none), under the same lock, setting ID and
	// ClosedAt. Returns check's error.
	ClosePayPeriod(ctx context.Context, p *PayPeriod, check func(last *PayPeriod) error) error
	// StopAttempts returns the attempts of days in f, by date, courier and id.
	StopAttempts(ctx context.Context, f ReportFilter) ([]*StopAttempt, error)
	// AttemptCells sums the attempts of days in f by day, courier, zone and currency.
	AttemptCells(ctx context.Context, f ReportFilter) ([]AttemptCell, error)
	// FailureReasons counts the failed attempts of days in f by day, courier, zone and reason.
	FailureReasons(ctx context.Context, f ReportFilter) ([]ReasonCell, error)
	// SheetDays returns the route sheets of days in f that were published
	// (published, active or completed), by date, courier and id.
	SheetDays(ctx context.Context, f ReportFilter) ([]SheetDay, error)
	// ShiftDays returns the couriers' shifts started on days in f, by date, courier and id.
	ShiftDays(ctx context.Context, f ReportFilter) ([]ShiftDay, error)
	// HandedIn sums the cash counted at the desk for sheets of days in f.
	HandedIn(ctx context.Context, f ReportFilter) ([]HandedIn, error)
	// SetShiftDriven records the distance of a shift's GPS track. Returns ENOTFOUND.
	SetShiftDriven(ctx context.Context, shiftID, meters int64) error
}
