package api

import (
	"bytes"
	"encoding/json"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/courierhq/courier"
	"github.com/courierhq/courier/dispatch"
	"github.com/gin-gonic/gin"
)

// orderIn is an order as a client sends it (create, update, import row).
// time_window and delivery_fee may be null on update: null clears the window
// and returns the fee to the tariff.
type orderIn struct {
	ExternalID     *string                  `json:"external_id"`
	Customer       *customerJSON            `json:"customer"`
	Address        *string                  `json:"address"`
	AddressDetails *addressDetailsJSON      `json:"address_details"`
	Location       *latLngIn                `json:"location"`
	DeliveryDate   *string                  `json:"delivery_date"`
	TimeWindow     optional[timeWindowJSON] `json:"time_window"`
	ServiceMinutes *int                     `json:"service_minutes"`
	WeightKg       *float64                 `json:"weight_kg"`
	VolumeL        *float64                 `json:"volume_l"`
	Items          *[]itemJSON              `json:"items"`
	COD            *codIn                   `json:"cod"`
	DeliveryFee    optional[int64]          `json:"delivery_fee"`
	Notes          *string                  `json:"notes"`
	DepotID        *int64                   `json:"depot_id"`
	Version        *int64                   `json:"version"`
}

type codIn struct {
	Amount   *int64                 `json:"amount"`
	Currency *string                `json:"currency"`
	Method   *courier.PaymentMethod `json:"method"`
}

func (in *orderIn) domain(currency string) (dispatch.OrderInput, error) {
	out := dispatch.OrderInput{ExternalID: in.ExternalID, Address: in.Address, DeliveryDate: in.DeliveryDate,
		ServiceMinutes: in.ServiceMinutes, WeightKg: in.WeightKg, VolumeL: in.VolumeL, Notes: in.Notes,
		DepotID: in.DepotID, Version: in.Version}
	if in.Customer != nil {
		c := courier.Customer(*in.Customer)
		out.Customer = &c
	}
	if in.AddressDetails != nil {
		d := courier.AddressDetails(*in.AddressDetails)
		out.AddressDetails = &d
	}
	loc, err := in.Location.domain("location")
	if err != nil {
		return out, err
	}
	out.Location = loc
	if in.TimeWindow.Null {
		out.ClearTimeWindow = true
	} else if in.TimeWindow.Set {
		tw := in.TimeWindow.V
		if tw.From.IsZero() {
			return out, courier.FieldError("time_window.from", "is required")
		}
		if tw.To.IsZero() {
			return out, courier.FieldError("time_window.to", "is required")
		}
		out.TimeWindow = &courier.TimeWindow{From: tw.From, To: tw.To}
	}
	if in.Items != nil {
		items := make([]courier.Item, len(*in.Items))
		for i, it := range *in.Items {
			items[i] = courier.Item(it)
		}
		out.Items = &items
	}
	if in.COD != nil {
		cod := courier.COD{Currency: currency, Method: courier.PayCash}
		if in.COD.Amount == nil {
			return out, courier.FieldError("cod.amount", "is required")
		}
		cod.Amount = *in.COD.Amount
		if in.COD.Currency != nil {
			cod.Currency = *in.COD.Currency
		}
		if in.COD.Method != nil {
			cod.Method = *in.COD.Method
		}
		out.COD = &cod
	}
	if in.DeliveryFee.Null {
		back := int64(-1)
		out.DeliveryFee = &back
	} else if in.DeliveryFee.Set {
		if in.DeliveryFee.V < 0 {
			return out, courier.FieldError("delivery_fee", "must not be negative")
		}
		out.DeliveryFee = &in.DeliveryFee.V
	}
	return out, nil
}

func (s *Server) createOrder(c *gin.Context) error {
	var in orderIn
	if err := decode(c, &in); err != nil {
		return err
	}
	if in.TimeWindow.Null || in.DeliveryFee.Null {
		return courier.FieldError("time_window", "null is only for updates; leave the field out")
	}
	din, err := in.domain(s.dispatch.Config().Currency)
	if err != nil {
		return err
	}
	o, err := s.dispatch.CreateOrder(c.Request.Context(), actorOf(c), din)
	if err != nil {
		return err
	}
	c.Header("Location", "/api/v1/orders/"+itoa(o.ID))
	c.JSON(http.StatusCreated, toOrder(o))
	return nil
}

func (s *Server) getOrder(c *gin.Context) error {
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	o, err := s.dispatch.Order(c.Request.Context(), actorOf(c), id)
	if err != nil {
		return err
	}
	c.JSON(http.StatusOK, toOrder(o))
	return nil
}

func (s *Server) listOrders(c *gin.Context) error {
	f := courier.OrderFilter{Status: courier.OrderStatus(c.Query("status")), Date: c.Query("date"), Search: strings.TrimSpace(c.Query("q"))}
	var err error
	for _, q := range []struct {
		name string
		dst  *int64
	}{{"zone_id", &f.ZoneID}, {"courier_id", &f.CourierID}, {"depot_id", &f.DepotID}} {
		if *q.dst, err = queryInt(c, q.name); err != nil {
			return err
		}
	}
	limit, err := queryInt(c, "limit")
	if err != nil {
		return err
	}
	f.Limit = int(limit)
	if cur := c.Query("cursor"); cur != "" {
		if f.After, err = strconv.ParseInt(cur, 10, 64); err != nil || f.After < 0 {
			return courier.FieldError("cursor", "is not a cursor from this API")
		}
	}
	os, err := s.dispatch.ListOrders(c.Request.Context(), actorOf(c), f)
	if err != nil {
		return err
	}
	p := page[orderJSON]{Items: make([]orderJSON, len(os))}
	for i, o := range os {
		p.Items[i] = toOrder(o)
	}
	if f.Limit == 0 {
		f.Limit = 50
	}
	if len(os) == f.Limit {
		next := itoa(os[len(os)-1].ID)
		p.NextCursor = &next
	}
	c.JSON(http.StatusOK, p)
	return nil
}

func (s *Server) updateOrder(c *gin.Context) error {
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	var in orderIn
	if err := decode(c, &in); err != nil {
		return err
	}
	din, err := in.domain(s.dispatch.Config().Currency)
	if err != nil {
		return err
	}
	o, err := s.dispatch.UpdateOrder(c.Request.Context(), actorOf(c), id, din)
	if err != nil {
		return err
	}
	c.JSON(http.StatusOK, toOrder(o))
	return nil
}

type statusIn struct {
	Status     courier.OrderStatus   `json:"status"`
	Reason     string                `json:"reason"`
	Comment    string                `json:"comment"`
	At         *time.Time            `json:"at"`
	PaidBy     courier.PaymentMethod `json:"paid_by"`
	PaymentRef string                `json:"payment_ref"`
}

func (s *Server) changeOrderStatus(c *gin.Context) error {
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	var in statusIn
	if err := decode(c, &in); err != nil {
		return err
	}
	if in.Status == "" {
		return courier.FieldError("status", "is required")
	}
	ch := dispatch.StatusChange{To: in.Status, Reason: in.Reason, Comment: in.Comment, PaidBy: in.PaidBy, PaymentRef: in.PaymentRef}
	if in.At != nil {
		ch.At = *in.At
	}
	o, err := s.dispatch.ChangeStatus(c.Request.Context(), actorOf(c), id, ch)
	if err != nil {
		return err
	}
	c.JSON(http.StatusOK, toOrder(o))
	return nil
}

func (s *Server) orderHistory(c *gin.Context) error {
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	evs, err := s.dispatch.OrderHistory(c.Request.Context(), actorOf(c), id)
	if err != nil {
		return err
	}
	out := make([]orderEventJSON, len(evs))
	for i, e := range evs {
		out[i] = toOrderEvent(e)
	}
	c.JSON(http.StatusOK, gin.H{"items": out})
	return nil
}

type importRowJSON struct {
	Row        int        `json:"row"`
	ExternalID string     `json:"external_id"`
	OrderID    *int64     `json:"order_id"`
	Outcome    string     `json:"outcome"`
	Error      *errorJSON `json:"error"`
}

type importJSON struct {
	Created  int             `json:"created"`
	Existing int             `json:"existing"`
	Failed   int             `json:"failed"`
	Rows     []importRowJSON `json:"rows"`
}

// importOrders takes text/csv (a header row, see dispatch.CSVColumns) or
// application/json ({"orders": [order, ...]}); each row is reported.
func (s *Server) importOrders(c *gin.Context) error {
	body, err := readBody(c, maxImportBody)
	if err != nil {
		return err
	}
	mt, _, _ := mime.ParseMediaType(c.GetHeader("Content-Type"))
	var rows []dispatch.ImportRow
	switch mt {
	case "text/csv":
		if rows, err = s.dispatch.ParseOrdersCSV(bytes.NewReader(body)); err != nil {
			return err
		}
	case "application/json":
		if rows, err = s.jsonImportRows(body); err != nil {
			return err
		}
	default:
		return courier.FieldError("Content-Type", "must be text/csv or application/json")
	}
	res, err := s.dispatch.ImportOrders(c.Request.Context(), actorOf(c), rows)
	if err != nil {
		return err
	}
	out := importJSON{Rows: make([]importRowJSON, len(res))}
	for i, r := range res {
		row := importRowJSON{Row: r.Row, ExternalID: r.ExternalID, OrderID: nullID(r.OrderID), Outcome: r.Outcome}
		switch r.Outcome {
		case dispatch.ImportCreated:
			out.Created++
		case dispatch.ImportExisting:
			out.Existing++
		default:
			out.Failed++
			d := courier.ErrorDetails(r.Err)
			if d == nil {
				d = map[string]any{}
			}
			row.Error = &errorJSON{Code: courier.ErrorCode(r.Err), Message: courier.ErrorMessage(r.Err), Details: d}
		}
		out.Rows[i] = row
	}
	c.JSON(http.StatusOK, out)
	return nil
}

// jsonImportRows reads {"orders": [...]}; a row that does not decode is reported, not fatal.
func (s *Server) jsonImportRows(body []byte) ([]dispatch.ImportRow, error) {
	var env struct {
		Orders []json.RawMessage `json:"orders"`
	}
	if err := decodeJSON(body, &env); err != nil {
		return nil, err
	}
	if env.Orders == nil {
		return nil, courier.FieldError("orders", "is required")
	}
	rows := make([]dispatch.ImportRow, len(env.Orders))
	for i, raw := range env.Orders {
		rows[i].Row = i + 1
		var in orderIn
		if err := decodeJSON(raw, &in); err != nil {
			rows[i].Err = err
			continue
		}
		rows[i].Input, rows[i].Err = in.domain(s.dispatch.Config().Currency)
	}
	return rows, nil
}
