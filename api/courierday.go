package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"mime"
	"mime/multipart"
	"net/http"
	"strings"
	"time"

	"github.com/courierhq/courier"
	"github.com/courierhq/courier/dispatch"
	"github.com/courierhq/courier/geo"
	"github.com/gin-gonic/gin"
)

// The courier's day on the phone: today's sheets, the shift, stop events
// (arrive, deliver, fail) live or as an offline batch, and proofs.

func (s *Server) courierDayRoutes() []route {
	couriers := []courier.Role{courier.RoleCourier}
	return []route{
		{"GET", "/api/v1/courier/today", couriers, s.courierToday},
		{"POST", "/api/v1/courier/shift/start", couriers, s.courierEvent(courier.ActionShiftStart)},
		{"POST", "/api/v1/courier/shift/end", couriers, s.courierEvent(courier.ActionShiftEnd)},
		{"POST", "/api/v1/courier/stops/:order_id/arrive", couriers, s.courierEvent(courier.ActionArrive)},
		{"POST", "/api/v1/courier/stops/:order_id/deliver", couriers, s.courierEvent(courier.ActionDeliver)},
		{"POST", "/api/v1/courier/stops/:order_id/fail", couriers, s.courierEvent(courier.ActionFail)},
		{"POST", "/api/v1/courier/stops/:order_id/proofs", couriers, s.uploadProof},
		{"POST", "/api/v1/courier/sync", couriers, s.courierSync},
		{"GET", "/api/v1/orders/:id/proofs", everyone, s.orderProofs},
		{"GET", "/api/v1/proofs/:id", everyone, s.getProof},
		{"POST", "/api/v1/orders/:id/reschedule", staff, s.rescheduleOrder},
	}
}

// The courier's events are exactly once by their client_event_id (and
// proofs by their proof_id), kept in the same transaction as their effect:
// the generic Idempotency-Key middleware leaves these routes alone.
func init() {
	for _, p := range []string{"/api/v1/courier/sync", "/api/v1/courier/shift/start", "/api/v1/courier/shift/end",
		"/api/v1/courier/stops/:order_id/arrive", "/api/v1/courier/stops/:order_id/deliver", "/api/v1/courier/stops/:order_id/fail",
		"/api/v1/courier/stops/:order_id/proofs"} {
		selfIdempotent[p] = true
	}
}

// positionIn is where the phone was: lat and lng, and the fix's accuracy.
type positionIn struct {
	Lat       *float64 `json:"lat"`
	Lng       *float64 `json:"lng"`
	AccuracyM *float64 `json:"accuracy_m,omitempty"`
}

type collectedIn struct {
	Amount     *int64                `json:"amount"`
	Method     courier.PaymentMethod `json:"method"`
	PaymentRef string                `json:"payment_ref,omitempty"`
}

type refusedJSON struct {
	Item int `json:"item"`
	Qty  int `json:"qty"`
}

// eventIn is one courier event as a phone sends it: the fields of every
// action; each action reads its own.
type eventIn struct {
	ClientEventID   string                `json:"client_event_id"`
	Action          courier.CourierAction `json:"action,omitempty"`
	OrderID         int64                 `json:"order_id,omitempty"`
	At              *time.Time            `json:"at"`
	Position        *positionIn           `json:"position,omitempty"`
	Collected       *collectedIn          `json:"collected,omitempty"`
	ScannedBarcodes []string              `json:"scanned_barcodes,omitempty"`
	Refused         []refusedJSON         `json:"refused,omitempty"`
	RecipientName   string                `json:"recipient_name,omitempty"`
	ProofIDs        []string              `json:"proof_ids,omitempty"`
	Reason          string                `json:"reason,omitempty"`
	Comment         string                `json:"comment,omitempty"`
	WishedDate      string                `json:"wished_date,omitempty"`
	HandBack        []int64               `json:"hand_back,omitempty"`
	Date            string                `json:"date,omitempty"`
	// SentAt is the phone's clock when it sent a direct event (a sync batch
	// has one for all); it is not part of the event.
	SentAt *time.Time `json:"sent_at,omitempty"`
}

// domain converts the event; the canonical JSON of what was read is kept
// with it, so a phone that sends the same event with its keys in another
// order is still recognised.
func (in *eventIn) domain() dispatch.CourierEventInput {
	canon := *in
	canon.SentAt = nil
	raw, _ := json.Marshal(canon)
	out := dispatch.CourierEventInput{ClientEventID: in.ClientEventID, Action: in.Action, OrderID: in.OrderID,
		ScannedBarcodes: in.ScannedBarcodes, Recipient: in.RecipientName, ProofIDs: in.ProofIDs, Reason: in.Reason,
		Comment: in.Comment, WishedDate: in.WishedDate, HandBack: in.HandBack, Date: in.Date, Raw: raw}
	if in.At != nil {
		out.At = *in.At
	}
	if p := in.Position; p != nil {
		if p.Lat == nil || p.Lng == nil {
			out.Err = courier.FieldError("position", "needs lat and lng")
		} else {
			out.Position = &courier.LatLng{Lat: *p.Lat, Lng: *p.Lng}
		}
	}
	if c := in.Collected; c != nil {
		if c.Amount == nil {
			out.Err = courier.FieldError("collected.amount", "is required (minor units)")
		} else {
			out.Collected = &dispatch.Collection{Amount: *c.Amount, Method: c.Method, PaymentRef: c.PaymentRef}
		}
	}
	for _, r := range in.Refused {
		out.Refused = append(out.Refused, courier.RefusedItem(r))
	}
	return out
}

// decodeEvent reads one event strictly; a malformed event becomes an
// event that is answered invalid, with what could be read of its id.
func decodeEvent(b []byte) dispatch.CourierEventInput {
	var in eventIn
	err := decodeJSON(b, &in)
	if err == nil && in.SentAt != nil {
		err = courier.FieldError("sent_at", "goes with the batch, not with each event")
	}
	if err != nil {
		var id struct {
			ClientEventID string `json:"client_event_id"`
		}
		_ = json.Unmarshal(b, &id)
		return dispatch.CourierEventInput{ClientEventID: id.ClientEventID, Raw: b, Err: err}
	}
	return in.domain()
}

type syncIn struct {
	SentAt *time.Time        `json:"sent_at"`
	Events []json.RawMessage `json:"events"`
}

type stopStateJSON struct {
	OrderID   int64                   `json:"order_id"`
	Status    courier.OrderStatus     `json:"status"`
	SheetID   *int64                  `json:"sheet_id"`
	Actions   []courier.CourierAction `json:"actions"`
	AmountDue int64                   `json:"amount_due"`
	Collected int64                   `json:"collected"`
}

type courierShiftJSON struct {
	ID        int64       `json:"id"`
	Date      string      `json:"date"`
	Status    string      `json:"status"` // open, ended
	StartedAt time.Time   `json:"started_at"`
	EndedAt   *time.Time  `json:"ended_at"`
	StartPos  *latLngJSON `json:"start_position"`
	EndPos    *latLngJSON `json:"end_position"`
}

func toCourierShift(sh *courier.CourierShift) *courierShiftJSON {
	if sh == nil {
		return nil
	}
	out := &courierShiftJSON{ID: sh.ID, Date: sh.Date, Status: "open", StartedAt: sh.StartedAt, EndedAt: sh.EndedAt}
	if sh.EndedAt != nil {
		out.Status = "ended"
	}
	if sh.StartPos != nil {
		p := toLatLng(*sh.StartPos)
		out.StartPos = &p
	}
	if sh.EndPos != nil {
		p := toLatLng(*sh.EndPos)
		out.EndPos = &p
	}
	return out
}

type eventResultJSON struct {
	ClientEventID   string            `json:"client_event_id"`
	Status          string            `json:"status"`
	OriginalStatus  *string           `json:"original_status"`
	At              *time.Time        `json:"at"`
	Error           *errorJSON        `json:"error"`
	Stop            *stopStateJSON    `json:"stop"`
	Shift           *courierShiftJSON `json:"shift"`
	CompletedSheets []int64           `json:"completed_sheets"`
}

func toEventResult(r dispatch.EventResult) eventResultJSON {
	out := eventResultJSON{ClientEventID: r.ClientEventID, Status: r.Outcome, CompletedSheets: nonNil(r.Completed), Shift: toCourierShift(r.Shift)}
	if r.Original != "" {
		out.OriginalStatus = &r.Original
	}
	if !r.At.IsZero() {
		at := r.At
		out.At = &at
	}
	if r.Err != nil {
		d := r.Err.Details
		if d == nil {
			d = map[string]any{}
		}
		out.Error = &errorJSON{Code: r.Err.Code, Message: r.Err.Message, Details: d}
	}
	if st := r.Stop; st != nil {
		out.Stop = &stopStateJSON{OrderID: st.OrderID, Status: st.Status, SheetID: nullID(st.SheetID), Actions: nonNil(st.Actions),
			AmountDue: st.AmountDue, Collected: st.Collected}
	}
	return out
}

// courierSync applies an offline batch: every event answered in order.
func (s *Server) courierSync(c *gin.Context) error {
	b, err := readBody(c, maxSyncBody)
	if err != nil {
		return err
	}
	var in syncIn
	if err := decodeJSON(b, &in); err != nil {
		return err
	}
	if in.Events == nil {
		return courier.FieldError("events", "is required")
	}
	if len(in.Events) > dispatch.MaxSyncEvents {
		return &courier.Error{Code: courier.EINVALID, Message: "events: at most 500 events in one batch; send the rest in another",
			Details: map[string]any{"field": "events", "max": dispatch.MaxSyncEvents, "got": len(in.Events)}}
	}
	batch := dispatch.SyncInput{Events: make([]dispatch.CourierEventInput, len(in.Events))}
	if in.SentAt != nil {
		batch.SentAt = *in.SentAt
	}
	for i, raw := range in.Events {
		batch.Events[i] = decodeEvent(raw)
	}
	res, err := s.dispatch.Sync(c.Request.Context(), actorOf(c), batch)
	if err != nil {
		return err
	}
	s.publishDay(c, res.Results)
	out := struct {
		ClockOffsetMS int64             `json:"clock_offset_ms"`
		Results       []eventResultJSON `json:"results"`
	}{ClockOffsetMS: res.ClockOffset.Milliseconds(), Results: []eventResultJSON{}}
	for _, r := range res.Results {
		out.Results = append(out.Results, toEventResult(r))
	}
	c.JSON(http.StatusOK, out)
	return nil
}

// maxSyncBody bounds a sync batch: 500 events of a few KiB each.
const maxSyncBody = 4 << 20

// courierEvent is the direct endpoint of one action: the same code and the
// same exactly-once rule as a sync batch of one. A conflict answers 409 and
// an invalid event 422 (with the event's result in the details); a
// duplicate repeats the first answer.
func (s *Server) courierEvent(action courier.CourierAction) handler {
	return func(c *gin.Context) error {
		var in eventIn
		if err := decode(c, &in); err != nil {
			return err
		}
		if in.Action != "" && in.Action != action {
			return courier.FieldError("action", "this endpoint reports %s; leave action out", action)
		}
		in.Action = action
		if action.AtStop() {
			id, err := pathID(c, "order_id")
			if err != nil {
				return err
			}
			if in.OrderID != 0 && in.OrderID != id {
				return courier.FieldError("order_id", "differs from the order in the path")
			}
			in.OrderID = id
		}
		ev := in.domain()
		batch := dispatch.SyncInput{Events: []dispatch.CourierEventInput{ev}}
		if in.SentAt != nil {
			batch.SentAt = *in.SentAt
		}
		res, err := s.dispatch.Sync(c.Request.Context(), actorOf(c), batch)
		if err != nil {
			return err
		}
		r := res.Results[0]
		s.publishDay(c, res.Results)
		outcome := r.Outcome
		if outcome == courier.OutcomeDuplicate {
			outcome = r.Original
		}
		if (outcome == courier.OutcomeConflict || outcome == courier.OutcomeInvalid) && r.Err != nil {
			e := &courier.Error{Code: r.Err.Code, Message: r.Err.Message, Details: map[string]any{}}
			for k, v := range r.Err.Details {
				e.Details[k] = v
			}
			e.Details["client_event_id"] = r.ClientEventID
			e.Details["status"] = r.Outcome
			if r.Stop != nil {
				e.Details["stop"] = toEventResult(r).Stop
			}
			if e.Code == courier.ENOTFOUND {
				return e // another courier's order: the same answer as a missing one
			}
			if outcome == courier.OutcomeConflict {
				e.Code = courier.ECONFLICT
			}
			return e
		}
		c.JSON(http.StatusOK, toEventResult(r))
		return nil
	}
}

// publishDay puts applied events on the tracking stream: a stop's new status
// with its sheet's counts, shift starts and ends. The stream is a live view:
// a failure is logged, never the request's.
func (s *Server) publishDay(c *gin.Context, results []dispatch.EventResult) {
	if s.tracker == nil {
		return
	}
	ctx := c.Request.Context()
	a := actorOf(c)
	progress := map[int64]*geo.SheetCounts{} // each sheet's counts after the batch, read once
	var events []geo.Event
	for _, r := range results {
		if r.Outcome != courier.OutcomeApplied {
			continue
		}
		e := geo.Event{CourierID: a.CourierID, At: r.At}
		switch {
		case r.Stop != nil && r.Stop.SheetID != 0:
			counts, ok := progress[r.Stop.SheetID]
			if !ok {
				p, err := s.dispatch.SheetProgressOf(ctx, r.Stop.SheetID)
				if err != nil {
					logger(c).Warn("sheet progress for the live feed", slog.Any("err", err))
					continue
				}
				counts = &geo.SheetCounts{Total: p.Total, Delivered: p.Delivered, Failed: p.Failed, Remaining: p.Remaining}
				progress[r.Stop.SheetID] = counts
			}
			e.Type, e.SheetID, e.StopID, e.Status, e.Progress = geo.EventSheetProgress, r.Stop.SheetID, r.Stop.OrderID, string(r.Stop.Status), counts
		case r.Shift != nil && r.Shift.EndedAt != nil:
			e.Type = geo.EventShiftEnded
		case r.Shift != nil:
			e.Type = geo.EventShiftStarted
		default:
			continue
		}
		events = append(events, e)
	}
	if err := s.tracker.Publish(ctx, events...); err != nil {
		logger(c).Warn("live feed", slog.Any("err", err))
	}
}

type goodsJSON struct {
	Item    int    `json:"item"`
	SKU     string `json:"sku"`
	Name    string `json:"name"`
	Qty     int    `json:"qty"`
	Barcode string `json:"barcode"`
	Price   int64  `json:"price"`
}

type collectJSON struct {
	Amount   int64                 `json:"amount"`
	Currency string                `json:"currency"`
	Method   courier.PaymentMethod `json:"method"`
}

type reportCollectedJSON struct {
	Amount     int64                 `json:"amount"`
	Method     courier.PaymentMethod `json:"method"`
	PaymentRef string                `json:"payment_ref"`
}

type stopReportJSON struct {
	ArrivedAt     *time.Time           `json:"arrived_at"`
	FinishedAt    *time.Time           `json:"finished_at"`
	Position      *latLngJSON          `json:"position"`
	RecipientName string               `json:"recipient_name"`
	AmountDue     int64                `json:"amount_due"`
	Collected     *reportCollectedJSON `json:"collected"`
	ShortAtDoor   int64                `json:"short_at_door"`
	Refused       []refusedJSON        `json:"refused"`
	ProofIDs      []string             `json:"proof_ids"`
	FailReason    string               `json:"fail_reason"`
	FailComment   string               `json:"fail_comment"`
	WishedDate    string               `json:"wished_date"`
}

func toStopReport(r *courier.StopReport) *stopReportJSON {
	if r == nil {
		return nil
	}
	out := &stopReportJSON{ArrivedAt: r.ArrivedAt, FinishedAt: r.FinishedAt, RecipientName: r.Recipient, AmountDue: r.AmountDue,
		ShortAtDoor: r.Short(), Refused: []refusedJSON{}, ProofIDs: nonNil(r.ProofIDs), FailReason: r.FailReason,
		FailComment: r.FailComment, WishedDate: r.WishedDate}
	if r.Position != nil {
		p := toLatLng(*r.Position)
		out.Position = &p
	}
	if r.CollectedBy != "" {
		out.Collected = &reportCollectedJSON{Amount: r.Collected, Method: r.CollectedBy, PaymentRef: r.PaymentRef}
	}
	for _, it := range r.Refused {
		out.Refused = append(out.Refused, refusedJSON(it))
	}
	return out
}

type todayStopJSON struct {
	Seq            int                     `json:"seq"`
	OrderID        int64                   `json:"order_id"`
	ExternalID     string                  `json:"external_id"`
	Status         courier.OrderStatus     `json:"status"`
	Actions        []courier.CourierAction `json:"actions"`
	Customer       customerJSON            `json:"customer"`
	Address        string                  `json:"address"`
	AddressDetails addressDetailsJSON      `json:"address_details"`
	Location       latLngJSON              `json:"location"`
	TimeWindow     *timeWindowJSON         `json:"time_window"`
	ETA            time.Time               `json:"eta"`
	ETAWindow      timeWindowJSON          `json:"eta_window"`
	ServiceMinutes int                     `json:"service_minutes"`
	WeightKg       float64                 `json:"weight_kg"`
	Goods          []goodsJSON             `json:"goods"`
	Collect        collectJSON             `json:"collect"`
	Notes          string                  `json:"notes"`
	Report         *stopReportJSON         `json:"report"`
}

type progressCountsJSON struct {
	Total     int `json:"total"`
	Delivered int `json:"delivered"`
	Failed    int `json:"failed"`
	Cancelled int `json:"cancelled"`
	Remaining int `json:"remaining"`
}

func toProgressCounts(p dispatch.SheetProgress) progressCountsJSON {
	return progressCountsJSON{Total: p.Total, Delivered: p.Delivered, Failed: p.Failed, Cancelled: p.Cancelled, Remaining: p.Remaining}
}

type todaySheetJSON struct {
	ID          int64               `json:"id"`
	Number      string              `json:"number"`
	Barcode     string              `json:"barcode"`
	Status      courier.SheetStatus `json:"status"`
	Date        string              `json:"date"`
	Start       time.Time           `json:"start"`
	End         time.Time           `json:"end"`
	DistanceM   int64               `json:"distance_m"`
	DurationS   int64               `json:"duration_s"`
	StartedAt   *time.Time          `json:"started_at"`
	CompletedAt *time.Time          `json:"completed_at"`
	Progress    progressCountsJSON  `json:"progress"`
	Stops       []todayStopJSON     `json:"stops"`
}

type todayJSON struct {
	Date    string `json:"date"`
	Courier struct {
		ID          int64  `json:"id"`
		Name        string `json:"name"`
		VehicleType string `json:"vehicle_type"`
	} `json:"courier"`
	Shift      *courierShiftJSON `json:"shift"`
	CashOnHand moneyJSON         `json:"cash_on_hand"`
	Sheets     []todaySheetJSON  `json:"sheets"`
}

// courierToday is the phone app's day: the courier's sheets with every stop.
func (s *Server) courierToday(c *gin.Context) error {
	t, err := s.dispatch.Today(c.Request.Context(), actorOf(c), c.Query("date"))
	if err != nil {
		return err
	}
	out := todayJSON{Date: t.Date, Shift: toCourierShift(t.Shift), CashOnHand: moneyJSON{Amount: t.CashOnHand, Currency: t.Currency},
		Sheets: []todaySheetJSON{}}
	out.Courier.ID, out.Courier.Name, out.Courier.VehicleType = t.Courier.ID, t.Courier.Name, t.Courier.Vehicle.Type
	for _, ts := range t.Sheets {
		sh := ts.Sheet
		js := todaySheetJSON{ID: sh.ID, Number: sh.Number, Barcode: sh.Number, Status: sh.Status, Date: sh.Date, Start: sh.Start,
			End: sh.End, DistanceM: sh.DistanceM, DurationS: sh.DurationS, StartedAt: sh.StartedAt, CompletedAt: sh.CompletedAt,
			Progress: toProgressCounts(ts.Progress), Stops: []todayStopJSON{}}
		for i, st := range sh.Stops {
			o := ts.Orders[i]
			stop := todayStopJSON{Seq: st.Seq, OrderID: o.ID, ExternalID: o.ExternalID, Status: o.Status, Actions: nonNil(ts.Actions[i]),
				Customer: customerJSON(o.Customer), Address: o.Address, AddressDetails: addressDetailsJSON(o.AddressDetails),
				Location: toLatLng(o.Location), ETA: st.ETA, ETAWindow: timeWindowJSON{From: st.ETAFrom, To: st.ETATo},
				ServiceMinutes: o.ServiceMinutes, WeightKg: o.WeightKg, Goods: []goodsJSON{},
				Collect: collectJSON{Amount: o.Due(), Currency: o.COD.Currency, Method: o.COD.Method}, Notes: o.Notes,
				Report: toStopReport(o.Report)}
			if o.TimeWindow != nil {
				stop.TimeWindow = &timeWindowJSON{From: o.TimeWindow.From, To: o.TimeWindow.To}
			}
			for k, it := range o.Items {
				stop.Goods = append(stop.Goods, goodsJSON{Item: k, SKU: it.SKU, Name: it.Name, Qty: it.Qty, Barcode: it.Barcode, Price: it.Price})
			}
			js.Stops = append(js.Stops, stop)
		}
		out.Sheets = append(out.Sheets, js)
	}
	c.JSON(http.StatusOK, out)
	return nil
}

type proofJSON struct {
	ID          string    `json:"id"`
	OrderID     int64     `json:"order_id"`
	CourierID   *int64    `json:"courier_id"`
	Kind        string    `json:"kind"`
	ContentType string    `json:"content_type"`
	Size        int64     `json:"size"`
	SHA256      string    `json:"sha256"`
	URL         string    `json:"url"`
	CreatedAt   time.Time `json:"created_at"`
}

func toProof(p *courier.Proof) proofJSON {
	return proofJSON{ID: p.ID, OrderID: p.OrderID, CourierID: nullID(p.CourierID), Kind: p.Kind, ContentType: p.ContentType,
		Size: p.Size, SHA256: p.SHA256, URL: "/api/v1/proofs/" + p.ID, CreatedAt: p.CreatedAt}
}

// maxProofBody is the largest multipart body a proof upload may have: the
// largest photo and the form around it.
const maxProofBody = dispatch.MaxPhotoBytes + 64<<10

// uploadProof takes a signature or a photo as multipart/form-data: the
// fields kind (signature, photo), proof_id (optional, a UUID made on the
// phone) and file.
func (s *Server) uploadProof(c *gin.Context) error {
	orderID, err := pathID(c, "order_id")
	if err != nil {
		return err
	}
	mt, params, err := mime.ParseMediaType(c.GetHeader("Content-Type"))
	if err != nil || mt != "multipart/form-data" || params["boundary"] == "" {
		return errBody("", "send the proof as multipart/form-data with the fields kind, proof_id and file")
	}
	body, err := readBody(c, maxProofBody)
	if err != nil {
		return err
	}
	mr := multipart.NewReader(bytes.NewReader(body), params["boundary"])
	var in dispatch.ProofInput
	var file []byte
	for {
		part, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			return errBody("", "malformed multipart body")
		}
		v, err := io.ReadAll(io.LimitReader(part, maxProofBody))
		if err != nil {
			return errBody("", "malformed multipart body")
		}
		switch part.FormName() {
		case "kind":
			in.Kind = strings.TrimSpace(string(v))
		case "proof_id":
			in.ID = strings.TrimSpace(string(v))
		case "file":
			file = v
		default:
			return errBody(part.FormName(), "unknown form field %q", part.FormName())
		}
	}
	if file == nil {
		return courier.FieldError("file", "is required")
	}
	in.Data = file
	p, err := s.dispatch.AddProof(c.Request.Context(), actorOf(c), orderID, in)
	if err != nil {
		return err
	}
	c.JSON(http.StatusCreated, toProof(p))
	return nil
}

func (s *Server) orderProofs(c *gin.Context) error {
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	ps, err := s.dispatch.Proofs(c.Request.Context(), actorOf(c), id)
	if err != nil {
		return err
	}
	out := []proofJSON{}
	for _, p := range ps {
		out = append(out, toProof(p))
	}
	c.JSON(http.StatusOK, gin.H{"items": out})
	return nil
}

// getProof serves a proof's bytes. An SVG is served sandboxed: nothing in it
// may run even if a browser opens it directly.
func (s *Server) getProof(c *gin.Context) error {
	p, err := s.dispatch.Proof(c.Request.Context(), actorOf(c), c.Param("id"))
	if err != nil {
		return err
	}
	h := c.Writer.Header()
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; sandbox")
	h.Set("Cache-Control", "private, max-age=86400, immutable")
	h.Set("Content-Disposition", "inline")
	c.Data(http.StatusOK, p.ContentType, p.Data)
	return nil
}

type rescheduleIn struct {
	Date string `json:"date"`
}

// rescheduleOrder puts a failed order back into a day's pool with one call.
func (s *Server) rescheduleOrder(c *gin.Context) error {
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	var in rescheduleIn
	if b, _ := readBody(c, maxBody); len(bytes.TrimSpace(b)) > 0 {
		if err := decode(c, &in); err != nil {
			return err
		}
	}
	o, err := s.dispatch.Reschedule(c.Request.Context(), actorOf(c), id, in.Date)
	if err != nil {
		return err
	}
	c.JSON(http.StatusOK, toOrder(o))
	return nil
}
