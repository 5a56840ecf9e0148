package dispatch

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/courierhq/courier"
	"github.com/courierhq/courier/geo"
)

// OrderInput is an order's editable fields as sent by a client. Nil fields are
// absent: on create they take defaults or fail as required, on update they stay.
type OrderInput struct {
	ExternalID      *string
	Customer        *courier.Customer
	Address         *string
	AddressDetails  *courier.AddressDetails
	Location        *courier.LatLng
	DeliveryDate    *string
	TimeWindow      *courier.TimeWindow
	ClearTimeWindow bool // update only: remove the time window
	ServiceMinutes  *int
	WeightKg        *float64
	VolumeL         *float64
	Items           *[]courier.Item
	COD             *courier.COD
	DeliveryFee     *int64 // an override of the tariff; on update, a negative value returns to the tariff
	Notes           *string
	DepotID         *int64
	Version         *int64 // update only: the version the client saw; a mismatch is ECONFLICT
}

// CreateOrder validates and stores a new order in status new. Staff only.
// Returns EFORBIDDEN, EINVALID, ECONFLICT (external id taken).
func (s *Service) CreateOrder(ctx context.Context, actor courier.Actor, in OrderInput) (*courier.Order, error) {
	if err := actor.Require(staff...); err != nil {
		return nil, err
	}
	o, err := s.newOrder(ctx, in)
	if err != nil {
		return nil, err
	}
	ev := &courier.OrderEvent{Kind: courier.EventCreated, ToStatus: o.Status, ActorID: actor.UserID, ActorRole: actor.Role, At: s.clock.Now()}
	if err := s.store.CreateOrder(ctx, o, ev); err != nil {
		return nil, err
	}
	return o, nil
}

func (s *Service) newOrder(ctx context.Context, in OrderInput) (*courier.Order, error) {
	for _, req := range []struct {
		missing bool
		field   string
	}{
		{in.Customer == nil, "customer"},
		{in.Address == nil, "address"},
		{in.Location == nil, "location"},
	} {
		if req.missing {
			return nil, courier.FieldError(req.field, "is required")
		}
	}
	if in.ClearTimeWindow || in.Version != nil {
		return nil, courier.FieldError("version", "is only for updates")
	}
	o := &courier.Order{
		Status:         courier.StatusNew,
		ServiceMinutes: s.cfg.DefaultServiceMinutes,
		COD:            courier.COD{Currency: s.cfg.Currency, Method: courier.PayPrepaid},
		Items:          []courier.Item{},
	}
	oc, err := s.orderContext(ctx)
	if err != nil {
		return nil, err
	}
	if in.DepotID == nil {
		if len(oc.depots) != 1 {
			return nil, courier.FieldError("depot_id", "is required when there is not exactly one depot")
		}
		for id := range oc.depots {
			o.DepotID = id
		}
	}
	if err := s.applyOrder(o, in, oc); err != nil {
		return nil, err
	}
	return o, nil
}

// placing is what placing an order needs from the store, read before any
// transaction (a transaction callback never reads the store: on SQLite it
// holds the one writer, on PostgreSQL a pool connection).
type placing struct {
	zones   *geo.ZoneIndex // nil when zones are not configured
	depots  map[int64]*courier.Depot
	tariffs *tariffs
}

func (s *Service) orderContext(ctx context.Context) (*placing, error) {
	pl := &placing{depots: map[int64]*courier.Depot{}}
	depots, err := s.store.ListDepots(ctx)
	if err != nil {
		return nil, err
	}
	for _, d := range depots {
		pl.depots[d.ID] = d
	}
	if pl.tariffs, err = s.tariffs(ctx); err != nil {
		return nil, err
	}
	if s.zones != nil {
		if pl.zones, err = s.zones.Index(ctx); err != nil {
			return nil, err
		}
	}
	return pl, nil
}

// applyOrder copies the present fields of in onto o, validates the result and
// recomputes what derives from it (delivery date, zone, fee, payment state).
func (s *Service) applyOrder(o *courier.Order, in OrderInput, pl *placing) error {
	if in.ExternalID != nil {
		o.ExternalID = strings.TrimSpace(*in.ExternalID)
	}
	if in.Customer != nil {
		c := *in.Customer
		c.Name, c.Phone, c.Email = strings.TrimSpace(c.Name), strings.TrimSpace(c.Phone), strings.TrimSpace(c.Email)
		o.Customer = c
	}
	if in.Address != nil {
		o.Address = strings.TrimSpace(*in.Address)
	}
	if in.AddressDetails != nil {
		d := *in.AddressDetails
		for _, f := range []*string{&d.Entrance, &d.Floor, &d.Apartment, &d.Intercom, &d.Comment} {
			*f = strings.TrimSpace(*f)
		}
		o.AddressDetails = d
	}
	set(&o.Location, in.Location)
	if in.ClearTimeWindow {
		o.TimeWindow = nil
	}
	if in.TimeWindow != nil {
		tw := courier.TimeWindow{From: in.TimeWindow.From.UTC(), To: in.TimeWindow.To.UTC()}
		o.TimeWindow = &tw
	}
	if in.DeliveryDate != nil {
		o.DeliveryDate = *in.DeliveryDate
	} else if in.TimeWindow != nil {
		o.DeliveryDate = in.TimeWindow.From.In(s.cfg.Location).Format(time.DateOnly)
	}
	set(&o.ServiceMinutes, in.ServiceMinutes)
	set(&o.WeightKg, in.WeightKg)
	set(&o.VolumeL, in.VolumeL)
	if in.Items != nil {
		o.Items = slices.Clone(*in.Items)
	}
	set(&o.COD, in.COD)
	set(&o.Notes, in.Notes)
	set(&o.DepotID, in.DepotID)
	if in.DeliveryFee != nil {
		o.FeeOverridden = *in.DeliveryFee >= 0
		if o.FeeOverridden {
			o.DeliveryFee = *in.DeliveryFee
		}
	}
	if err := s.validateOrder(o); err != nil {
		return err
	}
	var zone *courier.Zone
	if pl.zones != nil {
		var err error
		if zone, err = pl.zones.ZoneAt(o.Location, o.DeliveryDate); err != nil {
			return err
		}
	}
	if err := s.placeOrder(o, zone, pl); err != nil {
		return err
	}
	if o.PaymentStatus == "" || o.PaymentStatus == courier.PaymentPrepaid || o.PaymentStatus == courier.PaymentCODPending {
		o.PaymentStatus = courier.PaymentCODPending
		if o.COD.Method == courier.PayPrepaid {
			o.PaymentStatus = courier.PaymentPrepaid
		}
	}
	return nil
}

// placeOrder puts o in zone (nil: none) and recomputes its tariff fee, by
// the tariff version in force when it was created, unless a dispatcher
// overrode it. Returns EINVALID when the depot does not exist.
func (s *Service) placeOrder(o *courier.Order, zone *courier.Zone, pl *placing) error {
	depot, ok := pl.depots[o.DepotID]
	if !ok {
		return courier.FieldError("depot_id", "depot %d does not exist", o.DepotID)
	}
	o.ZoneID = zoneID(zone)
	if o.FeeOverridden {
		o.FeeQuote = nil
		return nil
	}
	q := Quote(pl.tariffs.forOrder(o), FeeInput{Zone: zone, WeightKg: o.WeightKg, DistM: geo.HaversineM(depot.Location, o.Location),
		Value: orderValue(o), Window: o.TimeWindow})
	o.DeliveryFee, o.FeeQuote = q.Total(), q
	return nil
}

// plausibleDay refuses delivery days before 2000 or more than five years ahead
// (a typo such as 9999 would otherwise sit in the lists forever).
func (s *Service) plausibleDay(field string, t time.Time) error {
	if t.Year() < 2000 || t.After(s.clock.Now().AddDate(5, 0, 0)) {
		return courier.FieldError(field, "must be a day from 2000 to five years from now")
	}
	return nil
}

// validateOrder checks every field of o; the error names the first bad field.
func (s *Service) validateOrder(o *courier.Order) error {
	if len(o.ExternalID) > 100 {
		return courier.FieldError("external_id", "must be at most 100 characters")
	}
	if o.Customer.Name == "" {
		return courier.FieldError("customer.name", "is required")
	}
	for _, f := range []struct {
		field, v string
		max      int
	}{{"customer.name", o.Customer.Name, 200}, {"address", o.Address, 500}, {"notes", o.Notes, 2000}} {
		if n := utf8.RuneCountInString(f.v); n > f.max {
			return courier.FieldError(f.field, "must be at most %d characters (got %d)", f.max, n)
		}
	}
	if err := courier.ValidatePhone("customer.phone", o.Customer.Phone); err != nil {
		return err
	}
	if e := o.Customer.Email; e != "" && (!strings.Contains(e, "@") || strings.ContainsAny(e, " \t\n") || len(e) > 254) {
		return courier.FieldError("customer.email", "is not an e-mail address")
	}
	if o.Address == "" {
		return courier.FieldError("address", "is required")
	}
	for _, f := range []struct {
		name  string
		v     string
		limit int
	}{{"entrance", o.AddressDetails.Entrance, 50}, {"floor", o.AddressDetails.Floor, 50}, {"apartment", o.AddressDetails.Apartment, 50},
		{"intercom", o.AddressDetails.Intercom, 100}, {"comment", o.AddressDetails.Comment, 1000}} {
		if len(f.v) > f.limit {
			return courier.FieldError("address_details."+f.name, "must be at most %d bytes", f.limit)
		}
	}
	if err := o.Location.Validate("location"); err != nil {
		return err
	}
	if o.TimeWindow != nil {
		if !o.TimeWindow.From.Before(o.TimeWindow.To) {
			return courier.FieldError("time_window", "from must be before to")
		}
		if o.TimeWindow.To.Sub(o.TimeWindow.From) > 24*time.Hour {
			return courier.FieldError("time_window", "must not be longer than 24 hours")
		}
		if err := s.plausibleDay("time_window", o.TimeWindow.From); err != nil {
			return err
		}
	}
	if o.DeliveryDate == "" {
		return courier.FieldError("delivery_date", "is required when there is no time window")
	}
	day, err := time.ParseInLocation(time.DateOnly, o.DeliveryDate, s.cfg.Location)
	if err != nil {
		return courier.FieldError("delivery_date", "must be a date YYYY-MM-DD")
	}
	if err := s.plausibleDay("delivery_date", day); err != nil {
		return err
	}
	if o.ServiceMinutes < 0 || o.ServiceMinutes > 240 {
		return courier.FieldError("service_minutes", "must be within [0, 240]")
	}
	for _, m := range []struct {
		field string
		v     float64
	}{{"weight_kg", o.WeightKg}, {"volume_l", o.VolumeL}} {
		if math.IsNaN(m.v) || m.v < 0 || m.v > 20000 {
			return courier.FieldError(m.field, "must be within [0, 20000]")
		}
	}
	for i, it := range o.Items {
		field := "items[" + strconv.Itoa(i) + "]"
		if it.Name == "" && it.SKU == "" {
			return courier.FieldError(field+".name", "an item needs a name or an sku")
		}
		if utf8.RuneCountInString(it.Name) > 200 || len(it.SKU) > 100 || len(it.Barcode) > 100 {
			return courier.FieldError(field+".name", "an item's name is at most 200 characters, its sku and barcode at most 100")
		}
		if it.Qty < 1 || it.Qty > 100000 {
			return courier.FieldError(field+".qty", "must be within [1, 100000]")
		}
		if it.Price < 0 || it.Price > courier.MaxAmount {
			return courier.FieldError(field+".price", "must be within [0, %d] (minor units of one piece)", courier.MaxAmount)
		}
	}
	if err := (courier.Money{Amount: o.COD.Amount, Currency: o.COD.Currency}).Validate("cod"); err != nil {
		return err
	}
	if o.COD.Currency != s.cfg.Currency {
		return courier.FieldError("cod.currency", "must be the company currency %s", s.cfg.Currency)
	}
	switch o.COD.Method {
	case courier.PayCash, courier.PayCard:
	case courier.PayPrepaid:
		if o.COD.Amount != 0 {
			return courier.FieldError("cod.amount", "must be 0 for a prepaid order")
		}
	default:
		return courier.FieldError("cod.method", "must be cash, card or prepaid")
	}
	if o.DeliveryFee < 0 || o.DeliveryFee > courier.MaxAmount {
		return courier.FieldError("delivery_fee", "must be within [0, %d] (minor units)", courier.MaxAmount)
	}
	if o.DepotID <= 0 {
		return courier.FieldError("depot_id", "is required")
	}
	return nil
}

// Order returns one order. Couriers see only orders on their own sheets;
// anyone else is told it does not exist. Returns ENOTFOUND.
func (s *Service) Order(ctx context.Context, actor courier.Actor, id int64) (*courier.Order, error) {
	o, err := s.store.Order(ctx, id)
	if err != nil {
		return nil, err
	}
	if !canSeeOrder(actor, o) {
		return nil, courier.Errorf(courier.ENOTFOUND, "order %d not found", id)
	}
	return o, nil
}

func canSeeOrder(actor courier.Actor, o *courier.Order) bool {
	if actor.Role == courier.RoleCourier {
		return actor.CourierID != 0 && o.CourierID == actor.CourierID
	}
	return actor.Role.Valid()
}

// ListOrders lists orders matching f; a courier sees only their own.
func (s *Service) ListOrders(ctx context.Context, actor courier.Actor, f courier.OrderFilter) ([]*courier.Order, error) {
	if actor.Role == courier.RoleCourier {
		if f.CourierID != 0 && f.CourierID != actor.CourierID {
			return nil, courier.Errorf(courier.EFORBIDDEN, "couriers may list only their own orders")
		}
		f.CourierID = actor.CourierID
		if f.CourierID == 0 {
			return []*courier.Order{}, nil
		}
	}
	if f.Status != "" && !f.Status.Valid() {
		return nil, courier.FieldError("status", "unknown status %q", f.Status)
	}
	if f.Date != "" {
		if _, err := time.Parse(time.DateOnly, f.Date); err != nil {
			return nil, courier.FieldError("date", "must be a date YYYY-MM-DD")
		}
	}
	if f.Limit <= 0 {
		f.Limit = 50
	} else if f.Limit > 500 {
		return nil, courier.FieldError("limit", "must be at most 500")
	}
	return s.store.ListOrders(ctx, f)
}

// UpdateOrder changes an order's editable fields while it has not left the
// depot. Staff only. Returns EFORBIDDEN, ENOTFOUND, EINVALID, ECONFLICT
// (the order already left, or it changed since in.Version).
func (s *Service) UpdateOrder(ctx context.Context, actor courier.Actor, id int64, in OrderInput) (*courier.Order, error) {
	if err := actor.Require(staff...); err != nil {
		return nil, err
	}
	pl, err := s.orderContext(ctx)
	if err != nil {
		return nil, err
	}
	return s.store.UpdateOrder(ctx, id, func(o *courier.Order) ([]courier.OrderEvent, error) {
		if in.Version != nil && *in.Version != o.Version {
			return nil, &courier.Error{Code: courier.ECONFLICT, Message: "the order changed since you read it; reload and retry",
				Details: map[string]any{"version": o.Version}}
		}
		if !o.Status.Editable() {
			return nil, courier.Errorf(courier.ECONFLICT, "an order in status %s can no longer be edited", o.Status)
		}
		if err := s.applyOrder(o, in, pl); err != nil {
			return nil, err
		}
		return []courier.OrderEvent{{Kind: courier.EventUpdated, FromStatus: o.Status, ToStatus: o.Status,
			ActorID: actor.UserID, ActorRole: actor.Role, At: s.clock.Now()}}, nil
	})
}

// StatusChange asks to move an order to another status. At is when it really
// happened (a phone that was offline sends the tap time); zero means now.
type StatusChange struct {
	To      courier.OrderStatus
	Reason  string
	Comment string
	At      time.Time
	// PaidBy is how the customer paid at the door when it differs from the
	// order (cash instead of card, or card instead of cash): delivered only.
	PaidBy courier.PaymentMethod
	// PaymentRef is the card terminal's slip or transaction number, required
	// when a cash order is paid by card (the cash desk matches it with the
	// terminal's report instead of expecting the cash).
	PaymentRef string
}

// needsReason are the statuses that must say why.
var needsReason = []courier.OrderStatus{courier.StatusFailedAttempt, courier.StatusRefused, courier.StatusCancelled}

// courierTargets are the statuses a courier may set, on their own orders.
var courierTargets = []courier.OrderStatus{courier.StatusOutForDelivery, courier.StatusDelivered, courier.StatusFailedAttempt, courier.StatusRefused}

// ChangeStatus moves an order through the state machine and records the
// transition with actor, time, reason and comment. Delivering a cash or card
// order marks its payment collected; the ledger transaction of the change
// (courier.StatusPostings) is booked in the same transaction. Returns ENOTFOUND, EFORBIDDEN, EINVALID,
// and ECONFLICT naming the allowed statuses for an illegal transition.
func (s *Service) ChangeStatus(ctx context.Context, actor courier.Actor, id int64, ch StatusChange) (*courier.Order, error) {
	if !ch.To.Valid() {
		return nil, courier.FieldError("status", "unknown status %q", ch.To)
	}
	switch actor.Role {
	case courier.RoleAdmin, courier.RoleDispatcher:
	case courier.RoleCourier:
		if !slices.Contains(courierTargets, ch.To) {
			return nil, courier.Errorf(courier.EFORBIDDEN, "couriers may not set status %s", ch.To)
		}
	case courier.RoleCashier:
		if ch.To != courier.StatusReturnedToDepot {
			return nil, courier.Errorf(courier.EFORBIDDEN, "cashiers may only check returned goods in")
		}
	default:
		return nil, courier.Errorf(courier.EFORBIDDEN, "not allowed")
	}
	ch.Reason, ch.Comment = strings.TrimSpace(ch.Reason), strings.TrimSpace(ch.Comment)
	if ch.Reason == "" && slices.Contains(needsReason, ch.To) {
		return nil, courier.FieldError("reason", "is required for status %s", ch.To)
	}
	if len(ch.Reason) > 500 || len(ch.Comment) > 2000 {
		return nil, courier.FieldError("comment", "is too long")
	}
	if len(ch.PaymentRef) > 100 {
		return nil, courier.FieldError("payment_ref", "must be at most 100 characters")
	}
	if ch.PaidBy != "" && (ch.To != courier.StatusDelivered || (ch.PaidBy != courier.PayCash && ch.PaidBy != courier.PayCard)) {
		return nil, courier.FieldError("paid_by", "is cash or card, and only when delivering")
	}
	now := s.clock.Now()
	at := now
	if !ch.At.IsZero() {
		if ch.At.After(now.Add(s.cfg.MaxClockSkew)) {
			return nil, courier.FieldError("at", "is in the future")
		}
		at = ch.At.UTC()
	}
	fn := func(o *courier.Order) ([]courier.OrderEvent, error) {
		if !canSeeOrder(actor, o) {
			return nil, courier.Errorf(courier.ENOTFOUND, "order %d not found", id)
		}
		from := o.Status
		if !from.CanMoveTo(ch.To) {
			return nil, &courier.Error{
				Code:    courier.ECONFLICT,
				Message: "cannot move an order from " + string(from) + " to " + string(ch.To),
				Details: map[string]any{"from": from, "to": ch.To, "allowed": from.Next()},
			}
		}
		if ch.PaidBy != "" && ch.PaidBy != o.COD.Method {
			if o.COD.Method == courier.PayPrepaid {
				return nil, courier.FieldError("paid_by", "order %d is prepaid: there is nothing to pay at the door", id)
			}
			if ch.PaidBy == courier.PayCard && strings.TrimSpace(ch.PaymentRef) == "" {
				return nil, courier.FieldError("payment_ref", "the card terminal's slip number is required when a cash order is paid by card")
			}
			if ch.Comment != "" {
				ch.Comment += "; "
			}
			ch.Comment += "paid by " + string(ch.PaidBy) + " instead of " + string(o.COD.Method)
			if ref := strings.TrimSpace(ch.PaymentRef); ref != "" {
				ch.Comment += " (terminal slip " + ref + ")"
			}
			o.COD.Method = ch.PaidBy
		}
		o.Status = ch.To
		events := []courier.OrderEvent{{Kind: courier.EventStatus, FromStatus: from, ToStatus: ch.To,
			ActorID: actor.UserID, ActorRole: actor.Role, At: at, Reason: ch.Reason, Comment: ch.Comment}}
		// What the courier now owes (cash, goods) is booked with the change.
		events[0].Postings = courier.StatusPostings(o, from, ch.To, actor, now)
		// Customers (out for delivery, delivered, a failed attempt) and the
		// shop's webhooks hear of the change through the outbox.
		events[0].Outbox = []courier.OutboxMessage{statusMessage(o, from, ch, at)}
		if from == courier.StatusPlanned && o.RouteSheetID != 0 && o.CourierID != 0 {
			// Pulled back or cancelled: the stop leaves the courier's published sheet.
			b, _ := json.Marshal(map[string]any{"type": "stop_removed", "sheet_id": o.RouteSheetID, "sheet_number": courier.SheetNumber(o.RouteSheetID),
				"courier_id": o.CourierID, "order_id": o.ID})
			events[0].Outbox = append(events[0].Outbox, courier.OutboxMessage{Topic: courier.TopicSheetChanged,
				Key: fmt.Sprintf("sheet_changed:stop_removed:%d:%d", o.ID, o.Version+1), Payload: b})
		}
		if ch.To == courier.StatusReady {
			o.CourierID, o.RouteSheetID = 0, 0
		}
		if ch.To == courier.StatusDelivered && o.PaymentStatus == courier.PaymentCODPending {
			o.PaymentStatus = courier.PaymentCollected
			events = append(events, courier.OrderEvent{Kind: courier.EventPayment, FromStatus: ch.To, ToStatus: ch.To,
				ActorID: actor.UserID, ActorRole: actor.Role, At: at, Reason: string(courier.PaymentCollected)})
		}
		return events, nil
	}
	// The order and its sheet change together: a sheet whose last stop is
	// finished completes in the same transaction.
	var out *courier.Order
	err := s.store.CourierDay(ctx, func(tx courier.CourierTx) error {
		sh, o, err := tx.Stop(id)
		if err != nil {
			return err
		}
		before := *o
		events, err := fn(o)
		if err != nil {
			return err
		}
		if before.Status == courier.StatusOutForDelivery && o.Status != courier.StatusOutForDelivery {
			// Delivered, failed or refused: the attempt at the stop ends.
			events[0].Attempt = s.attemptOf(&before, o, sh, at, ch.Reason)
		}
		if err := tx.WriteOrder(o, events); err != nil {
			return err
		}
		if sh != nil {
			if _, err := s.completeIfDone(tx, sh, at); err != nil {
				return err
			}
		}
		out = o
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// statusMessage is the order_status outbox message of a change of o (read
// at its version before the change) from from to ch.To.
func statusMessage(o *courier.Order, from courier.OrderStatus, ch StatusChange, at time.Time) courier.OutboxMessage {
	b, _ := json.Marshal(map[string]any{"order_id": o.ID, "external_id": o.ExternalID, "from": from, "to": ch.To,
		"reason": ch.Reason, "comment": ch.Comment, "at": at.UTC(), "courier_id": o.CourierID, "sheet_id": o.RouteSheetID})
	return courier.OutboxMessage{Topic: courier.TopicOrderStatus, Key: fmt.Sprintf("order_status:%d:%d", o.ID, o.Version+1), Payload: b}
}

// OrderHistory returns an order's timeline to whoever may see the order. Returns ENOTFOUND.
func (s *Service) OrderHistory(ctx context.Context, actor courier.Actor, id int64) ([]courier.OrderEvent, error) {
	if _, err := s.Order(ctx, actor, id); err != nil {
		return nil, err
	}
	return s.store.OrderHistory(ctx, id)
}
