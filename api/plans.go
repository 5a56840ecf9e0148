package api

import (
	"bytes"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/courierhq/courier"
	"github.com/courierhq/courier/dispatch"
	"github.com/courierhq/courier/geo"
	"github.com/courierhq/courier/sheetpdf"
	"github.com/gin-gonic/gin"
)

type planIn struct {
	Date       string  `json:"date"`
	DepotID    int64   `json:"depot_id"`
	OrderIDs   []int64 `json:"order_ids"`
	CourierIDs []int64 `json:"courier_ids"`
	TimeLimitS int     `json:"time_limit_s"`
}

type progressJSON struct {
	BestCost   int64 `json:"best_cost"`
	ElapsedMS  int64 `json:"elapsed_ms"`
	Unassigned int   `json:"unassigned"`
}

type unassignedJSON struct {
	OrderID int64  `json:"order_id"`
	Reason  string `json:"reason"`
}

type planJSON struct {
	ID         int64              `json:"id"`
	Date       string             `json:"date"`
	DepotID    int64              `json:"depot_id"`
	Status     courier.PlanStatus `json:"status"`
	Error      string             `json:"error"`
	TimeLimitS int                `json:"time_limit_s"`
	Progress   progressJSON       `json:"progress"`
	OrderIDs   []int64            `json:"order_ids"`
	CourierIDs []int64            `json:"courier_ids"`
	Unassigned []unassignedJSON   `json:"unassigned"`
	Sheets     []sheetSummaryJSON `json:"sheets"`
	CreatedAt  time.Time          `json:"created_at"`
	UpdatedAt  time.Time          `json:"updated_at"`
}

func toPlan(p *courier.Plan, sheets []*courier.RouteSheet) planJSON {
	out := planJSON{ID: p.ID, Date: p.Date, DepotID: p.DepotID, Status: p.Status, Error: p.Error, TimeLimitS: int(p.TimeLimit.Seconds()),
		Progress: progressJSON{BestCost: p.BestCost, ElapsedMS: p.Elapsed.Milliseconds(), Unassigned: p.UnassignedN},
		OrderIDs: nonNil(p.OrderIDs), CourierIDs: nonNil(p.CourierIDs), Unassigned: []unassignedJSON{}, Sheets: []sheetSummaryJSON{},
		CreatedAt: p.CreatedAt, UpdatedAt: p.UpdatedAt}
	for _, u := range p.Unassigned {
		out.Unassigned = append(out.Unassigned, unassignedJSON{OrderID: u.OrderID, Reason: u.Reason})
	}
	out.Sheets = summaries(sheets)
	return out
}

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

func (s *Server) createPlan(c *gin.Context) error {
	var in planIn
	if err := decode(c, &in); err != nil {
		return err
	}
	if in.Date == "" {
		return courier.FieldError("date", "is required")
	}
	if in.DepotID == 0 {
		return courier.FieldError("depot_id", "is required")
	}
	if in.TimeLimitS < 0 {
		return courier.FieldError("time_limit_s", "must not be negative")
	}
	p, err := s.dispatch.StartPlan(c.Request.Context(), actorOf(c), dispatch.PlanRequest{Date: in.Date, DepotID: in.DepotID,
		OrderIDs: in.OrderIDs, CourierIDs: in.CourierIDs, TimeLimit: time.Duration(in.TimeLimitS) * time.Second})
	if err != nil {
		return err
	}
	c.Header("Location", "/api/v1/plans/"+itoa(p.ID))
	c.JSON(http.StatusAccepted, toPlan(p, nil))
	return nil
}

// listPlans lists the plans of a date, newest first, without their sheets:
// the orders each left out and why survive a reload of the console.
func (s *Server) listPlans(c *gin.Context) error {
	depotID, err := queryInt(c, "depot_id")
	if err != nil {
		return err
	}
	limit, err := queryInt(c, "limit")
	if err != nil {
		return err
	}
	plans, err := s.dispatch.ListPlans(c.Request.Context(), actorOf(c), c.Query("date"), depotID, int(limit))
	if err != nil {
		return err
	}
	out := make([]planJSON, len(plans))
	for i, p := range plans {
		out[i] = toPlan(p, nil)
	}
	c.JSON(http.StatusOK, gin.H{"items": out})
	return nil
}

func (s *Server) getPlan(c *gin.Context) error {
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	p, sheets, err := s.dispatch.Plan(c.Request.Context(), actorOf(c), id)
	if err != nil {
		return err
	}
	c.JSON(http.StatusOK, toPlan(p, sheets))
	return nil
}

func (s *Server) planProblem(c *gin.Context) error {
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	b, err := s.dispatch.PlanProblem(c.Request.Context(), actorOf(c), id)
	if err != nil {
		return err
	}
	c.Header("Content-Disposition", fmt.Sprintf(`attachment; filename="plan-%d.json"`, id))
	c.Data(http.StatusOK, "application/json", b)
	return nil
}

// planEvents streams a plan's progress as Server-Sent Events: a "progress"
// event whenever it changes, then one "done" (or "failed") event, then the
// stream ends. The plan is read from the store, so any replica can serve it.
func (s *Server) planEvents(c *gin.Context) error {
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	ctx := c.Request.Context()
	actor := actorOf(c)
	p, _, err := s.dispatch.Plan(ctx, actor, id)
	if err != nil {
		return err
	}
	startEventStream(c)
	var lastVersion int64 = -1
	deadline := time.Now().Add(p.TimeLimit + 5*time.Minute)
	tick := time.NewTicker(s.pollEvery)
	defer tick.Stop()
	for {
		if p.Version != lastVersion {
			lastVersion = p.Version
			event := "progress"
			switch p.Status {
			case courier.PlanDone, courier.PlanPublished:
				event = "done"
			case courier.PlanFailed:
				event = "failed"
			}
			c.SSEvent(event, toPlan(p, nil))
			c.Writer.Flush()
			if event != "progress" {
				return nil
			}
		}
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
		}
		if time.Now().After(deadline) {
			return nil
		}
		if p, _, err = s.dispatch.Plan(ctx, actor, id); err != nil {
			logger(c).Warn("plan events", "err", err)
			return nil
		}
	}
}

func (s *Server) publishPlan(c *gin.Context) error {
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	sheets, err := s.dispatch.PublishPlan(c.Request.Context(), actorOf(c), id)
	if err != nil {
		return err
	}
	c.JSON(http.StatusOK, gin.H{"sheets": summaries(sheets)})
	return nil
}

// sheet wire types

type stopJSON struct {
	Seq     int       `json:"seq"`
	OrderID int64     `json:"order_id"`
	ETA     time.Time `json:"eta"`
	ETAFrom time.Time `json:"eta_from"`
	ETATo   time.Time `json:"eta_to"`
	Locked  bool      `json:"locked"`
	Done    bool      `json:"done"`
}

type sheetSummaryJSON struct {
	ID          int64               `json:"id"`
	Number      string              `json:"number"`
	PlanID      *int64              `json:"plan_id"`
	CourierID   int64               `json:"courier_id"`
	DepotID     int64               `json:"depot_id"`
	Date        string              `json:"date"`
	Status      courier.SheetStatus `json:"status"`
	Version     int64               `json:"version"`
	Start       time.Time           `json:"start"`
	End         time.Time           `json:"end"`
	DistanceM   int64               `json:"distance_m"`
	DurationS   int64               `json:"duration_s"`
	Stops       []stopJSON          `json:"stops"`
	PublishedAt *time.Time          `json:"published_at"`
	StartedAt   *time.Time          `json:"started_at"`
	CompletedAt *time.Time          `json:"completed_at"`
	// Progress is the day under way (GET /route-sheets only; null elsewhere).
	Progress *sheetProgressJSON `json:"progress"`
}

type sheetProgressJSON struct {
	progressCountsJSON
	Late       int            `json:"late"`
	LateOrders []int64        `json:"late_orders"`
	LateStops  []lateStopJSON `json:"late_stops"`
	LastSignal *time.Time     `json:"last_signal_at"`
}

// lateStopJSON is a late stop with the arrival expected and the window's end.
type lateStopJSON struct {
	OrderID  int64     `json:"order_id"`
	ETA      time.Time `json:"eta"`
	WindowTo time.Time `json:"window_to"`
	Live     bool      `json:"live"`
}

func toSheetSummary(sh *courier.RouteSheet) sheetSummaryJSON {
	out := sheetSummaryJSON{ID: sh.ID, Number: sh.Number, PlanID: nullID(sh.PlanID), CourierID: sh.CourierID, DepotID: sh.DepotID,
		Date: sh.Date, Status: sh.Status, Version: sh.Version, Start: sh.Start, End: sh.End, DistanceM: sh.DistanceM,
		DurationS: sh.DurationS, Stops: []stopJSON{}, PublishedAt: sh.PublishedAt, StartedAt: sh.StartedAt, CompletedAt: sh.CompletedAt}
	for _, st := range sh.Stops {
		out.Stops = append(out.Stops, stopJSON{Seq: st.Seq, OrderID: st.OrderID, ETA: st.ETA, ETAFrom: st.ETAFrom, ETATo: st.ETATo,
			Locked: st.Locked, Done: st.Done})
	}
	return out
}

type moneyJSON struct {
	Amount   int64  `json:"amount"`
	Currency string `json:"currency"`
}

type sheetStopDetailJSON struct {
	stopJSON
	Order orderJSON `json:"order"`
}

type sheetTotalsJSON struct {
	Stops    int       `json:"stops"`
	WeightKg float64   `json:"weight_kg"`
	VolumeL  float64   `json:"volume_l"`
	Cash     moneyJSON `json:"cash"`
	Card     moneyJSON `json:"card"`
}

type sheetJSON struct {
	sheetSummaryJSON
	Barcode string                `json:"barcode"`
	Stops   []sheetStopDetailJSON `json:"stops"`
	Totals  sheetTotalsJSON       `json:"totals"`
}

func (s *Server) toSheet(v *dispatch.SheetView) sheetJSON {
	cur := s.dispatch.Config().Currency
	out := sheetJSON{sheetSummaryJSON: toSheetSummary(v.Sheet), Barcode: v.Sheet.Number, Stops: []sheetStopDetailJSON{},
		Totals: sheetTotalsJSON{Stops: len(v.Orders), Cash: moneyJSON{Currency: cur}, Card: moneyJSON{Currency: cur}}}
	for i, o := range v.Orders {
		out.Stops = append(out.Stops, sheetStopDetailJSON{stopJSON: out.sheetSummaryJSON.Stops[i], Order: toOrder(o)})
		out.Totals.WeightKg += o.WeightKg
		out.Totals.VolumeL += o.VolumeL
		switch o.COD.Method {
		case courier.PayCash:
			out.Totals.Cash.Amount += o.COD.Amount
		case courier.PayCard:
			out.Totals.Card.Amount += o.COD.Amount
		}
	}
	return out
}

func (s *Server) listSheets(c *gin.Context) error {
	f := courier.SheetFilter{Date: c.Query("date")}
	var err error
	if f.CourierID, err = queryInt(c, "courier_id"); err != nil {
		return err
	}
	if f.PlanID, err = queryInt(c, "plan_id"); err != nil {
		return err
	}
	if st := c.Query("status"); st != "" {
		for _, v := range strings.Split(st, ",") {
			ss := courier.SheetStatus(v)
			if !slices.Contains([]courier.SheetStatus{courier.SheetDraft, courier.SheetPublished, courier.SheetActive, courier.SheetCompleted, courier.SheetDiscarded}, ss) {
				return courier.FieldError("status", "unknown route sheet status %q", v)
			}
			f.Statuses = append(f.Statuses, ss)
		}
	} else if actorOf(c).Role != courier.RoleCourier {
		f.Statuses = []courier.SheetStatus{courier.SheetDraft, courier.SheetPublished, courier.SheetActive, courier.SheetCompleted}
	}
	sheets, err := s.dispatch.ListSheets(c.Request.Context(), actorOf(c), f)
	if err != nil {
		return err
	}
	out := summaries(sheets)
	if err := s.addProgress(c, sheets, out); err != nil {
		return err
	}
	c.JSON(http.StatusOK, gin.H{"items": out})
	return nil
}

// addProgress fills each sheet's progress: its stops by outcome, and for
// active sheets the stops that will miss their window by the live ETA and
// when the courier's phone was last heard from.
func (s *Server) addProgress(c *gin.Context, sheets []*courier.RouteSheet, out []sheetSummaryJSON) error {
	ctx := c.Request.Context()
	prog, err := s.dispatch.Progress(ctx, actorOf(c), sheets)
	if err != nil {
		return err
	}
	office := actorOf(c).Role != courier.RoleCourier
	var signals map[int64]*geo.Position // active sheets' couriers, one read for all
	if office && s.tracker != nil {
		var ids []int64
		for _, sh := range sheets {
			if sh.Status == courier.SheetActive {
				ids = append(ids, sh.CourierID)
			}
		}
		if len(ids) > 0 {
			signals, _ = s.tracker.Locations(ctx, ids) // without Redis the list goes on without last signals
		}
	}
	for i, sh := range sheets {
		p := sheetProgressJSON{progressCountsJSON: toProgressCounts(prog[sh.ID]), LateOrders: []int64{}, LateStops: []lateStopJSON{}}
		if sh.Status == courier.SheetActive && office {
			if s.notify != nil {
				late, err := s.notify.LateStops(ctx, sh)
				if err != nil {
					logger(c).Warn("late stops", slog.Int64("sheet_id", sh.ID), slog.Any("err", err))
				}
				for _, l := range late {
					if len(p.LateOrders) < p.Remaining {
						p.LateOrders = append(p.LateOrders, l.OrderID)
						p.LateStops = append(p.LateStops, lateStopJSON{OrderID: l.OrderID, ETA: l.ETA, WindowTo: l.WindowTo, Live: l.Live})
					}
				}
				p.Late = len(p.LateOrders)
			}
			if pos := signals[sh.CourierID]; pos != nil {
				at := pos.RecordedAt
				p.LastSignal = &at
			}
		}
		out[i].Progress = &p
	}
	return nil
}

// courierSheets is the phone app's list: the courier's own sheets of a day (default today).
func (s *Server) courierSheets(c *gin.Context) error {
	date := c.Query("date")
	if date == "" {
		date = s.clock.Now().In(s.dispatch.Config().Location).Format(time.DateOnly)
	}
	a := actorOf(c)
	sheets, err := s.dispatch.ListSheets(c.Request.Context(), a, courier.SheetFilter{Date: date, CourierID: a.CourierID})
	if err != nil {
		return err
	}
	out := []sheetJSON{}
	for _, sh := range sheets {
		v, err := s.dispatch.Sheet(c.Request.Context(), a, sh.ID)
		if err != nil {
			return err
		}
		out = append(out, s.toSheet(v))
	}
	c.JSON(http.StatusOK, gin.H{"date": date, "items": out})
	return nil
}

func (s *Server) getSheet(c *gin.Context) error {
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	v, err := s.dispatch.Sheet(c.Request.Context(), actorOf(c), id)
	if err != nil {
		return err
	}
	c.JSON(http.StatusOK, s.toSheet(v))
	return nil
}

type startIn struct {
	At *time.Time `json:"at"`
}

func (s *Server) startSheet(c *gin.Context) error {
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	var in startIn
	if b, _ := readBody(c, maxBody); len(strings.TrimSpace(string(b))) > 0 {
		if err := decode(c, &in); err != nil {
			return err
		}
	}
	var at time.Time
	if in.At != nil {
		at = *in.At
	}
	v, err := s.dispatch.StartSheet(c.Request.Context(), actorOf(c), id, at)
	if err != nil {
		return err
	}
	c.JSON(http.StatusOK, s.toSheet(v))
	return nil
}

type violationJSON struct {
	SheetID *int64 `json:"sheet_id"`
	OrderID *int64 `json:"order_id"`
	Kind    string `json:"kind"`
	Message string `json:"message"`
}

func editAnswer(c *gin.Context, r *dispatch.EditResult) {
	out := struct {
		Sheets     []sheetSummaryJSON `json:"sheets"`
		Violations []violationJSON    `json:"violations"`
	}{Sheets: []sheetSummaryJSON{}, Violations: []violationJSON{}}
	out.Sheets = summaries(r.Sheets)
	for _, v := range r.Violations {
		out.Violations = append(out.Violations, violationJSON{SheetID: nullID(v.SheetID), OrderID: nullID(v.OrderID), Kind: v.Kind, Message: v.Message})
	}
	c.JSON(http.StatusOK, out)
}

type moveIn struct {
	OrderID   int64  `json:"order_id"`
	ToSheetID int64  `json:"to_sheet_id"`
	Position  int    `json:"position"`
	Version   *int64 `json:"version"`
	ToVersion *int64 `json:"to_version"`
	Force     bool   `json:"force"`
}

func (s *Server) moveStop(c *gin.Context) error {
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	var in moveIn
	if err := decode(c, &in); err != nil {
		return err
	}
	if in.OrderID <= 0 {
		return courier.FieldError("order_id", "is required")
	}
	if in.Position < 0 {
		return courier.FieldError("position", "must not be negative")
	}
	r, err := s.dispatch.MoveStop(c.Request.Context(), actorOf(c), id, dispatch.MoveRequest{OrderID: in.OrderID, ToSheetID: in.ToSheetID,
		Position: in.Position, Version: in.Version, ToVersion: in.ToVersion, Force: in.Force})
	if err != nil {
		return err
	}
	editAnswer(c, r)
	return nil
}

type lockIn struct {
	OrderID int64  `json:"order_id"`
	Locked  *bool  `json:"locked"`
	Version *int64 `json:"version"`
}

func (s *Server) lockStop(c *gin.Context) error {
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	var in lockIn
	if err := decode(c, &in); err != nil {
		return err
	}
	if in.OrderID <= 0 {
		return courier.FieldError("order_id", "is required")
	}
	if in.Locked == nil {
		return courier.FieldError("locked", "is required")
	}
	sh, err := s.dispatch.LockStop(c.Request.Context(), actorOf(c), id, in.OrderID, *in.Locked, in.Version)
	if err != nil {
		return err
	}
	c.JSON(http.StatusOK, toSheetSummary(sh))
	return nil
}

type optimizeIn struct {
	SheetIDs []int64          `json:"sheet_ids"`
	OrderIDs []int64          `json:"order_ids"`
	Versions map[string]int64 `json:"versions"`
}

func (s *Server) optimizeSheets(c *gin.Context) error {
	var in optimizeIn
	if err := decode(c, &in); err != nil {
		return err
	}
	versions := map[int64]int64{}
	for k, v := range in.Versions {
		var id int64
		if _, err := fmt.Sscan(k, &id); err != nil {
			return courier.FieldError("versions", "keys are route sheet ids")
		}
		versions[id] = v
	}
	r, err := s.dispatch.OptimizeSheets(c.Request.Context(), actorOf(c), in.SheetIDs, in.OrderIDs, versions)
	if err != nil {
		return err
	}
	editAnswer(c, r)
	return nil
}

// sheetPDF prints a route sheet on A4 in the company's language.
func (s *Server) sheetPDF(c *gin.Context) error {
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	if s.printer == nil {
		return courier.Errorf(courier.EUNAVAILABLE, "printing is not configured: install fonts-dejavu-core or set COURIER_FONT_DIR")
	}
	ctx := c.Request.Context()
	v, err := s.dispatch.Sheet(ctx, actorOf(c), id)
	if err != nil {
		return err
	}
	cr, err := s.dispatch.Courier(ctx, courier.Actor{Role: courier.RoleAdmin}, v.Sheet.CourierID)
	if err != nil {
		return err
	}
	depot, err := s.dispatch.Depot(ctx, v.Sheet.DepotID)
	if err != nil {
		return err
	}
	var buf bytes.Buffer
	if err := s.printer.Render(&buf, sheetpdf.Sheet{Sheet: v.Sheet, Orders: v.Orders, Courier: cr, Depot: depot, Company: s.company}); err != nil {
		return err
	}
	c.Header("Content-Disposition", fmt.Sprintf(`inline; filename="route-sheet-%s.pdf"`, v.Sheet.Number))
	c.Data(http.StatusOK, "application/pdf", buf.Bytes())
	return nil
}

// startEventStream answers with the headers of a Server-Sent Events stream.
func startEventStream(c *gin.Context) {
	c.Header("Content-Type", "text/event-stream")
	c.Header("Cache-Control", "no-cache")
	c.Header("X-Accel-Buffering", "no") // tell proxies not to buffer
	c.Status(http.StatusOK)
}

// summaries renders sheets as their wire summaries.
func summaries(sheets []*courier.RouteSheet) []sheetSummaryJSON {
	out := make([]sheetSummaryJSON, len(sheets))
	for i, sh := range sheets {
		out[i] = toSheetSummary(sh)
	}
	return out
}
