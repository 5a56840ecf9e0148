package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
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

// TestIdempotencyCrash kills courierd with SIGKILL while clients create
// orders with Idempotency-Keys and import batches of orders, one of them
// under way, restarts it on the same store, and retries every key at once.
// Each retry answers 201 (200 for an import): the original answer when the
// request had committed (whether or not the client heard it), or a fresh
// one when it had not; never "still being processed" and never a conflict
// on the external_id; every key made exactly one order; an import is
// stored whole or not at all.
func TestIdempotencyCrash(t *testing.T) {
	t.Run("sqlite", func(t *testing.T) { idempotencyCrash(t, filepath.Join(t.TempDir(), "idem.db")) })
	t.Run("postgres", func(t *testing.T) { idempotencyCrash(t, testsvc.PostgresURL(t)) })
}

// keyedPost sends a POST with an Idempotency-Key and returns the status,
// whether it was replayed and the body.
func keyedPost(client *http.Client, url, token, key, body string) (int, bool, []byte) {
	req, _ := http.NewRequest("POST", url, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	if strings.HasPrefix(body, "external_id,") {
		req.Header.Set("Content-Type", "text/csv")
	}
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Idempotency-Key", key)
	res, err := client.Do(req)
	if err != nil {
		return 0, false, nil
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, res.Header.Get("Idempotent-Replayed") == "true", b
}

func idempotencyCrash(t *testing.T, dbURL string) {
	ctx := context.Background()
	base, cmd := startCourierd(t, dbURL)
	var tok struct{ AccessToken string }
	tok.AccessToken, _ = bossAndDepot(t, base)
	body := func(ext string) string {
		return fmt.Sprintf(`{"external_id":%q,"customer":{"name":"N","phone":"+7 900 000-00-00"},"address":"A",`+
			`"location":{"lat":55.75,"lng":37.61},"delivery_date":"2026-11-23","cod":{"amount":1000,"currency":"RUB","method":"cash"}}`, ext)
	}
	type sent struct{ key, ext string }
	var (
		mu     sync.Mutex
		tried  []sent
		acked  = map[string][]byte{} // key -> the answer the client heard
		ackedN atomic.Int64
	)
	// An importer: batches of importRows orders, one key each.
	const importRows = 300
	csv := func(batch int) string {
		var b strings.Builder
		b.WriteString("external_id,customer_name,customer_phone,address,lat,lng,window_from,window_to,weight_kg,cod_amount,cod_method,items\n")
		for r := range importRows {
			fmt.Fprintf(&b, "IMP-%d-%d,Ivan,+7 900 000-00-01,Tverskaya 1,55.76,37.61,2026-11-23 10:00,2026-11-23 12:00,1.5,150000,cash,A1|Kettle|1|\n", batch, r)
		}
		return b.String()
	}
	var (
		imports       []int              // batches sent
		importsHeard  = map[int][]byte{} // batch -> the answer heard
		importSince   atomic.Int64       // unix nanos the batch under way was sent, 0 when none
		importsActive atomic.Bool
	)
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		client := &http.Client{Timeout: 60 * time.Second}
		for batch := 0; ; batch++ {
			select {
			case <-stop:
				return
			default:
			}
			mu.Lock()
			imports = append(imports, batch)
			mu.Unlock()
			importSince.Store(time.Now().UnixNano())
			importsActive.Store(true)
			st, _, b := keyedPost(client, base+"/api/v1/orders/import", tok.AccessToken, fmt.Sprintf("imp-%d", batch), csv(batch))
			importsActive.Store(false)
			if st != 200 {
				if st != 0 {
					t.Errorf("import %d before the crash: %d %s", batch, st, b)
				}
				return
			}
			mu.Lock()
			importsHeard[batch] = b
			mu.Unlock()
		}
	})
	for w := range 8 {
		wg.Go(func() {
			client := &http.Client{Timeout: 10 * time.Second}
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				s := sent{key: fmt.Sprintf("ik-%d-%d", w, i), ext: fmt.Sprintf("IK-%d-%d", w, i)}
				mu.Lock()
				tried = append(tried, s)
				mu.Unlock()
				st, _, b := keyedPost(client, base+"/api/v1/orders", tok.AccessToken, s.key, body(s.ext))
				if st != 201 {
					if st != 0 {
						t.Errorf("%s before the crash: %d %s", s.key, st, b)
					}
					return // the server is gone
				}
				mu.Lock()
				acked[s.key] = b
				mu.Unlock()
				ackedN.Add(1)
			}
		})
	}
	// Kill once enough orders are acknowledged and an import has been under
	// way for a while (it runs inside its transaction by then).
	for giveUp := time.Now().Add(60 * time.Second); time.Now().Before(giveUp); time.Sleep(5 * time.Millisecond) {
		if ackedN.Load() >= 60 && importsActive.Load() && time.Since(time.Unix(0, importSince.Load())) > 150*time.Millisecond {
			break
		}
	}
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	cmd.Wait()
	close(stop)
	wg.Wait()

	db, err := store.Open(ctx, dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	// What committed before the crash, heard by its client or not.
	committed := map[string]int64{}
	for _, s := range tried {
		o, err := db.OrderByExternalID(ctx, s.ext)
		if err == nil {
			committed[s.key] = o.ID
		} else if courier.ErrorCode(err) != courier.ENOTFOUND {
			t.Fatal(err)
		}
	}

	// An import is stored whole or not at all.
	importCommitted := map[int]bool{}
	for _, batch := range imports {
		n := 0
		for r := range importRows {
			if _, err := db.OrderByExternalID(ctx, fmt.Sprintf("IMP-%d-%d", batch, r)); err == nil {
				n++
			}
		}
		if n != 0 && n != importRows {
			t.Errorf("import %d: %d of %d rows stored", batch, n, importRows)
		}
		importCommitted[batch] = n == importRows
	}

	base, cmd = startCourierd(t, dbURL)
	defer func() { cmd.Process.Signal(syscall.SIGTERM); cmd.Wait() }()
	client := &http.Client{Timeout: 60 * time.Second}
	for _, batch := range imports {
		st, replayed, b := keyedPost(client, base+"/api/v1/orders/import", tok.AccessToken, fmt.Sprintf("imp-%d", batch), csv(batch))
		var res struct{ Created, Existing, Failed int }
		_ = json.Unmarshal(b, &res)
		switch {
		case st != 200:
			t.Errorf("retry of import %d: %d %s", batch, st, b)
		case importCommitted[batch] && !replayed:
			t.Errorf("retry of import %d, which had committed, was not replayed: %+v", batch, res)
		case !importCommitted[batch] && (replayed || res.Created != importRows):
			if len(b) > 300 {
				b = b[:300]
			}
			t.Errorf("retry of import %d, which had not committed: replayed %v, %+v %s", batch, replayed, res, b)
		}
		if heard, ok := importsHeard[batch]; ok && string(heard) != string(b) {
			t.Errorf("retry of import %d answers differently from the first time", batch)
		}
	}
	unheard, fresh, busy := 0, 0, 0
	for _, s := range tried {
		st, replayed, b := keyedPost(client, base+"/api/v1/orders", tok.AccessToken, s.key, body(s.ext))
		// PostgreSQL ends a dead server's transactions as soon as it sees the
		// connection gone: a retry may, within a moment, still find the key held.
		for deadline := time.Now().Add(2 * time.Second); st == 409 && strings.Contains(string(b), "still being processed") && time.Now().Before(deadline); {
			busy++
			time.Sleep(50 * time.Millisecond)
			st, replayed, b = keyedPost(client, base+"/api/v1/orders", tok.AccessToken, s.key, body(s.ext))
		}
		if st != 201 {
			t.Errorf("retry of %s after the restart: %d %s", s.key, st, b)
			continue
		}
		var o struct{ ID int64 }
		if err := json.Unmarshal(b, &o); err != nil {
			t.Fatal(err)
		}
		if heard, ok := acked[s.key]; ok && (!replayed || string(heard) != string(b)) {
			t.Errorf("retry of %s: replayed %v, %s; the client had heard %s", s.key, replayed, b, heard)
		}
		if id, ok := committed[s.key]; ok {
			if !replayed || o.ID != id {
				t.Errorf("retry of %s: order %d (replayed %v); order %d had committed", s.key, o.ID, replayed, id)
			}
			if _, heard := acked[s.key]; !heard {
				unheard++
			}
		} else {
			if replayed {
				t.Errorf("retry of %s replayed an answer whose order never committed: %s", s.key, b)
			}
			fresh++
		}
	}
	for _, s := range tried {
		list, err := db.ListOrders(ctx, courier.OrderFilter{Search: s.ext, Limit: 10})
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for _, o := range list {
			if o.ExternalID == s.ext {
				n++
			}
		}
		if n != 1 {
			t.Errorf("key %s made %d orders", s.key, n)
		}
	}
	t.Logf("%d imports of %d rows sent, %d answered, %d committed", len(imports), importRows, len(importsHeard), func() (n int) {
		for _, ok := range importCommitted {
			if ok {
				n++
			}
		}
		return n
	}())
	t.Logf("%d requests sent, %d answered before SIGKILL, %d committed (%d of them unheard); after the restart %d retries replayed, %d created anew, %d waits for a dead transaction",
		len(tried), len(acked), len(committed), unheard, len(tried)-fresh, fresh, busy)
}
