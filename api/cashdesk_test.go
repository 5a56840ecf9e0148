package api_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/courierhq/courier"
	"github.com/courierhq/courier/dispatch"
)

// cashSheet puts new cash orders of the given amounts (minor units) on a new
// route sheet of courier login, active with its orders out for delivery, as
// publishing and starting it would; it returns the sheet and the order ids.
func (e *env) cashSheet(login string, amounts ...int64) (*courier.RouteSheet, []int64) {
	e.t.Helper()
	ctx := context.Background()
	plan := &courier.Plan{Date: "2026-11-23", DepotID: e.depotID, Status: courier.PlanDone, TimeLimit: time.Second}
	if err := e.db.CreatePlan(ctx, plan); err != nil {
		e.t.Fatal(err)
	}
	sh := &courier.RouteSheet{CourierID: e.courier[login], DepotID: e.depotID, Date: "2026-11-23", Start: day.Add(6 * time.Hour), End: day.Add(15 * time.Hour)}
	var ids []int64
	for i, a := range amounts {
		method := courier.PayCash
		if a < 0 {
			a, method = -a, courier.PayCard // a negative amount in the list is a card order
		}
		o := &courier.Order{ExternalID: fmt.Sprintf("CD-%d-%d-%d", plan.ID, i, rand.Int64()), Customer: courier.Customer{Name: "Anna", Phone: "+7 903 123-45-67"},
			Address: "Tverskaya 7", Location: courier.LatLng{Lat: 55.75, Lng: 37.61}, DeliveryDate: "2026-11-23", Status: courier.StatusReady,
			Items:         []courier.Item{{SKU: "K", Name: "Kettle", Qty: 1, Barcode: fmt.Sprintf("BC-%d-%d", plan.ID, i)}},
			COD:           courier.COD{Amount: a, Currency: "RUB", Method: method},
			PaymentStatus: courier.PaymentCODPending, DepotID: e.depotID}
		if err := e.db.CreateOrder(ctx, o, &courier.OrderEvent{Kind: courier.EventCreated, ToStatus: o.Status}); err != nil {
			e.t.Fatal(err)
		}
		ids = append(ids, o.ID)
		sh.Stops = append(sh.Stops, courier.SheetStop{OrderID: o.ID, Seq: i + 1})
	}
	if err := e.db.ReplaceDraftSheets(ctx, plan.ID, []*courier.RouteSheet{sh}); err != nil {
		e.t.Fatal(err)
	}
	_, err := e.db.UpdateSheets(ctx, []int64{sh.ID}, ids, func(sheets []*courier.RouteSheet, orders map[int64]*courier.Order) ([]courier.OrderEvent, error) {
		sheets[0].Status = courier.SheetActive
		var evs []courier.OrderEvent
		for _, o := range orders {
			o.Status, o.CourierID, o.RouteSheetID = courier.StatusOutForDelivery, sh.CourierID, sh.ID
			evs = append(evs, courier.OrderEvent{OrderID: o.ID, Kind: courier.EventStatus, FromStatus: courier.StatusReady, ToStatus: o.Status})
		}
		return evs, nil
	})
	if err != nil {
		e.t.Fatal(err)
	}
	return sh, ids
}

type cashScanOut struct {
	Sheet struct {
		ID          int64
		Number      string
		CourierName string `json:"courier_name"`
	}
	Orders []struct {
		OrderID           int64 `json:"order_id"`
		State             string
		ExpectedCash      int64 `json:"expected_cash"`
		ReportedCollected int64 `json:"reported_collected"`
		Outstanding       int64
	}
	Totals struct {
		Expected, Pending, Settled, Outstanding, Counted, Discrepancy, Card int64
		GoodsDue                                                            int64 `json:"goods_due"`
	}
	Settlements []json.RawMessage
}

type settlementOut struct {
	ID          int64
	SheetID     int64 `json:"sheet_id"`
	Expected    struct{ Amount int64 }
	Counted     struct{ Amount int64 }
	Discrepancy struct{ Amount int64 }
	Orders      []struct {
		OrderID int64 `json:"order_id"`
		Amount  int64
	}
}

func settleBody(barcode string, amount int64) map[string]any {
	return map[string]any{"barcode": barcode, "counted": map[string]any{"amount": amount, "currency": "RUB"}}
}

// jti returns the id of an access token (its payload, unverified).
func jti(t *testing.T, token string) string {
	parts := strings.Split(token, ".")
	b, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	var c struct{ Jti string }
	if err := json.Unmarshal(b, &c); err != nil || c.Jti == "" {
		t.Fatalf("token payload %s: %v", b, err)
	}
	return c.Jti
}

// ledgerSumsToZero fails unless every transaction of the ledger balances.
func (e *env) ledgerSumsToZero() {
	e.t.Helper()
	ps, err := e.db.Postings(context.Background(), courier.PostingFilter{})
	if err != nil {
		e.t.Fatal(err)
	}
	if err := courier.CheckBalanced(ps); err != nil {
		e.t.Fatal(err)
	}
	sums := map[string]int64{}
	for _, p := range ps {
		sums[p.Currency] += p.Amount
	}
	for cur, s := range sums {
		if s != 0 {
			e.t.Fatalf("the ledger sums to %d %s", s, cur)
		}
	}
}

// TestCashdesk walks a cashier's day through every cash desk route.
func TestCashdesk(t *testing.T) {
	backends(t, func(t *testing.T, e *env) {
		sh, ids := e.cashSheet("courier1", 249900, 100000, -50000, 30000)
		for _, id := range ids[:3] {
			e.moveOrder(id, "courier1", "delivered")
		}
		e.moveOrder(ids[3], "courier1", "refused")
		path := "/api/v1/cashdesk/sheets/" + sh.Number

		// The scan: a courier may not; a mistyped number is caught by its check digit.
		e.must(e.do("GET", path, "courier1", nil), 403)
		bad := sh.Number[:len(sh.Number)-1] + string('0'+(sh.Number[len(sh.Number)-1]-'0'+3)%10)
		if r := e.must(e.do("GET", "/api/v1/cashdesk/sheets/"+bad, "cashier", nil), 422); r.errorField() != "barcode" {
			t.Errorf("wrong check digit: %s", r.Body)
		}
		e.must(e.do("GET", "/api/v1/cashdesk/sheets/12ab", "cashier", nil), 422)
		e.must(e.do("GET", "/api/v1/cashdesk/sheets/"+courier.SheetNumber(424242), "cashier", nil), 404)
		var scan cashScanOut
		e.decode(e.must(e.do("GET", path, "cashier", nil), 200), &scan)
		if scan.Sheet.ID != sh.ID || scan.Sheet.CourierName != "Courier courier1" || len(scan.Orders) != 4 ||
			scan.Totals.Expected != 349900 || scan.Totals.Outstanding != 349900 || scan.Totals.Card != 50000 || scan.Totals.GoodsDue != 1 {
			t.Fatalf("scan = %+v", scan)
		}
		if o := scan.Orders[0]; o.State != "to_settle" || o.ExpectedCash != 249900 || o.ReportedCollected != 249900 {
			t.Errorf("first line = %+v", o)
		}

		// Settling needs an open shift.
		key := "Idempotency-Key"
		e.must(e.do("POST", "/api/v1/cashdesk/settlements", "cashier", settleBody(sh.Number, 349900), key, "s-1"), 409)
		e.must(e.do("POST", "/api/v1/cashdesk/shifts", "courier1", map[string]any{"depot_id": e.depotID}), 403)
		e.must(e.do("GET", "/api/v1/cashdesk/shifts/current", "cashier", nil), 404)
		var shift struct{ ID int64 }
		e.decode(e.must(e.do("POST", "/api/v1/cashdesk/shifts", "cashier", map[string]any{"depot_id": e.depotID, "note": "float 0"}), 201), &shift)
		e.must(e.do("POST", "/api/v1/cashdesk/shifts", "cashier", map[string]any{"depot_id": e.depotID}), 409)
		var current struct {
			Shift struct {
				ID     int64
				Status string
			}
		}
		e.decode(e.must(e.do("GET", "/api/v1/cashdesk/shifts/current", "cashier", nil), 200), &current)
		if current.Shift.ID != shift.ID || current.Shift.Status != "open" {
			t.Errorf("current shift: %+v, want %d open", current, shift.ID)
		}
		e.must(e.do("GET", "/api/v1/cashdesk/shifts/current", "courier1", nil), 403)

		// Bad input.
		for _, test := range []struct {
			name  string
			user  string
			body  any
			key   string
			want  int
			field string
		}{
			{"a courier", "courier1", settleBody(sh.Number, 349900), "b1", 403, ""},
			{"a dispatcher", "dispatcher", settleBody(sh.Number, 349900), "b1", 403, ""},
			{"fractional", "cashier", `{"barcode": "` + sh.Number + `", "counted": {"amount": 3499.5, "currency": "RUB"}}`, "b2", 400, "counted.amount"},
			{"negative", "cashier", settleBody(sh.Number, -1), "b3", 422, "counted.amount"},
			{"wrong currency", "cashier", map[string]any{"barcode": sh.Number, "counted": map[string]any{"amount": 100, "currency": "USD"}}, "b4", 422, "counted.currency"},
			{"no currency", "cashier", map[string]any{"barcode": sh.Number, "counted": map[string]any{"amount": 100}}, "b5", 422, "counted.currency"},
			{"no counted", "cashier", map[string]any{"barcode": sh.Number}, "b6", 422, "counted"},
			{"unknown field", "cashier", map[string]any{"barcode": sh.Number, "counted": map[string]any{"amount": 1, "currency": "RUB"}, "tip": 1}, "b7", 400, "tip"},
			{"wrong check digit", "cashier", settleBody(bad, 349900), "b8", 422, "barcode"},
			{"unknown sheet", "cashier", settleBody(courier.SheetNumber(424242), 349900), "b9", 404, ""},
			{"no key", "cashier", settleBody(sh.Number, 349900), "", 422, "Idempotency-Key"},
			{"denominations off", "cashier", map[string]any{"barcode": sh.Number, "counted": map[string]any{"amount": 349900, "currency": "RUB"},
				"denominations": []any{map[string]any{"value": 500000, "count": 1}}}, "b10", 422, "denominations"},
		} {
			r := e.do("POST", "/api/v1/cashdesk/settlements", test.user, test.body, key, test.key)
			if r.Status != test.want || (test.field != "" && r.errorField() != test.field) {
				t.Errorf("%s: %d %s, want %d naming %q", test.name, r.Status, r.Body, test.want, test.field)
			}
		}

		// A shortage of 99.00 with denominations and a note.
		body := map[string]any{"barcode": sh.Number, "counted": map[string]any{"amount": 340000, "currency": "RUB"}, "note": "courier dropped a note",
			"denominations": []any{map[string]any{"value": 500000, "count": 0}, map[string]any{"value": 100000, "count": 3}, map[string]any{"value": 20000, "count": 2}}}
		first := e.must(e.do("POST", "/api/v1/cashdesk/settlements", "cashier", body, key, "s-1"), 201)
		var st settlementOut
		e.decode(first, &st)
		if st.Expected.Amount != 349900 || st.Counted.Amount != 340000 || st.Discrepancy.Amount != -9900 || len(st.Orders) != 2 {
			t.Fatalf("settlement = %s", first.Body)
		}
		// The retry answers the same, replayed; the key with another body is 422.
		again := e.must(e.do("POST", "/api/v1/cashdesk/settlements", "cashier", body, key, "s-1"), 201)
		if !bytes.Equal(again.Body, first.Body) || again.Header.Get("Idempotent-Replayed") != "true" {
			t.Errorf("replay: %s (%v)\nfirst: %s", again.Body, again.Header, first.Body)
		}
		if r := e.must(e.do("POST", "/api/v1/cashdesk/settlements", "cashier", settleBody(sh.Number, 349900), key, "s-1"), 422); r.errorCode() != "idempotency_key_reused" {
			t.Errorf("reused key: %s", r.Body)
		}
		// Settling twice is 409: nothing outstanding.
		e.must(e.do("POST", "/api/v1/cashdesk/settlements", "cashier", settleBody(sh.Number, 349900), key, "s-2"), 409)
		// A sheet with nothing delivered yet is 409 too.
		pending, _ := e.cashSheet("courier2", 1000)
		if r := e.must(e.do("POST", "/api/v1/cashdesk/settlements", "cashier", settleBody(pending.Number, 1000), key, "s-3"), 409); !strings.Contains(string(r.Body), "not delivered") {
			t.Errorf("pending sheet: %s", r.Body)
		}
		// The settlement and its postings record the cashier's token.
		stored, err := e.db.SettlementByKey(context.Background(), "user:"+itoa(cashierID(e)), "s-1")
		if err != nil {
			t.Fatal(err)
		}
		want := jti(t, e.tokens["cashier"])
		ps, _ := e.db.Postings(context.Background(), courier.PostingFilter{TxID: stored.TxID})
		if stored.TokenID != want || len(ps) < 3 {
			t.Errorf("settlement token %q, %d postings; want %q", stored.TokenID, len(ps), want)
		}
		for _, p := range ps {
			if p.TokenID != want || p.ActorID != cashierID(e) {
				t.Errorf("posting %+v lacks the cashier's audit", p)
			}
		}
		delivered, _ := e.db.Postings(context.Background(), courier.PostingFilter{SheetID: sh.ID, Accounts: []string{courier.AccountCODRevenue}})
		if len(delivered) != 3 || delivered[0].TokenID != jti(t, e.tokens["courier1"]) {
			t.Errorf("delivery postings = %+v, want the courier's token", delivered)
		}

		// Returned goods.
		e.must(e.do("POST", "/api/v1/cashdesk/returns", "courier1", map[string]any{"barcode": sh.Number, "item_barcode": "x"}), 403)
		e.must(e.do("POST", "/api/v1/cashdesk/returns", "cashier", map[string]any{"barcode": sh.Number, "item_barcode": "nope"}), 422)
		var ret struct {
			OrderStatus   string `json:"order_status"`
			OrderComplete bool   `json:"order_complete"`
		}
		e.decode(e.must(e.do("POST", "/api/v1/cashdesk/returns", "cashier", map[string]any{"barcode": sh.Number,
			"item_barcode": fmt.Sprintf("BC-%d-3", sh.PlanID)}), 201), &ret)
		if ret.OrderStatus != "returned_to_depot" || !ret.OrderComplete {
			t.Errorf("return = %+v", ret)
		}
		e.must(e.do("POST", "/api/v1/cashdesk/returns", "cashier", map[string]any{"barcode": sh.Number, "item_barcode": fmt.Sprintf("BC-%d-3", sh.PlanID)}), 409)

		// Balances: a courier reads their own only.
		c1 := itoa(e.courier["courier1"])
		var bal struct {
			Owed, Cash, Discrepancy, Goods int64
			Entries                        []struct{ Account string }
			NextCursor                     *string `json:"next_cursor"`
		}
		e.decode(e.must(e.do("GET", "/api/v1/cashdesk/couriers/"+c1+"/balance", "courier1", nil), 200), &bal)
		if bal.Owed != 9900 || bal.Cash != 0 || bal.Discrepancy != 9900 || bal.Goods != 0 || len(bal.Entries) == 0 {
			t.Errorf("balance = %+v", bal)
		}
		e.must(e.do("GET", "/api/v1/cashdesk/couriers/"+c1+"/balance", "courier2", nil), 403)
		e.decode(e.must(e.do("GET", "/api/v1/cashdesk/couriers/"+c1+"/balance?limit=2", "cashier", nil), 200), &bal)
		if len(bal.Entries) != 2 || bal.NextCursor == nil {
			t.Errorf("page = %+v", bal)
		}
		e.must(e.do("GET", "/api/v1/cashdesk/couriers/"+c1+"/balance?cursor="+*bal.NextCursor, "cashier", nil), 200)
		e.must(e.do("GET", "/api/v1/cashdesk/couriers/9999/balance", "cashier", nil), 404)
		var debtors struct {
			Items []struct {
				CourierID int64 `json:"courier_id"`
				Owed      int64
			}
		}
		e.decode(e.must(e.do("GET", "/api/v1/cashdesk/debtors?depot_id="+itoa(e.depotID), "cashier", nil), 200), &debtors)
		if len(debtors.Items) != 1 || debtors.Items[0].Owed != 9900 {
			t.Errorf("debtors = %+v", debtors)
		}
		e.must(e.do("GET", "/api/v1/cashdesk/debtors", "courier1", nil), 403)

		// The courier pays 50.00 of the shortage in; more than is open is refused.
		resolve := "/api/v1/cashdesk/couriers/" + c1 + "/resolutions"
		e.must(e.do("POST", resolve, "cashier", map[string]any{"amount": map[string]any{"amount": 10000, "currency": "RUB"}, "method": "cash"}, key, "r-1"), 422)
		paid := map[string]any{"amount": map[string]any{"amount": 5000, "currency": "RUB"}, "method": "cash", "note": "paid in"}
		e.must(e.do("POST", resolve, "cashier", paid), 422) // no key
		firstPaid := e.must(e.do("POST", resolve, "cashier", paid, key, "r-2"), 201)
		if r := e.must(e.do("POST", resolve, "cashier", paid, key, "r-2"), 201); !bytes.Equal(r.Body, firstPaid.Body) || r.Header.Get("Idempotent-Replayed") != "true" {
			t.Errorf("retried repayment: %s", r.Body)
		}
		e.must(e.do("POST", resolve, "cashier", map[string]any{"amount": map[string]any{"amount": 4900, "currency": "RUB"}, "method": "write_off", "note": "x"}, key, "r-3"), 403)

		// The shift: its report so far, then closing.
		var rep struct {
			Shift            struct{ Status string }
			Settlements      int
			CashIn           int64 `json:"cash_in"`
			DiscrepancyTotal int64 `json:"discrepancy_total"`
			ByMethod         []struct {
				Method string
				Amount int64
			} `json:"by_method"`
			Owing []struct{ Owed int64 }
		}
		sid := itoa(shift.ID)
		e.decode(e.must(e.do("GET", "/api/v1/cashdesk/shifts/"+sid, "cashier", nil), 200), &rep)
		if rep.Shift.Status != "open" || rep.CashIn != 345000 {
			t.Errorf("shift so far = %+v", rep)
		}
		e.must(e.do("POST", "/api/v1/cashdesk/shifts/"+sid+"/close", "dispatcher", nil), 403)
		e.decode(e.must(e.do("POST", "/api/v1/cashdesk/shifts/"+sid+"/close", "cashier", map[string]any{"note": "done"}), 200), &rep)
		if rep.Shift.Status != "closed" || rep.Settlements != 1 || rep.DiscrepancyTotal != -9900 || rep.ByMethod[0].Amount != 340000 ||
			rep.ByMethod[1].Amount != 50000 || len(rep.Owing) != 1 || rep.Owing[0].Owed != 4900 {
			t.Errorf("closing report = %+v", rep)
		}
		e.must(e.do("POST", "/api/v1/cashdesk/shifts/"+sid+"/close", "cashier", nil), 409)
		e.must(e.do("GET", "/api/v1/cashdesk/shifts/"+sid, "admin", nil), 200)
		e.must(e.do("GET", "/api/v1/cashdesk/shifts/9999", "admin", nil), 404)

		// The day's reconciliation balances, in JSON and in CSV.
		q := "/api/v1/cashdesk/reconciliation?date=2026-11-23&depot_id=" + itoa(e.depotID)
		var rec struct {
			Balanced bool
			Totals   []struct {
				Currency      string
				Debit, Credit int64
			}
		}
		e.decode(e.must(e.do("GET", q, "cashier", nil), 200), &rec)
		if !rec.Balanced || len(rec.Totals) != 2 || rec.Totals[0].Debit != rec.Totals[0].Credit {
			t.Errorf("reconciliation = %+v", rec)
		}
		for _, r := range []*response{e.must(e.do("GET", q+"&format=csv", "cashier", nil), 200), e.must(e.do("GET", q, "admin", nil, "Accept", "text/csv"), 200)} {
			rows, err := csv.NewReader(bytes.NewReader(r.Body)).ReadAll()
			if err != nil || len(rows) < 4 || rows[0][0] != "account" || !strings.HasPrefix(r.Header.Get("Content-Type"), "text/csv") {
				t.Fatalf("csv: %v %q", err, r.Body)
			}
			for _, row := range rows {
				if row[0] == "TOTAL" && (row[2] != row[3] || row[4] != "0") {
					t.Errorf("csv total does not balance: %v", row)
				}
			}
		}
		e.must(e.do("GET", "/api/v1/cashdesk/reconciliation?date=yesterday&depot_id=1", "cashier", nil), 422)
		e.must(e.do("GET", "/api/v1/cashdesk/reconciliation?date=2026-11-23", "cashier", nil), 422)
		e.must(e.do("GET", q, "courier1", nil), 403)
		e.ledgerSumsToZero()
	})
}

func cashierID(e *env) int64 {
	u, err := e.db.UserByLogin(context.Background(), "cashier")
	if err != nil {
		e.t.Fatal(err)
	}
	return u.ID
}

// TestCashdeskSettleStorm sends 1,000 settle requests at once over 50 route
// sheets: three keys per sheet, each sent many times, some requests retried
// after their answer. Every sheet is settled exactly once, every answer of a
// key is the same settlement, and the ledger balances.
func TestCashdeskSettleStorm(t *testing.T) {
	backends(t, func(t *testing.T, e *env) {
		const sheets, requests = 50, 1000
		type target struct {
			number string
			id     int64
			amount int64
		}
		var targets []target
		var orders []int64
		for i := range sheets {
			login := []string{"courier1", "courier2"}[i%2]
			amounts := []int64{int64(1000 + i*10), int64(2000 + i)}
			sh, ids := e.cashSheet(login, amounts...)
			targets = append(targets, target{sh.Number, sh.ID, amounts[0] + amounts[1]})
			orders = append(orders, ids...)
			for _, id := range ids {
				if _, err := e.svc.ChangeStatus(context.Background(), courier.Actor{UserID: 1, Role: courier.RoleCourier, CourierID: e.courier[login]}, id,
					dispatch.StatusChange{To: courier.StatusDelivered}); err != nil {
					t.Fatal(err)
				}
			}
		}
		e.must(e.do("POST", "/api/v1/cashdesk/shifts", "cashier", map[string]any{"depot_id": e.depotID}), 201)

		var (
			mu       sync.Mutex
			byKey    = map[string][]byte{} // key -> first 201 body
			bySheet  = map[int]int64{}     // sheet index -> settlement id
			statuses = map[int]int{}       // status -> count
			created  atomic.Int64          // fresh settlements (not replayed)
			retries  atomic.Int64
		)
		start := time.Now()
		var wg sync.WaitGroup
		gate := make(chan struct{})
		for n := range requests {
			wg.Go(func() {
				<-gate
				rng := rand.New(rand.NewPCG(uint64(n), 42))
				i := n % sheets
				key := fmt.Sprintf("storm-%d-%d", i, rng.IntN(3))
				tries := 1 + rng.IntN(2) // some clients retry after their answer
				if tries > 1 {
					retries.Add(1)
				}
				for range tries {
					r := e.do("POST", "/api/v1/cashdesk/settlements", "cashier", settleBody(targets[i].number, targets[i].amount), "Idempotency-Key", key)
					mu.Lock()
					statuses[r.Status]++
					if r.Status == 201 {
						var st settlementOut
						_ = json.Unmarshal(r.Body, &st)
						if prev, ok := byKey[key]; ok && !bytes.Equal(prev, r.Body) {
							t.Errorf("key %s answered two different bodies:\n%s\n%s", key, prev, r.Body)
						} else if !ok {
							byKey[key] = r.Body
						}
						if id, ok := bySheet[i]; ok && id != st.ID {
							t.Errorf("sheet %d settled twice: %d and %d", i, id, st.ID)
						}
						bySheet[i] = st.ID
						if r.Header.Get("Idempotent-Replayed") != "true" {
							created.Add(1)
						}
					} else if r.Status != 409 {
						t.Errorf("unexpected answer %d: %s", r.Status, r.Body)
					}
					mu.Unlock()
				}
			})
		}
		close(gate)
		wg.Wait()
		elapsed := time.Since(start)

		if len(bySheet) != sheets || created.Load() != sheets {
			t.Errorf("%d sheets settled, %d settlements created; want %d each", len(bySheet), created.Load(), sheets)
		}
		for i, tg := range targets {
			list, err := e.db.Settlements(context.Background(), courier.SettlementFilter{SheetID: tg.id})
			if err != nil {
				t.Fatal(err)
			}
			if len(list) != 1 || list[0].ID != bySheet[i] || list[0].Expected != tg.amount || list[0].Counted != tg.amount {
				t.Errorf("sheet %d: %d settlements stored", i, len(list))
			}
		}
		for _, id := range orders {
			o, err := e.db.Order(context.Background(), id)
			if err != nil || o.PaymentStatus != courier.PaymentDeposited {
				t.Errorf("order %d: %v %v", id, o.PaymentStatus, err)
			}
		}
		for _, login := range []string{"courier1", "courier2"} {
			var bal struct{ Owed, Cash int64 }
			e.decode(e.must(e.do("GET", "/api/v1/cashdesk/couriers/"+itoa(e.courier[login])+"/balance", "cashier", nil), 200), &bal)
			if bal.Owed != 0 || bal.Cash != 0 {
				t.Errorf("%s still owes %+v", login, bal)
			}
		}
		e.ledgerSumsToZero()
		t.Logf("%d requests (%d retried after an answer) over %d sheets in %v: statuses %v, %d settlements, %d distinct keys answered 201",
			int64(requests)+retries.Load(), retries.Load(), sheets, elapsed.Round(time.Millisecond), statuses, created.Load(), len(byKey))
	})
}
