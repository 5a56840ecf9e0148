package courier

import (
	"context"
	"slices"
	"time"
)

// CourierAction is what a courier reports from the road, live or later from
// an offline queue. Each report is a CourierEvent applied exactly once by
// the phone's client event id.
type CourierAction string

// The courier actions.
const (
	ActionShiftStart CourierAction = "shift_start" // the courier starts the working day: today's published sheets go out
	ActionShiftEnd   CourierAction = "shift_end"   // the courier ends it; open stops must be failed or handed back
	ActionArrive     CourierAction = "arrive"      // the courier is at the customer's door
	ActionDeliver    CourierAction = "deliver"     // handed over, with scans, money and proof
	ActionFail       CourierAction = "fail"        // not delivered, with a reason
)

// Valid reports whether a is a known action.
func (a CourierAction) Valid() bool {
	return slices.Contains([]CourierAction{ActionShiftStart, ActionShiftEnd, ActionArrive, ActionDeliver, ActionFail}, a)
}

// AtStop reports whether a is about one stop (an order).
func (a CourierAction) AtStop() bool {
	return a == ActionArrive || a == ActionDeliver || a == ActionFail
}

// Why a delivery failed: the courier picks one of these.
const (
	FailNoAnswer       = "no_answer"
	FailRefused        = "refused" // the customer refused the whole order: it goes back to the depot
	FailWrongAddress   = "wrong_address"
	FailDamaged        = "damaged"
	FailCustomerAbsent = "customer_absent"
	FailReschedule     = "reschedule" // the customer asked for another date (WishedDate)
	// FailHandedBack is set at the end of a shift for stops the courier
	// brings back unvisited; phones do not send it as a fail reason.
	FailHandedBack = "handed_back"
)

// FailReasons are the reasons a courier may give.
func FailReasons() []string {
	return []string{FailNoAnswer, FailRefused, FailWrongAddress, FailDamaged, FailCustomerAbsent, FailReschedule}
}

// Outcomes of a courier event.
const (
	OutcomeApplied   = "applied"   // the event changed the day
	OutcomeDuplicate = "duplicate" // the event was received before: its first outcome is repeated
	OutcomeConflict  = "conflict"  // the day does not allow it now (the stop was moved, is finished, ...)
	OutcomeInvalid   = "invalid"   // the event breaks a rule (a field, the time, the scanned goods)
)

// StopReport is what the courier reported at a stop on the current attempt:
// arrival, the goods handed over and refused, the money collected, the proof,
// or why it failed. The order keeps the last attempt's report; every attempt
// stays in the courier events and the order's history.
type StopReport struct {
	ArrivedAt  *time.Time
	FinishedAt *time.Time // delivered or failed, the phone's time (corrected for its clock)
	Position   *LatLng    // where the courier was when finishing
	Recipient  string
	// AmountDue is what the customer owed at the door: the order's cash or
	// card amount less the price of the goods they refused (0 when prepaid).
	AmountDue   int64
	Collected   int64         // what the courier reports collected, minor units
	CollectedBy PaymentMethod // cash or card; empty when nothing was due
	PaymentRef  string        // the card terminal's slip number
	Refused     []RefusedItem // goods the customer did not take (a partial delivery)
	ProofIDs    []string
	FailReason  string
	FailComment string
	WishedDate  string // YYYY-MM-DD, with FailReschedule
}

// Short returns what was due but not collected at the door (0 when none).
func (r *StopReport) Short() int64 {
	if r == nil || r.FinishedAt == nil || r.FailReason != "" {
		return 0
	}
	return max(r.AmountDue-r.Collected, 0)
}

// RefusedItem is a number of pieces of one order line the customer refused.
type RefusedItem struct {
	Item int // index into Order.Items
	Qty  int
}

// RefusedPieces returns how many pieces r lists.
func RefusedPieces(r *StopReport) int64 {
	if r == nil {
		return 0
	}
	var n int64
	for _, it := range r.Refused {
		n += int64(it.Qty)
	}
	return n
}

// AddressDetails help the courier find the door.
type AddressDetails struct {
	Entrance  string
	Floor     string
	Apartment string
	Intercom  string
	Comment   string
}

// IsZero reports whether no detail is set.
func (a AddressDetails) IsZero() bool { return a == AddressDetails{} }

// CourierShift is a courier's working day: started and ended from the phone.
type CourierShift struct {
	ID        int64
	CourierID int64
	Date      string // YYYY-MM-DD in the company time zone, of the start
	StartedAt time.Time
	StartPos  *LatLng
	EndedAt   *time.Time
	EndPos    *LatLng
	Version   int64
	CreatedAt time.Time
	UpdatedAt time.Time
}

// Open reports whether the shift has not ended.
func (s *CourierShift) Open() bool { return s != nil && s.EndedAt == nil }

// CourierEvent is one report of a courier, kept with its outcome so that a
// phone that sends it again (a retry, a replayed offline batch) gets the
// first answer and nothing is applied twice.
type CourierEvent struct {
	ID            int64
	CourierID     int64
	ClientEventID string // made on the phone (a UUID); unique per courier
	Action        CourierAction
	OrderID       int64 // stop actions
	SheetID       int64 // the sheet the stop was on, when known
	At            time.Time
	Position      *LatLng
	RequestHash   string // digest of the event as sent, to tell a retry from another event with the same id
	Payload       []byte // the event as sent (JSON)
	Outcome       string // OutcomeApplied, OutcomeConflict or OutcomeInvalid
	Result        []byte // the answer given (JSON), repeated for duplicates
	ReceivedAt    time.Time
}

// Proof kinds.
const (
	ProofSignature = "signature"
	ProofPhoto     = "photo"
)

// Proof is a signature or a photo taken at a stop. ID is made on the phone
// (a UUID) so that an offline event can name the proof before it is uploaded.
type Proof struct {
	ID          string
	OrderID     int64
	CourierID   int64
	Kind        string // ProofSignature, ProofPhoto
	ContentType string // image/png, image/svg+xml, image/jpeg
	Size        int64
	SHA256      string // hex
	Data        []byte // empty in lists
	UploadedBy  int64
	CreatedAt   time.Time
}

// StopCount is how many orders of a sheet are in each status.
type StopCount struct {
	SheetID int64
	Status  OrderStatus
	N       int
}

// CourierDayStore keeps what couriers report from the road.
type CourierDayStore interface {
	// CourierDay runs fn in one write transaction, committed when fn returns
	// nil. fn must not call other methods of the store.
	CourierDay(ctx context.Context, fn func(tx CourierTx) error) error
	// CourierShifts returns the courier's shifts started on date, by id.
	CourierShifts(ctx context.Context, courierID int64, date string) ([]*CourierShift, error)
	// OpenCourierShift returns the courier's open shift. Returns ENOTFOUND.
	OpenCourierShift(ctx context.Context, courierID int64) (*CourierShift, error)
	// CourierEventsOf returns events matching f, by id.
	CourierEventsOf(ctx context.Context, f CourierEventFilter) ([]*CourierEvent, error)
	// AddProof stores a proof. Returns the stored one when a proof with that
	// ID exists already with the same digest, and ECONFLICT when it differs.
	AddProof(ctx context.Context, p *Proof) (*Proof, error)
	// Proof returns a proof with its data. Returns ENOTFOUND.
	Proof(ctx context.Context, id string) (*Proof, error)
	// Proofs returns an order's proofs without their data, by creation.
	Proofs(ctx context.Context, orderID int64) ([]*Proof, error)
	// StopCounts counts the orders on each of the sheets by status.
	StopCounts(ctx context.Context, sheetIDs []int64) ([]StopCount, error)
}

// CourierEventFilter selects courier events; zero fields do not filter.
type CourierEventFilter struct {
	CourierID int64
	OrderID   int64
	Outcome   string
	From, To  time.Time // From <= At < To
}

// CourierTx is one transaction over couriers' days. Reads of sheets, orders
// and shifts lock the rows until the end of the transaction (sheets before
// their orders, as every other writer does).
type CourierTx interface {
	// Step runs fn, which checks first and writes after: an error before
	// any write is fn's error and the transaction goes on; an error after a
	// write aborts the whole transaction (an internal error). No savepoints:
	// a batch of hundreds of events must not open hundreds of PostgreSQL
	// subtransactions.
	Step(fn func() error) error
	// Events returns the courier's recorded events with these client ids.
	Events(courierID int64, clientIDs []string) (map[string]*CourierEvent, error)
	// RecordEvents inserts the events, setting ID and ReceivedAt, and
	// returns the client ids that were recorded already (by a concurrent
	// request: the caller must roll back and start again).
	RecordEvents(evs []*CourierEvent) ([]string, error)
	// Prefetch locks the sheets these orders are on, then the orders (sheets
	// first, each in id order), so that the events of a batch find them
	// without a query each. When the orders are a good part of their sheets'
	// stops it locks every order of those sheets, so that whether a sheet is
	// done is known without a query; a request about a stop or two locks
	// only those.
	Prefetch(orderIDs []int64) error
	// Stop locks the order and the sheet it is on (nil when none), sheet first.
	// Returns ENOTFOUND.
	Stop(orderID int64) (*RouteSheet, *Order, error)
	// Sheets locks and returns the courier's sheets of date (any date when
	// empty) in these statuses (any when none), by id.
	Sheets(courierID int64, date string, statuses ...SheetStatus) ([]*RouteSheet, error)
	// Orders locks and returns orders by id (call it after locking their sheets).
	Orders(ids []int64) (map[int64]*Order, error)
	// OpenStops counts the orders on the sheet that are not finished.
	OpenStops(sheetID int64) (int, error)
	// WriteSheet writes a locked sheet (Version+1).
	WriteSheet(sh *RouteSheet) error
	// WriteOrder writes a locked order (Version+1) and appends events with
	// their postings and outbox messages (inserted together before the
	// commit; their IDs are not set).
	WriteOrder(o *Order, events []OrderEvent) error
	// OpenShift locks and returns the courier's open shift, nil when none.
	OpenShift(courierID int64) (*CourierShift, error)
	// SaveShift inserts a shift (ID 0) or writes a locked one (Version+1).
	// Returns ECONFLICT, before writing, when inserting a second open shift.
	SaveShift(sh *CourierShift) error
	// Proofs returns an order's proofs without their data.
	Proofs(orderID int64) ([]*Proof, error)
}
