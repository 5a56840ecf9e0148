package api

import "testing"

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
