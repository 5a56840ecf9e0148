package api

import (
	"slices"
	"testing"

	"github.com/courierhq/courier/reports"
)

// TestReportCells: CSV cells a spreadsheet reads as numbers, and text it
// never reads as a formula.
func TestReportCells(t *testing.T) {
	for _, c := range []struct{ got, want string }{
		{milli(0).String(), "0"},
		{milli(5).String(), "0.005"},
		{milli(1500).String(), "1.5"},
		{milli(12345).String(), "12.345"},
		{milli(-250).String(), "-0.25"},
		{major(0, "RUB"), "0.00"},
		{major(123456, "RUB"), "1234.56"},
		{major(-5, "RUB"), "-0.05"},
		{major(1500, "JPY"), "1500"},
		{major(1234, "KWD"), "1.234"},
		{major(7, "RUB"), "0.07"},
		{major(-123456, "RUB"), "-1234.56"},
		{major(-9223372036854775808, "RUB"), "-92233720368547758.08"},
		{major(-1500, "JPY"), "-1500"},
		{major(5, "KWD"), "0.005"},
		{textCell("=HYPERLINK(\"http://x\")"), "'=HYPERLINK(\"http://x\")"},
		{textCell("-1+2"), "'-1+2"},
		{textCell("@SUM(A1)"), "'@SUM(A1)"},
		{textCell("Anna"), "Anna"},
		{textCell(""), ""},
	} {
		if c.got != c.want {
			t.Errorf("%q, want %q", c.got, c.want)
		}
	}
}

// TestPayCellsText: every free text of a delivery line is quoted against
// formulas, also the reason a dispatcher typed when marking a stop failed.
func TestPayCellsText(t *testing.T) {
	formula := `=HYPERLINK("http://x","click")`
	l := &reports.DeliveryLine{Kind: reports.LineStop, Date: "2026-11-23", CourierID: 1, CourierName: formula, Currency: "RUB", OrderID: 2,
		ExternalID: formula, Outcome: reports.OutcomeFailed, FailReason: formula}
	cells := payCells(l)
	for _, col := range []string{"courier_name", "external_id", "fail_reason"} {
		i := slices.Index(payHeader, col)
		if got := cells[i]; got != "'"+formula {
			t.Errorf("%s: %q", col, got)
		}
	}
}
