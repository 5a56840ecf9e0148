package storetest

import (
	"errors"
	"reflect"
	"testing"
	"time"

	courier "github.com/courierhq/courier"
)

func testCreateCourier(t *testing.T, s courier.Store) {
	start := time.Now()
	d := newDepot(t, s, "Main")
	u := &courier.User{Login: "ivan", Name: "Ivan", Role: courier.RoleCourier, PasswordHash: "$2a$10$h", Active: true}
	c := &courier.Courier{
		Name: "Ivan Petrov", Phone: "+7 (912) 345-67-89",
		Vehicle: courier.Vehicle{Type: courier.VehicleVan, CapacityKg: 1250.5, CapacityL: 8000, MaxStops: 40},
		Shift:   courier.Shift{Start: "20:00", End: "04:00"},
		DepotID: d.ID, ZoneIDs: []int64{7, 3, 11}, Active: true,
	}
	must(t, s.CreateCourier(ctx(t), c, u))
	if c.ID == 0 || u.ID == 0 {
		t.Fatalf("ids not set: courier %d, user %d", c.ID, u.ID)
	}
	if c.UserID != u.ID || u.CourierID != c.ID || c.Login != "ivan" {
		t.Fatalf("not linked: courier.UserID=%d user.ID=%d user.CourierID=%d courier.ID=%d login=%q", c.UserID, u.ID, u.CourierID, c.ID, c.Login)
	}
	if c.Version != 1 {
		t.Fatalf("Version = %d, want 1", c.Version)
	}
	wantRecent(t, "CreatedAt", c.CreatedAt, start)
	wantRecent(t, "user CreatedAt", u.CreatedAt, start)

	got, err := s.Courier(ctx(t), c.ID)
	must(t, err)
	if !reflect.DeepEqual(got, c) {
		t.Fatalf("Courier = %+v, want %+v", got, c)
	}
	gu, err := s.User(ctx(t), u.ID)
	must(t, err)
	if !reflect.DeepEqual(gu, u) {
		t.Fatalf("User = %+v, want %+v", gu, u)
	}
	users, err := s.ListUsers(ctx(t))
	must(t, err)
	if len(users) != 1 || users[0].CourierID != c.ID {
		t.Fatalf("ListUsers = %+v, want the courier's user with CourierID %d", users, c.ID)
	}

	// Without a user; no zones.
	plain := &courier.Courier{Name: "Walker", Phone: "+79000000000", Vehicle: courier.Vehicle{Type: courier.VehicleFoot},
		Shift: courier.Shift{Start: "09:00", End: "13:00"}, DepotID: d.ID}
	must(t, s.CreateCourier(ctx(t), plain, nil))
	got, err = s.Courier(ctx(t), plain.ID)
	must(t, err)
	if got.UserID != 0 || got.Login != "" || len(got.ZoneIDs) != 0 || got.Active {
		t.Fatalf("plain courier = %+v", got)
	}

	// Linking an existing user by UserID.
	lone := &courier.User{Login: "lone", Role: courier.RoleCourier, Active: true}
	must(t, s.CreateUser(ctx(t), lone))
	linked := &courier.Courier{Name: "Lone", Phone: "+79000000001", Vehicle: courier.Vehicle{Type: courier.VehicleBike},
		Shift: courier.Shift{Start: "09:00", End: "13:00"}, DepotID: d.ID, UserID: lone.ID}
	must(t, s.CreateCourier(ctx(t), linked, nil))
	if linked.Login != "lone" {
		t.Fatalf("Login = %q, want lone", linked.Login)
	}
	if gu, _ := s.User(ctx(t), lone.ID); gu.CourierID != linked.ID {
		t.Fatalf("User.CourierID = %d, want %d", gu.CourierID, linked.ID)
	}
	// A user has at most one courier.
	twice := &courier.Courier{Name: "Twice", Phone: "+79000000002", Vehicle: courier.Vehicle{Type: courier.VehicleBike},
		Shift: courier.Shift{Start: "09:00", End: "13:00"}, DepotID: d.ID, UserID: lone.ID}
	wantCode(t, s.CreateCourier(ctx(t), twice, nil), courier.ECONFLICT)
	// An unknown user.
	ghost := &courier.Courier{Name: "Ghost", Phone: "+79000000003", Vehicle: courier.Vehicle{Type: courier.VehicleBike},
		Shift: courier.Shift{Start: "09:00", End: "13:00"}, DepotID: d.ID, UserID: 987654}
	err = s.CreateCourier(ctx(t), ghost, nil)
	wantCode(t, err, courier.EINVALID)
	wantField(t, err, "user_id")

	_, err = s.Courier(ctx(t), 5555)
	wantCode(t, err, courier.ENOTFOUND)
	wantMessage(t, err, "courier 5555 not found")
}

func testCreateCourierRollback(t *testing.T, s courier.Store) {
	d := newDepot(t, s, "Main")
	// Unknown depot: EINVALID on depot_id, and the user is not created either.
	c := &courier.Courier{Name: "Ivan", Phone: "+79001112233", Vehicle: courier.Vehicle{Type: courier.VehicleCar},
		Shift: courier.Shift{Start: "09:00", End: "18:00"}, DepotID: d.ID + 100}
	u := &courier.User{Login: "ivan", Role: courier.RoleCourier, Active: true}
	err := s.CreateCourier(ctx(t), c, u)
	e := wantCode(t, err, courier.EINVALID)
	wantField(t, err, "depot_id")
	if e.Details["field"] != "depot_id" {
		t.Fatalf("Details = %v, want field depot_id", e.Details)
	}
	_, err = s.UserByLogin(ctx(t), "ivan")
	wantCode(t, err, courier.ENOTFOUND)
	if list, _ := s.ListCouriers(ctx(t), courier.CourierFilter{}); len(list) != 0 {
		t.Fatalf("a courier was written: %+v", list)
	}

	// Taken login: ECONFLICT, and no courier is created.
	must(t, s.CreateUser(ctx(t), &courier.User{Login: "taken", Role: courier.RoleDispatcher}))
	c = &courier.Courier{Name: "Ivan", Phone: "+79001112233", Vehicle: courier.Vehicle{Type: courier.VehicleCar},
		Shift: courier.Shift{Start: "09:00", End: "18:00"}, DepotID: d.ID}
	err = s.CreateCourier(ctx(t), c, &courier.User{Login: "taken", Role: courier.RoleCourier})
	wantCode(t, err, courier.ECONFLICT)
	wantMessage(t, err, `login "taken" is taken`)
	if list, _ := s.ListCouriers(ctx(t), courier.CourierFilter{}); len(list) != 0 {
		t.Fatalf("a courier was written: %+v", list)
	}
	// Depot 0 (missing) is EINVALID too, not an internal error.
	c.DepotID = 0
	err = s.CreateCourier(ctx(t), c, nil)
	wantCode(t, err, courier.EINVALID)
	wantField(t, err, "depot_id")
}

func testListCouriers(t *testing.T, s courier.Store) {
	d1, d2 := newDepot(t, s, "One"), newDepot(t, s, "Two")
	ivan := newCourier(t, s, d1.ID, "Иван Петров", "ivan.p")
	anna := newCourier(t, s, d1.ID, "Anna Smith", "")
	bob := newCourier(t, s, d2.ID, "Bob_Jones", "bobby")
	_, err := s.UpdateCourier(ctx(t), anna.ID, func(c *courier.Courier) error { c.Active = false; c.Phone = "+44 20 7946 0958"; return nil })
	must(t, err)

	yes, no := true, false
	ids := func(list []*courier.Courier) []int64 {
		out := []int64{}
		for _, c := range list {
			out = append(out, c.ID)
		}
		return out
	}
	for _, test := range []struct {
		name string
		f    courier.CourierFilter
		want []int64
	}{
		{"all", courier.CourierFilter{}, []int64{ivan.ID, anna.ID, bob.ID}},
		{"depot", courier.CourierFilter{DepotID: d1.ID}, []int64{ivan.ID, anna.ID}},
		{"active", courier.CourierFilter{Active: &yes}, []int64{ivan.ID, bob.ID}},
		{"inactive", courier.CourierFilter{Active: &no}, []int64{anna.ID}},
		{"depot and active", courier.CourierFilter{DepotID: d1.ID, Active: &yes}, []int64{ivan.ID}},
		{"search name, any case", courier.CourierFilter{Search: "SMITH"}, []int64{anna.ID}},
		{"search cyrillic, any case", courier.CourierFilter{Search: "иван"}, []int64{ivan.ID}},
		{"search phone", courier.CourierFilter{Search: "7946"}, []int64{anna.ID}},
		{"search login", courier.CourierFilter{Search: "BOBBY"}, []int64{bob.ID}},
		{"search underscore is literal", courier.CourierFilter{Search: "b_j"}, []int64{bob.ID}},
		{"search underscore is not a wildcard", courier.CourierFilter{Search: "n_p"}, []int64{}},
		{"search percent is literal", courier.CourierFilter{Search: "%"}, []int64{}},
		{"search and depot", courier.CourierFilter{Search: "o", DepotID: d2.ID}, []int64{bob.ID}},
		{"no match", courier.CourierFilter{Search: "zzz"}, []int64{}},
		{"unknown depot", courier.CourierFilter{DepotID: 999}, []int64{}},
	} {
		list, err := s.ListCouriers(ctx(t), test.f)
		must(t, err)
		if got := ids(list); !reflect.DeepEqual(got, test.want) {
			t.Errorf("%s: ListCouriers(%+v) = %v, want %v", test.name, test.f, got, test.want)
		}
	}
	list, err := s.ListCouriers(ctx(t), courier.CourierFilter{DepotID: d2.ID})
	must(t, err)
	if len(list) != 1 || !reflect.DeepEqual(list[0], bob) {
		t.Fatalf("listed courier = %+v, want %+v", list[0], bob)
	}
}

func testUpdateCourier(t *testing.T, s courier.Store) {
	d1, d2 := newDepot(t, s, "One"), newDepot(t, s, "Two")
	c := newCourier(t, s, d1.ID, "Ivan", "ivan")
	got, err := s.UpdateCourier(ctx(t), c.ID, func(c *courier.Courier) error {
		if c.Version != 1 {
			t.Errorf("fn got Version %d, want 1", c.Version)
		}
		c.Name, c.DepotID, c.ZoneIDs = "Ivan II", d2.ID, []int64{42}
		c.Vehicle = courier.Vehicle{Type: courier.VehicleTruck, CapacityKg: 10000, CapacityL: 40000, MaxStops: 12}
		c.Shift = courier.Shift{Start: "06:00", End: "14:30"}
		c.Version = 99 // the store sets Version
		return nil
	})
	must(t, err)
	if got.Version != 2 || got.Name != "Ivan II" || got.DepotID != d2.ID || !reflect.DeepEqual(got.ZoneIDs, []int64{42}) ||
		got.Login != "ivan" || got.UserID != c.UserID || !got.CreatedAt.Equal(c.CreatedAt) {
		t.Fatalf("UpdateCourier = %+v", got)
	}
	read, err := s.Courier(ctx(t), c.ID)
	must(t, err)
	if !reflect.DeepEqual(read, got) {
		t.Fatalf("read back %+v, want %+v", read, got)
	}
	// Clearing zones.
	got, err = s.UpdateCourier(ctx(t), c.ID, func(c *courier.Courier) error { c.ZoneIDs = nil; return nil })
	must(t, err)
	if len(got.ZoneIDs) != 0 || got.Version != 3 {
		t.Fatalf("after clearing zones: %+v", got)
	}

	_, err = s.UpdateCourier(ctx(t), c.ID, func(c *courier.Courier) error { c.DepotID = 31337; return nil })
	wantCode(t, err, courier.EINVALID)
	wantField(t, err, "depot_id")

	boom := errors.New("boom")
	_, err = s.UpdateCourier(ctx(t), c.ID, func(c *courier.Courier) error { c.Name = "nope"; return boom })
	if err != boom {
		t.Fatalf("UpdateCourier returned %v, want fn's error", err)
	}
	read, err = s.Courier(ctx(t), c.ID)
	must(t, err)
	if read.Name != "Ivan II" || read.Version != 3 || read.DepotID != d2.ID {
		t.Fatalf("a failed update was written: %+v", read)
	}
	_, err = s.UpdateCourier(ctx(t), 999, func(*courier.Courier) error { return nil })
	wantCode(t, err, courier.ENOTFOUND)
}
