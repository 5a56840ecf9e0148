package reports

import (
	"context"
	"strconv"

	"github.com/courierhq/courier"
)

// Groups of the on-time report.
const (
	GroupCourier = "courier"
	GroupZone    = "zone"
	GroupDay     = "day"
	GroupTotal   = "total"
)

// FailReasons are the reasons the on-time report counts, in its order: the
// courier's reasons and stops handed back.
func FailReasons() []string {
	return append(courier.FailReasons(), courier.FailHandedBack)
}

// OnTimeRow counts the attempts of one group: a courier, a zone (Key "0":
// outside any zone), a day, or all of them (GroupTotal). The rows of one
// group add up to the total row.
type OnTimeRow struct {
	Group     string
	Key       string // the courier id, the zone id or the date
	Name      string // the courier's or the zone's name
	Attempts  int
	Delivered int // partial deliveries too
	Failed    int // failed, refused, handed back
	// Of the delivered stops with a time window: delivered within it,
	// before it (by how many minutes in all) and after it.
	WithWindow     int
	OnTime         int
	Early          int
	EarlyMinutes   int64
	Late           int
	LateMinutes    int64
	MaxLateMinutes int64
	// FirstAttempts are the orders' first attempts; FirstDelivered those that delivered.
	FirstAttempts  int
	FirstDelivered int
	// Reasons counts the failed attempts by reason (FailReasons, and any other a dispatcher typed).
	Reasons map[string]int
}

// OnTimeRate is the share of deliveries with a window made within it (0 when none).
func (r *OnTimeRow) OnTimeRate() float64 { return ratio(r.OnTime, r.WithWindow) }

// FirstAttemptRate is the share of first attempts that delivered (0 when none).
func (r *OnTimeRow) FirstAttemptRate() float64 { return ratio(r.FirstDelivered, r.FirstAttempts) }

func ratio(a, b int) float64 {
	if b == 0 {
		return 0
	}
	return float64(int64(float64(a)/float64(b)*10000+0.5)) / 10000
}

// OnTime is the on-time report: rows per courier, per zone and per day, and the total.
type OnTime struct {
	Range    Range
	Couriers []*OnTimeRow
	Zones    []*OnTimeRow
	Days     []*OnTimeRow
	Total    *OnTimeRow
}

// OnTime reports punctuality: deliveries within the window, early, late
// (by how much), first-attempt success and failure reasons, per courier,
// per zone and per day. Staff only. Returns EFORBIDDEN, EINVALID.
func (s *Service) OnTime(ctx context.Context, actor courier.Actor, r Range) (*OnTime, error) {
	if err := actor.Require(payReaders...); err != nil {
		return nil, err
	}
	f, err := s.check(ctx, r)
	if err != nil {
		return nil, err
	}
	cells, err := s.store.AttemptCells(ctx, f)
	if err != nil {
		return nil, err
	}
	reasons, err := s.store.FailureReasons(ctx, f)
	if err != nil {
		return nil, err
	}
	cs, err := s.store.ListCouriers(ctx, courier.CourierFilter{})
	if err != nil {
		return nil, err
	}
	zs, err := s.store.ListZones(ctx)
	if err != nil {
		return nil, err
	}
	names := map[string]string{}
	for _, c := range cs {
		names[GroupCourier+strconv.FormatInt(c.ID, 10)] = c.Name
	}
	for _, z := range zs {
		names[GroupZone+strconv.FormatInt(z.ID, 10)] = z.Name
	}
	out := &OnTime{Range: r, Total: &OnTimeRow{Group: GroupTotal, Reasons: map[string]int{}}}
	groups := map[string]*OnTimeRow{}
	row := func(group, key string, list *[]*OnTimeRow) *OnTimeRow {
		if g := groups[group+key]; g != nil {
			return g
		}
		g := &OnTimeRow{Group: group, Key: key, Name: names[group+key], Reasons: map[string]int{}}
		groups[group+key] = g
		*list = append(*list, g)
		return g
	}
	// Each cell and each reason count goes to its courier's, zone's and
	// day's rows and to the total.
	rowsOf := func(date string, courierID, zoneID int64) []*OnTimeRow {
		return []*OnTimeRow{
			row(GroupCourier, strconv.FormatInt(courierID, 10), &out.Couriers),
			row(GroupZone, strconv.FormatInt(zoneID, 10), &out.Zones),
			row(GroupDay, date, &out.Days),
			out.Total,
		}
	}
	for _, c := range cells {
		for _, g := range rowsOf(c.Date, c.CourierID, c.ZoneID) {
			g.add(c)
		}
	}
	for _, rc := range reasons {
		for _, g := range rowsOf(rc.Date, rc.CourierID, rc.ZoneID) {
			g.Reasons[rc.Reason] += rc.N
		}
	}
	byKey := func(g *OnTimeRow) (string, int64, string) {
		if g.Group == GroupDay {
			return g.Key, 0, ""
		}
		n, _ := strconv.ParseInt(g.Key, 10, 64)
		return "", n, ""
	}
	sortRows(out.Couriers, byKey)
	sortRows(out.Zones, byKey)
	sortRows(out.Days, byKey)
	return out, nil
}

// add adds a cell's attempts to the row.
func (r *OnTimeRow) add(c courier.AttemptCell) {
	r.Attempts += c.Attempts
	r.Delivered += c.Delivered
	r.Failed += c.Attempts - c.Delivered
	r.WithWindow += c.WithWindow
	r.Early += c.Early
	r.EarlyMinutes += c.EarlyMinutes
	r.Late += c.Late
	r.LateMinutes += c.LateMinutes
	r.MaxLateMinutes = max(r.MaxLateMinutes, c.MaxLateMinutes)
	r.OnTime += c.WithWindow - c.Early - c.Late
	r.FirstAttempts += c.FirstAttempts
	r.FirstDelivered += c.FirstDelivered
}
