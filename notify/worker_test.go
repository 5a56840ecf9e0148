package notify_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/courierhq/courier"
	"github.com/courierhq/courier/notify"
)

// TestHangingWebhook: a webhook endpoint that never answers holds no push
// back, and while two workers (two replicas) poll all along, no delivery is
// sent twice: a delivery's lease outlasts its own send, whatever else the
// worker has in hand. The clock runs in real time here: the lease (4 s) is
// shorter than the webhooks' timeouts (1 s each) added up, and long enough
// for a send and its bookkeeping on a loaded machine running -race.
func TestHangingWebhook(t *testing.T) {
	backends(t, func(t *testing.T, e *env) {
		const orders = 8
		var (
			mu       sync.Mutex
			hits     = map[string]int{} // webhook requests per delivery id
			finished int                // webhook requests that ended
		)
		release := make(chan struct{})
		hang := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			mu.Lock()
			hits[r.Header.Get(notify.HeaderDelivery)]++
			mu.Unlock()
			select { // never answers: the worker gives up after SendTimeout
			case <-r.Context().Done():
			case <-release:
			}
			mu.Lock()
			finished++
			mu.Unlock()
		}))
		defer hang.Close()
		defer close(release)
		admin := courier.Actor{UserID: 1, Role: courier.RoleAdmin}
		_, err := e.svc.CreateWebhook(ctxT(t), admin, notify.WebhookInput{URL: &hang.URL, Events: &[]string{courier.TopicOrderStatus}})
		must(t, err)
		for i := range orders {
			o := e.order(fmt.Sprint("HANG-", i), courier.LatLng{Lat: 55.75, Lng: 37.61})
			e.customerDevice(o, fmt.Sprint("phone-", i), courier.PlatformAndroid)
			e.queue(courier.TopicOrderStatus, fmt.Sprint("order_status:hang:", i), map[string]any{"order_id": o.ID,
				"from": "out_for_delivery", "to": "delivered", "at": day0})
		}

		e.clock.Run()
		cfg := e.svc.Config()
		// A send timeout of 3 s: a push on a loaded machine running -race
		// may take over 1 s, and a timed-out push waits an hour here.
		cfg.SendTimeout, cfg.Lease, cfg.PollEvery, cfg.BaseBackoff = 3*time.Second, 6*time.Second, 20*time.Millisecond, time.Hour
		ctx, stop := context.WithCancel(ctxT(t))
		var workers sync.WaitGroup
		for range 2 {
			w := notify.New(e.open(), e.clock, cfg, quiet()).NewWorker(e.sender, nil)
			workers.Go(func() { w.Run(ctx) })
		}
		defer func() { stop(); workers.Wait() }()

		// Every push goes out while the webhook requests still hang.
		deadline := time.Now().Add(20 * time.Second)
		for len(e.fcm.requests()) < orders && time.Now().Before(deadline) {
			time.Sleep(10 * time.Millisecond)
		}
		mu.Lock()
		done := finished
		mu.Unlock()
		if n := len(e.fcm.requests()); n != orders || done != 0 {
			t.Errorf("%d pushes sent when %d webhook requests had timed out; want %d before any", n, done, orders)
		}
		// Every webhook delivery is tried once and waits for its retry (an
		// hour away); let the workers poll past a lease more.
		tried := func() bool {
			for _, d := range e.deliveries(courier.DeliveryFilter{Channel: courier.ChannelWebhook}) {
				if d.LastError == "" {
					return false
				}
			}
			return true
		}
		for !tried() && time.Now().Before(deadline) {
			time.Sleep(50 * time.Millisecond)
		}
		time.Sleep(cfg.Lease + 500*time.Millisecond)
		stop()
		workers.Wait()

		for i := range orders {
			if n := len(e.fcm.to(fmt.Sprint("phone-", i))); n != 1 {
				t.Errorf("phone-%d got %d pushes, want 1", i, n)
			}
		}
		hooks := e.deliveries(courier.DeliveryFilter{Channel: courier.ChannelWebhook})
		if len(hooks) != orders {
			t.Fatalf("%d webhook deliveries, want %d", len(hooks), orders)
		}
		mu.Lock()
		defer mu.Unlock()
		for _, d := range hooks {
			if n := hits[fmt.Sprint(d.ID)]; n != 1 || d.Attempts != 1 || d.Status != courier.DeliveryPending {
				t.Errorf("webhook delivery %d: %d requests, %d attempts, %s (%s); want 1 request, 1 attempt, pending",
					d.ID, n, d.Attempts, d.Status, d.LastError)
			}
		}
	})
}
