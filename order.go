package courier

import (
	"context"
	"slices"
	"time"
)

// OrderStatus is where an order is in its life. The transitions are in one
// table, orderTransitions, and nowhere else.
type OrderStatus string

// The order statuses.
const (
	StatusNew             OrderStatus = "new"
	StatusConfirmed       OrderStatus = "confirmed"
	StatusAwaitingStock   OrderStatus = "awaiting_stock"
	StatusReady           OrderStatus = "ready"
	StatusPlanned         OrderStatus = "planned"
	StatusOutForDelivery  OrderStatus = "out_for_delivery"
	StatusDelivered       OrderStatus = "delivered"
	StatusFailedAttempt   OrderStatus = "failed_attempt"
	StatusRefused         OrderStatus = "refused"
	StatusReturnedToDepot OrderStatus = "returned_to_depot"
	StatusCancelled       OrderStatus = "cancelled"
)

// orderTransitions is the order state machine: from -> allowed targets.
var orderTransitions = map[OrderStatus][]OrderStatus{
	StatusNew:             {StatusConfirmed, StatusCancelled},
	StatusConfirmed:       {StatusAwaitingStock, StatusReady, StatusCancelled},
	StatusAwaitingStock:   {StatusReady, StatusCancelled},
	StatusReady:           {StatusPlanned, StatusCancelled},
	StatusPlanned:         {StatusOutForDelivery, StatusReady, StatusCancelled},
	StatusOutForDelivery:  {StatusDelivered, StatusFailedAttempt, StatusRefused},
	StatusDelivered:       {},
	StatusFailedAttempt:   {StatusReady, StatusReturnedToDepot},
	StatusRefused:         {StatusReturnedToDepot},
	StatusReturnedToDepot: {},
	StatusCancelled:       {},
}

// Valid reports whether s is a known status.
func (s OrderStatus) Valid() bool {
	_, ok := orderTransitions[s]
	return ok
}

// Next returns the statuses an order in s may move to.
func (s OrderStatus) Next() []OrderStatus {
	return slices.Clone(orderTransitions[s])
}

// CanMoveTo reports whether the state machine allows s -> to.
func (s OrderStatus) CanMoveTo(to OrderStatus) bool {
	return slices.Contains(orderTransitions[s], to)
}

// Final reports whether no transition leaves s.
func (s OrderStatus) Final() bool {
	return s.Valid() && len(orderTransitions[s]) == 0
}

// Editable reports whether an order's delivery details may still change in s
// (before it leaves with a courier).
func (s OrderStatus) Editable() bool {
	switch s {
	case StatusNew, StatusConfirmed, StatusAwaitingStock, StatusReady, StatusPlanned:
		return true
	}
	return false
}

// OrderStatuses lists every status in lifecycle order.
func OrderStatuses() []OrderStatus {
	return []OrderStatus{StatusNew, StatusConfirmed, StatusAwaitingStock, StatusReady, StatusPlanned,
		StatusOutForDelivery, StatusDelivered, StatusFailedAttempt, StatusRefused, StatusReturnedToDepot, StatusCancelled}
}

// PaymentMethod is how the customer pays at the door.
type PaymentMethod string

// The payment methods.
const (
	PayCash    PaymentMethod = "cash"
	PayCard    PaymentMethod = "card"
	PayPrepaid PaymentMethod = "prepaid"
)

// PaymentStatus is separate from the order status: cod_pending -> collected -> deposited.
// Prepaid orders are "prepaid" throughout. Only the cash desk sets deposited.
type PaymentStatus string

// The payment statuses.
const (
	PaymentPrepaid    PaymentStatus = "prepaid"
	PaymentCODPending PaymentStatus = "cod_pending"
	PaymentCollected  PaymentStatus = "collected"
	PaymentDeposited  PaymentStatus = "deposited"
)

// Customer is who receives the order.
type Customer struct {
	Name  string
	Phone string
	Email string
}

// TimeWindow is when the customer accepts delivery, From < To.
type TimeWindow struct {
	From time.Time
	To   time.Time
}

// Item is one line of goods in an order; Barcode is scanned at the depot and
// at the door. Price is of one piece, in minor units of the order's currency
// (0 when unknown): goods the customer refuses lower the amount due by it.
type Item struct {
	SKU     string
	Name    string
	Qty     int
	Barcode string
	Price   int64
}

// COD is cash (or card) on delivery: the amount the courier collects, in minor units.
type COD struct {
	Amount   int64
	Currency string
	Method   PaymentMethod
}

// Order is one delivery to one customer.
type Order struct {
	ID             int64
	ExternalID     string
	Customer       Customer
	Address        string
	AddressDetails AddressDetails // entrance, floor, apartment, intercom, a comment for the courier
	Location       LatLng
	DeliveryDate   string // YYYY-MM-DD in the company time zone
	TimeWindow     *TimeWindow
	ServiceMinutes int
	WeightKg       float64
	VolumeL        float64
	Items          []Item
	COD            COD
	DeliveryFee    int64 // minor units of COD.Currency
	FeeOverridden  bool
	Notes          string
	Status         OrderStatus
	PaymentStatus  PaymentStatus
	DepotID        int64
	ZoneID         int64
	CourierID      int64
	RouteSheetID   int64
	// FeeQuote is how the tariff priced DeliveryFee (its version and parts);
	// nil for an overridden fee and for orders priced before tariff versions.
	FeeQuote *FeeQuote
	// Report is what the courier reported at the door on the current
	// attempt; nil before the courier arrives.
	Report    *StopReport
	Version   int64
	CreatedAt time.Time
	UpdatedAt time.Time
}

// Due returns what the customer pays at the door: the amount due the courier
// reported (the order's amount less refused goods) once delivered, else the
// order's cash or card amount; 0 for prepaid orders.
func (o *Order) Due() int64 {
	if o.COD.Method == PayPrepaid {
		return 0
	}
	if o.Report != nil && o.Report.FinishedAt != nil && o.Report.FailReason == "" {
		return o.Report.AmountDue
	}
	return o.COD.Amount
}

// OrderEvent is one line of an order's history: a creation, an edit, a
// status or a payment change, with who did it, when, why.
type OrderEvent struct {
	ID         int64
	OrderID    int64
	Kind       string // created, updated, status, payment
	FromStatus OrderStatus
	ToStatus   OrderStatus
	ActorID    int64
	ActorRole  Role
	At         time.Time
	Reason     string
	Comment    string
	// Postings is the ledger transaction this change causes (cash a
	// courier now owes, goods to bring back); the store books it in the
	// same transaction as the change.
	Postings []Posting
	// Outbox holds notifications caused by this change; the store queues
	// them in the same transaction.
	Outbox []OutboxMessage
	// Attempt is the stop attempt this change finishes (delivered, failed,
	// refused); the store records it in the same transaction.
	Attempt *StopAttempt
}

// Order event kinds.
const (
	EventCreated = "created"
	EventUpdated = "updated"
	EventStatus  = "status"
	EventPayment = "payment"
)

// OrderFilter selects orders in ListOrders. Zero fields do not filter. After is
// the id cursor: only orders with a greater id are returned.
type OrderFilter struct {
	Status    OrderStatus
	Date      string
	ZoneID    int64
	CourierID int64
	DepotID   int64
	Search    string  // external id, customer phone or name contains
	IDs       []int64 // only these orders (at most MaxLimit of the store)
	After     int64
	Limit     int
}

// OrderStore persists orders and their history.
type OrderStore interface {
	// CreateOrder inserts o and its first history event in one transaction and
	// sets o.ID, ev.ID, ev.OrderID, Version=1 and timestamps. Returns ECONFLICT
	// if the external id is taken.
	CreateOrder(ctx context.Context, o *Order, ev *OrderEvent) error
	// Order returns an order by id. Returns ENOTFOUND.
	Order(ctx context.Context, id int64) (*Order, error)
	// OrderByExternalID returns an order by the shop's id. Returns ENOTFOUND.
	OrderByExternalID(ctx context.Context, externalID string) (*Order, error)
	// ListOrders returns up to f.Limit orders with id > f.After matching f, ordered by id.
	ListOrders(ctx context.Context, f OrderFilter) ([]*Order, error)
	// UpdateOrder locks the order, calls fn, and when fn succeeds writes the
	// order (Version+1) and appends the events fn returns, all in one
	// transaction: concurrent updates of one order are serialised.
	// Returns ENOTFOUND, ECONFLICT on a taken external id, or fn's error (nothing written).
	UpdateOrder(ctx context.Context, id int64, fn func(*Order) ([]OrderEvent, error)) (*Order, error)
	// OrderHistory returns an order's events in the order they were recorded
	// (At is when each happened, which a phone that was offline may report late). Returns ENOTFOUND.
	OrderHistory(ctx context.Context, id int64) ([]OrderEvent, error)
}
