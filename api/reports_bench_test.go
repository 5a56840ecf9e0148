package api

import (
	"fmt"
	"net/http/httptest"
	"syscall"
	"testing"
	"time"

	"github.com/courierhq/courier"
	"github.com/courierhq/courier/reports"
	"github.com/gin-gonic/gin"
)

// BenchmarkReportsRender is the other half of reports.BenchmarkReports:
// what answering the delivery report of 30 days of 40 couriers and 1,000
// orders a day (30,000 stop lines and 1,200 day lines) costs in JSON and in
// CSV, after the report is built. A report's time through HTTP is the sum.
//
//	go test -run '^$' -bench ReportsRender -benchtime 3x ./api/
func BenchmarkReportsRender(b *testing.B) {
	gin.SetMode(gin.ReleaseMode)
	d := renderLines(30, 40, 1000)
	for _, format := range []string{"json", "csv"} {
		b.Run(format, func(b *testing.B) {
			var size int
			cpu0 := cpuTime()
			for range b.N {
				w := httptest.NewRecorder()
				c, _ := gin.CreateTestContext(w)
				writeDeliveries(c, d, format == "csv")
				size = w.Body.Len()
			}
			b.ReportMetric(float64((cpuTime()-cpu0).Milliseconds())/float64(b.N), "cpu-ms/op")
			b.ReportMetric(float64(size)/1e6, "MB")
		})
	}
}

// renderLines is a delivery report of days × couriers, perDay stops a day.
func renderLines(days, couriers, perDay int) *reports.Deliveries {
	d := &reports.Deliveries{Range: reports.Range{From: "2026-11-01", To: "2026-11-30"}}
	v := int64(3)
	total := &reports.DeliveryTotal{Currency: "RUB"}
	for day := range days {
		date := time.Date(2026, 11, 1+day, 0, 0, 0, 0, time.UTC).Format(time.DateOnly)
		for c := range couriers {
			name := fmt.Sprintf("Курьер %d", c+1)
			for i := range perDay / couriers {
				d.Lines = append(d.Lines, &reports.DeliveryLine{Kind: reports.LineStop, Date: date, CourierID: int64(c + 1), CourierName: name,
					Currency: "RUB", OrderID: int64(day*perDay + c*perDay/couriers + i + 1), ExternalID: fmt.Sprintf("SHOP-%d", 100000+day*perDay+i),
					SheetID: int64(day*couriers + c + 1), ZoneID: int64(i%5 + 1), Attempt: 1, Outcome: reports.OutcomeDelivered, WeightG: 15300,
					PaidBy: courier.PayCash, Fee: 38900, FeeParts: reports.FeeParts{Base: 24900, Weight: 5000, Distance: 2000, Window: 7000},
					TariffVersion: &v, FeeRule: "tariff v3: base (the base fee of zone 1) + weight (5 started kg above 3 kg) + " +
						"distance (4 started km from the depot) + window (a 90-minute window (over 0, up to 120 minutes))",
					AmountDue: 249900, Collected: 249900, CollectedBy: courier.PayCash, PayRuleID: 2, Pay: reports.Pay{Stop: 15000, Kg: 1530, Total: 16530}})
			}
			d.Lines = append(d.Lines, &reports.DeliveryLine{Kind: reports.LineDay, Date: date, CourierID: int64(c + 1), CourierName: name, Currency: "RUB",
				DistanceM: 63153, DistanceSource: reports.DistanceGPS, Shifts: 1, PayRuleID: 2,
				Pay: reports.Pay{Km: 63153, Shift: 30000, Total: 93153}})
		}
	}
	for c := range couriers {
		d.Couriers = append(d.Couriers, &reports.DeliveryTotal{CourierID: int64(c + 1), CourierName: fmt.Sprintf("Курьер %d", c+1), Currency: "RUB"})
	}
	d.Totals = append(d.Totals, total)
	return d
}

// cpuTime is the CPU time this process used.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
