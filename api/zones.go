package api

import (
	"encoding/json"
	"net/http"
	"strconv"
	"time"

	"github.com/courierhq/courier"
	"github.com/courierhq/courier/dispatch"
	"github.com/gin-gonic/gin"
)

// Zones travel as GeoJSON (RFC 7946) Features with the zone in properties.

type hoursJSON struct {
	From string `json:"from"`
	To   string `json:"to"`
}

type tariffJSON struct {
	BaseFee int64 `json:"base_fee"`
}

type zonePropsJSON struct {
	Name       string           `json:"name"`
	Color      string           `json:"color"`
	Kind       courier.ZoneKind `json:"kind"`
	ValidFrom  *string          `json:"valid_from"`
	ValidTo    *string          `json:"valid_to"`
	Weekdays   []int            `json:"weekdays"`
	Hours      *hoursJSON       `json:"hours"`
	CourierIDs []int64          `json:"courier_ids"`
	Tariff     *tariffJSON      `json:"tariff"`
	Version    int64            `json:"version"`
	CreatedAt  time.Time        `json:"created_at"`
	UpdatedAt  time.Time        `json:"updated_at"`
}

type zoneJSON struct {
	Type       string          `json:"type"`
	ID         int64           `json:"id"`
	Geometry   json.RawMessage `json:"geometry"`
	Properties zonePropsJSON   `json:"properties"`
}

func nullString(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

func toZone(z *courier.Zone) zoneJSON {
	p := zonePropsJSON{Name: z.Name, Color: z.Color, Kind: z.Kind, ValidFrom: nullString(z.ValidFrom), ValidTo: nullString(z.ValidTo),
		Weekdays: z.Weekdays, CourierIDs: z.CourierIDs, Version: z.Version, CreatedAt: z.CreatedAt, UpdatedAt: z.UpdatedAt}
	if p.Weekdays == nil {
		p.Weekdays = []int{}
	}
	if p.CourierIDs == nil {
		p.CourierIDs = []int64{}
	}
	if z.HoursFrom != "" {
		p.Hours = &hoursJSON{From: z.HoursFrom, To: z.HoursTo}
	}
	if z.BaseFee != nil {
		p.Tariff = &tariffJSON{BaseFee: *z.BaseFee}
	}
	return zoneJSON{Type: "Feature", ID: z.ID, Geometry: json.RawMessage(z.Geometry), Properties: p}
}

// zoneIn is a zone Feature as sent; in PATCH every part is optional and null
// clears dates, hours and the tariff.
type zoneIn struct {
	Type       string          `json:"type"`
	ID         json.RawMessage `json:"id"`
	Geometry   json.RawMessage `json:"geometry"`
	Properties *struct {
		Name       *string              `json:"name"`
		Color      *string              `json:"color"`
		Kind       *courier.ZoneKind    `json:"kind"`
		ValidFrom  optional[string]     `json:"valid_from"`
		ValidTo    optional[string]     `json:"valid_to"`
		Weekdays   *[]int               `json:"weekdays"`
		Hours      optional[hoursJSON]  `json:"hours"`
		CourierIDs *[]int64             `json:"courier_ids"`
		Tariff     optional[tariffJSON] `json:"tariff"`
		Version    *int64               `json:"version"`
	} `json:"properties"`
}

func (in *zoneIn) domain() (dispatch.ZoneInput, error) {
	var out dispatch.ZoneInput
	if in.Type != "Feature" {
		return out, courier.FieldError("type", `must be "Feature"`)
	}
	if len(in.Geometry) > 0 && string(in.Geometry) != "null" {
		out.Geometry = in.Geometry
	}
	p := in.Properties
	if p == nil {
		return out, nil
	}
	out.Name, out.Color, out.Kind, out.Weekdays, out.CourierIDs, out.Version = p.Name, p.Color, p.Kind, p.Weekdays, p.CourierIDs, p.Version
	empty := ""
	for _, f := range []struct {
		o   optional[string]
		dst **string
	}{{p.ValidFrom, &out.ValidFrom}, {p.ValidTo, &out.ValidTo}} {
		switch {
		case f.o.Null:
			*f.dst = &empty
		case f.o.Set:
			v := f.o.V
			*f.dst = &v
		}
	}
	switch {
	case p.Hours.Null:
		out.HoursFrom, out.HoursTo = &empty, &empty
	case p.Hours.Set:
		out.HoursFrom, out.HoursTo = &p.Hours.V.From, &p.Hours.V.To
	}
	switch {
	case p.Tariff.Null:
		back := int64(-1)
		out.BaseFee = &back
	case p.Tariff.Set:
		if p.Tariff.V.BaseFee < 0 {
			return out, courier.FieldError("tariff.base_fee", "must not be negative")
		}
		out.BaseFee = &p.Tariff.V.BaseFee
	}
	return out, nil
}

func (s *Server) listZones(c *gin.Context) error {
	zs, err := s.dispatch.ListZones(c.Request.Context())
	if err != nil {
		return err
	}
	fc := struct {
		Type     string     `json:"type"`
		Features []zoneJSON `json:"features"`
	}{Type: "FeatureCollection", Features: make([]zoneJSON, len(zs))}
	for i, z := range zs {
		fc.Features[i] = toZone(z)
	}
	c.JSON(http.StatusOK, fc)
	return nil
}

func (s *Server) createZone(c *gin.Context) error {
	var in zoneIn
	if err := decode(c, &in); err != nil {
		return err
	}
	zin, err := in.domain()
	if err != nil {
		return err
	}
	z, err := s.dispatch.CreateZone(c.Request.Context(), actorOf(c), zin)
	if err != nil {
		return err
	}
	c.JSON(http.StatusCreated, toZone(z))
	return nil
}

func (s *Server) getZone(c *gin.Context) error {
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	z, err := s.dispatch.Zone(c.Request.Context(), id)
	if err != nil {
		return err
	}
	c.JSON(http.StatusOK, toZone(z))
	return nil
}

func (s *Server) updateZone(c *gin.Context) error {
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	var in zoneIn
	if err := decode(c, &in); err != nil {
		return err
	}
	zin, err := in.domain()
	if err != nil {
		return err
	}
	z, err := s.dispatch.UpdateZone(c.Request.Context(), actorOf(c), id, zin)
	if err != nil {
		return err
	}
	c.JSON(http.StatusOK, toZone(z))
	return nil
}

func (s *Server) deleteZone(c *gin.Context) error {
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	if err := s.dispatch.DeleteZone(c.Request.Context(), actorOf(c), id); err != nil {
		return err
	}
	c.Status(http.StatusNoContent)
	return nil
}

// queryLatLng reads the required lat and lng query parameters. Returns EINVALID.
func queryLatLng(c *gin.Context) (courier.LatLng, error) {
	var p courier.LatLng
	for _, q := range []struct {
		name string
		dst  *float64
	}{{"lat", &p.Lat}, {"lng", &p.Lng}} {
		v := c.Query(q.name)
		if v == "" {
			return p, courier.FieldError(q.name, "is required")
		}
		f, err := strconv.ParseFloat(v, 64)
		if err != nil {
			return p, courier.FieldError(q.name, "must be a number")
		}
		*q.dst = f
	}
	return p, p.Validate("")
}

type zoneRefJSON struct {
	ID    int64            `json:"id"`
	Name  string           `json:"name"`
	Kind  courier.ZoneKind `json:"kind"`
	Color string           `json:"color"`
}

// lookupZones answers which zones hold a point, at a time (default now) or on every day (at=any).
func (s *Server) lookupZones(c *gin.Context) error {
	p, err := queryLatLng(c)
	if err != nil {
		return err
	}
	at := s.clock.Now()
	switch v := c.Query("at"); v {
	case "":
	case "any":
		at = time.Time{}
	default:
		if at, err = time.Parse(time.RFC3339, v); err != nil {
			return courier.FieldError("at", "must be an RFC 3339 time or \"any\"")
		}
	}
	zs, err := s.dispatch.LookupZones(c.Request.Context(), p, at)
	if err != nil {
		return err
	}
	out := make([]zoneRefJSON, len(zs))
	for i, z := range zs {
		out[i] = zoneRefJSON{ID: z.ID, Name: z.Name, Kind: z.Kind, Color: z.Color}
	}
	c.JSON(http.StatusOK, gin.H{"zones": out})
	return nil
}

func (s *Server) rezoneOrders(c *gin.Context) error {
	res, err := s.dispatch.RezoneOrders(c.Request.Context(), actorOf(c))
	if err != nil {
		return err
	}
	c.JSON(http.StatusOK, gin.H{"checked": res.Checked, "changed": res.Changed})
	return nil
}
