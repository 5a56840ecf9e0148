package cashdesk

import (
	"context"
	"strings"

	"github.com/courierhq/courier"
)

// ReturnInput is one piece of goods scanned back in at the depot.
type ReturnInput struct {
	Barcode     string // the route sheet's
	ItemBarcode string // the item's barcode (or SKU); for an order without items, its external id
}

// ReturnResult says what a scan checked in.
type ReturnResult struct {
	Item          courier.ReturnedItem
	OrderID       int64
	OrderStatus   courier.OrderStatus // returned_to_depot once every piece is in
	PiecesTotal   int64
	PiecesIn      int64
	OrderComplete bool
}

// CheckIn checks one piece of a failed or refused order of the sheet back in.
// When the order's last piece is in, the order moves to returned_to_depot
// through the order state machine, with the cashier as actor, and the goods
// leave the courier's account, in the same transaction. Cashiers and admins
// only. Returns EFORBIDDEN, EINVALID (bad barcode, no goods to return with
// that item barcode), ENOTFOUND (no such sheet), ECONFLICT (every piece with
// that barcode is already in).
func (s *Service) CheckIn(ctx context.Context, actor courier.Actor, in ReturnInput) (*ReturnResult, error) {
	if err := actor.Require(desk...); err != nil {
		return nil, err
	}
	in.Barcode, in.ItemBarcode = strings.TrimSpace(in.Barcode), strings.TrimSpace(in.ItemBarcode)
	if in.Barcode == "" {
		return nil, courier.FieldError("barcode", "is required")
	}
	sheetID, err := courier.ParseSheetNumber(in.Barcode)
	if err != nil {
		return nil, err
	}
	if in.ItemBarcode == "" {
		return nil, courier.FieldError("item_barcode", "is required")
	}
	var res ReturnResult
	item, err := s.store.ReturnItem(ctx, sheetID, func(b *courier.SheetBook) (*courier.ReturnChange, error) {
		res = ReturnResult{}
		return s.checkIn(actor, b, in.ItemBarcode, &res)
	})
	if err != nil {
		return nil, notFoundSheet(err, in.Barcode)
	}
	res.Item = *item
	return &res, nil
}

// checkIn finds the piece the scanned code stands for on the locked sheet.
func (s *Service) checkIn(actor courier.Actor, b *courier.SheetBook, code string, res *ReturnResult) (*courier.ReturnChange, error) {
	in := map[[2]int64]int64{} // (order, item index) -> pieces in
	for _, r := range b.Returned {
		in[[2]int64{r.OrderID, int64(r.ItemIndex)}]++
	}
	full := false // the code matched goods that are all in already
	for _, o := range b.Orders {
		if o.Status == courier.StatusReturnedToDepot && matches(o, code) {
			full = true
		}
		partial := o.Status == courier.StatusDelivered && courier.RefusedPieces(o.Report) > 0
		if o.Status != courier.StatusFailedAttempt && o.Status != courier.StatusRefused && !partial {
			continue
		}
		type line struct {
			index int
			qty   int64
		}
		var lines []line
		if len(o.Items) == 0 {
			if o.ExternalID != "" && o.ExternalID == code {
				lines = append(lines, line{-1, 1})
			}
		}
		for i, it := range o.Items {
			if it.Barcode == code || (it.Barcode == "" && it.SKU == code) {
				lines = append(lines, line{i, returnable(o, i)})
			}
		}
		for _, l := range lines {
			got := in[[2]int64{o.ID, int64(l.index)}]
			if got >= l.qty {
				full = true
				continue
			}
			now := s.now()
			ch := &courier.ReturnChange{Item: courier.ReturnedItem{OrderID: o.ID, SheetID: b.Sheet.ID, ItemIndex: l.index,
				Piece: int(got + 1), Barcode: code, ActorID: actor.UserID, TokenID: actor.TokenID, At: now}}
			var piecesIn int64
			for k, n := range in {
				if k[0] == o.ID {
					piecesIn += n
				}
			}
			piecesIn++
			*res = ReturnResult{OrderID: o.ID, OrderStatus: o.Status, PiecesTotal: courier.GoodsPieces(o), PiecesIn: piecesIn}
			if partial {
				// The refused goods of a delivered order: the goods leave
				// the courier's account once the last refused piece is in.
				res.PiecesTotal = courier.RefusedPieces(o.Report)
				if piecesIn >= res.PiecesTotal {
					ch.Events = []courier.OrderEvent{{OrderID: o.ID, Kind: courier.EventStatus, FromStatus: o.Status, ToStatus: o.Status,
						ActorID: actor.UserID, ActorRole: actor.Role, At: now, Reason: "refused goods checked in at the depot",
						Postings: courier.GoodsReturnedPostings(o, res.PiecesTotal, actor, now)}}
					res.OrderComplete = true
				}
				return ch, nil
			}
			if piecesIn >= res.PiecesTotal {
				from := o.Status
				if !from.CanMoveTo(courier.StatusReturnedToDepot) {
					return nil, courier.Errorf(courier.ECONFLICT, "order %d cannot move from %s to returned_to_depot", o.ID, from)
				}
				ev := courier.OrderEvent{OrderID: o.ID, Kind: courier.EventStatus, FromStatus: from, ToStatus: courier.StatusReturnedToDepot,
					ActorID: actor.UserID, ActorRole: actor.Role, At: now, Reason: "goods checked in at the depot",
					Postings: courier.StatusPostings(o, from, courier.StatusReturnedToDepot, actor, now)}
				o.Status = courier.StatusReturnedToDepot
				ch.Events = []courier.OrderEvent{ev}
				res.OrderStatus, res.OrderComplete = o.Status, true
			}
			return ch, nil
		}
	}
	if full {
		return nil, courier.Errorf(courier.ECONFLICT, "every piece with barcode %s on route sheet %s is already checked in", code, b.Sheet.Number)
	}
	return nil, &courier.Error{Code: courier.EINVALID,
		Message: "item_barcode: no goods to return on route sheet " + b.Sheet.Number + " have the barcode " + code,
		Details: map[string]any{"field": "item_barcode"}}
}

// returnable is how many pieces of line i of o come back to the depot: all
// of a failed order, the refused ones of a delivered one.
func returnable(o *courier.Order, i int) int64 {
	if o.Status != courier.StatusDelivered {
		return int64(o.Items[i].Qty)
	}
	var n int64
	for _, r := range o.Report.Refused {
		if r.Item == i {
			n += int64(r.Qty)
		}
	}
	return n
}

// matches reports whether code is the barcode (or SKU) of one of o's items,
// or the external id of an order without items.
func matches(o *courier.Order, code string) bool {
	if len(o.Items) == 0 {
		return o.ExternalID != "" && o.ExternalID == code
	}
	for _, it := range o.Items {
		if it.Barcode == code || (it.Barcode == "" && it.SKU == code) {
			return true
		}
	}
	return false
}
