package api

import (
	"net/http"
	"strconv"
	"time"

	"github.com/courierhq/courier"
	"github.com/gin-gonic/gin"
)

// Pay rules, pay periods and the tariff: what couriers earn and what
// deliveries cost, set by admins.

// payRuleBody is a pay rule as an admin sends it.
type payRuleBody struct {
	CourierID     *int64  `json:"courier_id"`
	VehicleType   *string `json:"vehicle_type"`
	EffectiveFrom string  `json:"effective_from"`
	PerDelivered  int64   `json:"per_delivered"`
	PerFailed     int64   `json:"per_failed"`
	PerKm         int64   `json:"per_km"`
	PerKg         int64   `json:"per_kg"`
	PerShift      int64   `json:"per_shift"`
	MinPerShift   int64   `json:"min_per_shift"`
	Note          string  `json:"note"`
}

type payRuleJSON struct {
	ID int64 `json:"id"`
	payRuleBody
	Currency  string    `json:"currency"`
	CreatedBy int64     `json:"created_by"`
	CreatedAt time.Time `json:"created_at"`
}

func payRuleOf(r *courier.PayRule) payRuleJSON {
	j := payRuleJSON{ID: r.ID, payRuleBody: payRuleBody{CourierID: optID(r.CourierID), EffectiveFrom: r.EffectiveFrom, PerDelivered: r.PerDelivered,
		PerFailed: r.PerFailed, PerKm: r.PerKm, PerKg: r.PerKg, PerShift: r.PerShift, MinPerShift: r.MinPerShift, Note: r.Note},
		Currency: r.Currency, CreatedBy: r.CreatedBy, CreatedAt: r.CreatedAt.UTC()}
	if r.VehicleType != "" {
		v := r.VehicleType
		j.VehicleType = &v
	}
	return j
}

// optDate is a date that may be absent: null in JSON.
func optDate(d string) *string {
	if d == "" {
		return nil
	}
	return &d
}

func (s *Server) listPayRules(c *gin.Context) error {
	r, err := s.rep()
	if err != nil {
		return err
	}
	rules, paid, err := r.PayRules(c.Request.Context(), actorOf(c))
	if err != nil {
		return err
	}
	items := make([]payRuleJSON, len(rules))
	for i, rule := range rules {
		items[i] = payRuleOf(rule)
	}
	c.JSON(http.StatusOK, gin.H{"paid_through": optDate(paid), "items": items})
	return nil
}

func (s *Server) addPayRule(c *gin.Context) error {
	r, err := s.rep()
	if err != nil {
		return err
	}
	var in payRuleBody
	if err := decode(c, &in); err != nil {
		return err
	}
	rule := courier.PayRule{EffectiveFrom: in.EffectiveFrom, PerDelivered: in.PerDelivered, PerFailed: in.PerFailed, PerKm: in.PerKm,
		PerKg: in.PerKg, PerShift: in.PerShift, MinPerShift: in.MinPerShift, Note: in.Note}
	if in.CourierID != nil {
		if *in.CourierID <= 0 {
			return courier.FieldError("courier_id", "must be positive")
		}
		rule.CourierID = *in.CourierID
	}
	if in.VehicleType != nil {
		rule.VehicleType = *in.VehicleType
	}
	out, err := r.AddPayRule(c.Request.Context(), actorOf(c), rule)
	if err != nil {
		return err
	}
	c.JSON(http.StatusCreated, payRuleOf(out))
	return nil
}

type payPeriodJSON struct {
	ID       int64     `json:"id"`
	From     string    `json:"from"`
	To       string    `json:"to"`
	Note     string    `json:"note"`
	ClosedBy int64     `json:"closed_by"`
	ClosedAt time.Time `json:"closed_at"`
}

func payPeriodOf(p *courier.PayPeriod) payPeriodJSON {
	return payPeriodJSON{ID: p.ID, From: p.From, To: p.To, Note: p.Note, ClosedBy: p.ClosedBy, ClosedAt: p.ClosedAt.UTC()}
}

func (s *Server) listPayPeriods(c *gin.Context) error {
	r, err := s.rep()
	if err != nil {
		return err
	}
	periods, err := r.PayPeriods(c.Request.Context(), actorOf(c))
	if err != nil {
		return err
	}
	items := make([]payPeriodJSON, len(periods))
	paid := ""
	for i, p := range periods {
		items[i], paid = payPeriodOf(p), p.To
	}
	c.JSON(http.StatusOK, gin.H{"paid_through": optDate(paid), "items": items})
	return nil
}

func (s *Server) closePayPeriod(c *gin.Context) error {
	r, err := s.rep()
	if err != nil {
		return err
	}
	var in struct {
		From string `json:"from"`
		To   string `json:"to"`
		Note string `json:"note"`
	}
	if err := decode(c, &in); err != nil {
		return err
	}
	p, err := r.ClosePayPeriod(c.Request.Context(), actorOf(c), courier.PayPeriod{From: in.From, To: in.To, Note: in.Note})
	if err != nil {
		return err
	}
	c.JSON(http.StatusCreated, payPeriodOf(p))
	return nil
}

// tariffBody is the tariff on the wire, as PUT takes it and GET gives it.
type tariffBody struct {
	BaseFee *int64        `json:"base_fee"`
	Zones   []zoneFeeBody `json:"zones"`
	Weight  struct {
		FreeKg float64 `json:"free_kg"`
		PerKg  int64   `json:"per_kg"`
	} `json:"weight"`
	Distance struct {
		PerKm int64 `json:"per_km"`
	} `json:"distance"`
	FreeAbove     int64        `json:"free_above"`
	NarrowWindows []windowBody `json:"narrow_windows"`
}

type zoneFeeBody struct {
	ZoneID  int64 `json:"zone_id"`
	BaseFee int64 `json:"base_fee"`
}

type windowBody struct {
	FromMinutes int   `json:"from_minutes"`
	ToMinutes   int   `json:"to_minutes"`
	Surcharge   int64 `json:"surcharge"`
}

type tariffOut struct {
	Version   int64      `json:"version"`
	Currency  string     `json:"currency"`
	CreatedBy *int64     `json:"created_by"`
	CreatedAt *time.Time `json:"created_at"`
	tariffBody
}

func tariffOf(t *courier.Tariff, currency string) tariffOut {
	out := tariffOut{Version: t.Version, Currency: currency, CreatedBy: optID(t.CreatedBy)}
	if !t.CreatedAt.IsZero() {
		at := t.CreatedAt.UTC()
		out.CreatedAt = &at
	}
	b := &out.tariffBody
	b.BaseFee, b.Weight.FreeKg, b.Weight.PerKg, b.Distance.PerKm, b.FreeAbove = &t.BaseFee, t.FreeKg, t.PerKg, t.PerKm, t.FreeAbove
	b.Zones, b.NarrowWindows = make([]zoneFeeBody, len(t.ZoneFees)), make([]windowBody, len(t.NarrowWindows))
	for i, z := range t.ZoneFees {
		b.Zones[i] = zoneFeeBody(z)
	}
	for i, w := range t.NarrowWindows {
		b.NarrowWindows[i] = windowBody(w)
	}
	return out
}

func (s *Server) getTariff(c *gin.Context) error {
	var version *int64
	if v := c.Query("version"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 0 {
			return courier.FieldError("version", "must be a non-negative integer")
		}
		version = &n
	}
	t, err := s.dispatch.Tariff(c.Request.Context(), actorOf(c), version)
	if err != nil {
		return err
	}
	c.JSON(http.StatusOK, tariffOf(t, s.dispatch.Config().Currency))
	return nil
}

// putTariff makes the body the tariff from now on, as a new version.
func (s *Server) putTariff(c *gin.Context) error {
	var in struct {
		tariffBody
		// Version is the version the admin edited: when it is not the latest, 409.
		Version *int64 `json:"version"`
	}
	if err := decode(c, &in); err != nil {
		return err
	}
	if in.BaseFee == nil {
		return courier.FieldError("base_fee", "is required (minor units)")
	}
	t := courier.Tariff{BaseFee: *in.BaseFee, FreeKg: in.Weight.FreeKg, PerKg: in.Weight.PerKg, PerKm: in.Distance.PerKm, FreeAbove: in.FreeAbove}
	for _, z := range in.Zones {
		t.ZoneFees = append(t.ZoneFees, courier.ZoneFee(z))
	}
	for _, w := range in.NarrowWindows {
		t.NarrowWindows = append(t.NarrowWindows, courier.WindowSurcharge(w))
	}
	out, err := s.dispatch.SetTariff(c.Request.Context(), actorOf(c), t, in.Version)
	if err != nil {
		return err
	}
	c.JSON(http.StatusOK, tariffOf(out, s.dispatch.Config().Currency))
	return nil
}
