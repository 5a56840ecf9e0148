package api

import (
	"time"

	"github.com/courierhq/courier"
)

// Wire types: the JSON shapes of mobile-api-spec/openapi.yaml. Domain types
// carry no JSON tags; these convert in one place.

type latLngJSON struct {
	Lat float64 `json:"lat"`
	Lng float64 `json:"lng"`
}

// latLngIn is a location as sent: both coordinates required.
type latLngIn struct {
	Lat *float64 `json:"lat"`
	Lng *float64 `json:"lng"`
}

func (p *latLngIn) domain(field string) (*courier.LatLng, error) {
	if p == nil {
		return nil, nil
	}
	if p.Lat == nil {
		return nil, courier.FieldError(field+".lat", "is required")
	}
	if p.Lng == nil {
		return nil, courier.FieldError(field+".lng", "is required")
	}
	return &courier.LatLng{Lat: *p.Lat, Lng: *p.Lng}, nil
}

func toLatLng(p courier.LatLng) latLngJSON { return latLngJSON{Lat: p.Lat, Lng: p.Lng} }

// nullID renders 0 as null.
func nullID(id int64) *int64 {
	if id == 0 {
		return nil
	}
	return &id
}

type userJSON struct {
	ID        int64        `json:"id"`
	Login     string       `json:"login"`
	Name      string       `json:"name"`
	Role      courier.Role `json:"role"`
	CourierID *int64       `json:"courier_id"`
	Active    bool         `json:"active"`
	CreatedAt time.Time    `json:"created_at"`
	UpdatedAt time.Time    `json:"updated_at"`
}

func toUser(u *courier.User) userJSON {
	return userJSON{ID: u.ID, Login: u.Login, Name: u.Name, Role: u.Role, CourierID: nullID(u.CourierID),
		Active: u.Active, CreatedAt: u.CreatedAt, UpdatedAt: u.UpdatedAt}
}

type openingHoursJSON struct {
	Opens  string `json:"opens"`
	Closes string `json:"closes"`
}

type depotJSON struct {
	ID           int64            `json:"id"`
	Name         string           `json:"name"`
	Address      string           `json:"address"`
	Location     latLngJSON       `json:"location"`
	OpeningHours openingHoursJSON `json:"opening_hours"`
	CreatedAt    time.Time        `json:"created_at"`
	UpdatedAt    time.Time        `json:"updated_at"`
}

func toDepot(d *courier.Depot) depotJSON {
	return depotJSON{ID: d.ID, Name: d.Name, Address: d.Address, Location: toLatLng(d.Location),
		OpeningHours: openingHoursJSON{Opens: d.Opens, Closes: d.Closes}, CreatedAt: d.CreatedAt, UpdatedAt: d.UpdatedAt}
}

type depotIn struct {
	Name         *string           `json:"name"`
	Address      *string           `json:"address"`
	Location     *latLngIn         `json:"location"`
	OpeningHours *openingHoursJSON `json:"opening_hours"`
}

func (in *depotIn) apply(d *courier.Depot) error {
	if in.Name != nil {
		d.Name = *in.Name
	}
	if in.Address != nil {
		d.Address = *in.Address
	}
	if in.Location != nil {
		p, err := in.Location.domain("location")
		if err != nil {
			return err
		}
		d.Location = *p
	}
	if in.OpeningHours != nil {
		d.Opens, d.Closes = in.OpeningHours.Opens, in.OpeningHours.Closes
	}
	return nil
}

type vehicleJSON struct {
	Type       string  `json:"type"`
	CapacityKg float64 `json:"capacity_kg"`
	CapacityL  float64 `json:"capacity_l"`
	MaxStops   int     `json:"max_stops"`
}

type shiftJSON struct {
	Start string `json:"start"`
	End   string `json:"end"`
}

type courierJSON struct {
	ID        int64       `json:"id"`
	Name      string      `json:"name"`
	Phone     string      `json:"phone"`
	Login     string      `json:"login"`
	UserID    *int64      `json:"user_id"`
	Vehicle   vehicleJSON `json:"vehicle"`
	Shift     shiftJSON   `json:"shift"`
	DepotID   int64       `json:"depot_id"`
	ZoneIDs   []int64     `json:"zone_ids"`
	Active    bool        `json:"active"`
	Version   int64       `json:"version"`
	CreatedAt time.Time   `json:"created_at"`
	UpdatedAt time.Time   `json:"updated_at"`
}

func toCourier(c *courier.Courier) courierJSON {
	z := c.ZoneIDs
	if z == nil {
		z = []int64{}
	}
	return courierJSON{ID: c.ID, Name: c.Name, Phone: c.Phone, Login: c.Login, UserID: nullID(c.UserID),
		Vehicle: vehicleJSON(c.Vehicle), Shift: shiftJSON(c.Shift), DepotID: c.DepotID, ZoneIDs: z,
		Active: c.Active, Version: c.Version, CreatedAt: c.CreatedAt, UpdatedAt: c.UpdatedAt}
}

type customerJSON struct {
	Name  string `json:"name"`
	Phone string `json:"phone"`
	Email string `json:"email"`
}

type addressDetailsJSON struct {
	Entrance  string `json:"entrance"`
	Floor     string `json:"floor"`
	Apartment string `json:"apartment"`
	Intercom  string `json:"intercom"`
	Comment   string `json:"comment"`
}

type timeWindowJSON struct {
	From time.Time `json:"from"`
	To   time.Time `json:"to"`
}

type itemJSON struct {
	SKU     string `json:"sku"`
	Name    string `json:"name"`
	Qty     int    `json:"qty"`
	Barcode string `json:"barcode"`
	Price   int64  `json:"price"`
}

type codJSON struct {
	Amount   int64                 `json:"amount"`
	Currency string                `json:"currency"`
	Method   courier.PaymentMethod `json:"method"`
}

type orderJSON struct {
	ID                    int64                 `json:"id"`
	ExternalID            string                `json:"external_id"`
	Customer              customerJSON          `json:"customer"`
	Address               string                `json:"address"`
	AddressDetails        addressDetailsJSON    `json:"address_details"`
	Location              latLngJSON            `json:"location"`
	DeliveryDate          string                `json:"delivery_date"`
	TimeWindow            *timeWindowJSON       `json:"time_window"`
	ServiceMinutes        int                   `json:"service_minutes"`
	WeightKg              float64               `json:"weight_kg"`
	VolumeL               float64               `json:"volume_l"`
	Items                 []itemJSON            `json:"items"`
	COD                   codJSON               `json:"cod"`
	DeliveryFee           int64                 `json:"delivery_fee"`
	DeliveryFeeOverridden bool                  `json:"delivery_fee_overridden"`
	FeeQuote              *feeQuoteJSON         `json:"fee_quote"`
	Notes                 string                `json:"notes"`
	Status                courier.OrderStatus   `json:"status"`
	PaymentStatus         courier.PaymentStatus `json:"payment_status"`
	DepotID               int64                 `json:"depot_id"`
	ZoneID                *int64                `json:"zone_id"`
	CourierID             *int64                `json:"courier_id"`
	RouteSheetID          *int64                `json:"route_sheet_id"`
	Report                *stopReportJSON       `json:"report"`
	Version               int64                 `json:"version"`
	CreatedAt             time.Time             `json:"created_at"`
	UpdatedAt             time.Time             `json:"updated_at"`
}

func toOrder(o *courier.Order) orderJSON {
	items := make([]itemJSON, len(o.Items))
	for i, it := range o.Items {
		items[i] = itemJSON(it)
	}
	var tw *timeWindowJSON
	if o.TimeWindow != nil {
		tw = &timeWindowJSON{From: o.TimeWindow.From, To: o.TimeWindow.To}
	}
	return orderJSON{
		ID: o.ID, ExternalID: o.ExternalID, Customer: customerJSON(o.Customer), Address: o.Address, AddressDetails: addressDetailsJSON(o.AddressDetails),
		Location: toLatLng(o.Location), DeliveryDate: o.DeliveryDate, TimeWindow: tw,
		ServiceMinutes: o.ServiceMinutes, WeightKg: o.WeightKg, VolumeL: o.VolumeL, Items: items,
		COD: codJSON(o.COD), DeliveryFee: o.DeliveryFee, DeliveryFeeOverridden: o.FeeOverridden, Notes: o.Notes,
		Status: o.Status, PaymentStatus: o.PaymentStatus, DepotID: o.DepotID, ZoneID: nullID(o.ZoneID),
		CourierID: nullID(o.CourierID), RouteSheetID: nullID(o.RouteSheetID), Report: toStopReport(o.Report), Version: o.Version,
		CreatedAt: o.CreatedAt, UpdatedAt: o.UpdatedAt, FeeQuote: toFeeQuote(o.FeeQuote),
	}
}

// feeQuoteJSON is how the tariff priced an order's fee: the version and the parts.
type feeQuoteJSON struct {
	TariffVersion int64              `json:"tariff_version"`
	Components    []feeComponentJSON `json:"components"`
}

type feeComponentJSON struct {
	Rule   string `json:"rule"`
	Amount int64  `json:"amount"`
	Detail string `json:"detail"`
}

func toFeeQuote(q *courier.FeeQuote) *feeQuoteJSON {
	if q == nil {
		return nil
	}
	out := &feeQuoteJSON{TariffVersion: q.TariffVersion, Components: make([]feeComponentJSON, len(q.Components))}
	for i, c := range q.Components {
		out.Components[i] = feeComponentJSON(c)
	}
	return out
}

type orderEventJSON struct {
	ID         int64               `json:"id"`
	Kind       string              `json:"kind"`
	FromStatus courier.OrderStatus `json:"from_status,omitempty"`
	ToStatus   courier.OrderStatus `json:"to_status,omitempty"`
	ActorID    *int64              `json:"actor_id"`
	ActorRole  courier.Role        `json:"actor_role,omitempty"`
	At         time.Time           `json:"at"`
	Reason     string              `json:"reason"`
	Comment    string              `json:"comment"`
}

func toOrderEvent(e courier.OrderEvent) orderEventJSON {
	return orderEventJSON{ID: e.ID, Kind: e.Kind, FromStatus: e.FromStatus, ToStatus: e.ToStatus, ActorID: nullID(e.ActorID),
		ActorRole: e.ActorRole, At: e.At, Reason: e.Reason, Comment: e.Comment}
}

// page is a list answer with an opaque cursor for the next page (null at the end).
type page[T any] struct {
	Items      []T     `json:"items"`
	NextCursor *string `json:"next_cursor"`
}
