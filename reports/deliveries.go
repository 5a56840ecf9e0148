package reports

import (
	"context"
	"fmt"
	"strings"

	"github.com/courierhq/courier"
)

// Kinds of delivery report lines.
const (
	LineStop = "stop" // an attempt at a stop: its fee and its pay
	LineDay  = "day"  // a courier's day: pay per km, per shift and the top-up to the minimum
)

// Outcomes of a stop line.
const (
	OutcomeDelivered  = "delivered"
	OutcomePartial    = "partial" // delivered, some goods refused
	OutcomeFailed     = "failed"
	OutcomeRefused    = "refused" // the customer refused the whole order
	OutcomeHandedBack = "handed_back"
)

// Sources of a day's distance.
const (
	DistanceGPS  = "gps"  // the GPS tracks of the day's shifts
	DistancePlan = "plan" // the planned routes of the sheets the courier started
)

// FeeParts is a fee split by the rules that made it; the parts sum to the
// fee. Other is a fee set by hand, or one priced before tariff versions.
type FeeParts struct {
	Base, Weight, Distance, Window, FreeAbove, Other int64
}

func (p *FeeParts) add(q FeeParts) {
	p.Base += q.Base
	p.Weight += q.Weight
	p.Distance += q.Distance
	p.Window += q.Window
	p.FreeAbove += q.FreeAbove
	p.Other += q.Other
}

// DeliveryLine is one line of the delivery report: a stop attempt or a
// courier's day. The pay of a courier is the sum of their lines' Pay.
type DeliveryLine struct {
	Kind        string
	Date        string
	CourierID   int64
	CourierName string
	Currency    string
	// A stop.
	OrderID    int64
	ExternalID string
	SheetID    int64
	ZoneID     int64
	Attempt    int
	Outcome    string
	FailReason string
	WeightG    int64
	PaidBy     courier.PaymentMethod // how the order was to be paid: cash, card, prepaid
	// Fee is what the delivery was charged: the order's fee on a delivered
	// stop, 0 on a failed one.
	Fee      int64
	FeeParts FeeParts
	// TariffVersion is the tariff version that priced the fee (nil for a
	// fee set by hand or priced before versions); FeeRule says how, in words.
	TariffVersion *int64
	FeeRule       string
	AmountDue     int64
	Collected     int64
	CollectedBy   courier.PaymentMethod
	// A day.
	DistanceM      int64
	DistanceSource string
	Shifts         int
	// PayRuleID is the pay rule in force (0: none, the line earns nothing).
	PayRuleID int64
	Pay       Pay
}

// DeliveryTotal sums lines: of one courier (CourierID set) or of every
// courier (CourierID 0), in one currency.
type DeliveryTotal struct {
	CourierID     int64
	CourierName   string
	Currency      string
	Stops         int
	Delivered     int
	Failed        int
	Fees          int64
	FeeParts      FeeParts
	AmountDue     int64
	CashCollected int64
	CardCollected int64
	DistanceM     int64
	Shifts        int
	Pay           Pay
}

func (t *DeliveryTotal) add(l *DeliveryLine) {
	if l.Kind == LineStop {
		t.Stops++
		if l.Outcome == OutcomeDelivered || l.Outcome == OutcomePartial {
			t.Delivered++
		} else {
			t.Failed++
		}
	}
	t.Fees += l.Fee
	t.FeeParts.add(l.FeeParts)
	t.AmountDue += l.AmountDue
	switch l.CollectedBy {
	case courier.PayCash:
		t.CashCollected += l.Collected
	case courier.PayCard:
		t.CardCollected += l.Collected
	}
	t.DistanceM += l.DistanceM
	t.Shifts += l.Shifts
	t.Pay.add(l.Pay)
}

// Deliveries is the delivery report: lines by date and courier (each day's
// stops, then the day), totals per courier and currency, and overall per currency.
type Deliveries struct {
	Range    Range
	Lines    []*DeliveryLine
	Couriers []*DeliveryTotal
	Totals   []*DeliveryTotal
}

// Deliveries reports every stop attempt with the fee the tariff charged
// (and which rule priced it), the payment collected and how, and the
// courier's pay for it by the pay rule in force that day; and each
// courier's days with the pay that belongs to the day. Staff only: it holds
// the couriers' pay. Returns EFORBIDDEN, EINVALID.
func (s *Service) Deliveries(ctx context.Context, actor courier.Actor, r Range) (*Deliveries, error) {
	if err := actor.Require(payReaders...); err != nil {
		return nil, err
	}
	return s.deliveries(ctx, r)
}

// CourierPay is the pay of the courier who asks, only theirs and without
// the fees the company charged. Returns EFORBIDDEN, EINVALID.
func (s *Service) CourierPay(ctx context.Context, actor courier.Actor, from, to string) (*Deliveries, error) {
	if actor.Role != courier.RoleCourier || actor.CourierID == 0 {
		return nil, courier.Errorf(courier.EFORBIDDEN, "only couriers have their own pay")
	}
	d, err := s.deliveries(ctx, Range{From: from, To: to, CourierID: actor.CourierID})
	if err != nil {
		return nil, err
	}
	for _, l := range d.Lines {
		l.Fee, l.FeeParts, l.TariffVersion, l.FeeRule = 0, FeeParts{}, nil, ""
	}
	for _, t := range append(d.Couriers, d.Totals...) {
		t.Fees, t.FeeParts = 0, FeeParts{}
	}
	return d, nil
}

func (s *Service) deliveries(ctx context.Context, r Range) (*Deliveries, error) {
	f, err := s.check(ctx, r)
	if err != nil {
		return nil, err
	}
	f.Fees = true
	fs, err := s.facts(ctx, f, readAttempts)
	if err != nil {
		return nil, err
	}
	rules, err := s.store.PayRules(ctx)
	if err != nil {
		return nil, err
	}
	book := newPayBook(rules)

	type day struct {
		attempts []*courier.StopAttempt
		shifts   []courier.ShiftDay
		planM    int64
	}
	days := map[dayKey]*day{}
	at := func(k dayKey) *day {
		if d := days[k]; d != nil {
			return d
		}
		d := &day{}
		days[k] = d
		return d
	}
	for _, a := range fs.attempts {
		d := at(dayKey{a.Date, a.CourierID})
		d.attempts = append(d.attempts, a)
	}
	for _, sh := range fs.shifts {
		d := at(dayKey{sh.Date, sh.CourierID})
		d.shifts = append(d.shifts, sh)
	}
	for _, sh := range fs.sheets {
		if sh.Status == courier.SheetActive || sh.Status == courier.SheetCompleted {
			at(dayKey{sh.Date, sh.CourierID}).planM += sh.DistanceM
		}
	}
	keys := make([]dayKey, 0, len(days))
	for k := range days {
		keys = append(keys, k)
	}
	sortRows(keys, func(k dayKey) (string, int64, string) { return k.date, k.courierID, "" })

	out := &Deliveries{Range: r, Lines: make([]*DeliveryLine, 0, len(fs.attempts)+len(keys))}
	for _, k := range keys {
		d := days[k]
		vehicle := ""
		if len(d.attempts) > 0 {
			vehicle = d.attempts[0].VehicleType
		} else if c := fs.couriers[k.courierID]; c != nil {
			vehicle = c.Vehicle.Type
		}
		rule := book.rule(k.courierID, vehicle, k.date)
		var ruleID int64
		currency := s.cfg.Currency
		if rule != nil {
			ruleID, currency = rule.ID, rule.Currency
		}
		var stops Pay
		for _, a := range d.attempts {
			l := stopLine(a, fs.courierName(k.courierID))
			l.PayRuleID, l.Pay = ruleID, stopPay(rule, a)
			stops.add(l.Pay)
			out.Lines = append(out.Lines, l)
		}
		dl := &DeliveryLine{Kind: LineDay, Date: k.date, CourierID: k.courierID, CourierName: fs.courierName(k.courierID), Currency: currency,
			Shifts: len(d.shifts), PayRuleID: ruleID, DistanceM: d.planM, DistanceSource: DistancePlan}
		if gps, ok := drivenOf(d.shifts); ok {
			dl.DistanceM, dl.DistanceSource = gps, DistanceGPS
		}
		dl.Pay = dayPay(rule, dl.DistanceM, len(d.shifts), stops)
		out.Lines = append(out.Lines, dl)
	}

	type tkey struct {
		courierID int64
		currency  string
	}
	byCourier := map[tkey]*DeliveryTotal{}
	byCurrency := map[string]*DeliveryTotal{}
	for _, l := range out.Lines {
		k := tkey{l.CourierID, l.Currency}
		t := byCourier[k]
		if t == nil {
			t = &DeliveryTotal{CourierID: l.CourierID, CourierName: l.CourierName, Currency: l.Currency}
			byCourier[k] = t
			out.Couriers = append(out.Couriers, t)
		}
		t.add(l)
		g := byCurrency[l.Currency]
		if g == nil {
			g = &DeliveryTotal{Currency: l.Currency}
			byCurrency[l.Currency] = g
			out.Totals = append(out.Totals, g)
		}
		g.add(l)
	}
	sortRows(out.Couriers, func(t *DeliveryTotal) (string, int64, string) { return "", t.CourierID, t.Currency })
	sortRows(out.Totals, func(t *DeliveryTotal) (string, int64, string) { return "", 0, t.Currency })
	return out, nil
}

// drivenOf is the distance of the day's GPS tracks: known when every
// shift of the day ended and was measured.
func drivenOf(shifts []courier.ShiftDay) (int64, bool) {
	if len(shifts) == 0 {
		return 0, false
	}
	var m int64
	for _, sh := range shifts {
		if sh.EndedAt == nil || sh.DrivenM == nil {
			return 0, false
		}
		m += *sh.DrivenM
	}
	return m, true
}

// stopLine is the report line of an attempt, without its pay.
func stopLine(a *courier.StopAttempt, name string) *DeliveryLine {
	l := &DeliveryLine{Kind: LineStop, Date: a.Date, CourierID: a.CourierID, CourierName: name, Currency: a.Currency, OrderID: a.OrderID,
		ExternalID: a.ExternalID, SheetID: a.SheetID, ZoneID: a.ZoneID, Attempt: a.Attempt, FailReason: a.FailReason,
		WeightG: a.WeightG(), PaidBy: a.PaidBy, AmountDue: a.AmountDue, Collected: a.Collected, CollectedBy: a.CollectedBy}
	switch {
	case a.Delivered() && a.RefusedPieces > 0:
		l.Outcome = OutcomePartial
	case a.Delivered():
		l.Outcome = OutcomeDelivered
	case a.Outcome == courier.StatusRefused:
		l.Outcome = OutcomeRefused
	case a.FailReason == courier.FailHandedBack:
		l.Outcome = OutcomeHandedBack
	default:
		l.Outcome = OutcomeFailed
	}
	if !a.Delivered() {
		return l // a failed attempt is not charged
	}
	l.Fee = a.Fee
	q := a.Quote
	if q == nil {
		l.FeeParts.Other, l.FeeRule = a.Fee, "priced before tariff versions"
		return l
	}
	var rules []string
	override := false
	for _, c := range q.Components {
		switch c.Rule {
		case courier.FeeBase:
			l.FeeParts.Base += c.Amount
		case courier.FeeWeight:
			l.FeeParts.Weight += c.Amount
		case courier.FeeDistance:
			l.FeeParts.Distance += c.Amount
		case courier.FeeWindow:
			l.FeeParts.Window += c.Amount
		case courier.FeeFreeAbove:
			l.FeeParts.FreeAbove += c.Amount
		default:
			override = override || c.Rule == courier.FeeOverride
			l.FeeParts.Other += c.Amount
		}
		rules = append(rules, c.Rule+" ("+c.Detail+")")
	}
	// The parts always sum to the fee charged; a difference (an order
	// whose quote was lost) shows as Other.
	if sum := q.Total(); sum != a.Fee {
		l.FeeParts.Other += a.Fee - sum
	}
	if !override {
		v := q.TariffVersion
		l.TariffVersion = &v
		l.FeeRule = fmt.Sprintf("tariff v%d: ", v)
	}
	l.FeeRule += strings.Join(rules, " + ")
	return l
}
