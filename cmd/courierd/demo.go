package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"time"

	"github.com/courierhq/courier"
	"github.com/courierhq/courier/auth"
	"github.com/courierhq/courier/dispatch"
)

// The demo city is Moscow: one depot near Paveletskaya, 8 couriers, 150
// orders for today spread over the centre, with time windows, weights and cash
// on delivery in roubles. Everything is generated from a fixed seed, so every
// demo starts the same.
var demoDepot = courier.Depot{Name: "Склад Павелецкая", Address: "Москва, Кожевническая ул., 14",
	Location: courier.LatLng{Lat: 55.7296, Lng: 37.6453}, Opens: "07:00", Closes: "23:00"}

var demoStreets = []string{"Тверская ул.", "ул. Арбат", "Ленинский пр-т", "Мясницкая ул.", "ул. Большая Якиманка",
	"Пятницкая ул.", "ул. Новый Арбат", "Садовая-Кудринская ул.", "ул. Покровка", "ул. Маросейка", "Комсомольский пр-т",
	"Кутузовский пр-т", "пр-т Мира", "Бауманская ул.", "Таганская ул.", "ул. Сретенка", "Лесная ул.", "Новослободская ул.",
	"ул. Большая Ордынка", "ул. Остоженка", "Фрунзенская наб.", "ул. Шаболовка", "Профсоюзная ул.", "Ленинградский пр-т",
	"ул. Вавилова", "Краснопрудная ул.", "ул. Солянка", "Большая Полянка ул.", "ул. Земляной Вал", "Смоленская ул."}

var demoFirst = []string{"Александр", "Мария", "Дмитрий", "Анна", "Сергей", "Елена", "Иван", "Ольга", "Андрей", "Наталья",
	"Михаил", "Татьяна", "Алексей", "Ирина", "Николай", "Екатерина"}
var demoLast = []string{"Иванов", "Смирнов", "Кузнецов", "Попов", "Васильев", "Петров", "Соколов", "Михайлов", "Новиков",
	"Фёдоров", "Морозов", "Волков", "Алексеев", "Лебедев", "Семёнов", "Егоров"}

type demoCourier struct {
	name, vehicle string
	kg, litres    float64
	stops         int
	start, end    string
	zones         []string // empty: any zone
}

const (
	zoneCentre = "Центр"
	zoneNorth  = "Север"
	zoneSouth  = "Юг"
)

var demoCouriers = []demoCourier{
	{"Артём Белов", courier.VehicleVan, 800, 3000, 40, "08:00", "17:00", nil},
	{"Игорь Громов", courier.VehicleVan, 800, 3000, 40, "09:00", "18:00", nil},
	{"Павел Орлов", courier.VehicleCar, 250, 600, 30, "09:00", "18:00", []string{zoneNorth, zoneCentre}},
	{"Руслан Зайцев", courier.VehicleCar, 250, 600, 30, "10:00", "19:00", []string{zoneNorth}},
	{"Денис Козлов", courier.VehicleCar, 250, 600, 30, "11:00", "20:00", []string{zoneSouth, zoneCentre}},
	{"Олег Никитин", courier.VehicleCar, 250, 600, 30, "12:00", "21:00", []string{zoneSouth}},
	{"Тимур Ахмедов", courier.VehicleBike, 25, 80, 15, "10:00", "18:00", []string{zoneCentre}},
	{"Глеб Соловьёв", courier.VehicleFoot, 12, 40, 12, "12:00", "20:00", []string{zoneCentre}},
}

// demoZones are the centre inside the Garden Ring (an octagon of about 2.6 km
// around Red Square) and the north and south of the city around it; where they
// overlap the centre wins (the lowest id).
func demoZones() []dispatch.ZoneInput {
	const lat0, lng0, r = 55.7540, 37.6200, 2600.0
	var ring [][2]float64
	for i := range 8 {
		a := 2 * math.Pi * float64(i) / 8
		ring = append(ring, [2]float64{
			lng0 + r*math.Sin(a)/(111320*math.Cos(lat0*math.Pi/180)),
			lat0 + r*math.Cos(a)/111320,
		})
	}
	ring = append(ring, ring[0])
	rect := func(south, north float64) [][2]float64 {
		return [][2]float64{{37.45, south}, {37.80, south}, {37.80, north}, {37.45, north}, {37.45, south}}
	}
	poly := func(ring [][2]float64) []byte {
		b, _ := json.Marshal(map[string]any{"type": "Polygon", "coordinates": [][][2]float64{ring}})
		return b
	}
	fee := func(v int64) *int64 { return &v }
	str := func(v string) *string { return &v }
	return []dispatch.ZoneInput{
		{Name: str(zoneCentre), Color: str("#e4572e"), Geometry: poly(ring), BaseFee: fee(24900)},
		{Name: str(zoneNorth), Color: str("#17bebb"), Geometry: poly(rect(lat0, 55.84)), BaseFee: fee(19900)},
		{Name: str(zoneSouth), Color: str("#76b041"), Geometry: poly(rect(55.66, lat0)), BaseFee: fee(19900)},
	}
}

const demoPassword = "demo"

// loadDemo fills an empty store with the demo city and prints the logins.
// On a store that already has it, it only prints the logins. It returns the
// demo's delivery day (YYYY-MM-DD).
//
// The orders are for tomorrow: a plan for today starts at the current time,
// so in the afternoon most of today's windows and shifts would be out of
// reach and the demo (and its tests) would depend on the hour. Tomorrow can
// be planned whole at any hour, the way dispatchers plan the next day.
func loadDemo(ctx context.Context, db courier.Store, users *auth.Users, svc *dispatch.Service, clock courier.Clock, loc *time.Location, out io.Writer) (string, error) {
	if _, err := db.UserByLogin(ctx, "admin"); err == nil {
		printDemoLogins(out, "demo data already loaded")
		orders, err := db.ListOrders(ctx, courier.OrderFilter{Limit: 1})
		if err != nil || len(orders) == 0 {
			return "", err
		}
		return orders[0].DeliveryDate, nil
	} else if courier.ErrorCode(err) != courier.ENOTFOUND {
		return "", err
	}
	hash, err := users.HashPassword("password", demoPassword)
	if err != nil {
		return "", err
	}
	admin := &courier.User{Login: "admin", Name: "Администратор", Role: courier.RoleAdmin, PasswordHash: hash, Active: true}
	if err := db.CreateUser(ctx, admin); err != nil {
		return "", err
	}
	actor := courier.Actor{UserID: admin.ID, Role: courier.RoleAdmin}
	for _, u := range []struct {
		login, name string
		role        courier.Role
	}{{"dispatcher", "Диспетчер Светлана", courier.RoleDispatcher}, {"cashier", "Кассир Галина", courier.RoleCashier}} {
		pw := demoPassword
		if _, err := users.CreateUser(ctx, actor, auth.UserInput{Login: &u.login, Name: &u.name, Role: &u.role, Password: &pw}); err != nil {
			return "", err
		}
	}
	depot := demoDepot
	if err := svc.CreateDepot(ctx, actor, &depot); err != nil {
		return "", err
	}
	zoneIDs := map[string]int64{}
	for _, dz := range demoZones() {
		z, err := svc.CreateZone(ctx, actor, dz)
		if err != nil {
			return "", fmt.Errorf("zone %s: %w", *dz.Name, err)
		}
		zoneIDs[z.Name] = z.ID
	}
	for i, dc := range demoCouriers {
		var zones []int64
		for _, name := range dc.zones {
			zones = append(zones, zoneIDs[name])
		}
		login, pw := fmt.Sprintf("courier%d", i+1), demoPassword
		phone := fmt.Sprintf("+7 916 555-%02d-%02d", 10+i, 20+i)
		if _, err := svc.CreateCourier(ctx, actor, dispatch.CourierInput{Name: &dc.name, Phone: &phone, Login: &login, Password: &pw,
			Vehicle: &courier.Vehicle{Type: dc.vehicle, CapacityKg: dc.kg, CapacityL: dc.litres, MaxStops: dc.stops},
			Shift:   &courier.Shift{Start: dc.start, End: dc.end}, DepotID: &depot.ID, ZoneIDs: &zones}); err != nil {
			return "", err
		}
	}
	rng := rand.New(rand.NewPCG(2026, 11))
	today := clock.Now().In(loc)
	day := time.Date(today.Year(), today.Month(), today.Day()+1, 0, 0, 0, 0, loc)
	for i := range 150 {
		in := demoOrder(rng, i, day)
		o, err := svc.CreateOrder(ctx, actor, in)
		if err != nil {
			return "", fmt.Errorf("order %d: %w", i+1, err)
		}
		// Most orders are ready to plan; a few still wait for confirmation or stock.
		path := []courier.OrderStatus{courier.StatusConfirmed, courier.StatusReady}
		switch {
		case i%25 == 7:
			path = nil
		case i%25 == 13:
			path = []courier.OrderStatus{courier.StatusConfirmed, courier.StatusAwaitingStock}
		}
		for _, st := range path {
			if _, err := svc.ChangeStatus(ctx, actor, o.ID, dispatch.StatusChange{To: st}); err != nil {
				return "", err
			}
		}
	}
	printDemoLogins(out, "demo city loaded: Moscow, 1 depot, 3 zones, 8 couriers, 150 orders for tomorrow, "+day.Format(time.DateOnly))
	return day.Format(time.DateOnly), nil
}

func demoOrder(rng *rand.Rand, i int, day time.Time) dispatch.OrderInput {
	// A point within about 7 km of the centre, denser near it.
	r := 7000 * math.Sqrt(rng.Float64())
	a := 2 * math.Pi * rng.Float64()
	lat := 55.7540 + r*math.Cos(a)/111320
	lng := 37.6200 + r*math.Sin(a)/(111320*math.Cos(55.754*math.Pi/180))
	startHour := 9 + rng.IntN(10) // windows start 09:00..18:00
	width := 2 + rng.IntN(2)      // 2 or 3 hours
	from := day.Add(time.Duration(startHour) * time.Hour)
	tw := &courier.TimeWindow{From: from, To: from.Add(time.Duration(width) * time.Hour)}
	weight := math.Round((0.5+rng.ExpFloat64()*4)*10) / 10
	if weight > 30 {
		weight = 30
	}
	volume := math.Round(weight*2.5*10) / 10
	cod := courier.COD{Currency: "RUB"}
	switch p := rng.IntN(100); {
	case p < 60:
		cod.Method, cod.Amount = courier.PayCash, int64(500+rng.IntN(145)*100)*100
	case p < 85:
		cod.Method, cod.Amount = courier.PayCard, int64(500+rng.IntN(145)*100)*100
	default:
		cod.Method = courier.PayPrepaid
	}
	ext := fmt.Sprintf("SHOP-%05d", 10001+i)
	name := demoFirst[rng.IntN(len(demoFirst))] + " " + demoLast[rng.IntN(len(demoLast))]
	phone := fmt.Sprintf("+7 9%02d %03d-%02d-%02d", 10+rng.IntN(90), rng.IntN(1000), rng.IntN(100), rng.IntN(100))
	addr := fmt.Sprintf("Москва, %s, д. %d, кв. %d", demoStreets[rng.IntN(len(demoStreets))], 1+rng.IntN(80), 1+rng.IntN(300))
	items := []courier.Item{{SKU: fmt.Sprintf("SKU-%04d", rng.IntN(5000)), Name: "Товар", Qty: 1 + rng.IntN(3),
		Barcode: fmt.Sprintf("4600%09d", rng.IntN(1_000_000_000))}}
	service := 5 + rng.IntN(6)
	// What the courier needs at the door, and the price of each piece (so
	// that goods refused at the door lower what is due), from a generator of
	// their own: the orders above stay as they were.
	extra := rand.New(rand.NewPCG(uint64(i), 7))
	if cod.Amount > 0 {
		items[0].Price = cod.Amount / int64(items[0].Qty)
	}
	details := courier.AddressDetails{Entrance: fmt.Sprint(1 + extra.IntN(6)), Floor: fmt.Sprint(1 + extra.IntN(17)),
		Intercom: fmt.Sprintf("%dК%d", 1+extra.IntN(300), extra.IntN(10))}
	if extra.IntN(4) == 0 {
		details.Comment = "Позвонить за 10 минут"
	}
	return dispatch.OrderInput{ExternalID: &ext, Customer: &courier.Customer{Name: name, Phone: phone}, Address: &addr, AddressDetails: &details,
		Location: &courier.LatLng{Lat: lat, Lng: lng}, TimeWindow: tw, ServiceMinutes: &service, WeightKg: &weight,
		VolumeL: &volume, Items: &items, COD: &cod}
}

func printDemoLogins(out io.Writer, what string) {
	fmt.Fprintf(out, "\n%s\nDemo logins (password %q): admin, dispatcher, cashier, courier1 ... courier%d\n\n", what, demoPassword, len(demoCouriers))
}
