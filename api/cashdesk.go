package api

import (
	"bytes"
	"net/http"
	"strconv"
	"time"

	"github.com/courierhq/courier"
	"github.com/courierhq/courier/cashdesk"
	"github.com/gin-gonic/gin"
)

// The cash desk: route sheet scan, settlement, returned goods, shifts,
// balances and the daily reconciliation. Amounts are integer minor units.

// cashDesk are the roles that take money and goods in.
var cashDesk = []courier.Role{courier.RoleAdmin, courier.RoleCashier}

// selfIdempotent are the routes that keep their Idempotency-Key in their own
// transaction: the generic middleware leaves them alone, so that a crash
// between the commit and the stored answer cannot leave the key "in progress".
var selfIdempotent = map[string]bool{"/api/v1/cashdesk/settlements": true, "/api/v1/cashdesk/couriers/:id/resolutions": true}

func (s *Server) cashdeskRoutes() []route {
	return []route{
		{"GET", "/api/v1/cashdesk/sheets/:barcode", office, s.scanSheet},
		{"POST", "/api/v1/cashdesk/settlements", cashDesk, s.settle},
		{"POST", "/api/v1/cashdesk/returns", cashDesk, s.checkInReturn},
		{"GET", "/api/v1/cashdesk/couriers/:id/balance", everyone, s.courierBalance},
		{"POST", "/api/v1/cashdesk/couriers/:id/resolutions", cashDesk, s.resolveDiscrepancy},
		{"GET", "/api/v1/cashdesk/debtors", office, s.debtors},
		{"POST", "/api/v1/cashdesk/shifts", cashDesk, s.openShift},
		{"GET", "/api/v1/cashdesk/shifts/current", cashDesk, s.currentShift},
		{"GET", "/api/v1/cashdesk/shifts/:id", office, s.getShift},
		{"POST", "/api/v1/cashdesk/shifts/:id/close", cashDesk, s.closeShift},
		{"GET", "/api/v1/cashdesk/reconciliation", office, s.reconciliation},
	}
}

// desk returns the cash desk service, or EUNAVAILABLE when it is not wired.
func (s *Server) desk() (*cashdesk.Service, error) {
	if s.cashdesk == nil {
		return nil, courier.Errorf(courier.EUNAVAILABLE, "the cash desk is not configured")
	}
	return s.cashdesk, nil
}

// moneyIn is money as sent: both fields required.
type moneyIn struct {
	Amount   *int64  `json:"amount"`
	Currency *string `json:"currency"`
}

func (m *moneyIn) domain(field string) (courier.Money, error) {
	if m == nil {
		return courier.Money{}, courier.FieldError(field, "is required")
	}
	if m.Amount == nil {
		return courier.Money{}, courier.FieldError(field+".amount", "is required")
	}
	if m.Currency == nil {
		return courier.Money{}, courier.FieldError(field+".currency", "is required")
	}
	return courier.Money{Amount: *m.Amount, Currency: *m.Currency}, nil
}

type denominationJSON struct {
	Value int64 `json:"value"`
	Count int64 `json:"count"`
}

type settledOrderJSON struct {
	OrderID int64 `json:"order_id"`
	Amount  int64 `json:"amount"`
}

type settlementJSON struct {
	ID            int64              `json:"id"`
	SheetID       int64              `json:"sheet_id"`
	SheetNumber   string             `json:"sheet_number"`
	CourierID     int64              `json:"courier_id"`
	DepotID       int64              `json:"depot_id"`
	ShiftID       int64              `json:"shift_id"`
	Expected      moneyJSON          `json:"expected"`
	Counted       moneyJSON          `json:"counted"`
	Discrepancy   moneyJSON          `json:"discrepancy"`
	Denominations []denominationJSON `json:"denominations"`
	Orders        []settledOrderJSON `json:"orders"`
	Note          string             `json:"note"`
	TxID          string             `json:"tx_id"`
	CashierID     int64              `json:"cashier_id"`
	CreatedAt     time.Time          `json:"created_at"`
}

func toSettlement(st *courier.Settlement) settlementJSON {
	out := settlementJSON{ID: st.ID, SheetID: st.SheetID, SheetNumber: courier.SheetNumber(st.SheetID), CourierID: st.CourierID,
		DepotID: st.DepotID, ShiftID: st.ShiftID, Expected: moneyJSON{Amount: st.Expected, Currency: st.Currency}, Counted: moneyJSON{Amount: st.Counted, Currency: st.Currency},
		Discrepancy: moneyJSON{Amount: st.Discrepancy(), Currency: st.Currency}, Denominations: []denominationJSON{}, Orders: []settledOrderJSON{},
		Note: st.Note, TxID: st.TxID, CashierID: st.CashierID, CreatedAt: st.CreatedAt}
	for _, d := range st.Denominations {
		out.Denominations = append(out.Denominations, denominationJSON(d))
	}
	for _, o := range st.Orders {
		out.Orders = append(out.Orders, settledOrderJSON(o))
	}
	return out
}

type scanSheetJSON struct {
	ID          int64               `json:"id"`
	Number      string              `json:"number"`
	CourierID   int64               `json:"courier_id"`
	CourierName string              `json:"courier_name"`
	DepotID     int64               `json:"depot_id"`
	Date        string              `json:"date"`
	Status      courier.SheetStatus `json:"status"`
}

type scanLineJSON struct {
	OrderID           int64                 `json:"order_id"`
	ExternalID        string                `json:"external_id"`
	CustomerName      string                `json:"customer_name"`
	Address           string                `json:"address"`
	Status            courier.OrderStatus   `json:"status"`
	PaymentStatus     courier.PaymentStatus `json:"payment_status"`
	Method            courier.PaymentMethod `json:"method"`
	State             string                `json:"state"`
	ExpectedCash      int64                 `json:"expected_cash"`
	ReportedCollected int64                 `json:"reported_collected"`
	ShortAtDoor       int64                 `json:"short_at_door"`
	Settled           int64                 `json:"settled"`
	Outstanding       int64                 `json:"outstanding"`
	Card              int64                 `json:"card"`
	GoodsPieces       int64                 `json:"goods_pieces"`
	GoodsDue          int64                 `json:"goods_due"`
	GoodsReturned     int64                 `json:"goods_returned"`
}

type scanTotalsJSON struct {
	Expected      int64 `json:"expected"`
	Pending       int64 `json:"pending"`
	ShortAtDoor   int64 `json:"short_at_door"`
	Settled       int64 `json:"settled"`
	Outstanding   int64 `json:"outstanding"`
	Counted       int64 `json:"counted"`
	Discrepancy   int64 `json:"discrepancy"`
	Card          int64 `json:"card"`
	GoodsDue      int64 `json:"goods_due"`
	GoodsReturned int64 `json:"goods_returned"`
}

type scanJSON struct {
	Sheet       scanSheetJSON    `json:"sheet"`
	Currency    string           `json:"currency"`
	Orders      []scanLineJSON   `json:"orders"`
	Totals      scanTotalsJSON   `json:"totals"`
	Settlements []settlementJSON `json:"settlements"`
}

func (s *Server) scanSheet(c *gin.Context) error {
	d, err := s.desk()
	if err != nil {
		return err
	}
	v, err := d.Scan(c.Request.Context(), actorOf(c), c.Param("barcode"))
	if err != nil {
		return err
	}
	sh := v.Sheet
	out := scanJSON{Sheet: scanSheetJSON{ID: sh.ID, Number: sh.Number, CourierID: sh.CourierID, CourierName: v.CourierName,
		DepotID: sh.DepotID, Date: sh.Date, Status: sh.Status}, Currency: v.Currency, Orders: []scanLineJSON{},
		Totals: scanTotalsJSON(v.Totals), Settlements: []settlementJSON{}}
	for _, l := range v.Lines {
		o := l.Order
		out.Orders = append(out.Orders, scanLineJSON{OrderID: o.ID, ExternalID: o.ExternalID, CustomerName: o.Customer.Name,
			Address: o.Address, Status: o.Status, PaymentStatus: o.PaymentStatus, Method: o.COD.Method, State: l.State,
			ExpectedCash: l.ExpectedCash, ReportedCollected: l.Reported, ShortAtDoor: l.ShortAtDoor, Settled: l.Settled, Outstanding: l.Outstanding,
			Card: l.Card, GoodsPieces: l.GoodsPieces, GoodsDue: l.GoodsDue, GoodsReturned: l.GoodsReturned})
	}
	for _, st := range v.Settlements {
		out.Settlements = append(out.Settlements, toSettlement(st))
	}
	c.JSON(http.StatusOK, out)
	return nil
}

type settleIn struct {
	Barcode       string             `json:"barcode"`
	Counted       *moneyIn           `json:"counted"`
	Denominations []denominationJSON `json:"denominations"`
	Note          string             `json:"note"`
}

// settle accepts counted cash for a sheet. The Idempotency-Key is required
// and kept with the settlement in its own transaction (see selfIdempotent):
// a retry answers the stored settlement with Idempotent-Replayed: true.
func (s *Server) settle(c *gin.Context) error {
	d, err := s.desk()
	if err != nil {
		return err
	}
	var in settleIn
	if err := decode(c, &in); err != nil {
		return err
	}
	counted, err := in.Counted.domain("counted")
	if err != nil {
		return err
	}
	din := cashdesk.SettleInput{Barcode: in.Barcode, Counted: counted, Note: in.Note, Key: c.GetHeader("Idempotency-Key")}
	for _, dn := range in.Denominations {
		din.Denominations = append(din.Denominations, courier.Denomination(dn))
	}
	st, err := d.Settle(c.Request.Context(), actorOf(c), din)
	if err != nil {
		return err
	}
	if st.Replayed {
		c.Header("Idempotent-Replayed", "true")
	}
	c.JSON(http.StatusCreated, toSettlement(st))
	return nil
}

type returnIn struct {
	Barcode     string `json:"barcode"`
	ItemBarcode string `json:"item_barcode"`
}

func (s *Server) checkInReturn(c *gin.Context) error {
	d, err := s.desk()
	if err != nil {
		return err
	}
	var in returnIn
	if err := decode(c, &in); err != nil {
		return err
	}
	r, err := d.CheckIn(c.Request.Context(), actorOf(c), cashdesk.ReturnInput(in))
	if err != nil {
		return err
	}
	var item *int
	if r.Item.ItemIndex >= 0 {
		item = &r.Item.ItemIndex
	}
	c.JSON(http.StatusCreated, gin.H{"id": r.Item.ID, "order_id": r.OrderID, "order_status": r.OrderStatus, "item_index": item,
		"item_barcode": r.Item.Barcode, "piece": r.Item.Piece, "pieces_in": r.PiecesIn, "pieces_total": r.PiecesTotal,
		"order_complete": r.OrderComplete, "at": r.Item.At})
	return nil
}

type postingJSON struct {
	ID       int64     `json:"id"`
	TxID     string    `json:"tx_id"`
	Account  string    `json:"account"`
	Amount   int64     `json:"amount"`
	Currency string    `json:"currency"`
	Kind     string    `json:"kind"`
	OrderID  *int64    `json:"order_id"`
	SheetID  *int64    `json:"sheet_id"`
	DepotID  *int64    `json:"depot_id"`
	ShiftID  *int64    `json:"shift_id"`
	ActorID  *int64    `json:"actor_id"`
	At       time.Time `json:"at"`
	Note     string    `json:"note"`
}

func toPostings(ps []courier.Posting) []postingJSON {
	out := make([]postingJSON, len(ps))
	for i, p := range ps {
		out[i] = postingJSON{ID: p.ID, TxID: p.TxID, Account: p.Account, Amount: p.Amount, Currency: p.Currency, Kind: p.Kind,
			OrderID: nullID(p.OrderID), SheetID: nullID(p.SheetID), DepotID: nullID(p.DepotID), ShiftID: nullID(p.ShiftID),
			ActorID: nullID(p.ActorID), At: p.At, Note: p.Note}
	}
	return out
}

func (s *Server) courierBalance(c *gin.Context) error {
	d, err := s.desk()
	if err != nil {
		return err
	}
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	limit, err := queryInt(c, "limit")
	if err != nil {
		return err
	}
	var after int64
	if cur := c.Query("cursor"); cur != "" {
		if after, err = strconv.ParseInt(cur, 10, 64); err != nil || after < 0 {
			return courier.FieldError("cursor", "is not a cursor from this API")
		}
	}
	b, err := d.CourierBalance(c.Request.Context(), actorOf(c), id, after, int(limit))
	if err != nil {
		return err
	}
	var next *string
	if b.NextAfter != 0 {
		n := itoa(b.NextAfter)
		next = &n
	}
	c.JSON(http.StatusOK, gin.H{"courier_id": b.Courier.ID, "courier_name": b.Courier.Name, "currency": b.Currency,
		"cash": b.Cash, "discrepancy": b.Discrepancy, "owed": b.Owed, "goods": b.Goods,
		"entries": toPostings(b.Entries), "next_cursor": next})
	return nil
}

type resolveIn struct {
	Amount *moneyIn `json:"amount"`
	Method string   `json:"method"`
	Note   string   `json:"note"`
}

func (s *Server) resolveDiscrepancy(c *gin.Context) error {
	d, err := s.desk()
	if err != nil {
		return err
	}
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	var in resolveIn
	if err := decode(c, &in); err != nil {
		return err
	}
	amount, err := in.Amount.domain("amount")
	if err != nil {
		return err
	}
	res, err := d.Resolve(c.Request.Context(), actorOf(c), cashdesk.ResolveInput{CourierID: id, Amount: amount, Method: in.Method,
		Note: in.Note, Key: c.GetHeader("Idempotency-Key")})
	if err != nil {
		return err
	}
	if res.Replayed {
		c.Header("Idempotent-Replayed", "true")
	}
	c.JSON(http.StatusCreated, gin.H{"entries": toPostings(res.Postings)})
	return nil
}

type debtJSON struct {
	CourierID   int64  `json:"courier_id"`
	Name        string `json:"name"`
	DepotID     *int64 `json:"depot_id"`
	Cash        int64  `json:"cash"`
	Discrepancy int64  `json:"discrepancy"`
	Owed        int64  `json:"owed"`
	Goods       int64  `json:"goods"`
}

func toDebts(ds []cashdesk.CourierDebt) []debtJSON {
	out := make([]debtJSON, len(ds))
	for i, d := range ds {
		out[i] = debtJSON{CourierID: d.CourierID, Name: d.Name, DepotID: nullID(d.DepotID), Cash: d.Cash, Discrepancy: d.Discrepancy,
			Owed: d.Owed, Goods: d.Goods}
	}
	return out
}

func (s *Server) debtors(c *gin.Context) error {
	d, err := s.desk()
	if err != nil {
		return err
	}
	depot, err := queryInt(c, "depot_id")
	if err != nil {
		return err
	}
	ds, err := d.Debtors(c.Request.Context(), actorOf(c), depot)
	if err != nil {
		return err
	}
	c.JSON(http.StatusOK, gin.H{"currency": d.Config().Currency, "items": toDebts(ds)})
	return nil
}

type cashShiftJSON struct {
	ID        int64               `json:"id"`
	CashierID int64               `json:"cashier_id"`
	DepotID   int64               `json:"depot_id"`
	Status    courier.ShiftStatus `json:"status"`
	OpenedAt  time.Time           `json:"opened_at"`
	ClosedAt  *time.Time          `json:"closed_at"`
	ClosedBy  *int64              `json:"closed_by"`
	Note      string              `json:"note"`
}

func toCashShift(sh *courier.CashShift) cashShiftJSON {
	return cashShiftJSON{ID: sh.ID, CashierID: sh.CashierID, DepotID: sh.DepotID, Status: sh.Status, OpenedAt: sh.OpenedAt,
		ClosedAt: sh.ClosedAt, ClosedBy: nullID(sh.ClosedBy), Note: sh.Note}
}

type shiftIn struct {
	DepotID int64  `json:"depot_id"`
	Note    string `json:"note"`
}

func (s *Server) openShift(c *gin.Context) error {
	d, err := s.desk()
	if err != nil {
		return err
	}
	var in shiftIn
	if err := decode(c, &in); err != nil {
		return err
	}
	sh, err := d.OpenShift(c.Request.Context(), actorOf(c), in.DepotID, in.Note)
	if err != nil {
		return err
	}
	c.Header("Location", "/api/v1/cashdesk/shifts/"+itoa(sh.ID))
	c.JSON(http.StatusCreated, toCashShift(sh))
	return nil
}

type methodTotalJSON struct {
	Method   courier.PaymentMethod `json:"method"`
	Orders   int                   `json:"orders"`
	Expected int64                 `json:"expected"`
	Amount   int64                 `json:"amount"`
}

type discrepancyJSON struct {
	SettlementID int64     `json:"settlement_id"`
	SheetID      int64     `json:"sheet_id"`
	SheetNumber  string    `json:"sheet_number"`
	CourierID    int64     `json:"courier_id"`
	Amount       int64     `json:"amount"`
	Note         string    `json:"note"`
	CashierID    int64     `json:"cashier_id"`
	At           time.Time `json:"at"`
}

type resolutionJSON struct {
	CourierID int64     `json:"courier_id"`
	Kind      string    `json:"kind"`
	Amount    int64     `json:"amount"`
	Note      string    `json:"note"`
	At        time.Time `json:"at"`
}

type shiftReportJSON struct {
	Shift            cashShiftJSON     `json:"shift"`
	Currency         string            `json:"currency"`
	Settlements      int               `json:"settlements"`
	ByMethod         []methodTotalJSON `json:"by_method"`
	CashIn           int64             `json:"cash_in"`
	Discrepancies    []discrepancyJSON `json:"discrepancies"`
	DiscrepancyTotal int64             `json:"discrepancy_total"`
	Resolutions      []resolutionJSON  `json:"resolutions"`
	Owing            []debtJSON        `json:"owing"`
}

func toShiftReport(r *cashdesk.ShiftReport) shiftReportJSON {
	out := shiftReportJSON{Shift: toCashShift(r.Shift), Currency: r.Currency, Settlements: r.Settlements, CashIn: r.CashIn,
		ByMethod: []methodTotalJSON{}, Discrepancies: []discrepancyJSON{}, DiscrepancyTotal: r.DiscrepancyTotal,
		Resolutions: []resolutionJSON{}, Owing: toDebts(r.Owing)}
	for _, m := range r.ByMethod {
		out.ByMethod = append(out.ByMethod, methodTotalJSON(m))
	}
	for _, d := range r.Discrepancies {
		out.Discrepancies = append(out.Discrepancies, discrepancyJSON(d))
	}
	for _, x := range r.Resolutions {
		out.Resolutions = append(out.Resolutions, resolutionJSON(x))
	}
	return out
}

func (s *Server) getShift(c *gin.Context) error {
	d, err := s.desk()
	if err != nil {
		return err
	}
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	r, err := d.Shift(c.Request.Context(), actorOf(c), id)
	if err != nil {
		return err
	}
	c.JSON(http.StatusOK, toShiftReport(r))
	return nil
}

func (s *Server) currentShift(c *gin.Context) error {
	d, err := s.desk()
	if err != nil {
		return err
	}
	r, err := d.CurrentShift(c.Request.Context(), actorOf(c))
	if err != nil {
		return err
	}
	c.JSON(http.StatusOK, toShiftReport(r))
	return nil
}

type closeShiftIn struct {
	Note string `json:"note"`
}

// closeShift closes a shift; the body ({"note"}) is optional.
func (s *Server) closeShift(c *gin.Context) error {
	d, err := s.desk()
	if err != nil {
		return err
	}
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	var in closeShiftIn
	b, err := readBody(c, maxBody)
	if err != nil {
		return err
	}
	if len(bytes.TrimSpace(b)) > 0 {
		if err := decodeJSON(b, &in); err != nil {
			return err
		}
	}
	r, err := d.CloseShift(c.Request.Context(), actorOf(c), id, in.Note)
	if err != nil {
		return err
	}
	c.JSON(http.StatusOK, toShiftReport(r))
	return nil
}

// reconciliation answers JSON, or CSV for ?format=csv or Accept: text/csv.
func (s *Server) reconciliation(c *gin.Context) error {
	d, err := s.desk()
	if err != nil {
		return err
	}
	depot, err := queryInt(c, "depot_id")
	if err != nil {
		return err
	}
	csvOut, err := wantCSV(c)
	if err != nil {
		return err
	}
	r, err := d.Reconciliation(c.Request.Context(), actorOf(c), c.Query("date"), depot)
	if err != nil {
		return err
	}
	if csvOut {
		var rows [][]string
		for _, a := range r.Accounts {
			rows = append(rows, []string{a.Account, a.Currency, itoa(a.Debit), itoa(a.Credit), itoa(a.Balance())})
		}
		for _, t := range r.Totals {
			rows = append(rows, []string{"TOTAL", t.Currency, itoa(t.Debit), itoa(t.Credit), itoa(t.Debit - t.Credit)})
		}
		writeCSV(c, "reconciliation-"+itoa(r.DepotID)+"-"+r.Date, []string{"account", "currency", "debit", "credit", "balance"}, rows)
		return nil
	}
	accounts := make([]gin.H, len(r.Accounts))
	for i, a := range r.Accounts {
		accounts[i] = gin.H{"account": a.Account, "currency": a.Currency, "debit": a.Debit, "credit": a.Credit, "balance": a.Balance()}
	}
	totals := make([]gin.H, len(r.Totals))
	for i, t := range r.Totals {
		totals[i] = gin.H{"currency": t.Currency, "debit": t.Debit, "credit": t.Credit, "balanced": t.Balanced}
	}
	c.JSON(http.StatusOK, gin.H{"date": r.Date, "depot_id": r.DepotID, "from": r.From, "to": r.To, "balanced": r.Balanced,
		"totals": totals, "accounts": accounts})
	return nil
}
