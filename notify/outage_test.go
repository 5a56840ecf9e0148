package notify_test

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/courierhq/courier"
	"github.com/courierhq/courier/internal/testsvc"
	"github.com/courierhq/courier/notify"
)

// TestFCMOutage: FCM answers 503 for 10 minutes of the injected clock,
// then comes back, while two workers (two replicas) drain the outbox and
// messages keep coming. Nothing is lost and nothing is sent twice: every
// push reaches FCM once with a 200; the waits between tries follow the
// backoff (10 s doubled per try) to the step of the simulated clock; the
// pushes to tokens FCM calls unregistered once it is back are dropped, and
// nothing else is left unsent. The service runs with the production
// defaults (10 tries, 10 s to 1 h backoff).
func TestFCMOutage(t *testing.T) {
	backends(t, func(t *testing.T, e *env) {
		const (
			outage = 10 * time.Minute
			step   = 5 * time.Second
		)
		start := e.clock.Now()
		e.fcm.now = e.clock.Now
		unavailable := unavailable
		e.fcm.outage = func() *fcmAnswer {
			if e.clock.Now().Before(start.Add(outage)) {
				return &unavailable
			}
			return nil
		}
		gone := map[string]bool{"phone-gone-1": true, "phone-gone-2": true}
		var tokens []string
		for i := range 6 {
			tokens = append(tokens, fmt.Sprintf("phone-%d", i))
		}
		for tok := range gone {
			tokens = append(tokens, tok)
			e.fcm.answer(tok, unregistered)
		}
		for _, tok := range tokens {
			e.courierDevice(tok, courier.PlatformAndroid)
		}
		cfg := notify.Config{Language: "en", Location: msk}.WithDefaults()
		if cfg.MaxAttempts != 10 || cfg.BaseBackoff != 10*time.Second || cfg.MaxBackoff != time.Hour {
			t.Fatalf("the defaults changed: %+v", cfg)
		}
		var workers []*notify.Worker
		for range 2 {
			workers = append(workers, notify.New(e.open(), e.clock, cfg, quiet()).NewWorker(e.sender, nil))
		}
		queued := 0
		message := func() {
			e.queue(courier.TopicCourierMessage, fmt.Sprintf("courier_message:%d", queued),
				map[string]any{"courier_id": e.courier.ID, "text": fmt.Sprint("message ", queued)})
			queued++
		}
		for range 10 {
			message()
		}
		// The clock moves in steps; at each, both workers drain what is due.
		for e.clock.Now().Before(start.Add(outage + 20*time.Minute)) {
			if at := e.clock.Now().Sub(start); at < outage && at%time.Minute == 0 {
				message() // changes keep coming during the outage
			}
			var wg sync.WaitGroup
			for _, w := range workers {
				wg.Go(func() {
					if _, err := w.Drain(ctxT(t)); err != nil {
						t.Error(err)
					}
				})
			}
			wg.Wait()
			e.clock.Add(step)
		}

		// Every push is sent once; the pushes to gone tokens are dropped.
		type try struct {
			at     time.Time
			status int
		}
		tries := map[string][]try{}
		for _, r := range e.fcm.requests() {
			m := r.Body["message"].(map[string]any)
			key := m["token"].(string) + "|" + m["notification"].(map[string]any)["body"].(string)
			tries[key] = append(tries[key], try{r.At, r.Status})
		}
		sent, dropped := 0, 0
		for _, tok := range tokens {
			for i := range queued {
				key := fmt.Sprintf("%s|message %d", tok, i)
				ts := tries[key]
				if len(ts) == 0 {
					t.Errorf("%s: never tried", key)
					continue
				}
				ok := 0
				for _, tr := range ts {
					if tr.status == 200 {
						ok++
					}
				}
				last := ts[len(ts)-1]
				switch {
				case gone[tok]:
					if ok != 0 || last.status != 404 {
						t.Errorf("%s: %d sent, last answer %d; want dropped on 404", key, ok, last.status)
					}
				case ok != 1 || last.status != 200:
					t.Errorf("%s: sent %d times, last answer %d", key, ok, last.status)
				}
				// Before the last try, every wait is the backoff of its try.
				for k := 1; k < len(ts); k++ {
					want := min(cfg.BaseBackoff<<(k-1), cfg.MaxBackoff)
					if gap := ts[k].at.Sub(ts[k-1].at); gap < want || gap >= want+step {
						t.Errorf("%s: try %d came %v after try %d, want %v (to the %v step)", key, k+1, gap, k, want, step)
					}
				}
				if len(ts) > cfg.MaxAttempts {
					t.Errorf("%s: %d tries, more than %d", key, len(ts), cfg.MaxAttempts)
				}
				if last.at.Before(start.Add(outage)) {
					t.Errorf("%s: last try at %v, during the outage", key, last.at.Sub(start))
				}
			}
		}
		all := e.deliveries(courier.DeliveryFilter{Channel: courier.ChannelPush, Limit: 500})
		if len(all) == 500 {
			t.Fatal("more deliveries than one page")
		}
		for _, d := range all {
			var p notify.Push
			must(t, json.Unmarshal(d.Payload, &p))
			switch {
			case d.Status == courier.DeliverySent && !gone[p.Token]:
				sent++
			case d.Status == courier.DeliveryDropped && gone[p.Token]:
				dropped++
			default:
				t.Errorf("delivery %d to %s: %s (%s)", d.ID, p.Token, d.Status, d.LastError)
			}
		}
		if want := queued * (len(tokens) - len(gone)); sent != want {
			t.Errorf("%d deliveries sent, want %d", sent, want)
		}
		if want := queued * len(gone); dropped != want {
			t.Errorf("%d deliveries dropped, want %d (every message was expanded during the outage)", dropped, want)
		}
		t.Logf("%d messages over a %v outage: %d pushes sent once each, %d dropped for unregistered tokens, %d FCM requests",
			queued, outage, sent, dropped, len(e.fcm.requests()))
	})
}

// BenchmarkOutboxDrain measures pushes per second from the outbox into a
// fake FCM (answering 200 at once over loopback HTTP, through the Firebase
// SDK), with two workers running as in two replicas (their Run loops, eight
// senders each) on PostgreSQL. Each iteration queues 200 messages to 200
// couriers with 10 phones each (2,000 pushes) and waits until every
// delivery is sent:
//
//	go test -run '^$' -bench OutboxDrain -benchtime 3x ./notify/
func BenchmarkOutboxDrain(b *testing.B) {
	e := newEnv(b, testsvc.PostgresURL(b))
	const couriers, phones = 200, notify.MaxDevices
	var ids []int64
	for i := range couriers {
		c := &courier.Courier{Name: fmt.Sprint("Bench ", i), Phone: "+7 916 555-00-11", Vehicle: courier.Vehicle{Type: courier.VehicleCar},
			Shift: courier.Shift{Start: "09:00", End: "18:00"}, DepotID: e.depot.ID, Active: true}
		u := &courier.User{Login: fmt.Sprintf("bench%d", i), Role: courier.RoleCourier, Active: true}
		if err := e.db.CreateCourier(context.Background(), c, u); err != nil {
			b.Fatal(err)
		}
		for k := range phones {
			if _, err := e.svc.RegisterCourierDevice(context.Background(), courier.Actor{UserID: u.ID, Role: courier.RoleCourier, CourierID: c.ID},
				notify.DeviceInput{Token: fmt.Sprintf("bench-%d-%d", i, k), Platform: courier.PlatformAndroid, App: courier.AppCourier}); err != nil {
				b.Fatal(err)
			}
		}
		ids = append(ids, c.ID)
	}
	e.clock.Run() // the workers' leases and backoffs follow the real time
	cfg := e.svc.Config()
	cfg.PollEvery = 50 * time.Millisecond
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var wg sync.WaitGroup
	defer wg.Wait()
	defer cancel()
	for range 2 {
		w := notify.New(e.open(), e.clock, cfg, quiet()).NewWorker(e.sender, nil)
		wg.Go(func() { w.Run(ctx) })
	}
	var n atomic.Int64
	b.ResetTimer()
	start := time.Now()
	for range b.N {
		before := e.fcm.count()
		for _, id := range ids {
			k := n.Add(1)
			payload, _ := json.Marshal(map[string]any{"courier_id": id, "text": fmt.Sprint("bench ", k)})
			if _, err := e.db.QueueOutbox(context.Background(), courier.OutboxMessage{Topic: courier.TopicCourierMessage,
				Key: fmt.Sprintf("courier_message:bench-%d", k), Payload: payload}); err != nil {
				b.Fatal(err)
			}
		}
		for deadline := time.Now().Add(5 * time.Minute); e.fcm.count() < before+couriers*phones; time.Sleep(5 * time.Millisecond) {
			if time.Now().After(deadline) {
				b.Fatalf("%d of %d pushes sent in 5 minutes", e.fcm.count()-before, couriers*phones)
			}
		}
	}
	elapsed := time.Since(start)
	b.StopTimer()
	pushes := b.N * couriers * phones
	b.ReportMetric(float64(pushes)/elapsed.Seconds(), "pushes/s")
	b.ReportMetric(0, "ns/op")
	if got := e.fcm.count(); got != pushes {
		b.Errorf("FCM got %d requests for %d pushes", got, pushes)
	}
}
