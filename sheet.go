package courier

import (
	"context"
	"strconv"
	"time"
)

// PlanStatus is where a planning job is.
type PlanStatus string

// Plan statuses: queued -> running -> done (sheets proposed) | failed;
// done -> published once the dispatcher publishes its sheets.
const (
	PlanQueued    PlanStatus = "queued"
	PlanRunning   PlanStatus = "running"
	PlanDone      PlanStatus = "done"
	PlanFailed    PlanStatus = "failed"
	PlanPublished PlanStatus = "published"
)

// Plan is one optimization of a day: which orders and couriers went in, the
// routing problem built from them (for offline replay), progress, and the
// route sheets it proposed.
type Plan struct {
	ID          int64
	Date        string // YYYY-MM-DD
	DepotID     int64
	OrderIDs    []int64
	CourierIDs  []int64
	TimeLimit   time.Duration
	Status      PlanStatus
	Error       string
	BestCost    int64
	Elapsed     time.Duration
	Unassigned  []UnassignedOrder // when done; while running only UnassignedN is known
	UnassignedN int
	// Problem is the routing problem (routing JSON format), tens of
	// megabytes for a thousand orders: CreatePlan writes it when set, and
	// only PlanProblem reads it (Plan and UpdatePlan leave it empty).
	Problem   []byte
	CreatedBy int64
	// LeaseOwner is the replica running the plan's job and LeaseUntil when
	// its lease ends unless renewed: a queued or running plan whose lease
	// ended lost its replica (PlanStore.ReapPlans).
	LeaseOwner string
	LeaseUntil time.Time
	Version    int64
	CreatedAt  time.Time
	UpdatedAt  time.Time
}

// UnassignedOrder is an order a plan could not place, and why.
type UnassignedOrder struct {
	OrderID int64
	Reason  string // no_capacity, window_unreachable, no_courier_for_zone, shift_too_short, too_many_stops, no_courier
}

// SheetStatus is where a route sheet is.
type SheetStatus string

// Sheet statuses: draft (proposed by a plan, editable) -> published (the
// courier sees it) -> active (the courier started it) -> completed; a draft
// may be discarded when the plan is planned again.
const (
	SheetDraft     SheetStatus = "draft"
	SheetPublished SheetStatus = "published"
	SheetActive    SheetStatus = "active"
	SheetCompleted SheetStatus = "completed"
	SheetDiscarded SheetStatus = "discarded"
)

// RouteSheet is one courier's route for a day: the stops in order with their
// ETAs, and the totals. Number carries a check digit and is the barcode.
type RouteSheet struct {
	ID          int64
	Number      string
	PlanID      int64
	CourierID   int64
	DepotID     int64
	Date        string
	Status      SheetStatus
	Stops       []SheetStop
	DistanceM   int64
	DurationS   int64
	Start       time.Time // planned departure from the depot
	End         time.Time // planned return
	Version     int64
	PublishedAt *time.Time
	StartedAt   *time.Time
	CompletedAt *time.Time // when the last stop was finished
	CreatedAt   time.Time
	UpdatedAt   time.Time
}

// SheetStop is one order on a sheet.
type SheetStop struct {
	OrderID int64
	Seq     int // 1-based position
	ETA     time.Time
	ETAFrom time.Time // the window shown to the customer
	ETATo   time.Time
	Locked  bool // the dispatcher pinned it here; re-optimizing keeps it
	Done    bool // delivered, failed or refused: fixed for re-optimizing
}

// SheetNumber returns the route sheet number of id: the id as at least 8
// digits followed by a Luhn check digit, so a mistyped number is caught.
func SheetNumber(id int64) string {
	s := strconv.FormatInt(id, 10)
	for len(s) < 8 {
		s = "0" + s
	}
	return s + string(rune('0'+luhn(s)))
}

// ParseSheetNumber checks a typed or scanned sheet number and returns the id.
// Returns EINVALID for a malformed number or a wrong check digit.
func ParseSheetNumber(number string) (int64, error) {
	if len(number) < 9 || len(number) > 19 {
		return 0, FieldError("barcode", "a route sheet number has 9 to 19 digits")
	}
	for _, c := range number {
		if c < '0' || c > '9' {
			return 0, FieldError("barcode", "a route sheet number has only digits")
		}
	}
	body, check := number[:len(number)-1], number[len(number)-1]
	if int(check-'0') != luhn(body) {
		return 0, FieldError("barcode", "wrong check digit: the number was mistyped")
	}
	id, err := strconv.ParseInt(body, 10, 64)
	if err != nil || id <= 0 {
		return 0, FieldError("barcode", "not a route sheet number")
	}
	return id, nil
}

// luhn returns the Luhn check digit of a digit string.
func luhn(digits string) int {
	sum := 0
	double := true
	for i := len(digits) - 1; i >= 0; i-- {
		d := int(digits[i] - '0')
		if double {
			d *= 2
			if d > 9 {
				d -= 9
			}
		}
		sum += d
		double = !double
	}
	return (10 - sum%10) % 10
}

// PlanStore persists plans and route sheets.
type PlanStore interface {
	// CreatePlan inserts p and sets its ID, Version 1 and timestamps.
	CreatePlan(ctx context.Context, p *Plan) error
	// Plan returns a plan by id. Returns ENOTFOUND.
	Plan(ctx context.Context, id int64) (*Plan, error)
	// ListPlans returns the plans of a date (of one depot when depotID is not
	// 0), newest first, at most limit of them.
	ListPlans(ctx context.Context, date string, depotID int64, limit int) ([]*Plan, error)
	// UpdatePlan reads the plan, calls fn and writes it (Version+1) in one transaction. Returns ENOTFOUND or fn's error.
	// It never reads or writes the problem.
	UpdatePlan(ctx context.Context, id int64, fn func(*Plan) error) (*Plan, error)
	// ReapPlans marks failed, with reason, every queued or running plan whose
	// lease ended before now, in one statement (replicas may reap together),
	// and returns their ids. A plan with a live lease is left alone.
	ReapPlans(ctx context.Context, now time.Time, reason string) ([]int64, error)
	// SetPlanProblem stores the plan's routing problem. Returns ENOTFOUND.
	SetPlanProblem(ctx context.Context, id int64, problem []byte) error
	// PlanProblem returns the plan's routing problem, nil while it is not
	// stored yet. Returns ENOTFOUND.
	PlanProblem(ctx context.Context, id int64) ([]byte, error)
	// ReplaceDraftSheets discards the plan's draft sheets and inserts sheets as
	// drafts of the plan, setting their IDs and Numbers, in one transaction.
	ReplaceDraftSheets(ctx context.Context, planID int64, sheets []*RouteSheet) error
	// Sheet returns a route sheet by id. Returns ENOTFOUND.
	Sheet(ctx context.Context, id int64) (*RouteSheet, error)
	// ListSheets returns the sheets matching f, ordered by id.
	ListSheets(ctx context.Context, f SheetFilter) ([]*RouteSheet, error)
	// UpdateSheets locks the sheets sheetIDs and the orders orderIDs (each in id
	// order, so two callers never deadlock), calls fn with them, and writes
	// every sheet (Version+1) and every order for which fn returns an event
	// (Version+1, events appended) in one transaction. Returns ENOTFOUND or fn's error.
	UpdateSheets(ctx context.Context, sheetIDs, orderIDs []int64, fn func(sheets []*RouteSheet, orders map[int64]*Order) ([]OrderEvent, error)) ([]*RouteSheet, error)
}

// SheetFilter selects route sheets; zero fields do not filter.
type SheetFilter struct {
	PlanID    int64
	CourierID int64
	Date      string
	Statuses  []SheetStatus
}
