package courier

import (
	"context"
	"encoding/json"
	"time"
)

// Outbox topics: what kind of notification an OutboxMessage is. The payload
// of each is a JSON object; the fields listed are the ones the notify worker
// reads (more may be present).
const (
	// TopicSheetPublished: a route sheet was published to its courier.
	// Payload: sheet_id, sheet_number, courier_id, date, stops.
	TopicSheetPublished = "sheet_published"
	// TopicSheetChanged: a published or active sheet changed. Payload: type
	// (stop_added, stop_removed, or another word for a general change),
	// sheet_id, sheet_number, courier_id, order_id.
	TopicSheetChanged = "sheet_changed"
	// TopicOrderOutForDelivery: the courier left with the order (sheet
	// started). Payload: order_id, sheet_id, eta_from, eta_to.
	TopicOrderOutForDelivery = "order_out_for_delivery"
	// TopicOrderStatus: any order status change made through
	// dispatch.ChangeStatus. Payload: order_id, external_id, from, to, reason,
	// comment, at, courier_id, sheet_id.
	TopicOrderStatus = "order_status"
	// TopicCourierMessage: a dispatcher wrote to a courier. Payload:
	// courier_id, text, from_user_id.
	TopicCourierMessage = "courier_message"
	// TopicCustomerArriving: the courier is estimated to reach the customer
	// within the configured minutes. Payload: order_id, sheet_id, eta, minutes.
	TopicCustomerArriving = "customer_arriving"
	// TopicCashSettled: the cash desk settled a route sheet. The settlement
	// transaction should queue it (dedup key "cash_settled:<tx_id>").
	// Payload: tx_id, sheet_id, sheet_number, courier_id, depot_id,
	// currency, expected, counted, orders [{order_id, amount}].
	TopicCashSettled = "cash_settled"
)

// Apps a device token belongs to.
const (
	AppCourier  = "courier"
	AppCustomer = "customer"
)

// Device platforms.
const (
	PlatformAndroid = "android"
	PlatformIOS     = "ios"
	PlatformWeb     = "web"
)

// Device is a push registration token of one app install. A courier's
// device belongs to their user (UserID); a customer's to an order (OrderID),
// registered through the order's tracking token. A token is kept once per
// owner.
type Device struct {
	ID        int64
	App       string // AppCourier or AppCustomer
	Platform  string // PlatformAndroid, PlatformIOS, PlatformWeb
	Token     string
	UserID    int64 // courier app
	OrderID   int64 // customer app
	CreatedAt time.Time
	UpdatedAt time.Time
}

// Delivery channels.
const (
	ChannelPush    = "push"
	ChannelWebhook = "webhook"
)

// Delivery statuses: pending -> sent | failed (gave up after the last
// attempt, kept as a dead letter) | dropped (the device token is gone).
// A failed webhook delivery may be replayed: pending again.
const (
	DeliveryPending = "pending"
	DeliverySent    = "sent"
	DeliveryFailed  = "failed"
	DeliveryDropped = "dropped"
)

// Delivery is one send of one outbox message to one target: a device token
// (push) or a webhook endpoint. The notify worker turns each outbox message
// into its deliveries once (unique per message and target), then sends
// each and retries it on its own.
type Delivery struct {
	ID            int64
	OutboxID      int64
	Channel       string // ChannelPush or ChannelWebhook
	DeviceID      int64  // push
	EndpointID    int64  // webhook
	Event         string // the outbox topic, or the webhook event type
	Payload       []byte // push: the rendered message (JSON); webhook: the body
	Status        string // Delivery...
	Attempts      int
	NextAttemptAt time.Time
	LastStatus    int // the last HTTP status code, 0 when none
	LastError     string
	LastDuration  time.Duration
	ProviderID    string // FCM message name
	SentAt        time.Time
	CreatedAt     time.Time
	UpdatedAt     time.Time
}

// DeliveryAttempt is one try of a delivery, for the delivery log.
type DeliveryAttempt struct {
	ID         int64
	DeliveryID int64
	Attempt    int
	Status     int // HTTP status, 0 for a network error
	Duration   time.Duration
	Error      string
	At         time.Time
}

// QueuedMessage is an outbox message with its sending state.
type QueuedMessage struct {
	OutboxMessage
	Attempts      int
	NextAttemptAt time.Time
	SentAt        time.Time
	FailedAt      time.Time
	LastError     string
}

// DeliveryResult is what one try of a delivery came to.
type DeliveryResult struct {
	Status     string        // DeliverySent, DeliveryPending (retry at RetryAt), DeliveryFailed, DeliveryDropped
	RetryAt    time.Time     // when Status is pending
	HTTPStatus int           // 0 when none
	Error      string        // empty on success
	Duration   time.Duration // of the try
	ProviderID string        // FCM message name on success
	At         time.Time     // when the try ended
}

// DeliveryFilter selects deliveries; zero fields do not filter. After is the id cursor.
type DeliveryFilter struct {
	Channel    string
	EndpointID int64
	DeviceID   int64
	OutboxID   int64
	Status     string
	After      int64
	Limit      int
}

// WebhookEndpoint is a URL of the shop or the accounting system that
// receives events (outbox topics) as signed JSON.
type WebhookEndpoint struct {
	ID          int64
	URL         string
	Secret      string // HMAC-SHA256 key of the signature header
	Events      []string
	Description string
	Active      bool
	Version     int64
	CreatedAt   time.Time
	UpdatedAt   time.Time
}

// NotifyStore keeps devices, tracking tokens, the outbox's sending state
// and deliveries. The outbox messages themselves are queued by the store
// in the transaction of the change that causes them (OrderEvent.Outbox).
type NotifyStore interface {
	// SaveDevice inserts d, or updates the platform of the same owner's
	// token, and sets ID and timestamps. A courier-app token registered by
	// another user moves to d.UserID (one install, one login).
	SaveDevice(ctx context.Context, d *Device) error
	// DeleteDevice deletes the owner's token. Returns ENOTFOUND.
	DeleteDevice(ctx context.Context, app string, userID, orderID int64, token string) error
	// DropDevice deletes a device by id (FCM said the token is gone); a
	// missing device is not an error.
	DropDevice(ctx context.Context, id int64) error
	// Devices returns the devices of an app owned by userID (courier) or orderID (customer), by id.
	Devices(ctx context.Context, app string, userID, orderID int64) ([]*Device, error)

	// TrackingToken returns the order's tracking token, creating it (from
	// newToken) when the order has none. Returns ENOTFOUND for an unknown order.
	TrackingToken(ctx context.Context, orderID int64, newToken func() string) (string, error)
	// OrderIDByTrackingToken returns the order of a tracking token. Returns ENOTFOUND.
	OrderIDByTrackingToken(ctx context.Context, token string) (int64, error)

	// QueueOutbox queues messages outside any other change (ON CONFLICT of
	// the key: nothing). It returns how many were new.
	QueueOutbox(ctx context.Context, msgs ...OutboxMessage) (int, error)
	// ClaimOutbox leases up to limit due messages (not sent, not failed,
	// next attempt due, no live lease) to worker until now+lease and
	// returns them by id. Concurrent callers never get the same message
	// while its lease lasts (PostgreSQL: FOR UPDATE SKIP LOCKED).
	ClaimOutbox(ctx context.Context, worker string, now time.Time, lease time.Duration, limit int) ([]*QueuedMessage, error)
	// ExpandOutbox inserts the message's deliveries (a delivery whose
	// message and target exist already is skipped) and marks the message
	// sent, in one transaction, if worker still holds its lease. Returns
	// ECONFLICT when the lease was lost.
	ExpandOutbox(ctx context.Context, id int64, worker string, deliveries []*Delivery, now time.Time) error
	// RetryOutbox records a failed expansion: attempts+1, last error, the
	// next attempt at next, or failed_at=now when giveUp. Returns ECONFLICT when the lease was lost.
	RetryOutbox(ctx context.Context, id int64, worker string, errText string, next time.Time, giveUp bool, now time.Time) error
	// OutboxMessages returns queued messages of a topic (all topics when
	// empty) with id > after, by id, at most limit.
	OutboxMessages(ctx context.Context, topic string, after int64, limit int) ([]*QueuedMessage, error)

	// ClaimDeliveries leases up to limit due pending deliveries of channel
	// (every channel when empty) to worker until now+lease, counting the
	// attempt, and returns them by id. Concurrent callers never get the same
	// delivery while its lease lasts.
	ClaimDeliveries(ctx context.Context, worker, channel string, now time.Time, lease time.Duration, limit int) ([]*Delivery, error)
	// FinishDelivery records a try's result and its log line if worker
	// still holds the lease. Returns ECONFLICT when the lease was lost.
	FinishDelivery(ctx context.Context, id int64, worker string, r DeliveryResult) error
	// Delivery returns a delivery by id. Returns ENOTFOUND.
	Delivery(ctx context.Context, id int64) (*Delivery, error)
	// Deliveries lists deliveries matching f, by id.
	Deliveries(ctx context.Context, f DeliveryFilter) ([]*Delivery, error)
	// DeliveryAttempts returns a delivery's log, oldest first.
	DeliveryAttempts(ctx context.Context, deliveryID int64) ([]DeliveryAttempt, error)
	// PurgeNotifications deletes deliveries that are no longer pending and
	// were last touched before before (with their logs), then sent or failed
	// outbox messages older than before that have no deliveries left. It
	// returns how many deliveries and messages it deleted.
	PurgeNotifications(ctx context.Context, before time.Time) (deliveries, messages int64, err error)
	// ReplayDelivery makes a failed or sent delivery pending again, due at
	// now, with its attempts reset. Returns ENOTFOUND, ECONFLICT while it is pending.
	ReplayDelivery(ctx context.Context, id int64, now time.Time) (*Delivery, error)

	// CreateWebhook inserts e and sets ID, Version 1 and timestamps.
	CreateWebhook(ctx context.Context, e *WebhookEndpoint) error
	// Webhook returns an endpoint by id. Returns ENOTFOUND.
	Webhook(ctx context.Context, id int64) (*WebhookEndpoint, error)
	// ListWebhooks returns every endpoint by id.
	ListWebhooks(ctx context.Context) ([]*WebhookEndpoint, error)
	// UpdateWebhook reads the endpoint, calls fn and writes it (Version+1) in
	// one transaction. Returns ENOTFOUND or fn's error.
	UpdateWebhook(ctx context.Context, id int64, fn func(*WebhookEndpoint) error) (*WebhookEndpoint, error)
	// DeleteWebhook deletes an endpoint; its delivery log goes with it. Returns ENOTFOUND.
	DeleteWebhook(ctx context.Context, id int64) error
}

// CashSettledMessage is the outbox message of a settlement, for the
// accounting system's webhooks; the settlement transaction queues it on one
// of its order events. Keyed by the ledger transaction id (the settlement id
// is not known before the insert).
func CashSettledMessage(st *Settlement, sheetNumber string) OutboxMessage {
	orders := make([]map[string]any, len(st.Orders))
	for i, o := range st.Orders {
		orders[i] = map[string]any{"order_id": o.OrderID, "amount": o.Amount}
	}
	b, _ := json.Marshal(map[string]any{"tx_id": st.TxID, "sheet_id": st.SheetID, "sheet_number": sheetNumber, "courier_id": st.CourierID,
		"depot_id": st.DepotID, "shift_id": st.ShiftID, "currency": st.Currency, "expected": st.Expected, "counted": st.Counted,
		"discrepancy": st.Counted - st.Expected, "orders": orders})
	return OutboxMessage{Topic: TopicCashSettled, Key: "cash_settled:" + st.TxID, Payload: b}
}
