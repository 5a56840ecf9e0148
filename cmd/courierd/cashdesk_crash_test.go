package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/courierhq/courier"
	"github.com/courierhq/courier/internal/testsvc"
	"github.com/courierhq/courier/store"
)

// startCourierd starts this test binary as courierd on dbURL, with the
// extra environment variables env, and returns its base URL and process.
func startCourierd(t *testing.T, dbURL string, env ...string) (string, *exec.Cmd) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), "COURIERD_CHILD=1", "COURIER_ADDR=127.0.0.1:0", "DATABASE_URL="+dbURL,
		"JWT_SECRET="+strings.Repeat("k", 40), "COURIER_ADMIN_LOGIN=boss", "COURIER_ADMIN_PASSWORD=boss-password", "COURIER_BCRYPT_COST=4")
	cmd.Env = append(cmd.Env, env...)
	stdout, _ := cmd.StdoutPipe()
	cmd.Stderr = cmd.Stdout
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	found := make(chan string, 1)
	go func() {
		re := regexp.MustCompile(`courierd listening"? addr=(\S+)`)
		var buf []byte
		tmp := make([]byte, 1024)
		for {
			n, err := stdout.Read(tmp)
			buf = append(buf, tmp[:n]...)
			if m := re.FindSubmatch(buf); m != nil {
				found <- "http://" + string(m[1])
				io.Copy(io.Discard, stdout)
				return
			}
			if err != nil {
				t.Logf("courierd output:\n%s", buf)
				found <- ""
				return
			}
		}
	}()
	select {
	case base := <-found:
		if base == "" {
			t.Fatal("courierd exited before listening")
		}
		return base, cmd
	case <-time.After(60 * time.Second):
		cmd.Process.Kill()
		t.Fatal("courierd did not start")
	}
	return "", nil
}

// bossAndDepot logs in as the admin every test courierd creates ("boss")
// and creates a depot open 08:00-22:00; it returns the token and the depot id.
func bossAndDepot(t *testing.T, base string) (string, int64) {
	t.Helper()
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	if st := call(t, "POST", base+"/api/v1/auth/login", "", `{"login":"boss","password":"boss-password"}`, &tok); st != 200 {
		t.Fatalf("login: %d", st)
	}
	var depot struct{ ID int64 }
	if st := call(t, "POST", base+"/api/v1/depots", tok.AccessToken, `{"name":"D","address":"A","location":{"lat":55.7,"lng":37.6},"opening_hours":{"opens":"08:00","closes":"22:00"}}`, &depot); st != 201 {
		t.Fatalf("depot: %d", st)
	}
	return tok.AccessToken, depot.ID
}

// doKeyed is doJSON with an Idempotency-Key; it returns the status, the
// Idempotent-Replayed header and the decoded body.
func doKeyed(client *http.Client, url, token, key, body string, out any) (int, bool) {
	req, _ := http.NewRequest("POST", url, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Idempotency-Key", key)
	res, err := client.Do(req)
	if err != nil {
		return 0, false
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	if out != nil && res.StatusCode < 300 {
		_ = json.Unmarshal(b, out)
	}
	return res.StatusCode, res.Header.Get("Idempotent-Replayed") == "true"
}

// TestCashdeskCrash kills courierd with SIGKILL in the middle of a storm of
// settlements, restarts it on the same store, and checks that every
// acknowledged settlement survived, none is half-written, retries with the
// same keys answer the same settlements, and the ledger balances.
func TestCashdeskCrash(t *testing.T) {
	t.Run("sqlite", func(t *testing.T) { cashdeskCrash(t, filepath.Join(t.TempDir(), "cash.db")) })
	t.Run("postgres", func(t *testing.T) { cashdeskCrash(t, testsvc.PostgresURL(t)) })
}

func cashdeskCrash(t *testing.T, dbURL string) {
	ctx := context.Background()
	base, cmd := startCourierd(t, dbURL)
	boss, depotID := bossAndDepot(t, base)
	depot := struct{ ID int64 }{depotID}
	if st := call(t, "POST", base+"/api/v1/users", boss, `{"login":"till","name":"Till","role":"cashier","password":"till-password"}`, nil); st != 201 {
		t.Fatalf("cashier: %d", st)
	}
	var couriers []int64
	for i := range 3 {
		var c struct{ ID int64 }
		body := fmt.Sprintf(`{"name":"C%d","phone":"+7 916 555-00-1%d","login":"cour%d","password":"password-c%d","vehicle":{"type":"car"},"shift":{"start":"09:00","end":"18:00"},"depot_id":%d}`,
			i, i, i, i, depot.ID)
		var fail map[string]any
		if st := doJSON(http.DefaultClient, "POST", base+"/api/v1/couriers", boss, body, &fail); st != 201 {
			t.Fatalf("courier: %d %v", st, fail)
		}
		c.ID = int64(fail["id"].(float64))
		couriers = append(couriers, c.ID)
	}

	// Sheets straight in the store (planning is not under test), deliveries through the server.
	db, err := store.Open(ctx, dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	const sheets = 60
	type target struct {
		number string
		id     int64
		amount int64
		orders []int64
	}
	var targets []target
	for i := range sheets {
		plan := &courier.Plan{Date: "2026-11-23", DepotID: depot.ID, Status: courier.PlanDone, TimeLimit: time.Second}
		if err := db.CreatePlan(ctx, plan); err != nil {
			t.Fatal(err)
		}
		cid := couriers[i%len(couriers)]
		sh := &courier.RouteSheet{CourierID: cid, DepotID: depot.ID, Date: "2026-11-23", Start: time.Now(), End: time.Now().Add(8 * time.Hour)}
		tg := target{}
		for j := range 2 {
			o := &courier.Order{ExternalID: fmt.Sprintf("X-%d-%d", i, j), Customer: courier.Customer{Name: "N", Phone: "+7 900 000-00-00"},
				Address: "A", Location: courier.LatLng{Lat: 55.75, Lng: 37.61}, DeliveryDate: "2026-11-23", Status: courier.StatusReady,
				Items: []courier.Item{{Name: "Box", Qty: 1}}, COD: courier.COD{Amount: int64(1000*(i+1) + j), Currency: "RUB", Method: courier.PayCash},
				PaymentStatus: courier.PaymentCODPending, DepotID: depot.ID}
			if err := db.CreateOrder(ctx, o, &courier.OrderEvent{Kind: courier.EventCreated, ToStatus: o.Status}); err != nil {
				t.Fatal(err)
			}
			tg.orders = append(tg.orders, o.ID)
			tg.amount += o.COD.Amount
			sh.Stops = append(sh.Stops, courier.SheetStop{OrderID: o.ID, Seq: j + 1})
		}
		if err := db.ReplaceDraftSheets(ctx, plan.ID, []*courier.RouteSheet{sh}); err != nil {
			t.Fatal(err)
		}
		_, err := db.UpdateSheets(ctx, []int64{sh.ID}, tg.orders, func(ss []*courier.RouteSheet, os map[int64]*courier.Order) ([]courier.OrderEvent, error) {
			ss[0].Status = courier.SheetActive
			var evs []courier.OrderEvent
			for _, o := range os {
				o.Status, o.CourierID, o.RouteSheetID = courier.StatusOutForDelivery, cid, sh.ID
				evs = append(evs, courier.OrderEvent{OrderID: o.ID, Kind: courier.EventStatus, FromStatus: courier.StatusReady, ToStatus: o.Status})
			}
			return evs, nil
		})
		if err != nil {
			t.Fatal(err)
		}
		for _, id := range tg.orders {
			if st := call(t, "POST", fmt.Sprintf("%s/api/v1/orders/%d/status", base, id), boss, `{"status":"delivered"}`, nil); st != 200 {
				t.Fatalf("deliver %d: %d", id, st)
			}
		}
		tg.number, tg.id = sh.Number, sh.ID
		targets = append(targets, tg)
	}
	var till struct {
		AccessToken string `json:"access_token"`
	}
	if st := call(t, "POST", base+"/api/v1/auth/login", "", `{"login":"till","password":"till-password"}`, &till); st != 200 {
		t.Fatalf("cashier login: %d", st)
	}
	if st := call(t, "POST", base+"/api/v1/cashdesk/shifts", till.AccessToken, fmt.Sprintf(`{"depot_id":%d}`, depot.ID), nil); st != 201 {
		t.Fatalf("open shift: %d", st)
	}
	body := func(i int) string {
		return fmt.Sprintf(`{"barcode":%q,"counted":{"amount":%d,"currency":"RUB"}}`, targets[i].number, targets[i].amount)
	}
	key := func(i int) string { return fmt.Sprintf("crash-%d", i) }

	// The storm: 8 clients over the sheets in random order, each request sent
	// twice at once now and then; kill the server once some are acknowledged.
	var acked sync.Map // sheet index -> settlement id
	var ackCount atomic.Int64
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for w := range 8 {
		wg.Go(func() {
			client := &http.Client{Timeout: 10 * time.Second}
			rng := rand.New(rand.NewPCG(uint64(w), 1))
			for _, i := range rng.Perm(sheets) {
				select {
				case <-stop:
					return
				default:
				}
				var st struct{ ID int64 }
				status, _ := doKeyed(client, base+"/api/v1/cashdesk/settlements", till.AccessToken, key(i), body(i), &st)
				switch status {
				case 201:
					if prev, ok := acked.LoadOrStore(i, st.ID); ok && prev.(int64) != st.ID {
						t.Errorf("sheet %d: settlements %d and %d acknowledged", i, prev, st.ID)
					}
					ackCount.Add(1)
				case 409:
				case 0:
					return // the server is gone
				default:
					t.Errorf("settle sheet %d: status %d", i, status)
				}
			}
		})
	}
	for ackCount.Load() < 15 {
		time.Sleep(5 * time.Millisecond)
	}
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	cmd.Wait()
	close(stop)
	wg.Wait()
	n := 0
	acked.Range(func(any, any) bool { n++; return true })

	// Restart on the same store.
	base, cmd = startCourierd(t, dbURL)
	defer func() { cmd.Process.Signal(syscall.SIGTERM); cmd.Wait() }()
	if st := call(t, "GET", base+"/readyz", "", "", nil); st != 200 {
		t.Fatalf("readyz after restart: %d", st)
	}
	checkLedger := func(when string) int {
		ps, err := db.Postings(ctx, courier.PostingFilter{})
		if err != nil {
			t.Fatal(err)
		}
		if err := courier.CheckBalanced(ps); err != nil {
			t.Errorf("%s: %v", when, err)
		}
		var sum int64
		byTx := map[string]int{}
		for _, p := range ps {
			sum += p.Amount
			byTx[p.TxID]++
		}
		if sum != 0 {
			t.Errorf("%s: the ledger sums to %d", when, sum)
		}
		sts, err := db.Settlements(ctx, courier.SettlementFilter{})
		if err != nil {
			t.Fatal(err)
		}
		perSheet := map[int64]int{}
		depositedBy := map[int64]int64{}
		for _, st := range sts {
			perSheet[st.SheetID]++
			if byTx[st.TxID] < 3 {
				t.Errorf("%s: settlement %d has %d postings", when, st.ID, byTx[st.TxID])
			}
			for _, o := range st.Orders {
				depositedBy[o.OrderID] = st.ID
			}
		}
		for _, tg := range targets {
			if perSheet[tg.id] > 1 {
				t.Errorf("%s: sheet %s settled %d times", when, tg.number, perSheet[tg.id])
			}
			for _, id := range tg.orders {
				o, err := db.Order(ctx, id)
				if err != nil {
					t.Fatal(err)
				}
				if (o.PaymentStatus == courier.PaymentDeposited) != (depositedBy[id] != 0) {
					t.Errorf("%s: order %d is %s, settled by %d: half-written", when, id, o.PaymentStatus, depositedBy[id])
				}
			}
		}
		return len(sts)
	}
	stored := checkLedger("after the crash")
	acked.Range(func(k, v any) bool {
		st, err := db.SettlementByKey(ctx, "user:"+fmt.Sprint(settlementCashier(t, db)), key(k.(int)))
		if err != nil || st.ID != v.(int64) {
			t.Errorf("acknowledged settlement %d of sheet %d lost: %v", v, k, err)
		}
		return true
	})
	if stored < n {
		t.Errorf("%d settlements acknowledged, %d stored", n, stored)
	}

	// Every client retries with its key: the acknowledged get the same settlement, the rest settle now.
	client := &http.Client{Timeout: 10 * time.Second}
	replayed := 0
	for i := range targets {
		var st struct{ ID int64 }
		status, replay := doKeyed(client, base+"/api/v1/cashdesk/settlements", till.AccessToken, key(i), body(i), &st)
		if status != 201 {
			t.Errorf("retry of sheet %d after restart: %d", i, status)
			continue
		}
		if v, ok := acked.Load(i); ok && (v.(int64) != st.ID || !replay) {
			t.Errorf("retry of sheet %d: settlement %d (replayed %v), acknowledged %d", i, st.ID, replay, v)
		}
		if replay {
			replayed++
		}
	}
	if final := checkLedger("after the retries"); final != sheets {
		t.Errorf("%d settlements after the retries, want %d", final, sheets)
	}
	for _, c := range couriers {
		var bal struct{ Owed int64 }
		if st := call(t, "GET", fmt.Sprintf("%s/api/v1/cashdesk/couriers/%d/balance", base, c), till.AccessToken, "", &bal); st != 200 || bal.Owed != 0 {
			t.Errorf("courier %d: status %d, owes %d", c, st, bal.Owed)
		}
	}
	t.Logf("%d settlements acknowledged before SIGKILL, %d stored; after restart %d retries replayed, %d settled anew",
		n, stored, replayed, sheets-replayed)
}

// settlementCashier returns the user id of the cashier "till".
func settlementCashier(t *testing.T, db *store.DB) int64 {
	u, err := db.UserByLogin(context.Background(), "till")
	if err != nil {
		t.Fatal(err)
	}
	return u.ID
}
