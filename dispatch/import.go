package dispatch

import (
	"context"
	"encoding/csv"
	"errors"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/courierhq/courier"
)

// ImportRow is one order of an import, with where it came from (a CSV line or
// a JSON array index) and the error met while reading it, if any.
type ImportRow struct {
	Row   int
	Input OrderInput
	Err   error
}

// ImportResult says what happened to one row: created, existing (an order with
// that external id is already there, left unchanged) or error.
type ImportResult struct {
	Row        int
	ExternalID string
	OrderID    int64
	Outcome    string
	Err        error
}

// Import outcomes.
const (
	ImportCreated  = "created"
	ImportExisting = "existing"
	ImportError    = "error"
)

// MaxImportRows bounds one import request.
const MaxImportRows = 5000

// ImportOrders creates the valid rows and reports every row. It is idempotent
// by external_id: a row whose external id exists is reported existing and not
// created again, so a retried import never duplicates. Staff only.
// Returns EFORBIDDEN, or EINVALID when there are too many rows.
func (s *Service) ImportOrders(ctx context.Context, actor courier.Actor, rows []ImportRow) ([]ImportResult, error) {
	if err := actor.Require(staff...); err != nil {
		return nil, err
	}
	if len(rows) > MaxImportRows {
		return nil, courier.FieldError("orders", "at most %d rows per import", MaxImportRows)
	}
	out := make([]ImportResult, 0, len(rows))
	for _, r := range rows {
		res := ImportResult{Row: r.Row, Err: r.Err, Outcome: ImportError}
		if r.Input.ExternalID != nil {
			res.ExternalID = strings.TrimSpace(*r.Input.ExternalID)
		}
		if res.Err == nil && res.ExternalID == "" {
			res.Err = courier.FieldError("external_id", "is required in an import")
		}
		if res.Err == nil {
			res.OrderID, res.Outcome, res.Err = s.importOne(ctx, actor, res.ExternalID, r.Input)
		}
		if res.Err != nil && courier.ErrorCode(res.Err) == courier.EINTERNAL {
			return nil, res.Err
		}
		out = append(out, res)
	}
	return out, nil
}

func (s *Service) importOne(ctx context.Context, actor courier.Actor, extID string, in OrderInput) (int64, string, error) {
	if o, err := s.store.OrderByExternalID(ctx, extID); err == nil {
		return o.ID, ImportExisting, nil
	} else if courier.ErrorCode(err) != courier.ENOTFOUND {
		return 0, ImportError, err
	}
	o, err := s.CreateOrder(ctx, actor, in)
	if courier.ErrorCode(err) == courier.ECONFLICT {
		// Another import created it meanwhile.
		if o, err := s.store.OrderByExternalID(ctx, extID); err == nil {
			return o.ID, ImportExisting, nil
		}
	}
	if err != nil {
		return 0, ImportError, err
	}
	return o.ID, ImportCreated, nil
}

// CSVColumns are the columns an order CSV may have (a header row names them,
// in any order; unknown columns are an error). Items are "sku|name|qty|barcode"
// separated by ";". Times are RFC 3339, or "YYYY-MM-DD HH:MM" in the company time zone.
var CSVColumns = []string{"external_id", "customer_name", "customer_phone", "customer_email", "address", "lat", "lng",
	"delivery_date", "window_from", "window_to", "service_minutes", "weight_kg", "volume_l",
	"cod_amount", "cod_currency", "cod_method", "delivery_fee", "notes", "items", "depot_id"}

// ParseOrdersCSV reads an order CSV into rows. A row with the wrong number
// of fields gets its error, naming the line; the header must be readable.
// Returns EINVALID for a bad header, or for a line that breaks the CSV (an
// unterminated or stray quote): then nothing is imported.
func (s *Service) ParseOrdersCSV(r io.Reader) ([]ImportRow, error) {
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = -1
	cr.TrimLeadingSpace = true
	header, err := cr.Read()
	if err != nil {
		if errors.Is(err, io.EOF) {
			return nil, courier.FieldError("csv", "the CSV is empty; the first line names the columns")
		}
		return nil, courier.FieldError("csv", "cannot read the header line: %s", csvProblem(err))
	}
	col := map[string]int{}
	for i, h := range header {
		h = strings.ToLower(strings.TrimSpace(strings.TrimPrefix(h, "\ufeff")))
		if !slices.Contains(CSVColumns, h) {
			return nil, courier.FieldError("csv", "line 1: unknown column %q (known: %s)", h, strings.Join(CSVColumns, ", "))
		}
		if _, dup := col[h]; dup {
			return nil, courier.FieldError("csv", "line 1: column %q appears twice", h)
		}
		col[h] = i
	}
	var rows []ImportRow
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil { // before FieldPos: after an error it has no fields and panics
			var pe *csv.ParseError
			if errors.As(err, &pe) && pe.Err == csv.ErrFieldCount {
				rows = append(rows, ImportRow{Row: pe.Line, Err: courier.FieldError("csv", "line %d: %s", pe.Line, csvProblem(pe.Err))})
				continue
			}
			if errors.As(err, &pe) {
				// The file is broken from here on: refuse it whole rather than
				// import the lines before and drop the rest.
				return nil, courier.FieldError("csv", "line %d: %s; nothing was imported", pe.Line, csvProblem(pe.Err))
			}
			return nil, courier.FieldError("csv", "cannot read the CSV")
		}
		if len(rows) >= MaxImportRows {
			return nil, courier.FieldError("csv", "at most %d rows per import", MaxImportRows)
		}
		line, _ := cr.FieldPos(0)
		in, err := s.csvRow(rec, col)
		if err != nil {
			field, _ := courier.ErrorDetails(err)["field"].(string)
			err = courier.FieldError(field, "line %d: %s", line, courier.ErrorMessage(err))
		}
		rows = append(rows, ImportRow{Row: line, Input: in, Err: err})
	}
	return rows, nil
}

// csvRow turns one record into an OrderInput; errors are EINVALID with the column as field.
func (s *Service) csvRow(rec []string, col map[string]int) (OrderInput, error) {
	get := func(name string) string {
		if i, ok := col[name]; ok && i < len(rec) {
			return strings.TrimSpace(rec[i])
		}
		return ""
	}
	var in OrderInput
	var err error
	str := func(name string) *string {
		v := get(name)
		if v == "" {
			return nil
		}
		return &v
	}
	num := func(name string) *float64 {
		v := get(name)
		if v == "" || err != nil {
			return nil
		}
		f, e := strconv.ParseFloat(v, 64)
		if e != nil {
			err = courier.FieldError(name, "%q is not a number", v)
			return nil
		}
		return &f
	}
	integer := func(name string) *int64 {
		v := get(name)
		if v == "" || err != nil {
			return nil
		}
		n, e := strconv.ParseInt(v, 10, 64)
		if e != nil {
			err = courier.FieldError(name, "%q is not a whole number (money is in minor units)", v)
			return nil
		}
		return &n
	}
	when := func(name string) time.Time {
		v := get(name)
		if v == "" || err != nil {
			return time.Time{}
		}
		if t, e := time.Parse(time.RFC3339, v); e == nil {
			return t
		}
		t, e := time.ParseInLocation("2006-01-02 15:04", v, s.cfg.Location)
		if e != nil {
			err = courier.FieldError(name, "%q is not a time (RFC 3339 or YYYY-MM-DD HH:MM)", v)
		}
		return t
	}
	in.ExternalID = str("external_id")
	if n, p, e := get("customer_name"), get("customer_phone"), get("customer_email"); n != "" || p != "" || e != "" {
		in.Customer = &courier.Customer{Name: n, Phone: p, Email: e}
	}
	in.Address = str("address")
	lat, lng := num("lat"), num("lng")
	if lat != nil && lng != nil {
		in.Location = &courier.LatLng{Lat: *lat, Lng: *lng}
	} else if (lat == nil) != (lng == nil) && err == nil {
		err = courier.FieldError("lat", "lat and lng go together")
	}
	in.DeliveryDate = str("delivery_date")
	from, to := when("window_from"), when("window_to")
	if !from.IsZero() || !to.IsZero() {
		in.TimeWindow = &courier.TimeWindow{From: from, To: to}
	}
	if v := integer("service_minutes"); v != nil {
		m := int(*v)
		in.ServiceMinutes = &m
	}
	in.WeightKg, in.VolumeL = num("weight_kg"), num("volume_l")
	if a, c, m := get("cod_amount"), get("cod_currency"), get("cod_method"); a != "" || c != "" || m != "" {
		cod := courier.COD{Currency: s.cfg.Currency, Method: courier.PaymentMethod(m)}
		if c != "" {
			cod.Currency = strings.ToUpper(c)
		}
		if v := integer("cod_amount"); v != nil {
			cod.Amount = *v
		}
		if m == "" {
			cod.Method = courier.PayCash
			if cod.Amount == 0 {
				cod.Method = courier.PayPrepaid
			}
		}
		in.COD = &cod
	}
	in.DeliveryFee = integer("delivery_fee")
	in.Notes = str("notes")
	if v := get("items"); v != "" {
		items, e := parseItems(v)
		if e != nil && err == nil {
			err = e
		}
		in.Items = &items
	}
	in.DepotID = integer("depot_id")
	return in, err
}

func parseItems(v string) ([]courier.Item, error) {
	var items []courier.Item
	for _, part := range strings.Split(v, ";") {
		if strings.TrimSpace(part) == "" {
			continue
		}
		f := strings.Split(part, "|")
		if len(f) < 3 || len(f) > 4 {
			return nil, courier.FieldError("items", "%q: an item is sku|name|qty|barcode", part)
		}
		qty, err := strconv.Atoi(strings.TrimSpace(f[2]))
		if err != nil {
			return nil, courier.FieldError("items", "%q: qty must be a whole number", part)
		}
		it := courier.Item{SKU: strings.TrimSpace(f[0]), Name: strings.TrimSpace(f[1]), Qty: qty}
		if len(f) == 4 {
			it.Barcode = strings.TrimSpace(f[3])
		}
		items = append(items, it)
	}
	return items, nil
}

// csvProblem says what is wrong with a CSV line in words (encoding/csv's
// errors name Go's parser state).
func csvProblem(err error) string {
	switch {
	case errors.Is(err, csv.ErrQuote):
		return "a quoted field is not closed, or has a stray quote inside (write a quote inside a quoted field as two)"
	case errors.Is(err, csv.ErrBareQuote):
		return "a quote inside a field that is not quoted (quote the field and write the quote as two)"
	case errors.Is(err, csv.ErrFieldCount):
		return "the number of fields differs from the header line"
	}
	return "the line cannot be read as CSV"
}
