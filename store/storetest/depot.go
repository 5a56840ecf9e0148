package storetest

import (
	"errors"
	"reflect"
	"testing"
	"time"

	courier "github.com/courierhq/courier"
)

func testDepots(t *testing.T, s courier.Store) {
	start := time.Now()
	list, err := s.ListDepots(ctx(t))
	must(t, err)
	if len(list) != 0 {
		t.Fatalf("new store has depots: %+v", list)
	}
	a := &courier.Depot{Name: "North", Address: "Lenina 1", Location: courier.LatLng{Lat: 59.9386, Lng: 30.3141}, Opens: "07:30", Closes: "22:00"}
	must(t, s.CreateDepot(ctx(t), a))
	if a.ID == 0 {
		t.Fatal("CreateDepot did not set ID")
	}
	wantRecent(t, "CreatedAt", a.CreatedAt, start)
	b := newDepot(t, s, "South")

	got, err := s.Depot(ctx(t), a.ID)
	must(t, err)
	if !reflect.DeepEqual(got, a) {
		t.Fatalf("Depot = %+v, want %+v", got, a)
	}
	list, err = s.ListDepots(ctx(t))
	must(t, err)
	if len(list) != 2 || list[0].ID != a.ID || list[1].ID != b.ID {
		t.Fatalf("ListDepots = %+v, want North, South", list)
	}
	_, err = s.Depot(ctx(t), 999)
	wantCode(t, err, courier.ENOTFOUND)
	wantMessage(t, err, "depot 999 not found")

	d, err := s.UpdateDepot(ctx(t), a.ID, func(d *courier.Depot) error {
		d.Name, d.Closes, d.Location = "North-2", "23:00", courier.LatLng{Lat: -33.8688, Lng: 151.2093}
		return nil
	})
	must(t, err)
	got, err = s.Depot(ctx(t), a.ID)
	must(t, err)
	if !reflect.DeepEqual(got, d) || got.Name != "North-2" || got.Location.Lat != -33.8688 || !got.CreatedAt.Equal(a.CreatedAt) {
		t.Fatalf("after update: %+v, want %+v", got, d)
	}
	boom := errors.New("boom")
	_, err = s.UpdateDepot(ctx(t), a.ID, func(d *courier.Depot) error { d.Name = "X"; return boom })
	if err != boom {
		t.Fatalf("UpdateDepot returned %v, want fn's error", err)
	}
	if got, _ := s.Depot(ctx(t), a.ID); got.Name != "North-2" {
		t.Fatalf("fn failed but the depot was written: %q", got.Name)
	}
	_, err = s.UpdateDepot(ctx(t), 999, func(*courier.Depot) error { return nil })
	wantCode(t, err, courier.ENOTFOUND)
}

func testDeleteDepot(t *testing.T, s courier.Store) {
	free := newDepot(t, s, "Free")
	must(t, s.DeleteDepot(ctx(t), free.ID))
	_, err := s.Depot(ctx(t), free.ID)
	wantCode(t, err, courier.ENOTFOUND)
	wantCode(t, s.DeleteDepot(ctx(t), free.ID), courier.ENOTFOUND)

	withCourier := newDepot(t, s, "Couriers")
	newCourier(t, s, withCourier.ID, "Ivan", "")
	err = s.DeleteDepot(ctx(t), withCourier.ID)
	wantCode(t, err, courier.ECONFLICT)
	if _, err := s.Depot(ctx(t), withCourier.ID); err != nil {
		t.Fatalf("depot gone after a refused delete: %v", err)
	}

	withOrder := newDepot(t, s, "Orders")
	o := newOrder("X1")
	o.DepotID = withOrder.ID
	must(t, s.CreateOrder(ctx(t), o, nil))
	wantCode(t, s.DeleteDepot(ctx(t), withOrder.ID), courier.ECONFLICT)
}
