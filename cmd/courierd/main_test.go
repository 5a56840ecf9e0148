package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
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
	"github.com/courierhq/courier/geo"
	"github.com/courierhq/courier/internal/testsvc"
	"github.com/courierhq/courier/store"
	"github.com/redis/go-redis/v9"
)

// TestMain lets a test start this very binary as courierd (COURIERD_CHILD=1),
// so the crash test can SIGKILL a real server process.
func TestMain(m *testing.M) {
	if os.Getenv("COURIERD_CHILD") == "1" {
		os.Args = os.Args[:1] // the -test.* flags are not courierd's
		main()
		os.Exit(0)
	}
	os.Exit(m.Run())
}

func TestConfigRequiresJWTSecret(t *testing.T) {
	env := map[string]string{}
	getenv := func(k string) string { return env[k] }
	_, err := ParseConfig(nil, getenv, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "JWT_SECRET is not set") {
		t.Fatalf("no secret: err = %v", err)
	}
	if _, err := ParseConfig([]string{"--demo"}, getenv, io.Discard); err != nil {
		t.Fatalf("--demo without a secret: %v", err)
	}
	env["JWT_SECRET"] = strings.Repeat("s", 40)
	env["COURIER_CURRENCY"] = "XXX"
	if _, err := ParseConfig(nil, getenv, io.Discard); err == nil || !strings.Contains(err.Error(), "COURIER_CURRENCY") {
		t.Fatalf("bad currency: err = %v", err)
	}
	env["COURIER_CURRENCY"] = "EUR"
	env["COURIER_FLEET"] = "a city"
	if _, err := ParseConfig(nil, getenv, io.Discard); err == nil || !strings.Contains(err.Error(), "COURIER_FLEET") {
		t.Fatalf("bad fleet: err = %v", err)
	}
	env["COURIER_FLEET"] = "moscow"
	if cfg, err := ParseConfig(nil, getenv, io.Discard); err != nil || cfg.Fleet != "moscow" {
		t.Fatalf("fleet: %q, %v", cfg.Fleet, err)
	}
	delete(env, "COURIER_FLEET")
	cfg, err := ParseConfig([]string{"-addr", "127.0.0.1:9999"}, getenv, io.Discard)
	if err != nil || cfg.Addr != "127.0.0.1:9999" || cfg.Currency != "EUR" || cfg.AccessTTL != 15*time.Minute {
		t.Fatalf("cfg = %+v, err = %v", cfg, err)
	}
	env["DATABASE_URL"] = "postgres://courier:hunter2@db:5432/courier"
	cfg, _ = ParseConfig(nil, getenv, io.Discard)
	var out bytes.Buffer
	cfg.Print(&out)
	if strings.Contains(out.String(), "hunter2") || strings.Contains(out.String(), env["JWT_SECRET"]) || !strings.Contains(out.String(), "courier:****@db") {
		t.Errorf("printed configuration leaks a secret:\n%s", out.String())
	}
	// A short secret is refused at start.
	cfg.JWTSecret = "short"
	cfg.DatabaseURL = filepath.Join(t.TempDir(), "x.db")
	if err := Run(t.Context(), cfg, io.Discard); err == nil || !strings.Contains(err.Error(), "32 bytes") {
		t.Errorf("short secret: %v", err)
	}
}

// TestDemo starts courierd as the README says (--demo, nothing configured),
// follows the README's curl examples, and shuts it down as SIGTERM would.
func TestDemo(t *testing.T) {
	dir := t.TempDir()
	cfg, err := ParseConfig([]string{"--demo", "--addr", "127.0.0.1:0", "--data-dir", dir, "--bcrypt-cost", "4"}, func(string) string { return "" }, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	addr := make(chan string, 1)
	cfg.OnListen = func(a string) { addr <- a }
	ctx, cancel := context.WithCancel(context.Background())
	var out bytes.Buffer
	done := make(chan error, 1)
	go func() { done <- Run(ctx, cfg, &syncWriter{w: &out}) }()
	var base string
	select {
	case a := <-addr:
		base = "http://" + a
	case err := <-done:
		t.Fatalf("Run: %v", err)
	case <-time.After(60 * time.Second):
		t.Fatal("courierd did not start")
	}

	// Every demo login works.
	tokens := map[string]string{}
	for _, login := range []string{"admin", "dispatcher", "cashier", "courier1", "courier8"} {
		var tok struct {
			AccessToken string `json:"access_token"`
			Role        string
		}
		status := call(t, "POST", base+"/api/v1/auth/login", "", `{"login":"`+login+`","password":"demo"}`, &tok)
		if status != 200 || tok.AccessToken == "" {
			t.Fatalf("demo login %s: status %d", login, status)
		}
		tokens[login] = tok.AccessToken
	}
	var orders struct{ Items []map[string]any }
	if call(t, "GET", base+"/api/v1/orders?limit=500", tokens["dispatcher"], "", &orders); len(orders.Items) != 150 {
		t.Errorf("demo has %d orders, want 150", len(orders.Items))
	}
	var couriers struct{ Items []map[string]any }
	if call(t, "GET", base+"/api/v1/couriers", tokens["dispatcher"], "", &couriers); len(couriers.Items) != 8 {
		t.Errorf("demo has %d couriers, want 8", len(couriers.Items))
	}
	cash, windows := 0, 0
	for _, o := range orders.Items {
		if o["cod"].(map[string]any)["method"] == "cash" && o["cod"].(map[string]any)["currency"] == "RUB" {
			cash++
		}
		if o["time_window"] != nil {
			windows++
		}
	}
	if cash < 50 || windows != 150 {
		t.Errorf("demo orders: %d cash on delivery, %d with windows", cash, windows)
	}
	// The orders are for tomorrow (planned whole at any hour), and the
	// console opens on that day.
	moscow, _ := time.LoadLocation("Europe/Moscow")
	tomorrow := time.Now().In(moscow).AddDate(0, 0, 1).Format(time.DateOnly)
	for _, o := range orders.Items {
		if o["delivery_date"] != tomorrow {
			t.Fatalf("demo order for %v, want %s", o["delivery_date"], tomorrow)
		}
	}
	var console struct{ Date string }
	if call(t, "GET", base+"/console/config.json", "", "", &console); console.Date != tomorrow {
		t.Errorf("the console opens on %q, want %s", console.Date, tomorrow)
	}

	// The README's curl examples, run as written.
	readme, err := os.ReadFile(filepath.Join("..", "..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	examples := readmeCurls(string(readme))
	if len(examples) < 2 {
		t.Fatalf("README.md has %d curl examples, want login and create order", len(examples))
	}
	for _, ex := range examples {
		ex = strings.ReplaceAll(ex, "http://localhost:8080", base)
		cmd := exec.Command("bash", "-euo", "pipefail", "-c", ex)
		cmd.Dir = dir // what an example writes (curl -o) stays out of the checkout
		b, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("README example failed: %v\n%s\n%s", err, ex, b)
		}
		if !strings.Contains(string(b), `"id"`) && !strings.Contains(string(b), "access_token") {
			t.Errorf("README example printed no result:\n%s\n%s", ex, b)
		}
		// Every call of an example succeeds: no error answer, no event refused.
		if strings.Contains(string(b), `"error":{`) || strings.Contains(string(b), `"status":"invalid"`) || strings.Contains(string(b), `"status":"conflict"`) {
			t.Errorf("README example got an error:\n%s\n%s", ex, b)
		}
	}

	cancel() // what SIGTERM does in main
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("shutdown: %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("courierd did not stop")
	}
	if !strings.Contains(out.String(), "Demo logins") || !strings.Contains(out.String(), "courier8") {
		t.Errorf("the demo logins were not printed:\n%s", out.String())
	}
}

// readmeCurls returns the ```sh blocks of README.md that call curl, joined with
// the TOKEN line they need.
func readmeCurls(readme string) []string {
	var out []string
	re := regexp.MustCompile("(?s)```(?:sh|bash)\n(.*?)```")
	for _, m := range re.FindAllStringSubmatch(readme, -1) {
		if strings.Contains(m[1], "curl") && strings.Contains(m[1], "/api/v1/") {
			out = append(out, m[1])
		}
	}
	// Later examples use the TOKEN the login example sets.
	for i := 1; i < len(out); i++ {
		out[i] = out[0] + "\n" + out[i]
	}
	return out
}

type syncWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (s *syncWriter) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.w.Write(p)
}

// String returns what was written so far when w is a *bytes.Buffer (or another fmt.Stringer).
func (s *syncWriter) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if st, ok := s.w.(fmt.Stringer); ok {
		return st.String()
	}
	return ""
}

func call(t *testing.T, method, url, token, body string, out any) int {
	t.Helper()
	status, b := send(t, method, url, token, body)
	if out != nil && status < 300 {
		if err := json.Unmarshal(b, out); err != nil {
			t.Fatalf("%s %s: %v: %s", method, url, err, b)
		}
	}
	return status
}

// send sends a request with a JSON body and an optional bearer token and
// returns the status and the body.
func send(t *testing.T, method, url, token, body string) (int, []byte) {
	t.Helper()
	req, _ := http.NewRequest(method, url, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, b
}

// TestCrashDuringWrites kills courierd with SIGKILL while clients create
// orders and change their status, restarts it on the same store, and checks
// that every acknowledged write survived and no order is half-written.
func TestCrashDuringWrites(t *testing.T) {
	t.Run("sqlite", func(t *testing.T) { crashTest(t, filepath.Join(t.TempDir(), "crash.db")) })
	t.Run("postgres", func(t *testing.T) { crashTest(t, testsvc.PostgresURL(t)) })
}

func crashTest(t *testing.T, dbURL string) {
	ctx := context.Background()
	child := func() (string, *exec.Cmd) { return startCourierd(t, dbURL) }

	base, cmd := child()
	var tok struct{ AccessToken string }
	tok.AccessToken, _ = bossAndDepot(t, base)

	var acked sync.Map // order id -> status acknowledged last
	var created atomic.Int64
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for w := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			client := &http.Client{Timeout: 5 * time.Second}
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				body := fmt.Sprintf(`{"external_id":"K-%d-%d","customer":{"name":"N","phone":"+7 900 000-00-00"},"address":"A",`+
					`"location":{"lat":55.75,"lng":37.61},"delivery_date":"2026-11-23","cod":{"amount":1000,"currency":"RUB","method":"cash"}}`, w, i)
				var o struct{ ID int64 }
				if doJSON(client, "POST", base+"/api/v1/orders", tok.AccessToken, body, &o) != 201 {
					return // the server is gone
				}
				acked.Store(o.ID, "new")
				created.Add(1)
				for _, st := range []string{"confirmed", "ready"} {
					if doJSON(client, "POST", fmt.Sprintf("%s/api/v1/orders/%d/status", base, o.ID), tok.AccessToken, `{"status":"`+st+`"}`, nil) != 200 {
						return
					}
					acked.Store(o.ID, st)
				}
			}
		}()
	}
	for created.Load() < 100 {
		time.Sleep(20 * time.Millisecond)
	}
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	cmd.Wait()
	close(stop)
	wg.Wait()

	// Restart on the same store: it must open and serve.
	base, cmd = child()
	stopped := false
	defer func() {
		if !stopped {
			cmd.Process.Kill()
			cmd.Wait()
		}
	}()
	if st := call(t, "GET", base+"/readyz", "", "", nil); st != 200 {
		t.Fatalf("readyz after restart: %d", st)
	}
	// SIGTERM stops it cleanly: exit status 0, within the shutdown timeout.
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	select {
	case err := <-exited:
		stopped = true
		if err != nil {
			t.Errorf("courierd after SIGTERM: %v (want exit status 0)", err)
		}
	case <-time.After(30 * time.Second):
		t.Errorf("courierd did not stop within 30 s of SIGTERM")
	}
	db, err := store.Open(ctx, dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	n := checkAcked(t, ctx, db, &acked)
	// Every stored order is whole: its version counts its history rows, and the history is a chain.
	all, err := db.ListOrders(ctx, courier.OrderFilter{Limit: 500})
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range all {
		h, err := db.OrderHistory(ctx, o.ID)
		if err != nil {
			t.Fatal(err)
		}
		if int64(len(h)) != o.Version || h[len(h)-1].ToStatus != o.Status {
			t.Errorf("order %d: version %d, status %s, %d history rows ending in %s", o.ID, o.Version, o.Status, len(h), h[len(h)-1].ToStatus)
		}
	}
	if n < 100 || len(all) < n {
		t.Errorf("%d acknowledged orders, %d stored", n, len(all))
	}
	t.Logf("%d orders acknowledged before SIGKILL, %d stored", n, len(all))
}

func doJSON(client *http.Client, method, url, token, body string, out any) int {
	req, _ := http.NewRequest(method, url, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+token)
	res, err := client.Do(req)
	if err != nil {
		return 0
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	if out != nil {
		_ = json.Unmarshal(b, out)
	}
	return res.StatusCode
}

// checkAcked checks that every order in acked (id to the status the server
// acknowledged) is stored at that status or a later one, and counts them.
func checkAcked(t *testing.T, ctx context.Context, db courier.Store, acked *sync.Map) int {
	t.Helper()
	rank := map[courier.OrderStatus]int{courier.StatusNew: 0, courier.StatusConfirmed: 1, courier.StatusReady: 2}
	n := 0
	acked.Range(func(k, v any) bool {
		n++
		o, err := db.Order(ctx, k.(int64))
		if err != nil {
			t.Errorf("acknowledged order %d lost: %v", k, err)
			return true
		}
		if rank[o.Status] < rank[courier.OrderStatus(v.(string))] {
			t.Errorf("order %d: acknowledged %s, stored %s", o.ID, v, o.Status)
		}
		return true
	})
	return n
}

// TestRedisClusterURL: a REDIS_URL with addr= parameters connects to a Redis
// Cluster, and tracking works there (a fleet's keys on one slot).
func TestRedisClusterURL(t *testing.T) {
	addrs, err := testsvc.RedisCluster()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(testsvc.StopRedisCluster)
	url := "redis://" + addrs[0] + "?addr=" + strings.Join(addrs[1:], "&addr=")
	rdb, closeRedis, err := openRedis(t.Context(), url, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	defer closeRedis()
	if _, ok := rdb.(*redis.ClusterClient); !ok {
		t.Fatalf("%s: a %T, want a cluster client", url, rdb)
	}
	tr := geo.NewTracker(rdb, courier.SystemClock{}, geo.TrackerConfig{Fleet: "cluster-test"}, nil)
	now := time.Now()
	if _, err := tr.Ingest(t.Context(), 5, []geo.Ping{{Lat: 55.75, Lng: 37.61, AccuracyM: 5, RecordedAt: now.Add(-time.Second)}}); err != nil {
		t.Fatal(err)
	}
	got, err := tr.Nearby(t.Context(), courier.LatLng{Lat: 55.75, Lng: 37.61}, 100, 5)
	if err != nil || len(got) != 1 || got[0].CourierID != 5 {
		t.Fatalf("nearby on the cluster: %+v, %v", got, err)
	}
	if err := tr.Forget(t.Context(), 5); err != nil {
		t.Fatal(err)
	}
}
