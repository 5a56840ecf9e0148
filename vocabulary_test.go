package courier_test

import (
	"slices"
	"testing"
	"time"

	"github.com/courierhq/courier"
)

func TestOrderStateMachine(t *testing.T) {
	for _, test := range []struct {
		from, to courier.OrderStatus
		ok       bool
	}{
		{courier.StatusNew, courier.StatusConfirmed, true},
		{courier.StatusNew, courier.StatusReady, false},
		{courier.StatusConfirmed, courier.StatusReady, true},
		{courier.StatusAwaitingStock, courier.StatusReady, true},
		{courier.StatusReady, courier.StatusPlanned, true},
		{courier.StatusPlanned, courier.StatusOutForDelivery, true},
		{courier.StatusPlanned, courier.StatusCancelled, true},
		{courier.StatusOutForDelivery, courier.StatusCancelled, false},
		{courier.StatusOutForDelivery, courier.StatusDelivered, true},
		{courier.StatusFailedAttempt, courier.StatusReady, true},
		{courier.StatusFailedAttempt, courier.StatusReturnedToDepot, true},
		{courier.StatusRefused, courier.StatusReady, false},
		{courier.StatusRefused, courier.StatusReturnedToDepot, true},
		{courier.StatusDelivered, courier.StatusRefused, false},
		{courier.StatusCancelled, courier.StatusNew, false},
	} {
		if got := test.from.CanMoveTo(test.to); got != test.ok {
			t.Errorf("%s -> %s: %v, want %v", test.from, test.to, got, test.ok)
		}
	}
	// Every status before out_for_delivery may be cancelled; none after.
	for _, s := range courier.OrderStatuses() {
		before := slices.Index(courier.OrderStatuses(), s) < slices.Index(courier.OrderStatuses(), courier.StatusOutForDelivery)
		if s.CanMoveTo(courier.StatusCancelled) != before {
			t.Errorf("%s -> cancelled: %v", s, !before)
		}
	}
	if !courier.StatusDelivered.Final() || courier.StatusReady.Final() || courier.OrderStatus("lost").Valid() {
		t.Error("Final/Valid")
	}
}

func TestSheetNumber(t *testing.T) {
	for _, id := range []int64{1, 18, 12345678, 123456789, 9007199254740} {
		n := courier.SheetNumber(id)
		got, err := courier.ParseSheetNumber(n)
		if err != nil || got != id {
			t.Errorf("SheetNumber(%d) = %s parses to %d, %v", id, n, got, err)
		}
		// Every single-digit typo and every swap of two neighbouring different digits is caught.
		for i := range n {
			for d := byte('0'); d <= '9'; d++ {
				if d == n[i] {
					continue
				}
				typo := n[:i] + string(d) + n[i+1:]
				if _, err := courier.ParseSheetNumber(typo); err == nil {
					t.Errorf("typo %s of %s accepted", typo, n)
				}
			}
			if i+1 < len(n) && n[i] != n[i+1] && !(n[i] == '0' && n[i+1] == '9') && !(n[i] == '9' && n[i+1] == '0') {
				swap := n[:i] + string(n[i+1]) + string(n[i]) + n[i+2:]
				if _, err := courier.ParseSheetNumber(swap); err == nil {
					t.Errorf("swap %s of %s accepted", swap, n)
				}
			}
		}
	}
	for _, bad := range []string{"", "12345", "0000000a8", "00000000000000000000", "000000000"} {
		if _, err := courier.ParseSheetNumber(bad); courier.ErrorCode(err) != courier.EINVALID {
			t.Errorf("ParseSheetNumber(%q) = %v", bad, err)
		}
	}
	if n := courier.SheetNumber(18); len(n) != 9 || n[:8] != "00000018" {
		t.Errorf("SheetNumber(18) = %s", n)
	}
}

func TestMoney(t *testing.T) {
	for _, test := range []struct {
		m    courier.Money
		want string
	}{
		{courier.Money{Amount: 249900, Currency: "RUB"}, "2499.00 RUB"},
		{courier.Money{Amount: 5, Currency: "EUR"}, "0.05 EUR"},
		{courier.Money{Amount: -150, Currency: "USD"}, "-1.50 USD"},
		{courier.Money{Amount: 1500, Currency: "JPY"}, "1500 JPY"},
		{courier.Money{Amount: 1234, Currency: "KWD"}, "1.234 KWD"},
	} {
		if got := test.m.String(); got != test.want {
			t.Errorf("%+v = %q, want %q", test.m, got, test.want)
		}
	}
	if err := (courier.Money{Amount: -1, Currency: "RUB"}).Validate("cod"); courier.ErrorDetails(err)["field"] != "cod.amount" {
		t.Errorf("negative: %v", err)
	}
	if err := (courier.Money{Amount: courier.MaxAmount + 1, Currency: "RUB"}).Validate("cod"); courier.ErrorDetails(err)["field"] != "cod.amount" {
		t.Errorf("an amount past the maximum: %v", err)
	}
	if err := (courier.Money{Amount: courier.MaxAmount, Currency: "RUB"}).Validate("cod"); err != nil {
		t.Errorf("the maximum itself: %v", err)
	}
	if err := (courier.Money{Amount: 1, Currency: "rub"}).Validate("cod"); courier.ErrorDetails(err)["field"] != "cod.currency" {
		t.Errorf("lower-case currency: %v", err)
	}
}

func TestParseClock(t *testing.T) {
	for in, want := range map[string]int{"00:00": 0, "09:30": 570, "23:59": 1439, "24:00": 1440} {
		if got, err := courier.ParseClock("f", in); err != nil || got != want {
			t.Errorf("%s = %d, %v", in, got, err)
		}
	}
	for _, bad := range []string{"", "9:30", "24:01", "12:60", "ab:cd", "12-30"} {
		if _, err := courier.ParseClock("f", bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

func TestZoneActive(t *testing.T) {
	msk, _ := time.LoadLocation("Europe/Moscow")
	z := courier.Zone{Kind: courier.ZoneDynamic, ValidFrom: "2026-12-01", ValidTo: "2026-12-31", Weekdays: []int{6, 7}, HoursFrom: "20:00", HoursTo: "02:00"}
	for _, test := range []struct {
		at   time.Time
		want bool
	}{
		{time.Date(2026, 12, 5, 21, 0, 0, 0, msk), true},   // Saturday evening
		{time.Date(2026, 12, 5, 12, 0, 0, 0, msk), false},  // Saturday noon
		{time.Date(2026, 12, 6, 1, 30, 0, 0, msk), true},   // after midnight, Sunday
		{time.Date(2026, 12, 7, 21, 0, 0, 0, msk), false},  // Monday
		{time.Date(2026, 11, 28, 21, 0, 0, 0, msk), false}, // before valid_from
	} {
		if got := z.ActiveAt(test.at, msk); got != test.want {
			t.Errorf("%v: %v, want %v", test.at, got, test.want)
		}
	}
	if !(&courier.Zone{Kind: courier.ZonePermanent}).ActiveOn("1999-01-01") {
		t.Error("a permanent zone is always active")
	}
}
