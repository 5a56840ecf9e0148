package reports

import (
	"context"
	"strconv"
	"time"

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
	attempts, err := s.store.StopAttempts(ctx, f)
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
	for _, a := range attempts {
		for _, g := range []*OnTimeRow{
			row(GroupCourier, strconv.FormatInt(a.CourierID, 10), &out.Couriers),
			row(GroupZone, strconv.FormatInt(a.ZoneID, 10), &out.Zones),
			row(GroupDay, a.Date, &out.Days),
			out.Total,
		} {
			g.count(a)
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

// count adds one attempt to the row.
func (r *OnTimeRow) count(a *courier.StopAttempt) {
	r.Attempts++
	if a.Attempt == 1 {
		r.FirstAttempts++
		if a.Delivered() {
			r.FirstDelivered++
		}
	}
	if !a.Delivered() {
		r.Failed++
		reason := a.FailReason
		if reason == "" {
			reason = string(a.Outcome)
		}
		r.Reasons[reason]++
		return
	}
	r.Delivered++
	w := a.Window
	if w == nil {
		return
	}
	r.WithWindow++
	switch {
	case a.FinishedAt.Before(w.From):
		r.Early++
		r.EarlyMinutes += minutesUp(w.From.Sub(a.FinishedAt))
	case a.FinishedAt.After(w.To):
		late := minutesUp(a.FinishedAt.Sub(w.To))
		r.Late++
		r.LateMinutes += late
		r.MaxLateMinutes = max(r.MaxLateMinutes, late)
	default:
		r.OnTime++
	}
}

// minutesUp is d in minutes, a started minute counting whole.
func minutesUp(d time.Duration) int64 { return int64((d + time.Minute - 1) / time.Minute) }
