// Package storetest is the contract test suite of courier.Store. Every
// implementation runs it: store/sqlite_test.go and store/postgres_test.go.
//
//	func TestSQLite(t *testing.T) {
//		storetest.Run(t, func(t *testing.T) courier.Store { ... a fresh, empty store ... })
//	}
//
// open must return a new empty store for each call and close it with t.Cleanup.
package storetest

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	courier "github.com/courierhq/courier"
)

// Run runs the whole suite; each subtest opens its own store.
func Run(t *testing.T, open func(t *testing.T) courier.Store) {
	for _, test := range []struct {
		name string
		fn   func(t *testing.T, s courier.Store)
	}{
		{"Ping", testPing},
		{"Users", testUsers},
		{"UpdateUser", testUpdateUser},
		{"RefreshFamilies", testRefreshFamilies},
		{"Depots", testDepots},
		{"DeleteDepot", testDeleteDepot},
		{"CreateCourier", testCreateCourier},
		{"CreateCourierRollback", testCreateCourierRollback},
		{"ListCouriers", testListCouriers},
		{"UpdateCourier", testUpdateCourier},
		{"CreateOrder", testCreateOrder},
		{"OrderRoundTrip", testOrderRoundTrip},
		{"OrderExternalID", testOrderExternalID},
		{"OrderReferences", testOrderReferences},
		{"ListOrdersFilters", testListOrdersFilters},
		{"ListOrdersSearch", testListOrdersSearch},
		{"ListOrdersPaging", testListOrdersPaging},
		{"UpdateOrder", testUpdateOrder},
		{"UpdateOrderFnError", testUpdateOrderFnError},
		{"UpdateOrderConcurrent", testUpdateOrderConcurrent},
		{"OrderHistory", testOrderHistory},
		{"Idempotency", testIdempotency},
		{"IdempotencyReserveRace", testIdempotencyReserveRace},
		{"IdempotencyPurge", testIdempotencyPurge},
		{"LedgerPostings", testLedgerPostings},
		{"LedgerSettle", testLedgerSettle},
		{"LedgerSettleConcurrent", testLedgerSettleConcurrent},
		{"LedgerReturnItem", testLedgerReturnItem},
		{"LedgerPostLedger", testLedgerPostLedger},
		{"PlanProblem", testPlanProblem},
		{"Tariffs", testTariffs},
		{"PayRules", testPayRules},
		{"StopAttempts", testStopAttempts},
	} {
		t.Run(test.name, func(t *testing.T) {
			t.Parallel()
			test.fn(t, open(t))
		})
	}
}

func ctx(t *testing.T) context.Context { return t.Context() }

// wantCode fails unless err is a domain error with code.
func wantCode(t *testing.T, err error, code string) *courier.Error {
	t.Helper()
	if err == nil {
		t.Fatalf("got no error, want %s", code)
	}
	var e *courier.Error
	if !errors.As(err, &e) {
		t.Fatalf("got %v (%T), want a *courier.Error with code %s", err, err, code)
	}
	if e.Code != code {
		t.Fatalf("got code %s (%v), want %s", e.Code, err, code)
	}
	if strings.Contains(strings.ToUpper(e.Message), "SELECT ") || strings.Contains(strings.ToUpper(e.Message), "INSERT ") ||
		strings.Contains(e.Message, "constraint") || strings.Contains(e.Message, "SQLSTATE") {
		t.Fatalf("domain error message leaks SQL: %q", e.Message)
	}
	return e
}

// wantMessage fails unless err's domain message contains each of parts.
func wantMessage(t *testing.T, err error, parts ...string) {
	t.Helper()
	m := courier.ErrorMessage(err)
	for _, p := range parts {
		if !strings.Contains(m, p) {
			t.Fatalf("message %q does not contain %q", m, p)
		}
	}
}

// wantField fails unless the domain error names field in its Details or message.
func wantField(t *testing.T, err error, field string) {
	t.Helper()
	if f, _ := courier.ErrorDetails(err)["field"].(string); f == field {
		return
	}
	if strings.Contains(courier.ErrorMessage(err), field) {
		return
	}
	t.Fatalf("error %v does not name the field %s", err, field)
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// wantRecent fails unless tm is in UTC and within the test's time frame.
func wantRecent(t *testing.T, what string, tm, since time.Time) {
	t.Helper()
	if tm.IsZero() {
		t.Fatalf("%s is zero", what)
	}
	if tm.Location() != time.UTC {
		t.Fatalf("%s = %v is not in UTC", what, tm)
	}
	if tm.Before(since.Add(-time.Second)) || tm.After(time.Now().Add(time.Second)) {
		t.Fatalf("%s = %v, not between %v and now", what, tm, since)
	}
}

// wantUTC fails unless tm is in UTC.
func wantUTC(t *testing.T, what string, tm time.Time) {
	t.Helper()
	if tm.Location() != time.UTC {
		t.Fatalf("%s = %v is not in UTC", what, tm)
	}
}

func testPing(t *testing.T, s courier.Store) {
	must(t, s.Ping(ctx(t)))
}

// newDepot creates a valid depot.
func newDepot(t *testing.T, s courier.Store, name string) *courier.Depot {
	t.Helper()
	d := &courier.Depot{Name: name, Address: "1 Dock Road", Location: courier.LatLng{Lat: 55.75, Lng: 37.61}, Opens: "08:00", Closes: "20:00"}
	must(t, s.CreateDepot(ctx(t), d))
	return d
}

// newCourier creates a courier at depot, with a login user when login is not empty.
func newCourier(t *testing.T, s courier.Store, depotID int64, name, login string) *courier.Courier {
	t.Helper()
	c := &courier.Courier{
		Name: name, Phone: "+7 900 000-00-01",
		Vehicle: courier.Vehicle{Type: courier.VehicleCar, CapacityKg: 500, CapacityL: 2000, MaxStops: 30},
		Shift:   courier.Shift{Start: "09:00", End: "18:00"},
		DepotID: depotID, ZoneIDs: []int64{3, 1}, Active: true,
	}
	var u *courier.User
	if login != "" {
		u = &courier.User{Login: login, Name: name, Role: courier.RoleCourier, PasswordHash: "$2a$10$hash", Active: true}
	}
	must(t, s.CreateCourier(ctx(t), c, u))
	return c
}
