package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"regexp"
	"slices"
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

// replica is a courierd process of a fleet test: this test binary run as courierd.
type replica struct {
	name string
	base string
	cmd  *exec.Cmd
	out  *syncWriter
	done chan struct{} // closed when the process has exited
}

// startReplica starts this test binary as courierd with env (on top of the
// test's environment) and waits until it listens. The process is killed
// when the test ends; its output is logged when the test fails.
func startReplica(t *testing.T, name string, env map[string]string) *replica {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), "COURIERD_CHILD=1", "COURIER_ADDR=127.0.0.1:0")
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	r := &replica{name: name, cmd: cmd, out: &syncWriter{w: &strings.Builder{}}, done: make(chan struct{})}
	pr, pw := io.Pipe()
	cmd.Stdout, cmd.Stderr = pw, pw
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { cmd.Wait(); pw.Close(); close(r.done) }()
	found := make(chan string, 1)
	go func() {
		re := regexp.MustCompile(`courierd listening"? addr=(\S+)`)
		sc := bufio.NewScanner(pr)
		sc.Buffer(make([]byte, 64*1024), 1<<20)
		for sc.Scan() {
			line := sc.Text()
			fmt.Fprintln(r.out, line)
			if m := re.FindStringSubmatch(line); m != nil {
				select {
				case found <- "http://" + m[1]:
				default:
				}
			}
		}
		close(found)
	}()
	t.Cleanup(func() {
		cmd.Process.Kill()
		<-r.done
		if t.Failed() {
			t.Logf("replica %s output:\n%s", name, tail(r.out.String(), 60))
		}
	})
	select {
	case base, ok := <-found:
		if !ok {
			t.Fatalf("replica %s exited before listening:\n%s", name, r.out.String())
		}
		r.base = base
		return r
	case <-time.After(90 * time.Second):
		t.Fatalf("replica %s did not start:\n%s", name, r.out.String())
	}
	return nil
}

// kill ends the replica with SIGKILL and waits until it is gone.
func (r *replica) kill(t *testing.T) {
	t.Helper()
	if err := r.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	<-r.done
}

func tail(s string, n int) string {
	lines := strings.Split(s, "\n")
	return strings.Join(lines[max(0, len(lines)-n):], "\n")
}

// fleetFCM is a fake FCM shared by the replicas of a fleet test. Each
// replica's FCM_ENDPOINT has its own path prefix (/a, /b), so the fake
// knows who sends. A push counts as sent when the fake has answered it 200;
// a request held (see hold) whose sender went away is not sent.
type fleetFCM struct {
	srv *httptest.Server

	mu      sync.Mutex
	sent    map[string]int // token|body -> pushes answered 200
	by      map[string]int // replica -> pushes answered 200
	held    map[string]int // replica -> requests being held now
	cut     map[string]int // replica -> held requests whose sender went away
	holdFor map[string]bool
	gate    chan struct{} // when set, requests wait until it is closed
	seen    map[string]bool
}

func newFleetFCM(t *testing.T) *fleetFCM {
	f := &fleetFCM{sent: map[string]int{}, by: map[string]int{}, held: map[string]int{}, cut: map[string]int{},
		holdFor: map[string]bool{}, seen: map[string]bool{}}
	f.srv = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.srv.Close)
	return f
}

// endpoint is the FCM_ENDPOINT of replica name.
func (f *fleetFCM) endpoint(name string) string { return f.srv.URL + "/" + name }

func (f *fleetFCM) serve(w http.ResponseWriter, r *http.Request) {
	name, _, _ := strings.Cut(strings.TrimPrefix(r.URL.Path, "/"), "/")
	var body struct {
		Message struct {
			Token        string `json:"token"`
			Notification struct {
				Body string `json:"body"`
			} `json:"notification"`
		} `json:"message"`
	}
	if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
		http.Error(w, err.Error(), 400)
		return
	}
	key := body.Message.Token + "|" + body.Message.Notification.Body
	f.mu.Lock()
	f.seen[name] = true
	gate, hold := f.gate, f.holdFor[name]
	if hold {
		f.held[name]++
	}
	f.mu.Unlock()
	if hold { // until the sender goes away
		<-r.Context().Done()
		f.mu.Lock()
		f.held[name]--
		f.cut[name]++
		f.mu.Unlock()
		return
	}
	if gate != nil {
		select {
		case <-gate:
		case <-r.Context().Done():
			return
		}
	}
	time.Sleep(5 * time.Millisecond) // a send takes a moment
	w.Header().Set("Content-Type", "application/json")
	if _, err := io.WriteString(w, `{"name":"projects/p/messages/1"}`); err != nil {
		return
	}
	f.mu.Lock()
	f.sent[key]++
	f.by[name]++
	f.mu.Unlock()
}

// stats returns a copy of what was sent so far.
func (f *fleetFCM) stats() (sent map[string]int, by, held, cut map[string]int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	cp := func(m map[string]int) map[string]int {
		out := map[string]int{}
		for k, v := range m {
			out[k] = v
		}
		return out
	}
	return cp(f.sent), cp(f.by), cp(f.held), cp(f.cut)
}

// fleetClient spreads requests over the replicas in turn, as a load balancer would.
type fleetClient struct {
	t    *testing.T
	next atomic.Uint64
	reps []*replica
}

func (c *fleetClient) pick() *replica {
	return c.reps[int(c.next.Add(1)-1)%len(c.reps)]
}

// do sends a request to the next replica; it returns the status and body.
func (c *fleetClient) do(method, path, token, body string) (int, []byte) {
	c.t.Helper()
	return send(c.t, method, c.pick().base+path, token, body)
}

// want sends a request to the next replica, wants status and decodes the answer into out.
func (c *fleetClient) want(status int, method, path, token, body string, out any) {
	c.t.Helper()
	st, b := c.do(method, path, token, body)
	if st != status {
		c.t.Fatalf("%s %s: %d %s, want %d", method, path, st, b, status)
	}
	if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			c.t.Fatalf("%s %s: %v: %s", method, path, err, b)
		}
	}
}

// TestFleet runs courierd as a fleet: two processes on one PostgreSQL and
// one redis-server, every request spread over both. A plan started on one
// streams its progress through the other; concurrent edits on the two give
// one 409; a ping sent to one appears on the other's tracking stream; the
// outbox is drained by both and every push is sent once; a storm of
// settlements across both settles each sheet once. Then one replica is
// killed with SIGKILL in the middle of writes, a running plan and pushes:
// no acknowledged write is lost, the other marks its plan failed when the
// plan's lease runs out, and sends the pushes it held, once.
func TestFleet(t *testing.T) {
	ctx := context.Background()
	rs := testsvc.StartRedis(t)
	dbURL := testsvc.PostgresURL(t)
	fcm := newFleetFCM(t)
	env := func(name string) map[string]string {
		return map[string]string{"DATABASE_URL": dbURL, "REDIS_URL": rs.URL(), "JWT_SECRET": strings.Repeat("f", 40),
			"COURIER_ADMIN_LOGIN": "root", "COURIER_ADMIN_PASSWORD": "root-password", "COURIER_BCRYPT_COST": "4",
			"FCM_ENDPOINT": fcm.endpoint(name), "FIREBASE_PROJECT_ID": "p",
			// What a dead replica held is taken over after 10 s, not 2 minutes.
			"COURIER_NOTIFY_SEND_TIMEOUT": "4s", "COURIER_NOTIFY_LEASE": "10s"}
	}
	// Both start at once on an empty database: migrations and the admin race.
	var a, b *replica
	var wg sync.WaitGroup
	wg.Go(func() { a = startReplica(t, "a", env("a")) })
	wg.Go(func() { b = startReplica(t, "b", env("b")) })
	wg.Wait()
	if t.Failed() || a == nil || b == nil {
		t.FailNow()
	}
	lb := &fleetClient{t: t, reps: []*replica{a, b}}
	login := func(login, password string) (string, int64) {
		var tok struct {
			AccessToken string `json:"access_token"`
			CourierID   *int64 `json:"courier_id"`
		}
		lb.want(200, "POST", "/api/v1/auth/login", "", `{"login":"`+login+`","password":"`+password+`"}`, &tok)
		if tok.CourierID != nil {
			return tok.AccessToken, *tok.CourierID
		}
		return tok.AccessToken, 0
	}
	root, _ := login("root", "root-password")
	lb.want(201, "POST", "/api/v1/users", root, `{"login":"disp","name":"Disp","role":"dispatcher","password":"disp-password"}`, nil)
	lb.want(201, "POST", "/api/v1/users", root, `{"login":"till","name":"Till","role":"cashier","password":"till-password"}`, nil)
	disp, _ := login("disp", "disp-password")
	var depot struct{ ID int64 }
	lb.want(201, "POST", "/api/v1/depots", disp, `{"name":"D","address":"A","location":{"lat":55.7558,"lng":37.6173},"opening_hours":{"opens":"00:00","closes":"23:59"}}`, &depot)
	type fleetCourier struct {
		id    int64
		token string
	}
	var couriers []fleetCourier
	for i := range 4 {
		var c struct{ ID int64 }
		lb.want(201, "POST", "/api/v1/couriers", disp, fmt.Sprintf(`{"name":"C%d","phone":"+7 916 555-00-1%d","login":"cour%d","password":"password-c%d",`+
			`"vehicle":{"type":"car"},"shift":{"start":"00:00","end":"23:59"},"depot_id":%d}`, i, i, i, i, depot.ID), &c)
		tok, id := login(fmt.Sprintf("cour%d", i), fmt.Sprintf("password-c%d", i))
		if id != c.ID {
			t.Fatalf("courier login c%d: courier %d, want %d", i, id, c.ID)
		}
		couriers = append(couriers, fleetCourier{id: c.ID, token: tok})
	}
	moscow, _ := time.LoadLocation("Europe/Moscow")
	day := func(n int) string { return time.Now().In(moscow).AddDate(0, 0, n).Format(time.DateOnly) }
	readyOrders := func(prefix, date string, n int) []int64 {
		var ids []int64
		for i := range n {
			var o struct{ ID int64 }
			lb.want(201, "POST", "/api/v1/orders", disp, fmt.Sprintf(`{"external_id":"%s-%d","customer":{"name":"N","phone":"+7 900 000-00-00"},"address":"A",`+
				`"location":{"lat":%.5f,"lng":%.5f},"delivery_date":"%s","weight_kg":1,"items":[{"name":"Box","qty":1}],"cod":{"amount":0,"currency":"RUB","method":"prepaid"},"depot_id":%d}`,
				prefix, i, 55.7558+0.03*rand.Float64()-0.015, 37.6173+0.05*rand.Float64()-0.025, date, depot.ID), &o)
			for _, st := range []string{"confirmed", "ready"} {
				lb.want(200, "POST", fmt.Sprintf("/api/v1/orders/%d/status", o.ID), disp, `{"status":"`+st+`"}`, nil)
			}
			ids = append(ids, o.ID)
		}
		return ids
	}
	db, err := store.Open(ctx, dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()

	t.Run("plan progress through the other replica", func(t *testing.T) {
		ids := readyOrders("P1", day(1), 12)
		var plan struct{ ID int64 }
		st, body := send(t, "POST", a.base+"/api/v1/plans", disp, fmt.Sprintf(`{"date":"%s","depot_id":%d,"order_ids":%s,"time_limit_s":3}`,
			day(1), depot.ID, jsonInts(ids)))
		if st != 202 || json.Unmarshal(body, &plan) != nil {
			t.Fatalf("plan at a: %d %s", st, body)
		}
		events := sse(t, b.base+fmt.Sprintf("/api/v1/plans/%d/events", plan.ID), disp, 60*time.Second, func(event, _ string) bool { return event != "progress" })
		kinds := map[string]int{}
		for _, e := range events {
			kinds[e[0]]++
		}
		if kinds["progress"] == 0 || kinds["done"] != 1 {
			t.Fatalf("plan %d started at a, its events at b: %v", plan.ID, kinds)
		}
		t.Logf("plan %d started at a; b streamed %d progress events and done", plan.ID, kinds["progress"])

		// Two dispatchers lock the same stop at once, one through each
		// replica, both from the sheet's version they saw: one wins, one 409.
		var full struct {
			Sheets []struct{ ID int64 } `json:"sheets"`
		}
		lb.want(200, "GET", fmt.Sprintf("/api/v1/plans/%d", plan.ID), disp, "", &full)
		if len(full.Sheets) == 0 {
			t.Fatal("the plan made no sheets")
		}
		var sheet struct {
			Version int64 `json:"version"`
			Stops   []struct {
				OrderID int64 `json:"order_id"`
			} `json:"stops"`
		}
		path := fmt.Sprintf("/api/v1/route-sheets/%d", full.Sheets[0].ID)
		lb.want(200, "GET", path, disp, "", &sheet)
		lock := fmt.Sprintf(`{"order_id":%d,"locked":true,"version":%d}`, sheet.Stops[0].OrderID, sheet.Version)
		statuses := make([]int, 2)
		start := make(chan struct{})
		var edits sync.WaitGroup
		for i, r := range []*replica{a, b} {
			edits.Go(func() {
				<-start
				statuses[i], _ = send(t, "POST", r.base+path+"/locks", disp, lock)
			})
		}
		close(start)
		edits.Wait()
		slices.Sort(statuses)
		if statuses[0] != 200 || statuses[1] != 409 {
			t.Errorf("the same edit at a and b at once: %v, want one 200 and one 409", statuses)
		}
	})

	t.Run("a ping at one replica on the other's tracking stream", func(t *testing.T) {
		c := couriers[0]
		sctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		defer cancel()
		req, _ := http.NewRequestWithContext(sctx, "GET", b.base+"/api/v1/tracking/stream", nil)
		req.Header.Set("Authorization", "Bearer "+disp)
		res, err := http.DefaultClient.Do(req)
		if err != nil || res.StatusCode != 200 {
			t.Fatalf("tracking stream at b: %v %v", res, err)
		}
		defer res.Body.Close()
		rd := bufio.NewReader(res.Body)
		if line, err := rd.ReadString('\n'); err != nil || !strings.HasPrefix(line, ": connected") {
			t.Fatalf("tracking stream at b starts with %q, %v", line, err)
		}
		ping := fmt.Sprintf(`{"pings":[{"lat":55.7312,"lng":37.6401,"accuracy_m":5,"recorded_at":"%s"}]}`, time.Now().UTC().Format(time.RFC3339Nano))
		if st, body := send(t, "POST", a.base+"/api/v1/courier/locations", c.token, ping); st != 200 {
			t.Fatalf("ping at a: %d %s", st, body)
		}
		for {
			line, err := rd.ReadString('\n')
			if err != nil {
				t.Fatalf("b's tracking stream ended without the ping sent to a: %v", err)
			}
			if data, ok := strings.CutPrefix(line, "data: "); ok {
				var ev struct {
					Type      string `json:"type"`
					CourierID int64  `json:"courier_id"`
				}
				if json.Unmarshal([]byte(data), &ev) == nil && ev.Type == "position" && ev.CourierID == c.id {
					break
				}
			}
		}
		var pos struct {
			Location struct{ Lat float64 } `json:"location"`
		}
		if st, body := send(t, "GET", fmt.Sprintf("%s/api/v1/couriers/%d/location", b.base, c.id), disp, ""); st != 200 ||
			json.Unmarshal(body, &pos) != nil || pos.Location.Lat != 55.7312 {
			t.Errorf("the courier's location at b: %d %s", st, body)
		}
		// b's nearby answers from its live index, which follows a's position events.
		var near struct {
			Items []struct {
				CourierID int64   `json:"courier_id"`
				DistanceM float64 `json:"distance_m"`
			} `json:"items"`
		}
		for deadline := time.Now().Add(2 * time.Second); ; time.Sleep(20 * time.Millisecond) {
			st, body := send(t, "GET", b.base+"/api/v1/couriers/nearby?lat=55.7312&lng=37.6401&radius_m=50", disp, "")
			if st == 200 && json.Unmarshal(body, &near) == nil && len(near.Items) > 0 && near.Items[0].CourierID == c.id && near.Items[0].DistanceM < 1 {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("nearby at b 2 s after the ping sent to a: %d %s", st, body)
			}
		}
	})

	// Every courier has two phones.
	var tokens [][]string
	for i, c := range couriers {
		var mine []string
		for k := range 2 {
			tok := fmt.Sprintf("phone-%d-%d", i, k)
			lb.want(201, "POST", "/api/v1/devices", c.token, `{"token":"`+tok+`","platform":"android","app":"courier"}`, nil)
			mine = append(mine, tok)
		}
		tokens = append(tokens, mine)
	}
	// queue sends n messages to every courier, through both replicas, and
	// returns the pushes they make (token|text).
	queue := func(tag string, n int) []string {
		var want []string
		for i, c := range couriers {
			for k := range n {
				text := fmt.Sprintf("%s message %d to courier %d", tag, k, i)
				lb.want(202, "POST", fmt.Sprintf("/api/v1/couriers/%d/messages", c.id), disp, `{"text":"`+text+`"}`, nil)
				for _, tok := range tokens[i] {
					want = append(want, tok+"|"+text)
				}
			}
		}
		return want
	}
	// sentOnce waits until every push of want was sent, then checks that
	// none was sent twice and nothing else was sent.
	sentOnce := func(t *testing.T, want []string, before map[string]int, within time.Duration) {
		t.Helper()
		deadline := time.Now().Add(within)
		for {
			sent, _, _, _ := fcm.stats()
			missing := 0
			for _, k := range want {
				if sent[k] == 0 {
					missing++
				}
			}
			if missing == 0 {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("%d of %d pushes not sent within %v", missing, len(want), within)
			}
			time.Sleep(100 * time.Millisecond)
		}
		time.Sleep(time.Second) // a duplicate would come now
		sent, _, _, _ := fcm.stats()
		for _, k := range want {
			if sent[k] != 1 {
				t.Errorf("push %s sent %d times", k, sent[k])
			}
		}
		if len(sent) != len(before)+len(want) {
			t.Errorf("%d different pushes sent, want %d", len(sent), len(before)+len(want))
		}
	}

	t.Run("the outbox drained by both replicas, every push once", func(t *testing.T) {
		before, _, _, _ := fcm.stats()
		// The fake FCM answers nothing until both replicas are sending.
		fcm.mu.Lock()
		fcm.gate = make(chan struct{})
		gate := fcm.gate
		fcm.mu.Unlock()
		go func() {
			defer close(gate)
			for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
				fcm.mu.Lock()
				both := fcm.seen["a"] && fcm.seen["b"]
				fcm.mu.Unlock()
				if both {
					return
				}
			}
		}()
		want := queue("drain", 10)
		sentOnce(t, want, before, 60*time.Second)
		fcm.mu.Lock()
		fcm.gate = nil
		fcm.mu.Unlock()
		_, by, _, _ := fcm.stats()
		if by["a"] == 0 || by["b"] == 0 {
			t.Errorf("pushes sent by a: %d, by b: %d; want both", by["a"], by["b"])
		}
		t.Logf("%d pushes, each once: %d by a, %d by b", len(want), by["a"], by["b"])
	})

	t.Run("a settlement storm across both replicas settles each sheet once", func(t *testing.T) {
		till, _ := login("till", "till-password")
		const sheets = 24
		type target struct {
			number string
			id     int64
			amount int64
		}
		var targets []target
		for i := range sheets {
			plan := &courier.Plan{Date: day(0), DepotID: depot.ID, Status: courier.PlanDone, TimeLimit: time.Second}
			if err := db.CreatePlan(ctx, plan); err != nil {
				t.Fatal(err)
			}
			cid := couriers[i%len(couriers)].id
			sh := &courier.RouteSheet{CourierID: cid, DepotID: depot.ID, Date: day(0), Start: time.Now(), End: time.Now().Add(8 * time.Hour)}
			tg := target{}
			var ids []int64
			for j := range 2 {
				o := &courier.Order{ExternalID: fmt.Sprintf("S-%d-%d", i, j), Customer: courier.Customer{Name: "N", Phone: "+7 900 000-00-00"},
					Address: "A", Location: courier.LatLng{Lat: 55.75, Lng: 37.61}, DeliveryDate: day(0), Status: courier.StatusReady,
					Items: []courier.Item{{Name: "Box", Qty: 1}}, COD: courier.COD{Amount: int64(1000*(i+1) + j), Currency: "RUB", Method: courier.PayCash},
					PaymentStatus: courier.PaymentCODPending, DepotID: depot.ID}
				if err := db.CreateOrder(ctx, o, &courier.OrderEvent{Kind: courier.EventCreated, ToStatus: o.Status}); err != nil {
					t.Fatal(err)
				}
				ids = append(ids, o.ID)
				tg.amount += o.COD.Amount
				sh.Stops = append(sh.Stops, courier.SheetStop{OrderID: o.ID, Seq: j + 1})
			}
			if err := db.ReplaceDraftSheets(ctx, plan.ID, []*courier.RouteSheet{sh}); err != nil {
				t.Fatal(err)
			}
			_, err := db.UpdateSheets(ctx, []int64{sh.ID}, ids, func(ss []*courier.RouteSheet, os map[int64]*courier.Order) ([]courier.OrderEvent, error) {
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
			for _, id := range ids {
				lb.want(200, "POST", fmt.Sprintf("/api/v1/orders/%d/status", id), root, `{"status":"delivered"}`, nil)
			}
			tg.number, tg.id = sh.Number, sh.ID
			targets = append(targets, tg)
		}
		lb.want(201, "POST", "/api/v1/cashdesk/shifts", till, fmt.Sprintf(`{"depot_id":%d}`, depot.ID), nil)
		// Four clients over the sheets in random order; each settlement is
		// sent to both replicas at once with one Idempotency-Key.
		var acked sync.Map // sheet index -> settlement id
		var storm sync.WaitGroup
		for w := range 4 {
			storm.Go(func() {
				client := &http.Client{Timeout: 30 * time.Second}
				rng := rand.New(rand.NewPCG(uint64(w), 9))
				for _, i := range rng.Perm(sheets) {
					body := fmt.Sprintf(`{"barcode":%q,"counted":{"amount":%d,"currency":"RUB"}}`, targets[i].number, targets[i].amount)
					var pair sync.WaitGroup
					for _, r := range []*replica{a, b} {
						pair.Go(func() {
							var st struct{ ID int64 }
							status, _ := doKeyed(client, r.base+"/api/v1/cashdesk/settlements", till, fmt.Sprintf("fleet-%d", i), body, &st)
							switch status {
							case 201:
								if prev, ok := acked.LoadOrStore(i, st.ID); ok && prev.(int64) != st.ID {
									t.Errorf("sheet %d: settlements %d and %d acknowledged", i, prev, st.ID)
								}
							case 409: // the same key in flight at the other replica
							default:
								t.Errorf("settle sheet %d at %s: %d", i, r.name, status)
							}
						})
					}
					pair.Wait()
				}
			})
		}
		storm.Wait()
		sts, err := db.Settlements(ctx, courier.SettlementFilter{})
		if err != nil {
			t.Fatal(err)
		}
		per := map[int64]int{}
		for _, st := range sts {
			per[st.SheetID]++
		}
		for i, tg := range targets {
			if per[tg.id] != 1 {
				t.Errorf("sheet %s settled %d times", tg.number, per[tg.id])
			}
			if _, ok := acked.Load(i); !ok {
				t.Errorf("sheet %s: no settlement acknowledged", tg.number)
			}
		}
		ps, err := db.Postings(ctx, courier.PostingFilter{})
		if err != nil {
			t.Fatal(err)
		}
		if err := courier.CheckBalanced(ps); err != nil {
			t.Error(err)
		}
		for _, c := range couriers {
			var bal struct{ Owed int64 }
			if st := call(t, "GET", fmt.Sprintf("%s/api/v1/cashdesk/couriers/%d/balance", b.base, c.id), till, "", &bal); st != 200 || bal.Owed != 0 {
				t.Errorf("courier %d: status %d, owes %d", c.id, st, bal.Owed)
			}
		}
	})
	if t.Failed() {
		t.FailNow()
	}

	t.Run("SIGKILL of one replica", func(t *testing.T) {
		// A long plan runs at a.
		ids := readyOrders("P2", day(2), 12)
		var plan struct {
			ID     int64  `json:"id"`
			Status string `json:"status"`
			Error  string `json:"error"`
		}
		st, body := send(t, "POST", a.base+"/api/v1/plans", disp, fmt.Sprintf(`{"date":"%s","depot_id":%d,"order_ids":%s,"time_limit_s":300}`,
			day(2), depot.ID, jsonInts(ids)))
		if st != 202 || json.Unmarshal(body, &plan) != nil {
			t.Fatalf("plan at a: %d %s", st, body)
		}
		planPath := fmt.Sprintf("/api/v1/plans/%d", plan.ID)
		for deadline := time.Now().Add(30 * time.Second); plan.Status != "running"; time.Sleep(100 * time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatalf("plan %d at a is %s, not running", plan.ID, plan.Status)
			}
			lb.want(200, "GET", planPath, disp, "", &plan)
		}

		// Clients write through both replicas all along.
		var acked sync.Map // order id -> status acknowledged last
		var ackN atomic.Int64
		stop := make(chan struct{})
		var writers sync.WaitGroup
		for w := range 6 {
			writers.Go(func() {
				client := &http.Client{Timeout: 10 * time.Second}
				for i := 0; ; i++ {
					select {
					case <-stop:
						return
					default:
					}
					r := lb.pick()
					var o struct{ ID int64 }
					body := fmt.Sprintf(`{"external_id":"K-%d-%d","customer":{"name":"N","phone":"+7 900 000-00-00"},"address":"A",`+
						`"location":{"lat":55.75,"lng":37.61},"delivery_date":"%s","cod":{"amount":1000,"currency":"RUB","method":"cash"}}`, w, i, day(3))
					if doJSON(client, "POST", r.base+"/api/v1/orders", disp, body, &o) != 201 {
						continue // not acknowledged (a is gone): the next try goes to the other
					}
					acked.Store(o.ID, "new")
					ackN.Add(1)
					for _, st := range []string{"confirmed", "ready"} {
						r := lb.pick()
						if doJSON(client, "POST", fmt.Sprintf("%s/api/v1/orders/%d/status", r.base, o.ID), disp, `{"status":"`+st+`"}`, nil) != 200 {
							break
						}
						acked.Store(o.ID, st)
						ackN.Add(1)
					}
				}
			})
		}

		// a takes pushes and never hears back from FCM; b's are answered.
		before, _, _, _ := fcm.stats()
		fcm.mu.Lock()
		fcm.holdFor["a"] = true
		fcm.mu.Unlock()
		want := queue("kill", 6)
		for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(20 * time.Millisecond) {
			_, _, held, _ := fcm.stats()
			if held["a"] > 0 && ackN.Load() >= 60 {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("a holds %d pushes, %d writes acknowledged", held["a"], ackN.Load())
			}
		}
		_, _, held, _ := fcm.stats()
		killedAt := time.Now()
		a.kill(t)
		t.Logf("a killed holding %d pushes, %d writes (orders and status changes) acknowledged", held["a"], ackN.Load())
		time.Sleep(time.Second) // writes go on through b
		close(stop)
		writers.Wait()
		lb.reps = []*replica{b}

		// b sends what a held, once, when a's leases run out.
		sentOnce(t, want, before, 60*time.Second)
		_, _, _, cut := fcm.stats()
		if cut["a"] == 0 {
			t.Errorf("no push was cut short at a: the test did not kill a replica holding pushes")
		}
		t.Logf("%d pushes each sent once (%d cut short at a); b sent the last %v after the kill", len(want), cut["a"], time.Since(killedAt).Round(time.Second))

		// b marks a's plan failed once its lease ran out.
		for deadline := time.Now().Add(60 * time.Second); plan.Status != "failed"; time.Sleep(250 * time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatalf("plan %d is %s 60 s after its replica died", plan.ID, plan.Status)
			}
			lb.want(200, "GET", planPath, disp, "", &plan)
		}
		if !strings.Contains(plan.Error, "interrupted") {
			t.Errorf("plan %d failed with %q", plan.ID, plan.Error)
		}
		t.Logf("plan %d marked failed by b %v after the kill: %s", plan.ID, time.Since(killedAt).Round(time.Second), plan.Error)

		// No acknowledged write is lost.
		n := checkAcked(t, ctx, db, &acked)
		t.Logf("%d acknowledged orders all stored with their acknowledged status", n)
		// b goes on serving.
		if st, body := send(t, "GET", b.base+"/readyz", "", ""); st != 200 {
			t.Errorf("b after the kill: readyz %d %s", st, body)
		}
	})
}

func jsonInts(ids []int64) string {
	b, _ := json.Marshal(ids)
	return string(b)
}

// sse reads a Server-Sent Events stream until last says an event is the
// last one, and returns the events read as (event, data) pairs.
func sse(t *testing.T, url, token string, within time.Duration, last func(event, data string) bool) [][2]string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), within)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", url, nil)
	req.Header.Set("Authorization", "Bearer "+token)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if res.StatusCode != 200 {
		b, _ := io.ReadAll(res.Body)
		t.Fatalf("GET %s: %d %s", url, res.StatusCode, b)
	}
	var out [][2]string
	sc := bufio.NewScanner(res.Body)
	sc.Buffer(make([]byte, 64*1024), 4<<20)
	event := ""
	for sc.Scan() {
		line := sc.Text()
		if e, ok := strings.CutPrefix(line, "event:"); ok {
			event = strings.TrimSpace(e)
		} else if d, ok := strings.CutPrefix(line, "data:"); ok {
			out = append(out, [2]string{event, d})
			if last(event, d) {
				return out
			}
		}
	}
	t.Fatalf("the event stream %s ended (%v) after %d events without the last one", url, sc.Err(), len(out))
	return nil
}
