package dispatch

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/courierhq/courier"
)

// The courier's day: what the phone app reports from the road (start and end
// of the shift, arrival, delivery with scanned goods, money and proof, a
// failed attempt), live one event at a time or later as an offline batch.
// Every event carries an id made on the phone and is applied exactly once:
// its outcome is kept with it, and a retry or a replayed batch gets the first
// answer again. One batch is one transaction, each event in a savepoint, so
// a bad event does not block the others and nothing is half-written.

// MaxSyncEvents is the most events one sync batch may carry.
const MaxSyncEvents = 500

// Limits of what a phone sends.
const (
	maxRecipient = 200
	maxComment   = 2000
	maxScanned   = 2000
	maxProofRefs = 20
	// maxBackdate is how long ago an event may have happened: a phone
	// offline for longer has its events refused rather than rewriting an
	// old day.
	maxBackdate = 72 * time.Hour
)

// CourierEventInput is one event as the phone sent it.
type CourierEventInput struct {
	ClientEventID string
	Action        courier.CourierAction
	OrderID       int64 // stop actions
	At            time.Time
	Position      *courier.LatLng
	// deliver
	Collected       *Collection
	ScannedBarcodes []string
	Refused         []courier.RefusedItem
	Recipient       string
	ProofIDs        []string
	// fail
	Reason     string
	Comment    string
	WishedDate string
	// shift_end: open stops the courier brings back unvisited
	HandBack []int64
	// shift_start: the working day whose published sheets go out (YYYY-MM-DD);
	// empty means the day of At in the company time zone. It may be that day
	// or the next: a courier who starts before midnight for an early route.
	Date string
	// Raw is the event's JSON as sent: kept with the outcome, and its digest
	// tells a retry from another event that reuses the id.
	Raw []byte
	// Err is set when the event could not be read (a wrong type in one
	// field): the event is answered invalid with it.
	Err error
}

// Collection is the money taken at the door, in minor units of the company currency.
type Collection struct {
	Amount     int64
	Method     courier.PaymentMethod // cash or card
	PaymentRef string                // the card terminal's slip number
}

// SyncInput is a batch of events in the order they happened on the phone.
// SentAt is the phone's clock when it sent the batch: when given, every
// event's time is moved by the difference to the server's clock, so a phone
// whose clock is off still reports true times.
type SyncInput struct {
	SentAt time.Time
	Events []CourierEventInput
}

// StopState is an order as its courier sees it after an event.
type StopState struct {
	OrderID   int64
	Status    courier.OrderStatus
	SheetID   int64
	Actions   []courier.CourierAction // what the courier may report next
	AmountDue int64
	Collected int64
}

// EventResult is the answer to one event.
type EventResult struct {
	ClientEventID string
	Outcome       string // applied, duplicate, conflict, invalid
	Original      string // for a duplicate: the first outcome
	Err           *courier.Error
	Stop          *StopState
	Shift         *courier.CourierShift
	// Completed lists the sheets the event completed.
	Completed []int64
	At        time.Time // the event's time, corrected for the phone's clock
}

// SyncResult answers a batch, one result per event in order.
type SyncResult struct {
	Results     []EventResult
	ClockOffset time.Duration // server time minus the phone's SentAt (0 without it)
}

// SheetProgress counts a sheet's stops.
type SheetProgress struct {
	SheetID   int64
	CourierID int64
	Total     int
	Delivered int
	Failed    int // failed attempts, refusals and goods back at the depot
	Cancelled int
	Remaining int
	Late      int // remaining stops whose ETA is past the window (filled by callers with live ETAs)
}

// Done returns the finished stops.
func (p SheetProgress) Done() int { return p.Delivered + p.Failed + p.Cancelled }

// errRecorded rolls a batch back when a concurrent request recorded one of its events first.
var errRecorded = errors.New("dispatch: event recorded by a concurrent request")

// notYours is the answer for an order the courier may not touch: the same as
// for an order that does not exist.
func notYours(id int64) *courier.Error {
	return &courier.Error{Code: courier.ENOTFOUND, Message: fmt.Sprintf("order %d is not on your route sheets", id),
		Details: map[string]any{"order_id": id}}
}

// Sync applies a batch of courier events in order, each exactly once by its
// client event id, and answers per event. Only couriers, for themselves.
// Returns EFORBIDDEN, EINVALID (no events, more than MaxSyncEvents), or an
// internal error (then nothing of the batch was applied).
func (s *Service) Sync(ctx context.Context, actor courier.Actor, in SyncInput) (*SyncResult, error) {
	if actor.Role != courier.RoleCourier || actor.CourierID == 0 {
		return nil, courier.Errorf(courier.EFORBIDDEN, "only couriers report from the road")
	}
	if len(in.Events) == 0 {
		return nil, courier.FieldError("events", "is empty: send at least one event")
	}
	if len(in.Events) > MaxSyncEvents {
		return nil, &courier.Error{Code: courier.EINVALID, Message: fmt.Sprintf("events: at most %d events in one batch; send the rest in another", MaxSyncEvents),
			Details: map[string]any{"field": "events", "max": MaxSyncEvents, "got": len(in.Events)}}
	}
	now := s.clock.Now().UTC()
	out := &SyncResult{}
	if !in.SentAt.IsZero() {
		out.ClockOffset = now.Sub(in.SentAt).Truncate(time.Millisecond)
	}
	var ids []string
	var stops []int64
	for _, ev := range in.Events {
		if validEventID(ev.ClientEventID) {
			ids = append(ids, ev.ClientEventID)
		}
		if ev.Action.AtStop() && ev.OrderID > 0 {
			stops = append(stops, ev.OrderID)
		}
	}
	// The events are recorded together at the end; when a concurrent request
	// recorded one of them first (a phone retrying while its first request
	// still runs), the transaction rolls back and runs again, and then finds
	// it: a duplicate.
	for try := 0; ; try++ {
		err := s.store.CourierDay(ctx, func(tx courier.CourierTx) error {
			out.Results = out.Results[:0]
			seen, err := tx.Events(actor.CourierID, ids)
			if err != nil {
				return err
			}
			if err := tx.Prefetch(stops); err != nil {
				return err
			}
			var record []*courier.CourierEvent
			for i := range in.Events {
				r, ev, err := s.applyEvent(tx, actor, &in.Events[i], out.ClockOffset, now, seen)
				if err != nil {
					return err
				}
				if ev != nil {
					record = append(record, ev)
				}
				out.Results = append(out.Results, r)
			}
			taken, err := tx.RecordEvents(record)
			if err != nil {
				return err
			}
			if len(taken) > 0 {
				return errRecorded
			}
			return nil
		})
		if errors.Is(err, errRecorded) && try < 3 {
			continue
		}
		if err != nil {
			return nil, err
		}
		return out, nil
	}
}

// validEventID accepts a UUID in its canonical text form.
func validEventID(id string) bool {
	if len(id) != 36 {
		return false
	}
	for i, c := range id {
		switch i {
		case 8, 13, 18, 23:
			if c != '-' {
				return false
			}
		default:
			if !strings.ContainsRune("0123456789abcdefABCDEF", c) {
				return false
			}
		}
	}
	return true
}

func digest(b []byte) string {
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:])
}

// applyEvent applies one event and returns its answer and the event to
// record with its outcome (nil when it is not recorded: a duplicate, or an
// id that is not a UUID). The error is an internal one that aborts the batch.
func (s *Service) applyEvent(tx courier.CourierTx, actor courier.Actor, in *CourierEventInput, offset time.Duration, now time.Time,
	seen map[string]*courier.CourierEvent) (EventResult, *courier.CourierEvent, error) {
	res := EventResult{ClientEventID: in.ClientEventID}
	if !validEventID(in.ClientEventID) {
		res.Outcome, res.Err = courier.OutcomeInvalid, courier.FieldError("client_event_id", "must be a UUID made on the phone (8-4-4-4-12 hex digits)")
		return res, nil, nil
	}
	hash := digest(in.Raw)
	if prev := seen[in.ClientEventID]; prev != nil {
		r, err := duplicateOf(prev, hash)
		return r, nil, err
	}
	ev := &courier.CourierEvent{CourierID: actor.CourierID, ClientEventID: in.ClientEventID, Action: in.Action, OrderID: in.OrderID,
		At: in.At.UTC(), Position: in.Position, RequestHash: hash, Payload: in.Raw}
	if !in.At.IsZero() && offset != 0 {
		ev.At = in.At.Add(offset).UTC()
	}
	if !ev.At.IsZero() {
		ev.At = ev.At.Truncate(time.Microsecond)
	}
	err := tx.Step(func() error {
		r, err := s.apply(tx, actor, in, ev, now)
		if err != nil {
			return err
		}
		r.ClientEventID, r.At, r.Outcome = in.ClientEventID, ev.At, courier.OutcomeApplied
		res = r
		return nil
	})
	var de *courier.Error
	switch {
	case err == nil:
	case errors.As(err, &de):
		res = EventResult{ClientEventID: in.ClientEventID, Outcome: courier.OutcomeConflict, Err: de, At: ev.At}
		if de.Code == courier.EINVALID || de.Code == courier.EBADREQUEST {
			res.Outcome = courier.OutcomeInvalid
		}
		if de.Code == courier.ECONFLICT || de.Code == courier.ENOTFOUND {
			res.Stop = s.stopState(tx, actor, in.OrderID)
		}
	default:
		return res, nil, err
	}
	if ev.At.IsZero() {
		ev.At = now
	}
	ev.Outcome, ev.Result = res.Outcome, encodeResult(res)
	seen[in.ClientEventID] = ev
	return res, ev, nil
}

// duplicateOf repeats the first answer to an event, or refuses another event
// that reuses its id.
func duplicateOf(prev *courier.CourierEvent, hash string) (EventResult, error) {
	if prev.RequestHash != hash {
		return EventResult{ClientEventID: prev.ClientEventID, Outcome: courier.OutcomeInvalid,
			Err: &courier.Error{Code: courier.EINVALID, Message: "client_event_id: was used for another event; make a new id for a new event",
				Details: map[string]any{"field": "client_event_id"}}}, nil
	}
	r, err := decodeResult(prev.Result)
	if err != nil {
		return EventResult{}, fmt.Errorf("dispatch: result of event %s: %w", prev.ClientEventID, err)
	}
	r.ClientEventID, r.Original, r.Outcome = prev.ClientEventID, prev.Outcome, courier.OutcomeDuplicate
	return r, nil
}

// apply checks one event against the locked day and applies it.
func (s *Service) apply(tx courier.CourierTx, actor courier.Actor, in *CourierEventInput, ev *courier.CourierEvent, now time.Time) (EventResult, error) {
	if in.Err != nil {
		return EventResult{}, in.Err
	}
	if !in.Action.Valid() {
		return EventResult{}, courier.FieldError("action", "must be one of shift_start, shift_end, arrive, deliver, fail")
	}
	if in.At.IsZero() {
		return EventResult{}, courier.FieldError("at", "is required: the phone's time of the tap (RFC 3339)")
	}
	if ev.At.After(now.Add(s.cfg.MaxClockSkew)) {
		return EventResult{}, &courier.Error{Code: courier.EINVALID,
			Message: fmt.Sprintf("at: %s is %s ahead of the server's clock (%s): set the phone's clock, or send sent_at with the batch",
				ev.At.Format(time.RFC3339), ev.At.Sub(now).Round(time.Second), now.Format(time.RFC3339)),
			Details: map[string]any{"field": "at", "server_time": now}}
	}
	if ev.At.Before(now.Add(-maxBackdate)) {
		return EventResult{}, courier.FieldError("at", "is more than %d hours ago", int(maxBackdate.Hours()))
	}
	if in.Position != nil {
		if err := in.Position.Validate("position"); err != nil {
			return EventResult{}, err
		}
	}
	if in.Date != "" && in.Action != courier.ActionShiftStart {
		return EventResult{}, courier.FieldError("date", "goes only with shift_start")
	}
	if in.Action.AtStop() {
		if in.OrderID <= 0 {
			return EventResult{}, courier.FieldError("order_id", "is required")
		}
	} else if in.OrderID != 0 {
		return EventResult{}, courier.FieldError("order_id", "goes only with arrive, deliver and fail")
	}
	switch in.Action {
	case courier.ActionShiftStart:
		return s.startShift(tx, actor, in, ev, now)
	case courier.ActionShiftEnd:
		return s.endShift(tx, actor, in, ev)
	}
	sh, o, err := s.ownStop(tx, actor, in.OrderID)
	if err != nil {
		return EventResult{}, err
	}
	ev.SheetID = sh.ID
	if sh.Status == courier.SheetPublished {
		if sh, o, err = s.startLate(tx, actor, sh, o, ev.At); err != nil {
			return EventResult{}, err
		}
	}
	if err := stopReady(sh, o); err != nil {
		return EventResult{}, err
	}
	if err := checkStopTime(ev.At, sh, o); err != nil {
		return EventResult{}, err
	}
	var res EventResult
	switch in.Action {
	case courier.ActionArrive:
		err = s.arrive(tx, actor, in, ev, o)
	case courier.ActionDeliver:
		err = s.deliver(tx, actor, in, ev, sh, o, now)
	case courier.ActionFail:
		err = s.fail(tx, actor, in, ev, sh, o, now)
	}
	if err != nil {
		return EventResult{}, err
	}
	if in.Action != courier.ActionArrive {
		done, err := s.completeIfDone(tx, sh, ev.At)
		if err != nil {
			return EventResult{}, err
		}
		if done {
			res.Completed = []int64{sh.ID}
		}
	}
	res.Stop = stateOf(sh, o, true)
	return res, nil
}

// ownStop locks the courier's stop and its sheet. Another courier's order,
// a draft sheet's or a missing one are all "not on your route sheets".
func (s *Service) ownStop(tx courier.CourierTx, actor courier.Actor, orderID int64) (*courier.RouteSheet, *courier.Order, error) {
	sh, o, err := tx.Stop(orderID)
	if courier.ErrorCode(err) == courier.ENOTFOUND {
		return nil, nil, notYours(orderID)
	} else if err != nil {
		return nil, nil, err
	}
	if sh == nil || o.CourierID != actor.CourierID || !canSeeSheet(actor, sh) {
		return nil, nil, notYours(orderID)
	}
	return sh, o, nil
}

// stopReady refuses a stop event unless the order is out for delivery on an active sheet.
func stopReady(sh *courier.RouteSheet, o *courier.Order) error {
	if sh.Status == courier.SheetPublished {
		return &courier.Error{Code: courier.ECONFLICT, Message: fmt.Sprintf("route sheet %s has not started: start your shift first", sh.Number),
			Details: map[string]any{"order_id": o.ID, "status": o.Status, "sheet_status": sh.Status}}
	}
	if o.Status != courier.StatusOutForDelivery {
		return &courier.Error{Code: courier.ECONFLICT, Message: fmt.Sprintf("order %d is %s: nothing more to report at this stop", o.ID, o.Status),
			Details: map[string]any{"order_id": o.ID, "status": o.Status}}
	}
	return nil
}

// checkStopTime refuses a stop event dated before the sheet started (when
// the order went out for delivery) or before the stop's previous event.
func checkStopTime(at time.Time, sh *courier.RouteSheet, o *courier.Order) error {
	if sh.StartedAt != nil && at.Before(*sh.StartedAt) {
		return &courier.Error{Code: courier.EINVALID,
			Message: fmt.Sprintf("at: %s is before route sheet %s started (%s)", at.Format(time.RFC3339), sh.Number, sh.StartedAt.UTC().Format(time.RFC3339)),
			Details: map[string]any{"field": "at", "not_before": sh.StartedAt.UTC()}}
	}
	if r := o.Report; r != nil && r.ArrivedAt != nil && at.Before(*r.ArrivedAt) {
		return &courier.Error{Code: courier.EINVALID,
			Message: fmt.Sprintf("at: %s is before your arrival at this stop (%s)", at.Format(time.RFC3339), r.ArrivedAt.UTC().Format(time.RFC3339)),
			Details: map[string]any{"field": "at", "not_before": r.ArrivedAt.UTC()}}
	}
	return nil
}

// Order event kinds of the courier's day (beside created, updated, status, payment).
const (
	EventArrived = "arrived"
)

func (s *Service) arrive(tx courier.CourierTx, actor courier.Actor, in *CourierEventInput, ev *courier.CourierEvent, o *courier.Order) error {
	if o.Report != nil && o.Report.ArrivedAt != nil {
		return &courier.Error{Code: courier.ECONFLICT, Message: fmt.Sprintf("you arrived at this stop at %s already", o.Report.ArrivedAt.UTC().Format(time.RFC3339)),
			Details: map[string]any{"order_id": o.ID, "status": o.Status}}
	}
	at := ev.At
	o.Report = &courier.StopReport{ArrivedAt: &at, Position: in.Position}
	return tx.WriteOrder(o, []courier.OrderEvent{{Kind: EventArrived, FromStatus: o.Status, ToStatus: o.Status,
		ActorID: actor.UserID, ActorRole: actor.Role, At: at, Reason: "the courier arrived"}})
}

// deliver checks the scanned goods, the money and the proof, and delivers.
func (s *Service) deliver(tx courier.CourierTx, actor courier.Actor, in *CourierEventInput, ev *courier.CourierEvent, sh *courier.RouteSheet,
	o *courier.Order, now time.Time) error {
	refused, err := checkRefused(o, in.Refused)
	if err != nil {
		return err
	}
	if err := checkScanned(o, refused, in.ScannedBarcodes); err != nil {
		return err
	}
	due := amountDue(o, refused)
	r := reportOf(o)
	at := ev.At
	r.FinishedAt, r.Position, r.AmountDue, r.Refused = &at, in.Position, due, refused
	if r.Recipient = strings.TrimSpace(in.Recipient); len(r.Recipient) > maxRecipient {
		return courier.FieldError("recipient_name", "must be at most %d bytes", maxRecipient)
	}
	if err := s.checkCollected(o, in.Collected, due, r); err != nil {
		return err
	}
	if r.ProofIDs, err = checkProofRefs(tx, o, in.ProofIDs); err != nil {
		return err
	}
	before := *o
	from := o.Status
	var notes []string
	if r.Recipient != "" {
		notes = append(notes, "received by "+r.Recipient)
	}
	if n := courier.RefusedPieces(r); n > 0 {
		notes = append(notes, fmt.Sprintf("%d pieces refused (back to the depot)", n))
	}
	if short := r.Short(); short > 0 {
		notes = append(notes, fmt.Sprintf("short collection: %s of %s collected", courier.Money{Amount: r.Collected, Currency: o.COD.Currency},
			courier.Money{Amount: due, Currency: o.COD.Currency}))
	}
	if r.CollectedBy == courier.PayCard && o.COD.Method == courier.PayCash {
		notes = append(notes, "paid by card instead of cash (terminal slip "+r.PaymentRef+")")
	} else if r.CollectedBy == courier.PayCash && o.COD.Method == courier.PayCard {
		notes = append(notes, "paid in cash instead of by card")
	}
	if r.CollectedBy != "" {
		o.COD.Method = r.CollectedBy
	}
	o.Status, o.Report = courier.StatusDelivered, r
	events := []courier.OrderEvent{{Kind: courier.EventStatus, FromStatus: from, ToStatus: o.Status, ActorID: actor.UserID,
		ActorRole: actor.Role, At: at, Reason: "delivered", Comment: strings.Join(notes, "; "),
		Postings: courier.DeliveryPostings(&before, r, actor, now),
		Outbox:   []courier.OutboxMessage{statusMessage(&before, from, StatusChange{To: o.Status}, at)},
		Attempt:  s.attemptOf(&before, o, sh, at, "")}}
	if r.Collected > 0 && o.PaymentStatus == courier.PaymentCODPending {
		o.PaymentStatus = courier.PaymentCollected
		events = append(events, courier.OrderEvent{Kind: courier.EventPayment, FromStatus: o.Status, ToStatus: o.Status,
			ActorID: actor.UserID, ActorRole: actor.Role, At: at, Reason: string(courier.PaymentCollected),
			Comment: fmt.Sprintf("%s collected by %s", courier.Money{Amount: r.Collected, Currency: o.COD.Currency}, r.CollectedBy)})
	}
	return tx.WriteOrder(o, events)
}

// reportOf returns a copy of the order's report of this attempt (with its
// arrival), or a new one.
func reportOf(o *courier.Order) *courier.StopReport {
	if o.Report == nil || o.Report.FinishedAt != nil {
		return &courier.StopReport{}
	}
	r := *o.Report
	return &r
}

// checkRefused validates the refused goods and merges lines named twice.
func checkRefused(o *courier.Order, in []courier.RefusedItem) ([]courier.RefusedItem, error) {
	if len(in) == 0 {
		return nil, nil
	}
	qty := map[int]int{}
	var order []int
	for i, it := range in {
		field := "refused[" + strconv.Itoa(i) + "]"
		if it.Item < 0 || it.Item >= len(o.Items) {
			return nil, courier.FieldError(field+".item", "order %d has no line %d (lines are numbered from 0)", o.ID, it.Item)
		}
		if it.Qty < 1 {
			return nil, courier.FieldError(field+".qty", "must be at least 1")
		}
		if _, ok := qty[it.Item]; !ok {
			order = append(order, it.Item)
		}
		qty[it.Item] += it.Qty
		if qty[it.Item] > o.Items[it.Item].Qty {
			return nil, courier.FieldError(field+".qty", "line %d has only %d pieces", it.Item, o.Items[it.Item].Qty)
		}
	}
	var out []courier.RefusedItem
	var refused int64
	for _, i := range order {
		out = append(out, courier.RefusedItem{Item: i, Qty: qty[i]})
		refused += int64(qty[i])
	}
	if refused >= courier.GoodsPieces(o) {
		return nil, courier.FieldError("refused", "every piece was refused: report a failed delivery with the reason refused")
	}
	return out, nil
}

// checkScanned compares the scanned barcodes with the goods handed over (the
// order's barcoded pieces less the refused ones), as multisets.
func checkScanned(o *courier.Order, refused []courier.RefusedItem, scanned []string) error {
	if len(scanned) > maxScanned {
		return courier.FieldError("scanned_barcodes", "at most %d barcodes", maxScanned)
	}
	want := map[string]int{}
	for i, it := range o.Items {
		if it.Barcode == "" {
			continue
		}
		n := it.Qty
		for _, r := range refused {
			if r.Item == i {
				n -= r.Qty
			}
		}
		want[it.Barcode] += n
	}
	got := map[string]int{}
	for _, b := range scanned {
		got[strings.TrimSpace(b)]++
	}
	var missing, unexpected []string
	for code, n := range want {
		for range max(n-got[code], 0) {
			missing = append(missing, code)
		}
	}
	for code, n := range got {
		for range max(n-want[code], 0) {
			unexpected = append(unexpected, code)
		}
	}
	if len(missing) == 0 && len(unexpected) == 0 {
		return nil
	}
	slices.Sort(missing)
	slices.Sort(unexpected)
	if missing == nil {
		missing = []string{}
	}
	if unexpected == nil {
		unexpected = []string{}
	}
	return &courier.Error{Code: courier.EINVALID,
		Message: fmt.Sprintf("scanned_barcodes: the scanned goods do not match order %d: %d missing, %d unexpected", o.ID, len(missing), len(unexpected)),
		Details: map[string]any{"field": "scanned_barcodes", "missing": missing, "unexpected": unexpected}}
}

// amountDue is what the customer pays at the door: the order's amount less
// the price of the refused goods, never below zero.
func amountDue(o *courier.Order, refused []courier.RefusedItem) int64 {
	if o.COD.Method == courier.PayPrepaid {
		return 0
	}
	due := o.COD.Amount
	for _, r := range refused {
		due -= int64(r.Qty) * o.Items[r.Item].Price
	}
	return max(due, 0)
}

// checkCollected validates the money taken at the door and fills r.
func (s *Service) checkCollected(o *courier.Order, c *Collection, due int64, r *courier.StopReport) error {
	if due == 0 {
		if c != nil && c.Amount != 0 {
			return courier.FieldError("collected.amount", "nothing is due for order %d (prepaid or every priced piece refused): collect nothing", o.ID)
		}
		return nil
	}
	if c == nil {
		return &courier.Error{Code: courier.EINVALID, Message: fmt.Sprintf("collected: %s is due at the door: say what you collected and how",
			courier.Money{Amount: due, Currency: o.COD.Currency}), Details: map[string]any{"field": "collected", "amount_due": due}}
	}
	if c.Amount < 0 {
		return courier.FieldError("collected.amount", "must not be negative")
	}
	if c.Amount > due {
		return &courier.Error{Code: courier.EINVALID, Message: fmt.Sprintf("collected.amount: %d is more than the %d due", c.Amount, due),
			Details: map[string]any{"field": "collected.amount", "amount_due": due}}
	}
	switch c.Method {
	case courier.PayCash:
	case courier.PayCard:
		if strings.TrimSpace(c.PaymentRef) == "" {
			return courier.FieldError("collected.payment_ref", "the card terminal's slip number is required for a card payment")
		}
	default:
		return courier.FieldError("collected.method", "must be cash or card")
	}
	ref := strings.TrimSpace(c.PaymentRef)
	if len(ref) > 100 {
		return courier.FieldError("collected.payment_ref", "must be at most 100 characters")
	}
	r.Collected, r.CollectedBy, r.PaymentRef = c.Amount, c.Method, ref
	return nil
}

// checkProofRefs requires every proof named to be uploaded for the order.
func checkProofRefs(tx courier.CourierTx, o *courier.Order, ids []string) ([]string, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	if len(ids) > maxProofRefs {
		return nil, courier.FieldError("proof_ids", "at most %d proofs", maxProofRefs)
	}
	have, err := tx.Proofs(o.ID)
	if err != nil {
		return nil, err
	}
	var out []string
	for i, id := range ids {
		if !slices.ContainsFunc(have, func(p *courier.Proof) bool { return p.ID == id }) {
			return nil, courier.FieldError("proof_ids["+strconv.Itoa(i)+"]", "proof %q is not uploaded for order %d: upload it first", id, o.ID)
		}
		if !slices.Contains(out, id) {
			out = append(out, id)
		}
	}
	return out, nil
}

// fail records a failed attempt (or the customer refusing the order).
func (s *Service) fail(tx courier.CourierTx, actor courier.Actor, in *CourierEventInput, ev *courier.CourierEvent, sh *courier.RouteSheet,
	o *courier.Order, now time.Time) error {
	reason := strings.TrimSpace(in.Reason)
	if !slices.Contains(courier.FailReasons(), reason) {
		return courier.FieldError("reason", "must be one of %s", strings.Join(courier.FailReasons(), ", "))
	}
	comment := strings.TrimSpace(in.Comment)
	if len(comment) > maxComment {
		return courier.FieldError("comment", "must be at most %d bytes", maxComment)
	}
	wished := strings.TrimSpace(in.WishedDate)
	if reason == courier.FailReschedule {
		d, err := time.ParseInLocation(time.DateOnly, wished, s.cfg.Location)
		if err != nil {
			return courier.FieldError("wished_date", "is required with the reason reschedule: a date YYYY-MM-DD")
		}
		day, _ := time.ParseInLocation(time.DateOnly, sh.Date, s.cfg.Location)
		if !d.After(day) || d.After(day.AddDate(0, 0, 90)) {
			return courier.FieldError("wished_date", "must be within 90 days after %s", sh.Date)
		}
	} else if wished != "" {
		return courier.FieldError("wished_date", "goes only with the reason reschedule")
	}
	proofs, err := checkProofRefs(tx, o, in.ProofIDs)
	if err != nil {
		return err
	}
	return s.failStop(tx, actor, sh, o, ev.At, in.Position, reason, comment, wished, proofs, now)
}

// failStop moves an open stop to failed_attempt (or refused), books the goods
// the courier now owes back and tells the customer.
func (s *Service) failStop(tx courier.CourierTx, actor courier.Actor, sh *courier.RouteSheet, o *courier.Order, at time.Time, pos *courier.LatLng,
	reason, comment, wished string, proofs []string, now time.Time) error {
	r := reportOf(o)
	r.FinishedAt, r.Position, r.FailReason, r.FailComment, r.WishedDate, r.ProofIDs = &at, pos, reason, comment, wished, proofs
	r.AmountDue = 0
	before := *o
	from, to := o.Status, courier.StatusFailedAttempt
	if reason == courier.FailRefused {
		to = courier.StatusRefused
	}
	ch := StatusChange{To: to, Reason: reason, Comment: comment}
	msg := statusMessage(&before, from, ch, at)
	if wished != "" {
		var m map[string]any
		_ = json.Unmarshal(msg.Payload, &m)
		m["wished_date"] = wished
		msg.Payload = mustJSON(m)
	}
	o.Status, o.Report = to, r
	return tx.WriteOrder(o, []courier.OrderEvent{{Kind: courier.EventStatus, FromStatus: from, ToStatus: to, ActorID: actor.UserID,
		ActorRole: actor.Role, At: at, Reason: reason, Comment: comment,
		Postings: courier.StatusPostings(&before, from, to, actor, now), Outbox: []courier.OutboxMessage{msg},
		Attempt: s.attemptOf(&before, o, sh, at, reason)}})
}

// completeIfDone completes the sheet when none of its stops is open.
func (s *Service) completeIfDone(tx courier.CourierTx, sh *courier.RouteSheet, at time.Time) (bool, error) {
	if sh.Status != courier.SheetActive {
		return false, nil
	}
	n, err := tx.OpenStops(sh.ID)
	if err != nil || n > 0 {
		return false, err
	}
	sh.Status, sh.CompletedAt = courier.SheetCompleted, &at
	return true, tx.WriteSheet(sh)
}

// startShift opens the courier's shift and starts their published sheets of
// the day: the orders go out for delivery and the customers hear of it.
func (s *Service) startShift(tx courier.CourierTx, actor courier.Actor, in *CourierEventInput, ev *courier.CourierEvent, now time.Time) (EventResult, error) {
	open, err := tx.OpenShift(actor.CourierID)
	if err != nil {
		return EventResult{}, err
	}
	if open != nil {
		return EventResult{}, &courier.Error{Code: courier.ECONFLICT,
			Message: fmt.Sprintf("your shift started at %s and has not ended", open.StartedAt.UTC().Format(time.RFC3339)),
			Details: map[string]any{"shift_id": open.ID}}
	}
	date, err := s.shiftDate(in.Date, ev.At)
	if err != nil {
		return EventResult{}, err
	}
	shift := &courier.CourierShift{CourierID: actor.CourierID, Date: date, StartedAt: ev.At, StartPos: in.Position}
	if err := tx.SaveShift(shift); err != nil {
		return EventResult{}, err
	}
	sheets, orders, err := lockSheets(tx, actor.CourierID, date, courier.SheetPublished)
	if err != nil {
		return EventResult{}, err
	}
	for _, sh := range sheets {
		if err := startInTx(tx, actor, sh, orders, ev.At); err != nil {
			return EventResult{}, err
		}
	}
	return EventResult{Shift: shift}, nil
}

// startInTx starts a published sheet whose sheet and orders tx holds locked,
// and writes them.
func startInTx(tx courier.CourierTx, actor courier.Actor, sh *courier.RouteSheet, orders map[int64]*courier.Order, at time.Time) error {
	events := startSheet(actor, sh, orders, at)
	if err := tx.WriteSheet(sh); err != nil {
		return err
	}
	byOrder := map[int64][]courier.OrderEvent{}
	for _, e := range events {
		byOrder[e.OrderID] = append(byOrder[e.OrderID], e)
	}
	for _, st := range sh.Stops {
		if evs := byOrder[st.OrderID]; len(evs) > 0 {
			if err := tx.WriteOrder(orders[st.OrderID], evs); err != nil {
				return err
			}
		}
	}
	return nil
}

// startLate starts a sheet published after the courier's shift of its day
// began, at the courier's first action on one of its stops (the shift start
// started only the sheets published before it). Without an open shift of
// the sheet's day the sheet is left as it is, and stopReady says why.
func (s *Service) startLate(tx courier.CourierTx, actor courier.Actor, sh *courier.RouteSheet, o *courier.Order, at time.Time) (*courier.RouteSheet, *courier.Order, error) {
	shift, err := tx.OpenShift(actor.CourierID)
	if err != nil || shift == nil || shift.Date != sh.Date {
		return sh, o, err
	}
	ids := make([]int64, 0, len(sh.Stops))
	for _, st := range sh.Stops {
		ids = append(ids, st.OrderID)
	}
	orders, err := tx.Orders(ids)
	if err != nil {
		return nil, nil, err
	}
	if err := startInTx(tx, actor, sh, orders, at); err != nil {
		return nil, nil, err
	}
	return s.ownStop(tx, actor, o.ID)
}

// shiftDate is the working day a shift starting at at is for: the day of at
// in the company time zone, or the day asked for when it is that day or the
// next (the demo plans tomorrow; a courier may start before midnight).
func (s *Service) shiftDate(asked string, at time.Time) (string, error) {
	local := at.In(s.cfg.Location)
	date := local.Format(time.DateOnly)
	if asked == "" || asked == date {
		return date, nil
	}
	next := time.Date(local.Year(), local.Month(), local.Day()+1, 0, 0, 0, 0, s.cfg.Location).Format(time.DateOnly)
	if asked != next {
		return "", &courier.Error{Code: courier.EINVALID,
			Message: fmt.Sprintf("date: a shift starting on %s works the sheets of that day or of %s, not %s", date, next, asked),
			Details: map[string]any{"field": "date", "allowed": []string{date, next}}}
	}
	return asked, nil
}

// lockSheets locks the courier's sheets of date in status, then their orders.
func lockSheets(tx courier.CourierTx, courierID int64, date string, status courier.SheetStatus) ([]*courier.RouteSheet, map[int64]*courier.Order, error) {
	sheets, err := tx.Sheets(courierID, date, status)
	if err != nil {
		return nil, nil, err
	}
	var ids []int64
	for _, sh := range sheets {
		for _, st := range sh.Stops {
			ids = append(ids, st.OrderID)
		}
	}
	orders, err := tx.Orders(ids)
	return sheets, orders, err
}

// startSheet makes a published sheet active at at and sends its planned
// orders out for delivery; it returns the orders' events (the caller writes
// the sheet and the orders).
func startSheet(actor courier.Actor, sh *courier.RouteSheet, orders map[int64]*courier.Order, at time.Time) []courier.OrderEvent {
	sh.Status, sh.StartedAt = courier.SheetActive, &at
	var events []courier.OrderEvent
	for _, st := range sh.Stops {
		o := orders[st.OrderID]
		if o == nil || o.Status != courier.StatusPlanned {
			continue // cancelled meanwhile
		}
		o.Status, o.Report = courier.StatusOutForDelivery, nil
		events = append(events, courier.OrderEvent{OrderID: o.ID, Kind: courier.EventStatus, FromStatus: courier.StatusPlanned,
			ToStatus: courier.StatusOutForDelivery, ActorID: actor.UserID, ActorRole: actor.Role, At: at,
			Reason: "route sheet " + sh.Number + " started",
			Outbox: []courier.OutboxMessage{{Topic: courier.TopicOrderOutForDelivery, Key: fmt.Sprintf("out_for_delivery:%d:%d", o.ID, o.Version+1),
				Payload: mustJSON(map[string]any{"type": "out_for_delivery", "order_id": o.ID, "sheet_id": sh.ID,
					"eta_from": st.ETAFrom, "eta_to": st.ETATo})}}})
	}
	return events
}

// endShift ends the open shift. Stops still open must be handed back (they
// become failed attempts with the reason handed_back) or the end is refused.
func (s *Service) endShift(tx courier.CourierTx, actor courier.Actor, in *CourierEventInput, ev *courier.CourierEvent) (EventResult, error) {
	shift, err := tx.OpenShift(actor.CourierID)
	if err != nil {
		return EventResult{}, err
	}
	if shift == nil {
		return EventResult{}, courier.Errorf(courier.ECONFLICT, "you have no open shift to end")
	}
	if ev.At.Before(shift.StartedAt) {
		return EventResult{}, &courier.Error{Code: courier.EINVALID,
			Message: fmt.Sprintf("at: the shift started at %s, after %s", shift.StartedAt.UTC().Format(time.RFC3339), ev.At.Format(time.RFC3339)),
			Details: map[string]any{"field": "at", "not_before": shift.StartedAt.UTC()}}
	}
	sheets, orders, err := lockSheets(tx, actor.CourierID, "", courier.SheetActive)
	if err != nil {
		return EventResult{}, err
	}
	var open []int64
	sheetOf := map[int64]*courier.RouteSheet{}
	for _, sh := range sheets {
		for _, st := range sh.Stops {
			if o := orders[st.OrderID]; o != nil && o.RouteSheetID == sh.ID && o.Status == courier.StatusOutForDelivery {
				open = append(open, o.ID)
				sheetOf[o.ID] = sh
			}
		}
	}
	for i, id := range in.HandBack {
		if !slices.Contains(open, id) {
			return EventResult{}, courier.FieldError("hand_back["+strconv.Itoa(i)+"]", "order %d is not an open stop of yours", id)
		}
	}
	var left []int64
	for _, id := range open {
		if !slices.Contains(in.HandBack, id) {
			left = append(left, id)
		}
	}
	if len(left) > 0 {
		return EventResult{}, &courier.Error{Code: courier.ECONFLICT,
			Message: fmt.Sprintf("%d stops are still open: deliver them, report them failed, or hand them back", len(left)),
			Details: map[string]any{"open_stops": left}}
	}
	res := EventResult{}
	for _, id := range slices.Compact(slices.Sorted(slices.Values(in.HandBack))) {
		if err := s.failStop(tx, actor, sheetOf[id], orders[id], ev.At, in.Position, courier.FailHandedBack, "handed back at the end of the shift", "", nil, ev.At); err != nil {
			return EventResult{}, err
		}
	}
	for _, sh := range sheets {
		done, err := s.completeIfDone(tx, sh, ev.At)
		if err != nil {
			return EventResult{}, err
		}
		if done {
			res.Completed = append(res.Completed, sh.ID)
		}
	}
	at := ev.At
	shift.EndedAt, shift.EndPos = &at, in.Position
	if err := tx.SaveShift(shift); err != nil {
		return EventResult{}, err
	}
	res.Shift = shift
	return res, nil
}

// stopState reads the order's state for a conflict answer: the courier's
// own orders only (nil for anything else).
func (s *Service) stopState(tx courier.CourierTx, actor courier.Actor, orderID int64) *StopState {
	if orderID <= 0 {
		return nil
	}
	var st *StopState
	_ = tx.Step(func() error {
		sh, o, err := s.ownStop(tx, actor, orderID)
		if err != nil {
			return err
		}
		st = stateOf(sh, o, true)
		return nil
	})
	return st
}

// stateOf is the order's state as its courier sees it.
func stateOf(sh *courier.RouteSheet, o *courier.Order, shiftOpen bool) *StopState {
	st := &StopState{OrderID: o.ID, Status: o.Status, SheetID: o.RouteSheetID, AmountDue: o.Due(), Actions: stopActions(sh, o, shiftOpen)}
	if o.Report != nil {
		st.Collected = o.Report.Collected
	}
	return st
}

// stopActions are what the courier may report next at a stop.
// A sheet published after the shift of its day began starts at the first
// of them (startLate), so its planned stops take the same actions.
func stopActions(sh *courier.RouteSheet, o *courier.Order, shiftOpen bool) []courier.CourierAction {
	active := sh != nil && sh.Status == courier.SheetActive && o.Status == courier.StatusOutForDelivery
	late := sh != nil && sh.Status == courier.SheetPublished && o.Status == courier.StatusPlanned
	if !active && !late || o.RouteSheetID != sh.ID || !shiftOpen {
		return []courier.CourierAction{}
	}
	if o.Report != nil && o.Report.ArrivedAt != nil {
		return []courier.CourierAction{courier.ActionDeliver, courier.ActionFail}
	}
	return []courier.CourierAction{courier.ActionArrive, courier.ActionDeliver, courier.ActionFail}
}

// resultRecord is how an EventResult is kept with its event: stable keys,
// repeated to a phone that sends the event again.
type resultRecord struct {
	Error     *errorRecord `json:"error,omitempty"`
	Stop      *stopRecord  `json:"stop,omitempty"`
	Shift     *shiftRecord `json:"shift,omitempty"`
	Completed []int64      `json:"completed,omitempty"`
	At        time.Time    `json:"at"`
}

type errorRecord struct {
	Code    string         `json:"code"`
	Message string         `json:"message"`
	Details map[string]any `json:"details,omitempty"`
}

type stopRecord struct {
	OrderID   int64                   `json:"order_id"`
	Status    courier.OrderStatus     `json:"status"`
	SheetID   int64                   `json:"sheet_id,omitempty"`
	Actions   []courier.CourierAction `json:"actions"`
	AmountDue int64                   `json:"amount_due"`
	Collected int64                   `json:"collected"`
}

type shiftRecord struct {
	ID        int64      `json:"id"`
	Date      string     `json:"date"`
	StartedAt time.Time  `json:"started_at"`
	EndedAt   *time.Time `json:"ended_at,omitempty"`
}

func encodeResult(r EventResult) []byte {
	rec := resultRecord{Completed: r.Completed, At: r.At.UTC()}
	if r.Err != nil {
		rec.Error = &errorRecord{Code: r.Err.Code, Message: r.Err.Message, Details: r.Err.Details}
	}
	if st := r.Stop; st != nil {
		rec.Stop = &stopRecord{OrderID: st.OrderID, Status: st.Status, SheetID: st.SheetID, Actions: st.Actions, AmountDue: st.AmountDue, Collected: st.Collected}
	}
	if sh := r.Shift; sh != nil {
		rec.Shift = &shiftRecord{ID: sh.ID, Date: sh.Date, StartedAt: sh.StartedAt.UTC(), EndedAt: sh.EndedAt}
	}
	return mustJSON(rec)
}

func decodeResult(b []byte) (EventResult, error) {
	var rec resultRecord
	if err := json.Unmarshal(b, &rec); err != nil {
		return EventResult{}, err
	}
	r := EventResult{Completed: rec.Completed, At: rec.At}
	if e := rec.Error; e != nil {
		r.Err = &courier.Error{Code: e.Code, Message: e.Message, Details: e.Details}
	}
	if st := rec.Stop; st != nil {
		r.Stop = &StopState{OrderID: st.OrderID, Status: st.Status, SheetID: st.SheetID, Actions: st.Actions, AmountDue: st.AmountDue, Collected: st.Collected}
		if r.Stop.Actions == nil {
			r.Stop.Actions = []courier.CourierAction{}
		}
	}
	if sh := rec.Shift; sh != nil {
		r.Shift = &courier.CourierShift{ID: sh.ID, Date: sh.Date, StartedAt: sh.StartedAt, EndedAt: sh.EndedAt}
	}
	return r, nil
}
