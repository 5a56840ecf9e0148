package dispatch

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/xml"
	"errors"
	"fmt"
	"image/jpeg"
	"image/png"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/courierhq/courier"
)

// Today is a courier's day as the phone app shows it.
type Today struct {
	Date    string
	Courier *courier.Courier
	// Shift is the open shift, else the last one started on Date (nil when none).
	Shift  *courier.CourierShift
	Sheets []TodaySheet
	// CashOnHand is the cash the courier holds for the company now: what
	// they owe the cash desk, in the company currency.
	CashOnHand int64
	Currency   string
}

// TodaySheet is one of the day's sheets with its stops in order.
type TodaySheet struct {
	SheetView
	Actions  [][]courier.CourierAction // per stop, what the courier may report next
	Progress SheetProgress
}

// Today returns the courier's sheets of date (published or later) with every
// stop, its state and allowed actions, the shift and the cash on hand. An
// empty date is the open shift's working day, else today.
// Couriers only, their own day. Returns EFORBIDDEN, EINVALID (date).
func (s *Service) Today(ctx context.Context, actor courier.Actor, date string) (*Today, error) {
	if actor.Role != courier.RoleCourier || actor.CourierID == 0 {
		return nil, courier.Errorf(courier.EFORBIDDEN, "only couriers have a day on the road")
	}
	if date != "" {
		if _, err := time.Parse(time.DateOnly, date); err != nil {
			return nil, courier.FieldError("date", "must be a date YYYY-MM-DD")
		}
	}
	c, err := s.store.Courier(ctx, actor.CourierID)
	if err != nil {
		return nil, err
	}
	open, err := s.store.OpenCourierShift(ctx, c.ID)
	if err != nil {
		if courier.ErrorCode(err) != courier.ENOTFOUND {
			return nil, err
		}
		open = nil
	}
	if date == "" {
		// The open shift's working day (a shift may run past midnight, or
		// have started the evening before for the next day), else today.
		date = s.clock.Now().In(s.cfg.Location).Format(time.DateOnly)
		if open != nil {
			date = open.Date
		}
	}
	t := &Today{Date: date, Courier: c, Currency: s.cfg.Currency, Sheets: []TodaySheet{}}
	if open != nil {
		t.Shift = open
	} else {
		shifts, err := s.store.CourierShifts(ctx, c.ID, date)
		if err != nil {
			return nil, err
		}
		if len(shifts) > 0 {
			t.Shift = shifts[len(shifts)-1]
		}
	}
	sheets, err := s.store.ListSheets(ctx, courier.SheetFilter{CourierID: c.ID, Date: date,
		Statuses: []courier.SheetStatus{courier.SheetPublished, courier.SheetActive, courier.SheetCompleted}})
	if err != nil {
		return nil, err
	}
	for _, sh := range sheets {
		v, err := s.view(ctx, sh)
		if err != nil {
			return nil, err
		}
		ts := TodaySheet{SheetView: *v, Progress: progressOf(sh, v.Orders)}
		for _, o := range v.Orders {
			ts.Actions = append(ts.Actions, stopActions(sh, o, open != nil && open.Date == sh.Date))
		}
		t.Sheets = append(t.Sheets, ts)
	}
	bal, err := s.store.Balances(ctx, courier.PostingFilter{Accounts: []string{courier.AccountCourierCash(c.ID)}})
	if err != nil {
		return nil, err
	}
	for _, b := range bal {
		if b.Currency == s.cfg.Currency {
			t.CashOnHand += b.Balance()
		}
	}
	return t, nil
}

// progressOf counts a sheet's stops from its orders (in stop order).
func progressOf(sh *courier.RouteSheet, orders []*courier.Order) SheetProgress {
	p := SheetProgress{SheetID: sh.ID, CourierID: sh.CourierID}
	for _, o := range orders {
		if o.RouteSheetID != sh.ID {
			continue // moved off the sheet
		}
		p.count(o.Status, 1)
	}
	return p
}

func (p *SheetProgress) count(st courier.OrderStatus, n int) {
	p.Total += n
	switch st {
	case courier.StatusDelivered:
		p.Delivered += n
	case courier.StatusFailedAttempt, courier.StatusRefused, courier.StatusReturnedToDepot:
		p.Failed += n
	case courier.StatusCancelled:
		p.Cancelled += n
	default:
		p.Remaining += n
	}
}

// Progress counts the stops of each sheet by outcome (Late is left to the
// caller, who has the live ETAs). Office roles, and couriers for their own
// sheets (others are left out).
func (s *Service) Progress(ctx context.Context, actor courier.Actor, sheets []*courier.RouteSheet) (map[int64]SheetProgress, error) {
	var ids []int64
	out := map[int64]SheetProgress{}
	for _, sh := range sheets {
		if canSeeSheet(actor, sh) {
			ids = append(ids, sh.ID)
			out[sh.ID] = SheetProgress{SheetID: sh.ID, CourierID: sh.CourierID}
		}
	}
	counts, err := s.store.StopCounts(ctx, ids)
	if err != nil {
		return nil, err
	}
	for _, c := range counts {
		p := out[c.SheetID]
		p.count(c.Status, c.N)
		out[c.SheetID] = p
	}
	return out, nil
}

// SheetProgressOf counts one sheet's stops, for the live feed after an event.
func (s *Service) SheetProgressOf(ctx context.Context, sheetID int64) (SheetProgress, error) {
	sh, err := s.store.Sheet(ctx, sheetID)
	if err != nil {
		return SheetProgress{}, err
	}
	m, err := s.Progress(ctx, courier.Actor{Role: courier.RoleAdmin}, []*courier.RouteSheet{sh})
	if err != nil {
		return SheetProgress{}, err
	}
	return m[sheetID], nil
}

// Proof size limits.
const (
	MaxSignatureBytes = 512 << 10 // 512 KiB
	MaxPhotoBytes     = 10 << 20  // 10 MiB
)

// ProofInput is an uploaded signature or photo.
type ProofInput struct {
	ID   string // made on the phone (a UUID); empty: the server makes one
	Kind string // signature or photo
	Data []byte
}

// AddProof stores a proof of delivery for one of the courier's stops after
// checking its content by its bytes: a signature is a PNG or a harmless SVG,
// a photo a JPEG. The courier of the order only. Uploading the same proof
// again returns the stored one. Returns ENOTFOUND (not the courier's order),
// EINVALID (kind, content), ETOOLARGE, ECONFLICT (the id names another proof).
func (s *Service) AddProof(ctx context.Context, actor courier.Actor, orderID int64, in ProofInput) (*courier.Proof, error) {
	if actor.Role != courier.RoleCourier || actor.CourierID == 0 {
		return nil, courier.Errorf(courier.EFORBIDDEN, "only the order's courier uploads proofs")
	}
	o, err := s.store.Order(ctx, orderID)
	if err != nil || o.CourierID != actor.CourierID {
		if err == nil || courier.ErrorCode(err) == courier.ENOTFOUND {
			return nil, notYours(orderID)
		}
		return nil, err
	}
	if in.ID == "" {
		in.ID = newUUID()
	} else if !validEventID(in.ID) {
		return nil, courier.FieldError("proof_id", "must be a UUID made on the phone")
	}
	ct, err := checkProof(in.Kind, in.Data)
	if err != nil {
		return nil, err
	}
	sum := sha256.Sum256(in.Data)
	return s.store.AddProof(ctx, &courier.Proof{ID: strings.ToLower(in.ID), OrderID: o.ID, CourierID: actor.CourierID, Kind: in.Kind,
		ContentType: ct, SHA256: hex.EncodeToString(sum[:]), Data: in.Data, UploadedBy: actor.UserID})
}

// checkProof returns the content type of a proof's bytes, or why it is refused.
func checkProof(kind string, b []byte) (string, error) {
	switch kind {
	case courier.ProofSignature:
		if len(b) > MaxSignatureBytes {
			return "", courier.Errorf(courier.ETOOLARGE, "a signature is at most %d KiB", MaxSignatureBytes>>10)
		}
		if bytes.HasPrefix(b, []byte("\x89PNG\r\n\x1a\n")) {
			return "image/png", checkPNG(b)
		}
		if err := checkSVG(b); err != nil {
			return "", err
		}
		return "image/svg+xml", nil
	case courier.ProofPhoto:
		if len(b) > MaxPhotoBytes {
			return "", courier.Errorf(courier.ETOOLARGE, "a photo is at most %d MiB", MaxPhotoBytes>>20)
		}
		if !bytes.HasPrefix(b, []byte{0xff, 0xd8, 0xff}) {
			return "", courier.FieldError("file", "a photo must be a JPEG image")
		}
		if _, err := jpeg.DecodeConfig(bytes.NewReader(b)); err != nil {
			return "", courier.FieldError("file", "is not a readable JPEG image")
		}
		return "image/jpeg", nil
	}
	return "", courier.FieldError("kind", "must be signature or photo")
}

func checkPNG(b []byte) error {
	cfg, err := png.DecodeConfig(bytes.NewReader(b))
	if err != nil {
		return courier.FieldError("file", "is not a readable PNG image")
	}
	if cfg.Width <= 0 || cfg.Height <= 0 || cfg.Width > 4096 || cfg.Height > 4096 {
		return courier.FieldError("file", "a signature is at most 4096 x 4096 pixels")
	}
	return nil
}

// svgAllowed are the SVG elements a drawn signature needs; anything else
// (script, foreignObject, image, use, animation, ...) is refused.
var svgAllowed = []string{"svg", "g", "path", "polyline", "polygon", "line", "circle", "ellipse", "rect", "title", "desc", "defs", "metadata"}

// checkSVG accepts a plain vector drawing: known shape elements, no scripts,
// no event handlers, no links to anything outside the document, no DTD.
func checkSVG(b []byte) error {
	bad := func(why string) error {
		return courier.FieldError("file", "a signature SVG must be a plain drawing: %s", why)
	}
	if !bytes.Contains(b, []byte("<svg")) {
		return courier.FieldError("file", "a signature must be a PNG or an SVG image")
	}
	dec := xml.NewDecoder(bytes.NewReader(b))
	dec.Strict = true
	root := true
	for {
		tok, err := dec.Token()
		if errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			return courier.FieldError("file", "is not well-formed SVG: %v", err)
		}
		switch t := tok.(type) {
		case xml.Directive:
			return bad("no DOCTYPE or entities")
		case xml.ProcInst:
			if t.Target != "xml" {
				return bad("no processing instructions")
			}
		case xml.StartElement:
			name := strings.ToLower(t.Name.Local)
			if root && name != "svg" {
				return courier.FieldError("file", "a signature must be a PNG or an SVG image")
			}
			root = false
			if !slices.Contains(svgAllowed, name) {
				return bad("the element <" + t.Name.Local + "> is not allowed")
			}
			for _, a := range t.Attr {
				an, v := strings.ToLower(a.Name.Local), strings.ToLower(strings.TrimSpace(a.Value))
				switch {
				case strings.HasPrefix(an, "on"):
					return bad("no event handlers (" + a.Name.Local + ")")
				case an == "href" || an == "src" || an == "style" && (strings.Contains(v, "url(") || strings.Contains(v, "@import")):
					return bad("no links or external resources")
				case strings.Contains(v, "javascript:") || strings.Contains(v, "data:"):
					return bad("no scripts or embedded documents")
				}
			}
		}
	}
	if root {
		return courier.FieldError("file", "a signature must be a PNG or an SVG image")
	}
	return nil
}

// newUUID returns a random (version 4) UUID.
func newUUID() string {
	u := make([]byte, 16)
	_, _ = rand.Read(u)
	u[6] = u[6]&0x0f | 0x40
	u[8] = u[8]&0x3f | 0x80
	x := hex.EncodeToString(u)
	return x[:8] + "-" + x[8:12] + "-" + x[12:16] + "-" + x[16:20] + "-" + x[20:]
}

// canSeeProofs: the dispatcher, the admin and the order's courier.
func canSeeProofs(actor courier.Actor, o *courier.Order, p *courier.Proof) bool {
	switch actor.Role {
	case courier.RoleAdmin, courier.RoleDispatcher:
		return true
	case courier.RoleCourier:
		return actor.CourierID != 0 && (o.CourierID == actor.CourierID || p != nil && p.CourierID == actor.CourierID)
	}
	return false
}

// Proofs lists an order's proofs (without data). Staff and the order's
// courier. Returns ENOTFOUND.
func (s *Service) Proofs(ctx context.Context, actor courier.Actor, orderID int64) ([]*courier.Proof, error) {
	o, err := s.store.Order(ctx, orderID)
	if err != nil {
		return nil, err
	}
	if !canSeeProofs(actor, o, nil) {
		return nil, courier.Errorf(courier.ENOTFOUND, "order %d not found", orderID)
	}
	return s.store.Proofs(ctx, orderID)
}

// Proof returns a proof with its bytes. Staff, and the courier who took it
// or whose order it is. Returns ENOTFOUND.
func (s *Service) Proof(ctx context.Context, actor courier.Actor, id string) (*courier.Proof, error) {
	p, err := s.store.Proof(ctx, id)
	if err != nil {
		return nil, err
	}
	o, err := s.store.Order(ctx, p.OrderID)
	if err != nil {
		return nil, err
	}
	if !canSeeProofs(actor, o, p) {
		return nil, courier.Errorf(courier.ENOTFOUND, "proof %s not found", id)
	}
	return p, nil
}

// Reschedule puts a failed order back into the pool of a day: today's pool
// when date is empty and the customer named no date, else the date given or
// the one the customer wished. The order becomes ready for that date (its
// time window moved by whole days), its goods are booked back at the depot.
// Staff only. Returns EFORBIDDEN, ENOTFOUND, EINVALID (date), ECONFLICT (the
// order did not fail).
func (s *Service) Reschedule(ctx context.Context, actor courier.Actor, id int64, date string) (*courier.Order, error) {
	if err := actor.Require(staff...); err != nil {
		return nil, err
	}
	today := s.clock.Now().In(s.cfg.Location).Format(time.DateOnly)
	if date != "" {
		d, err := time.ParseInLocation(time.DateOnly, date, s.cfg.Location)
		if err != nil {
			return nil, courier.FieldError("date", "must be a date YYYY-MM-DD")
		}
		if date < today || d.After(s.clock.Now().AddDate(1, 0, 0)) {
			return nil, courier.FieldError("date", "must be from today (%s) to a year ahead", today)
		}
	}
	now := s.clock.Now()
	return s.store.UpdateOrder(ctx, id, func(o *courier.Order) ([]courier.OrderEvent, error) {
		if o.Status != courier.StatusFailedAttempt {
			return nil, &courier.Error{Code: courier.ECONFLICT, Message: fmt.Sprintf("order %d is %s: only a failed delivery is rescheduled", o.ID, o.Status),
				Details: map[string]any{"status": o.Status}}
		}
		to := date
		if to == "" && o.Report != nil && o.Report.WishedDate >= today {
			to = o.Report.WishedDate
		}
		if to == "" {
			to = today
		}
		before := *o
		if o.TimeWindow != nil && o.DeliveryDate != "" && to != o.DeliveryDate {
			from, err1 := time.ParseInLocation(time.DateOnly, o.DeliveryDate, s.cfg.Location)
			dest, err2 := time.ParseInLocation(time.DateOnly, to, s.cfg.Location)
			if err1 == nil && err2 == nil {
				days := int(dest.Sub(from).Hours()/24 + 0.5)
				tw := courier.TimeWindow{From: o.TimeWindow.From.In(s.cfg.Location).AddDate(0, 0, days).UTC(),
					To: o.TimeWindow.To.In(s.cfg.Location).AddDate(0, 0, days).UTC()}
				o.TimeWindow = &tw
			}
		}
		o.Status, o.DeliveryDate, o.CourierID, o.RouteSheetID = courier.StatusReady, to, 0, 0
		return []courier.OrderEvent{{Kind: courier.EventStatus, FromStatus: courier.StatusFailedAttempt, ToStatus: courier.StatusReady,
			ActorID: actor.UserID, ActorRole: actor.Role, At: now, Reason: "rescheduled to " + to,
			Postings: courier.StatusPostings(&before, courier.StatusFailedAttempt, courier.StatusReady, actor, now),
			Outbox:   []courier.OutboxMessage{statusMessage(&before, courier.StatusFailedAttempt, StatusChange{To: courier.StatusReady, Reason: "rescheduled to " + to}, now)}}}, nil
	})
}
