package api

import (
	"bytes"
	"encoding/csv"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/courierhq/courier"
	"github.com/courierhq/courier/reports"
	"github.com/gin-gonic/gin"
)

// Reports (workload, deliveries with the couriers' pay, on-time), the
// couriers' own workload and pay, pay rules and pay periods. JSON keeps the
// API's units (money in minor units, weights in kg and distances in km with
// at most three decimals, exact: they are whole grams and metres); CSV
// (?format=csv or Accept: text/csv) is for spreadsheets: UTF-8, a header
// row, money in major units with the currency in its own column.

func (s *Server) reportRoutes() []route {
	couriers := []courier.Role{courier.RoleCourier}
	return []route{
		{"GET", "/api/v1/reports/workload", office, s.workloadReport},
		{"GET", "/api/v1/reports/deliveries", staff, s.deliveriesReport},
		{"GET", "/api/v1/reports/on-time", staff, s.onTimeReport},
		{"GET", "/api/v1/courier/workload", couriers, s.courierWorkload},
		{"GET", "/api/v1/courier/pay", couriers, s.courierPay},
		{"GET", "/api/v1/pay-rules", admins, s.listPayRules},
		{"POST", "/api/v1/pay-rules", admins, s.addPayRule},
		{"GET", "/api/v1/pay-periods", admins, s.listPayPeriods},
		{"POST", "/api/v1/pay-periods", admins, s.closePayPeriod},
		{"GET", "/api/v1/tariff", staff, s.getTariff},
		{"PUT", "/api/v1/tariff", admins, s.putTariff},
	}
}

func (s *Server) rep() (*reports.Service, error) {
	if s.reports == nil {
		return nil, courier.Errorf(courier.EUNAVAILABLE, "reports are not configured")
	}
	return s.reports, nil
}

// wantCSV reads ?format= (json or csv) and the Accept header. Returns EINVALID.
func wantCSV(c *gin.Context) (bool, error) {
	switch format := c.Query("format"); format {
	case "csv":
		return true, nil
	case "json":
		return false, nil
	case "":
		return strings.Contains(c.GetHeader("Accept"), "text/csv"), nil
	default:
		return false, courier.FieldError("format", "must be json or csv")
	}
}

// writeCSV answers a CSV table as an attachment.
func writeCSV(c *gin.Context, name string, header []string, rows [][]string) {
	writeCSVFrom(c, name, "", header, rows)
}

// writeReportCSV answers a report as a CSV attachment that opens in a
// spreadsheet: it starts with a UTF-8 byte order mark, without which Excel
// reads the file in the system's code page and garbles the couriers' (often
// Cyrillic) names; LibreOffice and Google Sheets skip it.
func writeReportCSV(c *gin.Context, name string, header []string, rows [][]string) {
	writeCSVFrom(c, name, "\ufeff", header, rows)
}

func writeCSVFrom(c *gin.Context, name, prefix string, header []string, rows [][]string) {
	var buf bytes.Buffer
	buf.WriteString(prefix)
	w := csv.NewWriter(&buf)
	_ = w.Write(header)
	_ = w.WriteAll(rows)
	c.Header("Content-Disposition", `attachment; filename="`+name+`.csv"`)
	c.Data(http.StatusOK, "text/csv; charset=utf-8", buf.Bytes())
}

// reportQuery reads what every report request says: the range (from, to,
// courier_id) and the format; and the reports service.
func (s *Server) reportQuery(c *gin.Context) (*reports.Service, reports.Range, bool, error) {
	r, err := s.rep()
	if err != nil {
		return nil, reports.Range{}, false, err
	}
	id, err := queryInt(c, "courier_id")
	if err != nil {
		return nil, reports.Range{}, false, err
	}
	csvOut, err := wantCSV(c)
	return r, reports.Range{From: c.Query("from"), To: c.Query("to"), CourierID: id}, csvOut, err
}

// milli is a count of thousandths (grams, metres) shown in units (kg, km):
// exact, at most three decimals.
type milli int64

func (m milli) String() string {
	s := strconv.FormatInt(int64(m), 10)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	for len(s) < 4 {
		s = "0" + s
	}
	s = s[:len(s)-3] + "." + s[len(s)-3:]
	s = strings.TrimRight(strings.TrimRight(s, "0"), ".")
	if neg {
		s = "-" + s
	}
	return s
}

func (m milli) MarshalJSON() ([]byte, error) { return []byte(m.String()), nil }

// major is an amount in major units, as a spreadsheet reads it: "1250.50".
// (courier.Money's String without fmt: a delivery report has a million of them.)
func major(amount int64, currency string) string {
	d := courier.MinorDigits(currency)
	s := strconv.FormatInt(amount, 10)
	if d == 0 {
		return s
	}
	sign := ""
	if amount < 0 {
		sign, s = "-", s[1:]
	}
	if len(s) <= d {
		s = strings.Repeat("0", d+1-len(s)) + s
	}
	return sign + s[:len(s)-d] + "." + s[len(s)-d:]
}

// optID is an id that may be absent: null in JSON, empty in CSV.
func optID(id int64) *int64 {
	if id == 0 {
		return nil
	}
	return &id
}

// textCell keeps a spreadsheet from reading text as a formula: a name or an
// external id that starts with =, +, -, @ or a tab gets a leading quote.
func textCell(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}

func idCell(id int64) string {
	if id == 0 {
		return ""
	}
	return itoa(id)
}

func intCell(n int) string { return strconv.Itoa(n) }

// --- workload ---------------------------------------------------------------

type workloadRowJSON struct {
	Date             string `json:"date,omitempty"`
	CourierID        *int64 `json:"courier_id,omitempty"`
	CourierName      string `json:"courier_name,omitempty"`
	Currency         string `json:"currency"`
	Sheets           int    `json:"sheets"`
	StopsPlanned     int    `json:"stops_planned"`
	Delivered        int    `json:"delivered"`
	Partial          int    `json:"partial"`
	Failed           int    `json:"failed"`
	HandedBack       int    `json:"handed_back"`
	PlannedKm        milli  `json:"planned_km"`
	DrivenKm         *milli `json:"driven_km"`
	Shifts           int    `json:"shifts"`
	OpenShifts       int    `json:"open_shifts"`
	ShiftMinutes     int64  `json:"shift_minutes"`
	ScheduledMinutes int64  `json:"scheduled_minutes"`
	CarriedKg        milli  `json:"carried_kg"`
	DeliveredKg      milli  `json:"delivered_kg"`
	CashCollected    int64  `json:"cash_collected"`
	CardCollected    int64  `json:"card_collected"`
	CashHandedIn     int64  `json:"cash_handed_in"`
}

func workloadRowOf(w *reports.WorkloadRow) workloadRowJSON {
	j := workloadRowJSON{Date: w.Date, CourierID: optID(w.CourierID), CourierName: w.CourierName, Currency: w.Currency, Sheets: w.Sheets,
		StopsPlanned: w.StopsPlanned, Delivered: w.Delivered, Partial: w.Partial, Failed: w.Failed, HandedBack: w.HandedBack,
		PlannedKm: milli(w.PlannedM), Shifts: w.Shifts, OpenShifts: w.OpenShifts, ShiftMinutes: w.ShiftMinutes,
		ScheduledMinutes: w.ScheduledMinutes, CarriedKg: milli(w.CarriedG), DeliveredKg: milli(w.DeliveredG),
		CashCollected: w.CashCollected, CardCollected: w.CardCollected, CashHandedIn: w.CashHandedIn}
	if w.DrivenM != nil {
		m := milli(*w.DrivenM)
		j.DrivenKm = &m
	}
	return j
}

var workloadHeader = []string{"row", "date", "courier_id", "courier_name", "sheets", "stops_planned", "delivered", "partial", "failed",
	"handed_back", "planned_km", "driven_km", "shifts", "open_shifts", "shift_minutes", "scheduled_minutes", "carried_kg", "delivered_kg",
	"currency", "cash_collected", "card_collected", "cash_handed_in"}

func workloadCells(kind string, w *reports.WorkloadRow) []string {
	driven := ""
	if w.DrivenM != nil {
		driven = milli(*w.DrivenM).String()
	}
	return []string{kind, w.Date, idCell(w.CourierID), textCell(w.CourierName), intCell(w.Sheets), intCell(w.StopsPlanned), intCell(w.Delivered),
		intCell(w.Partial), intCell(w.Failed), intCell(w.HandedBack), milli(w.PlannedM).String(), driven, intCell(w.Shifts),
		intCell(w.OpenShifts), itoa(w.ShiftMinutes), itoa(w.ScheduledMinutes), milli(w.CarriedG).String(), milli(w.DeliveredG).String(),
		w.Currency, major(w.CashCollected, w.Currency), major(w.CardCollected, w.Currency), major(w.CashHandedIn, w.Currency)}
}

func (s *Server) workloadReport(c *gin.Context) error {
	r, q, csvOut, err := s.reportQuery(c)
	if err != nil {
		return err
	}
	w, err := r.Workload(c.Request.Context(), actorOf(c), q)
	if err != nil {
		return err
	}
	return writeWorkload(c, w, csvOut)
}

func (s *Server) courierWorkload(c *gin.Context) error {
	r, q, csvOut, err := s.reportQuery(c)
	if err != nil {
		return err
	}
	w, err := r.CourierWorkload(c.Request.Context(), actorOf(c), q.From, q.To)
	if err != nil {
		return err
	}
	return writeWorkload(c, w, csvOut)
}

func writeWorkload(c *gin.Context, w *reports.Workload, csvOut bool) error {
	if csvOut {
		rows := make([][]string, 0, len(w.Rows)+len(w.Totals))
		for _, row := range w.Rows {
			rows = append(rows, workloadCells("day", row))
		}
		for _, t := range w.Totals {
			rows = append(rows, workloadCells("total", t))
		}
		writeReportCSV(c, "workload-"+w.Range.From+"-"+w.Range.To, workloadHeader, rows)
		return nil
	}
	out := struct {
		From      string            `json:"from"`
		To        string            `json:"to"`
		CourierID *int64            `json:"courier_id"`
		Rows      []workloadRowJSON `json:"rows"`
		Totals    []workloadRowJSON `json:"totals"`
	}{From: w.Range.From, To: w.Range.To, CourierID: optID(w.Range.CourierID), Rows: []workloadRowJSON{}, Totals: []workloadRowJSON{}}
	for _, row := range w.Rows {
		out.Rows = append(out.Rows, workloadRowOf(row))
	}
	for _, t := range w.Totals {
		out.Totals = append(out.Totals, workloadRowOf(t))
	}
	c.JSON(http.StatusOK, out)
	return nil
}

// --- deliveries and pay -----------------------------------------------------

type payJSON struct {
	Stop    int64 `json:"stop"`
	Kg      int64 `json:"kg"`
	Km      int64 `json:"km"`
	Shift   int64 `json:"shift"`
	Minimum int64 `json:"minimum"`
	Total   int64 `json:"total"`
}

type feePartsJSON struct {
	Base      int64 `json:"base"`
	Weight    int64 `json:"weight"`
	Distance  int64 `json:"distance"`
	Window    int64 `json:"window"`
	FreeAbove int64 `json:"free_above"`
	Other     int64 `json:"other"`
}

// payLineJSON is a line of a courier's own pay: no fee the company charged.
type payLineJSON struct {
	Kind           string                `json:"kind"`
	Date           string                `json:"date"`
	CourierID      int64                 `json:"courier_id"`
	CourierName    string                `json:"courier_name"`
	Currency       string                `json:"currency"`
	OrderID        *int64                `json:"order_id"`
	ExternalID     string                `json:"external_id"`
	SheetID        *int64                `json:"sheet_id"`
	ZoneID         *int64                `json:"zone_id"`
	Attempt        *int64                `json:"attempt"`
	Outcome        string                `json:"outcome"`
	FailReason     string                `json:"fail_reason"`
	WeightKg       milli                 `json:"weight_kg"`
	PaidBy         courier.PaymentMethod `json:"paid_by"`
	AmountDue      int64                 `json:"amount_due"`
	Collected      int64                 `json:"collected"`
	CollectedBy    courier.PaymentMethod `json:"collected_by"`
	DistanceKm     milli                 `json:"distance_km"`
	DistanceSource string                `json:"distance_source"`
	Shifts         int                   `json:"shifts"`
	PayRuleID      *int64                `json:"pay_rule_id"`
	Pay            payJSON               `json:"pay"`
}

// deliveryLineJSON is a line of the company's delivery report: the pay line and the fee.
type deliveryLineJSON struct {
	payLineJSON
	Fee           int64        `json:"fee"`
	FeeParts      feePartsJSON `json:"fee_parts"`
	TariffVersion *int64       `json:"tariff_version"`
	FeeRule       string       `json:"fee_rule"`
}

type payTotalJSON struct {
	CourierID     *int64  `json:"courier_id,omitempty"`
	CourierName   string  `json:"courier_name,omitempty"`
	Currency      string  `json:"currency"`
	Stops         int     `json:"stops"`
	Delivered     int     `json:"delivered"`
	Failed        int     `json:"failed"`
	AmountDue     int64   `json:"amount_due"`
	CashCollected int64   `json:"cash_collected"`
	CardCollected int64   `json:"card_collected"`
	DistanceKm    milli   `json:"distance_km"`
	Shifts        int     `json:"shifts"`
	Pay           payJSON `json:"pay"`
}

type deliveryTotalJSON struct {
	payTotalJSON
	Fees     int64        `json:"fees"`
	FeeParts feePartsJSON `json:"fee_parts"`
}

func payLineOf(l *reports.DeliveryLine) payLineJSON {
	j := payLineJSON{Kind: l.Kind, Date: l.Date, CourierID: l.CourierID, CourierName: l.CourierName, Currency: l.Currency,
		OrderID: optID(l.OrderID), ExternalID: l.ExternalID, SheetID: optID(l.SheetID), ZoneID: optID(l.ZoneID), Attempt: optID(int64(l.Attempt)),
		Outcome: l.Outcome, FailReason: l.FailReason, WeightKg: milli(l.WeightG), PaidBy: l.PaidBy, AmountDue: l.AmountDue, Collected: l.Collected,
		CollectedBy: l.CollectedBy, DistanceKm: milli(l.DistanceM), DistanceSource: l.DistanceSource, Shifts: l.Shifts,
		PayRuleID: optID(l.PayRuleID), Pay: payJSON(l.Pay)}
	return j
}

func payTotalOf(t *reports.DeliveryTotal) payTotalJSON {
	return payTotalJSON{CourierID: optID(t.CourierID), CourierName: t.CourierName, Currency: t.Currency, Stops: t.Stops, Delivered: t.Delivered,
		Failed: t.Failed, AmountDue: t.AmountDue, CashCollected: t.CashCollected, CardCollected: t.CardCollected,
		DistanceKm: milli(t.DistanceM), Shifts: t.Shifts, Pay: payJSON(t.Pay)}
}

// payHeader are the columns of a courier's own pay; deliveryHeader adds the fees.
var (
	payHeader = []string{"line", "date", "courier_id", "courier_name", "order_id", "external_id", "sheet_id", "zone_id", "attempt", "outcome",
		"fail_reason", "weight_kg", "paid_by", "currency", "amount_due", "collected", "collected_by", "distance_km", "distance_source", "shifts",
		"pay_rule_id", "pay_stop", "pay_kg", "pay_km", "pay_shift", "pay_minimum", "pay_total"}
	feeHeader = []string{"fee", "fee_base", "fee_weight", "fee_distance", "fee_window", "fee_free_above", "fee_other", "tariff_version", "fee_rule"}
)

func payCells(l *reports.DeliveryLine) []string {
	cur := l.Currency
	p := l.Pay
	return []string{l.Kind, l.Date, idCell(l.CourierID), textCell(l.CourierName), idCell(l.OrderID), textCell(l.ExternalID), idCell(l.SheetID), idCell(l.ZoneID),
		idCell(int64(l.Attempt)), l.Outcome, textCell(l.FailReason), milli(l.WeightG).String(), string(l.PaidBy), cur, major(l.AmountDue, cur),
		major(l.Collected, cur), string(l.CollectedBy), milli(l.DistanceM).String(), l.DistanceSource, intCell(l.Shifts), idCell(l.PayRuleID),
		major(p.Stop, cur), major(p.Kg, cur), major(p.Km, cur), major(p.Shift, cur), major(p.Minimum, cur), major(p.Total, cur)}
}

func feeCells(fee int64, parts reports.FeeParts, version *int64, rule, cur string) []string {
	v := ""
	if version != nil {
		v = itoa(*version)
	}
	return []string{major(fee, cur), major(parts.Base, cur), major(parts.Weight, cur), major(parts.Distance, cur), major(parts.Window, cur),
		major(parts.FreeAbove, cur), major(parts.Other, cur), v, rule}
}

// totalLine renders a total as a line of the CSV table: line is
// courier_total or total, and the columns of a stop are empty.
func totalCells(line string, t *reports.DeliveryTotal) []string {
	cur := t.Currency
	p := t.Pay
	return []string{line, "", idCell(t.CourierID), textCell(t.CourierName), "", "", "", "", "", "", "", "", "", cur, major(t.AmountDue, cur),
		major(t.CashCollected+t.CardCollected, cur), "", milli(t.DistanceM).String(), "", intCell(t.Shifts), "",
		major(p.Stop, cur), major(p.Kg, cur), major(p.Km, cur), major(p.Shift, cur), major(p.Minimum, cur), major(p.Total, cur)}
}

func (s *Server) deliveriesReport(c *gin.Context) error {
	r, q, csvOut, err := s.reportQuery(c)
	if err != nil {
		return err
	}
	d, err := r.Deliveries(c.Request.Context(), actorOf(c), q)
	if err != nil {
		return err
	}
	writeDeliveries(c, d, csvOut)
	return nil
}

// writeDeliveries answers the delivery report in JSON or CSV.
func writeDeliveries(c *gin.Context, d *reports.Deliveries, csvOut bool) {
	if csvOut {
		rows := make([][]string, 0, len(d.Lines)+len(d.Couriers)+len(d.Totals))
		for _, l := range d.Lines {
			rows = append(rows, append(payCells(l), feeCells(l.Fee, l.FeeParts, l.TariffVersion, l.FeeRule, l.Currency)...))
		}
		for _, group := range []struct {
			line   string
			totals []*reports.DeliveryTotal
		}{{"courier_total", d.Couriers}, {"total", d.Totals}} {
			for _, t := range group.totals {
				rows = append(rows, append(totalCells(group.line, t), feeCells(t.Fees, t.FeeParts, nil, "", t.Currency)...))
			}
		}
		writeReportCSV(c, "deliveries-"+d.Range.From+"-"+d.Range.To, append(append([]string{}, payHeader...), feeHeader...), rows)
		return
	}
	out := struct {
		From      string              `json:"from"`
		To        string              `json:"to"`
		CourierID *int64              `json:"courier_id"`
		Lines     []deliveryLineJSON  `json:"lines"`
		Couriers  []deliveryTotalJSON `json:"couriers"`
		Totals    []deliveryTotalJSON `json:"totals"`
	}{From: d.Range.From, To: d.Range.To, CourierID: optID(d.Range.CourierID), Lines: []deliveryLineJSON{}, Couriers: []deliveryTotalJSON{},
		Totals: []deliveryTotalJSON{}}
	for _, l := range d.Lines {
		out.Lines = append(out.Lines, deliveryLineJSON{payLineJSON: payLineOf(l), Fee: l.Fee, FeeParts: feePartsJSON(l.FeeParts),
			TariffVersion: l.TariffVersion, FeeRule: l.FeeRule})
	}
	for _, t := range d.Couriers {
		out.Couriers = append(out.Couriers, deliveryTotalJSON{payTotalJSON: payTotalOf(t), Fees: t.Fees, FeeParts: feePartsJSON(t.FeeParts)})
	}
	for _, t := range d.Totals {
		out.Totals = append(out.Totals, deliveryTotalJSON{payTotalJSON: payTotalOf(t), Fees: t.Fees, FeeParts: feePartsJSON(t.FeeParts)})
	}
	c.JSON(http.StatusOK, out)
}

// courierPay answers the courier's own pay: the delivery report's pay
// columns of their lines, never the fees the company charged.
func (s *Server) courierPay(c *gin.Context) error {
	r, q, csvOut, err := s.reportQuery(c)
	if err != nil {
		return err
	}
	d, err := r.CourierPay(c.Request.Context(), actorOf(c), q.From, q.To)
	if err != nil {
		return err
	}
	if csvOut {
		rows := make([][]string, 0, len(d.Lines)+len(d.Totals))
		for _, l := range d.Lines {
			rows = append(rows, payCells(l))
		}
		for _, t := range d.Totals {
			rows = append(rows, totalCells("total", t))
		}
		writeReportCSV(c, "pay-"+d.Range.From+"-"+d.Range.To, payHeader, rows)
		return nil
	}
	out := struct {
		From      string         `json:"from"`
		To        string         `json:"to"`
		CourierID int64          `json:"courier_id"`
		Lines     []payLineJSON  `json:"lines"`
		Totals    []payTotalJSON `json:"totals"`
	}{From: d.Range.From, To: d.Range.To, CourierID: d.Range.CourierID, Lines: []payLineJSON{}, Totals: []payTotalJSON{}}
	for _, l := range d.Lines {
		out.Lines = append(out.Lines, payLineOf(l))
	}
	for _, t := range d.Totals {
		out.Totals = append(out.Totals, payTotalOf(t))
	}
	c.JSON(http.StatusOK, out)
	return nil
}

// --- on-time ----------------------------------------------------------------

type onTimeRowJSON struct {
	Key              string         `json:"key,omitempty"`
	Name             string         `json:"name,omitempty"`
	Attempts         int            `json:"attempts"`
	Delivered        int            `json:"delivered"`
	Failed           int            `json:"failed"`
	WithWindow       int            `json:"with_window"`
	OnTime           int            `json:"on_time"`
	Early            int            `json:"early"`
	EarlyMinutes     int64          `json:"early_minutes"`
	Late             int            `json:"late"`
	LateMinutes      int64          `json:"late_minutes"`
	MaxLateMinutes   int64          `json:"max_late_minutes"`
	OnTimeRate       float64        `json:"on_time_rate"`
	FirstAttempts    int            `json:"first_attempts"`
	FirstDelivered   int            `json:"first_delivered"`
	FirstAttemptRate float64        `json:"first_attempt_rate"`
	Reasons          map[string]int `json:"reasons"`
}

func onTimeRowOf(r *reports.OnTimeRow) onTimeRowJSON {
	return onTimeRowJSON{Key: r.Key, Name: r.Name, Attempts: r.Attempts, Delivered: r.Delivered, Failed: r.Failed, WithWindow: r.WithWindow,
		OnTime: r.OnTime, Early: r.Early, EarlyMinutes: r.EarlyMinutes, Late: r.Late, LateMinutes: r.LateMinutes, MaxLateMinutes: r.MaxLateMinutes,
		OnTimeRate: r.OnTimeRate(), FirstAttempts: r.FirstAttempts, FirstDelivered: r.FirstDelivered, FirstAttemptRate: r.FirstAttemptRate(),
		Reasons: r.Reasons}
}

func onTimeCells(r *reports.OnTimeRow) []string {
	rate := func(f float64) string { return strconv.FormatFloat(f, 'f', -1, 64) }
	cells := []string{r.Group, r.Key, textCell(r.Name), intCell(r.Attempts), intCell(r.Delivered), intCell(r.Failed), intCell(r.WithWindow),
		intCell(r.OnTime), intCell(r.Early), itoa(r.EarlyMinutes), intCell(r.Late), itoa(r.LateMinutes), itoa(r.MaxLateMinutes),
		rate(r.OnTimeRate()), intCell(r.FirstAttempts), intCell(r.FirstDelivered), rate(r.FirstAttemptRate())}
	other := 0
	for reason, n := range r.Reasons {
		if !slices.Contains(reports.FailReasons(), reason) {
			other += n
		}
	}
	for _, reason := range reports.FailReasons() {
		cells = append(cells, intCell(r.Reasons[reason]))
	}
	return append(cells, intCell(other))
}

func onTimeHeader() []string {
	h := []string{"group", "key", "name", "attempts", "delivered", "failed", "with_window", "on_time", "early", "early_minutes", "late",
		"late_minutes", "max_late_minutes", "on_time_rate", "first_attempts", "first_delivered", "first_attempt_rate"}
	for _, reason := range reports.FailReasons() {
		h = append(h, "failed_"+reason)
	}
	return append(h, "failed_other")
}

func (s *Server) onTimeReport(c *gin.Context) error {
	r, q, csvOut, err := s.reportQuery(c)
	if err != nil {
		return err
	}
	o, err := r.OnTime(c.Request.Context(), actorOf(c), q)
	if err != nil {
		return err
	}
	groups := [][]*reports.OnTimeRow{o.Couriers, o.Zones, o.Days, {o.Total}}
	if csvOut {
		var rows [][]string
		for _, g := range groups {
			for _, row := range g {
				rows = append(rows, onTimeCells(row))
			}
		}
		writeReportCSV(c, "on-time-"+o.Range.From+"-"+o.Range.To, onTimeHeader(), rows)
		return nil
	}
	lists := make([][]onTimeRowJSON, len(groups))
	for i, g := range groups {
		lists[i] = []onTimeRowJSON{}
		for _, row := range g {
			lists[i] = append(lists[i], onTimeRowOf(row))
		}
	}
	c.JSON(http.StatusOK, gin.H{"from": o.Range.From, "to": o.Range.To, "courier_id": optID(o.Range.CourierID),
		"couriers": lists[0], "zones": lists[1], "days": lists[2], "total": lists[3][0]})
	return nil
}
