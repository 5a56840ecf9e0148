package storetest

import (
	"errors"
	"fmt"
	"math"
	"reflect"
	"strconv"
	"sync"
	"testing"
	"time"

	courier "github.com/courierhq/courier"
)

// newOrder returns a valid order that is not stored yet.
func newOrder(externalID string) *courier.Order {
	return &courier.Order{
		ExternalID:    externalID,
		Customer:      courier.Customer{Name: "Customer " + externalID, Phone: "+7 900 123-45-67"},
		Address:       "Tverskaya 1",
		Location:      courier.LatLng{Lat: 55.7570, Lng: 37.6150},
		DeliveryDate:  "2026-03-14",
		Items:         []courier.Item{{SKU: "SKU-1", Name: "Box", Qty: 1}},
		COD:           courier.COD{Amount: 1000, Currency: "RUB", Method: courier.PayCash},
		Status:        courier.StatusNew,
		PaymentStatus: courier.PaymentCODPending,
	}
}

func createdEvent() *courier.OrderEvent {
	return &courier.OrderEvent{Kind: courier.EventCreated, ToStatus: courier.StatusNew, ActorID: 1, ActorRole: courier.RoleDispatcher}
}

func testCreateOrder(t *testing.T, s courier.Store) {
	start := time.Now()
	o := newOrder("A-1")
	ev := createdEvent()
	must(t, s.CreateOrder(ctx(t), o, ev))
	if o.ID == 0 || o.Version != 1 {
		t.Fatalf("CreateOrder set ID %d, Version %d; want an id and 1", o.ID, o.Version)
	}
	wantRecent(t, "CreatedAt", o.CreatedAt, start)
	wantRecent(t, "UpdatedAt", o.UpdatedAt, start)
	if ev.ID == 0 || ev.OrderID != o.ID {
		t.Fatalf("event ID %d, OrderID %d; want an id and %d", ev.ID, ev.OrderID, o.ID)
	}
	wantRecent(t, "event At", ev.At, start)

	got, err := s.Order(ctx(t), o.ID)
	must(t, err)
	if !reflect.DeepEqual(got, o) {
		t.Fatalf("Order = %+v\nwant %+v", got, o)
	}
	h, err := s.OrderHistory(ctx(t), o.ID)
	must(t, err)
	if len(h) != 1 || !reflect.DeepEqual(h[0], *ev) {
		t.Fatalf("history = %+v, want [%+v]", h, *ev)
	}

	// A nil event is allowed: no history.
	quiet := newOrder("A-2")
	must(t, s.CreateOrder(ctx(t), quiet, nil))
	h, err = s.OrderHistory(ctx(t), quiet.ID)
	must(t, err)
	if h == nil || len(h) != 0 {
		t.Fatalf("history of an order without events = %#v, want an empty slice", h)
	}

	_, err = s.Order(ctx(t), 4242)
	wantCode(t, err, courier.ENOTFOUND)
	wantMessage(t, err, "order 4242 not found")
}

func testOrderRoundTrip(t *testing.T, s courier.Store) {
	d := newDepot(t, s, "Main")
	c := newCourier(t, s, d.ID, "Ivan", "ivan")
	msk := time.FixedZone("MSK", 3*60*60)
	o := &courier.Order{
		ExternalID:   "RT-1",
		Customer:     courier.Customer{Name: "Ольга «Test» O'Brien", Phone: "+7 (999) 000-11-22", Email: "olga@example.com"},
		Address:      "Невский пр., 28; подъезд 2, этаж 5",
		Location:     courier.LatLng{Lat: 59.935602, Lng: 30.325975},
		DeliveryDate: "2026-12-31",
		TimeWindow: &courier.TimeWindow{
			From: time.Date(2026, 12, 31, 10, 0, 0, 123456000, msk),
			To:   time.Date(2026, 12, 31, 14, 30, 0, 0, msk),
		},
		ServiceMinutes: 7,
		WeightKg:       12.375,
		VolumeL:        0.1,
		Items: []courier.Item{
			{SKU: "A", Name: "Чайник", Qty: 2, Barcode: "4601234567890"},
			{SKU: "B", Name: `quote " and \ backslash`, Qty: 1},
		},
		COD:           courier.COD{Amount: math.MaxInt64 - 1, Currency: "RUB", Method: courier.PayCard},
		DeliveryFee:   35050,
		FeeOverridden: true,
		Notes:         "ring twice\nleave at door",
		Status:        courier.StatusPlanned,
		PaymentStatus: courier.PaymentCODPending,
		DepotID:       d.ID,
		ZoneID:        77,
		CourierID:     c.ID,
		RouteSheetID:  5,
	}
	must(t, s.CreateOrder(ctx(t), o, nil))
	// The store keeps times in UTC at microsecond precision.
	if o.TimeWindow.From.Location() != time.UTC {
		t.Fatalf("TimeWindow.From not converted to UTC: %v", o.TimeWindow.From)
	}
	got, err := s.Order(ctx(t), o.ID)
	must(t, err)
	if !reflect.DeepEqual(got, o) {
		t.Fatalf("round trip:\n got %+v\nwant %+v", got, o)
	}
	wantUTC(t, "TimeWindow.From", got.TimeWindow.From)
	wantUTC(t, "TimeWindow.To", got.TimeWindow.To)
	if want := time.Date(2026, 12, 31, 7, 0, 0, 123456000, time.UTC); !got.TimeWindow.From.Equal(want) || got.TimeWindow.From != want {
		t.Fatalf("TimeWindow.From = %v, want %v", got.TimeWindow.From, want)
	}
	if got.COD.Amount != math.MaxInt64-1 {
		t.Fatalf("COD.Amount = %d lost precision", got.COD.Amount)
	}

	// A nil window and no items stay nil; a fee of zero stays zero.
	bare := newOrder("RT-2")
	bare.Items, bare.TimeWindow, bare.COD = nil, nil, courier.COD{Currency: "USD", Method: courier.PayPrepaid}
	must(t, s.CreateOrder(ctx(t), bare, nil))
	got, err = s.Order(ctx(t), bare.ID)
	must(t, err)
	if got.TimeWindow != nil || len(got.Items) != 0 || got.COD.Amount != 0 || got.DepotID != 0 || got.CourierID != 0 {
		t.Fatalf("bare order = %+v", got)
	}

	// Removing the window in an update.
	up, err := s.UpdateOrder(ctx(t), o.ID, func(o *courier.Order) ([]courier.OrderEvent, error) {
		o.TimeWindow = nil
		o.Items = o.Items[:1]
		return nil, nil
	})
	must(t, err)
	got, err = s.Order(ctx(t), o.ID)
	must(t, err)
	if got.TimeWindow != nil || len(got.Items) != 1 || !reflect.DeepEqual(got, up) {
		t.Fatalf("after update: %+v, want %+v", got, up)
	}
}

func testOrderExternalID(t *testing.T, s courier.Store) {
	a := newOrder("X1")
	must(t, s.CreateOrder(ctx(t), a, createdEvent()))
	err := s.CreateOrder(ctx(t), newOrder("X1"), createdEvent())
	wantCode(t, err, courier.ECONFLICT)
	wantMessage(t, err, `external_id "X1" already exists`)

	// Empty external ids never conflict.
	e1, e2 := newOrder(""), newOrder("")
	must(t, s.CreateOrder(ctx(t), e1, nil))
	must(t, s.CreateOrder(ctx(t), e2, nil))

	got, err := s.OrderByExternalID(ctx(t), "X1")
	must(t, err)
	if got.ID != a.ID {
		t.Fatalf("OrderByExternalID = %d, want %d", got.ID, a.ID)
	}
	_, err = s.OrderByExternalID(ctx(t), "nope")
	wantCode(t, err, courier.ENOTFOUND)
	_, err = s.OrderByExternalID(ctx(t), "")
	wantCode(t, err, courier.ENOTFOUND)

	b := newOrder("X2")
	must(t, s.CreateOrder(ctx(t), b, nil))
	_, err = s.UpdateOrder(ctx(t), b.ID, func(o *courier.Order) ([]courier.OrderEvent, error) {
		o.ExternalID = "X1"
		return []courier.OrderEvent{{Kind: courier.EventUpdated}}, nil
	})
	wantCode(t, err, courier.ECONFLICT)
	wantMessage(t, err, `external_id "X1" already exists`)
	got, err = s.Order(ctx(t), b.ID)
	must(t, err)
	if got.ExternalID != "X2" || got.Version != 1 {
		t.Fatalf("a conflicting update was written: %+v", got)
	}
	if h, _ := s.OrderHistory(ctx(t), b.ID); len(h) != 0 {
		t.Fatalf("a conflicting update wrote events: %+v", h)
	}
	// Rolled back, so X2 can still be looked up and X1 still belongs to a.
	if got, err := s.OrderByExternalID(ctx(t), "X1"); err != nil || got.ID != a.ID {
		t.Fatalf("X1 = %+v, %v", got, err)
	}
}

func testOrderReferences(t *testing.T, s courier.Store) {
	d := newDepot(t, s, "Main")
	o := newOrder("R1")
	o.DepotID = d.ID + 50
	err := s.CreateOrder(ctx(t), o, createdEvent())
	wantCode(t, err, courier.EINVALID)
	wantField(t, err, "depot_id")
	if list, _ := s.ListOrders(ctx(t), courier.OrderFilter{}); len(list) != 0 {
		t.Fatalf("an order was written: %+v", list)
	}

	o = newOrder("R2")
	o.DepotID = d.ID
	must(t, s.CreateOrder(ctx(t), o, nil))
	_, err = s.UpdateOrder(ctx(t), o.ID, func(o *courier.Order) ([]courier.OrderEvent, error) {
		o.CourierID = 123456
		return nil, nil
	})
	wantCode(t, err, courier.EINVALID)
	wantField(t, err, "courier_id")
}

func testListOrdersFilters(t *testing.T, s courier.Store) {
	d1, d2 := newDepot(t, s, "One"), newDepot(t, s, "Two")
	c1 := newCourier(t, s, d1.ID, "C1", "")
	mk := func(ext, date string, status courier.OrderStatus, depot, zone, cour int64) int64 {
		o := newOrder(ext)
		o.DeliveryDate, o.Status, o.DepotID, o.ZoneID, o.CourierID = date, status, depot, zone, cour
		must(t, s.CreateOrder(ctx(t), o, createdEvent()))
		return o.ID
	}
	a := mk("a", "2026-01-01", courier.StatusNew, d1.ID, 1, 0)
	b := mk("b", "2026-01-02", courier.StatusPlanned, d1.ID, 2, c1.ID)
	c := mk("c", "2026-01-01", courier.StatusPlanned, d2.ID, 1, c1.ID)
	e := mk("e", "2026-01-02", courier.StatusNew, 0, 0, 0)
	for _, test := range []struct {
		name string
		f    courier.OrderFilter
		want []int64
	}{
		{"all", courier.OrderFilter{}, []int64{a, b, c, e}},
		{"status", courier.OrderFilter{Status: courier.StatusPlanned}, []int64{b, c}},
		{"date", courier.OrderFilter{Date: "2026-01-01"}, []int64{a, c}},
		{"zone", courier.OrderFilter{ZoneID: 1}, []int64{a, c}},
		{"courier", courier.OrderFilter{CourierID: c1.ID}, []int64{b, c}},
		{"depot", courier.OrderFilter{DepotID: d1.ID}, []int64{a, b}},
		{"all together", courier.OrderFilter{Status: courier.StatusPlanned, Date: "2026-01-01", ZoneID: 1, CourierID: c1.ID, DepotID: d2.ID}, []int64{c}},
		{"nothing", courier.OrderFilter{Status: courier.StatusDelivered}, []int64{}},
		{"after", courier.OrderFilter{After: b}, []int64{c, e}},
		{"after and status", courier.OrderFilter{After: a, Status: courier.StatusNew}, []int64{e}},
		{"limit", courier.OrderFilter{Limit: 2}, []int64{a, b}},
		{"ids", courier.OrderFilter{IDs: []int64{e, a, c + 1000}}, []int64{a, e}},
		{"ids and status", courier.OrderFilter{IDs: []int64{a, b, c}, Status: courier.StatusPlanned}, []int64{b, c}},
	} {
		list, err := s.ListOrders(ctx(t), test.f)
		must(t, err)
		if got := orderIDs(list); !reflect.DeepEqual(got, test.want) {
			t.Errorf("%s: ListOrders(%+v) = %v, want %v", test.name, test.f, got, test.want)
		}
	}
}

func orderIDs(list []*courier.Order) []int64 {
	out := []int64{}
	for _, o := range list {
		out = append(out, o.ID)
	}
	return out
}

func testListOrdersSearch(t *testing.T, s courier.Store) {
	mk := func(ext, name, phone string) int64 {
		o := newOrder(ext)
		o.Customer.Name, o.Customer.Phone = name, phone
		must(t, s.CreateOrder(ctx(t), o, nil))
		return o.ID
	}
	a := mk("SHOP-100", "Мария Иванова", "+7 900 111-22-33")
	b := mk("shop-200", "John Smith", "+1 555 0199")
	c := mk("W_300", "Ann 100% Real", "+44 20 0000")
	for _, test := range []struct {
		search string
		want   []int64
	}{
		{"shop", []int64{a, b}},
		{"SHOP-2", []int64{b}},
		{"мария", []int64{a}},
		{"ИВАНОВА", []int64{a}},
		{"smith", []int64{b}},
		{"111-22", []int64{a}},
		{"555", []int64{b}},
		{"100", []int64{a, c}},
		{"100%", []int64{c}},
		{"w_3", []int64{c}},
		{"p_1", []int64{}}, // _ is not a wildcard: "SHOP-100" has "p-1"
		{"nobody", []int64{}},
	} {
		list, err := s.ListOrders(ctx(t), courier.OrderFilter{Search: test.search})
		must(t, err)
		if got := orderIDs(list); !reflect.DeepEqual(got, test.want) {
			t.Errorf("Search %q = %v, want %v", test.search, got, test.want)
		}
	}
}

func testListOrdersPaging(t *testing.T, s courier.Store) {
	const n = 510
	var ids []int64
	for i := range n {
		o := newOrder(fmt.Sprintf("P-%03d", i))
		if i%2 == 0 {
			o.Status = courier.StatusReady
		}
		must(t, s.CreateOrder(ctx(t), o, nil))
		ids = append(ids, o.ID)
	}
	list, err := s.ListOrders(ctx(t), courier.OrderFilter{})
	must(t, err)
	if len(list) != 50 || list[0].ID != ids[0] || list[49].ID != ids[49] {
		t.Fatalf("default page: %d orders from %d, want 50 from %d", len(list), list[0].ID, ids[0])
	}
	list, err = s.ListOrders(ctx(t), courier.OrderFilter{Limit: 100000})
	must(t, err)
	if len(list) != 500 {
		t.Fatalf("Limit 100000 gave %d orders, want the maximum 500", len(list))
	}
	list, err = s.ListOrders(ctx(t), courier.OrderFilter{Limit: -1})
	must(t, err)
	if len(list) != 50 {
		t.Fatalf("Limit -1 gave %d orders, want the default 50", len(list))
	}

	// Walking with the cursor visits every matching order once, in id order.
	var seen []int64
	after := int64(0)
	for pages := 0; ; pages++ {
		if pages > 100 {
			t.Fatal("cursor does not advance")
		}
		page, err := s.ListOrders(ctx(t), courier.OrderFilter{Status: courier.StatusReady, After: after, Limit: 37})
		must(t, err)
		if len(page) == 0 {
			break
		}
		for _, o := range page {
			seen = append(seen, o.ID)
		}
		after = page[len(page)-1].ID
	}
	var want []int64
	for i, id := range ids {
		if i%2 == 0 {
			want = append(want, id)
		}
	}
	if !reflect.DeepEqual(seen, want) {
		t.Fatalf("cursor walk saw %d orders, want %d in id order", len(seen), len(want))
	}
}

func testUpdateOrder(t *testing.T, s courier.Store) {
	start := time.Now()
	o := newOrder("U1")
	must(t, s.CreateOrder(ctx(t), o, createdEvent()))
	past := time.Date(2026, 1, 2, 3, 4, 5, 6000, time.FixedZone("X", -5*60*60))
	var returned []courier.OrderEvent
	got, err := s.UpdateOrder(ctx(t), o.ID, func(o *courier.Order) ([]courier.OrderEvent, error) {
		if o.Version != 1 || o.Status != courier.StatusNew {
			t.Errorf("fn got version %d status %s", o.Version, o.Status)
		}
		o.Status = courier.StatusConfirmed
		o.Notes = "confirmed by phone"
		o.Version, o.ID = 100, 100 // the store sets these
		returned = []courier.OrderEvent{
			{Kind: courier.EventStatus, FromStatus: courier.StatusNew, ToStatus: courier.StatusConfirmed, ActorID: 9, ActorRole: courier.RoleDispatcher, Reason: "called", Comment: "ok"},
			{Kind: courier.EventUpdated, OrderID: 999, At: past, ActorID: 9, ActorRole: courier.RoleDispatcher},
		}
		return returned, nil
	})
	must(t, err)
	if got.ID != o.ID || got.Version != 2 || got.Status != courier.StatusConfirmed || !got.CreatedAt.Equal(o.CreatedAt) {
		t.Fatalf("UpdateOrder = %+v", got)
	}
	wantRecent(t, "UpdatedAt", got.UpdatedAt, start)
	read, err := s.Order(ctx(t), o.ID)
	must(t, err)
	if !reflect.DeepEqual(read, got) {
		t.Fatalf("read back %+v\nwant %+v", read, got)
	}
	for i, ev := range returned {
		if ev.ID == 0 || ev.OrderID != o.ID {
			t.Fatalf("event %d: ID %d OrderID %d, want an id and %d", i, ev.ID, ev.OrderID, o.ID)
		}
	}
	wantRecent(t, "defaulted event At", returned[0].At, start)
	if !returned[1].At.Equal(past) {
		t.Fatalf("given At %v replaced by %v", past, returned[1].At)
	}
	h, err := s.OrderHistory(ctx(t), o.ID)
	must(t, err)
	if len(h) != 3 {
		t.Fatalf("history has %d events, want 3", len(h))
	}
	// In the order they were recorded, whatever their At: the back-dated event comes last.
	if h[0].Kind != courier.EventCreated || !reflect.DeepEqual(h[1], returned[0]) || !reflect.DeepEqual(h[2], returned[1]) {
		t.Fatalf("history = %+v, want created, then %+v, then %+v", h, returned[0], returned[1])
	}
	if h[2].At != past.UTC() {
		t.Fatalf("back-dated event At = %v, want %v", h[2].At, past.UTC())
	}
	for _, ev := range h {
		wantUTC(t, "event At", ev.At)
	}

	_, err = s.UpdateOrder(ctx(t), 98765, func(*courier.Order) ([]courier.OrderEvent, error) {
		t.Error("fn called for a missing order")
		return nil, nil
	})
	wantCode(t, err, courier.ENOTFOUND)
	wantMessage(t, err, "order 98765 not found")
}

func testUpdateOrderFnError(t *testing.T, s courier.Store) {
	o := newOrder("F1")
	must(t, s.CreateOrder(ctx(t), o, createdEvent()))
	for _, fnErr := range []error{
		errors.New("plain"),
		courier.Errorf(courier.ECONFLICT, "cannot move from new to delivered"),
	} {
		_, err := s.UpdateOrder(ctx(t), o.ID, func(o *courier.Order) ([]courier.OrderEvent, error) {
			o.Status, o.Notes = courier.StatusDelivered, "should not stick"
			return []courier.OrderEvent{{Kind: courier.EventStatus}}, fnErr
		})
		if err != fnErr {
			t.Fatalf("UpdateOrder returned %v, want fn's error %v unchanged", err, fnErr)
		}
	}
	got, err := s.Order(ctx(t), o.ID)
	must(t, err)
	if !reflect.DeepEqual(got, o) {
		t.Fatalf("fn failed but the order changed: %+v", got)
	}
	if h, _ := s.OrderHistory(ctx(t), o.ID); len(h) != 1 {
		t.Fatalf("fn failed but events were written: %d events", len(h))
	}
}

// testUpdateOrderConcurrent runs 200 read-modify-write updates of one order at
// once: every one must land, none may be lost or fail.
func testUpdateOrderConcurrent(t *testing.T, s courier.Store) {
	const n = 200
	o := newOrder("C1")
	o.Notes = "0"
	must(t, s.CreateOrder(ctx(t), o, createdEvent()))
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := range n {
		wg.Go(func() {
			_, err := s.UpdateOrder(ctx(t), o.ID, func(o *courier.Order) ([]courier.OrderEvent, error) {
				count, err := strconv.Atoi(o.Notes)
				if err != nil {
					return nil, err
				}
				o.Notes = strconv.Itoa(count + 1)
				return []courier.OrderEvent{{Kind: courier.EventUpdated, ActorID: int64(i + 1), Comment: o.Notes}}, nil
			})
			if err != nil {
				errs <- fmt.Errorf("update %d: %w", i, err)
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	got, err := s.Order(ctx(t), o.ID)
	must(t, err)
	if got.Version != 1+n || got.Notes != strconv.Itoa(n) {
		t.Fatalf("after %d concurrent updates: Version %d, counter %q; want %d and %d", n, got.Version, got.Notes, 1+n, n)
	}
	h, err := s.OrderHistory(ctx(t), o.ID)
	must(t, err)
	if len(h) != 1+n {
		t.Fatalf("history has %d events, want %d", len(h), 1+n)
	}
	actors := map[int64]bool{}
	comments := map[string]bool{}
	for _, ev := range h[1:] {
		actors[ev.ActorID] = true
		comments[ev.Comment] = true
	}
	if len(actors) != n || len(comments) != n {
		t.Fatalf("events from %d updaters with %d distinct counter values, want %d and %d", len(actors), len(comments), n, n)
	}
}

func testOrderHistory(t *testing.T, s courier.Store) {
	_, err := s.OrderHistory(ctx(t), 31337)
	wantCode(t, err, courier.ENOTFOUND)
	wantMessage(t, err, "order 31337 not found")

	o := newOrder("H1")
	must(t, s.CreateOrder(ctx(t), o, createdEvent()))
	other := newOrder("H2")
	must(t, s.CreateOrder(ctx(t), other, createdEvent()))
	steps := []courier.OrderStatus{courier.StatusConfirmed, courier.StatusReady, courier.StatusPlanned}
	for _, to := range steps {
		_, err := s.UpdateOrder(ctx(t), o.ID, func(o *courier.Order) ([]courier.OrderEvent, error) {
			ev := courier.OrderEvent{Kind: courier.EventStatus, FromStatus: o.Status, ToStatus: to}
			o.Status = to
			return []courier.OrderEvent{ev}, nil
		})
		must(t, err)
	}
	h, err := s.OrderHistory(ctx(t), o.ID)
	must(t, err)
	if len(h) != 4 {
		t.Fatalf("history has %d events, want 4", len(h))
	}
	if h[0].Kind != courier.EventCreated {
		t.Fatalf("first event %+v, want created", h[0])
	}
	for i, to := range steps {
		if ev := h[i+1]; ev.ToStatus != to || ev.OrderID != o.ID || ev.ID <= h[i].ID || ev.At.Before(h[i].At) {
			t.Fatalf("event %d = %+v, want status %s after %+v", i+1, ev, to, h[i])
		}
	}
	if h2, _ := s.OrderHistory(ctx(t), other.ID); len(h2) != 1 {
		t.Fatalf("another order's history has %d events, want 1", len(h2))
	}
}
